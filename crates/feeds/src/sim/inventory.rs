//! The weekly EIA petroleum status report: US commercial stocks of crude, gasoline and
//! distillate with seasonal patterns, analysts' consensus and the surprise.
//!
//! Each stock is a seasonal level plus an AR(1) deviation (weekly persistence 0.92):
//!
//! | stock | seasonal amplitude (kbbl) | seasonal peak | weekly shock sd (kbbl) | consensus error sd (kbbl) |
//! | --- | --- | --- | --- | --- |
//! | crude | 15,000 around `crude_stocks_mean_kbbl` | mid-May (refinery maintenance builds, summer draws) | 3,200 | 900 |
//! | gasoline | 9,000 | early February (winter builds, driving-season draws) | 1,900 | 600 |
//! | distillate | 10,000 | mid-November (autumn builds, heating-season draws) | 1,700 | 600 |
//!
//! The reported change is the seasonal change of the week plus the deviation's expected
//! change plus the week's shock; the consensus is the same expectation plus an analyst
//! error (rounded to 0.1 million barrels, as consensus figures are quoted). The surprise
//! (actual − consensus) therefore has a standard deviation of about 3.3 million barrels
//! for crude, as in the real survey history. Release timing is in the `schedule` module.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_distr::StandardNormal;

use crude_model::{InventoryReport, Timestamp};

/// Weekly persistence of each stock's deviation from its seasonal level.
const PERSISTENCE: f64 = 0.92;

/// One stock's parameters.
#[derive(Debug, Clone, Copy)]
struct StockSpec {
    amplitude_kbbl: f64,
    peak_day_of_year: f64,
    shock_sd_kbbl: f64,
    consensus_sd_kbbl: f64,
}

const CRUDE: StockSpec =
    StockSpec { amplitude_kbbl: 15_000.0, peak_day_of_year: 135.0, shock_sd_kbbl: 3_200.0, consensus_sd_kbbl: 900.0 };
const GASOLINE: StockSpec =
    StockSpec { amplitude_kbbl: 9_000.0, peak_day_of_year: 35.0, shock_sd_kbbl: 1_900.0, consensus_sd_kbbl: 600.0 };
const DISTILLATE: StockSpec =
    StockSpec { amplitude_kbbl: 10_000.0, peak_day_of_year: 320.0, shock_sd_kbbl: 1_700.0, consensus_sd_kbbl: 600.0 };

impl StockSpec {
    /// Seasonal deviation from the mean level on a day of the year.
    fn seasonal(&self, day_of_year: f64) -> f64 {
        self.amplitude_kbbl * (2.0 * std::f64::consts::PI * (day_of_year - self.peak_day_of_year) / 365.25).cos()
    }
}

/// The state of the three stocks between reports.
#[derive(Debug, Clone)]
pub(crate) struct InventoryModel {
    crude_mean_kbbl: f64,
    /// Deviations from the seasonal levels: crude, gasoline, distillate.
    dev_kbbl: [f64; 3],
}

impl InventoryModel {
    /// Stocks at their seasonal levels.
    pub fn new(crude_mean_kbbl: f64) -> Self {
        Self { crude_mean_kbbl, dev_kbbl: [0.0; 3] }
    }

    /// The report released at `ts` for the week ending just before `date`, advancing the
    /// stocks by one week.
    pub fn report<R: Rng + ?Sized>(&mut self, rng: &mut R, date: NaiveDate, ts: Timestamp) -> InventoryReport {
        let doy = f64::from(date.ordinal());
        let mut changes = [(0.0, 0.0); 3];
        for (k, spec) in [CRUDE, GASOLINE, DISTILLATE].iter().enumerate() {
            let seasonal_change = spec.seasonal(doy) - spec.seasonal(doy - 7.0);
            let expected_dev_change = (PERSISTENCE - 1.0) * self.dev_kbbl[k];
            let shock: f64 = spec.shock_sd_kbbl * rng.sample::<f64, _>(StandardNormal);
            let analyst: f64 = spec.consensus_sd_kbbl * rng.sample::<f64, _>(StandardNormal);
            let actual = (seasonal_change + expected_dev_change + shock).round();
            let consensus = ((seasonal_change + expected_dev_change + analyst) / 100.0).round() * 100.0;
            self.dev_kbbl[k] += expected_dev_change + shock;
            changes[k] = (actual, consensus);
        }
        let crude_stocks_kbbl = (self.crude_mean_kbbl + CRUDE.seasonal(doy) + self.dev_kbbl[0]).round();
        InventoryReport {
            ts,
            crude_change_kbbl: changes[0].0,
            crude_consensus_kbbl: changes[0].1,
            gasoline_change_kbbl: changes[1].0,
            gasoline_consensus_kbbl: changes[1].1,
            distillate_change_kbbl: changes[2].0,
            distillate_consensus_kbbl: changes[2].1,
            crude_stocks_kbbl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn surprises_have_realistic_size_and_stocks_are_seasonal() {
        let mut m = InventoryModel::new(430_000.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut d = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let mut surprises = Vec::new();
        let mut by_month = [(0.0, 0usize); 12];
        for _ in 0..52 * 20 {
            let r = m.report(&mut rng, d, Timestamp(0));
            surprises.push(r.crude_surprise_kbbl());
            let slot = &mut by_month[d.month0() as usize];
            slot.0 += r.crude_stocks_kbbl;
            slot.1 += 1;
            d = d + chrono::Days::new(7);
        }
        let n = surprises.len() as f64;
        let mean = surprises.iter().sum::<f64>() / n;
        let sd = (surprises.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((2_500.0..4_500.0).contains(&sd), "surprise sd {sd}");
        assert!(mean.abs() < 500.0, "surprise mean {mean}");
        let avg = |m: usize| by_month[m].0 / by_month[m].1 as f64;
        // Stocks are higher in May than in September.
        assert!(avg(4) > avg(8) + 10_000.0, "May {} Sep {}", avg(4), avg(8));
    }
}
