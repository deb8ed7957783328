//! `dropsync next`: when each sync of a folder runs next, as the daemon
//! would schedule it now.

use super::{print, Status};
use anyhow::Result;
use chrono::{DateTime, Local, Utc};
use dropsync::Workspace;
use std::path::Path;

pub fn next(dir: &Path, state: &Path, json: bool) -> Result<Status> {
    let runs = Workspace::new(dir, state)
        .next_runs(Utc::now())
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
    if json {
        print::json(&runs)?;
        return Ok(Status::Success);
    }
    if runs.is_empty() {
        println!("no sync files (*.toml) in {}", dir.display());
    }
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    for r in &runs {
        let name = r
            .file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        match (&r.error, &r.sync_id) {
            (Some(e), _) => println!("{name}: not scheduled: {e}"),
            (None, Some(id)) => println!(
                "{name} (sync {id}, {}): next {}{}",
                r.schedule.as_deref().unwrap_or("manual"),
                r.next_run.map_or("never (manual)".to_string(), |t| {
                    // A slot that passed is not skipped: the scheduler
                    // runs it once as soon as it can (catch-up).
                    if t <= Utc::now() {
                        format!("due now (the {} local slot was missed)", local(t))
                    } else {
                        format!("{} local", local(t))
                    }
                }),
                r.last_run
                    .map_or(String::new(), |t| format!(", last run {} local", local(t)))
            ),
            (None, None) => {}
        }
    }
    Ok(Status::Success)
}
