//! The Blotter panel: every fill in the database, filtered by trading date range, strategy
//! and market, in a virtualised table (`ScrollArea::show_rows`: only the rows in view are
//! laid out, each painted as a single widget, so 100,000 rows draw as fast as 40), with the
//! totals (trades, gross and net P&L, fees, slippage) and
//! attribution by strategy (P&L, hit rate, average trade).
//!
//! Filtering, totals, attribution and the CSV export run on the trading worker; the panel
//! sends the filter when it changes and draws what comes back.

use chrono::NaiveDate;
use crude_model::Market;
use egui::{RichText, vec2};
use serde::{Deserialize, Serialize};

use crate::format;
use crate::panels::positions::{usd, usd_signed};
use crate::theme::{self, labeled};
use crate::view_model::ViewModel;
use crude_kernel::services::trading::{TradingCommand, TradingStatus};
use crude_trading::blotter::{BlotterLine, BlotterQuery};

/// Row height of the blotter table, points.
pub const ROW_H: f32 = 18.0;

/// The blotter's filter fields as typed (persisted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlotterState {
    /// First trading date shown, `YYYY-MM-DD` (empty: no bound).
    pub from: String,
    /// Last trading date shown, inclusive.
    pub to: String,
    pub strategy: Option<String>,
    pub market: Option<Market>,
    /// Where Export CSV writes (relative: next to the database).
    pub export_path: String,
}

impl Default for BlotterState {
    fn default() -> Self {
        Self {
            from: String::new(),
            to: String::new(),
            strategy: None,
            market: None,
            export_path: "crude-blotter.csv".into(),
        }
    }
}

fn parse_date(field: &str, s: &str) -> Result<Option<NaiveDate>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("{field}: '{t}' is not a date; use YYYY-MM-DD, e.g. 2026-11-18, or leave it empty"))
}

impl BlotterState {
    /// The query the fields describe.
    ///
    /// # Errors
    /// A message naming the field (`from`, `to`) and the fix.
    pub fn query(&self) -> Result<BlotterQuery, String> {
        let from = parse_date("from", &self.from)?;
        let to = parse_date("to", &self.to)?;
        if let (Some(a), Some(b)) = (from, to)
            && a > b
        {
            return Err(format!("from: {a} is after to ({b}); swap the dates"));
        }
        Ok(BlotterQuery { from, to, strategy: self.strategy.clone(), market: self.market })
    }
}

/// Per-session state of the Blotter panel.
#[derive(Debug, Clone, Default)]
pub struct BlotterCache {
    /// The last query sent to the worker.
    sent: Option<BlotterQuery>,
}

fn header(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).color(theme::MUTED).small().strong());
}

/// Draw the Blotter panel.
pub fn show(
    ui: &mut egui::Ui,
    store: &ViewModel,
    state: &mut BlotterState,
    cache: &mut BlotterCache,
    out: &mut Vec<TradingCommand>,
) {
    let view = store.trading();
    let b = &view.blotter;
    // Filters.
    let query = ui
        .horizontal(|ui| {
            header(ui, "BLOTTER");
            let l = ui.label(RichText::new("From").color(theme::MUTED));
            ui.add(egui::TextEdit::singleline(&mut state.from).desired_width(90.0).hint_text("YYYY-MM-DD"))
                .labelled_by(l.id);
            let l = ui.label(RichText::new("To").color(theme::MUTED));
            ui.add(egui::TextEdit::singleline(&mut state.to).desired_width(90.0).hint_text("YYYY-MM-DD"))
                .labelled_by(l.id);
            let label = state.strategy.clone().unwrap_or_else(|| "All strategies".into());
            let combo = egui::ComboBox::from_id_salt("blotter_strategy").selected_text(&label).show_ui(ui, |ui| {
                ui.selectable_value(&mut state.strategy, None, "All strategies");
                for s in &b.strategies {
                    ui.selectable_value(&mut state.strategy, Some(s.clone()), s);
                }
            });
            combo.response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, format!("Blotter strategy {label}"))
            });
            let label = state.market.map_or("All markets", |m| m.code());
            let combo = egui::ComboBox::from_id_salt("blotter_market").selected_text(label).show_ui(ui, |ui| {
                ui.selectable_value(&mut state.market, None, "All markets");
                for m in Market::ALL {
                    ui.selectable_value(&mut state.market, Some(m), m.code());
                }
            });
            combo.response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, format!("Blotter market {label}"))
            });
            ui.separator();
            let l = ui.label(RichText::new("CSV").color(theme::MUTED));
            ui.add(egui::TextEdit::singleline(&mut state.export_path).desired_width(180.0)).labelled_by(l.id);
            let enabled = view.status.is_some() && !state.export_path.trim().is_empty();
            if ui.add_enabled(enabled, egui::Button::new("Export CSV")).clicked() {
                out.push(TradingCommand::ExportBlotter { path: state.export_path.trim().into() });
            }
            state.query()
        })
        .inner;
    match &query {
        Err(e) => {
            labeled(ui, RichText::new(e).color(theme::LOSS), format!("Blotter filter error {e}"));
        }
        Ok(q) => {
            if view.status.is_some() && b.loaded && &b.query != q && cache.sent.as_ref() != Some(q) {
                cache.sent = Some(q.clone());
                out.push(TradingCommand::Blotter(q.clone()));
            }
        }
    }
    if let Some((path, r)) = &view.export {
        let (text, color) = match r {
            Ok(n) => (format!("Exported {n} fills to {}", path.display()), theme::PROFIT),
            Err(e) => (format!("Export failed: {e}"), theme::LOSS),
        };
        labeled(ui, RichText::new(&text).small().color(color), format!("Blotter export {text}"));
    }
    if view.status.is_none() {
        ui.add_space(20.0);
        ui.label(RichText::new("Trading is not running in this session").color(theme::MUTED));
        return;
    }
    if !b.loaded {
        let text = match &view.status {
            Some(TradingStatus::Stopped(why)) => format!("Trading stopped: {why}"),
            _ => "Loading the blotter…".into(),
        };
        ui.label(RichText::new(text).color(theme::MUTED));
        return;
    }
    let pending = query.as_ref().is_ok_and(|q| q != &b.query);

    // Totals.
    let s = &b.summary;
    ui.horizontal(|ui| {
        let shown = format!("{} of {} fills{}", b.lines.len(), b.total_fills, if pending { " (updating)" } else { "" });
        labeled(ui, RichText::new(&shown).small().color(theme::MUTED), format!("Blotter rows {shown}"));
        ui.separator();
        let items = [
            ("Trades", s.fills.to_string(), None),
            ("Contracts", s.contracts.to_string(), None),
            ("Gross P&L", usd_signed(s.gross_pnl_usd), Some(s.gross_pnl_usd)),
            ("Fees", usd(s.fees_usd), None),
            ("Net P&L", usd_signed(s.net_pnl_usd), Some(s.net_pnl_usd)),
            ("Slippage", usd_signed(s.slippage_usd), Some(-s.slippage_usd)),
        ];
        for (name, v, sign) in items {
            ui.label(RichText::new(name).small().color(theme::MUTED));
            let color = sign.map_or(theme::TEXT, |x| theme::signed(Some(x)));
            labeled(ui, RichText::new(&v).monospace().strong().color(color), format!("Blotter {name} {v}"));
        }
    });

    // Attribution by strategy.
    if !b.attribution.is_empty() {
        egui::CollapsingHeader::new(RichText::new("Attribution by strategy").small().strong())
            .id_salt("blotter_attribution")
            .default_open(true)
            .show(ui, |ui| {
                egui::Grid::new("attribution_grid").striped(true).spacing(vec2(14.0, 2.0)).show(ui, |ui| {
                    for h in ["Strategy", "Fills", "Closing", "Hit rate", "Gross", "Fees", "Net", "Avg trade"] {
                        header(ui, h);
                    }
                    ui.end_row();
                    for a in &b.attribution {
                        ui.label(RichText::new(&a.strategy).monospace());
                        ui.label(RichText::new(a.fills.to_string()).monospace());
                        ui.label(RichText::new(a.closing_trades.to_string()).monospace());
                        let hit = a.hit_rate.map_or("—".to_string(), |h| format!("{:.0}%", h * 100.0));
                        labeled(ui, RichText::new(&hit).monospace(), format!("Strategy {} hit rate {hit}", a.strategy));
                        ui.label(
                            RichText::new(usd_signed(a.gross_pnl_usd))
                                .monospace()
                                .color(theme::signed(Some(a.gross_pnl_usd))),
                        );
                        ui.label(RichText::new(usd(a.fees_usd)).monospace());
                        let net = usd_signed(a.net_pnl_usd);
                        labeled(
                            ui,
                            RichText::new(&net).monospace().color(theme::signed(Some(a.net_pnl_usd))),
                            format!("Strategy {} net {net}", a.strategy),
                        );
                        let avg = a.average_trade_usd.map_or("—".to_string(), usd_signed);
                        labeled(
                            ui,
                            RichText::new(&avg).monospace(),
                            format!("Strategy {} average trade {avg}", a.strategy),
                        );
                        ui.end_row();
                    }
                });
            });
    }
    ui.add_space(4.0);
    if b.lines.is_empty() {
        ui.label(RichText::new("No fills match the filter").color(theme::MUTED));
        return;
    }
    table(ui, &b.lines);
}

/// Columns of the fills table: title and width, points.
const COLUMNS: [(&str, f32); 13] = [
    ("Time (ET)", 142.0),
    ("Trade date", 84.0),
    ("Fill", 60.0),
    ("Order", 64.0),
    ("Contract", 64.0),
    ("Side", 40.0),
    ("Qty", 44.0),
    ("Price", 76.0),
    ("Costs", 72.0),
    ("Liq", 52.0),
    ("Strategy", 110.0),
    ("Slippage", 90.0),
    ("Realised", 100.0),
];

/// The cells of one row: text and colour.
fn cells(l: &BlotterLine) -> [(String, egui::Color32); 13] {
    let m = l.contract.market;
    let t = format::exchange_time(l.ts);
    let side_color = if l.side == crude_model::Side::Buy { theme::PROFIT } else { theme::LOSS };
    [
        (t.get(..19).unwrap_or(&t).to_string(), theme::TEXT),
        (l.trading_date.to_string(), theme::MUTED),
        (l.fill_id.to_string(), theme::TEXT),
        (format!("#{}", l.order_id), theme::TEXT),
        (l.contract.to_string(), theme::TEXT),
        (l.side.as_str().to_string(), side_color),
        (l.qty.to_string(), theme::TEXT),
        (format::price(m, Some(l.price)), theme::TEXT),
        (usd(l.costs_usd()), theme::TEXT),
        (l.liquidity.as_str().to_string(), theme::MUTED),
        (l.strategy.to_string(), theme::TEXT),
        (l.slippage_usd.map_or("—".to_string(), usd_signed), theme::TEXT),
        (usd_signed(l.realized_pnl_usd), theme::signed(Some(l.realized_pnl_usd))),
    ]
}

/// The virtualised fills table, newest first: only the rows in view are laid out, each
/// painted as one widget (one accessible node per fill).
fn table(ui: &mut egui::Ui, lines: &[BlotterLine]) {
    let n = lines.len();
    let width: f32 = COLUMNS.iter().map(|(_, w)| w).sum();
    let font = theme::mono(12.0);
    let (hrect, _) = ui.allocate_exact_size(vec2(width, ROW_H), egui::Sense::hover());
    let mut x = hrect.left() + 4.0;
    for (name, w) in COLUMNS {
        ui.painter().text(
            egui::pos2(x, hrect.center().y),
            egui::Align2::LEFT_CENTER,
            name,
            egui::FontId::proportional(11.0),
            theme::MUTED,
        );
        x += w;
    }
    egui::ScrollArea::both().id_salt("blotter_table").auto_shrink([false, false]).show_rows(
        ui,
        ROW_H,
        n,
        |ui, range| {
            for i in range {
                let Some(l) = n.checked_sub(i + 1).and_then(|k| lines.get(k)) else { continue };
                let (rect, resp) = ui.allocate_exact_size(vec2(width, ROW_H), egui::Sense::hover());
                if !ui.is_rect_visible(rect) {
                    continue;
                }
                resp.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::Label,
                        true,
                        format!(
                            "Blotter fill {} {} {} {} @ {} {} realised {}",
                            l.fill_id,
                            l.contract,
                            l.side,
                            l.qty,
                            format::price(l.contract.market, Some(l.price)),
                            l.strategy,
                            usd_signed(l.realized_pnl_usd)
                        ),
                    )
                });
                let painter = ui.painter();
                if i % 2 == 1 {
                    painter.rect_filled(rect, 0.0, theme::SURFACE);
                }
                if resp.hovered() {
                    painter.rect_stroke(rect, 0.0, egui::Stroke::new(1.0, theme::BORDER), egui::StrokeKind::Inside);
                }
                let mut x = rect.left() + 4.0;
                for ((text, color), (_, w)) in cells(l).into_iter().zip(COLUMNS) {
                    painter.text(egui::pos2(x, rect.center().y), egui::Align2::LEFT_CENTER, text, font.clone(), color);
                    x += w;
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_fields_name_the_bad_one() {
        let mut s = BlotterState { from: "2026-11-01".into(), to: "2026-11-30".into(), ..BlotterState::default() };
        let q = s.query().unwrap();
        assert_eq!(q.from, NaiveDate::from_ymd_opt(2026, 11, 1));
        s.to = "2026-13-01".into();
        assert!(s.query().unwrap_err().starts_with("to:"));
        s.to = "2026-10-01".into();
        assert!(s.query().unwrap_err().contains("after"));
        s.from.clear();
        s.to.clear();
        assert_eq!(s.query().unwrap(), BlotterQuery { market: None, ..BlotterQuery::default() });
    }
}
