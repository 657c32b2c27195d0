//! Crude market data feeds: the [`MarketFeed`] trait, the market simulator (the default
//! feed), file replay, the task runner that paces a feed against the wall clock, and the
//! daily history the services start from (the shared anchored simulation and the history
//! files' readers).

mod feed;
mod history;
pub mod replay;
mod runner;
pub mod sim;
mod sim_feed;

pub use feed::{FeedError, FeedPoll, HistoryRequest, MarketFeed};
pub use history::{
    DailyPriceRow, DailyPrices, HistoryColumn, HistoryFileError, MonthlyPrices, SharedSimHistory, last_days_before,
    parse_brent_wti_monthly, parse_curves_csv, parse_daily_prices, read_brent_wti_monthly, read_curves_csv,
    read_daily_prices, read_history_text, simulate_anchored_history,
};
pub use replay::{BarFile, ReplayFeed, load_bar_file};
pub use runner::{FeedBatch, FeedCommand, FeedHandle, Pacer, Speed, disconnected_event, spawn_feed};
pub use sim_feed::SimFeed;
