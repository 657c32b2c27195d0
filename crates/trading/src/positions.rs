//! The position keeper: positions per contract month (all strategies together, and per
//! strategy), derived only from fills, marked to market from quotes, with P&L by strategy and
//! by market and day P&L against the previous settlement.
//!
//! Positions are never edited: [`PositionKeeper::apply_fill`] is the only way quantities
//! change, and on start the keeper is rebuilt by applying the whole fill history. A price
//! tick touches only the positions of its contract ([`PositionKeeper::mark`]);
//! [`PositionKeeper::summary`] totals every position in one pass.

use std::collections::HashMap;

use crude_model::{ContractId, Fill, Instruments, Market, Position};
use serde::Serialize;

/// P&L of a group of positions (one strategy or one market), USD.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GroupPnl {
    pub name: String,
    pub realized_pnl_usd: f64,
    pub unrealized_pnl_usd: f64,
    pub fees_usd: f64,
    /// Realised + unrealised − fees.
    pub net_pnl_usd: f64,
    /// Day P&L before costs.
    pub day_pnl_usd: f64,
    pub gross_notional_usd: f64,
    /// Contracts held, summed in absolute value.
    pub open_contracts: i64,
}

impl GroupPnl {
    fn add(&mut self, p: &Position) {
        let u = p.unrealized_pnl_usd();
        self.realized_pnl_usd += p.realized_pnl_usd;
        self.unrealized_pnl_usd += u;
        self.fees_usd += p.fees_usd;
        self.net_pnl_usd += p.realized_pnl_usd + u - p.fees_usd;
        self.day_pnl_usd += p.day_pnl_usd();
        self.gross_notional_usd += p.notional_usd().abs();
        self.open_contracts += p.qty.abs();
    }
}

/// Book-wide P&L.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PnlSummary {
    /// All positions together (`name` = `total`).
    pub total: GroupPnl,
    /// Day P&L net of the day's costs, USD (what the daily-loss circuit breaker watches).
    pub day_pnl_net_usd: f64,
    /// Σ signed notional, USD.
    pub net_notional_usd: f64,
    /// Per strategy tag, sorted by name.
    pub by_strategy: Vec<GroupPnl>,
    /// Per market (CL, BZ, RB, HO) with positions or P&L.
    pub by_market: Vec<GroupPnl>,
}

/// Positions and P&L (see the module docs).
#[derive(Debug, Clone)]
pub struct PositionKeeper {
    multipliers: [f64; 4],
    aggregate: Vec<Position>,
    agg_index: HashMap<ContractId, usize>,
    by_strategy: Vec<Position>,
    strategy_names: Vec<String>,
    strategy_ids: HashMap<String, usize>,
    /// Strategy id of each entry of `by_strategy`.
    strategy_of: Vec<usize>,
    strat_index: HashMap<(usize, ContractId), usize>,
    /// Indices into `by_strategy` per contract.
    members: HashMap<ContractId, Vec<usize>>,
}

impl PositionKeeper {
    /// An empty keeper with the multipliers of `instruments`.
    pub fn new(instruments: &Instruments) -> Self {
        Self {
            multipliers: Market::ALL.map(|m| instruments.multiplier(m)),
            aggregate: Vec::new(),
            agg_index: HashMap::new(),
            by_strategy: Vec::new(),
            strategy_names: Vec::new(),
            strategy_ids: HashMap::new(),
            strategy_of: Vec::new(),
            strat_index: HashMap::new(),
            members: HashMap::new(),
        }
    }

    /// A keeper rebuilt from a fill history (in fill order), the day starting now.
    pub fn from_fills<'a>(instruments: &Instruments, fills: impl IntoIterator<Item = &'a Fill>) -> Self {
        let mut k = Self::new(instruments);
        for f in fills {
            k.apply_fill(f);
        }
        k.start_day();
        k
    }

    fn multiplier(&self, c: ContractId) -> f64 {
        self.multipliers[c.market.index()]
    }

    fn agg_slot(&mut self, c: ContractId) -> usize {
        if let Some(&i) = self.agg_index.get(&c) {
            return i;
        }
        let i = self.aggregate.len();
        self.aggregate.push(Position::flat(c, None, self.multiplier(c)));
        self.agg_index.insert(c, i);
        i
    }

    fn strategy_slot(&mut self, strategy: &str, c: ContractId) -> usize {
        let sid = match self.strategy_ids.get(strategy) {
            Some(&s) => s,
            None => {
                let s = self.strategy_names.len();
                self.strategy_names.push(strategy.to_string());
                self.strategy_ids.insert(strategy.to_string(), s);
                s
            }
        };
        if let Some(&i) = self.strat_index.get(&(sid, c)) {
            return i;
        }
        let i = self.by_strategy.len();
        let mut p = Position::flat(c, Some(strategy.to_string()), self.multiplier(c));
        // A new strategy position in a contract already marked starts from that mark.
        if let Some(&a) = self.agg_index.get(&c)
            && let Some(m) = self.aggregate[a].mark
        {
            p.set_mark(m);
        }
        self.by_strategy.push(p);
        self.strategy_of.push(sid);
        self.strat_index.insert((sid, c), i);
        self.members.entry(c).or_default().push(i);
        i
    }

    /// Applies one fill; returns the P&L it realised on the contract's aggregate position
    /// (USD, before costs).
    pub fn apply_fill(&mut self, fill: &Fill) -> f64 {
        let a = self.agg_slot(fill.contract);
        let s = self.strategy_slot(&fill.strategy, fill.contract);
        let costs = fill.costs_usd();
        self.by_strategy[s].apply_fill(fill.side, fill.qty, fill.price, costs);
        self.aggregate[a].apply_fill(fill.side, fill.qty, fill.price, costs)
    }

    /// A new mark (mid) for `contract`: updates its aggregate and strategy positions only.
    #[inline]
    pub fn mark(&mut self, contract: ContractId, price: f64) {
        let Some(&a) = self.agg_index.get(&contract) else {
            return;
        };
        self.aggregate[a].set_mark(price);
        if let Some(ms) = self.members.get(&contract) {
            for &i in ms {
                self.by_strategy[i].set_mark(price);
            }
        }
    }

    /// The previous session's settlement of `contract`: starts a new P&L day for it.
    pub fn settle(&mut self, contract: ContractId, price: f64) {
        let Some(&a) = self.agg_index.get(&contract) else {
            return;
        };
        self.aggregate[a].roll_day(price);
        if let Some(ms) = self.members.get(&contract) {
            for &i in ms {
                self.by_strategy[i].roll_day(price);
            }
        }
    }

    /// Starts a new P&L day for every position at its current quantity; the next mark (or
    /// settlement) becomes each position's base.
    pub fn start_day(&mut self) {
        for p in self.aggregate.iter_mut().chain(self.by_strategy.iter_mut()) {
            p.start_day(None);
        }
    }

    /// Positions per contract (all strategies), including flat ones that realised P&L, in
    /// the order contracts were first traded.
    pub fn positions(&self) -> &[Position] {
        &self.aggregate
    }

    /// Positions per strategy and contract.
    pub fn strategy_positions(&self) -> &[Position] {
        &self.by_strategy
    }

    /// The aggregate position in `contract`.
    pub fn position(&self, contract: ContractId) -> Option<&Position> {
        self.agg_index.get(&contract).map(|&i| &self.aggregate[i])
    }

    /// Signed contracts held in `contract`.
    pub fn qty(&self, contract: ContractId) -> i64 {
        self.position(contract).map_or(0, |p| p.qty)
    }

    /// Day P&L net of the day's costs, USD, over every contract.
    pub fn day_pnl_net_usd(&self) -> f64 {
        self.aggregate.iter().map(|p| p.day_pnl_usd() - p.day_costs_usd()).sum()
    }

    /// Totals, by strategy and by market, in one pass over the positions.
    pub fn summary(&self) -> PnlSummary {
        let mut total = GroupPnl { name: "total".into(), ..GroupPnl::default() };
        let mut by_market: [GroupPnl; 4] =
            Market::ALL.map(|m| GroupPnl { name: m.code().into(), ..GroupPnl::default() });
        let mut net_notional = 0.0;
        let mut day_costs = 0.0;
        let mut touched = [false; 4];
        for p in &self.aggregate {
            total.add(p);
            let m = p.contract.market.index();
            by_market[m].add(p);
            touched[m] = true;
            net_notional += p.notional_usd();
            day_costs += p.day_costs_usd();
        }
        let mut by_strategy: Vec<GroupPnl> =
            self.strategy_names.iter().map(|n| GroupPnl { name: n.clone(), ..GroupPnl::default() }).collect();
        for (p, &sid) in self.by_strategy.iter().zip(&self.strategy_of) {
            by_strategy[sid].add(p);
        }
        by_strategy.sort_by(|a, b| a.name.cmp(&b.name));
        PnlSummary {
            day_pnl_net_usd: total.day_pnl_usd - day_costs,
            total,
            net_notional_usd: net_notional,
            by_strategy,
            by_market: by_market.into_iter().zip(touched).filter(|(_, t)| *t).map(|(g, _)| g).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crude_model::{ContractMonth, Liquidity, Side, Timestamp};

    fn c(market: Market, month: u32) -> ContractId {
        ContractId::new(market, ContractMonth::new(2027, month).unwrap())
    }

    fn fill(id: u64, contract: ContractId, side: Side, qty: i64, price: f64, strategy: &str) -> Fill {
        Fill {
            fill_id: id,
            order_id: id,
            contract,
            side,
            qty,
            price,
            ts: Timestamp(id as i64),
            commission_usd: 2.0 * qty as f64,
            fees_usd: 1.5 * qty as f64,
            liquidity: Liquidity::Taker,
            strategy: strategy.into(),
        }
    }

    #[test]
    fn aggregates_by_contract_strategy_and_market() {
        let inst = Instruments::builtin().unwrap();
        let cl = c(Market::Wti, 1);
        let rb = c(Market::Rbob, 2);
        let fills = vec![
            fill(1, cl, Side::Buy, 3, 70.0, "trend"),
            fill(2, cl, Side::Sell, 1, 71.0, "mr"),
            fill(3, rb, Side::Buy, 2, 2.1, "trend"),
            fill(4, cl, Side::Sell, 1, 72.0, "trend"),
        ];
        let mut k = PositionKeeper::from_fills(&inst, &fills);
        assert_eq!(k.qty(cl), 1);
        assert_eq!(k.qty(rb), 2);
        // Aggregate CL: bought 3 @ 70, sold 1 @ 71 (+1,000), sold 1 @ 72 (+2,000).
        let p = k.position(cl).unwrap();
        assert!((p.realized_pnl_usd - 3_000.0).abs() < 1e-9);
        assert!((p.avg_price - 70.0).abs() < 1e-12);
        k.mark(cl, 69.0);
        k.mark(rb, 2.2);
        let s = k.summary();
        // Unrealised: CL 1 × (69 − 70) × 1,000 = −1,000; RB 2 × 0.1 × 42,000 = 8,400.
        assert!((s.total.unrealized_pnl_usd - 7_400.0).abs() < 1e-6, "{}", s.total.unrealized_pnl_usd);
        assert!((s.total.fees_usd - 3.5 * 7.0).abs() < 1e-9);
        assert_eq!(s.by_market.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), vec!["CL", "RB"]);
        let names: Vec<_> = s.by_strategy.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, vec!["mr", "trend"]);
        // Per strategy: "mr" is short 1 from 71, marked at 69: +2,000 unrealised.
        let mr = &s.by_strategy[0];
        assert!((mr.unrealized_pnl_usd - 2_000.0).abs() < 1e-9);
        // Strategies sum to the total unrealised (netting differs only in realised/unrealised split).
        let strat_net: f64 = s.by_strategy.iter().map(|g| g.net_pnl_usd).sum();
        assert!((strat_net - s.total.net_pnl_usd).abs() < 1e-6);
    }

    #[test]
    fn day_pnl_resets_at_settlement_and_starts_at_first_mark_after_rebuild() {
        let inst = Instruments::builtin().unwrap();
        let cl = c(Market::Wti, 1);
        let mut k = PositionKeeper::from_fills(&inst, &[fill(1, cl, Side::Buy, 2, 70.0, "s")]);
        k.mark(cl, 71.0);
        assert_eq!(k.summary().total.day_pnl_usd, 0.0);
        k.mark(cl, 71.5);
        assert!((k.summary().total.day_pnl_usd - 1_000.0).abs() < 1e-9);
        k.settle(cl, 72.0);
        k.mark(cl, 72.25);
        assert!((k.summary().total.day_pnl_usd - 500.0).abs() < 1e-9);
        k.apply_fill(&fill(2, cl, Side::Sell, 1, 72.5, "s"));
        // Carried 2 from 72 to 72.25 (+500) and sold 1 at 72.5 marked 72.25 (+250).
        assert!((k.summary().total.day_pnl_usd - 750.0).abs() < 1e-9);
        let s = k.summary();
        assert!((s.day_pnl_net_usd - (750.0 - 3.5)).abs() < 1e-9);
        assert!((k.day_pnl_net_usd() - s.day_pnl_net_usd).abs() < 1e-9);
    }
}
