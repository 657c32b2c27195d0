//! Risk limits: the `config/risk_limits.yaml` file, environment overrides, validation,
//! utilisation and zones.
//!
//! Every limit is a positive number; its **utilisation** is `value / limit` (1.0 = at the
//! limit). The zone of a utilisation `u` with warning threshold `w` and critical threshold
//! `c` (defaults 0.75 and 0.90, overridable per limit key) is
//! [`Zone::Ok`] for `u < w`, [`Zone::Warning`] for `w ≤ u < c`, [`Zone::Critical`] for
//! `c ≤ u ≤ 1` and [`Zone::Breach`] for `u > 1`.
//!
//! The portfolio VaR limit is judged on the **parametric (delta-normal)** VaR at the
//! configured confidence and horizon (default 1-day 99 %), the same figure the pre-trade
//! check computes in microseconds, so the panel and the check agree.
//!
//! Environment overrides (applied by [`RiskLimits::with_env`], listed in `.env.example`):
//!
//! | variable | field |
//! | --- | --- |
//! | `MAX_VAR_LIMIT` | `var.limit_usd` |
//! | `MAX_GROSS_EXPOSURE` | `exposure.gross_usd` |
//! | `MAX_NET_EXPOSURE` | `exposure.net_usd` |
//! | `MAX_DRAWDOWN_DAILY` | `drawdown.daily_usd` |
//! | `MAX_DRAWDOWN_WEEKLY` | `drawdown.weekly_usd` |
//! | `MAX_WTI_CONTRACTS` | `instruments.CL.max_contracts` |
//! | `MAX_BRENT_CONTRACTS` | `instruments.BZ.max_contracts` |
//! | `MAX_RBOB_CONTRACTS` | `instruments.RB.max_contracts` |
//! | `MAX_HO_CONTRACTS` | `instruments.HO.max_contracts` |
//!
//! An invalid file, field or variable is an error ([`LimitsError`]) naming the file, the
//! entry, the field and the fix; [`LimitsStore::reload`] keeps the previous limits in force
//! when the new file is invalid.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crude_model::Market;

/// Where a utilisation stands against its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// Below the warning threshold.
    Ok,
    /// At or above the warning threshold, below the critical one.
    Warning,
    /// At or above the critical threshold, at most the limit.
    Critical,
    /// Above the limit (utilisation > 1.0).
    Breach,
}

impl Zone {
    /// The zone of utilisation `u` for thresholds `warning < critical ≤ 1` (a non-finite
    /// utilisation counts as a breach).
    pub fn of(u: f64, warning: f64, critical: f64) -> Zone {
        if !u.is_finite() || u > 1.0 {
            Zone::Breach
        } else if u >= critical {
            Zone::Critical
        } else if u >= warning {
            Zone::Warning
        } else {
            Zone::Ok
        }
    }

    /// `ok`, `warning`, `critical`, `breach`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Zone::Ok => "ok",
            Zone::Warning => "warning",
            Zone::Critical => "critical",
            Zone::Breach => "breach",
        }
    }
}

/// An invalid limits file, field, edit or environment variable.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{file}: entry '{entry}', field '{field}': {reason}")]
pub struct LimitsError {
    /// The file (or `environment`, `(editor)`).
    pub file: String,
    /// The entry (YAML section such as `var` or `instruments.CL`, or the variable name).
    pub entry: String,
    /// The field.
    pub field: String,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl LimitsError {
    fn new(file: &str, entry: &str, field: &str, reason: impl Into<String>) -> Self {
        Self { file: file.to_string(), entry: entry.to_string(), field: field.to_string(), reason: reason.into() }
    }
}

/// Default warning threshold (fraction of the limit).
pub const DEFAULT_WARNING: f64 = 0.75;
/// Default critical threshold (fraction of the limit).
pub const DEFAULT_CRITICAL: f64 = 0.90;

/// A per-limit override of the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverride {
    /// Warning threshold for this limit, in (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<f64>,
    /// Critical threshold for this limit, in (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<f64>,
}

/// Warning and critical thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Default warning threshold, in (0, 1].
    pub warning: f64,
    /// Default critical threshold, in (0, 1], above `warning`.
    pub critical: f64,
    /// Per-limit overrides by utilisation key ([`limit_keys`]).
    #[serde(default)]
    pub overrides: BTreeMap<String, ThresholdOverride>,
}

/// The portfolio VaR limit (parametric, delta-normal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarLimit {
    /// Largest VaR allowed, USD.
    pub limit_usd: f64,
    /// Confidence level of the VaR judged (0.99).
    pub confidence: f64,
    /// Horizon of the VaR judged, days (1).
    pub horizon_days: u32,
}

/// Gross and net exposure limits (delta-equivalent futures notional).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureLimits {
    /// Largest `Σ |exposure|` over contracts, USD.
    pub gross_usd: f64,
    /// Largest `|Σ exposure|`, USD.
    pub net_usd: f64,
}

/// Drawdown limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawdownLimits {
    /// Largest fall of the session's P&L from its intraday peak, USD.
    pub intraday_usd: f64,
    /// Largest day loss, USD (the daily-loss limit).
    pub daily_usd: f64,
    /// Largest week-to-date loss, USD.
    pub weekly_usd: f64,
}

/// Limits and margin of one market.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLimits {
    /// Largest `Σ |net delta-equivalent contracts|` over the market's contract months.
    pub max_contracts: f64,
    /// Largest `Σ |net exposure|` over the market's contract months, USD.
    pub max_notional_usd: f64,
    /// Initial margin per contract, USD (outright; no spread credit).
    pub initial_margin_usd: f64,
}

/// Per-market limits, one entry per market.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLimitsByMarket {
    /// WTI.
    #[serde(rename = "CL")]
    pub cl: InstrumentLimits,
    /// Brent.
    #[serde(rename = "BZ")]
    pub bz: InstrumentLimits,
    /// RBOB gasoline.
    #[serde(rename = "RB")]
    pub rb: InstrumentLimits,
    /// Heating oil.
    #[serde(rename = "HO")]
    pub ho: InstrumentLimits,
}

impl InstrumentLimitsByMarket {
    /// The limits of `market`.
    pub fn get(&self, market: Market) -> &InstrumentLimits {
        match market {
            Market::Wti => &self.cl,
            Market::Brent => &self.bz,
            Market::Rbob => &self.rb,
            Market::HeatingOil => &self.ho,
        }
    }

    /// The limits of `market`, mutable.
    pub fn get_mut(&mut self, market: Market) -> &mut InstrumentLimits {
        match market {
            Market::Wti => &mut self.cl,
            Market::Brent => &mut self.bz,
            Market::Rbob => &mut self.rb,
            Market::HeatingOil => &mut self.ho,
        }
    }
}

/// Concentration limits, as fractions of gross exposure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcentrationLimits {
    /// Largest share of one market (CL, BZ, RB or HO) in the gross exposure, in (0, 1].
    pub single_instrument: f64,
    /// Largest share of the crude group (CL + BZ) in the gross exposure, in (0, 1].
    pub crude_group: f64,
    /// Largest share of one strategy in the strategies' gross exposure, in (0, 1].
    pub single_strategy: f64,
    /// Concentration limits apply only from this gross exposure on, USD (a small book is
    /// always concentrated); 0 applies them always.
    pub min_gross_usd: f64,
}

/// Limits on the option positions' Greeks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GreekLimits {
    /// Largest `|Σ Δ × qty|` of the option positions, in futures contracts.
    pub delta_contracts: f64,
    /// Largest `|1 % cash gamma|` (change of the dollar delta for a 1 % move), USD.
    pub gamma_usd: f64,
    /// Largest `|vega|` per volatility point (0.01), USD.
    pub vega_usd: f64,
}

/// Initial margin limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarginLimit {
    /// Largest total initial margin, USD.
    pub max_usd: f64,
}

/// Stress-loss limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StressLimit {
    /// Largest loss allowed in any stress scenario, USD.
    pub max_loss_usd: f64,
}

/// Every risk limit; mirrors `config/risk_limits.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLimits {
    /// Warning and critical thresholds.
    pub thresholds: Thresholds,
    /// Portfolio VaR.
    pub var: VarLimit,
    /// Gross and net exposure.
    pub exposure: ExposureLimits,
    /// Drawdowns.
    pub drawdown: DrawdownLimits,
    /// Per market: contracts, notional, initial margin.
    pub instruments: InstrumentLimitsByMarket,
    /// Concentration.
    pub concentration: ConcentrationLimits,
    /// Option Greeks.
    pub greeks: GreekLimits,
    /// Initial margin.
    pub margin: MarginLimit,
    /// Stress loss.
    pub stress: StressLimit,
}

impl Default for RiskLimits {
    /// The limits shipped in `config/risk_limits.yaml` (sized for a NAV of about USD 50m).
    fn default() -> Self {
        let inst = |max_contracts: f64, max_notional_usd: f64, initial_margin_usd: f64| InstrumentLimits {
            max_contracts,
            max_notional_usd,
            initial_margin_usd,
        };
        Self {
            thresholds: Thresholds { warning: DEFAULT_WARNING, critical: DEFAULT_CRITICAL, overrides: BTreeMap::new() },
            var: VarLimit { limit_usd: 1_500_000.0, confidence: 0.99, horizon_days: 1 },
            exposure: ExposureLimits { gross_usd: 100_000_000.0, net_usd: 60_000_000.0 },
            drawdown: DrawdownLimits { intraday_usd: 500_000.0, daily_usd: 750_000.0, weekly_usd: 1_500_000.0 },
            instruments: InstrumentLimitsByMarket {
                cl: inst(500.0, 40_000_000.0, 6_000.0),
                bz: inst(300.0, 25_000_000.0, 6_000.0),
                rb: inst(200.0, 20_000_000.0, 7_000.0),
                ho: inst(200.0, 25_000_000.0, 8_000.0),
            },
            concentration: ConcentrationLimits {
                single_instrument: 0.60,
                crude_group: 0.85,
                single_strategy: 0.50,
                min_gross_usd: 10_000_000.0,
            },
            greeks: GreekLimits { delta_contracts: 200.0, gamma_usd: 2_000_000.0, vega_usd: 250_000.0 },
            margin: MarginLimit { max_usd: 5_000_000.0 },
            stress: StressLimit { max_loss_usd: 10_000_000.0 },
        }
    }
}

/// The environment variables [`RiskLimits::with_env`] reads, with the field each sets.
pub const ENV_OVERRIDES: [(&str, &str); 9] = [
    ("MAX_VAR_LIMIT", "var.limit_usd"),
    ("MAX_GROSS_EXPOSURE", "exposure.gross_usd"),
    ("MAX_NET_EXPOSURE", "exposure.net_usd"),
    ("MAX_DRAWDOWN_DAILY", "drawdown.daily_usd"),
    ("MAX_DRAWDOWN_WEEKLY", "drawdown.weekly_usd"),
    ("MAX_WTI_CONTRACTS", "instruments.CL.max_contracts"),
    ("MAX_BRENT_CONTRACTS", "instruments.BZ.max_contracts"),
    ("MAX_RBOB_CONTRACTS", "instruments.RB.max_contracts"),
    ("MAX_HO_CONTRACTS", "instruments.HO.max_contracts"),
];

/// The utilisation keys [`evaluate`] produces (also the keys of threshold overrides):
/// `var`, `gross_exposure`, `net_exposure`, `contracts.CL` … `contracts.HO`,
/// `notional.CL` … `notional.HO`, `concentration.CL` … `concentration.HO`,
/// `concentration.crude_group`, `concentration.strategy`, `greeks.delta`, `greeks.gamma`,
/// `greeks.vega`, `drawdown.intraday`, `drawdown.daily`, `drawdown.weekly`, `margin`,
/// `stress`.
pub fn limit_keys() -> Vec<String> {
    let mut keys = vec!["var".to_string(), "gross_exposure".to_string(), "net_exposure".to_string()];
    for prefix in ["contracts", "notional", "concentration"] {
        keys.extend(Market::ALL.iter().map(|m| format!("{prefix}.{}", m.code())));
    }
    keys.extend(
        [
            "concentration.crude_group",
            "concentration.strategy",
            "greeks.delta",
            "greeks.gamma",
            "greeks.vega",
            "drawdown.intraday",
            "drawdown.daily",
            "drawdown.weekly",
            "margin",
            "stress",
        ]
        .map(String::from),
    );
    keys
}

fn market_field(m: Market) -> &'static str {
    m.code()
}

impl RiskLimits {
    /// Parses and validates limits YAML; `file` names the source in errors.
    ///
    /// # Errors
    /// [`LimitsError`] naming the file, the entry and the field: unknown or missing fields,
    /// wrong types, and everything [`Self::validate`] refuses.
    pub fn from_yaml_str(text: &str, file: &str) -> Result<Self, LimitsError> {
        let limits: RiskLimits = serde_yaml::from_str(text).map_err(|e| yaml_error(file, &e))?;
        limits.validate(file)?;
        Ok(limits)
    }

    /// Reads and validates a limits file.
    ///
    /// # Errors
    /// [`LimitsError`] for an unreadable file (field `(read)`) and as [`Self::from_yaml_str`].
    pub fn load(path: &Path) -> Result<Self, LimitsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            LimitsError::new(&file, "(file)", "(read)", format!("cannot read the file: {e}; check the path"))
        })?;
        Self::from_yaml_str(&text, &file)
    }

    /// Applies the environment overrides of [`ENV_OVERRIDES`] read through `get`
    /// (`|k| std::env::var(k).ok()` in the app), then validates.
    ///
    /// # Errors
    /// [`LimitsError`] with file `environment`, entry the variable and field the limit it
    /// sets, for a value that is not a number or that validation refuses.
    pub fn with_env(mut self, get: impl Fn(&str) -> Option<String>) -> Result<Self, LimitsError> {
        let mut applied = Vec::new();
        for (var, key) in ENV_OVERRIDES {
            let Some(raw) = get(var) else { continue };
            let t = raw.trim();
            if t.is_empty() {
                continue;
            }
            let value: f64 = t.parse().map_err(|_| {
                LimitsError::new(
                    "environment",
                    var,
                    key,
                    format!(
                        "cannot parse '{raw}' as a number; set a plain positive number (such as 2500000) or unset {var}"
                    ),
                )
            })?;
            self.write(key, value).map_err(|reason| LimitsError::new("environment", var, key, reason))?;
            applied.push((var, key));
        }
        if let Err(e) = self.validate("environment") {
            let var = applied
                .iter()
                .find(|(_, key)| key.starts_with(&format!("{}.", e.entry)) && key.ends_with(&e.field))
                .map(|(v, _)| *v)
                .unwrap_or("environment");
            return Err(LimitsError { entry: var.to_string(), ..e });
        }
        Ok(self)
    }

    /// Checks every limit: finite and `> 0` (margins and `min_gross_usd` `≥ 0`),
    /// concentration shares and thresholds in (0, 1], warning below critical, VaR
    /// confidence in (0.5, 1), horizon at least 1 day, override keys known.
    ///
    /// # Errors
    /// [`LimitsError`] naming `file`, the entry, the field and the fix.
    pub fn validate(&self, file: &str) -> Result<(), LimitsError> {
        let positive = |entry: &str, field: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(LimitsError::new(
                    file,
                    entry,
                    field,
                    format!("is {v} but a limit must be a finite number > 0; enter a positive amount"),
                ))
            }
        };
        let non_negative = |entry: &str, field: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(LimitsError::new(file, entry, field, format!("is {v} but must be a finite number ≥ 0")))
            }
        };
        let fraction = |entry: &str, field: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(LimitsError::new(
                    file,
                    entry,
                    field,
                    format!("is {v} but must be a fraction in (0, 1], such as 0.75 for 75 %"),
                ))
            }
        };
        let t = &self.thresholds;
        fraction("thresholds", "warning", t.warning)?;
        fraction("thresholds", "critical", t.critical)?;
        if t.warning >= t.critical {
            return Err(LimitsError::new(
                file,
                "thresholds",
                "warning",
                format!(
                    "warning {} must be below critical {}; for example warning 0.75 and critical 0.90",
                    t.warning, t.critical
                ),
            ));
        }
        let keys = limit_keys();
        for (key, o) in &t.overrides {
            let entry = format!("thresholds.overrides.{key}");
            if !keys.contains(key) {
                return Err(LimitsError::new(
                    file,
                    &entry,
                    key,
                    format!("'{key}' is not a limit key; use one of: {}", keys.join(", ")),
                ));
            }
            if let Some(w) = o.warning {
                fraction(&entry, "warning", w)?;
            }
            if let Some(c) = o.critical {
                fraction(&entry, "critical", c)?;
            }
            let (w, c) = self.thresholds_for(key);
            if w >= c {
                return Err(LimitsError::new(
                    file,
                    &entry,
                    if o.warning.is_some() { "warning" } else { "critical" },
                    format!("warning {w} must be below critical {c} for '{key}'; lower warning or raise critical"),
                ));
            }
        }
        positive("var", "limit_usd", self.var.limit_usd)?;
        if !(self.var.confidence > 0.5 && self.var.confidence < 1.0) {
            return Err(LimitsError::new(
                file,
                "var",
                "confidence",
                format!("is {} but must lie strictly between 0.5 and 1, such as 0.99", self.var.confidence),
            ));
        }
        if self.var.horizon_days == 0 {
            return Err(LimitsError::new(file, "var", "horizon_days", "is 0; use a horizon of at least 1 day"));
        }
        positive("exposure", "gross_usd", self.exposure.gross_usd)?;
        positive("exposure", "net_usd", self.exposure.net_usd)?;
        positive("drawdown", "intraday_usd", self.drawdown.intraday_usd)?;
        positive("drawdown", "daily_usd", self.drawdown.daily_usd)?;
        positive("drawdown", "weekly_usd", self.drawdown.weekly_usd)?;
        for m in Market::ALL {
            let entry = format!("instruments.{}", market_field(m));
            let l = self.instruments.get(m);
            positive(&entry, "max_contracts", l.max_contracts)?;
            if l.max_contracts.fract() != 0.0 {
                return Err(LimitsError::new(
                    file,
                    &entry,
                    "max_contracts",
                    format!(
                        "is {} but contracts are whole numbers; enter e.g. {}",
                        l.max_contracts,
                        l.max_contracts.floor().max(1.0)
                    ),
                ));
            }
            positive(&entry, "max_notional_usd", l.max_notional_usd)?;
            non_negative(&entry, "initial_margin_usd", l.initial_margin_usd)?;
        }
        let c = &self.concentration;
        fraction("concentration", "single_instrument", c.single_instrument)?;
        fraction("concentration", "crude_group", c.crude_group)?;
        fraction("concentration", "single_strategy", c.single_strategy)?;
        non_negative("concentration", "min_gross_usd", c.min_gross_usd)?;
        positive("greeks", "delta_contracts", self.greeks.delta_contracts)?;
        positive("greeks", "gamma_usd", self.greeks.gamma_usd)?;
        positive("greeks", "vega_usd", self.greeks.vega_usd)?;
        positive("margin", "max_usd", self.margin.max_usd)?;
        positive("stress", "max_loss_usd", self.stress.max_loss_usd)?;
        Ok(())
    }

    /// The warning and critical thresholds of limit `key` (its override, else the defaults).
    pub fn thresholds_for(&self, key: &str) -> (f64, f64) {
        let t = &self.thresholds;
        match t.overrides.get(key) {
            Some(o) => (o.warning.unwrap_or(t.warning), o.critical.unwrap_or(t.critical)),
            None => (t.warning, t.critical),
        }
    }

    /// The documented YAML of these limits (the layout of `config/risk_limits.yaml`);
    /// [`Self::from_yaml_str`] reads it back unchanged.
    pub fn to_yaml_string(&self) -> String {
        let mut s = String::new();
        let t = &self.thresholds;
        s.push_str(YAML_HEADER);
        s.push_str("\n# Zones: ok below `warning`, warning from `warning`, critical from `critical`, breach\n");
        s.push_str("# above 1.0 (over the limit). Fractions of the limit, in (0, 1], warning < critical.\n");
        s.push_str("thresholds:\n");
        s.push_str(&format!("  warning: {}\n  critical: {}\n", t.warning, t.critical));
        s.push_str("  # Per-limit overrides, keyed by utilisation key: var, gross_exposure, net_exposure,\n");
        s.push_str("  # contracts.CL|BZ|RB|HO, notional.CL|BZ|RB|HO, concentration.CL|BZ|RB|HO,\n");
        s.push_str("  # concentration.crude_group, concentration.strategy, greeks.delta, greeks.gamma,\n");
        s.push_str("  # greeks.vega, drawdown.intraday, drawdown.daily, drawdown.weekly, margin, stress.\n");
        s.push_str("  # Example:  var: { warning: 0.80, critical: 0.95 }\n");
        if t.overrides.is_empty() {
            s.push_str("  overrides: {}\n");
        } else {
            s.push_str("  overrides:\n");
            for (k, o) in &t.overrides {
                let mut parts = Vec::new();
                if let Some(w) = o.warning {
                    parts.push(format!("warning: {w}"));
                }
                if let Some(c) = o.critical {
                    parts.push(format!("critical: {c}"));
                }
                s.push_str(&format!("    {k}: {{ {} }}\n", parts.join(", ")));
            }
        }
        s.push_str("\n# Portfolio value at risk, judged on the PARAMETRIC (delta-normal) VaR: the same\n");
        s.push_str("# figure the pre-trade check computes. Env: MAX_VAR_LIMIT.\n");
        s.push_str("var:\n");
        s.push_str(&field_line("limit_usd", self.var.limit_usd, "largest VaR, USD"));
        s.push_str(&field_line("confidence", self.var.confidence, "confidence level, in (0.5, 1)"));
        s.push_str(&field_line("horizon_days", self.var.horizon_days, "horizon, days (sqrt-of-time scaling)"));
        s.push_str("\n# Delta-equivalent futures notional (options count as delta x contracts), netted per\n");
        s.push_str("# contract month. Env: MAX_GROSS_EXPOSURE, MAX_NET_EXPOSURE.\n");
        s.push_str("exposure:\n");
        s.push_str(&field_line("gross_usd", self.exposure.gross_usd, "largest sum of |exposure|, USD"));
        s.push_str(&field_line("net_usd", self.exposure.net_usd, "largest |sum of exposure|, USD"));
        s.push_str("\n# Drawdowns. Env: MAX_DRAWDOWN_DAILY, MAX_DRAWDOWN_WEEKLY.\n");
        s.push_str("drawdown:\n");
        s.push_str(&field_line(
            "intraday_usd",
            self.drawdown.intraday_usd,
            "largest fall from the session's P&L peak, USD",
        ));
        s.push_str(&field_line("daily_usd", self.drawdown.daily_usd, "largest day loss, USD (the daily-loss limit)"));
        s.push_str(&field_line("weekly_usd", self.drawdown.weekly_usd, "largest week-to-date loss, USD"));
        s.push_str("\n# Per market: contracts (sum over contract months of |net delta-equivalent contracts|),\n");
        s.push_str("# notional (sum of |net exposure|, USD) and outright initial margin per contract (USD).\n");
        s.push_str("# Env: MAX_WTI_CONTRACTS, MAX_BRENT_CONTRACTS, MAX_RBOB_CONTRACTS, MAX_HO_CONTRACTS.\n");
        s.push_str("instruments:\n");
        for m in Market::ALL {
            let l = self.instruments.get(m);
            s.push_str(&format!(
                "  {}: {{ max_contracts: {}, max_notional_usd: {}, initial_margin_usd: {} }}   # {}\n",
                market_field(m),
                l.max_contracts,
                l.max_notional_usd,
                l.initial_margin_usd,
                m.name()
            ));
        }
        let c = &self.concentration;
        s.push_str("\n# Concentration, as fractions of gross exposure, in (0, 1].\n");
        s.push_str("concentration:\n");
        s.push_str(&field_line(
            "single_instrument",
            c.single_instrument,
            "largest share of one market (CL, BZ, RB or HO)",
        ));
        s.push_str(&field_line("crude_group", c.crude_group, "largest share of CL + BZ together"));
        s.push_str(&field_line(
            "single_strategy",
            c.single_strategy,
            "largest share of one strategy (of the strategies' gross)",
        ));
        s.push_str(&field_line(
            "min_gross_usd",
            c.min_gross_usd,
            "concentration applies from this gross exposure on, USD",
        ));
        s.push_str("\n# Option positions' Greeks (Black-76, scaled by quantity and multiplier).\n");
        s.push_str("greeks:\n");
        s.push_str(&field_line(
            "delta_contracts",
            self.greeks.delta_contracts,
            "largest |sum of delta x qty| of the options, futures contracts",
        ));
        s.push_str(&field_line(
            "gamma_usd",
            self.greeks.gamma_usd,
            "largest |1 % cash gamma|: change of dollar delta for a 1 % move, USD",
        ));
        s.push_str(&field_line("vega_usd", self.greeks.vega_usd, "largest |vega| per volatility point (0.01), USD"));
        s.push_str(
            "\n# Total initial margin (sum of |contracts| x initial_margin_usd; options at |delta| x margin).\n",
        );
        s.push_str("margin:\n");
        s.push_str(&format!("  max_usd: {}\n", self.margin.max_usd));
        s.push_str("\n# Largest loss allowed in any configured stress scenario (the built-in historical ones\n");
        s.push_str("# and config/stress_scenarios.yaml; the panel's sliders are a what-if, not judged), USD.\n");
        s.push_str("stress:\n");
        s.push_str(&format!("  max_loss_usd: {}\n", self.stress.max_loss_usd));
        s
    }

    /// Validates, then writes the documented YAML atomically (a temporary file in the same
    /// directory, then a rename).
    ///
    /// # Errors
    /// Validation errors as [`Self::validate`]; field `(write)` when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), LimitsError> {
        let file = path.display().to_string();
        self.validate(&file)?;
        let write_err = |e: std::io::Error| {
            LimitsError::new(
                &file,
                "(file)",
                "(write)",
                format!("cannot write the file: {e}; check the directory and its permissions"),
            )
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "risk_limits.yaml".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.to_yaml_string().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(write_err(e));
        }
        Ok(())
    }

    /// Initial margin per contract of `market`, USD.
    pub fn initial_margin_usd(&self, market: Market) -> f64 {
        self.instruments.get(market).initial_margin_usd
    }

    /// The daily-loss limit (`drawdown.daily_usd`), USD.
    pub fn max_daily_loss_usd(&self) -> f64 {
        self.drawdown.daily_usd
    }

    /// Every editable number as `(key, value)`, keys as YAML paths (`var.limit_usd`,
    /// `instruments.CL.max_contracts`, `thresholds.warning`, `thresholds.overrides.var.warning`).
    pub fn editable(&self) -> Vec<(String, f64)> {
        let mut copy = self.clone();
        copy.slots().into_iter().map(|(k, v)| (k, *v)).collect()
    }

    /// Sets one editable number (any key of [`Self::editable`], or
    /// `thresholds.overrides.<limit key>.warning|critical` to add an override) and
    /// validates; on error nothing changes.
    ///
    /// # Errors
    /// [`LimitsError`] with file `(editor)` for an unknown key or a value validation refuses.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), LimitsError> {
        let mut next = self.clone();
        next.write(key, value).map_err(|reason| LimitsError::new("(editor)", section(key), key, reason))?;
        next.validate("(editor)")?;
        *self = next;
        Ok(())
    }

    /// Writes `value` into the field at `key` without validating.
    fn write(&mut self, key: &str, value: f64) -> Result<(), String> {
        if let Some(rest) = key.strip_prefix("thresholds.overrides.") {
            let Some((limit, which)) = rest.rsplit_once('.') else {
                return Err(format!("'{key}' should end in .warning or .critical"));
            };
            if !limit_keys().iter().any(|k| k == limit) {
                return Err(format!("'{limit}' is not a limit key; use one of: {}", limit_keys().join(", ")));
            }
            let o = self.thresholds.overrides.entry(limit.to_string()).or_default();
            match which {
                "warning" => o.warning = Some(value),
                "critical" => o.critical = Some(value),
                _ => return Err(format!("'{key}' should end in .warning or .critical")),
            }
            return Ok(());
        }
        if key == "var.horizon_days" {
            if !(value.is_finite() && value >= 1.0 && value.fract() == 0.0 && value <= 250.0) {
                return Err(format!("is {value} but must be a whole number of days from 1 to 250"));
            }
            self.var.horizon_days = value as u32;
            return Ok(());
        }
        let mut slots = self.slots();
        match slots.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => {
                **slot = value;
                Ok(())
            }
            None => Err(format!(
                "'{key}' is not an editable limit; use one of: {}",
                slots.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// Every editable `f64` field with its key.
    fn slots(&mut self) -> Vec<(String, &mut f64)> {
        let RiskLimits { thresholds, var, exposure, drawdown, instruments, concentration, greeks, margin, stress } =
            self;
        let mut v: Vec<(String, &mut f64)> = vec![
            ("thresholds.warning".into(), &mut thresholds.warning),
            ("thresholds.critical".into(), &mut thresholds.critical),
        ];
        for (k, o) in thresholds.overrides.iter_mut() {
            if let Some(w) = o.warning.as_mut() {
                v.push((format!("thresholds.overrides.{k}.warning"), w));
            }
            if let Some(c) = o.critical.as_mut() {
                v.push((format!("thresholds.overrides.{k}.critical"), c));
            }
        }
        v.push(("var.limit_usd".into(), &mut var.limit_usd));
        v.push(("var.confidence".into(), &mut var.confidence));
        v.push(("exposure.gross_usd".into(), &mut exposure.gross_usd));
        v.push(("exposure.net_usd".into(), &mut exposure.net_usd));
        v.push(("drawdown.intraday_usd".into(), &mut drawdown.intraday_usd));
        v.push(("drawdown.daily_usd".into(), &mut drawdown.daily_usd));
        v.push(("drawdown.weekly_usd".into(), &mut drawdown.weekly_usd));
        let InstrumentLimitsByMarket { cl, bz, rb, ho } = instruments;
        for (code, l) in [("CL", cl), ("BZ", bz), ("RB", rb), ("HO", ho)] {
            v.push((format!("instruments.{code}.max_contracts"), &mut l.max_contracts));
            v.push((format!("instruments.{code}.max_notional_usd"), &mut l.max_notional_usd));
            v.push((format!("instruments.{code}.initial_margin_usd"), &mut l.initial_margin_usd));
        }
        v.push(("concentration.single_instrument".into(), &mut concentration.single_instrument));
        v.push(("concentration.crude_group".into(), &mut concentration.crude_group));
        v.push(("concentration.single_strategy".into(), &mut concentration.single_strategy));
        v.push(("concentration.min_gross_usd".into(), &mut concentration.min_gross_usd));
        v.push(("greeks.delta_contracts".into(), &mut greeks.delta_contracts));
        v.push(("greeks.gamma_usd".into(), &mut greeks.gamma_usd));
        v.push(("greeks.vega_usd".into(), &mut greeks.vega_usd));
        v.push(("margin.max_usd".into(), &mut margin.max_usd));
        v.push(("stress.max_loss_usd".into(), &mut stress.max_loss_usd));
        v
    }
}

/// `  key: value   # comment` with the comments aligned.
fn field_line(key: &str, value: impl fmt::Display, comment: &str) -> String {
    format!("{:<30}# {comment}\n", format!("  {key}: {value}"))
}

/// The section of a dotted key (`instruments.CL` of `instruments.CL.max_contracts`).
fn section(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(s, _)| s)
}

const YAML_HEADER: &str = "\
# Crude risk limits, read by the risk engine (Risk panel, pre-trade check, `crude risk`).
#
# Every limit is a positive number; utilisation = value / limit (1.0 = at the limit).
# The file is validated on load: unknown fields, missing fields, non-finite or <= 0
# limits, thresholds outside (0, 1] and warning >= critical are rejected with the entry and
# field named, and the previous limits stay in force. Environment variables override the
# file (see .env.example): MAX_VAR_LIMIT, MAX_GROSS_EXPOSURE, MAX_NET_EXPOSURE,
# MAX_DRAWDOWN_DAILY, MAX_DRAWDOWN_WEEKLY, MAX_WTI_CONTRACTS, MAX_BRENT_CONTRACTS,
# MAX_RBOB_CONTRACTS, MAX_HO_CONTRACTS. Edits saved from the Risk panel rewrite this file
# in this same documented layout.
";

/// Maps a serde_yaml error to a [`LimitsError`]: serde_yaml prefixes errors inside the
/// document with a path such as `var.limit_usd: invalid type …` or
/// `instruments.CL: unknown field …`.
fn yaml_error(file: &str, e: &serde_yaml::Error) -> LimitsError {
    let msg = e.to_string();
    let (path, detail) = match msg.split_once(": ") {
        Some((p, d)) if !p.contains(' ') && !p.is_empty() => (p.to_string(), d.to_string()),
        _ => (String::new(), msg.clone()),
    };
    let named = backticked(&detail);
    let is_field_message = detail.starts_with("unknown field") || detail.starts_with("missing field");
    let (entry, field) = if is_field_message {
        (if path.is_empty() { "(top level)".to_string() } else { path.clone() }, named.unwrap_or_default())
    } else if let Some((entry, field)) = path.rsplit_once('.') {
        (entry.to_string(), field.to_string())
    } else if !path.is_empty() {
        ("(top level)".to_string(), path.clone())
    } else {
        ("(document)".to_string(), "(syntax)".to_string())
    };
    let fix = if detail.starts_with("unknown field") {
        "; remove the field or correct its spelling (the documented fields are in config/risk_limits.yaml)"
    } else if detail.starts_with("missing field") {
        "; add the field (see the documented layout of config/risk_limits.yaml)"
    } else if detail.starts_with("invalid type") {
        "; write a plain number such as 1500000 (no thousands separators or units)"
    } else {
        "; fix the YAML at the position given"
    };
    LimitsError::new(file, &entry, &field, format!("{detail}{fix}"))
}

/// The first back-quoted word of a serde message.
fn backticked(s: &str) -> Option<String> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(s[start..start + len].to_string())
}

/// A holder of the limits in force: [`Self::reload`] swaps in a new file only when it is
/// valid, and re-applies the environment overrides captured when the store was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsStore {
    limits: RiskLimits,
    env: Vec<(String, String)>,
}

impl LimitsStore {
    /// A store holding `limits` with no environment overrides.
    pub fn new(limits: RiskLimits) -> Self {
        Self { limits, env: Vec::new() }
    }

    /// Loads `path`, captures the override variables from `get` and applies them.
    ///
    /// # Errors
    /// As [`RiskLimits::load`] and [`RiskLimits::with_env`].
    pub fn open(path: &Path, get: impl Fn(&str) -> Option<String>) -> Result<Self, LimitsError> {
        let env: Vec<(String, String)> =
            ENV_OVERRIDES.iter().filter_map(|(var, _)| get(var).map(|v| (var.to_string(), v))).collect();
        let store = Self { limits: RiskLimits::default(), env };
        let limits = store.apply_env(RiskLimits::load(path)?)?;
        Ok(Self { limits, ..store })
    }

    fn apply_env(&self, limits: RiskLimits) -> Result<RiskLimits, LimitsError> {
        limits.with_env(|k| self.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    /// The limits in force.
    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// Reads `path` again; when it is invalid the previous limits stay in force and the
    /// error is returned.
    ///
    /// # Errors
    /// As [`RiskLimits::load`] and [`RiskLimits::with_env`].
    pub fn reload(&mut self, path: &Path) -> Result<(), LimitsError> {
        let next = self.apply_env(RiskLimits::load(path)?)?;
        self.limits = next;
        Ok(())
    }

    /// Replaces the limits (an edit from the panel) after validating them.
    ///
    /// # Errors
    /// As [`RiskLimits::validate`] with file `(editor)`.
    pub fn replace(&mut self, limits: RiskLimits) -> Result<(), LimitsError> {
        limits.validate("(editor)")?;
        self.limits = limits;
        Ok(())
    }
}

/// One limit's use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitUtilisation {
    /// Stable key ([`limit_keys`]).
    pub key: String,
    /// Human label, with what the figure is.
    pub label: String,
    /// The figure judged (USD, contracts or a fraction, as the label says).
    pub value: f64,
    /// The limit, in the same unit.
    pub limit: f64,
    /// `value / limit` (0 where a limit does not apply yet, as the label says).
    pub utilisation: f64,
    /// The zone.
    pub zone: Zone,
    /// Warning threshold in force.
    pub warning: f64,
    /// Critical threshold in force.
    pub critical: f64,
}

/// The figures [`evaluate`] judges. `None` skips a limit the caller cannot compute (the
/// pre-trade check has no option Greeks, no weekly P&L).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LimitFigures {
    /// VaR at the limit's confidence and horizon (parametric), USD.
    pub var_usd: f64,
    /// Delta-equivalent exposure per market, netted per contract month: `Σ |net|`, USD.
    pub notional_usd: [f64; 4],
    /// Signed delta-equivalent exposure of the whole book, USD.
    pub net_exposure_usd: f64,
    /// `Σ |net delta-equivalent contracts|` per contract month, per market.
    pub contracts: [f64; 4],
    /// Gross exposure per strategy (netted per contract within the strategy), USD.
    pub strategy_gross_usd: Vec<(String, f64)>,
    /// `Σ Δ × qty` of the option positions, contracts.
    pub option_delta_contracts: Option<f64>,
    /// 1 % cash gamma of the book, USD.
    pub gamma_usd: Option<f64>,
    /// Vega per volatility point, USD.
    pub vega_usd: Option<f64>,
    /// Intraday drawdown from the peak, USD.
    pub drawdown_intraday_usd: Option<f64>,
    /// Day loss, USD.
    pub drawdown_daily_usd: Option<f64>,
    /// Week loss, USD.
    pub drawdown_weekly_usd: Option<f64>,
    /// Initial margin, USD.
    pub margin_usd: f64,
    /// Worst stress loss (positive = loss) and the scenario's name.
    pub stress_loss: Option<(String, f64)>,
}

impl LimitFigures {
    /// Gross exposure `Σ_m notional_usd[m]`, USD.
    pub fn gross_exposure_usd(&self) -> f64 {
        self.notional_usd.iter().sum()
    }
}

fn usd(x: f64) -> String {
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}${out}", if neg { "-" } else { "" })
}

/// A limit or figure in the unit of limit `key`: contracts for `contracts.*` and
/// `greeks.delta`, a percentage for `concentration.*`, USD otherwise.
pub fn format_limit_value(key: &str, v: f64) -> String {
    if key.starts_with("contracts.") || key == "greeks.delta" {
        format!("{v:.0} contracts")
    } else if key.starts_with("concentration.") {
        format!("{:.0}%", v * 100.0)
    } else {
        usd(v)
    }
}

/// Judges `figures` against `limits`: one [`LimitUtilisation`] per limit (see
/// [`limit_keys`]; limits whose figure is `None` are left out), with zones.
pub fn evaluate(limits: &RiskLimits, figures: &LimitFigures) -> Vec<LimitUtilisation> {
    let mut out = Vec::with_capacity(32);
    let mut push = |key: String, label: String, value: f64, limit: f64, applies: bool| {
        let (warning, critical) = limits.thresholds_for(&key);
        let utilisation = if applies { value / limit } else { 0.0 };
        out.push(LimitUtilisation {
            zone: Zone::of(utilisation, warning, critical),
            key,
            label,
            value,
            limit,
            utilisation,
            warning,
            critical,
        });
    };
    let v = &limits.var;
    push(
        "var".into(),
        format!("VaR {}-day {:.0}% (parametric) {}", v.horizon_days, v.confidence * 100.0, usd(figures.var_usd)),
        figures.var_usd,
        v.limit_usd,
        true,
    );
    let gross = figures.gross_exposure_usd();
    push("gross_exposure".into(), format!("Gross exposure {}", usd(gross)), gross, limits.exposure.gross_usd, true);
    let net = figures.net_exposure_usd.abs();
    push(
        "net_exposure".into(),
        format!("Net exposure {}", usd(figures.net_exposure_usd)),
        net,
        limits.exposure.net_usd,
        true,
    );
    for m in Market::ALL {
        let l = limits.instruments.get(m);
        let c = figures.contracts[m.index()];
        push(format!("contracts.{}", m.code()), format!("{} contracts {c:.1}", m.code()), c, l.max_contracts, true);
    }
    for m in Market::ALL {
        let l = limits.instruments.get(m);
        let n = figures.notional_usd[m.index()];
        push(
            format!("notional.{}", m.code()),
            format!("{} notional {}", m.code(), usd(n)),
            n,
            l.max_notional_usd,
            true,
        );
    }
    let conc = &limits.concentration;
    let applies = gross > 0.0 && gross >= conc.min_gross_usd;
    let note = if applies { String::new() } else { format!(" (applies from {} gross)", usd(conc.min_gross_usd)) };
    let share = |x: f64| if gross > 0.0 { x / gross } else { 0.0 };
    for m in Market::ALL {
        let s = share(figures.notional_usd[m.index()]);
        push(
            format!("concentration.{}", m.code()),
            format!("{} share of gross {:.1}%{note}", m.code(), s * 100.0),
            s,
            conc.single_instrument,
            applies,
        );
    }
    let crude = share(figures.notional_usd[Market::Wti.index()] + figures.notional_usd[Market::Brent.index()]);
    push(
        "concentration.crude_group".into(),
        format!("Crude group (CL+BZ) share of gross {:.1}%{note}", crude * 100.0),
        crude,
        conc.crude_group,
        applies,
    );
    if !figures.strategy_gross_usd.is_empty() {
        let total: f64 = figures.strategy_gross_usd.iter().map(|(_, g)| g).sum();
        let (name, top) = figures
            .strategy_gross_usd
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, g)| (n.clone(), *g))
            .unwrap_or_default();
        let s = if total > 0.0 { top / total } else { 0.0 };
        push(
            "concentration.strategy".into(),
            format!("Largest strategy '{name}' share {:.1}%{note}", s * 100.0),
            s,
            conc.single_strategy,
            applies,
        );
    }
    if let Some(d) = figures.option_delta_contracts {
        push(
            "greeks.delta".into(),
            format!("Options |delta| {:.1} contracts", d.abs()),
            d.abs(),
            limits.greeks.delta_contracts,
            true,
        );
    }
    if let Some(g) = figures.gamma_usd {
        push(
            "greeks.gamma".into(),
            format!("|Gamma| (1% cash) {}", usd(g.abs())),
            g.abs(),
            limits.greeks.gamma_usd,
            true,
        );
    }
    if let Some(v) = figures.vega_usd {
        push(
            "greeks.vega".into(),
            format!("|Vega| per vol point {}", usd(v.abs())),
            v.abs(),
            limits.greeks.vega_usd,
            true,
        );
    }
    if let Some(d) = figures.drawdown_intraday_usd {
        push(
            "drawdown.intraday".into(),
            format!("Intraday drawdown {}", usd(d)),
            d,
            limits.drawdown.intraday_usd,
            true,
        );
    }
    if let Some(d) = figures.drawdown_daily_usd {
        push("drawdown.daily".into(), format!("Daily loss {}", usd(d)), d, limits.drawdown.daily_usd, true);
    }
    if let Some(d) = figures.drawdown_weekly_usd {
        push("drawdown.weekly".into(), format!("Weekly loss {}", usd(d)), d, limits.drawdown.weekly_usd, true);
    }
    push(
        "margin".into(),
        format!("Initial margin {}", usd(figures.margin_usd)),
        figures.margin_usd,
        limits.margin.max_usd,
        true,
    );
    if let Some((name, loss)) = &figures.stress_loss {
        let loss = loss.max(0.0);
        push(
            "stress".into(),
            format!("Worst stress loss {} ({name})", usd(loss)),
            loss,
            limits.stress.max_loss_usd,
            true,
        );
    }
    out
}

impl fmt::Display for LimitUtilisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:.0}% of the limit ({})", self.label, self.utilisation * 100.0, self.zone.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/risk_limits.yaml")
    }

    fn shipped_text() -> String {
        std::fs::read_to_string(shipped_path()).unwrap()
    }

    fn err(text: &str) -> LimitsError {
        RiskLimits::from_yaml_str(text, "limits.yaml").unwrap_err()
    }

    #[test]
    fn the_shipped_file_is_valid_and_equals_the_defaults() {
        let l = RiskLimits::load(&shipped_path()).unwrap();
        assert_eq!(l, RiskLimits::default());
        assert_eq!(l.initial_margin_usd(Market::HeatingOil), 8_000.0);
        assert_eq!(l.max_daily_loss_usd(), 750_000.0);
    }

    #[test]
    fn yaml_round_trips_with_overrides() {
        let mut l = RiskLimits::default();
        l.set("thresholds.overrides.var.warning", 0.8).unwrap();
        l.set("thresholds.overrides.var.critical", 0.95).unwrap();
        l.set("thresholds.overrides.margin.critical", 0.97).unwrap();
        let text = l.to_yaml_string();
        assert_eq!(RiskLimits::from_yaml_str(&text, "x").unwrap(), l);
        assert_eq!(l.thresholds_for("var"), (0.8, 0.95));
        assert_eq!(l.thresholds_for("margin"), (0.75, 0.97));
        assert_eq!(l.thresholds_for("gross_exposure"), (0.75, 0.90));
    }

    #[test]
    fn unknown_field_is_named_with_its_entry() {
        let text = shipped_text().replace("  limit_usd:", "  limt_usd:");
        let e = err(&text);
        assert_eq!((e.file.as_str(), e.entry.as_str(), e.field.as_str()), ("limits.yaml", "var", "limt_usd"), "{e}");
        assert!(e.reason.contains("unknown field"), "{e}");
        let e = err(&format!("{}\nextra_section: 1\n", shipped_text()));
        assert_eq!((e.entry.as_str(), e.field.as_str()), ("(top level)", "extra_section"), "{e}");
        let text = shipped_text().replace("max_contracts: 500,", "max_contract: 500,");
        let e = err(&text);
        assert_eq!((e.entry.as_str(), e.field.as_str()), ("instruments.CL", "max_contract"), "{e}");
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let text = shipped_text().replace("  net_usd:", "  # net_usd:");
        let e = err(&text);
        assert_eq!((e.entry.as_str(), e.field.as_str()), ("exposure", "net_usd"), "{e}");
        assert!(e.reason.contains("missing field"), "{e}");
        let text = shipped_text().replace("  daily_usd: 750000", "  daily_usd: lots");
        let e = err(&text);
        assert_eq!((e.entry.as_str(), e.field.as_str()), ("drawdown", "daily_usd"), "{e}");
        assert!(e.reason.contains("plain number"), "{e}");
    }

    #[test]
    fn bad_values_are_named_with_the_fix() {
        let cases: [(&str, &str, &str, &str); 8] = [
            ("  limit_usd: 1500000", "  limit_usd: -5", "var", "limit_usd"),
            ("  limit_usd: 1500000", "  limit_usd: .nan", "var", "limit_usd"),
            ("  gross_usd: 100000000", "  gross_usd: 0", "exposure", "gross_usd"),
            ("  warning: 0.75", "  warning: 0.95", "thresholds", "warning"),
            ("  critical: 0.9", "  critical: 1.5", "thresholds", "critical"),
            ("  single_instrument: 0.6", "  single_instrument: 1.2", "concentration", "single_instrument"),
            ("max_contracts: 300,", "max_contracts: 300.5,", "instruments.BZ", "max_contracts"),
            ("  vega_usd: 250000", "  vega_usd: .inf", "greeks", "vega_usd"),
        ];
        for (from, to, entry, field) in cases {
            let text = shipped_text();
            assert!(text.contains(from), "fixture text lacks {from:?}");
            let e = err(&text.replacen(from, to, 1));
            assert_eq!((e.entry.as_str(), e.field.as_str()), (entry, field), "{from} -> {to}: {e}");
            let shown = e.to_string();
            assert!(shown.contains("limits.yaml") && shown.contains(entry) && shown.contains(field), "{shown}");
        }
        let text = shipped_text().replace("  overrides: {}", "  overrides:\n    var: { warning: 0.9, critical: 0.8 }");
        let e = err(&text);
        assert_eq!(e.entry, "thresholds.overrides.var", "{e}");
        let text = shipped_text().replace("  overrides: {}", "  overrides:\n    vat: { warning: 0.5 }");
        let e = err(&text);
        assert_eq!((e.entry.as_str(), e.field.as_str()), ("thresholds.overrides.vat", "vat"), "{e}");
        assert!(e.reason.contains("gross_exposure"), "{e}");
        let text = shipped_text().replace("  overrides: {}", "  overrides:\n    var: { warnin: 0.5 }");
        let e = err(&text);
        assert_eq!(e.field, "warnin", "{e}");
    }

    #[test]
    fn env_overrides_apply_and_name_the_variable() {
        let env = |k: &str| match k {
            "MAX_VAR_LIMIT" => Some("2500000".to_string()),
            "MAX_WTI_CONTRACTS" => Some(" 750 ".to_string()),
            "MAX_DRAWDOWN_WEEKLY" => Some(String::new()),
            _ => None,
        };
        let l = RiskLimits::default().with_env(env).unwrap();
        assert_eq!(l.var.limit_usd, 2_500_000.0);
        assert_eq!(l.instruments.cl.max_contracts, 750.0);
        assert_eq!(l.drawdown.weekly_usd, 1_500_000.0);
        let e =
            RiskLimits::default().with_env(|k| (k == "MAX_GROSS_EXPOSURE").then(|| "1e8x".to_string())).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.entry.as_str(), e.field.as_str()),
            ("environment", "MAX_GROSS_EXPOSURE", "exposure.gross_usd")
        );
        assert!(e.to_string().contains("MAX_GROSS_EXPOSURE") && e.reason.contains("1e8x"), "{e}");
        let e = RiskLimits::default().with_env(|k| (k == "MAX_HO_CONTRACTS").then(|| "-3".to_string())).unwrap_err();
        assert_eq!((e.entry.as_str(), e.field.as_str()), ("MAX_HO_CONTRACTS", "max_contracts"), "{e}");
    }

    #[test]
    fn reload_keeps_the_previous_limits_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("risk_limits.yaml");
        std::fs::write(&path, shipped_text()).unwrap();
        let mut store = LimitsStore::open(&path, |k| (k == "MAX_BRENT_CONTRACTS").then(|| "123".into())).unwrap();
        assert_eq!(store.limits().instruments.bz.max_contracts, 123.0);
        std::fs::write(&path, shipped_text().replace("  limit_usd: 1500000", "  limit_usd: 2000000")).unwrap();
        store.reload(&path).unwrap();
        assert_eq!(store.limits().var.limit_usd, 2_000_000.0);
        assert_eq!(store.limits().instruments.bz.max_contracts, 123.0, "env overrides re-applied");
        let before = store.limits().clone();
        std::fs::write(&path, shipped_text().replace("  limit_usd: 1500000", "  limit_usd: -1")).unwrap();
        let e = store.reload(&path).unwrap_err();
        assert_eq!(e.field, "limit_usd");
        assert_eq!(store.limits(), &before);
        let e = store.reload(&dir.path().join("missing.yaml")).unwrap_err();
        assert_eq!(e.field, "(read)");
        assert_eq!(store.limits(), &before);
        let mut bad = before.clone();
        bad.margin.max_usd = 0.0;
        assert!(store.replace(bad).is_err());
        assert_eq!(store.limits(), &before);
    }

    #[test]
    fn editable_set_and_save() {
        let mut l = RiskLimits::default();
        let keys: Vec<String> = l.editable().into_iter().map(|(k, _)| k).collect();
        assert!(keys.contains(&"instruments.RB.max_notional_usd".to_string()));
        assert!(keys.contains(&"var.limit_usd".to_string()));
        l.set("instruments.RB.max_notional_usd", 12_345_678.0).unwrap();
        assert_eq!(l.instruments.rb.max_notional_usd, 12_345_678.0);
        let before = l.clone();
        let e = l.set("exposure.gross_usd", -1.0).unwrap_err();
        assert_eq!((e.file.as_str(), e.entry.as_str(), e.field.as_str()), ("(editor)", "exposure", "gross_usd"));
        let e = l.set("exposure.gros_usd", 1.0).unwrap_err();
        assert!(e.reason.contains("exposure.gross_usd"), "{e}");
        assert_eq!(l, before);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("limits.yaml");
        l.save(&path).unwrap();
        assert_eq!(RiskLimits::load(&path).unwrap(), l);
        let mut invalid = l.clone();
        invalid.thresholds.warning = 0.95;
        assert!(invalid.save(&path).is_err());
        assert_eq!(RiskLimits::load(&path).unwrap(), l, "an invalid save writes nothing");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn zones_and_evaluation() {
        assert_eq!(Zone::of(0.5, 0.75, 0.9), Zone::Ok);
        assert_eq!(Zone::of(0.75, 0.75, 0.9), Zone::Warning);
        assert_eq!(Zone::of(0.9, 0.75, 0.9), Zone::Critical);
        assert_eq!(Zone::of(1.0, 0.75, 0.9), Zone::Critical);
        assert_eq!(Zone::of(1.0001, 0.75, 0.9), Zone::Breach);
        assert_eq!(Zone::of(f64::NAN, 0.75, 0.9), Zone::Breach);
        assert!(Zone::Breach > Zone::Critical && Zone::Critical > Zone::Warning && Zone::Warning > Zone::Ok);
        let limits = RiskLimits::default();
        let figures = LimitFigures {
            var_usd: 1_200_000.0,
            notional_usd: [30_000_000.0, 0.0, 0.0, 10_000_000.0],
            net_exposure_usd: -20_000_000.0,
            contracts: [400.0, 0.0, 0.0, 95.0],
            strategy_gross_usd: vec![("a".into(), 36_000_000.0), ("b".into(), 4_000_000.0)],
            drawdown_daily_usd: Some(800_000.0),
            margin_usd: 1_000_000.0,
            stress_loss: Some(("x".into(), 2_000_000.0)),
            ..LimitFigures::default()
        };
        let u = evaluate(&limits, &figures);
        let get = |k: &str| u.iter().find(|x| x.key == k).unwrap_or_else(|| panic!("{k}"));
        assert!((get("var").utilisation - 0.8).abs() < 1e-12);
        assert_eq!(get("var").zone, Zone::Warning);
        assert!((get("gross_exposure").value - 40_000_000.0).abs() < 1e-6);
        assert!((get("net_exposure").utilisation - 20.0 / 60.0).abs() < 1e-12);
        assert_eq!(get("contracts.CL").zone, Zone::Warning);
        assert!((get("concentration.CL").value - 0.75).abs() < 1e-12);
        assert_eq!(get("concentration.CL").zone, Zone::Breach);
        assert!((get("concentration.strategy").value - 0.9).abs() < 1e-12);
        assert_eq!(get("drawdown.daily").zone, Zone::Breach);
        assert!(u.iter().all(|x| x.key != "greeks.delta" && x.key != "drawdown.weekly"));
        assert!((get("stress").utilisation - 0.2).abs() < 1e-12);
        // Below the minimum gross the concentration limits do not apply yet.
        let small = LimitFigures { notional_usd: [1_000_000.0, 0.0, 0.0, 0.0], ..LimitFigures::default() };
        let u = evaluate(&limits, &small);
        let c = u.iter().find(|x| x.key == "concentration.CL").unwrap();
        assert_eq!((c.value, c.utilisation, c.zone), (1.0, 0.0, Zone::Ok));
        assert!(c.label.contains("applies from"), "{}", c.label);
        // An empty book: every utilisation zero, nothing NaN.
        let u = evaluate(&limits, &LimitFigures::default());
        assert!(u.iter().all(|x| x.utilisation == 0.0 && x.zone == Zone::Ok && x.value.is_finite()));
        for k in u.iter().map(|x| &x.key) {
            assert!(limit_keys().contains(k), "{k}");
        }
    }
}
