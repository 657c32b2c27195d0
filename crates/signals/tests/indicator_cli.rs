//! `run_indicators`, the library side of `crude indicators`: output contract against the
//! reference fixtures, input leniency (BOM, CRLF, blanks, quotes) and every error path with
//! its exit code.

mod common;

use std::path::{Path, PathBuf};

use common::{Fixture, assert_close};
use crude_signals::{IndicatorCliError, IndicatorSpec, OhlcvSeries, run_indicators};

const DEFAULT_HEADER: &str = "date,sma_20,ema_20,rsi_14,macd_12_26_9,macd_signal_12_26_9,macd_hist_12_26_9,\
bb_upper_20_2,bb_middle_20_2,bb_lower_20_2";

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Build an input CSV from fixture columns.
fn csv_from_fixture(fx: &Fixture, cols: &[&str]) -> String {
    let mut s = cols.join(",");
    s.push('\n');
    for i in 0..fx.len() {
        let row: Vec<&str> = cols.iter().map(|c| fx.strings(c)[i].as_str()).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// Parse an output CSV: header and columns (empty cell = NaN).
fn read_output(path: &Path) -> (Vec<String>, Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(!text.contains('\r'), "output uses LF line ends");
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    let mut dates = Vec::new();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len() - 1];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "row {line}");
        dates.push(cells[0].to_string());
        for (c, cell) in cells[1..].iter().enumerate() {
            assert!(!cell.contains(['e', 'E']), "exponent in {cell}");
            assert_ne!(*cell, "-0", "negative zero written");
            cols[c].push(if cell.is_empty() { f64::NAN } else { cell.parse().unwrap() });
        }
    }
    (header, dates, cols)
}

fn run_err(input: &Path, indicators: Option<&str>) -> IndicatorCliError {
    let out = input.with_extension("out.csv");
    let e = run_indicators(input, Some(&out), indicators).unwrap_err();
    assert!(!out.exists(), "nothing may be written on error ({e})");
    e
}

#[test]
fn default_columns_match_ta_lib_on_wti_ohlcv() {
    let dir = tempfile::tempdir().unwrap();
    let ohlcv = Fixture::load("wti_ohlcv.csv");
    let close = Fixture::load("wti_close.csv");
    let input = write(
        dir.path(),
        "wti.csv",
        csv_from_fixture(&ohlcv, &["date", "open", "high", "low", "close", "volume"]).as_bytes(),
    );
    let out = dir.path().join("out.csv");
    run_indicators(&input, Some(&out), None).unwrap();
    let (header, dates, cols) = read_output(&out);
    assert_eq!(header.join(","), format!("{DEFAULT_HEADER},atr_14,adx_14"));
    assert_eq!(dates, ohlcv.strings("date"));
    for (name, col) in header[1..].iter().zip(&cols) {
        let want = if name.starts_with("atr") || name.starts_with("adx") { ohlcv.col(name) } else { close.col(name) };
        assert_close(name, col, &want);
    }
}

#[test]
fn close_only_input_gets_close_only_columns() {
    let dir = tempfile::tempdir().unwrap();
    let fx = Fixture::load("wti_close.csv");
    let input = write(dir.path(), "c.csv", csv_from_fixture(&fx, &["date", "close"]).as_bytes());
    let out = dir.path().join("out.csv");
    run_indicators(&input, Some(&out), None).unwrap();
    let (header, _, cols) = read_output(&out);
    assert_eq!(header.join(","), DEFAULT_HEADER);
    for (name, col) in header[1..].iter().zip(&cols) {
        assert_close(name, col, &fx.col(name));
    }
}

#[test]
fn every_documented_name_on_the_simulated_series() {
    let dir = tempfile::tempdir().unwrap();
    let fx = Fixture::load("sim_ohlcv.csv");
    let input = write(
        dir.path(),
        "sim.csv",
        csv_from_fixture(&fx, &["date", "open", "high", "low", "close", "volume"]).as_bytes(),
    );
    let list = "sma_50,ema_9,rsi_7,wma_10,macd_12_26_9,bb_20_2.5,atr_14,natr_14,adx_14,plus_di_14,minus_di_14,\
stoch_5_3_3,willr_14,roc_10,cci_20,obv,mfi_14,donchian_20,keltner_20_2,vwap,supertrend_10_3,zscore_20";
    let out = dir.path().join("out.csv");
    run_indicators(&input, Some(&out), Some(list)).unwrap();
    let (header, _, cols) = read_output(&out);
    let specs = IndicatorSpec::parse_list(list).unwrap();
    let expected: Vec<String> = specs.iter().flat_map(|s| s.columns()).collect();
    assert_eq!(header[1..], expected[..]);
    // The library's own values, to check the text round-trips bit for bit.
    let sessions: Vec<i64> = fx.strings("date").iter().map(|d| d[..10].replace('-', "").parse().unwrap()).collect();
    let data =
        OhlcvSeries::from_ohlcv(fx.col("open"), fx.col("high"), fx.col("low"), fx.col("close"), fx.col("volume"))
            .unwrap()
            .with_sessions(sessions)
            .unwrap();
    let lib: Vec<Vec<f64>> = specs.iter().flat_map(|s| s.compute(&data).unwrap()).collect();
    let mut against_fixture = 0;
    for ((name, col), lib_col) in header[1..].iter().zip(&cols).zip(&lib) {
        for (i, (a, b)) in col.iter().zip(lib_col).enumerate() {
            let same = a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || (*a == 0.0 && *b == 0.0);
            assert!(same, "{name} bar {i}: written {a}, computed {b}");
        }
        if fx.names.contains(name) {
            assert_close(name, col, &fx.col(name));
            against_fixture += 1;
        }
    }
    // All but the three bb_*_20_2.5 columns are in the fixture.
    assert_eq!(against_fixture, expected.len() - 3);
}

#[test]
fn lenient_input_bom_crlf_blanks_quotes_and_case() {
    let dir = tempfile::tempdir().unwrap();
    let dates: Vec<String> = (0..40)
        .map(|i| if i < 28 { format!("2020-03-{:02}", i + 1) } else { format!("2020-04-{:02}", i - 27) })
        .collect();
    let mut text = String::from("\u{feff} Date , \"CLOSE\" \r\n\r\n");
    let mut plain = String::from("date,close\n");
    for (i, date) in dates.iter().enumerate() {
        let px = 10.0 - i as f64 * 0.75; // crosses zero into negative prices
        text.push_str(&format!("  {date} ,  \"{px}\" \r\n"));
        plain.push_str(&format!("{date},{px}\n"));
    }
    text.push_str("\r\n   \r\n");
    let messy = write(dir.path(), "messy.csv", text.as_bytes());
    let clean = write(dir.path(), "clean.csv", plain.as_bytes());
    let (o1, o2) = (dir.path().join("o1.csv"), dir.path().join("o2.csv"));
    run_indicators(&messy, Some(&o1), Some("sma_5,rsi_3")).unwrap();
    run_indicators(&clean, Some(&o2), Some("sma_5,rsi_3")).unwrap();
    let a = std::fs::read_to_string(&o1).unwrap();
    assert_eq!(a, std::fs::read_to_string(&o2).unwrap());
    assert!(a.starts_with("date,sma_5,rsi_3\n2020-03-01,,\n"), "{a}");
    let last = a.lines().last().unwrap();
    assert!(last.starts_with("2020-04-12,-17.75,0"), "{last}");
}

#[test]
fn writes_to_stdout_and_overwrites_an_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", b"date,close\n2020-01-01,1\n2020-01-02,2\n");
    run_indicators(&input, None, Some("sma_2")).unwrap();
    let out = write(dir.path(), "out.csv", b"old content that must disappear\n");
    run_indicators(&input, Some(&out), Some("sma_2")).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "date,sma_2\n2020-01-01,\n2020-01-02,1.5\n");
}

#[test]
fn write_failure_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", b"date,close\n2020-01-01,1\n");
    let out = dir.path().join("no_such_dir").join("out.csv");
    let e = run_indicators(&input, Some(&out), None).unwrap_err();
    assert_eq!(e.exit_code(), 1, "{e}");
    assert!(matches!(e, IndicatorCliError::WriteOutput { .. }));
    assert!(e.to_string().contains("out.csv"), "{e}");
}

/// Each bad input: the error variant, exit code 2, and the message naming what to fix.
#[test]
fn bad_inputs_exit_2_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("empty", b"", &["empty"]),
        ("blank", b"\r\n  \n", &["empty"]),
        ("header_only", b"date,close\n", &["line 1", "no data rows"]),
        ("no_close", b"date,open\n2020-01-01,1\n", &["line 1", "missing column `close`"]),
        ("no_date", b"close\n1\n", &["missing column `date`"]),
        ("high_no_low", b"date,high,close\n2020-01-01,2,1\n", &["missing column `low`", "`high` is present"]),
        ("low_no_high", b"date,low,close\n2020-01-01,2,1\n", &["missing column `high`"]),
        ("unknown_col", b"date,close,adj_close\n2020-01-01,1,1\n", &["line 1, column 3", "unknown column `adj_close`"]),
        ("dup_col", b"date,close,Close\n2020-01-01,1,1\n", &["line 1, column 3", "appears twice"]),
        (
            "bad_number",
            b"date,close\n2020-01-01,1\n2020-01-02,abc\n",
            &["line 3, column 2 (`close`)", "`abc` is not a number"],
        ),
        ("nan_number", b"date,close\n2020-01-01,NaN\n", &["line 2, column 2 (`close`)", "not a finite number"]),
        ("inf_number", b"date,close\n2020-01-01,inf\n", &["line 2, column 2", "not a finite number"]),
        ("empty_cell", b"date,open,high,low,close\n2020-01-01,1,,1,1\n", &["line 2, column 3 (`high`)", "empty value"]),
        ("neg_volume", b"date,close,volume\n2020-01-01,1,-5\n", &["line 2, column 3 (`volume`)", "negative"]),
        ("bad_date", b"date,close\n01/02/2020,1\n", &["line 2, column 1 (`date`)", "not a date"]),
        (
            "unsorted",
            b"date,close\n2020-01-02,1\n2020-01-01,2\n",
            &["line 3", "earlier than `2020-01-02` on line 2", "sort"],
        ),
        ("duplicate", b"date,close\n2020-01-01,1\n\n2020-01-01,2\n", &["line 4", "repeats the date on line 2"]),
        ("ragged_short", b"date,close\n2020-01-01,1\n2020-01-02\n", &["line 3", "1 field(s) but the header has 2"]),
        ("ragged_long", b"date,close\r\n2020-01-01,1,5\r\n", &["line 2", "3 field(s) but the header has 2"]),
        ("bad_quote", b"date,close\n2020-01-01,\"1\n", &["line 2, column 2", "quoted"]),
        ("not_utf8", b"date,close\n2020-01-01,1\n\xff\xfe,2\n", &["line 3", "UTF-8"]),
    ];
    for (name, content, needles) in cases {
        let input = write(dir.path(), &format!("{name}.csv"), content);
        let e = run_err(&input, None);
        assert_eq!(e.exit_code(), 2, "{name}: {e}");
        let msg = e.to_string();
        assert!(msg.contains(&format!("{name}.csv")), "{name}: message names the file: {msg}");
        for n in *needles {
            assert!(msg.contains(n), "{name}: `{msg}` should contain `{n}`");
        }
    }
}

#[test]
fn missing_input_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let e = run_indicators(&dir.path().join("nope.csv"), None, None).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(matches!(e, IndicatorCliError::ReadInput { .. }) && e.to_string().contains("nope.csv"), "{e}");
}

#[test]
fn bad_indicator_lists_exit_2_naming_the_indicator() {
    let dir = tempfile::tempdir().unwrap();
    let close_only = write(dir.path(), "c.csv", b"date,close\n2020-01-01,1\n2020-01-02,2\n");
    let no_volume = write(dir.path(), "hl.csv", b"date,open,high,low,close\n2020-01-01,1,2,0,1\n");
    let cases: &[(&Path, &str, &[&str])] = &[
        (&close_only, "sma_20,foo_3", &["unknown indicator `foo_3`", "sma_N"]),
        (&close_only, "macd_12_26", &["`macd_12_26`", "macd_12_26_9"]),
        (&close_only, "rsi_1", &["`rsi_1`", "period = 1"]),
        (&close_only, "sma_20,,ema_9", &["position 2"]),
        (&close_only, "bb_20_2,bb_20_2.0", &["`bb_20_2` is listed twice"]),
        (&close_only, "sma_20,atr_14", &["`atr_14` needs the high and low column(s)", "c.csv"]),
        (&close_only, "vwap", &["`vwap` needs the high, low and volume column(s)"]),
        (&no_volume, "obv", &["`obv` needs the volume column(s)"]),
        (&no_volume, "mfi_14", &["`mfi_14` needs the volume column(s)"]),
    ];
    for (input, list, needles) in cases {
        let e = run_err(input, Some(list));
        assert_eq!(e.exit_code(), 2, "{list}: {e}");
        let msg = e.to_string();
        assert!(msg.starts_with("--indicators: "), "{msg}");
        for n in *needles {
            assert!(msg.contains(n), "{list}: `{msg}` should contain `{n}`");
        }
    }
}

#[test]
fn intraday_dates_and_vwap_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let text = "date,high,low,close,volume\n\
2020-04-20T22:00:00,2,2,2,1\n\
2020-04-20T23:00:00,4,4,4,3\n\
2020-04-21 00:00,-10,-10,-10,2\n\
2020-04-21T01:00:00Z,-20,-20,-20,2\n";
    let input = write(dir.path(), "i.csv", text.as_bytes());
    let out = dir.path().join("o.csv");
    run_indicators(&input, Some(&out), Some("vwap,obv")).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "date,vwap,obv\n2020-04-20T22:00:00,2,1\n2020-04-20T23:00:00,3.5,4\n2020-04-21 00:00,-10,2\n2020-04-21T01:00:00Z,-15,0\n"
    );
}
