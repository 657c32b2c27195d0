//! The Curve & Spreads panel driven headlessly through egui_kittest (AccessKit), drawing a
//! view filled by the real curve worker on its own thread: the metrics table shows the
//! values `crude_analytics` computes for the same curves, the spread table lists M1-M2 to
//! M1-M12, the market and crack selectors switch what is shown, the inventory bars and the
//! "simulated history" label are there, and a negative front month is shown, not hidden.
//!
//! Market data comes from the seeded simulator (its daily model through `simulate_daily`,
//! or its feed with warm-up history), sent on the worker's tap as the feed fan-out does.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use crude_analytics::{
    CrackRatio, CurveState, TermStructureConfig, calendar_spread, term_structure_history, week_ending_for_release,
};
use crude_app::panels::curve::{CurvePanelState, show};
use crude_feeds::sim::{MarketSimulator, SimConfig, simulate_daily};
use crude_feeds::{FeedBatch, FeedPoll, MarketFeed, SimFeed};
use crude_kernel::services::curve::{
    CrackKind, CurveHandle, CurveHistorySource, CurveService, CurveServiceConfig, CurveView, HistoryStatus,
};
use crude_model::{CurvePoint, CurveSnapshot, LiveClock, Market, MarketEvent, Timestamp, session_bounds, trading_date};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use tokio::sync::mpsc;

type State = (CurveView, CurvePanelState);

struct Rig {
    handle: CurveHandle,
    tx: mpsc::Sender<FeedBatch>,
    woke: std::sync::mpsc::Receiver<()>,
    view: CurveView,
}

impl Rig {
    fn new(config: CurveServiceConfig) -> Self {
        let (tx, rx) = mpsc::channel(1 << 12);
        let (wtx, woke) = std::sync::mpsc::channel::<()>();
        let wtx = std::sync::Mutex::new(wtx);
        let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            let _ = wtx.lock().map(|t| t.send(()));
        });
        let handle = CurveService::spawn(config, rx, notify).unwrap();
        Rig { handle, tx, woke, view: CurveView::default() }
    }

    fn send(&self, events: Vec<MarketEvent>, history: bool) {
        for c in events.chunks(4096) {
            self.tx.try_send(FeedBatch { events: c.to_vec().into(), sent_wall: Timestamp(0), history }).unwrap();
        }
    }

    /// Drains updates until `pred` holds (each wait bounded by the worker's notify).
    fn until(&mut self, what: &str, pred: impl Fn(&CurveView) -> bool) {
        for _ in 0..2_000 {
            self.handle.drain(&mut self.view);
            if pred(&self.view) {
                return;
            }
            let _ = self.woke.recv_timeout(Duration::from_secs(10));
        }
        panic!("timed out waiting for {what}: {:?} {:?} {:?}", self.view.status, self.view.history, self.view.errors);
    }

    fn harness(mut self, state: CurvePanelState) -> Harness<'static, State> {
        let view = self.view.clone();
        self.handle.shutdown();
        Harness::builder()
            .with_size(egui::vec2(1500.0, 950.0))
            .build_ui_state(|ui, s: &mut State| show(ui, &s.0, &mut s.1), (view, state))
    }
}

fn config(history: CurveHistorySource) -> CurveServiceConfig {
    let mut c = CurveServiceConfig::new(history, Arc::new(LiveClock));
    c.min_update_interval_ms = 0;
    c
}

/// The accessible label of the single node whose label starts with `prefix`.
fn label(h: &Harness<'static, State>, prefix: &str) -> String {
    find(h, prefix, |_| true)
}

/// The accessible label `prefix` + one figure (`CL M1-M2 -0.42`, not `CL M1-M2 percentile 35`).
fn value_label(h: &Harness<'static, State>, prefix: &str) -> String {
    find(h, prefix, |rest| !rest.trim().is_empty() && !rest.trim().contains(' '))
}

fn find(h: &Harness<'static, State>, prefix: &str, rest_ok: impl Fn(&str) -> bool) -> String {
    // AccessKit keeps a label's text in `value` (other roles: in `label`).
    let nodes: Vec<String> = h
        .query_all_by_label_contains(prefix)
        .filter_map(|n| if n.accesskit_node().role() == Role::Label { n.value() } else { n.accesskit_node().label() })
        .collect();
    let hits: Vec<&String> = nodes.iter().filter(|l| l.strip_prefix(prefix).is_some_and(&rest_ok)).collect();
    assert_eq!(hits.len(), 1, "labels starting with '{prefix}': {nodes:?}");
    hits[0].clone()
}

/// Daily settlement curves of the simulator's daily model, as feed events.
fn daily_curves(seed: u64, start: NaiveDate, days: usize) -> Vec<CurveSnapshot> {
    let sim = simulate_daily(&SimConfig { seed, ..SimConfig::default() }, start, days).unwrap();
    sim.curves
        .iter()
        .map(|c| CurveSnapshot {
            market: c.market,
            ts: session_bounds(c.date).1.add_nanos(-1_000_000),
            points: c
                .contracts
                .iter()
                .zip(&c.settlements)
                .map(|(&contract, &price)| CurvePoint { contract, price })
                .collect(),
        })
        .collect()
}

#[test]
fn metrics_and_spread_tables_show_the_analytics_values() {
    let mut cfg = config(CurveHistorySource::None);
    cfg.engine.term_structure.lookback = 60;
    let ts_cfg = cfg.term_config(Market::Wti);
    let curves = daily_curves(5, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), 81);
    let (history, live) = curves.split_at(curves.len() - 4);
    let mut rig = Rig::new(cfg);
    rig.send(history.iter().cloned().map(MarketEvent::Curve).collect(), true);
    rig.send(live.iter().cloned().map(MarketEvent::Curve).collect(), false);
    let last_date = trading_date(live[0].ts);
    rig.until("the live curves", |v| {
        v.data.as_ref().is_some_and(|d| d.markets.len() == 4 && d.markets.iter().all(|m| m.current.date == last_date))
    });
    let mut h = rig.harness(CurvePanelState::default());
    h.run_steps(3);

    // What crude_analytics computes for the same daily curves.
    let cl: Vec<CurveSnapshot> = curves.iter().filter(|c| c.market == Market::Wti).cloned().collect();
    let row = *term_structure_history(&cl, &ts_cfg).unwrap().last().unwrap();
    let (m, p) = (row.metrics, row.percentiles);
    let rows = [
        ("M1-M2", m.m1_m2, p.m1_m2, 2),
        ("M1-M3", m.m1_m3, p.m1_m3, 2),
        ("M1-M6", m.m1_m6, p.m1_m6, 2),
        ("M1-M12", m.m1_m12, p.m1_m12, 2),
        ("slope", m.slope_per_month, p.slope_per_month, 4),
        ("curvature", m.curvature_per_month, p.curvature_per_month, 4),
    ];
    for (name, value, pct, dp) in rows {
        let v = value.unwrap();
        assert_eq!(value_label(&h, &format!("CL {name} ")), format!("CL {name} {v:.dp$}"));
        let pct = pct.unwrap();
        assert!((0.0..=100.0).contains(&pct));
        assert_eq!(value_label(&h, &format!("CL {name} percentile ")), format!("CL {name} percentile {pct:.0}"));
    }
    let ry = m.roll_yield_annual.unwrap();
    assert_eq!(value_label(&h, "CL roll yield "), format!("CL roll yield {:+.1}%", ry * 100.0));
    let state = match m.state.unwrap() {
        CurveState::Backwardation => "Backwardation",
        CurveState::Neutral => "Neutral",
        CurveState::Contango => "Contango",
    };
    h.get_by_label(&format!("CL structure {state}"));

    // The spread table: M1-M2 .. M1-M12 with the calendar spreads of the current curve.
    let current = cl.last().unwrap();
    for far in 2..=12 {
        let v = calendar_spread(&current.points, 1, far).unwrap();
        assert_eq!(value_label(&h, &format!("CL spread M1-M{far} ")), format!("CL spread M1-M{far} {v:.2}"));
        let pct = value_label(&h, &format!("CL spread M1-M{far} percentile "));
        let pct: f64 = pct.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((0.0..=100.0).contains(&pct));
        value_label(&h, &format!("CL spread M1-M{far} 1w change "));
    }
    assert_eq!(
        value_label(&h, "CL spread M1-M2 percentile "),
        format!("CL spread M1-M2 percentile {:.0}", p.m1_m2.unwrap()),
        "the spread table ranks M1-M2 as the metrics table does"
    );
    assert!(h.query_by_label_contains("CL spread M1-M13").is_none());

    // The market selector switches every table to Brent.
    h.get_by_label("Curve & Spreads BZ").click();
    h.run_steps(3);
    assert_eq!(h.state().1.market, Market::Brent);
    let bz: Vec<CurveSnapshot> = curves.iter().filter(|c| c.market == Market::Brent).cloned().collect();
    let bz_row = *term_structure_history(&bz, &ts_cfg).unwrap().last().unwrap();
    assert_eq!(value_label(&h, "BZ M1-M2 "), format!("BZ M1-M2 {:.2}", bz_row.metrics.m1_m2.unwrap()));
    assert!(h.query_by_label_contains("CL M1-M2").is_none());
    h.get_by_label("History: none: feed data only");
}

/// Wednesday 2026-11-18 10:00 ET: the market is open.
fn live_start() -> Timestamp {
    Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
}

#[test]
fn crack_selector_history_label_and_inventory_bars() {
    let sim = SimConfig { seed: 9, ..SimConfig::default() };
    // Two years of simulated history: this ISO week has two prior years, enough for a band.
    let mut rig = Rig::new(config(CurveHistorySource::simulated(sim.clone(), 2)));
    let mut feed = SimFeed::new(MarketSimulator::new(sim, live_start()).unwrap(), 6);
    let history = feed.initial_events();
    let mut live = Vec::new();
    let t = feed.next_event_time().unwrap().add_nanos(20 * Timestamp::NANOS_PER_SEC);
    assert_eq!(feed.poll(t, &mut live), FeedPoll::Pending);
    rig.send(history.clone(), true);
    rig.send(live.clone(), false);
    let today = trading_date(live_start());
    rig.until("history and live cracks", |v| {
        matches!(v.history, HistoryStatus::Loaded(_))
            && v.data.as_ref().is_some_and(|d| {
                d.crack(CrackKind::ThreeTwoOne).is_some_and(|c| c.latest.is_some_and(|(dt, _)| dt == today))
            })
    });
    // The latest front months the worker saw, from the events sent.
    let front = |m: Market| {
        history
            .iter()
            .chain(&live)
            .filter_map(|e| match e {
                MarketEvent::Curve(c) if c.market == m => Some(c.points[0].price),
                _ => None,
            })
            .next_back()
            .unwrap()
    };
    let (cl, rb, ho) = (front(Market::Wti), front(Market::Rbob), front(Market::HeatingOil));
    let last_report = history
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Inventory(r) => Some(*r),
            _ => None,
        })
        .next_back()
        .expect("six sessions of warm-up include a Wednesday report");
    let mut h = rig.harness(CurvePanelState::default());
    h.run_steps(3);

    let history_label = label(&h, "History: ");
    assert!(history_label.contains("simulated history"), "{history_label}");

    // The crack chart and its value follow the selector.
    h.get_by_label("Crack chart 3-2-1");
    let want = CrackRatio::THREE_TWO_ONE.crack_usd_bbl(rb, ho, cl);
    assert_eq!(value_label(&h, "3-2-1 crack "), format!("3-2-1 crack {want:.2}"));
    let seasonal = label(&h, "3-2-1 seasonal ");
    assert!(seasonal.contains("over 2 year(s) of 2021-2025, band "), "{seasonal}");
    h.get_by_label("Crack 2-1-1").click();
    h.run_steps(3);
    assert_eq!(h.state().1.crack, CrackKind::TwoOneOne);
    h.get_by_label("Crack chart 2-1-1");
    assert!(h.query_by_label("Crack chart 3-2-1").is_none());
    let want = CrackRatio::TWO_ONE_ONE.crack_usd_bbl(rb, ho, cl);
    assert_eq!(value_label(&h, "2-1-1 crack "), format!("2-1-1 crack {want:.2}"));
    h.get_by_label("Crack Heating oil").click();
    h.run_steps(3);
    h.get_by_label("Crack chart Heating oil");

    // WTI-Brent from the same front months.
    let bz = front(Market::Brent);
    assert_eq!(value_label(&h, "WTI-Brent "), format!("WTI-Brent {:.2}", cl - bz));
    assert_eq!(value_label(&h, "Brent-WTI arb "), format!("Brent-WTI arb {:.2}", bz - cl - 3.0));

    // Inventory bars for the weeks the worker analysed, the latest from the feed's report.
    let weeks = h.state().0.data.as_ref().unwrap().inventory.weeks.len();
    assert!(weeks >= 20, "{weeks}");
    h.get_by_label(&format!("Inventory surprise bars {weeks} weeks"));
    h.get_by_label(&format!("Inventory week ending {}", week_ending_for_release(last_report.ts.date_utc())));
    let surprise = last_report.crude_surprise_kbbl();
    let crude = value_label(&h, "Crude surprise ");
    let shown: f64 = crude.rsplit(' ').next().unwrap().replace(',', "").parse().unwrap();
    assert!((shown - surprise).abs() <= 0.5, "{crude} vs {surprise}");
    value_label(&h, "Gasoline surprise z ");
    value_label(&h, "Distillate surprise ");
}

#[test]
fn a_negative_front_month_is_shown_and_the_roll_yield_is_not_invented() {
    let mut rig = Rig::new(config(CurveHistorySource::None));
    let ts = Timestamp::from_datetime(&New_York.with_ymd_and_hms(2020, 4, 20, 14, 30, 0).unwrap());
    let m0 = Market::Wti.front_contract(trading_date(ts)).month;
    let prices = [-37.63, 20.43, 24.0, 26.5];
    let points = prices
        .iter()
        .enumerate()
        .map(|(i, &price)| CurvePoint {
            contract: crude_model::ContractId::new(Market::Wti, m0.plus_months(i as i32)),
            price,
        })
        .collect();
    rig.send(vec![MarketEvent::Curve(CurveSnapshot { market: Market::Wti, ts, points })], false);
    rig.until("the curve", |v| v.data.as_ref().is_some_and(|d| d.market(Market::Wti).is_some()));
    let mut h = rig.harness(CurvePanelState::default());
    h.run_steps(3);
    assert_eq!(value_label(&h, "CL M1-M2 "), "CL M1-M2 -58.06");
    h.get_by_label("CL roll yield n/a");
    h.get_by_label("CL structure Contango");
    h.get_by_label("CL M1-M6 n/a");
    h.get_by_label("CL spread M1-M4 -64.13");
    h.get_by_label("Crack chart 3-2-1 unavailable");
    assert_eq!(TermStructureConfig::default().neutral_band, 0.05);
}
