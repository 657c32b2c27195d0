//! Paper trading from the command line (`crude trade submit`, `crude trade run`) on the
//! inline kernel: the seeded market simulator feeds the same trading and risk services the
//! app runs, so an order is judged by the app's pre-trade check — the limits of
//! `config/risk_limits.yaml` (with their `MAX_*` overrides), the VaR check on the return
//! history, the circuit breaker at the daily drawdown limit — and every event is committed
//! to SQLite before it is printed.
//!
//! Time is the simulator's, starting at `now` or just after the last event of the database
//! ([`crude_trading::cli::session_start`]); the kernel's clock follows the market events.
//! Output and exit codes are those of [`crude_trading::cli`].

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crude_feeds::FeedBatch;
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_model::{
    Clock, MarketEvent, Order, OrderStatus, PreTradeDecision, SimClock, Timestamp, session_close_after, trading_date,
};
use crude_risk::{RiskLimits, StressScenario};
use crude_trading::blotter::format_time;
use crude_trading::cli::{
    CliEnv, CliError, EventPrinter, RunArgs, RunOptions, RunSummary, SubmitArgs, plan_run, plan_submit, pre_trade_json,
    rename_price, session_start,
};
use crude_trading::{EngineEvent, PnlSummary, SubmitOutcome};
use serde_json::{Value, json};

use crate::inline::InlineKernel;
use crate::kernel::{KernelConfig, KernelUpdate};
use crate::services::risk::{RiskHistorySource, RiskServiceConfig};
use crate::services::trading::{
    TicketError, TradingCommand, TradingServiceConfig, TradingSnapshot, TradingStatus, TradingUpdate,
};

/// The risk side of a paper command: the limits in force and where the VaR check's return
/// history comes from (as the app takes them).
#[derive(Debug, Clone)]
pub struct PaperRisk {
    /// The limits (the file with the environment's overrides applied).
    pub limits: RiskLimits,
    /// The limits file (for messages; a paper command never writes it).
    pub limits_path: PathBuf,
    /// The return history; `RiskHistorySource::None` leaves the VaR check out (the limits
    /// still apply).
    pub history: RiskHistorySource,
    /// NAV for the `% of NAV` figures, USD.
    pub nav_usd: f64,
    /// Stress scenarios judged by the stress-loss limit.
    pub scenarios: Vec<StressScenario>,
}

impl PaperRisk {
    /// The app's default for the simulator with `seed`: the built-in limits, the
    /// simulator's own history, the built-in scenarios.
    pub fn simulated(limits: RiskLimits, limits_path: impl Into<PathBuf>, seed: u64) -> Self {
        Self {
            limits,
            limits_path: limits_path.into(),
            history: RiskHistorySource::simulated(SimConfig { seed, ..SimConfig::default() }),
            nav_usd: crude_risk::DEFAULT_NAV_USD,
            scenarios: crude_risk::builtin_scenarios(),
        }
    }
}

/// A paper session: the inline kernel (trading and risk) and the seeded simulator.
struct Paper<'a> {
    kernel: InlineKernel,
    sim: MarketSimulator,
    printer: EventPrinter<'a>,
    /// The latest state of every order this session reported.
    orders: HashMap<u64, Order>,
    /// Fills reported, per order: (qty, commission, fees).
    fills: Vec<(u64, i64, f64, f64)>,
    events: u64,
    snapshot: Option<Box<TradingSnapshot>>,
    submitted: Option<Result<SubmitOutcome, TicketError>>,
    stopped: Option<String>,
}

impl<'a> Paper<'a> {
    /// The seeded simulator from where the database's events end; nothing is written.
    fn market(db: &Path, env: &CliEnv, seed: u64) -> Result<MarketSimulator, CliError> {
        env.config.validate("trading config").map_err(|e| CliError::BadInput(e.to_string()))?;
        let start = session_start(db, env)?;
        MarketSimulator::new(SimConfig { seed, ..SimConfig::default() }, start)
            .map_err(|e| CliError::BadInput(format!("simulator: {e}")))
    }

    /// Opens (creating) the database and starts the kernel on `sim`'s market.
    fn open(
        db: &Path,
        env: &CliEnv,
        sim: MarketSimulator,
        start: Timestamp,
        risk: PaperRisk,
        printer: EventPrinter<'a>,
    ) -> Result<Self, CliError> {
        let clock = Arc::new(SimClock::new(start));
        let wall: Arc<dyn Clock> = clock.clone();
        let mut trading = TradingServiceConfig::new(db.to_path_buf(), env.config.clone(), wall.clone())
            .map_err(|e| CliError::BadInput(e.to_string()))?;
        trading.instruments = env.instruments.clone();
        trading.durability = env.durability;
        trading.user = env.user.clone();
        trading.engine_events = true;
        let mut risk_cfg = RiskServiceConfig::new(risk.limits, risk.limits_path, risk.history, risk.nav_usd, wall)
            .map_err(|e| CliError::BadInput(e.to_string()))?;
        risk_cfg.scenarios = risk.scenarios;
        // The command line needs the pre-trade check, not the Risk panel's figures.
        risk_cfg.check_only = true;
        let config = KernelConfig { trading: Some(trading), risk: Some(risk_cfg), ..KernelConfig::default() };
        let kernel = InlineKernel::new(config, clock);
        let mut p = Self {
            kernel,
            sim,
            printer,
            orders: HashMap::new(),
            fills: Vec::new(),
            events: 0,
            snapshot: None,
            submitted: None,
            stopped: None,
        };
        p.drain()?;
        Ok(p)
    }

    /// Prints what the kernel reported and keeps what the command needs.
    fn drain(&mut self) -> Result<(), CliError> {
        while let Some(u) = self.kernel.try_recv() {
            match u {
                KernelUpdate::Trading(TradingUpdate::Engine(ev)) => {
                    self.events += 1;
                    match &*ev {
                        EngineEvent::Order { order, .. } => {
                            self.orders.insert(order.order_id, order.clone());
                        }
                        EngineEvent::Fill { order, fill, .. } => {
                            self.orders.insert(order.order_id, order.clone());
                            self.fills.push((fill.order_id, fill.qty, fill.commission_usd, fill.fees_usd));
                        }
                        EngineEvent::Audit(_) => {}
                    }
                    self.printer.print(&ev);
                }
                KernelUpdate::Trading(TradingUpdate::Snapshot(s)) => self.snapshot = Some(s),
                KernelUpdate::Trading(TradingUpdate::Submitted { result, .. }) => self.submitted = Some(result),
                KernelUpdate::Trading(TradingUpdate::Status(TradingStatus::Stopped(why))) => self.stopped = Some(why),
                KernelUpdate::Failed { service, reason } => {
                    self.stopped = Some(format!("the {} service could not start: {reason}", service.name()));
                }
                _ => {}
            }
        }
        self.printer.check()?;
        match &self.stopped {
            Some(why) => Err(stopped_error(why)),
            None => Ok(()),
        }
    }

    /// Steps the simulator once and feeds the batch to the kernel.
    fn step(&mut self) -> Result<(), CliError> {
        let mut events = Vec::new();
        self.sim.step(&mut events);
        self.feed(events)
    }

    fn feed(&mut self, events: Vec<MarketEvent>) -> Result<(), CliError> {
        let batch = FeedBatch { events: events.into(), sent_wall: self.kernel.now(), history: false };
        self.kernel.feed(&batch);
        self.drain()
    }

    fn command(&mut self, cmd: TradingCommand) -> Result<(), CliError> {
        self.kernel.command(cmd);
        self.drain()
    }

    /// Enters `request`; the kernel's answer (the outcome, or why it was refused).
    fn submit(&mut self, request: crude_model::OrderRequest) -> Result<Result<SubmitOutcome, TicketError>, CliError> {
        self.submitted = None;
        self.command(TradingCommand::Submit { request_id: 0, request })?;
        self.submitted.take().ok_or_else(|| {
            CliError::Session(crude_trading::SessionError::Poisoned("the order was not answered".into()))
        })
    }

    fn is_open(&self, order_id: u64) -> bool {
        self.orders.get(&order_id).is_some_and(Order::is_open)
    }

    /// Saves the marks and checkpoints the database.
    fn close(&mut self) -> Result<(), CliError> {
        self.kernel.shutdown();
        self.drain()
    }

    fn pnl(&self) -> PnlSummary {
        self.snapshot.as_ref().map(|s| s.summary.clone()).unwrap_or_default()
    }
}

/// Refuses `contract` unless the paper market quotes it: an order on a month it does not
/// quote could never fill (or would be judged against no price). The message lists the
/// tradable months of the market.
fn quoted(sim: &MarketSimulator, contract: crude_model::ContractId) -> Result<(), String> {
    let months: Vec<crude_model::ContractId> =
        sim.contracts().into_iter().filter(|c| c.market == contract.market).collect();
    if months.contains(&contract) {
        return Ok(());
    }
    let range = match (months.first(), months.last()) {
        (Some(a), Some(b)) => format!("{a} to {b} ({} months)", months.len()),
        _ => "no month".into(),
    };
    Err(format!(
        "{contract} ({}) is not quoted by the paper market; {} trades {range}; pick one of those months or a generic such as {}1",
        contract.month,
        contract.market.code(),
        contract.market.code()
    ))
}

fn stopped_error(why: &str) -> CliError {
    if why.contains("in use by another trading session") || why.contains("not a Crude database") {
        CliError::BadInput(why.to_string())
    } else {
        CliError::Session(crude_trading::SessionError::Poisoned(why.to_string()))
    }
}

/// `crude trade --db PATH submit …`: enters one paper order through the kernel, lets it
/// work against the seeded simulator for `submit_window_ms` of simulated time after its
/// acknowledgement (or until it is done), and prints its events and a summary.
///
/// # Errors
/// [`CliError::BadInput`] for a bad field (naming it; nothing is written for the order),
/// [`CliError::PreTradeRejected`] (its reasons name the limit), [`CliError::Store`],
/// [`CliError::Io`].
pub fn trade_submit(
    db: &Path,
    args: &SubmitArgs,
    env: &CliEnv,
    risk: PaperRisk,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    trade_submit_with(db, args, env, risk, &RunOptions::default(), out)
}

/// [`trade_submit`] with explicit pacing options.
///
/// # Errors
/// As [`trade_submit`].
pub fn trade_submit_with(
    db: &Path,
    args: &SubmitArgs,
    env: &CliEnv,
    risk: PaperRisk,
    opts: &RunOptions,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let plan = plan_submit(args, env)?;
    // The opening batch gives the reference price; check the order against it before
    // anything is written (a refused order leaves no database behind).
    let mut sim = Paper::market(db, env, args.seed)?;
    let start = sim.now();
    let mut batch = Vec::new();
    sim.step(&mut batch);
    let date = trading_date(sim.now());
    let req = plan.request(date);
    quoted(&sim, req.contract).map_err(|m| CliError::BadInput(format!("--contract: {m}")))?;
    let reference = batch.iter().find_map(|e| match e {
        MarketEvent::Quote(q) if q.contract == req.contract => Some(q.mid()),
        _ => None,
    });
    plan.validate(date, reference, env)?;
    if reference.is_none() {
        tracing::warn!(contract = %req.contract, "the simulator quotes no market for this contract; the fat-finger band was not checked");
    }
    let mut paper = Paper::open(db, env, sim, start, risk, EventPrinter::new(out, args.json))?;
    paper.feed(batch)?;
    let outcome = paper.submit(req)?.map_err(|e| CliError::BadInput(e.to_string()))?;
    let ack_latency_ns = i64::try_from(env.config.broker.ack_latency_ms).unwrap_or(0) * 1_000_000;
    let window_ns = i64::try_from(opts.submit_window_ms).unwrap_or(0) * 1_000_000;
    let until = paper.kernel.now().add_nanos(ack_latency_ns + window_ns);
    while paper.is_open(outcome.order_id) && paper.sim.next_event_time() <= until {
        paper.step()?;
    }
    if paper.orders.get(&outcome.order_id).is_some_and(|o| o.status == OrderStatus::PendingNew) {
        paper.command(TradingCommand::AdvanceTo(until))?;
    }
    let now = paper.kernel.now();
    paper.close()?;
    let order = paper.orders.get(&outcome.order_id).cloned();
    let summary = json!({
        "event": "summary",
        "order_id": outcome.order_id,
        "client_order_id": outcome.client_order_id,
        "status": order.as_ref().map(|o| o.status.as_str()),
        "filled_qty": order.as_ref().map(|o| o.filled_qty),
        "avg_fill_price": order.as_ref().and_then(|o| o.avg_fill_price),
        "reference_price": reference,
        "pre_trade": pre_trade_json(&outcome),
        "time": format_time(now),
    });
    if paper.printer.json() {
        paper.printer.line(&summary.to_string())?;
    } else {
        let o = order.as_ref();
        let text = format!(
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
        );
        paper.printer.line(&text)?;
    }
    if outcome.pre_trade.decision == PreTradeDecision::Reject {
        return Err(CliError::PreTradeRejected {
            order_id: outcome.order_id,
            reasons: outcome.pre_trade.reasons.join("; "),
        });
    }
    Ok(())
}

/// `crude trade --db PATH run --orders FILE.csv [--seed S] [--json]`: checks every line of
/// the file first (any bad line: exit 2, nothing written), then runs the orders one every
/// `order_interval_ms` of simulated time through the kernel — validation (the fat-finger
/// band against the simulated market), the pre-trade check, the paper broker — against the
/// seeded simulator at full speed, committing every event before printing it, until every
/// order is done or the session of the last order closes. Prints a summary. `err`
/// receives the messages of orders refused at submission (those make the exit status 2).
///
/// # Errors
/// [`CliError::BadInput`] (file problems), [`CliError::OrdersRefused`], [`CliError::Store`],
/// [`CliError::Io`].
pub fn trade_run(
    db: &Path,
    args: &RunArgs,
    env: &CliEnv,
    risk: PaperRisk,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<RunSummary, CliError> {
    let label = args.orders.display().to_string();
    let orders = plan_run(args, env)?;
    let sim = Paper::market(db, env, args.seed)?;
    let start = sim.now();
    let mut paper = Paper::open(db, env, sim, start, risk, EventPrinter::new(out, args.json))?;
    let interval_ns = i64::try_from(args.options.order_interval_ms).unwrap_or(i64::MAX / 2).saturating_mul(1_000_000);
    // Opening batch first: orders need a market.
    paper.step()?;
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
            let req = o.request(trading_date(paper.kernel.now()), &env.user);
            let answer = match quoted(&paper.sim, req.contract) {
                Ok(()) => {
                    paper.printer.set_line(Some(o.line));
                    let answer = paper.submit(req);
                    paper.printer.set_line(None);
                    answer?
                }
                Err(m) => Err(TicketError { field: Some("contract".into()), message: m }),
            };
            match answer {
                Ok(outcome) => run_ids.push(outcome.order_id),
                Err(e) => {
                    refused.push(o.line);
                    let msg = match &e.field {
                        Some(f) => format!("field {}: {}", rename_price(f), e.message),
                        None => e.message.clone(),
                    };
                    writeln!(err, "{label} line {}: {msg}", o.line)?;
                    err.flush()?;
                }
            }
            let t = paper.kernel.now();
            if idx == orders.len() {
                horizon = Some(session_close_after(t));
            }
            next_at = t.add_nanos(interval_ns);
            continue;
        }
        let all_done = idx == orders.len() && run_ids.iter().all(|id| !paper.is_open(*id));
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
            paper.command(TradingCommand::AdvanceTo(l))?;
            break;
        }
        paper.step()?;
    }
    let sim_end = paper.kernel.now();
    paper.close()?;
    let mut summary = RunSummary {
        orders_in_file: orders.len(),
        submitted: run_ids.len(),
        refused: refused.len(),
        events_committed: paper.events,
        sim_start: format_time(sim_start),
        sim_end: format_time(sim_end),
        ..RunSummary::default()
    };
    for id in &run_ids {
        if let Some(o) = paper.orders.get(id) {
            *summary.by_status.entry(o.status.as_str().to_string()).or_default() += 1;
        }
    }
    for (order_id, qty, commission, fees) in &paper.fills {
        if run_ids.contains(order_id) {
            summary.fills += 1;
            summary.contracts_filled += qty;
            summary.commission_usd += commission;
            summary.fees_usd += fees;
        }
    }
    let pnl = paper.pnl();
    let open: Vec<(String, i64, f64, Option<f64>)> = paper
        .snapshot
        .as_ref()
        .map(|s| {
            s.positions
                .iter()
                .filter(|p| p.qty != 0)
                .map(|p| (p.contract.to_string(), p.qty, p.avg_price, p.mark))
                .collect()
        })
        .unwrap_or_default();
    if paper.printer.json() {
        let positions: Vec<Value> = open
            .iter()
            .map(|(c, q, avg, mark)| json!({"contract": c, "qty": q, "avg_price": avg, "mark": mark}))
            .collect();
        let mut v = serde_json::to_value(&summary).map_err(|e| CliError::Io(e.to_string()))?;
        v["event"] = json!("summary");
        v["seed"] = json!(args.seed);
        v["positions"] = json!(positions);
        v["realized_pnl"] = json!(pnl.total.realized_pnl_usd);
        v["unrealized_pnl"] = json!(pnl.total.unrealized_pnl_usd);
        v["day_pnl"] = json!(pnl.total.day_pnl_usd);
        paper.printer.line(&v.to_string())?;
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
        for (c, q, avg, _) in &open {
            text.push_str(&format!("\nposition {c} {q:+} @ {avg:.4}"));
        }
        paper.printer.line(&text)?;
    }
    if !refused.is_empty() {
        let lines: Vec<String> = refused.iter().map(u64::to_string).collect();
        return Err(CliError::OrdersRefused { count: refused.len(), lines: lines.join(", ") });
    }
    Ok(summary)
}
