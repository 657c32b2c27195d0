//! Fixtures shared by the risk engine's integration tests and benches: a synthetic joint
//! history over the four markets and a realistic book of futures and options.

#![allow(dead_code)]

use chrono::NaiveDate;
use crude_model::{ContractId, Market, Timestamp};
use crude_risk::{BookPosition, OptionLeg, OptionType, PnlState, ReturnHistory, RiskBook};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The book's date.
pub fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, 4).unwrap()
}

/// The book's time stamp.
pub fn as_of() -> Timestamp {
    Timestamp::from_date(date())
}

/// The `k`-th contract after the front (`k = 0` is the front) of `market` on [`date`].
pub fn contract(market: Market, k: i32) -> ContractId {
    let front = market.front_contract(date());
    ContractId::new(market, front.month.plus_months(k))
}

/// Months of history per market: CL 6, BZ 4, RB 3, HO 3 (16 contracts).
pub fn history_contracts() -> Vec<ContractId> {
    let mut out = Vec::new();
    for (m, months) in [(Market::Wti, 6), (Market::Brent, 4), (Market::Rbob, 3), (Market::HeatingOil, 3)] {
        for k in 0..months {
            out.push(contract(m, k));
        }
    }
    out
}

/// `days` of correlated daily log returns: a common oil factor, a market factor and a
/// contract-specific part; about 2 % a day.
pub fn history(days: usize, seed: u64) -> ReturnHistory {
    let contracts = history_contracts();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows: Vec<Vec<f64>> = (0..days)
        .map(|_| {
            let common: f64 = rng.sample(StandardNormal);
            let market: Vec<f64> = (0..4).map(|_| rng.sample(StandardNormal)).collect();
            contracts
                .iter()
                .map(|c| {
                    let own: f64 = rng.sample(StandardNormal);
                    0.02 * (0.75 * common + 0.55 * market[c.market.index()] + 0.36 * own)
                })
                .collect()
        })
        .collect();
    ReturnHistory::new(contracts, &rows).unwrap()
}

/// The price level of a market's contracts.
pub fn price(market: Market) -> f64 {
    match market {
        Market::Wti => 71.35,
        Market::Brent => 75.10,
        Market::Rbob => 2.31,
        Market::HeatingOil => 2.52,
    }
}

/// 20 futures positions over the four markets and 4 options.
pub fn book_positions() -> Vec<BookPosition> {
    let futures: [(Market, i32, i64, &str); 20] = [
        (Market::Wti, 0, 40, "trend"),
        (Market::Wti, 1, -25, "spread"),
        (Market::Wti, 2, 15, "trend"),
        (Market::Wti, 3, -10, "spread"),
        (Market::Wti, 4, 8, "carry"),
        (Market::Wti, 5, -6, "carry"),
        (Market::Wti, 8, 5, "carry"),
        (Market::Brent, 0, -30, "spread"),
        (Market::Brent, 1, 20, "trend"),
        (Market::Brent, 2, -12, "carry"),
        (Market::Brent, 3, 9, "carry"),
        (Market::Brent, 6, -4, "carry"),
        (Market::Rbob, 0, 15, "crack"),
        (Market::Rbob, 1, -8, "crack"),
        (Market::Rbob, 2, 6, "trend"),
        (Market::Rbob, 4, -3, "crack"),
        (Market::HeatingOil, 0, 12, "crack"),
        (Market::HeatingOil, 1, -7, "crack"),
        (Market::HeatingOil, 2, 5, "trend"),
        (Market::HeatingOil, 5, -2, "crack"),
    ];
    let mut out: Vec<BookPosition> = futures
        .iter()
        .map(|&(m, k, q, s)| BookPosition::future(contract(m, k), q, price(m) + 0.1 * f64::from(k), s))
        .collect();
    let leg = |kind, strike, expiry_years, vol| OptionLeg { kind, strike, expiry_years, vol, rate: 0.04 };
    out.push(BookPosition::option(
        contract(Market::Wti, 1),
        -20,
        price(Market::Wti) + 0.1,
        leg(OptionType::Call, 75.0, 0.12, 0.38),
        "vol",
    ));
    out.push(BookPosition::option(
        contract(Market::Wti, 2),
        15,
        price(Market::Wti) + 0.2,
        leg(OptionType::Put, 65.0, 0.2, 0.42),
        "vol",
    ));
    out.push(BookPosition::option(
        contract(Market::Brent, 1),
        10,
        price(Market::Brent) + 0.1,
        leg(OptionType::Call, 80.0, 0.15, 0.35),
        "vol",
    ));
    out.push(BookPosition::option(
        contract(Market::HeatingOil, 1),
        -5,
        price(Market::HeatingOil) + 0.1,
        leg(OptionType::Put, 2.3, 0.1, 0.45),
        "vol",
    ));
    out
}

/// The book of [`book_positions`] with a NAV of 50m.
pub fn book() -> RiskBook {
    RiskBook { as_of: as_of(), nav_usd: 50_000_000.0, positions: book_positions(), pnl: PnlState::default() }
}
