//! The workspace as the scheduler's host: the folder is read again at every
//! poll, so sync files added, edited or removed take effect without a
//! restart; a file that stops parsing is logged once and left out until it
//! is fixed. Its runs are the workspace's jobs (registered, cancellable,
//! evented), whoever serves the schedule: the daemon or the desktop app.

use super::{summary::last_started, Event, Workspace};
use crate::config::SyncSpec;
use crate::run::RunOptions;
use crate::scheduler::{BoxFuture, Host, Job, Plan};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// What the host knows of one sync file.
pub(super) struct Known {
    fingerprint: (Option<SystemTime>, u64),
    /// The loaded sync, or why the file does not load.
    pub(super) spec: std::result::Result<SyncSpec, String>,
}

pub struct WorkspaceHost {
    ws: Workspace,
    pub(super) known: Mutex<BTreeMap<PathBuf, Known>>,
    /// Whether the files were read once (a first read changes nothing).
    loaded: std::sync::atomic::AtomicBool,
    /// The daemon logs each file it (re)loads; one-off listings do not.
    log_loads: bool,
}

/// The sync files (`*.toml`) of a folder, sorted.
pub fn sync_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

impl WorkspaceHost {
    pub(super) fn new(ws: Workspace) -> Self {
        WorkspaceHost {
            ws,
            known: Mutex::default(),
            loaded: Default::default(),
            log_loads: true,
        }
    }

    /// A host that only plans (for listings): no logging of loads.
    pub(super) fn quiet(ws: Workspace) -> Self {
        WorkspaceHost {
            log_loads: false,
            ..WorkspaceHost::new(ws)
        }
    }

    fn spec(&self, key: &str) -> Option<SyncSpec> {
        let known = super::lock(&self.known);
        known.get(Path::new(key)).and_then(|k| k.spec.clone().ok())
    }
}

impl Host for WorkspaceHost {
    fn reload(&self, plan: &mut Plan, now: DateTime<Utc>) {
        let dir = self.ws.dir();
        let files = match sync_files(dir) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(dir = %dir.display(), error = %e, "cannot read the sync folder");
                return;
            }
        };
        let state_dir = self.ws.state_dir();
        let mut changed = false;
        let mut known = super::lock(&self.known);
        known.retain(|path, _| {
            let keep = files.contains(path);
            if !keep {
                tracing::info!(file = %path.display(), "sync file removed; no longer scheduled");
                plan.remove(&path.to_string_lossy());
                changed = true;
            }
            keep
        });
        for path in files {
            let meta = std::fs::metadata(&path).ok();
            let fingerprint = (
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.map_or(0, |m| m.len()),
            );
            if known
                .get(&path)
                .is_some_and(|k| k.fingerprint == fingerprint)
            {
                continue;
            }
            changed = true;
            let key = path.to_string_lossy().into_owned();
            let spec = match SyncSpec::load(&path) {
                Ok(spec) => {
                    let last = last_started(state_dir, &spec.sync.id);
                    if self.log_loads {
                        tracing::info!(
                            file = %path.display(),
                            sync = %spec.sync.id,
                            schedule = %spec.sync.schedule,
                            "sync file loaded"
                        );
                    }
                    plan.set(&key, spec.sync.schedule.clone(), last, now);
                    Ok(spec)
                }
                Err(e) => {
                    if self.log_loads {
                        tracing::error!(error = %e, "sync file not scheduled until it is fixed");
                    }
                    plan.remove(&key);
                    Err(e.to_string())
                }
            };
            known.insert(path, Known { fingerprint, spec });
        }
        drop(known);
        let first = !self.loaded.swap(true, std::sync::atomic::Ordering::Relaxed);
        if changed && !first {
            self.ws.emit(&Event::SyncsChanged);
        }
    }

    fn run(&self, job: Job) -> BoxFuture {
        let spec = self.spec(&job.key);
        let ws = self.ws.clone();
        Box::pin(async move {
            let Some(spec) = spec else { return };
            let id = spec.sync.id.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                ws.run_job(&spec, &RunOptions::default(), &job.control)
            })
            .await;
            match outcome {
                Ok(Ok(report)) if report.succeeded() => {
                    tracing::info!(sync = %id, run = report.run_id, rows = report.rows.queried, "run succeeded")
                }
                Ok(Ok(report)) => tracing::warn!(
                    sync = %id,
                    run = report.run_id,
                    error = report.error.as_deref().unwrap_or(""),
                    "run failed"
                ),
                Ok(Err(e)) => tracing::warn!(sync = %id, error = %e, "run could not start"),
                Err(e) => tracing::error!(sync = %id, error = %e, "run task failed"),
            }
        })
    }
}
