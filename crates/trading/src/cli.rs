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
//! written for the refused order — and an order refused by the pre-trade check (recorded
//! as rejected, its reasons naming the limit); 1 anything else (I/O, a broken audit chain).
//!
//! `crude trade submit` and `crude trade run` run through the kernel (the same pre-trade
//! check, limits and circuit breaker as the app: `crude_kernel::paper`); this module holds
//! their arguments, output and checks, and the read commands.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use crude_model::{
    ContractId, Instruments, Market, OrderType, Side, Symbol, TimeInForce, Timestamp, parse_symbol, trading_date,
    validate_order_request,
};
use crude_store::{Durability, FillQuery, Store, StoreError, StoreOptions};
use serde_json::{Value, json};

use crate::blotter::{BlotterLine, BlotterRow, BlotterTotals, blotter_lines, format_time, write_csv};
use crate::config::TradingConfig;
use crate::engine::{EngineEvent, SubmitOutcome};
use crate::error::SessionError;
use crate::orders_file::{FileOrder, parse_order_symbol, parse_orders_csv};
use crate::positions::PositionKeeper;

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
    /// Process exit status: 2 bad input or a pre-trade rejection, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_) | CliError::OrdersRefused { .. } => 2,
            CliError::Store(e) if e.is_bad_file() => 2,
            CliError::PreTradeRejected { .. } => 2,
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

/// The output of a trading command: the writer, JSON or text, the file line of the order
/// being entered (added to its events as `"line"`), and the first write error.
pub struct EventPrinter<'a> {
    out: &'a mut dyn Write,
    json: bool,
    current_line: Option<u64>,
    lines: HashMap<u64, u64>,
    error: Option<std::io::Error>,
}

impl<'a> EventPrinter<'a> {
    /// Prints to `out`, as JSON lines when `json`.
    pub fn new(out: &'a mut dyn Write, json: bool) -> Self {
        Self { out, json, current_line: None, lines: HashMap::new(), error: None }
    }

    /// Whether the output is JSON lines.
    pub fn json(&self) -> bool {
        self.json
    }

    /// The order file line of the orders entered from now on (`None` after it).
    pub fn set_line(&mut self, line: Option<u64>) {
        self.current_line = line;
    }

    /// Prints one committed event.
    pub fn print(&mut self, ev: &EngineEvent) {
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

    /// Prints one line as it is.
    ///
    /// # Errors
    /// [`CliError::Io`] when writing fails.
    pub fn line(&mut self, text: &str) -> Result<(), CliError> {
        self.check()?;
        Ok(emit(self.out, text)?)
    }

    /// The first write error, if any.
    ///
    /// # Errors
    /// [`CliError::Io`] when a write failed.
    pub fn check(&mut self) -> Result<(), CliError> {
        match self.error.take() {
            Some(e) => Err(CliError::Io(e.to_string())),
            None => Ok(()),
        }
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

/// An order of `crude trade submit`, checked as far as it can be without a market; the
/// contract resolves on the trading date it is entered (as an order file's line does).
#[derive(Debug, Clone)]
pub struct PlannedOrder {
    order: FileOrder,
    user: String,
    client_order_id: Option<String>,
}

impl PlannedOrder {
    /// The order entered on `date`.
    pub fn request(&self, date: NaiveDate) -> crude_model::OrderRequest {
        let mut r = self.order.request(date, &self.user);
        r.client_order_id = self.client_order_id.clone();
        r
    }

    /// Validates the order entered on `date` against the market's `reference` price (the
    /// fat-finger band).
    ///
    /// # Errors
    /// [`CliError::BadInput`] naming the field (`--price`, `--qty`, …).
    pub fn validate(&self, date: NaiveDate, reference: Option<f64>, env: &CliEnv) -> Result<(), CliError> {
        validate_order_request(&self.request(date), &env.instruments, date, reference, &env.config.validation)
            .map_err(field_error)
    }
}

fn field_error(e: crude_model::OrderValidationError) -> CliError {
    // The order's `limit_price` and `stop_price` are typed as --price and --stop-price.
    let flag = match e.field {
        "limit_price" => "price",
        f => f,
    };
    bad(format!("--{}: {}", flag.replace('_', "-"), e.reason))
}

/// Parses and checks the arguments of `crude trade submit` before anything is written:
/// every field, and the order as entered today (`env.now`) without a market.
///
/// # Errors
/// [`CliError::BadInput`] naming the field.
pub fn plan_submit(args: &SubmitArgs, env: &CliEnv) -> Result<PlannedOrder, CliError> {
    let field = field_error;
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
    let today = trading_date(env.now);
    let symbol = parse_order_symbol(&args.contract, today).map_err(field)?;
    let order = FileOrder {
        line: 0,
        symbol,
        side,
        qty,
        order_type,
        limit_price,
        stop_price,
        tif,
        strategy: args.strategy.clone().unwrap_or_else(|| "manual".into()),
    };
    let plan = PlannedOrder { order, user: env.user.clone(), client_order_id: args.client_order_id.clone() };
    plan.validate(today, None, env)?;
    Ok(plan)
}

/// Checks the order file of `crude trade run` against the trading date at the earliest
/// possible start, before anything is written.
///
/// # Errors
/// [`CliError::BadInput`] listing every bad line.
pub fn plan_run(args: &RunArgs, env: &CliEnv) -> Result<Vec<FileOrder>, CliError> {
    let label = args.orders.display().to_string();
    let bytes = std::fs::read(&args.orders).map_err(|e| bad(format!("{label}: cannot read the order file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        let column = at - bytes[..at].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        bad(format!("{label}: line {line}, column {column}: not UTF-8 text (byte {at}); save the order file as UTF-8"))
    })?;
    if args.options.order_interval_ms == 0 {
        return Err(bad("order interval must be at least 1 ms"));
    }
    let reference = trading_date(env.now);
    parse_orders_csv(&text, &label, reference, &env.instruments, &env.config.validation, &env.user)
        .map_err(|errs| bad(errs.join("\n")))
}

/// The time a trading command's market starts at on `db`: `now`, or just after the last
/// event the database holds (event time never goes backwards across runs). A missing
/// database is not created here: `now`.
///
/// # Errors
/// [`CliError::Store`] when the database cannot be opened or read.
pub fn session_start(db: &Path, env: &CliEnv) -> Result<Timestamp, CliError> {
    if !db.exists() {
        return Ok(env.now);
    }
    let store = open_store(db, env, false)?;
    let last = store.high_water()?.last_event_ts;
    Ok(last.map_or(env.now, |t| env.now.max(t.add_nanos(1))))
}

/// The pre-trade result of a submitted order, as the summary line prints it.
pub fn pre_trade_json(o: &SubmitOutcome) -> Value {
    json!({
        "decision": o.pre_trade.decision.as_str(),
        "reasons": o.pre_trade.reasons,
        "margin_usd": o.pre_trade.post_trade.as_ref().map(|m| m.margin_usd),
        "var_usd": o.pre_trade.post_trade.as_ref().and_then(|m| m.var_usd),
        "utilisations": o.pre_trade.post_trade.as_ref().map(|m| m.utilisations.iter().map(|(n, u)| json!({"limit": n, "utilisation": u})).collect::<Vec<_>>()),
    })
}

/// The order file's name of a price field (`limit_price` and `stop_price` are `price`).
pub fn rename_price(field: &str) -> &str {
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
    let store = Store::open_read_only(db)?;
    let instruments = Instruments::builtin().map_err(|e| bad(e.to_string()))?;
    let (selected, history, orders) =
        store.read_snapshot(|s| Ok((s.load_fills(&q)?, s.load_all_fills()?, s.load_all_orders()?)))?;
    let wanted: std::collections::HashSet<u64> = selected.iter().map(|f| f.fill_id).collect();
    let lines = blotter_lines(&history, &orders, &instruments, |l| wanted.contains(&l.fill_id));
    let totals = BlotterTotals::over(&lines);
    let rows: Vec<BlotterRow> = lines.iter().map(BlotterLine::to_row).collect();
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
        let s = totals.summary();
        emit(
            out,
            &format!(
                "{} fills, {} contracts; gross ${:.2}, fees ${:.2}, net ${:.2}, slippage ${:.2}",
                s.fills, s.contracts, s.gross_pnl_usd, s.fees_usd, s.net_pnl_usd, s.slippage_usd
            ),
        )?;
        for a in totals.attribution() {
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
    let store = Store::open_read_only(db)?;
    let instruments = Instruments::builtin().map_err(|e| bad(e.to_string()))?;
    let (fills, marks) = store.read_snapshot(|s| Ok((s.load_all_fills()?, s.load_marks()?)))?;
    let mut keeper = PositionKeeper::from_fills(&instruments, &fills);
    for m in marks {
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
/// that orders, order events and fills agree, all read from one snapshot of a database
/// opened read-only (it can run while a session writes). Prints the result; a broken chain
/// names the first broken row.
///
/// # Errors
/// [`CliError::Verification`] when the chain breaks or the tables disagree,
/// [`CliError::Store`], [`CliError::Io`].
pub fn audit_verify(db: &Path, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let store = Store::open_read_only(db)?;
    let crude_store::Verification { audit: v, consistency: c } = store.verify()?;
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
        assert_eq!(CliError::PreTradeRejected { order_id: 1, reasons: String::new() }.exit_code(), 2);
        assert_eq!(CliError::Verification("x".into()).exit_code(), 1);
        assert_eq!(CliError::Store(StoreError::Missing { path: "x".into() }).exit_code(), 2);
    }

    /// The read commands open the database read-only: on a file 0444 they succeed and leave
    /// the directory exactly as it was (no -wal, -shm or .lock file, same size and time).
    #[test]
    fn read_commands_write_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        drop(Store::open(&db).unwrap());
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
        let state = || {
            let mut v: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let m = e.metadata().unwrap();
                    (e.file_name(), m.len(), m.modified().unwrap())
                })
                .collect();
            v.sort();
            v
        };
        let before = state();
        let mut out = Vec::new();
        positions(&db, true, &mut out).unwrap();
        blotter(&db, &BlotterArgs { json: true, ..BlotterArgs::default() }, &mut out).unwrap();
        audit_verify(&db, true, &mut out).unwrap();
        assert_eq!(state(), before);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"ok\":true"), "{text}");

        std::fs::write(dir.path().join("empty.db"), b"").unwrap();
        let e = positions(&dir.path().join("empty.db"), true, &mut Vec::new()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("empty.db") && e.to_string().contains("empty (0 bytes)"), "{e}");
        assert_eq!(std::fs::metadata(dir.path().join("empty.db")).unwrap().len(), 0);
    }
}
