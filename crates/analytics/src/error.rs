//! The error type of the volatility, returns and GARCH analytics.
//!
//! Every message names the input at fault (which series, which index, which parameter) and
//! says what would be accepted, so a caller can pass it straight to the user.

/// Errors from the returns, realised-volatility and GARCH functions.
///
/// Indices are 0-based positions in the slice the caller passed; callers reading files
/// translate them into line numbers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyticsError {
    /// The series is shorter than the computation needs.
    #[error("{what}: needs at least {needed} observations, got {got}; supply a longer series")]
    TooFewObservations {
        /// The computation that was asked for.
        what: &'static str,
        /// The minimum number of observations it needs.
        needed: usize,
        /// The number supplied.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what}: value at index {index} is not finite ({value}); remove or fill missing values first")]
    NonFinite {
        /// The series in which the value sits.
        what: &'static str,
        /// 0-based index of the value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A price is zero or negative where a logarithm of it is needed.
    #[error(
        "{what}: the series has a non-positive price {value} at index {index}, so log returns are \
         undefined there (they need strictly positive prices; futures prices can go negative, as WTI \
         did on 2020-04-20); start the sample after index {index} or use price differences instead"
    )]
    NonPositivePrice {
        /// The computation that needed the logarithm.
        what: &'static str,
        /// 0-based index of the price.
        index: usize,
        /// The offending price.
        value: f64,
    },
    /// Two series that must be aligned have different lengths.
    #[error("{what}: series lengths differ ({left} vs {right}); align the two series on the same dates first")]
    LengthMismatch {
        /// The computation that was asked for.
        what: &'static str,
        /// Length of the first series.
        left: usize,
        /// Length of the second series.
        right: usize,
    },
    /// A parameter is outside its valid range.
    #[error("{name} = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Parameter name as in the function signature.
        name: &'static str,
        /// The value supplied.
        value: f64,
        /// What would be accepted.
        reason: &'static str,
    },
    /// An OHLC bar is inconsistent or unusable.
    #[error("{what}: bar at index {index}: {reason}")]
    InvalidBar {
        /// The estimator that rejected the bar.
        what: &'static str,
        /// 0-based index of the bar.
        index: usize,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// The data cannot identify the model (for example every return is identical).
    #[error("{what}: {reason}")]
    Degenerate {
        /// The computation that was asked for.
        what: &'static str,
        /// Why the data cannot be used.
        reason: String,
    },
    /// The optimiser did not reach a maximum of the likelihood.
    #[error(
        "{what}: the likelihood maximisation did not converge ({reason}); check the data for outliers or scale the returns (for example 100 x log returns)"
    )]
    NoConvergence {
        /// The model being fitted.
        what: &'static str,
        /// What the optimiser reported.
        reason: String,
    },
}
