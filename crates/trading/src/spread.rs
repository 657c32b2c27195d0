//! Spread orders as linked legs: WTI–Brent and crack spreads.
//!
//! A spread order is entered as one request and becomes one order per leg, all sharing a
//! spread id ([`crude_model::SpreadLink`]). The legs are validated and risk-checked together
//! (all are entered or none), work as market orders (or limits at per-leg prices), and are
//! linked: cancelling the spread, or any leg ending without filling completely (cancelled,
//! rejected, expired), cancels the legs still working. Positions show each leg in its own
//! contract; [`SpreadRequest::price`] gives the spread's price from leg prices.

use crude_model::{ContractId, Instruments, Market, Side, TimeInForce};
use serde::{Deserialize, Serialize};

use crate::error::TradingError;

/// One leg: a contract and its signed ratio per unit of spread (+ bought when the spread is
/// bought).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpreadLeg {
    pub contract: ContractId,
    pub ratio: i64,
    /// Optional limit price for this leg; `None` works the leg at the market.
    pub limit_price: Option<f64>,
}

/// A spread order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpreadRequest {
    /// Label (`WTI-Brent`, `3:2:1 crack`).
    pub name: String,
    pub legs: Vec<SpreadLeg>,
    /// Buying the spread trades each leg in the direction of its ratio; selling reverses.
    pub side: Side,
    /// Spread units.
    pub qty: i64,
    pub tif: TimeInForce,
    pub strategy: String,
    pub user: String,
    /// Divides the leg-weighted price (3 for a 3:2:1 crack quoted per barrel of crude).
    pub price_divisor: f64,
}

impl SpreadRequest {
    fn new(name: &str, legs: Vec<SpreadLeg>, side: Side, qty: i64, divisor: f64) -> Self {
        Self {
            name: name.into(),
            legs,
            side,
            qty,
            tif: TimeInForce::Day,
            strategy: "spread".into(),
            user: "trader".into(),
            price_divisor: divisor,
        }
    }

    /// WTI minus Brent: buying it buys WTI and sells Brent, one for one.
    ///
    /// # Errors
    /// [`TradingError::BadSpread`] when the contracts are not WTI and Brent.
    pub fn wti_brent(wti: ContractId, brent: ContractId, side: Side, qty: i64) -> Result<Self, TradingError> {
        if wti.market != Market::Wti || brent.market != Market::Brent {
            return Err(TradingError::BadSpread(format!(
                "WTI-Brent needs a CL and a BZ contract, got {wti} and {brent}"
            )));
        }
        Ok(Self::new(
            "WTI-Brent",
            vec![
                SpreadLeg { contract: wti, ratio: 1, limit_price: None },
                SpreadLeg { contract: brent, ratio: -1, limit_price: None },
            ],
            side,
            qty,
            1.0,
        ))
    }

    /// A 1:1 crack: buying it buys the product (RBOB or heating oil) and sells crude.
    ///
    /// # Errors
    /// [`TradingError::BadSpread`] unless `crude` is CL or BZ and `product` RB or HO.
    pub fn crack(crude: ContractId, product: ContractId, side: Side, qty: i64) -> Result<Self, TradingError> {
        if product.market.quoted_per_gallon() && !crude.market.quoted_per_gallon() {
            let name = format!("{} crack", product.market.code());
            Ok(Self::new(
                &name,
                vec![
                    SpreadLeg { contract: product, ratio: 1, limit_price: None },
                    SpreadLeg { contract: crude, ratio: -1, limit_price: None },
                ],
                side,
                qty,
                1.0,
            ))
        } else {
            Err(TradingError::BadSpread(format!(
                "a crack needs a crude (CL/BZ) and a product (RB/HO), got {crude} and {product}"
            )))
        }
    }

    /// The 3:2:1 crack: buying it buys 2 RBOB and 1 heating oil and sells 3 WTI per unit;
    /// priced per barrel of crude.
    ///
    /// # Errors
    /// [`TradingError::BadSpread`] unless the contracts are CL, RB and HO.
    pub fn crack_321(
        cl: ContractId,
        rb: ContractId,
        ho: ContractId,
        side: Side,
        qty: i64,
    ) -> Result<Self, TradingError> {
        if cl.market != Market::Wti || rb.market != Market::Rbob || ho.market != Market::HeatingOil {
            return Err(TradingError::BadSpread(format!("3:2:1 needs CL, RB and HO contracts, got {cl}, {rb}, {ho}")));
        }
        Ok(Self::new(
            "3:2:1 crack",
            vec![
                SpreadLeg { contract: rb, ratio: 2, limit_price: None },
                SpreadLeg { contract: ho, ratio: 1, limit_price: None },
                SpreadLeg { contract: cl, ratio: -3, limit_price: None },
            ],
            side,
            qty,
            3.0,
        ))
    }

    /// Checks the shape: 2..=4 legs, non-zero ratios, distinct contracts, qty > 0.
    ///
    /// # Errors
    /// [`TradingError::BadSpread`] saying what is wrong.
    pub fn validate_shape(&self) -> Result<(), TradingError> {
        if !(2..=4).contains(&self.legs.len()) {
            return Err(TradingError::BadSpread(format!("{} legs; a spread has 2 to 4", self.legs.len())));
        }
        if self.qty <= 0 {
            return Err(TradingError::BadSpread(format!("qty {} is not a positive whole number of spreads", self.qty)));
        }
        for (i, l) in self.legs.iter().enumerate() {
            if l.ratio == 0 {
                return Err(TradingError::BadSpread(format!("leg {i} ({}) has ratio 0", l.contract)));
            }
            if self.legs[..i].iter().any(|o| o.contract == l.contract) {
                return Err(TradingError::BadSpread(format!("contract {} appears in two legs", l.contract)));
            }
        }
        if !(self.price_divisor.is_finite() && self.price_divisor > 0.0) {
            return Err(TradingError::BadSpread("price_divisor must be a positive number".into()));
        }
        Ok(())
    }

    /// Side and quantity of each leg's order.
    pub fn leg_orders(&self) -> Vec<(ContractId, Side, i64)> {
        self.legs
            .iter()
            .map(|l| {
                let signed = l.ratio * self.side.sign();
                (l.contract, if signed > 0 { Side::Buy } else { Side::Sell }, l.ratio.abs() * self.qty)
            })
            .collect()
    }

    /// The spread's price in $/bbl from leg prices (products converted from $/gal):
    /// Σ ratio × price per barrel ÷ divisor. `None` when a leg has no price.
    pub fn price(&self, instruments: &Instruments, leg_price: impl Fn(ContractId) -> Option<f64>) -> Option<f64> {
        let mut total = 0.0;
        for l in &self.legs {
            let p = leg_price(l.contract)?;
            total += l.ratio as f64 * instruments.spec(l.contract.market).price_per_barrel(p);
        }
        Some(total / self.price_divisor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::ContractMonth;

    fn c(m: Market) -> ContractId {
        ContractId::new(m, ContractMonth::new(2027, 3).unwrap())
    }

    #[test]
    fn legs_and_prices() {
        let inst = Instruments::builtin().unwrap();
        let s = SpreadRequest::wti_brent(c(Market::Wti), c(Market::Brent), Side::Sell, 2).unwrap();
        assert_eq!(s.leg_orders(), vec![(c(Market::Wti), Side::Sell, 2), (c(Market::Brent), Side::Buy, 2)]);
        let p = s.price(&inst, |k| Some(if k.market == Market::Wti { 70.0 } else { 74.5 })).unwrap();
        assert!((p + 4.5).abs() < 1e-12);
        let k = SpreadRequest::crack_321(c(Market::Wti), c(Market::Rbob), c(Market::HeatingOil), Side::Buy, 1).unwrap();
        let price = k
            .price(&inst, |x| match x.market {
                Market::Wti => Some(70.0),
                Market::Rbob => Some(2.2),
                Market::HeatingOil => Some(2.5),
                Market::Brent => None,
            })
            .unwrap();
        // (2 × 92.4 + 105 − 210) / 3 = 26.6
        assert!((price - 26.6).abs() < 1e-9, "{price}");
        assert_eq!(k.leg_orders()[2], (c(Market::Wti), Side::Sell, 3));
        assert!(SpreadRequest::wti_brent(c(Market::Brent), c(Market::Wti), Side::Buy, 1).is_err());
        assert!(SpreadRequest::crack(c(Market::Rbob), c(Market::Wti), Side::Buy, 1).is_err());
        let mut bad = s.clone();
        bad.legs[1].contract = bad.legs[0].contract;
        assert!(bad.validate_shape().is_err());
    }
}
