//! The broker interface: where orders go once the order management system accepted them.
//!
//! The paper broker ([`crate::PaperBroker`]) implements it against simulated or replayed
//! quotes; a live adapter (Interactive Brokers) implements the same trait. A broker never
//! changes order state itself: it answers with [`BrokerReport`]s that the engine applies
//! through the order management system's state machine. Time comes only from the calls
//! (`now`, event time stamps), never from a clock.

use crude_model::{Liquidity, MarketEvent, Order, Timestamp};

/// What a broker reports about an order.
#[derive(Debug, Clone, PartialEq)]
pub enum BrokerReport {
    /// The order is working at the broker.
    Accepted { order_id: u64, ts: Timestamp },
    /// The broker refused the order.
    Rejected { order_id: u64, ts: Timestamp, reason: String },
    /// A stop / stop-limit order's trigger condition was met.
    Triggered { order_id: u64, ts: Timestamp },
    /// An amendment took effect (the values now working).
    Amended { order_id: u64, ts: Timestamp, qty: i64, limit_price: Option<f64>, stop_price: Option<f64> },
    /// An execution.
    Fill {
        order_id: u64,
        ts: Timestamp,
        qty: i64,
        price: f64,
        liquidity: Liquidity,
        commission_usd: f64,
        fees_usd: f64,
    },
    /// The order (or its unfilled remainder) is cancelled.
    Cancelled { order_id: u64, ts: Timestamp, reason: String },
    /// The order reached its time limit.
    Expired { order_id: u64, ts: Timestamp, reason: String },
}

impl BrokerReport {
    /// The order the report is about.
    pub fn order_id(&self) -> u64 {
        match self {
            BrokerReport::Accepted { order_id, .. }
            | BrokerReport::Rejected { order_id, .. }
            | BrokerReport::Triggered { order_id, .. }
            | BrokerReport::Amended { order_id, .. }
            | BrokerReport::Fill { order_id, .. }
            | BrokerReport::Cancelled { order_id, .. }
            | BrokerReport::Expired { order_id, .. } => *order_id,
        }
    }
}

/// A broker. Reports are appended to `out`; they may come at once (an immediate fill) or
/// on later calls (acknowledgement latency, resting orders).
pub trait Broker {
    /// Short name for logs and the status bar (`paper`, `ib`).
    fn name(&self) -> &'static str;

    /// Sends a new order (status `PendingNew`).
    fn submit(&mut self, order: &Order, now: Timestamp, out: &mut Vec<BrokerReport>);

    /// Re-attaches an open order after a restart: a `PendingNew` order is sent again, a
    /// working one resumes working.
    fn resume(&mut self, order: &Order, now: Timestamp, out: &mut Vec<BrokerReport>);

    /// Asks to change a working order to the quantity and prices now on `order`; the broker
    /// answers `Amended` (and possibly fills) or `Rejected`.
    fn amend(&mut self, order: &Order, now: Timestamp, out: &mut Vec<BrokerReport>);

    /// Asks to cancel an order; the broker answers `Cancelled` unless the order is no longer
    /// live there.
    fn cancel(&mut self, order_id: u64, now: Timestamp, reason: &str, out: &mut Vec<BrokerReport>);

    /// Market data in event time order.
    fn on_market(&mut self, event: &MarketEvent, out: &mut Vec<BrokerReport>);

    /// Lets event time pass without market data (acknowledgements, expiries).
    fn advance_to(&mut self, now: Timestamp, out: &mut Vec<BrokerReport>);

    /// The earliest time at which the broker has something scheduled, if any.
    fn next_timer(&self) -> Option<Timestamp>;
}
