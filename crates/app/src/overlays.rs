//! Chart overlays (SMA 20, EMA 50, Bollinger 20/2) kept incrementally in step with a bar
//! series: a new or updated last bar costs O(period), not a recomputation of the series.
//! Definitions follow TA-Lib: the EMA is seeded with the SMA of its first `n` closes and
//! Bollinger bands use the population standard deviation.

use std::collections::VecDeque;

use crate::bars::BarSeries;

const SMA_N: usize = 20;
const EMA_N: usize = 50;
const BB_N: usize = 20;
const BB_K: f64 = 2.0;

/// Plot points of the three Bollinger lines: upper, middle, lower.
pub type BandPoints = (Vec<[f64; 2]>, Vec<[f64; 2]>, Vec<[f64; 2]>);

/// Overlay values aligned with a series' bars.
#[derive(Debug, Default)]
pub struct OverlayCache {
    evicted: u64,
    first_close: Option<u64>,
    closes: VecDeque<f64>,
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
        // values of the bars that remain do not depend on the dropped ones beyond what
        // they already hold).
        let dropped = series.evicted().saturating_sub(self.evicted) as usize;
        if dropped > 0 && dropped < self.closes.len() {
            for v in [&mut self.closes, &mut self.sma, &mut self.ema, &mut self.bb_upper, &mut self.bb_lower] {
                v.drain(..dropped);
            }
            self.evicted = series.evicted();
            self.first_close = bars.front().map(|b| b.start.0 as u64);
        }
        let first = bars.front().map(|b| b.start.0 as u64);
        let from = if series.evicted() != self.evicted || first != self.first_close || n < self.closes.len() {
            // A different series: start over.
            self.evicted = series.evicted();
            self.first_close = first;
            self.closes.clear();
            0
        } else {
            // The previous last bar may have changed since; redo it.
            self.closes.len().saturating_sub(1)
        };
        self.closes.truncate(from);
        self.closes.extend(bars.range(from..).map(|b| b.close));
        for v in [&mut self.sma, &mut self.ema, &mut self.bb_upper, &mut self.bb_lower] {
            v.truncate(from);
        }
        for i in from..n {
            let sma = window_mean(&self.closes, i, SMA_N);
            self.sma.push_back(sma);
            let ema = if i + 1 < EMA_N {
                f64::NAN
            } else if i + 1 == EMA_N {
                window_mean(&self.closes, i, EMA_N)
            } else {
                let k = 2.0 / (EMA_N as f64 + 1.0);
                self.ema[i - 1] + k * (self.closes[i] - self.ema[i - 1])
            };
            self.ema.push_back(ema);
            let mid = window_mean(&self.closes, i, BB_N);
            let sd = if mid.is_nan() {
                f64::NAN
            } else {
                (self.closes.range(i + 1 - BB_N..=i).map(|c| (c - mid) * (c - mid)).sum::<f64>() / BB_N as f64).sqrt()
            };
            self.bb_upper.push_back(mid + BB_K * sd);
            self.bb_lower.push_back(mid - BB_K * sd);
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

fn window_mean(v: &VecDeque<f64>, i: usize, n: usize) -> f64 {
    if i + 1 < n {
        return f64::NAN;
    }
    v.range(i + 1 - n..=i).sum::<f64>() / n as f64
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
    fn bollinger_uses_population_sd() {
        let closes: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let mut c = OverlayCache::default();
        c.update(&series(&closes));
        let mean = 9.5;
        let var = closes.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 20.0;
        assert!((c.bb_upper[19] - (mean + 2.0 * var.sqrt())).abs() < 1e-12);
    }
}
