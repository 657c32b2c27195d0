//! The application shell: drains trading updates and feed events into the store at the
//! start of each frame (bounded work per frame), then draws the top bar (with the kill
//! switch), the circuit-breaker banner, the navigation rail, the selected panel and the
//! status bar, and finally sends the trading commands the panels produced to the trading
//! worker.

use std::path::Path;
use std::sync::Arc;

use crude_kernel::services::trading::{TradingCommand, TradingStatus, TradingUpdate};
use crude_kernel::{DriverFeed, LiveKernel};
use crude_model::{Clock, FeedKind, FeedStatus, Timestamp};
use egui::{RichText, Stroke};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::format;
use crate::panels::alerts;
use crate::panels::blotter::{self, BlotterCache, BlotterState};
use crate::panels::curve::{self, CurvePanelState};
use crate::panels::market::{self, MarketCache, MarketState};
use crate::panels::positions::{self, PositionsCache, usd, usd_signed};
use crate::panels::risk::{self, RiskCache, RiskPanelState};
use crate::panels::signals::{self, SignalsPanelState};
use crate::panels::trade::{self, TradeCache, TradeState};
use crate::theme;
use crate::view_model::{ViewModel, ViewModelConfig};

/// Key under which the UI state is persisted by eframe.
pub const STATE_KEY: &str = "crude.ui_state";
/// Longest the UI thread spends applying feed events in one frame.
pub const DRAIN_BUDGET_NS: i64 = 6_000_000;
/// Wall-clock seconds between two log lines of the feed statistics.
pub const STATS_LOG_SECS: f64 = 10.0;
/// Most updates of each kernel service applied in one frame.
pub const KERNEL_UPDATES_PER_FRAME: usize = 256;

/// The panels that exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PanelId {
    #[default]
    Market,
    Curve,
    Signals,
    Trade,
    Positions,
    Blotter,
    Risk,
}

impl PanelId {
    pub const ALL: [PanelId; 7] = [
        PanelId::Market,
        PanelId::Curve,
        PanelId::Signals,
        PanelId::Trade,
        PanelId::Positions,
        PanelId::Blotter,
        PanelId::Risk,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PanelId::Market => "Market",
            PanelId::Curve => "Curve & Spreads",
            PanelId::Signals => "Signals",
            PanelId::Trade => "Trade",
            PanelId::Positions => "Positions",
            PanelId::Blotter => "Blotter",
            PanelId::Risk => "Risk",
        }
    }
}

/// UI state that persists across restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    pub panel: PanelId,
    pub market: MarketState,
    pub trade: TradeState,
    pub blotter: BlotterState,
    pub risk: RiskPanelState,
    pub signals: SignalsPanelState,
    pub curve: CurvePanelState,
}

/// The Crude desktop application.
pub struct CrudeApp {
    vm: ViewModel,
    events: Option<DriverFeed>,
    wall: Arc<dyn Clock>,
    state: UiState,
    market_cache: MarketCache,
    themed: bool,
    /// Description of the data source for the status bar ("seed 42, 1×", a file name…).
    source_label: String,
    /// Wall time the process started, until the first frame with live quotes is logged.
    started_wall: Option<Timestamp>,
    /// Wall time the feed statistics were last logged.
    stats_logged_wall: Option<Timestamp>,
    /// The kernel running the services, when any run in this session.
    kernel: Option<LiveKernel>,
    trade_cache: TradeCache,
    positions_cache: PositionsCache,
    blotter_cache: BlotterCache,
    /// Commands the panels produced this frame, sent to the kernel after drawing.
    outbox: Vec<TradingCommand>,
    /// The kill switch's confirmation is open.
    kill_confirm: bool,
    risk_cache: RiskCache,
    /// Kept alive for as long as the app runs: the feed tasks live on it.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl CrudeApp {
    /// An app reading feed batches from `events` (the kernel's driver feed).
    pub fn new(
        config: ViewModelConfig,
        events: Option<DriverFeed>,
        wall: Arc<dyn Clock>,
        state: UiState,
        source_label: String,
    ) -> Self {
        Self {
            vm: ViewModel::new(config),
            events,
            wall,
            state,
            market_cache: MarketCache::default(),
            themed: false,
            source_label,
            started_wall: None,
            stats_logged_wall: None,
            kernel: None,
            trade_cache: TradeCache::default(),
            positions_cache: PositionsCache::default(),
            blotter_cache: BlotterCache::default(),
            outbox: Vec::new(),
            kill_confirm: false,
            risk_cache: RiskCache::default(),
            _runtime: None,
        }
    }

    /// Drive `kernel`: the panels show what its services report and send it what the
    /// user asks. The Trade, Positions and Blotter panels and the kill switch work when
    /// its trading service runs.
    pub fn with_kernel(mut self, kernel: LiveKernel) -> Self {
        if kernel.trading_runs() {
            self.vm.apply_trading(TradingUpdate::Status(TradingStatus::Starting));
        }
        self.kernel = Some(kernel);
        self
    }

    /// The kernel, when one runs.
    pub fn kernel(&self) -> Option<&LiveKernel> {
        self.kernel.as_ref()
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

    /// The view model (read-only), for tests and benches.
    pub fn view_model(&self) -> &ViewModel {
        &self.vm
    }

    /// The view model, for tests and benches that feed it directly.
    pub fn view_model_mut(&mut self) -> &mut ViewModel {
        &mut self.vm
    }

    /// The persisted UI state.
    pub fn ui_state(&self) -> &UiState {
        &self.state
    }

    /// Apply queued kernel updates, then queued feed batches, until the queues are empty
    /// or the frame budget is spent. Returns whether anything remains queued.
    pub fn drain(&mut self) -> bool {
        let start = self.wall.now();
        let mut more = false;
        if let Some(k) = self.kernel.as_mut() {
            let vm = &mut self.vm;
            more |= k.drain(KERNEL_UPDATES_PER_FRAME, |u| vm.apply_update(u));
            if self.wall.now().0 - start.0 > DRAIN_BUDGET_NS {
                return true;
            }
        }
        let Some(rx) = self.events.as_mut() else { return more };
        loop {
            match rx.try_recv() {
                Ok(batch) => {
                    let now = self.wall.now();
                    if batch.history {
                        for ev in batch.events.iter() {
                            self.vm.apply(ev, now);
                        }
                    } else {
                        self.vm.apply_batch(&batch.events, batch.sent_wall, now);
                    }
                    if now.0 - start.0 > DRAIN_BUDGET_NS {
                        more |= !rx.is_empty();
                        return more;
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => return more,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.events = None;
                    if self.vm.feed_status().is_streaming() {
                        let ev = crude_feeds::disconnected_event(
                            self.vm.feed_kind().unwrap_or(FeedKind::Simulated),
                            "feed task stopped",
                            self.wall.now(),
                        );
                        self.vm.apply(&ev, self.wall.now());
                    }
                    return more;
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
        self.vm.stats.roll(wall_now);
        self.log_feed_stats(wall_now);
        // Ctrl+N: a new order, on the Trade panel (not while the kill switch asks).
        self.trade_cache.set_keys_enabled(!self.kill_confirm);
        if !self.kill_confirm && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::N)) {
            self.state.panel = PanelId::Trade;
            self.trade_cache.new_order(&mut self.state.trade);
        }
        if top_bar(ui, &self.vm) {
            self.kill_confirm = true;
        }
        if breaker_banner(ui, &self.vm) {
            self.outbox.push(TradingCommand::ResetCircuitBreaker);
        }
        alerts::banner(ui, &self.vm.risk.alerts, &mut self.risk_cache.alerts);
        status_bar(ui, &self.vm, wall_now, &self.source_label, self.kernel.as_ref().and_then(LiveKernel::trading_db));
        nav_rail(ui, &mut self.state.panel);
        egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::BG)).show(ui, |ui| match self.state.panel {
            PanelId::Market => market::show(ui, &self.vm, &mut self.state.market, &mut self.market_cache, wall_now),
            PanelId::Signals => signals::show(ui, &self.vm.signals, &mut self.state.signals),
            PanelId::Curve => curve::show(ui, &self.vm.curve, &mut self.state.curve),
            PanelId::Trade => {
                trade::show(ui, &self.vm, &mut self.state.trade, &mut self.trade_cache, &mut self.outbox, wall_now)
            }
            PanelId::Positions => positions::show(ui, &self.vm, &mut self.positions_cache, &mut self.outbox),
            PanelId::Blotter => {
                egui::Frame::new().inner_margin(8.0).show(ui, |ui| {
                    blotter::show(ui, &self.vm, &mut self.state.blotter, &mut self.blotter_cache, &mut self.outbox);
                });
            }
            PanelId::Risk => {
                let cmds = egui::Frame::new()
                    .inner_margin(8.0)
                    .show(ui, |ui| risk::show(ui, &self.vm.risk, &mut self.state.risk, &mut self.risk_cache, wall_now))
                    .inner;
                if let Some(k) = &self.kernel {
                    for c in cmds {
                        k.send(c);
                    }
                }
            }
        });
        if let Some(p) = self.state.market.prefill.take() {
            self.state.trade.apply_prefill(&p);
            self.state.panel = PanelId::Trade;
        }
        if self.kill_confirm {
            self.kill_switch_dialog(ui);
        }
        self.send_commands();
        if let Some(t0) = self.started_wall
            && self.vm.board().any(|(_, q)| q.bid.is_some() || q.last.is_some())
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

    /// Logs the status bar's feed figures every [`STATS_LOG_SECS`] of wall time, so a
    /// session's tick rate and tick-to-store latency can be read back from the log.
    fn log_feed_stats(&mut self, wall_now: Timestamp) {
        let due = self.stats_logged_wall.is_none_or(|t| wall_now.secs_since(t) >= STATS_LOG_SECS);
        if !due || self.events.is_none() {
            return;
        }
        self.stats_logged_wall = Some(wall_now);
        let s = &self.vm.stats;
        if let (Some(p50), Some(p99)) = (s.latency_percentile_us(50.0), s.latency_percentile_us(99.0)) {
            tracing::info!(
                ticks_per_sec = format!("{:.0}", s.ticks_per_sec),
                p50_ms = format!("{:.2}", f64::from(p50) / 1e3),
                p99_ms = format!("{:.2}", f64::from(p99) / 1e3),
                events = s.events_total,
                "feed: tick-to-store latency"
            );
        }
    }

    /// The kill switch's confirmation dialog.
    fn kill_switch_dialog(&mut self, ui: &mut egui::Ui) {
        let (orders, positions) =
            self.vm.trading().snapshot.as_ref().map_or((0, 0), |s| (s.working.len(), s.strategy_positions_open));
        let mut confirm = false;
        let mut close = false;
        let modal = egui::Modal::new(egui::Id::unique("kill_switch_confirm")).show(ui.ctx(), |ui| {
            ui.set_width(440.0);
            ui.heading(RichText::new("Kill switch").color(theme::LOSS).strong());
            let text = format!("Cancel {orders} working orders and flatten {positions} positions at the market?");
            let r = ui.label(RichText::new(&text).strong());
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Kill switch {text}")));
            ui.label(
                RichText::new(
                    "Flattening orders are market orders; they bypass the pre-trade check. Recorded in the audit log.",
                )
                .small()
                .color(theme::MUTED),
            );
            ui.horizontal(|ui| {
                if ui.button(RichText::new("Confirm kill switch").strong().color(theme::LOSS)).clicked() {
                    confirm = true;
                }
                if ui.button("Keep trading").clicked() {
                    close = true;
                }
            });
        });
        if modal.backdrop_response.clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            close = true;
        }
        if confirm {
            self.outbox.push(TradingCommand::KillSwitch);
            self.kill_confirm = false;
        } else if close {
            self.kill_confirm = false;
        }
    }

    /// Sends the commands the panels produced to the trading worker.
    fn send_commands(&mut self) {
        if self.outbox.is_empty() {
            return;
        }
        let cmds = std::mem::take(&mut self.outbox);
        match &self.kernel {
            Some(k) if k.trading_runs() => {
                for c in cmds {
                    if !k.send(c) {
                        tracing::warn!("the trading service has stopped; command dropped");
                    }
                }
            }
            _ => tracing::warn!(commands = cmds.len(), "trading is not running in this session; commands dropped"),
        }
    }

    fn shutdown(&mut self) {
        if let Some(mut k) = self.kernel.take() {
            k.shutdown();
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

/// Draws the top bar; returns whether the kill switch was pressed.
fn top_bar(ui: &mut egui::Ui, store: &ViewModel) -> bool {
    let mut kill = false;
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
                    if store.trading().status.is_some() {
                        let r = ui.add(
                            egui::Button::new(RichText::new("KILL SWITCH").strong().color(theme::TEXT))
                                .fill(theme::faded(theme::LOSS, 0.8)),
                        );
                        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, "Kill switch"));
                        if r.clicked() {
                            kill = true;
                        }
                        if let Some(s) = &store.trading().snapshot {
                            let v = usd_signed(s.summary.total.net_pnl_usd);
                            let r = ui.label(
                                RichText::new(format!("P&L {v}"))
                                    .monospace()
                                    .color(theme::signed(Some(s.summary.total.net_pnl_usd))),
                            );
                            r.widget_info(|| {
                                egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Book P&L {v}"))
                            });
                        }
                        ui.separator();
                    }
                    let clock = store.feed_time().map_or("--".to_string(), format::exchange_time);
                    let r = ui.label(RichText::new(&clock).monospace().color(theme::TEXT));
                    r.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Exchange clock {clock}"))
                    });
                    ui.label(RichText::new("NYMEX/ICE").color(theme::MUTED).small());
                });
            });
        });
    kill
}

/// Draws the circuit-breaker banner while it is tripped; returns whether reset was pressed.
fn breaker_banner(ui: &mut egui::Ui, store: &ViewModel) -> bool {
    let Some(s) = store.trading().snapshot.as_ref().filter(|s| s.breaker_tripped) else { return false };
    let mut reset = false;
    egui::Panel::top("breaker_banner")
        .frame(egui::Frame::new().fill(theme::faded(theme::LOSS, 0.35)).inner_margin(egui::Margin::symmetric(10, 6)))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let text = format!(
                    "CIRCUIT BREAKER TRIPPED: day P&L {} reached the daily loss limit of {}. Only orders that reduce a position are accepted until it is reset.",
                    usd_signed(s.summary.day_pnl_net_usd),
                    usd(s.max_daily_loss_usd)
                );
                let r = ui.label(RichText::new(&text).strong().color(theme::TEXT));
                r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Circuit breaker {text}")));
                if ui.button(RichText::new("Reset circuit breaker").strong()).clicked() {
                    reset = true;
                }
            });
        });
    reset
}

fn status_bar(ui: &mut egui::Ui, store: &ViewModel, wall_now: Timestamp, source: &str, trading_db: Option<&Path>) {
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
                    (Some(p50), Some(p99)) => {
                        format!("tick-to-store p50 {}  p99 {}", format::latency_ms(p50), format::latency_ms(p99))
                    }
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
                if let Some(db) = trading_db {
                    ui.separator();
                    let (text, color) = match &store.trading().status {
                        Some(TradingStatus::Ready) => ("ready".to_string(), theme::PROFIT),
                        Some(TradingStatus::Stopped(why)) => (format!("stopped: {why}"), theme::LOSS),
                        Some(TradingStatus::WaitingForMarket) => {
                            ("waiting for market data".to_string(), theme::WARNING)
                        }
                        Some(TradingStatus::MarketClosed) => ("market feed ended".to_string(), theme::WARNING),
                        Some(TradingStatus::Starting) | None => ("starting".to_string(), theme::WARNING),
                    };
                    let label = format!("Trading: {text}");
                    let r = ui.label(RichText::new(&label).monospace().color(color));
                    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, label.clone()));
                    ui.label(RichText::new(db.display().to_string()).monospace().small().color(theme::MUTED));
                }
            });
        });
}

fn nav_rail(ui: &mut egui::Ui, panel: &mut PanelId) {
    egui::Panel::left("nav_rail")
        .resizable(false)
        .exact_size(128.0)
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
        let mut app = CrudeApp::new(ViewModelConfig::default(), None, wall.clone(), state, String::new());
        let mut storage = MemStorage::default();
        eframe::App::save(&mut app, &mut storage);
        let restored: UiState = eframe::get_value(&storage, STATE_KEY).expect("state saved");
        assert_eq!(restored.panel, PanelId::Market);
        assert_eq!(restored.market.timeframe, crude_model::Timeframe::H1);
        assert_eq!(restored.market.curve_market, crude_model::Market::Rbob);
        assert!(restored.market.view.show_ema);
    }
}
