//! Crude's headless kernel: the domain services (trading, risk, signals, curve) on one
//! service runner, the wiring between them, and two runners over the same services:
//!
//! * [`LiveKernel`]: each service on its own thread, the feed on tokio tasks paced by the
//!   wall clock. The desktop app drives it.
//! * [`InlineKernel`]: one thread, time taken only from the events fed in, no sleeps. The
//!   command line, tests and backtests drive it; the same inputs give the same fills as
//!   the live kernel.
//!
//! A driver sends [`KernelCommand`]s and applies [`KernelUpdate`]s; it is never the bus
//! between two services (see [`kernel`] for the wiring). The kernel has no GUI dependency.
//!
//! Layout: `service.rs` (the generic runner: outbox, handle, live and inline stepping),
//! `services/` (one file per service), `kernel.rs` (configuration, commands, updates,
//! wiring), `live.rs` and `inline.rs` (the two runners).

mod inline;
pub mod kernel;
mod live;
pub mod paper;
pub mod service;
pub mod services;

pub use inline::InlineKernel;
pub use kernel::{KernelCommand, KernelConfig, KernelUpdate, ServiceId};
pub use live::{DRIVER_FEED_BATCHES, DriverFeed, LiveKernel, SERVICE_TAP_BATCHES};
pub use service::{Generational, Notify, Service, ServiceHandle};
