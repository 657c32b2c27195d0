//! The simulator's configuration ([`SimConfig`]), its validation and the simulator's error
//! type ([`SimError`]).
//!
//! Every field has a realistic default (see [`SimConfig::default`]); a config file only names
//! the fields it changes (`#[serde(default)]`) and an unknown field is an error
//! (`deny_unknown_fields`), so a typo cannot silently fall back to a default.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Errors the simulator reports. Every message names the offending field, argument or file
/// and says what would be accepted.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A [`SimConfig`] field is out of its accepted range.
    #[error("simulator config: field `{field}` = {value} is invalid: {expected}")]
    InvalidConfig {
        /// The field's name as written in a config file.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// The accepted range and, where useful, why.
        expected: String,
    },
    /// A function argument is out of its accepted range.
    #[error("simulator: argument `{name}` = {value} is invalid: {expected}")]
    InvalidArgument {
        /// The argument's name.
        name: &'static str,
        /// The rejected value.
        value: String,
        /// The accepted range.
        expected: String,
    },
    /// Writing an output file failed; nothing was left half-written.
    #[error("simulator: cannot write '{path}': {source}")]
    Io {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Configuration of the market simulator. Units are in the field names (`_annual` = annualised
/// with 252 trading days, `_days` = trading days, `_usd_bbl` = $/bbl, `_usd_gal` = $/gal).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seed of every random stream; the same seed and start give the same events.
    pub seed: u64,
    /// Unconditional annualised volatility of the WTI front month's daily log returns.
    pub wti_vol_annual: f64,
    /// WTI front-month price ($/bbl) at the first simulated instant (the start of the warm-up
    /// history when one is generated). May be negative.
    pub wti_start_price: f64,
    /// Long-run level ($/bbl) around which the Brent premium over WTI mean-reverts (also its
    /// starting value).
    pub brent_premium_usd: f64,
    /// Half-life (trading days) of the Brent premium's mean reversion.
    pub brent_premium_half_life_days: f64,
    /// Correlation of WTI and Brent daily returns (sets the size of the premium's shocks).
    pub wti_brent_corr: f64,
    /// Median RBOB crack ($/bbl): RBOB $/gal × 42 − WTI, before seasonality.
    pub rb_crack_usd_bbl: f64,
    /// Seasonal amplitude ($/bbl) of the RBOB crack by delivery month (peak June contract).
    pub rb_crack_seasonal_usd_bbl: f64,
    /// Median heating-oil crack ($/bbl): HO $/gal × 42 − WTI, before seasonality.
    pub ho_crack_usd_bbl: f64,
    /// Seasonal amplitude ($/bbl) of the heating-oil crack by delivery month (peak January).
    pub ho_crack_seasonal_usd_bbl: f64,
    /// Annualised volatility of the cracks' log deviation from their seasonal level.
    pub crack_vol_annual: f64,
    /// Half-life (trading days) of the cracks' mean reversion.
    pub crack_half_life_days: f64,
    /// Correlation of the RBOB and heating-oil crack shocks.
    pub crack_corr: f64,
    /// Number of contract months quoted per market (front first).
    pub curve_months: usize,
    /// Starting value of the curve's slope factor (log units, ≈ ln M1 − ln of a far month;
    /// positive = backwardation, negative = contango).
    pub curve_slope_start: f64,
    /// Long-run mean of the slope factor.
    pub curve_slope_mean: f64,
    /// Half-life (trading days) of the slope factor; it also sets how fast the slope's
    /// loading decays with tenor (the Samuelson effect).
    pub curve_slope_half_life_days: f64,
    /// Volatility of the 12th contract relative to the front month (Samuelson effect).
    pub back_month_vol_ratio: f64,
    /// Stationary standard deviation (log units) of the curvature factor (a hump peaking at
    /// the four-month tenor).
    pub curve_curvature_sd: f64,
    /// Half-life (trading days) of the curvature factor.
    pub curve_curvature_half_life_days: f64,
    /// Price levels per side in each depth snapshot.
    pub depth_levels: usize,
    /// How many contracts per market (from the front) publish depth.
    pub depth_contracts: usize,
    /// Average tick (quote update) rate of each market's front month over a session, per
    /// second (busier in New York hours, quieter at night). Each further month ticks at
    /// `tenor_tick_decay` times the rate of the month before it.
    pub front_ticks_per_sec: f64,
    /// Ratio of the tick rate of each contract to that of the contract one month nearer.
    pub tenor_tick_decay: f64,
    /// Probability that a tick of a WTI contract is accompanied by a trade (other markets
    /// trade less: Brent × 0.65, RBOB and heating oil × 0.35).
    pub trade_probability: f64,
    /// Interval of the periodic curve snapshots while the market is open (simulated ms).
    pub curve_snapshot_interval_ms: u64,
    /// GARCH(1,1) weight of yesterday's squared return.
    pub garch_alpha: f64,
    /// GARCH(1,1) weight of yesterday's variance.
    pub garch_beta: f64,
    /// Degrees of freedom of the Student-t daily innovations (scaled to unit variance).
    pub student_t_dof: f64,
    /// Price ($/bbl) below which crude follows arithmetic instead of lognormal dynamics, so
    /// that prices can cross zero.
    pub price_floor_usd_bbl: f64,
    /// WTI price move (%) per million barrels of crude-inventory surprise (a build above
    /// consensus moves prices down).
    pub eia_crude_impact_pct_per_mbbl: f64,
    /// Crack move ($/bbl) per million barrels of gasoline (RBOB) or distillate (heating oil)
    /// inventory surprise.
    pub eia_product_impact_usd_bbl_per_mbbl: f64,
    /// Seasonal mean of US commercial crude stocks (thousand barrels).
    pub crude_stocks_mean_kbbl: f64,
    /// Tick size of WTI and Brent ($/bbl).
    pub tick_size_crude_usd_bbl: f64,
    /// Tick size of RBOB and heating oil ($/gal).
    pub tick_size_products_usd_gal: f64,
}

impl Default for SimConfig {
    /// Realistic defaults: WTI at $75 with 35 % annualised volatility, Brent $4 over WTI with
    /// a 0.975 same-tenor return correlation (front-month continuous series, whose roll days
    /// differ between the markets, correlate at about 0.90–0.96), cracks of $20 (RBOB) and
    /// $28 (heating oil), a 12-month curve, 10 depth levels on the two front months, 5 ticks/s
    /// on each front month, GARCH(1,1) with α = 0.12, β = 0.76 and Student-t(8) days.
    ///
    /// The GARCH persistence (α + β = 0.88, a volatility half-life of about 5½ sessions) is
    /// lower than fits to long WTI histories (≈ 0.98): with that persistence the realised
    /// volatility of a two-year path wanders far from the configured level, while 0.88 keeps
    /// it within ±20 % on about 98 % of 500-session paths and still gives clearly positive
    /// autocorrelation of squared daily returns (sum over lags 1–5 ≈ 0.4 on average).
    fn default() -> Self {
        Self {
            seed: 7,
            wti_vol_annual: 0.35,
            wti_start_price: 75.0,
            brent_premium_usd: 4.0,
            brent_premium_half_life_days: 20.0,
            wti_brent_corr: 0.975,
            rb_crack_usd_bbl: 20.0,
            rb_crack_seasonal_usd_bbl: 4.0,
            ho_crack_usd_bbl: 28.0,
            ho_crack_seasonal_usd_bbl: 3.0,
            crack_vol_annual: 0.6,
            crack_half_life_days: 30.0,
            crack_corr: 0.4,
            curve_months: 12,
            curve_slope_start: 0.02,
            curve_slope_mean: 0.0,
            curve_slope_half_life_days: 120.0,
            back_month_vol_ratio: 0.7,
            curve_curvature_sd: 0.02,
            curve_curvature_half_life_days: 60.0,
            depth_levels: 10,
            depth_contracts: 2,
            front_ticks_per_sec: 5.0,
            tenor_tick_decay: 0.7,
            trade_probability: 0.4,
            curve_snapshot_interval_ms: 1_000,
            garch_alpha: 0.12,
            garch_beta: 0.76,
            student_t_dof: 8.0,
            price_floor_usd_bbl: 10.0,
            eia_crude_impact_pct_per_mbbl: 0.15,
            eia_product_impact_usd_bbl_per_mbbl: 0.25,
            crude_stocks_mean_kbbl: 430_000.0,
            tick_size_crude_usd_bbl: 0.01,
            tick_size_products_usd_gal: 0.0001,
        }
    }
}

/// First year a simulation may start in.
pub const FIRST_START_YEAR: i32 = 1971;
/// Last year a simulation may start in (the model's calendar and nanosecond time stamps
/// reach far beyond it; the limit keeps every date computation in range).
pub const LAST_START_YEAR: i32 = 2200;

/// Checks that a start date is within [`FIRST_START_YEAR`]..=[`LAST_START_YEAR`].
pub(crate) fn check_start_date(name: &'static str, d: chrono::NaiveDate) -> Result<(), SimError> {
    use chrono::Datelike;
    if (FIRST_START_YEAR..=LAST_START_YEAR).contains(&d.year()) {
        Ok(())
    } else {
        Err(SimError::InvalidArgument {
            name,
            value: d.to_string(),
            expected: format!("a date in the years {FIRST_START_YEAR}..={LAST_START_YEAR}"),
        })
    }
}

/// Checks that `v` is finite and in `lo..=hi`.
fn check_range(field: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), SimError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(invalid(field, v, format!("expected a finite number in {lo}..={hi}")))
    }
}

/// Checks that `v` is finite and in `lo < v <= hi`.
fn check_open_low(field: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), SimError> {
    if v.is_finite() && v > lo && v <= hi {
        Ok(())
    } else {
        Err(invalid(field, v, format!("expected a finite number greater than {lo} and at most {hi}")))
    }
}

/// An [`SimError::InvalidConfig`].
fn invalid(field: &'static str, v: impl std::fmt::Display, expected: String) -> SimError {
    SimError::InvalidConfig { field, value: v.to_string(), expected }
}

impl SimConfig {
    /// Checks every field against its accepted range.
    ///
    /// # Errors
    /// [`SimError::InvalidConfig`] naming the first offending field, its value and the
    /// accepted range.
    pub fn validate(&self) -> Result<(), SimError> {
        check_open_low("wti_vol_annual", self.wti_vol_annual, 0.0, 3.0)?;
        check_range("wti_start_price", self.wti_start_price, -10_000.0, 10_000.0)?;
        check_range("brent_premium_usd", self.brent_premium_usd, -100.0, 100.0)?;
        check_range("brent_premium_half_life_days", self.brent_premium_half_life_days, 0.5, 10_000.0)?;
        check_open_low("wti_brent_corr", self.wti_brent_corr, 0.0, 1.0)?;
        for (field, level, amp_field, amp) in [
            ("rb_crack_usd_bbl", self.rb_crack_usd_bbl, "rb_crack_seasonal_usd_bbl", self.rb_crack_seasonal_usd_bbl),
            ("ho_crack_usd_bbl", self.ho_crack_usd_bbl, "ho_crack_seasonal_usd_bbl", self.ho_crack_seasonal_usd_bbl),
        ] {
            // The crack is modelled as level × exp(deviation), which needs a positive level.
            check_open_low(field, level, 0.0, 500.0)?;
            if !(amp.is_finite() && amp >= 0.0 && amp < level) {
                return Err(invalid(
                    amp_field,
                    amp,
                    format!(
                        "expected 0 <= amplitude < the crack level {level} (the seasonal crack must stay positive)"
                    ),
                ));
            }
        }
        check_range("crack_vol_annual", self.crack_vol_annual, 0.0, 5.0)?;
        check_range("crack_half_life_days", self.crack_half_life_days, 0.5, 10_000.0)?;
        check_range("crack_corr", self.crack_corr, -1.0, 1.0)?;
        if !(1..=60).contains(&self.curve_months) {
            return Err(invalid("curve_months", self.curve_months, "expected 1..=60".into()));
        }
        check_range("curve_slope_start", self.curve_slope_start, -2.0, 2.0)?;
        check_range("curve_slope_mean", self.curve_slope_mean, -2.0, 2.0)?;
        check_range("curve_slope_half_life_days", self.curve_slope_half_life_days, 5.0, 10_000.0)?;
        let min_ratio = super::dynamics::min_back_month_vol_ratio(self.curve_slope_half_life_days);
        if !(self.back_month_vol_ratio.is_finite()
            && self.back_month_vol_ratio >= min_ratio
            && self.back_month_vol_ratio <= 1.0)
        {
            return Err(invalid(
                "back_month_vol_ratio",
                self.back_month_vol_ratio,
                format!(
                    "expected {min_ratio:.4}..=1 for curve_slope_half_life_days = {} (the slope factor's loading decays with tenor, so the back month cannot be calmer than that)",
                    self.curve_slope_half_life_days
                ),
            ));
        }
        check_range("curve_curvature_sd", self.curve_curvature_sd, 0.0, 1.0)?;
        check_range("curve_curvature_half_life_days", self.curve_curvature_half_life_days, 1.0, 10_000.0)?;
        if !(1..=100).contains(&self.depth_levels) {
            return Err(invalid("depth_levels", self.depth_levels, "expected 1..=100".into()));
        }
        if self.depth_contracts > self.curve_months {
            return Err(invalid(
                "depth_contracts",
                self.depth_contracts,
                format!("expected 0..=curve_months ({})", self.curve_months),
            ));
        }
        check_open_low("front_ticks_per_sec", self.front_ticks_per_sec, 0.0, 10_000_000.0)?;
        check_open_low("tenor_tick_decay", self.tenor_tick_decay, 0.0, 1.0)?;
        check_range("trade_probability", self.trade_probability, 0.0, 1.0)?;
        if !(1..=86_400_000).contains(&self.curve_snapshot_interval_ms) {
            return Err(invalid(
                "curve_snapshot_interval_ms",
                self.curve_snapshot_interval_ms,
                "expected 1..=86400000".into(),
            ));
        }
        check_range("garch_alpha", self.garch_alpha, 0.0, 1.0)?;
        check_range("garch_beta", self.garch_beta, 0.0, 1.0)?;
        if self.garch_alpha + self.garch_beta >= 0.999 {
            return Err(invalid(
                "garch_beta",
                self.garch_beta,
                format!(
                    "garch_alpha + garch_beta must be below 0.999 for a finite unconditional variance (got {})",
                    self.garch_alpha + self.garch_beta
                ),
            ));
        }
        if !(self.student_t_dof.is_finite() && self.student_t_dof > 2.0 && self.student_t_dof <= 1_000.0) {
            return Err(invalid(
                "student_t_dof",
                self.student_t_dof,
                "expected more than 2 (finite variance) and at most 1000".into(),
            ));
        }
        check_open_low("price_floor_usd_bbl", self.price_floor_usd_bbl, 0.0, 1_000.0)?;
        check_range("eia_crude_impact_pct_per_mbbl", self.eia_crude_impact_pct_per_mbbl, 0.0, 10.0)?;
        check_range("eia_product_impact_usd_bbl_per_mbbl", self.eia_product_impact_usd_bbl_per_mbbl, 0.0, 10.0)?;
        check_open_low("crude_stocks_mean_kbbl", self.crude_stocks_mean_kbbl, 0.0, 10_000_000.0)?;
        check_tick("tick_size_crude_usd_bbl", self.tick_size_crude_usd_bbl)?;
        check_tick("tick_size_products_usd_gal", self.tick_size_products_usd_gal)?;
        Ok(())
    }
}

/// A tick size must be positive and divide one unit a whole number of times (0.01, 0.0001,
/// 0.25, 0.005), so that grid prices can be formed exactly from integer tick counts.
fn check_tick(field: &'static str, tick: f64) -> Result<(), SimError> {
    let expected = || {
        "expected a positive tick size that divides 1 a whole number of times, at most 1 (e.g. 0.01 or 0.0001)"
            .to_string()
    };
    if !(tick.is_finite() && tick > 0.0 && tick <= 1.0) {
        return Err(invalid(field, tick, expected()));
    }
    let per_unit = 1.0 / tick;
    if (per_unit - per_unit.round()).abs() > 1e-6 * per_unit || per_unit > 1e9 {
        return Err(invalid(field, tick, expected()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        SimConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let cfg = SimConfig { wti_vol_annual: -0.1, ..SimConfig::default() };
        let msg = cfg.validate().unwrap_err().to_string();
        assert!(msg.contains("wti_vol_annual") && msg.contains("-0.1"), "{msg}");

        let cfg = SimConfig { garch_alpha: 0.2, garch_beta: 0.85, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().contains("garch_alpha + garch_beta"));

        let cfg = SimConfig { student_t_dof: 2.0, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().contains("student_t_dof"));

        let cfg = SimConfig { tick_size_crude_usd_bbl: 0.03, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().contains("tick_size_crude_usd_bbl"));

        let cfg = SimConfig { back_month_vol_ratio: 0.05, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().contains("back_month_vol_ratio"));

        let cfg = SimConfig { rb_crack_seasonal_usd_bbl: 25.0, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().contains("rb_crack_seasonal_usd_bbl"));

        let cfg = SimConfig { depth_contracts: 13, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().contains("depth_contracts"));

        let cfg = SimConfig { wti_start_price: f64::NAN, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().contains("wti_start_price"));
    }

    #[test]
    fn negative_start_price_is_accepted() {
        let cfg = SimConfig { wti_start_price: -5.0, ..SimConfig::default() };
        cfg.validate().unwrap();
    }

    #[test]
    fn serde_defaults_and_unknown_fields() {
        let cfg: SimConfig = serde_json::from_str(r#"{"seed": 11, "curve_months": 18}"#).unwrap();
        assert_eq!(cfg.seed, 11);
        assert_eq!(cfg.curve_months, 18);
        assert_eq!(cfg.depth_levels, SimConfig::default().depth_levels);
        let err = serde_json::from_str::<SimConfig>(r#"{"sede": 11}"#).unwrap_err().to_string();
        assert!(err.contains("sede"), "{err}");
    }
}
