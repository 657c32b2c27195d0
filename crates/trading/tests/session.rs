//! Durable session tests: events are committed before the sink sees them, state is rebuilt
//! from the database on open (positions from fills, open orders resumed, identifiers
//! continued, expired DAY orders expired), and the audit chain and tables verify.

use crude_model::{
    ContractId, ContractMonth, Instruments, Market, MarketEvent, OrderRequest, OrderStatus, Quote, Side, TimeInForce,
    Timestamp,
};
use crude_store::{Durability, Store, StoreOptions};
use crude_trading::{Engine, EngineEvent, LimitsConfig, SlippageModel, TradingConfig, TradingSession, actions};

/// Monday 2026-11-23 15:00 UTC (10:00 New York).
const T0_MS: i64 = 1_795_446_000_000;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0_MS + ms)
}

fn clf7() -> ContractId {
    ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap())
}

fn quote(ms: i64, bid: f64, ask: f64) -> MarketEvent {
    MarketEvent::Quote(Quote { contract: clf7(), ts: t(ms), bid, ask, bid_size: 20, ask_size: 20 })
}

fn cfg() -> TradingConfig {
    let mut c = TradingConfig::default();
    c.broker.ack_latency_ms = 0;
    c.broker.slippage = SlippageModel::None;
    c
}

fn open(
    path: &std::path::Path,
    cfg: TradingConfig,
    now: Timestamp,
    sink: &mut dyn FnMut(&EngineEvent),
) -> TradingSession {
    let store =
        Store::open_with(path, &StoreOptions { durability: Durability::Normal, ..StoreOptions::default() }).unwrap();
    TradingSession::open(store, Engine::paper(cfg, Instruments::builtin().unwrap()), now, sink).unwrap()
}

fn none() -> impl FnMut(&EngineEvent) {
    |_| {}
}

#[test]
fn events_are_durable_before_the_sink_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let reader_path = path.clone();
    let mut seen = 0;
    let mut sink = |ev: &EngineEvent| {
        // A separate connection must already see the event.
        let r = Store::open_existing(&reader_path).unwrap();
        match ev {
            EngineEvent::Order { order, event, .. } => {
                let evs = r.load_order_events(Some(order.order_id)).unwrap();
                assert_eq!(evs.last().unwrap(), event);
            }
            EngineEvent::Fill { fill, .. } => {
                assert!(r.load_all_fills().unwrap().contains(fill));
            }
            EngineEvent::Audit(a) => {
                assert!(r.load_audit(None).unwrap().iter().any(|row| row.action == a.action && row.ts == a.ts));
            }
        }
        seen += 1;
    };
    let mut s = open(&path, cfg(), t(0), &mut sink);
    s.on_market(&quote(0, 71.20, 71.22), &mut sink).unwrap();
    s.submit(OrderRequest::market(clf7(), Side::Buy, 2), &mut sink).unwrap();
    s.submit(OrderRequest::limit(clf7(), Side::Sell, 1, 71.40), &mut sink).unwrap();
    s.on_market(&quote(10, 71.41, 71.43), &mut sink).unwrap();
    drop(s);
    // submitted, accepted, fill ×1 (market); submitted, accepted (limit); fill (limit through).
    assert_eq!(seen, 6);
}

#[test]
fn reopen_rebuilds_positions_resumes_orders_and_continues_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let mut sink = none();
    let (working, day_order, realized, ids) = {
        let mut s = open(&path, cfg(), t(0), &mut sink);
        s.on_market(&quote(0, 71.20, 71.22), &mut sink).unwrap();
        s.submit(OrderRequest::market(clf7(), Side::Buy, 3).with_strategy("a"), &mut sink).unwrap();
        s.submit(OrderRequest::market(clf7(), Side::Sell, 1).with_strategy("a"), &mut sink).unwrap();
        let working = s
            .submit(OrderRequest::limit(clf7(), Side::Buy, 2, 71.00).with_tif(TimeInForce::Gtc), &mut sink)
            .unwrap()
            .order_id;
        let day = s.submit(OrderRequest::limit(clf7(), Side::Sell, 1, 71.60), &mut sink).unwrap().order_id;
        s.on_market(&quote(5, 71.25, 71.27), &mut sink).unwrap();
        s.save_marks().unwrap();
        let realized = s.engine().positions()[0].realized_pnl_usd;
        let ids: Vec<String> = s.engine().orders().map(|o| o.client_order_id.clone()).collect();
        (working, day, realized, ids)
    };
    // Reopen the next day: positions from fills, the GTC order still works, the DAY order
    // expired at yesterday's close, ids continue.
    let next_day = t(24 * 3_600_000);
    let mut events = Vec::new();
    let mut collect = |ev: &EngineEvent| events.push(ev.clone());
    let mut s = open(&path, cfg(), next_day, &mut collect);
    let p = s.engine().positions()[0].clone();
    assert_eq!(p.qty, 2);
    assert!((p.realized_pnl_usd - realized).abs() < 1e-9);
    assert!((p.mark.unwrap() - 71.26).abs() < 1e-9);
    assert_eq!(s.engine().order(working).unwrap().status, OrderStatus::Working);
    assert_eq!(s.engine().order(day_order).unwrap().status, OrderStatus::Expired);
    let store = Store::open_existing(&path).unwrap();
    assert_eq!(store.load_order(day_order).unwrap().unwrap().status, OrderStatus::Expired);
    let mut sink = none();
    s.on_market(&quote(24 * 3_600_000 + 1, 70.90, 70.98), &mut sink).unwrap();
    assert_eq!(s.engine().order(working).unwrap().status, OrderStatus::Filled);
    let o = s.submit(OrderRequest::market(clf7(), Side::Sell, 1), &mut sink).unwrap();
    assert!(o.order_id > working.max(day_order));
    assert!(!ids.contains(&o.client_order_id));
    assert!(s.engine().now() >= next_day);
    drop(s);
    let store = Store::open_existing(&path).unwrap();
    assert!(store.verify_audit_chain().unwrap().is_ok());
    let c = store.check_consistency().unwrap();
    assert!(c.is_consistent(), "{:?}", c.problems);
    let fills = store.load_all_fills().unwrap();
    let net: i64 = fills.iter().map(|f| f.signed_qty()).sum();
    assert_eq!(net, 3);
}

#[test]
fn duplicate_client_ids_are_refused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let mut sink = none();
    {
        let mut s = open(&path, cfg(), t(0), &mut sink);
        s.on_market(&quote(0, 71.20, 71.22), &mut sink).unwrap();
        let mut r = OrderRequest::market(clf7(), Side::Buy, 1);
        r.client_order_id = Some("my-id".into());
        s.submit(r, &mut sink).unwrap();
    }
    let mut s = open(&path, cfg(), t(1_000), &mut sink);
    s.on_market(&quote(1_000, 71.20, 71.22), &mut sink).unwrap();
    let mut r = OrderRequest::market(clf7(), Side::Buy, 1);
    r.client_order_id = Some("my-id".into());
    let e = s.submit(r, &mut sink).unwrap_err();
    assert!(e.to_string().contains("already used"), "{e}");
}

#[test]
fn circuit_breaker_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let mut c = cfg();
    c.limits = LimitsConfig { max_daily_loss_usd: 1_000.0, ..LimitsConfig::default() };
    let mut sink = none();
    {
        let mut s = open(&path, c.clone(), t(0), &mut sink);
        s.on_market(&quote(0, 71.20, 71.22), &mut sink).unwrap();
        s.submit(OrderRequest::market(clf7(), Side::Buy, 2), &mut sink).unwrap();
        s.on_market(&quote(10, 70.00, 70.02), &mut sink).unwrap();
        assert!(s.engine().circuit_breaker_tripped());
    }
    let mut s = open(&path, c.clone(), t(20), &mut sink);
    assert!(s.engine().circuit_breaker_tripped());
    s.reset_circuit_breaker("risk", &mut sink).unwrap();
    drop(s);
    let s = open(&path, c, t(30), &mut sink);
    assert!(!s.engine().circuit_breaker_tripped());
    let store = Store::open_existing(&path).unwrap();
    let actions_logged: Vec<String> = store.load_audit(None).unwrap().into_iter().map(|r| r.action).collect();
    assert!(actions_logged.contains(&actions::BREAKER_TRIP.to_string()));
    assert!(actions_logged.contains(&actions::BREAKER_RESET.to_string()));
}

/// A pre-trade check that refuses every order (stands in for the risk engine's check).
struct RefuseAll;

impl crude_model::PreTradeCheck for RefuseAll {
    fn check(&self, _: &OrderRequest, _: &crude_model::BookView) -> crude_model::PreTradeResult {
        crude_model::PreTradeResult {
            decision: crude_model::PreTradeDecision::Reject,
            reasons: vec!["VaR limit: test check refuses everything".into()],
            post_trade: None,
        }
    }
}

#[test]
fn runtime_check_and_daily_loss_limit_changes_are_durable_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let mut sink = none();
    let mut s = open(&path, cfg(), t(0), &mut sink);
    s.on_market(&quote(0, 71.20, 71.22), &mut sink).unwrap();
    // A refused limit writes nothing.
    let err = s.set_daily_loss_limit(f64::NAN, "risk", &mut sink).unwrap_err();
    assert!(err.to_string().contains("max_daily_loss_usd"), "{err}");
    s.set_daily_loss_limit(123_000.0, "risk", &mut sink).unwrap();
    assert_eq!(s.engine().config().limits.max_daily_loss_usd, 123_000.0);
    s.set_check(Box::new(RefuseAll));
    let out = s.submit(OrderRequest::market(clf7(), Side::Buy, 1), &mut sink).unwrap();
    assert_eq!(out.status, OrderStatus::Rejected);
    assert_eq!(out.pre_trade.reasons, vec!["VaR limit: test check refuses everything".to_string()]);
    drop(s);
    let store = Store::open_existing(&path).unwrap();
    let edits = store.load_audit(Some(&[actions::LIMIT_EDIT])).unwrap();
    assert_eq!(edits.len(), 1);
    assert!(edits[0].details.contains("123000"), "{}", edits[0].details);
    assert!(store.verify_audit_chain().unwrap().is_ok());
    assert_eq!(store.load_all_orders().unwrap()[0].status, OrderStatus::Rejected);
}
