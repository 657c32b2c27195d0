//! Pre-trade previews and the combined check: what an order or a spread would do to the
//! book before it is entered (the pre-trade result, the reference price, initial margin
//! before and after), and the check the engine runs on every order — the limits-only
//! check together with a check supplied at run time (the risk engine's VaR check).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crude_model::{
    BookView, ContractId, Instruments, OrderRequest, PostTradeMetrics, PreTradeCheck, PreTradeDecision, PreTradeResult,
    Side,
};

use crate::broker::Broker;
use crate::engine::Engine;
use crate::error::TradingError;
use crate::limits::LimitsCheck;
use crate::spread::SpreadRequest;

/// The preview of one order: the engine's pre-trade check, the reference price and the
/// margin held now.
///
/// # Errors
/// [`TradingError`] when the order is invalid.
pub fn order_preview<B: Broker>(
    e: &Engine<B>,
    req: &OrderRequest,
    instruments: &Instruments,
) -> Result<PreviewResult, TradingError> {
    let pre_trade = e.preview(req)?;
    let mut book: BTreeMap<ContractId, i64> = BTreeMap::new();
    for p in e.positions() {
        *book.entry(p.contract).or_default() += p.qty;
    }
    Ok(PreviewResult {
        pre_trade,
        reference_price: e.reference_price(req.contract),
        margin_now_usd: margin_usd(instruments, &book),
    })
}

/// The pre-trade preview of a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewResult {
    pub pre_trade: PreTradeResult,
    /// The price the order is checked against (mid, last trade or mark).
    pub reference_price: Option<f64>,
    /// Initial margin of the positions held now, USD.
    pub margin_now_usd: f64,
}

/// One leg of a spread preview.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadLegPreview {
    pub contract: ContractId,
    pub side: Side,
    pub qty: i64,
    /// The price the leg is checked against (mid, last trade or mark).
    pub reference_price: Option<f64>,
    /// The check's verdict on this leg, with the legs before it counted as working.
    pub pre_trade: PreTradeResult,
}

/// The pre-trade preview of a spread: every leg checked together.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadPreview {
    /// All legs together: the worst decision, each leg's own reasons prefixed with its
    /// contract, the highest utilisation of each limit and VaR over the legs, and the
    /// initial margin of the book after every leg filled.
    pub pre_trade: PreTradeResult,
    pub legs: Vec<SpreadLegPreview>,
    /// The spread's price ($/bbl) from the legs' reference prices.
    pub spread_price: Option<f64>,
    /// Initial margin of the positions held now, USD.
    pub margin_now_usd: f64,
}

/// The reasons the engine gives legs that were refused only because another leg was.
const LINKED_LEG_REASON: &str = "linked leg rejected";

impl SpreadPreview {
    /// Combines the legs' results (see [`SpreadPreview::pre_trade`]); `margin_after_usd` is
    /// the initial margin of the book with every leg filled.
    /// Combines the legs' results; `margin_after_usd` is the initial margin of the book
    /// with every leg filled.
    pub fn combine(legs: Vec<SpreadLegPreview>, margin_after_usd: f64) -> PreTradeResult {
        let mut decision = PreTradeDecision::Pass;
        let mut reasons: Vec<String> = Vec::new();
        let mut var_usd: Option<f64> = None;
        let mut utilisations: Vec<(String, f64)> = Vec::new();
        for l in &legs {
            decision = decision.max(l.pre_trade.decision);
            for r in l.pre_trade.reasons.iter().filter(|r| !r.starts_with(LINKED_LEG_REASON)) {
                let line = format!("{}: {r}", l.contract);
                if !reasons.contains(&line) {
                    reasons.push(line);
                }
            }
            if let Some(post) = &l.pre_trade.post_trade {
                if let Some(v) = post.var_usd {
                    var_usd = Some(var_usd.map_or(v, |w| w.max(v)));
                }
                for (name, u) in &post.utilisations {
                    match utilisations.iter_mut().find(|(n, _)| n == name) {
                        Some((_, w)) => *w = w.max(*u),
                        None => utilisations.push((name.clone(), *u)),
                    }
                }
            }
        }
        PreTradeResult {
            decision,
            reasons,
            post_trade: Some(PostTradeMetrics { var_usd, utilisations, margin_usd: margin_after_usd }),
        }
    }
}

/// A supplied check, shared between its owner (which re-installs it when the limits
/// change) and the engine's [`CombinedCheck`].
pub type SharedCheck = Arc<Mutex<Box<dyn PreTradeCheck + Send>>>;

/// The pre-trade check the worker installs in the engine: the built-in limits check and,
/// when one was supplied, that check too. Both run on every order; the result is
/// [`PreTradeResult::combine`] of the two (the worse decision, every reason, the supplied
/// check's post-trade metrics when it has some, else the limits check's).
pub struct CombinedCheck {
    limits: LimitsCheck,
    extra: Option<SharedCheck>,
}

impl CombinedCheck {
    /// The limits check alone, or combined with `extra`.
    pub fn new(limits: LimitsCheck, extra: Option<Box<dyn PreTradeCheck + Send>>) -> Self {
        Self { limits, extra: extra.map(|b| Arc::new(Mutex::new(b))) }
    }

    /// The limits check combined with a check its owner keeps a handle on.
    pub fn shared(limits: LimitsCheck, extra: Option<SharedCheck>) -> Self {
        Self { limits, extra }
    }
}

impl std::fmt::Debug for CombinedCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CombinedCheck")
            .field("limits", &self.limits)
            .field("extra", &self.extra.as_ref().map(|_| ".."))
            .finish()
    }
}

impl PreTradeCheck for CombinedCheck {
    fn check(&self, order: &OrderRequest, book: &BookView) -> PreTradeResult {
        let base = self.limits.check(order, book);
        match &self.extra {
            // A check that panicked once is still asked (the panic stopped that order only).
            Some(x) => base.combine(x.lock().unwrap_or_else(PoisonError::into_inner).check(order, book)),
            None => base,
        }
    }
}

/// Initial margin of `book` (signed contracts per contract), USD.
fn margin_usd(instruments: &Instruments, book: &BTreeMap<ContractId, i64>) -> f64 {
    book.iter().map(|(c, q)| q.unsigned_abs() as f64 * instruments.spec(c.market).initial_margin_usd).sum()
}

/// The preview of `req`: every leg validated and checked together by the engine.
///
/// # Errors
/// [`TradingError`] when the spread or a leg is invalid.
pub fn spread_preview<B: Broker>(
    e: &Engine<B>,
    req: &SpreadRequest,
    instruments: &Instruments,
) -> Result<SpreadPreview, TradingError> {
    let results = e.preview_spread(req)?;
    let mut book: BTreeMap<ContractId, i64> = BTreeMap::new();
    for p in e.positions() {
        *book.entry(p.contract).or_default() += p.qty;
    }
    let margin_now_usd = margin_usd(instruments, &book);
    let mut legs = Vec::with_capacity(results.len());
    for ((contract, side, qty), pre_trade) in req.leg_orders().into_iter().zip(results) {
        *book.entry(contract).or_default() += side.sign() * qty;
        legs.push(SpreadLegPreview { contract, side, qty, reference_price: e.reference_price(contract), pre_trade });
    }
    let margin_after = margin_usd(instruments, &book);
    let pre_trade = SpreadPreview::combine(legs.clone(), margin_after);
    Ok(SpreadPreview {
        pre_trade,
        legs,
        spread_price: req.price(instruments, |c| e.reference_price(c)),
        margin_now_usd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractMonth, Market};

    use crate::config::LimitsConfig;

    /// A check with a fixed verdict (stands in for the risk engine's VaR check).
    struct Fixed {
        decision: PreTradeDecision,
        reason: &'static str,
        var_usd: Option<f64>,
    }

    impl PreTradeCheck for Fixed {
        fn check(&self, _: &OrderRequest, _: &BookView) -> PreTradeResult {
            PreTradeResult {
                decision: self.decision,
                reasons: vec![self.reason.to_string()],
                post_trade: self.var_usd.map(|v| PostTradeMetrics {
                    var_usd: Some(v),
                    utilisations: vec![("VaR".into(), 0.5)],
                    margin_usd: 1.0,
                }),
            }
        }
    }

    #[test]
    fn combined_check_runs_both_and_keeps_the_stricter() {
        let inst = Instruments::builtin().unwrap();
        let c = ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap());
        let limits =
            LimitsCheck::new(LimitsConfig { max_contracts_per_contract: 10, ..LimitsConfig::default() }, inst.clone());
        let book = BookView { marks: [(c, 70.0)].into_iter().collect(), ..BookView::default() };
        // Limits alone: 5 lots pass.
        let alone = CombinedCheck::new(limits.clone(), None);
        assert_eq!(alone.check(&OrderRequest::market(c, Side::Buy, 5), &book).decision, PreTradeDecision::Pass);
        // The supplied check rejects: rejected, with its reason and the limits' utilisations.
        let var = Fixed { decision: PreTradeDecision::Reject, reason: "VaR over the limit", var_usd: None };
        let both = CombinedCheck::new(limits.clone(), Some(Box::new(var)));
        let r = both.check(&OrderRequest::market(c, Side::Buy, 5), &book);
        assert_eq!(r.decision, PreTradeDecision::Reject);
        assert_eq!(r.reasons, vec!["VaR over the limit".to_string()]);
        assert!(r.post_trade.unwrap().utilisations.iter().any(|(n, _)| n == "contracts CLF7"));
        // The supplied check passes with metrics: the limits still reject 11 lots, the VaR shows.
        let var = Fixed { decision: PreTradeDecision::Pass, reason: "VaR 50% of the limit", var_usd: Some(12_345.0) };
        let both = CombinedCheck::new(limits, Some(Box::new(var)));
        let r = both.check(&OrderRequest::market(c, Side::Buy, 11), &book);
        assert_eq!(r.decision, PreTradeDecision::Reject);
        assert!(r.reasons.iter().any(|x| x.contains("contracts CLF7")), "{:?}", r.reasons);
        assert!(r.reasons.iter().any(|x| x == "VaR 50% of the limit"));
        assert_eq!(r.post_trade.unwrap().var_usd, Some(12_345.0));
        assert!(format!("{both:?}").contains("CombinedCheck"));
    }

    #[test]
    fn spread_preview_combines_the_legs() {
        let c = |m| ContractId::new(m, ContractMonth::new(2027, 1).unwrap());
        let leg = |m, decision, reasons: &[&str], u: f64| SpreadLegPreview {
            contract: c(m),
            side: Side::Buy,
            qty: 1,
            reference_price: Some(1.0),
            pre_trade: PreTradeResult {
                decision,
                reasons: reasons.iter().map(|s| s.to_string()).collect(),
                post_trade: Some(PostTradeMetrics {
                    var_usd: None,
                    utilisations: vec![("gross notional".into(), u)],
                    margin_usd: 5.0,
                }),
            },
        };
        let legs = vec![
            leg(Market::Rbob, PreTradeDecision::Reject, &["linked leg rejected (leg 1: gross notional)"], 0.7),
            leg(Market::HeatingOil, PreTradeDecision::Reject, &["gross notional: 116% of the limit"], 1.16),
            leg(Market::Wti, PreTradeDecision::Warn, &["daily loss at 85%"], 0.2),
        ];
        let r = SpreadPreview::combine(legs, 42.0);
        assert_eq!(r.decision, PreTradeDecision::Reject);
        assert_eq!(
            r.reasons,
            vec!["HOF7: gross notional: 116% of the limit".to_string(), "CLF7: daily loss at 85%".into()]
        );
        let post = r.post_trade.unwrap();
        assert_eq!(post.utilisations, vec![("gross notional".to_string(), 1.16)]);
        assert_eq!(post.margin_usd, 42.0);
        assert_eq!(post.var_usd, None);
    }
}
