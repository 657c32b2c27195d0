//! The portfolio mode of `crude risk`: positions and history files, their errors (line and
//! column named), and the JSON snapshot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use crude_model::{ContractId, ContractMonth, Market};
use crude_risk::{
    CovarianceMethod, OptionType, PortfolioArgs, PortfolioFileError, RiskError, Window, parse_covariance_method,
    read_history, read_positions, run_risk_portfolio,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, 4).unwrap()
}

/// `days` business-ish days of prices ending on 2026-05-04 for CL, BZ, CLN6 and HO.
fn history_text(days: usize) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut p = [70.0, 74.0, 70.5, 2.5];
    let mut rows = Vec::new();
    for i in 0..days {
        let d = date() - chrono::Days::new((days - 1 - i) as u64);
        let common: f64 = rng.sample(StandardNormal);
        for x in p.iter_mut() {
            let own: f64 = rng.sample(StandardNormal);
            *x *= (0.015 * (0.8 * common + 0.6 * own)).exp();
        }
        rows.push(format!("{d},{:.4},{:.4},{:.4},{:.4}", p[0], p[1], p[2], p[3]));
    }
    let mut s = String::from("date,CL,BZ,CLN6,HO\n");
    for r in rows {
        writeln!(s, "{r}").unwrap();
    }
    s
}

const POSITIONS: &str = "\
# a documented positions file
contract,qty,price,strategy,option_type,strike,expiry,vol
CLN6,10,71.35,trend,,,,
BZQ6,-5,75.10,spread,,,,
CLQ6,3,71.00,,,,,
HO1,-2,2.52,crack,,,,
CLN6,-4,71.35,hedge,put,65,0.2,0.38
CLN6,2,71.35,hedge,call,80,2026-08-03,0.35
";

fn csv_error(e: RiskError) -> (u64, String) {
    match e {
        RiskError::Csv { line, message, .. } => (line, message),
        RiskError::BadNumber { line, column, value, .. } => (line, format!("column '{column}': '{value}'")),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn reads_futures_options_and_generics() {
    let dir = tempfile::tempdir().unwrap();
    let p = read_positions(&write(dir.path(), "p.csv", POSITIONS), date()).unwrap();
    assert_eq!(p.len(), 6);
    let cln6 = ContractId::new(Market::Wti, ContractMonth::new(2026, 7).unwrap());
    assert_eq!(p[0].contract, cln6);
    assert_eq!((p[0].qty, p[0].price, p[0].strategy.as_str(), p[0].multiplier), (10, 71.35, "trend", 1_000.0));
    assert_eq!(p[2].strategy, "default");
    // HO1 on 2026-05-04 is the June 2026 contract (May expired on 2026-04-30).
    assert_eq!(p[3].contract, ContractId::new(Market::HeatingOil, ContractMonth::new(2026, 6).unwrap()));
    assert_eq!(p[3].multiplier, 42_000.0);
    let put = p[4].option.unwrap();
    assert_eq!((put.kind, put.strike, put.expiry_years, put.vol, put.rate), (OptionType::Put, 65.0, 0.2, 0.38, 0.0));
    // An expiry date counts days from the as-of date over 365.
    assert!((p[5].option.unwrap().expiry_years - 91.0 / 365.0).abs() < 1e-12);
}

#[test]
fn position_errors_name_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let header = "contract,qty,price,strategy,option_type,strike,expiry,vol\n";
    let cases: [(&str, u64, &str); 9] = [
        ("CLN6,1.5,71,,,,,\n", 2, "column 'qty': '1.5'"),
        ("CLN6,1,abc,,,,,\n", 2, "column 'price': 'abc'"),
        ("XXN6,1,71,,,,,\n", 2, "column 'contract': 'XXN6'"),
        ("CLN6,1,71,,straddle,70,0.2,0.3\n", 2, "column 'option_type': 'straddle'"),
        ("CLN6,1,71,,call,,0.2,0.3\n", 2, "column 'strike'"),
        ("CLN6,1,71,,call,70,0.2,-0.3\n", 2, "column 'vol'"),
        ("CLN6,1,71,,call,70,2026-01-01,0.3\n", 2, "column 'expiry'"),
        ("CLN6,1,71,,,70,,\n", 2, "column 'strike'"),
        ("CLN6,1,71,,,,\n", 2, "fields but the header has 8"),
    ];
    for (row, line, wanted) in cases {
        let text = format!("{header}CLN6,1,71,,,,,\n{row}");
        let e = read_positions(&write(dir.path(), "p.csv", &text), date()).unwrap_err();
        let shown = e.to_string();
        let (l, msg) = csv_error(e);
        assert_eq!(l, line + 1, "{row}: {shown}");
        assert!(msg.contains(wanted), "{row}: wanted {wanted}: {shown}");
        assert!(shown.contains("p.csv") && shown.contains(&format!("line {}", line + 1)), "{shown}");
    }
    let e = read_positions(&write(dir.path(), "p.csv", "contract,price\nCLN6,71\n"), date()).unwrap_err();
    assert!(matches!(e, RiskError::MissingColumn { wanted: "qty", .. }), "{e}");
    let e =
        read_positions(&write(dir.path(), "p.csv", "contract,qty,price,colour\nCLN6,1,71,red\n"), date()).unwrap_err();
    assert!(e.to_string().contains("column 'colour'"), "{e}");
    let e = read_positions(&dir.path().join("missing.csv"), date()).unwrap_err();
    assert!(matches!(e, RiskError::Io { .. }));
}

#[test]
fn history_reads_market_codes_and_names_bad_cells() {
    let dir = tempfile::tempdir().unwrap();
    let h = read_history(&write(dir.path(), "h.csv", &history_text(30))).unwrap();
    // CL on 2026-05-04 is the front, CLM6 (June); CLN6 is its own column.
    assert_eq!(h.contracts[0], ContractId::new(Market::Wti, ContractMonth::new(2026, 6).unwrap()));
    assert_eq!(h.contracts[2], ContractId::new(Market::Wti, ContractMonth::new(2026, 7).unwrap()));
    assert_eq!(h.returns(Window::Last(20)).unwrap().days(), 20);
    let e = h.returns(Window::Last(30)).unwrap_err();
    assert!(matches!(e, RiskError::WindowTooLarge { available: 29, .. }), "{e}");

    let mut lines: Vec<String> = history_text(10).lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[1].split(',').collect();
    cells[1] = "n/a";
    lines[1] = cells.join(",");
    let e = read_history(&write(dir.path(), "h.csv", &lines.join("\n"))).unwrap_err();
    assert!(matches!(&e, RiskError::BadNumber { line: 2, column, .. } if column == "CL"), "{e}");
    let mut lines: Vec<String> = history_text(10).lines().map(String::from).collect();
    lines.swap(3, 4);
    let e = read_history(&write(dir.path(), "h.csv", &lines.join("\n"))).unwrap_err();
    assert!(matches!(e, RiskError::UnsortedDates { line: 5, .. }), "{e}");
    let mut lines: Vec<String> = history_text(10).lines().map(String::from).collect();
    lines[9] = lines[9].replacen(",", ",-", 2).replacen(",-", ",", 1);
    let h = read_history(&write(dir.path(), "h.csv", &lines.join("\n"))).unwrap();
    let e = h.returns(Window::All).unwrap_err();
    assert!(matches!(&e, RiskError::NonPositivePrice { line: 10, column, .. } if column == "BZ"), "{e}");
    let e =
        read_history(&write(dir.path(), "h.csv", "date,CL,CLM6\n2026-05-01,70,70\n2026-05-04,71,71\n")).unwrap_err();
    assert!(e.to_string().contains("same contract"), "{e}");
    let e = read_history(&write(dir.path(), "h.csv", "date,WTI_spot\n2026-05-01,70\n2026-05-04,71\n")).unwrap_err();
    assert!(e.to_string().contains("column 'WTI_spot'"), "{e}");
    let e = read_history(&write(dir.path(), "h.csv", "day,CL\n2026-05-01,70\n")).unwrap_err();
    assert!(matches!(e, RiskError::MissingColumn { wanted: "date", .. }), "{e}");
}

#[test]
fn the_json_snapshot_of_a_portfolio() {
    let dir = tempfile::tempdir().unwrap();
    let mut args =
        PortfolioArgs::new(write(dir.path(), "p.csv", POSITIONS), write(dir.path(), "h.csv", &history_text(300)));
    args.window = Window::Last(250);
    args.nav_usd = 20_000_000.0;
    let v = run_risk_portfolio(&args, |_| None).unwrap();
    assert!(v.get("compute_ms").is_none(), "timing noise removed");
    assert_eq!(v["report"]["observations"], 250);
    assert_eq!(v["nav_usd"], 20_000_000.0);
    for method in ["parametric", "historical", "monte_carlo"] {
        let figures = v["report"][method].as_array().unwrap();
        assert_eq!(figures.len(), 4, "{method}: 2 confidences × 2 horizons");
        assert!(figures.iter().all(|f| f["var_usd"].as_f64().unwrap() > 0.0));
    }
    assert_eq!(v["positions"].as_array().unwrap().len(), 6);
    assert_eq!(v["stress"].as_array().unwrap().len(), 5);
    // BZQ6, CLQ6 and HO1 have no column of their own: proxied.
    assert_eq!(v["proxied"].as_array().unwrap().len(), 2, "{}", v["proxied"]);
    // The same inputs give the same JSON (seeded Monte Carlo).
    assert_eq!(run_risk_portfolio(&args, |_| None).unwrap(), v);
    // Environment overrides of the limits apply; a bad one names the variable.
    let tight = run_risk_portfolio(&args, |k| (k == "MAX_WTI_CONTRACTS").then(|| "5".into())).unwrap();
    let cl = tight["limits"].as_array().unwrap().iter().find(|u| u["key"] == "contracts.CL").unwrap().clone();
    assert_eq!(cl["limit"], 5.0);
    assert_eq!(cl["zone"], "breach");
    let e = run_risk_portfolio(&args, |k| (k == "MAX_VAR_LIMIT").then(|| "lots".into())).unwrap_err();
    assert!(matches!(&e, PortfolioFileError::Limits(l) if l.entry == "MAX_VAR_LIMIT"), "{e}");
    assert_eq!(e.exit_code(), 2);
    // A user scenarios file adds its scenarios; a broken one is named.
    args.scenarios = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/stress_scenarios.yaml"));
    let v = run_risk_portfolio(&args, |_| None).unwrap();
    assert_eq!(v["stress"].as_array().unwrap().len(), 9);
    args.scenarios = Some(write(dir.path(), "s.yaml", "scenarios:\n  - name: x\n    description: y\n    shocks: []\n"));
    let e = run_risk_portfolio(&args, |_| None).unwrap_err();
    assert!(e.to_string().contains("scenario 'x', field 'shocks'"), "{e}");
    args.scenarios = None;
    args.limits = Some(write(dir.path(), "l.yaml", "var: 1\n"));
    let e = run_risk_portfolio(&args, |_| None).unwrap_err();
    assert!(e.to_string().contains("l.yaml"), "{e}");
}

#[test]
fn covariance_method_argument() {
    assert_eq!(parse_covariance_method("sample").unwrap(), CovarianceMethod::Sample);
    assert_eq!(parse_covariance_method("EWMA").unwrap(), CovarianceMethod::Ewma { lambda: 0.94 });
    assert_eq!(parse_covariance_method("ewma:0.97").unwrap(), CovarianceMethod::Ewma { lambda: 0.97 });
    for bad in ["ewma:1.2", "ewma:x", "garch", ""] {
        assert!(parse_covariance_method(bad).unwrap_err().to_string().contains("--method"), "{bad}");
    }
}
