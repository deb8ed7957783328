//! Runs syncs when their schedules say so.
//!
//! [`Plan`] is the bookkeeping, free of time and I/O so it can be tested
//! slot by slot: each sync's next run, and whether it is running. A sync
//! never runs twice at once; slots that pass while it runs are skipped, not
//! queued. A sync whose slot passed while nothing was watching (the machine
//! slept, the app was closed) is due at once, and runs once however many
//! slots it missed, because its next slot is counted from when it finished.
//!
//! [`Scheduler`] drives a plan on tokio: it wakes at the next slot (or
//! every `poll` to notice a wall-clock jump after suspend and reload the
//! syncs), starts due runs up to a concurrency limit, and on shutdown
//! cancels what is running and waits for it to be recorded.

use crate::run::RunControl;
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Wall-clock time, injectable so that tests control it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Wall-clock time that advances with tokio's clock, which tests pause and
/// advance (`tokio::time::pause`).
pub struct TokioClock {
    base: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl TokioClock {
    pub fn starting_at(base: DateTime<Utc>) -> Self {
        TokioClock {
            base,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.start;
        self.base + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
struct Entry {
    schedule: Schedule,
    next: Option<DateTime<Utc>>,
    running: bool,
    /// Removed while running: kept until the run ends, so that adding it
    /// back meanwhile cannot start a second run beside the first.
    removed: bool,
}

/// A sync's place in the plan, for `dropsync next` and the app.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub key: String,
    pub schedule: String,
    pub next: Option<DateTime<Utc>>,
    pub running: bool,
}

#[derive(Debug, Default)]
pub struct Plan {
    entries: BTreeMap<String, Entry>,
}

impl Plan {
    /// Adds a sync, or replans it when its schedule changed. `last_run` is
    /// when it last started, if ever: a slot after it that has already
    /// passed makes the sync due now (catch-up). A sync that never ran waits
    /// for its first slot.
    pub fn set(
        &mut self,
        key: &str,
        schedule: Schedule,
        last_run: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) {
        if let Some(e) = self.entries.get_mut(key) {
            if e.removed {
                e.removed = false;
                e.next = schedule.next_after(now);
                e.schedule = schedule;
                return;
            }
            if e.schedule == schedule {
                return;
            }
            // An edited schedule starts from now; the old one's missed slots
            // are not the new one's.
            e.next = schedule.next_after(now);
            e.schedule = schedule;
            return;
        }
        let next = schedule.next_after(last_run.unwrap_or(now));
        self.entries.insert(
            key.to_string(),
            Entry {
                schedule,
                next,
                running: false,
                removed: false,
            },
        );
    }

    pub fn remove(&mut self, key: &str) {
        match self.entries.get_mut(key) {
            Some(e) if e.running => e.removed = true,
            _ => {
                self.entries.remove(key);
            }
        }
    }

    pub fn keys(&self) -> Vec<String> {
        self.live().map(|(k, _)| k.clone()).collect()
    }

    fn live(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter().filter(|(_, e)| !e.removed)
    }

    /// Syncs whose slot has come and that are not running; they are marked
    /// running.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut due = Vec::new();
        for (key, e) in &mut self.entries {
            if !e.running && !e.removed && e.next.is_some_and(|n| n <= now) {
                e.running = true;
                due.push(key.clone());
            }
        }
        due
    }

    /// A run ended at `at`: the next slot is the first one after it.
    pub fn finished(&mut self, key: &str, at: DateTime<Utc>) {
        if self.entries.get(key).is_some_and(|e| e.removed) {
            self.entries.remove(key);
            return;
        }
        if let Some(e) = self.entries.get_mut(key) {
            e.running = false;
            e.next = e.schedule.next_after(at);
        }
    }

    /// The earliest slot of a sync that is not running.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.live()
            .filter(|(_, e)| !e.running)
            .filter_map(|(_, e)| e.next)
            .min()
    }

    pub fn planned(&self) -> Vec<Planned> {
        self.live()
            .map(|(key, e)| Planned {
                key: key.clone(),
                schedule: e.schedule.to_string(),
                next: e.next,
                running: e.running,
            })
            .collect()
    }
}

/// One run the scheduler starts; `control` is cancelled on shutdown.
pub struct Job {
    pub key: String,
    pub control: Arc<RunControl>,
}

pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What the scheduler asks of its host: the syncs to plan, and how to run one.
pub trait Host: Send + Sync + 'static {
    /// Brings the plan up to date (added, changed and removed syncs).
    fn reload(&self, plan: &mut Plan, now: DateTime<Utc>);
    /// Runs one sync to its end (recorded in history, alerts sent).
    fn run(&self, job: Job) -> BoxFuture;
}

pub struct Scheduler {
    pub clock: Arc<dyn Clock>,
    /// Runs of different syncs at once.
    pub max_concurrent: usize,
    /// How often to reload and to look at the wall clock between slots.
    pub poll: Duration,
}

enum Wake {
    Tick,
    Finished(String),
    Shutdown,
}

impl Scheduler {
    /// Runs until `shutdown` resolves, then cancels running syncs and waits
    /// for them to be recorded.
    pub async fn serve<H: Host>(
        &self,
        host: Arc<H>,
        plan: Arc<std::sync::Mutex<Plan>>,
        shutdown: impl Future<Output = ()>,
    ) {
        let limit = Arc::new(tokio::sync::Semaphore::new(self.max_concurrent.max(1)));
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let mut tasks = tokio::task::JoinSet::new();
        let mut controls: BTreeMap<String, Arc<RunControl>> = BTreeMap::new();
        tokio::pin!(shutdown);
        loop {
            let now = self.clock.now();
            let due = {
                let mut plan = plan.lock().unwrap_or_else(|e| e.into_inner());
                host.reload(&mut plan, now);
                plan.take_due(now)
            };
            for key in due {
                let control = Arc::new(RunControl::default());
                controls.insert(key.clone(), control.clone());
                let (host, limit, done_tx) = (host.clone(), limit.clone(), done_tx.clone());
                tasks.spawn(async move {
                    if let Ok(_permit) = limit.acquire_owned().await {
                        if !control.is_cancelled() {
                            tracing::info!(sync = %key, "scheduled run starting");
                            // Its own task, so that a run that panics still
                            // ends here and the sync is scheduled again.
                            let run = tokio::spawn(host.run(Job {
                                key: key.clone(),
                                control,
                            }));
                            if let Err(e) = run.await {
                                tracing::error!(sync = %key, error = %e, "scheduled run panicked");
                            }
                        }
                    }
                    let _ = done_tx.send(key);
                });
            }
            let wait = {
                let plan = plan.lock().unwrap_or_else(|e| e.into_inner());
                plan.next_wake()
                    .map(|t| (t - self.clock.now()).to_std().unwrap_or_default())
                    .map_or(self.poll, |d| d.min(self.poll))
            };
            let wake = tokio::select! {
                _ = tokio::time::sleep(wait) => Wake::Tick,
                Some(key) = done_rx.recv() => Wake::Finished(key),
                _ = &mut shutdown => Wake::Shutdown,
            };
            match wake {
                Wake::Tick => {}
                Wake::Finished(key) => {
                    controls.remove(&key);
                    let mut plan = plan.lock().unwrap_or_else(|e| e.into_inner());
                    plan.finished(&key, self.clock.now());
                }
                Wake::Shutdown => break,
            }
        }
        if !controls.is_empty() {
            tracing::info!(
                running = controls.len(),
                "stopping: cancelling running syncs"
            );
        }
        for control in controls.values() {
            control.cancel();
        }
        while tasks.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn every(s: &str) -> Schedule {
        Schedule::parse(s, None).unwrap()
    }

    #[test]
    fn a_new_sync_waits_for_its_first_slot() {
        let mut plan = Plan::default();
        plan.set("a", every("every 15m"), None, at("2026-03-01T10:07:00Z"));
        assert!(plan.take_due(at("2026-03-01T10:14:59Z")).is_empty());
        assert_eq!(plan.take_due(at("2026-03-01T10:15:00Z")), ["a"]);
    }

    #[test]
    fn no_overlap_and_overrun_slots_are_skipped() {
        let mut plan = Plan::default();
        plan.set("a", every("every 15m"), None, at("2026-03-01T10:00:00Z"));
        assert_eq!(plan.take_due(at("2026-03-01T10:15:00Z")), ["a"]);
        // Still running at the next two slots: not started again.
        assert!(plan.take_due(at("2026-03-01T10:30:00Z")).is_empty());
        assert!(plan.take_due(at("2026-03-01T10:45:00Z")).is_empty());
        plan.finished("a", at("2026-03-01T10:50:00Z"));
        assert_eq!(plan.planned()[0].next, Some(at("2026-03-01T11:00:00Z")));
        assert!(plan.take_due(at("2026-03-01T10:59:00Z")).is_empty());
        assert_eq!(plan.take_due(at("2026-03-01T11:00:00Z")), ["a"]);
    }

    #[test]
    fn missed_slots_run_once() {
        let mut plan = Plan::default();
        // Last ran at 08:00; the app was closed until 10:07: 4 slots missed.
        plan.set(
            "a",
            every("every 30m"),
            Some(at("2026-03-01T08:00:00Z")),
            at("2026-03-01T10:07:00Z"),
        );
        assert_eq!(plan.take_due(at("2026-03-01T10:07:00Z")), ["a"]);
        plan.finished("a", at("2026-03-01T10:08:00Z"));
        assert!(plan.take_due(at("2026-03-01T10:29:59Z")).is_empty());
        assert_eq!(plan.take_due(at("2026-03-01T10:30:00Z")), ["a"]);
    }

    #[test]
    fn manual_syncs_never_come_due_and_changes_replan() {
        let mut plan = Plan::default();
        let now = at("2026-03-01T10:00:00Z");
        plan.set("m", every("manual"), None, now);
        plan.set(
            "c",
            Schedule::parse("0 0 6 * * *", None).unwrap(),
            None,
            now,
        );
        assert_eq!(plan.next_wake(), Some(at("2026-03-02T06:00:00Z")));
        assert!(plan
            .take_due(at("2026-03-05T00:00:00Z"))
            .contains(&"c".to_string()));
        assert!(!plan
            .take_due(at("2026-03-05T00:00:00Z"))
            .contains(&"m".to_string()));
        plan.set("m", every("every 1h"), None, now);
        assert_eq!(
            plan.planned().iter().find(|p| p.key == "m").unwrap().next,
            Some(at("2026-03-01T11:00:00Z"))
        );
        plan.remove("m");
        assert_eq!(plan.keys(), ["c"]);
    }
}
