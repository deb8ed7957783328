//! The core's scheduler over the workspace, on tauri's runtime: scheduled
//! syncs run while the app is open or in the tray. The scheduler's host is
//! the workspace's own (`dropsync::workspace::WorkspaceHost`), so a
//! scheduled run is a workspace job like one started from the UI: the UI
//! shows it running and can cancel it, and its events reach the UI, the tray
//! and the notifications (`events`). While schedules are paused (tray
//! "Pause schedules"), slots pass without a run.

use crate::AppState;
use dropsync::scheduler::{BoxFuture, Host, Job, Plan, Scheduler, SystemClock};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::{AppHandle, Manager};
use tauri_specta::Event as _;

/// How often the tray's ages ("2 min ago") are brought up to date.
const TRAY_AGES_EVERY: Duration = Duration::from_secs(30);

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

/// Whether scheduled runs are paused (kept in the preferences).
pub fn paused(app: &AppHandle) -> bool {
    crate::prefs::get_bool(app, crate::prefs::SCHEDULES_PAUSED)
}

/// Pauses or resumes schedules, and tells the UI (`schedules-paused`, a bool).
pub fn set_paused(app: &AppHandle, paused: bool) {
    crate::prefs::set_bool(app, crate::prefs::SCHEDULES_PAUSED, paused);
    tracing::info!(paused, "schedules paused changed");
    let _ = crate::events::SchedulesPaused(paused).emit(app);
}

/// Stops the scheduler; its running syncs are cancelled and recorded.
struct Shutdown {
    tx: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    done: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

pub fn start(app: &AppHandle, state: &AppState) {
    let paused_app = app.clone();
    let host = Arc::new(Pausable::new(state.ws.host(), move || paused(&paused_app)));
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
    let tray_app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(TRAY_AGES_EVERY).await;
            crate::tray::refresh(&tray_app);
        }
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
        state.ws.cancel_all();
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
}
