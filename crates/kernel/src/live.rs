//! The live runner: every service on a thread of its own, the feed on tokio tasks paced
//! against the wall clock, each service reading its own tap of the feed.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use crude_feeds::{FeedBatch, FeedCommand, FeedHandle, MarketFeed, Speed};
use crude_model::Clock;
use tokio::sync::mpsc;

use crate::kernel::{Built, KernelCommand, KernelConfig, KernelUpdate, ServiceId, Wiring};
use crate::service::{self, Notify, Service, ServiceHandle};
use crate::services::curve::CurveService;
use crate::services::risk::{RiskCommand, RiskService};
use crate::services::signals::SignalsService;
use crate::services::trading::TradingService;

/// Feed batches each service's tap holds before the feed waits for that service: seconds
/// of slack at live rates, and the start-up history.
pub const SERVICE_TAP_BATCHES: usize = 256;
/// Feed batches the driver's own channel holds.
pub const DRIVER_FEED_BATCHES: usize = 4_096;

/// The kernel running live.
pub struct LiveKernel {
    trading: Option<ServiceHandle<TradingService>>,
    risk: Option<ServiceHandle<RiskService>>,
    signals: Option<ServiceHandle<SignalsService>>,
    curve: Option<ServiceHandle<CurveService>>,
    failures: VecDeque<KernelUpdate>,
    feed_commands: Option<mpsc::UnboundedSender<FeedCommand>>,
    trading_db: Option<PathBuf>,
    history_path: Option<PathBuf>,
}

impl std::fmt::Debug for LiveKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKernel").field("trading_db", &self.trading_db).finish_non_exhaustive()
    }
}

/// The feed's batches for the driver (what it shows), next to the kernel.
pub type DriverFeed = mpsc::Receiver<FeedBatch>;

impl LiveKernel {
    /// Starts the services of `config` and the feed on `rt`: every batch goes to each
    /// service's tap, then to the returned channel for the driver. `notify` is called
    /// whenever a service or the feed has something new (the app passes
    /// `request_repaint`).
    pub fn spawn(
        config: KernelConfig,
        rt: &tokio::runtime::Handle,
        feed: Box<dyn MarketFeed>,
        speed: Speed,
        wall: Arc<dyn Clock>,
        notify: Notify,
    ) -> (Self, DriverFeed) {
        let mut taps = Vec::new();
        let mut kernel = Self::start(
            config,
            |_| {
                let (tx, rx) = mpsc::channel::<FeedBatch>(SERVICE_TAP_BATCHES);
                taps.push(tx);
                rx
            },
            notify.clone(),
        );
        let handle = FeedHandle::spawn_with_taps(rt, feed, speed, wall, notify, DRIVER_FEED_BATCHES, taps);
        kernel.feed_commands = Some(handle.commands);
        (kernel, handle.events)
    }

    /// Starts the services of `config`, each reading the market from the channel `market`
    /// gives for it (tests feed the channels themselves; [`Self::spawn`] taps a feed).
    pub fn start(
        config: KernelConfig,
        mut market: impl FnMut(ServiceId) -> mpsc::Receiver<FeedBatch>,
        notify: Notify,
    ) -> Self {
        let wiring = Wiring::build(config);
        let mut failures: VecDeque<KernelUpdate> = wiring.failures.into();
        let trading_db = wiring.trading.as_ref().map(|b| b.service.db_path().to_path_buf());
        let history_path = wiring.signals.as_ref().map(|b| b.service.history_path().to_path_buf());
        let mut tap = |id| (id, market(id), notify.clone());
        let trading = wiring.trading.and_then(|b| run(b, tap(ServiceId::Trading), &mut failures));
        let risk = wiring.risk.and_then(|b| run(b, tap(ServiceId::Risk), &mut failures));
        if let (Some(r), Some(book)) = (&risk, wiring.empty_book) {
            r.send(RiskCommand::Book(book));
        }
        let signals = wiring.signals.and_then(|b| run(b, tap(ServiceId::Signals), &mut failures));
        let curve = wiring.curve.and_then(|b| run(b, tap(ServiceId::Curve), &mut failures));
        Self { trading, risk, signals, curve, failures, feed_commands: None, trading_db, history_path }
    }

    /// Sends `cmd` to its service; `false` when that service is not running.
    pub fn send(&self, cmd: impl Into<KernelCommand>) -> bool {
        match cmd.into() {
            KernelCommand::Trading(c) => self.trading.as_ref().is_some_and(|t| t.send(c)),
            KernelCommand::Risk(c) => self.risk.as_ref().is_some_and(|r| r.send(c)),
        }
    }

    /// Sends a command to the feed task (speed, pause).
    pub fn feed_command(&self, cmd: FeedCommand) {
        if let Some(c) = &self.feed_commands {
            let _ = c.send(cmd);
        }
    }

    /// Applies up to `max_per_service` queued updates of each service (trading first),
    /// without waiting. Returns whether updates remain queued.
    pub fn drain(&mut self, max_per_service: usize, mut apply: impl FnMut(KernelUpdate)) -> bool {
        while let Some(f) = self.failures.pop_front() {
            apply(f);
        }
        let mut more = false;
        more |= drain_one(&mut self.trading, max_per_service, &mut apply, KernelUpdate::Trading);
        more |= drain_one(&mut self.risk, max_per_service, &mut apply, KernelUpdate::Risk);
        more |= drain_one(&mut self.signals, max_per_service, &mut apply, KernelUpdate::Signals);
        more |= drain_one(&mut self.curve, max_per_service, &mut apply, KernelUpdate::Curve);
        more
    }

    /// Whether the trading service runs.
    pub fn trading_runs(&self) -> bool {
        self.trading.is_some()
    }

    /// Whether the risk service runs.
    pub fn risk_runs(&self) -> bool {
        self.risk.is_some()
    }

    /// The database the trading service trades in.
    pub fn trading_db(&self) -> Option<&std::path::Path> {
        self.trading_db.as_deref()
    }

    /// The signal history file.
    pub fn signals_history(&self) -> Option<&std::path::Path> {
        self.history_path.as_deref()
    }

    /// Stops the feed and every service (trading saves its marks and checkpoints).
    pub fn shutdown(&mut self) {
        if let Some(c) = self.feed_commands.take() {
            let _ = c.send(FeedCommand::Shutdown);
        }
        if let Some(mut t) = self.trading.take() {
            t.shutdown();
        }
        if let Some(mut r) = self.risk.take() {
            r.shutdown();
        }
        if let Some(mut s) = self.signals.take() {
            s.shutdown();
        }
        if let Some(mut c) = self.curve.take() {
            c.shutdown();
        }
    }
}

impl Drop for LiveKernel {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run<S: Service>(
    b: Built<S>,
    (id, tap, notify): (ServiceId, mpsc::Receiver<FeedBatch>, Notify),
    failures: &mut VecDeque<KernelUpdate>,
) -> Option<ServiceHandle<S>> {
    match service::spawn(b.service, b.updates, b.queue, tap, notify) {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::error!(service = id.name(), error = %e, "service disabled: its thread could not start");
            failures.push_back(KernelUpdate::Failed { service: id, reason: format!("cannot start the thread: {e}") });
            None
        }
    }
}

fn drain_one<S: Service>(
    handle: &mut Option<ServiceHandle<S>>,
    max: usize,
    apply: &mut impl FnMut(KernelUpdate),
    wrap: fn(S::Update) -> KernelUpdate,
) -> bool {
    let Some(h) = handle.as_mut() else { return false };
    for _ in 0..max {
        match h.try_recv() {
            Some(u) => apply(wrap(u)),
            None => return false,
        }
    }
    h.has_updates()
}
