//! Every indicator against the TA-Lib / numpy reference fixtures in `tests/fixtures/`
//! (see the README there): batch and streaming forms, on real WTI closes, a synthetic
//! OHLCV series built from them, and a simulated series that trades through zero.

mod common;

use common::{Fixture, assert_close, compare};
use crude_signals::{IndicatorSpec, MaKind, OhlcvBar, OhlcvSeries, Stoch, StochConfig, stoch};

const CLOSE_ONLY: &[&str] = &[
    "sma_20",
    "sma_50",
    "ema_20",
    "ema_9",
    "wma_10",
    "wma_20",
    "rsi_14",
    "rsi_7",
    "macd_12_26_9",
    "macd_5_35_5",
    "bb_20_2",
    "bb_10_1.5",
    "bb_20_1",
    "roc_10",
    "roc_1",
    "zscore_20",
];

const OHLCV: &[&str] = &[
    "atr_14",
    "atr_1",
    "natr_14",
    "natr_5",
    "adx_14",
    "plus_di_14",
    "minus_di_14",
    "adx_5",
    "plus_di_5",
    "minus_di_5",
    "stoch_5_3_3",
    "stoch_14_3_3",
    "stoch_9_1_4",
    "willr_14",
    "willr_5",
    "cci_20",
    "cci_14",
    "obv",
    "mfi_14",
    "mfi_5",
    "donchian_20",
    "donchian_5",
    "keltner_20_2",
    "keltner_20_1.5_10",
    "vwap",
    "supertrend_10_3",
    "supertrend_7_2",
];

/// Session id from a fixture date or date-time: the calendar date as YYYYMMDD.
fn session_of(date: &str) -> i64 {
    date[..10].replace('-', "").parse().expect("fixture date")
}

fn series(fx: &Fixture, ohlcv: bool) -> OhlcvSeries {
    let sessions: Vec<i64> = fx.strings("date").iter().map(|d| session_of(d)).collect();
    let s = OhlcvSeries::from_close(fx.col("close")).with_sessions(sessions).unwrap();
    if !ohlcv {
        return s;
    }
    s.with_open(fx.col("open"))
        .unwrap()
        .with_high_low(fx.col("high"), fx.col("low"))
        .unwrap()
        .with_volume(fx.col("volume"))
        .unwrap()
}

/// Check each named indicator, batch and streaming, against the fixture columns.
fn check(fx: &Fixture, data: &OhlcvSeries, names: &[&str]) -> usize {
    let mut checked = 0;
    let mut failures: Vec<String> = Vec::new();
    for name in names {
        let spec = IndicatorSpec::parse(name).unwrap();
        let cols = spec.columns();
        let batch = spec.compute(data).unwrap();
        assert_eq!(batch.len(), cols.len(), "{name}");
        // Streaming: one update per bar, every bar compared.
        let mut stream = spec.stream().unwrap();
        let mut streamed: Vec<Vec<f64>> = vec![Vec::with_capacity(data.len()); cols.len()];
        let sessions = data.sessions().unwrap();
        let mut row = Vec::with_capacity(cols.len());
        for (i, &session) in sessions.iter().enumerate() {
            row.clear();
            stream.update_into(&data.bar(i).unwrap(), session, &mut row);
            assert_eq!(row.len(), cols.len());
            for (c, v) in row.iter().enumerate() {
                streamed[c].push(*v);
            }
        }
        for ((col, b), s) in cols.iter().zip(&batch).zip(&streamed) {
            let want = fx.col(col);
            assert!(want.iter().any(|v| !v.is_nan()), "{col}: fixture has no values");
            // Batch and streaming against the reference, and against each other.
            for r in [
                compare(&format!("{col} (batch)"), b, &want),
                compare(&format!("{col} (streaming)"), s, &want),
                compare(&format!("{col} (streaming vs batch)"), s, b),
            ] {
                if let Err(e) = r {
                    failures.push(e);
                }
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    checked
}

#[test]
fn wti_closes_match_ta_lib() {
    let fx = Fixture::load("wti_close.csv");
    assert_eq!(fx.len(), 8321);
    let n = check(&fx, &series(&fx, false), CLOSE_ONLY);
    assert_eq!(n, 26);
}

#[test]
fn wti_synthetic_ohlcv_matches_ta_lib() {
    let fx = Fixture::load("wti_ohlcv.csv");
    let n = check(&fx, &series(&fx, true), OHLCV);
    assert_eq!(n, 40);
}

#[test]
fn simulated_series_through_zero_matches_ta_lib() {
    let fx = Fixture::load("sim_ohlcv.csv");
    let close = fx.col("close");
    assert!(close.iter().any(|&c| c < -30.0), "fixture must contain deeply negative prices");
    assert!(close.contains(&0.0), "fixture must contain an exact zero close");
    let data = series(&fx, true);
    let n = check(&fx, &data, CLOSE_ONLY) + check(&fx, &data, OHLCV);
    assert_eq!(n, 26 + 40);
}

#[test]
fn ema_smoothed_stochastic_matches_ta_lib() {
    for file in ["wti_ohlcv.csv", "sim_ohlcv.csv"] {
        let fx = Fixture::load(file);
        let (h, l, c) = (fx.col("high"), fx.col("low"), fx.col("close"));
        let cfg = StochConfig {
            fastk_period: 5,
            slowk_period: 3,
            slowk_ma: MaKind::Ema,
            slowd_period: 3,
            slowd_ma: MaKind::Ema,
        };
        let batch = stoch(&h, &l, &c, cfg).unwrap();
        assert_close(&format!("{file} stochema k"), &batch.k, &fx.col("stochema_k_5_3_3"));
        assert_close(&format!("{file} stochema d"), &batch.d, &fx.col("stochema_d_5_3_3"));
        let mut s = Stoch::new(cfg).unwrap();
        let (mut k, mut d) = (Vec::new(), Vec::new());
        for i in 0..c.len() {
            let o = s.update(&OhlcvBar::new(c[i], h[i], l[i], c[i], 0.0));
            k.push(o.map_or(f64::NAN, |o| o.k));
            d.push(o.map_or(f64::NAN, |o| o.d));
        }
        assert_close(&format!("{file} stochema k (streaming)"), &k, &fx.col("stochema_k_5_3_3"));
        assert_close(&format!("{file} stochema d (streaming)"), &d, &fx.col("stochema_d_5_3_3"));
    }
}

#[test]
fn fast_batch_paths_track_ta_lib_exactly() {
    // Batch RSI evaluates TA-Lib 0.8's expression in the same order (also in its four-lane
    // path, which these series are long enough to take), so it is bit-identical. Batch SMA
    // updates its window sum with one addition per bar and restarts it exactly every 4096
    // bars; it stays within 1e-12 (scaled) of TA-Lib, whose running sum drifts a little.
    for file in ["wti_close.csv", "sim_ohlcv.csv"] {
        let fx = Fixture::load(file);
        let close = fx.col("close");
        for (name, got) in
            [("rsi_14", crude_signals::rsi(&close, 14).unwrap()), ("rsi_7", crude_signals::rsi(&close, 7).unwrap())]
        {
            for (i, (g, w)) in got.iter().zip(&fx.col(name)).enumerate() {
                assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "{file} {name} bar {i}: {g} vs {w}");
            }
        }
        for (name, got) in
            [("sma_20", crude_signals::sma(&close, 20).unwrap()), ("sma_50", crude_signals::sma(&close, 50).unwrap())]
        {
            let worst = assert_close(name, &got, &fx.col(name));
            assert!(worst <= 1e-12, "{file} {name}: worst scaled error {worst}");
        }
    }
}

#[test]
fn into_variants_reuse_the_callers_buffer() {
    let fx = Fixture::load("wti_close.csv");
    let close = fx.col("close");
    let mut out = vec![123.0; close.len()];
    crude_signals::rsi_into(&close, 14, &mut out).unwrap();
    assert_close("rsi_into", &out, &fx.col("rsi_14"));
    crude_signals::sma_into(&close, 20, &mut out).unwrap();
    assert_close("sma_into", &out, &fx.col("sma_20"));
    let mut short = vec![0.0; 3];
    assert!(crude_signals::sma_into(&close, 20, &mut short).is_err());
    assert!(crude_signals::rsi_into(&close, 14, &mut short).is_err());
    let mut tiny = vec![0.0; 3];
    crude_signals::rsi_into(&close[..3], 14, &mut tiny).unwrap();
    assert!(tiny.iter().all(|v| v.is_nan()));
}
