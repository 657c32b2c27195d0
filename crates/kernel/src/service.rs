//! The one service runner: every kernel service (trading, risk, signals, curve) is a
//! [`Service`] — a state machine that reacts to commands, market batches and the passing
//! of time — and this module runs it, written once:
//!
//! * [`Outbox`]: where a service puts its updates for the driver (the app, the CLI, a
//!   test), with the consumed-generation check (a service keeps at most one snapshot in
//!   flight: the next is sent only after the driver took the previous one, so a driver
//!   that stops draining never piles them up) and a bounded mode for services whose
//!   states replace themselves ([`Outbox::try_send`]).
//! * [`ServiceHandle`]: the driver's end (send, drain, shutdown, `Drop`).
//! * [`spawn`]: the live runner of one service — its own thread, a current-thread tokio
//!   loop over commands, market batches, background jobs and wake-ups.
//! * [`Inline`]: the same service driven step by step on the caller's thread, with no
//!   sleeps and no threads, for the deterministic [`crate::InlineKernel`].
//!
//! A service never reads the wall clock itself: it reads the clock in its configuration,
//! which the live kernel sets to the wall clock and the inline kernel to a clock advanced
//! by market events.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crude_feeds::FeedBatch;
use tokio::sync::mpsc;

/// Most market batches a service applies before it looks at its commands again.
pub const MARKET_BATCHES_PER_TURN: usize = 64;
/// Most batches applied before a due computation, so it prices the freshest marks.
const MAX_BATCHES_BEFORE_COMPUTE: usize = 4_096;

/// A notifier called after updates were sent (the app passes `request_repaint`).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// A job a service hands to the runner to run off its loop (building a return history,
/// simulating years of curves); its result comes back through
/// [`Service::on_background`]. The live runner runs it on a thread of its own, the
/// inline runner at once.
pub type BackgroundJob<B> = Box<dyn FnOnce() -> B + Send + 'static>;

/// An update that may carry a snapshot generation (see [`Outbox::in_flight`]).
pub trait Generational {
    /// The generation of a snapshot update; `None` for every other update.
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// A driver's copy of what a service reported: it applies the service's updates.
pub trait View<U> {
    /// Applies one update.
    fn apply(&mut self, u: U);
}

/// Most updates one [`ServiceHandle::drain`] applies.
pub const DRAIN_MAX_UPDATES: usize = 64;

/// A kernel service: a state machine the runners drive.
pub trait Service: Send + 'static {
    /// What the driver (or another service) asks of it.
    type Command: Send + 'static;
    /// What it reports.
    type Update: Generational + Send + 'static;
    /// The result of its background job.
    type Background: Send + 'static;

    /// The thread name (`crude-trading`, …).
    const NAME: &'static str;

    /// The outbox the service was built with (see [`channel`]).
    fn outbox(&mut self) -> &mut Outbox<Self::Update>;
    /// Called once before anything else.
    fn start(&mut self);
    /// A job to run off the loop, asked for after `start` and after every turn while no
    /// job is running (one at a time).
    fn take_job(&mut self) -> Option<BackgroundJob<Self::Background>> {
        None
    }
    /// A command.
    fn on_command(&mut self, cmd: Self::Command);
    /// A batch of market events.
    fn on_market(&mut self, batch: &FeedBatch);
    /// The market feed ended.
    fn on_market_end(&mut self);
    /// The background job's result.
    fn on_background(&mut self, result: Self::Background) {
        let _ = result;
    }
    /// After every turn of the loop: the paced work (snapshots, recalculation, saves).
    fn after_turn(&mut self);
    /// How long the loop may sleep without input before `after_turn` has work again;
    /// `None` when nothing is due.
    fn next_wake(&self) -> Option<Duration>;
    /// Whether `after_turn` will compute now, so the runner applies every queued market
    /// batch first (the computation then prices the freshest marks).
    fn wants_fresh_market(&self) -> bool {
        false
    }
    /// Called once when the service stops (save state, checkpoint).
    fn finish(&mut self) {}
}

/// Where a service puts its updates.
pub struct Outbox<U> {
    tx: mpsc::UnboundedSender<U>,
    /// Updates sent and not yet drained.
    queued: Arc<AtomicUsize>,
    /// Newest snapshot generation the driver took.
    consumed: Arc<AtomicU64>,
    sent: bool,
    closed: bool,
}

impl<U> Outbox<U> {
    /// Sends `u` to the driver.
    pub fn send(&mut self, u: U) {
        if self.tx.send(u).is_ok() {
            self.queued.fetch_add(1, Ordering::AcqRel);
            self.sent = true;
        } else {
            self.closed = true;
        }
    }

    /// Sends `u` unless `capacity` updates are already waiting to be drained; returns
    /// whether it was sent (a state that replaces itself stays pending until it is).
    pub fn try_send(&mut self, u: U, capacity: usize) -> bool {
        if self.closed || self.queued.load(Ordering::Acquire) >= capacity {
            return false;
        }
        self.send(u);
        !self.closed
    }

    /// Whether a snapshot of generation `generation` is still waiting for the driver.
    pub fn in_flight(&self, generation: u64) -> bool {
        self.consumed.load(Ordering::Acquire) < generation
    }

    /// Whether the driver has gone (nothing sent reaches anyone).
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn take_sent(&mut self) -> bool {
        std::mem::take(&mut self.sent)
    }
}

/// A message on a service's command queue.
enum Envelope<C> {
    Command(C),
    Shutdown,
}

/// Sends commands to a service: the driver's, or another service's end (the kernel's
/// wiring). Cheap to clone.
pub struct CommandSender<C> {
    tx: mpsc::UnboundedSender<Envelope<C>>,
}

impl<C> Clone for CommandSender<C> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone() }
    }
}

impl<C> std::fmt::Debug for CommandSender<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommandSender(..)")
    }
}

impl<C> CommandSender<C> {
    /// Sends `cmd`; `false` when the service has stopped.
    pub fn send(&self, cmd: C) -> bool {
        self.tx.send(Envelope::Command(cmd)).is_ok()
    }

    fn shutdown(&self) {
        let _ = self.tx.send(Envelope::Shutdown);
    }
}

/// The command queue of a service not yet running; [`queue`] makes one so services can
/// be wired to each other before any of them starts.
pub struct CommandQueue<C> {
    rx: mpsc::UnboundedReceiver<Envelope<C>>,
}

/// A command queue and its sender.
pub fn queue<C>() -> (CommandSender<C>, CommandQueue<C>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (CommandSender { tx }, CommandQueue { rx })
}

/// The driver's side of a service's updates: made with its [`Outbox`] by [`channel`].
pub struct Updates<U> {
    rx: mpsc::UnboundedReceiver<U>,
    queued: Arc<AtomicUsize>,
    consumed: Arc<AtomicU64>,
}

/// An outbox for a service and the driver's end of it.
pub fn channel<U>() -> (Outbox<U>, Updates<U>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let consumed = Arc::new(AtomicU64::new(0));
    let out = Outbox { tx, queued: Arc::clone(&queued), consumed: Arc::clone(&consumed), sent: false, closed: false };
    (out, Updates { rx, queued, consumed })
}

impl<U: Generational> Updates<U> {
    /// The next queued update, without waiting. Taking a snapshot tells the service it
    /// may send the next one.
    pub fn try_recv(&mut self) -> Option<U> {
        let u = self.rx.try_recv().ok()?;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        if let Some(g) = u.generation() {
            self.consumed.fetch_max(g, Ordering::AcqRel);
        }
        Some(u)
    }

    /// Whether updates are queued.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

/// The driver's end of a running service.
pub struct ServiceHandle<S: Service> {
    commands: CommandSender<S::Command>,
    updates: Updates<S::Update>,
    thread: Option<JoinHandle<()>>,
}

impl<S: Service> std::fmt::Debug for ServiceHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHandle").field("service", &S::NAME).finish_non_exhaustive()
    }
}

impl<S: Service> ServiceHandle<S> {
    /// Sends a command; `false` when the service has stopped.
    pub fn send(&self, cmd: S::Command) -> bool {
        self.commands.send(cmd)
    }

    /// A sender of commands to this service (for wiring).
    pub fn sender(&self) -> CommandSender<S::Command> {
        self.commands.clone()
    }

    /// The next queued update, without waiting (see [`Updates::try_recv`]).
    pub fn try_recv(&mut self) -> Option<S::Update> {
        self.updates.try_recv()
    }

    /// Whether updates are queued.
    pub fn has_updates(&self) -> bool {
        !self.updates.is_empty()
    }

    /// How many updates are queued.
    pub fn queued(&self) -> usize {
        self.updates.queued.load(Ordering::Acquire)
    }

    /// Applies up to [`DRAIN_MAX_UPDATES`] queued updates to `view` without waiting.
    /// Returns whether updates remain queued.
    pub fn drain(&mut self, view: &mut impl View<S::Update>) -> bool {
        for _ in 0..DRAIN_MAX_UPDATES {
            let Some(u) = self.updates.try_recv() else { return false };
            view.apply(u);
        }
        !self.updates.is_empty()
    }

    /// Stops the service (it runs [`Service::finish`]) and waits for its thread.
    pub fn shutdown(&mut self) {
        self.commands.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<S: Service> Drop for ServiceHandle<S> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts `service` on a thread of its own (the live runner): `updates` is the driver's
/// end of the outbox it was built with, `commands` its queue (made with [`queue`]) and
/// `market` a tap of the feed. `notify` is called after updates are sent.
///
/// # Errors
/// The operating system refused to start the thread.
pub fn spawn<S: Service>(
    service: S,
    updates: Updates<S::Update>,
    (commands, queue): (CommandSender<S::Command>, CommandQueue<S::Command>),
    market: mpsc::Receiver<FeedBatch>,
    notify: Notify,
) -> std::io::Result<ServiceHandle<S>> {
    let thread =
        std::thread::Builder::new().name(S::NAME.into()).spawn(move || run_live(service, queue.rx, market, notify))?;
    Ok(ServiceHandle { commands, updates, thread: Some(thread) })
}

/// Builds a service with `make` and starts it alone, unwired to any other (tests and
/// tools; the kernels wire their services).
///
/// # Errors
/// What `make` returns, or the operating system's refusal to start the thread.
pub fn start_alone<S: Service, E: From<std::io::Error>>(
    make: impl FnOnce(Outbox<S::Update>) -> Result<S, E>,
    market: mpsc::Receiver<FeedBatch>,
    notify: Notify,
) -> Result<ServiceHandle<S>, E> {
    let (out, updates) = channel();
    let service = make(out)?;
    Ok(spawn(service, updates, queue(), market, notify)?)
}

fn run_live<S: Service>(
    mut service: S,
    mut cmds: mpsc::UnboundedReceiver<Envelope<S::Command>>,
    mut market: mpsc::Receiver<FeedBatch>,
    notify: Notify,
) {
    let flush = |service: &mut S| {
        if service.outbox().take_sent() {
            notify();
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(service = S::NAME, error = %e, "cannot start the service's timer");
            return;
        }
    };
    rt.block_on(async move {
        service.start();
        let mut background = start_job(&mut service);
        flush(&mut service);
        let mut market_open = true;
        loop {
            let wake = service.next_wake();
            tokio::select! {
                biased;
                cmd = cmds.recv() => match cmd {
                    None | Some(Envelope::Shutdown) => break,
                    Some(Envelope::Command(c)) => service.on_command(c),
                },
                done = async {
                    match background.as_mut() {
                        Some(rx) => rx.await,
                        None => std::future::pending().await,
                    }
                }, if background.is_some() => {
                    background = None;
                    match done {
                        Ok(result) => service.on_background(result),
                        Err(_) => tracing::error!(service = S::NAME, "the background job stopped without a result"),
                    }
                },
                batch = market.recv(), if market_open => match batch {
                    Some(b) => {
                        service.on_market(&b);
                        for _ in 1..MARKET_BATCHES_PER_TURN {
                            match market.try_recv() {
                                Ok(b) => service.on_market(&b),
                                Err(_) => break,
                            }
                        }
                    }
                    None => {
                        market_open = false;
                        service.on_market_end();
                    }
                },
                () = tokio::time::sleep(wake.unwrap_or(Duration::ZERO)), if wake.is_some() => {}
            }
            if market_open && service.wants_fresh_market() {
                for _ in 0..MAX_BATCHES_BEFORE_COMPUTE {
                    match market.try_recv() {
                        Ok(b) => service.on_market(&b),
                        Err(_) => break,
                    }
                }
            }
            service.after_turn();
            if background.is_none() {
                background = start_job(&mut service);
            }
            flush(&mut service);
        }
        service.finish();
        flush(&mut service);
    });
}

/// Starts the service's next background job on a thread of its own; where its result
/// will arrive.
fn start_job<S: Service>(service: &mut S) -> Option<tokio::sync::oneshot::Receiver<S::Background>> {
    let job = service.take_job()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new().name(format!("{}-job", S::NAME)).spawn(move || {
        let _ = tx.send(job());
    });
    match spawned {
        Ok(_) => Some(rx),
        Err(e) => {
            tracing::error!(service = S::NAME, error = %e, "cannot start the service's background job");
            None
        }
    }
}

/// A service driven on the caller's thread, one step at a time (the inline runner).
pub struct Inline<S: Service> {
    service: S,
    updates: Updates<S::Update>,
    cmds: mpsc::UnboundedReceiver<Envelope<S::Command>>,
    commands: CommandSender<S::Command>,
    stopped: bool,
}

impl<S: Service> Inline<S> {
    /// Starts `service` inline: runs [`Service::start`] and its background job at once.
    pub fn start(
        mut service: S,
        updates: Updates<S::Update>,
        (commands, queue): (CommandSender<S::Command>, CommandQueue<S::Command>),
    ) -> Self {
        service.start();
        let mut inline = Self { service, updates, cmds: queue.rx, commands, stopped: false };
        inline.run_jobs();
        inline
    }

    /// A sender of commands to this service.
    pub fn sender(&self) -> CommandSender<S::Command> {
        self.commands.clone()
    }

    /// Applies every queued command; returns whether there was any.
    pub fn run_commands(&mut self) -> bool {
        let mut any = false;
        while !self.stopped {
            match self.cmds.try_recv() {
                Ok(Envelope::Command(c)) => {
                    self.service.on_command(c);
                    any = true;
                }
                Ok(Envelope::Shutdown) => self.stop(),
                Err(_) => break,
            }
        }
        any
    }

    /// Whether commands wait in the queue.
    pub fn has_commands(&self) -> bool {
        !self.stopped && !self.cmds.is_empty()
    }

    /// Applies one market batch.
    pub fn market(&mut self, batch: &FeedBatch) {
        if !self.stopped {
            self.service.on_market(batch);
        }
    }

    /// Tells the service the market ended.
    pub fn market_end(&mut self) {
        if !self.stopped {
            self.service.on_market_end();
        }
    }

    /// Runs the paced work once, then any background job it asked for (at once).
    pub fn after_turn(&mut self) {
        if !self.stopped {
            self.service.after_turn();
            self.run_jobs();
            self.service.outbox().take_sent();
        }
    }

    fn run_jobs(&mut self) {
        while let Some(job) = self.service.take_job() {
            let result = job();
            self.service.on_background(result);
        }
    }

    /// The next update for the driver (taking a snapshot lets the service send the next).
    pub fn try_recv(&mut self) -> Option<S::Update> {
        self.updates.try_recv()
    }

    /// The service (for tests and read-only queries).
    pub fn service(&self) -> &S {
        &self.service
    }

    /// Stops the service (runs [`Service::finish`]).
    pub fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            self.service.finish();
        }
    }
}

impl<S: Service> Drop for Inline<S> {
    fn drop(&mut self) {
        self.stop();
    }
}
