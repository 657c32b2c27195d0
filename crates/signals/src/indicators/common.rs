//! Shared pieces of the indicator library: the error type, parameter checks, TA-Lib's
//! zero tests, the per-bar input type and the batch OHLCV input series.

use crude_model::Bar;
use thiserror::Error;

/// Largest period any indicator accepts (TA-Lib's own upper bound for every period).
pub const MAX_PERIOD: usize = 100_000;

/// TA-Lib's `TA_EPSILON`: a denominator whose magnitude is below this counts as zero.
pub(crate) const TA_EPSILON: f64 = 0.000_000_000_000_01;

/// TA-Lib's `TA_IS_ZERO`: true when `v` lies strictly inside (-1e-14, 1e-14).
#[inline(always)]
pub(crate) fn ta_is_zero(v: f64) -> bool {
    -TA_EPSILON < v && v < TA_EPSILON
}

/// TA-Lib's `TA_IS_ZERO_OR_NEG`: true when `v` is below 1e-14.
#[inline(always)]
pub(crate) fn ta_is_zero_or_neg(v: f64) -> bool {
    v < TA_EPSILON
}

/// An error from building or running an indicator. Every variant names the indicator and
/// the parameter or input at fault.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IndicatorError {
    /// A period (window length) outside the accepted range.
    #[error("{indicator}: {param} = {value} is out of range; use a whole number from {min} to {max}")]
    PeriodOutOfRange {
        /// Indicator name, e.g. `rsi`.
        indicator: &'static str,
        /// Parameter name, e.g. `period`.
        param: &'static str,
        /// The value given.
        value: usize,
        /// Smallest accepted value.
        min: usize,
        /// Largest accepted value.
        max: usize,
    },
    /// A multiplier that is NaN or infinite, or negative where it must not be.
    #[error("{indicator}: {param} = {value} is not accepted; {requirement}")]
    BadMultiplier {
        /// Indicator name.
        indicator: &'static str,
        /// Parameter name, e.g. `k`.
        param: &'static str,
        /// The value given.
        value: f64,
        /// What the value must be.
        requirement: &'static str,
    },
    /// Two input series of different lengths.
    #[error(
        "{indicator}: input `{series}` has {found} values but `{reference}` has {expected}; pass series of equal length"
    )]
    LengthMismatch {
        /// Indicator (or container) name.
        indicator: &'static str,
        /// The series whose length differs.
        series: &'static str,
        /// Its length.
        found: usize,
        /// The series it was compared with.
        reference: &'static str,
        /// That series' length.
        expected: usize,
    },
    /// The indicator needs an input the series does not carry (e.g. high/low or volume).
    #[error("{indicator}: needs {input}, which the input series does not have")]
    MissingInput {
        /// Indicator name.
        indicator: &'static str,
        /// The missing input, e.g. `high and low`.
        input: &'static str,
    },
}

/// Check a period against `[min, MAX_PERIOD]`.
pub(crate) fn check_period(
    indicator: &'static str,
    param: &'static str,
    value: usize,
    min: usize,
) -> Result<usize, IndicatorError> {
    if value < min || value > MAX_PERIOD {
        return Err(IndicatorError::PeriodOutOfRange { indicator, param, value, min, max: MAX_PERIOD });
    }
    Ok(value)
}

/// Check that a band multiplier is finite (TA-Lib accepts any finite value, negative included).
pub(crate) fn check_finite(indicator: &'static str, param: &'static str, value: f64) -> Result<f64, IndicatorError> {
    if !value.is_finite() {
        return Err(IndicatorError::BadMultiplier { indicator, param, value, requirement: "use a finite number" });
    }
    Ok(value)
}

/// Check that a multiplier is finite and not negative.
pub(crate) fn check_non_negative(
    indicator: &'static str,
    param: &'static str,
    value: f64,
) -> Result<f64, IndicatorError> {
    if !value.is_finite() || value < 0.0 {
        return Err(IndicatorError::BadMultiplier { indicator, param, value, requirement: "use a finite number >= 0" });
    }
    Ok(value)
}

/// Check that `series` has the same length as `reference`.
pub(crate) fn check_len(
    indicator: &'static str,
    reference: (&'static str, &[f64]),
    series: (&'static str, &[f64]),
) -> Result<(), IndicatorError> {
    if reference.1.len() != series.1.len() {
        return Err(IndicatorError::LengthMismatch {
            indicator,
            series: series.0,
            found: series.1.len(),
            reference: reference.0,
            expected: reference.1.len(),
        });
    }
    Ok(())
}

/// Check that an output buffer has the input's length.
pub(crate) fn check_out_len(indicator: &'static str, values: &[f64], out: &[f64]) -> Result<(), IndicatorError> {
    check_len(indicator, ("values", values), ("out", out))
}

/// Check high, low and close (and optionally volume) for equal lengths.
pub(crate) fn check_hlc(
    indicator: &'static str,
    high: &[f64],
    low: &[f64],
    close: &[f64],
) -> Result<(), IndicatorError> {
    check_len(indicator, ("close", close), ("high", high))?;
    check_len(indicator, ("close", close), ("low", low))
}

/// Run a streaming update over `n` bars and collect the outputs, `NaN` where it has none.
#[inline]
pub(crate) fn collect_stream<F: FnMut(usize) -> Option<f64>>(n: usize, mut step: F) -> Vec<f64> {
    (0..n).map(|i| step(i).unwrap_or(f64::NAN)).collect()
}

/// One OHLCV bar as the streaming indicators take it. Prices may be negative; volume is a
/// count of contracts (or any non-negative amount) as `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct OhlcvBar {
    /// Open price.
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

impl OhlcvBar {
    /// A bar from its five fields.
    pub const fn new(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Self {
        Self { open, high, low, close, volume }
    }

    /// TA-Lib's typical price `(high + low + close) / 3`.
    #[inline(always)]
    pub fn typical_price(&self) -> f64 {
        (self.high + self.low + self.close) / 3.0
    }
}

impl From<&Bar> for OhlcvBar {
    fn from(bar: &Bar) -> Self {
        // u64 -> f64 is exact below 2^53 contracts, far beyond any real volume.
        Self { open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume as f64 }
    }
}

/// A batch OHLCV input: the close series plus whichever of open, high/low, volume and
/// per-bar session ids the data has, all of one length (checked when each is added).
///
/// Session ids drive the session-anchored VWAP: any integer that changes exactly when
/// the trading session changes (for example the trading date as days since an epoch).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OhlcvSeries {
    close: Vec<f64>,
    open: Option<Vec<f64>>,
    high_low: Option<(Vec<f64>, Vec<f64>)>,
    volume: Option<Vec<f64>>,
    session: Option<Vec<i64>>,
}

impl OhlcvSeries {
    /// A close-only series.
    pub fn from_close(close: Vec<f64>) -> Self {
        Self { close, ..Self::default() }
    }

    /// A full OHLCV series (no session ids).
    ///
    /// # Errors
    /// [`IndicatorError::LengthMismatch`] when any series differs in length from `close`.
    pub fn from_ohlcv(
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
    ) -> Result<Self, IndicatorError> {
        Self::from_close(close).with_open(open)?.with_high_low(high, low)?.with_volume(volume)
    }

    /// A series from model bars (no session ids; add them with [`OhlcvSeries::with_sessions`]).
    pub fn from_bars(bars: &[Bar]) -> Self {
        Self {
            close: bars.iter().map(|b| b.close).collect(),
            open: Some(bars.iter().map(|b| b.open).collect()),
            high_low: Some((bars.iter().map(|b| b.high).collect(), bars.iter().map(|b| b.low).collect())),
            volume: Some(bars.iter().map(|b| b.volume as f64).collect()),
            session: None,
        }
    }

    /// Add the open series.
    ///
    /// # Errors
    /// [`IndicatorError::LengthMismatch`] when its length differs from `close`.
    pub fn with_open(mut self, open: Vec<f64>) -> Result<Self, IndicatorError> {
        check_len("ohlcv series", ("close", &self.close), ("open", &open))?;
        self.open = Some(open);
        Ok(self)
    }

    /// Add the high and low series.
    ///
    /// # Errors
    /// [`IndicatorError::LengthMismatch`] when either length differs from `close`.
    pub fn with_high_low(mut self, high: Vec<f64>, low: Vec<f64>) -> Result<Self, IndicatorError> {
        check_hlc("ohlcv series", &high, &low, &self.close)?;
        self.high_low = Some((high, low));
        Ok(self)
    }

    /// Add the volume series.
    ///
    /// # Errors
    /// [`IndicatorError::LengthMismatch`] when its length differs from `close`.
    pub fn with_volume(mut self, volume: Vec<f64>) -> Result<Self, IndicatorError> {
        check_len("ohlcv series", ("close", &self.close), ("volume", &volume))?;
        self.volume = Some(volume);
        Ok(self)
    }

    /// Add per-bar session ids (for the session-anchored VWAP).
    ///
    /// # Errors
    /// [`IndicatorError::LengthMismatch`] when its length differs from `close`.
    pub fn with_sessions(mut self, session: Vec<i64>) -> Result<Self, IndicatorError> {
        if session.len() != self.close.len() {
            return Err(IndicatorError::LengthMismatch {
                indicator: "ohlcv series",
                series: "session",
                found: session.len(),
                reference: "close",
                expected: self.close.len(),
            });
        }
        self.session = Some(session);
        Ok(self)
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.close.len()
    }

    /// True when the series has no bars.
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }

    /// Close prices.
    pub fn close(&self) -> &[f64] {
        &self.close
    }

    /// Open prices, if present.
    pub fn open(&self) -> Option<&[f64]> {
        self.open.as_deref()
    }

    /// High prices, if present.
    pub fn high(&self) -> Option<&[f64]> {
        self.high_low.as_ref().map(|(h, _)| h.as_slice())
    }

    /// Low prices, if present.
    pub fn low(&self) -> Option<&[f64]> {
        self.high_low.as_ref().map(|(_, l)| l.as_slice())
    }

    /// Volumes, if present.
    pub fn volume(&self) -> Option<&[f64]> {
        self.volume.as_deref()
    }

    /// Session ids, if present.
    pub fn sessions(&self) -> Option<&[i64]> {
        self.session.as_deref()
    }

    /// High and low together, or [`IndicatorError::MissingInput`] naming `indicator`.
    pub(crate) fn need_high_low(&self, indicator: &'static str) -> Result<(&[f64], &[f64]), IndicatorError> {
        self.high_low
            .as_ref()
            .map(|(h, l)| (h.as_slice(), l.as_slice()))
            .ok_or(IndicatorError::MissingInput { indicator, input: "high and low" })
    }

    /// Volume, or [`IndicatorError::MissingInput`] naming `indicator`.
    pub(crate) fn need_volume(&self, indicator: &'static str) -> Result<&[f64], IndicatorError> {
        self.volume().ok_or(IndicatorError::MissingInput { indicator, input: "volume" })
    }

    /// Session ids, or [`IndicatorError::MissingInput`] naming `indicator`.
    pub(crate) fn need_sessions(&self, indicator: &'static str) -> Result<&[i64], IndicatorError> {
        self.sessions().ok_or(IndicatorError::MissingInput { indicator, input: "per-bar session ids" })
    }

    /// The bar at `i` (open falls back to close, high/low to close, volume to 0 when absent).
    pub fn bar(&self, i: usize) -> Option<OhlcvBar> {
        let close = *self.close.get(i)?;
        let open = self.open.as_ref().and_then(|o| o.get(i).copied()).unwrap_or(close);
        let (high, low) = match &self.high_low {
            Some((h, l)) => (h.get(i).copied().unwrap_or(close), l.get(i).copied().unwrap_or(close)),
            None => (close, close),
        };
        let volume = self.volume.as_ref().and_then(|v| v.get(i).copied()).unwrap_or(0.0);
        Some(OhlcvBar { open, high, low, close, volume })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ta_zero_tests_match_ta_lib_epsilon() {
        assert!(ta_is_zero(0.0));
        assert!(ta_is_zero(9e-15));
        assert!(ta_is_zero(-9e-15));
        assert!(!ta_is_zero(1e-14));
        assert!(!ta_is_zero(-1e-14));
        assert!(ta_is_zero_or_neg(-5.0));
        assert!(ta_is_zero_or_neg(9e-15));
        assert!(!ta_is_zero_or_neg(1e-14));
    }

    #[test]
    fn period_check_names_the_parameter() {
        let err = check_period("rsi", "period", 1, 2).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("rsi") && msg.contains("period = 1") && msg.contains("from 2 to 100000"), "{msg}");
        assert!(check_period("rsi", "period", MAX_PERIOD + 1, 2).is_err());
        assert_eq!(check_period("rsi", "period", 14, 2), Ok(14));
    }

    #[test]
    fn multiplier_checks() {
        assert!(check_finite("bbands", "k", f64::NAN).is_err());
        assert!(check_finite("bbands", "k", -2.0).is_ok());
        assert!(check_non_negative("keltner", "k", -1.0).is_err());
        assert!(check_non_negative("keltner", "k", f64::INFINITY).is_err());
        assert_eq!(check_non_negative("keltner", "k", 0.0), Ok(0.0));
    }

    #[test]
    fn series_rejects_mismatched_lengths() {
        let s = OhlcvSeries::from_close(vec![1.0, 2.0, 3.0]);
        let err = s.clone().with_high_low(vec![1.0, 2.0], vec![1.0, 2.0, 3.0]).unwrap_err();
        assert!(matches!(err, IndicatorError::LengthMismatch { series: "high", found: 2, expected: 3, .. }));
        assert!(s.clone().with_volume(vec![1.0]).is_err());
        assert!(s.clone().with_sessions(vec![1, 2, 3, 4]).is_err());
        assert!(s.clone().with_open(vec![]).is_err());
        let full = OhlcvSeries::from_ohlcv(
            vec![1.0, 2.0, 3.0],
            vec![2.0, 3.0, 4.0],
            vec![0.5, 1.5, 2.5],
            vec![1.5, 2.5, 3.5],
            vec![10.0, 20.0, 30.0],
        )
        .unwrap();
        assert_eq!(full.len(), 3);
        assert_eq!(full.bar(1), Some(OhlcvBar::new(2.0, 3.0, 1.5, 2.5, 20.0)));
        assert_eq!(full.bar(3), None);
        assert!(s.need_high_low("atr").is_err());
        assert!(s.need_volume("obv").is_err());
        assert!(s.need_sessions("vwap").is_err());
    }

    #[test]
    fn series_from_model_bars() {
        let bars = [
            Bar { start: crude_model::Timestamp(0), open: 1.0, high: 2.0, low: -1.0, close: -0.5, volume: 7 },
            Bar { start: crude_model::Timestamp(60), open: -0.5, high: 0.0, low: -2.0, close: -1.5, volume: 3 },
        ];
        let s = OhlcvSeries::from_bars(&bars);
        assert_eq!(s.close(), &[-0.5, -1.5]);
        assert_eq!(s.high(), Some(&[2.0, 0.0][..]));
        assert_eq!(s.low(), Some(&[-1.0, -2.0][..]));
        assert_eq!(s.volume(), Some(&[7.0, 3.0][..]));
        assert_eq!(OhlcvBar::from(&bars[0]), OhlcvBar::new(1.0, 2.0, -1.0, -0.5, 7.0));
    }
}
