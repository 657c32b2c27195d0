//! Engine tests driven by hand-made market events: the paper broker's fill rules, the order
//! state machine through the engine, pre-trade rejection, the circuit breaker, spreads, the
//! kill switch, bar-by-bar driving and determinism.

use crude_model::{
    Bar, ContractId, ContractMonth, Instruments, Liquidity, Market, MarketEvent, OrderRequest, OrderStatus,
    PreTradeDecision, Quote, SeriesId, Side, TimeInForce, Timeframe, Timestamp, Trade,
};
use crude_trading::{
    AmendRequest, Engine, EngineEvent, LimitsConfig, SlippageModel, SpreadRequest, TradingConfig, TradingError, actions,
};

/// Monday 2026-11-23 15:00 UTC (10:00 New York), inside the CME session.
const T0_MS: i64 = 1_795_446_000_000;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0_MS + ms)
}

fn clf7() -> ContractId {
    ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap())
}

fn bzg7() -> ContractId {
    ContractId::new(Market::Brent, ContractMonth::new(2027, 2).unwrap())
}

fn quote(c: ContractId, ms: i64, bid: f64, ask: f64, bid_size: u32, ask_size: u32) -> MarketEvent {
    MarketEvent::Quote(Quote { contract: c, ts: t(ms), bid, ask, bid_size, ask_size })
}

fn trade(c: ContractId, ms: i64, price: f64, size: u32) -> MarketEvent {
    MarketEvent::Trade(Trade { contract: c, ts: t(ms), price, size })
}

fn config(latency_ms: u64, slippage_ticks: u32) -> TradingConfig {
    let mut cfg = TradingConfig::default();
    cfg.broker.ack_latency_ms = latency_ms;
    cfg.broker.slippage = SlippageModel::FixedTicks { ticks: slippage_ticks };
    cfg
}

fn engine(cfg: TradingConfig) -> Engine {
    let mut e = Engine::paper(cfg, Instruments::builtin().unwrap());
    e.advance_to(t(0));
    e
}

fn fills(events: &[EngineEvent]) -> Vec<(i64, f64, Liquidity)> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Fill { fill, .. } => Some((fill.qty, fill.price, fill.liquidity)),
            _ => None,
        })
        .collect()
}

fn kinds(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            EngineEvent::Order { event, .. } => event.kind.as_str().to_string(),
            EngineEvent::Fill { .. } => "FILL".to_string(),
            EngineEvent::Audit(a) => format!("audit:{}", a.action),
        })
        .collect()
}

#[test]
fn market_order_acknowledged_after_latency_fills_at_touch_plus_slippage_by_displayed_size() {
    let mut e = engine(config(20, 1));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 3));
    let out = e.submit(OrderRequest::market(clf7(), Side::Buy, 5)).unwrap();
    assert_eq!(out.status, OrderStatus::PendingNew);
    assert_eq!(kinds(&e.take_events()), vec!["submitted"]);
    // Nothing happens before the acknowledgement.
    e.on_market(&quote(clf7(), 10, 71.20, 71.22, 10, 3));
    assert!(e.take_events().is_empty());
    // At 25 ms the ack (due at 20 ms) comes first, against the book as it stood: 3 lots at 71.22 + 1 tick.
    e.on_market(&quote(clf7(), 25, 71.21, 71.23, 10, 1));
    let ev = e.take_events();
    assert_eq!(kinds(&ev), vec!["accepted", "FILL", "FILL"]);
    assert_eq!(fills(&ev), vec![(3, 71.23, Liquidity::Taker), (1, 71.24, Liquidity::Taker)]);
    let o = e.order(out.order_id).unwrap();
    assert_eq!((o.status, o.filled_qty), (OrderStatus::PartiallyFilled, 4));
    // The same quote again displays no fresh size.
    e.on_market(&quote(clf7(), 30, 71.21, 71.23, 10, 1));
    assert!(fills(&e.take_events()).is_empty());
    e.on_market(&quote(clf7(), 40, 71.22, 71.25, 10, 8));
    assert_eq!(fills(&e.take_events()), vec![(1, 71.26, Liquidity::Taker)]);
    let o = e.order(out.order_id).unwrap();
    assert_eq!(o.status, OrderStatus::Filled);
    assert!((o.avg_fill_price.unwrap() - (3.0 * 71.23 + 71.24 + 71.26) / 5.0).abs() < 1e-9);
    let p = &e.positions()[0];
    assert_eq!(p.qty, 5);
    assert!((p.fees_usd - 5.0 * 3.5).abs() < 1e-9, "commission 2.00 + fees 1.50 per contract");
}

#[test]
fn resting_limit_fills_only_when_the_market_trades_through() {
    let mut e = engine(config(0, 1));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 10));
    let id = e.submit(OrderRequest::limit(clf7(), Side::Buy, 4, 71.10)).unwrap().order_id;
    assert_eq!(e.order(id).unwrap().status, OrderStatus::Working);
    e.take_events();
    // A trade at the limit is not through.
    e.on_market(&trade(clf7(), 5, 71.10, 50));
    // A touch at the limit is not through either.
    e.on_market(&quote(clf7(), 6, 71.09, 71.10, 10, 10));
    assert!(fills(&e.take_events()).is_empty());
    // A trade through: filled at the limit, up to the trade size, as maker.
    e.on_market(&trade(clf7(), 7, 71.09, 3));
    assert_eq!(fills(&e.take_events()), vec![(3, 71.10, Liquidity::Maker)]);
    // The ask moving through fills the rest at the limit.
    e.on_market(&quote(clf7(), 8, 71.05, 71.08, 10, 5));
    assert_eq!(fills(&e.take_events()), vec![(1, 71.10, Liquidity::Maker)]);
    assert_eq!(e.order(id).unwrap().status, OrderStatus::Filled);
}

#[test]
fn marketable_limit_takes_at_the_touch_capped_by_its_limit() {
    let mut e = engine(config(0, 2));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 2));
    let id = e.submit(OrderRequest::limit(clf7(), Side::Buy, 5, 71.23)).unwrap().order_id;
    // Touch 71.22 + 2 ticks = 71.24, capped at the limit 71.23; 2 displayed.
    assert_eq!(fills(&e.take_events()), vec![(2, 71.23, Liquidity::Taker)]);
    assert_eq!(e.order(id).unwrap().status, OrderStatus::PartiallyFilled);
}

#[test]
fn stops_trigger_on_trades_and_stop_limits_become_limits() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 10));
    let stop = e.submit(OrderRequest::stop(clf7(), Side::Buy, 2, 71.50)).unwrap().order_id;
    let sl = e.submit(OrderRequest::stop_limit(clf7(), Side::Sell, 2, 71.00, 70.95)).unwrap().order_id;
    e.take_events();
    e.on_market(&trade(clf7(), 5, 71.49, 1));
    assert!(e.take_events().is_empty());
    e.on_market(&quote(clf7(), 6, 71.50, 71.52, 10, 10));
    // The bid reached the buy stop: triggered, then filled at the ask.
    let ev = e.take_events();
    assert_eq!(kinds(&ev), vec!["triggered", "FILL"]);
    assert_eq!(fills(&ev), vec![(2, 71.52, Liquidity::Taker)]);
    assert!(e.order(stop).unwrap().triggered);
    // The sell stop-limit triggers on a trade at 71.00 and rests as a limit at 70.95 (bid 70.90 is below it).
    e.on_market(&quote(clf7(), 7, 70.90, 70.93, 10, 10));
    e.take_events();
    let o = e.order(sl).unwrap();
    assert!(o.triggered);
    assert_eq!(o.filled_qty, 0);
    e.on_market(&trade(clf7(), 8, 70.96, 4));
    assert_eq!(fills(&e.take_events()), vec![(2, 70.95, Liquidity::Maker)]);
}

#[test]
fn ioc_and_fok_semantics() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 3));
    let ioc = e.submit(OrderRequest::market(clf7(), Side::Buy, 5).with_tif(TimeInForce::Ioc)).unwrap().order_id;
    let ev = e.take_events();
    assert_eq!(fills(&ev), vec![(3, 71.22, Liquidity::Taker)]);
    let o = e.order(ioc).unwrap();
    assert_eq!((o.status, o.filled_qty), (OrderStatus::Cancelled, 3));
    assert!(o.reason.as_deref().unwrap().contains("ioc"));
    // The 3 displayed lots are gone for this quote: a FOK for 2 cannot fill and is cancelled with no fill.
    let fok = e.submit(OrderRequest::market(clf7(), Side::Buy, 2).with_tif(TimeInForce::Fok)).unwrap().order_id;
    assert!(fills(&e.take_events()).is_empty());
    assert_eq!(e.order(fok).unwrap().status, OrderStatus::Cancelled);
    e.on_market(&quote(clf7(), 5, 71.20, 71.22, 10, 6));
    let fok2 = e.submit(OrderRequest::limit(clf7(), Side::Buy, 6, 71.22).with_tif(TimeInForce::Fok)).unwrap().order_id;
    assert_eq!(fills(&e.take_events()), vec![(6, 71.22, Liquidity::Taker)]);
    assert_eq!(e.order(fok2).unwrap().status, OrderStatus::Filled);
    // An IOC limit away from the market cancels without a fill.
    let far = e.submit(OrderRequest::limit(clf7(), Side::Sell, 1, 71.50).with_tif(TimeInForce::Ioc)).unwrap().order_id;
    assert_eq!(e.order(far).unwrap().status, OrderStatus::Cancelled);
    assert_eq!(e.order(far).unwrap().filled_qty, 0);
}

#[test]
fn day_orders_expire_at_the_session_close_and_gtc_orders_do_not() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 10));
    let day = e.submit(OrderRequest::limit(clf7(), Side::Buy, 1, 70.00)).unwrap().order_id;
    let gtc = e.submit(OrderRequest::limit(clf7(), Side::Buy, 1, 70.00).with_tif(TimeInForce::Gtc)).unwrap().order_id;
    let close = e.order(day).unwrap().expire_ts.unwrap();
    // 17:00 New York = 22:00 UTC on 2026-11-23.
    assert_eq!(close, t(7 * 3_600_000));
    e.take_events();
    e.on_market(&quote(clf7(), 7 * 3_600_000 + 3_600_000, 71.0, 71.02, 5, 5));
    let ev = e.take_events();
    assert_eq!(kinds(&ev), vec!["expired"]);
    match &ev[0] {
        EngineEvent::Order { event, .. } => assert_eq!(event.ts, close),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.order(day).unwrap().status, OrderStatus::Expired);
    assert_eq!(e.order(gtc).unwrap().status, OrderStatus::Working);
    // A GTC order expires with its contract's last session.
    assert!(e.order(gtc).unwrap().expire_ts.unwrap() > close);
}

#[test]
fn cancel_amend_and_illegal_transitions() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 10));
    let id = e.submit(OrderRequest::limit(clf7(), Side::Buy, 3, 71.00)).unwrap().order_id;
    e.take_events();
    // Amend the price through the market: it becomes marketable and fills.
    e.amend(id, AmendRequest { limit_price: Some(71.22), ..AmendRequest::default() }, "alice").unwrap();
    let ev = e.take_events();
    assert_eq!(kinds(&ev), vec!["amended", "FILL"]);
    match &ev[0] {
        EngineEvent::Order { audit: Some(a), .. } => assert_eq!(a.action, actions::AMEND),
        other => panic!("amend must carry its audit record: {other:?}"),
    }
    assert_eq!(e.order(id).unwrap().status, OrderStatus::Filled);
    // Cancelling a filled order is illegal: refused, audited, nothing else changes.
    let err = e.cancel(id, "alice").unwrap_err();
    assert!(matches!(err, TradingError::Illegal(_)));
    assert_eq!(err.to_string(), format!("order {id}: illegal transition filled -> cancelled (cancel)"));
    assert_eq!(kinds(&e.take_events()), vec![format!("audit:{}", actions::REFUSED)]);
    // Amend and cancel a working order.
    let w = e.submit(OrderRequest::limit(clf7(), Side::Sell, 5, 71.50)).unwrap().order_id;
    e.take_events();
    let bad = e.amend(w, AmendRequest { limit_price: Some(71.505), ..AmendRequest::default() }, "alice").unwrap_err();
    assert!(bad.to_string().contains("limit_price"), "{bad}");
    assert!(e.amend(w, AmendRequest { stop_price: Some(70.0), ..AmendRequest::default() }, "alice").is_err());
    e.amend(w, AmendRequest { qty: Some(2), ..AmendRequest::default() }, "alice").unwrap();
    assert_eq!(e.order(w).unwrap().qty, 2);
    e.cancel(w, "bob").unwrap();
    let ev = e.take_events();
    assert_eq!(kinds(&ev), vec!["amended", "cancelled"]);
    match &ev[1] {
        EngineEvent::Order { audit: Some(a), order, .. } => {
            assert_eq!(a.action, actions::CANCEL);
            assert_eq!(order.status, OrderStatus::Cancelled);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.illegal_log().len(), 1);
    assert_eq!(e.illegal_log()[0].transition.action, "cancel");
}

#[test]
fn validation_errors_emit_nothing_and_negative_prices_trade() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, -37.65, -37.60, 10, 10));
    assert!(e.submit(OrderRequest::market(clf7(), Side::Buy, 0)).is_err());
    assert!(e.submit(OrderRequest::limit(clf7(), Side::Buy, 1, -37.625)).is_err());
    // Fat-finger: 10 % of 37.625 ≈ 3.76.
    let err = e.submit(OrderRequest::limit(clf7(), Side::Buy, 1, -30.00)).unwrap_err();
    assert!(err.to_string().contains("fat-finger"), "{err}");
    assert!(e.take_events().is_empty());
    let id = e.submit(OrderRequest::limit(clf7(), Side::Buy, 2, -37.60)).unwrap().order_id;
    assert_eq!(fills(&e.take_events()), vec![(2, -37.60, Liquidity::Taker)]);
    e.on_market(&quote(clf7(), 5, -38.00, -37.90, 10, 10));
    let p = e.positions()[0].clone();
    assert_eq!(p.qty, 2);
    // Mid −37.95 vs entry −37.60: −0.35 × 2 × 1,000.
    assert!((p.unrealized_pnl_usd() + 700.0).abs() < 1e-6);
    assert_eq!(e.order(id).unwrap().status, OrderStatus::Filled);
}

#[test]
fn pre_trade_rejection_is_recorded_and_circuit_breaker_latches_until_reset() {
    let mut cfg = config(0, 0);
    cfg.limits = LimitsConfig { max_contracts_per_contract: 5, max_daily_loss_usd: 5_000.0, ..LimitsConfig::default() };
    let mut e = engine(cfg);
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 50, 50));
    let r = e.submit(OrderRequest::market(clf7(), Side::Buy, 6)).unwrap();
    assert_eq!(r.status, OrderStatus::Rejected);
    let ev = e.take_events();
    assert_eq!(kinds(&ev), vec!["submitted", "rejected"]);
    assert!(fills(&ev).is_empty());
    // Buy 5, then the market drops 1.20: −6,000 day P&L trips the breaker.
    e.submit(OrderRequest::market(clf7(), Side::Buy, 5)).unwrap();
    e.take_events();
    e.on_market(&quote(clf7(), 10, 70.00, 70.02, 50, 50));
    let ev = e.take_events();
    assert!(kinds(&ev).contains(&format!("audit:{}", actions::BREAKER_TRIP)), "{:?}", kinds(&ev));
    assert!(e.circuit_breaker_tripped());
    // Risk-increasing orders are rejected; reducing ones pass.
    let inc = e.submit(OrderRequest::market(clf7(), Side::Buy, 1)).unwrap();
    assert_eq!(inc.status, OrderStatus::Rejected);
    assert!(inc.pre_trade.reasons.iter().any(|r| r.contains("circuit breaker")));
    let dec = e.submit(OrderRequest::market(clf7(), Side::Sell, 1)).unwrap();
    assert_eq!(dec.status, OrderStatus::Filled);
    e.take_events();
    e.reset_circuit_breaker("risk-manager");
    assert!(!e.circuit_breaker_tripped());
    assert_eq!(kinds(&e.take_events()), vec![format!("audit:{}", actions::BREAKER_RESET)]);
    let again = e.submit(OrderRequest::market(clf7(), Side::Buy, 1)).unwrap();
    assert_eq!(again.status, OrderStatus::Filled);
}

#[test]
fn spread_legs_are_linked() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 10, 10));
    e.on_market(&quote(bzg7(), 0, 75.40, 75.43, 10, 10));
    let s = SpreadRequest::wti_brent(clf7(), bzg7(), Side::Buy, 2).unwrap();
    let out = e.submit_spread(&s).unwrap();
    assert_eq!(out.legs.len(), 2);
    assert!(out.legs.iter().all(|l| l.status == OrderStatus::Filled));
    let pos: Vec<(String, i64)> = e.positions().iter().map(|p| (p.contract.to_string(), p.qty)).collect();
    assert_eq!(pos, vec![("CLF7".to_string(), 2), ("BZG7".to_string(), -2)]);
    // Limit legs away from the market rest; cancelling one leg cancels the other.
    let mut s2 = SpreadRequest::wti_brent(clf7(), bzg7(), Side::Sell, 1).unwrap();
    s2.legs[0].limit_price = Some(71.50);
    s2.legs[1].limit_price = Some(75.00);
    let out = e.submit_spread(&s2).unwrap();
    let (a, b) = (out.legs[0].order_id, out.legs[1].order_id);
    assert_eq!(e.order(a).unwrap().spread.unwrap().spread_id, out.spread_id);
    e.cancel(a, "alice").unwrap();
    assert_eq!(e.order(a).unwrap().status, OrderStatus::Cancelled);
    assert_eq!(e.order(b).unwrap().status, OrderStatus::Cancelled);
    assert!(e.order(b).unwrap().reason.as_deref().unwrap().contains("linked leg"));
    // Cancelling the spread cancels every open leg once, with no refused action.
    let out = e.submit_spread(&s2).unwrap();
    e.take_events();
    e.cancel_spread(out.spread_id, "alice").unwrap();
    let ev = kinds(&e.take_events());
    assert_eq!(ev.iter().filter(|k| *k == "cancelled").count(), 2, "{ev:?}");
    assert!(!ev.contains(&format!("audit:{}", actions::REFUSED)), "{ev:?}");
    assert!(out.legs.iter().all(|l| e.order(l.order_id).unwrap().status == OrderStatus::Cancelled));
    assert!(matches!(e.cancel_spread(999, "alice"), Err(TradingError::UnknownSpread(999))));
    // A leg failing validation enters nothing.
    let mut bad = SpreadRequest::wti_brent(clf7(), bzg7(), Side::Buy, 1).unwrap();
    bad.legs[1].limit_price = Some(75.005);
    e.take_events();
    assert!(matches!(e.submit_spread(&bad), Err(TradingError::BadSpread(_))));
    assert!(e.take_events().is_empty());
}

#[test]
fn daily_loss_limit_changes_at_run_time_and_is_audited() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 50, 50));
    // Buy 5, the market drops 1.20: a day loss of about $6,000 under the $250,000 default.
    e.submit(OrderRequest::market(clf7(), Side::Buy, 5)).unwrap();
    e.on_market(&quote(clf7(), 10, 70.00, 70.02, 50, 50));
    e.take_events();
    assert!(!e.circuit_breaker_tripped());
    // Bad values are refused and change nothing.
    for bad in [f64::NAN, f64::INFINITY, 0.0, -5_000.0] {
        let err = e.set_daily_loss_limit(bad, "risk-manager").unwrap_err();
        assert!(matches!(&err, TradingError::BadLimit { field, .. } if field == "max_daily_loss_usd"), "{err}");
    }
    assert!(e.take_events().is_empty());
    assert_eq!(e.config().limits.max_daily_loss_usd, LimitsConfig::default().max_daily_loss_usd);
    // Tightening the limit below today's loss trips the breaker at once.
    e.set_daily_loss_limit(5_000.0, "risk-manager").unwrap();
    let ev = e.take_events();
    assert_eq!(kinds(&ev), vec![format!("audit:{}", actions::LIMIT_EDIT), format!("audit:{}", actions::BREAKER_TRIP)]);
    let EngineEvent::Audit(a) = &ev[0] else { unreachable!() };
    assert_eq!(a.user, "risk-manager");
    let d: serde_json::Value = serde_json::from_str(&a.details).unwrap();
    assert_eq!((d["old"].as_f64(), d["new"].as_f64()), (Some(250_000.0), Some(5_000.0)));
    assert!(e.circuit_breaker_tripped());
    assert_eq!(e.config().limits.max_daily_loss_usd, 5_000.0);
    // The same value again records nothing.
    e.set_daily_loss_limit(5_000.0, "risk-manager").unwrap();
    assert!(e.take_events().is_empty());
    // Raising it leaves a tripped breaker tripped until a user resets it …
    e.set_daily_loss_limit(100_000.0, "risk-manager").unwrap();
    assert!(e.circuit_breaker_tripped());
    let inc = e.submit(OrderRequest::market(clf7(), Side::Buy, 1)).unwrap();
    assert_eq!(inc.status, OrderStatus::Rejected);
    // … after which the new limit applies: the same loss no longer trips it.
    e.reset_circuit_breaker("risk-manager");
    assert_eq!(e.breaker_threshold_usd(), 100_000.0);
    e.on_market(&quote(clf7(), 20, 69.90, 69.92, 50, 50));
    assert!(!e.circuit_breaker_tripped());
    let ok = e.submit(OrderRequest::market(clf7(), Side::Buy, 1)).unwrap();
    assert_eq!(ok.status, OrderStatus::Filled);
}

#[test]
fn spread_legs_are_checked_together() {
    let c = |m| ContractId::new(m, ContractMonth::new(2027, 1).unwrap());
    let mut cfg = config(0, 0);
    // Alone, the RB leg (2 × 2.20 × 42,000 = $184,800) and the HO leg (2.50 × 42,000 =
    // $105,000) are each under $250,000 of gross notional; bought together they are not.
    cfg.limits = LimitsConfig { max_gross_notional_usd: 250_000.0, ..LimitsConfig::default() };
    let mut e = engine(cfg);
    e.on_market(&quote(c(Market::Wti), 0, 69.99, 70.01, 50, 50));
    e.on_market(&quote(c(Market::Rbob), 0, 2.1999, 2.2001, 50, 50));
    e.on_market(&quote(c(Market::HeatingOil), 0, 2.4999, 2.5001, 50, 50));
    e.take_events();
    let alone = e.preview(&OrderRequest::market(c(Market::HeatingOil), Side::Buy, 1)).unwrap();
    assert_ne!(alone.decision, PreTradeDecision::Reject, "{:?}", alone.reasons);
    let k = SpreadRequest::crack_321(c(Market::Wti), c(Market::Rbob), c(Market::HeatingOil), Side::Buy, 1).unwrap();
    let legs = e.preview_spread(&k).unwrap();
    assert_eq!(legs.len(), 3);
    assert!(legs.iter().all(|p| p.decision == PreTradeDecision::Reject));
    assert!(legs[1].reasons.iter().any(|r| r.contains("gross notional")), "{:?}", legs[1].reasons);
    assert!(legs[0].reasons.iter().any(|r| r.contains("linked leg rejected (leg 1: gross notional")), "{:?}", legs);
    // The preview wrote nothing; the submission records every leg as rejected.
    assert!(e.take_events().is_empty());
    let out = e.submit_spread(&k).unwrap();
    assert!(out.legs.iter().all(|l| l.status == OrderStatus::Rejected));
    assert!(e.positions().iter().all(|p| p.qty == 0));
    // A 1:1 crack stays inside the limit and fills.
    let one = SpreadRequest::crack(c(Market::Wti), c(Market::HeatingOil), Side::Buy, 1).unwrap();
    assert!(e.preview_spread(&one).unwrap().iter().all(|p| p.decision != PreTradeDecision::Reject));
    let out = e.submit_spread(&one).unwrap();
    assert!(out.legs.iter().all(|l| l.status == OrderStatus::Filled), "{out:?}");
    // Preview errors name the leg and field, like a submission.
    let mut bad = one.clone();
    bad.legs[0].limit_price = Some(2.50005);
    let err = e.preview_spread(&bad).unwrap_err().to_string();
    assert!(err.contains("leg 0 (HOF7)") && err.contains("limit_price"), "{err}");
}

#[test]
fn kill_switch_cancels_everything_and_flattens_per_strategy() {
    let mut e = engine(config(0, 0));
    e.on_market(&quote(clf7(), 0, 71.20, 71.22, 50, 50));
    e.submit(OrderRequest::market(clf7(), Side::Buy, 3).with_strategy("a")).unwrap();
    e.submit(OrderRequest::market(clf7(), Side::Sell, 1).with_strategy("b")).unwrap();
    let resting = e.submit(OrderRequest::limit(clf7(), Side::Buy, 1, 70.00)).unwrap().order_id;
    e.take_events();
    let flat = e.kill_switch("alice");
    assert_eq!(flat.len(), 2);
    assert_eq!(e.order(resting).unwrap().status, OrderStatus::Cancelled);
    assert_eq!(e.positions()[0].qty, 0);
    assert!(e.position_keeper().strategy_positions().iter().all(|p| p.qty == 0));
    assert_eq!(kinds(&e.take_events())[0], format!("audit:{}", actions::KILL_SWITCH));
}

#[test]
fn bar_by_bar_driving() {
    let mut e = engine(config(0, 1));
    let bar = |ms: i64, o: f64, h: f64, l: f64, c: f64| MarketEvent::Bar {
        series: SeriesId::Contract(clf7()),
        timeframe: Timeframe::M1,
        bar: Bar { start: t(ms), open: o, high: h, low: l, close: c, volume: 100 },
    };
    e.on_market(&bar(0, 71.0, 71.3, 70.9, 71.2));
    let mkt = e.submit(OrderRequest::market(clf7(), Side::Buy, 2)).unwrap().order_id;
    let lim = e.submit(OrderRequest::limit(clf7(), Side::Buy, 1, 70.80).with_tif(TimeInForce::Gtc)).unwrap().order_id;
    let stp = e.submit(OrderRequest::stop(clf7(), Side::Sell, 1, 70.70).with_tif(TimeInForce::Gtc)).unwrap().order_id;
    e.take_events();
    // Next bar: market at the open + 1 tick; limit 70.80 not through (low 70.80).
    e.on_market(&bar(60_000, 71.25, 71.4, 70.80, 71.0));
    assert_eq!(fills(&e.take_events()), vec![(2, 71.26, Liquidity::Taker)]);
    assert_eq!(e.order(mkt).unwrap().status, OrderStatus::Filled);
    // Gap down through both: limit fills at the open (better), stop at the open − 1 tick.
    e.on_market(&bar(120_000, 70.50, 70.60, 70.40, 70.45));
    let f = fills(&e.take_events());
    assert_eq!(f, vec![(1, 70.50, Liquidity::Taker), (1, 70.49, Liquidity::Taker)]);
    assert_eq!(e.order(lim).unwrap().status, OrderStatus::Filled);
    assert_eq!(e.order(stp).unwrap().status, OrderStatus::Filled);
}

/// The same events and requests give the same orders, fills and P&L.
#[test]
fn deterministic() {
    fn run() -> (Vec<EngineEvent>, f64) {
        let mut e = engine(config(15, 1));
        let mut all = Vec::new();
        for i in 0..200i64 {
            let px = 71.0 + ((i * 37) % 23) as f64 * 0.01 - 0.11;
            e.on_market(&quote(clf7(), i * 10, px, px + 0.02, 1 + (i % 4) as u32, 2 + (i % 3) as u32));
            if i % 3 == 0 {
                e.on_market(&trade(clf7(), i * 10 + 1, px + if i % 2 == 0 { -0.03 } else { 0.05 }, 2));
            }
            if i % 20 == 0 {
                let side = if i % 40 == 0 { Side::Buy } else { Side::Sell };
                e.submit(OrderRequest::market(clf7(), side, 3)).unwrap();
                e.submit(OrderRequest::limit(clf7(), side.opposite(), 2, (px * 100.0).round() / 100.0)).unwrap();
            }
            all.extend(e.take_events());
        }
        (all, e.summary().total.net_pnl_usd)
    }
    let (a, pa) = run();
    let (b, pb) = run();
    assert!(fills(&a).len() > 10);
    assert_eq!(a, b);
    assert_eq!(pa, pb);
}
