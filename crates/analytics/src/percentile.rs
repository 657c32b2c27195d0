//! Percentile ranks and quantiles, the statistics behind "where does today's value sit in
//! its history" (term-structure metrics, spreads) and the percentile seasonal band.
//!
//! * [`percentile_rank`] uses the mid-rank definition: the share of the window strictly
//!   below the value plus half the share equal to it, times 100. A value equal to every
//!   observation ranks 50; the largest of `n` distinct values ranks `100 · (n − ½) / n`.
//!   (This is `scipy.stats.percentileofscore(kind="mean")`.)
//! * [`quantile_sorted`] interpolates linearly between order statistics at position
//!   `h = (n − 1)·q` (numpy's default `method="linear"`, Hyndman–Fan type 7).
//! * [`PercentileTracker`] keeps the last `lookback` observations of one metric and ranks
//!   each new observation within that window, the new observation included.

use std::collections::VecDeque;

use crate::market_error::MarketAnalyticsError;

/// Mid-rank percentile (0–100) of `value` within `window`; non-finite window entries are
/// skipped. `None` when the window has no finite entry or `value` is not finite.
pub fn percentile_rank(window: &[f64], value: f64) -> Option<f64> {
    percentile_rank_iter(window.iter().copied(), value)
}

fn percentile_rank_iter(window: impl Iterator<Item = f64>, value: f64) -> Option<f64> {
    if !value.is_finite() {
        return None;
    }
    let (mut below, mut equal, mut n) = (0usize, 0usize, 0usize);
    for x in window.filter(|x| x.is_finite()) {
        n += 1;
        if x < value {
            below += 1;
        } else if x == value {
            equal += 1;
        }
    }
    if n == 0 {
        return None;
    }
    Some(100.0 * (below as f64 + 0.5 * equal as f64) / n as f64)
}

/// The `q`-quantile (0 ≤ q ≤ 1) of an ascending slice by linear interpolation between
/// order statistics (numpy's default). `None` for an empty slice or `q` outside [0, 1].
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (h - lo as f64) * (b - a))
}

/// Rolling percentile rank of one metric over the last `lookback` observations.
#[derive(Debug, Clone, PartialEq)]
pub struct PercentileTracker {
    lookback: usize,
    min_observations: usize,
    values: VecDeque<f64>,
}

impl PercentileTracker {
    /// A tracker ranking each value among the last `lookback` values (itself included),
    /// giving `None` until the window holds `min_observations` finite values.
    ///
    /// # Errors
    /// [`MarketAnalyticsError::InvalidParameter`] when `lookback` is 0 or
    /// `min_observations` is 0 or larger than `lookback`.
    pub fn new(lookback: usize, min_observations: usize) -> Result<Self, MarketAnalyticsError> {
        if lookback == 0 {
            return Err(MarketAnalyticsError::param("percentile", "lookback", lookback, "use 1 or more observations"));
        }
        if min_observations == 0 || min_observations > lookback {
            return Err(MarketAnalyticsError::param(
                "percentile",
                "min_observations",
                min_observations,
                "use a count from 1 to the lookback",
            ));
        }
        Ok(Self { lookback, min_observations, values: VecDeque::with_capacity(lookback) })
    }

    /// Add one observation (`None` or a non-finite value records a gap, which still ages
    /// the window) and return its percentile rank within the window.
    pub fn push(&mut self, value: Option<f64>) -> Option<f64> {
        if self.values.len() == self.lookback {
            self.values.pop_front();
        }
        let v = value.filter(|v| v.is_finite()).unwrap_or(f64::NAN);
        self.values.push_back(v);
        let finite = self.values.iter().filter(|x| x.is_finite()).count();
        if finite < self.min_observations {
            return None;
        }
        percentile_rank_iter(self.values.iter().copied(), v)
    }

    /// The observations in the window, oldest first (`NaN` for gaps).
    pub fn window(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().copied()
    }

    /// The configured lookback.
    pub fn lookback(&self) -> usize {
        self.lookback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_rank_matches_scipy_mean_kind() {
        // scipy.stats.percentileofscore([1, 2, 3, 4], 3, kind="mean") == 62.5
        assert_eq!(percentile_rank(&[1.0, 2.0, 3.0, 4.0], 3.0), Some(62.5));
        assert_eq!(percentile_rank(&[5.0, 5.0, 5.0], 5.0), Some(50.0));
        assert_eq!(percentile_rank(&[1.0, 2.0], 10.0), Some(100.0));
        assert_eq!(percentile_rank(&[1.0, 2.0], -10.0), Some(0.0));
        assert_eq!(percentile_rank(&[f64::NAN, 1.0], 1.0), Some(50.0));
        assert_eq!(percentile_rank(&[], 1.0), None);
        assert_eq!(percentile_rank(&[1.0], f64::NAN), None);
    }

    #[test]
    fn quantile_is_numpy_linear() {
        let s = [1.0, 2.0, 4.0, 8.0];
        // numpy.quantile([1, 2, 4, 8], 0.1) == 1.3, 0.5 -> 3.0, 0.9 -> 6.8
        assert!((quantile_sorted(&s, 0.1).unwrap() - 1.3).abs() < 1e-12);
        assert_eq!(quantile_sorted(&s, 0.5), Some(3.0));
        assert!((quantile_sorted(&s, 0.9).unwrap() - 6.8).abs() < 1e-12);
        assert_eq!(quantile_sorted(&s, 0.0), Some(1.0));
        assert_eq!(quantile_sorted(&s, 1.0), Some(8.0));
        assert_eq!(quantile_sorted(&s, 1.5), None);
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    #[test]
    fn tracker_ranks_within_the_rolling_window() {
        let mut t = PercentileTracker::new(3, 2).unwrap();
        assert_eq!(t.push(Some(1.0)), None);
        assert_eq!(t.push(Some(2.0)), Some(75.0));
        assert_eq!(t.push(Some(3.0)), Some(100.0 * 2.5 / 3.0));
        // 1.0 leaves the window: [2, 3, 0.5].
        assert_eq!(t.push(Some(0.5)), Some(100.0 * 0.5 / 3.0));
        assert_eq!(t.push(None), None, "a gap has no rank");
        assert_eq!(t.window().filter(|x| x.is_nan()).count(), 1);
        assert!(PercentileTracker::new(0, 1).is_err());
        assert!(PercentileTracker::new(3, 4).is_err());
        assert!(PercentileTracker::new(3, 0).is_err());
    }
}
