//! The market simulator: Crude's default data feed, labelled SIMULATED on screen.
//!
//! It simulates the four oil futures markets (WTI `CL`, Brent `BZ` in $/bbl; RBOB `RB`,
//! heating oil `HO` in $/gal) as one correlated system with a full curve per market, and
//! produces the same [`MarketEvent`](crude_model::MarketEvent)s a live feed does: quotes,
//! trades, depth, curve snapshots, weekly inventory reports and daily settlements. It is
//! deterministic for a given seed (ChaCha8 streams, one per purpose) and never reads a
//! clock: time is simulated and passed in.
//!
//! # Model (details in the submodules)
//!
//! * **Factors** (`dynamics`): a WTI long-term level (random walk), a mean-reverting slope
//!   factor whose loading decays with tenor (Schwartz–Smith: back months calmer than the
//!   front, the curve moving between contango and backwardation) and a curvature factor.
//!   Brent = WTI at Brent's tenor + a mean-reverting premium whose shocks are sized for the
//!   configured WTI–Brent return correlation. RBOB and heating oil = (WTI + crack) / 42 with
//!   log-OU cracks around configured levels and seasonal terms by delivery month.
//! * **Volatility**: a daily GARCH(1,1) variance updated at each session close from that
//!   session's return, a Student-t(ν) draw per session (daily returns are exactly scaled
//!   t, fat-tailed, with the configured unconditional volatility and positively
//!   autocorrelated squares), spread over the session by an intraday activity profile
//!   (`schedule`: quiet Asian night, London, a U-shape over the New York day).
//! * **Prices can be negative**: lognormal above `price_floor_usd_bbl`, arithmetic below;
//!   never clamped.
//! * **Sessions** follow the model's CME Globex hours (18:00–17:00 ET, break 17:00–18:00 ET,
//!   weekends and CME holidays closed). Nothing is emitted while closed; each session ends
//!   with a settlement batch stamped 1 ms before the close.
//! * **Inventory** (`inventory`): the weekly EIA report on Wednesdays at 10:30 ET (Thursday
//!   10:30 ET when Wednesday is a CME holiday), with seasonal stocks, consensus and a price
//!   jump against the surprise.
//! * **Microstructure** (`book`): 1–3 tick spreads, sizes, depth levels, trade sizes.
//!
//! # Use
//!
//! * [`MarketSimulator`]: the live, event-time driven engine (`step` produces the next
//!   batch; the feed task paces it against the wall clock, real time or accelerated), with
//!   [`MarketSimulator::warmup_history`] for chart history and
//!   [`MarketSimulator::set_total_tick_rate`] for stress runs.
//! * [`simulate_daily`] and [`write_daily_csvs`]: the same model at one-minute steps,
//!   summarised per trading date, for `crude simulate`.

mod book;
mod config;
mod core;
mod daily;
mod dynamics;
mod engine;
mod inventory;
mod minutes;
mod schedule;

pub use config::{FIRST_START_YEAR, LAST_START_YEAR, SimConfig, SimError};
pub use daily::{
    DailyBar, DailyCurve, DailySimulation, MAX_DAILY_DAYS, default_start_date, simulate_daily, write_daily_csvs,
};
pub use engine::{MAX_TOTAL_TICK_RATE, MAX_WARMUP_DAYS, MarketSimulator};
