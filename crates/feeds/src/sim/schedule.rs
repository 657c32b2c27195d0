//! Session schedule and the intraday activity profile.
//!
//! Session hours come from the model's session API (CME Globex energy hours: 18:00–17:00 ET,
//! daily break 17:00–18:00 ET, closed at weekends and on CME holidays). Within a session,
//! activity follows a profile by New York wall-clock half-hour: quiet in the Asian night,
//! busier in London hours, a U-shape over the New York day (peak at the 09:00 open, a lull
//! at midday, a second peak in the 14:00–14:30 settlement window) and quiet after 15:00.
//! The profile is normalised to a mean of 1 over a full 23-hour session, so "ticks per
//! second" in the config are session averages.
//!
//! The same profile drives both the tick arrival rate (a time-changed Poisson process:
//! exponential waiting times in *activity-seconds*) and the variance clock: a step carries
//! the fraction `Δactivity / session total` of the session's variance. Sessions contain no
//! clock change (New York changes its clocks at 02:00 on a Sunday, when the market is shut),
//! so wall-clock ET time inside a session is the open's ET time plus the elapsed time.

use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Weekday};
use chrono_tz::America::New_York;

use crude_model::{HolidayCalendar, Timestamp, local_time_et, session_for};

/// Nanoseconds per minute.
const NANOS_PER_MIN: i64 = Timestamp::NANOS_PER_MIN;
/// Bucket length of the activity profile (minutes).
const BUCKET_MIN: i64 = 30;
/// How long before the close the settlement events are stamped (1 ms), so that every event
/// the simulator emits lies inside an open session (closes are exclusive).
pub(crate) const SETTLE_BEFORE_CLOSE_NANOS: i64 = 1_000_000;

/// Relative activity for an ET minute of the day (before normalisation).
fn raw_activity(et_minute: u32) -> f64 {
    match et_minute {
        1080..=1139 => 0.6,  // 18:00–19:00 Globex reopen
        1140..=1439 => 0.35, // 19:00–24:00 Asia
        0..=179 => 0.35,     // 00:00–03:00
        180..=479 => 0.7,    // 03:00–08:00 London
        480..=539 => 1.3,    // 08:00–09:00
        540..=599 => 2.8,    // 09:00–10:00 New York open
        600..=659 => 2.5,    // 10:00–11:00 (EIA report on Wednesdays at 10:30)
        660..=779 => 1.8,    // 11:00–13:00 midday
        780..=839 => 2.0,    // 13:00–14:00
        840..=869 => 3.2,    // 14:00–14:30 settlement window
        870..=899 => 2.0,    // 14:30–15:00
        900..=1019 => 0.8,   // 15:00–17:00 post-settlement
        _ => 0.4,            // 17:00–18:00: the daily break, never inside a session
    }
}

/// Mean raw activity over a standard session (18:00 ET to 17:00 ET next day).
fn raw_session_mean() -> f64 {
    let buckets = (23 * 60 / BUCKET_MIN) as u32;
    let sum: f64 = (0..buckets).map(|k| raw_activity((1080 + k * BUCKET_MIN as u32) % 1440)).sum();
    sum / f64::from(buckets)
}

/// One session: bounds, the activity profile as piecewise-constant buckets, and the
/// cumulative activity at each bucket boundary.
#[derive(Debug, Clone)]
pub(crate) struct SessionSchedule {
    pub trading_date: NaiveDate,
    pub open: Timestamp,
    pub close: Timestamp,
    /// Bucket boundaries (ns since the epoch): `open`, …, `close`.
    bounds: Vec<i64>,
    /// Cumulative activity-seconds at each boundary.
    cum: Vec<f64>,
    /// Activity per second in each bucket.
    rate: Vec<f64>,
}

impl SessionSchedule {
    /// The schedule of `trading_date`'s session, or `None` when there is none (weekend or
    /// CME holiday).
    pub fn new(trading_date: NaiveDate) -> Option<Self> {
        let (open, close) = session_for(trading_date)?;
        if close <= open {
            return None;
        }
        Some(Self::from_bounds(trading_date, open, close))
    }

    /// A schedule over given bounds (`close > open`).
    fn from_bounds(trading_date: NaiveDate, open: Timestamp, close: Timestamp) -> Self {
        let norm = raw_session_mean();
        let open_et = local_time_et(open);
        let open_min = i64::from(open_et.hour() * 60 + open_et.minute());
        let mut bounds = vec![open.0];
        let mut cum = vec![0.0];
        let mut rate = Vec::new();
        let mut t = open.0;
        let mut et_min = open_min;
        while t < close.0 {
            // Next half-hour boundary of ET wall time.
            let to_boundary = BUCKET_MIN - et_min.rem_euclid(BUCKET_MIN);
            let next = t.saturating_add(to_boundary * NANOS_PER_MIN).min(close.0);
            let r = raw_activity(u32::try_from(et_min.rem_euclid(1440)).unwrap_or(0)) / norm;
            let secs = (next - t) as f64 / Timestamp::NANOS_PER_SEC as f64;
            let last = cum.last().copied().unwrap_or(0.0);
            cum.push(last + r * secs);
            rate.push(r);
            bounds.push(next);
            et_min += to_boundary;
            t = next;
        }
        Self { trading_date, open, close, bounds, cum, rate }
    }

    /// The schedule of the first session on or after `d`'s trading date.
    pub fn on_or_after(d: NaiveDate) -> Self {
        let mut date = d;
        // Weekends and holidays have no session; the next business day is at most a few days
        // away. The bound only matters beyond the year 2262, where nanosecond time stamps
        // saturate and no session can be formed: a 23-hour session from midnight UTC keeps
        // the simulator running instead of searching forever (the public entry points reject
        // start dates that could get there).
        for _ in 0..64 {
            if let Some(s) = Self::new(date) {
                return s;
            }
            date = HolidayCalendar::Cme.add_business_days(date, 1);
        }
        let length = 23 * 60 * NANOS_PER_MIN;
        let midnight_secs = date.and_hms_opt(0, 0, 0).map_or(i64::MAX, |t| t.and_utc().timestamp());
        let open = midnight_secs.saturating_mul(Timestamp::NANOS_PER_SEC).min(i64::MAX - length);
        Self::from_bounds(date, Timestamp(open), Timestamp(open + length))
    }

    /// The schedule of the next session after this one.
    pub fn next(&self) -> Self {
        Self::on_or_after(HolidayCalendar::Cme.add_business_days(self.trading_date, 1))
    }

    /// The time stamp of the session's settlement events (1 ms before the close).
    pub fn settle_ts(&self) -> Timestamp {
        Timestamp(self.close.0 - SETTLE_BEFORE_CLOSE_NANOS)
    }

    /// Total activity-seconds of the session.
    pub fn total(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// Cumulative activity-seconds at `t` (clamped to the session).
    pub fn activity_at(&self, t: Timestamp) -> f64 {
        let t = t.0.clamp(self.open.0, self.close.0);
        // The bucket containing t: the last boundary <= t.
        let i = self.bounds.partition_point(|&b| b <= t).saturating_sub(1).min(self.rate.len().saturating_sub(1));
        let Some(&r) = self.rate.get(i) else {
            return 0.0;
        };
        self.cum[i] + r * (t - self.bounds[i]) as f64 / Timestamp::NANOS_PER_SEC as f64
    }

    /// The first instant at which cumulative activity reaches `a`, or `None` when the session
    /// ends first.
    pub fn time_at(&self, a: f64) -> Option<Timestamp> {
        if a.is_nan() || a > self.total() {
            return None;
        }
        let a = a.max(0.0);
        let i = self.cum.partition_point(|&c| c <= a).saturating_sub(1).min(self.rate.len().saturating_sub(1));
        let r = *self.rate.get(i)?;
        let into = if r > 0.0 { (a - self.cum[i]) / r } else { 0.0 };
        let t = self.bounds[i] + (into * Timestamp::NANOS_PER_SEC as f64).round() as i64;
        Some(Timestamp(t.min(self.close.0)))
    }

    /// Instant of the weekly EIA petroleum status report in this session, if there is one:
    /// Wednesday 10:30 ET; when Wednesday is not a CME business day, Thursday 10:30 ET.
    pub fn eia_release(&self) -> Option<Timestamp> {
        let d = self.trading_date;
        let cal = HolidayCalendar::Cme;
        let release_day = match d.weekday() {
            Weekday::Wed => true,
            Weekday::Thu => d.pred_opt().is_some_and(|w| !cal.is_business_day(w)),
            _ => false,
        };
        if !release_day {
            return None;
        }
        let local = d.and_hms_opt(10, 30, 0)?;
        let dt = New_York.from_local_datetime(&local).single()?;
        let ts = Timestamp::from_datetime(&dt);
        (ts >= self.open && ts < self.settle_ts()).then_some(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn standard_session_has_mean_activity_one() {
        let s = SessionSchedule::new(date(2024, 3, 13)).unwrap();
        let secs = s.close.secs_since(s.open);
        assert!((secs - 23.0 * 3600.0).abs() < 1e-6);
        assert!((s.total() / secs - 1.0).abs() < 1e-9, "{}", s.total() / secs);
    }

    #[test]
    fn activity_round_trips_through_time() {
        let s = SessionSchedule::new(date(2024, 7, 10)).unwrap();
        for k in 0..=100 {
            let a = s.total() * f64::from(k) / 100.0;
            let t = s.time_at(a).unwrap();
            assert!((s.activity_at(t) - a).abs() < 1e-3, "k={k}");
        }
        assert!(s.time_at(s.total() + 1.0).is_none());
        assert_eq!(s.activity_at(s.open), 0.0);
    }

    #[test]
    fn no_session_on_weekends_or_holidays() {
        assert!(SessionSchedule::new(date(2024, 3, 16)).is_none()); // Saturday
        assert!(SessionSchedule::new(date(2024, 12, 25)).is_none()); // Christmas
        let s = SessionSchedule::on_or_after(date(2024, 12, 25));
        assert_eq!(s.trading_date, date(2024, 12, 26));
        assert_eq!(s.next().trading_date, date(2024, 12, 27));
    }

    #[test]
    fn sessions_beyond_the_time_stamp_range_do_not_hang() {
        let s = SessionSchedule::on_or_after(date(2300, 1, 2));
        assert!(s.close > s.open && s.total() > 0.0);
        assert!(s.next().close > s.next().open);
    }

    #[test]
    fn eia_on_wednesday_or_thursday_after_a_wednesday_holiday() {
        let wed = SessionSchedule::new(date(2024, 3, 13)).unwrap();
        let ts = wed.eia_release().unwrap();
        let et = local_time_et(ts);
        assert_eq!((et.hour(), et.minute()), (10, 30));
        assert!(SessionSchedule::new(date(2024, 3, 14)).unwrap().eia_release().is_none());
        // Christmas 2024 is a Wednesday: the report moves to Thursday 26 December.
        let thu = SessionSchedule::new(date(2024, 12, 26)).unwrap();
        assert!(thu.eia_release().is_some());
    }
}
