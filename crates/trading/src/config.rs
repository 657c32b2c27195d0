//! Trading configuration: the paper broker (acknowledgement latency, slippage, commission and
//! exchange fees), order validation (fat-finger band) and commit durability. The risk
//! limits are not here: they live only in `config/risk_limits.yaml`, and the kernel gives
//! the engine's limits-only check and circuit breaker the limits in force there
//! ([`LimitsConfig`] is their in-memory form). A file that still carries a `limits:` block
//! is refused with where each limit moved.
//!
//! Every field has a default; a YAML file names only what it changes and an unknown field is
//! an error, so a typo cannot silently fall back to a default:
//!
//! ```yaml
//! broker:
//!   ack_latency_ms: 20
//!   slippage: { model: fixed_ticks, ticks: 1 }
//!   commission_usd_per_contract: 2.0
//!   exchange_fees_usd_per_contract: { CL: 1.50, BZ: 1.50, RB: 1.60, HO: 1.60 }
//! validation:
//!   max_order_qty: 1000
//!   fat_finger_band_pct: 10
//!   fat_finger_min_ticks: 50
//! synchronous: full
//! ```

use std::path::Path;

use crude_model::{Market, ValidationConfig};
use serde::{Deserialize, Serialize};

/// A bad configuration value: names the file, the field and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: field `{field}`: {reason}")]
pub struct ConfigError {
    pub file: String,
    pub field: String,
    pub reason: String,
}

/// How market orders (and triggered stops) slip from the touch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum SlippageModel {
    /// Fill exactly at the touch.
    None,
    /// A fixed number of ticks against the order.
    FixedTicks { ticks: u32 },
    /// `ticks_per_contract × quantity` ticks (rounded up), at most `max_ticks`: bigger
    /// orders pay more.
    SizeScaled { ticks_per_contract: f64, max_ticks: u32 },
}

impl SlippageModel {
    /// Ticks of slippage for an order of `qty` contracts.
    pub fn ticks(&self, qty: i64) -> i64 {
        match *self {
            SlippageModel::None => 0,
            SlippageModel::FixedTicks { ticks } => i64::from(ticks),
            SlippageModel::SizeScaled { ticks_per_contract, max_ticks } => {
                let t = (ticks_per_contract * qty as f64).ceil();
                if t.is_finite() && t > 0.0 { (t as i64).min(i64::from(max_ticks)) } else { 0 }
            }
        }
    }
}

/// Exchange and clearing fees per contract, by market (USD).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeTable {
    #[serde(rename = "CL")]
    pub cl: f64,
    #[serde(rename = "BZ")]
    pub bz: f64,
    #[serde(rename = "RB")]
    pub rb: f64,
    #[serde(rename = "HO")]
    pub ho: f64,
}

impl FeeTable {
    /// The fee of `market`.
    pub fn get(&self, market: Market) -> f64 {
        match market {
            Market::Wti => self.cl,
            Market::Brent => self.bz,
            Market::Rbob => self.rb,
            Market::HeatingOil => self.ho,
        }
    }
}

impl Default for FeeTable {
    /// Indicative NYMEX/ICE exchange plus clearing fees for non-members.
    fn default() -> Self {
        Self { cl: 1.50, bz: 1.50, rb: 1.60, ho: 1.60 }
    }
}

/// The paper broker's behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerConfig {
    /// Event-time delay between submitting an order and the broker acknowledging it (the
    /// order can fill only from then on).
    pub ack_latency_ms: u64,
    pub slippage: SlippageModel,
    /// Broker commission per contract, USD.
    pub commission_usd_per_contract: f64,
    pub exchange_fees_usd_per_contract: FeeTable,
}

impl Default for BrokerConfig {
    /// 20 ms acknowledgement, 1 tick of slippage on market orders, $2.00 commission.
    fn default() -> Self {
        Self {
            ack_latency_ms: 20,
            slippage: SlippageModel::FixedTicks { ticks: 1 },
            commission_usd_per_contract: 2.0,
            exchange_fees_usd_per_contract: FeeTable::default(),
        }
    }
}

/// Where each limit of the old `limits:` block of the trading settings lives now, in
/// `config/risk_limits.yaml`.
pub const MOVED_LIMITS: [(&str, &str); 6] = [
    ("max_contracts_per_contract", "instruments.<CL|BZ|RB|HO>.max_contracts (per market)"),
    ("max_contracts_per_market", "instruments.<CL|BZ|RB|HO>.max_contracts"),
    ("max_gross_notional_usd", "exposure.gross_usd"),
    ("max_net_notional_usd", "exposure.net_usd"),
    ("max_daily_loss_usd", "drawdown.daily_usd"),
    ("warn_utilisation", "thresholds.warning"),
];

/// The limits-only pre-trade check's limits and the circuit breaker's daily loss, in
/// memory: set by the kernel from the risk limits in force (`config/risk_limits.yaml`),
/// never read from the trading settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest absolute position in one contract month, contracts.
    pub max_contracts_per_contract: i64,
    /// Largest sum of absolute positions over the months of one market, contracts.
    pub max_contracts_per_market: i64,
    /// Largest Σ |position × price × multiplier|, USD.
    pub max_gross_notional_usd: f64,
    /// Largest |Σ position × price × multiplier|, USD.
    pub max_net_notional_usd: f64,
    /// Day loss (net of costs) at which the circuit breaker trips, USD (positive number).
    pub max_daily_loss_usd: f64,
    /// Utilisation from which the check warns (0..1).
    pub warn_utilisation: f64,
    /// Per-market contract limits (by [`Market::index`]) in place of
    /// `max_contracts_per_market`.
    pub market_contracts: [Option<i64>; 4],
}

impl LimitsConfig {
    /// The contract limit of `market`.
    pub fn market_limit(&self, market: Market) -> i64 {
        self.market_contracts[market.index()].unwrap_or(self.max_contracts_per_market)
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_contracts_per_contract: 100,
            max_contracts_per_market: 250,
            max_gross_notional_usd: 50_000_000.0,
            max_net_notional_usd: 25_000_000.0,
            max_daily_loss_usd: 250_000.0,
            warn_utilisation: 0.8,
            market_contracts: [None; 4],
        }
    }
}

/// Everything the trading engine is configured with.
/// How hard the trading database syncs each commit (SQLite `synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// fsync at every commit: an acknowledged fill survives a process crash and a power
    /// failure. The default.
    #[default]
    Full,
    /// fsync at checkpoints only: survives a process crash (SIGKILL), may lose the last
    /// commits on a power failure or OS crash. For disks whose fsync is too slow.
    Normal,
}

impl From<Synchronous> for crude_store::Durability {
    fn from(s: Synchronous) -> Self {
        match s {
            Synchronous::Full => crude_store::Durability::Full,
            Synchronous::Normal => crude_store::Durability::Normal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TradingConfig {
    pub broker: BrokerConfig,
    pub validation: ValidationConfig,
    /// The engine's limits (not read from the file; see the module doc).
    #[serde(skip)]
    pub limits: LimitsConfig,
    /// Prefix of generated client order ids (`CRD-000042`).
    pub client_order_prefix: String,
    /// Commit durability of the trading database.
    pub synchronous: Synchronous,
}

impl Default for TradingConfig {
    fn default() -> Self {
        Self {
            broker: BrokerConfig::default(),
            validation: ValidationConfig::default(),
            limits: LimitsConfig::default(),
            client_order_prefix: "CRD-".into(),
            synchronous: Synchronous::Full,
        }
    }
}

impl TradingConfig {
    /// Checks every range; `file` names the source in errors.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field.
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let err = |field: &str, reason: String| ConfigError { file: file.into(), field: field.into(), reason };
        let b = &self.broker;
        if b.ack_latency_ms > 60_000 {
            return Err(err("broker.ack_latency_ms", format!("{} is too long; use 0..=60000", b.ack_latency_ms)));
        }
        if let SlippageModel::SizeScaled { ticks_per_contract, .. } = b.slippage
            && !(ticks_per_contract.is_finite() && ticks_per_contract >= 0.0)
        {
            return Err(err("broker.slippage.ticks_per_contract", "must be a finite number >= 0".into()));
        }
        let money = |field: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(err(field, format!("{v} is invalid; use a finite amount >= 0")))
            }
        };
        money("broker.commission_usd_per_contract", b.commission_usd_per_contract)?;
        let f = &b.exchange_fees_usd_per_contract;
        for (name, v) in [("CL", f.cl), ("BZ", f.bz), ("RB", f.rb), ("HO", f.ho)] {
            money(&format!("broker.exchange_fees_usd_per_contract.{name}"), v)?;
        }
        self.validation.validate().map_err(|e| err(&format!("validation.{}", e.field), e.reason))?;
        self.limits.validate().map_err(|(field, reason)| err(&format!("limits.{field}"), reason))?;
        if self.client_order_prefix.chars().count() > 16 || self.client_order_prefix.chars().any(char::is_control) {
            return Err(err("client_order_prefix", "use at most 16 printable characters".into()));
        }
        Ok(())
    }
}

impl LimitsConfig {
    /// Checks every limit; the error is the field and the fix.
    ///
    /// # Errors
    /// The first limit out of range.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let l = self;
        if l.max_contracts_per_contract < 1 {
            return Err(("max_contracts_per_contract", "must be at least 1".into()));
        }
        if l.max_contracts_per_market < 1 || l.market_contracts.iter().flatten().any(|q| *q < 1) {
            return Err(("max_contracts_per_market", "must be at least 1".into()));
        }
        let positive = |field: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err((field, format!("{v} is invalid; use a finite amount greater than 0")))
            }
        };
        positive("max_gross_notional_usd", l.max_gross_notional_usd)?;
        positive("max_net_notional_usd", l.max_net_notional_usd)?;
        positive("max_daily_loss_usd", l.max_daily_loss_usd)?;
        if !(l.warn_utilisation.is_finite() && l.warn_utilisation > 0.0 && l.warn_utilisation <= 1.0) {
            return Err(("warn_utilisation", format!("{} is invalid; use a fraction in (0, 1]", l.warn_utilisation)));
        }
        Ok(())
    }
}

impl TradingConfig {
    /// Parses and validates YAML; `file` names the source in errors.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field (with line and column from the YAML parser).
    pub fn from_yaml_str(text: &str, file: &str) -> Result<Self, ConfigError> {
        if let Ok(serde_yaml::Value::Mapping(m)) = serde_yaml::from_str::<serde_yaml::Value>(text)
            && m.contains_key("limits")
        {
            let moved: Vec<String> = MOVED_LIMITS.iter().map(|(old, new)| format!("limits.{old} -> {new}")).collect();
            return Err(ConfigError {
                file: file.into(),
                field: "limits".into(),
                reason: format!(
                    "the risk limits moved to config/risk_limits.yaml (the one set of limits the app, the CLI and the \
                     pre-trade check use); delete this block and set them there: {}",
                    moved.join("; ")
                ),
            });
        }
        let cfg: TradingConfig = serde_yaml::from_str(text).map_err(|e| {
            let at = e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column())).unwrap_or_default();
            ConfigError { file: file.into(), field: "(file)".into(), reason: format!("{e}{at}") }
        })?;
        cfg.validate(file)?;
        Ok(cfg)
    }

    /// Reads and validates a YAML file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file when unreadable, else as [`TradingConfig::from_yaml_str`].
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: label.clone(),
            field: "(file)".into(),
            reason: format!("cannot read: {e}"),
        })?;
        Self::from_yaml_str(&text, &label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_round_trip() {
        let cfg = TradingConfig::default();
        cfg.validate("default").unwrap();
        let yaml = serde_yaml::to_string(&cfg).unwrap();
        assert_eq!(TradingConfig::from_yaml_str(&yaml, "rt").unwrap(), cfg);
    }

    #[test]
    fn partial_file_keeps_defaults() {
        let cfg = TradingConfig::from_yaml_str(
            "broker:\n  ack_latency_ms: 5\n  slippage: { model: size_scaled, ticks_per_contract: 0.5, max_ticks: 4 }\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(cfg.broker.ack_latency_ms, 5);
        assert_eq!(cfg.broker.slippage.ticks(3), 2);
        assert_eq!(cfg.broker.slippage.ticks(100), 4);
        assert_eq!(cfg.limits, LimitsConfig::default());
    }

    #[test]
    fn errors_name_the_field() {
        let mut bad = TradingConfig::default();
        bad.limits.warn_utilisation = 2.0;
        assert_eq!(bad.validate("t.yaml").unwrap_err().field, "limits.warn_utilisation");
        let e = TradingConfig::from_yaml_str("broker:\n  comission_usd_per_contract: 1\n", "t.yaml").unwrap_err();
        assert!(e.reason.contains("comission_usd_per_contract"), "{e}");
        let e = TradingConfig::from_yaml_str("validation:\n  fat_finger_band_pct: 0\n", "t.yaml").unwrap_err();
        assert_eq!(e.field, "validation.fat_finger_band_pct");
        let e = TradingConfig::from_yaml_str(
            "broker:\n  exchange_fees_usd_per_contract: { CL: -1, BZ: 1, RB: 1, HO: 1 }\n",
            "t.yaml",
        )
        .unwrap_err();
        assert_eq!(e.field, "broker.exchange_fees_usd_per_contract.CL");
    }

    #[test]
    fn an_old_limits_block_is_refused_with_where_each_limit_moved() {
        let text =
            "broker:\n  ack_latency_ms: 5\nlimits:\n  max_contracts_per_market: 250\n  max_daily_loss_usd: 250000\n";
        let e = TradingConfig::from_yaml_str(text, "config/trading.yaml").unwrap_err();
        assert_eq!(e.field, "limits");
        let msg = e.to_string();
        assert!(msg.contains("config/risk_limits.yaml"), "{msg}");
        for (old, new) in MOVED_LIMITS {
            assert!(msg.contains(&format!("limits.{old} -> {new}")), "{msg}");
        }
        // The shipped file has none.
        let shipped =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/trading.yaml")).unwrap();
        TradingConfig::from_yaml_str(&shipped, "config/trading.yaml").unwrap();
    }

    #[test]
    fn synchronous_is_full_unless_the_file_says_normal() {
        assert_eq!(TradingConfig::default().synchronous, Synchronous::Full);
        let cfg = TradingConfig::from_yaml_str("synchronous: normal\n", "t.yaml").unwrap();
        assert_eq!(crude_store::Durability::from(cfg.synchronous), crude_store::Durability::Normal);
        let e = TradingConfig::from_yaml_str("synchronous: off\n", "t.yaml").unwrap_err();
        assert!(e.to_string().contains("synchronous"), "{e}");
    }
}
