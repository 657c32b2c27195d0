//! The market simulator as a [`MarketFeed`], labelled SIMULATED.

use crude_model::{Bar, FeedKind, FeedStatus, MarketEvent, SeriesId, Timestamp};

use crate::feed::{FeedError, FeedPoll, HistoryRequest, MarketFeed};
use crate::sim::MarketSimulator;

/// Most events one poll produces, so a feed task that fell behind still yields regularly.
const MAX_EVENTS_PER_POLL: usize = 8192;

/// The simulator behind the feed interface.
pub struct SimFeed {
    sim: MarketSimulator,
    history_days: u32,
}

impl SimFeed {
    /// Wrap `sim`; `history_days` sessions of history are sent when the feed starts.
    pub fn new(sim: MarketSimulator, history_days: u32) -> Self {
        Self { sim, history_days }
    }

    /// The simulator.
    pub fn simulator(&self) -> &MarketSimulator {
        &self.sim
    }
}

impl MarketFeed for SimFeed {
    fn kind(&self) -> FeedKind {
        FeedKind::Simulated
    }

    fn status(&self) -> FeedStatus {
        FeedStatus::Simulated
    }

    fn name(&self) -> &'static str {
        "simulator"
    }

    fn subscribe(&mut self, _series: &[SeriesId]) -> Result<(), FeedError> {
        // Every listed contract of the four markets is simulated and always streams.
        Ok(())
    }

    fn unsubscribe(&mut self, _series: &[SeriesId]) -> Result<(), FeedError> {
        Ok(())
    }

    fn request_history(&mut self, req: &HistoryRequest) -> Result<Vec<Bar>, FeedError> {
        Err(FeedError::Unsupported {
            feed: "simulator",
            what: format!(
                "history requests for {} {}: the simulator sends its history when it starts (set CRUDE_HISTORY_DAYS)",
                req.series,
                req.timeframe.label()
            ),
        })
    }

    fn start_time(&self) -> Option<Timestamp> {
        Some(self.sim.now())
    }

    fn next_event_time(&self) -> Option<Timestamp> {
        Some(self.sim.next_event_time())
    }

    fn initial_events(&mut self) -> Vec<MarketEvent> {
        if self.history_days == 0 { Vec::new() } else { self.sim.warmup_history(self.history_days) }
    }

    fn poll(&mut self, now: Timestamp, out: &mut Vec<MarketEvent>) -> FeedPoll {
        let start = out.len();
        while self.sim.next_event_time() <= now && out.len() - start < MAX_EVENTS_PER_POLL {
            self.sim.step(out);
        }
        FeedPoll::Pending
    }
}
