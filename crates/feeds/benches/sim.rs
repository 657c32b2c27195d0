//! Benchmarks of the market simulator: events generated per second in stress mode (the tick
//! engine at a configurable total tick rate), the one-minute-step warm-up and the daily
//! simulation behind `crude simulate`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crude_feeds::sim::{MarketSimulator, SimConfig, simulate_daily};
use crude_model::{MarketEvent, Timestamp};

/// Wednesday 2024-03-13 14:00 UTC (10:00 ET, the busy New York morning).
const START: Timestamp = Timestamp::from_secs(1_710_338_400);

/// Events per measured iteration.
const EVENTS: u64 = 20_000;

fn stress(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim_stress");
    group.throughput(Throughput::Elements(EVENTS));
    for rate in [10_000.0, 100_000.0] {
        let Ok(mut sim) = MarketSimulator::new(SimConfig::default(), START) else {
            return;
        };
        if sim.set_total_tick_rate(rate).is_err() {
            return;
        }
        let mut out: Vec<MarketEvent> = Vec::with_capacity(64);
        // Each iteration produces EVENTS events (quotes, trades, depth, curve snapshots,
        // settlements when a session ends); the simulated clock keeps running across
        // iterations, through daily breaks and weekends.
        group.bench_function(format!("events_at_{rate}_ticks_per_sec"), |b| {
            b.iter_custom(|iters| {
                let t0 = Instant::now();
                for _ in 0..iters {
                    let mut produced = 0u64;
                    while produced < EVENTS {
                        out.clear();
                        black_box(sim.step(&mut out));
                        produced += out.len() as u64;
                    }
                }
                t0.elapsed()
            });
        });
    }
    group.finish();
}

fn minute_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim_minutes");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("warmup_history_1_session_48_contracts", |b| {
        b.iter(|| {
            let Ok(mut sim) = MarketSimulator::new(SimConfig::default(), START) else {
                return 0;
            };
            black_box(sim.warmup_history(1)).len()
        });
    });
    let start = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default();
    group.bench_function("simulate_daily_100_days", |b| {
        b.iter(|| simulate_daily(&SimConfig::default(), start, black_box(100)).map(|s| s.dates.len()).unwrap_or(0));
    });
    group.finish();
}

criterion_group!(benches, stress, minute_steps);
criterion_main!(benches);
