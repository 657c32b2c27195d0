//! The paper-trading command line: every `crude trade`, `crude blotter`, `crude positions`
//! and `crude audit` subcommand as a library function that does all the work and writes the
//! command's output (the binary only parses arguments and maps [`CliError::exit_code`]).
//!
//! Paper time: a trading command runs the seeded market simulator from `max(now, just
//! after the last event in the database)`, so event time in one database never goes
//! backwards across runs, and accelerated runs may move ahead of the wall clock. `now` is
//! passed in by the binary (the only place that reads the clock).
//!
//! Output contracts (`--json`): one JSON object per line, each printed and flushed only
//! after the event it describes is committed:
//!
//! * `{"event":"order","kind":…,"order_id":…,"client_order_id":…,"contract":…,"side":…,"qty":…,"type":…,"limit_price":…,"stop_price":…,"tif":…,"strategy":…,"user":…,"status":…,"filled_qty":…,"avg_fill_price":…,"seq":…,"time":…,"reason":…}`
//!   (plus `"line"` for orders from a file);
//! * `{"event":"fill","fill_id":…,"order_id":…,"contract":…,"side":…,"qty":…,"price":…,"time":…,"commission_usd":…,"fees_usd":…,"liquidity":…,"strategy":…,"order_status":…}`;
//! * `{"event":"audit","action":…,"user":…,"time":…,"details":{…}}`;
//! * last, `{"event":"summary",…}`.
//!
//! Exit codes: 0 success; 2 bad input (arguments, order file, unknown/expired contract,
//! quantity, tick grid, fat-finger band, a file that is not a Crude database) — nothing is
//! written for the refused order; 3 an order refused by the pre-trade check (recorded as
//! rejected); 1 anything else (I/O, a broken audit chain).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::NaiveDate;
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_model::{
    ContractId, Instruments, Market, MarketEvent, OrderStatus, OrderType, PreTradeDecision, Side, Symbol, TimeInForce,
    Timestamp, parse_symbol, session_close_after, trading_date, validate_order_request,
};
use crude_store::{Durability, FillQuery, Store, StoreError, StoreOptions};
use serde_json::{Value, json};

use crate::blotter::{attribution, blotter_rows, format_time, summarize, write_csv};
use crate::config::TradingConfig;
use crate::engine::{Engine, EngineEvent, SubmitOutcome};
use crate::error::SessionError;
use crate::orders_file::{FileOrder, parse_order_symbol, parse_orders_csv};
use crate::positions::PositionKeeper;
use crate::session::TradingSession;

/// Why a command failed; [`CliError::exit_code`] maps it to the process exit status.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or input file; nothing was written for the refused order(s).
    #[error("{0}")]
    BadInput(String),
    /// Some orders of a run were refused at submission (each already reported).
    #[error("{count} order(s) refused (lines {lines}); see the messages above")]
    OrdersRefused { count: usize, lines: String },
    /// The pre-trade check rejected the order (recorded as rejected).
    #[error("order {order_id} rejected by the pre-trade check: {reasons}")]
    PreTradeRejected { order_id: u64, reasons: String },
    /// The database could not be used.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The trading session failed.
    #[error("{0}")]
    Session(SessionError),
    /// The audit chain or the order tables do not verify.
    #[error("{0}")]
    Verification(String),
    /// Writing output failed.
    #[error("cannot write output: {0}")]
    Io(String),
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Io(e.to_string())
    }
}

impl From<SessionError> for CliError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Store(s) => CliError::Store(s),
            SessionError::Trading(t) => CliError::BadInput(t.to_string()),
            other => CliError::Session(other),
        }
    }
}

impl CliError {
    /// Process exit status: 2 bad input, 3 pre-trade rejection, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_) | CliError::OrdersRefused { .. } => 2,
            CliError::Store(e) if e.is_bad_file() => 2,
            CliError::PreTradeRejected { .. } => 3,
            _ => 1,
        }
    }
}

/// What the binary provides: the wall-clock time, the user, the configuration and the
/// durability of commits.
#[derive(Debug, Clone)]
pub struct CliEnv {
    /// Wall-clock time (read by the binary through its live clock).
    pub now: Timestamp,
    pub user: String,
    pub config: TradingConfig,
    pub durability: Durability,
    pub instruments: Instruments,
}

impl CliEnv {
    /// Default configuration, full durability, built-in instruments.
    ///
    /// # Errors
    /// [`CliError::BadInput`] if the built-in instruments do not load (they do; a test proves it).
    pub fn new(now: Timestamp, user: &str) -> Result<Self, CliError> {
        let instruments = Instruments::builtin().map_err(|e| CliError::BadInput(e.to_string()))?;
        Ok(Self {
            now,
            user: user.to_string(),
            config: TradingConfig::default(),
            durability: Durability::Full,
            instruments,
        })
    }
}

/// `crude trade --db PATH submit …` arguments, as typed (parsed here so errors name the field).
#[derive(Debug, Clone, Default)]
pub struct SubmitArgs {
    pub contract: String,
    pub side: String,
    pub qty: String,
    /// `--type`: market, limit, stop, stop_limit.
    pub order_type: String,
    /// `--price`: limit price (limit, stop_limit) or stop price (stop).
    pub price: Option<String>,
    /// `--stop-price`: the stop of a stop_limit (defaults to `--price`).
    pub stop_price: Option<String>,
    /// `--tif` (default day).
    pub tif: Option<String>,
    /// `--strategy` (default `manual`).
    pub strategy: Option<String>,
    /// `--client-order-id` (generated when absent).
    pub client_order_id: Option<String>,
    /// Simulator seed.
    pub seed: u64,
    pub json: bool,
}

/// `crude trade --db PATH run …` arguments.
#[derive(Debug, Clone)]
pub struct RunArgs {
    pub orders: PathBuf,
    pub seed: u64,
    pub json: bool,
    pub options: RunOptions,
}

/// Pacing of `crude trade run`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunOptions {
    /// Simulated time between consecutive orders of the file.
    pub order_interval_ms: u64,
    /// Stop after this much simulated time from the start (default: the close of the
    /// session of the last order, when DAY orders expire).
    pub max_sim_secs: Option<u64>,
    /// Simulated time a submitted order may work before `submit` returns (market data keeps
    /// flowing, so a marketable order fills).
    pub submit_window_ms: u64,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { order_interval_ms: 1_000, max_sim_secs: None, submit_window_ms: 2_000 }
    }
}

/// `crude blotter` arguments.
#[derive(Debug, Clone, Default)]
pub struct BlotterArgs {
    /// First UTC date (YYYY-MM-DD) of fills shown.
    pub from: Option<String>,
    /// Last UTC date (inclusive).
    pub to: Option<String>,
    pub strategy: Option<String>,
    /// A contract (`CLF7`, `CLF27`) or a market (`CL`, `BZ`, `RB`, `HO`).
    pub contract: Option<String>,
    pub export: Option<PathBuf>,
    pub json: bool,
}

/// What `crude trade run` did.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct RunSummary {
    pub orders_in_file: usize,
    pub submitted: usize,
    pub refused: usize,
    pub by_status: BTreeMap<String, usize>,
    pub fills: u64,
    pub contracts_filled: i64,
    pub commission_usd: f64,
    pub fees_usd: f64,
    pub events_committed: u64,
    pub sim_start: String,
    pub sim_end: String,
}

fn bad(msg: impl Into<String>) -> CliError {
    CliError::BadInput(msg.into())
}

/// Holds an exclusive lock on `<db>.lock` for a trading session: one writer per database.
fn lock_db(db: &Path) -> Result<File, CliError> {
    let mut p = db.as_os_str().to_owned();
    p.push(".lock");
    let path = PathBuf::from(p);
    let f =
        OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| {
            bad(format!("database {}: cannot create the lock file {}: {e}", db.display(), path.display()))
        })?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(bad(format!(
            "database {} is in use by another trading session; wait for it to finish or use another --db",
            db.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(bad(format!("database {}: cannot lock {}: {e}", db.display(), path.display())))
        }
    }
}

fn open_store(db: &Path, env: &CliEnv, create: bool) -> Result<Store, CliError> {
    Ok(Store::open_with(db, &StoreOptions { durability: env.durability, create, ..StoreOptions::default() })?)
}

/// The JSON line of an engine event.
pub fn event_json(ev: &EngineEvent) -> Value {
    match ev {
        EngineEvent::Order { order, event, .. } => json!({
            "event": "order",
            "kind": event.kind.as_str(),
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "contract": order.contract.to_string(),
            "side": order.side.as_str(),
            "qty": order.qty,
            "type": order.order_type.as_str(),
            "limit_price": order.limit_price,
            "stop_price": order.stop_price,
            "tif": order.tif.as_str(),
            "strategy": order.strategy,
            "user": order.user,
            "status": order.status.as_str(),
            "filled_qty": order.filled_qty,
            "avg_fill_price": order.avg_fill_price,
            "seq": event.seq,
            "time": format_time(event.ts),
            "reason": event.reason,
        }),
        EngineEvent::Fill { order, fill, .. } => json!({
            "event": "fill",
            "fill_id": fill.fill_id,
            "order_id": fill.order_id,
            "contract": fill.contract.to_string(),
            "side": fill.side.as_str(),
            "qty": fill.qty,
            "price": fill.price,
            "time": format_time(fill.ts),
            "commission_usd": fill.commission_usd,
            "fees_usd": fill.fees_usd,
            "liquidity": fill.liquidity.as_str(),
            "strategy": fill.strategy,
            "order_status": order.status.as_str(),
        }),
        EngineEvent::Audit(a) => json!({
            "event": "audit",
            "action": a.action,
            "user": a.user,
            "time": format_time(a.ts),
            "details": serde_json::from_str::<Value>(&a.details).unwrap_or(Value::String(a.details.clone())),
        }),
    }
}

/// A one-line human description of an engine event.
pub fn event_text(ev: &EngineEvent) -> String {
    match ev {
        EngineEvent::Order { order, event, .. } => {
            let price = match (order.order_type, order.limit_price, order.stop_price) {
                (OrderType::Market, ..) => String::new(),
                (_, Some(l), Some(s)) => format!(" stop {s} limit {l}"),
                (_, Some(l), None) => format!(" @ {l}"),
                (_, None, Some(s)) => format!(" stop {s}"),
                _ => String::new(),
            };
            let reason = event.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            format!(
                "{} order {} {} {} {} {} {}{} {}: {}{}",
                format_time(event.ts),
                order.order_id,
                order.client_order_id,
                order.side.as_str().to_uppercase(),
                order.qty,
                order.contract,
                order.order_type,
                price,
                order.tif,
                event.kind,
                reason
            )
        }
        EngineEvent::Fill { order, fill, .. } => format!(
            "{} fill {} order {} {} {} {} @ {} ({}; order {} {}/{})",
            format_time(fill.ts),
            fill.fill_id,
            fill.order_id,
            fill.side.as_str().to_uppercase(),
            fill.qty,
            fill.contract,
            fill.price,
            fill.liquidity.as_str(),
            order.status,
            order.filled_qty,
            order.qty
        ),
        EngineEvent::Audit(a) => format!("{} audit {} by {}: {}", format_time(a.ts), a.action, a.user, a.details),
    }
}

/// Writes one line and flushes (the line describes a committed event).
fn emit(out: &mut dyn Write, line: &str) -> std::io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Shared output state of a trading command: the writer, JSON or text, the file line of the
/// order being entered, and the first write error.
struct Printer<'a> {
    out: &'a mut dyn Write,
    json: bool,
    current_line: Option<u64>,
    lines: HashMap<u64, u64>,
    error: Option<std::io::Error>,
}

impl Printer<'_> {
    fn print(&mut self, ev: &EngineEvent) {
        if self.error.is_some() {
            return;
        }
        let line = if self.json {
            let mut v = event_json(ev);
            if let EngineEvent::Order { order, event, .. } = ev {
                if event.seq == 1
                    && let Some(l) = self.current_line
                {
                    self.lines.insert(order.order_id, l);
                }
                if let Some(l) = self.lines.get(&order.order_id) {
                    v["line"] = json!(l);
                }
            }
            v.to_string()
        } else {
            event_text(ev)
        };
        if let Err(e) = emit(self.out, &line) {
            self.error = Some(e);
        }
    }
}

/// A paper session: the durable session plus the seeded simulator.
struct Paper {
    session: TradingSession,
    sim: MarketSimulator,
    batch: Vec<MarketEvent>,
}

impl Paper {
    fn open(db: &Path, env: &CliEnv, seed: u64, printer: &Rc<RefCell<Printer<'_>>>) -> Result<Self, CliError> {
        env.config.validate("trading config").map_err(|e| bad(e.to_string()))?;
        let store = open_store(db, env, true)?;
        let engine = Engine::paper(env.config.clone(), env.instruments.clone());
        let p = Rc::clone(printer);
        let session = TradingSession::open(store, engine, env.now, &mut |ev| p.borrow_mut().print(ev))?;
        let start = session.engine().now();
        let sim = MarketSimulator::new(SimConfig { seed, ..SimConfig::default() }, start)
            .map_err(|e| bad(format!("simulator: {e}")))?;
        Ok(Self { session, sim, batch: Vec::new() })
    }

    /// Steps the simulator once and feeds the batch to the session.
    fn step(&mut self, printer: &Rc<RefCell<Printer<'_>>>) -> Result<(), CliError> {
        self.batch.clear();
        self.sim.step(&mut self.batch);
        let p = Rc::clone(printer);
        let mut sink = |ev: &EngineEvent| p.borrow_mut().print(ev);
        for ev in &self.batch {
            self.session.on_market(ev, &mut sink)?;
        }
        check_io(printer)
    }
}

fn check_io(printer: &Rc<RefCell<Printer<'_>>>) -> Result<(), CliError> {
    match printer.borrow_mut().error.take() {
        Some(e) => Err(CliError::Io(e.to_string())),
        None => Ok(()),
    }
}

/// Parses an optional price argument.
fn arg_price(field: &'static str, s: Option<&String>) -> Result<Option<f64>, CliError> {
    match s {
        Some(s) => {
            crude_model::parse_price(field, s).map_err(|e| bad(format!("--{}: {}", field.replace('_', "-"), e.reason)))
        }
        None => Ok(None),
    }
}

/// `crude trade --db PATH submit --contract C --side buy|sell --qty N --type T [--price P]
/// [--stop-price S] [--tif day|gtc|ioc|fok] [--strategy NAME] [--json]`: enters one paper
/// order, lets it work against the seeded simulator for `submit_window_ms` of simulated
/// time after its acknowledgement (or until it is done), and prints its events and a
/// summary.
///
/// # Errors
/// [`CliError::BadInput`] for a bad field (naming it; nothing is written for the order),
/// [`CliError::PreTradeRejected`], [`CliError::Store`], [`CliError::Io`].
pub fn trade_submit(db: &Path, args: &SubmitArgs, env: &CliEnv, out: &mut dyn Write) -> Result<(), CliError> {
    trade_submit_with(db, args, env, &RunOptions::default(), out)
}

/// [`trade_submit`] with explicit pacing options.
///
/// # Errors
/// As [`trade_submit`].
pub fn trade_submit_with(
    db: &Path,
    args: &SubmitArgs,
    env: &CliEnv,
    opts: &RunOptions,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let field = |e: crude_model::OrderValidationError| bad(format!("--{}: {}", e.field.replace('_', "-"), e.reason));
    let side: Side = args.side.parse().map_err(field)?;
    let qty = crude_model::parse_qty(&args.qty).map_err(field)?;
    let order_type: OrderType = args.order_type.parse().map_err(field)?;
    let price = arg_price("price", args.price.as_ref())?;
    let stop_arg = arg_price("stop_price", args.stop_price.as_ref())?;
    let (limit_price, stop_price) = match order_type {
        OrderType::Market if price.is_some() => {
            return Err(bad("--price: a market order takes no price; drop --price or use --type limit"));
        }
        OrderType::Market => (None, None),
        OrderType::Limit => (Some(price.ok_or_else(|| bad("--price: a limit order needs --price"))?), None),
        OrderType::Stop => {
            (None, Some(price.or(stop_arg).ok_or_else(|| bad("--price: a stop order needs --price (the stop)"))?))
        }
        OrderType::StopLimit => {
            let l = price.ok_or_else(|| bad("--price: a stop_limit order needs --price (the limit)"))?;
            (Some(l), Some(stop_arg.unwrap_or(l)))
        }
    };
    if order_type != OrderType::StopLimit && stop_arg.is_some() && order_type != OrderType::Stop {
        return Err(bad("--stop-price: only stop and stop_limit orders take a stop price"));
    }
    let tif: TimeInForce = match &args.tif {
        Some(t) => t.parse().map_err(field)?,
        None => TimeInForce::Day,
    };
    let strategy = args.strategy.clone().unwrap_or_else(|| "manual".into());
    // Checks that need no market, before the database is touched.
    let today = trading_date(env.now);
    let symbol = parse_order_symbol(&args.contract, today).map_err(field)?;
    let build = |date: NaiveDate| crude_model::OrderRequest {
        contract: symbol.resolve(date),
        side,
        qty,
        order_type,
        limit_price,
        stop_price,
        tif,
        strategy: strategy.clone(),
        user: env.user.clone(),
        client_order_id: args.client_order_id.clone(),
    };
    validate_order_request(&build(today), &env.instruments, today, None, &env.config.validation).map_err(field)?;

    let _lock = lock_db(db)?;
    let printer =
        Rc::new(RefCell::new(Printer { out, json: args.json, current_line: None, lines: HashMap::new(), error: None }));
    let mut paper = Paper::open(db, env, args.seed, &printer)?;
    // The opening batch gives the reference price; check the order against it before
    // anything about the order is written.
    paper.batch.clear();
    paper.sim.step(&mut paper.batch);
    let t0 = paper.sim.now();
    let date = trading_date(t0);
    let req = build(date);
    let reference = paper.batch.iter().find_map(|e| match e {
        MarketEvent::Quote(q) if q.contract == req.contract => Some(q.mid()),
        _ => None,
    });
    validate_order_request(&req, &env.instruments, date, reference, &env.config.validation).map_err(field)?;
    if reference.is_none() {
        tracing::warn!(contract = %req.contract, "the simulator quotes no market for this contract; the fat-finger band was not checked");
    }
    {
        let p = Rc::clone(&printer);
        let mut sink = |ev: &EngineEvent| p.borrow_mut().print(ev);
        let batch = std::mem::take(&mut paper.batch);
        for ev in &batch {
            paper.session.on_market(ev, &mut sink)?;
        }
    }
    check_io(&printer)?;
    let outcome = {
        let p = Rc::clone(&printer);
        let mut sink = |ev: &EngineEvent| p.borrow_mut().print(ev);
        paper.session.submit(req, &mut sink)?
    };
    check_io(&printer)?;
    let ack_latency_ns = i64::try_from(env.config.broker.ack_latency_ms).unwrap_or(0) * 1_000_000;
    let window_ns = i64::try_from(opts.submit_window_ms).unwrap_or(0) * 1_000_000;
    let until = paper.session.engine().now().add_nanos(ack_latency_ns + window_ns);
    loop {
        let open = paper.session.engine().order(outcome.order_id).is_some_and(|o| o.is_open());
        if !open || paper.sim.next_event_time() > until {
            break;
        }
        paper.step(&printer)?;
    }
    {
        let p = Rc::clone(&printer);
        let mut sink = |ev: &EngineEvent| p.borrow_mut().print(ev);
        if paper.session.engine().order(outcome.order_id).is_some_and(|o| o.status == OrderStatus::PendingNew) {
            paper.session.advance_to(until, &mut sink)?;
        }
    }
    check_io(&printer)?;
    paper.session.save_marks()?;
    paper.session.checkpoint()?;
    let engine = paper.session.engine();
    let order = engine.order(outcome.order_id).cloned();
    let mut pr = printer.borrow_mut();
    let summary = json!({
        "event": "summary",
        "order_id": outcome.order_id,
        "client_order_id": outcome.client_order_id,
        "status": order.as_ref().map(|o| o.status.as_str()),
        "filled_qty": order.as_ref().map(|o| o.filled_qty),
        "avg_fill_price": order.as_ref().and_then(|o| o.avg_fill_price),
        "reference_price": reference,
        "pre_trade": pre_trade_json(&outcome),
        "time": format_time(engine.now()),
    });
    if pr.json {
        emit(pr.out, &summary.to_string())?;
    } else {
        let o = order.as_ref();
        emit(
            pr.out,
            &format!(
                "order {} ({}): {} — filled {} of {}{}; pre-trade {}{}",
                outcome.order_id,
                outcome.client_order_id,
                o.map_or("unknown", |o| o.status.as_str()),
                o.map_or(0, |o| o.filled_qty),
                o.map_or(0, |o| o.qty),
                o.and_then(|o| o.avg_fill_price).map(|p| format!(" at {p:.4}")).unwrap_or_default(),
                outcome.pre_trade.decision.as_str(),
                if outcome.pre_trade.reasons.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", outcome.pre_trade.reasons.join("; "))
                }
            ),
        )?;
    }
    if outcome.pre_trade.decision == PreTradeDecision::Reject {
        return Err(CliError::PreTradeRejected {
            order_id: outcome.order_id,
            reasons: outcome.pre_trade.reasons.join("; "),
        });
    }
    Ok(())
}

fn pre_trade_json(o: &SubmitOutcome) -> Value {
    json!({
        "decision": o.pre_trade.decision.as_str(),
        "reasons": o.pre_trade.reasons,
        "margin_usd": o.pre_trade.post_trade.as_ref().map(|m| m.margin_usd),
        "var_usd": o.pre_trade.post_trade.as_ref().and_then(|m| m.var_usd),
        "utilisations": o.pre_trade.post_trade.as_ref().map(|m| m.utilisations.iter().map(|(n, u)| json!({"limit": n, "utilisation": u})).collect::<Vec<_>>()),
    })
}

/// `crude trade --db PATH run --orders FILE.csv [--seed S] [--json]`: checks every line of
/// the file first (any bad line: exit 2, nothing written), then runs the orders one every
/// `order_interval_ms` of simulated time through validation (the fat-finger band against
/// the simulated market), the pre-trade check and the paper broker against the seeded
/// simulator at full speed, committing every event before printing it, until every order
/// is done or the session of the last order closes. Prints a summary. `err` receives the
/// messages of orders refused at submission (those make the exit status 2).
///
/// # Errors
/// [`CliError::BadInput`] (file problems), [`CliError::OrdersRefused`], [`CliError::Store`],
/// [`CliError::Io`].
pub fn trade_run(
    db: &Path,
    args: &RunArgs,
    env: &CliEnv,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<RunSummary, CliError> {
    let label = args.orders.display().to_string();
    let text =
        std::fs::read_to_string(&args.orders).map_err(|e| bad(format!("{label}: cannot read the order file: {e}")))?;
    if args.options.order_interval_ms == 0 {
        return Err(bad("order interval must be at least 1 ms"));
    }
    // The file is checked against the trading date at the earliest possible start.
    let reference = trading_date(env.now);
    let orders = parse_orders_csv(&text, &label, reference, &env.instruments, &env.config.validation, &env.user)
        .map_err(|errs| bad(errs.join("\n")))?;

    let _lock = lock_db(db)?;
    let printer =
        Rc::new(RefCell::new(Printer { out, json: args.json, current_line: None, lines: HashMap::new(), error: None }));
    let mut paper = Paper::open(db, env, args.seed, &printer)?;
    let committed_before = paper.session.committed_events();
    let interval_ns = i64::try_from(args.options.order_interval_ms).unwrap_or(i64::MAX / 2).saturating_mul(1_000_000);
    // Opening batch first: orders need a market.
    paper.step(&printer)?;
    let sim_start = paper.sim.now();
    let hard_stop = args
        .options
        .max_sim_secs
        .map(|s| sim_start.add_nanos(i64::try_from(s).unwrap_or(i64::MAX / 2).saturating_mul(1_000_000_000)));
    let mut next_at = sim_start;
    let mut idx = 0usize;
    let mut run_ids: Vec<u64> = Vec::new();
    let mut refused: Vec<u64> = Vec::new();
    let mut horizon: Option<Timestamp> = None;
    loop {
        let t_next = paper.sim.next_event_time();
        if idx < orders.len() && next_at <= t_next && hard_stop.is_none_or(|h| next_at <= h) {
            let o = &orders[idx];
            idx += 1;
            match submit_file_order(&mut paper, o, env, &printer) {
                Ok(id) => run_ids.push(id),
                Err(msg) => {
                    refused.push(o.line);
                    writeln!(err, "{label} line {}: {msg}", o.line)?;
                    err.flush()?;
                }
            }
            check_io(&printer)?;
            let t = paper.session.engine().now();
            if idx == orders.len() {
                horizon = Some(session_close_after(t));
            }
            next_at = t.add_nanos(interval_ns);
            continue;
        }
        let all_done = idx == orders.len()
            && run_ids.iter().all(|id| paper.session.engine().order(*id).is_none_or(|o| !o.is_open()));
        if all_done {
            break;
        }
        let limit = match (horizon, hard_stop) {
            (Some(h), Some(s)) => Some(h.min(s)),
            (h, s) => h.or(s),
        };
        if let Some(l) = limit
            && t_next > l
        {
            // Let the last instant pass so DAY orders expire at the close.
            let p = Rc::clone(&printer);
            let mut sink = |ev: &EngineEvent| p.borrow_mut().print(ev);
            paper.session.advance_to(l, &mut sink)?;
            break;
        }
        paper.step(&printer)?;
    }
    check_io(&printer)?;
    paper.session.save_marks()?;
    paper.session.checkpoint()?;
    let engine = paper.session.engine();
    let mut summary = RunSummary {
        orders_in_file: orders.len(),
        submitted: run_ids.len(),
        refused: refused.len(),
        events_committed: paper.session.committed_events() - committed_before,
        sim_start: format_time(sim_start),
        sim_end: format_time(engine.now()),
        ..RunSummary::default()
    };
    for id in &run_ids {
        if let Some(o) = engine.order(*id) {
            *summary.by_status.entry(o.status.as_str().to_string()).or_default() += 1;
        }
    }
    let fills = paper.session.store().load_fills(&FillQuery { from_ts: Some(sim_start), ..FillQuery::default() })?;
    for f in fills.iter().filter(|f| run_ids.contains(&f.order_id)) {
        summary.fills += 1;
        summary.contracts_filled += f.qty;
        summary.commission_usd += f.commission_usd;
        summary.fees_usd += f.fees_usd;
    }
    let pnl = engine.summary();
    let positions: Vec<Value> = engine
        .positions()
        .iter()
        .filter(|p| p.qty != 0)
        .map(|p| json!({"contract": p.contract.to_string(), "qty": p.qty, "avg_price": p.avg_price, "mark": p.mark}))
        .collect();
    let mut pr = printer.borrow_mut();
    if pr.json {
        let mut v = serde_json::to_value(&summary).map_err(|e| CliError::Io(e.to_string()))?;
        v["event"] = json!("summary");
        v["seed"] = json!(args.seed);
        v["positions"] = json!(positions);
        v["realized_pnl"] = json!(pnl.total.realized_pnl_usd);
        v["unrealized_pnl"] = json!(pnl.total.unrealized_pnl_usd);
        v["day_pnl"] = json!(pnl.total.day_pnl_usd);
        emit(pr.out, &v.to_string())?;
    } else {
        let statuses: Vec<String> = summary.by_status.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let mut text = format!(
            "run of {} (seed {}), simulated {} .. {}\norders: {} in file, {} submitted, {} refused; {}\nfills: {} ({} contracts), commission ${:.2}, fees ${:.2}\nP&L: realised ${:.2}, unrealised ${:.2}, day ${:.2}",
            label,
            args.seed,
            summary.sim_start,
            summary.sim_end,
            summary.orders_in_file,
            summary.submitted,
            summary.refused,
            if statuses.is_empty() { "none".into() } else { statuses.join(", ") },
            summary.fills,
            summary.contracts_filled,
            summary.commission_usd,
            summary.fees_usd,
            pnl.total.realized_pnl_usd,
            pnl.total.unrealized_pnl_usd,
            pnl.total.day_pnl_usd
        );
        for p in engine.positions().iter().filter(|p| p.qty != 0) {
            text.push_str(&format!("\nposition {} {:+} @ {:.4}", p.contract, p.qty, p.avg_price));
        }
        emit(pr.out, &text)?;
    }
    drop(pr);
    if !refused.is_empty() {
        let lines: Vec<String> = refused.iter().map(u64::to_string).collect();
        return Err(CliError::OrdersRefused { count: refused.len(), lines: lines.join(", ") });
    }
    Ok(summary)
}

/// Validates and submits one file order at the current simulated time; `Err` is the
/// refusal message (nothing written).
fn submit_file_order(
    paper: &mut Paper,
    o: &FileOrder,
    env: &CliEnv,
    printer: &Rc<RefCell<Printer<'_>>>,
) -> Result<u64, String> {
    let now = paper.session.engine().now();
    let req = o.request(trading_date(now), &env.user);
    printer.borrow_mut().current_line = Some(o.line);
    let p = Rc::clone(printer);
    let mut sink = |ev: &EngineEvent| p.borrow_mut().print(ev);
    let res = paper.session.submit(req, &mut sink);
    printer.borrow_mut().current_line = None;
    match res {
        Ok(out) => Ok(out.order_id),
        Err(SessionError::Trading(crate::TradingError::Invalid(e))) => {
            Err(format!("field {}: {}", rename_price(e.field), e.reason))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn rename_price(field: &str) -> &str {
    match field {
        "limit_price" | "stop_price" => "price",
        f => f,
    }
}

/// Parses a `--from` / `--to` date.
fn parse_date(flag: &str, s: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| bad(format!("--{flag}: '{s}' is not a date; use YYYY-MM-DD")))
}

/// Turns `--contract` into a fill filter: a market root, or a contract month.
fn contract_filter(s: &str, q: &mut FillQuery) -> Result<(), CliError> {
    let t = s.trim();
    if let Ok(m) = Market::parse_root(t) {
        q.market = Some(m);
        return Ok(());
    }
    if let Ok(c) = t.parse::<ContractId>() {
        q.contract = Some(c);
        return Ok(());
    }
    // One-digit years match the code as shown on screen (any decade).
    let any_date = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN);
    match parse_symbol(t, any_date) {
        Ok(Symbol::Specific(c)) => {
            q.contract_code = Some(c.to_string());
            Ok(())
        }
        Ok(Symbol::Generic { .. }) => {
            Err(bad(format!("--contract: {t} is a generic; name a month such as CLF7 or a market such as CL")))
        }
        Err(e) => Err(bad(format!("--contract: {e}"))),
    }
}

/// `crude blotter --db PATH [--from DATE] [--to DATE] [--strategy S] [--contract C]
/// [--export FILE.csv] [--json]`: fills with their orders. `--json` prints an array of
/// rows (`fill_id, order_id, client_order_id, time, trading_date, contract, market, side,
/// qty, price, commission_usd, fees_usd, liquidity, strategy, arrival_price, slippage_usd,
/// realized_pnl_usd`); `--export` writes them as CSV; without either, a table with the
/// summary and attribution by strategy. Dates are UTC calendar dates of the fill time,
/// both inclusive.
///
/// # Errors
/// [`CliError::BadInput`] for bad arguments, [`CliError::Store`], [`CliError::Io`].
pub fn blotter(db: &Path, args: &BlotterArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut q = FillQuery::default();
    if let Some(f) = &args.from {
        q.from_ts = Some(Timestamp::from_date(parse_date("from", f)?));
    }
    if let Some(t) = &args.to {
        let d = parse_date("to", t)?;
        q.to_ts = Some(Timestamp::from_date(d.succ_opt().unwrap_or(d)));
    }
    if let (Some(a), Some(b)) = (q.from_ts, q.to_ts)
        && a >= b
    {
        return Err(bad("--from is after --to; swap them"));
    }
    q.strategy = args.strategy.clone();
    if let Some(c) = &args.contract {
        contract_filter(c, &mut q)?;
    }
    let store = Store::open_existing(db)?;
    let instruments = Instruments::builtin().map_err(|e| bad(e.to_string()))?;
    let fills = store.load_fills(&q)?;
    let history = store.load_all_fills()?;
    let orders = store.load_all_orders()?;
    let rows = blotter_rows(&fills, &history, &orders, &instruments);
    if let Some(path) = &args.export {
        let f = File::create(path).map_err(|e| bad(format!("--export: cannot create {}: {e}", path.display())))?;
        write_csv(&rows, std::io::BufWriter::new(f)).map_err(|e| CliError::Io(format!("{}: {e}", path.display())))?;
        if !args.json {
            emit(out, &format!("exported {} fills to {}", rows.len(), path.display()))?;
        }
    }
    if args.json {
        let v = serde_json::to_string(&rows).map_err(|e| CliError::Io(e.to_string()))?;
        emit(out, &v)?;
    } else if args.export.is_none() {
        emit(out, "fill_id  order_id  time                      contract  side  qty  price        strategy")?;
        for r in &rows {
            emit(
                out,
                &format!(
                    "{:>7}  {:>8}  {:<24}  {:<8}  {:<4}  {:>3}  {:<11}  {}",
                    r.fill_id, r.order_id, r.time, r.contract, r.side, r.qty, r.price, r.strategy
                ),
            )?;
        }
        let s = summarize(&rows);
        emit(
            out,
            &format!(
                "{} fills, {} contracts; gross ${:.2}, fees ${:.2}, net ${:.2}, slippage ${:.2}",
                s.fills, s.contracts, s.gross_pnl_usd, s.fees_usd, s.net_pnl_usd, s.slippage_usd
            ),
        )?;
        for a in attribution(&rows) {
            emit(
                out,
                &format!(
                    "strategy {}: {} fills, net ${:.2}, hit rate {}, average trade {}",
                    a.strategy,
                    a.fills,
                    a.net_pnl_usd,
                    a.hit_rate.map_or("-".into(), |h| format!("{:.0}%", h * 100.0)),
                    a.average_trade_usd.map_or("-".into(), |x| format!("${x:.2}"))
                ),
            )?;
        }
    }
    Ok(())
}

/// `crude positions --db PATH [--json]`: positions per contract rebuilt from every fill,
/// marked at the last stored marks. `--json` prints an array of `{contract, market, qty
/// (signed), avg_price, mark, realized_pnl, unrealized_pnl, fees, net_pnl, multiplier,
/// fills}`; contracts traded back to flat are included with qty 0.
///
/// # Errors
/// [`CliError::Store`], [`CliError::Io`].
pub fn positions(db: &Path, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let store = Store::open_existing(db)?;
    let instruments = Instruments::builtin().map_err(|e| bad(e.to_string()))?;
    let fills = store.load_all_fills()?;
    let mut keeper = PositionKeeper::from_fills(&instruments, &fills);
    for m in store.load_marks()? {
        keeper.mark(m.contract, m.price);
    }
    let mut list: Vec<&crude_model::Position> = keeper.positions().iter().collect();
    list.sort_by_key(|p| p.contract);
    if json {
        let rows: Vec<Value> = list
            .iter()
            .map(|p| {
                json!({
                    "contract": p.contract.to_string(),
                    "market": p.contract.market.code(),
                    "qty": p.qty,
                    "avg_price": p.avg_price,
                    "mark": p.mark,
                    "realized_pnl": p.realized_pnl_usd,
                    "unrealized_pnl": p.unrealized_pnl_usd(),
                    "fees": p.fees_usd,
                    "net_pnl": p.net_pnl_usd(),
                    "multiplier": p.multiplier,
                    "fills": p.fill_count,
                })
            })
            .collect();
        emit(out, &Value::Array(rows).to_string())?;
    } else {
        emit(out, "contract       qty    avg_price         mark   realized_pnl  unrealized_pnl")?;
        for p in &list {
            emit(
                out,
                &format!(
                    "{:<10} {:>+7} {:>12.4} {:>12} {:>14.2} {:>15.2}",
                    p.contract.to_string(),
                    p.qty,
                    p.avg_price,
                    p.mark.map_or("-".into(), |m| format!("{m:.4}")),
                    p.realized_pnl_usd,
                    p.unrealized_pnl_usd()
                ),
            )?;
        }
        let s = keeper.summary();
        emit(
            out,
            &format!(
                "total: realised ${:.2}, unrealised ${:.2}, fees ${:.2}, net ${:.2}",
                s.total.realized_pnl_usd, s.total.unrealized_pnl_usd, s.total.fees_usd, s.total.net_pnl_usd
            ),
        )?;
    }
    Ok(())
}

/// `crude audit --db PATH verify [--json]`: recomputes the audit log's hash chain and checks
/// that orders, order events and fills agree. Prints the result; a broken chain names the
/// first broken row.
///
/// # Errors
/// [`CliError::Verification`] when the chain breaks or the tables disagree,
/// [`CliError::Store`], [`CliError::Io`].
pub fn audit_verify(db: &Path, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let store = Store::open_existing(db)?;
    let v = store.verify_audit_chain()?;
    let c = store.check_consistency()?;
    if json {
        emit(
            out,
            &json!({
                "ok": v.is_ok() && c.is_consistent(),
                "audit_rows": v.rows_checked,
                "head_hash": v.head_hash,
                "first_broken": v.first_broken,
                "orders": c.orders,
                "order_events": c.events,
                "fills": c.fills,
                "problems": c.problems,
            })
            .to_string(),
        )?;
    } else {
        match &v.first_broken {
            None => emit(out, &format!("audit chain OK: {} rows verified, head hash {}", v.rows_checked, v.head_hash))?,
            Some(b) => emit(out, &format!("audit chain BROKEN at row {}: {}", b.seq, b.reason))?,
        }
        if c.is_consistent() {
            emit(
                out,
                &format!("orders consistent: {} orders, {} order events, {} fills", c.orders, c.events, c.fills),
            )?;
        } else {
            for p in &c.problems {
                emit(out, &format!("inconsistent: {p}"))?;
            }
        }
    }
    if let Some(b) = v.first_broken {
        return Err(CliError::Verification(format!("audit chain broken at row {}: {}", b.seq, b.reason)));
    }
    if !c.is_consistent() {
        return Err(CliError::Verification(format!(
            "{} inconsistencies between orders, events and fills",
            c.problems.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders_file::split_price;

    #[test]
    fn split_price_used_for_submit_matches_file_rules() {
        assert_eq!(split_price(OrderType::StopLimit, "70.5/70.6").unwrap(), (Some(70.6), Some(70.5)));
        assert!(split_price(OrderType::Market, "1").is_err());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(bad("x").exit_code(), 2);
        assert_eq!(CliError::OrdersRefused { count: 1, lines: "2".into() }.exit_code(), 2);
        assert_eq!(CliError::PreTradeRejected { order_id: 1, reasons: String::new() }.exit_code(), 3);
        assert_eq!(CliError::Verification("x".into()).exit_code(), 1);
        assert_eq!(CliError::Store(StoreError::Missing { path: "x".into() }).exit_code(), 2);
    }
}
