//! Crude's desktop app (eframe/egui): the view model that the panels read, the shell that
//! drains the kernel's updates and the feed's events into it without blocking the UI
//! thread, the theme, and the panels. The app only draws: every domain service runs in
//! the headless kernel (`crude-kernel`).

mod app;
pub mod bars;
pub mod chart;
pub mod format;
pub mod overlays;
pub mod panels;
pub mod theme;
pub mod view_model;

pub use app::{CrudeApp, DRAIN_BUDGET_NS, KERNEL_UPDATES_PER_FRAME, PanelId, STATE_KEY, UiState};
pub use view_model::{ViewModel, ViewModelConfig};
