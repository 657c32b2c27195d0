//! Last-trading-day rules, front and n-th contract selection, and the roll schedule that
//! maps a generic contract (`CL1`, `CL2`, …) to a specific one on each calendar day.
//!
//! | market | exchange rule (contract month M) |
//! | --- | --- |
//! | WTI (NYMEX CL) | "Trading terminates 3 business days before the 25th calendar day of the month prior to the contract month. If the 25th calendar day is not a business day, trading terminates 4 business days prior to the 25th calendar day of the month prior to the contract month." |
//! | Brent (ICE B) | "Trading shall cease at the end of the designated settlement period on the last Business Day of the second month preceding the relevant contract month. If the day on which trading is due to cease would be either (i) the Business Day preceding Christmas Day, or (ii) the Business Day preceding New Year's Day, then trading shall cease on the next preceding Business Day." |
//! | RBOB (NYMEX RB), heating oil (NYMEX HO) | "Trading terminates on the last business day of the month prior to the contract month." |
//!
//! Business days are those of the market's [`HolidayCalendar`] (CME for CL/RB/HO, ICE for
//! Brent). The Christmas / New Year clause means the Brent February contract always expires
//! on the second-to-last ICE business day of December (e.g. Feb 2024 on 28 Dec 2023).
//!
//! A generic contract `n` on date `d` is the `n`-th listed contract counting from the front,
//! the front being the first contract whose last trading day is on or after `d`: on its last
//! trading day a contract is still the front (CL1 was CLK0 on 2020-04-21, CLM0 on
//! 2020-04-22). All four markets list every calendar month, so the `n`-th contract is the
//! front month plus `n − 1` months.

use chrono::{Datelike, NaiveDate};

use crate::calendar::{HolidayCalendar, last_day_of_month};
use crate::{ContractId, ContractMonth, Market};

impl ContractId {
    /// The contract's last trading day under its exchange's rule (see the module docs).
    pub fn last_trade_date(&self) -> NaiveDate {
        last_trade_date(self.market, self.month)
    }

    /// Whether the contract no longer trades on `d` (`d` is after the last trading day).
    pub fn is_expired_on(&self, d: NaiveDate) -> bool {
        d > self.last_trade_date()
    }
}

/// The last trading day of `market`'s contract for delivery month `month`.
pub fn last_trade_date(market: Market, month: ContractMonth) -> NaiveDate {
    let cal = market.calendar();
    match market {
        Market::Wti => {
            let prior = month.plus_months(-1);
            let Some(d25) = NaiveDate::from_ymd_opt(prior.year, prior.month, 25) else {
                return saturated(prior.year);
            };
            if cal.is_business_day(d25) { cal.add_business_days(d25, -3) } else { cal.add_business_days(d25, -4) }
        }
        Market::Brent => {
            let m2 = month.plus_months(-2);
            let ltd = cal.last_business_day_of_month(m2.year, m2.month);
            if precedes_christmas_or_new_year(cal, ltd) { cal.add_business_days(ltd, -1) } else { ltd }
        }
        Market::Rbob | Market::HeatingOil => {
            let m1 = month.plus_months(-1);
            cal.last_business_day_of_month(m1.year, m1.month)
        }
    }
}

/// Whether `d` is the business day immediately preceding Christmas Day (25 Dec) or New
/// Year's Day (1 Jan): one of those days falls after `d` and on or before the next business
/// day.
fn precedes_christmas_or_new_year(cal: HolidayCalendar, d: NaiveDate) -> bool {
    let next_bd = cal.add_business_days(d, 1);
    let christmas = NaiveDate::from_ymd_opt(d.year(), 12, 25);
    let new_year = NaiveDate::from_ymd_opt(d.year().saturating_add(1), 1, 1);
    [christmas, new_year].into_iter().flatten().any(|special| d < special && special <= next_bd)
}

/// A date at the end of chrono's range matching the sign of `year` (for contract months
/// beyond the representable calendar; never reached for real contracts).
fn saturated(year: i32) -> NaiveDate {
    if year > 0 { NaiveDate::MAX } else { NaiveDate::MIN }
}

impl Market {
    /// The holiday calendar whose business days the market's rules count: ICE for Brent,
    /// CME for the NYMEX markets.
    pub const fn calendar(self) -> HolidayCalendar {
        match self {
            Market::Brent => HolidayCalendar::Ice,
            Market::Wti | Market::Rbob | Market::HeatingOil => HolidayCalendar::Cme,
        }
    }

    /// The front contract on `d`: the first contract whose last trading day is on or after `d`.
    pub fn front_contract(self, d: NaiveDate) -> ContractId {
        // Every rule puts the last trading day before the contract month, so the contract
        // for the month of `d` has always expired; the front is at most three months on.
        let mut month = ContractMonth::of_date(d);
        for _ in 0..24 {
            let c = ContractId::new(self, month);
            if c.last_trade_date() >= d {
                return c;
            }
            month = month.plus_months(1);
        }
        ContractId::new(self, month)
    }

    /// The `n`-th contract on `d` (`n == 1` is the front; `n == 0` is treated as 1).
    pub fn nth_contract(self, d: NaiveDate, n: u32) -> ContractId {
        let front = self.front_contract(d);
        let offset = i32::try_from(n.max(1) - 1).unwrap_or(i32::MAX);
        ContractId::new(self, front.month.plus_months(offset))
    }

    /// `count` consecutive contracts on `d`, front first.
    pub fn active_contracts(self, d: NaiveDate, count: usize) -> Vec<ContractId> {
        let front = self.front_contract(d);
        (0..count)
            .map(|i| {
                let offset = i32::try_from(i).unwrap_or(i32::MAX);
                ContractId::new(self, front.month.plus_months(offset))
            })
            .collect()
    }
}

/// One stretch of calendar days on which a generic contract maps to one specific contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RollEntry {
    /// First calendar day of the stretch (inclusive).
    pub first_day: NaiveDate,
    /// Last calendar day of the stretch (inclusive).
    pub last_day: NaiveDate,
    /// The specific contract the generic maps to on those days.
    pub contract: ContractId,
}

/// Which specific contract generic `n` (`CL1`, `CL2`, …; `n == 0` is treated as 1) maps to
/// on each calendar day of `from..=to`, as consecutive non-overlapping stretches in date
/// order covering the whole range. A stretch ends on the last trading day of the then
/// front contract, when every generic rolls. Empty when `from > to`.
pub fn roll_schedule(market: Market, n: u32, from: NaiveDate, to: NaiveDate) -> Vec<RollEntry> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let front = market.front_contract(day);
        let contract = market.nth_contract(day, n);
        let last_day = front.last_trade_date().max(day).min(to);
        out.push(RollEntry { first_day: day, last_day, contract });
        match last_day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// The last calendar day of a contract's delivery month (used by callers that need the
/// delivery period, e.g. for days-to-delivery).
pub fn delivery_month_end(month: ContractMonth) -> NaiveDate {
    last_day_of_month(month.year, month.month)
}
