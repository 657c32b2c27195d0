//! The desktop app driven headlessly through egui_kittest (AccessKit): start on the
//! simulator, wait for quotes, read a WTI price off the quote board by its accessible
//! label, switch timeframe, open a curve.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use crude_app::{CrudeApp, UiState, ViewModelConfig};
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_feeds::{FeedBatch, FeedPoll, MarketFeed, SimFeed, Speed, spawn_feed};
use crude_model::{Clock, LiveClock, Market, MarketEvent, SeriesId, Timeframe, Timestamp};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use tokio::sync::mpsc;

/// Wednesday 2026-11-18 10:00 ET: the market is open.
fn start() -> Timestamp {
    Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
}

fn sim_feed(seed: u64) -> SimFeed {
    let cfg = SimConfig { seed, ..SimConfig::default() };
    SimFeed::new(MarketSimulator::new(cfg, start()).unwrap(), 1)
}

/// An app fed synchronously from a seeded simulator: history plus `secs` seconds of ticks.
fn app_with_sim(secs: i64) -> CrudeApp {
    let wall: Arc<dyn Clock> = Arc::new(LiveClock);
    let (tx, rx) = mpsc::channel::<FeedBatch>(1 << 16);
    let mut feed = sim_feed(7);
    let now = wall.now();
    let status = MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: now };
    tx.try_send(FeedBatch { events: vec![status].into(), sent_wall: now, history: false }).unwrap();
    for chunk in feed.initial_events().chunks(4096) {
        tx.try_send(FeedBatch { events: chunk.to_vec().into(), sent_wall: now, history: false }).unwrap();
    }
    let t0 = feed.start_time().unwrap();
    let mut out = Vec::new();
    assert_eq!(feed.poll(t0.add_nanos(secs * Timestamp::NANOS_PER_SEC), &mut out), FeedPoll::Pending);
    for chunk in out.chunks(4096) {
        tx.try_send(FeedBatch { events: chunk.to_vec().into(), sent_wall: now, history: false }).unwrap();
    }
    drop(tx);
    CrudeApp::new(ViewModelConfig::default(), Some(rx), wall, UiState::default(), "test".into())
}

fn harness(app: CrudeApp) -> Harness<'static, CrudeApp> {
    Harness::builder().with_size(egui::vec2(1600.0, 1000.0)).build_ui_state(|ui, app: &mut CrudeApp| app.ui(ui), app)
}

fn wti_front() -> String {
    Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap()).to_string()
}

#[test]
fn quote_board_shows_simulated_wti_price() {
    let mut h = harness(app_with_sim(30));
    h.run_steps(4);
    h.get_by_label("Data mode SIMULATED");
    let label = format!("{} last", wti_front());
    let node = h.get_by_label_contains(&label);
    let text = node.value().unwrap_or_default();
    let price: f64 = text.rsplit(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("no price in '{text}'"));
    assert!(price > 20.0 && price < 200.0, "implausible WTI price {price}");
    // The board agrees with the store.
    let q = h
        .state()
        .view_model()
        .quote(SeriesId::Contract(Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap())))
        .unwrap();
    assert_eq!(format!("{:.2}", q.last.unwrap()), format!("{price:.2}"));
    // History fills the chart: a session of one-minute bars for the front month.
    let front = SeriesId::Contract(Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap()));
    let m1 = h.state().view_model().bars(front, Timeframe::M1).map_or(0, |b| b.len());
    assert!(m1 > 1000, "only {m1} one-minute bars for {front}");
    // Every market has a row.
    for code in ["BZ", "RB", "HO"] {
        assert!(
            h.query_all_by_label_contains(" last ").any(|n| n.value().unwrap_or_default().starts_with(code)),
            "no {code} row"
        );
    }
}

#[test]
fn timeframe_switch_and_curve() {
    let mut h = harness(app_with_sim(120));
    h.run_steps(4);
    h.get_by_label("5m").click();
    h.run_steps(2);
    assert_eq!(h.state().ui_state().market.timeframe, Timeframe::M5);
    h.get_by_label("1D").click();
    h.run_steps(2);
    assert_eq!(h.state().ui_state().market.timeframe, Timeframe::D1);
    h.get_by_label("Curve BZ").click();
    h.run_steps(2);
    assert_eq!(h.state().ui_state().market.curve_market, Market::Brent);
    let shape = h.get_by_label_contains("BZ curve ").value().unwrap_or_default();
    assert!(["Contango", "Backwardation", "Flat"].iter().any(|s| shape.ends_with(s)), "curve label '{shape}'");
    // Spread tiles have values.
    let tile = h.get_by_label_contains("WTI-Brent spread").value().unwrap_or_default();
    assert!(!tile.ends_with('—'), "{tile}");
}

#[test]
fn live_feed_task_reaches_the_board() {
    // The real path: a tokio feed task paced at max speed, drained by the UI each frame.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let wall: Arc<dyn Clock> = Arc::new(LiveClock);
    let handle = spawn_feed(rt.handle(), Box::new(sim_feed(11)), Speed::Max, wall.clone(), Arc::new(|| {}), 64);
    let app = CrudeApp::new(ViewModelConfig::default(), Some(handle.events), wall, UiState::default(), "test".into());
    let mut h = harness(app);
    let label = format!("{} last", wti_front());
    let mut found = false;
    for _ in 0..3000 {
        h.step();
        if h.query_by_label_contains(&label).is_some() && h.state().view_model().stats.ticks_total > 100 {
            found = true;
            break;
        }
        std::thread::yield_now();
    }
    assert!(found, "no live WTI quote on the board");
    h.get_by_label("Feed: Simulated");
}

#[test]
fn replay_of_real_wti_history() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wti_daily_fred.csv");
    let file = crude_feeds::load_bar_file(&path).unwrap();
    let mut feed = crude_feeds::ReplayFeed::new(file, Market::Wti);
    let (tx, rx) = mpsc::channel::<FeedBatch>(1 << 16);
    let wall: Arc<dyn Clock> = Arc::new(LiveClock);
    let mut out = Vec::new();
    let t0 = feed.start_time().unwrap();
    // About two years of history.
    feed.poll(t0.add_nanos(730 * 86_400 * Timestamp::NANOS_PER_SEC), &mut out);
    tx.try_send(FeedBatch {
        events: vec![crude_model::MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: t0 }].into(),
        sent_wall: wall.now(),
        history: false,
    })
    .unwrap();
    tx.try_send(FeedBatch { events: out.into(), sent_wall: wall.now(), history: false }).unwrap();
    let mut app = CrudeApp::new(ViewModelConfig::default(), Some(rx), wall, UiState::default(), "replay".into());
    app.drain();
    let mut h = harness(app);
    h.run_steps(3);
    h.get_by_label("Data mode REPLAY");
    h.get_by_label("1D").click();
    h.run_steps(2);
    let last = h.get_by_label_contains("CL1 last").value().unwrap_or_default();
    assert!(last.ends_with(|c: char| c.is_ascii_digit()), "{last}");
    assert!(
        h.state().view_model().bars(SeriesId::Continuous { market: Market::Wti, nth: 1 }, Timeframe::D1).unwrap().len()
            > 400
    );
}
