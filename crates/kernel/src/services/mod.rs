//! The kernel's services, each a [`crate::Service`] the runners drive: trading (OMS, paper
//! broker, positions over SQLite), risk (VaR/ES, stress, limits, the pre-trade check),
//! signals (the signal engine and its history) and curve (term structure, spreads, cracks,
//! inventories).

pub mod curve;
pub mod risk;
pub mod signals;
pub mod trading;
mod trading_view;
