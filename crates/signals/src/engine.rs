//! [`SignalEngine`]: every source, the regime and the composite, updated bar by bar for the
//! four markets, as the app's signal worker and the backtester run it.
//!
//! # Feeding it
//!
//! * [`SignalEngine::on_bar`] with each completed bar of a market's front series (one
//!   timeframe per engine; periods are in bars of that timeframe) returns a
//!   [`SignalSnapshot`] once the ATR has a value (`risk.atr_period + 1` bars), `None`
//!   before. A bar that is not after the market's previous bar, or has a non-finite price
//!   or `high < low`, is ignored (counted by [`SignalEngine::rejected_bars`]).
//! * [`SignalEngine::on_curve`] with each futures curve (term-structure carry).
//! * [`SignalEngine::on_inventory`] with each weekly EIA report (inventory surprise), or
//!   [`SignalEngine::on_inventory_week`] with weeks read from an EIA weekly CSV.
//! * [`SignalEngine::set_opec_table`] with the OPEC+ production table.
//! * [`SignalEngine::set_bar_fields`] when a market's bars carry closes only: sources that
//!   need highs and lows are then reported unavailable and the regime is `unknown`.
//!
//! Work per bar is a fixed number of O(1) indicator updates plus O(sources²) for the
//! family correlations; the only allocations are the snapshot's own (its component list,
//! family names and inputs). The engine does no
//! I/O and never reads the clock; [`crate::SignalHistory`] stores what it produces.
//!
//! A snapshot lists every source that applies to the market (the WTI–Brent spread and
//! OPEC+ only apply to CL and BZ), with `available: false` and the reason where it has no
//! reading — a missing source is never silently dropped.

use std::borrow::Cow;

use crude_analytics::{InventorySnapshot, InventoryWeek, TermStructureConfig, TermStructureMetrics};
use crude_model::{Bar, CurveSnapshot, InventoryReport, Market, Timestamp, contract_multiplier};
use serde::{Deserialize, Serialize};

use crate::aggregate::{FamilyCorrelation, Part, combine};
use crate::config::{ConfigError, SignalsConfig};
use crate::fundamental::{CurveInfo, InventorySignal, SpreadKind, SpreadSampler, carry_reading, opec_reading};
use crate::indicators::{Atr, IndicatorError, OhlcvBar};
use crate::opec::OpecTable;
use crate::regime::{Regime, RegimeDetector, RegimeState};
use crate::source::{Direction, SourceId};
use crate::technical::{
    AdxTrend, BollingerTouch, DonchianBreakout, MaCrossover, MacdHistogram, Momentum, Reading, RsiExtremes,
};

const N: usize = SourceId::ALL.len();

/// One named input of a signal (stored with it in the history as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalInput {
    /// Input name, e.g. `rsi`.
    pub name: Cow<'static, str>,
    /// Its value.
    pub value: f64,
}

/// One source's contribution at a bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// The source.
    pub source: SourceId,
    /// Its family (config).
    pub family: String,
    /// Whether it has a reading; when `false`, `reason` says why and the numbers are 0.
    pub available: bool,
    /// Why it has no reading.
    pub reason: Option<Cow<'static, str>>,
    /// LONG / SHORT / NEUTRAL by `|score| >= aggregation.entry_threshold`.
    pub direction: Direction,
    /// `100·|score|`.
    pub confidence: f64,
    /// Signed strength in [−1, 1].
    pub score: f64,
    /// Weight it enters the composite with: config weight × family factor × regime scale.
    pub weight: f64,
    /// Its configured weight.
    pub config_weight: f64,
    /// The value the score came from (RSI, z-score, roll yield, …).
    pub raw_value: Option<f64>,
    /// Horizon, bars.
    pub horizon_bars: usize,
    /// The inputs of the reading.
    pub inputs: Vec<SignalInput>,
}

/// The combined view.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Composite {
    /// LONG / SHORT / NEUTRAL.
    pub direction: Direction,
    /// 0–100: `100·|score|·coverage`.
    pub confidence: f64,
    /// Composite score in [−1, 1].
    pub score: f64,
    /// Share (0–1) of the applicable weight that had a reading.
    pub coverage: f64,
    /// Holding horizon, bars.
    pub horizon_bars: usize,
    /// Stop price (None when NEUTRAL).
    pub stop: Option<f64>,
    /// Target price (None when NEUTRAL).
    pub target: Option<f64>,
    /// Suggested size, whole contracts, >= 0 (0 when NEUTRAL); the direction gives the side.
    pub size: i64,
}

/// Everything the engine concluded at one bar of one market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalSnapshot {
    /// The market.
    pub market: Market,
    /// Start of the bar that produced it.
    pub ts: Timestamp,
    /// The bar's session id (as passed to `on_bar`).
    pub session_id: i64,
    /// The bar's close (the signal's entry price).
    pub close: f64,
    /// ATR at the bar.
    pub atr: f64,
    /// The composite.
    pub composite: Composite,
    /// Every source that applies to the market, in [`SourceId::ALL`] order.
    pub components: Vec<Component>,
    /// The regime.
    pub regime: RegimeState,
}

/// Which fields a market's bars carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BarFields {
    /// Open, high, low, close.
    #[default]
    Ohlc,
    /// Close only (high, low and open are ignored).
    CloseOnly,
}

/// Errors building an engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An indicator rejected a parameter the config validation let through.
    #[error("signals config: {0}")]
    Indicator(#[from] IndicatorError),
    /// An analytics parameter was rejected.
    #[error("signals config: {0}")]
    Analytics(#[from] crude_analytics::MarketAnalyticsError),
}

#[derive(Debug, Clone)]
struct MarketState {
    fields: BarFields,
    last_ts: Option<Timestamp>,
    atr: Atr,
    regime: RegimeDetector,
    ma: MaCrossover,
    rsi: RsiExtremes,
    bb: BollingerTouch,
    dc: DonchianBreakout,
    adx: AdxTrend,
    momentum: Momentum,
    macd: MacdHistogram,
    corr: FamilyCorrelation,
}

/// The live signal engine for the four markets.
#[derive(Debug, Clone)]
pub struct SignalEngine {
    config: SignalsConfig,
    families: Vec<String>,
    family_of: [usize; N],
    markets: Vec<MarketState>,
    last_bar: [Option<(Timestamp, f64)>; 4],
    crack: SpreadSampler,
    wti_brent: SpreadSampler,
    inventory: InventorySignal,
    term_config: TermStructureConfig,
    curves: [Option<CurveInfo>; 4],
    opec: Option<OpecTable>,
    rejected: u64,
}

impl SignalEngine {
    /// An engine with `config` (validated again here).
    ///
    /// # Errors
    /// [`EngineError::Config`] for an invalid config; the other variants only if an
    /// indicator or analytics check is stricter than the config validation.
    pub fn new(config: SignalsConfig) -> Result<Self, EngineError> {
        config.validate("signals config")?;
        let families = config.families();
        let family_of: [usize; N] = std::array::from_fn(|i| {
            let f = config.sources.common(SourceId::ALL[i]).family;
            families.iter().position(|x| x == f).unwrap_or(usize::MAX)
        });
        let s = &config.sources;
        let hold = |src: SourceId| config.sources.common(src).horizon_bars;
        let mut markets = Vec::with_capacity(4);
        for market in Market::ALL {
            let fam: [usize; N] =
                std::array::from_fn(|i| if SourceId::ALL[i].applies_to(market) { family_of[i] } else { usize::MAX });
            markets.push(MarketState {
                fields: BarFields::Ohlc,
                last_ts: None,
                atr: Atr::new(config.risk.atr_period)?,
                regime: RegimeDetector::new(&config.regime)?,
                ma: MaCrossover::new(&s.ma_crossover.params)?,
                rsi: RsiExtremes::new(&s.rsi_extremes.params, hold(SourceId::RsiExtremes))?,
                bb: BollingerTouch::new(&s.bollinger_touch.params, hold(SourceId::BollingerTouch))?,
                dc: DonchianBreakout::new(&s.donchian_breakout.params, hold(SourceId::DonchianBreakout))?,
                adx: AdxTrend::new(&s.adx_trend.params)?,
                momentum: Momentum::new(&s.momentum.params),
                macd: MacdHistogram::new(&s.macd_histogram.params)?,
                corr: FamilyCorrelation::new(
                    fam,
                    config.aggregation.correlation_lookback_bars,
                    config.aggregation.min_correlation_bars,
                ),
            });
        }
        Ok(Self {
            crack: SpreadSampler::new(SpreadKind::Crack321, &s.crack_mean_reversion.params)?,
            wti_brent: SpreadSampler::new(SpreadKind::WtiBrent, &s.wti_brent_spread.params)?,
            inventory: InventorySignal::new(&s.inventory_surprise.params)?,
            term_config: TermStructureConfig::default(),
            curves: Default::default(),
            opec: None,
            rejected: 0,
            last_bar: [None; 4],
            markets,
            families,
            family_of,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SignalsConfig {
        &self.config
    }

    /// Declare which fields `market`'s bars carry (default [`BarFields::Ohlc`]).
    pub fn set_bar_fields(&mut self, market: Market, fields: BarFields) {
        self.markets[market.index()].fields = fields;
    }

    /// Use `config` for the term-structure metrics of incoming curves (the neutral band
    /// is in each market's price units; the default suits crude).
    ///
    /// # Errors
    /// [`crude_analytics::MarketAnalyticsError`] for an invalid config.
    pub fn set_term_structure_config(
        &mut self,
        config: TermStructureConfig,
    ) -> Result<(), crude_analytics::MarketAnalyticsError> {
        config.validate()?;
        self.term_config = config;
        Ok(())
    }

    /// Load (or replace) the OPEC+ production table.
    pub fn set_opec_table(&mut self, table: OpecTable) {
        self.opec = Some(table);
    }

    /// A futures curve: updates the market's term-structure carry. A bad curve (a NaN
    /// price, months out of order) makes carry unavailable with the reason until a good
    /// one arrives.
    pub fn on_curve(&mut self, curve: &CurveSnapshot) {
        let slot = &mut self.curves[curve.market.index()];
        if slot.as_ref().is_some_and(|c| c.ts > curve.ts) {
            return;
        }
        *slot = Some(CurveInfo::from_curve(curve, &self.term_config));
    }

    /// A weekly inventory report: updates the inventory surprise of every market. A
    /// report for a week not after the previous one is rejected (the reason shows on the
    /// inventory component).
    pub fn on_inventory(&mut self, report: &InventoryReport) {
        self.inventory.on_report(report);
    }

    /// A weekly inventory record from another source (for example a row of an EIA
    /// weekly CSV read with [`crude_analytics::read_eia_weekly_csv`]), treated as just
    /// released: the surprise fades over the bars that follow this call.
    pub fn on_inventory_week(&mut self, week: &InventoryWeek) {
        self.inventory.on_week(week);
    }

    /// Term-structure metrics of the market's latest good curve.
    pub fn term_structure(&self, market: Market) -> Option<&TermStructureMetrics> {
        self.curves[market.index()].as_ref().and_then(|c| c.metrics.as_ref().ok())
    }

    /// The latest inventory analytics.
    pub fn inventory(&self) -> Option<&InventorySnapshot> {
        self.inventory.snapshot()
    }

    /// The latest 3-2-1 crack (USD/bbl) and its z-score.
    pub fn crack_321(&self) -> Option<(f64, Option<f64>)> {
        self.crack.latest()
    }

    /// The latest WTI − Brent spread (USD/bbl) and its z-score.
    pub fn wti_brent(&self) -> Option<(f64, Option<f64>)> {
        self.wti_brent.latest()
    }

    /// The market's current regime.
    pub fn regime(&self, market: Market) -> RegimeState {
        self.markets[market.index()].regime.state()
    }

    /// Bars ignored so far (out of order, non-finite, high below low).
    pub fn rejected_bars(&self) -> u64 {
        self.rejected
    }

    fn accept(&self, market: Market, bar: &Bar) -> bool {
        let st = &self.markets[market.index()];
        if st.last_ts.is_some_and(|t| bar.start <= t) || !bar.close.is_finite() {
            return false;
        }
        st.fields == BarFields::CloseOnly
            || (bar.open.is_finite() && bar.high.is_finite() && bar.low.is_finite() && bar.high >= bar.low)
    }

    /// A completed bar of `market` (see the module docs).
    pub fn on_bar(&mut self, market: Market, bar: &Bar, session_id: i64) -> Option<SignalSnapshot> {
        if !self.accept(market, bar) {
            self.rejected += 1;
            return None;
        }
        let mi = market.index();
        let close = bar.close;
        let ohlc = self.markets[mi].fields == BarFields::Ohlc;
        let ob = if ohlc { OhlcvBar::from(bar) } else { OhlcvBar::new(close, close, close, close, bar.volume as f64) };
        self.last_bar[mi] = Some((bar.start, close));
        self.crack.try_sample(&self.last_bar);
        self.wti_brent.try_sample(&self.last_bar);
        self.inventory.on_bar(market);

        let st = &mut self.markets[mi];
        st.last_ts = Some(bar.start);
        let atr = st.atr.update(&ob);
        let regime = if ohlc { st.regime.update(&ob) } else { RegimeState::default() };
        let no_hl = || Reading::warming("needs bar highs and lows; the input has closes only");
        let mut readings: [Reading; N] = std::array::from_fn(|_| Reading::warming("does not apply to this market"));
        readings[SourceId::MaCrossover.index()] = st.ma.update(close, atr);
        readings[SourceId::RsiExtremes.index()] = st.rsi.update(close);
        readings[SourceId::Momentum.index()] = st.momentum.update(close, atr);
        readings[SourceId::MacdHistogram.index()] = st.macd.update(close, atr);
        if ohlc {
            readings[SourceId::BollingerTouch.index()] = st.bb.update(&ob);
            readings[SourceId::DonchianBreakout.index()] = st.dc.update(&ob);
            readings[SourceId::AdxTrend.index()] = st.adx.update(&ob);
        } else {
            for s in [SourceId::BollingerTouch, SourceId::DonchianBreakout, SourceId::AdxTrend] {
                readings[s.index()] = no_hl();
            }
        }
        let p = &self.config.sources;
        readings[SourceId::InventorySurprise.index()] = self.inventory.reading(market);
        readings[SourceId::TermStructureCarry.index()] =
            carry_reading(self.curves[mi].as_ref(), &p.term_structure_carry.params);
        readings[SourceId::CrackMeanReversion.index()] = self.crack.reading(market);
        if SourceId::WtiBrentSpread.applies_to(market) {
            readings[SourceId::WtiBrentSpread.index()] = self.wti_brent.reading(market);
        }
        if SourceId::OpecQuota.applies_to(market) {
            readings[SourceId::OpecQuota.index()] =
                opec_reading(self.opec.as_ref(), bar.start.date_utc(), &p.opec_quota.params);
        }

        let scores: [Option<f64>; N] = std::array::from_fn(|i| match &readings[i] {
            Reading::Active { score, .. } if SourceId::ALL[i].applies_to(market) => Some(*score),
            _ => None,
        });
        let st = &mut self.markets[mi];
        st.corr.push(&scores);
        let atr = atr?;
        Some(self.snapshot(market, bar, session_id, atr, regime, readings, &scores))
    }

    #[allow(clippy::too_many_arguments)]
    fn snapshot(
        &self,
        market: Market,
        bar: &Bar,
        session_id: i64,
        atr: f64,
        regime: RegimeState,
        readings: [Reading; N],
        scores: &[Option<f64>; N],
    ) -> SignalSnapshot {
        let cfg = &self.config;
        let corr = &self.markets[market.index()].corr;
        let available: [bool; N] = std::array::from_fn(|i| scores[i].is_some());
        let threshold = cfg.aggregation.entry_threshold;
        // Family factors, once per family (family indices are below N), over the members
        // that have a reading and a weight (a switched-off source must not dilute others).
        let counted: [bool; N] =
            std::array::from_fn(|i| available[i] && cfg.sources.common(SourceId::ALL[i]).weight > 0.0);
        let factors: [f64; N] =
            std::array::from_fn(|f| if f < self.families.len() { corr.factor(f, &counted) } else { 1.0 });
        let mut parts = Vec::with_capacity(N);
        let mut components = Vec::with_capacity(N);
        for (i, reading) in readings.into_iter().enumerate() {
            let source = SourceId::ALL[i];
            if !source.applies_to(market) {
                continue;
            }
            let common = cfg.sources.common(source);
            let scales = cfg.regime.scales.of(common.style);
            let regime_scale = match regime.regime {
                Regime::Ranging => scales.ranging,
                Regime::Transitional => scales.transitional,
                Regime::Trending => scales.trending,
                Regime::Unknown => scales.unknown,
            };
            let part = Part {
                available: available[i],
                score: scores[i].unwrap_or(0.0),
                config_weight: common.weight,
                family_factor: if available[i] { factors.get(self.family_of[i]).copied().unwrap_or(1.0) } else { 0.0 },
                regime_scale,
                horizon_bars: common.horizon_bars,
            };
            parts.push(part);
            let family = self.families.get(self.family_of[i]).cloned().unwrap_or_default();
            components.push(match reading {
                Reading::Active { score, raw, inputs } => Component {
                    source,
                    family,
                    available: true,
                    reason: None,
                    direction: Direction::from_score(score, threshold),
                    confidence: 100.0 * score.abs(),
                    score,
                    weight: part.effective_weight(),
                    config_weight: common.weight,
                    raw_value: raw,
                    horizon_bars: common.horizon_bars,
                    inputs,
                },
                Reading::Unavailable(why) => Component {
                    source,
                    family,
                    available: false,
                    reason: Some(why),
                    direction: Direction::Neutral,
                    confidence: 0.0,
                    score: 0.0,
                    weight: 0.0,
                    config_weight: common.weight,
                    raw_value: None,
                    horizon_bars: common.horizon_bars,
                    inputs: Vec::new(),
                },
            });
        }
        let c = combine(&parts, threshold, cfg.aggregation.default_horizon_bars);
        let direction = Direction::from_score(c.score, threshold);
        let confidence = (100.0 * c.score.abs() * c.coverage).clamp(0.0, 100.0);
        let risk = &cfg.risk;
        let (stop, target, size) = match direction.sign() {
            0 => (None, None, 0),
            sign => {
                let s = sign as f64;
                let stop_dist = risk.stop_atr * atr;
                let per_contract = stop_dist * contract_multiplier(market);
                let size = if per_contract > 0.0 {
                    let n = (risk.risk_budget_usd * confidence / 100.0 / per_contract).floor();
                    if n.is_finite() { (n as i64).clamp(0, risk.max_contracts) } else { 0 }
                } else {
                    0
                };
                (Some(bar.close - s * stop_dist), Some(bar.close + s * risk.target_atr * atr), size)
            }
        };
        SignalSnapshot {
            market,
            ts: bar.start,
            session_id,
            close: bar.close,
            atr,
            composite: Composite {
                direction,
                confidence,
                score: c.score,
                coverage: c.coverage,
                horizon_bars: c.horizon_bars,
                stop,
                target,
                size,
            },
            components,
            regime,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::set_weight;
    use crude_model::{ContractId, ContractMonth, CurvePoint};

    const DAY: i64 = 86_400;

    /// A daily bar at day `i` around `close`.
    fn bar(i: i64, close: f64, range: f64) -> Bar {
        Bar {
            start: Timestamp::from_secs(1_600_000_000 + i * DAY),
            open: close,
            high: close + range,
            low: close - range,
            close,
            volume: 1_000,
        }
    }

    fn trend_path(n: usize) -> Vec<Bar> {
        (0..n).map(|i| bar(i as i64, 40.0 + 0.4 * i as f64 + (i % 5) as f64 * 0.1, 0.6)).collect()
    }

    #[test]
    fn uptrend_gives_a_long_composite_with_stop_target_size() {
        let mut e = SignalEngine::new(SignalsConfig::default()).unwrap();
        let bars = trend_path(150);
        let mut last = None;
        for (i, b) in bars.iter().enumerate() {
            let s = e.on_bar(Market::Wti, b, i as i64);
            if i < 14 {
                assert!(s.is_none(), "no snapshot before the ATR has a value (bar {i})");
            }
            last = s.or(last);
        }
        let s = last.unwrap();
        assert_eq!(s.regime.regime, Regime::Trending);
        assert_eq!(s.composite.direction, Direction::Long, "{:?}", s.composite);
        let c = s.composite;
        assert!((c.stop.unwrap() - (s.close - 2.0 * s.atr)).abs() < 1e-9);
        assert!((c.target.unwrap() - (s.close + 3.0 * s.atr)).abs() < 1e-9);
        let want = (10_000.0 * c.confidence / 100.0 / (2.0 * s.atr * 1_000.0)).floor() as i64;
        assert_eq!(c.size, want.min(20));
        assert!(c.size > 0);
        // Every applicable source is listed; those without data say why.
        assert_eq!(s.components.len(), 12);
        let carry = s.components.iter().find(|c| c.source == SourceId::TermStructureCarry).unwrap();
        assert!(!carry.available && carry.reason.as_deref() == Some("no futures curve received yet"));
        let rsi = s.components.iter().find(|c| c.source == SourceId::RsiExtremes).unwrap();
        assert_eq!(rsi.weight, 0.0, "reversion silenced in a trending regime");
        assert!(rsi.available);
        // Coverage: the seven technical sources have readings (6.5 of the 10.5 weight).
        assert!((c.coverage - 6.5 / 10.5).abs() < 1e-12, "{}", c.coverage);
        let json = serde_json::to_string(&s).unwrap();
        let back: SignalSnapshot = serde_json::from_str(&json).unwrap();
        // serde_json's default float parsing may differ in the last bit.
        assert_eq!(
            (back.market, back.ts, back.composite.direction, back.components.len()),
            (s.market, s.ts, c.direction, 12)
        );
        assert!((back.atr - s.atr).abs() < 1e-12 && (back.composite.score - c.score).abs() < 1e-12);
        assert_eq!(back.components[8].reason, carry.reason);
    }

    #[test]
    fn engine_and_snapshot_can_move_to_a_worker_thread() {
        fn send<T: Send + 'static>() {}
        fn snapshot_traits<T: Clone + Send + Sync + Serialize + 'static>() {}
        send::<SignalEngine>();
        snapshot_traits::<SignalSnapshot>();
        send::<crate::SignalHistory>();
    }

    #[test]
    fn inventory_weeks_from_a_csv_drive_the_surprise() {
        let mut text = String::from("week_ending,crude_change_kbbl,crude_consensus_kbbl\n");
        let mut d = chrono::NaiveDate::from_ymd_opt(2024, 1, 5).unwrap();
        for (i, s) in [300.0, -500.0, 800.0, -200.0, 100.0, -900.0, 400.0, 0.0, 600.0, 6_000.0].iter().enumerate() {
            text.push_str(&format!("{d},{},{}\n", s - 100.0 * i as f64, -100.0 * i as f64));
            d = d + chrono::Days::new(7);
        }
        let weeks = crude_analytics::parse_eia_weekly_csv(&text, "generated.csv").unwrap();
        let mut e = SignalEngine::new(SignalsConfig::default()).unwrap();
        for w in &weeks {
            e.on_inventory_week(w);
        }
        let mut last = None;
        for (i, b) in trend_path(20).iter().enumerate() {
            last = e.on_bar(Market::Brent, b, i as i64).or(last);
        }
        let inv = last.unwrap().components.into_iter().find(|c| c.source == SourceId::InventorySurprise).unwrap();
        assert!(inv.available, "{inv:?}");
        assert!(inv.raw_value.unwrap() > 2.0, "a 6,000 kbbl surprise is a large z");
        assert_eq!(inv.score, 0.0, "faded after 20 bars (decay 5)");
        assert!(e.inventory().unwrap().crude.surprise_kbbl.unwrap() > 5_999.0);
    }

    #[test]
    fn a_switched_off_source_does_not_dilute_its_family() {
        let run = |cfg: SignalsConfig| {
            let mut e = SignalEngine::new(cfg).unwrap();
            let mut last = None;
            for (i, b) in trend_path(150).iter().enumerate() {
                last = e.on_bar(Market::Wti, b, i as i64).or(last);
            }
            let s = last.unwrap();
            s.components.iter().find(|c| c.source == SourceId::MaCrossover).unwrap().weight
        };
        // In this steady trend the five trend members move together: N_eff = 1.
        assert!((run(SignalsConfig::default()) - 1.0 / 5.0).abs() < 1e-9);
        let mut cfg = SignalsConfig::default();
        set_weight(&mut cfg, SourceId::AdxTrend, 0.0);
        assert!((run(cfg) - 1.0 / 4.0).abs() < 1e-9, "four members with a weight remain");
    }

    #[test]
    fn products_have_no_wti_brent_or_opec_and_bad_bars_are_ignored() {
        let mut e = SignalEngine::new(SignalsConfig::default()).unwrap();
        let mut last = None;
        for (i, b) in trend_path(30).iter().enumerate() {
            let mut b = *b;
            b.close /= 30.0;
            b.high = b.close + 0.02;
            b.low = b.close - 0.02;
            last = e.on_bar(Market::Rbob, &b, i as i64).or(last);
        }
        let s = last.unwrap();
        assert_eq!(s.components.len(), 10);
        assert!(s.components.iter().all(|c| c.source != SourceId::WtiBrentSpread && c.source != SourceId::OpecQuota));
        let b = bar(5, 1.0, 0.1);
        assert!(e.on_bar(Market::Rbob, &b, 0).is_none(), "out of order");
        let mut nan = bar(100, 1.0, 0.1);
        nan.close = f64::NAN;
        assert!(e.on_bar(Market::Rbob, &nan, 0).is_none());
        let mut inverted = bar(101, 1.0, 0.1);
        inverted.high = 0.5;
        assert!(e.on_bar(Market::Rbob, &inverted, 0).is_none());
        assert_eq!(e.rejected_bars(), 3);
    }

    #[test]
    fn close_only_bars_report_high_low_sources_unavailable() {
        let mut e = SignalEngine::new(SignalsConfig::default()).unwrap();
        e.set_bar_fields(Market::Wti, BarFields::CloseOnly);
        let mut last = None;
        for (i, b) in trend_path(80).iter().enumerate() {
            last = e.on_bar(Market::Wti, b, i as i64).or(last);
        }
        let s = last.unwrap();
        assert_eq!(s.regime.regime, Regime::Unknown);
        for src in [SourceId::BollingerTouch, SourceId::DonchianBreakout, SourceId::AdxTrend] {
            let c = s.components.iter().find(|c| c.source == src).unwrap();
            assert!(!c.available);
            assert!(c.reason.as_deref().unwrap().contains("closes only"));
        }
        let ma = s.components.iter().find(|c| c.source == SourceId::MaCrossover).unwrap();
        assert!(ma.available && ma.direction == Direction::Long);
    }

    #[test]
    fn fundamentals_feed_the_composite() {
        let mut cfg = SignalsConfig::default();
        for s in SourceId::ALL {
            if s.is_technical() {
                set_weight(&mut cfg, s, 0.0);
            }
        }
        let mut e = SignalEngine::new(cfg).unwrap();
        let m0 = ContractMonth::new(2026, 1).unwrap();
        // Steep backwardation: roll yield ln(80/78)*12 = 0.30 > full scale 0.15 -> carry +1.
        e.on_curve(&CurveSnapshot {
            market: Market::Wti,
            ts: Timestamp(0),
            points: vec![
                CurvePoint { contract: ContractId::new(Market::Wti, m0), price: 80.0 },
                CurvePoint { contract: ContractId::new(Market::Wti, m0.plus_months(1)), price: 78.0 },
            ],
        });
        assert!(e.term_structure(Market::Wti).unwrap().roll_yield_annual.unwrap() > 0.29);
        let mut last = None;
        for (i, b) in trend_path(20).iter().enumerate() {
            last = e.on_bar(Market::Wti, b, i as i64).or(last);
        }
        let s = last.unwrap();
        let carry = s.components.iter().find(|c| c.source == SourceId::TermStructureCarry).unwrap();
        assert_eq!(carry.score, 1.0);
        // Carry alone (weight 1) of the 4.0 fundamental weight has a reading.
        assert!((s.composite.coverage - 0.25).abs() < 1e-12);
        assert_eq!(s.composite.score, 1.0);
        assert_eq!(s.composite.direction, Direction::Long);
        assert!((s.composite.confidence - 25.0).abs() < 1e-9);
        assert_eq!(s.composite.horizon_bars, 20);
    }

    #[test]
    fn aligned_bars_of_other_markets_drive_the_spreads() {
        let mut cfg = SignalsConfig::default();
        cfg.sources.wti_brent_spread.params.lookback_bars = 10;
        cfg.sources.crack_mean_reversion.params.lookback_bars = 10;
        let mut e = SignalEngine::new(cfg).unwrap();
        let mut wti_last = None;
        for i in 0..40i64 {
            let w = 70.0 + (i % 4) as f64 * 0.1;
            // WTI rich against Brent on the last bars.
            let spread_bump = if i >= 36 { 3.0 } else { 0.0 };
            e.on_bar(Market::Brent, &bar(i, w + 4.0 - spread_bump, 0.5), i);
            e.on_bar(Market::Rbob, &bar(i, 2.2, 0.02), i);
            e.on_bar(Market::HeatingOil, &bar(i, 2.5 + (i % 3) as f64 * 0.01, 0.02), i);
            wti_last = e.on_bar(Market::Wti, &bar(i, w, 0.5), i).or(wti_last);
        }
        let s = wti_last.unwrap();
        let wb = s.components.iter().find(|c| c.source == SourceId::WtiBrentSpread).unwrap();
        assert!(wb.available && wb.score < 0.0, "rich WTI is SHORT CL: {wb:?}");
        let crack = s.components.iter().find(|c| c.source == SourceId::CrackMeanReversion).unwrap();
        assert!(crack.available, "{crack:?}");
        assert!(e.wti_brent().unwrap().1.unwrap() > 1.0);
        assert!(e.crack_321().is_some());
    }
}
