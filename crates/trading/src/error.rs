//! The trading crate's error types.

use crude_model::{OrderStatus, OrderValidationError};
use crude_store::StoreError;

/// An attempted order state change the state machine forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {order_id}: illegal transition {from} -> {to} ({action})")]
pub struct IllegalTransition {
    pub order_id: u64,
    pub from: OrderStatus,
    pub to: OrderStatus,
    /// What was attempted (`cancel`, `amend`, `fill`, …).
    pub action: String,
}

/// Errors from the order management system and the engine. Nothing is written when one is
/// returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TradingError {
    /// A field of the order is invalid.
    #[error("{0}")]
    Invalid(#[from] OrderValidationError),
    /// The client order id is already used (also by an order before a restart).
    #[error("client_order_id: '{0}' is already used; choose another or leave it empty to get a generated one")]
    DuplicateClientOrderId(String),
    /// No such order.
    #[error("order {0} does not exist")]
    UnknownOrder(u64),
    /// No such spread.
    #[error("spread {0} does not exist")]
    UnknownSpread(u64),
    /// The state machine forbids the change.
    #[error("{0}")]
    Illegal(#[from] IllegalTransition),
    /// An amendment that changes nothing or is not allowed.
    #[error("amend order {order_id}: {reason}")]
    BadAmend { order_id: u64, reason: String },
    /// A malformed spread request.
    #[error("spread: {0}")]
    BadSpread(String),
    /// A limit value that cannot be used.
    #[error("{field}: {reason}")]
    BadLimit { field: String, reason: String },
}

/// Errors from a durable trading session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The request was refused; nothing was written.
    #[error(transparent)]
    Trading(#[from] TradingError),
    /// Writing to or reading from the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An earlier write failed, so memory and database may disagree; the session refuses
    /// further work. Restart it: state is rebuilt from the database.
    #[error("the trading session stopped after a database error ({0}); restart it to recover from the database")]
    Poisoned(String),
}
