//! Helpers shared by the integration tests: reading the reference fixtures and comparing
//! series under the fixtures' tolerance.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

/// A fixture CSV: the header order and each column's cells as text.
pub struct Fixture {
    pub names: Vec<String>,
    pub text: HashMap<String, Vec<String>>,
}

impl Fixture {
    /// Load `tests/fixtures/<name>`.
    pub fn load(name: &str) -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(name);
        let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let mut lines = data.lines();
        let names: Vec<String> = lines.next().expect("header").split(',').map(str::to_string).collect();
        let mut text: HashMap<String, Vec<String>> = names.iter().map(|n| (n.clone(), Vec::new())).collect();
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), names.len(), "{name}: ragged fixture row {}", i + 2);
            for (n, c) in names.iter().zip(cells) {
                text.get_mut(n).expect("column").push(c.to_string());
            }
        }
        Self { names, text }
    }

    /// A numeric column, empty cells as NaN.
    pub fn col(&self, name: &str) -> Vec<f64> {
        self.text
            .get(name)
            .unwrap_or_else(|| panic!("fixture has no column {name}"))
            .iter()
            .map(
                |c| {
                    if c.is_empty() { f64::NAN } else { c.parse().unwrap_or_else(|_| panic!("bad cell {c} in {name}")) }
                },
            )
            .collect()
    }

    /// A text column.
    pub fn strings(&self, name: &str) -> &[String] {
        self.text.get(name).unwrap_or_else(|| panic!("fixture has no column {name}"))
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.text.get(&self.names[0]).map_or(0, Vec::len)
    }
}

/// Compare `got` with `want` bar for bar: NaN exactly where `want` is NaN, and
/// `|got - want| <= 1e-9 * max(1, |want|)` elsewhere. Returns the largest scaled error, or
/// a description of the first mismatch.
pub fn compare(what: &str, got: &[f64], want: &[f64]) -> Result<f64, String> {
    if got.len() != want.len() {
        return Err(format!("{what}: length {} vs {}", got.len(), want.len()));
    }
    let mut worst = 0.0f64;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() || g.is_nan() {
            if !(w.is_nan() && g.is_nan()) {
                return Err(format!("{what}: bar {i}: got {g}, reference {w} (NaN positions differ)"));
            }
            continue;
        }
        let scaled = (g - w).abs() / w.abs().max(1.0);
        if scaled > 1e-9 {
            return Err(format!("{what}: bar {i}: got {g}, reference {w}"));
        }
        worst = worst.max(scaled);
    }
    Ok(worst)
}

/// Panics unless [`compare`] accepts `got`.
pub fn assert_close(what: &str, got: &[f64], want: &[f64]) -> f64 {
    compare(what, got, want).unwrap_or_else(|e| panic!("{e}"))
}
