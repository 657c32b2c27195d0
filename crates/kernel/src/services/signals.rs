//! The signals service: the signal engine and its SQLite history, fed by the market feed,
//! and the driver's view of what it reports.
//!
//! * **Bars.** The engine runs on one timeframe for the four markets
//!   ([`SignalsServiceConfig::timeframe`]; by default five-minute bars, or the feed's own bar
//!   timeframe when a bar feed sends coarser bars, e.g. a daily replay file). Each market's
//!   series is its continuous front month, unadjusted at the roll: continuous
//!   (`SeriesId::Continuous { nth: 1 }`) bars when the feed sends them, otherwise the bars,
//!   trades and quotes of the front contract (the first month of the market's latest
//!   futures curve; before the first curve, the nearest contract by the expiry rules).
//!   Finer bars (the simulator's one-minute history) are rolled up; live trades build the
//!   bars, and mid quotes stand in for a bucket in which nothing traded. A bucket is
//!   complete when an event at or after its end arrives (any market: the feed delivers in
//!   time order); bars of the engine's own timeframe are complete on arrival. Empty buckets
//!   give no bar, and an incomplete last bucket is never fed.
//! * **Close-only series.** A bar feed whose first bar of a market has open = high = low =
//!   close at a timeframe of one hour or more (a `date,close` replay file) marks the market
//!   close-only: the sources that need highs and lows say so instead of reading a flat bar.
//! * **Engine and history.** Every completed bar goes to [`SignalEngine::on_bar`] (session id
//!   = the exchange trading date as `YYYYMMDD`); futures curves and weekly inventory reports
//!   go to the engine as they arrive. Every snapshot is stored in the [`SignalHistory`]
//!   (composite and components with their inputs); bars before the engine has a snapshot
//!   are stored as prices so horizons count every bar. A bar older than the latest bar the
//!   history file already holds (a file filled by an earlier, later-dated run) is not
//!   stored; the count is reported.
//! * **Performance.** Per market, the per-source performance, the recent composites with
//!   their outcomes and the cumulative signal P&L (the last [`SignalsServiceConfig::pnl_points`]
//!   bars) are re-read from the history while prices arrive, at most every
//!   [`SignalsServiceConfig::stats_interval_ms`] of wall time and no sooner than 20 times the
//!   previous read took (the reads grow with the file; this keeps them a small share of the
//!   worker's time).
//! * **Updates.** The service sends whole per-market states ([`MarketSignals`]) and its
//!   status ([`SignalsInfo`]) through a bounded channel, at most every
//!   [`SignalsServiceConfig::update_interval_ms`]. A state that does not fit (the UI has not
//!   drained) stays pending on the service and replaces itself until it is sent, so a slow or
//!   minimised UI never piles updates up and never blocks the service.
//! * **Time.** Everything the service computes runs on event time; the wall clock only
//!   paces the updates and the performance re-reads.
//!
//! The UI thread owns a [`SignalsView`] and applies updates to it with
//! [`SignalsHandle::drain`]; the Signals panel draws from it and never blocks.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Datelike;
use crude_feeds::FeedBatch;
use crude_model::{
    Bar, Clock, ContractId, FeedKind, FeedStatus, Market, MarketEvent, SeriesId, Timeframe, Timestamp, trading_date,
};
use crude_signals::{
    BarFields, ConfigError, Direction, EngineError, HistoryError, OpecTable, Outcome, PnlPoint, SignalEngine,
    SignalHistory, SignalSnapshot, SignalsConfig, SourcePerformance,
};

use crate::service::{self, Generational, Notify, Outbox, Service, ServiceHandle, View};

/// The engine's timeframe when none is configured and the feed sends nothing coarser.
pub const DEFAULT_TIMEFRAME: Timeframe = Timeframe::M5;
/// Default number of cumulative P&L points kept per market.
pub const DEFAULT_PNL_POINTS: usize = 2_000;
/// Default number of recent composites shown per market.
pub const DEFAULT_RECENT_SIGNALS: usize = 50;
/// Most notes (non-fatal problems) the service keeps.
pub const NOTES_CAP: usize = 20;
/// Updates the channel to the UI holds; more wait on the service, coalesced.
const UPDATE_CHANNEL_CAPACITY: usize = 16;
/// A market's performance is re-read no sooner than this many times the last read took.
const STATS_BACKOFF: i64 = 20;

/// Why the signals worker could not be configured or started.
#[derive(Debug, thiserror::Error)]
pub enum SignalsError {
    /// `config/signals.yaml` (or the given file) is unreadable or invalid; the message names
    /// the file, the entry and the field.
    #[error("signals configuration: {0}")]
    Config(#[from] ConfigError),
    /// The engine refused the configuration.
    #[error("signals engine: {0}")]
    Engine(#[from] EngineError),
    /// A worker setting is out of range.
    #[error("signals worker setting '{field}' = {value}: {reason}")]
    Invalid {
        /// The setting, as named on [`SignalsServiceConfig`].
        field: &'static str,
        /// Its value.
        value: String,
        /// What is accepted.
        reason: String,
    },
    /// The history database could not be opened.
    #[error("{0}")]
    History(#[from] HistoryError),
    /// The directory of the history database could not be created.
    #[error("cannot create the signal history directory {dir}: {source}")]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The operating system refused to start the thread.
    #[error("cannot start the signals thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// How the signals worker runs.
#[derive(Clone)]
pub struct SignalsServiceConfig {
    /// The engine configuration (validated).
    pub signals: SignalsConfig,
    /// The SQLite history file (created with its directory when missing).
    pub history_path: PathBuf,
    /// Engine timeframe; `None` picks [`DEFAULT_TIMEFRAME`], or the feed's bar timeframe
    /// when its first bar is coarser.
    pub timeframe: Option<Timeframe>,
    /// Cumulative P&L points kept per market (the latest), 2..=100,000.
    pub pnl_points: usize,
    /// Recent composites kept per market, 1..=1,000.
    pub recent_signals: usize,
    /// Shortest wall-clock interval between updates to the UI, ms, 1..=60,000.
    pub update_interval_ms: u64,
    /// Shortest wall-clock interval between performance re-reads of one market, ms,
    /// 1..=600,000.
    pub stats_interval_ms: u64,
    /// OPEC+ production table for the OPEC+ source (unavailable, with the reason, without).
    pub opec: Option<OpecTable>,
    /// Wall clock, only to pace updates and performance re-reads.
    pub wall: Arc<dyn Clock>,
}

impl std::fmt::Debug for SignalsServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalsServiceConfig")
            .field("history_path", &self.history_path)
            .field("timeframe", &self.timeframe)
            .field("pnl_points", &self.pnl_points)
            .field("recent_signals", &self.recent_signals)
            .field("update_interval_ms", &self.update_interval_ms)
            .field("stats_interval_ms", &self.stats_interval_ms)
            .field("opec", &self.opec.is_some())
            .finish_non_exhaustive()
    }
}

impl SignalsServiceConfig {
    /// A configuration with `signals`: automatic timeframe, 2,000 P&L points, 50 recent
    /// composites, updates at most every 100 ms and performance re-reads at most every
    /// second per market.
    ///
    /// # Errors
    /// [`SignalsError::Config`] naming the entry and field when `signals` is invalid.
    pub fn new(
        signals: SignalsConfig,
        history_path: impl Into<PathBuf>,
        wall: Arc<dyn Clock>,
    ) -> Result<Self, SignalsError> {
        signals.validate("signals config")?;
        Ok(Self {
            signals,
            history_path: history_path.into(),
            timeframe: None,
            pnl_points: DEFAULT_PNL_POINTS,
            recent_signals: DEFAULT_RECENT_SIGNALS,
            update_interval_ms: 100,
            stats_interval_ms: 1_000,
            opec: None,
            wall,
        })
    }

    /// [`SignalsServiceConfig::new`] with the engine configuration read from `config_path`
    /// (e.g. `config/signals.yaml`).
    ///
    /// # Errors
    /// [`SignalsError::Config`]: the file cannot be read, or an entry or field is invalid
    /// (the message names the file, the entry, the field and the fix).
    pub fn load(
        config_path: &Path,
        history_path: impl Into<PathBuf>,
        wall: Arc<dyn Clock>,
    ) -> Result<Self, SignalsError> {
        let signals = SignalsConfig::load(config_path)?;
        Self::new(signals, history_path, wall)
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`SignalsError::Config`] for the engine configuration, [`SignalsError::Invalid`]
    /// naming the first worker setting out of range.
    pub fn validate(&self) -> Result<(), SignalsError> {
        self.signals.validate("signals config")?;
        let check = |field: &'static str, value: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(SignalsError::Invalid {
                    field,
                    value: value.to_string(),
                    reason: format!("must be between {lo} and {hi}"),
                })
            }
        };
        check("pnl_points", self.pnl_points as u64, 2, 100_000)?;
        check("recent_signals", self.recent_signals as u64, 1, 1_000)?;
        check("update_interval_ms", self.update_interval_ms, 1, 60_000)?;
        check("stats_interval_ms", self.stats_interval_ms, 1, 600_000)?;
        if self.history_path.as_os_str().is_empty() {
            return Err(SignalsError::Invalid {
                field: "history_path",
                value: "\"\"".into(),
                reason: "give the path of the signal history file, e.g. <data dir>/signals.db".into(),
            });
        }
        Ok(())
    }
}

/// Where the service is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignalsStatus {
    /// Not running in this session (no worker).
    #[default]
    NotRunning,
    /// The history is open; no market data yet.
    WaitingForData,
    /// Market data is flowing.
    Running,
    /// The market feed ended; the last signals stay on screen.
    FeedEnded,
    /// The service could not start or stopped; the text says why and what to do.
    Failed(String),
}

impl SignalsStatus {
    /// Short text for the panel.
    pub fn label(&self) -> String {
        match self {
            SignalsStatus::NotRunning => "not running".into(),
            SignalsStatus::WaitingForData => "waiting for market data".into(),
            SignalsStatus::Running => "running".into(),
            SignalsStatus::FeedEnded => "market feed ended".into(),
            SignalsStatus::Failed(why) => format!("unavailable: {why}"),
        }
    }
}

/// The service's state as a whole.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalsInfo {
    pub status: SignalsStatus,
    /// The engine's timeframe, once decided.
    pub timeframe: Option<Timeframe>,
    /// The history file.
    pub history_path: Option<PathBuf>,
    /// The kind of feed (SIMULATED / REPLAY / LIVE), once reported.
    pub feed_kind: Option<FeedKind>,
    /// The feed's status, once reported.
    pub feed_status: Option<FeedStatus>,
    /// Event time of the latest market event.
    pub clock: Option<Timestamp>,
    /// Bars not stored because the history file already holds later bars of the market.
    pub skipped_older: u64,
    /// Bars the engine ignored (out of order, not finite, high below low).
    pub rejected_bars: u64,
    /// Events older than the bar being built (ignored).
    pub late_events: u64,
    /// Non-fatal problems, most recent last (at most [`NOTES_CAP`]).
    pub notes: Vec<String>,
}

/// One recent composite as the history table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// Bar start.
    pub ts: Timestamp,
    pub direction: Direction,
    /// 0–100.
    pub confidence: f64,
    /// The bar's close.
    pub entry_price: f64,
    pub horizon_bars: i64,
    pub size: i64,
    /// Regime label.
    pub regime: String,
    /// Once the horizon has elapsed.
    pub outcome: Option<Outcome>,
    /// `sign · size · forward change · multiplier` once resolved, USD.
    pub pnl_usd: Option<f64>,
}

/// Everything the panel shows for one market.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MarketSignals {
    /// The latest snapshot (composite, components, regime).
    pub snapshot: Option<SignalSnapshot>,
    /// Event time the latest bar completed (its end).
    pub as_of: Option<Timestamp>,
    /// Completed bars fed to the engine.
    pub bars: u64,
    /// Bars the engine needs before its first snapshot.
    pub warmup_bars: u64,
    /// Whether the series carries closes only.
    pub close_only: bool,
    /// Performance of the composite (first) and of each source, from the history.
    pub performance: Vec<SourcePerformance>,
    /// Recent composites, newest first.
    pub recent: Vec<HistoryRow>,
    /// Cumulative signal P&L, oldest first (the latest points only).
    pub pnl: Vec<PnlPoint>,
    /// Cumulative P&L over the whole history, USD.
    pub pnl_total_usd: Option<f64>,
    /// Event time of the latest performance re-read.
    pub stats_as_of: Option<Timestamp>,
    /// Wall time the latest performance re-read took, ms.
    pub stats_read_ms: f64,
    /// The latest history error for this market (storing or reading).
    pub history_error: Option<String>,
}

/// What the service reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalsUpdate {
    /// The service's state.
    Info(Box<SignalsInfo>),
    /// One market's whole state (replaces the previous one).
    Market(Market, Box<MarketSignals>),
}

/// What the Signals panel draws: the UI thread's copy of the service's reports.
#[derive(Debug, Clone, Default)]
pub struct SignalsView {
    pub info: SignalsInfo,
    /// Per market, in [`Market::ALL`] order.
    pub markets: [MarketSignals; 4],
    /// Updates applied (tests, diagnostics).
    pub updates_applied: u64,
}

impl SignalsView {
    /// A view for a worker that could not start: the panel shows `err`.
    pub fn failed(err: &SignalsError) -> Self {
        let mut v = Self::default();
        v.info.status = SignalsStatus::Failed(err.to_string());
        v
    }

    /// Applies one update (moves data; no I/O, no computation).
    pub fn apply(&mut self, u: SignalsUpdate) {
        self.updates_applied += 1;
        match u {
            SignalsUpdate::Info(i) => self.info = *i,
            SignalsUpdate::Market(m, s) => self.markets[m.index()] = *s,
        }
    }

    /// One market's state.
    pub fn market(&self, m: Market) -> &MarketSignals {
        &self.markets[m.index()]
    }
}

/// The driver's end of the running signals service.
pub type SignalsHandle = ServiceHandle<SignalsService>;

impl Generational for SignalsUpdate {}

impl View<SignalsUpdate> for SignalsView {
    fn apply(&mut self, u: SignalsUpdate) {
        SignalsView::apply(self, u);
    }
}

impl SignalsService {
    /// Validates `config`, builds the engine and opens (creating) the history file; the
    /// service reports to `out` once a runner starts it.
    ///
    /// # Errors
    /// [`SignalsError::Config`] / [`SignalsError::Invalid`] for a bad configuration (naming
    /// the field), [`SignalsError::Engine`], [`SignalsError::Directory`] or
    /// [`SignalsError::History`] when the history file cannot be opened.
    pub fn new(config: SignalsServiceConfig, out: Outbox<SignalsUpdate>) -> Result<Self, SignalsError> {
        config.validate()?;
        let mut engine = SignalEngine::new(config.signals.clone())?;
        if let Some(t) = &config.opec {
            engine.set_opec_table(t.clone());
        }
        let path = config.history_path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| SignalsError::Directory { dir: dir.to_path_buf(), source })?;
        }
        let history = SignalHistory::open(&path)?;
        Ok(Self::build(config, engine, history, out))
    }

    /// The service as the app runs it: the engine configuration from `config_path` when
    /// given (e.g. `config/signals.yaml`), else the built-in defaults (which equal the
    /// shipped `config/signals.yaml`). When it cannot start (a bad configuration naming its
    /// field, an unopenable history file) there is no service and the view carries the
    /// message for the panel.
    pub fn start_or_explain(
        config_path: Option<&Path>,
        history_path: impl Into<PathBuf>,
        wall: Arc<dyn Clock>,
        out: Outbox<SignalsUpdate>,
    ) -> (Option<Self>, SignalsView) {
        let config = match config_path {
            Some(p) => SignalsServiceConfig::load(p, history_path, wall),
            None => SignalsServiceConfig::new(SignalsConfig::default(), history_path, wall),
        };
        match config.and_then(|c| Self::new(c, out)) {
            Ok(s) => {
                let mut view = SignalsView::default();
                view.info.status = SignalsStatus::WaitingForData;
                (Some(s), view)
            }
            Err(e) => {
                tracing::error!(error = %e, "the signals service did not start");
                (None, SignalsView::failed(&e))
            }
        }
    }

    /// Starts the service alone on its own thread, reading `feed` (tests and tools).
    ///
    /// # Errors
    /// As [`Self::new`], and [`SignalsError::Spawn`].
    pub fn spawn(
        config: SignalsServiceConfig,
        feed: tokio::sync::mpsc::Receiver<FeedBatch>,
        notify: Notify,
    ) -> Result<SignalsHandle, SignalsError> {
        service::start_alone(|out| Self::new(config, out), feed, notify)
    }

    /// The history file the service writes.
    pub fn history_path(&self) -> &Path {
        &self.cfg.history_path
    }
}

impl Service for SignalsService {
    type Command = std::convert::Infallible;
    type Update = SignalsUpdate;
    type Background = ();
    const NAME: &'static str = "crude-signals";

    fn outbox(&mut self) -> &mut Outbox<SignalsUpdate> {
        &mut self.out
    }

    fn start(&mut self) {
        self.flush(true);
    }

    fn on_command(&mut self, cmd: std::convert::Infallible) {
        match cmd {}
    }

    fn on_market(&mut self, batch: &FeedBatch) {
        self.on_batch(batch);
    }

    fn on_market_end(&mut self) {
        self.feed_ended = true;
        self.set_status(SignalsStatus::FeedEnded);
    }

    fn after_turn(&mut self) {
        self.flush(self.feed_ended);
    }

    fn next_wake(&self) -> Option<Duration> {
        self.pending()
            .then(|| Duration::from_millis(self.cfg.update_interval_ms.min(self.cfg.stats_interval_ms).max(5)))
    }
}

/// `YYYYMMDD` of the exchange trading date containing `ts`.
fn session_id(ts: Timestamp) -> i64 {
    let d = trading_date(ts);
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// The bucket `[start, end)` of `tf` containing `ts` ([`Timeframe::bucket`]: the bar's
/// stamp and the end of the event time it covers).
fn bucket(tf: Timeframe, ts: Timestamp) -> (Timestamp, Timestamp) {
    let b = tf.bucket(ts);
    (b.start, b.until)
}

/// Whether `bar` is flat (a close-only row).
fn flat(bar: &Bar) -> bool {
    bar.open == bar.close && bar.high == bar.close && bar.low == bar.close
}

/// The bar being built for one market.
#[derive(Debug, Clone, Copy, Default)]
struct Building {
    start: Timestamp,
    end: Timestamp,
    /// From trades and finer bars.
    traded: Option<Bar>,
    /// From mid quotes (used when nothing traded in the bucket).
    mid: Option<Bar>,
}

impl Building {
    fn bar(&self) -> Option<Bar> {
        self.traded.or(self.mid)
    }
}

fn fold(slot: &mut Option<Bar>, start: Timestamp, open: f64, high: f64, low: f64, close: f64, volume: u64) {
    match slot {
        Some(b) => {
            b.high = b.high.max(high);
            b.low = b.low.min(low);
            b.close = close;
            b.volume += volume;
        }
        None => *slot = Some(Bar { start, open, high, low, close, volume }),
    }
}

/// The signals service: the signal engine and its history (see the module doc).
pub struct SignalsService {
    cfg: SignalsServiceConfig,
    engine: SignalEngine,
    history: SignalHistory,
    out: Outbox<SignalsUpdate>,
    /// The market feed ended (updates then go out without pacing).
    feed_ended: bool,
    timeframe: Option<Timeframe>,
    building: [Option<Building>; 4],
    /// Front contract by the latest curve.
    front: [Option<ContractId>; 4],
    /// The market's series comes as continuous bars (contract data is then ignored).
    continuous: [bool; 4],
    /// Whether the market's bar fields have been decided (at its first completed bar).
    fields_decided: [bool; 4],
    /// Noted that the market's bars are coarser than the engine's timeframe.
    coarse_noted: [bool; 4],
    clock: Option<Timestamp>,
    info: SignalsInfo,
    markets: [MarketSignals; 4],
    /// Changed since last sent.
    info_pending: bool,
    market_pending: [bool; 4],
    /// New prices since the last performance re-read.
    stats_dirty: [bool; 4],
    /// Wall time before which a market's performance is not re-read.
    next_stats_wall: [Timestamp; 4],
    last_send_wall: Timestamp,
    ui_gone: bool,
}

impl SignalsService {
    fn build(
        cfg: SignalsServiceConfig,
        engine: SignalEngine,
        history: SignalHistory,
        out: Outbox<SignalsUpdate>,
    ) -> Self {
        let warmup_bars = cfg.signals.risk.atr_period as u64 + 1;
        let markets = std::array::from_fn(|_| MarketSignals { warmup_bars, ..MarketSignals::default() });
        let info = SignalsInfo {
            status: SignalsStatus::WaitingForData,
            timeframe: cfg.timeframe,
            history_path: Some(cfg.history_path.clone()),
            ..SignalsInfo::default()
        };
        Self {
            timeframe: cfg.timeframe,
            cfg,
            engine,
            history,
            out,
            feed_ended: false,
            building: [None; 4],
            front: [None; 4],
            continuous: [false; 4],
            fields_decided: [false; 4],
            coarse_noted: [false; 4],
            clock: None,
            info,
            markets,
            info_pending: true,
            market_pending: [true; 4],
            stats_dirty: [true; 4],
            next_stats_wall: [Timestamp(i64::MIN); 4],
            last_send_wall: Timestamp(i64::MIN),
            ui_gone: false,
        }
    }

    fn pending(&self) -> bool {
        !self.ui_gone
            && (self.info_pending
                || self.market_pending.iter().any(|p| *p)
                || self.stats_dirty.iter().zip(&self.markets).any(|(d, m)| *d && m.bars > 0))
    }

    fn set_status(&mut self, s: SignalsStatus) {
        if self.info.status != s {
            self.info.status = s;
            self.info_pending = true;
        }
    }

    fn note(&mut self, text: String) {
        tracing::warn!(note = %text, "signals");
        if self.info.notes.len() == NOTES_CAP {
            self.info.notes.remove(0);
        }
        self.info.notes.push(text);
        self.info_pending = true;
    }

    /// Re-reads due performance and sends pending states; `now` ignores the pacing (used
    /// when the feed has ended or the service idles after it).
    fn flush(&mut self, now: bool) {
        if self.ui_gone {
            return;
        }
        let wall = self.cfg.wall.now();
        for m in Market::ALL {
            let i = m.index();
            if self.stats_dirty[i] && self.markets[i].bars > 0 && (now || wall >= self.next_stats_wall[i]) {
                self.refresh_stats(m);
                // Reading grows with the history file: wait at least the interval, and at
                // least STATS_BACKOFF times what the read took, so re-reads stay a small
                // share of the service's time however large the file grows.
                let done = self.cfg.wall.now();
                let took = done.0.saturating_sub(wall.0).max(0);
                self.markets[i].stats_read_ms = took as f64 / 1e6;
                let wait = ms_to_nanos(self.cfg.stats_interval_ms).max(took.saturating_mul(STATS_BACKOFF));
                self.next_stats_wall[i] = done.add_nanos(wait);
            }
        }
        if !now && wall.0.saturating_sub(self.last_send_wall.0) < ms_to_nanos(self.cfg.update_interval_ms) {
            return;
        }
        self.last_send_wall = wall;
        if self.info.clock != self.clock || self.info.rejected_bars != self.engine.rejected_bars() {
            self.info_pending = true;
        }
        for m in Market::ALL {
            let i = m.index();
            if self.market_pending[i] && self.try_send(SignalsUpdate::Market(m, Box::new(self.markets[i].clone()))) {
                self.market_pending[i] = false;
            }
        }
        // The status goes after the markets it describes: a UI that sees "feed ended" has
        // already received the final state of every market.
        if self.info_pending && !self.market_pending.iter().any(|p| *p) {
            self.info.rejected_bars = self.engine.rejected_bars();
            self.info.clock = self.clock;
            self.info.timeframe = self.timeframe;
            if self.try_send(SignalsUpdate::Info(Box::new(self.info.clone()))) {
                self.info_pending = false;
            }
        }
    }

    fn try_send(&mut self, u: SignalsUpdate) -> bool {
        // A driver that has not drained keeps the state pending (it replaces itself).
        let sent = self.out.try_send(u, UPDATE_CHANNEL_CAPACITY);
        if self.out.closed() {
            self.ui_gone = true;
        }
        sent
    }

    /// Reads one market's performance, recent composites and P&L from the history.
    fn refresh_stats(&mut self, m: Market) {
        let i = m.index();
        self.stats_dirty[i] = false;
        let result = read_stats(&self.history, m, self.cfg.recent_signals);
        let ms = &mut self.markets[i];
        match result {
            Ok(Stats { performance: perf, recent, mut pnl }) => {
                ms.pnl_total_usd = pnl.last().map(|p| p.cumulative_usd);
                let cap = self.cfg.pnl_points;
                if pnl.len() > cap {
                    pnl.drain(..pnl.len() - cap);
                }
                ms.performance = perf;
                ms.recent = recent;
                ms.pnl = pnl;
                ms.stats_as_of = self.clock;
            }
            Err(e) => {
                ms.history_error = Some(e.to_string());
                tracing::warn!(market = m.code(), error = %e, "signal history read failed");
            }
        }
        self.market_pending[i] = true;
    }

    fn on_batch(&mut self, b: &FeedBatch) {
        if matches!(self.info.status, SignalsStatus::Failed(_)) {
            return;
        }
        for ev in b.events.iter() {
            self.on_event(ev);
        }
    }

    fn on_event(&mut self, ev: &MarketEvent) {
        match ev {
            MarketEvent::Status { kind, status, .. } => {
                self.info.feed_kind = Some(*kind);
                self.info.feed_status = Some(status.clone());
                self.info_pending = true;
            }
            MarketEvent::Curve(c) => {
                self.advance(c.ts);
                self.front[c.market.index()] = c.points.first().map(|p| p.contract);
                self.engine.on_curve(c);
            }
            MarketEvent::Inventory(r) => {
                self.advance(r.ts);
                self.engine.on_inventory(r);
            }
            MarketEvent::Bar { series, timeframe, bar } => self.on_bar_event(*series, *timeframe, bar),
            MarketEvent::Trade(t) => {
                self.advance(t.ts);
                if t.price.is_finite() && self.is_front(t.contract, t.ts) {
                    self.on_price(t.contract.market, t.ts, t.price, u64::from(t.size), false);
                }
            }
            MarketEvent::Quote(q) => {
                self.advance(q.ts);
                if q.bid.is_finite() && q.ask.is_finite() && q.ask >= q.bid && self.is_front(q.contract, q.ts) {
                    self.on_price(q.contract.market, q.ts, q.mid(), 0, true);
                }
            }
            MarketEvent::Depth(d) => self.advance(d.ts),
            MarketEvent::Settlement { .. } => {}
        }
    }

    /// Whether `c` is the market's front contract at `ts` (and the market's series is not
    /// fed as continuous bars).
    fn is_front(&self, c: ContractId, ts: Timestamp) -> bool {
        let i = c.market.index();
        !self.continuous[i] && self.front[i].unwrap_or_else(|| c.market.front_contract(trading_date(ts))) == c
    }

    /// The engine's timeframe, deciding it from `hint` (a bar feed's timeframe) if not yet.
    fn engine_timeframe(&mut self, hint: Option<Timeframe>) -> Timeframe {
        if let Some(tf) = self.timeframe {
            return tf;
        }
        let tf = match hint {
            Some(h) if h > DEFAULT_TIMEFRAME => h,
            _ => DEFAULT_TIMEFRAME,
        };
        self.timeframe = Some(tf);
        self.info.timeframe = Some(tf);
        self.info_pending = true;
        tf
    }

    /// Moves event time to `ts`, completing every bar whose bucket has ended.
    fn advance(&mut self, ts: Timestamp) {
        if self.clock.is_some_and(|c| c >= ts) {
            return;
        }
        self.clock = Some(ts);
        if self.info.status == SignalsStatus::WaitingForData {
            self.set_status(SignalsStatus::Running);
        }
        for m in Market::ALL {
            if let Some(b) = self.building[m.index()]
                && b.end <= ts
            {
                self.building[m.index()] = None;
                if let Some(bar) = b.bar() {
                    self.completed(m, bar, b.end, false);
                }
            }
        }
    }

    fn on_bar_event(&mut self, series: SeriesId, tf: Timeframe, bar: &Bar) {
        let market = series.market();
        let i = market.index();
        match series {
            SeriesId::Continuous { nth: 1, .. } => {
                if !self.continuous[i] {
                    // Continuous bars replace whatever was being built from contracts.
                    self.continuous[i] = true;
                    self.building[i] = None;
                }
            }
            SeriesId::Continuous { .. } => {
                self.advance(bar.start);
                return;
            }
            SeriesId::Contract(c) => {
                if !self.is_front(c, bar.start) {
                    self.advance(bar.start);
                    return;
                }
            }
        }
        self.advance(bar.start);
        let engine_tf = self.engine_timeframe(Some(tf));
        if tf > engine_tf {
            if !self.coarse_noted[i] {
                self.coarse_noted[i] = true;
                self.note(format!(
                    "{}: the feed's {} bars cannot build {} bars; set the signals timeframe to {} or coarser",
                    market.code(),
                    tf.label(),
                    engine_tf.label(),
                    tf.label()
                ));
            }
            return;
        }
        if tf == engine_tf {
            if self.building[i].is_some_and(|b| b.start >= bar.start) {
                self.info.late_events += 1;
                return;
            }
            let (_, end) = bucket(tf, bar.start);
            self.completed(market, *bar, end, tf >= Timeframe::H1);
            return;
        }
        let (start, end) = bucket(engine_tf, bar.start);
        let b = self.open_bucket(market, start, end);
        if let Some(b) = b {
            fold(&mut b.traded, start, bar.open, bar.high, bar.low, bar.close, bar.volume);
        }
    }

    fn on_price(&mut self, market: Market, ts: Timestamp, price: f64, size: u64, mid: bool) {
        let tf = self.engine_timeframe(None);
        let (start, end) = bucket(tf, ts);
        if let Some(b) = self.open_bucket(market, start, end) {
            fold(if mid { &mut b.mid } else { &mut b.traded }, start, price, price, price, price, size);
        }
    }

    /// The market's bar being built for bucket `[start, end)`, opening it (and completing
    /// an earlier one) as needed; `None` for data older than the current bucket.
    fn open_bucket(&mut self, market: Market, start: Timestamp, end: Timestamp) -> Option<&mut Building> {
        let i = market.index();
        match self.building[i] {
            Some(b) if b.start == start => {}
            Some(b) if b.start > start => {
                self.info.late_events += 1;
                return None;
            }
            Some(b) => {
                self.building[i] = None;
                if let Some(bar) = b.bar() {
                    self.completed(market, bar, b.end, false);
                }
                self.building[i] = Some(Building { start, end, traded: None, mid: None });
            }
            None => self.building[i] = Some(Building { start, end, traded: None, mid: None }),
        }
        self.building[i].as_mut()
    }

    /// A completed bar of `market` that ended at `end`: to the engine and the history.
    fn completed(&mut self, market: Market, bar: Bar, end: Timestamp, from_coarse_feed: bool) {
        let i = market.index();
        if !self.fields_decided[i] {
            self.fields_decided[i] = true;
            if from_coarse_feed && flat(&bar) {
                self.engine.set_bar_fields(market, BarFields::CloseOnly);
                self.markets[i].close_only = true;
            }
        }
        let rejected = self.engine.rejected_bars();
        let snap = self.engine.on_bar(market, &bar, session_id(bar.start));
        if self.engine.rejected_bars() != rejected {
            self.info_pending = true;
            return;
        }
        let stored = match &snap {
            Some(s) => self.history.record(s).map(|_| ()),
            None => self.history.record_price(market, bar.start, bar.close).map(|_| ()),
        };
        match stored {
            Ok(()) => self.stats_dirty[i] = true,
            Err(HistoryError::OutOfOrder { .. }) => {
                if self.info.skipped_older == 0 {
                    self.note(format!(
                        "{}: the history file {} already holds later bars; bars before them are not stored (use another history file for this feed)",
                        market.code(),
                        self.cfg.history_path.display()
                    ));
                }
                self.info.skipped_older += 1;
                self.info_pending = true;
            }
            Err(e) => {
                let text = e.to_string();
                if self.markets[i].history_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(market = market.code(), error = %text, "signal history write failed");
                }
                self.markets[i].history_error = Some(text);
            }
        }
        let ms = &mut self.markets[i];
        ms.bars += 1;
        ms.as_of = Some(end);
        if let Some(s) = snap {
            ms.snapshot = Some(s);
        }
        self.market_pending[i] = true;
    }
}

/// What a performance re-read returns.
struct Stats {
    performance: Vec<SourcePerformance>,
    recent: Vec<HistoryRow>,
    pnl: Vec<PnlPoint>,
}

/// One market's performance, its latest `recent` composites and its whole P&L series.
fn read_stats(h: &SignalHistory, m: Market, recent: usize) -> Result<Stats, HistoryError> {
    let performance = h.performance(Some(m))?;
    let recent = h
        .recent(m, recent)?
        .into_iter()
        .map(|s| HistoryRow {
            ts: s.ts,
            direction: s.direction,
            confidence: s.confidence,
            entry_price: s.entry_price,
            horizon_bars: s.horizon_bars,
            size: s.size,
            regime: s.regime,
            outcome: s.outcome,
            pnl_usd: s.pnl_usd,
        })
        .collect();
    let pnl = h.signal_pnl(m)?;
    Ok(Stats { performance, recent, pnl })
}

fn ms_to_nanos(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX / 1_000_000).saturating_mul(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;
    use crude_feeds::sim::{MarketSimulator, SimConfig};
    use crude_feeds::{FeedPoll, MarketFeed, SimFeed};
    use crude_model::LiveClock;
    use crude_signals::COMPOSITE_SOURCE;
    use tokio::sync::mpsc;

    /// Wednesday 2026-11-18 10:00 ET: the market is open.
    fn start() -> Timestamp {
        Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
    }

    /// A worker over a temp history, with a way to wait for its updates.
    struct Rig {
        handle: Option<SignalsHandle>,
        tx: Option<mpsc::Sender<FeedBatch>>,
        woke: std::sync::mpsc::Receiver<()>,
        view: SignalsView,
        dir: tempfile::TempDir,
    }

    impl Rig {
        fn new(tune: impl FnOnce(&mut SignalsServiceConfig)) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let mut cfg = SignalsServiceConfig::new(
                SignalsConfig::default(),
                dir.path().join("data/signals.db"),
                Arc::new(LiveClock),
            )
            .unwrap();
            cfg.update_interval_ms = 5;
            cfg.stats_interval_ms = 20;
            tune(&mut cfg);
            let (tx, rx) = mpsc::channel(1 << 12);
            let (wtx, woke) = std::sync::mpsc::channel();
            let wtx = std::sync::Mutex::new(wtx);
            let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
                let _ = wtx.lock().map(|t| t.send(()));
            });
            let handle = SignalsService::spawn(cfg, rx, notify).unwrap();
            Rig { handle: Some(handle), tx: Some(tx), woke, view: SignalsView::default(), dir }
        }

        fn send(&self, events: Vec<MarketEvent>, history: bool) {
            for chunk in events.chunks(4096) {
                let b = FeedBatch { events: chunk.to_vec().into(), sent_wall: Timestamp(0), history };
                self.tx.as_ref().unwrap().blocking_send(b).unwrap();
            }
        }

        /// Ends the feed.
        fn close(&mut self) {
            self.tx = None;
        }

        /// Drains until `pred` holds (each wait bounded by the service's notify).
        fn wait(&mut self, what: &str, pred: impl Fn(&SignalsView) -> bool) {
            for _ in 0..4_000 {
                self.handle.as_mut().unwrap().drain(&mut self.view);
                if pred(&self.view) {
                    return;
                }
                let _ = self.woke.recv_timeout(Duration::from_secs(10));
            }
            panic!("timed out waiting for {what}; info: {:?}", self.view.info);
        }
    }

    fn sim_events(seed: u64, live_secs: i64) -> (Vec<MarketEvent>, Vec<MarketEvent>) {
        let mut feed =
            SimFeed::new(MarketSimulator::new(SimConfig { seed, ..SimConfig::default() }, start()).unwrap(), 1);
        let history = feed.initial_events();
        let t = feed.next_event_time().unwrap().add_nanos(live_secs * Timestamp::NANOS_PER_SEC);
        let mut live = Vec::new();
        while feed.next_event_time().is_some_and(|n| n <= t) {
            assert_eq!(feed.poll(t, &mut live), FeedPoll::Pending);
        }
        (history, live)
    }

    #[test]
    fn simulated_market_gives_snapshots_for_every_market_and_fills_the_history() {
        let mut rig = Rig::new(|_| {});
        let (history, live) = sim_events(11, 15 * 60);
        let status = MarketEvent::Status { kind: FeedKind::Simulated, status: FeedStatus::Simulated, ts: start() };
        rig.send(vec![status], true);
        rig.send(history, true);
        rig.send(live, false);
        rig.close();
        rig.wait("the feed to end and every market to have its performance", |v| {
            v.info.status == SignalsStatus::FeedEnded
                && v.markets.iter().all(|m| m.snapshot.is_some() && !m.performance.is_empty())
        });
        let v = &rig.view;
        assert_eq!(v.info.timeframe, Some(Timeframe::M5));
        assert_eq!(v.info.feed_kind, Some(FeedKind::Simulated));
        assert_eq!(v.info.skipped_older, 0);
        for m in Market::ALL {
            let s = v.market(m);
            let snap = s.snapshot.as_ref().unwrap();
            assert_eq!(snap.market, m);
            // Five-minute bars of the front month, stamped on the bucket.
            assert_eq!(snap.ts.0.rem_euclid(5 * Timestamp::NANOS_PER_MIN), 0);
            // History from Monday's 18:00 ET open to Wednesday 10:00 ET plus 15 live
            // minutes: about 39 hours of five-minute bars.
            assert!(s.bars > 420 && s.bars < 480, "{} bars for {}", s.bars, m.code());
            assert!(s.as_of.unwrap() > start(), "live bars completed for {}", m.code());
            assert!(!s.close_only);
            assert_eq!(snap.components.len(), if matches!(m, Market::Wti | Market::Brent) { 12 } else { 10 });
            // Curves from the simulator drive the carry source.
            let carry = snap.components.iter().find(|c| c.source.name() == "term_structure_carry").unwrap();
            assert!(carry.available, "{carry:?}");
            assert_eq!(s.performance[0].source, COMPOSITE_SOURCE);
            assert!(s.history_error.is_none(), "{:?}", s.history_error);
            assert!(!s.recent.is_empty() && s.recent.len() <= DEFAULT_RECENT_SIGNALS);
            assert_eq!(s.recent[0].ts, snap.ts, "newest first, the latest snapshot");
            assert!(s.pnl.len() <= DEFAULT_PNL_POINTS && !s.pnl.is_empty());
            assert_eq!(s.pnl_total_usd, s.pnl.last().map(|p| p.cumulative_usd));
        }
        // The history database has the rows (read with a second connection).
        let path = rig.dir.path().join("data/signals.db");
        let h = SignalHistory::open(&path).unwrap();
        for m in Market::ALL {
            let stored = h.recent(m, 10_000).unwrap();
            let want = v.market(m).bars - v.market(m).warmup_bars + 1;
            assert_eq!(stored.len() as u64, want, "one composite per bar after warm-up for {}", m.code());
            assert_eq!(stored[0].ts, v.market(m).snapshot.as_ref().unwrap().ts);
            assert!(!stored[0].components.is_empty());
        }
        let perf = h.performance(Some(Market::Wti)).unwrap();
        assert_eq!(perf, v.market(Market::Wti).performance);
        rig.handle.take().unwrap().shutdown();
    }

    /// A daily bar at trading date `d` + `i` weekdays.
    fn daily_bars(closes: &[f64]) -> Vec<MarketEvent> {
        let mut d = chrono::NaiveDate::from_ymd_opt(2019, 1, 2).unwrap();
        let mut out = Vec::new();
        for &c in closes {
            while matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
                d = d.succ_opt().unwrap();
            }
            let bar = Bar { start: Timestamp::from_date(d), open: c, high: c, low: c, close: c, volume: 0 };
            out.push(MarketEvent::Bar {
                series: SeriesId::Continuous { market: Market::Wti, nth: 1 },
                timeframe: Timeframe::D1,
                bar,
            });
            d = d.succ_opt().unwrap();
        }
        out
    }

    #[test]
    fn daily_close_only_replay_runs_on_daily_bars_and_matches_the_engine() {
        let closes: Vec<f64> = (0..120).map(|i| 50.0 + 0.3 * i as f64 + ((i * 7) % 5) as f64 * 0.4).collect();
        let events = daily_bars(&closes);
        let mut rig = Rig::new(|_| {});
        rig.send(events.clone(), false);
        rig.close();
        rig.wait("all bars", |v| v.info.status == SignalsStatus::FeedEnded && v.market(Market::Wti).bars == 120);
        let s = rig.view.market(Market::Wti);
        assert_eq!(rig.view.info.timeframe, Some(Timeframe::D1), "a daily replay runs the engine on daily bars");
        assert!(s.close_only);
        // The same bars through an engine directly give the same snapshot.
        let mut e = SignalEngine::new(SignalsConfig::default()).unwrap();
        e.set_bar_fields(Market::Wti, BarFields::CloseOnly);
        let mut last = None;
        for ev in &events {
            if let MarketEvent::Bar { bar, .. } = ev {
                last = e.on_bar(Market::Wti, bar, session_id(bar.start)).or(last);
            }
        }
        assert_eq!(s.snapshot.as_ref(), last.as_ref());
        let adx = s.snapshot.as_ref().unwrap().components.iter().find(|c| c.source.name() == "adx_trend").unwrap();
        assert!(!adx.available && adx.reason.as_deref().unwrap().contains("closes only"));
        // Other markets have no data and say so through their empty state.
        assert!(rig.view.market(Market::Brent).snapshot.is_none());
        assert_eq!(rig.view.market(Market::Brent).bars, 0);
        // Every bar is in the history: 106 composites after the 15-bar warm-up.
        assert_eq!(s.recent.len(), DEFAULT_RECENT_SIGNALS);
        let h = SignalHistory::open(&rig.dir.path().join("data/signals.db")).unwrap();
        assert_eq!(h.recent(Market::Wti, 1_000).unwrap().len(), 106);
    }

    #[test]
    fn trades_build_bars_and_an_earlier_run_in_the_same_file_is_reported() {
        // Trades of the front contract at 10:00:30, 10:03, 10:04:59, then 10:05 closes the
        // first five-minute bar.
        let c = Market::Wti.front_contract(trading_date(start()));
        let other = ContractId::new(Market::Wti, c.month.plus_months(1));
        let t = |s: i64| start().add_nanos(s * Timestamp::NANOS_PER_SEC);
        let trade = |contract, s, price| MarketEvent::Trade(crude_model::Trade { contract, ts: t(s), price, size: 2 });
        let mut rig = Rig::new(|c| c.timeframe = Some(Timeframe::M5));
        let mut evs = vec![trade(c, 30, 70.0), trade(other, 40, 99.0), trade(c, 180, 71.0), trade(c, 299, 69.5)];
        // Quotes alone build the next bar (nothing traded in it).
        evs.push(MarketEvent::Quote(crude_model::Quote {
            contract: c,
            ts: t(301),
            bid: 69.0,
            ask: 69.2,
            bid_size: 1,
            ask_size: 1,
        }));
        evs.push(trade(c, 600, 69.4));
        rig.send(evs, false);
        rig.wait("two bars", |v| v.market(Market::Wti).bars == 2);
        // The engine keeps no bars, but the history has both closes: check through the
        // stored prices by recording the next bar's close (bar index 2).
        let s = rig.view.market(Market::Wti).clone();
        assert_eq!(s.as_of, Some(t(600)));
        assert!(s.snapshot.is_none(), "warming up");
        rig.close();
        rig.wait("feed end", |v| v.info.status == SignalsStatus::FeedEnded);
        rig.handle.take().unwrap().shutdown();
        let path = rig.dir.path().join("data/signals.db");
        let mut h = SignalHistory::open(&path).unwrap();
        // Bars at 10:00 (close 69.5) and 10:05 (mid 69.1) are stored: a bar at 10:00 is now
        // an update, a price before it is out of order.
        assert!(h.record_price(Market::Wti, t(0), 69.5).is_ok());
        assert!(matches!(h.record_price(Market::Wti, t(-300), 1.0), Err(HistoryError::OutOfOrder { .. })));
        drop(h);

        // A second run over the same file with earlier bars: they are counted, not errors.
        let mut cfg = SignalsServiceConfig::new(SignalsConfig::default(), path, Arc::new(LiveClock)).unwrap();
        cfg.update_interval_ms = 5;
        cfg.timeframe = Some(Timeframe::M5);
        let (tx, rx) = mpsc::channel(64);
        let mut handle = SignalsService::spawn(cfg, rx, Arc::new(|| {})).unwrap();
        let earlier = |s: i64, p: f64| {
            MarketEvent::Trade(crude_model::Trade { contract: c, ts: t(s - 3_600), price: p, size: 1 })
        };
        tx.blocking_send(FeedBatch {
            events: vec![earlier(0, 70.0), earlier(300, 70.1), earlier(600, 70.2)].into(),
            sent_wall: Timestamp(0),
            history: true,
        })
        .unwrap();
        drop(tx);
        let mut view = SignalsView::default();
        for _ in 0..4_000 {
            handle.drain(&mut view);
            if view.info.status == SignalsStatus::FeedEnded && view.market(Market::Wti).bars == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(view.market(Market::Wti).bars, 2);
        assert_eq!(view.info.skipped_older, 2);
        assert!(view.info.notes.iter().any(|n| n.contains("already holds later bars")), "{:?}", view.info.notes);
        assert!(view.market(Market::Wti).history_error.is_none());
        handle.shutdown();
    }

    #[test]
    fn bad_settings_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/signals.yaml"))
            .unwrap()
            .replacen("weight: 0.5", "weight: -2.0", 1);
        let path = dir.path().join("signals.yaml");
        std::fs::write(&path, yaml).unwrap();
        let err = SignalsServiceConfig::load(&path, dir.path().join("s.db"), Arc::new(LiveClock)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("sources.adx_trend") && text.contains("'weight'"), "{text}");
        let view = SignalsView::failed(&err);
        assert!(matches!(&view.info.status, SignalsStatus::Failed(t) if t.contains("'weight'")));

        let (handle, view) = SignalsService::start_or_explain(
            Some(&path),
            dir.path().join("s.db"),
            Arc::new(LiveClock),
            crate::service::channel().0,
        );
        assert!(handle.is_none());
        assert!(matches!(&view.info.status, SignalsStatus::Failed(t) if t.contains("sources.adx_trend")));
        let (handle, view) = SignalsService::start_or_explain(
            None,
            dir.path().join("ok.db"),
            Arc::new(LiveClock),
            crate::service::channel().0,
        );
        assert!(handle.is_some(), "{:?}", view.info.status);
        assert_eq!(view.info.status, SignalsStatus::WaitingForData);
        drop(handle);

        let mut cfg =
            SignalsServiceConfig::new(SignalsConfig::default(), dir.path().join("s.db"), Arc::new(LiveClock)).unwrap();
        cfg.pnl_points = 0;
        let err = SignalsService::spawn(cfg, mpsc::channel(1).1, Arc::new(|| {})).unwrap_err();
        assert!(err.to_string().contains("'pnl_points'"), "{err}");
        assert!(!dir.path().join("s.db").exists(), "nothing is written for a bad setting");
    }

    #[test]
    fn a_slow_ui_gets_coalesced_states_not_a_backlog() {
        let mut rig = Rig::new(|c| c.update_interval_ms = 1);
        let (history, live) = sim_events(5, 5 * 60);
        // Nobody drains while the whole session is processed, in small batches (many turns
        // of the service, each of which has new states to send).
        let tx = rig.tx.take().unwrap();
        for (events, history) in [(history, true), (live, false)] {
            for chunk in events.chunks(256) {
                tx.blocking_send(FeedBatch { events: chunk.to_vec().into(), sent_wall: Timestamp(0), history })
                    .unwrap();
            }
        }
        // Then a turn's worth of batches once the service has taken every other one: when
        // it has taken these too, it has finished the turn that held the last market data
        // (a turn takes at most MARKET_BATCHES_PER_TURN batches) without anyone draining:
        // it never blocks on the UI.
        let idle = |tx: &mpsc::Sender<FeedBatch>| {
            for _ in 0..20_000 {
                if tx.capacity() == tx.max_capacity() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            panic!("the worker stopped taking market data");
        };
        idle(&tx);
        for _ in 0..crate::service::MARKET_BATCHES_PER_TURN {
            tx.blocking_send(FeedBatch { events: Vec::new().into(), sent_wall: Timestamp(0), history: false }).unwrap();
        }
        idle(&tx);
        let queued = rig.handle.as_ref().unwrap().queued();
        assert_eq!(queued, UPDATE_CHANNEL_CAPACITY, "the channel filled and stayed bounded");
        drop(tx);
        // Draining now brings the final states, which waited on the service, coalesced.
        rig.wait("final states", |v| {
            v.info.status == SignalsStatus::FeedEnded && v.markets.iter().all(|m| m.snapshot.is_some() && m.bars > 400)
        });
        let bars: u64 = rig.view.markets.iter().map(|m| m.bars).sum();
        assert!(
            rig.view.updates_applied <= UPDATE_CHANNEL_CAPACITY as u64 + 10,
            "{} updates for {bars} bars",
            rig.view.updates_applied
        );
    }

    #[test]
    fn buckets_and_session_ids() {
        let t = start().add_nanos(7 * Timestamp::NANOS_PER_MIN + 3);
        let (s, e) = bucket(Timeframe::M5, t);
        assert_eq!(s, start().add_nanos(5 * Timestamp::NANOS_PER_MIN));
        assert_eq!(e, start().add_nanos(10 * Timestamp::NANOS_PER_MIN));
        // 19:00 ET on Tuesday belongs to Wednesday's session.
        let eve = Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 17, 19, 0, 0).unwrap());
        let (s, e) = bucket(Timeframe::D1, eve);
        assert_eq!(s, Timestamp::from_date(chrono::NaiveDate::from_ymd_opt(2026, 11, 18).unwrap()));
        assert_eq!(e, Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 17, 0, 0).unwrap()));
        assert_eq!(session_id(eve), 20_261_118);
        let mut slot = None;
        fold(&mut slot, s, -10.0, -10.0, -10.0, -10.0, 1);
        fold(&mut slot, s, -37.63, -5.0, -40.32, -37.63, 2);
        let b = slot.unwrap();
        assert_eq!((b.open, b.high, b.low, b.close, b.volume), (-10.0, -5.0, -40.32, -37.63, 3));
    }
}
