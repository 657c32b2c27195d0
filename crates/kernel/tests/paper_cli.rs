//! Command-line contract tests: `trade submit` and `trade run` through the inline kernel
//! (the app's pre-trade check, limits and circuit breaker) against the seeded simulator,
//! `blotter`, `positions` and `audit verify`, their JSON shapes, bad input (exit 2,
//! nothing written) and bad databases.

use std::path::Path;

use crude_kernel::paper::{PaperRisk, trade_run, trade_submit};
use crude_model::Timestamp;
use crude_risk::RiskLimits;
use crude_store::{Durability, Store};
use crude_trading::cli::{
    BlotterArgs, CliEnv, CliError, RunArgs, RunOptions, SubmitArgs, audit_verify, blotter, positions,
};
use serde_json::Value;

/// Saturday 2026-11-21 22:28 UTC: the market is closed, the simulator starts at Sunday's open.
const NOW_MS: i64 = 1_795_300_080_000;

fn env() -> CliEnv {
    let mut e = CliEnv::new(Timestamp::from_millis(NOW_MS), "tester").unwrap();
    e.durability = Durability::Normal;
    e
}

/// The risk side as `crude trade` takes it by default: the built-in limits and the
/// simulator's own history behind the VaR check.
fn risk() -> PaperRisk {
    PaperRisk::simulated(RiskLimits::default(), "risk_limits.yaml", 42)
}

fn submit_args(contract: &str, side: &str, qty: &str, t: &str, price: Option<&str>) -> SubmitArgs {
    SubmitArgs {
        contract: contract.into(),
        side: side.into(),
        qty: qty.into(),
        order_type: t.into(),
        price: price.map(String::from),
        seed: 42,
        json: true,
        ..SubmitArgs::default()
    }
}

fn lines(buf: &[u8]) -> Vec<Value> {
    String::from_utf8(buf.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn run_file(
    db: &Path,
    file: &Path,
    seed: u64,
) -> (Result<crude_trading::cli::RunSummary, CliError>, Vec<Value>, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args = RunArgs { orders: file.to_path_buf(), seed, json: true, options: RunOptions::default() };
    let r = trade_run(db, &args, &env(), risk(), &mut out, &mut err);
    (r, lines(&out), String::from_utf8(err).unwrap())
}

#[test]
fn submit_limit_order_works_and_prints_durable_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut out = Vec::new();
    let mut a = submit_args("CLF7", "buy", "5", "limit", Some("71.25"));
    a.tif = Some("day".into());
    a.strategy = Some("test".into());
    trade_submit(&db, &a, &env(), risk(), &mut out).unwrap();
    let ls = lines(&out);
    let last = ls.last().unwrap();
    assert_eq!(last["event"], "summary");
    assert_eq!(last["status"], "working", "{last}");
    let orders: Vec<&Value> = ls.iter().filter(|l| l["event"] == "order").collect();
    assert_eq!(orders[0]["kind"], "submitted");
    assert_eq!(orders[0]["contract"], "CLF7");
    assert_eq!(orders[0]["limit_price"], 71.25);
    assert_eq!(orders[0]["strategy"], "test");
    assert_eq!(orders[1]["status"], "working");
    // Every printed event is in the database.
    let store = Store::open_existing(&db).unwrap();
    let id = last["order_id"].as_u64().unwrap();
    let o = store.load_order(id).unwrap().unwrap();
    assert_eq!(o.status, crude_model::OrderStatus::Working);
    assert_eq!(o.user, "tester");
    // A market order fills; positions and blotter show it.
    let mut out = Vec::new();
    trade_submit(&db, &submit_args("CL1", "sell", "2", "market", None), &env(), risk(), &mut out).unwrap();
    let ls = lines(&out);
    let fill = ls.iter().find(|l| l["event"] == "fill").expect("a market order fills");
    for key in ["fill_id", "order_id", "contract", "side", "qty", "price"] {
        assert!(!fill[key].is_null(), "fill line lacks {key}: {fill}");
    }
    let mut out = Vec::new();
    positions(&db, true, &mut out).unwrap();
    let pos = &lines(&out)[0];
    assert_eq!(pos[0]["qty"], -2);
    for key in ["contract", "qty", "avg_price", "realized_pnl", "unrealized_pnl"] {
        assert!(pos[0].get(key).is_some(), "positions lacks {key}");
    }
    let mut out = Vec::new();
    blotter(&db, &BlotterArgs { json: true, ..BlotterArgs::default() }, &mut out).unwrap();
    let rows = &lines(&out)[0];
    assert_eq!(rows.as_array().unwrap().len(), 1);
    for key in ["fill_id", "order_id", "contract", "side", "qty", "price", "time"] {
        assert!(!rows[0][key].is_null(), "blotter lacks {key}");
    }
    let mut out = Vec::new();
    audit_verify(&db, false, &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("audit chain OK: 2 rows"));
}

#[test]
fn bad_submissions_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bad.db");
    let cases: Vec<(SubmitArgs, &str)> = vec![
        (submit_args("CLF7", "buy", "0", "limit", Some("71.25")), "qty"),
        (submit_args("CLF7", "buy", "1.5", "limit", Some("71.25")), "qty"),
        (submit_args("CLF7", "buy", "5", "limit", Some("71.255")), "tick grid"),
        (submit_args("CLF7", "buy", "5", "limit", Some("NaN")), "price"),
        (submit_args("XXF7", "buy", "5", "market", None), "contract"),
        (submit_args("CLZ6", "buy", "5", "market", None), "expired"),
        (submit_args("CLZ26", "buy", "5", "market", None), "expired"),
        (submit_args("CLF7", "hold", "5", "market", None), "side"),
        (submit_args("CLF7", "buy", "5", "limit", None), "price"),
        (submit_args("CLF7", "buy", "5", "market", Some("70")), "price"),
    ];
    for (a, word) in cases {
        let mut out = Vec::new();
        let e = trade_submit(&db, &a, &env(), risk(), &mut out).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains(word), "'{e}' should mention {word}");
        assert!(!db.exists(), "nothing may be written for a bad order");
    }
    // A month the paper market does not quote is refused with the tradable range.
    for c in ["CL99", "CL60", "CLZ30"] {
        let e = trade_submit(&db, &submit_args(c, "buy", "1", "limit", Some("1.00")), &env(), risk(), &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        let msg = e.to_string();
        assert!(msg.contains("--contract") && msg.contains("not quoted") && msg.contains("CL trades"), "{msg}");
        assert!(!db.exists(), "nothing is written");
    }
    // Fat-finger: the market is near 75, 50.00 is far outside ±10 %. It is judged against
    // the simulated market before anything is written: no database is left behind.
    let mut out = Vec::new();
    let e = trade_submit(&db, &submit_args("CLF7", "buy", "5", "limit", Some("50.00")), &env(), risk(), &mut out)
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("fat-finger"), "{e}");
    assert!(!db.exists(), "a refused order leaves no database behind");
    // On an existing database, the refused order is not written either.
    trade_submit(&db, &submit_args("CLF7", "buy", "1", "limit", Some("71.25")), &env(), risk(), &mut Vec::new())
        .unwrap();
    let e = trade_submit(&db, &submit_args("CLF7", "buy", "5", "limit", Some("50.00")), &env(), risk(), &mut out)
        .unwrap_err();
    assert!(e.to_string().contains("fat-finger"), "{e}");
    assert_eq!(Store::open_existing(&db).unwrap().load_all_orders().unwrap().len(), 1);
}

#[test]
fn run_file_with_generic_contracts_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run.db");
    let file = dir.path().join("orders.csv");
    std::fs::write(
        &file,
        "contract,side,qty,type,price,tif,strategy\n\
         CL1,buy,3,market,,day,trend\n\
         CL2,sell,1,market,,ioc,spread\n\
         RB1,buy,2,market,,day,crack\n\
         HO1,sell,1,market,,fok,crack\n\
         CL1,sell,1,market,,day,trend\n\
         CLF7,buy,1,limit,70.00,ioc,far\n",
    )
    .unwrap();
    let (r, ls, err) = run_file(&db, &file, 7);
    let summary = r.unwrap_or_else(|e| panic!("{e}\n{err}"));
    assert_eq!(summary.submitted, 6);
    assert!(summary.fills >= 4, "{summary:?}");
    let last = ls.last().unwrap();
    assert_eq!(last["event"], "summary");
    // Orders from the file carry their line; generics resolved to specific contracts.
    let first = ls.iter().find(|l| l["event"] == "order").unwrap();
    assert_eq!(first["line"], 2);
    assert_eq!(first["contract"], "CLF7");
    assert!(ls.iter().any(|l| l["event"] == "order" && l["contract"] == "RBZ6"));
    let fills: Vec<&Value> = ls.iter().filter(|l| l["event"] == "fill").collect();
    let store = Store::open_existing(&db).unwrap();
    let db_fills = store.load_all_fills().unwrap();
    assert_eq!(fills.len(), db_fills.len());
    for f in &fills {
        let id = f["fill_id"].as_u64().unwrap();
        let d = db_fills.iter().find(|x| x.fill_id == id).unwrap();
        assert_eq!(f["price"].as_f64().unwrap(), d.price);
        assert_eq!(f["qty"].as_i64().unwrap(), d.qty);
    }
    // The far IOC limit is cancelled unfilled.
    let far = ls.iter().rev().find(|l| l["event"] == "order" && l["line"] == 7).unwrap();
    assert_eq!(far["status"], "cancelled");
    // Positions equal the sum of fills.
    let mut out = Vec::new();
    positions(&db, true, &mut out).unwrap();
    let pos = &lines(&out)[0];
    for p in pos.as_array().unwrap() {
        let code = p["contract"].as_str().unwrap();
        let sum: i64 = db_fills.iter().filter(|f| f.contract.to_string() == code).map(|f| f.signed_qty()).sum();
        assert_eq!(p["qty"].as_i64().unwrap(), sum, "{code}");
    }
    // A second run continues after the first in event time, with new ids.
    let first_last = Store::open_existing(&db).unwrap().high_water().unwrap().last_event_ts.unwrap();
    let (r2, ls2, _) = run_file(&db, &file, 7);
    r2.unwrap();
    let t1 = ls.iter().filter_map(|l| l["time"].as_str()).max().unwrap().to_string();
    let t2 = ls2.iter().filter_map(|l| l["time"].as_str()).min().unwrap().to_string();
    assert!(t2 >= t1, "{t2} must not precede {t1}");
    let second: Vec<_> =
        Store::open_existing(&db).unwrap().load_all_orders().unwrap().into_iter().filter(|o| o.order_id > 6).collect();
    assert_eq!(second.len(), 6);
    assert!(second.iter().all(|o| o.created_ts > first_last));
    let c = Store::open_existing(&db).unwrap().check_consistency().unwrap();
    assert!(c.is_consistent(), "{:?}", c.problems);
    assert_eq!(c.orders, 12);
    // Blotter filters and export.
    let mut out = Vec::new();
    blotter(&db, &BlotterArgs { json: true, strategy: Some("crack".into()), ..BlotterArgs::default() }, &mut out)
        .unwrap();
    let rows = lines(&out)[0].as_array().unwrap().clone();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["strategy"] == "crack"));
    let mut out = Vec::new();
    blotter(&db, &BlotterArgs { json: true, contract: Some("RB".into()), ..BlotterArgs::default() }, &mut out).unwrap();
    assert!(lines(&out)[0].as_array().unwrap().iter().all(|r| r["market"] == "RB"));
    let csv_path = dir.path().join("b.csv");
    let mut out = Vec::new();
    blotter(&db, &BlotterArgs { export: Some(csv_path.clone()), ..BlotterArgs::default() }, &mut out).unwrap();
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();
    let all_fills = Store::open_existing(&db).unwrap().load_all_fills().unwrap().len();
    assert_eq!(csv_text.lines().count(), 1 + all_fills);
    let mut out = Vec::new();
    blotter(
        &db,
        &BlotterArgs {
            json: true,
            from: Some("2000-01-01".into()),
            to: Some("2000-01-02".into()),
            ..BlotterArgs::default()
        },
        &mut out,
    )
    .unwrap();
    assert!(lines(&out)[0].as_array().unwrap().is_empty());
    let e = blotter(
        &db,
        &BlotterArgs { json: true, from: Some("yesterday".into()), ..BlotterArgs::default() },
        &mut Vec::new(),
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let mut out = Vec::new();
    audit_verify(&db, true, &mut out).unwrap();
    assert_eq!(lines(&out)[0]["ok"], true);
}

#[test]
fn bad_order_files_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "contract,side,qty,type,price,tif,strategy\nCL1,buy,1,market,,day,s\nCL1,buy,0,market,,day,s\nZZ1,buy,1,market,,day,s\n")
        .unwrap();
    let (r, _, _) = run_file(&db, &file, 1);
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    assert!(msg.contains("line 3, field qty") && msg.contains("line 4, field contract"), "{msg}");
    assert!(!db.exists());
    // Fat-finger at submission time: the order is refused, the others run, exit 2.
    std::fs::write(
        &file,
        "contract,side,qty,type,price,tif,strategy\nCL1,buy,1,market,,day,s\nCL1,buy,1,limit,10.00,day,s\n",
    )
    .unwrap();
    let (r, ls, err) = run_file(&db, &file, 1);
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(err.contains("line 3: field price") && err.contains("fat-finger"), "{err}");
    assert!(ls.iter().all(|l| l["line"] != 3));
    let orders = Store::open_existing(&db).unwrap().load_all_orders().unwrap();
    assert_eq!(orders.len(), 1);
}

#[test]
fn bad_databases_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let e = positions(&junk, true, &mut Vec::new()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("not a Crude database"), "{e}");
    let e = trade_submit(&junk, &submit_args("CL1", "buy", "1", "market", None), &env(), risk(), &mut Vec::new())
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let missing = dir.path().join("missing.db");
    let e = audit_verify(&missing, false, &mut Vec::new()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(!missing.exists());
}

#[test]
fn tampered_audit_log_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tamper.db");
    for _ in 0..3 {
        trade_submit(&db, &submit_args("CL1", "buy", "1", "market", None), &env(), risk(), &mut Vec::new()).unwrap();
    }
    let c = rusqlite_open(&db);
    c.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET user = 'mallory' WHERE seq = 2;").unwrap();
    drop(c);
    let mut out = Vec::new();
    let e = audit_verify(&db, false, &mut out).unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert!(String::from_utf8(out).unwrap().contains("BROKEN at row 2"));
}

fn rusqlite_open(p: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(p).unwrap()
}

#[test]
fn an_order_file_that_is_not_utf8_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let file = dir.path().join("orders.csv");
    let mut bytes =
        b"contract,side,qty,type,price,tif,strategy\nCL1,buy,1,market,,day,a\nCL1,buy,1,market,,day,".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
    std::fs::write(&file, bytes).unwrap();
    let (r, _, _) = run_file(&db, &file, 1);
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    assert!(msg.contains("line 3") && msg.contains("UTF-8"), "{msg}");
    assert!(!db.exists(), "nothing is written");
}
