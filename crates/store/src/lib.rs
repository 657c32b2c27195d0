//! Crude persistence: SQLite (WAL, versioned migrations) for orders, order events, fills and the hash-chained audit log.
