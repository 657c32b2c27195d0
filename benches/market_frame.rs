//! CPU frame time of the Market panel, rendered through the kittest harness (no GPU), with
//! 4 markets × 12 contracts live and a 1-minute chart holding 100,000 bars
//! (goal p99 < 4 ms). Each frame first applies a batch of new quotes and trades, as the
//! live app does.
//!
//! Prints p50/p99/max over 1,000 frames, then a criterion measurement of the mean.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_app::{CrudeApp, UiState, ViewModelConfig};
use crude_model::{
    Bar, ContractId, ContractMonth, CurvePoint, CurveSnapshot, LiveClock, Market, MarketEvent, Quote, SeriesId,
    Timeframe, Timestamp, Trade,
};
use egui_kittest::Harness;

const BARS: usize = 100_000;

fn contracts() -> Vec<ContractId> {
    let mut v = Vec::new();
    for m in Market::ALL {
        for i in 0..12 {
            v.push(ContractId::new(m, ContractMonth::new(2027, 1).map(|c| c.plus_months(i)).expect("valid month")));
        }
    }
    v
}

struct Live {
    cs: Vec<ContractId>,
    t: i64,
    i: usize,
}

impl Live {
    fn batch(&mut self) -> Vec<MarketEvent> {
        let mut out = Vec::with_capacity(96);
        for _ in 0..48 {
            let c = self.cs[self.i % self.cs.len()];
            self.i += 1;
            self.t += 20_000_000; // 20 ms of feed time per event
            let p = price(c.market) + ((self.i / 48) % 40) as f64 * tick(c.market);
            let ts = Timestamp(self.t);
            out.push(MarketEvent::Quote(Quote {
                contract: c,
                ts,
                bid: p,
                ask: p + tick(c.market),
                bid_size: 5,
                ask_size: 8,
            }));
            out.push(MarketEvent::Trade(Trade { contract: c, ts, price: p, size: 2 }));
        }
        out
    }
}

fn price(m: Market) -> f64 {
    match m {
        Market::Wti => 70.0,
        Market::Brent => 74.0,
        Market::Rbob => 2.1,
        Market::HeatingOil => 2.5,
    }
}

fn tick(m: Market) -> f64 {
    if m.quoted_per_gallon() { 0.0001 } else { 0.01 }
}

fn setup() -> (Harness<'static, CrudeApp>, Live) {
    let mut app = CrudeApp::new(
        ViewModelConfig { max_bars: BARS, ..ViewModelConfig::default() },
        None,
        Arc::new(LiveClock),
        UiState::default(),
        "bench".into(),
    );
    let cs = contracts();
    let t_end = 1_795_014_000i64 * 1_000_000_000;
    let t_start = t_end - BARS as i64 * 60_000_000_000;
    let store = app.view_model_mut();
    let wall = Timestamp(0);
    for m in Market::ALL {
        let points = cs
            .iter()
            .filter(|c| c.market == m)
            .enumerate()
            .map(|(i, c)| CurvePoint { contract: *c, price: price(m) + i as f64 * tick(m) * 10.0 })
            .collect();
        store.apply(&MarketEvent::Curve(CurveSnapshot { market: m, ts: Timestamp(t_start), points }), wall);
    }
    let front = SeriesId::Contract(cs[0]);
    for i in 0..BARS {
        let p = 70.0 + (i as f64 * 0.01).sin() * 5.0;
        let bar = Bar {
            start: Timestamp(t_start + i as i64 * 60_000_000_000),
            open: p,
            high: p + 0.1,
            low: p - 0.12,
            close: p + 0.03,
            volume: 100,
        };
        store.apply(&MarketEvent::Bar { series: front, timeframe: Timeframe::M1, bar }, wall);
    }
    let mut live = Live { cs, t: t_end, i: 0 };
    for _ in 0..10 {
        let b = live.batch();
        app.view_model_mut().apply_batch(&b, Timestamp(0), Timestamp(0));
    }
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut CrudeApp| app.ui(ui), app);
    harness.run_steps(5);
    (harness, live)
}

fn frame(h: &mut Harness<'static, CrudeApp>, live: &mut Live) {
    let b = live.batch();
    h.state_mut().view_model_mut().apply_batch(&b, Timestamp(0), Timestamp(0));
    h.step();
}

fn report_percentiles() {
    let (mut h, mut live) = setup();
    let chart_bars =
        h.state().view_model().bars(SeriesId::Contract(contracts()[0]), Timeframe::M1).map_or(0, |s| s.len());
    let mut ns: Vec<u128> = (0..1000)
        .map(|_| {
            let t = Instant::now();
            frame(&mut h, &mut live);
            t.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    let ms = |i: usize| ns[i.min(ns.len() - 1)] as f64 / 1e6;
    println!(
        "market_frame: {} frames, chart {} 1m bars, {} board series: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ns.len(),
        chart_bars,
        h.state().view_model().board().count(),
        ms(ns.len() / 2),
        ms(ns.len() * 99 / 100),
        ms(ns.len() - 1)
    );
}

fn bench(c: &mut Criterion) {
    report_percentiles();
    let (mut h, mut live) = setup();
    let mut g = c.benchmark_group("market_frame");
    g.sample_size(50);
    g.bench_function("frame_48_contracts_100k_bars", |b| b.iter(|| frame(&mut h, &mut live)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
