//! Worker threads that do the app's heavy or blocking work off the UI thread. A worker
//! receives commands and market data through channels, sends updates back through a
//! channel, and calls the repaint notifier; the UI thread only drains updates into the
//! [`crate::store::Store`] at the start of a frame.

pub mod curve;
pub mod risk;
pub mod signals;
pub mod trading;

pub use curve::{CurveHandle, CurveHistorySource, CurveView, CurveWorker, CurveWorkerConfig};
pub use trading::{
    ActionError, Activity, ActivityLevel, BlotterLine, BlotterQuery, BlotterTotals, BlotterView, PositionRow,
    PreviewResult, TicketError, TradingCommand, TradingHandle, TradingSnapshot, TradingUpdate, TradingView,
    TradingWorker, TradingWorkerConfig, WorkerError, WorkerStatus,
};
pub use trading::{
    CombinedCheck, MarksSaved, PreTradeCheckBox, SpreadLegPreview, SpreadLegRow, SpreadPositionRow, SpreadPreview,
};
