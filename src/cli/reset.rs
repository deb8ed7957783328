//! `dropsync reset`: forget a sync's snapshot so that its next run delivers
//! every row as new; with `--mark-delivered`, take the model's current
//! result as delivered instead, so that nothing is resent.

use super::Status;
use anyhow::Result;
use dropsync::Workspace;
use std::path::Path;

pub fn reset(file: &Path, state: &Path, mark_delivered: bool) -> Result<Status> {
    let ws = Workspace::of_file(file, state);
    let spec = ws.load(file)?;
    if mark_delivered {
        let r = ws.mark_delivered(&spec)?;
        if r.status != dropsync::history::RunStatus::Success {
            anyhow::bail!(
                "sync {}: nothing was marked: {}",
                spec.sync.id,
                r.error.unwrap_or_default()
            );
        }
        println!(
            "sync {}: took the current {} row(s) as delivered (run {}); no file was written, and the next run sends only what changes from now",
            spec.sync.id, r.rows.queried, r.run_id
        );
        return Ok(Status::Success);
    }
    let forgotten = ws.reset(&spec)?;
    println!(
        "sync {}: forgot the snapshot of {forgotten} row(s); the next run delivers every row as new",
        spec.sync.id
    );
    Ok(Status::Success)
}
