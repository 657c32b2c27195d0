//! Reader of weekly inventory figures in Crude's EIA weekly CSV layout, so real Weekly
//! Petroleum Status Report figures can be loaded next to (or instead of) simulated ones.
//!
//! # Layout
//!
//! UTF-8 text (a byte-order mark and CRLF line ends are accepted); blank lines and lines
//! whose first non-blank character is `#` are ignored, so a file can carry its own notes.
//! The first other line is the header. Column names are matched case-insensitively and
//! may come in any order; only `week_ending` is required, every other column is optional
//! and any cell except the date may be empty (figure not available):
//!
//! | column | unit | meaning |
//! | --- | --- | --- |
//! | `week_ending` | `YYYY-MM-DD` | last day of the report week (a Friday for EIA data); strictly increasing |
//! | `crude_stocks_kbbl` | thousand barrels | commercial crude stocks (excluding the SPR), >= 0 |
//! | `crude_change_kbbl` | thousand barrels | change on the week (derived from consecutive stocks when empty) |
//! | `crude_consensus_kbbl` | thousand barrels | analysts' consensus for the change (not an EIA figure: from a survey) |
//! | `crude_production_kbpd` | thousand b/d | domestic field production, >= 0 |
//! | `crude_imports_kbpd` | thousand b/d | imports, >= 0 |
//! | `crude_exports_kbpd` | thousand b/d | exports, >= 0 |
//! | `gasoline_…` | as crude | total motor gasoline; `production` = refinery and blender net production |
//! | `distillate_…` | as crude | distillate fuel oil; `production` = refinery and blender net production |
//!
//! The columns are [`EIA_WEEKLY_COLUMNS`], in the order `data/eia_weekly_template.csv`
//! lists them. A cell is a plain decimal number (`431100`, `-5500.5`); thousands
//! separators are not accepted. What the analytics do with the figures is described in
//! [`crate::InventoryTracker`].
//!
//! # Errors
//!
//! Every error names the file and the line, and the column (1-based, with its name) where
//! there is one, and says what to fix: unknown or repeated column, missing `week_ending`,
//! a row with the wrong number of fields, an unparsable, non-finite or negative number, a
//! bad date, dates out of order.

use std::path::Path;

use chrono::NaiveDate;

use crate::inventory::{InventoryWeek, PRODUCT_FIELDS, Product};

/// Every column of the layout, in template order.
pub const EIA_WEEKLY_COLUMNS: [&str; 19] = [
    "week_ending",
    "crude_stocks_kbbl",
    "crude_change_kbbl",
    "crude_consensus_kbbl",
    "crude_production_kbpd",
    "crude_imports_kbpd",
    "crude_exports_kbpd",
    "gasoline_stocks_kbbl",
    "gasoline_change_kbbl",
    "gasoline_consensus_kbbl",
    "gasoline_production_kbpd",
    "gasoline_imports_kbpd",
    "gasoline_exports_kbpd",
    "distillate_stocks_kbbl",
    "distillate_change_kbbl",
    "distillate_consensus_kbbl",
    "distillate_production_kbpd",
    "distillate_imports_kbpd",
    "distillate_exports_kbpd",
];

/// An error reading an EIA weekly CSV. `file` is the path as given (or the label passed to
/// [`parse_eia_weekly_csv`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryCsvError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not UTF-8.
    #[error("{file}: line {line} is not UTF-8 text; save the file as UTF-8 CSV")]
    NotUtf8 {
        /// The file.
        file: String,
        /// First line with invalid bytes.
        line: usize,
    },
    /// No header line.
    #[error("{file}: no header line; the first non-comment line must name the columns, starting with week_ending")]
    NoHeader {
        /// The file.
        file: String,
    },
    /// A header name outside the layout.
    #[error(
        "{file}: line {line}, column {column}: unknown column `{name}`; use week_ending and <crude|gasoline|distillate>_<stocks_kbbl|change_kbbl|consensus_kbbl|production_kbpd|imports_kbpd|exports_kbpd>"
    )]
    UnknownColumn {
        /// The file.
        file: String,
        /// Header line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The name found.
        name: String,
    },
    /// A header name given twice.
    #[error("{file}: line {line}, column {column}: column `{name}` appears twice; keep one")]
    DuplicateColumn {
        /// The file.
        file: String,
        /// Header line.
        line: usize,
        /// 1-based column of the repeat.
        column: usize,
        /// The name.
        name: String,
    },
    /// No `week_ending` column.
    #[error("{file}: line {line}: missing column `week_ending`; add it to the header")]
    MissingDate {
        /// The file.
        file: String,
        /// Header line.
        line: usize,
    },
    /// A row whose field count differs from the header's.
    #[error(
        "{file}: line {line}: {found} field(s) but the header has {expected}; give every column a value or an empty cell"
    )]
    RaggedRow {
        /// The file.
        file: String,
        /// The row's line.
        line: usize,
        /// Header field count.
        expected: usize,
        /// This row's field count.
        found: usize,
    },
    /// A quoted field that is not closed, or text after a closing quote.
    #[error("{file}: line {line}, column {column}: malformed quoted field; close the quote before the next comma")]
    BadQuote {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A cell that cannot be used.
    #[error("{file}: line {line}, column {column} (`{name}`): {reason}")]
    BadValue {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Column name.
        name: &'static str,
        /// What is wrong and the fix.
        reason: String,
    },
    /// A week that does not come after the previous row's.
    #[error(
        "{file}: line {line}: week_ending {date} is not after {prev_date} on line {prev_line}; sort rows by week, oldest first, one row per week"
    )]
    UnsortedDates {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// Its date.
        date: NaiveDate,
        /// The previous row's line.
        prev_line: usize,
        /// The previous row's date.
        prev_date: NaiveDate,
    },
}

/// Read an EIA weekly CSV file (see the module docs for the layout). A header-only file
/// gives an empty list.
///
/// # Errors
/// Every [`InventoryCsvError`] variant.
pub fn read_eia_weekly_csv(path: &Path) -> Result<Vec<InventoryWeek>, InventoryCsvError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| InventoryCsvError::Io { file: file.clone(), source })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| InventoryCsvError::NotUtf8 {
        file: file.clone(),
        line: bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1,
    })?;
    parse_eia_weekly_csv(text, &file)
}

/// Column kinds: the date or one product field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Date,
    Field(Product, usize),
}

fn column_of(name: &str) -> Option<(Col, &'static str)> {
    let lower = name.to_ascii_lowercase();
    let idx = EIA_WEEKLY_COLUMNS.iter().position(|c| *c == lower)?;
    let canonical = EIA_WEEKLY_COLUMNS[idx];
    if idx == 0 {
        return Some((Col::Date, canonical));
    }
    let product = Product::ALL[(idx - 1) / PRODUCT_FIELDS.len()];
    Some((Col::Field(product, (idx - 1) % PRODUCT_FIELDS.len()), canonical))
}

/// Parse CSV text in the EIA weekly layout; `file` labels error messages.
///
/// # Errors
/// Every [`InventoryCsvError`] variant except `Io` and `NotUtf8`.
pub fn parse_eia_weekly_csv(text: &str, file: &str) -> Result<Vec<InventoryWeek>, InventoryCsvError> {
    let f = || file.to_string();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines =
        text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l))).filter(|(_, l)| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#')
        });
    let Some((header_line, header)) = lines.next() else {
        return Err(InventoryCsvError::NoHeader { file: f() });
    };
    let names = split_csv_line(header).map_err(|column| InventoryCsvError::BadQuote {
        file: f(),
        line: header_line,
        column,
    })?;
    let mut cols: Vec<(Col, &'static str)> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let Some(col) = column_of(name) else {
            return Err(InventoryCsvError::UnknownColumn {
                file: f(),
                line: header_line,
                column: i + 1,
                name: name.clone(),
            });
        };
        if cols.iter().any(|c| c.0 == col.0) {
            return Err(InventoryCsvError::DuplicateColumn {
                file: f(),
                line: header_line,
                column: i + 1,
                name: col.1.to_string(),
            });
        }
        cols.push(col);
    }
    if !cols.iter().any(|c| c.0 == Col::Date) {
        return Err(InventoryCsvError::MissingDate { file: f(), line: header_line });
    }

    let mut weeks: Vec<InventoryWeek> = Vec::new();
    let mut prev: Option<(NaiveDate, usize)> = None;
    for (line, row) in lines {
        let fields = split_csv_line(row).map_err(|column| InventoryCsvError::BadQuote { file: f(), line, column })?;
        if fields.len() != cols.len() {
            return Err(InventoryCsvError::RaggedRow { file: f(), line, expected: cols.len(), found: fields.len() });
        }
        let mut week = InventoryWeek::new(NaiveDate::MIN);
        let mut date = None;
        for (i, (cell, &(col, name))) in fields.iter().zip(&cols).enumerate() {
            let bad = |reason: String| InventoryCsvError::BadValue { file: f(), line, column: i + 1, name, reason };
            match col {
                Col::Date => {
                    if cell.is_empty() {
                        return Err(bad("empty date; write the week-ending date as YYYY-MM-DD".into()));
                    }
                    let d = NaiveDate::parse_from_str(cell, "%Y-%m-%d")
                        .map_err(|_| bad(format!("`{cell}` is not a date; write YYYY-MM-DD, e.g. 2024-01-05")))?;
                    date = Some(d);
                }
                Col::Field(product, k) => {
                    if cell.is_empty() {
                        continue;
                    }
                    let v: f64 = cell.parse().map_err(|_| {
                        bad(format!("`{cell}` is not a number; write a plain decimal number without thousands separators, e.g. 431100"))
                    })?;
                    if !v.is_finite() {
                        return Err(bad(format!("`{cell}` is not a finite number; write a decimal number")));
                    }
                    // Stocks and flows are levels; changes and consensus may be negative.
                    if v < 0.0 && !matches!(k, 1 | 2) {
                        return Err(bad(format!("{v} is negative; stocks and flows are 0 or more")));
                    }
                    if let Some(slot) = week.product_mut(product).field_mut(k) {
                        *slot = Some(v);
                    }
                }
            }
        }
        let Some(date) = date else {
            // Unreachable: the header has a date column and the row has every column.
            return Err(InventoryCsvError::MissingDate { file: f(), line: header_line });
        };
        if let Some((prev_date, prev_line)) = prev
            && date <= prev_date
        {
            return Err(InventoryCsvError::UnsortedDates { file: f(), line, date, prev_line, prev_date });
        }
        prev = Some((date, line));
        week.week_ending = date;
        weeks.push(week);
    }
    Ok(weeks)
}

/// Split one CSV line into trimmed fields, honouring double quotes; `Err(column)` (1-based)
/// for a malformed quoted field.
fn split_csv_line(line: &str) -> Result<Vec<String>, usize> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let column = fields.len() + 1;
        while matches!(chars.peek(), Some(' ' | '\t')) {
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
            while matches!(chars.peek(), Some(' ' | '\t')) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{InventoryConfig, inventory_analytics};

    const TEMPLATE: &str = include_str!("../../../data/eia_weekly_template.csv");

    #[test]
    fn the_shipped_template_is_the_layout() {
        let weeks = parse_eia_weekly_csv(TEMPLATE, "eia_weekly_template.csv").unwrap();
        assert!(weeks.is_empty());
        let header = TEMPLATE.lines().find(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()).unwrap();
        assert_eq!(header, EIA_WEEKLY_COLUMNS.join(","));
    }

    /// A generated file: 8 weeks of crude and gasoline with some empty cells.
    fn generated() -> String {
        let mut s = String::from("# generated test data, not EIA figures\n");
        s.push_str("Week_Ending,crude_stocks_kbbl,crude_consensus_kbbl,gasoline_change_kbbl,gasoline_consensus_kbbl,crude_production_kbpd,crude_imports_kbpd,crude_exports_kbpd\r\n");
        let mut date = NaiveDate::from_ymd_opt(2024, 1, 5).unwrap();
        for i in 0..8 {
            let stocks = 430_000 + i * 1_000 - (i % 3) * 2_500;
            let cons = if i == 3 { String::new() } else { format!("{}", 500 - i * 100) };
            s.push_str(&format!("{date},{stocks},{cons},{},-1500,13300,6400,4100\r\n", 1_000 * (i as i64 - 4)));
            date = date + chrono::Days::new(7);
        }
        s.push('\n');
        s
    }

    #[test]
    fn reads_generated_weeks_and_feeds_the_analytics() {
        let weeks = parse_eia_weekly_csv(&generated(), "gen.csv").unwrap();
        assert_eq!(weeks.len(), 8);
        assert_eq!(weeks[0].crude.stocks_kbbl, Some(430_000.0));
        assert_eq!(weeks[0].crude.change_kbbl, None, "no change column: derived by the analytics");
        assert_eq!(weeks[3].crude.consensus_kbbl, None, "empty cell");
        assert_eq!(weeks[1].gasoline.change_kbbl, Some(-3_000.0));
        assert_eq!(weeks[2].distillate, Default::default());
        let snaps = inventory_analytics(&weeks, &InventoryConfig::default()).unwrap();
        // Week 2: stocks 431,000 - 2,500 = 428,500 after 430,000: change -1,500; consensus 400.
        assert_eq!(snaps[1].crude.change_kbbl, Some(-1_500.0));
        assert_eq!(snaps[1].crude.surprise_kbbl, Some(-1_900.0));
        assert_eq!(snaps[3].crude.surprise_kbbl, None);
        assert!(
            (snaps[1].crude.implied_demand_kbpd.unwrap() - (13_300.0 + 6_400.0 - 4_100.0 + 1_500.0 / 7.0)).abs() < 1e-9
        );
    }

    fn err(text: &str) -> String {
        parse_eia_weekly_csv(text, "w.csv").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            err("week_ending,crude_stocks_kbbl\n2024-01-05,43l100\n"),
            "w.csv: line 2, column 2 (`crude_stocks_kbbl`): `43l100` is not a number; write a plain decimal number without thousands separators, e.g. 431100"
        );
        assert!(
            err("# notes\nweek_ending,crude_stock\n")
                .starts_with("w.csv: line 2, column 2: unknown column `crude_stock`")
        );
        assert!(
            err("week_ending,crude_stocks_kbbl,CRUDE_STOCKS_KBBL\n")
                .contains("column 3: column `crude_stocks_kbbl` appears twice")
        );
        assert!(err("crude_stocks_kbbl\n1\n").contains("line 1: missing column `week_ending`"));
        assert!(err("week_ending,crude_stocks_kbbl\n2024-01-05\n").contains("line 2: 1 field(s) but the header has 2"));
        assert!(
            err("week_ending,crude_stocks_kbbl\n05/01/2024,1\n")
                .contains("line 2, column 1 (`week_ending`): `05/01/2024` is not a date")
        );
        assert!(
            err("week_ending,crude_stocks_kbbl\n2024-01-05,-1\n")
                .contains("column 2 (`crude_stocks_kbbl`): -1 is negative")
        );
        assert!(err("week_ending,crude_stocks_kbbl\n2024-01-05,inf\n").contains("not a finite number"));
        assert!(err("week_ending,crude_stocks_kbbl\n,1\n").contains("empty date"));
        assert!(
            err("week_ending,crude_change_kbbl\n2024-01-12,-1\n\n2024-01-05,2\n")
                .contains("line 4: week_ending 2024-01-05 is not after 2024-01-12 on line 2")
        );
        assert!(
            err("week_ending,crude_stocks_kbbl\n2024-01-05,\"1\n").contains("line 2, column 2: malformed quoted field")
        );
        assert!(err("# only comments\n\n").contains("no header line"));
        // A negative change is fine.
        assert_eq!(
            parse_eia_weekly_csv("week_ending,crude_change_kbbl\n2024-01-05,\"-2500\"\n", "w.csv").unwrap()[0]
                .crude
                .change_kbbl,
            Some(-2_500.0)
        );
    }

    #[test]
    fn file_errors_name_the_path() {
        let missing = Path::new("/nonexistent/crude/eia.csv");
        assert!(
            read_eia_weekly_csv(missing).unwrap_err().to_string().starts_with("cannot read /nonexistent/crude/eia.csv")
        );
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/eia_weekly_template.csv");
        assert!(read_eia_weekly_csv(&template).unwrap().is_empty());
        assert_eq!(split_csv_line("a,\"b,c\" , d").unwrap(), ["a", "b,c", "d"]);
        assert_eq!(split_csv_line("a,\"b\"x").unwrap_err(), 2);
    }
}
