//! A durable trading session: the engine plus the SQLite store.
//!
//! Every [`EngineEvent`] is committed in its own transaction (order event, or fill with its
//! order event and mark) before the caller's sink sees it, so whatever a caller acknowledges
//! (a line on stdout, a row in the blotter panel) is already in the database. On open the
//! session rebuilds the engine from the database ([`TradingSession::open`]). If a commit
//! fails the session stops (memory may be ahead of the database) and must be reopened.

use crude_model::{MarketEvent, OrderRequest, PreTradeCheck, Timestamp};
use crude_store::Store;

use crate::broker::Broker;
use crate::engine::{AmendRequest, Engine, EngineEvent, Recovery, SpreadOutcome, SubmitOutcome, actions};
use crate::error::{SessionError, TradingError};
use crate::paper::PaperBroker;
use crate::spread::SpreadRequest;

/// A durable trading session (see the module docs).
#[derive(Debug)]
pub struct TradingSession<B: Broker = PaperBroker> {
    engine: Engine<B>,
    store: Store,
    poisoned: Option<String>,
    committed: u64,
}

/// Reads what the engine needs on start from the store.
///
/// # Errors
/// [`crude_store::StoreError`] when the database cannot be read.
pub fn load_recovery(store: &Store) -> Result<Recovery, crude_store::StoreError> {
    let last_breaker = store.last_audit_of(&[actions::BREAKER_TRIP, actions::BREAKER_RESET])?;
    Ok(Recovery {
        open_orders: store.load_open_orders()?,
        fills: store.load_all_fills()?,
        client_order_ids: store.client_order_ids()?,
        high_water: store.high_water()?,
        marks: store.load_marks()?,
        circuit_breaker_tripped: last_breaker.is_some_and(|r| r.action == actions::BREAKER_TRIP),
    })
}

impl<B: Broker> TradingSession<B> {
    /// Opens a session: rebuilds `engine` from `store` (positions from every fill, open
    /// orders re-attached to the broker, identifiers after the stored ones, event time at
    /// `now` or just after the last stored event) and commits whatever the recovery itself
    /// produced (e.g. orders that expired while nothing ran), passing each to `sink`.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the database cannot be read or written.
    pub fn open(
        store: Store,
        mut engine: Engine<B>,
        now: Timestamp,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<Self, SessionError> {
        let recovery = load_recovery(&store)?;
        engine.restore(recovery, now);
        let mut s = Self { engine, store, poisoned: None, committed: 0 };
        s.flush(sink)?;
        Ok(s)
    }

    /// The engine (read-only: every change goes through the session so it is persisted).
    pub fn engine(&self) -> &Engine<B> {
        &self.engine
    }

    /// The store (for reads).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Events committed by this session so far.
    pub fn committed_events(&self) -> u64 {
        self.committed
    }

    fn ready(&self) -> Result<(), SessionError> {
        match &self.poisoned {
            Some(why) => Err(SessionError::Poisoned(why.clone())),
            None => Ok(()),
        }
    }

    /// Commits every pending engine event (one transaction each), then hands it to `sink`.
    fn flush(&mut self, sink: &mut dyn FnMut(&EngineEvent)) -> Result<(), SessionError> {
        for ev in self.engine.take_events() {
            let res = match &ev {
                EngineEvent::Order { order, event, audit } => {
                    self.store.record_order_event(order, event, audit.as_ref())
                }
                EngineEvent::Fill { order, event, fill, mark } => {
                    self.store.record_fill(order, event, fill, mark.as_ref())
                }
                EngineEvent::Audit(a) => self.store.append_audit(a).map(|_| ()),
            };
            if let Err(e) = res {
                self.poisoned = Some(e.to_string());
                return Err(SessionError::Store(e));
            }
            self.committed += 1;
            sink(&ev);
        }
        Ok(())
    }

    /// Runs `op` on the engine, then commits what it emitted — also when `op` failed
    /// (refused user actions are audited).
    fn with<T>(
        &mut self,
        sink: &mut dyn FnMut(&EngineEvent),
        op: impl FnOnce(&mut Engine<B>) -> Result<T, TradingError>,
    ) -> Result<T, SessionError> {
        self.ready()?;
        let r = op(&mut self.engine);
        self.flush(sink)?;
        Ok(r?)
    }

    /// Submits an order (see [`Engine::submit`]); returns after its events are durable.
    ///
    /// # Errors
    /// [`SessionError::Trading`] when refused (nothing written), [`SessionError::Store`],
    /// [`SessionError::Poisoned`].
    pub fn submit(
        &mut self,
        req: OrderRequest,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<SubmitOutcome, SessionError> {
        self.with(sink, |e| e.submit(req))
    }

    /// Submits a spread as linked legs (see [`Engine::submit_spread`]).
    ///
    /// # Errors
    /// As [`TradingSession::submit`].
    pub fn submit_spread(
        &mut self,
        req: &SpreadRequest,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<SpreadOutcome, SessionError> {
        self.with(sink, |e| e.submit_spread(req))
    }

    /// Amends an order (see [`Engine::amend`]).
    ///
    /// # Errors
    /// As [`TradingSession::submit`].
    pub fn amend(
        &mut self,
        order_id: u64,
        a: AmendRequest,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<(), SessionError> {
        self.with(sink, |e| e.amend(order_id, a, user))
    }

    /// Cancels an order (see [`Engine::cancel`]).
    ///
    /// # Errors
    /// As [`TradingSession::submit`].
    pub fn cancel(
        &mut self,
        order_id: u64,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<(), SessionError> {
        self.with(sink, |e| e.cancel(order_id, user))
    }

    /// Cancels the open legs of a spread (see [`Engine::cancel_spread`]).
    ///
    /// # Errors
    /// As [`TradingSession::submit`].
    pub fn cancel_spread(
        &mut self,
        spread_id: u64,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<(), SessionError> {
        self.with(sink, |e| e.cancel_spread(spread_id, user))
    }

    /// Cancels the open orders of `contract`; returns how many.
    ///
    /// # Errors
    /// As [`TradingSession::submit`].
    pub fn cancel_contract(
        &mut self,
        contract: crude_model::ContractId,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<usize, SessionError> {
        let ids: Vec<u64> = self.engine.open_orders().filter(|o| o.contract == contract).map(|o| o.order_id).collect();
        for id in &ids {
            self.cancel(*id, user, sink)?;
        }
        Ok(ids.len())
    }

    /// Cancels the open orders of `contract` and flattens each strategy's position in it
    /// with market orders (split at the largest order quantity); returns the orders entered.
    ///
    /// # Errors
    /// As [`TradingSession::submit`].
    pub fn liquidate(
        &mut self,
        contract: crude_model::ContractId,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<usize, SessionError> {
        self.cancel_contract(contract, user, sink)?;
        let max = self.engine.config().validation.max_order_qty.max(1);
        let flatten: Vec<(i64, String)> = self
            .engine
            .position_keeper()
            .strategy_positions()
            .iter()
            .filter(|p| p.contract == contract && p.qty != 0)
            .map(|p| (p.qty, p.strategy.clone().unwrap_or_else(|| "manual".into())))
            .collect();
        let mut entered = 0;
        for (qty, strategy) in flatten {
            let side = if qty > 0 { crude_model::Side::Sell } else { crude_model::Side::Buy };
            let mut left = qty.abs();
            while left > 0 {
                let chunk = left.min(max);
                left -= chunk;
                let mut r = crude_model::OrderRequest::market(contract, side, chunk).with_strategy(strategy.clone());
                r.user = user.to_string();
                self.submit(r, sink)?;
                entered += 1;
            }
        }
        Ok(entered)
    }

    /// Cancels every open order.
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Poisoned`].
    pub fn cancel_all(&mut self, user: &str, sink: &mut dyn FnMut(&EngineEvent)) -> Result<usize, SessionError> {
        self.with(sink, |e| Ok(e.cancel_all(user)))
    }

    /// The kill switch (see [`Engine::kill_switch`]).
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Poisoned`].
    pub fn kill_switch(
        &mut self,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<Vec<SubmitOutcome>, SessionError> {
        self.with(sink, |e| Ok(e.kill_switch(user)))
    }

    /// Resets the circuit breaker (audited).
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Poisoned`].
    pub fn reset_circuit_breaker(
        &mut self,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<(), SessionError> {
        self.with(sink, |e| {
            e.reset_circuit_breaker(user);
            Ok(())
        })
    }

    /// Replaces the engine's pre-trade check (see [`Engine::set_check`]); it applies to the
    /// next order and preview. Nothing is written.
    pub fn set_check(&mut self, check: Box<dyn PreTradeCheck + Send>) {
        self.engine.set_check(check);
    }

    /// Changes the daily loss limit of the circuit breaker (see
    /// [`Engine::set_daily_loss_limit`]); the change is in the audit log when this returns.
    ///
    /// # Errors
    /// [`SessionError::Trading`] with [`TradingError::BadLimit`] (nothing written),
    /// [`SessionError::Store`], [`SessionError::Poisoned`].
    pub fn set_daily_loss_limit(
        &mut self,
        max_daily_loss_usd: f64,
        user: &str,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<(), SessionError> {
        self.with(sink, |e| e.set_daily_loss_limit(max_daily_loss_usd, user))
    }

    /// Records a limit edit in the audit log.
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Poisoned`].
    pub fn record_limit_edit(
        &mut self,
        user: &str,
        details: serde_json::Value,
        sink: &mut dyn FnMut(&EngineEvent),
    ) -> Result<(), SessionError> {
        self.with(sink, |e| {
            e.record_limit_edit(user, details);
            Ok(())
        })
    }

    /// Feeds one market event.
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Poisoned`].
    pub fn on_market(&mut self, event: &MarketEvent, sink: &mut dyn FnMut(&EngineEvent)) -> Result<(), SessionError> {
        self.with(sink, |e| {
            e.on_market(event);
            Ok(())
        })
    }

    /// Lets event time pass (acknowledgements, expiries).
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Poisoned`].
    pub fn advance_to(&mut self, ts: Timestamp, sink: &mut dyn FnMut(&EngineEvent)) -> Result<(), SessionError> {
        self.with(sink, |e| {
            e.advance_to(ts);
            Ok(())
        })
    }

    /// Stores the current marks (so positions read later show unrealised P&L).
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub fn save_marks(&mut self) -> Result<(), SessionError> {
        let marks = self.engine.marks();
        self.store.upsert_marks(&marks)?;
        Ok(())
    }

    /// Checkpoints the write-ahead log (call when idle; see [`Store::checkpoint`]).
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub fn checkpoint(&mut self) -> Result<(), SessionError> {
        self.store.checkpoint()?;
        Ok(())
    }
}
