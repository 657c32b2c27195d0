//! Command-line interface (clap). `crude` alone opens the desktop app on the simulator;
//! subcommands run headless and print machine-readable output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use crude_app::{CrudeApp, STATE_KEY, UiState, ViewModelConfig};
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_feeds::{MarketFeed, ReplayFeed, SimFeed, Speed, load_bar_file};
use crude_kernel::paper::PaperRisk;
use crude_kernel::services::curve::CurveServiceConfig;
use crude_kernel::services::risk::{RiskHistorySource, RiskServiceConfig};
use crude_kernel::services::signals::SignalsServiceConfig;
use crude_kernel::{KernelConfig, LiveKernel};
use crude_model::{Clock, LiveClock, Market};

use crate::settings;

/// Exit code for bad input (arguments, files, config).
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "crude",
    version,
    about = "Crude: a desktop trading terminal for oil futures (WTI, Brent, RBOB gasoline, heating oil).",
    long_about = "Crude: a desktop trading terminal for oil futures (WTI, Brent, RBOB gasoline, heating oil).\n\n\
With no subcommand, opens the desktop app on the built-in market simulator (labelled SIMULATED) \
or on a replayed bar file (labelled REPLAY). Subcommands run headless for scripts and quants.\n\n\
Every option can also be set in the environment or in a .env file (see .env.example)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Data feed for the app: `sim` (the market simulator) or `replay` (a bar file, see --file).
    #[arg(long, env = "CRUDE_FEED", value_enum, default_value_t = FeedArg::Sim)]
    feed: FeedArg,

    /// CSV or Parquet bar file to replay with `--feed replay` (columns: date[,open,high,low],close[,volume]).
    #[arg(long, env = "CRUDE_REPLAY_FILE")]
    file: Option<PathBuf>,

    /// Market the replayed file belongs to: CL, BZ, RB or HO.
    #[arg(long, env = "CRUDE_REPLAY_MARKET", default_value = "CL", value_parser = parse_market)]
    market: Market,

    /// Feed speed: a multiple of real time (1 = real time, 60 = a minute per second) or `max`.
    /// Default: 1 for the simulator, 86400 (a trading day per second) for a daily replay.
    #[arg(long, allow_negative_numbers = true, env = "CRUDE_SPEED", value_parser = parse_speed)]
    speed: Option<Speed>,

    /// Simulator seed: the same seed gives the same market.
    #[arg(long, allow_negative_numbers = true, env = "CRUDE_SEED", default_value_t = 42)]
    seed: u64,

    /// Sessions of simulated history loaded when the app opens (charts start full).
    #[arg(long, allow_negative_numbers = true, env = "CRUDE_HISTORY_DAYS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=60))]
    history_days: u32,

    /// Simulator settings file (YAML); default `config/simulator.yaml` when present.
    #[arg(long, env = "CRUDE_SIM_CONFIG")]
    sim_config: Option<PathBuf>,

    /// Stress mode: total simulated ticks per second across all contracts (e.g. 10000).
    #[arg(long, allow_negative_numbers = true)]
    stress_rate: Option<f64>,

    /// Bars kept per series and timeframe (older bars are dropped).
    #[arg(long, allow_negative_numbers = true, env = "CRUDE_MAX_BARS", default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(100..=5_000_000))]
    max_bars: u64,

    /// SQLite database for the app's orders, fills and audit log; default `crude.db` in the user data directory.
    #[arg(long, env = "CRUDE_DB")]
    db: Option<PathBuf>,

    /// Risk limits file (validated; the Risk panel saves edits back to it); default
    /// `config/risk_limits.yaml`, else `risk_limits.yaml` in the user data directory, else the
    /// built-in limits. Env overrides: MAX_VAR_LIMIT, MAX_GROSS_EXPOSURE, … (see .env.example).
    #[arg(long, env = "CRUDE_RISK_LIMITS", global = true)]
    risk_limits: Option<PathBuf>,

    /// Daily prices behind the VaR check and the Risk panel (CSV `date,CL1,CL2,…,BZ1,…`);
    /// default with the simulator (and for `crude trade`): the simulator's own daily history
    /// (labelled simulated).
    #[arg(long, env = "CRUDE_RISK_HISTORY", global = true)]
    risk_history: Option<PathBuf>,

    /// Net asset value of the book, USD, for VaR as % of NAV.
    #[arg(long, allow_negative_numbers = true, env = "CRUDE_NAV_USD", default_value_t = 50_000_000.0, global = true)]
    nav_usd: f64,

    /// Signal engine settings (YAML, validated: a bad field is named and nothing runs) for the
    /// app's Signals panel and `crude signals`; default `config/signals.yaml` when present,
    /// else the built-in defaults (equal to the shipped file).
    #[arg(long, env = "CRUDE_SIGNALS_CONFIG", global = true)]
    signals_config: Option<PathBuf>,

    /// Trading settings (paper broker, validation, durability); default `config/trading.yaml` when present.
    #[arg(long, env = "CRUDE_TRADING_CONFIG", global = true)]
    trading_config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FeedArg {
    Sim,
    Replay,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the market simulator headless and write daily OHLCV per front-month market
    /// (CL.csv, BZ.csv, RB.csv, HO.csv: date,open,high,low,close,volume) and curve.csv.
    Simulate {
        /// Trading days to simulate.
        #[arg(long, allow_negative_numbers = true, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=20_000))]
        days: u64,
        /// Seed: the same seed gives the same market.
        #[arg(long, allow_negative_numbers = true, default_value_t = 42)]
        seed: u64,
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// First trading date (YYYY-MM-DD).
        #[arg(long, default_value = "2024-01-02")]
        start: NaiveDate,
        /// Simulator settings file (YAML); default `config/simulator.yaml` when present.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Compute TA-Lib-exact indicators over a CSV of bars (`date,close` or
    /// `date,open,high,low,close[,volume]`). Default columns: date,sma_20,ema_20,rsi_14,
    /// macd_12_26_9,macd_signal_12_26_9,macd_hist_12_26_9,bb_upper_20_2,bb_middle_20_2,
    /// bb_lower_20_2, plus atr_14,adx_14 when high and low are present. An empty cell
    /// where TA-Lib gives no value.
    Indicators {
        /// Input CSV file.
        #[arg(long)]
        input: PathBuf,
        /// Output CSV file (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Comma-separated indicators by name instead of the default set, e.g.
        /// `sma_50,ema_9,rsi_7,macd_12_26_9,bb_20_2.5,atr_14,adx_14,stoch_5_3_3,willr_14,
        /// roc_10,cci_20,obv,mfi_14,donchian_20,keltner_20_2,vwap,supertrend_10_3,zscore_20`.
        #[arg(long)]
        indicators: Option<String>,
    },
    /// The composite and component signals at the last bar of a CSV of bars (`date,close` or
    /// `date,open,high,low,close[,volume]`), with the regime. Sources whose inputs the file
    /// lacks are listed as unavailable with the reason.
    Signals {
        /// Input CSV file.
        #[arg(long)]
        input: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Value at risk and expected shortfall of a long position of one unit in a price series
    /// (historical, parametric and Monte Carlo), and a GARCH(1,1) fit of 100 × the log returns.
    /// JSON: {"observations", "var": {"historical"|"parametric"|"monte_carlo": {"0.95": x, ...}},
    /// "es": {...}, "garch": {"mu","omega","alpha","beta","loglik","next_variance"}}, VaR and ES
    /// as positive fractions of position value.
    ///
    /// Portfolio mode (--positions FILE --history FILE): the Risk panel's figures for a book
    /// of futures and options on futures as JSON: VaR/ES three ways (1 and 10 days), component
    /// VaR, the Monte Carlo P&L histogram, stress tests, limit utilisations, Greeks, margin.
    Risk {
        /// CSV with a header holding `date` and a price column (close, price, settle or adj_close).
        #[arg(long, required_unless_present = "positions", conflicts_with = "positions")]
        input: Option<PathBuf>,
        /// Portfolio mode: positions CSV, header contract,qty,price[,strategy][,option_type,strike,expiry,vol][,rate][,avg_price].
        #[arg(long, requires = "history")]
        positions: Option<PathBuf>,
        /// Portfolio mode: daily prices CSV, header date,<contract or market code>... (e.g. date,CL,BZ,RB,HO).
        #[arg(long, requires = "positions")]
        history: Option<PathBuf>,
        /// Print JSON (the only output format).
        #[arg(long)]
        json: bool,
        /// Returns used: the last N or `all` (default 1000 with --input, 500 with --positions).
        #[arg(long, allow_negative_numbers = true)]
        window: Option<String>,
        /// Confidence levels, comma-separated.
        #[arg(long, default_value = "0.95,0.99")]
        confidence: String,
        /// Monte Carlo seed.
        #[arg(long, allow_negative_numbers = true, default_value_t = crude_risk::DEFAULT_SEED)]
        seed: u64,
        /// Portfolio mode: NAV in USD for the % of NAV figures (default 50000000).
        #[arg(long, allow_negative_numbers = true, requires = "positions")]
        nav: Option<f64>,
        /// Portfolio mode: covariance estimator: sample (default), ewma (lambda 0.94) or ewma:LAMBDA.
        #[arg(long, requires = "positions")]
        method: Option<String>,
        /// Portfolio mode: limits file (default config/risk_limits.yaml when present; MAX_* variables override it).
        #[arg(long, requires = "positions")]
        limits: Option<PathBuf>,
        /// Portfolio mode: user stress scenarios (default config/stress_scenarios.yaml when present).
        #[arg(long, requires = "positions")]
        scenarios: Option<PathBuf>,
    },
    /// Black-76 price and Greeks of an option on a future (delta of the discounted price with
    /// respect to F, gamma, vega per 1.00 of vol, theta per year of calendar time, rho per 1.00
    /// of rate); with --price instead of --vol, solves the implied volatility.
    Option {
        /// call or put.
        #[arg(long = "type", value_parser = ["call", "put"])]
        option_type: String,
        /// Futures price F (> 0).
        #[arg(long, allow_hyphen_values = true)]
        forward: f64,
        /// Strike K (> 0).
        #[arg(long, allow_hyphen_values = true)]
        strike: f64,
        /// Time to expiry in years.
        #[arg(long, allow_hyphen_values = true)]
        years: f64,
        /// Volatility a year as a fraction, e.g. 0.35.
        #[arg(long, allow_hyphen_values = true, conflicts_with = "price", required_unless_present = "price")]
        vol: Option<f64>,
        /// Option price, to solve the implied volatility.
        #[arg(long, allow_hyphen_values = true)]
        price: Option<f64>,
        /// Continuously compounded interest rate, e.g. 0.045.
        #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
        rate: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Paper trading through the OMS, the pre-trade check and the paper broker against the
    /// seeded simulator; every order event and fill is durable in SQLite before it is printed.
    Trade {
        /// SQLite database (default: crude.db in the user data directory).
        #[arg(long, env = "CRUDE_DB")]
        db: Option<PathBuf>,
        #[command(subcommand)]
        action: TradeAction,
    },
    /// Fills from the database, filtered; as JSON or exported to CSV.
    Blotter {
        /// SQLite database (default: crude.db in the user data directory).
        #[arg(long, env = "CRUDE_DB")]
        db: Option<PathBuf>,
        /// First date (YYYY-MM-DD, UTC) of fills shown.
        #[arg(long)]
        from: Option<String>,
        /// Last date (YYYY-MM-DD, UTC), inclusive.
        #[arg(long)]
        to: Option<String>,
        /// Only this strategy tag.
        #[arg(long)]
        strategy: Option<String>,
        /// Only this contract (CLF27) or market (CL, BZ, RB, HO).
        #[arg(long)]
        contract: Option<String>,
        /// Write the fills to this CSV file.
        #[arg(long)]
        export: Option<PathBuf>,
        /// Print a JSON array of fills.
        #[arg(long)]
        json: bool,
    },
    /// Positions derived from the fills, with realised and unrealised P&L.
    Positions {
        /// SQLite database (default: crude.db in the user data directory).
        #[arg(long, env = "CRUDE_DB")]
        db: Option<PathBuf>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// The hash-chained audit log.
    Audit {
        /// SQLite database (default: crude.db in the user data directory).
        #[arg(long, env = "CRUDE_DB")]
        db: Option<PathBuf>,
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Debug, Subcommand)]
enum TradeAction {
    /// Submit one order and report what happened to it.
    Submit {
        /// Contract: specific (CLF27, CLF7) or generic (CL1, BZ2, RB1, HO1).
        #[arg(long)]
        contract: String,
        /// buy or sell.
        #[arg(long)]
        side: String,
        /// Whole number of contracts, at least 1.
        #[arg(long, allow_negative_numbers = true)]
        qty: String,
        /// market, limit, stop or stop_limit.
        #[arg(long = "type")]
        order_type: String,
        /// Limit price (limit, stop_limit) or stop price (stop); on the tick grid.
        #[arg(long, allow_hyphen_values = true)]
        price: Option<String>,
        /// Stop price of a stop_limit (default: --price).
        #[arg(long, allow_hyphen_values = true)]
        stop_price: Option<String>,
        /// day, gtc, ioc or fok (default day).
        #[arg(long)]
        tif: Option<String>,
        /// Strategy tag (default manual).
        #[arg(long)]
        strategy: Option<String>,
        /// Client order ID (generated when absent; unique across restarts).
        #[arg(long)]
        client_order_id: Option<String>,
        /// Simulator seed for the paper market.
        #[arg(long, allow_negative_numbers = true, default_value_t = 42)]
        seed: u64,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Run a CSV of orders (header contract,side,qty,type,price,tif,strategy) in accelerated
    /// time; with --json, one JSON line per event as soon as it is durable.
    Run {
        /// The orders file.
        #[arg(long)]
        orders: PathBuf,
        /// Simulator seed for the paper market.
        #[arg(long, allow_negative_numbers = true, default_value_t = 42)]
        seed: u64,
        /// JSON lines output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Check the hash chain; reports the first broken row.
    Verify {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

fn parse_market(s: &str) -> Result<Market, String> {
    Market::parse_root(s).map_err(|e| e.to_string())
}

fn parse_speed(s: &str) -> Result<Speed, String> {
    Speed::parse(s)
}

/// A failure with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
    Failure { code: EXIT_BAD_INPUT, error: e.into() }
}

fn failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure { code: 1, error: e.into() }
}

/// Entry point.
pub fn main() -> ExitCode {
    if let Err(e) = settings::load_dotenv() {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if let Err(e) = settings::check_unknown(std::env::vars()).and_then(|()| settings::check_values(std::env::vars())) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let cli = Cli::parse();
    if let Ok(spec) = std::env::var("RUST_LOG")
        && let Err(e) = tracing_subscriber::EnvFilter::try_new(&spec)
    {
        eprintln!(
            "error: RUST_LOG={spec}: {e}; use a level (error, warn, info, debug, trace) or directives such as crude_kernel=debug"
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let _log_guard = init_logging();
    let result = match cli.command {
        Some(Command::Simulate { days, seed, ref out, start, ref config }) => {
            run_simulate(days as usize, seed, out, start, config.as_deref())
        }
        Some(Command::Indicators { ref input, ref output, ref indicators }) => {
            crude_signals::run_indicators(input, output.as_deref(), indicators.as_deref())
                .map_err(|e| Failure { code: e.exit_code().clamp(1, 255) as u8, error: e.into() })
        }
        Some(Command::Signals { ref input, json }) => {
            match crude_signals::run_signals_from(input, json, signals_config_path(&cli).as_deref()) {
                Ok(text) => {
                    println!("{}", text.trim_end());
                    Ok(())
                }
                Err(e) => Err(Failure { code: e.exit_code().clamp(1, 255) as u8, error: e.into() }),
            }
        }
        Some(Command::Risk {
            ref input,
            ref positions,
            ref history,
            json,
            ref window,
            ref confidence,
            seed,
            nav,
            ref method,
            ref limits,
            ref scenarios,
        }) => match (input, positions, history) {
            (_, Some(positions), Some(history)) => {
                let args =
                    PortfolioRiskArgs { positions, history, window, confidence, seed, nav, method, limits, scenarios };
                run_risk_portfolio(&args)
            }
            (Some(input), _, _) => run_risk(input, json, window.as_deref().unwrap_or("1000"), confidence, seed),
            _ => Err(bad_input(anyhow!(
                "give --input FILE (one price series) or --positions FILE --history FILE (a portfolio)"
            ))),
        },
        Some(Command::Option { ref option_type, forward, strike, years, vol, price, rate, json }) => {
            run_option(option_type, forward, strike, years, vol, price, rate, json)
        }
        Some(Command::Trade { ref db, ref action }) => run_trade(&cli, db.as_deref(), action),
        Some(Command::Blotter { ref db, ref from, ref to, ref strategy, ref contract, ref export, json }) => {
            let args = crude_trading::cli::BlotterArgs {
                from: from.clone(),
                to: to.clone(),
                strategy: strategy.clone(),
                contract: contract.clone(),
                export: export.clone(),
                json,
            };
            trading(crude_trading::cli::blotter(&db_path(db.as_deref()), &args, &mut std::io::stdout().lock()))
        }
        Some(Command::Positions { ref db, json }) => {
            trading(crude_trading::cli::positions(&db_path(db.as_deref()), json, &mut std::io::stdout().lock()))
        }
        Some(Command::Audit { ref db, action: AuditAction::Verify { json } }) => {
            trading(crude_trading::cli::audit_verify(&db_path(db.as_deref()), json, &mut std::io::stdout().lock()))
        }
        None => run_app(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", message(&f.error));
            ExitCode::from(f.code)
        }
    }
}

/// The error and its causes, each said once: a cause whose text the message already holds
/// (an error that repeats its source) is not printed again.
fn message(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}

/// tracing to stderr (filtered by RUST_LOG, default `info`) and to a daily rolling file in
/// the user data directory.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter());
    let file_enabled = std::env::var("CRUDE_LOG_FILE").map(|v| v != "0").unwrap_or(true);
    let log_dir = settings::data_dir().join("logs");
    let (file_layer, guard) = if file_enabled && std::fs::create_dir_all(&log_dir).is_ok() {
        let appender = tracing_appender::rolling::daily(&log_dir, "crude.log");
        let (nb, guard) = tracing_appender::non_blocking(appender);
        (Some(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(nb).with_filter(filter())), Some(guard))
    } else {
        (None, None)
    };
    let _ = tracing_subscriber::registry().with(stderr).with(file_layer).try_init();
    guard
}

/// Trading settings: the file given, else `config/trading.yaml` when present, else defaults.
fn load_trading_config(path: Option<&Path>) -> Result<crude_trading::TradingConfig, Failure> {
    let default_path = Path::new("config/trading.yaml");
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if default_path.exists() => default_path.to_path_buf(),
        None => return Ok(crude_trading::TradingConfig::default()),
    };
    crude_trading::TradingConfig::load(&path)
        .map_err(|e| anyhow!("{e} (see the documented fields in config/trading.yaml)"))
        .map_err(bad_input)
}

/// Simulator settings: the file given, else `config/simulator.yaml` when present, else defaults.
fn load_sim_config(path: Option<&Path>) -> Result<SimConfig, Failure> {
    let default_path = Path::new("config/simulator.yaml");
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None if default_path.exists() => Some(default_path.to_path_buf()),
        None => None,
    };
    let Some(path) = path else { return Ok(SimConfig::default()) };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read simulator settings {}", path.display()))
        .map_err(bad_input)?;
    let cfg: SimConfig = serde_yaml::from_str(&text)
        .map_err(|e| anyhow!("{}: {e} (see the documented fields in config/simulator.yaml)", path.display()))
        .map_err(bad_input)?;
    cfg.validate().map_err(|e| anyhow!("{}: {e}", path.display())).map_err(bad_input)?;
    Ok(cfg)
}

fn run_simulate(days: usize, seed: u64, out: &Path, start: NaiveDate, config: Option<&Path>) -> Result<(), Failure> {
    let mut cfg = load_sim_config(config)?;
    cfg.seed = seed;
    let sim = crude_feeds::sim::simulate_daily(&cfg, start, days).map_err(bad_input)?;
    let files = crude_feeds::sim::write_daily_csvs(&sim, out).map_err(failure)?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

fn risk_failure(e: crude_risk::RiskError) -> Failure {
    Failure { code: e.exit_code().clamp(1, 255) as u8, error: e.into() }
}

fn run_risk(input: &Path, _json: bool, window: &str, confidence: &str, seed: u64) -> Result<(), Failure> {
    let window: crude_risk::Window = window.parse().map_err(risk_failure)?;
    let confidences = crude_risk::parse_confidences(confidence).map_err(risk_failure)?;
    let report = crude_risk::run_risk_series(input, window, &confidences, seed).map_err(risk_failure)?;
    println!("{}", serde_json::to_string(&report).map_err(failure)?);
    Ok(())
}

/// The portfolio-mode arguments of `crude risk`.
struct PortfolioRiskArgs<'a> {
    positions: &'a Path,
    history: &'a Path,
    window: &'a Option<String>,
    confidence: &'a str,
    seed: u64,
    nav: Option<f64>,
    method: &'a Option<String>,
    limits: &'a Option<PathBuf>,
    scenarios: &'a Option<PathBuf>,
}

fn run_risk_portfolio(a: &PortfolioRiskArgs<'_>) -> Result<(), Failure> {
    let mut args = crude_risk::PortfolioArgs::new(a.positions.to_path_buf(), a.history.to_path_buf());
    if let Some(w) = a.window {
        args.window = w.parse().map_err(risk_failure)?;
    }
    args.confidences = crude_risk::parse_confidences(a.confidence).map_err(risk_failure)?;
    args.seed = a.seed;
    if let Some(nav) = a.nav {
        args.nav_usd = nav;
    }
    if let Some(m) = a.method {
        args.covariance = crude_risk::parse_covariance_method(m).map_err(risk_failure)?;
    }
    let default_if_present = |p: &str| Some(PathBuf::from(p)).filter(|p| p.exists());
    args.limits = a.limits.clone().or_else(|| default_if_present("config/risk_limits.yaml"));
    args.scenarios = a.scenarios.clone().or_else(|| default_if_present("config/stress_scenarios.yaml"));
    let json = crude_risk::run_risk_portfolio(&args, |k| std::env::var(k).ok())
        .map_err(|e| Failure { code: e.exit_code().clamp(1, 255) as u8, error: e.into() })?;
    println!("{}", serde_json::to_string(&json).map_err(failure)?);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn run_option(
    option_type: &str,
    forward: f64,
    strike: f64,
    years: f64,
    vol: Option<f64>,
    price: Option<f64>,
    rate: f64,
    json: bool,
) -> Result<(), Failure> {
    use crude_risk::{OptionParams, OptionType, VolInput};
    let option_type = if option_type == "put" { OptionType::Put } else { OptionType::Call };
    let vol_input = match (vol, price) {
        (Some(v), None) => VolInput::Vol(v),
        (None, Some(p)) => VolInput::Price(p),
        _ => {
            return Err(bad_input(anyhow!(
                "give exactly one of --vol (to price) or --price (to solve the implied volatility)"
            )));
        }
    };
    let params = OptionParams { option_type, forward, strike, years, rate, vol_input };
    let report = crude_risk::run_option(&params).map_err(risk_failure)?;
    if json {
        println!("{}", serde_json::to_string(&report).map_err(failure)?);
    } else {
        let v = serde_json::to_value(report).map_err(failure)?;
        if let Some(obj) = v.as_object() {
            for (k, val) in obj {
                println!("{k:>12}  {val}");
            }
        }
    }
    Ok(())
}

/// The signal engine settings in force: `--signals-config` / `CRUDE_SIGNALS_CONFIG`, else
/// `config/signals.yaml` when present, else none (the built-in defaults).
fn signals_config_path(cli: &Cli) -> Option<PathBuf> {
    cli.signals_config.clone().or_else(|| Some(PathBuf::from("config/signals.yaml")).filter(|p| p.exists()))
}

/// The trading database: `--db` / `CRUDE_DB`, else `crude.db` in the user data directory.
fn db_path(db: Option<&Path>) -> PathBuf {
    db.map(Path::to_path_buf).unwrap_or_else(|| settings::data_dir().join("crude.db"))
}

fn trading<T>(r: Result<T, crude_trading::cli::CliError>) -> Result<(), Failure> {
    r.map(|_| ()).map_err(|e| Failure { code: e.exit_code(), error: e.into() })
}

/// `crude trade`: paper orders through the kernel, judged by the app's pre-trade check
/// (the limits of the risk limits file, the VaR check on the seed's simulated history or
/// `--risk-history`, the circuit breaker).
fn run_trade(cli: &Cli, db: Option<&Path>, action: &TradeAction) -> Result<(), Failure> {
    use crude_trading::cli::{CliEnv, RunArgs, SubmitArgs};
    let trading_config = cli.trading_config.as_deref();
    let seed = match action {
        TradeAction::Submit { seed, .. } | TradeAction::Run { seed, .. } => *seed,
    };
    let risk = prepare_risk(cli, Some(SimConfig { seed, ..SimConfig::default() }))?;
    let db = db_path(db);
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display())).map_err(failure)?;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "trader".to_string());
    let mut env = CliEnv::new(LiveClock.now(), &user).map_err(|e| Failure { code: e.exit_code(), error: e.into() })?;
    env.config = load_trading_config(trading_config)?;
    env.durability = env.config.synchronous.into();
    let mut out = std::io::stdout().lock();
    match action {
        TradeAction::Submit {
            contract,
            side,
            qty,
            order_type,
            price,
            stop_price,
            tif,
            strategy,
            client_order_id,
            seed,
            json,
        } => {
            let args = SubmitArgs {
                contract: contract.clone(),
                side: side.clone(),
                qty: qty.clone(),
                order_type: order_type.clone(),
                price: price.clone(),
                stop_price: stop_price.clone(),
                tif: tif.clone(),
                strategy: strategy.clone(),
                client_order_id: client_order_id.clone(),
                seed: *seed,
                json: *json,
            };
            trading(crude_kernel::paper::trade_submit(&db, &args, &env, risk, &mut out))
        }
        TradeAction::Run { orders, seed, json } => {
            let args = RunArgs { orders: orders.clone(), seed: *seed, json: *json, options: Default::default() };
            trading(crude_kernel::paper::trade_run(&db, &args, &env, risk, &mut out, &mut std::io::stderr().lock()))
        }
    }
}

fn build_feed(cli: &Cli, wall: &dyn Clock) -> Result<(Box<dyn MarketFeed>, Speed, String), Failure> {
    match cli.feed {
        FeedArg::Sim => {
            let mut cfg = load_sim_config(cli.sim_config.as_deref())?;
            cfg.seed = cli.seed;
            let mut sim = MarketSimulator::new(cfg, wall.now()).map_err(bad_input)?;
            if let Some(rate) = cli.stress_rate {
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(bad_input(anyhow!(
                        "--stress-rate {rate}: expected a positive number of ticks per second, e.g. 10000"
                    )));
                }
                sim.set_total_tick_rate(rate).map_err(bad_input)?;
            }
            let speed = cli.speed.unwrap_or(Speed::Multiple(1.0));
            let label = format!("simulator seed {} {}", cli.seed, speed_label(speed));
            Ok((Box::new(SimFeed::new(sim, cli.history_days)), speed, label))
        }
        FeedArg::Replay => {
            let Some(path) = &cli.file else {
                return Err(bad_input(anyhow!(
                    "--feed replay needs --file PATH (a CSV or Parquet bar file), e.g. --file data/wti_daily_fred.csv"
                )));
            };
            let file = load_bar_file(path).map_err(bad_input)?;
            let daily = file.timeframe == crude_model::Timeframe::D1;
            let speed = cli.speed.unwrap_or(Speed::Multiple(if daily { 86_400.0 } else { 60.0 }));
            let label = format!("{} {}", path.display(), speed_label(speed));
            Ok((Box::new(ReplayFeed::new(file, cli.market)), speed, label))
        }
    }
}

fn speed_label(s: Speed) -> String {
    match s {
        Speed::Max => "max speed".into(),
        Speed::Multiple(m) => format!("{m}×"),
    }
}

/// The trading service's settings, or `None` (trading disabled, the reason logged) when
/// the database folder cannot be created or the settings are invalid.
fn trading_service_config(
    db: &Path,
    trading: crude_trading::TradingConfig,
    wall: Arc<dyn Clock>,
) -> Option<crude_kernel::services::trading::TradingServiceConfig> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        tracing::error!(dir = %dir.display(), error = %e, "trading disabled: the database folder could not be created");
        return None;
    }
    match crude_kernel::services::trading::TradingServiceConfig::new(db.to_path_buf(), trading, wall) {
        Ok(mut config) => {
            config.user = std::env::var("USER").unwrap_or_else(|_| "trader".into());
            Some(config)
        }
        Err(e) => {
            tracing::error!(db = %db.display(), error = %e, "trading disabled: invalid trading settings");
            None
        }
    }
}

/// Loads the risk limits (file + environment), the user's stress scenarios, and chooses
/// the return history, as the app and `crude trade` both take them: an invalid limits file
/// stops the command before anything starts, naming the entry and field. `sim` is the
/// simulator whose own history backs the VaR when no `--risk-history` is given (`None`: a
/// replay, which has no joint history of the curve).
fn prepare_risk(cli: &Cli, sim: Option<SimConfig>) -> Result<PaperRisk, Failure> {
    let repo_default = Path::new("config/risk_limits.yaml");
    let user_default = settings::data_dir().join("risk_limits.yaml");
    let (path, base) = match &cli.risk_limits {
        Some(p) => (p.clone(), None),
        None if repo_default.exists() => (repo_default.to_path_buf(), None),
        None if user_default.exists() => (user_default, None),
        // Built-in limits; edits saved from the Risk panel go to the user data directory.
        None => (user_default, Some(crude_risk::RiskLimits::default())),
    };
    let limits = match base {
        Some(l) => Ok(l),
        None => crude_risk::RiskLimits::load(&path),
    }
    .and_then(|l| l.with_env(|k| std::env::var(k).ok()))
    .map_err(|e| bad_input(anyhow!("{e}")))?;
    let history = match (&cli.risk_history, sim) {
        (Some(path), _) => RiskHistorySource::Daily(path.clone()),
        (None, Some(cfg)) => RiskHistorySource::simulated(cfg),
        (None, None) => RiskHistorySource::None {
            reason: "a replayed single series gives no joint history of the curve; pass --risk-history FILE \
                     (daily prices, date,CL1,CL2,…)"
                .into(),
        },
    };
    if !(cli.nav_usd.is_finite() && cli.nav_usd > 0.0) {
        return Err(bad_input(anyhow!("--nav-usd {}: use a positive number of USD, e.g. 50000000", cli.nav_usd)));
    }
    let mut scenarios = crude_risk::builtin_scenarios();
    // The user's stress scenarios run next to the built-in historical ones.
    let user_scenarios = Path::new("config/stress_scenarios.yaml");
    if user_scenarios.exists() {
        scenarios.extend(crude_risk::load_scenarios(user_scenarios).map_err(|e| bad_input(anyhow!("{e}")))?);
    }
    Ok(PaperRisk { limits, limits_path: path, history, nav_usd: cli.nav_usd, scenarios })
}

/// The risk service's settings for the app.
fn risk_service_config(risk: PaperRisk, wall: Arc<dyn Clock>) -> Result<RiskServiceConfig, Failure> {
    let mut config = RiskServiceConfig::new(risk.limits, risk.limits_path, risk.history, risk.nav_usd, wall)
        .map_err(|e| bad_input(anyhow!("{e}")))?;
    config.scenarios = risk.scenarios;
    Ok(config)
}

fn run_app(cli: &Cli) -> Result<(), Failure> {
    let wall: Arc<dyn Clock> = Arc::new(LiveClock);
    let started = wall.now();
    let (feed, speed, label) = build_feed(cli, wall.as_ref())?;
    tracing::info!(source = %label, "starting Crude");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("crude-feed")
        .enable_all()
        .build()
        .map_err(failure)?;
    let store_config = ViewModelConfig { max_bars: cli.max_bars as usize, ..ViewModelConfig::default() };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Crude — oil futures terminal")
            .with_inner_size([1600.0, 1000.0])
            .with_min_inner_size([900.0, 600.0]),
        persist_window: true,
        ..Default::default()
    };
    let mut feed_slot = Some(feed);
    let db = db_path(cli.db.as_deref());
    let mut trading_config = Some(load_trading_config(cli.trading_config.as_deref())?);
    let sim = match cli.feed {
        FeedArg::Sim => {
            let mut cfg = load_sim_config(cli.sim_config.as_deref())?;
            cfg.seed = cli.seed;
            Some(cfg)
        }
        FeedArg::Replay => None,
    };
    let mut risk_setup = Some(risk_service_config(prepare_risk(cli, sim)?, wall.clone())?);
    // Signal history per kind of feed, so simulated and replayed signals never mix.
    let signals_history = db.with_file_name(match cli.feed {
        FeedArg::Sim => "signals-sim.db",
        FeedArg::Replay => "signals-replay.db",
    });
    let signals_config = signals_config_path(cli);
    // Daily history behind the curve overlays, percentiles and seasonal bands: with the
    // simulator, six years of its own daily curves (labelled simulated), else the real
    // files shipped in data/.
    let mut curve_history = Some(match cli.feed {
        FeedArg::Sim => {
            let mut cfg = load_sim_config(cli.sim_config.as_deref())?;
            cfg.seed = cli.seed;
            // One simulated history for the curve and the risk service (simulated once).
            let shared = risk_setup.as_ref().and_then(|r| r.history.sim_history()).filter(|h| *h.config() == cfg);
            let history = shared.cloned().unwrap_or_else(|| crude_feeds::SharedSimHistory::new(cfg));
            crude_kernel::services::curve::CurveHistorySource::shared(history, 6)
        }
        FeedArg::Replay => crude_kernel::services::curve::CurveHistorySource::data_dir(Path::new("data")),
    });
    eframe::run_native(
        "crude",
        options,
        Box::new(move |cc| {
            let state: UiState = cc.storage.and_then(|s| eframe::get_value(s, STATE_KEY)).unwrap_or_default();
            let ctx = cc.egui_ctx.clone();
            let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx.request_repaint());
            let feed = feed_slot.take().ok_or("the app was created twice")?;
            let mut trading_config = trading_config.take().ok_or("the app was created twice")?;
            let risk_setup = risk_setup.take().ok_or("the app was created twice")?;
            // The circuit breaker trips at the risk limits' daily drawdown.
            trading_config.limits.max_daily_loss_usd = risk_setup.limits.max_daily_loss_usd();
            let signals = match signals_config.as_deref() {
                Some(p) => SignalsServiceConfig::load(p, signals_history.clone(), wall.clone()),
                None => SignalsServiceConfig::new(Default::default(), signals_history.clone(), wall.clone()),
            };
            let curve = CurveServiceConfig::new(
                curve_history.take().unwrap_or(crude_kernel::services::curve::CurveHistorySource::None),
                wall.clone(),
            );
            let config = KernelConfig {
                trading: trading_service_config(&db, trading_config, wall.clone()),
                risk: Some(risk_setup),
                signals: Some(signals),
                curve: Some(curve),
            };
            let (kernel, events) = LiveKernel::spawn(config, runtime.handle(), feed, speed, wall.clone(), notify);
            let app = CrudeApp::new(store_config, Some(events), wall.clone(), state, label).with_kernel(kernel);
            Ok(Box::new(app.with_runtime(runtime).with_startup_timer(started)))
        }),
    )
    .map_err(|e| {
        failure(anyhow!(
            "the desktop window could not be opened: {e} (is a display available? set DISPLAY or run a subcommand)"
        ))
    })?;
    Ok(())
}
