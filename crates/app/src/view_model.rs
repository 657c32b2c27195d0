//! The view model: everything the panels draw, owned by the UI thread and updated at the
//! start of each frame by applying feed events (quotes, bars, curves) and the kernel's
//! updates (the trading, risk, signals and curve views). Panels read only this.
//!
//! Applying an event is cheap and allocation-free on the quote and trade paths (the
//! ingestion bench holds it to ≥ 1,000,000 quote events per second on one core). Bar history
//! is bounded per series and timeframe ([`ViewModelConfig::max_bars`]).

use std::collections::{HashMap, VecDeque};

use chrono::NaiveDate;
use crude_model::{
    Bar, ContractId, CurveSnapshot, DepthSnapshot, FeedKind, FeedStatus, InventoryReport, Market, MarketEvent, Quote,
    SeriesId, Timeframe, Timestamp, Trade, session_close_after, trading_date,
};

use crude_kernel::services::curve::{CurveStatus, CurveView};
use crude_kernel::services::risk::{RiskStatus, RiskView};
use crude_kernel::services::signals::{SignalsStatus, SignalsView};
use crude_kernel::services::trading::{TradingStatus, TradingUpdate, TradingView};
use crude_kernel::{KernelUpdate, ServiceId};

use crate::bars::BarSeries;

/// View model limits.
#[derive(Debug, Clone, Copy)]
pub struct ViewModelConfig {
    /// Bars kept per series and timeframe; older bars are dropped.
    pub max_bars: usize,
    /// Points kept in each spread sparkline.
    pub spread_points: usize,
    /// Daily curves kept for the history overlays.
    pub curve_days: usize,
}

impl Default for ViewModelConfig {
    fn default() -> Self {
        Self { max_bars: 50_000, spread_points: 600, curve_days: 30 }
    }
}

/// What the quote board shows for one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuoteState {
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub bid_size: u32,
    pub ask_size: u32,
    pub last: Option<f64>,
    pub last_size: u32,
    /// Volume in the current session.
    pub volume: u64,
    pub high: Option<f64>,
    pub low: Option<f64>,
    /// Previous session's settlement (the reference for change and % change).
    pub prev_settle: Option<f64>,
    /// Feed time of the last update.
    pub updated: Timestamp,
    /// Wall time of the last update (for staleness).
    pub updated_wall: Timestamp,
    /// Direction of the last price change: +1, −1 or 0.
    pub tick_dir: i8,
    /// Wall time of the last price change (for the up/down flash).
    pub changed_wall: Timestamp,
    /// End of the session the high/low/volume belong to.
    session_end: Timestamp,
}

impl QuoteState {
    fn new() -> Self {
        Self {
            bid: None,
            ask: None,
            bid_size: 0,
            ask_size: 0,
            last: None,
            last_size: 0,
            volume: 0,
            high: None,
            low: None,
            prev_settle: None,
            updated: Timestamp(i64::MIN),
            updated_wall: Timestamp(i64::MIN),
            tick_dir: 0,
            changed_wall: Timestamp(i64::MIN),
            session_end: Timestamp(i64::MIN),
        }
    }

    /// Change against the previous settlement.
    pub fn change(&self) -> Option<f64> {
        Some(self.last? - self.prev_settle?)
    }

    /// Percent change against the previous settlement (undefined when it is zero; a
    /// negative settlement gives the change relative to its magnitude).
    pub fn pct_change(&self) -> Option<f64> {
        let s = self.prev_settle?;
        if s == 0.0 { None } else { Some(100.0 * self.change()? / s.abs()) }
    }

    /// Best price to value the series at: last trade, else mid, else settlement.
    pub fn mark(&self) -> Option<f64> {
        self.last
            .or(match (self.bid, self.ask) {
                (Some(b), Some(a)) => Some(0.5 * (a + b)),
                _ => None,
            })
            .or(self.prev_settle)
    }

    /// Session volume, high and low as of feed time `now`: after the session the figures
    /// belong to has closed, the new session has no volume and no range yet.
    pub fn session_stats(&self, now: Timestamp) -> (u64, Option<f64>, Option<f64>) {
        if self.session_end.0 != i64::MIN && now >= self.session_end {
            (0, None, None)
        } else {
            (self.volume, self.high, self.low)
        }
    }

    fn roll_session(&mut self, ts: Timestamp) {
        if ts >= self.session_end {
            self.volume = 0;
            self.high = None;
            self.low = None;
            self.session_end = session_close_after(ts);
        }
    }

    fn set_last(&mut self, price: f64, wall: Timestamp) {
        if let Some(prev) = self.last
            && prev != price
        {
            self.tick_dir = if price > prev { 1 } else { -1 };
            self.changed_wall = wall;
        }
        self.last = Some(price);
        self.high = Some(self.high.map_or(price, |h| h.max(price)));
        self.low = Some(self.low.map_or(price, |l| l.min(price)));
    }
}

/// A market's latest curve and its end-of-day history.
#[derive(Debug, Clone, Default)]
pub struct CurveHistory {
    pub latest: Option<CurveSnapshot>,
    /// Last curve of each trading date, oldest first.
    pub daily: VecDeque<(NaiveDate, CurveSnapshot)>,
}

impl CurveHistory {
    /// The end-of-day curve `sessions_back` trading dates before the latest curve's date.
    pub fn sessions_ago(&self, sessions_back: usize) -> Option<&CurveSnapshot> {
        let latest = self.latest.as_ref()?;
        let today = trading_date(latest.ts);
        let earlier: Vec<&(NaiveDate, CurveSnapshot)> = self.daily.iter().filter(|(d, _)| *d < today).collect();
        earlier.len().checked_sub(sessions_back).and_then(|i| earlier.get(i)).map(|(_, c)| c)
    }
}

/// Event-rate and latency statistics.
#[derive(Debug, Clone)]
pub struct FeedStats {
    pub events_total: u64,
    pub ticks_total: u64,
    /// Ticks (quotes and trades) per second of wall time, over the last full second.
    pub ticks_per_sec: f64,
    window_start: Timestamp,
    window_ticks: u64,
    /// Recent tick-to-store latencies with the wall time they were measured at.
    latencies_us: VecDeque<(Timestamp, u32)>,
    /// Wall time of the last applied event.
    pub last_update_wall: Option<Timestamp>,
}

impl Default for FeedStats {
    fn default() -> Self {
        Self {
            events_total: 0,
            ticks_total: 0,
            ticks_per_sec: 0.0,
            window_start: Timestamp(i64::MIN),
            window_ticks: 0,
            latencies_us: VecDeque::with_capacity(LATENCY_SAMPLES),
            last_update_wall: None,
        }
    }
}

/// Most latency samples kept.
const LATENCY_SAMPLES: usize = 2048;
/// Samples older than this (wall time) leave the percentiles: a start-up backlog does not
/// stay on the status bar at a quiet feed's rate.
pub const LATENCY_WINDOW_SECS: i64 = 30;

impl FeedStats {
    /// Record one batch's tick-to-store latency.
    pub fn record_latency(&mut self, sent_wall: Timestamp, applied_wall: Timestamp) {
        let us = ((applied_wall.0 - sent_wall.0).max(0) / 1_000).min(u32::MAX as i64) as u32;
        if self.latencies_us.len() == LATENCY_SAMPLES {
            self.latencies_us.pop_front();
        }
        self.latencies_us.push_back((applied_wall, us));
    }

    /// Drops the latency samples measured more than [`LATENCY_WINDOW_SECS`] before `wall`.
    fn expire_latencies(&mut self, wall: Timestamp) {
        let oldest = wall.0.saturating_sub(LATENCY_WINDOW_SECS * Timestamp::NANOS_PER_SEC);
        while self.latencies_us.front().is_some_and(|(t, _)| t.0 < oldest) {
            self.latencies_us.pop_front();
        }
    }

    /// Latency percentile (0..=100) in microseconds over the samples of the last
    /// [`LATENCY_WINDOW_SECS`] (at most [`LATENCY_SAMPLES`]).
    pub fn latency_percentile_us(&self, pct: f64) -> Option<u32> {
        if self.latencies_us.is_empty() {
            return None;
        }
        let mut v: Vec<u32> = self.latencies_us.iter().map(|(_, us)| *us).collect();
        v.sort_unstable();
        let idx = ((pct / 100.0) * (v.len() - 1) as f64).round() as usize;
        v.get(idx.min(v.len() - 1)).copied()
    }

    fn tick(&mut self, wall: Timestamp) {
        self.ticks_total += 1;
        self.window_ticks += 1;
        self.roll(wall);
    }

    /// Close the rate window when a second of wall time has passed, and let old latency
    /// samples go.
    pub fn roll(&mut self, wall: Timestamp) {
        self.expire_latencies(wall);
        if self.window_start.0 == i64::MIN {
            self.window_start = wall;
            return;
        }
        let elapsed = wall.0 - self.window_start.0;
        if elapsed >= Timestamp::NANOS_PER_SEC {
            self.ticks_per_sec = self.window_ticks as f64 * Timestamp::NANOS_PER_SEC as f64 / elapsed as f64;
            self.window_ticks = 0;
            self.window_start = wall;
        }
    }
}

/// The view model.
pub struct ViewModel {
    config: ViewModelConfig,
    quotes: HashMap<SeriesId, QuoteState>,
    /// Quote board order: by market, then continuous before specific, then month.
    order: Vec<SeriesId>,
    bars: HashMap<(SeriesId, Timeframe), BarSeries>,
    depth: HashMap<ContractId, DepthSnapshot>,
    curves: [CurveHistory; 4],
    front: [Option<ContractId>; 4],
    wti_brent: VecDeque<(Timestamp, f64)>,
    crack_321: VecDeque<(Timestamp, f64)>,
    inventory: VecDeque<InventoryReport>,
    feed_kind: Option<FeedKind>,
    feed_status: FeedStatus,
    /// Feed time of the latest event (the exchange clock on screen).
    feed_time: Option<Timestamp>,
    pub stats: FeedStats,
    /// What the trading service last reported (orders, positions, blotter).
    trading: TradingView,
    /// What the risk service last reported.
    pub risk: RiskView,
    /// What the signals service last reported.
    pub signals: SignalsView,
    /// What the curve service last reported.
    pub curve: CurveView,
}

impl ViewModel {
    /// An empty view model.
    pub fn new(config: ViewModelConfig) -> Self {
        Self {
            config,
            quotes: HashMap::new(),
            order: Vec::new(),
            bars: HashMap::new(),
            depth: HashMap::new(),
            curves: Default::default(),
            front: [None; 4],
            wti_brent: VecDeque::new(),
            crack_321: VecDeque::new(),
            inventory: VecDeque::new(),
            feed_kind: None,
            feed_status: FeedStatus::Connecting,
            feed_time: None,
            stats: FeedStats::default(),
            trading: TradingView::default(),
            risk: RiskView::default(),
            signals: SignalsView::default(),
            curve: CurveView::default(),
        }
    }

    /// Applies one update of the kernel to the view it concerns.
    pub fn apply_update(&mut self, u: KernelUpdate) {
        match u {
            KernelUpdate::Trading(t) => self.trading.apply(t),
            KernelUpdate::Risk(r) => self.risk.apply(r),
            KernelUpdate::Signals(s) => self.signals.apply(s),
            KernelUpdate::Curve(c) => self.curve.apply(c),
            KernelUpdate::Failed { service, reason } => self.service_failed(service, reason),
        }
    }

    /// Shows that `service` could not start, with the reason, where its panel looks.
    fn service_failed(&mut self, service: ServiceId, reason: String) {
        match service {
            ServiceId::Trading => self.trading.apply(TradingUpdate::Status(TradingStatus::Stopped(reason))),
            ServiceId::Risk => {
                self.risk.status = Some(RiskStatus::Unavailable(format!("the risk service could not start: {reason}")));
            }
            ServiceId::Signals => self.signals.info.status = SignalsStatus::Failed(reason),
            ServiceId::Curve => self.curve.status = CurveStatus::Stopped(reason),
        }
    }

    /// Apply one update from the trading service.
    pub fn apply_trading(&mut self, u: TradingUpdate) {
        self.trading.apply(u);
    }

    /// What the trading worker last reported.
    pub fn trading(&self) -> &TradingView {
        &self.trading
    }

    /// The trading view, for tests and benches that fill it directly.
    pub fn trading_mut(&mut self) -> &mut TradingView {
        &mut self.trading
    }

    /// Apply a batch that left the feed at `sent_wall`, at wall time `now_wall`.
    pub fn apply_batch(&mut self, events: &[MarketEvent], sent_wall: Timestamp, now_wall: Timestamp) {
        for ev in events {
            self.apply(ev, now_wall);
        }
        self.stats.record_latency(sent_wall, now_wall);
    }

    /// Apply one event at wall time `wall`.
    pub fn apply(&mut self, ev: &MarketEvent, wall: Timestamp) {
        self.stats.events_total += 1;
        self.stats.last_update_wall = Some(wall);
        match ev {
            MarketEvent::Quote(q) => {
                self.on_quote(q, wall);
                self.stats.tick(wall);
            }
            MarketEvent::Trade(t) => {
                self.on_trade(t, wall);
                self.stats.tick(wall);
            }
            MarketEvent::Depth(d) => {
                self.advance(d.ts);
                self.depth.insert(d.contract, d.clone());
            }
            MarketEvent::Bar { series, timeframe, bar } => self.on_bar(*series, *timeframe, bar, wall),
            MarketEvent::Curve(c) => self.on_curve(c),
            MarketEvent::Inventory(r) => {
                self.advance(r.ts);
                if self.inventory.len() == 520 {
                    self.inventory.pop_front();
                }
                self.inventory.push_back(*r);
            }
            MarketEvent::Settlement { contract, ts, price } => {
                self.advance(*ts);
                self.quote_mut(SeriesId::Contract(*contract)).prev_settle = Some(*price);
                if self.front[contract.market.index()] == Some(*contract) {
                    self.quote_mut(SeriesId::Continuous { market: contract.market, nth: 1 }).prev_settle = Some(*price);
                }
            }
            MarketEvent::Status { kind, status, .. } => {
                self.feed_kind = Some(*kind);
                self.feed_status = status.clone();
            }
        }
    }

    #[inline]
    fn advance(&mut self, ts: Timestamp) {
        match self.feed_time {
            Some(t) if t >= ts => {}
            _ => self.feed_time = Some(ts),
        }
    }

    fn quote_mut(&mut self, id: SeriesId) -> &mut QuoteState {
        let order = &mut self.order;
        self.quotes.entry(id).or_insert_with(|| {
            let pos = order.binary_search_by(|s| board_key(s).cmp(&board_key(&id))).unwrap_or_else(|p| p);
            order.insert(pos, id);
            QuoteState::new()
        })
    }

    #[inline]
    fn on_quote(&mut self, q: &Quote, wall: Timestamp) {
        self.advance(q.ts);
        let s = self.quote_mut(SeriesId::Contract(q.contract));
        s.bid = Some(q.bid);
        s.ask = Some(q.ask);
        s.bid_size = q.bid_size;
        s.ask_size = q.ask_size;
        s.updated = q.ts;
        s.updated_wall = wall;
    }

    #[inline]
    fn on_trade(&mut self, t: &Trade, wall: Timestamp) {
        self.advance(t.ts);
        let max_bars = self.config.max_bars;
        let is_front = self.front[t.contract.market.index()] == Some(t.contract);
        let mut targets = [Some(SeriesId::Contract(t.contract)), None];
        if is_front {
            targets[1] = Some(SeriesId::Continuous { market: t.contract.market, nth: 1 });
        }
        for id in targets.into_iter().flatten() {
            let s = self.quote_mut(id);
            s.roll_session(t.ts);
            s.set_last(t.price, wall);
            s.last_size = t.size;
            s.volume += u64::from(t.size);
            s.updated = t.ts;
            s.updated_wall = wall;
            for tf in Timeframe::ALL {
                self.bars.entry((id, tf)).or_insert_with(|| BarSeries::new(tf, max_bars)).on_trade(
                    t.ts,
                    t.price,
                    u64::from(t.size),
                );
            }
        }
    }

    fn on_bar(&mut self, series: SeriesId, timeframe: Timeframe, bar: &Bar, wall: Timestamp) {
        self.on_bar_series(series, timeframe, bar, wall);
        // History for the front contract is also the continuous front-month history.
        if let SeriesId::Contract(c) = series
            && self.front[c.market.index()] == Some(c)
        {
            self.on_bar_series(SeriesId::Continuous { market: c.market, nth: 1 }, timeframe, bar, wall);
        }
    }

    fn on_bar_series(&mut self, series: SeriesId, timeframe: Timeframe, bar: &Bar, wall: Timestamp) {
        let max_bars = self.config.max_bars;
        let applied =
            self.bars.entry((series, timeframe)).or_insert_with(|| BarSeries::new(timeframe, max_bars)).on_bar(*bar);
        if !applied {
            return;
        }
        // Roll finer history up into coarser timeframes so every timeframe can be charted.
        for tf in Timeframe::ALL.into_iter().filter(|tf| *tf > timeframe) {
            let s = self.bars.entry((series, tf)).or_insert_with(|| BarSeries::new(tf, max_bars));
            // A bar contributes its open, high, low and close in that order.
            s.on_trade(bar.start, bar.open, bar.volume);
            s.on_trade(bar.start, bar.high, 0);
            s.on_trade(bar.start, bar.low, 0);
            s.on_trade(bar.start, bar.close, 0);
        }
        let end = match timeframe.intraday_nanos() {
            Some(n) => bar.start.add_nanos(n - 1),
            None => bar.start,
        };
        self.advance(end);
        let q = self.quote_mut(series);
        if timeframe == Timeframe::D1 {
            // A daily bar file: each bar is one session.
            if let Some(prev) = q.last {
                q.prev_settle = Some(prev);
            }
            q.volume = bar.volume;
            q.high = Some(bar.high);
            q.low = Some(bar.low);
            q.set_last(bar.close, wall);
            q.session_end = Timestamp(i64::MIN);
        } else {
            q.roll_session(bar.start);
            q.set_last(bar.close, wall);
            q.high = Some(q.high.map_or(bar.high, |h| h.max(bar.high)));
            q.low = Some(q.low.map_or(bar.low, |l| l.min(bar.low)));
            q.volume += bar.volume;
        }
        q.updated = end;
        q.updated_wall = wall;
    }

    fn on_curve(&mut self, c: &CurveSnapshot) {
        self.advance(c.ts);
        let i = c.market.index();
        self.front[i] = c.points.first().map(|p| p.contract);
        let date = trading_date(c.ts);
        let hist = &mut self.curves[i];
        match hist.daily.back_mut() {
            Some((d, snap)) if *d == date => *snap = c.clone(),
            _ => {
                hist.daily.push_back((date, c.clone()));
                if hist.daily.len() > self.config.curve_days {
                    hist.daily.pop_front();
                }
            }
        }
        hist.latest = Some(c.clone());
        self.sample_spreads(c.ts);
    }

    fn front_price(&self, m: Market) -> Option<f64> {
        self.curves[m.index()].latest.as_ref()?.points.first().map(|p| p.price)
    }

    fn sample_spreads(&mut self, ts: Timestamp) {
        let cap = self.config.spread_points;
        let push = |q: &mut VecDeque<(Timestamp, f64)>, v: f64| {
            if q.back().is_some_and(|(t, _)| *t >= ts) {
                return;
            }
            if q.len() == cap {
                q.pop_front();
            }
            q.push_back((ts, v));
        };
        if let (Some(cl), Some(bz)) = (self.front_price(Market::Wti), self.front_price(Market::Brent)) {
            push(&mut self.wti_brent, cl - bz);
        }
        if let (Some(cl), Some(rb), Some(ho)) =
            (self.front_price(Market::Wti), self.front_price(Market::Rbob), self.front_price(Market::HeatingOil))
        {
            push(&mut self.crack_321, crude_analytics::crack_321(rb, ho, cl));
        }
    }

    // ---- read side -------------------------------------------------------------------

    /// Series on the quote board, in board order.
    pub fn board(&self) -> impl Iterator<Item = (SeriesId, &QuoteState)> {
        self.order.iter().filter_map(|id| self.quotes.get(id).map(|q| (*id, q)))
    }

    /// One series' quote.
    pub fn quote(&self, id: SeriesId) -> Option<&QuoteState> {
        self.quotes.get(&id)
    }

    /// Bars of a series at a timeframe.
    pub fn bars(&self, id: SeriesId, tf: Timeframe) -> Option<&BarSeries> {
        self.bars.get(&(id, tf))
    }

    /// Every series that has bars.
    pub fn charted_series(&self) -> Vec<SeriesId> {
        let mut v: Vec<SeriesId> = self.bars.keys().map(|(s, _)| *s).collect();
        v.sort_by_key(board_key);
        v.dedup();
        v
    }

    /// Market depth of a contract.
    pub fn depth(&self, c: ContractId) -> Option<&DepthSnapshot> {
        self.depth.get(&c)
    }

    /// A market's curve history.
    pub fn curve(&self, m: Market) -> &CurveHistory {
        &self.curves[m.index()]
    }

    /// The front contract by the latest curve.
    pub fn front(&self, m: Market) -> Option<ContractId> {
        self.front[m.index()]
    }

    /// WTI − Brent front-month spread history ($/bbl).
    pub fn wti_brent(&self) -> &VecDeque<(Timestamp, f64)> {
        &self.wti_brent
    }

    /// 3-2-1 crack spread history ($/bbl).
    pub fn crack_321(&self) -> &VecDeque<(Timestamp, f64)> {
        &self.crack_321
    }

    /// Weekly inventory reports received, oldest first.
    pub fn inventory(&self) -> &VecDeque<InventoryReport> {
        &self.inventory
    }

    /// The kind of feed on screen.
    pub fn feed_kind(&self) -> Option<FeedKind> {
        self.feed_kind
    }

    /// The feed's status.
    pub fn feed_status(&self) -> &FeedStatus {
        &self.feed_status
    }

    /// Feed time of the latest event.
    pub fn feed_time(&self) -> Option<Timestamp> {
        self.feed_time
    }
}

fn board_key(s: &SeriesId) -> (usize, u8, i32) {
    match s {
        SeriesId::Continuous { market, nth } => (market.index(), 0, i32::from(*nth)),
        SeriesId::Contract(c) => (c.market.index(), 1, c.month.year * 12 + c.month.month as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractMonth, CurvePoint};

    fn cl(m: u32) -> ContractId {
        ContractId::new(Market::Wti, ContractMonth::new(2027, m).unwrap())
    }

    fn t(s: i64) -> Timestamp {
        // 2026-11-18 15:00 UTC (10:00 ET, in session) plus s seconds.
        Timestamp::from_secs(1_795_014_000 + s)
    }

    #[test]
    fn quotes_and_trades_update_the_board_and_bars() {
        let mut st = ViewModel::new(ViewModelConfig::default());
        st.apply(
            &MarketEvent::Curve(CurveSnapshot {
                market: Market::Wti,
                ts: t(0),
                points: vec![CurvePoint { contract: cl(1), price: 70.0 }],
            }),
            t(0),
        );
        st.apply(&MarketEvent::Settlement { contract: cl(1), ts: t(0), price: 69.0 }, t(0));
        st.apply(
            &MarketEvent::Quote(Quote { contract: cl(1), ts: t(1), bid: 69.99, ask: 70.01, bid_size: 5, ask_size: 7 }),
            t(1),
        );
        st.apply(&MarketEvent::Trade(Trade { contract: cl(1), ts: t(2), price: 70.01, size: 3 }), t(2));
        st.apply(&MarketEvent::Trade(Trade { contract: cl(1), ts: t(3), price: 69.99, size: 2 }), t(3));
        let q = st.quote(SeriesId::Contract(cl(1))).unwrap();
        assert_eq!(q.bid, Some(69.99));
        assert_eq!(q.last, Some(69.99));
        assert_eq!(q.volume, 5);
        assert_eq!(q.tick_dir, -1);
        assert!((q.change().unwrap() - 0.99).abs() < 1e-12);
        assert_eq!(q.high, Some(70.01));
        let cont = st.quote(SeriesId::Continuous { market: Market::Wti, nth: 1 }).unwrap();
        assert_eq!(cont.last, Some(69.99));
        assert_eq!(st.bars(SeriesId::Contract(cl(1)), Timeframe::M1).unwrap().len(), 1);
        assert_eq!(st.feed_time(), Some(t(3)));
        assert_eq!(st.stats.ticks_total, 3);
    }

    #[test]
    fn board_is_ordered_by_market_then_month() {
        let mut st = ViewModel::new(ViewModelConfig::default());
        let bz = ContractId::new(Market::Brent, ContractMonth::new(2027, 1).unwrap());
        for c in [bz, cl(3), cl(1), cl(2)] {
            st.apply(
                &MarketEvent::Quote(Quote { contract: c, ts: t(0), bid: 1.0, ask: 1.01, bid_size: 1, ask_size: 1 }),
                t(0),
            );
        }
        let ids: Vec<SeriesId> = st.board().map(|(id, _)| id).collect();
        assert_eq!(
            ids,
            vec![
                SeriesId::Contract(cl(1)),
                SeriesId::Contract(cl(2)),
                SeriesId::Contract(cl(3)),
                SeriesId::Contract(bz)
            ]
        );
    }

    #[test]
    fn daily_bar_feed_sets_change_from_previous_bar() {
        let mut st = ViewModel::new(ViewModelConfig::default());
        let s = SeriesId::Continuous { market: Market::Wti, nth: 1 };
        let d = |y, m, dd| Timestamp::from_date(NaiveDate::from_ymd_opt(y, m, dd).unwrap());
        st.apply(
            &MarketEvent::Bar {
                series: s,
                timeframe: Timeframe::D1,
                bar: Bar { start: d(2020, 4, 17), open: 18.0, high: 19.0, low: 17.0, close: 18.27, volume: 1 },
            },
            t(0),
        );
        st.apply(
            &MarketEvent::Bar {
                series: s,
                timeframe: Timeframe::D1,
                bar: Bar { start: d(2020, 4, 20), open: 18.0, high: 18.0, low: -40.32, close: -37.63, volume: 1 },
            },
            t(0),
        );
        let q = st.quote(s).unwrap();
        assert_eq!(q.last, Some(-37.63));
        assert!((q.change().unwrap() - (-55.9)).abs() < 1e-9);
        assert_eq!(st.bars(s, Timeframe::D1).unwrap().len(), 2);
    }

    #[test]
    fn session_figures_reset_when_the_session_closes() {
        let mut st = ViewModel::new(ViewModelConfig::default());
        st.apply(&MarketEvent::Trade(Trade { contract: cl(1), ts: t(0), price: 70.0, size: 4 }), t(0));
        let q = *st.quote(SeriesId::Contract(cl(1))).unwrap();
        assert_eq!(q.session_stats(t(60)), (4, Some(70.0), Some(70.0)));
        // 2026-11-18 10:00 ET + 8 h is past the 17:00 ET close.
        assert_eq!(q.session_stats(t(8 * 3600)), (0, None, None));
    }

    #[test]
    fn latency_percentiles() {
        let mut s = FeedStats::default();
        for us in 1..=100 {
            s.record_latency(Timestamp(0), Timestamp(us * 1000));
        }
        assert_eq!(s.latency_percentile_us(50.0), Some(51));
        assert_eq!(s.latency_percentile_us(99.0), Some(99));
    }

    #[test]
    fn a_start_up_backlog_leaves_the_latency_window() {
        let sec = Timestamp::NANOS_PER_SEC;
        let mut s = FeedStats::default();
        // Start-up: batches applied 1.5 s after they were sent.
        for i in 0..100 {
            s.record_latency(Timestamp(i * 1_000_000), Timestamp(i * 1_000_000 + 3 * sec / 2));
        }
        // Then 10 ms, one batch a second (a quiet feed).
        for i in 5..60 {
            s.record_latency(Timestamp(i * sec), Timestamp(i * sec + 10_000_000));
            s.roll(Timestamp(i * sec + 10_000_000));
        }
        assert_eq!(s.latency_percentile_us(99.0), Some(10_000), "the backlog is older than the window");
    }
}
