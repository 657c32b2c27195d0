//! The trading service: the durable trading session (OMS, paper broker, positions over
//! SQLite), and the driver's view of what it reports.
//!
//! * The service receives market data (a fan-out of the feed, [`crude_feeds::FeedHandle::spawn_with_taps`])
//!   and user commands ([`TradingCommand`]) through channels. Every order event and fill is
//!   committed to SQLite by [`TradingSession`] *before* the service sends the matching
//!   [`TradingUpdate`], so whatever the UI shows is already durable.
//! * Live P&L: the engine re-marks positions on every quote; the service sends a
//!   [`TradingSnapshot`] (positions, working orders, P&L summary, circuit breaker) after
//!   every order event and at most every `snapshot_interval_ms` of wall time while only
//!   prices move. At most one snapshot is in flight: the next is sent only after the UI
//!   has taken the previous one, so a minimised window never piles them up.
//! * The blotter (every fill with its realised P&L and slippage) is kept on the service;
//!   filtering, totals, attribution and CSV export happen there, and the UI receives the
//!   filtered rows once per filter change plus one row per new fill.
//! * The engine's time comes only from market events: the session opens at the time of
//!   the first live (non-history) market event, so replayed and simulated markets trade on
//!   their own clock. History batches are not traded against; only their settlements are
//!   kept (the day P&L reference).
//!
//! * Spread orders (WTI-Brent, RB/HO cracks, the 3:2:1 crack) are previewed and entered as
//!   linked legs ([`TradingCommand::PreviewSpread`], [`TradingCommand::SubmitSpread`]); the
//!   snapshot groups the legs of each spread that is working or still held
//!   ([`SpreadPositionRow`]), and a spread is cancelled as one
//!   ([`TradingCommand::CancelSpread`]).
//! * The pre-trade check is the built-in limits check combined with the check supplied at
//!   run time ([`TradingCommand::SetPreTradeCheck`], e.g. the risk engine's VaR check): both
//!   run and the stricter result counts ([`CombinedCheck`]). The daily loss limit of the
//!   circuit breaker can change at run time ([`TradingCommand::SetDailyLossLimit`]) and
//!   limit edits are appended to the hash-chained audit log
//!   ([`TradingCommand::RecordLimitEdit`]).
//! * Marks are saved to the database at most every `marks_interval_ms` of wall time while
//!   prices move (and on shutdown), so a crash loses at most that much of the marks.
//!
//! The UI thread owns a [`TradingView`] (inside the store) and applies updates to it with
//! [`TradingView::apply`]; panels draw from it and never block.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use crude_feeds::FeedBatch;
use crude_model::{
    Clock, ContractId, Instruments, MarketEvent, ModelError, Order, OrderEventKind, OrderRequest, OrderStatus,
    OrderType, Position, PreTradeCheck, Side, Timestamp, trading_date,
};
use crude_store::{AuditEntry, Durability, SessionLock, Store as Db, StoreOptions};
use crude_trading::blotter::{
    BlotterBuilder, BlotterLine, BlotterQuery, BlotterRow, BlotterSummary, BlotterTotals, StrategyAttribution,
    write_csv,
};
use crude_trading::{
    AmendRequest, CombinedCheck, ConfigError, Engine, EngineEvent, LimitsCheck, LimitsConfig, PnlSummary,
    PreviewResult, SessionError, SharedCheck, SpreadOutcome, SpreadPreview, SpreadRequest, SubmitOutcome,
    TradingConfig, TradingError, TradingSession, actions, describe_audit, limit_edit_details, order_preview,
    spread_preview,
};

use crate::service::{self, CommandSender, Generational, Notify, Outbox, Service, ServiceHandle};
use crate::services::risk::{BookUpdate, RiskCommand};

/// Most activity entries the UI keeps.
pub const ACTIVITY_CAP: usize = 500;
/// Most spreads a snapshot lists (newest first).
pub const MAX_SPREAD_ROWS: usize = 100;

/// Why the service could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TradingServiceError {
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
pub struct TradingServiceConfig {
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
    /// Shortest wall-clock interval between two saves of the marks while prices move (a
    /// crash loses at most this much of them); they are also saved on shutdown.
    pub marks_interval_ms: u64,
    /// Report every committed engine event as [`TradingUpdate::Engine`] too (the command
    /// line prints them; the app does not need them).
    pub engine_events: bool,
}

impl std::fmt::Debug for TradingServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradingServiceConfig")
            .field("db_path", &self.db_path)
            .field("durability", &self.durability)
            .field("user", &self.user)
            .field("snapshot_interval_ms", &self.snapshot_interval_ms)
            .field("export_dir", &self.export_dir)
            .field("marks_interval_ms", &self.marks_interval_ms)
            .finish_non_exhaustive()
    }
}

impl TradingServiceConfig {
    /// Defaults: built-in instruments, the configuration's durability (full unless it says
    /// `synchronous: normal`), user `trader`, snapshots at most
    /// every 100 ms while only prices move, marks saved at most every 5 s, exports next to
    /// the database.
    ///
    /// # Errors
    /// [`TradingServiceError::Config`] when `trading` is invalid, [`TradingServiceError::Instruments`].
    pub fn new(
        db_path: impl Into<PathBuf>,
        trading: TradingConfig,
        wall: Arc<dyn Clock>,
    ) -> Result<Self, TradingServiceError> {
        trading.validate("trading config")?;
        let db_path = db_path.into();
        let export_dir = db_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(Self {
            db_path,
            durability: trading.synchronous.into(),
            trading,
            instruments: Instruments::builtin()?,
            user: "trader".into(),
            wall,
            snapshot_interval_ms: 100,
            export_dir,
            marks_interval_ms: 5_000,
            engine_events: false,
        })
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
    /// Whether the service has sent the blotter yet.
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

/// One leg of a spread as the Positions panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadLegRow {
    pub order_id: u64,
    pub contract: ContractId,
    /// Signed contracts per unit of spread (+ bought when the spread is bought).
    pub ratio: i64,
    /// The leg order's side and total quantity.
    pub side: Side,
    pub qty: i64,
    pub filled_qty: i64,
    pub avg_fill_price: Option<f64>,
    /// The contract's current price (mid, last trade or mark).
    pub mark: Option<f64>,
    pub status: OrderStatus,
}

/// A spread order with its legs: working, or filled with a leg contract still held.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadPositionRow {
    pub spread_id: u64,
    /// `WTI-Brent`, `RB crack`, `3:2:1 crack`.
    pub name: String,
    pub side: Side,
    /// Spread units ordered.
    pub qty: i64,
    /// Complete spread units filled (every leg filled for them).
    pub filled_units: i64,
    /// Whether a leg is still working.
    pub working: bool,
    /// The spread's price ($/bbl) from the legs' average fill prices, once every leg filled.
    pub entry_price: Option<f64>,
    /// The spread's price ($/bbl) now, from the legs' current prices.
    pub price: Option<f64>,
    /// P&L of the filled leg contracts at their current prices, before costs; `None` when
    /// a filled leg has no price.
    pub unrealized_pnl_usd: Option<f64>,
    /// In leg order.
    pub legs: Vec<SpreadLegRow>,
}

impl SpreadPositionRow {
    /// The row of the spread whose leg orders are `legs` (in leg order); `None` when they
    /// do not form one.
    fn of(legs: &[&Order], instruments: &Instruments, mark: impl Fn(ContractId) -> Option<f64>) -> Option<Self> {
        let req = SpreadRequest::from_leg_orders(legs).ok()?;
        let spread_id = legs.first()?.spread?.spread_id;
        let mut rows = Vec::with_capacity(legs.len());
        let mut pnl = Some(0.0);
        let mut filled_units = i64::MAX;
        for o in legs {
            let ratio = o.spread.map_or(1, |l| l.ratio);
            let m = mark(o.contract);
            filled_units = filled_units.min(o.filled_qty / ratio.abs().max(1));
            if o.filled_qty > 0 {
                pnl = match (pnl, m, o.avg_fill_price) {
                    (Some(total), Some(m), Some(avg)) => Some(
                        total
                            + o.side.sign() as f64
                                * o.filled_qty as f64
                                * (m - avg)
                                * instruments.multiplier(o.contract.market),
                    ),
                    _ => None,
                };
            }
            rows.push(SpreadLegRow {
                order_id: o.order_id,
                contract: o.contract,
                ratio,
                side: o.side,
                qty: o.qty,
                filled_qty: o.filled_qty,
                avg_fill_price: o.avg_fill_price,
                mark: m,
                status: o.status,
            });
        }
        let fill_price = |c: ContractId| legs.iter().find(|o| o.contract == c).and_then(|o| o.avg_fill_price);
        Some(Self {
            spread_id,
            name: req.name.clone(),
            side: req.side,
            qty: req.qty,
            filled_units: if filled_units == i64::MAX { 0 } else { filled_units },
            working: legs.iter().any(|o| o.is_open()),
            entry_price: req.price(instruments, fill_price),
            price: req.price(instruments, &mark),
            unrealized_pnl_usd: pnl,
            legs: rows,
        })
    }
}

/// The book at one moment, as the service last saw it.
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
    /// The open positions per strategy and contract (marked), for the risk engine's
    /// strategy concentration.
    pub strategy_positions: Vec<Position>,
    pub breaker_tripped: bool,
    pub max_daily_loss_usd: f64,
    /// Largest quantity one order may have (the validation limit), contracts.
    pub max_order_qty: i64,
    /// Spreads working or still held, newest first (at most [`MAX_SPREAD_ROWS`]).
    pub spreads: Vec<SpreadPositionRow>,
}

impl TradingSnapshot {
    /// The signed position in `contract`.
    pub fn position_qty(&self, contract: ContractId) -> i64 {
        self.positions.iter().find(|p| p.contract == contract).map_or(0, |p| p.qty)
    }

    /// The spread `spread_id`, when listed.
    pub fn spread(&self, spread_id: u64) -> Option<&SpreadPositionRow> {
        self.spreads.iter().find(|s| s.spread_id == spread_id)
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

/// The last save of the marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarksSaved {
    /// Engine (event) time of the marks saved.
    pub as_of: Timestamp,
    /// Contracts saved.
    pub count: usize,
    /// Saves since the service started.
    pub saves: u64,
}

/// A pre-trade check handed to the service at run time (e.g. the risk engine's VaR check),
/// for [`TradingCommand::SetPreTradeCheck`].
pub struct PreTradeCheckBox(pub Box<dyn PreTradeCheck + Send>);

impl PreTradeCheckBox {
    /// Boxes `check`.
    pub fn new(check: impl PreTradeCheck + Send + 'static) -> Self {
        Self(Box::new(check))
    }
}

impl std::fmt::Debug for PreTradeCheckBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreTradeCheckBox(..)")
    }
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

/// Where the service is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradingStatus {
    /// Opening the database.
    Starting,
    /// The database is open; the engine starts with the first live market event.
    WaitingForMarket,
    /// Trading.
    Ready,
    /// The market feed ended; orders stay as they are.
    MarketClosed,
    /// The service stopped (database error); restart the app to recover from the database.
    Stopped(String),
}

/// What the UI (or the shell) asks the service to do.
#[derive(Debug)]
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
    /// Validate and pre-trade check every leg of a spread together without entering it
    /// (answered with [`TradingUpdate::SpreadPreview`]).
    PreviewSpread {
        request_id: u64,
        request: SpreadRequest,
    },
    /// Enter a spread as linked legs (answered with [`TradingUpdate::SpreadSubmitted`]).
    SubmitSpread {
        request_id: u64,
        request: SpreadRequest,
    },
    /// Cancel every open leg of a spread.
    CancelSpread {
        spread_id: u64,
    },
    /// Run this check as well as the built-in limits check on every order and preview
    /// from now on (replacing a check supplied before); see [`CombinedCheck`].
    SetPreTradeCheck(PreTradeCheckBox),
    /// The limits of the limits-only check from now on (the kernel derives them from the
    /// risk limits in force); the daily loss stays the circuit breaker's
    /// ([`TradingCommand::SetDailyLossLimit`]).
    SetLimits(LimitsConfig),
    /// Let event time reach `ts` without market data (acknowledgements and expiries due by
    /// then happen); the inline kernel's drivers use it at the end of a run.
    AdvanceTo(Timestamp),
    /// Set the daily loss limit (USD, > 0) at which the circuit breaker trips; recorded
    /// in the audit log when it changes. Sent before the engine starts, it applies when
    /// the engine starts.
    SetDailyLossLimit(f64),
    /// Append a limit edit to the hash-chained audit log. `details` is JSON (an object
    /// describing the edit) or plain text (stored as `{"edit": text}`).
    RecordLimitEdit {
        details: String,
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
    /// Change the blotter filter (the service answers with [`TradingUpdate::Blotter`]).
    Blotter(BlotterQuery),
    /// Write the filtered blotter to a CSV file (relative paths: the export directory).
    ExportBlotter {
        path: PathBuf,
    },
}

/// What the service reports. Order events and fills are durable before they are sent.
#[derive(Debug, Clone, PartialEq)]
pub enum TradingUpdate {
    Status(TradingStatus),
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
    SpreadPreview {
        request_id: u64,
        result: Result<SpreadPreview, TicketError>,
    },
    SpreadSubmitted {
        request_id: u64,
        result: Result<SpreadOutcome, TicketError>,
    },
    /// The marks were saved to the database.
    MarksSaved(MarksSaved),
    /// A committed engine event, when [`TradingServiceConfig::engine_events`] asks for them.
    Engine(Box<EngineEvent>),
    Exported {
        path: PathBuf,
        result: Result<usize, String>,
    },
    Error(ActionError),
}

pub use super::trading_view::TradingView;

/// The driver's end of the running trading service.
pub type TradingHandle = ServiceHandle<TradingService>;

/// Short description of an order: `#12 buy 5 CLF7 limit 71.25`.
fn order_desc(o: &Order) -> String {
    let m = o.contract.market;
    let px = |p: Option<f64>| m.format_price(p);
    let price = match o.order_type {
        OrderType::Market => "market".to_string(),
        OrderType::Limit => format!("limit {}", px(o.limit_price)),
        OrderType::Stop => format!("stop {}", px(o.stop_price)),
        OrderType::StopLimit => format!("stop {} limit {}", px(o.stop_price), px(o.limit_price)),
    };
    format!("#{} {} {} {} {price}", o.order_id, o.side, o.qty, o.contract)
}

/// The trading service: the durable trading session over SQLite (see the module doc).
pub struct TradingService {
    cfg: TradingServiceConfig,
    out: Outbox<TradingUpdate>,
    /// The risk service, which receives the book with every snapshot.
    risk: Option<CommandSender<RiskCommand>>,
    /// A snapshot built while the driver had not taken the previous one.
    unsent_snapshot: Option<Box<TradingSnapshot>>,
    /// Generation of the last snapshot sent to the driver.
    sent_generation: u64,
    status: TradingStatus,
    _lock: Option<SessionLock>,
    /// The database until the session takes it.
    db: Option<Db>,
    session: Option<TradingSession>,
    /// Latest settlement per contract seen in history batches.
    settlements: BTreeMap<ContractId, MarketEvent>,
    lines: Vec<BlotterLine>,
    builder: BlotterBuilder,
    query: BlotterQuery,
    totals: BlotterTotals,
    generation: u64,
    dirty_book: bool,
    dirty_marks: bool,
    last_snapshot_wall: Timestamp,
    /// The check supplied at run time, combined with the limits check.
    extra_check: Option<SharedCheck>,
    /// The limits of the limits-only check, when set at run time.
    check_limits: Option<LimitsConfig>,
    /// A daily loss limit set before the engine started.
    pending_loss_limit: Option<f64>,
    /// Leg orders of every spread (this session's and the database's) by spread id and leg.
    spreads: BTreeMap<u64, BTreeMap<u8, Order>>,
    /// Prices moved since the marks were last saved.
    marks_unsaved: bool,
    last_marks_save_wall: Timestamp,
    marks_saves: u64,
}

impl TradingService {
    /// The service for `cfg`, reporting to `out`; `risk` (the risk service) receives the
    /// book with every snapshot. Nothing is opened until the runner starts it.
    ///
    /// # Errors
    /// [`TradingServiceError::Config`] for an invalid trading configuration.
    pub fn new(
        cfg: TradingServiceConfig,
        out: Outbox<TradingUpdate>,
        risk: Option<CommandSender<RiskCommand>>,
    ) -> Result<Self, TradingServiceError> {
        cfg.trading.validate("trading config")?;
        Ok(Self {
            cfg,
            out,
            risk,
            unsent_snapshot: None,
            sent_generation: 0,
            status: TradingStatus::Starting,
            _lock: None,
            db: None,
            session: None,
            settlements: BTreeMap::new(),
            lines: Vec::new(),
            builder: BlotterBuilder::default(),
            query: BlotterQuery::default(),
            totals: BlotterTotals::default(),
            generation: 0,
            dirty_book: false,
            dirty_marks: false,
            last_snapshot_wall: Timestamp(i64::MIN),
            extra_check: None,
            check_limits: None,
            pending_loss_limit: None,
            spreads: BTreeMap::new(),
            marks_unsaved: false,
            last_marks_save_wall: Timestamp(i64::MIN),
            marks_saves: 0,
        })
    }

    /// Starts the service alone on its own thread, reading `market` (tests and tools; the
    /// kernels wire it to the risk service).
    ///
    /// # Errors
    /// [`TradingServiceError::Config`], [`TradingServiceError::Spawn`].
    pub fn spawn(
        cfg: TradingServiceConfig,
        market: tokio::sync::mpsc::Receiver<FeedBatch>,
        notify: Notify,
    ) -> Result<TradingHandle, TradingServiceError> {
        service::start_alone(|out| Self::new(cfg, out, None), market, notify)
    }

    /// The database the service trades in.
    pub fn db_path(&self) -> &Path {
        &self.cfg.db_path
    }

    fn send(&mut self, u: TradingUpdate) {
        self.out.send(u);
    }

    fn set_status(&mut self, s: TradingStatus) {
        if self.status != s {
            self.status = s.clone();
            self.send(TradingUpdate::Status(s));
        }
    }

    fn stop(&mut self, why: String) {
        tracing::error!(reason = %why, "trading worker stopped");
        self.set_status(TradingStatus::Stopped(why));
    }

    /// How long the loop may sleep without market data or commands: until the next
    /// price-driven snapshot or save of the marks is due; `None` when nothing is due.
    fn wake(&self, tick: Duration) -> Option<Duration> {
        let snapshot = (self.dirty_book || self.dirty_marks).then_some(tick);
        let marks = self.marks_unsaved.then(|| {
            let elapsed_ms = self.cfg.wall.now().0.saturating_sub(self.last_marks_save_wall.0) / 1_000_000;
            let left_ms = i64::try_from(self.cfg.marks_interval_ms).unwrap_or(i64::MAX).saturating_sub(elapsed_ms);
            Duration::from_millis(left_ms.clamp(5, 5_000).unsigned_abs())
        });
        match (snapshot, marks) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Saves the marks when prices moved and `marks_interval_ms` of wall time passed since
    /// the last save.
    fn maybe_save_marks(&mut self) {
        if !self.marks_unsaved || matches!(self.status, TradingStatus::Stopped(_)) {
            return;
        }
        let now = self.cfg.wall.now();
        let interval_ns = i64::try_from(self.cfg.marks_interval_ms).unwrap_or(i64::MAX).saturating_mul(1_000_000);
        if now.0.saturating_sub(self.last_marks_save_wall.0) < interval_ns {
            return;
        }
        let Some(s) = self.session.as_mut() else { return };
        self.marks_unsaved = false;
        self.last_marks_save_wall = now;
        match s.save_marks() {
            Ok(()) => {
                self.marks_saves += 1;
                let saved =
                    MarksSaved { as_of: s.engine().now(), count: s.engine().marks().len(), saves: self.marks_saves };
                self.send(TradingUpdate::MarksSaved(saved));
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not save the marks");
                let ts = s.engine().now();
                self.activity(ts, ActivityLevel::Warning, None, format!("Marks not saved: {e}"));
            }
        }
    }

    /// Opens the database and loads the blotter.
    fn open_database(&mut self) {
        let path = self.cfg.db_path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            self.stop(format!("cannot create the database directory {}: {e}", dir.display()));
            return;
        }
        match SessionLock::acquire(&path) {
            Ok(l) => self._lock = Some(l),
            Err(e) => {
                self.stop(e.to_string());
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
                    self.note_spread(o);
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
        self.set_status(TradingStatus::WaitingForMarket);
    }

    fn close(&mut self) {
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
        if let Some(usd) = self.pending_loss_limit.take() {
            let user = self.cfg.user.clone();
            self.report("set daily loss limit".into(), |w, sink| w.set_daily_loss_limit(usd, &user, sink));
        }
        self.install_check();
        self.last_marks_save_wall = self.cfg.wall.now();
        // Yesterday's settlements from the history: the day P&L reference.
        let settlements: Vec<MarketEvent> = std::mem::take(&mut self.settlements).into_values().collect();
        for ev in &settlements {
            self.market_event(ev);
        }
        let today = self.session.as_ref().map(|s| trading_date(s.engine().now()));
        let fills_today: Vec<BlotterLine> =
            self.lines.iter().filter(|l| Some(l.trading_date) == today).cloned().collect();
        self.send(TradingUpdate::FillsToday(fills_today));
        self.set_status(TradingStatus::Ready);
        self.dirty_book = true;
    }

    fn on_batch(&mut self, b: &FeedBatch) {
        if matches!(self.status, TradingStatus::Stopped(_)) {
            return;
        }
        if b.history {
            for ev in b.events.iter() {
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
        for ev in b.events.iter() {
            match ev {
                MarketEvent::Status { .. } => continue,
                MarketEvent::Quote(_) | MarketEvent::Trade(_) | MarketEvent::Bar { .. } => self.marks_unsaved = true,
                _ => {}
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
        if self.cfg.engine_events {
            for ev in &evs {
                self.send(TradingUpdate::Engine(Box::new(ev.clone())));
            }
        }
        self.dirty_book = true;
        for ev in evs {
            match ev {
                EngineEvent::Order { order, event, .. } => {
                    self.builder.note_order(&order);
                    self.note_spread(&order);
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
                    self.note_spread(&order);
                    let line = self.builder.line(&fill, &self.cfg.instruments);
                    let text = format!(
                        "#{} filled {} {} {} @ {} ({} of {})",
                        order.order_id,
                        fill.side,
                        fill.qty,
                        fill.contract,
                        fill.contract.market.format_price(Some(fill.price)),
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
                        actions::SPREAD_ENTRY => (ActivityLevel::Info, describe_audit(&a)),
                        actions::LIMIT_EDIT => (ActivityLevel::Warning, describe_audit(&a)),
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
            TradingStatus::Stopped(why) => format!("trading has stopped: {why}"),
            TradingStatus::Starting => "the trading engine is starting; try again in a moment".to_string(),
            _ => "the trading engine is waiting for market data; orders can be entered once quotes arrive".to_string(),
        })
    }

    fn action_error(&mut self, action: String, error: TicketError) {
        self.send(TradingUpdate::Error(ActionError { action, error }));
    }

    fn command(&mut self, cmd: TradingCommand) {
        let user = self.cfg.user.clone();
        match cmd {
            TradingCommand::Preview { request_id, request } => {
                let result = match &self.session {
                    Some(s) if !matches!(self.status, TradingStatus::Stopped(_)) => {
                        let e = s.engine();
                        order_preview(e, &request, &self.cfg.instruments).map_err(|e| TicketError::of_trading(&e))
                    }
                    _ => Err(self.not_ready()),
                };
                self.send(TradingUpdate::Preview { request_id, result });
            }
            TradingCommand::Submit { request_id, mut request } => {
                request.user = user;
                let result = match self.status {
                    TradingStatus::Stopped(_) => None,
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
            TradingCommand::PreviewSpread { request_id, request } => {
                let result = match &self.session {
                    Some(s) if !matches!(self.status, TradingStatus::Stopped(_)) => {
                        spread_preview(s.engine(), &request, &self.cfg.instruments)
                            .map_err(|e| TicketError::of_trading(&e))
                    }
                    _ => Err(self.not_ready()),
                };
                self.send(TradingUpdate::SpreadPreview { request_id, result });
            }
            TradingCommand::SubmitSpread { request_id, mut request } => {
                request.user = user;
                let result = match self.status {
                    TradingStatus::Stopped(_) => None,
                    _ => self.with_session(|s, sink| s.submit_spread(&request, sink)),
                };
                let result = match result {
                    None => Err(self.not_ready()),
                    Some(r) => r.map_err(|e| TicketError::of_session(&e)),
                };
                self.send(TradingUpdate::SpreadSubmitted { request_id, result });
            }
            TradingCommand::CancelSpread { spread_id } => {
                self.report(format!("cancel spread {spread_id}"), |w, sink| w.cancel_spread(spread_id, &user, sink));
            }
            TradingCommand::SetPreTradeCheck(PreTradeCheckBox(check)) => {
                self.extra_check = Some(Arc::new(Mutex::new(check)));
                self.install_check();
                let ts = self.session.as_ref().map_or_else(|| self.cfg.wall.now(), |s| s.engine().now());
                self.activity(
                    ts,
                    ActivityLevel::Info,
                    None,
                    "Pre-trade check installed: the limits check and the supplied check both run".into(),
                );
                self.dirty_book = true;
            }
            TradingCommand::SetDailyLossLimit(usd) => self.set_daily_loss_limit(usd),
            TradingCommand::SetLimits(limits) => {
                self.check_limits = Some(limits);
                self.install_check();
                self.dirty_book = true;
            }
            TradingCommand::AdvanceTo(ts) => {
                self.report(format!("advance to {ts:?}"), |w, sink| w.advance_to(ts, sink));
            }
            TradingCommand::RecordLimitEdit { details } => self.record_limit_edit(&details),
            TradingCommand::CancelAll { contract: None } => {
                self.report("cancel all".into(), |w, sink| w.cancel_all(&user, sink).map(|_| ()));
            }
            TradingCommand::CancelAll { contract: Some(c) } => {
                self.report(format!("cancel all {c}"), |w, sink| w.cancel_contract(c, &user, sink).map(|_| ()));
            }
            TradingCommand::Liquidate { contract } => {
                self.report(format!("liquidate {contract}"), |w, sink| w.liquidate(contract, &user, sink).map(|_| ()));
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
        }
    }

    /// Installs the limits check (with the current limits) combined with the supplied check.
    fn install_check(&mut self) {
        let Some(s) = self.session.as_mut() else { return };
        let mut limits = self.check_limits.clone().unwrap_or_else(|| s.engine().config().limits.clone());
        // The daily loss is the circuit breaker's, changed only through its audited path.
        limits.max_daily_loss_usd = s.engine().config().limits.max_daily_loss_usd;
        let limits = LimitsCheck::new(limits, self.cfg.instruments.clone());
        s.set_check(Box::new(CombinedCheck::shared(limits, self.extra_check.clone())));
    }

    fn set_daily_loss_limit(&mut self, usd: f64) {
        let action = "set daily loss limit".to_string();
        if !(usd.is_finite() && usd > 0.0) {
            let e = TicketError {
                field: Some("max_daily_loss_usd".into()),
                message: format!("{usd} is not a positive number of US dollars; enter e.g. 250000"),
            };
            self.action_error(action, e);
            return;
        }
        if self.session.is_none() && !matches!(self.status, TradingStatus::Stopped(_)) {
            self.pending_loss_limit = Some(usd);
            // No event time before the engine starts: the activity line shows the wall time.
            let ts = self.cfg.wall.now();
            self.activity(
                ts,
                ActivityLevel::Info,
                None,
                format!("Daily loss limit ${usd:.0} applies when trading starts"),
            );
            return;
        }
        let user = self.cfg.user.clone();
        self.report(action, |w, sink| w.set_daily_loss_limit(usd, &user, sink));
        // The limits check warns on the day's loss against the limit: give it the new one.
        self.install_check();
        self.dirty_book = true;
    }

    /// Appends a limit edit to the audit log: through the session, or straight into the
    /// database (stamped with the wall-clock time) before the engine has started.
    fn record_limit_edit(&mut self, details: &str) {
        let action = "record limit edit".to_string();
        let json = limit_edit_details(details);
        let user = self.cfg.user.clone();
        if self.session.is_none()
            && !matches!(self.status, TradingStatus::Stopped(_))
            && let Some(db) = self.db.as_mut()
        {
            let entry = AuditEntry {
                ts: self.cfg.wall.now(),
                user,
                action: actions::LIMIT_EDIT.into(),
                details: json.to_string(),
            };
            match db.append_audit(&entry) {
                Ok(_) => {
                    let text = describe_audit(&entry);
                    self.activity(entry.ts, ActivityLevel::Warning, None, text);
                }
                Err(e) => self.action_error(action, TicketError::plain(e.to_string())),
            }
            return;
        }
        self.report(action, |w, sink| w.record_limit_edit(&user, json, sink));
    }

    /// Keeps the latest state of a spread leg.
    fn note_spread(&mut self, o: &Order) {
        if let Some(link) = o.spread {
            self.spreads.entry(link.spread_id).or_default().insert(link.leg, o.clone());
        }
    }

    /// Spreads with a working leg, or filled with a leg contract still held; newest first.
    fn spread_rows(&self, e: &Engine) -> Vec<SpreadPositionRow> {
        let held = |c: ContractId| e.position_keeper().position(c).is_some_and(|p| p.qty != 0);
        let mut out = Vec::new();
        for legs in self.spreads.values().rev() {
            if out.len() >= MAX_SPREAD_ROWS {
                break;
            }
            let legs: Vec<&Order> = legs.values().collect();
            let working = legs.iter().any(|o| o.is_open());
            let kept = legs.iter().any(|o| o.filled_qty > 0) && legs.iter().any(|o| held(o.contract));
            if !(working || kept) {
                continue;
            }
            if let Some(row) = SpreadPositionRow::of(&legs, &self.cfg.instruments, |c| e.reference_price(c)) {
                out.push(row);
            }
        }
        out
    }

    /// Runs a user action on the session; a failure is reported as [`TradingUpdate::Error`].
    fn report(
        &mut self,
        action: String,
        op: impl FnOnce(&mut TradingSession, &mut dyn FnMut(&EngineEvent)) -> Result<(), SessionError>,
    ) {
        if matches!(self.status, TradingStatus::Stopped(_)) {
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
            strategy_positions: e
                .position_keeper()
                .strategy_positions()
                .iter()
                .filter(|p| p.qty != 0)
                .cloned()
                .collect(),
            breaker_tripped: e.circuit_breaker_tripped(),
            max_daily_loss_usd: e.config().limits.max_daily_loss_usd,
            max_order_qty: e.config().validation.max_order_qty,
            spreads: self.spread_rows(e),
        };
        self.dirty_book = false;
        self.dirty_marks = false;
        self.last_snapshot_wall = now;
        // The risk service gets every book, whether or not the driver draws it.
        if let Some(risk) = &self.risk {
            let _ = risk.send(RiskCommand::Book(BookUpdate::from_trading(&snap)));
        }
        self.unsent_snapshot = Some(Box::new(snap));
        self.send_snapshot();
    }

    /// Sends the newest snapshot unless the driver has not taken the previous one yet.
    fn send_snapshot(&mut self) {
        let Some(snap) = self.unsent_snapshot.take() else { return };
        if self.out.in_flight(self.sent_generation) {
            self.unsent_snapshot = Some(snap);
            return;
        }
        self.sent_generation = snap.generation;
        self.send(TradingUpdate::Snapshot(snap));
    }
}

impl Service for TradingService {
    type Command = TradingCommand;
    type Update = TradingUpdate;
    type Background = ();
    const NAME: &'static str = "crude-trading";

    fn outbox(&mut self) -> &mut Outbox<TradingUpdate> {
        &mut self.out
    }

    fn start(&mut self) {
        self.open_database();
    }

    fn on_command(&mut self, cmd: TradingCommand) {
        self.command(cmd);
    }

    fn on_market(&mut self, batch: &FeedBatch) {
        self.on_batch(batch);
    }

    fn on_market_end(&mut self) {
        if self.session.is_some() {
            self.set_status(TradingStatus::MarketClosed);
        }
    }

    fn after_turn(&mut self) {
        self.maybe_snapshot();
        self.send_snapshot();
        self.maybe_save_marks();
    }

    fn next_wake(&self) -> Option<Duration> {
        let tick = Duration::from_millis(self.cfg.snapshot_interval_ms.clamp(5, 5_000));
        let unsent = self.unsent_snapshot.is_some().then_some(tick);
        match (self.wake(tick), unsent) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn finish(&mut self) {
        // The book as it is at the end, for a driver that reads it after the run.
        if self.session.is_some() {
            self.dirty_book = true;
            self.maybe_snapshot();
            self.send_snapshot();
        }
        self.close();
    }
}

impl Generational for TradingUpdate {
    fn generation(&self) -> Option<u64> {
        match self {
            TradingUpdate::Snapshot(s) => Some(s.generation),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_feeds::sim::{MarketSimulator, SimConfig};
    use crude_feeds::{FeedPoll, MarketFeed, SimFeed};
    use crude_model::{BookView, LiveClock, Market, OrderStatus, PostTradeMetrics, PreTradeDecision, PreTradeResult};
    use crude_trading::LimitsConfig;
    use std::collections::HashMap;
    use tokio::sync::mpsc;

    /// Wednesday 2026-11-18 10:00 ET.
    fn start() -> Timestamp {
        Timestamp::from_secs(1_795_014_000)
    }

    /// A worker over a temp database, fed by a seeded simulator.
    struct Rig {
        handle: TradingHandle,
        market: mpsc::Sender<FeedBatch>,
        feed: SimFeed,
        woke: std::sync::mpsc::Receiver<()>,
        view: TradingView,
        dir: tempfile::TempDir,
        /// Mid of the last quote sent, per contract.
        last_mid: HashMap<ContractId, f64>,
    }

    impl Rig {
        fn new(limits: LimitsConfig) -> Self {
            Self::build(limits, Arc::new(LiveClock), 5_000, Vec::new())
        }

        /// A rig whose worker paces by `wall`, saves marks at most every `marks_interval_ms`
        /// and receives `before_market` before any market data.
        fn build(
            limits: LimitsConfig,
            wall: Arc<dyn Clock>,
            marks_interval_ms: u64,
            before_market: Vec<TradingCommand>,
        ) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let cfg = TradingConfig { limits, ..TradingConfig::default() };
            let mut wc = TradingServiceConfig::new(dir.path().join("t.db"), cfg, wall).unwrap();
            wc.snapshot_interval_ms = 5;
            wc.marks_interval_ms = marks_interval_ms;
            let (tx, rx) = mpsc::channel(1 << 16);
            let (wtx, woke) = std::sync::mpsc::channel();
            let wtx = std::sync::Mutex::new(wtx);
            let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
                let _ = wtx.lock().map(|t| t.send(()));
            });
            let handle = TradingService::spawn(wc, rx, notify).unwrap();
            for c in before_market {
                assert!(handle.send(c));
            }
            let mut feed =
                SimFeed::new(MarketSimulator::new(SimConfig { seed: 3, ..SimConfig::default() }, start()).unwrap(), 1);
            let history = feed.initial_events();
            tx.try_send(FeedBatch { events: history.into(), sent_wall: Timestamp(0), history: true }).unwrap();
            let mut rig =
                Rig { handle, market: tx, feed, woke, view: TradingView::default(), dir, last_mid: HashMap::new() };
            rig.advance(5);
            rig.wait(|v| v.ready() && v.snapshot.is_some());
            rig
        }

        /// Sends `secs` seconds of simulated market.
        fn advance(&mut self, secs: i64) {
            let t = self.feed.next_event_time().unwrap().add_nanos(secs * Timestamp::NANOS_PER_SEC);
            let mut out = Vec::new();
            assert_eq!(self.feed.poll(t, &mut out), FeedPoll::Pending);
            for ev in &out {
                if let MarketEvent::Quote(q) = ev {
                    self.last_mid.insert(q.contract, q.mid());
                }
            }
            for chunk in out.chunks(256) {
                self.market
                    .try_send(FeedBatch { events: chunk.to_vec().into(), sent_wall: Timestamp(0), history: false })
                    .unwrap();
            }
        }

        /// Applies updates until `pred` holds (each wait is bounded by the service's notify).
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

        fn brent(&self) -> ContractId {
            Market::Brent.front_contract(trading_date(start()))
        }

        /// Returns once the service has applied every market batch sent so far and run a
        /// whole turn of its loop after them (snapshot and marks pacing included).
        fn sync(&mut self) {
            for _ in 0..10_000 {
                if self.market.capacity() == self.market.max_capacity() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(self.market.capacity(), self.market.max_capacity(), "the worker did not take the market data");
            // Two round trips: the first answer is sent in the middle of a turn, the second
            // after that turn has finished.
            for _ in 0..2 {
                self.view.blotter.loaded = false;
                self.handle.send(TradingCommand::Blotter(BlotterQuery::default()));
                self.wait(|v| v.blotter.loaded);
            }
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
        // Export the blotter on the service.
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

    /// A check with a fixed verdict (stands in for the risk engine's VaR check).
    struct Fixed {
        decision: PreTradeDecision,
        reason: &'static str,
        var_usd: Option<f64>,
    }

    impl PreTradeCheck for Fixed {
        fn check(&self, _: &OrderRequest, _: &BookView) -> PreTradeResult {
            PreTradeResult {
                decision: self.decision,
                reasons: vec![self.reason.to_string()],
                post_trade: self.var_usd.map(|v| PostTradeMetrics {
                    var_usd: Some(v),
                    utilisations: vec![("VaR".into(), 0.5)],
                    margin_usd: 1.0,
                }),
            }
        }
    }

    #[test]
    fn spread_preview_fill_grouped_position_and_cancel_as_one() {
        let mut rig = Rig::new(LimitsConfig::default());
        let (cl, bz) = (rig.front(), rig.brent());
        let s = SpreadRequest::wti_brent(cl, bz, Side::Buy, 2).unwrap();
        rig.sync();
        rig.handle.send(TradingCommand::PreviewSpread { request_id: 1, request: s.clone() });
        rig.wait(|v| v.spread_preview.is_some());
        let p = rig.view.spread_preview.clone().unwrap().1.unwrap();
        assert_eq!(p.pre_trade.decision, PreTradeDecision::Pass, "{:?}", p.pre_trade.reasons);
        assert_eq!(p.legs.iter().map(|l| (l.contract, l.side, l.qty)).collect::<Vec<_>>(), s.leg_orders());
        // The spread's price is CL − BZ at the legs' reference prices (the service's marks
        // when it made the preview: under load it may not have applied the rig's latest
        // quotes yet, so those are only close).
        let leg_price =
            |c: ContractId| p.legs.iter().find(|l| l.contract == c).and_then(|l| l.reference_price).unwrap();
        let expected = leg_price(cl) - leg_price(bz);
        assert!((p.spread_price.unwrap() - expected).abs() < 1e-9, "{:?} vs {expected}", p.spread_price);
        let latest = rig.last_mid[&cl] - rig.last_mid[&bz];
        assert!((expected - latest).abs() < 0.5, "{expected} vs the latest mids' {latest}");
        // Margin after: 2 CL + 2 BZ at their initial margins.
        let inst = Instruments::builtin().unwrap();
        let m = 2.0 * (inst.spec(Market::Wti).initial_margin_usd + inst.spec(Market::Brent).initial_margin_usd);
        assert!((p.pre_trade.post_trade.as_ref().unwrap().margin_usd - m).abs() < 1e-6);
        assert!(rig.db().load_all_orders().unwrap().is_empty(), "a preview writes nothing");
        // Enter it: both legs fill, the snapshot groups them.
        rig.handle.send(TradingCommand::SubmitSpread { request_id: 2, request: s });
        rig.wait(|v| v.spread_submitted.is_some());
        let out = rig.view.spread_submitted.clone().unwrap().1.unwrap();
        assert_eq!(out.legs.len(), 2);
        rig.advance(3);
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.spread(out.spread_id).is_some_and(|r| r.filled_units == 2)));
        let snap = rig.view.snapshot.clone().unwrap();
        assert_eq!((snap.position_qty(cl), snap.position_qty(bz)), (2, -2));
        let row = snap.spread(out.spread_id).unwrap();
        assert_eq!((row.name.as_str(), row.side, row.qty, row.working), ("WTI-Brent", Side::Buy, 2, false));
        let legs: Vec<(ContractId, i64, Side, i64)> =
            row.legs.iter().map(|l| (l.contract, l.ratio, l.side, l.filled_qty)).collect();
        assert_eq!(legs, vec![(cl, 1, Side::Buy, 2), (bz, -1, Side::Sell, 2)]);
        let entry = row.legs[0].avg_fill_price.unwrap() - row.legs[1].avg_fill_price.unwrap();
        assert!((row.entry_price.unwrap() - entry).abs() < 1e-9);
        assert!(row.price.is_some() && row.unrealized_pnl_usd.is_some());
        rig.wait(|v| v.activity.iter().any(|a| a.text.starts_with("Spread #1 WTI-Brent buy 2 entered by trader")));
        // A resting limit spread is listed as working and cancelled as one.
        let (cl_bid, bz_ask) = (rig.last_mid[&cl] - 0.30, rig.last_mid[&bz] + 0.30);
        let mut resting = SpreadRequest::wti_brent(cl, bz, Side::Buy, 1).unwrap();
        resting.legs[0].limit_price = Some((cl_bid * 100.0).round() / 100.0);
        resting.legs[1].limit_price = Some((bz_ask * 100.0).round() / 100.0);
        rig.handle.send(TradingCommand::SubmitSpread { request_id: 3, request: resting });
        rig.wait(|v| v.spread_submitted.as_ref().is_some_and(|(id, _)| *id == 3));
        let out2 = rig.view.spread_submitted.clone().unwrap().1.unwrap();
        rig.advance(1);
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.spread(out2.spread_id).is_some_and(|r| r.working)));
        assert_eq!(rig.view.snapshot.as_ref().unwrap().spreads[0].spread_id, out2.spread_id, "newest first");
        rig.handle.send(TradingCommand::CancelSpread { spread_id: out2.spread_id });
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.working.is_empty() && s.spread(out2.spread_id).is_none()));
        let stored = rig.db().load_all_orders().unwrap();
        let legs2: Vec<&Order> =
            stored.iter().filter(|o| o.spread.is_some_and(|l| l.spread_id == out2.spread_id)).collect();
        assert_eq!(legs2.len(), 2);
        assert!(legs2.iter().all(|o| o.status == OrderStatus::Cancelled));
        // An unknown spread is an error the UI sees.
        rig.handle.send(TradingCommand::CancelSpread { spread_id: 99 });
        rig.wait(|v| v.last_error.is_some());
        assert!(rig.view.last_error.as_ref().unwrap().error.message.contains("spread 99 does not exist"));
    }

    #[test]
    fn spread_rejected_by_the_check_and_bad_legs_name_the_leg() {
        let mut rig = Rig::new(LimitsConfig { max_contracts_per_contract: 5, ..LimitsConfig::default() });
        let (cl, bz) = (rig.front(), rig.brent());
        let s = SpreadRequest::wti_brent(cl, bz, Side::Sell, 6).unwrap();
        rig.handle.send(TradingCommand::SubmitSpread { request_id: 1, request: s });
        rig.wait(|v| v.spread_submitted.is_some());
        let out = rig.view.spread_submitted.clone().unwrap().1.unwrap();
        assert!(out.legs.iter().all(|l| l.status == OrderStatus::Rejected));
        assert!(out.legs[0].pre_trade.reasons.iter().any(|r| r.contains(&format!("contracts {cl}"))));
        let mut bad = SpreadRequest::wti_brent(cl, bz, Side::Buy, 1).unwrap();
        bad.legs[1].limit_price = Some(70.005);
        rig.handle.send(TradingCommand::PreviewSpread { request_id: 2, request: bad });
        rig.wait(|v| v.spread_preview.is_some());
        let err = rig.view.spread_preview.clone().unwrap().1.unwrap_err();
        assert!(err.message.contains(&format!("leg 1 ({bz})")) && err.message.contains("limit_price"), "{err}");
    }

    #[test]
    fn set_pre_trade_check_applies_to_previews_and_orders() {
        // Sent before any market data: installed when the engine starts.
        let check =
            Fixed { decision: PreTradeDecision::Reject, reason: "VaR limit: 120% of $1,000,000", var_usd: None };
        let mut rig = Rig::build(
            LimitsConfig::default(),
            Arc::new(LiveClock),
            5_000,
            vec![TradingCommand::SetPreTradeCheck(PreTradeCheckBox::new(check))],
        );
        let c = rig.front();
        rig.handle.send(TradingCommand::Preview { request_id: 1, request: OrderRequest::market(c, Side::Buy, 1) });
        rig.wait(|v| v.preview.is_some());
        let p = rig.view.preview.clone().unwrap().1.unwrap();
        assert_eq!(p.pre_trade.decision, PreTradeDecision::Reject);
        assert!(p.pre_trade.reasons.contains(&"VaR limit: 120% of $1,000,000".to_string()));
        rig.handle.send(TradingCommand::Submit { request_id: 2, request: OrderRequest::market(c, Side::Buy, 1) });
        rig.wait(|v| v.submitted.is_some());
        assert_eq!(rig.view.submitted.clone().unwrap().1.unwrap().status, OrderStatus::Rejected);
        assert!(rig.view.activity.iter().any(|a| a.text.starts_with("Pre-trade check installed")));
        // Replaced by a passing check: orders go through again, the check's VaR shows.
        let check = Fixed { decision: PreTradeDecision::Pass, reason: "VaR 10% of the limit", var_usd: Some(5_000.0) };
        rig.handle.send(TradingCommand::SetPreTradeCheck(PreTradeCheckBox::new(check)));
        rig.handle.send(TradingCommand::Preview { request_id: 3, request: OrderRequest::market(c, Side::Buy, 1) });
        rig.wait(|v| v.preview.as_ref().is_some_and(|(id, _)| *id == 3));
        let p = rig.view.preview.clone().unwrap().1.unwrap();
        assert_eq!(p.pre_trade.decision, PreTradeDecision::Pass);
        assert_eq!(p.pre_trade.post_trade.unwrap().var_usd, Some(5_000.0));
    }

    #[test]
    fn daily_loss_limit_set_before_and_during_trading() {
        // Set before any market data: it applies when the engine starts (and is audited).
        let mut rig = Rig::build(
            LimitsConfig::default(),
            Arc::new(LiveClock),
            5_000,
            vec![TradingCommand::SetDailyLossLimit(5.0)],
        );
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.max_daily_loss_usd == 5.0));
        assert!(rig.view.activity.iter().any(|a| a.text.contains("applies when trading starts")));
        let c = rig.front();
        // Commission and fees of 2 lots exceed $5: the breaker trips.
        rig.handle.send(TradingCommand::Submit { request_id: 1, request: OrderRequest::market(c, Side::Buy, 2) });
        rig.advance(3);
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.breaker_tripped));
        // A bad value is refused, naming the field.
        rig.handle.send(TradingCommand::SetDailyLossLimit(f64::NAN));
        rig.wait(|v| v.last_error.is_some());
        let e = rig.view.last_error.clone().unwrap();
        assert_eq!(e.error.field.as_deref(), Some("max_daily_loss_usd"));
        // Raised at run time: the breaker stays tripped until reset, then the new limit holds.
        rig.handle.send(TradingCommand::SetDailyLossLimit(1_000_000.0));
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| s.max_daily_loss_usd == 1_000_000.0));
        assert!(rig.view.snapshot.as_ref().unwrap().breaker_tripped);
        rig.handle.send(TradingCommand::ResetCircuitBreaker);
        rig.advance(2);
        rig.wait(|v| v.snapshot.as_ref().is_some_and(|s| !s.breaker_tripped));
        rig.handle.send(TradingCommand::Submit { request_id: 2, request: OrderRequest::market(c, Side::Buy, 1) });
        rig.wait(|v| v.submitted.as_ref().is_some_and(|(id, _)| *id == 2));
        assert_ne!(rig.view.submitted.clone().unwrap().1.unwrap().status, OrderStatus::Rejected);
        rig.wait(|v| v.activity.iter().any(|a| a.text.contains("Daily loss limit changed from $5 to $1000000")));
        let db = rig.db();
        let edits = db.load_audit(Some(&[actions::LIMIT_EDIT])).unwrap();
        assert_eq!(edits.len(), 2, "{edits:?}");
        assert!(db.verify_audit_chain().unwrap().is_ok());
    }

    #[test]
    fn limit_edits_are_appended_to_the_audit_chain() {
        let before = r#"{"limit": "max_gross_notional_usd", "old": 5e7, "new": 4e7}"#;
        let mut rig = Rig::build(
            LimitsConfig::default(),
            Arc::new(LiveClock),
            5_000,
            vec![TradingCommand::RecordLimitEdit { details: before.into() }],
        );
        rig.handle.send(TradingCommand::RecordLimitEdit { details: "VaR limit raised to $2,000,000".into() });
        rig.wait(|v| v.activity.iter().filter(|a| a.text.starts_with("Limit edit recorded by trader")).count() == 2);
        let db = rig.db();
        let rows = db.load_audit(Some(&[actions::LIMIT_EDIT])).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].details.contains("max_gross_notional_usd"), "{}", rows[0].details);
        assert!(rows[1].details.contains(r#""edit":"VaR limit raised to $2,000,000""#), "{}", rows[1].details);
        assert!(rows.iter().all(|r| r.user == "trader"));
        let v = db.verify_audit_chain().unwrap();
        assert!(v.is_ok(), "{v:?}");
    }

    #[test]
    fn marks_are_saved_at_most_every_interval_of_wall_time() {
        let wall = Arc::new(crude_model::SimClock::new(Timestamp::from_secs(1_000)));
        let mut rig = Rig::build(LimitsConfig::default(), wall.clone(), 5_000, Vec::new());
        let c = rig.front();
        let stored = |rig: &Rig| rig.db().load_marks().unwrap().into_iter().find(|m| m.contract == c).map(|m| m.price);
        // Prices move, but 5 s of wall time have not passed: nothing saved yet.
        rig.advance(5);
        rig.sync();
        assert_eq!(rig.view.marks_saved, None);
        assert_eq!(stored(&rig), None);
        rig.advance(2);
        rig.sync();
        assert_eq!(rig.view.marks_saved, None);
        // Once 5 s of wall time have passed, the prices are saved while the service runs (no
        // shutdown needed).
        wall.advance_to(Timestamp::from_secs(1_005));
        rig.sync();
        let first = rig.view.marks_saved.expect("marks saved");
        assert_eq!(first.saves, 1);
        assert!(first.count >= 8, "{first:?}");
        let saved_mid = rig.last_mid[&c];
        assert_eq!(stored(&rig), Some(saved_mid));
        let saved = rig.last_mid.clone();
        // More prices within the interval: not saved again.
        rig.advance(30);
        rig.sync();
        assert_eq!(rig.view.marks_saved.map(|m| m.saves), Some(1));
        let moved: Vec<ContractId> =
            rig.last_mid.iter().filter(|(k, v)| saved.get(k) != Some(v)).map(|(k, _)| *k).collect();
        assert!(!moved.is_empty(), "the market moved");
        let db_marks = rig.db().load_marks().unwrap();
        for k in &moved {
            let in_db = db_marks.iter().find(|m| m.contract == *k).map(|m| m.price);
            assert_eq!(in_db, saved.get(k).copied(), "{k} was saved again within the interval");
        }
        // Once the interval has passed, the last prices are saved even with no new data.
        wall.advance_to(Timestamp::from_secs(1_010));
        rig.sync();
        assert_eq!(rig.view.marks_saved.map(|m| m.saves), Some(2));
        let db_marks = rig.db().load_marks().unwrap();
        for k in &moved {
            let in_db = db_marks.iter().find(|m| m.contract == *k).map(|m| m.price);
            assert_eq!(in_db, Some(rig.last_mid[k]), "{k}");
        }
        // Nothing moved since: no further saves.
        wall.advance_to(Timestamp::from_secs(1_100));
        rig.sync();
        assert_eq!(rig.view.marks_saved.map(|m| m.saves), Some(2));
    }
}
