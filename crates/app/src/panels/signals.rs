//! The Signals panel: a composite card per market (direction, confidence gauge, horizon,
//! stop, target and suggested size, regime and squeeze, last update), and for the selected
//! market its contributing signals, the per-source performance, the recent composites with
//! their outcomes, and the cumulative signal P&L chart.
//!
//! Everything comes from the [`SignalsView`] the signals worker fills
//! ([`crude_kernel::services::signals`]); the panel only formats. Every figure a test or a screen
//! reader needs carries a stable accessible label, e.g. `CL composite LONG`,
//! `CL confidence 63`, `CL ma_crossover weight 0.200`, `CL perf composite hit rate 55.0%`.

use crude_model::{FeedKind, FeedStatus, Market, Timeframe, Timestamp};
use crude_signals::{COMPOSITE_SOURCE, Component, Direction, PnlPoint, Regime, SignalSnapshot, SourcePerformance};
use egui::{RichText, vec2};
use egui_extras::{Column, TableBuilder};
use egui_plot::{Line, Plot};
use serde::{Deserialize, Serialize};

use crate::format;
use crate::panels::positions::usd_signed;
use crate::theme::{self, labeled};
use crude_kernel::services::signals::{HistoryRow, MarketSignals, SignalsStatus, SignalsView};

/// What the user selected on the Signals panel (persisted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignalsPanelState {
    /// The market whose details are shown.
    pub market: Market,
}

impl Default for SignalsPanelState {
    fn default() -> Self {
        Self { market: Market::Wti }
    }
}

fn header(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).color(theme::MUTED).small().strong());
}

/// The colour of a direction: LONG green, SHORT red, NEUTRAL muted.
pub fn direction_color(d: Direction) -> egui::Color32 {
    match d {
        Direction::Long => theme::PROFIT,
        Direction::Short => theme::LOSS,
        Direction::Neutral => theme::MUTED,
    }
}

fn regime_color(r: Regime) -> egui::Color32 {
    match r {
        Regime::Trending => theme::ACCENT,
        Regime::Transitional => theme::WARNING,
        Regime::Ranging => theme::TEXT,
        Regime::Unknown => theme::MUTED,
    }
}

/// A number with as many decimals as its size needs (raw signal values range from z-scores
/// to RSI levels and thousands of barrels a day).
pub fn number(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let a = x.abs();
            if a >= 100.0 {
                format!("{x:.1}")
            } else if a >= 1.0 {
                format!("{x:.2}")
            } else {
                format!("{x:.4}")
            }
        }
        _ => "—".into(),
    }
}

/// A horizon in bars with its length in time: `20 bars (1h 40m)`, `5 sessions`.
pub fn horizon(bars: usize, tf: Option<Timeframe>) -> String {
    match tf {
        Some(Timeframe::D1) => format!("{bars} sessions"),
        Some(tf) => match tf.intraday_nanos() {
            Some(n) => {
                let mins = (bars as i64).saturating_mul(n / Timestamp::NANOS_PER_MIN);
                let (h, m) = (mins / 60, mins % 60);
                let t = match (h, m) {
                    (0, m) => format!("{m}m"),
                    (h, 0) => format!("{h}h"),
                    (h, m) => format!("{h}h {m}m"),
                };
                format!("{bars} bars ({t})")
            }
            None => format!("{bars} bars"),
        },
        None => format!("{bars} bars"),
    }
}

/// A fraction as a percentage with one decimal (`55.0%`), or a dash.
fn pct1(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or("—".into(), |x| format!("{:.1}%", 100.0 * x))
}

/// A signed return as a percentage with three decimals (`+0.123%`), or a dash.
fn ret3(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or("—".into(), |x| format!("{:+.3}%", 100.0 * x))
}

/// The cumulative P&L as plot points, at most two per column (the first and last of each
/// column, or its minimum and maximum in time order when the column moves), so a plot
/// `columns` wide never gets more points than pixels for `columns` = width / 2.
pub fn pnl_points(points: &[PnlPoint], columns: usize) -> Vec<[f64; 2]> {
    let xy = |p: &PnlPoint| [p.ts.0 as f64 / 1e9, p.cumulative_usd];
    let columns = columns.max(1);
    if points.len() <= 2 * columns {
        return points.iter().map(xy).collect();
    }
    let (Some(first), Some(last)) = (points.first(), points.last()) else { return Vec::new() };
    let (x0, x1) = (first.ts.0 as f64, last.ts.0 as f64);
    let span = (x1 - x0).max(1.0);
    let mut out = Vec::with_capacity(2 * columns);
    let mut i = 0;
    while i < points.len() {
        let col = (((points[i].ts.0 as f64 - x0) / span) * columns as f64).floor().min(columns as f64 - 1.0);
        let mut j = i;
        let (mut lo, mut hi) = (i, i);
        while j < points.len()
            && (((points[j].ts.0 as f64 - x0) / span) * columns as f64).floor().min(columns as f64 - 1.0) == col
        {
            if points[j].cumulative_usd < points[lo].cumulative_usd {
                lo = j;
            }
            if points[j].cumulative_usd > points[hi].cumulative_usd {
                hi = j;
            }
            j += 1;
        }
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(xy(&points[a]));
        if b != a {
            out.push(xy(&points[b]));
        }
        i = j;
    }
    out
}

/// Draw the Signals panel.
pub fn show(ui: &mut egui::Ui, view: &SignalsView, state: &mut SignalsPanelState) {
    egui::Frame::new().inner_margin(8.0).show(ui, |ui| {
        egui::ScrollArea::vertical().id_salt("signals_scroll").auto_shrink([false, false]).show(ui, |ui| {
            top_line(ui, view);
            match &view.info.status {
                SignalsStatus::NotRunning => {
                    ui.add_space(16.0);
                    labeled(
                        ui,
                        RichText::new("Signals are not running in this session").color(theme::MUTED),
                        "Signals not running".into(),
                    );
                    return;
                }
                SignalsStatus::Failed(why) => {
                    ui.add_space(16.0);
                    let text = format!("Signals unavailable: {why}");
                    labeled(ui, RichText::new(&text).color(theme::LOSS).strong(), format!("Signals error {why}"));
                    return;
                }
                _ => {}
            }
            ui.add_space(6.0);
            ui.horizontal_wrapped(|ui| {
                for m in Market::ALL {
                    card(ui, view, m, state);
                }
            });
            ui.add_space(8.0);
            ui.separator();
            details(ui, view, state.market);
        });
    });
}

fn top_line(ui: &mut egui::Ui, view: &SignalsView) {
    let info = &view.info;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("SIGNALS").strong().color(theme::ACCENT));
        if let Some(kind) = info.feed_kind {
            let color = match kind {
                FeedKind::Simulated => theme::WARNING,
                FeedKind::Replay => theme::ACCENT,
                FeedKind::Live => theme::PROFIT,
            };
            labeled(
                ui,
                RichText::new(kind.badge()).strong().monospace().color(color),
                format!("Signals data {}", kind.badge()),
            );
        }
        let tf = info.timeframe.map_or("—", Timeframe::label);
        labeled(
            ui,
            RichText::new(format!("{tf} bars, continuous front month")).color(theme::MUTED),
            format!("Signals timeframe {tf}"),
        );
        let status = info.status.label();
        let color = match info.status {
            SignalsStatus::Running => theme::PROFIT,
            SignalsStatus::Failed(_) => theme::LOSS,
            _ => theme::WARNING,
        };
        if !matches!(info.status, SignalsStatus::Failed(_)) {
            // A failure is shown in full below.
            labeled(ui, RichText::new(&status).color(color), format!("Signals status {status}"));
        }
        if let Some(t) = info.clock {
            ui.label(RichText::new(format!("event time {}", format::exchange_time(t))).monospace().color(theme::MUTED));
        }
        if let Some(p) = &info.history_path {
            ui.label(RichText::new(format!("history {}", p.display())).small().color(theme::MUTED));
        }
    });
    if let Some(FeedStatus::Disconnected { reason }) = &info.feed_status {
        let since = info.clock.map_or("—".to_string(), format::exchange_time);
        let text = format!("Feed disconnected ({reason}): signals are as of {since}, not live");
        labeled(ui, RichText::new(&text).color(theme::LOSS).strong(), format!("Signals {text}"));
    }
    for n in &info.notes {
        ui.label(RichText::new(n).small().color(theme::WARNING));
    }
    if info.skipped_older > 0 {
        ui.label(
            RichText::new(format!("{} bars not stored (older than the history file's latest)", info.skipped_older))
                .small()
                .color(theme::WARNING),
        );
    }
}

fn card(ui: &mut egui::Ui, view: &SignalsView, m: Market, state: &mut SignalsPanelState) {
    let ms = view.market(m);
    let code = m.code();
    let selected = state.market == m;
    let stroke =
        egui::Stroke::new(if selected { 1.5 } else { 1.0 }, if selected { theme::ACCENT } else { theme::BORDER });
    egui::Frame::new().fill(theme::SURFACE).stroke(stroke).corner_radius(4.0).inner_margin(8.0).show(ui, |ui| {
        ui.set_width(250.0);
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                let r = ui.selectable_label(selected, RichText::new(code).strong().monospace().size(15.0));
                r.widget_info(|| {
                    egui::WidgetInfo::selected(egui::Role::Button, true, selected, format!("Signals market {code}"))
                });
                if r.clicked() {
                    state.market = m;
                }
                ui.label(RichText::new(m.name()).color(theme::MUTED).small());
            });
            let Some(s) = ms.snapshot.as_ref() else {
                if ms.bars == 0 {
                    labeled(
                        ui,
                        RichText::new("Waiting for market data").color(theme::MUTED),
                        format!("{code} waiting for market data"),
                    );
                } else {
                    let text = format!("Warming up: {} of {} bars", ms.bars, ms.warmup_bars);
                    labeled(
                        ui,
                        RichText::new(&text).color(theme::WARNING),
                        format!("{code} warming up {} of {} bars", ms.bars, ms.warmup_bars),
                    );
                }
                history_error(ui, code, ms);
                return;
            };
            card_body(ui, view, m, ms, s);
        });
    });
}

fn card_body(ui: &mut egui::Ui, view: &SignalsView, m: Market, ms: &MarketSignals, s: &SignalSnapshot) {
    let code = m.code();
    let c = &s.composite;
    let dir = c.direction.label();
    labeled(
        ui,
        RichText::new(dir).strong().size(20.0).color(direction_color(c.direction)),
        format!("{code} composite {dir}"),
    );
    ui.horizontal(|ui| {
        let conf = format!("{:.0}", c.confidence);
        theme::bar(ui, c.confidence / 100.0, theme::faded(direction_color(c.direction), 0.8), 150.0, None);
        labeled(ui, RichText::new(&conf).monospace().strong(), format!("{code} confidence {conf}"));
        ui.label(RichText::new("/ 100").small().color(theme::MUTED));
    });
    let h = horizon(c.horizon_bars, view.info.timeframe);
    labeled(ui, RichText::new(format!("horizon {h}")).monospace(), format!("{code} horizon {} bars", c.horizon_bars));
    ui.horizontal(|ui| {
        let stop = format::price(m, c.stop);
        let target = format::price(m, c.target);
        ui.label(RichText::new("stop").small().color(theme::MUTED));
        labeled(ui, RichText::new(&stop).monospace().color(theme::LOSS), format!("{code} stop {stop}"));
        ui.label(RichText::new("target").small().color(theme::MUTED));
        labeled(ui, RichText::new(&target).monospace().color(theme::PROFIT), format!("{code} target {target}"));
        ui.label(RichText::new("size").small().color(theme::MUTED));
        labeled(ui, RichText::new(c.size.to_string()).monospace().strong(), format!("{code} size {}", c.size));
    });
    ui.horizontal(|ui| {
        let r = s.regime.regime.label();
        labeled(ui, RichText::new(r).strong().color(regime_color(s.regime.regime)), format!("{code} regime {r}"));
        let (sq, color) = if s.regime.squeeze { ("squeeze on", theme::WARNING) } else { ("no squeeze", theme::MUTED) };
        labeled(
            ui,
            RichText::new(sq).small().color(color),
            format!("{code} squeeze {}", if s.regime.squeeze { "on" } else { "off" }),
        );
        if let Some(adx) = s.regime.adx {
            ui.label(RichText::new(format!("ADX {adx:.1}")).small().monospace().color(theme::MUTED));
        }
    });
    let at = ms.as_of.map_or("—".to_string(), format::exchange_time);
    labeled(
        ui,
        RichText::new(format!("as of {at}")).small().monospace().color(theme::MUTED),
        format!("{code} last update {at}"),
    );
    ui.label(
        RichText::new(format!(
            "close {}  ATR {}  coverage {:.0}%",
            format::price(m, Some(s.close)),
            format::price(m, Some(s.atr)),
            100.0 * c.coverage
        ))
        .small()
        .monospace()
        .color(theme::MUTED),
    );
    if ms.close_only {
        ui.label(RichText::new("closes only: high/low sources unavailable").small().color(theme::WARNING));
    }
    history_error(ui, code, ms);
}

fn history_error(ui: &mut egui::Ui, code: &str, ms: &MarketSignals) {
    if let Some(e) = &ms.history_error {
        labeled(ui, RichText::new(e).small().color(theme::LOSS), format!("{code} history error {e}"));
    }
}

fn details(ui: &mut egui::Ui, view: &SignalsView, m: Market) {
    let ms = view.market(m);
    let code = m.code();
    ui.horizontal(|ui| {
        labeled(
            ui,
            RichText::new(format!("{code} {}", m.name())).strong().size(15.0),
            format!("Signals details {code}"),
        );
        if let Some(s) = &ms.snapshot {
            ui.label(
                RichText::new(format!("bar of {}", format::exchange_time(s.ts)))
                    .small()
                    .monospace()
                    .color(theme::MUTED),
            );
        }
    });
    let Some(s) = ms.snapshot.as_ref() else {
        ui.label(RichText::new("No signals for this market yet").color(theme::MUTED));
        return;
    };
    ui.add_space(4.0);
    header(ui, "CONTRIBUTING SIGNALS");
    components(ui, code, &s.components);
    ui.add_space(8.0);
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            header(ui, "PERFORMANCE BY SOURCE (resolved LONG/SHORT signals at their horizon)");
            performance(ui, code, &ms.performance);
        });
        ui.add_space(16.0);
        ui.vertical(|ui| {
            header(ui, "CUMULATIVE SIGNAL P&L (following the composite, USD)");
            pnl_chart(ui, code, ms, view.info.timeframe);
        });
    });
    ui.add_space(8.0);
    header(ui, "SIGNAL HISTORY (recent composites, newest first)");
    history(ui, m, &ms.recent, view.info.timeframe);
}

fn components(ui: &mut egui::Ui, code: &str, comps: &[Component]) {
    egui::Grid::new("signals_components").striped(true).spacing(vec2(14.0, 3.0)).show(ui, |ui| {
        for h in
            ["Source", "Family", "Direction", "Confidence", "Score", "Weight", "Config weight", "Raw value", "Status"]
        {
            header(ui, h);
        }
        ui.end_row();
        for c in comps {
            let name = c.source.name();
            ui.label(RichText::new(name).monospace());
            ui.label(RichText::new(&c.family).color(theme::MUTED));
            let d = c.direction.label();
            labeled(
                ui,
                RichText::new(d).monospace().strong().color(direction_color(c.direction)),
                format!("{code} {name} {d}"),
            );
            let conf = format!("{:.0}", c.confidence);
            labeled(ui, RichText::new(&conf).monospace(), format!("{code} {name} confidence {conf}"));
            ui.label(RichText::new(format!("{:+.2}", c.score)).monospace());
            let w = format!("{:.3}", c.weight);
            labeled(ui, RichText::new(&w).monospace(), format!("{code} {name} weight {w}"));
            ui.label(RichText::new(format!("{:.2}", c.config_weight)).monospace().color(theme::MUTED));
            let raw = number(c.raw_value);
            labeled(ui, RichText::new(&raw).monospace(), format!("{code} {name} raw {raw}"));
            if c.available {
                labeled(ui, RichText::new("available").color(theme::PROFIT), format!("{code} {name} available"));
            } else {
                let why = c.reason.as_deref().unwrap_or("no reading");
                labeled(
                    ui,
                    RichText::new(why).small().color(theme::WARNING),
                    format!("{code} {name} unavailable: {why}"),
                );
            }
            ui.end_row();
        }
    });
}

fn performance(ui: &mut egui::Ui, code: &str, perf: &[SourcePerformance]) {
    if perf.is_empty() {
        ui.label(RichText::new("No stored signals yet").color(theme::MUTED));
        return;
    }
    egui::Grid::new("signals_performance").striped(true).spacing(vec2(12.0, 3.0)).show(ui, |ui| {
        for h in ["Source", "Signals", "Pending", "Hit rate", "Avg fwd return", "Profit factor"] {
            header(ui, h);
        }
        ui.end_row();
        for p in perf {
            let name = p.source.as_str();
            let text = RichText::new(name).monospace();
            ui.label(if name == COMPOSITE_SOURCE { text.strong().color(theme::ACCENT) } else { text });
            labeled(
                ui,
                RichText::new(p.signals.to_string()).monospace(),
                format!("{code} perf {name} signals {}", p.signals),
            );
            ui.label(RichText::new(p.pending.to_string()).monospace().color(theme::MUTED));
            let hr = pct1(p.hit_rate);
            let hr_color = match p.hit_rate {
                Some(h) if h > 0.5 => theme::PROFIT,
                Some(h) if h < 0.5 => theme::LOSS,
                _ => theme::MUTED,
            };
            labeled(ui, RichText::new(&hr).monospace().color(hr_color), format!("{code} perf {name} hit rate {hr}"));
            let r = ret3(p.avg_forward_return);
            labeled(
                ui,
                RichText::new(&r).monospace().color(theme::signed(p.avg_forward_return)),
                format!("{code} perf {name} avg return {r}"),
            );
            let pf = p.profit_factor.filter(|x| x.is_finite()).map_or("—".to_string(), |x| format!("{x:.2}"));
            labeled(ui, RichText::new(&pf).monospace(), format!("{code} perf {name} profit factor {pf}"));
            ui.end_row();
        }
    });
}

fn pnl_chart(ui: &mut egui::Ui, code: &str, ms: &MarketSignals, tf: Option<Timeframe>) {
    let total = ms.pnl_total_usd.map_or("—".to_string(), usd_signed);
    labeled(
        ui,
        RichText::new(format!("total {total}")).monospace().strong().color(theme::signed(ms.pnl_total_usd)),
        format!("{code} cumulative signal P&L {total}"),
    );
    if ms.pnl.is_empty() {
        ui.label(RichText::new("No resolved bars yet").color(theme::MUTED));
        return;
    }
    let width = ui.available_width().clamp(240.0, 720.0);
    let pts = pnl_points(&ms.pnl, (width / 2.0) as usize);
    let daily = tf == Some(Timeframe::D1);
    let color = theme::signed(ms.pnl_total_usd);
    let r = ui.allocate_ui(vec2(width, 220.0), |ui| {
        Plot::new(format!("signals_pnl_{code}"))
            .show_background(false)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .grid_color(theme::BORDER)
            .y_axis_min_width(64.0)
            .y_axis_formatter(|mark, _| format!("{:.0}", mark.value))
            .x_axis_formatter(move |mark, _| format::axis_time(Timestamp((mark.value * 1e9) as i64), daily))
            .height(220.0)
            .width(width)
            .show(ui, |pui| {
                pui.line(Line::new("cumulative P&L", pts).color(if color == theme::MUTED {
                    theme::ACCENT
                } else {
                    color
                }));
            })
    });
    r.response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, format!("{code} signal P&L chart {} points", ms.pnl.len()))
    });
    ui.label(
        RichText::new(format!("last {} bars; re-read in {:.1} ms", ms.pnl.len(), ms.stats_read_ms))
            .small()
            .color(theme::MUTED),
    );
}

fn history(ui: &mut egui::Ui, m: Market, rows: &[HistoryRow], tf: Option<Timeframe>) {
    if rows.is_empty() {
        ui.label(RichText::new("No stored signals yet").color(theme::MUTED));
        return;
    }
    let code = m.code();
    let daily = tf == Some(Timeframe::D1);
    let cell = |ui: &mut egui::Ui, text: RichText| {
        ui.label(text);
    };
    // Only the visible rows are laid out.
    TableBuilder::new(ui)
        .id_salt("signals_history")
        .striped(true)
        .vscroll(true)
        .max_scroll_height(260.0)
        .auto_shrink([false, true])
        .columns(Column::auto().at_least(60.0), 10)
        .header(18.0, |mut row| {
            for h in ["Bar", "Direction", "Conf", "Entry", "Horizon", "Size", "Regime", "Exit", "Fwd return", "P&L"] {
                row.col(|ui| header(ui, h));
            }
        })
        .body(|body| {
            body.rows(18.0, rows.len(), |mut row| {
                let Some(r) = rows.get(row.index()) else { return };
                let t = format::axis_time(r.ts, daily);
                row.col(|ui| cell(ui, RichText::new(&t).monospace()));
                let d = r.direction.label();
                row.col(|ui| {
                    labeled(
                        ui,
                        RichText::new(d).monospace().color(direction_color(r.direction)),
                        format!("{code} history {t} {d}"),
                    );
                });
                row.col(|ui| cell(ui, RichText::new(format!("{:.0}", r.confidence)).monospace()));
                row.col(|ui| cell(ui, RichText::new(format::price(m, Some(r.entry_price))).monospace()));
                row.col(|ui| cell(ui, RichText::new(r.horizon_bars.to_string()).monospace()));
                row.col(|ui| cell(ui, RichText::new(r.size.to_string()).monospace()));
                row.col(|ui| cell(ui, RichText::new(&r.regime).color(theme::MUTED)));
                match r.outcome {
                    Some(o) => {
                        // The return in the signal's direction (as the hit rate counts it).
                        let dir_ret = o.forward_return.map(|x| x * r.direction.sign() as f64);
                        let shown = if r.direction == Direction::Neutral { o.forward_return } else { dir_ret };
                        row.col(|ui| cell(ui, RichText::new(format::price(m, Some(o.exit_price))).monospace()));
                        row.col(|ui| cell(ui, RichText::new(ret3(shown)).monospace().color(theme::signed(dir_ret))));
                    }
                    None => {
                        row.col(|ui| cell(ui, RichText::new("pending").color(theme::MUTED)));
                        row.col(|ui| cell(ui, RichText::new("—").color(theme::MUTED)));
                    }
                }
                let pnl = r.pnl_usd.map_or("—".to_string(), usd_signed);
                row.col(|ui| cell(ui, RichText::new(pnl).monospace().color(theme::signed(r.pnl_usd))));
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(i: i64, v: f64) -> PnlPoint {
        PnlPoint { ts: Timestamp::from_secs(1_000_000 + 300 * i), pnl_usd: 0.0, cumulative_usd: v }
    }

    #[test]
    fn pnl_points_never_exceed_two_per_column_and_keep_extremes() {
        let pts: Vec<PnlPoint> = (0..2_000).map(|i| p(i, ((i * 37) % 101) as f64 - 50.0 + i as f64 * 0.01)).collect();
        let out = pnl_points(&pts, 100);
        assert!(out.len() <= 200, "{}", out.len());
        let max = pts.iter().map(|p| p.cumulative_usd).fold(f64::MIN, f64::max);
        let min = pts.iter().map(|p| p.cumulative_usd).fold(f64::MAX, f64::min);
        assert!(out.iter().any(|q| q[1] == max) && out.iter().any(|q| q[1] == min));
        assert!(out.windows(2).all(|w| w[0][0] <= w[1][0]), "in time order");
        // Few points pass through unchanged.
        assert_eq!(pnl_points(&pts[..10], 100).len(), 10);
        assert!(pnl_points(&[], 100).is_empty());
    }

    #[test]
    fn formats() {
        assert_eq!(horizon(20, Some(Timeframe::M5)), "20 bars (1h 40m)");
        assert_eq!(horizon(6, Some(Timeframe::M5)), "6 bars (30m)");
        assert_eq!(horizon(12, Some(Timeframe::M5)), "12 bars (1h)");
        assert_eq!(horizon(5, Some(Timeframe::D1)), "5 sessions");
        assert_eq!(number(Some(55.123)), "55.12");
        assert_eq!(number(Some(-1234.56)), "-1234.6");
        assert_eq!(number(Some(0.01234)), "0.0123");
        assert_eq!(number(None), "—");
        assert_eq!(pct1(Some(0.55)), "55.0%");
        assert_eq!(ret3(Some(-0.0012)), "-0.120%");
    }
}
