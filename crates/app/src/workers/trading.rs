//! The trading worker: the durable trading session (OMS, paper broker, positions over
//! SQLite) on its own thread, and the UI-side view of what it reports.
//!
//! * The worker receives market data (a fan-out of the feed, [`crude_feeds::FeedHandle::spawn_with_taps`])
//!   and user commands ([`TradingCommand`]) through channels. Every order event and fill is
//!   committed to SQLite by [`TradingSession`] *before* the worker sends the matching
//!   [`TradingUpdate`], so whatever the UI shows is already durable.
//! * Live P&L: the engine re-marks positions on every quote; the worker sends a
//!   [`TradingSnapshot`] (positions, working orders, P&L summary, circuit breaker) after
//!   every order event and at most every `snapshot_interval_ms` of wall time while only
//!   prices move. At most one snapshot is in flight: the next is sent only after the UI
//!   has taken the previous one, so a minimised window never piles them up.
//! * The blotter (every fill with its realised P&L and slippage) is kept on the worker;
//!   filtering, totals, attribution and CSV export happen there, and the UI receives the
//!   filtered rows once per filter change plus one row per new fill.
//! * The engine's time comes only from market events: the session opens at the time of
//!   the first live (non-history) market event, so replayed and simulated markets trade on
//!   their own clock. History batches are not traded against; only their settlements are
//!   kept (the day P&L reference).
//!
//! The UI thread owns a [`TradingView`] (inside the store) and applies updates to it with
//! [`TradingView::apply`]; panels draw from it and never block.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::NaiveDate;
use crude_feeds::FeedBatch;
use crude_model::{
    Clock, ContractId, Fill, Instruments, Liquidity, Market, MarketEvent, ModelError, Order, OrderEventKind,
    OrderRequest, OrderType, Position, PreTradeResult, Side, Timestamp, trading_date,
};
use crude_store::{Durability, Store as Db, StoreOptions};
use crude_trading::blotter::{BlotterRow, BlotterSummary, StrategyAttribution, format_time, write_csv};
use crude_trading::{
    AmendRequest, ConfigError, Engine, EngineEvent, PnlSummary, SessionError, SubmitOutcome, TradingConfig,
    TradingError, TradingSession, actions,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::format;

/// Most activity entries the UI keeps.
pub const ACTIVITY_CAP: usize = 500;
/// Most market batches the worker applies before it looks at its commands again.
const MARKET_BATCHES_PER_TURN: usize = 64;

/// Why the worker could not be started.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The trading configuration is invalid.
    #[error("trading configuration: {0}")]
    Config(#[from] ConfigError),
    /// The instrument specifications did not load.
    #[error("instruments: {0}")]
    Instruments(#[from] ModelError),
    /// The operating system refused to start the thread.
    #[error("cannot start the trading thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// How the trading worker runs.
#[derive(Clone)]
pub struct TradingWorkerConfig {
    /// The SQLite database (created when missing; locked by `<db>.lock` while the app runs).
    pub db_path: PathBuf,
    pub trading: TradingConfig,
    pub instruments: Instruments,
    /// `Full` (fsync at every commit) unless the database is throw-away.
    pub durability: Durability,
    /// Recorded as the user of every order and audit entry.
    pub user: String,
    /// Wall clock, only to pace snapshots driven by price moves.
    pub wall: Arc<dyn Clock>,
    /// Shortest wall-clock interval between snapshots when only prices moved.
    pub snapshot_interval_ms: u64,
    /// Directory relative CSV export paths are resolved against.
    pub export_dir: PathBuf,
}

impl std::fmt::Debug for TradingWorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradingWorkerConfig")
            .field("db_path", &self.db_path)
            .field("durability", &self.durability)
            .field("user", &self.user)
            .field("snapshot_interval_ms", &self.snapshot_interval_ms)
            .field("export_dir", &self.export_dir)
            .finish_non_exhaustive()
    }
}

impl TradingWorkerConfig {
    /// Defaults: built-in instruments, full durability, user `trader`, snapshots at most
    /// every 100 ms while only prices move, exports next to the database.
    ///
    /// # Errors
    /// [`WorkerError::Config`] when `trading` is invalid, [`WorkerError::Instruments`].
    pub fn new(db_path: impl Into<PathBuf>, trading: TradingConfig, wall: Arc<dyn Clock>) -> Result<Self, WorkerError> {
        trading.validate("trading config")?;
        let db_path = db_path.into();
        let export_dir = db_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(Self {
            db_path,
            trading,
            instruments: Instruments::builtin()?,
            durability: Durability::Full,
            user: "trader".into(),
            wall,
            snapshot_interval_ms: 100,
            export_dir,
        })
    }
}

/// A filter of the blotter; every field narrows it. Dates are exchange trading dates,
/// both ends inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BlotterQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub strategy: Option<String>,
    pub market: Option<Market>,
}

impl BlotterQuery {
    /// Whether `line` passes the filter.
    pub fn matches(&self, line: &BlotterLine) -> bool {
        self.from.is_none_or(|d| line.trading_date >= d)
            && self.to.is_none_or(|d| line.trading_date <= d)
            && self.strategy.as_deref().is_none_or(|s| &*line.strategy == s)
            && self.market.is_none_or(|m| line.contract.market == m)
    }
}

/// One fill as the blotter shows it (compact: the table formats only the visible rows).
#[derive(Debug, Clone, PartialEq)]
pub struct BlotterLine {
    pub fill_id: u64,
    pub order_id: u64,
    pub client_order_id: Arc<str>,
    pub ts: Timestamp,
    /// The exchange trading date the fill counts for.
    pub trading_date: NaiveDate,
    pub contract: ContractId,
    pub side: Side,
    pub qty: i64,
    pub price: f64,
    pub commission_usd: f64,
    pub fees_usd: f64,
    pub liquidity: Liquidity,
    pub strategy: Arc<str>,
    /// Mid when the order was entered.
    pub arrival_price: Option<f64>,
    /// `(price − arrival) × side × qty × multiplier`: positive when worse than arrival.
    pub slippage_usd: Option<f64>,
    /// P&L this fill realised on its strategy's position in the contract, before costs.
    pub realized_pnl_usd: f64,
}

impl BlotterLine {
    /// Commission plus fees, USD.
    pub fn costs_usd(&self) -> f64 {
        self.commission_usd + self.fees_usd
    }

    /// The row as `crude blotter --export` writes it.
    pub fn to_row(&self) -> BlotterRow {
        BlotterRow {
            fill_id: self.fill_id,
            order_id: self.order_id,
            client_order_id: self.client_order_id.to_string(),
            time: format_time(self.ts),
            trading_date: self.trading_date.to_string(),
            contract: self.contract.to_string(),
            market: self.contract.market.code().to_string(),
            side: self.side.as_str().to_string(),
            qty: self.qty,
            price: self.price,
            commission_usd: self.commission_usd,
            fees_usd: self.fees_usd,
            liquidity: self.liquidity.as_str().to_string(),
            strategy: self.strategy.to_string(),
            arrival_price: self.arrival_price,
            slippage_usd: self.slippage_usd,
            realized_pnl_usd: self.realized_pnl_usd,
        }
    }
}

/// Blotter totals and attribution by strategy, kept incrementally (one fill at a time) with
/// the same definitions as [`crude_trading::blotter::summarize`] and
/// [`crude_trading::blotter::attribution`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlotterTotals {
    summary: BlotterSummary,
    /// Per strategy: the attribution so far and the winning closing trades.
    strategies: BTreeMap<Arc<str>, (StrategyAttribution, u64)>,
}

impl BlotterTotals {
    /// Totals over `lines`.
    pub fn over<'a>(lines: impl IntoIterator<Item = &'a BlotterLine>) -> Self {
        let mut t = Self::default();
        for l in lines {
            t.add(l);
        }
        t
    }

    /// Adds one fill.
    pub fn add(&mut self, l: &BlotterLine) {
        let s = &mut self.summary;
        s.fills += 1;
        s.contracts += l.qty;
        s.gross_pnl_usd += l.realized_pnl_usd;
        s.fees_usd += l.costs_usd();
        s.slippage_usd += l.slippage_usd.unwrap_or(0.0);
        s.net_pnl_usd = s.gross_pnl_usd - s.fees_usd;
        let (a, wins) = self.strategies.entry(Arc::clone(&l.strategy)).or_insert_with(|| {
            (StrategyAttribution { strategy: l.strategy.to_string(), ..StrategyAttribution::default() }, 0)
        });
        a.fills += 1;
        a.gross_pnl_usd += l.realized_pnl_usd;
        a.fees_usd += l.costs_usd();
        if l.realized_pnl_usd != 0.0 {
            a.closing_trades += 1;
            if l.realized_pnl_usd > 0.0 {
                *wins += 1;
            }
        }
    }

    /// The summary.
    pub fn summary(&self) -> BlotterSummary {
        self.summary.clone()
    }

    /// Attribution by strategy, sorted by strategy.
    pub fn attribution(&self) -> Vec<StrategyAttribution> {
        self.strategies
            .values()
            .map(|(a, wins)| {
                let mut a = a.clone();
                a.net_pnl_usd = a.gross_pnl_usd - a.fees_usd;
                if a.closing_trades > 0 {
                    a.hit_rate = Some(*wins as f64 / a.closing_trades as f64);
                    a.average_trade_usd = Some(a.net_pnl_usd / a.closing_trades as f64);
                }
                a
            })
            .collect()
    }
}

/// The blotter as the UI holds it: the rows passing the current filter, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlotterView {
    pub query: BlotterQuery,
    pub lines: Vec<BlotterLine>,
    pub summary: BlotterSummary,
    pub attribution: Vec<StrategyAttribution>,
    /// Every strategy tag in the database (for the filter).
    pub strategies: Vec<String>,
    /// Fills in the database, before filtering.
    pub total_fills: usize,
    /// Whether the worker has sent the blotter yet.
    pub loaded: bool,
}

/// One position (all strategies) as the Positions panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRow {
    pub contract: ContractId,
    /// Signed contracts.
    pub qty: i64,
    pub avg_price: f64,
    pub mark: Option<f64>,
    pub unrealized_pnl_usd: f64,
    pub realized_pnl_usd: f64,
    /// Day P&L before costs.
    pub day_pnl_usd: f64,
    pub fees_usd: f64,
    pub net_pnl_usd: f64,
    /// Signed notional at the mark.
    pub notional_usd: f64,
    /// |notional| as a percentage of the book's gross notional.
    pub pct_of_book: Option<f64>,
}

impl PositionRow {
    fn of(p: &Position, gross_usd: f64) -> Self {
        let notional = p.notional_usd();
        Self {
            contract: p.contract,
            qty: p.qty,
            avg_price: p.avg_price,
            mark: p.mark,
            unrealized_pnl_usd: p.unrealized_pnl_usd(),
            realized_pnl_usd: p.realized_pnl_usd,
            day_pnl_usd: p.day_pnl_usd(),
            fees_usd: p.fees_usd,
            net_pnl_usd: p.net_pnl_usd(),
            notional_usd: notional,
            pct_of_book: (gross_usd > 0.0).then(|| 100.0 * notional.abs() / gross_usd),
        }
    }
}

/// The book at one moment, as the worker last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct TradingSnapshot {
    /// Increases with every snapshot.
    pub generation: u64,
    /// Engine (event) time.
    pub as_of: Timestamp,
    pub trading_date: NaiveDate,
    /// Positions per contract, open ones and those that realised P&L, by contract.
    pub positions: Vec<PositionRow>,
    /// Open orders, by id.
    pub working: Vec<Order>,
    pub summary: PnlSummary,
    /// Open positions per strategy (what the kill switch flattens).
    pub strategy_positions_open: usize,
    pub breaker_tripped: bool,
    pub max_daily_loss_usd: f64,
    /// Largest quantity one order may have (the validation limit), contracts.
    pub max_order_qty: i64,
}

impl TradingSnapshot {
    /// The signed position in `contract`.
    pub fn position_qty(&self, contract: ContractId) -> i64 {
        self.positions.iter().find(|p| p.contract == contract).map_or(0, |p| p.qty)
    }
}

/// A refused or failed request: the field it concerns (as the order fields are named:
/// `qty`, `limit_price`, `contract`, …) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketError {
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for TicketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl TicketError {
    fn plain(message: impl Into<String>) -> Self {
        Self { field: None, message: message.into() }
    }

    fn of_trading(e: &TradingError) -> Self {
        match e {
            TradingError::Invalid(v) => Self { field: Some(v.field.to_string()), message: v.reason.clone() },
            TradingError::DuplicateClientOrderId(_) => {
                Self { field: Some("client_order_id".into()), message: e.to_string() }
            }
            other => Self::plain(other.to_string()),
        }
    }

    fn of_session(e: &SessionError) -> Self {
        match e {
            SessionError::Trading(t) => Self::of_trading(t),
            other => Self::plain(other.to_string()),
        }
    }
}

/// A failed user action other than an order entry (amend, cancel, export…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// What was attempted (`amend order 12`).
    pub action: String,
    pub error: TicketError,
}

/// The pre-trade preview of a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewResult {
    pub pre_trade: PreTradeResult,
    /// The price the order is checked against (mid, last trade or mark).
    pub reference_price: Option<f64>,
    /// Initial margin of the positions held now, USD.
    pub margin_now_usd: f64,
}

/// How important an activity entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityLevel {
    Info,
    Fill,
    Warning,
    Error,
}

/// One line of the trading activity log.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Event time.
    pub ts: Timestamp,
    pub level: ActivityLevel,
    pub order_id: Option<u64>,
    pub text: String,
}

/// Where the worker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerStatus {
    /// Opening the database.
    Starting,
    /// The database is open; the engine starts with the first live market event.
    WaitingForMarket,
    /// Trading.
    Ready,
    /// The market feed ended; orders stay as they are.
    MarketClosed,
    /// The worker stopped (database error); restart the app to recover from the database.
    Stopped(String),
}

/// What the UI asks the worker to do.
#[derive(Debug, Clone, PartialEq)]
pub enum TradingCommand {
    /// Validate and pre-trade check a ticket without entering it.
    Preview {
        request_id: u64,
        request: OrderRequest,
    },
    /// Enter an order.
    Submit {
        request_id: u64,
        request: OrderRequest,
    },
    /// Change a working order's price or quantity.
    Amend {
        order_id: u64,
        amend: AmendRequest,
    },
    Cancel {
        order_id: u64,
    },
    /// Cancel the open orders of one contract, or of every contract.
    CancelAll {
        contract: Option<ContractId>,
    },
    /// Cancel the open orders of `contract` and flatten its positions (per strategy).
    Liquidate {
        contract: ContractId,
    },
    /// Cancel every open order and flatten every position.
    KillSwitch,
    ResetCircuitBreaker,
    /// Change the blotter filter (the worker answers with [`TradingUpdate::Blotter`]).
    Blotter(BlotterQuery),
    /// Write the filtered blotter to a CSV file (relative paths: the export directory).
    ExportBlotter {
        path: PathBuf,
    },
    Shutdown,
}

/// What the worker reports. Order events and fills are durable before they are sent.
#[derive(Debug, Clone, PartialEq)]
pub enum TradingUpdate {
    Status(WorkerStatus),
    Snapshot(Box<TradingSnapshot>),
    Activity(Activity),
    /// A new fill.
    Fill(BlotterLine),
    /// The fills of the current trading date (sent when the engine starts).
    FillsToday(Vec<BlotterLine>),
    /// The blotter for a (new) filter.
    Blotter(Box<BlotterView>),
    /// A new fill that passes the blotter filter, with the new totals.
    BlotterAppend {
        line: BlotterLine,
        summary: BlotterSummary,
        attribution: Vec<StrategyAttribution>,
    },
    Preview {
        request_id: u64,
        result: Result<PreviewResult, TicketError>,
    },
    Submitted {
        request_id: u64,
        result: Result<SubmitOutcome, TicketError>,
    },
    Exported {
        path: PathBuf,
        result: Result<usize, String>,
    },
    Error(ActionError),
}

/// The UI's end of the trading worker.
pub struct TradingHandle {
    commands: mpsc::UnboundedSender<TradingCommand>,
    updates: mpsc::UnboundedReceiver<TradingUpdate>,
    consumed: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    db_path: PathBuf,
}

impl std::fmt::Debug for TradingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradingHandle").field("db_path", &self.db_path).finish_non_exhaustive()
    }
}

impl TradingHandle {
    /// Sends a command; `false` when the worker has stopped.
    pub fn send(&self, cmd: TradingCommand) -> bool {
        self.commands.send(cmd).is_ok()
    }

    /// The next queued update, without waiting. Taking a snapshot tells the worker it may
    /// send the next one.
    pub fn try_recv(&mut self) -> Option<TradingUpdate> {
        let u = self.updates.try_recv().ok()?;
        if let TradingUpdate::Snapshot(s) = &u {
            self.consumed.fetch_max(s.generation, Ordering::AcqRel);
        }
        Some(u)
    }

    /// The database the worker trades in.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Stops the worker (it saves the marks and checkpoints the database) and waits for it.
    pub fn shutdown(&mut self) {
        let _ = self.commands.send(TradingCommand::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TradingHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the trading worker.
pub struct TradingWorker;

impl TradingWorker {
    /// Starts the worker thread: it opens (creating) the database at `config.db_path`,
    /// loads the blotter, and opens the trading session at the first live event of `market`
    /// (a tap of the feed). `notify` is called after updates are sent (the app passes
    /// `egui::Context::request_repaint`).
    ///
    /// # Errors
    /// [`WorkerError::Config`] for an invalid trading configuration, [`WorkerError::Spawn`].
    pub fn spawn(
        config: TradingWorkerConfig,
        market: mpsc::Receiver<FeedBatch>,
        notify: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<TradingHandle, WorkerError> {
        config.trading.validate("trading config")?;
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (up_tx, up_rx) = mpsc::unbounded_channel();
        let consumed = Arc::new(AtomicU64::new(0));
        let db_path = config.db_path.clone();
        let worker = Worker::new(config, up_tx, notify, Arc::clone(&consumed));
        let thread =
            std::thread::Builder::new().name("crude-trading".into()).spawn(move || worker.run(cmd_rx, market))?;
        Ok(TradingHandle { commands: cmd_tx, updates: up_rx, consumed, thread: Some(thread), db_path })
    }
}

/// Takes the exclusive lock `<db>.lock` (one trading session per database, shared with the
/// command line).
fn lock_db(db: &Path) -> Result<File, String> {
    let mut p = db.as_os_str().to_owned();
    p.push(".lock");
    let path = PathBuf::from(p);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("database {}: cannot create the lock file {}: {e}", db.display(), path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "database {} is in use by another trading session (a running `crude trade`?); close it or set CRUDE_DB to another file",
            db.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("database {}: cannot lock {}: {e}", db.display(), path.display()))
        }
    }
}

/// Replays fills into blotter lines: realised P&L per (strategy, contract) position.
#[derive(Debug, Default)]
struct LineBuilder {
    positions: HashMap<(Arc<str>, ContractId), Position>,
    strategies: HashMap<String, Arc<str>>,
    orders: HashMap<u64, (Arc<str>, Option<f64>)>,
}

impl LineBuilder {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strategies.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.strategies.insert(s.to_string(), Arc::clone(&a));
        a
    }

    fn note_order(&mut self, o: &Order) {
        self.orders.entry(o.order_id).or_insert_with(|| (Arc::from(o.client_order_id.as_str()), o.arrival_price));
    }

    fn line(&mut self, f: &Fill, instruments: &Instruments) -> BlotterLine {
        let strategy = self.intern(&f.strategy);
        let mult = instruments.multiplier(f.contract.market);
        let p = self
            .positions
            .entry((Arc::clone(&strategy), f.contract))
            .or_insert_with(|| Position::flat(f.contract, Some(f.strategy.clone()), mult));
        let realized = p.apply_fill(f.side, f.qty, f.price, f.costs_usd());
        let (client, arrival) = self.orders.get(&f.order_id).cloned().unwrap_or_else(|| (Arc::from(""), None));
        BlotterLine {
            fill_id: f.fill_id,
            order_id: f.order_id,
            client_order_id: client,
            ts: f.ts,
            trading_date: trading_date(f.ts),
            contract: f.contract,
            side: f.side,
            qty: f.qty,
            price: f.price,
            commission_usd: f.commission_usd,
            fees_usd: f.fees_usd,
            liquidity: f.liquidity,
            strategy,
            arrival_price: arrival,
            slippage_usd: arrival.map(|a| (f.price - a) * f.side.sign() as f64 * f.qty as f64 * mult),
            realized_pnl_usd: realized,
        }
    }

    fn strategy_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.strategies.keys().cloned().collect();
        v.sort();
        v
    }
}

/// Short description of an order: `#12 buy 5 CLF7 limit 71.25`.
fn order_desc(o: &Order) -> String {
    let m = o.contract.market;
    let px = |p: Option<f64>| format::price(m, p);
    let price = match o.order_type {
        OrderType::Market => "market".to_string(),
        OrderType::Limit => format!("limit {}", px(o.limit_price)),
        OrderType::Stop => format!("stop {}", px(o.stop_price)),
        OrderType::StopLimit => format!("stop {} limit {}", px(o.stop_price), px(o.limit_price)),
    };
    format!("#{} {} {} {} {price}", o.order_id, o.side, o.qty, o.contract)
}

struct Worker {
    cfg: TradingWorkerConfig,
    updates: mpsc::UnboundedSender<TradingUpdate>,
    notify: Arc<dyn Fn() + Send + Sync>,
    consumed: Arc<AtomicU64>,
    status: WorkerStatus,
    _lock: Option<File>,
    /// The database until the session takes it.
    db: Option<Db>,
    session: Option<TradingSession>,
    /// Latest settlement per contract seen in history batches.
    settlements: BTreeMap<ContractId, MarketEvent>,
    lines: Vec<BlotterLine>,
    builder: LineBuilder,
    query: BlotterQuery,
    totals: BlotterTotals,
    generation: u64,
    dirty_book: bool,
    dirty_marks: bool,
    last_snapshot_wall: Timestamp,
    sent: bool,
}

impl Worker {
    fn new(
        cfg: TradingWorkerConfig,
        updates: mpsc::UnboundedSender<TradingUpdate>,
        notify: Arc<dyn Fn() + Send + Sync>,
        consumed: Arc<AtomicU64>,
    ) -> Self {
        Self {
            cfg,
            updates,
            notify,
            consumed,
            status: WorkerStatus::Starting,
            _lock: None,
            db: None,
            session: None,
            settlements: BTreeMap::new(),
            lines: Vec::new(),
            builder: LineBuilder::default(),
            query: BlotterQuery::default(),
            totals: BlotterTotals::default(),
            generation: 0,
            dirty_book: false,
            dirty_marks: false,
            last_snapshot_wall: Timestamp(i64::MIN),
            sent: false,
        }
    }

    fn send(&mut self, u: TradingUpdate) {
        if self.updates.send(u).is_ok() {
            self.sent = true;
        }
    }

    fn set_status(&mut self, s: WorkerStatus) {
        if self.status != s {
            self.status = s.clone();
            self.send(TradingUpdate::Status(s));
        }
    }

    fn stop(&mut self, why: String) {
        tracing::error!(reason = %why, "trading worker stopped");
        self.set_status(WorkerStatus::Stopped(why));
    }

    fn run(mut self, mut cmds: mpsc::UnboundedReceiver<TradingCommand>, mut market: mpsc::Receiver<FeedBatch>) {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
            Ok(rt) => rt,
            Err(e) => {
                self.stop(format!("cannot start the trading thread's timer: {e}"));
                (self.notify)();
                return;
            }
        };
        rt.block_on(async move {
            self.start();
            self.flush_notify();
            let mut market_open = true;
            let tick = Duration::from_millis(self.cfg.snapshot_interval_ms.clamp(5, 5_000));
            loop {
                let pending = self.dirty_book || self.dirty_marks;
                tokio::select! {
                    biased;
                    cmd = cmds.recv() => match cmd {
                        None | Some(TradingCommand::Shutdown) => break,
                        Some(c) => self.on_command(c),
                    },
                    batch = market.recv(), if market_open => match batch {
                        Some(b) => {
                            self.on_batch(&b);
                            for _ in 1..MARKET_BATCHES_PER_TURN {
                                match market.try_recv() {
                                    Ok(b) => self.on_batch(&b),
                                    Err(_) => break,
                                }
                            }
                        }
                        None => {
                            market_open = false;
                            if self.session.is_some() {
                                self.set_status(WorkerStatus::MarketClosed);
                            }
                        }
                    },
                    () = tokio::time::sleep(tick), if pending => {}
                }
                self.maybe_snapshot();
                self.flush_notify();
            }
            self.finish();
        });
    }

    fn flush_notify(&mut self) {
        if self.sent {
            self.sent = false;
            (self.notify)();
        }
    }

    /// Opens the database and loads the blotter.
    fn start(&mut self) {
        let path = self.cfg.db_path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            self.stop(format!("cannot create the database directory {}: {e}", dir.display()));
            return;
        }
        match lock_db(&path) {
            Ok(f) => self._lock = Some(f),
            Err(e) => {
                self.stop(e);
                return;
            }
        }
        let opts = StoreOptions { durability: self.cfg.durability, create: true, ..StoreOptions::default() };
        let db = match Db::open_with(&path, &opts) {
            Ok(db) => db,
            Err(e) => {
                self.stop(e.to_string());
                return;
            }
        };
        let loaded = db.load_all_orders().and_then(|orders| Ok((orders, db.load_all_fills()?)));
        match loaded {
            Ok((orders, fills)) => {
                for o in &orders {
                    self.builder.note_order(o);
                }
                self.lines = fills.iter().map(|f| self.builder.line(f, &self.cfg.instruments)).collect();
            }
            Err(e) => {
                self.stop(e.to_string());
                return;
            }
        }
        self.db = Some(db);
        tracing::info!(db = %path.display(), fills = self.lines.len(), "trading database open");
        self.send_blotter();
        self.set_status(WorkerStatus::WaitingForMarket);
    }

    fn finish(&mut self) {
        if let Some(s) = self.session.as_mut() {
            if let Err(e) = s.save_marks() {
                tracing::warn!(error = %e, "could not save the marks on shutdown");
            }
            if let Err(e) = s.checkpoint() {
                tracing::warn!(error = %e, "could not checkpoint the database on shutdown");
            }
        }
    }

    /// Opens the trading session at event time `now`.
    fn open_session(&mut self, now: Timestamp) {
        let Some(db) = self.db.take() else { return };
        let engine = Engine::paper(self.cfg.trading.clone(), self.cfg.instruments.clone());
        let mut evs = Vec::new();
        match TradingSession::open(db, engine, now, &mut |e| evs.push(e.clone())) {
            Ok(s) => self.session = Some(s),
            Err(e) => {
                self.stop(e.to_string());
                return;
            }
        }
        self.on_engine_events(evs);
        // Yesterday's settlements from the history: the day P&L reference.
        let settlements: Vec<MarketEvent> = std::mem::take(&mut self.settlements).into_values().collect();
        for ev in &settlements {
            self.market_event(ev);
        }
        let today = self.session.as_ref().map(|s| trading_date(s.engine().now()));
        let fills_today: Vec<BlotterLine> =
            self.lines.iter().filter(|l| Some(l.trading_date) == today).cloned().collect();
        self.send(TradingUpdate::FillsToday(fills_today));
        self.set_status(WorkerStatus::Ready);
        self.dirty_book = true;
    }

    fn on_batch(&mut self, b: &FeedBatch) {
        if matches!(self.status, WorkerStatus::Stopped(_)) {
            return;
        }
        if b.history {
            for ev in &b.events {
                if let MarketEvent::Settlement { contract, .. } = ev {
                    self.settlements.insert(*contract, ev.clone());
                }
            }
            return;
        }
        if self.session.is_none() {
            // Status events carry wall time; the engine's clock is the market's.
            let Some(first) = b.events.iter().find(|e| !matches!(e, MarketEvent::Status { .. })) else { return };
            self.open_session(first.ts());
        }
        for ev in &b.events {
            if matches!(ev, MarketEvent::Status { .. }) {
                continue;
            }
            self.market_event(ev);
        }
        if self.session.as_ref().is_some_and(|s| !s.engine().positions().is_empty()) {
            self.dirty_marks = true;
        }
    }

    fn market_event(&mut self, ev: &MarketEvent) {
        let Some(s) = self.session.as_mut() else { return };
        let mut evs = Vec::new();
        let r = s.on_market(ev, &mut |e| evs.push(e.clone()));
        self.on_engine_events(evs);
        if let Err(e) = r {
            self.stop(e.to_string());
        }
    }

    fn activity(&mut self, ts: Timestamp, level: ActivityLevel, order_id: Option<u64>, text: String) {
        self.send(TradingUpdate::Activity(Activity { ts, level, order_id, text }));
    }

    /// Reports committed engine events.
    fn on_engine_events(&mut self, evs: Vec<EngineEvent>) {
        if evs.is_empty() {
            return;
        }
        self.dirty_book = true;
        for ev in evs {
            match ev {
                EngineEvent::Order { order, event, .. } => {
                    self.builder.note_order(&order);
                    let level = match event.kind {
                        OrderEventKind::Rejected => ActivityLevel::Error,
                        OrderEventKind::Cancelled | OrderEventKind::Expired => ActivityLevel::Warning,
                        _ => ActivityLevel::Info,
                    };
                    let reason = event.reason.as_deref().map_or(String::new(), |r| format!(" ({r})"));
                    let text = format!("{} {}{reason}", order_desc(&order), event.kind);
                    self.activity(event.ts, level, Some(order.order_id), text);
                }
                EngineEvent::Fill { order, fill, .. } => {
                    self.builder.note_order(&order);
                    let line = self.builder.line(&fill, &self.cfg.instruments);
                    let text = format!(
                        "#{} filled {} {} {} @ {} ({} of {})",
                        order.order_id,
                        fill.side,
                        fill.qty,
                        fill.contract,
                        format::price(fill.contract.market, Some(fill.price)),
                        order.filled_qty,
                        order.qty
                    );
                    self.activity(fill.ts, ActivityLevel::Fill, Some(order.order_id), text);
                    self.lines.push(line.clone());
                    if self.query.matches(&line) {
                        self.totals.add(&line);
                        self.send(TradingUpdate::BlotterAppend {
                            line: line.clone(),
                            summary: self.totals.summary(),
                            attribution: self.totals.attribution(),
                        });
                    }
                    self.send(TradingUpdate::Fill(line));
                }
                EngineEvent::Audit(a) => {
                    let (level, text) = match a.action.as_str() {
                        actions::KILL_SWITCH => (ActivityLevel::Warning, format!("Kill switch by {}", a.user)),
                        actions::BREAKER_TRIP => (
                            ActivityLevel::Error,
                            format!("Circuit breaker tripped by the daily loss limit ({})", a.details),
                        ),
                        actions::BREAKER_RESET => {
                            (ActivityLevel::Warning, format!("Circuit breaker reset by {}", a.user))
                        }
                        actions::CANCEL_ALL => (ActivityLevel::Warning, format!("Cancel all by {}", a.user)),
                        actions::REFUSED => (ActivityLevel::Error, format!("Refused: {}", a.details)),
                        _ => continue,
                    };
                    self.activity(a.ts, level, None, text);
                }
            }
        }
    }

    /// Runs `op` on the session, reporting its committed events; `None` when no session.
    fn with_session<T>(
        &mut self,
        op: impl FnOnce(&mut TradingSession, &mut dyn FnMut(&EngineEvent)) -> Result<T, SessionError>,
    ) -> Option<Result<T, SessionError>> {
        let s = self.session.as_mut()?;
        let mut evs = Vec::new();
        let r = op(s, &mut |e| evs.push(e.clone()));
        self.on_engine_events(evs);
        if let Err(e @ (SessionError::Store(_) | SessionError::Poisoned(_))) = &r {
            self.stop(e.to_string());
        }
        Some(r)
    }

    fn not_ready(&self) -> TicketError {
        TicketError::plain(match &self.status {
            WorkerStatus::Stopped(why) => format!("trading has stopped: {why}"),
            WorkerStatus::Starting => "the trading engine is starting; try again in a moment".to_string(),
            _ => "the trading engine is waiting for market data; orders can be entered once quotes arrive".to_string(),
        })
    }

    fn action_error(&mut self, action: String, error: TicketError) {
        self.send(TradingUpdate::Error(ActionError { action, error }));
    }

    fn on_command(&mut self, cmd: TradingCommand) {
        let user = self.cfg.user.clone();
        match cmd {
            TradingCommand::Preview { request_id, request } => {
                let result = match &self.session {
                    Some(s) if !matches!(self.status, WorkerStatus::Stopped(_)) => {
                        let e = s.engine();
                        e.preview(&request).map_err(|e| TicketError::of_trading(&e)).map(|pre_trade| PreviewResult {
                            pre_trade,
                            reference_price: e.reference_price(request.contract),
                            margin_now_usd: e
                                .positions()
                                .iter()
                                .map(|p| {
                                    p.qty.abs() as f64 * self.cfg.instruments.spec(p.contract.market).initial_margin_usd
                                })
                                .sum(),
                        })
                    }
                    _ => Err(self.not_ready()),
                };
                self.send(TradingUpdate::Preview { request_id, result });
            }
            TradingCommand::Submit { request_id, mut request } => {
                request.user = user;
                let result = match self.status {
                    WorkerStatus::Stopped(_) => None,
                    _ => self.with_session(|s, sink| s.submit(request, sink)),
                };
                let result = match result {
                    None => Err(self.not_ready()),
                    Some(r) => r.map_err(|e| TicketError::of_session(&e)),
                };
                self.send(TradingUpdate::Submitted { request_id, result });
            }
            TradingCommand::Amend { order_id, amend } => {
                self.report(format!("amend order {order_id}"), |w, sink| w.amend(order_id, amend, &user, sink));
            }
            TradingCommand::Cancel { order_id } => {
                self.report(format!("cancel order {order_id}"), |w, sink| w.cancel(order_id, &user, sink));
            }
            TradingCommand::CancelAll { contract: None } => {
                self.report("cancel all".into(), |w, sink| w.cancel_all(&user, sink).map(|_| ()));
            }
            TradingCommand::CancelAll { contract: Some(c) } => {
                self.report(format!("cancel all {c}"), |w, sink| {
                    let ids: Vec<u64> =
                        w.engine().open_orders().filter(|o| o.contract == c).map(|o| o.order_id).collect();
                    for id in ids {
                        w.cancel(id, &user, sink)?;
                    }
                    Ok(())
                });
            }
            TradingCommand::Liquidate { contract } => {
                let max = self.cfg.trading.validation.max_order_qty.max(1);
                self.report(format!("liquidate {contract}"), |w, sink| {
                    let ids: Vec<u64> =
                        w.engine().open_orders().filter(|o| o.contract == contract).map(|o| o.order_id).collect();
                    for id in ids {
                        w.cancel(id, &user, sink)?;
                    }
                    let flatten: Vec<(i64, String)> = w
                        .engine()
                        .position_keeper()
                        .strategy_positions()
                        .iter()
                        .filter(|p| p.contract == contract && p.qty != 0)
                        .map(|p| (p.qty, p.strategy.clone().unwrap_or_else(|| "manual".into())))
                        .collect();
                    for (qty, strategy) in flatten {
                        let side = if qty > 0 { Side::Sell } else { Side::Buy };
                        let mut left = qty.abs();
                        while left > 0 {
                            let chunk = left.min(max);
                            left -= chunk;
                            let mut r = OrderRequest::market(contract, side, chunk).with_strategy(strategy.clone());
                            r.user = user.clone();
                            w.submit(r, sink)?;
                        }
                    }
                    Ok(())
                });
            }
            TradingCommand::KillSwitch => {
                self.report("kill switch".into(), |w, sink| w.kill_switch(&user, sink).map(|_| ()));
            }
            TradingCommand::ResetCircuitBreaker => {
                self.report("reset circuit breaker".into(), |w, sink| w.reset_circuit_breaker(&user, sink));
            }
            TradingCommand::Blotter(q) => {
                self.query = q;
                self.send_blotter();
            }
            TradingCommand::ExportBlotter { path } => {
                let path = if path.is_relative() { self.cfg.export_dir.join(path) } else { path };
                let result = self.export(&path);
                self.send(TradingUpdate::Exported { path, result });
            }
            TradingCommand::Shutdown => {}
        }
    }

    /// Runs a user action on the session; a failure is reported as [`TradingUpdate::Error`].
    fn report(
        &mut self,
        action: String,
        op: impl FnOnce(&mut TradingSession, &mut dyn FnMut(&EngineEvent)) -> Result<(), SessionError>,
    ) {
        if matches!(self.status, WorkerStatus::Stopped(_)) {
            let e = self.not_ready();
            self.action_error(action, e);
            return;
        }
        match self.with_session(op) {
            None => {
                let e = self.not_ready();
                self.action_error(action, e);
            }
            Some(Err(e)) => self.action_error(action, TicketError::of_session(&e)),
            Some(Ok(())) => {}
        }
    }

    fn send_blotter(&mut self) {
        let lines: Vec<BlotterLine> = self.lines.iter().filter(|l| self.query.matches(l)).cloned().collect();
        self.totals = BlotterTotals::over(&lines);
        let view = BlotterView {
            query: self.query.clone(),
            summary: self.totals.summary(),
            attribution: self.totals.attribution(),
            strategies: self.builder.strategy_names(),
            total_fills: self.lines.len(),
            lines,
            loaded: true,
        };
        self.send(TradingUpdate::Blotter(Box::new(view)));
    }

    fn export(&self, path: &Path) -> Result<usize, String> {
        let rows: Vec<BlotterRow> =
            self.lines.iter().filter(|l| self.query.matches(l)).map(BlotterLine::to_row).collect();
        let f =
            File::create(path).map_err(|e| format!("cannot create {}: {e}; choose a writable path", path.display()))?;
        write_csv(&rows, std::io::BufWriter::new(f)).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(rows.len())
    }

    fn maybe_snapshot(&mut self) {
        if !(self.dirty_book || self.dirty_marks) {
            return;
        }
        if self.consumed.load(Ordering::Acquire) < self.generation {
            return; // the UI has not taken the previous one yet
        }
        let now = self.cfg.wall.now();
        if !self.dirty_book {
            let interval_ns = i64::try_from(self.cfg.snapshot_interval_ms).unwrap_or(i64::MAX / 2) * 1_000_000;
            if self.last_snapshot_wall.0 != i64::MIN && now.0 - self.last_snapshot_wall.0 < interval_ns {
                return;
            }
        }
        let Some(s) = self.session.as_ref() else {
            self.dirty_book = false;
            self.dirty_marks = false;
            return;
        };
        let e = s.engine();
        let gross: f64 = e.positions().iter().map(|p| p.notional_usd().abs()).sum();
        let mut positions: Vec<PositionRow> = e
            .positions()
            .iter()
            .filter(|p| p.qty != 0 || p.fill_count > 0)
            .map(|p| PositionRow::of(p, gross))
            .collect();
        positions.sort_by_key(|p| p.contract);
        self.generation += 1;
        let snap = TradingSnapshot {
            generation: self.generation,
            as_of: e.now(),
            trading_date: trading_date(e.now()),
            positions,
            working: e.open_orders().cloned().collect(),
            summary: e.summary(),
            strategy_positions_open: e.position_keeper().strategy_positions().iter().filter(|p| p.qty != 0).count(),
            breaker_tripped: e.circuit_breaker_tripped(),
            max_daily_loss_usd: e.config().limits.max_daily_loss_usd,
            max_order_qty: e.config().validation.max_order_qty,
        };
        self.dirty_book = false;
        self.dirty_marks = false;
        self.last_snapshot_wall = now;
        self.send(TradingUpdate::Snapshot(Box::new(snap)));
    }
}

/// What the panels see of trading: the UI thread's copy of the worker's reports.
#[derive(Debug, Clone, Default)]
pub struct TradingView {
    /// `None` when the app runs without a trading worker.
    pub status: Option<WorkerStatus>,
    pub snapshot: Option<TradingSnapshot>,
    /// Fills of the snapshot's trading date, oldest first.
    pub fills_today: Vec<BlotterLine>,
    /// Most recent last.
    pub activity: VecDeque<Activity>,
    pub blotter: BlotterView,
    /// Latest preview answer.
    pub preview: Option<(u64, Result<PreviewResult, TicketError>)>,
    /// Latest order entry answer.
    pub submitted: Option<(u64, Result<SubmitOutcome, TicketError>)>,
    /// Latest failed action.
    pub last_error: Option<ActionError>,
    /// Latest export answer.
    pub export: Option<(PathBuf, Result<usize, String>)>,
    /// Updates applied (for tests and diagnostics).
    pub updates_applied: u64,
}

impl TradingView {
    /// Applies one update from the worker (cheap: moves data, no I/O, no totals over rows).
    pub fn apply(&mut self, u: TradingUpdate) {
        self.updates_applied += 1;
        match u {
            TradingUpdate::Status(s) => self.status = Some(s),
            TradingUpdate::Snapshot(s) => {
                if self.snapshot.as_ref().is_some_and(|old| old.trading_date != s.trading_date) {
                    let d = s.trading_date;
                    self.fills_today.retain(|l| l.trading_date == d);
                }
                self.snapshot = Some(*s);
            }
            TradingUpdate::Activity(a) => {
                if self.activity.len() == ACTIVITY_CAP {
                    self.activity.pop_front();
                }
                self.activity.push_back(a);
            }
            TradingUpdate::Fill(l) => {
                if self.snapshot.as_ref().is_none_or(|s| s.trading_date <= l.trading_date) {
                    self.fills_today.push(l);
                }
            }
            TradingUpdate::FillsToday(v) => self.fills_today = v,
            TradingUpdate::Blotter(v) => self.blotter = *v,
            TradingUpdate::BlotterAppend { line, summary, attribution } => {
                if !self.blotter.strategies.iter().any(|s| **s == *line.strategy) {
                    self.blotter.strategies.push(line.strategy.to_string());
                    self.blotter.strategies.sort();
                }
                self.blotter.total_fills += 1;
                self.blotter.lines.push(line);
                self.blotter.summary = summary;
                self.blotter.attribution = attribution;
            }
            TradingUpdate::Preview { request_id, result } => self.preview = Some((request_id, result)),
            TradingUpdate::Submitted { request_id, result } => self.submitted = Some((request_id, result)),
            TradingUpdate::Exported { path, result } => self.export = Some((path, result)),
            TradingUpdate::Error(e) => {
                if self.activity.len() == ACTIVITY_CAP {
                    self.activity.pop_front();
                }
                self.activity.push_back(Activity {
                    ts: self.snapshot.as_ref().map_or(Timestamp(0), |s| s.as_of),
                    level: ActivityLevel::Error,
                    order_id: None,
                    text: format!("{} failed: {}", e.action, e.error),
                });
                self.last_error = Some(e);
            }
        }
    }

    /// Whether the worker accepts orders.
    pub fn ready(&self) -> bool {
        self.status == Some(WorkerStatus::Ready)
    }

    /// Open orders (empty before the first snapshot).
    pub fn working(&self) -> &[Order] {
        self.snapshot.as_ref().map_or(&[], |s| s.working.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_feeds::sim::{MarketSimulator, SimConfig};
    use crude_feeds::{FeedPoll, MarketFeed, SimFeed};
    use crude_model::{LiveClock, OrderStatus, PreTradeDecision};
    use crude_trading::LimitsConfig;
    use crude_trading::blotter::{attribution, blotter_rows, summarize};

    /// Wednesday 2026-11-18 10:00 ET.
    fn start() -> Timestamp {
        Timestamp::from_secs(1_795_014_000)
    }

    fn fill(id: u64, side: Side, qty: i64, price: f64, strategy: &str) -> Fill {
        Fill {
            fill_id: id,
            order_id: id,
            contract: ContractId::new(Market::Wti, crude_model::ContractMonth::new(2027, 1).unwrap()),
            side,
            qty,
            price,
            ts: Timestamp::from_secs(1_790_000_000 + id as i64),
            commission_usd: qty as f64,
            fees_usd: 0.5 * qty as f64,
            liquidity: Liquidity::Taker,
            strategy: strategy.into(),
        }
    }

    #[test]
    fn incremental_blotter_matches_the_trading_crate() {
        let inst = Instruments::builtin().unwrap();
        let fills = vec![
            fill(1, Side::Buy, 2, 70.0, "a"),
            fill(2, Side::Sell, 1, 71.0, "a"),
            fill(3, Side::Sell, 1, 69.5, "a"),
            fill(4, Side::Sell, 3, 70.0, "b"),
            fill(5, Side::Buy, 5, 68.0, "b"),
        ];
        let mut b = LineBuilder::default();
        let lines: Vec<BlotterLine> = fills.iter().map(|f| b.line(f, &inst)).collect();
        let rows = blotter_rows(&fills, &fills, &[], &inst);
        for (l, r) in lines.iter().zip(&rows) {
            assert_eq!(l.to_row(), *r);
        }
        let t = BlotterTotals::over(&lines);
        assert_eq!(t.summary(), summarize(&rows));
        assert_eq!(t.attribution(), attribution(&rows));
        let q = BlotterQuery { strategy: Some("b".into()), ..BlotterQuery::default() };
        assert_eq!(lines.iter().filter(|l| q.matches(l)).count(), 2);
        let q = BlotterQuery { market: Some(Market::Brent), ..BlotterQuery::default() };
        assert_eq!(lines.iter().filter(|l| q.matches(l)).count(), 0);
    }

    /// A worker over a temp database, fed by a seeded simulator.
    struct Rig {
        handle: TradingHandle,
        market: mpsc::Sender<FeedBatch>,
        feed: SimFeed,
        woke: std::sync::mpsc::Receiver<()>,
        view: TradingView,
        dir: tempfile::TempDir,
    }

    impl Rig {
        fn new(limits: LimitsConfig) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let cfg = TradingConfig { limits, ..TradingConfig::default() };
            let mut wc = TradingWorkerConfig::new(dir.path().join("t.db"), cfg, Arc::new(LiveClock)).unwrap();
            wc.snapshot_interval_ms = 5;
            let (tx, rx) = mpsc::channel(1 << 16);
            let (wtx, woke) = std::sync::mpsc::channel();
            let wtx = std::sync::Mutex::new(wtx);
            let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
                let _ = wtx.lock().map(|t| t.send(()));
            });
            let handle = TradingWorker::spawn(wc, rx, notify).unwrap();
            let mut feed =
                SimFeed::new(MarketSimulator::new(SimConfig { seed: 3, ..SimConfig::default() }, start()).unwrap(), 1);
            let history = feed.initial_events();
            tx.try_send(FeedBatch { events: history, sent_wall: Timestamp(0), history: true }).unwrap();
            let mut rig = Rig { handle, market: tx, feed, woke, view: TradingView::default(), dir };
            rig.advance(5);
            rig.wait(|v| v.ready() && v.snapshot.is_some());
            rig
        }

        /// Sends `secs` seconds of simulated market.
        fn advance(&mut self, secs: i64) {
            let t = self.feed.next_event_time().unwrap().add_nanos(secs * Timestamp::NANOS_PER_SEC);
            let mut out = Vec::new();
            assert_eq!(self.feed.poll(t, &mut out), FeedPoll::Pending);
            for chunk in out.chunks(256) {
                self.market
                    .try_send(FeedBatch { events: chunk.to_vec(), sent_wall: Timestamp(0), history: false })
                    .unwrap();
            }
        }

        /// Applies updates until `pred` holds (each wait is bounded by the worker's notify).
        fn wait(&mut self, pred: impl Fn(&TradingView) -> bool) {
            for _ in 0..2_000 {
                while let Some(u) = self.handle.try_recv() {
                    self.view.apply(u);
                }
                if pred(&self.view) {
                    return;
                }
                let _ = self.woke.recv_timeout(Duration::from_secs(10));
            }
            panic!("condition not reached; view: {:?}", self.view.status);
        }

        fn front(&self) -> ContractId {
            Market::Wti.front_contract(trading_date(start()))
        }

        fn db(&self) -> Db {
            Db::open_with(
                &self.dir.path().join("t.db"),
                &StoreOptions { create: false, integrity_check: false, ..StoreOptions::default() },
            )
            .unwrap()
        }
    }

    #[test]
    fn market_order_fills_and_is_durable_before_the_ui_sees_it() {
        let mut rig = Rig::new(LimitsConfig::default());
        let c = rig.front();
        rig.handle.send(TradingCommand::Preview { request_id: 1, request: OrderRequest::market(c, Side::Buy, 2) });
        rig.wait(|v| v.preview.is_some());
        let (_, p) = rig.view.preview.clone().unwrap();
        let p = p.unwrap();
        assert_eq!(p.pre_trade.decision, PreTradeDecision::Pass);
        assert_eq!(p.pre_trade.post_trade.as_ref().unwrap().var_usd, None);
        assert!(p.reference_price.is_some());
        rig.handle.send(TradingCommand::Submit { request_id: 2, request: OrderRequest::market(c, Side::Buy, 2) });
        rig.wait(|v| v.submitted.is_some());
        let (id, r) = rig.view.submitted.clone().unwrap();
        assert_eq!(id, 2);
        let outcome = r.unwrap();
        rig.advance(3);
        rig.wait(|v| !v.fills_today.is_empty());
        // The fill the UI was told about is already in the database.
        let line = rig.view.fills_today[0].clone();
        let stored = rig.db().load_all_fills().unwrap();
        assert!(stored.iter().any(|f| f.fill_id == line.fill_id && f.order_id == outcome.order_id));
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.position_qty(c) == 2));
        rig.wait(|v| v.blotter.lines.len() == 1);
        assert_eq!(rig.view.blotter.summary.fills, 1);
        assert!(rig.view.activity.iter().any(|a| a.level == ActivityLevel::Fill));
        // Export the blotter on the worker.
        rig.handle.send(TradingCommand::ExportBlotter { path: PathBuf::from("out.csv") });
        rig.wait(|v| v.export.is_some());
        let (path, n) = rig.view.export.clone().unwrap();
        assert_eq!(n, Ok(1));
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("fill_id,order_id"), "{text}");
        // Kill switch flattens.
        rig.handle.send(TradingCommand::KillSwitch);
        rig.advance(3);
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.position_qty(c) == 0 && s.working.is_empty()));
        let audit = rig.db().load_audit(Some(&[actions::KILL_SWITCH])).unwrap();
        assert_eq!(audit.len(), 1);
    }

    #[test]
    fn bad_input_names_the_field_and_writes_nothing() {
        let mut rig = Rig::new(LimitsConfig::default());
        let c = rig.front();
        let cases = [
            (OrderRequest::market(c, Side::Buy, 0), "qty"),
            (OrderRequest::limit(c, Side::Buy, 1, 70.005), "limit_price"),
            (OrderRequest::limit(c, Side::Buy, 1, f64::NAN), "limit_price"),
            (OrderRequest::limit(c, Side::Buy, 1, 7.0), "limit_price"),
            (
                OrderRequest::market(
                    ContractId::new(Market::Wti, crude_model::ContractMonth::new(2026, 11).unwrap()),
                    Side::Buy,
                    1,
                ),
                "contract",
            ),
        ];
        for (i, (req, field)) in cases.into_iter().enumerate() {
            let id = 10 + i as u64;
            rig.handle.send(TradingCommand::Submit { request_id: id, request: req });
            rig.wait(|v| v.submitted.as_ref().is_some_and(|(r, _)| *r == id));
            let err = rig.view.submitted.clone().unwrap().1.unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field), "{err}");
        }
        assert!(rig.db().load_all_orders().unwrap().is_empty());
    }

    #[test]
    fn circuit_breaker_blocks_new_risk_until_reset() {
        // Commission and fees alone exceed a $5 daily loss limit.
        let mut rig = Rig::new(LimitsConfig { max_daily_loss_usd: 5.0, ..LimitsConfig::default() });
        let c = rig.front();
        rig.handle.send(TradingCommand::Submit { request_id: 1, request: OrderRequest::market(c, Side::Buy, 2) });
        rig.advance(3);
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.breaker_tripped));
        rig.handle.send(TradingCommand::Submit { request_id: 2, request: OrderRequest::market(c, Side::Buy, 1) });
        rig.wait(|v| v.submitted.as_ref().is_some_and(|(r, _)| *r == 2));
        let o = rig.view.submitted.clone().unwrap().1.unwrap();
        assert_eq!(o.status, OrderStatus::Rejected);
        assert!(o.pre_trade.reasons.iter().any(|r| r.contains("circuit breaker")), "{:?}", o.pre_trade.reasons);
        rig.handle.send(TradingCommand::ResetCircuitBreaker);
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| !s.breaker_tripped));
        let audit = rig.db().load_audit(Some(&[actions::BREAKER_TRIP, actions::BREAKER_RESET])).unwrap();
        assert_eq!(audit.len(), 2);
    }
}
