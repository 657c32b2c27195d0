//! Instrument specifications (contract size, tick, vendor symbols, indicative margin) loaded
//! from `config/instruments.yaml`, validated on load.
//!
//! Validation: the file must parse, have exactly the top-level key `instruments`, every
//! entry must have every field and no unknown field (serde `deny_unknown_fields`), each
//! market must appear exactly once, `root` must equal the market code, `unit` must be `bbl`
//! for crudes and `gal` for products, multiplier and tick size must be positive and finite,
//! `tick_value_usd` must equal `tick_size * multiplier` (relative tolerance 1e-9), the IB
//! local-symbol template must contain `{month}` and `{y}` or `{yy}` and no other
//! placeholder, and the margin must be finite and non-negative. Every error is a
//! [`ModelError::Config`] naming the file, the entry (market code, or `#index` when the
//! market itself is unreadable) and the field.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{ContractId, Market, ModelError};

/// The repository's instruments file, compiled in.
const BUILTIN_YAML: &str = include_str!("../../../config/instruments.yaml");
/// The label [`Instruments::builtin`] reports errors under.
pub const BUILTIN_LABEL: &str = "config/instruments.yaml (built in)";

/// Relative tolerance for `tick_value_usd == tick_size * multiplier`.
const TICK_VALUE_REL_TOL: f64 = 1e-9;
/// Tolerance, in ticks, for [`InstrumentSpec::is_on_tick_grid`].
const TICK_GRID_TOL_TICKS: f64 = 1e-6;

/// Every field of an instruments-file entry, in file order (used in error messages).
pub const SPEC_FIELDS: [&str; 17] = [
    "market",
    "name",
    "exchange",
    "root",
    "bloomberg_root",
    "bloomberg_yellow_key",
    "ib_symbol",
    "ib_exchange",
    "ib_local_symbol_format",
    "multiplier",
    "unit",
    "tick_size",
    "tick_value_usd",
    "currency",
    "listed_months",
    "initial_margin_usd",
    "description",
];

/// One market's contract specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    /// The market, written as its code (`CL`, `BZ`, `RB`, `HO`).
    #[serde(with = "market_code")]
    pub market: Market,
    /// Display name.
    pub name: String,
    /// Listing exchange.
    pub exchange: String,
    /// Exchange-style root used in Crude's contract codes (equals the market code).
    pub root: String,
    /// Bloomberg ticker root (`CL`, `CO`, `XB`, `HO`).
    pub bloomberg_root: String,
    /// Bloomberg yellow key (`Comdty`).
    pub bloomberg_yellow_key: String,
    /// Interactive Brokers symbol (`CL`, `COIL`, `RB`, `HO`).
    pub ib_symbol: String,
    /// Interactive Brokers exchange (`NYMEX`, `IPE`).
    pub ib_exchange: String,
    /// IB local-symbol template with `{month}` and `{y}` or `{yy}` placeholders.
    pub ib_local_symbol_format: String,
    /// Units per contract (barrels or gallons).
    pub multiplier: f64,
    /// Price unit: `bbl` or `gal` (prices are USD per unit).
    pub unit: String,
    /// Minimum price increment in USD per unit.
    pub tick_size: f64,
    /// USD value of one tick on one contract.
    pub tick_value_usd: f64,
    /// Settlement currency.
    pub currency: String,
    /// Consecutive monthly contracts always listed (minimum).
    pub listed_months: u32,
    /// Indicative initial margin per contract, USD.
    pub initial_margin_usd: f64,
    /// One-line description.
    pub description: String,
}

mod market_code {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Market;

    pub fn serialize<S: Serializer>(m: &Market, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(m.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Market, D::Error> {
        let s = String::deserialize(d)?;
        Market::parse_root(&s).map_err(serde::de::Error::custom)
    }
}

impl InstrumentSpec {
    /// `price` rounded to the nearest tick (halves away from zero). Works for negative prices.
    /// Non-finite input is returned unchanged.
    pub fn round_to_tick(&self, price: f64) -> f64 {
        if !price.is_finite() {
            return price;
        }
        let ticks = (price / self.tick_size).round();
        // Dividing by an integral ticks-per-unit (100, 10 000) gives the correctly rounded
        // decimal (e.g. 0.3 rather than 0.30000000000000004).
        let per_unit = 1.0 / self.tick_size;
        if (per_unit - per_unit.round()).abs() < 1e-9 * per_unit.max(1.0) {
            ticks / per_unit.round()
        } else {
            ticks * self.tick_size
        }
    }

    /// Whether `price` lies on the tick grid, within a millionth of a tick of float error.
    /// Negative prices are legal; non-finite prices are not on the grid.
    pub fn is_on_tick_grid(&self, price: f64) -> bool {
        if !price.is_finite() {
            return false;
        }
        let x = price / self.tick_size;
        (x - x.round()).abs() <= TICK_GRID_TOL_TICKS
    }

    /// The number of ticks from `from` to `to` (signed, fractional if off-grid).
    pub fn ticks_between(&self, from: f64, to: f64) -> f64 {
        (to - from) / self.tick_size
    }

    /// Notional value in USD of `contracts` contracts (negative for shorts) at `price`.
    pub fn notional_usd(&self, price: f64, contracts: i64) -> f64 {
        price * self.multiplier * contracts as f64
    }

    /// P&L in USD of `contracts` contracts (negative for shorts) from `entry` to `exit`.
    pub fn pnl_usd(&self, entry: f64, exit: f64, contracts: i64) -> f64 {
        (exit - entry) * self.multiplier * contracts as f64
    }

    /// USD value of a price move of `price_change` on one contract.
    pub fn value_of_move_usd(&self, price_change: f64) -> f64 {
        price_change * self.multiplier
    }

    /// A price in this market's unit converted to USD per barrel (`gal` × 42).
    pub fn price_per_barrel(&self, price: f64) -> f64 {
        if self.unit == "gal" { price * crate::GALLONS_PER_BARREL } else { price }
    }

    /// The contract size in barrels (1,000 for every market Crude trades).
    pub fn barrels_per_contract(&self) -> f64 {
        if self.unit == "gal" { self.multiplier / crate::GALLONS_PER_BARREL } else { self.multiplier }
    }

    /// The IB local symbol of `contract` from this spec's template (`CLF7`, `COILF7`).
    pub fn format_ib_local_symbol(&self, contract: &ContractId) -> String {
        let y = contract.month.year.rem_euclid(10).to_string();
        let yy = format!("{:02}", contract.month.year.rem_euclid(100));
        self.ib_local_symbol_format
            .replace("{month}", &contract.month.code().to_string())
            .replace("{yy}", &yy)
            .replace("{y}", &y)
    }

    fn validate(&self, file: &str) -> Result<(), ModelError> {
        let err = |field: &str, reason: String| ModelError::Config {
            file: file.to_string(),
            entry: self.market.code().to_string(),
            field: field.to_string(),
            reason,
        };
        let code = self.market.code();
        if self.root != code {
            return Err(err("root", format!("is '{}' but must equal the market code '{code}'", self.root)));
        }
        let want_unit = if self.market.quoted_per_gallon() { "gal" } else { "bbl" };
        if self.unit != want_unit {
            return Err(err("unit", format!("is '{}' but {code} is quoted per '{want_unit}'", self.unit)));
        }
        for (field, value) in [
            ("name", &self.name),
            ("exchange", &self.exchange),
            ("bloomberg_root", &self.bloomberg_root),
            ("bloomberg_yellow_key", &self.bloomberg_yellow_key),
            ("ib_symbol", &self.ib_symbol),
            ("ib_exchange", &self.ib_exchange),
            ("currency", &self.currency),
        ] {
            if value.trim().is_empty() {
                return Err(err(field, "must not be empty".into()));
            }
        }
        if !(self.multiplier.is_finite() && self.multiplier > 0.0) {
            return Err(err(
                "multiplier",
                format!("is {} but must be a positive number of units per contract", self.multiplier),
            ));
        }
        if !(self.tick_size.is_finite() && self.tick_size > 0.0) {
            return Err(err("tick_size", format!("is {} but must be a positive price increment", self.tick_size)));
        }
        let expected = self.tick_size * self.multiplier;
        if !self.tick_value_usd.is_finite()
            || (self.tick_value_usd - expected).abs() > TICK_VALUE_REL_TOL * expected.abs().max(1.0)
        {
            return Err(err(
                "tick_value_usd",
                format!(
                    "is {} but tick_size {} x multiplier {} = {expected}; set it to {expected}",
                    self.tick_value_usd, self.tick_size, self.multiplier
                ),
            ));
        }
        if self.listed_months == 0 {
            return Err(err("listed_months", "must be at least 1".into()));
        }
        if !(self.initial_margin_usd.is_finite() && self.initial_margin_usd >= 0.0) {
            return Err(err(
                "initial_margin_usd",
                format!("is {} but must be a non-negative amount", self.initial_margin_usd),
            ));
        }
        check_template(&self.ib_local_symbol_format).map_err(|reason| err("ib_local_symbol_format", reason))?;
        Ok(())
    }
}

/// Checks an IB local-symbol template: `{month}` required, `{y}` or `{yy}` required, no other
/// placeholder, no stray braces.
fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    let (mut month, mut year) = (false, false);
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("'{t}' has an unclosed '{{'"));
        };
        match &rest[open + 1..open + close] {
            "month" => month = true,
            "y" | "yy" => year = true,
            other => {
                return Err(format!("'{t}' has unknown placeholder '{{{other}}}'; use {{month}}, {{y}} or {{yy}}"));
            }
        }
        rest = &rest[open + close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("'{t}' has a stray '}}'"));
    }
    if !month || !year {
        return Err(format!("'{t}' must contain {{month}} and {{y}} or {{yy}}, e.g. CL{{month}}{{y}}"));
    }
    Ok(())
}

/// The instruments file's top level.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstrumentsFile {
    instruments: Vec<InstrumentSpec>,
}

/// The validated specifications of all four markets.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruments {
    specs: [InstrumentSpec; 4],
}

impl Instruments {
    /// The repository's `config/instruments.yaml`, compiled into the binary.
    ///
    /// # Errors
    /// [`ModelError::Config`] if the compiled-in file is invalid (a test proves it is not).
    pub fn builtin() -> Result<Instruments, ModelError> {
        Self::from_yaml_str(BUILTIN_YAML, BUILTIN_LABEL)
    }

    /// Reads and validates an instruments file.
    ///
    /// # Errors
    /// [`ModelError::Config`] naming the file when it cannot be read, and naming the file,
    /// the entry and the field when it is invalid.
    pub fn load(path: &Path) -> Result<Instruments, ModelError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Config {
            file: label.clone(),
            entry: "(file)".into(),
            field: "(read)".into(),
            reason: format!("cannot read the file: {e}"),
        })?;
        Self::from_yaml_str(&text, &label)
    }

    /// Parses and validates instruments YAML; `file_label` names the source in errors.
    ///
    /// # Errors
    /// [`ModelError::Config`] naming `file_label`, the entry (market code or `#index`) and the
    /// field, with the line and column where the YAML parser reports one.
    pub fn from_yaml_str(text: &str, file_label: &str) -> Result<Instruments, ModelError> {
        let parsed: InstrumentsFile = serde_yaml::from_str(text).map_err(|e| yaml_error(file_label, text, &e))?;
        let mut slots: [Option<InstrumentSpec>; 4] = [None, None, None, None];
        for spec in parsed.instruments {
            spec.validate(file_label)?;
            let slot = &mut slots[spec.market.index()];
            if slot.is_some() {
                return Err(ModelError::Config {
                    file: file_label.to_string(),
                    entry: spec.market.code().to_string(),
                    field: "market".into(),
                    reason: "appears more than once; keep exactly one entry per market".into(),
                });
            }
            *slot = Some(spec);
        }
        for market in Market::ALL {
            if slots[market.index()].is_none() {
                return Err(ModelError::Config {
                    file: file_label.to_string(),
                    entry: market.code().to_string(),
                    field: "market".into(),
                    reason: format!("no entry for {} ({}); add one", market.code(), market.name()),
                });
            }
        }
        let [Some(a), Some(b), Some(c), Some(d)] = slots else {
            return Err(ModelError::Config {
                file: file_label.to_string(),
                entry: "(all)".into(),
                field: "market".into(),
                reason: "internal: a market slot is empty after validation".into(),
            });
        };
        Ok(Instruments { specs: [a, b, c, d] })
    }

    /// The specification of `market`.
    pub fn spec(&self, market: Market) -> &InstrumentSpec {
        &self.specs[market.index()]
    }

    /// All specifications in [`Market::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = &InstrumentSpec> {
        self.specs.iter()
    }

    /// Units per contract of `market`.
    pub fn multiplier(&self, market: Market) -> f64 {
        self.spec(market).multiplier
    }

    /// The instruments as YAML (same shape as the file).
    ///
    /// # Errors
    /// [`ModelError::Config`] if serialisation fails (it does not for valid specs).
    pub fn to_yaml(&self) -> Result<String, ModelError> {
        #[derive(Serialize)]
        struct Out<'a> {
            instruments: &'a [InstrumentSpec; 4],
        }
        serde_yaml::to_string(&Out { instruments: &self.specs }).map_err(|e| ModelError::Config {
            file: "(memory)".into(),
            entry: "(all)".into(),
            field: "(serialise)".into(),
            reason: e.to_string(),
        })
    }
}

/// Turns a serde_yaml error into a [`ModelError::Config`] naming the entry and field.
fn yaml_error(file: &str, text: &str, e: &serde_yaml::Error) -> ModelError {
    let msg = e.to_string();
    // serde_yaml prefixes errors inside the document with a path such as
    // `instruments[1].multiplier: ...` or `instruments[0]: unknown field ...`.
    let (path, detail) = match msg.split_once(": ") {
        Some((p, d)) if p.starts_with("instruments") && !p.contains(' ') => (p.to_string(), d.to_string()),
        _ => (String::new(), msg.clone()),
    };
    let index =
        path.strip_prefix("instruments[").and_then(|r| r.split(']').next()).and_then(|i| i.parse::<usize>().ok());
    let field_from_path = path.split_once("].").map(|(_, f)| f.to_string());
    // The market code is parsed by a custom deserialiser whose error carries no field path.
    let field_from_msg =
        backticked(&detail).or_else(|| detail.starts_with("unknown market").then(|| "market".to_string()));
    let field = field_from_path
        .or(field_from_msg)
        .unwrap_or_else(|| if index.is_some() { "(entry)".into() } else { "(document)".into() });
    let entry = match index {
        Some(i) => entry_label(text, i),
        None => "(top level)".into(),
    };
    let hint = if detail.starts_with("unknown field") {
        format!("; the fields are: {}", SPEC_FIELDS.join(", "))
    } else {
        String::new()
    };
    ModelError::Config { file: file.to_string(), entry, field, reason: format!("{detail}{hint}") }
}

/// The first back-quoted word of a serde message (`unknown field `foo`` → `foo`).
fn backticked(s: &str) -> Option<String> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(s[start..start + len].to_string())
}

/// The market code of entry `i` if the document parses that far, else `#i`.
fn entry_label(text: &str, i: usize) -> String {
    serde_yaml::from_str::<serde_yaml::Value>(text)
        .ok()
        .and_then(|v| v.get("instruments")?.get(i)?.get("market")?.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("#{i}"))
}
