//! Spread orders as linked legs: WTI–Brent and crack spreads.
//!
//! A spread order is entered as one request and becomes one order per leg, all sharing a
//! spread id ([`crude_model::SpreadLink`]). The legs are validated and risk-checked together
//! (all are entered or none), work as market orders (or limits at per-leg prices), and are
//! linked: cancelling the spread, or any leg ending without filling completely (cancelled,
//! rejected, expired), cancels the legs still working. Positions show each leg in its own
//! contract; [`SpreadRequest::price`] gives the spread's price from leg prices.

use crude_model::{ContractId, Instruments, Market, Order, Side, TimeInForce};
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

    /// The spread the leg orders of one spread order came from (positions and working
    /// orders recovered from the database carry only their [`crude_model::SpreadLink`]):
    /// legs in leg order with their limit prices, side, quantity, time in force, strategy
    /// and user from the first leg, and the name and price divisor of the standard spread
    /// with these markets and ratios (WTI-Brent, RB/HO crack, 3:2:1 crack), else `spread`
    /// divided by 1.
    ///
    /// # Errors
    /// [`TradingError::BadSpread`] when `orders` is empty, an order is not a spread leg, or
    /// the legs belong to different spreads.
    pub fn from_leg_orders(orders: &[&Order]) -> Result<Self, TradingError> {
        let mut legs: Vec<(&Order, crude_model::SpreadLink)> = Vec::with_capacity(orders.len());
        for o in orders {
            let Some(link) = o.spread else {
                return Err(TradingError::BadSpread(format!("order {} is not a spread leg", o.order_id)));
            };
            legs.push((o, link));
        }
        legs.sort_by_key(|(_, l)| l.leg);
        let Some(&(first, link0)) = legs.first() else {
            return Err(TradingError::BadSpread("no leg orders".into()));
        };
        if let Some((o, _)) = legs.iter().find(|(_, l)| l.spread_id != link0.spread_id) {
            return Err(TradingError::BadSpread(format!(
                "order {} belongs to spread {}, not {}",
                o.order_id,
                o.spread.map_or(0, |l| l.spread_id),
                link0.spread_id
            )));
        }
        if link0.ratio == 0 {
            return Err(TradingError::BadSpread(format!("order {} has ratio 0", first.order_id)));
        }
        let side = if first.side.sign() * link0.ratio.signum() > 0 { Side::Buy } else { Side::Sell };
        let qty = first.qty / link0.ratio.abs();
        let shape: Vec<(Market, i64)> = legs.iter().map(|(o, l)| (o.contract.market, l.ratio)).collect();
        let (name, divisor) = match shape.as_slice() {
            [(Market::Wti, 1), (Market::Brent, -1)] => ("WTI-Brent".to_string(), 1.0),
            [(p, 1), (c, -1)] if p.quoted_per_gallon() && !c.quoted_per_gallon() => {
                (format!("{} crack", p.code()), 1.0)
            }
            [(Market::Rbob, 2), (Market::HeatingOil, 1), (Market::Wti, -3)] => ("3:2:1 crack".to_string(), 3.0),
            _ => ("spread".to_string(), 1.0),
        };
        Ok(Self {
            name,
            legs: legs
                .iter()
                .map(|(o, l)| SpreadLeg { contract: o.contract, ratio: l.ratio, limit_price: o.limit_price })
                .collect(),
            side,
            qty,
            tif: first.tif,
            strategy: first.strategy.clone(),
            user: first.user.clone(),
            price_divisor: divisor,
        })
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

    /// The leg orders the engine would create for `s` (spread 9).
    fn leg_orders_of(s: &SpreadRequest) -> Vec<Order> {
        s.leg_orders()
            .into_iter()
            .enumerate()
            .map(|(i, (contract, side, qty))| {
                let mut r = crude_model::OrderRequest::market(contract, side, qty);
                r.strategy = "spreads".into();
                Order {
                    order_id: 20 + i as u64,
                    client_order_id: format!("c{i}"),
                    contract,
                    side,
                    qty,
                    order_type: r.order_type,
                    limit_price: s.legs[i].limit_price,
                    stop_price: None,
                    tif: TimeInForce::Gtc,
                    strategy: r.strategy,
                    user: "alice".into(),
                    status: crude_model::OrderStatus::Working,
                    filled_qty: 0,
                    avg_fill_price: None,
                    triggered: false,
                    created_ts: crude_model::Timestamp(0),
                    updated_ts: crude_model::Timestamp(0),
                    expire_ts: None,
                    arrival_price: None,
                    spread: Some(crude_model::SpreadLink {
                        spread_id: 9,
                        leg: u8::try_from(i).unwrap(),
                        ratio: s.legs[i].ratio,
                    }),
                    reason: None,
                    last_seq: 2,
                }
            })
            .collect()
    }

    #[test]
    fn spreads_are_recovered_from_their_leg_orders() {
        let mut cases = vec![
            SpreadRequest::wti_brent(c(Market::Wti), c(Market::Brent), Side::Sell, 2).unwrap(),
            SpreadRequest::crack(c(Market::Wti), c(Market::HeatingOil), Side::Buy, 4).unwrap(),
            SpreadRequest::crack(c(Market::Brent), c(Market::Rbob), Side::Sell, 1).unwrap(),
            SpreadRequest::crack_321(c(Market::Wti), c(Market::Rbob), c(Market::HeatingOil), Side::Sell, 3).unwrap(),
        ];
        cases[0].legs[1].limit_price = Some(-1.25);
        for s in cases {
            let mut orders = leg_orders_of(&s);
            orders.reverse(); // any order of the legs
            let refs: Vec<&Order> = orders.iter().collect();
            let back = SpreadRequest::from_leg_orders(&refs).unwrap();
            assert_eq!(back.name, s.name);
            assert_eq!(back.legs, s.legs);
            assert_eq!((back.side, back.qty), (s.side, s.qty), "{}", s.name);
            assert_eq!(back.price_divisor, s.price_divisor);
            assert_eq!((back.tif, back.strategy.as_str(), back.user.as_str()), (TimeInForce::Gtc, "spreads", "alice"));
        }
        let s = SpreadRequest::wti_brent(c(Market::Wti), c(Market::Brent), Side::Buy, 1).unwrap();
        let mut orders = leg_orders_of(&s);
        assert!(SpreadRequest::from_leg_orders(&[]).is_err());
        orders[1].spread = orders[1].spread.map(|l| crude_model::SpreadLink { spread_id: 10, ..l });
        let refs: Vec<&Order> = orders.iter().collect();
        assert!(SpreadRequest::from_leg_orders(&refs).is_err());
        orders[1].spread = None;
        let refs: Vec<&Order> = orders.iter().collect();
        assert!(SpreadRequest::from_leg_orders(&refs).is_err());
    }
}
