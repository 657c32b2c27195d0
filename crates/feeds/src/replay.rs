//! Replay of historical bar files (CSV or Parquet) as a feed, labelled REPLAY.
//!
//! A file holds one market's continuous series (for example the real WTI daily history in
//! `data/wti_daily_fred.csv`). Accepted columns, case-insensitive, in any order:
//! a time column (`date`, `datetime`, `timestamp` or `time`; ISO dates `2020-04-20`, or date
//! and time `2020-04-20 14:30:00` / RFC 3339, taken as UTC), `close` (required), and
//! optionally `open`, `high`, `low`, `volume`. A file with only `date,close` replays as bars
//! whose open, high and low equal the close. Rows must be strictly increasing in time.
//! Negative prices are legal (WTI settled at −37.63 on 2020-04-20).
//!
//! The timeframe is inferred from the median spacing of the rows; daily rows are stamped at
//! the 17:00 ET session close of their date, so at `--speed 86400` one trading day replays
//! per second.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::America::New_York;
use crude_model::{Bar, FeedKind, FeedStatus, Market, MarketEvent, SeriesId, Timeframe, Timestamp};

use crate::feed::{FeedError, FeedPoll, HistoryRequest, MarketFeed};

/// One row of a bar file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayBar {
    /// When the bar completes (the event time used for pacing).
    pub ts: Timestamp,
    pub bar: Bar,
}

/// A loaded bar file.
#[derive(Debug, Clone)]
pub struct BarFile {
    pub path: PathBuf,
    pub timeframe: Timeframe,
    pub bars: Vec<ReplayBar>,
}

/// Columns found in the header.
struct Columns {
    time: usize,
    time_name: String,
    open: Option<usize>,
    high: Option<usize>,
    low: Option<usize>,
    close: usize,
    volume: Option<usize>,
}

fn find_columns(path: &Path, header: &[String]) -> Result<Columns, FeedError> {
    let norm: Vec<String> =
        header.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    let pos = |names: &[&str]| norm.iter().position(|h| names.contains(&h.as_str()));
    let time = pos(&["date", "datetime", "timestamp", "time"]).ok_or_else(|| FeedError::Format {
        path: path.to_path_buf(),
        reason: format!(
            "no time column in header [{}]: add a column named date, datetime, timestamp or time",
            header.join(",")
        ),
    })?;
    let close = pos(&["close"]).ok_or_else(|| FeedError::Format {
        path: path.to_path_buf(),
        reason: format!("no 'close' column in header [{}]: the replay needs at least date,close", header.join(",")),
    })?;
    Ok(Columns {
        time,
        time_name: norm[time].clone(),
        open: pos(&["open"]),
        high: pos(&["high"]),
        low: pos(&["low"]),
        close,
        volume: pos(&["volume"]),
    })
}

/// Daily bars complete at the 17:00 ET session close of their date.
fn daily_close_ts(d: NaiveDate) -> Timestamp {
    let naive = d.and_time(NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN));
    match New_York.from_local_datetime(&naive).earliest() {
        Some(dt) => Timestamp::from_datetime(&dt),
        None => Timestamp::from_date(d),
    }
}

/// Parse a time cell: a date (daily row) or a date-time (intraday row, UTC).
fn parse_time(cell: &str) -> Option<(Timestamp, bool)> {
    let s = cell.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some((Timestamp::from_date(d), true));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some((Timestamp::from_datetime(&dt.and_utc()), false));
        }
    }
    DateTime::parse_from_rfc3339(s).ok().map(|dt| (Timestamp::from_datetime(&dt), false))
}

fn parse_num(path: &Path, line: usize, column: &str, cell: &str) -> Result<f64, FeedError> {
    let v: f64 = cell.trim().parse().map_err(|_| FeedError::File {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        reason: format!("'{cell}' is not a number"),
    })?;
    if !v.is_finite() {
        return Err(FeedError::File {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            reason: format!("'{cell}' is not a finite number"),
        });
    }
    Ok(v)
}

/// Raw rows before timeframe inference: (time, is_date, o, h, l, c, v).
type RawRow = (Timestamp, bool, f64, f64, f64, f64, u64);

fn build_file(path: &Path, rows: Vec<RawRow>) -> Result<BarFile, FeedError> {
    if rows.is_empty() {
        return Err(FeedError::Format { path: path.to_path_buf(), reason: "the file has no data rows".into() });
    }
    let daily = rows.iter().all(|r| r.1);
    let timeframe = if daily {
        Timeframe::D1
    } else {
        let mut gaps: Vec<i64> = rows.windows(2).map(|w| w[1].0.0 - w[0].0.0).collect();
        gaps.sort_unstable();
        let median = gaps.get(gaps.len() / 2).copied().unwrap_or(Timestamp::NANOS_PER_MIN);
        Timeframe::ALL
            .iter()
            .copied()
            .rfind(|tf| tf.intraday_nanos().is_some_and(|n| n <= median))
            .unwrap_or(Timeframe::M1)
    };
    let step = timeframe.intraday_nanos().unwrap_or(0);
    let bars = rows
        .into_iter()
        .map(|(t, is_date, open, high, low, close, volume)| {
            let (ts, start) = if is_date {
                let d = t.date_utc();
                (daily_close_ts(d), Timestamp::from_date(d))
            } else {
                (t.add_nanos(step), t)
            };
            ReplayBar { ts, bar: Bar { start, open, high, low, close, volume } }
        })
        .collect();
    Ok(BarFile { path: path.to_path_buf(), timeframe, bars })
}

/// Load a CSV bar file.
///
/// # Errors
/// [`FeedError::File`] naming the line and column of the first bad cell; [`FeedError::Format`]
/// for a missing column or an empty file; [`FeedError::Io`] when the file cannot be read.
pub fn load_csv(path: &Path) -> Result<BarFile, FeedError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(path)
        .map_err(|e| io_or_format(path, e))?;
    let header: Vec<String> = rdr.headers().map_err(|e| io_or_format(path, e))?.iter().map(str::to_string).collect();
    let cols = find_columns(path, &header)?;
    let mut rows: Vec<RawRow> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| FeedError::File {
            path: path.to_path_buf(),
            line,
            column: "*".into(),
            reason: format!("{e}; every row needs {} cells like the header", header.len()),
        })?;
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let (t, is_date) = parse_time(cell(cols.time)).ok_or_else(|| FeedError::File {
            path: path.to_path_buf(),
            line,
            column: cols.time_name.clone(),
            reason: format!(
                "'{}' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DD HH:MM:SS, RFC 3339)",
                cell(cols.time)
            ),
        })?;
        let close = parse_num(path, line, "close", cell(cols.close))?;
        let get = |c: Option<usize>, name: &str| -> Result<f64, FeedError> {
            match c {
                Some(c) => parse_num(path, line, name, cell(c)),
                None => Ok(close),
            }
        };
        let open = get(cols.open, "open")?;
        let high = get(cols.high, "high")?;
        let low = get(cols.low, "low")?;
        if high < low || high < open.max(close) || low > open.min(close) {
            return Err(FeedError::File {
                path: path.to_path_buf(),
                line,
                column: "high".into(),
                reason: format!("high {high} and low {low} do not contain open {open} and close {close}"),
            });
        }
        let volume = match cols.volume {
            Some(c) => {
                let v = parse_num(path, line, "volume", cell(c))?;
                if v < 0.0 {
                    return Err(FeedError::File {
                        path: path.to_path_buf(),
                        line,
                        column: "volume".into(),
                        reason: format!("volume {v} is negative"),
                    });
                }
                v.round() as u64
            }
            None => 0,
        };
        if let Some(prev) = rows.last()
            && t <= prev.0
        {
            return Err(FeedError::File {
                path: path.to_path_buf(),
                line,
                column: cols.time_name.clone(),
                reason: format!(
                    "'{}' is not after the previous row: rows must be sorted by time with no duplicates",
                    cell(cols.time)
                ),
            });
        }
        rows.push((t, is_date, open, high, low, close, volume));
    }
    build_file(path, rows)
}

fn io_or_format(path: &Path, e: csv::Error) -> FeedError {
    if e.is_io_error() {
        match e.into_kind() {
            csv::ErrorKind::Io(source) => FeedError::Io { path: path.to_path_buf(), source },
            other => FeedError::Format { path: path.to_path_buf(), reason: format!("{other:?}") },
        }
    } else {
        FeedError::Format { path: path.to_path_buf(), reason: e.to_string() }
    }
}

/// Load a Parquet bar file with the same columns as the CSV form. The time column may be a
/// Date, a Datetime or a string.
///
/// # Errors
/// As [`load_csv`]; line numbers count data rows from 1.
pub fn load_parquet(path: &Path) -> Result<BarFile, FeedError> {
    use polars::prelude::*;
    let fmt_err = |reason: String| FeedError::Format { path: path.to_path_buf(), reason };
    let file = std::fs::File::open(path).map_err(|source| FeedError::Io { path: path.to_path_buf(), source })?;
    let df = ParquetReader::new(file).finish().map_err(|e| fmt_err(format!("not a readable Parquet file: {e}")))?;
    let header: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    let cols = find_columns(path, &header)?;
    let n = df.height();
    let columns = df.columns();
    let f64_col = |idx: usize, name: &str| -> Result<Vec<Option<f64>>, FeedError> {
        let s = columns[idx].as_materialized_series();
        let c = s.cast(&DataType::Float64).map_err(|e| fmt_err(format!("column '{name}' is not numeric: {e}")))?;
        let ca = c.f64().map_err(|e| fmt_err(format!("column '{name}': {e}")))?;
        Ok(ca.iter().collect())
    };
    let close = f64_col(cols.close, "close")?;
    let opt = |c: Option<usize>, name: &str| -> Result<Option<Vec<Option<f64>>>, FeedError> {
        c.map(|i| f64_col(i, name)).transpose()
    };
    let (open, high, low, volume) =
        (opt(cols.open, "open")?, opt(cols.high, "high")?, opt(cols.low, "low")?, opt(cols.volume, "volume")?);
    let time_series = columns[cols.time].as_materialized_series();
    let times: Vec<Option<(Timestamp, bool)>> = match time_series.dtype() {
        DataType::Date => {
            let c = time_series.cast(&DataType::Int32).map_err(|e| fmt_err(e.to_string()))?;
            let ca = c.i32().map_err(|e| fmt_err(e.to_string()))?;
            ca.iter().map(|d| d.map(|d| (Timestamp::from_secs(i64::from(d) * 86_400), true))).collect()
        }
        DataType::Datetime(unit, _) => {
            let per = match unit {
                TimeUnit::Nanoseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1_000_000,
            };
            let c = time_series.cast(&DataType::Int64).map_err(|e| fmt_err(e.to_string()))?;
            let ca = c.i64().map_err(|e| fmt_err(e.to_string()))?;
            ca.iter().map(|v| v.map(|v| (Timestamp(v * per), false))).collect()
        }
        DataType::String => {
            let ca = time_series.str().map_err(|e| fmt_err(e.to_string()))?;
            ca.iter().map(|s| s.and_then(parse_time)).collect()
        }
        other => {
            return Err(fmt_err(format!(
                "time column '{}' has type {other}; expected Date, Datetime or string",
                cols.time_name
            )));
        }
    };
    let mut rows: Vec<RawRow> = Vec::with_capacity(n);
    for i in 0..n {
        let line = i + 1;
        let bad = |column: &str, reason: &str| FeedError::File {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            reason: reason.to_string(),
        };
        let (t, is_date) = times[i].ok_or_else(|| bad(&cols.time_name, "missing or unparsable time"))?;
        let c = close[i].filter(|v| v.is_finite()).ok_or_else(|| bad("close", "missing or non-finite close"))?;
        let pick = |v: &Option<Vec<Option<f64>>>, name: &str| -> Result<f64, FeedError> {
            match v {
                Some(v) => v[i].filter(|x| x.is_finite()).ok_or_else(|| bad(name, "missing or non-finite value")),
                None => Ok(c),
            }
        };
        let (o, h, l) = (pick(&open, "open")?, pick(&high, "high")?, pick(&low, "low")?);
        if h < l || h < o.max(c) || l > o.min(c) {
            return Err(bad("high", &format!("high {h} and low {l} do not contain open {o} and close {c}")));
        }
        let v = match &volume {
            Some(v) => v[i]
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| bad("volume", "missing or negative volume"))?,
            None => 0.0,
        };
        if let Some(prev) = rows.last()
            && t <= prev.0
        {
            return Err(bad(
                &cols.time_name,
                "not after the previous row: rows must be sorted by time with no duplicates",
            ));
        }
        rows.push((t, is_date, o, h, l, c, v.round() as u64));
    }
    build_file(path, rows)
}

/// Load a CSV or Parquet bar file, chosen by extension (`.parquet`/`.pq` are Parquet).
///
/// # Errors
/// As [`load_csv`] and [`load_parquet`].
pub fn load_bar_file(path: &Path) -> Result<BarFile, FeedError> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("parquet" | "pq") => load_parquet(path),
        _ => load_csv(path),
    }
}

/// A feed that replays a bar file as a continuous front-month series of one market.
pub struct ReplayFeed {
    file: BarFile,
    series: SeriesId,
    next: usize,
    subscribed: bool,
}

impl ReplayFeed {
    /// Replay `file` as the continuous front-month series of `market`.
    pub fn new(file: BarFile, market: Market) -> Self {
        Self { file, series: SeriesId::Continuous { market, nth: 1 }, next: 0, subscribed: true }
    }

    /// The series this feed replays.
    pub fn series(&self) -> SeriesId {
        self.series
    }

    /// Bars replayed so far.
    pub fn position(&self) -> usize {
        self.next
    }

    /// Total bars in the file.
    pub fn len(&self) -> usize {
        self.file.bars.len()
    }

    /// Whether the file has no bars (never true for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.file.bars.is_empty()
    }
}

impl MarketFeed for ReplayFeed {
    fn kind(&self) -> FeedKind {
        FeedKind::Replay
    }

    fn status(&self) -> FeedStatus {
        if self.next >= self.file.bars.len() {
            FeedStatus::Disconnected { reason: format!("replay of {} finished", self.file.path.display()) }
        } else {
            FeedStatus::Replay
        }
    }

    fn name(&self) -> &'static str {
        "replay"
    }

    fn subscribe(&mut self, series: &[SeriesId]) -> Result<(), FeedError> {
        if let Some(s) = series.iter().find(|s| **s != self.series) {
            return Err(FeedError::Unsupported {
                feed: "replay",
                what: format!("series {s}: this file holds only {}", self.series),
            });
        }
        self.subscribed = true;
        Ok(())
    }

    fn unsubscribe(&mut self, series: &[SeriesId]) -> Result<(), FeedError> {
        if series.contains(&self.series) {
            self.subscribed = false;
        }
        Ok(())
    }

    fn request_history(&mut self, req: &HistoryRequest) -> Result<Vec<Bar>, FeedError> {
        if req.series != self.series || req.timeframe != self.file.timeframe {
            return Err(FeedError::Unsupported {
                feed: "replay",
                what: format!(
                    "history of {} {}: the file holds {} {}",
                    req.series,
                    req.timeframe.label(),
                    self.series,
                    self.file.timeframe.label()
                ),
            });
        }
        // Only bars already replayed: the replay never shows the future.
        Ok(self.file.bars[..self.next]
            .iter()
            .filter(|b| b.bar.start >= req.from && b.bar.start <= req.to)
            .map(|b| b.bar)
            .collect())
    }

    fn start_time(&self) -> Option<Timestamp> {
        self.file.bars.first().map(|b| b.ts)
    }

    fn next_event_time(&self) -> Option<Timestamp> {
        self.file.bars.get(self.next).map(|b| b.ts)
    }

    fn poll(&mut self, now: Timestamp, out: &mut Vec<MarketEvent>) -> FeedPoll {
        while let Some(b) = self.file.bars.get(self.next) {
            if b.ts > now {
                return FeedPoll::Pending;
            }
            if self.subscribed {
                out.push(MarketEvent::Bar { series: self.series, timeframe: self.file.timeframe, bar: b.bar });
            }
            self.next += 1;
        }
        FeedPoll::Ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn loads_close_only_daily_file() {
        let f = write("date,close\n2020-04-17,18.27\n2020-04-20,-37.63\n2020-04-21,10.01\n");
        let file = load_csv(f.path()).unwrap();
        assert_eq!(file.timeframe, Timeframe::D1);
        assert_eq!(file.bars.len(), 3);
        assert_eq!(file.bars[1].bar.close, -37.63);
        assert_eq!(file.bars[1].bar.high, -37.63);
    }

    #[test]
    fn replays_in_time_order_and_ends() {
        let f = write("Date,Open,High,Low,Close,Volume\n2024-01-02,70,72,69,71,100\n2024-01-03,71,73,70,72.5,200\n");
        let mut feed = ReplayFeed::new(load_csv(f.path()).unwrap(), Market::Wti);
        let t0 = feed.start_time().unwrap();
        let mut out = Vec::new();
        assert_eq!(feed.poll(t0, &mut out), FeedPoll::Pending);
        assert_eq!(out.len(), 1);
        assert_eq!(feed.status(), FeedStatus::Replay);
        let t1 = feed.next_event_time().unwrap();
        assert!(t1 > t0);
        assert_eq!(feed.poll(t1, &mut out), FeedPoll::Ended);
        assert_eq!(out.len(), 2);
        assert!(matches!(feed.status(), FeedStatus::Disconnected { .. }));
    }

    #[test]
    fn intraday_timeframe_is_inferred() {
        let f = write("datetime,close\n2024-01-02 14:00:00,70\n2024-01-02 14:05:00,71\n2024-01-02 14:10:00,72\n");
        assert_eq!(load_csv(f.path()).unwrap().timeframe, Timeframe::M5);
    }

    #[test]
    fn errors_name_line_and_column() {
        let f = write("date,close\n2024-01-02,70\n2024-01-03,abc\n");
        let e = load_csv(f.path()).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("'close'") && e.contains("abc"), "{e}");

        let f = write("date,close\n2024-01-03,70\n2024-01-02,71\n");
        let e = load_csv(f.path()).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("sorted"), "{e}");

        let f = write("date,price\n2024-01-03,70\n");
        assert!(load_csv(f.path()).unwrap_err().to_string().contains("'close'"));

        let f = write("date,close\n");
        assert!(load_csv(f.path()).unwrap_err().to_string().contains("no data rows"));

        let f = write("date,open,high,low,close\n2024-01-03,70,69,68,70\n");
        assert!(load_csv(f.path()).unwrap_err().to_string().contains("high"));

        let f = write("date,close\n2024-01-03,70,1\n");
        assert!(load_csv(f.path()).unwrap_err().to_string().contains("line 2"));

        let e = load_csv(Path::new("/nonexistent/x.csv")).unwrap_err();
        assert!(matches!(e, FeedError::Io { .. }), "{e:?}");
    }

    #[test]
    fn parquet_round_trip() {
        use polars::prelude::*;
        let mut df = df!(
            "date" => ["2024-01-02", "2024-01-03"],
            "close" => [70.5f64, 71.25],
            "volume" => [10i64, 20],
        )
        .unwrap();
        let f = tempfile::Builder::new().suffix(".parquet").tempfile().unwrap();
        ParquetWriter::new(std::fs::File::create(f.path()).unwrap()).finish(&mut df).unwrap();
        let file = load_bar_file(f.path()).unwrap();
        assert_eq!(file.bars.len(), 2);
        assert_eq!(file.bars[1].bar.close, 71.25);
        assert_eq!(file.bars[1].bar.volume, 20);
    }

    #[test]
    fn real_wti_history_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/wti_daily_fred.csv");
        let file = load_csv(&path).unwrap();
        assert_eq!(file.bars.len(), 8321);
        assert_eq!(file.timeframe, Timeframe::D1);
    }
}
