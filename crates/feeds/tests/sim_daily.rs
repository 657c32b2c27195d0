//! Statistical and file-format tests of the daily simulation (`simulate_daily`,
//! `write_daily_csvs`): 500 trading days from 2024-01-02, as `crude simulate --days 500`
//! produces, for several fixed seeds including 7.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Timelike, Weekday};
use crude_feeds::sim::{DailySimulation, SimConfig, SimError, default_start_date, simulate_daily, write_daily_csvs};
use crude_model::{HolidayCalendar, Market, local_time_et};

const DAYS: usize = 500;
const SEEDS: [u64; 4] = [7, 1, 2, 11];

/// The 500-day simulations of [`SEEDS`], computed once (in parallel) per test binary.
fn sims() -> &'static [DailySimulation] {
    static SIMS: OnceLock<Vec<DailySimulation>> = OnceLock::new();
    SIMS.get_or_init(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = SEEDS
                .iter()
                .map(|&seed| {
                    s.spawn(move || {
                        let cfg = SimConfig { seed, ..SimConfig::default() };
                        simulate_daily(&cfg, default_start_date(), DAYS).expect("valid config")
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("simulation thread")).collect()
        })
    })
}

fn closes(sim: &DailySimulation, m: Market) -> Vec<f64> {
    sim.front_bars(m).iter().map(|b| b.close).collect()
}

fn log_returns(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// OLS slope of x[t] on x[t-1].
fn ar1(x: &[f64]) -> f64 {
    let (a, b) = (&x[..x.len() - 1], &x[1..]);
    let (ma, mb) = (mean(a), mean(b));
    a.iter().zip(b).map(|(p, q)| (p - ma) * (q - mb)).sum::<f64>() / a.iter().map(|p| (p - ma).powi(2)).sum::<f64>()
}

/// Sum of the sample autocorrelations of squared returns at lags 1..=5.
fn sq_acf_sum(r: &[f64]) -> f64 {
    let s: Vec<f64> = r.iter().map(|x| x * x).collect();
    let m = mean(&s);
    let v: f64 = s.iter().map(|x| (x - m).powi(2)).sum();
    (1..=5).map(|k| s[..s.len() - k].iter().zip(&s[k..]).map(|(a, b)| (a - m) * (b - m)).sum::<f64>() / v).sum()
}

fn crack(sim: &DailySimulation, product: Market) -> Vec<f64> {
    closes(sim, product).iter().zip(closes(sim, Market::Wti)).map(|(p, w)| p * 42.0 - w).collect()
}

#[test]
fn wti_daily_vol_is_within_20pct_of_config() {
    for (seed, sim) in SEEDS.iter().zip(sims()) {
        let r = log_returns(&closes(sim, Market::Wti));
        let vol = sd(&r) * 252f64.sqrt();
        let target = sim.config.wti_vol_annual;
        assert!((vol / target - 1.0).abs() < 0.2, "seed {seed}: realised vol {vol:.4} vs configured {target}");
    }
}

#[test]
fn wti_brent_daily_returns_are_highly_correlated() {
    for (seed, sim) in SEEDS.iter().zip(sims()) {
        let c = corr(&log_returns(&closes(sim, Market::Wti)), &log_returns(&closes(sim, Market::Brent)));
        assert!(c > 0.9 && c < 0.99, "seed {seed}: WTI-Brent correlation {c:.4}");
        // The premium stays in a realistic band around its level.
        let prem: Vec<f64> =
            closes(sim, Market::Brent).iter().zip(closes(sim, Market::Wti)).map(|(b, w)| b - w).collect();
        let m = mean(&prem);
        assert!((m - sim.config.brent_premium_usd).abs() < 2.5, "seed {seed}: mean premium {m:.2}");
    }
}

#[test]
fn cracks_stay_positive_and_mean_revert() {
    for (seed, sim) in SEEDS.iter().zip(sims()) {
        for (product, level) in
            [(Market::Rbob, sim.config.rb_crack_usd_bbl), (Market::HeatingOil, sim.config.ho_crack_usd_bbl)]
        {
            let c = crack(sim, product);
            let min = c.iter().copied().fold(f64::INFINITY, f64::min);
            assert!(min > 0.0, "seed {seed} {product}: crack went to {min:.2}");
            let m = mean(&c);
            assert!((m / level - 1.0).abs() < 0.3, "seed {seed} {product}: mean crack {m:.2} vs level {level}");
            let phi = ar1(&c);
            assert!(phi < 1.0, "seed {seed} {product}: AR(1) {phi:.4}");
            let half_life = -std::f64::consts::LN_2 / phi.ln();
            assert!((3.0..=150.0).contains(&half_life), "seed {seed} {product}: half-life {half_life:.1} days");
        }
    }
}

#[test]
fn cracks_are_seasonal_by_delivery_month() {
    // RBOB cracks are higher for summer-grade contracts, heating-oil cracks in winter.
    let (mut rb_summer, mut rb_winter, mut ho_summer, mut ho_winter) = (vec![], vec![], vec![], vec![]);
    for sim in sims() {
        for product in [Market::Rbob, Market::HeatingOil] {
            for (bar, c) in sim.front_bars(product).iter().zip(crack(sim, product)) {
                let (summer, winter) = if product == Market::Rbob {
                    (&mut rb_summer, &mut rb_winter)
                } else {
                    (&mut ho_summer, &mut ho_winter)
                };
                match bar.contract.month.month {
                    5..=8 => summer.push(c),
                    11 | 12 | 1 | 2 => winter.push(c),
                    _ => {}
                }
            }
        }
    }
    assert!(
        mean(&rb_summer) > mean(&rb_winter) + 2.0,
        "RB summer {:.2} winter {:.2}",
        mean(&rb_summer),
        mean(&rb_winter)
    );
    assert!(
        mean(&ho_winter) > mean(&ho_summer) + 1.0,
        "HO winter {:.2} summer {:.2}",
        mean(&ho_winter),
        mean(&ho_summer)
    );
}

#[test]
fn squared_returns_cluster_and_tails_are_fat() {
    let mut pooled = Vec::new();
    for (seed, sim) in SEEDS.iter().zip(sims()) {
        let r = log_returns(&closes(sim, Market::Wti));
        let acf = sq_acf_sum(&r);
        assert!(acf > 0.05, "seed {seed}: sum of squared-return autocorrelations (lags 1-5) {acf:.4}");
        let m = mean(&r);
        pooled.extend(r.iter().map(|x| (x - m) / sd(&r)));
    }
    let kurt = mean(&pooled.iter().map(|z| z.powi(4)).collect::<Vec<_>>());
    assert!(kurt > 3.5, "pooled kurtosis {kurt:.2} (a normal distribution has 3)");
}

#[test]
fn curve_visits_contango_and_backwardation() {
    for (seed, sim) in SEEDS.iter().zip(sims()) {
        for far in [1usize, 11] {
            let (mut contango, mut backwardation) = (0, 0);
            for c in sim.curves_of(Market::Wti) {
                assert_eq!(c.settlements.len(), 12);
                if c.settlements[far] > c.settlements[0] {
                    contango += 1;
                } else if c.settlements[far] < c.settlements[0] {
                    backwardation += 1;
                }
            }
            assert!(
                contango >= 5 && backwardation >= 5,
                "seed {seed} M{}: contango {contango}, backwardation {backwardation} days",
                far + 1
            );
        }
    }
}

#[test]
fn back_months_are_calmer_than_the_front() {
    // Same-contract daily returns of the generic 1st and 12th months (roll days excluded).
    let (mut v1, mut v12) = (Vec::new(), Vec::new());
    for sim in sims() {
        let curves: Vec<_> = sim.curves_of(Market::Wti).collect();
        for w in curves.windows(2) {
            for (k, out) in [(0usize, &mut v1), (11, &mut v12)] {
                if w[0].contracts[k] == w[1].contracts[k] {
                    out.push((w[1].settlements[k] / w[0].settlements[k]).ln());
                }
            }
        }
    }
    let ratio = sd(&v12) / sd(&v1);
    let cfg = SimConfig::default();
    assert!((ratio - cfg.back_month_vol_ratio).abs() < 0.12, "M12/M1 vol ratio {ratio:.3}");
}

#[test]
fn rows_are_trading_dates_with_the_front_contract() {
    let sim = &sims()[0];
    assert_eq!(sim.dates.len(), DAYS);
    assert_eq!(sim.dates[0], NaiveDate::from_ymd_opt(2024, 1, 2).unwrap());
    assert!(sim.dates.windows(2).all(|w| w[0] < w[1]));
    assert!(sim.dates.iter().all(|&d| HolidayCalendar::Cme.is_business_day(d)));
    assert_eq!(sim.curves.len(), 4 * DAYS);
    for m in Market::ALL {
        let bars = sim.front_bars(m);
        assert_eq!(bars.len(), DAYS);
        for (b, &d) in bars.iter().zip(&sim.dates) {
            assert_eq!(b.date, d);
            assert_eq!(b.contract, m.front_contract(d), "{m} on {d}");
            assert!(b.high >= b.open.max(b.close) && b.low <= b.open.min(b.close), "{m} {d}: {b:?}");
            assert!(b.volume > 0);
        }
    }
    // The WTI front month trades a realistic few hundred thousand lots a day.
    let vols: Vec<f64> = sim.front_bars(Market::Wti).iter().map(|b| b.volume as f64).collect();
    let m = mean(&vols);
    assert!((200_000.0..700_000.0).contains(&m), "mean front volume {m}");
}

#[test]
fn inventory_reports_are_weekly_on_wednesday_1030_et() {
    let sim = &sims()[0];
    // One report per week: on each Wednesday session, or on Thursday when Wednesday is a
    // CME holiday.
    let cal = HolidayCalendar::Cme;
    let release_days = sim
        .dates
        .iter()
        .filter(|d| {
            d.weekday() == Weekday::Wed || (d.weekday() == Weekday::Thu && !cal.is_business_day(d.pred_opt().unwrap()))
        })
        .count();
    assert_eq!(sim.inventory.len(), release_days);
    let first = sim.dates[0];
    let weeks = (sim.dates[DAYS - 1] - first).num_days() / 7;
    assert!((sim.inventory.len() as i64 - weeks).abs() <= 1, "{} reports in {weeks} weeks", sim.inventory.len());
    for r in &sim.inventory {
        let et = local_time_et(r.ts);
        assert_eq!((et.hour(), et.minute(), et.second()), (10, 30, 0));
        let day = r.ts.to_datetime().with_timezone(&chrono_tz::America::New_York).date_naive();
        match day.weekday() {
            Weekday::Wed => {}
            Weekday::Thu => {
                assert!(!HolidayCalendar::Cme.is_business_day(day.pred_opt().unwrap()), "Thursday report on {day}")
            }
            other => panic!("report on a {other} ({day})"),
        }
        assert!(r.crude_stocks_kbbl > 300_000.0 && r.crude_stocks_kbbl < 560_000.0);
    }
    // Christmas 2024 is a Wednesday: that week's report comes on Thursday 26 December.
    assert!(sim.inventory.iter().any(|r| r.ts.date_utc() == NaiveDate::from_ymd_opt(2024, 12, 26).unwrap()));
}

#[test]
fn csv_files_have_the_exact_layout() {
    let sim = &sims()[0];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    let paths = write_daily_csvs(sim, &out).unwrap();
    let names: Vec<String> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["CL.csv", "BZ.csv", "RB.csv", "HO.csv", "curve.csv"]);
    for m in Market::ALL {
        let text = std::fs::read_to_string(out.join(format!("{}.csv", m.code()))).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("date,open,high,low,close,volume"));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), DAYS);
        for (row, bar) in rows.iter().zip(sim.front_bars(m)) {
            let f: Vec<&str> = row.split(',').collect();
            assert_eq!(f.len(), 6, "{row}");
            assert_eq!(NaiveDate::parse_from_str(f[0], "%Y-%m-%d").unwrap(), bar.date);
            let nums: Vec<f64> = f[1..5].iter().map(|x| x.parse().unwrap()).collect();
            assert!((nums[3] - bar.close).abs() < 1e-9, "{row}");
            assert!(nums[1] >= nums[0].max(nums[3]) && nums[2] <= nums[0].min(nums[3]), "{row}");
            assert_eq!(f[5].parse::<u64>().unwrap(), bar.volume);
            let decimals = if m.quoted_per_gallon() { 4 } else { 2 };
            assert_eq!(f[4].split('.').nth(1).map(str::len), Some(decimals), "{row}");
        }
    }
    let text = std::fs::read_to_string(out.join("curve.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> =
        ["date", "market"].iter().map(|s| s.to_string()).chain((1..=12).map(|k| format!("m{k}"))).collect();
    assert_eq!(lines.next(), Some(header.join(",").as_str()));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4 * DAYS);
    assert!(rows[..4].iter().map(|r| r.split(',').nth(1).unwrap()).eq(["CL", "BZ", "RB", "HO"]));
    assert!(rows.iter().all(|r| r.split(',').count() == 14 && r.split(',').skip(2).all(|x| x.parse::<f64>().is_ok())));
    // Nothing but the five files is left behind.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 5);
}

#[test]
fn daily_simulation_is_deterministic_per_seed() {
    let cfg = SimConfig { seed: 42, ..SimConfig::default() };
    let start = NaiveDate::from_ymd_opt(2025, 6, 2).unwrap();
    let a = simulate_daily(&cfg, start, 15).unwrap();
    let b = simulate_daily(&cfg, start, 15).unwrap();
    assert_eq!(a, b);
    let c = simulate_daily(&SimConfig { seed: 43, ..cfg }, start, 15).unwrap();
    assert_ne!(closes(&a, Market::Wti), closes(&c, Market::Wti));
}

#[test]
fn prices_can_go_negative() {
    // Start WTI at $1 with high volatility: below the $10 floor dynamics are arithmetic
    // ($0.95 a day here), so prices cross zero; nothing clamps them, and the CSV writes them
    // signed. Each path crosses zero with a probability of about two thirds; of these eight
    // seeds several do.
    let start = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
    let mut crossed = Vec::new();
    for seed in 0..8 {
        let cfg = SimConfig { seed, wti_start_price: 1.0, wti_vol_annual: 1.5, ..SimConfig::default() };
        let sim = simulate_daily(&cfg, start, 60).unwrap();
        let min = closes(&sim, Market::Wti).into_iter().fold(f64::INFINITY, f64::min);
        if min < 0.0 {
            crossed.push(sim);
        }
    }
    assert!(crossed.len() >= 3, "only {} of 8 paths went negative", crossed.len());
    let sim = &crossed[0];
    let dir = tempfile::tempdir().unwrap();
    write_daily_csvs(sim, dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("CL.csv")).unwrap();
    assert!(text.lines().skip(1).any(|l| l.split(',').nth(4).is_some_and(|c| c.starts_with('-'))));
}

#[test]
fn bad_arguments_are_rejected_with_the_field_named() {
    let err = simulate_daily(&SimConfig::default(), default_start_date(), 0).unwrap_err();
    assert!(matches!(err, SimError::InvalidArgument { name: "days", .. }), "{err}");
    let late = NaiveDate::from_ymd_opt(2200, 1, 3).unwrap();
    let err = simulate_daily(&SimConfig::default(), late, 20_000).unwrap_err();
    assert!(matches!(err, SimError::InvalidArgument { name: "days", .. }), "{err}");
    let err = simulate_daily(&SimConfig::default(), NaiveDate::from_ymd_opt(1960, 1, 4).unwrap(), 5).unwrap_err();
    assert!(matches!(err, SimError::InvalidArgument { name: "start_date", .. }), "{err}");
    let bad = SimConfig { curve_months: 0, ..SimConfig::default() };
    let err = simulate_daily(&bad, default_start_date(), 5).unwrap_err();
    assert!(err.to_string().contains("curve_months"), "{err}");
    // An output path under a regular file cannot be created: the error names it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let sim = simulate_daily(&SimConfig::default(), default_start_date(), 2).unwrap();
    let err = write_daily_csvs(&sim, &file.join("out")).unwrap_err();
    assert!(matches!(err, SimError::Io { .. }) && err.to_string().contains("file"), "{err}");
}
