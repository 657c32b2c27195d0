//! Crude oil-market analytics: term structure, crack spreads, inventories, volatility and
//! GARCH, correlation.
//!
//! Volatility analytics live in self-contained modules:
//! - `returns`: log and simple returns, sample mean and variance;
//! - `vol`: close-to-close, Parkinson and Garman–Klass realised volatility (annualised with
//!   252 trading days), EWMA (RiskMetrics) variance, rolling correlation;
//! - `garch`: GARCH(1,1) fitted by maximum likelihood with the `arch` package's conventions,
//!   and its variance forecasts.
//!
//! The curve engine (`curve_engine`) computes the Curve & Spreads figures (term structure,
//! spreads, cracks against their seasonal band, WTI–Brent, inventory surprises) over daily
//! history and live market events.
//!
//! Everything is pure computation with no I/O; errors are [`AnalyticsError`] and
//! [`MarketAnalyticsError`].

pub mod curve_engine;
mod error;
mod garch;
mod optim;
mod returns;
mod vol;

pub use curve_engine::{
    ChartPoint, CrackKind, CrackSeries, CurveData, CurveEngine, CurveEngineConfig, CurveHistory, CurveLine,
    CurveOverlay, DataOrigin, HistoryMerge, InventorySeries, MarketCurve, MonthlyWtiBrent, SeasonalSeries, SpreadRow,
    SpreadSegment, WtiBrentSeries, date_from_days, days_since_epoch, reduce_min_max,
};
pub use error::AnalyticsError;
pub use garch::{GARCH_MIN_OBSERVATIONS, Garch11Fit, Garch11Params, fit_garch11, garch11_loglikelihood};
pub use returns::{check_finite, log_returns, mean, simple_returns, std_dev, variance};
pub use vol::{
    EWMA_SEED_OBSERVATIONS, EwmaVariance, RISKMETRICS_LAMBDA, TRADING_DAYS_PER_YEAR, close_to_close_vol,
    close_to_close_vol_from_returns, ewma_seed, ewma_variance, garman_klass_vol, parkinson_vol, rolling_correlation,
};
pub mod inventory;
pub mod inventory_csv;
pub mod market_error;
pub mod percentile;
pub mod seasonal;
pub mod spreads;
pub mod term_structure;
pub use inventory::{
    InventoryConfig, InventorySnapshot, InventoryTracker, InventoryWeek, PRODUCT_FIELDS, Product, ProductAnalytics,
    ProductWeek, SeasonalRange, inventory_analytics, week_ending_for_release,
};
pub use inventory_csv::{EIA_WEEKLY_COLUMNS, InventoryCsvError, parse_eia_weekly_csv, read_eia_weekly_csv};
pub use market_error::MarketAnalyticsError;
pub use percentile::{PercentileTracker, percentile_rank, quantile_sorted};
pub use seasonal::{SeasonalBand, SeasonalConfig, SeasonalProfile, SeasonalWeek, iso_week_means, seasonal_profile};
pub use spreads::{
    CrackRatio, brent_wti_arb, brent_wti_arb_series, crack_211, crack_321, crack_series, gasoline_crack,
    heating_oil_crack, wti_brent_series, wti_brent_spread,
};
pub use term_structure::{
    CurveState, TERM_STRUCTURE_METRICS, TermStructureConfig, TermStructureMetrics, TermStructurePercentiles,
    TermStructureRow, TermStructureTracker, calendar_spread, classify_spread, curve_curvature, curve_slope,
    roll_yield_annual, term_structure_history, term_structure_metrics, validate_curve,
};
