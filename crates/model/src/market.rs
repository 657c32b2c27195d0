//! Markets, contract months and contract identifiers.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Errors a caller can cause with bad symbols, bad files or bad dates. Every message names
/// the offending input and says what would be accepted.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ModelError {
    #[error("unknown market '{0}': expected one of CL (WTI), BZ/CO (Brent), RB/XB (RBOB), HO (heating oil)")]
    UnknownMarket(String),
    #[error("invalid month code '{0}': expected one of F G H J K M N Q U V X Z")]
    BadMonthCode(char),
    #[error("invalid contract symbol '{symbol}': {reason}")]
    BadSymbol { symbol: String, reason: String },
    #[error("invalid contract month {year}-{month:02}: month must be 1..=12 and year 1980..=2099")]
    BadContractMonth { year: i32, month: u32 },
    #[error("{file}: entry '{entry}', field '{field}': {reason}")]
    Config { file: String, entry: String, field: String, reason: String },
    #[error(
        "date {date} is outside the exchange calendar's range {first}..={last}; extend the holiday table to cover it"
    )]
    DateOutOfRange { date: NaiveDate, first: NaiveDate, last: NaiveDate },
}

/// The four oil futures markets Crude trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Market {
    /// WTI light sweet crude (NYMEX CL), $/bbl, 1,000 bbl.
    Wti,
    /// Brent crude (ICE), $/bbl, 1,000 bbl.
    Brent,
    /// RBOB gasoline (NYMEX RB), $/gal, 42,000 gal.
    Rbob,
    /// NY Harbor ULSD / heating oil (NYMEX HO), $/gal, 42,000 gal.
    HeatingOil,
}

impl Market {
    /// Every market, in display order.
    pub const ALL: [Market; 4] = [Market::Wti, Market::Brent, Market::Rbob, Market::HeatingOil];

    /// The root Crude shows on screen and accepts in contract codes (`CL`, `BZ`, `RB`, `HO`).
    pub const fn code(self) -> &'static str {
        match self {
            Market::Wti => "CL",
            Market::Brent => "BZ",
            Market::Rbob => "RB",
            Market::HeatingOil => "HO",
        }
    }

    /// Human name.
    pub const fn name(self) -> &'static str {
        match self {
            Market::Wti => "WTI Crude",
            Market::Brent => "Brent Crude",
            Market::Rbob => "RBOB Gasoline",
            Market::HeatingOil => "Heating Oil (ULSD)",
        }
    }

    /// Whether the market is quoted in $/gal (products) rather than $/bbl (crudes).
    pub const fn quoted_per_gallon(self) -> bool {
        matches!(self, Market::Rbob | Market::HeatingOil)
    }

    /// Decimals the market's prices are shown with (tick 0.01 $/bbl, 0.0001 $/gal).
    pub const fn price_decimals(self) -> usize {
        if self.quoted_per_gallon() { 4 } else { 2 }
    }

    /// A price with the market's decimals, or an em dash when there is none.
    pub fn format_price(self, v: Option<f64>) -> String {
        match v {
            Some(x) if x.is_finite() => format!("{:.*}", self.price_decimals(), x),
            _ => "—".to_string(),
        }
    }

    /// Index into [`Market::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Market::Wti => 0,
            Market::Brent => 1,
            Market::Rbob => 2,
            Market::HeatingOil => 3,
        }
    }

    /// Parse a root as written by traders or data vendors: `CL`, `BZ`, `CO`, `COIL`, `B`,
    /// `BRN`, `RB`, `XB`, `HO`, or a name such as `WTI` or `Brent` (case-insensitive).
    ///
    /// # Errors
    /// [`ModelError::UnknownMarket`] naming the input.
    pub fn parse_root(s: &str) -> Result<Market, ModelError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CL" | "WTI" => Ok(Market::Wti),
            "BZ" | "CO" | "COIL" | "B" | "BRN" | "BRENT" => Ok(Market::Brent),
            "RB" | "XB" | "RBOB" => Ok(Market::Rbob),
            "HO" | "ULSD" | "HEATINGOIL" | "HEATING_OIL" => Ok(Market::HeatingOil),
            _ => Err(ModelError::UnknownMarket(s.to_string())),
        }
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Futures month codes, January (`F`) to December (`Z`).
pub const MONTH_CODES: [char; 12] = ['F', 'G', 'H', 'J', 'K', 'M', 'N', 'Q', 'U', 'V', 'X', 'Z'];

/// The month code for a month 1..=12.
pub fn month_code(month: u32) -> Option<char> {
    MONTH_CODES.get(month.checked_sub(1)? as usize).copied()
}

/// The month 1..=12 for a month code.
///
/// # Errors
/// [`ModelError::BadMonthCode`] when `c` is not one of F..Z.
pub fn month_from_code(c: char) -> Result<u32, ModelError> {
    let up = c.to_ascii_uppercase();
    MONTH_CODES.iter().position(|&m| m == up).map(|i| i as u32 + 1).ok_or(ModelError::BadMonthCode(c))
}

/// A delivery (contract) month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContractMonth {
    pub year: i32,
    pub month: u32,
}

impl ContractMonth {
    /// A validated contract month.
    ///
    /// # Errors
    /// [`ModelError::BadContractMonth`] when the month is not 1..=12 or the year is outside 1980..=2099.
    pub fn new(year: i32, month: u32) -> Result<Self, ModelError> {
        if !(1..=12).contains(&month) || !(1980..=2099).contains(&year) {
            return Err(ModelError::BadContractMonth { year, month });
        }
        Ok(Self { year, month })
    }

    /// The month containing `date`.
    pub fn of_date(date: NaiveDate) -> Self {
        Self { year: date.year(), month: date.month() }
    }

    /// This month shifted by `n` months (negative goes back).
    pub fn plus_months(self, n: i32) -> Self {
        let idx = self.year * 12 + self.month as i32 - 1 + n;
        Self { year: idx.div_euclid(12), month: (idx.rem_euclid(12) + 1) as u32 }
    }

    /// Months from `other` to `self`.
    pub fn months_since(self, other: ContractMonth) -> i32 {
        (self.year * 12 + self.month as i32) - (other.year * 12 + other.month as i32)
    }

    /// The first calendar day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The month code letter.
    pub fn code(self) -> char {
        month_code(self.month).unwrap_or('?')
    }
}

impl fmt::Display for ContractMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

/// One futures contract: a market and a delivery month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContractId {
    pub market: Market,
    pub month: ContractMonth,
}

impl ContractId {
    pub const fn new(market: Market, month: ContractMonth) -> Self {
        Self { market, month }
    }

    /// The exchange-style code with a one-digit year, as on a quote board: `CLF7`.
    pub fn code(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ContractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.market.code(), self.month.code(), self.month.year.rem_euclid(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_codes_round_trip() {
        for m in 1..=12 {
            assert_eq!(month_from_code(month_code(m).unwrap()).unwrap(), m);
        }
        assert!(month_from_code('A').is_err());
        assert_eq!(month_code(0), None);
        assert_eq!(month_code(13), None);
    }

    #[test]
    fn contract_month_arithmetic() {
        let m = ContractMonth::new(2026, 11).unwrap();
        assert_eq!(m.plus_months(2), ContractMonth::new(2027, 1).unwrap());
        assert_eq!(m.plus_months(-11), ContractMonth::new(2025, 12).unwrap());
        assert_eq!(m.plus_months(14).months_since(m), 14);
        assert!(ContractMonth::new(2026, 13).is_err());
    }

    #[test]
    fn contract_display() {
        let c = ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap());
        assert_eq!(c.to_string(), "CLF7");
        assert_eq!(Market::parse_root("co").unwrap(), Market::Brent);
        assert!(Market::parse_root("ZZ").is_err());
    }
}
