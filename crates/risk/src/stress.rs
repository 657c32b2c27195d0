//! Stress tests: shocks per market and curve point, built-in historical scenarios, user
//! scenarios from `config/stress_scenarios.yaml`, the Risk panel's sliders, and P&L per
//! scenario and per position by full revaluation.
//!
//! # Curve points
//!
//! A contract's curve point is its position on its market's curve on the book's date:
//! `M1` is the front contract (the first whose last trading day is on or after the date,
//! [`crude_model::Market::front_contract`]), `M2` the next month, and so on. A shock gives
//! values at some points (`M1`, `M2`, `M3`, `M6`, `M12`, `M24` …); other months are
//! interpolated linearly in months between the neighbouring points and held flat beyond the
//! first and last point — except `set_price`, which applies only from its first to its last
//! point (so `{M1: -37.63}` sets the front month alone).
//!
//! # Shock kinds (applied in the order listed; each names the markets it moves)
//!
//! | kind | fields | effect on the futures price `F` (or volatility `σ`) |
//! | --- | --- | --- |
//! | `relative` | `pct` (curve points, %) | `F × (1 + pct/100)`; `pct ≥ −100` |
//! | `absolute` | `change` (curve points, price units: $/bbl for CL/BZ, $/gal for RB/HO) | `F + change` |
//! | `set_price` | `level` (curve points, price units) | `F = level` (may be negative) |
//! | `vol_spike` | `vol_points` (curve points, volatility points) | `σ + vol_points/100` |
//! | `twist` | `front_pct`, `back_pct`, `front_month` (1), `back_month` (12) | relative, `front_pct` at `front_month` moving linearly to `back_pct` at `back_month`, flat beyond |
//! | `crack` | `usd_per_bbl` | RB/HO only: `F + usd_per_bbl / 42` ($/gal), crude unchanged: the crack widens by that many $/bbl |
//!
//! A relative shock scales the price, so on a negative price a −30 % shock moves it towards
//! zero; write `absolute` or `set_price` shocks for scenarios around negative prices. A
//! shocked volatility is floored at [`MIN_STRESS_VOL`].
//!
//! # Revaluation
//!
//! Futures P&L is linear, `qty × multiplier × (F' − F)`, and negative prices just work.
//! Options are revalued with Black-76 at `(F', σ')`; Black-76 needs `F > 0`, so an option
//! whose shocked (or current) future is at or below zero is valued at its discounted
//! intrinsic value (see [`crate::book`]). P&L per position is
//! `qty × multiplier × (V(F', σ') − V(F, σ))`.
//!
//! # Sliders
//!
//! [`Sliders`] move each market by a relative percentage (all months alike) and every
//! option's volatility by a relative percentage (`vol_shift_pct = 50` multiplies it by
//! 1.5); a non-zero slider setting adds a scenario named `Sliders` to the results.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crude_model::{ContractId, GALLONS_PER_BARREL, Market};

use crate::RiskError;
use crate::book::BookPosition;
use crate::limits::{RiskLimits, Zone};

/// The lowest volatility a stress shock leaves (1 % a year).
pub const MIN_STRESS_VOL: f64 = 0.01;

/// Longest curve point accepted (`M120`, ten years).
pub const MAX_CURVE_POINT: u32 = 120;

/// Values at curve points (`M1`, `M3`, `M12` …), sorted by month; written in YAML as a map
/// such as `{ M1: -30, M3: -25, M12: -15 }`.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoints(pub Vec<(u32, f64)>);

impl CurvePoints {
    /// Points from `(month, value)` pairs (sorted here).
    pub fn new(mut points: Vec<(u32, f64)>) -> Self {
        points.sort_by_key(|p| p.0);
        Self(points)
    }

    /// One value for every month.
    pub fn flat(value: f64) -> Self {
        Self(vec![(1, value)])
    }

    /// The value at curve point `month`: linear between neighbouring points, flat beyond.
    pub fn at(&self, month: u32) -> f64 {
        let pts = &self.0;
        let Some(&(first_m, first_v)) = pts.first() else { return 0.0 };
        if month <= first_m {
            return first_v;
        }
        for w in pts.windows(2) {
            let ((m0, v0), (m1, v1)) = (w[0], w[1]);
            if month <= m1 {
                let t = f64::from(month - m0) / f64::from(m1 - m0);
                return v0 + t * (v1 - v0);
            }
        }
        pts.last().map_or(0.0, |p| p.1)
    }

    /// The value at `month` when it lies between the first and last point, else `None`.
    pub fn within(&self, month: u32) -> Option<f64> {
        let (first, last) = (self.0.first()?.0, self.0.last()?.0);
        (first..=last).contains(&month).then(|| self.at(month))
    }
}

impl Serialize for CurvePoints {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (month, v) in &self.0 {
            m.serialize_entry(&format!("M{month}"), v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for CurvePoints {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, f64>::deserialize(d)?;
        if raw.is_empty() {
            return Err(serde::de::Error::custom("no curve points; give at least one, such as { M1: -10 }"));
        }
        let mut points = Vec::with_capacity(raw.len());
        for (k, v) in raw {
            let month = k
                .trim()
                .strip_prefix(['M', 'm'])
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=MAX_CURVE_POINT).contains(n))
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "curve point '{k}' is not M1..M{MAX_CURVE_POINT}; write points such as M1, M2, M3, M6, M12"
                    ))
                })?;
            if !v.is_finite() {
                return Err(serde::de::Error::custom(format!("curve point {k} has the non-finite value {v}")));
            }
            points.push((month, v));
        }
        Ok(CurvePoints::new(points))
    }
}

mod market_list {
    use super::*;

    pub fn serialize<S: Serializer>(markets: &[Market], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(markets.iter().map(|m| m.code()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Market>, D::Error> {
        let raw = Vec::<String>::deserialize(d)?;
        if raw.is_empty() {
            return Err(serde::de::Error::custom("no markets; list at least one of CL, BZ, RB, HO"));
        }
        raw.iter().map(|s| Market::parse_root(s).map_err(serde::de::Error::custom)).collect()
    }
}

fn default_front_month() -> u32 {
    1
}

fn default_back_month() -> u32 {
    12
}

/// One shock (see the module documentation for each kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shock {
    /// Relative change in percent.
    Relative {
        /// Markets moved.
        #[serde(with = "market_list")]
        markets: Vec<Market>,
        /// Percent by curve point (`-30` = −30 %), each `≥ −100`.
        pct: CurvePoints,
    },
    /// Absolute change in price units.
    Absolute {
        /// Markets moved.
        #[serde(with = "market_list")]
        markets: Vec<Market>,
        /// Change by curve point ($/bbl for CL/BZ, $/gal for RB/HO).
        change: CurvePoints,
    },
    /// A price level.
    SetPrice {
        /// Markets moved.
        #[serde(with = "market_list")]
        markets: Vec<Market>,
        /// Level by curve point, applied from the first to the last point only.
        level: CurvePoints,
    },
    /// A volatility spike.
    VolSpike {
        /// Markets whose options move.
        #[serde(with = "market_list")]
        markets: Vec<Market>,
        /// Volatility points by curve point (`30` = +0.30 a year).
        vol_points: CurvePoints,
    },
    /// A curve twist.
    Twist {
        /// Markets moved.
        #[serde(with = "market_list")]
        markets: Vec<Market>,
        /// Percent at `front_month`.
        front_pct: f64,
        /// Percent at `back_month`.
        back_pct: f64,
        /// Curve point of `front_pct` (default 1).
        #[serde(default = "default_front_month")]
        front_month: u32,
        /// Curve point of `back_pct` (default 12).
        #[serde(default = "default_back_month")]
        back_month: u32,
    },
    /// Products (RB, HO) up against crude.
    Crack {
        /// Product markets moved (RB and/or HO).
        #[serde(with = "market_list")]
        markets: Vec<Market>,
        /// Widening of the crack, $/bbl (applied as `/42` $/gal to the product).
        usd_per_bbl: f64,
    },
}

impl Shock {
    /// The markets the shock moves.
    pub fn markets(&self) -> &[Market] {
        match self {
            Shock::Relative { markets, .. }
            | Shock::Absolute { markets, .. }
            | Shock::SetPrice { markets, .. }
            | Shock::VolSpike { markets, .. }
            | Shock::Twist { markets, .. }
            | Shock::Crack { markets, .. } => markets,
        }
    }

    /// `relative`, `absolute`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Shock::Relative { .. } => "relative",
            Shock::Absolute { .. } => "absolute",
            Shock::SetPrice { .. } => "set_price",
            Shock::VolSpike { .. } => "vol_spike",
            Shock::Twist { .. } => "twist",
            Shock::Crack { .. } => "crack",
        }
    }

    /// Checks the shock's numbers; `Err((field, reason))`.
    fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            Shock::Relative { pct, .. } => {
                if let Some((m, v)) = pct.0.iter().find(|(_, v)| *v < -100.0) {
                    return Err((
                        "pct",
                        format!("M{m} is {v} %; a relative shock cannot fall below -100 % (use set_price for a level)"),
                    ));
                }
            }
            Shock::Twist { front_pct, back_pct, front_month, back_month, .. } => {
                for (field, v) in [("front_pct", *front_pct), ("back_pct", *back_pct)] {
                    if !v.is_finite() || v < -100.0 {
                        return Err((field, format!("is {v}; give a finite percentage ≥ -100")));
                    }
                }
                if !(1..=MAX_CURVE_POINT).contains(front_month)
                    || !(1..=MAX_CURVE_POINT).contains(back_month)
                    || front_month >= back_month
                {
                    return Err((
                        "back_month",
                        format!(
                            "front_month {front_month} and back_month {back_month} must satisfy 1 ≤ front_month < back_month ≤ {MAX_CURVE_POINT}"
                        ),
                    ));
                }
            }
            Shock::Crack { markets, usd_per_bbl } => {
                if !usd_per_bbl.is_finite() {
                    return Err(("usd_per_bbl", format!("is {usd_per_bbl}; give a finite $/bbl widening such as 10")));
                }
                if let Some(m) = markets.iter().find(|m| !m.quoted_per_gallon()) {
                    return Err((
                        "markets",
                        format!(
                            "{} is a crude market; a crack shock moves the products (RB, HO) against crude",
                            m.code()
                        ),
                    ));
                }
            }
            Shock::Absolute { .. } | Shock::SetPrice { .. } | Shock::VolSpike { .. } => {}
        }
        Ok(())
    }
}

/// A named set of shocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StressScenario {
    /// Name shown in the stress table (unique).
    pub name: String,
    /// What the scenario represents.
    pub description: String,
    /// Whether it replays a historical episode.
    #[serde(default)]
    pub historical: bool,
    /// Where the magnitudes come from (data, dates and prices, or the approximation made).
    #[serde(default)]
    pub source: String,
    /// The shocks, applied in order.
    pub shocks: Vec<Shock>,
}

impl StressScenario {
    /// The futures price and volatility of a contract at curve point `tenor` after the
    /// scenario's shocks.
    pub fn shocked(&self, market: Market, tenor: u32, price: f64, vol: f64) -> (f64, f64) {
        let (mut f, mut v) = (price, vol);
        for s in &self.shocks {
            if !s.markets().contains(&market) {
                continue;
            }
            match s {
                Shock::Relative { pct, .. } => f *= 1.0 + pct.at(tenor) / 100.0,
                Shock::Absolute { change, .. } => f += change.at(tenor),
                Shock::SetPrice { level, .. } => {
                    if let Some(l) = level.within(tenor) {
                        f = l;
                    }
                }
                Shock::VolSpike { vol_points, .. } => v += vol_points.at(tenor) / 100.0,
                Shock::Twist { front_pct, back_pct, front_month, back_month, .. } => {
                    let pts = CurvePoints(vec![(*front_month, *front_pct), (*back_month, *back_pct)]);
                    f *= 1.0 + pts.at(tenor) / 100.0;
                }
                Shock::Crack { usd_per_bbl, .. } => f += usd_per_bbl / GALLONS_PER_BARREL,
            }
        }
        (f, v.max(MIN_STRESS_VOL))
    }

    /// Checks the name, the description and every shock; `file` names the source in errors.
    ///
    /// # Errors
    /// [`StressError`] naming the scenario, the field (`shocks[i].field`) and the fix.
    pub fn validate(&self, file: &str) -> Result<(), StressError> {
        let entry = if self.name.trim().is_empty() { "(unnamed)".to_string() } else { self.name.clone() };
        if self.name.trim().is_empty() {
            return Err(StressError::new(file, &entry, "name", "is empty; give the scenario a name"));
        }
        if self.shocks.is_empty() {
            return Err(StressError::new(file, &entry, "shocks", "no shocks; list at least one"));
        }
        for (i, s) in self.shocks.iter().enumerate() {
            s.check()
                .map_err(|(field, reason)| StressError::new(file, &entry, &format!("shocks[{i}].{field}"), reason))?;
        }
        Ok(())
    }
}

/// An invalid scenarios file.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{file}: scenario '{entry}', field '{field}': {reason}")]
pub struct StressError {
    /// The file.
    pub file: String,
    /// The scenario (its name, or `scenarios[i]`).
    pub entry: String,
    /// The field.
    pub field: String,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl StressError {
    fn new(file: &str, entry: &str, field: &str, reason: impl Into<String>) -> Self {
        Self { file: file.to_string(), entry: entry.to_string(), field: field.to_string(), reason: reason.into() }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenarios: Vec<serde_yaml::Value>,
}

/// Parses and validates user scenarios (`scenarios: [...]`); `file` names the source.
/// Names must be unique and differ from the built-in scenarios' names.
///
/// # Errors
/// [`StressError`] naming the scenario, the field and the fix.
pub fn scenarios_from_yaml_str(text: &str, file: &str) -> Result<Vec<StressScenario>, StressError> {
    let parsed: ScenarioFile = serde_yaml::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let field = backticked(&msg).unwrap_or_else(|| "scenarios".to_string());
        StressError::new(file, "(top level)", &field, format!("{msg}; the file holds one list, `scenarios:`"))
    })?;
    let builtin: Vec<String> = builtin_scenarios().into_iter().map(|s| s.name).collect();
    let mut out: Vec<StressScenario> = Vec::with_capacity(parsed.scenarios.len());
    for (i, value) in parsed.scenarios.into_iter().enumerate() {
        let entry =
            value.get("name").and_then(|n| n.as_str()).map(str::to_string).unwrap_or_else(|| format!("scenarios[{i}]"));
        let scenario: StressScenario = serde_yaml::from_value(value.clone()).map_err(|e| {
            let msg = e.to_string();
            StressError::new(file, &entry, &field_of(&value, &msg), format!("{msg}{}", hint(&msg)))
        })?;
        scenario.validate(file)?;
        if builtin.contains(&scenario.name) || out.iter().any(|s| s.name == scenario.name) {
            return Err(StressError::new(
                file,
                &entry,
                "name",
                "another scenario (or a built-in one) has this name; give each scenario its own name",
            ));
        }
        out.push(scenario);
    }
    Ok(out)
}

/// Reads and validates a scenarios file (see [`scenarios_from_yaml_str`]).
///
/// # Errors
/// [`StressError`] for an unreadable file (field `(read)`) or an invalid scenario.
pub fn load_scenarios(path: &Path) -> Result<Vec<StressScenario>, StressError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        StressError::new(&file, "(file)", "(read)", format!("cannot read the file: {e}; check the path"))
    })?;
    scenarios_from_yaml_str(&text, &file)
}

/// The field a serde message about one scenario is about: the path prefix serde_yaml gives,
/// a back-quoted field name, or for errors inside a tagged shock the shock's index.
fn field_of(value: &serde_yaml::Value, msg: &str) -> String {
    if let Some((path, _)) = msg.split_once(": ")
        && !path.contains(' ')
        && !path.is_empty()
    {
        return path.to_string();
    }
    // Errors inside an internally tagged shock carry no path: find the shock that fails.
    if let Some(shocks) = value.get("shocks").and_then(|s| s.as_sequence()) {
        for (i, s) in shocks.iter().enumerate() {
            if serde_yaml::from_value::<Shock>(s.clone()).is_err() {
                return format!("shocks[{i}].{}", shock_field(s, msg));
            }
        }
    }
    backticked(msg).unwrap_or_else(|| "(scenario)".to_string())
}

/// The field of one shock a deserialisation message is about.
fn shock_field(shock: &serde_yaml::Value, msg: &str) -> String {
    if msg.contains("unknown variant") || msg.contains("missing field `kind`") {
        return "kind".to_string();
    }
    if msg.contains("unknown market") || msg.contains("no markets") {
        return "markets".to_string();
    }
    if msg.contains("curve point") {
        for name in ["pct", "change", "level", "vol_points"] {
            if shock.get(name).is_some() {
                return name.to_string();
            }
        }
    }
    backticked(msg).unwrap_or_else(|| "(shock)".to_string())
}

fn hint(msg: &str) -> &'static str {
    if msg.contains("unknown variant") {
        "; kinds are relative, absolute, set_price, vol_spike, twist, crack"
    } else if msg.contains("unknown field") {
        "; remove the field or correct its spelling (see config/stress_scenarios.yaml)"
    } else if msg.contains("missing field") {
        "; add the field (see the examples in config/stress_scenarios.yaml)"
    } else {
        ""
    }
}

fn backticked(s: &str) -> Option<String> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(s[start..start + len].to_string())
}

/// The Risk panel's sliders.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Sliders {
    /// Relative move per market in percent, in [`Market::ALL`] order (CL, BZ, RB, HO).
    pub shift_pct: [f64; 4],
    /// Relative move of every option's volatility in percent (`50` = × 1.5).
    pub vol_shift_pct: f64,
}

impl Sliders {
    /// Whether every slider is at zero.
    pub fn is_zero(&self) -> bool {
        self.shift_pct.iter().all(|x| *x == 0.0) && self.vol_shift_pct == 0.0
    }

    /// Checks every slider is finite and ≥ −100 %.
    ///
    /// # Errors
    /// [`RiskError::BadArgument`] naming the slider.
    pub fn validate(&self) -> Result<(), RiskError> {
        for (m, v) in Market::ALL.iter().zip(self.shift_pct) {
            if !(v.is_finite() && v >= -100.0) {
                return Err(RiskError::BadArgument {
                    argument: "shift_pct",
                    value: format!("{v} ({})", m.code()),
                    reason: "a slider moves a market by a finite percentage ≥ -100".to_string(),
                });
            }
        }
        if !(self.vol_shift_pct.is_finite() && self.vol_shift_pct >= -100.0) {
            return Err(RiskError::BadArgument {
                argument: "vol_shift_pct",
                value: format!("{}", self.vol_shift_pct),
                reason: "the volatility slider is a finite percentage ≥ -100".to_string(),
            });
        }
        Ok(())
    }

    /// The scenario the sliders describe.
    pub fn scenario(&self) -> StressScenario {
        let label = Market::ALL
            .iter()
            .zip(self.shift_pct)
            .filter(|(_, v)| *v != 0.0)
            .map(|(m, v)| format!("{} {v:+}%", m.code()))
            .chain((self.vol_shift_pct != 0.0).then(|| format!("vol {:+}%", self.vol_shift_pct)))
            .collect::<Vec<_>>()
            .join(", ");
        let shocks = Market::ALL
            .iter()
            .zip(self.shift_pct)
            .filter(|(_, v)| *v != 0.0)
            .map(|(m, v)| Shock::Relative { markets: vec![*m], pct: CurvePoints::flat(v) })
            .collect();
        StressScenario {
            name: SLIDERS_SCENARIO.to_string(),
            description: format!("Panel sliders: {label}"),
            historical: false,
            source: "user".to_string(),
            shocks,
        }
    }
}

/// The name of the sliders' scenario in the results.
pub const SLIDERS_SCENARIO: &str = "Sliders";

/// The P&L of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StressResult {
    /// Scenario name.
    pub scenario: String,
    /// Total P&L, USD (negative = loss).
    pub pnl_usd: f64,
    /// P&L per position, in the book's position order, USD.
    pub per_position: Vec<(ContractId, f64)>,
    /// Loss against the stress-loss limit: `max(0, −pnl) / limit`.
    pub utilisation: f64,
    /// Zone of the utilisation.
    pub zone: Zone,
    /// Whether the scenario is historical.
    pub historical: bool,
    /// Shocked futures price per position (same order), per unit.
    pub shocked_prices: Vec<f64>,
    /// Positions valued at intrinsic value because their shocked future was at or below zero.
    pub intrinsic_valued: usize,
}

/// A contract's curve point on `date` (1 = front; an expired contract counts as the front).
pub fn curve_point(contract: ContractId, date: NaiveDate) -> u32 {
    let front = contract.market.front_contract(date);
    u32::try_from(contract.month.months_since(front.month) + 1).unwrap_or(1).max(1)
}

/// Revalues `positions` under `scenario` on `date`.
///
/// # Errors
/// Those of [`BookPosition::unit_valuation_at`] (invalid option parameters).
pub fn run_scenario(
    scenario: &StressScenario,
    positions: &[BookPosition],
    date: NaiveDate,
    limits: &RiskLimits,
    vol_factor: f64,
) -> Result<StressResult, RiskError> {
    let mut per_position = Vec::with_capacity(positions.len());
    let mut shocked_prices = Vec::with_capacity(positions.len());
    let mut total = 0.0;
    let mut intrinsic_valued = 0;
    for p in positions {
        let tenor = curve_point(p.contract, date);
        let vol = p.option.map_or(0.0, |o| o.vol);
        let (f1, v1) = scenario.shocked(p.contract.market, tenor, p.price, vol * vol_factor);
        let pnl = match &p.option {
            None => p.qty as f64 * p.multiplier * (f1 - p.price),
            Some(_) => {
                let before = p.unit_valuation()?;
                let after = p.unit_valuation_at(f1, v1.max(MIN_STRESS_VOL))?;
                if after.intrinsic_only {
                    intrinsic_valued += 1;
                }
                p.qty as f64 * p.multiplier * (after.value - before.value)
            }
        };
        total += pnl;
        per_position.push((p.contract, pnl));
        shocked_prices.push(f1);
    }
    let utilisation = (-total).max(0.0) / limits.stress.max_loss_usd;
    let (w, c) = limits.thresholds_for("stress");
    Ok(StressResult {
        scenario: scenario.name.clone(),
        pnl_usd: total,
        per_position,
        utilisation,
        zone: Zone::of(utilisation, w, c),
        historical: scenario.historical,
        shocked_prices,
        intrinsic_valued,
    })
}

/// Revalues `positions` under every scenario, then under the sliders when they are not all
/// zero (scenario [`SLIDERS_SCENARIO`]).
///
/// # Errors
/// Those of [`run_scenario`] and [`Sliders::validate`].
pub fn run_stress(
    scenarios: &[StressScenario],
    sliders: &Sliders,
    positions: &[BookPosition],
    date: NaiveDate,
    limits: &RiskLimits,
) -> Result<Vec<StressResult>, RiskError> {
    sliders.validate()?;
    let mut out = Vec::with_capacity(scenarios.len() + 1);
    for s in scenarios {
        out.push(run_scenario(s, positions, date, limits, 1.0)?);
    }
    if !sliders.is_zero() {
        out.push(run_scenario(&sliders.scenario(), positions, date, limits, 1.0 + sliders.vol_shift_pct / 100.0)?);
    }
    Ok(out)
}

impl fmt::Display for StressResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:.0} USD ({})", self.scenario, self.pnl_usd, self.zone.as_str())
    }
}

/// `100 × (to / from − 1)`: the percentage move between two prices.
fn pct_move(from: f64, to: f64) -> f64 {
    100.0 * (to / from - 1.0)
}

/// Points `M1, M2, M3, M6, M12, M24` at `front × share`.
fn shaped(front_pct: f64, shares: [f64; 6]) -> CurvePoints {
    CurvePoints::new([1, 2, 3, 6, 12, 24].into_iter().zip(shares).map(|(m, s)| (m, front_pct * s)).collect())
}

/// WTI spot prices from `data/wti_daily_fred.csv` (FRED `DCOILWTICO`) the built-in
/// scenarios are derived from: `(date, USD/bbl)`.
pub const FRED_WTI_PRICES: [(&str, f64); 8] = [
    ("1990-08-01", 21.59),
    ("1990-10-11", 41.07),
    ("2008-07-03", 145.31),
    ("2008-12-23", 30.28),
    ("2014-06-20", 107.95),
    ("2015-12-21", 34.55),
    ("2008-01-02", 99.64),
    ("2008-12-31", 44.60),
];

/// Monthly average spot prices from `data/brent_wti_monthly_eia.csv` (EIA) used to scale
/// the WTI moves to Brent: `(month, Brent, WTI)`.
pub const EIA_MONTHLY_PRICES: [(&str, f64, f64); 6] = [
    ("1990-07-15", 17.17, 18.45),
    ("1990-10-15", 36.02, 36.04),
    ("2008-07-15", 132.72, 133.37),
    ("2008-12-15", 39.95, 41.12),
    ("2014-06-15", 111.80, 105.79),
    ("2015-12-15", 38.01, 37.19),
];

/// Brent's move scaled from WTI's daily move by the ratio of the monthly averages:
/// `(1 + wti) × (B₁/B₀) / (W₁/W₀) − 1`, in percent.
fn brent_from_wti(wti_pct: f64, from: usize, to: usize) -> f64 {
    let (_, b0, w0) = EIA_MONTHLY_PRICES[from];
    let (_, b1, w1) = EIA_MONTHLY_PRICES[to];
    100.0 * ((1.0 + wti_pct / 100.0) * (b1 / b0) / (w1 / w0) - 1.0)
}

/// The built-in historical scenarios:
///
/// - **2008 crash (Jul–Dec 2008)**: WTI front −79.2 %, FRED WTI 145.31 on 2008-07-03 to
///   30.28 on 2008-12-23; Brent −79.7 % (the WTI move scaled by the EIA monthly averages,
///   Brent 132.72 → 39.95 against WTI 133.37 → 41.12, July to December 2008). Deferred
///   months fell less as the curve went into deep contango (approximation: M12 at 78 % of
///   the front move, M24 at 72 %). RBOB −77 % and heating oil −68 % at the front are
///   approximations from published NYMEX settlements (about $3.5 → $0.8/gal and $4.1 →
///   $1.3/gal), not from the repository's data. Volatility +61 points: the realised
///   volatility of the FRED series rose from 33.8 % (2008-01-02..2008-06-30) to 94.9 %
///   (2008-10-01..2008-12-31).
/// - **2014–15 collapse**: WTI front −68.0 %, FRED 107.95 on 2014-06-20 to 34.55 on
///   2015-12-21; Brent −69.0 % (scaled by the EIA monthly averages June 2014 → December
///   2015: Brent 111.80 → 38.01, WTI 105.79 → 37.19). Deferred months approximate (M12 at
///   80 %); products approximate (RBOB −60 %, heating oil −66 %). Volatility +31 points
///   (realised 15.0 % in 2014-H1 to 45.9 % in 2015-H2, FRED).
/// - **2020 COVID and negative WTI**: the WTI front month is **set to −37.63** (the NYMEX
///   May 2020 settlement on 2020-04-20); deferred months much less: −66 % at M2 (the June
///   2020 contract settled 20.43 that day, against about $60 in early January 2020),
///   −50 % at M3, −45 % at M6, −40 % at M12, −30 % at M24. Brent −63 % at the front (June
///   2020 Brent settled 25.57 on 2020-04-20, from 68.91 on 2020-01-06), −40 % at M12; RBOB
///   −60 %, heating oil −50 % at the front. Volatility +100 points at the front, +50 at M3,
///   +25 at M12 (OVX, the CBOE crude-oil volatility index, peaked above 300 on 2020-04-21).
///   The repository's daily data ends in January 2019: these are published settlements
///   and approximations, not derived from it.
/// - **1990 Gulf War spike**: WTI front +90.2 %, FRED 21.59 on 1990-08-01 (the day before
///   the invasion of Kuwait) to 41.07 on 1990-10-11; Brent +104.3 % (scaled by the EIA
///   monthly averages July → October 1990: Brent 17.17 → 36.02, WTI 18.45 → 36.04).
///   Deferred months rose far less in the steep backwardation (approximation: M12 at 33 %
///   of the front move); heating oil +100 % and RBOB +60 % approximate. Volatility +49
///   points (realised 41.1 % in 1990-02..07 to 89.7 % in 1990-08-02..10-31, FRED).
/// - **2022 invasion spike**: WTI front +34.3 % (NYMEX settlements 92.10 on 2022-02-23 to
///   123.70 on 2022-03-08), Brent +32.2 % (96.84 → 127.98), heating oil about +50 %, RBOB
///   about +31 %; deferred months about half the front move at M12; volatility +35 points
///   (OVX roughly 40 → 75). Outside the repository's data: published settlements,
///   approximate.
pub fn builtin_scenarios() -> Vec<StressScenario> {
    use Market::{Brent, HeatingOil, Rbob, Wti};
    let rel = |markets: Vec<Market>, pct: CurvePoints| Shock::Relative { markets, pct };
    let vol = |markets: Vec<Market>, vol_points: CurvePoints| Shock::VolSpike { markets, vol_points };
    let all = || Market::ALL.to_vec();
    let fred = |i: usize| FRED_WTI_PRICES[i].1;

    let crash_2008 = pct_move(fred(2), fred(3));
    let crash_shape = [1.0, 0.95, 0.91, 0.85, 0.78, 0.72];
    let collapse = pct_move(fred(4), fred(5));
    let collapse_shape = [1.0, 0.96, 0.93, 0.88, 0.80, 0.74];
    let gulf = pct_move(fred(0), fred(1));
    let gulf_shape = [1.0, 0.85, 0.72, 0.50, 0.33, 0.25];
    let invasion_shape = [1.0, 0.92, 0.85, 0.72, 0.55, 0.42];
    vec![
        StressScenario {
            name: "2008 crash (Jul–Dec 2008)".into(),
            description: "Demand collapse of the financial crisis: crude loses about four fifths from the July 2008 peak; the curve turns to deep contango.".into(),
            historical: true,
            source: format!(
                "WTI front {crash_2008:.1} %: FRED WTI 145.31 (2008-07-03) to 30.28 (2008-12-23); Brent scaled by EIA monthly averages; deferred months, products approximate; vol +61 points from FRED realised volatility"
            ),
            shocks: vec![
                rel(vec![Wti], shaped(crash_2008, crash_shape)),
                rel(vec![Brent], shaped(brent_from_wti(crash_2008, 2, 3), crash_shape)),
                rel(vec![Rbob], shaped(-77.0, crash_shape)),
                rel(vec![HeatingOil], shaped(-68.0, crash_shape)),
                vol(all(), CurvePoints::new(vec![(1, 61.0), (12, 35.0)])),
            ],
        },
        StressScenario {
            name: "2014–15 collapse".into(),
            description: "OPEC's market-share war and US shale supply: crude falls two thirds over eighteen months.".into(),
            historical: true,
            source: format!(
                "WTI front {collapse:.1} %: FRED WTI 107.95 (2014-06-20) to 34.55 (2015-12-21); Brent scaled by EIA monthly averages; deferred months, products approximate; vol +31 points from FRED realised volatility"
            ),
            shocks: vec![
                rel(vec![Wti], shaped(collapse, collapse_shape)),
                rel(vec![Brent], shaped(brent_from_wti(collapse, 4, 5), collapse_shape)),
                rel(vec![Rbob], shaped(-60.0, collapse_shape)),
                rel(vec![HeatingOil], shaped(-66.0, collapse_shape)),
                vol(all(), CurvePoints::new(vec![(1, 31.0), (12, 18.0)])),
            ],
        },
        StressScenario {
            name: "2020 COVID and negative WTI".into(),
            description: "Lockdowns and full storage at Cushing: the May 2020 WTI contract settles at -37.63 on 2020-04-20 while deferred months fall much less.".into(),
            historical: true,
            source: "NYMEX settlements of 2020-04-20 (CLK0 -37.63, CLM0 20.43), ICE Brent June 2020 25.57; other points approximate; outside the repository's data".into(),
            shocks: vec![
                rel(vec![Wti], CurvePoints::new(vec![(1, -66.0), (2, -66.0), (3, -50.0), (6, -45.0), (12, -40.0), (24, -30.0)])),
                Shock::SetPrice { markets: vec![Wti], level: CurvePoints::new(vec![(1, -37.63)]) },
                rel(vec![Brent], CurvePoints::new(vec![(1, -63.0), (3, -52.0), (6, -46.0), (12, -40.0), (24, -30.0)])),
                rel(vec![Rbob], CurvePoints::new(vec![(1, -60.0), (3, -50.0), (12, -35.0)])),
                rel(vec![HeatingOil], CurvePoints::new(vec![(1, -50.0), (3, -42.0), (12, -32.0)])),
                vol(all(), CurvePoints::new(vec![(1, 100.0), (3, 50.0), (12, 25.0)])),
            ],
        },
        StressScenario {
            name: "1990 Gulf War spike".into(),
            description: "Iraq invades Kuwait on 1990-08-02: crude nearly doubles in ten weeks, front months far more than deferred.".into(),
            historical: true,
            source: format!(
                "WTI front +{gulf:.1} %: FRED WTI 21.59 (1990-08-01) to 41.07 (1990-10-11); Brent scaled by EIA monthly averages; deferred months, products approximate; vol +49 points from FRED realised volatility"
            ),
            shocks: vec![
                rel(vec![Wti], shaped(gulf, gulf_shape)),
                rel(vec![Brent], shaped(brent_from_wti(gulf, 0, 1), gulf_shape)),
                rel(vec![HeatingOil], shaped(100.0, gulf_shape)),
                rel(vec![Rbob], shaped(60.0, gulf_shape)),
                vol(all(), CurvePoints::new(vec![(1, 49.0), (12, 25.0)])),
            ],
        },
        StressScenario {
            name: "2022 invasion spike".into(),
            description: "Russia invades Ukraine on 2022-02-24: crude jumps a third in two weeks, diesel more.".into(),
            historical: true,
            source: "NYMEX WTI 92.10 (2022-02-23) to 123.70 (2022-03-08), ICE Brent 96.84 to 127.98; products, deferred months and vol approximate; outside the repository's data".into(),
            shocks: vec![
                rel(vec![Wti], shaped(pct_move(92.10, 123.70), invasion_shape)),
                rel(vec![Brent], shaped(pct_move(96.84, 127.98), invasion_shape)),
                rel(vec![HeatingOil], shaped(50.0, invasion_shape)),
                rel(vec![Rbob], shaped(31.0, invasion_shape)),
                vol(all(), CurvePoints::new(vec![(1, 35.0), (12, 15.0)])),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::black76::OptionType;
    use crate::book::OptionLeg;
    use crude_model::ContractMonth;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 4).unwrap()
    }

    fn contract(market: Market, months_after_front: i32) -> ContractId {
        let front = market.front_contract(date());
        ContractId::new(market, front.month.plus_months(months_after_front))
    }

    fn scenario(name: &str) -> StressScenario {
        builtin_scenarios().into_iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn curve_points_interpolate_and_hold_flat() {
        let p = CurvePoints::new(vec![(12, -10.0), (1, -30.0), (3, -20.0)]);
        assert_eq!(p.at(1), -30.0);
        assert_eq!(p.at(2), -25.0);
        assert_eq!(p.at(3), -20.0);
        assert!((p.at(6) - (-20.0 + 3.0 / 9.0 * 10.0)).abs() < 1e-12);
        assert_eq!(p.at(40), -10.0);
        assert_eq!(p.within(1), Some(-30.0));
        assert_eq!(p.within(13), None);
        assert_eq!(CurvePoints::new(vec![(1, -37.63)]).within(2), None);
    }

    #[test]
    fn curve_point_of_a_contract() {
        let front = Market::Wti.front_contract(date());
        assert_eq!(curve_point(front, date()), 1);
        assert_eq!(curve_point(contract(Market::Wti, 11), date()), 12);
        let expired = ContractId::new(Market::Wti, ContractMonth::new(2025, 1).unwrap());
        assert_eq!(curve_point(expired, date()), 1);
    }

    #[test]
    fn april_2020_sets_the_front_to_minus_37_63() {
        // Long 10 CL front at 60.00: P&L = 10 × 1,000 × (−37.63 − 60.00) = −976,300 USD.
        let s = scenario("2020 COVID and negative WTI");
        let book = vec![BookPosition::future(contract(Market::Wti, 0), 10, 60.0, "s")];
        let r = run_scenario(&s, &book, date(), &RiskLimits::default(), 1.0).unwrap();
        assert!((r.pnl_usd - (-976_300.0)).abs() < 1e-6, "{}", r.pnl_usd);
        assert_eq!(r.shocked_prices, vec![-37.63]);
        // 976,300 of a 10,000,000 stress limit.
        assert!((r.utilisation - 0.097_63).abs() < 1e-12);
        assert_eq!(r.zone, Zone::Ok);
        // The second month falls 66 %: short 5 CL M2 at 62.00 gains 5 × 1,000 × 62 × 0.66.
        let book = vec![BookPosition::future(contract(Market::Wti, 1), -5, 62.0, "s")];
        let r = run_scenario(&s, &book, date(), &RiskLimits::default(), 1.0).unwrap();
        assert!((r.pnl_usd - 5.0 * 1_000.0 * 62.0 * 0.66).abs() < 1e-6, "{}", r.pnl_usd);
    }

    #[test]
    fn negative_prices_are_revalued_not_assumed_away() {
        let s = scenario("2020 COVID and negative WTI");
        let front = contract(Market::Wti, 0);
        let put = OptionLeg { kind: OptionType::Put, strike: 20.0, expiry_years: 0.1, vol: 0.6, rate: 0.01 };
        let call = OptionLeg { kind: OptionType::Call, strike: 20.0, expiry_years: 0.1, vol: 0.6, rate: 0.01 };
        let book =
            vec![BookPosition::option(front, 3, 25.0, put, "s"), BookPosition::option(front, 2, 25.0, call, "s")];
        let r = run_scenario(&s, &book, date(), &RiskLimits::default(), 1.0).unwrap();
        assert_eq!(r.intrinsic_valued, 2);
        let disc = (-0.01f64 * 0.1).exp();
        let put_before = put.valuation_at(25.0, 0.6).unwrap().value;
        let call_before = call.valuation_at(25.0, 0.6).unwrap().value;
        let want_put = 3.0 * 1_000.0 * (disc * (20.0 + 37.63) - put_before);
        let want_call = 2.0 * 1_000.0 * (0.0 - call_before);
        assert!((r.per_position[0].1 - want_put).abs() < 1e-6);
        assert!((r.per_position[1].1 - want_call).abs() < 1e-6);
        assert!(r.pnl_usd.is_finite());
        // A futures position already at a negative mark moves linearly.
        let mut s2 = s.clone();
        s2.shocks = vec![Shock::Absolute { markets: vec![Market::Wti], change: CurvePoints::flat(-5.0) }];
        let book = vec![BookPosition::future(front, -2, -10.0, "s")];
        let r = run_scenario(&s2, &book, date(), &RiskLimits::default(), 1.0).unwrap();
        assert!((r.pnl_usd - 10_000.0).abs() < 1e-9);
        assert_eq!(r.shocked_prices, vec![-15.0]);
    }

    #[test]
    fn builtin_magnitudes_come_from_the_cited_data() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let daily = std::fs::read_to_string(root.join("wti_daily_fred.csv")).unwrap();
        for (d, price) in FRED_WTI_PRICES {
            assert!(
                daily.lines().any(|l| l == format!("{d},{price}")
                    || l == format!("{d},{price:.1}")
                    || l == format!("{d},{price:.2}")),
                "{d} {price}"
            );
        }
        let monthly = std::fs::read_to_string(root.join("brent_wti_monthly_eia.csv")).unwrap();
        for (d, b, w) in EIA_MONTHLY_PRICES {
            let line = monthly.lines().find(|l| l.starts_with(d)).unwrap();
            let cells: Vec<f64> = line.split(',').skip(1).map(|c| c.parse().unwrap()).collect();
            assert_eq!(cells, vec![b, w], "{d}");
        }
        let wti_front = |name: &str| {
            let s = scenario(name);
            s.shocked(Market::Wti, 1, 100.0, 0.3).0 - 100.0
        };
        assert!((wti_front("2008 crash (Jul–Dec 2008)") - (30.28 / 145.31 - 1.0) * 100.0).abs() < 1e-9);
        assert!((wti_front("2014–15 collapse") - (34.55 / 107.95 - 1.0) * 100.0).abs() < 1e-9);
        assert!((wti_front("1990 Gulf War spike") - (41.07 / 21.59 - 1.0) * 100.0).abs() < 1e-9);
        let brent = scenario("2008 crash (Jul–Dec 2008)").shocked(Market::Brent, 1, 100.0, 0.3).0;
        assert!((brent - 100.0 * (30.28 / 145.31) * (39.95 / 132.72) / (41.12 / 133.37)).abs() < 1e-9);
        for s in builtin_scenarios() {
            s.validate("builtin").unwrap();
            assert!(s.historical && !s.source.is_empty());
            // Deferred months move less than the front in every built-in scenario.
            let front = s.shocked(Market::Wti, 1, 70.0, 0.3).0 - 70.0;
            let back = s.shocked(Market::Wti, 12, 70.0, 0.3).0 - 70.0;
            assert!(back.abs() < front.abs(), "{}", s.name);
        }
    }

    #[test]
    fn shock_kinds() {
        let s = StressScenario {
            name: "x".into(),
            description: String::new(),
            historical: false,
            source: String::new(),
            shocks: vec![
                Shock::Twist {
                    markets: vec![Market::Wti],
                    front_pct: 10.0,
                    back_pct: -10.0,
                    front_month: 1,
                    back_month: 11,
                },
                Shock::Crack { markets: vec![Market::Rbob], usd_per_bbl: 4.2 },
                Shock::VolSpike { markets: vec![Market::Rbob], vol_points: CurvePoints::flat(-80.0) },
            ],
        };
        assert!((s.shocked(Market::Wti, 1, 80.0, 0.3).0 - 88.0).abs() < 1e-12);
        assert!((s.shocked(Market::Wti, 6, 80.0, 0.3).0 - 80.0).abs() < 1e-12);
        assert!((s.shocked(Market::Wti, 24, 80.0, 0.3).0 - 72.0).abs() < 1e-12);
        let (f, v) = s.shocked(Market::Rbob, 3, 2.5, 0.3);
        assert!((f - 2.6).abs() < 1e-12);
        assert_eq!(v, MIN_STRESS_VOL);
        assert_eq!(s.shocked(Market::Brent, 1, 80.0, 0.3), (80.0, 0.3));
    }

    #[test]
    fn sliders_add_a_scenario() {
        let book = vec![
            BookPosition::future(contract(Market::Wti, 0), 2, 70.0, "s"),
            BookPosition::future(contract(Market::HeatingOil, 2), -1, 2.5, "s"),
        ];
        let limits = RiskLimits::default();
        let none = run_stress(&[], &Sliders::default(), &book, date(), &limits).unwrap();
        assert!(none.is_empty());
        let sliders = Sliders { shift_pct: [-10.0, 0.0, 0.0, 20.0], vol_shift_pct: 0.0 };
        let r = run_stress(&[], &sliders, &book, date(), &limits).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].scenario, SLIDERS_SCENARIO);
        let want = 2.0 * 1_000.0 * -7.0 - 42_000.0 * 0.5;
        assert!((r[0].pnl_usd - want).abs() < 1e-6, "{}", r[0].pnl_usd);
        assert!(
            run_stress(
                &[],
                &Sliders { shift_pct: [f64::NAN, 0.0, 0.0, 0.0], vol_shift_pct: 0.0 },
                &book,
                date(),
                &limits
            )
            .is_err()
        );
        // The volatility slider reprices options only.
        let leg = OptionLeg { kind: OptionType::Call, strike: 70.0, expiry_years: 0.5, vol: 0.3, rate: 0.0 };
        let book = vec![BookPosition::option(contract(Market::Wti, 1), 1, 70.0, leg, "s")];
        let r = run_stress(&[], &Sliders { shift_pct: [0.0; 4], vol_shift_pct: 50.0 }, &book, date(), &limits).unwrap();
        let want = 1_000.0 * (leg.valuation_at(70.0, 0.45).unwrap().value - leg.valuation_at(70.0, 0.3).unwrap().value);
        assert!((r[0].pnl_usd - want).abs() < 1e-6);
    }

    #[test]
    fn the_shipped_user_scenarios_load() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/stress_scenarios.yaml");
        let s = load_scenarios(&path).unwrap();
        let kinds: Vec<&str> = s.iter().flat_map(|x| x.shocks.iter().map(Shock::kind)).collect();
        for k in ["relative", "twist", "crack", "vol_spike"] {
            assert!(kinds.contains(&k), "{k} missing from the examples");
        }
    }

    #[test]
    fn bad_scenarios_name_the_field() {
        let cases = [
            (
                "scenarios:\n  - name: a\n    description: d\n    shocks:\n      - kind: relative\n        markets: [CL]\n        pct: { X1: 5 }\n",
                "a",
                "shocks[0].pct",
            ),
            (
                "scenarios:\n  - name: a\n    description: d\n    shocks:\n      - kind: relative\n        markets: [ZZ]\n        pct: { M1: 5 }\n",
                "a",
                "shocks[0].markets",
            ),
            (
                "scenarios:\n  - name: a\n    description: d\n    shocks:\n      - kind: relative\n        markets: [CL]\n        pct: { M1: -150 }\n",
                "a",
                "shocks[0].pct",
            ),
            (
                "scenarios:\n  - name: a\n    description: d\n    shocks:\n      - kind: crack\n        markets: [CL]\n        usd_per_bbl: 5\n",
                "a",
                "shocks[0].markets",
            ),
            (
                "scenarios:\n  - name: a\n    description: d\n    shocks:\n      - kind: bend\n        markets: [CL]\n",
                "a",
                "shocks[0].kind",
            ),
            (
                "scenarios:\n  - name: a\n    description: d\n    shocks:\n      - kind: relative\n        markets: [CL]\n        pcts: { M1: 5 }\n",
                "a",
                "shocks[0].pcts",
            ),
            ("scenarios:\n  - name: a\n    descripton: d\n    shocks: []\n", "a", "descripton"),
            ("scenarios:\n  - name: a\n    description: d\n    shocks: []\n", "a", "shocks"),
            (
                "scenarios:\n  - name: 2022 invasion spike\n    description: d\n    shocks:\n      - kind: crack\n        markets: [HO]\n        usd_per_bbl: 5\n",
                "2022 invasion spike",
                "name",
            ),
            (
                "scenarios:\n  - name: a\n    description: d\n    shocks:\n      - kind: twist\n        markets: [CL]\n        front_pct: 5\n        back_pct: -5\n        front_month: 6\n        back_month: 3\n",
                "a",
                "shocks[0].back_month",
            ),
        ];
        for (text, entry, field) in cases {
            let e = scenarios_from_yaml_str(text, "s.yaml").unwrap_err();
            assert_eq!(e.entry, entry, "{e}");
            assert!(e.field.starts_with(field), "wanted {field}: {e}");
            assert!(e.to_string().starts_with("s.yaml: scenario"), "{e}");
        }
    }
}
