//! CPU frame time of the Blotter panel with 100,000 fills, rendered through the kittest
//! harness (no GPU), goal p99 < 4 ms. Each frame first applies one new fill as the trading
//! worker sends it (a row appended with the new totals), as the live app does.
//!
//! Prints p50/p99/max over 1,000 frames, then a criterion measurement of the mean.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_app::{CrudeApp, PanelId, UiState, ViewModelConfig};
use crude_kernel::services::trading::{BlotterView, TradingStatus, TradingUpdate};
use crude_model::{ContractId, ContractMonth, Liquidity, LiveClock, Market, Side, Timestamp, trading_date};
use crude_trading::blotter::{BlotterLine, BlotterQuery, BlotterTotals};
use egui_kittest::Harness;

const ROWS: usize = 100_000;

struct Fills {
    strategies: Vec<Arc<str>>,
    contracts: Vec<ContractId>,
    i: u64,
}

impl Fills {
    fn new() -> Self {
        let mut contracts = Vec::new();
        for m in Market::ALL {
            for k in 0..3 {
                contracts.push(ContractId::new(
                    m,
                    ContractMonth::new(2027, 1).map(|c| c.plus_months(k)).expect("valid month"),
                ));
            }
        }
        Self {
            strategies: ["manual", "trend", "mean_reversion", "crack", "calendar"]
                .iter()
                .map(|s| Arc::from(*s))
                .collect(),
            contracts,
            i: 0,
        }
    }

    fn next(&mut self) -> BlotterLine {
        self.i += 1;
        let i = self.i;
        let contract = self.contracts[(i as usize * 7) % self.contracts.len()];
        let base = if contract.market.quoted_per_gallon() { 2.1 } else { 70.0 };
        let tick = if contract.market.quoted_per_gallon() { 0.0001 } else { 0.01 };
        let price = base + ((i * 13) % 400) as f64 * tick;
        // A fill every 20 s of market time, over about 23 days.
        let ts = Timestamp::from_secs(1_793_000_000 + i as i64 * 20);
        let side = if i.is_multiple_of(2) { Side::Buy } else { Side::Sell };
        BlotterLine {
            fill_id: i,
            order_id: i,
            client_order_id: Arc::from(format!("CRD-{i:06}").as_str()),
            ts,
            trading_date: trading_date(ts),
            contract,
            side,
            qty: 1 + (i % 5) as i64,
            price,
            commission_usd: 2.0,
            fees_usd: 1.5,
            liquidity: if i.is_multiple_of(3) { Liquidity::Maker } else { Liquidity::Taker },
            strategy: Arc::clone(&self.strategies[(i % 5) as usize]),
            arrival_price: Some(price - tick),
            slippage_usd: Some(tick * 1_000.0),
            realized_pnl_usd: if i % 2 == 1 { ((i % 11) as f64 - 5.0) * 100.0 } else { 0.0 },
        }
    }
}

fn setup() -> (Harness<'static, CrudeApp>, Fills, BlotterTotals) {
    let state = UiState { panel: PanelId::Blotter, ..UiState::default() };
    let mut app = CrudeApp::new(ViewModelConfig::default(), None, Arc::new(LiveClock), state, "bench".into());
    let mut fills = Fills::new();
    let lines: Vec<BlotterLine> = (0..ROWS).map(|_| fills.next()).collect();
    let totals = BlotterTotals::over(&lines);
    let view = BlotterView {
        query: BlotterQuery::default(),
        summary: totals.summary(),
        attribution: totals.attribution(),
        strategies: fills.strategies.iter().map(|s| s.to_string()).collect(),
        total_fills: lines.len(),
        lines,
        loaded: true,
    };
    let store = app.view_model_mut();
    store.apply_trading(TradingUpdate::Status(TradingStatus::Ready));
    store.apply_trading(TradingUpdate::Blotter(Box::new(view)));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut CrudeApp| app.ui(ui), app);
    harness.run_steps(5);
    (harness, fills, totals)
}

fn frame(h: &mut Harness<'static, CrudeApp>, fills: &mut Fills, totals: &mut BlotterTotals) {
    let line = fills.next();
    totals.add(&line);
    let u = TradingUpdate::BlotterAppend { line, summary: totals.summary(), attribution: totals.attribution() };
    h.state_mut().view_model_mut().apply_trading(u);
    h.step();
}

fn report_percentiles() {
    let (mut h, mut fills, mut totals) = setup();
    let mut ns: Vec<u128> = (0..1000)
        .map(|_| {
            let t = Instant::now();
            frame(&mut h, &mut fills, &mut totals);
            t.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    let ms = |i: usize| ns[i.min(ns.len() - 1)] as f64 / 1e6;
    println!(
        "blotter_frame: {} frames, {} blotter rows: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ns.len(),
        h.state().view_model().trading().blotter.lines.len(),
        ms(ns.len() / 2),
        ms(ns.len() * 99 / 100),
        ms(ns.len() - 1)
    );
}

fn bench(c: &mut Criterion) {
    report_percentiles();
    let (mut h, mut fills, mut totals) = setup();
    let mut g = c.benchmark_group("blotter_frame");
    g.sample_size(50);
    g.bench_function("frame_100k_fills", |b| b.iter(|| frame(&mut h, &mut fills, &mut totals)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
