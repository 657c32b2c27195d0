//! Library side of `crude signals --input FILE [--json]`: run the signal engine over a price
//! file and report the composite and component signals at the last bar, with the regime.
//!
//! # Input
//!
//! The CSV layouts of `crude indicators` (read by the same reader, with the same errors):
//! `date,close` or `date,open,high,low,close[,volume]`, one row per bar, oldest first. The
//! file is treated as the front-month series of one market (WTI unless
//! [`SignalCliOptions::market`] says otherwise); periods are in rows. With `date,close`
//! only, the sources that need highs and lows (Bollinger touch with the Keltner filter,
//! Donchian breakout, ADX trend) and the regime are reported unavailable; the fundamental
//! sources (curve, inventory, other markets, OPEC+ table) are reported unavailable with the
//! reason — none is dropped. Additionally a row with `high < low` is an error naming its
//! line and the `high` column.
//!
//! # Output (`--json`)
//!
//! One JSON object (pretty-printed, trailing newline):
//!
//! ```json
//! {
//!   "date": "2019-01-03",            // the last row's date as written
//!   "market": "CL",
//!   "close": 47.09,
//!   "atr": 1.52,                     // ATR(risk.atr_period) at the last bar
//!   "regime": "trending",            // ranging | transitional | trending | unknown
//!   "squeeze": false,
//!   "adx": 27.4,                     // null without highs/lows
//!   "composite": {
//!     "direction": "LONG",           // LONG | SHORT | NEUTRAL
//!     "confidence": 31.2,            // 0-100
//!     "score": 0.48,                 // -1..1
//!     "coverage": 0.62,              // share of applicable weight with a reading
//!     "horizon_bars": 16,
//!     "stop": 44.05, "target": 51.65,  // null when NEUTRAL
//!     "size": 1                      // contracts, >= 0
//!   },
//!   "components": [
//!     {"source": "ma_crossover", "family": "trend", "available": true, "direction": "LONG",
//!      "confidence": 100.0, "score": 1.0, "weight": 0.2, "value": 2.31, "horizon_bars": 20,
//!      "reason": null},
//!     {"source": "adx_trend", "family": "trend", "available": false, "direction": "NEUTRAL",
//!      "confidence": 0.0, "score": 0.0, "weight": 0.0, "value": null, "horizon_bars": 10,
//!      "reason": "needs bar highs and lows; the input has closes only"}
//!   ]
//! }
//! ```
//!
//! Components come in the order of [`crate::SourceId::ALL`]; `weight` is the effective
//! weight (config × family factor × regime scale), `value` the source's raw value. Without
//! `--json` the same content is printed as a text table.
//!
//! # Errors
//!
//! Every error is exit code 2 ([`SignalCliError::exit_code`]) and names the file, line and
//! column where there is one: the `crude indicators` reader's errors, a row with high below
//! low, or a file too short for the ATR to have a value at the last row.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crude_model::{Bar, Market, Timestamp};
use serde::Serialize;

use crate::config::SignalsConfig;
use crate::engine::{BarFields, EngineError, SignalEngine, SignalSnapshot};
use crate::indicator_cli::{IndicatorCliError, parse_table};

/// An error of `crude signals`; every variant is exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SignalCliError {
    /// The input file could not be read or parsed (the `crude indicators` reader's errors).
    #[error(transparent)]
    Input(#[from] IndicatorCliError),
    /// A row whose high is below its low.
    #[error("{}: line {line}, column {column} (`high`): high {high} is below low {low}; fix the row", path.display())]
    HighBelowLow {
        /// The input path.
        path: PathBuf,
        /// The row's line.
        line: usize,
        /// 1-based column of `high`.
        column: usize,
        /// High.
        high: f64,
        /// Low.
        low: f64,
    },
    /// Too few rows for a signal at the last row.
    #[error(
        "{}: {rows} data row(s); the signals need at least {needed} rows (ATR period + 1) to have a value at the last row; supply a longer history",
        path.display()
    )]
    TooFewRows {
        /// The input path.
        path: PathBuf,
        /// Rows in the file.
        rows: usize,
        /// Rows needed.
        needed: usize,
    },
    /// The engine rejected the configuration.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The signals configuration file is invalid (the message names the field).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

impl SignalCliError {
    /// The process exit code: 2 (bad input file, bad configuration).
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// Options of [`run_signals_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct SignalCliOptions {
    /// Market the file's prices belong to (sets the contract multiplier of the size and
    /// which sources apply).
    pub market: Market,
    /// Engine configuration.
    pub config: SignalsConfig,
}

impl Default for SignalCliOptions {
    fn default() -> Self {
        Self { market: Market::Wti, config: SignalsConfig::default() }
    }
}

/// Run the engine over `input` with the default configuration as WTI, and render the last
/// bar's signals as JSON (`json`) or a text table.
///
/// # Errors
/// See [`SignalCliError`].
pub fn run_signals(input: &Path, json: bool) -> Result<String, SignalCliError> {
    run_signals_with(input, json, &SignalCliOptions::default())
}

/// [`run_signals`] with the engine configuration of `config` (a `signals.yaml`, validated;
/// `None`: the built-in defaults, which equal the shipped file).
///
/// # Errors
/// [`SignalCliError::Config`] naming the field of a bad file, else as [`run_signals`].
pub fn run_signals_from(input: &Path, json: bool, config: Option<&Path>) -> Result<String, SignalCliError> {
    let config = match config {
        Some(p) => SignalsConfig::load(p)?,
        None => SignalsConfig::default(),
    };
    run_signals_with(input, json, &SignalCliOptions { config, ..SignalCliOptions::default() })
}

/// [`run_signals`] with a chosen market and configuration.
///
/// # Errors
/// See [`SignalCliError`].
pub fn run_signals_with(input: &Path, json: bool, options: &SignalCliOptions) -> Result<String, SignalCliError> {
    let bytes =
        std::fs::read(input).map_err(|source| IndicatorCliError::ReadInput { path: input.to_path_buf(), source })?;
    let table = parse_table(input, &bytes)?;
    let s = &table.series;
    if let (Some(high), Some(low), Some((hcol, _))) = (s.high(), s.low(), table.high_low_columns)
        && let Some(i) = high.iter().zip(low).position(|(h, l)| h < l)
    {
        return Err(SignalCliError::HighBelowLow {
            path: input.to_path_buf(),
            line: table.lines.get(i).copied().unwrap_or(0),
            column: hcol,
            high: high[i],
            low: low[i],
        });
    }
    let mut engine = SignalEngine::new(options.config.clone())?;
    let market = options.market;
    if !table.has_high_low {
        engine.set_bar_fields(market, BarFields::CloseOnly);
    }
    let sessions = s.sessions().unwrap_or(&[]);
    let mut last: Option<SignalSnapshot> = None;
    for i in 0..s.len() {
        let Some(b) = s.bar(i) else { continue };
        let start = table.times.get(i).map_or(Timestamp(0), |t| Timestamp::from_datetime(&t.and_utc()));
        // Volume is finite and >= 0 (checked by the reader); the cast saturates.
        let bar =
            Bar { start, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume.round() as u64 };
        let snap = engine.on_bar(market, &bar, sessions.get(i).copied().unwrap_or(i as i64));
        last = if i + 1 == s.len() { snap } else { last };
    }
    let Some(snap) = last else {
        return Err(SignalCliError::TooFewRows {
            path: input.to_path_buf(),
            rows: s.len(),
            needed: options.config.risk.atr_period + 1,
        });
    };
    let date = table.dates.last().cloned().unwrap_or_default();
    Ok(if json { render_json(&date, &snap) } else { render_text(&date, &snap) })
}

#[derive(Serialize)]
struct JsonComposite {
    direction: &'static str,
    confidence: f64,
    score: f64,
    coverage: f64,
    horizon_bars: usize,
    stop: Option<f64>,
    target: Option<f64>,
    size: i64,
}

#[derive(Serialize)]
struct JsonComponent<'a> {
    source: &'static str,
    family: &'a str,
    available: bool,
    direction: &'static str,
    confidence: f64,
    score: f64,
    weight: f64,
    value: Option<f64>,
    horizon_bars: usize,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    date: &'a str,
    market: &'static str,
    close: f64,
    atr: f64,
    regime: &'static str,
    squeeze: bool,
    adx: Option<f64>,
    composite: JsonComposite,
    components: Vec<JsonComponent<'a>>,
}

fn render_json(date: &str, s: &SignalSnapshot) -> String {
    let c = &s.composite;
    let report = JsonReport {
        date,
        market: s.market.code(),
        close: s.close,
        atr: s.atr,
        regime: s.regime.regime.label(),
        squeeze: s.regime.squeeze,
        adx: s.regime.adx,
        composite: JsonComposite {
            direction: c.direction.label(),
            confidence: c.confidence,
            score: c.score,
            coverage: c.coverage,
            horizon_bars: c.horizon_bars,
            stop: c.stop,
            target: c.target,
            size: c.size,
        },
        components: s
            .components
            .iter()
            .map(|k| JsonComponent {
                source: k.source.name(),
                family: &k.family,
                available: k.available,
                direction: k.direction.label(),
                confidence: k.confidence,
                score: k.score,
                weight: k.weight,
                value: k.raw_value,
                horizon_bars: k.horizon_bars,
                reason: k.reason.as_deref(),
            })
            .collect(),
    };
    // Serialising plain structs of finite numbers and strings cannot fail.
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

fn render_text(date: &str, s: &SignalSnapshot) -> String {
    let c = &s.composite;
    let mut out = String::new();
    let opt = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
    // Writing into a String cannot fail.
    let _ = writeln!(
        out,
        "{} {date}  close {}  ATR {:.4}  regime {} (ADX {}, squeeze {})",
        s.market.code(),
        s.close,
        s.atr,
        s.regime.regime.label(),
        s.regime.adx.map_or_else(|| "n/a".to_string(), |a| format!("{a:.1}")),
        if s.regime.squeeze { "on" } else { "off" }
    );
    let _ = writeln!(
        out,
        "composite {}  confidence {:.1}  score {:.3}  coverage {:.2}  horizon {} bars  stop {}  target {}  size {}",
        c.direction,
        c.confidence,
        c.score,
        c.coverage,
        c.horizon_bars,
        opt(c.stop),
        opt(c.target),
        c.size
    );
    let _ = writeln!(
        out,
        "{:<22} {:<10} {:<8} {:>6} {:>7} {:>12}  note",
        "source", "family", "dir", "conf", "weight", "value"
    );
    for k in &s.components {
        let _ = writeln!(
            out,
            "{:<22} {:<10} {:<8} {:>6.1} {:>7.3} {:>12}  {}",
            k.source.name(),
            k.family,
            k.direction.label(),
            k.confidence,
            k.weight,
            opt(k.raw_value),
            k.reason.as_deref().map_or(String::new(), |r| format!("unavailable: {r}"))
        );
    }
    out
}
