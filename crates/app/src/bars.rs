//! Bars built from trades, per series and timeframe, with bounded history.
//!
//! Buckets follow [`Timeframe::bucket`], the one bar rule of Crude (the signals service
//! builds its bars by it too).

use std::collections::VecDeque;

use crude_model::{Bar, Timeframe, Timestamp};

/// Bars of one series at one timeframe, oldest first, at most `cap` kept.
#[derive(Debug, Clone)]
pub struct BarSeries {
    timeframe: Timeframe,
    bars: VecDeque<Bar>,
    cap: usize,
    /// Bars dropped from the front since the series began (keeps x positions stable).
    evicted: u64,
    /// The current (last) bar accepts trades in `[open_from, open_until)`.
    open_from: Timestamp,
    open_until: Timestamp,
}

impl BarSeries {
    /// An empty series keeping at most `cap` bars (at least 1).
    pub fn new(timeframe: Timeframe, cap: usize) -> Self {
        Self {
            timeframe,
            bars: VecDeque::new(),
            cap: cap.max(1),
            evicted: 0,
            open_from: Timestamp(i64::MAX),
            open_until: Timestamp(i64::MIN),
        }
    }

    /// The timeframe.
    pub fn timeframe(&self) -> Timeframe {
        self.timeframe
    }

    /// The bars, oldest first.
    pub fn bars(&self) -> &VecDeque<Bar> {
        &self.bars
    }

    /// Number of bars held.
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    /// Whether no bar is held.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// Bars evicted from the front since the series began.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The last bar.
    pub fn last(&self) -> Option<&Bar> {
        self.bars.back()
    }

    /// Bucket `[from, until)` containing `ts`, and the bar start stamp.
    fn bucket(&self, ts: Timestamp) -> (Timestamp, Timestamp, Timestamp) {
        let b = self.timeframe.bucket(ts);
        (b.from, b.until, b.start)
    }

    fn push(&mut self, bar: Bar) {
        if self.bars.len() == self.cap {
            self.bars.pop_front();
            self.evicted += 1;
        }
        self.bars.push_back(bar);
    }

    /// Fold a trade into the series. Trades older than the current bar are ignored (a feed
    /// delivers in time order; a late print cannot rewrite a closed bar). Returns whether
    /// the trade was applied.
    #[inline]
    pub fn on_trade(&mut self, ts: Timestamp, price: f64, size: u64) -> bool {
        if ts >= self.open_from
            && ts < self.open_until
            && let Some(last) = self.bars.back_mut()
        {
            last.update(price, size);
            return true;
        }
        if ts < self.open_from && !self.bars.is_empty() {
            return false;
        }
        let (from, until, start) = self.bucket(ts);
        if let Some(last) = self.bars.back_mut()
            && last.start == start
        {
            last.update(price, size);
        } else if self.bars.back().is_some_and(|b| b.start > start) {
            return false;
        } else {
            self.push(Bar::from_trade(start, price, size));
        }
        self.open_from = from;
        self.open_until = until;
        true
    }

    /// Add a completed bar from a bar feed (history, replay). A bar with the start of the
    /// last bar replaces it; an older bar is ignored. Returns whether it was applied.
    pub fn on_bar(&mut self, bar: Bar) -> bool {
        match self.bars.back_mut() {
            Some(last) if last.start == bar.start => {
                *last = bar;
            }
            Some(last) if last.start > bar.start => return false,
            _ => self.push(bar),
        }
        // Later trades in the same bucket extend it.
        let (from, until, _) = self.bucket(bar.start);
        self.open_from = from;
        self.open_until = until;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::America::New_York;

    fn et(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
        Timestamp::from_datetime(&New_York.with_ymd_and_hms(y, m, d, h, min, 0).unwrap())
    }

    #[test]
    fn one_minute_bars_ohlcv() {
        let mut s = BarSeries::new(Timeframe::M1, 100);
        let t = et(2026, 11, 18, 10, 0);
        s.on_trade(t, 70.0, 1);
        s.on_trade(t.add_nanos(10 * Timestamp::NANOS_PER_SEC), 70.5, 2);
        s.on_trade(t.add_nanos(20 * Timestamp::NANOS_PER_SEC), 69.5, 3);
        s.on_trade(t.add_nanos(59 * Timestamp::NANOS_PER_SEC), 70.2, 4);
        s.on_trade(t.add_nanos(60 * Timestamp::NANOS_PER_SEC), 70.3, 5);
        assert_eq!(s.len(), 2);
        let b = s.bars()[0];
        assert_eq!((b.open, b.high, b.low, b.close, b.volume), (70.0, 70.5, 69.5, 70.2, 10));
        assert_eq!(b.start, t);
        assert_eq!(s.bars()[1].open, 70.3);
    }

    #[test]
    fn hour_bars_align_to_exchange_hours() {
        let mut s = BarSeries::new(Timeframe::H1, 100);
        s.on_trade(et(2026, 11, 18, 16, 30), 70.0, 1);
        s.on_trade(et(2026, 11, 18, 18, 5), 71.0, 1);
        assert_eq!(s.len(), 2);
        assert_eq!(s.bars()[0].start, et(2026, 11, 18, 16, 0));
        assert_eq!(s.bars()[1].start, et(2026, 11, 18, 18, 0));
    }

    #[test]
    fn daily_bars_follow_the_session_not_the_calendar_day() {
        let mut s = BarSeries::new(Timeframe::D1, 100);
        // Tuesday 16:59 ET belongs to Tuesday's session; 18:00 ET opens Wednesday's.
        s.on_trade(et(2026, 11, 17, 16, 59), 70.0, 1);
        s.on_trade(et(2026, 11, 17, 18, 0), 71.0, 2);
        s.on_trade(et(2026, 11, 17, 23, 30), 72.0, 3);
        s.on_trade(et(2026, 11, 18, 9, 0), 69.0, 4);
        assert_eq!(s.len(), 2);
        let tue = NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();
        let wed = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        assert_eq!(s.bars()[0].start, Timestamp::from_date(tue));
        assert_eq!(s.bars()[1].start, Timestamp::from_date(wed));
        let b = s.bars()[1];
        assert_eq!((b.open, b.high, b.low, b.close, b.volume), (71.0, 72.0, 69.0, 69.0, 9));
    }

    #[test]
    fn sunday_evening_opens_monday() {
        let mut s = BarSeries::new(Timeframe::D1, 100);
        s.on_trade(et(2026, 11, 13, 16, 0), 70.0, 1); // Friday
        s.on_trade(et(2026, 11, 15, 18, 1), 71.0, 1); // Sunday evening
        s.on_trade(et(2026, 11, 16, 10, 0), 72.0, 1); // Monday
        assert_eq!(s.len(), 2);
        assert_eq!(s.bars()[1].start, Timestamp::from_date(NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()));
        assert_eq!(s.bars()[1].close, 72.0);
    }

    #[test]
    fn history_is_bounded_and_late_trades_ignored() {
        let mut s = BarSeries::new(Timeframe::M1, 3);
        let t = et(2026, 11, 18, 10, 0);
        for i in 0..5 {
            s.on_trade(t.add_nanos(i * Timestamp::NANOS_PER_MIN), 70.0 + i as f64, 1);
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.evicted(), 2);
        assert!(!s.on_trade(t, 1.0, 1));
        assert_eq!(s.bars()[0].open, 72.0);
    }

    #[test]
    fn negative_prices_are_bars_too() {
        let mut s = BarSeries::new(Timeframe::M1, 10);
        let t = et(2020, 4, 20, 14, 0);
        s.on_trade(t, -10.0, 1);
        s.on_trade(t.add_nanos(1), -37.63, 1);
        s.on_trade(t.add_nanos(2), -20.0, 1);
        let b = s.bars()[0];
        assert_eq!((b.high, b.low, b.close), (-10.0, -37.63, -20.0));
    }

    #[test]
    fn bar_feed_then_trades_extend_the_last_bar() {
        let mut s = BarSeries::new(Timeframe::M1, 10);
        let t = et(2026, 11, 18, 10, 0);
        assert!(s.on_bar(Bar { start: t, open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 10 }));
        assert!(s.on_trade(t.add_nanos(Timestamp::NANOS_PER_SEC), 2.5, 1));
        assert_eq!(s.bars()[0].high, 2.5);
        assert!(!s.on_bar(Bar {
            start: Timestamp(t.0 - Timestamp::NANOS_PER_MIN),
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1
        }));
    }
}
