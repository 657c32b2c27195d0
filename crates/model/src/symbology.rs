//! Ticker symbology: Bloomberg generic (`CL1 Comdty`) and specific (`CLF7 Comdty`) tickers,
//! exchange codes (`CLF7`, `BZF27`), Interactive Brokers local symbols (`CLF7`, `COILF7`)
//! and Bloomberg field mnemonics.
//!
//! # Roots
//!
//! | market | Crude / exchange code | Bloomberg | IB symbol @ exchange | IB local symbol |
//! | --- | --- | --- | --- | --- |
//! | WTI | `CL` (NYMEX) | `CL` | `CL` @ `NYMEX` | `CLF7` |
//! | Brent | `BZ` (NYMEX Brent look-alike; ICE's own code is `B`) | `CO` | `COIL` @ `IPE` (ICE Futures Europe) | `COILF7` |
//! | RBOB | `RB` (NYMEX) | `XB` | `RB` @ `NYMEX` | `RBF7` |
//! | Heating oil | `HO` (NYMEX) | `HO` | `HO` @ `NYMEX` | `HOF7` |
//!
//! IB lists ICE Brent as symbol `COIL` on exchange `IPE`; its local symbols are the symbol,
//! the month code and a one-digit year (`COILK1` for May 2021, as used with IB's API in
//! public client code). NYMEX's Brent look-alike is symbol `BZ` on `NYMEX` (local symbol
//! `BZF7`); Crude quotes Brent under `BZ` on screen and routes it to ICE (`COIL`).
//!
//! # Accepted input ([`parse_symbol`])
//!
//! Case-insensitive, surrounding spaces ignored, an optional ` Comdty` yellow key:
//! `CL1`, `CL1 Comdty`, `CO12 Comdty` (generic, n = 1..=99); `CLF7`, `CLF7 Comdty`
//! (specific, one-digit year); `CLF27`, `CLF27 Comdty` (two-digit year); `CLF2027`;
//! `CL 202701` (root, space, `YYYYMM`). Any root [`Market::parse_root`] knows works: `CL`,
//! `WTI`, `BZ`, `CO`, `COIL`, `B`, `BRN`, `RB`, `XB`, `HO`.
//!
//! A run of letters that is itself a known root is read as a generic (`BZ1` is Brent
//! generic 1, not root `B` + month `Z`); otherwise the last letter is the month code.
//!
//! # Year resolution
//!
//! * One-digit year (`CLF7`): the earliest year ending in that digit, from the reference
//!   date's year minus one onwards, whose contract has not expired on the reference date
//!   (its last trading day is on or after it). This is the Bloomberg convention that
//!   one-digit tickers name live contracts: on 2025-06-01 `CLF7` is January 2027, `CLN5` is
//!   July 2025; on 2025-06-30 `CLN5` (expired 2025-06-20) is July 2035. Expired contracts
//!   are written with two digits.
//! * Two-digit year (`CLF27`): 2000 + yy for yy < 80, 1900 + yy otherwise (contract months
//!   are 1980..=2099).
//!
//! Nothing here reads the wall clock: the reference date is always an argument.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{ContractId, ContractMonth, Market, ModelError, month_from_code};

/// The Bloomberg yellow key of every Crude market.
pub const BLOOMBERG_YELLOW_KEY: &str = "Comdty";
/// Largest generic index accepted (`CL99`).
pub const MAX_GENERIC: u32 = 99;

/// A parsed ticker: a generic (rolling) contract or a specific delivery month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Symbol {
    /// The `n`-th listed contract (`CL1` is the front), which changes at each roll.
    Generic { market: Market, n: u32 },
    /// One delivery month.
    Specific(ContractId),
}

impl Symbol {
    /// The market of the symbol.
    pub fn market(&self) -> Market {
        match self {
            Symbol::Generic { market, .. } => *market,
            Symbol::Specific(c) => c.market,
        }
    }

    /// The specific contract the symbol names on `date` (a generic resolves through the roll
    /// rules of [`Market::nth_contract`]).
    pub fn resolve(&self, date: NaiveDate) -> ContractId {
        match *self {
            Symbol::Generic { market, n } => market.nth_contract(date, n),
            Symbol::Specific(c) => c,
        }
    }

    /// The Bloomberg ticker (`CL1 Comdty`, `CLF7 Comdty`).
    pub fn bloomberg(&self) -> String {
        match *self {
            Symbol::Generic { market, n } => bloomberg_generic(market, n),
            Symbol::Specific(c) => bloomberg_specific(&c),
        }
    }
}

impl fmt::Display for Symbol {
    /// Crude's own form: `CL1` for generics, `CLF7` for specific contracts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Symbol::Generic { market, n } => write!(f, "{}{n}", market.code()),
            Symbol::Specific(c) => write!(f, "{c}"),
        }
    }
}

/// The Bloomberg ticker root: `CL`, `CO`, `XB`, `HO`.
pub const fn bloomberg_root(market: Market) -> &'static str {
    match market {
        Market::Wti => "CL",
        Market::Brent => "CO",
        Market::Rbob => "XB",
        Market::HeatingOil => "HO",
    }
}

/// The Interactive Brokers symbol: `CL`, `COIL`, `RB`, `HO`.
pub const fn ib_symbol(market: Market) -> &'static str {
    match market {
        Market::Wti => "CL",
        Market::Brent => "COIL",
        Market::Rbob => "RB",
        Market::HeatingOil => "HO",
    }
}

/// The Interactive Brokers exchange: `NYMEX`, or `IPE` for ICE Brent.
pub const fn ib_exchange(market: Market) -> &'static str {
    match market {
        Market::Brent => "IPE",
        Market::Wti | Market::Rbob | Market::HeatingOil => "NYMEX",
    }
}

/// Units per contract: 1,000 bbl for the crudes, 42,000 gal for the products.
pub const fn contract_multiplier(market: Market) -> f64 {
    if market.quoted_per_gallon() { 42_000.0 } else { 1_000.0 }
}

/// Bloomberg generic ticker: `CL1 Comdty`, `CO2 Comdty`, `XB1 Comdty`, `HO12 Comdty`
/// (`n == 0` is written as 1).
pub fn bloomberg_generic(market: Market, n: u32) -> String {
    format!("{}{} {BLOOMBERG_YELLOW_KEY}", bloomberg_root(market), n.max(1))
}

/// Bloomberg specific ticker with a one-digit year: `CLF7 Comdty`.
pub fn bloomberg_specific(contract: &ContractId) -> String {
    format!(
        "{}{}{} {BLOOMBERG_YELLOW_KEY}",
        bloomberg_root(contract.market),
        contract.month.code(),
        contract.month.year.rem_euclid(10)
    )
}

/// Bloomberg specific ticker as Bloomberg writes it on `date`: one-digit year while the
/// contract trades, two digits once it has expired (`CLF24 Comdty`).
pub fn bloomberg_specific_as_of(contract: &ContractId, date: NaiveDate) -> String {
    if contract.is_expired_on(date) {
        format!(
            "{}{}{:02} {BLOOMBERG_YELLOW_KEY}",
            bloomberg_root(contract.market),
            contract.month.code(),
            contract.month.year.rem_euclid(100)
        )
    } else {
        bloomberg_specific(contract)
    }
}

/// The exchange-style code with a two-digit year (`CLF27`), unambiguous at any date.
pub fn code_two_digit(contract: &ContractId) -> String {
    format!("{}{}{:02}", contract.market.code(), contract.month.code(), contract.month.year.rem_euclid(100))
}

/// The Interactive Brokers local symbol: `CLF7`, `COILF7` (ICE Brent), `RBF7`, `HOF7`.
pub fn ib_local_symbol(contract: &ContractId) -> String {
    format!("{}{}{}", ib_symbol(contract.market), contract.month.code(), contract.month.year.rem_euclid(10))
}

/// What an IB contract request needs for one futures contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IbContractSpec {
    /// `CL`, `COIL`, `RB`, `HO`.
    pub symbol: String,
    /// `NYMEX` or `IPE`.
    pub exchange: String,
    /// `CLF7`, `COILF7`, …
    pub local_symbol: String,
    /// `YYYYMM` (IB's `lastTradeDateOrContractMonth` in month form).
    pub contract_month: String,
    /// `USD`.
    pub currency: String,
    /// `1000` or `42000`, as IB writes the multiplier.
    pub multiplier: String,
}

/// The IB contract fields of `contract`.
pub fn ib_contract(contract: &ContractId) -> IbContractSpec {
    IbContractSpec {
        symbol: ib_symbol(contract.market).to_string(),
        exchange: ib_exchange(contract.market).to_string(),
        local_symbol: ib_local_symbol(contract),
        contract_month: format!("{:04}{:02}", contract.month.year, contract.month.month),
        currency: "USD".to_string(),
        multiplier: format!("{}", contract_multiplier(contract.market) as u64),
    }
}

fn bad(symbol: &str, reason: impl Into<String>) -> ModelError {
    ModelError::BadSymbol { symbol: symbol.to_string(), reason: reason.into() }
}

/// A two-digit year as a full year (yy < 80 → 20yy, else 19yy).
fn two_digit_year(yy: i32) -> i32 {
    if yy < 80 { 2000 + yy } else { 1900 + yy }
}

/// The year for a one-digit year code relative to `reference` (see the module docs).
fn resolve_one_digit_year(market: Market, month: u32, digit: i32, reference: NaiveDate) -> Result<i32, ModelError> {
    let start = reference.year() - 1;
    let first = start + (digit - start).rem_euclid(10);
    for year in [first, first + 10, first + 20] {
        let cm = ContractMonth::new(year, month)?;
        if ContractId::new(market, cm).last_trade_date() >= reference {
            return Ok(year);
        }
    }
    Err(ModelError::BadContractMonth { year: first + 20, month })
}

/// Parses a ticker in any accepted form (see the module docs). `reference` resolves
/// one-digit years; it is never read from the clock.
///
/// # Errors
/// [`ModelError::BadSymbol`] saying what was expected, [`ModelError::UnknownMarket`] for an
/// unknown root, [`ModelError::BadMonthCode`] for a bad month letter,
/// [`ModelError::BadContractMonth`] for a month or year out of range.
pub fn parse_symbol(s: &str, reference: NaiveDate) -> Result<Symbol, ModelError> {
    parse_inner(s, Some(reference))
}

fn parse_inner(s: &str, reference: Option<NaiveDate>) -> Result<Symbol, ModelError> {
    let upper = s.trim().to_ascii_uppercase();
    let body = match upper.strip_suffix("COMDTY") {
        Some(rest) if rest.ends_with(char::is_whitespace) => rest.trim_end(),
        _ => upper.as_str(),
    };
    if body.is_empty() {
        return Err(bad(s, "empty symbol; expected e.g. CL1, CLF7, CLF27 Comdty or CL 202701"));
    }
    // `ROOT YYYYMM`.
    if let Some((root, ym)) = body.split_once(char::is_whitespace) {
        let ym = ym.trim();
        if ym.len() != 6 || !ym.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(s, "expected ROOT YYYYMM after the space, e.g. CL 202701"));
        }
        let market = Market::parse_root(root)?;
        let year: i32 = ym[..4].parse().map_err(|_| bad(s, "year is not a number"))?;
        let month: u32 = ym[4..].parse().map_err(|_| bad(s, "month is not a number"))?;
        return Ok(Symbol::Specific(ContractId::new(market, ContractMonth::new(year, month)?)));
    }
    let digits_at = body
        .find(|c: char| c.is_ascii_digit())
        .ok_or_else(|| bad(s, "no digits; expected a generic number (CL1) or month code and year (CLF7)"))?;
    let (letters, digits) = body.split_at(digits_at);
    if letters.is_empty() || !letters.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(bad(s, "expected letters (root, optional month code) followed by digits"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(s, "unexpected characters after the digits"));
    }
    // A known root followed by digits is a generic.
    if let Ok(market) = Market::parse_root(letters) {
        let n: u32 = digits.parse().map_err(|_| bad(s, "generic number too large"))?;
        if n == 0 || n > MAX_GENERIC {
            return Err(bad(s, format!("generic number must be 1..={MAX_GENERIC} (CL1 is the front month)")));
        }
        return Ok(Symbol::Generic { market, n });
    }
    // Otherwise root + month code + year.
    let mut chars = letters.chars();
    let code = chars.next_back().ok_or_else(|| bad(s, "missing month code"))?;
    let root = chars.as_str();
    let market = Market::parse_root(root)?;
    let month = month_from_code(code)?;
    let year = match digits.len() {
        1 => {
            let digit = i32::from(digits.as_bytes()[0] - b'0');
            let Some(reference) = reference else {
                return Err(bad(
                    s,
                    "a one-digit year needs a reference date: use parse_symbol(s, date) or write a two-digit year (CLF27)",
                ));
            };
            resolve_one_digit_year(market, month, digit, reference)?
        }
        2 => two_digit_year(digits.parse().map_err(|_| bad(s, "year is not a number"))?),
        4 => digits.parse().map_err(|_| bad(s, "year is not a number"))?,
        _ => {
            return Err(bad(s, "year must have 1, 2 or 4 digits (CLF7, CLF27, CLF2027)"));
        }
    };
    Ok(Symbol::Specific(ContractId::new(market, ContractMonth::new(year, month)?)))
}

impl ContractId {
    /// Parses a specific contract (`CLF7`, `CLF27 Comdty`, `CL 202701`, `COILF7`); one-digit
    /// years resolve against `reference`.
    ///
    /// # Errors
    /// As [`parse_symbol`], plus [`ModelError::BadSymbol`] when `s` is a generic (`CL1`).
    pub fn parse(s: &str, reference: NaiveDate) -> Result<ContractId, ModelError> {
        match parse_symbol(s, reference)? {
            Symbol::Specific(c) => Ok(c),
            Symbol::Generic { .. } => {
                Err(bad(s, "is a generic ticker; name a contract month (CLF7) or resolve it with Symbol::resolve"))
            }
        }
    }
}

impl FromStr for ContractId {
    type Err = ModelError;

    /// Parses the date-independent forms only: two- or four-digit years (`CLF27`,
    /// `CLF2027`, `CLF27 Comdty`) and `CL 202701`. A one-digit year is ambiguous without a
    /// reference date and is rejected with a message pointing to [`ContractId::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse_inner(s, None)? {
            Symbol::Specific(c) => Ok(c),
            Symbol::Generic { .. } => Err(bad(s, "is a generic ticker; name a contract month (CLF27)")),
        }
    }
}

impl FromStr for Market {
    type Err = ModelError;

    /// As [`Market::parse_root`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Market::parse_root(s)
    }
}

/// A price or size field as vendors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PriceField {
    Last,
    Bid,
    Ask,
    Mid,
    Open,
    High,
    Low,
    /// Previous session's close.
    Close,
    Settle,
    Volume,
    OpenInterest,
    BidSize,
    AskSize,
    Vwap,
    ChangeNet,
    ChangePct,
    LastTradeableDate,
    ContractSize,
    TickSize,
}

impl PriceField {
    /// Every field.
    pub const ALL: [PriceField; 19] = [
        PriceField::Last,
        PriceField::Bid,
        PriceField::Ask,
        PriceField::Mid,
        PriceField::Open,
        PriceField::High,
        PriceField::Low,
        PriceField::Close,
        PriceField::Settle,
        PriceField::Volume,
        PriceField::OpenInterest,
        PriceField::BidSize,
        PriceField::AskSize,
        PriceField::Vwap,
        PriceField::ChangeNet,
        PriceField::ChangePct,
        PriceField::LastTradeableDate,
        PriceField::ContractSize,
        PriceField::TickSize,
    ];

    /// The Bloomberg field mnemonic.
    pub const fn bloomberg_field(self) -> &'static str {
        match self {
            PriceField::Last => "PX_LAST",
            PriceField::Bid => "PX_BID",
            PriceField::Ask => "PX_ASK",
            PriceField::Mid => "PX_MID",
            PriceField::Open => "PX_OPEN",
            PriceField::High => "PX_HIGH",
            PriceField::Low => "PX_LOW",
            PriceField::Close => "PX_CLOSE_1D",
            PriceField::Settle => "PX_SETTLE",
            PriceField::Volume => "PX_VOLUME",
            PriceField::OpenInterest => "OPEN_INT",
            PriceField::BidSize => "BID_SIZE",
            PriceField::AskSize => "ASK_SIZE",
            PriceField::Vwap => "EQY_WEIGHTED_AVG_PX",
            PriceField::ChangeNet => "CHG_NET_1D",
            PriceField::ChangePct => "CHG_PCT_1D",
            PriceField::LastTradeableDate => "LAST_TRADEABLE_DT",
            PriceField::ContractSize => "FUT_CONT_SIZE",
            PriceField::TickSize => "FUT_TICK_SIZE",
        }
    }

    /// Crude's short name (`last`, `open_interest`, …), accepted by [`PriceField::from_str`].
    pub const fn name(self) -> &'static str {
        match self {
            PriceField::Last => "last",
            PriceField::Bid => "bid",
            PriceField::Ask => "ask",
            PriceField::Mid => "mid",
            PriceField::Open => "open",
            PriceField::High => "high",
            PriceField::Low => "low",
            PriceField::Close => "close",
            PriceField::Settle => "settle",
            PriceField::Volume => "volume",
            PriceField::OpenInterest => "open_interest",
            PriceField::BidSize => "bid_size",
            PriceField::AskSize => "ask_size",
            PriceField::Vwap => "vwap",
            PriceField::ChangeNet => "change",
            PriceField::ChangePct => "change_pct",
            PriceField::LastTradeableDate => "last_tradeable_date",
            PriceField::ContractSize => "contract_size",
            PriceField::TickSize => "tick_size",
        }
    }
}

impl fmt::Display for PriceField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PriceField {
    type Err = ModelError;

    /// Accepts Crude's names, the Bloomberg mnemonics and common aliases, case-insensitive,
    /// with `-`, `_` and spaces interchangeable: `last`, `PX_LAST`, `settlement`, `oi`,
    /// `OPEN_INT`, `bid size`, `VOLUME`, `vwap`, `EQY_WEIGHTED_AVG_PX`, …
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String =
            s.trim().chars().map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_lowercase() }).collect();
        let alias = match key.as_str() {
            "price" | "trade" | "ltp" => Some(PriceField::Last),
            "settlement" | "settle_price" | "stl" => Some(PriceField::Settle),
            "prev_close" | "previous_close" => Some(PriceField::Close),
            "vol" | "volume" => Some(PriceField::Volume),
            "oi" | "openinterest" | "open_int" => Some(PriceField::OpenInterest),
            "bidsize" => Some(PriceField::BidSize),
            "asksize" | "offer_size" => Some(PriceField::AskSize),
            "offer" => Some(PriceField::Ask),
            "net_change" | "chg" => Some(PriceField::ChangeNet),
            "pct_change" | "chg_pct" => Some(PriceField::ChangePct),
            _ => None,
        };
        if let Some(f) = alias {
            return Ok(f);
        }
        PriceField::ALL
            .into_iter()
            .find(|f| f.name() == key || f.bloomberg_field().eq_ignore_ascii_case(&key))
            .ok_or_else(|| {
                let names: Vec<&str> = PriceField::ALL.iter().map(|f| f.name()).collect();
                ModelError::BadSymbol {
                    symbol: s.to_string(),
                    reason: format!(
                        "unknown price field; expected one of {} or a Bloomberg mnemonic such as PX_LAST",
                        names.join(", ")
                    ),
                }
            })
    }
}
