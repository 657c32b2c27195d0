//! The driver's copy of what the trading service reports ([`TradingView`]): the status,
//! the latest snapshot, the activity log, today's fills, the blotter and the answers to the
//! last preview, submission and export. Applying an update moves data; no I/O, no totals
//! over rows.

use std::collections::VecDeque;
use std::path::PathBuf;

use crude_model::{Order, Timestamp};
use crude_trading::blotter::BlotterLine;
use crude_trading::{PreviewResult, SpreadOutcome, SpreadPreview, SubmitOutcome};

use crate::service::View;
use crate::services::trading::{
    ACTIVITY_CAP, ActionError, Activity, ActivityLevel, BlotterView, MarksSaved, TicketError, TradingSnapshot,
    TradingStatus, TradingUpdate,
};

/// What the panels see of trading: the UI thread's copy of the service's reports.
#[derive(Debug, Clone, Default)]
pub struct TradingView {
    /// `None` when the app runs without a trading worker.
    pub status: Option<TradingStatus>,
    pub snapshot: Option<TradingSnapshot>,
    /// Fills of the snapshot's trading date, oldest first.
    pub fills_today: Vec<BlotterLine>,
    /// Most recent last.
    pub activity: VecDeque<Activity>,
    pub blotter: BlotterView,
    /// Latest preview answer.
    pub preview: Option<(u64, Result<PreviewResult, TicketError>)>,
    /// Latest order entry answer.
    pub submitted: Option<(u64, Result<SubmitOutcome, TicketError>)>,
    /// Latest spread preview answer.
    pub spread_preview: Option<(u64, Result<SpreadPreview, TicketError>)>,
    /// Latest spread entry answer.
    pub spread_submitted: Option<(u64, Result<SpreadOutcome, TicketError>)>,
    /// The last save of the marks.
    pub marks_saved: Option<MarksSaved>,
    /// Latest failed action.
    pub last_error: Option<ActionError>,
    /// Latest export answer.
    pub export: Option<(PathBuf, Result<usize, String>)>,
    /// Updates applied (for tests and diagnostics).
    pub updates_applied: u64,
}

impl TradingView {
    /// Applies one update from the service (cheap: moves data, no I/O, no totals over rows).
    pub fn apply(&mut self, u: TradingUpdate) {
        self.updates_applied += 1;
        match u {
            TradingUpdate::Status(s) => self.status = Some(s),
            TradingUpdate::Snapshot(s) => {
                if self.snapshot.as_ref().is_some_and(|old| old.trading_date != s.trading_date) {
                    let d = s.trading_date;
                    self.fills_today.retain(|l| l.trading_date == d);
                }
                self.snapshot = Some(*s);
            }
            TradingUpdate::Activity(a) => {
                if self.activity.len() == ACTIVITY_CAP {
                    self.activity.pop_front();
                }
                self.activity.push_back(a);
            }
            TradingUpdate::Fill(l) => {
                if self.snapshot.as_ref().is_none_or(|s| s.trading_date <= l.trading_date) {
                    self.fills_today.push(l);
                }
            }
            TradingUpdate::FillsToday(v) => self.fills_today = v,
            TradingUpdate::Blotter(v) => self.blotter = *v,
            TradingUpdate::BlotterAppend { line, summary, attribution } => {
                if !self.blotter.strategies.iter().any(|s| **s == *line.strategy) {
                    self.blotter.strategies.push(line.strategy.to_string());
                    self.blotter.strategies.sort();
                }
                self.blotter.total_fills += 1;
                self.blotter.lines.push(line);
                self.blotter.summary = summary;
                self.blotter.attribution = attribution;
            }
            TradingUpdate::Preview { request_id, result } => self.preview = Some((request_id, result)),
            TradingUpdate::Submitted { request_id, result } => self.submitted = Some((request_id, result)),
            TradingUpdate::SpreadPreview { request_id, result } => self.spread_preview = Some((request_id, result)),
            TradingUpdate::SpreadSubmitted { request_id, result } => {
                self.spread_submitted = Some((request_id, result));
            }
            TradingUpdate::MarksSaved(m) => self.marks_saved = Some(m),
            // The view shows orders, fills and activity; raw events are for the CLI.
            TradingUpdate::Engine(_) => {}
            TradingUpdate::Exported { path, result } => self.export = Some((path, result)),
            TradingUpdate::Error(e) => {
                if self.activity.len() == ACTIVITY_CAP {
                    self.activity.pop_front();
                }
                self.activity.push_back(Activity {
                    ts: self.snapshot.as_ref().map_or(Timestamp(0), |s| s.as_of),
                    level: ActivityLevel::Error,
                    order_id: None,
                    text: format!("{} failed: {}", e.action, e.error),
                });
                self.last_error = Some(e);
            }
        }
    }

    /// Whether the service accepts orders.
    pub fn ready(&self) -> bool {
        self.status == Some(TradingStatus::Ready)
    }

    /// Open orders (empty before the first snapshot).
    pub fn working(&self) -> &[Order] {
        self.snapshot.as_ref().map_or(&[], |s| s.working.as_slice())
    }
}

impl View<TradingUpdate> for TradingView {
    fn apply(&mut self, u: TradingUpdate) {
        TradingView::apply(self, u);
    }
}
