//! [`RiskError`], the error type of the risk engine, its library functions and its
//! command-line entry points alike.
//!
//! Every message names the file, line, column, field or argument at fault and says how to
//! fix it. [`RiskError::exit_code`] maps errors to process exit codes: 2 for bad input
//! (files, numbers, arguments), 1 for a computation that failed on valid input.

use std::path::PathBuf;

use crude_analytics::AnalyticsError;

/// Errors from the risk engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// The input file cannot be read.
    #[error("{path}: cannot read the file: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// The CSV structure is broken (for example a row with the wrong number of fields).
    #[error("{path}: line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A required column is absent from the header.
    #[error("{path}: the header has no {wanted} column (found: {found}); {fix}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was looked for.
        wanted: &'static str,
        /// The header as found.
        found: String,
        /// How to fix the file.
        fix: &'static str,
    },
    /// A cell is not a valid number.
    #[error(
        "{path}: line {line}, column '{column}': cannot parse '{value}' as a number; write a plain decimal number such as 71.35 (no thousands separators, no missing-value markers: drop the row instead)"
    )]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// The cell text.
        value: String,
    },
    /// A cell is not a valid date.
    #[error(
        "{path}: line {line}, column '{column}': cannot parse '{value}' as a date; use ISO 8601 (2024-03-15 or 2024-03-15T16:30:00)"
    )]
    BadDate {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// The cell text.
        value: String,
    },
    /// Dates are not strictly increasing.
    #[error(
        "{path}: line {line}: date {date} is {relation} the previous row's date {previous} (line {previous_line}); sort the file by date, oldest first, with one row per date"
    )]
    UnsortedDates {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the offending row.
        line: u64,
        /// Its date.
        date: String,
        /// "the same as" or "earlier than".
        relation: &'static str,
        /// The previous row's date.
        previous: String,
        /// The previous row's line.
        previous_line: u64,
    },
    /// Too few prices for returns.
    #[error("{path}: {got} price row(s); at least 2 are needed for one return")]
    TooFewPrices {
        /// The file.
        path: PathBuf,
        /// Rows found.
        got: usize,
    },
    /// A non-positive price inside the window where log returns need positive prices.
    #[error(
        "{path}: line {line} ({date}): the series has a non-positive price {price} in column '{column}', so log returns are undefined there (they need strictly positive prices; futures can settle below zero, as WTI did on 2020-04-20); choose a --window that ends before it or starts after it, or use a series of positive prices"
    )]
    NonPositivePrice {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The row's date.
        date: String,
        /// Column name.
        column: String,
        /// The price.
        price: f64,
    },
    /// The window asks for more returns than the file has.
    #[error(
        "--window {window} needs {needed} prices but the file has {prices} ({available} returns); use --window {available} or --window all"
    )]
    WindowTooLarge {
        /// Requested returns.
        window: usize,
        /// Prices needed (window + 1).
        needed: usize,
        /// Prices in the file.
        prices: usize,
        /// Returns available.
        available: usize,
    },
    /// A bad command-line argument or parameter value.
    #[error("{argument} '{value}': {reason}")]
    BadArgument {
        /// The argument or field name (for example `--confidence`).
        argument: &'static str,
        /// The value given.
        value: String,
        /// What would be accepted.
        reason: String,
    },
    /// Black-76 needs a strictly positive forward and strike.
    #[error(
        "{argument} = {value}: Black-76 needs a strictly positive forward and strike (it takes ln(F/K)); for zero or negative prices, as WTI had in April 2020, use the Bachelier (normal) model"
    )]
    NonPositiveForOptionModel {
        /// `--forward` or `--strike`.
        argument: &'static str,
        /// The value given.
        value: f64,
    },
    /// No volatility reproduces the option price.
    #[error("--price {price}: {reason}")]
    NoImpliedVol {
        /// The price given.
        price: f64,
        /// Why, with the no-arbitrage bounds.
        reason: String,
    },
    /// An analytics computation rejected the data.
    #[error(transparent)]
    Analytics(#[from] AnalyticsError),
    /// A computation failed on valid input.
    #[error("{what}: {reason}")]
    Computation {
        /// The computation.
        what: &'static str,
        /// What went wrong.
        reason: String,
    },
}

impl RiskError {
    /// The process exit code for this error: 2 for bad input (files, numbers, arguments),
    /// 1 when a computation failed on valid input (an optimiser that did not converge).
    pub fn exit_code(&self) -> i32 {
        match self {
            RiskError::Computation { .. } => 1,
            RiskError::Analytics(AnalyticsError::NoConvergence { .. }) => 1,
            _ => 2,
        }
    }
}
