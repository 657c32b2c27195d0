//! Orders, fills and positions: the types the order management system, the brokers, the
//! position keeper, the store, the risk engine and the panels share.
//!
//! * [`OrderRequest`] is what a trader (panel, CLI, strategy) asks for;
//!   [`validate_order_request`] checks it against the instrument specification before
//!   anything is written: quantity, prices on the tick grid and finite, contract listed and
//!   not expired on the given trading date (never read from the clock), and the limit
//!   price inside a fat-finger band around a reference price. Negative prices are legal.
//! * [`Order`] is an order as the order management system keeps it; its [`OrderStatus`]
//!   follows the state machine of [`OrderStatus::can_transition_to`]; every change is an
//!   [`OrderEvent`].
//! * [`Fill`] is one execution; [`Position`] is derived from fills only
//!   ([`Position::apply_fill`]) and marked to market ([`Position::unrealized_pnl_usd`]).
//! * [`PreTradeCheck`] is the pre-trade risk interface: the limits-only check and the
//!   VaR-based check implement it, the Trade panel and the order management system call it
//!   with a [`BookView`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{ContractId, InstrumentSpec, Instruments, Timestamp};

/// A bad order field: names the field, says what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct OrderValidationError {
    /// The offending field, as named in files and on the command line (`qty`, `limit_price`, …).
    pub field: &'static str,
    /// What is wrong and what would be accepted.
    pub reason: String,
}

impl OrderValidationError {
    /// An error for `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for a buy, −1 for a sell.
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }

    /// The other side.
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// `buy` / `sell`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Side {
    type Err = OrderValidationError;

    /// `buy`/`b` or `sell`/`s`, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "buy" | "b" => Ok(Side::Buy),
            "sell" | "s" => Ok(Side::Sell),
            _ => Err(OrderValidationError::new("side", format!("'{s}' is not a side; use buy or sell"))),
        }
    }
}

/// Order types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Executes at the market (the touch, plus slippage in the paper broker).
    Market,
    /// Executes at the limit price or better.
    Limit,
    /// Becomes a market order once the market trades at or through the stop price.
    Stop,
    /// Becomes a limit order once the market trades at or through the stop price.
    StopLimit,
}

impl OrderType {
    /// `market`, `limit`, `stop`, `stop_limit`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "market",
            OrderType::Limit => "limit",
            OrderType::Stop => "stop",
            OrderType::StopLimit => "stop_limit",
        }
    }

    /// Whether the type carries a limit price.
    pub const fn needs_limit(self) -> bool {
        matches!(self, OrderType::Limit | OrderType::StopLimit)
    }

    /// Whether the type carries a stop (trigger) price.
    pub const fn needs_stop(self) -> bool {
        matches!(self, OrderType::Stop | OrderType::StopLimit)
    }
}

impl fmt::Display for OrderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderType {
    type Err = OrderValidationError;

    /// `market`/`mkt`, `limit`/`lmt`, `stop`/`stp`, `stop_limit`/`stop-limit`/`stplmt`, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "market" | "mkt" => Ok(OrderType::Market),
            "limit" | "lmt" => Ok(OrderType::Limit),
            "stop" | "stp" => Ok(OrderType::Stop),
            "stop_limit" | "stop-limit" | "stoplimit" | "stplmt" => Ok(OrderType::StopLimit),
            _ => Err(OrderValidationError::new(
                "type",
                format!("'{s}' is not an order type; use market, limit, stop or stop_limit"),
            )),
        }
    }
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Expires at the close of the trading session it was entered in.
    Day,
    /// Good till cancelled (or until the contract's last trading day).
    Gtc,
    /// Immediate or cancel: executes what it can on arrival, cancels the rest.
    Ioc,
    /// Fill or kill: executes in full on arrival or not at all.
    Fok,
}

impl TimeInForce {
    /// `day`, `gtc`, `ioc`, `fok`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Day => "day",
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
            TimeInForce::Fok => "fok",
        }
    }

    /// Whether the order must complete on arrival (IOC, FOK).
    pub const fn is_immediate(self) -> bool {
        matches!(self, TimeInForce::Ioc | TimeInForce::Fok)
    }
}

impl fmt::Display for TimeInForce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimeInForce {
    type Err = OrderValidationError;

    /// `day`, `gtc`, `ioc`, `fok`, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" => Ok(TimeInForce::Day),
            "gtc" => Ok(TimeInForce::Gtc),
            "ioc" => Ok(TimeInForce::Ioc),
            "fok" => Ok(TimeInForce::Fok),
            _ => {
                Err(OrderValidationError::new("tif", format!("'{s}' is not a time in force; use day, gtc, ioc or fok")))
            }
        }
    }
}

/// Where an order is in its life.
///
/// ```text
/// PendingNew ──► Working ──► PartiallyFilled ──► Filled
///     │             │  ▲           │  ▲
///     │             └──┘ amend     └──┘ amend, more fills
///     ├──► Rejected
///     └──► Cancelled / Expired  (also from Working and PartiallyFilled)
/// ```
/// `Filled`, `Cancelled`, `Rejected` and `Expired` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted by the order management system, not yet acknowledged by the broker.
    PendingNew,
    /// Acknowledged and working at the broker, nothing filled.
    Working,
    /// Some but not all of the quantity filled; the rest is working.
    PartiallyFilled,
    /// The whole quantity filled.
    Filled,
    /// Cancelled (by the user, by IOC/FOK rules, or by a linked leg); may have fills.
    Cancelled,
    /// Refused by the pre-trade check or the broker; never worked.
    Rejected,
    /// Reached its time limit (DAY at the session close, GTC at the contract's expiry).
    Expired,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::PendingNew,
        OrderStatus::Working,
        OrderStatus::PartiallyFilled,
        OrderStatus::Filled,
        OrderStatus::Cancelled,
        OrderStatus::Rejected,
        OrderStatus::Expired,
    ];

    /// `pending_new`, `working`, `partially_filled`, `filled`, `cancelled`, `rejected`, `expired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingNew => "pending_new",
            OrderStatus::Working => "working",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Expired => "expired",
        }
    }

    /// Whether no further transition is possible.
    pub const fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Filled | OrderStatus::Cancelled | OrderStatus::Rejected | OrderStatus::Expired)
    }

    /// Whether the order is live (pending, working or partially filled).
    pub const fn is_open(self) -> bool {
        !self.is_terminal()
    }

    /// The state machine: whether an order may move from `self` to `next`. Staying in
    /// `Working` or `PartiallyFilled` (amend, a trigger, a further partial fill) is a legal
    /// transition; nothing leaves a terminal state.
    pub const fn can_transition_to(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        match self {
            PendingNew => matches!(next, Working | Rejected | Cancelled | Expired),
            Working => matches!(next, Working | PartiallyFilled | Filled | Cancelled | Expired),
            PartiallyFilled => matches!(next, PartiallyFilled | Filled | Cancelled | Expired),
            Filled | Cancelled | Rejected | Expired => false,
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = OrderValidationError;

    /// The [`OrderStatus::as_str`] forms.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s.trim()).ok_or_else(|| {
            OrderValidationError::new(
                "status",
                format!("'{s}' is not an order status; use one of pending_new, working, partially_filled, filled, cancelled, rejected, expired"),
            )
        })
    }
}

/// Whether a fill added liquidity (a resting order hit by the market) or took it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    Maker,
    Taker,
}

impl Liquidity {
    /// `maker` / `taker`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Liquidity::Maker => "maker",
            Liquidity::Taker => "taker",
        }
    }
}

impl FromStr for Liquidity {
    type Err = OrderValidationError;

    /// `maker` / `taker`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "maker" => Ok(Liquidity::Maker),
            "taker" => Ok(Liquidity::Taker),
            _ => Err(OrderValidationError::new("liquidity", format!("'{s}' is not maker or taker"))),
        }
    }
}

/// What a trader asks for. Quantities are whole contracts (always positive; the side gives
/// the direction); prices are in the market's unit ($/bbl or $/gal) and may be negative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub contract: ContractId,
    pub side: Side,
    /// Contracts, > 0.
    pub qty: i64,
    pub order_type: OrderType,
    /// Required for `Limit` and `StopLimit`, absent otherwise.
    pub limit_price: Option<f64>,
    /// Required for `Stop` and `StopLimit`, absent otherwise.
    pub stop_price: Option<f64>,
    pub tif: TimeInForce,
    /// Strategy tag for P&L attribution.
    pub strategy: String,
    /// Who entered the order.
    pub user: String,
    /// Caller-chosen identifier; the order management system assigns a unique one when absent.
    pub client_order_id: Option<String>,
}

impl OrderRequest {
    /// A market order (DAY, strategy `manual`, user `trader`); adjust the fields as needed.
    pub fn market(contract: ContractId, side: Side, qty: i64) -> Self {
        Self {
            contract,
            side,
            qty,
            order_type: OrderType::Market,
            limit_price: None,
            stop_price: None,
            tif: TimeInForce::Day,
            strategy: "manual".into(),
            user: "trader".into(),
            client_order_id: None,
        }
    }

    /// A limit order (DAY, strategy `manual`, user `trader`).
    pub fn limit(contract: ContractId, side: Side, qty: i64, price: f64) -> Self {
        Self { order_type: OrderType::Limit, limit_price: Some(price), ..Self::market(contract, side, qty) }
    }

    /// A stop order (DAY, strategy `manual`, user `trader`).
    pub fn stop(contract: ContractId, side: Side, qty: i64, stop: f64) -> Self {
        Self { order_type: OrderType::Stop, stop_price: Some(stop), ..Self::market(contract, side, qty) }
    }

    /// A stop-limit order (DAY, strategy `manual`, user `trader`).
    pub fn stop_limit(contract: ContractId, side: Side, qty: i64, stop: f64, limit: f64) -> Self {
        Self {
            order_type: OrderType::StopLimit,
            stop_price: Some(stop),
            limit_price: Some(limit),
            ..Self::market(contract, side, qty)
        }
    }

    /// The same request with another time in force.
    pub fn with_tif(mut self, tif: TimeInForce) -> Self {
        self.tif = tif;
        self
    }

    /// The same request with another strategy tag.
    pub fn with_strategy(mut self, strategy: impl Into<String>) -> Self {
        self.strategy = strategy.into();
        self
    }

    /// Signed quantity: positive for buys, negative for sells.
    pub fn signed_qty(&self) -> i64 {
        self.side.sign() * self.qty
    }
}

/// Membership of an order in a spread (linked legs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SpreadLink {
    /// Identifier shared by all legs of one spread order.
    pub spread_id: u64,
    /// Leg index within the spread, from 0.
    pub leg: u8,
    /// Signed contracts of this leg per unit of spread (+ buys, − sells).
    pub ratio: i64,
}

/// An order as the order management system keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Unique, assigned by the order management system (never reused, also across restarts).
    pub order_id: u64,
    /// Unique client order identifier.
    pub client_order_id: String,
    pub contract: ContractId,
    pub side: Side,
    /// Total quantity (after amendments).
    pub qty: i64,
    pub order_type: OrderType,
    pub limit_price: Option<f64>,
    pub stop_price: Option<f64>,
    pub tif: TimeInForce,
    pub strategy: String,
    pub user: String,
    pub status: OrderStatus,
    /// Contracts filled so far.
    pub filled_qty: i64,
    /// Volume-weighted average fill price, when anything filled.
    pub avg_fill_price: Option<f64>,
    /// Whether a stop / stop-limit order has been triggered.
    pub triggered: bool,
    /// Event time the order was entered.
    pub created_ts: Timestamp,
    /// Event time of the last change.
    pub updated_ts: Timestamp,
    /// When the order expires (DAY: the session close; GTC: the contract's last session).
    pub expire_ts: Option<Timestamp>,
    /// Mid price of the contract when the order was entered (for slippage analysis).
    pub arrival_price: Option<f64>,
    /// Spread membership for linked legs.
    pub spread: Option<SpreadLink>,
    /// Reason of the last rejection, cancellation or expiry.
    pub reason: Option<String>,
    /// Sequence number of the order's last event (1 after `Submitted`).
    pub last_seq: u32,
}

impl Order {
    /// Contracts still to fill (0 once terminal).
    pub fn remaining_qty(&self) -> i64 {
        if self.status.is_terminal() { 0 } else { (self.qty - self.filled_qty).max(0) }
    }

    /// Signed remaining quantity (positive for buys).
    pub fn signed_remaining(&self) -> i64 {
        self.side.sign() * self.remaining_qty()
    }

    /// Whether the order is live.
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }

    /// The request this order was created from (with its current quantity and prices).
    pub fn request(&self) -> OrderRequest {
        OrderRequest {
            contract: self.contract,
            side: self.side,
            qty: self.qty,
            order_type: self.order_type,
            limit_price: self.limit_price,
            stop_price: self.stop_price,
            tif: self.tif,
            strategy: self.strategy.clone(),
            user: self.user.clone(),
            client_order_id: Some(self.client_order_id.clone()),
        }
    }
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEventKind {
    /// Entered into the order management system (status `PendingNew`).
    Submitted,
    /// Acknowledged by the broker (status `Working`).
    Accepted,
    /// Refused by the pre-trade check or the broker.
    Rejected,
    /// A stop / stop-limit order's trigger condition was met.
    Triggered,
    /// Price or quantity changed.
    Amended,
    /// A fill (status `PartiallyFilled` or `Filled`).
    Fill,
    /// Cancelled.
    Cancelled,
    /// Expired.
    Expired,
}

impl OrderEventKind {
    /// Every kind.
    pub const ALL: [OrderEventKind; 8] = [
        OrderEventKind::Submitted,
        OrderEventKind::Accepted,
        OrderEventKind::Rejected,
        OrderEventKind::Triggered,
        OrderEventKind::Amended,
        OrderEventKind::Fill,
        OrderEventKind::Cancelled,
        OrderEventKind::Expired,
    ];

    /// `submitted`, `accepted`, `rejected`, `triggered`, `amended`, `fill`, `cancelled`, `expired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderEventKind::Submitted => "submitted",
            OrderEventKind::Accepted => "accepted",
            OrderEventKind::Rejected => "rejected",
            OrderEventKind::Triggered => "triggered",
            OrderEventKind::Amended => "amended",
            OrderEventKind::Fill => "fill",
            OrderEventKind::Cancelled => "cancelled",
            OrderEventKind::Expired => "expired",
        }
    }
}

impl fmt::Display for OrderEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderEventKind {
    type Err = OrderValidationError;

    /// The [`OrderEventKind::as_str`] forms.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderEventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| OrderValidationError::new("kind", format!("'{s}' is not an order event kind")))
    }
}

/// One change to an order, with the order's state after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: u64,
    /// 1 for the first event of the order, then consecutive.
    pub seq: u32,
    pub ts: Timestamp,
    pub kind: OrderEventKind,
    /// Status before the event (`None` for `Submitted`).
    pub prev_status: Option<OrderStatus>,
    /// Status after the event.
    pub status: OrderStatus,
    /// Order quantity after the event.
    pub qty: i64,
    /// Filled quantity after the event.
    pub filled_qty: i64,
    pub limit_price: Option<f64>,
    pub stop_price: Option<f64>,
    /// The fill of a `Fill` event.
    pub fill_id: Option<u64>,
    /// Why (rejections, cancellations, expiries, pre-trade warnings).
    pub reason: Option<String>,
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// Unique, assigned by the order management system.
    pub fill_id: u64,
    pub order_id: u64,
    pub contract: ContractId,
    pub side: Side,
    /// Contracts, > 0.
    pub qty: i64,
    pub price: f64,
    pub ts: Timestamp,
    /// Broker commission for the fill, USD.
    pub commission_usd: f64,
    /// Exchange and clearing fees for the fill, USD.
    pub fees_usd: f64,
    pub liquidity: Liquidity,
    /// The order's strategy tag (copied so positions by strategy derive from fills alone).
    pub strategy: String,
}

impl Fill {
    /// Signed quantity: positive for buys.
    pub fn signed_qty(&self) -> i64 {
        self.side.sign() * self.qty
    }

    /// Commission plus fees, USD.
    pub fn costs_usd(&self) -> f64 {
        self.commission_usd + self.fees_usd
    }
}

/// A position in one contract month (for one strategy, or for all when `strategy` is
/// `None`), derived from fills only.
///
/// Average entry price: buys onto a long (or sells onto a short) average in; trades the
/// other way realise P&L against the average and leave it unchanged; a trade through flat
/// opens the remainder at its own price. Day P&L is measured against the previous
/// settlement ([`Position::roll_day`]) or, before any settlement is known, against the
/// first mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub contract: ContractId,
    pub strategy: Option<String>,
    /// Signed contracts (positive long).
    pub qty: i64,
    /// Average entry price of the open quantity (0 when flat).
    pub avg_price: f64,
    /// Units per contract (1,000 bbl, 42,000 gal).
    pub multiplier: f64,
    /// Realised trading P&L, USD, before costs.
    pub realized_pnl_usd: f64,
    /// Commissions and fees paid, USD.
    pub fees_usd: f64,
    /// Last mark (mid), if any.
    pub mark: Option<f64>,
    /// Price the day P&L is measured from (the previous settlement, or the first mark).
    pub day_base_price: Option<f64>,
    /// Quantity held when the day started.
    pub day_start_qty: i64,
    /// Σ price × signed quantity of today's fills.
    pub day_traded_value: f64,
    /// Realised P&L and costs at the start of the day (to split the day's share).
    pub day_start_costs_usd: f64,
    /// Number of fills.
    pub fill_count: u64,
}

impl Position {
    /// A flat position.
    pub fn flat(contract: ContractId, strategy: Option<String>, multiplier: f64) -> Self {
        Self {
            contract,
            strategy,
            qty: 0,
            avg_price: 0.0,
            multiplier,
            realized_pnl_usd: 0.0,
            fees_usd: 0.0,
            mark: None,
            day_base_price: None,
            day_start_qty: 0,
            day_traded_value: 0.0,
            day_start_costs_usd: 0.0,
            fill_count: 0,
        }
    }

    /// Applies a fill of `qty` contracts (> 0) on `side` at `price` with `costs_usd` of
    /// commission and fees; returns the P&L it realised (USD, before costs).
    pub fn apply_fill(&mut self, side: Side, qty: i64, price: f64, costs_usd: f64) -> f64 {
        let dq = side.sign() * qty;
        let q = self.qty;
        let mut realized = 0.0;
        if q == 0 || (q > 0) == (dq > 0) {
            let new_q = q + dq;
            if new_q != 0 {
                self.avg_price = (self.avg_price * q.abs() as f64 + price * dq.abs() as f64) / new_q.abs() as f64;
            }
            self.qty = new_q;
        } else {
            let closed = dq.abs().min(q.abs());
            realized = (price - self.avg_price) * closed as f64 * q.signum() as f64 * self.multiplier;
            let new_q = q + dq;
            if new_q == 0 {
                self.avg_price = 0.0;
            } else if new_q.signum() != q.signum() {
                self.avg_price = price;
            }
            self.qty = new_q;
        }
        self.realized_pnl_usd += realized;
        self.fees_usd += costs_usd;
        self.day_traded_value += price * dq as f64;
        self.fill_count += 1;
        realized
    }

    /// Sets the mark; the first mark becomes the day base when no settlement is known.
    pub fn set_mark(&mut self, price: f64) {
        if self.day_base_price.is_none() {
            self.day_base_price = Some(price);
        }
        self.mark = Some(price);
    }

    /// Starts a new P&L day from `settlement` (the previous session's settlement price).
    pub fn roll_day(&mut self, settlement: f64) {
        self.start_day(Some(settlement));
    }

    /// Starts a new P&L day at the current quantity from `base` (`None`: the next mark
    /// becomes the base), e.g. after positions were rebuilt from the fill history.
    pub fn start_day(&mut self, base: Option<f64>) {
        self.day_base_price = base;
        self.day_start_qty = self.qty;
        self.day_traded_value = 0.0;
        self.day_start_costs_usd = self.fees_usd;
    }

    /// Unrealised P&L at the mark, USD (0 without a mark or when flat).
    pub fn unrealized_pnl_usd(&self) -> f64 {
        match self.mark {
            Some(m) if self.qty != 0 => (m - self.avg_price) * self.qty as f64 * self.multiplier,
            _ => 0.0,
        }
    }

    /// Realised plus unrealised minus costs, USD.
    pub fn net_pnl_usd(&self) -> f64 {
        self.realized_pnl_usd + self.unrealized_pnl_usd() - self.fees_usd
    }

    /// Day P&L, USD, before costs: the carried quantity from the day base to the mark plus
    /// today's trades from their prices to the mark.
    pub fn day_pnl_usd(&self) -> f64 {
        let mark = match self.mark {
            Some(m) => m,
            // Flat without a mark: only today's round trips count.
            None if self.qty == 0 && self.day_start_qty == 0 => 0.0,
            None => return 0.0,
        };
        let base = if self.day_start_qty == 0 { 0.0 } else { self.day_base_price.unwrap_or(mark) };
        (mark * self.qty as f64 - base * self.day_start_qty as f64 - self.day_traded_value) * self.multiplier
    }

    /// Today's commissions and fees, USD.
    pub fn day_costs_usd(&self) -> f64 {
        self.fees_usd - self.day_start_costs_usd
    }

    /// Signed notional at the mark (or the average price without one), USD.
    pub fn notional_usd(&self) -> f64 {
        self.mark.unwrap_or(self.avg_price) * self.qty as f64 * self.multiplier
    }
}

/// Limits on what an order may look like, independent of the book (fat-finger protection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    /// Largest quantity of one order, contracts.
    pub max_order_qty: i64,
    /// Fat-finger band: a limit price may differ from the reference price by at most this
    /// percentage of the reference's absolute value …
    pub fat_finger_band_pct: f64,
    /// … or by this many ticks, whichever is wider (keeps the band sane near zero prices).
    pub fat_finger_min_ticks: u32,
}

impl Default for ValidationConfig {
    /// 1,000 contracts; ±10 % or ±50 ticks.
    fn default() -> Self {
        Self { max_order_qty: 1_000, fat_finger_band_pct: 10.0, fat_finger_min_ticks: 50 }
    }
}

impl ValidationConfig {
    /// Checks the configuration's own ranges.
    ///
    /// # Errors
    /// [`OrderValidationError`] naming the config field.
    pub fn validate(&self) -> Result<(), OrderValidationError> {
        if self.max_order_qty < 1 {
            return Err(OrderValidationError::new("max_order_qty", "must be at least 1 contract"));
        }
        if !(self.fat_finger_band_pct.is_finite()
            && self.fat_finger_band_pct > 0.0
            && self.fat_finger_band_pct <= 100.0)
        {
            return Err(OrderValidationError::new(
                "fat_finger_band_pct",
                format!(
                    "{} is out of range; use a percentage greater than 0 and at most 100",
                    self.fat_finger_band_pct
                ),
            ));
        }
        Ok(())
    }

    /// Half-width of the fat-finger band around `reference` for a market with `tick_size`.
    pub fn band_width(&self, reference: f64, tick_size: f64) -> f64 {
        (self.fat_finger_band_pct / 100.0 * reference.abs()).max(f64::from(self.fat_finger_min_ticks) * tick_size)
    }
}

/// Decimal places of a tick size (0.01 → 2, 0.0001 → 4).
pub fn tick_decimals(tick_size: f64) -> usize {
    let mut d = 0usize;
    let mut t = tick_size;
    while d < 10 && (t - t.round()).abs() > 1e-9 {
        t *= 10.0;
        d += 1;
    }
    d
}

/// A price formatted with the market's tick decimals.
pub fn format_price(spec: &InstrumentSpec, price: f64) -> String {
    format!("{:.*}", tick_decimals(spec.tick_size), price)
}

/// Checks one price field: finite and on the tick grid.
/// The largest absolute price an order may carry (far beyond any oil future; a larger
/// number is a typing error, and tick arithmetic on it would lose precision).
pub const MAX_PRICE: f64 = 1_000_000.0;

fn check_price(field: &'static str, price: f64, spec: &InstrumentSpec) -> Result<(), OrderValidationError> {
    if !price.is_finite() {
        return Err(OrderValidationError::new(field, format!("{price} is not a price; enter a finite number")));
    }
    if price.abs() > MAX_PRICE {
        return Err(OrderValidationError::new(
            field,
            format!("{price:e} is not a price of {}; enter a price within ±{MAX_PRICE}", spec.market.code()),
        ));
    }
    if !spec.is_on_tick_grid(price) {
        let below = spec.round_to_tick((price / spec.tick_size).floor() * spec.tick_size);
        let above = spec.round_to_tick((price / spec.tick_size).ceil() * spec.tick_size);
        return Err(OrderValidationError::new(
            field,
            format!(
                "{price} is off the {} tick grid of {}; use {} or {}",
                format_price(spec, spec.tick_size),
                spec.market.code(),
                format_price(spec, below),
                format_price(spec, above)
            ),
        ));
    }
    Ok(())
}

/// Checks an order request before anything is written: the quantity (whole contracts,
/// 1..=`max_order_qty`), the prices its type needs (present, finite, on the tick grid;
/// negative prices are legal), absent prices its type does not use, the contract (listed
/// and not expired on `trading_date`, which the caller passes — nothing here reads the
/// clock), strategy and user tags (non-empty, at most 64 characters, no control
/// characters), and, when `reference_price` is known, the limit price within the
/// fat-finger band of `cfg` around it.
///
/// # Errors
/// The first [`OrderValidationError`] found, naming the field and the fix.
pub fn validate_order_request(
    req: &OrderRequest,
    instruments: &Instruments,
    trading_date: NaiveDate,
    reference_price: Option<f64>,
    cfg: &ValidationConfig,
) -> Result<(), OrderValidationError> {
    let spec = instruments.spec(req.contract.market);
    if req.qty <= 0 {
        return Err(OrderValidationError::new(
            "qty",
            format!(
                "{} is not a quantity; enter a positive whole number of contracts (use side sell to go short)",
                req.qty
            ),
        ));
    }
    if req.qty > cfg.max_order_qty {
        return Err(OrderValidationError::new(
            "qty",
            format!(
                "{} contracts exceeds the maximum order size of {}; split the order or raise max_order_qty",
                req.qty, cfg.max_order_qty
            ),
        ));
    }
    let t = req.order_type;
    match (t.needs_limit(), req.limit_price) {
        (true, None) => {
            return Err(OrderValidationError::new(
                "limit_price",
                format!("a {t} order needs a limit price; enter one"),
            ));
        }
        (false, Some(_)) => {
            return Err(OrderValidationError::new(
                "limit_price",
                format!("a {t} order takes no limit price; leave it empty or use type limit / stop_limit"),
            ));
        }
        (true, Some(p)) => check_price("limit_price", p, spec)?,
        (false, None) => {}
    }
    match (t.needs_stop(), req.stop_price) {
        (true, None) => {
            return Err(OrderValidationError::new("stop_price", format!("a {t} order needs a stop price; enter one")));
        }
        (false, Some(_)) => {
            return Err(OrderValidationError::new(
                "stop_price",
                format!("a {t} order takes no stop price; leave it empty or use type stop / stop_limit"),
            ));
        }
        (true, Some(p)) => check_price("stop_price", p, spec)?,
        (false, None) => {}
    }
    if req.tif == TimeInForce::Fok && t.needs_stop() {
        return Err(OrderValidationError::new(
            "tif",
            "fok applies on arrival and cannot wait for a stop trigger; use day or gtc",
        ));
    }
    if req.tif == TimeInForce::Ioc && t.needs_stop() {
        return Err(OrderValidationError::new(
            "tif",
            "ioc applies on arrival and cannot wait for a stop trigger; use day or gtc",
        ));
    }
    let c = req.contract;
    if c.is_expired_on(trading_date) {
        return Err(OrderValidationError::new(
            "contract",
            format!(
                "{c} ({}) expired: its last trading day was {}; trade a later month or a generic such as {}1",
                c.month,
                c.last_trade_date(),
                c.market.code()
            ),
        ));
    }
    let front = c.market.front_contract(trading_date);
    let listed = i32::try_from(spec.listed_months).unwrap_or(i32::MAX);
    if c.month.months_since(front.month) >= listed {
        return Err(OrderValidationError::new(
            "contract",
            format!(
                "{c} ({}) is not listed on {trading_date}: {} lists {} consecutive months from {front}; trade a nearer month",
                c.month,
                c.market.code(),
                spec.listed_months
            ),
        ));
    }
    check_tag("strategy", &req.strategy)?;
    check_tag("user", &req.user)?;
    if let Some(id) = &req.client_order_id {
        check_tag("client_order_id", id)?;
    }
    if let (Some(limit), Some(reference)) = (req.limit_price, reference_price)
        && reference.is_finite()
    {
        let band = cfg.band_width(reference, spec.tick_size);
        if (limit - reference).abs() > band + 1e-9 * spec.tick_size {
            return Err(OrderValidationError::new(
                "limit_price",
                format!(
                    "{} is outside the fat-finger band {}..{} around the market {} (±{}%, at least {} ticks); check the price or change fat_finger_band_pct",
                    format_price(spec, limit),
                    format_price(spec, spec.round_to_tick(reference - band)),
                    format_price(spec, spec.round_to_tick(reference + band)),
                    format_price(spec, reference),
                    cfg.fat_finger_band_pct,
                    cfg.fat_finger_min_ticks
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a free-text tag (strategy, user, client order id).
fn check_tag(field: &'static str, s: &str) -> Result<(), OrderValidationError> {
    if s.trim().is_empty() {
        return Err(OrderValidationError::new(field, "is empty; enter a name"));
    }
    if s.chars().count() > 64 {
        return Err(OrderValidationError::new(field, "is longer than 64 characters; shorten it"));
    }
    if s.chars().any(char::is_control) {
        return Err(OrderValidationError::new(field, "contains control characters; use printable text"));
    }
    Ok(())
}

/// Parses a quantity field: a whole number of contracts.
///
/// # Errors
/// [`OrderValidationError`] on field `qty` for empty, fractional or non-numeric input.
pub fn parse_qty(s: &str) -> Result<i64, OrderValidationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(OrderValidationError::new("qty", "is empty; enter a whole number of contracts"));
    }
    if let Ok(q) = t.parse::<i64>() {
        return Ok(q);
    }
    if let Ok(x) = t.parse::<f64>()
        && x.is_finite()
    {
        if x.fract() != 0.0 {
            return Err(OrderValidationError::new(
                "qty",
                format!("'{t}' is fractional; futures trade in whole contracts, enter e.g. {}", x.trunc().max(1.0)),
            ));
        }
        return Err(OrderValidationError::new(
            "qty",
            format!("'{t}' is not a whole number of contracts as written; enter digits only, e.g. 5"),
        ));
    }
    Err(OrderValidationError::new("qty", format!("'{t}' is not a number; enter a whole number of contracts")))
}

/// Parses a price field (`field` names it in errors). Empty gives `None`; NaN and infinities
/// are refused; negative prices are accepted.
///
/// # Errors
/// [`OrderValidationError`] on `field` for non-numeric or non-finite input.
pub fn parse_price(field: &'static str, s: &str) -> Result<Option<f64>, OrderValidationError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        Ok(_) => {
            Err(OrderValidationError::new(field, format!("'{t}' is not a finite price; enter a number such as 71.25")))
        }
        Err(_) => Err(OrderValidationError::new(field, format!("'{t}' is not a number; enter a price such as 71.25"))),
    }
}

/// The pre-trade decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreTradeDecision {
    /// Within every limit.
    Pass,
    /// Allowed, but close to a limit (the reasons say which).
    Warn,
    /// Refused (the reasons say why).
    Reject,
}

impl PreTradeDecision {
    /// `pass`, `warn`, `reject`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PreTradeDecision::Pass => "pass",
            PreTradeDecision::Warn => "warn",
            PreTradeDecision::Reject => "reject",
        }
    }
}

/// Risk figures of the book as it would be after the order filled completely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostTradeMetrics {
    /// Post-trade value at risk, USD, where the check estimates one (`None` for checks that
    /// only apply position limits).
    pub var_usd: Option<f64>,
    /// `(limit name, used / limit)`: 1.0 is at the limit.
    pub utilisations: Vec<(String, f64)>,
    /// Post-trade initial margin, USD.
    pub margin_usd: f64,
}

/// The outcome of a pre-trade check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreTradeResult {
    pub decision: PreTradeDecision,
    /// Human-readable reasons for a warning or rejection (empty on a clean pass).
    pub reasons: Vec<String>,
    pub post_trade: Option<PostTradeMetrics>,
}

impl PreTradeResult {
    /// A pass with no reasons and no metrics.
    pub fn pass() -> Self {
        Self { decision: PreTradeDecision::Pass, reasons: Vec::new(), post_trade: None }
    }

    /// The stricter of two results: the worse decision, both sets of reasons, and the
    /// metrics of `other` when it has some, else of `self`.
    pub fn combine(mut self, other: PreTradeResult) -> Self {
        self.decision = self.decision.max(other.decision);
        self.reasons.extend(other.reasons);
        if other.post_trade.is_some() {
            self.post_trade = other.post_trade;
        }
        self
    }
}

/// What a pre-trade check sees of the book.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BookView {
    /// Event time of the view.
    pub as_of: Timestamp,
    /// Positions per contract (all strategies together).
    pub positions: Vec<Position>,
    /// Open orders (pending, working, partially filled).
    pub working_orders: Vec<Order>,
    /// Last mark (mid) per contract.
    pub marks: BTreeMap<ContractId, f64>,
    /// The book's day P&L, USD, net of the day's costs.
    pub day_pnl_usd: f64,
    /// Whether the daily-loss circuit breaker has tripped (it stays tripped until a user resets it).
    pub circuit_breaker_tripped: bool,
}

impl BookView {
    /// The position in `contract` (signed contracts), 0 when none.
    pub fn position_qty(&self, contract: ContractId) -> i64 {
        self.positions.iter().filter(|p| p.contract == contract).map(|p| p.qty).sum()
    }

    /// The mark of `contract`, if known.
    pub fn mark(&self, contract: ContractId) -> Option<f64> {
        self.marks.get(&contract).copied()
    }
}

/// The pre-trade risk check every order passes before it is sent. Implementations must be
/// pure functions of the order and the view (no clock, no I/O), so the same check runs live,
/// in the Trade panel's preview and in backtests.
pub trait PreTradeCheck {
    /// Checks `order` against `book`.
    fn check(&self, order: &OrderRequest, book: &BookView) -> PreTradeResult;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ContractMonth, Market};

    fn cl(year: i32, month: u32) -> ContractId {
        ContractId::new(Market::Wti, ContractMonth::new(year, month).unwrap())
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn inst() -> Instruments {
        Instruments::builtin().unwrap()
    }

    fn check(req: &OrderRequest, reference: Option<f64>) -> Result<(), OrderValidationError> {
        validate_order_request(req, &inst(), date(2026, 11, 23), reference, &ValidationConfig::default())
    }

    #[test]
    fn parses_enums_and_names_fields() {
        assert_eq!("BUY".parse::<Side>().unwrap(), Side::Buy);
        assert_eq!("s".parse::<Side>().unwrap(), Side::Sell);
        assert_eq!("stop_limit".parse::<OrderType>().unwrap(), OrderType::StopLimit);
        assert_eq!("GTC".parse::<TimeInForce>().unwrap(), TimeInForce::Gtc);
        assert_eq!("partially_filled".parse::<OrderStatus>().unwrap(), OrderStatus::PartiallyFilled);
        assert_eq!("hold".parse::<Side>().unwrap_err().field, "side");
        assert_eq!("iceberg".parse::<OrderType>().unwrap_err().field, "type");
        assert_eq!("week".parse::<TimeInForce>().unwrap_err().field, "tif");
        for k in OrderEventKind::ALL {
            assert_eq!(k.as_str().parse::<OrderEventKind>().unwrap(), k);
        }
    }

    #[test]
    fn state_machine() {
        use OrderStatus::*;
        assert!(PendingNew.can_transition_to(Working));
        assert!(PendingNew.can_transition_to(Rejected));
        assert!(!PendingNew.can_transition_to(Filled));
        assert!(Working.can_transition_to(PartiallyFilled));
        assert!(PartiallyFilled.can_transition_to(Filled));
        assert!(!PartiallyFilled.can_transition_to(Working));
        assert!(!Working.can_transition_to(Rejected));
        for term in [Filled, Cancelled, Rejected, Expired] {
            assert!(term.is_terminal());
            for next in OrderStatus::ALL {
                assert!(!term.can_transition_to(next), "{term} -> {next}");
            }
        }
    }

    #[test]
    fn validation_accepts_good_orders_and_negative_prices() {
        let c = cl(2027, 1);
        check(&OrderRequest::limit(c, Side::Buy, 5, 71.25), Some(72.0)).unwrap();
        check(&OrderRequest::market(c, Side::Sell, 1), None).unwrap();
        // WTI 2020: negative limit prices are legal.
        check(&OrderRequest::limit(c, Side::Buy, 1, -37.63), Some(-36.0)).unwrap();
        check(&OrderRequest::stop_limit(c, Side::Sell, 2, 70.0, 69.9), Some(71.0)).unwrap();
    }

    #[test]
    fn validation_names_the_field() {
        let c = cl(2027, 1);
        assert_eq!(check(&OrderRequest::market(c, Side::Buy, 0), None).unwrap_err().field, "qty");
        assert_eq!(check(&OrderRequest::market(c, Side::Buy, -3), None).unwrap_err().field, "qty");
        assert_eq!(check(&OrderRequest::market(c, Side::Buy, 5_000), None).unwrap_err().field, "qty");
        let e = check(&OrderRequest::limit(c, Side::Buy, 1, 71.255), None).unwrap_err();
        assert_eq!(e.field, "limit_price");
        assert!(e.reason.contains("71.25 or 71.26"), "{e}");
        assert_eq!(check(&OrderRequest::limit(c, Side::Buy, 1, f64::NAN), None).unwrap_err().field, "limit_price");
        assert_eq!(check(&OrderRequest::stop(c, Side::Buy, 1, f64::INFINITY), None).unwrap_err().field, "stop_price");
        let mut no_price = OrderRequest::limit(c, Side::Buy, 1, 70.0);
        no_price.limit_price = None;
        assert_eq!(check(&no_price, None).unwrap_err().field, "limit_price");
        let mut mkt_with_price = OrderRequest::market(c, Side::Buy, 1);
        mkt_with_price.limit_price = Some(70.0);
        assert_eq!(check(&mkt_with_price, None).unwrap_err().field, "limit_price");
        // Expired: CLZ6 (December 2026) stopped trading on 2026-11-19.
        let e = check(&OrderRequest::market(cl(2026, 12), Side::Buy, 1), None).unwrap_err();
        assert_eq!(e.field, "contract");
        assert!(e.reason.contains("expired"), "{e}");
        // Not listed yet: 122 months of CL.
        let e = check(&OrderRequest::market(cl(2040, 1), Side::Buy, 1), None).unwrap_err();
        assert!(e.reason.contains("not listed"), "{e}");
        let mut no_strategy = OrderRequest::market(c, Side::Buy, 1);
        no_strategy.strategy = " ".into();
        assert_eq!(check(&no_strategy, None).unwrap_err().field, "strategy");
        let e = check(&OrderRequest::stop(c, Side::Buy, 1, 75.0).with_tif(TimeInForce::Ioc), None).unwrap_err();
        assert_eq!(e.field, "tif");
    }

    #[test]
    fn fat_finger_band() {
        let c = cl(2027, 1);
        // ±10 % of 75 = 7.50.
        check(&OrderRequest::limit(c, Side::Buy, 1, 67.50), Some(75.0)).unwrap();
        let e = check(&OrderRequest::limit(c, Side::Buy, 1, 67.49), Some(75.0)).unwrap_err();
        assert_eq!(e.field, "limit_price");
        assert!(e.reason.contains("fat-finger"), "{e}");
        assert!(check(&OrderRequest::limit(c, Side::Sell, 1, 7.13), Some(71.25)).is_err());
        // Near zero the minimum band of 50 ticks applies: 0.50 either side.
        check(&OrderRequest::limit(c, Side::Buy, 1, -0.45), Some(0.05)).unwrap();
        assert!(check(&OrderRequest::limit(c, Side::Buy, 1, -0.46), Some(0.05)).is_err());
        // Negative reference: ±10 % of 37.63 = 3.763.
        check(&OrderRequest::limit(c, Side::Buy, 1, -40.0), Some(-37.63)).unwrap();
        assert!(check(&OrderRequest::limit(c, Side::Buy, 1, -42.0), Some(-37.63)).is_err());
    }

    #[test]
    fn parse_fields() {
        assert_eq!(parse_qty(" 5 ").unwrap(), 5);
        assert!(parse_qty("5.5").unwrap_err().reason.contains("fractional"));
        assert_eq!(parse_qty("x").unwrap_err().field, "qty");
        assert_eq!(parse_price("limit_price", "").unwrap(), None);
        assert_eq!(parse_price("limit_price", "-37.63").unwrap(), Some(-37.63));
        assert!(parse_price("limit_price", "NaN").is_err());
        assert!(parse_price("limit_price", "inf").is_err());
        assert!(parse_price("limit_price", "7o").is_err());
        assert_eq!(tick_decimals(0.01), 2);
        assert_eq!(tick_decimals(0.0001), 4);
    }

    #[test]
    fn position_average_and_realised() {
        let c = cl(2027, 1);
        let mut p = Position::flat(c, None, 1_000.0);
        p.apply_fill(Side::Buy, 2, 70.0, 5.0);
        p.apply_fill(Side::Buy, 2, 72.0, 5.0);
        assert_eq!(p.qty, 4);
        assert!((p.avg_price - 71.0).abs() < 1e-12);
        let r = p.apply_fill(Side::Sell, 1, 73.0, 2.5);
        assert!((r - 2_000.0).abs() < 1e-9);
        assert!((p.avg_price - 71.0).abs() < 1e-12);
        // Sell through flat: close 3 at 70 (−3,000), open 2 short at 70.
        let r = p.apply_fill(Side::Sell, 5, 70.0, 12.5);
        assert!((r + 3_000.0).abs() < 1e-9);
        assert_eq!(p.qty, -2);
        assert!((p.avg_price - 70.0).abs() < 1e-12);
        p.set_mark(69.5);
        assert!((p.unrealized_pnl_usd() - 1_000.0).abs() < 1e-9);
        assert!((p.realized_pnl_usd + 1_000.0).abs() < 1e-9);
        assert!((p.fees_usd - 25.0).abs() < 1e-12);
        assert!((p.net_pnl_usd() - (-1_000.0 + 1_000.0 - 25.0)).abs() < 1e-9);
        p.apply_fill(Side::Buy, 2, 69.0, 5.0);
        assert_eq!(p.qty, 0);
        assert_eq!(p.avg_price, 0.0);
        assert_eq!(p.unrealized_pnl_usd(), 0.0);
    }

    #[test]
    fn position_negative_prices() {
        // Long 1 at -10, mark -37.63: loses 27.63 × 1,000.
        let mut p = Position::flat(cl(2020, 5), None, 1_000.0);
        p.apply_fill(Side::Buy, 1, -10.0, 0.0);
        p.set_mark(-37.63);
        assert!((p.unrealized_pnl_usd() + 27_630.0).abs() < 1e-6);
        let r = p.apply_fill(Side::Sell, 1, -37.63, 0.0);
        assert!((r + 27_630.0).abs() < 1e-6);
    }

    #[test]
    fn day_pnl_against_settlement() {
        let mut p = Position::flat(cl(2027, 1), None, 1_000.0);
        p.apply_fill(Side::Buy, 3, 70.0, 0.0);
        p.roll_day(71.0); // settled at 71 yesterday, carrying 3
        p.apply_fill(Side::Sell, 1, 72.0, 0.0); // today
        p.set_mark(71.5);
        // Carried 3 from 71 to 71.5 = +1,500; sold 1 at 72 marked at 71.5 = +500.
        assert!((p.day_pnl_usd() - 2_000.0).abs() < 1e-9);
        let book = BookView { positions: vec![p.clone()], ..Default::default() };
        assert_eq!(book.position_qty(p.contract), 2);
    }

    #[test]
    fn combine_takes_the_stricter() {
        let warn = PreTradeResult { decision: PreTradeDecision::Warn, reasons: vec!["near".into()], post_trade: None };
        let rej = PreTradeResult { decision: PreTradeDecision::Reject, reasons: vec!["over".into()], post_trade: None };
        let c = PreTradeResult::pass().combine(warn).combine(rej);
        assert_eq!(c.decision, PreTradeDecision::Reject);
        assert_eq!(c.reasons, vec!["near".to_string(), "over".to_string()]);
    }
}
