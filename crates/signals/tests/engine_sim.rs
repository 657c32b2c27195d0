//! The signal engine end to end on generated four-market data (correlated daily bars,
//! daily curves, weekly inventory reports, an OPEC+ table), recorded into a SQLite history:
//! every source has a reading once warmed up, composites are consistent, the regime never
//! changes faster than its confirmation allows, and performance and P&L come back from the
//! database.

use crude_model::{Bar, ContractId, ContractMonth, CurvePoint, CurveSnapshot, InventoryReport, Market, Timestamp};
use crude_signals::{
    COMPOSITE_SOURCE, Direction, OpecTable, Regime, SignalEngine, SignalHistory, SignalSnapshot, SignalsConfig,
};

const DAY: i64 = 86_400;

/// Deterministic uniform noise in [-0.5, 0.5) (xorshift64).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

fn bar(i: i64, open: f64, close: f64, range: f64) -> Bar {
    Bar {
        start: Timestamp::from_secs(1_577_836_800 + i * DAY), // 2020-01-01
        open,
        high: open.max(close) + range,
        low: open.min(close) - range,
        close,
        volume: 5_000,
    }
}

fn curve(market: Market, ts: Timestamp, front: f64, slope: f64) -> CurveSnapshot {
    let m0 = ContractMonth::new(2020, 2).unwrap();
    CurveSnapshot {
        market,
        ts,
        points: (0..12)
            .map(|k| CurvePoint {
                contract: ContractId::new(market, m0.plus_months(k)),
                price: front + slope * k as f64,
            })
            .collect(),
    }
}

const OPEC: &str = "month,country,production_kbpd,quota_kbpd\n\
2019-11,A,10300,10000\n2019-11,B,4000,4100\n2019-12,A,10100,10000\n2019-12,B,4200,4100\n\
2020-01,A,10500,10000\n2020-01,B,4000,4100\n";

#[test]
fn four_markets_end_to_end_with_history() {
    let mut engine = SignalEngine::new(SignalsConfig::default()).unwrap();
    engine.set_opec_table(OpecTable::parse(OPEC, "generated").unwrap());
    let mut history = SignalHistory::open_in_memory().unwrap();
    let mut noise = Noise(0x1234_5678_9ABC_DEF1);
    let (mut wti, mut brent_gap, mut crack_rb, mut crack_ho) = (60.0, 4.0, 15.0, 25.0);
    let mut anchor = wti;
    let n = 300i64;
    let mut snaps: Vec<SignalSnapshot> = Vec::new();
    let mut regimes: Vec<Regime> = Vec::new();
    for i in 0..n {
        let ts = bar(i, 0.0, 0.0, 0.0).start;
        if i % 5 == 2 {
            let surprise = 3_000.0 * noise.next();
            engine.on_inventory(&InventoryReport {
                ts: ts.add_nanos(15 * 3_600 * 1_000_000_000),
                crude_change_kbbl: -500.0 + surprise,
                crude_consensus_kbbl: -500.0,
                gasoline_change_kbbl: 200.0 + 2_000.0 * noise.next(),
                gasoline_consensus_kbbl: 200.0,
                distillate_change_kbbl: -300.0 + 2_000.0 * noise.next(),
                distillate_consensus_kbbl: -300.0,
                crude_stocks_kbbl: 430_000.0 + 10.0 * i as f64,
            });
        }
        // A trend in the middle third, choppy mean reversion elsewhere.
        let trending = (100..200).contains(&i);
        if i == 200 {
            anchor = wti;
        }
        let drift = if trending { 0.35 } else { -0.4 * (wti - anchor) };
        let (w0, b0) = (wti, wti + brent_gap);
        let (r0, h0) = ((wti + crack_rb) / 42.0, (wti + crack_ho) / 42.0);
        wti += drift + 1.2 * noise.next();
        brent_gap += 0.1 * noise.next() - 0.02 * (brent_gap - 4.0);
        crack_rb += 0.4 * noise.next();
        crack_ho += 0.4 * noise.next();
        let prices = [
            (Market::Brent, b0, wti + brent_gap, 0.4),
            (Market::Rbob, r0, (wti + crack_rb) / 42.0, 0.01),
            (Market::HeatingOil, h0, (wti + crack_ho) / 42.0, 0.01),
            (Market::Wti, w0, wti, 0.4),
        ];
        for (market, open, close, range) in prices {
            engine.on_curve(&curve(market, ts, close, if i % 100 < 50 { -0.05 } else { 0.04 } * close / 60.0));
            let b = bar(i, open, close, range);
            match engine.on_bar(market, &b, i) {
                Some(s) => {
                    history.record(&s).unwrap();
                    if market == Market::Wti {
                        regimes.push(s.regime.regime);
                    }
                    snaps.push(s);
                }
                None => {
                    assert!(i < 15, "a snapshot on every bar after the ATR warm-up ({market} bar {i})");
                    history.record_price(market, b.start, b.close).unwrap();
                }
            }
        }
    }
    let max = SignalsConfig::default().risk.max_contracts;
    for s in &snaps {
        let c = &s.composite;
        assert!((0.0..=100.0).contains(&c.confidence) && (-1.0..=1.0).contains(&c.score));
        assert!((0..=max).contains(&c.size));
        match c.direction {
            Direction::Long => assert!(c.stop.unwrap() < s.close && c.target.unwrap() > s.close),
            Direction::Short => assert!(c.stop.unwrap() > s.close && c.target.unwrap() < s.close),
            Direction::Neutral => assert!(c.stop.is_none() && c.size == 0),
        }
        let applicable = if matches!(s.market, Market::Wti | Market::Brent) { 12 } else { 10 };
        assert_eq!(s.components.len(), applicable);
        let bar_index = (s.ts.secs() - 1_577_836_800) / DAY;
        if bar_index >= 150 {
            for comp in &s.components {
                assert!(comp.available, "{} bar {bar_index}: {} unavailable: {:?}", s.market, comp.source, comp.reason);
            }
            assert!((s.composite.coverage - 1.0).abs() < 1e-12);
        }
    }
    assert!(snaps.iter().any(|s| s.composite.direction == Direction::Long));
    assert!(snaps.iter().any(|s| s.composite.direction != Direction::Long));
    // Hysteresis: a regime, once entered, lasts at least `confirm_bars` bars.
    let confirm = SignalsConfig::default().regime.confirm_bars;
    let mut run = 0usize;
    let mut runs = Vec::new();
    for w in regimes.windows(2) {
        run += 1;
        if w[0] != w[1] {
            runs.push(run);
            run = 0;
        }
    }
    assert!(runs.len() >= 2, "the generated path changes regime: {runs:?}");
    assert!(runs[1..].iter().all(|r| *r >= confirm), "{runs:?}");
    assert!(regimes.contains(&Regime::Trending));

    // History: outcomes resolved, performance and P&L per market.
    let perf = history.performance(Some(Market::Wti)).unwrap();
    assert_eq!(perf[0].source, COMPOSITE_SOURCE);
    assert!(perf[0].signals > 20, "{:?}", perf[0]);
    assert!(perf[0].pending <= 25, "only the last horizon is still open: {:?}", perf[0]);
    assert_eq!(perf.len(), 13, "composite + 12 sources");
    for p in &perf {
        if let Some(h) = p.hit_rate {
            assert!((0.0..=1.0).contains(&h) && p.hits <= p.signals);
        }
    }
    let pnl = history.signal_pnl(Market::Wti).unwrap();
    assert_eq!(pnl.len(), (n - 14 - 1) as usize, "one point per bar after the first snapshot");
    let total: f64 = pnl.iter().map(|p| p.pnl_usd).sum();
    assert!((pnl.last().unwrap().cumulative_usd - total).abs() < 1e-6);
    let recent = history.recent(Market::Rbob, 3).unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0].components.len(), 10);
    assert!(engine.inventory().is_some() && engine.crack_321().is_some() && engine.wti_brent().is_some());
    assert!(engine.term_structure(Market::HeatingOil).unwrap().m1_m12.is_some());
}
