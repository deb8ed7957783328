//! `dropsync reset`: forget a sync's snapshot so that its next run delivers
//! every row as new.

use super::Status;
use anyhow::Result;
use dropsync::Workspace;
use std::path::Path;

pub fn reset(file: &Path, state: &Path) -> Result<Status> {
    let ws = Workspace::of_file(file, state);
    let spec = ws.load(file)?;
    let forgotten = ws.reset(&spec)?;
    println!(
        "sync {}: forgot the snapshot of {forgotten} row(s); the next run delivers every row as new",
        spec.sync.id
    );
    Ok(Status::Success)
}
