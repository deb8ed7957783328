//! Finishing a run that was killed after its files landed.
//!
//! A run delivers, then commits. A kill between the two (SIGKILL, power
//! loss, a crash) used to leave files delivered and a snapshot that never
//! advanced, so the next run sent the same rows again: an Insert consumer
//! got them twice. So, before it delivers, a run writes its *intent* to its
//! staging folder: what it will commit (its `pending` snapshot database and
//! its record, both flushed to disk) and each file's size and hash. The next
//! run of the sync, under the same lock, reads a killed run's intent before
//! clearing up after it and asks the destination:
//! - every file is there, byte for byte: delivery finished, so it commits
//!   the killed run's snapshot and record for it (a two-phase commit whose
//!   second phase the next run completes); nothing is sent again;
//! - otherwise the killed run is `interrupted`, nothing of it is committed,
//!   and its changes go out again (a folder takes back what it placed; in
//!   Dropbox, files that did land are named in the record).

use crate::config::{DestinationSpec, SyncSpec};
use crate::destination;
use crate::error::{Error, Result};
use crate::history::{self, FileReport, RunReport, RunStatus};
use crate::snapshot;
use crate::store::{self, SyncStore};
use chrono::Utc;
use rusqlite::TransactionBehavior;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The run's scratch database in its staging folder (see snapshot.rs).
pub const PENDING_DB: &str = "pending.sqlite";
const INTENT: &str = "intent.json";

/// What a run commits once its files are delivered.
#[derive(Debug, Serialize, Deserialize)]
pub struct Commit {
    /// The run started from an empty snapshot (see `snapshot::apply_pending`).
    pub fresh: bool,
    /// The snapshot's new metadata; `None` in All mode (no snapshot) and
    /// on the source engine.
    pub snapshot: Option<SnapshotMeta>,
    /// The source engine's generation that becomes current (see pushdown).
    #[serde(default)]
    pub source: Option<SourceCommit>,
    pub report: RunReport,
}

/// A run's state to commit, before its record is known.
pub struct Sealed {
    pub fresh: bool,
    pub snapshot: Option<SnapshotMeta>,
    pub source: Option<SourceCommit>,
}

/// The source engine's part of a commit: the generation written in the
/// state schema, which the local state names as current once delivered.
#[derive(Debug, Serialize, Deserialize)]
pub struct SourceCommit {
    pub generation: i64,
    pub row_count: u64,
    pub columns: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub row_count: u64,
    pub columns: Vec<String>,
    pub delta_count: u64,
}

/// One file the run is about to deliver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentFile {
    /// Relative to the destination folder.
    pub relative: String,
    /// The staged copy (gone once a folder destination moved it).
    pub local: PathBuf,
    pub bytes: u64,
    /// XXH3-128 of the content, hex.
    pub xxh3: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Intent {
    /// `history::destination_key` of where the files go.
    pub destination: String,
    pub files: Vec<IntentFile>,
    pub commit: Commit,
}

/// XXH3-128 of a file's content, hex.
pub fn file_xxh3(path: &Path) -> std::io::Result<String> {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    crate::dropbox::content_hash::read_chunks(path, |b| h.update(b))?;
    Ok(format!("{:032x}", h.digest128()))
}

fn sync_path(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// Writes the intent, after flushing the pending database it refers to:
/// both must survive whatever stops the process once delivery starts.
pub fn write(staging: &Path, intent: &Intent) -> Result<()> {
    let io = |what: &str, e| Error::io(format!("cannot write the run's {what}"), e);
    let pending = staging.join(PENDING_DB);
    if pending.is_file() {
        sync_path(&pending).map_err(|e| io("snapshot", e))?;
    }
    let text = serde_json::to_vec(intent)
        .map_err(|e| Error::Internal(format!("cannot encode the run's intent: {e}")))?;
    let tmp = staging.join("intent.json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| sync_path(&tmp))
        .and_then(|_| std::fs::rename(&tmp, staging.join(INTENT)))
        .and_then(|_| sync_path(staging))
        .map_err(|e| io("intent", e))
}

/// Commits a delivered run: folds its `pending` database (attached) into the
/// snapshot with its metadata, and records it, in one transaction.
pub fn commit(store: &SyncStore, commit: &Commit) -> Result<()> {
    let state_err = |e| store.err(e);
    let tx = rusqlite::Transaction::new_unchecked(&store.conn, TransactionBehavior::Immediate)
        .map_err(state_err)?;
    if let Some(src) = &commit.source {
        // A switch from the local engine (by marking as delivered) leaves
        // its snapshot behind: nothing reads it any more.
        snapshot::clear(&tx).map_err(state_err)?;
        for (key, value) in [
            (crate::pushdown::META_ENGINE, "source".to_string()),
            (crate::pushdown::META_GENERATION, src.generation.to_string()),
            ("row_count", src.row_count.to_string()),
            (
                "columns",
                serde_json::to_string(&src.columns).unwrap_or_default(),
            ),
        ] {
            store::write_meta(&tx, key, &value).map_err(state_err)?;
        }
    }
    if let Some(meta) = &commit.snapshot {
        // The local engine holds the snapshot from here (a switch back by
        // marking as delivered).
        tx.execute(
            "DELETE FROM meta WHERE key IN (?1, ?2)",
            [
                crate::pushdown::META_ENGINE,
                crate::pushdown::META_GENERATION,
            ],
        )
        .map_err(state_err)?;
        snapshot::apply_pending(&tx, commit.fresh).map_err(state_err)?;
        store::write_meta(&tx, "row_count", &meta.row_count.to_string()).map_err(state_err)?;
        store::write_meta(
            &tx,
            "columns",
            &serde_json::to_string(&meta.columns).unwrap_or_default(),
        )
        .map_err(state_err)?;
        store::write_meta(&tx, "delta_count", &meta.delta_count.to_string()).map_err(state_err)?;
        if snapshot::compact(&tx, meta.row_count).map_err(state_err)? {
            tracing::info!(sync = %commit.report.sync_id, "compacted the snapshot's records");
        }
    }
    history::record_success(&tx, &commit.report).map_err(state_err)?;
    tx.commit().map_err(state_err)
}

/// The staging folders of this sync's runs: `(run id, folder)`.
pub fn staging_folders(state_dir: &Path, sync_id: &str) -> Vec<(i64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(state_dir.join("staging")) else {
        return Vec::new();
    };
    let mut found: Vec<(i64, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let run = name.strip_prefix(sync_id)?.strip_prefix('-')?;
            // Digits only: not another sync whose id starts like this one's,
            // nor a folder's `.pending` list.
            if run.is_empty() || !run.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((run.parse().ok()?, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// Completes the runs of this sync that were killed (or whose commit
/// failed) once their files all landed, and names in the record the files
/// that did land of those that did not.
/// Called under the sync's lock, before `history::interrupt_stale`.
pub fn finish_killed_runs(spec: &SyncSpec, state_dir: &Path, store: &SyncStore) -> Result<()> {
    for (run_id, staging) in staging_folders(state_dir, &spec.sync.id) {
        let Ok(text) = std::fs::read(staging.join(INTENT)) else {
            continue; // killed before delivery: nothing of it went out
        };
        // Killed (still `running`), or failed once its files were out (a
        // failed commit keeps its staging folder); either way the files
        // decide whether it delivered.
        let status = history::status(store, run_id)?;
        if !matches!(status, Some(RunStatus::Running | RunStatus::Failed)) {
            continue;
        }
        let Ok(mut intent) = serde_json::from_slice::<Intent>(&text) else {
            tracing::warn!(
                run = run_id,
                "unreadable intent of a killed run; its changes go out again"
            );
            continue;
        };
        if intent.destination != history::destination_key(&spec.destination) {
            tracing::info!(
                run = run_id,
                "a killed run delivered elsewhere; its changes go out again"
            );
            continue;
        }
        let dest = destination::open(&spec.destination, state_dir, None)?;
        let mut landed = Vec::new();
        for f in &intent.files {
            if dest.holds(f)? {
                landed.push(f.relative.clone());
            }
        }
        let folder_list = pending_list(&staging);
        if landed.len() == intent.files.len() {
            if folder_list.is_file() {
                destination::settle_after_killed_run(&folder_list);
            }
            let pending = staging.join(PENDING_DB);
            let attached = intent.commit.snapshot.is_none()
                || snapshot::attach_existing_pending(&store.conn, &pending).is_ok();
            if !attached {
                tracing::warn!(
                    run = run_id,
                    "the snapshot of a killed run is unreadable; its changes go out again"
                );
                continue;
            }
            intent.commit.report.finished_at = Some(Utc::now());
            let done = commit(store, &intent.commit);
            if intent.commit.snapshot.is_some() {
                let _ = snapshot::detach_pending(&store.conn);
            }
            done?;
            tracing::info!(
                sync = %spec.sync.id,
                run = run_id,
                "a run killed after its files landed is committed: they are not sent again"
            );
        } else if status == Some(RunStatus::Running)
            && !landed.is_empty()
            && matches!(spec.destination, DestinationSpec::Dropbox { .. })
        {
            // A folder takes back what a killed run placed; Dropbox keeps it.
            let report = &intent.commit.report;
            let files: Vec<FileReport> = report
                .files
                .iter()
                .filter(|f| landed.contains(&f.path))
                .cloned()
                .collect();
            let interrupted = RunReport {
                status: RunStatus::Interrupted,
                finished_at: Some(Utc::now()),
                error: Some(format!(
                    "the process stopped during delivery; {} of the run's files reached the destination ({}); nothing was committed, so the next run sends this run's changes again",
                    files.len(),
                    landed.join(", ")
                )),
                error_code: Some(crate::error::ErrorCode::Interrupted),
                files,
                ..report.clone()
            };
            history::record_failure(store, &interrupted)?;
        }
    }
    Ok(())
}

/// Where a folder destination lists a run's temporary files (see folder.rs).
pub fn pending_list(staging: &Path) -> PathBuf {
    let mut list = staging.as_os_str().to_owned();
    list.push(".pending");
    PathBuf::from(list)
}
