//! The Signals panel driven headlessly through egui_kittest (AccessKit), drawn from a
//! [`SignalsView`] that the real signals worker filled: from the real WTI daily series
//! (`data/wti_daily_fred.csv`, replayed as the replay feed sends it) checked against the
//! signal engine run directly on the same bars, and from a seeded simulator for all four
//! markets. A bad `signals.yaml` shows its error, naming the field, in the panel.
//!
//! The worker runs on its own thread over a temporary history file; the tests wait on its
//! repaint notifier (bounded), never on wall-clock sleeps.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeZone;
use chrono_tz::America::New_York;
use crude_app::panels::positions::usd_signed;
use crude_app::panels::signals::{SignalsPanelState, show};
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_feeds::{FeedBatch, FeedPoll, MarketFeed, ReplayFeed, SimFeed, load_bar_file};
use crude_kernel::services::signals::{SignalsService, SignalsServiceConfig, SignalsStatus, SignalsView};
use crude_model::{LiveClock, Market, MarketEvent, Timestamp};
use crude_signals::{BarFields, SignalEngine, SignalSnapshot, SignalsConfig};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use tokio::sync::mpsc;

/// The repository root (for `data/` and `config/`).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the signals worker over `batches` (then ends the feed) and returns the view once
/// the feed has ended and `done` holds.
fn run_worker(batches: Vec<FeedBatch>, done: impl Fn(&SignalsView) -> bool) -> SignalsView {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SignalsServiceConfig::new(SignalsConfig::default(), dir.path().join("signals.db"), Arc::new(LiveClock))
        .unwrap();
    let (tx, rx) = mpsc::channel(batches.len() + 1);
    let (wtx, woke) = std::sync::mpsc::channel();
    let wtx = std::sync::Mutex::new(wtx);
    let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        let _ = wtx.lock().map(|t| t.send(()));
    });
    let mut handle = SignalsService::spawn(cfg, rx, notify).unwrap();
    for b in batches {
        tx.try_send(b).unwrap();
    }
    drop(tx);
    let mut view = SignalsView::default();
    for _ in 0..4_000 {
        handle.drain(&mut view);
        if view.info.status == SignalsStatus::FeedEnded && done(&view) {
            handle.shutdown();
            return view;
        }
        let _ = woke.recv_timeout(Duration::from_secs(10));
    }
    panic!("the signals worker did not finish; info: {:?}", view.info);
}

fn harness(view: SignalsView) -> Harness<'static, (SignalsView, SignalsPanelState)> {
    Harness::builder().with_size(egui::vec2(1600.0, 1400.0)).build_ui_state(
        |ui, (view, state): &mut (SignalsView, SignalsPanelState)| show(ui, view, state),
        (view, SignalsPanelState::default()),
    )
}

/// The last 500 sessions of the real WTI daily series, as the replay feed sends them.
fn wti_replay() -> (Vec<FeedBatch>, Vec<crude_model::Bar>) {
    let mut file = load_bar_file(&repo().join("data/wti_daily_fred.csv")).unwrap();
    let n = file.bars.len();
    file.bars.drain(..n - 500);
    let bars: Vec<crude_model::Bar> = file.bars.iter().map(|b| b.bar).collect();
    let mut feed = ReplayFeed::new(file, Market::Wti);
    let mut events = vec![MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: Timestamp(0) }];
    while feed.poll(Timestamp(i64::MAX), &mut events) == FeedPoll::Pending {}
    let batches = events
        .chunks(64)
        .map(|c| FeedBatch { events: c.to_vec().into(), sent_wall: Timestamp(0), history: false })
        .collect();
    (batches, bars)
}

/// The engine run directly on `bars` (closes only, as the file has no high/low).
fn engine_on(bars: &[crude_model::Bar]) -> SignalSnapshot {
    let mut e = SignalEngine::new(SignalsConfig::default()).unwrap();
    e.set_bar_fields(Market::Wti, BarFields::CloseOnly);
    let mut last = None;
    for (i, b) in bars.iter().enumerate() {
        last = e.on_bar(Market::Wti, b, i as i64).or(last);
    }
    last.unwrap()
}

#[test]
fn real_wti_series_card_shows_the_engines_composite_and_components() {
    let (batches, bars) = wti_replay();
    let want = engine_on(&bars);
    let view = run_worker(batches, |v| v.market(Market::Wti).bars == 500 && !v.market(Market::Wti).pnl.is_empty());
    let cl = view.market(Market::Wti).clone();
    let mut h = harness(view);
    h.run();

    // The composite card: direction, confidence, horizon, stop/target/size, regime.
    let c = want.composite;
    h.get_by_label(&format!("CL composite {}", c.direction.label()));
    h.get_by_label(&format!("CL confidence {:.0}", c.confidence));
    h.get_by_label(&format!("CL horizon {} bars", c.horizon_bars));
    h.get_by_label(&format!("CL size {}", c.size));
    h.get_by_label(&format!("CL stop {}", c.stop.map_or("—".to_string(), |s| format!("{s:.2}"))));
    h.get_by_label("CL regime unknown"); // closes only: no ADX
    h.get_by_label("Signals data REPLAY");
    h.get_by_label("Signals timeframe 1D");
    let last = bars.last().unwrap();
    assert_eq!(want.ts, last.start);
    h.get_by_label_contains("CL last update 2019-");
    // Markets without data say so.
    for code in ["BZ", "RB", "HO"] {
        h.get_by_label(&format!("{code} waiting for market data"));
    }

    // CL is selected: every contributing signal with its direction, confidence and weight.
    h.get_by_label("Signals details CL");
    assert_eq!(want.components.len(), 12);
    for comp in &want.components {
        let name = comp.source.name();
        h.get_by_label(&format!("CL {name} {}", comp.direction.label()));
        h.get_by_label(&format!("CL {name} confidence {:.0}", comp.confidence));
        h.get_by_label(&format!("CL {name} weight {:.3}", comp.weight));
        if comp.available {
            h.get_by_label(&format!("CL {name} available"));
        } else {
            h.get_by_label(&format!("CL {name} unavailable: {}", comp.reason.as_deref().unwrap()));
        }
    }
    h.get_by_label("CL adx_trend unavailable: needs bar highs and lows; the input has closes only");

    // Performance per source from the history, and the P&L chart.
    let comp_perf = &cl.performance[0];
    assert_eq!(comp_perf.source, "composite");
    assert!(comp_perf.signals > 0, "500 sessions resolve composites");
    h.get_by_label(&format!("CL perf composite signals {}", comp_perf.signals));
    h.get_by_label(&format!("CL perf composite hit rate {:.1}%", 100.0 * comp_perf.hit_rate.unwrap()));
    h.get_by_label(&format!("CL perf composite avg return {:+.3}%", 100.0 * comp_perf.avg_forward_return.unwrap()));
    h.get_by_label_contains("CL perf momentum profit factor");
    h.get_by_label(&format!("CL signal P&L chart {} points", cl.pnl.len()));
    assert_eq!(cl.pnl.len(), 500 - 15, "one P&L point per bar after the first composite");
    h.get_by_label(&format!("CL cumulative signal P&L {}", usd_signed(cl.pnl_total_usd.unwrap())));
    // The history table lists the latest composite first.
    h.get_by_label(&format!("CL history {} {}", last.start.date_utc().format("%Y-%m-%d"), c.direction.label()));
}

/// Wednesday 2026-11-18 10:00 ET: the market is open.
fn start() -> Timestamp {
    Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
}

fn simulated_view() -> SignalsView {
    let mut feed =
        SimFeed::new(MarketSimulator::new(SimConfig { seed: 7, ..SimConfig::default() }, start()).unwrap(), 1);
    let mut batches = vec![FeedBatch {
        events: vec![MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: start() }].into(),
        sent_wall: Timestamp(0),
        history: true,
    }];
    for c in feed.initial_events().chunks(4096) {
        batches.push(FeedBatch { events: c.to_vec().into(), sent_wall: Timestamp(0), history: true });
    }
    let t = feed.next_event_time().unwrap().add_nanos(10 * 60 * Timestamp::NANOS_PER_SEC);
    let mut live = Vec::new();
    while feed.next_event_time().is_some_and(|n| n <= t) {
        assert_eq!(feed.poll(t, &mut live), FeedPoll::Pending);
    }
    for c in live.chunks(4096) {
        batches.push(FeedBatch { events: c.to_vec().into(), sent_wall: Timestamp(0), history: false });
    }
    run_worker(batches, |v| v.markets.iter().all(|m| m.snapshot.is_some() && !m.performance.is_empty()))
}

#[test]
fn selecting_a_market_shows_its_contributing_signals() {
    let view = simulated_view();
    let snaps: Vec<SignalSnapshot> = Market::ALL.iter().map(|m| view.market(*m).snapshot.clone().unwrap()).collect();
    let mut h = harness(view);
    h.run();
    h.get_by_label("Signals data SIMULATED");
    h.get_by_label("Signals timeframe 5m");
    // Every market's card shows its composite.
    for s in &snaps {
        let code = s.market.code();
        h.get_by_label(&format!("{code} composite {}", s.composite.direction.label()));
        h.get_by_label(&format!("{code} confidence {:.0}", s.composite.confidence));
        h.get_by_label(&format!("{code} regime {}", s.regime.regime.label()));
        h.get_by_label(&format!("{code} squeeze {}", if s.regime.squeeze { "on" } else { "off" }));
    }
    // CL's details first.
    h.get_by_label("Signals details CL");
    assert!(h.query_by_label_contains("CL ma_crossover confidence").is_some());
    assert!(h.query_by_label_contains("RB ma_crossover confidence").is_none());

    // Select RB: its components replace CL's; RB has no WTI-Brent or OPEC+ source.
    h.get_by_label("Signals market RB").click();
    h.run();
    assert_eq!(h.state().1.market, Market::Rbob);
    h.get_by_label("Signals details RB");
    let rb = &snaps[Market::Rbob.index()];
    assert_eq!(rb.components.len(), 10);
    for comp in &rb.components {
        let name = comp.source.name();
        h.get_by_label(&format!("RB {name} {}", comp.direction.label()));
        h.get_by_label(&format!("RB {name} weight {:.3}", comp.weight));
    }
    assert!(h.query_by_label_contains("CL ma_crossover confidence").is_none());
    assert!(h.query_by_label_contains("RB wti_brent_spread").is_none());
    h.get_by_label_contains("RB perf composite hit rate");
    h.get_by_label_contains("RB signal P&L chart");

    // Frame time of the panel with the four markets' data (measured, not asserted): the
    // fastest of 30 frames, against an empty panel in the same harness setup.
    let best = |h: &mut Harness<'static, (SignalsView, SignalsPanelState)>| {
        (0..30)
            .map(|_| {
                let t0 = Instant::now();
                h.step();
                t0.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::MAX, f64::min)
    };
    let full = best(&mut h);
    let empty = best(&mut harness(SignalsView::default()));
    eprintln!("signals panel frame (kittest, fastest of 30): {full:.2} ms with data, {empty:.2} ms empty");
}

#[test]
fn a_bad_config_shows_its_field_in_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(repo().join("config/signals.yaml")).unwrap().replacen(
        "entry_threshold: 0.2",
        "entry_threshold: 1.5",
        1,
    );
    let path = dir.path().join("signals.yaml");
    std::fs::write(&path, yaml).unwrap();
    let err = SignalsServiceConfig::load(&path, dir.path().join("s.db"), Arc::new(LiveClock)).unwrap_err();
    let mut h = harness(SignalsView::failed(&err));
    h.run();
    h.get_by_label_contains("Signals error");
    h.get_by_label_contains("entry 'aggregation', field 'entry_threshold'");
    // No cards are drawn from a worker that did not start.
    assert!(h.query_by_label_contains("CL composite").is_none());
}
