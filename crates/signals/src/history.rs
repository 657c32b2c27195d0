//! Signal history in SQLite: every composite and component signal with its inputs (JSON),
//! the prices that resolve them, and performance per source — hit rate, average forward
//! return at the horizon, profit factor — kept current as prices arrive.
//!
//! # Storage
//!
//! Three tables, created with `CREATE TABLE IF NOT EXISTS` (opening is idempotent), in WAL
//! mode, schema version in SQLite's `user_version` ([`SIGNAL_HISTORY_SCHEMA_VERSION`]; a
//! file with a newer version is refused). Use a file of its own (e.g. `signals.sqlite` in
//! the data directory) since `user_version` is per file.
//!
//! * `signal_prices(market, bar_index, ts_ns, close)`: the closes of each market, indexed
//!   0, 1, 2, … in time order; horizons are counted in these bars.
//! * `signal_composites`: one row per recorded snapshot (unique per market and bar; a
//!   snapshot recorded again replaces the earlier one and its components).
//! * `signal_components`: one row per source of a composite, with its inputs as JSON.
//!
//! # Outcomes
//!
//! A signal recorded at bar `k` with horizon `h` resolves when the price of bar `k + h`
//! is recorded ([`SignalHistory::record_price`] or the next [`SignalHistory::record`]):
//! `forward_change = exit − entry`, `forward_return = forward_change / |entry|` (no return
//! when `|entry| < 1e-9`: prices can be zero or negative), and for the composite
//! `pnl_usd = sign · size · forward_change · contract multiplier`. A close corrected after
//! an outcome was resolved does not change that outcome.
//!
//! # Performance
//!
//! Over resolved LONG / SHORT signals (NEUTRAL ones take no position and are left out),
//! with `r = sign · forward_return` the return in the signal's direction:
//! hit rate `= #(r > 0) / n`, average forward return `= mean(r)`, profit factor
//! `= Σ r⁺ / |Σ r⁻|` (`None` without a losing signal). Signals recorded on every bar
//! overlap; each is counted on its own.
//!
//! [`SignalHistory::signal_pnl`] is the P&L of following the composite bar by bar:
//! between consecutive recorded bars `k−1 → k`, `sign(k−1) · size(k−1) · (close(k) −
//! close(k−1)) · multiplier`, cumulated — the series the Signals panel charts.

use std::path::Path;

use crude_model::{Market, Timestamp, contract_multiplier};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::engine::{Component, SignalInput, SignalSnapshot};
use crate::source::Direction;

/// Schema version stored in `PRAGMA user_version`.
pub const SIGNAL_HISTORY_SCHEMA_VERSION: i64 = 1;

/// Name under which the composite appears in [`SignalHistory::performance`].
pub const COMPOSITE_SOURCE: &str = "composite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS signal_prices (
    market    TEXT    NOT NULL,
    bar_index INTEGER NOT NULL,
    ts_ns     INTEGER NOT NULL,
    close     REAL    NOT NULL,
    PRIMARY KEY (market, bar_index),
    UNIQUE (market, ts_ns)
);
CREATE TABLE IF NOT EXISTS signal_composites (
    id             INTEGER PRIMARY KEY,
    market         TEXT    NOT NULL,
    ts_ns          INTEGER NOT NULL,
    session_id     INTEGER NOT NULL,
    bar_index      INTEGER NOT NULL,
    entry_price    REAL    NOT NULL,
    direction      TEXT    NOT NULL,
    score          REAL    NOT NULL,
    confidence     REAL    NOT NULL,
    coverage       REAL    NOT NULL,
    horizon_bars   INTEGER NOT NULL,
    stop           REAL,
    target         REAL,
    size           INTEGER NOT NULL,
    atr            REAL    NOT NULL,
    regime         TEXT    NOT NULL,
    squeeze        INTEGER NOT NULL,
    adx            REAL,
    inputs_json    TEXT    NOT NULL,
    exit_ts_ns     INTEGER,
    exit_price     REAL,
    forward_change REAL,
    forward_return REAL,
    pnl_usd        REAL,
    UNIQUE (market, ts_ns)
);
CREATE INDEX IF NOT EXISTS signal_composites_open ON signal_composites (market, exit_price);
CREATE INDEX IF NOT EXISTS signal_composites_bar ON signal_composites (market, bar_index);
CREATE TABLE IF NOT EXISTS signal_components (
    composite_id   INTEGER NOT NULL REFERENCES signal_composites (id) ON DELETE CASCADE,
    source         TEXT    NOT NULL,
    family         TEXT    NOT NULL,
    available      INTEGER NOT NULL,
    reason         TEXT,
    direction      TEXT    NOT NULL,
    score          REAL    NOT NULL,
    confidence     REAL    NOT NULL,
    weight         REAL    NOT NULL,
    config_weight  REAL    NOT NULL,
    raw_value      REAL,
    horizon_bars   INTEGER NOT NULL,
    inputs_json    TEXT    NOT NULL,
    market         TEXT    NOT NULL,
    bar_index      INTEGER NOT NULL,
    entry_price    REAL    NOT NULL,
    exit_ts_ns     INTEGER,
    exit_price     REAL,
    forward_change REAL,
    forward_return REAL,
    PRIMARY KEY (composite_id, source)
);
CREATE INDEX IF NOT EXISTS signal_components_open ON signal_components (market, exit_price);
CREATE INDEX IF NOT EXISTS signal_components_source ON signal_components (source);
-- Covers the per-source performance query (no table reads): it stays fast as the history grows.
CREATE INDEX IF NOT EXISTS signal_components_perf
    ON signal_components (source, market, direction, forward_return, exit_price);
";

/// An error of the signal history; each names the database.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite failed.
    #[error("signal history {file}: {action}: {source}")]
    Sqlite {
        /// The database.
        file: String,
        /// What was being done.
        action: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer schema.
    #[error(
        "signal history {file}: schema version {found} is newer than this Crude reads ({supported}); open it with a newer Crude or use another file"
    )]
    NewerSchema {
        /// The database.
        file: String,
        /// Version found.
        found: i64,
        /// Version supported.
        supported: i64,
    },
    /// A price before the latest stored bar of its market.
    #[error(
        "signal history {file}: {market} price at {ts} ns is before the latest stored bar at {latest} ns; record prices in time order"
    )]
    OutOfOrder {
        /// The database.
        file: String,
        /// The market code.
        market: &'static str,
        /// The price's timestamp.
        ts: i64,
        /// The latest stored timestamp.
        latest: i64,
    },
    /// A NaN or infinite price.
    #[error("signal history {file}: {market} price {value} is not finite; only finite prices are stored")]
    BadPrice {
        /// The database.
        file: String,
        /// The market code.
        market: &'static str,
        /// The value.
        value: f64,
    },
    /// A stored value that cannot be read back (edited by hand, or corrupt).
    #[error("signal history {file}: stored value `{value}` in {column} is not valid")]
    Corrupt {
        /// The database.
        file: String,
        /// The column.
        column: &'static str,
        /// The value.
        value: String,
    },
}

/// A resolved signal's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Timestamp of the exit bar.
    pub exit_ts: Timestamp,
    /// Close of the exit bar.
    pub exit_price: f64,
    /// `exit − entry`.
    pub forward_change: f64,
    /// `(exit − entry) / |entry|`; `None` for an entry price within 1e-9 of zero.
    pub forward_return: Option<f64>,
}

/// A stored component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredComponent {
    /// Source name.
    pub source: String,
    /// Family.
    pub family: String,
    /// Whether it had a reading.
    pub available: bool,
    /// Why not.
    pub reason: Option<String>,
    /// Direction.
    pub direction: Direction,
    /// Score.
    pub score: f64,
    /// Confidence 0–100.
    pub confidence: f64,
    /// Effective weight.
    pub weight: f64,
    /// Raw value.
    pub raw_value: Option<f64>,
    /// Horizon, bars.
    pub horizon_bars: i64,
    /// Inputs as a JSON object.
    pub inputs_json: String,
    /// Outcome once resolved.
    pub outcome: Option<Outcome>,
}

/// A stored composite with its components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSignal {
    /// Row id.
    pub id: i64,
    /// Market.
    pub market: Market,
    /// Bar start.
    pub ts: Timestamp,
    /// Session id.
    pub session_id: i64,
    /// Entry price (the bar's close).
    pub entry_price: f64,
    /// Direction.
    pub direction: Direction,
    /// Score.
    pub score: f64,
    /// Confidence 0–100.
    pub confidence: f64,
    /// Horizon, bars.
    pub horizon_bars: i64,
    /// Stop.
    pub stop: Option<f64>,
    /// Target.
    pub target: Option<f64>,
    /// Size, contracts.
    pub size: i64,
    /// Regime label.
    pub regime: String,
    /// Inputs as a JSON object.
    pub inputs_json: String,
    /// Outcome once resolved.
    pub outcome: Option<Outcome>,
    /// `sign · size · forward_change · multiplier` once resolved.
    pub pnl_usd: Option<f64>,
    /// Components.
    pub components: Vec<StoredComponent>,
}

/// Performance of one source (or the composite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcePerformance {
    /// Source name or [`COMPOSITE_SOURCE`].
    pub source: String,
    /// Resolved LONG / SHORT signals with a return.
    pub signals: usize,
    /// LONG / SHORT signals still waiting for their horizon.
    pub pending: usize,
    /// Signals whose directional return was positive.
    pub hits: usize,
    /// `hits / signals`.
    pub hit_rate: Option<f64>,
    /// Mean directional forward return.
    pub avg_forward_return: Option<f64>,
    /// `gross_profit / gross_loss`; `None` without a loss.
    pub profit_factor: Option<f64>,
    /// Sum of positive directional returns.
    pub gross_profit: f64,
    /// |Sum of negative directional returns|.
    pub gross_loss: f64,
}

impl SourcePerformance {
    fn from_returns(source: String, returns: &[f64], pending: usize) -> Self {
        let n = returns.len();
        let hits = returns.iter().filter(|r| **r > 0.0).count();
        let gross_profit: f64 = returns.iter().filter(|r| **r > 0.0).sum();
        let gross_loss: f64 = -returns.iter().filter(|r| **r < 0.0).sum::<f64>();
        Self {
            source,
            signals: n,
            pending,
            hits,
            hit_rate: (n > 0).then(|| hits as f64 / n as f64),
            avg_forward_return: (n > 0).then(|| returns.iter().sum::<f64>() / n as f64),
            profit_factor: (gross_loss > 0.0).then(|| gross_profit / gross_loss),
            gross_profit,
            gross_loss,
        }
    }
}

/// One point of the composite P&L series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PnlPoint {
    /// The bar.
    pub ts: Timestamp,
    /// P&L over the bar, USD.
    pub pnl_usd: f64,
    /// Cumulative P&L, USD.
    pub cumulative_usd: f64,
}

/// The signal history database.
#[derive(Debug)]
pub struct SignalHistory {
    conn: Connection,
    file: String,
}

fn market_code(m: Market) -> &'static str {
    m.code()
}

impl SignalHistory {
    /// Open (creating if needed) a history file, in WAL mode.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`] when the file cannot be opened or set up,
    /// [`HistoryError::NewerSchema`] for a file from a newer Crude.
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        let file = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| HistoryError::Sqlite {
            file: file.clone(),
            action: "open",
            source,
        })?;
        let h = Self { conn, file };
        let _mode: String =
            h.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| h.sql("enable WAL", e))?;
        h.init()?;
        Ok(h)
    }

    /// An in-memory history (tests, one-off runs).
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`] if SQLite cannot create it.
    pub fn open_in_memory() -> Result<Self, HistoryError> {
        let file = ":memory:".to_string();
        let conn = Connection::open_in_memory().map_err(|source| HistoryError::Sqlite {
            file: file.clone(),
            action: "open",
            source,
        })?;
        let h = Self { conn, file };
        h.init()?;
        Ok(h)
    }

    fn sql(&self, action: &'static str, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite { file: self.file.clone(), action, source }
    }

    fn init(&self) -> Result<(), HistoryError> {
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|e| self.sql("configure", e))?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.sql("read user_version", e))?;
        if version > SIGNAL_HISTORY_SCHEMA_VERSION {
            return Err(HistoryError::NewerSchema {
                file: self.file.clone(),
                found: version,
                supported: SIGNAL_HISTORY_SCHEMA_VERSION,
            });
        }
        self.conn.execute_batch(SCHEMA).map_err(|e| self.sql("create tables", e))?;
        if version < SIGNAL_HISTORY_SCHEMA_VERSION {
            self.conn
                .execute_batch(&format!("PRAGMA user_version = {SIGNAL_HISTORY_SCHEMA_VERSION}"))
                .map_err(|e| self.sql("set user_version", e))?;
        }
        Ok(())
    }

    /// The journal mode SQLite reports (`wal` for a file).
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`].
    pub fn journal_mode(&self) -> Result<String, HistoryError> {
        self.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(|e| self.sql("read journal_mode", e))
    }

    /// The schema version in the file.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`].
    pub fn schema_version(&self) -> Result<i64, HistoryError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.sql("read user_version", e))
    }

    /// Store (or update) the close of a market's bar and resolve every signal whose
    /// horizon has now elapsed. Returns the number of signals (composites and components)
    /// resolved.
    ///
    /// # Errors
    /// [`HistoryError::BadPrice`], [`HistoryError::OutOfOrder`] (nothing is written), or
    /// [`HistoryError::Sqlite`].
    pub fn record_price(&mut self, market: Market, ts: Timestamp, close: f64) -> Result<usize, HistoryError> {
        let file = self.file.clone();
        let tx = self.conn.transaction().map_err(|source| HistoryError::Sqlite {
            file: file.clone(),
            action: "begin",
            source,
        })?;
        upsert_price(&tx, &file, market, ts, close)?;
        let n = resolve(&tx, &file, market)?;
        tx.commit().map_err(|source| HistoryError::Sqlite { file, action: "commit", source })?;
        Ok(n)
    }

    /// Store a snapshot: its close as the market's price for the bar, the composite and
    /// every component with their inputs; then resolve elapsed horizons. Recording the same
    /// market and bar again replaces the earlier record. Returns the composite's row id.
    ///
    /// # Errors
    /// As [`SignalHistory::record_price`].
    pub fn record(&mut self, snap: &SignalSnapshot) -> Result<i64, HistoryError> {
        let file = self.file.clone();
        let e = |action: &'static str| {
            let file = file.clone();
            move |source| HistoryError::Sqlite { file, action, source }
        };
        let m = market_code(snap.market);
        let tx = self.conn.transaction().map_err(e("begin"))?;
        let bar_index = upsert_price(&tx, &file, snap.market, snap.ts, snap.close)?;
        tx.prepare_cached(
            "DELETE FROM signal_components WHERE composite_id IN (SELECT id FROM signal_composites WHERE market = ?1 AND ts_ns = ?2)",
        )
        .and_then(|mut st| st.execute(params![m, snap.ts.0]))
        .map_err(e("replace components"))?;
        tx.prepare_cached("DELETE FROM signal_composites WHERE market = ?1 AND ts_ns = ?2")
            .and_then(|mut st| st.execute(params![m, snap.ts.0]))
            .map_err(e("replace composite"))?;
        let c = &snap.composite;
        let inputs = serde_json::json!({
            "close": snap.close,
            "atr": snap.atr,
            "score": c.score,
            "coverage": c.coverage,
            "regime": snap.regime.regime.label(),
            "squeeze": snap.regime.squeeze,
            "adx": snap.regime.adx,
            "bars_in_regime": snap.regime.bars_in_regime,
        });
        tx.prepare_cached(
            "INSERT INTO signal_composites (market, ts_ns, session_id, bar_index, entry_price, direction, score, confidence, coverage,
                horizon_bars, stop, target, size, atr, regime, squeeze, adx, inputs_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )
        .and_then(|mut st| st.execute(params![
                m,
                snap.ts.0,
                snap.session_id,
                bar_index,
                snap.close,
                c.direction.label(),
                c.score,
                c.confidence,
                c.coverage,
                c.horizon_bars as i64,
                c.stop,
                c.target,
                c.size,
                snap.atr,
                snap.regime.regime.label(),
                snap.regime.squeeze,
                snap.regime.adx,
                inputs.to_string(),
            ]))
        .map_err(e("insert composite"))?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO signal_components (composite_id, source, family, available, reason, direction, score, confidence,
                        weight, config_weight, raw_value, horizon_bars, inputs_json, market, bar_index, entry_price)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                )
                .map_err(e("prepare component insert"))?;
            for comp in &snap.components {
                stmt.execute(params![
                    id,
                    comp.source.name(),
                    comp.family,
                    comp.available,
                    comp.reason.as_deref(),
                    comp.direction.label(),
                    comp.score,
                    comp.confidence,
                    comp.weight,
                    comp.config_weight,
                    comp.raw_value,
                    comp.horizon_bars as i64,
                    inputs_json(comp),
                    m,
                    bar_index,
                    snap.close,
                ])
                .map_err(e("insert component"))?;
            }
        }
        resolve(&tx, &file, snap.market)?;
        tx.commit().map_err(e("commit"))?;
        Ok(id)
    }

    /// The latest `limit` signals of a market, newest first, with their components.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`] or [`HistoryError::Corrupt`].
    pub fn recent(&self, market: Market, limit: usize) -> Result<Vec<StoredSignal>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, ts_ns, session_id, entry_price, direction, score, confidence, horizon_bars, stop, target, size,
                        regime, inputs_json, exit_ts_ns, exit_price, forward_change, forward_return, pnl_usd
                 FROM signal_composites WHERE market = ?1 ORDER BY ts_ns DESC LIMIT ?2",
            )
            .map_err(|e| self.sql("prepare recent", e))?;
        let rows = stmt
            .query_map(params![market_code(market), i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, f64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, f64>(5)?,
                    r.get::<_, f64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<f64>>(8)?,
                    r.get::<_, Option<f64>>(9)?,
                    r.get::<_, i64>(10)?,
                    r.get::<_, String>(11)?,
                    r.get::<_, String>(12)?,
                    outcome_of(r, 13)?,
                    r.get::<_, Option<f64>>(17)?,
                ))
            })
            .map_err(|e| self.sql("query recent", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                ts,
                session_id,
                entry_price,
                dir,
                score,
                confidence,
                horizon_bars,
                stop,
                target,
                size,
                regime,
                inputs_json,
                outcome,
                pnl_usd,
            ) = row.map_err(|e| self.sql("read recent", e))?;
            out.push(StoredSignal {
                id,
                market,
                ts: Timestamp(ts),
                session_id,
                entry_price,
                direction: self.direction(&dir)?,
                score,
                confidence,
                horizon_bars,
                stop,
                target,
                size,
                regime,
                inputs_json,
                outcome,
                pnl_usd,
                components: self.components(id)?,
            });
        }
        Ok(out)
    }

    fn direction(&self, label: &str) -> Result<Direction, HistoryError> {
        Direction::from_label(label).ok_or_else(|| HistoryError::Corrupt {
            file: self.file.clone(),
            column: "direction",
            value: label.to_string(),
        })
    }

    /// The components of one composite, in source order.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`] or [`HistoryError::Corrupt`].
    pub fn components(&self, composite_id: i64) -> Result<Vec<StoredComponent>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT source, family, available, reason, direction, score, confidence, weight, raw_value, horizon_bars, inputs_json,
                        exit_ts_ns, exit_price, forward_change, forward_return
                 FROM signal_components WHERE composite_id = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.sql("prepare components", e))?;
        let rows = stmt
            .query_map(params![composite_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, f64>(5)?,
                    r.get::<_, f64>(6)?,
                    r.get::<_, f64>(7)?,
                    r.get::<_, Option<f64>>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, String>(10)?,
                    outcome_of(r, 11)?,
                ))
            })
            .map_err(|e| self.sql("query components", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (
                source,
                family,
                available,
                reason,
                dir,
                score,
                confidence,
                weight,
                raw_value,
                horizon_bars,
                inputs_json,
                outcome,
            ) = row.map_err(|e| self.sql("read components", e))?;
            out.push(StoredComponent {
                source,
                family,
                available,
                reason,
                direction: self.direction(&dir)?,
                score,
                confidence,
                weight,
                raw_value,
                horizon_bars,
                inputs_json,
                outcome,
            });
        }
        Ok(out)
    }

    /// Performance of the composite and of each source (in that order, sources by name),
    /// for one market or all.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`].
    pub fn performance(&self, market: Option<Market>) -> Result<Vec<SourcePerformance>, HistoryError> {
        let m = market.map(market_code);
        let mut out = Vec::new();
        let (returns, pending) = self.directional_returns(
            "SELECT direction, forward_return, exit_price IS NULL FROM signal_composites
             WHERE direction != 'NEUTRAL' AND (?1 IS NULL OR market = ?1)",
            params![m],
        )?;
        out.push(SourcePerformance::from_returns(COMPOSITE_SOURCE.to_string(), &returns, pending));
        let mut sources: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT DISTINCT source FROM signal_components WHERE (?1 IS NULL OR market = ?1) ORDER BY source",
                )
                .map_err(|e| self.sql("prepare sources", e))?;
            let rows =
                stmt.query_map(params![m], |r| r.get::<_, String>(0)).map_err(|e| self.sql("query sources", e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.sql("read sources", e))?
        };
        sources.dedup();
        for source in sources {
            let (returns, pending) = self.directional_returns(
                "SELECT direction, forward_return, exit_price IS NULL FROM signal_components
                 WHERE direction != 'NEUTRAL' AND source = ?2 AND (?1 IS NULL OR market = ?1)",
                params![m, source],
            )?;
            out.push(SourcePerformance::from_returns(source, &returns, pending));
        }
        Ok(out)
    }

    fn directional_returns(&self, sql: &str, p: impl rusqlite::Params) -> Result<(Vec<f64>, usize), HistoryError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.sql("prepare performance", e))?;
        let rows = stmt
            .query_map(p, |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<f64>>(1)?, r.get::<_, bool>(2)?)))
            .map_err(|e| self.sql("query performance", e))?;
        let (mut returns, mut pending) = (Vec::new(), 0usize);
        for row in rows {
            let (dir, ret, open) = row.map_err(|e| self.sql("read performance", e))?;
            if open {
                pending += 1;
            } else if let Some(ret) = ret {
                returns.push(self.direction(&dir)?.sign() as f64 * ret);
            }
        }
        Ok((returns, pending))
    }

    /// The composite's bar-by-bar P&L for a market (see the module docs), oldest first.
    ///
    /// # Errors
    /// [`HistoryError::Sqlite`] or [`HistoryError::Corrupt`].
    pub fn signal_pnl(&self, market: Market) -> Result<Vec<PnlPoint>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT p.ts_ns, c.direction, c.size, p.close - q.close
                 FROM signal_prices p
                 JOIN signal_prices q ON q.market = p.market AND q.bar_index = p.bar_index - 1
                 JOIN signal_composites c ON c.market = q.market AND c.bar_index = q.bar_index
                 WHERE p.market = ?1 ORDER BY p.bar_index",
            )
            .map_err(|e| self.sql("prepare pnl", e))?;
        let rows = stmt
            .query_map(params![market_code(market)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, f64>(3)?))
            })
            .map_err(|e| self.sql("query pnl", e))?;
        let mult = contract_multiplier(market);
        let mut cumulative = 0.0;
        let mut out = Vec::new();
        for row in rows {
            let (ts, dir, size, change) = row.map_err(|e| self.sql("read pnl", e))?;
            let pnl = self.direction(&dir)?.sign() as f64 * size as f64 * change * mult;
            cumulative += pnl;
            out.push(PnlPoint { ts: Timestamp(ts), pnl_usd: pnl, cumulative_usd: cumulative });
        }
        Ok(out)
    }
}

fn outcome_of(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Option<Outcome>> {
    let exit_ts: Option<i64> = r.get(first)?;
    let exit_price: Option<f64> = r.get(first + 1)?;
    let change: Option<f64> = r.get(first + 2)?;
    let ret: Option<f64> = r.get(first + 3)?;
    Ok(match (exit_ts, exit_price, change) {
        (Some(t), Some(p), Some(c)) => {
            Some(Outcome { exit_ts: Timestamp(t), exit_price: p, forward_change: c, forward_return: ret })
        }
        _ => None,
    })
}

fn inputs_json(c: &Component) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        c.inputs.iter().map(|SignalInput { name, value }| (name.to_string(), serde_json::json!(value))).collect();
    serde_json::Value::Object(map).to_string()
}

/// Insert or update a price row and return its bar index.
fn upsert_price(
    tx: &Transaction<'_>,
    file: &str,
    market: Market,
    ts: Timestamp,
    close: f64,
) -> Result<i64, HistoryError> {
    let m = market_code(market);
    let e = |action: &'static str| {
        let file = file.to_string();
        move |source| HistoryError::Sqlite { file, action, source }
    };
    if !close.is_finite() {
        return Err(HistoryError::BadPrice { file: file.to_string(), market: m, value: close });
    }
    let existing: Option<i64> = tx
        .prepare_cached("SELECT bar_index FROM signal_prices WHERE market = ?1 AND ts_ns = ?2")
        .and_then(|mut st| st.query_row(params![m, ts.0], |r| r.get(0)).optional())
        .map_err(e("find price"))?;
    if let Some(index) = existing {
        tx.prepare_cached("UPDATE signal_prices SET close = ?3 WHERE market = ?1 AND bar_index = ?2")
            .and_then(|mut st| st.execute(params![m, index, close]))
            .map_err(e("update price"))?;
        return Ok(index);
    }
    let latest: Option<(i64, i64)> = tx
        .prepare_cached("SELECT bar_index, ts_ns FROM signal_prices WHERE market = ?1 ORDER BY bar_index DESC LIMIT 1")
        .and_then(|mut st| st.query_row(params![m], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(e("find latest price"))?;
    let index = match latest {
        Some((_, latest_ts)) if latest_ts > ts.0 => {
            return Err(HistoryError::OutOfOrder { file: file.to_string(), market: m, ts: ts.0, latest: latest_ts });
        }
        Some((i, _)) => i + 1,
        None => 0,
    };
    tx.prepare_cached("INSERT INTO signal_prices (market, bar_index, ts_ns, close) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut st| st.execute(params![m, index, ts.0, close]))
        .map_err(e("insert price"))?;
    Ok(index)
}

/// Resolve the open signals of a market whose exit bar is stored.
fn resolve(tx: &Transaction<'_>, file: &str, market: Market) -> Result<usize, HistoryError> {
    let e = |action: &'static str| {
        let file = file.to_string();
        move |source| HistoryError::Sqlite { file, action, source }
    };
    let m = market_code(market);
    // The market is spelled into the SQL (one cached statement per market) rather than
    // bound: SQLite re-prepares a statement whose plan used a bound value each time that
    // value changes, which here would be on every call as markets alternate.
    let a = tx
        .prepare_cached(&format!(
            "UPDATE signal_composites AS c SET
                exit_ts_ns = p.ts_ns,
                exit_price = p.close,
                forward_change = p.close - c.entry_price,
                forward_return = CASE WHEN abs(c.entry_price) >= 1e-9 THEN (p.close - c.entry_price) / abs(c.entry_price) END,
                pnl_usd = (CASE c.direction WHEN 'LONG' THEN 1.0 WHEN 'SHORT' THEN -1.0 ELSE 0.0 END) * c.size * (p.close - c.entry_price) * ?1
             FROM signal_prices AS p
             WHERE c.market = '{m}' AND c.exit_price IS NULL AND p.market = '{m}' AND p.bar_index = c.bar_index + c.horizon_bars",
        ))
        .and_then(|mut st| st.execute(params![contract_multiplier(market)]))
        .map_err(e("resolve composites"))?;
    let b = tx
        .prepare_cached(&format!(
            "UPDATE signal_components AS c SET
                exit_ts_ns = p.ts_ns,
                exit_price = p.close,
                forward_change = p.close - c.entry_price,
                forward_return = CASE WHEN abs(c.entry_price) >= 1e-9 THEN (p.close - c.entry_price) / abs(c.entry_price) END
             FROM signal_prices AS p
             WHERE c.market = '{m}' AND c.exit_price IS NULL AND p.market = '{m}' AND p.bar_index = c.bar_index + c.horizon_bars",
        ))
        .and_then(|mut st| st.execute([]))
        .map_err(e("resolve components"))?;
    Ok(a + b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Component, Composite};
    use crate::regime::{Regime, RegimeState};
    use crate::source::SourceId;
    use std::borrow::Cow;

    const DAY_NS: i64 = 86_400 * 1_000_000_000;

    fn component(source: SourceId, direction: Direction, horizon: usize) -> Component {
        Component {
            source,
            family: "f".into(),
            available: direction != Direction::Neutral,
            reason: (direction == Direction::Neutral).then_some(Cow::Borrowed("no data")),
            direction,
            confidence: 50.0,
            score: direction.sign() as f64 * 0.5,
            weight: 1.0,
            config_weight: 1.0,
            raw_value: Some(1.5),
            horizon_bars: horizon,
            inputs: vec![SignalInput { name: Cow::Borrowed("x"), value: 2.5 }],
        }
    }

    fn snapshot(i: i64, close: f64, direction: Direction, size: i64, horizon: usize) -> SignalSnapshot {
        SignalSnapshot {
            market: Market::Wti,
            ts: Timestamp(i * DAY_NS),
            session_id: i,
            close,
            atr: 1.0,
            composite: Composite {
                direction,
                confidence: 60.0,
                score: direction.sign() as f64 * 0.6,
                coverage: 1.0,
                horizon_bars: horizon,
                stop: (direction != Direction::Neutral).then_some(close - 2.0),
                target: (direction != Direction::Neutral).then_some(close + 3.0),
                size,
            },
            components: vec![
                component(SourceId::MaCrossover, direction, horizon),
                component(SourceId::RsiExtremes, Direction::Short, 1),
                component(SourceId::TermStructureCarry, Direction::Neutral, 1),
            ],
            regime: RegimeState { regime: Regime::Trending, squeeze: false, adx: Some(30.0), bars_in_regime: 4 },
        }
    }

    /// Price path 100, 102, 101, 104, 103, 100 with LONG composites of horizon 2 at bars 0..=3.
    fn history_with_known_outcomes() -> SignalHistory {
        let mut h = SignalHistory::open_in_memory().unwrap();
        let path = [100.0, 102.0, 101.0, 104.0, 103.0, 100.0];
        for (i, &px) in path.iter().enumerate() {
            if i < 4 {
                h.record(&snapshot(i as i64, px, Direction::Long, 2, 2)).unwrap();
            } else {
                h.record_price(Market::Wti, Timestamp(i as i64 * DAY_NS), px).unwrap();
            }
        }
        h
    }

    #[test]
    fn performance_on_a_known_path() {
        let h = history_with_known_outcomes();
        let perf = h.performance(Some(Market::Wti)).unwrap();
        let comp = &perf[0];
        assert_eq!(comp.source, COMPOSITE_SOURCE);
        // LONG at 100 -> 101 (+1%), 102 -> 104 (+1.96%), 101 -> 103 (+1.98%), 104 -> 100 (-3.85%).
        let r = [1.0 / 100.0, 2.0 / 102.0, 2.0 / 101.0, -4.0 / 104.0];
        assert_eq!((comp.signals, comp.hits, comp.pending), (4, 3, 0));
        assert!((comp.hit_rate.unwrap() - 0.75).abs() < 1e-12);
        assert!((comp.avg_forward_return.unwrap() - r.iter().sum::<f64>() / 4.0).abs() < 1e-12);
        let pf = (r[0] + r[1] + r[2]) / (4.0 / 104.0);
        assert!((comp.profit_factor.unwrap() - pf).abs() < 1e-12);
        // The always-SHORT RSI component, horizon 1: 100->102 loss, 102->101 win, 101->104 loss, 104->103 win.
        let rsi = perf.iter().find(|p| p.source == "rsi_extremes").unwrap();
        assert_eq!((rsi.signals, rsi.hits), (4, 2));
        let want = [-2.0 / 100.0, 1.0 / 102.0, -3.0 / 101.0, 1.0 / 104.0];
        assert!((rsi.avg_forward_return.unwrap() - want.iter().sum::<f64>() / 4.0).abs() < 1e-12);
        // The unavailable carry component is NEUTRAL: no statistics.
        let carry = perf.iter().find(|p| p.source == "term_structure_carry").unwrap();
        assert_eq!((carry.signals, carry.hit_rate, carry.profit_factor), (0, None, None));
        // USD P&L of the composite: 2 contracts x 1,000 bbl x change.
        let recent = h.recent(Market::Wti, 10).unwrap();
        assert_eq!(recent.len(), 4);
        assert_eq!(recent[3].pnl_usd, Some(2_000.0), "oldest: 100 -> 101");
        assert_eq!(recent[0].pnl_usd, Some(-8_000.0), "newest: 104 -> 100");
        // Bar-by-bar P&L of following the composite: bars 1..=4 each held from the bar before.
        let pnl = h.signal_pnl(Market::Wti).unwrap();
        let changes = [2.0, -1.0, 3.0, -1.0];
        assert_eq!(pnl.len(), 4);
        for (p, ch) in pnl.iter().zip(changes) {
            assert_eq!(p.pnl_usd, 2.0 * ch * 1_000.0);
        }
        assert_eq!(pnl.last().unwrap().cumulative_usd, 6_000.0);
    }

    #[test]
    fn outcomes_resolve_only_when_the_horizon_has_elapsed() {
        let mut h = SignalHistory::open_in_memory().unwrap();
        h.record(&snapshot(0, 50.0, Direction::Short, 1, 3)).unwrap();
        assert_eq!(h.performance(None).unwrap()[0].pending, 1);
        assert_eq!(
            h.record_price(Market::Wti, Timestamp(DAY_NS), 49.0).unwrap(),
            2,
            "RSI and carry components (horizon 1)"
        );
        assert_eq!(h.record_price(Market::Wti, Timestamp(2 * DAY_NS), 48.0).unwrap(), 0);
        assert_eq!(h.record_price(Market::Wti, Timestamp(3 * DAY_NS), 47.0).unwrap(), 2, "composite and MA, horizon 3");
        let s = &h.recent(Market::Wti, 1).unwrap()[0];
        let o = s.outcome.unwrap();
        assert_eq!((o.exit_price, o.forward_change, o.exit_ts), (47.0, -3.0, Timestamp(3 * DAY_NS)));
        assert_eq!(s.pnl_usd, Some(3_000.0), "short 1 contract, down $3");
        let p = &h.performance(None).unwrap()[0];
        assert_eq!((p.signals, p.hits, p.pending), (1, 1, 0));
        assert_eq!(p.profit_factor, None, "no losing signal");
        // Prices out of order or not finite are refused without writing.
        let err = h.record_price(Market::Wti, Timestamp(DAY_NS / 2), 1.0).unwrap_err();
        assert!(matches!(err, HistoryError::OutOfOrder { .. }), "{err}");
        assert!(matches!(
            h.record_price(Market::Wti, Timestamp(9 * DAY_NS), f64::NAN),
            Err(HistoryError::BadPrice { .. })
        ));
        // Updating a bar's close in place is allowed (outcomes already resolved keep their exit).
        assert_eq!(h.record_price(Market::Wti, Timestamp(3 * DAY_NS), 47.5).unwrap(), 0);
    }

    #[test]
    fn round_trip_with_inputs_and_negative_prices() {
        let mut h = SignalHistory::open_in_memory().unwrap();
        let mut snap = snapshot(0, -37.63, Direction::Long, 3, 1);
        let id = h.record(&snap).unwrap();
        let stored = &h.recent(Market::Wti, 5).unwrap()[0];
        assert_eq!(stored.id, id);
        assert_eq!((stored.entry_price, stored.direction, stored.size), (-37.63, Direction::Long, 3));
        assert_eq!((stored.stop, stored.target), (snap.composite.stop, snap.composite.target));
        assert_eq!(stored.regime, "trending");
        let inputs: serde_json::Value = serde_json::from_str(&stored.inputs_json).unwrap();
        assert_eq!(inputs["adx"], 30.0);
        assert_eq!(inputs["regime"], "trending");
        assert_eq!(stored.components.len(), 3);
        let c0 = &stored.components[0];
        assert_eq!((c0.source.as_str(), c0.family.as_str(), c0.available), ("ma_crossover", "f", true));
        assert_eq!((c0.score, c0.confidence, c0.weight, c0.raw_value, c0.horizon_bars), (0.5, 50.0, 1.0, Some(1.5), 1));
        assert_eq!(c0.inputs_json, r#"{"x":2.5}"#);
        assert_eq!(stored.components[2].reason.as_deref(), Some("no data"));
        // Recording the same bar again replaces it (no duplicate rows).
        snap.composite.size = 5;
        h.record(&snap).unwrap();
        let again = h.recent(Market::Wti, 5).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].size, 5);
        assert_eq!(again[0].components.len(), 3);
        // From -37.63 to 10: a return relative to |entry|.
        h.record_price(Market::Wti, Timestamp(DAY_NS), 10.0).unwrap();
        let o = h.recent(Market::Wti, 1).unwrap()[0].outcome.unwrap();
        assert!((o.forward_return.unwrap() - 47.63 / 37.63).abs() < 1e-12);
    }

    #[test]
    fn file_database_is_wal_versioned_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signals.sqlite");
        {
            let mut h = SignalHistory::open(&path).unwrap();
            assert_eq!(h.journal_mode().unwrap(), "wal");
            assert_eq!(h.schema_version().unwrap(), SIGNAL_HISTORY_SCHEMA_VERSION);
            h.record(&snapshot(0, 70.0, Direction::Long, 1, 1)).unwrap();
        }
        let h = SignalHistory::open(&path).unwrap();
        assert_eq!(h.recent(Market::Wti, 10).unwrap().len(), 1, "reopening keeps the data");
        drop(h);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 7").unwrap();
        drop(conn);
        let err = SignalHistory::open(&path).unwrap_err();
        assert!(err.to_string().contains("schema version 7 is newer"), "{err}");
        let err = SignalHistory::open(&dir.path().join("missing/dir/x.sqlite")).unwrap_err();
        assert!(err.to_string().contains("missing/dir/x.sqlite"), "{err}");
    }

    #[test]
    fn pnl_join_finds_each_composite_by_its_bar() {
        // Without an index on (market, bar_index) the P&L join scans every composite of
        // the market for each bar: quadratic in the history's length.
        let h = history_with_known_outcomes();
        let plan: Vec<String> = h
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT p.ts_ns FROM signal_prices p
                 JOIN signal_prices q ON q.market = p.market AND q.bar_index = p.bar_index - 1
                 JOIN signal_composites c ON c.market = q.market AND c.bar_index = q.bar_index
                 WHERE p.market = 'CL' ORDER BY p.bar_index",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|l| l.contains("signal_composites_bar (market=? AND bar_index=?)")), "{plan:?}");
    }

    #[test]
    fn source_performance_reads_only_the_covering_index() {
        // The per-source performance query runs for every source on every refresh: it must
        // not read the table's rows (68 ms per refresh at 36k components without it).
        let h = history_with_known_outcomes();
        let plan: Vec<String> = h
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT direction, forward_return, exit_price IS NULL FROM signal_components
                 WHERE direction != 'NEUTRAL' AND source = 'rsi_extremes' AND ('CL' IS NULL OR market = 'CL')",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|l| l.contains("USING COVERING INDEX signal_components_perf")), "{plan:?}");
    }
}
