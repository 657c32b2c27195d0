//! The simulation core shared by the tick engine and the minute-step runner: the factor
//! dynamics, the session being simulated, the quoted contracts with their tenors, the
//! inventory model and the random streams of the model itself.
//!
//! A contract's tenor is counted in CME business days: `bd_left` business days after the
//! current trading date up to its last trading day, so during the session its tenor runs
//! from `bd_left + 1` down to `bd_left` (activity-weighted), and the next session starts
//! exactly where the last one ended. Prices are therefore continuous across the daily break,
//! weekends and contract rolls.

use chrono::{Days, NaiveDate};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crude_model::{
    ContractId, HolidayCalendar, InventoryReport, Market, Timestamp, is_session_open, next_session_open, trading_date,
};

use super::book::Grid;
use super::config::{SimConfig, SimError};
use super::dynamics::{Dynamics, Params, curvature_loading, seasonal_crack_usd_bbl};
use super::inventory::InventoryModel;
use super::schedule::SessionSchedule;

/// Business days before the front month's expiry over which activity migrates to the
/// second month.
pub(crate) const ROLL_WINDOW_DAYS: f64 = 5.0;

/// Random stream numbers (ChaCha streams of the one seed), one per purpose, so that e.g.
/// changing the tick rate does not change the daily draws.
pub(crate) mod stream {
    pub const FACTORS: u64 = 1;
    pub const DAILY: u64 = 2;
    pub const INVENTORY: u64 = 3;
    pub const MINUTE_BARS: u64 = 4;
    pub const ARRIVALS: u64 = 5;
    pub const MICROSTRUCTURE: u64 = 6;
}

/// A ChaCha8 generator for one purpose.
pub(crate) fn rng_for(seed: u64, stream_id: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream_id);
    rng
}

/// One quoted contract.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub id: ContractId,
    /// Position on its market's curve (0 = front month).
    pub tenor: usize,
    /// CME business days after the current trading date up to the last trading day.
    pub bd_left: i64,
    /// Slope loading at the session open, `e^{−κ(bd_left + 1)}`.
    slope_open: f64,
    /// Curvature loading at the open and at the close.
    curv_open: f64,
    curv_close: f64,
    /// Seasonal crack level for products ($/bbl), 0 for crude.
    crack_level: f64,
    pub grid: Grid,
}

/// Business-day ordinals on the CME calendar, cached.
#[derive(Debug, Clone)]
struct BizDays {
    base: NaiveDate,
    /// `cum[i]`: business days in `(base, base + i]`.
    cum: Vec<i64>,
}

impl BizDays {
    fn new(base: NaiveDate) -> Self {
        Self { base, cum: vec![0] }
    }

    /// Business days in `(base, d]` (negative before `base` is impossible: the base moves).
    fn ordinal(&mut self, d: NaiveDate) -> i64 {
        if d < self.base {
            *self = Self::new(d.checked_sub_days(Days::new(400)).unwrap_or(d));
        }
        let idx = usize::try_from((d - self.base).num_days()).unwrap_or(0);
        while self.cum.len() <= idx {
            let i = self.cum.len();
            let day = self.base.checked_add_days(Days::new(i as u64)).unwrap_or(NaiveDate::MAX);
            let last = self.cum.last().copied().unwrap_or(0);
            self.cum.push(last + i64::from(HolidayCalendar::Cme.is_business_day(day)));
        }
        self.cum[idx]
    }

    /// Business days in `(from, to]` (negative when `to < from`).
    fn between(&mut self, from: NaiveDate, to: NaiveDate) -> i64 {
        let a = self.ordinal(from.min(to));
        let b = self.ordinal(from.max(to));
        if to >= from { b - a } else { a - b }
    }
}

/// The simulation core.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub cfg: SimConfig,
    pub dynamics: Dynamics,
    pub sched: SessionSchedule,
    pub slots: Vec<Slot>,
    /// `slots[ranges[m].0 .. ranges[m].1]` belong to `Market::ALL[m]`.
    pub ranges: [(usize, usize); 4],
    /// Simulated time the state corresponds to.
    pub t_now: Timestamp,
    /// Cumulative activity of the session at `t_now`.
    pub act_now: f64,
    /// The session's inventory release, until it has been published.
    pub eia: Option<Timestamp>,
    inventory: InventoryModel,
    rng_factor: ChaCha8Rng,
    rng_day: ChaCha8Rng,
    rng_inv: ChaCha8Rng,
    biz: BizDays,
    grids: [Grid; 4],
}

impl Core {
    /// A core whose state starts at `at` (or at the next session open when `at` is in a
    /// closed period) with the WTI front month at `cfg.wti_start_price`.
    ///
    /// # Errors
    /// [`SimError::InvalidConfig`] when the config does not validate.
    pub fn new(cfg: &SimConfig, at: Timestamp) -> Result<Self, SimError> {
        let params = Params::new(cfg)?;
        let at = if is_session_open(at) { at } else { next_session_open(at) };
        let sched =
            SessionSchedule::new(trading_date(at)).unwrap_or_else(|| SessionSchedule::on_or_after(trading_date(at)));
        let at = at.max(sched.open).min(sched.settle_ts());
        let crude = Grid::new(cfg.tick_size_crude_usd_bbl);
        let products = Grid::new(cfg.tick_size_products_usd_gal);
        let mut core = Self {
            cfg: cfg.clone(),
            dynamics: Dynamics::new(params, cfg),
            biz: BizDays::new(sched.trading_date.checked_sub_days(Days::new(10)).unwrap_or(sched.trading_date)),
            sched: sched.clone(),
            slots: Vec::new(),
            ranges: [(0, 0); 4],
            t_now: sched.open,
            act_now: 0.0,
            eia: None,
            inventory: InventoryModel::new(cfg.crude_stocks_mean_kbbl),
            rng_factor: rng_for(cfg.seed, stream::FACTORS),
            rng_day: rng_for(cfg.seed, stream::DAILY),
            rng_inv: rng_for(cfg.seed, stream::INVENTORY),
            grids: [crude, crude, products, products],
        };
        core.build_slots(&sched);
        let act = sched.activity_at(at);
        let u = act / sched.total();
        core.dynamics.set_position(u);
        let front = core.slot_loadings(0);
        core.dynamics.set_front_price(cfg.wti_start_price, front.0, front.1);
        core.load_session(sched);
        core.dynamics.set_position(u);
        core.act_now = act;
        core.t_now = at;
        if core.eia.is_some_and(|e| e < at) {
            core.eia = None;
        }
        Ok(core)
    }

    /// Builds the quoted contracts of a session.
    fn build_slots(&mut self, sched: &SessionSchedule) {
        let d = sched.trading_date;
        let kappa = self.dynamics.p.kappa_slope;
        self.slots.clear();
        for (m, market) in Market::ALL.into_iter().enumerate() {
            let start = self.slots.len();
            for (tenor, id) in market.active_contracts(d, self.cfg.curve_months).into_iter().enumerate() {
                let bd_left = self.biz.between(d, id.last_trade_date()).max(0);
                let b = bd_left as f64;
                self.slots.push(Slot {
                    id,
                    tenor,
                    bd_left,
                    slope_open: (-kappa * (b + 1.0)).exp(),
                    curv_open: curvature_loading(b + 1.0),
                    curv_close: curvature_loading(b),
                    crack_level: seasonal_crack_usd_bbl(&self.cfg, market, id.month.month),
                    grid: self.grids[m],
                });
            }
            self.ranges[m] = (start, self.slots.len());
        }
    }

    /// Loads a session: its contracts, its inventory release and the day's volatility draw.
    /// The factor state carries over unchanged, so prices are continuous.
    fn load_session(&mut self, sched: SessionSchedule) {
        self.build_slots(&sched);
        self.eia = sched.eia_release();
        self.t_now = sched.open;
        self.act_now = 0.0;
        self.sched = sched;
        self.dynamics.set_position(0.0);
        let front = self.slot_loadings(0);
        let front_wti = self.dynamics.wti_usd(front.0, front.1);
        self.dynamics.begin_day(&mut self.rng_day, front_wti);
    }

    /// Slope and curvature loadings of a slot at the current session position.
    #[inline]
    fn slot_loadings(&self, i: usize) -> (f64, f64) {
        let s = &self.slots[i];
        let u = self.dynamics.u;
        (s.slope_open * self.dynamics.g, s.curv_open + (s.curv_close - s.curv_open) * u)
    }

    /// Model (fair) price of a slot in its market's unit.
    #[inline]
    pub fn fair(&self, i: usize) -> f64 {
        let (slope, curv) = self.slot_loadings(i);
        let s = &self.slots[i];
        let wti = self.dynamics.wti_usd(slope, curv);
        self.dynamics.market_price(s.id.market, wti, s.crack_level)
    }

    /// Fair price and daily price variance of a slot (for intra-minute excursions).
    pub fn fair_and_var(&self, i: usize) -> (f64, f64) {
        let (slope, curv) = self.slot_loadings(i);
        let s = &self.slots[i];
        let wti = self.dynamics.wti_usd(slope, curv);
        let price = self.dynamics.market_price(s.id.market, wti, s.crack_level);
        (price, self.dynamics.daily_price_var(s.id.market, wti, slope, s.crack_level))
    }

    /// Fair price of any contract with `tau_days` trading days of tenor left.
    fn fair_of(&self, id: ContractId, tau_days: f64) -> f64 {
        let slope = (-self.dynamics.p.kappa_slope * tau_days).exp();
        let wti = self.dynamics.wti_usd(slope, curvature_loading(tau_days));
        let crack = seasonal_crack_usd_bbl(&self.cfg, id.market, id.month.month);
        self.dynamics.market_price(id.market, wti, crack)
    }

    /// Advances the state to cumulative session activity `act` at time `t`.
    #[inline]
    pub fn advance_act(&mut self, act: f64, t: Timestamp) {
        let du = (act - self.act_now) / self.sched.total();
        self.dynamics.advance(du, &mut self.rng_factor);
        self.act_now = act.max(self.act_now);
        self.t_now = t.max(self.t_now);
    }

    /// Advances the state to time `t` of the current session.
    pub fn advance_to(&mut self, t: Timestamp) {
        let act = self.sched.activity_at(t);
        self.advance_act(act, t);
    }

    /// Advances the state to the end of the session (its whole variance used up).
    pub fn advance_to_end(&mut self) {
        let total = self.sched.total();
        let settle = self.sched.settle_ts();
        self.advance_act(total, settle);
        self.dynamics.set_position(1.0);
    }

    /// Publishes the session's inventory report: advances to its time, draws it and applies
    /// the price jump (a crude build above consensus moves WTI down; gasoline and distillate
    /// surprises move the RBOB and heating-oil cracks).
    pub fn release_inventory(&mut self) -> Option<InventoryReport> {
        let ts = self.eia.take()?;
        self.advance_to(ts);
        let report = self.inventory.report(&mut self.rng_inv, self.sched.trading_date, ts);
        let p = &self.dynamics.p;
        let wti_log = -p.eia_crude_per_kbbl * report.crude_surprise_kbbl();
        let rb_usd = -p.eia_product_usd_per_kbbl * (report.gasoline_change_kbbl - report.gasoline_consensus_kbbl);
        let ho_usd = -p.eia_product_usd_per_kbbl * (report.distillate_change_kbbl - report.distillate_consensus_kbbl);
        let rb_now = p.rb_crack * self.dynamics.exp_z_rb;
        let ho_now = p.ho_crack * self.dynamics.exp_z_ho;
        self.dynamics.jump(wti_log, rb_usd, rb_now, ho_usd, ho_now);
        Some(report)
    }

    /// Settlement prices at the current state (call at the end of the session): every quoted
    /// contract, then the contracts that join the curve at the next session, so each has a
    /// previous settlement on its first day.
    pub fn settlements(&mut self) -> Vec<(ContractId, f64)> {
        let mut out: Vec<(ContractId, f64)> =
            (0..self.slots.len()).map(|i| (self.slots[i].id, self.slots[i].grid.round(self.fair(i)))).collect();
        let d = self.sched.trading_date;
        let next = HolidayCalendar::Cme.add_business_days(d, 1);
        for market in Market::ALL {
            for id in market.active_contracts(next, self.cfg.curve_months) {
                if out.iter().any(|(c, _)| *c == id) {
                    continue;
                }
                let tau = self.biz.between(d, id.last_trade_date()).max(0) as f64;
                out.push((id, self.grids[market.index()].round(self.fair_of(id, tau))));
            }
        }
        out
    }

    /// Ends the session (GARCH update) and loads the next one.
    pub fn roll_to_next_session(&mut self) {
        self.dynamics.end_day();
        let next = self.sched.next();
        self.load_session(next);
    }

    /// Average tick rate (ticks per activity-second, i.e. per second at average activity) of
    /// every slot, before any stress override: `front_ticks_per_sec` ×
    /// `tenor_tick_decay^tenor`, the same for every market. In the last
    /// [`ROLL_WINDOW_DAYS`] business days before the front month expires, activity migrates
    /// to the second month (the roll): the front's effective tenor rises towards 2 and every
    /// other contract's falls by up to one month.
    pub fn tick_weights(&self) -> Vec<f64> {
        let cfg = &self.cfg;
        let mut out = Vec::with_capacity(self.slots.len());
        for market in Market::ALL {
            let range = self.market_slots(market);
            let front_left = self.slots.get(range.start).map_or(i64::MAX, |s| s.bd_left);
            let roll = ((ROLL_WINDOW_DAYS - front_left as f64) / ROLL_WINDOW_DAYS).clamp(0.0, 1.0);
            for s in &self.slots[range] {
                let eff = if s.tenor == 0 { 2.0 * roll } else { s.tenor as f64 - roll };
                out.push(cfg.front_ticks_per_sec * cfg.tenor_tick_decay.powf(eff));
            }
        }
        out
    }

    /// The slots of a market.
    pub fn market_slots(&self, market: Market) -> std::ops::Range<usize> {
        let (a, b) = self.ranges[market.index()];
        a..b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i32, m: u32, d: u32, h: u32) -> Timestamp {
        Timestamp::from_datetime(&NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, 0, 0).unwrap().and_utc())
    }

    #[test]
    fn starts_at_configured_price_and_rolls_continuously() {
        let cfg = SimConfig::default();
        // Wednesday 2024-03-13 15:00 UTC (11:00 ET): mid-session.
        let mut core = Core::new(&cfg, ts(2024, 3, 13, 15)).unwrap();
        assert!((core.fair(0) - cfg.wti_start_price).abs() < 1e-9);
        assert_eq!(core.slots.len(), 4 * cfg.curve_months);
        core.advance_to_end();
        let before: Vec<(ContractId, f64)> = (0..core.slots.len()).map(|i| (core.slots[i].id, core.fair(i))).collect();
        core.roll_to_next_session();
        for (i, s) in core.slots.iter().enumerate() {
            if let Some((_, p)) = before.iter().find(|(c, _)| *c == s.id) {
                let now = core.fair(i);
                assert!((now - p).abs() < 1e-9 * p.abs().max(1.0), "{} {p} -> {now}", s.id);
            }
        }
    }

    #[test]
    fn closed_start_moves_to_next_open() {
        let cfg = SimConfig::default();
        // Saturday 2024-03-16 12:00 UTC: next open is Sunday 18:00 ET = 22:00 UTC.
        let core = Core::new(&cfg, ts(2024, 3, 16, 12)).unwrap();
        assert_eq!(core.t_now, ts(2024, 3, 17, 22));
        assert_eq!(core.sched.trading_date, NaiveDate::from_ymd_opt(2024, 3, 18).unwrap());
    }

    #[test]
    fn business_day_counts() {
        let mut b = BizDays::new(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap());
        let d = |m, dd| NaiveDate::from_ymd_opt(2024, m, dd).unwrap();
        // Mon 11 Mar .. Fri 15 Mar: 4 business days after the 11th.
        assert_eq!(b.between(d(3, 11), d(3, 15)), 4);
        assert_eq!(b.between(d(3, 15), d(3, 11)), -4);
        // Good Friday 29 Mar 2024 is a CME holiday.
        assert_eq!(b.between(d(3, 28), d(4, 1)), 1);
        // Before the base: rebuilds.
        assert_eq!(b.between(d(1, 2), d(1, 5)), 3);
    }
}
