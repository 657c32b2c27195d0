//! Trend indicators: Wilder's directional movement system exactly as TA-Lib computes it
//! (`PLUS_DI`, `MINUS_DI`, `ADX`) and the ATR-based Supertrend.

use serde::{Deserialize, Serialize};

use super::common::{IndicatorError, OhlcvBar, check_hlc, check_non_negative, check_period, ta_is_zero};
use super::volatility::{Atr, true_range};

/// One directional-movement output. +DI and −DI start at bar `period`, ADX at bar
/// `2 * period - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DmiOutput {
    /// +DI (TA-Lib `PLUS_DI`).
    pub plus_di: Option<f64>,
    /// −DI (TA-Lib `MINUS_DI`).
    pub minus_di: Option<f64>,
    /// ADX (TA-Lib `ADX`).
    pub adx: Option<f64>,
}

/// Batch directional-movement outputs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DmiSeries {
    /// +DI.
    pub plus_di: Vec<f64>,
    /// −DI.
    pub minus_di: Vec<f64>,
    /// ADX.
    pub adx: Vec<f64>,
}

/// Streaming +DI, −DI and ADX with TA-Lib's exact Wilder sums (unstable period 0).
///
/// * Bar t ≥ 1: `up = high - prev_high`, `down = prev_low - low`; +DM = `up` when
///   `up > 0 && up > down`, −DM = `down` when `down > 0 && down > up`; TR is the true range.
/// * Bars 1..period-1: +DM, −DM and TR are summed.
/// * From bar `period`: each sum becomes `sum - sum / period + today`, and
///   `±DI = 100 * ±DM_sum / TR_sum` (0 when the TR sum is within 1e-14 of zero).
/// * DX = `100 * |−DI − +DI| / (−DI + +DI)`; the first ADX (bar `2 * period - 1`) is the
///   mean of the DX of bars `period..=2*period-1`, then `adx = (adx * (period - 1) + dx) /
///   period`. A bar whose TR sum or DI sum is zero leaves the ADX unchanged, as in TA-Lib.
#[derive(Debug, Clone)]
pub struct Dmi {
    period: usize,
    period_f: f64,
    period_m1: f64,
    seen: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    sum_dx: f64,
    adx: f64,
}

impl Dmi {
    /// A new directional-movement system, period 2..=100000 (TA-Lib's period-1 variant of
    /// ±DI, a raw ratio without the factor 100, is not offered).
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("dmi", "period", period, 2)?;
        Ok(Self {
            period,
            period_f: period as f64,
            period_m1: (period - 1) as f64,
            seen: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            sum_dx: 0.0,
            adx: 0.0,
        })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> DmiOutput {
        let seen = self.seen;
        self.seen = seen.saturating_add(1);
        if seen == 0 {
            self.prev_high = bar.high;
            self.prev_low = bar.low;
            self.prev_close = bar.close;
            return DmiOutput::default();
        }
        let diff_p = bar.high - self.prev_high;
        self.prev_high = bar.high;
        let diff_m = self.prev_low - bar.low;
        self.prev_low = bar.low;
        let tr = true_range(bar.high, bar.low, self.prev_close);
        self.prev_close = bar.close;
        if seen < self.period {
            if diff_m > 0.0 && diff_p < diff_m {
                self.minus_dm += diff_m;
            } else if diff_p > 0.0 && diff_p > diff_m {
                self.plus_dm += diff_p;
            }
            self.tr += tr;
            return DmiOutput::default();
        }
        self.minus_dm -= self.minus_dm / self.period_f;
        self.plus_dm -= self.plus_dm / self.period_f;
        if diff_m > 0.0 && diff_p < diff_m {
            self.minus_dm += diff_m;
        } else if diff_p > 0.0 && diff_p > diff_m {
            self.plus_dm += diff_p;
        }
        self.tr = self.tr - (self.tr / self.period_f) + tr;

        let tr_zero = ta_is_zero(self.tr);
        let (minus_di, plus_di) =
            if tr_zero { (0.0, 0.0) } else { (100.0 * (self.minus_dm / self.tr), 100.0 * (self.plus_dm / self.tr)) };
        let di_sum = minus_di + plus_di;
        let dx = (!tr_zero && !ta_is_zero(di_sum)).then(|| 100.0 * ((minus_di - plus_di).abs() / di_sum));

        let first_adx_bar = 2 * self.period - 1;
        let adx = if seen < first_adx_bar {
            if let Some(dx) = dx {
                self.sum_dx += dx;
            }
            None
        } else if seen == first_adx_bar {
            if let Some(dx) = dx {
                self.sum_dx += dx;
            }
            self.adx = self.sum_dx / self.period_f;
            Some(self.adx)
        } else {
            if let Some(dx) = dx {
                self.adx = ((self.adx * self.period_m1) + dx) / self.period_f;
            }
            Some(self.adx)
        };
        DmiOutput { plus_di: Some(plus_di), minus_di: Some(minus_di), adx }
    }

    /// Leading bars without ±DI: `period`.
    pub fn di_lookback(&self) -> usize {
        self.period
    }

    /// Leading bars without ADX: `2 * period - 1`.
    pub fn adx_lookback(&self) -> usize {
        2 * self.period - 1
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        let period = self.period;
        *self = Self {
            period,
            period_f: period as f64,
            period_m1: (period - 1) as f64,
            seen: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            sum_dx: 0.0,
            adx: 0.0,
        };
    }
}

/// Batch +DI, −DI and ADX in one pass.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn dmi(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<DmiSeries, IndicatorError> {
    check_hlc("dmi", high, low, close)?;
    let mut s = Dmi::new(period)?;
    let n = close.len();
    let mut out =
        DmiSeries { plus_di: Vec::with_capacity(n), minus_di: Vec::with_capacity(n), adx: Vec::with_capacity(n) };
    for i in 0..n {
        let o = s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0));
        out.plus_di.push(o.plus_di.unwrap_or(f64::NAN));
        out.minus_di.push(o.minus_di.unwrap_or(f64::NAN));
        out.adx.push(o.adx.unwrap_or(f64::NAN));
    }
    Ok(out)
}

/// Batch ADX (TA-Lib `ADX`), lookback `2 * period - 1`.
///
/// # Errors
/// As for [`dmi`].
pub fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    Ok(dmi(high, low, close, period)?.adx)
}

/// Batch +DI (TA-Lib `PLUS_DI`), lookback `period`.
///
/// # Errors
/// As for [`dmi`].
pub fn plus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    Ok(dmi(high, low, close, period)?.plus_di)
}

/// Batch −DI (TA-Lib `MINUS_DI`), lookback `period`.
///
/// # Errors
/// As for [`dmi`].
pub fn minus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    Ok(dmi(high, low, close, period)?.minus_di)
}

/// Streaming ADX alone (see [`Dmi`]).
#[derive(Debug, Clone)]
pub struct Adx(Dmi);

impl Adx {
    /// A new ADX, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Ok(Self(Dmi::new(period).map_err(|e| rename(e, "adx"))?))
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        self.0.update(bar).adx
    }

    /// Number of leading bars without output: `2 * period - 1`.
    pub fn lookback(&self) -> usize {
        self.0.adx_lookback()
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.0.reset();
    }
}

/// Streaming +DI alone (see [`Dmi`]).
#[derive(Debug, Clone)]
pub struct PlusDi(Dmi);

impl PlusDi {
    /// A new +DI, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Ok(Self(Dmi::new(period).map_err(|e| rename(e, "plus_di"))?))
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        self.0.update(bar).plus_di
    }

    /// Number of leading bars without output: `period`.
    pub fn lookback(&self) -> usize {
        self.0.di_lookback()
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.0.reset();
    }
}

/// Streaming −DI alone (see [`Dmi`]).
#[derive(Debug, Clone)]
pub struct MinusDi(Dmi);

impl MinusDi {
    /// A new −DI, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Ok(Self(Dmi::new(period).map_err(|e| rename(e, "minus_di"))?))
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        self.0.update(bar).minus_di
    }

    /// Number of leading bars without output: `period`.
    pub fn lookback(&self) -> usize {
        self.0.di_lookback()
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.0.reset();
    }
}

/// The same range error, attributed to `indicator`.
pub(crate) fn rename(e: IndicatorError, indicator: &'static str) -> IndicatorError {
    match e {
        IndicatorError::PeriodOutOfRange { param, value, min, max, .. } => {
            IndicatorError::PeriodOutOfRange { indicator, param, value, min, max }
        }
        other => other,
    }
}

/// One Supertrend output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SupertrendOutput {
    /// The Supertrend line: the lower band in an uptrend, the upper band in a downtrend.
    pub value: f64,
    /// +1 in an uptrend (line below price), -1 in a downtrend (line above price).
    pub direction: i8,
}

/// Batch Supertrend outputs (`direction` as +1.0 / -1.0, `NaN` over the lookback).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SupertrendSeries {
    /// Supertrend line.
    pub value: Vec<f64>,
    /// Trend direction.
    pub direction: Vec<f64>,
}

/// Streaming Supertrend, the standard ATR band-flip rule.
///
/// With `atr` = TA-Lib `ATR(period)` (Wilder) and `hl2 = (high + low) / 2`:
/// * basic bands: `up = hl2 - k * atr`, `dn = hl2 + k * atr`;
/// * the lower band only rises while the previous close stays above it:
///   `up = max(up, up_prev)` if `close_prev > up_prev`; the upper band only falls while the
///   previous close stays below it: `dn = min(dn, dn_prev)` if `close_prev < dn_prev`;
/// * the trend starts up at the first bar with an ATR, turns down when the close falls
///   below the previous lower band and turns up when it rises above the previous upper
///   band (at the first bar the "previous" bands are that bar's basic bands);
/// * the line is the lower band in an uptrend and the upper band in a downtrend.
///
/// Output starts at bar `period` (the ATR's lookback). Works unchanged on negative prices.
#[derive(Debug, Clone)]
pub struct Supertrend {
    atr: Atr,
    k: f64,
    prev_close: Option<f64>,
    bands: Option<(f64, f64)>,
    direction: i8,
}

impl Supertrend {
    /// A new Supertrend: ATR `period` 1..=100000, multiplier `k` finite and >= 0.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] or [`IndicatorError::BadMultiplier`].
    pub fn new(period: usize, k: f64) -> Result<Self, IndicatorError> {
        check_period("supertrend", "period", period, 1)?;
        check_non_negative("supertrend", "k", k)?;
        Ok(Self { atr: Atr::new(period)?, k, prev_close: None, bands: None, direction: 1 })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<SupertrendOutput> {
        let prev_close = self.prev_close.replace(bar.close);
        let atr = self.atr.update(bar)?;
        let hl2 = (bar.high + bar.low) / 2.0;
        let mut up = hl2 - self.k * atr;
        let mut dn = hl2 + self.k * atr;
        let (up1, dn1) = match (self.bands, prev_close) {
            (Some((up_prev, dn_prev)), Some(pc)) => {
                if pc > up_prev {
                    up = up.max(up_prev);
                }
                if pc < dn_prev {
                    dn = dn.min(dn_prev);
                }
                (up_prev, dn_prev)
            }
            _ => (up, dn),
        };
        if self.direction == -1 && bar.close > dn1 {
            self.direction = 1;
        } else if self.direction == 1 && bar.close < up1 {
            self.direction = -1;
        }
        self.bands = Some((up, dn));
        let value = if self.direction == 1 { up } else { dn };
        Some(SupertrendOutput { value, direction: self.direction })
    }

    /// Number of leading bars without output: the ATR period.
    pub fn lookback(&self) -> usize {
        self.atr.lookback()
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.atr.reset();
        self.prev_close = None;
        self.bands = None;
        self.direction = 1;
    }
}

/// Batch Supertrend.
///
/// # Errors
/// As for [`Supertrend::new`]; [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn supertrend(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    k: f64,
) -> Result<SupertrendSeries, IndicatorError> {
    check_hlc("supertrend", high, low, close)?;
    let mut s = Supertrend::new(period, k)?;
    let n = close.len();
    let mut out = SupertrendSeries { value: Vec::with_capacity(n), direction: Vec::with_capacity(n) };
    for i in 0..n {
        let o = s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0));
        out.value.push(o.map_or(f64::NAN, |o| o.value));
        out.direction.push(o.map_or(f64::NAN, |o| f64::from(o.direction)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmi_lookbacks() {
        let h: Vec<f64> = (0..40).map(|i| 10.0 + (i as f64 * 0.5).sin() * 3.0).collect();
        let l: Vec<f64> = h.iter().map(|x| x - 1.0).collect();
        let c: Vec<f64> = h.iter().map(|x| x - 0.4).collect();
        let d = dmi(&h, &l, &c, 5).unwrap();
        assert!(d.plus_di[4].is_nan() && !d.plus_di[5].is_nan());
        assert!(d.adx[8].is_nan() && !d.adx[9].is_nan());
        assert_eq!(adx(&h, &l, &c, 5).unwrap().len(), 40);
        assert_eq!(plus_di(&h, &l, &c, 5).unwrap()[5].to_bits(), d.plus_di[5].to_bits());
        assert_eq!(minus_di(&h, &l, &c, 5).unwrap()[5].to_bits(), d.minus_di[5].to_bits());
        let mut a = Adx::new(5).unwrap();
        assert_eq!(a.lookback(), 9);
        let mut p = PlusDi::new(5).unwrap();
        let mut m = MinusDi::new(5).unwrap();
        assert_eq!((p.lookback(), m.lookback()), (5, 5));
        for i in 0..40 {
            let bar = OhlcvBar::new(c[i], h[i], l[i], c[i], 0.0);
            let want = |v: f64| if v.is_nan() { None } else { Some(v) };
            assert_eq!(a.update(&bar), want(d.adx[i]));
            assert_eq!(p.update(&bar), want(d.plus_di[i]));
            assert_eq!(m.update(&bar), want(d.minus_di[i]));
        }
        a.reset();
        p.reset();
        m.reset();
        assert_eq!(a.update(&OhlcvBar::default()), None);
        let err = Adx::new(1).unwrap_err();
        assert!(err.to_string().starts_with("adx:"), "{err}");
        assert!(PlusDi::new(1).is_err() && MinusDi::new(1).is_err());
    }

    #[test]
    fn dmi_flat_market_gives_zero_di_and_no_adx_change() {
        let f = vec![5.0; 30];
        let d = dmi(&f, &f, &f, 4).unwrap();
        assert!(d.plus_di[4..].iter().all(|&v| v == 0.0));
        assert!(d.adx[7..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn supertrend_flips_on_a_crash_through_zero() {
        let c: Vec<f64> =
            (0..60).map(|i| if i < 30 { 20.0 + i as f64 * 0.5 } else { 35.0 - (i - 30) as f64 * 3.0 }).collect();
        let h: Vec<f64> = c.iter().map(|x| x + 1.0).collect();
        let l: Vec<f64> = c.iter().map(|x| x - 1.0).collect();
        let s = supertrend(&h, &l, &c, 5, 2.0).unwrap();
        assert!(s.value[4].is_nan() && !s.value[5].is_nan());
        assert_eq!(s.direction[20], 1.0);
        assert!(s.value[20] < c[20]);
        assert_eq!(s.direction[59], -1.0);
        assert!(c[59] < 0.0 && s.value[59] > c[59]);
        assert!(Supertrend::new(0, 3.0).is_err() && Supertrend::new(10, -3.0).is_err());
        let mut st = Supertrend::new(2, 1.0).unwrap();
        assert_eq!(st.lookback(), 2);
        st.update(&OhlcvBar::default());
        st.reset();
        assert_eq!(st.update(&OhlcvBar::default()), None);
    }
}
