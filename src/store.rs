//! The per-sync state database: snapshot tables and run history in one SQLite
//! file, so a run's snapshot and its record commit in one transaction.

use crate::error::{Error, Result};
use rusqlite::Connection;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Schema steps; `PRAGMA user_version` records how many have run. Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The index: per bucket of key hashes, packed sorted (k1, k2, h, rid) entries
-- (see snapshot.rs).
CREATE TABLE snapshot_buckets (
    bucket INTEGER PRIMARY KEY,
    data   BLOB NOT NULL
);
-- Entries that differ from the base, by the key hash's top 8 bits.
CREATE TABLE snapshot_delta (
    bucket INTEGER PRIMARY KEY,
    data   BLOB NOT NULL
);
-- The last delivered values (postcard-encoded), for the "removed" file.
CREATE TABLE snapshot_records (
    rid INTEGER PRIMARY KEY,
    rec BLOB NOT NULL
);
-- Records replaced or removed, deleted in bulk by compaction.
CREATE TABLE snapshot_garbage (
    rid INTEGER PRIMARY KEY
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,
    mode        TEXT NOT NULL,
    rows_queried INTEGER NOT NULL DEFAULT 0,
    rows_added   INTEGER NOT NULL DEFAULT 0,
    rows_changed INTEGER NOT NULL DEFAULT 0,
    rows_removed INTEGER NOT NULL DEFAULT 0,
    files       TEXT NOT NULL DEFAULT '[]',
    error       TEXT,
    error_code  TEXT
);
"#,
    r#"
-- Alert messages sent after runs (or as tests, run_id NULL), one per
-- channel and recipient.
CREATE TABLE alerts (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    channel  TEXT NOT NULL,
    ok       INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    error    TEXT
);
CREATE INDEX alerts_by_run ON alerts (run_id);
"#,
    r#"
-- Where each run delivered (see history::destination_key), so History can
-- tell which files a later run overwrote. NULL for runs recorded before.
ALTER TABLE runs ADD COLUMN destination TEXT;
"#,
    r#"
-- Index entries gain the hash of the whole model row (see snapshot.rs):
-- rows packed before (format 1) read with that hash unknown.
ALTER TABLE snapshot_buckets ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE snapshot_delta ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
-- Rows whose source row changed (the synced values may not have).
ALTER TABLE runs ADD COLUMN rows_source_changed INTEGER NOT NULL DEFAULT 0;
"#,
];

/// Whether a sync has state (has ever been opened) in `state_dir`.
pub fn exists(state_dir: &Path, sync_id: &str) -> bool {
    state_dir
        .join("syncs")
        .join(format!("{sync_id}.sqlite"))
        .is_file()
}

pub struct SyncStore {
    pub(crate) conn: Connection,
    path: PathBuf,
    lock_path: PathBuf,
    sync_id: String,
}

impl SyncStore {
    pub fn open(state_dir: &Path, sync_id: &str) -> Result<SyncStore> {
        let dir = state_dir.join("syncs");
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::io(
                format!("cannot create the state folder {}", dir.display()),
                e,
            )
        })?;
        let path = dir.join(format!("{sync_id}.sqlite"));
        let state_err = |source| Error::State {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(state_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(state_err)?;
        // Several processes opening a new state at once (daemon, CLI, app)
        // race on the switch to WAL and the first migration; SQLite answers
        // some of those races with SQLITE_BUSY at once, without waiting in
        // the busy handler. They are short: try again.
        let mut attempt = 0;
        loop {
            match prepare(&mut conn, &path) {
                Err(Error::State { source, .. }) if is_busy(&source) && attempt < 100 => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        }
        Ok(SyncStore {
            conn,
            lock_path: dir.join(format!("{sync_id}.lock")),
            path,
            sync_id: sync_id.to_string(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> Error {
        Error::State {
            path: self.path.clone(),
            source,
        }
    }

    /// Holds the sync's run lock until dropped: one sync never runs twice at once,
    /// across processes (CLI, daemon, app).
    pub fn lock(&self) -> Result<File> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|e| Error::io(format!("cannot open {}", self.lock_path.display()), e))?;
        // A lock just released can look held for a moment: a process forked
        // elsewhere in this program holds a copy of the descriptor until its
        // exec closes it. A real run holds it far longer than this wait.
        for attempt in 0..20 {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) if attempt < 19 => {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(std::fs::TryLockError::WouldBlock) => break,
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io(
                        format!("cannot lock {}", self.lock_path.display()),
                        e,
                    ))
                }
            }
        }
        Err(Error::Busy {
            sync_id: self.sync_id.clone(),
            lock: self.lock_path.clone(),
        })
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        read_meta(&self.conn, key).map_err(|e| self.err(e))
    }
}

/// WAL mode, then the migrations this file still needs.
fn prepare(conn: &mut Connection, path: &Path) -> Result<()> {
    let state_err = |source| Error::State {
        path: path.to_path_buf(),
        source,
    };
    // FULL, not NORMAL: in WAL mode NORMAL lets a power loss undo the last
    // commits, i.e. forget a snapshot whose files were already delivered,
    // and the next run would send them again. FULL syncs the log at each
    // commit (a run commits a handful of times, so it costs nothing).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -16384;
         PRAGMA temp_store = FILE;",
    )
    .map_err(state_err)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(state_err)?;
    if version > MIGRATIONS.len() as i64 {
        // A newer Dropsync wrote this file; refuse rather than corrupt it.
        return Err(Error::config(
            path,
            format!(
                "the state file has schema version {version}, newer than this Dropsync understands ({}); upgrade Dropsync",
                MIGRATIONS.len()
            ),
        ));
    }
    migrate(conn, version as usize).map_err(state_err)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A value of the `meta` table (also inside a run's transaction).
pub fn read_meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub fn write_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        [key, value],
    )
    .map(|_| ())
}

fn migrate(conn: &mut Connection, version: usize) -> rusqlite::Result<()> {
    if version >= MIGRATIONS.len() {
        return Ok(());
    }
    // Another process (the daemon, the app, a CLI command) may be opening
    // the same new state: take the write lock first, then look again.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_synced_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let s = SyncStore::open(dir.path(), "durable").unwrap();
        let level: i64 = s
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(level, 2, "synchronous = FULL");
    }

    #[test]
    fn migrates_once_and_locks_exclusively() {
        let dir = tempfile::tempdir().unwrap();
        let a = SyncStore::open(dir.path(), "s1").unwrap();
        drop(a);
        let a = SyncStore::open(dir.path(), "s1").unwrap();
        let v: i64 = a
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
        let held = a.lock().unwrap();
        let b = SyncStore::open(dir.path(), "s1").unwrap();
        assert!(matches!(b.lock(), Err(Error::Busy { .. })));
        drop(held);
        assert!(b.lock().is_ok());
    }
}
