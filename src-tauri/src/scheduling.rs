//! The core's scheduler over the workspace folder, on tauri's runtime:
//! scheduled syncs run while the app is open, and the UI hears of each run's
//! end through `syncs-changed`.

use crate::AppState;
use dropsync::daemon::FolderHost;
use dropsync::scheduler::{BoxFuture, Host, Job, Plan, Scheduler, SystemClock};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// `FolderHost`, plus an event when a scheduled run ends.
struct AppHost {
    inner: FolderHost,
    app: AppHandle,
}

impl Host for AppHost {
    fn reload(&self, plan: &mut Plan, now: chrono::DateTime<chrono::Utc>) {
        self.inner.reload(plan, now)
    }

    fn run(&self, job: Job) -> BoxFuture {
        let app = self.app.clone();
        let _ = app.emit("syncs-changed", ());
        let run = self.inner.run(job);
        Box::pin(async move {
            run.await;
            let _ = app.emit("syncs-changed", ());
        })
    }
}

/// Stops the scheduler; its running syncs are cancelled and recorded.
struct Shutdown {
    tx: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    done: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

pub fn start(app: &AppHandle, state: &AppState) {
    let host = Arc::new(AppHost {
        inner: FolderHost::new(&state.paths.workspace, &state.paths.state_dir),
        app: app.clone(),
    });
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
