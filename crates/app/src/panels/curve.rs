//! The Curve & Spreads panel: a market's futures curve with its 1-week, 1-month and
//! 3-month overlays, the term-structure metrics with their percentiles, the calendar spread
//! table, a crack spread against its seasonal band, the WTI–Brent spread with the Brent–WTI
//! arb, and the weekly inventory surprises.
//!
//! It draws from the [`CurveView`] the curve worker fills ([`crude_kernel::services::curve`]); it
//! does no I/O and no analytics, and every series it hands to egui_plot is already bounded
//! by the worker. History from the simulator is labelled "simulated history" wherever it is
//! drawn. Every figure a test or a screen reader needs has a stable accessible label such
//! as `CL M1-M2 -0.42`, `CL structure Contango` or `3-2-1 crack 24.10`.

use crude_analytics::{CurveState, Product, ProductAnalytics, TermStructureMetrics, TermStructurePercentiles};
use crude_model::Market;
use egui::{Color32, RichText, Sense, vec2};
use egui_plot::{
    AxisHints, Bar, BarChart, Corner, FilledArea, GridInput, GridMark, Legend, Line, LineStyle, Plot, PlotPoints,
    Points,
};
use serde::{Deserialize, Serialize};

use crate::format;
use crate::theme;
use crude_kernel::services::curve::{
    ChartPoint, CrackKind, CrackSeries, CurveData, CurveLine, CurveStatus, CurveView, DataOrigin, HistoryStatus,
    InventorySeries, MarketCurve, WtiBrentSeries, date_from_days, days_since_epoch,
};

/// What the user picked on the panel (persisted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CurvePanelState {
    /// The market whose curve, metrics and spreads are shown.
    pub market: Market,
    /// The crack spread charted.
    pub crack: CrackKind,
}

impl Default for CurvePanelState {
    fn default() -> Self {
        Self { market: Market::Wti, crack: CrackKind::ThreeTwoOne }
    }
}

/// Height of the curve chart and of the lower charts.
const CURVE_CHART_H: f32 = 300.0;
const LOWER_CHART_H: f32 = 230.0;

/// Draws the panel.
pub fn show(ui: &mut egui::Ui, view: &CurveView, state: &mut CurvePanelState) {
    egui::Frame::new().inner_margin(8.0).show(ui, |ui| {
        top_row(ui, view, state);
        errors(ui, view);
        let Some(data) = view.data.as_deref() else {
            ui.add_space(24.0);
            let text = match &view.status {
                CurveStatus::Stopped(_) => "Data unavailable",
                _ => "Waiting for curve data",
            };
            ui.label(RichText::new(text).color(theme::MUTED));
            return;
        };
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            let w = ui.available_width();
            ui.horizontal_top(|ui| {
                let mc = data.market(state.market);
                ui.allocate_ui(vec2((w * 0.52).max(320.0), CURVE_CHART_H + 30.0), |ui| {
                    ui.vertical(|ui| curve_chart(ui, state.market, mc));
                });
                vsep(ui, CURVE_CHART_H);
                ui.vertical(|ui| match mc {
                    Some(mc) => {
                        ui.horizontal_top(|ui| {
                            ui.vertical(|ui| metrics_table(ui, mc));
                            vsep(ui, CURVE_CHART_H);
                            ui.vertical(|ui| spread_table(ui, mc));
                        });
                    }
                    None => {
                        ui.label(RichText::new(format!("No {} curve yet", state.market.code())).color(theme::MUTED));
                    }
                });
            });
            ui.separator();
            // Three columns between two rules (9 px each) and four item gaps.
            let gaps = 18.0 + 4.0 * ui.spacing().item_spacing.x;
            let third = ((w - gaps) / 3.0).max(260.0);
            ui.horizontal_top(|ui| {
                ui.allocate_ui(vec2(third, LOWER_CHART_H + 80.0), |ui| {
                    ui.vertical(|ui| crack_section(ui, data, state));
                });
                vsep(ui, LOWER_CHART_H + 60.0);
                ui.allocate_ui(vec2(third, LOWER_CHART_H + 80.0), |ui| {
                    ui.vertical(|ui| wti_brent_section(ui, data.wti_brent.as_ref()));
                });
                vsep(ui, LOWER_CHART_H + 60.0);
                ui.allocate_ui(vec2(third, LOWER_CHART_H + 120.0), |ui| {
                    ui.vertical(|ui| inventory_section(ui, &data.inventory));
                });
            });
        });
    });
}

/// A vertical rule of fixed height (a separator in a horizontal layout would take the
/// whole height of the scroll area).
fn vsep(ui: &mut egui::Ui, height: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(9.0, height), Sense::hover());
    ui.painter().vline(rect.center().x, rect.y_range(), egui::Stroke::new(1.0, theme::BORDER));
}

/// A label whose accessible name is `name` (the text a test or screen reader reads).
fn named(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>, name: String) -> egui::Response {
    let r = ui.label(text);
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, name.clone()));
    r
}

fn header(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).color(theme::MUTED).small().strong());
}

fn top_row(ui: &mut egui::Ui, view: &CurveView, state: &mut CurvePanelState) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("CURVE & SPREADS").strong().color(theme::ACCENT));
        for m in Market::ALL {
            let selected = state.market == m;
            let r = ui.selectable_label(selected, RichText::new(m.code()).monospace().strong());
            r.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, selected, format!("Curve & Spreads {}", m.code()))
            });
            if r.clicked() {
                state.market = m;
            }
        }
        ui.separator();
        let status = view.status.label();
        let color = match &view.status {
            CurveStatus::Ready => theme::PROFIT,
            CurveStatus::Stopped(_) => theme::LOSS,
            _ => theme::WARNING,
        };
        named(ui, RichText::new(&status).monospace().color(color), format!("Curve analytics: {status}"));
        if let Some(t) = view.data.as_ref().and_then(|d| d.as_of) {
            ui.label(RichText::new(format!("as of {}", format::exchange_time(t))).monospace().color(theme::MUTED));
        }
    });
    ui.horizontal_wrapped(|ui| {
        let (text, color, simulated) = match &view.history {
            HistoryStatus::NoSource => ("none: feed data only".to_string(), theme::MUTED, false),
            HistoryStatus::WaitingForLiveStart => {
                ("simulated history: waiting for the feed's first event".to_string(), theme::WARNING, true)
            }
            HistoryStatus::Loading(what) => (format!("loading {what}"), theme::WARNING, false),
            HistoryStatus::Loaded(info) => {
                (info.label.clone(), if info.simulated { theme::WARNING } else { theme::TEXT }, info.simulated)
            }
            HistoryStatus::Failed(why) => (format!("unavailable: {why}"), theme::LOSS, false),
        };
        if simulated {
            egui::Frame::new()
                .stroke(egui::Stroke::new(1.0, theme::WARNING))
                .corner_radius(3.0)
                .inner_margin(egui::Margin::symmetric(5, 0))
                .show(ui, |ui| {
                    ui.label(RichText::new("SIMULATED HISTORY").small().strong().color(theme::WARNING));
                });
        }
        named(ui, RichText::new(format!("History: {text}")).small().color(color), format!("History: {text}"));
    });
}

fn errors(ui: &mut egui::Ui, view: &CurveView) {
    if view.errors.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(
        RichText::new(format!("{} problem(s) in the data", view.errors.len())).color(theme::WARNING),
    )
    .id_salt("curve_errors")
    .show(ui, |ui| {
        for e in view.errors.iter().rev() {
            ui.label(RichText::new(e).small().color(theme::WARNING));
        }
    });
}

/// Decimals of a spread in `m`'s price unit.
fn spread_text(m: Market, v: f64) -> String {
    format!("{:.*}", format::decimals(m), v)
}

/// Decimals of a slope or curvature (price unit per month).
fn per_month_text(m: Market, v: f64) -> String {
    format!("{:.*}", format::decimals(m) + 2, v)
}

fn origin_suffix(o: DataOrigin) -> &'static str {
    match o {
        DataOrigin::Feed => "",
        DataOrigin::SimulatedHistory => " (simulated history)",
        DataOrigin::FileHistory => " (history file)",
    }
}

fn state_label(s: CurveState) -> &'static str {
    match s {
        CurveState::Backwardation => "Backwardation",
        CurveState::Neutral => "Neutral",
        CurveState::Contango => "Contango",
    }
}

fn curve_chart(ui: &mut egui::Ui, m: Market, mc: Option<&MarketCurve>) {
    ui.horizontal(|ui| {
        header(ui, "FUTURES CURVE");
        if let Some(mc) = mc {
            let cur = &mc.current;
            ui.label(
                RichText::new(format!("{} {}{}", m.code(), cur.date, origin_suffix(cur.origin)))
                    .small()
                    .color(theme::MUTED),
            );
        }
    });
    let Some(mc) = mc else {
        ui.label(RichText::new("No curve yet").color(theme::MUTED));
        return;
    };
    let labels: Vec<String> = mc.current.contracts.iter().map(|c| c.to_string()).collect();
    let decimals = format::decimals(m);
    let overlay_colors =
        [theme::faded(theme::TEXT, 0.75), theme::faded(theme::MUTED, 0.8), theme::faded(theme::MUTED, 0.45)];
    let line_name = |prefix: &str, l: &CurveLine| format!("{prefix} {}{}", l.date, origin_suffix(l.origin));
    let tenors = mc.current.points.len();
    Plot::new("cs_curve_chart")
        .height(CURVE_CHART_H)
        .legend(Legend::default().position(Corner::RightBottom))
        .x_grid_spacer(move |input: GridInput| {
            // One mark per tenor, so every contract is labelled.
            let (lo, hi) = input.bounds;
            (1..=tenors)
                .map(|i| i as f64)
                .filter(|x| (lo..=hi).contains(x))
                .map(|value| GridMark { value, step_size: 1.0 })
                .collect()
        })
        .show_background(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .grid_color(theme::BORDER)
        .y_axis_min_width(52.0)
        .y_axis_formatter(move |mark, _| format!("{:.*}", decimals, mark.value))
        .custom_x_axes(vec![
            // Contract codes need about 36 px: label every tenor down to that spacing.
            AxisHints::new_x().label_spacing(36.0..=48.0).formatter(move |mark, _| {
                let i = mark.value.round() as i64;
                if (mark.value - i as f64).abs() > 1e-6 || i < 1 {
                    return String::new();
                }
                labels.get(i as usize - 1).cloned().unwrap_or_default()
            }),
        ])
        .show(ui, |pui| {
            for (k, o) in mc.overlays.iter().enumerate().rev() {
                let color = overlay_colors.get(k).copied().unwrap_or(theme::MUTED);
                let style =
                    if o.line.origin == DataOrigin::Feed { LineStyle::Solid } else { LineStyle::dashed_dense() };
                pui.line(
                    Line::new(line_name(o.label, &o.line), plot_points(&o.line.points))
                        .color(color)
                        .style(style)
                        .width(1.2),
                );
            }
            let name = line_name("Now", &mc.current);
            pui.line(Line::new(name.clone(), plot_points(&mc.current.points)).color(theme::ACCENT).width(2.2));
            pui.points(Points::new(name, plot_points(&mc.current.points)).color(theme::ACCENT).radius(2.5));
        });
}

/// A small bar showing a percentile (0–100).
fn percentile_bar(ui: &mut egui::Ui, p: Option<f64>) {
    let (rect, _) = ui.allocate_exact_size(vec2(44.0, 8.0), Sense::hover());
    ui.painter().rect_filled(rect, 2.0, theme::BORDER);
    if let Some(p) = p.filter(|p| p.is_finite()) {
        let frac = (p / 100.0).clamp(0.0, 1.0) as f32;
        let mut fill = rect;
        fill.set_width(rect.width() * frac);
        let color = if !(10.0..=90.0).contains(&p) { theme::WARNING } else { theme::ACCENT };
        ui.painter().rect_filled(fill, 2.0, color);
    }
}

fn percentile_cell(ui: &mut egui::Ui, name: String, p: Option<f64>) {
    ui.horizontal(|ui| {
        let text = p.map_or("—".to_string(), |p| format!("{p:.0}"));
        let spoken = p.map_or("n/a".to_string(), |p| format!("{p:.0}"));
        named(ui, RichText::new(format!("{text:>3}")).monospace(), format!("{name} percentile {spoken}"));
        percentile_bar(ui, p);
    });
}

/// A metrics table row: name, value, percentile, formatter.
type MetricRow = (&'static str, Option<f64>, Option<f64>, fn(Market, f64) -> String);

fn metrics_table(ui: &mut egui::Ui, mc: &MarketCurve) {
    let m = mc.market;
    let code = m.code();
    ui.horizontal(|ui| {
        header(ui, "TERM STRUCTURE");
        let (text, color) = match mc.row.metrics.state {
            Some(s) => (
                state_label(s),
                match s {
                    CurveState::Backwardation => theme::WARNING,
                    CurveState::Contango => theme::ACCENT,
                    CurveState::Neutral => theme::MUTED,
                },
            ),
            None => ("—", theme::MUTED),
        };
        named(ui, RichText::new(text).strong().color(color), format!("{code} structure {text}"));
        let band = spread_text(m, mc.neutral_band);
        ui.label(RichText::new(format!("neutral band ±{band}")).small().color(theme::MUTED));
    });
    let TermStructureMetrics {
        m1_m2,
        m1_m3,
        m1_m6,
        m1_m12,
        slope_per_month,
        curvature_per_month,
        roll_yield_annual,
        ..
    } = mc.row.metrics;
    let TermStructurePercentiles {
        m1_m2: p12,
        m1_m3: p13,
        m1_m6: p16,
        m1_m12: p112,
        slope_per_month: ps,
        curvature_per_month: pc,
        roll_yield_annual: pr,
    } = mc.row.percentiles;
    let unit = if m.quoted_per_gallon() { "$/gal" } else { "$/bbl" };
    let rows: [MetricRow; 7] = [
        ("M1-M2", m1_m2, p12, spread_text),
        ("M1-M3", m1_m3, p13, spread_text),
        ("M1-M6", m1_m6, p16, spread_text),
        ("M1-M12", m1_m12, p112, spread_text),
        ("slope", slope_per_month, ps, per_month_text),
        ("curvature", curvature_per_month, pc, per_month_text),
        ("roll yield", roll_yield_annual, pr, |_, v| format!("{:+.1}%", v * 100.0)),
    ];
    egui::Grid::new("cs_metrics_grid").striped(true).spacing(vec2(10.0, 3.0)).show(ui, |ui| {
        for h in ["Metric", "Value", "Pctl"] {
            header(ui, h);
        }
        ui.end_row();
        for (name, value, pct, fmt) in rows {
            let unit_note = match name {
                "slope" | "curvature" => format!(" {unit}/mo"),
                "roll yield" => " /yr".to_string(),
                _ => String::new(),
            };
            ui.label(RichText::new(format!("{name}{unit_note}")).small());
            let (text, spoken) = match value {
                Some(v) => (fmt(m, v), fmt(m, v)),
                None if name == "roll yield" && m1_m2.is_some() => ("n/a (price <= 0)".into(), "n/a".into()),
                None => ("—".into(), "n/a".into()),
            };
            let r = named(
                ui,
                RichText::new(&text).monospace().color(theme::signed(value)),
                format!("{code} {name} {spoken}"),
            );
            if name == "roll yield" && value.is_none() {
                r.on_hover_text("The log roll yield needs positive M1 and M2 prices; see the M1-M2 spread.");
            }
            percentile_cell(ui, format!("{code} {name}"), pct);
            ui.end_row();
        }
    });
    ui.label(
        RichText::new(format!("percentiles of {} daily closes + today (lookback {})", mc.window_days, mc.lookback))
            .small()
            .color(theme::MUTED),
    );
}

fn spread_table(ui: &mut egui::Ui, mc: &MarketCurve) {
    let m = mc.market;
    let code = m.code();
    header(ui, "CALENDAR SPREADS");
    egui::Grid::new("cs_spread_grid").striped(true).spacing(vec2(10.0, 2.0)).show(ui, |ui| {
        for h in ["Pair", "Value", "Pctl", "1w chg"] {
            header(ui, h);
        }
        ui.end_row();
        for s in &mc.spreads {
            let pair = format!("M1-M{}", s.far);
            ui.label(RichText::new(&pair).monospace());
            let v = s.value.map_or("—".to_string(), |v| spread_text(m, v));
            let spoken = s.value.map_or("n/a".to_string(), |v| spread_text(m, v));
            named(
                ui,
                RichText::new(v).monospace().color(theme::signed(s.value)),
                format!("{code} spread {pair} {spoken}"),
            );
            percentile_cell(ui, format!("{code} spread {pair}"), s.percentile);
            let c = format::change(m, s.change_1w);
            let spoken = if s.change_1w.is_some() { c.clone() } else { "n/a".to_string() };
            named(
                ui,
                RichText::new(c).monospace().color(theme::signed(s.change_1w)),
                format!("{code} spread {pair} 1w change {spoken}"),
            );
            ui.end_row();
        }
    });
}

fn crack_section(ui: &mut egui::Ui, data: &CurveData, state: &mut CurvePanelState) {
    ui.horizontal_wrapped(|ui| {
        header(ui, "CRACK SPREADS");
        for k in CrackKind::ALL {
            let selected = state.crack == k;
            let r = ui.selectable_label(selected, RichText::new(k.label()).small());
            r.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, selected, format!("Crack {}", k.label()))
            });
            if r.clicked() {
                state.crack = k;
            }
        }
    });
    let kind = state.crack;
    let Some(c) = data.crack(kind) else {
        named(
            ui,
            RichText::new(format!("{} crack: needs CL, RB and HO curves on the same date", kind.label()))
                .color(theme::MUTED),
            format!("Crack chart {} unavailable", kind.label()),
        );
        return;
    };
    crack_chart(ui, c);
}

fn crack_chart(ui: &mut egui::Ui, c: &CrackSeries) {
    let label = c.kind.label();
    ui.horizontal_wrapped(|ui| {
        named(ui, RichText::new(format!("{label} crack vs seasonal")).strong(), format!("Crack chart {label}"));
        if let Some((d, v)) = c.latest {
            named(
                ui,
                RichText::new(format!("{v:.2} $/bbl")).monospace().strong().color(theme::signed(Some(v))),
                format!("{label} crack {v:.2}"),
            );
            ui.label(RichText::new(format!("{d}{}", origin_suffix(c.latest_origin))).small().color(theme::MUTED));
        }
    });
    let note = match &c.seasonal {
        Ok(s) => match s.current_week {
            Some(w) => {
                let band = match (w.lower, w.upper) {
                    (Some(lo), Some(hi)) => format!(", band {lo:.2} to {hi:.2}"),
                    _ => String::new(),
                };
                format!(
                    "week {}: mean {:.2} over {} year(s) of {}-{}{band}",
                    w.week, w.mean, w.years, s.first_year, s.last_year
                )
            }
            None => format!("{}-{} profile has no value for this week", s.first_year, s.last_year),
        },
        Err(why) => why.clone(),
    };
    named(ui, RichText::new(&note).small().color(theme::MUTED), format!("{label} seasonal {note}"));
    let year = c.year;
    Plot::new("cs_crack_chart")
        .height(LOWER_CHART_H)
        .legend(Legend::default())
        .show_background(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .grid_color(theme::BORDER)
        .y_axis_min_width(40.0)
        .include_x(1.0)
        .include_x(53.0)
        .x_axis_formatter(|mark, _| {
            let w = mark.value.round();
            if (mark.value - w).abs() > 1e-6 || !(1.0..=53.0).contains(&w) { String::new() } else { format!("W{w:.0}") }
        })
        .show(ui, |pui| {
            if let Ok(s) = &c.seasonal {
                let n = s.band_weeks.len().min(s.lower.len()).min(s.upper.len());
                if n > 1 {
                    pui.add(
                        FilledArea::new(
                            format!("{}-{} band", s.first_year, s.last_year),
                            &s.band_weeks[..n],
                            &s.lower[..n],
                            &s.upper[..n],
                        )
                        .fill_color(theme::faded(theme::ACCENT, 0.18)),
                    );
                }
                pui.line(
                    Line::new(format!("{}-{} mean", s.first_year, s.last_year), plot_points(&s.mean))
                        .color(theme::faded(theme::ACCENT, 0.7))
                        .style(LineStyle::dashed_loose())
                        .width(1.2),
                );
            }
            pui.line(
                Line::new(format!("{}", year - 1), plot_points(&c.previous_year))
                    .color(theme::faded(theme::MUTED, 0.8))
                    .width(1.0),
            );
            pui.line(Line::new(format!("{year}"), plot_points(&c.current_year)).color(theme::WARNING).width(2.0));
        });
}

fn wti_brent_section(ui: &mut egui::Ui, wb: Option<&WtiBrentSeries>) {
    header(ui, "WTI-BRENT");
    let Some(wb) = wb else {
        ui.label(RichText::new("Needs CL and BZ curves on the same date, or monthly history").color(theme::MUTED));
        return;
    };
    ui.horizontal_wrapped(|ui| {
        if let Some((d, s, arb)) = wb.latest {
            named(
                ui,
                RichText::new(format!("WTI-Brent {s:.2}")).monospace().strong().color(theme::signed(Some(s))),
                format!("WTI-Brent {s:.2}"),
            );
            named(
                ui,
                RichText::new(format!("Brent-WTI arb {arb:.2}")).monospace().color(theme::signed(Some(arb))),
                format!("Brent-WTI arb {arb:.2}"),
            );
            ui.label(
                RichText::new(format!("{d}, after {:.2} $/bbl transport", wb.transport_cost_usd_bbl))
                    .small()
                    .color(theme::MUTED),
            );
        }
    });
    let segment_color = |o: DataOrigin| match o {
        DataOrigin::Feed => theme::ACCENT,
        DataOrigin::SimulatedHistory => theme::WARNING,
        DataOrigin::FileHistory => theme::TEXT,
    };
    Plot::new("cs_wti_brent_chart")
        .height(LOWER_CHART_H)
        .legend(Legend::default())
        .show_background(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .grid_color(theme::BORDER)
        .y_axis_min_width(40.0)
        .x_axis_formatter(|mark, _| date_from_days(mark.value).map_or(String::new(), |d| d.format("%Y-%m").to_string()))
        .show(ui, |pui| {
            for s in &wb.segments {
                let color = segment_color(s.origin);
                pui.line(
                    Line::new(format!("WTI-Brent, {}", s.label), plot_points(&s.wti_brent)).color(color).width(1.5),
                );
                pui.line(
                    Line::new(format!("Arb, {}", s.label), plot_points(&s.arb))
                        .color(theme::faded(color, 0.6))
                        .style(LineStyle::dashed_dense())
                        .width(1.0),
                );
            }
        });
}

/// A signed figure in thousands with separators: `+1,234`, `-56`.
fn signed_thousands(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "+" };
    format!("{sign}{}", format::volume(v.abs().round() as u64))
}

fn product_name(p: Product) -> &'static str {
    match p {
        Product::Crude => "Crude",
        Product::Gasoline => "Gasoline",
        Product::Distillate => "Distillate",
    }
}

fn product_color(p: Product) -> Color32 {
    match p {
        Product::Crude => theme::ACCENT,
        Product::Gasoline => theme::WARNING,
        Product::Distillate => theme::PROFIT,
    }
}

fn inventory_section(ui: &mut egui::Ui, inv: &InventorySeries) {
    header(ui, "INVENTORY SURPRISES (actual - consensus, kbbl)");
    let Some((last, origin)) = inv.weeks.last() else {
        ui.label(RichText::new("No inventory report yet").color(theme::MUTED));
        return;
    };
    ui.horizontal(|ui| {
        named(
            ui,
            RichText::new(format!("week ending {}", last.week_ending)).small(),
            format!("Inventory week ending {}", last.week_ending),
        );
        if *origin != DataOrigin::Feed {
            ui.label(RichText::new(origin_suffix(*origin)).small().color(theme::MUTED));
        }
        let n = inv.weeks.len();
        named(
            ui,
            RichText::new(format!("{n} of {} weeks", inv.total_weeks)).small().color(theme::MUTED),
            format!("Inventory surprise bars {n} weeks"),
        );
    });
    let charts: Vec<BarChart> = Product::ALL
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let offset = (k as f64 - 1.0) * 2.0;
            let bars = inv
                .weeks
                .iter()
                .filter_map(|(s, _)| {
                    s.product(p).surprise_kbbl.map(|v| Bar::new(days_since_epoch(s.week_ending) + offset, v).width(1.8))
                })
                .collect();
            BarChart::new(format!("{} surprise", product_name(p)), bars).color(product_color(p))
        })
        .collect();
    Plot::new("cs_inventory_chart")
        .height(LOWER_CHART_H - 40.0)
        .legend(Legend::default())
        .show_background(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .grid_color(theme::BORDER)
        .y_axis_min_width(48.0)
        .x_axis_formatter(|mark, _| date_from_days(mark.value).map_or(String::new(), |d| d.format("%m-%d").to_string()))
        .show(ui, |pui| {
            for c in charts {
                pui.bar_chart(c);
            }
        });
    egui::Grid::new("cs_inventory_grid").striped(true).spacing(vec2(10.0, 2.0)).show(ui, |ui| {
        for h in ["Product", "Surprise", "z", "vs 5y avg", "in 5y range"] {
            header(ui, h);
        }
        ui.end_row();
        for p in Product::ALL {
            inventory_row(ui, p, last.product(p));
            ui.end_row();
        }
    });
}

fn inventory_row(ui: &mut egui::Ui, p: Product, a: &ProductAnalytics) {
    let name = product_name(p);
    ui.label(RichText::new(name).small().color(product_color(p)));
    let s = a.surprise_kbbl.map_or("—".to_string(), signed_thousands);
    let spoken = a.surprise_kbbl.map_or("n/a".to_string(), signed_thousands);
    named(
        ui,
        RichText::new(s).monospace().color(theme::signed(a.surprise_kbbl.map(|v| -v))),
        format!("{name} surprise {spoken}"),
    );
    let z = a.surprise_z.map_or("—".to_string(), |z| format!("{z:+.2}"));
    let spoken = a.surprise_z.map_or("n/a".to_string(), |z| format!("{z:+.2}"));
    named(ui, RichText::new(z).monospace(), format!("{name} surprise z {spoken}"));
    let (vs, pos) = match &a.seasonal {
        Some(r) => (
            signed_thousands(r.vs_avg_kbbl),
            r.position_pct.map_or("—".to_string(), |p| format!("{p:.0}% of {}y", r.years)),
        ),
        None => ("—".to_string(), "—".to_string()),
    };
    named(ui, RichText::new(&vs).monospace(), format!("{name} vs 5-year average {vs}"));
    named(ui, RichText::new(&pos).small(), format!("{name} 5-year range position {pos}"));
}

/// A series for egui_plot (the figures are small: tenors, weeks, a few years of days).
fn plot_points(points: &[ChartPoint]) -> PlotPoints<'static> {
    PlotPoints::Owned(points.iter().map(|p| egui_plot::PlotPoint::new(p.x, p.y)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_formatted_per_market() {
        assert_eq!(spread_text(Market::Wti, -0.4249), "-0.42");
        assert_eq!(spread_text(Market::Rbob, 0.01234), "0.0123");
        assert_eq!(per_month_text(Market::Wti, 0.051234), "0.0512");
        assert_eq!(signed_thousands(-1234.4), "-1,234");
        assert_eq!(signed_thousands(56.0), "+56");
        assert_eq!(state_label(CurveState::Contango), "Contango");
        let s = CurvePanelState::default();
        assert_eq!((s.market, s.crack), (Market::Wti, CrackKind::ThreeTwoOne));
    }
}
