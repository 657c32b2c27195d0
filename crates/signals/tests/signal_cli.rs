//! `run_signals`, the library side of `crude signals`: the JSON shape on real WTI closes and
//! OHLC bars, sources without data reported (not dropped), the text form, and every error
//! path with its line, column and exit code.

mod common;

use std::path::{Path, PathBuf};

use common::Fixture;
use crude_model::Market;
use crude_signals::{SignalCliError, SignalCliOptions, SourceId, run_signals, run_signals_with};
use serde_json::Value;

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn wti_daily() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/wti_daily_fred.csv")
}

/// The real WTI OHLCV fixture as an input file `date,open,high,low,close,volume`.
fn wti_ohlcv(dir: &Path) -> PathBuf {
    let fx = Fixture::load("wti_ohlcv.csv");
    let cols = ["date", "open", "high", "low", "close", "volume"];
    let mut s = cols.join(",");
    s.push('\n');
    for i in 0..fx.len() {
        let row: Vec<&str> = cols.iter().map(|c| fx.strings(c)[i].as_str()).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    write(dir, "wti_ohlcv.csv", &s)
}

fn component<'a>(v: &'a Value, source: &str) -> &'a Value {
    v["components"].as_array().unwrap().iter().find(|c| c["source"] == source).unwrap()
}

#[test]
fn close_only_file_reports_every_source_with_reasons() {
    let out = run_signals(&wti_daily(), true).unwrap();
    assert!(out.ends_with('\n'));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["date"], "2019-01-03");
    assert_eq!(v["market"], "CL");
    assert_eq!(v["close"], 46.92);
    assert_eq!(v["regime"], "unknown");
    assert!(v["adx"].is_null());
    let comps = v["components"].as_array().unwrap();
    assert_eq!(comps.len(), 12, "every source that applies to CL is listed");
    let names: Vec<&str> = comps.iter().map(|c| c["source"].as_str().unwrap()).collect();
    let want: Vec<&str> = SourceId::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names, want);
    for s in ["bollinger_touch", "donchian_breakout", "adx_trend"] {
        let c = component(&v, s);
        assert_eq!(c["available"], false, "{s}");
        assert_eq!(c["reason"], "needs bar highs and lows; the input has closes only");
        assert_eq!(
            (c["direction"].as_str(), c["weight"].as_f64(), c["value"].is_null()),
            (Some("NEUTRAL"), Some(0.0), true)
        );
    }
    for s in ["inventory_surprise", "term_structure_carry", "crack_mean_reversion", "wti_brent_spread", "opec_quota"] {
        let c = component(&v, s);
        assert_eq!(c["available"], false, "{s}");
        assert!(!c["reason"].as_str().unwrap().is_empty());
    }
    for s in ["ma_crossover", "rsi_extremes", "momentum", "macd_histogram"] {
        let c = component(&v, s);
        assert_eq!(c["available"], true, "{s}");
        assert!(c["value"].is_number() && c["reason"].is_null());
        let score = c["score"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&score));
        assert!((c["confidence"].as_f64().unwrap() - 100.0 * score.abs()).abs() < 1e-9);
    }
    let comp = &v["composite"];
    let dir = comp["direction"].as_str().unwrap();
    assert!(["LONG", "SHORT", "NEUTRAL"].contains(&dir));
    let conf = comp["confidence"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&conf));
    // Coverage: ma 1 + rsi 1 + momentum 1 + macd 1 of the 10.5 weight that applies to CL.
    assert!((comp["coverage"].as_f64().unwrap() - 4.0 / 10.5).abs() < 1e-12);
    assert!(comp["horizon_bars"].as_u64().unwrap() >= 1);
    match dir {
        "NEUTRAL" => assert!(comp["stop"].is_null() && comp["target"].is_null() && comp["size"] == 0),
        _ => assert!(comp["stop"].is_number() && comp["target"].is_number()),
    }
    // The engine saw every row: the same run twice is identical (deterministic).
    assert_eq!(run_signals(&wti_daily(), true).unwrap(), out);
}

#[test]
fn ohlc_file_has_a_regime_and_high_low_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = wti_ohlcv(dir.path());
    let v: Value = serde_json::from_str(&run_signals(&path, true).unwrap()).unwrap();
    assert_ne!(v["regime"], "unknown");
    assert!(v["adx"].as_f64().unwrap() > 0.0);
    assert!(v["squeeze"].is_boolean());
    for s in ["bollinger_touch", "donchian_breakout", "adx_trend"] {
        assert_eq!(component(&v, s)["available"], true, "{s}");
    }
    // As Brent the WTI-Brent and OPEC+ sources still apply; as RBOB they do not.
    let as_rb =
        run_signals_with(&path, true, &SignalCliOptions { market: Market::Rbob, ..SignalCliOptions::default() })
            .unwrap();
    let v: Value = serde_json::from_str(&as_rb).unwrap();
    assert_eq!(v["market"], "RB");
    assert_eq!(v["components"].as_array().unwrap().len(), 10);
    let text = run_signals(&path, false).unwrap();
    assert!(text.starts_with("CL 2019-01-03"), "{text}");
    assert!(
        text.contains("composite ") && text.contains("adx_trend") && text.contains("unavailable: no futures curve")
    );
}

fn err(dir: &Path, content: &str) -> SignalCliError {
    let p = write(dir, "bad.csv", content);
    run_signals(&p, true).unwrap_err()
}

#[test]
fn bad_files_name_line_and_column_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let e = err(dir.path(), "date,close\n2020-01-01,1\n2020-01-02,x\n");
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("line 3, column 2 (`close`)"), "{e}");
    let e = err(dir.path(), "date,open\n2020-01-01,1\n");
    assert!(e.to_string().contains("missing column `close`"), "{e}");
    let e = err(dir.path(), "date,close\n2020-01-02,1\n2020-01-01,1\n");
    assert!(e.to_string().contains("line 3: date `2020-01-01` is earlier"), "{e}");
    let mut rows = String::from("date,open,high,low,close\n");
    for d in 1..=20 {
        let (h, l) = if d == 17 { (9.0, 11.0) } else { (11.0, 9.0) };
        rows.push_str(&format!("2020-01-{d:02},10,{h},{l},10\n"));
    }
    let e = err(dir.path(), &rows);
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().ends_with("line 18, column 3 (`high`): high 9 is below low 11; fix the row"), "{e}");
    let e = err(dir.path(), "date,close\n2020-01-01,1\n2020-01-02,2\n");
    assert!(e.to_string().contains("2 data row(s); the signals need at least 15 rows"), "{e}");
    assert_eq!(e.exit_code(), 2);
    let e = run_signals(&dir.path().join("missing.csv"), true).unwrap_err();
    assert!(e.to_string().contains("cannot read input file") && e.exit_code() == 2, "{e}");
}
