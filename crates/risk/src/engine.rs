//! The risk engine behind the Risk panel: one call ([`RiskEngine::snapshot`]) computes every
//! figure the panel shows for a book, and [`RiskEngine::pre_trade_check`] hands out the
//! cheap VaR-based pre-trade check.
//!
//! - The portfolio model (window of returns, covariance, Cholesky factor) is built once per
//!   history in [`RiskEngine::new`]; a snapshot reuses it.
//! - VaR positions are **delta-equivalent futures**: a future contributes
//!   `qty × multiplier × price` USD of exposure, an option `Δ × qty × multiplier × price`
//!   (Black-76 delta of the option on that future).
//! - A position whose contract has no column in the history is priced off the returns of
//!   the same market's contract nearest in expiry (ties: the earlier one); the pairs are
//!   listed in [`RiskSnapshot::proxied`]. A market with no series at all is an error.
//! - The model uses log returns, so a position whose future is at or below zero cannot be
//!   put through it: it is left out of the VaR/ES figures (never silently — it is listed in
//!   [`RiskSnapshot::var_excluded`] and labelled in the VaR limit) while stress tests,
//!   exposures, limits, Greeks and margin still include it.
//! - Exposures for limits are netted per contract month across strategies; gross is
//!   `Σ |net exposure|`, net is `Σ net exposure` (delta-equivalent, USD); the report's
//!   `gross_exposure_usd` and `net_exposure_usd` are these book figures.
//! - Initial margin is `Σ |net delta-equivalent contracts| × initial_margin_usd` per
//!   contract month (outright, no spread credit: conservative).
//! - The stress-loss limit is judged on the worst configured scenario; the panel's sliders
//!   are a what-if and are reported but not judged against the limit.
//! - The VaR backtest ([`RiskSnapshot::backtest`]) revalues today's delta-equivalent
//!   exposures (the parametric VaR's vector) over each of the last 250 days of the joint
//!   history, `P&L_t = Σ_i v_i (e^{r_{t,i}} − 1)`, against each day's 1-day 99 % parametric
//!   VaR estimated from the window of days before it only (rolling, out of sample; zero
//!   mean, sample covariance — also when the model's figures use EWMA); an
//!   exception is `P&L_t < −VaR_t`; Kupiec's test and the Basel zone as in
//!   [`crate::kupiec_pof`]. With fewer than `window + 250` days it tests as many
//!   out-of-sample days as exist (at least 100); otherwise, and for a book with no VaR
//!   exposure, it is `None`. The engine keeps only the last `window + 250` days for it.
//! - An empty book gives zeros everywhere (no NaN) and no backtest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crude_model::{ContractId, Timestamp};

use crate::RiskError;
use crate::book::{BookPosition, RiskBook};
use crate::greeks::{GreeksTable, greeks_table};
use crate::limits::{LimitFigures, LimitUtilisation, RiskLimits, evaluate};
use crate::normal::norm_ppf;
use crate::portfolio::{Exposure, PortfolioRiskConfig, PortfolioRiskModel, PortfolioRiskReport, ReturnHistory};
use crate::pretrade::RiskPreTradeCheck;
use crate::stress::{SLIDERS_SCENARIO, Sliders, StressResult, StressScenario, builtin_scenarios, run_stress};
use crate::var_backtest::{BACKTEST_DAYS, VarBacktest, parametric_var_backtest};

/// Default number of histogram bins.
pub const DEFAULT_HISTOGRAM_BINS: usize = 60;

/// The Monte Carlo P&L distribution, binned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PnlHistogram {
    /// `bins + 1` bin edges, USD, increasing.
    pub edges_usd: Vec<f64>,
    /// Paths per bin.
    pub counts: Vec<u64>,
    /// Confidence of the VaR and ES marked (the highest configured).
    pub confidence: f64,
    /// Monte Carlo VaR at that confidence, USD (a loss: mark it at `-var_usd`).
    pub var_usd: f64,
    /// Monte Carlo ES at that confidence, USD.
    pub es_usd: f64,
    /// Horizon of the distribution, days (1 unless the configuration has no 1-day horizon).
    pub horizon_days: u32,
}

/// Drawdowns against their limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawdownStatus {
    /// Fall from the session's P&L peak, USD (≥ 0).
    pub intraday_usd: f64,
    /// Day loss, USD (≥ 0).
    pub daily_usd: f64,
    /// Week loss, USD (≥ 0).
    pub weekly_usd: f64,
    /// The three drawdown utilisations.
    pub limits: Vec<LimitUtilisation>,
}

/// Everything the Risk panel shows, for one book at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskSnapshot {
    /// Time of the book's prices.
    pub as_of: Timestamp,
    /// NAV used for the `% of NAV` figures, USD.
    pub nav_usd: f64,
    /// The positions the figures are for.
    pub positions: Vec<BookPosition>,
    /// VaR/ES three ways (1- and 10-day, each confidence), components and marginal VaR;
    /// gross and net exposure are the book's (delta-equivalent, netted per contract).
    pub report: PortfolioRiskReport,
    /// Monte Carlo P&L distribution.
    pub histogram: PnlHistogram,
    /// P&L per stress scenario (the sliders' scenario last, when set).
    pub stress: Vec<StressResult>,
    /// Every limit's utilisation.
    pub limits: Vec<LimitUtilisation>,
    /// Greeks by contract and in total.
    pub greeks: GreeksTable,
    /// Drawdowns.
    pub drawdown: DrawdownStatus,
    /// Initial margin, USD.
    pub margin_usd: f64,
    /// `(position's contract, contract whose returns priced it)` for positions without a
    /// series of their own.
    pub proxied: Vec<(ContractId, ContractId)>,
    /// Wall time of the calculation, milliseconds.
    pub compute_ms: f64,
    /// Parametric VaR at the limit's confidence and horizon, USD (the figure the VaR limit
    /// and the pre-trade check judge).
    pub limit_var_usd: f64,
    /// Positions left out of VaR/ES with the reason (a future at or below zero).
    pub var_excluded: Vec<(ContractId, String)>,
    /// Out-of-sample backtest of the 1-day 99 % parametric VaR of today's exposures over
    /// the last 250 days (see the module documentation); `None` when the history is
    /// shorter than the window + 100 days or no position enters VaR (left out of the JSON
    /// then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<VarBacktest>,
}

/// Settings of the risk engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskEngineConfig {
    /// The portfolio model (window, covariance method, confidences, horizons, paths, seed).
    pub portfolio: PortfolioRiskConfig,
    /// Limits.
    pub limits: RiskLimits,
    /// Stress scenarios (built-in and user).
    pub scenarios: Vec<StressScenario>,
    /// Histogram bins (≥ 1).
    pub histogram_bins: usize,
}

impl RiskEngineConfig {
    /// Defaults: the portfolio model's defaults with `nav_usd`, the default limits, the
    /// built-in scenarios and [`DEFAULT_HISTOGRAM_BINS`] bins.
    pub fn new(nav_usd: f64) -> Self {
        Self {
            portfolio: PortfolioRiskConfig::new(nav_usd),
            limits: RiskLimits::default(),
            scenarios: builtin_scenarios(),
            histogram_bins: DEFAULT_HISTOGRAM_BINS,
        }
    }
}

/// The risk engine: a portfolio model built once per history, limits and scenarios.
#[derive(Debug, Clone)]
pub struct RiskEngine {
    model: Arc<PortfolioRiskModel>,
    /// The last `window + BACKTEST_DAYS` days of the history (all of it when shorter), for
    /// the VaR backtest.
    backtest_history: Arc<ReturnHistory>,
    limits: RiskLimits,
    scenarios: Arc<Vec<StressScenario>>,
    histogram_bins: usize,
}

/// The history contract whose returns price `contract`: itself, else the same market's
/// contract nearest in expiry (ties: the earlier); `None` when the market has no series.
pub(crate) fn series_for(contracts: &[ContractId], contract: ContractId) -> Option<usize> {
    if let Some(i) = contracts.iter().position(|c| *c == contract) {
        return Some(i);
    }
    contracts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.market == contract.market)
        .min_by_key(|(_, c)| (c.month.months_since(contract.month).abs(), c.month))
        .map(|(i, _)| i)
}

/// `σ_p = √(vᵀ Σ v)` for exposures `v` on the model's contracts.
pub(crate) fn portfolio_sigma(covariance: &[f64], v: &[f64]) -> f64 {
    let n = v.len();
    let mut var = 0.0;
    for i in 0..n {
        if v[i] == 0.0 {
            continue;
        }
        let row = &covariance[i * n..(i + 1) * n];
        let s: f64 = row.iter().zip(v).map(|(a, b)| a * b).sum();
        var += v[i] * s;
    }
    var.max(0.0).sqrt()
}

/// Per-contract aggregates of a book (delta-equivalent, netted across strategies).
pub(crate) struct Netted {
    /// `(contract, net delta-equivalent contracts, net exposure USD)`, sorted by contract.
    pub by_contract: Vec<(ContractId, f64, f64)>,
    /// Gross exposure per strategy (netted per contract within it), USD.
    pub by_strategy: Vec<(String, f64)>,
}

impl Netted {
    /// Limit figures other than VaR, drawdown, Greeks and stress.
    pub fn figures(&self, limits: &RiskLimits) -> LimitFigures {
        let mut f = LimitFigures::default();
        for &(c, contracts, exposure) in &self.by_contract {
            let m = c.market.index();
            f.contracts[m] += contracts.abs();
            f.notional_usd[m] += exposure.abs();
            f.net_exposure_usd += exposure;
            f.margin_usd += contracts.abs() * limits.initial_margin_usd(c.market);
        }
        f.strategy_gross_usd = self.by_strategy.clone();
        f
    }
}

/// Nets `(contract, strategy, delta-equivalent contracts, exposure)` rows.
pub(crate) fn net_rows<'a>(rows: impl Iterator<Item = (ContractId, &'a str, f64, f64)>) -> Netted {
    let mut by_contract: BTreeMap<ContractId, (f64, f64)> = BTreeMap::new();
    let mut by_strategy: BTreeMap<(&str, ContractId), f64> = BTreeMap::new();
    for (c, strategy, contracts, exposure) in rows {
        let e = by_contract.entry(c).or_default();
        e.0 += contracts;
        e.1 += exposure;
        *by_strategy.entry((strategy, c)).or_default() += exposure;
    }
    let mut strategies: BTreeMap<&str, f64> = BTreeMap::new();
    for ((s, _), e) in by_strategy {
        *strategies.entry(s).or_default() += e.abs();
    }
    Netted {
        by_contract: by_contract.into_iter().map(|(c, (q, e))| (c, q, e)).collect(),
        by_strategy: strategies.into_iter().map(|(s, g)| (s.to_string(), g)).collect(),
    }
}

impl RiskEngine {
    /// Builds the portfolio model from `history` once.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] for a bad portfolio configuration, a window longer
    /// than the history, 0 histogram bins, or limits that do not validate.
    pub fn new(config: RiskEngineConfig, history: &ReturnHistory) -> Result<Self, RiskError> {
        if config.histogram_bins == 0 {
            return Err(RiskError::BadArgument {
                argument: "histogram_bins",
                value: "0".to_string(),
                reason: format!("use at least 1 bin (default {DEFAULT_HISTOGRAM_BINS})"),
            });
        }
        config.limits.validate("(engine configuration)").map_err(|e| RiskError::BadArgument {
            argument: "limits",
            value: format!("{}.{}", e.entry, e.field),
            reason: e.to_string(),
        })?;
        for s in &config.scenarios {
            s.validate("(engine configuration)").map_err(|e| RiskError::BadArgument {
                argument: "scenarios",
                value: s.name.clone(),
                reason: e.to_string(),
            })?;
        }
        let keep = config.portfolio.window_days.saturating_add(BACKTEST_DAYS).min(history.days());
        let model = PortfolioRiskModel::new(history, config.portfolio)?;
        let backtest_history = if keep == history.days() {
            history.clone()
        } else {
            let rows: Vec<Vec<f64>> =
                (history.days() - keep..history.days()).filter_map(|t| history.day(t).map(<[f64]>::to_vec)).collect();
            ReturnHistory::new(history.contracts().to_vec(), &rows)?
        };
        Ok(Self {
            model: Arc::new(model),
            backtest_history: Arc::new(backtest_history),
            limits: config.limits,
            scenarios: Arc::new(config.scenarios),
            histogram_bins: config.histogram_bins,
        })
    }

    /// Replaces the limits (validated by the caller, e.g. through
    /// [`crate::LimitsStore`]); the model is kept.
    pub fn set_limits(&mut self, limits: RiskLimits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// The stress scenarios.
    pub fn scenarios(&self) -> &[StressScenario] {
        &self.scenarios
    }

    /// The portfolio model.
    pub fn model(&self) -> &PortfolioRiskModel {
        &self.model
    }

    /// Every figure of the Risk panel for `book`, with the sliders' scenario when any
    /// slider is set.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] for an invalid book or slider (the field named), or a
    /// position in a market with no return series.
    pub fn snapshot(&self, book: &RiskBook, sliders: &Sliders) -> Result<RiskSnapshot, RiskError> {
        let start = Instant::now();
        book.validate()?;
        sliders.validate()?;
        let contracts = self.model.contracts();
        let n = contracts.len();
        let mut exposures = Vec::with_capacity(book.positions.len());
        let mut var_vector = vec![0.0; n];
        let mut proxied: Vec<(ContractId, ContractId)> = Vec::new();
        let mut var_excluded: Vec<(ContractId, String)> = Vec::new();
        let mut rows = Vec::with_capacity(book.positions.len());
        for p in &book.positions {
            let delta = p.delta_contracts()?;
            let exposure = delta * p.multiplier * p.price;
            rows.push((p.contract, p.strategy.as_str(), delta, exposure));
            if p.qty == 0 {
                continue;
            }
            let Some(i) = series_for(contracts, p.contract) else {
                return Err(RiskError::BadArgument {
                    argument: "position",
                    value: p.label(),
                    reason: format!(
                        "the return history has no series for market {} ({}); add a column for one of its contracts",
                        p.contract.market.code(),
                        p.contract.market.name()
                    ),
                });
            };
            if contracts[i] != p.contract && !proxied.iter().any(|(c, _)| *c == p.contract) {
                proxied.push((p.contract, contracts[i]));
            }
            if p.price <= 0.0 {
                if !var_excluded.iter().any(|(c, _)| *c == p.contract) {
                    var_excluded.push((
                        p.contract,
                        format!(
                            "price {} is at or below zero: log-return VaR is undefined there; the position is in stress tests, exposures and limits only",
                            p.price
                        ),
                    ));
                }
                continue;
            }
            exposures.push(Exposure {
                contract: contracts[i],
                exposure_usd: exposure,
                unit_value_usd: p.multiplier * p.price,
            });
            var_vector[i] += exposure;
        }
        let (mut report, sample) = self.model.report_exposures(&exposures)?;
        for f in report.parametric.iter_mut().chain(report.historical.iter_mut()).chain(report.monte_carlo.iter_mut()) {
            f.var_pct_nav = f.var_usd / book.nav_usd;
            f.es_pct_nav = f.es_usd / book.nav_usd;
        }
        let netted = net_rows(rows.into_iter());
        let mut figures = netted.figures(&self.limits);
        report.gross_exposure_usd = figures.gross_exposure_usd();
        report.net_exposure_usd = figures.net_exposure_usd;

        let sigma = portfolio_sigma(self.model.covariance(), &var_vector);
        let limit_var_usd =
            norm_ppf(self.limits.var.confidence) * sigma * f64::from(self.limits.var.horizon_days).sqrt();
        figures.var_usd = limit_var_usd;

        let backtest = parametric_var_backtest(&self.backtest_history, self.model.config().window_days, &var_vector)?;
        let histogram = self.histogram(&report, &sample.pnl_usd, sample.horizon_days);
        let greeks = greeks_table(&book.positions)?;
        let stress = run_stress(&self.scenarios, sliders, &book.positions, book.as_of.date_utc(), &self.limits)?;
        let pnl = &book.pnl;
        figures.option_delta_contracts = Some(greeks.total.option_delta);
        figures.gamma_usd = Some(greeks.total.gamma);
        figures.vega_usd = Some(greeks.total.vega);
        figures.drawdown_intraday_usd = Some(pnl.intraday_drawdown_usd());
        figures.drawdown_daily_usd = Some(pnl.daily_drawdown_usd());
        figures.drawdown_weekly_usd = Some(pnl.weekly_drawdown_usd());
        figures.stress_loss = stress
            .iter()
            .filter(|s| s.scenario != SLIDERS_SCENARIO)
            .min_by(|a, b| a.pnl_usd.total_cmp(&b.pnl_usd))
            .map(|s| (s.scenario.clone(), -s.pnl_usd));
        let mut limits = evaluate(&self.limits, &figures);
        if !var_excluded.is_empty()
            && let Some(v) = limits.iter_mut().find(|u| u.key == "var")
        {
            let names: Vec<String> = var_excluded.iter().map(|(c, _)| c.to_string()).collect();
            v.label = format!("{} (excludes {}: price ≤ 0)", v.label, names.join(", "));
        }
        let drawdown = DrawdownStatus {
            intraday_usd: pnl.intraday_drawdown_usd(),
            daily_usd: pnl.daily_drawdown_usd(),
            weekly_usd: pnl.weekly_drawdown_usd(),
            limits: limits.iter().filter(|u| u.key.starts_with("drawdown.")).cloned().collect(),
        };
        Ok(RiskSnapshot {
            as_of: book.as_of,
            nav_usd: book.nav_usd,
            positions: book.positions.clone(),
            report,
            histogram,
            stress,
            limits,
            greeks,
            drawdown,
            margin_usd: figures.margin_usd,
            proxied,
            compute_ms: start.elapsed().as_secs_f64() * 1_000.0,
            limit_var_usd,
            var_excluded,
            backtest,
        })
    }

    fn histogram(&self, report: &PortfolioRiskReport, pnl: &[f64], horizon_days: u32) -> PnlHistogram {
        let bins = self.histogram_bins;
        let (mut lo, mut hi) = pnl.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
            let mid = if lo.is_finite() { lo } else { 0.0 };
            (lo, hi) = (mid - 1.0, mid + 1.0);
        }
        let width = (hi - lo) / bins as f64;
        let edges_usd: Vec<f64> = (0..=bins).map(|i| if i == bins { hi } else { lo + width * i as f64 }).collect();
        let mut counts = vec![0u64; bins];
        for &x in pnl {
            let k = (((x - lo) / width) as usize).min(bins - 1);
            counts[k] += 1;
        }
        let confidence = self.model.config().confidences.iter().copied().fold(0.0, f64::max);
        let figure = report.monte_carlo.iter().find(|f| f.confidence == confidence && f.horizon_days == horizon_days);
        PnlHistogram {
            edges_usd,
            counts,
            confidence,
            var_usd: figure.map_or(0.0, |f| f.var_usd),
            es_usd: figure.map_or(0.0, |f| f.es_usd),
            horizon_days,
        }
    }

    /// The VaR-based pre-trade check with this engine's model and limits (parametric,
    /// microseconds per order; `Send + Sync + 'static`).
    pub fn pre_trade_check(&self) -> RiskPreTradeCheck {
        RiskPreTradeCheck::new(Arc::clone(&self.model), self.limits.clone(), Arc::clone(&self.scenarios))
    }
}
