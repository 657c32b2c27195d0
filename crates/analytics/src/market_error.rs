//! The error type of the oil-market analytics: term structure, crack and location spreads,
//! seasonal profiles and inventory analytics.
//!
//! Every message names the input at fault (which curve point, which series, which index,
//! which parameter) and says what would be accepted, so a caller can show it to the user.
//! File errors of the EIA weekly CSV reader have their own type,
//! [`crate::InventoryCsvError`], which names the line and column.

use chrono::NaiveDate;

/// Errors from the term-structure, spread, seasonal and inventory functions.
///
/// Indices are 0-based positions in what the caller passed; curve tenors are 1-based
/// (`M1` is the front month), as traders write them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MarketAnalyticsError {
    /// A curve tenor the curve does not have.
    #[error("{what}: the curve has {points} point(s) but M{tenor} was asked for; use a tenor from 1 to {points}")]
    TenorOutOfRange {
        /// The metric that was asked for.
        what: &'static str,
        /// The 1-based tenor asked for.
        tenor: usize,
        /// How many points the curve has.
        points: usize,
    },
    /// A tenor pair that is not near-before-far, or a tenor of 0.
    #[error("{what}: tenors M{near} and M{far} are invalid; use 1-based tenors with near < far")]
    BadTenorPair {
        /// The metric that was asked for.
        what: &'static str,
        /// The near tenor.
        near: usize,
        /// The far tenor.
        far: usize,
    },
    /// A price (or any input value) that is NaN or infinite.
    #[error("{what}: value at index {index} is not finite ({value}); remove or fill missing values first")]
    NonFinite {
        /// The series or curve the value belongs to.
        what: &'static str,
        /// 0-based index of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A price that is zero or negative where a logarithm of it is needed.
    #[error(
        "{what}: price {value} at curve point M{tenor} is not positive; the log roll yield needs \
         strictly positive prices (futures can trade below zero, as WTI did on 2020-04-20); use the \
         calendar spread in price units instead"
    )]
    NonPositivePrice {
        /// The metric that needed the logarithm.
        what: &'static str,
        /// The 1-based tenor of the price.
        tenor: usize,
        /// The price.
        value: f64,
    },
    /// Two curve points whose contract months are not in strictly increasing order.
    #[error(
        "{what}: curve point M{tenor} ({month}) does not come after the point before it; curve points must be \
         in delivery order, front month first"
    )]
    UnorderedCurve {
        /// The metric that was asked for.
        what: &'static str,
        /// 1-based tenor of the out-of-order point.
        tenor: usize,
        /// Its contract month, `YYYY-MM`.
        month: String,
    },
    /// Two series that must be aligned have different lengths.
    #[error(
        "{what}: `{left_name}` has {left} values but `{right_name}` has {right}; align the series on the same dates"
    )]
    LengthMismatch {
        /// The computation that was asked for.
        what: &'static str,
        /// Name of the first series.
        left_name: &'static str,
        /// Its length.
        left: usize,
        /// Name of the second series.
        right_name: &'static str,
        /// Its length.
        right: usize,
    },
    /// A parameter outside its valid range.
    #[error("{what}: {name} = {value} is invalid; {requirement}")]
    InvalidParameter {
        /// The computation the parameter belongs to.
        what: &'static str,
        /// Parameter name as in the function or config.
        name: &'static str,
        /// The value given (as text, so integers and floats both read naturally).
        value: String,
        /// What would be accepted.
        requirement: &'static str,
    },
    /// Dates that are not strictly increasing.
    #[error(
        "{what}: date {date} at index {index} is not after {previous}; sort the observations by date, oldest first, one per date"
    )]
    UnsortedDates {
        /// The series.
        what: &'static str,
        /// 0-based index of the offending date.
        index: usize,
        /// The offending date.
        date: NaiveDate,
        /// The date before it.
        previous: NaiveDate,
    },
}

impl MarketAnalyticsError {
    /// An [`MarketAnalyticsError::InvalidParameter`] from any displayable value.
    pub(crate) fn param(
        what: &'static str,
        name: &'static str,
        value: impl std::fmt::Display,
        requirement: &'static str,
    ) -> Self {
        Self::InvalidParameter { what, name, value: value.to_string(), requirement }
    }
}

/// Check that every value of `values` is finite.
pub(crate) fn check_all_finite(what: &'static str, values: &[f64]) -> Result<(), MarketAnalyticsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MarketAnalyticsError::NonFinite { what, index, value: values[index] }),
        None => Ok(()),
    }
}

/// Check that two series have the same length.
pub(crate) fn check_same_len(
    what: &'static str,
    left: (&'static str, usize),
    right: (&'static str, usize),
) -> Result<(), MarketAnalyticsError> {
    if left.1 != right.1 {
        return Err(MarketAnalyticsError::LengthMismatch {
            what,
            left_name: left.0,
            left: left.1,
            right_name: right.0,
            right: right.1,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_input_and_the_fix() {
        let e = MarketAnalyticsError::TenorOutOfRange { what: "calendar spread", tenor: 12, points: 6 };
        assert_eq!(
            e.to_string(),
            "calendar spread: the curve has 6 point(s) but M12 was asked for; use a tenor from 1 to 6"
        );
        let e = MarketAnalyticsError::NonPositivePrice { what: "roll yield", tenor: 1, value: -37.63 };
        assert!(e.to_string().contains("M1") && e.to_string().contains("-37.63"));
        assert!(check_all_finite("wti", &[1.0, f64::NAN]).unwrap_err().to_string().contains("index 1"));
        assert!(check_same_len("crack", ("rbob", 3), ("wti", 2)).unwrap_err().to_string().contains("`rbob` has 3"));
        assert!(check_same_len("crack", ("rbob", 3), ("wti", 3)).is_ok());
    }
}
