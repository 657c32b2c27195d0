//! Symbology tests: exhaustive round trips over markets × months × years (no proptest in
//! the dependencies), accepted forms, one-digit-year resolution, errors and price fields.

use std::str::FromStr;

use chrono::{Days, NaiveDate};
use crude_model::{
    ContractId, ContractMonth, Instruments, Market, ModelError, PriceField, Symbol, bloomberg_generic, bloomberg_root,
    bloomberg_specific, bloomberg_specific_as_of, code_two_digit, contract_multiplier, ib_contract, ib_exchange,
    ib_local_symbol, ib_symbol, parse_symbol,
};

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

fn c(market: Market, y: i32, m: u32) -> ContractId {
    ContractId::new(market, ContractMonth::new(y, m).unwrap())
}

fn spec(s: &str, r: NaiveDate) -> ContractId {
    match parse_symbol(s, r).unwrap() {
        Symbol::Specific(c) => c,
        other => panic!("{s}: expected a specific contract, got {other:?}"),
    }
}

#[test]
fn exhaustive_specific_round_trips() {
    let mut checked = 0;
    for market in Market::ALL {
        for year in 2021..=2035 {
            for month in 1..=12 {
                let k = c(market, year, month);
                let ltd = k.last_trade_date();
                let refs = [ltd, ltd.checked_sub_days(Days::new(300)).unwrap(), d(year - 1, 1, 1)];
                for r in refs {
                    for text in [
                        k.to_string(),
                        k.to_string().to_lowercase(),
                        format!("  {k}  "),
                        bloomberg_specific(&k),
                        bloomberg_specific(&k).to_lowercase(),
                        ib_local_symbol(&k),
                    ] {
                        assert_eq!(spec(&text, r), k, "{text} at {r}");
                    }
                    let two = code_two_digit(&k);
                    assert_eq!(spec(&two, r), k);
                    assert_eq!(spec(&format!("{two} Comdty"), r), k);
                    assert_eq!(spec(&format!("{} {year}{month:02}", market.code()), r), k);
                    assert_eq!(spec(&format!("{}{}{year}", market.code(), k.month.code()), r), k);
                    assert_eq!(ContractId::from_str(&two).unwrap(), k);
                    assert_eq!(ContractId::parse(&k.to_string(), r).unwrap(), k);
                    checked += 1;
                }
                // Bloomberg's own form once expired is two-digit and still parses back.
                let after = ltd.succ_opt().unwrap();
                let expired = bloomberg_specific_as_of(&k, after);
                assert_eq!(spec(&expired, after), k, "{expired}");
                assert_eq!(bloomberg_specific_as_of(&k, ltd), bloomberg_specific(&k));
            }
        }
    }
    assert_eq!(checked, 4 * 15 * 12 * 3);
}

#[test]
fn exhaustive_generic_round_trips() {
    for market in Market::ALL {
        for n in 1..=99 {
            let want = Symbol::Generic { market, n };
            let bbg = bloomberg_generic(market, n);
            assert_eq!(parse_symbol(&bbg, d(2025, 1, 1)).unwrap(), want, "{bbg}");
            assert_eq!(parse_symbol(&bbg.to_lowercase(), d(2025, 1, 1)).unwrap(), want);
            let own = want.to_string();
            assert_eq!(parse_symbol(&own, d(2025, 1, 1)).unwrap(), want, "{own}");
            assert_eq!(want.bloomberg(), bbg);
        }
    }
}

#[test]
fn documented_examples() {
    let r = d(2025, 6, 1);
    assert_eq!(parse_symbol("CL1", r).unwrap(), Symbol::Generic { market: Market::Wti, n: 1 });
    assert_eq!(parse_symbol("CL1 Comdty", r).unwrap(), Symbol::Generic { market: Market::Wti, n: 1 });
    assert_eq!(parse_symbol("CO1 Comdty", r).unwrap(), Symbol::Generic { market: Market::Brent, n: 1 });
    assert_eq!(parse_symbol("XB2 COMDTY", r).unwrap(), Symbol::Generic { market: Market::Rbob, n: 2 });
    assert_eq!(parse_symbol("BZ1", r).unwrap(), Symbol::Generic { market: Market::Brent, n: 1 });
    assert_eq!(parse_symbol("ho24", r).unwrap(), Symbol::Generic { market: Market::HeatingOil, n: 24 });
    assert_eq!(spec("CLF7", r), c(Market::Wti, 2027, 1));
    assert_eq!(spec("CLF27", r), c(Market::Wti, 2027, 1));
    assert_eq!(spec("CLF7 Comdty", r), c(Market::Wti, 2027, 1));
    assert_eq!(spec("clf7 comdty", r), c(Market::Wti, 2027, 1));
    assert_eq!(spec("CL 202701", r), c(Market::Wti, 2027, 1));
    assert_eq!(spec("COILF7", r), c(Market::Brent, 2027, 1));
    assert_eq!(spec("COH4 Comdty", r), c(Market::Brent, 2034, 3)); // COH4 expired in Jan 2024
    assert_eq!(spec("COH24 Comdty", r), c(Market::Brent, 2024, 3));
    assert_eq!(spec("BZZ7", r), c(Market::Brent, 2027, 12));
    assert_eq!(spec("XBN5", r), c(Market::Rbob, 2025, 7));
    assert_eq!(spec("CLK0", d(2020, 4, 20)), c(Market::Wti, 2020, 5));
    assert_eq!(spec("CLF1999", r), c(Market::Wti, 1999, 1));
    assert_eq!(spec("CLF85", r), c(Market::Wti, 1985, 1));
}

#[test]
fn one_digit_year_follows_expiry() {
    // CLN5 (July 2025) last trades 2025-06-20.
    assert_eq!(spec("CLN5", d(2025, 6, 20)), c(Market::Wti, 2025, 7));
    assert_eq!(spec("CLN5", d(2025, 6, 21)), c(Market::Wti, 2035, 7));
    assert_eq!(spec("CLN5", d(2024, 12, 31)), c(Market::Wti, 2025, 7));
    // Around a decade boundary.
    assert_eq!(spec("CLZ9", d(2029, 12, 31)), c(Market::Wti, 2039, 12));
    assert_eq!(spec("CLF0", d(2029, 12, 1)), c(Market::Wti, 2030, 1));
    // Symbol::resolve: generics roll, specifics are fixed.
    let g = parse_symbol("CL1 Comdty", d(2020, 4, 1)).unwrap();
    assert_eq!(g.resolve(d(2020, 4, 21)).to_string(), "CLK0");
    assert_eq!(g.resolve(d(2020, 4, 22)).to_string(), "CLM0");
    assert_eq!(parse_symbol("CL2", d(2020, 4, 1)).unwrap().resolve(d(2020, 4, 21)).to_string(), "CLM0");
    let s = parse_symbol("CLF7", d(2025, 1, 1)).unwrap();
    assert_eq!(s.resolve(d(2030, 1, 1)), c(Market::Wti, 2027, 1));
    assert_eq!(s.market(), Market::Wti);
}

#[test]
fn bad_input_is_rejected_with_a_reason() {
    let r = d(2025, 6, 1);
    let cases = [
        "",
        "   ",
        "Comdty",
        "CL",
        "CL0",
        "CL100",
        "CLA7",
        "ZZF7",
        "ZZ1",
        "CLF",
        "CLF777",
        "CLF7X",
        "CL 2027",
        "CL 202713",
        "CL 20270A",
        "C-LF7",
        "CLF7 Index",
        "1CL",
        "CLF7 Comdty extra",
        "CLF2150",
    ];
    for s in cases {
        let e = parse_symbol(s, r).expect_err(s);
        assert!(!e.to_string().is_empty());
        match e {
            ModelError::BadSymbol { .. }
            | ModelError::UnknownMarket(_)
            | ModelError::BadMonthCode(_)
            | ModelError::BadContractMonth { .. } => {}
            other => panic!("{s}: unexpected error {other:?}"),
        }
    }
    assert!(matches!(parse_symbol("CLA7", r), Err(ModelError::BadMonthCode('A'))));
    assert!(matches!(parse_symbol("ZZF7", r), Err(ModelError::UnknownMarket(_))));
    // FromStr never guesses a one-digit year.
    let e = ContractId::from_str("CLF7").unwrap_err();
    assert!(e.to_string().contains("reference date"), "{e}");
    assert!(ContractId::from_str("CL1").is_err());
    assert!(ContractId::parse("CL1", r).is_err());
    assert_eq!(Market::from_str("xb").unwrap(), Market::Rbob);
}

#[test]
fn vendor_codes_and_multipliers_match_the_instruments_file() {
    let inst = Instruments::builtin().unwrap();
    for market in Market::ALL {
        let s = inst.spec(market);
        assert_eq!(bloomberg_root(market), s.bloomberg_root);
        assert_eq!(ib_symbol(market), s.ib_symbol);
        assert_eq!(ib_exchange(market), s.ib_exchange);
        assert_eq!(contract_multiplier(market), s.multiplier);
        for y in 2024..=2027 {
            for m in 1..=12 {
                let k = c(market, y, m);
                assert_eq!(ib_local_symbol(&k), s.format_ib_local_symbol(&k));
            }
        }
    }
    let k = c(Market::Brent, 2027, 1);
    let ib = ib_contract(&k);
    assert_eq!(
        (
            ib.symbol.as_str(),
            ib.exchange.as_str(),
            ib.local_symbol.as_str(),
            ib.contract_month.as_str(),
            ib.multiplier.as_str()
        ),
        ("COIL", "IPE", "COILF7", "202701", "1000")
    );
    assert_eq!(ib_local_symbol(&c(Market::Wti, 2027, 1)), "CLF7");
    assert_eq!(ib_contract(&c(Market::HeatingOil, 2026, 3)).multiplier, "42000");
    assert_eq!(bloomberg_generic(Market::Rbob, 0), "XB1 Comdty");
    assert_eq!(bloomberg_specific(&c(Market::HeatingOil, 2026, 3)), "HOH6 Comdty");
}

#[test]
fn price_fields() {
    for f in PriceField::ALL {
        assert_eq!(PriceField::from_str(f.bloomberg_field()).unwrap(), f, "{}", f.bloomberg_field());
        assert_eq!(PriceField::from_str(f.name()).unwrap(), f);
        assert_eq!(PriceField::from_str(&f.name().to_uppercase().replace('_', " ")).unwrap(), f);
    }
    let fields: Vec<&str> = PriceField::ALL.iter().map(|f| f.bloomberg_field()).collect();
    let mut unique = fields.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), fields.len(), "mnemonics must be distinct");
    assert_eq!(PriceField::Last.bloomberg_field(), "PX_LAST");
    assert_eq!(PriceField::Settle.bloomberg_field(), "PX_SETTLE");
    assert_eq!(PriceField::OpenInterest.bloomberg_field(), "OPEN_INT");
    assert_eq!(PriceField::from_str("oi").unwrap(), PriceField::OpenInterest);
    assert_eq!(PriceField::from_str("settlement").unwrap(), PriceField::Settle);
    assert_eq!(PriceField::from_str("VOLUME").unwrap(), PriceField::Volume);
    assert_eq!(PriceField::from_str("bid-size").unwrap(), PriceField::BidSize);
    assert!(PriceField::from_str("PX_FOO").is_err());
}
