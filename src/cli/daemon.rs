//! `dropsync daemon`: run a folder's syncs on their schedules until SIGTERM
//! or Ctrl-C.

use super::Status;
use anyhow::Result;
use std::path::Path;

pub fn daemon(dir: &Path, state: &Path, max_concurrent: usize, poll: f64) -> Result<Status> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a folder; give the folder that holds the sync files (*.toml)",
            dir.display()
        );
    }
    if !(0.05..=3600.0).contains(&poll) {
        anyhow::bail!("--poll {poll}: give a number of seconds from 0.05 to 3600");
    }
    let opts = dropsync::daemon::DaemonOptions {
        max_concurrent: max_concurrent.max(1),
        poll: std::time::Duration::from_secs_f64(poll),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        // Listening before the first run starts: a signal that came before
        // the first await would otherwise kill the process mid-run.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stop requested; finishing");
        };
        dropsync::daemon::serve_now(dir, state, &opts, shutdown).await;
        anyhow::Ok(())
    })?;
    Ok(Status::Success)
}
