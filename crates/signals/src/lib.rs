//! Crude signal engine: TA-Lib-exact indicators (batch and streaming), technical and fundamental signals, regimes, aggregation.
//!
//! The indicator library lives in [`indicators`] (re-exported here); [`indicator_cli`] is the
//! library side of the `crude indicators` command.

pub mod indicator_cli;
pub mod indicators;

pub use indicator_cli::{IndicatorCliError, run_indicators};
pub use indicators::*;
