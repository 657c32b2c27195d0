//! The trading panels driven headlessly through egui_kittest (AccessKit), against the real
//! trading worker on its own thread and a temporary SQLite database: enter an order, see it
//! fill, see the position and the blotter row; a rejected order shows its reason; bad input
//! names the field and writes nothing; the ladder enters and amends orders and says when it
//! has the top of book only; the kill switch flattens; the circuit breaker shows a banner
//! until reset. Spreads: a WTI-Brent spread fills both legs and shows as one grouped
//! position, a working spread is cancelled as one, a spread the pre-trade check rejects
//! shows why. Hooks for the risk engine: a pre-trade check installed at run time rejects
//! with its reason on the ticket; a limit edit lands in the verified audit chain.
//!
//! Market data is a seeded simulator polled synchronously: every batch goes both to the
//! app's feed channel and to the trading worker's tap, as the feed fan-out does live. The
//! harness is stepped in bounded loops while the worker processes (yielding, never
//! sleeping).

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use crude_app::{CrudeApp, PanelId, UiState, ViewModelConfig};
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_feeds::{FeedBatch, FeedPoll, MarketFeed, SimFeed};
use crude_kernel::services::trading::{PreTradeCheckBox, TradingCommand, TradingServiceConfig};
use crude_kernel::{KernelConfig, LiveKernel};
use crude_model::{
    BookView, Clock, ContractId, LiveClock, Market, MarketEvent, OrderRequest, OrderStatus, PreTradeCheck,
    PreTradeDecision, PreTradeResult, SeriesId, Side, Timestamp,
};
use crude_trading::{LimitsConfig, TradingConfig};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use tokio::sync::mpsc;

/// Wednesday 2026-11-18 10:00 ET: the market is open.
fn start() -> Timestamp {
    Timestamp::from_datetime(&New_York.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap())
}

fn front() -> ContractId {
    Market::Wti.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap())
}

fn brent_front() -> ContractId {
    Market::Brent.front_contract(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap())
}

struct Rig {
    h: Harness<'static, CrudeApp>,
    feed: SimFeed,
    app_tx: mpsc::Sender<FeedBatch>,
    trade_tx: mpsc::Sender<FeedBatch>,
    dir: tempfile::TempDir,
}

impl Rig {
    fn new(trading: TradingConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let wall: Arc<dyn Clock> = Arc::new(LiveClock);
        let (app_tx, app_rx) = mpsc::channel::<FeedBatch>(1 << 16);
        let (trade_tx, trade_rx) = mpsc::channel::<FeedBatch>(1 << 16);
        let mut feed =
            SimFeed::new(MarketSimulator::new(SimConfig { seed: 7, ..SimConfig::default() }, start()).unwrap(), 1);
        let now = wall.now();
        let status = MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: now };
        app_tx.try_send(FeedBatch { events: vec![status].into(), sent_wall: now, history: true }).unwrap();
        for chunk in feed.initial_events().chunks(4096) {
            let b = FeedBatch { events: chunk.to_vec().into(), sent_wall: now, history: true };
            trade_tx.try_send(b.clone()).unwrap();
            app_tx.try_send(b).unwrap();
        }
        let cfg = TradingServiceConfig::new(dir.path().join("crude.db"), trading, wall.clone()).unwrap();
        let config = KernelConfig { trading: Some(cfg), ..KernelConfig::default() };
        let mut trade_rx = Some(trade_rx);
        let kernel = LiveKernel::start(config, |_| trade_rx.take().unwrap(), Arc::new(|| {}));
        let app = CrudeApp::new(ViewModelConfig::default(), Some(app_rx), wall, UiState::default(), "test".into())
            .with_kernel(kernel);
        let h = Harness::builder()
            .with_size(egui::vec2(1600.0, 1000.0))
            .build_ui_state(|ui, app: &mut CrudeApp| app.ui(ui), app);
        let mut rig = Rig { h, feed, app_tx, trade_tx, dir };
        rig.market(30);
        rig.until("trading ready", |h| h.query_by_label("Trading: ready").is_some());
        // The app applies the backlog within its frame budget: wait for the live quotes.
        let c = front();
        rig.until("live quotes", |h| {
            h.state().view_model().quote(SeriesId::Contract(c)).is_some_and(|q| q.ask.is_some() && q.bid.is_some())
                && h.state().view_model().feed_time().is_some_and(|t| t > start())
        });
        rig
    }

    /// `secs` more seconds of simulated market, to the app and to the trading worker.
    fn market(&mut self, secs: i64) {
        let t = self.feed.next_event_time().unwrap().add_nanos(secs * Timestamp::NANOS_PER_SEC);
        let mut out = Vec::new();
        assert_eq!(self.feed.poll(t, &mut out), FeedPoll::Pending);
        let now = LiveClock.now();
        for chunk in out.chunks(4096) {
            let b = FeedBatch { events: chunk.to_vec().into(), sent_wall: now, history: false };
            self.trade_tx.try_send(b.clone()).unwrap();
            self.app_tx.try_send(b).unwrap();
        }
    }

    /// Steps frames until `pred` holds (bounded; the worker runs meanwhile).
    fn until(&mut self, what: &str, pred: impl Fn(&Harness<'static, CrudeApp>) -> bool) {
        for _ in 0..3_000 {
            self.h.step();
            if pred(&self.h) {
                return;
            }
            std::thread::yield_now();
        }
        let activity: Vec<String> =
            self.h.state().view_model().trading().activity.iter().map(|a| a.text.clone()).collect();
        panic!("timed out waiting for {what}; trading activity: {activity:#?}");
    }

    fn panel(&mut self, name: &str, id: PanelId) {
        self.h.get_by_label(name).click();
        self.h.run_steps(2);
        assert_eq!(self.h.state().ui_state().panel, id);
    }

    /// Clicks the widget labelled `label` once the layout has settled (grids size their
    /// columns from the previous frame, so a row that just changed can move for a frame).
    fn click(&mut self, label: &str) {
        self.h.run_steps(2);
        self.h.get_by_label(label).click();
        self.h.run_steps(2);
    }

    fn set_field(&mut self, label: &str, text: &str) {
        self.h.get_by_label(label).set_text_value_accesskit(text);
        self.h.run_steps(2);
    }

    fn has(&self, label: &str) -> bool {
        self.h.query_all_by_label_contains(label).next().is_some()
    }

    fn db(&self) -> crude_store::Store {
        crude_store::Store::open_with(
            &self.dir.path().join("crude.db"),
            &crude_store::StoreOptions { create: false, integrity_check: false, ..Default::default() },
        )
        .unwrap()
    }

    fn position(&self, c: ContractId) -> i64 {
        self.h.state().view_model().trading().snapshot.as_ref().map_or(0, |s| s.position_qty(c))
    }

    fn ask(&self, c: ContractId) -> f64 {
        self.h.state().view_model().quote(SeriesId::Contract(c)).and_then(|q| q.ask).unwrap()
    }

    fn bid(&self, c: ContractId) -> f64 {
        self.h.state().view_model().quote(SeriesId::Contract(c)).and_then(|q| q.bid).unwrap()
    }

    /// Sends a command to the trading worker as the shell would.
    fn command(&self, c: TradingCommand) {
        assert!(self.h.state().kernel().expect("the kernel runs").send(c));
    }
}

/// A pre-trade check with a fixed verdict (stands in for the risk engine's VaR check).
struct FixedCheck(PreTradeDecision, &'static str);

impl PreTradeCheck for FixedCheck {
    fn check(&self, _: &OrderRequest, _: &BookView) -> PreTradeResult {
        PreTradeResult { decision: self.0, reasons: vec![self.1.to_string()], post_trade: None }
    }
}

#[test]
fn enter_an_order_see_it_fill_the_position_and_the_blotter_row() {
    let mut r = Rig::new(TradingConfig::default());
    let c = front();
    r.panel("Trade", PanelId::Trade);
    assert_eq!(r.h.state().ui_state().trade.contract, c.to_string());
    r.click("Type market");
    r.set_field("Qty", "2");
    r.click("Side buy");
    // The preview comes back from the worker after the debounce.
    r.until("pre-trade preview", |h| h.query_by_label("Pre-trade PASS").is_some());
    assert!(r.has("Post-trade VaR n/a (limits-only check)"));
    assert!(r.has("Utilisation contracts"));
    assert!(r.has("Margin after $"));
    // Enter submits (nothing has keyboard focus).
    r.h.key_press(egui::Key::Enter);
    r.until("order entered", |h| h.query_by_label_contains("Order entered").is_some());
    r.market(3);
    r.until("the fill", |h| h.query_by_label_contains("Activity #1 filled buy 2").is_some());
    r.until("the position", |h| {
        h.state().view_model().trading().snapshot.as_ref().is_some_and(|s| s.position_qty(c) == 2)
    });
    r.panel("Positions", PanelId::Positions);
    let label = format!("Position {c} qty 2");
    let qty = r.h.get_by_label(&label);
    assert_eq!(qty.value().unwrap_or_default(), label);
    assert!(r.has(&format!("Position {c} unrealised")));
    assert!(r.has(&format!("Position {c} book share 100.0%")));
    assert!(r.has(&format!("Fill 1 {c} buy 2 @")));
    r.panel("Blotter", PanelId::Blotter);
    r.until("the blotter row", |h| h.query_by_label_contains(&format!("Blotter fill 1 {c} buy 2 @")).is_some());
    assert!(r.has("Blotter Trades 1"));
    assert!(r.has("Blotter rows 1 of 1 fills"));
    // What the panels show is in the database.
    let fills = r.db().load_all_fills().unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!((fills[0].qty, fills[0].side), (2, Side::Buy));
}

#[test]
fn a_rejected_order_shows_its_reason_and_bad_input_names_the_field() {
    let mut r = Rig::new(TradingConfig::default());
    r.panel("Trade", PanelId::Trade);
    // Unparsable input is named at once, on the UI thread.
    r.set_field("Qty", "1.5");
    r.until("qty error", |h| h.query_by_label_contains("Ticket error qty: '1.5' is fractional").is_some());
    // An off-tick price is refused by the worker's validation, naming the field.
    r.set_field("Qty", "1");
    r.set_field("Limit price", "70.005");
    r.until("tick error", |h| h.query_by_label_contains("Ticket error limit_price:").is_some());
    // A fat-finger price.
    let far = format!("{:.2}", r.ask(front()) * 0.5);
    r.set_field("Limit price", &far);
    r.until("fat-finger error", |h| h.query_by_label_contains("fat-finger").is_some());
    // An expired contract (CLZ6 stopped trading on 2026-11-19; CLX6 before the 18th).
    r.set_field("Contract", "CLX6");
    r.until("expired error", |h| h.query_by_label_contains("Ticket error contract:").is_some());
    r.set_field("Contract", &front().to_string());
    // 150 contracts breach the 100-contract limit: the preview says so …
    r.click("Type market");
    r.set_field("Qty", "150");
    r.until("reject preview", |h| h.query_by_label("Pre-trade REJECT").is_some());
    // … the order asks for confirmation (above 10 contracts) and is rejected with its reason.
    r.click("Submit order");
    assert!(r.has("Confirm order BUY 150"));
    r.click("Send order");
    r.until("rejection", |h| h.query_by_label_contains("Order rejected").is_some());
    let reason = r.h.get_by_label_contains("Order rejected").value().unwrap_or_default();
    assert!(reason.contains("contracts"), "{reason}");
    // Only the rejected order was written; the refused tickets left nothing.
    let orders = r.db().load_all_orders().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].status, OrderStatus::Rejected);
    assert_eq!(orders[0].qty, 150);
}

#[test]
fn ladder_entry_drag_amend_and_kill_switch_flattens() {
    let mut r = Rig::new(TradingConfig::default());
    let c = front();
    r.panel("Trade", PanelId::Trade);
    r.until("ladder", |h| h.query_all_by_label_contains("Ladder buy at").next().is_some());
    // Single click in the bid column at the ask: a marketable buy limit for the ladder qty.
    let ask = format!("{:.2}", r.ask(c));
    r.h.get_by_label_contains(&format!("Ladder buy at {ask} ")).click();
    r.h.run_steps(2);
    r.market(3);
    r.until("ladder fill", |h| {
        h.state().view_model().trading().snapshot.as_ref().is_some_and(|s| s.position_qty(c) == 1)
    });
    // A resting bid five ticks under the market.
    let bid = r.h.state().view_model().quote(SeriesId::Contract(c)).and_then(|q| q.bid).unwrap();
    let low = format!("{:.2}", bid - 0.05);
    r.h.get_by_label_contains(&format!("Ladder buy at {low} ")).click();
    r.until("working order", |h| h.query_by_label_contains(&format!("Ladder working buy 1 at {low}")).is_some());
    // Acknowledged by the paper broker once market time passes its latency.
    r.market(1);
    r.until("acknowledged", |h| {
        h.state().view_model().trading().working().iter().any(|o| o.status == OrderStatus::Working)
    });
    // Drag it two rows down: amended to two ticks lower.
    let from = r.h.get_by_label_contains(&format!("Ladder working buy 1 at {low}")).rect().center();
    let to = from + egui::vec2(0.0, 2.0 * crude_app::panels::ladder::ROW_H);
    r.h.hover_at(from);
    r.h.step();
    r.h.drag_at(from);
    r.h.step();
    r.h.hover_at(from + egui::vec2(0.0, 8.0));
    r.h.step();
    r.h.hover_at(to);
    r.h.step();
    r.h.drop_at(to);
    r.h.step();
    let lower = format!("{:.2}", bid - 0.07);
    r.until("amended order", |h| h.query_by_label_contains(&format!("Ladder working buy 1 at {lower}")).is_some());
    // The kill switch: confirmation, then every order cancelled and every position flat.
    r.click("Kill switch");
    assert!(r.has("Kill switch Cancel 1 working orders and flatten 1 positions"));
    r.click("Confirm kill switch");
    r.market(3);
    r.until("flat book", |h| {
        h.state()
            .view_model()
            .trading()
            .snapshot
            .as_ref()
            .is_some_and(|s| s.position_qty(c) == 0 && s.working.is_empty())
    });
    assert_eq!(r.position(c), 0);
    r.panel("Positions", PanelId::Positions);
    assert!(r.has(&format!("Position {c} qty 0")));
    assert!(r.has("No working orders"));
    let audit = r.db().load_audit(Some(&["kill_switch"])).unwrap();
    assert_eq!(audit.len(), 1);
}

#[test]
fn quote_board_click_prefills_and_keys_drive_the_ticket() {
    let mut r = Rig::new(TradingConfig::default());
    let c = front();
    r.h.run_steps(2);
    let ask = r.ask(c);
    r.h.get_by_label_contains(&format!("{c} ask ")).click();
    r.h.run_steps(2);
    let st = r.h.state().ui_state();
    assert_eq!(st.panel, PanelId::Trade);
    assert_eq!(st.trade.contract, c.to_string());
    assert_eq!(st.trade.side, Side::Buy);
    assert_eq!(st.trade.limit_price, format!("{ask:.2}"));
    // S and B pick the side when no field has the keyboard; Esc clears the entry.
    r.h.key_press(egui::Key::S);
    r.h.run_steps(1);
    assert_eq!(r.h.state().ui_state().trade.side, Side::Sell);
    r.h.key_press(egui::Key::B);
    r.h.run_steps(1);
    assert_eq!(r.h.state().ui_state().trade.side, Side::Buy);
    r.h.key_press(egui::Key::Escape);
    r.h.run_steps(1);
    assert!(r.h.state().ui_state().trade.limit_price.is_empty());
    // Ctrl+N from another panel: a new order on the Trade panel.
    r.panel("Market", PanelId::Market);
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    r.h.run_steps(2);
    assert_eq!(r.h.state().ui_state().panel, PanelId::Trade);
}

#[test]
fn positions_panel_amends_and_cancels_a_working_order() {
    let mut r = Rig::new(TradingConfig::default());
    let c = front();
    r.panel("Trade", PanelId::Trade);
    let bid = r.h.state().view_model().quote(SeriesId::Contract(c)).and_then(|q| q.bid).unwrap();
    r.set_field("Qty", "3");
    r.set_field("Limit price", &format!("{:.2}", bid - 0.10));
    r.until("preview", |h| h.query_by_label("Pre-trade PASS").is_some());
    r.click("Submit order");
    r.until("order entered", |h| h.query_by_label_contains("Order entered").is_some());
    r.market(1);
    r.until("acknowledged", |h| {
        h.state().view_model().trading().working().iter().any(|o| o.status == OrderStatus::Working)
    });
    r.panel("Positions", PanelId::Positions);
    assert!(r.has("Working order 1 qty 3"));
    r.click("Amend order 1");
    let new_px = format!("{:.2}", bid - 0.20);
    r.set_field("New price", &new_px);
    r.set_field("New qty", "2");
    r.click("Send amend");
    r.until("amended", |h| h.query_by_label(&format!("Working order 1 price {new_px}")).is_some());
    assert!(r.has("Working order 1 qty 2"));
    r.click("Cancel order 1");
    r.until("cancelled", |h| h.query_by_label("No working orders").is_some());
    let events = r.db().load_order_events(Some(1)).unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["submitted", "accepted", "amended", "cancelled"]);
}

#[test]
fn circuit_breaker_banner_until_reset() {
    // Commission and fees of one round of buying exceed a $5 daily loss limit.
    let cfg = TradingConfig {
        limits: LimitsConfig { max_daily_loss_usd: 5.0, ..LimitsConfig::default() },
        ..Default::default()
    };
    let mut r = Rig::new(cfg);
    r.panel("Trade", PanelId::Trade);
    r.click("Type market");
    r.set_field("Qty", "2");
    r.click("Submit order");
    r.market(3);
    r.until("breaker banner", |h| h.query_by_label_contains("Circuit breaker CIRCUIT BREAKER TRIPPED").is_some());
    r.click("Reset circuit breaker");
    r.until("banner gone", |h| h.query_by_label_contains("Circuit breaker CIRCUIT BREAKER TRIPPED").is_none());
    let audit = r.db().load_audit(Some(&["circuit_breaker_trip", "circuit_breaker_reset"])).unwrap();
    assert_eq!(audit.len(), 2);
}

#[test]
fn enter_a_wti_brent_spread_see_both_legs_fill_and_the_grouped_position() {
    let mut r = Rig::new(TradingConfig::default());
    let (cl, bz) = (front(), brent_front());
    r.panel("Trade", PanelId::Trade);
    r.click("Ticket mode WTI-Brent");
    // The legs start at each market's front month; buying the spread buys CL, sells BZ.
    assert!(r.has(&format!("Spread month CL {cl}")));
    assert!(r.has(&format!("Spread month BZ {bz}")));
    r.set_field("Qty", "2");
    r.click("Side buy");
    assert!(r.has(&format!("Leg buy 2 {cl}")));
    assert!(r.has(&format!("Leg sell 2 {bz}")));
    assert!(r.has("Spread price "));
    // The preview checks both legs together.
    r.until("spread preview", |h| h.query_by_label("Pre-trade PASS").is_some());
    assert!(r.has(&format!("Pre-trade leg buy 2 {cl} PASS")));
    assert!(r.has(&format!("Pre-trade leg sell 2 {bz} PASS")));
    assert!(r.has("Spread reference price "));
    r.click("Submit spread");
    r.until("spread entered", |h| h.query_by_label_contains("Spread entered 1 legs").is_some());
    r.market(3);
    r.until("both legs filled", |h| {
        h.state()
            .view_model()
            .trading()
            .snapshot
            .as_ref()
            .is_some_and(|s| s.spread(1).is_some_and(|x| x.filled_units == 2))
    });
    r.until("spread activity", |h| h.query_by_label_contains("Activity Spread #1 WTI-Brent buy 2 entered").is_some());
    // Positions: each leg in its contract, and the spread grouped with its legs.
    r.panel("Positions", PanelId::Positions);
    assert!(r.has(&format!("Position {cl} qty 2")));
    assert!(r.has(&format!("Position {bz} qty -2")));
    assert!(r.has("Spread 1 WTI-Brent buy 2"));
    assert!(r.has("Spread 1 filled 2"));
    assert!(r.has(&format!("Spread 1 leg {cl} buy 2 @")));
    assert!(r.has(&format!("Spread 1 leg {bz} sell 2 @")));
    assert!(r.has("Spread 1 held"));
    // The spread's entry price is the legs' fill prices combined.
    let snap = r.h.state().view_model().trading().snapshot.clone().unwrap();
    let row = snap.spread(1).unwrap();
    let entry = format!("{:.2}", row.legs[0].avg_fill_price.unwrap() - row.legs[1].avg_fill_price.unwrap());
    assert!(r.has(&format!("Spread 1 entry {entry}")), "entry {entry}");
    let fills = r.db().load_all_fills().unwrap();
    assert_eq!(fills.len(), 2);
    // A spread resting at per-leg limits works as one and is cancelled as one.
    let cl_px = format!("{:.2}", r.bid(cl) - 0.30);
    let bz_px = format!("{:.2}", r.ask(bz) + 0.30);
    r.panel("Trade", PanelId::Trade);
    r.set_field("Qty", "1");
    r.click("Spread legs limit");
    r.set_field("CL limit", &cl_px);
    r.set_field("BZ limit", &bz_px);
    r.until("limit spread preview", |h| h.query_by_label("Pre-trade PASS").is_some());
    assert!(r.has("Spread limit price "));
    r.click("Submit spread");
    r.until("limit spread entered", |h| h.query_by_label_contains("Spread entered 2 legs").is_some());
    r.market(1);
    r.until("legs acknowledged", |h| {
        let w = h.state().view_model().trading().working().to_vec();
        w.len() == 2 && w.iter().all(|o| o.status == OrderStatus::Working)
    });
    r.panel("Positions", PanelId::Positions);
    assert!(r.has("Working spread 2 WTI-Brent"));
    assert!(r.has("Spread 2 working"));
    r.click("Cancel spread 2");
    r.until("spread cancelled", |h| h.query_by_label("No working orders").is_some());
    let orders = r.db().load_all_orders().unwrap();
    let legs: Vec<&crude_model::Order> = orders.iter().filter(|o| o.spread.is_some_and(|l| l.spread_id == 2)).collect();
    assert_eq!(legs.len(), 2);
    assert!(legs.iter().all(|o| o.status == OrderStatus::Cancelled));
    assert!(r.db().load_audit(Some(&["refused_action"])).unwrap().is_empty());
}

#[test]
fn a_spread_rejected_by_the_pre_trade_check_shows_its_reason() {
    let cfg = TradingConfig {
        limits: LimitsConfig { max_contracts_per_contract: 5, ..LimitsConfig::default() },
        ..Default::default()
    };
    let mut r = Rig::new(cfg);
    let cl = front();
    r.panel("Trade", PanelId::Trade);
    r.click("Ticket mode WTI-Brent");
    r.set_field("Qty", "6");
    r.until("reject preview", |h| h.query_by_label("Pre-trade REJECT").is_some());
    assert!(r.has(&format!("Pre-trade reason {cl}: contracts {cl}: 6 of 5 contracts")));
    r.click("Submit spread");
    r.until("spread rejected", |h| h.query_by_label_contains("Spread rejected").is_some());
    let reason = r.h.get_by_label_contains("Spread rejected").value().unwrap_or_default();
    assert!(reason.contains(&format!("{cl}: contracts {cl}")), "{reason}");
    // Both legs are recorded as rejected; nothing filled.
    let orders = r.db().load_all_orders().unwrap();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o.status == OrderStatus::Rejected && o.spread.is_some()));
    // A leg contract of the wrong market names the leg at once.
    r.set_field("BZ leg", "CLF7");
    r.until("leg error", |h| h.query_by_label_contains("Ticket error BZ leg: CLF7 is not a BZ contract").is_some());
}

#[test]
fn a_pre_trade_check_installed_at_run_time_rejects_with_its_reason_on_the_ticket() {
    let mut r = Rig::new(TradingConfig::default());
    let reason = "VaR limit: post-trade VaR $1,250,000 is 125% of $1,000,000";
    r.command(TradingCommand::SetPreTradeCheck(PreTradeCheckBox::new(FixedCheck(PreTradeDecision::Reject, reason))));
    r.panel("Trade", PanelId::Trade);
    r.until("check installed", |h| h.query_by_label_contains("Activity Pre-trade check installed").is_some());
    r.click("Type market");
    r.set_field("Qty", "1");
    r.until("reject preview", |h| h.query_by_label("Pre-trade REJECT").is_some());
    assert!(r.has(&format!("Pre-trade reason {reason}")));
    // The limits check still runs alongside: its utilisations are shown.
    assert!(r.has("Utilisation contracts"));
    r.click("Submit order");
    r.until("rejection", |h| h.query_by_label_contains("Order rejected").is_some());
    let why = r.h.get_by_label_contains("Order rejected").value().unwrap_or_default();
    assert!(why.contains(reason), "{why}");
    assert_eq!(r.db().load_all_orders().unwrap()[0].status, OrderStatus::Rejected);
}

#[test]
fn a_limit_edit_lands_in_the_verified_audit_chain() {
    let mut r = Rig::new(TradingConfig::default());
    // An order entry first, so the edit is chained after other records.
    r.command(TradingCommand::Submit { request_id: 1, request: OrderRequest::market(front(), Side::Buy, 1) });
    r.until("order entered", |h| h.state().view_model().trading().submitted.is_some());
    let details = r#"{"limit": "max_var_usd", "old": 1000000, "new": 1500000, "file": "config/risk_limits.yaml"}"#;
    r.panel("Trade", PanelId::Trade);
    r.command(TradingCommand::RecordLimitEdit { details: details.into() });
    r.until("limit edit activity", |h| h.query_by_label_contains("Activity Limit edit recorded by trader").is_some());
    let db = r.db();
    let all = db.load_audit(None).unwrap();
    let edit = all.iter().find(|a| a.action == "limit_edit").expect("limit edit in the audit log");
    assert!(edit.details.contains(r#""limit":"max_var_usd""#) && edit.details.contains("1500000"), "{}", edit.details);
    assert!(all.iter().any(|a| a.action == "order_entry" && a.seq < edit.seq));
    let v = db.verify_audit_chain().unwrap();
    assert!(v.is_ok(), "{v:?}");
}

#[test]
fn the_ladder_says_when_it_has_the_top_of_book_only() {
    let mut r = Rig::new(TradingConfig::default());
    r.panel("Trade", PanelId::Trade);
    let c = front();
    // The simulator publishes depth for the first two months.
    r.until("front depth", |h| {
        h.query_all_by_label_contains(&format!("Ladder {c} depth: ")).next().is_some_and(|n| {
            let v = n.value().unwrap_or_default();
            v.contains(" bid / ") && v.contains(" ask levels")
        })
    });
    let mut months: Vec<ContractId> =
        r.h.state()
            .view_model()
            .board()
            .filter_map(|(id, _)| match id {
                SeriesId::Contract(k) if k.market == Market::Wti && k >= c => Some(k),
                _ => None,
            })
            .collect();
    months.sort();
    let far = months[3];
    r.set_field("Contract", &far.to_string());
    r.until("top of book only", |h| h.query_by_label(&format!("Ladder {far} depth: top of book only")).is_some());
    // Only the quote's own bid and ask sizes are on the far month's ladder.
    let sized =
        r.h.query_all_by_label_contains("Ladder buy at ")
            .chain(r.h.query_all_by_label_contains("Ladder sell at "))
            .filter(|n| !n.accesskit_node().label().unwrap_or_default().ends_with(" size 0"))
            .count();
    assert_eq!(sized, 2);
}
