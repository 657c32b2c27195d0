//! What a driver gives the kernel and gets from it: the services to run
//! ([`KernelConfig`]), one command type in ([`KernelCommand`]) and one update type out
//! ([`KernelUpdate`]), and the wiring between the services ([`Wiring`]), shared by the
//! live and the inline runner.
//!
//! The wiring is the rule the kernel exists for: the trading service hands every book it
//! snapshots to the risk service, and the risk service hands the trading service its
//! pre-trade check (the VaR check of the engine in force), the daily loss limit of the
//! limits in force (the circuit breaker) and every limit edit (for the audit log). Both
//! happen inside the kernel, whether or not a driver draws anything, so an order is judged
//! by one check against one set of limits wherever it comes from.

use crate::service::{self, CommandQueue, CommandSender, Outbox, Updates};
use crate::services::curve::{CurveService, CurveServiceConfig, CurveUpdate};
use crate::services::risk::{BookUpdate, RiskCommand, RiskService, RiskServiceConfig, RiskUpdate};
use crate::services::signals::{SignalsError, SignalsService, SignalsServiceConfig, SignalsUpdate};
use crate::services::trading::{TradingCommand, TradingService, TradingServiceConfig, TradingUpdate};

/// The services a kernel runs; each is optional (a session without a database trades
/// nothing, a replay without a joint history has no VaR).
#[derive(Default)]
pub struct KernelConfig {
    /// Trading (OMS, paper broker, SQLite).
    pub trading: Option<TradingServiceConfig>,
    /// Risk (VaR/ES, stress, limits, the pre-trade check).
    pub risk: Option<RiskServiceConfig>,
    /// Signals: the configuration, or why it could not be loaded (reported as
    /// [`KernelUpdate::Failed`]).
    pub signals: Option<Result<SignalsServiceConfig, SignalsError>>,
    /// Curves, spreads, cracks and inventories.
    pub curve: Option<CurveServiceConfig>,
}

/// A kernel service, as named in [`KernelUpdate::Failed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceId {
    Trading,
    Risk,
    Signals,
    Curve,
}

impl ServiceId {
    /// Lower-case name: `trading`, `risk`, `signals`, `curve`.
    pub fn name(self) -> &'static str {
        match self {
            ServiceId::Trading => "trading",
            ServiceId::Risk => "risk",
            ServiceId::Signals => "signals",
            ServiceId::Curve => "curve",
        }
    }
}

/// What a driver asks of the kernel.
#[derive(Debug)]
pub enum KernelCommand {
    /// To the trading service (orders, cancels, kill switch, blotter queries…).
    Trading(TradingCommand),
    /// To the risk service (stress sliders, limit edits, recalculation).
    Risk(RiskCommand),
}

impl From<TradingCommand> for KernelCommand {
    fn from(c: TradingCommand) -> Self {
        KernelCommand::Trading(c)
    }
}

impl From<RiskCommand> for KernelCommand {
    fn from(c: RiskCommand) -> Self {
        KernelCommand::Risk(c)
    }
}

/// What the kernel reports, service by service, in the order each service sent it.
#[derive(Debug, Clone)]
pub enum KernelUpdate {
    Trading(TradingUpdate),
    Risk(RiskUpdate),
    Signals(SignalsUpdate),
    Curve(CurveUpdate),
    /// A service could not start; the reason names what to fix.
    Failed {
        service: ServiceId,
        reason: String,
    },
}

/// The services of one kernel, built and wired to each other but not yet running, with
/// the driver's ends of their outboxes.
pub(crate) struct Wiring {
    pub trading: Option<Built<TradingService>>,
    pub risk: Option<Built<RiskService>>,
    pub signals: Option<Built<SignalsService>>,
    pub curve: Option<Built<CurveService>>,
    /// Services that could not be built, reported to the driver first.
    pub failures: Vec<KernelUpdate>,
    /// Neither trading nor a book source runs: the risk service gets an empty book so
    /// the panel still shows the limits.
    pub empty_book: Option<BookUpdate>,
}

/// A service built with its command queue and the driver's end of its outbox.
pub(crate) struct Built<S: service::Service> {
    pub service: S,
    pub updates: Updates<S::Update>,
    pub queue: (CommandSender<S::Command>, CommandQueue<S::Command>),
}

fn built<S: service::Service, E: std::fmt::Display>(
    id: ServiceId,
    make: impl FnOnce(Outbox<S::Update>) -> Result<S, E>,
    queue: (CommandSender<S::Command>, CommandQueue<S::Command>),
    failures: &mut Vec<KernelUpdate>,
) -> Option<Built<S>> {
    let (out, updates) = service::channel();
    match make(out) {
        Ok(service) => Some(Built { service, updates, queue }),
        Err(e) => {
            tracing::error!(service = id.name(), error = %e, "service disabled: it could not start");
            failures.push(KernelUpdate::Failed { service: id, reason: e.to_string() });
            None
        }
    }
}

impl Wiring {
    /// Builds the services of `config` and wires trading and risk to each other.
    pub fn build(mut config: KernelConfig) -> Self {
        let mut failures = Vec::new();
        // One set of limits: the trading engine starts with the risk limits in force (the
        // risk service keeps it current), so its first orders are judged by them too.
        if let (Some(t), Some(r)) = (config.trading.as_mut(), config.risk.as_ref()) {
            t.trading.limits = crate::services::risk::trading_limits(&r.limits);
        }
        let trading_queue = service::queue::<TradingCommand>();
        let risk_queue = service::queue::<RiskCommand>();
        let to_trading = config.trading.is_some().then(|| trading_queue.0.clone());
        let to_risk = config.risk.is_some().then(|| risk_queue.0.clone());
        let empty_book_at = config.trading.is_none().then(|| config.risk.as_ref().map(|r| r.wall.now())).flatten();
        let trading = config.trading.and_then(|cfg| {
            built(ServiceId::Trading, |out| TradingService::new(cfg, out, to_risk), trading_queue, &mut failures)
        });
        let risk = config.risk.and_then(|cfg| {
            built(ServiceId::Risk, |out| RiskService::new(cfg, out, to_trading), risk_queue, &mut failures)
        });
        let signals = config.signals.and_then(|cfg| {
            built(
                ServiceId::Signals,
                |out| cfg.and_then(|c| SignalsService::new(c, out)),
                service::queue(),
                &mut failures,
            )
        });
        let curve = config.curve.and_then(|cfg| {
            built(ServiceId::Curve, |out| CurveService::new(cfg, out), service::queue(), &mut failures)
        });
        let empty_book = empty_book_at.map(|as_of| BookUpdate { as_of, positions: Vec::new(), day_pnl_usd: 0.0 });
        Self { trading, risk, signals, curve, failures, empty_book }
    }
}
