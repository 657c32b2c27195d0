//! Resident memory after one simulated hour at 1,000 ticks/s with 1-minute bars (and every
//! other timeframe) kept for every contract (goal < 300 MB). Runs the seeded simulator at
//! full speed into the state store on this thread, then reads VmRSS from /proc/self/status.
//!
//! `cargo bench --bench memory`

use crude_app::{ViewModel, ViewModelConfig};
use crude_feeds::sim::{MarketSimulator, SimConfig};
use crude_model::{Clock, LiveClock, Timeframe, Timestamp};

fn rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    // Any argument other than --bench (cargo passes it) is ignored.
    let start = {
        use chrono::TimeZone;
        Timestamp::from_datetime(
            &chrono_tz::America::New_York.with_ymd_and_hms(2026, 11, 18, 9, 0, 0).single().expect("valid time"),
        )
    };
    let before = rss_mb().unwrap_or(f64::NAN);
    let mut sim = MarketSimulator::new(SimConfig { seed: 5, ..SimConfig::default() }, start).expect("valid config");
    sim.set_total_tick_rate(1000.0).expect("valid rate");
    let mut store = ViewModel::new(ViewModelConfig::default());
    let wall = LiveClock;
    let t0 = sim.now();
    let end = t0.add_nanos(3600 * Timestamp::NANOS_PER_SEC);
    let mut out = Vec::with_capacity(64);
    let mut events = 0u64;
    let started = std::time::Instant::now();
    while sim.next_event_time() <= end {
        out.clear();
        sim.step(&mut out);
        let now = wall.now();
        for e in &out {
            store.apply(e, now);
        }
        events += out.len() as u64;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let series = store.charted_series();
    let m1_bars: usize = series.iter().filter_map(|s| store.bars(*s, Timeframe::M1)).map(|b| b.len()).sum();
    let after = rss_mb().unwrap_or(f64::NAN);
    println!(
        "memory: one simulated hour at 1,000 ticks/s: {} ticks, {events} events, {} series with bars, {m1_bars} one-minute bars; RSS {after:.1} MB (before {before:.1} MB); {elapsed:.1} s wall",
        store.stats.ticks_total,
        series.len()
    );
}
