//! Instruments file tests: the built-in file, tick arithmetic, and one test per validation
//! rule checking that the error names the file, the entry and the field.

use crude_model::{ContractId, ContractMonth, Instruments, Market, ModelError};

const GOOD: &str = include_str!("../../../config/instruments.yaml");

fn expect_config_err(text: &str, entry: &str, field: &str, reason_part: &str) {
    match Instruments::from_yaml_str(text, "test.yaml") {
        Err(ModelError::Config { file, entry: e, field: f, reason }) => {
            assert_eq!(file, "test.yaml");
            assert_eq!(e, entry, "entry; reason: {reason}");
            assert_eq!(f, field, "field; reason: {reason}");
            assert!(reason.contains(reason_part), "reason '{reason}' lacks '{reason_part}'");
        }
        other => panic!("expected a Config error, got {other:?}"),
    }
}

/// The good file with one line of the entry for `market` replaced.
fn with_line(market: &str, key: &str, new_line: &str) -> String {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in GOOD.lines() {
        if let Some(m) = line.trim().strip_prefix("- market: ") {
            current = m.to_string();
        }
        if current == market && line.trim_start().starts_with(&format!("{key}:")) {
            out.push(new_line.to_string());
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n")
}

#[test]
fn builtin_file_is_valid_and_complete() {
    let inst = Instruments::builtin().expect("the built-in instruments file must be valid");
    assert_eq!(inst.iter().count(), 4);
    for m in Market::ALL {
        let s = inst.spec(m);
        assert_eq!(s.market, m);
        assert_eq!(s.root, m.code());
        assert!((s.tick_value_usd - s.tick_size * s.multiplier).abs() < 1e-9);
        assert_eq!(s.bloomberg_yellow_key, "Comdty");
        assert!(s.listed_months >= 24);
    }
    let cl = inst.spec(Market::Wti);
    assert_eq!((cl.multiplier, cl.tick_size, cl.tick_value_usd), (1000.0, 0.01, 10.0));
    assert_eq!(inst.spec(Market::Brent).bloomberg_root, "CO");
    assert_eq!(inst.spec(Market::Brent).ib_symbol, "COIL");
    assert_eq!(inst.spec(Market::Rbob).bloomberg_root, "XB");
    let ho = inst.spec(Market::HeatingOil);
    assert_eq!((ho.multiplier, ho.tick_size, ho.unit.as_str()), (42000.0, 0.0001, "gal"));
    assert!((ho.tick_value_usd - 4.2).abs() < 1e-12);
    assert_eq!(inst.multiplier(Market::Rbob), 42000.0);
    // Round trip through YAML.
    let again = Instruments::from_yaml_str(&inst.to_yaml().unwrap(), "round trip").unwrap();
    assert_eq!(again, inst);
}

#[test]
fn load_reads_a_file_and_names_a_missing_one() {
    let path = std::env::temp_dir().join(format!("crude-model-instruments-{}.yaml", std::process::id()));
    std::fs::write(&path, GOOD).unwrap();
    let loaded = Instruments::load(&path).unwrap();
    assert_eq!(loaded, Instruments::builtin().unwrap());
    std::fs::remove_file(&path).unwrap();
    match Instruments::load(&path) {
        Err(ModelError::Config { file, field, .. }) => {
            assert_eq!(file, path.display().to_string());
            assert_eq!(field, "(read)");
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn tick_rounding_and_grid() {
    let inst = Instruments::builtin().unwrap();
    let cl = inst.spec(Market::Wti);
    assert_eq!(cl.round_to_tick(71.234), 71.23);
    assert_eq!(cl.round_to_tick(71.235_000_1), 71.24);
    assert_eq!(cl.round_to_tick(0.1 + 0.2), 0.3);
    assert_eq!(cl.round_to_tick(-37.634), -37.63);
    assert_eq!(cl.round_to_tick(-37.636), -37.64);
    assert!(cl.is_on_tick_grid(-37.63));
    assert!(cl.is_on_tick_grid(0.1 + 0.2));
    assert!(cl.is_on_tick_grid(71.23));
    assert!(!cl.is_on_tick_grid(71.235));
    assert!(!cl.is_on_tick_grid(f64::NAN));
    assert!(cl.round_to_tick(f64::INFINITY).is_infinite());
    let rb = inst.spec(Market::Rbob);
    assert_eq!(rb.round_to_tick(2.345_67), 2.3457);
    assert!(rb.is_on_tick_grid(2.3457));
    assert!(!rb.is_on_tick_grid(2.345_65));
    // Every CL price from -50.00 to 150.00 in cents is on the grid and rounds to itself.
    for cents in -5000..=15000 {
        let p = cents as f64 / 100.0;
        assert!(cl.is_on_tick_grid(p), "{p}");
        assert_eq!(cl.round_to_tick(p), p);
    }
    for tenth_mills in (-20000..=60000).step_by(7) {
        let p = tenth_mills as f64 / 10000.0;
        assert!(rb.is_on_tick_grid(p), "{p}");
        assert_eq!(rb.round_to_tick(p), p);
    }
}

#[test]
fn notional_and_pnl() {
    let inst = Instruments::builtin().unwrap();
    let cl = inst.spec(Market::Wti);
    assert_eq!(cl.notional_usd(75.0, 2), 150_000.0);
    assert_eq!(cl.notional_usd(-37.63, 1), -37_630.0);
    assert_eq!(cl.pnl_usd(18.0, -37.63, -1), 55_630.0);
    assert_eq!(cl.ticks_between(70.00, 70.25).round(), 25.0);
    let ho = inst.spec(Market::HeatingOil);
    assert!((ho.value_of_move_usd(0.0001) - 4.2).abs() < 1e-9);
    assert!((ho.price_per_barrel(2.5) - 105.0).abs() < 1e-12);
    assert_eq!(ho.barrels_per_contract(), 1000.0);
    assert_eq!(cl.price_per_barrel(80.0), 80.0);
    let c = ContractId::new(Market::Brent, ContractMonth::new(2027, 1).unwrap());
    assert_eq!(inst.spec(Market::Brent).format_ib_local_symbol(&c), "COILF7");
}

#[test]
fn unknown_field_is_rejected() {
    let text = GOOD.replace("    listed_months: 96\n", "    listed_months: 96\n    lot_size: 3\n");
    expect_config_err(&text, "BZ", "lot_size", "unknown field");
}

#[test]
fn missing_field_is_reported() {
    let text = with_line("RB", "tick_size", "");
    expect_config_err(&text, "RB", "tick_size", "missing field");
}

#[test]
fn wrong_type_is_reported_with_field() {
    let text = with_line("HO", "multiplier", "    multiplier: lots");
    expect_config_err(&text, "HO", "multiplier", "invalid type");
}

#[test]
fn non_positive_multiplier_and_tick() {
    expect_config_err(&with_line("CL", "multiplier", "    multiplier: 0"), "CL", "multiplier", "positive");
    expect_config_err(&with_line("CL", "multiplier", "    multiplier: -1000"), "CL", "multiplier", "positive");
    expect_config_err(&with_line("BZ", "tick_size", "    tick_size: 0"), "BZ", "tick_size", "positive");
    expect_config_err(&with_line("BZ", "tick_size", "    tick_size: .nan"), "BZ", "tick_size", "positive");
}

#[test]
fn tick_value_must_match() {
    expect_config_err(&with_line("RB", "tick_value_usd", "    tick_value_usd: 4.3"), "RB", "tick_value_usd", "4.2");
}

#[test]
fn every_market_exactly_once() {
    // Drop the HO entry (it is last in the file).
    let cut = GOOD.find("  - market: HO").unwrap();
    expect_config_err(&GOOD[..cut], "HO", "market", "no entry");
    // Duplicate the CL entry.
    let (start, end) = (GOOD.find("  - market: CL").unwrap(), GOOD.find("  - market: BZ").unwrap());
    let dup = format!("{GOOD}\n{}", &GOOD[start..end]);
    expect_config_err(&dup, "CL", "market", "more than once");
}

#[test]
fn bad_market_code_names_entry_index() {
    let text = GOOD.replace("  - market: RB", "  - market: ZZ");
    expect_config_err(&text, "ZZ", "market", "unknown market");
}

#[test]
fn root_unit_template_margin_and_strings() {
    expect_config_err(&with_line("CL", "root", "    root: WTI"), "CL", "root", "must equal");
    expect_config_err(&with_line("HO", "unit", "    unit: bbl"), "HO", "unit", "gal");
    expect_config_err(
        &with_line("CL", "ib_local_symbol_format", "    ib_local_symbol_format: \"CL{mon}{y}\""),
        "CL",
        "ib_local_symbol_format",
        "unknown placeholder",
    );
    expect_config_err(
        &with_line("CL", "ib_local_symbol_format", "    ib_local_symbol_format: \"CL{month}\""),
        "CL",
        "ib_local_symbol_format",
        "must contain",
    );
    expect_config_err(
        &with_line("BZ", "initial_margin_usd", "    initial_margin_usd: -5"),
        "BZ",
        "initial_margin_usd",
        "non-negative",
    );
    expect_config_err(&with_line("BZ", "currency", "    currency: \"\""), "BZ", "currency", "empty");
    expect_config_err(&with_line("RB", "listed_months", "    listed_months: 0"), "RB", "listed_months", "at least 1");
}

#[test]
fn bad_top_level_and_syntax() {
    expect_config_err("instrumentz: []\n", "(top level)", "instrumentz", "unknown field");
    match Instruments::from_yaml_str("instruments: [\n", "broken.yaml") {
        Err(ModelError::Config { file, reason, .. }) => {
            assert_eq!(file, "broken.yaml");
            assert!(reason.contains("line"), "{reason}");
        }
        other => panic!("expected a Config error, got {other:?}"),
    }
}
