//! The `MarketFeed` abstraction every data source implements: the simulator, file replay,
//! and the Interactive Brokers and Bloomberg adapters.
//!
//! A feed is polled with the current *feed time* and appends every event that is due. The
//! [`crate::runner`] turns wall time into feed time (real time, N× accelerated, or as fast as
//! possible), so deterministic feeds (simulator, replay) run the same code at any speed,
//! and live feeds are simply polled with the live clock.

use std::path::PathBuf;

use crude_model::{Bar, FeedKind, FeedStatus, MarketEvent, SeriesId, Timeframe, Timestamp};

/// A request for historical bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryRequest {
    pub series: SeriesId,
    pub timeframe: Timeframe,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// What a poll found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedPoll {
    /// More events may come.
    Pending,
    /// The feed has no more events (the end of a replay file).
    Ended,
}

/// Errors from feeds. Messages name the file, line, column or field, and the fix.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{path}: line {line}, column '{column}': {reason}")]
    File { path: PathBuf, line: usize, column: String, reason: String },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{feed} does not support {what}")]
    Unsupported { feed: &'static str, what: String },
    #[error("feed disconnected: {0}")]
    Disconnected(String),
    #[error("feed setting '{field}': {reason}")]
    Config { field: String, reason: String },
}

/// A source of market data.
pub trait MarketFeed: Send {
    /// What kind of data this is (drives the SIMULATED / REPLAY / LIVE badge).
    fn kind(&self) -> FeedKind;
    /// Current connection status.
    fn status(&self) -> FeedStatus;
    /// Short name for logs and the status bar.
    fn name(&self) -> &'static str;
    /// Start streaming the given series.
    ///
    /// # Errors
    /// When the feed cannot serve a series (unknown to it, or the connection is down).
    fn subscribe(&mut self, series: &[SeriesId]) -> Result<(), FeedError>;
    /// Stop streaming the given series.
    ///
    /// # Errors
    /// When the connection is down.
    fn unsubscribe(&mut self, series: &[SeriesId]) -> Result<(), FeedError>;
    /// Historical bars for a series.
    ///
    /// # Errors
    /// When the feed has no history for the series or the request cannot be served.
    fn request_history(&mut self, req: &HistoryRequest) -> Result<Vec<Bar>, FeedError>;
    /// Feed time of the first event, for feeds that have their own timeline (simulator,
    /// replay); `None` for live feeds, which run on the wall clock.
    fn start_time(&self) -> Option<Timestamp>;
    /// Feed time of the next event, when the feed knows it.
    fn next_event_time(&self) -> Option<Timestamp>;
    /// Events to send before anything else (history, settlements), once, at start.
    fn initial_events(&mut self) -> Vec<MarketEvent> {
        Vec::new()
    }
    /// Append every event due at or before `now` (feed time) to `out`, in time order.
    fn poll(&mut self, now: Timestamp, out: &mut Vec<MarketEvent>) -> FeedPoll;
}
