//! Time as an input: a [`Timestamp`] type and the [`Clock`] trait.
//!
//! No component reads the wall clock directly. A [`LiveClock`] reads the system time (the
//! one place in Crude that does); a [`SimClock`] is advanced by events, so replay, the
//! accelerated simulator and backtests run the same code deterministically.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Nanoseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const NANOS_PER_SEC: i64 = 1_000_000_000;
    pub const NANOS_PER_MIN: i64 = 60 * Self::NANOS_PER_SEC;

    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs * Self::NANOS_PER_SEC)
    }

    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms * 1_000_000)
    }

    /// Nanoseconds since the epoch.
    pub const fn nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (floor).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(Self::NANOS_PER_SEC)
    }

    /// As a chrono UTC date-time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_nanos(self.0)
    }

    /// From a chrono date-time (any zone).
    pub fn from_datetime<Tz: TimeZone>(dt: &DateTime<Tz>) -> Self {
        Self(dt.timestamp_nanos_opt().unwrap_or_else(|| dt.timestamp() * Self::NANOS_PER_SEC))
    }

    /// Midnight UTC of a calendar date.
    pub fn from_date(d: NaiveDate) -> Self {
        let secs = d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc().timestamp()).unwrap_or(0);
        Self::from_secs(secs)
    }

    /// The UTC calendar date.
    pub fn date_utc(self) -> NaiveDate {
        self.to_datetime().date_naive()
    }

    /// This timestamp plus `nanos` nanoseconds.
    pub const fn add_nanos(self, nanos: i64) -> Self {
        Self(self.0 + nanos)
    }

    /// Seconds from `earlier` to `self` as a float.
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / Self::NANOS_PER_SEC as f64
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time by this clock.
    fn now(&self) -> Timestamp;
}

/// The wall clock. Only feeds of live data and the app shell hold one.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveClock;

impl Clock for LiveClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(&Utc::now())
    }
}

/// A clock advanced by events: it reads the time of the last event applied to it.
/// It never goes backwards.
#[derive(Debug, Default)]
pub struct SimClock {
    nanos: AtomicI64,
}

impl SimClock {
    /// A clock set to `start`.
    pub fn new(start: Timestamp) -> Self {
        Self { nanos: AtomicI64::new(start.0) }
    }

    /// Advance to `t`; earlier times are ignored so the clock is monotonic.
    pub fn advance_to(&self, t: Timestamp) {
        self.nanos.fetch_max(t.0, Ordering::AcqRel);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.nanos.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_is_monotonic() {
        let c = SimClock::new(Timestamp::from_secs(100));
        c.advance_to(Timestamp::from_secs(200));
        c.advance_to(Timestamp::from_secs(150));
        assert_eq!(c.now(), Timestamp::from_secs(200));
    }

    #[test]
    fn timestamp_date_round_trip() {
        let d = NaiveDate::from_ymd_opt(2020, 4, 20).unwrap();
        assert_eq!(Timestamp::from_date(d).date_utc(), d);
        assert_eq!(Timestamp::from_secs(-1).secs(), -1);
    }
}
