//! One module per panel. Panels draw from the [`crate::store::Store`]; they do no I/O and
//! no heavy maths.

pub mod market;
