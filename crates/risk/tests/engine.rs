//! The risk engine's snapshot: delta-equivalent VaR, components adding up, proxies, the
//! histogram, limits, drawdown, margin, negative prices, the empty book and the VaR
//! backtest against a brute-force recomputation.

mod common;

use common::{as_of, book, contract, history, price};
use crude_model::Market;
use crude_risk::{
    BookPosition, OptionLeg, OptionType, PnlState, PortfolioRiskModel, ReturnHistory, RiskBook, RiskEngine,
    RiskEngineConfig, RiskPosition, RiskSnapshot, Sliders, TrafficLight, Zone, basel_traffic_light, kupiec_pof,
    norm_ppf,
};

fn config(paths: usize) -> RiskEngineConfig {
    let mut c = RiskEngineConfig::new(50_000_000.0);
    c.portfolio.mc_paths = paths;
    c
}

fn engine(paths: usize) -> RiskEngine {
    RiskEngine::new(config(paths), &history(500, 7)).unwrap()
}

fn figure(s: &RiskSnapshot, method: &str, c: f64, h: u32) -> f64 {
    let list = match method {
        "parametric" => &s.report.parametric,
        "historical" => &s.report.historical,
        _ => &s.report.monte_carlo,
    };
    list.iter().find(|f| f.confidence == c && f.horizon_days == h).unwrap().var_usd
}

fn util<'a>(s: &'a RiskSnapshot, key: &str) -> &'a crude_risk::LimitUtilisation {
    s.limits.iter().find(|u| u.key == key).unwrap_or_else(|| panic!("no {key}"))
}

#[test]
fn component_var_sums_to_the_total() {
    let s = engine(20_000).snapshot(&book(), &Sliders::default()).unwrap();
    for c in [0.95, 0.99] {
        let total: f64 = s.report.components.iter().filter(|x| x.confidence == c).map(|x| x.component_var_usd).sum();
        let var = figure(&s, "parametric", c, 1);
        assert!(var > 0.0);
        assert!((total - var).abs() <= 1e-9 * var, "{c}: {total} vs {var}");
    }
    // The VaR limit judges the parametric 1-day 99 % figure.
    assert!((s.limit_var_usd - figure(&s, "parametric", 0.99, 1)).abs() <= 1e-9 * s.limit_var_usd);
    assert!((util(&s, "var").value - s.limit_var_usd).abs() < 1e-9);
    // 10-day figures are √10 × the 1-day ones (parametric).
    let ratio = figure(&s, "parametric", 0.99, 10) / figure(&s, "parametric", 0.99, 1);
    assert!((ratio - 10f64.sqrt()).abs() < 1e-12);
    assert!(s.compute_ms > 0.0);
    // CL M9, BZ M7, RB M5 and HO M6 have no series of their own: each takes its market's
    // last month in the history.
    assert_eq!(
        s.proxied,
        vec![
            (contract(Market::Wti, 8), contract(Market::Wti, 5)),
            (contract(Market::Brent, 6), contract(Market::Brent, 3)),
            (contract(Market::Rbob, 4), contract(Market::Rbob, 2)),
            (contract(Market::HeatingOil, 5), contract(Market::HeatingOil, 2)),
        ]
    );
}

#[test]
fn options_enter_var_as_their_delta_equivalent() {
    let hist = history(500, 7);
    let leg = OptionLeg { kind: OptionType::Call, strike: 72.0, expiry_years: 0.25, vol: 0.4, rate: 0.03 };
    let c1 = contract(Market::Wti, 1);
    let option = BookPosition::option(c1, 10, 70.0, leg, "s");
    let delta = option.delta_contracts().unwrap();
    let book = RiskBook { as_of: as_of(), nav_usd: 10_000_000.0, positions: vec![option], pnl: PnlState::default() };
    let s = RiskEngine::new(config(5_000), &hist).unwrap().snapshot(&book, &Sliders::default()).unwrap();
    // The same VaR as a future position of `delta` contracts: scale a 1-contract VaR.
    let model = PortfolioRiskModel::new(&hist, config(5_000).portfolio).unwrap();
    let one = model.parametric(&[RiskPosition { contract: c1, qty: 1, multiplier: 1_000.0, price: 70.0 }]).unwrap();
    let want = one.iter().find(|f| f.confidence == 0.99 && f.horizon_days == 1).unwrap().var_usd * delta;
    assert!((figure(&s, "parametric", 0.99, 1) - want).abs() <= 1e-9 * want);
    let comp = s.report.components.iter().find(|x| x.confidence == 0.99).unwrap();
    assert!((comp.exposure_usd - delta * 1_000.0 * 70.0).abs() < 1e-6);
    assert!((s.greeks.total.option_delta - delta).abs() < 1e-12);
    assert!((s.report.gross_exposure_usd - delta * 70_000.0).abs() < 1e-6);
    assert!((util(&s, "contracts.CL").value - delta).abs() < 1e-12);
}

#[test]
fn missing_contracts_use_the_nearest_series_of_their_market() {
    let e = engine(5_000);
    let far = contract(Market::Wti, 30);
    let book = RiskBook {
        as_of: as_of(),
        nav_usd: 10_000_000.0,
        positions: vec![BookPosition::future(far, 3, price(Market::Wti), "s")],
        pnl: PnlState::default(),
    };
    let s = e.snapshot(&book, &Sliders::default()).unwrap();
    // CL has six months in the history: the nearest in expiry to M31 is M6.
    assert_eq!(s.proxied, vec![(far, contract(Market::Wti, 5))]);
    assert!(figure(&s, "parametric", 0.99, 1) > 0.0);
    // A market with no series at all is an error that names it.
    let hist = crude_risk::ReturnHistory::new(
        vec![contract(Market::Wti, 0)],
        &(0..50).map(|i| vec![0.01 * ((i % 7) as f64 - 3.0)]).collect::<Vec<_>>(),
    )
    .unwrap();
    let mut cfg = config(5_000);
    cfg.portfolio.window_days = 50;
    let e = RiskEngine::new(cfg, &hist).unwrap();
    let book = RiskBook {
        as_of: as_of(),
        nav_usd: 10_000_000.0,
        positions: vec![BookPosition::future(contract(Market::Rbob, 0), 1, 2.3, "s")],
        pnl: PnlState::default(),
    };
    let err = e.snapshot(&book, &Sliders::default()).unwrap_err().to_string();
    assert!(err.contains("RB") && err.contains("no series"), "{err}");
}

#[test]
fn empty_book_is_all_zeros() {
    let e = engine(5_000);
    let s = e.snapshot(&RiskBook::empty(as_of(), 25_000_000.0), &Sliders::default()).unwrap();
    for f in s.report.parametric.iter().chain(&s.report.historical).chain(&s.report.monte_carlo) {
        assert_eq!((f.var_usd.abs(), f.es_usd.abs(), f.var_pct_nav.abs()), (0.0, 0.0, 0.0));
    }
    assert!(s.report.components.is_empty());
    assert_eq!(s.margin_usd, 0.0);
    assert_eq!(s.histogram.counts.iter().sum::<u64>(), 5_000);
    assert!(s.histogram.edges_usd.windows(2).all(|w| w[1] > w[0]));
    assert!(s.stress.iter().all(|r| r.pnl_usd == 0.0 && r.zone == Zone::Ok));
    assert!(s.limits.iter().all(|u| u.utilisation == 0.0 && u.zone == Zone::Ok), "{:?}", s.limits);
    // No NaN anywhere: serde_json writes NaN as null.
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("null"), "{json}");
}

#[test]
fn histogram_reuses_the_monte_carlo_draws() {
    let s = engine(20_000).snapshot(&book(), &Sliders::default()).unwrap();
    let h = &s.histogram;
    assert_eq!(h.counts.len(), crude_risk::DEFAULT_HISTOGRAM_BINS);
    assert_eq!(h.edges_usd.len(), h.counts.len() + 1);
    assert_eq!(h.counts.iter().sum::<u64>(), 20_000);
    assert_eq!((h.confidence, h.horizon_days), (0.99, 1));
    assert_eq!(h.var_usd, figure(&s, "monte_carlo", 0.99, 1));
    // About 1 % of the paths lie at or below −VaR.
    let below: u64 =
        h.counts.iter().zip(h.edges_usd.windows(2)).filter(|(_, w)| w[1] <= -h.var_usd).map(|(c, _)| *c).sum();
    assert!(below as f64 <= 0.01 * 20_000.0 + 1.0, "{below}");
    assert!(h.es_usd >= h.var_usd);
    // Monte Carlo and parametric agree for a (nearly) linear book within sampling error.
    let (mc, p) = (figure(&s, "monte_carlo", 0.99, 1), figure(&s, "parametric", 0.99, 1));
    assert!((mc - p).abs() < 0.1 * p, "{mc} vs {p}");
}

#[test]
fn limits_drawdown_and_margin() {
    let mut e = engine(5_000);
    let mut b = book();
    b.pnl = PnlState {
        intraday_pnl_usd: -300_000.0,
        intraday_peak_pnl_usd: 150_000.0,
        day_pnl_usd: -700_000.0,
        week_pnl_usd: 200_000.0,
    };
    let s = e.snapshot(&b, &Sliders::default()).unwrap();
    assert_eq!((s.drawdown.intraday_usd, s.drawdown.daily_usd, s.drawdown.weekly_usd), (450_000.0, 700_000.0, 0.0));
    let keys: Vec<&str> = s.drawdown.limits.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, ["drawdown.intraday", "drawdown.daily", "drawdown.weekly"]);
    assert_eq!(s.drawdown.limits[1].zone, Zone::Critical); // 700k of 750k = 93 %
    assert_eq!(s.drawdown.limits[0].zone, Zone::Critical); // 450k of 500k = 90 %
    // Margin: Σ |net delta-equivalent contracts| × initial margin per contract month.
    let mut want = 0.0;
    let mut net: std::collections::BTreeMap<crude_model::ContractId, f64> = Default::default();
    for p in &b.positions {
        *net.entry(p.contract).or_default() += p.delta_contracts().unwrap();
    }
    for (c, q) in net {
        want += q.abs() * e.limits().initial_margin_usd(c.market);
    }
    assert!((s.margin_usd - want).abs() < 1e-6, "{} vs {want}", s.margin_usd);
    assert!((util(&s, "margin").value - want).abs() < 1e-6);
    // Every key appears once.
    let mut keys: Vec<&str> = s.limits.iter().map(|u| u.key.as_str()).collect();
    keys.sort_unstable();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n);
    assert_eq!(n, crude_risk::limit_keys().len());
    // New limits apply to the next snapshot.
    let mut tight = e.limits().clone();
    tight.var.limit_usd = s.limit_var_usd / 2.0;
    e.set_limits(tight);
    let s2 = e.snapshot(&b, &Sliders::default()).unwrap();
    assert_eq!(util(&s2, "var").zone, Zone::Breach);
    assert!((util(&s2, "var").utilisation - 2.0).abs() < 1e-9);
}

#[test]
fn stress_covers_every_scenario_and_the_sliders() {
    let e = engine(5_000);
    let b = book();
    let s = e.snapshot(&b, &Sliders::default()).unwrap();
    assert_eq!(s.stress.len(), e.scenarios().len());
    for r in &s.stress {
        assert_eq!(r.per_position.len(), b.positions.len());
        let sum: f64 = r.per_position.iter().map(|x| x.1).sum();
        assert!((sum - r.pnl_usd).abs() < 1e-6);
    }
    let worst = s.stress.iter().map(|r| -r.pnl_usd).fold(f64::NEG_INFINITY, f64::max).max(0.0);
    assert!((util(&s, "stress").value - worst).abs() < 1e-6);
    let sliders = Sliders { shift_pct: [5.0, 0.0, 0.0, 0.0], vol_shift_pct: 0.0 };
    let s2 = e.snapshot(&b, &sliders).unwrap();
    let last = s2.stress.last().unwrap();
    assert_eq!(last.scenario, crude_risk::SLIDERS_SCENARIO);
    // Only CL positions move under a CL slider.
    for (p, (_, pnl)) in b.positions.iter().zip(&last.per_position) {
        if p.contract.market != Market::Wti {
            assert_eq!(*pnl, 0.0);
        }
    }
    // The sliders do not change the stress limit's figure.
    assert_eq!(util(&s2, "stress").value, util(&s, "stress").value);
}

#[test]
fn non_positive_prices_leave_var_but_stay_in_stress_and_limits() {
    let e = engine(5_000);
    let front = contract(Market::Wti, 0);
    let book = RiskBook {
        as_of: as_of(),
        nav_usd: 10_000_000.0,
        positions: vec![
            BookPosition::future(front, 5, -37.63, "s"),
            BookPosition::future(contract(Market::Brent, 0), 2, 25.57, "s"),
        ],
        pnl: PnlState::default(),
    };
    let s = e.snapshot(&book, &Sliders::default()).unwrap();
    assert_eq!(s.var_excluded.len(), 1);
    assert_eq!(s.var_excluded[0].0, front);
    assert!(util(&s, "var").label.contains("excludes"), "{}", util(&s, "var").label);
    assert!(s.report.components.iter().all(|c| c.contract != front));
    assert!((util(&s, "notional.CL").value - 5.0 * 1_000.0 * 37.63).abs() < 1e-6);
    let covid = s.stress.iter().find(|r| r.scenario.starts_with("2020")).unwrap();
    assert_eq!(covid.per_position[0].1, 0.0, "already at −37.63");
    assert!(serde_json::to_string(&s).unwrap().len() > 100);
}

#[test]
fn bad_books_are_named_errors() {
    let e = engine(5_000);
    let mut b = book();
    b.nav_usd = f64::NAN;
    assert!(e.snapshot(&b, &Sliders::default()).unwrap_err().to_string().contains("nav_usd"));
    let mut b = book();
    b.positions[0].price = f64::INFINITY;
    assert!(e.snapshot(&b, &Sliders::default()).unwrap_err().to_string().contains("price"));
    let b = book();
    let bad = Sliders { shift_pct: [0.0; 4], vol_shift_pct: -150.0 };
    assert!(e.snapshot(&b, &bad).unwrap_err().to_string().contains("vol_shift_pct"));
    let mut cfg = config(5_000);
    cfg.histogram_bins = 0;
    assert!(RiskEngine::new(cfg, &history(500, 7)).is_err());
}

#[test]
fn the_pre_trade_check_is_send_sync_static() {
    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    let check = engine(5_000).pre_trade_check();
    assert_send_sync(&check);
    let _boxed: Box<dyn crude_model::PreTradeCheck + Send + Sync> = Box::new(check);
}

/// `history(days, seed)` with the returns of the last `wild_days` days multiplied by
/// `scale` (a volatility jump after the estimation window).
fn scaled_history(days: usize, seed: u64, wild_days: usize, scale: f64) -> ReturnHistory {
    let h = history(days, seed);
    let rows: Vec<Vec<f64>> = (0..days)
        .map(|t| {
            let k = if t >= days - wild_days { scale } else { 1.0 };
            h.day(t).unwrap().iter().map(|r| k * r).collect()
        })
        .collect();
    ReturnHistory::new(h.contracts().to_vec(), &rows).unwrap()
}

/// Exceptions of the 1-day 99 % parametric VaR over the last `days` days, each day's
/// covariance matrix recomputed from scratch (two-pass sample covariance of the `window`
/// days before it), and the smallest `|P&L + VaR| / VaR` seen (how near a day came to the
/// boundary).
fn brute_force_exceptions(h: &ReturnHistory, window: usize, days: usize, v: &[f64]) -> (usize, f64) {
    let n = v.len();
    let z = norm_ppf(0.99);
    let (mut exceptions, mut nearest) = (0, f64::INFINITY);
    for t in h.days() - days..h.days() {
        let rows: Vec<&[f64]> = (t - window..t).map(|s| h.day(s).unwrap()).collect();
        let mean: Vec<f64> = (0..n).map(|i| rows.iter().map(|r| r[i]).sum::<f64>() / window as f64).collect();
        let mut cov = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                cov[i * n + j] =
                    rows.iter().map(|r| (r[i] - mean[i]) * (r[j] - mean[j])).sum::<f64>() / (window - 1) as f64;
            }
        }
        let quad: f64 =
            (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| v[i] * cov[i * n + j] * v[j]).sum();
        let var = z * quad.sqrt();
        let pnl: f64 = v.iter().zip(h.day(t).unwrap()).map(|(vi, r)| vi * r.exp_m1()).sum();
        if pnl < -var {
            exceptions += 1;
        }
        nearest = nearest.min((pnl + var).abs() / var);
    }
    (exceptions, nearest)
}

/// The snapshot's delta-equivalent exposure per history contract (from the components,
/// which list every contract held).
fn exposures(s: &RiskSnapshot, h: &ReturnHistory) -> Vec<f64> {
    h.contracts()
        .iter()
        .map(|c| {
            s.report
                .components
                .iter()
                .find(|x| x.confidence == 0.99 && x.contract == *c)
                .map_or(0.0, |x| x.exposure_usd)
        })
        .collect()
}

#[test]
fn var_backtest_matches_a_brute_force_recomputation() {
    // 16 contracts × 750 days, 500-day window: exactly 250 out-of-sample days. The book has
    // options (delta-equivalent) and proxied contracts.
    for (scale, seed) in [(1.0, 11), (1.7, 12)] {
        let hist = scaled_history(750, seed, 250, scale);
        let e = RiskEngine::new(config(5_000), &hist).unwrap();
        let s = e.snapshot(&book(), &Sliders::default()).unwrap();
        let b = s.backtest.clone().unwrap();
        assert_eq!((b.days, b.confidence), (250, 0.99));
        assert!((b.expected_exceptions - 2.5).abs() < 1e-12);
        let v = exposures(&s, &hist);
        let (want, nearest) = brute_force_exceptions(&hist, 500, 250, &v);
        assert!(nearest > 1e-9, "a day lies on the VaR boundary: {nearest}");
        assert_eq!(b.exceptions, want, "scale {scale}");
        // Kupiec and the zone as the var_backtest module computes them.
        assert_eq!(b.kupiec, kupiec_pof(want, 250, 0.99).unwrap());
        assert_eq!(b.zone, basel_traffic_light(want, 250, 0.99).unwrap());
        assert!(b.method.contains("500 days before each day"), "{}", b.method);
        if scale > 1.0 {
            // Volatility jumps after the window: the out-of-sample VaR is too low.
            assert!(want >= 10, "{want}");
            assert_eq!(b.zone, TrafficLight::Red);
            assert!(b.kupiec.p_value < 1e-3, "{:?}", b.kupiec);
        }
        // Deterministic.
        assert_eq!(e.snapshot(&book(), &Sliders::default()).unwrap().backtest, Some(b));
    }
}

#[test]
fn var_backtest_needs_history_and_positions() {
    // Shorter than window + 250 days: as many out-of-sample days as there are (≥ 100).
    let s = RiskEngine::new(config(5_000), &history(680, 7)).unwrap().snapshot(&book(), &Sliders::default()).unwrap();
    let b = s.backtest.unwrap();
    assert_eq!(b.days, 180);
    assert!((b.expected_exceptions - 1.8).abs() < 1e-12);
    assert_eq!(b.kupiec.observations, 180);
    let s = RiskEngine::new(config(5_000), &history(599, 7)).unwrap().snapshot(&book(), &Sliders::default()).unwrap();
    assert!(s.backtest.is_none());
    assert!(!serde_json::to_string(&s).unwrap().contains("backtest"));
    // An empty book, and a book whose only position is left out of VaR, have none.
    let e = RiskEngine::new(config(5_000), &history(750, 7)).unwrap();
    assert!(e.snapshot(&RiskBook::empty(as_of(), 25_000_000.0), &Sliders::default()).unwrap().backtest.is_none());
    let negative = RiskBook {
        as_of: as_of(),
        nav_usd: 10_000_000.0,
        positions: vec![BookPosition::future(contract(Market::Wti, 0), 5, -37.63, "s")],
        pnl: PnlState::default(),
    };
    assert!(e.snapshot(&negative, &Sliders::default()).unwrap().backtest.is_none());
    // A longer history than needed tests the last 250 days only.
    let s = RiskEngine::new(config(5_000), &history(900, 7)).unwrap().snapshot(&book(), &Sliders::default()).unwrap();
    assert_eq!(s.backtest.map(|b| b.days), Some(250));
}
