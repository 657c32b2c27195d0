//! Criterion benches of the indicator library: batch RSI(14) and SMA(20) over 10,000,000
//! points (allocating a fresh output, and writing into a reused buffer), and one streaming
//! `IndicatorSet::update` per new bar.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_signals::{IndicatorSet, IndicatorSetConfig, OhlcvBar, rsi, rsi_into, sma, sma_into};

const N: usize = 10_000_000;

/// Deterministic random walk (xorshift64), the same shape of data TA-Lib is timed on.
fn random_walk(n: usize) -> Vec<f64> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut px = 60.0;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            px += ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.5;
            px
        })
        .collect()
}

fn bars(n: usize) -> Vec<OhlcvBar> {
    let closes = random_walk(n + 1);
    (0..n)
        .map(|i| {
            let (o, c) = (closes[i], closes[i + 1]);
            let spread = 0.05 + (i % 7) as f64 * 0.01;
            OhlcvBar::new(o, o.max(c) + spread, o.min(c) - spread, c, 100.0 + (i % 13) as f64 * 10.0)
        })
        .collect()
}

fn batch(c: &mut Criterion) {
    let xs = random_walk(N);
    let mut g = c.benchmark_group("batch_10m");
    g.sample_size(10);
    g.bench_function("rsi_14", |b| b.iter(|| rsi(black_box(&xs), 14)));
    g.bench_function("sma_20", |b| b.iter(|| sma(black_box(&xs), 20)));
    // The same kernels writing into a buffer that is reused (already paged in), as TA-Lib's
    // C functions write into a caller's buffer.
    let mut out = vec![0.0; N];
    g.bench_function("rsi_14_into", |b| b.iter(|| rsi_into(black_box(&xs), 14, black_box(&mut out))));
    g.bench_function("sma_20_into", |b| b.iter(|| sma_into(black_box(&xs), 20, black_box(&mut out))));
    g.finish();
}

fn streaming(c: &mut Criterion) {
    let bars = bars(100_000);
    c.bench_function("indicator_set_update_per_bar", |b| {
        let mut set = IndicatorSet::new(IndicatorSetConfig::default()).expect("default config is valid");
        // Warm up past every lookback so the steady-state path is measured.
        for (i, bar) in bars.iter().take(1_000).enumerate() {
            set.update(bar, (i / 24) as i64);
        }
        let mut i = 1_000usize;
        b.iter(|| {
            let bar = &bars[i % bars.len()];
            let v = set.update(black_box(bar), (i / 24) as i64);
            i += 1;
            black_box(v)
        })
    });
}

criterion_group!(benches, batch, streaming);
criterion_main!(benches);
