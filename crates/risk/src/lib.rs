//! Crude risk engine: VaR and ES three ways, limits, pre-trade checks, stress tests, Black-76 options.
//!
//! Modules:
//! - `input`: dated price series from CSV, with line-numbered errors;
//! - `series`: single-series historical, parametric and Monte Carlo VaR/ES plus a GARCH(1,1)
//!   fit (`crude risk`);
//! - `black76`: Black-76 prices, Greeks and implied volatility (`crude option`);
//! - `normal`: the standard normal distribution to full double precision;
//! - `portfolio`: portfolio VaR/ES (parametric, historical, Monte Carlo) with component,
//!   marginal and incremental VaR;
//! - `backtest`: exception counting, Kupiec's POF test and the Basel traffic light.
//!
//! Errors are [`RiskCliError`]; [`RiskCliError::exit_code`] gives the CLI's exit status.

mod backtest;
mod black76;
mod error;
mod input;
mod linalg;
mod normal;
mod portfolio;
mod series;

pub use backtest::{KupiecResult, TrafficLight, basel_traffic_light, count_exceptions, kupiec_pof};
pub use black76::{
    Black76Greeks, MAX_IMPLIED_VOL, OptionParams, OptionReport, OptionType, VolInput, black76, implied_vol, run_option,
};
pub use error::RiskCliError;
pub use input::{PRICE_COLUMNS, PriceSeries, read_price_series};
pub use normal::{erfc, norm_cdf, norm_pdf, norm_ppf};
pub use portfolio::{
    ComponentVar, CovarianceMethod, DEFAULT_PORTFOLIO_WINDOW, IncrementalVar, PortfolioRiskConfig, PortfolioRiskModel,
    PortfolioRiskReport, Position, ReturnHistory, RiskFigure, VarMethod,
};
pub use series::{
    ConfidenceMap, DEFAULT_CONFIDENCES, DEFAULT_SEED, DEFAULT_WINDOW, GarchSummary, MC_CHUNK_DRAWS, MC_DRAWS,
    MethodTable, SeriesRiskDetails, SeriesRiskReport, VarEs, Window, confidence_key, historical_var_es,
    monte_carlo_var_es, normal_draws, parametric_var_es, parse_confidences, quantile_linear, run_risk_series,
    series_risk, validate_confidences,
};
