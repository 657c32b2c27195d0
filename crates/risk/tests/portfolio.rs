//! Portfolio risk against numpy/scipy reference values (fixture `portfolio.json`, made by
//! `tests/fixtures/generate.py`), plus the Monte Carlo, covariance-repair and backtest
//! behaviour.

use std::path::PathBuf;

use crude_model::{ContractId, ContractMonth, Market};
use crude_risk::{
    CovarianceMethod, PortfolioRiskConfig, PortfolioRiskModel, ReturnHistory, RiskError, RiskFigure, RiskPosition,
    TrafficLight, VarMethod, kupiec_pof,
};
use serde_json::Value;

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/portfolio.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn contract(v: &Value) -> ContractId {
    let market = Market::parse_root(v["market"].as_str().unwrap()).unwrap();
    ContractId::new(
        market,
        ContractMonth::new(v["year"].as_i64().unwrap() as i32, v["month"].as_u64().unwrap() as u32).unwrap(),
    )
}

fn position(v: &Value) -> RiskPosition {
    RiskPosition {
        contract: contract(v),
        qty: v["qty"].as_i64().unwrap(),
        multiplier: f(&v["multiplier"]),
        price: f(&v["price"]),
    }
}

struct Setup {
    fx: Value,
    history: ReturnHistory,
    positions: Vec<RiskPosition>,
    order: RiskPosition,
}

fn setup() -> Setup {
    let fx = fixture();
    let contracts: Vec<ContractId> = fx["contracts"].as_array().unwrap().iter().map(contract).collect();
    let returns: Vec<Vec<f64>> =
        fx["returns"].as_array().unwrap().iter().map(|d| d.as_array().unwrap().iter().map(f).collect()).collect();
    let history = ReturnHistory::new(contracts, &returns).unwrap();
    let positions = fx["positions"].as_array().unwrap().iter().map(position).collect();
    let order = position(&fx["order"]);
    Setup { fx, history, positions, order }
}

fn config(fx: &Value, covariance: CovarianceMethod) -> PortfolioRiskConfig {
    PortfolioRiskConfig {
        window_days: fx["window"].as_u64().unwrap() as usize,
        covariance,
        ..PortfolioRiskConfig::new(f(&fx["nav_usd"]))
    }
}

fn assert_figures(what: &str, got: &[RiskFigure], expected: &Value, rel: f64) {
    let expected = expected.as_array().unwrap();
    assert_eq!(got.len(), expected.len(), "{what}");
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g.confidence, f(&e["confidence"]), "{what}");
        assert_eq!(u64::from(g.horizon_days), e["horizon_days"].as_u64().unwrap(), "{what}");
        for (name, value) in
            [("var_usd", g.var_usd), ("es_usd", g.es_usd), ("var_pct_nav", g.var_pct_nav), ("es_pct_nav", g.es_pct_nav)]
        {
            let x = f(&e[name]);
            assert!(
                (value - x).abs() <= rel * x.abs(),
                "{what} c={} h={} {name}: {value} vs {x}",
                g.confidence,
                g.horizon_days
            );
        }
    }
}

#[test]
fn parametric_and_historical_match_numpy() {
    let s = setup();
    let model = PortfolioRiskModel::new(&s.history, config(&s.fx, CovarianceMethod::Sample)).unwrap();
    assert!(!model.covariance_repaired());
    assert_figures("parametric sample", &model.parametric(&s.positions).unwrap(), &s.fx["parametric_sample"], 1e-12);
    assert_figures("historical", &model.historical(&s.positions).unwrap(), &s.fx["historical"], 1e-12);

    let ewma = PortfolioRiskModel::new(&s.history, config(&s.fx, CovarianceMethod::Ewma { lambda: 0.94 })).unwrap();
    assert_figures("parametric EWMA", &ewma.parametric(&s.positions).unwrap(), &s.fx["parametric_ewma"], 1e-12);
}

#[test]
fn ewma_covariance_diagonal_equals_the_univariate_ewma() {
    let s = setup();
    let cfg = config(&s.fx, CovarianceMethod::Ewma { lambda: 0.94 });
    let window = cfg.window_days;
    let model = PortfolioRiskModel::new(&s.history, cfg).unwrap();
    let n = s.history.contracts().len();
    for i in 0..n {
        let col: Vec<f64> =
            (s.history.days() - window..s.history.days()).map(|t| s.history.day(t).unwrap()[i]).collect();
        let e = crude_analytics::ewma_variance(&col, 0.94).unwrap();
        let got = model.covariance()[i * n + i];
        assert!((got - e.next_variance).abs() <= 1e-13 * got, "{got} vs {}", e.next_variance);
    }
}

#[test]
fn components_sum_to_var_and_match_numpy() {
    let s = setup();
    let model = PortfolioRiskModel::new(&s.history, config(&s.fx, CovarianceMethod::Sample)).unwrap();
    let comps = model.components(&s.positions).unwrap();
    let par = model.parametric(&s.positions).unwrap();
    let exposures: Vec<f64> = s.fx["exposures_usd"].as_array().unwrap().iter().map(f).collect();
    for c in [0.95, 0.99] {
        let key = format!("{c}");
        let total = par.iter().find(|p| p.confidence == c && p.horizon_days == 1).unwrap().var_usd;
        let these: Vec<_> = comps.iter().filter(|x| x.confidence == c).collect();
        let sum: f64 = these.iter().map(|x| x.component_var_usd).sum();
        assert!((sum - total).abs() <= 1e-10 * total, "{sum} vs {total}");
        let share: f64 = these.iter().map(|x| x.share).sum();
        assert!((share - 1.0).abs() < 1e-12);
        let expected_marginal: Vec<f64> = s.fx["marginal_var_sample"][&key].as_array().unwrap().iter().map(f).collect();
        let expected_component: Vec<f64> =
            s.fx["component_var_sample"][&key].as_array().unwrap().iter().map(f).collect();
        for x in these {
            let i = s.history.contracts().iter().position(|k| *k == x.contract).unwrap();
            assert!((x.exposure_usd - exposures[i]).abs() <= 1e-9 * exposures[i].abs());
            assert!((x.marginal_var_per_usd - expected_marginal[i]).abs() <= 1e-12 * expected_marginal[i].abs());
            assert!((x.component_var_usd - expected_component[i]).abs() <= 1e-10 * total);
        }
    }
    // a central finite difference of VaR in the first position's exposure
    let var99 = |positions: &[RiskPosition]| {
        model
            .parametric(positions)
            .unwrap()
            .into_iter()
            .find(|p| p.confidence == 0.99 && p.horizon_days == 1)
            .unwrap()
            .var_usd
    };
    let bump = |rel: f64| {
        let mut b = s.positions.clone();
        b[0].price *= 1.0 + rel;
        b
    };
    let dv = s.positions[0].exposure_usd() * 2e-4;
    let fd = (var99(&bump(1e-4)) - var99(&bump(-1e-4))) / dv;
    let marginal = comps.iter().find(|x| x.confidence == 0.99 && x.contract == s.positions[0].contract).unwrap();
    assert!(
        (fd - marginal.marginal_var_per_usd).abs() < 1e-6 * marginal.marginal_var_per_usd.abs(),
        "{fd} vs {marginal:?}"
    );
    assert!(
        (marginal.marginal_var_per_contract_usd - marginal.marginal_var_per_usd * 1000.0 * s.positions[0].price).abs()
            < 1e-9 * marginal.marginal_var_per_contract_usd.abs()
    );
}

#[test]
fn incremental_var_matches_numpy_and_uses_common_draws() {
    let s = setup();
    let model = PortfolioRiskModel::new(&s.history, config(&s.fx, CovarianceMethod::Sample)).unwrap();
    let inc = model.incremental_var(&s.positions, &s.order, VarMethod::Parametric).unwrap();
    for c in [0.95, 0.99] {
        let x = inc.iter().find(|i| i.confidence == c && i.horizon_days == 1).unwrap();
        let e = f(&s.fx["incremental_var_sample"][&format!("{c}")]);
        assert!((x.incremental_var_usd - e).abs() <= 1e-9 * e.abs(), "{} vs {e}", x.incremental_var_usd);
    }
    // Monte Carlo incremental VaR, with the same draws before and after, lands near the
    // parametric one
    let mc = model.incremental_var(&s.positions, &s.order, VarMethod::MonteCarlo).unwrap();
    let p99 = inc.iter().find(|i| i.confidence == 0.99 && i.horizon_days == 1).unwrap();
    let m99 = mc.iter().find(|i| i.confidence == 0.99 && i.horizon_days == 1).unwrap();
    assert!(
        (m99.incremental_var_usd - p99.incremental_var_usd).abs() < 0.1 * p99.incremental_var_usd.abs(),
        "{m99:?} vs {p99:?}"
    );
    let hist = model.incremental_var(&s.positions, &s.order, VarMethod::Historical).unwrap();
    assert_eq!(hist.len(), 4);
}

#[test]
fn monte_carlo_is_close_to_parametric_and_thread_independent() {
    let s = setup();
    let model = PortfolioRiskModel::new(&s.history, config(&s.fx, CovarianceMethod::Sample)).unwrap();
    let par = model.parametric(&s.positions).unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| model.monte_carlo(&s.positions).unwrap())
    };
    let mc = run(1);
    assert_eq!(mc, run(2));
    // Full revaluation differs from delta-normal by the convexity of e^r, which shifts the
    // P&L by about ½ Σ v_i σ_i² h, plus the sampling error of 100,000 paths.
    let n = s.history.contracts().len();
    let exposures: Vec<f64> = s.fx["exposures_usd"].as_array().unwrap().iter().map(f).collect();
    let convexity: f64 = (0..n).map(|i| 0.5 * exposures[i].abs() * model.covariance()[i * n + i]).sum();
    let sigma = par[0].var_usd / crude_risk::norm_ppf(0.95);
    for (m, p) in mc.iter().zip(&par) {
        let h = f64::from(m.horizon_days);
        let z = crude_risk::norm_ppf(m.confidence);
        let se = sigma * h.sqrt() * (m.confidence * (1.0 - m.confidence) / 100_000.0).sqrt() / crude_risk::norm_pdf(z);
        let tol = 5.0 * se + 2.0 * convexity * h;
        assert!((m.var_usd - p.var_usd).abs() < tol, "{m:?} vs {p:?} (tol {tol})");
        assert!((m.es_usd - p.es_usd).abs() < 1.5 * tol, "{m:?} vs {p:?} (tol {tol})");
    }
    let report = model.report(&s.positions).unwrap();
    assert_eq!(report.observations, 500);
    assert_eq!(report.monte_carlo, mc);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["covariance_repaired"], false);
}

#[test]
fn a_singular_covariance_is_repaired_and_flagged() {
    let s = setup();
    // a duplicated column (a contract with returns identical to another) makes the sample
    // covariance singular
    let mut contracts = s.history.contracts().to_vec();
    let extra = ContractId::new(Market::HeatingOil, ContractMonth::new(2027, 3).unwrap());
    contracts.push(extra);
    let returns: Vec<Vec<f64>> = (0..s.history.days())
        .map(|t| {
            let mut d = s.history.day(t).unwrap().to_vec();
            d.push(d[0]);
            d
        })
        .collect();
    let history = ReturnHistory::new(contracts, &returns).unwrap();
    let model = PortfolioRiskModel::new(&history, config(&s.fx, CovarianceMethod::Sample)).unwrap();
    assert!(model.covariance_repaired());
    let mut positions = s.positions.clone();
    positions.push(RiskPosition { contract: extra, qty: 3, multiplier: 42000.0, price: 2.5 });
    let report = model.report(&positions).unwrap();
    assert!(report.covariance_repaired);
    for fig in report.parametric.iter().chain(&report.monte_carlo).chain(&report.historical) {
        assert!(fig.var_usd.is_finite() && fig.var_usd > 0.0);
    }
}

#[test]
fn an_overflowing_covariance_is_an_error_not_a_hang() {
    // finite returns whose squares overflow: the covariance has no Cholesky factor and no
    // repair (the repair used to raise its eigenvalue floor forever here)
    let contracts = vec![
        ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap()),
        ContractId::new(Market::Brent, ContractMonth::new(2027, 1).unwrap()),
    ];
    let returns: Vec<Vec<f64>> = (0..30).map(|t| vec![if t % 2 == 0 { 1e200 } else { -1e200 }, 0.01]).collect();
    let history = ReturnHistory::new(contracts, &returns).unwrap();
    let mut cfg = PortfolioRiskConfig::new(1_000_000.0);
    cfg.window_days = 30;
    let err = PortfolioRiskModel::new(&history, cfg).unwrap_err();
    assert!(matches!(err, RiskError::Computation { .. }), "{err}");
    assert!(err.to_string().contains("non-finite"), "{err}");
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn bad_positions_and_configs_are_named() {
    let s = setup();
    let model = PortfolioRiskModel::new(&s.history, config(&s.fx, CovarianceMethod::Sample)).unwrap();
    let unknown = RiskPosition {
        contract: ContractId::new(Market::Rbob, ContractMonth::new(2030, 1).unwrap()),
        ..s.positions[0]
    };
    let err = model.parametric(&[unknown]).unwrap_err();
    assert!(err.to_string().contains("RBF0"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let negative = RiskPosition { price: -37.63, ..s.positions[0] };
    let err = model.parametric(&[negative]).unwrap_err();
    assert!(err.to_string().contains("-37.63"), "{err}");
    assert!(model.parametric(&[RiskPosition { multiplier: 0.0, ..s.positions[0] }]).is_err());

    let long = PortfolioRiskConfig { window_days: 10_000, ..config(&s.fx, CovarianceMethod::Sample) };
    let err = PortfolioRiskModel::new(&s.history, long).unwrap_err();
    assert!(err.to_string().contains("use window_days = 750"), "{err}");
    assert!(PortfolioRiskModel::new(&s.history, PortfolioRiskConfig::new(0.0)).is_err());
    assert!(PortfolioRiskModel::new(&s.history, config(&s.fx, CovarianceMethod::Ewma { lambda: 1.0 })).is_err());
    assert!(ReturnHistory::new(vec![], &[vec![], vec![]]).is_err());
    let c = s.history.contracts()[0];
    assert!(ReturnHistory::new(vec![c, c], &[vec![0.0, 0.0], vec![0.0, 0.0]]).is_err());
    assert!(ReturnHistory::new(vec![c], &[vec![0.0], vec![f64::NAN]]).is_err());

    // an empty book has no risk
    let zero = model.report(&[]).unwrap();
    assert!(zero.parametric.iter().chain(&zero.historical).chain(&zero.monte_carlo).all(|x| x.var_usd == 0.0));
}

#[test]
fn kupiec_matches_scipy() {
    let fx = fixture();
    for case in fx["kupiec"].as_array().unwrap() {
        let (x, t, c) = (
            case["exceptions"].as_u64().unwrap() as usize,
            case["observations"].as_u64().unwrap() as usize,
            f(&case["confidence"]),
        );
        let k = kupiec_pof(x, t, c).unwrap();
        let lr = f(&case["lr"]);
        assert!((k.lr_statistic - lr).abs() <= 1e-10 * lr.max(1.0), "x={x} T={t}: LR {} vs {lr}", k.lr_statistic);
        let p = f(&case["p_value"]);
        assert!(
            (k.p_value - p).abs() <= 1e-10 * p.max(1e-300) || (k.p_value - p).abs() < 1e-15,
            "x={x} T={t}: p {} vs {p}",
            k.p_value
        );
        let cdf = f(&case["binomial_cdf"]);
        assert!((k.binomial_cdf - cdf).abs() <= 1e-10 * cdf, "x={x} T={t}: cdf {} vs {cdf}", k.binomial_cdf);
        let light = match case["traffic_light"].as_str().unwrap() {
            "green" => TrafficLight::Green,
            "yellow" => TrafficLight::Yellow,
            _ => TrafficLight::Red,
        };
        assert_eq!(k.traffic_light, light, "x={x} T={t}");
    }
}
