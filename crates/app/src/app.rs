//! The application shell: drains feed events into the store at the start of each frame
//! (bounded work per frame), then draws the top bar, the navigation rail, the selected
//! panel and the status bar.

use std::sync::Arc;

use crude_feeds::{FeedBatch, FeedCommand};
use crude_model::{Clock, FeedKind, FeedStatus, Timestamp};
use egui::{RichText, Stroke};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::format;
use crate::panels::market::{self, MarketCache, MarketState};
use crate::store::{Store, StoreConfig};
use crate::theme;

/// Key under which the UI state is persisted by eframe.
pub const STATE_KEY: &str = "crude.ui_state";
/// Longest the UI thread spends applying feed events in one frame.
pub const DRAIN_BUDGET_NS: i64 = 6_000_000;

/// The panels that exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PanelId {
    #[default]
    Market,
}

impl PanelId {
    pub const ALL: [PanelId; 1] = [PanelId::Market];

    pub fn label(self) -> &'static str {
        match self {
            PanelId::Market => "Market",
        }
    }
}

/// UI state that persists across restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    pub panel: PanelId,
    pub market: MarketState,
}

/// The Crude desktop application.
pub struct CrudeApp {
    store: Store,
    events: Option<mpsc::Receiver<FeedBatch>>,
    commands: Option<mpsc::UnboundedSender<FeedCommand>>,
    wall: Arc<dyn Clock>,
    state: UiState,
    market_cache: MarketCache,
    themed: bool,
    /// Description of the data source for the status bar ("seed 42, 1×", a file name…).
    source_label: String,
    /// Wall time the process started, until the first frame with live quotes is logged.
    started_wall: Option<Timestamp>,
    /// Kept alive for as long as the app runs: the feed tasks live on it.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl CrudeApp {
    /// An app reading feed batches from `events`.
    pub fn new(
        store_config: StoreConfig,
        events: Option<mpsc::Receiver<FeedBatch>>,
        commands: Option<mpsc::UnboundedSender<FeedCommand>>,
        wall: Arc<dyn Clock>,
        state: UiState,
        source_label: String,
    ) -> Self {
        Self {
            store: Store::new(store_config),
            events,
            commands,
            wall,
            state,
            market_cache: MarketCache::default(),
            themed: false,
            source_label,
            started_wall: None,
            _runtime: None,
        }
    }

    /// Log the time from `started` (process start) to the first frame showing quotes.
    pub fn with_startup_timer(mut self, started: Timestamp) -> Self {
        self.started_wall = Some(started);
        self
    }

    /// Keep `rt` alive for the app's lifetime.
    pub fn with_runtime(mut self, rt: tokio::runtime::Runtime) -> Self {
        self._runtime = Some(rt);
        self
    }

    /// The store (read-only), for tests and benches.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, for tests and benches that feed it directly.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The persisted UI state.
    pub fn ui_state(&self) -> &UiState {
        &self.state
    }

    /// Apply queued feed batches until the queue is empty or the frame budget is spent.
    /// Returns whether batches remain queued.
    pub fn drain(&mut self) -> bool {
        let Some(rx) = self.events.as_mut() else { return false };
        let start = self.wall.now();
        loop {
            match rx.try_recv() {
                Ok(batch) => {
                    let now = self.wall.now();
                    if batch.history {
                        for ev in &batch.events {
                            self.store.apply(ev, now);
                        }
                    } else {
                        self.store.apply_batch(&batch.events, batch.sent_wall, now);
                    }
                    if now.0 - start.0 > DRAIN_BUDGET_NS {
                        return !rx.is_empty();
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => return false,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.events = None;
                    if self.store.feed_status().is_streaming() {
                        let ev = crude_feeds::disconnected_event(
                            self.store.feed_kind().unwrap_or(FeedKind::Simulated),
                            "feed task stopped",
                            self.wall.now(),
                        );
                        self.store.apply(&ev, self.wall.now());
                    }
                    return false;
                }
            }
        }
    }

    /// Draw one frame (used by eframe and by the kittest harness).
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if !self.themed {
            theme::apply(ui.ctx());
            self.themed = true;
        }
        if self.drain() {
            ui.ctx().request_repaint();
        }
        let wall_now = self.wall.now();
        self.store.stats.roll(wall_now);
        top_bar(ui, &self.store);
        status_bar(ui, &self.store, wall_now, &self.source_label);
        nav_rail(ui, &mut self.state.panel);
        egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::BG)).show(ui, |ui| match self.state.panel {
            PanelId::Market => market::show(ui, &self.store, &mut self.state.market, &mut self.market_cache, wall_now),
        });
        if let Some(t0) = self.started_wall
            && self.store.board().any(|(_, q)| q.bid.is_some() || q.last.is_some())
        {
            let ms = wall_now.secs_since(t0) * 1e3;
            tracing::info!(startup_ms = format!("{ms:.0}"), "first frame with live quotes");
            self.started_wall = None;
        }
        if self.events.is_some() {
            // Ages, flashes and rates move with wall time.
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        }
    }

    fn shutdown(&self) {
        if let Some(c) = &self.commands {
            let _ = c.send(FeedCommand::Shutdown);
        }
    }
}

impl Drop for CrudeApp {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl eframe::App for CrudeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        CrudeApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STATE_KEY, &self.state);
    }
}

fn badge(ui: &mut egui::Ui, kind: Option<FeedKind>) {
    let (text, color) = match kind {
        Some(FeedKind::Simulated) => ("SIMULATED", theme::WARNING),
        Some(FeedKind::Replay) => ("REPLAY", theme::ACCENT),
        Some(FeedKind::Live) => ("LIVE", theme::PROFIT),
        None => ("NO DATA", theme::MUTED),
    };
    egui::Frame::new()
        .stroke(Stroke::new(1.0, color))
        .corner_radius(3.0)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .show(ui, |ui| {
            let r = ui.label(RichText::new(text).strong().color(color).monospace());
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Data mode {text}")));
        });
}

fn top_bar(ui: &mut egui::Ui, store: &Store) {
    egui::Panel::top("top_bar")
        .frame(
            egui::Frame::new()
                .fill(theme::SURFACE)
                .inner_margin(egui::Margin::symmetric(10, 6))
                .stroke(Stroke::new(1.0, theme::BORDER)),
        )
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("CRUDE").strong().size(16.0).color(theme::ACCENT));
                ui.label(RichText::new("oil futures terminal").color(theme::MUTED).small());
                ui.separator();
                badge(ui, store.feed_kind());
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let clock = store.feed_time().map_or("--".to_string(), format::exchange_time);
                    let r = ui.label(RichText::new(&clock).monospace().color(theme::TEXT));
                    r.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Exchange clock {clock}"))
                    });
                    ui.label(RichText::new("NYMEX/ICE").color(theme::MUTED).small());
                });
            });
        });
}

fn status_bar(ui: &mut egui::Ui, store: &Store, wall_now: Timestamp, source: &str) {
    egui::Panel::bottom("status_bar")
        .frame(
            egui::Frame::new()
                .fill(theme::SURFACE)
                .inner_margin(egui::Margin::symmetric(10, 3))
                .stroke(Stroke::new(1.0, theme::BORDER)),
        )
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let status = store.feed_status();
                let color = match status {
                    FeedStatus::Connected | FeedStatus::Simulated | FeedStatus::Replay => theme::PROFIT,
                    FeedStatus::Connecting => theme::WARNING,
                    FeedStatus::Disconnected { .. } => theme::LOSS,
                };
                let label = format!("Feed: {}", status.label());
                let r = ui.label(RichText::new(format!("• {label}")).color(color).monospace());
                r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, label.clone()));
                if !source.is_empty() {
                    ui.label(RichText::new(source).color(theme::MUTED).monospace());
                }
                ui.separator();
                let rate = format!("{:.0} ticks/s", store.stats.ticks_per_sec);
                let r = ui.label(RichText::new(&rate).monospace());
                r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Tick rate {rate}")));
                ui.separator();
                let lat = match (store.stats.latency_percentile_us(50.0), store.stats.latency_percentile_us(99.0)) {
                    (Some(p50), Some(p99)) => format!("tick-to-store p50 {p50} µs  p99 {p99} µs"),
                    _ => "tick-to-store —".to_string(),
                };
                ui.label(RichText::new(lat).monospace());
                ui.separator();
                let last = store
                    .stats
                    .last_update_wall
                    .map_or("never".to_string(), |t| format!("{} ago", format::age(wall_now.secs_since(t))));
                ui.label(RichText::new(format!("last update {last}")).monospace().color(theme::MUTED));
                ui.separator();
                ui.label(
                    RichText::new(format!("{} events", format::volume(store.stats.events_total)))
                        .monospace()
                        .color(theme::MUTED),
                );
            });
        });
}

fn nav_rail(ui: &mut egui::Ui, panel: &mut PanelId) {
    egui::Panel::left("nav_rail")
        .resizable(false)
        .exact_size(92.0)
        .frame(egui::Frame::new().fill(theme::SURFACE).inner_margin(6.0).stroke(Stroke::new(1.0, theme::BORDER)))
        .show(ui, |ui| {
            for p in PanelId::ALL {
                let r = ui.selectable_label(*panel == p, RichText::new(p.label()).strong());
                if r.clicked() {
                    *panel = p;
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct MemStorage(HashMap<String, String>);

    impl eframe::Storage for MemStorage {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn ui_state_persists_across_restarts() {
        let wall: Arc<dyn Clock> = Arc::new(crude_model::LiveClock);
        let mut state = UiState::default();
        state.market.timeframe = crude_model::Timeframe::H1;
        state.market.curve_market = crude_model::Market::Rbob;
        state.market.view.show_ema = true;
        let mut app = CrudeApp::new(StoreConfig::default(), None, None, wall.clone(), state, String::new());
        let mut storage = MemStorage::default();
        eframe::App::save(&mut app, &mut storage);
        let restored: UiState = eframe::get_value(&storage, STATE_KEY).expect("state saved");
        assert_eq!(restored.panel, PanelId::Market);
        assert_eq!(restored.market.timeframe, crude_model::Timeframe::H1);
        assert_eq!(restored.market.curve_market, crude_model::Market::Rbob);
        assert!(restored.market.view.show_ema);
    }
}
