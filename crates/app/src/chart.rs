//! The candlestick chart: candles and volume over an egui_plot, decimated so that no more
//! candles are drawn than the plot has room for, with a crosshair readout, overlays, and a
//! live edge that is followed until the user pans or zooms.
//!
//! The x axis is the bar's position in its series (session breaks and weekends take no
//! space, as on every trading chart); the y axis fits the visible bars.

use std::collections::VecDeque;

use crude_model::{Bar, Market, Timeframe, Timestamp};
use egui::{Color32, Pos2, Rect, Stroke, vec2};
use egui_plot::{Line, Plot, PlotBounds, PlotPoints};

use crate::bars::BarSeries;
use crate::format;
use crate::overlays::OverlayCache;
use crate::theme;

/// Smallest horizontal room a drawn candle gets, in points.
pub const MIN_CANDLE_PX: f32 = 3.0;
/// Bars shown when following the live edge.
pub const LIVE_WINDOW_BARS: f64 = 120.0;

/// One drawn candle: bars merged into a pixel column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// Absolute x of the first and last merged bar.
    pub x0: f64,
    pub x1: f64,
    pub bar: Bar,
}

/// Merge the bars with absolute positions in `[x_min, x_max]` into at most `max_columns`
/// columns (first open, highest high, lowest low, last close, summed volume). Bars are
/// borrowed, never copied wholesale; the output is at most `max_columns` long.
pub fn decimate(bars: &VecDeque<Bar>, evicted: u64, x_min: f64, x_max: f64, max_columns: usize) -> Vec<Column> {
    let n = bars.len();
    if n == 0 || max_columns == 0 || x_max < x_min {
        return Vec::new();
    }
    let first = (x_min.floor() - evicted as f64).max(0.0) as usize;
    let last = ((x_max.ceil() - evicted as f64).max(-1.0) as i64).min(n as i64 - 1);
    if last < first as i64 {
        return Vec::new();
    }
    let last = last as usize;
    let count = last - first + 1;
    let per = count.div_ceil(max_columns).max(1);
    let mut out = Vec::with_capacity(count.div_ceil(per));
    let mut i = first;
    while i <= last {
        let end = (i + per - 1).min(last);
        let b0 = bars[i];
        let mut merged = b0;
        for b in bars.range(i + 1..=end) {
            merged.high = merged.high.max(b.high);
            merged.low = merged.low.min(b.low);
            merged.close = b.close;
            merged.volume += b.volume;
        }
        out.push(Column { x0: (evicted + i as u64) as f64, x1: (evicted + end as u64) as f64, bar: merged });
        i = end + 1;
    }
    out
}

/// Chart view state kept between frames.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChartView {
    pub follow_live: bool,
    /// Bars across the plot (kept when returning to the live edge after a zoom).
    pub span_bars: f64,
    pub show_sma: bool,
    pub show_ema: bool,
    pub show_bollinger: bool,
    pub show_volume: bool,
}

impl Default for ChartView {
    fn default() -> Self {
        Self {
            follow_live: true,
            span_bars: LIVE_WINDOW_BARS,
            show_sma: true,
            show_ema: false,
            show_bollinger: true,
            show_volume: true,
        }
    }
}

/// What the crosshair is over.
#[derive(Debug, Clone, Copy)]
pub struct Hover {
    pub bar: Bar,
    pub price: f64,
}

/// Draw the chart for `series` into the available space. Returns the hovered bar.
pub fn show(
    ui: &mut egui::Ui,
    id: &str,
    market: Market,
    series: &BarSeries,
    view: &mut ChartView,
    overlays: &mut OverlayCache,
) -> Option<Hover> {
    let bars = series.bars();
    let evicted = series.evicted();
    let n = bars.len();
    let daily = series.timeframe() == Timeframe::D1;
    let last_x = (evicted + n as u64) as f64 - 1.0;
    let first_x = evicted as f64;
    let decimals = format::decimals(market);

    overlays.update(series);

    let axis_bars = bars;
    let plot = Plot::new(id)
        .show_background(false)
        .show_crosshair(true)
        .allow_zoom([true, false])
        .allow_drag([true, false])
        .allow_scroll([true, false])
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .auto_bounds([false, false])
        .show_grid([false, true])
        .grid_color(theme::BORDER)
        .y_axis_min_width(48.0)
        .x_axis_formatter(move |mark, _range| {
            let i = mark.value.round() as i64 - evicted as i64;
            if i < 0 || i as usize >= axis_bars.len() {
                return String::new();
            }
            format::axis_time(axis_bars[i as usize].start, daily)
        })
        .y_axis_formatter(move |mark, _range| format!("{:.*}", decimals, mark.value))
        .label_formatter(|_| None);

    let mut columns: Vec<Column> = Vec::new();
    let width_px = ui.available_width().max(50.0);
    let resp = plot.show(ui, |pui| {
        // x range: follow the live edge, or keep what the user panned/zoomed to.
        let b = pui.plot_bounds();
        let (mut x0, mut x1) = (b.min()[0], b.max()[0]);
        let off_data = x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater) || x0 > last_x + 10.0 || x1 < first_x;
        if !view.follow_live && !off_data {
            view.span_bars = (x1 - x0).clamp(5.0, 1e7);
        }
        if view.follow_live || off_data {
            if !(view.span_bars.is_finite() && view.span_bars >= 5.0) {
                view.span_bars = LIVE_WINDOW_BARS;
            }
            x1 = last_x + 3.0;
            x0 = x1 - view.span_bars;
        }
        let max_cols = ((width_px / MIN_CANDLE_PX) as usize).max(1);
        columns = decimate(bars, evicted, x0, x1, max_cols);
        let (mut lo, mut hi) = columns
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| (lo.min(c.bar.low), hi.max(c.bar.high)));
        if view.show_bollinger {
            for (x, u, l) in overlays.bollinger_in(x0, x1) {
                let _ = x;
                hi = hi.max(u);
                lo = lo.min(l);
            }
        }
        if !lo.is_finite() || !hi.is_finite() {
            lo = 0.0;
            hi = 1.0;
        }
        let pad = ((hi - lo) * 0.06).max(10f64.powi(-(decimals as i32)));
        // Room at the bottom for the volume bars.
        let vol_room = if view.show_volume { (hi - lo + 2.0 * pad) * 0.22 } else { 0.0 };
        pui.set_plot_bounds(PlotBounds::from_min_max([x0, lo - pad - vol_room], [x1, hi + pad]));

        let stride = (columns.len() / 2000).max(1);
        let _ = stride;
        if view.show_sma {
            pui.line(Line::new("SMA 20", overlays.sma_points(x0, x1, max_cols)).color(theme::WARNING).width(1.2));
        }
        if view.show_ema {
            pui.line(
                Line::new("EMA 50", overlays.ema_points(x0, x1, max_cols))
                    .color(Color32::from_rgb(0xBC, 0x8C, 0xFF))
                    .width(1.2),
            );
        }
        if view.show_bollinger {
            let (u, m, l) = overlays.bollinger_points(x0, x1, max_cols);
            let c = theme::faded(theme::ACCENT, 0.7);
            pui.line(Line::new("BB upper", PlotPoints::new(u)).color(c).width(1.0));
            pui.line(Line::new("BB middle", PlotPoints::new(m)).color(theme::faded(theme::ACCENT, 0.4)).width(1.0));
            pui.line(Line::new("BB lower", PlotPoints::new(l)).color(c).width(1.0));
        }
        pui.pointer_coordinate()
    });

    // Any user pan or zoom leaves the live edge.
    let r = &resp.response;
    let scrolled = r.hovered() && ui.input(|i| i.smooth_scroll_delta != egui::Vec2::ZERO || i.zoom_delta() != 1.0);
    if r.dragged() || scrolled {
        view.follow_live = false;
    }

    // Candles and volume, painted over the plot with its transform.
    let t = &resp.transform;
    let painter = ui.painter_at(*t.frame());
    let frame = *t.frame();
    let max_vol = columns.iter().map(|c| c.bar.volume).max().unwrap_or(0).max(1) as f32;
    let vol_height = frame.height() * 0.16;
    for c in &columns {
        let xl = t.position_from_point_x(c.x0 - 0.4);
        let xr = t.position_from_point_x(c.x1 + 0.4);
        let xm = 0.5 * (xl + xr);
        let up = c.bar.close >= c.bar.open;
        let color = if up { theme::PROFIT } else { theme::LOSS };
        let y_open = t.position_from_point_y(c.bar.open);
        let y_close = t.position_from_point_y(c.bar.close);
        let y_high = t.position_from_point_y(c.bar.high);
        let y_low = t.position_from_point_y(c.bar.low);
        painter.line_segment([Pos2::new(xm, y_high), Pos2::new(xm, y_low)], Stroke::new(1.0, color));
        let body_w = ((xr - xl) * 0.7).max(1.0);
        let (top, bottom) = (y_open.min(y_close), y_open.max(y_close).max(y_open.min(y_close) + 1.0));
        painter.rect_filled(
            Rect::from_min_max(Pos2::new(xm - body_w / 2.0, top), Pos2::new(xm + body_w / 2.0, bottom)),
            0.0,
            color,
        );
        if view.show_volume && c.bar.volume > 0 {
            let h = vol_height * c.bar.volume as f32 / max_vol;
            painter.rect_filled(
                Rect::from_min_size(Pos2::new(xm - body_w / 2.0, frame.bottom() - h), vec2(body_w, h)),
                0.0,
                theme::faded(color, 0.35),
            );
        }
    }

    resp.inner.and_then(|p| {
        let i = p.x.round() as i64 - evicted as i64;
        (i >= 0 && (i as usize) < n).then(|| Hover { bar: bars[i as usize], price: p.y })
    })
}

/// The readout line for a hovered bar (or the last bar).
pub fn readout(market: Market, tf: Timeframe, bar: &Bar, price: Option<f64>) -> String {
    let p = |v: f64| format::price(market, Some(v));
    let mut s = format!(
        "{}  O {}  H {}  L {}  C {}  V {}",
        format::axis_time(bar.start, tf == Timeframe::D1),
        p(bar.open),
        p(bar.high),
        p(bar.low),
        p(bar.close),
        format::volume(bar.volume)
    );
    if let Some(px) = price {
        s.push_str(&format!("   cursor {}", p(px)));
    }
    s
}

/// Age of the last bar relative to a feed time, for the "live" indicator.
pub fn last_bar_age_secs(series: &BarSeries, feed_now: Timestamp) -> Option<f64> {
    series.last().map(|b| feed_now.secs_since(b.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(n: usize) -> VecDeque<Bar> {
        (0..n)
            .map(|i| {
                let p = 50.0 + (i as f64 * 0.37).sin() * 5.0;
                Bar {
                    start: Timestamp::from_secs(i as i64 * 60),
                    open: p,
                    high: p + 1.0,
                    low: p - 1.0 - (i % 7) as f64,
                    close: p + 0.5,
                    volume: 10,
                }
            })
            .collect()
    }

    #[test]
    fn decimation_never_exceeds_columns_and_keeps_extremes() {
        let b = bars(100_000);
        let cols = decimate(&b, 0, 0.0, 99_999.0, 400);
        assert!(cols.len() <= 400, "{}", cols.len());
        let hi = b.iter().map(|x| x.high).fold(f64::MIN, f64::max);
        let lo = b.iter().map(|x| x.low).fold(f64::MAX, f64::min);
        assert_eq!(cols.iter().map(|c| c.bar.high).fold(f64::MIN, f64::max), hi);
        assert_eq!(cols.iter().map(|c| c.bar.low).fold(f64::MAX, f64::min), lo);
        assert_eq!(cols.iter().map(|c| c.bar.volume).sum::<u64>(), 1_000_000);
        assert_eq!(cols[0].bar.open, b[0].open);
        assert_eq!(cols.last().unwrap().bar.close, b[99_999].close);
    }

    #[test]
    fn decimation_without_merging_when_room() {
        let b = bars(50);
        let cols = decimate(&b, 1000, 1010.0, 1019.0, 400);
        assert_eq!(cols.len(), 10);
        assert_eq!(cols[0].x0, 1010.0);
        assert_eq!(cols[0].bar, b[10]);
        assert!(decimate(&b, 1000, 0.0, 10.0, 400).is_empty());
        assert!(decimate(&b, 0, 60.0, 90.0, 400).is_empty());
    }
}
