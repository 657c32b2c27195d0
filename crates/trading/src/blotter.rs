//! The blotter: fills joined with their orders, filters, CSV export, a summary (trades,
//! gross and net P&L, fees, slippage) and performance attribution by strategy.
//!
//! Slippage of a fill is measured against the order's arrival price (the mid when it was
//! entered): `(fill price − arrival) × side × quantity × multiplier`, positive when the fill
//! was worse than the arrival mid.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;

use chrono::{NaiveDate, SecondsFormat};
use crude_model::{ContractId, Fill, Instruments, Liquidity, Market, Order, Position, Side, Timestamp, trading_date};
use serde::{Deserialize, Serialize};

/// One blotter row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlotterRow {
    pub fill_id: u64,
    pub order_id: u64,
    pub client_order_id: String,
    /// RFC 3339 UTC time of the fill.
    pub time: String,
    /// The exchange trading date the fill counts for.
    pub trading_date: String,
    pub contract: String,
    pub market: String,
    pub side: String,
    pub qty: i64,
    pub price: f64,
    pub commission_usd: f64,
    pub fees_usd: f64,
    pub liquidity: String,
    pub strategy: String,
    pub arrival_price: Option<f64>,
    pub slippage_usd: Option<f64>,
    /// P&L this fill realised on its strategy's position, USD before costs.
    pub realized_pnl_usd: f64,
}

/// Totals over the rows shown.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct BlotterSummary {
    pub fills: u64,
    pub contracts: i64,
    /// Realised P&L before costs, USD.
    pub gross_pnl_usd: f64,
    pub fees_usd: f64,
    /// Gross minus commissions and fees.
    pub net_pnl_usd: f64,
    pub slippage_usd: f64,
}

/// Attribution of one strategy.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StrategyAttribution {
    pub strategy: String,
    pub fills: u64,
    /// Fills that closed (part of) a position.
    pub closing_trades: u64,
    /// Share of closing trades with positive realised P&L.
    pub hit_rate: Option<f64>,
    pub gross_pnl_usd: f64,
    pub fees_usd: f64,
    pub net_pnl_usd: f64,
    /// Net P&L per closing trade.
    pub average_trade_usd: Option<f64>,
}

/// RFC 3339 UTC with milliseconds.
pub fn format_time(ts: Timestamp) -> String {
    ts.to_datetime().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A filter of the blotter; every field narrows it. Dates are exchange trading dates,
/// both ends inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BlotterQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub strategy: Option<String>,
    pub market: Option<Market>,
}

impl BlotterQuery {
    /// Whether `line` passes the filter.
    pub fn matches(&self, line: &BlotterLine) -> bool {
        self.from.is_none_or(|d| line.trading_date >= d)
            && self.to.is_none_or(|d| line.trading_date <= d)
            && self.strategy.as_deref().is_none_or(|s| &*line.strategy == s)
            && self.market.is_none_or(|m| line.contract.market == m)
    }
}

/// One fill as the blotter shows it (compact: the table formats only the visible rows).
#[derive(Debug, Clone, PartialEq)]
pub struct BlotterLine {
    pub fill_id: u64,
    pub order_id: u64,
    pub client_order_id: Arc<str>,
    pub ts: Timestamp,
    /// The exchange trading date the fill counts for.
    pub trading_date: NaiveDate,
    pub contract: ContractId,
    pub side: Side,
    pub qty: i64,
    pub price: f64,
    pub commission_usd: f64,
    pub fees_usd: f64,
    pub liquidity: Liquidity,
    pub strategy: Arc<str>,
    /// Mid when the order was entered.
    pub arrival_price: Option<f64>,
    /// `(price − arrival) × side × qty × multiplier`: positive when worse than arrival.
    pub slippage_usd: Option<f64>,
    /// P&L this fill realised on its strategy's position in the contract, before costs.
    pub realized_pnl_usd: f64,
}

impl BlotterLine {
    /// Commission plus fees, USD.
    pub fn costs_usd(&self) -> f64 {
        self.commission_usd + self.fees_usd
    }

    /// The row as `crude blotter --export` writes it.
    pub fn to_row(&self) -> BlotterRow {
        BlotterRow {
            fill_id: self.fill_id,
            order_id: self.order_id,
            client_order_id: self.client_order_id.to_string(),
            time: format_time(self.ts),
            trading_date: self.trading_date.to_string(),
            contract: self.contract.to_string(),
            market: self.contract.market.code().to_string(),
            side: self.side.as_str().to_string(),
            qty: self.qty,
            price: self.price,
            commission_usd: self.commission_usd,
            fees_usd: self.fees_usd,
            liquidity: self.liquidity.as_str().to_string(),
            strategy: self.strategy.to_string(),
            arrival_price: self.arrival_price,
            slippage_usd: self.slippage_usd,
            realized_pnl_usd: self.realized_pnl_usd,
        }
    }
}

/// Blotter totals and attribution by strategy, kept incrementally (one fill at a time):
/// the only definition of the summary and the attribution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlotterTotals {
    summary: BlotterSummary,
    /// Per strategy: the attribution so far and the winning closing trades.
    strategies: BTreeMap<Arc<str>, (StrategyAttribution, u64)>,
}

impl BlotterTotals {
    /// Totals over `lines`.
    pub fn over<'a>(lines: impl IntoIterator<Item = &'a BlotterLine>) -> Self {
        let mut t = Self::default();
        for l in lines {
            t.add(l);
        }
        t
    }

    /// Adds one fill.
    pub fn add(&mut self, l: &BlotterLine) {
        let s = &mut self.summary;
        s.fills += 1;
        s.contracts += l.qty;
        s.gross_pnl_usd += l.realized_pnl_usd;
        s.fees_usd += l.costs_usd();
        s.slippage_usd += l.slippage_usd.unwrap_or(0.0);
        s.net_pnl_usd = s.gross_pnl_usd - s.fees_usd;
        let (a, wins) = self.strategies.entry(Arc::clone(&l.strategy)).or_insert_with(|| {
            (StrategyAttribution { strategy: l.strategy.to_string(), ..StrategyAttribution::default() }, 0)
        });
        a.fills += 1;
        a.gross_pnl_usd += l.realized_pnl_usd;
        a.fees_usd += l.costs_usd();
        if l.realized_pnl_usd != 0.0 {
            a.closing_trades += 1;
            if l.realized_pnl_usd > 0.0 {
                *wins += 1;
            }
        }
    }

    /// The summary.
    pub fn summary(&self) -> BlotterSummary {
        self.summary.clone()
    }

    /// Attribution by strategy, sorted by strategy.
    pub fn attribution(&self) -> Vec<StrategyAttribution> {
        self.strategies
            .values()
            .map(|(a, wins)| {
                let mut a = a.clone();
                a.net_pnl_usd = a.gross_pnl_usd - a.fees_usd;
                if a.closing_trades > 0 {
                    a.hit_rate = Some(*wins as f64 / a.closing_trades as f64);
                    a.average_trade_usd = Some(a.net_pnl_usd / a.closing_trades as f64);
                }
                a
            })
            .collect()
    }
}

/// Replays fills into blotter lines: realised P&L per (strategy, contract) position.
///
/// The one implementation of the blotter's rows: the app's trading service keeps one and
/// adds each new fill, `crude blotter` replays the database through one.
#[derive(Debug, Default)]
pub struct BlotterBuilder {
    positions: HashMap<(Arc<str>, ContractId), Position>,
    strategies: HashMap<String, Arc<str>>,
    orders: HashMap<u64, (Arc<str>, Option<f64>)>,
}

impl BlotterBuilder {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strategies.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.strategies.insert(s.to_string(), Arc::clone(&a));
        a
    }

    /// Remembers an order's client id and arrival price (for its fills' slippage).
    pub fn note_order(&mut self, o: &Order) {
        self.orders.entry(o.order_id).or_insert_with(|| (Arc::from(o.client_order_id.as_str()), o.arrival_price));
    }

    /// The next fill, in fill order, as a line.
    pub fn line(&mut self, f: &Fill, instruments: &Instruments) -> BlotterLine {
        let strategy = self.intern(&f.strategy);
        let mult = instruments.multiplier(f.contract.market);
        let p = self
            .positions
            .entry((Arc::clone(&strategy), f.contract))
            .or_insert_with(|| Position::flat(f.contract, Some(f.strategy.clone()), mult));
        let realized = p.apply_fill(f.side, f.qty, f.price, f.costs_usd());
        let (client, arrival) = self.orders.get(&f.order_id).cloned().unwrap_or_else(|| (Arc::from(""), None));
        BlotterLine {
            fill_id: f.fill_id,
            order_id: f.order_id,
            client_order_id: client,
            ts: f.ts,
            trading_date: trading_date(f.ts),
            contract: f.contract,
            side: f.side,
            qty: f.qty,
            price: f.price,
            commission_usd: f.commission_usd,
            fees_usd: f.fees_usd,
            liquidity: f.liquidity,
            strategy,
            arrival_price: arrival,
            slippage_usd: arrival.map(|a| (f.price - a) * f.side.sign() as f64 * f.qty as f64 * mult),
            realized_pnl_usd: realized,
        }
    }

    /// Every strategy seen, sorted.
    pub fn strategy_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.strategies.keys().cloned().collect();
        v.sort();
        v
    }
}

/// The blotter of a database: every fill replayed in order (so a filtered blotter still
/// shows the P&L each fill really realised), then the lines `keep` selects.
pub fn blotter_lines(
    history: &[Fill],
    orders: &[Order],
    instruments: &Instruments,
    keep: impl Fn(&BlotterLine) -> bool,
) -> Vec<BlotterLine> {
    let mut b = BlotterBuilder::default();
    for o in orders {
        b.note_order(o);
    }
    history.iter().map(|f| b.line(f, instruments)).filter(|l| keep(l)).collect()
}

/// Writes `rows` as CSV with a header.
///
/// # Errors
/// The writer's I/O error.
pub fn write_csv(rows: &[BlotterRow], w: impl Write) -> Result<(), csv::Error> {
    let mut wr = csv::Writer::from_writer(w);
    for r in rows {
        wr.serialize(r)?;
    }
    if rows.is_empty() {
        wr.write_record([
            "fill_id",
            "order_id",
            "client_order_id",
            "time",
            "trading_date",
            "contract",
            "market",
            "side",
            "qty",
            "price",
            "commission_usd",
            "fees_usd",
            "liquidity",
            "strategy",
            "arrival_price",
            "slippage_usd",
            "realized_pnl_usd",
        ])?;
    }
    wr.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::ContractMonth;

    fn f(id: u64, side: Side, qty: i64, price: f64, strategy: &str) -> Fill {
        Fill {
            fill_id: id,
            order_id: id,
            contract: ContractId::new(Market::Wti, ContractMonth::new(2027, 1).unwrap()),
            side,
            qty,
            price,
            ts: Timestamp::from_secs(1_790_000_000 + id as i64),
            commission_usd: qty as f64,
            fees_usd: 0.5 * qty as f64,
            liquidity: Liquidity::Taker,
            strategy: strategy.into(),
        }
    }

    #[test]
    fn summary_attribution_filters_and_csv() {
        let inst = Instruments::builtin().unwrap();
        let fills = vec![
            f(1, Side::Buy, 2, 70.0, "a"),
            f(2, Side::Sell, 1, 71.0, "a"),
            f(3, Side::Sell, 1, 69.5, "a"),
            f(4, Side::Sell, 3, 70.0, "b"),
        ];
        let lines = blotter_lines(&fills, &[], &inst, |_| true);
        let rows: Vec<BlotterRow> = lines.iter().map(BlotterLine::to_row).collect();
        assert_eq!(rows[1].realized_pnl_usd, 1_000.0);
        assert_eq!(rows[2].realized_pnl_usd, -500.0);
        assert!(rows[0].time.ends_with('Z'));
        let t = BlotterTotals::over(&lines);
        let s = t.summary();
        assert_eq!((s.fills, s.contracts), (4, 7));
        assert!((s.gross_pnl_usd - 500.0).abs() < 1e-9);
        assert!((s.net_pnl_usd - (500.0 - 10.5)).abs() < 1e-9);
        let a = t.attribution();
        assert_eq!(a[0].strategy, "a");
        assert_eq!(a[0].closing_trades, 2);
        assert_eq!(a[0].hit_rate, Some(0.5));
        assert_eq!(a[1].closing_trades, 0);
        assert_eq!(a[1].hit_rate, None);
        // A filtered view keeps each fill's true realised P&L.
        let only_third = blotter_lines(&fills, &[], &inst, |l| l.fill_id == 3);
        assert_eq!(only_third[0].realized_pnl_usd, -500.0);
        let q = BlotterQuery { strategy: Some("b".into()), ..BlotterQuery::default() };
        assert_eq!(lines.iter().filter(|l| q.matches(l)).count(), 1);
        let q = BlotterQuery { market: Some(Market::Brent), ..BlotterQuery::default() };
        assert_eq!(lines.iter().filter(|l| q.matches(l)).count(), 0);
        let mut buf = Vec::new();
        write_csv(&rows, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("fill_id,order_id,client_order_id,time"));
        assert_eq!(text.lines().count(), 5);
        let mut empty = Vec::new();
        write_csv(&[], &mut empty).unwrap();
        assert_eq!(String::from_utf8(empty).unwrap().lines().count(), 1);
    }
}
