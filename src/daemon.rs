//! `dropsync daemon DIR`: every sync file in a folder, run on its schedule
//! (see `workspace::WorkspaceHost` for how the folder is read).

use crate::scheduler::{Clock, Plan, Scheduler, SystemClock};
use crate::workspace::Workspace;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Options of `dropsync daemon`.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub max_concurrent: usize,
    pub poll: Duration,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        DaemonOptions {
            max_concurrent: 4,
            poll: Duration::from_secs(5),
        }
    }
}

/// Runs the folder's syncs on their schedules until `shutdown` resolves.
pub async fn serve(
    dir: &Path,
    state_dir: &Path,
    opts: &DaemonOptions,
    clock: Arc<dyn Clock>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let host = Arc::new(Workspace::new(dir, state_dir).host());
    let scheduler = Scheduler {
        clock,
        max_concurrent: opts.max_concurrent,
        poll: opts.poll,
    };
    tracing::info!(dir = %dir.display(), "daemon started");
    scheduler
        .serve(host, Arc::new(Mutex::new(Plan::default())), shutdown)
        .await;
    tracing::info!("daemon stopped");
}

/// `serve` with the system clock.
pub async fn serve_now(
    dir: &Path,
    state_dir: &Path,
    opts: &DaemonOptions,
    shutdown: impl std::future::Future<Output = ()>,
) {
    serve(dir, state_dir, opts, Arc::new(SystemClock), shutdown).await
}
