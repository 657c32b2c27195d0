//! The curve worker: term structure, calendar spreads, crack spreads against their seasonal
//! band, the WTI–Brent spread and the Brent–WTI arb, and weekly inventory surprises, computed
//! on their own thread and sent to the UI as a compact [`CurveData`].
//!
//! # Inputs
//!
//! * A tap of the feed ([`crude_feeds::FeedBatch`]): curve snapshots (one per market per
//!   second from the simulator, one per settlement in its history), quotes (a quote's mid
//!   refreshes its contract's point on the market's latest curve of the same trading date)
//!   and weekly inventory reports. Everything else is ignored.
//! * A history source chosen by the app ([`CurveHistorySource`]):
//!   - `Simulated`: `years` of daily settlement curves and inventory reports from
//!     [`crude_feeds::sim::simulate_daily`], ending the trading date before the feed's first
//!     event. The simulated path is not the live one; the view labels it
//!     "simulated history" (see [`HistoryInfo::label`]) and marks every curve, overlay and
//!     series segment that comes from it ([`DataOrigin::SimulatedHistory`]).
//!   - `Files`: monthly WTI and Brent prices (`date,brent,wti`, as
//!     `data/brent_wti_monthly_eia.csv`), weekly EIA inventories in the layout of
//!     [`crude_analytics::read_eia_weekly_csv`], and daily curves in the layout
//!     `crude simulate` writes (`date,market,m1,…,mN`; contract months are the market's
//!     active contracts on that date). Each file is optional; a bad file is reported in the
//!     view (file, line, column) and the others still load.
//!   - `None`: only what the feed sends.
//!
//!   History never overrides the feed: history from the feed's first trading date on is
//!   dropped, and the feed wins any date both have.
//!
//! # What is computed (per update)
//!
//! * Per market, on its daily curves (the last curve of each trading date, the latest date
//!   being the current curve): the current curve and the curves 1 week, 1 month and 3 months
//!   ago (the last daily curve on or before the date 7, 30 and 91 days back, at most 7 days
//!   older); the term-structure metrics of [`crude_analytics::term_structure_metrics`] with
//!   the percentile of each within the configured lookback of daily closes, today's curve
//!   included (exactly [`crude_analytics::term_structure_history`] over the closes and the
//!   current curve); calendar spreads M1–M2 … M1–M12 with the same percentiles and their
//!   change over the week.
//! * Crack spreads (3-2-1, 2-1-1, gasoline, heating oil) in USD/bbl from the front months of
//!   CL, RB and HO on the dates all three have, with the seasonal profile of
//!   [`crude_analytics::seasonal_profile`] (weekly means over the configured years, the
//!   current ISO year excluded, with its band) and this and last ISO year's weekly means.
//! * WTI − Brent and the Brent–WTI arb (front months, after a transport cost), one segment
//!   per data origin, each reduced to at most its share of `max_series_points` by keeping
//!   the minimum and maximum of each bucket.
//! * Inventory surprises (actual − consensus) of crude, gasoline and distillate with their
//!   z-scores and the stocks against the 5-year range ([`crude_analytics::InventoryTracker`]),
//!   for the last `inventory_weeks` reports.
//!
//! Time comes only from the events (and the history's dates); the wall clock only paces the
//! updates: at most one per `min_update_interval_ms` while prices move, and only after the
//! UI has taken the previous one. Bad events (a non-finite price, contract months out of
//! order) are skipped and reported in the view; nothing panics.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use crude_analytics::{
    CrackRatio, InventoryConfig, InventorySnapshot, InventoryTracker, InventoryWeek, MarketAnalyticsError,
    PercentileTracker, SeasonalConfig, SeasonalProfile, SeasonalWeek, TermStructureConfig, TermStructureRow,
    TermStructureTracker, brent_wti_arb, calendar_spread, iso_week_means, read_eia_weekly_csv, seasonal_profile,
    validate_curve, week_ending_for_release, wti_brent_spread,
};
use crude_feeds::FeedBatch;
use crude_feeds::sim::{MAX_DAILY_DAYS, SimConfig, SimError, simulate_daily};
use crude_model::{
    Clock, ContractId, CurvePoint, CurveSnapshot, HolidayCalendar, InventoryReport, Market, MarketEvent, Quote,
    Timestamp, session_bounds, trading_date,
};
use serde::{Deserialize, Serialize};

use crate::service::{self, BackgroundJob, Generational, Notify, Outbox, Service, ServiceHandle, View};

/// Most error messages the view keeps (oldest dropped first).
pub const ERRORS_CAP: usize = 20;
/// The calendar spreads listed: M1–M2 … M1–M12.
pub const SPREAD_FAR_TENORS: std::ops::RangeInclusive<usize> = 2..=12;
/// The history overlays: label and calendar days back.
pub const OVERLAYS: [(&str, i64); 3] = [("1 week ago", 7), ("1 month ago", 30), ("3 months ago", 91)];
/// How much older than its target date an overlay's curve may be (holidays, gaps).
const OVERLAY_TOLERANCE_DAYS: i64 = 7;
/// Most curve points a market's curve may have in the view.
const MAX_CURVE_POINTS: usize = 48;

/// Why the curve worker could not be started.
#[derive(Debug, thiserror::Error)]
pub enum CurveError {
    /// A worker setting is out of range.
    #[error("curve worker config: `{field}` = {value} is invalid: {expected}")]
    InvalidConfig {
        /// The setting, as named in [`CurveWorkerConfig`].
        field: &'static str,
        /// The rejected value.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// An analytics setting (term structure, seasonal band, inventory) is invalid.
    #[error("curve worker config: {0}")]
    Analytics(#[from] MarketAnalyticsError),
    /// The simulated history's simulator config is invalid.
    #[error("curve worker config: simulated history: {0}")]
    Simulator(#[from] SimError),
    /// The operating system refused to start the thread.
    #[error("cannot start the curve thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// An error in a history file: the file, the line (1-based, 0 when the whole file is at
/// fault), the column (1-based) where there is one, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location(*line, *column))]
pub struct HistoryFileError {
    /// The file as given.
    pub file: String,
    /// 1-based line, 0 for the whole file.
    pub line: usize,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn location(line: usize, column: Option<usize>) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, None) => format!(": line {l}"),
        (l, Some(c)) => format!(": line {l}, column {c}"),
    }
}

/// Where the worker takes its history from (see the module docs).
#[derive(Debug, Clone, PartialEq)]
#[expect(clippy::large_enum_variant, reason = "built once at start-up; the simulator config is kept inline")]
pub enum CurveHistorySource {
    /// Only what the feed sends.
    None,
    /// `years` of daily curves and inventory reports from the simulator, ending the trading
    /// date before the feed starts; always labelled "simulated history".
    Simulated {
        /// The simulator settings (the seed decides the path).
        config: SimConfig,
        /// Years of history, 252 trading dates each (1 to 30).
        years: u32,
    },
    /// History files; each is optional.
    Files {
        /// Monthly `date,brent,wti` prices in USD/bbl (`data/brent_wti_monthly_eia.csv`).
        brent_wti_monthly: Option<PathBuf>,
        /// Weekly inventories in the EIA weekly layout (`data/eia_weekly_template.csv`).
        eia_weekly: Option<PathBuf>,
        /// Daily curves `date,market,m1,…,mN` as `crude simulate` writes `curve.csv`.
        curves: Option<PathBuf>,
    },
}

impl CurveHistorySource {
    /// The files shipped in a `data/` directory that exist there: the monthly WTI/Brent
    /// prices (real EIA spot averages, see `data/README.md`).
    pub fn data_dir(data_dir: &Path) -> Self {
        let monthly = data_dir.join("brent_wti_monthly_eia.csv");
        CurveHistorySource::Files {
            brent_wti_monthly: monthly.is_file().then_some(monthly),
            eia_weekly: None,
            curves: None,
        }
    }
}

/// How the curve worker runs.
#[derive(Clone)]
pub struct CurveWorkerConfig {
    /// The history source.
    pub history: CurveHistorySource,
    /// Tenors, neutral band (USD/bbl) and percentile lookback (daily closes) for WTI and
    /// Brent; RBOB and heating oil use it with [`Self::products_neutral_band_usd_gal`].
    pub term_structure: TermStructureConfig,
    /// Neutral band of the contango/backwardation state for RBOB and heating oil, USD/gal.
    pub products_neutral_band_usd_gal: f64,
    /// Years and band of the crack spreads' seasonal profile.
    pub seasonal: SeasonalConfig,
    /// Surprise z-score window and seasonal-range years of the inventory analytics.
    pub inventory: InventoryConfig,
    /// Cost of moving WTI to a Brent-priced market (pipeline, terminal, freight), USD/bbl,
    /// subtracted in the Brent–WTI arb.
    pub arb_transport_cost_usd_bbl: f64,
    /// Most points of the WTI–Brent series in one update (all segments together).
    pub max_series_points: usize,
    /// Inventory reports shown (the most recent).
    pub inventory_weeks: usize,
    /// Shortest wall-clock interval between updates while prices move.
    pub min_update_interval_ms: u64,
    /// Wall clock, only to pace the updates.
    pub wall: Arc<dyn Clock>,
}

impl std::fmt::Debug for CurveWorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurveWorkerConfig")
            .field("history", &self.history)
            .field("term_structure", &self.term_structure)
            .field("products_neutral_band_usd_gal", &self.products_neutral_band_usd_gal)
            .field("seasonal", &self.seasonal)
            .field("inventory", &self.inventory)
            .field("arb_transport_cost_usd_bbl", &self.arb_transport_cost_usd_bbl)
            .field("max_series_points", &self.max_series_points)
            .field("inventory_weeks", &self.inventory_weeks)
            .field("min_update_interval_ms", &self.min_update_interval_ms)
            .finish_non_exhaustive()
    }
}

impl CurveWorkerConfig {
    /// Defaults: the analytics' term-structure settings (neutral band 0.05 USD/bbl, 252-day
    /// lookback), a products band of 0.05/42 USD/gal, a 5-year seasonal profile with the
    /// 95 % confidence band of the mean, the inventory defaults, a 3.00 USD/bbl transport
    /// cost, 400 series points (the WTI–Brent chart is about 500 px wide in a 1600 px
    /// window), 26 inventory weeks, at most 4 updates a second.
    pub fn new(history: CurveHistorySource, wall: Arc<dyn Clock>) -> Self {
        Self {
            history,
            term_structure: TermStructureConfig::default(),
            products_neutral_band_usd_gal: 0.05 / crude_model::GALLONS_PER_BARREL,
            seasonal: SeasonalConfig::default(),
            inventory: InventoryConfig::default(),
            arb_transport_cost_usd_bbl: 3.0,
            max_series_points: 400,
            inventory_weeks: 26,
            min_update_interval_ms: 250,
            wall,
        }
    }

    /// The term-structure settings for `market` (its neutral band in its price unit).
    pub fn term_config(&self, market: Market) -> TermStructureConfig {
        let mut c = self.term_structure;
        if market.quoted_per_gallon() {
            c.neutral_band = self.products_neutral_band_usd_gal;
        }
        c
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`CurveError::Analytics`] for invalid term-structure, seasonal or inventory settings,
    /// [`CurveError::Simulator`] for an invalid simulator config,
    /// [`CurveError::InvalidConfig`] naming any other setting out of range.
    pub fn validate(&self) -> Result<(), CurveError> {
        for m in Market::ALL {
            self.term_config(m).validate()?;
        }
        self.seasonal.validate()?;
        self.inventory.validate()?;
        let bad = |field, value: String, expected| Err(CurveError::InvalidConfig { field, value, expected });
        if !self.arb_transport_cost_usd_bbl.is_finite() {
            return bad(
                "arb_transport_cost_usd_bbl",
                self.arb_transport_cost_usd_bbl.to_string(),
                "a finite cost in USD per barrel",
            );
        }
        if !(16..=100_000).contains(&self.max_series_points) {
            return bad("max_series_points", self.max_series_points.to_string(), "16 to 100000 points");
        }
        if !(1..=520).contains(&self.inventory_weeks) {
            return bad("inventory_weeks", self.inventory_weeks.to_string(), "1 to 520 weeks");
        }
        if self.min_update_interval_ms > 60_000 {
            return bad("min_update_interval_ms", self.min_update_interval_ms.to_string(), "0 to 60000 ms");
        }
        if let CurveHistorySource::Simulated { config, years } = &self.history {
            config.validate()?;
            if !(1..=30).contains(years) {
                return bad("history.years", years.to_string(), "1 to 30 years of simulated history");
            }
        }
        Ok(())
    }
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

/// The worker's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CurveStatus {
    /// The thread is starting.
    #[default]
    Starting,
    /// Running; no market event has arrived yet.
    WaitingForData,
    /// Running on market data.
    Ready,
    /// The feed stopped; the last figures stay on screen, marked as such.
    FeedEnded,
    /// The worker stopped (the reason).
    Stopped(String),
}

impl CurveStatus {
    /// Text for the panel's status line.
    pub fn label(&self) -> String {
        match self {
            CurveStatus::Starting => "starting".into(),
            CurveStatus::WaitingForData => "waiting for market data".into(),
            CurveStatus::Ready => "ready".into(),
            CurveStatus::FeedEnded => "feed ended: figures as of the last event".into(),
            CurveStatus::Stopped(why) => format!("stopped: {why}"),
        }
    }
}

/// What the loaded history holds.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryInfo {
    /// What it is, for the panel: contains "simulated history" for simulated history.
    pub label: String,
    /// Whether it is the simulator's (not real prices).
    pub simulated: bool,
    /// Daily curves kept (all markets).
    pub curve_days: usize,
    /// Inventory weeks kept.
    pub inventory_weeks: usize,
    /// Monthly WTI/Brent observations kept.
    pub monthly_points: usize,
    /// First and last date of the history, if it has any.
    pub span: Option<(NaiveDate, NaiveDate)>,
}

/// The history's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum HistoryStatus {
    /// No history source.
    #[default]
    NoSource,
    /// Simulated history waits for the feed's first event to know where to end.
    WaitingForLiveStart,
    /// Loading (what).
    Loading(String),
    /// Loaded and merged.
    Loaded(HistoryInfo),
    /// Nothing could be loaded (why).
    Failed(String),
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

/// What the worker sends.
#[derive(Debug, Clone)]
pub enum CurveUpdate {
    /// The worker's state changed.
    Status(CurveStatus),
    /// The history's state changed.
    History(HistoryStatus),
    /// Something was skipped or failed (a message naming what and why).
    Error(String),
    /// New figures.
    Data(Box<CurveData>),
}

/// The UI side of the curve worker: what the panel draws.
#[derive(Debug, Clone, Default)]
pub struct CurveView {
    /// The worker's state.
    pub status: CurveStatus,
    /// The history's state.
    pub history: HistoryStatus,
    /// Recent error messages, oldest first (at most [`ERRORS_CAP`]).
    pub errors: VecDeque<String>,
    /// The latest figures.
    pub data: Option<Box<CurveData>>,
}

impl CurveView {
    /// Applies one update.
    pub fn apply(&mut self, u: CurveUpdate) {
        match u {
            CurveUpdate::Status(s) => self.status = s,
            CurveUpdate::History(h) => self.history = h,
            CurveUpdate::Error(e) => {
                if self.errors.len() == ERRORS_CAP {
                    self.errors.pop_front();
                }
                self.errors.push_back(e);
            }
            CurveUpdate::Data(d) => self.data = Some(d),
        }
    }
}

/// One point of a chart series (`x` in the series' unit: days since the epoch, a tenor
/// number or a week of the year).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChartPoint {
    pub x: f64,
    pub y: f64,
}

impl ChartPoint {
    /// The point `(x, y)`.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

/// The driver's end of the running curve service.
pub type CurveHandle = ServiceHandle<CurveService>;

impl Generational for CurveUpdate {
    fn generation(&self) -> Option<u64> {
        match self {
            CurveUpdate::Data(d) => Some(d.generation),
            _ => None,
        }
    }
}

impl CurveService {
    /// The service for `config`, reporting to `out`.
    ///
    /// # Errors
    /// [`CurveWorkerConfig::validate`]'s errors, [`CurveError::Analytics`] when the
    /// engine cannot be built.
    pub fn new(config: CurveWorkerConfig, out: Outbox<CurveUpdate>) -> Result<Self, CurveError> {
        config.validate()?;
        let engine = Engine::new(&config)?;
        Ok(Self {
            cfg: config,
            engine,
            out,
            dirty: false,
            last_sent_wall: None,
            last_error: None,
            history_started: false,
            job: None,
            feed_open: true,
            status: CurveStatus::WaitingForData,
        })
    }
}

impl CurveService {
    /// Starts the service alone on its own thread, reading `feed` (tests and tools).
    ///
    /// # Errors
    /// As [`Self::new`], and [`CurveError::Spawn`].
    pub fn spawn(
        config: CurveWorkerConfig,
        feed: tokio::sync::mpsc::Receiver<FeedBatch>,
        notify: Notify,
    ) -> Result<CurveHandle, CurveError> {
        service::start_alone(|out| Self::new(config, out), feed, notify)
    }
}

impl View<CurveUpdate> for CurveView {
    fn apply(&mut self, u: CurveUpdate) {
        CurveView::apply(self, u);
    }
}

impl Service for CurveService {
    type Command = std::convert::Infallible;
    type Update = CurveUpdate;
    type Background = LoadedHistory;
    const NAME: &'static str = "crude-curve";

    fn outbox(&mut self) -> &mut Outbox<CurveUpdate> {
        &mut self.out
    }

    fn start(&mut self) {
        self.send(CurveUpdate::Status(CurveStatus::WaitingForData));
        self.history_started = self.start_history();
    }

    fn take_job(&mut self) -> Option<BackgroundJob<LoadedHistory>> {
        self.job.take()
    }

    fn on_command(&mut self, cmd: std::convert::Infallible) {
        match cmd {}
    }

    fn on_market(&mut self, batch: &FeedBatch) {
        self.dirty |= self.engine.apply_batch(batch);
        if !self.history_started && self.engine.feed_start.is_some() {
            self.history_started = self.start_history();
        }
    }

    fn on_market_end(&mut self) {
        self.feed_open = false;
        self.status = CurveStatus::FeedEnded;
        self.send(CurveUpdate::Status(CurveStatus::FeedEnded));
    }

    fn on_background(&mut self, history: LoadedHistory) {
        self.on_history(history);
    }

    fn after_turn(&mut self) {
        if self.feed_open && self.status != CurveStatus::Ready && self.engine.has_data() {
            self.status = CurveStatus::Ready;
            self.send(CurveUpdate::Status(CurveStatus::Ready));
        }
        self.forward_errors();
        self.maybe_send();
    }

    fn next_wake(&self) -> Option<Duration> {
        self.wait()
    }
}

// ---------------------------------------------------------------------------------------
// History loading
// ---------------------------------------------------------------------------------------

/// One month of the WTI/Brent file.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MonthlyPrices {
    date: NaiveDate,
    wti: f64,
    brent: f64,
}

/// History as loaded, before merging.
#[derive(Debug, Default)]
/// History loaded off the service's loop (opaque to drivers).
pub struct LoadedHistory {
    origin: Option<DataOrigin>,
    label: String,
    simulated: bool,
    curves: Vec<(NaiveDate, CurveSnapshot)>,
    inventory: Vec<InventoryWeek>,
    monthly: Vec<MonthlyPrices>,
    errors: Vec<String>,
}

/// The settlement time stamp of a trading date (1 ms before the close, as the simulator
/// stamps settlements), whose trading date is `date`.
fn settlement_ts(date: NaiveDate) -> Timestamp {
    session_bounds(date).1.add_nanos(-1_000_000)
}

/// The simulated daily history, anchored so that it joins the live simulator: the live
/// market starts at `config.wti_start_price`, so the history is run a second time from a
/// WTI start scaled by (live start / first run's last WTI front settlement). The same seed
/// draws the same shocks, so the path keeps its returns and volatility and ends close to
/// where the live market begins (the floor and the additive Brent premium and cracks
/// make the join close, not exact). Without this, the overlays of a path that wandered to
/// another price level would sit far from the live curve.
fn simulate_anchored(
    config: &SimConfig,
    start: NaiveDate,
    days: usize,
    live_date: NaiveDate,
) -> Result<crude_feeds::sim::DailySimulation, SimError> {
    let first = simulate_daily(config, start, days)?;
    let last_wti = first
        .curves
        .iter()
        .rev()
        .find(|c| c.date < live_date && c.market == Market::Wti)
        .and_then(|c| c.settlements.first().copied());
    match last_wti {
        Some(end) if end.is_finite() && end > 0.0 => {
            let mut anchored = config.clone();
            anchored.wti_start_price = config.wti_start_price * config.wti_start_price / end;
            if anchored.validate().is_err() {
                return Ok(first);
            }
            simulate_daily(&anchored, start, days)
        }
        _ => Ok(first),
    }
}

fn load_simulated(config: &SimConfig, years: u32, live_start: Timestamp) -> LoadedHistory {
    let live_date = trading_date(live_start);
    let days = (years as usize).saturating_mul(252).min(MAX_DAILY_DAYS);
    let start = HolidayCalendar::Cme.add_business_days(live_date, -i32::try_from(days).unwrap_or(i32::MAX));
    let mut out =
        LoadedHistory { origin: Some(DataOrigin::SimulatedHistory), simulated: true, ..LoadedHistory::default() };
    let sim = match simulate_anchored(config, start, days, live_date) {
        Ok(s) => s,
        Err(e) => {
            out.label = format!("simulated history: not generated ({e})");
            out.errors.push(format!("simulated history: {e}"));
            return out;
        }
    };
    for c in sim.curves.iter().filter(|c| c.date < live_date) {
        let points =
            c.contracts.iter().zip(&c.settlements).map(|(&contract, &price)| CurvePoint { contract, price }).collect();
        out.curves.push((c.date, CurveSnapshot { market: c.market, ts: settlement_ts(c.date), points }));
    }
    out.inventory =
        sim.inventory.iter().filter(|r| r.ts < live_start).map(InventoryWeek::from_report).collect::<Vec<_>>();
    let span = out.curves.first().zip(out.curves.last()).map(|(a, b)| (a.0, b.0));
    let sessions = out.curves.iter().filter(|(_, c)| c.market == Market::Wti).count();
    out.label = match span {
        Some((a, b)) => format!(
            "simulated history: seed {}, {sessions} sessions {a}..{b}, from the market simulator (not real prices)",
            config.seed
        ),
        None => format!("simulated history: seed {}, no session before {live_date}", config.seed),
    };
    out
}

fn load_files(brent_wti: Option<&Path>, eia: Option<&Path>, curves: Option<&Path>) -> LoadedHistory {
    let mut out = LoadedHistory { origin: Some(DataOrigin::FileHistory), ..LoadedHistory::default() };
    let mut parts = Vec::new();
    let name = |p: &Path| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
    if let Some(p) = brent_wti {
        match read_brent_wti_monthly(p) {
            Ok(rows) => {
                let span = rows.first().zip(rows.last()).map(|(a, b)| format!(" {}..{}", a.date, b.date));
                parts.push(format!("{} ({} months{})", name(p), rows.len(), span.unwrap_or_default()));
                out.monthly = rows;
            }
            Err(e) => out.errors.push(format!("history: {e}")),
        }
    }
    if let Some(p) = eia {
        match read_eia_weekly_csv(p) {
            Ok(weeks) => {
                parts.push(format!("{} ({} weeks)", name(p), weeks.len()));
                out.inventory = weeks;
            }
            Err(e) => out.errors.push(format!("history: {e}")),
        }
    }
    if let Some(p) = curves {
        match read_curves_csv(p) {
            Ok(c) => {
                parts.push(format!("{} ({} daily curves)", name(p), c.len()));
                out.curves = c;
            }
            Err(e) => out.errors.push(format!("history: {e}")),
        }
    }
    out.label = if parts.is_empty() {
        "history files: none loaded".to_string()
    } else {
        format!("history files: {}", parts.join(", "))
    };
    out
}

fn read_text(path: &Path) -> Result<String, HistoryFileError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| HistoryFileError {
        file: file.clone(),
        line: 0,
        column: None,
        message: format!("cannot read the file: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| HistoryFileError {
        file,
        line: 0,
        column: None,
        message: format!("not UTF-8 text (byte {}); save it as UTF-8 CSV", e.utf8_error().valid_up_to()),
    })
}

/// Data lines of a CSV text: `(line number, fields)`, skipping blank and `#` lines.
fn csv_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines().enumerate().filter_map(|(i, l)| {
        let t = l.trim();
        (!t.is_empty() && !t.starts_with('#')).then(|| (i + 1, t.split(',').map(str::trim).collect()))
    })
}

fn parse_date(cell: &str, err: impl Fn(String) -> HistoryFileError) -> Result<NaiveDate, HistoryFileError> {
    NaiveDate::parse_from_str(cell, "%Y-%m-%d")
        .map_err(|_| err(format!("`{cell}` is not a date; write YYYY-MM-DD, e.g. 2019-06-14")))
}

fn parse_price(cell: &str, err: impl Fn(String) -> HistoryFileError) -> Result<f64, HistoryFileError> {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(err(format!("`{cell}` is not a finite number; write a decimal price such as 64.12 or -37.63"))),
    }
}

/// Reads monthly WTI and Brent prices: header with `date`, `brent` and `wti` in any order
/// (case-insensitive), dates strictly increasing.
fn parse_brent_wti_monthly(text: &str, file: &str) -> Result<Vec<MonthlyPrices>, HistoryFileError> {
    let at = |line: usize, column: Option<usize>, message: String| HistoryFileError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let mut lines = csv_lines(text);
    let Some((hl, header)) = lines.next() else {
        return Err(at(0, None, "no header line; the first line must be `date,brent,wti`".into()));
    };
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(cd), Some(cb), Some(cw)) = (col("date"), col("brent"), col("wti")) else {
        return Err(at(hl, None, "missing column: the header must name `date`, `brent` and `wti`".into()));
    };
    let mut rows: Vec<MonthlyPrices> = Vec::new();
    for (line, f) in lines {
        if f.len() != header.len() {
            return Err(at(line, None, format!("{} field(s) but the header has {}", f.len(), header.len())));
        }
        let date = parse_date(f[cd], |m| at(line, Some(cd + 1), m))?;
        let brent = parse_price(f[cb], |m| at(line, Some(cb + 1), m))?;
        let wti = parse_price(f[cw], |m| at(line, Some(cw + 1), m))?;
        if let Some(prev) = rows.last()
            && date <= prev.date
        {
            return Err(at(
                line,
                Some(cd + 1),
                format!("date {date} is not after {}; sort the rows by date, oldest first", prev.date),
            ));
        }
        rows.push(MonthlyPrices { date, wti, brent });
    }
    Ok(rows)
}

fn read_brent_wti_monthly(path: &Path) -> Result<Vec<MonthlyPrices>, HistoryFileError> {
    parse_brent_wti_monthly(&read_text(path)?, &path.display().to_string())
}

/// Reads daily curves `date,market,m1,…,mN` (`crude simulate`'s `curve.csv`): the market
/// as a root (`CL`, `BZ`, `RB`, `HO`), prices front first; trailing cells may be empty
/// (a shorter curve). Contract months are the market's active contracts on the date.
fn parse_curves_csv(text: &str, file: &str) -> Result<Vec<(NaiveDate, CurveSnapshot)>, HistoryFileError> {
    let at = |line: usize, column: Option<usize>, message: String| HistoryFileError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let mut lines = csv_lines(text);
    let Some((hl, header)) = lines.next() else {
        return Err(at(0, None, "no header line; the first line must be `date,market,m1,m2,...`".into()));
    };
    let ok_header = header.len() >= 3
        && header[0].eq_ignore_ascii_case("date")
        && header[1].eq_ignore_ascii_case("market")
        && header[2..].iter().enumerate().all(|(i, h)| h.eq_ignore_ascii_case(&format!("m{}", i + 1)));
    if !ok_header {
        return Err(at(hl, None, "the header must be `date,market,m1,m2,...,mN` (as `crude simulate` writes)".into()));
    }
    let mut out = Vec::new();
    let mut last: [Option<(NaiveDate, usize)>; 4] = [None; 4];
    for (line, f) in lines {
        if f.len() != header.len() {
            return Err(at(line, None, format!("{} field(s) but the header has {}", f.len(), header.len())));
        }
        let date = parse_date(f[0], |m| at(line, Some(1), m))?;
        let market = Market::parse_root(f[1])
            .map_err(|_| at(line, Some(2), format!("`{}` is not a market; write CL, BZ, RB or HO", f[1])))?;
        if let Some((prev, prev_line)) = last[market.index()]
            && date <= prev
        {
            return Err(at(
                line,
                Some(1),
                format!(
                    "{market} date {date} is not after {prev} on line {prev_line}; sort each market's rows by date"
                ),
            ));
        }
        last[market.index()] = Some((date, line));
        let cells = &f[2..];
        let n = cells.iter().position(|c| c.is_empty()).unwrap_or(cells.len());
        if let Some(k) = cells[n..].iter().position(|c| !c.is_empty()) {
            return Err(at(
                line,
                Some(n + k + 3),
                "a price after an empty cell; empty cells may only end a curve".into(),
            ));
        }
        if n == 0 {
            return Err(at(line, Some(3), "the curve has no price; write m1 at least".into()));
        }
        let contracts = market.active_contracts(date, n);
        let mut points = Vec::with_capacity(n);
        for (i, (cell, contract)) in cells[..n].iter().zip(contracts).enumerate() {
            let price = parse_price(cell, |m| at(line, Some(i + 3), m))?;
            points.push(CurvePoint { contract, price });
        }
        out.push((date, CurveSnapshot { market, ts: settlement_ts(date), points }));
    }
    Ok(out)
}

fn read_curves_csv(path: &Path) -> Result<Vec<(NaiveDate, CurveSnapshot)>, HistoryFileError> {
    parse_curves_csv(&read_text(path)?, &path.display().to_string())
}

// ---------------------------------------------------------------------------------------
// The analytics engine (pure, event-driven)
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

/// The worker's analytics, driven by feed batches and history.
struct Engine {
    cfg: CurveWorkerConfig,
    markets: Vec<MarketState>,
    inventory: InventoryState,
    monthly: Vec<MonthlyPrices>,
    cracks: CrackCache,
    history_origin: Option<DataOrigin>,
    /// Trading date of the feed's first market event.
    feed_start: Option<Timestamp>,
    as_of: Option<Timestamp>,
    generation: u64,
    errors: Vec<String>,
}

impl Engine {
    fn new(cfg: &CurveWorkerConfig) -> Result<Self, CurveError> {
        let markets =
            Market::ALL.iter().map(|&m| MarketState::new(m, cfg.term_config(m))).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            cfg: cfg.clone(),
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

    /// Applies a feed batch; returns whether anything the view shows changed.
    fn apply_batch(&mut self, batch: &FeedBatch) -> bool {
        let mut changed = false;
        for ev in &batch.events {
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

    /// Merges loaded history under the feed's data; returns what it holds.
    fn apply_history(&mut self, h: LoadedHistory) -> HistoryInfo {
        let origin = h.origin.unwrap_or(DataOrigin::FileHistory);
        self.history_origin = Some(origin);
        self.errors.extend(h.errors);
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
        HistoryInfo { label: h.label, simulated: h.simulated, curve_days, inventory_weeks, monthly_points, span }
    }

    fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    fn has_data(&self) -> bool {
        self.markets.iter().any(|m| !m.daily.is_empty()) || !self.inventory.weeks.is_empty() || !self.monthly.is_empty()
    }

    fn compute(&mut self, wall: &dyn Clock) -> CurveData {
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

// ---------------------------------------------------------------------------------------
// The thread
// ---------------------------------------------------------------------------------------

/// The curve service: term structure, spreads, cracks and inventories over the history
/// and the live feed (see the module doc).
pub struct CurveService {
    cfg: CurveWorkerConfig,
    engine: Engine,
    out: Outbox<CurveUpdate>,
    dirty: bool,
    last_sent_wall: Option<Timestamp>,
    last_error: Option<String>,
    /// The history load was started (or there is none to load).
    history_started: bool,
    /// The history load, until the runner takes it.
    job: Option<BackgroundJob<LoadedHistory>>,
    feed_open: bool,
    status: CurveStatus,
}

impl CurveService {
    fn send(&mut self, u: CurveUpdate) {
        self.out.send(u);
    }

    fn forward_errors(&mut self) {
        for e in self.engine.take_errors() {
            // A stream of identical bad events reports once.
            if self.last_error.as_deref() != Some(e.as_str()) {
                self.last_error = Some(e.clone());
                tracing::warn!(error = %e, "curve analytics");
                self.send(CurveUpdate::Error(e));
            }
        }
    }

    /// Prepares the history load for the runner; whether one was prepared (or there is
    /// nothing to wait for).
    fn start_history(&mut self) -> bool {
        let (what, job): (String, BackgroundJob<LoadedHistory>) = match &self.cfg.history {
            CurveHistorySource::None => return false,
            CurveHistorySource::Simulated { config, years } => {
                let Some(start) = self.engine.feed_start else {
                    self.send(CurveUpdate::History(HistoryStatus::WaitingForLiveStart));
                    return false;
                };
                let (config, years) = (config.clone(), *years);
                (
                    format!("simulated history: {years} year(s) ending {}", trading_date(start)),
                    Box::new(move || load_simulated(&config, years, start)),
                )
            }
            CurveHistorySource::Files { brent_wti_monthly, eia_weekly, curves } => {
                let (a, b, c) = (brent_wti_monthly.clone(), eia_weekly.clone(), curves.clone());
                ("history files".to_string(), Box::new(move || load_files(a.as_deref(), b.as_deref(), c.as_deref())))
            }
        };
        self.send(CurveUpdate::History(HistoryStatus::Loading(what)));
        self.job = Some(job);
        true
    }

    /// Merges loaded history and reports what it holds.
    fn on_history(&mut self, h: LoadedHistory) {
        let info = self.engine.apply_history(h);
        let nothing = info.curve_days == 0 && info.inventory_weeks == 0 && info.monthly_points == 0;
        let status = if nothing { HistoryStatus::Failed(info.label) } else { HistoryStatus::Loaded(info) };
        self.send(CurveUpdate::History(status));
        self.dirty = true;
    }

    /// How long to wait before figures may be sent again; `None` when nothing changed.
    fn wait(&self) -> Option<Duration> {
        if !self.dirty {
            return None;
        }
        let interval_ns = i64::try_from(self.cfg.min_update_interval_ms).unwrap_or(60_000) * 1_000_000;
        let now = self.cfg.wall.now();
        if let Some(last) = self.last_sent_wall {
            let elapsed = now.0 - last.0;
            if elapsed < interval_ns {
                return Some(Duration::from_nanos(u64::try_from(interval_ns - elapsed).unwrap_or(0).max(1_000_000)));
            }
        }
        if self.out.in_flight(self.engine.generation) {
            // The driver has not taken the last figures (minimised window): wait for it.
            return Some(Duration::from_millis(self.cfg.min_update_interval_ms.clamp(5, 1_000)));
        }
        Some(Duration::ZERO)
    }

    /// Computes and sends figures when they changed, the pacing interval has passed and
    /// the driver took the previous ones.
    fn maybe_send(&mut self) {
        if self.wait() != Some(Duration::ZERO) {
            return;
        }
        let now = self.cfg.wall.now();
        let data = self.engine.compute(self.cfg.wall.as_ref());
        self.forward_errors();
        self.send(CurveUpdate::Data(Box::new(data)));
        self.last_sent_wall = Some(now);
        self.dirty = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;
    use crude_analytics::{CurveState, term_structure_history, term_structure_metrics};
    use crude_feeds::{FeedPoll, MarketFeed, SimFeed, sim::MarketSimulator};
    use crude_model::{ContractMonth, LiveClock};
    use tokio::sync::mpsc;

    fn cfg(history: CurveHistorySource) -> CurveWorkerConfig {
        let mut c = CurveWorkerConfig::new(history, Arc::new(LiveClock));
        c.min_update_interval_ms = 0;
        c
    }

    /// Wednesday 2026-11-18 10:00 ET: the market is open.
    fn live_start() -> Timestamp {
        Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
    }

    fn sim_config() -> SimConfig {
        SimConfig { seed: 11, ..SimConfig::default() }
    }

    /// A seeded simulator feed: its warm-up history batch and `secs` seconds of live events.
    fn sim_batches(secs: i64) -> Vec<FeedBatch> {
        let mut feed = SimFeed::new(MarketSimulator::new(sim_config(), live_start()).unwrap(), 2);
        let mut out: Vec<FeedBatch> = feed
            .initial_events()
            .chunks(4096)
            .map(|c| FeedBatch { events: c.to_vec(), sent_wall: Timestamp(0), history: true })
            .collect();
        let mut live = Vec::new();
        let t = feed.next_event_time().unwrap().add_nanos(secs * Timestamp::NANOS_PER_SEC);
        assert_eq!(feed.poll(t, &mut live), FeedPoll::Pending);
        out.extend(live.chunks(1024).map(|c| FeedBatch {
            events: c.to_vec(),
            sent_wall: Timestamp(0),
            history: false,
        }));
        out
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

    fn batch(events: Vec<MarketEvent>) -> FeedBatch {
        FeedBatch { events, sent_wall: Timestamp(0), history: false }
    }

    fn in_range(p: Option<f64>) -> bool {
        p.is_none_or(|v| (0.0..=100.0).contains(&v))
    }

    #[test]
    fn simulated_history_and_live_curves_give_metrics_with_percentiles() {
        let config = cfg(CurveHistorySource::Simulated { config: sim_config(), years: 1 });
        let mut e = Engine::new(&config).unwrap();
        let batches = sim_batches(20);
        let first_ts = batches[0].events.iter().find(|e| !matches!(e, MarketEvent::Status { .. })).unwrap().ts();
        for b in &batches {
            e.apply_batch(b);
        }
        assert_eq!(e.feed_start, Some(first_ts));
        let CurveHistorySource::Simulated { config: sc, years } = &config.history else { unreachable!() };
        let h = load_simulated(sc, *years, first_ts);
        assert!(h.label.contains("simulated history"), "{}", h.label);
        assert!(h.curves.iter().all(|(d, _)| *d < trading_date(first_ts)), "history ends before the feed");
        let info = e.apply_history(h);
        assert!(info.simulated && info.curve_days > 900, "{info:?}");
        let data = e.compute(&LiveClock);
        assert!(e.take_errors().is_empty());
        assert_eq!(data.markets.len(), 4);
        for mc in &data.markets {
            assert_eq!(mc.current.origin, DataOrigin::Feed, "{}: the live curve is current", mc.market);
            assert_eq!(mc.current.date, trading_date(live_start()));
            let p = &mc.row.percentiles;
            for v in
                [p.m1_m2, p.m1_m3, p.m1_m6, p.m1_m12, p.slope_per_month, p.curvature_per_month, p.roll_yield_annual]
            {
                assert!(v.is_some() && in_range(v), "{}: {p:?}", mc.market);
            }
            assert_eq!(mc.spreads.len(), 11);
            assert!(mc.spreads.iter().all(|s| s.value.is_some() && s.percentile.is_some() && in_range(s.percentile)));
            assert!(mc.spreads.iter().all(|s| s.change_1w.is_some()));
            // The spread table's M1–M2 percentile is the metrics table's.
            assert_eq!(mc.spreads[0].percentile, p.m1_m2);
            assert_eq!(mc.overlays.len(), 3, "{}: 1w, 1m, 3m overlays", mc.market);
            assert_eq!(mc.overlays[2].line.origin, DataOrigin::SimulatedHistory);
            assert_eq!(mc.window_days, 251);
        }
        // The metrics equal the analytics' over the same daily closes plus today's curve.
        let st = &e.markets[Market::Wti.index()];
        let curves: Vec<CurveSnapshot> = st.daily.values().map(|d| d.curve.clone()).collect();
        let rows = term_structure_history(&curves, &config.term_config(Market::Wti)).unwrap();
        assert_eq!(data.market(Market::Wti).unwrap().row, *rows.last().unwrap());
        // Cracks with a seasonal band need a prior ISO year: one year of history spans two.
        assert_eq!(data.cracks.len(), 4);
        for c in &data.cracks {
            let s = c.seasonal.as_ref().unwrap();
            assert!(!s.mean.is_empty() && s.band_weeks.len() == s.lower.len() && s.lower.len() == s.upper.len());
            assert!(c.current_year.len() <= 53 && !c.current_year.is_empty());
            assert_eq!(c.latest_origin, DataOrigin::Feed);
        }
        let wb = data.wti_brent.as_ref().unwrap();
        assert_eq!(wb.segments.len(), 2, "simulated history then feed");
        assert_eq!(wb.segments[0].origin, DataOrigin::SimulatedHistory);
        assert!(wb.segments.iter().map(|s| s.wti_brent.len()).sum::<usize>() <= config.max_series_points);
        assert!(data.inventory.total_weeks >= 50, "{}", data.inventory.total_weeks);
        assert!(data.inventory.weeks.len() <= config.inventory_weeks);
        let last = data.inventory.weeks.last().unwrap().0;
        assert!(last.crude.surprise_kbbl.is_some() && last.crude.surprise_z.is_some());
        assert!(last.gasoline.surprise_kbbl.is_some() && last.distillate.surprise_kbbl.is_some());
    }

    #[test]
    fn a_negative_front_month_keeps_spreads_and_drops_only_the_roll_yield() {
        let mut e = Engine::new(&cfg(CurveHistorySource::None)).unwrap();
        let day = |d: u32| Timestamp::from_datetime(&New_York.with_ymd_and_hms(2020, 4, d, 14, 0, 0).unwrap());
        let mut prices: Vec<f64> = (0..12).map(|i| 18.0 + i as f64 * 1.5).collect();
        for d in [14, 15, 16, 17] {
            e.apply_batch(&batch(vec![MarketEvent::Curve(curve(Market::Wti, day(d), &prices))]));
        }
        prices[0] = -37.63;
        let neg = curve(Market::Wti, day(20), &prices);
        e.apply_batch(&batch(vec![
            MarketEvent::Curve(neg.clone()),
            MarketEvent::Curve(curve(Market::Brent, day(20), &[25.57, 26.0, 27.0])),
            MarketEvent::Curve(curve(Market::Rbob, day(20), &[0.6, 0.7])),
            MarketEvent::Curve(curve(Market::HeatingOil, day(20), &[0.8, 0.85])),
        ]));
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
        let want = crude_analytics::crack_321(0.6, 0.8, -37.63);
        assert!((c321.latest.unwrap().1 - want).abs() < 1e-12);
        assert!(c321.seasonal.is_err(), "no prior year: no band, and no panic");
        let wb = data.wti_brent.unwrap().latest.unwrap();
        assert!((wb.1 - (-37.63 - 25.57)).abs() < 1e-12);
        // A NaN curve is skipped and reported, and the previous figures stand.
        prices[3] = f64::NAN;
        e.apply_batch(&batch(vec![MarketEvent::Curve(curve(Market::Wti, day(21), &prices))]));
        let errs = e.take_errors();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("CL curve at 2020-04-21 skipped") && errs[0].contains("index 3"), "{errs:?}");
        assert_eq!(e.compute(&LiveClock).market(Market::Wti).unwrap().current.date, trading_date(day(20)));
    }

    #[test]
    fn quotes_refresh_the_feed_curve_and_percentiles_follow_the_lookback() {
        let mut config = cfg(CurveHistorySource::None);
        config.term_structure.lookback = 5;
        config.term_structure.min_observations = 3;
        let mut e = Engine::new(&config).unwrap();
        let ts = |d: u32| Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 3, d, 12, 0, 0).unwrap());
        let dates = [2, 3, 4, 5, 6, 9];
        for (k, d) in dates.iter().enumerate() {
            let s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.0][k];
            e.apply_batch(&batch(vec![MarketEvent::Curve(curve(Market::Wti, ts(*d), &[70.0 + s, 70.0, 69.9]))]));
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
        assert!(e.apply_batch(&batch(vec![MarketEvent::Quote(q)])));
        let wti = e.compute(&LiveClock).markets.remove(0);
        assert!((wti.row.metrics.m1_m2.unwrap() - 0.6).abs() < 1e-9);
        assert!((wti.row.percentiles.m1_m2.unwrap() - 90.0).abs() < 1e-9);
        // A quote for a contract not on the curve, or a crossed quote, changes nothing.
        let other = ContractId::new(Market::Wti, ContractMonth::new(2030, 1).unwrap());
        assert!(!e.apply_batch(&batch(vec![MarketEvent::Quote(Quote { contract: other, ..q })])));
        assert!(!e.apply_batch(&batch(vec![MarketEvent::Quote(Quote { bid: 71.0, ask: 70.0, ..q })])));
        // Out-of-order history resets and rebuilds the windows to the same answer.
        let rebuilt = {
            let mut e2 = Engine::new(&config).unwrap();
            for d in dates.iter().rev() {
                let c = e.markets[0].daily[&trading_date(ts(*d))].curve.clone();
                e2.apply_batch(&batch(vec![MarketEvent::Curve(c)]));
            }
            e2.compute(&LiveClock).markets.remove(0)
        };
        assert_eq!(rebuilt.row, wti.row);
    }

    #[test]
    fn crack_cache_matches_a_full_rebuild_as_prices_move_and_days_pass() {
        let config = cfg(CurveHistorySource::None);
        let mut e = Engine::new(&config).unwrap();
        let mut d = NaiveDate::from_ymd_opt(2024, 6, 3).unwrap();
        let mut k = 0.0;
        let day = |e: &mut Engine, d: NaiveDate, k: f64| {
            let ts = settlement_ts(d);
            e.apply_batch(&batch(vec![
                MarketEvent::Curve(curve(Market::Wti, ts, &[70.0 + k.sin(), 70.5])),
                MarketEvent::Curve(curve(Market::Rbob, ts, &[2.1 + 0.1 * k.cos(), 2.0])),
                MarketEvent::Curve(curve(Market::HeatingOil, ts, &[2.5 + 0.05 * (2.0 * k).sin(), 2.4])),
            ]));
        };
        while d < NaiveDate::from_ymd_opt(2026, 3, 2).unwrap() {
            if HolidayCalendar::Cme.is_business_day(d) {
                day(&mut e, d, k);
                k += 0.1;
            }
            d = d.succ_opt().unwrap();
        }
        let fresh = |e: &Engine| CrackCache::default().update(&e.markets, &config.seasonal);
        let first = e.compute(&LiveClock).cracks;
        assert_eq!(first, fresh(&e));
        assert!(first.iter().all(|c| c.seasonal.is_ok() && !c.previous_year.is_empty()));
        // A quote moves today's CL front month: only the latest value and this week change.
        let last = *e.markets[0].daily.keys().next_back().unwrap();
        let front = e.markets[0].daily[&last].curve.points[0].contract;
        let q = Quote { contract: front, ts: settlement_ts(last), bid: 80.0, ask: 80.02, bid_size: 1, ask_size: 1 };
        assert!(e.apply_batch(&batch(vec![MarketEvent::Quote(q)])));
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
        let mut e = Engine::new(&cfg(CurveHistorySource::None)).unwrap();
        let start = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        let mut d = start;
        while d <= NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() {
            if HolidayCalendar::Cme.is_business_day(d) {
                let c = curve(Market::Wti, settlement_ts(d), &[60.0, 61.0]);
                e.apply_batch(&batch(vec![MarketEvent::Curve(c)]));
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
    fn history_files_load_and_bad_files_name_line_and_column() {
        let monthly = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/brent_wti_monthly_eia.csv");
        let h = load_files(Some(&monthly), None, None);
        assert!(h.errors.is_empty(), "{:?}", h.errors);
        assert_eq!(h.monthly.len(), 393);
        assert_eq!(
            h.monthly[0],
            MonthlyPrices { date: NaiveDate::from_ymd_opt(1987, 5, 15).unwrap(), wti: 19.44, brent: 18.58 }
        );
        assert!(h.label.contains("brent_wti_monthly_eia.csv (393 months 1987-05-15..2020-01-15)"), "{}", h.label);
        let mut e = Engine::new(&cfg(CurveHistorySource::None)).unwrap();
        let info = e.apply_history(h);
        assert!(!info.simulated && info.monthly_points == 393);
        let data = e.compute(&LiveClock);
        let wb = data.wti_brent.unwrap();
        assert_eq!(wb.segments.len(), 1);
        assert_eq!(wb.segments[0].observations, 393);
        assert!(wb.segments[0].wti_brent.len() <= 400 && wb.segments[0].wti_brent.len() >= 380);
        assert!((wb.latest.unwrap().1 - wti_brent_spread(57.52, 63.83)).abs() < 1e-9, "{:?}", wb.latest);

        let err = |t: &str| parse_brent_wti_monthly(t, "m.csv").unwrap_err().to_string();
        assert_eq!(
            err("date,brent,wti\n2020-01-15,63.6,5x.5\n"),
            "m.csv: line 2, column 3: `5x.5` is not a finite number; write a decimal price such as 64.12 or -37.63"
        );
        assert!(err("date,wti\n").contains("line 1: missing column"));
        assert!(
            err("date,brent,wti\n2020-02-15,1,2\n2020-01-15,1,2\n")
                .contains("line 3, column 1: date 2020-01-15 is not after")
        );
        assert!(err("# notes\n\ndate,brent,wti\n2020-01-15,1\n").contains("line 4: 2 field(s) but the header has 3"));

        let text = "date,market,m1,m2,m3\n2026-03-02,CL,70.1,70.0,\n2026-03-02,RB,2.1,2.2,2.3\n";
        let curves = parse_curves_csv(text, "c.csv").unwrap();
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].1.points.len(), 2);
        assert_eq!(
            curves[0].1.points[0].contract,
            Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap())
        );
        assert_eq!(trading_date(curves[0].1.ts), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        let cerr = |t: &str| parse_curves_csv(t, "c.csv").unwrap_err().to_string();
        assert!(cerr("date,market,m1\n2026-03-02,XX,1\n").contains("line 2, column 2: `XX` is not a market"));
        assert!(
            cerr("date,market,m1,m2\n2026-03-02,CL,,1\n").contains("line 2, column 4: a price after an empty cell")
        );
        assert!(cerr("date,mkt,m1\n").contains("line 1: the header must be"));
        let missing = load_files(None, Some(Path::new("/nonexistent/eia.csv")), Some(Path::new("/nonexistent/c.csv")));
        assert_eq!(missing.errors.len(), 2);
        assert!(missing.errors[0].contains("/nonexistent/eia.csv"), "{:?}", missing.errors);
        assert!(
            missing.errors[1].starts_with("history: /nonexistent/c.csv: cannot read the file"),
            "{:?}",
            missing.errors
        );
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

    #[test]
    fn config_errors_name_the_setting() {
        let mut c = cfg(CurveHistorySource::Simulated { config: sim_config(), years: 0 });
        assert!(c.validate().unwrap_err().to_string().contains("`history.years` = 0"));
        c.history = CurveHistorySource::None;
        c.arb_transport_cost_usd_bbl = f64::NAN;
        assert!(c.validate().unwrap_err().to_string().contains("arb_transport_cost_usd_bbl"));
        c.arb_transport_cost_usd_bbl = 3.0;
        c.term_structure.lookback = 0;
        assert!(matches!(c.validate(), Err(CurveError::Analytics(_))));
        c.term_structure.lookback = 252;
        c.max_series_points = 3;
        assert!(c.validate().unwrap_err().to_string().contains("max_series_points"));
        assert_eq!(c.term_config(Market::Rbob).neutral_band, 0.05 / 42.0);
        assert_eq!(c.term_config(Market::Wti).neutral_band, 0.05);
        assert!(matches!(
            CurveHistorySource::data_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").as_path()),
            CurveHistorySource::Files { brent_wti_monthly: Some(_), eia_weekly: None, curves: None }
        ));
    }

    /// The worker thread end to end: history arrives, live curves arrive, figures are
    /// paced and only sent after the UI took the previous ones.
    #[test]
    fn worker_thread_sends_figures_status_and_history() {
        let config = cfg(CurveHistorySource::Simulated { config: sim_config(), years: 1 });
        let (tx, rx) = mpsc::channel(1 << 12);
        let (wtx, woke) = std::sync::mpsc::channel::<()>();
        let wtx = std::sync::Mutex::new(wtx);
        let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            let _ = wtx.lock().map(|t| t.send(()));
        });
        let mut handle = CurveService::spawn(config, rx, notify).unwrap();
        for b in sim_batches(10) {
            tx.try_send(b).unwrap();
        }
        let mut view = CurveView::default();
        let mut ok = false;
        for _ in 0..2_000 {
            handle.drain(&mut view);
            let loaded = matches!(view.history, HistoryStatus::Loaded(_));
            if loaded && view.data.as_ref().is_some_and(|d| d.markets.len() == 4 && d.markets[0].window_days > 200) {
                ok = true;
                break;
            }
            let _ = woke.recv_timeout(Duration::from_secs(10));
        }
        assert!(ok, "no figures with history; view: {:?} {:?} {:?}", view.status, view.history, view.errors);
        assert_eq!(view.status, CurveStatus::Ready);
        let HistoryStatus::Loaded(info) = &view.history else { unreachable!() };
        assert!(info.simulated && info.label.contains("simulated history"));
        assert!(view.errors.is_empty(), "{:?}", view.errors);
        drop(tx);
        for _ in 0..200 {
            handle.drain(&mut view);
            if view.status == CurveStatus::FeedEnded {
                break;
            }
            let _ = woke.recv_timeout(Duration::from_secs(10));
        }
        assert_eq!(view.status, CurveStatus::FeedEnded);
        handle.shutdown();
    }
}
