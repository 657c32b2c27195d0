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
//! - `var_backtest`: exception counting, Kupiec's POF test, the Basel traffic light and the
//!   out-of-sample backtest of the parametric VaR;
//! - `book`: the positions (futures and options on futures), NAV and P&L state measured;
//! - `limits`: `config/risk_limits.yaml`, environment overrides, utilisation and zones;
//! - `stress`: historical and user stress scenarios, sliders, full-revaluation P&L;
//! - `greeks`: the Greeks table (Black-76, position-scaled);
//! - `engine`: the Risk panel's snapshot (every figure in one call);
//! - `pretrade`: the VaR-based pre-trade check;
//! - `positions_file`: `crude risk --positions FILE --history FILE` (portfolio mode).
//!
//! Errors are [`RiskError`]; [`RiskError::exit_code`] gives the CLI's exit status.

mod alerts;
mod black76;
mod book;
mod engine;
mod error;
mod greeks;
mod input;
mod limits;
mod linalg;
mod normal;
mod portfolio;
mod positions_file;
mod pretrade;
mod series;
mod stress;
mod var_backtest;

pub use alerts::{ALERT_LIST_CAP, Alert, DEFAULT_COOLDOWN_SECS, LimitAlerts, amount, limit_amount, percent, zone_name};
pub use black76::{
    Black76Greeks, MAX_IMPLIED_VOL, OptionParams, OptionReport, OptionType, VolInput, black76, implied_vol, run_option,
};
pub use book::{BookPosition, OptionLeg, PnlState, RiskBook, UnitValuation};
pub use engine::{DEFAULT_HISTOGRAM_BINS, DrawdownStatus, PnlHistogram, RiskEngine, RiskEngineConfig, RiskSnapshot};
pub use error::RiskError;
pub use greeks::{GreeksRow, GreeksTable, GreeksTotals, PositionGreeks, greeks_table, position_greeks};
pub use input::{PRICE_COLUMNS, PriceSeries, read_price_series};
pub use limits::{
    ConcentrationLimits, DEFAULT_CRITICAL, DEFAULT_WARNING, DrawdownLimits, ENV_OVERRIDES, ExposureLimits, GreekLimits,
    InstrumentLimits, InstrumentLimitsByMarket, LimitFigures, LimitUtilisation, LimitsError, LimitsStore, MarginLimit,
    RiskLimits, StressLimit, ThresholdOverride, Thresholds, VarLimit, Zone, evaluate, format_limit_value, limit_keys,
};
pub use normal::{erfc, norm_cdf, norm_pdf, norm_ppf};
pub use portfolio::{
    ComponentVar, CovarianceMethod, DEFAULT_PORTFOLIO_WINDOW, Exposure, IncrementalVar, MonteCarloPnl,
    PortfolioRiskConfig, PortfolioRiskModel, PortfolioRiskReport, ReturnHistory, RiskFigure, RiskPosition, VarMethod,
};
pub use positions_file::{
    DEFAULT_NAV_USD, PortfolioArgs, PortfolioFileError, PriceHistory, parse_covariance_method, portfolio_snapshot,
    read_history, read_positions, run_risk_portfolio,
};
pub use pretrade::{PreTradeAssessment, RiskPreTradeCheck};
pub use series::{
    ConfidenceMap, DEFAULT_CONFIDENCES, DEFAULT_SEED, DEFAULT_WINDOW, GarchSummary, MC_CHUNK_DRAWS, MC_DRAWS,
    MethodTable, SeriesRiskDetails, SeriesRiskReport, VarEs, Window, confidence_key, historical_var_es,
    monte_carlo_var_es, normal_draws, parametric_var_es, parse_confidences, quantile_linear, run_risk_series,
    series_risk, validate_confidences,
};
pub use stress::{
    CurvePoints, EIA_MONTHLY_PRICES, FRED_WTI_PRICES, MAX_CURVE_POINT, MIN_STRESS_VOL, SLIDERS_SCENARIO, Shock,
    Sliders, StressError, StressResult, StressScenario, builtin_scenarios, curve_point, load_scenarios, run_scenario,
    run_stress, scenarios_from_yaml_str,
};
pub use var_backtest::{
    BACKTEST_CONFIDENCE, BACKTEST_DAYS, KupiecResult, MIN_BACKTEST_DAYS, TrafficLight, VarBacktest,
    basel_traffic_light, count_exceptions, kupiec_pof, parametric_var_backtest,
};
