//! Daily simulation for the headless CLI (`crude simulate`): the same model as the live
//! feed, run at one-minute steps, summarised per trading date as front-month OHLCV bars and
//! settlement curves, and written as CSV files.
//!
//! # Files written by [`write_daily_csvs`]
//!
//! * `CL.csv`, `BZ.csv`, `RB.csv`, `HO.csv`: header `date,open,high,low,close,volume`, one
//!   row per trading date (ISO `YYYY-MM-DD`), the front-month continuous series: each row is
//!   the contract that is the front month on that date (so the series rolls on the day after
//!   each front month's last trading day). `open` is the price at the session open (18:00 ET
//!   the evening before), `high`/`low` the session's extremes, `close` the settlement,
//!   `volume` the session's traded lots. Prices carry the tick size's decimals (2 for $/bbl,
//!   4 for $/gal) and can be negative.
//! * `curve.csv`: header `date,market,m1,m2,…,mN` (N = `curve_months`), one row per trading
//!   date and market (in the order CL, BZ, RB, HO), holding the settlement prices of the
//!   front N contracts, front first.
//!
//! Every file is first written in full to a temporary file in the output directory; only
//! when all are written are they renamed into place, so a failure leaves no half-written
//! file behind.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crude_model::{Bar, ContractId, InventoryReport, Market, Timestamp};

use super::book::Grid;
use super::config::{SimConfig, SimError, check_start_date};
use super::core::Core;
use super::minutes::{MinuteRunner, MinuteSink};
use super::schedule::SessionSchedule;

/// Most trading dates [`simulate_daily`] accepts (about 80 years).
pub const MAX_DAILY_DAYS: usize = 20_000;

/// Latest date a daily simulation may reach.
const LAST_END_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2250, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// The start date the CLI uses when none is given: 2024-01-02, the first trading date of
/// 2024.
pub fn default_start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or(NaiveDate::MIN)
}

/// One trading date of a contract: open, high, low, settlement and volume (lots).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyBar {
    /// The trading date.
    pub date: NaiveDate,
    /// The contract (the front month on `date` for the front-month series).
    pub contract: ContractId,
    /// Price at the session open (18:00 ET the evening before).
    pub open: f64,
    /// Session high.
    pub high: f64,
    /// Session low.
    pub low: f64,
    /// The settlement price.
    pub close: f64,
    /// Lots traded in the session.
    pub volume: u64,
}

/// One market's settlement curve on one trading date.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyCurve {
    /// The trading date.
    pub date: NaiveDate,
    /// The market.
    pub market: Market,
    /// Contracts, front first.
    pub contracts: Vec<ContractId>,
    /// Their settlement prices.
    pub settlements: Vec<f64>,
}

/// Result of [`simulate_daily`].
#[derive(Debug, Clone, PartialEq)]
pub struct DailySimulation {
    /// The configuration that produced it.
    pub config: SimConfig,
    /// The trading dates, in order.
    pub dates: Vec<NaiveDate>,
    /// Per market (in [`Market::ALL`] order), the front-month bar of each date.
    pub front: Vec<(Market, Vec<DailyBar>)>,
    /// Per date, the settlement curve of each market (date-major, markets in
    /// [`Market::ALL`] order).
    pub curves: Vec<DailyCurve>,
    /// The weekly inventory reports released over the period.
    pub inventory: Vec<InventoryReport>,
}

impl DailySimulation {
    /// The front-month bars of one market.
    pub fn front_bars(&self, market: Market) -> &[DailyBar] {
        self.front.iter().find(|(m, _)| *m == market).map_or(&[], |(_, bars)| bars.as_slice())
    }

    /// The settlement curves of one market, one per date.
    pub fn curves_of(&self, market: Market) -> impl Iterator<Item = &DailyCurve> {
        self.curves.iter().filter(move |c| c.market == market)
    }
}

/// Session accumulator of one market's front month.
#[derive(Debug, Clone, Copy)]
struct FrontAcc {
    open: f64,
    high: f64,
    low: f64,
    volume: u64,
    seen: bool,
}

impl FrontAcc {
    const EMPTY: Self = Self { open: 0.0, high: f64::NEG_INFINITY, low: f64::INFINITY, volume: 0, seen: false };
}

/// Builds the daily summary from the minute runner's output.
struct DailySink {
    acc: [FrontAcc; 4],
    sim: DailySimulation,
}

impl MinuteSink for DailySink {
    fn tracks(&self, core: &Core, slot: usize) -> bool {
        core.slots[slot].tenor == 0
    }

    fn bar(&mut self, core: &Core, slot: usize, bar: Bar) {
        let a = &mut self.acc[core.slots[slot].id.market.index()];
        if !a.seen {
            a.open = bar.open;
            a.seen = true;
        }
        a.high = a.high.max(bar.high);
        a.low = a.low.min(bar.low);
        a.volume += bar.volume;
    }

    fn inventory(&mut self, report: InventoryReport) {
        self.sim.inventory.push(report);
    }

    fn settlement(&mut self, core: &Core, _ts: Timestamp, settlements: &[(ContractId, f64)]) {
        let date = core.sched.trading_date;
        self.sim.dates.push(date);
        for market in Market::ALL {
            let range = core.market_slots(market);
            let a = std::mem::replace(&mut self.acc[market.index()], FrontAcc::EMPTY);
            if let Some(&(contract, close)) = settlements.get(range.start) {
                let open = if a.seen { a.open } else { close };
                let bar = DailyBar {
                    date,
                    contract,
                    open,
                    high: a.high.max(open).max(close),
                    low: a.low.min(open).min(close),
                    close,
                    volume: a.volume,
                };
                if let Some((_, bars)) = self.sim.front.iter_mut().find(|(m, _)| *m == market) {
                    bars.push(bar);
                }
            }
            let (contracts, prices) = range.filter_map(|k| settlements.get(k).copied()).unzip();
            self.sim.curves.push(DailyCurve { date, market, contracts, settlements: prices });
        }
    }
}

/// Simulates `days` trading dates from the first trading date on or after `start_date`,
/// driving the same model as the live feed at one-minute steps, and summarises each date.
///
/// # Errors
/// [`SimError::InvalidConfig`] when `cfg` does not validate; [`SimError::InvalidArgument`]
/// unless `1 <= days <= MAX_DAILY_DAYS`, `start_date` is in the years
/// [`FIRST_START_YEAR`](super::FIRST_START_YEAR)..=[`LAST_START_YEAR`](super::LAST_START_YEAR)
/// and the run ends before 2251.
pub fn simulate_daily(cfg: &SimConfig, start_date: NaiveDate, days: usize) -> Result<DailySimulation, SimError> {
    cfg.validate()?;
    check_start_date("start_date", start_date)?;
    // Trading dates advance about 1.45 calendar days each (weekends, holidays); keep the run
    // well inside the nanosecond time-stamp range (to 2262).
    let span_days = u64::try_from(days).unwrap_or(u64::MAX).saturating_mul(3) / 2 + 30;
    let end = start_date.checked_add_days(chrono::Days::new(span_days));
    if end.is_none_or(|e| e > LAST_END_DATE) {
        return Err(SimError::InvalidArgument {
            name: "days",
            value: days.to_string(),
            expected: format!("few enough trading days after {start_date} to end before {LAST_END_DATE}"),
        });
    }
    if !(1..=MAX_DAILY_DAYS).contains(&days) {
        return Err(SimError::InvalidArgument {
            name: "days",
            value: days.to_string(),
            expected: format!("a number of trading days in 1..={MAX_DAILY_DAYS}"),
        });
    }
    let first = SessionSchedule::on_or_after(start_date);
    let mut core = Core::new(cfg, first.open)?;
    let mut runner = MinuteRunner::new(cfg.seed);
    let mut sink = DailySink {
        acc: [FrontAcc::EMPTY; 4],
        sim: DailySimulation {
            config: cfg.clone(),
            dates: Vec::with_capacity(days),
            front: Market::ALL.iter().map(|&m| (m, Vec::with_capacity(days))).collect(),
            curves: Vec::with_capacity(days * 4),
            inventory: Vec::new(),
        },
    };
    for _ in 0..days {
        runner.finish_session(&mut core, &mut sink);
    }
    Ok(sink.sim)
}

/// The tick grid of a market under a config.
fn grid_of(cfg: &SimConfig, market: Market) -> Grid {
    Grid::new(if market.quoted_per_gallon() { cfg.tick_size_products_usd_gal } else { cfg.tick_size_crude_usd_bbl })
}

/// The CSV text of one market's front-month series.
fn front_csv(sim: &DailySimulation, market: Market) -> String {
    let dp = grid_of(&sim.config, market).decimals;
    let mut s = String::from("date,open,high,low,close,volume\n");
    for b in sim.front_bars(market) {
        // Writing to a String cannot fail.
        let _ = writeln!(s, "{},{:.dp$},{:.dp$},{:.dp$},{:.dp$},{}", b.date, b.open, b.high, b.low, b.close, b.volume);
    }
    s
}

/// The CSV text of the settlement curves.
fn curve_csv(sim: &DailySimulation) -> String {
    let n = sim.curves.iter().map(|c| c.settlements.len()).max().unwrap_or(0);
    let mut s = String::from("date,market");
    for k in 1..=n {
        let _ = write!(s, ",m{k}");
    }
    s.push('\n');
    for c in &sim.curves {
        let dp = grid_of(&sim.config, c.market).decimals;
        let _ = write!(s, "{},{}", c.date, c.market.code());
        for k in 0..n {
            match c.settlements.get(k) {
                Some(p) => {
                    let _ = write!(s, ",{p:.dp$}");
                }
                None => s.push(','),
            }
        }
        s.push('\n');
    }
    s
}

/// Writes `CL.csv`, `BZ.csv`, `RB.csv`, `HO.csv` and `curve.csv` (layouts in the module
/// docs) into `out_dir`, creating it if needed, and returns their paths. Each file is
/// written to a temporary file first and renamed into place only after all five are
/// complete.
///
/// # Errors
/// [`SimError::Io`] naming the directory or file that could not be created or written.
pub fn write_daily_csvs(sim: &DailySimulation, out_dir: &Path) -> Result<Vec<PathBuf>, SimError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| SimError::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let mut files: Vec<(PathBuf, String)> =
        Market::ALL.iter().map(|&m| (out_dir.join(format!("{}.csv", m.code())), front_csv(sim, m))).collect();
    files.push((out_dir.join("curve.csv"), curve_csv(sim)));
    let mut staged = Vec::with_capacity(files.len());
    for (path, text) in files {
        let mut tmp = tempfile::Builder::new()
            .prefix(".crude-sim-")
            .suffix(".tmp")
            .tempfile_in(out_dir)
            .map_err(io_err(out_dir))?;
        tmp.write_all(text.as_bytes()).map_err(io_err(&path))?;
        tmp.as_file().sync_all().map_err(io_err(&path))?;
        staged.push((path, tmp));
    }
    let mut written = Vec::with_capacity(staged.len());
    for (path, tmp) in staged {
        tmp.persist(&path).map_err(|e| SimError::Io { path: path.clone(), source: e.error })?;
        written.push(path);
    }
    Ok(written)
}
