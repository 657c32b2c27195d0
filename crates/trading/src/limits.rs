//! The limits-only pre-trade check: position limits per contract month and per market,
//! gross and net notional, the daily-loss circuit breaker, and the post-trade margin. It
//! implements [`PreTradeCheck`]; the VaR-based check of the risk engine implements the same
//! trait and can be combined with this one ([`PreTradeResult::combine`]).
//!
//! The check is conservative: the post-trade book assumes the order fills completely and
//! that every working order on the same side fills too. An order that breaches a limit is
//! rejected only if it makes that limit's utilisation worse, so orders that reduce an
//! over-limit position always pass. A utilisation at or above `warn_utilisation` warns.
//! While the circuit breaker is tripped, orders that increase a position are rejected.

use std::collections::BTreeMap;

use crude_model::{
    BookView, ContractId, Instruments, Market, OrderRequest, PostTradeMetrics, PreTradeCheck, PreTradeDecision,
    PreTradeResult,
};

use crate::config::LimitsConfig;

/// The limits-only pre-trade check.
#[derive(Debug, Clone)]
pub struct LimitsCheck {
    cfg: LimitsConfig,
    instruments: Instruments,
}

impl LimitsCheck {
    /// A check with `cfg`'s limits and `instruments`' multipliers and margins.
    pub fn new(cfg: LimitsConfig, instruments: Instruments) -> Self {
        Self { cfg, instruments }
    }

    /// The limits.
    pub fn config(&self) -> &LimitsConfig {
        &self.cfg
    }
}

/// Positions per contract (before and after) with the price used to value them.
struct Book {
    before: BTreeMap<ContractId, i64>,
    after: BTreeMap<ContractId, i64>,
    price: BTreeMap<ContractId, f64>,
}

impl LimitsCheck {
    fn book(&self, order: &OrderRequest, view: &BookView) -> Book {
        let mut before: BTreeMap<ContractId, i64> = BTreeMap::new();
        let mut price: BTreeMap<ContractId, f64> = BTreeMap::new();
        for p in &view.positions {
            *before.entry(p.contract).or_default() += p.qty;
            price.entry(p.contract).or_insert(p.mark.unwrap_or(p.avg_price));
        }
        for (c, m) in &view.marks {
            price.insert(*c, *m);
        }
        let mut after = before.clone();
        // Working orders on the order's side in each contract are assumed to fill as well.
        for o in &view.working_orders {
            if o.side == order.side {
                *after.entry(o.contract).or_default() += o.signed_remaining();
                if let Some(l) = o.limit_price {
                    price.entry(o.contract).or_insert(l);
                }
            }
        }
        *after.entry(order.contract).or_default() += order.signed_qty();
        if let Some(p) = order.limit_price.or(order.stop_price) {
            price.entry(order.contract).or_insert(p);
        }
        Book { before, after, price }
    }
}

fn gross(book: &BTreeMap<ContractId, i64>, price: &BTreeMap<ContractId, f64>, inst: &Instruments) -> f64 {
    book.iter().map(|(c, q)| (price.get(c).copied().unwrap_or(0.0) * *q as f64 * inst.multiplier(c.market)).abs()).sum()
}

fn net(book: &BTreeMap<ContractId, i64>, price: &BTreeMap<ContractId, f64>, inst: &Instruments) -> f64 {
    book.iter()
        .map(|(c, q)| price.get(c).copied().unwrap_or(0.0) * *q as f64 * inst.multiplier(c.market))
        .sum::<f64>()
        .abs()
}

fn market_contracts(book: &BTreeMap<ContractId, i64>, market: Market) -> i64 {
    book.iter().filter(|(c, _)| c.market == market).map(|(_, q)| q.abs()).sum()
}

impl PreTradeCheck for LimitsCheck {
    fn check(&self, order: &OrderRequest, view: &BookView) -> PreTradeResult {
        let cfg = &self.cfg;
        let b = self.book(order, view);
        let c = order.contract;
        let mut reasons = Vec::new();
        let mut decision = PreTradeDecision::Pass;
        let mut utilisations = Vec::new();
        let q_before = b.before.get(&c).copied().unwrap_or(0);
        let q_after = b.after.get(&c).copied().unwrap_or(0);
        let increases = (q_before + order.signed_qty()).abs() > q_before.abs();

        let mut judge = |name: String, before: f64, after: f64, limit: f64, what: String| {
            let u = after / limit;
            utilisations.push((name.clone(), u));
            if u > 1.0 + 1e-12 && after > before {
                decision = PreTradeDecision::Reject;
                reasons.push(format!("{name}: {what} would be {:.0}% of the limit", u * 100.0));
            } else if u >= cfg.warn_utilisation && decision == PreTradeDecision::Pass {
                decision = PreTradeDecision::Warn;
                reasons.push(format!("{name}: {what} at {:.0}% of the limit", u * 100.0));
            } else if u >= cfg.warn_utilisation {
                reasons.push(format!("{name}: {what} at {:.0}% of the limit", u * 100.0));
            }
        };
        judge(
            format!("contracts {c}"),
            q_before.abs() as f64,
            q_after.abs() as f64,
            cfg.max_contracts_per_contract as f64,
            format!("{} of {} contracts", q_after.abs(), cfg.max_contracts_per_contract),
        );
        let m_before = market_contracts(&b.before, c.market);
        let m_after = market_contracts(&b.after, c.market);
        judge(
            format!("contracts {}", c.market.code()),
            m_before as f64,
            m_after as f64,
            cfg.market_limit(c.market) as f64,
            format!("{m_after} of {} contracts", cfg.market_limit(c.market)),
        );
        let g_before = gross(&b.before, &b.price, &self.instruments);
        let g_after = gross(&b.after, &b.price, &self.instruments);
        judge(
            "gross notional".into(),
            g_before,
            g_after,
            cfg.max_gross_notional_usd,
            format!("${g_after:.0} of ${:.0}", cfg.max_gross_notional_usd),
        );
        let n_before = net(&b.before, &b.price, &self.instruments);
        let n_after = net(&b.after, &b.price, &self.instruments);
        judge(
            "net notional".into(),
            n_before,
            n_after,
            cfg.max_net_notional_usd,
            format!("${n_after:.0} of ${:.0}", cfg.max_net_notional_usd),
        );
        let loss = (-view.day_pnl_usd).max(0.0);
        let loss_u = loss / cfg.max_daily_loss_usd;
        utilisations.push(("daily loss".into(), loss_u));
        if view.circuit_breaker_tripped && increases {
            decision = PreTradeDecision::Reject;
            reasons.push(
                "circuit breaker tripped by the daily loss limit: only orders that reduce a position are accepted until a user resets it"
                    .into(),
            );
        } else if loss_u >= cfg.warn_utilisation {
            if decision == PreTradeDecision::Pass {
                decision = PreTradeDecision::Warn;
            }
            reasons.push(format!(
                "daily loss ${loss:.0} is {:.0}% of the ${:.0} limit",
                loss_u * 100.0,
                cfg.max_daily_loss_usd
            ));
        }
        let margin_usd: f64 =
            b.after.iter().map(|(c, q)| q.abs() as f64 * self.instruments.spec(c.market).initial_margin_usd).sum();
        PreTradeResult {
            decision,
            reasons,
            post_trade: Some(PostTradeMetrics { var_usd: None, utilisations, margin_usd }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractMonth, Position, Side};

    fn clf7() -> ContractId {
        ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap())
    }

    fn check() -> LimitsCheck {
        let cfg =
            LimitsConfig { max_contracts_per_contract: 10, max_contracts_per_market: 15, ..LimitsConfig::default() };
        LimitsCheck::new(cfg, Instruments::builtin().unwrap())
    }

    fn view(qty: i64) -> BookView {
        let mut p = Position::flat(clf7(), None, 1_000.0);
        if qty != 0 {
            p.apply_fill(if qty > 0 { Side::Buy } else { Side::Sell }, qty.abs(), 70.0, 0.0);
        }
        p.set_mark(70.0);
        BookView { positions: vec![p], marks: [(clf7(), 70.0)].into_iter().collect(), ..BookView::default() }
    }

    #[test]
    fn pass_warn_reject_by_contract_limit() {
        let c = check();
        let r = c.check(&OrderRequest::market(clf7(), Side::Buy, 2), &view(0));
        assert_eq!(r.decision, PreTradeDecision::Pass, "{:?}", r.reasons);
        let m = r.post_trade.unwrap();
        assert_eq!(m.var_usd, None);
        assert!((m.margin_usd - 12_000.0).abs() < 1e-9);
        assert!(m.utilisations.iter().any(|(n, u)| n == "contracts CLF7" && (*u - 0.2).abs() < 1e-12));
        let r = c.check(&OrderRequest::market(clf7(), Side::Buy, 3), &view(5));
        assert_eq!(r.decision, PreTradeDecision::Warn);
        let r = c.check(&OrderRequest::market(clf7(), Side::Buy, 6), &view(5));
        assert_eq!(r.decision, PreTradeDecision::Reject);
        assert!(r.reasons[0].contains("contracts CLF7"), "{:?}", r.reasons);
    }

    #[test]
    fn reducing_orders_pass_even_over_limits_and_under_the_breaker() {
        let c = check();
        let mut v = view(12);
        let r = c.check(&OrderRequest::market(clf7(), Side::Sell, 1), &v);
        assert_ne!(r.decision, PreTradeDecision::Reject, "{:?}", r.reasons);
        v.circuit_breaker_tripped = true;
        v.day_pnl_usd = -300_000.0;
        let r = c.check(&OrderRequest::market(clf7(), Side::Sell, 1), &v);
        assert_ne!(r.decision, PreTradeDecision::Reject, "{:?}", r.reasons);
        let r = c.check(&OrderRequest::market(clf7(), Side::Buy, 1), &view(0).tap_breaker());
        assert_eq!(r.decision, PreTradeDecision::Reject);
        assert!(r.reasons.iter().any(|s| s.contains("circuit breaker")));
    }

    trait Tap {
        fn tap_breaker(self) -> Self;
    }
    impl Tap for BookView {
        fn tap_breaker(mut self) -> Self {
            self.circuit_breaker_tripped = true;
            self
        }
    }

    #[test]
    fn working_orders_count_towards_the_limit() {
        let c = check();
        let mut v = view(4);
        let mut o = crude_model::Order {
            order_id: 1,
            client_order_id: "x".into(),
            contract: clf7(),
            side: Side::Buy,
            qty: 5,
            order_type: crude_model::OrderType::Limit,
            limit_price: Some(69.0),
            stop_price: None,
            tif: crude_model::TimeInForce::Day,
            strategy: "s".into(),
            user: "u".into(),
            status: crude_model::OrderStatus::Working,
            filled_qty: 0,
            avg_fill_price: None,
            triggered: false,
            created_ts: crude_model::Timestamp(0),
            updated_ts: crude_model::Timestamp(0),
            expire_ts: None,
            arrival_price: None,
            spread: None,
            reason: None,
            last_seq: 2,
        };
        v.working_orders.push(o.clone());
        assert_eq!(c.check(&OrderRequest::market(clf7(), Side::Buy, 2), &v).decision, PreTradeDecision::Reject);
        o.side = Side::Sell;
        v.working_orders = vec![o];
        assert_ne!(c.check(&OrderRequest::market(clf7(), Side::Buy, 2), &v).decision, PreTradeDecision::Reject);
    }

    #[test]
    fn notional_and_daily_loss() {
        let cfg = LimitsConfig { max_gross_notional_usd: 1_000_000.0, ..LimitsConfig::default() };
        let c = LimitsCheck::new(cfg, Instruments::builtin().unwrap());
        // 15 × 70 × 1,000 = 1.05 M > 1 M.
        let r = c.check(&OrderRequest::market(clf7(), Side::Buy, 15), &view(0));
        assert_eq!(r.decision, PreTradeDecision::Reject);
        assert!(r.reasons.iter().any(|s| s.contains("gross notional")), "{:?}", r.reasons);
        let mut v = view(0);
        v.day_pnl_usd = -210_000.0;
        let r = c.check(&OrderRequest::market(clf7(), Side::Buy, 1), &v);
        assert_eq!(r.decision, PreTradeDecision::Warn);
        assert!(r.reasons.iter().any(|s| s.contains("daily loss")));
    }
}
