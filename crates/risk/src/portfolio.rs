//! Portfolio VaR and ES for positions in futures contracts: parametric (delta-normal),
//! historical (full revaluation) and Monte Carlo (correlated normal shocks), with
//! component, marginal and incremental VaR.
//!
//! Conventions:
//! - A [`Position`] is `qty` contracts (negative = short) of `multiplier` units at `price`;
//!   its exposure is `qty × multiplier × price` USD. Risk is computed on daily **log
//!   returns** of each contract, so every priced position needs `price > 0` (a zero or
//!   negative futures price, as WTI had in April 2020, gets an error that says so).
//! - The model uses the last `window_days` (default 500) days of the joint history; every
//!   method sees the same days.
//! - **Covariance**: sample (`ddof = 1`, means removed) or EWMA
//!   `Σ_t = λ Σ_{t−1} + (1 − λ) r_{t−1} r_{t−1}ᵀ` (zero mean; RiskMetrics λ = 0.94), seeded
//!   with the `0.94^i`-weighted mean of the first `min(75, n)` outer products, as the
//!   univariate [`crude_analytics::ewma_variance`]; the model uses the forecast for the day
//!   after the window. A covariance that is not positive definite is replaced by the
//!   nearest positive-definite matrix (eigenvalues raised to `1e-10 ×` the largest) and the
//!   report says so (`covariance_repaired`).
//! - **Parametric** (zero mean): `VaR_h = z_c √h σ_p`, `ES_h = √h σ_p φ(z_c)/(1 − c)`,
//!   `σ_p = √(vᵀ Σ v)`, `v` the exposures in USD. The `√h` scaling is exact here (i.i.d.
//!   normal returns).
//! - **Historical**: daily P&L `Σ v_i (e^{r_i} − 1)` (full revaluation) over the window;
//!   VaR and ES as in the single-series module (numpy's linear quantile, mean of the tail at
//!   or below it). The `h`-day figures are the 1-day ones × `√h` (stated scaling: the window
//!   holds too few independent `h`-day periods).
//! - **Monte Carlo**: `mc_paths` draws `r = √h L z` (`L Lᵀ = Σ`, `z` standard normal; zero
//!   mean), full revaluation `Σ v_i (e^{r_i} − 1)`, one set of draws for every horizon.
//!   Draws come in fixed chunks of [`crate::MC_CHUNK_DRAWS`] paths, chunk `k` from ChaCha8
//!   seeded with `seed` on stream `k`, so results do not depend on the thread count.
//! - **Component VaR** (parametric, 1-day): `C_i = v_i · z_c (Σ v)_i / σ_p`, summing to the
//!   VaR (Euler allocation); **marginal VaR** `∂VaR/∂v_i = z_c (Σ v)_i / σ_p` per USD of
//!   exposure (and per contract: × multiplier × price). For an empty portfolio both are 0.
//! - **Incremental VaR** of a proposed order: VaR(portfolio + order) − VaR(portfolio), by
//!   the chosen method (Monte Carlo uses the same draws for both).
//! - Figures are reported in USD and as a fraction of the NAV given.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use crude_model::ContractId;
use nalgebra::DMatrix;

use crate::RiskError;
use crate::linalg::{cholesky, nearest_positive_definite};
use crate::normal::{norm_pdf, norm_ppf};
use crate::series::{DEFAULT_SEED, MC_CHUNK_DRAWS, MC_DRAWS, VarEs, tail_var_es, validate_confidences};

/// Days of joint history used by default.
pub const DEFAULT_PORTFOLIO_WINDOW: usize = 500;

/// A position in one futures contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct RiskPosition {
    /// The contract.
    pub contract: ContractId,
    /// Contracts held; negative for a short position.
    pub qty: i64,
    /// Units per contract (1,000 bbl for CL/BZ, 42,000 gal for RB/HO).
    pub multiplier: f64,
    /// Current price per unit, USD.
    pub price: f64,
}

impl RiskPosition {
    /// Exposure `qty × multiplier × price`, USD.
    pub fn exposure_usd(&self) -> f64 {
        self.qty as f64 * self.multiplier * self.price
    }
}

/// A portfolio's exposure in one contract of the model, for callers that aggregate
/// positions themselves (the risk engine maps options to their delta-equivalent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Exposure {
    /// A contract of the model's history.
    pub contract: ContractId,
    /// Exposure, USD (`Σ delta-equivalent contracts × multiplier × price`).
    pub exposure_usd: f64,
    /// Value of one futures contract (`multiplier × price`), USD, for the per-contract
    /// marginal VaR.
    pub unit_value_usd: f64,
}

/// Simulated Monte Carlo P&L of one horizon (the same draws the Monte Carlo figures use).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonteCarloPnl {
    /// Horizon of the sample, days.
    pub horizon_days: u32,
    /// One P&L per path, USD (order unspecified).
    pub pnl_usd: Vec<f64>,
}

/// Daily log returns of several contracts on the same days, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnHistory {
    contracts: Vec<ContractId>,
    /// Day-major: `returns[t * n + i]`.
    returns: Vec<f64>,
    days: usize,
}

impl ReturnHistory {
    /// A joint history: `returns_by_day[t][i]` is contract `i`'s log return on day `t`.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] for no contracts, a repeated contract, a day with the
    /// wrong number of returns, a non-finite return, or fewer than 2 days.
    pub fn new(contracts: Vec<ContractId>, returns_by_day: &[Vec<f64>]) -> Result<Self, RiskError> {
        let bad = |value: String, reason: String| RiskError::BadArgument { argument: "return history", value, reason };
        let n = contracts.len();
        if n == 0 {
            return Err(bad(String::new(), "name at least one contract".to_string()));
        }
        for (i, c) in contracts.iter().enumerate() {
            if contracts[..i].contains(c) {
                return Err(bad(
                    c.to_string(),
                    "this contract appears twice; give each contract one column".to_string(),
                ));
            }
        }
        if returns_by_day.len() < 2 {
            return Err(bad(
                format!("{} day(s)", returns_by_day.len()),
                "at least 2 days of returns are needed".to_string(),
            ));
        }
        let mut returns = Vec::with_capacity(n * returns_by_day.len());
        for (t, day) in returns_by_day.iter().enumerate() {
            if day.len() != n {
                return Err(bad(
                    format!("day {t}"),
                    format!(
                        "has {} returns but {n} contracts are named; give one return per contract per day",
                        day.len()
                    ),
                ));
            }
            if let Some(i) = day.iter().position(|r| !r.is_finite()) {
                return Err(bad(
                    format!("day {t}, contract {}", contracts[i]),
                    format!("return {} is not finite; fill or drop the day", day[i]),
                ));
            }
            returns.extend_from_slice(day);
        }
        Ok(Self { contracts, returns, days: returns_by_day.len() })
    }

    /// The contracts, in column order.
    pub fn contracts(&self) -> &[ContractId] {
        &self.contracts
    }

    /// Number of days.
    pub fn days(&self) -> usize {
        self.days
    }

    /// The returns of day `t` (one per contract), if it exists.
    pub fn day(&self, t: usize) -> Option<&[f64]> {
        let n = self.contracts.len();
        self.returns.get(t * n..(t + 1) * n)
    }
}

/// How the covariance matrix is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum CovarianceMethod {
    /// Sample covariance (`ddof = 1`) over the window.
    Sample,
    /// Exponentially weighted (zero-mean) with decay `lambda` (RiskMetrics: 0.94).
    Ewma {
        /// Decay factor in (0, 1).
        lambda: f64,
    },
}

/// Settings of the portfolio risk model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioRiskConfig {
    /// Days of history used (default [`DEFAULT_PORTFOLIO_WINDOW`]).
    pub window_days: usize,
    /// Covariance estimator (default sample).
    pub covariance: CovarianceMethod,
    /// Confidence levels (default 0.95 and 0.99).
    pub confidences: Vec<f64>,
    /// Horizons in days (default 1 and 10).
    pub horizons_days: Vec<u32>,
    /// Monte Carlo paths (default [`MC_DRAWS`], at least 1,000).
    pub mc_paths: usize,
    /// Monte Carlo seed (default [`DEFAULT_SEED`]).
    pub seed: u64,
    /// Net asset value for the `% of NAV` figures, USD.
    pub nav_usd: f64,
}

impl PortfolioRiskConfig {
    /// The defaults with the given NAV.
    pub fn new(nav_usd: f64) -> Self {
        Self {
            window_days: DEFAULT_PORTFOLIO_WINDOW,
            covariance: CovarianceMethod::Sample,
            confidences: vec![0.95, 0.99],
            horizons_days: vec![1, 10],
            mc_paths: MC_DRAWS,
            seed: DEFAULT_SEED,
            nav_usd,
        }
    }

    fn validate(&self) -> Result<(), RiskError> {
        let bad = |argument: &'static str, value: String, reason: &str| RiskError::BadArgument {
            argument,
            value,
            reason: reason.to_string(),
        };
        validate_confidences(&self.confidences)?;
        if !(self.nav_usd.is_finite() && self.nav_usd > 0.0) {
            return Err(bad("nav_usd", format!("{}", self.nav_usd), "the NAV must be a positive number of USD"));
        }
        if self.window_days < 2 {
            return Err(bad(
                "window_days",
                self.window_days.to_string(),
                "use a window of at least 2 days (default 500)",
            ));
        }
        if self.horizons_days.is_empty() || self.horizons_days.contains(&0) {
            return Err(bad(
                "horizons_days",
                format!("{:?}", self.horizons_days),
                "give horizons of at least 1 day, such as [1, 10]",
            ));
        }
        if self.mc_paths < 1000 {
            return Err(bad(
                "mc_paths",
                self.mc_paths.to_string(),
                "use at least 1,000 Monte Carlo paths (default 100,000)",
            ));
        }
        if let CovarianceMethod::Ewma { lambda } = self.covariance
            && !(lambda > 0.0 && lambda < 1.0)
        {
            return Err(bad(
                "lambda",
                format!("{lambda}"),
                "the EWMA decay must lie strictly between 0 and 1 (RiskMetrics: 0.94)",
            ));
        }
        Ok(())
    }
}

/// VaR and ES at one confidence and horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskFigure {
    /// Confidence level.
    pub confidence: f64,
    /// Horizon in days.
    pub horizon_days: u32,
    /// Value at Risk, USD (a positive number is a loss).
    pub var_usd: f64,
    /// Expected Shortfall, USD.
    pub es_usd: f64,
    /// VaR as a fraction of NAV.
    pub var_pct_nav: f64,
    /// ES as a fraction of NAV.
    pub es_pct_nav: f64,
}

/// One contract's share of the parametric 1-day VaR.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComponentVar {
    /// The contract.
    pub contract: ContractId,
    /// Confidence level.
    pub confidence: f64,
    /// Net exposure in the contract, USD.
    pub exposure_usd: f64,
    /// `∂VaR/∂exposure`: VaR change per USD of added exposure.
    pub marginal_var_per_usd: f64,
    /// VaR change per contract added (marginal per USD × multiplier × price).
    pub marginal_var_per_contract_usd: f64,
    /// Component VaR, USD; components sum to the portfolio VaR.
    pub component_var_usd: f64,
    /// Component as a fraction of the portfolio VaR (0 for an empty portfolio).
    pub share: f64,
}

/// The change in VaR from a proposed order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IncrementalVar {
    /// Confidence level.
    pub confidence: f64,
    /// Horizon in days.
    pub horizon_days: u32,
    /// VaR before the order, USD.
    pub var_before_usd: f64,
    /// VaR with the order, USD.
    pub var_after_usd: f64,
    /// `var_after_usd − var_before_usd`.
    pub incremental_var_usd: f64,
}

/// Which VaR method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VarMethod {
    /// Delta-normal.
    Parametric,
    /// Full revaluation over the window.
    Historical,
    /// Correlated normal draws with full revaluation.
    MonteCarlo,
}

/// Every figure of the portfolio risk model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioRiskReport {
    /// Days of history used.
    pub observations: usize,
    /// Whether the covariance matrix had to be repaired to be positive definite.
    pub covariance_repaired: bool,
    /// Net exposure, USD (sum over positions).
    pub net_exposure_usd: f64,
    /// Gross exposure, USD (sum of absolute position exposures).
    pub gross_exposure_usd: f64,
    /// Delta-normal figures.
    pub parametric: Vec<RiskFigure>,
    /// Historical figures.
    pub historical: Vec<RiskFigure>,
    /// Monte Carlo figures.
    pub monte_carlo: Vec<RiskFigure>,
    /// Component and marginal VaR by contract held (parametric, 1-day).
    pub components: Vec<ComponentVar>,
}

/// The portfolio risk model: the window's returns, the covariance matrix and its Cholesky
/// factor, built once and reused for any set of positions.
#[derive(Debug, Clone)]
pub struct PortfolioRiskModel {
    contracts: Vec<ContractId>,
    window: Vec<f64>,
    days: usize,
    covariance: Vec<f64>,
    covariance_repaired: bool,
    config: PortfolioRiskConfig,
}

/// Exposures of a portfolio mapped onto the model's contracts.
struct Book {
    exposures: Vec<f64>,
    held: Vec<usize>,
    unit_value: Vec<f64>,
}

impl PortfolioRiskModel {
    /// Build the model from a joint history.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] for a bad configuration, or a window longer than the
    /// history (the message gives the largest window that fits);
    /// [`RiskError::Computation`] when the covariance overflows (returns so large that
    /// their squares are not finite), so that it can be neither factorised nor repaired.
    pub fn new(history: &ReturnHistory, config: PortfolioRiskConfig) -> Result<Self, RiskError> {
        config.validate()?;
        let n = history.contracts.len();
        if config.window_days > history.days {
            return Err(RiskError::BadArgument {
                argument: "window_days",
                value: config.window_days.to_string(),
                reason: format!(
                    "the history has {} days; use window_days = {} or supply a longer history",
                    history.days, history.days
                ),
            });
        }
        let days = config.window_days;
        let window = history.returns[(history.days - days) * n..].to_vec();
        let covariance = match config.covariance {
            CovarianceMethod::Sample => sample_covariance(&window, days, n),
            CovarianceMethod::Ewma { lambda } => ewma_covariance(&window, days, n, lambda),
        };
        let matrix = DMatrix::from_row_slice(n, n, &covariance);
        let (covariance, covariance_repaired) = if cholesky(&matrix).is_some() {
            (covariance, false)
        } else {
            let (repaired, _) =
                nearest_positive_definite(&matrix).ok_or_else(|| not_factorisable("the history's covariance"))?;
            // exactly symmetric, so nalgebra's column-major storage is also the row-major one
            (repaired.as_slice().to_vec(), true)
        };
        Ok(Self { contracts: history.contracts.clone(), window, days, covariance, covariance_repaired, config })
    }

    /// The covariance matrix used (`n × n`, row-major, in the history's contract order),
    /// after any repair.
    pub fn covariance(&self) -> &[f64] {
        &self.covariance
    }

    /// Whether the estimated covariance was not positive definite and was repaired.
    pub fn covariance_repaired(&self) -> bool {
        self.covariance_repaired
    }

    /// The configuration.
    pub fn config(&self) -> &PortfolioRiskConfig {
        &self.config
    }

    /// The contracts of the model, in the history's column order.
    pub fn contracts(&self) -> &[ContractId] {
        &self.contracts
    }

    fn book_from_exposures(&self, exposures: &[Exposure]) -> Result<Book, RiskError> {
        let n = self.contracts.len();
        let mut out = vec![0.0; n];
        let mut unit_value = vec![0.0; n];
        for e in exposures {
            let Some(i) = self.contracts.iter().position(|c| *c == e.contract) else {
                return Err(RiskError::BadArgument {
                    argument: "position",
                    value: e.contract.to_string(),
                    reason: "the return history has no column for this contract; add its returns".to_string(),
                });
            };
            if !e.exposure_usd.is_finite() || !e.unit_value_usd.is_finite() {
                return Err(RiskError::BadArgument {
                    argument: "exposure_usd",
                    value: format!("{} ({})", e.exposure_usd, e.contract),
                    reason: "exposures and unit values must be finite numbers of USD".to_string(),
                });
            }
            out[i] += e.exposure_usd;
            if unit_value[i] == 0.0 {
                unit_value[i] = e.unit_value_usd;
            }
        }
        let held = (0..n).filter(|&i| out[i] != 0.0).collect();
        Ok(Book { exposures: out, held, unit_value })
    }

    /// Every figure for exposures given per contract, plus the Monte Carlo P&L sample of
    /// the 1-day horizon (or of the shortest configured horizon when 1 day is not
    /// configured) from the same draws as the Monte Carlo figures.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] for a contract missing from the history or a
    /// non-finite exposure; [`RiskError::Computation`] as in [`Self::monte_carlo`].
    pub fn report_exposures(&self, exposures: &[Exposure]) -> Result<(PortfolioRiskReport, MonteCarloPnl), RiskError> {
        let book = self.book_from_exposures(exposures)?;
        let (monte_carlo, sample) = self.monte_carlo_with_sample(&book)?;
        let report = PortfolioRiskReport {
            observations: self.days,
            covariance_repaired: self.covariance_repaired,
            net_exposure_usd: book.exposures.iter().sum(),
            gross_exposure_usd: book.exposures.iter().map(|v| v.abs()).sum(),
            parametric: self.parametric_book(&book),
            historical: self.historical_book(&book),
            monte_carlo,
            components: self.components_book(&book),
        };
        Ok((report, sample))
    }

    fn book(&self, positions: &[RiskPosition]) -> Result<Book, RiskError> {
        let n = self.contracts.len();
        let mut exposures = vec![0.0; n];
        let mut unit_value = vec![0.0; n];
        for p in positions {
            let Some(i) = self.contracts.iter().position(|c| *c == p.contract) else {
                return Err(RiskError::BadArgument {
                    argument: "position",
                    value: p.contract.to_string(),
                    reason: "the return history has no column for this contract; add its returns".to_string(),
                });
            };
            if !(p.multiplier.is_finite() && p.multiplier > 0.0) {
                return Err(RiskError::BadArgument {
                    argument: "multiplier",
                    value: format!("{} ({})", p.multiplier, p.contract),
                    reason: "the contract multiplier must be a positive number of units".to_string(),
                });
            }
            if !p.price.is_finite() || (p.price <= 0.0 && p.qty != 0) {
                return Err(RiskError::BadArgument {
                    argument: "price",
                    value: format!("{} ({})", p.price, p.contract),
                    reason: "portfolio VaR revalues positions with log returns, which need a strictly positive price; \
                             a zero or negative futures price (WTI, April 2020) needs a price-change model instead"
                        .to_string(),
                });
            }
            exposures[i] += p.exposure_usd();
            if unit_value[i] == 0.0 {
                unit_value[i] = p.multiplier * p.price;
            }
        }
        let held = (0..n).filter(|&i| exposures[i] != 0.0).collect();
        Ok(Book { exposures, held, unit_value })
    }

    fn figure(&self, confidence: f64, horizon_days: u32, var_usd: f64, es_usd: f64) -> RiskFigure {
        RiskFigure {
            confidence,
            horizon_days,
            var_usd,
            es_usd,
            var_pct_nav: var_usd / self.config.nav_usd,
            es_pct_nav: es_usd / self.config.nav_usd,
        }
    }

    fn sigma_and_gradient(&self, v: &[f64]) -> (f64, Vec<f64>) {
        let n = self.contracts.len();
        let sv: Vec<f64> = (0..n).map(|i| (0..n).map(|j| self.covariance[i * n + j] * v[j]).sum()).collect();
        let var: f64 = v.iter().zip(&sv).map(|(a, b)| a * b).sum();
        (var.max(0.0).sqrt(), sv)
    }

    fn parametric_book(&self, book: &Book) -> Vec<RiskFigure> {
        let (sigma, _) = self.sigma_and_gradient(&book.exposures);
        let mut out = Vec::with_capacity(self.config.confidences.len() * self.config.horizons_days.len());
        for &c in &self.config.confidences {
            let z = norm_ppf(c);
            for &h in &self.config.horizons_days {
                let s = sigma * f64::from(h).sqrt();
                out.push(self.figure(c, h, z * s, s * norm_pdf(z) / (1.0 - c)));
            }
        }
        out
    }

    /// Delta-normal VaR and ES (see the module documentation).
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] for a contract missing from the history, a
    /// non-positive multiplier or a non-positive price.
    pub fn parametric(&self, positions: &[RiskPosition]) -> Result<Vec<RiskFigure>, RiskError> {
        Ok(self.parametric_book(&self.book(positions)?))
    }

    /// Figures from P&L samples, one sample per horizon (or the 1-day sample scaled by
    /// `√h` when `scale_from_one_day`), ordered by confidence then horizon.
    fn tail_figures(&self, pnl_by_horizon: &mut [(u32, Vec<f64>)], scale_from_one_day: bool) -> Vec<RiskFigure> {
        let confidences = &self.config.confidences;
        let tails: Vec<(u32, Vec<VarEs>)> =
            pnl_by_horizon.iter_mut().map(|(h, pnl)| (*h, tail_var_es(pnl, confidences))).collect();
        let mut out = Vec::new();
        for (ci, &c) in confidences.iter().enumerate() {
            for &h in &self.config.horizons_days {
                let (scale, tail) = if scale_from_one_day {
                    (f64::from(h).sqrt(), &tails[0].1)
                } else {
                    let Some((_, tail)) = tails.iter().find(|(hh, _)| *hh == h) else { continue };
                    (1.0, tail)
                };
                out.push(self.figure(c, h, tail[ci].var * scale, tail[ci].es * scale));
            }
        }
        out
    }

    fn historical_book(&self, book: &Book) -> Vec<RiskFigure> {
        let n = self.contracts.len();
        let pnl: Vec<f64> = (0..self.days)
            .map(|t| book.held.iter().map(|&i| book.exposures[i] * self.window[t * n + i].exp_m1()).sum())
            .collect();
        self.tail_figures(&mut [(1, pnl)], true)
    }

    /// Historical full-revaluation VaR and ES over the window; `h`-day figures are the
    /// 1-day ones × `√h`.
    ///
    /// # Errors
    /// As [`Self::parametric`].
    pub fn historical(&self, positions: &[RiskPosition]) -> Result<Vec<RiskFigure>, RiskError> {
        Ok(self.historical_book(&self.book(positions)?))
    }

    fn monte_carlo_book(&self, book: &Book) -> Result<Vec<RiskFigure>, RiskError> {
        Ok(self.monte_carlo_with_sample(book)?.0)
    }

    /// The horizon whose P&L sample [`Self::report_exposures`] returns.
    fn sample_horizon(&self) -> u32 {
        let h = &self.config.horizons_days;
        if h.contains(&1) { 1 } else { h.iter().copied().min().unwrap_or(1) }
    }

    fn monte_carlo_with_sample(&self, book: &Book) -> Result<(Vec<RiskFigure>, MonteCarloPnl), RiskError> {
        let n = self.contracts.len();
        let k = book.held.len();
        let horizons = &self.config.horizons_days;
        let sample_horizon = self.sample_horizon();
        if k == 0 {
            let figures = self.tail_figures(
                &mut horizons.iter().map(|&h| (h, vec![0.0; self.config.mc_paths])).collect::<Vec<_>>(),
                false,
            );
            return Ok((
                figures,
                MonteCarloPnl { horizon_days: sample_horizon, pnl_usd: vec![0.0; self.config.mc_paths] },
            ));
        }
        let sub = DMatrix::from_fn(k, k, |r, c| self.covariance[book.held[r] * n + book.held[c]]);
        // A principal submatrix of a positive-definite matrix is positive definite; the
        // repair is a guard against rounding only.
        let l = match cholesky(&sub) {
            Some(l) => l,
            None => nearest_positive_definite(&sub).ok_or_else(|| not_factorisable("the positions' covariance"))?.1,
        };
        // nalgebra stores L by columns, so r = L z accumulates column by column
        // (vectorisable, no long dependency chain): lt[j * k + i] = L[i][j].
        let lt = l.as_slice();
        let v: Vec<f64> = book.held.iter().map(|&i| book.exposures[i]).collect();
        let sqrt_h: Vec<f64> = horizons.iter().map(|&h| f64::from(h).sqrt()).collect();
        let paths = self.config.mc_paths;
        let chunks = paths.div_ceil(MC_CHUNK_DRAWS);
        let seed = self.config.seed;
        let parts: Vec<Vec<Vec<f64>>> = (0..chunks)
            .into_par_iter()
            .map(|chunk| {
                let len = MC_CHUNK_DRAWS.min(paths - chunk * MC_CHUNK_DRAWS);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(chunk as u64);
                let mut z = vec![0.0; k];
                let mut r = vec![0.0; k];
                let mut x = vec![0.0; k];
                let mut out: Vec<Vec<f64>> = horizons.iter().map(|_| Vec::with_capacity(len)).collect();
                for _ in 0..len {
                    for zi in z.iter_mut() {
                        *zi = rng.sample(StandardNormal);
                    }
                    r.fill(0.0);
                    for (j, &zj) in z.iter().enumerate() {
                        let col = &lt[j * k + j..(j + 1) * k];
                        for (ri, lij) in r[j..].iter_mut().zip(col) {
                            *ri += lij * zj;
                        }
                    }
                    for (hi, &s) in sqrt_h.iter().enumerate() {
                        for (xi, ri) in x.iter_mut().zip(&r) {
                            *xi = expm1_taylor(s * ri);
                        }
                        for (xi, ri) in x.iter_mut().zip(&r) {
                            if (s * ri).abs() > EXPM1_TAYLOR_LIMIT {
                                *xi = (s * ri).exp_m1();
                            }
                        }
                        out[hi].push(v.iter().zip(&x).map(|(vi, xi)| vi * xi).sum());
                    }
                }
                out
            })
            .collect();
        let mut by_horizon: Vec<(u32, Vec<f64>)> = horizons
            .iter()
            .enumerate()
            .map(|(hi, &h)| (h, parts.iter().flat_map(|p| p[hi].iter().copied()).collect()))
            .collect();
        let figures = self.tail_figures(&mut by_horizon, false);
        let pnl_usd = by_horizon.into_iter().find(|(h, _)| *h == sample_horizon).map(|(_, p)| p).unwrap_or_default();
        Ok((figures, MonteCarloPnl { horizon_days: sample_horizon, pnl_usd }))
    }

    /// Monte Carlo VaR and ES with correlated normal shocks and full revaluation.
    ///
    /// # Errors
    /// As [`Self::parametric`]; [`RiskError::Computation`] in the Monte Carlo run when the
    /// covariance of the contracts held can be neither factorised nor repaired (non-finite
    /// entries; not expected once [`Self::new`] has succeeded).
    pub fn monte_carlo(&self, positions: &[RiskPosition]) -> Result<Vec<RiskFigure>, RiskError> {
        self.monte_carlo_book(&self.book(positions)?)
    }

    /// Component and marginal VaR (parametric, 1-day) for each contract held, at each
    /// confidence level.
    ///
    /// # Errors
    /// As [`Self::parametric`].
    pub fn components(&self, positions: &[RiskPosition]) -> Result<Vec<ComponentVar>, RiskError> {
        Ok(self.components_book(&self.book(positions)?))
    }

    fn components_book(&self, book: &Book) -> Vec<ComponentVar> {
        let (sigma, sv) = self.sigma_and_gradient(&book.exposures);
        let mut out = Vec::new();
        for &c in &self.config.confidences {
            let z = norm_ppf(c);
            let total = z * sigma;
            for &i in &book.held {
                let marginal = if sigma > 0.0 { z * sv[i] / sigma } else { 0.0 };
                let component = book.exposures[i] * marginal;
                out.push(ComponentVar {
                    contract: self.contracts[i],
                    confidence: c,
                    exposure_usd: book.exposures[i],
                    marginal_var_per_usd: marginal,
                    marginal_var_per_contract_usd: marginal * book.unit_value[i],
                    component_var_usd: component,
                    share: if total > 0.0 { component / total } else { 0.0 },
                });
            }
        }
        out
    }

    /// The change in VaR if `order` were added to `positions`, by `method`, at every
    /// configured confidence and horizon.
    ///
    /// # Errors
    /// As [`Self::parametric`], for the positions and the order; with
    /// [`VarMethod::MonteCarlo`], as [`Self::monte_carlo`].
    pub fn incremental_var(
        &self,
        positions: &[RiskPosition],
        order: &RiskPosition,
        method: VarMethod,
    ) -> Result<Vec<IncrementalVar>, RiskError> {
        let before = self.book(positions)?;
        let mut with_order = positions.to_vec();
        with_order.push(*order);
        let after = self.book(&with_order)?;
        let run = |b: &Book| match method {
            VarMethod::Parametric => Ok(self.parametric_book(b)),
            VarMethod::Historical => Ok(self.historical_book(b)),
            VarMethod::MonteCarlo => self.monte_carlo_book(b),
        };
        Ok(run(&before)?
            .into_iter()
            .zip(run(&after)?)
            .map(|(b, a)| IncrementalVar {
                confidence: b.confidence,
                horizon_days: b.horizon_days,
                var_before_usd: b.var_usd,
                var_after_usd: a.var_usd,
                incremental_var_usd: a.var_usd - b.var_usd,
            })
            .collect())
    }

    /// Every figure for a set of positions.
    ///
    /// # Errors
    /// As [`Self::monte_carlo`].
    pub fn report(&self, positions: &[RiskPosition]) -> Result<PortfolioRiskReport, RiskError> {
        let book = self.book(positions)?;
        Ok(PortfolioRiskReport {
            observations: self.days,
            covariance_repaired: self.covariance_repaired,
            net_exposure_usd: book.exposures.iter().sum(),
            gross_exposure_usd: positions.iter().map(|p| p.exposure_usd().abs()).sum(),
            parametric: self.parametric_book(&book),
            historical: self.historical_book(&book),
            monte_carlo: self.monte_carlo_book(&book)?,
            components: self.components(positions)?,
        })
    }
}

/// The error for a covariance matrix that has neither a Cholesky factor nor a repair: only
/// non-finite entries get there.
fn not_factorisable(what: &'static str) -> RiskError {
    RiskError::Computation {
        what,
        reason: "the matrix has non-finite entries (returns too large for their squares to be finite), so it \
                 has no Cholesky factor and cannot be repaired; check the return history for extreme values"
            .to_string(),
    }
}

/// `1/k` for `k = 0..=15` (entry 0 unused).
const INV_K: [f64; 16] = [
    0.0,
    1.0,
    1.0 / 2.0,
    1.0 / 3.0,
    1.0 / 4.0,
    1.0 / 5.0,
    1.0 / 6.0,
    1.0 / 7.0,
    1.0 / 8.0,
    1.0 / 9.0,
    1.0 / 10.0,
    1.0 / 11.0,
    1.0 / 12.0,
    1.0 / 13.0,
    1.0 / 14.0,
    1.0 / 15.0,
];

/// Largest `|x|` for which [`expm1_taylor`] is used.
const EXPM1_TAYLOR_LIMIT: f64 = 0.45;

/// `e^x − 1` by its Taylor series to degree 15 in nested form `x(1 + x/2 (1 + x/3 (1 + …)))`:
/// truncation below 1e-18 relative for `|x| ≤ 0.45` (larger moves go to `exp_m1`).
/// Branch-free, so the Monte Carlo loop over contracts vectorises.
#[inline]
fn expm1_taylor(x: f64) -> f64 {
    let mut p = 1.0;
    for inv in INV_K[2..].iter().rev() {
        p = 1.0 + x * inv * p;
    }
    x * p
}

/// `e^x − 1`: [`expm1_taylor`] for `|x| ≤ 0.45`, the standard library's `exp_m1` beyond.
#[cfg(test)]
fn expm1_small(x: f64) -> f64 {
    if x.abs() > EXPM1_TAYLOR_LIMIT { x.exp_m1() } else { expm1_taylor(x) }
}

/// Sample covariance (`ddof = 1`) of `days × n` day-major returns.
fn sample_covariance(r: &[f64], days: usize, n: usize) -> Vec<f64> {
    let mut mean = vec![0.0; n];
    for t in 0..days {
        for i in 0..n {
            mean[i] += r[t * n + i];
        }
    }
    for m in &mut mean {
        *m /= days as f64;
    }
    let mut cov = vec![0.0; n * n];
    for t in 0..days {
        let row = &r[t * n..(t + 1) * n];
        for i in 0..n {
            let di = row[i] - mean[i];
            for j in 0..=i {
                cov[i * n + j] += di * (row[j] - mean[j]);
            }
        }
    }
    let denom = (days - 1) as f64;
    for i in 0..n {
        for j in 0..=i {
            let v = cov[i * n + j] / denom;
            cov[i * n + j] = v;
            cov[j * n + i] = v;
        }
    }
    cov
}

/// EWMA covariance forecast for the day after the window (see the module documentation).
fn ewma_covariance(r: &[f64], days: usize, n: usize, lambda: f64) -> Vec<f64> {
    let tau = days.min(crude_analytics::EWMA_SEED_OBSERVATIONS);
    let mut weights = Vec::with_capacity(tau);
    let mut w = 1.0;
    for _ in 0..tau {
        weights.push(w);
        w *= crude_analytics::RISKMETRICS_LAMBDA;
    }
    let total: f64 = weights.iter().sum();
    let mut s = vec![0.0; n * n];
    for (t, wt) in weights.iter().enumerate() {
        let row = &r[t * n..(t + 1) * n];
        for i in 0..n {
            for j in 0..=i {
                s[i * n + j] += wt / total * row[i] * row[j];
            }
        }
    }
    for t in 0..days {
        let row = &r[t * n..(t + 1) * n];
        for i in 0..n {
            for j in 0..=i {
                s[i * n + j] = lambda * s[i * n + j] + (1.0 - lambda) * row[i] * row[j];
            }
        }
    }
    for i in 0..n {
        for j in 0..i {
            s[j * n + i] = s[i * n + j];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_expm1_agrees_with_the_standard_library() {
        let mut x = -0.6;
        while x <= 0.6 {
            let (fast, exact) = (expm1_small(x), x.exp_m1());
            assert!((fast - exact).abs() <= 4.0 * f64::EPSILON * exact.abs(), "{x}: {fast} vs {exact}");
            x += 0.000_731;
        }
        assert_eq!(expm1_small(0.0), 0.0);
        assert!((expm1_small(1e-300) - 1e-300).abs() < 1e-315);
    }
}
