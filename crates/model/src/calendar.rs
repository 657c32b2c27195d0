//! Exchange holiday calendars: CME Group / NYMEX (WTI, RBOB, heating oil) and London /
//! ICE Futures Europe (Brent).
//!
//! # What is in the tables
//!
//! For 2020–2030 inclusive every holiday is listed by date and name in a table in this file:
//! [`CME_HOLIDAYS`] (the [`HolidayCalendar::Cme`] calendar), [`UK_BANK_HOLIDAYS`] (the
//! [`HolidayCalendar::Ice`] calendar) and [`ICE_BRENT_CLOSURES`] (the days ICE Brent does not
//! trade at all). Tests re-derive every table from the rules below and compare them entry by
//! entry, and compare them with an independent reference (see `tests/calendar.rs`).
//!
//! ## CME / NYMEX (the [`HolidayCalendar::Cme`] calendar)
//!
//! The US exchange holidays, with weekend observance "Saturday → preceding Friday, Sunday →
//! following Monday", except New Year's Day: when 1 January is a Saturday no day is observed
//! (31 December stays a trading day, as on 31 Dec 2021 and 31 Dec 2027).
//!
//! | holiday | rule |
//! | --- | --- |
//! | New Year's Day | 1 January (Sunday → Monday 2 January; Saturday → none) |
//! | Martin Luther King Jr. Day | third Monday of January |
//! | Presidents' Day | third Monday of February |
//! | Good Friday | two days before Easter Sunday (Gregorian computus) |
//! | Memorial Day | last Monday of May |
//! | Juneteenth | 19 June, from 2022 (the exchanges first closed for it in 2022) |
//! | Independence Day | 4 July |
//! | Labor Day | first Monday of September |
//! | Thanksgiving Day | fourth Thursday of November |
//! | Christmas Day | 25 December |
//!
//! Simplification: on MLK, Presidents', Memorial, Juneteenth, Independence, Labor and
//! Thanksgiving days CME Globex energy actually runs an abbreviated session with no
//! settlement, whose trades belong to the next trading date. Crude treats these days as
//! closed dates: no settlement happens on them, so for expiry counting and for daily bars
//! they are not business days, which is how the exchange counts them. Early closes
//! (Christmas Eve, the Friday after Thanksgiving) are not modelled. The National Day of
//! Mourning of 9 January 2025 closed the NYSE but CME energy traded normally, so it is not
//! a CME holiday here.
//!
//! ## London / ICE Futures Europe (the [`HolidayCalendar::Ice`] calendar)
//!
//! Two different things matter for Brent, and Crude keeps both:
//!
//! 1. **Business days for expiry.** ICE Brent expires on "the last Business Day of the second
//!    month preceding the contract month", and the exchange's look-alike (NYMEX BZ, built to
//!    expire with ICE) states it as "the last *London business day*"; ICE's own earlier rule
//!    text defined a Business Day as "a trading day which is not a public holiday in England
//!    and Wales". So [`HolidayCalendar::Ice`] is the England & Wales bank-holiday calendar:
//!    New Year's Day, Good Friday, Easter Monday, the Early May, Spring and Summer bank
//!    holidays, Christmas Day and Boxing Day (a holiday on a weekend moves to the next free
//!    weekday), plus the one-off days: 8 May 2020 (Early May holiday moved for VE Day),
//!    2 June 2022 (Spring holiday moved), 3 June 2022 (Platinum Jubilee), 19 September 2022
//!    (State Funeral of Queen Elizabeth II) and 8 May 2023 (Coronation of King Charles III).
//!    The effect: Brent Oct 2026 expires on Friday 28 Aug 2026, not on Monday 31 Aug (the
//!    Summer bank holiday).
//! 2. **Trading days.** ICE Brent itself trades on most of those bank holidays (the exchange
//!    closes UK gas, power, softs and gilts on them, not Brent). ICE Futures Europe's trading
//!    schedules close Brent only on New Year's Day, Good Friday and Christmas Day, each moved
//!    to Monday when on a Sunday and not observed when on a Saturday (Brent settled on
//!    27 Dec 2021 and 3 Jan 2022, the UK substitute days; it was closed on 2 Jan 2023). That
//!    list is [`ICE_BRENT_CLOSURES`] / [`is_ice_brent_closed`]; it is the same rule the
//!    `holidays` Python package (0.109, calendar `IFEU`) encodes from ICE's schedules.
//!
//! Crude's session clock follows CME Globex hours for every market (see `session`), so the
//! ICE trading closures are informational (quote-board notes, replay of ICE data).
//!
//! ## Dates outside 2020–2030
//!
//! The functions here never fail: outside the tables the same rules are evaluated for the
//! requested year (rule-based fallback), which reproduces every regular holiday but knows
//! no one-off closure (a moved bank holiday, a state funeral). Callers that must not rely on
//! the fallback check [`HolidayCalendar::covers`] or [`HolidayCalendar::check_covered`],
//! which returns [`ModelError::DateOutOfRange`].

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::ModelError;

/// First year covered by the explicit holiday tables.
pub const FIRST_TABLE_YEAR: i32 = 2020;
/// Last year covered by the explicit holiday tables.
pub const LAST_TABLE_YEAR: i32 = 2030;

/// One row of a holiday table: year, month, day and the holiday's name.
pub type HolidayRow = (i32, u32, u32, &'static str);

const fn h(year: i32, month: u32, day: u32, name: &'static str) -> HolidayRow {
    (year, month, day, name)
}

/// CME Group / NYMEX energy holidays (closed trading dates), 2020–2030, sorted by date.
pub const CME_HOLIDAYS: &[HolidayRow] = &[
    h(2020, 1, 1, "New Year's Day"),              // Wed
    h(2020, 1, 20, "Martin Luther King Jr. Day"), // Mon
    h(2020, 2, 17, "Presidents' Day"),            // Mon
    h(2020, 4, 10, "Good Friday"),                // Fri
    h(2020, 5, 25, "Memorial Day"),               // Mon
    h(2020, 7, 3, "Independence Day (observed)"), // Fri
    h(2020, 9, 7, "Labor Day"),                   // Mon
    h(2020, 11, 26, "Thanksgiving Day"),          // Thu
    h(2020, 12, 25, "Christmas Day"),             // Fri
    h(2021, 1, 1, "New Year's Day"),              // Fri
    h(2021, 1, 18, "Martin Luther King Jr. Day"), // Mon
    h(2021, 2, 15, "Presidents' Day"),            // Mon
    h(2021, 4, 2, "Good Friday"),                 // Fri
    h(2021, 5, 31, "Memorial Day"),               // Mon
    h(2021, 7, 5, "Independence Day (observed)"), // Mon
    h(2021, 9, 6, "Labor Day"),                   // Mon
    h(2021, 11, 25, "Thanksgiving Day"),          // Thu
    h(2021, 12, 24, "Christmas Day (observed)"),  // Fri
    h(2022, 1, 17, "Martin Luther King Jr. Day"), // Mon
    h(2022, 2, 21, "Presidents' Day"),            // Mon
    h(2022, 4, 15, "Good Friday"),                // Fri
    h(2022, 5, 30, "Memorial Day"),               // Mon
    h(2022, 6, 20, "Juneteenth (observed)"),      // Mon
    h(2022, 7, 4, "Independence Day"),            // Mon
    h(2022, 9, 5, "Labor Day"),                   // Mon
    h(2022, 11, 24, "Thanksgiving Day"),          // Thu
    h(2022, 12, 26, "Christmas Day (observed)"),  // Mon
    h(2023, 1, 2, "New Year's Day (observed)"),   // Mon
    h(2023, 1, 16, "Martin Luther King Jr. Day"), // Mon
    h(2023, 2, 20, "Presidents' Day"),            // Mon
    h(2023, 4, 7, "Good Friday"),                 // Fri
    h(2023, 5, 29, "Memorial Day"),               // Mon
    h(2023, 6, 19, "Juneteenth"),                 // Mon
    h(2023, 7, 4, "Independence Day"),            // Tue
    h(2023, 9, 4, "Labor Day"),                   // Mon
    h(2023, 11, 23, "Thanksgiving Day"),          // Thu
    h(2023, 12, 25, "Christmas Day"),             // Mon
    h(2024, 1, 1, "New Year's Day"),              // Mon
    h(2024, 1, 15, "Martin Luther King Jr. Day"), // Mon
    h(2024, 2, 19, "Presidents' Day"),            // Mon
    h(2024, 3, 29, "Good Friday"),                // Fri
    h(2024, 5, 27, "Memorial Day"),               // Mon
    h(2024, 6, 19, "Juneteenth"),                 // Wed
    h(2024, 7, 4, "Independence Day"),            // Thu
    h(2024, 9, 2, "Labor Day"),                   // Mon
    h(2024, 11, 28, "Thanksgiving Day"),          // Thu
    h(2024, 12, 25, "Christmas Day"),             // Wed
    h(2025, 1, 1, "New Year's Day"),              // Wed
    h(2025, 1, 20, "Martin Luther King Jr. Day"), // Mon
    h(2025, 2, 17, "Presidents' Day"),            // Mon
    h(2025, 4, 18, "Good Friday"),                // Fri
    h(2025, 5, 26, "Memorial Day"),               // Mon
    h(2025, 6, 19, "Juneteenth"),                 // Thu
    h(2025, 7, 4, "Independence Day"),            // Fri
    h(2025, 9, 1, "Labor Day"),                   // Mon
    h(2025, 11, 27, "Thanksgiving Day"),          // Thu
    h(2025, 12, 25, "Christmas Day"),             // Thu
    h(2026, 1, 1, "New Year's Day"),              // Thu
    h(2026, 1, 19, "Martin Luther King Jr. Day"), // Mon
    h(2026, 2, 16, "Presidents' Day"),            // Mon
    h(2026, 4, 3, "Good Friday"),                 // Fri
    h(2026, 5, 25, "Memorial Day"),               // Mon
    h(2026, 6, 19, "Juneteenth"),                 // Fri
    h(2026, 7, 3, "Independence Day (observed)"), // Fri
    h(2026, 9, 7, "Labor Day"),                   // Mon
    h(2026, 11, 26, "Thanksgiving Day"),          // Thu
    h(2026, 12, 25, "Christmas Day"),             // Fri
    h(2027, 1, 1, "New Year's Day"),              // Fri
    h(2027, 1, 18, "Martin Luther King Jr. Day"), // Mon
    h(2027, 2, 15, "Presidents' Day"),            // Mon
    h(2027, 3, 26, "Good Friday"),                // Fri
    h(2027, 5, 31, "Memorial Day"),               // Mon
    h(2027, 6, 18, "Juneteenth (observed)"),      // Fri
    h(2027, 7, 5, "Independence Day (observed)"), // Mon
    h(2027, 9, 6, "Labor Day"),                   // Mon
    h(2027, 11, 25, "Thanksgiving Day"),          // Thu
    h(2027, 12, 24, "Christmas Day (observed)"),  // Fri
    h(2028, 1, 17, "Martin Luther King Jr. Day"), // Mon
    h(2028, 2, 21, "Presidents' Day"),            // Mon
    h(2028, 4, 14, "Good Friday"),                // Fri
    h(2028, 5, 29, "Memorial Day"),               // Mon
    h(2028, 6, 19, "Juneteenth"),                 // Mon
    h(2028, 7, 4, "Independence Day"),            // Tue
    h(2028, 9, 4, "Labor Day"),                   // Mon
    h(2028, 11, 23, "Thanksgiving Day"),          // Thu
    h(2028, 12, 25, "Christmas Day"),             // Mon
    h(2029, 1, 1, "New Year's Day"),              // Mon
    h(2029, 1, 15, "Martin Luther King Jr. Day"), // Mon
    h(2029, 2, 19, "Presidents' Day"),            // Mon
    h(2029, 3, 30, "Good Friday"),                // Fri
    h(2029, 5, 28, "Memorial Day"),               // Mon
    h(2029, 6, 19, "Juneteenth"),                 // Tue
    h(2029, 7, 4, "Independence Day"),            // Wed
    h(2029, 9, 3, "Labor Day"),                   // Mon
    h(2029, 11, 22, "Thanksgiving Day"),          // Thu
    h(2029, 12, 25, "Christmas Day"),             // Tue
    h(2030, 1, 1, "New Year's Day"),              // Tue
    h(2030, 1, 21, "Martin Luther King Jr. Day"), // Mon
    h(2030, 2, 18, "Presidents' Day"),            // Mon
    h(2030, 4, 19, "Good Friday"),                // Fri
    h(2030, 5, 27, "Memorial Day"),               // Mon
    h(2030, 6, 19, "Juneteenth"),                 // Wed
    h(2030, 7, 4, "Independence Day"),            // Thu
    h(2030, 9, 2, "Labor Day"),                   // Mon
    h(2030, 11, 28, "Thanksgiving Day"),          // Thu
    h(2030, 12, 25, "Christmas Day"),             // Wed
];

/// Days ICE Futures Europe Brent does not trade at all, 2020–2030, sorted by date (a
/// subset of [`UK_BANK_HOLIDAYS`]).
pub const ICE_BRENT_CLOSURES: &[HolidayRow] = &[
    h(2020, 1, 1, "New Year's Day"),             // Wed
    h(2020, 4, 10, "Good Friday"),               // Fri
    h(2020, 12, 25, "Christmas Day"),            // Fri
    h(2021, 1, 1, "New Year's Day"),             // Fri
    h(2021, 4, 2, "Good Friday"),                // Fri
    h(2022, 4, 15, "Good Friday"),               // Fri
    h(2022, 12, 26, "Christmas Day (observed)"), // Mon
    h(2023, 1, 2, "New Year's Day (observed)"),  // Mon
    h(2023, 4, 7, "Good Friday"),                // Fri
    h(2023, 12, 25, "Christmas Day"),            // Mon
    h(2024, 1, 1, "New Year's Day"),             // Mon
    h(2024, 3, 29, "Good Friday"),               // Fri
    h(2024, 12, 25, "Christmas Day"),            // Wed
    h(2025, 1, 1, "New Year's Day"),             // Wed
    h(2025, 4, 18, "Good Friday"),               // Fri
    h(2025, 12, 25, "Christmas Day"),            // Thu
    h(2026, 1, 1, "New Year's Day"),             // Thu
    h(2026, 4, 3, "Good Friday"),                // Fri
    h(2026, 12, 25, "Christmas Day"),            // Fri
    h(2027, 1, 1, "New Year's Day"),             // Fri
    h(2027, 3, 26, "Good Friday"),               // Fri
    h(2028, 4, 14, "Good Friday"),               // Fri
    h(2028, 12, 25, "Christmas Day"),            // Mon
    h(2029, 1, 1, "New Year's Day"),             // Mon
    h(2029, 3, 30, "Good Friday"),               // Fri
    h(2029, 12, 25, "Christmas Day"),            // Tue
    h(2030, 1, 1, "New Year's Day"),             // Tue
    h(2030, 4, 19, "Good Friday"),               // Fri
    h(2030, 12, 25, "Christmas Day"),            // Wed
];

/// England & Wales bank holidays, 2020–2030, sorted by date (the [`HolidayCalendar::Ice`]
/// calendar, used for Brent expiry). Includes the VE Day move of 2020, the 2022 Spring
/// holiday move, Platinum Jubilee and State Funeral, and the 2023 Coronation. ICE Brent
/// trades on all of them except those also in [`ICE_BRENT_CLOSURES`].
pub const UK_BANK_HOLIDAYS: &[HolidayRow] = &[
    h(2020, 1, 1, "New Year's Day"),                       // Wed
    h(2020, 4, 10, "Good Friday"),                         // Fri
    h(2020, 4, 13, "Easter Monday"),                       // Mon
    h(2020, 5, 8, "Early May bank holiday (VE Day)"),      // Fri
    h(2020, 5, 25, "Spring bank holiday"),                 // Mon
    h(2020, 8, 31, "Summer bank holiday"),                 // Mon
    h(2020, 12, 25, "Christmas Day"),                      // Fri
    h(2020, 12, 28, "Boxing Day (substitute)"),            // Mon
    h(2021, 1, 1, "New Year's Day"),                       // Fri
    h(2021, 4, 2, "Good Friday"),                          // Fri
    h(2021, 4, 5, "Easter Monday"),                        // Mon
    h(2021, 5, 3, "Early May bank holiday"),               // Mon
    h(2021, 5, 31, "Spring bank holiday"),                 // Mon
    h(2021, 8, 30, "Summer bank holiday"),                 // Mon
    h(2021, 12, 27, "Christmas Day (substitute)"),         // Mon
    h(2021, 12, 28, "Boxing Day (substitute)"),            // Tue
    h(2022, 1, 3, "New Year's Day (substitute)"),          // Mon
    h(2022, 4, 15, "Good Friday"),                         // Fri
    h(2022, 4, 18, "Easter Monday"),                       // Mon
    h(2022, 5, 2, "Early May bank holiday"),               // Mon
    h(2022, 6, 2, "Spring bank holiday"),                  // Thu
    h(2022, 6, 3, "Platinum Jubilee bank holiday"),        // Fri
    h(2022, 8, 29, "Summer bank holiday"),                 // Mon
    h(2022, 9, 19, "State Funeral of Queen Elizabeth II"), // Mon
    h(2022, 12, 26, "Boxing Day"),                         // Mon
    h(2022, 12, 27, "Christmas Day (substitute)"),         // Tue
    h(2023, 1, 2, "New Year's Day (substitute)"),          // Mon
    h(2023, 4, 7, "Good Friday"),                          // Fri
    h(2023, 4, 10, "Easter Monday"),                       // Mon
    h(2023, 5, 1, "Early May bank holiday"),               // Mon
    h(2023, 5, 8, "Coronation of King Charles III"),       // Mon
    h(2023, 5, 29, "Spring bank holiday"),                 // Mon
    h(2023, 8, 28, "Summer bank holiday"),                 // Mon
    h(2023, 12, 25, "Christmas Day"),                      // Mon
    h(2023, 12, 26, "Boxing Day"),                         // Tue
    h(2024, 1, 1, "New Year's Day"),                       // Mon
    h(2024, 3, 29, "Good Friday"),                         // Fri
    h(2024, 4, 1, "Easter Monday"),                        // Mon
    h(2024, 5, 6, "Early May bank holiday"),               // Mon
    h(2024, 5, 27, "Spring bank holiday"),                 // Mon
    h(2024, 8, 26, "Summer bank holiday"),                 // Mon
    h(2024, 12, 25, "Christmas Day"),                      // Wed
    h(2024, 12, 26, "Boxing Day"),                         // Thu
    h(2025, 1, 1, "New Year's Day"),                       // Wed
    h(2025, 4, 18, "Good Friday"),                         // Fri
    h(2025, 4, 21, "Easter Monday"),                       // Mon
    h(2025, 5, 5, "Early May bank holiday"),               // Mon
    h(2025, 5, 26, "Spring bank holiday"),                 // Mon
    h(2025, 8, 25, "Summer bank holiday"),                 // Mon
    h(2025, 12, 25, "Christmas Day"),                      // Thu
    h(2025, 12, 26, "Boxing Day"),                         // Fri
    h(2026, 1, 1, "New Year's Day"),                       // Thu
    h(2026, 4, 3, "Good Friday"),                          // Fri
    h(2026, 4, 6, "Easter Monday"),                        // Mon
    h(2026, 5, 4, "Early May bank holiday"),               // Mon
    h(2026, 5, 25, "Spring bank holiday"),                 // Mon
    h(2026, 8, 31, "Summer bank holiday"),                 // Mon
    h(2026, 12, 25, "Christmas Day"),                      // Fri
    h(2026, 12, 28, "Boxing Day (substitute)"),            // Mon
    h(2027, 1, 1, "New Year's Day"),                       // Fri
    h(2027, 3, 26, "Good Friday"),                         // Fri
    h(2027, 3, 29, "Easter Monday"),                       // Mon
    h(2027, 5, 3, "Early May bank holiday"),               // Mon
    h(2027, 5, 31, "Spring bank holiday"),                 // Mon
    h(2027, 8, 30, "Summer bank holiday"),                 // Mon
    h(2027, 12, 27, "Christmas Day (substitute)"),         // Mon
    h(2027, 12, 28, "Boxing Day (substitute)"),            // Tue
    h(2028, 1, 3, "New Year's Day (substitute)"),          // Mon
    h(2028, 4, 14, "Good Friday"),                         // Fri
    h(2028, 4, 17, "Easter Monday"),                       // Mon
    h(2028, 5, 1, "Early May bank holiday"),               // Mon
    h(2028, 5, 29, "Spring bank holiday"),                 // Mon
    h(2028, 8, 28, "Summer bank holiday"),                 // Mon
    h(2028, 12, 25, "Christmas Day"),                      // Mon
    h(2028, 12, 26, "Boxing Day"),                         // Tue
    h(2029, 1, 1, "New Year's Day"),                       // Mon
    h(2029, 3, 30, "Good Friday"),                         // Fri
    h(2029, 4, 2, "Easter Monday"),                        // Mon
    h(2029, 5, 7, "Early May bank holiday"),               // Mon
    h(2029, 5, 28, "Spring bank holiday"),                 // Mon
    h(2029, 8, 27, "Summer bank holiday"),                 // Mon
    h(2029, 12, 25, "Christmas Day"),                      // Tue
    h(2029, 12, 26, "Boxing Day"),                         // Wed
    h(2030, 1, 1, "New Year's Day"),                       // Tue
    h(2030, 4, 19, "Good Friday"),                         // Fri
    h(2030, 4, 22, "Easter Monday"),                       // Mon
    h(2030, 5, 6, "Early May bank holiday"),               // Mon
    h(2030, 5, 27, "Spring bank holiday"),                 // Mon
    h(2030, 8, 26, "Summer bank holiday"),                 // Mon
    h(2030, 12, 25, "Christmas Day"),                      // Wed
    h(2030, 12, 26, "Boxing Day"),                         // Thu
];

/// A table of an exchange's closed dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolidayCalendar {
    /// CME Group / NYMEX (WTI, RBOB, heating oil): US exchange holidays.
    Cme,
    /// ICE Futures Europe (Brent): London business days, i.e. England & Wales bank
    /// holidays (see the module docs for why, and [`is_ice_brent_closed`] for the days
    /// Brent does not trade).
    Ice,
}

impl HolidayCalendar {
    /// The explicit table behind this calendar (2020–2030).
    pub const fn table(self) -> &'static [HolidayRow] {
        match self {
            HolidayCalendar::Cme => CME_HOLIDAYS,
            HolidayCalendar::Ice => UK_BANK_HOLIDAYS,
        }
    }

    /// Short label (`CME`, `ICE`).
    pub const fn label(self) -> &'static str {
        match self {
            HolidayCalendar::Cme => "CME",
            HolidayCalendar::Ice => "ICE",
        }
    }

    /// Whether `d` lies in a year covered by the explicit table (2020–2030).
    pub fn covers(self, d: NaiveDate) -> bool {
        (FIRST_TABLE_YEAR..=LAST_TABLE_YEAR).contains(&d.year())
    }

    /// `Ok(())` when `d` is covered by the explicit table.
    ///
    /// # Errors
    /// [`ModelError::DateOutOfRange`] when `d` is outside 2020–2030, where only the
    /// rule-based fallback (no one-off closures) is available.
    pub fn check_covered(self, d: NaiveDate) -> Result<(), ModelError> {
        if self.covers(d) {
            Ok(())
        } else {
            Err(ModelError::DateOutOfRange {
                date: d,
                first: ymd(FIRST_TABLE_YEAR, 1, 1),
                last: ymd(LAST_TABLE_YEAR, 12, 31),
            })
        }
    }

    /// Whether the exchange is closed for a holiday on `d` (weekends are not holidays; see
    /// [`HolidayCalendar::is_business_day`]).
    pub fn is_holiday(self, d: NaiveDate) -> bool {
        if self.covers(d) {
            let key = (d.year(), d.month(), d.day());
            self.table().binary_search_by(|&(y, m, dd, _)| (y, m, dd).cmp(&key)).is_ok()
        } else {
            rule_holidays(self, d.year()).iter().any(|&(hd, _)| hd == d)
        }
    }

    /// Whether `d` is a trading day: Monday to Friday and not a holiday.
    pub fn is_business_day(self, d: NaiveDate) -> bool {
        !is_weekend(d) && !self.is_holiday(d)
    }

    /// The date `n` business days after `d` (`n < 0` goes back). `n == 0` returns `d`
    /// unchanged even when `d` is not a business day. Saturates at the ends of chrono's
    /// date range instead of overflowing.
    pub fn add_business_days(self, d: NaiveDate, n: i32) -> NaiveDate {
        let mut cur = d;
        let mut left = n.unsigned_abs();
        while left > 0 {
            let next = if n > 0 { cur.succ_opt() } else { cur.pred_opt() };
            let Some(next) = next else {
                return cur;
            };
            cur = next;
            if self.is_business_day(cur) {
                left -= 1;
            }
        }
        cur
    }

    /// The first business day on or after `d` (saturating at chrono's last date).
    pub fn business_day_on_or_after(self, d: NaiveDate) -> NaiveDate {
        if self.is_business_day(d) { d } else { self.add_business_days(d, 1) }
    }

    /// The last business day on or before `d` (saturating at chrono's first date).
    pub fn business_day_on_or_before(self, d: NaiveDate) -> NaiveDate {
        if self.is_business_day(d) { d } else { self.add_business_days(d, -1) }
    }

    /// The last business day of a month. A month outside 1..=12 is clamped into it and a
    /// year outside chrono's range is clamped to its ends, so this never panics.
    pub fn last_business_day_of_month(self, year: i32, month: u32) -> NaiveDate {
        let month = month.clamp(1, 12);
        let last = last_day_of_month(year, month);
        self.business_day_on_or_before(last)
    }

    /// The holidays of `year`, sorted by date, with their names: the explicit table for
    /// 2020–2030, the rule-based fallback otherwise.
    pub fn holidays(self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        if (FIRST_TABLE_YEAR..=LAST_TABLE_YEAR).contains(&year) {
            self.table().iter().filter(|r| r.0 == year).map(|&(y, m, d, name)| (ymd(y, m, d), name)).collect()
        } else {
            rule_holidays(self, year)
        }
    }
}

/// Whether ICE Brent does not trade at all on `d` (New Year's Day, Good Friday, Christmas
/// Day as observed by ICE; weekends are not included). Table for 2020–2030, rules otherwise.
pub fn is_ice_brent_closed(d: NaiveDate) -> bool {
    if (FIRST_TABLE_YEAR..=LAST_TABLE_YEAR).contains(&d.year()) {
        let key = (d.year(), d.month(), d.day());
        ICE_BRENT_CLOSURES.binary_search_by(|&(y, m, dd, _)| (y, m, dd).cmp(&key)).is_ok()
    } else {
        rule_ice_brent_closures(d.year()).iter().any(|&(hd, _)| hd == d)
    }
}

/// The England & Wales bank holidays of `year` (the [`HolidayCalendar::Ice`] calendar), each
/// with whether ICE Brent trades that day.
pub fn uk_bank_holidays(year: i32) -> Vec<(NaiveDate, &'static str, bool)> {
    HolidayCalendar::Ice
        .holidays(year)
        .into_iter()
        .map(|(date, name)| (date, name, !is_ice_brent_closed(date)))
        .collect()
}

/// Saturday or Sunday.
pub fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A date from parts, clamped into chrono's range (callers pass valid parts; the clamp only
/// keeps impossible inputs from panicking).
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year > 0 { NaiveDate::MAX } else { NaiveDate::MIN })
}

/// The last calendar day of a month (clamped into chrono's range).
pub(crate) fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1);
    let next_first = if month >= 12 {
        NaiveDate::from_ymd_opt(year.saturating_add(1), 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    match (first, next_first) {
        (_, Some(nf)) => nf.pred_opt().unwrap_or(nf),
        (Some(_), None) => NaiveDate::MAX,
        (None, None) => {
            if year > 0 {
                NaiveDate::MAX
            } else {
                NaiveDate::MIN
            }
        }
    }
}

/// Easter Sunday (Gregorian; anonymous computus). `None` outside chrono's range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let hh = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - hh - k).rem_euclid(7);
    let m = (a + 11 * hh + 22 * l).div_euclid(451);
    let month = (hh + l - 7 * m + 114).div_euclid(31);
    let day = (hh + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// The `n`-th (1-based) `wd` of a month.
fn nth_weekday(year: i32, month: u32, wd: Weekday, n: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, wd, n as u8)
}

/// The last `wd` of a month.
fn last_weekday(year: i32, month: u32, wd: Weekday) -> Option<NaiveDate> {
    let mut d = NaiveDate::from_ymd_opt(year, month, 1)?;
    d = last_day_of_month(year, month).max(d);
    for _ in 0..7 {
        if d.weekday() == wd {
            return Some(d);
        }
        d = d.pred_opt()?;
    }
    None
}

/// Saturday → Friday, Sunday → Monday.
fn us_observed(d: NaiveDate) -> Option<(NaiveDate, bool)> {
    match d.weekday() {
        Weekday::Sat => d.pred_opt().map(|x| (x, true)),
        Weekday::Sun => d.succ_opt().map(|x| (x, true)),
        _ => Some((d, false)),
    }
}

/// Sunday → Monday, Saturday → not observed.
fn sunday_to_monday(d: NaiveDate) -> Option<(NaiveDate, bool)> {
    match d.weekday() {
        Weekday::Sat => None,
        Weekday::Sun => d.succ_opt().map(|x| (x, true)),
        _ => Some((d, false)),
    }
}

/// Saturday or Sunday → the following Monday.
fn uk_substitute(d: NaiveDate) -> Option<(NaiveDate, bool)> {
    match d.weekday() {
        Weekday::Sat => d.checked_add_days(Days::new(2)).map(|x| (x, true)),
        Weekday::Sun => d.succ_opt().map(|x| (x, true)),
        _ => Some((d, false)),
    }
}

/// Christmas Day and Boxing Day with the England & Wales substitute-day rules.
fn uk_christmas(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let (Some(xmas), Some(boxing)) = (NaiveDate::from_ymd_opt(year, 12, 25), NaiveDate::from_ymd_opt(year, 12, 26))
    else {
        return Vec::new();
    };
    let plus = |n: u64| xmas.checked_add_days(Days::new(n));
    let pairs = match xmas.weekday() {
        // Christmas on Friday: Boxing Day (Saturday) moves to Monday 28th.
        Weekday::Fri => [(Some(xmas), "Christmas Day"), (plus(3), "Boxing Day (substitute)")],
        // Christmas on Saturday: both move, to Monday 27th and Tuesday 28th.
        Weekday::Sat => [(plus(2), "Christmas Day (substitute)"), (plus(3), "Boxing Day (substitute)")],
        // Christmas on Sunday: Boxing Day stays Monday 26th, Christmas moves to Tuesday 27th.
        Weekday::Sun => [(Some(boxing), "Boxing Day"), (plus(2), "Christmas Day (substitute)")],
        _ => [(Some(xmas), "Christmas Day"), (Some(boxing), "Boxing Day")],
    };
    pairs.into_iter().filter_map(|(d, n)| d.map(|d| (d, n))).collect()
}

/// ICE Brent's full closures for `year` from the rule (New Year's Day, Good Friday,
/// Christmas Day; Sunday → Monday, Saturday → none).
pub fn rule_ice_brent_closures(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out = Vec::new();
    let date = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
    let mut push = |obs: Option<(NaiveDate, bool)>, plain: &'static str, observed: &'static str| {
        if let Some((d, moved)) = obs {
            out.push((d, if moved { observed } else { plain }));
        }
    };
    push(date(1, 1).and_then(sunday_to_monday), "New Year's Day", "New Year's Day (observed)");
    let gf = easter_sunday(year).and_then(|e| e.checked_sub_days(Days::new(2)));
    push(gf.map(|d| (d, false)), "Good Friday", "");
    push(date(12, 25).and_then(sunday_to_monday), "Christmas Day", "Christmas Day (observed)");
    out.sort();
    out
}

/// The holidays of `year` derived from the documented rules (no one-off closures). This is
/// the fallback outside 2020–2030 and the reference the tables are tested against.
pub fn rule_holidays(cal: HolidayCalendar, year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out: Vec<(NaiveDate, &'static str)> = Vec::new();
    let mut push_obs = |obs: Option<(NaiveDate, bool)>, plain: &'static str, observed: &'static str| {
        if let Some((d, moved)) = obs {
            out.push((d, if moved { observed } else { plain }));
        }
    };
    let date = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
    let good_friday = easter_sunday(year).and_then(|e| e.checked_sub_days(Days::new(2)));
    match cal {
        HolidayCalendar::Cme => {
            push_obs(date(1, 1).and_then(sunday_to_monday), "New Year's Day", "New Year's Day (observed)");
            push_obs(nth_weekday(year, 1, Weekday::Mon, 3).map(|d| (d, false)), "Martin Luther King Jr. Day", "");
            push_obs(nth_weekday(year, 2, Weekday::Mon, 3).map(|d| (d, false)), "Presidents' Day", "");
            push_obs(good_friday.map(|d| (d, false)), "Good Friday", "");
            push_obs(last_weekday(year, 5, Weekday::Mon).map(|d| (d, false)), "Memorial Day", "");
            if year >= 2022 {
                push_obs(date(6, 19).and_then(us_observed), "Juneteenth", "Juneteenth (observed)");
            }
            push_obs(date(7, 4).and_then(us_observed), "Independence Day", "Independence Day (observed)");
            push_obs(nth_weekday(year, 9, Weekday::Mon, 1).map(|d| (d, false)), "Labor Day", "");
            push_obs(nth_weekday(year, 11, Weekday::Thu, 4).map(|d| (d, false)), "Thanksgiving Day", "");
            push_obs(date(12, 25).and_then(us_observed), "Christmas Day", "Christmas Day (observed)");
        }
        HolidayCalendar::Ice => {
            push_obs(date(1, 1).and_then(uk_substitute), "New Year's Day", "New Year's Day (substitute)");
            push_obs(good_friday.map(|d| (d, false)), "Good Friday", "");
            let easter_monday = easter_sunday(year).and_then(|e| e.checked_add_days(Days::new(1)));
            push_obs(easter_monday.map(|d| (d, false)), "Easter Monday", "");
            push_obs(nth_weekday(year, 5, Weekday::Mon, 1).map(|d| (d, false)), "Early May bank holiday", "");
            push_obs(last_weekday(year, 5, Weekday::Mon).map(|d| (d, false)), "Spring bank holiday", "");
            push_obs(last_weekday(year, 8, Weekday::Mon).map(|d| (d, false)), "Summer bank holiday", "");
            for (d, name) in uk_christmas(year) {
                out.push((d, name));
            }
        }
    }
    out.sort();
    out
}
