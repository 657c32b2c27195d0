//! CME Globex energy trading hours (WTI, Brent on NYMEX/Globex hours, RBOB, heating oil).
//!
//! All times are America/New_York (ET), daylight saving handled by `chrono-tz`:
//!
//! * the week's trading runs Sunday 18:00 ET to Friday 17:00 ET, with a 60-minute break
//!   every day 17:00–18:00 ET;
//! * each session belongs to a **trading date** `D`, a CME business day (Monday–Friday,
//!   not a CME holiday), and runs from 18:00 ET of the calendar day before `D` to 17:00 ET
//!   of `D`: Monday's session opens Sunday 18:00; the session of the day after a holiday
//!   opens at 18:00 ET on the holiday itself;
//! * a CME holiday has no session (simplification: on several US holidays Globex energy
//!   really runs a shortened session whose trades count for the next trading date; Crude
//!   treats the whole holiday trading date as closed, so the market is shut from 17:00 ET
//!   the day before the holiday until 18:00 ET on the holiday). Early closes (Christmas
//!   Eve, the Friday after Thanksgiving) are not modelled.
//!
//! Instants in the break, at the weekend or on a holiday belong to the next session: their
//! [`trading_date`] is that session's date. Session opens are inclusive, closes exclusive
//! (17:00:00 ET is already in the break).
//!
//! Brent is listed here under Globex hours too (NYMEX BZ trades them); ICE's own Brent
//! hours (01:00–23:00 London) are not modelled.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::America::New_York;

use crate::Timestamp;
use crate::calendar::HolidayCalendar;

/// Hour (ET) at which a session closes and the daily break starts.
pub const CLOSE_HOUR_ET: u32 = 17;
/// Hour (ET) at which the next session opens and the daily break ends.
pub const OPEN_HOUR_ET: u32 = 18;

/// The calendar the sessions follow.
const CAL: HolidayCalendar = HolidayCalendar::Cme;

/// The local (ET) date and time of an instant.
fn local(ts: Timestamp) -> NaiveDateTime {
    ts.to_datetime().with_timezone(&New_York).naive_local()
}

/// An ET wall-clock time as an instant. 17:00 and 18:00 always exist exactly once in
/// New York (clock changes happen at 02:00); the fallbacks only keep the function total.
fn et_instant(date: NaiveDate, hour: u32) -> Timestamp {
    let Some(ndt) = date.and_hms_opt(hour, 0, 0) else {
        return Timestamp(0);
    };
    match New_York.from_local_datetime(&ndt).earliest() {
        Some(dt) => to_timestamp(dt.timestamp_nanos_opt(), dt.timestamp()),
        // A non-existent local time cannot occur at 17:00/18:00; use EST (UTC−5).
        None => {
            let utc = ndt.and_utc();
            to_timestamp(
                utc.timestamp_nanos_opt().map(|n| n.saturating_add(5 * 3_600 * Timestamp::NANOS_PER_SEC)),
                utc.timestamp() + 5 * 3_600,
            )
        }
    }
}

/// Nanoseconds when representable, saturated seconds otherwise (dates beyond 2262).
fn to_timestamp(nanos: Option<i64>, secs: i64) -> Timestamp {
    Timestamp(nanos.unwrap_or_else(|| secs.saturating_mul(Timestamp::NANOS_PER_SEC)))
}

/// The calendar date whose session an ET wall-clock time would belong to if every weekday
/// traded: the same day before 17:00, the next day from 17:00.
fn candidate_date(ldt: NaiveDateTime) -> NaiveDate {
    let d = ldt.date();
    if ldt.hour() >= CLOSE_HOUR_ET { d.checked_add_days(Days::new(1)).unwrap_or(d) } else { d }
}

/// Whether the Globex energy market is open at `ts`.
pub fn is_session_open(ts: Timestamp) -> bool {
    let ldt = local(ts);
    let hour = ldt.hour();
    if (CLOSE_HOUR_ET..OPEN_HOUR_ET).contains(&hour) {
        return false;
    }
    CAL.is_business_day(candidate_date(ldt))
}

/// The trading date `ts` belongs to: the date of the session containing it, or, when the
/// market is closed (break, weekend, holiday), the date of the next session.
pub fn trading_date(ts: Timestamp) -> NaiveDate {
    CAL.business_day_on_or_after(candidate_date(local(ts)))
}

/// Open and close of the session of `trading_date`: 18:00 ET of the previous calendar day
/// (Sunday for a Monday; the holiday itself for the day after a holiday) and 17:00 ET of
/// `trading_date`. For a date that is not a CME business day there is no session; the
/// function still returns the bounds such a session would have, so check
/// [`HolidayCalendar::is_business_day`] (or use [`session_for`]) when that matters.
pub fn session_bounds(trading_date: NaiveDate) -> (Timestamp, Timestamp) {
    let eve = trading_date.pred_opt().unwrap_or(trading_date);
    (et_instant(eve, OPEN_HOUR_ET), et_instant(trading_date, CLOSE_HOUR_ET))
}

/// The session bounds of `trading_date`, or `None` when it is a weekend day or a CME holiday.
pub fn session_for(trading_date: NaiveDate) -> Option<(Timestamp, Timestamp)> {
    CAL.is_business_day(trading_date).then(|| session_bounds(trading_date))
}

/// `ts` itself when the market is open, otherwise the open of the next session.
pub fn next_session_open(ts: Timestamp) -> Timestamp {
    if is_session_open(ts) { ts } else { session_bounds(trading_date(ts)).0 }
}

/// The close of the session containing `ts`, or of the next session when closed.
pub fn session_close_after(ts: Timestamp) -> Timestamp {
    session_bounds(trading_date(ts)).1
}

/// The New York wall-clock time of an instant (for bucketing by local time).
pub fn local_time_et(ts: Timestamp) -> NaiveTime {
    local(ts).time()
}
