//! The Positions panel: open positions with live P&L (re-marked on the trading worker) and
//! their share of the book, spreads with their legs (the spread's price from the legs'),
//! P&L by strategy, working orders with cancel and amend (a spread's legs grouped, cancelled
//! as one), and the day's fills. Everything comes from the worker's latest snapshot; the
//! panel only formats.

use crude_model::{Order, OrderType, parse_price, parse_qty};
use crude_trading::AmendRequest;
use egui::{RichText, vec2};

use crate::format;
use crate::theme::{self, labeled};
use crate::view_model::ViewModel;
use crude_kernel::services::trading::{PositionRow, SpreadPositionRow, TradingCommand, TradingSnapshot};
use crude_trading::blotter::BlotterLine;

/// US dollars with thousands separators and cents: `$1,234.50`, `-$20.00`.
pub fn usd(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let cents = (v.abs() * 100.0).round() as u64;
    let sign = if v < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", format::volume(cents / 100), cents % 100)
}

/// Signed US dollars: `+$1,234.50`, `-$20.00`, `$0.00`.
pub fn usd_signed(v: f64) -> String {
    let s = usd(v);
    if v.is_finite() && (v * 100.0).round() > 0.0 { format!("+{s}") } else { s }
}

/// An amendment being typed.
#[derive(Debug, Clone, Default, PartialEq)]
struct AmendEdit {
    order_id: u64,
    price: String,
    qty: String,
    error: Option<String>,
}

/// Per-session state of the Positions panel.
#[derive(Debug, Clone, Default)]
pub struct PositionsCache {
    amend: Option<AmendEdit>,
}

fn header(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).color(theme::MUTED).small().strong());
}

fn money(ui: &mut egui::Ui, v: f64, label: String) {
    let s = usd_signed(v);
    labeled(ui, RichText::new(&s).monospace().color(theme::signed(Some(v))), format!("{label} {s}"));
}

/// Draw the Positions panel.
pub fn show(ui: &mut egui::Ui, store: &ViewModel, cache: &mut PositionsCache, out: &mut Vec<TradingCommand>) {
    let view = store.trading();
    let Some(snap) = view.snapshot.as_ref() else {
        let text = match &view.status {
            None => "Trading is not running in this session".to_string(),
            Some(crude_kernel::services::trading::TradingStatus::Stopped(why)) => format!("Trading stopped: {why}"),
            Some(_) => "Waiting for the trading engine (it starts with the first market data)".to_string(),
        };
        ui.add_space(20.0);
        ui.label(RichText::new(text).color(theme::MUTED));
        return;
    };
    egui::ScrollArea::vertical().id_salt("positions_scroll").auto_shrink([false, false]).show(ui, |ui| {
        // Book totals.
        let t = &snap.summary.total;
        ui.horizontal(|ui| {
            for (name, v) in [
                ("Total net P&L", t.net_pnl_usd),
                ("Unrealised", t.unrealized_pnl_usd),
                ("Realised", t.realized_pnl_usd),
                ("Day P&L net", snap.summary.day_pnl_net_usd),
            ] {
                egui::Frame::new().fill(theme::SURFACE).inner_margin(6.0).corner_radius(4.0).show(ui, |ui| {
                    ui.vertical(|ui| {
                        header(ui, name);
                        let s = usd_signed(v);
                        labeled(
                            ui,
                            RichText::new(&s).monospace().size(16.0).color(theme::signed(Some(v))),
                            format!("{name} {s}"),
                        );
                    });
                });
            }
            egui::Frame::new().fill(theme::SURFACE).inner_margin(6.0).corner_radius(4.0).show(ui, |ui| {
                ui.vertical(|ui| {
                    header(ui, "Fees");
                    let s = usd(t.fees_usd);
                    labeled(ui, RichText::new(&s).monospace().size(16.0), format!("Fees {s}"));
                });
            });
            egui::Frame::new().fill(theme::SURFACE).inner_margin(6.0).corner_radius(4.0).show(ui, |ui| {
                ui.vertical(|ui| {
                    header(ui, "Gross notional");
                    let s = usd(t.gross_notional_usd);
                    labeled(ui, RichText::new(&s).monospace().size(16.0), format!("Gross notional {s}"));
                });
            });
        });
        ui.add_space(8.0);
        header(ui, "POSITIONS");
        let open: Vec<&PositionRow> = snap.positions.iter().collect();
        if open.is_empty() {
            ui.label(RichText::new("No positions").color(theme::MUTED));
        } else {
            positions_grid(ui, &open, out);
        }
        if !snap.spreads.is_empty() {
            ui.add_space(8.0);
            header(ui, "SPREADS");
            spreads_grid(ui, &snap.spreads);
        }
        if !snap.summary.by_strategy.is_empty() {
            ui.add_space(8.0);
            header(ui, "P&L BY STRATEGY");
            egui::Grid::new("pnl_by_strategy").striped(true).spacing(vec2(14.0, 3.0)).show(ui, |ui| {
                for h in ["Strategy", "Contracts", "Realised", "Unrealised", "Fees", "Net", "Day"] {
                    header(ui, h);
                }
                ui.end_row();
                for g in &snap.summary.by_strategy {
                    ui.label(RichText::new(&g.name).monospace());
                    ui.label(RichText::new(g.open_contracts.to_string()).monospace());
                    money(ui, g.realized_pnl_usd, format!("Strategy {} realised", g.name));
                    money(ui, g.unrealized_pnl_usd, format!("Strategy {} unrealised", g.name));
                    ui.label(RichText::new(usd(g.fees_usd)).monospace());
                    money(ui, g.net_pnl_usd, format!("Strategy {} net P&L", g.name));
                    money(ui, g.day_pnl_usd, format!("Strategy {} day P&L", g.name));
                    ui.end_row();
                }
            });
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            header(ui, "WORKING ORDERS");
            if !snap.working.is_empty() && ui.button(RichText::new("Cancel all").color(theme::WARNING)).clicked() {
                out.push(TradingCommand::CancelAll { contract: None });
            }
        });
        if snap.working.is_empty() {
            ui.label(RichText::new("No working orders").color(theme::MUTED));
        } else {
            working_grid(ui, snap, cache, out);
        }
        ui.add_space(8.0);
        header(ui, &format!("TODAY'S FILLS ({})", snap.trading_date));
        fills_today(ui, &view.fills_today);
    });
}

fn positions_grid(ui: &mut egui::Ui, rows: &[&PositionRow], out: &mut Vec<TradingCommand>) {
    egui::Grid::new("positions_grid").striped(true).spacing(vec2(14.0, 3.0)).show(ui, |ui| {
        for h in ["Contract", "Qty", "Avg", "Mark", "Unrealised", "Realised", "Day", "Net", "Notional", "% book", ""] {
            header(ui, h);
        }
        ui.end_row();
        for p in rows {
            let m = p.contract.market;
            let c = p.contract.to_string();
            ui.label(RichText::new(&c).monospace().strong());
            labeled(
                ui,
                RichText::new(format!("{:+}", p.qty)).monospace().color(theme::signed(Some(p.qty as f64))),
                format!("Position {c} qty {}", p.qty),
            );
            let avg = if p.qty == 0 { "—".to_string() } else { format::price(m, Some(p.avg_price)) };
            labeled(ui, RichText::new(&avg).monospace(), format!("Position {c} avg {avg}"));
            let mark = format::price(m, p.mark);
            labeled(ui, RichText::new(&mark).monospace(), format!("Position {c} mark {mark}"));
            money(ui, p.unrealized_pnl_usd, format!("Position {c} unrealised"));
            money(ui, p.realized_pnl_usd, format!("Position {c} realised"));
            money(ui, p.day_pnl_usd, format!("Position {c} day"));
            money(ui, p.net_pnl_usd, format!("Position {c} net"));
            ui.label(RichText::new(usd(p.notional_usd)).monospace());
            let pct = p.pct_of_book.map_or("—".to_string(), |v| format!("{v:.1}%"));
            labeled(ui, RichText::new(&pct).monospace(), format!("Position {c} book share {pct}"));
            if p.qty != 0 {
                if ui.button(RichText::new(format!("Liquidate {c}")).color(theme::LOSS)).clicked() {
                    out.push(TradingCommand::Liquidate { contract: p.contract });
                }
            } else {
                ui.label("");
            }
            ui.end_row();
        }
    });
}

/// `+2.15`: a spread price in $/bbl (it can be negative).
fn spread_price(p: Option<f64>) -> String {
    p.map_or("—".to_string(), |v| format!("{v:.2}"))
}

fn spreads_grid(ui: &mut egui::Ui, spreads: &[SpreadPositionRow]) {
    egui::Grid::new("spreads_grid").striped(true).spacing(vec2(14.0, 3.0)).show(ui, |ui| {
        for h in ["Spread", "Side", "Qty", "Filled", "Entry", "Price", "Unrealised", "Status"] {
            header(ui, h);
        }
        ui.end_row();
        for sp in spreads {
            let id = sp.spread_id;
            let name = format!("#{id} {}", sp.name);
            labeled(
                ui,
                RichText::new(&name).monospace().strong(),
                format!("Spread {id} {} {} {}", sp.name, sp.side.as_str(), sp.qty),
            );
            ui.label(RichText::new(sp.side.as_str()).monospace().color(if sp.side == crude_model::Side::Buy {
                theme::PROFIT
            } else {
                theme::LOSS
            }));
            ui.label(RichText::new(sp.qty.to_string()).monospace());
            labeled(
                ui,
                RichText::new(sp.filled_units.to_string()).monospace(),
                format!("Spread {id} filled {}", sp.filled_units),
            );
            let entry = spread_price(sp.entry_price);
            labeled(ui, RichText::new(&entry).monospace(), format!("Spread {id} entry {entry}"));
            let price = spread_price(sp.price);
            labeled(ui, RichText::new(&price).monospace(), format!("Spread {id} price {price}"));
            match sp.unrealized_pnl_usd {
                Some(v) => money(ui, v, format!("Spread {id} unrealised")),
                None => {
                    ui.label(RichText::new("—").monospace());
                }
            }
            let status = if sp.working { "working" } else { "held" };
            labeled(ui, RichText::new(status).monospace().color(theme::ACCENT), format!("Spread {id} {status}"));
            ui.end_row();
            for l in &sp.legs {
                let m = l.contract.market;
                ui.label(
                    RichText::new(format!("  leg {} ({:+})", l.contract, l.ratio)).monospace().color(theme::MUTED),
                );
                ui.label(RichText::new(l.side.as_str()).monospace().color(theme::MUTED));
                ui.label(RichText::new(l.qty.to_string()).monospace().color(theme::MUTED));
                let avg = format::price(m, l.avg_fill_price);
                labeled(
                    ui,
                    RichText::new(l.filled_qty.to_string()).monospace(),
                    format!("Spread {id} leg {} {} {} @ {avg}", l.contract, l.side.as_str(), l.filled_qty),
                );
                labeled(ui, RichText::new(&avg).monospace(), format!("Spread {id} leg {} avg {avg}", l.contract));
                let mark = format::price(m, l.mark);
                labeled(ui, RichText::new(&mark).monospace(), format!("Spread {id} leg {} mark {mark}", l.contract));
                ui.label("");
                ui.label(RichText::new(l.status.as_str()).monospace().small().color(theme::MUTED));
                ui.end_row();
            }
        }
    });
}

fn order_price(o: &Order) -> String {
    let m = o.contract.market;
    match o.order_type {
        OrderType::Market => "MKT".into(),
        OrderType::Limit => format::price(m, o.limit_price),
        OrderType::Stop => format!("stop {}", format::price(m, o.stop_price)),
        OrderType::StopLimit => format!("{} / {}", format::price(m, o.stop_price), format::price(m, o.limit_price)),
    }
}

/// Working orders: outright orders first, then each spread's legs under a row that
/// cancels the spread as one.
fn working_grid(ui: &mut egui::Ui, snap: &TradingSnapshot, cache: &mut PositionsCache, out: &mut Vec<TradingCommand>) {
    let mut orders: Vec<&Order> = snap.working.iter().collect();
    orders.sort_by_key(|o| (o.spread.map(|l| (l.spread_id, l.leg)), o.order_id));
    egui::Grid::new("working_grid").striped(true).spacing(vec2(12.0, 3.0)).show(ui, |ui| {
        for h in ["Order", "Contract", "Side", "Qty", "Filled", "Type", "Price", "TIF", "Strategy", "Status", "", ""] {
            header(ui, h);
        }
        ui.end_row();
        let mut group = None;
        for o in orders {
            if let Some(link) = o.spread
                && group != Some(link.spread_id)
            {
                group = Some(link.spread_id);
                let sid = link.spread_id;
                let name = snap.spread(sid).map_or("spread", |s| s.name.as_str());
                labeled(
                    ui,
                    RichText::new(format!("Spread #{sid} {name}")).monospace().strong(),
                    format!("Working spread {sid} {name}"),
                );
                let r = ui.button(RichText::new("Cancel spread").color(theme::WARNING));
                r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Cancel spread {sid}")));
                if r.clicked() {
                    out.push(TradingCommand::CancelSpread { spread_id: sid });
                }
                ui.end_row();
            }
            let id = o.order_id;
            ui.label(RichText::new(format!("#{id}")).monospace());
            ui.label(RichText::new(o.contract.to_string()).monospace());
            ui.label(RichText::new(o.side.as_str()).monospace().color(if o.side == crude_model::Side::Buy {
                theme::PROFIT
            } else {
                theme::LOSS
            }));
            labeled(ui, RichText::new(o.qty.to_string()).monospace(), format!("Working order {id} qty {}", o.qty));
            ui.label(RichText::new(o.filled_qty.to_string()).monospace());
            ui.label(RichText::new(o.order_type.as_str()).monospace());
            let px = order_price(o);
            labeled(ui, RichText::new(&px).monospace(), format!("Working order {id} price {px}"));
            ui.label(RichText::new(o.tif.as_str()).monospace());
            ui.label(RichText::new(&o.strategy).monospace());
            labeled(
                ui,
                RichText::new(o.status.as_str()).monospace().color(theme::ACCENT),
                format!("Working order {id} status {}", o.status),
            );
            let r = ui.button(RichText::new("Cancel").color(theme::WARNING));
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Cancel order {id}")));
            if r.clicked() {
                out.push(TradingCommand::Cancel { order_id: id });
            }
            let r = ui.button("Amend");
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Amend order {id}")));
            if r.clicked() {
                cache.amend = Some(AmendEdit {
                    order_id: id,
                    price: o
                        .limit_price
                        .or(o.stop_price)
                        .map(|p| format::price(o.contract.market, Some(p)))
                        .unwrap_or_default(),
                    qty: o.qty.to_string(),
                    error: None,
                });
            }
            ui.end_row();
            if cache.amend.as_ref().is_some_and(|a| a.order_id == id) {
                amend_row(ui, o, cache, out);
                ui.end_row();
            }
        }
    });
}

fn amend_row(ui: &mut egui::Ui, o: &Order, cache: &mut PositionsCache, out: &mut Vec<TradingCommand>) {
    let Some(edit) = cache.amend.as_mut() else { return };
    let mut done = false;
    ui.label(RichText::new("amend").color(theme::ACCENT).small());
    ui.horizontal(|ui| {
        let l = ui.label(RichText::new("New qty").color(theme::MUTED));
        ui.add(egui::TextEdit::singleline(&mut edit.qty).desired_width(60.0)).labelled_by(l.id);
        if o.order_type != OrderType::Market {
            let l = ui.label(RichText::new("New price").color(theme::MUTED));
            ui.add(egui::TextEdit::singleline(&mut edit.price).desired_width(80.0)).labelled_by(l.id);
        }
        if ui.button("Send amend").clicked() {
            let qty = parse_qty(&edit.qty);
            let field = if o.limit_price.is_some() { "limit_price" } else { "stop_price" };
            let price = if o.order_type == OrderType::Market { Ok(None) } else { parse_price(field, &edit.price) };
            match (qty, price) {
                (Err(e), _) | (_, Err(e)) => edit.error = Some(e.to_string()),
                (Ok(q), Ok(p)) => {
                    let mut a = AmendRequest::default();
                    if q != o.qty {
                        a.qty = Some(q);
                    }
                    if let Some(p) = p {
                        if o.limit_price.is_some() && o.limit_price != Some(p) {
                            a.limit_price = Some(p);
                        } else if o.limit_price.is_none() && o.stop_price != Some(p) {
                            a.stop_price = Some(p);
                        }
                    }
                    if a == AmendRequest::default() {
                        edit.error = Some("nothing changed: enter a new quantity or price".into());
                    } else {
                        out.push(TradingCommand::Amend { order_id: o.order_id, amend: a });
                        done = true;
                    }
                }
            }
        }
        if ui.button("Close").clicked() {
            done = true;
        }
    });
    if let Some(e) = &edit.error {
        labeled(ui, RichText::new(e).color(theme::LOSS), format!("Amend error {e}"));
    }
    if done {
        cache.amend = None;
    }
}

fn fills_today(ui: &mut egui::Ui, fills: &[BlotterLine]) {
    if fills.is_empty() {
        ui.label(RichText::new("No fills today").color(theme::MUTED));
        return;
    }
    egui::Grid::new("fills_today").striped(true).spacing(vec2(12.0, 3.0)).show(ui, |ui| {
        for h in ["Time", "Fill", "Order", "Contract", "Side", "Qty", "Price", "Costs", "Strategy", "Realised"] {
            header(ui, h);
        }
        ui.end_row();
        // Newest first; the day's fills of a paper book are few, but keep the grid bounded.
        for l in fills.iter().rev().take(200) {
            let m = l.contract.market;
            let t = format::exchange_time(l.ts);
            ui.label(RichText::new(t.get(11..19).unwrap_or(&t)).monospace().color(theme::MUTED));
            ui.label(RichText::new(l.fill_id.to_string()).monospace());
            ui.label(RichText::new(format!("#{}", l.order_id)).monospace());
            ui.label(RichText::new(l.contract.to_string()).monospace());
            ui.label(RichText::new(l.side.as_str()).monospace());
            let px = format::price(m, Some(l.price));
            labeled(
                ui,
                RichText::new(l.qty.to_string()).monospace(),
                format!("Fill {} {} {} {} @ {px}", l.fill_id, l.contract, l.side, l.qty),
            );
            ui.label(RichText::new(&px).monospace());
            ui.label(RichText::new(usd(l.costs_usd())).monospace());
            ui.label(RichText::new(&*l.strategy).monospace());
            ui.label(
                RichText::new(usd_signed(l.realized_pnl_usd))
                    .monospace()
                    .color(theme::signed(Some(l.realized_pnl_usd))),
            );
            ui.end_row();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars() {
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(-20.0), "-$20.00");
        assert_eq!(usd(-0.001), "$0.00");
        assert_eq!(usd_signed(12.0), "+$12.00");
        assert_eq!(usd_signed(0.0), "$0.00");
        assert_eq!(usd(f64::NAN), "—");
    }
}
