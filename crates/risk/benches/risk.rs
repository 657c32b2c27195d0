//! Benchmarks of the risk engine:
//! - Monte Carlo VaR/ES of a single series, 100,000 normal draws (95 % and 99 %);
//! - portfolio Monte Carlo, 100,000 paths × 20 positions, 1- and 10-day (goal < 100 ms);
//! - portfolio parametric VaR/ES, 50 positions, on a prebuilt model (goal < 50 µs).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crude_model::{ContractId, ContractMonth, Market};
use crude_risk::{MC_DRAWS, PortfolioRiskConfig, PortfolioRiskModel, ReturnHistory, RiskPosition, monte_carlo_var_es};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn bench_mc(c: &mut Criterion) {
    c.bench_function("mc_var_single_series_100k_draws", |b| {
        b.iter(|| monte_carlo_var_es(black_box(0.0003), black_box(0.021), &[0.95, 0.99], MC_DRAWS, 42).expect("mc"))
    });
}

/// `n` contracts with 500 days of correlated synthetic returns (one common factor), and a
/// position in each.
fn book(n: usize) -> (PortfolioRiskModel, Vec<RiskPosition>) {
    let start = ContractMonth::new(2026, 1).expect("valid month");
    let contracts: Vec<ContractId> =
        (0..n).map(|i| ContractId::new(Market::ALL[i % 4], start.plus_months((i / 4) as i32))).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let days: Vec<Vec<f64>> = (0..500)
        .map(|_| {
            let common: f64 = rng.sample(StandardNormal);
            (0..n)
                .map(|_| {
                    let own: f64 = rng.sample(StandardNormal);
                    0.02 * (0.8 * common + 0.6 * own)
                })
                .collect()
        })
        .collect();
    let history = ReturnHistory::new(contracts.clone(), &days).expect("history");
    let model = PortfolioRiskModel::new(&history, PortfolioRiskConfig::new(50_000_000.0)).expect("model");
    let positions = contracts
        .iter()
        .enumerate()
        .map(|(i, &contract)| {
            let gallons = contract.market.quoted_per_gallon();
            RiskPosition {
                contract,
                qty: if i % 3 == 0 { -(i as i64 % 7 + 1) } else { i as i64 % 11 + 1 },
                multiplier: if gallons { 42_000.0 } else { 1_000.0 },
                price: if gallons { 2.3 } else { 72.0 },
            }
        })
        .collect();
    (model, positions)
}

fn bench_portfolio(c: &mut Criterion) {
    let (model, positions) = book(20);
    c.bench_function("portfolio_mc_100k_paths_20_positions", |b| {
        b.iter(|| model.monte_carlo(black_box(&positions)).expect("mc"))
    });
    let (model, positions) = book(50);
    c.bench_function("portfolio_parametric_50_positions", |b| {
        b.iter(|| model.parametric(black_box(&positions)).expect("parametric"))
    });
}

criterion_group!(benches, bench_mc, bench_portfolio);
criterion_main!(benches);
