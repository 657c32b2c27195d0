//! Settings read from the environment and `.env` (loaded with dotenvy). Every setting the
//! app reads is listed in `.env.example`; an unknown `CRUDE_*` variable or a malformed value
//! is an error that names it.

use std::path::PathBuf;

/// Every `CRUDE_*` setting Crude reads, with what it does (kept in step with `.env.example`).
pub const KNOWN: &[(&str, &str)] = &[
    ("CRUDE_FEED", "data feed for the app: sim or replay"),
    ("CRUDE_REPLAY_FILE", "CSV or Parquet bar file for --feed replay"),
    ("CRUDE_REPLAY_MARKET", "market a replay file belongs to: CL, BZ, RB or HO"),
    ("CRUDE_SPEED", "feed speed: a multiple of real time, or max"),
    ("CRUDE_SEED", "simulator seed (unsigned integer)"),
    ("CRUDE_HISTORY_DAYS", "sessions of simulated history loaded at start"),
    ("CRUDE_SIM_CONFIG", "simulator settings file (YAML)"),
    ("CRUDE_MAX_BARS", "bars kept per series and timeframe"),
    ("CRUDE_DATA_DIR", "user data directory (logs, databases)"),
    ("CRUDE_LOG_FILE", "1 (default) writes the rolling log file, 0 disables it"),
    ("CRUDE_DB", "SQLite database for orders, fills and the audit log"),
    ("CRUDE_TRADING_CONFIG", "trading settings file (paper broker, validation, durability)"),
    ("CRUDE_SIGNALS_CONFIG", "signal engine settings file (weights, thresholds, sources)"),
    ("CRUDE_RISK_LIMITS", "risk limits file (default config/risk_limits.yaml)"),
    ("CRUDE_RISK_HISTORY", "daily prices behind the app's VaR (CSV)"),
    ("CRUDE_NAV_USD", "net asset value of the book, USD"),
];

/// Load `.env` from the working directory if present.
///
/// # Errors
/// A malformed `.env` names the line it could not parse.
pub fn load_dotenv() -> Result<Option<PathBuf>, String> {
    match dotenvy::dotenv() {
        Ok(p) => Ok(Some(p)),
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(".env: {e}; fix the line or remove the file (see .env.example)")),
    }
}

/// Reject `CRUDE_*` variables Crude does not know (a typo would otherwise be ignored).
///
/// # Errors
/// Names the unknown variable and lists the known ones.
pub fn check_unknown<I: IntoIterator<Item = (String, String)>>(vars: I) -> Result<(), String> {
    for (k, _) in vars {
        if k.starts_with("CRUDE_") && !KNOWN.iter().any(|(n, _)| *n == k) {
            let names: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown setting {k} in the environment or .env; known settings: {}",
                names.join(", ")
            ));
        }
    }
    Ok(())
}

/// Checks the values of the numeric and switch settings, so a malformed one is named by
/// its variable (not by the flag it stands for).
///
/// # Errors
/// Names the variable, the value and what is accepted.
pub fn check_values<I: IntoIterator<Item = (String, String)>>(vars: I) -> Result<(), String> {
    for (k, v) in vars {
        let t = v.trim();
        let ok = match k.as_str() {
            "CRUDE_SEED" => t.parse::<u64>().is_ok(),
            "CRUDE_HISTORY_DAYS" => t.parse::<u32>().is_ok_and(|d| d <= 60),
            "CRUDE_MAX_BARS" => t.parse::<u64>().is_ok_and(|n| (100..=5_000_000).contains(&n)),
            "CRUDE_NAV_USD" => t.parse::<f64>().is_ok_and(|x| x.is_finite() && x > 0.0),
            "CRUDE_LOG_FILE" => matches!(t, "0" | "1"),
            _ => true,
        };
        if !ok {
            let expected = match k.as_str() {
                "CRUDE_SEED" => "an unsigned integer, e.g. 42",
                "CRUDE_HISTORY_DAYS" => "a whole number of sessions from 0 to 60",
                "CRUDE_MAX_BARS" => "a whole number of bars from 100 to 5000000",
                "CRUDE_NAV_USD" => "a positive number of USD, e.g. 50000000",
                _ => "0 (no log file) or 1",
            };
            return Err(format!("{k}={v}: expected {expected}; fix it in the environment or .env"));
        }
    }
    Ok(())
}

/// The user data directory: `CRUDE_DATA_DIR`, else the platform's (e.g. ~/.local/share/crude).
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CRUDE_DATA_DIR") {
        return PathBuf::from(d);
    }
    directories::ProjectDirs::from("", "", "crude")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".crude"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_crude_variable_is_named() {
        let e = check_unknown([("CRUDE_SEEED".to_string(), "1".to_string())]).unwrap_err();
        assert!(e.contains("CRUDE_SEEED") && e.contains("CRUDE_SEED"));
        assert!(
            check_unknown([("CRUDE_SEED".to_string(), "1".to_string()), ("HOME".to_string(), "/".to_string())]).is_ok()
        );
    }
}
