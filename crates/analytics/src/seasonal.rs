//! Seasonal profile of a series by ISO week of year, with a band, as the Curve & Spreads
//! panel draws behind crack spreads (and the inventory panel behind stocks).
//!
//! # Method
//!
//! 1. Each observation is assigned to its ISO-8601 week (`NaiveDate::iso_week`: weeks
//!    start on Monday, week 1 contains the year's first Thursday, some years have a week
//!    53). Within one ISO year, the observations of a week are averaged, so every year
//!    contributes at most one value per week however many days it has.
//! 2. The profile uses the `years` ISO years ending with `end_year`. By default `end_year`
//!    is the year **before** the latest ISO year in the data, so the current (partial)
//!    year is not in its own band and can be drawn against it ([`iso_week_means`]).
//! 3. For each week with values from `n` years: mean, min, max and a band:
//!    * [`SeasonalBand::MeanConfidence`]`{ level }`: `mean ± t·s/√n`, `s` the sample
//!      standard deviation across years and `t` the Student-t quantile with `n − 1`
//!      degrees of freedom at `(1 + level)/2` — the confidence interval of the seasonal
//!      mean (needs n ≥ 2; narrower than the spread of outcomes);
//!    * [`SeasonalBand::Percentiles`]`{ lower, upper }`: the `lower` and `upper` quantiles
//!      of the yearly values (linear interpolation, numpy's default) — the range a typical
//!      year falls in.
//!
//! The same functions serve any weekly or daily series: crack spreads, the WTI–Brent
//! spread, inventories.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::market_error::{MarketAnalyticsError, check_all_finite, check_same_len};
use crate::percentile::quantile_sorted;

/// How the seasonal band is drawn around each week's mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SeasonalBand {
    /// `mean ± t·s/√n` at confidence `level` (0 < level < 1).
    MeanConfidence {
        /// Confidence level, e.g. 0.95.
        level: f64,
    },
    /// Empirical quantiles of the yearly values, `0 <= lower < upper <= 1`.
    Percentiles {
        /// Lower quantile, e.g. 0.1.
        lower: f64,
        /// Upper quantile, e.g. 0.9.
        upper: f64,
    },
}

/// Settings of [`seasonal_profile`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeasonalConfig {
    /// Number of ISO years in the profile (5).
    pub years: usize,
    /// The band (95 % confidence of the mean by default).
    pub band: SeasonalBand,
    /// Last ISO year in the profile; `None` = the year before the latest in the data.
    pub end_year: Option<i32>,
}

impl Default for SeasonalConfig {
    fn default() -> Self {
        Self { years: 5, band: SeasonalBand::MeanConfidence { level: 0.95 }, end_year: None }
    }
}

impl SeasonalConfig {
    /// Check the settings.
    ///
    /// # Errors
    /// [`MarketAnalyticsError::InvalidParameter`] for `years` of 0 or above 100, a level
    /// outside (0, 1), or quantiles outside `0 <= lower < upper <= 1`.
    pub fn validate(&self) -> Result<(), MarketAnalyticsError> {
        const WHAT: &str = "seasonal profile";
        if self.years == 0 || self.years > 100 {
            return Err(MarketAnalyticsError::param(WHAT, "years", self.years, "use 1 to 100 years"));
        }
        match self.band {
            SeasonalBand::MeanConfidence { level } if !(level > 0.0 && level < 1.0) => Err(
                MarketAnalyticsError::param(WHAT, "level", level, "use a confidence level between 0 and 1, e.g. 0.95"),
            ),
            SeasonalBand::Percentiles { lower, upper } if !(0.0 <= lower && lower < upper && upper <= 1.0) => {
                Err(MarketAnalyticsError::param(
                    WHAT,
                    "lower/upper",
                    format!("{lower}/{upper}"),
                    "use quantiles with 0 <= lower < upper <= 1, e.g. 0.1 and 0.9",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// One week of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeasonalWeek {
    /// ISO week number, 1..=53.
    pub week: u32,
    /// Number of years with a value in this week.
    pub years: usize,
    /// Mean of the yearly values.
    pub mean: f64,
    /// Lower edge of the band (`None` when the band needs more years).
    pub lower: Option<f64>,
    /// Upper edge of the band.
    pub upper: Option<f64>,
    /// Smallest yearly value.
    pub min: f64,
    /// Largest yearly value.
    pub max: f64,
}

/// A seasonal profile: the weeks that have data, in week order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalProfile {
    /// First ISO year used.
    pub first_year: i32,
    /// Last ISO year used.
    pub last_year: i32,
    /// Profile weeks, ascending.
    pub weeks: Vec<SeasonalWeek>,
}

impl SeasonalProfile {
    /// The profile's entry for ISO week `week`, if any year had data in it.
    pub fn week(&self, week: u32) -> Option<&SeasonalWeek> {
        self.weeks.iter().find(|w| w.week == week)
    }
}

/// Per (ISO year, ISO week) means of a dated series.
fn weekly_means(dates: &[NaiveDate], values: &[f64]) -> BTreeMap<(i32, u32), f64> {
    let mut acc: BTreeMap<(i32, u32), (f64, usize)> = BTreeMap::new();
    for (d, v) in dates.iter().zip(values) {
        let w = d.iso_week();
        let e = acc.entry((w.year(), w.week())).or_insert((0.0, 0));
        e.0 += v;
        e.1 += 1;
    }
    acc.into_iter().map(|(k, (s, n))| (k, s / n as f64)).collect()
}

fn check_series(what: &'static str, dates: &[NaiveDate], values: &[f64]) -> Result<(), MarketAnalyticsError> {
    check_same_len(what, ("dates", dates.len()), ("values", values.len()))?;
    check_all_finite(what, values)?;
    for (i, pair) in dates.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            return Err(MarketAnalyticsError::UnsortedDates { what, index: i + 1, date: pair[1], previous: pair[0] });
        }
    }
    Ok(())
}

/// The seasonal profile of a dated series (see the module docs for the method).
///
/// # Errors
/// The config's errors; [`MarketAnalyticsError::LengthMismatch`],
/// [`MarketAnalyticsError::NonFinite`] or [`MarketAnalyticsError::UnsortedDates`] for bad
/// input; [`MarketAnalyticsError::InvalidParameter`] (`years`) when no observation falls
/// in the profile's years.
pub fn seasonal_profile(
    dates: &[NaiveDate],
    values: &[f64],
    config: &SeasonalConfig,
) -> Result<SeasonalProfile, MarketAnalyticsError> {
    const WHAT: &str = "seasonal profile";
    config.validate()?;
    check_series(WHAT, dates, values)?;
    let means = weekly_means(dates, values);
    let latest_year = means.keys().next_back().map(|k| k.0);
    let Some(last_year) = config.end_year.or(latest_year.map(|y| y - 1)) else {
        return Err(MarketAnalyticsError::param(
            WHAT,
            "years",
            config.years,
            "supply observations: the series is empty",
        ));
    };
    let first_year = last_year - (config.years as i32 - 1);
    let mut by_week: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for (&(year, week), &v) in means.range((first_year, 0)..=(last_year, 53)) {
        debug_assert!((first_year..=last_year).contains(&year));
        by_week.entry(week).or_default().push(v);
    }
    if by_week.is_empty() {
        return Err(MarketAnalyticsError::param(
            WHAT,
            "years",
            format!("{first_year}..={last_year}"),
            "choose years the series covers (the default profile excludes the latest year, so it needs data from earlier years)",
        ));
    }
    let weeks = by_week
        .into_iter()
        .map(|(week, mut xs)| {
            xs.sort_by(f64::total_cmp);
            let n = xs.len();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let (lower, upper) = band(&xs, mean, config.band);
            SeasonalWeek { week, years: n, mean, lower, upper, min: xs[0], max: xs[n - 1] }
        })
        .collect();
    Ok(SeasonalProfile { first_year, last_year, weeks })
}

/// Band edges for one week's sorted yearly values.
fn band(sorted: &[f64], mean: f64, band: SeasonalBand) -> (Option<f64>, Option<f64>) {
    match band {
        SeasonalBand::MeanConfidence { level } => {
            let n = sorted.len();
            if n < 2 {
                return (None, None);
            }
            let var = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let Ok(t) = StudentsT::new(0.0, 1.0, (n - 1) as f64) else {
                return (None, None);
            };
            let half = t.inverse_cdf(0.5 + level / 2.0) * (var / n as f64).sqrt();
            (Some(mean - half), Some(mean + half))
        }
        SeasonalBand::Percentiles { lower, upper } => (quantile_sorted(sorted, lower), quantile_sorted(sorted, upper)),
    }
}

/// The weekly means of one ISO year (to draw the current year over the profile), as
/// `(week, mean)` in week order.
///
/// # Errors
/// [`MarketAnalyticsError::LengthMismatch`], [`MarketAnalyticsError::NonFinite`] or
/// [`MarketAnalyticsError::UnsortedDates`].
pub fn iso_week_means(
    dates: &[NaiveDate],
    values: &[f64],
    iso_year: i32,
) -> Result<Vec<(u32, f64)>, MarketAnalyticsError> {
    check_series("iso week means", dates, values)?;
    Ok(weekly_means(dates, values).into_iter().filter(|((y, _), _)| *y == iso_year).map(|((_, w), v)| (w, v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One value per day (weekdays) for `years` years from 2015: `base(week) + year offset`.
    fn daily(first: i32, years: i32) -> (Vec<NaiveDate>, Vec<f64>) {
        let mut d = NaiveDate::from_ymd_opt(first, 1, 5).unwrap(); // Monday of ISO week 2015-W02
        let end = NaiveDate::from_ymd_opt(first + years, 1, 1).unwrap();
        let (mut ds, mut vs) = (Vec::new(), Vec::new());
        while d < end {
            if d.weekday().num_days_from_monday() < 5 {
                let w = d.iso_week();
                ds.push(d);
                vs.push(f64::from(w.week()) + f64::from(w.year() - first));
            }
            d = d.succ_opt().unwrap();
        }
        (ds, vs)
    }

    #[test]
    fn profile_excludes_the_latest_year_by_default() {
        let (d, v) = daily(2015, 7); // ISO years 2015..=2021 (2021-W52 ends 2022-01-02)
        let p = seasonal_profile(&d, &v, &SeasonalConfig::default()).unwrap();
        let latest = d.last().unwrap().iso_week().year();
        assert_eq!(p.last_year, latest - 1);
        assert_eq!(p.first_year, latest - 5);
        let w10 = p.week(10).unwrap();
        assert_eq!(w10.years, 5);
        // Values are week + (year - 2015); mean over the 5 years used.
        let offsets: Vec<f64> = (p.first_year..=p.last_year).map(|y| f64::from(y - 2015)).collect();
        let mean = 10.0 + offsets.iter().sum::<f64>() / 5.0;
        assert!((w10.mean - mean).abs() < 1e-12);
        assert_eq!(w10.min, 10.0 + offsets[0]);
        assert_eq!(w10.max, 10.0 + offsets[4]);
        // t(0.975, 4) = 2.7764451051977987; s of 5 consecutive integers = sqrt(2.5).
        let half = 2.776_445_105_197_799 * (2.5f64 / 5.0).sqrt();
        assert!((w10.upper.unwrap() - (mean + half)).abs() < 1e-9, "{:?}", w10);
        assert!((w10.lower.unwrap() - (mean - half)).abs() < 1e-9);
        let current = iso_week_means(&d, &v, latest).unwrap();
        assert_eq!(current[0], (1, 1.0 + f64::from(latest - 2015)));
    }

    #[test]
    fn percentile_band_and_explicit_years() {
        let (d, v) = daily(2015, 7);
        let cfg = SeasonalConfig {
            years: 3,
            band: SeasonalBand::Percentiles { lower: 0.0, upper: 0.5 },
            end_year: Some(2017),
        };
        let p = seasonal_profile(&d, &v, &cfg).unwrap();
        assert_eq!((p.first_year, p.last_year), (2015, 2017));
        let w = p.week(20).unwrap();
        assert_eq!((w.lower, w.upper, w.years), (Some(20.0), Some(21.0), 3));
        // 2015 has 53 ISO weeks; 2016 and 2017 do not.
        assert_eq!(p.week(53).map(|w| w.years), Some(1));
        assert_eq!(p.week(53).and_then(|w| w.lower), Some(53.0));
    }

    #[test]
    fn single_year_has_no_confidence_band() {
        let (d, v) = daily(2015, 2);
        let p = seasonal_profile(&d, &v, &SeasonalConfig { years: 1, ..SeasonalConfig::default() }).unwrap();
        assert_eq!(p.week(5).unwrap().lower, None);
    }

    #[test]
    fn bad_inputs() {
        let (d, v) = daily(2015, 2);
        assert!(seasonal_profile(&d[..3], &v, &SeasonalConfig::default()).is_err());
        let mut unsorted = d.clone();
        unsorted.swap(3, 4);
        assert!(matches!(
            seasonal_profile(&unsorted, &v, &SeasonalConfig::default()),
            Err(MarketAnalyticsError::UnsortedDates { index: 4, .. })
        ));
        let err = seasonal_profile(&d, &v, &SeasonalConfig { end_year: Some(1990), ..SeasonalConfig::default() })
            .unwrap_err();
        assert!(err.to_string().contains("1986..=1990"), "{err}");
        assert!(seasonal_profile(&[], &[], &SeasonalConfig::default()).is_err());
        for band in [SeasonalBand::MeanConfidence { level: 1.0 }, SeasonalBand::Percentiles { lower: 0.9, upper: 0.1 }]
        {
            assert!(SeasonalConfig { band, ..SeasonalConfig::default() }.validate().is_err());
        }
        assert!(SeasonalConfig { years: 0, ..SeasonalConfig::default() }.validate().is_err());
    }
}
