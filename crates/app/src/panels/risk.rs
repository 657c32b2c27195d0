//! The Risk panel: what the risk worker last computed for the current book — which
//! positions and prices the figures are for and when they were computed, VaR gauges against
//! the VaR limit, VaR/ES by method × confidence × horizon, component VaR, the Monte Carlo
//! P&L histogram with VaR and ES marked, the VaR backtest (exceptions, Kupiec p-value,
//! Basel zone), stress tests with ±% sliders, limit utilisation,
//! drawdown, Greeks, the limits editor and the limit alerts. Everything comes from the
//! [`RiskView`]; the panel only formats and returns the user's requests as
//! [`RiskCommand`]s.

use std::collections::BTreeMap;

use crude_model::{Market, Timestamp};
use crude_risk::{LimitUtilisation, RiskFigure, RiskLimits, Sliders, TrafficLight, Zone};
use egui::{RichText, vec2};
use egui_plot::{Bar, BarChart, Legend, Plot, VLine};
use serde::{Deserialize, Serialize};

use crate::format;
use crate::panels::alerts::{self, AlertsUiState, zone_color};
use crate::theme::{self, labeled};
use crude_kernel::services::risk::{RiskCommand, RiskComputed, RiskStatus, RiskView};
use crude_risk::{amount, limit_amount, percent, zone_name};

/// Range of the price-shift sliders, percent.
pub const SHIFT_RANGE_PCT: f64 = 50.0;
/// Range of the volatility-shift slider, percent (down to −90 %, up to +200 %).
pub const VOL_SHIFT_RANGE_PCT: (f64, f64) = (-90.0, 200.0);

/// Positions named in the header (the rest are counted).
const MAX_LISTED_POSITIONS: usize = 8;

/// What the user set on the Risk panel (persisted).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskPanelState {
    /// Price shift per market in [`Market::ALL`] order, percent.
    pub shift_pct: [f64; 4],
    /// Volatility shift, percent.
    pub vol_shift_pct: f64,
}

impl RiskPanelState {
    /// The sliders as the engine takes them.
    pub fn sliders(&self) -> Sliders {
        Sliders { shift_pct: self.shift_pct, vol_shift_pct: self.vol_shift_pct }
    }
}

/// Per-session state of the Risk panel (not persisted): the limits being edited, their
/// errors, and what the alert banner has dismissed.
#[derive(Debug, Clone, Default)]
pub struct RiskCache {
    /// `(key, text)` per editable limit, in the limits' order.
    edits: Vec<(String, String)>,
    /// The limits generation the edits were loaded from.
    loaded_generation: u64,
    /// Error per limit key, from the last Save.
    field_errors: BTreeMap<String, String>,
    /// An error not tied to one field.
    form_error: Option<String>,
    /// The alert banner's dismissal.
    pub alerts: AlertsUiState,
    /// The sliders were sent once (so a restored state reaches the worker).
    sliders_sent: bool,
}

fn section(ui: &mut egui::Ui, text: &str) {
    ui.add_space(8.0);
    ui.label(RichText::new(text).color(theme::MUTED).small().strong());
}

/// `99%`, `97.5%`.
pub fn confidence_label(c: f64) -> String {
    let p = c * 100.0;
    if (p - p.round()).abs() < 1e-9 { format!("{p:.0}%") } else { format!("{p:.1}%") }
}

/// A fraction of NAV as a percentage with two decimals: `1.23%`.
pub fn pct_nav(f: f64) -> String {
    if f.is_finite() { format!("{:.2}%", 100.0 * f) } else { "—".into() }
}

/// A number with `decimals` decimals, or an em dash.
fn num(v: f64, decimals: usize) -> String {
    if v.is_finite() { format!("{v:.decimals$}") } else { "—".into() }
}

/// A Kupiec p-value: two decimals, or scientific below 0.01 (`6.7e-5`).
pub fn p_value_label(p: f64) -> String {
    if !p.is_finite() {
        "—".into()
    } else if p >= 0.01 || p == 0.0 {
        format!("{p:.2}")
    } else {
        format!("{p:.1e}")
    }
}

/// A Basel zone's name and colour.
pub fn traffic_light_style(zone: TrafficLight) -> (&'static str, egui::Color32) {
    match zone {
        TrafficLight::Green => ("GREEN", theme::PROFIT),
        TrafficLight::Yellow => ("YELLOW", theme::WARNING),
        TrafficLight::Red => ("RED", theme::LOSS),
    }
}

/// The three VaR methods as the panel names them, with their figures.
fn methods(c: &RiskComputed) -> [(&'static str, &[RiskFigure]); 3] {
    let r = &c.snapshot.report;
    [("parametric", &r.parametric), ("historical", &r.historical), ("monte carlo", &r.monte_carlo)]
}

fn figure(figs: &[RiskFigure], confidence: f64, horizon_days: u32) -> Option<&RiskFigure> {
    figs.iter().find(|f| (f.confidence - confidence).abs() < 1e-9 && f.horizon_days == horizon_days)
}

/// Draw the Risk panel. Returns what the user asked the risk worker to do.
pub fn show(
    ui: &mut egui::Ui,
    view: &RiskView,
    state: &mut RiskPanelState,
    cache: &mut RiskCache,
    wall_now: Timestamp,
) -> Vec<RiskCommand> {
    let mut out = Vec::new();
    if !cache.sliders_sent && view.status.is_some() {
        cache.sliders_sent = true;
        if state.sliders() != Sliders::default() {
            out.push(RiskCommand::SetSliders(state.sliders()));
        }
    }
    egui::ScrollArea::vertical().id_salt("risk_scroll").auto_shrink([false, false]).show(ui, |ui| {
        header(ui, view, wall_now);
        let latest = view.latest.as_ref();
        let available = matches!(view.status, Some(RiskStatus::Ready | RiskStatus::WaitingForBook));
        ui.columns(2, |cols| {
            let (left, right) = cols.split_at_mut(1);
            let (left, right) = (&mut left[0], &mut right[0]);
            if let Some(c) = latest {
                if c.open_positions == 0 {
                    section(left, "VALUE AT RISK");
                    labeled(
                        left,
                        RichText::new("No open positions: VaR, stress and Greeks are zero").color(theme::MUTED),
                        "Risk no open positions".into(),
                    );
                } else {
                    gauges(left, c, view.limits.as_ref());
                    var_table(left, c);
                    components(left, c);
                    histogram(left, c);
                    backtest(left, c);
                }
                stress(right, c, state, &mut out);
                limit_bars(right, c);
                drawdown(right, c);
                if c.open_positions > 0 {
                    greeks(right, c);
                }
            } else if available {
                section(left, "VALUE AT RISK");
                left.label(RichText::new("Waiting for the first calculation").color(theme::MUTED));
            }
            limits_editor(right, view, cache, &mut out);
            section(right, "LIMIT ALERTS");
            alerts::list(right, &view.alerts);
        });
    });
    out
}

fn header(ui: &mut egui::Ui, view: &RiskView, wall_now: Timestamp) {
    let status = match &view.status {
        None | Some(RiskStatus::Starting) => Some(("Risk engine starting".to_string(), theme::WARNING)),
        Some(RiskStatus::LoadingHistory) => Some(("Building the return history".to_string(), theme::WARNING)),
        Some(RiskStatus::WaitingForBook) => {
            Some(("Waiting for the positions from the trading engine".to_string(), theme::WARNING))
        }
        Some(RiskStatus::Ready) => None,
        Some(RiskStatus::Unavailable(why)) => Some((format!("VaR unavailable: {why}"), theme::LOSS)),
    };
    if let Some((text, color)) = status {
        labeled(ui, RichText::new(&text).color(color).strong(), format!("Risk status {text}"));
    }
    if let Some(h) = &view.history {
        let color = if h.simulated { theme::WARNING } else { theme::MUTED };
        let r = labeled(ui, RichText::new(&h.description).color(color), format!("Risk source {}", h.description));
        if h.simulated {
            r.on_hover_text("Simulated by the market simulator: not real market history");
        }
    }
    if let Some(e) = &view.error {
        labeled(ui, RichText::new(e).color(theme::LOSS), format!("Risk error {e}"));
    }
    let Some(c) = &view.latest else { return };
    let s = &c.snapshot;
    let positions = if c.open_positions == 0 {
        "no open positions".to_string()
    } else {
        let mut list: Vec<String> =
            s.positions.iter().take(MAX_LISTED_POSITIONS).map(|p| format!("{} {:+}", p.label(), p.qty)).collect();
        if s.positions.len() > MAX_LISTED_POSITIONS {
            list.push(format!("{} more", s.positions.len() - MAX_LISTED_POSITIONS));
        }
        format!("{} open positions ({})", c.open_positions, list.join(", "))
    };
    let prices = c.prices_as_of.map_or("no prices".to_string(), |t| format!("prices of {}", format::exchange_time(t)));
    let age = format::age(wall_now.secs_since(c.computed_wall));
    let text = format!("Figures for {positions} at {prices}; computed {age} ago in {:.0} ms", s.compute_ms);
    labeled(ui, RichText::new(&text).monospace(), format!("Risk figures for {positions}"));
    if !c.unpriced.is_empty() {
        let list: Vec<String> = c.unpriced.iter().map(ToString::to_string).collect();
        let text = format!("Left out, no price yet: {}", list.join(", "));
        labeled(ui, RichText::new(&text).color(theme::WARNING), format!("Risk unpriced {}", list.join(", ")));
    }
    if s.report.covariance_repaired {
        labeled(
            ui,
            RichText::new("covariance repaired to nearest PD").color(theme::WARNING),
            "Risk covariance repaired to nearest PD".into(),
        );
    }
    if !s.var_excluded.is_empty() {
        for (contract, why) in &s.var_excluded {
            let text = format!("{contract} left out of VaR/ES: {why}");
            labeled(ui, RichText::new(&text).color(theme::WARNING), format!("Risk excluded {text}"));
        }
    }
    if !s.proxied.is_empty() {
        let list: Vec<String> = s.proxied.iter().map(|(a, b)| format!("{a} priced off {b}")).collect();
        let text = format!("Proxied returns: {}", list.join(", "));
        labeled(ui, RichText::new(&text).color(theme::WARNING), format!("Risk proxied {}", list.join(", ")));
    }
    let window = s.report.observations;
    ui.label(
        RichText::new(format!(
            "NAV {}  ·  window {window} days  ·  net {}  ·  gross {}  ·  margin {}",
            amount(s.nav_usd),
            amount(s.report.net_exposure_usd),
            amount(s.report.gross_exposure_usd),
            amount(s.margin_usd)
        ))
        .color(theme::MUTED)
        .small(),
    );
}

/// The VaR limit's utilisation entry (judged on the parametric VaR at the limit's
/// confidence and horizon).
fn var_limit(c: &RiskComputed) -> Option<&LimitUtilisation> {
    c.snapshot.limits.iter().find(|u| u.key == "var")
}

fn gauges(ui: &mut egui::Ui, c: &RiskComputed, limits: Option<&RiskLimits>) {
    let (confidence, horizon) = limits.map_or((0.99, 1), |l| (l.var.confidence, l.var.horizon_days));
    let cl = confidence_label(confidence);
    section(ui, &format!("VAR {cl} {horizon} DAY VS LIMIT"));
    let limit = var_limit(c);
    ui.horizontal(|ui| {
        for (name, figs) in methods(c) {
            egui::Frame::new().fill(theme::SURFACE).inner_margin(6.0).corner_radius(4.0).show(ui, |ui| {
                ui.set_width(190.0);
                ui.vertical(|ui| {
                    ui.label(RichText::new(name).color(theme::MUTED).small().strong());
                    let Some(f) = figure(figs, confidence, horizon) else {
                        ui.label(RichText::new(format!("no {cl} {horizon}d figure")).color(theme::MUTED));
                        return;
                    };
                    let v = amount(f.var_usd);
                    labeled(
                        ui,
                        RichText::new(&v).monospace().size(16.0),
                        format!("Gauge VaR {cl} {horizon}d {name} {v}"),
                    );
                    match limit {
                        Some(l) if l.limit > 0.0 => {
                            let u = f.var_usd / l.limit;
                            let zone = Zone::of(u, l.warning, l.critical);
                            let color = zone_color(zone);
                            let text = format!("{} of {}", percent(u), amount(l.limit));
                            theme::bar(ui, u, color, 170.0, Some(&text));
                            labeled(
                                ui,
                                RichText::new(zone_name(zone)).strong().color(color),
                                format!("Gauge {name} {} {}", percent(u), zone_name(zone)),
                            );
                        }
                        _ => {
                            ui.label(RichText::new("no VaR limit").color(theme::MUTED).small());
                        }
                    }
                });
            });
        }
    });
}

fn var_table(ui: &mut egui::Ui, c: &RiskComputed) {
    section(ui, "VAR AND EXPECTED SHORTFALL (USD, % NAV)");
    egui::Grid::new("risk_var_grid").striped(true).spacing(vec2(14.0, 2.0)).show(ui, |ui| {
        for h in ["Method", "Conf.", "Horizon", "VaR", "VaR % NAV", "ES", "ES % NAV"] {
            ui.label(RichText::new(h).color(theme::MUTED).small().strong());
        }
        ui.end_row();
        for (name, figs) in methods(c) {
            for f in figs {
                let cl = confidence_label(f.confidence);
                let h = format!("{}d", f.horizon_days);
                ui.label(name);
                ui.label(RichText::new(&cl).monospace());
                ui.label(RichText::new(&h).monospace());
                let key = format!("{cl} {h} {name}");
                let v = amount(f.var_usd);
                labeled(ui, RichText::new(&v).monospace(), format!("VaR {key} {v}"));
                let v = pct_nav(f.var_pct_nav);
                labeled(ui, RichText::new(&v).monospace(), format!("VaR {key} NAV {v}"));
                let v = amount(f.es_usd);
                labeled(ui, RichText::new(&v).monospace(), format!("ES {key} {v}"));
                let v = pct_nav(f.es_pct_nav);
                labeled(ui, RichText::new(&v).monospace(), format!("ES {key} NAV {v}"));
                ui.end_row();
            }
        }
    });
}

fn components(ui: &mut egui::Ui, c: &RiskComputed) {
    section(ui, "COMPONENT VAR (PARAMETRIC 99% 1D)");
    let rows: Vec<_> = c.snapshot.report.components.iter().filter(|x| (x.confidence - 0.99).abs() < 1e-9).collect();
    if rows.is_empty() {
        ui.label(RichText::new("No components").color(theme::MUTED));
        return;
    }
    egui::Grid::new("risk_component_grid").striped(true).spacing(vec2(14.0, 2.0)).show(ui, |ui| {
        for h in ["Contract", "Exposure", "Marginal / contract", "Component", "Share"] {
            ui.label(RichText::new(h).color(theme::MUTED).small().strong());
        }
        ui.end_row();
        let mut total = 0.0;
        for x in rows {
            let k = x.contract.to_string();
            ui.label(RichText::new(&k).monospace().strong());
            ui.label(RichText::new(amount(x.exposure_usd)).monospace());
            ui.label(RichText::new(amount(x.marginal_var_per_contract_usd)).monospace());
            let v = amount(x.component_var_usd);
            labeled(ui, RichText::new(&v).monospace(), format!("Component VaR {k} {v}"));
            let v = percent(x.share);
            labeled(ui, RichText::new(&v).monospace(), format!("Component share {k} {v}"));
            total += x.component_var_usd;
            ui.end_row();
        }
        ui.label(RichText::new("Total").strong());
        ui.label("");
        ui.label("");
        let v = amount(total);
        labeled(ui, RichText::new(&v).monospace().strong(), format!("Component VaR total {v}"));
        ui.end_row();
    });
}

fn histogram(ui: &mut egui::Ui, c: &RiskComputed) {
    let h = &c.snapshot.histogram;
    let cl = confidence_label(h.confidence);
    section(ui, &format!("MONTE CARLO {}-DAY P&L DISTRIBUTION", h.horizon_days));
    let text = format!("VaR {cl} {}  ·  ES {cl} {}", amount(h.var_usd), amount(h.es_usd));
    labeled(ui, RichText::new(&text).monospace(), format!("Histogram {text}"));
    if h.counts.is_empty() || h.edges_usd.len() != h.counts.len() + 1 {
        ui.label(RichText::new("No distribution").color(theme::MUTED));
        return;
    }
    let bars: Vec<Bar> = h
        .counts
        .iter()
        .zip(h.edges_usd.windows(2))
        .map(|(&n, e)| {
            let mid = 0.5 * (e[0] + e[1]);
            let color = if mid < -h.var_usd { theme::LOSS } else { theme::faded(theme::ACCENT, 0.8) };
            Bar::new(mid, n as f64).width((e[1] - e[0]).abs()).fill(color)
        })
        .collect();
    Plot::new("risk_mc_histogram")
        .height(200.0)
        .legend(Legend::default())
        .show_background(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .grid_color(theme::BORDER)
        .x_axis_formatter(|m, _| amount(m.value))
        .y_axis_min_width(40.0)
        .show(ui, |pui| {
            pui.bar_chart(BarChart::new("P&L paths", bars).color(theme::ACCENT));
            pui.vline(VLine::new(format!("VaR {cl}"), -h.var_usd).color(theme::WARNING).width(2.0));
            pui.vline(VLine::new(format!("ES {cl}"), -h.es_usd).color(theme::LOSS).width(2.0));
        });
}

fn backtest(ui: &mut egui::Ui, c: &RiskComputed) {
    section(ui, "VAR BACKTEST");
    let Some(b) = &c.snapshot.backtest else {
        let text = "Backtest unavailable: needs the VaR window plus at least 100 days of return history, and a position in VaR";
        labeled(ui, RichText::new(text).color(theme::MUTED), format!("Backtest {text}"));
        return;
    };
    let cl = confidence_label(b.confidence);
    let (zone, color) = traffic_light_style(b.zone);
    egui::Grid::new("risk_backtest_grid").spacing(vec2(14.0, 2.0)).show(ui, |ui| {
        ui.label(RichText::new(format!("Exceptions of the {cl} 1d parametric VaR")).color(theme::MUTED));
        let text = format!("{} of {} (expected {:.1})", b.exceptions, b.days, b.expected_exceptions);
        labeled(ui, RichText::new(&text).monospace(), format!("Backtest exceptions {text}"));
        ui.end_row();
        ui.label(RichText::new("Kupiec POF p-value").color(theme::MUTED));
        let p = p_value_label(b.kupiec.p_value);
        labeled(ui, RichText::new(&p).monospace(), format!("Backtest Kupiec p {p}"));
        ui.end_row();
        ui.label(RichText::new("Basel zone").color(theme::MUTED));
        labeled(ui, RichText::new(zone).strong().color(color), format!("Backtest zone {zone}"));
        ui.end_row();
    });
    ui.label(RichText::new(&b.method).color(theme::MUTED).small());
}

fn stress(ui: &mut egui::Ui, c: &RiskComputed, state: &mut RiskPanelState, out: &mut Vec<RiskCommand>) {
    section(ui, "STRESS TESTS");
    egui::Grid::new("risk_stress_grid").striped(true).spacing(vec2(14.0, 2.0)).show(ui, |ui| {
        for h in ["Scenario", "P&L", "Used", "Status"] {
            ui.label(RichText::new(h).color(theme::MUTED).small().strong());
        }
        ui.end_row();
        for s in &c.snapshot.stress {
            ui.label(&s.scenario);
            let v = amount(s.pnl_usd);
            labeled(
                ui,
                RichText::new(&v).monospace().color(theme::signed(Some(s.pnl_usd))),
                format!("Stress {} {v}", s.scenario),
            );
            ui.label(RichText::new(percent(s.utilisation)).monospace());
            let z = zone_name(s.zone);
            labeled(
                ui,
                RichText::new(z).strong().color(zone_color(s.zone)),
                format!("Stress {} status {z}", s.scenario),
            );
            ui.end_row();
        }
    });
    ui.add_space(4.0);
    let mut send = false;
    egui::Grid::new("risk_slider_grid").spacing(vec2(10.0, 2.0)).show(ui, |ui| {
        for (i, m) in Market::ALL.iter().enumerate() {
            let l = ui.label(RichText::new(format!("{} shift", m.code())).monospace());
            let r = ui
                .add(
                    egui::Slider::new(&mut state.shift_pct[i], -SHIFT_RANGE_PCT..=SHIFT_RANGE_PCT)
                        .suffix("%")
                        .step_by(1.0),
                )
                .labelled_by(l.id);
            send |= r.drag_stopped() || (r.changed() && !r.dragged());
            ui.end_row();
        }
        let l = ui.label(RichText::new("Vol shift").monospace());
        let r = ui
            .add(
                egui::Slider::new(&mut state.vol_shift_pct, VOL_SHIFT_RANGE_PCT.0..=VOL_SHIFT_RANGE_PCT.1)
                    .suffix("%")
                    .step_by(1.0),
            )
            .labelled_by(l.id);
        send |= r.drag_stopped() || (r.changed() && !r.dragged());
        ui.end_row();
    });
    if ui.button("Reset sliders").clicked() {
        state.shift_pct = [0.0; 4];
        state.vol_shift_pct = 0.0;
        send = true;
    }
    if send {
        out.push(RiskCommand::SetSliders(state.sliders()));
    }
}

fn utilisation_rows(ui: &mut egui::Ui, id: &str, rows: &[LimitUtilisation]) {
    egui::Grid::new(id).striped(true).spacing(vec2(12.0, 3.0)).show(ui, |ui| {
        for u in rows {
            ui.label(&u.label);
            let v = format!("{} / {}", limit_amount(&u.key, u.value), limit_amount(&u.key, u.limit));
            ui.label(RichText::new(v).monospace());
            let color = zone_color(u.zone);
            theme::bar(ui, u.utilisation, color, 160.0, Some(&percent(u.utilisation)));
            let z = zone_name(u.zone);
            labeled(
                ui,
                RichText::new(z).strong().color(color),
                format!("Limit {} {} {z}", u.key, percent(u.utilisation)),
            );
            ui.end_row();
        }
    });
}

fn limit_bars(ui: &mut egui::Ui, c: &RiskComputed) {
    section(ui, "LIMIT UTILISATION");
    if c.snapshot.limits.is_empty() {
        ui.label(RichText::new("No limits apply").color(theme::MUTED));
        return;
    }
    utilisation_rows(ui, "risk_limit_grid", &c.snapshot.limits);
}

fn drawdown(ui: &mut egui::Ui, c: &RiskComputed) {
    section(ui, "DRAWDOWN");
    let d = &c.snapshot.drawdown;
    ui.horizontal(|ui| {
        for (name, v) in [("intraday", d.intraday_usd), ("daily", d.daily_usd), ("weekly", d.weekly_usd)] {
            let s = amount(v);
            labeled(ui, RichText::new(format!("{name} {s}")).monospace(), format!("Drawdown {name} {s}"));
            ui.separator();
        }
    });
    if !d.limits.is_empty() {
        utilisation_rows(ui, "risk_drawdown_grid", &d.limits);
    }
}

fn greeks(ui: &mut egui::Ui, c: &RiskComputed) {
    section(ui, "GREEKS (DELTA IN CONTRACTS; USD: GAMMA PER 1%, VEGA PER VOL POINT, THETA PER DAY, RHO PER 1%)");
    let g = &c.snapshot.greeks;
    egui::Grid::new("risk_greeks_grid").striped(true).spacing(vec2(12.0, 2.0)).show(ui, |ui| {
        for h in ["Contract", "Futures", "Options", "Delta", "Delta USD", "Gamma", "Vega", "Theta", "Rho"] {
            ui.label(RichText::new(h).color(theme::MUTED).small().strong());
        }
        ui.end_row();
        for r in &g.rows {
            let k = r.contract.to_string();
            ui.label(RichText::new(&k).monospace().strong());
            ui.label(RichText::new(format!("{:+}", r.qty)).monospace());
            ui.label(RichText::new(format!("{:+}", r.option_qty)).monospace());
            let d = num(r.delta, 2);
            labeled(ui, RichText::new(&d).monospace(), format!("Greeks {k} delta {d}"));
            for v in [r.delta_usd, r.gamma, r.vega, r.theta, r.rho] {
                ui.label(RichText::new(amount(v)).monospace());
            }
            ui.end_row();
        }
        let t = &g.total;
        ui.label(RichText::new("Total").strong());
        ui.label("");
        ui.label("");
        let d = num(t.delta, 2);
        labeled(ui, RichText::new(&d).monospace().strong(), format!("Greeks total delta {d}"));
        for v in [t.delta_usd, t.gamma, t.vega, t.theta, t.rho] {
            ui.label(RichText::new(amount(v)).monospace().strong());
        }
        ui.end_row();
    });
}

/// Parses the edits into a copy of `limits`; errors by key.
fn edited_limits(limits: &RiskLimits, edits: &[(String, String)]) -> Result<RiskLimits, BTreeMap<String, String>> {
    let mut next = limits.clone();
    let mut errors = BTreeMap::new();
    for (key, text) in edits {
        let t = text.trim().replace(',', "");
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => {
                if let Err(e) = next.set(key, v) {
                    errors.insert(key.clone(), e.to_string());
                }
            }
            _ => {
                errors.insert(
                    key.clone(),
                    format!("{key}: '{}' is not a number; enter a plain number such as 250000", text.trim()),
                );
            }
        }
    }
    if errors.is_empty() { Ok(next) } else { Err(errors) }
}

/// The editable key an error belongs to, if any: the field itself (editor errors name the
/// key) or `entry.field` (file validation errors name the section and the field).
fn error_key(edits: &[(String, String)], field: &str, entry: &str) -> Option<String> {
    let dotted = format!("{entry}.{field}");
    edits.iter().map(|(k, _)| k).find(|k| k.as_str() == field || **k == dotted).cloned()
}

fn limits_editor(ui: &mut egui::Ui, view: &RiskView, cache: &mut RiskCache, out: &mut Vec<RiskCommand>) {
    section(ui, "LIMITS");
    let Some(limits) = &view.limits else {
        ui.label(RichText::new("Limits not loaded yet").color(theme::MUTED));
        return;
    };
    if cache.loaded_generation != view.limits_generation || cache.edits.is_empty() {
        cache.edits = limits.editable().into_iter().map(|(k, v)| (k, format!("{v}"))).collect();
        cache.loaded_generation = view.limits_generation;
        cache.field_errors.clear();
        cache.form_error = None;
    }
    // The worker's refusal of the last save, next to its field.
    let refused = match &view.save_result {
        Some(Err(e)) => Some((error_key(&cache.edits, &e.field, &e.entry), e.to_string())),
        _ => None,
    };
    egui::Grid::new("risk_limits_editor").striped(true).spacing(vec2(10.0, 3.0)).show(ui, |ui| {
        for (key, text) in &mut cache.edits {
            let l = ui.label(RichText::new(key.as_str()).monospace());
            ui.add(egui::TextEdit::singleline(text).desired_width(120.0).font(egui::TextStyle::Monospace))
                .labelled_by(l.id);
            let err = cache.field_errors.get(key.as_str()).cloned().or_else(|| match &refused {
                Some((Some(k), msg)) if k == key => Some(msg.clone()),
                _ => None,
            });
            match err {
                Some(e) => {
                    labeled(ui, RichText::new(&e).color(theme::LOSS), format!("Limit error {e}"));
                }
                None => {
                    ui.label("");
                }
            }
            ui.end_row();
        }
    });
    ui.horizontal(|ui| {
        if ui.button(RichText::new("Save limits").strong()).clicked() {
            cache.form_error = None;
            match edited_limits(limits, &cache.edits) {
                Ok(next) => match next.validate("risk limits") {
                    Ok(()) => {
                        cache.field_errors.clear();
                        out.push(RiskCommand::SaveLimits(Box::new(next)));
                    }
                    Err(e) => {
                        cache.field_errors.clear();
                        match error_key(&cache.edits, &e.field, &e.entry) {
                            Some(k) => {
                                cache.field_errors.insert(k, e.to_string());
                            }
                            None => cache.form_error = Some(e.to_string()),
                        }
                    }
                },
                Err(errors) => cache.field_errors = errors,
            }
        }
        if ui.button("Discard edits").clicked() {
            cache.edits.clear();
        }
        if ui
            .button("Reload limits file")
            .on_hover_text("Re-read the limits file; an invalid file is refused and the limits in force stay")
            .clicked()
        {
            out.push(RiskCommand::ReloadLimits);
        }
    });
    if let Some(e) = &cache.form_error {
        labeled(ui, RichText::new(e).color(theme::LOSS), format!("Limit error {e}"));
    }
    match &view.save_result {
        Some(Ok(details)) => {
            labeled(ui, RichText::new(details).color(theme::PROFIT).small(), format!("Limits saved {details}"));
        }
        Some(Err(e)) if refused.as_ref().is_some_and(|(k, _)| k.is_none()) => {
            let e = e.to_string();
            labeled(ui, RichText::new(&e).color(theme::LOSS), format!("Limit error {e}"));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(confidence_label(0.99), "99%");
        assert_eq!(confidence_label(0.975), "97.5%");
        assert_eq!(pct_nav(0.012345), "1.23%");
        assert_eq!(num(f64::NAN, 2), "—");
        assert_eq!(p_value_label(0.7512), "0.75");
        assert_eq!(p_value_label(6.711e-5), "6.7e-5");
        assert_eq!(p_value_label(0.0), "0.00");
        assert_eq!(traffic_light_style(TrafficLight::Red).0, "RED");
    }
}
