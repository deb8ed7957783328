//! `dropsync daemon DIR`: every sync file in a folder, run on its schedule.
//! The folder is read again every poll, so files added, edited or removed
//! take effect without a restart; a file that stops parsing is logged once
//! and left out until it is fixed.

use crate::alerting;
use crate::config::SyncSpec;
use crate::history;
use crate::run::RunOptions;
use crate::scheduler::{BoxFuture, Clock, Host, Job, Plan, Scheduler, SystemClock};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// What the daemon knows of one sync file.
struct Known {
    fingerprint: (Option<SystemTime>, u64),
    /// The loaded sync, or why the file does not load.
    spec: std::result::Result<SyncSpec, String>,
}

/// The sync files of one folder, as a scheduler host.
pub struct FolderHost {
    dir: PathBuf,
    state_dir: PathBuf,
    known: Mutex<BTreeMap<PathBuf, Known>>,
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

/// When the sync last ran, from its history, without creating state: the
/// real end of its last run (a run stamped with `--at` started "at" another
/// time), else its start.
pub fn last_started(state_dir: &Path, sync_id: &str) -> Option<DateTime<Utc>> {
    history::last_run(state_dir, sync_id).map(|r| r.finished_at.unwrap_or(r.started_at))
}

impl FolderHost {
    pub fn new(dir: &Path, state_dir: &Path) -> Self {
        FolderHost {
            dir: dir.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            known: Mutex::new(BTreeMap::new()),
            log_loads: true,
        }
    }

    fn spec(&self, key: &str) -> Option<SyncSpec> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.get(Path::new(key)).and_then(|k| k.spec.clone().ok())
    }
}

impl Host for FolderHost {
    fn reload(&self, plan: &mut Plan, now: DateTime<Utc>) {
        let files = match sync_files(&self.dir) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(dir = %self.dir.display(), error = %e, "cannot read the sync folder");
                return;
            }
        };
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.retain(|path, _| {
            let keep = files.contains(path);
            if !keep {
                tracing::info!(file = %path.display(), "sync file removed; no longer scheduled");
                plan.remove(&path.to_string_lossy());
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
            let key = path.to_string_lossy().into_owned();
            let spec = match SyncSpec::load(&path) {
                Ok(spec) => {
                    let last = last_started(&self.state_dir, &spec.sync.id);
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
    }

    fn run(&self, job: Job) -> BoxFuture {
        let spec = self.spec(&job.key);
        let state_dir = self.state_dir.clone();
        Box::pin(async move {
            let Some(spec) = spec else { return };
            let id = spec.sync.id.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                alerting::run_and_alert(&spec, &state_dir, &RunOptions::default(), &job.control)
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
    let host = Arc::new(FolderHost::new(dir, state_dir));
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

/// One line of `dropsync next`.
#[derive(Debug, Clone, serde::Serialize)]
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

/// The next run of every sync in a folder, as the daemon would plan it now.
pub fn next_runs(
    dir: &Path,
    state_dir: &Path,
    now: DateTime<Utc>,
) -> std::io::Result<Vec<NextRun>> {
    let mut host = FolderHost::new(dir, state_dir);
    host.log_loads = false;
    let mut plan = Plan::default();
    host.reload(&mut plan, now);
    let planned = plan.planned();
    let known = host.known.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    for path in sync_files(dir)? {
        let key = path.to_string_lossy().into_owned();
        let Some(known) = known.get(&path) else {
            continue;
        };
        out.push(match &known.spec {
            Ok(spec) => NextRun {
                file: path.clone(),
                sync_id: Some(spec.sync.id.clone()),
                schedule: Some(spec.sync.schedule.to_string()),
                last_run: last_started(state_dir, &spec.sync.id),
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

/// `serve` with the system clock.
pub async fn serve_now(
    dir: &Path,
    state_dir: &Path,
    opts: &DaemonOptions,
    shutdown: impl std::future::Future<Output = ()>,
) {
    serve(dir, state_dir, opts, Arc::new(SystemClock), shutdown).await
}
