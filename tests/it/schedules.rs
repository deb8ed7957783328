//! Schedules, the scheduler and the daemon: slots fired on a controlled
//! clock (tokio's paused time behind `TokioClock`), then `dropsync daemon`,
//! `dropsync next` and `dropsync check` end to end.

use crate::support as common;

use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use common::{CliRun, SyncFile, Workspace};
use dropsync::schedule::Schedule;
use dropsync::scheduler::{BoxFuture, Clock, Host, Job, Plan, Scheduler, TokioClock};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------
// A fake host on a controlled clock
// ---------------------------------------------------------------------------

/// A sync as the fake host plans it: its schedule, when it last ran (for
/// catch-up) and how long each run takes.
#[derive(Clone)]
struct FakeSync {
    key: String,
    schedule: Schedule,
    last_run: Option<DateTime<Utc>>,
    takes: Duration,
}

fn fake(key: &str, schedule: &str, start: Option<&str>, takes: Duration) -> FakeSync {
    FakeSync {
        key: key.into(),
        schedule: Schedule::parse(schedule, start).unwrap(),
        last_run: None,
        takes,
    }
}

#[derive(Debug, Clone)]
struct Ended {
    key: String,
    at: DateTime<Utc>,
    cancelled: bool,
}

#[derive(Default)]
struct Record {
    starts: Vec<(String, DateTime<Utc>)>,
    ends: Vec<Ended>,
    running: usize,
    max_running: usize,
    /// Per key: a run of the same sync started while another was running.
    overlapped: Vec<String>,
    running_keys: Vec<String>,
}

struct FakeHost {
    clock: Arc<TokioClock>,
    syncs: Mutex<Vec<FakeSync>>,
    record: Arc<Mutex<Record>>,
    /// Notified each time a run starts.
    started: Arc<tokio::sync::Notify>,
    /// How long a cancelled run takes to wind down (recording its outcome).
    wind_down: Duration,
    /// Syncs whose next run panics (once each).
    panic_once: Mutex<Vec<String>>,
}

impl FakeHost {
    fn new(clock: Arc<TokioClock>, syncs: Vec<FakeSync>) -> Arc<FakeHost> {
        Arc::new(FakeHost {
            clock,
            syncs: Mutex::new(syncs),
            record: Arc::new(Mutex::new(Record::default())),
            started: Arc::new(tokio::sync::Notify::new()),
            wind_down: Duration::from_secs(5),
            panic_once: Mutex::new(Vec::new()),
        })
    }

    fn starts_of(&self, key: &str) -> Vec<DateTime<Utc>> {
        self.record
            .lock()
            .unwrap()
            .starts
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, t)| *t)
            .collect()
    }

    fn ends(&self) -> Vec<Ended> {
        self.record.lock().unwrap().ends.clone()
    }
}

impl Host for FakeHost {
    fn reload(&self, plan: &mut Plan, now: DateTime<Utc>) {
        let syncs = self.syncs.lock().unwrap();
        for key in plan.keys() {
            if !syncs.iter().any(|s| s.key == key) {
                plan.remove(&key);
            }
        }
        for s in syncs.iter() {
            plan.set(&s.key, s.schedule.clone(), s.last_run, now);
        }
    }

    fn run(&self, job: Job) -> BoxFuture {
        let takes = self
            .syncs
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.key == job.key)
            .map(|s| s.takes)
            .unwrap_or_default();
        let clock = self.clock.clone();
        let record = self.record.clone();
        let started = self.started.clone();
        let wind_down = self.wind_down;
        let panics = {
            let mut p = self.panic_once.lock().unwrap();
            let found = p.iter().position(|k| *k == job.key);
            found.map(|i| p.remove(i)).is_some()
        };
        Box::pin(async move {
            {
                let mut r = record.lock().unwrap();
                r.starts.push((job.key.clone(), clock.now()));
                if r.running_keys.contains(&job.key) {
                    r.overlapped.push(job.key.clone());
                }
                r.running_keys.push(job.key.clone());
                r.running += 1;
                r.max_running = r.max_running.max(r.running);
            }
            started.notify_one();
            if panics {
                record.lock().unwrap().running -= 1;
                panic!("the fake run of {} panicked", job.key);
            }
            let deadline = tokio::time::Instant::now() + takes;
            let mut cancelled = false;
            loop {
                if job.control.is_cancelled() {
                    cancelled = true;
                    // Recording a cancelled run takes a moment too.
                    tokio::time::sleep(wind_down).await;
                    break;
                }
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    break;
                }
                tokio::time::sleep((deadline - now).min(Duration::from_secs(1))).await;
            }
            let mut r = record.lock().unwrap();
            r.running -= 1;
            if let Some(i) = r.running_keys.iter().position(|k| *k == job.key) {
                r.running_keys.remove(i);
            }
            r.ends.push(Ended {
                key: job.key.clone(),
                at: clock.now(),
                cancelled,
            });
        })
    }
}

fn scheduler(clock: &Arc<TokioClock>, max_concurrent: usize) -> Scheduler {
    Scheduler {
        clock: clock.clone(),
        max_concurrent,
        poll: Duration::from_secs(300),
    }
}

/// Serves `host` until the clock has advanced by `for_`.
async fn serve_for(host: &Arc<FakeHost>, max_concurrent: usize, for_: Duration) {
    scheduler(&host.clock, max_concurrent)
        .serve(
            host.clone(),
            Arc::new(Mutex::new(Plan::default())),
            tokio::time::sleep(for_),
        )
        .await;
}

/// Each start is at its expected slot (tokio's timer rounds up to the
/// millisecond, so allow a few of those).
fn assert_slots(what: &str, got: &[DateTime<Utc>], expected: &[&str]) {
    let expected: Vec<DateTime<Utc>> = expected.iter().map(|s| utc(s)).collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "{what}: started at {got:?}, expected {expected:?}"
    );
    for (g, e) in got.iter().zip(&expected) {
        let late = *g - *e;
        assert!(
            late >= ChronoDuration::zero() && late < ChronoDuration::milliseconds(50),
            "{what}: started at {g}, expected {e} (all: {got:?})"
        );
    }
}

const BASE: &str = "2026-03-01T10:07:00Z";
const MIN: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn intervals_fire_at_their_anchored_slots() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    let host = FakeHost::new(
        clock.clone(),
        vec![
            // Anchored at the epoch: quarter hours.
            fake("quarter", "every 15m", None, MIN),
            // Anchored at 00:20: twenty past every hour.
            fake("hourly", "every 1h", Some("2026-01-01T00:20:00Z"), MIN),
            fake("manual", "manual", None, MIN),
        ],
    );
    serve_for(&host, 4, 2 * 60 * MIN).await;
    assert_slots(
        "every 15m",
        &host.starts_of("quarter"),
        &[
            "2026-03-01T10:15:00Z",
            "2026-03-01T10:30:00Z",
            "2026-03-01T10:45:00Z",
            "2026-03-01T11:00:00Z",
            "2026-03-01T11:15:00Z",
            "2026-03-01T11:30:00Z",
            "2026-03-01T11:45:00Z",
            "2026-03-01T12:00:00Z",
        ],
    );
    assert_slots(
        "every 1h from 00:20",
        &host.starts_of("hourly"),
        &["2026-03-01T10:20:00Z", "2026-03-01T11:20:00Z"],
    );
    assert!(host.starts_of("manual").is_empty(), "a manual sync ran");
    assert!(
        host.ends().iter().all(|e| !e.cancelled),
        "nothing was running at shutdown: {:?}",
        host.ends()
    );
}

#[tokio::test(start_paused = true)]
async fn cron_with_seconds_fires_at_utc_times() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    let host = FakeHost::new(
        clock.clone(),
        vec![
            fake("twenty", "30 */20 * * * *", None, MIN),
            fake("daily", "0 0 6 * * *", None, MIN),
            // 2026-03-02 is a Monday.
            fake("monday", "0 0 9 * * Mon", None, MIN),
        ],
    );
    serve_for(&host, 4, 2 * 24 * 60 * MIN).await;
    let twenty = host.starts_of("twenty");
    assert_slots(
        "30 */20 * * * *",
        &twenty[..4],
        &[
            "2026-03-01T10:20:30Z",
            "2026-03-01T10:40:30Z",
            "2026-03-01T11:00:30Z",
            "2026-03-01T11:20:30Z",
        ],
    );
    // Three a hour for 48 hours, from 10:20:30 to 10:00:30 two days later.
    assert_eq!(twenty.len(), 144, "{twenty:?}");
    assert_slots(
        "the last of them",
        &twenty[143..],
        &["2026-03-03T10:00:30Z"],
    );
    assert_slots(
        "0 0 6 * * *",
        &host.starts_of("daily"),
        &["2026-03-02T06:00:00Z", "2026-03-03T06:00:00Z"],
    );
    assert_slots(
        "0 0 9 * * Mon",
        &host.starts_of("monday"),
        &["2026-03-02T09:00:00Z"],
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_longer_than_its_interval_never_overlaps() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    // Every 15 minutes, but each run takes 40.
    let host = FakeHost::new(
        clock.clone(),
        vec![fake("slow", "every 15m", None, 40 * MIN)],
    );
    // Until 12:10: the third run (11:45) is still going and gets cancelled.
    serve_for(&host, 4, 123 * MIN).await;
    // 10:15 -> ends 10:55 (10:30 and 10:45 skipped) -> 11:00 -> ends 11:40
    // (11:15 and 11:30 skipped) -> 11:45.
    assert_slots(
        "every 15m, 40m runs",
        &host.starts_of("slow"),
        &[
            "2026-03-01T10:15:00Z",
            "2026-03-01T11:00:00Z",
            "2026-03-01T11:45:00Z",
        ],
    );
    let r = host.record.lock().unwrap();
    assert_eq!(r.max_running, 1);
    assert!(
        r.overlapped.is_empty(),
        "overlapping runs: {:?}",
        r.overlapped
    );
    let ends: Vec<_> = r.ends.iter().map(|e| (e.at, e.cancelled)).collect();
    assert_eq!(ends.len(), 3, "{ends:?}");
    assert!(!ends[0].1 && !ends[1].1 && ends[2].1, "{ends:?}");
    assert!(ends[0].0 >= utc("2026-03-01T10:55:00Z") && ends[0].0 < utc("2026-03-01T10:55:01Z"));
    assert!(ends[1].0 >= utc("2026-03-01T11:40:00Z") && ends[1].0 < utc("2026-03-01T11:40:01Z"));
}

#[tokio::test(start_paused = true)]
async fn max_concurrent_limits_runs_across_syncs() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    let syncs = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|k| fake(k, "every 10m", None, 3 * MIN))
        .collect();
    let host = FakeHost::new(clock.clone(), syncs);
    // All five are due at 10:10; two at a time, three minutes each. Stop at
    // 10:19:30, after the last one ended (10:19) and before the next slot.
    serve_for(&host, 2, 12 * MIN + Duration::from_secs(30)).await;
    let r = host.record.lock().unwrap();
    assert_eq!(r.max_running, 2, "at most two runs at a time");
    let mut starts: Vec<DateTime<Utc>> = r.starts.iter().map(|(_, t)| *t).collect();
    starts.sort();
    assert_slots(
        "five syncs, two at a time",
        &starts,
        &[
            "2026-03-01T10:10:00Z",
            "2026-03-01T10:10:00Z",
            "2026-03-01T10:13:00Z",
            "2026-03-01T10:13:00Z",
            "2026-03-01T10:16:00Z",
        ],
    );
    let mut keys: Vec<&str> = r.starts.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["a", "b", "c", "d", "e"], "each sync ran once");
    assert_eq!(r.ends.len(), 5);
    assert!(r.ends.iter().all(|e| !e.cancelled), "{:?}", r.ends);
}

#[tokio::test(start_paused = true)]
async fn missed_slots_catch_up_once_then_follow_the_schedule() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    let mut behind = fake("behind", "every 30m", None, MIN);
    // Last ran five hours ago: ten slots missed.
    behind.last_run = Some(utc("2026-03-01T05:07:00Z"));
    let mut daily = fake("daily", "0 0 6 * * *", None, MIN);
    // Last ran two days ago: yesterday's and today's 06:00 were missed.
    daily.last_run = Some(utc("2026-02-27T06:00:00Z"));
    let mut recent = fake("recent", "every 30m", None, MIN);
    // Ran at 10:00: nothing missed, waits for 10:30.
    recent.last_run = Some(utc("2026-03-01T10:00:00Z"));
    let host = FakeHost::new(clock.clone(), vec![behind, daily, recent]);
    serve_for(&host, 4, 63 * MIN).await;
    assert_slots(
        "catching up every 30m",
        &host.starts_of("behind"),
        &[BASE, "2026-03-01T10:30:00Z", "2026-03-01T11:00:00Z"],
    );
    assert_slots(
        "catching up a daily cron",
        &host.starts_of("daily"),
        &[BASE],
    );
    assert_slots(
        "not behind",
        &host.starts_of("recent"),
        &["2026-03-01T10:30:00Z", "2026-03-01T11:00:00Z"],
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_the_running_job_and_waits_for_it() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    // Two syncs due at 10:08, one at a time: "a" runs (for an hour unless
    // cancelled), "b" waits for a slot.
    let host = FakeHost::new(
        clock.clone(),
        vec![
            fake("a", "every 1m", None, 60 * MIN),
            fake("b", "every 1m", None, 60 * MIN),
        ],
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = async {
        scheduler(&clock, 1)
            .serve(host.clone(), Arc::new(Mutex::new(Plan::default())), async {
                let _ = stopped.await;
            })
            .await;
        clock.now()
    };
    let driver = async {
        host.started.notified().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let at = clock.now();
        stop.send(()).unwrap();
        at
    };
    let (returned_at, stop_at) = tokio::join!(serve, driver);
    assert!(
        stop_at >= utc("2026-03-01T10:08:10Z") && stop_at < utc("2026-03-01T10:08:11Z"),
        "{stop_at}"
    );
    let r = host.record.lock().unwrap();
    assert_eq!(
        r.starts.len(),
        1,
        "only one run started; the waiting one was not started after shutdown: {:?}",
        r.starts
    );
    assert_eq!(r.ends.len(), 1, "{:?}", r.ends);
    let end = &r.ends[0];
    assert_eq!(end.key, r.starts[0].0);
    assert!(end.cancelled, "the run saw its RunControl cancelled");
    // The run took 5 s to wind down after the cancel; serve waited for it.
    assert!(
        end.at >= stop_at + ChronoDuration::seconds(5),
        "ended {} stop {stop_at}",
        end.at
    );
    assert!(
        returned_at >= end.at,
        "serve returned at {returned_at}, before the run ended at {}",
        end.at
    );
    assert_eq!(r.running, 0);
}

#[tokio::test(start_paused = true)]
async fn syncs_added_changed_and_removed_are_replanned() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    let host = FakeHost::new(clock.clone(), vec![fake("a", "every 10m", None, MIN)]);
    let h = host.clone();
    let edits = async move {
        // 10:12: "a" ran at 10:10. Add "b" every 5m, make "a" manual.
        tokio::time::sleep(5 * MIN).await;
        {
            let mut syncs = h.syncs.lock().unwrap();
            syncs[0].schedule = Schedule::parse("manual", None).unwrap();
            syncs.push(fake("b", "every 5m", None, MIN));
        }
        // 10:27: remove "b".
        tokio::time::sleep(15 * MIN).await;
        h.syncs.lock().unwrap().retain(|s| s.key != "b");
    };
    let serving = async {
        // Poll every minute so that edits are seen within one.
        Scheduler {
            clock: clock.clone(),
            max_concurrent: 4,
            poll: MIN,
        }
        .serve(
            host.clone(),
            Arc::new(Mutex::new(Plan::default())),
            tokio::time::sleep(40 * MIN),
        )
        .await
    };
    tokio::join!(edits, serving);
    assert_slots("a", &host.starts_of("a"), &["2026-03-01T10:10:00Z"]);
    assert_slots(
        "b",
        &host.starts_of("b"),
        &[
            "2026-03-01T10:15:00Z",
            "2026-03-01T10:20:00Z",
            "2026-03-01T10:25:00Z",
        ],
    );
}

/// A run that panics is over: its sync runs again at its next slot.
#[tokio::test(start_paused = true)]
async fn a_run_that_panics_does_not_stop_its_sync_for_good() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    let host = FakeHost::new(clock.clone(), vec![fake("a", "every 10m", None, MIN)]);
    host.panic_once.lock().unwrap().push("a".into());
    serve_for(&host, 4, 30 * MIN).await;
    // 10:10 panics; 10:20 and 10:30 run as usual.
    assert_slots(
        "after a panicking run",
        &host.starts_of("a"),
        &[
            "2026-03-01T10:10:00Z",
            "2026-03-01T10:20:00Z",
            "2026-03-01T10:30:00Z",
        ],
    );
}

/// A sync removed while it runs and added back (a file deleted and
/// restored) must not start a second run beside the first, and shutdown
/// must still cancel every run.
#[tokio::test(start_paused = true)]
async fn a_sync_removed_and_readded_while_running_never_runs_twice_at_once() {
    let clock = Arc::new(TokioClock::starting_at(utc(BASE)));
    // Due at 10:08; each run takes 30 minutes.
    let host = FakeHost::new(clock.clone(), vec![fake("a", "every 1m", None, 30 * MIN)]);
    let h = host.clone();
    let edits = async move {
        // 10:09: removed; 10:10: back.
        tokio::time::sleep(2 * MIN).await;
        let removed = h.syncs.lock().unwrap().remove(0);
        tokio::time::sleep(MIN).await;
        h.syncs.lock().unwrap().push(removed);
    };
    let scheduler = Scheduler {
        clock: clock.clone(),
        max_concurrent: 4,
        poll: Duration::from_secs(10),
    };
    let serving = scheduler.serve(
        host.clone(),
        Arc::new(Mutex::new(Plan::default())),
        tokio::time::sleep(20 * MIN),
    );
    tokio::join!(edits, serving);
    let r = host.record.lock().unwrap();
    assert!(
        r.overlapped.is_empty(),
        "a second run of the same sync started while the first ran: starts {:?}",
        r.starts
    );
    // Shutdown at 10:27 cancelled the run in progress.
    assert!(
        r.ends.iter().all(|e| e.cancelled),
        "every run was cancelled at shutdown: {:?}",
        r.ends
    );
}

// ---------------------------------------------------------------------------
// The daemon, end to end
// ---------------------------------------------------------------------------

/// A `dropsync daemon` child process, killed if the test ends early.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(ws: &Workspace, dir: &Path) -> Daemon {
        let log = ws.path("daemon.log");
        let stderr = std::fs::File::create(&log).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_dropsync"))
            .arg("--state-dir")
            .arg(&ws.state)
            .arg("daemon")
            .arg(dir)
            .args(["--poll", "0.2"])
            .env_remove("DROPSYNC_STATE_DIR")
            .env_remove("DROPSYNC_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start dropsync daemon");
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn terminate(&self) {
        let pid = self.child.id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "send SIGTERM");
    }

    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > timeout {
                panic!(
                    "the daemon did not exit within {timeout:?}\nlog:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `f` until it returns `Some`, failing after `timeout` with `what`
/// and the daemon's log.
fn wait_for<T>(
    daemon: &Daemon,
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!(
                "timed out waiting for {what}\ndaemon log:\n{}",
                daemon.log()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every run of the sync, newest first.
fn runs(ws: &Workspace, sync: &Path) -> Vec<Json> {
    let r = CliRun::from_output(
        ws.cli()
            .arg("history")
            .arg(sync)
            .args(["--json", "--limit", "100000"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "history failed: {}", r.stderr);
    r.json().as_array().unwrap().clone()
}

fn count_status(runs: &[Json], status: &str) -> usize {
    runs.iter().filter(|r| r["status"] == status).count()
}

/// A sync of the `people` table, into its own folder, with an explicit id
/// (so that a copy outside the daemon's folder reads the same history).
fn people_sync(ws: &Workspace, id: &str, schedule: &str) -> String {
    let dest = ws.out.join(id);
    std::fs::create_dir_all(&dest).unwrap();
    SyncFile::sqlite(ws, "SELECT id, name FROM people", "id")
        .mode("all")
        .destination(&dest)
        .filename(&format!("{id}-{{sync.run.id}}.csv"))
        .sync_line(&format!("id = \"{id}\""))
        .sync_line(&format!("schedule = \"{schedule}\""))
        .render()
}

#[test]
fn daemon_follows_the_folder_and_stops_cleanly() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO people VALUES (1, 'Ada'), (2, 'Grace'), (3, 'Linus');",
    );
    let dir = ws.path("syncs");
    std::fs::create_dir_all(&dir).unwrap();
    // History is read through copies outside the daemon's folder.
    let ref_a = ws.write_sync("ref-a.toml", &people_sync(&ws, "daemon-a", "every 1s"));
    let ref_b = ws.write_sync("ref-b.toml", &people_sync(&ws, "daemon-b", "every 1s"));
    let file_a = dir.join("a.toml");
    let file_b = dir.join("b.toml");
    std::fs::write(&file_a, people_sync(&ws, "daemon-a", "every 1s")).unwrap();
    // Create both syncs' state before the daemon runs: polling history while
    // a first run creates it races (see
    // `concurrent_first_opens_of_a_sync_state_all_succeed`).
    assert!(runs(&ws, &ref_a).is_empty() && runs(&ws, &ref_b).is_empty());

    let mut daemon = Daemon::start(&ws, &dir);
    let t = Duration::from_secs(10);

    // "a" runs every second.
    wait_for(&daemon, "two runs of a", t, || {
        (count_status(&runs(&ws, &ref_a), "success") >= 2).then_some(())
    });
    let a_files = common::list_files(&ws.out.join("daemon-a"));
    assert!(a_files.len() >= 2, "{a_files:?}");
    assert_eq!(
        common::read_csv_table(&ws.out.join("daemon-a").join(&a_files[0]))
            .1
            .len(),
        3
    );

    // A new file is picked up.
    std::fs::write(&file_b, people_sync(&ws, "daemon-b", "every 1s")).unwrap();
    wait_for(&daemon, "a run of b", t, || {
        (count_status(&runs(&ws, &ref_b), "success") >= 1).then_some(())
    });

    // "a" made manual: it stops.
    std::fs::write(&file_a, people_sync(&ws, "daemon-a", "manual")).unwrap();
    wait_for(&daemon, "a reloaded as manual", t, || {
        daemon
            .log()
            .lines()
            .any(|l| l.contains("sync=daemon-a") && l.contains("schedule=manual"))
            .then_some(())
    });
    let b_now = runs(&ws, &ref_b).len();
    wait_for(&daemon, "another run of b", t, || {
        (runs(&ws, &ref_b).len() > b_now).then_some(())
    });
    let a_stopped = runs(&ws, &ref_a).len();
    let b_now = runs(&ws, &ref_b).len();
    wait_for(&daemon, "three more runs of b", t, || {
        (runs(&ws, &ref_b).len() >= b_now + 3).then_some(())
    });
    assert_eq!(
        runs(&ws, &ref_a).len(),
        a_stopped,
        "a manual sync kept running\nlog:\n{}",
        daemon.log()
    );

    // "b" deleted: it stops. An invalid file is reported and skipped. "a"
    // back on a schedule shows the daemon kept going.
    std::fs::remove_file(&file_b).unwrap();
    wait_for(&daemon, "b removed", t, || {
        daemon
            .log()
            .lines()
            .any(|l| l.contains("no longer scheduled") && l.contains("b.toml"))
            .then_some(())
    });
    std::fs::write(dir.join("c.toml"), "[source\ntype = \"sqlite\"\n").unwrap();
    std::fs::write(&file_a, people_sync(&ws, "daemon-a", "every 1s")).unwrap();
    let a_now = runs(&ws, &ref_a).len();
    wait_for(&daemon, "a running again", t, || {
        (runs(&ws, &ref_a).len() > a_now).then_some(())
    });
    let b_stopped = runs(&ws, &ref_b).len();
    let a_now = runs(&ws, &ref_a).len();
    wait_for(&daemon, "three more runs of a", t, || {
        (runs(&ws, &ref_a).len() >= a_now + 3).then_some(())
    });
    assert_eq!(
        runs(&ws, &ref_b).len(),
        b_stopped,
        "a deleted sync kept running\nlog:\n{}",
        daemon.log()
    );
    let log = daemon.log();
    let c_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("not scheduled until it is fixed"))
        .collect();
    assert_eq!(
        c_errors.len(),
        1,
        "the invalid file is logged once, naming it\nlog:\n{log}"
    );
    assert!(
        c_errors[0].contains(&*dir.join("c.toml").to_string_lossy()),
        "{}",
        c_errors[0]
    );

    // SIGTERM: exits 0 and leaves no run "running".
    daemon.terminate();
    let status = daemon.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    assert!(daemon.log().contains("daemon stopped"), "{}", daemon.log());
    for sync in [&ref_a, &ref_b] {
        let all = runs(&ws, sync);
        assert!(
            all.iter()
                .all(|r| r["status"] == "success" || r["error_code"] == "cancelled"),
            "{all:#?}"
        );
        assert_eq!(count_status(&all, "running"), 0, "{all:#?}");
    }
}

#[test]
fn sigterm_during_a_run_cancels_it_without_advancing_the_snapshot() {
    let ws = Workspace::new();
    // Two million generated rows: some seconds of streaming, far more than
    // the test waits.
    ws.sql("CREATE TABLE params (n INTEGER); INSERT INTO params VALUES (2000000);");
    let dir = ws.path("syncs");
    std::fs::create_dir_all(&dir).unwrap();
    let text = SyncFile::sqlite(
        &ws,
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < (SELECT n FROM params)) \
         SELECT i AS id, 'row ' || i AS name FROM seq",
        "id",
    )
    .mode("diff")
    .sync_line("id = \"slow\"")
    .sync_line("schedule = \"every 1s\"")
    .render();
    std::fs::write(dir.join("slow.toml"), &text).unwrap();
    let reference = ws.write_sync("ref-slow.toml", &text);
    assert!(runs(&ws, &reference).is_empty(), "state created up front");

    let mut daemon = Daemon::start(&ws, &dir);
    wait_for(
        &daemon,
        "the slow run to start",
        Duration::from_secs(10),
        || (count_status(&runs(&ws, &reference), "running") == 1).then_some(()),
    );
    // Let it stream (and stage snapshot rows) for a moment.
    std::thread::sleep(Duration::from_millis(500));
    daemon.terminate();
    let status = daemon.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());

    let all = runs(&ws, &reference);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["status"], "failed", "{:#}", all[0]);
    assert_eq!(all[0]["error_code"], "cancelled", "{:#}", all[0]);
    assert!(all[0]["finished_at"].is_string(), "{:#}", all[0]);
    assert_eq!(ws.out_files(), Vec::<String>::new(), "nothing delivered");

    // The snapshot did not move: the next run delivers every row as new,
    // and removes none.
    ws.sql("UPDATE params SET n = 1000;");
    // The daemon's file itself (the reference copy only reads its history:
    // a second file may not run a sync another file owns).
    let r = CliRun::from_output(
        ws.cli()
            .arg("run")
            .arg(dir.join("slow.toml"))
            .arg("--json")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let report = r.json();
    assert_eq!(common::counts(&report), (1000, 1000, 0, 0), "{report:#}");
    let added = common::file_of_kind(&report, "added");
    assert_eq!(ws.csv_rows(&added).len(), 1000);
}

/// The daemon's first run of a new sync creates its state; `dropsync
/// history` (or `run`, or the app) opening it at the same moment must not
/// fail. Six processes open a fresh state at once, a few times over.
#[test]
fn concurrent_first_opens_of_a_sync_state_all_succeed() {
    let ws = Workspace::new();
    ws.sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);");
    let sync = SyncFile::sqlite(&ws, "SELECT id, name FROM people", "id").write(&ws, "fresh.toml");
    for round in 0..5 {
        let state = ws.path(&format!("state-{round}"));
        let children: Vec<Child> = (0..6)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_dropsync"))
                    .arg("--state-dir")
                    .arg(&state)
                    .arg("history")
                    .arg(&sync)
                    .arg("--json")
                    .env_remove("DROPSYNC_STATE_DIR")
                    .env_remove("DROPSYNC_LOG")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn daemon_refuses_a_missing_folder_and_a_bad_poll() {
    let ws = Workspace::new();
    let r = CliRun::from_output(
        ws.cli()
            .arg("daemon")
            .arg(ws.path("nope"))
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not a folder"), "{}", r.stderr);
    let r = CliRun::from_output(
        ws.cli()
            .arg("daemon")
            .arg(&ws.out)
            .args(["--poll", "0"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--poll"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// `dropsync next` and `dropsync check`
// ---------------------------------------------------------------------------

/// The first slot of `every period` anchored at `anchor` strictly after `now`.
fn interval_slot(
    anchor: DateTime<Utc>,
    period: ChronoDuration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let p = period.num_milliseconds();
    let since = (now - anchor).num_milliseconds();
    anchor + ChronoDuration::milliseconds((since.div_euclid(p) + 1) * p)
}

/// The next 06:30:00 UTC strictly after `now`.
fn next_0630(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = Utc.from_utc_datetime(&now.date_naive().and_hms_opt(6, 30, 0).unwrap());
    if today > now {
        today
    } else {
        today + ChronoDuration::days(1)
    }
}

fn next_json(ws: &Workspace, dir: &Path) -> Vec<Json> {
    let r = CliRun::from_output(
        ws.cli()
            .arg("next")
            .arg(dir)
            .arg("--json")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    r.json().as_array().unwrap().clone()
}

fn entry<'a>(list: &'a [Json], file: &str) -> &'a Json {
    list.iter()
        .find(|e| {
            e["file"]
                .as_str()
                .and_then(|f| Path::new(f).file_name())
                .is_some_and(|f| f == file)
        })
        .unwrap_or_else(|| panic!("{file} missing from {list:#?}"))
}

fn time_of(v: &Json) -> DateTime<Utc> {
    utc(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
}

#[test]
fn next_lists_the_next_run_of_every_sync() {
    let ws = Workspace::new();
    ws.sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);");
    let dir = ws.path("syncs");
    std::fs::create_dir_all(&dir).unwrap();
    let base = SyncFile::sqlite(&ws, "SELECT id, name FROM people", "id");
    let write = |name: &str, lines: &[&str]| {
        let mut f = base.clone();
        for l in lines {
            f = f.sync_line(l);
        }
        let p = dir.join(name);
        std::fs::write(&p, f.render()).unwrap();
        p
    };
    write("manual.toml", &[]);
    write("explicit-manual.toml", &["schedule = \"manual\""]);
    let daily = write(
        "daily.toml",
        &[
            "schedule = \"every 1d\"",
            "schedule_start = \"2026-01-01T06:30:00Z\"",
        ],
    );
    write("odd.toml", &["schedule = \"every 7h\""]);
    write("cron.toml", &["schedule = \"0 30 6 * * *\""]);
    write("bad.toml", &["schedule = \"every 15\""]);
    std::fs::write(dir.join("broken.toml"), "this is = = not toml").unwrap();
    // Not a sync file: ignored.
    std::fs::write(dir.join("notes.txt"), "hello").unwrap();

    let before = Utc::now();
    let list = next_json(&ws, &dir);
    let after = Utc::now();
    assert_eq!(list.len(), 7, "{list:#?}");
    let files: Vec<&str> = list.iter().map(|e| e["file"].as_str().unwrap()).collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "sorted by file");

    for name in ["manual.toml", "explicit-manual.toml"] {
        let e = entry(&list, name);
        assert_eq!(e["schedule"], "manual", "{e:#}");
        assert!(e["next_run"].is_null(), "{e:#}");
        assert!(e["error"].is_null(), "{e:#}");
        assert_eq!(e["sync_id"], name.trim_end_matches(".toml"));
    }

    let within = |what: &str, got: DateTime<Utc>, f: &dyn Fn(DateTime<Utc>) -> DateTime<Utc>| {
        assert!(
            got == f(before) || got == f(after),
            "{what}: next {got}, expected {} (or {})",
            f(before),
            f(after)
        );
        assert!(got > before - ChronoDuration::seconds(1));
    };
    let e = entry(&list, "daily.toml");
    assert_eq!(e["schedule"], "every 1d");
    within("every 1d from 06:30", time_of(&e["next_run"]), &|now| {
        interval_slot(utc("2026-01-01T06:30:00Z"), ChronoDuration::days(1), now)
    });
    assert_eq!(
        time_of(&e["next_run"]).format("%H:%M:%S").to_string(),
        "06:30:00"
    );
    assert!(e["last_run"].is_null());

    let e = entry(&list, "odd.toml");
    within("every 7h from the epoch", time_of(&e["next_run"]), &|now| {
        interval_slot(DateTime::<Utc>::UNIX_EPOCH, ChronoDuration::hours(7), now)
    });

    let e = entry(&list, "cron.toml");
    assert_eq!(e["schedule"], "0 30 6 * * *");
    within("cron 06:30 UTC", time_of(&e["next_run"]), &next_0630);

    for (name, needle) in [
        ("bad.toml", "[sync] schedule"),
        ("broken.toml", "broken.toml"),
    ] {
        let e = entry(&list, name);
        let error = e["error"].as_str().unwrap_or_else(|| panic!("{e:#}"));
        assert!(error.contains(needle), "{error}");
        assert!(e["next_run"].is_null() && e["sync_id"].is_null(), "{e:#}");
    }
    assert!(entry(&list, "bad.toml")["error"]
        .as_str()
        .unwrap()
        .contains("every 15m"));

    // The text form says the same.
    let r = CliRun::from_output(ws.cli().arg("next").arg(&dir).output().unwrap());
    assert_eq!(r.code, 0, "{}", r.all_output());
    let line = |file: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(file))
            .unwrap_or_else(|| panic!("no line for {file}:\n{}", r.stdout))
            .to_string()
    };
    assert!(
        line("manual.toml").contains("never (manual)"),
        "{}",
        r.stdout
    );
    assert!(line("daily.toml").contains("every 1d"), "{}", r.stdout);
    assert!(line("bad.toml").contains("not scheduled"), "{}", r.stdout);
    assert!(line("bad.toml").contains("every 15m"), "{}", r.stdout);
    assert!(
        line("broken.toml").contains("not scheduled"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("notes.txt"));

    // After a run, the last run is shown and the next slot counts from it.
    let before = Utc::now();
    let r = CliRun::from_output(ws.cli().arg("run").arg(&daily).output().unwrap());
    assert_eq!(r.code, 0, "{}", r.all_output());
    let list = next_json(&ws, &dir);
    let after = Utc::now();
    let e = entry(&list, "daily.toml");
    let last = time_of(&e["last_run"]);
    assert!(
        last >= before - ChronoDuration::milliseconds(1) && last <= after,
        "last run {last}, ran between {before} and {after}"
    );
    within("every 1d after a run", time_of(&e["next_run"]), &|now| {
        interval_slot(utc("2026-01-01T06:30:00Z"), ChronoDuration::days(1), now)
    });
    assert!(time_of(&e["next_run"]) <= after + ChronoDuration::days(1));
}

/// `run --at` is a run's nominal instant (filenames, backfills), not when it
/// ran: a run stamped in the future must not postpone the schedule.
#[test]
fn a_run_stamped_in_the_future_does_not_postpone_the_schedule() {
    let ws = Workspace::new();
    ws.sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);");
    let dir = ws.path("syncs");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hourly.toml");
    std::fs::write(
        &file,
        SyncFile::sqlite(&ws, "SELECT id, name FROM people", "id")
            .sync_line("schedule = \"every 1h\"")
            .render(),
    )
    .unwrap();
    ws.run_ok(&file, "2030-01-01T00:00:00Z");
    let list = next_json(&ws, &dir);
    let next = time_of(&entry(&list, "hourly.toml")["next_run"]);
    assert!(
        next <= Utc::now() + ChronoDuration::hours(1),
        "an hourly sync that just ran is next planned for {next}: {list:#?}"
    );
}

#[test]
fn next_on_an_empty_or_missing_folder() {
    let ws = Workspace::new();
    let dir = ws.path("empty");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(next_json(&ws, &dir).is_empty());
    let r = CliRun::from_output(ws.cli().arg("next").arg(&dir).output().unwrap());
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("no sync files"), "{}", r.stdout);
    let r = CliRun::from_output(ws.cli().arg("next").arg(ws.path("nope")).output().unwrap());
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
}

#[test]
fn check_names_a_bad_schedule_and_the_fix() {
    let ws = Workspace::new();
    ws.sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);");
    let base = SyncFile::sqlite(&ws, "SELECT id, name FROM people", "id");
    for (lines, fix) in [
        (vec!["schedule = \"every 15\""], "\"every 15m\""),
        (vec!["schedule = \"0 6 * * *\""], "write \"0 0 6 * * *\""),
        (vec!["schedule = \"at noon\""], "\"0 0 6 * * *\""),
        (
            vec!["schedule = \"every 1h\"", "schedule_start = \"tomorrow\""],
            "RFC 3339",
        ),
        (
            vec![
                "schedule = \"0 0 6 * * *\"",
                "schedule_start = \"2026-01-01T00:00:00Z\"",
            ],
            "interval",
        ),
    ] {
        let mut f = base.clone();
        for l in &lines {
            f = f.sync_line(l);
        }
        let file = f.write(&ws, "sched.toml");
        let r = ws.check(&file);
        assert_eq!(r.code, 1, "{lines:?}: {}", r.all_output());
        assert!(
            r.stderr.contains("[sync] schedule"),
            "{lines:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(fix), "{lines:?}: {}", r.stderr);
        assert!(r.stderr.contains("sched.toml"), "{lines:?}: {}", r.stderr);
    }

    // A good schedule: check lists it and the next three runs.
    let file = base
        .clone()
        .sync_line("schedule = \"every 6h\"")
        .write(&ws, "good.toml");
    let r = CliRun::from_output(
        ws.cli()
            .arg("check")
            .arg(&file)
            .arg("--json")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let report = r.json();
    assert_eq!(report["schedule"], "every 6h");
    let next: Vec<DateTime<Utc>> = report["next_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(time_of)
        .collect();
    assert_eq!(next.len(), 3, "{report:#}");
    assert!(
        next.iter().all(|t| t.timestamp() % (6 * 3600) == 0),
        "{next:?}"
    );
    assert_eq!(next[1] - next[0], ChronoDuration::hours(6));
    assert_eq!(next[2] - next[1], ChronoDuration::hours(6));
    assert!(next[0] > Utc::now() - ChronoDuration::seconds(5));
    assert!(next[0] <= Utc::now() + ChronoDuration::hours(6));
}
