//! Number and time formatting shared by the panels: fixed decimals per market, signed
//! changes, volumes, and exchange-time clocks.

use chrono::TimeZone;
use chrono_tz::America::New_York;
use crude_model::{Market, Timestamp};

/// Decimals a market's prices are shown with (tick 0.01 $/bbl, 0.0001 $/gal).
pub fn decimals(m: Market) -> usize {
    m.price_decimals()
}

/// A price with the market's decimals, or an em dash.
pub fn price(m: Market, v: Option<f64>) -> String {
    m.format_price(v)
}

/// A signed change with the market's decimals.
pub fn change(m: Market, v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:+.*}", decimals(m), x),
        _ => "—".to_string(),
    }
}

/// A signed percentage with two decimals.
pub fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:+.2}%"),
        _ => "—".to_string(),
    }
}

/// A volume with thousands separators.
pub fn volume(v: u64) -> String {
    crude_model::thousands(v)
}

/// Exchange time (America/New_York) as `YYYY-MM-DD HH:MM:SS ET`.
pub fn exchange_time(t: Timestamp) -> String {
    New_York.timestamp_nanos(t.0).format("%Y-%m-%d %H:%M:%S ET").to_string()
}

/// Exchange time in a short form for axes: `MM-DD HH:MM`, or the date for daily bars.
pub fn axis_time(t: Timestamp, daily: bool) -> String {
    if daily {
        t.date_utc().format("%Y-%m-%d").to_string()
    } else {
        New_York.timestamp_nanos(t.0).format("%m-%d %H:%M").to_string()
    }
}

/// A latency given in microseconds, in milliseconds: `0.42 ms`, `12.3 ms`, `1,583 ms`.
pub fn latency_ms(us: u32) -> String {
    let ms = f64::from(us) / 1_000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{} ms", volume(ms.round() as u64))
    }
}

/// Seconds as a short age: `0.4s`, `12s`, `3m`, `2h`.
pub fn age(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        "—".into()
    } else if secs < 10.0 {
        format!("{secs:.1}s")
    } else if secs < 120.0 {
        format!("{secs:.0}s")
    } else if secs < 7200.0 {
        format!("{:.0}m", secs / 60.0)
    } else {
        format!("{:.0}h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn latency_reads_in_milliseconds() {
        assert_eq!(super::latency_ms(420), "0.42 ms");
        assert_eq!(super::latency_ms(12_345), "12.3 ms");
        assert_eq!(super::latency_ms(158_264_000), "158,264 ms");
    }

    use super::*;

    #[test]
    fn formats() {
        assert_eq!(price(Market::Wti, Some(-37.63)), "-37.63");
        assert_eq!(price(Market::Rbob, Some(2.1)), "2.1000");
        assert_eq!(price(Market::Wti, None), "—");
        assert_eq!(change(Market::Wti, Some(0.5)), "+0.50");
        assert_eq!(volume(1_234_567), "1,234,567");
        assert_eq!(volume(12), "12");
        assert_eq!(age(0.42), "0.4s");
        assert_eq!(exchange_time(Timestamp::from_secs(1_795_014_000)), "2026-11-18 10:00:00 ET");
    }
}
