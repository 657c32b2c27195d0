//! Criterion bench of `SignalEngine::on_bar`: one completed bar of one market through every
//! source, the regime, the family correlations and the composite, in steady state (after
//! the warm-up), with a curve and inventory reports loaded so the fundamental sources run.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_model::{Bar, ContractId, ContractMonth, CurvePoint, CurveSnapshot, InventoryReport, Market, Timestamp};
use crude_signals::{SignalEngine, SignalsConfig};

const DAY: i64 = 86_400;
/// Bar spacing, seconds: one-minute bars keep nanosecond timestamps far from overflow
/// however many iterations criterion runs.
const STEP: i64 = 60;

/// Deterministic random-walk bars (xorshift64).
fn bars(n: usize, start_px: f64, seed: u64) -> Vec<Bar> {
    let mut state = seed;
    let mut px = start_px;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let step = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02 * start_px;
            let open = px;
            px += step;
            let range = 0.004 * start_px * (1.0 + (i % 5) as f64);
            Bar {
                start: Timestamp::from_secs(1_500_000_000 + i as i64 * STEP),
                open,
                high: open.max(px) + range,
                low: open.min(px) - range,
                close: px,
                volume: 10_000 + (i % 17) as u64 * 100,
            }
        })
        .collect()
}

fn engine_on_bar(c: &mut Criterion) {
    let n = 20_000;
    let markets = [
        (Market::Wti, bars(n, 60.0, 0x2545_F491_4F6C_DD1D)),
        (Market::Brent, bars(n, 64.0, 0x9E37_79B9_7F4A_7C15)),
        (Market::Rbob, bars(n, 1.9, 0xD1B5_4A32_D192_ED03)),
        (Market::HeatingOil, bars(n, 2.1, 0x8CB9_2BA7_2F3D_8DD7)),
    ];
    let mut engine = SignalEngine::new(SignalsConfig::default()).expect("default config is valid");
    let m0 = ContractMonth::new(2026, 1).expect("valid month");
    for (market, b) in &markets {
        let p0 = b[0].close;
        engine.on_curve(&CurveSnapshot {
            market: *market,
            ts: Timestamp(0),
            points: (0..12)
                .map(|k| CurvePoint {
                    contract: ContractId::new(*market, m0.plus_months(k)),
                    price: p0 - 0.1 * k as f64,
                })
                .collect(),
        });
    }
    for k in 0..20 {
        engine.on_inventory(&InventoryReport {
            ts: Timestamp::from_secs(1_400_000_000 + k * 7 * DAY),
            crude_change_kbbl: (k % 5) as f64 * 900.0 - 1_800.0,
            crude_consensus_kbbl: -500.0,
            gasoline_change_kbbl: (k % 3) as f64 * 700.0 - 700.0,
            gasoline_consensus_kbbl: 100.0,
            distillate_change_kbbl: (k % 4) as f64 * 600.0 - 900.0,
            distillate_consensus_kbbl: -200.0,
            crude_stocks_kbbl: 430_000.0 + k as f64 * 500.0,
        });
    }
    // Warm up every market past all lookbacks (correlation window included).
    let warm = 1_000;
    for i in 0..warm {
        for (market, b) in &markets {
            engine.on_bar(*market, &b[i], i as i64);
        }
    }
    // Cycle through the prepared prices with ever-increasing timestamps, so every bar
    // measured is accepted and fully processed.
    let mut i = warm;
    let mut k = 0usize;
    c.bench_function("signal_engine_on_bar", |bch| {
        bch.iter(|| {
            let (market, b) = &markets[k];
            let mut bar = b[i % n];
            bar.start = Timestamp::from_secs(1_500_000_000 + i as i64 * STEP);
            let snap = engine.on_bar(*market, black_box(&bar), i as i64);
            assert!(snap.is_some(), "every measured bar produces a snapshot");
            k += 1;
            if k == markets.len() {
                k = 0;
                i += 1;
            }
            black_box(snap)
        })
    });
}

criterion_group!(benches, engine_on_bar);
criterion_main!(benches);
