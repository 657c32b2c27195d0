//! VaR backtesting: exception counting, Kupiec's proportion-of-failures test and the Basel
//! traffic light.
//!
//! - An exception is a day whose loss exceeds that day's VaR: `−pnl > var`.
//! - Kupiec POF: with `x` exceptions in `T` days at confidence `c` (`p = 1 − c`),
//!   `LR = −2 ln[(1 − p)^{T−x} p^x] + 2 ln[(1 − x/T)^{T−x} (x/T)^x]`, asymptotically χ²(1);
//!   p-value `= P(χ²₁ > LR) = erfc(√(LR/2))`.
//! - Basel traffic light from the cumulative binomial probability `P(X ≤ x)` with
//!   `X ~ Bin(T, p)`: green below 95 %, yellow below 99.99 %, red above (for 250 days at
//!   99 %: 0–4 green, 5–9 yellow, 10+ red).
//! - [`parametric_var_backtest`]: the Risk panel's out-of-sample backtest of the 1-day 99 %
//!   parametric VaR of today's exposures over the last [`BACKTEST_DAYS`] days of the joint
//!   history (method in [`VarBacktest`]).

use serde::Serialize;

use crate::RiskError;
use crate::normal::{erfc, norm_ppf};
use crate::portfolio::ReturnHistory;

/// Days a VaR backtest covers when the history is long enough (Basel: 250 trading days).
pub const BACKTEST_DAYS: usize = 250;
/// Fewest out-of-sample days for which [`parametric_var_backtest`] reports a backtest.
pub const MIN_BACKTEST_DAYS: usize = 100;
/// Confidence of the backtested VaR (Basel: 99 %, 1 day).
pub const BACKTEST_CONFIDENCE: f64 = 0.99;

/// The Basel zone of a backtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrafficLight {
    /// Consistent with an accurate model.
    Green,
    /// Possible model problem.
    Yellow,
    /// Model very likely inaccurate.
    Red,
}

/// The result of Kupiec's proportion-of-failures test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KupiecResult {
    /// Days whose loss exceeded VaR.
    pub exceptions: usize,
    /// Days tested.
    pub observations: usize,
    /// VaR confidence level.
    pub confidence: f64,
    /// `T (1 − c)`.
    pub expected_exceptions: f64,
    /// Likelihood-ratio statistic.
    pub lr_statistic: f64,
    /// `P(χ²₁ > LR)`: small values reject the model's coverage.
    pub p_value: f64,
    /// `P(X ≤ exceptions)` for `X ~ Bin(T, 1 − c)`.
    pub binomial_cdf: f64,
    /// Basel zone.
    pub traffic_light: TrafficLight,
}

/// Count the days whose loss exceeds VaR (`−pnl_usd[t] > var_usd[t]`).
///
/// # Errors
/// [`RiskError::BadArgument`] when the slices differ in length or hold non-finite
/// values.
pub fn count_exceptions(pnl_usd: &[f64], var_usd: &[f64]) -> Result<usize, RiskError> {
    if pnl_usd.len() != var_usd.len() {
        return Err(RiskError::BadArgument {
            argument: "var_usd",
            value: var_usd.len().to_string(),
            reason: format!("needs one VaR per P&L day ({} days of P&L)", pnl_usd.len()),
        });
    }
    if let Some(i) = pnl_usd.iter().chain(var_usd).position(|v| !v.is_finite()) {
        return Err(RiskError::BadArgument {
            argument: if i < pnl_usd.len() { "pnl_usd" } else { "var_usd" },
            value: format!("index {}", i % pnl_usd.len().max(1)),
            reason: "values must be finite".to_string(),
        });
    }
    Ok(pnl_usd.iter().zip(var_usd).filter(|(p, v)| -**p > **v).count())
}

/// `ln P(X ≤ x)` for `X ~ Bin(t, p)`, summed in log space.
fn binomial_cdf(x: usize, t: usize, p: f64) -> f64 {
    if x >= t {
        return 1.0;
    }
    let log_ratio = p.ln() - (-p).ln_1p();
    let mut log_term = t as f64 * (-p).ln_1p();
    let mut terms = Vec::with_capacity(x + 1);
    terms.push(log_term);
    for k in 1..=x {
        log_term += ((t - k + 1) as f64 / k as f64).ln() + log_ratio;
        terms.push(log_term);
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = terms.iter().map(|l| (l - max).exp()).sum();
    (max + sum.ln()).exp().min(1.0)
}

/// The Basel zone for `exceptions` in `observations` days at `confidence`.
///
/// # Errors
/// As [`kupiec_pof`].
pub fn basel_traffic_light(exceptions: usize, observations: usize, confidence: f64) -> Result<TrafficLight, RiskError> {
    Ok(kupiec_pof(exceptions, observations, confidence)?.traffic_light)
}

/// Kupiec's proportion-of-failures test and the Basel traffic light.
///
/// # Errors
/// [`RiskError::BadArgument`] for no observations, more exceptions than observations,
/// or a confidence outside (0, 1).
pub fn kupiec_pof(exceptions: usize, observations: usize, confidence: f64) -> Result<KupiecResult, RiskError> {
    if observations == 0 {
        return Err(RiskError::BadArgument {
            argument: "observations",
            value: "0".to_string(),
            reason: "a backtest needs at least one day".to_string(),
        });
    }
    if exceptions > observations {
        return Err(RiskError::BadArgument {
            argument: "exceptions",
            value: exceptions.to_string(),
            reason: format!("cannot exceed the {observations} days tested"),
        });
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(RiskError::BadArgument {
            argument: "confidence",
            value: format!("{confidence}"),
            reason: "must lie strictly between 0 and 1".to_string(),
        });
    }
    let p = 1.0 - confidence;
    let (x, t) = (exceptions as f64, observations as f64);
    let log_lik = |prob: f64| {
        let misses = if exceptions < observations { (t - x) * (-prob).ln_1p() } else { 0.0 };
        let hits = if exceptions > 0 { x * prob.ln() } else { 0.0 };
        misses + hits
    };
    let lr = (-2.0 * (log_lik(p) - log_lik(x / t))).max(0.0);
    let p_value = erfc((lr / 2.0).sqrt());
    let cdf = binomial_cdf(exceptions, observations, p);
    let traffic_light = if cdf < 0.95 {
        TrafficLight::Green
    } else if cdf < 0.9999 {
        TrafficLight::Yellow
    } else {
        TrafficLight::Red
    };
    Ok(KupiecResult {
        exceptions,
        observations,
        confidence,
        expected_exceptions: t * p,
        lr_statistic: lr,
        p_value,
        binomial_cdf: cdf,
        traffic_light,
    })
}

/// An out-of-sample backtest of the 1-day 99 % parametric VaR of today's positions.
///
/// Method: today's delta-equivalent exposures `v` (USD, as the parametric VaR uses) are
/// revalued over each of the last `days` days `t` of the joint history (hypothetical P&L,
/// full revaluation): `P&L_t = Σ_i v_i (e^{r_{t,i}} − 1)`. Each day's VaR is estimated from
/// the `window_days` days **before** `t` only (rolling, out of sample) with the parametric
/// VaR's conventions: zero mean, sample covariance (`ddof = 1`, means removed),
/// `VaR_t = z_{0.99} √(vᵀ Σ_t v)`. An exception is `P&L_t < −VaR_t`. `days` is
/// [`BACKTEST_DAYS`], or as many out-of-sample days as the history holds (at least
/// [`MIN_BACKTEST_DAYS`]). The Kupiec test and the Basel zone follow [`kupiec_pof`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VarBacktest {
    /// Days tested.
    pub days: usize,
    /// Confidence of the VaR tested ([`BACKTEST_CONFIDENCE`]).
    pub confidence: f64,
    /// Days whose hypothetical loss exceeded that day's VaR.
    pub exceptions: usize,
    /// `days × (1 − confidence)`.
    pub expected_exceptions: f64,
    /// Kupiec's proportion-of-failures test.
    pub kupiec: KupiecResult,
    /// Basel traffic-light zone.
    pub zone: TrafficLight,
    /// How the P&L and the VaR were computed, in one line for the panel.
    pub method: String,
}

/// Backtests the 1-day 99 % parametric VaR of `exposures_usd` (one per contract of
/// `history`, in its column order) over the last [`BACKTEST_DAYS`] days of `history`, each
/// day's VaR from the `window_days` days before it (method in [`VarBacktest`]).
///
/// `vᵀ Σ_t v` is the sample variance of the linear portfolio return `y_s = Σ_i v_i r_{s,i}`
/// over the window, so the rolling estimate keeps `Σ y` and `Σ y²` (about a shift, the
/// first window's mean, against cancellation), adding the newest day and removing the
/// oldest: O(n) per day for the projection, O(1) for the update.
///
/// Returns `None` when no exposure is non-zero or the history holds fewer than
/// `window_days + MIN_BACKTEST_DAYS` days.
///
/// # Errors
/// [`RiskError::BadArgument`] when `exposures_usd` does not hold one finite exposure per
/// contract or `window_days < 2`.
pub fn parametric_var_backtest(
    history: &ReturnHistory,
    window_days: usize,
    exposures_usd: &[f64],
) -> Result<Option<VarBacktest>, RiskError> {
    let n = history.contracts().len();
    if exposures_usd.len() != n {
        return Err(RiskError::BadArgument {
            argument: "exposures_usd",
            value: format!("{} exposures", exposures_usd.len()),
            reason: format!("give one exposure per contract of the history ({n} contracts)"),
        });
    }
    if let Some(i) = exposures_usd.iter().position(|v| !v.is_finite()) {
        return Err(RiskError::BadArgument {
            argument: "exposures_usd",
            value: format!("{} ({})", exposures_usd[i], history.contracts()[i]),
            reason: "exposures must be finite numbers of USD".to_string(),
        });
    }
    if window_days < 2 {
        return Err(RiskError::BadArgument {
            argument: "window_days",
            value: window_days.to_string(),
            reason: "use a window of at least 2 days (default 500)".to_string(),
        });
    }
    let held: Vec<(usize, f64)> = exposures_usd.iter().copied().enumerate().filter(|&(_, v)| v != 0.0).collect();
    let total = history.days();
    let days = BACKTEST_DAYS.min(total.saturating_sub(window_days));
    if held.is_empty() || days < MIN_BACKTEST_DAYS {
        return Ok(None);
    }
    let first = total - days;
    let mut projected = Vec::with_capacity(window_days + days);
    let mut pnl_usd = Vec::with_capacity(days);
    for t in first - window_days..total {
        let Some(r) = history.day(t) else {
            return Err(RiskError::Computation {
                what: "VaR backtest",
                reason: format!("day {t} is missing from a history of {total} days"),
            });
        };
        projected.push(held.iter().map(|&(i, v)| v * r[i]).sum::<f64>());
        if t >= first {
            pnl_usd.push(held.iter().map(|&(i, v)| v * r[i].exp_m1()).sum::<f64>());
        }
    }
    let w = window_days as f64;
    let shift = projected[..window_days].iter().sum::<f64>() / w;
    let (mut s1, mut s2) = (0.0, 0.0);
    for y in &projected[..window_days] {
        let d = y - shift;
        s1 += d;
        s2 += d * d;
    }
    let z = norm_ppf(BACKTEST_CONFIDENCE);
    let mut var_usd = Vec::with_capacity(days);
    for k in 0..days {
        // Window: projected[k..k + window_days]; tested day: projected[k + window_days].
        let variance = ((s2 - s1 * s1 / w) / (w - 1.0)).max(0.0);
        var_usd.push(z * variance.sqrt());
        let (new, old) = (projected[k + window_days] - shift, projected[k] - shift);
        s1 += new - old;
        s2 += new * new - old * old;
    }
    let exceptions = count_exceptions(&pnl_usd, &var_usd)?;
    let kupiec = kupiec_pof(exceptions, days, BACKTEST_CONFIDENCE)?;
    Ok(Some(VarBacktest {
        days,
        confidence: BACKTEST_CONFIDENCE,
        exceptions,
        expected_exceptions: kupiec.expected_exceptions,
        zone: kupiec.traffic_light,
        kupiec,
        method: format!(
            "today's delta-equivalent exposures revalued over the last {days} days; 1-day 99% parametric VaR \
             (zero mean, sample covariance) from the {window_days} days before each day"
        ),
    }))
}

#[cfg(test)]
mod tests {
    use crude_model::{ContractId, ContractMonth, Market};

    use super::*;

    #[test]
    fn basel_zones_for_250_days_at_99() {
        for x in 0..=4 {
            assert_eq!(basel_traffic_light(x, 250, 0.99).unwrap(), TrafficLight::Green, "{x}");
        }
        for x in 5..=9 {
            assert_eq!(basel_traffic_light(x, 250, 0.99).unwrap(), TrafficLight::Yellow, "{x}");
        }
        for x in [10, 11, 30] {
            assert_eq!(basel_traffic_light(x, 250, 0.99).unwrap(), TrafficLight::Red, "{x}");
        }
    }

    #[test]
    fn exceptions_and_bad_input() {
        assert_eq!(count_exceptions(&[-5.0, -1.0, 2.0, -3.0], &[4.0, 4.0, 4.0, 3.0]).unwrap(), 1);
        assert!(count_exceptions(&[1.0], &[]).is_err());
        assert!(count_exceptions(&[f64::NAN], &[1.0]).is_err());
        assert!(kupiec_pof(3, 2, 0.99).is_err());
        assert!(kupiec_pof(0, 0, 0.99).is_err());
        assert!(kupiec_pof(1, 10, 1.0).is_err());
        let k = kupiec_pof(3, 300, 0.99).unwrap();
        // exactly the expected count: LR is 0 up to rounding, so the p-value is 1 (to the
        // square root of that rounding)
        assert!(k.lr_statistic.abs() < 1e-12 && k.p_value > 0.9999, "{k:?}");
    }

    /// One contract: `calm_days` of ±1 % returns, then `wild_days` of ±`wild` returns, in a
    /// fixed irregular pattern.
    fn one_series(calm_days: usize, wild_days: usize, wild: f64) -> ReturnHistory {
        let c = ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap());
        let shape = |t: usize| ((t * 7919) % 101) as f64 / 50.0 - 1.0;
        let rows: Vec<Vec<f64>> =
            (0..calm_days + wild_days).map(|t| vec![if t < calm_days { 0.01 } else { wild } * shape(t)]).collect();
        ReturnHistory::new(vec![c], &rows).unwrap()
    }

    /// Each day's VaR from a from-scratch two-pass variance of the window before it.
    fn brute_force(h: &ReturnHistory, window: usize, v: f64, days: usize) -> usize {
        let z = norm_ppf(0.99);
        (h.days() - days..h.days())
            .filter(|&t| {
                let w: Vec<f64> = (t - window..t).map(|s| v * h.day(s).unwrap()[0]).collect();
                let mean = w.iter().sum::<f64>() / window as f64;
                let var = w.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / (window - 1) as f64;
                v * h.day(t).unwrap()[0].exp_m1() < -z * var.sqrt()
            })
            .count()
    }

    #[test]
    fn backtest_is_out_of_sample_and_matches_a_recomputation() {
        // A volatility jump after the window: yesterday's VaR misses many of the new days.
        let h = one_series(300, 250, 0.05);
        let b = parametric_var_backtest(&h, 300, &[-2.0e6]).unwrap().unwrap();
        assert_eq!(b.days, 250);
        assert_eq!(b.exceptions, brute_force(&h, 300, -2.0e6, 250));
        assert!(b.exceptions >= 10, "{b:?}");
        assert_eq!(b.zone, TrafficLight::Red);
        assert_eq!(b.kupiec, kupiec_pof(b.exceptions, 250, 0.99).unwrap());
        assert!((b.expected_exceptions - 2.5).abs() < 1e-12);
        // Calm throughout: the same count as the recomputation, and the long side too.
        let h = one_series(550, 0, 0.0);
        for v in [1.0e6, -3.0e5] {
            let b = parametric_var_backtest(&h, 300, &[v]).unwrap().unwrap();
            assert_eq!(b.exceptions, brute_force(&h, 300, v, 250), "{v}");
        }
    }

    #[test]
    fn each_day_is_judged_by_the_window_before_it_only() {
        // Calm ±1 % days (VaR ≈ 2.33 × 0.58 % ≈ 1.3 % of exposure, above any calm loss), a
        // −30 % crash on day 250, then −3 % on day 251. Out of sample, the crash is an
        // exception (its VaR is the calm one) and day 251 is not (its window holds the
        // crash): exactly one exception. A window that held day t itself would miss the
        // crash; one that ended a day early would flag day 251.
        let h = one_series(300, 0, 0.0);
        let rows: Vec<Vec<f64>> = (0..300)
            .map(|t| match t {
                250 => vec![-0.30],
                251 => vec![-0.03],
                _ => h.day(t).unwrap().to_vec(),
            })
            .collect();
        let h = ReturnHistory::new(h.contracts().to_vec(), &rows).unwrap();
        let b = parametric_var_backtest(&h, 5, &[1.0e6]).unwrap().unwrap();
        assert_eq!((b.days, b.exceptions), (250, 1));
        assert_eq!(brute_force(&h, 5, 1.0e6, 250), 1);
        assert_eq!(b.zone, TrafficLight::Green);
    }

    #[test]
    fn short_histories_test_what_there_is_or_nothing() {
        let h = one_series(400, 0, 0.0);
        assert_eq!(parametric_var_backtest(&h, 300, &[1.0e6]).unwrap().unwrap().days, 100);
        assert_eq!(parametric_var_backtest(&h, 250, &[1.0e6]).unwrap().unwrap().days, 150);
        assert!(parametric_var_backtest(&h, 301, &[1.0e6]).unwrap().is_none());
        assert!(parametric_var_backtest(&h, 300, &[0.0]).unwrap().is_none());
        assert!(parametric_var_backtest(&h, 300, &[]).is_err());
        assert!(parametric_var_backtest(&h, 300, &[f64::NAN]).unwrap_err().to_string().contains("exposures_usd"));
        assert!(parametric_var_backtest(&h, 1, &[1.0e6]).unwrap_err().to_string().contains("window_days"));
    }
}
