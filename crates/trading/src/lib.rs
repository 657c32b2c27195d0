//! Crude trading: order management state machine, paper broker, positions and P&L, blotter and attribution.
