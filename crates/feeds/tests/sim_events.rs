//! Tests of the tick engine's event stream (`MarketSimulator`): session hours, ordering,
//! quotes, depth, trades, settlements, inventory reports, warm-up history, determinism and
//! stress-mode speed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::America::New_York;
use crude_feeds::sim::{MarketSimulator, SimConfig, SimError};
use crude_model::{ContractId, Market, MarketEvent, Quote, SeriesId, Timeframe, Timestamp, is_session_open};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    Timestamp::from_datetime(&Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap())
}

fn et(ts: Timestamp) -> NaiveDateTime {
    ts.to_datetime().with_timezone(&New_York).naive_local()
}

/// Tick size of a market under the default config.
fn tick(m: Market) -> f64 {
    if m.quoted_per_gallon() { 0.0001 } else { 0.01 }
}

fn on_grid(price: f64, tick: f64) -> bool {
    let n = price / tick;
    (n - n.round()).abs() < 1e-6
}

/// Whether an ET wall time is in the daily break, at the weekend or outside Globex hours.
fn in_closed_period(ts: Timestamp) -> bool {
    let t = et(ts);
    let (wd, h) = (t.weekday(), t.hour());
    h == 17 || wd == Weekday::Sat || (wd == Weekday::Sun && h < 18) || (wd == Weekday::Fri && h >= 17)
}

/// Runs `sim` until its clock reaches `until`, calling `check` with each batch.
fn run_until(sim: &mut MarketSimulator, until: Timestamp, mut check: impl FnMut(Timestamp, &[MarketEvent])) {
    let mut out = Vec::new();
    while sim.next_event_time() < until {
        out.clear();
        let t = sim.step(&mut out);
        check(t, &out);
    }
}

fn config() -> SimConfig {
    SimConfig { curve_snapshot_interval_ms: 10_000, ..SimConfig::default() }
}

#[test]
fn events_are_ordered_and_only_inside_sessions() {
    let mut sim = MarketSimulator::new(config(), utc(2024, 3, 15, 14, 0)).unwrap();
    sim.set_total_tick_rate(2.0).unwrap();
    let mut last = Timestamp(i64::MIN);
    let mut batches_after_close = Vec::new();
    let mut settle_batches = 0;
    let mut expect_open_next = false;
    let mut first = true;
    let mut n_events = 0usize;
    let mut curves = 0usize;
    run_until(&mut sim, utc(2024, 3, 19, 12, 0), |t, out| {
        assert!(!out.is_empty());
        assert!(t >= last, "batch at {t:?} before {last:?}");
        if expect_open_next {
            batches_after_close.push(t);
            expect_open_next = false;
        }
        for e in out {
            assert_eq!(e.ts(), t, "every event of a batch carries the batch time");
            assert!(is_session_open(e.ts()), "event while closed at {} ET: {e:?}", et(e.ts()));
            assert!(!in_closed_period(e.ts()), "event at {} ET", et(e.ts()));
        }
        n_events += out.len();
        curves += out.iter().filter(|e| matches!(e, MarketEvent::Curve(_))).count();
        // The first batch carries the starting prices as previous settlements.
        if !first && out.iter().any(|e| matches!(e, MarketEvent::Settlement { .. })) {
            settle_batches += 1;
            expect_open_next = true;
        }
        first = false;
        last = t;
    });
    assert!(n_events > 100_000, "{n_events} events");
    assert!(curves > 4 * 10_000, "{curves} curve snapshots");
    // Settlements at the Friday and Monday closes; after each the stream jumps to the next
    // open (Sunday 18:00 ET, then Monday 18:00 ET). The first batch is the start itself.
    assert_eq!(settle_batches, 2);
    assert_eq!(batches_after_close, vec![utc(2024, 3, 17, 22, 0), utc(2024, 3, 18, 22, 0)]);
}

#[test]
fn settlement_batches_settle_every_contract_at_the_close() {
    let mut sim = MarketSimulator::new(config(), utc(2024, 3, 13, 19, 0)).unwrap();
    sim.set_total_tick_rate(1.0).unwrap();
    let quoted: BTreeSet<ContractId> = sim.contracts().into_iter().collect();
    assert_eq!(quoted.len(), 48);
    let mut seen = false;
    run_until(&mut sim, utc(2024, 3, 14, 0, 0), |t, out| {
        if let Some(MarketEvent::Settlement { .. }) = out.first() {
            seen = true;
            // 16:59:59.999 ET, 1 ms before the 17:00 close.
            let e = et(t);
            assert_eq!((e.hour(), e.minute(), e.second()), (16, 59, 59));
            let settled: BTreeSet<ContractId> = out
                .iter()
                .filter_map(|e| match e {
                    MarketEvent::Settlement { contract, price, .. } => {
                        assert!(on_grid(*price, tick(contract.market)));
                        Some(*contract)
                    }
                    _ => None,
                })
                .collect();
            assert!(settled.is_superset(&quoted));
            let curves: Vec<_> =
                out.iter().filter_map(|e| if let MarketEvent::Curve(c) = e { Some(c) } else { None }).collect();
            assert_eq!(curves.len(), 4);
            assert!(curves.iter().all(|c| c.points.len() == 12));
        }
    });
    assert!(seen);
}

#[test]
fn quotes_depth_and_trades_are_well_formed() {
    // New York morning, default tick rates.
    let mut sim = MarketSimulator::new(SimConfig::default(), utc(2024, 3, 13, 13, 30)).unwrap();
    let fronts: BTreeSet<ContractId> = Market::ALL
        .iter()
        .flat_map(|&m| m.active_contracts(NaiveDate::from_ymd_opt(2024, 3, 13).unwrap(), 2))
        .collect();
    let mut last_quote: HashMap<ContractId, Quote> = HashMap::new();
    let mut depth_contracts = BTreeSet::new();
    let (mut quotes, mut trades, mut depths) = (0usize, 0usize, 0usize);
    let mut spreads = [0usize; 4];
    let mut traded: HashMap<ContractId, u64> = HashMap::new();
    run_until(&mut sim, utc(2024, 3, 13, 13, 50), |_, out| {
        for e in out {
            match e {
                MarketEvent::Quote(q) => {
                    let tk = tick(q.contract.market);
                    assert!(q.bid < q.ask, "{q:?}");
                    assert!(on_grid(q.bid, tk) && on_grid(q.ask, tk), "{q:?}");
                    let s = ((q.ask - q.bid) / tk).round() as usize;
                    assert!((1..=3).contains(&s), "spread {s} ticks: {q:?}");
                    spreads[s] += 1;
                    assert!(q.bid_size >= 1 && q.ask_size >= 1);
                    last_quote.insert(q.contract, *q);
                    quotes += 1;
                }
                MarketEvent::Trade(t) => {
                    let q = last_quote[&t.contract];
                    assert_eq!(q.ts, t.ts);
                    assert!(t.price == q.bid || t.price == q.ask, "{t:?} vs {q:?}");
                    assert!(t.size >= 1);
                    *traded.entry(t.contract).or_default() += u64::from(t.size);
                    trades += 1;
                }
                MarketEvent::Depth(d) => {
                    let q = last_quote[&d.contract];
                    assert!(d.bids.len() >= 10 && d.asks.len() >= 10);
                    assert_eq!((d.bids[0].price, d.asks[0].price), (q.bid, q.ask));
                    assert_eq!((d.bids[0].size, d.asks[0].size), (q.bid_size, q.ask_size));
                    assert!(d.bids.windows(2).all(|w| w[1].price < w[0].price), "{d:?}");
                    assert!(d.asks.windows(2).all(|w| w[1].price > w[0].price), "{d:?}");
                    let tk = tick(d.contract.market);
                    assert!(d.bids.iter().chain(&d.asks).all(|l| l.size >= 1 && on_grid(l.price, tk)));
                    depth_contracts.insert(d.contract);
                    depths += 1;
                }
                _ => {}
            }
        }
    });
    assert_eq!(depth_contracts, fronts, "depth on the first two months of every market");
    // About 0.4 × (1 + 0.65 + 0.35 + 0.35) / 4 ≈ 0.24 trades per quote.
    assert!(
        quotes > 50_000 && trades > quotes / 6 && trades < quotes / 3 && depths > quotes / 10,
        "{quotes} {trades} {depths}"
    );
    // Mostly one-tick spreads, some wider.
    assert!(spreads[1] > spreads[2] && spreads[2] > spreads[3] && spreads[3] > 0, "{spreads:?}");
    // Cumulative session volume equals the traded lots (the run started mid-session).
    for (c, v) in &traded {
        assert_eq!(sim.session_volume(*c), Some(*v));
    }
}

#[test]
fn default_tick_rates_decay_with_tenor() {
    let sim = MarketSimulator::new(SimConfig::default(), utc(2024, 3, 5, 23, 0)).unwrap();
    // 4 markets × 5 × (1 − 0.7¹²) / (1 − 0.7) on a day outside any roll window.
    let expected = 4.0 * 5.0 * (1.0 - 0.7f64.powi(12)) / 0.3;
    assert!((sim.total_tick_rate() - expected).abs() < 1e-9, "{}", sim.total_tick_rate());

    // One full session (Wednesday 2024-03-06, 18:00 EST to 17:00 EST) at a tenth of the
    // default rates (same split; a tenth keeps the test fast): over the session the WTI front
    // month averages a tenth of its 5 ticks per second, as does the RBOB front month;
    // further months tick less.
    let mut sim = MarketSimulator::new(SimConfig::default(), utc(2024, 3, 5, 23, 0)).unwrap();
    sim.set_total_tick_rate(expected / 10.0).unwrap();
    let contracts = sim.contracts();
    let mut counts: HashMap<ContractId, usize> = HashMap::new();
    run_until(&mut sim, utc(2024, 3, 6, 22, 0), |_, out| {
        for e in out {
            if let MarketEvent::Quote(q) = e {
                *counts.entry(q.contract).or_default() += 1;
            }
        }
    });
    let secs = 23.0 * 3600.0;
    let cl: Vec<f64> = contracts[..12].iter().map(|c| counts[c] as f64 / secs).collect();
    assert!((cl[0] / 0.5 - 1.0).abs() < 0.03, "CL front {:.3} ticks/s", cl[0]);
    assert!(cl[..8].windows(2).all(|w| w[1] < w[0]), "{cl:?}");
    assert!((cl[11] / cl[0] / 0.7f64.powi(11) - 1.0).abs() < 0.35, "{cl:?}");
    let rb_front = counts[&contracts[24]] as f64 / secs;
    assert!((rb_front / cl[0] - 1.0).abs() < 0.05, "RBOB front {rb_front:.3} ticks/s");
}

#[test]
fn same_seed_same_events_different_seed_different_events() {
    let generate = |seed: u64| {
        let mut sim =
            MarketSimulator::new(SimConfig { seed, ..SimConfig::default() }, utc(2024, 3, 13, 13, 0)).unwrap();
        let mut events = sim.warmup_history(1);
        for _ in 0..20_000 {
            sim.step(&mut events);
        }
        events
    };
    let a = generate(9);
    assert_eq!(a, generate(9));
    assert_ne!(a, generate(10));
}

#[test]
fn closed_start_begins_at_the_next_open_with_an_opening_batch() {
    // Saturday; and Good Friday 2024-03-29, a CME holiday: both open Sunday 18:00 ET.
    for (start, open) in
        [(utc(2024, 3, 16, 12, 0), utc(2024, 3, 17, 22, 0)), (utc(2024, 3, 29, 15, 0), utc(2024, 3, 31, 22, 0))]
    {
        let mut sim = MarketSimulator::new(SimConfig::default(), start).unwrap();
        assert_eq!(sim.now(), open);
        assert_eq!(sim.next_event_time(), open);
        let mut out = Vec::new();
        assert_eq!(sim.step(&mut out), open);
        let count = |f: fn(&MarketEvent) -> bool| out.iter().filter(|e| f(e)).count();
        assert!(matches!(out[0], MarketEvent::Status { .. }));
        assert_eq!(count(|e| matches!(e, MarketEvent::Settlement { .. })), 48);
        assert_eq!(count(|e| matches!(e, MarketEvent::Quote(_))), 48);
        assert_eq!(count(|e| matches!(e, MarketEvent::Depth(_))), 8);
        assert_eq!(count(|e| matches!(e, MarketEvent::Curve(_))), 4);
        assert!(out.iter().all(|e| e.ts() == open));
        // The WTI front month starts at the configured price.
        let MarketEvent::Quote(q) = out.iter().find(|e| matches!(e, MarketEvent::Quote(_))).unwrap() else {
            unreachable!()
        };
        assert!((q.mid() - 75.0).abs() < 0.03, "{q:?}");
    }
}

#[test]
fn inventory_reports_come_on_wednesday_1030_et_and_move_the_fronts() {
    let mut sim = MarketSimulator::new(config(), utc(2024, 12, 16, 12, 0)).unwrap();
    sim.set_total_tick_rate(0.5).unwrap();
    let mut reports = Vec::new();
    run_until(&mut sim, utc(2024, 12, 28, 0, 0), |t, out| {
        if let Some(MarketEvent::Inventory(r)) = out.first() {
            reports.push(et(t));
            assert_eq!(r.ts, t);
            assert!((r.crude_change_kbbl - r.crude_consensus_kbbl - r.crude_surprise_kbbl()).abs() < 1e-9);
            // Requotes of the first two months of each market follow at the same instant.
            let requoted = out.iter().filter(|e| matches!(e, MarketEvent::Quote(_))).count();
            assert_eq!(requoted, 8);
        }
    });
    let expected: Vec<NaiveDateTime> = [(12, 18), (12, 26)]
        .iter()
        .map(|&(m, d)| NaiveDate::from_ymd_opt(2024, m, d).unwrap().and_hms_opt(10, 30, 0).unwrap())
        .collect();
    // 18 December is a Wednesday; Christmas Day 2024 is a Wednesday and a CME holiday, so
    // that week's report comes on Thursday 26 December.
    assert_eq!(reports, expected);
}

#[test]
fn inventory_surprises_move_wti_against_the_build() {
    // Over 60 sessions of warm-up history: the WTI front month's move in the report minute
    // is negatively correlated with the crude surprise (a bigger build than expected is
    // bearish).
    let cfg = SimConfig { curve_months: 2, ..SimConfig::default() };
    let mut sim = MarketSimulator::new(cfg, utc(2024, 6, 3, 14, 0)).unwrap();
    let history = sim.warmup_history(60);
    let mut bars: HashMap<(Timestamp, ContractId), (f64, f64)> = HashMap::new();
    let mut reports = Vec::new();
    for e in &history {
        match e {
            MarketEvent::Bar { series: SeriesId::Contract(c), bar, .. } if c.market == Market::Wti => {
                bars.insert((bar.start, *c), (bar.open, bar.close));
            }
            MarketEvent::Inventory(r) => reports.push(*r),
            _ => {}
        }
    }
    assert!(reports.len() >= 11, "{} reports", reports.len());
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for r in &reports {
        let front = Market::Wti.front_contract(crude_model::trading_date(r.ts));
        let (o, c) = bars[&(r.ts, front)];
        x.push(r.crude_surprise_kbbl());
        y.push((c / o).ln());
    }
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let corr = cov
        / (x.iter().map(|a| (a - mx).powi(2)).sum::<f64>() * y.iter().map(|b| (b - my).powi(2)).sum::<f64>()).sqrt();
    assert!(corr < -0.6, "correlation of surprise and move {corr:.3}");
}

#[test]
fn warmup_history_is_ordered_complete_and_continues_into_live_ticks() {
    let start = utc(2024, 3, 13, 15, 0); // Wednesday 11:00 ET
    let mut sim = MarketSimulator::new(SimConfig::default(), start).unwrap();
    let history = sim.warmup_history(3);
    assert!(history.windows(2).all(|w| w[0].ts() <= w[1].ts()), "history is in time order");
    assert!(history.iter().all(|e| is_session_open(e.ts()) && e.ts() < start));
    let mut bars_per_series: BTreeMap<ContractId, usize> = BTreeMap::new();
    let mut settlements: BTreeMap<Timestamp, usize> = BTreeMap::new();
    let mut curve_ts = BTreeSet::new();
    let mut last_cl_close = None;
    let mut cl_settle_and_next_open = Vec::new();
    let front = Market::Wti.front_contract(NaiveDate::from_ymd_opt(2024, 3, 13).unwrap());
    for e in &history {
        match e {
            MarketEvent::Bar { series: SeriesId::Contract(c), timeframe, bar } => {
                assert_eq!(*timeframe, Timeframe::M1);
                assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close), "{bar:?}");
                assert!(on_grid(bar.open, tick(c.market)) && on_grid(bar.high, tick(c.market)));
                assert_eq!(bar.start.0 % Timestamp::NANOS_PER_MIN, 0);
                *bars_per_series.entry(*c).or_default() += 1;
                if *c == front {
                    if cl_settle_and_next_open.len() % 2 == 1 {
                        cl_settle_and_next_open.push(bar.open);
                    }
                    last_cl_close = Some(bar.close);
                }
            }
            MarketEvent::Settlement { contract, ts, price } => {
                *settlements.entry(*ts).or_default() += 1;
                if *contract == front {
                    cl_settle_and_next_open.push(*price);
                }
            }
            MarketEvent::Curve(c) => {
                curve_ts.insert(c.ts);
            }
            MarketEvent::Bar { .. } => panic!("bars are per contract"),
            _ => {}
        }
    }
    // 3 full sessions of 1,380 minutes plus 17 hours of the current one, for all 48 contracts.
    assert_eq!(bars_per_series.len(), 48);
    assert!(bars_per_series.values().all(|&n| n == 3 * 1380 + 17 * 60), "{bars_per_series:?}");
    assert_eq!(settlements.len(), 3);
    assert!(settlements.values().all(|&n| n >= 48));
    assert_eq!(curve_ts, settlements.keys().copied().collect());
    // Prices continue across the daily break: each session opens where the last settled.
    assert_eq!(cl_settle_and_next_open.len(), 6);
    for pair in cl_settle_and_next_open.chunks(2) {
        assert!((pair[0] - pair[1]).abs() < 0.015, "settle {} then open {}", pair[0], pair[1]);
    }
    // Live ticks continue from the same state.
    let mut out = Vec::new();
    assert_eq!(sim.step(&mut out), start);
    assert!(!out.iter().any(|e| matches!(e, MarketEvent::Settlement { .. })), "history already has settlements");
    let q = out
        .iter()
        .find_map(|e| match e {
            MarketEvent::Quote(q) if q.contract == front => Some(*q),
            _ => None,
        })
        .unwrap();
    let close = last_cl_close.unwrap();
    assert!((q.mid() - close).abs() <= 0.025, "live mid {} vs last bar close {close}", q.mid());
    // Warm-up is once, before the first step.
    assert!(sim.warmup_history(3).is_empty());
}

#[test]
fn stress_mode_generates_far_faster_than_real_time() {
    let mut sim = MarketSimulator::new(SimConfig::default(), utc(2024, 3, 13, 14, 0)).unwrap();
    sim.set_total_tick_rate(10_000.0).unwrap();
    let mut out = Vec::new();
    sim.step(&mut out);
    let t0 = sim.now();
    let wall = std::time::Instant::now();
    let mut quotes = 0usize;
    while sim.now().secs_since(t0) < 10.0 {
        out.clear();
        sim.step(&mut out);
        quotes += out.iter().filter(|e| matches!(e, MarketEvent::Quote(_))).count();
    }
    let elapsed = wall.elapsed().as_secs_f64();
    // 10:00 ET activity is about 2.5× the session average: ~250,000 ticks in 10 s.
    assert!(quotes > 150_000, "{quotes} quotes in 10 simulated seconds");
    assert!(elapsed < 2.5, "10 simulated seconds took {elapsed:.2} s of wall time");

    // Changing the rate between any two batches (after ticks, curve snapshots, …) keeps
    // the stream in time order.
    let mut last = sim.now();
    for i in 0..3_000 {
        if i % 7 == 0 {
            sim.set_total_tick_rate(if i % 14 == 0 { 3.0 } else { 5_000.0 }).unwrap();
        }
        out.clear();
        let t = sim.step(&mut out);
        assert!(t >= last, "batch {i} at {t:?} before {last:?}");
        last = t;
    }
}

#[test]
fn bad_rates_are_rejected() {
    let mut sim = MarketSimulator::new(SimConfig::default(), utc(2024, 3, 13, 14, 0)).unwrap();
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = sim.set_total_tick_rate(bad).unwrap_err();
        assert!(matches!(err, SimError::InvalidArgument { name: "ticks_per_sec", .. }), "{err}");
    }
    let err = MarketSimulator::new(SimConfig { depth_levels: 0, ..SimConfig::default() }, Timestamp(0)).unwrap_err();
    assert!(err.to_string().contains("depth_levels"), "{err}");
}

#[test]
fn extreme_start_times_are_handled() {
    // The earliest and latest accepted years run; beyond them the start is rejected.
    for start in [utc(1971, 1, 4, 15, 0), utc(2200, 6, 2, 15, 0)] {
        let mut sim = MarketSimulator::new(SimConfig::default(), start).unwrap();
        let mut out = Vec::new();
        for _ in 0..100 {
            sim.step(&mut out);
        }
        assert!(out.iter().all(|e| is_session_open(e.ts())));
    }
    for bad in [Timestamp(i64::MIN), Timestamp(i64::MAX), Timestamp(0), utc(2201, 1, 1, 0, 0)] {
        let err = MarketSimulator::new(SimConfig::default(), bad).unwrap_err();
        assert!(matches!(err, SimError::InvalidArgument { name: "start", .. }), "{err}");
    }
}

#[test]
fn negative_prices_quote_normally() {
    let cfg = SimConfig { wti_start_price: -5.0, ..SimConfig::default() };
    let mut sim = MarketSimulator::new(cfg, utc(2024, 3, 13, 14, 0)).unwrap();
    let mut out = Vec::new();
    for _ in 0..2_000 {
        sim.step(&mut out);
    }
    let cl: Vec<&Quote> = out
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Quote(q) if q.contract.market == Market::Wti => Some(q),
            _ => None,
        })
        .collect();
    assert!(cl.iter().any(|q| q.ask < 0.0));
    assert!(cl.iter().all(|q| q.bid < q.ask && on_grid(q.bid, 0.01)));
}

#[test]
fn contracts_follow_the_expiry_calendar() {
    let sim = MarketSimulator::new(SimConfig::default(), utc(2024, 3, 13, 14, 0)).unwrap();
    let d = NaiveDate::from_ymd_opt(2024, 3, 13).unwrap();
    let expected: Vec<ContractId> = Market::ALL.iter().flat_map(|&m| m.active_contracts(d, 12)).collect();
    assert_eq!(sim.contracts(), expected);
}
