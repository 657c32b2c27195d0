//! Store tests: opening and migrations, bad files, transactional writes and reads,
//! append-only tables, the audit hash chain and the consistency check.

use std::path::Path;

use crude_model::{
    ContractId, ContractMonth, Fill, Liquidity, Market, Order, OrderEvent, OrderEventKind, OrderStatus, OrderType,
    Side, TimeInForce, Timestamp,
};
use crude_store::{AuditEntry, Durability, FillQuery, Mark, Store, StoreError, StoreOptions, latest_version};
use rusqlite::Connection;

fn clf7() -> ContractId {
    ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap())
}

fn order(id: u64, status: OrderStatus, filled: i64, avg: Option<f64>) -> Order {
    Order {
        order_id: id,
        client_order_id: format!("T-{id}"),
        contract: clf7(),
        side: Side::Buy,
        qty: 5,
        order_type: OrderType::Limit,
        limit_price: Some(-1.25),
        stop_price: None,
        tif: TimeInForce::Day,
        strategy: "s1".into(),
        user: "alice".into(),
        status,
        filled_qty: filled,
        avg_fill_price: avg,
        triggered: false,
        created_ts: Timestamp(1_000),
        updated_ts: Timestamp(2_000),
        expire_ts: Some(Timestamp(9_000)),
        arrival_price: Some(-1.2),
        spread: None,
        reason: None,
        last_seq: 0,
    }
}

fn event(o: &mut Order, seq: u32, kind: OrderEventKind, prev: Option<OrderStatus>, fill_id: Option<u64>) -> OrderEvent {
    o.last_seq = seq;
    OrderEvent {
        order_id: o.order_id,
        seq,
        ts: Timestamp(1_000 + i64::from(seq)),
        kind,
        prev_status: prev,
        status: o.status,
        qty: o.qty,
        filled_qty: o.filled_qty,
        limit_price: o.limit_price,
        stop_price: o.stop_price,
        fill_id,
        reason: None,
    }
}

fn fill(id: u64, order_id: u64, qty: i64, price: f64) -> Fill {
    Fill {
        fill_id: id,
        order_id,
        contract: clf7(),
        side: Side::Buy,
        qty,
        price,
        ts: Timestamp(5_000 + id as i64),
        commission_usd: 2.0 * qty as f64,
        fees_usd: 1.5 * qty as f64,
        liquidity: Liquidity::Maker,
        strategy: "s1".into(),
    }
}

/// Writes a complete order life: submitted, accepted, a partial fill and a final fill.
fn write_filled_order(store: &mut Store, id: u64, first_fill: u64) {
    let mut o = order(id, OrderStatus::PendingNew, 0, None);
    let audit =
        AuditEntry { ts: Timestamp(1_000), user: "alice".into(), action: "order_entry".into(), details: "{}".into() };
    let e = event(&mut o, 1, OrderEventKind::Submitted, None, None);
    store.record_order_event(&o, &e, Some(&audit)).unwrap();
    o.status = OrderStatus::Working;
    let e = event(&mut o, 2, OrderEventKind::Accepted, Some(OrderStatus::PendingNew), None);
    store.record_order_event(&o, &e, None).unwrap();
    o.status = OrderStatus::PartiallyFilled;
    o.filled_qty = 2;
    o.avg_fill_price = Some(-1.25);
    let f1 = fill(first_fill, id, 2, -1.25);
    let m = Mark { contract: clf7(), price: -1.2, ts: f1.ts };
    let e = event(&mut o, 3, OrderEventKind::Fill, Some(OrderStatus::Working), Some(f1.fill_id));
    store.record_fill(&o, &e, &f1, Some(&m)).unwrap();
    o.status = OrderStatus::Filled;
    o.filled_qty = 5;
    o.avg_fill_price = Some((-1.25 * 2.0 + -1.30 * 3.0) / 5.0);
    let f2 = fill(first_fill + 1, id, 3, -1.30);
    let e = event(&mut o, 4, OrderEventKind::Fill, Some(OrderStatus::PartiallyFilled), Some(f2.fill_id));
    store.record_fill(&o, &e, &f2, None).unwrap();
}

fn open(path: &Path) -> Store {
    Store::open(path).unwrap()
}

#[test]
fn creates_migrates_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crude.db");
    let store = open(&path);
    assert_eq!(store.schema_version().unwrap(), latest_version());
    assert_eq!(store.durability(), Durability::Full);
    let mode: String = store_conn(&path).query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // Re-opening applies nothing and keeps the version.
    let store = open(&path);
    assert_eq!(store.schema_version().unwrap(), latest_version());
    drop(store);
    let s =
        Store::open_with(&path, &StoreOptions { durability: Durability::Normal, ..StoreOptions::default() }).unwrap();
    assert_eq!(s.durability(), Durability::Normal);
}

fn store_conn(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

#[test]
fn bad_files_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let e = Store::open_existing(&missing).unwrap_err();
    assert!(matches!(e, StoreError::Missing { .. }), "{e}");
    assert!(e.to_string().contains("missing.db"));
    assert!(!missing.exists(), "open_existing must not create the file");

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a database, just some text that is long enough to have a header....")
        .unwrap();
    let e = Store::open(&garbage).unwrap_err();
    assert!(matches!(e, StoreError::NotCrude { .. }), "{e}");
    assert!(e.is_bad_file());
    assert!(e.to_string().contains("garbage.db"), "{e}");

    let other = dir.path().join("other.db");
    Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    let e = Store::open(&other).unwrap_err();
    assert!(matches!(e, StoreError::NotCrude { .. }), "{e}");

    let newer = dir.path().join("newer.db");
    drop(open(&newer));
    store_conn(&newer).execute("INSERT INTO schema_version VALUES (999, 'from the future')", []).unwrap();
    let e = Store::open(&newer).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { found: 999, .. }), "{e}");

    let e = Store::open(dir.path()).unwrap_err();
    assert!(matches!(e, StoreError::Open { .. }), "{e}");
}

#[test]
fn corrupt_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    {
        let mut s =
            Store::open_with(&path, &StoreOptions { durability: Durability::Normal, ..StoreOptions::default() })
                .unwrap();
        for i in 0..200 {
            write_filled_order(&mut s, i + 1, 2 * i + 1);
        }
    }
    // Checkpoint the WAL into the main file, then overwrite pages in the middle.
    store_conn(&path).execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8 * 4096);
    for b in &mut bytes[2 * 4096..6 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let e = Store::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. } | StoreError::NotCrude { .. }), "{e}");
    assert!(e.is_bad_file());
}

#[test]
fn writes_and_reads_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.db");
    let mut s = open(&path);
    write_filled_order(&mut s, 1, 1);
    write_filled_order(&mut s, 2, 3);
    s.checkpoint().unwrap();
    let mut open_order = order(3, OrderStatus::PendingNew, 0, None);
    open_order.side = Side::Sell;
    let e = event(&mut open_order, 1, OrderEventKind::Submitted, None, None);
    s.record_order_event(&open_order, &e, None).unwrap();
    drop(s);

    let s = Store::open_existing(&path).unwrap();
    let orders = s.load_all_orders().unwrap();
    assert_eq!(orders.len(), 3);
    assert_eq!(orders[0].status, OrderStatus::Filled);
    assert_eq!(orders[0].limit_price, Some(-1.25));
    assert_eq!(orders[0].expire_ts, Some(Timestamp(9_000)));
    let open_orders = s.load_open_orders().unwrap();
    assert_eq!(open_orders, vec![open_order]);
    let fills = s.load_all_fills().unwrap();
    assert_eq!(fills.len(), 4);
    assert_eq!(fills[1], fill(2, 1, 3, -1.30));
    let events = s.load_order_events(Some(1)).unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![OrderEventKind::Submitted, OrderEventKind::Accepted, OrderEventKind::Fill, OrderEventKind::Fill]
    );
    let hw = s.high_water().unwrap();
    assert_eq!((hw.max_order_id, hw.max_fill_id, hw.order_count, hw.fill_count), (3, 4, 3, 4));
    assert_eq!(hw.last_event_ts, Some(Timestamp(5_004)));
    let marks = s.load_marks().unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].contract, clf7());
    let by_code = s.load_fills(&FillQuery { contract_code: Some("clf7".into()), ..FillQuery::default() }).unwrap();
    assert_eq!(by_code.len(), 4);
    let window = s
        .load_fills(&FillQuery {
            from_ts: Some(Timestamp(5_002)),
            to_ts: Some(Timestamp(5_004)),
            ..FillQuery::default()
        })
        .unwrap();
    assert_eq!(window.iter().map(|f| f.fill_id).collect::<Vec<_>>(), vec![2, 3]);
    let none = s.load_fills(&FillQuery { strategy: Some("other".into()), ..FillQuery::default() }).unwrap();
    assert!(none.is_empty());
    assert_eq!(s.client_order_ids().unwrap().len(), 3);
    let report = s.check_consistency().unwrap();
    assert!(report.is_consistent(), "{:?}", report.problems);
    assert_eq!((report.orders, report.fills, report.events), (3, 4, 9));
}

#[test]
fn refuses_out_of_sequence_and_mismatched_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("seq.db"));
    let mut o = order(1, OrderStatus::PendingNew, 0, None);
    // Sequence must start at 1.
    let ev = event(&mut o, 2, OrderEventKind::Submitted, None, None);
    let e = s.record_order_event(&o, &ev, None).unwrap_err();
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    let ev = event(&mut o, 1, OrderEventKind::Submitted, None, None);
    s.record_order_event(&o, &ev, None).unwrap();
    // Replaying the same event is refused (nothing duplicated).
    assert!(s.record_order_event(&o, &ev, None).is_err());
    // A fill whose event names another fill is refused and writes nothing.
    let mut w = o.clone();
    w.status = OrderStatus::PartiallyFilled;
    w.filled_qty = 1;
    w.avg_fill_price = Some(1.0);
    let ev = event(&mut w, 2, OrderEventKind::Fill, Some(OrderStatus::PendingNew), Some(99));
    let e = s.record_fill(&w, &ev, &fill(1, 1, 1, 1.0), None).unwrap_err();
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    assert!(s.load_all_fills().unwrap().is_empty());
    assert_eq!(s.load_order_events(Some(1)).unwrap().len(), 1);
}

#[test]
fn money_tables_are_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    let mut s = open(&path);
    write_filled_order(&mut s, 1, 1);
    drop(s);
    let c = store_conn(&path);
    for sql in [
        "UPDATE fills SET price = 0",
        "DELETE FROM fills",
        "UPDATE order_events SET status = 'working'",
        "DELETE FROM order_events",
        "UPDATE audit_log SET user = 'mallory'",
        "DELETE FROM audit_log",
    ] {
        let e = c.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
}

#[test]
fn audit_chain_verifies_and_reports_the_first_tampered_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut s = open(&path);
    let empty = s.verify_audit_chain().unwrap();
    assert!(empty.is_ok());
    assert_eq!(empty.rows_checked, 0);
    for i in 0..10 {
        let row = s
            .append_audit(&AuditEntry {
                ts: Timestamp(i),
                user: "bob".into(),
                action: if i % 2 == 0 { "order_entry" } else { "cancel" }.into(),
                details: format!("{{\"i\":{i}}}"),
            })
            .unwrap();
        assert_eq!(row.seq, i as u64 + 1);
    }
    let ok = s.verify_audit_chain().unwrap();
    assert!(ok.is_ok());
    assert_eq!(ok.rows_checked, 10);
    assert_eq!(s.last_audit_of(&["cancel"]).unwrap().unwrap().seq, 10);
    assert_eq!(s.load_audit(Some(&["order_entry"])).unwrap().len(), 5);
    drop(s);

    // Tamper: drop the trigger and edit row 4's details.
    let c = store_conn(&path);
    c.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET details = '{\"i\":400}' WHERE seq = 4;")
        .unwrap();
    let v = Store::open(&path).unwrap().verify_audit_chain().unwrap();
    let b = v.first_broken.unwrap();
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("does not match"), "{}", b.reason);

    // Re-hash row 4 consistently: row 5 then breaks (its prev_hash no longer matches).
    let rows = Store::open(&path).unwrap().load_audit(None).unwrap();
    let prev = crude_store::sha256::from_hex(&rows[2].hash).unwrap();
    let r4 = &rows[3];
    let h = crude_store::sha256::to_hex(&crude_store::audit_hash(&prev, 4, r4.ts, &r4.user, &r4.action, &r4.details));
    c.execute("UPDATE audit_log SET hash = ?1 WHERE seq = 4", [h]).unwrap();
    let b = Store::open(&path).unwrap().verify_audit_chain().unwrap().first_broken.unwrap();
    assert_eq!(b.seq, 5);
    assert!(b.reason.contains("prev_hash"), "{}", b.reason);

    // Deleting a row in the middle is a gap.
    let path2 = dir.path().join("audit2.db");
    let mut s2 = open(&path2);
    for i in 0..5 {
        s2.append_audit(&AuditEntry { ts: Timestamp(i), user: "u".into(), action: "a".into(), details: "{}".into() })
            .unwrap();
    }
    drop(s2);
    store_conn(&path2).execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3;").unwrap();
    let b = Store::open(&path2).unwrap().verify_audit_chain().unwrap().first_broken.unwrap();
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("deleted"), "{}", b.reason);
}

#[test]
fn consistency_check_finds_disagreements() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cc.db");
    let mut s = open(&path);
    write_filled_order(&mut s, 1, 1);
    assert!(s.check_consistency().unwrap().is_consistent());
    drop(s);
    let c = store_conn(&path);
    // Order row claims less than its fills.
    c.execute("UPDATE orders SET filled_qty = 4, status = 'partially_filled' WHERE order_id = 1", []).unwrap();
    let r = Store::open(&path).unwrap().check_consistency().unwrap();
    assert!(r.problems.iter().any(|p| p.contains("fills sum to 5")), "{:?}", r.problems);
    assert!(r.problems.iter().any(|p| p.contains("last event says filled")), "{:?}", r.problems);
}

#[test]
fn durability_pragma_names() {
    assert_eq!(Durability::Full.pragma(), "FULL");
    assert_eq!(Durability::Normal.pragma(), "NORMAL");
    assert_eq!(Durability::default(), Durability::Full);
}

/// A writer commits orders, events, fills and audit rows in many small transactions on one
/// connection while a reader checks the tables on another: every committed state is
/// consistent, so the reader must never report a problem.
#[test]
fn verify_reads_one_snapshot_while_a_session_writes() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    const ORDERS: u64 = 1_500;
    const MIN_CHECKS: u32 = 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let normal = StoreOptions { durability: Durability::Normal, ..StoreOptions::default() };
    let mut writer = Store::open_with(&path, &normal).unwrap();
    let reader = Store::open_with(&path, &StoreOptions { integrity_check: false, ..normal.clone() }).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writer_done = Arc::clone(&done);
    let w = std::thread::spawn(move || {
        for i in 0..ORDERS {
            write_filled_order(&mut writer, i + 1, 2 * i + 1);
        }
        writer_done.store(true, Ordering::SeqCst);
    });
    let mut checks = 0u32;
    let mut problems = Vec::new();
    while !done.load(Ordering::SeqCst) || checks < MIN_CHECKS {
        // Both the separate checks and the combined one, each on its own snapshot.
        let v = reader.check_consistency().unwrap();
        problems.extend(v.problems);
        let all = reader.verify().unwrap();
        if let Some(b) = all.audit.first_broken {
            problems.push(format!("audit row {}: {}", b.seq, b.reason));
        }
        if all.audit.rows_checked != all.consistency.orders {
            problems.push(format!("{} audit rows for {} orders", all.audit.rows_checked, all.consistency.orders));
        }
        problems.extend(all.consistency.problems);
        checks += 1;
        if !problems.is_empty() {
            break;
        }
        std::thread::yield_now();
    }
    w.join().unwrap();
    assert!(problems.is_empty(), "after {checks} checks: {:?}", &problems[..problems.len().min(5)]);
    let v = reader.check_consistency().unwrap();
    assert_eq!((v.orders, v.fills), (ORDERS, 2 * ORDERS));
}

/// The directory's entries with each one's size and modification time.
fn dir_state(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            (e.file_name().to_string_lossy().into_owned(), m.len(), m.modified().unwrap())
        })
        .collect();
    v.sort();
    v
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Reads everything a read command reads and checks it is what was written.
fn read_back(s: &Store, orders: u64) {
    let v = s.verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.consistency.orders, orders);
    assert_eq!(v.audit.rows_checked, orders);
    let fills = s.read_snapshot(|s| s.load_all_fills()).unwrap();
    assert_eq!(fills.len() as u64, 2 * orders);
    assert_eq!(s.read_snapshot(|s| s.load_marks()).unwrap().len(), 1);
}

/// Tests run as root here, where permission bits are not enforced: read-only is proven by
/// opening with the read-only flag and checking that no byte, time stamp or file changed.
#[test]
fn read_only_open_writes_nothing_to_a_read_only_file_or_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    {
        let mut s = open(&path);
        for i in 0..3 {
            write_filled_order(&mut s, i + 1, 2 * i + 1);
        }
    }
    // Closed cleanly: no -wal or -shm beside it.
    let names: Vec<String> = dir_state(dir.path()).into_iter().map(|e| e.0).collect();
    assert_eq!(names, ["ro.db"]);

    // The file 0444 in a writable directory.
    set_mode(&path, 0o444);
    let before = dir_state(dir.path());
    let s = Store::open_read_only(&path).unwrap();
    read_back(&s, 3);
    drop(s);
    assert_eq!(dir_state(dir.path()), before, "the file or directory changed");

    // The directory 0555 as well.
    set_mode(dir.path(), 0o555);
    let s = Store::open_read_only(&path).unwrap();
    read_back(&s, 3);
    drop(s);
    assert_eq!(dir_state(dir.path()), before, "the file or directory changed");
    set_mode(dir.path(), 0o755);
    set_mode(&path, 0o644);

    // A session has the database open: read through its write-ahead log, add no file,
    // leave the database file as it is.
    let mut writer = open(&path);
    write_filled_order(&mut writer, 4, 7);
    let before = dir_state(dir.path());
    let db_before = before.iter().find(|e| e.0 == "ro.db").cloned();
    let s = Store::open_read_only(&path).unwrap();
    read_back(&s, 4);
    drop(s);
    let after = dir_state(dir.path());
    assert_eq!(after.iter().map(|e| &e.0).collect::<Vec<_>>(), before.iter().map(|e| &e.0).collect::<Vec<_>>());
    assert_eq!(after.iter().find(|e| e.0 == "ro.db").cloned(), db_before);
    // The session keeps writing normally after the reader is gone.
    write_filled_order(&mut writer, 5, 9);
}

#[test]
fn read_only_open_changes_nothing_and_reports_when_a_session_starts_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    {
        let mut s = open(&path);
        write_filled_order(&mut s, 1, 1);
    }
    let s = Store::open_read_only(&path).unwrap();
    read_back(&s, 1);
    let mut writer = open(&path);
    write_filled_order(&mut writer, 2, 3);
    let e = s.verify().unwrap_err();
    assert!(matches!(e, StoreError::Changed { .. }), "{e}");
    assert!(e.to_string().contains("live.db") && e.to_string().contains("run the command again"), "{e}");
    // Opened again, it reads through the session's log.
    read_back(&Store::open_read_only(&path).unwrap(), 2);
}

#[test]
fn read_only_open_refuses_files_that_are_not_crude_and_leaves_them_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |name: &str| {
        let path = dir.path().join(name);
        let bytes = std::fs::read(&path).unwrap();
        let before = dir_state(dir.path());
        let e = Store::open_read_only(&path).unwrap_err();
        assert!(e.is_bad_file(), "{e}");
        assert!(e.to_string().contains(name), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} was written to");
        assert_eq!(dir_state(dir.path()), before, "a file changed or appeared");
        e
    };

    std::fs::write(dir.path().join("empty.db"), b"").unwrap();
    let e = refused("empty.db");
    assert!(matches!(e, StoreError::NotCrude { .. }) && e.to_string().contains("empty (0 bytes)"), "{e}");

    std::fs::write(dir.path().join("text.db"), b"this is not a database, just some text that is long enough....")
        .unwrap();
    let e = refused("text.db");
    assert!(matches!(e, StoreError::NotCrude { .. }), "{e}");

    Connection::open(dir.path().join("other.db"))
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let e = refused("other.db");
    assert!(matches!(e, StoreError::NotCrude { .. }) && e.to_string().contains("application_id 0x0"), "{e}");

    let newer = dir.path().join("newer.db");
    drop(open(&newer));
    store_conn(&newer).execute("INSERT INTO schema_version VALUES (999, 'from the future')", []).unwrap();
    let e = refused("newer.db");
    assert!(matches!(e, StoreError::TooNew { found: 999, .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("999") && msg.contains(&format!("({})", latest_version())), "{msg}");

    let missing = dir.path().join("missing.db");
    let e = Store::open_read_only(&missing).unwrap_err();
    assert!(matches!(e, StoreError::Missing { .. }), "{e}");
    assert!(!missing.exists());
    assert!(matches!(Store::open_read_only(dir.path()).unwrap_err(), StoreError::Open { .. }));
}

#[cfg(unix)]
#[test]
fn a_new_database_and_its_wal_are_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("private.db");
    let store = Store::open_with(&db, &StoreOptions { create: true, ..StoreOptions::default() }).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    for suffix in ["-wal", "-shm"] {
        let p = dir.path().join(format!("private.db{suffix}"));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    drop(store);
}
