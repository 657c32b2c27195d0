//! OPEC+ production against quota, read from a CSV the user keeps up to date.
//!
//! # Layout
//!
//! UTF-8 CSV; blank lines and lines starting with `#` are ignored. Header (any order,
//! case-insensitive): `month,country,production_kbpd,quota_kbpd`.
//!
//! | column | format | meaning |
//! | --- | --- | --- |
//! | `month` | `YYYY-MM` | production month; rows in non-decreasing month order |
//! | `country` | text | producer, one row per country and month |
//! | `production_kbpd` | number >= 0 | crude production, thousand b/d (secondary sources) |
//! | `quota_kbpd` | number >= 0, or empty | required production (quota) that month; empty for exempt members (e.g. Iran, Libya, Venezuela) |
//!
//! [`OpecTable`] sums each month over the countries with a quota: `excess = production −
//! quota` (positive = over-producing, bearish). Exempt countries' production is summed
//! separately and does not enter the excess. A month's figures are treated as known from
//! the first day of the following month plus a publication lag (OPEC's Monthly Oil Market
//! Report appears mid-month), so a backtest never sees them early.
//!
//! The repository ships `data/opec_production_template.csv` (header and notes only): fill
//! it from OPEC's MOMR "secondary sources" tables and the quota decisions of the OPEC+
//! ministerial meetings.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::indicator_cli::split_fields;

/// An error reading the OPEC+ production CSV; each names the file and line (and column).
#[derive(Debug, thiserror::Error)]
pub enum OpecCsvError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No header line.
    #[error("{file}: no header line; the first non-comment line must be month,country,production_kbpd,quota_kbpd")]
    NoHeader {
        /// The file.
        file: String,
    },
    /// A header problem (unknown, repeated or missing column).
    #[error("{file}: line {line}: {reason}")]
    Header {
        /// The file.
        file: String,
        /// Header line.
        line: usize,
        /// What is wrong and the fix.
        reason: String,
    },
    /// A row with the wrong number of fields or a malformed quote.
    #[error("{file}: line {line}: {reason}")]
    Row {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What is wrong and the fix.
        reason: String,
    },
    /// A bad cell.
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
}

/// One month's totals over the countries in the file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpecMonth {
    /// Year.
    pub year: i32,
    /// Month 1..=12.
    pub month: u32,
    /// Production of the countries with a quota, kb/d.
    pub production_kbpd: f64,
    /// Sum of their quotas, kb/d.
    pub quota_kbpd: f64,
    /// `production − quota`, kb/d (positive = over-producing).
    pub excess_kbpd: f64,
    /// Production of exempt countries (no quota), kb/d.
    pub exempt_production_kbpd: f64,
    /// Countries with a quota.
    pub countries_with_quota: usize,
}

impl OpecMonth {
    /// The first date on which the month's figures count: the first day of the next
    /// month plus `lag_days`.
    pub fn available_from(&self, lag_days: u32) -> NaiveDate {
        let (y, m) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        NaiveDate::from_ymd_opt(y, m, 1)
            .and_then(|d| d.checked_add_days(Days::new(u64::from(lag_days))))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// The production table: monthly totals in month order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpecTable {
    months: Vec<OpecMonth>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Month,
    Country,
    Production,
    Quota,
}

const COLS: [(&str, Col); 4] = [
    ("month", Col::Month),
    ("country", Col::Country),
    ("production_kbpd", Col::Production),
    ("quota_kbpd", Col::Quota),
];

impl OpecTable {
    /// Read a production CSV (see the module docs). A header-only file gives an empty
    /// table.
    ///
    /// # Errors
    /// Every [`OpecCsvError`] variant.
    pub fn read(path: &Path) -> Result<Self, OpecCsvError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| OpecCsvError::Io { file: file.clone(), source })?;
        Self::parse(&text, &file)
    }

    /// Parse CSV text; `file` labels the messages.
    ///
    /// # Errors
    /// Every [`OpecCsvError`] variant except `Io`.
    pub fn parse(text: &str, file: &str) -> Result<Self, OpecCsvError> {
        let f = || file.to_string();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let Some((hline, header)) = lines.next() else {
            return Err(OpecCsvError::NoHeader { file: f() });
        };
        let names = split_fields(header).map_err(|column| OpecCsvError::Header {
            file: f(),
            line: hline,
            reason: format!("column {column}: malformed quoted field"),
        })?;
        let mut cols: Vec<Col> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let Some(&(_, col)) = COLS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
                return Err(OpecCsvError::Header {
                    file: f(),
                    line: hline,
                    reason: format!(
                        "column {}: unknown column `{name}`; the columns are month, country, production_kbpd, quota_kbpd",
                        i + 1
                    ),
                });
            };
            if cols.contains(&col) {
                return Err(OpecCsvError::Header {
                    file: f(),
                    line: hline,
                    reason: format!("column {}: column `{name}` appears twice; keep one", i + 1),
                });
            }
            cols.push(col);
        }
        for (name, col) in COLS {
            if !cols.contains(&col) {
                return Err(OpecCsvError::Header {
                    file: f(),
                    line: hline,
                    reason: format!("missing column `{name}`; the header is month,country,production_kbpd,quota_kbpd"),
                });
            }
        }
        let mut months: BTreeMap<(i32, u32), OpecMonth> = BTreeMap::new();
        let mut seen: BTreeMap<((i32, u32), String), usize> = BTreeMap::new();
        let mut last_month: Option<((i32, u32), usize)> = None;
        for (line, row) in lines {
            let cells = split_fields(row).map_err(|column| OpecCsvError::Row {
                file: f(),
                line,
                reason: format!("column {column}: malformed quoted field; close the quote before the next comma"),
            })?;
            if cells.len() != cols.len() {
                return Err(OpecCsvError::Row {
                    file: f(),
                    line,
                    reason: format!("{} field(s) but the header has {}", cells.len(), cols.len()),
                });
            }
            let (mut month, mut country, mut production, mut quota) = (None, None, None, None);
            for (i, (cell, col)) in cells.iter().zip(&cols).enumerate() {
                let name = COLS.iter().find(|(_, c)| c == col).map_or("?", |(n, _)| *n);
                let bad = |reason: String| OpecCsvError::BadValue { file: f(), line, column: i + 1, name, reason };
                match col {
                    Col::Month => {
                        let d = NaiveDate::parse_from_str(&format!("{cell}-01"), "%Y-%m-%d")
                            .map_err(|_| bad(format!("`{cell}` is not a month; write YYYY-MM, e.g. 2024-06")))?;
                        month = Some((d.year(), d.month()));
                    }
                    Col::Country => {
                        if cell.is_empty() {
                            return Err(bad("empty country; name the producer".into()));
                        }
                        country = Some(cell.clone());
                    }
                    Col::Production | Col::Quota => {
                        if cell.is_empty() {
                            if *col == Col::Production {
                                return Err(bad("empty production; fill in thousand barrels per day".into()));
                            }
                            continue;
                        }
                        let v: f64 =
                            cell.parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                                bad(format!("`{cell}` is not a number; write thousand b/d, e.g. 9000"))
                            })?;
                        if v < 0.0 {
                            return Err(bad(format!("{v} is negative; use 0 or more")));
                        }
                        if *col == Col::Production {
                            production = Some(v);
                        } else {
                            quota = Some(v);
                        }
                    }
                }
            }
            let (Some(month), Some(country), Some(production)) = (month, country, production) else {
                return Err(OpecCsvError::Row { file: f(), line, reason: "incomplete row".into() });
            };
            if let Some((prev, prev_line)) = last_month
                && month < prev
            {
                return Err(OpecCsvError::Row {
                    file: f(),
                    line,
                    reason: format!(
                        "month {}-{:02} comes after {}-{:02} on line {prev_line}; sort rows by month, oldest first",
                        month.0, month.1, prev.0, prev.1
                    ),
                });
            }
            last_month = Some((month, line));
            let key = (month, country.to_ascii_lowercase());
            if let Some(first) = seen.insert(key, line) {
                return Err(OpecCsvError::Row {
                    file: f(),
                    line,
                    reason: format!(
                        "{country} in {}-{:02} repeats line {first}; keep one row per country and month",
                        month.0, month.1
                    ),
                });
            }
            let m = months.entry(month).or_insert(OpecMonth {
                year: month.0,
                month: month.1,
                production_kbpd: 0.0,
                quota_kbpd: 0.0,
                excess_kbpd: 0.0,
                exempt_production_kbpd: 0.0,
                countries_with_quota: 0,
            });
            match quota {
                Some(q) => {
                    m.production_kbpd += production;
                    m.quota_kbpd += q;
                    m.excess_kbpd = m.production_kbpd - m.quota_kbpd;
                    m.countries_with_quota += 1;
                }
                None => m.exempt_production_kbpd += production,
            }
        }
        Ok(Self { months: months.into_values().collect() })
    }

    /// Monthly totals, oldest first.
    pub fn months(&self) -> &[OpecMonth] {
        &self.months
    }

    /// The latest month with a quota whose figures are known on `date` (see
    /// [`OpecMonth::available_from`]).
    pub fn as_of(&self, date: NaiveDate, publication_lag_days: u32) -> Option<&OpecMonth> {
        self.months
            .iter()
            .rev()
            .filter(|m| m.countries_with_quota > 0)
            .find(|m| m.available_from(publication_lag_days) <= date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated figures (not real OPEC data) for two months.
    const GENERATED: &str = "# generated test data\n\
month,country,production_kbpd,quota_kbpd\n\
2024-05,Alpha,9100,9000\n\
2024-05,Beta,4200,4000\n\
2024-05,Gamma,1200,\n\
2024-06,Alpha,8900,9000\r\n\
\"2024-06\",\"Beta\",4000,4000\n";

    #[test]
    fn totals_and_as_of_with_publication_lag() {
        let t = OpecTable::parse(GENERATED, "opec.csv").unwrap();
        assert_eq!(t.months().len(), 2);
        let may = t.months()[0];
        assert_eq!((may.production_kbpd, may.quota_kbpd, may.excess_kbpd), (13_300.0, 13_000.0, 300.0));
        assert_eq!((may.exempt_production_kbpd, may.countries_with_quota), (1_200.0, 2));
        assert_eq!(t.months()[1].excess_kbpd, -100.0);
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(t.as_of(d(2024, 6, 15), 15), None, "May figures publish on 16 June");
        assert_eq!(t.as_of(d(2024, 6, 16), 15).map(|m| m.month), Some(5));
        assert_eq!(t.as_of(d(2024, 7, 16), 15).map(|m| m.month), Some(6));
        assert_eq!(t.as_of(d(2024, 7, 1), 0).map(|m| m.month), Some(6));
        let dec = OpecMonth { month: 12, year: 2024, ..may };
        assert_eq!(dec.available_from(0), d(2025, 1, 1));
    }

    #[test]
    fn the_shipped_template_parses_empty() {
        let text = include_str!("../../../data/opec_production_template.csv");
        assert!(OpecTable::parse(text, "template").unwrap().months().is_empty());
    }

    fn err(text: &str) -> String {
        OpecTable::parse(text, "opec.csv").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_line_and_column() {
        let h = "month,country,production_kbpd,quota_kbpd\n";
        assert_eq!(
            err(&format!("{h}2024-13,Alpha,1,1\n")),
            "opec.csv: line 2, column 1 (`month`): `2024-13` is not a month; write YYYY-MM, e.g. 2024-06"
        );
        assert!(err(&format!("{h}2024-05,Alpha,9k,1\n")).contains("line 2, column 3 (`production_kbpd`)"));
        assert!(err(&format!("{h}2024-05,Alpha,1,-1\n")).contains("column 4 (`quota_kbpd`): -1 is negative"));
        assert!(err(&format!("{h}2024-05,Alpha,,1\n")).contains("empty production"));
        assert!(err(&format!("{h}2024-05,,1,1\n")).contains("empty country"));
        assert!(err(&format!("{h}2024-05,Alpha,1\n")).contains("line 2: 3 field(s)"));
        assert!(
            err(&format!("{h}2024-06,Alpha,1,1\n2024-05,Beta,1,1\n"))
                .contains("line 3: month 2024-05 comes after 2024-06 on line 2")
        );
        assert!(err(&format!("{h}2024-06,Alpha,1,1\n2024-06,alpha,1,1\n")).contains("repeats line 2"));
        assert!(err("month,country,production_kbpd\n").contains("missing column `quota_kbpd`"));
        assert!(err("month,country,production,quota_kbpd\n").contains("column 3: unknown column `production`"));
        assert!(err("# nothing\n").contains("no header line"));
        assert!(
            OpecTable::read(Path::new("/nonexistent/opec.csv")).unwrap_err().to_string().starts_with("cannot read")
        );
    }
}
