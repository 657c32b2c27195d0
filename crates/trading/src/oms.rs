//! The order management system: the orders, their identifiers and the state machine.
//!
//! Every change goes through [`Oms::transition`] (or [`Oms::apply_fill`]), which checks
//! [`OrderStatus::can_transition_to`], bumps the order's event sequence and returns the new
//! order state with its [`OrderEvent`]. A forbidden change returns an
//! [`IllegalTransition`] naming the transition, is logged (`tracing` warning and
//! [`Oms::illegal_log`]) and changes nothing.
//!
//! Identifiers: order, fill and spread ids continue from the database's high-water marks, so
//! they are unique across restarts (an id handed out but never committed before a crash is
//! reused, which is harmless: nobody saw it). Client order ids are checked against every id
//! ever stored.

use std::collections::{BTreeMap, HashSet};

use crude_model::{
    Fill, Liquidity, Order, OrderEvent, OrderEventKind, OrderRequest, OrderStatus, SpreadLink, Timestamp,
};
use crude_store::HighWater;

use crate::error::{IllegalTransition, TradingError};

/// Most entries kept in the in-memory log of refused transitions.
const ILLEGAL_LOG_CAP: usize = 1_000;

/// One execution as a broker reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Execution {
    /// Contracts, > 0.
    pub qty: i64,
    pub price: f64,
    pub ts: Timestamp,
    pub liquidity: Liquidity,
    pub commission_usd: f64,
    pub fees_usd: f64,
}

/// A refused transition and when it was attempted.
#[derive(Debug, Clone, PartialEq)]
pub struct IllegalAttempt {
    pub ts: Timestamp,
    pub transition: IllegalTransition,
}

/// The order management system's state.
#[derive(Debug, Clone)]
pub struct Oms {
    orders: BTreeMap<u64, Order>,
    open: std::collections::BTreeSet<u64>,
    client_ids: HashSet<String>,
    next_order_id: u64,
    next_fill_id: u64,
    next_spread_id: u64,
    prefix: String,
    illegal: Vec<IllegalAttempt>,
}

impl Oms {
    /// An empty order book; generated client order ids start with `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            orders: BTreeMap::new(),
            open: std::collections::BTreeSet::new(),
            client_ids: HashSet::new(),
            next_order_id: 1,
            next_fill_id: 1,
            next_spread_id: 1,
            prefix: prefix.to_string(),
            illegal: Vec::new(),
        }
    }

    /// Restores open orders, every client order id ever used and the id high-water marks.
    pub fn restore(&mut self, open_orders: Vec<Order>, client_ids: impl IntoIterator<Item = String>, hw: &HighWater) {
        self.client_ids.extend(client_ids);
        self.next_order_id = self.next_order_id.max(hw.max_order_id + 1);
        self.next_fill_id = self.next_fill_id.max(hw.max_fill_id + 1);
        self.next_spread_id = self.next_spread_id.max(hw.max_spread_id + 1);
        for o in open_orders {
            self.client_ids.insert(o.client_order_id.clone());
            self.next_order_id = self.next_order_id.max(o.order_id + 1);
            if o.is_open() {
                self.open.insert(o.order_id);
            }
            self.orders.insert(o.order_id, o);
        }
    }

    /// A new spread id.
    pub fn allocate_spread_id(&mut self) -> u64 {
        let id = self.next_spread_id;
        self.next_spread_id += 1;
        id
    }

    /// Whether a client order id is free.
    pub fn client_id_free(&self, id: &str) -> bool {
        !self.client_ids.contains(id)
    }

    /// Creates an order in `PendingNew` from a (validated) request; returns it with its
    /// `Submitted` event.
    ///
    /// # Errors
    /// [`TradingError::DuplicateClientOrderId`].
    pub fn create(
        &mut self,
        req: &OrderRequest,
        ts: Timestamp,
        expire_ts: Option<Timestamp>,
        arrival_price: Option<f64>,
        spread: Option<SpreadLink>,
        reason: Option<String>,
    ) -> Result<(Order, OrderEvent), TradingError> {
        let order_id = self.next_order_id;
        let client_order_id = match &req.client_order_id {
            Some(id) => {
                if self.client_ids.contains(id) {
                    return Err(TradingError::DuplicateClientOrderId(id.clone()));
                }
                id.clone()
            }
            None => {
                let base = format!("{}{order_id:06}", self.prefix);
                let mut id = base.clone();
                let mut n = 1;
                while self.client_ids.contains(&id) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                id
            }
        };
        self.next_order_id += 1;
        self.client_ids.insert(client_order_id.clone());
        let order = Order {
            order_id,
            client_order_id,
            contract: req.contract,
            side: req.side,
            qty: req.qty,
            order_type: req.order_type,
            limit_price: req.limit_price,
            stop_price: req.stop_price,
            tif: req.tif,
            strategy: req.strategy.clone(),
            user: req.user.clone(),
            status: OrderStatus::PendingNew,
            filled_qty: 0,
            avg_fill_price: None,
            triggered: false,
            created_ts: ts,
            updated_ts: ts,
            expire_ts,
            arrival_price,
            spread,
            reason: reason.clone(),
            last_seq: 1,
        };
        let event = OrderEvent {
            order_id,
            seq: 1,
            ts,
            kind: OrderEventKind::Submitted,
            prev_status: None,
            status: OrderStatus::PendingNew,
            qty: order.qty,
            filled_qty: 0,
            limit_price: order.limit_price,
            stop_price: order.stop_price,
            fill_id: None,
            reason,
        };
        self.open.insert(order_id);
        self.orders.insert(order_id, order.clone());
        Ok((order, event))
    }

    /// Moves order `order_id` to `to` with an event of `kind`, after `edit` changed its
    /// fields (quantity, prices, trigger flag).
    ///
    /// # Errors
    /// [`TradingError::UnknownOrder`]; [`TradingError::Illegal`] when the state machine
    /// forbids `status → to` (logged; nothing changes).
    pub fn transition(
        &mut self,
        order_id: u64,
        to: OrderStatus,
        kind: OrderEventKind,
        ts: Timestamp,
        reason: Option<String>,
        edit: impl FnOnce(&mut Order),
    ) -> Result<(Order, OrderEvent), TradingError> {
        let Some(order) = self.orders.get(&order_id) else {
            return Err(TradingError::UnknownOrder(order_id));
        };
        let from = order.status;
        if !from.can_transition_to(to) {
            return Err(self.refuse(ts, order_id, from, to, kind.as_str()));
        }
        let Some(order) = self.orders.get_mut(&order_id) else {
            return Err(TradingError::UnknownOrder(order_id));
        };
        edit(order);
        order.status = to;
        order.updated_ts = ts.max(order.updated_ts);
        order.last_seq += 1;
        if reason.is_some() {
            order.reason = reason.clone();
        }
        let event = OrderEvent {
            order_id,
            seq: order.last_seq,
            ts,
            kind,
            prev_status: Some(from),
            status: to,
            qty: order.qty,
            filled_qty: order.filled_qty,
            limit_price: order.limit_price,
            stop_price: order.stop_price,
            fill_id: None,
            reason,
        };
        let snapshot = order.clone();
        if to.is_terminal() {
            self.open.remove(&order_id);
        }
        Ok((snapshot, event))
    }

    /// Records an execution: `PartiallyFilled`, or `Filled` when nothing remains. Returns
    /// the order, its `Fill` event and the fill.
    ///
    /// # Errors
    /// [`TradingError::UnknownOrder`]; [`TradingError::Illegal`] when the order is not
    /// working or the fill exceeds what remains.
    pub fn apply_fill(&mut self, order_id: u64, x: Execution) -> Result<(Order, OrderEvent, Fill), TradingError> {
        let Execution { qty, price, ts, liquidity, commission_usd, fees_usd } = x;
        let Some(order) = self.orders.get(&order_id) else {
            return Err(TradingError::UnknownOrder(order_id));
        };
        let remaining = order.qty - order.filled_qty;
        let to = if qty >= remaining { OrderStatus::Filled } else { OrderStatus::PartiallyFilled };
        if qty <= 0 || qty > remaining || order.status == OrderStatus::PendingNew {
            let from = order.status;
            return Err(self.refuse(ts, order_id, from, to, &format!("fill of {qty} with {remaining} remaining")));
        }
        let fill_id = self.next_fill_id;
        let (order, mut event) = self.transition(order_id, to, OrderEventKind::Fill, ts, None, |o| {
            let prev_value = o.avg_fill_price.unwrap_or(0.0) * o.filled_qty as f64;
            o.filled_qty += qty;
            o.avg_fill_price = Some((prev_value + price * qty as f64) / o.filled_qty as f64);
        })?;
        self.next_fill_id += 1;
        event.fill_id = Some(fill_id);
        let fill = Fill {
            fill_id,
            order_id,
            contract: order.contract,
            side: order.side,
            qty,
            price,
            ts,
            commission_usd,
            fees_usd,
            liquidity,
            strategy: order.strategy.clone(),
        };
        Ok((order, event, fill))
    }

    fn refuse(
        &mut self,
        ts: Timestamp,
        order_id: u64,
        from: OrderStatus,
        to: OrderStatus,
        action: &str,
    ) -> TradingError {
        let t = IllegalTransition { order_id, from, to, action: action.to_string() };
        self.record_illegal(ts, t.clone());
        TradingError::Illegal(t)
    }

    /// Logs a refused transition (`tracing` warning and the in-memory log).
    pub fn record_illegal(&mut self, ts: Timestamp, t: IllegalTransition) {
        tracing::warn!(order_id = t.order_id, from = %t.from, to = %t.to, action = %t.action, "illegal order transition refused");
        if self.illegal.len() >= ILLEGAL_LOG_CAP {
            self.illegal.remove(0);
        }
        self.illegal.push(IllegalAttempt { ts, transition: t });
    }

    /// One order.
    pub fn get(&self, order_id: u64) -> Option<&Order> {
        self.orders.get(&order_id)
    }

    /// Open orders (pending, working, partially filled), by id.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.open.iter().filter_map(|id| self.orders.get(id))
    }

    /// Ids of open orders.
    pub fn open_ids(&self) -> Vec<u64> {
        self.open.iter().copied().collect()
    }

    /// Every order this session knows (recovered open orders and everything since), by id.
    pub fn orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    /// The legs of a spread, by leg index.
    pub fn spread_legs(&self, spread_id: u64) -> Vec<&Order> {
        let mut legs: Vec<&Order> =
            self.orders.values().filter(|o| o.spread.is_some_and(|s| s.spread_id == spread_id)).collect();
        legs.sort_by_key(|o| o.spread.map_or(0, |s| s.leg));
        legs
    }

    /// Refused transitions, oldest first (at most the last 1,000).
    pub fn illegal_log(&self) -> &[IllegalAttempt] {
        &self.illegal
    }

    /// Forgets terminal orders last changed before `ts` (long backtests); open orders stay.
    pub fn prune_terminal_before(&mut self, ts: Timestamp) {
        self.orders.retain(|_, o| o.is_open() || o.updated_ts >= ts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractId, ContractMonth, Market, Side};

    fn req() -> OrderRequest {
        OrderRequest::limit(ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap()), Side::Buy, 5, 70.0)
    }

    #[test]
    fn lifecycle_and_sequences() {
        let mut oms = Oms::new("T-");
        let (o, e) = oms.create(&req(), Timestamp(1), None, None, None, None).unwrap();
        assert_eq!((o.order_id, o.client_order_id.as_str(), e.seq), (1, "T-000001", 1));
        let (o, e) =
            oms.transition(1, OrderStatus::Working, OrderEventKind::Accepted, Timestamp(2), None, |_| {}).unwrap();
        assert_eq!((o.status, e.seq, e.prev_status), (OrderStatus::Working, 2, Some(OrderStatus::PendingNew)));
        let (o, e, f) = oms
            .apply_fill(
                1,
                Execution {
                    qty: 2,
                    price: 70.0,
                    ts: Timestamp(3),
                    liquidity: Liquidity::Maker,
                    commission_usd: 4.0,
                    fees_usd: 3.0,
                },
            )
            .unwrap();
        assert_eq!((o.status, o.filled_qty, e.fill_id, f.fill_id), (OrderStatus::PartiallyFilled, 2, Some(1), 1));
        let (o, _, f) = oms
            .apply_fill(
                1,
                Execution {
                    qty: 3,
                    price: 69.0,
                    ts: Timestamp(4),
                    liquidity: Liquidity::Taker,
                    commission_usd: 6.0,
                    fees_usd: 4.5,
                },
            )
            .unwrap();
        assert_eq!((o.status, f.fill_id), (OrderStatus::Filled, 2));
        assert!((o.avg_fill_price.unwrap() - 69.4).abs() < 1e-12);
        assert_eq!(o.last_seq, 4);
        assert_eq!(oms.open_orders().count(), 0);
    }

    #[test]
    fn illegal_transitions_are_refused_logged_and_change_nothing() {
        let mut oms = Oms::new("T-");
        oms.create(&req(), Timestamp(1), None, None, None, None).unwrap();
        // A pending order cannot fill before it is acknowledged.
        let e = oms
            .apply_fill(
                1,
                Execution {
                    qty: 1,
                    price: 70.0,
                    ts: Timestamp(2),
                    liquidity: Liquidity::Taker,
                    commission_usd: 0.0,
                    fees_usd: 0.0,
                },
            )
            .unwrap_err();
        assert!(matches!(e, TradingError::Illegal(_)), "{e}");
        oms.transition(1, OrderStatus::Cancelled, OrderEventKind::Cancelled, Timestamp(3), None, |_| {}).unwrap();
        let e = oms
            .transition(1, OrderStatus::Cancelled, OrderEventKind::Cancelled, Timestamp(4), None, |_| {})
            .unwrap_err();
        assert_eq!(e.to_string(), "order 1: illegal transition cancelled -> cancelled (cancelled)");
        assert_eq!(oms.illegal_log().len(), 2);
        assert_eq!(oms.get(1).unwrap().last_seq, 2);
        assert!(matches!(
            oms.transition(9, OrderStatus::Working, OrderEventKind::Accepted, Timestamp(5), None, |_| {}),
            Err(TradingError::UnknownOrder(9))
        ));
    }

    #[test]
    fn overfill_is_refused() {
        let mut oms = Oms::new("T-");
        oms.create(&req(), Timestamp(1), None, None, None, None).unwrap();
        oms.transition(1, OrderStatus::Working, OrderEventKind::Accepted, Timestamp(2), None, |_| {}).unwrap();
        assert!(
            oms.apply_fill(
                1,
                Execution {
                    qty: 6,
                    price: 70.0,
                    ts: Timestamp(3),
                    liquidity: Liquidity::Taker,
                    commission_usd: 0.0,
                    fees_usd: 0.0
                }
            )
            .is_err()
        );
        assert!(
            oms.apply_fill(
                1,
                Execution {
                    qty: 0,
                    price: 70.0,
                    ts: Timestamp(3),
                    liquidity: Liquidity::Taker,
                    commission_usd: 0.0,
                    fees_usd: 0.0
                }
            )
            .is_err()
        );
    }

    #[test]
    fn ids_continue_after_restart_and_client_ids_stay_unique() {
        let mut oms = Oms::new("T-");
        let hw = HighWater { max_order_id: 41, max_fill_id: 99, max_spread_id: 3, ..HighWater::default() };
        oms.restore(Vec::new(), vec!["T-000042".to_string(), "mine".to_string()], &hw);
        let (o, _) = oms.create(&req(), Timestamp(1), None, None, None, None).unwrap();
        assert_eq!(o.order_id, 42);
        assert_eq!(o.client_order_id, "T-000042-1");
        let mut r = req();
        r.client_order_id = Some("mine".into());
        assert!(matches!(
            oms.create(&r, Timestamp(1), None, None, None, None),
            Err(TradingError::DuplicateClientOrderId(_))
        ));
        assert_eq!(oms.allocate_spread_id(), 4);
    }
}
