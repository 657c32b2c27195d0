//! Crude persistence: SQLite (WAL, versioned migrations) for orders, order events, fills and
//! the hash-chained audit log.
//!
//! * [`Store`] opens a database file the caller names (the app reads `CRUDE_DB`), refusing
//!   files that are not Crude databases, corrupt or from a newer Crude, with a message that
//!   names the file. [`Durability`] documents the `synchronous` choice.
//! * Writes are one transaction per event: [`Store::record_order_event`] (the order's state,
//!   the event and an optional audit row) and [`Store::record_fill`] (the fill, its order
//!   event, the order's state and the mark). They return only once the commit is durable, so
//!   a caller that acknowledges an event after the call returns never acknowledges
//!   something a crash can lose.
//! * Reads rebuild state on start ([`Store::load_open_orders`], [`Store::load_all_fills`],
//!   [`Store::high_water`]) and serve the blotter ([`Store::load_fills`]).
//! * The audit log is append-only and hash-chained ([`Store::verify_audit_chain`]); SHA-256
//!   is implemented in [`sha256`] and checked against the NIST vectors.
//! * [`Store::check_consistency`] proves the tables agree with each other (used after a
//!   crash and by the crash-safety test); [`Store::verify`] checks the chain and the tables
//!   from one snapshot ([`Store::read_snapshot`]), so it can run while a session writes.
//! * Read commands open the file with [`Store::open_read_only`], which never writes to it.

mod audit;
mod consistency;
mod error;
mod lock;
mod schema;
pub mod sha256;
mod store;

pub use audit::{AuditEntry, AuditRow, AuditVerification, BrokenRow, audit_hash};
pub use consistency::{ConsistencyReport, Verification};
pub use error::StoreError;
pub use lock::{LockError, SessionLock};
pub use schema::{APPLICATION_ID, MIGRATIONS, Migration, latest_version};
pub use store::{Durability, FillQuery, HighWater, Mark, Store, StoreOptions, create_private};
