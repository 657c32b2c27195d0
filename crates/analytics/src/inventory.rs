//! Weekly EIA inventory analytics for crude, gasoline and distillate: the surprise against
//! consensus and its z-score, stocks against their 5-year seasonal range, and implied
//! demand.
//!
//! Inputs are [`InventoryWeek`]s, built either from the simulator's (or a live feed's)
//! [`InventoryReport`] events with [`InventoryWeek::from_report`], or read from a CSV in the
//! EIA weekly layout with [`crate::read_eia_weekly_csv`]. Stocks are in thousand barrels
//! (kbbl), flows in thousand barrels per day (kb/d), as the EIA Weekly Petroleum Status
//! Report (WPSR) publishes them.
//!
//! # Definitions (per product, per week)
//!
//! * **change** `= stocks − stocks of the week before` when the input does not give it and
//!   both weeks' stocks are known, 7 days apart (a given change always wins).
//! * **surprise** `= change − consensus` (kbbl). A build larger than expected (positive
//!   surprise) is bearish for the product.
//! * **surprise z-score** `= (surprise − mean) / s` where mean and `s` (sample standard
//!   deviation, n − 1) are those of the previous `surprise_lookback` surprises (the current
//!   one excluded, so it is not compared with itself); `None` until `min_surprises` prior
//!   surprises exist or when `s` is 0.
//! * **5-year seasonal range**: the minimum, maximum and mean of the stocks in the same
//!   ISO week of each of the previous `seasonal_years` ISO years (week 53 falls back to
//!   week 52 in years without one). `vs_avg_kbbl = stocks − avg`; `position_pct` places the
//!   stocks in the range (0 = at the minimum, 100 = at the maximum, outside 0–100 when
//!   the stocks are outside the range). Years without data are skipped and counted in
//!   `years`.
//! * **implied demand** `= production + imports − exports − change / 7` (kb/d): what left
//!   the system in the week, supply minus the daily stock change. For gasoline and
//!   distillate, "production" is refinery and blender net production and the result is
//!   EIA's "product supplied"; for crude it is domestic field production and the result
//!   approximates refinery crude input (commercial stocks only: SPR movements and EIA's
//!   "unaccounted for crude" adjustment are not in the inputs). `None` unless all four
//!   inputs are present.

use std::collections::{BTreeMap, VecDeque};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use crude_model::InventoryReport;
use serde::{Deserialize, Serialize};

use crate::market_error::MarketAnalyticsError;

/// The three stocks of the weekly report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    /// Commercial crude oil (excluding the SPR).
    Crude,
    /// Total motor gasoline.
    Gasoline,
    /// Distillate fuel oil.
    Distillate,
}

impl Product {
    /// Every product, in report order.
    pub const ALL: [Product; 3] = [Product::Crude, Product::Gasoline, Product::Distillate];

    /// Lower-case name, the prefix of its CSV columns.
    pub const fn label(self) -> &'static str {
        match self {
            Product::Crude => "crude",
            Product::Gasoline => "gasoline",
            Product::Distillate => "distillate",
        }
    }

    /// Index into [`Product::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Product::Crude => 0,
            Product::Gasoline => 1,
            Product::Distillate => 2,
        }
    }
}

/// One product's figures for one week; any of them may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ProductWeek {
    /// Stock level at the end of the week, kbbl.
    pub stocks_kbbl: Option<f64>,
    /// Change on the week, kbbl.
    pub change_kbbl: Option<f64>,
    /// Analysts' consensus for the change, kbbl.
    pub consensus_kbbl: Option<f64>,
    /// Production (field production for crude, refinery and blender net production for
    /// products), kb/d.
    pub production_kbpd: Option<f64>,
    /// Imports, kb/d.
    pub imports_kbpd: Option<f64>,
    /// Exports, kb/d.
    pub exports_kbpd: Option<f64>,
}

impl ProductWeek {
    /// The figures in the order of [`PRODUCT_FIELDS`].
    pub fn fields(&self) -> [Option<f64>; 6] {
        [
            self.stocks_kbbl,
            self.change_kbbl,
            self.consensus_kbbl,
            self.production_kbpd,
            self.imports_kbpd,
            self.exports_kbpd,
        ]
    }

    pub(crate) fn field_mut(&mut self, index: usize) -> Option<&mut Option<f64>> {
        Some(match index {
            0 => &mut self.stocks_kbbl,
            1 => &mut self.change_kbbl,
            2 => &mut self.consensus_kbbl,
            3 => &mut self.production_kbpd,
            4 => &mut self.imports_kbpd,
            5 => &mut self.exports_kbpd,
            _ => return None,
        })
    }
}

/// Field suffixes of a product's CSV columns (`crude_stocks_kbbl`, …), in layout order.
pub const PRODUCT_FIELDS: [&str; 6] =
    ["stocks_kbbl", "change_kbbl", "consensus_kbbl", "production_kbpd", "imports_kbpd", "exports_kbpd"];

/// One weekly report: the week-ending date (a Friday for EIA data) and the three products.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InventoryWeek {
    /// Last day of the report week.
    pub week_ending: NaiveDate,
    /// Commercial crude.
    pub crude: ProductWeek,
    /// Total motor gasoline.
    pub gasoline: ProductWeek,
    /// Distillate fuel oil.
    pub distillate: ProductWeek,
}

impl InventoryWeek {
    /// An empty week.
    pub fn new(week_ending: NaiveDate) -> Self {
        Self {
            week_ending,
            crude: ProductWeek::default(),
            gasoline: ProductWeek::default(),
            distillate: ProductWeek::default(),
        }
    }

    /// One product's figures.
    pub fn product(&self, p: Product) -> &ProductWeek {
        match p {
            Product::Crude => &self.crude,
            Product::Gasoline => &self.gasoline,
            Product::Distillate => &self.distillate,
        }
    }

    /// One product's figures, mutable.
    pub fn product_mut(&mut self, p: Product) -> &mut ProductWeek {
        match p {
            Product::Crude => &mut self.crude,
            Product::Gasoline => &mut self.gasoline,
            Product::Distillate => &mut self.distillate,
        }
    }

    /// The week of an [`InventoryReport`] event: the week ending on the Friday before the
    /// release date (UTC), with the report's changes, consensus figures and crude stocks.
    /// The event carries no gasoline or distillate stock levels and no supply figures, so
    /// those are `None`.
    pub fn from_report(report: &InventoryReport) -> Self {
        let mut w = Self::new(week_ending_for_release(report.ts.date_utc()));
        w.crude = ProductWeek {
            stocks_kbbl: Some(report.crude_stocks_kbbl),
            change_kbbl: Some(report.crude_change_kbbl),
            consensus_kbbl: Some(report.crude_consensus_kbbl),
            ..ProductWeek::default()
        };
        w.gasoline = ProductWeek {
            change_kbbl: Some(report.gasoline_change_kbbl),
            consensus_kbbl: Some(report.gasoline_consensus_kbbl),
            ..ProductWeek::default()
        };
        w.distillate = ProductWeek {
            change_kbbl: Some(report.distillate_change_kbbl),
            consensus_kbbl: Some(report.distillate_consensus_kbbl),
            ..ProductWeek::default()
        };
        w
    }
}

/// The report week's last day for a release date: the last Friday strictly before it
/// (the WPSR released on Wednesday 2024-01-10 covers the week ending Friday 2024-01-05).
pub fn week_ending_for_release(release: NaiveDate) -> NaiveDate {
    let from_friday = (release.weekday().num_days_from_monday() + 7 - Weekday::Fri.num_days_from_monday()) % 7;
    let back = if from_friday == 0 { 7 } else { from_friday };
    release.checked_sub_days(Days::new(u64::from(back))).unwrap_or(release)
}

/// Settings of the inventory analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InventoryConfig {
    /// Prior surprises in the z-score window (52 weeks).
    pub surprise_lookback: usize,
    /// Prior surprises needed before a z-score is reported (8).
    pub min_surprises: usize,
    /// Years in the seasonal range (5).
    pub seasonal_years: usize,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self { surprise_lookback: 52, min_surprises: 8, seasonal_years: 5 }
    }
}

impl InventoryConfig {
    /// Check the settings.
    ///
    /// # Errors
    /// [`MarketAnalyticsError::InvalidParameter`] unless `2 <= min_surprises <=
    /// surprise_lookback` and `1 <= seasonal_years <= 50`.
    pub fn validate(&self) -> Result<(), MarketAnalyticsError> {
        const WHAT: &str = "inventory config";
        if self.surprise_lookback < 2 {
            return Err(MarketAnalyticsError::param(
                WHAT,
                "surprise_lookback",
                self.surprise_lookback,
                "use 2 or more weeks",
            ));
        }
        if self.min_surprises < 2 || self.min_surprises > self.surprise_lookback {
            return Err(MarketAnalyticsError::param(
                WHAT,
                "min_surprises",
                self.min_surprises,
                "use a count from 2 to surprise_lookback",
            ));
        }
        if self.seasonal_years == 0 || self.seasonal_years > 50 {
            return Err(MarketAnalyticsError::param(WHAT, "seasonal_years", self.seasonal_years, "use 1 to 50 years"));
        }
        Ok(())
    }
}

/// Stocks against the same week of previous years.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeasonalRange {
    /// Years that had stocks for the week (at most `seasonal_years`).
    pub years: usize,
    /// Lowest stocks, kbbl.
    pub min_kbbl: f64,
    /// Highest stocks, kbbl.
    pub max_kbbl: f64,
    /// Mean stocks, kbbl.
    pub avg_kbbl: f64,
    /// Current stocks minus the mean, kbbl.
    pub vs_avg_kbbl: f64,
    /// Position in the range, percent (0 = min, 100 = max); `None` when min = max.
    pub position_pct: Option<f64>,
}

/// One product's analytics for one week.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ProductAnalytics {
    /// Stocks, kbbl.
    pub stocks_kbbl: Option<f64>,
    /// Change on the week (given or derived), kbbl.
    pub change_kbbl: Option<f64>,
    /// Consensus change, kbbl.
    pub consensus_kbbl: Option<f64>,
    /// Change minus consensus, kbbl.
    pub surprise_kbbl: Option<f64>,
    /// Surprise z-score against the previous surprises.
    pub surprise_z: Option<f64>,
    /// Stocks against the seasonal range.
    pub seasonal: Option<SeasonalRange>,
    /// Implied demand, kb/d.
    pub implied_demand_kbpd: Option<f64>,
}

/// The analytics of one weekly report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InventorySnapshot {
    /// Week-ending date.
    pub week_ending: NaiveDate,
    /// Crude.
    pub crude: ProductAnalytics,
    /// Gasoline.
    pub gasoline: ProductAnalytics,
    /// Distillate.
    pub distillate: ProductAnalytics,
}

impl InventorySnapshot {
    /// One product's analytics.
    pub fn product(&self, p: Product) -> &ProductAnalytics {
        match p {
            Product::Crude => &self.crude,
            Product::Gasoline => &self.gasoline,
            Product::Distillate => &self.distillate,
        }
    }
}

/// Streaming inventory analytics: push weeks in date order.
#[derive(Debug, Clone)]
pub struct InventoryTracker {
    config: InventoryConfig,
    last: Option<InventoryWeek>,
    surprises: [VecDeque<f64>; 3],
    /// Stocks by (ISO year, ISO week), per product.
    stocks: [BTreeMap<(i32, u32), f64>; 3],
    last_snapshot: Option<InventorySnapshot>,
}

impl InventoryTracker {
    /// A tracker with `config`.
    ///
    /// # Errors
    /// [`InventoryConfig::validate`]'s errors.
    pub fn new(config: InventoryConfig) -> Result<Self, MarketAnalyticsError> {
        config.validate()?;
        Ok(Self { config, last: None, surprises: Default::default(), stocks: Default::default(), last_snapshot: None })
    }

    /// Add one week and get its analytics.
    ///
    /// # Errors
    /// [`MarketAnalyticsError::UnsortedDates`] when the week does not end after the
    /// previous one; [`MarketAnalyticsError::NonFinite`] for a NaN or infinite figure
    /// (index = product index × 6 + field index in [`PRODUCT_FIELDS`]). The tracker is
    /// unchanged on error.
    pub fn push(&mut self, week: &InventoryWeek) -> Result<InventorySnapshot, MarketAnalyticsError> {
        if let Some(prev) = &self.last
            && week.week_ending <= prev.week_ending
        {
            return Err(MarketAnalyticsError::UnsortedDates {
                what: "inventory weeks",
                index: 0,
                date: week.week_ending,
                previous: prev.week_ending,
            });
        }
        for p in Product::ALL {
            for (k, v) in week.product(p).fields().into_iter().enumerate() {
                if let Some(v) = v.filter(|v| !v.is_finite()) {
                    return Err(MarketAnalyticsError::NonFinite {
                        what: "inventory week",
                        index: p.index() * 6 + k,
                        value: v,
                    });
                }
            }
        }
        let iso = week.week_ending.iso_week();
        let key = (iso.year(), iso.week());
        let mut out = [ProductAnalytics::default(); 3];
        for p in Product::ALL {
            let i = p.index();
            let cur = week.product(p);
            let prev_stocks = self
                .last
                .as_ref()
                .filter(|l| week.week_ending.signed_duration_since(l.week_ending).num_days() == 7)
                .and_then(|l| l.product(p).stocks_kbbl);
            let change = cur.change_kbbl.or(match (cur.stocks_kbbl, prev_stocks) {
                (Some(s), Some(ps)) => Some(s - ps),
                _ => None,
            });
            let surprise = match (change, cur.consensus_kbbl) {
                (Some(c), Some(k)) => Some(c - k),
                _ => None,
            };
            let z = surprise.and_then(|s| self.z_score(i, s));
            let seasonal = cur.stocks_kbbl.and_then(|s| self.seasonal_range(i, key, s));
            let implied = match (change, cur.production_kbpd, cur.imports_kbpd, cur.exports_kbpd) {
                (Some(c), Some(prod), Some(imp), Some(exp)) => Some(prod + imp - exp - c / 7.0),
                _ => None,
            };
            out[i] = ProductAnalytics {
                stocks_kbbl: cur.stocks_kbbl,
                change_kbbl: change,
                consensus_kbbl: cur.consensus_kbbl,
                surprise_kbbl: surprise,
                surprise_z: z,
                seasonal,
                implied_demand_kbpd: implied,
            };
        }
        // Commit the week only after every check passed.
        for p in Product::ALL {
            let i = p.index();
            if let Some(s) = out[i].surprise_kbbl {
                if self.surprises[i].len() == self.config.surprise_lookback {
                    self.surprises[i].pop_front();
                }
                self.surprises[i].push_back(s);
            }
            if let Some(s) = week.product(p).stocks_kbbl {
                self.stocks[i].insert(key, s);
            }
        }
        self.last = Some(*week);
        let snap =
            InventorySnapshot { week_ending: week.week_ending, crude: out[0], gasoline: out[1], distillate: out[2] };
        self.last_snapshot = Some(snap);
        Ok(snap)
    }

    fn z_score(&self, product: usize, surprise: f64) -> Option<f64> {
        let prior = &self.surprises[product];
        let n = prior.len();
        if n < self.config.min_surprises {
            return None;
        }
        let mean = prior.iter().sum::<f64>() / n as f64;
        let var = prior.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        (sd > 0.0).then(|| (surprise - mean) / sd)
    }

    fn seasonal_range(&self, product: usize, key: (i32, u32), stocks: f64) -> Option<SeasonalRange> {
        let map = &self.stocks[product];
        let values: Vec<f64> = (1..=self.config.seasonal_years as i32)
            .filter_map(|back| {
                let y = key.0 - back;
                map.get(&(y, key.1)).or_else(|| if key.1 == 53 { map.get(&(y, 52)) } else { None }).copied()
            })
            .collect();
        if values.is_empty() {
            return None;
        }
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let avg = values.iter().sum::<f64>() / values.len() as f64;
        Some(SeasonalRange {
            years: values.len(),
            min_kbbl: min,
            max_kbbl: max,
            avg_kbbl: avg,
            vs_avg_kbbl: stocks - avg,
            position_pct: (max > min).then(|| 100.0 * (stocks - min) / (max - min)),
        })
    }

    /// The latest week's analytics.
    pub fn last(&self) -> Option<&InventorySnapshot> {
        self.last_snapshot.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &InventoryConfig {
        &self.config
    }
}

/// Analytics for a history of weeks (oldest first).
///
/// # Errors
/// The config's errors, or the first bad week's (its index is in the `UnsortedDates`
/// variant's `index` field).
pub fn inventory_analytics(
    weeks: &[InventoryWeek],
    config: &InventoryConfig,
) -> Result<Vec<InventorySnapshot>, MarketAnalyticsError> {
    let mut t = InventoryTracker::new(*config)?;
    weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            t.push(w).map_err(|e| match e {
                MarketAnalyticsError::UnsortedDates { what, date, previous, .. } => {
                    MarketAnalyticsError::UnsortedDates { what, index: i, date, previous }
                }
                other => other,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::Timestamp;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn release_maps_to_the_previous_friday() {
        assert_eq!(week_ending_for_release(d(2024, 1, 10)), d(2024, 1, 5)); // Wednesday
        assert_eq!(week_ending_for_release(d(2024, 1, 11)), d(2024, 1, 5)); // holiday Thursday
        assert_eq!(week_ending_for_release(d(2024, 1, 12)), d(2024, 1, 5)); // a Friday: the week before
        assert_eq!(week_ending_for_release(d(2024, 1, 13)), d(2024, 1, 12));
        let r = InventoryReport {
            ts: Timestamp::from_date(d(2024, 1, 10)).add_nanos(15 * 3_600 * 1_000_000_000),
            crude_change_kbbl: -5_500.0,
            crude_consensus_kbbl: -700.0,
            gasoline_change_kbbl: 8_000.0,
            gasoline_consensus_kbbl: 2_500.0,
            distillate_change_kbbl: 6_500.0,
            distillate_consensus_kbbl: 1_000.0,
            crude_stocks_kbbl: 431_100.0,
        };
        let w = InventoryWeek::from_report(&r);
        assert_eq!(w.week_ending, d(2024, 1, 5));
        assert_eq!(w.crude.stocks_kbbl, Some(431_100.0));
        assert_eq!(w.gasoline.stocks_kbbl, None);
        let snap = InventoryTracker::new(InventoryConfig::default()).unwrap().push(&w).unwrap();
        assert_eq!(snap.crude.surprise_kbbl, Some(-4_800.0));
        assert_eq!(snap.gasoline.surprise_kbbl, Some(5_500.0));
        assert_eq!(snap.distillate.surprise_kbbl, Some(5_500.0));
        assert_eq!(snap.crude.surprise_z, None, "no prior surprises yet");
    }

    #[test]
    fn surprise_z_uses_prior_surprises_only() {
        let cfg = InventoryConfig { surprise_lookback: 4, min_surprises: 3, seasonal_years: 5 };
        let mut t = InventoryTracker::new(cfg).unwrap();
        let surprises = [100.0, -100.0, 300.0, -300.0, 1_000.0, 0.0];
        let mut start = d(2024, 1, 5);
        let mut zs = Vec::new();
        for s in surprises {
            let mut w = InventoryWeek::new(start);
            w.crude.change_kbbl = Some(s + 50.0);
            w.crude.consensus_kbbl = Some(50.0);
            zs.push(t.push(&w).unwrap().crude.surprise_z);
            start = start + Days::new(7);
        }
        assert_eq!(&zs[..3], &[None, None, None]);
        // Prior [100, -100, 300]: mean 100, s = 200.
        assert!((zs[3].unwrap() - (-300.0 - 100.0) / 200.0).abs() < 1e-12);
        // Prior [100, -100, 300, -300]: mean 0, s = sqrt((1e4+1e4+9e4+9e4)/3).
        let s = (200_000.0f64 / 3.0).sqrt();
        assert!((zs[4].unwrap() - 1_000.0 / s).abs() < 1e-12);
        // Window of 4: 100 dropped -> [-100, 300, -300, 1000].
        let prior = [-100.0, 300.0, -300.0, 1_000.0];
        let mean = prior.iter().sum::<f64>() / 4.0;
        let sd = (prior.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 3.0).sqrt();
        assert!((zs[5].unwrap() - (0.0 - mean) / sd).abs() < 1e-12);
    }

    #[test]
    fn seasonal_range_and_derived_change_and_implied_demand() {
        let mut weeks = Vec::new();
        // Six years of weekly Fridays; stocks = 400,000 + 1,000 * (year - 2018) + week.
        let mut date = d(2018, 1, 5);
        while date < d(2024, 3, 1) {
            let iso = date.iso_week();
            let mut w = InventoryWeek::new(date);
            w.crude.stocks_kbbl = Some(400_000.0 + 1_000.0 * f64::from(iso.year() - 2018) + f64::from(iso.week()));
            w.crude.production_kbpd = Some(13_000.0);
            w.crude.imports_kbpd = Some(6_500.0);
            w.crude.exports_kbpd = Some(4_000.0);
            weeks.push(w);
            date = date + Days::new(7);
        }
        let snaps = inventory_analytics(&weeks, &InventoryConfig::default()).unwrap();
        let last = snaps.last().unwrap();
        let iso = last.week_ending.iso_week();
        assert_eq!(iso.year(), 2024);
        let r = last.crude.seasonal.unwrap();
        assert_eq!(r.years, 5);
        let wk = f64::from(iso.week());
        assert_eq!(r.min_kbbl, 400_000.0 + 1_000.0 + wk); // 2019
        assert_eq!(r.max_kbbl, 400_000.0 + 5_000.0 + wk); // 2023
        assert_eq!(r.avg_kbbl, 400_000.0 + 3_000.0 + wk);
        assert_eq!(r.vs_avg_kbbl, 3_000.0);
        assert_eq!(r.position_pct, Some(125.0), "above the 5-year max");
        // The change is derived from consecutive stocks: +1 kbbl a week within a year.
        let change = last.crude.change_kbbl.unwrap();
        assert_eq!(change, 1.0);
        assert!((last.crude.implied_demand_kbpd.unwrap() - (13_000.0 + 6_500.0 - 4_000.0 - 1.0 / 7.0)).abs() < 1e-9);
        assert_eq!(snaps[0].crude.change_kbbl, None, "no week before the first");
        assert_eq!(snaps[0].crude.seasonal, None);
        assert_eq!(last.gasoline, ProductAnalytics::default());
    }

    #[test]
    fn bad_weeks_are_rejected_without_changing_state() {
        let mut t = InventoryTracker::new(InventoryConfig::default()).unwrap();
        let mut w = InventoryWeek::new(d(2024, 1, 5));
        w.crude.change_kbbl = Some(1.0);
        w.crude.consensus_kbbl = Some(0.0);
        t.push(&w).unwrap();
        assert!(matches!(t.push(&w), Err(MarketAnalyticsError::UnsortedDates { .. })));
        let mut bad = InventoryWeek::new(d(2024, 1, 12));
        bad.gasoline.imports_kbpd = Some(f64::NAN);
        assert!(matches!(t.push(&bad), Err(MarketAnalyticsError::NonFinite { index: 10, .. })));
        assert_eq!(t.last().unwrap().week_ending, d(2024, 1, 5));
        let err = inventory_analytics(&[w, w], &InventoryConfig::default()).unwrap_err();
        assert!(matches!(err, MarketAnalyticsError::UnsortedDates { index: 1, .. }));
        for cfg in [
            InventoryConfig { surprise_lookback: 1, ..Default::default() },
            InventoryConfig { min_surprises: 60, ..Default::default() },
            InventoryConfig { seasonal_years: 0, ..Default::default() },
        ] {
            assert!(cfg.validate().is_err());
        }
    }
}
