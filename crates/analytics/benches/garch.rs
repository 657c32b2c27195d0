//! Benchmark: GARCH(1,1) fit on 8,000 daily returns (100 × log returns of the bundled WTI
//! series, the last 8,000). Goal: under 50 ms.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_analytics::{fit_garch11, log_returns};

fn wti_pct_returns() -> Vec<f64> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/wti_daily_fred.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let closes: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).and_then(|v| v.trim().parse().ok()).expect("close column"))
        .collect();
    log_returns(&closes).expect("positive prices").into_iter().map(|r| 100.0 * r).collect()
}

fn bench_garch(c: &mut Criterion) {
    let all = wti_pct_returns();
    let returns = all[all.len() - 8000..].to_vec();
    c.bench_function("garch11_fit_8000_returns", |b| b.iter(|| fit_garch11(black_box(&returns)).expect("fit")));
}

criterion_group!(benches, bench_garch);
criterion_main!(benches);
