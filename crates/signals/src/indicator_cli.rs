//! Library side of `crude indicators`: read a price CSV, compute indicators, write a CSV.
//!
//! # Input
//!
//! A UTF-8 CSV (an optional byte-order mark, CRLF or LF line ends, blanks around fields and
//! blank lines are all accepted; fields may be double-quoted) whose header is
//! `date,close` or `date,open,high,low,close[,volume]`. Column names are matched
//! case-insensitively and may come in any order; `date` and `close` are required, `high`
//! and `low` go together, `open` and `volume` are optional, and any other name is an error.
//!
//! * `date` is `YYYY-MM-DD` or a date-time `YYYY-MM-DDTHH:MM[:SS[.fff]]` (a space may
//!   replace the `T`; a trailing `Z` is allowed). Dates must be strictly increasing. The
//!   calendar date is the session of the session-anchored VWAP.
//! * Prices are finite decimal numbers and may be negative; volume is finite and >= 0.
//!
//! # Output
//!
//! A CSV with LF line ends: `date` (as written in the input) followed by one column per
//! indicator output. Without `--indicators` the columns are
//! `sma_20,ema_20,rsi_14,macd_12_26_9,macd_signal_12_26_9,macd_hist_12_26_9,`
//! `bb_upper_20_2,bb_middle_20_2,bb_lower_20_2`, then `atr_14,adx_14` when the input has
//! high and low. With `--indicators` the columns are those of the listed names, in list
//! order; see [`crate::indicators::IndicatorSpec`] for the grammar and the columns each
//! name expands to.
//!
//! Values use Rust's shortest round-trip formatting (`{}` for `f64`): reading a cell back
//! gives exactly the computed double. It never uses exponent notation (very small or very
//! large magnitudes are written out in full, e.g. `0.000000000123`), so every CSV reader
//! parses it; a zero is always written `0` (never `-0`); a bar without a value is an
//! empty cell.
//!
//! # Errors and exit codes
//!
//! Nothing is written unless the whole input is valid. [`IndicatorCliError::exit_code`] is
//! 2 for a bad input file or bad arguments (including an input file that cannot be read)
//! and 1 when the output cannot be written. Each message names the file, the line and the
//! column, and says what to fix. A file output is written to a temporary file beside it and
//! renamed into place, so a failed write never leaves a partial file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use thiserror::Error;

use crate::indicators::{IndicatorError, IndicatorSpec, OhlcvSeries, SpecError};

const HEADER_FORMS: &str = "`date,close` or `date,open,high,low,close[,volume]`";

/// An error of `crude indicators`. Use [`IndicatorCliError::exit_code`] for the process
/// exit status.
#[derive(Debug, Error)]
pub enum IndicatorCliError {
    /// The input file could not be read.
    #[error("cannot read input file {}: {source}", path.display())]
    ReadInput {
        /// The input path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input is not UTF-8 text.
    #[error("{}: line {line} is not UTF-8 text; save the file as UTF-8 CSV", path.display())]
    NotUtf8 {
        /// The input path.
        path: PathBuf,
        /// First line with invalid bytes.
        line: usize,
    },
    /// The input has no header line.
    #[error("{}: the file is empty; it needs a header line {HEADER_FORMS} and data rows", path.display())]
    EmptyFile {
        /// The input path.
        path: PathBuf,
    },
    /// The input has a header but no data rows.
    #[error("{}: line {line} is a header but no data rows follow it; add at least one row", path.display())]
    NoRows {
        /// The input path.
        path: PathBuf,
        /// The header's line number.
        line: usize,
    },
    /// A required column is absent from the header.
    #[error("{}: line {line}: missing column `{column}`{detail}; the header must be {HEADER_FORMS}", path.display())]
    MissingColumn {
        /// The input path.
        path: PathBuf,
        /// The header's line number.
        line: usize,
        /// The missing column.
        column: &'static str,
        /// Extra context (e.g. "`high` is present without it").
        detail: String,
    },
    /// A header name that is not a known column.
    #[error(
        "{}: line {line}, column {column}: unknown column `{name}`; accepted columns are date, open, high, low, close, volume",
        path.display()
    )]
    UnknownColumn {
        /// The input path.
        path: PathBuf,
        /// The header's line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The name found.
        name: String,
    },
    /// A header name given twice.
    #[error("{}: line {line}, column {column}: column `{name}` appears twice in the header; keep one", path.display())]
    DuplicateColumn {
        /// The input path.
        path: PathBuf,
        /// The header's line number.
        line: usize,
        /// 1-based column number of the second occurrence.
        column: usize,
        /// The column name.
        name: String,
    },
    /// A row with a different number of fields than the header.
    #[error(
        "{}: line {line}: {found} field(s) but the header has {expected}; every row needs one value per header column",
        path.display()
    )]
    RaggedRow {
        /// The input path.
        path: PathBuf,
        /// The row's line number.
        line: usize,
        /// Header field count.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A quoted field without its closing quote, or text after a closing quote.
    #[error("{}: line {line}, column {column}: malformed quoted field; close the quote before the next comma", path.display())]
    BadQuote {
        /// The input path.
        path: PathBuf,
        /// The line number.
        line: usize,
        /// 1-based column number.
        column: usize,
    },
    /// A cell that is empty or not an acceptable number.
    #[error("{}: line {line}, column {column} (`{name}`): {reason}", path.display())]
    BadValue {
        /// The input path.
        path: PathBuf,
        /// The line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The column name.
        name: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A date repeated.
    #[error(
        "{}: line {line}: date `{date}` repeats the date on line {first_line}; keep one row per date",
        path.display()
    )]
    DuplicateDate {
        /// The input path.
        path: PathBuf,
        /// The repeating line.
        line: usize,
        /// The date text.
        date: String,
        /// The line with the same date.
        first_line: usize,
    },
    /// A date earlier than the row above it.
    #[error(
        "{}: line {line}: date `{date}` is earlier than `{prev_date}` on line {prev_line}; sort the rows by date, oldest first",
        path.display()
    )]
    UnsortedDates {
        /// The input path.
        path: PathBuf,
        /// The out-of-order line.
        line: usize,
        /// Its date.
        date: String,
        /// The previous row's line.
        prev_line: usize,
        /// The previous row's date.
        prev_date: String,
    },
    /// A bad `--indicators` list.
    #[error("--indicators: {0}")]
    Indicators(#[from] SpecError),
    /// An indicator that needs columns the input lacks.
    #[error("--indicators: `{indicator}` needs the {missing} column(s), which {} does not have", path.display())]
    NeedsColumns {
        /// The indicator name.
        indicator: String,
        /// The missing columns, e.g. `high and low`.
        missing: &'static str,
        /// The input path.
        path: PathBuf,
    },
    /// An indicator could not be computed (should not happen after the checks above).
    #[error("computing indicators for {}: {source}", path.display())]
    Compute {
        /// The input path.
        path: PathBuf,
        /// The indicator error.
        source: IndicatorError,
    },
    /// The output could not be written.
    #[error("cannot write output to {target}: {source}")]
    WriteOutput {
        /// `stdout` or the output path.
        target: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl IndicatorCliError {
    /// The process exit code: 1 for a failure writing the output, 2 for everything else
    /// (bad input file, unreadable input, bad `--indicators`).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::WriteOutput { .. } => 1,
            _ => 2,
        }
    }
}

/// Compute indicators over a price CSV and write them as CSV (see the module docs for the
/// formats). `output` `None` writes to standard output; `indicators` `None` gives the
/// default columns.
///
/// # Errors
/// Every [`IndicatorCliError`] variant; nothing is written when the input or the
/// indicator list is bad.
pub fn run_indicators(input: &Path, output: Option<&Path>, indicators: Option<&str>) -> Result<(), IndicatorCliError> {
    let requested = indicators.map(IndicatorSpec::parse_list).transpose()?;
    let bytes =
        std::fs::read(input).map_err(|source| IndicatorCliError::ReadInput { path: input.to_path_buf(), source })?;
    let table = parse_table(input, &bytes)?;
    let specs = match requested {
        Some(specs) => {
            for spec in &specs {
                let needs = spec.needs();
                let missing = match (needs.high_low && !table.has_high_low, needs.volume && !table.has_volume) {
                    (true, true) => Some("high, low and volume"),
                    (true, false) => Some("high and low"),
                    (false, true) => Some("volume"),
                    (false, false) => None,
                };
                if let Some(missing) = missing {
                    return Err(IndicatorCliError::NeedsColumns {
                        indicator: spec.id(),
                        missing,
                        path: input.to_path_buf(),
                    });
                }
            }
            specs
        }
        None => default_specs(table.has_high_low),
    };
    let text =
        render(&table, &specs).map_err(|source| IndicatorCliError::Compute { path: input.to_path_buf(), source })?;
    write_output(output, text.as_bytes())
}

/// The default indicator list: SMA 20, EMA 20, RSI 14, MACD 12/26/9, Bollinger 20/2, and
/// ATR 14 and ADX 14 when high and low are present.
fn default_specs(has_high_low: bool) -> Vec<IndicatorSpec> {
    let mut specs = vec![
        IndicatorSpec::Sma { period: 20 },
        IndicatorSpec::Ema { period: 20 },
        IndicatorSpec::Rsi { period: 14 },
        IndicatorSpec::Macd { fast: 12, slow: 26, signal: 9 },
        IndicatorSpec::Bollinger { period: 20, k: 2.0 },
    ];
    if has_high_low {
        specs.push(IndicatorSpec::Atr { period: 14 });
        specs.push(IndicatorSpec::Adx { period: 14 });
    }
    specs
}

/// The parsed input (shared with `crude signals`).
pub(crate) struct Table {
    /// Dates as written in the file.
    pub(crate) dates: Vec<String>,
    /// The parsed dates (midnight for a date without a time).
    pub(crate) times: Vec<NaiveDateTime>,
    /// The prices.
    pub(crate) series: OhlcvSeries,
    /// Whether the file has high and low columns.
    pub(crate) has_high_low: bool,
    /// Whether the file has a volume column.
    pub(crate) has_volume: bool,
    /// The line number of each row.
    pub(crate) lines: Vec<usize>,
    /// 1-based columns of high and low, when present.
    pub(crate) high_low_columns: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Date,
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Date => "date",
            Col::Open => "open",
            Col::High => "high",
            Col::Low => "low",
            Col::Close => "close",
            Col::Volume => "volume",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "date" => Col::Date,
            "open" => Col::Open,
            "high" => Col::High,
            "low" => Col::Low,
            "close" => Col::Close,
            "volume" => Col::Volume,
            _ => return None,
        })
    }
}

/// Split one CSV line into trimmed fields; `Err(column)` for a malformed quoted field.
pub(crate) fn split_fields(line: &str) -> Result<Vec<String>, usize> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let column = fields.len() + 1;
        while matches!(chars.peek(), Some(c) if *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(column),
                }
            }
            while matches!(chars.peek(), Some(c) if *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field.trim().to_string());
                    return Ok(fields);
                }
                Some(',') => fields.push(field.trim().to_string()),
                Some(_) => return Err(column),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_string());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_string());
        }
    }
}

/// Parse a date or date-time; the calendar date gives the session.
fn parse_date(text: &str) -> Option<NaiveDateTime> {
    let t = text.strip_suffix('Z').unwrap_or(text);
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
}

pub(crate) fn parse_table(path: &Path, bytes: &[u8]) -> Result<Table, IndicatorCliError> {
    let p = || path.to_path_buf();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(IndicatorCliError::NotUtf8 { path: p(), line });
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty());

    let Some((header_line, header)) = lines.next() else {
        return Err(IndicatorCliError::EmptyFile { path: p() });
    };
    let names =
        split_fields(header).map_err(|column| IndicatorCliError::BadQuote { path: p(), line: header_line, column })?;
    let mut cols: Vec<Col> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let Some(col) = Col::from_name(name) else {
            return Err(IndicatorCliError::UnknownColumn {
                path: p(),
                line: header_line,
                column: i + 1,
                name: name.clone(),
            });
        };
        if cols.contains(&col) {
            return Err(IndicatorCliError::DuplicateColumn {
                path: p(),
                line: header_line,
                column: i + 1,
                name: col.name().to_string(),
            });
        }
        cols.push(col);
    }
    let has = |c: Col| cols.contains(&c);
    let missing = |column: &'static str, detail: &str| IndicatorCliError::MissingColumn {
        path: p(),
        line: header_line,
        column,
        detail: detail.to_string(),
    };
    if !has(Col::Date) {
        return Err(missing("date", ""));
    }
    if !has(Col::Close) {
        return Err(missing("close", ""));
    }
    if has(Col::High) && !has(Col::Low) {
        return Err(missing("low", " (`high` is present without it)"));
    }
    if has(Col::Low) && !has(Col::High) {
        return Err(missing("high", " (`low` is present without it)"));
    }
    let has_high_low = has(Col::High);
    let has_volume = has(Col::Volume);

    let mut dates: Vec<String> = Vec::new();
    let mut times: Vec<NaiveDateTime> = Vec::new();
    let mut row_lines: Vec<usize> = Vec::new();
    let mut sessions: Vec<i64> = Vec::new();
    let (mut open, mut high, mut low, mut close, mut volume) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut prev: Option<(NaiveDateTime, usize)> = None;
    for (line, row) in lines {
        let fields = split_fields(row).map_err(|column| IndicatorCliError::BadQuote { path: p(), line, column })?;
        if fields.len() != cols.len() {
            return Err(IndicatorCliError::RaggedRow { path: p(), line, expected: cols.len(), found: fields.len() });
        }
        row_lines.push(line);
        for (i, (field, &col)) in fields.iter().zip(&cols).enumerate() {
            let bad = |reason: String| IndicatorCliError::BadValue {
                path: p(),
                line,
                column: i + 1,
                name: col.name(),
                reason,
            };
            if field.is_empty() {
                let what = if col == Col::Date { "a date" } else { "a number" };
                return Err(bad(format!("empty value; fill in {what}")));
            }
            if col == Col::Date {
                let Some(when) = parse_date(field) else {
                    return Err(bad(format!("`{field}` is not a date; write YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]")));
                };
                if let Some((prev_when, prev_line)) = prev {
                    let prev_date = dates.last().cloned().unwrap_or_default();
                    if when == prev_when {
                        return Err(IndicatorCliError::DuplicateDate {
                            path: p(),
                            line,
                            date: field.clone(),
                            first_line: prev_line,
                        });
                    }
                    if when < prev_when {
                        return Err(IndicatorCliError::UnsortedDates {
                            path: p(),
                            line,
                            date: field.clone(),
                            prev_line,
                            prev_date,
                        });
                    }
                }
                prev = Some((when, line));
                dates.push(field.clone());
                times.push(when);
                sessions.push(i64::from(when.date().num_days_from_ce()));
                continue;
            }
            let value: f64 = match field.parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                Ok(_) => return Err(bad(format!("`{field}` is not a finite number; write a decimal number"))),
                Err(_) => return Err(bad(format!("`{field}` is not a number; write a decimal number such as 71.25"))),
            };
            match col {
                Col::Open => open.push(value),
                Col::High => high.push(value),
                Col::Low => low.push(value),
                Col::Close => close.push(value),
                Col::Volume => {
                    if value < 0.0 {
                        return Err(bad(format!("volume `{field}` is negative; volume must be 0 or more")));
                    }
                    volume.push(value);
                }
                Col::Date => {}
            }
        }
    }
    if dates.is_empty() {
        return Err(IndicatorCliError::NoRows { path: p(), line: header_line });
    }
    let build = || -> Result<OhlcvSeries, IndicatorError> {
        let mut s = OhlcvSeries::from_close(close).with_sessions(sessions)?;
        if has(Col::Open) {
            s = s.with_open(open)?;
        }
        if has_high_low {
            s = s.with_high_low(high, low)?;
        }
        if has_volume {
            s = s.with_volume(volume)?;
        }
        Ok(s)
    };
    let series = build().map_err(|source| IndicatorCliError::Compute { path: p(), source })?;
    let column = |c: Col| cols.iter().position(|x| *x == c).map(|i| i + 1);
    let high_low_columns = column(Col::High).zip(column(Col::Low));
    Ok(Table { dates, times, series, has_high_low, has_volume, lines: row_lines, high_low_columns })
}

/// Shortest round-trip text of a value: empty for NaN, `0` for either zero.
fn format_value(out: &mut String, x: f64) {
    if x.is_nan() {
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    // Writing into a String cannot fail.
    let _ = write!(out, "{x}");
}

fn render(table: &Table, specs: &[IndicatorSpec]) -> Result<String, IndicatorError> {
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for spec in specs {
        names.extend(spec.columns());
        columns.extend(spec.compute(&table.series)?);
    }
    let mut out = String::with_capacity(table.dates.len() * (12 + 20 * columns.len()) + 64);
    out.push_str("date");
    for name in &names {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for (i, date) in table.dates.iter().enumerate() {
        out.push_str(date);
        for col in &columns {
            out.push(',');
            format_value(&mut out, col.get(i).copied().unwrap_or(f64::NAN));
        }
        out.push('\n');
    }
    Ok(out)
}

fn write_output(output: Option<&Path>, bytes: &[u8]) -> Result<(), IndicatorCliError> {
    match output {
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            lock.write_all(bytes)
                .and_then(|()| lock.flush())
                .map_err(|source| IndicatorCliError::WriteOutput { target: "stdout".to_string(), source })
        }
        Some(path) => {
            let err = |source| IndicatorCliError::WriteOutput { target: path.display().to_string(), source };
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
            tmp.write_all(bytes).and_then(|()| tmp.flush()).map_err(err)?;
            tmp.persist(path).map_err(|e| err(e.error))?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_formatting_is_shortest_round_trip_without_exponent() {
        let f = |x: f64| {
            let mut s = String::new();
            format_value(&mut s, x);
            s
        };
        assert_eq!(f(f64::NAN), "");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(2.0), "2");
        assert_eq!(f(-37.63), "-37.63");
        assert_eq!(f(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(f(1.5e-10), "0.00000000015");
        assert_eq!(f(1e21), "1000000000000000000000");
        for x in [1.0 / 3.0, -2.5e-300, 123456.789e10, f64::MIN_POSITIVE] {
            let s = f(x);
            assert!(!s.contains('e') && !s.contains('E'), "{s}");
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
    }

    #[test]
    fn field_splitting() {
        assert_eq!(split_fields(" a , b,c ").unwrap(), ["a", "b", "c"]);
        assert_eq!(split_fields("\"x,y\", \"q\"\"z\" ,").unwrap(), ["x,y", "q\"z", ""]);
        assert_eq!(split_fields("\"open").unwrap_err(), 1);
        assert_eq!(split_fields("a,\"b\"c").unwrap_err(), 2);
        assert_eq!(split_fields("").unwrap(), [""]);
    }

    #[test]
    fn dates() {
        assert!(parse_date("2020-04-20").is_some());
        assert!(parse_date("2020-04-20T13:30").is_some());
        assert!(parse_date("2020-04-20 13:30:05.25").is_some());
        assert!(parse_date("2020-04-20T13:30:05Z").is_some());
        assert!(parse_date("2020-02-30").is_none());
        assert!(parse_date("20/04/2020").is_none());
    }

    #[test]
    fn exit_codes() {
        let w = IndicatorCliError::WriteOutput { target: "stdout".into(), source: std::io::Error::other("x") };
        assert_eq!(w.exit_code(), 1);
        assert_eq!(IndicatorCliError::EmptyFile { path: PathBuf::from("a.csv") }.exit_code(), 2);
    }
}
