//! The core's scheduler over the workspace folder, on tauri's runtime:
//! scheduled syncs run while the app is open or in the tray. Each scheduled
//! run is registered in `AppState` like a run started from the UI, so that
//! the UI shows it running and can cancel it; it reports progress as
//! `run-progress`, and its start and end as `syncs-changed`. A notification
//! says when a sync starts failing or recovers. While schedules are paused
//! (tray "Pause schedules"), slots pass without a run.

use crate::AppState;
use dropsync::daemon::FolderHost;
use dropsync::run::RunOptions;
use dropsync::scheduler::{BoxFuture, Host, Job, Plan, Scheduler, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tauri::{AppHandle, Emitter, Manager};

/// How often the tray's ages ("2 min ago") are brought up to date.
const TRAY_AGES_EVERY: Duration = Duration::from_secs(30);
/// How soon a scheduler shutdown reaches a running sync.
const CANCEL_POLL: Duration = Duration::from_millis(250);

/// A host whose runs are skipped while `paused()` says so. The scheduler
/// then plans the next slot as after any run: skipped slots are not queued.
pub struct Pausable<H> {
    inner: H,
    paused: Box<dyn Fn() -> bool + Send + Sync>,
}

impl<H: Host> Pausable<H> {
    pub fn new(inner: H, paused: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Pausable {
            inner,
            paused: Box::new(paused),
        }
    }
}

impl<H: Host> Host for Pausable<H> {
    fn reload(&self, plan: &mut Plan, now: chrono::DateTime<chrono::Utc>) {
        self.inner.reload(plan, now)
    }

    fn run(&self, job: Job) -> BoxFuture {
        if (self.paused)() {
            tracing::info!(sync = %job.key, "schedules paused: slot skipped");
            return Box::pin(async {});
        }
        self.inner.run(job)
    }
}

/// The sync files' names, times and sizes: a change means syncs were added,
/// edited or removed.
type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

fn fingerprint(dir: &Path) -> Fingerprint {
    dropsync::daemon::sync_files(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            (p, modified, meta.map_or(0, |m| m.len()))
        })
        .collect()
}

/// `FolderHost` plans the syncs; the app runs them itself so that they are
/// visible, cancellable and notified.
struct AppHost {
    folder: FolderHost,
    app: AppHandle,
    state: AppState,
    files: Mutex<Option<Fingerprint>>,
    tray_at: Mutex<Option<Instant>>,
}

impl Host for AppHost {
    fn reload(&self, plan: &mut Plan, now: chrono::DateTime<chrono::Utc>) {
        self.folder.reload(plan, now);
        let files = fingerprint(&self.state.paths.workspace);
        let changed = {
            let mut seen = self.files.lock().unwrap_or_else(|e| e.into_inner());
            let changed = seen.as_ref().is_some_and(|s| *s != files);
            *seen = Some(files);
            changed
        };
        let mut tray_at = self.tray_at.lock().unwrap_or_else(|e| e.into_inner());
        if changed {
            // The UI refreshes its list, and the tray with it (main.rs).
            let _ = self.app.emit("syncs-changed", ());
            *tray_at = Some(Instant::now());
        } else if tray_at.is_none_or(|t| t.elapsed() >= TRAY_AGES_EVERY) {
            crate::tray::refresh(&self.app);
            *tray_at = Some(Instant::now());
        }
    }

    fn run(&self, job: Job) -> BoxFuture {
        Box::pin(run_scheduled(self.app.clone(), self.state.clone(), job))
    }
}

async fn run_scheduled(app: AppHandle, state: AppState, job: Job) {
    let path = PathBuf::from(&job.key);
    let Some(file) = path.file_name().map(|f| f.to_string_lossy().into_owned()) else {
        return;
    };
    let spec = match dropsync::SyncSpec::load(&path) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(sync = %file, error = %e, "scheduled run: the file no longer loads");
            return;
        }
    };
    let control = Arc::new(crate::commands::evented_control(app.clone(), file.clone()));
    if !state.start_run(&file, control.clone()) {
        tracing::info!(sync = %file, "already running from the app: scheduled slot skipped");
        return;
    }
    let _ = app.emit("syncs-changed", ());
    let state_dir = state.paths.state_dir.clone();
    let c = control.clone();
    let task = tauri::async_runtime::spawn_blocking(move || {
        let previous = crate::notify::previous_outcome(&state_dir, &spec.sync.id);
        let report =
            dropsync::alerting::run_and_alert(&spec, &state_dir, &RunOptions::default(), &c);
        (previous, report)
    });
    tokio::pin!(task);
    // The scheduler cancels its job's control when it stops; the run
    // watches its own (evented) control, so pass the cancel on.
    let outcome = loop {
        tokio::select! {
            r = &mut task => break r,
            _ = tokio::time::sleep(CANCEL_POLL) => {
                if job.control.is_cancelled() {
                    control.cancel();
                }
            }
        }
    };
    state.end_run(&file);
    let _ = app.emit("syncs-changed", ());
    match outcome {
        Ok((previous, Ok(report))) => {
            tracing::info!(sync = %file, status = report.status.as_str(), "scheduled run ended");
            crate::notify::after_run(&app, previous, &report);
        }
        Ok((_, Err(e))) => {
            tracing::warn!(sync = %file, error = %e, "scheduled run could not start")
        }
        Err(e) => tracing::error!(sync = %file, error = %e, "scheduled run task failed"),
    }
}

/// Whether scheduled runs are paused (kept in the preferences).
pub fn paused(app: &AppHandle) -> bool {
    crate::prefs::get_bool(app, crate::prefs::SCHEDULES_PAUSED)
}

/// Pauses or resumes schedules, and tells the UI (`schedules-paused`, a bool).
pub fn set_paused(app: &AppHandle, paused: bool) {
    crate::prefs::set_bool(app, crate::prefs::SCHEDULES_PAUSED, paused);
    tracing::info!(paused, "schedules paused changed");
    let _ = app.emit("schedules-paused", paused);
}

/// Stops the scheduler; its running syncs are cancelled and recorded.
struct Shutdown {
    tx: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    done: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

pub fn start(app: &AppHandle, state: &AppState) {
    let paused_app = app.clone();
    let host = Arc::new(Pausable::new(
        AppHost {
            folder: FolderHost::new(&state.paths.workspace, &state.paths.state_dir),
            app: app.clone(),
            state: state.clone(),
            files: Mutex::new(None),
            tray_at: Mutex::new(None),
        },
        move || paused(&paused_app),
    ));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tauri::async_runtime::spawn(async move {
        let scheduler = Scheduler {
            clock: Arc::new(SystemClock),
            max_concurrent: 2,
            poll: Duration::from_secs(5),
        };
        scheduler
            .serve(host, Arc::new(Mutex::new(Plan::default())), async {
                let _ = rx.await;
            })
            .await;
        tracing::info!("scheduler stopped");
    });
    app.manage(Shutdown {
        tx: Mutex::new(Some(tx)),
        done: Mutex::new(Some(handle)),
    });
}

/// Quit: cancel what runs (so that it is recorded), give it a few seconds,
/// then exit.
pub fn quit(app: &AppHandle) {
    if let Some(state) = app.try_state::<AppState>() {
        state.cancel_all();
    }
    let (tx, done) = match app.try_state::<Shutdown>() {
        Some(s) => (
            s.tx.lock().unwrap_or_else(|e| e.into_inner()).take(),
            s.done.lock().unwrap_or_else(|e| e.into_inner()).take(),
        ),
        None => (None, None),
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
        if let Some(done) = done {
            let _ = tokio::time::timeout(Duration::from_secs(10), done).await;
        }
        app.exit(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use dropsync::schedule::Schedule;
    use dropsync::scheduler::TokioClock;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// One sync every minute; counts the runs that reach it.
    struct Counting(Arc<AtomicUsize>);

    impl Host for Counting {
        fn reload(&self, plan: &mut Plan, now: DateTime<Utc>) {
            plan.set("a", Schedule::parse("every 1m", None).unwrap(), None, now);
        }

        fn run(&self, _job: Job) -> BoxFuture {
            let runs = self.0.clone();
            Box::pin(async move {
                runs.fetch_add(1, Ordering::SeqCst);
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn paused_schedules_skip_their_slots_and_resume() {
        let runs = Arc::new(AtomicUsize::new(0));
        let paused = Arc::new(AtomicBool::new(true));
        let p = paused.clone();
        let host = Arc::new(Pausable::new(Counting(runs.clone()), move || {
            p.load(Ordering::SeqCst)
        }));
        let start = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let scheduler = Scheduler {
            clock: Arc::new(TokioClock::starting_at(start)),
            max_concurrent: 1,
            poll: Duration::from_secs(5),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serve = tokio::spawn(async move {
            scheduler
                .serve(host, Arc::new(Mutex::new(Plan::default())), async {
                    let _ = rx.await;
                })
                .await
        });
        // The 10:01 and 10:02 slots pass while paused: no run, none queued.
        tokio::time::sleep(Duration::from_secs(150)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        // Resumed: the 10:03 slot runs, once.
        paused.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(40)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        tx.send(()).unwrap();
        serve.await.unwrap();
    }

    #[test]
    fn the_fingerprint_sees_added_edited_and_removed_files() {
        let dir = tempfile::tempdir().unwrap();
        let empty = fingerprint(dir.path());
        std::fs::write(dir.path().join("a.toml"), "x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a sync").unwrap();
        let one = fingerprint(dir.path());
        assert_ne!(empty, one);
        assert_eq!(one.len(), 1);
        std::fs::write(dir.path().join("a.toml"), "xy").unwrap();
        assert_ne!(fingerprint(dir.path()), one);
        std::fs::remove_file(dir.path().join("a.toml")).unwrap();
        assert_eq!(fingerprint(dir.path()), empty);
    }
}
