//! One sync run, from query to committed snapshot.
//!
//! 1. Stream rows from the source (a thread) and map each to its output record.
//! 2. Hash key and record; spill them into key-hash partitions on disk.
//! 3. Per partition: sort by key hash, find duplicate keys, merge-join against
//!    the same range of the snapshot to find added / changed / removed rows.
//! 4. Write the mode's files (in source order) to a staging folder.
//! 5. Deliver every file, then commit the snapshot and the run record in one
//!    transaction. Any failure rolls everything back: nothing advances.

use crate::config::{Format, Mode, SyncSpec};
use crate::destination::{self, StagedFile};
use crate::error::{Error, Result};
use crate::filename::{with_suffix, NameContext};
use crate::format::{self, RecordWriter};
use crate::history::{self, FileReport, RowCounts, RunReport, RunStatus};
use crate::mapping::Mapping;
use crate::source::{self, Column, Row};
use crate::spill::{parse_entries, Entry, PartitionSpill, RunsFile};
use crate::store::SyncStore;
use crate::value::{display_key, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, TransactionBehavior};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// Rows per batch between the source thread and the pipeline.
pub const BATCH_SIZE: usize = 2048;
/// Rows per partition the diff aims for; bounds the memory of one partition.
const ROWS_PER_PARTITION: u64 = 16 * 1024;
const SIGN: u64 = 1 << 63;

/// What a run is doing, for progress bars.
#[derive(Debug, Clone)]
pub enum Progress {
    Reading { rows: u64 },
    Comparing { partition: usize, partitions: usize },
    Writing { file: String },
    Delivering { bytes: u64, total: u64 },
    Committing,
}

/// Progress reporting and cancellation, shared with whoever started the run.
#[derive(Default)]
pub struct RunControl {
    cancel: AtomicBool,
    #[allow(clippy::type_complexity)]
    on_progress: Option<Box<dyn Fn(&Progress) + Send + Sync>>,
}

impl RunControl {
    pub fn new(on_progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        RunControl {
            cancel: AtomicBool::new(false),
            on_progress: Some(Box::new(on_progress)),
        }
    }

    /// Asks the run to stop at its next step; it then fails with nothing delivered.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    fn report(&self, p: Progress) -> Result<()> {
        if let Some(f) = &self.on_progress {
            f(&p);
        }
        if self.cancel.load(Ordering::SeqCst) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run as if started at this instant (backfills, tests).
    pub at: Option<DateTime<Utc>>,
}

/// Which of the pipeline's side effects happen.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Run,
    /// Compute the files, keep the first N rows of each, deliver and commit nothing.
    Preview(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileKind {
    All,
    Added,
    Changed,
    Removed,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::All => "all",
            FileKind::Added => "added",
            FileKind::Changed => "changed",
            FileKind::Removed => "removed",
        }
    }
}

/// The files a mode writes, with their resolved relative paths.
pub fn planned_files(mode: Mode, resolved: &str) -> Vec<(FileKind, String)> {
    match mode {
        Mode::All => vec![(FileKind::All, resolved.to_string())],
        Mode::Insert => vec![(FileKind::Added, resolved.to_string())],
        Mode::Diff => [FileKind::Added, FileKind::Changed, FileKind::Removed]
            .into_iter()
            .map(|k| (k, with_suffix(resolved, k.as_str())))
            .collect(),
    }
}

/// Runs a sync once. A failure inside the run is recorded in history and
/// returned as a report with status `failed`; `Err` means the run could not
/// start (state folder unusable, sync already running).
pub fn run(spec: &SyncSpec, state_dir: &Path, opts: &RunOptions, control: &RunControl) -> Result<RunReport> {
    let mut store = SyncStore::open(state_dir, &spec.sync.id)?;
    let _lock = store.lock()?;
    history::interrupt_stale(&store)?;
    let started = opts.at.unwrap_or_else(Utc::now);
    let run_id = history::begin(&store, started, spec.sync.mode)?;
    let staging = staging_dir(state_dir, &spec.sync.id, run_id)?;
    let result = execute(spec, &mut store, &staging.path, started, run_id, Purpose::Run, control);
    let finished = Utc::now();
    let report = match result {
        Ok(mut report) => {
            report.finished_at = Some(finished);
            report
        }
        Err(e) => {
            tracing::warn!(sync = %spec.sync.id, run = run_id, error = %e, "run failed");
            let report = RunReport::failed(spec, run_id, started, finished, &e);
            history::record_failure(&store, &report)?;
            report
        }
    };
    Ok(report)
}

/// The files a run would write now, with the first `rows` rows of each.
/// Writes nothing to the destination and leaves the snapshot as it is.
pub fn preview(spec: &SyncSpec, state_dir: &Path, rows: usize, opts: &RunOptions) -> Result<RunReport> {
    let mut store = SyncStore::open(state_dir, &spec.sync.id)?;
    let started = opts.at.unwrap_or_else(Utc::now);
    let run_id = history::next_id(&store)?;
    let staging = tempfile::Builder::new()
        .prefix("preview-")
        .tempdir_in(ensure_dir(&state_dir.join("staging"))?)
        .map_err(|e| Error::io("cannot create a preview folder", e))?;
    execute(
        spec,
        &mut store,
        staging.path(),
        started,
        run_id,
        Purpose::Preview(rows),
        &RunControl::default(),
    )
}

fn ensure_dir(p: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(p).map_err(|e| Error::io(format!("cannot create {}", p.display()), e))?;
    Ok(p.to_path_buf())
}

/// A staging folder removed when the run ends, whatever happens.
struct Staging {
    path: PathBuf,
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn staging_dir(state_dir: &Path, sync_id: &str, run_id: i64) -> Result<Staging> {
    let path = state_dir.join("staging").join(format!("{sync_id}-{run_id}"));
    let _ = std::fs::remove_dir_all(&path);
    ensure_dir(&path)?;
    Ok(Staging { path })
}

fn encode(values: &[Value], buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    let taken = std::mem::take(buf);
    *buf = postcard::to_extend(values, taken).map_err(|e| Error::Internal(format!("encode: {e}")))?;
    Ok(())
}

fn decode(bytes: &[u8]) -> Result<Vec<Value>> {
    postcard::from_bytes(bytes).map_err(|e| {
        Error::Internal(format!(
            "a snapshot record does not decode ({e}); run `dropsync reset` to start the snapshot afresh"
        ))
    })
}

fn signed(k1: u64) -> i64 {
    (k1 ^ SIGN) as i64
}

/// A file being written: to staging for a run, or kept in memory for a preview.
struct OutFile {
    kind: FileKind,
    relative: String,
    local: PathBuf,
    writer: Option<Box<dyn RecordWriter>>,
    rows: u64,
    preview_limit: Option<usize>,
    preview_rows: Vec<Vec<Value>>,
}

impl OutFile {
    fn write(&mut self, rec: &[Value]) -> Result<()> {
        self.rows += 1;
        if let Some(limit) = self.preview_limit {
            if self.preview_rows.len() < limit {
                self.preview_rows.push(rec.to_vec());
            }
            return Ok(());
        }
        match &mut self.writer {
            Some(w) => w.write(rec),
            None => Ok(()),
        }
    }
}

struct Ctx<'a> {
    spec: &'a SyncSpec,
    columns: Vec<String>,
    purpose: Purpose,
}

impl Ctx<'_> {
    fn open_file(&self, kind: FileKind, relative: String, staging: &Path, index: usize) -> Result<OutFile> {
        let local = staging.join(format!("{index}-{}", kind.as_str()));
        let (writer, preview_limit) = match self.purpose {
            Purpose::Preview(n) => (None, Some(n)),
            Purpose::Run => {
                let f = std::fs::File::create(&local)
                    .map_err(|e| Error::io(format!("cannot create {}", local.display()), e))?;
                let out: format::Output = Box::new(BufWriter::with_capacity(256 * 1024, f));
                (
                    Some(format::writer(self.spec.sync.format, &self.spec.sync.csv, &self.columns, out)?),
                    None,
                )
            }
        };
        Ok(OutFile {
            kind,
            relative,
            local,
            writer,
            rows: 0,
            preview_limit,
            preview_rows: Vec::new(),
        })
    }
}

fn execute(
    spec: &SyncSpec,
    store: &mut SyncStore,
    staging: &Path,
    started: DateTime<Utc>,
    run_id: i64,
    purpose: Purpose,
    control: &RunControl,
) -> Result<RunReport> {
    let mut source = source::open(&spec.source, &spec.model)?;
    let source_columns: Vec<Column> = source.columns().to_vec();
    let mapping = Mapping::compile(&source_columns, spec.sync.columns.as_deref())?;
    let key_idx = key_indices(&source_columns, &spec.model.primary_key)?;
    let dest = destination::open(&spec.destination)?;
    dest.check()?;

    let run_label = run_id.to_string();
    let resolved = spec.sync.filename.resolve(&NameContext {
        started_at: started,
        offset_seconds: spec.sync.filename_offset,
        model_id: &spec.model.id,
        model_name: &spec.model.name,
        sync_id: &spec.sync.id,
        run_id: &run_label,
    })?;
    let ctx = Ctx {
        spec,
        columns: mapping.output().to_vec(),
        purpose,
    };
    let mode = spec.sync.mode;
    let store_path = store.path().to_path_buf();
    let state_err = |source| Error::State {
        path: store_path.clone(),
        source,
    };

    let old_count: u64 = match mode {
        Mode::All => 0,
        _ => store
            .meta("row_count")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    };
    let old_columns: Option<Vec<String>> = store
        .meta("columns")?
        .and_then(|s| serde_json::from_str(&s).ok());
    let first_run = old_count == 0;
    let partitions = (old_count / ROWS_PER_PARTITION).next_power_of_two().clamp(16, 4096) as usize;

    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(state_err)?;

    let mut files: Vec<OutFile> = planned_files(mode, &resolved)
        .into_iter()
        .enumerate()
        .map(|(i, (kind, rel))| ctx.open_file(kind, rel, staging, i))
        .collect::<Result<_>>()?;
    // All mode, and the first Insert/Diff run (every row is new), write rows as they stream.
    let direct = mode == Mode::All || first_run;
    let spill_records = !direct;

    // ---- pass 1: stream, map, hash, spill ----
    let mut spill = PartitionSpill::new(staging, partitions)?;
    let mut seq: u64 = 0;
    let mut null_rows: Vec<u64> = Vec::new();
    let mut null_count: u64 = 0;
    let rid_base = (run_id as u64) << 40;
    {
        let mut insert_row = tx
            .prepare_cached("INSERT INTO snapshot_rows (rid, rec) VALUES (?1, ?2)")
            .map_err(state_err)?;
        let (tx_rows, rx_rows) = crossbeam_channel::bounded::<Vec<Row>>(4);
        let stream_result = std::thread::scope(|scope| -> Result<()> {
            let reader = scope.spawn(move || {
                source.stream(BATCH_SIZE, &mut |batch| Ok(tx_rows.send(batch).is_ok()))
            });
            let mut key_vals: Vec<Value> = Vec::with_capacity(key_idx.len());
            let mut key_buf = Vec::with_capacity(64);
            let mut rec_buf = Vec::with_capacity(1024);
            let mut consume = || -> Result<()> {
                for batch in rx_rows.iter() {
                    for row in batch {
                        seq += 1;
                        key_vals.clear();
                        key_vals.extend(key_idx.iter().map(|&i| row[i].clone()));
                        if key_vals.iter().any(Value::is_null) {
                            null_count += 1;
                            if null_rows.len() < 10 {
                                null_rows.push(seq);
                            }
                            continue;
                        }
                        if null_count > 0 {
                            continue;
                        }
                        let rec = mapping.apply(row)?;
                        encode(&key_vals, &mut key_buf)?;
                        let kh = xxh3_128(&key_buf);
                        let (k1, k2) = ((kh >> 64) as u64, kh as u64);
                        let h = if mode == Mode::All {
                            0
                        } else {
                            encode(&rec, &mut rec_buf)?;
                            xxh3_64(&rec_buf)
                        };
                        if direct {
                            files[0].write(&rec)?;
                            if mode != Mode::All {
                                insert_row
                                    .execute(params![(rid_base | seq) as i64, &rec_buf])
                                    .map_err(state_err)?;
                            }
                        }
                        spill.push(&Entry {
                            k1,
                            k2,
                            h,
                            seq,
                            key: &key_buf,
                            rec: if spill_records { &rec_buf } else { &[] },
                        })?;
                    }
                    control.report(Progress::Reading { rows: seq })?;
                }
                Ok(())
            };
            let consumed = consume();
            // Dropping the receiver stops the reader at its next batch.
            drop(rx_rows);
            let read = reader
                .join()
                .map_err(|_| Error::Internal("the source thread panicked".into()))?;
            consumed?;
            read
        });
        stream_result?;
    }
    if null_count > 0 {
        return Err(Error::NullKey {
            columns: key_label(&spec.model.primary_key),
            count: null_count,
            rows: null_rows.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
        });
    }
    let queried = seq;

    // ---- pass 2: per partition, duplicates and the diff ----
    let mut added_runs = RunsFile::new(staging)?;
    let mut changed_runs = RunsFile::new(staging)?;
    let mut removed_runs = RunsFile::new(staging)?;
    let mut dup_keys: Vec<String> = Vec::new();
    let mut dup_count: u64 = 0;
    {
        let mut read_old = tx
            .prepare_cached(
                "SELECT k1, k2, h, rid FROM snapshot_index WHERE k1 BETWEEN ?1 AND ?2 ORDER BY k1, k2",
            )
            .map_err(state_err)?;
        let mut insert_idx = tx
            .prepare_cached("INSERT INTO snapshot_index (k1, k2, h, rid) VALUES (?1, ?2, ?3, ?4)")
            .map_err(state_err)?;
        let mut update_idx = tx
            .prepare_cached("UPDATE snapshot_index SET h = ?3 WHERE k1 = ?1 AND k2 = ?2")
            .map_err(state_err)?;
        let mut delete_idx = tx
            .prepare_cached("DELETE FROM snapshot_index WHERE k1 = ?1 AND k2 = ?2")
            .map_err(state_err)?;
        let mut data = Vec::new();
        let mut old: Vec<(u64, u64, u64, u64)> = Vec::new();
        for p in 0..spill.partitions() {
            control.report(Progress::Comparing {
                partition: p,
                partitions: spill.partitions(),
            })?;
            spill.read_partition(p, &mut data)?;
            let mut entries: Vec<Entry> = Vec::new();
            parse_entries(&data, &mut entries);
            entries.sort_unstable_by_key(|e| (e.k1, e.k2));
            for w in entries.windows(2) {
                if (w[0].k1, w[0].k2) == (w[1].k1, w[1].k2) {
                    dup_count += 1;
                    if dup_keys.len() < 10 {
                        dup_keys.push(display_key(&decode(w[0].key)?));
                    }
                }
            }
            if dup_count > 0 || mode == Mode::All {
                continue;
            }
            if first_run {
                for e in &entries {
                    insert_idx
                        .execute(params![signed(e.k1), e.k2 as i64, e.h as i64, (rid_base | e.seq) as i64])
                        .map_err(state_err)?;
                }
                continue;
            }
            let (lo, hi) = spill.range(p);
            old.clear();
            let mut rows = read_old.query(params![signed(lo), signed(hi)]).map_err(state_err)?;
            while let Some(r) = rows.next().map_err(state_err)? {
                let k1: i64 = r.get(0).map_err(state_err)?;
                let k2: i64 = r.get(1).map_err(state_err)?;
                let h: i64 = r.get(2).map_err(state_err)?;
                let rid: i64 = r.get(3).map_err(state_err)?;
                old.push(((k1 as u64) ^ SIGN, k2 as u64, h as u64, rid as u64));
            }
            let mut added: Vec<(u64, u64, &[u8])> = Vec::new();
            let mut changed: Vec<(u64, u64, &[u8])> = Vec::new();
            let mut removed: Vec<(u64, u64, &[u8])> = Vec::new();
            let (mut i, mut j) = (0, 0);
            while i < entries.len() || j < old.len() {
                let new_key = entries.get(i).map(|e| (e.k1, e.k2));
                let old_key = old.get(j).map(|o| (o.0, o.1));
                match (new_key, old_key) {
                    (Some(n), Some(o)) if n == o => {
                        let (e, o) = (&entries[i], &old[j]);
                        if e.h != o.2 {
                            update_idx
                                .execute(params![signed(e.k1), e.k2 as i64, e.h as i64])
                                .map_err(state_err)?;
                            changed.push((e.seq, o.3, e.rec));
                        }
                        i += 1;
                        j += 1;
                    }
                    (Some(n), o) if o.is_none_or(|o| n < o) => {
                        let e = &entries[i];
                        insert_idx
                            .execute(params![signed(e.k1), e.k2 as i64, e.h as i64, (rid_base | e.seq) as i64])
                            .map_err(state_err)?;
                        added.push((e.seq, rid_base | e.seq, e.rec));
                        i += 1;
                    }
                    _ => {
                        let o = &old[j];
                        delete_idx
                            .execute(params![signed(o.0), o.1 as i64])
                            .map_err(state_err)?;
                        removed.push((o.3, o.3, &[]));
                        j += 1;
                    }
                }
            }
            added.sort_unstable_by_key(|a| a.0);
            changed.sort_unstable_by_key(|a| a.0);
            removed.sort_unstable_by_key(|a| a.0);
            added_runs.push_run(&added)?;
            changed_runs.push_run(&changed)?;
            removed_runs.push_run(&removed)?;
        }
    }
    drop(spill);
    if dup_count > 0 {
        return Err(Error::DuplicateKey {
            columns: key_label(&spec.model.primary_key),
            count: dup_count,
            keys: dup_keys.join(", "),
        });
    }

    // ---- pass 3: the change files, in source order ----
    let (mut n_added, mut n_changed, n_removed) = (added_runs.count, changed_runs.count, removed_runs.count);
    if first_run && mode != Mode::All {
        n_added = queried;
        n_changed = 0;
    }
    if !direct {
        let mut insert_row = tx
            .prepare_cached("INSERT INTO snapshot_rows (rid, rec) VALUES (?1, ?2)")
            .map_err(state_err)?;
        let mut update_row = tx
            .prepare_cached("UPDATE snapshot_rows SET rec = ?2 WHERE rid = ?1")
            .map_err(state_err)?;
        let mut read_row = tx
            .prepare_cached("SELECT rec FROM snapshot_rows WHERE rid = ?1")
            .map_err(state_err)?;
        let mut delete_row = tx
            .prepare_cached("DELETE FROM snapshot_rows WHERE rid = ?1")
            .map_err(state_err)?;
        let find = |kind: FileKind, files: &mut [OutFile]| files.iter().position(|f| f.kind == kind);
        let added_file = find(FileKind::Added, &mut files);
        control.report(Progress::Writing {
            file: added_file.map(|i| files[i].relative.clone()).unwrap_or_default(),
        })?;
        added_runs.merge(|rid, rec| {
            insert_row.execute(params![rid as i64, rec]).map_err(state_err)?;
            if let Some(i) = added_file {
                files[i].write(&decode(rec)?)?;
            }
            Ok(())
        })?;
        let changed_file = find(FileKind::Changed, &mut files);
        changed_runs.merge(|rid, rec| {
            update_row.execute(params![rid as i64, rec]).map_err(state_err)?;
            if let Some(i) = changed_file {
                files[i].write(&decode(rec)?)?;
            }
            Ok(())
        })?;
        let removed_file = find(FileKind::Removed, &mut files);
        let projection = projection(old_columns.as_deref(), &ctx.columns);
        removed_runs.merge(|rid, _| {
            if let Some(i) = removed_file {
                let rec: Vec<u8> = read_row
                    .query_row(params![rid as i64], |r| r.get(0))
                    .map_err(state_err)?;
                let values = decode(&rec)?;
                let values = match &projection {
                    Some(p) => p
                        .iter()
                        .map(|i| i.and_then(|i| values.get(i).cloned()).unwrap_or(Value::Null))
                        .collect(),
                    None => values,
                };
                files[i].write(&values)?;
            }
            delete_row.execute(params![rid as i64]).map_err(state_err)?;
            Ok(())
        })?;
    }

    // ---- finish the files ----
    let mut reports = Vec::new();
    let mut staged = Vec::new();
    for f in files {
        let skipped = f.rows == 0 && spec.sync.skip_empty_files;
        let (bytes, preview) = match (f.writer, f.preview_limit) {
            (Some(w), _) => (w.finish()?, None),
            (None, Some(_)) => (
                0,
                Some(render_preview(&ctx, &f.preview_rows, f.rows > f.preview_rows.len() as u64)?),
            ),
            (None, None) => (0, None),
        };
        if skipped {
            let _ = std::fs::remove_file(&f.local);
        } else if purpose == Purpose::Run {
            staged.push(StagedFile {
                local: f.local.clone(),
                relative: f.relative.clone(),
                bytes,
            });
        }
        reports.push(FileReport {
            path: f.relative,
            kind: f.kind.as_str().to_string(),
            rows: f.rows,
            bytes,
            skipped,
            preview,
        });
    }

    let rows = match mode {
        Mode::All => RowCounts {
            queried,
            ..Default::default()
        },
        // Insert mode delivers only new keys, so only those are counted.
        Mode::Insert => RowCounts {
            queried,
            added: n_added,
            ..Default::default()
        },
        Mode::Diff => RowCounts {
            queried,
            added: n_added,
            changed: n_changed,
            removed: n_removed,
        },
    };
    let mut report = RunReport {
        run_id,
        sync_id: spec.sync.id.clone(),
        mode,
        status: RunStatus::Success,
        started_at: started,
        finished_at: None,
        rows,
        files: reports,
        error: None,
        error_code: None,
    };
    if purpose != Purpose::Run {
        // Preview: everything above is rolled back when `tx` drops.
        return Ok(report);
    }

    if mode != Mode::All {
        let new_count = if first_run { queried } else { old_count + n_added - n_removed };
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('row_count', ?1)",
            [new_count.to_string()],
        )
        .map_err(state_err)?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('columns', ?1)",
            [serde_json::to_string(&ctx.columns).unwrap_or_default()],
        )
        .map_err(state_err)?;
    }

    // ---- deliver, then commit ----
    control.report(Progress::Delivering {
        bytes: 0,
        total: staged.iter().map(|f| f.bytes).sum(),
    })?;
    dest.deliver(&staged, &|bytes, total| {
        if let Some(f) = &control.on_progress {
            f(&Progress::Delivering { bytes, total });
        }
    })?;
    control.report(Progress::Committing)?;
    let finished = Utc::now();
    report.finished_at = Some(finished);
    history::record_success(&tx, &report).map_err(state_err)?;
    tx.commit().map_err(state_err)?;
    Ok(report)
}

fn key_label(key: &[String]) -> String {
    if key.len() == 1 {
        format!("column {:?}", key[0])
    } else {
        format!("columns ({})", key.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", "))
    }
}

fn key_indices(columns: &[Column], key: &[String]) -> Result<Vec<usize>> {
    key.iter()
        .map(|k| {
            columns.iter().position(|c| &c.name == k).ok_or_else(|| Error::MissingKeyColumn {
                column: k.clone(),
                available: columns
                    .iter()
                    .map(|c| format!("{:?}", c.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        })
        .collect()
}

/// When the synced columns changed since the snapshot was taken, removed rows
/// are written under today's columns: matched by name, missing ones NULL.
fn projection(old: Option<&[String]>, new: &[String]) -> Option<Vec<Option<usize>>> {
    let old = old?;
    if old == new {
        return None;
    }
    Some(new.iter().map(|n| old.iter().position(|o| o == n)).collect())
}

fn render_preview(ctx: &Ctx<'_>, rows: &[Vec<Value>], more: bool) -> Result<history::FilePreview> {
    #[derive(Clone)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Shared(Default::default());
    let mut w = format::writer(ctx.spec.sync.format, &ctx.spec.sync.csv, &ctx.columns, Box::new(buf.clone()))?;
    for r in rows {
        w.write(r)?;
    }
    w.finish()?;
    let bytes = buf.0.lock().map(|b| b.clone()).unwrap_or_default();
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if more && ctx.spec.sync.format == Format::Json && text.ends_with("\n]\n") {
        // The preview shows the first rows of the array, not its end.
        text.truncate(text.len() - 3);
        text.push_str("\n...");
    }
    Ok(history::FilePreview {
        columns: ctx.columns.clone(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|v| v.to_text()).collect())
            .collect(),
        text,
    })
}

/// RFC 3339 in UTC with a `Z`, as stored and printed.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
