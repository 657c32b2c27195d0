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

use serde::Serialize;

use crate::RiskCliError;
use crate::normal::erfc;

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
/// [`RiskCliError::BadArgument`] when the slices differ in length or hold non-finite
/// values.
pub fn count_exceptions(pnl_usd: &[f64], var_usd: &[f64]) -> Result<usize, RiskCliError> {
    if pnl_usd.len() != var_usd.len() {
        return Err(RiskCliError::BadArgument {
            argument: "var_usd",
            value: var_usd.len().to_string(),
            reason: format!("needs one VaR per P&L day ({} days of P&L)", pnl_usd.len()),
        });
    }
    if let Some(i) = pnl_usd.iter().chain(var_usd).position(|v| !v.is_finite()) {
        return Err(RiskCliError::BadArgument {
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
pub fn basel_traffic_light(
    exceptions: usize,
    observations: usize,
    confidence: f64,
) -> Result<TrafficLight, RiskCliError> {
    Ok(kupiec_pof(exceptions, observations, confidence)?.traffic_light)
}

/// Kupiec's proportion-of-failures test and the Basel traffic light.
///
/// # Errors
/// [`RiskCliError::BadArgument`] for no observations, more exceptions than observations,
/// or a confidence outside (0, 1).
pub fn kupiec_pof(exceptions: usize, observations: usize, confidence: f64) -> Result<KupiecResult, RiskCliError> {
    if observations == 0 {
        return Err(RiskCliError::BadArgument {
            argument: "observations",
            value: "0".to_string(),
            reason: "a backtest needs at least one day".to_string(),
        });
    }
    if exceptions > observations {
        return Err(RiskCliError::BadArgument {
            argument: "exceptions",
            value: exceptions.to_string(),
            reason: format!("cannot exceed the {observations} days tested"),
        });
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(RiskCliError::BadArgument {
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

#[cfg(test)]
mod tests {
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
}
