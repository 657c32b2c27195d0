//! Runs a [`MarketFeed`] on a tokio task: paces feed time against the wall clock, sends
//! event batches through a bounded channel, and calls a notifier (the app's
//! `request_repaint`) after each batch.

use std::sync::Arc;
use std::time::Duration;

use crude_model::{Clock, FeedStatus, MarketEvent, Timestamp};
use tokio::sync::mpsc;

use crate::feed::{FeedPoll, MarketFeed};

/// How fast feed time runs against the wall clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// N× real time (1.0 = real time).
    Multiple(f64),
    /// As fast as the consumer takes events (stress tests, backtests).
    Max,
}

impl Speed {
    /// Parse `1`, `60`, `0.5`, `max`.
    ///
    /// # Errors
    /// A message naming the value and what is accepted.
    pub fn parse(s: &str) -> Result<Speed, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 && v <= 1e9 => Ok(Speed::Multiple(v)),
            _ => Err(format!(
                "invalid speed '{s}': expected a positive multiple of real time such as 1, 60 or 86400 (at most 1e9), or 'max'"
            )),
        }
    }
}

/// Maps wall time to feed time.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    wall_start: Timestamp,
    feed_start: Timestamp,
    speed: f64,
}

impl Pacer {
    /// Feed time `feed_start` corresponds to wall time `wall_start`.
    pub fn new(wall_start: Timestamp, feed_start: Timestamp, speed: f64) -> Self {
        Self { wall_start, feed_start, speed }
    }

    /// Feed time at wall time `wall`.
    pub fn feed_time(&self, wall: Timestamp) -> Timestamp {
        let elapsed = (wall.0 - self.wall_start.0) as f64 * self.speed;
        Timestamp(self.feed_start.0.saturating_add(elapsed as i64))
    }

    /// Wall-clock wait until feed time `t` is reached (zero if already past).
    pub fn wait_until(&self, wall_now: Timestamp, t: Timestamp) -> Duration {
        let feed_now = self.feed_time(wall_now);
        let ahead = (t.0 - feed_now.0) as f64 / self.speed;
        if ahead <= 0.0 { Duration::ZERO } else { Duration::from_nanos(ahead as u64) }
    }

    /// Change speed without a jump in feed time.
    pub fn set_speed(&mut self, wall_now: Timestamp, speed: f64) {
        self.feed_start = self.feed_time(wall_now);
        self.wall_start = wall_now;
        self.speed = speed;
    }
}

/// A batch of events as it leaves a feed task. Cheap to clone: the events are shared, so
/// the fan-out to every service and the app holds one copy of them.
#[derive(Debug, Clone)]
pub struct FeedBatch {
    pub events: Arc<[MarketEvent]>,
    /// Wall time the batch was sent, for tick-to-store latency.
    pub sent_wall: Timestamp,
    /// History sent when the feed starts (not counted in live latency statistics).
    pub history: bool,
}

/// Commands the app sends to a feed task.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedCommand {
    SetSpeed(Speed),
    Pause(bool),
    Shutdown,
}

/// The app's end of a running feed.
pub struct FeedHandle {
    pub events: mpsc::Receiver<FeedBatch>,
    pub commands: mpsc::UnboundedSender<FeedCommand>,
}

/// Largest batch a feed task sends at once.
const MAX_BATCH: usize = 4096;
/// Longest a feed task sleeps before checking its commands again.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// Spawn `feed` on the current tokio runtime.
///
/// `wall` is the wall clock used for pacing and latency stamps; `notify` is called after
/// each batch is queued (the app passes `egui::Context::request_repaint`).
pub fn spawn_feed(
    rt: &tokio::runtime::Handle,
    feed: Box<dyn MarketFeed>,
    speed: Speed,
    wall: Arc<dyn Clock>,
    notify: Arc<dyn Fn() + Send + Sync>,
    capacity: usize,
) -> FeedHandle {
    FeedHandle::spawn_with_taps(rt, feed, speed, wall, notify, capacity, Vec::new())
}

/// Sends a copy of `batch` to every tap, dropping taps whose receiver has gone. A tap that
/// is full makes the feed wait (back-pressure), so a subscriber never misses an event.
async fn send_to_taps(taps: &mut Vec<mpsc::Sender<FeedBatch>>, batch: &FeedBatch) {
    let mut i = 0;
    while i < taps.len() {
        if taps[i].send(batch.clone()).await.is_err() {
            taps.swap_remove(i);
        } else {
            i += 1;
        }
    }
}

impl FeedHandle {
    /// [`spawn_feed`] with a fan-out: every batch the app receives (history and live, in
    /// the same order) is also sent, as a copy, to each of `taps` — e.g. the trading
    /// worker, which fills paper orders against the same quotes the app shows. Taps are
    /// served before the app; a tap whose receiver is dropped is removed, the feed goes on.
    pub fn spawn_with_taps(
        rt: &tokio::runtime::Handle,
        feed: Box<dyn MarketFeed>,
        speed: Speed,
        wall: Arc<dyn Clock>,
        notify: Arc<dyn Fn() + Send + Sync>,
        capacity: usize,
        taps: Vec<mpsc::Sender<FeedBatch>>,
    ) -> FeedHandle {
        spawn_inner(rt, feed, speed, wall, notify, capacity, taps)
    }
}

fn spawn_inner(
    rt: &tokio::runtime::Handle,
    mut feed: Box<dyn MarketFeed>,
    speed: Speed,
    wall: Arc<dyn Clock>,
    notify: Arc<dyn Fn() + Send + Sync>,
    capacity: usize,
    mut taps: Vec<mpsc::Sender<FeedBatch>>,
) -> FeedHandle {
    let (tx, rx) = mpsc::channel::<FeedBatch>(capacity.max(1));
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<FeedCommand>();
    rt.spawn(async move {
        let initial = feed.initial_events();
        let status = MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: wall.now() };
        let mut first = Vec::with_capacity(initial.len() + 1);
        first.push(status);
        first.extend(initial);
        for chunk in first.chunks(MAX_BATCH) {
            let batch = FeedBatch { events: chunk.to_vec().into(), sent_wall: wall.now(), history: true };
            send_to_taps(&mut taps, &batch).await;
            if tx.send(batch).await.is_err() {
                return;
            }
        }
        notify();

        let feed_start = feed.start_time().unwrap_or_else(|| wall.now());
        let mut speed = speed;
        let mut pacer = Pacer::new(
            wall.now(),
            feed_start,
            match speed {
                Speed::Multiple(m) => m,
                Speed::Max => 1.0,
            },
        );
        let mut paused = false;
        let mut out: Vec<MarketEvent> = Vec::with_capacity(1024);
        loop {
            while let Ok(cmd) = cmd_rx.try_recv() {
                match cmd {
                    FeedCommand::Shutdown => return,
                    FeedCommand::Pause(p) => {
                        if paused && !p {
                            // Resume where feed time stopped.
                            let t = feed.next_event_time().unwrap_or(feed_start);
                            pacer = Pacer::new(
                                wall.now(),
                                t,
                                match speed {
                                    Speed::Multiple(m) => m,
                                    Speed::Max => 1.0,
                                },
                            );
                        }
                        paused = p;
                    }
                    FeedCommand::SetSpeed(s) => {
                        speed = s;
                        if let Speed::Multiple(m) = s {
                            pacer.set_speed(wall.now(), m);
                        }
                    }
                }
            }
            if paused {
                tokio::time::sleep(MAX_SLEEP).await;
                continue;
            }
            out.clear();
            let poll = match speed {
                Speed::Max => {
                    let mut p = FeedPoll::Pending;
                    while out.len() < MAX_BATCH {
                        let Some(t) = feed.next_event_time() else { break };
                        p = feed.poll(t, &mut out);
                        if p == FeedPoll::Ended {
                            break;
                        }
                    }
                    p
                }
                Speed::Multiple(_) => feed.poll(pacer.feed_time(wall.now()), &mut out),
            };
            if !out.is_empty() {
                let batch =
                    FeedBatch { events: std::mem::take(&mut out).into(), sent_wall: wall.now(), history: false };
                send_to_taps(&mut taps, &batch).await;
                if tx.send(batch).await.is_err() {
                    return; // the app has gone
                }
                notify();
            }
            if poll == FeedPoll::Ended {
                let ev = MarketEvent::Status { kind: feed.kind(), status: feed.status(), ts: wall.now() };
                let batch = FeedBatch { events: vec![ev].into(), sent_wall: wall.now(), history: false };
                send_to_taps(&mut taps, &batch).await;
                // Dropping the taps tells subscribers the feed has ended.
                taps.clear();
                let _ = tx.send(batch).await;
                notify();
                // Stay alive for commands so the app can still shut down cleanly.
                while let Some(cmd) = cmd_rx.recv().await {
                    if cmd == FeedCommand::Shutdown {
                        return;
                    }
                }
                return;
            }
            match speed {
                Speed::Max => tokio::task::yield_now().await,
                Speed::Multiple(_) => {
                    let wait = match feed.next_event_time() {
                        Some(t) => pacer.wait_until(wall.now(), t).min(MAX_SLEEP),
                        None => Duration::from_millis(10),
                    };
                    tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
                }
            }
        }
    });
    FeedHandle { events: rx, commands: cmd_tx }
}

/// A status event saying the feed is disconnected, for a feed task that failed to start.
pub fn disconnected_event(kind: crude_model::FeedKind, reason: &str, now: Timestamp) -> MarketEvent {
    MarketEvent::Status { kind, status: FeedStatus::Disconnected { reason: reason.to_string() }, ts: now }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_maps_time_with_speed() {
        let p = Pacer::new(Timestamp::from_secs(1000), Timestamp::from_secs(0), 60.0);
        assert_eq!(p.feed_time(Timestamp::from_secs(1001)), Timestamp::from_secs(60));
        assert_eq!(p.wait_until(Timestamp::from_secs(1001), Timestamp::from_secs(120)), Duration::from_secs(1));
        assert_eq!(p.wait_until(Timestamp::from_secs(1002), Timestamp::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn pacer_speed_change_is_continuous() {
        let mut p = Pacer::new(Timestamp::from_secs(0), Timestamp::from_secs(0), 2.0);
        p.set_speed(Timestamp::from_secs(10), 10.0);
        assert_eq!(p.feed_time(Timestamp::from_secs(10)), Timestamp::from_secs(20));
        assert_eq!(p.feed_time(Timestamp::from_secs(11)), Timestamp::from_secs(30));
    }

    /// A feed of `n` trades one second apart that then ends.
    struct Ticks {
        next: i64,
        n: i64,
    }

    impl MarketFeed for Ticks {
        fn kind(&self) -> crude_model::FeedKind {
            crude_model::FeedKind::Replay
        }
        fn status(&self) -> FeedStatus {
            FeedStatus::Replay
        }
        fn name(&self) -> &'static str {
            "ticks"
        }
        fn subscribe(&mut self, _: &[crude_model::SeriesId]) -> Result<(), crate::FeedError> {
            Ok(())
        }
        fn unsubscribe(&mut self, _: &[crude_model::SeriesId]) -> Result<(), crate::FeedError> {
            Ok(())
        }
        fn request_history(&mut self, _: &crate::HistoryRequest) -> Result<Vec<crude_model::Bar>, crate::FeedError> {
            Ok(Vec::new())
        }
        fn start_time(&self) -> Option<Timestamp> {
            Some(Timestamp::from_secs(0))
        }
        fn next_event_time(&self) -> Option<Timestamp> {
            (self.next < self.n).then(|| Timestamp::from_secs(self.next))
        }
        fn poll(&mut self, now: Timestamp, out: &mut Vec<MarketEvent>) -> FeedPoll {
            while self.next < self.n && Timestamp::from_secs(self.next) <= now {
                let contract = crude_model::ContractId::new(
                    crude_model::Market::Wti,
                    crude_model::ContractMonth::new(2027, 1).expect("valid month"),
                );
                out.push(MarketEvent::Trade(crude_model::Trade {
                    contract,
                    ts: Timestamp::from_secs(self.next),
                    price: 70.0 + self.next as f64 * 0.01,
                    size: 1,
                }));
                self.next += 1;
            }
            if self.next >= self.n { FeedPoll::Ended } else { FeedPoll::Pending }
        }
    }

    #[test]
    fn taps_receive_every_batch_the_app_receives() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (tap_tx, mut tap_rx) = mpsc::channel::<FeedBatch>(4);
        let (gone_tx, gone_rx) = mpsc::channel::<FeedBatch>(4);
        drop(gone_rx);
        let mut handle = FeedHandle::spawn_with_taps(
            rt.handle(),
            Box::new(Ticks { next: 0, n: 500 }),
            Speed::Max,
            Arc::new(crude_model::LiveClock),
            Arc::new(|| {}),
            4,
            vec![gone_tx, tap_tx],
        );
        let (app, tap) = rt.block_on(async {
            let mut app = Vec::new();
            let mut tap = Vec::new();
            // The app's channel ends only on shutdown; stop at the end-of-feed status.
            while let Some(b) = handle.events.recv().await {
                let done = b.events.iter().any(|e| matches!(e, MarketEvent::Status { .. })) && !b.history;
                app.extend(b.events.iter().cloned());
                if done {
                    break;
                }
            }
            // The tap's channel closes when the feed ends.
            while let Some(b) = tap_rx.recv().await {
                tap.extend(b.events.iter().cloned());
            }
            (app, tap)
        });
        let trades = app.iter().filter(|e| matches!(e, MarketEvent::Trade(_))).count();
        assert_eq!(trades, 500);
        assert_eq!(app, tap);
        let _ = handle.commands.send(FeedCommand::Shutdown);
    }

    #[test]
    fn speed_parse() {
        assert_eq!(Speed::parse("max").unwrap(), Speed::Max);
        assert_eq!(Speed::parse("60").unwrap(), Speed::Multiple(60.0));
        assert!(Speed::parse("0").is_err());
        assert!(Speed::parse("-1").is_err());
        assert!(Speed::parse("fast").unwrap_err().contains("fast"));
    }
}
