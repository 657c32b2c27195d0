//! The inline runner: the same services as the live kernel, driven on the caller's thread
//! with no threads, no sleeps and no wall clock. Time is a [`SimClock`] advanced by the
//! market events fed in; every step runs the services in a fixed order until none has
//! anything left to do, so the same inputs give the same outputs, bit for bit. Tests, the
//! command line and backtests drive it.

use std::collections::VecDeque;
use std::sync::Arc;

use crude_feeds::FeedBatch;
use crude_model::{SimClock, Timestamp};

use crate::kernel::{KernelCommand, KernelConfig, KernelUpdate, Wiring};
use crate::service::{Inline, Service};
use crate::services::curve::CurveService;
use crate::services::risk::{RiskCommand, RiskService};
use crate::services::signals::SignalsService;
use crate::services::trading::TradingService;

/// Most rounds one step runs before it stops (a service that keeps commanding another
/// would otherwise never settle; none does).
const MAX_ROUNDS: usize = 64;

/// The kernel running inline.
pub struct InlineKernel {
    clock: Arc<SimClock>,
    trading: Option<Inline<TradingService>>,
    risk: Option<Inline<RiskService>>,
    signals: Option<Inline<SignalsService>>,
    curve: Option<Inline<CurveService>>,
    updates: VecDeque<KernelUpdate>,
}

impl std::fmt::Debug for InlineKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineKernel").field("now", &self.clock.now_ts()).finish_non_exhaustive()
    }
}

trait NowTs {
    fn now_ts(&self) -> Timestamp;
}

impl NowTs for SimClock {
    fn now_ts(&self) -> Timestamp {
        crude_model::Clock::now(self)
    }
}

impl InlineKernel {
    /// Builds and starts the services of `config` inline. Every service's clock in
    /// `config` should be `clock` (the kernel advances it with the market events); the
    /// services' background jobs (the risk history, the curve history) run at once.
    pub fn new(config: KernelConfig, clock: Arc<SimClock>) -> Self {
        let wiring = Wiring::build(config);
        let mut updates: VecDeque<KernelUpdate> = wiring.failures.into();
        let trading = wiring.trading.map(|b| Inline::start(b.service, b.updates, b.queue));
        let risk = wiring.risk.map(|b| Inline::start(b.service, b.updates, b.queue));
        if let (Some(r), Some(book)) = (&risk, wiring.empty_book) {
            r.sender().send(RiskCommand::Book(book));
        }
        let signals = wiring.signals.map(|b| Inline::start(b.service, b.updates, b.queue));
        let curve = wiring.curve.map(|b| Inline::start(b.service, b.updates, b.queue));
        updates.reserve(64);
        let mut k = Self { clock, trading, risk, signals, curve, updates };
        k.settle();
        k
    }

    /// The kernel's time: the latest market event fed in.
    pub fn now(&self) -> Timestamp {
        self.clock.now_ts()
    }

    /// Feeds one batch of market events to every service (the clock advances to its
    /// latest event first), then runs the services until they settle.
    pub fn feed(&mut self, batch: &FeedBatch) {
        if let Some(t) =
            batch.events.iter().filter(|e| !matches!(e, crude_model::MarketEvent::Status { .. })).map(|e| e.ts()).max()
        {
            self.clock.advance_to(t);
        }
        each(self, |s| s.market(batch), |s| s.market(batch), |s| s.market(batch), |s| s.market(batch));
        self.settle();
    }

    /// Tells every service the market ended, then settles.
    pub fn end_of_market(&mut self) {
        each(self, Inline::market_end, Inline::market_end, Inline::market_end, Inline::market_end);
        self.settle();
    }

    /// Runs `cmd`, then settles; `false` when its service does not run.
    pub fn command(&mut self, cmd: impl Into<KernelCommand>) -> bool {
        let sent = match cmd.into() {
            KernelCommand::Trading(c) => self.trading.as_ref().is_some_and(|t| t.sender().send(c)),
            KernelCommand::Risk(c) => self.risk.as_ref().is_some_and(|r| r.sender().send(c)),
        };
        self.settle();
        sent
    }

    /// The next update, in the order the services produced them.
    pub fn try_recv(&mut self) -> Option<KernelUpdate> {
        self.updates.pop_front()
    }

    /// Every queued update.
    pub fn drain(&mut self) -> impl Iterator<Item = KernelUpdate> + '_ {
        self.updates.drain(..)
    }

    /// Stops every service (trading saves its marks and checkpoints).
    pub fn shutdown(&mut self) {
        each(self, Inline::stop, Inline::stop, Inline::stop, Inline::stop);
        self.collect();
    }

    /// Runs commands and paced work, service by service in a fixed order, until no
    /// service received a command in a whole round.
    fn settle(&mut self) {
        for _ in 0..MAX_ROUNDS {
            let mut busy = false;
            if let Some(t) = self.trading.as_mut() {
                busy |= t.run_commands();
                t.after_turn();
            }
            if let Some(r) = self.risk.as_mut() {
                busy |= r.run_commands();
                r.after_turn();
            }
            if let Some(s) = self.signals.as_mut() {
                s.after_turn();
            }
            if let Some(c) = self.curve.as_mut() {
                c.after_turn();
            }
            self.collect();
            // A service's paced work may have commanded another (risk installs its check
            // in trading): go round again until every queue is empty.
            busy |= self.trading.as_ref().is_some_and(Inline::has_commands)
                || self.risk.as_ref().is_some_and(Inline::has_commands);
            if !busy {
                return;
            }
        }
        tracing::warn!("the inline kernel did not settle in {MAX_ROUNDS} rounds");
    }

    /// Takes every update the services sent (so they may send the next snapshot).
    fn collect(&mut self) {
        take(&mut self.trading, &mut self.updates, KernelUpdate::Trading);
        take(&mut self.risk, &mut self.updates, KernelUpdate::Risk);
        take(&mut self.signals, &mut self.updates, KernelUpdate::Signals);
        take(&mut self.curve, &mut self.updates, KernelUpdate::Curve);
    }
}

impl Drop for InlineKernel {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn each(
    k: &mut InlineKernel,
    t: impl FnOnce(&mut Inline<TradingService>),
    r: impl FnOnce(&mut Inline<RiskService>),
    s: impl FnOnce(&mut Inline<SignalsService>),
    c: impl FnOnce(&mut Inline<CurveService>),
) {
    if let Some(x) = k.trading.as_mut() {
        t(x);
    }
    if let Some(x) = k.risk.as_mut() {
        r(x);
    }
    if let Some(x) = k.signals.as_mut() {
        s(x);
    }
    if let Some(x) = k.curve.as_mut() {
        c(x);
    }
}

fn take<S: Service>(
    service: &mut Option<Inline<S>>,
    into: &mut VecDeque<KernelUpdate>,
    wrap: fn(S::Update) -> KernelUpdate,
) {
    if let Some(s) = service.as_mut() {
        while let Some(u) = s.try_recv() {
            into.push_back(wrap(u));
        }
    }
}
