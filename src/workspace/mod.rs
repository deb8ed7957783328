//! The application layer: a folder of sync files with its state folder, and
//! what every front end (the CLI, the daemon, the desktop app) does with
//! them: list, load, check, preview, run (always with its alerts), cancel,
//! history, reset and next runs, with a registry of running jobs and one
//! stream of events (`Started`, `Progress`, `Finished` with the change in the
//! sync's health). The front ends call this, not the engine's modules.

mod health;
mod host;
mod summary;

pub use health::{previous_outcome, HealthChange, Outcome};
pub use host::{sync_files, WorkspaceHost};
pub use summary::{last_started, NextRun, SyncSummary};

use crate::check::CheckReport;
use crate::config::SyncSpec;
use crate::error::{Error, Result};
use crate::history::{self, RunReport};
use crate::run::{Progress, RunControl, RunOptions};
use crate::store::{self, SyncStore};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// What happens to the workspace's runs, for whoever subscribed.
#[derive(Debug, Clone)]
pub enum Event {
    /// A run of this sync file started.
    Started {
        file: String,
    },
    Progress {
        file: String,
        progress: Progress,
    },
    /// The run ended: its report (`None` when it could not start, with the
    /// reason), and what it changed in the sync's health.
    Finished {
        file: String,
        report: Option<Box<RunReport>>,
        error: Option<String>,
        health: Option<HealthChange>,
    },
    /// Sync files were added, edited or removed (seen by the scheduler).
    SyncsChanged,
}

type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

struct Inner {
    dir: PathBuf,
    state_dir: PathBuf,
    /// Runs going on, by sync file name, so that each can be cancelled.
    jobs: Mutex<BTreeMap<String, Arc<RunControl>>>,
    listeners: Mutex<Vec<(u64, Listener)>>,
    next_listener: std::sync::atomic::AtomicU64,
}

/// A subscription to a workspace's events: dropping it unsubscribes, so a
/// listener (a progress bar) lives exactly as long as its holder wants.
/// [`Subscription::keep`] lets one last as long as the workspace.
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    inner: std::sync::Weak<Inner>,
    id: u64,
}

impl Subscription {
    /// Keeps the listener for the workspace's whole life.
    pub fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            lock(&inner.listeners).retain(|(id, _)| *id != self.id);
        }
    }
}

/// A sync folder and its state folder. Cheap to clone: clones share the
/// job registry and the subscribers.
#[derive(Clone)]
pub struct Workspace {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How a run is named in the registry and the events: its file's name.
pub fn file_key(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Workspace {
    pub fn new(dir: &Path, state_dir: &Path) -> Workspace {
        Workspace {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                state_dir: state_dir.to_path_buf(),
                jobs: Mutex::default(),
                listeners: Mutex::default(),
                next_listener: Default::default(),
            }),
        }
    }

    /// The workspace of one sync file (its folder), for commands on a file.
    pub fn of_file(file: &Path, state_dir: &Path) -> Workspace {
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Workspace::new(dir, state_dir)
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn state_dir(&self) -> &Path {
        &self.inner.state_dir
    }

    /// Calls `f` with every event until the subscription is dropped (on the
    /// thread that caused the event: keep it short).
    pub fn subscribe(&self, f: impl Fn(&Event) + Send + Sync + 'static) -> Subscription {
        let id = self
            .inner
            .next_listener
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        lock(&self.inner.listeners).push((id, Arc::new(f)));
        Subscription {
            inner: Arc::downgrade(&self.inner),
            id,
        }
    }

    pub(crate) fn emit(&self, event: &Event) {
        let listeners: Vec<Listener> = lock(&self.inner.listeners)
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for l in listeners {
            l(event);
        }
    }

    /// The sync files (`*.toml`) of the folder, sorted.
    pub fn sync_files(&self) -> std::io::Result<Vec<PathBuf>> {
        sync_files(self.dir())
    }

    pub fn load(&self, file: &Path) -> Result<SyncSpec> {
        SyncSpec::load(file)
    }

    pub fn check(&self, spec: &SyncSpec) -> Result<CheckReport> {
        crate::check::check(spec, self.state_dir())
    }

    /// The files a run would write now, with the first `rows` rows of each.
    pub fn preview(&self, spec: &SyncSpec, rows: usize, opts: &RunOptions) -> Result<RunReport> {
        crate::run::preview(spec, self.state_dir(), rows, opts)
    }

    /// The sync's runs, newest first; none (and no state created) for a
    /// sync that never ran.
    pub fn history(&self, spec: &SyncSpec, limit: usize) -> Result<Vec<RunReport>> {
        let id = &spec.sync.id;
        if !store::exists(self.state_dir(), id) {
            return Ok(Vec::new());
        }
        let store = SyncStore::open(self.state_dir(), id)?;
        history::list(&store, id, limit)
    }

    /// Forgets the sync's snapshot (history stays); returns the rows it held.
    pub fn reset(&self, spec: &SyncSpec) -> Result<u64> {
        let mut store = SyncStore::open(self.state_dir(), &spec.sync.id)?;
        history::reset(&mut store)
    }

    /// Takes the model's current result as delivered without writing any
    /// file (a run recorded with no files; no alerts), so that a user who
    /// fixed a problem by hand, or moved the sync to a new folder, does not
    /// resend everything.
    pub fn mark_delivered(&self, spec: &SyncSpec) -> Result<RunReport> {
        if spec.sync.mode == crate::config::Mode::All {
            return Err(crate::Error::config(
                &spec.file,
                "[sync] mode = \"all\" keeps no snapshot: every run sends every row, so there is nothing to mark as delivered (marking applies to \"insert\" and \"diff\")",
            ));
        }
        crate::run::run(
            spec,
            self.state_dir(),
            &RunOptions {
                mark_delivered: true,
                ..Default::default()
            },
            &RunControl::default(),
        )
    }

    /// Runs a sync now, with its alerts, as a registered job: `Started`,
    /// `Progress` and `Finished` go to the subscribers, and [`cancel`]
    /// reaches it. A second run of the same file while one goes on is
    /// refused.
    ///
    /// [`cancel`]: Workspace::cancel
    pub fn run(&self, spec: &SyncSpec, opts: &RunOptions) -> Result<RunReport> {
        self.run_job(spec, opts, &RunControl::default())
    }

    /// [`Workspace::run`] for a job whose cancel `parent` also carries (the
    /// scheduler's, cancelled when it stops).
    pub fn run_job(
        &self,
        spec: &SyncSpec,
        opts: &RunOptions,
        parent: &RunControl,
    ) -> Result<RunReport> {
        let file = file_key(&spec.file);
        let ws = self.clone();
        let key = file.clone();
        let control = Arc::new(parent.sharing_cancel(move |p: &Progress| {
            ws.emit(&Event::Progress {
                file: key.clone(),
                progress: p.clone(),
            })
        }));
        {
            let mut jobs = lock(&self.inner.jobs);
            if jobs.contains_key(&file) {
                return Err(Error::AlreadyRunning { file });
            }
            jobs.insert(file.clone(), control.clone());
        }
        self.emit(&Event::Started { file: file.clone() });
        let previous = previous_outcome(self.state_dir(), &spec.sync.id);
        let result = crate::alerting::run_and_alert(spec, self.state_dir(), opts, &control);
        lock(&self.inner.jobs).remove(&file);
        let (report, error, health) = match &result {
            Ok(r) => (
                Some(Box::new(r.clone())),
                None,
                health::change(previous, Outcome::of_report(r)),
            ),
            Err(e) => (None, Some(e.to_string()), None),
        };
        self.emit(&Event::Finished {
            file,
            report,
            error,
            health,
        });
        result
    }

    /// Asks a run of this file to stop; false when none is going on here.
    pub fn cancel(&self, file: &str) -> bool {
        match lock(&self.inner.jobs).get(file) {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    pub fn cancel_all(&self) {
        for c in lock(&self.inner.jobs).values() {
            c.cancel();
        }
    }

    /// The sync files running from this workspace now.
    pub fn running(&self) -> Vec<String> {
        lock(&self.inner.jobs).keys().cloned().collect()
    }

    /// The scheduler's host over this workspace: its runs are this
    /// workspace's jobs.
    pub fn host(&self) -> WorkspaceHost {
        WorkspaceHost::new(self.clone())
    }
}
