//! Technical signals: streaming state machines over the indicator library, one update per
//! bar, each giving a score in [−1, 1] (sign = direction, size = strength) or the reason it
//! has none. The rules are documented on each source's parameters in [`crate::config`].
//!
//! Scales use the ATR (Wilder, TA-Lib) so a score means the same thing at $20 and at $120
//! crude and for products quoted in $/gal. Everything works on negative prices: only
//! price differences are used.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::config::{
    AdxTrendParams, BollingerTouchParams, DonchianBreakoutParams, MaCrossoverParams, MacdHistogramParams,
    MomentumParams, RsiExtremesParams,
};
use crate::engine::SignalInput;
use crate::indicators::{
    Bands, Bollinger, Dmi, Donchian, Ema, IndicatorError, Keltner, MaKind, Macd, OhlcvBar, Rsi, Sma,
};

/// A source's output for one bar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading {
    /// A score with the value it came from and its inputs.
    Active { score: f64, raw: Option<f64>, inputs: Vec<SignalInput> },
    /// No reading, and why.
    Unavailable(Cow<'static, str>),
}

impl Reading {
    pub(crate) fn active(score: f64, raw: Option<f64>, inputs: Vec<SignalInput>) -> Self {
        let score = if score.is_finite() { score.clamp(-1.0, 1.0) } else { 0.0 };
        Reading::Active { score, raw: raw.filter(|r| r.is_finite()), inputs }
    }

    pub(crate) fn warming(what: &'static str) -> Self {
        Reading::Unavailable(Cow::Borrowed(what))
    }
}

/// `x / unit` clipped to ±1; 0 when the unit is not positive (a flat market).
#[inline]
pub(crate) fn scaled(x: f64, unit: f64) -> f64 {
    if unit > 0.0 && unit.is_finite() { (x / unit).clamp(-1.0, 1.0) } else { 0.0 }
}

/// Linear fade: 1 at age 0, 0 at `hold` bars.
#[inline]
pub(crate) fn fade(age: usize, hold: usize) -> f64 {
    if hold == 0 { 0.0 } else { (1.0 - age as f64 / hold as f64).max(0.0) }
}

pub(crate) fn input(name: &'static str, value: f64) -> SignalInput {
    SignalInput { name: Cow::Borrowed(name), value }
}

#[derive(Debug, Clone)]
enum Ma {
    Ema(Ema),
    Sma(Sma),
}

impl Ma {
    fn new(kind: MaKind, period: usize) -> Result<Self, IndicatorError> {
        Ok(match kind {
            MaKind::Ema => Ma::Ema(Ema::new(period)?),
            MaKind::Sma => Ma::Sma(Sma::new(period)?),
        })
    }

    fn update(&mut self, x: f64) -> Option<f64> {
        match self {
            Ma::Ema(e) => e.update(x),
            Ma::Sma(s) => s.update(x),
        }
    }
}

/// Moving-average crossover.
#[derive(Debug, Clone)]
pub(crate) struct MaCrossover {
    fast: Ma,
    slow: Ma,
    full_scale_atr: f64,
}

impl MaCrossover {
    pub(crate) fn new(p: &MaCrossoverParams) -> Result<Self, IndicatorError> {
        Ok(Self { fast: Ma::new(p.kind, p.fast)?, slow: Ma::new(p.kind, p.slow)?, full_scale_atr: p.full_scale_atr })
    }

    pub(crate) fn update(&mut self, close: f64, atr: Option<f64>) -> Reading {
        let fast = self.fast.update(close);
        let slow = self.slow.update(close);
        let (Some(fast), Some(slow), Some(atr)) = (fast, slow, atr) else {
            return Reading::warming("warming up: the slow average and the ATR need more bars");
        };
        let gap = fast - slow;
        Reading::active(
            scaled(gap, self.full_scale_atr * atr),
            Some(gap),
            vec![input("fast", fast), input("slow", slow), input("atr", atr)],
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Swing {
    Idle,
    Oversold { extreme: f64 },
    Overbought { extreme: f64 },
    Long { strength: f64, age: usize },
    Short { strength: f64, age: usize },
}

/// RSI extremes with confirmation.
#[derive(Debug, Clone)]
pub(crate) struct RsiExtremes {
    rsi: Rsi,
    p: RsiExtremesParams,
    hold: usize,
    state: Swing,
}

impl RsiExtremes {
    pub(crate) fn new(p: &RsiExtremesParams, hold: usize) -> Result<Self, IndicatorError> {
        Ok(Self { rsi: Rsi::new(p.period)?, p: *p, hold, state: Swing::Idle })
    }

    pub(crate) fn update(&mut self, close: f64) -> Reading {
        let Some(rsi) = self.rsi.update(close) else {
            return Reading::warming("warming up: RSI needs period + 1 bars");
        };
        let p = &self.p;
        self.state = match self.state {
            s if rsi <= p.oversold => Swing::Oversold {
                extreme: match s {
                    Swing::Oversold { extreme } => extreme.min(rsi),
                    _ => rsi,
                },
            },
            s if rsi >= p.overbought => Swing::Overbought {
                extreme: match s {
                    Swing::Overbought { extreme } => extreme.max(rsi),
                    _ => rsi,
                },
            },
            // Leaving the zone confirms the setup; a deeper extreme gives a stronger signal.
            Swing::Oversold { extreme } => {
                Swing::Long { strength: (0.5 + (p.oversold - extreme) / 20.0).clamp(0.5, 1.0), age: 0 }
            }
            Swing::Overbought { extreme } => {
                Swing::Short { strength: (0.5 + (extreme - p.overbought) / 20.0).clamp(0.5, 1.0), age: 0 }
            }
            Swing::Long { strength, age } => {
                if rsi >= p.exit_level || age + 1 >= self.hold {
                    Swing::Idle
                } else {
                    Swing::Long { strength, age: age + 1 }
                }
            }
            Swing::Short { strength, age } => {
                if rsi <= p.exit_level || age + 1 >= self.hold {
                    Swing::Idle
                } else {
                    Swing::Short { strength, age: age + 1 }
                }
            }
            Swing::Idle => Swing::Idle,
        };
        let (score, setup) = match self.state {
            Swing::Long { strength, age } => (strength * fade(age, self.hold), 0.0),
            Swing::Short { strength, age } => (-strength * fade(age, self.hold), 0.0),
            Swing::Oversold { .. } => (0.0, 1.0),
            Swing::Overbought { .. } => (0.0, -1.0),
            Swing::Idle => (0.0, 0.0),
        };
        Reading::active(score, Some(rsi), vec![input("rsi", rsi), input("setup", setup)])
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Held {
    Idle,
    Long { age: usize },
    Short { age: usize },
}

impl Held {
    fn score(self, hold: usize) -> f64 {
        match self {
            Held::Idle => 0.0,
            Held::Long { age } => fade(age, hold),
            Held::Short { age } => -fade(age, hold),
        }
    }

    /// Age by one bar; expire at `hold` or when `exit_long` / `exit_short` says so.
    fn age(self, hold: usize, exit_long: bool, exit_short: bool) -> Held {
        match self {
            Held::Long { age } if !exit_long && age + 1 < hold => Held::Long { age: age + 1 },
            Held::Short { age } if !exit_short && age + 1 < hold => Held::Short { age: age + 1 },
            _ => Held::Idle,
        }
    }
}

/// Bollinger touch with the Keltner (squeeze) filter.
#[derive(Debug, Clone)]
pub(crate) struct BollingerTouch {
    bb: Bollinger,
    kc: Keltner,
    hold: usize,
    state: Held,
}

impl BollingerTouch {
    pub(crate) fn new(p: &BollingerTouchParams, hold: usize) -> Result<Self, IndicatorError> {
        Ok(Self {
            bb: Bollinger::new(p.period, p.k)?,
            kc: Keltner::new(p.kc_period, p.kc_k, p.kc_atr_period)?,
            hold,
            state: Held::Idle,
        })
    }

    pub(crate) fn update(&mut self, bar: &OhlcvBar) -> Reading {
        let bb = self.bb.update(bar.close);
        let kc = self.kc.update(bar);
        let (Some(bb), Some(kc)) = (bb, kc) else {
            return Reading::warming("warming up: Bollinger and Keltner need more bars");
        };
        let squeeze = bb.upper < kc.upper && bb.lower > kc.lower;
        let half = bb.upper - bb.middle;
        let close = bar.close;
        self.state = if squeeze || half <= 0.0 {
            Held::Idle
        } else if close <= bb.lower {
            Held::Long { age: 0 }
        } else if close >= bb.upper {
            Held::Short { age: 0 }
        } else {
            self.state.age(self.hold, close >= bb.middle, close <= bb.middle)
        };
        let percent_b = if half > 0.0 { (close - bb.middle) / half } else { 0.0 };
        Reading::active(self.state.score(self.hold), Some(percent_b), band_inputs(&bb, &kc, squeeze))
    }
}

fn band_inputs(bb: &Bands, kc: &Bands, squeeze: bool) -> Vec<SignalInput> {
    vec![
        input("bb_upper", bb.upper),
        input("bb_lower", bb.lower),
        input("kc_upper", kc.upper),
        input("kc_lower", kc.lower),
        input("squeeze", if squeeze { 1.0 } else { 0.0 }),
    ]
}

/// Donchian breakout against the previous bar's channel.
#[derive(Debug, Clone)]
pub(crate) struct DonchianBreakout {
    dc: Donchian,
    prev: Option<Bands>,
    hold: usize,
    state: Held,
}

impl DonchianBreakout {
    pub(crate) fn new(p: &DonchianBreakoutParams, hold: usize) -> Result<Self, IndicatorError> {
        Ok(Self { dc: Donchian::new(p.period)?, prev: None, hold, state: Held::Idle })
    }

    pub(crate) fn update(&mut self, bar: &OhlcvBar) -> Reading {
        let current = self.dc.update(bar);
        let Some(prev) = self.prev else {
            self.prev = current;
            return Reading::warming("warming up: the Donchian channel needs period + 1 bars");
        };
        self.prev = current;
        let close = bar.close;
        self.state = if close > prev.upper {
            Held::Long { age: 0 }
        } else if close < prev.lower {
            Held::Short { age: 0 }
        } else {
            self.state.age(self.hold, false, false)
        };
        Reading::active(
            self.state.score(self.hold),
            Some(close - prev.middle),
            vec![input("upper", prev.upper), input("lower", prev.lower)],
        )
    }
}

/// ADX trend strength.
#[derive(Debug, Clone)]
pub(crate) struct AdxTrend {
    dmi: Dmi,
    p: AdxTrendParams,
}

impl AdxTrend {
    pub(crate) fn new(p: &AdxTrendParams) -> Result<Self, IndicatorError> {
        Ok(Self { dmi: Dmi::new(p.period)?, p: *p })
    }

    pub(crate) fn update(&mut self, bar: &OhlcvBar) -> Reading {
        let out = self.dmi.update(bar);
        let (Some(adx), Some(pdi), Some(mdi)) = (out.adx, out.plus_di, out.minus_di) else {
            return Reading::warming("warming up: ADX needs 2 x period bars");
        };
        let strength = ((adx - self.p.min_adx) / (self.p.full_adx - self.p.min_adx)).clamp(0.0, 1.0);
        let dir = if pdi > mdi {
            1.0
        } else if pdi < mdi {
            -1.0
        } else {
            0.0
        };
        Reading::active(
            dir * strength,
            Some(adx),
            vec![input("adx", adx), input("plus_di", pdi), input("minus_di", mdi)],
        )
    }
}

/// Multi-horizon momentum in ATR units.
#[derive(Debug, Clone)]
pub(crate) struct Momentum {
    horizons: Vec<usize>,
    full_scale_z: f64,
    closes: VecDeque<f64>,
    /// Input names `z_<horizon>`.
    names: Vec<String>,
}

impl Momentum {
    pub(crate) fn new(p: &MomentumParams) -> Self {
        let cap = p.horizons.iter().copied().max().unwrap_or(1) + 1;
        Self {
            horizons: p.horizons.clone(),
            full_scale_z: p.full_scale_z,
            closes: VecDeque::with_capacity(cap),
            names: p.horizons.iter().map(|h| format!("z_{h}")).collect(),
        }
    }

    pub(crate) fn update(&mut self, close: f64, atr: Option<f64>) -> Reading {
        let cap = self.horizons.iter().copied().max().unwrap_or(1) + 1;
        if self.closes.len() == cap {
            self.closes.pop_front();
        }
        self.closes.push_back(close);
        let (true, Some(atr)) = (self.closes.len() == cap, atr) else {
            return Reading::warming("warming up: momentum needs the longest horizon + 1 bars");
        };
        let last = self.closes.len() - 1;
        let mut inputs = Vec::with_capacity(self.horizons.len());
        let mut sum = 0.0;
        for (k, &h) in self.horizons.iter().enumerate() {
            let change = close - self.closes[last - h];
            let unit = atr * (h as f64).sqrt();
            let z = if unit > 0.0 { change / unit } else { 0.0 };
            sum += z;
            let name = self.names.get(k).cloned().map_or(Cow::Borrowed("z"), Cow::Owned);
            inputs.push(SignalInput { name, value: z });
        }
        let mean_z = sum / self.horizons.len() as f64;
        Reading::active(scaled(mean_z, self.full_scale_z), Some(mean_z), inputs)
    }
}

/// MACD histogram in ATR units.
#[derive(Debug, Clone)]
pub(crate) struct MacdHistogram {
    macd: Macd,
    full_scale_atr: f64,
}

impl MacdHistogram {
    pub(crate) fn new(p: &MacdHistogramParams) -> Result<Self, IndicatorError> {
        Ok(Self { macd: Macd::new(p.fast, p.slow, p.signal)?, full_scale_atr: p.full_scale_atr })
    }

    pub(crate) fn update(&mut self, close: f64, atr: Option<f64>) -> Reading {
        let out = self.macd.update(close);
        let (Some(m), Some(atr)) = (out, atr) else {
            return Reading::warming("warming up: MACD needs slow + signal - 1 bars");
        };
        Reading::active(
            scaled(m.hist, self.full_scale_atr * atr),
            Some(m.hist),
            vec![input("macd", m.macd), input("signal", m.signal), input("atr", atr)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(r: &Reading) -> f64 {
        match r {
            Reading::Active { score, .. } => *score,
            Reading::Unavailable(why) => panic!("unavailable: {why}"),
        }
    }

    fn bar(c: f64) -> OhlcvBar {
        OhlcvBar::new(c, c + 0.5, c - 0.5, c, 100.0)
    }

    #[test]
    fn helpers() {
        assert_eq!(scaled(3.0, 2.0), 1.0);
        assert_eq!(scaled(-1.0, 2.0), -0.5);
        assert_eq!(scaled(1.0, 0.0), 0.0);
        assert_eq!(fade(0, 4), 1.0);
        assert_eq!(fade(2, 4), 0.5);
        assert_eq!(fade(9, 4), 0.0);
        assert_eq!(
            Reading::active(f64::NAN, Some(f64::INFINITY), vec![]),
            Reading::Active { score: 0.0, raw: None, inputs: vec![] }
        );
    }

    #[test]
    fn ma_crossover_follows_the_trend_and_works_below_zero() {
        let mut s = MaCrossover::new(&MaCrossoverParams { fast: 3, slow: 6, ..Default::default() }).unwrap();
        let mut last = Reading::warming("");
        for i in 0..20 {
            last = s.update(-20.0 + i as f64, Some(1.0));
        }
        assert!(score(&last) > 0.99, "{last:?}");
        for i in 0..20 {
            last = s.update(-1.0 - i as f64, Some(1.0));
        }
        assert!(score(&last) < -0.99);
        assert!(matches!(
            MaCrossover::new(&MaCrossoverParams::default()).unwrap().update(1.0, Some(1.0)),
            Reading::Unavailable(_)
        ));
    }

    #[test]
    fn rsi_needs_confirmation_and_fades() {
        let p = RsiExtremesParams { period: 3, ..Default::default() };
        let mut s = RsiExtremes::new(&p, 4).unwrap();
        // Fall hard (RSI 0, oversold: a setup, no signal yet) ...
        let mut px = 100.0;
        let mut scores = Vec::new();
        for _ in 0..6 {
            px -= 2.0;
            scores.push(s.update(px));
        }
        assert!(matches!(scores[2], Reading::Unavailable(_)));
        assert_eq!(score(&scores[5]), 0.0, "an extreme alone is only a setup");
        // ... then a small bounce: RSI leaves the zone, the signal is confirmed at full strength.
        let r = s.update(px + 3.0);
        assert!((score(&r) - 1.0).abs() < 1e-12, "{r:?}");
        // Flat bars (RSI stays near 43, below the exit level): the signal fades over the
        // hold of 4 bars.
        let r1 = score(&s.update(px + 3.0));
        let r2 = score(&s.update(px + 3.0));
        assert!((r1 - 0.75).abs() < 1e-12 && (r2 - 0.5).abs() < 1e-12, "{r1} {r2}");
    }

    #[test]
    fn bollinger_touch_is_filtered_by_the_squeeze() {
        let p = BollingerTouchParams { period: 5, kc_period: 5, kc_atr_period: 5, ..Default::default() };
        // Wide bars (large ATR) around a tight close: Bollinger inside Keltner = squeeze.
        let mut s = BollingerTouch::new(&p, 5).unwrap();
        let mut r = Reading::warming("");
        for i in 0..10 {
            let c = 50.0 + if i % 2 == 0 { 0.1 } else { -0.1 };
            r = s.update(&OhlcvBar::new(c, c + 5.0, c - 5.0, c, 1.0));
        }
        let r_down = s.update(&OhlcvBar::new(49.0, 54.0, 44.0, 49.6, 1.0));
        assert_eq!(score(&r), 0.0);
        assert_eq!(score(&r_down), 0.0, "a touch during a squeeze is ignored: {r_down:?}");
        // A narrow Keltner channel: no squeeze, and a close below the lower band
        // (window 51, 49, 51, 49, 45: mean 49, sd 2.19, lower band 45.71) is LONG.
        let p = BollingerTouchParams { k: 1.5, kc_k: 0.1, ..p };
        let mut s = BollingerTouch::new(&p, 5).unwrap();
        for i in 0..10 {
            let c = 50.0 + if i % 2 == 0 { 1.0 } else { -1.0 };
            s.update(&OhlcvBar::new(c, c + 0.05, c - 0.05, c, 1.0));
        }
        let r = s.update(&OhlcvBar::new(45.0, 45.05, 44.95, 45.0, 1.0));
        assert_eq!(score(&r), 1.0, "{r:?}");
        // Back above the middle band: the signal ends.
        assert_eq!(score(&s.update(&OhlcvBar::new(52.0, 52.05, 51.95, 52.0, 1.0))), 0.0);
    }

    #[test]
    fn donchian_breakout_against_the_previous_channel() {
        let mut s = DonchianBreakout::new(&DonchianBreakoutParams { period: 3 }, 4).unwrap();
        for c in [10.0, 10.2, 9.9, 10.1] {
            s.update(&bar(c));
        }
        let r = s.update(&bar(12.0));
        assert_eq!(score(&r), 1.0);
        assert_eq!(score(&s.update(&bar(12.0))), 0.75, "no new high: the breakout fades");
        let r = s.update(&bar(5.0));
        assert_eq!(score(&r), -1.0, "an opposite breakout flips it");
    }

    #[test]
    fn adx_momentum_macd_in_a_rally() {
        let mut adx = AdxTrend::new(&AdxTrendParams::default()).unwrap();
        let mut mom = Momentum::new(&MomentumParams { horizons: vec![2, 5], full_scale_z: 2.0 });
        let mut macd = MacdHistogram::new(&MacdHistogramParams::default()).unwrap();
        let (mut a, mut m, mut h) = (Reading::warming(""), Reading::warming(""), Reading::warming(""));
        for i in 0..60 {
            let c = 50.0 + i as f64 * 0.5 + if i % 3 == 0 { 0.3 } else { 0.0 };
            a = adx.update(&bar(c));
            m = mom.update(c, Some(1.0));
            h = macd.update(c, Some(1.0));
        }
        assert!(score(&a) > 0.9, "{a:?}");
        assert!(score(&m) > 0.0, "{m:?}");
        if let Reading::Active { inputs, .. } = &m {
            assert_eq!(inputs.len(), 2);
            assert_eq!(inputs[0].name, "z_2");
            assert_eq!(inputs[1].name, "z_5");
        }
        assert!(matches!(h, Reading::Active { .. }));
    }
}
