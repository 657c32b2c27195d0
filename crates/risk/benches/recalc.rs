//! Benchmarks of the Risk panel's recalculation and of the pre-trade check:
//! - `risk_snapshot_24_positions_100k_paths`: [`RiskEngine::snapshot`] for 20 futures over
//!   the four markets and 4 options, 500 days of history on 16 contracts, 100,000 Monte
//!   Carlo paths, the 5 built-in stress scenarios and the sliders (goal < 150 ms);
//! - `pre_trade_check_20_positions`: one [`RiskPreTradeCheck::assess`] of a market order
//!   against a view of the 20 futures positions (goal: microseconds).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_model::{BookView, Market, OrderRequest, Position as TradedPosition, Side};
use crude_risk::{RiskEngine, RiskEngineConfig, Sliders};

#[path = "../tests/common/mod.rs"]
mod common;

fn engine() -> RiskEngine {
    let cfg = RiskEngineConfig::new(50_000_000.0);
    assert_eq!(cfg.portfolio.mc_paths, 100_000);
    RiskEngine::new(cfg, &common::history(750, 7)).expect("engine")
}

fn bench_snapshot(c: &mut Criterion) {
    let engine = engine();
    let book = common::book();
    let sliders = Sliders { shift_pct: [-5.0, -5.0, 0.0, 2.0], vol_shift_pct: 20.0 };
    let mut group = c.benchmark_group("risk_panel");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("risk_snapshot_24_positions_100k_paths", |b| {
        b.iter(|| engine.snapshot(black_box(&book), black_box(&sliders)).expect("snapshot"))
    });
    group.finish();
}

fn bench_pre_trade(c: &mut Criterion) {
    let check = engine().pre_trade_check();
    let mut marks = BTreeMap::new();
    let positions: Vec<TradedPosition> = common::book_positions()
        .into_iter()
        .filter(|p| !p.is_option())
        .map(|p| {
            let mut t = TradedPosition::flat(p.contract, None, p.multiplier);
            t.apply_fill(if p.qty > 0 { Side::Buy } else { Side::Sell }, p.qty.abs(), p.price, 0.0);
            t.set_mark(p.price);
            marks.insert(p.contract, p.price);
            t
        })
        .collect();
    let view = BookView { as_of: common::as_of(), positions, marks, ..BookView::default() };
    let order = OrderRequest::market(common::contract(Market::Wti, 1), Side::Buy, 5);
    c.bench_function("pre_trade_check_20_positions", |b| b.iter(|| check.assess(black_box(&order), black_box(&view))));
}

criterion_group!(benches, bench_snapshot, bench_pre_trade);
criterion_main!(benches);
