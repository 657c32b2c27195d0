//! The signal engine's configuration, `config/signals.yaml`: per-source weights, families
//! and parameters, the regime detector, aggregation and risk (stop, target, size).
//!
//! Loading is strict: an unknown key anywhere, a missing source, a missing `weight` or
//! `family`, a negative or non-finite weight, or any parameter out of range is an error
//! naming the file, the entry (e.g. `sources.ma_crossover`) and the field, with the fix.
//! Sections other than `sources` may be omitted (their defaults apply); within a source,
//! `weight` and `family` are required and everything else has the default documented on
//! its field. [`SignalsConfig::default`] is exactly the shipped `config/signals.yaml`
//! (a test holds the two together).
//!
//! # Families and double counting
//!
//! Sources that express the same idea (the five trend-following indicators all go long
//! in a rally) share a `family`. Within a family, the engine scales each member's weight
//! by `N_eff / k`, where `k` is the number of members with a reading this bar and
//! `N_eff = k² / Σᵢⱼ ρᵢⱼ` is the effective number of independent members, from the
//! correlations `ρᵢⱼ` (clipped to [0, 1], `ρᵢᵢ = 1`) of their score series over the last
//! `aggregation.correlation_lookback_bars` bars. Perfectly correlated members count once
//! (`N_eff = 1`: the family weighs as much as one average member), uncorrelated members
//! count fully (`N_eff = k`). Until a pair has `aggregation.min_correlation_bars` joint
//! observations, or when either series is constant, its correlation is taken as 1 (the
//! conservative choice). Correlation across families is not adjusted: put sources that
//! you consider related in one family.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::indicators::MaKind;
use crate::source::{RegimeStyle, SourceId};

/// Schema version the engine understands.
pub const SIGNALS_CONFIG_VERSION: u32 = 1;

/// Largest horizon, lookback or period (in bars) any setting accepts.
pub const MAX_BARS: usize = 100_000;

/// An error loading or validating the signals configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML does not match the schema (unknown key, missing source or field, wrong
    /// type); the message carries the entry path, line and column.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message (entry path, what is wrong, line and column).
        message: String,
    },
    /// A value out of range.
    #[error("{file}: entry '{entry}', field '{field}': {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// The entry, e.g. `sources.ma_crossover`.
        entry: String,
        /// The field, e.g. `weight`.
        field: String,
        /// What is wrong and the fix.
        reason: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalsConfig {
    /// Schema version; must be 1.
    pub version: u32,
    /// Composite direction, horizon and the correlation rule.
    #[serde(default)]
    pub aggregation: AggregationConfig,
    /// Regime detection and the regime scales.
    #[serde(default)]
    pub regime: RegimeConfig,
    /// Stop, target and size.
    #[serde(default)]
    pub risk: RiskConfig,
    /// Every source; all must be present.
    pub sources: SourcesConfig,
}

/// How component scores become the composite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AggregationConfig {
    /// `|score|` at or above which a score is LONG / SHORT (0.2), for the composite and
    /// for each component.
    pub entry_threshold: f64,
    /// Horizon of a NEUTRAL composite, bars (10).
    pub default_horizon_bars: usize,
    /// Window of the within-family correlations, bars (120).
    pub correlation_lookback_bars: usize,
    /// Joint observations before a correlation is used instead of 1 (30).
    pub min_correlation_bars: usize,
}

impl Default for AggregationConfig {
    fn default() -> Self {
        Self {
            entry_threshold: 0.2,
            default_horizon_bars: 10,
            correlation_lookback_bars: 120,
            min_correlation_bars: 30,
        }
    }
}

/// Regime detection (ADX bands with hysteresis, the Bollinger-inside-Keltner squeeze) and
/// how each style's weight scales per regime.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegimeConfig {
    /// ADX period (14).
    pub adx_period: usize,
    /// ADX below this is ranging (20).
    pub ranging_below: f64,
    /// ADX at or above this is trending (25).
    pub trending_above: f64,
    /// ADX points a regime is kept beyond its threshold before it is left (2).
    pub hysteresis: f64,
    /// Consecutive bars a new regime must persist before the detector switches (3).
    pub confirm_bars: usize,
    /// The squeeze detector.
    pub squeeze: SqueezeConfig,
    /// Weight scales per style and regime.
    pub scales: RegimeScales,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        Self {
            adx_period: 14,
            ranging_below: 20.0,
            trending_above: 25.0,
            hysteresis: 2.0,
            confirm_bars: 3,
            squeeze: SqueezeConfig::default(),
            scales: RegimeScales::default(),
        }
    }
}

/// Bollinger bands inside the Keltner channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqueezeConfig {
    /// Bollinger period (20).
    pub bb_period: usize,
    /// Bollinger width in population standard deviations (2).
    pub bb_k: f64,
    /// Keltner EMA period (20).
    pub kc_period: usize,
    /// Keltner width in ATRs (1.5).
    pub kc_k: f64,
    /// Keltner ATR period (20).
    pub kc_atr_period: usize,
    /// Consecutive bars before the squeeze flag changes (2).
    pub confirm_bars: usize,
}

impl Default for SqueezeConfig {
    fn default() -> Self {
        Self { bb_period: 20, bb_k: 2.0, kc_period: 20, kc_k: 1.5, kc_atr_period: 20, confirm_bars: 2 }
    }
}

/// Weight multipliers of one style per regime, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleScales {
    /// In a ranging market.
    pub ranging: f64,
    /// Between ranging and trending.
    pub transitional: f64,
    /// In a trending market.
    pub trending: f64,
    /// When the regime is unknown (warming up, or bars without high/low).
    pub unknown: f64,
}

/// The scale tables of the three styles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegimeScales {
    /// Trend-following sources: 0 / 0.5 / 1 (ranging / transitional / trending), 1 unknown.
    pub trend: StyleScales,
    /// Mean-reverting sources: 1 / 0.5 / 0, 1 unknown.
    pub reversion: StyleScales,
    /// Fundamental sources: 1 everywhere.
    pub fundamental: StyleScales,
}

impl Default for RegimeScales {
    fn default() -> Self {
        Self {
            trend: StyleScales { ranging: 0.0, transitional: 0.5, trending: 1.0, unknown: 1.0 },
            reversion: StyleScales { ranging: 1.0, transitional: 0.5, trending: 0.0, unknown: 1.0 },
            fundamental: StyleScales { ranging: 1.0, transitional: 1.0, trending: 1.0, unknown: 1.0 },
        }
    }
}

impl RegimeScales {
    /// The table of one style.
    pub fn of(&self, style: RegimeStyle) -> &StyleScales {
        match style {
            RegimeStyle::Trend => &self.trend,
            RegimeStyle::Reversion => &self.reversion,
            RegimeStyle::Fundamental => &self.fundamental,
        }
    }
}

/// Stop, target and the suggested size.
///
/// For a LONG composite at close `c` with ATR `a`: stop `c − stop_atr·a`, target
/// `c + target_atr·a` (mirrored for SHORT). Size, in whole contracts:
/// `floor(risk_budget_usd · confidence/100 / (stop_atr · a · contract multiplier))`, capped
/// at `max_contracts` — the number of contracts whose loss at the stop is the risk budget
/// scaled by the composite's confidence (multiplier 1,000 bbl for CL/BZ, 42,000 gal for
/// RB/HO).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// ATR period of stops, targets and the technical scales (14).
    pub atr_period: usize,
    /// Stop distance in ATRs (2).
    pub stop_atr: f64,
    /// Target distance in ATRs (3).
    pub target_atr: f64,
    /// Loss at the stop for a confidence-100 signal, USD (10,000).
    pub risk_budget_usd: f64,
    /// Largest suggested size, contracts (20).
    pub max_contracts: i64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self { atr_period: 14, stop_atr: 2.0, target_atr: 3.0, risk_budget_usd: 10_000.0, max_contracts: 20 }
    }
}

/// One source's entry: the common fields and the source's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "P: Deserialize<'de> + Default"))]
pub struct SourceEntry<P> {
    /// Weight in the composite, >= 0 (0 switches the source off). Required.
    pub weight: f64,
    /// Family for the double-counting rule. Required.
    pub family: String,
    /// Regime style; default per source (trend-following, mean-reverting, fundamental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<RegimeStyle>,
    /// Holding horizon in bars, for the composite horizon and the outcome statistics;
    /// default per source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_bars: Option<usize>,
    /// Source parameters (defaults on each field).
    #[serde(default)]
    pub params: P,
}

/// Fast/slow moving-average crossover: score `(fast − slow) / (full_scale_atr · ATR)`,
/// clipped to ±1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaCrossoverParams {
    /// Fast period (10).
    pub fast: usize,
    /// Slow period (40).
    pub slow: usize,
    /// `ema` (TA-Lib EMA, seeded with the SMA) or `sma` (ema).
    pub kind: MaKind,
    /// Gap in ATRs that gives a full score (1).
    pub full_scale_atr: f64,
}

impl Default for MaCrossoverParams {
    fn default() -> Self {
        Self { fast: 10, slow: 40, kind: MaKind::Ema, full_scale_atr: 1.0 }
    }
}

/// RSI extremes with confirmation: a LONG setup while RSI <= oversold, confirmed when RSI
/// closes back above it; the signal then decays over the horizon or ends when RSI reaches
/// `exit_level` (mirrored for SHORT).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RsiExtremesParams {
    /// RSI period (14).
    pub period: usize,
    /// Oversold level (30).
    pub oversold: f64,
    /// Overbought level (70).
    pub overbought: f64,
    /// Level at which a confirmed signal ends (50).
    pub exit_level: f64,
}

impl Default for RsiExtremesParams {
    fn default() -> Self {
        Self { period: 14, oversold: 30.0, overbought: 70.0, exit_level: 50.0 }
    }
}

/// Bollinger touch with the Keltner filter: a close at or below the lower band is LONG, at
/// or above the upper band SHORT, unless the bands are inside the Keltner channel (a
/// squeeze, when breakouts rather than reversals are likely); decays over the horizon or
/// ends when the close crosses the middle band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BollingerTouchParams {
    /// Bollinger period (20).
    pub period: usize,
    /// Bollinger width in standard deviations (2).
    pub k: f64,
    /// Keltner EMA period (20).
    pub kc_period: usize,
    /// Keltner width in ATRs (1.5).
    pub kc_k: f64,
    /// Keltner ATR period (20).
    pub kc_atr_period: usize,
}

impl Default for BollingerTouchParams {
    fn default() -> Self {
        Self { period: 20, k: 2.0, kc_period: 20, kc_k: 1.5, kc_atr_period: 20 }
    }
}

/// Donchian breakout: a close above the previous bar's upper channel is LONG, below the
/// lower SHORT; decays over the horizon, flips on an opposite breakout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DonchianBreakoutParams {
    /// Channel period (20).
    pub period: usize,
}

impl Default for DonchianBreakoutParams {
    fn default() -> Self {
        Self { period: 20 }
    }
}

/// ADX trend strength: direction of +DI − −DI, strength `(ADX − min_adx) / (full_adx −
/// min_adx)` clipped to [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdxTrendParams {
    /// ADX period (14).
    pub period: usize,
    /// ADX with zero strength (20).
    pub min_adx: f64,
    /// ADX with full strength (40).
    pub full_adx: f64,
}

impl Default for AdxTrendParams {
    fn default() -> Self {
        Self { period: 14, min_adx: 20.0, full_adx: 40.0 }
    }
}

/// Multi-horizon momentum: for each horizon h, `z_h = (close − close h bars ago) / (ATR ·
/// √h)`; score = mean of `z_h` / `full_scale_z`, clipped to ±1. Price differences rather
/// than percentage ROC keep it defined for negative prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MomentumParams {
    /// Horizons in bars ([5, 20, 60]).
    pub horizons: Vec<usize>,
    /// Mean z giving a full score (2).
    pub full_scale_z: f64,
}

impl Default for MomentumParams {
    fn default() -> Self {
        Self { horizons: vec![5, 20, 60], full_scale_z: 2.0 }
    }
}

/// MACD histogram: score `hist / (full_scale_atr · ATR)`, clipped to ±1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MacdHistogramParams {
    /// Fast EMA period (12).
    pub fast: usize,
    /// Slow EMA period (26).
    pub slow: usize,
    /// Signal EMA period (9).
    pub signal: usize,
    /// Histogram in ATRs giving a full score (0.25).
    pub full_scale_atr: f64,
}

impl Default for MacdHistogramParams {
    fn default() -> Self {
        Self { fast: 12, slow: 26, signal: 9, full_scale_atr: 0.25 }
    }
}

/// Inventory surprise: score `−z / full_scale_z` (a build above consensus is bearish),
/// clipped to ±1, fading linearly to 0 over `decay_bars` bars after the report. CL and BZ
/// use the crude surprise, RB gasoline, HO distillate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InventorySurpriseParams {
    /// Prior surprises in the z-score window (52).
    pub lookback_reports: usize,
    /// Prior surprises before a z-score (8).
    pub min_reports: usize,
    /// |z| giving a full score (2).
    pub full_scale_z: f64,
    /// Bars over which the signal fades (5).
    pub decay_bars: usize,
}

impl Default for InventorySurpriseParams {
    fn default() -> Self {
        Self { lookback_reports: 52, min_reports: 8, full_scale_z: 2.0, decay_bars: 5 }
    }
}

/// Term-structure carry: score `roll_yield_annual / full_scale_annual`, clipped to ±1
/// (backwardation pays a long).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TermStructureCarryParams {
    /// Annualised roll yield giving a full score (0.15 = 15 %/year).
    pub full_scale_annual: f64,
}

impl Default for TermStructureCarryParams {
    fn default() -> Self {
        Self { full_scale_annual: 0.15 }
    }
}

/// A spread z-score traded for mean reversion (crack, WTI–Brent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpreadZParams {
    /// z-score window, bars (120).
    pub lookback_bars: usize,
    /// |z| giving a full score (2).
    pub full_scale_z: f64,
}

impl Default for SpreadZParams {
    fn default() -> Self {
        Self { lookback_bars: 120, full_scale_z: 2.0 }
    }
}

/// OPEC+ production against quota: score `−excess / full_scale_kbpd`, clipped to ±1
/// (over-production is bearish). A month's figures count from the first day of the next
/// month plus `publication_lag_days`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpecQuotaParams {
    /// Excess production giving a full score, kb/d (1,000).
    pub full_scale_kbpd: f64,
    /// Days after the month's end before its figures are used (15).
    pub publication_lag_days: u32,
}

impl Default for OpecQuotaParams {
    fn default() -> Self {
        Self { full_scale_kbpd: 1_000.0, publication_lag_days: 15 }
    }
}

/// Every source's entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesConfig {
    /// Moving-average crossover.
    pub ma_crossover: SourceEntry<MaCrossoverParams>,
    /// RSI extremes.
    pub rsi_extremes: SourceEntry<RsiExtremesParams>,
    /// Bollinger touch with Keltner filter.
    pub bollinger_touch: SourceEntry<BollingerTouchParams>,
    /// Donchian breakout.
    pub donchian_breakout: SourceEntry<DonchianBreakoutParams>,
    /// ADX trend strength.
    pub adx_trend: SourceEntry<AdxTrendParams>,
    /// Multi-horizon momentum.
    pub momentum: SourceEntry<MomentumParams>,
    /// MACD histogram.
    pub macd_histogram: SourceEntry<MacdHistogramParams>,
    /// Inventory surprise.
    pub inventory_surprise: SourceEntry<InventorySurpriseParams>,
    /// Term-structure carry.
    pub term_structure_carry: SourceEntry<TermStructureCarryParams>,
    /// Crack-spread mean reversion.
    pub crack_mean_reversion: SourceEntry<SpreadZParams>,
    /// WTI–Brent spread z-score.
    pub wti_brent_spread: SourceEntry<SpreadZParams>,
    /// OPEC+ production versus quota.
    pub opec_quota: SourceEntry<OpecQuotaParams>,
}

/// The fields every source has, resolved (defaults applied).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCommon<'a> {
    /// Weight.
    pub weight: f64,
    /// Family.
    pub family: &'a str,
    /// Regime style.
    pub style: RegimeStyle,
    /// Horizon, bars.
    pub horizon_bars: usize,
}

/// Default horizon of each source, bars.
pub const fn default_horizon_bars(source: SourceId) -> usize {
    match source {
        SourceId::MaCrossover => 20,
        SourceId::RsiExtremes => 5,
        SourceId::BollingerTouch => 5,
        SourceId::DonchianBreakout => 20,
        SourceId::AdxTrend => 10,
        SourceId::Momentum => 20,
        SourceId::MacdHistogram => 10,
        SourceId::InventorySurprise => 5,
        SourceId::TermStructureCarry => 20,
        SourceId::CrackMeanReversion => 20,
        SourceId::WtiBrentSpread => 20,
        SourceId::OpecQuota => 20,
    }
}

impl SourcesConfig {
    fn raw(&self, source: SourceId) -> (f64, &str, Option<RegimeStyle>, Option<usize>) {
        macro_rules! pick {
            ($e:expr) => {
                ($e.weight, $e.family.as_str(), $e.style, $e.horizon_bars)
            };
        }
        match source {
            SourceId::MaCrossover => pick!(self.ma_crossover),
            SourceId::RsiExtremes => pick!(self.rsi_extremes),
            SourceId::BollingerTouch => pick!(self.bollinger_touch),
            SourceId::DonchianBreakout => pick!(self.donchian_breakout),
            SourceId::AdxTrend => pick!(self.adx_trend),
            SourceId::Momentum => pick!(self.momentum),
            SourceId::MacdHistogram => pick!(self.macd_histogram),
            SourceId::InventorySurprise => pick!(self.inventory_surprise),
            SourceId::TermStructureCarry => pick!(self.term_structure_carry),
            SourceId::CrackMeanReversion => pick!(self.crack_mean_reversion),
            SourceId::WtiBrentSpread => pick!(self.wti_brent_spread),
            SourceId::OpecQuota => pick!(self.opec_quota),
        }
    }

    /// The common fields of `source`, defaults applied.
    pub fn common(&self, source: SourceId) -> SourceCommon<'_> {
        let (weight, family, style, horizon) = self.raw(source);
        SourceCommon {
            weight,
            family,
            style: style.unwrap_or(source.default_style()),
            horizon_bars: horizon.unwrap_or(default_horizon_bars(source)),
        }
    }
}

impl Default for SourcesConfig {
    fn default() -> Self {
        fn entry<P: Default>(weight: f64, family: &str) -> SourceEntry<P> {
            SourceEntry { weight, family: family.to_string(), style: None, horizon_bars: None, params: P::default() }
        }
        Self {
            ma_crossover: entry(1.0, "trend"),
            rsi_extremes: entry(1.0, "reversion"),
            bollinger_touch: entry(1.0, "reversion"),
            donchian_breakout: entry(1.0, "trend"),
            adx_trend: entry(0.5, "trend"),
            momentum: entry(1.0, "trend"),
            macd_histogram: entry(1.0, "trend"),
            inventory_surprise: entry(1.0, "inventory"),
            term_structure_carry: entry(1.0, "carry"),
            crack_mean_reversion: entry(0.75, "spreads"),
            wti_brent_spread: entry(0.75, "spreads"),
            opec_quota: entry(0.5, "supply"),
        }
    }
}

impl Default for SignalsConfig {
    fn default() -> Self {
        Self {
            version: SIGNALS_CONFIG_VERSION,
            aggregation: AggregationConfig::default(),
            regime: RegimeConfig::default(),
            risk: RiskConfig::default(),
            sources: SourcesConfig::default(),
        }
    }
}

/// Builds `Invalid` errors for one file.
struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn err(&self, entry: &str, field: &str, reason: String) -> ConfigError {
        ConfigError::Invalid { file: self.file.to_string(), entry: entry.to_string(), field: field.to_string(), reason }
    }

    fn bars(&self, entry: &str, field: &str, value: usize, min: usize) -> Result<(), ConfigError> {
        if value < min || value > MAX_BARS {
            return Err(self.err(
                entry,
                field,
                format!("{value} is out of range; use a whole number from {min} to {MAX_BARS}"),
            ));
        }
        Ok(())
    }

    fn positive(&self, entry: &str, field: &str, value: f64) -> Result<(), ConfigError> {
        if !(value.is_finite() && value > 0.0) {
            return Err(self.err(entry, field, format!("{value} is not accepted; use a finite number > 0")));
        }
        Ok(())
    }

    fn non_negative(&self, entry: &str, field: &str, value: f64) -> Result<(), ConfigError> {
        if !(value.is_finite() && value >= 0.0) {
            return Err(self.err(entry, field, format!("{value} is not accepted; use a finite number >= 0")));
        }
        Ok(())
    }

    fn unit(&self, entry: &str, field: &str, value: f64) -> Result<(), ConfigError> {
        if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
            return Err(self.err(entry, field, format!("{value} is not accepted; use a number from 0 to 1")));
        }
        Ok(())
    }

    fn rsi_level(&self, entry: &str, field: &str, value: f64) -> Result<(), ConfigError> {
        if !(value.is_finite() && value > 0.0 && value < 100.0) {
            return Err(self.err(entry, field, format!("{value} is not accepted; use an RSI level between 0 and 100")));
        }
        Ok(())
    }
}

impl SignalsConfig {
    /// Load and validate a configuration file.
    ///
    /// # Errors
    /// [`ConfigError::Io`] when the file cannot be read, [`ConfigError::Parse`] when the
    /// YAML does not match the schema, [`ConfigError::Invalid`] for a value out of range.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { file: file.clone(), source })?;
        Self::from_yaml_str(&text, &file)
    }

    /// Parse and validate YAML text; `file` labels the messages.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] or [`ConfigError::Invalid`].
    pub fn from_yaml_str(text: &str, file: &str) -> Result<Self, ConfigError> {
        let config: SignalsConfig = serde_yaml::from_str(text)
            .map_err(|e| ConfigError::Parse { file: file.to_string(), message: e.to_string() })?;
        config.validate(file)?;
        Ok(config)
    }

    /// Check every value; `file` labels the messages.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first entry and field out of range.
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let c = Checker { file };
        if self.version != SIGNALS_CONFIG_VERSION {
            return Err(c.err(
                "(top level)",
                "version",
                format!(
                    "{} is not supported; this version of Crude reads version {SIGNALS_CONFIG_VERSION}",
                    self.version
                ),
            ));
        }
        let a = &self.aggregation;
        let e = "aggregation";
        if !(a.entry_threshold.is_finite() && a.entry_threshold > 0.0 && a.entry_threshold < 1.0) {
            return Err(c.err(
                e,
                "entry_threshold",
                format!("{} is not accepted; use a number between 0 and 1", a.entry_threshold),
            ));
        }
        c.bars(e, "default_horizon_bars", a.default_horizon_bars, 1)?;
        c.bars(e, "correlation_lookback_bars", a.correlation_lookback_bars, 2)?;
        c.bars(e, "min_correlation_bars", a.min_correlation_bars, 2)?;
        if a.min_correlation_bars > a.correlation_lookback_bars {
            return Err(c.err(
                e,
                "min_correlation_bars",
                format!(
                    "{} exceeds correlation_lookback_bars ({}); use at most the lookback",
                    a.min_correlation_bars, a.correlation_lookback_bars
                ),
            ));
        }

        let r = &self.regime;
        let e = "regime";
        c.bars(e, "adx_period", r.adx_period, 2)?;
        c.rsi_level(e, "ranging_below", r.ranging_below)?;
        c.rsi_level(e, "trending_above", r.trending_above)?;
        if r.trending_above <= r.ranging_below {
            return Err(c.err(
                e,
                "trending_above",
                format!(
                    "{} is not above ranging_below ({}); the trending threshold must be the higher one",
                    r.trending_above, r.ranging_below
                ),
            ));
        }
        c.non_negative(e, "hysteresis", r.hysteresis)?;
        c.bars(e, "confirm_bars", r.confirm_bars, 1)?;
        let s = &r.squeeze;
        let e = "regime.squeeze";
        c.bars(e, "bb_period", s.bb_period, 2)?;
        c.positive(e, "bb_k", s.bb_k)?;
        c.bars(e, "kc_period", s.kc_period, 2)?;
        c.positive(e, "kc_k", s.kc_k)?;
        c.bars(e, "kc_atr_period", s.kc_atr_period, 1)?;
        c.bars(e, "confirm_bars", s.confirm_bars, 1)?;
        for style in [RegimeStyle::Trend, RegimeStyle::Reversion, RegimeStyle::Fundamental] {
            let t = r.scales.of(style);
            let e = format!("regime.scales.{}", style.name());
            for (field, v) in [
                ("ranging", t.ranging),
                ("transitional", t.transitional),
                ("trending", t.trending),
                ("unknown", t.unknown),
            ] {
                c.unit(&e, field, v)?;
            }
        }

        let k = &self.risk;
        let e = "risk";
        c.bars(e, "atr_period", k.atr_period, 1)?;
        c.positive(e, "stop_atr", k.stop_atr)?;
        c.positive(e, "target_atr", k.target_atr)?;
        c.non_negative(e, "risk_budget_usd", k.risk_budget_usd)?;
        if k.max_contracts < 0 {
            return Err(c.err(e, "max_contracts", format!("{} is negative; use 0 or more contracts", k.max_contracts)));
        }

        let mut total = 0.0;
        for source in SourceId::ALL {
            let (weight, family, _, horizon) = self.sources.raw(source);
            let e = format!("sources.{}", source.name());
            if !weight.is_finite() || weight < 0.0 {
                return Err(c.err(
                    &e,
                    "weight",
                    format!("{weight} is not accepted; use a weight >= 0 (0 switches the source off)"),
                ));
            }
            total += weight;
            if family.trim().is_empty()
                || !family.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
            {
                return Err(c.err(
                    &e,
                    "family",
                    format!("`{family}` is not accepted; use a non-empty name of letters, digits, `_` or `-`"),
                ));
            }
            if let Some(h) = horizon {
                c.bars(&e, "horizon_bars", h, 1)?;
            }
        }
        if total <= 0.0 {
            return Err(c.err(
                "sources",
                "weight",
                "every weight is 0; give at least one source a positive weight".into(),
            ));
        }
        self.validate_params(&c)
    }

    fn validate_params(&self, c: &Checker<'_>) -> Result<(), ConfigError> {
        let s = &self.sources;
        let e = "sources.ma_crossover.params";
        let p = &s.ma_crossover.params;
        c.bars(e, "fast", p.fast, 2)?;
        c.bars(e, "slow", p.slow, 3)?;
        if p.slow <= p.fast {
            return Err(c.err(
                e,
                "slow",
                format!("{} is not above fast ({}); the slow average needs the longer period", p.slow, p.fast),
            ));
        }
        c.positive(e, "full_scale_atr", p.full_scale_atr)?;

        let e = "sources.rsi_extremes.params";
        let p = &s.rsi_extremes.params;
        c.bars(e, "period", p.period, 2)?;
        c.rsi_level(e, "oversold", p.oversold)?;
        c.rsi_level(e, "overbought", p.overbought)?;
        c.rsi_level(e, "exit_level", p.exit_level)?;
        if !(p.oversold < p.exit_level && p.exit_level < p.overbought) {
            return Err(c.err(
                e,
                "exit_level",
                format!(
                    "{} must lie between oversold ({}) and overbought ({})",
                    p.exit_level, p.oversold, p.overbought
                ),
            ));
        }

        let e = "sources.bollinger_touch.params";
        let p = &s.bollinger_touch.params;
        c.bars(e, "period", p.period, 2)?;
        c.positive(e, "k", p.k)?;
        c.bars(e, "kc_period", p.kc_period, 2)?;
        c.positive(e, "kc_k", p.kc_k)?;
        c.bars(e, "kc_atr_period", p.kc_atr_period, 1)?;

        c.bars("sources.donchian_breakout.params", "period", s.donchian_breakout.params.period, 2)?;

        let e = "sources.adx_trend.params";
        let p = &s.adx_trend.params;
        c.bars(e, "period", p.period, 2)?;
        c.rsi_level(e, "min_adx", p.min_adx)?;
        c.rsi_level(e, "full_adx", p.full_adx)?;
        if p.full_adx <= p.min_adx {
            return Err(c.err(e, "full_adx", format!("{} is not above min_adx ({})", p.full_adx, p.min_adx)));
        }

        let e = "sources.momentum.params";
        let p = &s.momentum.params;
        if p.horizons.is_empty() || p.horizons.len() > 8 {
            return Err(c.err(
                e,
                "horizons",
                format!("{} horizon(s) given; list 1 to 8 horizons in bars, e.g. [5, 20, 60]", p.horizons.len()),
            ));
        }
        for h in &p.horizons {
            c.bars(e, "horizons", *h, 1)?;
        }
        c.positive(e, "full_scale_z", p.full_scale_z)?;

        let e = "sources.macd_histogram.params";
        let p = &s.macd_histogram.params;
        c.bars(e, "fast", p.fast, 2)?;
        c.bars(e, "slow", p.slow, 2)?;
        c.bars(e, "signal", p.signal, 1)?;
        if p.slow <= p.fast {
            return Err(c.err(e, "slow", format!("{} is not above fast ({})", p.slow, p.fast)));
        }
        c.positive(e, "full_scale_atr", p.full_scale_atr)?;

        let e = "sources.inventory_surprise.params";
        let p = &s.inventory_surprise.params;
        c.bars(e, "lookback_reports", p.lookback_reports, 2)?;
        c.bars(e, "min_reports", p.min_reports, 2)?;
        if p.min_reports > p.lookback_reports {
            return Err(c.err(
                e,
                "min_reports",
                format!("{} exceeds lookback_reports ({})", p.min_reports, p.lookback_reports),
            ));
        }
        c.positive(e, "full_scale_z", p.full_scale_z)?;
        c.bars(e, "decay_bars", p.decay_bars, 1)?;

        c.positive(
            "sources.term_structure_carry.params",
            "full_scale_annual",
            s.term_structure_carry.params.full_scale_annual,
        )?;

        for (e, p) in [
            ("sources.crack_mean_reversion.params", &s.crack_mean_reversion.params),
            ("sources.wti_brent_spread.params", &s.wti_brent_spread.params),
        ] {
            c.bars(e, "lookback_bars", p.lookback_bars, 2)?;
            c.positive(e, "full_scale_z", p.full_scale_z)?;
        }

        let e = "sources.opec_quota.params";
        let p = &s.opec_quota.params;
        c.positive(e, "full_scale_kbpd", p.full_scale_kbpd)?;
        if p.publication_lag_days > 366 {
            return Err(c.err(
                e,
                "publication_lag_days",
                format!("{} is out of range; use 0 to 366 days", p.publication_lag_days),
            ));
        }
        Ok(())
    }

    /// The families in first-appearance order of [`SourceId::ALL`].
    pub fn families(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in SourceId::ALL {
            let f = self.sources.common(s).family;
            if !out.iter().any(|x| x == f) {
                out.push(f.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../config/signals.yaml");

    #[test]
    fn shipped_file_is_the_default() {
        let cfg = SignalsConfig::from_yaml_str(SHIPPED, "config/signals.yaml").unwrap();
        assert_eq!(cfg, SignalsConfig::default());
        SignalsConfig::default().validate("default").unwrap();
        assert_eq!(cfg.families(), ["trend", "reversion", "inventory", "carry", "spreads", "supply"]);
        let common = cfg.sources.common(SourceId::RsiExtremes);
        assert_eq!((common.style, common.horizon_bars), (RegimeStyle::Reversion, 5));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/signals.yaml");
        assert_eq!(SignalsConfig::load(&path).unwrap(), cfg);
    }

    fn err(text: &str) -> String {
        SignalsConfig::from_yaml_str(text, "signals.yaml").unwrap_err().to_string()
    }

    /// The shipped file with one line replaced.
    fn edited(from: &str, to: &str) -> String {
        assert!(SHIPPED.contains(from), "fixture line `{from}` not in the shipped file");
        SHIPPED.replacen(from, to, 1)
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_entry() {
        let msg = err(&edited("    weight: 1.0\n    family: trend\n", "    wieght: 1.0\n    family: trend\n"));
        assert!(msg.starts_with("signals.yaml: sources.ma_crossover: unknown field `wieght`"), "{msg}");
        assert!(msg.contains("line"), "{msg}");
        let msg = err(&edited("  entry_threshold:", "  entry_treshold:"));
        assert!(msg.contains("aggregation: unknown field `entry_treshold`"), "{msg}");
        let msg = err(&format!("{SHIPPED}\nextra: 1\n"));
        assert!(msg.contains("unknown field `extra`"), "{msg}");
        let msg = err(&edited("      fast: 10\n", "      fats: 10\n"));
        assert!(msg.contains("sources.ma_crossover.params: unknown field `fats`"), "{msg}");
    }

    #[test]
    fn missing_sources_and_fields_are_errors() {
        let start = SHIPPED.find("  opec_quota:").unwrap();
        let msg = err(&SHIPPED[..start]);
        assert!(msg.contains("sources: missing field `opec_quota`"), "{msg}");
        let msg = err(&edited("    weight: 0.5\n    family: supply\n", "    family: supply\n"));
        assert!(msg.contains("sources.opec_quota: missing field `weight`"), "{msg}");
        let msg = err("version: 1\n");
        assert!(msg.contains("missing field `sources`"), "{msg}");
    }

    #[test]
    fn bad_values_name_entry_and_field() {
        let msg = err(&edited("    weight: 1.0\n    family: trend\n", "    weight: -1.0\n    family: trend\n"));
        assert_eq!(
            msg,
            "signals.yaml: entry 'sources.ma_crossover', field 'weight': -1 is not accepted; use a weight >= 0 (0 switches the source off)"
        );
        let msg = err(&edited("    weight: 1.0\n    family: trend\n", "    weight: .nan\n    family: trend\n"));
        assert!(msg.contains("field 'weight'"), "{msg}");
        let msg = err(&edited("    family: carry\n", "    family: \"\"\n"));
        assert!(msg.contains("entry 'sources.term_structure_carry', field 'family'"), "{msg}");
        let msg = err(&edited("      slow: 40\n", "      slow: 5\n"));
        assert!(msg.contains("entry 'sources.ma_crossover.params', field 'slow': 5 is not above fast (10)"), "{msg}");
        let msg = err(&edited("  trending_above: 25.0\n", "  trending_above: 15.0\n"));
        assert!(msg.contains("entry 'regime', field 'trending_above'"), "{msg}");
        let msg = err(&edited("version: 1\n", "version: 2\n"));
        assert!(msg.contains("field 'version': 2 is not supported"), "{msg}");
        let msg = err(&edited("    trend: {ranging: 0.0,", "    trend: {ranging: 1.5,"));
        assert!(msg.contains("entry 'regime.scales.trend', field 'ranging'"), "{msg}");
        let msg = err(&edited("      horizons: [5, 20, 60]\n", "      horizons: []\n"));
        assert!(msg.contains("entry 'sources.momentum.params', field 'horizons'"), "{msg}");
        let msg = err(&edited("  max_contracts: 20\n", "  max_contracts: -1\n"));
        assert!(msg.contains("entry 'risk', field 'max_contracts'"), "{msg}");
        let mut zero = SignalsConfig::default();
        for s in SourceId::ALL {
            set_weight(&mut zero, s, 0.0);
        }
        assert!(zero.validate("x").unwrap_err().to_string().contains("every weight is 0"));
    }

    /// Set one source's weight (test helper).
    pub(crate) fn set_weight(cfg: &mut SignalsConfig, source: SourceId, w: f64) {
        let s = &mut cfg.sources;
        match source {
            SourceId::MaCrossover => s.ma_crossover.weight = w,
            SourceId::RsiExtremes => s.rsi_extremes.weight = w,
            SourceId::BollingerTouch => s.bollinger_touch.weight = w,
            SourceId::DonchianBreakout => s.donchian_breakout.weight = w,
            SourceId::AdxTrend => s.adx_trend.weight = w,
            SourceId::Momentum => s.momentum.weight = w,
            SourceId::MacdHistogram => s.macd_histogram.weight = w,
            SourceId::InventorySurprise => s.inventory_surprise.weight = w,
            SourceId::TermStructureCarry => s.term_structure_carry.weight = w,
            SourceId::CrackMeanReversion => s.crack_mean_reversion.weight = w,
            SourceId::WtiBrentSpread => s.wti_brent_spread.weight = w,
            SourceId::OpecQuota => s.opec_quota.weight = w,
        }
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let msg = SignalsConfig::load(Path::new("/nonexistent/signals.yaml")).unwrap_err().to_string();
        assert!(msg.starts_with("cannot read /nonexistent/signals.yaml"), "{msg}");
    }
}
