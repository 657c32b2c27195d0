//! Reading a dated price series from CSV for the single-series risk report.
//!
//! Format: a header row, then one row per date, oldest first. The header must contain a
//! `date` column and a price column. Price columns accepted, case-insensitively (spaces
//! read as underscores, so `Adj Close` is `adj_close`), in order of preference when several
//! are present: `close`, `price`, `settle`, `adj_close`. Dates are ISO 8601: `2024-03-15`,
//! `2024-03-15T16:30:00`, `2024-03-15 16:30:00`, or RFC 3339 with an offset (compared in
//! UTC). Dates must be strictly increasing. Other columns are ignored. Prices may be zero
//! or negative here; whoever needs positive prices checks the rows it uses.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::RiskError;

/// Price columns accepted, most preferred first.
pub const PRICE_COLUMNS: [&str; 4] = ["close", "price", "settle", "adj_close"];

/// A dated price series read from a file, with the line of each row for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSeries {
    /// The file read.
    pub path: PathBuf,
    /// The price column used (as written in the header).
    pub column: String,
    /// Row dates (date-only rows at midnight).
    pub dates: Vec<NaiveDateTime>,
    /// Prices, in file order (oldest first).
    pub prices: Vec<f64>,
    /// 1-based file line of each row.
    pub lines: Vec<u64>,
}

impl PriceSeries {
    /// The date of row `i` as text: `YYYY-MM-DD`, with the time when it is not midnight.
    pub fn date_label(&self, i: usize) -> String {
        date_label(&self.dates[i])
    }
}

fn date_label(d: &NaiveDateTime) -> String {
    if d.time() == chrono::NaiveTime::MIN { d.date().to_string() } else { d.to_string() }
}

fn normalise(name: &str) -> String {
    name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase().replace([' ', '-'], "_")
}

fn parse_date(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_time(chrono::NaiveTime::MIN));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.naive_utc())
}

fn parse_price(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// Read a dated price series (see the module documentation for the format).
///
/// # Errors
/// [`RiskError::Io`] if the file cannot be read; [`RiskError::Csv`] for broken CSV;
/// [`RiskError::MissingColumn`] without a `date` or price column;
/// [`RiskError::BadDate`] / [`RiskError::BadNumber`] naming line and column;
/// [`RiskError::UnsortedDates`] for a duplicate or out-of-order date;
/// [`RiskError::TooFewPrices`] with fewer than 2 rows.
pub fn read_price_series(path: &Path) -> Result<PriceSeries, RiskError> {
    let io_err = |e: &dyn std::fmt::Display| RiskError::Io { path: path.to_path_buf(), message: e.to_string() };
    let bytes = std::fs::read(path).map_err(|e| io_err(&e))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(bytes.as_slice());
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
                "the row has {len} field(s) but the header has {expected_len}; every row needs one value per column"
            ),
            csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text; save the file as UTF-8".to_string(),
            _ => e.to_string(),
        };
        RiskError::Csv { path: path.to_path_buf(), line, message }
    };
    let headers = reader.headers().map_err(csv_err)?.clone();
    let names: Vec<String> = headers.iter().map(normalise).collect();
    let found = headers.iter().collect::<Vec<_>>().join(",");
    let Some(date_col) = names.iter().position(|n| n == "date") else {
        return Err(RiskError::MissingColumn {
            path: path.to_path_buf(),
            wanted: "'date'",
            found,
            fix: "add a header row naming the date column 'date'",
        });
    };
    let Some(price_col) = PRICE_COLUMNS.iter().find_map(|want| names.iter().position(|n| n == want)) else {
        return Err(RiskError::MissingColumn {
            path: path.to_path_buf(),
            wanted: "price ('close', 'price', 'settle' or 'adj_close')",
            found,
            fix: "name the price column 'close'",
        });
    };
    let column = headers.get(price_col).unwrap_or("close").to_string();
    let date_name = headers.get(date_col).unwrap_or("date").to_string();
    let mut series =
        PriceSeries { path: path.to_path_buf(), column, dates: Vec::new(), prices: Vec::new(), lines: Vec::new() };
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map_or(0, |p| p.line());
        let date_text = record.get(date_col).unwrap_or("");
        let Some(date) = parse_date(date_text) else {
            return Err(RiskError::BadDate {
                path: path.to_path_buf(),
                line,
                column: date_name,
                value: date_text.to_string(),
            });
        };
        let price_text = record.get(price_col).unwrap_or("");
        let Some(price) = parse_price(price_text) else {
            return Err(RiskError::BadNumber {
                path: path.to_path_buf(),
                line,
                column: series.column,
                value: price_text.to_string(),
            });
        };
        if let (Some(prev), Some(&prev_line)) = (series.dates.last(), series.lines.last())
            && date <= *prev
        {
            {
                return Err(RiskError::UnsortedDates {
                    path: path.to_path_buf(),
                    line,
                    date: date_label(&date),
                    relation: if date == *prev { "the same as" } else { "earlier than" },
                    previous: date_label(prev),
                    previous_line: prev_line,
                });
            }
        }
        series.dates.push(date);
        series.prices.push(price);
        series.lines.push(line);
    }
    if series.prices.len() < 2 {
        return Err(RiskError::TooFewPrices { path: path.to_path_buf(), got: series.prices.len() });
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_close_and_prefers_it() {
        let f = file("Date,Settle,Close,volume\n2024-01-02,70.1,70.0,5\n2024-01-03,71.1,71.0,6\n");
        let s = read_price_series(f.path()).unwrap();
        assert_eq!(s.column, "Close");
        assert_eq!(s.prices, vec![70.0, 71.0]);
        assert_eq!(s.lines, vec![2, 3]);
        assert_eq!(s.date_label(1), "2024-01-03");
    }

    #[test]
    fn accepts_other_price_columns_and_datetimes() {
        let f = file("date,Adj Close\n2024-01-02T16:30:00,1.5\n2024-01-02 17:00:00,1.6\n2024-01-03,1.7\n");
        let s = read_price_series(f.path()).unwrap();
        assert_eq!(s.column, "Adj Close");
        assert_eq!(s.date_label(0), "2024-01-02 16:30:00");
        let f = file("date,settle,price\n2024-01-02,1,2\n2024-01-03,3,4\n");
        assert_eq!(read_price_series(f.path()).unwrap().column, "price");
    }

    #[test]
    fn negative_prices_are_read() {
        let f = file("date,close\n2020-04-17,18.27\n2020-04-20,-37.63\n");
        assert_eq!(read_price_series(f.path()).unwrap().prices[1], -37.63);
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = read_price_series(&PathBuf::from("/nonexistent/prices.csv")).unwrap_err();
        assert!(matches!(err, RiskError::Io { .. }), "{err}");

        let err = read_price_series(file("day,close\n2024-01-02,1\n").path()).unwrap_err();
        assert!(err.to_string().contains("no 'date' column"), "{err}");
        let err = read_price_series(file("date,open\n2024-01-02,1\n").path()).unwrap_err();
        assert!(err.to_string().contains("no price ('close'"), "{err}");

        let err = read_price_series(file("date,close\n2024-01-02,1\n2024-01-03,abc\n").path()).unwrap_err();
        assert!(
            matches!(&err, RiskError::BadNumber { line: 3, column, value, .. } if column == "close" && value == "abc"),
            "{err}"
        );
        assert!(err.to_string().contains("line 3, column 'close'"), "{err}");
        let err = read_price_series(file("date,close\n2024-01-02,1\n2024-01-03,NaN\n").path()).unwrap_err();
        assert!(matches!(err, RiskError::BadNumber { line: 3, .. }), "{err}");
        let err = read_price_series(file("date,close\n2024-01-02,1\n2024-01-03,\n").path()).unwrap_err();
        assert!(matches!(err, RiskError::BadNumber { line: 3, .. }), "{err}");

        let err = read_price_series(file("date,close\n01/02/2024,1\n").path()).unwrap_err();
        assert!(matches!(err, RiskError::BadDate { line: 2, .. }), "{err}");

        let err = read_price_series(file("date,close\n2024-01-03,1\n2024-01-02,2\n").path()).unwrap_err();
        assert!(err.to_string().contains("line 3: date 2024-01-02 is earlier than"), "{err}");
        let err = read_price_series(file("date,close\n2024-01-03,1\n2024-01-03,2\n").path()).unwrap_err();
        assert!(err.to_string().contains("the same as"), "{err}");

        let err = read_price_series(file("date,close\n2024-01-03,1\n2024-01-04,2,3\n").path()).unwrap_err();
        assert!(matches!(err, RiskError::Csv { line: 3, .. }), "{err}");

        let err = read_price_series(file("date,close\n2024-01-03,1\n").path()).unwrap_err();
        assert!(matches!(err, RiskError::TooFewPrices { got: 1, .. }), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
}
