//! A consistency check of the money tables, run after a crash and by the crash-safety test:
//! every fill belongs to an order, every order's state agrees with its events and its fills,
//! and every event sequence follows the order state machine.

use std::collections::BTreeMap;

use crude_model::{Fill, OrderEvent, OrderEventKind};
use serde::Serialize;

use crate::{AuditVerification, Store, StoreError};

/// What [`Store::check_consistency`] found.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ConsistencyReport {
    pub orders: u64,
    pub events: u64,
    pub fills: u64,
    /// One line per problem (empty when consistent).
    pub problems: Vec<String>,
}

impl ConsistencyReport {
    /// Whether no problem was found.
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The result of [`Store::verify`]: the audit chain and the consistency of the tables, read
/// from one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub audit: AuditVerification,
    pub consistency: ConsistencyReport,
}

impl Verification {
    /// Whether the chain verifies and the tables agree.
    pub fn is_ok(&self) -> bool {
        self.audit.is_ok() && self.consistency.is_consistent()
    }
}

/// Relative tolerance for comparing the stored average fill price with the fills' VWAP.
const PRICE_TOL: f64 = 1e-9;

impl Store {
    /// Checks, for every order: its events are numbered 1, 2, … with no gap; the first is
    /// `submitted` from no status; each event's previous status is the status after the
    /// event before it and the transition is legal; the last event's status and filled
    /// quantity equal the order row's; the filled quantity equals the sum of the order's
    /// fills and does not exceed the order quantity; `filled` status iff fully filled; each
    /// `fill` event names a fill of the order and each fill has exactly one event; the
    /// average fill price is the fills' volume-weighted average. Also: every fill's order
    /// exists.
    ///
    /// The three tables are read in one read transaction ([`Store::read_snapshot`]), so a
    /// session committing on another connection meanwhile cannot make them disagree.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::BadRow`] when the tables cannot be read;
    /// [`StoreError::Changed`] as [`Store::read_snapshot`].
    pub fn check_consistency(&self) -> Result<ConsistencyReport, StoreError> {
        self.read_snapshot(Store::consistency_in_snapshot)
    }

    /// `crude audit verify`: [`Store::verify_audit_chain`] and [`Store::check_consistency`]
    /// in one read transaction, so the audit log, orders, order events and fills are all
    /// read as of the same commit.
    ///
    /// # Errors
    /// As [`Store::check_consistency`].
    pub fn verify(&self) -> Result<Verification, StoreError> {
        self.read_snapshot(|s| {
            Ok(Verification { audit: s.verify_audit_chain()?, consistency: s.consistency_in_snapshot()? })
        })
    }

    /// The body of [`Store::check_consistency`], reading in the current transaction.
    fn consistency_in_snapshot(&self) -> Result<ConsistencyReport, StoreError> {
        let orders = self.load_all_orders()?;
        let events = self.load_order_events(None)?;
        let fills = self.load_all_fills()?;
        let mut report = ConsistencyReport {
            orders: orders.len() as u64,
            events: events.len() as u64,
            fills: fills.len() as u64,
            problems: Vec::new(),
        };
        let mut events_by_order: BTreeMap<u64, Vec<&OrderEvent>> = BTreeMap::new();
        for e in &events {
            events_by_order.entry(e.order_id).or_default().push(e);
        }
        let mut fills_by_order: BTreeMap<u64, Vec<&Fill>> = BTreeMap::new();
        for f in &fills {
            fills_by_order.entry(f.order_id).or_default().push(f);
        }
        let order_ids: std::collections::BTreeSet<u64> = orders.iter().map(|o| o.order_id).collect();
        for f in &fills {
            if !order_ids.contains(&f.order_id) {
                report
                    .problems
                    .push(format!("fill {} belongs to order {}, which does not exist", f.fill_id, f.order_id));
            }
        }
        for id in events_by_order.keys() {
            if !order_ids.contains(id) {
                report.problems.push(format!("events exist for order {id}, which does not exist"));
            }
        }
        let p = &mut report.problems;
        for o in &orders {
            let id = o.order_id;
            let evs = events_by_order.get(&id).map(Vec::as_slice).unwrap_or(&[]);
            let fs = fills_by_order.get(&id).map(Vec::as_slice).unwrap_or(&[]);
            if evs.is_empty() {
                p.push(format!("order {id} has no events"));
                continue;
            }
            let mut prev = None;
            for (i, e) in evs.iter().enumerate() {
                if e.seq as usize != i + 1 {
                    p.push(format!("order {id}: event #{} has sequence {}, expected {}", i + 1, e.seq, i + 1));
                    break;
                }
                if i == 0 && (e.kind != OrderEventKind::Submitted || e.prev_status.is_some()) {
                    p.push(format!(
                        "order {id}: first event is {} from {:?}, expected submitted from nothing",
                        e.kind, e.prev_status
                    ));
                }
                if i > 0 {
                    if e.prev_status != prev {
                        p.push(format!(
                            "order {id}: event {} says previous status {:?} but the event before left {:?}",
                            e.seq, e.prev_status, prev
                        ));
                    }
                    if let Some(from) = prev
                        && !from.can_transition_to(e.status)
                    {
                        p.push(format!("order {id}: event {} is an illegal transition {from} -> {}", e.seq, e.status));
                    }
                }
                prev = Some(e.status);
            }
            if let Some(last) = evs.last() {
                if last.status != o.status {
                    p.push(format!("order {id}: status {} but its last event says {}", o.status, last.status));
                }
                if last.filled_qty != o.filled_qty {
                    p.push(format!("order {id}: filled {} but its last event says {}", o.filled_qty, last.filled_qty));
                }
            }
            let filled: i64 = fs.iter().map(|f| f.qty).sum();
            if filled != o.filled_qty {
                p.push(format!("order {id}: filled_qty {} but its fills sum to {filled}", o.filled_qty));
            }
            if o.filled_qty > o.qty {
                p.push(format!("order {id}: filled {} of only {}", o.filled_qty, o.qty));
            }
            if (o.status == crude_model::OrderStatus::Filled) != (o.filled_qty == o.qty) {
                p.push(format!("order {id}: status {} with {} of {} filled", o.status, o.filled_qty, o.qty));
            }
            let fill_events: Vec<u64> =
                evs.iter().filter(|e| e.kind == OrderEventKind::Fill).filter_map(|e| e.fill_id).collect();
            let fill_ids: Vec<u64> = fs.iter().map(|f| f.fill_id).collect();
            if fill_events != fill_ids {
                p.push(format!(
                    "order {id}: fill events name fills {fill_events:?} but the order's fills are {fill_ids:?}"
                ));
            }
            for f in fs {
                if f.contract != o.contract || f.side != o.side {
                    p.push(format!(
                        "fill {}: contract/side {} {} differ from order {id}'s {} {}",
                        f.fill_id, f.contract, f.side, o.contract, o.side
                    ));
                }
            }
            if filled > 0 {
                let vwap = fs.iter().map(|f| f.price * f.qty as f64).sum::<f64>() / filled as f64;
                match o.avg_fill_price {
                    Some(a) if (a - vwap).abs() <= PRICE_TOL * vwap.abs().max(1.0) => {}
                    other => p.push(format!("order {id}: average fill price {other:?} but the fills' VWAP is {vwap}")),
                }
            }
        }
        Ok(report)
    }
}
