//! The Market panel: quote board, candlestick chart, futures curves, and the WTI–Brent and
//! 3-2-1 crack tiles.

use crude_model::{Market, SeriesId, Timeframe, Timestamp};
use egui::{Color32, RichText, Sense, Stroke, vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};
use serde::{Deserialize, Serialize};

use crate::chart::{self, ChartView};
use crate::format;
use crate::overlays::OverlayCache;
use crate::panels::trade::OrderTicketPrefill;
use crate::theme;
use crate::view_model::{QuoteState, ViewModel};

/// A quote older than this (wall time) is shown greyed as stale.
pub const STALE_SECS: f64 = 30.0;
/// How long a price change flashes.
pub const FLASH_SECS: f64 = 0.6;

/// Market panel state that persists across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MarketState {
    /// The charted series; `None` picks the WTI front month.
    pub chart_series: Option<SeriesId>,
    pub timeframe: Timeframe,
    pub view: ChartView,
    pub curve_market: Market,
    pub all_months: bool,
    /// A price clicked on the quote board, for the shell to load into the order ticket.
    #[serde(skip)]
    pub prefill: Option<OrderTicketPrefill>,
}

impl Default for MarketState {
    fn default() -> Self {
        Self {
            chart_series: None,
            timeframe: Timeframe::M1,
            view: ChartView::default(),
            curve_market: Market::Wti,
            all_months: false,
            prefill: None,
        }
    }
}

/// Per-frame caches of the Market panel (not persisted).
#[derive(Default)]
pub struct MarketCache {
    overlays: OverlayCache,
    overlay_key: Option<(SeriesId, Timeframe)>,
}

/// Draw the Market panel.
pub fn show(
    ui: &mut egui::Ui,
    store: &ViewModel,
    state: &mut MarketState,
    cache: &mut MarketCache,
    wall_now: Timestamp,
) {
    let streaming = store.feed_status().is_streaming();
    egui::Panel::left("market_board")
        .resizable(true)
        .default_size(660.0)
        .frame(egui::Frame::new().fill(theme::BG).inner_margin(6.0))
        .show(ui, |ui| {
            quote_board(ui, store, state, wall_now, streaming);
        });
    egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::BG).inner_margin(6.0)).show(ui, |ui| {
        tiles(ui, store);
        ui.add_space(4.0);
        let avail = ui.available_height();
        let chart_h = (avail * 0.6).max(200.0);
        ui.allocate_ui(vec2(ui.available_width(), chart_h), |ui| chart_area(ui, store, state, cache));
        ui.separator();
        curve_area(ui, store, state);
    });
}

fn header(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).color(theme::MUTED).small().strong());
}

fn quote_board(ui: &mut egui::Ui, store: &ViewModel, state: &mut MarketState, wall_now: Timestamp, streaming: bool) {
    ui.horizontal(|ui| {
        header(ui, "QUOTE BOARD");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.toggle_value(&mut state.all_months, "All months");
        });
    });
    if store.board().next().is_none() {
        ui.add_space(20.0);
        ui.label(RichText::new(if streaming { "Waiting for quotes…" } else { "Data unavailable" }).color(theme::MUTED));
        return;
    }
    // Contracts past their last trading day leave the board (their history stays charted).
    let today = store.feed_time().map(crude_model::trading_date);
    let expired = |id: &SeriesId| match (id, today) {
        (SeriesId::Contract(c), Some(d)) => c.last_trade_date() < d,
        _ => false,
    };
    let has_contracts: [bool; 4] =
        Market::ALL.map(|m| store.board().any(|(id, _)| matches!(id, SeriesId::Contract(c) if c.market == m)));
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        egui::Grid::new("quote_board_grid").striped(true).spacing(vec2(10.0, 3.0)).show(ui, |ui| {
            for h in ["Contract", "Last", "Chg", "%Chg", "Bid", "Ask", "BSz", "ASz", "Volume", "High", "Low", "Age"] {
                header(ui, h);
            }
            ui.end_row();
            let mut shown_per_market = [0usize; 4];
            for (id, q) in store.board() {
                let m = id.market();
                match id {
                    SeriesId::Continuous { .. } if has_contracts[m.index()] => continue,
                    _ if expired(&id) => continue,
                    _ => {}
                }
                shown_per_market[m.index()] += 1;
                if !state.all_months && shown_per_market[m.index()] > 3 {
                    continue;
                }
                board_row(ui, id, q, state, wall_now, store.feed_time(), streaming);
                ui.end_row();
            }
        });
    });
}

fn board_row(
    ui: &mut egui::Ui,
    id: SeriesId,
    q: &QuoteState,
    state: &mut MarketState,
    wall_now: Timestamp,
    feed_now: Option<Timestamp>,
    streaming: bool,
) {
    let (volume, high, low) = q.session_stats(feed_now.unwrap_or(q.updated));
    let m = id.market();
    let age = if q.updated_wall.0 == i64::MIN { f64::INFINITY } else { wall_now.secs_since(q.updated_wall) };
    let stale = !streaming || age > STALE_SECS;
    let text_color = if stale { theme::MUTED } else { theme::TEXT };
    let name = id.to_string();
    let selected = state.chart_series == Some(id);
    let r = ui.selectable_label(
        selected,
        RichText::new(&name).monospace().color(if selected { theme::ACCENT } else { text_color }),
    );
    if r.clicked() {
        state.chart_series = Some(id);
    }
    // Last, with an up/down flash after a change.
    let flash = wall_now.secs_since(q.changed_wall) < FLASH_SECS;
    let last_color = if stale {
        theme::MUTED
    } else if q.tick_dir > 0 {
        theme::PROFIT
    } else if q.tick_dir < 0 {
        theme::LOSS
    } else {
        theme::TEXT
    };
    let mut last_text =
        RichText::new(format::price(m, q.last.or_else(|| q.mark()))).monospace().color(last_color).strong();
    if flash && !stale {
        last_text = last_text.background_color(theme::faded(last_color, 0.25));
    }
    // Prices are clickable: they load the order ticket (bid: sell there, ask: buy there).
    let contract = match id {
        SeriesId::Contract(c) => Some(c),
        SeriesId::Continuous { market, nth } => {
            feed_now.map(|t| market.nth_contract(crude_model::trading_date(t), u32::from(nth)))
        }
    };
    let mut prefill = |side: Option<crude_model::Side>, price: Option<f64>| {
        if let Some(contract) = contract {
            state.prefill = Some(OrderTicketPrefill { contract, side, price });
        }
    };
    let lr = ui.add(egui::Label::new(last_text).sense(Sense::click())).on_hover_text("Click to load the order ticket");
    let last_str = format::price(m, q.last.or_else(|| q.mark()));
    lr.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{name} last {last_str}")));
    if lr.clicked() {
        prefill(None, q.last.or_else(|| q.mark()));
    }
    let chg = q.change();
    let cc = if stale { theme::MUTED } else { theme::signed(chg) };
    ui.label(RichText::new(format::change(m, chg)).monospace().color(cc));
    ui.label(RichText::new(format::pct(q.pct_change())).monospace().color(cc));
    let bid = ui
        .add(
            egui::Label::new(RichText::new(format::price(m, q.bid)).monospace().color(text_color))
                .sense(Sense::click()),
        )
        .on_hover_text("Click to sell at the bid");
    let bid_str = format::price(m, q.bid);
    bid.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{name} bid {bid_str}")));
    if bid.clicked() {
        prefill(Some(crude_model::Side::Sell), q.bid);
    }
    let ask = ui
        .add(
            egui::Label::new(RichText::new(format::price(m, q.ask)).monospace().color(text_color))
                .sense(Sense::click()),
        )
        .on_hover_text("Click to buy at the ask");
    let ask_str = format::price(m, q.ask);
    ask.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{name} ask {ask_str}")));
    if ask.clicked() {
        prefill(Some(crude_model::Side::Buy), q.ask);
    }
    ui.label(RichText::new(q.bid_size.to_string()).monospace().color(theme::MUTED));
    ui.label(RichText::new(q.ask_size.to_string()).monospace().color(theme::MUTED));
    ui.label(RichText::new(format::volume(volume)).monospace().color(text_color));
    ui.label(RichText::new(format::price(m, high)).monospace().color(text_color));
    ui.label(RichText::new(format::price(m, low)).monospace().color(text_color));
    let age_text = if stale && streaming { format!("{} stale", format::age(age)) } else { format::age(age) };
    ui.label(RichText::new(age_text).monospace().color(if stale { theme::WARNING } else { theme::MUTED }));
}

fn sparkline(
    ui: &mut egui::Ui,
    points: &std::collections::VecDeque<(Timestamp, f64)>,
    size: egui::Vec2,
    color: Color32,
) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_stroke(rect, 2.0, Stroke::new(1.0, theme::BORDER), egui::StrokeKind::Inside);
    if points.len() < 2 {
        return;
    }
    let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, v)| (l.min(*v), h.max(*v)));
    let span = (hi - lo).max(1e-9);
    let n = points.len();
    // Never more segments than horizontal pixels.
    let step = n.div_ceil(rect.width().max(1.0) as usize).max(1);
    let pts: Vec<egui::Pos2> = points
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, (_, v))| {
            egui::pos2(
                rect.left() + 2.0 + (rect.width() - 4.0) * i as f32 / (n - 1) as f32,
                rect.bottom() - 2.0 - (rect.height() - 4.0) * ((v - lo) / span) as f32,
            )
        })
        .collect();
    painter.add(egui::Shape::line(pts, Stroke::new(1.2, color)));
}

fn tiles(ui: &mut egui::Ui, store: &ViewModel) {
    ui.horizontal(|ui| {
        for (title, label, series, unit) in [
            ("WTI–BRENT", "WTI-Brent spread", store.wti_brent(), "$/bbl"),
            ("3-2-1 CRACK", "3-2-1 crack", store.crack_321(), "$/bbl"),
        ] {
            egui::Frame::new()
                .fill(theme::SURFACE)
                .stroke(Stroke::new(1.0, theme::BORDER))
                .inner_margin(6.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.vertical(|ui| {
                            header(ui, title);
                            let v = series.back().map(|(_, v)| *v);
                            let txt = v.map_or("—".to_string(), |v| format!("{v:+.2}"));
                            let r = ui.label(RichText::new(&txt).monospace().size(18.0).color(theme::TEXT));
                            r.widget_info(|| {
                                egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{label} {txt}"))
                            });
                            let first = series.front().map(|(_, v)| *v);
                            let d = v.zip(first).map(|(a, b)| a - b);
                            ui.label(
                                RichText::new(format!("{} {unit}", d.map_or("—".into(), |d| format!("{d:+.2}"))))
                                    .monospace()
                                    .small()
                                    .color(theme::signed(d)),
                            );
                        });
                        sparkline(ui, series, vec2(180.0, 44.0), theme::ACCENT);
                    });
                });
        }
    });
}

fn chart_area(ui: &mut egui::Ui, store: &ViewModel, state: &mut MarketState, cache: &mut MarketCache) {
    let default_series =
        store.front(Market::Wti).map(SeriesId::Contract).or_else(|| store.charted_series().first().copied());
    let series = state
        .chart_series
        .filter(|s| store.bars(*s, state.timeframe).is_some() || store.quote(*s).is_some())
        .or(default_series);
    ui.horizontal(|ui| {
        header(ui, "CHART");
        let label = series.map_or("—".to_string(), |s| s.to_string());
        let combo = egui::ComboBox::from_id_salt("chart_series")
            .selected_text(RichText::new(&label).monospace())
            .show_ui(ui, |ui| {
                for s in store.charted_series() {
                    if ui.selectable_label(Some(s) == series, RichText::new(s.to_string()).monospace()).clicked() {
                        state.chart_series = Some(s);
                    }
                }
            });
        combo
            .response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, format!("Chart series {label}")));
        ui.separator();
        for tf in Timeframe::ALL {
            let r = ui.selectable_label(state.timeframe == tf, RichText::new(tf.label()).monospace());
            if r.clicked() {
                state.timeframe = tf;
                state.view.follow_live = true;
            }
        }
        ui.separator();
        ui.toggle_value(&mut state.view.show_sma, "SMA 20");
        ui.toggle_value(&mut state.view.show_ema, "EMA 50");
        ui.toggle_value(&mut state.view.show_bollinger, "BB 20,2");
        ui.toggle_value(&mut state.view.show_volume, "Vol");
        ui.separator();
        let live = ui.selectable_label(
            state.view.follow_live,
            RichText::new("• Live").color(if state.view.follow_live { theme::PROFIT } else { theme::MUTED }),
        );
        if live.clicked() {
            state.view.follow_live = true;
        }
    });
    let Some(series) = series else {
        ui.centered_and_justified(|ui| ui.label(RichText::new("No bars yet").color(theme::MUTED)));
        return;
    };
    let Some(bars) = store.bars(series, state.timeframe) else {
        ui.centered_and_justified(|ui| {
            ui.label(RichText::new(format!("No {} bars for {series} yet", state.timeframe.label())).color(theme::MUTED))
        });
        return;
    };
    if cache.overlay_key != Some((series, state.timeframe)) {
        cache.overlays = OverlayCache::default();
        cache.overlay_key = Some((series, state.timeframe));
    }
    let m = series.market();
    let readout_rect = ui.allocate_exact_size(vec2(ui.available_width(), 16.0), Sense::hover()).0;
    let hover = chart::show(
        ui,
        &format!("chart_{series}_{}", state.timeframe.label()),
        m,
        bars,
        &mut state.view,
        &mut cache.overlays,
    );
    let text = match (hover, bars.last()) {
        (Some(h), _) => chart::readout(m, state.timeframe, &h.bar, Some(h.price)),
        (None, Some(b)) => chart::readout(m, state.timeframe, b, None),
        (None, None) => String::new(),
    };
    ui.painter().text(readout_rect.left_center(), egui::Align2::LEFT_CENTER, text, theme::mono(12.0), theme::MUTED);
}

/// Contango / backwardation classification of a curve: the M1–M12 (or last) spread
/// relative to the front price, with a neutral band of ±0.5 %.
pub fn curve_shape(prices: &[f64]) -> &'static str {
    let (Some(first), Some(last)) = (prices.first(), prices.last()) else { return "—" };
    let rel = (last - first) / first.abs().max(1e-9);
    if rel > 0.005 {
        "Contango"
    } else if rel < -0.005 {
        "Backwardation"
    } else {
        "Flat"
    }
}

fn curve_area(ui: &mut egui::Ui, store: &ViewModel, state: &mut MarketState) {
    let m = state.curve_market;
    let hist = store.curve(m);
    ui.horizontal(|ui| {
        header(ui, "FUTURES CURVE");
        for mk in Market::ALL {
            let r = ui.selectable_label(state.curve_market == mk, RichText::new(mk.code()).monospace());
            r.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::Role::Button,
                    true,
                    state.curve_market == mk,
                    format!("Curve {}", mk.code()),
                )
            });
            if r.clicked() {
                state.curve_market = mk;
            }
        }
        if let Some(c) = &hist.latest {
            let p: Vec<f64> = c.points.iter().map(|p| p.price).collect();
            let shape = curve_shape(&p);
            ui.separator();
            let color = match shape {
                "Contango" => theme::ACCENT,
                "Backwardation" => theme::WARNING,
                _ => theme::MUTED,
            };
            let r = ui.label(RichText::new(shape).strong().color(color));
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{} curve {shape}", m.code())));
            let spread = |a: usize, b: usize| p.get(a).zip(p.get(b)).map(|(x, y)| x - y);
            ui.label(RichText::new(format!("M1–M2 {}", format::change(m, spread(0, 1)))).monospace());
            let last = p.len().saturating_sub(1);
            ui.label(RichText::new(format!("M1–M{} {}", last + 1, format::change(m, spread(0, last)))).monospace());
        }
    });
    let Some(latest) = &hist.latest else {
        ui.label(RichText::new("No curve yet").color(theme::MUTED));
        return;
    };
    let to_points = |c: &crude_model::CurveSnapshot| -> Vec<[f64; 2]> {
        c.points.iter().enumerate().map(|(i, p)| [(i + 1) as f64, p.price]).collect()
    };
    let labels: Vec<String> = latest.points.iter().map(|p| p.contract.to_string()).collect();
    let decimals = format::decimals(m);
    Plot::new(format!("curve_{}", m.code()))
        .legend(Legend::default())
        .show_background(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .grid_color(theme::BORDER)
        .y_axis_min_width(48.0)
        .y_axis_formatter(move |mark, _| format!("{:.*}", decimals, mark.value))
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round() as i64;
            if (mark.value - i as f64).abs() > 1e-6 || i < 1 {
                return String::new();
            }
            labels.get(i as usize - 1).cloned().unwrap_or_default()
        })
        .show(ui, |pui| {
            if let Some(w) = hist.sessions_ago(5) {
                pui.line(
                    Line::new("1 week ago", PlotPoints::new(to_points(w)))
                        .color(theme::faded(theme::MUTED, 0.35))
                        .width(1.0),
                );
            }
            if let Some(d) = hist.sessions_ago(1) {
                pui.line(
                    Line::new("1 day ago", PlotPoints::new(to_points(d)))
                        .color(theme::faded(theme::MUTED, 0.7))
                        .width(1.2),
                );
            }
            let now = to_points(latest);
            pui.line(Line::new("Now", PlotPoints::new(now.clone())).color(theme::ACCENT).width(2.0));
            pui.points(Points::new("", now).color(theme::ACCENT).radius(2.5));
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(curve_shape(&[70.0, 70.5, 72.0]), "Contango");
        assert_eq!(curve_shape(&[70.0, 69.0, 66.0]), "Backwardation");
        assert_eq!(curve_shape(&[70.0, 70.1]), "Flat");
        assert_eq!(curve_shape(&[-10.0, 5.0]), "Contango");
        assert_eq!(curve_shape(&[]), "—");
    }
}
