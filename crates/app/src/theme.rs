//! The "terminal noir" theme: colours, spacing and monospace tabular figures.

use egui::{Color32, FontFamily, FontId, Stroke, TextStyle, Visuals};

pub const BG: Color32 = Color32::from_rgb(0x0D, 0x11, 0x17);
pub const SURFACE: Color32 = Color32::from_rgb(0x16, 0x1B, 0x22);
pub const BORDER: Color32 = Color32::from_rgb(0x30, 0x36, 0x3D);
pub const TEXT: Color32 = Color32::from_rgb(0xE6, 0xED, 0xF3);
pub const MUTED: Color32 = Color32::from_rgb(0x8B, 0x94, 0x9E);
pub const ACCENT: Color32 = Color32::from_rgb(0x58, 0xA6, 0xFF);
pub const PROFIT: Color32 = Color32::from_rgb(0x3F, 0xB9, 0x50);
pub const LOSS: Color32 = Color32::from_rgb(0xF8, 0x51, 0x49);
pub const WARNING: Color32 = Color32::from_rgb(0xD2, 0x99, 0x22);

/// Colour for a signed value: profit green, loss red, muted for zero or unknown.
pub fn signed(v: Option<f64>) -> Color32 {
    match v {
        Some(x) if x > 0.0 => PROFIT,
        Some(x) if x < 0.0 => LOSS,
        _ => MUTED,
    }
}

/// A colour faded towards the background by `alpha` (0 = invisible, 1 = as is).
pub fn faded(c: Color32, alpha: f32) -> Color32 {
    c.gamma_multiply(alpha.clamp(0.0, 1.0))
}

/// The monospace font used for every number.
pub fn mono(size: f32) -> FontId {
    FontId::new(size, FontFamily::Monospace)
}

/// Apply the theme to a context.
pub fn apply(ctx: &egui::Context) {
    let mut v = Visuals::dark();
    v.panel_fill = BG;
    v.window_fill = SURFACE;
    v.extreme_bg_color = BG;
    v.faint_bg_color = SURFACE;
    v.code_bg_color = SURFACE;
    v.override_text_color = Some(TEXT);
    v.hyperlink_color = ACCENT;
    v.selection.bg_fill = ACCENT.gamma_multiply(0.35);
    v.selection.stroke = Stroke::new(1.0, ACCENT);
    v.window_stroke = Stroke::new(1.0, BORDER);
    v.warn_fg_color = WARNING;
    v.error_fg_color = LOSS;
    for w in [
        &mut v.widgets.noninteractive,
        &mut v.widgets.inactive,
        &mut v.widgets.hovered,
        &mut v.widgets.active,
        &mut v.widgets.open,
    ] {
        w.bg_stroke = Stroke::new(1.0, BORDER);
    }
    v.widgets.noninteractive.bg_fill = SURFACE;
    v.widgets.noninteractive.fg_stroke = Stroke::new(1.0, TEXT);
    v.widgets.inactive.bg_fill = SURFACE;
    v.widgets.inactive.weak_bg_fill = SURFACE;
    v.widgets.hovered.bg_fill = BORDER;
    v.widgets.hovered.weak_bg_fill = BORDER;
    v.widgets.active.bg_fill = ACCENT.gamma_multiply(0.5);
    ctx.set_theme(egui::Theme::Dark);
    ctx.all_styles_mut(|style| {
        style.visuals = v.clone();
        style.text_styles.insert(TextStyle::Monospace, mono(13.0));
        style.text_styles.insert(TextStyle::Body, FontId::new(13.0, FontFamily::Proportional));
        style.text_styles.insert(TextStyle::Small, FontId::new(11.0, FontFamily::Proportional));
        style.spacing.item_spacing = egui::vec2(8.0, 4.0);
    });
}

/// A flat horizontal bar for a utilisation or a confidence: a visible rail (the panel
/// background would hide egui's default one) and a square-ended fill, so a few percent
/// draws as a sliver rather than a rounded dot. `fraction` is clamped to [0, 1]; `text`
/// is drawn over the bar. Reported to AccessKit as a progress indicator with the
/// percentage as its value.
pub fn bar(ui: &mut egui::Ui, fraction: f64, fill: Color32, width: f32, text: Option<&str>) -> egui::Response {
    let height = ui.spacing().interact_size.y.max(14.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    let f = if fraction.is_finite() { fraction.clamp(0.0, 1.0) as f32 } else { 0.0 };
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        painter.rect_filled(rect, 2.0, SURFACE);
        painter.rect_stroke(rect, 2.0, egui::Stroke::new(1.0, BORDER), egui::StrokeKind::Inside);
        if f > 0.0 {
            let fill_rect = egui::Rect::from_min_size(rect.min, egui::vec2((rect.width() * f).max(2.0), rect.height()));
            painter.rect_filled(fill_rect, 2.0, fill);
        }
        if let Some(t) = text {
            painter.text(rect.center(), egui::Align2::CENTER_CENTER, t, egui::FontId::proportional(11.0), TEXT);
        }
    }
    let value = f64::from(f) * 100.0;
    response.widget_info(|| {
        let mut info = egui::WidgetInfo::new(egui::Role::ProgressIndicator);
        info.value = Some(value.floor());
        info
    });
    response
}

/// A label whose accessible name is `label` (stable text that tests and screen readers
/// find, e.g. "CL composite LONG") while it shows the styled `text`.
pub fn labeled(ui: &mut egui::Ui, text: egui::RichText, label: String) -> egui::Response {
    let r = ui.label(text);
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, label.clone()));
    r
}
