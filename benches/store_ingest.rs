//! Event ingestion into the state store: quote events per second on one core
//! (goal ≥ 1,000,000/s), and trades (which also build bars at five timeframes).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crude_app::{ViewModel, ViewModelConfig};
use crude_model::{ContractId, ContractMonth, CurvePoint, CurveSnapshot, Market, MarketEvent, Quote, Timestamp, Trade};
use std::hint::black_box;

const N: usize = 1_000_000;

fn contracts() -> Vec<ContractId> {
    let mut v = Vec::new();
    for m in Market::ALL {
        for i in 0..12 {
            let month = ContractMonth::new(2027, 1).map(|c| c.plus_months(i)).expect("valid month");
            v.push(ContractId::new(m, month));
        }
    }
    v
}

fn events(trades: bool) -> Vec<MarketEvent> {
    let cs = contracts();
    let t0 = 1_795_014_000i64 * 1_000_000_000; // a Wednesday, 10:00 ET
    (0..N)
        .map(|i| {
            let c = cs[i % cs.len()];
            let ts = Timestamp(t0 + i as i64 * 1_000_000); // 1,000 events per simulated second
            let p = 70.0 + ((i / 48) % 200) as f64 * 0.01;
            if trades {
                MarketEvent::Trade(Trade { contract: c, ts, price: p, size: 1 + (i % 5) as u32 })
            } else {
                MarketEvent::Quote(Quote { contract: c, ts, bid: p, ask: p + 0.01, bid_size: 5, ask_size: 7 })
            }
        })
        .collect()
}

fn store_with_curves() -> ViewModel {
    let mut s = ViewModel::new(ViewModelConfig::default());
    let cs = contracts();
    for m in Market::ALL {
        let points = cs.iter().filter(|c| c.market == m).map(|c| CurvePoint { contract: *c, price: 70.0 }).collect();
        s.apply(&MarketEvent::Curve(CurveSnapshot { market: m, ts: Timestamp(0), points }), Timestamp(0));
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("store_ingest");
    g.sample_size(10);
    for (name, trades) in [("quotes", false), ("trades", true)] {
        let evs = events(trades);
        g.throughput(Throughput::Elements(N as u64));
        g.bench_with_input(BenchmarkId::new(name, N), &evs, |b, evs| {
            b.iter_batched_ref(
                store_with_curves,
                |store| {
                    let wall = Timestamp(0);
                    for e in evs {
                        store.apply(black_box(e), wall);
                    }
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
