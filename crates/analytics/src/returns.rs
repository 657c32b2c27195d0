//! Returns and simple sample statistics.
//!
//! Log returns are `ln(P_t / P_{t-1})`. They need strictly positive prices: futures prices
//! can be zero or negative (WTI settled at -37.63 on 2020-04-20), and there every function
//! here returns [`AnalyticsError::NonPositivePrice`] naming the index, never a NaN.

use crate::AnalyticsError;

/// Check that every value is finite.
///
/// # Errors
/// [`AnalyticsError::NonFinite`] naming the first NaN or infinite value.
pub fn check_finite(what: &'static str, values: &[f64]) -> Result<(), AnalyticsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(AnalyticsError::NonFinite { what, index, value: values[index] }),
        None => Ok(()),
    }
}

/// Log returns `ln(P_t / P_{t-1})` of a price series: `prices.len() - 1` values, the
/// return at position `i` being the one ending at `prices[i + 1]`.
///
/// # Errors
/// - [`AnalyticsError::TooFewObservations`] with fewer than two prices;
/// - [`AnalyticsError::NonFinite`] for a NaN or infinite price;
/// - [`AnalyticsError::NonPositivePrice`] for a price `<= 0`, naming its index.
pub fn log_returns(prices: &[f64]) -> Result<Vec<f64>, AnalyticsError> {
    const WHAT: &str = "log returns";
    if prices.len() < 2 {
        return Err(AnalyticsError::TooFewObservations { what: WHAT, needed: 2, got: prices.len() });
    }
    check_finite(WHAT, prices)?;
    if let Some(index) = prices.iter().position(|&p| p <= 0.0) {
        return Err(AnalyticsError::NonPositivePrice { what: WHAT, index, value: prices[index] });
    }
    Ok(prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect())
}

/// Simple returns `P_t / P_{t-1} - 1`.
///
/// # Errors
/// - [`AnalyticsError::TooFewObservations`] with fewer than two prices;
/// - [`AnalyticsError::NonFinite`] for a NaN or infinite price;
/// - [`AnalyticsError::NonPositivePrice`] for a price `<= 0` used as a denominator (a
///   percentage change from a zero or negative price has no meaning).
pub fn simple_returns(prices: &[f64]) -> Result<Vec<f64>, AnalyticsError> {
    const WHAT: &str = "simple returns";
    if prices.len() < 2 {
        return Err(AnalyticsError::TooFewObservations { what: WHAT, needed: 2, got: prices.len() });
    }
    check_finite(WHAT, prices)?;
    if let Some(index) = prices[..prices.len() - 1].iter().position(|&p| p <= 0.0) {
        return Err(AnalyticsError::NonPositivePrice { what: WHAT, index, value: prices[index] });
    }
    Ok(prices.windows(2).map(|w| w[1] / w[0] - 1.0).collect())
}

/// Arithmetic mean.
///
/// # Errors
/// [`AnalyticsError::TooFewObservations`] for an empty slice.
pub fn mean(values: &[f64]) -> Result<f64, AnalyticsError> {
    if values.is_empty() {
        return Err(AnalyticsError::TooFewObservations { what: "mean", needed: 1, got: 0 });
    }
    Ok(values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample variance with `ddof` degrees of freedom removed (`ddof = 1`: the unbiased sample
/// variance; `ddof = 0`: the population variance), computed in two passes as numpy does.
///
/// # Errors
/// [`AnalyticsError::TooFewObservations`] when `values.len() <= ddof`.
pub fn variance(values: &[f64], ddof: usize) -> Result<f64, AnalyticsError> {
    if values.len() <= ddof {
        return Err(AnalyticsError::TooFewObservations { what: "variance", needed: ddof + 1, got: values.len() });
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Ok(ss / (values.len() - ddof) as f64)
}

/// Sample standard deviation with `ddof` degrees of freedom removed (see [`variance`]).
///
/// # Errors
/// [`AnalyticsError::TooFewObservations`] when `values.len() <= ddof`.
pub fn std_dev(values: &[f64], ddof: usize) -> Result<f64, AnalyticsError> {
    variance(values, ddof).map(f64::sqrt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_returns_of_a_short_series() {
        let r = log_returns(&[100.0, 110.0, 99.0]).unwrap();
        assert_eq!(r.len(), 2);
        assert!((r[0] - (1.1f64).ln()).abs() < 1e-15);
        assert!((r[1] - (0.9f64).ln()).abs() < 1e-15);
    }

    #[test]
    fn negative_price_is_named() {
        let err = log_returns(&[18.27, 10.01, -37.63, 10.01]).unwrap_err();
        assert_eq!(err, AnalyticsError::NonPositivePrice { what: "log returns", index: 2, value: -37.63 });
        let msg = err.to_string();
        assert!(msg.contains("non-positive price -37.63 at index 2"), "{msg}");
        assert!(msg.contains("log returns are undefined"), "{msg}");
        assert!(matches!(log_returns(&[1.0, 0.0]), Err(AnalyticsError::NonPositivePrice { index: 1, .. })));
    }

    #[test]
    fn short_and_non_finite_input_is_rejected() {
        assert!(matches!(log_returns(&[1.0]), Err(AnalyticsError::TooFewObservations { needed: 2, got: 1, .. })));
        assert!(matches!(log_returns(&[1.0, f64::NAN, 2.0]), Err(AnalyticsError::NonFinite { index: 1, .. })));
        assert!(matches!(mean(&[]), Err(AnalyticsError::TooFewObservations { .. })));
        assert!(matches!(variance(&[1.0], 1), Err(AnalyticsError::TooFewObservations { .. })));
    }

    #[test]
    fn simple_returns_allow_a_negative_last_price_but_not_a_negative_base() {
        let r = simple_returns(&[10.0, -5.0]).unwrap();
        assert!((r[0] + 1.5).abs() < 1e-15);
        assert!(matches!(simple_returns(&[10.0, -5.0, 3.0]), Err(AnalyticsError::NonPositivePrice { index: 1, .. })));
    }

    #[test]
    fn variance_matches_hand_computation() {
        let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert!((variance(&x, 0).unwrap() - 4.0).abs() < 1e-15);
        assert!((variance(&x, 1).unwrap() - 32.0 / 7.0).abs() < 1e-15);
        assert!((std_dev(&x, 0).unwrap() - 2.0).abs() < 1e-15);
    }
}
