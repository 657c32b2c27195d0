//! Market events: what every feed (simulator, replay, IB, Bloomberg) produces and what the
//! state store, the signal engine, the risk engine and the backtester consume.

use serde::{Deserialize, Serialize};

use crate::{ContractId, Market, Timestamp};

/// Top of book for one contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub contract: ContractId,
    pub ts: Timestamp,
    pub bid: f64,
    pub ask: f64,
    pub bid_size: u32,
    pub ask_size: u32,
}

impl Quote {
    /// Mid price.
    pub fn mid(&self) -> f64 {
        0.5 * (self.bid + self.ask)
    }
}

/// A trade print.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub contract: ContractId,
    pub ts: Timestamp,
    pub price: f64,
    pub size: u32,
}

/// One price level of the book.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BookLevel {
    pub price: f64,
    pub size: u32,
}

/// Market depth, best level first on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthSnapshot {
    pub contract: ContractId,
    pub ts: Timestamp,
    pub bids: Vec<BookLevel>,
    pub asks: Vec<BookLevel>,
}

/// An OHLCV bar. `start` is the bucket start; prices can be negative.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub start: Timestamp,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: u64,
}

impl Bar {
    /// A bar opened by one trade.
    pub fn from_trade(start: Timestamp, price: f64, size: u64) -> Self {
        Self { start, open: price, high: price, low: price, close: price, volume: size }
    }

    /// Fold one more trade into the bar.
    #[inline]
    pub fn update(&mut self, price: f64, size: u64) {
        if price > self.high {
            self.high = price;
        }
        if price < self.low {
            self.low = price;
        }
        self.close = price;
        self.volume += size;
    }
}

/// What a price series is of: one contract month, or a continuous series that rolls
/// (`nth` = 1 is the front month, as Bloomberg's `CL1 Comdty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SeriesId {
    Contract(ContractId),
    Continuous { market: Market, nth: u8 },
}

impl SeriesId {
    /// The market the series belongs to.
    pub fn market(&self) -> Market {
        match self {
            SeriesId::Contract(c) => c.market,
            SeriesId::Continuous { market, .. } => *market,
        }
    }
}

impl std::fmt::Display for SeriesId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeriesId::Contract(c) => write!(f, "{c}"),
            SeriesId::Continuous { market, nth } => write!(f, "{}{}", market.code(), nth),
        }
    }
}

/// Bar timeframes the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Timeframe {
    M1,
    M5,
    M15,
    H1,
    D1,
}

impl Timeframe {
    pub const ALL: [Timeframe; 5] = [Timeframe::M1, Timeframe::M5, Timeframe::M15, Timeframe::H1, Timeframe::D1];

    /// Label as shown on the chart's timeframe switch.
    pub const fn label(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::H1 => "1h",
            Timeframe::D1 => "1D",
        }
    }

    /// Length of an intraday bucket in nanoseconds (`None` for daily bars, which follow the
    /// trading session rather than a fixed length).
    pub const fn intraday_nanos(self) -> Option<i64> {
        let m = Timestamp::NANOS_PER_MIN;
        match self {
            Timeframe::M1 => Some(m),
            Timeframe::M5 => Some(5 * m),
            Timeframe::M15 => Some(15 * m),
            Timeframe::H1 => Some(60 * m),
            Timeframe::D1 => None,
        }
    }

    /// The bar of this timeframe that holds event time `ts` (one rule for every bar Crude
    /// builds). Intraday bars are aligned to the clock (the exchange's time zone is a whole
    /// number of hours from UTC, so UTC alignment is exchange alignment); a daily bar
    /// follows the trading session (CME Globex energy: 18:00 ET of the previous day to
    /// 17:00 ET) and is stamped midnight UTC of its trading date.
    pub fn bucket(self, ts: Timestamp) -> BarBucket {
        match self.intraday_nanos() {
            Some(len) => {
                let start = Timestamp(ts.0 - ts.0.rem_euclid(len));
                BarBucket { start, from: start, until: start.add_nanos(len) }
            }
            None => {
                let date = crate::trading_date(ts);
                let (open, close) = crate::session_bounds(date);
                BarBucket { start: Timestamp::from_date(date), from: open.min(ts), until: close.max(ts.add_nanos(1)) }
            }
        }
    }

    /// Index into [`Timeframe::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Timeframe::M1 => 0,
            Timeframe::M5 => 1,
            Timeframe::M15 => 2,
            Timeframe::H1 => 3,
            Timeframe::D1 => 4,
        }
    }
}

/// The bar holding an event time ([`Timeframe::bucket`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarBucket {
    /// The bar's stamp: the bucket start, or midnight UTC of the trading date for a
    /// daily bar.
    pub start: Timestamp,
    /// Event time the bar covers, `[from, until)`.
    pub from: Timestamp,
    pub until: Timestamp,
}

/// One point of a futures curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub contract: ContractId,
    pub price: f64,
}

/// A market's futures curve, front month first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveSnapshot {
    pub market: Market,
    pub ts: Timestamp,
    pub points: Vec<CurvePoint>,
}

/// A weekly EIA petroleum status report (thousand barrels; changes week on week).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InventoryReport {
    pub ts: Timestamp,
    /// Reported change in commercial crude stocks.
    pub crude_change_kbbl: f64,
    /// Analysts' consensus for that change.
    pub crude_consensus_kbbl: f64,
    pub gasoline_change_kbbl: f64,
    pub gasoline_consensus_kbbl: f64,
    pub distillate_change_kbbl: f64,
    pub distillate_consensus_kbbl: f64,
    /// Commercial crude stock level after the change.
    pub crude_stocks_kbbl: f64,
}

impl InventoryReport {
    /// Crude surprise: actual minus consensus (a build above consensus is bearish).
    pub fn crude_surprise_kbbl(&self) -> f64 {
        self.crude_change_kbbl - self.crude_consensus_kbbl
    }
}

/// What kind of source produces the data on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FeedKind {
    Simulated,
    Replay,
    Live,
}

impl FeedKind {
    /// The badge text on the top bar.
    pub const fn badge(self) -> &'static str {
        match self {
            FeedKind::Simulated => "SIMULATED",
            FeedKind::Replay => "REPLAY",
            FeedKind::Live => "LIVE",
        }
    }
}

/// A feed's connection status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedStatus {
    Connecting,
    Connected,
    Disconnected { reason: String },
    Simulated,
    Replay,
}

impl FeedStatus {
    /// Short label for the status bar.
    pub fn label(&self) -> String {
        match self {
            FeedStatus::Connecting => "Connecting".into(),
            FeedStatus::Connected => "Connected".into(),
            FeedStatus::Disconnected { reason } => format!("Disconnected: {reason}"),
            FeedStatus::Simulated => "Simulated".into(),
            FeedStatus::Replay => "Replay".into(),
        }
    }

    /// Whether prices from the feed can be shown as current.
    pub fn is_streaming(&self) -> bool {
        matches!(self, FeedStatus::Connected | FeedStatus::Simulated | FeedStatus::Replay)
    }
}

/// Everything a feed can send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MarketEvent {
    Quote(Quote),
    Trade(Trade),
    Depth(DepthSnapshot),
    /// A completed bar from a bar feed (replay of bar files, vendor history, simulator
    /// warm-up history).
    Bar {
        series: SeriesId,
        timeframe: Timeframe,
        bar: Bar,
    },
    Curve(CurveSnapshot),
    Inventory(InventoryReport),
    /// Previous session's settlement price, used for change and day P&L.
    Settlement {
        contract: ContractId,
        ts: Timestamp,
        price: f64,
    },
    Status {
        kind: FeedKind,
        status: FeedStatus,
        ts: Timestamp,
    },
}

impl MarketEvent {
    /// Event time, where the event has one.
    pub fn ts(&self) -> Timestamp {
        match self {
            MarketEvent::Quote(q) => q.ts,
            MarketEvent::Trade(t) => t.ts,
            MarketEvent::Depth(d) => d.ts,
            MarketEvent::Bar { bar, .. } => bar.start,
            MarketEvent::Curve(c) => c.ts,
            MarketEvent::Inventory(r) => r.ts,
            MarketEvent::Settlement { ts, .. } => *ts,
            MarketEvent::Status { ts, .. } => *ts,
        }
    }
}
