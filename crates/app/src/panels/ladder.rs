//! The price ladder (depth of market) of one contract, as traders know it from TT's MD
//! Trader: a static price column that stays put while the market moves (recentre with the
//! button, the `C` key or by scrolling), bid and ask depth from the store's depth snapshots,
//! the last traded quantity at its price, and the user's working orders at their prices.
//!
//! * A click in the bid column enters a buy limit at that price, in the ask column a sell
//!   limit, for the ladder's default quantity.
//! * Dragging a working order (the Buys / Sells columns) to another row amends its price; a
//!   right click cancels the orders at that price.
//! * Cancel all and Liquidate act on this contract only.
//! * Depth comes only from the feed's depth snapshots (the simulator publishes them for the
//!   first contract months only). Without a current snapshot the ladder shows the quote's
//!   top of book alone and says so ("depth: top of book only"); it never invents levels.
//!
//! The ladder only reads the store and returns what the user asked for; the Trade panel
//! routes it (large orders through the confirmation).

use std::collections::HashMap;

use crude_model::{ContractId, OrderRequest, SeriesId, Side, parse_qty};
use egui::{Align2, Color32, RichText, Sense, Stroke, pos2, vec2};

use crate::format;
use crate::theme;
use crate::view_model::ViewModel;
use crude_kernel::services::trading::TradingCommand;
use crude_trading::AmendRequest;

/// Row height of the ladder, points.
pub const ROW_H: f32 = 18.0;
/// A depth snapshot older than this (event time) behind the contract's quote is not shown.
pub const DEPTH_STALE_SECS: i64 = 30;
const COLS: [(&str, f32); 6] =
    [("Buys", 56.0), ("Bid", 64.0), ("Price", 84.0), ("Ask", 64.0), ("Sells", 56.0), ("LTQ", 52.0)];

/// What the user did on the ladder.
#[derive(Debug)]
pub enum LadderAction {
    /// Enter this order (through the confirmation when it is large).
    Enter(OrderRequest),
    /// Send this command as is.
    Command(TradingCommand),
}

/// Displayed sizes by price in ticks.
type Levels = Vec<(i64, u32)>;
/// The user's working orders by (is buy, price in ticks): remaining quantity, and each
/// order's id with whether it is priced by its stop.
type Mine = HashMap<(bool, i64), (i64, Vec<(u64, bool)>)>;

/// A working order being dragged to a new price.
#[derive(Debug, Clone, PartialEq)]
struct Drag {
    from_ticks: i64,
    /// Orders at the dragged price: id and whether it is priced by its stop.
    orders: Vec<(u64, bool)>,
}

/// Ladder state kept between frames.
#[derive(Debug, Clone, Default)]
pub struct LadderState {
    contract: Option<ContractId>,
    centre_ticks: Option<i64>,
    recentre: bool,
    drag: Option<Drag>,
    error: Option<String>,
    /// Scroll not yet turned into whole rows, points.
    scroll_acc: f32,
}

impl LadderState {
    /// Centre the ladder on the market on the next frame.
    pub fn recentre(&mut self) {
        self.recentre = true;
    }
}

/// A price on the grid from a number of ticks, rounded to the tick's decimals.
pub fn price_of(ticks: i64, tick: f64) -> f64 {
    let d = crude_model::tick_decimals(tick) as i32;
    let scale = 10f64.powi(d);
    (ticks as f64 * tick * scale).round() / scale
}

/// The nearest number of ticks to `price`.
pub fn ticks_of(price: f64, tick: f64) -> i64 {
    (price / tick).round() as i64
}

/// Draw the ladder of `contract`; returns what the user asked for.
pub fn show(
    ui: &mut egui::Ui,
    store: &ViewModel,
    contract: ContractId,
    tick: f64,
    ladder_qty: &mut String,
    st: &mut LadderState,
) -> Vec<LadderAction> {
    let mut actions = Vec::new();
    let m = contract.market;
    let view = store.trading();
    let q = store.quote(SeriesId::Contract(contract));
    let market_ticks = q.and_then(|q| match (q.bid, q.ask) {
        (Some(b), Some(a)) => Some(ticks_of(0.5 * (a + b), tick)),
        _ => q.last.map(|l| ticks_of(l, tick)),
    });
    if st.contract != Some(contract) {
        st.contract = Some(contract);
        st.centre_ticks = None;
        st.drag = None;
    }
    if (st.recentre || st.centre_ticks.is_none()) && market_ticks.is_some() {
        st.centre_ticks = market_ticks;
        st.recentre = false;
    }

    // Header: contract, position, default quantity, recentre, cancel all, liquidate.
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("PRICE LADDER {contract}")).color(theme::MUTED).small().strong());
        let pos = view.snapshot.as_ref().map_or(0, |s| s.position_qty(contract));
        let r = ui.label(RichText::new(format!("pos {pos:+}")).monospace().color(theme::signed(Some(pos as f64))));
        r.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Ladder position {contract} {pos}"))
        });
        ui.separator();
        let l = ui.label(RichText::new("Ladder qty").color(theme::MUTED));
        ui.add(egui::TextEdit::singleline(ladder_qty).desired_width(48.0).font(egui::TextStyle::Monospace))
            .labelled_by(l.id);
        if ui.button("Recentre (C)").clicked() {
            st.recentre = true;
        }
        let r = ui.button(RichText::new(format!("Cancel all {contract}")).color(theme::WARNING));
        if r.clicked() {
            actions.push(LadderAction::Command(TradingCommand::CancelAll { contract: Some(contract) }));
        }
        let r = ui.button(RichText::new(format!("Liquidate {contract}")).color(theme::LOSS));
        if r.clicked() {
            actions.push(LadderAction::Command(TradingCommand::Liquidate { contract }));
        }
    });
    if let Some(e) = &st.error {
        let r = ui.label(RichText::new(e).color(theme::LOSS));
        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Ladder error {e}")));
    }
    let Some(centre) = st.centre_ticks else {
        ui.label(RichText::new(format!("No market for {contract} yet")).color(theme::MUTED));
        return actions;
    };

    // Book sizes by price: the depth snapshot when it is current, else the quote alone.
    let depth = store.depth(contract).filter(|d| {
        q.is_none_or(|q| q.updated.0.saturating_sub(d.ts.0) <= DEPTH_STALE_SECS * crude_model::Timestamp::NANOS_PER_SEC)
    });
    let depth_text = match depth {
        Some(d) => format!("depth: {} bid / {} ask levels", d.bids.len(), d.asks.len()),
        None => "depth: top of book only".to_string(),
    };
    let r =
        ui.label(RichText::new(&depth_text).small().color(if depth.is_some() { theme::MUTED } else { theme::WARNING }));
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Ladder {contract} {depth_text}")));
    let (mut bids, mut asks): (Levels, Levels) = match depth {
        Some(d) => (
            d.bids.iter().map(|l| (ticks_of(l.price, tick), l.size)).collect(),
            d.asks.iter().map(|l| (ticks_of(l.price, tick), l.size)).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    if let Some(q) = q {
        // The quote is the freshest top of book.
        if let Some(b) = q.bid {
            let t = ticks_of(b, tick);
            bids.retain(|(p, _)| *p < t);
            bids.push((t, q.bid_size));
        }
        if let Some(a) = q.ask {
            let t = ticks_of(a, tick);
            asks.retain(|(p, _)| *p > t);
            asks.push((t, q.ask_size));
        }
    }
    let best_bid = bids.iter().map(|(p, _)| *p).max();
    let best_ask = asks.iter().map(|(p, _)| *p).min();
    let last = q.and_then(|q| q.last.map(|l| (ticks_of(l, tick), q.last_size)));
    // The user's working orders by side and price.
    let mut mine: Mine = HashMap::new();
    for o in view.working().iter().filter(|o| o.contract == contract) {
        let (price, by_stop) = match (o.limit_price, o.stop_price) {
            (Some(l), _) => (l, false),
            (None, Some(s)) => (s, true),
            (None, None) => continue,
        };
        let e = mine.entry((o.side == Side::Buy, ticks_of(price, tick))).or_default();
        e.0 += o.remaining_qty();
        e.1.push((o.order_id, by_stop));
    }

    // Column headers.
    let width: f32 = COLS.iter().map(|(_, w)| w).sum();
    let (hrect, _) = ui.allocate_exact_size(vec2(width, ROW_H), Sense::hover());
    let mut x = hrect.left();
    for (name, w) in COLS {
        ui.painter().text(
            pos2(x + w / 2.0, hrect.center().y),
            Align2::CENTER_CENTER,
            name,
            theme::mono(11.0),
            theme::MUTED,
        );
        x += w;
    }
    let rows = (((ui.available_height() - 4.0) / ROW_H).floor() as i64).clamp(11, 201) | 1;
    let top = centre + rows / 2;
    let (area, area_resp) = ui.allocate_exact_size(vec2(width, rows as f32 * ROW_H), Sense::hover());
    // Scrolling moves the static column by whole rows.
    if area_resp.hovered() {
        st.scroll_acc += ui.input(|i| i.smooth_scroll_delta.y);
        let steps = (st.scroll_acc / ROW_H).trunc();
        if steps != 0.0 {
            st.scroll_acc -= steps * ROW_H;
            st.centre_ticks = Some(centre + steps as i64);
        }
    }
    let pointer = ui.ctx().pointer_latest_pos();
    let row_at = |y: f32| -> Option<i64> {
        if y < area.top() || y >= area.bottom() {
            return None;
        }
        Some(top - ((y - area.top()) / ROW_H).floor() as i64)
    };
    let drag_target = st.drag.as_ref().and(pointer).and_then(|p| row_at(p.y));
    let qty = parse_qty(ladder_qty);
    let painter = ui.painter_at(area);
    for i in 0..rows {
        let t = top - i;
        let px = price_of(t, tick);
        let pxs = format::price(m, Some(px));
        let y = area.top() + i as f32 * ROW_H;
        if i % 2 == 1 {
            painter.rect_filled(
                egui::Rect::from_min_size(pos2(area.left(), y), vec2(width, ROW_H)),
                0.0,
                theme::SURFACE,
            );
        }
        if drag_target == Some(t) {
            painter.rect_stroke(
                egui::Rect::from_min_size(pos2(area.left(), y), vec2(width, ROW_H)),
                0.0,
                Stroke::new(1.5, theme::ACCENT),
                egui::StrokeKind::Inside,
            );
        }
        let mut x = area.left();
        for (col, (_, w)) in COLS.iter().enumerate() {
            let rect = egui::Rect::from_min_size(pos2(x, y), vec2(*w, ROW_H)).shrink2(vec2(1.0, 0.5));
            x += w;
            let cell_text = |text: &str, color: Color32| {
                painter.text(rect.center(), Align2::CENTER_CENTER, text, theme::mono(12.0), color);
            };
            match col {
                // The user's working orders: drag to amend, right click to cancel.
                0 | 4 => {
                    let buy = col == 0;
                    let Some((n, ids)) = mine.get(&(buy, t)) else { continue };
                    let id = ui.make_persistent_id(("ladder_mine", buy, t));
                    let r = ui.interact(rect, id, Sense::click_and_drag());
                    let side = if buy { "buy" } else { "sell" };
                    r.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::Role::Button,
                            true,
                            format!("Ladder working {side} {n} at {pxs}"),
                        )
                    });
                    painter.rect_filled(rect, 3.0, theme::faded(if buy { theme::PROFIT } else { theme::LOSS }, 0.45));
                    cell_text(&n.to_string(), theme::TEXT);
                    if r.drag_started() {
                        st.drag = Some(Drag { from_ticks: t, orders: ids.clone() });
                    }
                    if r.drag_stopped() {
                        if let (Some(d), Some(to)) = (st.drag.take(), pointer.and_then(|p| row_at(p.y)))
                            && to != d.from_ticks
                        {
                            let new_px = price_of(to, tick);
                            for (order_id, by_stop) in d.orders {
                                let amend = if by_stop {
                                    AmendRequest { stop_price: Some(new_px), ..AmendRequest::default() }
                                } else {
                                    AmendRequest { limit_price: Some(new_px), ..AmendRequest::default() }
                                };
                                actions.push(LadderAction::Command(TradingCommand::Amend { order_id, amend }));
                            }
                        }
                    } else if r.secondary_clicked() {
                        for (order_id, _) in ids {
                            actions.push(LadderAction::Command(TradingCommand::Cancel { order_id: *order_id }));
                        }
                    }
                }
                // Bid and ask depth: click to enter.
                1 | 3 => {
                    let buy = col == 1;
                    let size = if buy { &bids } else { &asks }.iter().find(|(p, _)| *p == t).map(|(_, s)| *s);
                    let id = ui.make_persistent_id(("ladder_entry", buy, t));
                    let r = ui.interact(rect, id, Sense::click());
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let size_txt = size.map_or(String::new(), |s| s.to_string());
                    r.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::Role::Button,
                            true,
                            format!(
                                "Ladder {} at {pxs} size {}",
                                side.as_str(),
                                if size_txt.is_empty() { "0" } else { &size_txt }
                            ),
                        )
                    });
                    let base = if buy { theme::ACCENT } else { theme::LOSS };
                    if size.is_some() {
                        painter.rect_filled(rect, 2.0, theme::faded(base, 0.3));
                    }
                    if r.hovered() {
                        painter.rect_stroke(rect, 2.0, Stroke::new(1.0, base), egui::StrokeKind::Inside);
                    }
                    cell_text(&size_txt, theme::TEXT);
                    if r.clicked() {
                        match &qty {
                            Ok(n) => {
                                st.error = None;
                                actions.push(LadderAction::Enter(OrderRequest::limit(contract, side, *n, px)));
                            }
                            Err(e) => st.error = Some(format!("ladder {e}")),
                        }
                    }
                }
                // The static price column.
                2 => {
                    let inside = best_bid.is_some_and(|b| t == b) || best_ask.is_some_and(|a| t == a);
                    let color = if best_bid.is_some_and(|b| t <= b) {
                        theme::ACCENT
                    } else if best_ask.is_some_and(|a| t >= a) {
                        theme::LOSS
                    } else {
                        theme::TEXT
                    };
                    if inside {
                        painter.rect_stroke(rect, 2.0, Stroke::new(1.0, color), egui::StrokeKind::Inside);
                    }
                    painter.text(rect.center(), Align2::CENTER_CENTER, &pxs, theme::mono(12.5), color);
                }
                // Last traded quantity.
                _ => {
                    if let Some((lt, lq)) = last
                        && lt == t
                    {
                        painter.rect_filled(rect, 2.0, theme::faded(theme::WARNING, 0.35));
                        cell_text(&lq.to_string(), theme::TEXT);
                        let id = ui.make_persistent_id(("ladder_last", t));
                        let r = ui.interact(rect, id, Sense::hover());
                        r.widget_info(|| {
                            egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Ladder last {pxs} qty {lq}"))
                        });
                    }
                }
            }
        }
    }
    if st.drag.is_some() && !ui.input(|i| i.pointer.any_down()) && ui.ctx().dragged_id().is_none() {
        // The drag ended without its cell reporting it (e.g. the cell scrolled away).
        st.drag = None;
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_grid_round_trips_including_negative_prices() {
        assert_eq!(price_of(ticks_of(71.25, 0.01), 0.01), 71.25);
        assert_eq!(price_of(ticks_of(-37.63, 0.01), 0.01), -37.63);
        assert_eq!(price_of(ticks_of(2.1034, 0.0001), 0.0001), 2.1034);
        assert_eq!(ticks_of(70.004, 0.01), 7000);
    }
}
