//! The Greeks table: Black-76 sensitivities of the book, scaled to positions and aggregated
//! per futures contract and in total.
//!
//! Units of [`GreeksRow`] (position-scaled: one option's Greek × `qty` × `multiplier`,
//! except delta which is in contracts):
//! - `delta`: futures contracts equivalent, `Σ Δ × qty` (a future counts `qty`);
//! - `delta_usd`: dollar delta, `Σ Δ × qty × multiplier × F`, USD;
//! - `gamma`: **1 % cash gamma**, the change of the dollar delta for a 1 % rise of the
//!   futures price, `Σ Γ × F² / 100 × qty × multiplier`, USD (comparable across markets
//!   quoted in $/bbl and $/gal, so it can be summed);
//! - `vega`: USD per volatility point (0.01), `Σ ∂V/∂σ / 100 × qty × multiplier`;
//! - `theta`: USD per calendar day, `Σ (−∂V/∂T) / 365 × qty × multiplier`;
//! - `rho`: USD per 1 % (0.01) of rate, `Σ ∂V/∂r / 100 × qty × multiplier`.
//!
//! Futures have delta `qty` and no other Greeks. An option whose future is at or below
//! zero is valued at intrinsic value (see [`crate::book`]): no gamma or vega.

use std::collections::BTreeMap;

use serde::Serialize;

use crude_model::ContractId;

use crate::RiskError;
use crate::book::BookPosition;

/// Greeks of everything held in one futures contract (the future and options on it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GreeksRow {
    /// The futures contract.
    pub contract: ContractId,
    /// Net futures contracts held (options excluded; see `option_qty`).
    pub qty: i64,
    /// Net option contracts held on this future (calls and puts together, signed).
    pub option_qty: i64,
    /// Delta, futures contracts equivalent.
    pub delta: f64,
    /// Dollar delta, USD.
    pub delta_usd: f64,
    /// 1 % cash gamma, USD.
    pub gamma: f64,
    /// Vega per volatility point, USD.
    pub vega: f64,
    /// Theta per calendar day, USD.
    pub theta: f64,
    /// Rho per 1 % of rate, USD.
    pub rho: f64,
}

/// Totals of the Greeks table.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GreeksTotals {
    /// Delta of everything, futures contracts equivalent.
    pub delta: f64,
    /// Delta of the option positions only, contracts (judged by the delta limit).
    pub option_delta: f64,
    /// Dollar delta, USD.
    pub delta_usd: f64,
    /// 1 % cash gamma, USD.
    pub gamma: f64,
    /// Vega per volatility point, USD.
    pub vega: f64,
    /// Theta per calendar day, USD.
    pub theta: f64,
    /// Rho per 1 % of rate, USD.
    pub rho: f64,
}

/// The Greeks table: one row per futures contract held (sorted by contract) and totals.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GreeksTable {
    /// Rows by contract.
    pub rows: Vec<GreeksRow>,
    /// Totals over the rows.
    pub total: GreeksTotals,
}

/// Position-scaled Greeks of one position, in the units of the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PositionGreeks {
    /// Delta, contracts.
    pub delta: f64,
    /// Dollar delta, USD.
    pub delta_usd: f64,
    /// 1 % cash gamma, USD.
    pub gamma: f64,
    /// Vega per volatility point, USD.
    pub vega: f64,
    /// Theta per day, USD.
    pub theta: f64,
    /// Rho per 1 % of rate, USD.
    pub rho: f64,
}

/// Greeks of one position (see the module documentation for units).
///
/// # Errors
/// Those of [`BookPosition::unit_valuation`] (bad option parameters).
pub fn position_greeks(p: &BookPosition) -> Result<PositionGreeks, RiskError> {
    let u = p.unit_valuation()?;
    let q = p.qty as f64;
    let scale = q * p.multiplier;
    Ok(PositionGreeks {
        delta: u.delta * q,
        delta_usd: u.delta * scale * p.price,
        gamma: u.gamma * p.price * p.price / 100.0 * scale,
        vega: u.vega / 100.0 * scale,
        theta: u.theta / 365.0 * scale,
        rho: u.rho / 100.0 * scale,
    })
}

/// The Greeks table of `positions`.
///
/// # Errors
/// Those of [`position_greeks`].
pub fn greeks_table(positions: &[BookPosition]) -> Result<GreeksTable, RiskError> {
    let mut rows: BTreeMap<ContractId, GreeksRow> = BTreeMap::new();
    let mut total = GreeksTotals::default();
    for p in positions {
        let g = position_greeks(p)?;
        let row = rows.entry(p.contract).or_insert_with(|| GreeksRow {
            contract: p.contract,
            qty: 0,
            option_qty: 0,
            delta: 0.0,
            delta_usd: 0.0,
            gamma: 0.0,
            vega: 0.0,
            theta: 0.0,
            rho: 0.0,
        });
        if p.is_option() {
            row.option_qty += p.qty;
            total.option_delta += g.delta;
        } else {
            row.qty += p.qty;
        }
        row.delta += g.delta;
        row.delta_usd += g.delta_usd;
        row.gamma += g.gamma;
        row.vega += g.vega;
        row.theta += g.theta;
        row.rho += g.rho;
        total.delta += g.delta;
        total.delta_usd += g.delta_usd;
        total.gamma += g.gamma;
        total.vega += g.vega;
        total.theta += g.theta;
        total.rho += g.rho;
    }
    Ok(GreeksTable { rows: rows.into_values().collect(), total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::black76::{OptionType, black76};
    use crate::book::OptionLeg;
    use crude_model::{ContractMonth, Market};

    fn c(market: Market) -> ContractId {
        ContractId::new(market, ContractMonth::new(2027, 3).unwrap())
    }

    #[test]
    fn futures_and_options_aggregate_per_contract() {
        let leg = OptionLeg { kind: OptionType::Call, strike: 75.0, expiry_years: 0.25, vol: 0.35, rate: 0.04 };
        let positions = vec![
            BookPosition::future(c(Market::Wti), 10, 72.0, "a"),
            BookPosition::option(c(Market::Wti), -4, 72.0, leg, "b"),
            BookPosition::future(c(Market::HeatingOil), -2, 2.5, "a"),
        ];
        let t = greeks_table(&positions).unwrap();
        assert_eq!(t.rows.len(), 2);
        let g = black76(OptionType::Call, 72.0, 75.0, 0.25, 0.35, 0.04).unwrap();
        let cl = &t.rows[0];
        assert_eq!(cl.contract, c(Market::Wti));
        assert_eq!((cl.qty, cl.option_qty), (10, -4));
        assert!((cl.delta - (10.0 - 4.0 * g.delta)).abs() < 1e-12);
        assert!((cl.delta_usd - (10.0 - 4.0 * g.delta) * 1_000.0 * 72.0).abs() < 1e-6);
        assert!((cl.gamma - (-4.0 * 1_000.0 * g.gamma * 72.0 * 72.0 / 100.0)).abs() < 1e-9);
        assert!((cl.vega - (-4.0 * 1_000.0 * g.vega / 100.0)).abs() < 1e-9);
        assert!((cl.theta - (-4.0 * 1_000.0 * g.theta / 365.0)).abs() < 1e-9);
        assert!((cl.rho - (-4.0 * 1_000.0 * g.rho / 100.0)).abs() < 1e-9);
        let ho = &t.rows[1];
        assert_eq!((ho.delta, ho.gamma, ho.vega), (-2.0, 0.0, 0.0));
        assert!((ho.delta_usd + 2.0 * 42_000.0 * 2.5).abs() < 1e-9);
        assert!((t.total.delta - (8.0 - 4.0 * g.delta)).abs() < 1e-12);
        assert!((t.total.option_delta + 4.0 * g.delta).abs() < 1e-12);
        assert!((t.total.vega - cl.vega).abs() < 1e-12);
    }

    #[test]
    fn empty_book_has_zero_greeks() {
        let t = greeks_table(&[]).unwrap();
        assert!(t.rows.is_empty());
        assert_eq!(t.total, GreeksTotals::default());
    }
}
