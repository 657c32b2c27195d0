//! The VaR-based pre-trade check: for a proposed order and the current book, the
//! post-trade parametric VaR (and its increment), the utilisation of every limit a
//! [`BookView`] lets it compute, the margin impact, and pass / warn / reject with every
//! reason. It implements [`PreTradeCheck`], so the order management system calls it for
//! every order and can combine it with the limits-only check
//! ([`crude_model::PreTradeResult::combine`]).
//!
//! Rules:
//! - **Post-trade book** (the worst case): the order fills completely, and every working
//!   order **on the same side** fills too at its full remaining size (orders on the other
//!   side are assumed not to fill, since they would reduce the position). Positions are
//!   netted per contract across strategies.
//! - **Valuation**: each contract at its mark (the view's marks, else the position's mark,
//!   else its average price); a market order uses the mark. A contract with no mark is
//!   valued at the order's limit (or stop) price; with neither the order cannot be valued
//!   and a risk-increasing order is rejected.
//! - **VaR**: parametric (delta-normal) at the limits' confidence and horizon, on the
//!   engine's covariance matrix; contracts without a series use the same market's nearest
//!   contract, as in the snapshot. A contract at or below zero is left out of the VaR (a
//!   warning says so).
//! - **Decision**: a utilisation above 1.0 (over the limit) rejects the order, a
//!   utilisation at or above the limit's warning threshold warns; each reason names the
//!   limit, the value and the limit. **Risk-reducing orders** — those that bring the
//!   position in their contract closer to flat without crossing it — are never rejected
//!   for limits (they warn instead), so a trader can always cut risk over a limit. While
//!   the **circuit breaker** is tripped, every risk-increasing order is rejected.
//! - Limits a [`BookView`] cannot feed are left out: option Greeks (the view holds futures
//!   only), the intraday and weekly drawdowns, and strategy concentration unless every
//!   position carries a strategy tag. The stress-loss limit is judged on the futures'
//!   linear stress P&L of the configured scenarios.
//!
//! The check is a pure function of the order and the view (no clock, no I/O) and runs in
//! microseconds (see `benches/recalc.rs`).

use std::sync::Arc;

use serde::Serialize;

use crude_model::{
    BookView, ContractId, ContractMonth, OrderRequest, PostTradeMetrics, PreTradeCheck, PreTradeDecision,
    PreTradeResult, contract_multiplier,
};

use crate::engine::{net_rows, portfolio_sigma, series_for};
use crate::limits::{LimitUtilisation, RiskLimits, Zone, evaluate, format_limit_value};
use crate::normal::norm_ppf;
use crate::portfolio::PortfolioRiskModel;
use crate::stress::StressScenario;

/// The VaR-based pre-trade check (cheap to clone; `Send + Sync + 'static`).
#[derive(Debug, Clone)]
pub struct RiskPreTradeCheck {
    model: Arc<PortfolioRiskModel>,
    limits: RiskLimits,
    scenarios: Arc<Vec<StressScenario>>,
    /// `z_c × √h` of the VaR limit.
    var_factor: f64,
}

/// Everything the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreTradeAssessment {
    /// Pass, warn or reject.
    pub decision: PreTradeDecision,
    /// One line per warning or rejection (empty on a clean pass).
    pub reasons: Vec<String>,
    /// Whether the order brings its contract's position closer to flat without crossing.
    pub risk_reducing: bool,
    /// Parametric VaR before the order, USD.
    pub var_before_usd: f64,
    /// Parametric VaR after the order (and same-side working orders), USD.
    pub var_after_usd: f64,
    /// `var_after_usd − var_before_usd`.
    pub incremental_var_usd: f64,
    /// Initial margin before, USD.
    pub margin_before_usd: f64,
    /// Initial margin after, USD.
    pub margin_after_usd: f64,
    /// Post-trade utilisation of every limit judged.
    pub utilisations: Vec<LimitUtilisation>,
    /// Price the order's contract was valued at, when one was found.
    pub valuation_price: Option<f64>,
}

/// One contract's quantity before and after, with its strategy and multiplier.
struct Leg<'a> {
    contract: ContractId,
    strategy: &'a str,
    before: i64,
    after: i64,
    multiplier: f64,
}

impl RiskPreTradeCheck {
    /// A check on `model`'s covariance with `limits` and `scenarios`.
    pub fn new(model: Arc<PortfolioRiskModel>, limits: RiskLimits, scenarios: Arc<Vec<StressScenario>>) -> Self {
        let var_factor = norm_ppf(limits.var.confidence) * f64::from(limits.var.horizon_days).sqrt();
        Self { model, limits, scenarios, var_factor }
    }

    /// The limits the check applies.
    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// Checks `order` against `view` with every figure (see the module documentation).
    pub fn assess(&self, order: &OrderRequest, view: &BookView) -> PreTradeAssessment {
        let mut reasons: Vec<String> = Vec::new();
        let mut decision = PreTradeDecision::Pass;
        let c = order.contract;
        let q_before = view.position_qty(c);
        let q_order = q_before + order.signed_qty();
        let risk_reducing = order.qty > 0 && q_order.abs() < q_before.abs() && q_order * q_before >= 0;
        let increasing = !risk_reducing;
        if order.qty <= 0 {
            reasons.push(format!("qty {}: an order needs a positive number of contracts", order.qty));
            decision = PreTradeDecision::Reject;
        }

        // The book before and after.
        let mut legs: Vec<Leg<'_>> = Vec::with_capacity(view.positions.len() + view.working_orders.len() + 1);
        for p in view.positions.iter().filter(|p| p.qty != 0) {
            legs.push(Leg {
                contract: p.contract,
                strategy: p.strategy.as_deref().unwrap_or(""),
                before: p.qty,
                after: p.qty,
                multiplier: p.multiplier,
            });
        }
        let multiplier_of = |contract: ContractId| {
            view.positions
                .iter()
                .find(|p| p.contract == contract && p.multiplier > 0.0)
                .map_or(contract_multiplier(contract.market), |p| p.multiplier)
        };
        for o in view.working_orders.iter().filter(|o| o.side == order.side && o.remaining_qty() > 0) {
            legs.push(Leg {
                contract: o.contract,
                strategy: &o.strategy,
                before: 0,
                after: o.signed_remaining(),
                multiplier: multiplier_of(o.contract),
            });
        }
        legs.push(Leg {
            contract: c,
            strategy: &order.strategy,
            before: 0,
            after: order.signed_qty(),
            multiplier: multiplier_of(c),
        });
        let price_of = |contract: ContractId| -> Option<f64> {
            view.mark(contract)
                .or_else(|| {
                    view.positions
                        .iter()
                        .find(|p| p.contract == contract && p.qty != 0)
                        .map(|p| p.mark.unwrap_or(p.avg_price))
                })
                .or_else(|| (contract == c).then(|| order.limit_price.or(order.stop_price)).flatten())
                .or_else(|| {
                    view.working_orders
                        .iter()
                        .find(|o| o.contract == contract)
                        .and_then(|o| o.limit_price.or(o.stop_price))
                })
                .filter(|p| p.is_finite())
        };
        let valuation_price = price_of(c);
        if valuation_price.is_none() && increasing {
            decision = PreTradeDecision::Reject;
            reasons.push(format!(
                "{c}: no mark and no limit price, so the order cannot be valued; wait for a quote or send a limit order"
            ));
        }

        // VaR before and after.
        let contracts = self.model.contracts();
        let n = contracts.len();
        let mut v_before = vec![0.0; n];
        let mut v_after = vec![0.0; n];
        let mut rows_before = Vec::with_capacity(legs.len());
        let mut rows_after = Vec::with_capacity(legs.len());
        let mut noted: Vec<ContractId> = Vec::new();
        for leg in &legs {
            let Some(price) = price_of(leg.contract) else { continue };
            let e_before = leg.before as f64 * leg.multiplier * price;
            let e_after = leg.after as f64 * leg.multiplier * price;
            rows_before.push((leg.contract, leg.strategy, leg.before as f64, e_before));
            rows_after.push((leg.contract, leg.strategy, leg.after as f64, e_after));
            if leg.after == 0 && leg.before == 0 {
                continue;
            }
            if price <= 0.0 {
                if !noted.contains(&leg.contract) {
                    noted.push(leg.contract);
                    reasons.push(format!(
                        "{}: price {price} is at or below zero, so it is left out of the VaR (log returns undefined)",
                        leg.contract
                    ));
                    decision = decision.max(PreTradeDecision::Warn);
                }
                continue;
            }
            match series_for(contracts, leg.contract) {
                Some(i) => {
                    v_before[i] += e_before;
                    v_after[i] += e_after;
                }
                None => {
                    if !noted.contains(&leg.contract) {
                        noted.push(leg.contract);
                        reasons.push(format!(
                            "{}: the risk model has no return series for market {}, so the VaR cannot include it",
                            leg.contract,
                            leg.contract.market.code()
                        ));
                        decision =
                            decision.max(if increasing { PreTradeDecision::Reject } else { PreTradeDecision::Warn });
                    }
                }
            }
        }
        let cov = self.model.covariance();
        let var_before_usd = self.var_factor * portfolio_sigma(cov, &v_before);
        let var_after_usd = self.var_factor * portfolio_sigma(cov, &v_after);

        let all_tagged = view.positions.iter().all(|p| p.strategy.is_some());
        let netted_before = net_rows(rows_before.into_iter());
        let netted_after = net_rows(rows_after.into_iter());
        let margin_before_usd = netted_before.figures(&self.limits).margin_usd;
        let mut figures = netted_after.figures(&self.limits);
        if !all_tagged {
            figures.strategy_gross_usd.clear();
        }
        figures.var_usd = var_after_usd;
        figures.drawdown_daily_usd = Some((-view.day_pnl_usd).max(0.0));
        figures.stress_loss = self.worst_stress(&legs, &price_of, view);
        let utilisations = evaluate(&self.limits, &figures);

        if view.circuit_breaker_tripped && increasing {
            decision = PreTradeDecision::Reject;
            reasons.push(
                "circuit breaker tripped: only orders that reduce a position are accepted until a user resets it"
                    .to_string(),
            );
        }
        for u in &utilisations {
            let line = format!(
                "{}: {:.0}% of the limit {}",
                u.label,
                u.utilisation * 100.0,
                format_limit_value(&u.key, u.limit)
            );
            match u.zone {
                Zone::Breach if increasing => {
                    decision = PreTradeDecision::Reject;
                    reasons.push(format!("{line}: over the limit after the trade"));
                }
                Zone::Breach => {
                    decision = decision.max(PreTradeDecision::Warn);
                    reasons.push(format!("{line}: over the limit, allowed because the order reduces the {c} position"));
                }
                Zone::Critical | Zone::Warning => {
                    decision = decision.max(PreTradeDecision::Warn);
                    reasons.push(format!("{line} (warning from {:.0}%)", u.warning * 100.0));
                }
                Zone::Ok => {}
            }
        }
        PreTradeAssessment {
            decision,
            reasons,
            risk_reducing,
            var_before_usd,
            var_after_usd,
            incremental_var_usd: var_after_usd - var_before_usd,
            margin_before_usd,
            margin_after_usd: figures.margin_usd,
            utilisations,
            valuation_price,
        }
    }

    /// The worst linear stress loss of the post-trade futures over the configured scenarios.
    fn worst_stress(
        &self,
        legs: &[Leg<'_>],
        price_of: &impl Fn(ContractId) -> Option<f64>,
        view: &BookView,
    ) -> Option<(String, f64)> {
        if self.scenarios.is_empty() {
            return None;
        }
        let date = view.as_of.date_utc();
        // The front month of each market, computed once (the expiry rules walk calendars).
        let mut fronts: [Option<ContractMonth>; 4] = [None; 4];
        let mut priced: Vec<(ContractId, u32, f64, f64)> = Vec::with_capacity(legs.len());
        for leg in legs.iter().filter(|l| l.after != 0) {
            let Some(price) = price_of(leg.contract) else { continue };
            let market = leg.contract.market;
            let front = *fronts[market.index()].get_or_insert_with(|| market.front_contract(date).month);
            let tenor = u32::try_from(leg.contract.month.months_since(front) + 1).unwrap_or(1).max(1);
            priced.push((leg.contract, tenor, price, leg.after as f64 * leg.multiplier));
        }
        self.scenarios
            .iter()
            .map(|s| {
                let pnl: f64 = priced
                    .iter()
                    .map(|&(contract, tenor, price, units)| {
                        units * (s.shocked(contract.market, tenor, price, 0.0).0 - price)
                    })
                    .sum();
                (s.name.clone(), -pnl)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

impl PreTradeCheck for RiskPreTradeCheck {
    fn check(&self, order: &OrderRequest, book: &BookView) -> PreTradeResult {
        let a = self.assess(order, book);
        PreTradeResult {
            decision: a.decision,
            reasons: a.reasons,
            post_trade: Some(PostTradeMetrics {
                var_usd: Some(a.var_after_usd),
                utilisations: a.utilisations.into_iter().map(|u| (u.key, u.utilisation)).collect(),
                margin_usd: a.margin_after_usd,
            }),
        }
    }
}
