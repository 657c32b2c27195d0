//! The paper broker: fills orders against the quotes and trades of the simulated, replayed or
//! live feed, in event time.
//!
//! Rules (every price on the tick grid; negative prices work unchanged):
//!
//! * **Acknowledgement**: an order submitted at `t` is acknowledged at `t + ack_latency_ms`
//!   (event time) and can execute only from then on, against the market as it stands.
//! * **Market orders** (and triggered stops) take liquidity at the touch (buy at the ask,
//!   sell at the bid) plus the configured slippage in ticks, up to the displayed size; the
//!   rest waits for later quotes (each new quote displays fresh size). Displayed size taken
//!   by one order is not available to the next until the quote changes.
//! * **Limit orders** that are marketable on arrival (or after an amendment) take liquidity
//!   at the touch plus the slippage, capped at the limit price. A resting limit fills at its limit price only
//!   when the market trades through it: a trade printed strictly beyond the limit (up to
//!   the trade's size) or the opposite touch moving strictly beyond it (up to the displayed
//!   size). A touch or trade exactly at the limit does not fill: the queue position is
//!   unknown, so the paper broker stays conservative.
//! * **Stops** trigger when a trade prints at or beyond the stop price, or when the whole
//!   market moves past it (a buy stop when the bid reaches it, a sell stop when the ask
//!   does); a stop then behaves as a market order, a stop-limit as a limit order.
//! * **IOC** executes what it can on acknowledgement and cancels the rest; **FOK** executes
//!   in full on acknowledgement or is cancelled without any fill.
//! * **Expiry**: a DAY order expires at the close of the session it was entered in, a GTC
//!   order at the close of its contract's last trading day (times set by the engine on the
//!   order's `expire_ts`).
//! * **Bars** (backtests driven bar by bar, `MarketEvent::Bar` of a contract series): market
//!   orders fill at the bar's open plus slippage; stops trigger when the bar's range reaches
//!   them and fill at the stop (or at the open when the bar gaps through it) plus slippage;
//!   limits fill at the open when the bar opens through them, else at the limit when the
//!   bar's range goes strictly through it. Fills are capped by the bar's volume (no cap when
//!   the volume is 0, i.e. unknown). IOC and FOK orders need a quote and are cancelled in
//!   bar mode.
//! * **Costs**: commission and exchange fees per contract from the configuration.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crude_model::{
    Bar, ContractId, Instruments, Liquidity, Market, MarketEvent, Order, OrderStatus, OrderType, Quote, SeriesId, Side,
    TimeInForce, Timestamp, Trade,
};

use crate::broker::{Broker, BrokerReport};
use crate::config::BrokerConfig;

/// An order as the paper venue holds it.
#[derive(Debug, Clone)]
struct VenueOrder {
    order_id: u64,
    contract: ContractId,
    side: Side,
    remaining: i64,
    order_type: OrderType,
    limit: Option<f64>,
    stop: Option<f64>,
    tif: TimeInForce,
    triggered: bool,
    acked: bool,
    expire_ts: Option<Timestamp>,
}

impl VenueOrder {
    /// Whether the order currently behaves as a market order.
    fn is_market_now(&self) -> bool {
        self.order_type == OrderType::Market || (self.order_type == OrderType::Stop && self.triggered)
    }

    /// Whether the order currently behaves as a limit order.
    fn is_limit_now(&self) -> bool {
        self.order_type == OrderType::Limit || (self.order_type == OrderType::StopLimit && self.triggered)
    }

    fn awaiting_trigger(&self) -> bool {
        self.order_type.needs_stop() && !self.triggered
    }
}

/// The book as the paper venue sees it for one contract.
#[derive(Debug, Clone, Copy, Default)]
struct Book {
    quote: Option<Quote>,
    /// Displayed size at the bid / ask not yet taken by our orders.
    bid_avail: i64,
    ask_avail: i64,
    last_trade: Option<f64>,
}

/// The paper broker (see the module docs for the fill rules).
#[derive(Debug, Clone)]
pub struct PaperBroker {
    cfg: BrokerConfig,
    tick: [f64; 4],
    orders: BTreeMap<u64, VenueOrder>,
    by_contract: HashMap<ContractId, Vec<u64>>,
    books: HashMap<ContractId, Book>,
    pending_acks: BTreeSet<(Timestamp, u64)>,
    expiries: BTreeSet<(Timestamp, u64)>,
    now: Timestamp,
}

impl PaperBroker {
    /// A paper broker with the tick sizes of `instruments`.
    pub fn new(cfg: BrokerConfig, instruments: &Instruments) -> Self {
        let tick = Market::ALL.map(|m| instruments.spec(m).tick_size);
        Self {
            cfg,
            tick,
            orders: BTreeMap::new(),
            by_contract: HashMap::new(),
            books: HashMap::new(),
            pending_acks: BTreeSet::new(),
            expiries: BTreeSet::new(),
            now: Timestamp::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BrokerConfig {
        &self.cfg
    }

    /// Orders live at the venue (acknowledged or not).
    pub fn live_orders(&self) -> usize {
        self.orders.len()
    }

    /// The last quote of `contract` the venue saw.
    pub fn quote(&self, contract: ContractId) -> Option<Quote> {
        self.books.get(&contract).and_then(|b| b.quote)
    }

    fn round(&self, market: Market, price: f64) -> f64 {
        let tick = self.tick[market.index()];
        let per_unit = (1.0 / tick).round();
        (price * per_unit).round() / per_unit
    }

    fn costs(&self, market: Market, qty: i64) -> (f64, f64) {
        let q = qty as f64;
        (q * self.cfg.commission_usd_per_contract, q * self.cfg.exchange_fees_usd_per_contract.get(market))
    }

    fn insert(&mut self, v: VenueOrder) {
        if let Some(e) = v.expire_ts {
            self.expiries.insert((e, v.order_id));
        }
        self.by_contract.entry(v.contract).or_default().push(v.order_id);
        self.orders.insert(v.order_id, v);
    }

    fn remove(&mut self, order_id: u64) -> Option<VenueOrder> {
        let v = self.orders.remove(&order_id)?;
        if let Some(e) = v.expire_ts {
            self.expiries.remove(&(e, order_id));
        }
        self.pending_acks.retain(|&(_, id)| id != order_id);
        if let Some(ids) = self.by_contract.get_mut(&v.contract) {
            ids.retain(|&id| id != order_id);
        }
        Some(v)
    }

    fn venue_order(order: &Order) -> VenueOrder {
        VenueOrder {
            order_id: order.order_id,
            contract: order.contract,
            side: order.side,
            remaining: (order.qty - order.filled_qty).max(0),
            order_type: order.order_type,
            limit: order.limit_price,
            stop: order.stop_price,
            tif: order.tif,
            triggered: order.triggered,
            acked: false,
            expire_ts: order.expire_ts,
        }
    }

    /// Processes acknowledgements and expiries due at or before `t`, in time order.
    fn run_timers(&mut self, t: Timestamp, out: &mut Vec<BrokerReport>) {
        loop {
            let ack = self.pending_acks.first().copied().filter(|&(at, _)| at <= t);
            let exp = self.expiries.first().copied().filter(|&(at, _)| at <= t);
            match (ack, exp) {
                (Some(a), Some(e)) if e.0 < a.0 => self.expire(e, out),
                (Some(a), _) => self.acknowledge(a, out),
                (None, Some(e)) => self.expire(e, out),
                (None, None) => break,
            }
        }
        self.now = self.now.max(t);
    }

    fn expire(&mut self, (at, order_id): (Timestamp, u64), out: &mut Vec<BrokerReport>) {
        self.expiries.remove(&(at, order_id));
        if let Some(v) = self.remove(order_id) {
            let reason = match v.tif {
                TimeInForce::Day => "day order expired at the session close".to_string(),
                _ => format!("expired with the contract {} at its last session close", v.contract),
            };
            out.push(BrokerReport::Expired { order_id, ts: at, reason });
        }
    }

    fn acknowledge(&mut self, (at, order_id): (Timestamp, u64), out: &mut Vec<BrokerReport>) {
        self.pending_acks.remove(&(at, order_id));
        let Some(v) = self.orders.get_mut(&order_id) else {
            return;
        };
        v.acked = true;
        out.push(BrokerReport::Accepted { order_id, ts: at });
        self.on_arrival(order_id, at, out);
    }

    /// First execution attempt of an order that just became active (acknowledged, amended
    /// or triggered), with IOC / FOK handling.
    fn on_arrival(&mut self, order_id: u64, ts: Timestamp, out: &mut Vec<BrokerReport>) {
        let Some(v) = self.orders.get(&order_id).cloned() else {
            return;
        };
        let book = self.books.get(&v.contract).copied().unwrap_or_default();
        let mut v = v;
        if v.awaiting_trigger() {
            if let Some(q) = book.quote
                && stop_hit_by_quote(&v, &q)
            {
                self.trigger(&mut v, ts, out);
            } else if let Some(p) = book.last_trade
                && stop_hit_by_price(&v, p)
            {
                self.trigger(&mut v, ts, out);
            } else {
                return;
            }
        }
        if v.tif == TimeInForce::Fok {
            let available = self.marketable_size(&v, &book);
            if available < v.remaining {
                let reason = format!(
                    "fok: {} contracts could not fill in full ({} displayed within the limit)",
                    v.remaining,
                    available.max(0)
                );
                self.remove(order_id);
                out.push(BrokerReport::Cancelled { order_id, ts, reason });
                return;
            }
        }
        self.take(order_id, ts, out);
        if v.tif == TimeInForce::Ioc
            && let Some(left) = self.orders.get(&order_id).map(|o| o.remaining)
            && left > 0
        {
            self.remove(order_id);
            out.push(BrokerReport::Cancelled {
                order_id,
                ts,
                reason: format!("ioc: unfilled remainder of {left} cancelled"),
            });
        }
    }

    fn trigger(&mut self, v: &mut VenueOrder, ts: Timestamp, out: &mut Vec<BrokerReport>) {
        v.triggered = true;
        if let Some(o) = self.orders.get_mut(&v.order_id) {
            o.triggered = true;
        }
        out.push(BrokerReport::Triggered { order_id: v.order_id, ts });
    }

    /// Displayed size the order could take right now (0 when not marketable).
    fn marketable_size(&self, v: &VenueOrder, book: &Book) -> i64 {
        let Some(q) = book.quote else {
            return 0;
        };
        let (touch, avail) = match v.side {
            Side::Buy => (q.ask, book.ask_avail),
            Side::Sell => (q.bid, book.bid_avail),
        };
        let ok = v.is_market_now()
            || (v.is_limit_now()
                && v.limit.is_some_and(|l| match v.side {
                    Side::Buy => touch <= l,
                    Side::Sell => touch >= l,
                }));
        if ok { avail } else { 0 }
    }

    /// Takes liquidity at the touch for a market or marketable limit order.
    fn take(&mut self, order_id: u64, ts: Timestamp, out: &mut Vec<BrokerReport>) {
        let Some(v) = self.orders.get(&order_id).cloned() else {
            return;
        };
        if !v.acked || v.awaiting_trigger() || v.remaining <= 0 {
            return;
        }
        let Some(book) = self.books.get(&v.contract).copied() else {
            return;
        };
        let qty = self.marketable_size(&v, &book).min(v.remaining);
        if qty <= 0 {
            return;
        }
        let Some(q) = book.quote else {
            return;
        };
        let tick = self.tick[v.contract.market.index()];
        let slip = self.cfg.slippage.ticks(v.remaining) as f64 * tick;
        let price = match (v.side, v.is_market_now()) {
            (Side::Buy, true) => q.ask + slip,
            (Side::Sell, true) => q.bid - slip,
            (Side::Buy, false) => (q.ask + slip).min(v.limit.unwrap_or(q.ask)),
            (Side::Sell, false) => (q.bid - slip).max(v.limit.unwrap_or(q.bid)),
        };
        if let Some(b) = self.books.get_mut(&v.contract) {
            match v.side {
                Side::Buy => b.ask_avail -= qty,
                Side::Sell => b.bid_avail -= qty,
            }
        }
        let price = self.round(v.contract.market, price);
        self.fill(order_id, qty, price, ts, Liquidity::Taker, out);
    }

    fn fill(
        &mut self,
        order_id: u64,
        qty: i64,
        price: f64,
        ts: Timestamp,
        liquidity: Liquidity,
        out: &mut Vec<BrokerReport>,
    ) {
        let Some(v) = self.orders.get_mut(&order_id) else {
            return;
        };
        v.remaining -= qty;
        let market = v.contract.market;
        let done = v.remaining <= 0;
        let (commission_usd, fees_usd) = self.costs(market, qty);
        out.push(BrokerReport::Fill { order_id, ts, qty, price, liquidity, commission_usd, fees_usd });
        if done {
            self.remove(order_id);
        }
    }

    fn on_quote(&mut self, q: &Quote, out: &mut Vec<BrokerReport>) {
        let book = self.books.entry(q.contract).or_default();
        let changed = book.quote.is_none_or(|old| {
            old.bid != q.bid || old.ask != q.ask || old.bid_size != q.bid_size || old.ask_size != q.ask_size
        });
        book.quote = Some(*q);
        if changed {
            book.bid_avail = i64::from(q.bid_size);
            book.ask_avail = i64::from(q.ask_size);
        }
        let ids = self.by_contract.get(&q.contract).cloned().unwrap_or_default();
        for id in ids {
            let Some(mut v) = self.orders.get(&id).cloned() else {
                continue;
            };
            if !v.acked {
                continue;
            }
            if v.awaiting_trigger() {
                if !stop_hit_by_quote(&v, q) {
                    continue;
                }
                self.trigger(&mut v, q.ts, out);
                self.take(id, q.ts, out);
                continue;
            }
            if v.is_market_now() {
                self.take(id, q.ts, out);
            } else if let Some(l) = v.limit {
                // Resting limit: the opposite touch moved strictly through it.
                let (through, avail) = match v.side {
                    Side::Buy => (q.ask < l, self.books.get(&q.contract).map_or(0, |b| b.ask_avail)),
                    Side::Sell => (q.bid > l, self.books.get(&q.contract).map_or(0, |b| b.bid_avail)),
                };
                let qty = avail.min(v.remaining);
                if through && qty > 0 {
                    if let Some(b) = self.books.get_mut(&q.contract) {
                        match v.side {
                            Side::Buy => b.ask_avail -= qty,
                            Side::Sell => b.bid_avail -= qty,
                        }
                    }
                    self.fill(id, qty, l, q.ts, Liquidity::Maker, out);
                }
            }
        }
    }

    fn on_trade(&mut self, t: &Trade, out: &mut Vec<BrokerReport>) {
        self.books.entry(t.contract).or_default().last_trade = Some(t.price);
        let mut trade_avail = i64::from(t.size);
        let ids = self.by_contract.get(&t.contract).cloned().unwrap_or_default();
        for id in ids {
            let Some(mut v) = self.orders.get(&id).cloned() else {
                continue;
            };
            if !v.acked {
                continue;
            }
            if v.awaiting_trigger() {
                if stop_hit_by_price(&v, t.price) {
                    self.trigger(&mut v, t.ts, out);
                    self.take(id, t.ts, out);
                }
                continue;
            }
            if v.is_limit_now()
                && let Some(l) = v.limit
            {
                let through = match v.side {
                    Side::Buy => t.price < l,
                    Side::Sell => t.price > l,
                };
                let qty = trade_avail.min(v.remaining);
                if through && qty > 0 {
                    trade_avail -= qty;
                    self.fill(id, qty, l, t.ts, Liquidity::Maker, out);
                }
            }
        }
    }
}

impl PaperBroker {
    fn on_bar(&mut self, contract: ContractId, bar: &Bar, out: &mut Vec<BrokerReport>) {
        let ts = bar.start;
        self.books.entry(contract).or_default().last_trade = Some(bar.close);
        let mut volume = if bar.volume == 0 { i64::MAX } else { i64::try_from(bar.volume).unwrap_or(i64::MAX) };
        let tick = self.tick[contract.market.index()];
        let ids = self.by_contract.get(&contract).cloned().unwrap_or_default();
        for id in ids {
            let Some(mut v) = self.orders.get(&id).cloned() else {
                continue;
            };
            if !v.acked || volume <= 0 {
                continue;
            }
            let slip = self.cfg.slippage.ticks(v.remaining) as f64 * tick;
            let mut stop_fill = None;
            if v.awaiting_trigger() {
                let Some(stop) = v.stop else {
                    continue;
                };
                let hit = match v.side {
                    Side::Buy => bar.high >= stop,
                    Side::Sell => bar.low <= stop,
                };
                if !hit {
                    continue;
                }
                self.trigger(&mut v, ts, out);
                stop_fill = Some(match v.side {
                    Side::Buy => stop.max(bar.open),
                    Side::Sell => stop.min(bar.open),
                });
            }
            let fill = if v.is_market_now() {
                let base = stop_fill.unwrap_or(bar.open);
                let p = match v.side {
                    Side::Buy => base + slip,
                    Side::Sell => base - slip,
                };
                Some((p, Liquidity::Taker))
            } else if let Some(l) = v.limit.filter(|_| v.is_limit_now()) {
                let start = stop_fill.unwrap_or(bar.open);
                match v.side {
                    Side::Buy if start < l => Some((start, Liquidity::Taker)),
                    Side::Buy if bar.low < l => Some((l, Liquidity::Maker)),
                    Side::Sell if start > l => Some((start, Liquidity::Taker)),
                    Side::Sell if bar.high > l => Some((l, Liquidity::Maker)),
                    _ => None,
                }
            } else {
                None
            };
            if let Some((price, liquidity)) = fill {
                let qty = v.remaining.min(volume);
                volume -= qty;
                let price = self.round(contract.market, price);
                self.fill(id, qty, price, ts, liquidity, out);
            }
        }
    }
}

/// Whether a quote shows the whole market past a stop.
fn stop_hit_by_quote(v: &VenueOrder, q: &Quote) -> bool {
    match (v.side, v.stop) {
        (Side::Buy, Some(s)) => q.bid >= s,
        (Side::Sell, Some(s)) => q.ask <= s,
        _ => false,
    }
}

/// Whether a trade price reaches a stop.
fn stop_hit_by_price(v: &VenueOrder, p: f64) -> bool {
    match (v.side, v.stop) {
        (Side::Buy, Some(s)) => p >= s,
        (Side::Sell, Some(s)) => p <= s,
        _ => false,
    }
}

impl Broker for PaperBroker {
    fn name(&self) -> &'static str {
        "paper"
    }

    fn submit(&mut self, order: &Order, now: Timestamp, out: &mut Vec<BrokerReport>) {
        self.run_timers(now, out);
        let v = Self::venue_order(order);
        let ack_at = now.add_nanos(i64::try_from(self.cfg.ack_latency_ms).unwrap_or(60_000) * 1_000_000);
        let id = v.order_id;
        self.insert(v);
        self.pending_acks.insert((ack_at, id));
        if ack_at <= now {
            self.run_timers(now, out);
        }
    }

    fn resume(&mut self, order: &Order, now: Timestamp, out: &mut Vec<BrokerReport>) {
        if order.status == OrderStatus::PendingNew {
            self.submit(order, now, out);
            return;
        }
        if !order.is_open() {
            return;
        }
        let mut v = Self::venue_order(order);
        v.acked = true;
        let id = v.order_id;
        self.insert(v);
        self.run_timers(now, out);
        // A market order left over from before the restart executes against the current book.
        self.take(id, now, out);
    }

    fn amend(&mut self, order: &Order, now: Timestamp, out: &mut Vec<BrokerReport>) {
        self.run_timers(now, out);
        let Some(v) = self.orders.get_mut(&order.order_id) else {
            out.push(BrokerReport::Rejected {
                order_id: order.order_id,
                ts: now,
                reason: "amend refused: the order is no longer live at the broker".into(),
            });
            return;
        };
        v.remaining = (order.qty - order.filled_qty).max(0);
        v.limit = order.limit_price;
        v.stop = order.stop_price;
        let acked = v.acked;
        out.push(BrokerReport::Amended {
            order_id: order.order_id,
            ts: now,
            qty: order.qty,
            limit_price: order.limit_price,
            stop_price: order.stop_price,
        });
        if acked {
            // An amended order is re-evaluated as if it had just arrived (it may now be marketable).
            let tif = self.orders.get(&order.order_id).map(|o| o.tif);
            if tif.is_some_and(|t| !t.is_immediate()) {
                self.on_arrival(order.order_id, now, out);
            }
        }
    }

    fn cancel(&mut self, order_id: u64, now: Timestamp, reason: &str, out: &mut Vec<BrokerReport>) {
        self.run_timers(now, out);
        if self.remove(order_id).is_some() {
            out.push(BrokerReport::Cancelled { order_id, ts: now, reason: reason.to_string() });
        }
    }

    fn on_market(&mut self, event: &MarketEvent, out: &mut Vec<BrokerReport>) {
        let ts = event.ts();
        self.run_timers(ts, out);
        match event {
            MarketEvent::Quote(q) => self.on_quote(q, out),
            MarketEvent::Trade(t) => self.on_trade(t, out),
            MarketEvent::Depth(d) => {
                // The depth's best levels are a quote; only a change of the touch refreshes it.
                if let (Some(b), Some(a)) = (d.bids.first(), d.asks.first()) {
                    let q = Quote {
                        contract: d.contract,
                        ts: d.ts,
                        bid: b.price,
                        ask: a.price,
                        bid_size: b.size,
                        ask_size: a.size,
                    };
                    let same = self
                        .books
                        .get(&d.contract)
                        .and_then(|bk| bk.quote)
                        .is_some_and(|old| old.bid == q.bid && old.ask == q.ask);
                    if !same {
                        self.on_quote(&q, out);
                    }
                }
            }
            MarketEvent::Bar { series: SeriesId::Contract(c), bar, .. } => self.on_bar(*c, bar, out),
            _ => {}
        }
    }

    fn advance_to(&mut self, now: Timestamp, out: &mut Vec<BrokerReport>) {
        self.run_timers(now, out);
    }

    fn next_timer(&self) -> Option<Timestamp> {
        let a = self.pending_acks.first().map(|x| x.0);
        let e = self.expiries.first().map(|x| x.0);
        match (a, e) {
            (Some(a), Some(e)) => Some(a.min(e)),
            (a, e) => a.or(e),
        }
    }
}
