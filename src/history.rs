//! Run records: what each run did, kept beside the snapshot in the sync's
//! state database.

use crate::config::{DestinationSpec, Mode, SyncSpec};
use crate::error::{Error, Result};
use crate::run::timestamp;
use crate::store::SyncStore;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Success,
    Failed,
    /// The process stopped while the run was in progress; nothing was committed.
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> RunStatus {
        match s {
            "running" => RunStatus::Running,
            "success" => RunStatus::Success,
            "interrupted" => RunStatus::Interrupted,
            _ => RunStatus::Failed,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RowCounts {
    pub queried: u64,
    pub added: u64,
    /// Rows whose synced (mapped) values changed: the rows of the changed file.
    pub changed: u64,
    pub removed: u64,
    /// Diff mode: rows whose source row changed at all, synced columns or
    /// not. More than `changed` when a mapping leaves changed columns out.
    /// 0 when unknown: runs recorded before it was counted, and rows whose
    /// snapshot entry predates source-row hashes (the first run after).
    #[serde(default)]
    pub source_changed: u64,
}

impl RowCounts {
    /// "5 rows changed in the source; 3 changed in the columns this sync
    /// sends", when the source changed more rows than the synced columns.
    pub fn source_note(&self) -> Option<String> {
        if self.source_changed <= self.changed {
            return None;
        }
        let rows = if self.source_changed == 1 {
            "row"
        } else {
            "rows"
        };
        let synced = if self.changed == 0 {
            "none".to_string()
        } else {
            self.changed.to_string()
        };
        Some(format!(
            "{} {rows} changed in the source; {synced} changed in the columns this sync sends",
            self.source_changed
        ))
    }
}

/// The first rows of a file as they will appear, for previews.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FilePreview {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The file's text for those rows (header and BOM included).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FileReport {
    /// Relative to the destination folder.
    pub path: String,
    pub kind: crate::run::FileKind,
    /// The part's number (from 1) when the sync cuts files into parts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub part: Option<u32>,
    pub rows: u64,
    pub bytes: u64,
    pub skipped: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preview: Option<FilePreview>,
    /// The later run that wrote the same path in the same destination folder:
    /// this file's rows are no longer there. Worked out when history is read
    /// (never stored); `None` when no later run did, or when either run
    /// predates the recording of destinations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub overwritten_by: Option<i64>,
    /// Deleted from the destination by retention (`[sync.retention]`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted_by_retention: bool,
}

impl FileReport {
    /// A file a destination says landed, known by its path only: the run
    /// that delivered it replaces this with its own report of that path
    /// (kind, rows, bytes).
    pub fn landed(path: &str) -> FileReport {
        FileReport {
            part: None,
            path: path.to_string(),
            kind: crate::run::FileKind::All,
            rows: 0,
            bytes: 0,
            skipped: false,
            preview: None,
            overwritten_by: None,
            deleted_by_retention: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunReport {
    pub run_id: i64,
    pub sync_id: String,
    pub mode: Mode,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub rows: RowCounts,
    pub files: Vec<FileReport>,
    pub error: Option<String>,
    pub error_code: Option<crate::error::ErrorCode>,
    /// What retention deleted after this run (`[sync.retention]`); `None`
    /// when off. Not stored with the run: History marks each deleted file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<crate::retention::RetentionOutcome>,
    /// Alert messages sent because of this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<AlertDelivery>,
}

/// One alert message sent (or not) on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertDelivery {
    pub kind: crate::alerts::AlertKind,
    /// e.g. `slack`, `sms +15550002222`, `email ops@example.com`
    pub channel: String,
    pub ok: bool,
    pub attempts: u32,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// Records alert deliveries (run_id `None` for test alerts).
pub fn record_alerts(store: &SyncStore, run_id: Option<i64>, sent: &[AlertDelivery]) -> Result<()> {
    for a in sent {
        store
            .conn
            .execute(
                "INSERT INTO alerts (run_id, at, kind, channel, ok, attempts, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![run_id, timestamp(a.at), a.kind.as_str(), a.channel, a.ok, a.attempts, a.error],
            )
            .map_err(|e| store.err(e))?;
    }
    Ok(())
}

fn alerts_of(conn: &Connection, run_id: i64) -> rusqlite::Result<Vec<AlertDelivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, channel, ok, attempts, error, at FROM alerts WHERE run_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([run_id], |r| {
        let at: String = r.get(5)?;
        let kind: String = r.get(0)?;
        Ok(AlertDelivery {
            kind: crate::alerts::AlertKind::parse(&kind),
            channel: r.get(1)?,
            ok: r.get(2)?,
            attempts: r.get(3)?,
            error: r.get(4)?,
            at: DateTime::parse_from_rfc3339(&at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
        })
    })?;
    rows.collect()
}

impl RunReport {
    pub fn failed(
        spec: &SyncSpec,
        run_id: i64,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
        e: &Error,
    ) -> RunReport {
        RunReport {
            run_id,
            sync_id: spec.sync.id.clone(),
            mode: spec.sync.mode,
            status: RunStatus::Failed,
            started_at: started,
            finished_at: Some(finished),
            rows: RowCounts::default(),
            // Files that landed before a delivery stopped are part of the
            // record: a consumer may already have read them.
            files: match e {
                Error::PartialDelivery { landed, .. } => landed.clone(),
                _ => Vec::new(),
            },
            error: Some(e.to_string()),
            error_code: Some(e.code()),
            alerts: Vec::new(),
            retention: None,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.status == RunStatus::Success
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(mode_from(&s))
    }
}

fn mode_from(s: &str) -> Mode {
    match s {
        "insert" => Mode::Insert,
        "diff" => Mode::Diff,
        _ => Mode::All,
    }
}

fn mode_str(m: Mode) -> &'static str {
    match m {
        Mode::All => "all",
        Mode::Insert => "insert",
        Mode::Diff => "diff",
    }
}

/// Where a run delivers, as recorded with it: two runs overwrite each
/// other's files only when this and the file's path are the same. Dropbox
/// paths are case-insensitive, so they are compared in lower case.
pub fn destination_key(d: &DestinationSpec) -> String {
    match d {
        DestinationSpec::Folder { path } => format!("folder:{}", path.display()),
        DestinationSpec::Dropbox { path, account } => format!(
            "dropbox:{}:{}",
            account.as_deref().unwrap_or("").to_lowercase(),
            path.to_lowercase()
        ),
    }
}

/// Records a run as started and returns its id (the `{sync.run.id}`).
pub fn begin(
    store: &SyncStore,
    started: DateTime<Utc>,
    mode: Mode,
    destination: &str,
) -> Result<i64> {
    store
        .conn
        .execute(
            "INSERT INTO runs (started_at, status, mode, destination) VALUES (?1, 'running', ?2, ?3)",
            params![timestamp(started), mode_str(mode), destination],
        )
        .map_err(|e| store.err(e))?;
    Ok(store.conn.last_insert_rowid())
}

/// The id the next run will get (previews name files with it).
pub fn next_id(store: &SyncStore) -> Result<i64> {
    let max: Option<i64> = store
        .conn
        .query_row("SELECT max(id) FROM runs", [], |r| r.get(0))
        .map_err(|e| store.err(e))?;
    Ok(max.unwrap_or(0) + 1)
}

/// The status of one run, if it is recorded.
pub fn status(store: &SyncStore, run_id: i64) -> Result<Option<RunStatus>> {
    use rusqlite::OptionalExtension;
    store
        .conn
        .query_row("SELECT status FROM runs WHERE id = ?1", [run_id], |r| {
            r.get::<_, String>(0)
        })
        .optional()
        .map(|s| s.map(|s| RunStatus::parse(&s)))
        .map_err(|e| store.err(e))
}

/// Runs left `running` by a process that died are marked `interrupted`.
/// Only called while holding the sync's lock, so none of them is live.
pub fn interrupt_stale(store: &SyncStore) -> Result<()> {
    store
        .conn
        .execute(
            "UPDATE runs SET status = 'interrupted', error = 'the process stopped during the run; nothing was committed', error_code = 'interrupted' WHERE status = 'running'",
            [],
        )
        .map_err(|e| store.err(e))?;
    Ok(())
}

pub fn record_success(conn: &Connection, r: &RunReport) -> rusqlite::Result<()> {
    write(conn, r)
}

pub fn record_failure(store: &SyncStore, r: &RunReport) -> Result<()> {
    write(&store.conn, r).map_err(|e| store.err(e))
}

fn write(conn: &Connection, r: &RunReport) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE runs SET finished_at = ?2, status = ?3, rows_queried = ?4, rows_added = ?5, rows_changed = ?6, rows_removed = ?7, files = ?8, error = ?9, error_code = ?10, rows_source_changed = ?11 WHERE id = ?1",
        params![
            r.run_id,
            r.finished_at.map(timestamp),
            r.status.as_str(),
            r.rows.queried as i64,
            r.rows.added as i64,
            r.rows.changed as i64,
            r.rows.removed as i64,
            serde_json::to_string(&r.files).unwrap_or_else(|_| "[]".into()),
            r.error,
            r.error_code.map(|c| c.as_str()),
            r.rows.source_changed as i64,
        ],
    )?;
    Ok(())
}

/// The most recent runs first.
pub fn list(store: &SyncStore, sync_id: &str, limit: usize) -> Result<Vec<RunReport>> {
    let mut stmt = store
        .conn
        .prepare(
            "SELECT id, started_at, finished_at, status, mode, rows_queried, rows_added, rows_changed, rows_removed, files, error, error_code, destination, rows_source_changed FROM runs ORDER BY id DESC LIMIT ?1",
        )
        .map_err(|e| store.err(e))?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            let parse_time = |s: Option<String>| {
                s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                    .map(|t| t.with_timezone(&Utc))
            };
            let files: String = r.get(9)?;
            let destination: Option<String> = r.get(12)?;
            let report = RunReport {
                run_id: r.get(0)?,
                sync_id: sync_id.to_string(),
                started_at: parse_time(r.get(1)?).unwrap_or_default(),
                finished_at: parse_time(r.get(2)?),
                status: RunStatus::parse(&r.get::<_, String>(3)?),
                mode: mode_from(&r.get::<_, String>(4)?),
                rows: RowCounts {
                    queried: r.get::<_, i64>(5)? as u64,
                    added: r.get::<_, i64>(6)? as u64,
                    changed: r.get::<_, i64>(7)? as u64,
                    removed: r.get::<_, i64>(8)? as u64,
                    source_changed: r.get::<_, i64>(13)? as u64,
                },
                files: serde_json::from_str(&files).unwrap_or_default(),
                error: r.get(10)?,
                error_code: r
                    .get::<_, Option<String>>(11)?
                    .map(|c| crate::error::ErrorCode::parse(&c)),
                alerts: Vec::new(),
                retention: None,
            };
            Ok((report, destination))
        })
        .map_err(|e| store.err(e))?;
    let runs = rows
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| store.err(e))?;
    let mut runs = mark_overwritten(runs);
    for run in &mut runs {
        run.alerts = alerts_of(&store.conn, run.run_id).map_err(|e| store.err(e))?;
        let deleted = crate::retention::deleted_files(store, run.run_id)?;
        for f in &mut run.files {
            f.deleted_by_retention = deleted.contains(&f.path);
        }
    }
    Ok(runs)
}

/// Marks the files a later successful run wrote again (same destination,
/// same path). `runs` are newest first, as listed: every run later than a
/// listed one is listed too, so the marks need nothing beyond the list.
fn mark_overwritten(runs: Vec<(RunReport, Option<String>)>) -> Vec<RunReport> {
    use std::collections::HashMap;
    // (destination, path) -> the earliest run seen so far (walking back in
    // time) that delivered it: the one that overwrote an older delivery.
    let mut written: HashMap<(String, String), i64> = HashMap::new();
    let key = |dest: &str, path: &str| {
        let path = if dest.starts_with("dropbox:") {
            path.to_lowercase()
        } else {
            path.to_string()
        };
        (dest.to_string(), path)
    };
    runs.into_iter()
        .map(|(mut run, dest)| {
            if let Some(dest) = dest {
                for f in run.files.iter_mut().filter(|f| !f.skipped) {
                    f.overwritten_by = written.get(&key(&dest, &f.path)).copied();
                }
                if run.status == RunStatus::Success {
                    for f in run.files.iter().filter(|f| !f.skipped) {
                        written.insert(key(&dest, &f.path), run.run_id);
                    }
                }
            }
            run
        })
        .collect()
}

/// A sync's last run, without creating state for a sync that never ran.
pub fn last_run(state_dir: &std::path::Path, sync_id: &str) -> Option<RunReport> {
    if !crate::store::exists(state_dir, sync_id) {
        return None;
    }
    let store = SyncStore::open(state_dir, sync_id).ok()?;
    list(&store, sync_id, 1).ok()?.into_iter().next()
}

/// Forgets the snapshot: the next run behaves like a first run. History stays.
pub fn reset(store: &mut SyncStore) -> Result<u64> {
    let _lock = store.lock()?;
    let path = store.path().to_path_buf();
    let state_err = |source| Error::State {
        path: path.clone(),
        source,
    };
    let tx = store.conn.transaction().map_err(state_err)?;
    let count = crate::store::read_meta(&tx, "row_count").map_err(state_err)?;
    crate::snapshot::clear(&tx)
        .and_then(|_| tx.commit())
        .map_err(state_err)?;
    Ok(count.and_then(|c| c.parse().ok()).unwrap_or(0))
}
