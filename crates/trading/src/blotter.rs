//! The blotter: fills joined with their orders, filters, CSV export, a summary (trades,
//! gross and net P&L, fees, slippage) and performance attribution by strategy.
//!
//! Slippage of a fill is measured against the order's arrival price (the mid when it was
//! entered): `(fill price − arrival) × side × quantity × multiplier`, positive when the fill
//! was worse than the arrival mid.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use chrono::SecondsFormat;
use crude_model::{Fill, Instruments, Order, Position, Timestamp, trading_date};
use serde::Serialize;

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

/// Builds blotter rows for `fills` (in fill order). The realised P&L of each fill comes from
/// replaying `history` (every fill, in order, which must include `fills`) per strategy and
/// contract, so a filtered blotter still shows the P&L each fill really realised.
pub fn blotter_rows(fills: &[Fill], history: &[Fill], orders: &[Order], instruments: &Instruments) -> Vec<BlotterRow> {
    let by_id: HashMap<u64, &Order> = orders.iter().map(|o| (o.order_id, o)).collect();
    let realized = realized_by_fill(history, instruments);
    fills
        .iter()
        .map(|f| {
            let o = by_id.get(&f.order_id);
            let arrival = o.and_then(|o| o.arrival_price);
            let mult = instruments.multiplier(f.contract.market);
            BlotterRow {
                fill_id: f.fill_id,
                order_id: f.order_id,
                client_order_id: o.map(|o| o.client_order_id.clone()).unwrap_or_default(),
                time: format_time(f.ts),
                trading_date: trading_date(f.ts).to_string(),
                contract: f.contract.to_string(),
                market: f.contract.market.code().to_string(),
                side: f.side.as_str().to_string(),
                qty: f.qty,
                price: f.price,
                commission_usd: f.commission_usd,
                fees_usd: f.fees_usd,
                liquidity: f.liquidity.as_str().to_string(),
                strategy: f.strategy.clone(),
                arrival_price: arrival,
                slippage_usd: arrival.map(|a| (f.price - a) * f.side.sign() as f64 * f.qty as f64 * mult),
                realized_pnl_usd: realized.get(&f.fill_id).copied().unwrap_or(0.0),
            }
        })
        .collect()
}

/// Realised P&L of every fill on its (strategy, contract) position.
fn realized_by_fill(history: &[Fill], instruments: &Instruments) -> HashMap<u64, f64> {
    let mut pos: HashMap<(String, crude_model::ContractId), Position> = HashMap::new();
    let mut out = HashMap::with_capacity(history.len());
    for f in history {
        let p = pos.entry((f.strategy.clone(), f.contract)).or_insert_with(|| {
            Position::flat(f.contract, Some(f.strategy.clone()), instruments.multiplier(f.contract.market))
        });
        let r = p.apply_fill(f.side, f.qty, f.price, f.costs_usd());
        out.insert(f.fill_id, r);
    }
    out
}

/// Totals over `rows`.
pub fn summarize(rows: &[BlotterRow]) -> BlotterSummary {
    let mut s = BlotterSummary::default();
    for r in rows {
        s.fills += 1;
        s.contracts += r.qty;
        s.gross_pnl_usd += r.realized_pnl_usd;
        s.fees_usd += r.commission_usd + r.fees_usd;
        s.slippage_usd += r.slippage_usd.unwrap_or(0.0);
    }
    s.net_pnl_usd = s.gross_pnl_usd - s.fees_usd;
    s
}

/// Attribution by strategy over `rows`, sorted by strategy.
pub fn attribution(rows: &[BlotterRow]) -> Vec<StrategyAttribution> {
    let mut m: BTreeMap<&str, (StrategyAttribution, u64)> = BTreeMap::new();
    for r in rows {
        let (a, wins) = m.entry(&r.strategy).or_insert_with(|| {
            (StrategyAttribution { strategy: r.strategy.clone(), ..StrategyAttribution::default() }, 0)
        });
        a.fills += 1;
        a.gross_pnl_usd += r.realized_pnl_usd;
        a.fees_usd += r.commission_usd + r.fees_usd;
        if r.realized_pnl_usd != 0.0 {
            a.closing_trades += 1;
            if r.realized_pnl_usd > 0.0 {
                *wins += 1;
            }
        }
    }
    m.into_values()
        .map(|(mut a, wins)| {
            a.net_pnl_usd = a.gross_pnl_usd - a.fees_usd;
            if a.closing_trades > 0 {
                a.hit_rate = Some(wins as f64 / a.closing_trades as f64);
                a.average_trade_usd = Some(a.net_pnl_usd / a.closing_trades as f64);
            }
            a
        })
        .collect()
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
    use crude_model::{ContractId, ContractMonth, Liquidity, Market, Side};

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
    fn summary_attribution_and_csv() {
        let inst = Instruments::builtin().unwrap();
        let fills = vec![
            f(1, Side::Buy, 2, 70.0, "a"),
            f(2, Side::Sell, 1, 71.0, "a"),
            f(3, Side::Sell, 1, 69.5, "a"),
            f(4, Side::Sell, 3, 70.0, "b"),
        ];
        let rows = blotter_rows(&fills, &fills, &[], &inst);
        assert_eq!(rows[1].realized_pnl_usd, 1_000.0);
        assert_eq!(rows[2].realized_pnl_usd, -500.0);
        assert!(rows[0].time.ends_with('Z'));
        let s = summarize(&rows);
        assert_eq!((s.fills, s.contracts), (4, 7));
        assert!((s.gross_pnl_usd - 500.0).abs() < 1e-9);
        assert!((s.net_pnl_usd - (500.0 - 10.5)).abs() < 1e-9);
        let a = attribution(&rows);
        assert_eq!(a[0].strategy, "a");
        assert_eq!(a[0].closing_trades, 2);
        assert_eq!(a[0].hit_rate, Some(0.5));
        assert_eq!(a[1].closing_trades, 0);
        assert_eq!(a[1].hit_rate, None);
        // A filtered view keeps each fill's true realised P&L.
        let only_third = blotter_rows(&fills[2..3], &fills, &[], &inst);
        assert_eq!(only_third[0].realized_pnl_usd, -500.0);
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
