//! Fundamental signals: inventory surprise, term-structure carry, crack-spread and WTI–Brent
//! mean reversion, OPEC+ production against quota. Each keeps the state it needs between
//! the events that feed it (reports, curves, bars of other markets) and gives a score in
//! [−1, 1] per market; the rules are documented on each source's parameters in
//! [`crate::config`].
//!
//! Cross-market spreads are sampled when the latest bars of all their legs have the same
//! start time (the bar that completes a timestamp takes the sample), so the z-score runs on
//! aligned prices; markets whose bar arrived before the sample was taken see the previous
//! z-score until their next bar.

use std::borrow::Cow;

use chrono::NaiveDate;
use crude_analytics::{
    InventoryConfig, InventorySnapshot, InventoryTracker, InventoryWeek, Product, TermStructureConfig,
    TermStructureMetrics, crack_321, term_structure_metrics, wti_brent_spread,
};
use crude_model::{CurveSnapshot, InventoryReport, Market, Timestamp};

use crate::config::{InventorySurpriseParams, OpecQuotaParams, SpreadZParams, TermStructureCarryParams};
use crate::indicators::{IndicatorError, ZScore};
use crate::opec::OpecTable;
use crate::technical::{Reading, fade, input, scaled};

/// The product whose surprise moves a market.
pub(crate) const fn product_of(market: Market) -> Product {
    match market {
        Market::Wti | Market::Brent => Product::Crude,
        Market::Rbob => Product::Gasoline,
        Market::HeatingOil => Product::Distillate,
    }
}

/// Inventory-surprise state shared by all markets.
#[derive(Debug, Clone)]
pub(crate) struct InventorySignal {
    tracker: InventoryTracker,
    p: InventorySurpriseParams,
    last: Option<InventorySnapshot>,
    reports: usize,
    /// Bars of each market since the last report (−1 before the first bar after it).
    age: [i64; 4],
    rejected: Option<String>,
}

impl InventorySignal {
    pub(crate) fn new(p: &InventorySurpriseParams) -> Result<Self, crude_analytics::MarketAnalyticsError> {
        let cfg = InventoryConfig {
            surprise_lookback: p.lookback_reports,
            min_surprises: p.min_reports,
            ..InventoryConfig::default()
        };
        Ok(Self { tracker: InventoryTracker::new(cfg)?, p: *p, last: None, reports: 0, age: [-1; 4], rejected: None })
    }

    pub(crate) fn on_report(&mut self, report: &InventoryReport) {
        self.on_week(&InventoryWeek::from_report(report));
    }

    pub(crate) fn on_week(&mut self, week: &InventoryWeek) {
        match self.tracker.push(week) {
            Ok(snap) => {
                self.last = Some(snap);
                self.reports += 1;
                self.age = [-1; 4];
                self.rejected = None;
            }
            Err(e) => self.rejected = Some(format!("last inventory report rejected: {e}")),
        }
    }

    pub(crate) fn on_bar(&mut self, market: Market) {
        let a = &mut self.age[market.index()];
        *a = a.saturating_add(1);
    }

    pub(crate) fn snapshot(&self) -> Option<&InventorySnapshot> {
        self.last.as_ref()
    }

    pub(crate) fn reading(&self, market: Market) -> Reading {
        let Some(snap) = &self.last else {
            return match &self.rejected {
                Some(why) => Reading::Unavailable(Cow::Owned(why.clone())),
                None => Reading::warming("no inventory report received yet"),
            };
        };
        let pa = snap.product(product_of(market));
        let Some(z) = pa.surprise_z else {
            return Reading::Unavailable(Cow::Owned(format!(
                "the surprise z-score needs {} earlier reports with consensus; {} received",
                self.p.min_reports,
                self.reports.saturating_sub(1)
            )));
        };
        let age = usize::try_from(self.age[market.index()].max(0)).unwrap_or(usize::MAX);
        let score = -scaled(z, self.p.full_scale_z) * fade(age, self.p.decay_bars);
        let mut inputs = vec![input("surprise_z", z), input("bars_since_report", age as f64)];
        if let Some(s) = pa.surprise_kbbl {
            inputs.push(input("surprise_kbbl", s));
        }
        Reading::active(score, Some(z), inputs)
    }
}

/// The latest term structure of one market.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CurveInfo {
    pub(crate) ts: Timestamp,
    pub(crate) metrics: Result<TermStructureMetrics, String>,
}

impl CurveInfo {
    pub(crate) fn from_curve(curve: &CurveSnapshot, cfg: &TermStructureConfig) -> Self {
        Self { ts: curve.ts, metrics: term_structure_metrics(&curve.points, cfg).map_err(|e| e.to_string()) }
    }
}

/// Carry reading from the latest curve.
pub(crate) fn carry_reading(info: Option<&CurveInfo>, p: &TermStructureCarryParams) -> Reading {
    let Some(info) = info else {
        return Reading::warming("no futures curve received yet");
    };
    let m = match &info.metrics {
        Ok(m) => m,
        Err(e) => return Reading::Unavailable(Cow::Owned(format!("last curve rejected: {e}"))),
    };
    let Some(ry) = m.roll_yield_annual else {
        return Reading::warming("roll yield undefined: the curve has fewer than 2 points or a price at or below zero");
    };
    let mut inputs = vec![input("roll_yield_annual", ry)];
    if let Some(s) = m.m1_m2 {
        inputs.push(input("m1_m2", s));
    }
    Reading::active(scaled(ry, p.full_scale_annual), Some(ry), inputs)
}

/// Which spread a sampler computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpreadKind {
    /// 3-2-1 crack on WTI, RBOB and heating oil.
    Crack321,
    /// WTI − Brent.
    WtiBrent,
}

impl SpreadKind {
    fn legs(self) -> &'static [Market] {
        match self {
            SpreadKind::Crack321 => &[Market::Wti, Market::Rbob, Market::HeatingOil],
            SpreadKind::WtiBrent => &[Market::Wti, Market::Brent],
        }
    }

    fn missing_legs(self) -> &'static str {
        match self {
            SpreadKind::Crack321 => "needs CL, RB and HO bars with matching timestamps",
            SpreadKind::WtiBrent => "needs CL and BZ bars with matching timestamps",
        }
    }

    fn value(self, last: &[Option<(Timestamp, f64)>; 4]) -> Option<(Timestamp, f64)> {
        let mut ts = None;
        for m in self.legs() {
            let (t, _) = last[m.index()]?;
            if ts.is_some_and(|x| x != t) {
                return None;
            }
            ts = Some(t);
        }
        let px = |m: Market| last[m.index()].map_or(f64::NAN, |(_, p)| p);
        let v = match self {
            SpreadKind::Crack321 => crack_321(px(Market::Rbob), px(Market::HeatingOil), px(Market::Wti)),
            SpreadKind::WtiBrent => wti_brent_spread(px(Market::Wti), px(Market::Brent)),
        };
        ts.map(|t| (t, v))
    }

    /// The sign a rich spread (positive z) gives each market's score.
    fn side(self, market: Market) -> f64 {
        match (self, market) {
            // A rich crack: refiners buy crude, products are expected to cheapen.
            (SpreadKind::Crack321, Market::Wti | Market::Brent) => 1.0,
            (SpreadKind::Crack321, _) => -1.0,
            // A rich WTI against Brent: sell WTI, buy Brent.
            (SpreadKind::WtiBrent, Market::Wti) => -1.0,
            (SpreadKind::WtiBrent, _) => 1.0,
        }
    }
}

/// Rolling z-score of an aligned cross-market spread.
#[derive(Debug, Clone)]
pub(crate) struct SpreadSampler {
    kind: SpreadKind,
    p: SpreadZParams,
    z: ZScore,
    last_ts: Option<Timestamp>,
    last: Option<(f64, Option<f64>)>,
    samples: usize,
}

impl SpreadSampler {
    pub(crate) fn new(kind: SpreadKind, p: &SpreadZParams) -> Result<Self, IndicatorError> {
        Ok(Self { kind, p: *p, z: ZScore::new(p.lookback_bars)?, last_ts: None, last: None, samples: 0 })
    }

    /// Take a sample if every leg's latest bar has the same, new timestamp.
    pub(crate) fn try_sample(&mut self, last: &[Option<(Timestamp, f64)>; 4]) {
        let Some((ts, value)) = self.kind.value(last) else {
            return;
        };
        if self.last_ts.is_some_and(|t| t >= ts) || !value.is_finite() {
            return;
        }
        self.last_ts = Some(ts);
        self.samples += 1;
        let z = self.z.update(value).filter(|z| z.is_finite());
        self.last = Some((value, z));
    }

    /// The latest spread value and its z-score.
    pub(crate) fn latest(&self) -> Option<(f64, Option<f64>)> {
        self.last
    }

    pub(crate) fn reading(&self, market: Market) -> Reading {
        let Some((value, z)) = self.last else {
            return Reading::warming(self.kind.missing_legs());
        };
        let Some(z) = z else {
            return Reading::Unavailable(Cow::Owned(format!(
                "warming up: the z-score needs {} aligned bars, {} so far",
                self.p.lookback_bars, self.samples
            )));
        };
        let name = match self.kind {
            SpreadKind::Crack321 => "crack_321_usd_bbl",
            SpreadKind::WtiBrent => "wti_brent_usd_bbl",
        };
        Reading::active(
            self.kind.side(market) * scaled(z, self.p.full_scale_z),
            Some(z),
            vec![input(name, value), input("z", z)],
        )
    }
}

/// OPEC+ reading on a date.
pub(crate) fn opec_reading(table: Option<&OpecTable>, date: NaiveDate, p: &OpecQuotaParams) -> Reading {
    let Some(table) = table else {
        return Reading::warming("no OPEC+ production table loaded (see data/opec_production_template.csv)");
    };
    let Some(m) = table.as_of(date, p.publication_lag_days) else {
        return Reading::warming("the OPEC+ table has no month published by this date");
    };
    Reading::active(
        -scaled(m.excess_kbpd, p.full_scale_kbpd),
        Some(m.excess_kbpd),
        vec![
            input("excess_kbpd", m.excess_kbpd),
            input("production_kbpd", m.production_kbpd),
            input("quota_kbpd", m.quota_kbpd),
            input("year", f64::from(m.year)),
            input("month", f64::from(m.month)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractId, ContractMonth, CurvePoint};

    fn score(r: &Reading) -> f64 {
        match r {
            Reading::Active { score, .. } => *score,
            Reading::Unavailable(why) => panic!("unavailable: {why}"),
        }
    }

    #[test]
    fn inventory_surprise_is_bearish_for_builds_and_fades() {
        let p = InventorySurpriseParams { lookback_reports: 10, min_reports: 3, full_scale_z: 2.0, decay_bars: 4 };
        let mut s = InventorySignal::new(&p).unwrap();
        assert!(matches!(s.reading(Market::Wti), Reading::Unavailable(_)));
        let day = |i: i64| Timestamp::from_secs(1_704_326_400 + i * 7 * 86_400 + 15 * 3_600); // Thursdays from 2024-01-04
        let surprises = [100.0, -100.0, 200.0, -200.0];
        for (i, sur) in surprises.iter().enumerate() {
            s.on_report(&InventoryReport {
                ts: day(i as i64),
                crude_change_kbbl: *sur,
                crude_consensus_kbbl: 0.0,
                gasoline_change_kbbl: 0.0,
                gasoline_consensus_kbbl: 0.0,
                distillate_change_kbbl: 0.0,
                distillate_consensus_kbbl: 0.0,
                crude_stocks_kbbl: 430_000.0,
            });
        }
        // z of -200 against [100, -100, 200]: mean 66.7, s 152.8 -> -1.745; a draw is bullish.
        s.on_bar(Market::Wti);
        let r = score(&s.reading(Market::Wti));
        let prior = [100.0f64, -100.0, 200.0];
        let mean = prior.iter().sum::<f64>() / 3.0;
        let sd = (prior.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        let z = (-200.0 - mean) / sd;
        assert!((r - (-z / 2.0)).abs() < 1e-12, "{r}");
        s.on_bar(Market::Wti);
        s.on_bar(Market::Wti);
        assert!((score(&s.reading(Market::Wti)) - r * 0.5).abs() < 1e-12, "fades over 4 bars");
        // Gasoline had no surprise variance: no z.
        assert!(matches!(s.reading(Market::Rbob), Reading::Unavailable(_)));
        assert!(score(&s.reading(Market::Brent)) > 0.0, "Brent has not had a bar since: full strength");
    }

    #[test]
    fn carry_from_the_curve() {
        let p = TermStructureCarryParams::default();
        assert!(matches!(carry_reading(None, &p), Reading::Unavailable(_)));
        let m0 = ContractMonth::new(2026, 1).unwrap();
        let curve = |a: f64, b: f64| CurveSnapshot {
            market: Market::Wti,
            ts: Timestamp(0),
            points: vec![
                CurvePoint { contract: ContractId::new(Market::Wti, m0), price: a },
                CurvePoint { contract: ContractId::new(Market::Wti, m0.plus_months(1)), price: b },
            ],
        };
        let info = CurveInfo::from_curve(&curve(71.0, 70.0), &TermStructureConfig::default());
        let ry = (71.0f64 / 70.0).ln() * 12.0;
        assert!((score(&carry_reading(Some(&info), &p)) - (ry / 0.15).min(1.0)).abs() < 1e-12);
        let info = CurveInfo::from_curve(&curve(-5.0, 10.0), &TermStructureConfig::default());
        assert!(matches!(carry_reading(Some(&info), &p), Reading::Unavailable(_)));
        let info = CurveInfo::from_curve(&curve(f64::NAN, 10.0), &TermStructureConfig::default());
        match carry_reading(Some(&info), &p) {
            Reading::Unavailable(why) => assert!(why.contains("last curve rejected"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spreads_sample_only_aligned_bars() {
        let p = SpreadZParams { lookback_bars: 3, full_scale_z: 2.0 };
        let mut s = SpreadSampler::new(SpreadKind::WtiBrent, &p).unwrap();
        let mut last = [None; 4];
        last[Market::Wti.index()] = Some((Timestamp(1), 70.0));
        s.try_sample(&last);
        assert!(s.latest().is_none(), "Brent missing");
        last[Market::Brent.index()] = Some((Timestamp(2), 74.0));
        s.try_sample(&last);
        assert!(s.latest().is_none(), "timestamps differ");
        for (t, w, b) in [(3, 70.0, 74.0), (4, 71.0, 74.0), (5, 74.0, 74.0)] {
            last[Market::Wti.index()] = Some((Timestamp(t), w));
            last[Market::Brent.index()] = Some((Timestamp(t), b));
            s.try_sample(&last);
            s.try_sample(&last); // a repeat does not sample twice
        }
        // Spreads -4, -3, 0: z of 0 = (0 - (-7/3)) / population sd.
        let xs = [-4.0f64, -3.0, 0.0];
        let mean = xs.iter().sum::<f64>() / 3.0;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        let z = (0.0 - mean) / sd;
        assert!((score(&s.reading(Market::Wti)) - (-(z / 2.0).min(1.0))).abs() < 1e-12);
        assert!((score(&s.reading(Market::Brent)) - (z / 2.0).min(1.0)).abs() < 1e-12);
        let mut c = SpreadSampler::new(SpreadKind::Crack321, &p).unwrap();
        c.try_sample(&last);
        match c.reading(Market::Rbob) {
            Reading::Unavailable(why) => assert!(why.contains("CL, RB and HO")),
            other => panic!("{other:?}"),
        }
        assert_eq!(SpreadKind::Crack321.side(Market::Brent), 1.0);
        assert_eq!(SpreadKind::Crack321.side(Market::HeatingOil), -1.0);
    }

    #[test]
    fn opec_excess_is_bearish() {
        let t =
            OpecTable::parse("month,country,production_kbpd,quota_kbpd\n2024-05,A,10500,10000\n", "gen.csv").unwrap();
        let p = OpecQuotaParams::default();
        let d = NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
        assert_eq!(score(&opec_reading(Some(&t), d, &p)), -0.5);
        assert!(matches!(
            opec_reading(Some(&t), NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(), &p),
            Reading::Unavailable(_)
        ));
        assert!(matches!(opec_reading(None, d, &p), Reading::Unavailable(_)));
    }
}
