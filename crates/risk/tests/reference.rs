//! crude-risk against reference values from numpy, scipy, arch and QuantLib (fixtures and
//! their provenance in `tests/fixtures/`), and the CLI entry points on real and broken files.

use std::io::Write;
use std::path::PathBuf;

use crude_risk::{
    DEFAULT_SEED, MC_DRAWS, OptionParams, OptionType, RiskError, VolInput, Window, black76, implied_vol, norm_cdf,
    norm_pdf, norm_ppf, run_option, run_risk_series,
};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data").join(name)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn csv_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn pairs(v: &Value) -> Vec<(f64, f64)> {
    v.as_array().unwrap().iter().map(|p| (f(&p[0]), f(&p[1]))).collect()
}

fn rel_diff(got: f64, expected: f64) -> f64 {
    if got == expected { 0.0 } else { (got - expected).abs() / expected.abs() }
}

#[test]
fn normal_functions_match_exact_values_and_scipy() {
    let fx = fixture("normal.json");
    // against 60-digit values: a few units in the last place
    for (z, expected) in pairs(&fx["erfc_exact"]) {
        let got = crude_risk::erfc(z);
        assert!(rel_diff(got, expected) <= 1e-15, "erfc({z}) = {got:e}, exact {expected:e}");
    }
    for (x, expected) in pairs(&fx["cdf_exact"]) {
        // Φ(x) = erfc(−x/√2)/2: the rounding of x/√2 costs up to x²·1.1e-16 relative
        let tol = 1e-15 + x * x * 1.2e-16;
        assert!(rel_diff(norm_cdf(x), expected) <= tol, "cdf({x}) = {:e}, exact {expected:e}", norm_cdf(x));
    }
    for (p, expected) in pairs(&fx["ppf_exact"]) {
        assert!(rel_diff(norm_ppf(p), expected) <= 1e-15, "ppf({p:e}) = {}, exact {expected}", norm_ppf(p));
    }
    // against scipy: 1e-15 relative for the probabilities risk uses, scipy's own tail
    // error (up to about 5e-14) beyond 1e-10
    for (p, expected) in pairs(&fx["ppf"]) {
        let tol = if (1e-10..=1.0 - 1e-10).contains(&p) { 2e-15 } else { 1e-13 };
        let got = norm_ppf(p);
        assert!(
            rel_diff(got, expected) <= tol,
            "ppf({p:e}) = {got}, scipy {expected}, rel {:e}",
            rel_diff(got, expected)
        );
    }
    for (x, expected) in pairs(&fx["cdf"]) {
        if expected == 0.0 {
            // scipy flushes the subnormal Φ(−38) to zero; the exact value is checked above
            assert!(norm_cdf(x) < 1e-300);
            continue;
        }
        let tol = if x.abs() <= 8.0 { 1e-14 } else { 1e-13 };
        assert!(rel_diff(norm_cdf(x), expected) <= tol, "cdf({x}) = {:e}, scipy {expected:e}", norm_cdf(x));
    }
    for (x, expected) in pairs(&fx["pdf"]) {
        assert!(rel_diff(norm_pdf(x), expected) <= 1e-15, "pdf({x}) = {:e}, scipy {expected:e}", norm_pdf(x));
    }
}

#[test]
fn series_risk_matches_numpy_scipy_and_arch_on_wti() {
    let fx = fixture("series_var.json");
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let window: Window = match &case["window"] {
            Value::String(s) => s.parse().unwrap(),
            v => Window::Last(v.as_u64().unwrap() as usize),
        };
        let confidences: Vec<f64> = case["confidences"].as_array().unwrap().iter().map(f).collect();
        let rep = run_risk_series(&data(case["file"].as_str().unwrap()), window, &confidences, DEFAULT_SEED).unwrap();
        assert_eq!(rep.observations as u64, case["observations"].as_u64().unwrap(), "{name}");
        let json: Value = serde_json::from_str(&serde_json::to_string(&rep).unwrap()).unwrap();
        for measure in ["var", "es"] {
            for method in ["historical", "parametric"] {
                let expected = case[measure][method].as_object().unwrap();
                let got = json[measure][method].as_object().unwrap();
                assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "{name} keys");
                for (key, e) in expected {
                    let g = match method {
                        "historical" if measure == "var" => rep.var.historical.get(key),
                        "historical" => rep.es.historical.get(key),
                        _ if measure == "var" => rep.var.parametric.get(key),
                        _ => rep.es.parametric.get(key),
                    }
                    .unwrap();
                    let rel = (g - f(e)).abs() / f(e).abs();
                    assert!(rel <= 1e-12, "{name} {measure} {method} {key}: {g} vs {} (rel {rel:e})", f(e));
                }
            }
            // Monte Carlo: within 4 standard errors of the normal model it samples
            for (key, e) in case[measure]["parametric"].as_object().unwrap() {
                let c: f64 = key.parse().unwrap();
                let sd = f(&case["std_ddof1"]);
                let se = sd * (c * (1.0 - c) / MC_DRAWS as f64).sqrt() / norm_pdf(norm_ppf(1.0 - c));
                let mc = f(&json[measure]["monte_carlo"][key]);
                let k = if measure == "var" { 4.0 } else { 6.0 };
                assert!((mc - f(e)).abs() <= k * se, "{name} MC {measure} {key}: {mc} vs {} (se {se})", f(e));
            }
        }
        // GARCH: 1e-3 relative to arch's default fit, and 1e-4 to arch run to a tight
        // tolerance (the maximum itself). μ is near zero and weakly identified, so it is
        // compared to 1e-3 (default) / 1e-4 (tight) of the percent returns' standard
        // deviation as well: arch's SLSQP stops up to ~1e-4 standard deviations short.
        let sd_pct = 100.0 * f(&case["std_ddof1"]);
        for (reference, rel) in [("garch", 1e-3), ("garch_tight", 1e-4)] {
            for key in ["mu", "omega", "alpha", "beta", "loglik", "next_variance"] {
                let (g, e) = (f(&json["garch"][key]), f(&case[reference][key]));
                let floor = if key == "mu" { rel * sd_pct } else { 0.0 };
                assert!((g - e).abs() <= (rel * e.abs()).max(floor), "{name} {key}: {g} vs arch {reference} {e}");
            }
        }
        assert!((rep.details.std_dev - f(&case["std_ddof1"])).abs() <= 1e-13 * rep.details.std_dev);
    }
}

#[test]
fn risk_run_is_reproducible_and_seeded() {
    let path = data("wti_daily_fred.csv");
    let a = run_risk_series(&path, Window::Last(500), &[0.99], 5).unwrap();
    let b = run_risk_series(&path, Window::Last(500), &[0.99], 5).unwrap();
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    let c = run_risk_series(&path, Window::Last(500), &[0.99], 6).unwrap();
    assert_ne!(a.var.monte_carlo, c.var.monte_carlo);
    assert_eq!(a.var.historical, c.var.historical);
}

#[test]
fn bad_files_and_windows_give_exit_code_2_with_line_numbers() {
    // a negative settlement inside the window
    let text = "date,close\n2020-04-15,19.87\n2020-04-16,19.87\n2020-04-17,18.27\n2020-04-20,-37.63\n2020-04-21,10.01\n2020-04-22,13.78\n";
    let file = csv_file(text);
    let err = run_risk_series(file.path(), Window::All, &[0.95], 1).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(msg.contains("line 5 (2020-04-20)"), "{msg}");
    assert!(msg.contains("non-positive price -37.63"), "{msg}");
    assert!(msg.contains("log returns are undefined"), "{msg}");

    // a window larger than the file
    let err = run_risk_series(file.path(), Window::Last(10), &[0.95], 1).unwrap_err();
    assert!(matches!(err, RiskError::WindowTooLarge { window: 10, available: 5, .. }), "{err}");
    assert!(err.to_string().contains("use --window 5 or --window all"), "{err}");
    assert_eq!(err.exit_code(), 2);

    // a negative price before the window does not matter, but too few returns for GARCH do
    let err = run_risk_series(file.path(), Window::Last(1), &[0.95], 1).unwrap_err();
    assert!(err.to_string().contains("needs at least 10 observations, got 1"), "{err}");
    assert_eq!(err.exit_code(), 2);

    let mut rows = String::from("Date,Settle\n");
    for i in 0..40 {
        let price = if i == 3 { -1.0 } else { 50.0 + ((i * 37) % 11) as f64 };
        rows.push_str(
            &format!("2021-01-{:02},{price}\n", i % 28 + 1)
                .replace("2021-01", if i < 28 { "2021-01" } else { "2021-02" }),
        );
    }
    let file = csv_file(&rows);
    let rep = run_risk_series(file.path(), Window::Last(30), &[0.95, 0.975], 1).unwrap();
    assert_eq!(rep.observations, 30);
    assert_eq!(rep.details.column.as_deref(), Some("Settle"));
    assert!(run_risk_series(file.path(), Window::All, &[0.95], 1).is_err());

    let err = run_risk_series(csv_file("date,close\n2024-01-02,70\n2024-01-03,x\n").path(), Window::All, &[0.95], 1)
        .unwrap_err();
    assert!(err.to_string().contains("line 3, column 'close'"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let err = run_risk_series(&data("wti_daily_fred.csv"), Window::All, &[1.5], 1).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

/// 1e-8 absolute or relative, whichever is stricter at the value's magnitude:
/// `|got − expected| ≤ 1e-8 · min(1, |expected|)`.
fn close_1e8(got: f64, expected: f64) -> bool {
    (got - expected).abs() <= 1e-8 * expected.abs().min(1.0)
}

#[test]
fn black76_matches_quantlib() {
    let fx = fixture("black76_quantlib.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for case in cases {
        let ty: OptionType = case["type"].as_str().unwrap().parse().unwrap();
        let (fw, k, t, v, r) =
            (f(&case["forward"]), f(&case["strike"]), f(&case["years"]), f(&case["vol"]), f(&case["rate"]));
        let g = black76(ty, fw, k, t, v, r).unwrap();
        for (name, got) in [
            ("price", g.price),
            ("delta", g.delta),
            ("gamma", g.gamma),
            ("vega", g.vega),
            ("theta", g.theta),
            ("rho", g.rho),
        ] {
            // against the exact closed form: 1e-8, absolute or relative, whichever is stricter
            let exact = f(&case["exact"][name]);
            assert!(close_1e8(got, exact), "{ty} F={fw} K={k} T={t} v={v} r={r}: {name} {got} vs exact {exact}");
            // against QuantLib: the same, except where QuantLib's own value is further from
            // the exact one (its normal tail loses accuracy for a put worth ~1e-14)
            let ql = f(&case[name]);
            let ql_error = (ql - exact).abs();
            assert!(
                close_1e8(got, ql) || (got - ql).abs() <= 2.0 * ql_error,
                "{ty} F={fw} K={k} T={t} v={v} r={r}: {name} {got} vs QuantLib {ql}"
            );
        }
        assert!(close_1e8(g.price, f(&case["price_black_formula"])));
        // QuantLib's rho(T) + dividendRho(T) is the same derivative, up to its cancellation
        assert!((g.rho - f(&case["rho_quantlib_sum"])).abs() <= 1e-9 * g.rho.abs().max(1.0));
        // the implied volatility of QuantLib's price gives back the volatility, where the
        // price carries time value above intrinsic that a double can hold
        let price = f(&case["price"]);
        let intrinsic = (-r * t).exp() * if ty == OptionType::Call { (fw - k).max(0.0) } else { (k - fw).max(0.0) };
        match implied_vol(ty, fw, k, t, r, price) {
            Ok(iv) => {
                let tol = 1e-9_f64.max(1e-13 * price.max(1.0) / g.vega);
                assert!((iv - v).abs() <= tol, "{ty} F={fw} K={k} T={t}: iv {iv} vs {v}");
            }
            Err(e) => {
                assert!(price - intrinsic <= 1e-12 * price, "{ty} F={fw} K={k} T={t}: {e}");
                assert!(matches!(e, RiskError::NoImpliedVol { .. }));
            }
        }
    }
}

#[test]
fn option_cli_entry_point() {
    let params = OptionParams {
        option_type: OptionType::Put,
        forward: 2.45,
        strike: 2.30,
        years: 0.25,
        rate: 0.05,
        vol_input: VolInput::Vol(0.4),
    };
    let rep = run_option(&params).unwrap();
    let v: Value = serde_json::to_value(rep).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in ["type", "forward", "strike", "years", "rate", "vol", "price", "delta", "gamma", "vega", "theta", "rho"] {
        assert!(keys.contains(&k), "{k} missing");
    }
    assert_eq!(v["type"], "put");
    let err = run_option(&OptionParams { forward: -37.63, ..params }).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("Bachelier"));
    let err = run_option(&OptionParams { vol_input: VolInput::Price(3.0), ..params }).unwrap_err();
    assert!(matches!(err, RiskError::NoImpliedVol { .. }), "{err}");
}
