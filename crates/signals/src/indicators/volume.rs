//! Volume indicators: on-balance volume (TA-Lib `OBV`), money flow index (TA-Lib `MFI`)
//! and the session-anchored VWAP.

use super::common::{IndicatorError, OhlcvBar, TA_EPSILON, check_hlc, check_len, check_period, collect_stream};

/// Streaming on-balance volume (TA-Lib `OBV`): starts at the first bar's volume, then adds
/// the volume on an up close, subtracts it on a down close, keeps it on an unchanged
/// close. Lookback 0.
#[derive(Debug, Clone, Default)]
pub struct Obv {
    state: Option<(f64, f64)>,
}

impl Obv {
    /// A new OBV.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next bar (uses close and volume). Always has a value.
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        let obv = match self.state {
            None => bar.volume,
            Some((prev_close, obv)) => {
                if bar.close > prev_close {
                    obv + bar.volume
                } else if bar.close < prev_close {
                    obv - bar.volume
                } else {
                    obv
                }
            }
        };
        self.state = Some((bar.close, obv));
        Some(obv)
    }

    /// Number of leading bars without output: 0.
    pub fn lookback(&self) -> usize {
        0
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.state = None;
    }
}

/// Batch OBV (TA-Lib `OBV`).
///
/// # Errors
/// [`IndicatorError::LengthMismatch`] when close and volume differ in length.
pub fn obv(close: &[f64], volume: &[f64]) -> Result<Vec<f64>, IndicatorError> {
    check_len("obv", ("close", close), ("volume", volume))?;
    let mut s = Obv::new();
    Ok(collect_stream(close.len(), |i| s.update(&OhlcvBar::new(close[i], close[i], close[i], close[i], volume[i]))))
}

/// Streaming money flow index (TA-Lib `MFI`, 0.8 rules). Lookback `period`.
///
/// Typical price `tp = (high + low + close) / 3`; the bar's money flow `tp * volume` counts
/// as positive when `tp` rose from the previous bar and negative when it fell. A change
/// within `1e-14 * (|tp| + |tp_prev|)` counts as no change (no flow), so rounding in the
/// typical price never fakes a move. MFI = `100 * positive / (positive + negative)` over
/// the last `period` bars, the positive sum clamped into `[0, total]`, and 0 when the
/// total is not above 0. After `period` consecutive bars without flow both sums are reset
/// to exactly 0.
///
/// With negative prices the money flows are negative numbers; the value is still TA-Lib's
/// (0 when the total flow is not positive).
#[derive(Debug, Clone)]
pub struct Mfi {
    period: usize,
    flows: Vec<(f64, f64)>,
    slot: usize,
    seen: usize,
    prev_tp: f64,
    pos_sum: f64,
    neg_sum: f64,
    null_run: usize,
}

impl Mfi {
    /// A new MFI, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("mfi", "period", period, 2)?;
        Ok(Self {
            period,
            flows: vec![(0.0, 0.0); period],
            slot: 0,
            seen: 0,
            prev_tp: 0.0,
            pos_sum: 0.0,
            neg_sum: 0.0,
            null_run: 0,
        })
    }

    /// Feed the next bar (uses high, low, close and volume).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        let tp = (bar.high + bar.low + bar.close) / 3.0;
        let seen = self.seen;
        self.seen = seen.saturating_add(1);
        if seen == 0 {
            self.prev_tp = tp;
            return None;
        }
        if seen > self.period {
            let (p, n) = self.flows[self.slot];
            self.pos_sum -= p;
            self.neg_sum -= n;
        }
        let change = tp - self.prev_tp;
        let scale = tp.abs() + self.prev_tp.abs();
        self.prev_tp = tp;
        let flow = tp * bar.volume;
        let money_flow = if change.abs() <= TA_EPSILON * scale { 0.0 } else { flow };
        let (pos, neg) = if change < 0.0 { (0.0, money_flow) } else { (money_flow, 0.0) };
        self.flows[self.slot] = (pos, neg);
        self.pos_sum += pos;
        self.neg_sum += neg;
        self.null_run = if money_flow == 0.0 { self.null_run + 1 } else { 0 };
        if self.null_run >= self.period {
            self.null_run = self.period;
            self.pos_sum = 0.0;
            self.neg_sum = 0.0;
        }
        self.slot = if self.slot + 1 == self.period { 0 } else { self.slot + 1 };
        if seen < self.period {
            return None;
        }
        let total = self.pos_sum + self.neg_sum;
        let pos_clamped = if self.pos_sum < 0.0 { 0.0 } else { self.pos_sum.min(total) };
        Some(if total <= 0.0 { 0.0 } else { 100.0 * (pos_clamped / total) })
    }

    /// Number of leading bars without output: `period`.
    pub fn lookback(&self) -> usize {
        self.period
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.flows.iter_mut().for_each(|f| *f = (0.0, 0.0));
        self.slot = 0;
        self.seen = 0;
        self.prev_tp = 0.0;
        self.pos_sum = 0.0;
        self.neg_sum = 0.0;
        self.null_run = 0;
    }
}

/// Batch MFI (TA-Lib `MFI`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn mfi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_hlc("mfi", high, low, close)?;
    check_len("mfi", ("close", close), ("volume", volume))?;
    let mut s = Mfi::new(period)?;
    Ok(collect_stream(close.len(), |i| s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], volume[i]))))
}

/// Streaming session-anchored VWAP: the volume-weighted mean of the typical price
/// `(high + low + close) / 3` since the start of the current session,
/// `Σ tp·volume / Σ volume`. The sums reset whenever the session id differs from the
/// previous bar's. No value while the session has traded no volume yet.
///
/// The session id is any integer that changes exactly when the session changes (for CL
/// futures, the CME trading date, which rolls at 17:00 Chicago time; for daily bars every
/// bar is its own session and the VWAP equals the typical price).
#[derive(Debug, Clone, Default)]
pub struct Vwap {
    session: Option<i64>,
    pv: f64,
    volume: f64,
}

impl Vwap {
    /// A new VWAP.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next bar (uses high, low, close and volume) with its session id.
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar, session: i64) -> Option<f64> {
        if self.session != Some(session) {
            self.session = Some(session);
            self.pv = 0.0;
            self.volume = 0.0;
        }
        let tp = (bar.high + bar.low + bar.close) / 3.0;
        self.pv += tp * bar.volume;
        self.volume += bar.volume;
        (self.volume > 0.0).then(|| self.pv / self.volume)
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Batch session-anchored VWAP.
///
/// # Errors
/// [`IndicatorError::LengthMismatch`] when the series (or the session ids) differ in length.
pub fn vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    session: &[i64],
) -> Result<Vec<f64>, IndicatorError> {
    check_hlc("vwap", high, low, close)?;
    check_len("vwap", ("close", close), ("volume", volume))?;
    if session.len() != close.len() {
        return Err(IndicatorError::LengthMismatch {
            indicator: "vwap",
            series: "session",
            found: session.len(),
            reference: "close",
            expected: close.len(),
        });
    }
    let mut s = Vwap::new();
    Ok(collect_stream(close.len(), |i| {
        s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], volume[i]), session[i])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obv_follows_close_direction() {
        let v = obv(&[1.0, 2.0, 2.0, 1.0], &[10.0, 5.0, 7.0, 3.0]).unwrap();
        assert_eq!(v, vec![10.0, 15.0, 15.0, 12.0]);
        assert!(obv(&[1.0], &[]).is_err());
        let mut o = Obv::new();
        assert_eq!(o.lookback(), 0);
        o.update(&OhlcvBar::new(1.0, 1.0, 1.0, 1.0, 4.0));
        o.reset();
        assert_eq!(o.update(&OhlcvBar::new(1.0, 1.0, 1.0, 1.0, 4.0)), Some(4.0));
    }

    #[test]
    fn mfi_all_rising_is_100() {
        let c: Vec<f64> = (0..10).map(|i| 10.0 + i as f64).collect();
        let v = vec![100.0; 10];
        let m = mfi(&c, &c, &c, &v, 3).unwrap();
        assert!(m[..3].iter().all(|x| x.is_nan()));
        assert!(m[3..].iter().all(|&x| x == 100.0));
        assert!(mfi(&c, &c, &c, &v[..2], 3).is_err());
        let mut s = Mfi::new(3).unwrap();
        assert_eq!(s.lookback(), 3);
        s.update(&OhlcvBar::new(1.0, 1.0, 1.0, 1.0, 4.0));
        s.reset();
        assert_eq!(s.update(&OhlcvBar::new(1.0, 1.0, 1.0, 1.0, 4.0)), None);
    }

    #[test]
    fn vwap_resets_each_session_and_waits_for_volume() {
        let h = [2.0, 4.0, 6.0, 8.0];
        let l = [2.0, 4.0, 6.0, 8.0];
        let c = [2.0, 4.0, 6.0, 8.0];
        let v = [0.0, 1.0, 3.0, 1.0];
        let w = vwap(&h, &l, &c, &v, &[1, 1, 1, 2]).unwrap();
        assert!(w[0].is_nan());
        assert_eq!(w[1], 4.0);
        assert_eq!(w[2], (4.0 + 18.0) / 4.0);
        assert_eq!(w[3], 8.0);
        assert!(vwap(&h, &l, &c, &v, &[1, 1]).is_err());
        let mut s = Vwap::new();
        s.update(&OhlcvBar::new(1.0, 1.0, 1.0, 1.0, 1.0), 7);
        s.reset();
        assert_eq!(s.update(&OhlcvBar::new(3.0, 3.0, 3.0, 3.0, 2.0), 7), Some(3.0));
    }
}
