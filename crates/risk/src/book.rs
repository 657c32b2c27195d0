//! The book the risk engine measures: positions in futures and in options on futures, the
//! NAV, and the P&L state the drawdown limits are judged on.
//!
//! Conventions:
//! - A [`BookPosition`] is `qty` contracts (negative = short) of a future, or of an option
//!   on that future when `option` is set. `price` is always the current mark of the
//!   **future** (an option's premium is computed from it with Black-76); it may be zero or
//!   negative (WTI settled at −37.63 on 2020-04-20).
//! - The **delta-equivalent** of a position, in futures contracts, is `qty` for a future
//!   and `Δ × qty` for an option (`Δ` the Black-76 delta `∂V/∂F` of one option). This is
//!   what option positions contribute to VaR, exposures and contract limits.
//! - Black-76 needs `F > 0`: an option whose future is at or below zero is valued at its
//!   discounted intrinsic value `e^{−rT} max(F − K, 0)` (call) or `e^{−rT} max(K − F, 0)`
//!   (put), with delta `0` (call) or `−e^{−rT}` (put) and no gamma or vega — the limit of
//!   Black-76 as `F → 0⁺`, stated rather than assumed away.
//! - [`PnlState`] carries the P&L figures the drawdown limits use; the book's owner (the
//!   trading crate, or a file) fills them in.

use serde::{Deserialize, Deserializer, Serialize};

use crude_model::{ContractId, Position as TradedPosition, Timestamp, contract_multiplier};

use crate::RiskError;
use crate::black76::{OptionType, black76};

/// The option part of a position: a European option on the position's future.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptionLeg {
    /// Call or put (`call` / `put` in files).
    #[serde(deserialize_with = "deserialize_option_type")]
    pub kind: OptionType,
    /// Strike, in the future's price unit ($/bbl or $/gal); Black-76 needs it `> 0`.
    pub strike: f64,
    /// Time to expiry in years (`> 0`).
    pub expiry_years: f64,
    /// Volatility a year as a fraction (`0.35` for 35 %, `> 0`).
    pub vol: f64,
    /// Continuously compounded interest rate used for discounting (`0.045` for 4.5 %).
    pub rate: f64,
}

fn deserialize_option_type<'de, D: Deserializer<'de>>(d: D) -> Result<OptionType, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<OptionType>()
        .map_err(|_| serde::de::Error::custom(format!("'{s}' is not an option type; use call or put")))
}

/// Value and sensitivities of one unit of an option (or of a future: value `F`, delta 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitValuation {
    /// Value per unit (premium for an option, the price for a future).
    pub value: f64,
    /// `∂V/∂F`.
    pub delta: f64,
    /// `∂²V/∂F²`.
    pub gamma: f64,
    /// `∂V/∂σ` per 1.00 of volatility.
    pub vega: f64,
    /// `−∂V/∂T` per year.
    pub theta: f64,
    /// `∂V/∂r` per 1.00 of rate.
    pub rho: f64,
    /// Whether the option was valued at intrinsic value because the future was at or below
    /// zero (Black-76 undefined there).
    pub intrinsic_only: bool,
}

impl OptionLeg {
    /// Checks the leg's numbers; `what` names the position in the message.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] naming the field for a non-finite or out-of-range value.
    pub fn validate(&self, what: &str) -> Result<(), RiskError> {
        let bad = |argument: &'static str, value: f64, reason: &str| RiskError::BadArgument {
            argument,
            value: format!("{value} ({what})"),
            reason: reason.to_string(),
        };
        if !(self.strike.is_finite() && self.strike > 0.0) {
            return Err(bad(
                "strike",
                self.strike,
                "Black-76 needs a strictly positive strike (it takes ln(F/K)); enter the strike in $/bbl or $/gal",
            ));
        }
        if !(self.expiry_years.is_finite() && self.expiry_years > 0.0) {
            return Err(bad(
                "expiry_years",
                self.expiry_years,
                "time to expiry must be a positive number of years (0.25 for three months); remove expired options",
            ));
        }
        if !(self.vol.is_finite() && self.vol > 0.0) {
            return Err(bad("vol", self.vol, "volatility must be > 0, as a fraction a year (0.35 for 35 %)"));
        }
        if !self.rate.is_finite() {
            return Err(bad("rate", self.rate, "the interest rate must be a finite fraction (0.045 for 4.5 %)"));
        }
        Ok(())
    }

    /// Value and Greeks of one option at futures price `forward` and volatility `vol`
    /// (Black-76; discounted intrinsic value when `forward ≤ 0`, see the module docs).
    ///
    /// # Errors
    /// Those of [`black76`] for parameters [`Self::validate`] would refuse.
    pub fn valuation_at(&self, forward: f64, vol: f64) -> Result<UnitValuation, RiskError> {
        if forward <= 0.0 && forward.is_finite() {
            let disc = (-self.rate * self.expiry_years).exp();
            let (value, delta) = match self.kind {
                OptionType::Call => (disc * (forward - self.strike).max(0.0), 0.0),
                OptionType::Put => (disc * (self.strike - forward).max(0.0), -disc),
            };
            return Ok(UnitValuation {
                value,
                delta,
                gamma: 0.0,
                vega: 0.0,
                theta: self.rate * value,
                rho: -self.expiry_years * value,
                intrinsic_only: true,
            });
        }
        let g = black76(self.kind, forward, self.strike, self.expiry_years, vol, self.rate)?;
        Ok(UnitValuation {
            value: g.price,
            delta: g.delta,
            gamma: g.gamma,
            vega: g.vega,
            theta: g.theta,
            rho: g.rho,
            intrinsic_only: false,
        })
    }
}

/// One position of the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookPosition {
    /// The futures contract (the underlying, for an option).
    pub contract: ContractId,
    /// Signed contracts: positive long, negative short.
    pub qty: i64,
    /// Units per contract (1,000 bbl for CL/BZ, 42,000 gal for RB/HO).
    pub multiplier: f64,
    /// Current mark of the **future**, per unit (may be zero or negative).
    pub price: f64,
    /// Average entry price per unit (the premium paid, for an option).
    pub avg_price: f64,
    /// Strategy tag (for the single-strategy concentration limit).
    pub strategy: String,
    /// `None` for the future itself; the option's terms otherwise.
    pub option: Option<OptionLeg>,
}

impl BookPosition {
    /// A futures position with the market's standard multiplier.
    pub fn future(contract: ContractId, qty: i64, price: f64, strategy: &str) -> Self {
        Self {
            contract,
            qty,
            multiplier: contract_multiplier(contract.market),
            price,
            avg_price: price,
            strategy: strategy.to_string(),
            option: None,
        }
    }

    /// An option position on `contract`'s future (mark `price`), standard multiplier; the
    /// average price is set to the current Black-76 premium when it can be computed, else 0.
    pub fn option(contract: ContractId, qty: i64, price: f64, leg: OptionLeg, strategy: &str) -> Self {
        let premium = leg.valuation_at(price, leg.vol).map(|v| v.value).unwrap_or(0.0);
        Self {
            contract,
            qty,
            multiplier: contract_multiplier(contract.market),
            price,
            avg_price: premium,
            strategy: strategy.to_string(),
            option: Some(leg),
        }
    }

    /// Whether the position is an option.
    pub fn is_option(&self) -> bool {
        self.option.is_some()
    }

    /// A short description for tables and messages: `CLF7`, `CLF7 C 75`.
    pub fn label(&self) -> String {
        match &self.option {
            None => self.contract.to_string(),
            Some(o) => format!("{} {} {}", self.contract, if o.kind == OptionType::Call { "C" } else { "P" }, o.strike),
        }
    }

    /// Checks the position's numbers.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] naming the field: a non-finite price or average price,
    /// a non-positive multiplier, or a bad option leg ([`OptionLeg::validate`]).
    pub fn validate(&self) -> Result<(), RiskError> {
        let what = self.label();
        if !self.price.is_finite() {
            return Err(RiskError::BadArgument {
                argument: "price",
                value: format!("{} ({what})", self.price),
                reason: "the mark must be a finite number (negative prices are allowed)".to_string(),
            });
        }
        if !self.avg_price.is_finite() {
            return Err(RiskError::BadArgument {
                argument: "avg_price",
                value: format!("{} ({what})", self.avg_price),
                reason: "the average price must be a finite number".to_string(),
            });
        }
        if !(self.multiplier.is_finite() && self.multiplier > 0.0) {
            return Err(RiskError::BadArgument {
                argument: "multiplier",
                value: format!("{} ({what})", self.multiplier),
                reason: "the contract multiplier must be a positive number of units (1000 for CL/BZ, 42000 for RB/HO)"
                    .to_string(),
            });
        }
        if let Some(leg) = &self.option {
            leg.validate(&what)?;
        }
        Ok(())
    }

    /// Value and sensitivities of one unit at futures price `forward` and, for an option,
    /// volatility `vol` (a future: value `forward`, delta 1, no other Greeks).
    ///
    /// # Errors
    /// Those of [`OptionLeg::valuation_at`].
    pub fn unit_valuation_at(&self, forward: f64, vol: f64) -> Result<UnitValuation, RiskError> {
        match &self.option {
            None => Ok(UnitValuation {
                value: forward,
                delta: 1.0,
                gamma: 0.0,
                vega: 0.0,
                theta: 0.0,
                rho: 0.0,
                intrinsic_only: false,
            }),
            Some(leg) => leg.valuation_at(forward, vol),
        }
    }

    /// Value and sensitivities of one unit at the current mark and volatility.
    ///
    /// # Errors
    /// Those of [`OptionLeg::valuation_at`].
    pub fn unit_valuation(&self) -> Result<UnitValuation, RiskError> {
        self.unit_valuation_at(self.price, self.option.map_or(0.0, |o| o.vol))
    }

    /// Delta-equivalent in futures contracts: `qty` for a future, `Δ × qty` for an option.
    ///
    /// # Errors
    /// Those of [`OptionLeg::valuation_at`].
    pub fn delta_contracts(&self) -> Result<f64, RiskError> {
        Ok(self.unit_valuation()?.delta * self.qty as f64)
    }

    /// Notional of the future, `qty × multiplier × price`, USD (signed; for an option use
    /// the delta-equivalent instead).
    pub fn futures_notional_usd(&self) -> f64 {
        self.qty as f64 * self.multiplier * self.price
    }
}

/// P&L figures the drawdown limits are judged on, USD.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PnlState {
    /// P&L of the current session so far.
    pub intraday_pnl_usd: f64,
    /// Highest `intraday_pnl_usd` of the session (the intraday drawdown is measured from it).
    pub intraday_peak_pnl_usd: f64,
    /// P&L of the trading day (against the previous settlement).
    pub day_pnl_usd: f64,
    /// P&L of the week so far.
    pub week_pnl_usd: f64,
}

impl PnlState {
    /// Intraday drawdown from the session's peak, `max(0, peak − current)`, USD.
    pub fn intraday_drawdown_usd(&self) -> f64 {
        (self.intraday_peak_pnl_usd.max(self.intraday_pnl_usd) - self.intraday_pnl_usd).max(0.0)
    }

    /// Day loss `max(0, −day P&L)`, USD.
    pub fn daily_drawdown_usd(&self) -> f64 {
        (-self.day_pnl_usd).max(0.0)
    }

    /// Week loss `max(0, −week P&L)`, USD.
    pub fn weekly_drawdown_usd(&self) -> f64 {
        (-self.week_pnl_usd).max(0.0)
    }

    /// Checks every figure is finite.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] naming the field.
    pub fn validate(&self) -> Result<(), RiskError> {
        for (argument, v) in [
            ("intraday_pnl_usd", self.intraday_pnl_usd),
            ("intraday_peak_pnl_usd", self.intraday_peak_pnl_usd),
            ("day_pnl_usd", self.day_pnl_usd),
            ("week_pnl_usd", self.week_pnl_usd),
        ] {
            if !v.is_finite() {
                return Err(RiskError::BadArgument {
                    argument,
                    value: format!("{v}"),
                    reason: "P&L figures must be finite numbers of USD".to_string(),
                });
            }
        }
        Ok(())
    }
}

/// The book at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskBook {
    /// Event time of the prices and positions (also fixes each contract's curve point in
    /// stress scenarios).
    pub as_of: Timestamp,
    /// Net asset value for the `% of NAV` figures, USD (`> 0`).
    pub nav_usd: f64,
    /// The positions.
    pub positions: Vec<BookPosition>,
    /// P&L for the drawdown limits.
    pub pnl: PnlState,
}

impl RiskBook {
    /// An empty book.
    pub fn empty(as_of: Timestamp, nav_usd: f64) -> Self {
        Self { as_of, nav_usd, positions: Vec::new(), pnl: PnlState::default() }
    }

    /// A book of futures from the trading crate's positions: each non-flat input position
    /// becomes one book position (positions kept per strategy stay separate; a position
    /// without a strategy is tagged `all`). The mark is `marks`' price for the contract,
    /// else the position's own mark, else its average price.
    pub fn from_traded(
        as_of: Timestamp,
        nav_usd: f64,
        positions: &[TradedPosition],
        marks: &std::collections::BTreeMap<ContractId, f64>,
        pnl: PnlState,
    ) -> Self {
        let positions = positions
            .iter()
            .filter(|p| p.qty != 0)
            .map(|p| {
                let price = marks.get(&p.contract).copied().or(p.mark).unwrap_or(p.avg_price);
                BookPosition {
                    contract: p.contract,
                    qty: p.qty,
                    multiplier: p.multiplier,
                    price,
                    avg_price: p.avg_price,
                    strategy: p.strategy.clone().unwrap_or_else(|| "all".to_string()),
                    option: None,
                }
            })
            .collect();
        Self { as_of, nav_usd, positions, pnl }
    }

    /// Checks the NAV, every position and the P&L state.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] naming the field at fault.
    pub fn validate(&self) -> Result<(), RiskError> {
        if !(self.nav_usd.is_finite() && self.nav_usd > 0.0) {
            return Err(RiskError::BadArgument {
                argument: "nav_usd",
                value: format!("{}", self.nav_usd),
                reason: "the NAV must be a positive number of USD (the % of NAV figures divide by it)".to_string(),
            });
        }
        for p in &self.positions {
            p.validate()?;
        }
        self.pnl.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractMonth, Market};

    fn clf7() -> ContractId {
        ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap())
    }

    fn leg(kind: OptionType, strike: f64) -> OptionLeg {
        OptionLeg { kind, strike, expiry_years: 0.5, vol: 0.4, rate: 0.03 }
    }

    #[test]
    fn futures_have_unit_delta_and_signed_notional() {
        let p = BookPosition::future(clf7(), -3, -12.5, "s");
        assert_eq!(p.delta_contracts().unwrap(), -3.0);
        assert_eq!(p.futures_notional_usd(), 37_500.0);
        p.validate().unwrap();
    }

    #[test]
    fn options_use_black76_above_zero_and_intrinsic_at_or_below() {
        let call = BookPosition::option(clf7(), 2, 70.0, leg(OptionType::Call, 70.0), "s");
        let v = call.unit_valuation().unwrap();
        let g = black76(OptionType::Call, 70.0, 70.0, 0.5, 0.4, 0.03).unwrap();
        assert_eq!(v.value, g.price);
        assert!((call.delta_contracts().unwrap() - 2.0 * g.delta).abs() < 1e-15);
        assert!(!v.intrinsic_only);
        let disc = (-0.03f64 * 0.5).exp();
        let put = leg(OptionType::Put, 20.0);
        let v = put.valuation_at(-37.63, 0.4).unwrap();
        assert!(v.intrinsic_only);
        assert!((v.value - disc * 57.63).abs() < 1e-12);
        assert!((v.delta + disc).abs() < 1e-15);
        let v = leg(OptionType::Call, 20.0).valuation_at(0.0, 0.4).unwrap();
        assert_eq!((v.value, v.delta, v.gamma, v.vega), (0.0, 0.0, 0.0, 0.0));
        // Continuity at F → 0⁺: Black-76 just above zero is close to the intrinsic value.
        let just_above = put.valuation_at(1e-6, 0.4).unwrap();
        assert!((just_above.value - disc * 20.0).abs() < 1e-5);
    }

    #[test]
    fn validation_names_fields() {
        let mut p = BookPosition::option(clf7(), 1, 70.0, leg(OptionType::Call, 70.0), "s");
        p.option.as_mut().unwrap().strike = -5.0;
        assert!(matches!(p.validate(), Err(RiskError::BadArgument { argument: "strike", .. })));
        p.option.as_mut().unwrap().strike = 70.0;
        p.option.as_mut().unwrap().vol = 0.0;
        assert!(matches!(p.validate(), Err(RiskError::BadArgument { argument: "vol", .. })));
        p.option.as_mut().unwrap().vol = 0.3;
        p.option.as_mut().unwrap().expiry_years = f64::NAN;
        assert!(matches!(p.validate(), Err(RiskError::BadArgument { argument: "expiry_years", .. })));
        let mut f = BookPosition::future(clf7(), 1, 70.0, "s");
        f.price = f64::INFINITY;
        assert!(matches!(f.validate(), Err(RiskError::BadArgument { argument: "price", .. })));
        let book = RiskBook::empty(Timestamp(0), 0.0);
        assert!(matches!(book.validate(), Err(RiskError::BadArgument { argument: "nav_usd", .. })));
    }

    #[test]
    fn drawdowns() {
        let pnl = PnlState {
            intraday_pnl_usd: -20_000.0,
            intraday_peak_pnl_usd: 50_000.0,
            day_pnl_usd: -20_000.0,
            week_pnl_usd: 10_000.0,
        };
        assert_eq!(pnl.intraday_drawdown_usd(), 70_000.0);
        assert_eq!(pnl.daily_drawdown_usd(), 20_000.0);
        assert_eq!(pnl.weekly_drawdown_usd(), 0.0);
    }

    #[test]
    fn books_from_traded_positions_use_the_marks() {
        use crude_model::Side;
        let mut long = TradedPosition::flat(clf7(), Some("trend".into()), 1_000.0);
        long.apply_fill(Side::Buy, 3, 70.0, 0.0);
        long.set_mark(71.0);
        let flat = TradedPosition::flat(clf7(), None, 1_000.0);
        let mut short = TradedPosition::flat(clf7(), None, 1_000.0);
        short.apply_fill(Side::Sell, 2, 69.0, 0.0);
        let marks = [(clf7(), 72.5)].into_iter().collect();
        let book = RiskBook::from_traded(Timestamp(5), 1e7, &[long.clone(), flat, short], &marks, PnlState::default());
        assert_eq!(book.positions.len(), 2);
        assert_eq!((book.positions[0].qty, book.positions[0].price, book.positions[0].avg_price), (3, 72.5, 70.0));
        assert_eq!(book.positions[0].strategy, "trend");
        assert_eq!((book.positions[1].qty, book.positions[1].strategy.as_str()), (-2, "all"));
        let no_marks = std::collections::BTreeMap::new();
        let book = RiskBook::from_traded(Timestamp(5), 1e7, &[long], &no_marks, PnlState::default());
        assert_eq!(book.positions[0].price, 71.0);
        book.validate().unwrap();
    }

    #[test]
    fn option_leg_deserialises_from_yaml() {
        let leg: OptionLeg =
            serde_yaml::from_str("kind: put\nstrike: 65\nexpiry_years: 0.25\nvol: 0.45\nrate: 0.04\n").unwrap();
        assert_eq!(leg.kind, OptionType::Put);
        assert!(
            serde_yaml::from_str::<OptionLeg>(
                "kind: straddle\nstrike: 65\nexpiry_years: 0.25\nvol: 0.45\nrate: 0.04\n"
            )
            .is_err()
        );
    }
}
