//! Versioned schema migrations.
//!
//! Migrations are ordered SQL scripts; [`MIGRATIONS`]`[i]` takes the schema from version `i`
//! to `i + 1`. The `schema_version` table lists every applied version; each migration runs in
//! its own transaction together with the insertion of its version row, so a crash leaves the
//! database at the previous version, never half-migrated. A database whose version is newer
//! than the last migration here is refused. Never edit a released migration: append a new one.
//!
//! The money tables (`order_events`, `fills`, `audit_log`) are append-only: triggers abort any
//! UPDATE or DELETE. `orders` holds the latest state of each order (updated in the same
//! transaction as the event that changed it); `marks` holds the last mark per contract.

/// SQLite `application_id` of a Crude database ("CRUD").
pub const APPLICATION_ID: i32 = 0x4352_5544;

/// One schema migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version the migration produces.
    pub version: u32,
    /// What it does.
    pub description: &'static str,
    /// The SQL, run as one batch.
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "orders, order events, fills, hash-chained audit log, marks",
    sql: r#"
CREATE TABLE orders (
    order_id        INTEGER PRIMARY KEY,
    client_order_id TEXT    NOT NULL UNIQUE,
    contract        TEXT    NOT NULL,
    market          TEXT    NOT NULL,
    year            INTEGER NOT NULL,
    month           INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    qty             INTEGER NOT NULL CHECK (qty > 0),
    order_type      TEXT    NOT NULL,
    limit_price     REAL,
    stop_price      REAL,
    tif             TEXT    NOT NULL,
    strategy        TEXT    NOT NULL,
    user            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    filled_qty      INTEGER NOT NULL CHECK (filled_qty >= 0 AND filled_qty <= qty),
    avg_fill_price  REAL,
    triggered       INTEGER NOT NULL,
    created_ts      INTEGER NOT NULL,
    updated_ts      INTEGER NOT NULL,
    expire_ts       INTEGER,
    arrival_price   REAL,
    spread_id       INTEGER,
    spread_leg      INTEGER,
    spread_ratio    INTEGER,
    reason          TEXT,
    last_seq        INTEGER NOT NULL
);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_spread ON orders (spread_id) WHERE spread_id IS NOT NULL;

CREATE TABLE order_events (
    event_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL REFERENCES orders (order_id),
    seq         INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    prev_status TEXT,
    status      TEXT    NOT NULL,
    qty         INTEGER NOT NULL,
    filled_qty  INTEGER NOT NULL,
    limit_price REAL,
    stop_price  REAL,
    fill_id     INTEGER,
    reason      TEXT,
    UNIQUE (order_id, seq)
);

CREATE TABLE fills (
    fill_id        INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL REFERENCES orders (order_id),
    contract       TEXT    NOT NULL,
    market         TEXT    NOT NULL,
    year           INTEGER NOT NULL,
    month          INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    side           TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    qty            INTEGER NOT NULL CHECK (qty > 0),
    price          REAL    NOT NULL,
    ts             INTEGER NOT NULL,
    commission_usd REAL    NOT NULL,
    fees_usd       REAL    NOT NULL,
    liquidity      TEXT    NOT NULL,
    strategy       TEXT    NOT NULL
);
CREATE INDEX fills_order ON fills (order_id);
CREATE INDEX fills_ts ON fills (ts);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    user      TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_action ON audit_log (action);

CREATE TABLE marks (
    contract TEXT    PRIMARY KEY,
    market   TEXT    NOT NULL,
    year     INTEGER NOT NULL,
    month    INTEGER NOT NULL,
    price    REAL    NOT NULL,
    ts       INTEGER NOT NULL
);

CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
CREATE TRIGGER fills_no_update BEFORE UPDATE ON fills
BEGIN SELECT RAISE(ABORT, 'fills is append-only'); END;
CREATE TRIGGER fills_no_delete BEFORE DELETE ON fills
BEGIN SELECT RAISE(ABORT, 'fills is append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"#,
}];

/// The schema version this build writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {} out of order", m.description);
        }
        assert_eq!(latest_version() as usize, MIGRATIONS.len());
    }
}
