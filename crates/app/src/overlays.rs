//! Chart overlays (SMA 20, EMA 50, Bollinger 20/2) kept incrementally in step with a bar
//! series, computed by the signals crate's streaming indicators (the same TA-Lib
//! definitions the signal engine and `crude indicators` use: the EMA is seeded with the SMA
//! of its first `n` closes, Bollinger bands use the population standard deviation).
//!
//! The indicators' state holds every closed bar; the last bar may still change, so its
//! values come from a copy of that state updated with its current close. A new or updated
//! last bar therefore costs O(1) for the EMA and O(period) for the SMA and bands.

use std::collections::VecDeque;

use crude_signals::{Bollinger, Ema, Sma};

use crate::bars::BarSeries;

const SMA_N: usize = 20;
const EMA_N: usize = 50;
const BB_N: usize = 20;
const BB_K: f64 = 2.0;

/// Plot points of the three Bollinger lines: upper, middle, lower.
pub type BandPoints = (Vec<[f64; 2]>, Vec<[f64; 2]>, Vec<[f64; 2]>);

/// The streaming indicators over a series' closed bars.
#[derive(Debug, Clone)]
struct Indicators {
    sma: Sma,
    ema: Ema,
    bb: Bollinger,
}

impl Indicators {
    fn new() -> Self {
        // The periods are constants inside the indicators' valid ranges.
        Self {
            sma: Sma::new(SMA_N).expect("SMA period in range"),
            ema: Ema::new(EMA_N).expect("EMA period in range"),
            bb: Bollinger::new(BB_N, BB_K).expect("Bollinger parameters in range"),
        }
    }

    /// Feeds `close`; (SMA, EMA, upper, lower), NaN over each lookback.
    fn update(&mut self, close: f64) -> [f64; 4] {
        let sma = self.sma.update(close).unwrap_or(f64::NAN);
        let ema = self.ema.update(close).unwrap_or(f64::NAN);
        let (upper, lower) = self.bb.update(close).map_or((f64::NAN, f64::NAN), |b| (b.upper, b.lower));
        [sma, ema, upper, lower]
    }
}

impl Default for Indicators {
    fn default() -> Self {
        Self::new()
    }
}

/// Overlay values aligned with a series' bars.
#[derive(Debug, Default)]
pub struct OverlayCache {
    evicted: u64,
    first_close: Option<u64>,
    /// Bars whose close has been fed to `closed` (every bar but the last).
    closed_count: usize,
    closed: Indicators,
    sma: VecDeque<f64>,
    ema: VecDeque<f64>,
    bb_upper: VecDeque<f64>,
    bb_lower: VecDeque<f64>,
}

impl OverlayCache {
    /// Bring the overlays in line with `series`.
    pub fn update(&mut self, series: &BarSeries) {
        let bars = series.bars();
        let n = bars.len();
        // Bars dropped at the front of a bounded series: drop the same overlay values (the
        // indicator state already holds what the remaining values depend on).
        let dropped = series.evicted().saturating_sub(self.evicted) as usize;
        if dropped > 0 && dropped < self.closed_count {
            for v in [&mut self.sma, &mut self.ema, &mut self.bb_upper, &mut self.bb_lower] {
                v.drain(..dropped);
            }
            self.closed_count -= dropped;
            self.evicted = series.evicted();
            self.first_close = bars.front().map(|b| b.start.0 as u64);
        }
        let first = bars.front().map(|b| b.start.0 as u64);
        if series.evicted() != self.evicted || first != self.first_close || n < self.closed_count {
            // A different series: start over.
            *self = Self { evicted: series.evicted(), first_close: first, ..Self::default() };
        }
        // Values from `closed_count` on may have changed (the old last bar) or are new.
        let from = self.closed_count;
        for v in [&mut self.sma, &mut self.ema, &mut self.bb_upper, &mut self.bb_lower] {
            v.truncate(from);
        }
        for (i, bar) in bars.range(from..).enumerate() {
            let values = if from + i + 1 < n {
                self.closed_count += 1;
                self.closed.update(bar.close)
            } else {
                self.closed.clone().update(bar.close)
            };
            self.sma.push_back(values[0]);
            self.ema.push_back(values[1]);
            self.bb_upper.push_back(values[2]);
            self.bb_lower.push_back(values[3]);
        }
    }

    fn points(&self, v: &VecDeque<f64>, x0: f64, x1: f64, max_points: usize) -> Vec<[f64; 2]> {
        let n = v.len();
        if n == 0 {
            return Vec::new();
        }
        let lo = (x0.floor() - self.evicted as f64).max(0.0) as usize;
        let hi = ((x1.ceil() - self.evicted as f64).max(0.0) as usize).min(n - 1);
        if lo > hi {
            return Vec::new();
        }
        let step = (hi - lo + 1).div_ceil(max_points.max(1)).max(1);
        let mut out: Vec<[f64; 2]> = (lo..=hi)
            .step_by(step)
            .filter(|&i| v[i].is_finite())
            .map(|i| [(self.evicted + i as u64) as f64, v[i]])
            .collect();
        if !(hi - lo).is_multiple_of(step) && v[hi].is_finite() {
            out.push([(self.evicted + hi as u64) as f64, v[hi]]);
        }
        out
    }

    /// SMA points in `[x0, x1]`, at most about `max_points`.
    pub fn sma_points(&self, x0: f64, x1: f64, max_points: usize) -> Vec<[f64; 2]> {
        self.points(&self.sma, x0, x1, max_points)
    }

    /// EMA points in `[x0, x1]`.
    pub fn ema_points(&self, x0: f64, x1: f64, max_points: usize) -> Vec<[f64; 2]> {
        self.points(&self.ema, x0, x1, max_points)
    }

    /// Bollinger upper, middle (the SMA) and lower points in `[x0, x1]`.
    pub fn bollinger_points(&self, x0: f64, x1: f64, max_points: usize) -> BandPoints {
        (
            self.points(&self.bb_upper, x0, x1, max_points),
            self.points(&self.sma, x0, x1, max_points),
            self.points(&self.bb_lower, x0, x1, max_points),
        )
    }

    /// (x, upper, lower) for every bar in `[x0, x1]` with bands, for fitting the y axis.
    pub fn bollinger_in(&self, x0: f64, x1: f64) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        let n = self.bb_upper.len();
        let lo = (x0.floor() - self.evicted as f64).max(0.0) as usize;
        let hi = ((x1.ceil() - self.evicted as f64).max(0.0) as usize).min(n);
        (lo.min(hi)..hi)
            .filter(|&i| self.bb_upper[i].is_finite())
            .map(|i| ((self.evicted + i as u64) as f64, self.bb_upper[i], self.bb_lower[i]))
    }

    /// Latest SMA, EMA and Bollinger values.
    pub fn latest(&self) -> (Option<f64>, Option<f64>, Option<(f64, f64)>) {
        let last = |v: &VecDeque<f64>| v.back().copied().filter(|x| x.is_finite());
        (last(&self.sma), last(&self.ema), last(&self.bb_upper).zip(last(&self.bb_lower)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{Timeframe, Timestamp};

    fn series(closes: &[f64]) -> BarSeries {
        let mut s = BarSeries::new(Timeframe::M1, 10_000);
        for (i, c) in closes.iter().enumerate() {
            s.on_trade(Timestamp::from_secs(1_795_014_000 + 60 * i as i64), *c, 1);
        }
        s
    }

    #[test]
    fn incremental_equals_full() {
        let closes: Vec<f64> = (0..300).map(|i| 60.0 + (i as f64 * 0.1).sin() * 3.0 + i as f64 * 0.01).collect();
        let mut inc = OverlayCache::default();
        let mut s = BarSeries::new(Timeframe::M1, 10_000);
        for (i, c) in closes.iter().enumerate() {
            let t = Timestamp::from_secs(1_795_014_000 + 60 * i as i64);
            s.on_trade(t, c - 0.5, 1);
            inc.update(&s);
            s.on_trade(t.add_nanos(1), *c, 1);
            inc.update(&s);
        }
        let mut full = OverlayCache::default();
        full.update(&series(&closes));
        for i in 0..300 {
            for (a, b) in [(inc.sma[i], full.sma[i]), (inc.ema[i], full.ema[i]), (inc.bb_upper[i], full.bb_upper[i])] {
                assert!((a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-9, "bar {i}: {a} vs {b}");
            }
        }
        assert!(full.sma[18].is_nan() && full.sma[19].is_finite());
        assert!(full.ema[48].is_nan());
        let seed: f64 = closes[..50].iter().sum::<f64>() / 50.0;
        assert!((full.ema[49] - seed).abs() < 1e-12);
    }

    #[test]
    fn eviction_keeps_the_remaining_values() {
        let closes: Vec<f64> = (0..400).map(|i| 50.0 + (i as f64 * 0.07).cos() * 4.0).collect();
        let mut bounded = BarSeries::new(Timeframe::M1, 200);
        let mut cache = OverlayCache::default();
        for (i, c) in closes.iter().enumerate() {
            bounded.on_trade(Timestamp::from_secs(1_795_014_000 + 60 * i as i64), *c, 1);
            cache.update(&bounded);
        }
        let mut full = OverlayCache::default();
        full.update(&series(&closes));
        assert_eq!(cache.sma.len(), 200);
        for i in 0..200 {
            let j = i + 200;
            assert!((cache.sma[i] - full.sma[j]).abs() < 1e-9);
            assert!((cache.ema[i] - full.ema[j]).abs() < 1e-9);
            assert!((cache.bb_lower[i] - full.bb_lower[j]).abs() < 1e-9);
        }
    }

    #[test]
    fn equals_the_signal_crates_batch_indicators() {
        let closes: Vec<f64> = (0..500).map(|i| 70.0 + (i as f64 * 0.05).sin() * 5.0 - i as f64 * 0.002).collect();
        let mut c = OverlayCache::default();
        c.update(&series(&closes));
        let sma = crude_signals::sma(&closes, SMA_N).unwrap();
        let ema = crude_signals::ema(&closes, EMA_N).unwrap();
        let bb = crude_signals::bollinger(&closes, BB_N, BB_K).unwrap();
        let same = |a: f64, b: f64| (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        for i in 0..closes.len() {
            assert!(same(c.sma[i], sma[i]), "sma {i}");
            assert!(same(c.ema[i], ema[i]), "ema {i}");
            assert!(same(c.bb_upper[i], bb.upper[i]) && same(c.bb_lower[i], bb.lower[i]), "bands {i}");
        }
    }

    #[test]
    fn bollinger_uses_population_sd() {
        let closes: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let mut c = OverlayCache::default();
        c.update(&series(&closes));
        let mean = 9.5;
        let var = closes.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 20.0;
        assert!((c.bb_upper[19] - (mean + 2.0 * var.sqrt())).abs() < 1e-12);
    }
}
