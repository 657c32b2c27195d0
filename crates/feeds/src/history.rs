//! Daily history for the services: the one simulated daily history anchored to the live
//! market ([`simulate_anchored_history`], shared between services by
//! [`SharedSimHistory`]), and the readers of the history files (daily prices, monthly
//! WTI/Brent prices, daily curves), read with the `csv` crate into plain data.
//!
//! # Files
//!
//! Every reader skips blank lines and lines starting with `#`, strips a UTF-8 byte-order
//! mark, trims the cells and reports a bad file as a [`HistoryFileError`] naming the file,
//! the line, the column and the fix. The services turn the plain data into their own
//! structures (returns, curve snapshots).
//!
//! * Daily prices ([`parse_daily_prices`]): `date,<code>,<code>…`, one row per trading date,
//!   oldest first (the risk service's return history).
//! * Monthly WTI and Brent prices ([`parse_brent_wti_monthly`]): `date,brent,wti` in any
//!   order, as `data/brent_wti_monthly_eia.csv`.
//! * Daily curves ([`parse_curves_csv`]): `date,market,m1,…,mN`, as `crude simulate`
//!   writes `curve.csv`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use crude_model::{HolidayCalendar, Market, trading_date};

use crate::sim::{DailyCurve, DailySimulation, MAX_DAILY_DAYS, SimConfig, SimError, simulate_daily};

// ---------------------------------------------------------------------------------------
// The simulated history
// ---------------------------------------------------------------------------------------

/// The simulated daily history that ends the trading date before `live_date`: `days`
/// trading dates of [`simulate_daily`] (at most [`MAX_DAILY_DAYS`]), anchored so that it
/// joins the live simulator. The live market starts at `config.wti_start_price`, so the
/// history is run a second time from a WTI start scaled by (live start / first run's last
/// WTI front settlement before `live_date`). The same seed draws the same shocks, so the
/// path keeps its returns and volatility and ends close to where the live market begins
/// (the price floor and the additive Brent premium and cracks make the join close, not
/// exact). When that last settlement is not positive, or the scaled config does not
/// validate, the first run is returned.
///
/// # Errors
/// As [`simulate_daily`]: an invalid `config`, `days` of 0, or a start date out of range.
pub fn simulate_anchored_history(
    config: &SimConfig,
    live_date: NaiveDate,
    days: usize,
) -> Result<DailySimulation, SimError> {
    let days = days.min(MAX_DAILY_DAYS);
    let start = HolidayCalendar::Cme.add_business_days(live_date, -i32::try_from(days).unwrap_or(i32::MAX));
    let first = simulate_daily(config, start, days)?;
    let last_wti = first
        .curves
        .iter()
        .rev()
        .find(|c| c.date < live_date && c.market == Market::Wti)
        .and_then(|c| c.settlements.first().copied());
    match last_wti {
        Some(end) if end.is_finite() && end > 0.0 => {
            let mut anchored = config.clone();
            anchored.wti_start_price = config.wti_start_price * config.wti_start_price / end;
            if anchored.validate().is_err() {
                return Ok(first);
            }
            simulate_daily(&anchored, start, days)
        }
        _ => Ok(first),
    }
}

/// The last `days` trading dates of `sim` before `live_date`: their curves and front bars,
/// and the inventory reports from the first kept date on (the caller drops those at or
/// after its live start).
pub fn last_days_before(sim: &DailySimulation, live_date: NaiveDate, days: usize) -> DailySimulation {
    let before: Vec<NaiveDate> = sim.dates.iter().copied().filter(|d| *d < live_date).collect();
    let kept = before[before.len().saturating_sub(days)..].to_vec();
    let (Some(&lo), Some(&hi)) = (kept.first(), kept.last()) else {
        return DailySimulation {
            config: sim.config.clone(),
            dates: Vec::new(),
            front: sim.front.iter().map(|(m, _)| (*m, Vec::new())).collect(),
            curves: Vec::new(),
            inventory: Vec::new(),
        };
    };
    let within = |d: NaiveDate| lo <= d && d <= hi;
    DailySimulation {
        config: sim.config.clone(),
        dates: kept,
        front: sim
            .front
            .iter()
            .map(|(m, bars)| (*m, bars.iter().filter(|b| within(b.date)).copied().collect()))
            .collect(),
        curves: sim.curves.iter().filter(|c| within(c.date)).cloned().collect(),
        inventory: sim.inventory.iter().filter(|r| trading_date(r.ts) >= lo).copied().collect(),
    }
}

/// One run of the shared history.
#[derive(Debug)]
struct SimRun {
    live_date: NaiveDate,
    days: usize,
    result: Result<Arc<DailySimulation>, Arc<SimError>>,
}

#[derive(Debug)]
struct SharedInner {
    config: SimConfig,
    /// The most days any user asked for.
    requested_days: AtomicUsize,
    /// Simulations run (the shared one and any a user had to run alone).
    runs: AtomicUsize,
    cell: OnceLock<SimRun>,
}

/// The simulated daily history of one simulator config, shared by the services of one
/// kernel: the first service to ask simulates [`simulate_anchored_history`] once, for the
/// most days any holder has [`requested`](Self::request) (the longest request wins), and
/// every holder takes its own last days of it. Clones share the history.
///
/// A holder asking for another live date, or for more days than were simulated (it
/// registered after the run), gets a simulation of its own.
#[derive(Debug, Clone)]
pub struct SharedSimHistory {
    inner: Arc<SharedInner>,
}

impl PartialEq for SharedSimHistory {
    /// Same simulator config: the same history (the simulation is deterministic).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.config == other.inner.config
    }
}

impl SharedSimHistory {
    /// A history of `config`'s simulator, not yet simulated.
    pub fn new(config: SimConfig) -> Self {
        Self {
            inner: Arc::new(SharedInner {
                config,
                requested_days: AtomicUsize::new(0),
                runs: AtomicUsize::new(0),
                cell: OnceLock::new(),
            }),
        }
    }

    /// The simulator settings (the seed decides the path).
    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// Registers that a holder will want `days` trading dates (call it when the holder is
    /// set up, before any holder asks, so the one run covers everyone).
    pub fn request(&self, days: usize) {
        self.inner.requested_days.fetch_max(days, Ordering::Relaxed);
    }

    /// The most days requested so far.
    pub fn requested_days(&self) -> usize {
        self.inner.requested_days.load(Ordering::Relaxed)
    }

    /// Simulations run so far (1 when every holder shared one).
    pub fn runs(&self) -> usize {
        self.inner.runs.load(Ordering::Relaxed)
    }

    fn simulate(&self, live_date: NaiveDate, days: usize) -> Result<Arc<DailySimulation>, Arc<SimError>> {
        self.inner.runs.fetch_add(1, Ordering::Relaxed);
        simulate_anchored_history(&self.inner.config, live_date, days).map(Arc::new).map_err(Arc::new)
    }

    /// The last `days` trading dates before `live_date` of the anchored history (see
    /// [`last_days_before`]); simulated on the first call, for the longest request, and
    /// shared after that. Blocks while another holder runs the simulation.
    ///
    /// # Errors
    /// As [`simulate_anchored_history`].
    pub fn get(&self, live_date: NaiveDate, days: usize) -> Result<DailySimulation, Arc<SimError>> {
        self.request(days);
        let run = self.inner.cell.get_or_init(|| {
            let n = self.requested_days().max(days);
            SimRun { live_date, days: n, result: self.simulate(live_date, n) }
        });
        let sim = if run.live_date == live_date && run.days >= days {
            run.result.clone()?
        } else {
            self.simulate(live_date, days)?
        };
        Ok(last_days_before(&sim, live_date, days))
    }
}

// ---------------------------------------------------------------------------------------
// File errors and the CSV records
// ---------------------------------------------------------------------------------------

/// The column a [`HistoryFileError`] points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryColumn {
    /// 1-based column number.
    Index(usize),
    /// The column's header (`date`, `CL1`, …).
    Name(String),
}

/// An error in a history file: the file, the line (1-based, 0 when the whole file is at
/// fault), the column where there is one, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location(*line, column.as_ref()))]
pub struct HistoryFileError {
    /// The file as given.
    pub file: String,
    /// 1-based line, 0 for the whole file.
    pub line: usize,
    /// The column, where one is at fault.
    pub column: Option<HistoryColumn>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl HistoryFileError {
    /// An error about the whole file.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self { file: file.to_string(), line: 0, column: None, message: message.into() }
    }

    /// An error at `line`, in column number `column` (1-based) when there is one.
    pub fn at(file: &str, line: usize, column: Option<usize>, message: impl Into<String>) -> Self {
        Self { file: file.to_string(), line, column: column.map(HistoryColumn::Index), message: message.into() }
    }

    /// An error at `line`, in the column headed `column`.
    pub fn at_named(file: &str, line: usize, column: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line,
            column: Some(HistoryColumn::Name(column.to_string())),
            message: message.into(),
        }
    }
}

fn location(line: usize, column: Option<&HistoryColumn>) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, None) => format!(": line {l}"),
        (l, Some(HistoryColumn::Index(c))) => format!(": line {l}, column {c}"),
        (l, Some(HistoryColumn::Name(c))) => format!(": line {l}, column '{c}'"),
    }
}

/// The text of `path`.
///
/// # Errors
/// [`HistoryFileError`] (line 0) when the file cannot be read or is not UTF-8.
pub fn read_history_text(path: &Path) -> Result<String, HistoryFileError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| HistoryFileError::file(&file, format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        HistoryFileError::file(
            &file,
            format!("not UTF-8 text (byte {}); save it as UTF-8 CSV", e.utf8_error().valid_up_to()),
        )
    })
}

/// The data records of a CSV text: `(line, cells)`, cells trimmed, blank and `#` lines
/// skipped, a byte-order mark stripped.
fn records<'a>(
    text: &'a str,
    file: &'a str,
) -> impl Iterator<Item = Result<(usize, csv::StringRecord), HistoryFileError>> + 'a {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes())
        .into_records()
        .filter_map(move |r| match r {
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
                let blank = rec.len() == 1 && rec.get(0).is_some_and(str::is_empty);
                let comment = rec.get(0).is_some_and(|c| c.starts_with('#'));
                (!blank && !comment).then_some(Ok((line, rec)))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
                Some(Err(HistoryFileError::at(
                    file,
                    line,
                    None,
                    format!("not a CSV line ({e}); write comma-separated cells"),
                )))
            }
        })
}

fn date_cell(cell: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(cell, "%Y-%m-%d")
        .map_err(|_| format!("`{cell}` is not a date; write YYYY-MM-DD, e.g. 2019-06-14"))
}

fn price_cell(cell: &str) -> Result<f64, String> {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("`{cell}` is not a finite number; write a decimal price such as 64.12 or -37.63")),
    }
}

// ---------------------------------------------------------------------------------------
// Daily prices
// ---------------------------------------------------------------------------------------

/// One row of a daily prices file.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyPriceRow {
    /// 1-based line of the row.
    pub line: usize,
    /// The trading date.
    pub date: NaiveDate,
    /// One price per column, in the header's order.
    pub prices: Vec<f64>,
}

/// A daily prices file as read: the column codes as written and the rows, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyPrices {
    /// The file as given.
    pub file: String,
    /// 1-based line of the header.
    pub header_line: usize,
    /// The price columns' headers (`CL`, `CL2`, `BZF27`, …), after `date`.
    pub columns: Vec<String>,
    /// The rows, dates strictly increasing.
    pub rows: Vec<DailyPriceRow>,
}

/// Reads daily prices (see [`parse_daily_prices`]).
///
/// # Errors
/// As [`read_history_text`] and [`parse_daily_prices`].
pub fn read_daily_prices(path: &Path) -> Result<DailyPrices, HistoryFileError> {
    parse_daily_prices(&read_history_text(path)?, &path.display().to_string())
}

/// Parses daily prices: a header `date,<code>,<code>…` then one row per trading date,
/// oldest first, ISO dates (`2024-03-15`), plain decimal prices (any sign). The codes are
/// not interpreted here.
///
/// # Errors
/// [`HistoryFileError`] naming the line and the column by its header (bad header, date or
/// number, missing cell, wrong number of cells, unsorted dates), or the whole file when it
/// is empty or has no price column.
pub fn parse_daily_prices(text: &str, file: &str) -> Result<DailyPrices, HistoryFileError> {
    let mut recs = records(text, file);
    let Some(first) = recs.next() else {
        return Err(HistoryFileError::file(
            file,
            "the file is empty; write a header date,CL1,BZ1,… and one row per day",
        ));
    };
    let (header_line, header) = first?;
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    if !names.first().is_some_and(|n| n.eq_ignore_ascii_case("date")) {
        return Err(HistoryFileError::at_named(
            file,
            header_line,
            names.first().map_or("", String::as_str),
            "the first column must be named date (header: date,CL1,BZ1,…)",
        ));
    }
    let columns = names[1..].to_vec();
    if columns.is_empty() {
        return Err(HistoryFileError::file(
            file,
            "no price columns; add one column per contract, such as date,CL1,BZ1",
        ));
    }
    let mut rows: Vec<DailyPriceRow> = Vec::new();
    for rec in recs {
        let (line, cells) = rec?;
        if cells.len() != names.len() {
            return Err(HistoryFileError::at(
                file,
                line,
                None,
                format!(
                    "has {} fields but the header has {}; give every date one price per column",
                    cells.len(),
                    names.len()
                ),
            ));
        }
        let date = NaiveDate::parse_from_str(&cells[0], "%Y-%m-%d").map_err(|_| {
            HistoryFileError::at_named(
                file,
                line,
                "date",
                format!("cannot parse '{}' as a date; use ISO 8601 such as 2024-03-15", &cells[0]),
            )
        })?;
        if let Some(prev) = rows.last().map(|r| r.date)
            && date <= prev
        {
            return Err(HistoryFileError::at_named(
                file,
                line,
                "date",
                format!(
                    "{date} is not after the previous row's date {prev}; sort the file by date, oldest first, one row per date"
                ),
            ));
        }
        let mut prices = Vec::with_capacity(columns.len());
        for (cell, name) in cells.iter().skip(1).zip(&columns) {
            if cell.is_empty() {
                return Err(HistoryFileError::at_named(
                    file,
                    line,
                    name,
                    "the price is missing; fill it or drop the row",
                ));
            }
            let v: f64 = cell.parse().map_err(|_| {
                HistoryFileError::at_named(
                    file,
                    line,
                    name,
                    format!("cannot parse '{cell}' as a number; write a plain decimal such as 71.35"),
                )
            })?;
            if !v.is_finite() {
                return Err(HistoryFileError::at_named(file, line, name, format!("'{cell}' is not a finite number")));
            }
            prices.push(v);
        }
        rows.push(DailyPriceRow { line, date, prices });
    }
    Ok(DailyPrices { file: file.to_string(), header_line, columns, rows })
}

// ---------------------------------------------------------------------------------------
// Monthly WTI and Brent
// ---------------------------------------------------------------------------------------

/// One month of the WTI/Brent file, USD/bbl.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyPrices {
    /// The month's date as written (mid-month in the EIA file).
    pub date: NaiveDate,
    /// WTI.
    pub wti: f64,
    /// Brent.
    pub brent: f64,
}

/// Reads monthly WTI and Brent prices (see [`parse_brent_wti_monthly`]).
///
/// # Errors
/// As [`read_history_text`] and [`parse_brent_wti_monthly`].
pub fn read_brent_wti_monthly(path: &Path) -> Result<Vec<MonthlyPrices>, HistoryFileError> {
    parse_brent_wti_monthly(&read_history_text(path)?, &path.display().to_string())
}

/// Parses monthly WTI and Brent prices: a header naming `date`, `brent` and `wti` in any
/// order (case-insensitive), dates strictly increasing.
///
/// # Errors
/// [`HistoryFileError`] naming the line and column number: no header, a missing column, a
/// wrong number of cells, a bad date or price, unsorted dates.
pub fn parse_brent_wti_monthly(text: &str, file: &str) -> Result<Vec<MonthlyPrices>, HistoryFileError> {
    let at = |line, column, message| HistoryFileError::at(file, line, column, message);
    let mut recs = records(text, file);
    let Some(first) = recs.next() else {
        return Err(at(0, None, "no header line; the first line must be `date,brent,wti`".to_string()));
    };
    let (hl, header) = first?;
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(cd), Some(cb), Some(cw)) = (col("date"), col("brent"), col("wti")) else {
        return Err(at(hl, None, "missing column: the header must name `date`, `brent` and `wti`".to_string()));
    };
    let mut rows: Vec<MonthlyPrices> = Vec::new();
    for rec in recs {
        let (line, f) = rec?;
        if f.len() != header.len() {
            return Err(at(line, None, format!("{} field(s) but the header has {}", f.len(), header.len())));
        }
        let date = date_cell(&f[cd]).map_err(|m| at(line, Some(cd + 1), m))?;
        let brent = price_cell(&f[cb]).map_err(|m| at(line, Some(cb + 1), m))?;
        let wti = price_cell(&f[cw]).map_err(|m| at(line, Some(cw + 1), m))?;
        if let Some(prev) = rows.last()
            && date <= prev.date
        {
            return Err(at(
                line,
                Some(cd + 1),
                format!("date {date} is not after {}; sort the rows by date, oldest first", prev.date),
            ));
        }
        rows.push(MonthlyPrices { date, wti, brent });
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// Daily curves
// ---------------------------------------------------------------------------------------

/// Reads daily curves (see [`parse_curves_csv`]).
///
/// # Errors
/// As [`read_history_text`] and [`parse_curves_csv`].
pub fn read_curves_csv(path: &Path) -> Result<Vec<DailyCurve>, HistoryFileError> {
    parse_curves_csv(&read_history_text(path)?, &path.display().to_string())
}

/// Parses daily curves `date,market,m1,…,mN` (`crude simulate`'s `curve.csv`): the market
/// as a root (`CL`, `BZ`, `RB`, `HO`), prices front first; trailing cells may be empty
/// (a shorter curve). Contract months are the market's active contracts on the date.
///
/// # Errors
/// [`HistoryFileError`] naming the line and column number: a bad header, market, date or
/// price, a wrong number of cells, a price after an empty cell, a curve with no price, a
/// market's dates out of order.
pub fn parse_curves_csv(text: &str, file: &str) -> Result<Vec<DailyCurve>, HistoryFileError> {
    let at = |line, column, message| HistoryFileError::at(file, line, column, message);
    let mut recs = records(text, file);
    let Some(first) = recs.next() else {
        return Err(at(0, None, "no header line; the first line must be `date,market,m1,m2,...`".to_string()));
    };
    let (hl, header) = first?;
    let ok_header = header.len() >= 3
        && header[0].eq_ignore_ascii_case("date")
        && header[1].eq_ignore_ascii_case("market")
        && header.iter().skip(2).enumerate().all(|(i, h)| h.eq_ignore_ascii_case(&format!("m{}", i + 1)));
    if !ok_header {
        return Err(at(
            hl,
            None,
            "the header must be `date,market,m1,m2,...,mN` (as `crude simulate` writes)".to_string(),
        ));
    }
    let mut out = Vec::new();
    let mut last: [Option<(NaiveDate, usize)>; 4] = [None; 4];
    for rec in recs {
        let (line, f) = rec?;
        if f.len() != header.len() {
            return Err(at(line, None, format!("{} field(s) but the header has {}", f.len(), header.len())));
        }
        let date = date_cell(&f[0]).map_err(|m| at(line, Some(1), m))?;
        let market = Market::parse_root(&f[1])
            .map_err(|_| at(line, Some(2), format!("`{}` is not a market; write CL, BZ, RB or HO", &f[1])))?;
        if let Some((prev, prev_line)) = last[market.index()]
            && date <= prev
        {
            return Err(at(
                line,
                Some(1),
                format!(
                    "{market} date {date} is not after {prev} on line {prev_line}; sort each market's rows by date"
                ),
            ));
        }
        last[market.index()] = Some((date, line));
        let cells: Vec<&str> = f.iter().skip(2).collect();
        let n = cells.iter().position(|c| c.is_empty()).unwrap_or(cells.len());
        if let Some(k) = cells[n..].iter().position(|c| !c.is_empty()) {
            return Err(at(
                line,
                Some(n + k + 3),
                "a price after an empty cell; empty cells may only end a curve".to_string(),
            ));
        }
        if n == 0 {
            return Err(at(line, Some(3), "the curve has no price; write m1 at least".to_string()));
        }
        let contracts = market.active_contracts(date, n);
        let mut settlements = Vec::with_capacity(n);
        for (i, cell) in cells[..n].iter().enumerate() {
            settlements.push(price_cell(cell).map_err(|m| at(line, Some(i + 3), m))?);
        }
        out.push(DailyCurve { date, market, contracts, settlements });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn daily_prices_read_rows_and_name_bad_cells() {
        let text = "\u{feff}date,CL,CL2\n# comment\n2026-11-02,70,70.5\n  \n2026-11-03, 71 ,71.2\n";
        let p = parse_daily_prices(text, "p.csv").unwrap();
        assert_eq!(p.header_line, 1);
        assert_eq!(p.columns, ["CL", "CL2"]);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[1], DailyPriceRow { line: 5, date: d(2026, 11, 3), prices: vec![71.0, 71.2] });
        let err = |t: &str| parse_daily_prices(t, "p.csv").unwrap_err().to_string();
        assert_eq!(
            err("date,CL1\n2026-11-02,70\n2026-11-03,7o\n"),
            "p.csv: line 3, column 'CL1': cannot parse '7o' as a number; write a plain decimal such as 71.35"
        );
        assert!(err("date,CL1\n2026-11-02,x\n").contains("line 2, column 'CL1'"));
        assert!(err("date,CL1\n20261102,70\n").contains("line 2, column 'date': cannot parse '20261102' as a date"));
        assert!(err("").contains("the file is empty"));
        assert!(err("date\n").contains("no price columns"));
    }

    #[test]
    fn monthly_and_curve_files_name_line_and_column() {
        let err = |t: &str| parse_brent_wti_monthly(t, "m.csv").unwrap_err().to_string();
        assert_eq!(
            err("date,brent,wti\n2020-01-15,63.6,5x.5\n"),
            "m.csv: line 2, column 3: `5x.5` is not a finite number; write a decimal price such as 64.12 or -37.63"
        );
        assert!(err("date,wti\n").contains("line 1: missing column"));
        assert!(
            err("date,brent,wti\n2020-02-15,1,2\n2020-01-15,1,2\n")
                .contains("line 3, column 1: date 2020-01-15 is not after")
        );
        assert!(err("# notes\n\ndate,brent,wti\n2020-01-15,1\n").contains("line 4: 2 field(s) but the header has 3"));

        let text = "date,market,m1,m2,m3\n2026-03-02,CL,70.1,70.0,\n2026-03-02,RB,2.1,2.2,2.3\n";
        let curves = parse_curves_csv(text, "c.csv").unwrap();
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].settlements, [70.1, 70.0]);
        assert_eq!(curves[0].contracts[0], Market::Wti.front_contract(d(2026, 3, 2)));
        assert_eq!((curves[1].date, curves[1].market), (d(2026, 3, 2), Market::Rbob));
        let cerr = |t: &str| parse_curves_csv(t, "c.csv").unwrap_err().to_string();
        assert!(cerr("date,market,m1\n2026-03-02,XX,1\n").contains("line 2, column 2: `XX` is not a market"));
        assert!(
            cerr("date,market,m1,m2\n2026-03-02,CL,,1\n").contains("line 2, column 4: a price after an empty cell")
        );
        assert!(cerr("date,mkt,m1\n").contains("line 1: the header must be"));
    }

    #[test]
    fn monthly_prices_name_a_bad_cell() {
        let rows = parse_brent_wti_monthly("wti,date,brent\n19.44,1987-05-15,18.58\n", "m.csv").unwrap();
        assert_eq!(rows, [MonthlyPrices { date: d(1987, 5, 15), wti: 19.44, brent: 18.58 }]);
        let e = parse_brent_wti_monthly("date,brent,wti\n2020-01-15,inf,57.5\n", "m.csv").unwrap_err();
        assert_eq!((e.line, e.column.clone()), (2, Some(HistoryColumn::Index(2))));
        assert!(e.to_string().starts_with("m.csv: line 2, column 2: `inf` is not a finite number"), "{e}");
        let e = parse_brent_wti_monthly("date,brent,wti\n15/01/2020,1,2\n", "m.csv").unwrap_err().to_string();
        assert!(e.contains("line 2, column 1: `15/01/2020` is not a date; write YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn curves_name_a_bad_cell() {
        let c = parse_curves_csv("date,market,m1,m2\n2026-03-02,HO,2.5,\n", "c.csv").unwrap();
        assert_eq!(c[0].market, Market::HeatingOil);
        assert_eq!(c[0].settlements, [2.5]);
        assert_eq!(c[0].contracts, Market::HeatingOil.active_contracts(d(2026, 3, 2), 1));
        let e = parse_curves_csv("date,market,m1,m2\n2026-03-02,CL,70.1,7o\n", "c.csv").unwrap_err().to_string();
        assert_eq!(
            e,
            "c.csv: line 2, column 4: `7o` is not a finite number; write a decimal price such as 64.12 or -37.63"
        );
        let e = parse_curves_csv("date,market,m1\n2026-03-03,CL,1\n2026-03-02,CL,1\n", "c.csv").unwrap_err();
        assert!(
            e.to_string().contains("line 3, column 1: CL date 2026-03-02 is not after 2026-03-03 on line 2"),
            "{e}"
        );
    }

    #[test]
    fn unreadable_files_name_the_file() {
        let e = read_daily_prices(Path::new("/nonexistent/prices.csv")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/prices.csv: cannot read the file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("latin1.csv");
        std::fs::write(&p, b"date,brent,wti\n2020-01-15,1,\xe92\n").unwrap();
        assert!(read_brent_wti_monthly(&p).unwrap_err().to_string().contains("not UTF-8 text (byte 28)"));
    }

    #[test]
    fn the_shared_history_is_simulated_once_for_the_longest_request_and_ends_before_the_live_date() {
        let cfg = SimConfig { seed: 5, ..SimConfig::default() };
        let live = d(2026, 11, 18);
        let shared = SharedSimHistory::new(cfg.clone());
        shared.request(60);
        let other = shared.clone();
        other.request(25);
        let long = shared.get(live, 60).unwrap();
        let short = other.get(live, 25).unwrap();
        assert_eq!(shared.runs(), 1, "one simulation for both holders");
        assert_eq!(long.dates.len(), 60);
        assert_eq!(short.dates.len(), 25);
        assert!(long.dates.iter().all(|x| *x < live));
        assert_eq!(long.dates.last(), short.dates.last());
        assert_eq!(long.curves[long.curves.len() - 4..], short.curves[short.curves.len() - 4..]);
        assert!(short.curves.iter().all(|c| c.date >= short.dates[0]));
        // The run is the anchored one, and it ends near the live start price.
        let alone = simulate_anchored_history(&cfg, live, 60).unwrap();
        assert_eq!(last_days_before(&alone, live, 60), long);
        let end = long.curves_of(Market::Wti).last().unwrap().settlements[0];
        assert!((end / cfg.wti_start_price - 1.0).abs() < 0.05, "{end}");
        // Another live date, or more days than were simulated: a run of its own.
        assert_eq!(other.get(d(2026, 11, 19), 25).unwrap().dates.len(), 25);
        assert_eq!(other.get(live, 61).unwrap().dates.len(), 61);
        assert_eq!(shared.runs(), 3);
        assert!(SharedSimHistory::new(cfg).get(live, 0).is_err());
    }
}
