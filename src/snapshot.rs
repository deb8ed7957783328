//! The snapshot: what was last delivered, per key.
//!
//! Two structures, laid out so a run writes in proportion to what changed:
//! - the **index**, `(key hash, record hash, record id, source-row hash)` sorted
//!   by key hash (the record hash is of the synced values, the source-row hash
//!   of the whole model row, 0 when unknown: written before it was kept), as
//!   a *base* packed into 2^16 buckets (one BLOB each, by the key hash's top
//!   bits) plus a small *delta* (256 BLOBs) of every entry that differs from
//!   the base, with tombstones for removed keys. Keys are random hashes, so a
//!   few thousand changes would dirty nearly every page of a B-tree or of the
//!   base; a run rewrites only the delta instead, and folds it into the base
//!   once it passes an eighth of the base (amortised compaction, like an LSM).
//! - the **records**, the last delivered values (for the "removed" file), in an
//!   append-only table: a changed row gets a new record at the end; old
//!   versions are listed as garbage and deleted in bulk once garbage passes a
//!   quarter of the live rows.
//!
//! A run reads the snapshot in a read transaction and writes what changes
//! (new records, discarded ids, rewritten buckets and delta) into a scratch
//! database of its own, attached as `pending` from its staging folder. Only
//! after delivery does it take the state's write lock, to fold `pending` into
//! the snapshot and record the run in one short transaction: a run that
//! streams for an hour never locks out a preview, a check or another
//! process's history write, and a killed run leaves nothing in the snapshot.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::path::Path;

pub const BUCKET_BITS: u32 = 16;
pub const BUCKETS: usize = 1 << BUCKET_BITS;
/// Bytes per packed entry, by the `format` column of the bucket's row:
/// 1 (before source-row hashes were kept) or 2.
const ENTRY_V1: usize = 32;
const ENTRY_V2: usize = 40;
const FORMAT: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    pub k1: u64,
    pub k2: u64,
    /// Hash of the synced record (after the mapping): decides "changed".
    pub h: u64,
    pub rid: u64,
    /// Hash of the whole model row, for "changed in the source"; 0 = unknown.
    pub raw: u64,
}

/// A source-row hash that is never the "unknown" 0.
pub fn known_hash(h: u64) -> u64 {
    h.max(1)
}

pub fn bucket_of(k1: u64) -> usize {
    (k1 >> (64 - BUCKET_BITS)) as usize
}

const DELTA_BITS: u32 = 8;
const DELTA_BUCKETS: usize = 1 << DELTA_BITS;
/// A delta entry with this rid is a tombstone: the key is gone.
const TOMBSTONE: u64 = 0;

fn delta_bucket_of(k1: u64) -> usize {
    (k1 >> (64 - DELTA_BITS)) as usize
}

fn unpack(data: &[u8], format: i64, out: &mut Vec<IndexEntry>) {
    let size = if format >= 2 { ENTRY_V2 } else { ENTRY_V1 };
    for e in data.chunks_exact(size) {
        let u = |i: usize| u64::from_le_bytes(e[i..i + 8].try_into().unwrap_or([0; 8]));
        out.push(IndexEntry {
            k1: u(0),
            k2: u(8),
            h: u(16),
            rid: u(24),
            raw: if format >= 2 { u(32) } else { 0 },
        });
    }
}

fn pack(entries: &[IndexEntry], buf: &mut Vec<u8>) {
    buf.clear();
    for e in entries {
        buf.extend_from_slice(&e.k1.to_le_bytes());
        buf.extend_from_slice(&e.k2.to_le_bytes());
        buf.extend_from_slice(&e.h.to_le_bytes());
        buf.extend_from_slice(&e.rid.to_le_bytes());
        buf.extend_from_slice(&e.raw.to_le_bytes());
    }
}

/// Reads the delta in key-hash order, one range at a time.
#[derive(Default)]
pub struct DeltaReader {
    loaded: Option<usize>,
    entries: Vec<IndexEntry>,
}

impl DeltaReader {
    /// Appends the delta entries with `lo <= k1 <= hi`; ranges must ascend.
    pub fn range(
        &mut self,
        tx: &Transaction<'_>,
        lo: u64,
        hi: u64,
        out: &mut Vec<IndexEntry>,
    ) -> rusqlite::Result<()> {
        for db in delta_bucket_of(lo)..=delta_bucket_of(hi) {
            if self.loaded != Some(db) {
                self.entries.clear();
                let data: Option<(Vec<u8>, i64)> = tx
                    .prepare_cached(
                        "SELECT data, format FROM main.snapshot_delta WHERE bucket = ?1",
                    )?
                    .query_row([db as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((d, format)) = data {
                    unpack(&d, format, &mut self.entries);
                }
                self.loaded = Some(db);
            }
            out.extend(self.entries.iter().filter(|e| e.k1 >= lo && e.k1 <= hi));
        }
        Ok(())
    }
}

/// Writes the next delta in key-hash order; every delta bucket is rewritten
/// (or deleted) once the run has passed it.
#[derive(Default)]
pub struct DeltaWriter {
    next: usize,
    pending: Vec<IndexEntry>,
    buf: Vec<u8>,
    pub count: u64,
}

impl DeltaWriter {
    fn flush_until(&mut self, tx: &Transaction<'_>, end: usize) -> rusqlite::Result<()> {
        while self.next < end {
            let db = self.next;
            let split = self
                .pending
                .partition_point(|e| delta_bucket_of(e.k1) == db);
            // A bucket left out is empty: the pending delta replaces the
            // whole delta (see `apply_pending`).
            if split > 0 {
                pack(&self.pending[..split], &mut self.buf);
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO pending.snapshot_delta (bucket, data, format) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![db as i64, &self.buf[..], FORMAT])?;
                self.pending.drain(..split);
            }
            self.next += 1;
        }
        Ok(())
    }

    /// Adds the delta of one range: entries of `current` that differ from
    /// `base`, and tombstones for keys of `base` that are gone. Ranges ascend.
    pub fn push_range(
        &mut self,
        tx: &Transaction<'_>,
        lo: u64,
        base: &[IndexEntry],
        current: &[IndexEntry],
    ) -> rusqlite::Result<()> {
        // Buckets wholly before this range are complete.
        self.flush_until(tx, delta_bucket_of(lo))?;
        let before = self.pending.len();
        let (mut i, mut j) = (0, 0);
        while i < current.len() || j < base.len() {
            let c = current.get(i).map(|e| (e.k1, e.k2));
            let b = base.get(j).map(|e| (e.k1, e.k2));
            match (c, b) {
                (Some(ck), Some(bk)) if ck == bk => {
                    if current[i] != base[j] {
                        self.pending.push(current[i]);
                    }
                    i += 1;
                    j += 1;
                }
                (Some(ck), bk) if bk.is_none_or(|bk| ck < bk) => {
                    self.pending.push(current[i]);
                    i += 1;
                }
                _ => {
                    self.pending.push(IndexEntry {
                        rid: TOMBSTONE,
                        h: 0,
                        raw: 0,
                        ..base[j]
                    });
                    j += 1;
                }
            }
        }
        self.count += (self.pending.len() - before) as u64;
        Ok(())
    }

    pub fn finish(mut self, tx: &Transaction<'_>) -> rusqlite::Result<u64> {
        self.flush_until(tx, DELTA_BUCKETS)?;
        Ok(self.count)
    }
}

/// The current index of a range: `base` with `delta` applied (both sorted).
pub fn apply_delta(base: &[IndexEntry], delta: &[IndexEntry], out: &mut Vec<IndexEntry>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < base.len() || j < delta.len() {
        let b = base.get(i).map(|e| (e.k1, e.k2));
        let d = delta.get(j).map(|e| (e.k1, e.k2));
        match (b, d) {
            (Some(bk), Some(dk)) if bk == dk => {
                if delta[j].rid != TOMBSTONE {
                    out.push(delta[j]);
                }
                i += 1;
                j += 1;
            }
            (Some(bk), dk) if dk.is_none_or(|dk| bk < dk) => {
                out.push(base[i]);
                i += 1;
            }
            _ => {
                if delta[j].rid != TOMBSTONE {
                    out.push(delta[j]);
                }
                j += 1;
            }
        }
    }
}

/// Appends the entries of buckets `lo..=hi`, in key-hash order.
pub fn read_buckets(
    tx: &Transaction<'_>,
    lo: usize,
    hi: usize,
    out: &mut Vec<IndexEntry>,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT data, format FROM main.snapshot_buckets WHERE bucket BETWEEN ?1 AND ?2 ORDER BY bucket",
    )?;
    let mut rows = stmt.query(params![lo as i64, hi as i64])?;
    while let Some(r) = rows.next()? {
        unpack(r.get_ref(0)?.as_blob()?, r.get(1)?, out);
    }
    Ok(())
}

/// Replaces one bucket's entries (sorted); an empty bucket is deleted.
pub fn write_bucket(
    tx: &Transaction<'_>,
    bucket: usize,
    entries: &[IndexEntry],
    buf: &mut Vec<u8>,
) -> rusqlite::Result<()> {
    // NULL data marks a bucket to delete.
    let data = (!entries.is_empty()).then(|| {
        pack(entries, buf);
        &buf[..]
    });
    tx.prepare_cached(
        "INSERT OR REPLACE INTO pending.snapshot_buckets (bucket, data, format) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![bucket as i64, data, FORMAT])?;
    Ok(())
}

pub fn insert_record(tx: &Transaction<'_>, rid: u64, rec: &[u8]) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO pending.snapshot_records (rid, rec) VALUES (?1, ?2)")?
        .execute(params![rid as i64, rec])?;
    Ok(())
}

/// A record of the committed snapshot (not one the run is writing).
pub fn read_record(tx: &Transaction<'_>, rid: u64) -> rusqlite::Result<Option<Vec<u8>>> {
    tx.prepare_cached("SELECT rec FROM main.snapshot_records WHERE rid = ?1")?
        .query_row([rid as i64], |r| r.get(0))
        .optional()
}

pub fn discard_record(tx: &Transaction<'_>, rid: u64) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO pending.snapshot_garbage (rid) VALUES (?1)")?
        .execute([rid as i64])?;
    Ok(())
}

/// Attaches a run's scratch database at `path` (a new file in its staging
/// folder) as `pending`. Call outside any transaction.
pub fn attach_pending(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    let _ = std::fs::remove_file(path);
    conn.execute("ATTACH DATABASE ?1 AS pending", [path.to_string_lossy()])?;
    // Scratch: lost with the staging folder if the run dies, so it needs no
    // fsync; an in-memory journal still lets a failed run roll it back.
    // Same schemas as the snapshot's tables, so folding them in copies
    // records as they are (SQLite's transfer optimisation).
    conn.execute_batch(
        "PRAGMA pending.journal_mode = MEMORY; PRAGMA pending.synchronous = OFF;
         CREATE TABLE pending.snapshot_records (rid INTEGER PRIMARY KEY, rec BLOB NOT NULL);
         CREATE TABLE pending.snapshot_garbage (rid INTEGER PRIMARY KEY);
         CREATE TABLE pending.snapshot_buckets (bucket INTEGER PRIMARY KEY, data BLOB, format INTEGER NOT NULL);
         CREATE TABLE pending.snapshot_delta (bucket INTEGER PRIMARY KEY, data BLOB NOT NULL, format INTEGER NOT NULL);",
    )
}

/// Attaches the `pending` database a killed run left (see recovery.rs),
/// after checking that it holds the tables a run writes.
pub fn attach_existing_pending(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    if !path.is_file() {
        return Err(rusqlite::Error::InvalidPath(path.to_path_buf()));
    }
    conn.execute("ATTACH DATABASE ?1 AS pending", [path.to_string_lossy()])?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM pending.sqlite_master WHERE type = 'table' AND name IN
             ('snapshot_records', 'snapshot_garbage', 'snapshot_buckets', 'snapshot_delta')",
            [],
            |r| r.get(0),
        )
        .inspect_err(|_| {
            let _ = detach_pending(conn);
        })?;
    if tables != 4 {
        let _ = detach_pending(conn);
        return Err(rusqlite::Error::InvalidPath(path.to_path_buf()));
    }
    Ok(())
}

pub fn detach_pending(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("DETACH DATABASE pending")
}

/// Folds a run's `pending` writes into the snapshot, inside the commit's
/// write transaction. A first run (`fresh`) starts the index afresh: an
/// empty snapshot may still hold base entries hidden by tombstones.
/// The run rewrote (or cleared) the whole delta, so it replaces it.
pub fn apply_pending(tx: &Transaction<'_>, fresh: bool) -> rusqlite::Result<()> {
    if fresh {
        clear_index(tx)?;
    }
    tx.execute_batch(
        "DELETE FROM main.snapshot_buckets WHERE bucket IN (SELECT bucket FROM pending.snapshot_buckets);
         INSERT INTO main.snapshot_buckets (bucket, data, format)
             SELECT bucket, data, format FROM pending.snapshot_buckets WHERE data IS NOT NULL;
         DELETE FROM main.snapshot_delta;
         INSERT INTO main.snapshot_delta (bucket, data, format)
             SELECT bucket, data, format FROM pending.snapshot_delta;
         INSERT INTO main.snapshot_records SELECT * FROM pending.snapshot_records;
         INSERT OR IGNORE INTO main.snapshot_garbage SELECT * FROM pending.snapshot_garbage;",
    )
}

/// Deletes discarded records once they outnumber a quarter of the live ones.
pub fn compact(tx: &Transaction<'_>, live: u64) -> rusqlite::Result<bool> {
    let garbage: i64 = tx.query_row("SELECT count(*) FROM main.snapshot_garbage", [], |r| {
        r.get(0)
    })?;
    if (garbage as u64) < (live / 4).max(10_000) {
        return Ok(false);
    }
    tx.execute_batch(
        "DELETE FROM main.snapshot_records WHERE rid IN (SELECT rid FROM main.snapshot_garbage);
         DELETE FROM main.snapshot_garbage;",
    )?;
    Ok(true)
}

/// Empties the index and the records (the snapshot holds no rows).
fn clear_index(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM main.snapshot_buckets; DELETE FROM main.snapshot_delta;
         DELETE FROM main.snapshot_records; DELETE FROM main.snapshot_garbage;",
    )
}

/// Forgets everything delivered.
pub fn clear(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM snapshot_buckets; DELETE FROM snapshot_delta; DELETE FROM snapshot_records;
         DELETE FROM snapshot_garbage; DELETE FROM meta WHERE key IN ('row_count', 'columns', 'delta_count', 'engine', 'source_generation');",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SyncStore;

    /// A store with `pending` attached, as a run has it.
    fn store(dir: &tempfile::TempDir, id: &str) -> SyncStore {
        let store = SyncStore::open(dir.path(), id).unwrap();
        attach_pending(&store.conn, &dir.path().join("pending.sqlite")).unwrap();
        store
    }

    /// Folds `pending` into the snapshot (as a commit does) and empties it.
    fn fold(tx: &Transaction<'_>) {
        apply_pending(tx, false).unwrap();
        tx.execute_batch(
            "DELETE FROM pending.snapshot_records; DELETE FROM pending.snapshot_garbage;
             DELETE FROM pending.snapshot_buckets; DELETE FROM pending.snapshot_delta;",
        )
        .unwrap();
    }

    #[test]
    fn entries_written_before_source_hashes_read_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store(&dir, "v1");
        let tx = store.conn.transaction().unwrap();
        // A bucket and a delta as an older Dropsync packed them: 32-byte
        // entries, the `format` column at its default.
        let mut old = Vec::new();
        for v in [5u64 << 48, 0, 9, 1 << 40] {
            old.extend_from_slice(&v.to_le_bytes());
        }
        tx.execute(
            "INSERT INTO snapshot_buckets (bucket, data) VALUES (5, ?1)",
            [&old],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO snapshot_delta (bucket, data) VALUES (0, ?1)",
            [&old],
        )
        .unwrap();
        let want = IndexEntry {
            k1: 5 << 48,
            k2: 0,
            h: 9,
            rid: 1 << 40,
            raw: 0,
        };
        let mut out = Vec::new();
        read_buckets(&tx, 0, BUCKETS - 1, &mut out).unwrap();
        assert_eq!(out, vec![want]);
        out.clear();
        DeltaReader::default()
            .range(&tx, 0, u64::MAX, &mut out)
            .unwrap();
        assert_eq!(out, vec![want]);
        // Rewritten, the bucket keeps the source-row hash.
        let mut buf = Vec::new();
        let now = IndexEntry {
            raw: known_hash(0),
            ..want
        };
        write_bucket(&tx, 5, &[now], &mut buf).unwrap();
        fold(&tx);
        out.clear();
        read_buckets(&tx, 0, BUCKETS - 1, &mut out).unwrap();
        assert_eq!(out, vec![IndexEntry { raw: 1, ..want }]);
    }

    #[test]
    fn delta_round_trips_changes_and_tombstones() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store(&dir, "d");
        let tx = store.conn.transaction().unwrap();
        let e = |k1: u64, h: u64| IndexEntry {
            k1,
            k2: 0,
            h,
            rid: 1 << 40 | h,
            raw: h + 7,
        };
        // Keys spread over several delta buckets.
        let base: Vec<_> = (0..6u64).map(|i| e(i << 61, 1)).collect();
        let current = vec![
            e(0, 1),
            e(1 << 61, 2),
            e(3 << 61, 1),
            e((3 << 61) + 5, 9),
            e(5 << 61, 1),
        ];
        let mut w = DeltaWriter::default();
        w.push_range(&tx, 0, &base, &current).unwrap();
        // changed 1<<61, removed 2<<61 and 4<<61, added (3<<61)+5
        assert_eq!(w.finish(&tx).unwrap(), 4);
        fold(&tx);
        let mut delta = Vec::new();
        DeltaReader::default()
            .range(&tx, 0, u64::MAX, &mut delta)
            .unwrap();
        let mut out = Vec::new();
        apply_delta(&base, &delta, &mut out);
        assert_eq!(out, current);
    }

    #[test]
    fn buckets_round_trip_and_compaction_waits_for_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store(&dir, "s");
        let tx = store.conn.transaction().unwrap();
        let e = |k1: u64, rid: u64| IndexEntry {
            k1,
            k2: 1,
            h: 2,
            rid,
            raw: 3,
        };
        let mut buf = Vec::new();
        write_bucket(&tx, 3, &[e(3 << 48, 1), e((3 << 48) + 1, 2)], &mut buf).unwrap();
        write_bucket(&tx, 9, &[e(9 << 48, 3)], &mut buf).unwrap();
        fold(&tx);
        let mut out = Vec::new();
        read_buckets(&tx, 0, BUCKETS - 1, &mut out).unwrap();
        assert_eq!(out.iter().map(|e| e.rid).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(bucket_of(9 << 48), 9);
        write_bucket(&tx, 3, &[], &mut buf).unwrap();
        fold(&tx);
        out.clear();
        read_buckets(&tx, 0, 5, &mut out).unwrap();
        assert!(out.is_empty());

        for rid in 0..20_000u64 {
            insert_record(&tx, rid, b"x").unwrap();
        }
        for rid in 0..9_999u64 {
            discard_record(&tx, rid).unwrap();
        }
        fold(&tx);
        assert!(!compact(&tx, 10_001).unwrap());
        discard_record(&tx, 9_999).unwrap();
        fold(&tx);
        assert!(compact(&tx, 10_000).unwrap());
        assert_eq!(read_record(&tx, 5).unwrap(), None);
        assert_eq!(read_record(&tx, 15_000).unwrap(), Some(b"x".to_vec()));
    }
}
