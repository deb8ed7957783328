//! What the workspace's syncs look like at a glance: each file's schedule,
//! last and next run (`dropsync next`), and the Syncs screen's lines.

use super::{file_key, Workspace, WorkspaceHost};
use crate::config::{Format, Mode, SyncSpec};
use crate::history::{self, RunStatus};
use crate::scheduler::{Host, Plan};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// When the sync last ran, from its history, without creating state: the
/// real end of its last run (a run stamped with `--at` started "at" another
/// time), else its start.
pub fn last_started(state_dir: &Path, sync_id: &str) -> Option<DateTime<Utc>> {
    history::last_run(state_dir, sync_id).map(|r| r.finished_at.unwrap_or(r.started_at))
}

/// One line of `dropsync next`.
#[derive(Debug, Clone, Serialize)]
pub struct NextRun {
    pub file: PathBuf,
    pub sync_id: Option<String>,
    pub schedule: Option<String>,
    pub last_run: Option<DateTime<Utc>>,
    /// `None` for manual syncs.
    pub next_run: Option<DateTime<Utc>>,
    /// Set when the file does not load.
    pub error: Option<String>,
}

/// One line of the app's Syncs screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncSummary {
    /// The file name in the workspace: how the UI names a sync.
    pub file: String,
    pub sync_id: Option<String>,
    pub model: Option<String>,
    pub mode: Option<Mode>,
    pub format: Option<Format>,
    pub destination: Option<String>,
    pub schedule: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<DateTime<Utc>>,
    pub last_status: Option<RunStatus>,
    /// Running from this workspace now.
    pub running: bool,
    /// Set when the file does not load; the other fields are then empty.
    pub error: Option<String>,
}

impl Workspace {
    /// The next run of every sync in the folder, as the scheduler would plan
    /// it now.
    pub fn next_runs(&self, now: DateTime<Utc>) -> std::io::Result<Vec<NextRun>> {
        let host = WorkspaceHost::quiet(self.clone());
        let mut plan = Plan::default();
        host.reload(&mut plan, now);
        let planned = plan.planned();
        let known = super::lock(&host.known);
        let mut out = Vec::new();
        for path in self.sync_files()? {
            let key = path.to_string_lossy().into_owned();
            let Some(known) = known.get(&path) else {
                continue;
            };
            out.push(match &known.spec {
                Ok(spec) => NextRun {
                    file: path.clone(),
                    sync_id: Some(spec.sync.id.clone()),
                    schedule: Some(spec.sync.schedule.to_string()),
                    last_run: last_started(self.state_dir(), &spec.sync.id),
                    next_run: planned.iter().find(|p| p.key == key).and_then(|p| p.next),
                    error: None,
                },
                Err(e) => NextRun {
                    file: path.clone(),
                    sync_id: None,
                    schedule: None,
                    last_run: None,
                    next_run: None,
                    error: Some(e.clone()),
                },
            });
        }
        Ok(out)
    }

    /// Every sync file with its schedule, last run and whether it runs now.
    pub fn summaries(&self, now: DateTime<Utc>) -> std::io::Result<Vec<SyncSummary>> {
        let running = self.running();
        Ok(self
            .next_runs(now)?
            .into_iter()
            .map(|n| {
                let file = file_key(&n.file);
                let spec = n
                    .error
                    .is_none()
                    .then(|| SyncSpec::load(&n.file).ok())
                    .flatten();
                let last = n
                    .sync_id
                    .as_deref()
                    .and_then(|id| history::last_run(self.state_dir(), id));
                SyncSummary {
                    running: running.contains(&file),
                    file,
                    sync_id: n.sync_id,
                    model: spec.as_ref().map(|s| s.model.name.clone()),
                    mode: spec.as_ref().map(|s| s.sync.mode),
                    format: spec.as_ref().map(|s| s.sync.format),
                    destination: spec.as_ref().map(|s| s.destination.describe()),
                    schedule: n.schedule,
                    next_run: n.next_run,
                    last_run: n.last_run,
                    last_status: last.map(|r| r.status),
                    error: n.error,
                }
            })
            .collect())
    }
}
