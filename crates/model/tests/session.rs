//! CME Globex energy session tests: weekly open and close, the daily break, daylight-saving
//! transitions and holidays.

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use crude_model::{
    Timestamp, is_session_open, next_session_open, session_bounds, session_close_after, session_for, trading_date,
};

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

/// An instant given as New York wall-clock time.
fn et(y: i32, m: u32, dd: u32, h: u32, min: u32) -> Timestamp {
    Timestamp::from_datetime(&New_York.with_ymd_and_hms(y, m, dd, h, min, 0).single().unwrap())
}

/// An instant given in UTC.
fn utc(y: i32, m: u32, dd: u32, h: u32, min: u32) -> Timestamp {
    Timestamp::from_datetime(&chrono::Utc.with_ymd_and_hms(y, m, dd, h, min, 0).single().unwrap())
}

#[test]
fn sunday_open_and_friday_close() {
    // Week of Monday 15 Jan 2024 is MLK Day (holiday), so use the week of 22 Jan 2024.
    assert!(!is_session_open(et(2024, 1, 21, 17, 59)));
    assert!(is_session_open(et(2024, 1, 21, 18, 0)));
    assert_eq!(trading_date(et(2024, 1, 21, 18, 0)), d(2024, 1, 22));
    assert_eq!(trading_date(et(2024, 1, 21, 12, 0)), d(2024, 1, 22));
    assert!(is_session_open(et(2024, 1, 26, 16, 59)));
    assert!(!is_session_open(et(2024, 1, 26, 17, 0)));
    assert!(!is_session_open(et(2024, 1, 26, 18, 30))); // Friday evening: no Saturday session
    assert!(!is_session_open(et(2024, 1, 27, 12, 0)));
    assert_eq!(trading_date(et(2024, 1, 26, 17, 0)), d(2024, 1, 29));
    assert_eq!(next_session_open(et(2024, 1, 27, 12, 0)), et(2024, 1, 28, 18, 0));
    assert_eq!(session_close_after(et(2024, 1, 27, 12, 0)), et(2024, 1, 29, 17, 0));
}

#[test]
fn daily_break() {
    // Tuesday 23 Jan 2024.
    assert!(is_session_open(et(2024, 1, 23, 16, 59)));
    assert!(!is_session_open(et(2024, 1, 23, 17, 0)));
    assert!(!is_session_open(et(2024, 1, 23, 17, 59)));
    assert!(is_session_open(et(2024, 1, 23, 18, 0)));
    assert_eq!(trading_date(et(2024, 1, 23, 16, 59)), d(2024, 1, 23));
    assert_eq!(trading_date(et(2024, 1, 23, 17, 30)), d(2024, 1, 24));
    assert_eq!(trading_date(et(2024, 1, 23, 18, 0)), d(2024, 1, 24));
    let in_break = et(2024, 1, 23, 17, 30);
    assert_eq!(next_session_open(in_break), et(2024, 1, 23, 18, 0));
    let open = et(2024, 1, 23, 10, 0);
    assert_eq!(next_session_open(open), open);
    assert_eq!(session_close_after(open), et(2024, 1, 23, 17, 0));
    assert_eq!(session_close_after(in_break), et(2024, 1, 24, 17, 0));
    assert_eq!(session_bounds(d(2024, 1, 24)), (et(2024, 1, 23, 18, 0), et(2024, 1, 24, 17, 0)));
}

#[test]
fn dst_transitions() {
    // US DST starts Sunday 10 Mar 2024 (02:00 EST → 03:00 EDT): the Sunday open is at
    // 18:00 EDT = 22:00 UTC; the Friday before closed at 17:00 EST = 22:00 UTC.
    let (open, close) = session_bounds(d(2024, 3, 11));
    assert_eq!(open, utc(2024, 3, 10, 22, 0));
    assert_eq!(close, utc(2024, 3, 11, 21, 0));
    assert_eq!(session_bounds(d(2024, 3, 8)).1, utc(2024, 3, 8, 22, 0));
    assert!(is_session_open(utc(2024, 3, 10, 22, 0)));
    assert!(!is_session_open(utc(2024, 3, 10, 21, 59)));
    // DST ends Sunday 3 Nov 2024 (02:00 EDT → 01:00 EST): Sunday open 18:00 EST = 23:00 UTC.
    let (open, close) = session_bounds(d(2024, 11, 4));
    assert_eq!(open, utc(2024, 11, 3, 23, 0));
    assert_eq!(close, utc(2024, 11, 4, 22, 0));
    assert_eq!(session_bounds(d(2024, 11, 1)).1, utc(2024, 11, 1, 21, 0));
    assert!(!is_session_open(utc(2024, 11, 3, 22, 30)));
    assert!(is_session_open(utc(2024, 11, 3, 23, 0)));
    // The session spanning a transition is 23 hours either way.
    for day in [d(2024, 3, 11), d(2024, 11, 4)] {
        let (o, c) = session_bounds(day);
        assert_eq!((c.nanos() - o.nanos()) / Timestamp::NANOS_PER_SEC, 23 * 3600);
    }
}

#[test]
fn holidays_have_no_session() {
    // Thanksgiving Thursday 28 Nov 2024: closed from Wednesday 17:00 to Thursday 18:00 ET.
    assert!(is_session_open(et(2024, 11, 27, 16, 59)));
    assert!(!is_session_open(et(2024, 11, 27, 18, 30)));
    assert!(!is_session_open(et(2024, 11, 28, 12, 0)));
    assert!(is_session_open(et(2024, 11, 28, 18, 0))); // Friday's session opens on the holiday
    assert_eq!(trading_date(et(2024, 11, 27, 20, 0)), d(2024, 11, 29));
    assert_eq!(next_session_open(et(2024, 11, 27, 20, 0)), et(2024, 11, 28, 18, 0));
    assert_eq!(session_for(d(2024, 11, 28)), None);
    assert_eq!(session_for(d(2024, 11, 29)), Some((et(2024, 11, 28, 18, 0), et(2024, 11, 29, 17, 0))));
    // Good Friday 29 Mar 2024: Thursday evening to Sunday 18:00 closed.
    assert!(!is_session_open(et(2024, 3, 28, 19, 0)));
    assert_eq!(next_session_open(et(2024, 3, 28, 19, 0)), et(2024, 3, 31, 18, 0));
    assert_eq!(trading_date(et(2024, 3, 29, 12, 0)), d(2024, 4, 1));
    // Christmas 2023 on a Monday: Sunday evening stays closed, Monday 18:00 opens Tuesday.
    assert!(!is_session_open(et(2023, 12, 24, 19, 0)));
    assert_eq!(next_session_open(et(2023, 12, 24, 19, 0)), et(2023, 12, 25, 18, 0));
}

#[test]
fn next_open_and_close_are_consistent_over_a_year() {
    // Every 7 minutes through 2024: the next open is never before the instant, is open, and
    // the close after it is later than it and belongs to the same trading date.
    let start = et(2024, 1, 1, 0, 0).nanos();
    let end = et(2025, 1, 1, 0, 0).nanos();
    let step = 7 * Timestamp::NANOS_PER_MIN;
    let mut t = start;
    while t < end {
        let ts = Timestamp(t);
        let open = next_session_open(ts);
        assert!(open >= ts);
        assert!(is_session_open(open), "{:?}", ts.to_datetime());
        let close = session_close_after(ts);
        assert!(close > open);
        assert!(!is_session_open(close));
        assert_eq!(trading_date(open), trading_date(ts));
        let (o, c) = session_bounds(trading_date(ts));
        assert_eq!((o.max(ts), c), (open, close));
        t += step;
    }
}

#[test]
fn extreme_instants_do_not_panic() {
    for ts in [Timestamp(i64::MIN), Timestamp(i64::MAX), Timestamp(0)] {
        let _ = is_session_open(ts);
        let _ = trading_date(ts);
        let _ = next_session_open(ts);
        let _ = session_close_after(ts);
    }
    let _ = session_bounds(NaiveDate::MAX);
    let _ = session_bounds(NaiveDate::MIN);
}
