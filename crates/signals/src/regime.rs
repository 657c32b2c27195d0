//! Market regime: ranging / transitional / trending from ADX, and the squeeze (Bollinger
//! bands inside the Keltner channel), both with hysteresis so they do not flip bar to bar.
//!
//! # Rule
//!
//! With thresholds `R = ranging_below`, `T = trending_above` and band `h = hysteresis`:
//!
//! * the plain class of an ADX value `a` is ranging for `a < R`, trending for `a >= T`,
//!   transitional otherwise;
//! * a trending market stays trending while `a >= T − h`; a ranging market stays ranging
//!   while `a < R + h`; otherwise the candidate is the plain class;
//! * the detector switches to a candidate only after it has been the candidate for
//!   `confirm_bars` consecutive bars (the first ADX value sets the regime at once).
//!
//! The squeeze flag is raw `BB upper < KC upper and BB lower > KC lower`, switched after
//! `squeeze.confirm_bars` consecutive bars of the new value. Before ADX has a value, or on
//! bars without high/low (the engine never feeds those), the regime is `Unknown`.

use serde::{Deserialize, Serialize};

use crate::config::RegimeConfig;
use crate::indicators::{Bands, Bollinger, Dmi, IndicatorError, Keltner, OhlcvBar};

/// The market regime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Weak trend (low ADX).
    Ranging,
    /// Between the thresholds.
    Transitional,
    /// Strong trend (high ADX).
    Trending,
    /// Not known yet, or the bars have no high/low.
    #[default]
    Unknown,
}

impl Regime {
    /// Lower-case label.
    pub const fn label(self) -> &'static str {
        match self {
            Regime::Ranging => "ranging",
            Regime::Transitional => "transitional",
            Regime::Trending => "trending",
            Regime::Unknown => "unknown",
        }
    }

    /// The regime with this label.
    pub fn from_label(label: &str) -> Option<Regime> {
        [Regime::Ranging, Regime::Transitional, Regime::Trending, Regime::Unknown]
            .into_iter()
            .find(|r| r.label() == label)
    }
}

/// The detector's output after a bar.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RegimeState {
    /// The confirmed regime.
    pub regime: Regime,
    /// Whether the confirmed squeeze flag is on.
    pub squeeze: bool,
    /// The latest ADX.
    pub adx: Option<f64>,
    /// Bars since the regime last changed (0 on the bar it changed).
    pub bars_in_regime: u64,
}

/// Streaming regime detector for one market.
#[derive(Debug, Clone)]
pub struct RegimeDetector {
    cfg: RegimeConfig,
    dmi: Dmi,
    bb: Bollinger,
    kc: Keltner,
    state: RegimeState,
    pending: Option<(Regime, usize)>,
    squeeze_known: bool,
    squeeze_pending: usize,
}

impl RegimeDetector {
    /// A detector with `cfg` (already validated as part of the signals config).
    ///
    /// # Errors
    /// [`IndicatorError`] for a period or multiplier out of range.
    pub fn new(cfg: &RegimeConfig) -> Result<Self, IndicatorError> {
        let s = &cfg.squeeze;
        Ok(Self {
            cfg: *cfg,
            dmi: Dmi::new(cfg.adx_period)?,
            bb: Bollinger::new(s.bb_period, s.bb_k)?,
            kc: Keltner::new(s.kc_period, s.kc_k, s.kc_atr_period)?,
            state: RegimeState::default(),
            pending: None,
            squeeze_known: false,
            squeeze_pending: 0,
        })
    }

    /// Feed one OHLC bar.
    pub fn update(&mut self, bar: &OhlcvBar) -> RegimeState {
        let adx = self.dmi.update(bar).adx;
        let bb = self.bb.update(bar.close);
        let kc = self.kc.update(bar);
        self.update_values(adx, bb, kc)
    }

    /// Advance with already-computed indicator values (the rule of the module docs).
    pub fn update_values(&mut self, adx: Option<f64>, bb: Option<Bands>, kc: Option<Bands>) -> RegimeState {
        self.state.bars_in_regime += 1;
        if let Some(a) = adx.filter(|a| a.is_finite()) {
            self.state.adx = Some(a);
            let current = self.state.regime;
            let candidate = self.candidate(current, a);
            if current == Regime::Unknown {
                self.switch(candidate);
            } else if candidate == current {
                self.pending = None;
            } else {
                let n = match self.pending {
                    Some((r, n)) if r == candidate => n + 1,
                    _ => 1,
                };
                if n >= self.cfg.confirm_bars {
                    self.switch(candidate);
                } else {
                    self.pending = Some((candidate, n));
                }
            }
        }
        if let (Some(bb), Some(kc)) = (bb, kc) {
            let raw = bb.upper < kc.upper && bb.lower > kc.lower;
            if !self.squeeze_known {
                self.squeeze_known = true;
                self.state.squeeze = raw;
            } else if raw == self.state.squeeze {
                self.squeeze_pending = 0;
            } else {
                self.squeeze_pending += 1;
                if self.squeeze_pending >= self.cfg.squeeze.confirm_bars {
                    self.state.squeeze = raw;
                    self.squeeze_pending = 0;
                }
            }
        }
        self.state
    }

    fn plain(&self, a: f64) -> Regime {
        if a < self.cfg.ranging_below {
            Regime::Ranging
        } else if a >= self.cfg.trending_above {
            Regime::Trending
        } else {
            Regime::Transitional
        }
    }

    fn candidate(&self, current: Regime, a: f64) -> Regime {
        let h = self.cfg.hysteresis;
        match current {
            Regime::Trending if a >= self.cfg.trending_above - h => Regime::Trending,
            Regime::Ranging if a < self.cfg.ranging_below + h => Regime::Ranging,
            _ => self.plain(a),
        }
    }

    fn switch(&mut self, to: Regime) {
        if to != self.state.regime {
            self.state.regime = to;
            self.state.bars_in_regime = 0;
        }
        self.pending = None;
    }

    /// The latest state.
    pub fn state(&self) -> RegimeState {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(confirm: usize, hysteresis: f64) -> RegimeDetector {
        let cfg = RegimeConfig { confirm_bars: confirm, hysteresis, ..RegimeConfig::default() };
        RegimeDetector::new(&cfg).unwrap()
    }

    fn run(d: &mut RegimeDetector, adx: &[f64]) -> Vec<Regime> {
        adx.iter().map(|a| d.update_values(Some(*a), None, None).regime).collect()
    }

    #[test]
    fn plain_thresholds_without_hysteresis() {
        let mut d = detector(1, 0.0);
        let r = run(&mut d, &[10.0, 20.0, 24.9, 25.0, 19.9]);
        use Regime::*;
        assert_eq!(r, [Ranging, Transitional, Transitional, Trending, Ranging]);
    }

    #[test]
    fn oscillating_adx_does_not_flip_the_regime() {
        // ADX alternating around the trending threshold every bar.
        let adx: Vec<f64> = (0..40).map(|i| if i % 2 == 0 { 26.0 } else { 23.5 }).collect();
        let mut plain = detector(1, 0.0);
        let flips_plain = run(&mut plain, &adx).windows(2).filter(|w| w[0] != w[1]).count();
        assert_eq!(flips_plain, 39, "without hysteresis the regime flips every bar");
        // The band alone holds it: 23.5 >= 25 - 2.
        let mut banded = detector(1, 2.0);
        assert!(run(&mut banded, &adx).iter().all(|r| *r == Regime::Trending));
        // Confirmation alone holds it too: a candidate never lasts 3 bars.
        let mut confirmed = detector(3, 0.0);
        assert!(run(&mut confirmed, &adx).iter().all(|r| *r == Regime::Trending));
    }

    #[test]
    fn a_real_change_is_taken_after_confirmation() {
        let mut d = detector(3, 2.0);
        let mut adx = vec![30.0; 5];
        adx.extend([15.0; 5]);
        let r = run(&mut d, &adx);
        assert_eq!(&r[..7], &[Regime::Trending; 7], "two bars of the new regime are not enough");
        assert_eq!(r[7], Regime::Ranging, "the third consecutive bar switches");
        assert_eq!(d.state().bars_in_regime, 2);
        // A broken run restarts the count.
        let mut d = detector(3, 0.0);
        let r = run(&mut d, &[30.0, 15.0, 15.0, 30.0, 15.0, 15.0, 15.0]);
        assert_eq!(r[5], Regime::Trending);
        assert_eq!(r[6], Regime::Ranging);
    }

    #[test]
    fn unknown_until_adx_and_squeeze_confirmation() {
        let mut d = detector(3, 2.0);
        assert_eq!(d.update_values(None, None, None).regime, Regime::Unknown);
        let inside = Bands { upper: 1.0, middle: 0.0, lower: -1.0 };
        let outside = Bands { upper: 3.0, middle: 0.0, lower: -3.0 };
        let kc = Bands { upper: 2.0, middle: 0.0, lower: -2.0 };
        assert!(d.update_values(Some(22.0), Some(inside), Some(kc)).squeeze);
        assert!(d.state().regime == Regime::Transitional);
        assert!(d.update_values(Some(22.0), Some(outside), Some(kc)).squeeze, "one bar is not enough");
        assert!(d.update_values(Some(22.0), Some(inside), Some(kc)).squeeze);
        assert!(d.update_values(Some(22.0), Some(outside), Some(kc)).squeeze);
        assert!(!d.update_values(Some(22.0), Some(outside), Some(kc)).squeeze, "two in a row switch it off");
    }

    #[test]
    fn fed_by_bars() {
        let mut d = detector(3, 2.0);
        let mut px = 50.0;
        let mut last = RegimeState::default();
        for _ in 0..80 {
            px += 1.0;
            last = d.update(&OhlcvBar::new(px - 0.5, px + 0.3, px - 0.7, px, 0.0));
        }
        assert_eq!(last.regime, Regime::Trending, "{last:?}");
        assert!(last.adx.unwrap() > 50.0);
        assert_eq!(Regime::from_label("ranging"), Some(Regime::Ranging));
    }
}
