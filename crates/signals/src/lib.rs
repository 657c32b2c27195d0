//! Crude signal engine: TA-Lib-exact indicators (batch and streaming), technical and
//! fundamental signals, regimes, aggregation, signal history and performance.
//!
//! * [`indicators`]: the indicator library (re-exported here); [`indicator_cli`] is the
//!   library side of `crude indicators`.
//! * [`SignalEngine`] ([`engine`]): every source of [`SourceId`] — technical
//!   ([`technical`]) and fundamental ([`fundamental`]) — with the [`regime`] and the
//!   composite ([`aggregate`]), bar by bar for the four markets, configured by
//!   [`SignalsConfig`] (`config/signals.yaml`, [`config`]).
//! * [`SignalHistory`] ([`history`]): every composite and component in SQLite with its
//!   inputs, outcomes at the horizon and performance per source.
//! * [`OpecTable`] ([`opec`]): the OPEC+ production-versus-quota file.
//! * [`signal_cli`]: the library side of `crude signals`.

pub mod aggregate;
pub mod config;
pub mod engine;
pub mod fundamental;
pub mod history;
pub mod indicator_cli;
pub mod indicators;
pub mod opec;
pub mod regime;
pub mod signal_cli;
pub mod source;
pub mod technical;

pub use aggregate::effective_number;
pub use config::{
    AdxTrendParams, AggregationConfig, BollingerTouchParams, ConfigError, DonchianBreakoutParams,
    InventorySurpriseParams, MAX_BARS, MaCrossoverParams, MacdHistogramParams, MomentumParams, OpecQuotaParams,
    RegimeConfig, RegimeScales, RiskConfig, RsiExtremesParams, SIGNALS_CONFIG_VERSION, SignalsConfig, SourceCommon,
    SourceEntry, SourcesConfig, SpreadZParams, SqueezeConfig, StyleScales, TermStructureCarryParams,
    default_horizon_bars,
};
pub use engine::{BarFields, Component, Composite, EngineError, SignalEngine, SignalInput, SignalSnapshot};
pub use history::{
    COMPOSITE_SOURCE, HistoryError, Outcome, PnlPoint, SIGNAL_HISTORY_SCHEMA_VERSION, SignalHistory, SourcePerformance,
    StoredComponent, StoredSignal,
};
pub use indicator_cli::{IndicatorCliError, run_indicators};
pub use indicators::*;
pub use opec::{OpecCsvError, OpecMonth, OpecTable};
pub use regime::{Regime, RegimeDetector, RegimeState};
pub use signal_cli::{SignalCliError, SignalCliOptions, run_signals, run_signals_from, run_signals_with};
pub use source::{Direction, RegimeStyle, SourceId, SourceNeeds};
