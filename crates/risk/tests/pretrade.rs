//! The VaR-based pre-trade check: pass, warn and reject with reasons, incremental VaR,
//! margin impact, working orders, risk-reducing orders and the circuit breaker.

mod common;

use std::collections::BTreeMap;

use common::{as_of, contract, history, price};
use crude_model::{
    BookView, ContractId, Market, Order, OrderRequest, OrderStatus, OrderType, Position as TradedPosition,
    PreTradeCheck, PreTradeDecision, Side, TimeInForce, Timestamp,
};
use crude_risk::{
    PortfolioRiskConfig, PortfolioRiskModel, PreTradeAssessment, RiskEngine, RiskEngineConfig, RiskLimits,
    RiskPosition, RiskPreTradeCheck, VarMethod,
};

fn cl(k: i32) -> ContractId {
    contract(Market::Wti, k)
}

/// Default limits with the VaR, stress and concentration limits out of the way, so each
/// test judges the limit it is about.
fn limits() -> RiskLimits {
    let mut l = RiskLimits::default();
    l.concentration.min_gross_usd = 1e12;
    l.stress.max_loss_usd = 1e12;
    l.var.limit_usd = 1e9;
    l
}

fn check_with(limits: RiskLimits) -> RiskPreTradeCheck {
    let mut cfg = RiskEngineConfig::new(50_000_000.0);
    cfg.portfolio.mc_paths = 1_000;
    cfg.limits = limits;
    RiskEngine::new(cfg, &history(500, 7)).unwrap().pre_trade_check()
}

fn position(c: ContractId, qty: i64, mark: f64) -> TradedPosition {
    let mut p = TradedPosition::flat(c, None, 1_000.0);
    if qty != 0 {
        p.apply_fill(if qty > 0 { Side::Buy } else { Side::Sell }, qty.abs(), mark, 0.0);
    }
    p.set_mark(mark);
    p
}

fn view(positions: &[(ContractId, i64)]) -> BookView {
    let mut marks = BTreeMap::new();
    let positions = positions
        .iter()
        .map(|&(c, q)| {
            let m = price(c.market);
            marks.insert(c, m);
            position(c, q, m)
        })
        .collect();
    BookView { as_of: as_of(), positions, marks, ..BookView::default() }
}

fn working(c: ContractId, side: Side, qty: i64) -> Order {
    Order {
        order_id: 9,
        client_order_id: "w".into(),
        contract: c,
        side,
        qty,
        order_type: OrderType::Limit,
        limit_price: Some(price(c.market)),
        stop_price: None,
        tif: TimeInForce::Day,
        strategy: "manual".into(),
        user: "trader".into(),
        status: OrderStatus::Working,
        filled_qty: 0,
        avg_fill_price: None,
        triggered: false,
        created_ts: Timestamp(0),
        updated_ts: Timestamp(0),
        expire_ts: None,
        arrival_price: None,
        spread: None,
        reason: None,
        last_seq: 1,
    }
}

fn reasons(a: &PreTradeAssessment) -> String {
    a.reasons.join(" | ")
}

#[test]
fn a_small_order_passes_with_post_trade_figures() {
    let check = check_with(RiskLimits::default());
    let v = view(&[(cl(0), 10)]);
    let order = OrderRequest::market(cl(0), Side::Buy, 5);
    let a = check.assess(&order, &v);
    assert_eq!(a.decision, PreTradeDecision::Pass, "{}", reasons(&a));
    assert!(a.reasons.is_empty());
    assert_eq!(a.valuation_price, Some(price(Market::Wti)));
    // Incremental VaR as the portfolio model computes it (parametric, 1-day 99 %).
    let mut cfg = PortfolioRiskConfig::new(50_000_000.0);
    cfg.mc_paths = 1_000;
    let model = PortfolioRiskModel::new(&history(500, 7), cfg).unwrap();
    let pos = |q| RiskPosition { contract: cl(0), qty: q, multiplier: 1_000.0, price: price(Market::Wti) };
    let inc = model.incremental_var(&[pos(10)], &pos(5), VarMethod::Parametric).unwrap();
    let want = inc.iter().find(|x| x.confidence == 0.99 && x.horizon_days == 1).unwrap();
    assert!((a.var_before_usd - want.var_before_usd).abs() < 1e-6 * want.var_before_usd);
    assert!((a.var_after_usd - want.var_after_usd).abs() < 1e-6 * want.var_after_usd);
    assert!((a.incremental_var_usd - want.incremental_var_usd).abs() < 1e-6 * want.var_after_usd);
    // Margin impact: 5 more CL contracts at 6,000.
    assert!((a.margin_before_usd - 60_000.0).abs() < 1e-9);
    assert!((a.margin_after_usd - a.margin_before_usd - 30_000.0).abs() < 1e-9);
    // The trait result carries the same figures.
    let r = check.check(&order, &v);
    let m = r.post_trade.unwrap();
    assert_eq!(m.var_usd, Some(a.var_after_usd));
    assert_eq!(m.margin_usd, a.margin_after_usd);
    assert!(m.utilisations.iter().any(|(k, u)| k == "var" && (*u - a.var_after_usd / 1_500_000.0).abs() < 1e-12));
    assert!(m.utilisations.iter().any(|(k, _)| k == "contracts.CL"));
    assert!(m.utilisations.iter().all(|(k, _)| !k.starts_with("greeks.")));
}

#[test]
fn warn_and_reject_name_the_limit_the_value_and_the_limit() {
    let check = check_with(limits());
    let v = view(&[(cl(0), 360)]);
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 20), &v);
    assert_eq!(a.decision, PreTradeDecision::Warn, "{}", reasons(&a));
    let r = reasons(&a);
    assert!(r.contains("CL contracts 380.0") && r.contains("76% of the limit 500 contracts"), "{r}");
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 150), &v);
    assert_eq!(a.decision, PreTradeDecision::Reject);
    let r = reasons(&a);
    assert!(
        r.contains("CL contracts 510.0")
            && r.contains("102% of the limit 500 contracts")
            && r.contains("over the limit"),
        "{r}"
    );
    // Notional: 510 × 1,000 × 71.35 = 36.4m of 40m is critical, not a breach.
    assert!(r.contains("CL notional"), "{r}");
}

#[test]
fn a_var_breach_rejects() {
    let mut l = limits();
    l.var.limit_usd = 50_000.0;
    let check = check_with(l);
    let a = check.assess(&OrderRequest::market(cl(1), Side::Buy, 20), &view(&[(cl(1), 0)]));
    assert_eq!(a.decision, PreTradeDecision::Reject);
    assert!(a.var_after_usd > 50_000.0);
    let r = reasons(&a);
    assert!(r.contains("VaR 1-day 99% (parametric)") && r.contains("of the limit $50,000"), "{r}");
}

#[test]
fn risk_reducing_orders_pass_over_limits() {
    let check = check_with(limits());
    let v = view(&[(cl(0), 600)]);
    let a = check.assess(&OrderRequest::market(cl(0), Side::Sell, 10), &v);
    assert!(a.risk_reducing);
    assert_eq!(a.decision, PreTradeDecision::Warn, "{}", reasons(&a));
    assert!(reasons(&a).contains("allowed because the order reduces"), "{}", reasons(&a));
    // Selling through flat into a bigger short is not risk-reducing.
    let a = check.assess(&OrderRequest::market(cl(0), Side::Sell, 1_300), &v);
    assert!(!a.risk_reducing);
    assert_eq!(a.decision, PreTradeDecision::Reject);
    // Adding to the over-limit position is rejected.
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 1), &v);
    assert_eq!(a.decision, PreTradeDecision::Reject);
}

#[test]
fn the_circuit_breaker_rejects_risk_increasing_orders_only() {
    let check = check_with(limits());
    let mut v = view(&[(cl(0), 10)]);
    v.circuit_breaker_tripped = true;
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 1), &v);
    assert_eq!(a.decision, PreTradeDecision::Reject);
    assert!(reasons(&a).contains("circuit breaker"), "{}", reasons(&a));
    let a = check.assess(&OrderRequest::market(cl(1), Side::Sell, 1), &v);
    assert_eq!(a.decision, PreTradeDecision::Reject, "a new position in another month increases risk");
    let a = check.assess(&OrderRequest::market(cl(0), Side::Sell, 4), &v);
    assert_ne!(a.decision, PreTradeDecision::Reject, "{}", reasons(&a));
    assert!(!reasons(&a).contains("circuit breaker"));
}

#[test]
fn a_daily_loss_over_the_limit_stops_new_risk() {
    let check = check_with(limits());
    let mut v = view(&[(cl(0), 10)]);
    v.day_pnl_usd = -800_000.0;
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 1), &v);
    assert_eq!(a.decision, PreTradeDecision::Reject);
    assert!(reasons(&a).contains("Daily loss $800,000: 107% of the limit $750,000"), "{}", reasons(&a));
    let a = check.assess(&OrderRequest::market(cl(0), Side::Sell, 1), &v);
    assert_eq!(a.decision, PreTradeDecision::Warn);
}

#[test]
fn working_orders_on_the_same_side_count_in_full() {
    let check = check_with(limits());
    let mut v = view(&[(cl(0), 300)]);
    v.working_orders.push(working(cl(1), Side::Buy, 150));
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 60), &v);
    assert_eq!(a.decision, PreTradeDecision::Reject, "300 + 150 working + 60 = 510: {}", reasons(&a));
    // Working sells are assumed not to fill for a buy.
    let mut v = view(&[(cl(0), 300)]);
    v.working_orders.push(working(cl(1), Side::Sell, 150));
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 60), &v);
    assert_ne!(a.decision, PreTradeDecision::Reject, "{}", reasons(&a));
    // A filled working order no longer counts.
    let mut done = working(cl(1), Side::Buy, 150);
    done.status = OrderStatus::Filled;
    done.filled_qty = 150;
    let mut v = view(&[(cl(0), 300)]);
    v.working_orders.push(done);
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 60), &v);
    assert_ne!(a.decision, PreTradeDecision::Reject, "{}", reasons(&a));
}

#[test]
fn valuation_uses_the_mark_then_the_limit_price() {
    let check = check_with(limits());
    let v = view(&[]);
    let a = check.assess(&OrderRequest::market(cl(2), Side::Buy, 1), &v);
    assert_eq!(a.decision, PreTradeDecision::Reject);
    assert!(reasons(&a).contains("cannot be valued"), "{}", reasons(&a));
    let a = check.assess(&OrderRequest::limit(cl(2), Side::Buy, 1, 70.5), &v);
    assert_eq!(a.decision, PreTradeDecision::Pass, "{}", reasons(&a));
    assert_eq!(a.valuation_price, Some(70.5));
    // A market order uses the mark even when a limit price is around.
    let v = view(&[(cl(2), 1)]);
    let a = check.assess(&OrderRequest::limit(cl(2), Side::Buy, 1, 60.0), &v);
    assert_eq!(a.valuation_price, Some(price(Market::Wti)));
}

#[test]
fn negative_marks_are_left_out_of_var_with_a_warning() {
    let check = check_with(limits());
    let mut v = view(&[(cl(0), 2)]);
    v.marks.insert(cl(0), -37.63);
    let a = check.assess(&OrderRequest::market(cl(0), Side::Sell, 1), &v);
    assert_eq!(a.decision, PreTradeDecision::Warn);
    assert!(reasons(&a).contains("price -37.63 is at or below zero"), "{}", reasons(&a));
    assert_eq!(a.var_after_usd, 0.0);
    assert!(a.utilisations.iter().all(|u| u.utilisation.is_finite()));
}

#[test]
fn concentration_and_stress_limits() {
    // A one-market book above the minimum gross is concentrated.
    let check = check_with(RiskLimits {
        var: crude_risk::VarLimit { limit_usd: 1e9, ..RiskLimits::default().var },
        ..RiskLimits::default()
    });
    let a = check.assess(&OrderRequest::market(cl(0), Side::Buy, 200), &view(&[(cl(0), 0)]));
    assert_eq!(a.decision, PreTradeDecision::Reject);
    assert!(reasons(&a).contains("CL share of gross 100.0%"), "{}", reasons(&a));
    // Stress: a 200-contract CL front position loses far more than 1m in 2020.
    let mut l = limits();
    l.stress.max_loss_usd = 1_000_000.0;
    let a = check_with(l).assess(&OrderRequest::market(cl(0), Side::Buy, 200), &view(&[(cl(0), 0)]));
    assert_eq!(a.decision, PreTradeDecision::Reject);
    let r = reasons(&a);
    assert!(r.contains("Worst stress loss") && r.contains("2020 COVID"), "{r}");
    let stress = a.utilisations.iter().find(|u| u.key == "stress").unwrap();
    assert!((stress.value - 200.0 * 1_000.0 * (price(Market::Wti) + 37.63)).abs() < 1e-3, "{}", stress.value);
}

#[test]
fn markets_without_a_series_are_rejected_when_adding_risk() {
    let hist = crude_risk::ReturnHistory::new(
        vec![cl(0)],
        &(0..60).map(|i| vec![0.01 * ((i % 5) as f64 - 2.0)]).collect::<Vec<_>>(),
    )
    .unwrap();
    let mut cfg = RiskEngineConfig::new(50_000_000.0);
    cfg.portfolio.window_days = 60;
    cfg.portfolio.mc_paths = 1_000;
    cfg.limits = limits();
    let check = RiskEngine::new(cfg, &hist).unwrap().pre_trade_check();
    let ho = contract(Market::HeatingOil, 0);
    let a = check.assess(&OrderRequest::market(ho, Side::Buy, 1), &view(&[(ho, 0)]));
    assert_eq!(a.decision, PreTradeDecision::Reject);
    assert!(reasons(&a).contains("no return series for market HO"), "{}", reasons(&a));
    // A CL month without its own series uses the CL series.
    let a = check.assess(&OrderRequest::market(cl(3), Side::Buy, 1), &view(&[(cl(3), 0)]));
    assert_eq!(a.decision, PreTradeDecision::Pass, "{}", reasons(&a));
    assert!(a.var_after_usd > 0.0);
}
