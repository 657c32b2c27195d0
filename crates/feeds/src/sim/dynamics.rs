//! The price model: latent factors, their dynamics and the map from factors to a contract's
//! price.
//!
//! Time is measured in **trading days** (one session = one day, 252 a year) and advanced in
//! fractions `du` of the current session, weighted by the intraday activity profile (see the
//! `schedule` module), so a step in the busy New York morning carries more variance than a
//! step of the same length in the Asian night.
//!
//! # Factors
//!
//! | factor | meaning | dynamics (per trading day) |
//! | --- | --- | --- |
//! | `xi` | long-term log level of WTI | random walk, shock variance `h·m²·q_xi` |
//! | `chi` | slope: short-term log deviation of the front from the long end (> 0 backwardation) | OU, half-life `curve_slope_half_life_days`, shock variance `h·m²·q_chi` |
//! | `curv` | curvature (a hump peaking at the four-month tenor) | OU, stationary sd `curve_curvature_sd` |
//! | `prem` | Brent premium over WTI, $/bbl | OU around `brent_premium_usd`, shocks ∝ WTI's current $ volatility |
//! | `z_rb`, `z_ho` | log deviation of the RBOB / heating-oil cracks | OU around 0, correlated shocks |
//!
//! The WTI log-price "state" of a contract with `τ` trading days to expiry is the
//! Schwartz–Smith two-factor form plus a curvature term:
//! `y(τ) = xi + chi·e^{−κτ} + curv·φ(τ)`, `φ(τ) = (τ/τc)·e^{1−τ/τc}`, `τc = 84` days.
//! Because the slope loading decays with tenor, back months are calmer than the front (the
//! Samuelson effect). `q_chi` and `q_xi` are solved so that the contract at the reference
//! front tenor (10.5 trading days, half a month) has daily variance exactly `h`, and the
//! contract eleven months further out has `back_month_vol_ratio²·h`. Each contract is a
//! martingale in `y` apart from the slope's pull towards its mean; the generic curve
//! (M1 − M12) inherits the slope factor's mean reversion, so the curve moves between
//! contango and backwardation.
//!
//! # From state to price (negative prices)
//!
//! WTI's $/bbl price is `G(y)`, where `G(y) = e^y` above `ln(floor)` and continues along its
//! tangent below: `G(y) = floor·(1 + y − ln floor)`. Above the floor (`price_floor_usd_bbl`,
//! default $10) dynamics are exactly lognormal; below it they are arithmetic with the $
//! volatility the floor price has, so prices can cross zero (as WTI did on 2020-04-20) while
//! the starting level and dynamics make it rare. Nothing is ever clamped.
//!
//! Brent is WTI at Brent's tenor plus the premium: `BZ(τ) = G(y(τ)) + prem`. Products are
//! consistent with crude through 42 gal/bbl: `RB(τ) = (G(y(τ)) + crack_rb(month)·e^{z_rb}) / 42`,
//! where `crack_rb(month)` is `rb_crack_usd_bbl` plus a seasonal term by delivery month
//! (`A·cos(2π(month − peak)/12)`, peak June for RBOB and January for heating oil). Cracks are
//! therefore always positive.
//!
//! # Volatility: GARCH(1,1) with Student-t days
//!
//! `h` is a daily GARCH(1,1) variance updated once per session close from that session's
//! WTI reference return `r` (the shock part of the reference-tenor return, including
//! inventory jumps): `h ← ω + α·r² + β·h`, `ω = σ²/252·(1 − α − β)`, so the unconditional
//! daily variance is `σ²/252` with σ = `wti_vol_annual`. Within a session all shocks are
//! Gaussian with variance `h·m²·du`, where the day's mixing factor `m² = (ν − 2)/W`,
//! `W ~ χ²(ν)`, is drawn at the open: a session's return is then exactly a unit-variance
//! Student-t(ν) times `√h` (fat tails survive the intraday aggregation), and `E[r²] = h`.
//! Squared daily returns are positively autocorrelated through `h`.

use rand::Rng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};

use crude_model::{GALLONS_PER_BARREL, Market};

use super::config::{SimConfig, SimError};

/// Trading days per year (annualisation).
pub(crate) const TRADING_DAYS_PER_YEAR: f64 = 252.0;
/// Trading days per contract month (for tenor arithmetic).
pub(crate) const TRADING_DAYS_PER_MONTH: f64 = 21.0;
/// The front-month reference tenor at which `wti_vol_annual` holds (half a month).
pub(crate) const TAU_REF_DAYS: f64 = 10.5;
/// The tenor at which `back_month_vol_ratio` holds (eleven months behind the reference).
pub(crate) const TAU_BACK_DAYS: f64 = TAU_REF_DAYS + 11.0 * TRADING_DAYS_PER_MONTH;
/// Tenor (trading days) at which the curvature loading peaks.
pub(crate) const CURVATURE_PEAK_DAYS: f64 = 84.0;
/// Delivery month at which the RBOB crack's seasonal term peaks (June).
const RB_SEASON_PEAK_MONTH: f64 = 6.0;
/// Delivery month at which the heating-oil crack's seasonal term peaks (January).
const HO_SEASON_PEAK_MONTH: f64 = 1.0;

/// The smallest `back_month_vol_ratio` the slope factor allows for a given half-life: the
/// ratio reached when all the front's variance comes from the slope factor.
pub(crate) fn min_back_month_vol_ratio(slope_half_life_days: f64) -> f64 {
    let kappa = std::f64::consts::LN_2 / slope_half_life_days;
    (-kappa * (TAU_BACK_DAYS - TAU_REF_DAYS)).exp()
}

/// The curvature loading `φ(τ)`, τ in trading days (0 at τ = 0, 1 at the peak).
pub(crate) fn curvature_loading(tau_days: f64) -> f64 {
    let x = tau_days.max(0.0) / CURVATURE_PEAK_DAYS;
    x * (1.0 - x).exp()
}

/// The price map `G`: `e^y` above `ln_floor`, its tangent line below (can be negative).
#[inline]
pub(crate) fn floored_exp(y: f64, floor: f64, ln_floor: f64) -> f64 {
    if y >= ln_floor { y.exp() } else { floor * (1.0 + (y - ln_floor)) }
}

/// The inverse of [`floored_exp`].
pub(crate) fn floored_log(price: f64, floor: f64, ln_floor: f64) -> f64 {
    if price >= floor { price.ln() } else { ln_floor + price / floor - 1.0 }
}

/// The seasonal crack level ($/bbl) of a product's delivery month (1..=12); 0 for crude.
pub(crate) fn seasonal_crack_usd_bbl(cfg: &SimConfig, market: Market, month: u32) -> f64 {
    let phase = |peak: f64| (2.0 * std::f64::consts::PI * (f64::from(month) - peak) / 12.0).cos();
    match market {
        Market::Rbob => cfg.rb_crack_usd_bbl + cfg.rb_crack_seasonal_usd_bbl * phase(RB_SEASON_PEAK_MONTH),
        Market::HeatingOil => cfg.ho_crack_usd_bbl + cfg.ho_crack_seasonal_usd_bbl * phase(HO_SEASON_PEAK_MONTH),
        Market::Wti | Market::Brent => 0.0,
    }
}

/// Constants derived from a validated [`SimConfig`].
#[derive(Debug, Clone)]
pub(crate) struct Params {
    /// Slope mean reversion per trading day (also the loading's decay rate per day of tenor).
    pub kappa_slope: f64,
    pub slope_mean: f64,
    pub sqrt_q_chi: f64,
    pub sqrt_q_xi: f64,
    pub q_chi: f64,
    pub q_xi: f64,
    /// `e^{−κ·TAU_REF_DAYS}`: the slope loading of the reference front tenor.
    pub e_ref: f64,
    pub kappa_curv: f64,
    pub curv_sd_day: f64,
    pub kappa_prem: f64,
    pub prem_mean: f64,
    /// Premium shock size relative to WTI's $ shock: `sqrt(1/ρ² − 1)`.
    pub prem_k: f64,
    pub kappa_crack: f64,
    pub crack_sd_day: f64,
    pub crack_corr: f64,
    pub crack_corr_c: f64,
    /// Unconditional daily variance `σ²/252`.
    pub h_bar: f64,
    pub omega: f64,
    pub alpha: f64,
    pub beta: f64,
    pub dof: f64,
    pub chi2: ChiSquared<f64>,
    pub floor: f64,
    pub ln_floor: f64,
    pub rb_crack: f64,
    pub ho_crack: f64,
    pub eia_crude_per_kbbl: f64,
    pub eia_product_usd_per_kbbl: f64,
}

impl Params {
    /// Derives the model constants.
    ///
    /// # Errors
    /// [`SimError::InvalidConfig`] when the config does not validate.
    pub fn new(cfg: &SimConfig) -> Result<Self, SimError> {
        cfg.validate()?;
        let ln2 = std::f64::consts::LN_2;
        let kappa_slope = ln2 / cfg.curve_slope_half_life_days;
        let ea2 = (-2.0 * kappa_slope * TAU_REF_DAYS).exp();
        let eb2 = (-2.0 * kappa_slope * TAU_BACK_DAYS).exp();
        let r2 = cfg.back_month_vol_ratio * cfg.back_month_vol_ratio;
        let q_chi = ((1.0 - r2) / (ea2 - eb2)).max(0.0);
        let q_xi = (1.0 - q_chi * ea2).max(0.0);
        let kappa_curv = ln2 / cfg.curve_curvature_half_life_days;
        let h_bar = cfg.wti_vol_annual * cfg.wti_vol_annual / TRADING_DAYS_PER_YEAR;
        let chi2 = ChiSquared::new(cfg.student_t_dof).map_err(|e| SimError::InvalidConfig {
            field: "student_t_dof",
            value: cfg.student_t_dof.to_string(),
            expected: format!("a valid chi-square degrees of freedom ({e})"),
        })?;
        let rho = cfg.wti_brent_corr;
        let rc = cfg.crack_corr;
        Ok(Self {
            kappa_slope,
            slope_mean: cfg.curve_slope_mean,
            sqrt_q_chi: q_chi.sqrt(),
            sqrt_q_xi: q_xi.sqrt(),
            q_chi,
            q_xi,
            e_ref: (-kappa_slope * TAU_REF_DAYS).exp(),
            kappa_curv,
            curv_sd_day: cfg.curve_curvature_sd * (2.0 * kappa_curv).sqrt(),
            kappa_prem: ln2 / cfg.brent_premium_half_life_days,
            prem_mean: cfg.brent_premium_usd,
            prem_k: (1.0 / (rho * rho) - 1.0).max(0.0).sqrt(),
            kappa_crack: ln2 / cfg.crack_half_life_days,
            crack_sd_day: cfg.crack_vol_annual / TRADING_DAYS_PER_YEAR.sqrt(),
            crack_corr: rc,
            crack_corr_c: (1.0 - rc * rc).max(0.0).sqrt(),
            h_bar,
            omega: h_bar * (1.0 - cfg.garch_alpha - cfg.garch_beta),
            alpha: cfg.garch_alpha,
            beta: cfg.garch_beta,
            dof: cfg.student_t_dof,
            chi2,
            floor: cfg.price_floor_usd_bbl,
            ln_floor: cfg.price_floor_usd_bbl.ln(),
            rb_crack: cfg.rb_crack_usd_bbl,
            ho_crack: cfg.ho_crack_usd_bbl,
            eia_crude_per_kbbl: cfg.eia_crude_impact_pct_per_mbbl / 100.0 / 1_000.0,
            eia_product_usd_per_kbbl: cfg.eia_product_impact_usd_bbl_per_mbbl / 1_000.0,
        })
    }
}

/// The latent factors (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Factors {
    pub xi: f64,
    pub chi: f64,
    pub curv: f64,
    pub prem: f64,
    pub z_rb: f64,
    pub z_ho: f64,
}

/// The GARCH state and the current session's accumulators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct VolState {
    /// Conditional daily variance of the reference front return for the current session.
    pub h: f64,
    /// The session's Student-t mixing factor `m` (`m² = (ν − 2)/W`).
    pub mix: f64,
    /// `m·√h`: the daily shock scale of the current session.
    pub day_sd: f64,
    /// The session's reference return so far (shock part, including jumps).
    pub r_day: f64,
}

/// Factors, volatility and the session clock position, advanced by Gaussian increments.
#[derive(Debug, Clone)]
pub(crate) struct Dynamics {
    pub p: Params,
    pub f: Factors,
    pub vol: VolState,
    /// Fraction of the current session elapsed (activity-weighted), 0..=1.
    pub u: f64,
    /// `e^{κ·u}`: multiplies a contract's slope loading at the open.
    pub g: f64,
    /// `e^{z_rb}`, `e^{z_ho}` (cached).
    pub exp_z_rb: f64,
    pub exp_z_ho: f64,
    /// WTI $ scale for the premium's shocks (front price, at least the floor), set at the open.
    pub p_ref: f64,
}

impl Dynamics {
    /// Factors at their starting values: the slope at `curve_slope_start`, curvature 0, the
    /// premium at its mean, cracks at their seasonal level and variance at its unconditional
    /// level. `xi` is set later by [`Dynamics::set_front_price`].
    pub fn new(p: Params, cfg: &SimConfig) -> Self {
        let h = p.h_bar;
        let prem = p.prem_mean;
        Self {
            f: Factors { xi: 0.0, chi: cfg.curve_slope_start, curv: 0.0, prem, z_rb: 0.0, z_ho: 0.0 },
            vol: VolState { h, mix: 1.0, day_sd: h.sqrt(), r_day: 0.0 },
            u: 0.0,
            g: 1.0,
            exp_z_rb: 1.0,
            exp_z_ho: 1.0,
            p_ref: cfg.price_floor_usd_bbl,
            p,
        }
    }

    /// Sets `xi` so that a contract with the given loadings prices at `price` $/bbl (WTI).
    pub fn set_front_price(&mut self, price: f64, slope_load: f64, curv_load: f64) {
        let y = floored_log(price, self.p.floor, self.p.ln_floor);
        self.f.xi = y - self.f.chi * slope_load - self.f.curv * curv_load;
    }

    /// Starts a session: draws its Student-t mixing factor and resets the accumulators.
    pub fn begin_day<R: Rng + ?Sized>(&mut self, rng: &mut R, front_wti_usd: f64) {
        let w: f64 = self.p.chi2.sample(rng);
        // W > 0 almost surely; guard the division anyway.
        let mix = ((self.p.dof - 2.0) / w.max(1e-12)).sqrt();
        self.vol.mix = mix;
        self.vol.day_sd = mix * self.vol.h.sqrt();
        self.vol.r_day = 0.0;
        self.u = 0.0;
        self.g = 1.0;
        self.p_ref = front_wti_usd.max(self.p.floor);
    }

    /// Ends a session: the GARCH update from the session's reference return.
    pub fn end_day(&mut self) {
        let r = self.vol.r_day;
        self.vol.h = self.p.omega + self.p.alpha * r * r + self.p.beta * self.vol.h;
    }

    /// Moves the session position to `u` without any price change (used when the simulation
    /// starts in the middle of a session).
    pub fn set_position(&mut self, u: f64) {
        self.u = u.clamp(0.0, 1.0);
        self.g = (self.p.kappa_slope * self.u).exp();
    }

    /// Advances the factors by `du` of a session (exact Brownian increments, Euler drift).
    pub fn advance<R: Rng + ?Sized>(&mut self, du: f64, rng: &mut R) {
        if du <= 0.0 || !du.is_finite() {
            return;
        }
        let p = &self.p;
        let sq = du.sqrt();
        let sd = self.vol.day_sd * sq;
        let z0: f64 = rng.sample(StandardNormal);
        let z1: f64 = rng.sample(StandardNormal);
        let z2: f64 = rng.sample(StandardNormal);
        let z3: f64 = rng.sample(StandardNormal);
        let z4: f64 = rng.sample(StandardNormal);
        let z5: f64 = rng.sample(StandardNormal);
        let dxi = sd * p.sqrt_q_xi * z0;
        let dchi = sd * p.sqrt_q_chi * z1;
        let f = &mut self.f;
        f.xi += dxi;
        f.chi += -p.kappa_slope * (f.chi - p.slope_mean) * du + dchi;
        f.curv += -p.kappa_curv * f.curv * du + p.curv_sd_day * sq * z2;
        f.prem += -p.kappa_prem * (f.prem - p.prem_mean) * du + p.prem_k * self.p_ref * sd * z3;
        let crack_sd = p.crack_sd_day * sq;
        f.z_rb += -p.kappa_crack * f.z_rb * du + crack_sd * z4;
        f.z_ho += -p.kappa_crack * f.z_ho * du + crack_sd * (p.crack_corr * z4 + p.crack_corr_c * z5);
        self.vol.r_day += p.e_ref * dchi + dxi;
        self.set_position(self.u + du);
        self.exp_z_rb = self.f.z_rb.exp();
        self.exp_z_ho = self.f.z_ho.exp();
    }

    /// Applies an inventory-report jump: `wti_log` to the WTI level (counted in the session's
    /// return), `rb_usd` / `ho_usd` $/bbl to the current cracks (`rb_crack_now` and
    /// `ho_crack_now` are the cracks the moves are relative to).
    pub fn jump(&mut self, wti_log: f64, rb_usd: f64, rb_crack_now: f64, ho_usd: f64, ho_crack_now: f64) {
        self.f.xi += wti_log;
        self.vol.r_day += wti_log;
        // A crack is level·e^z: a $ move d is a log move ln(1 + d/crack). Reports are small
        // next to the crack, so the guard only protects against absurd configurations.
        let log_move = |d: f64, crack: f64| (d / crack.max(1e-9)).max(-0.9).ln_1p();
        self.f.z_rb += log_move(rb_usd, rb_crack_now);
        self.f.z_ho += log_move(ho_usd, ho_crack_now);
        self.exp_z_rb = self.f.z_rb.exp();
        self.exp_z_ho = self.f.z_ho.exp();
    }

    /// WTI's $/bbl price for a contract with the given loadings.
    #[inline]
    pub fn wti_usd(&self, slope_load: f64, curv_load: f64) -> f64 {
        let y = self.f.xi + self.f.chi * slope_load + self.f.curv * curv_load;
        floored_exp(y, self.p.floor, self.p.ln_floor)
    }

    /// A market's price in its own unit ($/bbl or $/gal) from WTI's $/bbl price at the same
    /// tenor and the contract's seasonal crack level.
    #[inline]
    pub fn market_price(&self, market: Market, wti_usd: f64, crack_level: f64) -> f64 {
        match market {
            Market::Wti => wti_usd,
            Market::Brent => wti_usd + self.f.prem,
            Market::Rbob => (wti_usd + crack_level * self.exp_z_rb) / GALLONS_PER_BARREL,
            Market::HeatingOil => (wti_usd + crack_level * self.exp_z_ho) / GALLONS_PER_BARREL,
        }
    }

    /// The daily variance of a contract's price (in its own unit²) at the current state, for
    /// sizing intra-minute excursions.
    pub fn daily_price_var(&self, market: Market, wti_usd: f64, slope_load: f64, crack_level: f64) -> f64 {
        let p = &self.p;
        let scale = wti_usd.max(p.floor);
        let day_var = self.vol.day_sd * self.vol.day_sd;
        let mut v = scale * scale * day_var * (p.q_chi * slope_load * slope_load + p.q_xi);
        match market {
            Market::Wti => v,
            Market::Brent => v + (p.prem_k * self.p_ref) * (p.prem_k * self.p_ref) * day_var,
            Market::Rbob | Market::HeatingOil => {
                let ez = if market == Market::Rbob { self.exp_z_rb } else { self.exp_z_ho };
                let c = crack_level * ez * p.crack_sd_day;
                v += c * c;
                v / (GALLONS_PER_BARREL * GALLONS_PER_BARREL)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn floored_map_is_continuous_monotone_and_can_go_negative() {
        let floor = 10.0_f64;
        let lf = floor.ln();
        let below = floored_exp(lf - 1e-9, floor, lf);
        let above = floored_exp(lf + 1e-9, floor, lf);
        assert!((below - above).abs() < 1e-6);
        assert!(floored_exp(lf - 2.0, floor, lf) < 0.0);
        let mut prev = f64::NEG_INFINITY;
        for i in 0..400 {
            let y = -3.0 + i as f64 * 0.02;
            let p = floored_exp(y, floor, lf);
            assert!(p > prev);
            prev = p;
            assert!((floored_log(p, floor, lf) - y).abs() < 1e-9);
        }
    }

    #[test]
    fn loadings_normalise_front_and_back_variance() {
        let cfg = SimConfig::default();
        let p = Params::new(&cfg).unwrap();
        let front = p.q_chi * p.e_ref * p.e_ref + p.q_xi;
        assert!((front - 1.0).abs() < 1e-12);
        let eb = (-p.kappa_slope * TAU_BACK_DAYS).exp();
        let back = p.q_chi * eb * eb + p.q_xi;
        assert!((back.sqrt() - cfg.back_month_vol_ratio).abs() < 1e-12);
        assert!(p.q_xi >= 0.0 && p.q_chi >= 0.0);
    }

    #[test]
    fn seasonal_cracks_peak_in_season() {
        let cfg = SimConfig::default();
        let june = seasonal_crack_usd_bbl(&cfg, Market::Rbob, 6);
        let dec = seasonal_crack_usd_bbl(&cfg, Market::Rbob, 12);
        assert!((june - 24.0).abs() < 1e-9 && (dec - 16.0).abs() < 1e-9);
        let jan = seasonal_crack_usd_bbl(&cfg, Market::HeatingOil, 1);
        let jul = seasonal_crack_usd_bbl(&cfg, Market::HeatingOil, 7);
        assert!(jan > jul);
        assert_eq!(seasonal_crack_usd_bbl(&cfg, Market::Wti, 3), 0.0);
    }

    #[test]
    fn garch_keeps_unconditional_variance() {
        // Simulate sessions as single steps: the mean squared reference return must match
        // the configured daily variance.
        let cfg = SimConfig::default();
        let p = Params::new(&cfg).unwrap();
        let h_bar = p.h_bar;
        let mut d = Dynamics::new(p, &cfg);
        d.set_front_price(75.0, d.p.e_ref, curvature_loading(TAU_REF_DAYS));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 200_000;
        let mut sum = 0.0;
        for _ in 0..n {
            d.begin_day(&mut rng, 75.0);
            d.advance(1.0, &mut rng);
            sum += d.vol.r_day * d.vol.r_day;
            d.end_day();
        }
        let ratio = sum / n as f64 / h_bar;
        assert!((ratio - 1.0).abs() < 0.05, "E[r²]/h̄ = {ratio}");
    }
}
