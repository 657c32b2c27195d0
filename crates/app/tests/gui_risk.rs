//! The Risk panel and the limit alerts driven headlessly through egui_kittest (AccessKit):
//! the figures of a risk snapshot are on screen under stable labels, gauges show their
//! zone, the source of the returns is stated, the VaR backtest shows its exceptions, Kupiec
//! p-value and Basel zone (or why it is unavailable), editing a limit and pressing Save emits the
//! command, an invalid value shows an error naming the field, an empty book says so and
//! still shows the limits, and a critical utilisation raises the alert banner.
//!
//! The snapshots are built here (the panel only formats); the worker that computes them is
//! tested beside its code.

use crude_app::panels::{alerts, risk};
use crude_kernel::services::risk::{ReturnHistoryInfo, RiskCommand, RiskComputed, RiskStatus, RiskUpdate, RiskView};
use crude_model::{ContractId, ContractMonth, Market, Timestamp};
use crude_risk::{
    BookPosition, ComponentVar, DrawdownStatus, GreeksRow, GreeksTable, GreeksTotals, LimitUtilisation, PnlHistogram,
    PortfolioRiskReport, RiskFigure, RiskLimits, RiskSnapshot, Sliders, StressResult, VarBacktest, Zone, kupiec_pof,
};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

const NAV: f64 = 50_000_000.0;

/// Wednesday 2026-11-18 10:00 ET.
fn t0() -> Timestamp {
    Timestamp::from_secs(1_795_014_000)
}

fn clf7() -> ContractId {
    ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap())
}

fn cog7() -> ContractId {
    ContractId::new(Market::Brent, ContractMonth::new(2027, 2).unwrap())
}

fn fig(confidence: f64, horizon_days: u32, var_usd: f64) -> RiskFigure {
    let s = f64::from(horizon_days).sqrt();
    RiskFigure {
        confidence,
        horizon_days,
        var_usd: var_usd * s,
        es_usd: 1.15 * var_usd * s,
        var_pct_nav: var_usd * s / NAV,
        es_pct_nav: 1.15 * var_usd * s / NAV,
    }
}

fn figs(var99: f64) -> Vec<RiskFigure> {
    vec![fig(0.95, 1, 0.7 * var99), fig(0.95, 10, 0.7 * var99), fig(0.99, 1, var99), fig(0.99, 10, var99)]
}

fn limit(key: &str, value: f64, limit: f64) -> LimitUtilisation {
    let u = value / limit;
    LimitUtilisation {
        key: key.into(),
        label: format!("{key} label"),
        value,
        limit,
        utilisation: u,
        zone: Zone::of(u, 0.75, 0.9),
        warning: 0.75,
        critical: 0.9,
    }
}

/// A snapshot of two positions whose parametric 1-day 99 % VaR is `var99` against a
/// 1,000,000 limit.
fn snapshot(var99: f64) -> RiskComputed {
    let positions = vec![BookPosition::future(clf7(), 10, 71.25, "s1"), BookPosition::future(cog7(), -4, 75.5, "s1")];
    let report = PortfolioRiskReport {
        observations: 500,
        covariance_repaired: true,
        net_exposure_usd: 410_500.0,
        gross_exposure_usd: 1_014_500.0,
        parametric: figs(var99),
        historical: figs(1.1 * var99),
        monte_carlo: figs(1.02 * var99),
        components: vec![
            ComponentVar {
                contract: clf7(),
                confidence: 0.99,
                exposure_usd: 712_500.0,
                marginal_var_per_usd: 0.05,
                marginal_var_per_contract_usd: 3_562.5,
                component_var_usd: 0.8 * var99,
                share: 0.8,
            },
            ComponentVar {
                contract: cog7(),
                confidence: 0.99,
                exposure_usd: -302_000.0,
                marginal_var_per_usd: -0.02,
                marginal_var_per_contract_usd: -1_510.0,
                component_var_usd: 0.2 * var99,
                share: 0.2,
            },
        ],
    };
    let edges: Vec<f64> = (0..=20).map(|i| -100_000.0 + 10_000.0 * f64::from(i)).collect();
    let counts: Vec<u64> = (0..20u64).map(|i| 100 + 50 * i.min(19 - i)).collect();
    let row = |contract, qty, delta| GreeksRow {
        contract,
        qty,
        option_qty: 0,
        delta,
        delta_usd: delta * 71_000.0,
        gamma: 0.0,
        vega: 0.0,
        theta: 0.0,
        rho: 0.0,
    };
    let snapshot = RiskSnapshot {
        as_of: t0(),
        nav_usd: NAV,
        positions,
        report,
        histogram: PnlHistogram {
            edges_usd: edges,
            counts,
            confidence: 0.99,
            var_usd: 1.02 * var99,
            es_usd: 1.2 * var99,
            horizon_days: 1,
        },
        stress: vec![
            StressResult {
                scenario: "2008 crash".into(),
                pnl_usd: -2_345_678.0,
                per_position: vec![(clf7(), -2_000_000.0), (cog7(), -345_678.0)],
                utilisation: 0.2345678,
                zone: Zone::Ok,
                historical: true,
                shocked_prices: vec![40.0, 45.0],
                intrinsic_valued: 0,
            },
            StressResult {
                scenario: "2020 negative WTI".into(),
                pnl_usd: -11_000_000.0,
                per_position: vec![(clf7(), -11_000_000.0), (cog7(), 0.0)],
                utilisation: 1.1,
                zone: Zone::Breach,
                historical: true,
                shocked_prices: vec![-37.63, 20.0],
                intrinsic_valued: 0,
            },
        ],
        limits: vec![limit("var", var99, 1_000_000.0), limit("gross_exposure", 1_014_500.0, 100_000_000.0)],
        greeks: GreeksTable {
            rows: vec![row(clf7(), 10, 10.0), row(cog7(), -4, -4.0)],
            total: GreeksTotals { delta: 6.0, delta_usd: 426_000.0, ..GreeksTotals::default() },
        },
        drawdown: DrawdownStatus {
            intraday_usd: 12_000.0,
            daily_usd: 3_000.0,
            weekly_usd: 0.0,
            limits: vec![limit("drawdown.daily", 3_000.0, 750_000.0)],
        },
        margin_usd: 84_000.0,
        proxied: vec![],
        compute_ms: 85.0,
        limit_var_usd: var99,
        var_excluded: vec![],
        backtest: Some(backtest(3, 250)),
    };
    RiskComputed {
        generation: 1,
        snapshot,
        prices_as_of: Some(t0()),
        book_as_of: t0(),
        computed_wall: t0(),
        open_positions: 2,
        unpriced: vec![],
        sliders: Sliders::default(),
    }
}

/// A 99 % VaR backtest with `exceptions` in `days`, Kupiec and the zone from the library.
fn backtest(exceptions: usize, days: usize) -> VarBacktest {
    let kupiec = kupiec_pof(exceptions, days, 0.99).unwrap();
    VarBacktest {
        days,
        confidence: 0.99,
        exceptions,
        expected_exceptions: kupiec.expected_exceptions,
        kupiec,
        zone: kupiec.traffic_light,
        method: "today's delta-equivalent exposures revalued over the last 250 days".into(),
    }
}

fn limits() -> RiskLimits {
    let mut l = RiskLimits::default();
    l.set("var.limit_usd", 1_000_000.0).unwrap();
    l
}

/// A view as the worker would leave it: ready, simulated history, limits, one snapshot.
fn view_with(snapshot: Option<RiskComputed>) -> RiskView {
    let mut v = RiskView::default();
    v.apply(RiskUpdate::Status(RiskStatus::Ready));
    v.apply(RiskUpdate::History(ReturnHistoryInfo {
        description: "returns: simulated history, 519 days".into(),
        simulated: true,
        days: 519,
        columns: vec!["CL1".into()],
    }));
    v.apply(RiskUpdate::Limits(Box::new(limits())));
    if let Some(s) = snapshot {
        v.apply(RiskUpdate::Snapshot(Box::new(s)));
    }
    v
}

struct Ui {
    view: RiskView,
    state: risk::RiskPanelState,
    cache: risk::RiskCache,
    out: Vec<RiskCommand>,
}

fn harness(view: RiskView) -> Harness<'static, Ui> {
    let ui = Ui { view, state: risk::RiskPanelState::default(), cache: risk::RiskCache::default(), out: Vec::new() };
    Harness::builder().with_size(egui::vec2(1800.0, 2400.0)).build_ui_state(
        |ui, s: &mut Ui| {
            alerts::banner(ui, &s.view.alerts, &mut s.cache.alerts);
            egui::CentralPanel::default().show(ui, |ui| {
                let cmds = risk::show(ui, &s.view, &mut s.state, &mut s.cache, t0().add_nanos(2_000_000_000));
                s.out.extend(cmds);
            });
        },
        ui,
    )
}

#[test]
fn figures_gauges_tables_and_source_are_labelled() {
    let mut h = harness(view_with(Some(snapshot(930_000.0))));
    h.run();
    // Header: positions, prices, computation, source, covariance repair.
    h.get_by_label_contains("Risk figures for 2 open positions (CLF7 +10, BZG7 -4)");
    h.get_by_label("Risk source returns: simulated history, 519 days");
    h.get_by_label("Risk covariance repaired to nearest PD");
    // Gauges: 1-day 99 % VaR by method against the 1,000,000 limit, with the zone.
    h.get_by_label("Gauge VaR 99% 1d parametric 930,000");
    h.get_by_label("Gauge parametric 93% CRITICAL");
    h.get_by_label("Gauge historical 102% BREACH");
    h.get_by_label("Gauge monte carlo 95% CRITICAL");
    // The VaR/ES table, in USD and % of NAV.
    h.get_by_label("VaR 95% 10d historical 2,264,507");
    h.get_by_label("ES 99% 1d parametric 1,069,500");
    h.get_by_label("VaR 99% 1d parametric NAV 1.86%");
    // Components, histogram, stress, limits, drawdown, Greeks.
    h.get_by_label("Component VaR CLF7 744,000");
    h.get_by_label("Component share BZG7 20%");
    h.get_by_label("Component VaR total 930,000");
    h.get_by_label("Histogram VaR 99% 948,600  ·  ES 99% 1,116,000");
    h.get_by_label("Stress 2008 crash -2,345,678");
    h.get_by_label("Stress 2020 negative WTI status BREACH");
    h.get_by_label("Limit var 93% CRITICAL");
    h.get_by_label("Limit gross_exposure 1% OK");
    h.get_by_label("Drawdown intraday 12,000");
    h.get_by_label("Limit drawdown.daily 0% OK");
    h.get_by_label("Greeks CLF7 delta 10.00");
    h.get_by_label("Greeks total delta 6.00");
    // The VaR backtest: 3 exceptions in 250 days at 99 % (Kupiec p = 0.76, green).
    h.get_by_label("Backtest exceptions 3 of 250 (expected 2.5)");
    h.get_by_label("Backtest Kupiec p 0.76");
    h.get_by_label("Backtest zone GREEN");
    // The limits editor shows the limits in force.
    assert_eq!(h.get_by_label("var.limit_usd").value().as_deref(), Some("1000000"));
}

#[test]
fn editing_a_limit_and_saving_emits_the_command() {
    let mut h = harness(view_with(Some(snapshot(100_000.0))));
    h.run();
    h.get_by_label("var.limit_usd").set_text_value_accesskit("1,250,000");
    h.run();
    h.get_by_label("Save limits").click();
    h.run();
    let saved: Vec<&RiskLimits> = h
        .state()
        .out
        .iter()
        .filter_map(|c| match c {
            RiskCommand::SaveLimits(l) => Some(&**l),
            _ => None,
        })
        .collect();
    assert_eq!(saved.len(), 1, "{:?}", h.state().out);
    assert_eq!(saved[0].var.limit_usd, 1_250_000.0);
    let mut expected = limits();
    expected.set("var.limit_usd", 1_250_000.0).unwrap();
    assert_eq!(saved[0], &expected, "only the edited limit changes");
    // The risk service's answer (the kernel hands the edit to the audit log itself).
    h.state_mut().view.apply(RiskUpdate::LimitsSaved { details: "risk limits saved to x.yaml: var.limit_usd".into() });
    h.state_mut().view.apply(RiskUpdate::Limits(Box::new(expected)));
    h.run();
    h.get_by_label_contains("Limits saved risk limits saved to x.yaml");
    // Re-reading the file is one click.
    h.state_mut().out.clear();
    h.get_by_label("Reload limits file").click();
    h.run();
    assert!(matches!(h.state().out.as_slice(), [RiskCommand::ReloadLimits]), "{:?}", h.state().out);
    assert_eq!(h.get_by_label("var.limit_usd").value().as_deref(), Some("1250000"));
}

#[test]
fn an_invalid_value_shows_an_error_naming_the_field_and_sends_nothing() {
    let mut h = harness(view_with(Some(snapshot(100_000.0))));
    h.run();
    h.get_by_label("var.limit_usd").set_text_value_accesskit("abc");
    h.run();
    h.get_by_label("Save limits").click();
    h.run();
    h.get_by_label_contains("Limit error var.limit_usd: 'abc' is not a number");
    // A number the limits refuse: the library's message names the field.
    h.get_by_label("var.limit_usd").set_text_value_accesskit("1000000");
    h.get_by_label("thresholds.warning").set_text_value_accesskit("0.95");
    h.run();
    h.get_by_label("Save limits").click();
    h.run();
    let err = h.get_by_label_contains("Limit error").value().unwrap_or_default();
    assert!(err.contains("thresholds"), "{err}");
    assert!(h.state().out.iter().all(|c| !matches!(c, RiskCommand::SaveLimits(_))), "{:?}", h.state().out);
    // A refusal from the worker is shown next to its field.
    let mut bad = limits();
    bad.var.limit_usd = -1.0;
    let e = bad.validate("config/risk_limits.yaml").unwrap_err();
    h.state_mut().view.apply(RiskUpdate::LimitsRejected(e));
    h.get_by_label("Discard edits").click();
    h.run();
    h.get_by_label_contains("Limit error config/risk_limits.yaml: entry 'var', field 'limit_usd'");
}

#[test]
fn a_critical_utilisation_raises_the_banner_until_dismissed() {
    let mut h = harness(view_with(Some(snapshot(100_000.0))));
    h.run();
    assert!(h.query_by_label_contains("Alert banner").is_none());
    h.get_by_label("No limit alerts");
    let mut next = snapshot(950_000.0);
    next.generation = 2;
    next.snapshot.as_of = t0().add_nanos(60 * 1_000_000_000);
    h.state_mut().view.apply(RiskUpdate::Snapshot(Box::new(next)));
    h.run();
    h.get_by_label_contains("Alert banner RISK ALERT CRITICAL var label: 95% of limit (950,000 / 1,000,000)");
    h.get_by_label("Alert var label 95% CRITICAL");
    h.get_by_label("Dismiss alert").click();
    h.run();
    assert!(h.query_by_label_contains("Alert banner").is_none());
    // The list keeps it.
    h.get_by_label("Alert var label 95% CRITICAL");
}

#[test]
fn an_empty_book_says_so_and_still_shows_the_limits() {
    let mut s = snapshot(0.0);
    s.open_positions = 0;
    s.snapshot.positions.clear();
    s.snapshot.report.components.clear();
    let mut h = harness(view_with(Some(s)));
    h.run();
    h.get_by_label("Risk no open positions");
    h.get_by_label_contains("Risk figures for no open positions");
    h.get_by_label("Limit var 0% OK");
    h.get_by_label("var.limit_usd");
    assert!(h.query_by_label_contains("Gauge parametric").is_none());
}

#[test]
fn without_history_var_is_unavailable_and_the_limits_editable() {
    let mut v = RiskView::default();
    v.apply(RiskUpdate::Status(RiskStatus::Unavailable("no return history for a replayed single series".into())));
    v.apply(RiskUpdate::Limits(Box::new(limits())));
    let mut h = harness(v);
    h.run();
    h.get_by_label("Risk status VaR unavailable: no return history for a replayed single series");
    h.get_by_label("var.limit_usd");
    h.get_by_label("Save limits");
}

#[test]
fn moving_a_slider_asks_for_a_recalculation() {
    let mut h = harness(view_with(Some(snapshot(100_000.0))));
    h.run();
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "CL shift").set_value_accesskit(-20.0);
    h.run();
    let sent: Vec<&Sliders> = h
        .state()
        .out
        .iter()
        .filter_map(|c| match c {
            RiskCommand::SetSliders(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(sent.last().map(|s| s.shift_pct), Some([-20.0, 0.0, 0.0, 0.0]), "{:?}", h.state().out);
    assert_eq!(h.state().state.shift_pct[0], -20.0);
}

#[test]
fn the_backtest_zone_follows_the_exceptions_and_a_short_history_says_why() {
    for (exceptions, zone, p) in [(7, "YELLOW", "0.02"), (12, "RED", "1.3e-5")] {
        let mut s = snapshot(100_000.0);
        s.snapshot.backtest = Some(backtest(exceptions, 250));
        let mut h = harness(view_with(Some(s)));
        h.run();
        h.get_by_label(&format!("Backtest exceptions {exceptions} of 250 (expected 2.5)"));
        h.get_by_label(&format!("Backtest zone {zone}"));
        h.get_by_label(&format!("Backtest Kupiec p {p}"));
    }
    let mut s = snapshot(100_000.0);
    s.snapshot.backtest = None;
    let mut h = harness(view_with(Some(s)));
    h.run();
    h.get_by_label_contains("Backtest unavailable: needs the VaR window plus at least 100 days");
    assert!(h.query_by_label_contains("Backtest zone").is_none());
}
