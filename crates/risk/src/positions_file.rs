//! Portfolio mode of `crude risk`: a positions file and a price-history file in, the Risk
//! panel's figures ([`RiskSnapshot`]) out as JSON.
//!
//! ```text
//! crude risk --positions FILE --history FILE --json [--nav USD] [--confidence 0.95,0.99]
//!            [--window N|all] [--method sample|ewma|ewma:LAMBDA] [--seed N]
//!            [--limits FILE] [--scenarios FILE]
//! ```
//!
//! # Positions file (CSV)
//!
//! A header row, then one position per row; columns are found by name (any order, any
//! case), blank lines and lines starting with `#` are skipped.
//!
//! | column | required | meaning |
//! | --- | --- | --- |
//! | `contract` | yes | the futures contract: `CLZ6`, `CLZ26`, `CL 202612`, `BZF27`, or a generic (`CL1`, `HO2`) resolved on the history's last date |
//! | `qty` | yes | signed whole contracts (negative = short) |
//! | `price` | yes | current price of the **future** ($/bbl for CL/BZ, $/gal for RB/HO; negative allowed) |
//! | `strategy` | no | strategy tag (default `default`) |
//! | `option_type` | no | `call` or `put` for an option on the future; blank for the future itself |
//! | `strike` | with `option_type` | strike, > 0 |
//! | `expiry` | with `option_type` | years to expiry (`0.25`) or the expiry date (`2026-11-17`, counted from the history's last date, 365 days a year) |
//! | `vol` | with `option_type` | volatility a year as a fraction (`0.35`) |
//! | `rate` | no | interest rate for discounting options (default 0) |
//! | `avg_price` | no | average entry price (default: the price, or the option's premium) |
//!
//! Example:
//!
//! ```text
//! contract,qty,price,strategy,option_type,strike,expiry,vol
//! CLZ6,10,71.35,trend,,,,
//! BZF7,-5,75.10,spread,,,,
//! CLZ6,-4,71.35,hedge,put,65,0.2,0.38
//! ```
//!
//! # History file (CSV)
//!
//! `date,<series>,<series>…`: one row per day (ISO `YYYY-MM-DD`, strictly increasing),
//! one column of daily prices per series. A series header is a contract (`CLZ6`, `CLZ26`,
//! `CL 202612`), a generic (`CL1`, `CL2`: that listed contract on the last date) or a bare
//! market code (`CL`, `BZ`, `RB`, `HO`: the market's front contract on the last date).
//! Prices inside the window must be strictly positive (log returns). A position whose
//! contract has no column is priced off its market's nearest column (the snapshot's
//! `proxied` list says which).
//!
//! # Output
//!
//! The JSON of [`RiskSnapshot`] for the book on the history's last date, without the
//! wall-clock field `compute_ms`. Bad input is an error naming the file, line and column
//! (exit code 2).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::Value;

use crude_model::{ContractId, Market, Symbol, Timestamp, contract_multiplier, parse_symbol};

use crate::black76::OptionType;
use crate::book::{BookPosition, OptionLeg, PnlState, RiskBook};
use crate::engine::{RiskEngine, RiskEngineConfig, RiskSnapshot};
use crate::limits::{LimitsError, RiskLimits};
use crate::portfolio::{CovarianceMethod, PortfolioRiskConfig, ReturnHistory};
use crate::series::{DEFAULT_SEED, Window, validate_confidences};
use crate::stress::{Sliders, StressError, builtin_scenarios, load_scenarios};
use crate::{DEFAULT_PORTFOLIO_WINDOW, RiskError};

/// NAV used when `--nav` is not given, USD (the default limits are sized for it).
pub const DEFAULT_NAV_USD: f64 = 50_000_000.0;

/// Errors of the portfolio mode: bad files or arguments (exit code 2) or a failed
/// computation (exit code 1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PortfolioFileError {
    /// A positions, history or argument error.
    #[error(transparent)]
    Risk(#[from] RiskError),
    /// An invalid limits file or environment override.
    #[error(transparent)]
    Limits(#[from] LimitsError),
    /// An invalid scenarios file.
    #[error(transparent)]
    Stress(#[from] StressError),
}

impl PortfolioFileError {
    /// The process exit code: 2 for bad input, 1 for a failed computation.
    pub fn exit_code(&self) -> i32 {
        match self {
            PortfolioFileError::Risk(e) => e.exit_code(),
            PortfolioFileError::Limits(_) | PortfolioFileError::Stress(_) => 2,
        }
    }
}

/// A price history read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceHistory {
    /// The file.
    pub path: PathBuf,
    /// The series' contracts, in column order.
    pub contracts: Vec<ContractId>,
    /// The column headers as written.
    pub headers: Vec<String>,
    /// Row dates, oldest first.
    pub dates: Vec<NaiveDate>,
    /// `prices[t][i]`: series `i` on day `t`.
    pub prices: Vec<Vec<f64>>,
    /// 1-based file line of each row.
    pub lines: Vec<u64>,
}

impl PriceHistory {
    /// The last date.
    pub fn last_date(&self) -> Option<NaiveDate> {
        self.dates.last().copied()
    }

    /// Log returns over the last `window` returns.
    ///
    /// # Errors
    /// [`RiskError::TooFewPrices`] for fewer than 2 rows;
    /// [`RiskError::WindowTooLarge`] when the file is too short;
    /// [`RiskError::NonPositivePrice`] naming the line, date and column of a price
    /// `≤ 0` inside the window.
    pub fn returns(&self, window: Window) -> Result<ReturnHistory, RiskError> {
        let n_prices = self.prices.len();
        if n_prices < 2 {
            return Err(RiskError::TooFewPrices { path: self.path.clone(), got: n_prices });
        }
        let available = n_prices - 1;
        let first = match window {
            Window::All => 0,
            Window::Last(w) if w <= available => n_prices - 1 - w,
            Window::Last(w) => {
                return Err(RiskError::WindowTooLarge { window: w, needed: w + 1, prices: n_prices, available });
            }
        };
        for t in first..n_prices {
            if let Some(i) = self.prices[t].iter().position(|&p| p <= 0.0) {
                return Err(RiskError::NonPositivePrice {
                    path: self.path.clone(),
                    line: self.lines[t],
                    date: self.dates[t].to_string(),
                    column: self.headers[i].clone(),
                    price: self.prices[t][i],
                });
            }
        }
        let days: Vec<Vec<f64>> = (first + 1..n_prices)
            .map(|t| self.prices[t].iter().zip(&self.prices[t - 1]).map(|(a, b)| (a / b).ln()).collect())
            .collect();
        ReturnHistory::new(self.contracts.clone(), &days)
    }
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(bytes)
}

fn csv_error(path: &Path, e: &csv::Error) -> RiskError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!(
                "the row has {len} fields but the header has {expected_len}; give every row one field per column (empty fields are allowed where optional)"
            )
        }
        _ => format!("{e}"),
    };
    RiskError::Csv { path: path.to_path_buf(), line, message }
}

fn field_error(path: &Path, line: u64, column: &str, value: &str, fix: &str) -> RiskError {
    RiskError::Csv { path: path.to_path_buf(), line, message: format!("column '{column}': '{value}' {fix}") }
}

/// A series header: contract, generic or market code, resolved on `date`.
fn parse_series(header: &str, date: NaiveDate) -> Option<ContractId> {
    if let Ok(m) = Market::parse_root(header) {
        return Some(m.front_contract(date));
    }
    parse_symbol(header, date).ok().map(|s| s.resolve(date))
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let day = s.split(['T', ' ']).next().unwrap_or(s);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// Reads a history file (see the module documentation).
///
/// # Errors
/// [`RiskError::Io`], [`RiskError::Csv`] (broken CSV or a bad series header, with
/// the line and column), [`RiskError::MissingColumn`] without `date`,
/// [`RiskError::BadDate`], [`RiskError::BadNumber`], [`RiskError::UnsortedDates`],
/// [`RiskError::TooFewPrices`].
pub fn read_history(path: &Path) -> Result<PriceHistory, RiskError> {
    let bytes = std::fs::read(path).map_err(|e| RiskError::Io { path: path.to_path_buf(), message: e.to_string() })?;
    let mut reader = csv_reader(&bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let Some(date_col) = header.iter().position(|h| h.eq_ignore_ascii_case("date")) else {
        return Err(RiskError::MissingColumn {
            path: path.to_path_buf(),
            wanted: "date",
            found: header.join(","),
            fix: "the first line must be a header such as date,CL,BZ or date,CLZ6,CLF7",
        });
    };
    let series_cols: Vec<usize> = (0..header.len()).filter(|&i| i != date_col).collect();
    if series_cols.is_empty() {
        return Err(RiskError::MissingColumn {
            path: path.to_path_buf(),
            wanted: "price series",
            found: header.join(","),
            fix: "add one column of daily prices per contract or market, such as date,CL,BZ",
        });
    }
    let mut dates = Vec::new();
    let mut prices = Vec::new();
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = record.get(date_col).unwrap_or("");
        let date = parse_date(cell).ok_or_else(|| RiskError::BadDate {
            path: path.to_path_buf(),
            line,
            column: header[date_col].clone(),
            value: cell.to_string(),
        })?;
        if let (Some(&prev), Some(&prev_line)) = (dates.last(), lines.last())
            && date <= prev
        {
            return Err(RiskError::UnsortedDates {
                path: path.to_path_buf(),
                line,
                date: date.to_string(),
                relation: if date == prev { "the same as" } else { "earlier than" },
                previous: NaiveDate::to_string(&prev),
                previous_line: prev_line,
            });
        }
        let mut row = Vec::with_capacity(series_cols.len());
        for &i in &series_cols {
            let v = record.get(i).unwrap_or("");
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => row.push(x),
                _ => {
                    return Err(RiskError::BadNumber {
                        path: path.to_path_buf(),
                        line,
                        column: header[i].clone(),
                        value: v.to_string(),
                    });
                }
            }
        }
        dates.push(date);
        prices.push(row);
        lines.push(line);
    }
    if dates.len() < 2 {
        return Err(RiskError::TooFewPrices { path: path.to_path_buf(), got: dates.len() });
    }
    let last = dates[dates.len() - 1];
    let mut contracts = Vec::with_capacity(series_cols.len());
    for &i in &series_cols {
        let Some(c) = parse_series(&header[i], last) else {
            return Err(field_error(
                path,
                1,
                &header[i],
                &header[i],
                "is not a contract or market; name series like CL, BZ, CL1, CLZ6, CLZ26 or CL 202612",
            ));
        };
        if let Some(j) = contracts.iter().position(|x| *x == c) {
            return Err(field_error(
                path,
                1,
                &header[i],
                &header[i],
                &format!(
                    "names the same contract ({c}) as column '{}' on {last}; keep one column per contract",
                    header[series_cols[j]]
                ),
            ));
        }
        contracts.push(c);
    }
    Ok(PriceHistory {
        path: path.to_path_buf(),
        contracts,
        headers: series_cols.iter().map(|&i| header[i].clone()).collect(),
        dates,
        prices,
        lines,
    })
}

/// Reads a positions file (see the module documentation); contracts with one-digit years,
/// generics and expiry dates resolve against `as_of`.
///
/// # Errors
/// [`RiskError::Io`], [`RiskError::MissingColumn`] for a missing `contract`, `qty` or
/// `price` column, and [`RiskError::Csv`] / [`RiskError::BadNumber`] naming the line
/// and column of any bad field.
pub fn read_positions(path: &Path, as_of: NaiveDate) -> Result<Vec<BookPosition>, RiskError> {
    let bytes = std::fs::read(path).map_err(|e| RiskError::Io { path: path.to_path_buf(), message: e.to_string() })?;
    let mut reader = csv_reader(&bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let required = |name: &'static str| {
        col(name).ok_or_else(|| RiskError::MissingColumn {
            path: path.to_path_buf(),
            wanted: name,
            found: header.join(","),
            fix: "the header must name contract,qty,price (then optionally strategy,option_type,strike,expiry,vol,rate,avg_price)",
        })
    };
    let (c_contract, c_qty, c_price) = (required("contract")?, required("qty")?, required("price")?);
    let known = ["contract", "qty", "price", "strategy", "option_type", "strike", "expiry", "vol", "rate", "avg_price"];
    if let Some(h) = header.iter().find(|h| !known.contains(&h.as_str())) {
        return Err(field_error(
            path,
            1,
            h,
            h,
            &format!("is not a positions column; the columns are {}", known.join(", ")),
        ));
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let number = |name: &str, i: Option<usize>| -> Result<Option<f64>, RiskError> {
            let v = get(i);
            if v.is_empty() {
                return Ok(None);
            }
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(RiskError::BadNumber {
                    path: path.to_path_buf(),
                    line,
                    column: name.to_string(),
                    value: v.to_string(),
                }),
            }
        };
        let text = get(Some(c_contract));
        let contract = match parse_symbol(text, as_of) {
            Ok(Symbol::Specific(c)) => c,
            Ok(g @ Symbol::Generic { .. }) => g.resolve(as_of),
            Err(e) => return Err(field_error(path, line, "contract", text, &format!("is not a contract: {e}"))),
        };
        let qty_text = get(Some(c_qty));
        let qty: i64 = qty_text.parse().map_err(|_| {
            field_error(path, line, "qty", qty_text, "is not a whole number of contracts; write e.g. 10 or -5")
        })?;
        let price = number("price", Some(c_price))?
            .ok_or_else(|| field_error(path, line, "price", "", "is empty; give the future's current price"))?;
        let strategy = match get(col("strategy")) {
            "" => "default".to_string(),
            s => s.to_string(),
        };
        let kind_text = get(col("option_type"));
        let option = if kind_text.is_empty() {
            for name in ["strike", "expiry", "vol"] {
                if !get(col(name)).is_empty() {
                    return Err(field_error(
                        path,
                        line,
                        name,
                        get(col(name)),
                        "is set but option_type is empty; give option_type (call or put) or leave the option columns empty",
                    ));
                }
            }
            None
        } else {
            let kind: OptionType = kind_text.parse().map_err(|_| {
                field_error(path, line, "option_type", kind_text, "is not an option type; write call or put")
            })?;
            let need = |name: &'static str| -> Result<f64, RiskError> {
                number(name, col(name))?.ok_or_else(|| {
                    field_error(
                        path,
                        line,
                        name,
                        "",
                        &format!("is empty; an option needs its {name} (see the positions file layout)"),
                    )
                })
            };
            let strike = need("strike")?;
            let expiry_text = get(col("expiry"));
            let expiry_years = if let Some(d) = parse_date(expiry_text).filter(|_| expiry_text.contains('-')) {
                (d - as_of).num_days() as f64 / 365.0
            } else {
                need("expiry")?
            };
            let vol = need("vol")?;
            let rate = number("rate", col("rate"))?.unwrap_or(0.0);
            let leg = OptionLeg { kind, strike, expiry_years, vol, rate };
            leg.validate(&format!("line {line}")).map_err(|e| {
                let (column, value, reason) = match &e {
                    RiskError::BadArgument { argument, value, reason } => {
                        let column = if *argument == "expiry_years" { "expiry" } else { argument };
                        (column.to_string(), value.clone(), reason.clone())
                    }
                    other => ("option".to_string(), String::new(), other.to_string()),
                };
                field_error(path, line, &column, &value, &format!("is out of range: {reason}"))
            })?;
            Some(leg)
        };
        let mut p = match option {
            None => BookPosition::future(contract, qty, price, &strategy),
            Some(leg) => BookPosition::option(contract, qty, price, leg, &strategy),
        };
        p.multiplier = contract_multiplier(contract.market);
        if let Some(avg) = number("avg_price", col("avg_price"))? {
            p.avg_price = avg;
        }
        out.push(p);
    }
    Ok(out)
}

/// Parses `--method`: `sample`, `ewma` (λ = 0.94) or `ewma:LAMBDA`.
///
/// # Errors
/// [`RiskError::BadArgument`] for anything else.
pub fn parse_covariance_method(s: &str) -> Result<CovarianceMethod, RiskError> {
    let t = s.trim().to_ascii_lowercase();
    let bad = || RiskError::BadArgument {
        argument: "--method",
        value: s.to_string(),
        reason: "expected sample, ewma (lambda 0.94) or ewma:LAMBDA with 0 < LAMBDA < 1, such as ewma:0.97".to_string(),
    };
    match t.as_str() {
        "sample" => Ok(CovarianceMethod::Sample),
        "ewma" => Ok(CovarianceMethod::Ewma { lambda: crude_analytics::RISKMETRICS_LAMBDA }),
        _ => {
            let lambda: f64 = t.strip_prefix("ewma:").ok_or_else(bad)?.parse().map_err(|_| bad())?;
            if lambda > 0.0 && lambda < 1.0 { Ok(CovarianceMethod::Ewma { lambda }) } else { Err(bad()) }
        }
    }
}

/// The arguments of the portfolio mode.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioArgs {
    /// Positions file.
    pub positions: PathBuf,
    /// History file.
    pub history: PathBuf,
    /// NAV, USD (default [`DEFAULT_NAV_USD`]).
    pub nav_usd: f64,
    /// Confidence levels.
    pub confidences: Vec<f64>,
    /// Returns used (default the last [`DEFAULT_PORTFOLIO_WINDOW`]).
    pub window: Window,
    /// Covariance estimator.
    pub covariance: CovarianceMethod,
    /// Monte Carlo seed.
    pub seed: u64,
    /// Limits file (`None`: the built-in defaults).
    pub limits: Option<PathBuf>,
    /// User scenarios file, run after the built-in ones (`None`: built-in only).
    pub scenarios: Option<PathBuf>,
}

impl PortfolioArgs {
    /// Defaults for the two files.
    pub fn new(positions: PathBuf, history: PathBuf) -> Self {
        Self {
            positions,
            history,
            nav_usd: DEFAULT_NAV_USD,
            confidences: vec![0.95, 0.99],
            window: Window::Last(DEFAULT_PORTFOLIO_WINDOW),
            covariance: CovarianceMethod::Sample,
            seed: DEFAULT_SEED,
            limits: None,
            scenarios: None,
        }
    }
}

/// Computes the snapshot of the portfolio mode; `env` supplies the limits' environment
/// overrides (`|k| std::env::var(k).ok()` in the binary).
///
/// # Errors
/// [`PortfolioFileError`] naming the file, line and column or the argument at fault.
pub fn portfolio_snapshot(
    args: &PortfolioArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RiskSnapshot, PortfolioFileError> {
    validate_confidences(&args.confidences)?;
    let history = read_history(&args.history)?;
    let returns = history.returns(args.window)?;
    let as_of = history.last_date().ok_or(RiskError::TooFewPrices { path: args.history.clone(), got: 0 })?;
    let positions = read_positions(&args.positions, as_of)?;
    let limits = match &args.limits {
        Some(p) => RiskLimits::load(p)?,
        None => RiskLimits::default(),
    }
    .with_env(env)?;
    let mut scenarios = builtin_scenarios();
    if let Some(p) = &args.scenarios {
        scenarios.extend(load_scenarios(p)?);
    }
    let mut portfolio = PortfolioRiskConfig::new(args.nav_usd);
    portfolio.window_days = returns.days();
    portfolio.confidences = args.confidences.clone();
    portfolio.covariance = args.covariance;
    portfolio.seed = args.seed;
    let config = RiskEngineConfig { portfolio, limits, scenarios, ..RiskEngineConfig::new(args.nav_usd) };
    let engine = RiskEngine::new(config, &returns)?;
    let book =
        RiskBook { as_of: Timestamp::from_date(as_of), nav_usd: args.nav_usd, positions, pnl: PnlState::default() };
    Ok(engine.snapshot(&book, &Sliders::default())?)
}

/// The JSON of [`portfolio_snapshot`] without the wall-clock `compute_ms`.
///
/// # Errors
/// As [`portfolio_snapshot`].
pub fn run_risk_portfolio(
    args: &PortfolioArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Value, PortfolioFileError> {
    let snapshot = portfolio_snapshot(args, env)?;
    let mut v = serde_json::to_value(&snapshot)
        .map_err(|e| RiskError::Computation { what: "JSON output", reason: e.to_string() })?;
    if let Some(obj) = v.as_object_mut() {
        obj.remove("compute_ms");
    }
    contracts_as_codes(&mut v);
    Ok(v)
}

/// Writes every contract in `v` as its exchange code (`"CLF7"`, as the trading CLI's JSON
/// does) instead of serde's `{"market": …, "month": {…}}` object.
fn contracts_as_codes(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let is_contract = map.len() == 2 && map.contains_key("market") && map.contains_key("month");
            if is_contract && let Ok(c) = serde_json::from_value::<ContractId>(Value::Object(map.clone())) {
                *v = Value::String(c.to_string());
                return;
            }
            map.values_mut().for_each(contracts_as_codes);
        }
        Value::Array(items) => items.iter_mut().for_each(contracts_as_codes),
        _ => {}
    }
}
