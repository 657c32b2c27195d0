//! Holiday-table tests: the tables against the documented rules, against an independent
//! reference (`fixtures/holidays_reference.csv`, made by `fixtures/gen_reference.py` from the
//! `holidays` Python package 0.109), and business-day arithmetic.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use crude_model::{
    CME_HOLIDAYS, HolidayCalendar, ICE_BRENT_CLOSURES, ModelError, UK_BANK_HOLIDAYS, is_ice_brent_closed,
    rule_holidays, rule_ice_brent_closures, uk_bank_holidays,
};

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

fn table_dates(rows: &[(i32, u32, u32, &'static str)]) -> Vec<(NaiveDate, &'static str)> {
    rows.iter().map(|&(y, m, dd, n)| (d(y, m, dd), n)).collect()
}

/// Reference weekday holidays per calendar label from the fixture.
fn reference() -> BTreeMap<&'static str, Vec<NaiveDate>> {
    let text = include_str!("fixtures/holidays_reference.csv");
    let mut out: BTreeMap<&'static str, Vec<NaiveDate>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let mut it = line.splitn(3, ',');
        let cal = it.next().unwrap();
        let date = NaiveDate::parse_from_str(it.next().unwrap(), "%Y-%m-%d").unwrap();
        // The reference lists weekend holidays too; exchanges only close on weekdays.
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        out.entry(cal).or_default().push(date);
    }
    out
}

#[test]
fn tables_are_sorted_weekdays_in_range() {
    for rows in [CME_HOLIDAYS, UK_BANK_HOLIDAYS, ICE_BRENT_CLOSURES] {
        let dates = table_dates(rows);
        for w in dates.windows(2) {
            assert!(w[0].0 < w[1].0, "table not strictly sorted at {:?}", w);
        }
        for (date, name) in dates {
            assert!(!matches!(date.weekday(), Weekday::Sat | Weekday::Sun), "{date} {name} is a weekend");
            assert!((2020..=2030).contains(&date.year()));
        }
    }
}

#[test]
fn cme_table_matches_rules_every_year() {
    for y in 2020..=2030 {
        assert_eq!(HolidayCalendar::Cme.holidays(y), rule_holidays(HolidayCalendar::Cme, y), "CME {y}");
    }
}

#[test]
fn uk_table_matches_rules_plus_documented_one_offs() {
    for y in 2020..=2030 {
        let mut expected = rule_holidays(HolidayCalendar::Ice, y);
        match y {
            2020 => {
                // Early May bank holiday moved from Monday 4 May to Friday 8 May (VE Day 75).
                expected.retain(|&(dd, _)| dd != d(2020, 5, 4));
                expected.push((d(2020, 5, 8), "Early May bank holiday (VE Day)"));
            }
            2022 => {
                // Spring bank holiday moved from 30 May to Thursday 2 June; Jubilee 3 June;
                // State Funeral of Queen Elizabeth II on 19 September.
                expected.retain(|&(dd, _)| dd != d(2022, 5, 30));
                expected.push((d(2022, 6, 2), "Spring bank holiday"));
                expected.push((d(2022, 6, 3), "Platinum Jubilee bank holiday"));
                expected.push((d(2022, 9, 19), "State Funeral of Queen Elizabeth II"));
            }
            2023 => expected.push((d(2023, 5, 8), "Coronation of King Charles III")),
            _ => {}
        }
        expected.sort();
        assert_eq!(HolidayCalendar::Ice.holidays(y), expected, "UK {y}");
    }
}

#[test]
fn ice_brent_closures_match_rules() {
    let table = table_dates(ICE_BRENT_CLOSURES);
    for y in 2020..=2030 {
        let from_table: Vec<_> = table.iter().copied().filter(|(dd, _)| dd.year() == y).collect();
        assert_eq!(from_table, rule_ice_brent_closures(y), "ICE Brent {y}");
    }
    // Every Brent closure is also a London bank holiday (so also not an expiry business day).
    for (date, name) in table {
        assert!(HolidayCalendar::Ice.is_holiday(date), "{date} {name} not a UK bank holiday");
    }
}

#[test]
fn tables_match_independent_reference() {
    let r = reference();
    let cme: Vec<NaiveDate> = CME_HOLIDAYS.iter().map(|&(y, m, dd, _)| d(y, m, dd)).collect();
    let uk: Vec<NaiveDate> = UK_BANK_HOLIDAYS.iter().map(|&(y, m, dd, _)| d(y, m, dd)).collect();
    let ice: Vec<NaiveDate> = ICE_BRENT_CLOSURES.iter().map(|&(y, m, dd, _)| d(y, m, dd)).collect();
    assert_eq!(cme, r["CME"]);
    assert_eq!(uk, r["UK"]);
    assert_eq!(ice, r["ICE_BRENT"]);
}

#[test]
fn well_known_days() {
    let cme = HolidayCalendar::Cme;
    // Juneteenth only from 2022; observed Monday 20 June 2022 and Friday 18 June 2027.
    assert!(!cme.is_holiday(d(2021, 6, 18)));
    assert!(cme.is_holiday(d(2022, 6, 20)));
    assert!(cme.is_holiday(d(2027, 6, 18)));
    // New Year's Day on a Saturday is not observed on the Friday before.
    assert!(cme.is_business_day(d(2021, 12, 31)));
    assert!(cme.is_holiday(d(2021, 12, 24)));
    assert!(cme.is_holiday(d(2023, 1, 2)));
    // The 2025 National Day of Mourning closed the NYSE, not CME energy.
    assert!(cme.is_business_day(d(2025, 1, 9)));
    let uk = HolidayCalendar::Ice;
    assert!(uk.is_holiday(d(2022, 9, 19)));
    assert!(uk.is_holiday(d(2023, 5, 8)));
    assert!(uk.is_holiday(d(2026, 8, 31)));
    assert!(!uk.is_holiday(d(2020, 5, 4)));
    // ICE Brent trades on most bank holidays.
    assert!(!is_ice_brent_closed(d(2026, 8, 31)));
    assert!(!is_ice_brent_closed(d(2021, 12, 27)));
    assert!(is_ice_brent_closed(d(2022, 12, 26)));
    assert!(is_ice_brent_closed(d(2023, 1, 2)));
    let list = uk_bank_holidays(2022);
    assert_eq!(list.len(), 10);
    assert!(list.iter().any(|&(dd, _, trades)| dd == d(2022, 6, 3) && trades));
    assert!(list.iter().any(|&(dd, _, trades)| dd == d(2022, 12, 26) && !trades));
    // Weekends are not holidays but are not business days either.
    assert!(!cme.is_holiday(d(2024, 3, 2)) && !cme.is_business_day(d(2024, 3, 2)));
}

#[test]
fn business_day_arithmetic() {
    let cme = HolidayCalendar::Cme;
    // Over Christmas 2023 (Monday 25 Dec holiday) and a weekend.
    assert_eq!(cme.add_business_days(d(2023, 12, 22), 1), d(2023, 12, 26));
    assert_eq!(cme.add_business_days(d(2023, 12, 26), -1), d(2023, 12, 22));
    assert_eq!(cme.add_business_days(d(2023, 12, 25), -4), d(2023, 12, 19));
    assert_eq!(cme.add_business_days(d(2024, 3, 2), 0), d(2024, 3, 2));
    // Round trip over every day of 2020–2030 from business days.
    let mut day = d(2020, 1, 1);
    while day < d(2030, 12, 1) {
        if cme.is_business_day(day) {
            for n in [1, 5, 23] {
                assert_eq!(cme.add_business_days(cme.add_business_days(day, n), -n), day);
            }
        }
        day = day.succ_opt().unwrap();
    }
    assert_eq!(cme.last_business_day_of_month(2024, 3), d(2024, 3, 28)); // Good Friday 29th
    assert_eq!(cme.last_business_day_of_month(2026, 5), d(2026, 5, 29));
    assert_eq!(HolidayCalendar::Ice.last_business_day_of_month(2026, 8), d(2026, 8, 28));
    assert_eq!(HolidayCalendar::Ice.last_business_day_of_month(2024, 12), d(2024, 12, 31));
    // Out-of-range month clamps rather than panicking.
    assert_eq!(cme.last_business_day_of_month(2024, 13), d(2024, 12, 31));
    assert_eq!(cme.last_business_day_of_month(2024, 0), d(2024, 1, 31));
}

#[test]
fn extreme_inputs_do_not_panic() {
    for cal in [HolidayCalendar::Cme, HolidayCalendar::Ice] {
        assert_eq!(cal.add_business_days(NaiveDate::MAX, 10), NaiveDate::MAX);
        assert_eq!(cal.add_business_days(NaiveDate::MIN, -10), NaiveDate::MIN);
        let _ = cal.last_business_day_of_month(i32::MAX, 12);
        let _ = cal.last_business_day_of_month(i32::MIN, 1);
        let _ = cal.holidays(262_143);
        let _ = cal.is_business_day(NaiveDate::MAX);
        let _ = cal.is_business_day(NaiveDate::MIN);
    }
}

#[test]
fn outside_the_tables_rules_apply_and_check_reports() {
    let cme = HolidayCalendar::Cme;
    assert!(cme.is_holiday(d(2031, 12, 25)));
    assert!(cme.is_holiday(d(2019, 7, 4)));
    assert!(cme.is_holiday(d(2035, 11, 22))); // fourth Thursday of November 2035
    assert!(!cme.is_holiday(d(2019, 6, 19))); // Juneteenth only from 2022
    assert!(HolidayCalendar::Ice.is_holiday(d(2031, 8, 25)));
    assert!(is_ice_brent_closed(d(2033, 12, 26))); // Christmas on a Sunday
    assert!(cme.check_covered(d(2030, 12, 31)).is_ok());
    match cme.check_covered(d(2031, 1, 1)) {
        Err(ModelError::DateOutOfRange { date, first, last }) => {
            assert_eq!(date, d(2031, 1, 1));
            assert_eq!((first, last), (d(2020, 1, 1), d(2030, 12, 31)));
        }
        other => panic!("expected DateOutOfRange, got {other:?}"),
    }
}
