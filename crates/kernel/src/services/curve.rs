//! The curve service: term structure, calendar spreads, crack spreads against their seasonal
//! band, the WTI–Brent spread and the Brent–WTI arb, and weekly inventory surprises, computed
//! by the engine of `crude_analytics::curve_engine` and sent to the driver as a compact
//! [`CurveData`].
//!
//! # Inputs
//!
//! * A tap of the feed ([`crude_feeds::FeedBatch`]): curve snapshots (one per market per
//!   second from the simulator, one per settlement in its history), quotes (a quote's mid
//!   refreshes its contract's point on the market's latest curve of the same trading date)
//!   and weekly inventory reports. Everything else is ignored.
//! * A history source chosen by the app ([`CurveHistorySource`]):
//!   - `Simulated`: `years` of daily settlement curves and inventory reports of the anchored
//!     simulated history ([`crude_feeds::simulate_anchored_history`], shared with the risk
//!     service through [`crude_feeds::SharedSimHistory`]), ending the trading date before the
//!     feed's first event. The simulated path is not the live one; the view labels it
//!     "simulated history" (see [`CurveHistoryInfo::label`]) and marks every curve, overlay
//!     and series segment that comes from it ([`DataOrigin::SimulatedHistory`]).
//!   - `Files`: monthly WTI and Brent prices ([`crude_feeds::parse_brent_wti_monthly`], as
//!     `data/brent_wti_monthly_eia.csv`), weekly EIA inventories in the layout of
//!     [`crude_analytics::read_eia_weekly_csv`], and daily curves in the layout
//!     `crude simulate` writes ([`crude_feeds::parse_curves_csv`]; contract months are the
//!     market's active contracts on that date). Each file is optional; a bad file is reported in the
//!     view (file, line, column) and the others still load.
//!   - `None`: only what the feed sends.
//!
//!   History never overrides the feed: history from the feed's first trading date on is
//!   dropped, and the feed wins any date both have.
//!
//! # What is computed
//!
//! The figures are [`crude_analytics::CurveEngine`]'s (term structure and its percentiles,
//! calendar spreads, cracks against their seasonal band, WTI–Brent and the arb, inventory
//! surprises; see [`crude_analytics::curve_engine`]): this service feeds it the tap and the
//! history and paces its updates. The engine's types are re-exported here.
//!
//! Time comes only from the events (and the history's dates); the wall clock only paces the
//! updates: at most one per `min_update_interval_ms` while prices move, and only after the
//! UI has taken the previous one. Bad events (a non-finite price, contract months out of
//! order) are skipped and reported in the view; nothing panics.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
pub use crude_analytics::curve_engine::{
    ChartPoint, CrackKind, CrackSeries, CurveData, CurveLine, CurveOverlay, DataOrigin, InventorySeries, MarketCurve,
    OVERLAYS, SPREAD_FAR_TENORS, SeasonalSeries, SpreadRow, SpreadSegment, WtiBrentSeries, date_from_days,
    days_since_epoch, reduce_min_max,
};
use crude_analytics::{
    CurveEngine, CurveEngineConfig, CurveHistory, InventoryWeek, MarketAnalyticsError, MonthlyWtiBrent,
    TermStructureConfig, read_eia_weekly_csv,
};
use crude_feeds::sim::{DailyCurve, SimConfig, SimError};
use crude_feeds::{FeedBatch, SharedSimHistory, read_brent_wti_monthly, read_curves_csv};
pub use crude_feeds::{HistoryColumn, HistoryFileError};
use crude_model::{Clock, CurvePoint, CurveSnapshot, Market, Timestamp, session_bounds, trading_date};

use crate::service::{self, BackgroundJob, Generational, Notify, Outbox, Service, ServiceHandle, View};

/// Most error messages the view keeps (oldest dropped first).
pub const ERRORS_CAP: usize = 20;

/// Why the curve worker could not be started.
#[derive(Debug, thiserror::Error)]
pub enum CurveError {
    /// A worker setting is out of range.
    #[error("curve worker config: `{field}` = {value} is invalid: {expected}")]
    InvalidConfig {
        /// The setting, as named in [`CurveServiceConfig`].
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

/// Where the service takes its history from (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum CurveHistorySource {
    /// Only what the feed sends.
    None,
    /// `years` of daily curves and inventory reports of the anchored simulated history,
    /// ending the trading date before the feed starts; always labelled "simulated history".
    Simulated {
        /// The simulated history (its config's seed decides the path), shared with the
        /// other services of the kernel that use it.
        history: SharedSimHistory,
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
    /// `years` of simulated history of the simulator `config`, not shared.
    pub fn simulated(config: SimConfig, years: u32) -> Self {
        Self::shared(SharedSimHistory::new(config), years)
    }

    /// `years` of the simulated history `history`, shared with its other holders (the one
    /// simulation covers the longest request).
    pub fn shared(history: SharedSimHistory, years: u32) -> Self {
        history.request(simulated_days(years));
        Self::Simulated { history, years }
    }

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

/// Trading dates of `years` of simulated history (252 a year).
fn simulated_days(years: u32) -> usize {
    (years as usize).saturating_mul(252)
}

/// How the curve worker runs.
#[derive(Clone)]
pub struct CurveServiceConfig {
    /// The history source.
    pub history: CurveHistorySource,
    /// The curve engine's settings (term structure, seasonal profile, inventories, arb
    /// cost, series sizes).
    pub engine: CurveEngineConfig,
    /// Shortest wall-clock interval between updates while prices move.
    pub min_update_interval_ms: u64,
    /// Wall clock, only to pace the updates.
    pub wall: Arc<dyn Clock>,
}

impl std::fmt::Debug for CurveServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurveServiceConfig")
            .field("history", &self.history)
            .field("engine", &self.engine)
            .field("min_update_interval_ms", &self.min_update_interval_ms)
            .finish_non_exhaustive()
    }
}

impl CurveServiceConfig {
    /// Defaults: the engine's defaults ([`CurveEngineConfig::default`]), at most 4 updates
    /// a second.
    pub fn new(history: CurveHistorySource, wall: Arc<dyn Clock>) -> Self {
        Self { history, engine: CurveEngineConfig::default(), min_update_interval_ms: 250, wall }
    }

    /// The term-structure settings for `market` (its neutral band in its price unit).
    pub fn term_config(&self, market: Market) -> TermStructureConfig {
        self.engine_config().term_config(market)
    }

    /// The curve engine's settings.
    pub fn engine_config(&self) -> CurveEngineConfig {
        self.engine
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
        self.engine.seasonal.validate()?;
        self.engine.inventory.validate()?;
        let bad = |field, value: String, expected| Err(CurveError::InvalidConfig { field, value, expected });
        if !self.engine.arb_transport_cost_usd_bbl.is_finite() {
            return bad(
                "arb_transport_cost_usd_bbl",
                self.engine.arb_transport_cost_usd_bbl.to_string(),
                "a finite cost in USD per barrel",
            );
        }
        if !(16..=100_000).contains(&self.engine.max_series_points) {
            return bad("max_series_points", self.engine.max_series_points.to_string(), "16 to 100000 points");
        }
        if !(1..=520).contains(&self.engine.inventory_weeks) {
            return bad("inventory_weeks", self.engine.inventory_weeks.to_string(), "1 to 520 weeks");
        }
        if self.min_update_interval_ms > 60_000 {
            return bad("min_update_interval_ms", self.min_update_interval_ms.to_string(), "0 to 60000 ms");
        }
        if let CurveHistorySource::Simulated { history, years } = &self.history {
            history.config().validate()?;
            if !(1..=30).contains(years) {
                return bad("history.years", years.to_string(), "1 to 30 years of simulated history");
            }
        }
        Ok(())
    }
}

/// The service's state.
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
    /// The service stopped (the reason).
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

/// What the loaded curve history holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveHistoryInfo {
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
    Loaded(CurveHistoryInfo),
    /// Nothing could be loaded (why).
    Failed(String),
}

/// What the service sends.
#[derive(Debug, Clone)]
pub enum CurveUpdate {
    /// The service's state changed.
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
    /// The service's state.
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
    /// [`CurveServiceConfig::validate`]'s errors, [`CurveError::Analytics`] when the
    /// engine cannot be built.
    pub fn new(config: CurveServiceConfig, out: Outbox<CurveUpdate>) -> Result<Self, CurveError> {
        config.validate()?;
        if let CurveHistorySource::Simulated { history, years } = &config.history {
            history.request(simulated_days(*years));
        }
        let engine = CurveEngine::new(&config.engine_config())?;
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
        config: CurveServiceConfig,
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
        self.dirty |= self.engine.apply_events(&batch.events);
        if !self.history_started && self.engine.feed_start().is_some() {
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

/// History loaded off the service's loop (opaque to drivers): what the engine merges, and
/// how the panel describes it.
#[derive(Debug)]
pub struct LoadedHistory {
    history: CurveHistory,
    label: String,
    simulated: bool,
    errors: Vec<String>,
}

impl LoadedHistory {
    fn new(origin: DataOrigin) -> Self {
        Self {
            history: CurveHistory::new(origin),
            label: String::new(),
            simulated: origin == DataOrigin::SimulatedHistory,
            errors: Vec::new(),
        }
    }
}

/// The settlement time stamp of a trading date (1 ms before the close, as the simulator
/// stamps settlements), whose trading date is `date`.
fn settlement_ts(date: NaiveDate) -> Timestamp {
    session_bounds(date).1.add_nanos(-1_000_000)
}

/// A daily settlement curve as the feed would send it.
fn snapshot(c: &DailyCurve) -> (NaiveDate, CurveSnapshot) {
    let points =
        c.contracts.iter().zip(&c.settlements).map(|(&contract, &price)| CurvePoint { contract, price }).collect();
    (c.date, CurveSnapshot { market: c.market, ts: settlement_ts(c.date), points })
}

fn load_simulated(history: &SharedSimHistory, years: u32, live_start: Timestamp) -> LoadedHistory {
    let live_date = trading_date(live_start);
    let seed = history.config().seed;
    let mut out = LoadedHistory::new(DataOrigin::SimulatedHistory);
    let sim = match history.get(live_date, simulated_days(years)) {
        Ok(s) => s,
        Err(e) => {
            out.label = format!("simulated history: not generated ({e})");
            out.errors.push(format!("simulated history: {e}"));
            return out;
        }
    };
    out.history.curves = sim.curves.iter().filter(|c| c.date < live_date).map(snapshot).collect();
    out.history.inventory =
        sim.inventory.iter().filter(|r| r.ts < live_start).map(InventoryWeek::from_report).collect::<Vec<_>>();
    let curves = &out.history.curves;
    let span = curves.first().zip(curves.last()).map(|(a, b)| (a.0, b.0));
    let sessions = curves.iter().filter(|(_, c)| c.market == Market::Wti).count();
    out.label = match span {
        Some((a, b)) => format!(
            "simulated history: seed {seed}, {sessions} sessions {a}..{b}, from the market simulator (not real prices)"
        ),
        None => format!("simulated history: seed {seed}, no session before {live_date}"),
    };
    out
}

fn load_files(brent_wti: Option<&Path>, eia: Option<&Path>, curves: Option<&Path>) -> LoadedHistory {
    let mut out = LoadedHistory::new(DataOrigin::FileHistory);
    let mut parts = Vec::new();
    let name = |p: &Path| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
    if let Some(p) = brent_wti {
        match read_brent_wti_monthly(p) {
            Ok(rows) => {
                let span = rows.first().zip(rows.last()).map(|(a, b)| format!(" {}..{}", a.date, b.date));
                parts.push(format!("{} ({} months{})", name(p), rows.len(), span.unwrap_or_default()));
                out.history.monthly =
                    rows.iter().map(|m| MonthlyWtiBrent { date: m.date, wti: m.wti, brent: m.brent }).collect();
            }
            Err(e) => out.errors.push(format!("history: {e}")),
        }
    }
    if let Some(p) = eia {
        match read_eia_weekly_csv(p) {
            Ok(weeks) => {
                parts.push(format!("{} ({} weeks)", name(p), weeks.len()));
                out.history.inventory = weeks;
            }
            Err(e) => out.errors.push(format!("history: {e}")),
        }
    }
    if let Some(p) = curves {
        match read_curves_csv(p) {
            Ok(c) => {
                parts.push(format!("{} ({} daily curves)", name(p), c.len()));
                out.history.curves = c.iter().map(snapshot).collect();
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

/// Merges `h` under the engine's data: what it holds, and the loading errors to report.
fn merge(engine: &mut CurveEngine, h: LoadedHistory) -> (CurveHistoryInfo, Vec<String>) {
    let m = engine.apply_history(h.history);
    let info = CurveHistoryInfo {
        label: h.label,
        simulated: h.simulated,
        curve_days: m.curve_days,
        inventory_weeks: m.inventory_weeks,
        monthly_points: m.monthly_points,
        span: m.span,
    };
    (info, h.errors)
}

// ---------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------

/// The curve service: term structure, spreads, cracks and inventories over the history
/// and the live feed (see the module doc).
pub struct CurveService {
    cfg: CurveServiceConfig,
    engine: CurveEngine,
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
        let errors = self.engine.take_errors();
        self.report(errors);
    }

    fn report(&mut self, errors: Vec<String>) {
        for e in errors {
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
            CurveHistorySource::Simulated { history, years } => {
                let Some(start) = self.engine.feed_start() else {
                    self.send(CurveUpdate::History(HistoryStatus::WaitingForLiveStart));
                    return false;
                };
                let (history, years) = (history.clone(), *years);
                (
                    format!("simulated history: {years} year(s) ending {}", trading_date(start)),
                    Box::new(move || load_simulated(&history, years, start)),
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
        let (info, errors) = merge(&mut self.engine, h);
        self.report(errors);
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
        if self.out.in_flight(self.engine.generation()) {
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
    use crude_analytics::{term_structure_history, wti_brent_spread};
    use crude_feeds::{FeedPoll, MarketFeed, SimFeed, sim::MarketSimulator};
    use crude_model::{LiveClock, MarketEvent};
    use tokio::sync::mpsc;

    fn cfg(history: CurveHistorySource) -> CurveServiceConfig {
        let mut c = CurveServiceConfig::new(history, Arc::new(LiveClock));
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
            .map(|c| FeedBatch { events: c.to_vec().into(), sent_wall: Timestamp(0), history: true })
            .collect();
        let mut live = Vec::new();
        let t = feed.next_event_time().unwrap().add_nanos(secs * Timestamp::NANOS_PER_SEC);
        assert_eq!(feed.poll(t, &mut live), FeedPoll::Pending);
        out.extend(live.chunks(1024).map(|c| FeedBatch {
            events: c.to_vec().into(),
            sent_wall: Timestamp(0),
            history: false,
        }));
        out
    }

    fn in_range(p: Option<f64>) -> bool {
        p.is_none_or(|v| (0.0..=100.0).contains(&v))
    }

    #[test]
    fn simulated_history_and_live_curves_give_metrics_with_percentiles() {
        let config = cfg(CurveHistorySource::simulated(sim_config(), 1));
        let mut e = CurveEngine::new(&config.engine_config()).unwrap();
        let batches = sim_batches(20);
        let first_ts = batches[0].events.iter().find(|e| !matches!(e, MarketEvent::Status { .. })).unwrap().ts();
        for b in &batches {
            e.apply_events(&b.events);
        }
        assert_eq!(e.feed_start(), Some(first_ts));
        let CurveHistorySource::Simulated { history: sc, years } = &config.history else { unreachable!() };
        let h = load_simulated(sc, *years, first_ts);
        assert!(h.label.contains("simulated history"), "{}", h.label);
        assert!(h.history.curves.iter().all(|(d, _)| *d < trading_date(first_ts)), "history ends before the feed");
        let (info, errors) = merge(&mut e, h);
        assert!(errors.is_empty(), "{errors:?}");
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
        let curves: Vec<CurveSnapshot> = e.daily_curves(Market::Wti).cloned().collect();
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
        assert!(wb.segments.iter().map(|s| s.wti_brent.len()).sum::<usize>() <= config.engine.max_series_points);
        assert!(data.inventory.total_weeks >= 50, "{}", data.inventory.total_weeks);
        assert!(data.inventory.weeks.len() <= config.engine.inventory_weeks);
        let last = data.inventory.weeks.last().unwrap().0;
        assert!(last.crude.surprise_kbbl.is_some() && last.crude.surprise_z.is_some());
        assert!(last.gasoline.surprise_kbbl.is_some() && last.distillate.surprise_kbbl.is_some());
    }

    #[test]
    fn history_files_load_and_bad_files_name_line_and_column() {
        let monthly = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/brent_wti_monthly_eia.csv");
        let h = load_files(Some(&monthly), None, None);
        assert!(h.errors.is_empty(), "{:?}", h.errors);
        assert_eq!(h.history.monthly.len(), 393);
        assert_eq!(
            h.history.monthly[0],
            MonthlyWtiBrent { date: NaiveDate::from_ymd_opt(1987, 5, 15).unwrap(), wti: 19.44, brent: 18.58 }
        );
        assert!(h.label.contains("brent_wti_monthly_eia.csv (393 months 1987-05-15..2020-01-15)"), "{}", h.label);
        let mut e = CurveEngine::new(&cfg(CurveHistorySource::None).engine_config()).unwrap();
        let (info, _) = merge(&mut e, h);
        assert!(!info.simulated && info.monthly_points == 393);
        let data = e.compute(&LiveClock);
        let wb = data.wti_brent.unwrap();
        assert_eq!(wb.segments.len(), 1);
        assert_eq!(wb.segments[0].observations, 393);
        assert!(wb.segments[0].wti_brent.len() <= 400 && wb.segments[0].wti_brent.len() >= 380);
        assert!((wb.latest.unwrap().1 - wti_brent_spread(57.52, 63.83)).abs() < 1e-9, "{:?}", wb.latest);

        // A curves file becomes curve snapshots stamped at the settlement.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "date,market,m1,m2,m3\n2026-03-02,CL,70.1,70.0,\n2026-03-02,RB,2.1,2.2,2.3\n").unwrap();
        let h = load_files(None, None, Some(&path));
        let curves = &h.history.curves;
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].1.points.len(), 2);
        assert_eq!(
            curves[0].1.points[0].contract,
            Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap())
        );
        assert_eq!(trading_date(curves[0].1.ts), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(h.label, "history files: c.csv (2 daily curves)");
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
    fn config_errors_name_the_setting() {
        let mut c = cfg(CurveHistorySource::simulated(sim_config(), 0));
        assert!(c.validate().unwrap_err().to_string().contains("`history.years` = 0"));
        c.history = CurveHistorySource::None;
        c.engine.arb_transport_cost_usd_bbl = f64::NAN;
        assert!(c.validate().unwrap_err().to_string().contains("arb_transport_cost_usd_bbl"));
        c.engine.arb_transport_cost_usd_bbl = 3.0;
        c.engine.term_structure.lookback = 0;
        assert!(matches!(c.validate(), Err(CurveError::Analytics(_))));
        c.engine.term_structure.lookback = 252;
        c.engine.max_series_points = 3;
        assert!(c.validate().unwrap_err().to_string().contains("max_series_points"));
        assert_eq!(c.term_config(Market::Rbob).neutral_band, 0.05 / 42.0);
        assert_eq!(c.term_config(Market::Wti).neutral_band, 0.05);
        assert!(matches!(
            CurveHistorySource::data_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").as_path()),
            CurveHistorySource::Files { brent_wti_monthly: Some(_), eia_weekly: None, curves: None }
        ));
    }

    /// The service thread end to end: history arrives, live curves arrive, figures are
    /// paced and only sent after the UI took the previous ones.
    #[test]
    fn worker_thread_sends_figures_status_and_history() {
        let config = cfg(CurveHistorySource::simulated(sim_config(), 1));
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
