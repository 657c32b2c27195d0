//! The append-only, hash-chained audit log of user actions (order entry, amend, cancel,
//! kill switch, circuit-breaker trips and resets, limit edits).
//!
//! Row `n` stores `hash_n = SHA-256(hash_{n-1} ‖ canonical_n)`, with `hash_0` 32 zero bytes
//! and `canonical_n` the row's content in a length-prefixed text form:
//!
//! ```text
//! crude-audit-v1\n<seq>\n<ts nanos>\n<len>:<user>\n<len>:<action>\n<len>:<details>
//! ```
//!
//! (lengths in bytes, so no field can be confused with another). Triggers refuse UPDATE and
//! DELETE; anyone editing the file directly breaks the chain at the first changed row, and
//! [`Store::verify_audit_chain`] reports that row. Deleting rows from the end cannot be
//! detected from the chain alone: compare the reported head hash with one kept elsewhere.

use std::path::Path;

use crude_model::Timestamp;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::sha256::{Sha256, from_hex, to_hex};
use crate::store::{get, id_i64, sql_err};
use crate::{Store, StoreError};

/// An audit record to append.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Event time of the action.
    pub ts: Timestamp,
    /// Who did it.
    pub user: String,
    /// What (`order_entry`, `amend`, `cancel`, `kill_switch`, `circuit_breaker_trip`,
    /// `circuit_breaker_reset`, `limit_edit`, …).
    pub action: String,
    /// Details as JSON text (stored and hashed verbatim).
    pub details: String,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub seq: u64,
    pub ts: Timestamp,
    pub user: String,
    pub action: String,
    pub details: String,
    /// Hex SHA-256 of the previous row (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this row.
    pub hash: String,
}

/// The first row at which the chain breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokenRow {
    pub seq: u64,
    pub reason: String,
}

/// The result of [`Store::verify_audit_chain`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditVerification {
    /// Rows read (up to and including the first broken one).
    pub rows_checked: u64,
    /// Hex hash of the last row that verified (64 zeros for an empty log).
    pub head_hash: String,
    /// `None` when the whole chain verifies.
    pub first_broken: Option<BrokenRow>,
}

impl AuditVerification {
    /// Whether the whole chain verified.
    pub fn is_ok(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// The hash of a row given the previous row's hash.
pub fn audit_hash(prev: &[u8; 32], seq: u64, ts: Timestamp, user: &str, action: &str, details: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(b"crude-audit-v1\n");
    h.update(format!("{seq}\n{}\n", ts.nanos()).as_bytes());
    for field in [user, action, details] {
        h.update(format!("{}:", field.len()).as_bytes());
        h.update(field.as_bytes());
        h.update(b"\n");
    }
    h.finish()
}

/// Appends `entry` inside `tx`, chaining it to the last row read in the same transaction.
pub(crate) fn insert_audit(tx: &Transaction<'_>, path: &Path, entry: &AuditEntry) -> Result<AuditRow, StoreError> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(|e| sql_err(path, "read audit head", e))?;
    let (prev_seq, prev_hash) = match last {
        Some((seq, hash)) => {
            let Some(h) = from_hex(&hash) else {
                return Err(StoreError::BadRow {
                    path: path.to_path_buf(),
                    table: "audit_log",
                    row: seq,
                    column: "hash",
                    reason: "not 64 hexadecimal digits; run `crude audit verify`".into(),
                });
            };
            (u64::try_from(seq).unwrap_or(0), h)
        }
        None => (0, [0u8; 32]),
    };
    let seq = prev_seq + 1;
    let seq_i = id_i64(path, "audit seq", seq)?;
    let hash = audit_hash(&prev_hash, seq, entry.ts, &entry.user, &entry.action, &entry.details);
    let row = AuditRow {
        seq,
        ts: entry.ts,
        user: entry.user.clone(),
        action: entry.action.clone(),
        details: entry.details.clone(),
        prev_hash: to_hex(&prev_hash),
        hash: to_hex(&hash),
    };
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, ts, user, action, details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![seq_i, row.ts.nanos(), row.user, row.action, row.details, row.prev_hash, row.hash])
    })
    .map_err(|e| sql_err(path, "append audit row", e))?;
    Ok(row)
}

impl Store {
    /// Appends one audit row in its own transaction.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] (nothing written), [`StoreError::BadRow`] when the stored head
    /// hash is unreadable.
    pub fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRow, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&path, "begin", e))?;
        let row = insert_audit(&tx, &path, entry)?;
        tx.commit().map_err(|e| sql_err(&path, "commit audit row", e))?;
        Ok(row)
    }

    /// Audit rows in sequence order, optionally only the given actions.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::BadRow`].
    pub fn load_audit(&self, actions: Option<&[&str]>) -> Result<Vec<AuditRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, ts, user, action, details, prev_hash, hash FROM audit_log ORDER BY seq")
            .map_err(|e| self.err("read audit log", e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err("read audit log", e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err("read audit log", e))? {
            let row = decode_row(&self.path, r)?;
            if actions.is_none_or(|a| a.contains(&row.action.as_str())) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// The most recent audit row whose action is one of `actions`.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::BadRow`].
    pub fn last_audit_of(&self, actions: &[&str]) -> Result<Option<AuditRow>, StoreError> {
        let placeholders: Vec<String> = (1..=actions.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT seq, ts, user, action, details, prev_hash, hash FROM audit_log WHERE action IN ({}) ORDER BY seq DESC LIMIT 1",
            placeholders.join(", ")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err("read audit log", e))?;
        let mut rows =
            stmt.query(rusqlite::params_from_iter(actions.iter())).map_err(|e| self.err("read audit log", e))?;
        match rows.next().map_err(|e| self.err("read audit log", e))? {
            Some(r) => Ok(Some(decode_row(&self.path, r)?)),
            None => Ok(None),
        }
    }

    /// Walks the audit log from the first row, recomputing every hash, and reports the first
    /// row that breaks the chain: a gap in the sequence, a `prev_hash` that is not the
    /// previous row's hash, or a stored hash that does not match the row's content. The log
    /// is read by one SELECT, so it is one snapshot; [`Store::verify`] reads it in the same
    /// snapshot as the other tables.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when the log cannot be read (a row whose columns cannot be
    /// decoded counts as a broken row, not an error).
    pub fn verify_audit_chain(&self) -> Result<AuditVerification, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, ts, user, action, details, prev_hash, hash FROM audit_log ORDER BY seq")
            .map_err(|e| self.err("read audit log", e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err("read audit log", e))?;
        let mut prev = [0u8; 32];
        let mut expected_seq: u64 = 1;
        let mut checked = 0u64;
        while let Some(r) = rows.next().map_err(|e| self.err("read audit log", e))? {
            checked += 1;
            let row = match decode_row(&self.path, r) {
                Ok(row) => row,
                Err(e) => {
                    let seq = r.get::<_, i64>(0).ok().and_then(|s| u64::try_from(s).ok()).unwrap_or(expected_seq);
                    return Ok(broken(checked, &prev, seq, format!("unreadable row: {e}")));
                }
            };
            if row.seq != expected_seq {
                let reason = if row.seq > expected_seq {
                    format!("sequence jumps from {} to {}: rows were deleted", expected_seq - 1, row.seq)
                } else {
                    format!("sequence {} repeats or goes backwards (expected {expected_seq})", row.seq)
                };
                return Ok(broken(checked, &prev, row.seq, reason));
            }
            if row.prev_hash != to_hex(&prev) {
                return Ok(broken(
                    checked,
                    &prev,
                    row.seq,
                    format!("prev_hash {} is not the previous row's hash {}", row.prev_hash, to_hex(&prev)),
                ));
            }
            let h = audit_hash(&prev, row.seq, row.ts, &row.user, &row.action, &row.details);
            if row.hash != to_hex(&h) {
                return Ok(broken(
                    checked,
                    &prev,
                    row.seq,
                    format!("stored hash {} does not match the row's content (recomputed {})", row.hash, to_hex(&h)),
                ));
            }
            prev = h;
            expected_seq += 1;
        }
        Ok(AuditVerification { rows_checked: checked, head_hash: to_hex(&prev), first_broken: None })
    }
}

fn broken(checked: u64, prev: &[u8; 32], seq: u64, reason: String) -> AuditVerification {
    AuditVerification { rows_checked: checked, head_hash: to_hex(prev), first_broken: Some(BrokenRow { seq, reason }) }
}

fn decode_row(path: &Path, r: &rusqlite::Row<'_>) -> Result<AuditRow, StoreError> {
    const T: &str = "audit_log";
    let seq: i64 = get(path, r, T, -1, 0, "seq")?;
    Ok(AuditRow {
        seq: u64::try_from(seq).map_err(|_| StoreError::BadRow {
            path: path.to_path_buf(),
            table: T,
            row: seq,
            column: "seq",
            reason: "negative".into(),
        })?,
        ts: Timestamp(get(path, r, T, seq, 1, "ts")?),
        user: get(path, r, T, seq, 2, "user")?,
        action: get(path, r, T, seq, 3, "action")?,
        details: get(path, r, T, seq, 4, "details")?,
        prev_hash: get(path, r, T, seq, 5, "prev_hash")?,
        hash: get(path, r, T, seq, 6, "hash")?,
    })
}
