//! Crude's desktop app (eframe/egui): the state store that the panels read, the shell that
//! drains feed events into it without blocking the UI thread, the theme, and the panels.

mod app;
pub mod bars;
pub mod chart;
pub mod format;
pub mod overlays;
pub mod panels;
pub mod store;
pub mod theme;
pub mod workers;

pub use app::{CrudeApp, DRAIN_BUDGET_NS, PanelId, STATE_KEY, UiState};
pub use store::{Store, StoreConfig};
