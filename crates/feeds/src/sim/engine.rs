//! The tick engine: [`MarketSimulator`], an event-time driven generator of quotes, trades,
//! depth, curve snapshots, inventory reports and settlements, in time order.
//!
//! The engine never reads a clock: it keeps its own simulated time and produces the next
//! batch of events on request. Pacing against the wall clock (real time or N× accelerated)
//! is the job of the feed task that owns it.
//!
//! Ticks arrive as one merged Poisson process over all quoted contracts (rate = the sum of
//! the contracts' rates, each tick assigned to a contract in proportion to its rate), whose
//! clock is the session's activity profile: more ticks at the New York open and in the
//! settlement window, fewer at night. At every tick the model's factors take one exact
//! Brownian step to the tick's time, and the ticking contract requotes around its new fair
//! price. While the market is closed nothing is emitted: after a session's settlement batch
//! the next batch is the next session's opening batch.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crude_model::{
    Bar, ContractId, CurvePoint, CurveSnapshot, DepthSnapshot, FeedKind, FeedStatus, HolidayCalendar, InventoryReport,
    Market, MarketEvent, Quote, SeriesId, Timeframe, Timestamp, Trade,
};

use super::book::{depth, lot_size, market_trade_factor, spread_ticks, touch_sizes, touch_ticks};
use super::config::{SimConfig, SimError, check_start_date};
use super::core::{Core, rng_for, stream};
use super::minutes::{MinuteRunner, MinuteSink};
use super::schedule::SessionSchedule;

/// Most sessions [`MarketSimulator::warmup_history`] generates (about four years).
pub const MAX_WARMUP_DAYS: u32 = 1_000;

/// Largest accepted total tick rate (ticks per simulated second).
pub const MAX_TOTAL_TICK_RATE: f64 = 100_000_000.0;

/// Last quote and session volume of one contract.
#[derive(Debug, Clone, Copy, Default)]
struct BookState {
    bid: i64,
    ask: i64,
    volume: u64,
    quoted: bool,
}

/// What the next batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Open,
    Tick,
    Curve,
    Inventory,
    Settle,
}

/// The market simulator (see the [module docs](super) for the model).
#[derive(Debug, Clone)]
pub struct MarketSimulator {
    cfg: SimConfig,
    core: Core,
    now: Timestamp,
    /// An opening batch (quotes for every contract) is due at this time.
    pending_open: Option<Timestamp>,
    rng_arrival: ChaCha8Rng,
    rng_micro: ChaCha8Rng,
    rate_override: Option<f64>,
    /// Cumulative base tick weights of the slots (for choosing the ticking contract).
    cum_weights: Vec<f64>,
    /// Total tick rate (ticks per activity-second) including any override.
    total_rate: f64,
    next_tick: Option<(Timestamp, f64)>,
    next_curve: Timestamp,
    curve_interval_ns: i64,
    books: Vec<BookState>,
    started: bool,
    warmed_up: bool,
}

impl MarketSimulator {
    /// A simulator whose clock starts at `start`, or at the next session open when `start`
    /// falls while the market is closed (daily break, weekend, holiday).
    ///
    /// # Errors
    /// [`SimError::InvalidConfig`] naming the offending field when `cfg` does not validate;
    /// [`SimError::InvalidArgument`] when `start` is outside the years
    /// [`FIRST_START_YEAR`](super::FIRST_START_YEAR)..=[`LAST_START_YEAR`](super::LAST_START_YEAR).
    pub fn new(cfg: SimConfig, start: Timestamp) -> Result<Self, SimError> {
        cfg.validate()?;
        check_start_date("start", start.date_utc())?;
        let core = Core::new(&cfg, start)?;
        let now = core.t_now;
        let mut sim = Self {
            rng_arrival: rng_for(cfg.seed, stream::ARRIVALS),
            rng_micro: rng_for(cfg.seed, stream::MICROSTRUCTURE),
            curve_interval_ns: i64::try_from(cfg.curve_snapshot_interval_ms).unwrap_or(i64::MAX / 1_000_000)
                * 1_000_000,
            cfg,
            core,
            now,
            pending_open: Some(now),
            rate_override: None,
            cum_weights: Vec::new(),
            total_rate: 0.0,
            next_tick: None,
            next_curve: now,
            books: Vec::new(),
            started: false,
            warmed_up: false,
        };
        sim.refresh_rates();
        Ok(sim)
    }

    /// The configuration in use.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Generates history from `days` sessions before the start up to the start, at
    /// one-minute steps of the same model, and leaves the simulator in that model state, so
    /// live ticks continue seamlessly from it: one-minute bars ([`Timeframe::M1`]) of every
    /// quoted contract, a settlement per contract per session (plus the contracts joining
    /// the curve the next session), a curve snapshot per market at each settlement and the
    /// weekly inventory reports, in time order. With a warm-up the price at the start of the
    /// history is `wti_start_price`.
    ///
    /// Call once, before the first [`step`](Self::step); later calls (or `days == 0`) return
    /// an empty history and change nothing. `days` is capped at [`MAX_WARMUP_DAYS`]. Each
    /// session yields about 66,000 bars with the default 12-month curve (≈ 5 MB).
    pub fn warmup_history(&mut self, days: u32) -> Vec<MarketEvent> {
        if self.started || self.warmed_up || days == 0 {
            return Vec::new();
        }
        let days = days.min(MAX_WARMUP_DAYS);
        let start = self.core.t_now;
        let d_start = self.core.sched.trading_date;
        let d0 = HolidayCalendar::Cme.add_business_days(d_start, -i32::try_from(days).unwrap_or(i32::MAX));
        let first = SessionSchedule::on_or_after(d0);
        // The config was validated in `new`, so this cannot fail; keep the current state if it did.
        let Ok(mut core) = Core::new(&self.cfg, first.open) else {
            return Vec::new();
        };
        let mut runner = MinuteRunner::new(self.cfg.seed);
        let mut sink = WarmupSink { events: Vec::new() };
        while core.sched.trading_date < d_start {
            runner.finish_session(&mut core, &mut sink);
        }
        runner.run_until(&mut core, start, &mut sink);
        self.core = core;
        self.now = self.core.t_now;
        self.pending_open = Some(self.now);
        self.warmed_up = true;
        self.refresh_rates();
        sink.events
    }

    /// The simulated time of the last batch (before the first batch: the start).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The time of the next batch [`step`](Self::step) will produce.
    pub fn next_event_time(&self) -> Timestamp {
        self.next_batch().0
    }

    /// Contracts currently quoted, market by market (WTI, Brent, RBOB, heating oil), front
    /// month first.
    pub fn contracts(&self) -> Vec<ContractId> {
        self.core.slots.iter().map(|s| s.id).collect()
    }

    /// Cumulative traded volume (lots) of a quoted contract in the current session.
    pub fn session_volume(&self, contract: ContractId) -> Option<u64> {
        let i = self.core.slots.iter().position(|s| s.id == contract)?;
        Some(self.books.get(i).map_or(0, |b| b.volume))
    }

    /// Total tick rate over all contracts (ticks per simulated second at average activity).
    pub fn total_tick_rate(&self) -> f64 {
        self.total_rate
    }

    /// Stress mode: sets the total tick rate over all contracts (ticks per simulated second
    /// at average activity), keeping the split between contracts. Applies from now on.
    ///
    /// # Errors
    /// [`SimError::InvalidArgument`] unless `0 < ticks_per_sec <= MAX_TOTAL_TICK_RATE`.
    pub fn set_total_tick_rate(&mut self, ticks_per_sec: f64) -> Result<(), SimError> {
        if !(ticks_per_sec.is_finite() && ticks_per_sec > 0.0 && ticks_per_sec <= MAX_TOTAL_TICK_RATE) {
            return Err(SimError::InvalidArgument {
                name: "ticks_per_sec",
                value: ticks_per_sec.to_string(),
                expected: format!("a rate greater than 0 and at most {MAX_TOTAL_TICK_RATE}"),
            });
        }
        self.rate_override = Some(ticks_per_sec);
        self.refresh_rates();
        if self.next_tick.is_some() {
            // Poisson arrivals are memoryless: redraw the pending arrival at the new rate,
            // from the current time (the model state may still be at the last tick, before
            // a later curve snapshot).
            if self.now > self.core.t_now {
                self.core.advance_to(self.now);
            }
            self.draw_next_tick();
        }
        Ok(())
    }

    /// Produces the next batch of events (all with the same time stamp) into `out` and
    /// returns their time. Batches are: the opening batch of a session (quotes for every
    /// contract, depth, curve snapshots; the very first batch also carries the feed status
    /// and, without a warm-up, each contract's previous settlement), a tick (a quote, maybe a
    /// trade, depth for the front contracts), a periodic curve snapshot, an inventory report
    /// (with the requotes of the two front months of each market it moves) or the session's
    /// settlements (a settlement per contract and a curve snapshot per market).
    pub fn step(&mut self, out: &mut Vec<MarketEvent>) -> Timestamp {
        let (t, kind) = self.next_batch();
        match kind {
            Next::Open => self.open_batch(t, out),
            Next::Tick => {
                if let Some((t, act)) = self.next_tick.take() {
                    self.core.advance_act(act, t);
                    let k = self.choose_slot();
                    self.quote(k, t, true, out);
                }
                self.draw_next_tick();
            }
            Next::Curve => {
                self.push_curves_from_books(t, out);
                self.next_curve = Timestamp(t.0.saturating_add(self.curve_interval_ns));
            }
            Next::Inventory => {
                if let Some(report) = self.core.release_inventory() {
                    out.push(MarketEvent::Inventory(report));
                    self.requote_fronts(report, out);
                }
            }
            Next::Settle => self.settle_batch(t, out),
        }
        self.now = t;
        t
    }

    /// The next batch's time and kind.
    fn next_batch(&self) -> (Timestamp, Next) {
        if let Some(at) = self.pending_open {
            return (at, Next::Open);
        }
        let settle = self.core.sched.settle_ts();
        let mut best = (settle, Next::Settle);
        // Later candidates win ties: inventory before curve before tick before settlement.
        let tick = self.next_tick.map(|(t, _)| t);
        let curve = (self.next_curve < settle).then_some(self.next_curve);
        let eia = self.core.eia.filter(|&e| e < settle);
        for (t, kind) in [(tick, Next::Tick), (curve, Next::Curve), (eia, Next::Inventory)] {
            if let Some(t) = t
                && t <= best.0
            {
                best = (t, kind);
            }
        }
        best
    }

    /// Recomputes the tick weights of the quoted contracts.
    fn refresh_rates(&mut self) {
        let weights = self.core.tick_weights();
        let mut acc = 0.0;
        self.cum_weights = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let base = acc;
        self.total_rate = self.rate_override.unwrap_or(base);
        if self.books.len() != self.core.slots.len() {
            self.books = vec![BookState::default(); self.core.slots.len()];
        }
    }

    /// Draws the next arrival after the core's current time (none before the settlement).
    fn draw_next_tick(&mut self) {
        let u: f64 = 1.0 - self.rng_arrival.random::<f64>();
        let target = self.core.act_now + (-u.ln()) / self.total_rate;
        let settle = self.core.sched.settle_ts();
        self.next_tick =
            self.core.sched.time_at(target).filter(|&t| t < settle).map(|t| (t.max(self.core.t_now), target));
    }

    /// Picks the ticking contract in proportion to the contracts' rates.
    fn choose_slot(&mut self) -> usize {
        let total = self.cum_weights.last().copied().unwrap_or(0.0);
        let x = self.rng_arrival.random::<f64>() * total;
        self.cum_weights.partition_point(|&c| c <= x).min(self.cum_weights.len().saturating_sub(1))
    }

    /// Requotes slot `k` at time `t` (and maybe prints a trade and publishes depth).
    fn quote(&mut self, k: usize, t: Timestamp, may_trade: bool, out: &mut Vec<MarketEvent>) {
        let fair = self.core.fair(k);
        let slot = &self.core.slots[k];
        let (id, tenor, grid) = (slot.id, slot.tenor, slot.grid);
        let rng = &mut self.rng_micro;
        let spread = spread_ticks(rng, tenor);
        let (bid, ask) = touch_ticks(&grid, fair, spread);
        let (bid_size, ask_size) = touch_sizes(rng, id.market, tenor);
        out.push(MarketEvent::Quote(Quote {
            contract: id,
            ts: t,
            bid: grid.price(bid),
            ask: grid.price(ask),
            bid_size,
            ask_size,
        }));
        let book = &mut self.books[k];
        if may_trade && rng.random::<f64>() < self.cfg.trade_probability * market_trade_factor(id.market) {
            // Aggressors lean with the move: buyers lift the offer when the price rises.
            let fair_ticks = grid.to_ticks(fair);
            let prev_mid = if book.quoted { (book.bid + book.ask) as f64 * 0.5 } else { fair_ticks };
            let p_buy = if fair_ticks >= prev_mid { 0.65 } else { 0.35 };
            let buy = rng.random::<f64>() < p_buy;
            let size = lot_size(rng);
            book.volume += u64::from(size);
            out.push(MarketEvent::Trade(Trade {
                contract: id,
                ts: t,
                price: grid.price(if buy { ask } else { bid }),
                size,
            }));
        }
        book.bid = bid;
        book.ask = ask;
        book.quoted = true;
        if tenor < self.cfg.depth_contracts {
            let (mut bids, mut asks) = (Vec::new(), Vec::new());
            let levels = self.cfg.depth_levels;
            depth(rng, &grid, id.market, tenor, levels, (bid, ask), (bid_size, ask_size), &mut bids, &mut asks);
            out.push(MarketEvent::Depth(DepthSnapshot { contract: id, ts: t, bids, asks }));
        }
    }

    /// The opening batch of a session (or of the simulation).
    fn open_batch(&mut self, t: Timestamp, out: &mut Vec<MarketEvent>) {
        self.pending_open = None;
        if !self.started {
            self.started = true;
            out.push(MarketEvent::Status { kind: FeedKind::Simulated, status: FeedStatus::Simulated, ts: t });
            if !self.warmed_up {
                // Without history, the starting prices serve as the previous settlements.
                for i in 0..self.core.slots.len() {
                    let s = &self.core.slots[i];
                    out.push(MarketEvent::Settlement { contract: s.id, ts: t, price: s.grid.round(self.core.fair(i)) });
                }
            }
        }
        self.books = vec![BookState::default(); self.core.slots.len()];
        for k in 0..self.core.slots.len() {
            self.quote(k, t, false, out);
        }
        self.push_curves_from_books(t, out);
        self.next_curve = Timestamp(t.0.saturating_add(self.curve_interval_ns));
        self.draw_next_tick();
    }

    /// Requotes the two front months of every market after an inventory report.
    fn requote_fronts(&mut self, report: InventoryReport, out: &mut Vec<MarketEvent>) {
        for market in Market::ALL {
            let range = self.core.market_slots(market);
            for k in range.start..range.end.min(range.start + 2) {
                self.quote(k, report.ts, true, out);
            }
        }
    }

    /// Curve snapshots of every market from the last quotes' mid prices.
    fn push_curves_from_books(&self, t: Timestamp, out: &mut Vec<MarketEvent>) {
        for market in Market::ALL {
            let points = self
                .core
                .market_slots(market)
                .map(|k| {
                    let s = &self.core.slots[k];
                    let b = &self.books[k];
                    CurvePoint { contract: s.id, price: (b.bid + b.ask) as f64 / (2.0 * s.grid.per_unit) }
                })
                .collect();
            out.push(MarketEvent::Curve(CurveSnapshot { market, ts: t, points }));
        }
    }

    /// The session's settlements, then the move to the next session.
    fn settle_batch(&mut self, t: Timestamp, out: &mut Vec<MarketEvent>) {
        self.core.advance_to_end();
        let settlements = self.core.settlements();
        push_settlements(&self.core, t, &settlements, out);
        self.core.roll_to_next_session();
        self.next_tick = None;
        self.pending_open = Some(self.core.t_now);
        self.books.clear();
        self.refresh_rates();
    }
}

/// Settlement events and the settlement curve of every market.
fn push_settlements(core: &Core, t: Timestamp, settlements: &[(ContractId, f64)], out: &mut Vec<MarketEvent>) {
    for &(contract, price) in settlements {
        out.push(MarketEvent::Settlement { contract, ts: t, price });
    }
    for market in Market::ALL {
        // The first `slots.len()` settlements are the quoted contracts, in slot order.
        let points = core
            .market_slots(market)
            .filter_map(|k| settlements.get(k).map(|&(contract, price)| CurvePoint { contract, price }))
            .collect();
        out.push(MarketEvent::Curve(CurveSnapshot { market, ts: t, points }));
    }
}

/// Collects warm-up history as events.
struct WarmupSink {
    events: Vec<MarketEvent>,
}

impl MinuteSink for WarmupSink {
    fn tracks(&self, _core: &Core, _slot: usize) -> bool {
        true
    }

    fn bar(&mut self, core: &Core, slot: usize, bar: Bar) {
        let series = SeriesId::Contract(core.slots[slot].id);
        self.events.push(MarketEvent::Bar { series, timeframe: Timeframe::M1, bar });
    }

    fn inventory(&mut self, report: InventoryReport) {
        self.events.push(MarketEvent::Inventory(report));
    }

    fn settlement(&mut self, core: &Core, ts: Timestamp, settlements: &[(ContractId, f64)]) {
        push_settlements(core, ts, settlements, &mut self.events);
    }
}
