//! The minute-step runner: drives the same [`Core`] as the tick engine, one minute of
//! simulated time per step, for the warm-up history and the daily simulation.
//!
//! Each minute the factors take one exact Brownian step (the variance of that minute under
//! the activity profile), and every tracked contract gets a one-minute bar: open = the
//! previous close, close = the model price at the minute's end, high and low = the extremes
//! of a Brownian bridge between them with the contract's variance over the minute
//! (`(a + b ± √((b − a)² − 2v·ln U)) / 2`), all rounded to the tick grid. A minute's volume is
//! the sum of the lot sizes of a Poisson number of trades at the contract's trade rate
//! (tick rate × trade probability × the market's trade factor, following the activity
//! profile); when more than 12 trades
//! are expected the sum is drawn from its normal approximation with the exact mean and
//! variance instead of print by print. Inventory reports fall on minute boundaries
//! (10:30 ET) and are applied at the start of their minute.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use crude_model::{Bar, ContractId, InventoryReport, Timestamp};

use super::book::{lot_size, lot_size_moments, market_trade_factor};
use super::core::{Core, rng_for, stream};

/// Expected trades per minute above which volume uses the normal approximation.
const POISSON_LIMIT: f64 = 12.0;

/// Receives what the runner produces.
pub(crate) trait MinuteSink {
    /// Whether to build bars for `core.slots[slot]`.
    fn tracks(&self, core: &Core, slot: usize) -> bool;
    /// A completed one-minute bar of `core.slots[slot]`.
    fn bar(&mut self, core: &Core, slot: usize, bar: Bar);
    /// An inventory report (already applied to prices).
    fn inventory(&mut self, report: InventoryReport);
    /// The session's settlements at `ts` (quoted contracts first, then those joining the
    /// curve next session), with the core still on the settled session.
    fn settlement(&mut self, core: &Core, ts: Timestamp, settlements: &[(ContractId, f64)]);
}

/// Minute-step driver with its own random stream (bar extremes and volumes).
#[derive(Debug, Clone)]
pub(crate) struct MinuteRunner {
    rng: ChaCha8Rng,
    lot_mean: f64,
    lot_m2: f64,
    /// Previous minute's close per slot and the session it belongs to.
    last_close: Vec<f64>,
    session: Option<chrono::NaiveDate>,
    /// Trades per activity-second per slot.
    trade_rates: Vec<f64>,
}

impl MinuteRunner {
    /// A runner for configuration seed `seed`.
    pub fn new(seed: u64) -> Self {
        let (lot_mean, lot_m2) = lot_size_moments();
        Self {
            rng: rng_for(seed, stream::MINUTE_BARS),
            lot_mean,
            lot_m2,
            last_close: Vec::new(),
            session: None,
            trade_rates: Vec::new(),
        }
    }

    /// Resets per-session state when the core has moved to a new session.
    fn sync_session(&mut self, core: &Core) {
        if self.session != Some(core.sched.trading_date) {
            self.session = Some(core.sched.trading_date);
            self.last_close = (0..core.slots.len()).map(|i| core.fair(i)).collect();
            let p = core.cfg.trade_probability;
            self.trade_rates = core
                .tick_weights()
                .into_iter()
                .zip(&core.slots)
                .map(|(w, s)| w * p * market_trade_factor(s.id.market))
                .collect();
        }
    }

    /// Volume of a minute with `expected` trades.
    fn volume(&mut self, expected: f64) -> u64 {
        if expected <= 0.0 {
            return 0;
        }
        if expected < POISSON_LIMIT {
            let n = Poisson::new(expected).map(|d| d.sample(&mut self.rng)).unwrap_or(0.0);
            (0..n as u64).map(|_| u64::from(lot_size(&mut self.rng))).sum()
        } else {
            let z: f64 = self.rng.sample(StandardNormal);
            let v = expected * self.lot_mean + z * (expected * self.lot_m2).sqrt();
            v.round().max(0.0) as u64
        }
    }

    /// Runs the current session from the core's position to `until` (clamped to the
    /// session's settlement time), emitting a bar for every complete minute.
    pub fn run_until<S: MinuteSink>(&mut self, core: &mut Core, until: Timestamp, sink: &mut S) {
        self.sync_session(core);
        let minute = Timestamp::NANOS_PER_MIN;
        let settle = core.sched.settle_ts().0;
        let close = core.sched.close.0;
        let end = until.0.min(settle);
        let open = core.sched.open.0;
        let tracked: Vec<usize> = (0..core.slots.len()).filter(|&i| sink.tracks(core, i)).collect();
        let mut bars: Vec<(usize, Bar)> = Vec::with_capacity(tracked.len());
        while core.t_now.0 < end {
            let t0 = core.t_now.0;
            let k = (t0 - open).div_euclid(minute);
            let m_start = open + k * minute;
            let m_end = (m_start + minute).min(close);
            // The settlement is stamped 1 ms before the close; a run to the settlement takes
            // the session's last minute to the close itself, so the whole session's variance
            // is used and the last bar is complete.
            let to_close = end == settle && m_end >= settle;
            let step_end = if to_close { m_end } else { m_end.min(end) };
            let full = t0 == m_start && step_end == m_end;
            if core.eia.is_some_and(|e| e.0 >= t0 && e.0 < step_end)
                && let Some(report) = core.release_inventory()
            {
                sink.inventory(report);
            }
            let act0 = core.act_now;
            if to_close {
                core.advance_to_end();
            } else {
                core.advance_to(Timestamp(step_end));
            }
            let d_act = core.act_now - act0;
            let du = d_act / core.sched.total();
            bars.clear();
            for &i in &tracked {
                let (close, day_var) = core.fair_and_var(i);
                let open_p = self.last_close[i];
                self.last_close[i] = close;
                if !full {
                    continue;
                }
                let v = (day_var * du).max(0.0);
                let diff = close - open_p;
                let u1: f64 = 1.0 - self.rng.random::<f64>();
                let u2: f64 = 1.0 - self.rng.random::<f64>();
                let hi = 0.5 * (open_p + close + (diff * diff - 2.0 * v * u1.ln()).sqrt());
                let lo = 0.5 * (open_p + close - (diff * diff - 2.0 * v * u2.ln()).sqrt());
                let volume = self.volume(self.trade_rates[i] * d_act);
                let g = core.slots[i].grid;
                let (o, c) = (g.round(open_p), g.round(close));
                let bar = Bar {
                    start: Timestamp(m_start),
                    open: o,
                    high: g.round(hi).max(o).max(c),
                    low: g.round(lo).min(o).min(c),
                    close: c,
                    volume,
                };
                bars.push((i, bar));
            }
            for &(i, bar) in &bars {
                sink.bar(core, i, bar);
            }
        }
    }

    /// Runs the rest of the current session, reports its settlements and moves the core to
    /// the next session.
    pub fn finish_session<S: MinuteSink>(&mut self, core: &mut Core, sink: &mut S) {
        self.run_until(core, core.sched.settle_ts(), sink);
        if core.dynamics.u < 1.0 {
            core.advance_to_end();
        }
        let settlements = core.settlements();
        sink.settlement(core, core.sched.settle_ts(), &settlements);
        core.roll_to_next_session();
        self.sync_session(core);
    }
}
