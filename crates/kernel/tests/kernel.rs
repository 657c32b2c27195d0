//! The kernel with no UI at all: the wiring between trading and risk works with nothing
//! drawn (an order over a VaR limit set at run time is refused once risk has put the new
//! limit in force, and the edit is in the audit log), and the live and the inline runner
//! give the same fills, bit for bit, for the same inputs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_feeds::{FeedBatch, FeedPoll, MarketFeed, SimFeed};
use crude_kernel::services::risk::{RiskCommand, RiskHistorySource, RiskServiceConfig, RiskUpdate};
use crude_kernel::services::trading::{TradingCommand, TradingServiceConfig, TradingStatus, TradingUpdate};
use crude_kernel::{InlineKernel, KernelConfig, KernelUpdate, LiveKernel, ServiceId};
use crude_model::{Clock, LiveClock, Market, MarketEvent, OrderRequest, PreTradeDecision, SimClock, Timestamp};
use crude_risk::RiskLimits;
use crude_trading::{EngineEvent, SubmitOutcome, TradingConfig};
use tokio::sync::mpsc;

/// Wednesday 2026-11-18 10:00 ET: the market is open.
fn start() -> Timestamp {
    Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
}

fn sim() -> SimConfig {
    SimConfig { seed: 5, ..SimConfig::default() }
}

/// The market as batches: the start-up history, then `live_secs` of live events cut into
/// one-second batches.
fn market(live_secs: i64) -> (FeedBatch, Vec<FeedBatch>) {
    let mut feed = SimFeed::new(MarketSimulator::new(sim(), start()).unwrap(), 1);
    let history = FeedBatch { events: feed.initial_events().into(), sent_wall: Timestamp(0), history: true };
    let mut live = Vec::new();
    for _ in 0..live_secs {
        let t = feed.next_event_time().unwrap().add_nanos(Timestamp::NANOS_PER_SEC);
        let mut out = Vec::new();
        assert_eq!(feed.poll(t, &mut out), FeedPoll::Pending);
        out.retain(|e| !matches!(e, MarketEvent::Status { .. }));
        live.push(FeedBatch { events: out.into(), sent_wall: Timestamp(0), history: false });
    }
    (history, live)
}

fn config(dir: &std::path::Path, clock: Arc<dyn Clock>) -> KernelConfig {
    let trading = TradingServiceConfig::new(dir.join("crude.db"), TradingConfig::default(), clock.clone()).unwrap();
    let limits_path = dir.join("risk_limits.yaml");
    RiskLimits::default().save(&limits_path).unwrap();
    let history = RiskHistorySource::simulated_days(sim(), 300);
    let mut risk = RiskServiceConfig::new(RiskLimits::default(), &limits_path, history, 50_000_000.0, clock).unwrap();
    risk.window_days = 250;
    risk.mc_paths = 2_000;
    KernelConfig { trading: Some(trading), risk: Some(risk), ..KernelConfig::default() }
}

fn order(qty: i64) -> OrderRequest {
    let c = Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap());
    OrderRequest::market(c, crude_model::Side::Buy, qty).with_strategy("kernel-test")
}

/// What a driver keeps of the updates: fills, submit answers, and whether the check and
/// the limits are in force.
#[derive(Default)]
struct Seen {
    fills: Vec<crude_model::Fill>,
    submitted: HashMap<u64, Result<SubmitOutcome, String>>,
    ready: bool,
    check_installs: usize,
    limits_saved: bool,
    stopped: Option<String>,
}

impl Seen {
    fn apply(&mut self, u: KernelUpdate) {
        match u {
            KernelUpdate::Trading(TradingUpdate::Engine(ev)) => {
                if let EngineEvent::Fill { fill, .. } = *ev {
                    self.fills.push(fill);
                }
            }
            KernelUpdate::Trading(TradingUpdate::Submitted { request_id, result }) => {
                self.submitted.insert(request_id, result.map_err(|e| e.to_string()));
            }
            KernelUpdate::Trading(TradingUpdate::Status(TradingStatus::Ready)) => self.ready = true,
            KernelUpdate::Trading(TradingUpdate::Status(TradingStatus::Stopped(why))) => self.stopped = Some(why),
            KernelUpdate::Trading(TradingUpdate::Activity(a)) if a.text.starts_with("Pre-trade check installed") => {
                self.check_installs += 1;
            }
            KernelUpdate::Risk(RiskUpdate::LimitsSaved { .. }) => self.limits_saved = true,
            KernelUpdate::Failed { service, reason } => panic!("{} did not start: {reason}", service.name()),
            _ => {}
        }
    }
}

/// Drives a live kernel: feeds its services' taps and drains it, with bounded waits.
struct Live {
    kernel: LiveKernel,
    taps: Vec<mpsc::Sender<FeedBatch>>,
    seen: Seen,
}

impl Live {
    fn new(dir: &std::path::Path) -> Self {
        let mut taps = Vec::new();
        let kernel = LiveKernel::start(
            {
                let mut c = config(dir, Arc::new(LiveClock));
                for t in c.trading.iter_mut() {
                    t.engine_events = true;
                }
                c
            },
            |_id: ServiceId| {
                let (tx, rx) = mpsc::channel(1 << 12);
                taps.push(tx);
                rx
            },
            Arc::new(|| {}),
        );
        Self { kernel, taps, seen: Seen::default() }
    }

    fn feed(&self, b: &FeedBatch) {
        for t in &self.taps {
            t.try_send(b.clone()).unwrap();
        }
    }

    fn until(&mut self, what: &str, pred: impl Fn(&Seen) -> bool) {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(60) {
            let seen = &mut self.seen;
            self.kernel.drain(256, |u| seen.apply(u));
            assert!(self.seen.stopped.is_none(), "trading stopped: {:?}", self.seen.stopped);
            if pred(&self.seen) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("timed out waiting for {what}");
    }
}

fn rejected_for_var(r: &Result<SubmitOutcome, String>) -> bool {
    matches!(r, Ok(o) if o.pre_trade.decision == PreTradeDecision::Reject
        && o.pre_trade.reasons.iter().any(|x| x.contains("VaR")))
}

#[test]
fn a_var_limit_set_at_run_time_refuses_orders_with_no_ui() {
    let dir = tempfile::tempdir().unwrap();
    let (history, live) = market(20);
    let mut k = Live::new(dir.path());
    k.feed(&history);
    k.feed(&live[0]);
    // Risk builds its engine and hands trading its VaR check, inside the kernel.
    k.until("trading ready with the VaR check", |s| s.ready && s.check_installs >= 1);
    assert!(k.kernel.send(TradingCommand::Submit { request_id: 1, request: order(1) }));
    k.until("the first order's answer", |s| s.submitted.contains_key(&1));
    let first = &k.seen.submitted[&1];
    assert!(matches!(first, Ok(o) if o.pre_trade.decision != PreTradeDecision::Reject), "{first:?}");
    // The risk manager lowers the VaR limit; the risk service saves it and installs the new
    // check in trading, and trading records the edit in its audit log.
    let mut tight = RiskLimits::default();
    tight.set("var.limit_usd", 100.0).unwrap();
    let installs = k.seen.check_installs;
    assert!(k.kernel.send(RiskCommand::SaveLimits(Box::new(tight))));
    k.until("the new check", |s| s.limits_saved && s.check_installs > installs);
    assert!(k.kernel.send(TradingCommand::Submit { request_id: 2, request: order(1) }));
    k.until("the second order's answer", |s| s.submitted.contains_key(&2));
    let second = &k.seen.submitted[&2];
    assert!(rejected_for_var(second), "{second:?}");
    k.kernel.shutdown();
    let db = crude_store::Store::open_existing(&dir.path().join("crude.db")).unwrap();
    let edits = db.load_audit(None).unwrap();
    assert!(
        edits.iter().any(|a| a.action == crude_trading::actions::LIMIT_EDIT && a.details.contains("var.limit_usd")),
        "the edit is in the audit log"
    );
}

#[test]
fn the_inline_kernel_judges_by_the_same_check() {
    let dir = tempfile::tempdir().unwrap();
    let (history, live) = market(5);
    let clock = Arc::new(SimClock::new(start()));
    let mut cfg = config(dir.path(), clock.clone());
    let risk = cfg.risk.as_mut().unwrap();
    risk.limits.set("var.limit_usd", 100.0).unwrap();
    let mut k = InlineKernel::new(cfg, clock);
    k.feed(&history);
    k.feed(&live[0]);
    assert!(k.command(TradingCommand::Submit { request_id: 7, request: order(1) }));
    let mut seen = Seen::default();
    for u in k.drain() {
        seen.apply(u);
    }
    assert!(rejected_for_var(&seen.submitted[&7]), "{:?}", seen.submitted.get(&7));
}

/// Runs the same script on a runner: history and one live second, three orders, then the
/// rest of the market; returns the fills.
fn script_inline(dir: &std::path::Path, history: &FeedBatch, live: &[FeedBatch]) -> Vec<crude_model::Fill> {
    let clock = Arc::new(SimClock::new(start()));
    let mut cfg = config(dir, clock.clone());
    cfg.trading.as_mut().unwrap().engine_events = true;
    let mut k = InlineKernel::new(cfg, clock);
    let mut seen = Seen::default();
    k.feed(history);
    k.feed(&live[0]);
    for (id, req) in orders() {
        k.command(TradingCommand::Submit { request_id: id, request: req });
    }
    for b in &live[1..] {
        k.feed(b);
    }
    k.shutdown();
    for u in k.drain() {
        seen.apply(u);
    }
    assert_eq!(seen.submitted.len(), 3);
    seen.fills
}

fn orders() -> Vec<(u64, OrderRequest)> {
    let c = Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap());
    let b = Market::Brent.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap());
    vec![
        (1, OrderRequest::market(c, crude_model::Side::Buy, 3)),
        (2, OrderRequest::market(b, crude_model::Side::Sell, 2)),
        (3, OrderRequest::market(c, crude_model::Side::Sell, 1)),
    ]
}

#[test]
fn live_and_inline_runners_give_the_same_fills_bit_for_bit() {
    let (history, live) = market(15);
    let inline_dir = tempfile::tempdir().unwrap();
    let inline = script_inline(inline_dir.path(), &history, &live);
    assert!(inline.len() >= 3, "every order fills: {inline:?}");

    let live_dir = tempfile::tempdir().unwrap();
    let mut k = Live::new(live_dir.path());
    k.feed(&history);
    k.feed(&live[0]);
    k.until("ready with the check", |s| s.ready && s.check_installs >= 1);
    for (id, req) in orders() {
        assert!(k.kernel.send(TradingCommand::Submit { request_id: id, request: req }));
    }
    k.until("every answer", |s| s.submitted.len() == 3);
    for b in &live[1..] {
        k.feed(b);
    }
    let n = inline.len();
    k.until("every fill", |s| s.fills.len() >= n);
    k.kernel.shutdown();
    let key = |f: &crude_model::Fill| {
        (
            f.fill_id,
            f.order_id,
            f.contract,
            f.side,
            f.qty,
            f.price.to_bits(),
            f.ts,
            f.commission_usd.to_bits(),
            f.fees_usd.to_bits(),
        )
    };
    let a: Vec<_> = inline.iter().map(key).collect();
    let b: Vec<_> = k.seen.fills.iter().map(key).collect();
    assert_eq!(a, b, "the same fills, bit for bit");
}
