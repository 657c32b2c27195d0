//! Realised volatility, EWMA (RiskMetrics) variance and rolling correlation.
//!
//! Conventions:
//! - Annualised volatilities multiply a daily variance by [`TRADING_DAYS_PER_YEAR`] (252)
//!   before the square root, the same convention Crude's performance statistics use.
//! - Close-to-close volatility is the sample standard deviation (`ddof = 1`) of the log
//!   returns.
//! - Parkinson: `σ² = Σ ln(H/L)² / (4 ln 2 · n)`; Garman–Klass:
//!   `σ² = (1/n) Σ [½ ln(H/L)² − (2 ln 2 − 1) ln(C/O)²]`. Both use each bar on its own (no
//!   overnight term) and need strictly positive prices.
//! - EWMA variance follows the RiskMetrics recursion
//!   `σ²_t = λ σ²_{t−1} + (1 − λ) r²_{t−1}` on returns taken as zero-mean, seeded as the
//!   `arch` package seeds it (see [`ewma_seed`]), so the series matches `arch`'s
//!   `EWMAVariance` exactly.

use crude_model::Bar;

use crate::AnalyticsError;
use crate::returns::{check_finite, log_returns, std_dev};

/// Trading days per year used to annualise daily variances.
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;

/// The RiskMetrics decay factor for daily data.
pub const RISKMETRICS_LAMBDA: f64 = 0.94;

/// Number of leading observations averaged by [`ewma_seed`].
pub const EWMA_SEED_OBSERVATIONS: usize = 75;

/// Annualised close-to-close volatility of a price series: `sqrt(252) ×` the sample
/// standard deviation (`ddof = 1`) of its log returns.
///
/// # Errors
/// Those of [`crate::log_returns`] (non-positive or non-finite prices), and
/// [`AnalyticsError::TooFewObservations`] with fewer than 3 prices.
pub fn close_to_close_vol(prices: &[f64]) -> Result<f64, AnalyticsError> {
    let r = log_returns(prices)?;
    close_to_close_vol_from_returns(&r)
}

/// Annualised volatility of daily returns: `sqrt(252) ×` their sample standard deviation
/// (`ddof = 1`).
///
/// # Errors
/// [`AnalyticsError::TooFewObservations`] with fewer than 2 returns;
/// [`AnalyticsError::NonFinite`] for a NaN or infinite return.
pub fn close_to_close_vol_from_returns(returns: &[f64]) -> Result<f64, AnalyticsError> {
    check_finite("close-to-close volatility", returns)?;
    if returns.len() < 2 {
        return Err(AnalyticsError::TooFewObservations {
            what: "close-to-close volatility",
            needed: 2,
            got: returns.len(),
        });
    }
    Ok(std_dev(returns, 1)? * TRADING_DAYS_PER_YEAR.sqrt())
}

fn check_bars(what: &'static str, bars: &[Bar], need_open_close: bool) -> Result<(), AnalyticsError> {
    if bars.is_empty() {
        return Err(AnalyticsError::TooFewObservations { what, needed: 1, got: 0 });
    }
    for (index, b) in bars.iter().enumerate() {
        let fields: &[(&str, f64)] = if need_open_close {
            &[("open", b.open), ("high", b.high), ("low", b.low), ("close", b.close)]
        } else {
            &[("high", b.high), ("low", b.low)]
        };
        for &(name, v) in fields {
            if !v.is_finite() {
                return Err(AnalyticsError::InvalidBar { what, index, reason: format!("{name} is not finite ({v})") });
            }
            if v <= 0.0 {
                return Err(AnalyticsError::InvalidBar {
                    what,
                    index,
                    reason: format!(
                        "{name} is {v}: range-based volatility needs strictly positive prices \
                         (it takes logarithms); use close-to-close volatility of price changes instead"
                    ),
                });
            }
        }
        if b.high < b.low {
            return Err(AnalyticsError::InvalidBar {
                what,
                index,
                reason: format!("high {} is below low {}; fix or drop the bar", b.high, b.low),
            });
        }
    }
    Ok(())
}

/// Annualised Parkinson (high–low range) volatility of daily bars:
/// `sqrt(252 · Σ ln(H/L)² / (4 ln 2 · n))`.
///
/// # Errors
/// [`AnalyticsError::TooFewObservations`] for no bars; [`AnalyticsError::InvalidBar`] for a
/// non-finite or non-positive high/low, or a high below the low.
pub fn parkinson_vol(bars: &[Bar]) -> Result<f64, AnalyticsError> {
    check_bars("Parkinson volatility", bars, false)?;
    let sum: f64 = bars.iter().map(|b| (b.high / b.low).ln().powi(2)).sum();
    let daily_var = sum / (4.0 * std::f64::consts::LN_2 * bars.len() as f64);
    Ok((TRADING_DAYS_PER_YEAR * daily_var).sqrt())
}

/// Annualised Garman–Klass volatility of daily bars:
/// `sqrt(252 · (1/n) Σ [½ ln(H/L)² − (2 ln 2 − 1) ln(C/O)²])`.
///
/// # Errors
/// [`AnalyticsError::TooFewObservations`] for no bars; [`AnalyticsError::InvalidBar`] for a
/// non-finite or non-positive price or a high below the low;
/// [`AnalyticsError::Degenerate`] when the estimate is negative (bars whose open-to-close
/// moves exceed their ranges, i.e. inconsistent bars).
pub fn garman_klass_vol(bars: &[Bar]) -> Result<f64, AnalyticsError> {
    const WHAT: &str = "Garman-Klass volatility";
    check_bars(WHAT, bars, true)?;
    let k = 2.0 * std::f64::consts::LN_2 - 1.0;
    let sum: f64 = bars.iter().map(|b| 0.5 * (b.high / b.low).ln().powi(2) - k * (b.close / b.open).ln().powi(2)).sum();
    let daily_var = sum / bars.len() as f64;
    if daily_var < 0.0 {
        return Err(AnalyticsError::Degenerate {
            what: WHAT,
            reason: format!(
                "the variance estimate is negative ({daily_var:e}): the bars' open-to-close moves \
                 exceed their high-low ranges; check that open and close lie within [low, high]"
            ),
        });
    }
    Ok((TRADING_DAYS_PER_YEAR * daily_var).sqrt())
}

/// The seed of the EWMA and GARCH variance recursions (the `arch` package's "backcast"):
/// the weighted mean of the first `min(75, n)` squared values with weights `0.94^i`
/// normalised to sum to one. The weights use 0.94 whatever the decay of the recursion, as
/// `arch` does. Returns 0 for an empty slice.
pub fn ewma_seed(values: &[f64]) -> f64 {
    let tau = values.len().min(EWMA_SEED_OBSERVATIONS);
    let mut weights = Vec::with_capacity(tau);
    let mut w = 1.0;
    for _ in 0..tau {
        weights.push(w);
        w *= RISKMETRICS_LAMBDA;
    }
    let total: f64 = weights.iter().sum();
    values[..tau].iter().zip(&weights).map(|(v, w)| v * v * (w / total)).sum()
}

/// The EWMA conditional variances of a return series.
#[derive(Debug, Clone, PartialEq)]
pub struct EwmaVariance {
    /// The decay factor λ used.
    pub lambda: f64,
    /// The seed `σ²_0` (see [`ewma_seed`]).
    pub seed: f64,
    /// `variance[t]` is the variance of return `t` given returns `0..t` (so `variance[0]`
    /// equals the seed); same units as the squared returns.
    pub variance: Vec<f64>,
    /// The variance forecast for the next, not yet observed, return.
    pub next_variance: f64,
}

/// EWMA (RiskMetrics) variance: `σ²_0 = seed`, `σ²_t = λ σ²_{t−1} + (1 − λ) r²_{t−1}`,
/// with returns taken as zero-mean and the seed from [`ewma_seed`]. Use
/// [`RISKMETRICS_LAMBDA`] (0.94) for daily data. The result equals `arch`'s
/// `ZeroMean(returns, volatility=EWMAVariance(lam))` conditional variances.
///
/// # Errors
/// [`AnalyticsError::InvalidParameter`] unless `0 < lambda < 1`;
/// [`AnalyticsError::TooFewObservations`] for no returns;
/// [`AnalyticsError::NonFinite`] for a NaN or infinite return.
pub fn ewma_variance(returns: &[f64], lambda: f64) -> Result<EwmaVariance, AnalyticsError> {
    if !(lambda > 0.0 && lambda < 1.0) {
        return Err(AnalyticsError::InvalidParameter {
            name: "lambda",
            value: lambda,
            reason: "the EWMA decay must lie strictly between 0 and 1 (RiskMetrics daily: 0.94)",
        });
    }
    if returns.is_empty() {
        return Err(AnalyticsError::TooFewObservations { what: "EWMA variance", needed: 1, got: 0 });
    }
    check_finite("EWMA variance", returns)?;
    let seed = ewma_seed(returns);
    let one_minus = 1.0 - lambda;
    let mut variance = Vec::with_capacity(returns.len());
    let mut prev = one_minus * seed + lambda * seed;
    variance.push(prev);
    for r in &returns[..returns.len() - 1] {
        prev = one_minus * (r * r) + lambda * prev;
        variance.push(prev);
    }
    let last = returns[returns.len() - 1];
    let next_variance = one_minus * (last * last) + lambda * prev;
    Ok(EwmaVariance { lambda, seed, variance, next_variance })
}

/// Pearson correlation of two equally long slices; `None` when either has zero variance.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (da, db) = (a - mx, b - my);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Rolling Pearson correlation of two aligned series (usually returns) over `window`
/// observations. Element `i` of the result is the correlation over `x[i..i + window]` and
/// `y[i..i + window]` (the window ending at index `i + window − 1`), so the result has
/// `n − window + 1` elements; it is `None` where either series is constant over the window.
///
/// # Errors
/// [`AnalyticsError::InvalidParameter`] for a window below 2;
/// [`AnalyticsError::LengthMismatch`] when the series differ in length;
/// [`AnalyticsError::TooFewObservations`] when the series are shorter than the window;
/// [`AnalyticsError::NonFinite`] for a NaN or infinite value.
pub fn rolling_correlation(x: &[f64], y: &[f64], window: usize) -> Result<Vec<Option<f64>>, AnalyticsError> {
    const WHAT: &str = "rolling correlation";
    if window < 2 {
        return Err(AnalyticsError::InvalidParameter {
            name: "window",
            value: window as f64,
            reason: "a correlation needs a window of at least 2 observations",
        });
    }
    if x.len() != y.len() {
        return Err(AnalyticsError::LengthMismatch { what: WHAT, left: x.len(), right: y.len() });
    }
    if x.len() < window {
        return Err(AnalyticsError::TooFewObservations { what: WHAT, needed: window, got: x.len() });
    }
    check_finite(WHAT, x)?;
    check_finite(WHAT, y)?;
    Ok(x.windows(window).zip(y.windows(window)).map(|(a, b)| pearson(a, b)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::Timestamp;

    fn bar(open: f64, high: f64, low: f64, close: f64) -> Bar {
        Bar { start: Timestamp(0), open, high, low, close, volume: 0 }
    }

    #[test]
    fn close_to_close_of_alternating_moves() {
        // log returns +a, -a, +a, -a: sample sd = a * sqrt(4/3)
        let a: f64 = 0.01;
        let p = [100.0, 100.0 * a.exp(), 100.0, 100.0 * a.exp(), 100.0];
        let v = close_to_close_vol(&p).unwrap();
        let expected = a * (4.0f64 / 3.0).sqrt() * 252f64.sqrt();
        assert!((v - expected).abs() < 1e-14, "{v} vs {expected}");
        assert!(close_to_close_vol(&[1.0, 2.0]).is_err());
    }

    #[test]
    fn parkinson_and_garman_klass_by_hand() {
        let bars = [bar(100.0, 102.0, 99.0, 101.0), bar(101.0, 101.5, 98.0, 98.5)];
        let hl: Vec<f64> = bars.iter().map(|b| (b.high / b.low).ln()).collect();
        let co: Vec<f64> = bars.iter().map(|b| (b.close / b.open).ln()).collect();
        let park = (252.0 * (hl[0].powi(2) + hl[1].powi(2)) / (4.0 * 2f64.ln() * 2.0)).sqrt();
        assert!((parkinson_vol(&bars).unwrap() - park).abs() < 1e-15);
        let k = 2.0 * 2f64.ln() - 1.0;
        let gk = (252.0 * ((0.5 * hl[0].powi(2) - k * co[0].powi(2)) + (0.5 * hl[1].powi(2) - k * co[1].powi(2)))
            / 2.0)
            .sqrt();
        assert!((garman_klass_vol(&bars).unwrap() - gk).abs() < 1e-15);
    }

    #[test]
    fn bad_bars_are_named() {
        let err = parkinson_vol(&[bar(1.0, 2.0, 1.0, 1.5), bar(1.0, 1.0, 2.0, 1.5)]).unwrap_err();
        assert!(matches!(err, AnalyticsError::InvalidBar { index: 1, .. }), "{err}");
        let err = garman_klass_vol(&[bar(-1.0, 2.0, 1.0, 1.5)]).unwrap_err();
        assert!(err.to_string().contains("open is -1"), "{err}");
        assert!(parkinson_vol(&[]).is_err());
        // an open-to-close move far outside the range gives a negative estimate
        let err = garman_klass_vol(&[bar(1.0, 1.0001, 1.0, 3.0)]).unwrap_err();
        assert!(matches!(err, AnalyticsError::Degenerate { .. }), "{err}");
    }

    #[test]
    fn ewma_seed_and_recursion() {
        let r = [0.5, -1.0, 2.0];
        let w = [1.0, 0.94, 0.94 * 0.94];
        let s: f64 = w.iter().sum();
        let seed = (0.25 * w[0] + 1.0 * w[1] + 4.0 * w[2]) / s;
        let e = ewma_variance(&r, 0.9).unwrap();
        assert!((e.seed - seed).abs() < 1e-15);
        assert!((e.variance[0] - seed).abs() < 1e-15);
        assert!((e.variance[1] - (0.9 * seed + 0.1 * 0.25)).abs() < 1e-15);
        assert!((e.variance[2] - (0.9 * e.variance[1] + 0.1 * 1.0)).abs() < 1e-15);
        assert!((e.next_variance - (0.9 * e.variance[2] + 0.1 * 4.0)).abs() < 1e-15);
        assert!(ewma_variance(&r, 1.0).is_err());
        assert!(ewma_variance(&r, 0.0).is_err());
        assert!(ewma_variance(&[], 0.94).is_err());
        assert!(ewma_variance(&[f64::INFINITY], 0.94).is_err());
    }

    #[test]
    fn rolling_correlation_edges() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [2.0, 4.0, 6.0, 8.0];
        let c = rolling_correlation(&x, &y, 3).unwrap();
        assert_eq!(c.len(), 2);
        assert!((c[0].unwrap() - 1.0).abs() < 1e-15);
        let neg: Vec<f64> = y.iter().map(|v| -v).collect();
        assert!((rolling_correlation(&x, &neg, 4).unwrap()[0].unwrap() + 1.0).abs() < 1e-15);
        assert_eq!(rolling_correlation(&x, &[1.0, 1.0, 1.0, 2.0], 3).unwrap()[0], None);
        assert!(matches!(rolling_correlation(&x, &y[..3], 2), Err(AnalyticsError::LengthMismatch { .. })));
        assert!(matches!(rolling_correlation(&x, &y, 1), Err(AnalyticsError::InvalidParameter { .. })));
        assert!(matches!(rolling_correlation(&x, &y, 5), Err(AnalyticsError::TooFewObservations { .. })));
    }
}
