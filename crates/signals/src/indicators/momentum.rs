//! Momentum indicators with TA-Lib's exact definitions: RSI (Wilder smoothing, classic
//! seeding), MACD (TA-Lib's alignment of the fast EMA with the slow one), ROC, the
//! stochastic oscillator (STOCH), Williams %R and CCI.

use serde::{Deserialize, Serialize};

use super::common::{IndicatorError, OhlcvBar, check_hlc, check_out_len, check_period, collect_stream, ta_is_zero};
use super::moving_average::{EmaCore, MaKind, Smoother};
use super::window::{Extreme, MonoDeque, Ring};

/// RSI from Wilder's average gain and loss, as TA-Lib writes it: `100 * gain / (gain + loss)`,
/// or 0 when `gain + loss` is within 1e-14 of zero.
#[inline(always)]
fn rsi_value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    let r = 100.0 * (gain / total);
    if ta_is_zero(total) { 0.0 } else { r }
}

/// Streaming RSI (TA-Lib `RSI`, Wilder smoothing, classic seeding, unstable period 0).
///
/// The first output comes at bar `period` (lookback `period`): the average gain and loss
/// are the sums of the first `period` changes times `1 / period`; after that each is
/// `(previous * (period - 1) + today) * (1 / period)`, the exact expression TA-Lib 0.8
/// evaluates, so values equal TA-Lib's bit for bit.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    period_m1: f64,
    inv_period: f64,
    seen: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// A new RSI, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("rsi", "period", period, 2)?;
        Ok(Self {
            period,
            period_m1: (period - 1) as f64,
            inv_period: 1.0 / period as f64,
            seen: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        })
    }

    /// Feed the next value.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        if self.seen == 0 {
            self.prev = value;
            self.seen = 1;
            return None;
        }
        let diff = value - self.prev;
        self.prev = value;
        if self.seen <= self.period {
            if diff < 0.0 {
                self.loss -= diff;
            } else {
                self.gain += diff;
            }
            self.seen += 1;
            if self.seen <= self.period {
                return None;
            }
            self.loss *= self.inv_period;
            self.gain *= self.inv_period;
            return Some(rsi_value(self.gain, self.loss));
        }
        let (up, down) = gain_loss(diff);
        self.loss = (self.loss * self.period_m1 + down) * self.inv_period;
        self.gain = (self.gain * self.period_m1 + up) * self.inv_period;
        Some(rsi_value(self.gain, self.loss))
    }

    /// Number of leading values without output: `period`.
    pub fn lookback(&self) -> usize {
        self.period
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.seen = 0;
        self.prev = 0.0;
        self.gain = 0.0;
        self.loss = 0.0;
    }
}

/// A price change split into (gain, loss), both >= 0. Branch-free: the sign of a change is
/// a coin flip, so a branch would mispredict about every other bar. Adding the unused
/// side's +0.0 to a non-negative sum is exact, so this equals the branching form.
#[inline(always)]
fn gain_loss(diff: f64) -> (f64, f64) {
    let up = if diff < 0.0 { 0.0 } else { diff };
    let down = if diff < 0.0 { -diff } else { 0.0 };
    (up, down)
}

/// Batch RSI (TA-Lib `RSI`), `NaN` for the first `period` values.
///
/// See [`rsi_into`] for the method and to write into a buffer the caller reuses.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`.
pub fn rsi(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    // Zeroed allocation: fresh pages are mapped lazily, so the kernel's own writes are
    // the only pass over the output.
    let mut out = vec![0.0; values.len()];
    rsi_into(values, period, &mut out)?;
    Ok(out)
}

/// Wilder's averages after the first `period` changes ending at bar `end`: the plain means
/// of the gains and losses of `values[end - period ..= end]` (TA-Lib's seed).
#[inline]
fn rsi_seed(values: &[f64], end: usize, period: usize) -> (f64, f64) {
    let (mut gain, mut loss) = (0.0f64, 0.0f64);
    let window = &values[end - period..=end];
    for (&x, &prev) in window[1..].iter().zip(window) {
        let (up, down) = gain_loss(x - prev);
        gain += up;
        loss += down;
    }
    // TA-Lib 0.8 scales by the reciprocal here too (not a division).
    let inv_period = 1.0 / period as f64;
    (gain * inv_period, loss * inv_period)
}

/// One Wilder step of the (gain, loss) state on a price change; returns the RSI.
#[inline(always)]
fn rsi_step(state: &mut (f64, f64), diff: f64, period_m1: f64, inv_period: f64) -> f64 {
    let (up, down) = gain_loss(diff);
    state.1 = (state.1 * period_m1 + down) * inv_period;
    state.0 = (state.0 * period_m1 + up) * inv_period;
    rsi_value(state.0, state.1)
}

/// Steps after which Wilder's averages have forgotten their starting state: each step
/// scales a difference in state by `(period - 1) / period`, so after this many steps a
/// difference has shrunk by at least 2^-100.
fn rsi_forget_steps(period: usize) -> usize {
    let contraction = (period - 1) as f64 / period as f64;
    (100.0 * std::f64::consts::LN_2 / -contraction.ln()).ceil() as usize
}

/// Lanes of the batch RSI: independent stretches of the series computed in one loop.
const RSI_LANES: usize = 4;

/// Batch RSI into `out` (same length as `values`): no allocation, branch-free gain/loss
/// split, no bounds checks in the inner loop.
///
/// Every step is TA-Lib 0.8's expression `(avg * (period - 1) + change) * (1 / period)`.
/// A sequential pass is bound by that chain's latency, so on long series the bars are
/// split into four stretches computed in one interleaved (SIMD on x86-64) loop. Each
/// stretch after the first starts early from a fresh TA-Lib seed: Wilder's averages scale
/// any difference in state by `(period - 1) / period` per bar, and the head start (935
/// bars for period 14) shrinks it to 2^-100 of the price changes, far below one ulp
/// (tests hold the values to 1e-12 of the sequential ones; on 10 million random-walk bars
/// and on the reference fixtures they are bit-identical). Series shorter than about eight
/// head starts take the sequential path, bit-identical to TA-Lib.
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when `out` and `values` differ in length.
pub fn rsi_into(values: &[f64], period: usize, out: &mut [f64]) -> Result<(), IndicatorError> {
    check_period("rsi", "period", period, 2)?;
    check_out_len("rsi", values, out)?;
    if values.len() <= period {
        out.fill(f64::NAN);
        return Ok(());
    }
    let (head, tail) = out.split_at_mut(period);
    head.fill(f64::NAN);
    let period_m1 = (period - 1) as f64;
    let inv_period = 1.0 / period as f64;
    let seed = rsi_seed(values, period, period);
    let Some((first, rest)) = tail.split_first_mut() else {
        return Ok(());
    };
    *first = rsi_value(seed.0, seed.1);
    // `rest[i]` is the RSI at bar `period + 1 + i`.
    let lane_len = rest.len() / RSI_LANES;
    let warm = rsi_forget_steps(period);
    if lane_len <= 2 * warm {
        rsi_sequential(values, period + 1, rest, seed, period_m1, inv_period);
        return Ok(());
    }
    // Lane k covers bars first_bar(k) .. first_bar(k) + lane_len; lanes 1.. are seeded
    // `warm` bars before their first bar (always after bar `period`) and warmed up.
    let first_bar = |k: usize| period + 1 + k * lane_len;
    let mut states = [seed; RSI_LANES];
    for (k, state) in states.iter_mut().enumerate().skip(1) {
        let b0 = first_bar(k);
        let seed_bar = b0 - 1 - warm;
        *state = rsi_seed(values, seed_bar, period);
        for (&x, &prev) in values[seed_bar + 1..b0].iter().zip(&values[seed_bar..b0 - 1]) {
            rsi_step(state, x - prev, period_m1, inv_period);
        }
    }
    let (lanes_out, tail_out) = rest.split_at_mut(RSI_LANES * lane_len);
    let mut outs = lanes_out.chunks_exact_mut(lane_len);
    let (Some(o0), Some(o1), Some(o2), Some(o3)) = (outs.next(), outs.next(), outs.next(), outs.next()) else {
        return Ok(());
    };
    let lane = |k: usize| {
        let b0 = first_bar(k);
        (&values[b0..b0 + lane_len], &values[b0 - 1..b0 - 1 + lane_len])
    };
    let inputs = [lane(0), lane(1), lane(2), lane(3)];
    rsi_lanes(inputs, [o0, o1, o2, o3], &mut states, period_m1, inv_period);
    // The last lane continues over the bars left after the four equal stretches.
    rsi_sequential(values, first_bar(RSI_LANES), tail_out, states[RSI_LANES - 1], period_m1, inv_period);
    Ok(())
}

/// Sequential RSI steps from `state` for bars `from..`, writing one output per element of `out`.
fn rsi_sequential(
    values: &[f64],
    from: usize,
    out: &mut [f64],
    mut state: (f64, f64),
    period_m1: f64,
    inv_period: f64,
) {
    for ((o, &x), &prev) in out.iter_mut().zip(&values[from..]).zip(&values[from - 1..]) {
        *o = rsi_step(&mut state, x - prev, period_m1, inv_period);
    }
}

/// (bar values, previous-bar values) of one lane, both `lane_len` long.
type LaneInput<'a> = (&'a [f64], &'a [f64]);

/// Four lanes of RSI steps, portable version.
#[cfg(not(target_arch = "x86_64"))]
fn rsi_lanes(
    inputs: [LaneInput<'_>; RSI_LANES],
    outs: [&mut [f64]; RSI_LANES],
    states: &mut [(f64, f64); RSI_LANES],
    period_m1: f64,
    inv_period: f64,
) {
    rsi_lanes_portable(inputs, outs, states, period_m1, inv_period);
}

/// Four lanes of RSI steps in plain scalar code (the SIMD version's reference).
#[cfg(any(test, not(target_arch = "x86_64")))]
fn rsi_lanes_portable(
    inputs: [LaneInput<'_>; RSI_LANES],
    outs: [&mut [f64]; RSI_LANES],
    states: &mut [(f64, f64); RSI_LANES],
    period_m1: f64,
    inv_period: f64,
) {
    let [o0, o1, o2, o3] = outs;
    let n = o0.len();
    let (o0, o1, o2, o3) = (&mut o0[..n], &mut o1[..n], &mut o2[..n], &mut o3[..n]);
    let [(x0, p0), (x1, p1), (x2, p2), (x3, p3)] = inputs;
    let (x0, x1, x2, x3) = (&x0[..n], &x1[..n], &x2[..n], &x3[..n]);
    let (p0, p1, p2, p3) = (&p0[..n], &p1[..n], &p2[..n], &p3[..n]);
    for i in 0..n {
        o0[i] = rsi_step(&mut states[0], x0[i] - p0[i], period_m1, inv_period);
        o1[i] = rsi_step(&mut states[1], x1[i] - p1[i], period_m1, inv_period);
        o2[i] = rsi_step(&mut states[2], x2[i] - p2[i], period_m1, inv_period);
        o3[i] = rsi_step(&mut states[3], x3[i] - p3[i], period_m1, inv_period);
    }
}

/// Four lanes of RSI steps with SSE2: lanes (0, 1) and (2, 3) share registers, so each
/// instruction advances two lanes. Per lane the arithmetic is exactly [`rsi_step`]'s
/// (`maxpd(0, ±change)` is the branch-free gain/loss split, NaN propagating).
#[cfg(target_arch = "x86_64")]
fn rsi_lanes(
    inputs: [LaneInput<'_>; RSI_LANES],
    outs: [&mut [f64]; RSI_LANES],
    states: &mut [(f64, f64); RSI_LANES],
    period_m1: f64,
    inv_period: f64,
) {
    // SAFETY: SSE2 is part of the x86-64 baseline, so every x86-64 CPU supports it.
    unsafe { rsi_lanes_sse2(inputs, outs, states, period_m1, inv_period) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn rsi_lanes_sse2(
    inputs: [LaneInput<'_>; RSI_LANES],
    outs: [&mut [f64]; RSI_LANES],
    states: &mut [(f64, f64); RSI_LANES],
    period_m1: f64,
    inv_period: f64,
) {
    use std::arch::x86_64::{
        _mm_add_pd, _mm_andnot_pd, _mm_cmplt_pd, _mm_cvtsd_f64, _mm_div_pd, _mm_max_pd, _mm_mul_pd, _mm_set_pd,
        _mm_set1_pd, _mm_setzero_pd, _mm_sub_pd, _mm_unpackhi_pd, _mm_xor_pd,
    };
    let [o0, o1, o2, o3] = outs;
    let n = o0.len();
    let (o0, o1, o2, o3) = (&mut o0[..n], &mut o1[..n], &mut o2[..n], &mut o3[..n]);
    let [(x0, p0), (x1, p1), (x2, p2), (x3, p3)] = inputs;
    let (x0, x1, x2, x3) = (&x0[..n], &x1[..n], &x2[..n], &x3[..n]);
    let (p0, p1, p2, p3) = (&p0[..n], &p1[..n], &p2[..n], &p3[..n]);
    let m1 = _mm_set1_pd(period_m1);
    let inv = _mm_set1_pd(inv_period);
    let hundred = _mm_set1_pd(100.0);
    let eps = _mm_set1_pd(super::common::TA_EPSILON);
    let neg_eps = _mm_set1_pd(-super::common::TA_EPSILON);
    let sign = _mm_set1_pd(-0.0);
    let zero = _mm_setzero_pd();
    // Register lane 0 holds the first lane of a pair, lane 1 the second.
    let mut g01 = _mm_set_pd(states[1].0, states[0].0);
    let mut l01 = _mm_set_pd(states[1].1, states[0].1);
    let mut g23 = _mm_set_pd(states[3].0, states[2].0);
    let mut l23 = _mm_set_pd(states[3].1, states[2].1);
    let step = |g: &mut _, l: &mut _, d| {
        let up = _mm_max_pd(zero, d);
        let down = _mm_max_pd(zero, _mm_xor_pd(d, sign));
        *g = _mm_mul_pd(_mm_add_pd(_mm_mul_pd(*g, m1), up), inv);
        *l = _mm_mul_pd(_mm_add_pd(_mm_mul_pd(*l, m1), down), inv);
        let total = _mm_add_pd(*g, *l);
        let rsi = _mm_mul_pd(hundred, _mm_div_pd(*g, total));
        // TA_IS_ZERO(total): -1e-14 < total < 1e-14 gives 0.
        let is_zero = std::arch::x86_64::_mm_and_pd(_mm_cmplt_pd(neg_eps, total), _mm_cmplt_pd(total, eps));
        _mm_andnot_pd(is_zero, rsi)
    };
    for i in 0..n {
        let d01 = _mm_sub_pd(_mm_set_pd(x1[i], x0[i]), _mm_set_pd(p1[i], p0[i]));
        let d23 = _mm_sub_pd(_mm_set_pd(x3[i], x2[i]), _mm_set_pd(p3[i], p2[i]));
        let r01 = step(&mut g01, &mut l01, d01);
        let r23 = step(&mut g23, &mut l23, d23);
        o0[i] = _mm_cvtsd_f64(r01);
        o1[i] = _mm_cvtsd_f64(_mm_unpackhi_pd(r01, r01));
        o2[i] = _mm_cvtsd_f64(r23);
        o3[i] = _mm_cvtsd_f64(_mm_unpackhi_pd(r23, r23));
    }
    let lo = |v| _mm_cvtsd_f64(v);
    let hi = |v| _mm_cvtsd_f64(_mm_unpackhi_pd(v, v));
    *states = [(lo(g01), lo(l01)), (hi(g01), hi(l01)), (lo(g23), lo(l23)), (hi(g23), hi(l23))];
}

/// One MACD output: the MACD line, its signal line and the histogram (line - signal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MacdOutput {
    /// Fast EMA - slow EMA.
    pub macd: f64,
    /// EMA of the MACD line.
    pub signal: f64,
    /// `macd - signal`.
    pub hist: f64,
}

/// Batch MACD outputs, each the length of the input with `NaN` over the lookback.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MacdSeries {
    /// MACD line.
    pub macd: Vec<f64>,
    /// Signal line.
    pub signal: Vec<f64>,
    /// Histogram.
    pub hist: Vec<f64>,
}

/// Streaming MACD exactly as TA-Lib's `MACD` computes it.
///
/// * Both EMAs start at bar `slow - 1`: the slow EMA is seeded with the SMA of the first
///   `slow` values and the fast EMA with the SMA of the `fast` values ending at that same
///   bar (TA-Lib aligns the fast EMA's start with the slow EMA's), `k = 2 / (n + 1)`.
/// * The signal line is an EMA of the MACD line, seeded with the SMA of its first
///   `signal` values.
/// * All three outputs start at bar `slow + signal - 2` (33 for 12/26/9).
/// * If `slow < fast` the two are swapped, as TA-Lib does.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: usize,
    slow: usize,
    signal: usize,
    warm: Vec<f64>,
    fast_ema: EmaCore,
    slow_ema: EmaCore,
    signal_ema: EmaCore,
    started: bool,
}

impl Macd {
    /// A new MACD; `fast` and `slow` 2..=100000, `signal` 1..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside those ranges.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, IndicatorError> {
        check_period("macd", "fast period", fast, 2)?;
        check_period("macd", "slow period", slow, 2)?;
        check_period("macd", "signal period", signal, 1)?;
        let (fast, slow) = if slow < fast { (slow, fast) } else { (fast, slow) };
        Ok(Self {
            fast,
            slow,
            signal,
            warm: Vec::with_capacity(slow),
            fast_ema: EmaCore::new(fast),
            slow_ema: EmaCore::new(slow),
            signal_ema: EmaCore::new(signal),
            started: false,
        })
    }

    /// Feed the next value.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<MacdOutput> {
        let line = if self.started {
            let f = self.fast_ema.update(value)?;
            let s = self.slow_ema.update(value)?;
            f - s
        } else {
            self.warm.push(value);
            if self.warm.len() < self.slow {
                return None;
            }
            let mut slow_sum = 0.0;
            for &v in &self.warm {
                slow_sum += v;
            }
            let mut fast_sum = 0.0;
            for &v in &self.warm[self.slow - self.fast..] {
                fast_sum += v;
            }
            let slow_seed = slow_sum / self.slow as f64;
            let fast_seed = fast_sum / self.fast as f64;
            self.slow_ema = EmaCore::seeded(self.slow, slow_seed);
            self.fast_ema = EmaCore::seeded(self.fast, fast_seed);
            self.started = true;
            fast_seed - slow_seed
        };
        let signal = self.signal_ema.update(line)?;
        Some(MacdOutput { macd: line, signal, hist: line - signal })
    }

    /// Number of leading values without output: `slow - 1 + signal - 1`.
    pub fn lookback(&self) -> usize {
        self.slow - 1 + self.signal - 1
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.warm.clear();
        self.fast_ema.reset();
        self.slow_ema.reset();
        self.signal_ema.reset();
        self.started = false;
    }
}

/// Batch MACD (TA-Lib `MACD`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] as for [`Macd::new`].
pub fn macd(values: &[f64], fast: usize, slow: usize, signal: usize) -> Result<MacdSeries, IndicatorError> {
    let mut s = Macd::new(fast, slow, signal)?;
    let mut out = MacdSeries {
        macd: Vec::with_capacity(values.len()),
        signal: Vec::with_capacity(values.len()),
        hist: Vec::with_capacity(values.len()),
    };
    for &x in values {
        let o = s.update(x);
        out.macd.push(o.map_or(f64::NAN, |o| o.macd));
        out.signal.push(o.map_or(f64::NAN, |o| o.signal));
        out.hist.push(o.map_or(f64::NAN, |o| o.hist));
    }
    Ok(out)
}

/// Streaming rate of change (TA-Lib `ROC`): `(x / x[t - n] - 1) * 100`, or 0 when
/// `x[t - n]` is exactly 0. Lookback `period`.
///
/// With a negative base price the ratio's sign flips (e.g. -10 to -5 gives -50), exactly
/// as TA-Lib computes it; use a price difference instead across zero-crossing spans.
#[derive(Debug, Clone)]
pub struct Roc {
    period: usize,
    ring: Ring,
}

impl Roc {
    /// A new ROC, period 1..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("roc", "period", period, 1)?;
        Ok(Self { period, ring: Ring::new(period) })
    }

    /// Feed the next value.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        let base = self.ring.oldest_if_full();
        self.ring.push(value);
        let base = base?;
        Some(if base != 0.0 { ((value / base) - 1.0) * 100.0 } else { 0.0 })
    }

    /// Number of leading values without output: `period`.
    pub fn lookback(&self) -> usize {
        self.period
    }

    /// Forget all values.
    pub fn reset(&mut self) {
        self.ring.clear();
    }
}

/// Batch ROC (TA-Lib `ROC`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `1 <= period <= 100000`.
pub fn roc(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    let mut s = Roc::new(period)?;
    Ok(collect_stream(values.len(), |i| s.update(values[i])))
}

/// Parameters of the stochastic oscillator (TA-Lib `STOCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StochConfig {
    /// Window of the raw %K (highest high / lowest low), TA-Lib default 5.
    pub fastk_period: usize,
    /// Smoothing of %K into slow %K, TA-Lib default 3.
    pub slowk_period: usize,
    /// Moving average used for slow %K, TA-Lib default SMA.
    pub slowk_ma: MaKind,
    /// Smoothing of slow %K into slow %D, TA-Lib default 3.
    pub slowd_period: usize,
    /// Moving average used for slow %D, TA-Lib default SMA.
    pub slowd_ma: MaKind,
}

impl Default for StochConfig {
    fn default() -> Self {
        Self { fastk_period: 5, slowk_period: 3, slowk_ma: MaKind::Sma, slowd_period: 3, slowd_ma: MaKind::Sma }
    }
}

impl StochConfig {
    /// SMA-smoothed stochastic with the given periods (TA-Lib's default moving averages).
    pub fn sma(fastk_period: usize, slowk_period: usize, slowd_period: usize) -> Self {
        Self { fastk_period, slowk_period, slowd_period, ..Self::default() }
    }
}

/// One stochastic output: slow %K and slow %D.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StochOutput {
    /// Slow %K.
    pub k: f64,
    /// Slow %D.
    pub d: f64,
}

/// Batch stochastic outputs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StochSeries {
    /// Slow %K.
    pub k: Vec<f64>,
    /// Slow %D.
    pub d: Vec<f64>,
}

/// Streaming stochastic oscillator (TA-Lib `STOCH`).
///
/// Raw %K = `(close - lowest low) / ((highest high - lowest low) / 100)` over the last
/// `fastk_period` bars (0 when the range is 0); slow %K is its moving average over
/// `slowk_period`, slow %D the moving average of slow %K over `slowd_period`. Both outputs
/// start at bar `(fastk - 1) + (slowk - 1) + (slowd - 1)`. Window extremes come from
/// monotonic deques (amortised O(1) per bar).
#[derive(Debug, Clone)]
pub struct Stoch {
    cfg: StochConfig,
    highs: MonoDeque,
    lows: MonoDeque,
    slowk: Smoother,
    slowd: Smoother,
}

impl Stoch {
    /// A new stochastic; `fastk`, `slowk` and `slowd` periods 1..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(cfg: StochConfig) -> Result<Self, IndicatorError> {
        check_period("stoch", "fastk period", cfg.fastk_period, 1)?;
        check_period("stoch", "slowk period", cfg.slowk_period, 1)?;
        check_period("stoch", "slowd period", cfg.slowd_period, 1)?;
        Ok(Self {
            cfg,
            highs: MonoDeque::new(cfg.fastk_period, Extreme::Max),
            lows: MonoDeque::new(cfg.fastk_period, Extreme::Min),
            slowk: Smoother::new(cfg.slowk_ma, cfg.slowk_period),
            slowd: Smoother::new(cfg.slowd_ma, cfg.slowd_period),
        })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<StochOutput> {
        let highest = self.highs.push(bar.high);
        let lowest = self.lows.push(bar.low);
        if self.highs.pushed() < self.cfg.fastk_period as u64 {
            return None;
        }
        let diff = (highest - lowest) / 100.0;
        let fast_k = if diff != 0.0 { (bar.close - lowest) / diff } else { 0.0 };
        let k = self.slowk.update(fast_k)?;
        let d = self.slowd.update(k)?;
        Some(StochOutput { k, d })
    }

    /// Number of leading bars without output.
    pub fn lookback(&self) -> usize {
        self.cfg.fastk_period - 1 + self.cfg.slowk_period - 1 + self.cfg.slowd_period - 1
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.highs.clear();
        self.lows.clear();
        self.slowk.reset();
        self.slowd.reset();
    }
}

/// Batch stochastic (TA-Lib `STOCH`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] as for [`Stoch::new`];
/// [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn stoch(high: &[f64], low: &[f64], close: &[f64], cfg: StochConfig) -> Result<StochSeries, IndicatorError> {
    check_hlc("stoch", high, low, close)?;
    let mut s = Stoch::new(cfg)?;
    let mut out = StochSeries { k: Vec::with_capacity(close.len()), d: Vec::with_capacity(close.len()) };
    for i in 0..close.len() {
        let o = s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0));
        out.k.push(o.map_or(f64::NAN, |o| o.k));
        out.d.push(o.map_or(f64::NAN, |o| o.d));
    }
    Ok(out)
}

/// Streaming Williams %R (TA-Lib `WILLR`): `-100 * (highest high - close) / (highest high
/// - lowest low)` over `period` bars, 0 when the range is 0. Lookback `period - 1`.
#[derive(Debug, Clone)]
pub struct WillR {
    period: usize,
    highs: MonoDeque,
    lows: MonoDeque,
}

impl WillR {
    /// A new Williams %R, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("willr", "period", period, 2)?;
        Ok(Self { period, highs: MonoDeque::new(period, Extreme::Max), lows: MonoDeque::new(period, Extreme::Min) })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        let highest = self.highs.push(bar.high);
        let lowest = self.lows.push(bar.low);
        if self.highs.pushed() < self.period as u64 {
            return None;
        }
        let diff = (highest - lowest) / (-100.0);
        Some(if diff != 0.0 { (highest - bar.close) / diff } else { 0.0 })
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

/// Batch Williams %R (TA-Lib `WILLR`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn willr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_hlc("willr", high, low, close)?;
    let mut s = WillR::new(period)?;
    Ok(collect_stream(close.len(), |i| s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0))))
}

/// Streaming commodity channel index (TA-Lib `CCI`) on the typical price
/// `(high + low + close) / 3`: `(tp - mean) / (0.015 * mean absolute deviation)` over
/// `period` bars, 0 when either the numerator or the deviation is 0. Lookback `period - 1`.
///
/// The mean absolute deviation is taken around the current window mean, so each update
/// costs O(period) (two passes over the window, in TA-Lib's circular-buffer order); it
/// allocates nothing.
#[derive(Debug, Clone)]
pub struct Cci {
    period: usize,
    period_f: f64,
    ring: Ring,
}

impl Cci {
    /// A new CCI, period 2..=100000.
    ///
    /// # Errors
    /// [`IndicatorError::PeriodOutOfRange`] for a period outside that range.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        check_period("cci", "period", period, 2)?;
        Ok(Self { period, period_f: period as f64, ring: Ring::new(period) })
    }

    /// Feed the next bar (uses high, low, close).
    #[inline]
    pub fn update(&mut self, bar: &OhlcvBar) -> Option<f64> {
        let last = bar.typical_price();
        self.ring.push(last);
        if self.ring.len() < self.period {
            return None;
        }
        let slots = self.ring.slots();
        let mut average = 0.0;
        for &v in slots {
            average += v;
        }
        average /= self.period_f;
        let mut deviation = 0.0;
        for &v in slots {
            deviation += (v - average).abs();
        }
        let numerator = last - average;
        Some(if numerator != 0.0 && deviation != 0.0 { numerator / (0.015 * (deviation / self.period_f)) } else { 0.0 })
    }

    /// Number of leading bars without output: `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Forget all bars.
    pub fn reset(&mut self) {
        self.ring.clear();
    }
}

/// Batch CCI (TA-Lib `CCI`).
///
/// # Errors
/// [`IndicatorError::PeriodOutOfRange`] unless `2 <= period <= 100000`;
/// [`IndicatorError::LengthMismatch`] when the series differ in length.
pub fn cci(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_hlc("cci", high, low, close)?;
    let mut s = Cci::new(period)?;
    Ok(collect_stream(close.len(), |i| s.update(&OhlcvBar::new(close[i], high[i], low[i], close[i], 0.0))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsi_all_gains_is_100_and_flat_is_0() {
        let up: Vec<f64> = (0..30).map(|i| i as f64).collect();
        let v = rsi(&up, 14).unwrap();
        assert!(v[..14].iter().all(|x| x.is_nan()));
        assert!(v[14..].iter().all(|&x| x == 100.0));
        let flat = vec![5.0; 30];
        assert!(rsi(&flat, 14).unwrap()[14..].iter().all(|&x| x == 0.0));
        assert_eq!(rsi(&flat[..14], 14).unwrap().len(), 14);
        assert!(rsi(&flat, 1).is_err());
    }

    #[test]
    fn rsi_batch_and_stream_agree_bitwise_including_negative_prices() {
        let xs: Vec<f64> = (0..400).map(|i| ((i as f64) * 0.31).sin() * 40.0 - 20.0 + ((i % 7) as f64)).collect();
        let b = rsi(&xs, 9).unwrap();
        let mut s = Rsi::new(9).unwrap();
        assert_eq!(s.lookback(), 9);
        for (i, &x) in xs.iter().enumerate() {
            match s.update(x) {
                Some(v) => assert_eq!(v.to_bits(), b[i].to_bits(), "bar {i}"),
                None => assert!(b[i].is_nan(), "bar {i}"),
            }
        }
        s.reset();
        assert_eq!(s.update(1.0), None);
    }

    #[test]
    fn rsi_lanes_match_the_sequential_recurrence() {
        // Long enough for the four-lane path; a flat stretch and a plunge below zero sit
        // across the lane boundaries.
        let n = 60_000;
        let xs: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64;
                if (14_990..15_300).contains(&i) { 7.25 } else { 40.0 * (t * 0.013).sin() + (t * 0.37).cos() - 30.0 }
            })
            .collect();
        for period in [2, 14, 50, 20_000] {
            let b = rsi(&xs, period).unwrap();
            let mut s = Rsi::new(period).unwrap();
            for (i, &x) in xs.iter().enumerate() {
                match s.update(x) {
                    Some(v) => assert!(
                        (v - b[i]).abs() <= 1e-12 * v.abs().max(1.0),
                        "period {period} bar {i}: {v} vs {}",
                        b[i]
                    ),
                    None => assert!(b[i].is_nan(), "period {period} bar {i}"),
                }
            }
        }
        assert_eq!(rsi_forget_steps(2), 100);
        assert!(rsi_forget_steps(14) > 900);
    }

    #[test]
    fn simd_lanes_equal_portable_lanes_bitwise() {
        let xs: Vec<f64> = (0..4_001).map(|i| ((i * 7919) % 211) as f64 * 0.37 - 30.0).collect();
        let lane = |k: usize| (&xs[1 + k * 1000..1 + (k + 1) * 1000], &xs[k * 1000..(k + 1) * 1000]);
        let seeds = [(0.5, 0.25), (0.0, 0.0), (1.0, 2.0), (f64::NAN, 1.0)];
        let (mut a, mut b) = (vec![0.0; 4000], vec![0.0; 4000]);
        let (mut sa, mut sb) = (seeds, seeds);
        {
            let mut oa = a.chunks_exact_mut(1000);
            let mut ob = b.chunks_exact_mut(1000);
            let oa = [oa.next().unwrap(), oa.next().unwrap(), oa.next().unwrap(), oa.next().unwrap()];
            let ob = [ob.next().unwrap(), ob.next().unwrap(), ob.next().unwrap(), ob.next().unwrap()];
            rsi_lanes(std::array::from_fn(lane), oa, &mut sa, 6.0, 1.0 / 7.0);
            rsi_lanes_portable(std::array::from_fn(lane), ob, &mut sb, 6.0, 1.0 / 7.0);
        }
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()), "bar {i}: {x} vs {y}");
        }
        assert!(a[3999].is_nan(), "NaN state propagates");
        for (x, y) in sa.iter().zip(&sb).take(3) {
            assert_eq!((x.0.to_bits(), x.1.to_bits()), (y.0.to_bits(), y.1.to_bits()));
        }
    }

    #[test]
    fn macd_lookback_and_swap() {
        let m = Macd::new(12, 26, 9).unwrap();
        assert_eq!(m.lookback(), 33);
        let xs: Vec<f64> = (0..60).map(|i| 50.0 + (i as f64 * 0.2).cos()).collect();
        let a = macd(&xs, 12, 26, 9).unwrap();
        let b = macd(&xs, 26, 12, 9).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.macd), bits(&b.macd));
        assert_eq!(bits(&a.hist), bits(&b.hist));
        assert!(a.macd[32].is_nan() && !a.macd[33].is_nan());
        assert!(Macd::new(1, 26, 9).is_err());
        assert!(Macd::new(12, 26, 0).is_err());
        let mut s = Macd::new(3, 5, 2).unwrap();
        for &x in &xs[..10] {
            s.update(x);
        }
        s.reset();
        assert_eq!(s.update(1.0), None);
    }

    #[test]
    fn roc_zero_base_gives_zero_and_negative_base_follows_formula() {
        let v = roc(&[0.0, 5.0, -10.0, -5.0], 1).unwrap();
        assert!(v[0].is_nan());
        assert_eq!(v[1], 0.0);
        assert_eq!(v[2], ((-10.0 / 5.0) - 1.0) * 100.0);
        assert_eq!(v[3], -50.0);
        let mut r = Roc::new(2).unwrap();
        assert_eq!(r.lookback(), 2);
        r.update(1.0);
        r.reset();
        assert_eq!(r.update(1.0), None);
        assert!(Roc::new(0).is_err());
    }

    #[test]
    fn stoch_flat_range_gives_zero() {
        let h = vec![1.0; 20];
        let s = stoch(&h, &h, &h, StochConfig::default()).unwrap();
        assert!(s.k[..8].iter().all(|x| x.is_nan()));
        assert!(s.k[8..].iter().all(|&x| x == 0.0));
        assert!(s.d[8..].iter().all(|&x| x == 0.0));
        assert!(stoch(&h, &h[..3], &h, StochConfig::default()).is_err());
        let mut st = Stoch::new(StochConfig::sma(3, 1, 1)).unwrap();
        assert_eq!(st.lookback(), 2);
        let bar = OhlcvBar::new(0.0, 2.0, 0.0, 1.5, 0.0);
        assert_eq!(st.update(&bar), None);
        assert_eq!(st.update(&bar), None);
        assert_eq!(st.update(&bar), Some(StochOutput { k: 75.0, d: 75.0 }));
        st.reset();
        assert_eq!(st.update(&bar), None);
        assert!(Stoch::new(StochConfig::sma(0, 3, 3)).is_err());
    }

    #[test]
    fn willr_and_cci_basics() {
        let h = [3.0, 4.0, 5.0];
        let l = [1.0, 2.0, 3.0];
        let c = [2.0, 3.0, 4.0];
        let w = willr(&h, &l, &c, 2).unwrap();
        assert!(w[0].is_nan());
        assert_eq!(w[1], (4.0 - 3.0) / ((4.0 - 1.0) / -100.0));
        let mut wr = WillR::new(2).unwrap();
        assert_eq!(wr.lookback(), 1);
        wr.update(&OhlcvBar::new(0.0, 1.0, 0.0, 0.5, 0.0));
        wr.reset();
        assert_eq!(wr.update(&OhlcvBar::new(0.0, 1.0, 0.0, 0.5, 0.0)), None);
        let flat = [2.0; 5];
        let cc = cci(&flat, &flat, &flat, 3).unwrap();
        assert_eq!(&cc[2..], &[0.0, 0.0, 0.0]);
        let mut ci = Cci::new(3).unwrap();
        assert_eq!(ci.lookback(), 2);
        ci.update(&OhlcvBar::new(0.0, 1.0, 0.0, 0.5, 0.0));
        ci.reset();
        assert_eq!(ci.update(&OhlcvBar::new(0.0, 1.0, 0.0, 0.5, 0.0)), None);
        assert!(cci(&h, &l, &c[..2], 2).is_err());
    }
}
