//! Crude's domain model: markets and contract months, instrument specifications and
//! symbology (Bloomberg, IB, exchange codes), expiry and roll rules, the market events every
//! feed produces, the clock through which every component reads time, and the order, fill,
//! position and pre-trade check types trading and risk share.
//!
//! This crate does no I/O beyond reading an instruments file the caller names; everything
//! else is pure and deterministic.

mod calendar;
mod event;
mod expiry;
mod instruments;
mod market;
mod order;
mod session;
mod symbology;
mod time;

pub use calendar::{
    CME_HOLIDAYS, FIRST_TABLE_YEAR, HolidayCalendar, HolidayRow, ICE_BRENT_CLOSURES, LAST_TABLE_YEAR, UK_BANK_HOLIDAYS,
    easter_sunday, is_ice_brent_closed, is_weekend, rule_holidays, rule_ice_brent_closures, uk_bank_holidays,
};
pub use event::{
    Bar, BarBucket, BookLevel, CurvePoint, CurveSnapshot, DepthSnapshot, FeedKind, FeedStatus, InventoryReport,
    MarketEvent, Quote, SeriesId, Timeframe, Trade,
};
pub use expiry::{RollEntry, delivery_month_end, last_trade_date, roll_schedule};
pub use instruments::{BUILTIN_LABEL, InstrumentSpec, Instruments, SPEC_FIELDS};
pub use market::{ContractId, ContractMonth, MONTH_CODES, Market, ModelError, month_code, month_from_code};
pub use order::{
    BookView, Fill, Liquidity, Order, OrderEvent, OrderEventKind, OrderRequest, OrderStatus, OrderType,
    OrderValidationError, Position, PostTradeMetrics, PreTradeCheck, PreTradeDecision, PreTradeResult, Side,
    SpreadLink, TimeInForce, ValidationConfig, format_price, parse_price, parse_qty, tick_decimals,
    validate_order_request,
};
pub use session::{
    CLOSE_HOUR_ET, OPEN_HOUR_ET, is_session_open, local_time_et, next_session_open, session_bounds,
    session_close_after, session_for, trading_date,
};
pub use symbology::{
    BLOOMBERG_YELLOW_KEY, IbContractSpec, MAX_GENERIC, PriceField, Symbol, bloomberg_generic, bloomberg_root,
    bloomberg_specific, bloomberg_specific_as_of, code_two_digit, contract_multiplier, ib_contract, ib_exchange,
    ib_local_symbol, ib_symbol, parse_symbol,
};
pub use time::{Clock, LiveClock, SimClock, Timestamp};

/// Gallons per barrel: the conversion between $/gal product prices and $/bbl crude prices.
pub const GALLONS_PER_BARREL: f64 = 42.0;

/// A whole number with thousands separators: `1,234,567` (volumes, amounts on screen).
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
