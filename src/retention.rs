//! Retention: with `[sync.retention] keep_runs = N`, after a run commits,
//! the files delivered by runs older than the sync's last N successful runs
//! are deleted from the destination.
//!
//! What may be deleted, and nothing else:
//! - only paths a run of this sync recorded in its history as delivered
//!   (not skipped), never a file someone else put in the folder, whatever
//!   its name;
//! - only runs that delivered to the destination the sync delivers to now
//!   (same [`history::destination_key`]): when a sync moves to another
//!   folder, its old runs' paths mean nothing there, and the old folder is
//!   no longer the sync's to clean; runs recorded before destinations were
//!   (no key) are never touched;
//! - never a path that a run still kept (the last N successful runs, and
//!   every run since the oldest of them, failed ones included: a failed
//!   run's landed files are delivered too) wrote as well: that path holds
//!   the newer run's data (a fixed filename is never deleted). Paths
//!   compare as History's "overwritten by" does: case-insensitively on
//!   Dropbox.
//!
//! Deletions are recorded in the sync's state database (table
//! `retention_files`, one row per run and path): deleted ones are never
//! deleted again and History can say "deleted by retention"; a delete that
//! failed stays a candidate, so the next run tries it again (the row keeps
//! the attempts and the last error). A failed delete never fails the run:
//! it is reported in the [`RetentionOutcome`].

use crate::config::SyncSpec;
use crate::destination::Destination;
use crate::error::Result;
use crate::history;
use crate::store::SyncStore;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// What retention did after a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RetentionOutcome {
    /// Paths (relative to the destination folder) deleted now, or found
    /// already gone.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// Paths that could not be deleted: the next run tries them again.
    #[serde(default)]
    pub failed: Vec<FailedDelete>,
    /// Retention could not run at all (e.g. the destination could not be
    /// opened); the next run tries again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RetentionOutcome {
    /// Nothing deleted, nothing failed.
    pub fn is_empty(&self) -> bool {
        self.deleted.is_empty() && self.failed.is_empty() && self.error.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FailedDelete {
    pub path: String,
    pub error: String,
    /// Runs that have tried it so far, this one included.
    pub attempts: u32,
}

const TABLE: &str = "
CREATE TABLE IF NOT EXISTS retention_files (
    run_id      INTEGER NOT NULL,
    path        TEXT NOT NULL,
    destination TEXT NOT NULL,
    deleted_at  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    PRIMARY KEY (run_id, path)
);";

fn ensure_table(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(TABLE)
}

/// After a run of `spec` committed (called with the run's store, under its
/// lock): opens the destination and applies retention. `None` when the
/// sync has no `[sync.retention]`.
pub fn after_run(
    spec: &SyncSpec,
    state_dir: &Path,
    store: &SyncStore,
    run_id: i64,
) -> Option<RetentionOutcome> {
    spec.sync.retention.keep_runs?;
    let dest = match crate::destination::open(&spec.destination, state_dir, None) {
        Ok(d) => d,
        Err(e) => {
            return Some(RetentionOutcome {
                error: Some(format!("old files were not deleted: {e}")),
                ..Default::default()
            })
        }
    };
    Some(apply_with(store, spec, dest.as_ref(), run_id))
}

/// Applies retention for `spec` after its run `current_run_id`, deleting
/// from `dest`. Opens the sync's state; takes no lock (call it under the
/// sync's run lock, or when no run of the sync can be going on).
pub fn apply(
    spec: &SyncSpec,
    state_dir: &Path,
    dest: &dyn Destination,
    current_run_id: i64,
) -> RetentionOutcome {
    match SyncStore::open(state_dir, &spec.sync.id) {
        Ok(store) => apply_with(&store, spec, dest, current_run_id),
        Err(e) => RetentionOutcome {
            error: Some(format!("old files were not deleted: {e}")),
            ..Default::default()
        },
    }
}

/// [`apply`] with the sync's store already open.
pub fn apply_with(
    store: &SyncStore,
    spec: &SyncSpec,
    dest: &dyn Destination,
    current_run_id: i64,
) -> RetentionOutcome {
    let Some(keep) = spec.sync.retention.keep_runs else {
        return RetentionOutcome::default();
    };
    let destination = history::destination_key(&spec.destination);
    let plan = match plan(&store.conn, keep, &destination, current_run_id) {
        Ok(p) => p,
        Err(e) => {
            return RetentionOutcome {
                error: Some(format!(
                    "old files were not deleted: cannot read the history: {}",
                    store.err(e)
                )),
                ..Default::default()
            }
        }
    };
    let paths: Vec<String> = plan.values().map(|c| c.path.clone()).collect();
    let results = if paths.is_empty() {
        Vec::new()
    } else {
        dest.delete(&paths)
    };
    let mut outcome = RetentionOutcome::default();
    let recorded = record(&store.conn, &destination, &plan, &results, &mut outcome);
    if let Err(e) = recorded {
        outcome.error = Some(format!(
            "the deletions were not recorded (they will be tried again): {}",
            store.err(e)
        ));
    }
    for path in &outcome.deleted {
        tracing::info!(sync = %spec.sync.id, file = %path, "deleted by retention");
    }
    for f in &outcome.failed {
        tracing::warn!(sync = %spec.sync.id, file = %f.path, error = %f.error, "retention could not delete a file");
    }
    outcome
}

/// One path to delete: as recorded (by the newest expired run that wrote
/// it), and every expired run whose delivery of it is not yet deleted.
#[derive(Debug)]
struct Candidate {
    path: String,
    runs: Vec<i64>,
}

/// What a run recorded of a file: only what retention needs.
#[derive(Deserialize)]
struct RecordedFile {
    path: String,
    #[serde(default)]
    skipped: bool,
}

/// The paths to delete now, by comparison key.
fn plan(
    conn: &Connection,
    keep: u32,
    destination: &str,
    current_run_id: i64,
) -> rusqlite::Result<BTreeMap<String, Candidate>> {
    ensure_table(conn)?;
    let dropbox = destination.starts_with("dropbox:");
    let key = |path: &str| {
        if dropbox {
            path.to_lowercase()
        } else {
            path.to_string()
        }
    };
    // Newest first.
    let mut stmt =
        conn.prepare("SELECT id, status, destination, files FROM runs ORDER BY id DESC")?;
    let runs: Vec<(i64, String, Option<String>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // The oldest run kept: the keep-th newest successful run up to this one.
    let cutoff = runs
        .iter()
        .filter(|(id, status, _, _)| *id <= current_run_id && status == "success")
        .nth(keep as usize - 1)
        .map(|(id, ..)| *id);
    let Some(cutoff) = cutoff else {
        return Ok(BTreeMap::new());
    };
    let deleted: HashSet<(i64, String)> = {
        let mut stmt =
            conn.prepare("SELECT run_id, path FROM retention_files WHERE deleted_at IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut kept: HashSet<String> = HashSet::new();
    let mut plan: BTreeMap<String, Candidate> = BTreeMap::new();
    for (id, _, dest, files) in &runs {
        if dest.as_deref() != Some(destination) {
            continue;
        }
        let files: Vec<RecordedFile> = serde_json::from_str(files).unwrap_or_default();
        let delivered = files.into_iter().filter(|f| !f.skipped);
        if *id >= cutoff {
            kept.extend(delivered.map(|f| key(&f.path)));
            continue;
        }
        for f in delivered {
            let k = key(&f.path);
            if kept.contains(&k) || deleted.contains(&(*id, f.path.clone())) {
                continue;
            }
            plan.entry(k)
                .or_insert_with(|| Candidate {
                    path: f.path.clone(),
                    runs: Vec::new(),
                })
                .runs
                .push(*id);
        }
    }
    Ok(plan)
}

/// Records the results in `retention_files` and the outcome; rows of
/// earlier failures that are no longer to delete (a kept run wrote the
/// path again, the sync moved) go.
fn record(
    conn: &Connection,
    destination: &str,
    plan: &BTreeMap<String, Candidate>,
    results: &[(String, Result<()>)],
    outcome: &mut RetentionOutcome,
) -> rusqlite::Result<()> {
    let by_path: HashMap<&str, &Candidate> = plan.values().map(|c| (c.path.as_str(), c)).collect();
    let now = crate::run::timestamp(chrono::Utc::now());
    let tx = conn.unchecked_transaction()?;
    let pending: Vec<(i64, String)> = {
        let mut stmt =
            tx.prepare("SELECT run_id, path FROM retention_files WHERE deleted_at IS NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let planned: HashSet<(i64, &str)> = plan
        .values()
        .flat_map(|c| c.runs.iter().map(move |r| (*r, c.path.as_str())))
        .collect();
    for (run_id, path) in &pending {
        if !planned.contains(&(*run_id, path.as_str())) {
            tx.execute(
                "DELETE FROM retention_files WHERE run_id = ?1 AND path = ?2 AND deleted_at IS NULL",
                params![run_id, path],
            )?;
        }
    }
    for (path, result) in results {
        let Some(c) = by_path.get(path.as_str()) else {
            continue;
        };
        let error = result.as_ref().err().map(|e| e.to_string());
        let mut attempts = 0u32;
        for run_id in &c.runs {
            tx.execute(
                "INSERT INTO retention_files (run_id, path, destination, deleted_at, attempts, error)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5)
                 ON CONFLICT (run_id, path) DO UPDATE SET destination = ?3, deleted_at = ?4,
                     attempts = attempts + 1, error = ?5",
                params![
                    run_id,
                    path,
                    destination,
                    error.is_none().then_some(&now),
                    error
                ],
            )?;
            let n: u32 = tx.query_row(
                "SELECT attempts FROM retention_files WHERE run_id = ?1 AND path = ?2",
                params![run_id, path],
                |r| r.get(0),
            )?;
            attempts = attempts.max(n);
        }
        match error {
            None => outcome.deleted.push(path.clone()),
            Some(error) => outcome.failed.push(FailedDelete {
                path: path.clone(),
                error,
                attempts,
            }),
        }
    }
    tx.commit()
}

/// The paths of run `run_id`'s files that retention deleted (for History:
/// "deleted by retention").
pub fn deleted_files(store: &SyncStore, run_id: i64) -> Result<Vec<String>> {
    let read = || -> rusqlite::Result<Vec<String>> {
        ensure_table(&store.conn)?;
        let mut stmt = store.conn.prepare_cached(
            "SELECT path FROM retention_files WHERE run_id = ?1 AND deleted_at IS NOT NULL ORDER BY path",
        )?;
        let rows = stmt.query_map([run_id], |r| r.get(0))?;
        rows.collect()
    };
    read().map_err(|e| store.err(e))
}

/// Deletes still to retry: paths retention could not delete so far.
pub fn pending(store: &SyncStore) -> Result<Vec<FailedDelete>> {
    let read = || -> rusqlite::Result<Vec<FailedDelete>> {
        ensure_table(&store.conn)?;
        let mut stmt = store.conn.prepare(
            "SELECT path, max(attempts), max(error) FROM retention_files WHERE deleted_at IS NULL GROUP BY path ORDER BY path",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FailedDelete {
                path: r.get(0)?,
                attempts: r.get(1)?,
                error: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            })
        })?;
        rows.collect()
    };
    read().map_err(|e| store.err(e))
}
