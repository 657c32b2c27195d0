//! Volatility and channel indicators: Bollinger bands (TA-Lib `BBANDS`, SMA middle,
//! population standard deviation), true range, ATR and NATR (Wilder, TA-Lib seeding),
//! Donchian channels, Keltner channels and a rolling z-score.

use serde::{Deserialize, Serialize};

use super::common::{
    IndicatorError, OhlcvBar, check_finite, check_hlc, check_non_negative, check_period, collect_stream, ta_is_zero,
    ta_is_zero_or_neg,
};
use super::moving_average::{EmaCore, SmaCore};
use super::window::{Extreme, MonoDeque, RollingMoments};

/// One output of a three-line band indicator (Bollinger, Donchian, Keltner).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bands {
    /// Upper band.
    pub upper: f64,
    /// Middle line.
    pub middle: f64,
    /// Lower band.
    pub lower: f64,
}

/// Batch output of a band indicator, each the input's length with `NaN` over the lookback.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BandSeries {
    /// Upper band.
    pub upper: Vec<f64>,
    /// Middle line.
    pub middle: Vec<f64>,
    /// Lower band.
    pub lower: Vec<f64>,
}

impl BandSeries {
    fn with_capacity(n: usize) -> Self {
        Self { upper: Vec::with_capacity(n), middle: Vec::with_capacity(n), lower: Vec::with_capacity(n) }
    }

    fn push(&mut self, b: Option<Bands>) {
        self.upper.push(b.map_or(f64::NAN, |b| b.upper));
        self.middle.push(b.map_or(f64::NAN, |b| b.middle));
        self.lower.push(b.map_or(f64::NAN, |b| b.lower));
    }
}

/// Streaming Bollinger bands (TA-Lib `BBANDS` with `matype` SMA and equal up/down
/// deviations): middle = SMA(n) (TA-Lib's running sum), bands = middle ± k·σ with σ the
/// population standard deviation of the window, 0 when the variance is below 1e-14
/// (TA-Lib's rule). Lookback `period - 1`.
///
/// σ is computed precisely (shifted running sums refreshed every `period` bars, exact 0
/// for a flat window), as TA-Lib 0.8 does; the textbook `sqrt(mean(x²) - mean²)` of older
/// TA-Lib releases loses up to ~1e-5 to cancellation at oil-price levels.
#[derive(Debug, Clone)]
pub struct Bollinger {
    period: usize,
    k: f64,
    sma: SmaCore,
    moments: RollingMoments,
}

impl Bollinger {
    /// New bands over `period` (2..=100000) values at `k` standard deviations (finite).
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] or [`IndicatorError::BadMultiplier`].
    pub fn new(period: usize, k: f64) -> Result<Self, IndicatorError> {
        check_period("bbands", "period", period, 2)?;
        check_finite("bbands", "k", k)?;
        Ok(Self { period, k, sma: SmaCore::new(period), moments: RollingMoments::new(period) })
    }

    /// Feed the next value.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<Bands> {
        let middle = self.sma.update(value);
        let (_, var) = self.moments.push(value)?;
        let middle = middle?;
        let sd = if ta_is_zero_or_neg(var) { 0.0 } else { var.sqrt() };
        let dev = sd * self.k;
        Some(Bands { upper: middle + dev, middle, lower: middle - dev })
    }

    /// Number of leading values without output: `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.sma.reset();
        self.moments.clear();
    }
}

/// Batch Bollinger bands (TA-Lib `BBANDS(period, k, k, SMA)`).
///
/// # Errors
/// As for [`Bollinger::new`].
pub fn bollinger(values: &[f64], period: usize, k: f64) -> Result<BandSeries, IndicatorError> {
    let mut s = Bollinger::new(period, k)?;
    let mut out = BandSeries::with_capacity(values.len());
    for &x in values {
        out.push(s.update(x));
    }
    Ok(out)
}

/// True range as TA-Lib computes it: the largest of `high - low`, `|prev_close - high|`
/// and `|prev_close - low|`.
#[inline(always)]
pub fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let v2 = (prev_close - high).abs();
    if v2 > greatest {
        greatest = v2;
    }
    let v3 = (prev_close - low).abs();
    if v3 > greatest {
        greatest = v3;
    }
    greatest
}

/// Streaming average true range (TA-Lib `ATR`, Wilder smoothing, unstable period 0).
///
/// True ranges start at bar 1 (they need the previous close). The first ATR, at bar
/// `period`, is the plain mean of the first `period` true ranges (bars 1..=period); after
/// that `atr = (atr * (period - 1) + tr) / period`. Lookback `period`; period 1 gives the
/// true range itself, as TA-Lib does.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    period_f: f64,
    period_m1: f64,
    seen: usize,
    prev_close: f64,
    value: f64,
}

impl Atr {
    /// A new ATR, period 1..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("atr", "period", period, 1)?;
        Ok(Self {
            period,
            period_f: period as f64,
            period_m1: (period - 1) as f64,
            seen: 0,
            prev_close: 0.0,
            value: 0.0,
        })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        if self.seen == 0 {
            self.prev_close = bar.close;
            self.seen = 1;
            return None;
        }
        let tr = true_range(bar.high, bar.low, self.prev_close);
        self.prev_close = bar.close;
        if self.seen <= self.period {
            self.value += tr;
            self.seen += 1;
            if self.seen <= self.period {
                return None;
            }
            self.value /= self.period_f;
            return Some(self.value);
        }
        self.value *= self.period_m1;
        self.value += tr;
        self.value /= self.period_f;
        Some(self.value)
    }

    /// Number of leading bars without output: `period`.
    pub fn lookback(&self) -> usize {
        self.period
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.seen = 0;
        self.prev_close = 0.0;
        self.value = 0.0;
    }
}

/// Batch ATR (TA-Lib `ATR`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `1 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_hlc("atr", high, low, close)?;
    let mut s = Atr::new(period)?;
    Ok(collect_stream(close.len(), |i| s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0))))
}

/// Streaming normalised ATR (TA-Lib `NATR`): `ATR / close * 100`, 0 when the close is
/// within 1e-14 of zero. Lookback `period`.
///
/// The maths divides by the close, so the sign follows the price: with a negative close the
/// value is negative (its magnitude is still the ATR as a percentage of |close|).
/// Period 1 is rejected: TA-Lib returns the unnormalised true range there.
#[derive(Debug, Clone)]
pub struct Natr {
    atr: Atr,
}

impl Natr {
    /// A new NATR, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("natr", "period", period, 2)?;
        Ok(Self { atr: Atr::new(period)? })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        let a = self.atr.update(bar)?;
        Some(if ta_is_zero(bar.close) { 0.0 } else { (a / bar.close) * 100.0 })
    }

    /// Number of leading bars without output: `period`.
    pub fn lookback(&self) -> usize {
        self.atr.lookback()
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.atr.reset();
    }
}

/// Batch NATR (TA-Lib `NATR`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn natr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_hlc("natr", high, low, close)?;
    let mut s = Natr::new(period)?;
    Ok(collect_stream(close.len(), |i| s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0))))
}

/// Streaming Donchian channel: upper = highest high and lower = lowest low of the last
/// `period` bars including the current one (TA-Lib `MAX(high)` / `MIN(low)`), middle =
/// `(upper + lower) / 2`. Lookback `period - 1`; monotonic deques, amortised O(1).
#[derive(Debug, Clone)]
pub struct Donchian {
    period: usize,
    highs: MonoDeque,
    lows: MonoDeque,
}

impl Donchian {
    /// A new channel, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("donchian", "period", period, 2)?;
        Ok(Self { period, highs: MonoDeque::new(period, Extreme::Max), lows: MonoDeque::new(period, Extreme::Min) })
    }

    /// Feed the next bar (uses high and low).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<Bands> {
        let upper = self.highs.push(bar.high);
        let lower = self.lows.push(bar.low);
        if self.highs.pushed() < self.period as u64 {
            return None;
        }
        Some(Bands { upper, middle: (upper + lower) / 2.0, lower })
    }

    /// Number of leading bars without output: `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.highs.clear();
        self.lows.clear();
    }
}

/// Batch Donchian channel.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when high and low differ in length.
pub fn donchian(high: &[f64], low: &[f64], period: usize) -> Result<BandSeries, IndicatorError> {
    super::common::check_len("donchian", ("high", high), ("low", low))?;
    let mut s = Donchian::new(period)?;
    let mut out = BandSeries::with_capacity(high.len());
    for i in 0..high.len() {
        out.push(s.update(&OhlcvBar::new(high[i], high[i], low[i], high[i], 0.0)));
    }
    Ok(out)
}

/// Streaming Keltner channel: middle = EMA(close, `ema_period`) (TA-Lib `EMA`), bands =
/// middle ± k · ATR(`atr_period`) (TA-Lib `ATR`, Wilder). The default is one period for
/// both (`keltner_20_2` = EMA 20 ± 2 · ATR 20). Output starts once both exist: lookback
/// `max(ema_period - 1, atr_period)`.
#[derive(Debug, Clone)]
pub struct Keltner {
    ema: EmaCore,
    atr: Atr,
    k: f64,
    lookback: usize,
}

impl Keltner {
    /// A new channel: `ema_period` 2..=100000, `atr_period` 1..=100000, `k` finite and >= 0.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] or [`IndicatorError::BadMultiplier`].
    pub fn new(ema_period: usize, k: f64, atr_period: usize) -> Result<Self, IndicatorError> {
        check_period("keltner", "ema period", ema_period, 2)?;
        check_period("keltner", "atr period", atr_period, 1)?;
        check_non_negative("keltner", "k", k)?;
        Ok(Self {
            ema: EmaCore::new(ema_period),
            atr: Atr::new(atr_period)?,
            k,
            lookback: (ema_period - 1).max(atr_period),
        })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<Bands> {
        let middle = self.ema.update(bar.close);
        let atr = self.atr.update(bar);
        let (middle, atr) = (middle?, atr?);
        let width = self.k * atr;
        Some(Bands { upper: middle + width, middle, lower: middle - width })
    }

    /// Number of leading bars without output.
    pub fn lookback(&self) -> usize {
        self.lookback
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.ema.reset();
        self.atr.reset();
    }
}

/// Batch Keltner channel.
///
/// # Errors
/// As for [`Keltner::new`]; [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn keltner(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    ema_period: usize,
    k: f64,
    atr_period: usize,
) -> Result<BandSeries, IndicatorError> {
    check_hlc("keltner", high, low, close)?;
    let mut s = Keltner::new(ema_period, k, atr_period)?;
    let mut out = BandSeries::with_capacity(close.len());
    for i in 0..close.len() {
        out.push(s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0)));
    }
    Ok(out)
}

/// Streaming rolling z-score of the latest value against the last `period` values
/// (including it): `(x - mean) / σ` with σ the **population** standard deviation
/// (divisor `period`, like Bollinger bands). Lookback `period - 1`.
///
/// A window whose values are all identical has z = 0 (not NaN), as has a window whose
/// variance rounds to zero. The running sums are kept relative to a shift near the window
/// mean and recomputed exactly from the window every `period` bars, so the cost is
/// amortised O(1) and rounding does not accumulate.
#[derive(Debug, Clone)]
pub struct ZScore {
    period: usize,
    moments: RollingMoments,
}

impl ZScore {
    /// A new z-score, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("zscore", "period", period, 2)?;
        Ok(Self { period, moments: RollingMoments::new(period) })
    }

    /// Feed the next value.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        let (dev, var) = self.moments.push(value)?;
        Some(if var > 0.0 {
            dev / var.sqrt()
        } else if var.is_nan() {
            f64::NAN
        } else {
            0.0
        })
    }

    /// Number of leading values without output: `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.moments.clear();
    }
}

/// Batch rolling z-score (population σ; see [`ZScore`]).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`.
pub fn zscore(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    let mut s = ZScore::new(period)?;
    Ok(collect_stream(values.len(), |i| s.update(values[i])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bollinger_flat_has_zero_width() {
        let b = bollinger(&[3.0; 10], 5, 2.0).unwrap();
        assert!(b.upper[..4].iter().all(|x| x.is_nan()));
        assert_eq!(b.upper[4], 3.0);
        assert_eq!(b.lower[9], 3.0);
        assert!(Bollinger::new(1, 2.0).is_err());
        assert!(Bollinger::new(5, f64::NAN).is_err());
        let mut s = Bollinger::new(2, 1.0).unwrap();
        assert_eq!(s.lookback(), 1);
        s.update(1.0);
        let o = s.update(3.0).unwrap();
        assert_eq!((o.upper, o.middle, o.lower), (3.0, 2.0, 1.0));
        s.reset();
        assert_eq!(s.update(1.0), None);
    }

    #[test]
    fn true_range_uses_previous_close_gaps() {
        assert_eq!(true_range(10.0, 9.0, 9.5), 1.0);
        assert_eq!(true_range(10.0, 9.0, 12.0), 3.0);
        assert_eq!(true_range(-30.0, -40.0, -10.0), 30.0);
    }

    #[test]
    fn atr_seed_is_mean_of_first_true_ranges() {
        let h = [2.0, 3.0, 4.0, 6.0];
        let l = [1.0, 1.0, 2.0, 5.0];
        let c = [1.5, 2.0, 3.0, 5.5];
        let a = atr(&h, &l, &c, 2).unwrap();
        assert!(a[0].is_nan() && a[1].is_nan());
        assert_eq!(a[2], (2.0 + 2.0) / 2.0);
        assert_eq!(a[3], (2.0 * 1.0 + 3.0) / 2.0);
        let n = natr(&h, &l, &c, 2).unwrap();
        assert_eq!(n[3], (2.5 / 5.5) * 100.0);
        assert!(Natr::new(1).is_err());
        assert!(atr(&h, &l[..2], &c, 2).is_err());
        let mut s = Natr::new(2).unwrap();
        assert_eq!(s.lookback(), 2);
        s.update(&OhlcvBar::new(0.0, 1.0, 0.0, 0.5, 0.0));
        s.reset();
        assert_eq!(s.update(&OhlcvBar::new(0.0, 1.0, 0.0, 0.5, 0.0)), None);
    }

    #[test]
    fn donchian_and_keltner_basics() {
        let h = [1.0, 5.0, 2.0, 3.0];
        let l = [0.0, -1.0, 1.0, 2.0];
        let d = donchian(&h, &l, 2).unwrap();
        assert!(d.upper[0].is_nan());
        assert_eq!((d.upper[2], d.lower[2], d.middle[2]), (5.0, -1.0, 2.0));
        assert_eq!((d.upper[3], d.lower[3]), (3.0, 1.0));
        assert!(donchian(&h, &l[..1], 2).is_err());
        let k = Keltner::new(20, 2.0, 10).unwrap();
        assert_eq!(k.lookback(), 19);
        assert_eq!(Keltner::new(5, 2.0, 10).unwrap().lookback(), 10);
        assert!(Keltner::new(5, -1.0, 10).is_err());
        let c = [0.5, 2.0, 1.5, 2.5];
        let kc = keltner(&h, &l, &c, 2, 1.0, 1).unwrap();
        assert!(kc.middle[0].is_nan());
        let atr1 = true_range(5.0, -1.0, 0.5);
        assert_eq!(kc.upper[1], (0.5 + 2.0) / 2.0 + atr1);
    }

    #[test]
    fn zscore_flat_window_is_zero_and_matches_two_pass() {
        let xs: Vec<f64> = (0..200).map(|i| 100.0 + ((i * 31) % 17) as f64 * 0.01).collect();
        let z = zscore(&xs, 10).unwrap();
        for t in 9..xs.len() {
            let w = &xs[t - 9..=t];
            let mean = w.iter().sum::<f64>() / 10.0;
            let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 10.0;
            let want = if var == 0.0 { 0.0 } else { (xs[t] - mean) / var.sqrt() };
            assert!((z[t] - want).abs() <= 1e-9, "t={t} {} vs {want}", z[t]);
        }
        let flat = zscore(&[0.1; 30], 20).unwrap();
        assert!(flat[19..].iter().all(|&v| v == 0.0));
        let mut s = ZScore::new(3).unwrap();
        assert_eq!(s.lookback(), 2);
        s.update(1.0);
        s.reset();
        assert_eq!(s.update(1.0), None);
    }
}
