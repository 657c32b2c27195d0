//! The standard normal functions pinned to scipy on a dense grid (`fixtures/normal_grid.json`,
//! written by `fixtures/generate_normal_grid.py` with the scipy named in the fixture README).
//!
//! The tolerances are the measured agreement (see `src/normal.rs`) with a little room: a few
//! units in the last place where scipy itself is accurate, scipy's own error where it is not
//! (the distribution function below −8). A `norm_cdf` or `erfc` built on statrs's `erfc`
//! (about 1e-10 off) fails here.

use std::path::PathBuf;

use crude_risk::{erfc, norm_cdf, norm_pdf, norm_ppf};
use serde_json::Value;

fn grid() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/normal_grid.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// `[argument, value]` pairs; the values are stored as strings and parsed by the standard
/// library, which rounds correctly, so no JSON float parsing sits between scipy and the test.
fn pairs(grid: &Value, name: &str) -> Vec<(f64, f64)> {
    let rows = grid[name].as_array().unwrap();
    assert!(rows.len() > 100, "{name}: only {} points", rows.len());
    rows.iter()
        .map(|row| (row[0].as_str().unwrap().parse().unwrap(), row[1].as_str().unwrap().parse().unwrap()))
        .collect()
}

fn rel_diff(got: f64, expected: f64) -> f64 {
    if got == expected { 0.0 } else { (got - expected).abs() / expected.abs() }
}

/// Checks `f` against scipy at every point: relative tolerance `tol(x)` for normal doubles;
/// where scipy's value is subnormal or flushed to zero only closeness to it in absolute terms
/// (subnormals carry too few bits for a relative comparison).
fn check(name: &str, f: impl Fn(f64) -> f64, tol: impl Fn(f64) -> f64) -> f64 {
    let mut worst = 0.0f64;
    for (x, expected) in pairs(&grid(), name) {
        let got = f(x);
        if expected.abs() < f64::MIN_POSITIVE {
            assert!((got - expected).abs() < 1e-300, "{name}({x:e}) = {got:e}, scipy {expected:e}");
            continue;
        }
        let rel = rel_diff(got, expected);
        assert!(rel <= tol(x), "{name}({x:e}) = {got:e}, scipy {expected:e}, relative {rel:e} > {:e}", tol(x));
        worst = worst.max(rel);
    }
    worst
}

#[test]
fn the_fixture_is_the_documented_one() {
    let g = grid();
    assert_eq!(g["scipy"], "1.17.1");
    assert_eq!(pairs(&g, "cdf").len(), 377);
    assert_eq!(pairs(&g, "pdf").len(), 377);
    assert_eq!(pairs(&g, "ppf").len(), 138);
    assert_eq!(pairs(&g, "erfc").len(), 268);
    // the tails the risk code meets are on the grid
    let ppf = pairs(&g, "ppf");
    for p in [1e-300, 1e-10, 0.01, 0.05, 0.95, 0.99, 0.999] {
        assert!(ppf.iter().any(|&(q, _)| q == p), "ppf({p}) not on the grid");
    }
    let cdf = pairs(&g, "cdf");
    for x in [-38.0, -8.0, 0.0, 5.0, 8.0] {
        assert!(cdf.iter().any(|&(y, _)| y == x), "cdf({x}) not on the grid");
    }
}

#[test]
fn quantile_matches_scipy_to_1e_15() {
    let worst = check("ppf", norm_ppf, |_| 1e-15);
    assert!(worst > 0.0, "not a single last-place difference: is the fixture being read?");
}

#[test]
fn density_matches_scipy_to_1e_15() {
    check("pdf", norm_pdf, |_| 1e-15);
}

#[test]
fn distribution_function_matches_scipy() {
    // measured: 2.5e-15 on [−8, 8] (a few units in the last place each side), 1.2e-13
    // below −8 where scipy's own error is 1.1e-13 (Crude's is below 9e-15 there, checked
    // against 60-digit values in `reference.rs`)
    check("cdf", norm_cdf, |x| if x >= -8.0 { 4e-15 } else { 2e-13 });
}

#[test]
fn erfc_matches_scipy() {
    // measured: 1.1e-15, the sum of Crude's and scipy's last-place errors
    check("erfc", erfc, |_| 2e-15);
}
