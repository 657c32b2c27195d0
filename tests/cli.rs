//! The `crude` binary's headless CLI, run as a user would run it.

use std::path::Path;
use std::process::Command;

fn crude() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crude"));
    c.env("CRUDE_LOG_FILE", "0").env_remove("RUST_LOG");
    c
}

fn read_csv(path: &Path) -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    (header, lines.map(|l| l.split(',').map(str::to_string).collect()).collect())
}

fn log_returns(closes: &[f64]) -> Vec<f64> {
    closes.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
}

fn std_dev(x: &[f64]) -> f64 {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (a.iter().sum::<f64>() / a.len() as f64, b.iter().sum::<f64>() / b.len() as f64);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn simulate_writes_parsable_daily_files_with_realistic_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let out = crude().args(["simulate", "--days", "500", "--seed", "7", "--out"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut closes = std::collections::HashMap::new();
    for code in ["CL", "BZ", "RB", "HO"] {
        let (header, rows) = read_csv(&dir.path().join(format!("{code}.csv")));
        assert_eq!(header, "date,open,high,low,close,volume");
        assert_eq!(rows.len(), 500, "{code}");
        let mut prev_date = String::new();
        let mut c = Vec::new();
        for r in &rows {
            assert_eq!(r.len(), 6);
            assert!(r[0] > prev_date, "dates sorted");
            prev_date = r[0].clone();
            chrono::NaiveDate::parse_from_str(&r[0], "%Y-%m-%d").unwrap();
            let v: Vec<f64> = r[1..5].iter().map(|x| x.parse().unwrap()).collect();
            assert!(v[1] >= v[0].max(v[3]) && v[2] <= v[0].min(v[3]), "OHLC consistent: {r:?}");
            r[5].parse::<u64>().unwrap();
            c.push(v[3]);
        }
        closes.insert(code, c);
    }
    let wti = log_returns(&closes["CL"]);
    let brent = log_returns(&closes["BZ"]);
    let vol = std_dev(&wti) * 252f64.sqrt();
    assert!((vol - 0.35).abs() <= 0.35 * 0.2, "WTI vol {vol}");
    assert!(corr(&wti, &brent) > 0.9, "WTI-Brent correlation {}", corr(&wti, &brent));
    // Cracks positive in $/bbl.
    for (i, cl) in closes["CL"].iter().enumerate() {
        assert!(closes["RB"][i] * 42.0 - cl > 0.0 && closes["HO"][i] * 42.0 - cl > 0.0);
    }
    let (header, rows) = read_csv(&dir.path().join("curve.csv"));
    assert!(header.starts_with("date,market,"), "{header}");
    assert_eq!(rows.len(), 500 * 4);
}

#[test]
fn simulate_is_deterministic_per_seed() {
    let run = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = crude().args(["simulate", "--days", "20", "--seed", seed, "--out"]).arg(dir.path()).output().unwrap();
        assert!(out.status.success());
        std::fs::read_to_string(dir.path().join("CL.csv")).unwrap()
    };
    assert_eq!(run("3"), run("3"));
    assert_ne!(run("3"), run("4"));
}

#[test]
fn help_documents_every_flag() {
    let out = crude().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--feed",
        "--file",
        "--speed",
        "--seed",
        "--market",
        "--history-days",
        "--sim-config",
        "--stress-rate",
        "--max-bars",
        "simulate",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
    let out = crude().args(["simulate", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--days", "--seed", "--out", "--start"] {
        assert!(text.contains(flag), "simulate --help lacks {flag}");
    }
}

#[test]
fn bad_input_exits_2_with_a_message_naming_it() {
    let out = crude().args(["--speed", "fast", "simulate", "--out", "/tmp/x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fast"));

    let out = crude().args(["--feed", "replay"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--file"));

    let out = crude()
        .env("CRUDE_SEEED", "1")
        .args(["simulate", "--days", "1", "--out", "/tmp/crude-never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CRUDE_SEEED"));

    let out = crude()
        .env("CRUDE_SEED", "abc")
        .args(["simulate", "--days", "1", "--out", "/tmp/crude-never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("abc"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "date,close\n2024-01-02,70\n2024-01-03,oops\n").unwrap();
    let out = crude().args(["--feed", "replay", "--file"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("close"), "{err}");

    let cfg = dir.path().join("sim.yaml");
    std::fs::write(&cfg, "wti_vol_anual: 0.3\n").unwrap();
    let out =
        crude().args(["simulate", "--days", "5", "--config"]).arg(&cfg).arg("--out").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wti_vol_anual"));
}

#[test]
fn shipped_simulator_config_matches_the_documented_defaults() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/simulator.yaml")).unwrap();
    let cfg: crude_feeds::sim::SimConfig = serde_yaml::from_str(&text).unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg, crude_feeds::sim::SimConfig::default());
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn risk_reports_the_contract_shape() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wti_daily_fred.csv");
    let v = json(
        &crude()
            .args(["risk", "--input"])
            .arg(&data)
            .args(["--json", "--window", "500", "--confidence", "0.95,0.99"])
            .output()
            .unwrap(),
    );
    assert_eq!(v["observations"], 500);
    for table in ["var", "es"] {
        for method in ["historical", "parametric", "monte_carlo"] {
            for c in ["0.95", "0.99"] {
                let x = v[table][method][c].as_f64().unwrap_or_else(|| panic!("{table}.{method}.{c}"));
                assert!(x > 0.0 && x < 0.5, "{table}.{method}.{c} = {x}");
            }
        }
    }
    for k in ["mu", "omega", "alpha", "beta", "loglik", "next_variance"] {
        assert!(v["garch"][k].as_f64().is_some(), "garch.{k}");
    }
    let out = crude().args(["risk", "--input"]).arg(&data).args(["--json", "--confidence", "1.5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn option_prices_and_solves_implied_vol() {
    let args = [
        "option",
        "--type",
        "call",
        "--forward",
        "75",
        "--strike",
        "80",
        "--years",
        "0.5",
        "--rate",
        "0.045",
        "--json",
    ];
    let v = json(&crude().args(args).args(["--vol", "0.35"]).output().unwrap());
    let price = v["price"].as_f64().unwrap();
    for k in ["delta", "gamma", "vega", "theta", "rho"] {
        assert!(v[k].as_f64().is_some(), "{k}");
    }
    let back = json(&crude().args(args).args(["--price", &price.to_string()]).output().unwrap());
    assert!((back["vol"].as_f64().unwrap() - 0.35).abs() < 1e-9);
    let out = crude()
        .args(["option", "--type", "call", "--forward", "-5", "--strike", "80", "--years", "0.5", "--vol", "0.3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Bachelier"));
}

#[test]
fn indicators_writes_the_default_header() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "date,open,high,low,close,volume\n2024-01-02,70,71,69,70.5,100\n2024-01-03,70.5,72,70,71.5,120\n",
    )
    .unwrap();
    let out = crude().args(["indicators", "--input"]).arg(&input).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().next().unwrap(),
        "date,sma_20,ema_20,rsi_14,macd_12_26_9,macd_signal_12_26_9,macd_hist_12_26_9,bb_upper_20_2,bb_middle_20_2,bb_lower_20_2,atr_14,adx_14"
    );
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn shipped_trading_config_matches_the_documented_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/trading.yaml");
    let cfg = crude_trading::TradingConfig::load(&path).unwrap();
    cfg.validate("config/trading.yaml").unwrap();
    assert_eq!(cfg, crude_trading::TradingConfig::default());
}

#[test]
fn a_bad_trading_config_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let cfg = dir.path().join("trading.yaml");
    std::fs::write(&cfg, "broker:\n  comission_usd_per_contract: 1\n").unwrap();
    let out = crude()
        .args(["trade", "--db"])
        .arg(&db)
        .arg("--trading-config")
        .arg(&cfg)
        .args(["submit", "--contract", "CL1", "--side", "buy", "--qty", "1", "--type", "market"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("comission_usd_per_contract"), "{err}");
    assert!(!db.exists(), "no database may be created from a rejected configuration");
}

#[test]
fn paper_trade_is_durable_and_auditable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = crude()
        .args(["trade", "--db"])
        .arg(&db)
        .args(["submit", "--contract", "CL1", "--side", "buy", "--qty", "3", "--type", "market", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fills: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["event"] == "fill")
        .collect();
    assert_eq!(fills.iter().map(|f| f["qty"].as_i64().unwrap()).sum::<i64>(), 3);
    let pos = json(&crude().args(["positions", "--db"]).arg(&db).arg("--json").output().unwrap());
    assert_eq!(pos[0]["qty"], 3);
    let blotter = json(&crude().args(["blotter", "--db"]).arg(&db).arg("--json").output().unwrap());
    assert_eq!(blotter.as_array().unwrap().len(), fills.len());
    let out = crude().args(["audit", "--db"]).arg(&db).arg("verify").output().unwrap();
    assert!(out.status.success());
    let out = crude()
        .args(["trade", "--db"])
        .arg(&db)
        .args(["submit", "--contract", "CL1", "--side", "buy", "--qty", "1", "--type", "limit", "--price", "70.005"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("price"));
}

#[test]
fn signals_reports_composite_components_and_regime() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wti_daily_fred.csv");
    let v = json(&crude().args(["signals", "--input"]).arg(&data).arg("--json").output().unwrap());
    assert!(["LONG", "SHORT", "NEUTRAL"].contains(&v["composite"]["direction"].as_str().unwrap()), "{v}");
    let conf = v["composite"]["confidence"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&conf));
    assert!(v["regime"].is_string() || v["regime"].is_object(), "{v}");
    assert!(v["components"].as_array().unwrap().len() >= 5);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "date,close\n2024-01-03,70\n2024-01-02,71\n").unwrap();
    let out = crude().args(["signals", "--input"]).arg(&bad).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));
}

#[test]
fn signals_read_the_signals_config() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wti_daily_fred.csv");
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/signals.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A threshold no composite reaches: every direction is NEUTRAL.
    let strict = dir.path().join("strict.yaml");
    std::fs::write(&strict, shipped.replacen("entry_threshold: 0.2", "entry_threshold: 0.99", 1)).unwrap();
    let v = json(
        &crude()
            .args(["signals", "--input"])
            .arg(&data)
            .arg("--json")
            .arg("--signals-config")
            .arg(&strict)
            .output()
            .unwrap(),
    );
    assert_eq!(v["composite"]["direction"], "NEUTRAL", "{v}");
    // Under the shipped threshold (0.2) some component with |score| below 0.99 has a
    // direction; under 0.99 none has.
    let directed = |v: &serde_json::Value| {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["score"].as_f64().is_some_and(|x| x.abs() < 0.99) && c["direction"] != "NEUTRAL")
            .count()
    };
    assert_eq!(directed(&v), 0, "{v}");
    let default = json(&crude().args(["signals", "--input"]).arg(&data).arg("--json").output().unwrap());
    assert!(directed(&default) > 0, "the shipped threshold gives directions: {default}");
    // A broken file is refused naming the field, through the flag or the variable.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, shipped.replacen("entry_threshold: 0.2", "entry_threshold: 7", 1)).unwrap();
    for out in [
        crude().args(["signals", "--input"]).arg(&data).arg("--signals-config").arg(&broken).output().unwrap(),
        crude().args(["signals", "--input"]).arg(&data).env("CRUDE_SIGNALS_CONFIG", &broken).output().unwrap(),
    ] {
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("entry_threshold"), "{err}");
    }
}

#[test]
fn risk_portfolio_mode_reports_var_stress_and_limits_for_a_book() {
    let dir = tempfile::tempdir().unwrap();
    let positions = dir.path().join("positions.csv");
    std::fs::write(&positions, "contract,qty,price\nCL1,10,60.00\n").unwrap();
    // The last 801 real WTI closes, as a one-series daily history.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wti_daily_fred.csv")).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let tail = &rows[rows.len() - 801..];
    let history = dir.path().join("history.csv");
    std::fs::write(&history, format!("date,CL\n{}\n", tail.join("\n"))).unwrap();
    let out = crude()
        .args(["risk", "--positions"])
        .arg(&positions)
        .arg("--history")
        .arg(&history)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    // Delta-normal VaR of a 600,000 USD long: exposure × z × σ of the last 500 log returns
    // (sample standard deviation), √10 for 10 days.
    let closes: Vec<f64> = tail.iter().map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    let r = log_returns(&closes);
    let sigma = std_dev(&r[r.len() - 500..]);
    let expected_95 = 600_000.0 * 1.644_853_626_951_472_2 * sigma;
    let p = &v["report"]["parametric"];
    let find = |c: f64, h: u64| {
        p.as_array()
            .unwrap()
            .iter()
            .find(|f| f["confidence"].as_f64() == Some(c) && f["horizon_days"].as_u64() == Some(h))
            .unwrap()["var_usd"]
            .as_f64()
            .unwrap()
    };
    assert!((find(0.95, 1) - expected_95).abs() <= 1e-9 * expected_95, "{} vs {expected_95}", find(0.95, 1));
    assert!((find(0.95, 10) - expected_95 * 10f64.sqrt()).abs() <= 1e-9 * expected_95 * 10.0);
    // April 2020: the WTI front month settles at -37.63.
    let april =
        v["stress"].as_array().unwrap().iter().find(|s| s["scenario"].as_str().unwrap().contains("2020")).unwrap();
    assert!((april["pnl_usd"].as_f64().unwrap() - 10.0 * 1000.0 * (-37.63 - 60.0)).abs() < 1e-6);
    assert!(v["limits"].as_array().unwrap().iter().any(|l| l["key"] == "var"));
    // Contracts are written as exchange codes: CL1 on the history's last date (2019-01-03)
    // is the February 2019 contract.
    assert_eq!(v["positions"][0]["contract"], "CLG9");
    // A bad positions file names the line and the column; exit status 2.
    std::fs::write(&positions, "contract,qty,price\nCL1,2.5,60\n").unwrap();
    let out = crude()
        .args(["risk", "--positions"])
        .arg(&positions)
        .arg("--history")
        .arg(&history)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("qty"), "{err}");
}

#[test]
fn the_app_refuses_an_invalid_limits_file_before_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let limits = dir.path().join("risk_limits.yaml");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/risk_limits.yaml")).unwrap();
    std::fs::write(&limits, text.replace("critical: 0.9", "critical: 0.5")).unwrap();
    let out = crude()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("CRUDE_DATA_DIR", dir.path())
        .arg("--risk-limits")
        .arg(&limits)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("thresholds") && err.contains("critical"), "{err}");
    assert!(!dir.path().join("crude.db").exists(), "nothing starts on an invalid limits file");
    // An environment override that does not parse is named too.
    let out = crude()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("CRUDE_DATA_DIR", dir.path())
        .env("MAX_VAR_LIMIT", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAX_VAR_LIMIT"));
}

#[test]
fn negative_numbers_are_named_by_their_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let db = dir.path().join("t.db");
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (vec!["simulate".into(), "--days".into(), "-5".into(), "--out".into(), out_dir.clone().into()], "--days"),
        (vec!["simulate".into(), "--seed".into(), "-1".into(), "--out".into(), out_dir.clone().into()], "--seed"),
        (
            vec![
                "trade".into(),
                "--db".into(),
                db.clone().into(),
                "submit".into(),
                "--contract".into(),
                "CL1".into(),
                "--side".into(),
                "buy".into(),
                "--qty".into(),
                "-1".into(),
                "--type".into(),
                "market".into(),
            ],
            "qty",
        ),
        (
            vec!["--history-days".into(), "-1".into(), "simulate".into(), "--out".into(), out_dir.clone().into()],
            "--history-days",
        ),
        (vec!["--speed".into(), "-1".into(), "simulate".into(), "--out".into(), out_dir.clone().into()], "speed"),
    ];
    for (args, flag) in cases {
        let out = crude().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
    assert!(!db.exists(), "nothing is written for a refused order");
}

#[test]
fn refusals_name_the_field_or_variable_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let submit = |extra: &[&str]| {
        let mut c = crude();
        c.args(["trade", "--db"]).arg(&db).args(["submit", "--contract", "CL1", "--side", "buy"]).args(extra);
        c.output().unwrap()
    };
    let out = submit(&["--qty", "1e12", "--type", "market"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--qty") && !err.contains("1000000000000"), "{err}");
    let out = submit(&["--qty", "1", "--type", "limit", "--price", "1e308"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--price:") && !err.contains("--limit-price") && !err.contains("inf"), "{err}");
    // A missing database is named once, not once per layer of the error.
    let out = crude().args(["positions", "--db"]).arg(dir.path().join("nope.db")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("does not exist").count(), 1, "{err}");
    // A malformed setting is named by its variable.
    let out = crude().args(["simulate", "--out"]).arg(dir.path().join("o")).env("CRUDE_SEED", "abc").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("CRUDE_SEED=abc"), "{err}");
    let out =
        crude().args(["simulate", "--out"]).arg(dir.path().join("o")).env("RUST_LOG", "info,[[[").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("RUST_LOG="), "{err}");
    assert!(!db.exists(), "refused orders write nothing");
}

#[cfg(unix)]
#[test]
fn the_trading_record_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = crude()
        .args(["trade", "--db"])
        .arg(&db)
        .args(["submit", "--contract", "CL1", "--side", "buy", "--qty", "1", "--type", "market"])
        .env("CRUDE_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut seen = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let p = entry.path();
        if p.is_file() {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", p.display());
            seen += 1;
        }
    }
    assert!(seen >= 2, "the database and its lock file");
    for log in std::fs::read_dir(dir.path().join("data")).into_iter().flatten().flatten() {
        let mode = log.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", log.path().display());
    }
}
