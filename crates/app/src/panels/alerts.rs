//! Limit alerts on screen: a dismissable banner across the top of the window ([`banner`])
//! and the list on the Risk panel ([`list`]). The rules that raise them are
//! [`crude_risk::LimitAlerts`].

use crude_risk::{LimitAlerts, Zone, limit_amount, percent, zone_name};
use egui::RichText;

use crate::format;
use crate::theme;

/// What the user dismissed (kept per session, not persisted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertsUiState {
    /// Alerts up to this sequence number are off the banner.
    pub dismissed_seq: u64,
}

/// Theme colour of a zone.
pub fn zone_color(z: Zone) -> egui::Color32 {
    match z {
        Zone::Ok => theme::PROFIT,
        Zone::Warning => theme::WARNING,
        Zone::Critical | Zone::Breach => theme::LOSS,
    }
}

/// Draws the alert banner across the top of the window while an undismissed alert exists.
/// Call it before the central panel (it is an `egui::Panel::top`).
pub fn banner(ui: &mut egui::Ui, alerts: &LimitAlerts, state: &mut AlertsUiState) {
    let Some(a) = alerts.latest().filter(|a| a.seq > state.dismissed_seq) else { return };
    let color = zone_color(a.zone);
    let newer = alerts.alerts().iter().take_while(|x| x.seq > state.dismissed_seq).count();
    egui::Panel::top("risk_alert_banner")
        .frame(egui::Frame::new().fill(theme::faded(color, 0.35)).inner_margin(egui::Margin::symmetric(10, 6)))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let text = format!("RISK ALERT {} at {}", a.text(), format::exchange_time(a.ts));
                let r = ui.label(RichText::new(&text).strong().color(theme::TEXT));
                r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Alert banner {text}")));
                if newer > 1 {
                    ui.label(RichText::new(format!("(+{} more)", newer - 1)).color(theme::TEXT).small());
                }
                if ui.button(RichText::new("Dismiss alert").strong()).clicked() {
                    state.dismissed_seq = a.seq;
                }
            });
        });
}

/// Draws the alert list (most recent first): time, limit, value, zone.
pub fn list(ui: &mut egui::Ui, alerts: &LimitAlerts) {
    if alerts.alerts().is_empty() {
        ui.label(RichText::new("No limit alerts").color(theme::MUTED));
        return;
    }
    egui::ScrollArea::vertical().id_salt("risk_alert_list").max_height(180.0).show(ui, |ui| {
        egui::Grid::new("risk_alert_grid").striped(true).spacing(egui::vec2(12.0, 2.0)).show(ui, |ui| {
            for h in ["Time", "Limit", "Value", "Limit value", "Used", "Zone"] {
                ui.label(RichText::new(h).color(theme::MUTED).small().strong());
            }
            ui.end_row();
            for a in alerts.alerts() {
                ui.label(RichText::new(format::exchange_time(a.ts)).monospace());
                ui.label(&a.label);
                ui.label(RichText::new(limit_amount(&a.key, a.value)).monospace());
                ui.label(RichText::new(limit_amount(&a.key, a.limit)).monospace());
                ui.label(RichText::new(percent(a.utilisation)).monospace());
                let z = zone_name(a.zone);
                let r = ui.label(RichText::new(z).strong().color(zone_color(a.zone)));
                let text = format!("Alert {} {} {}", a.label, percent(a.utilisation), z);
                r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, text.clone()));
                ui.end_row();
            }
        });
    });
}
