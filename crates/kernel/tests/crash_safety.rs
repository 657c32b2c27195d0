//! Crash safety: runs a burst of orders (`crude trade run --json` through the kernel's
//! library function) in a child process, kills it with SIGKILL at random (seeded) moments at least
//! 20 times, restarting after each kill on the same database, and proves after every kill:
//!
//! * every fill in the database belongs to an order;
//! * every order's state agrees with its events and its fills (and every event sequence
//!   follows the state machine) — `Store::check_consistency`;
//! * positions (`crude positions --json` and a restarted engine) equal the sum of fills;
//! * every event the child printed (acknowledged) on stdout is in the database, unchanged;
//! * the audit hash chain verifies.
//!
//! The child is this test binary re-executed with `CRUDE_CRASH_CHILD` set (the test has its
//! own `main`). Commits use `synchronous=FULL`, the production setting.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crude_kernel::paper::{PaperRisk, trade_run};
use crude_kernel::services::risk::RiskHistorySource;
use crude_model::{Instruments, Timestamp};
use crude_store::{Durability, Store};
use crude_trading::cli::{CliEnv, RunArgs, RunOptions, positions};
use crude_trading::{Engine, TradingSession};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// Monday 2026-11-23 15:00 UTC (10:00 New York): the market is open.
const NOW_MS: i64 = 1_795_446_000_000;
const MIN_KILLS: usize = 25;
const MAX_ATTEMPTS: usize = 80;
const SEED: u64 = 20_261_123;

fn main() -> ExitCode {
    if std::env::var_os("CRUDE_CRASH_CHILD").is_some() {
        return child();
    }
    // Behave like a one-test harness for `cargo test` arguments: `--list`, name filters.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("crash_safety: test");
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "crash_safety".contains(f.as_str())) {
        println!(
            "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in 0.00s\n"
        );
        return ExitCode::SUCCESS;
    }
    println!("\nrunning 1 test");
    let started = Instant::now();
    let result = parent();
    let secs = started.elapsed().as_secs_f64();
    match result {
        Ok(()) => {
            println!(
                "test crash_safety ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in {secs:.2}s\n"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crash_safety: {e}");
            println!(
                "test crash_safety ... FAILED\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in {secs:.2}s\n"
            );
            ExitCode::FAILURE
        }
    }
}

/// The child: one `trade run` of the burst, events printed as JSON lines on stdout.
fn child() -> ExitCode {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let db = PathBuf::from(var("CRUDE_CRASH_DB"));
    let orders = PathBuf::from(var("CRUDE_CRASH_ORDERS"));
    let Ok(mut env) = CliEnv::new(Timestamp::from_millis(NOW_MS), "crash-test") else {
        return ExitCode::from(1);
    };
    env.durability = Durability::Full;
    let args = RunArgs {
        orders,
        seed: var("CRUDE_CRASH_SEED").parse().unwrap_or(1),
        json: true,
        options: RunOptions { order_interval_ms: 200, max_sim_secs: Some(60), ..RunOptions::default() },
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    // The limits apply as in `crude trade`; the VaR check's history plays no part in
    // durability, so the child skips building it.
    let mut risk = PaperRisk::simulated(crude_risk::RiskLimits::default(), "risk_limits.yaml", args.seed);
    risk.history = RiskHistorySource::None { reason: "crash test".into() };
    match trade_run(&db, &args, &env, risk, &mut out, &mut err) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("child: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The burst: market orders of every kind of TIF on generic contracts, immediate limits,
/// and resting GTC limits that survive into later runs.
fn orders_file(dir: &Path) -> PathBuf {
    let mut text = String::from("contract,side,qty,type,price,tif,strategy\n");
    let contracts = ["CL1", "CL2", "BZ1", "RB1", "HO1", "CL3"];
    for i in 0..36 {
        let c = contracts[(i + i / 6) % contracts.len()];
        let side = if i % 3 == 0 { "sell" } else { "buy" };
        let line = match i % 6 {
            0 | 1 => format!("{c},{side},{},market,,day,burst", 1 + i % 4),
            2 => format!("{c},{side},{},market,,ioc,ioc", 2 + i % 5),
            3 => format!("{c},{side},1,market,,fok,fok"),
            // Resting GTC limits and stops near the market outlive a run: the next run
            // recovers them and they may fill there.
            4 => format!("CL1,{side},1,limit,{},gtc,rest", if side == "buy" { "74.90" } else { "75.10" }),
            _ => format!("CL1,{side},1,stop,{},gtc,stops", if side == "buy" { "75.20" } else { "74.80" }),
        };
        text.push_str(&line);
        text.push('\n');
    }
    let path = dir.join("burst.csv");
    std::fs::write(&path, text).expect("write the order file");
    path
}

/// One child run: returns the complete lines it printed and whether it was killed.
/// `kill`: after the child printed this many lines, wait this long, then SIGKILL it.
fn run_child(
    db: &Path,
    orders: &Path,
    seed: u64,
    kill: Option<(usize, Duration)>,
) -> Result<(Vec<String>, bool), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .env("CRUDE_CRASH_CHILD", "1")
        .env("CRUDE_CRASH_DB", db)
        .env("CRUDE_CRASH_ORDERS", orders)
        .env("CRUDE_CRASH_SEED", seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    // A line cut by the kill has no newline: it was never acknowledged.
                    if buf.last() == Some(&b'\n')
                        && let Ok(s) = std::str::from_utf8(&buf)
                    {
                        sink.lock().map(|mut v| v.push(s.trim_end().to_string())).ok();
                    }
                }
            }
        }
    });
    let mut killed = false;
    let status = match kill {
        Some((after_lines, extra)) => {
            let mut reached: Option<Instant> = None;
            loop {
                if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
                    break st;
                }
                if reached.is_none() && lines.lock().map_err(|_| "poisoned")?.len() >= after_lines {
                    reached = Some(Instant::now());
                }
                if reached.is_some_and(|t| t.elapsed() >= extra) {
                    child.kill().map_err(|e| format!("kill: {e}"))?; // SIGKILL on Unix
                    killed = true;
                    break child.wait().map_err(|e| e.to_string())?;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        None => child.wait().map_err(|e| e.to_string())?,
    };
    reader.join().map_err(|_| "reader thread panicked")?;
    let mut err_text = String::new();
    stderr.read_to_string(&mut err_text).ok();
    if !killed && !status.success() {
        return Err(format!("child failed with {status}: {err_text}"));
    }
    let v = lines.lock().map_err(|_| "poisoned")?.clone();
    Ok((v, killed))
}

/// Every invariant, after a kill or a completed run.
fn verify(db: &Path, acknowledged: &[String]) -> Result<(), String> {
    let store = Store::open_existing(db).map_err(|e| e.to_string())?;
    let c = store.check_consistency().map_err(|e| e.to_string())?;
    if !c.is_consistent() {
        return Err(format!("inconsistent database: {:#?}", c.problems));
    }
    let v = store.verify_audit_chain().map_err(|e| e.to_string())?;
    if let Some(b) = v.first_broken {
        return Err(format!("audit chain broken at {}: {}", b.seq, b.reason));
    }
    let fills = store.load_all_fills().map_err(|e| e.to_string())?;
    let events = store.load_order_events(None).map_err(|e| e.to_string())?;
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for f in &fills {
        *sums.entry(f.contract.to_string()).or_default() += f.signed_qty();
    }
    // Positions as the CLI reports them.
    let mut out = Vec::new();
    positions(db, true, &mut out).map_err(|e| e.to_string())?;
    let text = String::from_utf8(out).map_err(|e| e.to_string())?;
    let pos: Value = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
    let listed: BTreeMap<String, i64> = pos
        .as_array()
        .ok_or("positions is not an array")?
        .iter()
        .map(|p| (p["contract"].as_str().unwrap_or("").to_string(), p["qty"].as_i64().unwrap_or(i64::MIN)))
        .collect();
    if listed != sums {
        return Err(format!("positions {listed:?} differ from the sum of fills {sums:?}"));
    }
    // Positions as a restarted engine rebuilds them.
    let engine = Engine::paper(Default::default(), Instruments::builtin().map_err(|e| e.to_string())?);
    let session = TradingSession::open(
        Store::open_existing(db).map_err(|e| e.to_string())?,
        engine,
        Timestamp::from_millis(NOW_MS),
        &mut |_| {},
    )
    .map_err(|e| e.to_string())?;
    for p in session.engine().positions() {
        let want = sums.get(&p.contract.to_string()).copied().unwrap_or(0);
        if p.qty != want {
            return Err(format!("engine position {} {} differs from the sum of fills {want}", p.contract, p.qty));
        }
    }
    drop(session);
    // Everything acknowledged is stored, unchanged.
    for line in acknowledged {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("acknowledged line is not JSON: {line}: {e}"))?;
        match v["event"].as_str() {
            Some("fill") => {
                let id = v["fill_id"].as_u64().ok_or("fill without id")?;
                let f = fills
                    .iter()
                    .find(|f| f.fill_id == id)
                    .ok_or(format!("acknowledged fill {id} is missing: {line}"))?;
                let same = Some(f.order_id) == v["order_id"].as_u64()
                    && Some(f.qty) == v["qty"].as_i64()
                    && Some(f.price) == v["price"].as_f64()
                    && Some(f.contract.to_string().as_str()) == v["contract"].as_str()
                    && Some(f.side.as_str()) == v["side"].as_str();
                if !same {
                    return Err(format!("acknowledged fill {id} differs from the database: {line} vs {f:?}"));
                }
            }
            Some("order") => {
                let id = v["order_id"].as_u64().ok_or("order without id")?;
                let seq = v["seq"].as_u64().ok_or("order event without seq")?;
                let e = events
                    .iter()
                    .find(|e| e.order_id == id && u64::from(e.seq) == seq)
                    .ok_or(format!("acknowledged event {id}/{seq} is missing: {line}"))?;
                if Some(e.status.as_str()) != v["status"].as_str() || Some(e.kind.as_str()) != v["kind"].as_str() {
                    return Err(format!("acknowledged event {id}/{seq} differs: {line} vs {e:?}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn parent() -> Result<(), String> {
    let started = Instant::now();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = dir.path().join("crash.db");
    let orders = orders_file(dir.path());
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut acknowledged: Vec<String> = Vec::new();
    // Calibrate: how long does an undisturbed run take on this machine?
    let t = Instant::now();
    let (lines, _) = run_child(&db, &orders, 1, None)?;
    let full_ms = t.elapsed().as_millis();
    let full_lines = lines.len();
    acknowledged.extend(lines);
    verify(&db, &acknowledged)?;
    let mut kills = 0;
    let mut attempts = 0;
    while kills < MIN_KILLS {
        attempts += 1;
        if attempts > MAX_ATTEMPTS {
            return Err(format!("only {kills} kills landed in {MAX_ATTEMPTS} attempts (run takes {full_ms} ms)"));
        }
        // Kill at a random point of the event stream: after a random number of printed
        // events plus a random fraction of a commit (so kills land inside transactions too),
        // including during start-up and recovery.
        let after = rng.random_range(0..full_lines.max(1));
        let extra = Duration::from_micros(rng.random_range(0..6_000));
        let delay = (after, extra);
        let (lines, killed) = run_child(&db, &orders, 2 + attempts as u64, Some(delay))?;
        let n = lines.len();
        acknowledged.extend(lines);
        verify(&db, &acknowledged).map_err(|e| format!("after attempt {attempts} ({delay:?}, {n} lines): {e}"))?;
        if killed {
            kills += 1;
        }
    }
    // A final undisturbed run on the same database.
    let (lines, killed) = run_child(&db, &orders, 999, None)?;
    if killed {
        return Err("the final run was killed".into());
    }
    acknowledged.extend(lines);
    verify(&db, &acknowledged)?;
    let store = Store::open_existing(&db).map_err(|e| e.to_string())?;
    let hw = store.high_water().map_err(|e| e.to_string())?;
    println!(
        "crash_safety: {kills} SIGKILLs in {attempts} attempts, {} acknowledged lines verified, {} orders, {} fills, undisturbed run {full_ms} ms, total {:.1} s",
        acknowledged.len(),
        hw.order_count,
        hw.fill_count,
        started.elapsed().as_secs_f64()
    );
    if hw.fill_count == 0 {
        return Err("no fills at all: the burst did not trade".into());
    }
    Ok(())
}
