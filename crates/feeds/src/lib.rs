//! Crude market data feeds: the [`MarketFeed`] trait, the market simulator (the default
//! feed), file replay, and the task runner that paces a feed against the wall clock.

mod feed;
pub mod replay;
mod runner;
pub mod sim;
mod sim_feed;

pub use feed::{FeedError, FeedPoll, HistoryRequest, MarketFeed};
pub use replay::{BarFile, ReplayFeed, load_bar_file};
pub use runner::{FeedBatch, FeedCommand, FeedHandle, Pacer, Speed, disconnected_event, spawn_feed};
pub use sim_feed::SimFeed;
