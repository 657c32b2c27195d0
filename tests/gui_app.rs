//! The whole app as `crude` wires it — the trading, risk, signals and curve workers each on
//! its own thread, fed by one seeded simulator through the feed fan-out — driven headlessly
//! through egui_kittest: every panel in the navigation rail opens and shows figures computed
//! by its worker, an order entered on the Trade panel reaches the Risk panel's book, and a
//! limit edited on the Risk panel is saved to its file and recorded in the audit log.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use crude_app::{CrudeApp, PanelId, UiState, ViewModelConfig};
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_feeds::{FeedBatch, FeedPoll, MarketFeed, SimFeed};
use crude_kernel::services::curve::{CurveHistorySource, CurveServiceConfig};
use crude_kernel::services::risk::{RiskHistorySource, RiskServiceConfig};
use crude_kernel::services::signals::SignalsServiceConfig;
use crude_kernel::services::trading::TradingServiceConfig;
use crude_kernel::{KernelConfig, LiveKernel, ServiceId};
use crude_model::{Clock, ContractId, LiveClock, Market, MarketEvent, SeriesId, Timestamp};
use crude_risk::RiskLimits;
use crude_trading::TradingConfig;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use tokio::sync::mpsc;

/// Wednesday 2026-11-18 10:00 ET: the market is open.
fn start() -> Timestamp {
    Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
}

fn front() -> ContractId {
    Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap())
}

struct App {
    h: Harness<'static, CrudeApp>,
    feed: SimFeed,
    taps: Vec<mpsc::Sender<FeedBatch>>,
    dir: tempfile::TempDir,
}

impl App {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let wall: Arc<dyn Clock> = Arc::new(LiveClock);
        let sim = SimConfig { seed: 11, ..SimConfig::default() };
        let mut feed = SimFeed::new(MarketSimulator::new(sim.clone(), start()).unwrap(), 1);
        // One channel for the app and one tap per worker, as the feed fan-out makes them.
        let mut rxs = Vec::new();
        let mut taps = Vec::new();
        for _ in 0..5 {
            let (tx, rx) = mpsc::channel::<FeedBatch>(1 << 16);
            taps.push(tx);
            rxs.push(rx);
        }
        let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(|| {});
        let curve_rx = rxs.pop().unwrap();
        let signals_rx = rxs.pop().unwrap();
        let risk_rx = rxs.pop().unwrap();
        let trade_rx = rxs.pop().unwrap();
        let app_rx = rxs.pop().unwrap();
        let now = wall.now();
        let status = MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: now };
        taps[0].try_send(FeedBatch { events: vec![status].into(), sent_wall: now, history: true }).unwrap();
        for chunk in feed.initial_events().chunks(4096) {
            for t in &taps {
                t.try_send(FeedBatch { events: chunk.to_vec().into(), sent_wall: now, history: true }).unwrap();
            }
        }
        let trading =
            TradingServiceConfig::new(dir.path().join("crude.db"), TradingConfig::default(), wall.clone()).unwrap();
        let limits_path = dir.path().join("risk_limits.yaml");
        RiskLimits::default().save(&limits_path).unwrap();
        let history = RiskHistorySource::simulated_days(sim.clone(), 520);
        let mut risk_cfg =
            RiskServiceConfig::new(RiskLimits::default(), &limits_path, history, 50_000_000.0, wall.clone()).unwrap();
        risk_cfg.window_days = 250;
        risk_cfg.mc_paths = 20_000;
        let config = KernelConfig {
            trading: Some(trading),
            risk: Some(risk_cfg),
            signals: Some(SignalsServiceConfig::new(Default::default(), dir.path().join("signals.db"), wall.clone())),
            curve: Some(CurveServiceConfig::new(CurveHistorySource::simulated(sim, 1), wall.clone())),
        };
        let mut taps_by_service = [
            (ServiceId::Trading, trade_rx),
            (ServiceId::Risk, risk_rx),
            (ServiceId::Signals, signals_rx),
            (ServiceId::Curve, curve_rx),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>();
        let kernel = LiveKernel::start(config, |id| taps_by_service.remove(&id).unwrap(), notify);
        let app = CrudeApp::new(ViewModelConfig::default(), Some(app_rx), wall, UiState::default(), "test".into())
            .with_kernel(kernel);
        // Tall enough that the Risk panel's limits editor lies inside the scroll viewport:
        // AccessKit actions reach only widgets that are in view.
        let h = Harness::builder()
            .with_size(egui::vec2(1600.0, 4000.0))
            .build_ui_state(|ui, app: &mut CrudeApp| app.ui(ui), app);
        let mut app = App { h, feed, taps, dir };
        app.market(30);
        app.until("trading ready", |h| h.query_by_label("Trading: ready").is_some());
        app
    }

    /// `secs` more seconds of simulated market, to the app and every worker.
    fn market(&mut self, secs: i64) {
        let t = self.feed.next_event_time().unwrap().add_nanos(secs * Timestamp::NANOS_PER_SEC);
        let mut out = Vec::new();
        assert_eq!(self.feed.poll(t, &mut out), FeedPoll::Pending);
        let now = LiveClock.now();
        for chunk in out.chunks(4096) {
            for tap in &self.taps {
                tap.try_send(FeedBatch { events: chunk.to_vec().into(), sent_wall: now, history: false }).unwrap();
            }
        }
    }

    /// Steps frames until `pred` holds (bounded; the workers run meanwhile).
    fn until(&mut self, what: &str, pred: impl Fn(&Harness<'static, CrudeApp>) -> bool) {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < std::time::Duration::from_secs(90) {
            self.h.step();
            if pred(&self.h) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let errors: Vec<String> = self.h.query_all_by_label_contains("Limit error").map(|n| format!("{n:?}")).collect();
        eprintln!("limit errors on screen: {errors:?}");
        let v = &self.h.state().view_model().risk;
        panic!(
            "timed out waiting for {what}; risk status {:?}, error {:?}, save {:?}",
            v.status, v.error, v.save_result
        );
    }

    fn panel(&mut self, name: &str, id: PanelId) {
        self.h.get_by_label(name).click();
        self.h.run_steps(2);
        assert_eq!(self.h.state().ui_state().panel, id);
    }

    fn has(&self, label: &str) -> bool {
        self.h.query_all_by_label_contains(label).next().is_some()
    }
}

#[test]
fn every_panel_shows_its_workers_figures_and_an_order_reaches_risk_and_the_audit_log() {
    let mut app = App::new();
    let labels: Vec<&str> = PanelId::ALL.iter().map(|p| p.label()).collect();
    assert_eq!(labels, ["Market", "Curve & Spreads", "Signals", "Trade", "Positions", "Blotter", "Risk"]);

    // Curve & Spreads: the curve worker's term structure for CL, from its simulated history.
    app.panel("Curve & Spreads", PanelId::Curve);
    app.until("the curve metrics", |h| h.query_by_label_contains("CL M1-M2 percentile").is_some());
    assert!(app.has("CL structure"));
    assert!(app.has("simulated history"));

    // Signals: one composite card per market once the history has warmed the engine up.
    app.panel("Signals", PanelId::Signals);
    app.until("composite cards", |h| {
        ["CL", "BZ", "RB", "HO"].iter().all(|m| h.query_by_label_contains(&format!("{m} composite ")).is_some())
    });

    // Risk before any trade: the limits are shown for an empty book.
    app.panel("Risk", PanelId::Risk);
    app.until("an empty-book snapshot", |h| h.query_by_label_contains("Risk no open positions").is_some());

    // Buy 3 at the market on the Trade panel.
    app.panel("Trade", PanelId::Trade);
    app.h.get_by_label("Type market").click();
    app.h.run_steps(2);
    app.h.get_by_label("Qty").set_text_value_accesskit("3");
    app.h.run_steps(2);
    app.h.get_by_label("Side buy").click();
    // The preview comes from the risk engine's VaR check installed in the trading worker.
    app.until("pre-trade preview with VaR", |h| h.query_all_by_label_contains("Post-trade VaR $").next().is_some());
    app.h.key_press(egui::Key::Enter);
    app.until("order entered", |h| h.query_by_label_contains("Order entered").is_some());
    app.market(3);
    let c = front();
    app.until("the position", |h| {
        h.state().view_model().trading().snapshot.as_ref().is_some_and(|s| s.position_qty(c) == 3)
            && h.state().view_model().quote(SeriesId::Contract(c)).is_some()
    });

    // The Risk panel now measures that position.
    app.panel("Risk", PanelId::Risk);
    let header = format!("Risk figures for 1 open positions ({c} +3)");
    app.until("the book in the risk snapshot", |h| h.query_by_label_contains(&header).is_some());
    let var = app.h.state().view_model().risk.latest.as_ref().unwrap().snapshot.report.parametric[0].var_usd;
    assert!(var > 0.0, "a long position has a positive VaR, got {var}");
    // The VaR backtest of today's book over the 250 days after the 250-day window.
    assert!(app.has("Backtest exceptions"), "the backtest section shows");
    assert!(app.has("Backtest zone"));
    // Positions reach the risk engine per strategy (the ticket's default tag is `manual`).
    assert!(app.has("Largest strategy 'manual' share 100.0%"));

    // Edit the VaR limit and save: the file changes and the audit log records the edit.
    let field = app.h.get_by_label("var.limit_usd");
    field.set_text_value_accesskit("2,000,000");
    app.h.run_steps(2);
    app.h.get_by_label("Save limits").click();
    app.h.run_steps(2);
    app.until("limits saved", |h| {
        h.state()
            .view_model()
            .risk
            .limits
            .as_ref()
            .is_some_and(|l| l.editable().iter().any(|(k, v)| k == "var.limit_usd" && *v == 2_000_000.0))
    });
    let saved = RiskLimits::load(&app.dir.path().join("risk_limits.yaml")).unwrap();
    assert!(saved.editable().iter().any(|(k, v)| k == "var.limit_usd" && *v == 2_000_000.0));
    let db_path = app.dir.path().join("crude.db");
    app.until("the audit row", |_| {
        crude_store::Store::open_with(
            &db_path,
            &crude_store::StoreOptions { create: false, integrity_check: false, ..Default::default() },
        )
        .ok()
        .and_then(|db| db.load_audit(None).ok())
        .is_some_and(|rows| rows.iter().any(|r| r.details.contains("var.limit_usd")))
    });
}
