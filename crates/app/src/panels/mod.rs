//! One module per panel. Panels draw from the [`crate::view_model::ViewModel`]; they do no I/O and
//! no heavy maths. Trading panels return what the user asked for as
//! [`crude_kernel::services::trading::TradingCommand`]s, which the shell sends to the trading worker.

pub mod alerts;
pub mod blotter;
pub mod curve;
pub mod ladder;
pub mod market;
pub mod positions;
pub mod risk;
pub mod signals;
pub mod trade;
