//! The curve engine: term structure, calendar spreads, crack spreads against their seasonal
//! band, the WTI–Brent spread and the Brent–WTI arb, and weekly inventory surprises, over
//! daily history and live market events, as one compact [`CurveData`] per update.
//!
//! Pure computation with no I/O: the caller (the kernel's curve service) loads the history
//! ([`CurveHistory`]), passes the feed's events ([`CurveEngine::apply_events`]) and asks
//! for figures ([`CurveEngine::compute`]).
//!
//! * Per market, on its daily curves (the last curve of each trading date, the latest date
//!   being the current curve): the current curve and the curves 1 week, 1 month and 3 months
//!   ago (the last daily curve on or before the date 7, 30 and 91 days back, at most 7 days
//!   older); the term-structure metrics of [`crate::term_structure_metrics`] with the
//!   percentile of each within the configured lookback of daily closes, today's curve
//!   included (exactly [`crate::term_structure_history`] over the closes and the current
//!   curve); calendar spreads M1–M2 … M1–M12 with the same percentiles and their change over
//!   the week. A quote's mid refreshes its contract's point on the market's latest feed
//!   curve of the same trading date.
//! * Crack spreads (3-2-1, 2-1-1, gasoline, heating oil) in USD/bbl from the front months of
//!   CL, RB and HO on the dates all three have, with the seasonal profile of
//!   [`crate::seasonal_profile`] (weekly means over the configured years, the current ISO
//!   year excluded, with its band) and this and last ISO year's weekly means.
//! * WTI − Brent and the Brent–WTI arb (front months, after a transport cost), one segment
//!   per data origin, each reduced to at most its share of `max_series_points` by keeping
//!   the minimum and maximum of each bucket.
//! * Inventory surprises (actual − consensus) of crude, gasoline and distillate with their
//!   z-scores and the stocks against the 5-year range ([`crate::InventoryTracker`]), for the
//!   last `inventory_weeks` reports.
//!
//! History never overrides the feed: history from the feed's first trading date on is
//! dropped, and the feed wins any date both have. Bad events (a non-finite price, contract
//! months out of order) are skipped and reported ([`CurveEngine::take_errors`]); nothing
//! panics.

use std::collections::BTreeMap;
use std::ops::Bound;

use chrono::{Datelike, NaiveDate};
use crude_model::{
    Clock, ContractId, CurveSnapshot, InventoryReport, Market, MarketEvent, Quote, Timestamp, trading_date,
};
use serde::{Deserialize, Serialize};

use crate::{
    CrackRatio, InventoryConfig, InventorySnapshot, InventoryTracker, InventoryWeek, MarketAnalyticsError,
    PercentileTracker, SeasonalConfig, SeasonalProfile, SeasonalWeek, TermStructureConfig, TermStructureRow,
    TermStructureTracker, brent_wti_arb, calendar_spread, iso_week_means, seasonal_profile, validate_curve,
    week_ending_for_release, wti_brent_spread,
};

/// The calendar spreads listed: M1–M2 … M1–M12.
pub const SPREAD_FAR_TENORS: std::ops::RangeInclusive<usize> = 2..=12;
/// The history overlays: label and calendar days back.
pub const OVERLAYS: [(&str, i64); 3] = [("1 week ago", 7), ("1 month ago", 30), ("3 months ago", 91)];
/// How much older than its target date an overlay's curve may be (holidays, gaps).
const OVERLAY_TOLERANCE_DAYS: i64 = 7;
/// Most curve points a market's curve may have in the view.
const MAX_CURVE_POINTS: usize = 48;

/// The engine's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveEngineConfig {
    /// Tenors, neutral band (USD/bbl) and percentile lookback (daily closes) for WTI and
    /// Brent; RBOB and heating oil use it with [`Self::products_neutral_band_usd_gal`].
    pub term_structure: TermStructureConfig,
    /// Neutral band of the contango/backwardation state for RBOB and heating oil, USD/gal.
    pub products_neutral_band_usd_gal: f64,
    /// Years and band of the crack spreads' seasonal profile.
    pub seasonal: SeasonalConfig,
    /// Surprise z-score window and seasonal-range years of the inventory analytics.
    pub inventory: InventoryConfig,
    /// Cost of moving WTI to a Brent-priced market, USD/bbl, subtracted in the arb.
    pub arb_transport_cost_usd_bbl: f64,
    /// Most points of the WTI–Brent series in one update (all segments together).
    pub max_series_points: usize,
    /// Inventory reports shown (the most recent).
    pub inventory_weeks: usize,
}

impl Default for CurveEngineConfig {
    /// The analytics' term-structure settings (neutral band 0.05 USD/bbl, 252-day
    /// lookback), a products band of 0.05/42 USD/gal, a 5-year seasonal profile with the
    /// 95 % confidence band of the mean, the inventory defaults, a 3.00 USD/bbl transport
    /// cost, 400 series points, 26 inventory weeks.
    fn default() -> Self {
        Self {
            term_structure: TermStructureConfig::default(),
            products_neutral_band_usd_gal: 0.05 / crude_model::GALLONS_PER_BARREL,
            seasonal: SeasonalConfig::default(),
            inventory: InventoryConfig::default(),
            arb_transport_cost_usd_bbl: 3.0,
            max_series_points: 400,
            inventory_weeks: 26,
        }
    }
}

impl CurveEngineConfig {
    /// The term-structure settings for `market` (its neutral band in its price unit).
    pub fn term_config(&self, market: Market) -> TermStructureConfig {
        let mut c = self.term_structure;
        if market.quoted_per_gallon() {
            c.neutral_band = self.products_neutral_band_usd_gal;
        }
        c
    }
}

/// One month of WTI and Brent prices, USD/bbl.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyWtiBrent {
    /// The month's date.
    pub date: NaiveDate,
    /// WTI.
    pub wti: f64,
    /// Brent.
    pub brent: f64,
}

/// History to merge under the feed's data, all from one origin.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveHistory {
    /// Where it comes from.
    pub origin: DataOrigin,
    /// Daily curves with their trading dates.
    pub curves: Vec<(NaiveDate, CurveSnapshot)>,
    /// Weekly inventory reports.
    pub inventory: Vec<InventoryWeek>,
    /// Monthly WTI/Brent prices, dates increasing.
    pub monthly: Vec<MonthlyWtiBrent>,
}

impl CurveHistory {
    /// An empty history of `origin`.
    pub fn new(origin: DataOrigin) -> Self {
        Self { origin, curves: Vec::new(), inventory: Vec::new(), monthly: Vec::new() }
    }
}

/// What a merged history added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistoryMerge {
    /// Daily curves kept (all markets).
    pub curve_days: usize,
    /// Inventory weeks kept.
    pub inventory_weeks: usize,
    /// Monthly WTI/Brent observations kept.
    pub monthly_points: usize,
    /// First and last date of the history, if it has any.
    pub span: Option<(NaiveDate, NaiveDate)>,
}

/// Where a curve, overlay, series segment or inventory week comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataOrigin {
    /// The feed (live, replay or the simulator feed, as the top bar's badge says).
    Feed,
    /// The simulator's daily history: not real prices.
    SimulatedHistory,
    /// A history file.
    FileHistory,
}

impl DataOrigin {
    /// Short text for legends and tables.
    pub const fn label(self) -> &'static str {
        match self {
            DataOrigin::Feed => "feed",
            DataOrigin::SimulatedHistory => "simulated history",
            DataOrigin::FileHistory => "history file",
        }
    }
}

/// The four crack spreads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CrackKind {
    /// 3 crude → 2 gasoline + 1 distillate.
    #[default]
    ThreeTwoOne,
    /// 2 crude → 1 gasoline + 1 distillate.
    TwoOneOne,
    /// RBOB gasoline − crude.
    Gasoline,
    /// Heating oil − crude.
    HeatingOil,
}

impl CrackKind {
    /// Every crack, in display order.
    pub const ALL: [CrackKind; 4] =
        [CrackKind::ThreeTwoOne, CrackKind::TwoOneOne, CrackKind::Gasoline, CrackKind::HeatingOil];

    /// Name on screen.
    pub const fn label(self) -> &'static str {
        match self {
            CrackKind::ThreeTwoOne => "3-2-1",
            CrackKind::TwoOneOne => "2-1-1",
            CrackKind::Gasoline => "Gasoline",
            CrackKind::HeatingOil => "Heating oil",
        }
    }

    /// The recipe.
    pub const fn ratio(self) -> CrackRatio {
        match self {
            CrackKind::ThreeTwoOne => CrackRatio::THREE_TWO_ONE,
            CrackKind::TwoOneOne => CrackRatio::TWO_ONE_ONE,
            CrackKind::Gasoline => CrackRatio::GASOLINE,
            CrackKind::HeatingOil => CrackRatio::HEATING_OIL,
        }
    }
}

/// A curve as drawn: x = tenor (1 = M1), y = price.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveLine {
    /// Trading date of the curve.
    pub date: NaiveDate,
    /// Time of its last update.
    pub ts: Timestamp,
    /// Where it comes from.
    pub origin: DataOrigin,
    /// Contracts, front first.
    pub contracts: Vec<ContractId>,
    /// `(tenor, price)`.
    pub points: Vec<ChartPoint>,
}

/// A past curve drawn behind the current one.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveOverlay {
    /// "1 week ago", "1 month ago", "3 months ago".
    pub label: &'static str,
    /// The curve.
    pub line: CurveLine,
}

/// One calendar spread M1–M{far}.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpreadRow {
    /// The far tenor.
    pub far: usize,
    /// `F(M1) − F(M{far})` in price units; `None` when the curve is shorter.
    pub value: Option<f64>,
    /// Percentile (0–100) within the lookback, today included.
    pub percentile: Option<f64>,
    /// Change against the curve 1 week ago.
    pub change_1w: Option<f64>,
}

/// One market's term structure.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketCurve {
    /// The market.
    pub market: Market,
    /// The current curve (the latest trading date's last curve).
    pub current: CurveLine,
    /// Curves 1 week, 1 month and 3 months ago, where the history has them.
    pub overlays: Vec<CurveOverlay>,
    /// Metrics of the current curve and their percentiles.
    pub row: TermStructureRow,
    /// M1–M2 … M1–M12.
    pub spreads: Vec<SpreadRow>,
    /// Daily closes before today in the percentile window.
    pub window_days: usize,
    /// The configured lookback (daily closes, today included).
    pub lookback: usize,
    /// Neutral band in the market's price unit.
    pub neutral_band: f64,
}

/// The seasonal band behind a crack chart, by ISO week (x = week 1..53).
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalSeries {
    /// First and last ISO year in the profile.
    pub first_year: i32,
    /// Last ISO year in the profile.
    pub last_year: i32,
    /// Weekly mean over the years, `(week, mean)`.
    pub mean: Vec<ChartPoint>,
    /// Weeks that have a band (same length as `lower` and `upper`).
    pub band_weeks: Vec<f64>,
    /// Lower edge of the band.
    pub lower: Vec<f64>,
    /// Upper edge of the band.
    pub upper: Vec<f64>,
    /// The profile's entry for the current week.
    pub current_week: Option<SeasonalWeek>,
}

/// One crack spread's history and seasonal band.
#[derive(Debug, Clone, PartialEq)]
pub struct CrackSeries {
    /// Which crack.
    pub kind: CrackKind,
    /// Latest value (USD/bbl) and its trading date.
    pub latest: Option<(NaiveDate, f64)>,
    /// Where the latest value comes from.
    pub latest_origin: DataOrigin,
    /// The current ISO year.
    pub year: i32,
    /// Weekly means of the current ISO year, `(week, USD/bbl)`.
    pub current_year: Vec<ChartPoint>,
    /// Weekly means of the previous ISO year.
    pub previous_year: Vec<ChartPoint>,
    /// The seasonal profile, or why there is none.
    pub seasonal: Result<SeasonalSeries, String>,
    /// Daily observations used.
    pub days: usize,
}

/// One contiguous stretch of the WTI–Brent series from one origin; x = days since
/// 1970-01-01.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadSegment {
    /// Legend text.
    pub label: String,
    /// Where it comes from.
    pub origin: DataOrigin,
    /// WTI − Brent, USD/bbl.
    pub wti_brent: Vec<ChartPoint>,
    /// Brent − WTI − transport cost, USD/bbl.
    pub arb: Vec<ChartPoint>,
    /// First and last date.
    pub span: (NaiveDate, NaiveDate),
    /// Observations before reduction to the chart's points.
    pub observations: usize,
}

/// The WTI–Brent spread and the Brent–WTI arb.
#[derive(Debug, Clone, PartialEq)]
pub struct WtiBrentSeries {
    /// The arb's transport cost, USD/bbl.
    pub transport_cost_usd_bbl: f64,
    /// Segments, oldest first.
    pub segments: Vec<SpreadSegment>,
    /// Latest date, WTI − Brent and the arb.
    pub latest: Option<(NaiveDate, f64, f64)>,
}

/// The inventory reports shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventorySeries {
    /// The most recent reports, oldest first.
    pub weeks: Vec<(InventorySnapshot, DataOrigin)>,
    /// Reports analysed in all.
    pub total_weeks: usize,
}

/// Everything the Curve & Spreads panel draws; every series is bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveData {
    /// Increases with every update.
    pub generation: u64,
    /// Time of the latest market event included.
    pub as_of: Option<Timestamp>,
    /// Markets with a curve, in [`Market::ALL`] order.
    pub markets: Vec<MarketCurve>,
    /// Crack spreads, in [`CrackKind::ALL`] order (empty until CL, RB and HO share a date).
    pub cracks: Vec<CrackSeries>,
    /// WTI–Brent, once CL and BZ share a date or monthly history is loaded.
    pub wti_brent: Option<WtiBrentSeries>,
    /// Inventory reports.
    pub inventory: InventorySeries,
    /// Wall time the worker spent computing this update, microseconds.
    pub compute_us: u64,
}

impl CurveData {
    /// One market's curve.
    pub fn market(&self, m: Market) -> Option<&MarketCurve> {
        self.markets.iter().find(|c| c.market == m)
    }

    /// One crack's series.
    pub fn crack(&self, k: CrackKind) -> Option<&CrackSeries> {
        self.cracks.iter().find(|c| c.kind == k)
    }
}

/// One point of a chart series (`x` in the series' unit: days since the epoch, a tenor
/// number or a week of the year).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChartPoint {
    /// The x coordinate.
    pub x: f64,
    /// The y coordinate.
    pub y: f64,
}

impl ChartPoint {
    /// The point `(x, y)`.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

// ---------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Daily {
    curve: CurveSnapshot,
    origin: DataOrigin,
}

/// One market's daily curves and rolling percentile windows.
#[derive(Debug, Clone)]
struct MarketState {
    market: Market,
    config: TermStructureConfig,
    daily: BTreeMap<NaiveDate, Daily>,
    /// Latest trading date a feed curve arrived for (quotes refine that curve).
    feed_date: Option<NaiveDate>,
    proto_tracker: TermStructureTracker,
    proto_spread: PercentileTracker,
    tracker: TermStructureTracker,
    spreads: Vec<PercentileTracker>,
    /// Last daily close pushed into the windows.
    pushed_through: Option<NaiveDate>,
    /// Changes whenever a date other than the latest is added, replaced or removed.
    revision: u64,
}

impl MarketState {
    fn new(market: Market, config: TermStructureConfig) -> Result<Self, MarketAnalyticsError> {
        let proto_tracker = TermStructureTracker::new(config)?;
        let proto_spread = PercentileTracker::new(config.lookback, config.min_observations)?;
        Ok(Self {
            market,
            config,
            daily: BTreeMap::new(),
            feed_date: None,
            tracker: proto_tracker.clone(),
            spreads: SPREAD_FAR_TENORS.map(|_| proto_spread.clone()).collect(),
            proto_tracker,
            proto_spread,
            pushed_through: None,
            revision: 0,
        })
    }

    fn reset_windows(&mut self) {
        self.tracker = self.proto_tracker.clone();
        self.spreads = SPREAD_FAR_TENORS.map(|_| self.proto_spread.clone()).collect();
        self.pushed_through = None;
    }

    /// Stores a validated curve as `date`'s; a date already in the windows resets them.
    fn insert(&mut self, date: NaiveDate, curve: CurveSnapshot, origin: DataOrigin) {
        if self.pushed_through.is_some_and(|p| date <= p) {
            self.reset_windows();
        }
        if self.daily.last_key_value().is_none_or(|(d, _)| *d != date) {
            self.revision += 1;
        }
        self.daily.insert(date, Daily { curve, origin });
    }

    /// Removes `dates`.
    fn remove(&mut self, dates: &[NaiveDate]) {
        if dates.is_empty() {
            return;
        }
        for d in dates {
            self.daily.remove(d);
        }
        self.revision += 1;
        self.reset_windows();
    }

    /// A quote's mid refreshes its contract's point on the feed curve of the same date.
    fn on_quote(&mut self, q: &Quote) -> bool {
        let (bid, ask) = (q.bid, q.ask);
        if !(bid.is_finite() && ask.is_finite() && bid <= ask) {
            return false;
        }
        let Some(d) = self.feed_date.filter(|d| *d == trading_date(q.ts)) else { return false };
        let Some(daily) = self.daily.get_mut(&d) else { return false };
        let Some(p) = daily.curve.points.iter_mut().find(|p| p.contract == q.contract) else { return false };
        let mid = 0.5 * (bid + ask);
        if p.price == mid {
            return false;
        }
        p.price = mid;
        daily.curve.ts = daily.curve.ts.max(q.ts);
        true
    }

    /// Pushes every daily close before `today` not yet in the windows.
    fn advance(&mut self, today: NaiveDate) {
        let from = self.pushed_through.map_or(Bound::Unbounded, Bound::Excluded);
        for (d, daily) in self.daily.range((from, Bound::Excluded(today))) {
            // Curves are validated before they are stored, so the push cannot fail.
            let _ = self.tracker.push(&daily.curve);
            for (t, far) in self.spreads.iter_mut().zip(SPREAD_FAR_TENORS) {
                t.push(calendar_spread(&daily.curve.points, 1, far).ok());
            }
            self.pushed_through = Some(*d);
        }
    }

    fn line(date: NaiveDate, d: &Daily) -> CurveLine {
        let pts = &d.curve.points[..d.curve.points.len().min(MAX_CURVE_POINTS)];
        CurveLine {
            date,
            ts: d.curve.ts,
            origin: d.origin,
            contracts: pts.iter().map(|p| p.contract).collect(),
            points: pts.iter().enumerate().map(|(i, p)| ChartPoint::new((i + 1) as f64, p.price)).collect(),
        }
    }

    /// The last daily curve on or before `days_back` calendar days before `today`, at
    /// most [`OVERLAY_TOLERANCE_DAYS`] older than that.
    fn back(&self, today: NaiveDate, days_back: i64) -> Option<(NaiveDate, &Daily)> {
        let target = today.checked_sub_signed(chrono::TimeDelta::days(days_back))?;
        let floor = target.checked_sub_signed(chrono::TimeDelta::days(OVERLAY_TOLERANCE_DAYS))?;
        self.daily.range(floor..=target).next_back().map(|(d, c)| (*d, c))
    }

    fn compute(&mut self) -> Option<MarketCurve> {
        let (today, current) = self.daily.last_key_value().map(|(d, c)| (*d, c.clone()))?;
        self.advance(today);
        let mut t = self.tracker.clone();
        let row = t.push(&current.curve).ok()?;
        let week_ago = self.back(today, OVERLAYS[0].1).map(|(_, d)| d.curve.points.clone());
        let spreads = self
            .spreads
            .iter()
            .zip(SPREAD_FAR_TENORS)
            .map(|(w, far)| {
                let value = calendar_spread(&current.curve.points, 1, far).ok();
                let mut w = w.clone();
                let percentile = w.push(value);
                let change_1w = value
                    .zip(week_ago.as_ref().and_then(|p| calendar_spread(p, 1, far).ok()))
                    .map(|(now, then)| now - then);
                SpreadRow { far, value, percentile, change_1w }
            })
            .collect();
        let overlays = OVERLAYS
            .iter()
            .filter_map(|&(label, days)| {
                self.back(today, days).map(|(d, c)| CurveOverlay { label, line: Self::line(d, c) })
            })
            .collect();
        let window_days = self.daily.range(..today).count().min(self.config.lookback.saturating_sub(1));
        Some(MarketCurve {
            market: self.market,
            current: Self::line(today, &current),
            overlays,
            row,
            spreads,
            window_days,
            lookback: self.config.lookback,
            neutral_band: self.config.neutral_band,
        })
    }
}

/// Inventory weeks and their analytics.
#[derive(Debug, Clone)]
struct InventoryState {
    proto: InventoryTracker,
    tracker: InventoryTracker,
    weeks: BTreeMap<NaiveDate, (InventoryWeek, DataOrigin)>,
    snapshots: Vec<(InventorySnapshot, DataOrigin)>,
    pushed_through: Option<NaiveDate>,
}

impl InventoryState {
    fn new(config: InventoryConfig) -> Result<Self, MarketAnalyticsError> {
        let proto = InventoryTracker::new(config)?;
        Ok(Self { tracker: proto.clone(), proto, weeks: BTreeMap::new(), snapshots: Vec::new(), pushed_through: None })
    }

    fn insert(&mut self, week: InventoryWeek, origin: DataOrigin) {
        if self.pushed_through.is_some_and(|p| week.week_ending <= p) {
            self.tracker = self.proto.clone();
            self.snapshots.clear();
            self.pushed_through = None;
        }
        self.weeks.insert(week.week_ending, (week, origin));
    }

    /// Analyses the weeks not yet analysed; returns the errors of weeks that were skipped.
    fn advance(&mut self) -> Vec<String> {
        let from = self.pushed_through.map_or(Bound::Unbounded, Bound::Excluded);
        let mut errors = Vec::new();
        for (d, (w, origin)) in self.weeks.range((from, Bound::Unbounded)) {
            match self.tracker.push(w) {
                Ok(s) => self.snapshots.push((s, *origin)),
                Err(e) => errors.push(format!("inventory week ending {d} skipped: {e}")),
            }
            self.pushed_through = Some(*d);
        }
        errors
    }
}

/// Days since 1970-01-01, the x axis of dated series.
pub fn days_since_epoch(d: NaiveDate) -> f64 {
    f64::from(d.num_days_from_ce() - 719_163)
}

/// The date `days_since_epoch` maps to `x` (rounded), if it is a valid date.
pub fn date_from_days(x: f64) -> Option<NaiveDate> {
    if !x.is_finite() || x.abs() > 1.0e7 {
        return None;
    }
    NaiveDate::from_num_days_from_ce_opt(x.round() as i32 + 719_163)
}

/// At most `max` points of `points` (x ascending): all of them when they fit, otherwise
/// the minimum and maximum of each of `max / 2` equal-count buckets, in x order, so
/// spikes survive the reduction.
pub fn reduce_min_max(points: &[ChartPoint], max: usize) -> Vec<ChartPoint> {
    if points.len() <= max {
        return points.to_vec();
    }
    let buckets = (max / 2).max(1);
    let mut out = Vec::with_capacity(buckets * 2);
    for b in 0..buckets {
        let lo = b * points.len() / buckets;
        let hi = ((b + 1) * points.len() / buckets).max(lo + 1).min(points.len());
        let chunk = &points[lo..hi];
        let (mut imin, mut imax) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.y < chunk[imin].y {
                imin = i;
            }
            if p.y > chunk[imax].y {
                imax = i;
            }
        }
        let (a, b) = if imin <= imax { (imin, imax) } else { (imax, imin) };
        out.push(chunk[a]);
        if b != a {
            out.push(chunk[b]);
        }
    }
    out
}

/// The curve analytics, driven by market events and history (see the module doc).
#[derive(Debug, Clone)]
pub struct CurveEngine {
    cfg: CurveEngineConfig,
    markets: Vec<MarketState>,
    inventory: InventoryState,
    monthly: Vec<MonthlyWtiBrent>,
    cracks: CrackCache,
    history_origin: Option<DataOrigin>,
    /// Trading date of the feed's first market event.
    feed_start: Option<Timestamp>,
    as_of: Option<Timestamp>,
    generation: u64,
    errors: Vec<String>,
}

impl CurveEngine {
    /// An engine with no data.
    ///
    /// # Errors
    /// [`MarketAnalyticsError`] for invalid term-structure or inventory settings.
    pub fn new(cfg: &CurveEngineConfig) -> Result<Self, MarketAnalyticsError> {
        let markets =
            Market::ALL.iter().map(|&m| MarketState::new(m, cfg.term_config(m))).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            cfg: *cfg,
            markets,
            inventory: InventoryState::new(cfg.inventory)?,
            monthly: Vec::new(),
            cracks: CrackCache::default(),
            history_origin: None,
            feed_start: None,
            as_of: None,
            generation: 0,
            errors: Vec::new(),
        })
    }

    fn market_mut(&mut self, m: Market) -> &mut MarketState {
        &mut self.markets[m.index()]
    }

    /// Applies market events (one feed batch); returns whether anything the figures show
    /// changed. Status events are ignored; the first other event's time is the feed's
    /// start.
    pub fn apply_events(&mut self, events: &[MarketEvent]) -> bool {
        let mut changed = false;
        for ev in events {
            if matches!(ev, MarketEvent::Status { .. }) {
                continue;
            }
            let ts = ev.ts();
            if self.feed_start.is_none() {
                self.feed_start = Some(ts);
                self.trim_history();
            }
            self.as_of = Some(self.as_of.map_or(ts, |t| t.max(ts)));
            match ev {
                MarketEvent::Curve(c) => changed |= self.on_curve(c),
                MarketEvent::Quote(q) => changed |= self.market_mut(q.contract.market).on_quote(q),
                MarketEvent::Inventory(r) => changed |= self.on_inventory(r),
                _ => {}
            }
        }
        changed
    }

    fn on_curve(&mut self, c: &CurveSnapshot) -> bool {
        let date = trading_date(c.ts);
        if c.points.is_empty() {
            self.errors.push(format!("{} curve at {date} has no points; skipped", c.market));
            return false;
        }
        if let Err(e) = validate_curve(&c.points) {
            self.errors.push(format!("{} curve at {date} skipped: {e}", c.market));
            return false;
        }
        let st = self.market_mut(c.market);
        st.insert(date, c.clone(), DataOrigin::Feed);
        st.feed_date = Some(st.feed_date.map_or(date, |d| d.max(date)));
        true
    }

    fn on_inventory(&mut self, r: &InventoryReport) -> bool {
        let week = InventoryWeek::from_report(r);
        self.inventory.insert(week, DataOrigin::Feed);
        true
    }

    /// Drops history at and after the feed's start (the feed is authoritative there).
    fn trim_history(&mut self) {
        let Some(start) = self.feed_start.map(trading_date) else { return };
        for st in &mut self.markets {
            let stale: Vec<NaiveDate> =
                st.daily.range(start..).filter(|(_, d)| d.origin != DataOrigin::Feed).map(|(d, _)| *d).collect();
            st.remove(&stale);
        }
        let last_week = week_ending_for_release(start);
        let stale: Vec<NaiveDate> = self
            .inventory
            .weeks
            .range((Bound::Excluded(last_week), Bound::Unbounded))
            .filter(|(_, (_, o))| *o != DataOrigin::Feed)
            .map(|(d, _)| *d)
            .collect();
        if !stale.is_empty() {
            for d in stale {
                self.inventory.weeks.remove(&d);
            }
            self.inventory.tracker = self.inventory.proto.clone();
            self.inventory.snapshots.clear();
            self.inventory.pushed_through = None;
        }
        self.monthly.retain(|m| m.date < start);
    }

    /// Merges history under the feed's data (curves that fail validation are skipped and
    /// reported); returns what it added.
    pub fn apply_history(&mut self, h: CurveHistory) -> HistoryMerge {
        let origin = h.origin;
        self.history_origin = Some(origin);
        let mut curve_days = 0;
        let mut span: Option<(NaiveDate, NaiveDate)> = None;
        let mut widen = |d: NaiveDate| span = Some(span.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
        for (date, curve) in h.curves {
            if let Err(e) = validate_curve(&curve.points) {
                self.errors.push(format!("history: {} curve at {date} skipped: {e}", curve.market));
                continue;
            }
            let st = self.market_mut(curve.market);
            if st.daily.get(&date).is_some_and(|d| d.origin == DataOrigin::Feed) {
                continue;
            }
            st.insert(date, curve, origin);
            widen(date);
            curve_days += 1;
        }
        let mut inventory_weeks = 0;
        for w in h.inventory {
            if self.inventory.weeks.get(&w.week_ending).is_some_and(|(_, o)| *o == DataOrigin::Feed) {
                continue;
            }
            widen(w.week_ending);
            self.inventory.insert(w, origin);
            inventory_weeks += 1;
        }
        for m in &h.monthly {
            widen(m.date);
        }
        let monthly_points = h.monthly.len();
        self.monthly = h.monthly;
        self.trim_history();
        HistoryMerge { curve_days, inventory_weeks, monthly_points, span }
    }

    /// The time of the feed's first market event, once one arrived.
    pub fn feed_start(&self) -> Option<Timestamp> {
        self.feed_start
    }

    /// The last daily curve of each trading date of `market`, oldest first.
    pub fn daily_curves(&self, market: Market) -> impl Iterator<Item = &CurveSnapshot> {
        self.markets[market.index()].daily.values().map(|d| &d.curve)
    }

    /// Increases with every [`Self::compute`].
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Messages about what was skipped since the last call (bad events, bad history).
    pub fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    /// Whether any curve, inventory week or monthly price is held.
    pub fn has_data(&self) -> bool {
        self.markets.iter().any(|m| !m.daily.is_empty()) || !self.inventory.weeks.is_empty() || !self.monthly.is_empty()
    }

    /// The figures now; `wall` only measures how long they took.
    pub fn compute(&mut self, wall: &dyn Clock) -> CurveData {
        let t0 = wall.now();
        self.generation += 1;
        let markets = self.markets.iter_mut().filter_map(MarketState::compute).collect();
        let cracks = self.cracks.update(&self.markets, &self.cfg.seasonal);
        let wti_brent = self.wti_brent();
        let errors = self.inventory.advance();
        self.errors.extend(errors);
        let n = self.inventory.snapshots.len();
        let inventory = InventorySeries {
            weeks: self.inventory.snapshots[n.saturating_sub(self.cfg.inventory_weeks)..].to_vec(),
            total_weeks: n,
        };
        let compute_us = u64::try_from((wall.now().0 - t0.0).max(0) / 1_000).unwrap_or(u64::MAX);
        CurveData { generation: self.generation, as_of: self.as_of, markets, cracks, wti_brent, inventory, compute_us }
    }

    fn wti_brent(&self) -> Option<WtiBrentSeries> {
        let cost = self.cfg.arb_transport_cost_usd_bbl;
        let wti = &self.markets[Market::Wti.index()].daily;
        let brent = &self.markets[Market::Brent.index()].daily;
        // (origin, date, WTI − Brent) runs, oldest first.
        let mut runs: Vec<(DataOrigin, Vec<(NaiveDate, f64)>)> = Vec::new();
        if !self.monthly.is_empty() {
            let v = self.monthly.iter().map(|m| (m.date, wti_brent_spread(m.wti, m.brent))).collect();
            runs.push((DataOrigin::FileHistory, v));
        }
        for (d, w) in wti {
            let Some(b) = brent.get(d) else { continue };
            let (Some(wp), Some(bp)) = (front(w), front(b)) else { continue };
            let origin =
                if w.origin == DataOrigin::Feed || b.origin == DataOrigin::Feed { DataOrigin::Feed } else { w.origin };
            let s = wti_brent_spread(wp, bp);
            match runs.last_mut() {
                Some((o, v)) if *o == origin && v.last().is_none_or(|(ld, _)| *ld < *d) => v.push((*d, s)),
                _ => runs.push((origin, vec![(*d, s)])),
            }
        }
        let (_, last_run) = runs.last()?;
        let &(ld, ls) = last_run.last()?;
        let per_segment = (self.cfg.max_series_points / runs.len()).max(2);
        let monthly = !self.monthly.is_empty();
        let segments = runs
            .iter()
            .enumerate()
            .filter_map(|(i, (origin, v))| {
                let (first, last) = (v.first()?.0, v.last()?.0);
                let pts: Vec<ChartPoint> = v.iter().map(|(d, s)| ChartPoint::new(days_since_epoch(*d), *s)).collect();
                let spread = reduce_min_max(&pts, per_segment);
                let arb = spread.iter().map(|p| ChartPoint::new(p.x, -p.y - cost)).collect();
                let label = match origin {
                    DataOrigin::FileHistory if monthly && i == 0 => "monthly history file".to_string(),
                    o => format!("daily {}", o.label()),
                };
                Some(SpreadSegment {
                    label,
                    origin: *origin,
                    wti_brent: spread,
                    arb,
                    span: (first, last),
                    observations: v.len(),
                })
            })
            .collect();
        // brent_wti_arb(brent, wti, cost) = −(wti − brent) − cost.
        let arb = brent_wti_arb(0.0, ls, cost);
        Some(WtiBrentSeries { transport_cost_usd_bbl: cost, segments, latest: Some((ld, ls, arb)) })
    }
}

fn front(d: &Daily) -> Option<f64> {
    d.curve.points.first().map(|p| p.price)
}

/// The crack spreads on every date CL, RB and HO share, with their seasonal profiles. The
/// profiles and last year's weekly means are kept while only the latest date's curves
/// change (prices moving during the day); any other change rebuilds everything.
#[derive(Debug, Clone, Default)]
struct CrackCache {
    key: Option<[u64; 3]>,
    dates: Vec<NaiveDate>,
    values: [Vec<f64>; 4],
    latest_origin: Option<DataOrigin>,
    year: i32,
    profiles: Vec<Result<SeasonalProfile, String>>,
    previous_year: Vec<Vec<ChartPoint>>,
}

impl CrackCache {
    /// The three markets' entries for `d` and the four cracks on them.
    fn on(markets: &[MarketState], d: &NaiveDate) -> Option<([f64; 4], DataOrigin)> {
        let get = |m: Market| markets[m.index()].daily.get(d);
        let (c, r, h) = (get(Market::Wti)?, get(Market::Rbob)?, get(Market::HeatingOil)?);
        let (cp, rp, hp) = (front(c)?, front(r)?, front(h)?);
        let origin =
            if [c.origin, r.origin, h.origin].contains(&DataOrigin::Feed) { DataOrigin::Feed } else { c.origin };
        Some((CrackKind::ALL.map(|k| k.ratio().crack_usd_bbl(rp, hp, cp)), origin))
    }

    fn weekly(dates: &[NaiveDate], vals: &[f64], year: i32) -> Vec<ChartPoint> {
        iso_week_means(dates, vals, year)
            .map(|v| v.into_iter().map(|(w, m)| ChartPoint::new(f64::from(w), m)).collect())
            .unwrap_or_default()
    }

    fn rebuild(&mut self, markets: &[MarketState], seasonal: &SeasonalConfig) {
        self.dates.clear();
        self.values = Default::default();
        self.latest_origin = None;
        for d in markets[Market::Wti.index()].daily.keys() {
            let Some((v, origin)) = Self::on(markets, d) else { continue };
            self.dates.push(*d);
            for (k, x) in v.into_iter().enumerate() {
                self.values[k].push(x);
            }
            self.latest_origin = Some(origin);
        }
        self.year = self.dates.last().map_or(0, |d| d.iso_week().year());
        self.profiles = self
            .values
            .iter()
            .map(|vals| seasonal_profile(&self.dates, vals, seasonal).map_err(|e| format!("no seasonal band: {e}")))
            .collect();
        self.previous_year = self.values.iter().map(|vals| Self::weekly(&self.dates, vals, self.year - 1)).collect();
    }

    fn update(&mut self, markets: &[MarketState], seasonal: &SeasonalConfig) -> Vec<CrackSeries> {
        let key = [Market::Wti, Market::Rbob, Market::HeatingOil].map(|m| markets[m.index()].revision);
        // An explicit end year that includes the latest date's year puts today in the profile.
        let today_in_profile = seasonal.end_year.is_some_and(|y| y >= self.year);
        if self.key != Some(key) || today_in_profile {
            self.rebuild(markets, seasonal);
            self.key = Some(key);
        } else if let Some(d) = self.dates.last().copied()
            && let Some((v, origin)) = Self::on(markets, &d)
        {
            for (k, x) in v.into_iter().enumerate() {
                if let Some(last) = self.values[k].last_mut() {
                    *last = x;
                }
            }
            self.latest_origin = Some(origin);
        }
        let Some(&last) = self.dates.last() else { return Vec::new() };
        let (year, week) = (self.year, last.iso_week().week());
        let from = self.dates.partition_point(|d| d.iso_week().year() < year);
        CrackKind::ALL
            .iter()
            .enumerate()
            .map(|(k, &kind)| {
                let vals = &self.values[k];
                CrackSeries {
                    kind,
                    latest: vals.last().map(|v| (last, *v)),
                    latest_origin: self.latest_origin.unwrap_or(DataOrigin::Feed),
                    year,
                    current_year: Self::weekly(&self.dates[from..], &vals[from..], year),
                    previous_year: self.previous_year.get(k).cloned().unwrap_or_default(),
                    seasonal: match self.profiles.get(k) {
                        Some(Ok(p)) => Ok(seasonal_series(p, week)),
                        Some(Err(e)) => Err(e.clone()),
                        None => Err("no seasonal band: no data".into()),
                    },
                    days: self.dates.len(),
                }
            })
            .collect()
    }
}

fn seasonal_series(p: &SeasonalProfile, current_week: u32) -> SeasonalSeries {
    let mean = p.weeks.iter().map(|w| ChartPoint::new(f64::from(w.week), w.mean)).collect();
    let mut band_weeks = Vec::new();
    let mut lower = Vec::new();
    let mut upper = Vec::new();
    for w in &p.weeks {
        if let (Some(lo), Some(hi)) = (w.lower, w.upper) {
            band_weeks.push(f64::from(w.week));
            lower.push(lo);
            upper.push(hi);
        }
    }
    SeasonalSeries {
        first_year: p.first_year,
        last_year: p.last_year,
        mean,
        band_weeks,
        lower,
        upper,
        current_week: p.week(current_week).copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CurveState, term_structure_metrics};
    use crude_model::{ContractMonth, CurvePoint, HolidayCalendar, LiveClock, session_bounds};

    /// `hour`:00 New York time on trading date `d` (the session closes at 17:00 ET).
    fn et_hour(d: NaiveDate, hour: i64) -> Timestamp {
        session_bounds(d).1.add_nanos(-(17 - hour) * 3_600 * Timestamp::NANOS_PER_SEC)
    }

    /// The settlement time stamp of a trading date (1 ms before the close).
    fn settlement_ts(date: NaiveDate) -> Timestamp {
        session_bounds(date).1.add_nanos(-1_000_000)
    }

    fn in_range(p: Option<f64>) -> bool {
        p.is_none_or(|v| (0.0..=100.0).contains(&v))
    }

    fn curve(market: Market, ts: Timestamp, prices: &[f64]) -> CurveSnapshot {
        let m0 = market.front_contract(trading_date(ts)).month;
        let points = prices
            .iter()
            .enumerate()
            .map(|(i, &price)| CurvePoint { contract: ContractId::new(market, m0.plus_months(i as i32)), price })
            .collect();
        CurveSnapshot { market, ts, points }
    }

    #[test]
    fn a_negative_front_month_keeps_spreads_and_drops_only_the_roll_yield() {
        let mut e = CurveEngine::new(&CurveEngineConfig::default()).unwrap();
        let day = |d: u32| et_hour(NaiveDate::from_ymd_opt(2020, 4, d).unwrap(), 14);
        let mut prices: Vec<f64> = (0..12).map(|i| 18.0 + i as f64 * 1.5).collect();
        for d in [14, 15, 16, 17] {
            e.apply_events(&[MarketEvent::Curve(curve(Market::Wti, day(d), &prices))]);
        }
        prices[0] = -37.63;
        let neg = curve(Market::Wti, day(20), &prices);
        e.apply_events(&[
            MarketEvent::Curve(neg.clone()),
            MarketEvent::Curve(curve(Market::Brent, day(20), &[25.57, 26.0, 27.0])),
            MarketEvent::Curve(curve(Market::Rbob, day(20), &[0.6, 0.7])),
            MarketEvent::Curve(curve(Market::HeatingOil, day(20), &[0.8, 0.85])),
        ]);
        let data = e.compute(&LiveClock);
        assert!(e.take_errors().is_empty());
        let wti = data.market(Market::Wti).unwrap();
        let want = term_structure_metrics(&neg.points, &TermStructureConfig::default()).unwrap();
        assert_eq!(wti.row.metrics, want);
        assert_eq!(wti.row.metrics.roll_yield_annual, None);
        assert_eq!(wti.row.metrics.m1_m2, Some(-37.63 - 19.5));
        assert_eq!(wti.row.metrics.state, Some(CurveState::Contango));
        assert!(wti.spreads.iter().all(|s| s.value.is_some() && in_range(s.percentile)));
        let c321 = data.crack(CrackKind::ThreeTwoOne).unwrap();
        let want = crate::crack_321(0.6, 0.8, -37.63);
        assert!((c321.latest.unwrap().1 - want).abs() < 1e-12);
        assert!(c321.seasonal.is_err(), "no prior year: no band, and no panic");
        let wb = data.wti_brent.unwrap().latest.unwrap();
        assert!((wb.1 - (-37.63 - 25.57)).abs() < 1e-12);
        // A NaN curve is skipped and reported, and the previous figures stand.
        prices[3] = f64::NAN;
        e.apply_events(&[MarketEvent::Curve(curve(Market::Wti, day(21), &prices))]);
        let errs = e.take_errors();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("CL curve at 2020-04-21 skipped") && errs[0].contains("index 3"), "{errs:?}");
        assert_eq!(e.compute(&LiveClock).market(Market::Wti).unwrap().current.date, trading_date(day(20)));
    }

    #[test]
    fn quotes_refresh_the_feed_curve_and_percentiles_follow_the_lookback() {
        let mut config = CurveEngineConfig::default();
        config.term_structure.lookback = 5;
        config.term_structure.min_observations = 3;
        let mut e = CurveEngine::new(&config).unwrap();
        let ts = |d: u32| et_hour(NaiveDate::from_ymd_opt(2026, 3, d).unwrap(), 12);
        let dates = [2, 3, 4, 5, 6, 9];
        for (k, d) in dates.iter().enumerate() {
            let s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.0][k];
            e.apply_events(&[MarketEvent::Curve(curve(Market::Wti, ts(*d), &[70.0 + s, 70.0, 69.9]))]);
            // Compute on every day so the windows advance incrementally.
            e.compute(&LiveClock);
        }
        let wti = e.compute(&LiveClock).markets.remove(0);
        // M1–M2 0.1 … 0.5 then 0.0: the lowest of the last 5 ranks 10.
        assert!((wti.row.percentiles.m1_m2.unwrap() - 10.0).abs() < 1e-9, "{:?}", wti.row.percentiles);
        assert_eq!(wti.window_days, 4);
        // A quote moves M1 of today's curve: M1–M2 becomes +0.6, the highest: 90.
        let front = wti.current.contracts[0];
        let q = Quote { contract: front, ts: ts(9).add_nanos(1), bid: 70.59, ask: 70.61, bid_size: 1, ask_size: 1 };
        assert!(e.apply_events(&[MarketEvent::Quote(q)]));
        let wti = e.compute(&LiveClock).markets.remove(0);
        assert!((wti.row.metrics.m1_m2.unwrap() - 0.6).abs() < 1e-9);
        assert!((wti.row.percentiles.m1_m2.unwrap() - 90.0).abs() < 1e-9);
        // A quote for a contract not on the curve, or a crossed quote, changes nothing.
        let other = ContractId::new(Market::Wti, ContractMonth::new(2030, 1).unwrap());
        assert!(!e.apply_events(&[MarketEvent::Quote(Quote { contract: other, ..q })]));
        assert!(!e.apply_events(&[MarketEvent::Quote(Quote { bid: 71.0, ask: 70.0, ..q })]));
        // Out-of-order history resets and rebuilds the windows to the same answer.
        let rebuilt = {
            let mut e2 = CurveEngine::new(&config).unwrap();
            for d in dates.iter().rev() {
                let c = e.markets[0].daily[&trading_date(ts(*d))].curve.clone();
                e2.apply_events(&[MarketEvent::Curve(c)]);
            }
            e2.compute(&LiveClock).markets.remove(0)
        };
        assert_eq!(rebuilt.row, wti.row);
    }

    #[test]
    fn crack_cache_matches_a_full_rebuild_as_prices_move_and_days_pass() {
        let config = CurveEngineConfig::default();
        let mut e = CurveEngine::new(&config).unwrap();
        let mut d = NaiveDate::from_ymd_opt(2024, 6, 3).unwrap();
        let mut k = 0.0;
        let day = |e: &mut CurveEngine, d: NaiveDate, k: f64| {
            let ts = settlement_ts(d);
            e.apply_events(&[
                MarketEvent::Curve(curve(Market::Wti, ts, &[70.0 + k.sin(), 70.5])),
                MarketEvent::Curve(curve(Market::Rbob, ts, &[2.1 + 0.1 * k.cos(), 2.0])),
                MarketEvent::Curve(curve(Market::HeatingOil, ts, &[2.5 + 0.05 * (2.0 * k).sin(), 2.4])),
            ]);
        };
        while d < NaiveDate::from_ymd_opt(2026, 3, 2).unwrap() {
            if HolidayCalendar::Cme.is_business_day(d) {
                day(&mut e, d, k);
                k += 0.1;
            }
            d = d.succ_opt().unwrap();
        }
        let fresh = |e: &CurveEngine| CrackCache::default().update(&e.markets, &config.seasonal);
        let first = e.compute(&LiveClock).cracks;
        assert_eq!(first, fresh(&e));
        assert!(first.iter().all(|c| c.seasonal.is_ok() && !c.previous_year.is_empty()));
        // A quote moves today's CL front month: only the latest value and this week change.
        let last = *e.markets[0].daily.keys().next_back().unwrap();
        let front = e.markets[0].daily[&last].curve.points[0].contract;
        let q = Quote { contract: front, ts: settlement_ts(last), bid: 80.0, ask: 80.02, bid_size: 1, ask_size: 1 };
        assert!(e.apply_events(&[MarketEvent::Quote(q)]));
        let moved = e.compute(&LiveClock).cracks;
        assert_eq!(moved, fresh(&e));
        assert_ne!(moved[0].latest, first[0].latest);
        assert_eq!(moved[0].seasonal, first[0].seasonal, "the profile excludes the current year");
        // A new day rebuilds.
        day(&mut e, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), k);
        let next = e.compute(&LiveClock).cracks;
        assert_eq!(next, fresh(&e));
        assert_eq!(next[0].days, first[0].days + 1);
    }

    #[test]
    fn overlays_pick_the_close_on_or_before_each_target() {
        let mut e = CurveEngine::new(&CurveEngineConfig::default()).unwrap();
        let start = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        let mut d = start;
        while d <= NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() {
            if HolidayCalendar::Cme.is_business_day(d) {
                let c = curve(Market::Wti, settlement_ts(d), &[60.0, 61.0]);
                e.apply_events(&[MarketEvent::Curve(c)]);
            }
            d = d.succ_opt().unwrap();
        }
        let wti = e.compute(&LiveClock).markets.remove(0);
        let today = wti.current.date;
        assert_eq!(today, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
        let dates: Vec<NaiveDate> = wti.overlays.iter().map(|o| o.line.date).collect();
        // 2026-05-25 is Memorial Day: 1 week back falls on the Friday before.
        assert_eq!(
            dates,
            [
                NaiveDate::from_ymd_opt(2026, 5, 22).unwrap(),
                NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
            ]
        );
        assert_eq!(wti.spreads[0].change_1w, Some(0.0));
        assert_eq!(wti.spreads[1].value, None, "a 2-point curve has no M1-M3");
    }

    #[test]
    fn reduction_keeps_extremes_and_bounds_points() {
        let pts: Vec<ChartPoint> = (0..10_000).map(|i| ChartPoint::new(i as f64, ((i * 7919) % 1000) as f64)).collect();
        let r = reduce_min_max(&pts, 200);
        assert!(r.len() <= 200 && r.len() >= 190, "{}", r.len());
        assert!(r.windows(2).all(|w| w[0].x < w[1].x));
        assert_eq!(r.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max), 999.0);
        assert_eq!(r.iter().map(|p| p.y).fold(f64::INFINITY, f64::min), 0.0);
        assert_eq!(reduce_min_max(&pts[..5], 200).len(), 5);
        let d = NaiveDate::from_ymd_opt(2020, 4, 20).unwrap();
        assert_eq!(date_from_days(days_since_epoch(d)), Some(d));
        assert_eq!(days_since_epoch(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1.0);
        assert_eq!(date_from_days(f64::NAN), None);
    }
}
