//! The risk service: the risk engine recalculating VaR/ES, stress tests, limit utilisation,
//! drawdown and Greeks for the current book as prices move, the pre-trade check it hands
//! the trading service, and the driver's view of what it reports.
//!
//! * **Inputs.** A tap of the feed ([`crude_feeds::FeedBatch`]) for marks — each
//!   contract's latest quote mid, curve point or settlement, whichever is newest in event
//!   time — and [`RiskCommand`]s: the book from the trading worker ([`BookUpdate`]), the
//!   stress sliders, a limits edit to save, a forced recalculation.
//! * **Return history** ([`RiskHistorySource`]): simulated joint daily returns of every
//!   curve contract over the last days of the anchored simulated history
//!   ([`crude_feeds::simulate_anchored_history`], ending the trading date before the feed's
//!   first event and shared with the curve service through [`crude_feeds::SharedSimHistory`];
//!   simulator mode; the panel says "returns: simulated history, N days" and never presents
//!   it as real), a CSV of daily prices (see [`parse_daily_csv`]), or none (the panel says
//!   VaR is unavailable and why). History columns are tenors (`CL1`, `CL2`, …) or specific contracts; tenors are
//!   tied to the contracts live on the latest market date, and re-tied when the front
//!   month rolls. The history is built on a thread of its own while the service keeps
//!   reading the feed (a full tap would make the feed wait).
//! * **Recalculation** runs [`RiskEngine::snapshot`] immediately when the positions, the
//!   limits or the sliders change (or on [`RiskCommand::Recalculate`]), and at most every
//!   `debounce_ms` of wall time (default 500 ms) while only prices move. At most one
//!   snapshot is in flight: the next is computed only after the UI has taken the previous
//!   one, so a minimised window never piles them up. The wall clock is read only for this
//!   pacing and for the "computed … ago" age; every figure is stamped with event time.
//! * **Limits** come in the service's configuration (loaded by the app from
//!   `config/risk_limits.yaml` and the environment). [`RiskCommand::SaveLimits`] validates,
//!   saves atomically to the YAML path, applies the limits and reports
//!   [`RiskUpdate::LimitsSaved`] with a description for the audit log; an invalid edit is
//!   reported with the field at fault and the previous limits stay in force.
//!
//! The UI thread owns a [`RiskView`] and applies updates to it with [`RiskHandle::drain`];
//! applying a snapshot also runs the limit alerts ([`crate::panels::alerts::LimitAlerts`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use crude_feeds::sim::SimConfig;
use crude_feeds::{DailyPrices, FeedBatch, HistoryFileError, SharedSimHistory, parse_daily_prices, read_daily_prices};
use crude_model::{Clock, ContractId, Market, MarketEvent, Position, Symbol, Timestamp, parse_symbol, trading_date};
use crude_risk::{
    BookPosition, CovarianceMethod, LimitUtilisation, LimitsError, PnlState, PortfolioRiskConfig, ReturnHistory,
    RiskBook, RiskEngine, RiskEngineConfig, RiskLimits, RiskSnapshot, Sliders, StressScenario,
};
use crude_trading::LimitsConfig;
use tokio::sync::mpsc;

use crate::service::{self, BackgroundJob, CommandSender, Generational, Notify, Outbox, Service, ServiceHandle, View};
use crate::services::trading::{PreTradeCheckBox, TradingCommand, TradingSnapshot};
use crude_risk::LimitAlerts;

/// Default shortest wall-clock interval between recalculations while only prices move.
pub const DEFAULT_DEBOUNCE_MS: u64 = 500;
/// Default trading days of simulated history: a 500-day VaR window plus 250 out-of-sample
/// days for the VaR backtest, and a margin.
pub const DEFAULT_SIM_HISTORY_DAYS: usize = 760;
/// Most updates [`RiskHandle::drain`] applies in one call.
pub const DRAIN_MAX_UPDATES: usize = 64;
/// How often the service looks again while the UI has not taken the last snapshot.
const IN_FLIGHT_POLL_MS: u64 = 50;

/// Why the service could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RiskServiceError {
    /// The limits in the configuration are invalid.
    #[error("risk limits: {0}")]
    Limits(#[from] LimitsError),
    /// A setting of the service is out of range.
    #[error("risk worker setting {field}: {reason}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// The operating system refused to start the thread.
    #[error("cannot start the risk thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// Where the joint daily returns behind VaR come from.
#[derive(Debug, Clone, PartialEq)]
pub enum RiskHistorySource {
    /// Simulator mode: the last `days` trading days before the live date of the anchored
    /// simulated history (every market, every curve month), shared with the other services
    /// of the kernel that use it. Built once the feed's first event gives the live date.
    /// Labelled as simulated history on screen.
    Simulated {
        /// The simulated history (the app passes the live feed's simulator config).
        history: SharedSimHistory,
        /// Trading days of settlements (at least the VaR window + 1).
        days: usize,
    },
    /// A CSV of daily prices, `date,<code>,<code>…` (see [`parse_daily_csv`]).
    Daily(PathBuf),
    /// No history: VaR is unavailable; `reason` is shown to the user.
    None {
        /// Why there is no history and how to get one.
        reason: String,
    },
}

impl RiskHistorySource {
    /// Simulated history of [`DEFAULT_SIM_HISTORY_DAYS`] days of the simulator `config`,
    /// not shared.
    pub fn simulated(config: SimConfig) -> Self {
        Self::simulated_days(config, DEFAULT_SIM_HISTORY_DAYS)
    }

    /// Simulated history of `days` trading days of the simulator `config`, not shared.
    pub fn simulated_days(config: SimConfig, days: usize) -> Self {
        Self::shared(SharedSimHistory::new(config), days)
    }

    /// `days` trading days of the simulated history `history`, shared with its other
    /// holders (the one simulation covers the longest request).
    pub fn shared(history: SharedSimHistory, days: usize) -> Self {
        history.request(days);
        Self::Simulated { history, days }
    }

    /// The simulated history, when this source is one.
    pub fn sim_history(&self) -> Option<&SharedSimHistory> {
        match self {
            Self::Simulated { history, .. } => Some(history),
            _ => None,
        }
    }
}

/// How the risk worker runs.
#[derive(Clone)]
pub struct RiskServiceConfig {
    /// The limits in force at start (the app loads them from the YAML file and the
    /// environment).
    pub limits: RiskLimits,
    /// Where [`RiskCommand::SaveLimits`] writes (`config/risk_limits.yaml`).
    pub limits_path: PathBuf,
    /// Where the return history comes from.
    pub history: RiskHistorySource,
    /// Net asset value for the `% of NAV` figures, USD.
    pub nav_usd: f64,
    /// VaR window, days (default 500; shortened to the history when it is shorter).
    pub window_days: usize,
    /// Monte Carlo paths (default 100,000).
    pub mc_paths: usize,
    /// Covariance estimator (default sample).
    pub covariance: CovarianceMethod,
    /// Stress scenarios (default: the built-in historical scenarios).
    pub scenarios: Vec<StressScenario>,
    /// Bins of the Monte Carlo P&L histogram (default 60).
    pub histogram_bins: usize,
    /// Wall clock, only to pace recalculations and stamp when they were made.
    pub wall: Arc<dyn Clock>,
    /// Shortest wall-clock interval between recalculations while only prices move.
    pub debounce_ms: u64,
    /// Keep the pre-trade check, the limits and the circuit breaker current but compute no
    /// snapshots (VaR/ES, stress, Monte Carlo): for drivers that show no Risk panel, such
    /// as the command line.
    pub check_only: bool,
}

impl std::fmt::Debug for RiskServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskServiceConfig")
            .field("limits_path", &self.limits_path)
            .field("history", &self.history)
            .field("nav_usd", &self.nav_usd)
            .field("window_days", &self.window_days)
            .field("mc_paths", &self.mc_paths)
            .field("debounce_ms", &self.debounce_ms)
            .finish_non_exhaustive()
    }
}

impl RiskServiceConfig {
    /// Defaults: a 500-day window, 100,000 Monte Carlo paths, sample covariance, the
    /// built-in stress scenarios, a 60-bin histogram, 500 ms debounce.
    ///
    /// # Errors
    /// [`RiskServiceError::Limits`] when `limits` do not validate, [`RiskServiceError::Config`]
    /// for a NAV that is not a positive number.
    pub fn new(
        limits: RiskLimits,
        limits_path: impl Into<PathBuf>,
        history: RiskHistorySource,
        nav_usd: f64,
        wall: Arc<dyn Clock>,
    ) -> Result<Self, RiskServiceError> {
        let limits_path = limits_path.into();
        let cfg = Self {
            limits,
            limits_path,
            history,
            nav_usd,
            window_days: crude_risk::DEFAULT_PORTFOLIO_WINDOW,
            mc_paths: crude_risk::MC_DRAWS,
            covariance: CovarianceMethod::Sample,
            scenarios: crude_risk::builtin_scenarios(),
            histogram_bins: crude_risk::DEFAULT_HISTOGRAM_BINS,
            wall,
            debounce_ms: DEFAULT_DEBOUNCE_MS,
            check_only: false,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// As [`Self::new`], plus [`RiskServiceError::Config`] for a window under 2 days, fewer
    /// than 1,000 Monte Carlo paths or no histogram bins.
    pub fn validate(&self) -> Result<(), RiskServiceError> {
        self.limits.validate(&self.limits_path.display().to_string())?;
        let bad = |field, reason: &str| Err(RiskServiceError::Config { field, reason: reason.to_string() });
        if !(self.nav_usd.is_finite() && self.nav_usd > 0.0) {
            return bad("nav_usd", "the NAV must be a positive number of USD");
        }
        if self.window_days < 2 {
            return bad("window_days", "use a VaR window of at least 2 days (default 500)");
        }
        if self.mc_paths < 1_000 {
            return bad("mc_paths", "use at least 1,000 Monte Carlo paths (default 100,000)");
        }
        if self.histogram_bins == 0 {
            return bad("histogram_bins", "use at least one histogram bin (default 60)");
        }
        Ok(())
    }
}

/// The book as the trading worker last reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookUpdate {
    /// Event time of the positions.
    pub as_of: Timestamp,
    /// Positions (flat ones are ignored); `mark` is used when the feed has no newer price.
    pub positions: Vec<Position>,
    /// Day P&L net of costs, USD.
    pub day_pnl_usd: f64,
}

impl BookUpdate {
    /// The book of a trading snapshot: its open positions per strategy and contract, so
    /// the strategy concentration limit sees each strategy's share. The marks are the
    /// snapshot's (the aggregate rows'), used when the feed has no newer price.
    pub fn from_trading(snapshot: &TradingSnapshot) -> Self {
        let marks: std::collections::HashMap<ContractId, Option<f64>> =
            snapshot.positions.iter().map(|p| (p.contract, p.mark)).collect();
        let positions = snapshot
            .strategy_positions
            .iter()
            .filter(|p| p.qty != 0)
            .map(|p| {
                let mut pos = p.clone();
                if pos.mark.is_none() {
                    pos.mark = marks.get(&p.contract).copied().flatten();
                }
                pos
            })
            .collect();
        Self { as_of: snapshot.as_of, positions, day_pnl_usd: snapshot.summary.day_pnl_net_usd }
    }

    /// What changes VaR immediately: contract, strategy and quantity of each open position.
    fn holdings(&self) -> Vec<(ContractId, Option<&str>, i64)> {
        let mut v: Vec<_> =
            self.positions.iter().filter(|p| p.qty != 0).map(|p| (p.contract, p.strategy.as_deref(), p.qty)).collect();
        v.sort();
        v
    }
}

/// What the UI asks the service to do.
#[derive(Debug, Clone, PartialEq)]
pub enum RiskCommand {
    /// The current book (send it whenever the trading snapshot changes; a change of
    /// positions recalculates at once, a change of marks or P&L only is debounced).
    Book(BookUpdate),
    /// New stress sliders (recalculates at once).
    SetSliders(Sliders),
    /// Validate, save and apply new limits.
    SaveLimits(Box<RiskLimits>),
    /// Re-read the limits file (with the environment overrides); an invalid file is
    /// refused with its entry and field named and the limits in force stay.
    ReloadLimits,
    /// Recalculate now.
    Recalculate,
}

/// Where the service is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RiskStatus {
    /// The thread is starting.
    Starting,
    /// Building the return history (a simulated history first waits for the feed's first
    /// event: it ends at the live date).
    LoadingHistory,
    /// Ready; no book has arrived yet.
    WaitingForBook,
    /// Recalculating as the book and prices change.
    Ready,
    /// No return history: VaR, stress and Greeks are unavailable (the reason says why).
    Unavailable(String),
}

/// The return history behind the figures, as the panel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnHistoryInfo {
    /// One line for the panel: `returns: simulated history, 519 days`.
    pub description: String,
    /// Whether the history is simulated.
    pub simulated: bool,
    /// Days of returns.
    pub days: usize,
    /// Column names (`CL1`, `CLF27`, …).
    pub columns: Vec<String>,
}

/// One recalculation: the engine's snapshot plus what it was computed for.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskComputed {
    /// Increases with every snapshot.
    pub generation: u64,
    /// The engine's figures.
    pub snapshot: RiskSnapshot,
    /// Event time of the newest price used.
    pub prices_as_of: Option<Timestamp>,
    /// Event time of the book's positions.
    pub book_as_of: Timestamp,
    /// Wall time when the figures were computed.
    pub computed_wall: Timestamp,
    /// Open positions the figures cover.
    pub open_positions: usize,
    /// Positions left out because no price is known for them.
    pub unpriced: Vec<ContractId>,
    /// The stress sliders applied.
    pub sliders: Sliders,
}

/// What the service reports.
#[derive(Debug, Clone, PartialEq)]
pub enum RiskUpdate {
    /// The service's status changed.
    Status(RiskStatus),
    /// The return history is built.
    History(ReturnHistoryInfo),
    /// The limits in force (at start and after every save).
    Limits(Box<RiskLimits>),
    /// A recalculation.
    Snapshot(Box<RiskComputed>),
    /// A recalculation failed (the previous snapshot, if any, stays on screen, dated).
    Error(String),
    /// Limits were saved and applied; `details` is for the audit log.
    LimitsSaved {
        /// What changed, for the audit log.
        details: String,
    },
    /// A limits edit was refused; the previous limits stay in force.
    LimitsRejected(LimitsError),
    /// The VaR-based pre-trade check of the engine now in force (new history or limits),
    /// for the shell to install in the trading worker.
    PreTradeCheck(PreTradeCheckUpdate),
    /// The limits file was re-read and is what is in force already.
    LimitsReloaded { details: String },
}

/// A pre-trade check built from the risk engine (compared by the limits it applies).
#[derive(Debug, Clone)]
pub struct PreTradeCheckUpdate(pub crude_risk::RiskPreTradeCheck);

impl PartialEq for PreTradeCheckUpdate {
    fn eq(&self, other: &Self) -> bool {
        self.0.limits() == other.0.limits()
    }
}

/// What the Risk panel sees: the UI thread's copy of the service's reports.
#[derive(Debug, Clone, Default)]
pub struct RiskView {
    /// `None` until the service reports.
    pub status: Option<RiskStatus>,
    /// The return history, once built.
    pub history: Option<ReturnHistoryInfo>,
    /// The limits in force.
    pub limits: Option<RiskLimits>,
    /// Increases each time the limits in force change (the editor reloads).
    pub limits_generation: u64,
    /// The latest recalculation.
    pub latest: Option<RiskComputed>,
    /// The last recalculation error, cleared by the next snapshot.
    pub error: Option<String>,
    /// Answer to the last limits save: the audit details or the refusal.
    pub save_result: Option<Result<String, LimitsError>>,
    /// Limit alerts raised by the snapshots applied.
    pub alerts: LimitAlerts,
    /// Updates applied (for tests and diagnostics).
    pub updates_applied: u64,
}

impl RiskView {
    /// Applies one update from the service (cheap: moves data; a snapshot runs the alert
    /// rules over its limit utilisations at the snapshot's event time).
    pub fn apply(&mut self, u: RiskUpdate) {
        self.updates_applied += 1;
        match u {
            RiskUpdate::Status(s) => self.status = Some(s),
            RiskUpdate::History(h) => self.history = Some(h),
            RiskUpdate::Limits(l) => {
                self.limits = Some(*l);
                self.limits_generation += 1;
            }
            RiskUpdate::Snapshot(c) => {
                let s = &c.snapshot;
                let mut all: Vec<LimitUtilisation> = s.limits.clone();
                all.extend(s.drawdown.limits.iter().filter(|d| !s.limits.iter().any(|l| l.key == d.key)).cloned());
                self.alerts.observe(&all, s.as_of);
                self.error = None;
                self.latest = Some(*c);
            }
            RiskUpdate::Error(e) => self.error = Some(e),
            RiskUpdate::LimitsSaved { details } => {
                self.save_result = Some(Ok(details));
            }
            RiskUpdate::LimitsRejected(e) => self.save_result = Some(Err(e)),
            RiskUpdate::PreTradeCheck(_) => {}
            RiskUpdate::LimitsReloaded { details } => self.save_result = Some(Ok(details)),
        }
    }
}

/// The driver's end of the running risk service.
pub type RiskHandle = ServiceHandle<RiskService>;

impl View<RiskUpdate> for RiskView {
    fn apply(&mut self, u: RiskUpdate) {
        RiskView::apply(self, u);
    }
}

impl Generational for RiskUpdate {
    fn generation(&self) -> Option<u64> {
        match self {
            RiskUpdate::Snapshot(s) => Some(s.generation),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Return history
// ---------------------------------------------------------------------------------------

/// A return history that could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReturnHistoryError {
    /// The daily prices file cannot be read or is wrong (the file, line and column).
    #[error("{0}")]
    File(#[from] HistoryFileError),
    /// The simulator refused its settings, or too few days remain.
    #[error("simulated history: {0}")]
    Simulation(String),
    /// The operating system refused to start the thread that builds the history.
    #[error("cannot start the history thread: {0}")]
    Thread(String),
    /// The thread building the history stopped without an answer (a bug: see the log).
    #[error("the history builder stopped without a result")]
    Stopped,
}

/// What a history column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKey {
    /// The `n`-th contract of a market (1 = front) on the day the figures are for.
    Generic { market: Market, n: u32 },
    /// One contract.
    Specific(ContractId),
}

impl ColumnKey {
    fn resolve(self, date: NaiveDate) -> ContractId {
        match self {
            ColumnKey::Generic { market, n } => market.nth_contract(date, n),
            ColumnKey::Specific(c) => c,
        }
    }

    fn label(self) -> String {
        match self {
            ColumnKey::Generic { market, n } => format!("{}{n}", market.code()),
            ColumnKey::Specific(c) => crude_model::code_two_digit(&c),
        }
    }
}

/// Joint daily log returns, before the columns are tied to contracts.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryTable {
    keys: Vec<ColumnKey>,
    returns_by_day: Vec<Vec<f64>>,
    info: ReturnHistoryInfo,
}

impl HistoryTable {
    /// How the panel describes it.
    pub fn info(&self) -> &ReturnHistoryInfo {
        &self.info
    }

    /// Days of returns.
    pub fn days(&self) -> usize {
        self.returns_by_day.len()
    }

    /// The history with tenor columns tied to the contracts live on `date` (a column that
    /// resolves to a contract already taken is left out).
    ///
    /// # Errors
    /// As [`ReturnHistory::new`].
    pub fn resolve(&self, date: NaiveDate) -> Result<ReturnHistory, crude_risk::RiskError> {
        let mut contracts = Vec::with_capacity(self.keys.len());
        let mut keep = Vec::with_capacity(self.keys.len());
        for (i, k) in self.keys.iter().enumerate() {
            let c = k.resolve(date);
            if !contracts.contains(&c) {
                contracts.push(c);
                keep.push(i);
            }
        }
        let rows: Vec<Vec<f64>> =
            self.returns_by_day.iter().map(|day| keep.iter().map(|&i| day[i]).collect()).collect();
        ReturnHistory::new(contracts, &rows)
    }
}

/// Simulated joint daily log returns of every curve month of every market: the last `days`
/// trading days before `live_date` of the anchored simulated history `history` (see
/// [`crude_feeds::simulate_anchored_history`]; the history is simulated once for every
/// service sharing it). A tenor's return on a day is the return of the
/// contract at that tenor since the previous settlement of the same contract (so a roll is
/// not a price jump); the newest back month, which has no previous settlement, uses the
/// previous day's contract at the same tenor. A day with a non-positive settlement
/// (possible below the simulator's price floor) has no log return and is left out.
///
/// # Errors
/// [`ReturnHistoryError::Simulation`] when the simulator refuses the settings or too few
/// days remain.
pub fn simulated_history(
    history: &SharedSimHistory,
    live_date: NaiveDate,
    days: usize,
) -> Result<HistoryTable, ReturnHistoryError> {
    let sim = history.get(live_date, days).map_err(|e| ReturnHistoryError::Simulation(e.to_string()))?;
    let months = history.config().curve_months;
    let curves: Vec<Vec<&crude_feeds::sim::DailyCurve>> =
        Market::ALL.iter().map(|&m| sim.curves_of(m).collect()).collect();
    let n_days = curves.iter().map(Vec::len).min().unwrap_or(0);
    let mut keys = Vec::with_capacity(4 * months);
    for m in Market::ALL {
        for n in 1..=months {
            keys.push(ColumnKey::Generic { market: m, n: u32::try_from(n).unwrap_or(u32::MAX) });
        }
    }
    let mut rows = Vec::with_capacity(n_days.saturating_sub(1));
    let mut dropped = 0usize;
    'day: for t in 1..n_days {
        let mut row = Vec::with_capacity(keys.len());
        for per_market in &curves {
            let (prev, cur) = (per_market[t - 1], per_market[t]);
            for k in 0..months {
                let (Some(&c), Some(&p)) = (cur.contracts.get(k), cur.settlements.get(k)) else {
                    dropped += 1;
                    continue 'day;
                };
                let before = prev
                    .contracts
                    .iter()
                    .position(|x| *x == c)
                    .and_then(|i| prev.settlements.get(i))
                    .or_else(|| prev.settlements.get(k));
                match before {
                    Some(&b) if b > 0.0 && p > 0.0 => row.push((p / b).ln()),
                    _ => {
                        dropped += 1;
                        continue 'day;
                    }
                }
            }
        }
        rows.push(row);
    }
    if rows.len() < 2 {
        return Err(ReturnHistoryError::Simulation(format!(
            "only {} days of returns; simulate more days (at least the VaR window + 1)",
            rows.len()
        )));
    }
    let mut description = format!("returns: simulated history, {} days", rows.len());
    if dropped > 0 {
        description.push_str(&format!(" ({dropped} days with a non-positive settlement left out)"));
    }
    let info = ReturnHistoryInfo {
        description,
        simulated: true,
        days: rows.len(),
        columns: keys.iter().map(|k| k.label()).collect(),
    };
    Ok(HistoryTable { keys, returns_by_day: rows, info })
}

/// Reads a CSV of daily prices (see [`parse_daily_csv`]).
///
/// # Errors
/// [`ReturnHistoryError::File`] when the file cannot be read; as [`parse_daily_csv`].
pub fn daily_history(path: &Path) -> Result<HistoryTable, ReturnHistoryError> {
    returns_of(read_daily_prices(path)?)
}

/// Parses daily prices (read by [`crude_feeds::parse_daily_prices`]): a header
/// `date,<code>,<code>…` then one row per trading date, oldest first, ISO dates
/// (`2024-03-15`), plain decimal prices; blank lines and lines starting with `#` are
/// skipped. A code is a market root (`CL`: the front month, same as `CL1`), a generic
/// (`CL2`: the second month on the day the figures are for) or a contract (`CLF27`,
/// `CL 202701`; a one-digit year `CLF7` is read relative to the file's last date). Returns
/// are `ln(P_t / P_{t−1})`, so every price must be positive.
///
/// # Errors
/// [`ReturnHistoryError::File`] naming the line and column (bad header, code, date, number,
/// missing cell, unsorted dates, non-positive price), or the whole file for fewer than
/// three rows or no price column.
pub fn parse_daily_csv(text: &str, file: &str) -> Result<HistoryTable, ReturnHistoryError> {
    returns_of(parse_daily_prices(text, file)?)
}

/// The joint daily log returns of a daily prices file.
fn returns_of(prices: DailyPrices) -> Result<HistoryTable, ReturnHistoryError> {
    let DailyPrices { file, header_line, columns: codes, rows: price_rows } = prices;
    let file = file.as_str();
    let perr = |line: usize, column: &str, message: String| HistoryFileError::at_named(file, line, column, message);
    let Some(last) = price_rows.last().map(|r| r.date) else {
        return Err(HistoryFileError::file(file, "no price rows after the header").into());
    };
    if price_rows.len() < 3 {
        return Err(HistoryFileError::file(
            file,
            format!(
                "{} rows give fewer than 2 returns; supply at least 3 days (500+ for a 500-day VaR)",
                price_rows.len()
            ),
        )
        .into());
    }
    let mut keys: Vec<ColumnKey> = Vec::with_capacity(codes.len());
    for name in &codes {
        let key = match Market::parse_root(name) {
            Ok(market) => ColumnKey::Generic { market, n: 1 },
            Err(_) => match parse_symbol(name, last) {
                Ok(Symbol::Generic { market, n }) => ColumnKey::Generic { market, n },
                Ok(Symbol::Specific(c)) => ColumnKey::Specific(c),
                Err(e) => {
                    return Err(perr(
                        header_line,
                        name,
                        format!("{e}; name a market (CL), a generic (CL2) or a contract (CLF27)"),
                    )
                    .into());
                }
            },
        };
        if keys.contains(&key) {
            return Err(perr(header_line, name, "this series appears twice; give each series one column".into()).into());
        }
        keys.push(key);
    }
    let mut rows = Vec::with_capacity(price_rows.len() - 1);
    for t in 1..price_rows.len() {
        let mut row = Vec::with_capacity(codes.len());
        for (j, name) in codes.iter().enumerate() {
            let (b, p) = (price_rows[t - 1].prices[j], price_rows[t].prices[j]);
            if b <= 0.0 || p <= 0.0 {
                let (line, v) = if b <= 0.0 { (price_rows[t - 1].line, b) } else { (price_rows[t].line, p) };
                return Err(perr(
                    line,
                    name,
                    format!(
                        "price {v} is not positive: VaR uses log returns, which need positive prices; \
                         drop the days around it or use a series without non-positive prices"
                    ),
                )
                .into());
            }
            row.push((p / b).ln());
        }
        rows.push(row);
    }
    let first = price_rows[0].date;
    let info = ReturnHistoryInfo {
        description: format!("returns: {file}, {} days ({first} to {last})", rows.len()),
        simulated: false,
        days: rows.len(),
        columns: keys.iter().map(|k| k.label()).collect(),
    };
    Ok(HistoryTable { keys, returns_by_day: rows, info })
}

// ---------------------------------------------------------------------------------------
// Pacing and P&L tracking (pure, unit-tested)
// ---------------------------------------------------------------------------------------

/// When to recalculate: at once after a hard change (book, limits, sliders), at most every
/// `debounce` of wall time while only prices move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Debounce {
    interval_ns: i64,
    last: Option<Timestamp>,
    hard: bool,
    soft: bool,
}

impl Debounce {
    fn new(debounce_ms: u64) -> Self {
        Self {
            interval_ns: i64::try_from(debounce_ms).unwrap_or(i64::MAX / 1_000_000).saturating_mul(1_000_000),
            last: None,
            hard: false,
            soft: false,
        }
    }

    fn pending(&self) -> bool {
        self.hard || self.soft
    }

    /// Whether a recalculation is due at wall time `now`.
    fn due(&self, now: Timestamp) -> bool {
        self.hard || (self.soft && self.last.is_none_or(|l| now.0.saturating_sub(l.0) >= self.interval_ns))
    }

    /// How long until a pending recalculation is due.
    fn wait(&self, now: Timestamp) -> Option<Duration> {
        if !self.pending() {
            return None;
        }
        if self.due(now) {
            return Some(Duration::ZERO);
        }
        let since = self.last.map_or(0, |l| now.0.saturating_sub(l.0));
        let left = self.interval_ns.saturating_sub(since).max(0);
        Some(Duration::from_nanos(u64::try_from(left).unwrap_or(0)))
    }

    fn computed(&mut self, now: Timestamp) {
        self.last = Some(now);
        self.hard = false;
        self.soft = false;
    }
}

/// Intraday peak and week-to-date P&L from the day P&L the trading worker reports.
#[derive(Debug, Clone, Default, PartialEq)]
struct PnlTracker {
    /// Last day P&L seen per trading date (the current week's dates only).
    days: BTreeMap<NaiveDate, f64>,
    peak: Option<(NaiveDate, f64)>,
}

impl PnlTracker {
    /// Records the day P&L at event time `ts` and returns the P&L state.
    fn observe(&mut self, ts: Timestamp, day_pnl_usd: f64) -> PnlState {
        let date = trading_date(ts);
        let day_pnl_usd = if day_pnl_usd.is_finite() { day_pnl_usd } else { 0.0 };
        self.days.insert(date, day_pnl_usd);
        let week = iso_week(date);
        self.days.retain(|d, _| iso_week(*d) == week);
        let peak = match self.peak {
            Some((d, p)) if d == date => p.max(day_pnl_usd),
            // The day starts flat: the peak is at least zero.
            _ => day_pnl_usd.max(0.0),
        };
        self.peak = Some((date, peak));
        PnlState {
            intraday_pnl_usd: day_pnl_usd,
            intraday_peak_pnl_usd: peak,
            day_pnl_usd,
            week_pnl_usd: self.days.values().sum(),
        }
    }
}

fn iso_week(d: NaiveDate) -> (i32, u32) {
    use chrono::Datelike as _;
    let w = d.iso_week();
    (w.year(), w.week())
}

/// Describes the difference between two sets of limits for the audit log.
fn limits_change_details(old: &RiskLimits, new: &RiskLimits, path: &Path) -> String {
    let before: HashMap<String, f64> = old.editable().into_iter().collect();
    let changes: Vec<String> = new
        .editable()
        .into_iter()
        .filter(|(k, v)| before.get(k).is_none_or(|b| b.to_bits() != v.to_bits()))
        .map(|(k, v)| match before.get(&k) {
            Some(b) => format!("{k} {b} -> {v}"),
            None => format!("{k} = {v}"),
        })
        .collect();
    let what = if changes.is_empty() { "no change".to_string() } else { changes.join("; ") };
    format!("risk limits saved to {}: {what}", path.display())
}

// ---------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------

/// A contract's latest price and its event time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mark {
    price: f64,
    ts: Timestamp,
}

/// The risk service: the risk engine recalculating for the book and the marks (see the
/// module doc).
pub struct RiskService {
    cfg: RiskServiceConfig,
    out: Outbox<RiskUpdate>,
    /// The trading service: receives the pre-trade check, the daily loss limit and the
    /// limit edits for its audit log.
    trading: Option<CommandSender<TradingCommand>>,
    status: RiskStatus,
    history: Option<HistoryTable>,
    engine: Option<RiskEngine>,
    /// The date the engine's tenor columns are tied to.
    engine_date: Option<NaiveDate>,
    limits: RiskLimits,
    marks: HashMap<ContractId, Mark>,
    market_time: Option<Timestamp>,
    book: Option<BookUpdate>,
    pnl: PnlState,
    tracker: PnlTracker,
    sliders: Sliders,
    pace: Debounce,
    generation: u64,
    /// The history build, until the runner takes it.
    job: Option<BackgroundJob<Result<HistoryTable, ReturnHistoryError>>>,
    /// The history build was prepared.
    history_started: bool,
}

impl RiskService {
    /// The service for `cfg`, reporting to `out`; `trading` (the trading service) receives
    /// the pre-trade check, the daily loss limit and the limit edits.
    ///
    /// # Errors
    /// [`RiskServiceError::Limits`] / [`RiskServiceError::Config`] for an invalid
    /// configuration.
    pub fn new(
        cfg: RiskServiceConfig,
        out: Outbox<RiskUpdate>,
        trading: Option<CommandSender<TradingCommand>>,
    ) -> Result<Self, RiskServiceError> {
        cfg.validate()?;
        if let RiskHistorySource::Simulated { history, days } = &cfg.history {
            history.request(*days);
        }
        let pace = Debounce::new(cfg.debounce_ms);
        let limits = cfg.limits.clone();
        Ok(Self {
            cfg,
            out,
            trading,
            status: RiskStatus::Starting,
            history: None,
            engine: None,
            engine_date: None,
            limits,
            marks: HashMap::new(),
            market_time: None,
            book: None,
            pnl: PnlState::default(),
            tracker: PnlTracker::default(),
            sliders: Sliders::default(),
            pace,
            generation: 0,
            job: None,
            history_started: false,
        })
    }

    /// Starts the service alone on its own thread, reading `market` (tests and tools; the
    /// kernels wire it to the trading service).
    ///
    /// # Errors
    /// [`RiskServiceError::Limits`] / [`RiskServiceError::Config`], [`RiskServiceError::Spawn`].
    pub fn spawn(
        cfg: RiskServiceConfig,
        market: mpsc::Receiver<FeedBatch>,
        notify: Notify,
    ) -> Result<RiskHandle, RiskServiceError> {
        service::start_alone(|out| Self::new(cfg, out, None), market, notify)
    }

    /// Sends `u` to the driver; what the trading service must act on goes to it too.
    fn send(&mut self, u: RiskUpdate) {
        if let Some(t) = &self.trading {
            match &u {
                RiskUpdate::PreTradeCheck(c) => {
                    let _ = t.send(TradingCommand::SetPreTradeCheck(PreTradeCheckBox::new(c.0.clone())));
                }
                RiskUpdate::Limits(l) => {
                    let _ = t.send(TradingCommand::SetLimits(trading_limits(l)));
                    let _ = t.send(TradingCommand::SetDailyLossLimit(l.max_daily_loss_usd()));
                }
                RiskUpdate::LimitsSaved { details } => {
                    let _ = t.send(TradingCommand::RecordLimitEdit { details: details.clone() });
                }
                _ => {}
            }
        }
        self.out.send(u);
    }

    fn set_status(&mut self, s: RiskStatus) {
        if self.status != s {
            self.status = s.clone();
            self.send(RiskUpdate::Status(s));
        }
    }

    /// Reports the limits and prepares the history build (a file at once; a simulated
    /// history once the feed's first event gives the live date, see [`Self::history_job`]).
    fn begin(&mut self) {
        self.send(RiskUpdate::Limits(Box::new(self.limits.clone())));
        match &self.cfg.history {
            RiskHistorySource::None { reason } => {
                let reason = reason.clone();
                self.set_status(RiskStatus::Unavailable(reason));
            }
            RiskHistorySource::Daily(path) => {
                let path = path.clone();
                self.set_status(RiskStatus::LoadingHistory);
                self.history_started = true;
                self.job = Some(Box::new(move || daily_history(&path)));
            }
            RiskHistorySource::Simulated { .. } => self.set_status(RiskStatus::LoadingHistory),
        }
    }

    /// Starts building the simulated return history on a thread of its own once the
    /// feed's first market event in `batch` gives the live date (simulating 500+ days takes
    /// a moment; meanwhile the service keeps reading the feed so the feed never waits on
    /// it). The history ends the trading date before, as the curve service's does.
    fn history_job(&mut self, batch: &FeedBatch) {
        if self.history_started {
            return;
        }
        let RiskHistorySource::Simulated { history, days } = &self.cfg.history else { return };
        let Some(live_start) = batch.events.iter().find(|e| !matches!(e, MarketEvent::Status { .. })).map(|e| e.ts())
        else {
            return;
        };
        let (history, days, live_date) = (history.clone(), *days, trading_date(live_start));
        self.history_started = true;
        self.job = Some(Box::new(move || simulated_history(&history, live_date, days)));
    }

    /// Takes the built history (or reports why there is none).
    fn on_history(&mut self, built: Result<HistoryTable, ReturnHistoryError>) {
        match built {
            Ok(h) => {
                tracing::info!(description = %h.info.description, "risk return history ready");
                self.send(RiskUpdate::History(h.info.clone()));
                self.history = Some(h);
                self.set_status(RiskStatus::WaitingForBook);
                // The check is in force before the next command (the inline runner runs
                // the job after the paced work of its turn).
                self.refresh_check();
            }
            Err(e) => {
                tracing::warn!(error = %e, "no return history: VaR unavailable");
                self.set_status(RiskStatus::Unavailable(format!("VaR unavailable: {e}")));
            }
        }
    }

    /// The date the figures are for: the market's, else the book's.
    fn figures_date(&self) -> Option<NaiveDate> {
        self.market_time.or(self.book.as_ref().map(|b| b.as_of)).map(trading_date)
    }

    /// (Re)builds the engine when there is none or the front months rolled.
    fn ensure_engine(&mut self) -> Result<(), String> {
        let Some(date) = self.figures_date() else { return Err("no market date yet".into()) };
        if self.engine.is_some() && self.engine_date == Some(date) {
            return Ok(());
        }
        let Some(h) = &self.history else { return Err("no return history".into()) };
        let history = h.resolve(date).map_err(|e| format!("return history: {e}"))?;
        if let Some(old) = self.engine_date
            && self.engine.is_some()
            && h.keys.iter().all(|k| k.resolve(old) == k.resolve(date))
        {
            self.engine_date = Some(date);
            return Ok(());
        }
        let mut portfolio = PortfolioRiskConfig::new(self.cfg.nav_usd);
        portfolio.window_days = self.cfg.window_days.min(history.days());
        portfolio.mc_paths = self.cfg.mc_paths;
        portfolio.covariance = self.cfg.covariance;
        let config = RiskEngineConfig {
            portfolio,
            limits: self.limits.clone(),
            scenarios: self.cfg.scenarios.clone(),
            histogram_bins: self.cfg.histogram_bins,
        };
        let engine = RiskEngine::new(config, &history).map_err(|e| format!("risk engine: {e}"))?;
        self.send(RiskUpdate::PreTradeCheck(PreTradeCheckUpdate(engine.pre_trade_check())));
        self.engine = Some(engine);
        self.engine_date = Some(date);
        Ok(())
    }

    fn on_batch(&mut self, b: &FeedBatch) {
        let book = self.book.as_ref();
        let held = |c: ContractId| book.is_some_and(|bk| bk.positions.iter().any(|p| p.qty != 0 && p.contract == c));
        let marks = &mut self.marks;
        let mut moved = false;
        let mut mark = |c: ContractId, price: f64, ts: Timestamp| {
            if !price.is_finite() {
                return;
            }
            match marks.get_mut(&c) {
                Some(m) if ts < m.ts => {}
                Some(m) => {
                    moved |= m.price.to_bits() != price.to_bits() && held(c);
                    *m = Mark { price, ts };
                }
                None => {
                    moved |= held(c);
                    marks.insert(c, Mark { price, ts });
                }
            }
        };
        let mut latest = self.market_time;
        for ev in b.events.iter() {
            let ts = ev.ts();
            match ev {
                MarketEvent::Status { .. } => continue,
                MarketEvent::Quote(q) if q.bid <= q.ask => mark(q.contract, q.mid(), ts),
                MarketEvent::Settlement { contract, price, .. } => mark(*contract, *price, ts),
                MarketEvent::Curve(c) => {
                    for p in &c.points {
                        mark(p.contract, p.price, ts);
                    }
                }
                _ => {}
            }
            if latest.is_none_or(|t| ts > t) {
                latest = Some(ts);
            }
        }
        self.market_time = latest;
        if moved {
            self.pace.soft = true;
        }
    }

    fn command(&mut self, cmd: RiskCommand) {
        match cmd {
            RiskCommand::Book(b) => {
                let hard = self.book.as_ref().is_none_or(|old| old.holdings() != b.holdings());
                self.pnl = self.tracker.observe(b.as_of, b.day_pnl_usd);
                self.book = Some(b);
                if hard {
                    self.pace.hard = true;
                } else {
                    self.pace.soft = true;
                }
            }
            RiskCommand::SetSliders(s) => {
                if s != self.sliders {
                    self.sliders = s;
                    self.pace.hard = true;
                }
            }
            RiskCommand::SaveLimits(new) => self.save_limits(*new),
            RiskCommand::ReloadLimits => self.reload_limits(),
            RiskCommand::Recalculate => self.pace.hard = true,
        }
    }

    fn reload_limits(&mut self) {
        let path = self.cfg.limits_path.clone();
        match RiskLimits::load(&path).and_then(|l| l.with_env(|k| std::env::var(k).ok())) {
            Ok(new) if new == self.limits => {
                self.send(RiskUpdate::LimitsReloaded { details: format!("{}: unchanged", path.display()) });
            }
            Ok(new) => {
                let details = limits_change_details(&self.limits, &new, &path);
                tracing::info!(%details, "risk limits reloaded");
                self.apply_limits(new);
                self.send(RiskUpdate::LimitsSaved { details });
            }
            Err(e) => {
                tracing::warn!(error = %e, "risk limits file refused; the previous limits stay in force");
                self.send(RiskUpdate::LimitsRejected(e));
            }
        }
    }

    /// Puts `new` in force: the engine, the view and the trading worker's pre-trade check.
    fn apply_limits(&mut self, new: RiskLimits) {
        self.limits = new.clone();
        if let Some(e) = self.engine.as_mut() {
            e.set_limits(new.clone());
            let check = e.pre_trade_check();
            self.send(RiskUpdate::PreTradeCheck(PreTradeCheckUpdate(check)));
        }
        self.send(RiskUpdate::Limits(Box::new(new)));
        self.pace.hard = true;
    }

    fn save_limits(&mut self, new: RiskLimits) {
        let path = self.cfg.limits_path.clone();
        match new.save(&path) {
            Ok(()) => {
                let details = limits_change_details(&self.limits, &new, &path);
                tracing::info!(%details, "risk limits changed");
                self.apply_limits(new);
                self.send(RiskUpdate::LimitsSaved { details });
            }
            Err(e) => {
                tracing::warn!(error = %e, "risk limits edit refused; the previous limits stay in force");
                self.send(RiskUpdate::LimitsRejected(e));
            }
        }
    }

    fn in_flight(&self) -> bool {
        self.out.in_flight(self.generation)
    }

    fn next_wait(&self) -> Option<Duration> {
        if !self.pace.pending() || self.book.is_none() || self.history.is_none() {
            return None;
        }
        if self.in_flight() {
            return Some(Duration::from_millis(IN_FLIGHT_POLL_MS));
        }
        self.pace.wait(self.cfg.wall.now())
    }

    /// Whether a recalculation is due now.
    fn compute_due(&self) -> bool {
        self.history.is_some() && self.book.is_some() && !self.in_flight() && self.pace.due(self.cfg.wall.now())
    }

    /// The pre-trade check follows the history and the market date whether or not a
    /// driver takes the snapshots.
    fn refresh_check(&mut self) {
        if self.history.is_some() && self.figures_date().is_some() && (self.engine.is_none() || self.cfg.check_only) {
            // A roll of the front months rebuilds the engine (and the check) here too.
            let _ = self.ensure_engine();
        }
    }

    fn maybe_compute(&mut self) {
        self.refresh_check();
        if self.cfg.check_only {
            return;
        }
        if !self.compute_due() {
            return;
        }
        let now = self.cfg.wall.now();
        self.pace.computed(now);
        if let Err(e) = self.ensure_engine() {
            self.send(RiskUpdate::Error(e));
            return;
        }
        self.compute(now);
    }

    fn compute(&mut self, now: Timestamp) {
        let (Some(engine), Some(book)) = (self.engine.as_ref(), self.book.as_ref()) else { return };
        let mut positions = Vec::new();
        let mut unpriced = Vec::new();
        let mut prices_as_of: Option<Timestamp> = None;
        for p in book.positions.iter().filter(|p| p.qty != 0) {
            let (price, ts) = match self.marks.get(&p.contract) {
                Some(m) if p.mark.is_none() || m.ts >= book.as_of => (m.price, m.ts),
                _ => match p.mark {
                    Some(m) if m.is_finite() => (m, book.as_of),
                    _ => {
                        unpriced.push(p.contract);
                        continue;
                    }
                },
            };
            prices_as_of = Some(prices_as_of.map_or(ts, |t| t.max(ts)));
            positions.push(BookPosition {
                contract: p.contract,
                qty: p.qty,
                multiplier: p.multiplier,
                price,
                avg_price: p.avg_price,
                strategy: p.strategy.clone().unwrap_or_else(|| "manual".into()),
                option: None,
            });
        }
        let as_of = self.market_time.map_or(book.as_of, |t| t.max(book.as_of));
        let risk_book = RiskBook { as_of, nav_usd: self.cfg.nav_usd, positions, pnl: self.pnl };
        let book_as_of = book.as_of;
        let open_positions = risk_book.positions.len();
        match engine.snapshot(&risk_book, &self.sliders) {
            Ok(snapshot) => {
                self.generation += 1;
                let computed = RiskComputed {
                    generation: self.generation,
                    snapshot,
                    prices_as_of,
                    book_as_of,
                    computed_wall: now,
                    open_positions,
                    unpriced,
                    sliders: self.sliders,
                };
                self.set_status(RiskStatus::Ready);
                self.send(RiskUpdate::Snapshot(Box::new(computed)));
            }
            Err(e) => {
                let msg = format!("recalculation failed: {e}");
                tracing::warn!(error = %msg, "risk recalculation failed");
                self.send(RiskUpdate::Error(msg));
            }
        }
    }
}

/// The limits-only check's limits (what the trading engine judges every order by, with or
/// without a return history) from the risk limits in force: contracts per market, gross
/// and net exposure, the daily loss and the warning threshold. There is no per-month
/// limit in `risk_limits.yaml`, so a month may hold its market's whole limit.
pub fn trading_limits(l: &RiskLimits) -> LimitsConfig {
    let markets = Market::ALL.map(|m| l.instruments.get(m).max_contracts.floor() as i64);
    let largest = markets.iter().copied().max().unwrap_or(1).max(1);
    LimitsConfig {
        max_contracts_per_contract: largest,
        max_contracts_per_market: largest,
        market_contracts: markets.map(|q| Some(q.max(1))),
        max_gross_notional_usd: l.exposure.gross_usd,
        max_net_notional_usd: l.exposure.net_usd,
        max_daily_loss_usd: l.max_daily_loss_usd(),
        warn_utilisation: l.thresholds.warning,
    }
}

impl Service for RiskService {
    type Command = RiskCommand;
    type Update = RiskUpdate;
    type Background = Result<HistoryTable, ReturnHistoryError>;
    const NAME: &'static str = "crude-risk";

    fn outbox(&mut self) -> &mut Outbox<RiskUpdate> {
        &mut self.out
    }

    fn start(&mut self) {
        self.begin();
    }

    fn take_job(&mut self) -> Option<BackgroundJob<Self::Background>> {
        self.job.take()
    }

    fn on_command(&mut self, cmd: RiskCommand) {
        self.command(cmd);
    }

    fn on_market(&mut self, batch: &FeedBatch) {
        self.on_batch(batch);
        self.history_job(batch);
    }

    fn on_market_end(&mut self) {
        if !self.history_started && matches!(self.cfg.history, RiskHistorySource::Simulated { .. }) {
            self.set_status(RiskStatus::Unavailable(
                "VaR unavailable: the feed ended before its first event; the simulated history ends at the live date"
                    .into(),
            ));
        }
    }

    fn on_background(&mut self, result: Self::Background) {
        self.on_history(result);
    }

    fn after_turn(&mut self) {
        self.maybe_compute();
    }

    fn next_wake(&self) -> Option<Duration> {
        self.next_wait()
    }

    fn wants_fresh_market(&self) -> bool {
        self.compute_due()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{LiveClock, Quote, SimClock};

    /// Wednesday 2026-11-18 10:00 ET.
    fn start() -> Timestamp {
        Timestamp::from_secs(1_795_014_000)
    }

    fn front(m: Market) -> ContractId {
        m.front_contract(trading_date(start()))
    }

    fn quote(c: ContractId, mid: f64, ts: Timestamp) -> MarketEvent {
        MarketEvent::Quote(Quote { contract: c, ts, bid: mid - 0.01, ask: mid + 0.01, bid_size: 5, ask_size: 5 })
    }

    fn batch(events: Vec<MarketEvent>) -> FeedBatch {
        FeedBatch { events: events.into(), sent_wall: Timestamp(0), history: false }
    }

    fn position(c: ContractId, qty: i64, mark: f64) -> Position {
        let mut p = Position::flat(c, Some("test".into()), crude_model::contract_multiplier(c.market));
        p.qty = qty;
        p.avg_price = mark;
        p.mark = Some(mark);
        p
    }

    #[test]
    fn daily_csv_ties_tenors_to_the_date_and_names_bad_cells() {
        let text =
            "date,CL,CL2,BZF27\n# comment\n2026-11-02,70,70.5,74\n2026-11-03,71,71.2,74.5\n\n2026-11-04,70.5,71,74.1\n";
        let h = parse_daily_csv(text, "p.csv").unwrap();
        assert_eq!(h.days(), 2);
        assert_eq!(h.info().columns, vec!["CL1", "CL2", "BZF27"]);
        assert!(!h.info().simulated);
        assert_eq!(h.info().description, "returns: p.csv, 2 days (2026-11-02 to 2026-11-04)");
        let d = trading_date(start());
        let r = h.resolve(d).unwrap();
        assert_eq!(
            r.contracts(),
            &[Market::Wti.nth_contract(d, 1), Market::Wti.nth_contract(d, 2), "BZF27".parse().unwrap()]
        );
        assert!((r.day(0).unwrap()[0] - (71.0f64 / 70.0).ln()).abs() < 1e-15);
        let err = |t: &str| parse_daily_csv(t, "p.csv").unwrap_err().to_string();
        let e = err("date,CL1\n2026-11-02,70\n2026-11-03,7o\n2026-11-04,70\n");
        assert!(e.contains("line 3, column 'CL1'") && e.contains("'7o'"), "{e}");
        let e = err("date,CL1\n2026-11-03,70\n2026-11-02,71\n2026-11-04,70\n");
        assert!(e.contains("line 3, column 'date'") && e.contains("sort the file"), "{e}");
        let e = err("date,CL1\n2026-11-02,70\n2026-11-03,-37.63\n2026-11-04,70\n");
        assert!(e.contains("line 3, column 'CL1'") && e.contains("not positive"), "{e}");
        let e = err("date,CL1\n2026-11-02,70\n2026-11-03,\n2026-11-04,70\n");
        assert!(e.contains("missing"), "{e}");
        let e = err("date,XX1\n2026-11-02,70\n2026-11-03,71\n2026-11-04,70\n");
        assert!(e.contains("line 1, column 'XX1'"), "{e}");
        let e = err("day,CL1\n2026-11-02,70\n");
        assert!(e.contains("first column must be named date"), "{e}");
        let e = err("date,CL1\n2026-11-02,70\n2026-11-03,71\n");
        assert!(e.contains("at least 3 days"), "{e}");
        let e = err("date,CL,CL1\n2026-11-02,70,70\n2026-11-03,71,71\n2026-11-04,70,70\n");
        assert!(e.contains("appears twice"), "{e}");
        let e = err("date,CL1\n2026-11-02,70,1\n");
        assert!(e.contains("line 2") && e.contains("3 fields but the header has 2"), "{e}");
    }

    #[test]
    fn simulated_history_covers_every_curve_month_and_says_so() {
        let cfg = SimConfig { seed: 5, ..SimConfig::default() };
        let live = trading_date(start());
        let shared = SharedSimHistory::new(cfg.clone());
        let h = simulated_history(&shared, live, 40).unwrap();
        assert_eq!(h.info().columns.len(), 4 * cfg.curve_months);
        assert_eq!(h.info().columns[0], "CL1");
        assert!(h.info().simulated);
        assert!(h.days() >= 30 && h.days() <= 39, "{}", h.days());
        // The history ends the trading date before the live date.
        let sim = shared.get(live, 40).unwrap();
        assert_eq!(sim.dates.len(), 40);
        assert_eq!(sim.dates.last(), Some(&crude_model::HolidayCalendar::Cme.add_business_days(live, -1)));
        assert!(h.info().description.starts_with(&format!("returns: simulated history, {} days", h.days())));
        // Daily returns of a 35 %-vol market: small, not all zero.
        let r = h.resolve(trading_date(start())).unwrap();
        let front: Vec<f64> = (0..r.days()).map(|t| r.day(t).unwrap()[0]).collect();
        assert!(front.iter().all(|x| x.abs() < 0.3));
        assert!(front.iter().any(|x| *x != 0.0));
        assert!(simulated_history(&SharedSimHistory::new(cfg), live, 0).is_err());
    }

    #[test]
    fn debounce_paces_price_moves_but_not_hard_changes() {
        let t = |ms: i64| Timestamp(ms * 1_000_000);
        let mut d = Debounce::new(500);
        assert_eq!(d.wait(t(0)), None);
        d.soft = true;
        assert!(d.due(t(0)), "the first calculation is not held back");
        d.computed(t(0));
        d.soft = true;
        assert!(!d.due(t(200)));
        assert_eq!(d.wait(t(200)), Some(Duration::from_millis(300)));
        d.hard = true;
        assert!(d.due(t(200)), "a book or limits change recalculates at once");
        d.computed(t(200));
        d.soft = true;
        assert!(!d.due(t(699)));
        assert!(d.due(t(700)));
    }

    #[test]
    fn pnl_tracker_keeps_the_intraday_peak_and_the_week() {
        let mut p = PnlTracker::default();
        // Monday 2026-11-16 and Tuesday 2026-11-17, 10:00 ET.
        let mon = Timestamp::from_secs(1_794_841_200);
        let tue = mon.add_nanos(86_400 * Timestamp::NANOS_PER_SEC);
        let s = p.observe(mon, -1_000.0);
        assert_eq!((s.intraday_peak_pnl_usd, s.week_pnl_usd), (0.0, -1_000.0));
        let s = p.observe(mon.add_nanos(60 * Timestamp::NANOS_PER_SEC), 5_000.0);
        assert_eq!(s.intraday_peak_pnl_usd, 5_000.0);
        let s = p.observe(mon.add_nanos(120 * Timestamp::NANOS_PER_SEC), 2_000.0);
        assert_eq!((s.intraday_peak_pnl_usd, s.intraday_pnl_usd), (5_000.0, 2_000.0));
        let s = p.observe(tue, -500.0);
        assert_eq!((s.intraday_peak_pnl_usd, s.day_pnl_usd, s.week_pnl_usd), (0.0, -500.0, 1_500.0));
        // The next Monday starts a new week.
        let s = p.observe(mon.add_nanos(7 * 86_400 * Timestamp::NANOS_PER_SEC), 100.0);
        assert_eq!(s.week_pnl_usd, 100.0);
    }

    #[test]
    fn limit_change_details_name_each_change() {
        let old = RiskLimits::default();
        let mut new = old.clone();
        new.set("var.limit_usd", 2_000_000.0).unwrap();
        let d = limits_change_details(&old, &new, Path::new("config/risk_limits.yaml"));
        assert_eq!(d, "risk limits saved to config/risk_limits.yaml: var.limit_usd 1500000 -> 2000000");
        assert!(limits_change_details(&old, &old, Path::new("x.yaml")).ends_with("no change"));
    }

    /// A worker over a short simulated history.
    struct Rig {
        handle: RiskHandle,
        market: mpsc::Sender<FeedBatch>,
        woke: std::sync::mpsc::Receiver<()>,
        view: RiskView,
        dir: tempfile::TempDir,
    }

    impl Rig {
        fn new(history: RiskHistorySource, wall: Arc<dyn Clock>) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let mut cfg =
                RiskServiceConfig::new(RiskLimits::default(), dir.path().join("risk_limits.yaml"), history, 50e6, wall)
                    .unwrap();
            cfg.window_days = 60;
            cfg.mc_paths = 5_000;
            let (tx, rx) = mpsc::channel(1024);
            let (wtx, woke) = std::sync::mpsc::channel();
            let wtx = std::sync::Mutex::new(wtx);
            let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
                let _ = wtx.lock().map(|t| t.send(()));
            });
            let handle = RiskService::spawn(cfg, rx, notify).unwrap();
            // The feed's first event gives the live date a simulated history ends at (a
            // quote of a contract no test holds).
            tx.try_send(batch(vec![quote(front(Market::HeatingOil), 2.5, start())])).unwrap();
            Rig { handle, market: tx, woke, view: RiskView::default(), dir }
        }

        fn simulated(wall: Arc<dyn Clock>) -> Self {
            let cfg = SimConfig { seed: 11, ..SimConfig::default() };
            Self::new(RiskHistorySource::simulated_days(cfg, 80), wall)
        }

        /// Applies updates until `pred` holds (each wait bounded by the service's notify).
        fn wait(&mut self, what: &str, pred: impl Fn(&RiskView) -> bool) {
            for _ in 0..200 {
                while self.handle.drain(&mut self.view) {}
                if pred(&self.view) {
                    return;
                }
                let _ = self.woke.recv_timeout(Duration::from_secs(5));
            }
            panic!("{what}: not reached; status {:?}, error {:?}", self.view.status, self.view.error);
        }

        /// Applies what arrives within `ms` of real time.
        fn settle(&mut self, ms: u64) {
            let until = std::time::Instant::now() + Duration::from_millis(ms);
            while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
                let _ = self.woke.recv_timeout(left);
                while self.handle.drain(&mut self.view) {}
            }
        }

        fn generation(&self) -> u64 {
            self.view.latest.as_ref().map_or(0, |c| c.generation)
        }
    }

    fn book(qty: i64) -> BookUpdate {
        BookUpdate { as_of: start(), positions: vec![position(front(Market::Wti), qty, 70.0)], day_pnl_usd: 0.0 }
    }

    #[test]
    fn a_book_gets_a_snapshot_with_var_for_its_positions_and_prices() {
        let mut rig = Rig::simulated(Arc::new(LiveClock));
        rig.wait("history", |v| v.status == Some(RiskStatus::WaitingForBook));
        assert!(rig.view.history.as_ref().unwrap().description.starts_with("returns: simulated history, "));
        let cl = front(Market::Wti);
        let ts = start().add_nanos(5 * Timestamp::NANOS_PER_SEC);
        rig.market.try_send(batch(vec![quote(cl, 71.0, ts), quote(front(Market::Brent), 75.0, ts)])).unwrap();
        rig.handle.send(RiskCommand::Book(book(10)));
        rig.wait("snapshot", |v| v.latest.is_some());
        let c = rig.view.latest.clone().unwrap();
        assert_eq!(rig.view.status, Some(RiskStatus::Ready));
        assert_eq!(c.open_positions, 1);
        assert_eq!(c.snapshot.positions.len(), 1);
        // The feed's mid (newer than the book's mark) prices the position.
        assert_eq!(c.snapshot.positions[0].price, 71.0);
        assert_eq!(c.prices_as_of, Some(ts));
        let var = c.snapshot.report.parametric.iter().find(|f| f.confidence == 0.99 && f.horizon_days == 1).unwrap();
        assert!(var.var_usd > 1_000.0, "10 lots of CL at 71: VaR {}", var.var_usd);
        assert!(c.snapshot.report.historical.iter().all(|f| f.var_usd > 0.0));
        assert!(c.snapshot.report.monte_carlo.iter().all(|f| f.var_usd > 0.0));
        assert!(c.snapshot.limits.iter().any(|u| u.key == "var" && u.value == var.var_usd));
        // An empty book still gets limits, at zero VaR.
        rig.handle.send(RiskCommand::Book(BookUpdate { positions: vec![], ..book(0) }));
        rig.wait("empty book", |v| v.latest.as_ref().is_some_and(|c| c.open_positions == 0));
        let c = rig.view.latest.clone().unwrap();
        assert!(c.snapshot.limits.iter().any(|u| u.key == "var" && u.value == 0.0));
    }

    #[test]
    fn price_moves_are_debounced_and_book_changes_are_not() {
        let wall = Arc::new(SimClock::new(Timestamp::from_secs(1_000)));
        let mut rig = Rig::simulated(wall.clone());
        rig.handle.send(RiskCommand::Book(book(10)));
        rig.wait("first snapshot", |v| v.latest.is_some());
        let g1 = rig.generation();
        // Prices move while the wall clock stands still: no recalculation.
        let cl = front(Market::Wti);
        for i in 0..20 {
            let ts = start().add_nanos((10 + i) * Timestamp::NANOS_PER_SEC);
            rig.market.try_send(batch(vec![quote(cl, 70.0 + 0.05 * i as f64, ts)])).unwrap();
        }
        rig.settle(700);
        assert_eq!(rig.generation(), g1, "recalculated before the debounce interval");
        // 600 ms of wall time later, one recalculation at the latest price.
        wall.advance_to(Timestamp::from_secs(1_000).add_nanos(600_000_000));
        rig.wait("debounced snapshot", |v| v.latest.as_ref().is_some_and(|c| c.generation > g1));
        let c = rig.view.latest.clone().unwrap();
        assert!((c.snapshot.positions[0].price - (70.0 + 0.05 * 19.0)).abs() < 1e-9);
        let g2 = c.generation;
        rig.settle(300);
        assert_eq!(rig.generation(), g2, "nothing moved: no recalculation");
        // A change of positions recalculates at once, clock standing still.
        rig.handle.send(RiskCommand::Book(book(20)));
        rig.wait("book change", |v| {
            v.latest.as_ref().is_some_and(|c| c.snapshot.positions.first().is_some_and(|p| p.qty == 20))
        });
        assert_eq!(rig.generation(), g2 + 1);
    }

    #[test]
    fn invalid_limits_are_refused_and_valid_ones_saved_applied_and_audited() {
        let mut rig = Rig::simulated(Arc::new(LiveClock));
        rig.handle.send(RiskCommand::Book(book(10)));
        rig.wait("snapshot", |v| v.latest.is_some());
        let path = rig.dir.path().join("risk_limits.yaml");
        let mut bad = RiskLimits::default();
        bad.var.limit_usd = -5.0;
        rig.handle.send(RiskCommand::SaveLimits(Box::new(bad)));
        rig.wait("refusal", |v| v.save_result.is_some());
        let e = rig.view.save_result.clone().unwrap().unwrap_err();
        assert_eq!((e.entry.as_str(), e.field.as_str()), ("var", "limit_usd"), "{e}");
        assert!(!path.exists(), "nothing is written");
        assert_eq!(rig.view.limits.as_ref().unwrap().var.limit_usd, RiskLimits::default().var.limit_usd);
        let mut good = RiskLimits::default();
        good.set("var.limit_usd", 2_000_000.0).unwrap();
        rig.handle.send(RiskCommand::SaveLimits(Box::new(good.clone())));
        rig.wait("saved", |v| matches!(v.save_result, Some(Ok(_))));
        assert_eq!(RiskLimits::load(&path).unwrap(), good);
        // The details the kernel hands to the trading service's audit log.
        let saved = rig.view.save_result.clone().unwrap().unwrap();
        assert!(saved.contains("var.limit_usd 1500000 -> 2000000"), "{saved}");
        assert_eq!(rig.view.limits.as_ref(), Some(&good));
        rig.wait("recalculated with the new limit", |v| {
            v.latest
                .as_ref()
                .is_some_and(|c| c.snapshot.limits.iter().any(|u| u.key == "var" && u.limit == 2_000_000.0))
        });
    }

    #[test]
    fn reloading_an_invalid_file_keeps_the_limits_in_force() {
        let mut rig = Rig::simulated(Arc::new(LiveClock));
        rig.handle.send(RiskCommand::Book(book(10)));
        rig.wait("snapshot", |v| v.latest.is_some());
        let path = rig.dir.path().join("risk_limits.yaml");
        // A file edited by hand with a typo in a field name: refused, named, nothing changes.
        let text = RiskLimits::default().to_yaml_string().replace("limit_usd:", "limit_usdd:");
        std::fs::write(&path, text).unwrap();
        rig.handle.send(RiskCommand::ReloadLimits);
        rig.wait("refusal", |v| v.save_result.is_some());
        let e = rig.view.save_result.clone().unwrap().unwrap_err();
        assert!(e.to_string().contains("limit_usdd"), "{e}");
        assert_eq!(rig.view.limits.as_ref(), Some(&RiskLimits::default()));
        // A valid edit of the file is applied and audited.
        let mut edited = RiskLimits::default();
        edited.set("var.limit_usd", 1_750_000.0).unwrap();
        std::fs::write(&path, edited.to_yaml_string()).unwrap();
        rig.view.save_result = None;
        rig.handle.send(RiskCommand::ReloadLimits);
        rig.wait("reloaded", |v| matches!(v.save_result, Some(Ok(_))));
        assert_eq!(rig.view.limits.as_ref(), Some(&edited));
        let reloaded = rig.view.save_result.clone().unwrap().unwrap();
        assert!(reloaded.contains("var.limit_usd 1500000 -> 1750000"), "{reloaded}");
    }

    #[test]
    fn a_simulated_history_waits_for_the_live_date_and_says_so_when_the_feed_ends_first() {
        let cfg = SimConfig { seed: 11, ..SimConfig::default() };
        let dir = tempfile::tempdir().unwrap();
        let config = RiskServiceConfig::new(
            RiskLimits::default(),
            dir.path().join("risk_limits.yaml"),
            RiskHistorySource::simulated_days(cfg, 80),
            50e6,
            Arc::new(LiveClock),
        )
        .unwrap();
        let (tx, rx) = mpsc::channel(8);
        let mut handle = RiskService::spawn(config, rx, Arc::new(|| {})).unwrap();
        let mut view = RiskView::default();
        let mut seen = Vec::new();
        drop(tx);
        for _ in 0..200 {
            while handle.drain(&mut view) {}
            if let Some(s) = view.status.clone()
                && seen.last() != Some(&s)
            {
                seen.push(s);
            }
            if matches!(view.status, Some(RiskStatus::Unavailable(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let Some(RiskStatus::Unavailable(why)) = &view.status else { panic!("{seen:?}") };
        assert!(why.contains("feed ended before its first event"), "{why}");
        assert!(view.history.is_none());
    }

    /// Risk and curve in one kernel share one simulation: the longer request (the curve's
    /// year) is simulated once and risk takes its last days; both end before the live date.
    #[test]
    fn risk_and_curve_in_one_kernel_simulate_the_shared_history_once() {
        use crate::services::curve::{CurveHistorySource, CurveServiceConfig, CurveUpdate, HistoryStatus};
        use crate::{InlineKernel, KernelConfig, KernelUpdate};
        let shared = SharedSimHistory::new(SimConfig { seed: 11, ..SimConfig::default() });
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(SimClock::new(start()));
        let mut risk = RiskServiceConfig::new(
            RiskLimits::default(),
            dir.path().join("risk_limits.yaml"),
            RiskHistorySource::shared(shared.clone(), 80),
            50e6,
            clock.clone(),
        )
        .unwrap();
        risk.window_days = 60;
        risk.check_only = true;
        let curve = CurveServiceConfig::new(CurveHistorySource::shared(shared.clone(), 1), clock.clone());
        let config = KernelConfig { risk: Some(risk), curve: Some(curve), ..KernelConfig::default() };
        let mut kernel = InlineKernel::new(config, clock);
        kernel.feed(&batch(vec![quote(front(Market::HeatingOil), 2.5, start())]));
        let (mut returns, mut curve_span) = (None, None);
        while let Some(u) = kernel.try_recv() {
            match u {
                KernelUpdate::Risk(RiskUpdate::History(h)) => returns = Some(h),
                KernelUpdate::Curve(CurveUpdate::History(HistoryStatus::Loaded(i))) => curve_span = i.span,
                _ => {}
            }
        }
        assert_eq!(shared.runs(), 1, "one simulation for both services");
        assert_eq!(shared.requested_days(), 252);
        let returns = returns.expect("risk history");
        assert!(returns.simulated && (70..=79).contains(&returns.days), "{returns:?}");
        let (_, last) = curve_span.expect("curve history");
        assert!(last < trading_date(start()), "{last}");
    }

    #[test]
    fn no_history_says_why() {
        let mut rig = Rig::new(RiskHistorySource::None { reason: "replay of one series".into() }, Arc::new(LiveClock));
        rig.wait("status", |v| matches!(v.status, Some(RiskStatus::Unavailable(_))));
        assert_eq!(rig.view.status, Some(RiskStatus::Unavailable("replay of one series".into())));
        assert!(rig.view.limits.is_some(), "the limits are shown without a history");
        let mut rig = Rig::new(RiskHistorySource::Daily(PathBuf::from("/nonexistent/prices.csv")), Arc::new(LiveClock));
        rig.wait("status", |v| matches!(v.status, Some(RiskStatus::Unavailable(_))));
        let Some(RiskStatus::Unavailable(why)) = &rig.view.status else { unreachable!() };
        assert!(why.contains("/nonexistent/prices.csv"), "{why}");
    }
}
