//! The store's error type. Every message names the database file and says what to do.

use std::path::PathBuf;

/// Errors from the SQLite store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file does not exist and the caller asked not to create it.
    #[error("database {path} does not exist; check --db / CRUDE_DB (a trading command creates it)")]
    Missing { path: PathBuf },
    /// The file could not be opened (permissions, missing directory, …).
    #[error("database {path}: cannot open: {detail}; check that the directory exists and is writable")]
    Open { path: PathBuf, detail: String },
    /// The file is not an SQLite database, or an SQLite database of another application.
    #[error("{path} is not a Crude database ({detail}); point --db / CRUDE_DB at a Crude database or a new file")]
    NotCrude { path: PathBuf, detail: String },
    /// SQLite reports corruption.
    #[error("database {path} is corrupt ({detail}); restore it from a backup or start a new file")]
    Corrupt { path: PathBuf, detail: String },
    /// The database was written by a newer Crude.
    #[error(
        "database {path} has schema version {found}, newer than this build supports ({supported}); upgrade Crude or use another file"
    )]
    TooNew { path: PathBuf, found: u32, supported: u32 },
    /// The database was written by an older Crude and a read-only open cannot upgrade it.
    #[error(
        "database {path} has schema version {found}, older than this build's {supported}; open it once with a trading command (`crude trade`) to upgrade it"
    )]
    Outdated { path: PathBuf, found: u32, supported: u32 },
    /// A database opened read-only without its write-ahead log was written while it was read.
    #[error("database {path} changed while it was read (a trading session started writing); run the command again")]
    Changed { path: PathBuf },
    /// WAL mode could not be enabled (e.g. a network file system without shared memory).
    #[error("database {path}: cannot enable WAL journal mode (SQLite left it in '{mode}'); use a local file system")]
    NoWal { path: PathBuf, mode: String },
    /// Any other SQLite failure during an operation.
    #[error("database {path}: {op}: {detail}")]
    Sqlite { path: PathBuf, op: &'static str, detail: String },
    /// A stored value could not be decoded.
    #[error("database {path}: table {table}, row {row}, column {column}: {reason}")]
    BadRow { path: PathBuf, table: &'static str, row: i64, column: &'static str, reason: String },
    /// A record handed to the store is inconsistent (a programming error in the caller).
    #[error("database {path}: refused to write: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl StoreError {
    /// Whether the error is about the file the user named (missing, not a database, corrupt,
    /// too new) rather than a failure while working with a good file.
    pub fn is_bad_file(&self) -> bool {
        matches!(
            self,
            StoreError::Missing { .. }
                | StoreError::Open { .. }
                | StoreError::NotCrude { .. }
                | StoreError::Corrupt { .. }
                | StoreError::TooNew { .. }
                | StoreError::Outdated { .. }
        )
    }
}
