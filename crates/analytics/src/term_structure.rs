//! Futures term structure: calendar spreads, curve slope and curvature, annualised roll
//! yield, contango/backwardation classification, and the historical percentile of each
//! metric.
//!
//! # Definitions
//!
//! A curve is a list of [`CurvePoint`]s, front month first; `Mn` is the n-th point
//! (generic month n, as Bloomberg's `CL1`, `CL2`, …). Spacing in months between two points
//! comes from their contract months, so a curve that skips months is handled correctly.
//!
//! | metric | definition | unit | sign |
//! | --- | --- | --- | --- |
//! | calendar spread `Ma–Mb` | `F(Ma) − F(Mb)`, a < b | price units (USD/bbl, USD/gal for products) | > 0 backwardation |
//! | slope | `(F(far) − F(near)) / months(near → far)`, default near = M1, far = M12 | price units per month | > 0 contango (upward-sloping curve) |
//! | curvature | `s_back − s_front` with `s_front = (F(belly) − F(near)) / months(near → belly)` and `s_back = (F(far) − F(belly)) / months(belly → far)`; default belly = M6 | price units per month | > 0 convex (the curve steepens going out), < 0 concave |
//! | roll yield (annualised) | `ln(F(M1) / F(M2)) · 12 / months(M1 → M2)` | fraction per year (0.10 = 10 %) | > 0 backwardation (a long position earns the roll) |
//! | state | `Backwardation` when `F(M1) − F(Mk) > band`, `Contango` when `< −band`, else `Neutral`; default k = 2 | — | — |
//!
//! The roll yield is the continuously compounded return from rolling a long position
//! down the curve at unchanged prices. It needs strictly positive prices: with a price at
//! or below zero (WTI, 2020-04-20) [`roll_yield_annual`] returns
//! [`MarketAnalyticsError::NonPositivePrice`] and [`term_structure_metrics`] reports `None`
//! for it while still computing every spread, which is defined for any price.
//!
//! The neutral band is in the market's price units (USD/bbl for WTI and Brent, USD/gal for
//! RBOB and heating oil), so it needs setting per market; the default, 0.05, suits crude.
//!
//! # Percentiles
//!
//! [`TermStructureTracker`] ranks each metric against its own last `lookback` values
//! (today's value included) with the mid-rank percentile of [`crate::percentile_rank`], so a
//! spread at its widest backwardation of the window ranks close to 100.

use crude_model::{CurvePoint, CurveSnapshot, Timestamp};
use serde::{Deserialize, Serialize};

use crate::market_error::MarketAnalyticsError;
use crate::percentile::PercentileTracker;

/// Which curve points define slope, curvature and the contango/backwardation state, the
/// neutral band, and the percentile lookback.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TermStructureConfig {
    /// Near tenor of slope and curvature (1 = M1).
    pub near: usize,
    /// Middle tenor of the curvature (6).
    pub belly: usize,
    /// Far tenor of slope and curvature (12).
    pub far: usize,
    /// The state compares `F(M1) − F(M{state_far})` with the band (2).
    pub state_far: usize,
    /// Half-width of the neutral band in price units (0.05).
    pub neutral_band: f64,
    /// Percentile window in observations (252, one year of daily curves).
    pub lookback: usize,
    /// Observations needed before a percentile is reported (20).
    pub min_observations: usize,
}

impl Default for TermStructureConfig {
    fn default() -> Self {
        Self { near: 1, belly: 6, far: 12, state_far: 2, neutral_band: 0.05, lookback: 252, min_observations: 20 }
    }
}

impl TermStructureConfig {
    /// Check the tenors, band and lookback.
    ///
    /// # Errors
    /// [`MarketAnalyticsError::BadTenorPair`] unless `1 <= near < belly < far` and
    /// `state_far >= 2`; [`MarketAnalyticsError::InvalidParameter`] for a negative or
    /// non-finite band, a zero lookback or `min_observations` outside `1..=lookback`.
    pub fn validate(&self) -> Result<(), MarketAnalyticsError> {
        const WHAT: &str = "term structure config";
        if self.near == 0 || self.near >= self.belly {
            return Err(MarketAnalyticsError::BadTenorPair { what: WHAT, near: self.near, far: self.belly });
        }
        if self.belly >= self.far {
            return Err(MarketAnalyticsError::BadTenorPair { what: WHAT, near: self.belly, far: self.far });
        }
        if self.state_far < 2 {
            return Err(MarketAnalyticsError::BadTenorPair { what: WHAT, near: 1, far: self.state_far });
        }
        if !self.neutral_band.is_finite() || self.neutral_band < 0.0 {
            return Err(MarketAnalyticsError::param(
                WHAT,
                "neutral_band",
                self.neutral_band,
                "use a finite number >= 0 in price units",
            ));
        }
        PercentileTracker::new(self.lookback, self.min_observations)?;
        Ok(())
    }
}

/// Contango / backwardation classification of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveState {
    /// Front above back by more than the neutral band.
    Backwardation,
    /// Within the neutral band.
    Neutral,
    /// Front below back by more than the neutral band.
    Contango,
}

impl CurveState {
    /// Lower-case label for tables and JSON.
    pub const fn label(self) -> &'static str {
        match self {
            CurveState::Backwardation => "backwardation",
            CurveState::Neutral => "neutral",
            CurveState::Contango => "contango",
        }
    }
}

/// Classify a near-minus-far spread: `Backwardation` above `+band`, `Contango` below
/// `−band`, otherwise `Neutral` (the band's edges are neutral).
pub fn classify_spread(near_minus_far: f64, neutral_band: f64) -> CurveState {
    if near_minus_far > neutral_band {
        CurveState::Backwardation
    } else if near_minus_far < -neutral_band {
        CurveState::Contango
    } else {
        CurveState::Neutral
    }
}

/// Every term-structure metric of one curve; `None` where the curve is too short (or, for
/// the roll yield, where a price is not positive).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TermStructureMetrics {
    /// `F(M1) − F(M2)`.
    pub m1_m2: Option<f64>,
    /// `F(M1) − F(M3)`.
    pub m1_m3: Option<f64>,
    /// `F(M1) − F(M6)`.
    pub m1_m6: Option<f64>,
    /// `F(M1) − F(M12)`.
    pub m1_m12: Option<f64>,
    /// Slope between the configured near and far tenors, price units per month.
    pub slope_per_month: Option<f64>,
    /// Curvature (back slope minus front slope), price units per month.
    pub curvature_per_month: Option<f64>,
    /// Annualised roll yield between M1 and M2 (fraction per year).
    pub roll_yield_annual: Option<f64>,
    /// Contango / backwardation state.
    pub state: Option<CurveState>,
}

/// Names of the metrics in the order [`TermStructureMetrics::values`] returns them.
pub const TERM_STRUCTURE_METRICS: [&str; 7] =
    ["m1_m2", "m1_m3", "m1_m6", "m1_m12", "slope_per_month", "curvature_per_month", "roll_yield_annual"];

impl TermStructureMetrics {
    /// The numeric metrics in the order of [`TERM_STRUCTURE_METRICS`].
    pub fn values(&self) -> [Option<f64>; 7] {
        [
            self.m1_m2,
            self.m1_m3,
            self.m1_m6,
            self.m1_m12,
            self.slope_per_month,
            self.curvature_per_month,
            self.roll_yield_annual,
        ]
    }
}

/// Check a curve: every price finite and contract months strictly increasing.
///
/// # Errors
/// [`MarketAnalyticsError::NonFinite`] or [`MarketAnalyticsError::UnorderedCurve`].
pub fn validate_curve(points: &[CurvePoint]) -> Result<(), MarketAnalyticsError> {
    for (i, p) in points.iter().enumerate() {
        if !p.price.is_finite() {
            return Err(MarketAnalyticsError::NonFinite { what: "curve", index: i, value: p.price });
        }
        if i > 0 && p.contract.month <= points[i - 1].contract.month {
            return Err(MarketAnalyticsError::UnorderedCurve {
                what: "curve",
                tenor: i + 1,
                month: p.contract.month.to_string(),
            });
        }
    }
    Ok(())
}

fn tenor_pair<'a>(
    what: &'static str,
    points: &'a [CurvePoint],
    near: usize,
    far: usize,
) -> Result<(&'a CurvePoint, &'a CurvePoint), MarketAnalyticsError> {
    if near == 0 || near >= far {
        return Err(MarketAnalyticsError::BadTenorPair { what, near, far });
    }
    let point = |tenor: usize| {
        points.get(tenor - 1).ok_or(MarketAnalyticsError::TenorOutOfRange { what, tenor, points: points.len() })
    };
    let (a, b) = (point(near)?, point(far)?);
    for (tenor, p) in [(near, a), (far, b)] {
        if !p.price.is_finite() {
            return Err(MarketAnalyticsError::NonFinite { what, index: tenor - 1, value: p.price });
        }
    }
    Ok((a, b))
}

fn months_between(
    what: &'static str,
    far_tenor: usize,
    a: &CurvePoint,
    b: &CurvePoint,
) -> Result<f64, MarketAnalyticsError> {
    let months = b.contract.month.months_since(a.contract.month);
    if months <= 0 {
        return Err(MarketAnalyticsError::UnorderedCurve {
            what,
            tenor: far_tenor,
            month: b.contract.month.to_string(),
        });
    }
    Ok(f64::from(months))
}

/// Calendar spread `F(M{near}) − F(M{far})` (1-based tenors, near < far), in price units;
/// positive in backwardation. Prices may be negative.
///
/// # Errors
/// [`MarketAnalyticsError::BadTenorPair`], [`MarketAnalyticsError::TenorOutOfRange`] or
/// [`MarketAnalyticsError::NonFinite`].
pub fn calendar_spread(points: &[CurvePoint], near: usize, far: usize) -> Result<f64, MarketAnalyticsError> {
    let (a, b) = tenor_pair("calendar spread", points, near, far)?;
    Ok(a.price - b.price)
}

/// Slope `(F(far) − F(near)) / months(near → far)` in price units per month; positive when
/// the curve slopes upward (contango).
///
/// # Errors
/// As [`calendar_spread`], plus [`MarketAnalyticsError::UnorderedCurve`] when the far
/// point's month is not after the near one's.
pub fn curve_slope(points: &[CurvePoint], near: usize, far: usize) -> Result<f64, MarketAnalyticsError> {
    const WHAT: &str = "curve slope";
    let (a, b) = tenor_pair(WHAT, points, near, far)?;
    Ok((b.price - a.price) / months_between(WHAT, far, a, b)?)
}

/// Curvature `s_back − s_front` (see the module docs) in price units per month; positive
/// when the curve steepens going out (convex).
///
/// # Errors
/// As [`curve_slope`] for the pairs (near, belly) and (belly, far).
pub fn curve_curvature(
    points: &[CurvePoint],
    near: usize,
    belly: usize,
    far: usize,
) -> Result<f64, MarketAnalyticsError> {
    const WHAT: &str = "curve curvature";
    let (a, b) = tenor_pair(WHAT, points, near, belly)?;
    let (_, c) = tenor_pair(WHAT, points, belly, far)?;
    let s_front = (b.price - a.price) / months_between(WHAT, belly, a, b)?;
    let s_back = (c.price - b.price) / months_between(WHAT, far, b, c)?;
    Ok(s_back - s_front)
}

/// Annualised roll yield `ln(F(near) / F(far)) · 12 / months(near → far)`, positive in
/// backwardation. Use `near = 1, far = 2` for the usual front roll.
///
/// # Errors
/// As [`curve_slope`], plus [`MarketAnalyticsError::NonPositivePrice`] when either price is
/// zero or negative (the logarithm is undefined).
pub fn roll_yield_annual(points: &[CurvePoint], near: usize, far: usize) -> Result<f64, MarketAnalyticsError> {
    const WHAT: &str = "roll yield";
    let (a, b) = tenor_pair(WHAT, points, near, far)?;
    for (tenor, p) in [(near, a), (far, b)] {
        if p.price <= 0.0 {
            return Err(MarketAnalyticsError::NonPositivePrice { what: WHAT, tenor, value: p.price });
        }
    }
    let months = months_between(WHAT, far, a, b)?;
    Ok((a.price / b.price).ln() * 12.0 / months)
}

/// Every metric of one curve under `config`. Metrics the curve is too short for are
/// `None`; so is the roll yield when M1 or M2 is not positive.
///
/// # Errors
/// [`TermStructureConfig::validate`]'s errors and [`validate_curve`]'s (a non-finite
/// price or contract months out of order).
pub fn term_structure_metrics(
    points: &[CurvePoint],
    config: &TermStructureConfig,
) -> Result<TermStructureMetrics, MarketAnalyticsError> {
    config.validate()?;
    validate_curve(points)?;
    let n = points.len();
    let spread = |far: usize| if far <= n { calendar_spread(points, 1, far).ok() } else { None };
    let state_spread = spread(config.state_far);
    Ok(TermStructureMetrics {
        m1_m2: spread(2),
        m1_m3: spread(3),
        m1_m6: spread(6),
        m1_m12: spread(12),
        slope_per_month: if config.far <= n { curve_slope(points, config.near, config.far).ok() } else { None },
        curvature_per_month: if config.far <= n {
            curve_curvature(points, config.near, config.belly, config.far).ok()
        } else {
            None
        },
        roll_yield_annual: if n >= 2 { roll_yield_annual(points, 1, 2).ok() } else { None },
        state: state_spread.map(|s| classify_spread(s, config.neutral_band)),
    })
}

/// Percentile ranks (0–100) of each metric within its lookback window; `None` until the
/// window has `min_observations` values of that metric.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TermStructurePercentiles {
    /// Percentile of M1–M2.
    pub m1_m2: Option<f64>,
    /// Percentile of M1–M3.
    pub m1_m3: Option<f64>,
    /// Percentile of M1–M6.
    pub m1_m6: Option<f64>,
    /// Percentile of M1–M12.
    pub m1_m12: Option<f64>,
    /// Percentile of the slope.
    pub slope_per_month: Option<f64>,
    /// Percentile of the curvature.
    pub curvature_per_month: Option<f64>,
    /// Percentile of the roll yield.
    pub roll_yield_annual: Option<f64>,
}

impl TermStructurePercentiles {
    fn from_values(v: [Option<f64>; 7]) -> Self {
        Self {
            m1_m2: v[0],
            m1_m3: v[1],
            m1_m6: v[2],
            m1_m12: v[3],
            slope_per_month: v[4],
            curvature_per_month: v[5],
            roll_yield_annual: v[6],
        }
    }
}

/// One curve's metrics with their percentiles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TermStructureRow {
    /// The curve's timestamp.
    pub ts: Timestamp,
    /// Metrics of this curve.
    pub metrics: TermStructureMetrics,
    /// Their percentiles within the lookback.
    pub percentiles: TermStructurePercentiles,
}

/// Streaming term-structure analytics for one market: feed curves in time order (one per
/// day for daily percentiles) and get metrics and percentiles.
#[derive(Debug, Clone)]
pub struct TermStructureTracker {
    config: TermStructureConfig,
    trackers: [PercentileTracker; 7],
    last: Option<TermStructureRow>,
}

impl TermStructureTracker {
    /// A tracker with `config`.
    ///
    /// # Errors
    /// [`TermStructureConfig::validate`]'s errors.
    pub fn new(config: TermStructureConfig) -> Result<Self, MarketAnalyticsError> {
        config.validate()?;
        let t = PercentileTracker::new(config.lookback, config.min_observations)?;
        Ok(Self { config, trackers: std::array::from_fn(|_| t.clone()), last: None })
    }

    /// Add one curve.
    ///
    /// # Errors
    /// [`validate_curve`]'s errors (the tracker is left unchanged).
    pub fn push(&mut self, curve: &CurveSnapshot) -> Result<TermStructureRow, MarketAnalyticsError> {
        let metrics = term_structure_metrics(&curve.points, &self.config)?;
        let values = metrics.values();
        let ranks: [Option<f64>; 7] = std::array::from_fn(|i| self.trackers[i].push(values[i]));
        let row = TermStructureRow { ts: curve.ts, metrics, percentiles: TermStructurePercentiles::from_values(ranks) };
        self.last = Some(row);
        Ok(row)
    }

    /// The last row pushed.
    pub fn last(&self) -> Option<&TermStructureRow> {
        self.last.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &TermStructureConfig {
        &self.config
    }
}

/// Metrics and percentiles for a history of curves (oldest first), as the Curve & Spreads
/// panel's table needs them.
///
/// # Errors
/// The config's errors, or the first bad curve's error.
pub fn term_structure_history(
    curves: &[CurveSnapshot],
    config: &TermStructureConfig,
) -> Result<Vec<TermStructureRow>, MarketAnalyticsError> {
    let mut tracker = TermStructureTracker::new(*config)?;
    curves.iter().map(|c| tracker.push(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractId, ContractMonth, Market};

    fn curve(prices: &[f64]) -> Vec<CurvePoint> {
        let m0 = ContractMonth::new(2026, 1).unwrap();
        prices
            .iter()
            .enumerate()
            .map(|(i, &price)| CurvePoint { contract: ContractId::new(Market::Wti, m0.plus_months(i as i32)), price })
            .collect()
    }

    fn snapshot(ts: i64, prices: &[f64]) -> CurveSnapshot {
        CurveSnapshot { market: Market::Wti, ts: Timestamp(ts), points: curve(prices) }
    }

    #[test]
    fn spreads_slope_curvature_roll_yield_by_hand() {
        // Backwardated, convex: 80, 79, 78.2, ...; build 12 points by a quadratic.
        let prices: Vec<f64> = (0..12).map(|i| 80.0 - 1.0 * i as f64 + 0.05 * (i * i) as f64).collect();
        let p = curve(&prices);
        assert!((calendar_spread(&p, 1, 2).unwrap() - (prices[0] - prices[1])).abs() < 1e-12);
        assert!((calendar_spread(&p, 3, 7).unwrap() - (prices[2] - prices[6])).abs() < 1e-12);
        let slope = curve_slope(&p, 1, 12).unwrap();
        assert!((slope - (prices[11] - prices[0]) / 11.0).abs() < 1e-12);
        let curv = curve_curvature(&p, 1, 6, 12).unwrap();
        let want = (prices[11] - prices[5]) / 6.0 - (prices[5] - prices[0]) / 5.0;
        assert!((curv - want).abs() < 1e-12);
        assert!(curv > 0.0, "convex curve has positive curvature");
        let ry = roll_yield_annual(&p, 1, 2).unwrap();
        assert!((ry - (prices[0] / prices[1]).ln() * 12.0).abs() < 1e-12);
        assert!(ry > 0.0, "backwardation earns a positive roll yield");
        let m = term_structure_metrics(&p, &TermStructureConfig::default()).unwrap();
        assert_eq!(m.state, Some(CurveState::Backwardation));
        assert!(m.m1_m12.is_some() && m.slope_per_month.unwrap() < 0.0);
    }

    #[test]
    fn roll_yield_uses_contract_month_spacing() {
        // M1 = Jan, M2 = Apr (quarterly listing): 3 months apart.
        let m0 = ContractMonth::new(2026, 1).unwrap();
        let p = vec![
            CurvePoint { contract: ContractId::new(Market::Brent, m0), price: 70.0 },
            CurvePoint { contract: ContractId::new(Market::Brent, m0.plus_months(3)), price: 72.0 },
        ];
        let ry = roll_yield_annual(&p, 1, 2).unwrap();
        assert!((ry - (70.0f64 / 72.0).ln() * 4.0).abs() < 1e-12);
        assert!(ry < 0.0, "contango costs a long the roll");
        assert!((curve_slope(&p, 1, 2).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn negative_prices_keep_spreads_and_drop_the_roll_yield() {
        let p = curve(&[-37.63, -5.0, 10.0, 20.0]);
        assert_eq!(calendar_spread(&p, 1, 2).unwrap(), -32.63);
        let err = roll_yield_annual(&p, 1, 2).unwrap_err();
        assert!(matches!(err, MarketAnalyticsError::NonPositivePrice { tenor: 1, .. }), "{err}");
        assert!(err.to_string().contains("calendar spread"));
        let m = term_structure_metrics(&p, &TermStructureConfig::default()).unwrap();
        assert_eq!(m.roll_yield_annual, None);
        assert_eq!(m.m1_m2, Some(-32.63));
        assert_eq!(m.state, Some(CurveState::Contango));
        assert_eq!(m.m1_m6, None, "a 4-point curve has no M6");
        assert_eq!(m.slope_per_month, None);
    }

    #[test]
    fn neutral_band_classification() {
        assert_eq!(classify_spread(0.05, 0.05), CurveState::Neutral);
        assert_eq!(classify_spread(0.0501, 0.05), CurveState::Backwardation);
        assert_eq!(classify_spread(-0.0501, 0.05), CurveState::Contango);
        assert_eq!(classify_spread(-0.3, 0.5), CurveState::Neutral);
        let cfg = TermStructureConfig { neutral_band: 0.5, ..TermStructureConfig::default() };
        let m = term_structure_metrics(&curve(&[70.0, 70.3]), &cfg).unwrap();
        assert_eq!(m.state, Some(CurveState::Neutral));
        let cfg = TermStructureConfig { state_far: 3, ..TermStructureConfig::default() };
        let m = term_structure_metrics(&curve(&[70.0, 70.0, 71.0]), &cfg).unwrap();
        assert_eq!(m.state, Some(CurveState::Contango), "M1 - M3 = -1 is below -0.05");
    }

    #[test]
    fn bad_inputs_are_errors_naming_the_tenor() {
        let p = curve(&[70.0, 71.0]);
        assert!(matches!(
            calendar_spread(&p, 1, 3),
            Err(MarketAnalyticsError::TenorOutOfRange { tenor: 3, points: 2, .. })
        ));
        assert!(matches!(calendar_spread(&p, 2, 1), Err(MarketAnalyticsError::BadTenorPair { .. })));
        assert!(matches!(calendar_spread(&p, 0, 1), Err(MarketAnalyticsError::BadTenorPair { .. })));
        let mut bad = curve(&[70.0, f64::NAN]);
        assert!(matches!(
            term_structure_metrics(&bad, &TermStructureConfig::default()),
            Err(MarketAnalyticsError::NonFinite { index: 1, .. })
        ));
        bad[1].price = 71.0;
        bad[1].contract = bad[0].contract;
        let err = term_structure_metrics(&bad, &TermStructureConfig::default()).unwrap_err();
        assert!(matches!(err, MarketAnalyticsError::UnorderedCurve { tenor: 2, .. }), "{err}");
        for cfg in [
            TermStructureConfig { near: 0, ..Default::default() },
            TermStructureConfig { belly: 12, ..Default::default() },
            TermStructureConfig { state_far: 1, ..Default::default() },
            TermStructureConfig { neutral_band: -1.0, ..Default::default() },
            TermStructureConfig { lookback: 0, ..Default::default() },
        ] {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
    }

    #[test]
    fn history_percentiles_rank_each_metric() {
        let cfg = TermStructureConfig { lookback: 5, min_observations: 3, ..TermStructureConfig::default() };
        // M1-M2 spreads 0.1, 0.2, 0.3, 0.4, 0.5, 0.0: rising, then the lowest.
        let curves: Vec<CurveSnapshot> = [0.1, 0.2, 0.3, 0.4, 0.5, 0.0]
            .iter()
            .enumerate()
            .map(|(i, s)| snapshot(i as i64, &[70.0 + s, 70.0]))
            .collect();
        let rows = term_structure_history(&curves, &cfg).unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[1].percentiles.m1_m2, None);
        assert!((rows[2].percentiles.m1_m2.unwrap() - 100.0 * 2.5 / 3.0).abs() < 1e-9);
        assert!((rows[4].percentiles.m1_m2.unwrap() - 90.0).abs() < 1e-9);
        assert!((rows[5].percentiles.m1_m2.unwrap() - 10.0).abs() < 1e-9, "lowest of 5 ranks 10");
        assert_eq!(rows[5].percentiles.m1_m12, None, "no M12 on a 2-point curve");
        assert!(rows[5].percentiles.roll_yield_annual.is_some());
        let mut t = TermStructureTracker::new(cfg).unwrap();
        assert!(t.push(&snapshot(0, &[1.0, f64::INFINITY])).is_err());
        assert!(t.last().is_none());
    }
}
