//! Trading benches.
//!
//! * `submit_fill_commit/{full,normal}`: one market order submitted to a durable session
//!   with the paper broker (acknowledgement latency 0) → acknowledged → filled against the
//!   current quote → all three events committed (one transaction each), with
//!   `synchronous=FULL` and `NORMAL`. Before criterion runs, the bench also times each
//!   iteration individually and prints p50 / p90 / p99 / max, since the goal is a p99.
//! * `position_tick_1000`: 1,000 positions (25 strategies × 40 contract months); one price
//!   tick marks the positions of its contract and the P&L summary (totals, by strategy, by
//!   market, day P&L) is recomputed over all 1,000. Also the same tick through the whole
//!   engine (broker, marks, circuit-breaker check) and a curve tick re-marking all 40
//!   contracts.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_model::{
    ContractId, ContractMonth, Fill, Instruments, Liquidity, Market, MarketEvent, OrderRequest, Quote, Side, Timestamp,
};
use crude_store::{Durability, Store, StoreOptions};
use crude_trading::{Engine, EngineEvent, PositionKeeper, SlippageModel, TradingConfig, TradingSession};

/// Monday 2026-11-23 15:00 UTC.
const T0_MS: i64 = 1_795_446_000_000;

fn clf7() -> ContractId {
    ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap())
}

fn quote(c: ContractId, ts: Timestamp, bid: f64) -> MarketEvent {
    MarketEvent::Quote(Quote { contract: c, ts, bid, ask: bid + 0.02, bid_size: 1_000, ask_size: 1_000 })
}

fn session(dir: &std::path::Path, durability: Durability) -> TradingSession {
    let mut cfg = TradingConfig::default();
    cfg.broker.ack_latency_ms = 0;
    cfg.broker.slippage = SlippageModel::FixedTicks { ticks: 1 };
    // Every round trip pays the spread and costs; tens of thousands of them would trip the
    // daily-loss circuit breaker, which is not what this bench measures.
    cfg.limits.max_daily_loss_usd = 1e15;
    let store =
        Store::open_with(&dir.join("bench.db"), &StoreOptions { durability, ..StoreOptions::default() }).unwrap();
    let mut s = TradingSession::open(
        store,
        Engine::paper(cfg, Instruments::builtin().unwrap()),
        Timestamp::from_millis(T0_MS),
        &mut |_| {},
    )
    .unwrap();
    s.on_market(&quote(clf7(), Timestamp::from_millis(T0_MS), 71.20), &mut |_| {}).unwrap();
    s
}

/// A new quote (its size changes, so the paper broker displays fresh size).
fn fresh_quote(s: &mut TradingSession, i: u64) {
    let ts = Timestamp::from_millis(T0_MS + 1 + i as i64);
    let q = Quote {
        contract: clf7(),
        ts,
        bid: 71.20,
        ask: 71.22,
        bid_size: 1_000 + (i % 2) as u32,
        ask_size: 1_000 + (i % 2) as u32,
    };
    s.on_market(&MarketEvent::Quote(q), &mut |_| {}).unwrap();
}

/// Submit → fill → commit once; alternating sides keeps the position inside its limits.
fn round_trip(s: &mut TradingSession, i: u64) {
    fresh_quote(s, i);
    let side = if i.is_multiple_of(2) { Side::Buy } else { Side::Sell };
    let mut fills = 0;
    s.submit(OrderRequest::market(clf7(), side, 1), &mut |e| {
        if matches!(e, EngineEvent::Fill { .. }) {
            fills += 1;
        }
    })
    .unwrap();
    assert_eq!(fills, 1, "the market order must fill at once");
}

fn percentiles(label: &str, durability: Durability, n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), durability);
    for i in 0..20 {
        round_trip(&mut s, i);
    }
    let mut lat = Vec::with_capacity(n as usize);
    for i in 20..20 + n {
        fresh_quote(&mut s, i);
        let side = if i.is_multiple_of(2) { Side::Buy } else { Side::Sell };
        let t = Instant::now();
        s.submit(OrderRequest::market(clf7(), side, 1), &mut |_| {}).unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{label}: submit -> fill -> durable commit (3 transactions), n = {n}: p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, max {:.0} us",
        q(0.5),
        q(0.9),
        q(0.99),
        lat[lat.len() - 1]
    );
}

fn bench_submit(c: &mut Criterion) {
    percentiles("synchronous=FULL", Durability::Full, 400);
    percentiles("synchronous=NORMAL", Durability::Normal, 4_000);
    let mut g = c.benchmark_group("submit_fill_commit");
    for (name, d) in [("full", Durability::Full), ("normal", Durability::Normal)] {
        let dir = tempfile::tempdir().unwrap();
        let mut s = session(dir.path(), d);
        let mut i = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                round_trip(&mut s, i);
                i += 1;
            })
        });
    }
    g.finish();
}

/// 1,000 strategy positions over 40 contracts (10 months of each market).
fn keeper() -> (PositionKeeper, Vec<ContractId>) {
    let inst = Instruments::builtin().unwrap();
    let mut contracts = Vec::new();
    for m in Market::ALL {
        for k in 0..10 {
            contracts.push(ContractId::new(m, ContractMonth::new(2027, 1).unwrap().plus_months(k)));
        }
    }
    let mut k = PositionKeeper::new(&inst);
    let mut id = 0;
    for s in 0..25 {
        for (ci, &c) in contracts.iter().enumerate() {
            let price = if c.market.quoted_per_gallon() { 2.2 } else { 72.0 };
            for (side, qty) in [(Side::Buy, 3 + (s + ci) as i64 % 5), (Side::Sell, 1)] {
                id += 1;
                k.apply_fill(&Fill {
                    fill_id: id,
                    order_id: id,
                    contract: c,
                    side,
                    qty,
                    price,
                    ts: Timestamp::from_millis(T0_MS),
                    commission_usd: 2.0,
                    fees_usd: 1.5,
                    liquidity: Liquidity::Taker,
                    strategy: format!("strategy-{s:02}"),
                });
            }
        }
    }
    assert_eq!(k.strategy_positions().len(), 1_000);
    (k, contracts)
}

fn bench_positions(c: &mut Criterion) {
    let (mut k, contracts) = keeper();
    let mut g = c.benchmark_group("position_tick_1000");
    let mut i = 0u64;
    g.bench_function("mark_one_contract_and_summary", |b| {
        b.iter(|| {
            i += 1;
            let ct = contracts[(i % 40) as usize];
            let px = if ct.market.quoted_per_gallon() {
                2.2 + (i % 7) as f64 * 0.0001
            } else {
                72.0 + (i % 7) as f64 * 0.01
            };
            k.mark(ct, px);
            black_box(k.summary());
        })
    });
    g.bench_function("mark_all_40_contracts_and_summary", |b| {
        b.iter(|| {
            i += 1;
            for ct in &contracts {
                let px = if ct.market.quoted_per_gallon() { 2.2 } else { 72.0 } + (i % 5) as f64 * 0.01;
                k.mark(*ct, px);
            }
            black_box(k.summary());
        })
    });
    // The same tick through the engine: broker matching (no orders), marks, the breaker.
    let mut e = Engine::paper(TradingConfig::default(), Instruments::builtin().unwrap());
    let fills: Vec<Fill> = {
        let mut v = Vec::new();
        let mut id = 0;
        for s in 0..25 {
            for &ct in &contracts {
                id += 1;
                let price = if ct.market.quoted_per_gallon() { 2.2 } else { 72.0 };
                v.push(Fill {
                    fill_id: id,
                    order_id: id,
                    contract: ct,
                    side: Side::Buy,
                    qty: 2,
                    price,
                    ts: Timestamp::from_millis(T0_MS),
                    commission_usd: 2.0,
                    fees_usd: 1.5,
                    liquidity: Liquidity::Taker,
                    strategy: format!("strategy-{s:02}"),
                });
            }
        }
        v
    };
    e.restore(crude_trading::Recovery { fills, ..Default::default() }, Timestamp::from_millis(T0_MS));
    assert_eq!(e.position_keeper().strategy_positions().len(), 1_000);
    let mut t = T0_MS;
    g.bench_function("engine_on_quote_and_summary", |b| {
        b.iter(|| {
            t += 1;
            let ct = contracts[(t % 40) as usize];
            let px = if ct.market.quoted_per_gallon() { 2.2 } else { 72.0 };
            e.on_market(&quote(ct, Timestamp::from_millis(t), px));
            black_box(e.summary());
        })
    });
    g.finish();
}

criterion_group!(benches, bench_submit, bench_positions);
criterion_main!(benches);
