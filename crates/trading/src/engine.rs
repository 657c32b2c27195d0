//! The trading engine: order management, a broker and the position keeper driven by events.
//!
//! One engine serves live trading, paper trading and backtests. It holds no clock and no
//! global state: its time is the time stamp of the last market event or explicit
//! [`Engine::advance_to`], every price comes from market events, so the same sequence of
//! events and requests always produces the same orders, fills and P&L, as fast as the events
//! arrive (tick by tick or bar by bar).
//!
//! Everything that changes is emitted as an [`EngineEvent`] (an order event, a fill, an audit
//! record) in the order it happened; [`crate::TradingSession`] persists each one before
//! anyone sees it. Requests that are refused before anything changes (invalid fields, a
//! duplicate client order id, an illegal transition) return an error and emit nothing but,
//! for illegal user actions, an audit record.

use std::collections::{BTreeMap, HashMap};

use crude_model::{
    BookView, ContractId, Fill, Instruments, MarketEvent, Order, OrderEvent, OrderEventKind, OrderRequest, OrderStatus,
    OrderType, Position, PreTradeCheck, PreTradeDecision, PreTradeResult, Quote, SeriesId, Side, SpreadLink,
    TimeInForce, Timestamp, session_bounds, session_close_after, trading_date, validate_order_request,
};
use crude_store::{AuditEntry, HighWater, Mark};
use serde::Serialize;

use crate::broker::{Broker, BrokerReport};
use crate::config::TradingConfig;
use crate::error::{IllegalTransition, TradingError};
use crate::limits::LimitsCheck;
use crate::oms::{Execution, IllegalAttempt, Oms};
use crate::paper::PaperBroker;
use crate::positions::{PnlSummary, PositionKeeper};
use crate::spread::SpreadRequest;

/// Something that changed, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// An order event with the order's new state and, for user actions, the audit record.
    Order { order: Order, event: OrderEvent, audit: Option<AuditEntry> },
    /// A fill with its order event, the order's new state and the contract's mark.
    Fill { order: Order, event: OrderEvent, fill: Fill, mark: Option<Mark> },
    /// An audit record on its own (kill switch, circuit breaker, refused user actions).
    Audit(AuditEntry),
}

/// The outcome of a submitted order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubmitOutcome {
    pub order_id: u64,
    pub client_order_id: String,
    /// Status right after submission (`rejected` when the pre-trade check refused it).
    pub status: OrderStatus,
    pub pre_trade: PreTradeResult,
}

/// The outcome of a spread order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpreadOutcome {
    pub spread_id: u64,
    pub legs: Vec<SubmitOutcome>,
}

/// The legs of a spread as orders (with their ratios) and their pre-trade results.
struct CheckedSpread {
    legs: Vec<(OrderRequest, i64)>,
    results: Vec<PreTradeResult>,
}

/// A change to a working order; `None` keeps the current value.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AmendRequest {
    /// New total quantity (must exceed the filled quantity).
    pub qty: Option<i64>,
    pub limit_price: Option<f64>,
    pub stop_price: Option<f64>,
}

/// State read from the database on start.
#[derive(Debug, Clone, Default)]
pub struct Recovery {
    pub open_orders: Vec<Order>,
    pub fills: Vec<Fill>,
    pub client_order_ids: Vec<String>,
    pub high_water: HighWater,
    pub marks: Vec<Mark>,
    pub circuit_breaker_tripped: bool,
}

/// Audit action names.
pub mod actions {
    pub const ORDER_ENTRY: &str = "order_entry";
    pub const AMEND: &str = "amend";
    pub const CANCEL: &str = "cancel";
    pub const CANCEL_ALL: &str = "cancel_all";
    pub const SPREAD_ENTRY: &str = "spread_entry";
    pub const KILL_SWITCH: &str = "kill_switch";
    pub const BREAKER_TRIP: &str = "circuit_breaker_trip";
    pub const BREAKER_RESET: &str = "circuit_breaker_reset";
    pub const LIMIT_EDIT: &str = "limit_edit";
    pub const REFUSED: &str = "refused_action";
}

/// Share of the daily-loss limit by which the loss must grow after a reset before the
/// circuit breaker trips again (keeps it from flapping at the threshold).
const BREAKER_REARM_FRACTION: f64 = 0.1;

/// The trading engine (see the module docs).
pub struct Engine<B: Broker = PaperBroker> {
    cfg: TradingConfig,
    instruments: Instruments,
    broker: B,
    oms: Oms,
    positions: PositionKeeper,
    check: Box<dyn PreTradeCheck + Send>,
    now: Timestamp,
    quotes: HashMap<ContractId, Quote>,
    last_trade: HashMap<ContractId, f64>,
    breaker_tripped: bool,
    /// Day loss (positive USD) beyond which the breaker trips.
    breaker_threshold_usd: f64,
    events: Vec<EngineEvent>,
    reports: Vec<BrokerReport>,
    /// Audit record waiting for the next event of an order (user amend / cancel).
    audit_for: Option<(u64, AuditEntry)>,
}

impl<B: Broker> std::fmt::Debug for Engine<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("broker", &self.broker.name())
            .field("now", &self.now)
            .field("open_orders", &self.oms.open_ids().len())
            .field("positions", &self.positions.positions().len())
            .field("breaker_tripped", &self.breaker_tripped)
            .finish()
    }
}

impl Engine<PaperBroker> {
    /// An engine with the paper broker and the limits-only pre-trade check from `cfg`.
    pub fn paper(cfg: TradingConfig, instruments: Instruments) -> Self {
        let broker = PaperBroker::new(cfg.broker.clone(), &instruments);
        let check = LimitsCheck::new(cfg.limits.clone(), instruments.clone());
        Self::new(cfg, instruments, broker, Box::new(check))
    }
}

impl<B: Broker> Engine<B> {
    /// An engine with `broker` and `check`.
    pub fn new(cfg: TradingConfig, instruments: Instruments, broker: B, check: Box<dyn PreTradeCheck + Send>) -> Self {
        let positions = PositionKeeper::new(&instruments);
        Self {
            oms: Oms::new(&cfg.client_order_prefix),
            breaker_threshold_usd: cfg.limits.max_daily_loss_usd,
            cfg,
            instruments,
            broker,
            positions,
            check,
            now: Timestamp::default(),
            quotes: HashMap::new(),
            last_trade: HashMap::new(),
            breaker_tripped: false,
            events: Vec::new(),
            reports: Vec::new(),
            audit_for: None,
        }
    }

    /// Replaces the pre-trade check (e.g. with the VaR-based one).
    pub fn set_check(&mut self, check: Box<dyn PreTradeCheck + Send>) {
        self.check = check;
    }

    /// Rebuilds state from the database: positions from the whole fill history, the open
    /// orders (re-attached to the broker; orders past their expiry expire now), identifier
    /// high-water marks, marks and the circuit breaker. Event time becomes `now` or just
    /// after the last stored event, whichever is later.
    pub fn restore(&mut self, r: Recovery, now: Timestamp) {
        self.positions = PositionKeeper::from_fills(&self.instruments, &r.fills);
        for m in &r.marks {
            self.positions.mark(m.contract, m.price);
        }
        let after_last = r.high_water.last_event_ts.map_or(now, |t| t.add_nanos(1));
        self.now = self.now.max(now).max(after_last);
        self.breaker_tripped = r.circuit_breaker_tripped;
        let open = r.open_orders.clone();
        self.oms.restore(r.open_orders, r.client_order_ids, &r.high_water);
        let t = self.now;
        for o in &open {
            self.broker.resume(o, t, &mut self.reports);
            self.apply_reports();
        }
    }

    /// Current event time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The configuration.
    pub fn config(&self) -> &TradingConfig {
        &self.cfg
    }

    /// The instruments.
    pub fn instruments(&self) -> &Instruments {
        &self.instruments
    }

    /// The broker.
    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// Takes the events emitted since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<EngineEvent> {
        std::mem::take(&mut self.events)
    }

    /// Whether events are waiting to be taken.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The earliest scheduled broker time (acknowledgement, expiry).
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.broker.next_timer()
    }

    fn audit(&self, user: &str, action: &str, details: serde_json::Value) -> AuditEntry {
        AuditEntry { ts: self.now, user: user.to_string(), action: action.to_string(), details: details.to_string() }
    }

    /// The price orders on `contract` are checked against: the quote's mid, else the last
    /// trade, else the position's mark.
    pub fn reference_price(&self, contract: ContractId) -> Option<f64> {
        self.quotes
            .get(&contract)
            .map(Quote::mid)
            .or_else(|| self.last_trade.get(&contract).copied())
            .or_else(|| self.positions.position(contract).and_then(|p| p.mark))
    }

    /// The last quote of `contract`.
    pub fn quote(&self, contract: ContractId) -> Option<&Quote> {
        self.quotes.get(&contract)
    }

    /// What the pre-trade check sees now.
    pub fn book_view(&self) -> BookView {
        let mut marks = BTreeMap::new();
        for (c, q) in &self.quotes {
            marks.insert(*c, q.mid());
        }
        for p in self.positions.positions() {
            if let Some(m) = p.mark {
                marks.entry(p.contract).or_insert(m);
            }
        }
        BookView {
            as_of: self.now,
            positions: self.positions.positions().to_vec(),
            working_orders: self.oms.open_orders().cloned().collect(),
            marks,
            day_pnl_usd: self.positions.day_pnl_net_usd(),
            circuit_breaker_tripped: self.breaker_tripped,
        }
    }

    /// Validates `req` (fields, contract on the current trading date, fat-finger band around
    /// the reference price).
    ///
    /// # Errors
    /// [`TradingError::Invalid`] naming the field.
    pub fn validate(&self, req: &OrderRequest) -> Result<(), TradingError> {
        validate_order_request(
            req,
            &self.instruments,
            trading_date(self.now),
            self.reference_price(req.contract),
            &self.cfg.validation,
        )?;
        Ok(())
    }

    /// The pre-trade check's verdict on `req` without submitting it (the Trade panel's preview).
    ///
    /// # Errors
    /// [`TradingError::Invalid`] when a field is invalid.
    pub fn preview(&self, req: &OrderRequest) -> Result<PreTradeResult, TradingError> {
        self.validate(req)?;
        Ok(self.check.check(req, &self.book_view()))
    }

    fn expire_ts(&self, req: &OrderRequest) -> Option<Timestamp> {
        match req.tif {
            TimeInForce::Day => Some(session_close_after(self.now)),
            TimeInForce::Gtc => Some(session_bounds(req.contract.last_trade_date()).1),
            TimeInForce::Ioc | TimeInForce::Fok => None,
        }
    }

    /// Submits an order: validation, the pre-trade check (a rejection is recorded as a
    /// rejected order), then the broker.
    ///
    /// # Errors
    /// [`TradingError::Invalid`] or [`TradingError::DuplicateClientOrderId`]; nothing is emitted.
    pub fn submit(&mut self, req: OrderRequest) -> Result<SubmitOutcome, TradingError> {
        self.validate(&req)?;
        if let Some(id) = &req.client_order_id
            && !self.oms.client_id_free(id)
        {
            return Err(TradingError::DuplicateClientOrderId(id.clone()));
        }
        let pre = self.check.check(&req, &self.book_view());
        self.enter(req, pre, None)
    }

    /// Creates the order and sends it (or records the rejection).
    fn enter(
        &mut self,
        req: OrderRequest,
        pre: PreTradeResult,
        spread: Option<SpreadLink>,
    ) -> Result<SubmitOutcome, TradingError> {
        let note = match pre.decision {
            PreTradeDecision::Pass => None,
            PreTradeDecision::Warn => Some(format!("pre-trade warning: {}", pre.reasons.join("; "))),
            PreTradeDecision::Reject => None,
        };
        let arrival = self.reference_price(req.contract);
        let (order, event) = self.oms.create(&req, self.now, self.expire_ts(&req), arrival, spread, note)?;
        let audit = self.audit(
            &req.user,
            actions::ORDER_ENTRY,
            serde_json::json!({
                "order_id": order.order_id,
                "client_order_id": order.client_order_id,
                "contract": order.contract.to_string(),
                "side": order.side.as_str(),
                "qty": order.qty,
                "type": order.order_type.as_str(),
                "limit_price": order.limit_price,
                "stop_price": order.stop_price,
                "tif": order.tif.as_str(),
                "strategy": order.strategy,
                "pre_trade": pre.decision.as_str(),
                "reasons": pre.reasons,
            }),
        );
        let order_id = order.order_id;
        let client_order_id = order.client_order_id.clone();
        self.events.push(EngineEvent::Order { order: order.clone(), event, audit: Some(audit) });
        if pre.decision == PreTradeDecision::Reject {
            let reason = format!("pre-trade check: {}", pre.reasons.join("; "));
            self.transition_event(order_id, OrderStatus::Rejected, OrderEventKind::Rejected, Some(reason), |_| {})?;
        } else {
            let t = self.now;
            self.broker.submit(&order, t, &mut self.reports);
            self.apply_reports();
        }
        let status = self.oms.get(order_id).map_or(OrderStatus::Rejected, |o| o.status);
        Ok(SubmitOutcome { order_id, client_order_id, status, pre_trade: pre })
    }

    /// Builds, validates and pre-trade checks the legs of a spread, together: leg `i` is
    /// checked against the book as it would be with legs `0..i` working (so position,
    /// notional and VaR checks see the whole spread, not each leg alone). When any leg is
    /// rejected every leg is marked rejected, with the rejected legs' reasons.
    fn check_spread(&self, req: &SpreadRequest) -> Result<CheckedSpread, TradingError> {
        req.validate_shape()?;
        let mut legs = Vec::new();
        for (i, (contract, side, qty)) in req.leg_orders().into_iter().enumerate() {
            let limit = req.legs[i].limit_price;
            let mut r = OrderRequest::market(contract, side, qty);
            if let Some(l) = limit {
                r.order_type = OrderType::Limit;
                r.limit_price = Some(l);
            }
            r.tif = req.tif;
            r.strategy = req.strategy.clone();
            r.user = req.user.clone();
            self.validate(&r).map_err(|e| match e {
                TradingError::Invalid(v) => TradingError::BadSpread(format!("leg {i} ({contract}): {v}")),
                other => other,
            })?;
            legs.push((r, req.legs[i].ratio));
        }
        let mut view = self.book_view();
        let mut results: Vec<PreTradeResult> = Vec::with_capacity(legs.len());
        for (r, _) in &legs {
            results.push(self.check.check(r, &view));
            view.working_orders.push(self.hypothetical_order(r));
        }
        let rejected: Vec<String> = results
            .iter()
            .enumerate()
            .filter(|(_, p)| p.decision == PreTradeDecision::Reject)
            .map(|(i, p)| format!("leg {i}: {}", p.reasons.join("; ")))
            .collect();
        if !rejected.is_empty() {
            for p in &mut results {
                p.decision = PreTradeDecision::Reject;
                if p.reasons.is_empty() {
                    p.reasons.push(format!("linked leg rejected ({})", rejected.join(" | ")));
                }
            }
        }
        Ok(CheckedSpread { legs, results })
    }

    /// An order as the pre-trade check would see `r` once entered (not yet acknowledged).
    fn hypothetical_order(&self, r: &OrderRequest) -> Order {
        Order {
            order_id: 0,
            client_order_id: String::new(),
            contract: r.contract,
            side: r.side,
            qty: r.qty,
            order_type: r.order_type,
            limit_price: r.limit_price,
            stop_price: r.stop_price,
            tif: r.tif,
            strategy: r.strategy.clone(),
            user: r.user.clone(),
            status: OrderStatus::PendingNew,
            filled_qty: 0,
            avg_fill_price: None,
            triggered: false,
            created_ts: self.now,
            updated_ts: self.now,
            expire_ts: None,
            arrival_price: self.reference_price(r.contract),
            spread: None,
            reason: None,
            last_seq: 0,
        }
    }

    /// The pre-trade check's verdict on every leg of a spread without entering it (the
    /// Trade panel's spread preview): the same validation and checks as
    /// [`Engine::submit_spread`], one result per leg in leg order.
    ///
    /// # Errors
    /// [`TradingError::BadSpread`] (naming the leg and field).
    pub fn preview_spread(&self, req: &SpreadRequest) -> Result<Vec<PreTradeResult>, TradingError> {
        Ok(self.check_spread(req)?.results)
    }

    /// Submits a spread as linked legs: every leg is validated and risk-checked first,
    /// together (see [`Engine::preview_spread`]); if a leg fails validation nothing is
    /// entered, if the pre-trade check rejects a leg every leg is recorded as rejected.
    ///
    /// # Errors
    /// [`TradingError::BadSpread`] (naming the leg and field).
    pub fn submit_spread(&mut self, req: &SpreadRequest) -> Result<SpreadOutcome, TradingError> {
        let CheckedSpread { legs, results } = self.check_spread(req)?;
        let spread_id = self.oms.allocate_spread_id();
        let user = req.user.clone();
        let audit = self.audit(
            &user,
            actions::SPREAD_ENTRY,
            serde_json::json!({"spread_id": spread_id, "name": req.name, "side": req.side.as_str(), "qty": req.qty,
                "tif": req.tif.as_str(), "strategy": req.strategy, "price_divisor": req.price_divisor,
                "legs": req.legs.iter().map(|l| serde_json::json!({"contract": l.contract.to_string(), "ratio": l.ratio,
                    "limit_price": l.limit_price})).collect::<Vec<_>>()}),
        );
        self.events.push(EngineEvent::Audit(audit));
        let mut out = Vec::new();
        for (leg, ((r, ratio), pre)) in legs.into_iter().zip(results).enumerate() {
            let link = SpreadLink { spread_id, leg: u8::try_from(leg).unwrap_or(u8::MAX), ratio };
            out.push(self.enter(r, pre, Some(link))?);
        }
        Ok(SpreadOutcome { spread_id, legs: out })
    }

    /// Changes the quantity and/or prices of a working order.
    ///
    /// # Errors
    /// [`TradingError::UnknownOrder`], [`TradingError::Illegal`] (terminal or not yet
    /// acknowledged; recorded in the audit log), [`TradingError::BadAmend`],
    /// [`TradingError::Invalid`].
    pub fn amend(&mut self, order_id: u64, a: AmendRequest, user: &str) -> Result<(), TradingError> {
        let Some(order) = self.oms.get(order_id).cloned() else {
            return Err(TradingError::UnknownOrder(order_id));
        };
        if !matches!(order.status, OrderStatus::Working | OrderStatus::PartiallyFilled) {
            return Err(self.refuse_user(user, order_id, order.status, order.status, "amend"));
        }
        if a.limit_price.is_some() && !order.order_type.needs_limit() {
            return Err(TradingError::BadAmend {
                order_id,
                reason: format!("a {} order has no limit price", order.order_type),
            });
        }
        if a.stop_price.is_some() && !order.order_type.needs_stop() {
            return Err(TradingError::BadAmend {
                order_id,
                reason: format!("a {} order has no stop price", order.order_type),
            });
        }
        if a.stop_price.is_some() && order.triggered {
            return Err(TradingError::BadAmend { order_id, reason: "the stop has already triggered".into() });
        }
        let mut amended = order.clone();
        if let Some(q) = a.qty {
            if q <= order.filled_qty {
                return Err(TradingError::BadAmend {
                    order_id,
                    reason: format!(
                        "qty {q} must exceed the {} contracts already filled; cancel instead",
                        order.filled_qty
                    ),
                });
            }
            amended.qty = q;
        }
        amended.limit_price = a.limit_price.or(order.limit_price);
        amended.stop_price = a.stop_price.or(order.stop_price);
        if amended.qty == order.qty
            && amended.limit_price == order.limit_price
            && amended.stop_price == order.stop_price
        {
            return Err(TradingError::BadAmend { order_id, reason: "nothing changes".into() });
        }
        let mut req = amended.request();
        req.client_order_id = None;
        self.validate(&req)?;
        if amended.qty > order.qty {
            let mut delta = req.clone();
            delta.qty = amended.qty - order.qty;
            let pre = self.check.check(&delta, &self.book_view());
            if pre.decision == PreTradeDecision::Reject {
                return Err(TradingError::BadAmend {
                    order_id,
                    reason: format!("the pre-trade check rejects the increase: {}", pre.reasons.join("; ")),
                });
            }
        }
        let audit = self.audit(
            user,
            actions::AMEND,
            serde_json::json!({"order_id": order_id, "qty": amended.qty, "limit_price": amended.limit_price,
                "stop_price": amended.stop_price, "old_qty": order.qty, "old_limit_price": order.limit_price,
                "old_stop_price": order.stop_price}),
        );
        self.audit_for = Some((order_id, audit));
        let t = self.now;
        self.broker.amend(&amended, t, &mut self.reports);
        self.apply_reports();
        self.flush_pending_audit();
        Ok(())
    }

    /// Cancels an open order (and, for a spread leg, the other working legs).
    ///
    /// # Errors
    /// [`TradingError::UnknownOrder`]; [`TradingError::Illegal`] for a terminal order
    /// (recorded in the audit log).
    pub fn cancel(&mut self, order_id: u64, user: &str) -> Result<(), TradingError> {
        let Some(order) = self.oms.get(order_id) else {
            return Err(TradingError::UnknownOrder(order_id));
        };
        let status = order.status;
        if status.is_terminal() {
            return Err(self.refuse_user(user, order_id, status, OrderStatus::Cancelled, "cancel"));
        }
        let audit = self.audit(user, actions::CANCEL, serde_json::json!({"order_id": order_id}));
        self.audit_for = Some((order_id, audit));
        self.cancel_inner(order_id, &format!("cancelled by {user}"));
        self.flush_pending_audit();
        Ok(())
    }

    fn cancel_inner(&mut self, order_id: u64, reason: &str) {
        let t = self.now;
        self.broker.cancel(order_id, t, reason, &mut self.reports);
        self.apply_reports();
        // A pending order the broker no longer knows is cancelled in the OMS directly.
        if self.oms.get(order_id).is_some_and(|o| o.is_open()) {
            let _ = self.transition_event(
                order_id,
                OrderStatus::Cancelled,
                OrderEventKind::Cancelled,
                Some(reason.to_string()),
                |_| {},
            );
        }
    }

    /// Cancels every leg of a spread that is still open.
    ///
    /// # Errors
    /// [`TradingError::UnknownSpread`].
    pub fn cancel_spread(&mut self, spread_id: u64, user: &str) -> Result<(), TradingError> {
        let legs: Vec<u64> = self.oms.spread_legs(spread_id).iter().map(|o| o.order_id).collect();
        if legs.is_empty() {
            return Err(TradingError::UnknownSpread(spread_id));
        }
        for id in legs {
            // Cancelling one leg cancels the other open legs with it: look again each time.
            if self.oms.get(id).is_some_and(Order::is_open) {
                self.cancel(id, user)?;
            }
        }
        Ok(())
    }

    /// Cancels every open order; returns how many.
    pub fn cancel_all(&mut self, user: &str) -> usize {
        let ids = self.oms.open_ids();
        let entry = self.audit(user, actions::CANCEL_ALL, serde_json::json!({"orders": ids}));
        self.events.push(EngineEvent::Audit(entry));
        for &id in &ids {
            self.cancel_inner(id, &format!("cancel all by {user}"));
        }
        ids.len()
    }

    /// The kill switch: cancels every open order, then flattens every position with market
    /// orders (per strategy, so attribution stays right). The flattening orders reduce risk
    /// and bypass the pre-trade check and the circuit breaker. Returns the flattening
    /// orders' outcomes.
    pub fn kill_switch(&mut self, user: &str) -> Vec<SubmitOutcome> {
        let flatten: Vec<(ContractId, i64, String)> = self
            .positions
            .strategy_positions()
            .iter()
            .filter(|p| p.qty != 0)
            .map(|p| (p.contract, p.qty, p.strategy.clone().unwrap_or_else(|| "kill_switch".into())))
            .collect();
        let entry = self.audit(
            user,
            actions::KILL_SWITCH,
            serde_json::json!({"open_orders": self.oms.open_ids(),
                "positions": flatten.iter().map(|(c, q, s)| serde_json::json!({"contract": c.to_string(), "qty": q, "strategy": s})).collect::<Vec<_>>()}),
        );
        self.events.push(EngineEvent::Audit(entry));
        for id in self.oms.open_ids() {
            self.cancel_inner(id, &format!("kill switch by {user}"));
        }
        let mut out = Vec::new();
        let max = self.cfg.validation.max_order_qty.max(1);
        for (contract, qty, strategy) in flatten {
            let side = if qty > 0 { Side::Sell } else { Side::Buy };
            let mut left = qty.abs();
            while left > 0 {
                let chunk = left.min(max);
                left -= chunk;
                let mut r = OrderRequest::market(contract, side, chunk);
                r.strategy = strategy.clone();
                r.user = user.to_string();
                if let Err(e) = self.validate(&r) {
                    tracing::warn!(%contract, error = %e, "kill switch cannot flatten this position");
                    break;
                }
                let pass = PreTradeResult {
                    decision: PreTradeDecision::Pass,
                    reasons: vec!["kill switch".into()],
                    post_trade: None,
                };
                if let Ok(o) = self.enter(r, pass, None) {
                    out.push(o);
                }
            }
        }
        out
    }

    /// Resets a tripped circuit breaker (recorded in the audit log). It trips again when the
    /// day's loss grows by another tenth of the limit beyond the loss at the reset.
    pub fn reset_circuit_breaker(&mut self, user: &str) {
        let loss = (-self.positions.day_pnl_net_usd()).max(0.0);
        let limit = self.cfg.limits.max_daily_loss_usd;
        self.breaker_threshold_usd = limit.max(loss + BREAKER_REARM_FRACTION * limit);
        let was = self.breaker_tripped;
        self.breaker_tripped = false;
        let entry = self.audit(
            user,
            actions::BREAKER_RESET,
            serde_json::json!({"was_tripped": was, "day_loss_usd": loss, "trips_again_at_loss_usd": self.breaker_threshold_usd}),
        );
        self.events.push(EngineEvent::Audit(entry));
    }

    /// Records an edit of the limits by `user` in the audit log (the panel calls this after
    /// saving `risk_limits.yaml`).
    pub fn record_limit_edit(&mut self, user: &str, details: serde_json::Value) {
        let entry = self.audit(user, actions::LIMIT_EDIT, details);
        self.events.push(EngineEvent::Audit(entry));
    }

    /// Changes the daily loss limit at run time (a limit edit by `user`, recorded in the
    /// audit log with the old and new values). The circuit breaker then trips at a day loss
    /// of `max_daily_loss_usd`: at once when the day's loss already reaches it (also after
    /// an earlier reset), and a later reset re-arms it relative to the new limit. A tripped
    /// breaker stays tripped until a user resets it, whatever the new limit. Setting the
    /// current value again changes nothing and records nothing.
    ///
    /// # Errors
    /// [`TradingError::BadLimit`] unless `max_daily_loss_usd` is a finite number above 0;
    /// nothing changes.
    pub fn set_daily_loss_limit(&mut self, max_daily_loss_usd: f64, user: &str) -> Result<(), TradingError> {
        if !(max_daily_loss_usd.is_finite() && max_daily_loss_usd > 0.0) {
            return Err(TradingError::BadLimit {
                field: "max_daily_loss_usd".into(),
                reason: format!("{max_daily_loss_usd} is not a positive number of US dollars; enter e.g. 250000"),
            });
        }
        let old = self.cfg.limits.max_daily_loss_usd;
        if old == max_daily_loss_usd {
            return Ok(());
        }
        self.cfg.limits.max_daily_loss_usd = max_daily_loss_usd;
        self.breaker_threshold_usd = max_daily_loss_usd;
        let entry = self.audit(
            user,
            actions::LIMIT_EDIT,
            serde_json::json!({"limit": "max_daily_loss_usd", "old": old, "new": max_daily_loss_usd,
                "breaker_tripped": self.breaker_tripped}),
        );
        self.events.push(EngineEvent::Audit(entry));
        self.check_breaker();
        Ok(())
    }

    /// The daily loss (USD) at which the circuit breaker trips next: the limit, or more
    /// after a reset while over it.
    pub fn breaker_threshold_usd(&self) -> f64 {
        self.breaker_threshold_usd
    }

    /// Whether the daily-loss circuit breaker is tripped.
    pub fn circuit_breaker_tripped(&self) -> bool {
        self.breaker_tripped
    }

    fn check_breaker(&mut self) {
        if self.breaker_tripped {
            return;
        }
        let day = self.positions.day_pnl_net_usd();
        if -day >= self.breaker_threshold_usd {
            self.breaker_tripped = true;
            let entry = AuditEntry {
                ts: self.now,
                user: "system".into(),
                action: actions::BREAKER_TRIP.into(),
                details: serde_json::json!({"day_pnl_usd": day, "threshold_usd": self.breaker_threshold_usd})
                    .to_string(),
            };
            tracing::warn!(day_pnl_usd = day, "daily loss circuit breaker tripped");
            self.events.push(EngineEvent::Audit(entry));
        }
    }

    /// Records a refused user action in the audit log and returns the error.
    fn refuse_user(
        &mut self,
        user: &str,
        order_id: u64,
        from: OrderStatus,
        to: OrderStatus,
        action: &str,
    ) -> TradingError {
        let t = IllegalTransition { order_id, from, to, action: action.to_string() };
        self.oms.record_illegal(self.now, t.clone());
        let entry = self.audit(
            user,
            actions::REFUSED,
            serde_json::json!({"order_id": order_id, "action": action, "from": from.as_str(), "to": to.as_str(),
                "reason": t.to_string()}),
        );
        self.events.push(EngineEvent::Audit(entry));
        TradingError::Illegal(t)
    }

    fn flush_pending_audit(&mut self) {
        if let Some((_, a)) = self.audit_for.take() {
            self.events.push(EngineEvent::Audit(a));
        }
    }

    fn take_audit(&mut self, order_id: u64) -> Option<AuditEntry> {
        match &self.audit_for {
            Some((id, _)) if *id == order_id => self.audit_for.take().map(|(_, a)| a),
            _ => None,
        }
    }

    /// An OMS transition emitted as an order event.
    fn transition_event(
        &mut self,
        order_id: u64,
        to: OrderStatus,
        kind: OrderEventKind,
        reason: Option<String>,
        edit: impl FnOnce(&mut Order),
    ) -> Result<(), TradingError> {
        let t = self.now;
        let (order, event) = self.oms.transition(order_id, to, kind, t, reason, edit)?;
        let audit = self.take_audit(order_id);
        self.events.push(EngineEvent::Order { order, event, audit });
        Ok(())
    }

    /// Applies the broker's reports through the state machine.
    fn apply_reports(&mut self) {
        let mut i = 0;
        while i < self.reports.len() {
            let r = self.reports[i].clone();
            i += 1;
            let id = r.order_id();
            let result = match r {
                BrokerReport::Accepted { ts, .. } => {
                    self.at(ts);
                    self.transition_event(id, OrderStatus::Working, OrderEventKind::Accepted, None, |_| {})
                }
                BrokerReport::Rejected { ts, reason, .. } => {
                    self.at(ts);
                    if self.oms.get(id).is_some_and(|o| o.status == OrderStatus::PendingNew) {
                        let res = self.transition_event(
                            id,
                            OrderStatus::Rejected,
                            OrderEventKind::Rejected,
                            Some(reason),
                            |_| {},
                        );
                        self.cancel_linked(id);
                        res
                    } else {
                        tracing::warn!(order_id = id, %reason, "broker refused a request");
                        Ok(())
                    }
                }
                BrokerReport::Triggered { ts, .. } => {
                    self.at(ts);
                    let status = self.oms.get(id).map_or(OrderStatus::Working, |o| o.status);
                    self.transition_event(id, status, OrderEventKind::Triggered, None, |o| o.triggered = true)
                }
                BrokerReport::Amended { ts, qty, limit_price, stop_price, .. } => {
                    self.at(ts);
                    let status = self.oms.get(id).map_or(OrderStatus::Working, |o| o.status);
                    self.transition_event(id, status, OrderEventKind::Amended, None, |o| {
                        o.qty = qty;
                        o.limit_price = limit_price;
                        o.stop_price = stop_price;
                    })
                }
                BrokerReport::Fill { ts, qty, price, liquidity, commission_usd, fees_usd, .. } => {
                    self.at(ts);
                    self.oms.apply_fill(id, Execution { qty, price, ts, liquidity, commission_usd, fees_usd }).map(
                        |(order, event, fill)| {
                            self.positions.apply_fill(&fill);
                            let mark_price = self.quotes.get(&fill.contract).map_or(fill.price, Quote::mid);
                            let mark = Mark { contract: fill.contract, price: mark_price, ts };
                            self.positions.mark(fill.contract, mark_price);
                            self.events.push(EngineEvent::Fill { order, event, fill, mark: Some(mark) });
                        },
                    )
                }
                BrokerReport::Cancelled { ts, reason, .. } => {
                    self.at(ts);
                    let res = self.transition_event(
                        id,
                        OrderStatus::Cancelled,
                        OrderEventKind::Cancelled,
                        Some(reason),
                        |_| {},
                    );
                    self.cancel_linked(id);
                    res
                }
                BrokerReport::Expired { ts, reason, .. } => {
                    self.at(ts);
                    let res =
                        self.transition_event(id, OrderStatus::Expired, OrderEventKind::Expired, Some(reason), |_| {});
                    self.cancel_linked(id);
                    res
                }
            };
            if let Err(e) = result {
                tracing::warn!(order_id = id, error = %e, "broker report not applied");
            }
        }
        self.reports.clear();
    }

    /// Moves event time forward to a report's time.
    fn at(&mut self, ts: Timestamp) {
        if ts > self.now {
            self.now = ts;
        }
    }

    /// After a spread leg ended without filling completely, cancels the legs still open.
    fn cancel_linked(&mut self, order_id: u64) {
        let Some(o) = self.oms.get(order_id) else {
            return;
        };
        let Some(link) = o.spread else {
            return;
        };
        let status = o.status;
        let others: Vec<u64> = self
            .oms
            .spread_legs(link.spread_id)
            .iter()
            .filter(|l| l.order_id != order_id && l.is_open())
            .map(|l| l.order_id)
            .collect();
        let t = self.now;
        for id in others {
            let reason = format!("linked leg: order {order_id} of spread {} {status}", link.spread_id);
            let before = self.reports.len();
            self.broker.cancel(id, t, &reason, &mut self.reports);
            if self.reports.len() == before {
                // The broker no longer holds the leg (e.g. never sent): cancel it here.
                let _ =
                    self.transition_event(id, OrderStatus::Cancelled, OrderEventKind::Cancelled, Some(reason), |_| {});
            }
        }
    }

    /// Processes one market event: broker timers up to its time, marks, settlements (a new
    /// P&L day), the broker's matching, then the circuit breaker.
    pub fn on_market(&mut self, event: &MarketEvent) {
        let ts = event.ts();
        if ts > self.now {
            self.broker.advance_to(ts, &mut self.reports);
            self.apply_reports();
            self.now = ts;
        }
        match event {
            MarketEvent::Quote(q) => {
                self.quotes.insert(q.contract, *q);
                self.positions.mark(q.contract, q.mid());
            }
            MarketEvent::Trade(t) => {
                self.last_trade.insert(t.contract, t.price);
            }
            MarketEvent::Settlement { contract, price, .. } => {
                self.positions.settle(*contract, *price);
            }
            MarketEvent::Bar { series: SeriesId::Contract(c), bar, .. } => {
                self.last_trade.insert(*c, bar.close);
                self.positions.mark(*c, bar.close);
            }
            _ => {}
        }
        self.broker.on_market(event, &mut self.reports);
        self.apply_reports();
        self.check_breaker();
    }

    /// Lets event time pass to `ts` without market data (acknowledgements and expiries due
    /// by then happen).
    pub fn advance_to(&mut self, ts: Timestamp) {
        if ts <= self.now {
            return;
        }
        self.broker.advance_to(ts, &mut self.reports);
        self.apply_reports();
        self.now = ts;
    }

    /// One order.
    pub fn order(&self, order_id: u64) -> Option<&Order> {
        self.oms.get(order_id)
    }

    /// Every order of this session (and open orders recovered on start), by id.
    pub fn orders(&self) -> impl Iterator<Item = &Order> {
        self.oms.orders()
    }

    /// Open orders, by id.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.oms.open_orders()
    }

    /// Positions per contract (all strategies).
    pub fn positions(&self) -> &[Position] {
        self.positions.positions()
    }

    /// The position keeper (per-strategy positions, summaries).
    pub fn position_keeper(&self) -> &PositionKeeper {
        &self.positions
    }

    /// P&L totals, by strategy and by market.
    pub fn summary(&self) -> PnlSummary {
        self.positions.summary()
    }

    /// Marks of every contract with a quote or a marked position.
    pub fn marks(&self) -> Vec<Mark> {
        let mut out: BTreeMap<ContractId, Mark> = BTreeMap::new();
        for p in self.positions.positions() {
            if let Some(m) = p.mark {
                out.insert(p.contract, Mark { contract: p.contract, price: m, ts: self.now });
            }
        }
        for (c, q) in &self.quotes {
            out.insert(*c, Mark { contract: *c, price: q.mid(), ts: q.ts });
        }
        out.into_values().collect()
    }

    /// Refused state transitions (in memory, most recent last).
    pub fn illegal_log(&self) -> &[IllegalAttempt] {
        self.oms.illegal_log()
    }
}
