//! Crude trading: the order management system (state machine, identifiers, spreads), the
//! broker interface and the paper broker, the position keeper (P&L by contract, strategy and
//! market; day P&L against the previous settlement), the limits-only pre-trade check, the
//! blotter, and the durable trading session over the SQLite store.
//!
//! One engine for live, paper and backtest: [`Engine`] takes its time and prices only from
//! market events and explicit time advances, holds no global state, and runs as fast as
//! events arrive. [`TradingSession`] commits every event before anyone sees it. The
//! command-line subcommands live in [`cli`].

mod audit_text;
pub mod blotter;
mod broker;
pub mod cli;
mod config;
mod engine;
mod error;
mod limits;
mod oms;
pub mod orders_file;
mod paper;
mod positions;
mod preview;
mod session;
mod spread;

pub use audit_text::{describe_audit, limit_edit_details};
pub use broker::{Broker, BrokerReport};
pub use config::{
    BrokerConfig, ConfigError, FeeTable, LimitsConfig, MOVED_LIMITS, SlippageModel, Synchronous, TradingConfig,
};
pub use engine::{AmendRequest, Engine, EngineEvent, Recovery, SpreadOutcome, SubmitOutcome, actions};
pub use error::{IllegalTransition, SessionError, TradingError};
pub use limits::LimitsCheck;
pub use oms::{Execution, IllegalAttempt, Oms};
pub use paper::PaperBroker;
pub use positions::{GroupPnl, PnlSummary, PositionKeeper};
pub use preview::{
    CombinedCheck, PreviewResult, SharedCheck, SpreadLegPreview, SpreadPreview, order_preview, spread_preview,
};
pub use session::{TradingSession, load_recovery};
pub use spread::{SpreadLeg, SpreadRequest};
