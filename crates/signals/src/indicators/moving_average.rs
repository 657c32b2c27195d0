//! Moving averages with TA-Lib's exact arithmetic: SMA (running sum, add-then-subtract),
//! EMA (k = 2/(n+1), seeded with the SMA of the first n values, lookback n-1) and WMA
//! (weights 1..n, TA-Lib's running-sum recurrence). Each has a batch function and a
//! streaming struct whose outputs agree bar for bar.

use serde::{Deserialize, Serialize};

use super::common::{IndicatorError, check_out_len, check_period, collect_stream};
use super::window::Ring;

/// Simple moving average core (any period >= 1), TA-Lib's `TA_INT_SMA` order of operations:
/// the first n-1 values are summed left to right; then each bar adds the new value,
/// outputs `sum / n`, and subtracts the oldest value of the window.
#[derive(Debug, Clone)]
pub(crate) struct SmaCore {
    period_f: f64,
    ring: Ring,
    sum: f64,
}

impl SmaCore {
    pub(crate) fn new(period: usize) -> Self {
        Self { period_f: period as f64, ring: Ring::new(period), sum: 0.0 }
    }

    #[inline(always)]
    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        self.sum += x;
        self.ring.push(x);
        let oldest = self.ring.oldest_if_full()?;
        let out = self.sum / self.period_f;
        self.sum -= oldest;
        Some(out)
    }

    pub(crate) fn reset(&mut self) {
        self.ring.clear();
        self.sum = 0.0;
    }
}

/// Exponential moving average core (any period >= 1), TA-Lib's `TA_INT_EMA` in its default
/// (classic) compatibility: seed = SMA of the first n values (summed left to right), then
/// `ema = (x - ema) * k + ema` with `k = 2 / (n + 1)`.
#[derive(Debug, Clone)]
pub(crate) struct EmaCore {
    period: usize,
    k: f64,
    count: usize,
    value: f64,
}

impl EmaCore {
    pub(crate) fn new(period: usize) -> Self {
        Self { period, k: 2.0 / ((period + 1) as f64), count: 0, value: 0.0 }
    }

    /// Start the EMA from an already computed seed (the value at the seed bar).
    pub(crate) fn seeded(period: usize, seed: f64) -> Self {
        Self { period, k: 2.0 / ((period + 1) as f64), count: period, value: seed }
    }

    #[inline(always)]
    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        if self.count >= self.period {
            self.value = ((x - self.value) * self.k) + self.value;
            return Some(self.value);
        }
        self.value += x;
        self.count += 1;
        if self.count == self.period {
            self.value /= self.period as f64;
            Some(self.value)
        } else {
            None
        }
    }

    pub(crate) fn reset(&mut self) {
        self.count = 0;
        self.value = 0.0;
    }
}

/// Moving-average kind used to smooth the stochastic (TA-Lib `matype` 0 and 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaKind {
    /// Simple moving average (TA-Lib `matype` 0, the STOCH default).
    #[default]
    Sma,
    /// Exponential moving average seeded with an SMA (TA-Lib `matype` 1).
    Ema,
}

/// A moving average as TA-Lib's `TA_MA` applies it: period 1 is the identity.
#[derive(Debug, Clone)]
pub(crate) enum Smoother {
    Identity,
    Sma(SmaCore),
    Ema(EmaCore),
}

impl Smoother {
    pub(crate) fn new(kind: MaKind, period: usize) -> Self {
        match (period, kind) {
            (0 | 1, _) => Smoother::Identity,
            (_, MaKind::Sma) => Smoother::Sma(SmaCore::new(period)),
            (_, MaKind::Ema) => Smoother::Ema(EmaCore::new(period)),
        }
    }

    #[inline(always)]
    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        match self {
            Smoother::Identity => Some(x),
            Smoother::Sma(s) => s.update(x),
            Smoother::Ema(e) => e.update(x),
        }
    }

    pub(crate) fn reset(&mut self) {
        match self {
            Smoother::Identity => {}
            Smoother::Sma(s) => s.reset(),
            Smoother::Ema(e) => e.reset(),
        }
    }
}

/// Streaming simple moving average (TA-Lib `SMA`). Lookback `period - 1`; O(1) per value.
#[derive(Debug, Clone)]
pub struct Sma {
    period: usize,
    core: SmaCore,
}

impl Sma {
    /// A new SMA over `period` values (2..=100000, TA-Lib's range).
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("sma", "period", period, 2)?;
        Ok(Self { period, core: SmaCore::new(period) })
    }

    /// Feed the next value; the average once `period` values have been seen.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.core.update(value)
    }

    /// Number of leading values without output: `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.core.reset();
    }
}

/// Batch SMA (TA-Lib `SMA`): same length as `values`, `NaN` for the first `period - 1`.
///
/// See [`sma_into`] for the method and to write into a buffer the caller reuses.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`.
pub fn sma(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    // Zeroed allocation: fresh pages are mapped lazily, so the kernel's own writes are
    // the only pass over the output.
    let mut out = vec![0.0; values.len()];
    sma_into(values, period, &mut out)?;
    Ok(out)
}

/// Outputs per block of the batch SMA; each block restarts from an exact window sum.
const SMA_BLOCK: usize = 4096;

/// Batch SMA into `out` (same length as `values`): no allocation, one pass, no bounds
/// checks in the inner loop.
///
/// The window sum is updated with `sum += x[t] - x[t - period]`, whose dependency chain is
/// one addition per bar (TA-Lib adds then subtracts, two), and is recomputed exactly from
/// the window every `max(4096, 16 * period)` bars so rounding cannot accumulate. Values
/// agree with TA-Lib's to rounding (within 1e-12 of max(1, |value|) on the reference
/// fixtures, the first output bit-identical; TA-Lib's own running sum drifts over long
/// series); the streaming [`Sma`] reproduces TA-Lib's running sum exactly.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when `out` and `values` differ in length.
pub fn sma_into(values: &[f64], period: usize, out: &mut [f64]) -> Result<(), IndicatorError> {
    check_period("sma", "period", period, 2)?;
    check_out_len("sma", values, out)?;
    let lookback = period - 1;
    if values.len() <= lookback {
        out.fill(f64::NAN);
        return Ok(());
    }
    let (head, tail) = out.split_at_mut(lookback);
    head.fill(f64::NAN);
    let period_f = period as f64;
    let block = SMA_BLOCK.max(16 * period);
    // `tail[w]` is the mean of `values[w..w + period]`.
    for (b, chunk) in tail.chunks_mut(block).enumerate() {
        let start = b * block;
        let Some((first, rest)) = chunk.split_first_mut() else {
            continue;
        };
        let mut sum = 0.0;
        for &x in &values[start..start + period] {
            sum += x;
        }
        *first = sum / period_f;
        let adds = &values[start + period..start + period + rest.len()];
        let subs = &values[start..start + rest.len()];
        for ((o, &add), &sub) in rest.iter_mut().zip(adds).zip(subs) {
            sum += add - sub;
            *o = sum / period_f;
        }
    }
    Ok(())
}

/// Streaming exponential moving average (TA-Lib `EMA`, classic seeding). Lookback
/// `period - 1`; the first output is the SMA of the first `period` values.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    core: EmaCore,
}

impl Ema {
    /// A new EMA with smoothing `k = 2 / (period + 1)`, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("ema", "period", period, 2)?;
        Ok(Self { period, core: EmaCore::new(period) })
    }

    /// Feed the next value.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.core.update(value)
    }

    /// Number of leading values without output: `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.core.reset();
    }
}

/// Batch EMA (TA-Lib `EMA`), `NaN` for the first `period - 1` values.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`.
pub fn ema(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    let mut s = Ema::new(period)?;
    Ok(values.iter().map(|&x| s.update(x).unwrap_or(f64::NAN)).collect())
}

/// Streaming weighted moving average (TA-Lib `WMA`: weights 1 for the oldest value up to n
/// for the newest, divided by n(n+1)/2). Lookback `period - 1`; O(1) per value through
/// TA-Lib's running `periodSum` / `periodSub` recurrence.
#[derive(Debug, Clone)]
pub struct Wma {
    period: usize,
    period_f: f64,
    divider: f64,
    ring: Ring,
    count: usize,
    period_sum: f64,
    period_sub: f64,
    trailing: f64,
}

impl Wma {
    /// A new WMA, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("wma", "period", period, 2)?;
        Ok(Self {
            period,
            period_f: period as f64,
            divider: ((period * (period + 1)) >> 1) as f64,
            ring: Ring::new(period),
            count: 0,
            period_sum: 0.0,
            period_sub: 0.0,
            trailing: 0.0,
        })
    }

    /// Feed the next value.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.count += 1;
        self.ring.push(value);
        if self.count < self.period {
            self.period_sub += value;
            self.period_sum += value * (self.count as f64);
            return None;
        }
        self.period_sub += value;
        self.period_sub -= self.trailing;
        self.period_sum += value * self.period_f;
        // After the push the ring is full and its oldest value is x[t - period + 1].
        self.trailing = self.ring.oldest_if_full().unwrap_or(0.0);
        let out = self.period_sum / self.divider;
        self.period_sum -= self.period_sub;
        Some(out)
    }

    /// Number of leading values without output: `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.ring.clear();
        self.count = 0;
        self.period_sum = 0.0;
        self.period_sub = 0.0;
        self.trailing = 0.0;
    }
}

/// Batch WMA (TA-Lib `WMA`), `NaN` for the first `period - 1` values.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`.
pub fn wma(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    let mut s = Wma::new(period)?;
    Ok(collect_stream(values.len(), |i| s.update(values[i])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn sma_small_example() {
        let v = sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 3).unwrap();
        assert!(v[0].is_nan() && v[1].is_nan());
        assert_eq!(&v[2..], &[2.0, 3.0, 4.0]);
        assert_eq!(sma(&[1.0, 2.0], 3).unwrap().len(), 2);
        assert!(sma(&[1.0, 2.0], 3).unwrap().iter().all(|x| x.is_nan()));
        assert!(sma(&[], 3).unwrap().is_empty());
        assert!(sma(&[1.0], 1).is_err());
    }

    #[test]
    fn sma_blocks_restart_exactly() {
        // Longer than several blocks, with a large period (block = 16 * period).
        let xs: Vec<f64> = (0..40_000).map(|i| ((i as f64) * 0.01).sin() * 80.0 + 10.0).collect();
        for period in [2, 20, 300] {
            let b = sma(&xs, period).unwrap();
            for t in period - 1..xs.len() {
                let want: f64 = xs[t + 1 - period..=t].iter().sum::<f64>() / period as f64;
                assert!(close(b[t], want), "period {period} t={t}: {} vs {want}", b[t]);
            }
        }
        let mut out = vec![0.0; 3];
        assert!(sma_into(&xs, 20, &mut out).is_err());
    }

    #[test]
    fn sma_streaming_matches_batch() {
        let xs: Vec<f64> = (0..300).map(|i| ((i as f64) * 0.7).sin() * 30.0 - 5.0).collect();
        let batch = sma(&xs, 7).unwrap();
        let mut s = Sma::new(7).unwrap();
        assert_eq!(s.lookback(), 6);
        for (i, &x) in xs.iter().enumerate() {
            match s.update(x) {
                Some(v) => assert!(close(v, batch[i]), "bar {i}: {v} vs {}", batch[i]),
                None => assert!(batch[i].is_nan()),
            }
        }
        s.reset();
        assert_eq!(s.update(1.0), None);
    }

    #[test]
    fn ema_seed_is_sma_then_recurrence() {
        let xs = [2.0, 4.0, 6.0, 8.0, 10.0];
        let v = ema(&xs, 3).unwrap();
        assert!(v[0].is_nan() && v[1].is_nan());
        assert_eq!(v[2], 4.0);
        assert!(close(v[3], (8.0 - 4.0) * 0.5 + 4.0));
        assert!(close(v[4], (10.0 - 6.0) * 0.5 + 6.0));
        let mut e = Ema::new(3).unwrap();
        assert_eq!(e.lookback(), 2);
        e.update(1.0);
        e.reset();
        assert_eq!(e.update(2.0), None);
        assert!(Ema::new(0).is_err());
    }

    #[test]
    fn wma_matches_definition() {
        let xs: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64 - 3.5).collect();
        let n = 5;
        let v = wma(&xs, n).unwrap();
        for t in 0..xs.len() {
            if t + 1 < n {
                assert!(v[t].is_nan());
                continue;
            }
            let num: f64 = (0..n).map(|j| xs[t + 1 - n + j] * (j + 1) as f64).sum();
            assert!(close(v[t], num / 15.0), "t={t}: {} vs {}", v[t], num / 15.0);
        }
        let mut w = Wma::new(n).unwrap();
        assert_eq!(w.lookback(), 4);
        for &x in &xs[..7] {
            w.update(x);
        }
        w.reset();
        assert_eq!(w.update(1.0), None);
    }

    #[test]
    fn smoother_period_one_is_identity() {
        let mut s = Smoother::new(MaKind::Ema, 1);
        assert_eq!(s.update(0.1), Some(0.1));
        let mut s = Smoother::new(MaKind::Sma, 2);
        assert_eq!(s.update(1.0), None);
        assert_eq!(s.update(3.0), Some(2.0));
        s.reset();
        assert_eq!(s.update(1.0), None);
        let mut e = EmaCore::seeded(3, 10.0);
        assert_eq!(e.update(12.0), Some(11.0));
    }
}
