//! One sync run, from query to committed snapshot.
//!
//! 1. Stream rows from the source (a thread) and map each to its output record.
//! 2. Hash key and record; spill them into key-hash partitions on disk.
//! 3. Per partition: sort by key hash, find duplicate keys, merge-join against
//!    the same range of the snapshot to find added / changed / removed rows.
//! 4. Write the mode's files (in source order) to a staging folder.
//! 5. Deliver every file, then commit the snapshot and the run record in one
//!    transaction. Any failure rolls everything back: nothing advances.

use crate::config::{Compression, Format, Mode, SyncSpec};
use crate::destination::{self, StagedFile};
use crate::error::{Error, Result};
use crate::filename::{with_suffix, NameContext};
use crate::format::{self, FileFormat};
use crate::history::{self, FileReport, RowCounts, RunReport, RunStatus};
use crate::mapping::{Mapping, MappingContext};
use crate::recovery;
use crate::run_files::{self, OutFile, Writing};
use crate::snapshot::{self, DeltaReader, DeltaWriter, IndexEntry};
use crate::source::{self, encode_key, encode_record, Column, RowBatch, Source};
use crate::spill::{parse_entries, Entry, PartitionSpill, RunsFile};
use crate::store::{self, SyncStore};
use crate::value::{display_key, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// Rows per batch between the source thread and the pipeline.
pub const BATCH_SIZE: usize = 2048;
/// Rows per partition the diff aims for; bounds the memory of one partition.
const ROWS_PER_PARTITION: u64 = 16 * 1024;

/// What a run is doing, for progress bars. On the wire (the app's UI),
/// tagged by its stage: `{"stage": "reading", "rows": 10}`.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Progress {
    Reading { rows: u64 },
    Comparing { partition: usize, partitions: usize },
    Writing { file: String },
    Delivering { bytes: u64, total: u64 },
    Committing,
}

impl Progress {
    /// The stage's name: reading, comparing, writing, delivering (before
    /// the first byte goes out), uploading, committing.
    pub fn stage(&self) -> &'static str {
        match self {
            Progress::Reading { .. } => "reading",
            Progress::Comparing { .. } => "comparing",
            Progress::Writing { .. } => "writing",
            Progress::Delivering { bytes: 0, .. } => "delivering",
            Progress::Delivering { .. } => "uploading",
            Progress::Committing => "committing",
        }
    }
}

impl Purpose {
    /// Whether the run's snapshot and record are committed.
    pub(crate) fn commits(self) -> bool {
        !matches!(self, Purpose::Preview(_))
    }
}

/// Progress reporting and cancellation, shared with whoever started the run.
#[derive(Default)]
pub struct RunControl {
    /// Shared with the controls made by [`RunControl::sharing_cancel`].
    cancel: Arc<AtomicBool>,
    #[allow(clippy::type_complexity)]
    on_progress: Option<Box<dyn Fn(&Progress) + Send + Sync>>,
}

impl RunControl {
    pub fn new(on_progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        RunControl {
            cancel: Arc::default(),
            on_progress: Some(Box::new(on_progress)),
        }
    }

    /// A control with its own progress callback that a cancel of this one
    /// (or of it) cancels too: a scheduler's job control, watched by a run
    /// that reports progress elsewhere.
    pub fn sharing_cancel(&self, on_progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        RunControl {
            cancel: self.cancel.clone(),
            on_progress: Some(Box::new(on_progress)),
        }
    }

    /// Asks the run to stop at its next step before delivery starts; it then
    /// fails with nothing delivered. Once delivery has started the run goes
    /// on to the end: stopping between the files landing and the snapshot
    /// committing would send the same rows again next time.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Reports progress; a cancellation asked for by now stops the run.
    pub(crate) fn report(&self, p: Progress) -> Result<()> {
        self.notify(p);
        if self.cancel.load(Ordering::SeqCst) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    /// Reports progress where the run may no longer stop.
    fn notify(&self, p: Progress) {
        self.cancel_here_in_tests(&p);
        if let Some(f) = &self.on_progress {
            f(&p);
        }
    }
}

impl RunControl {
    /// A fault for tests only: a cancel at the first progress report of the
    /// stage `DROPSYNC_TEST_CANCEL_AT` names (see [`Progress::stage`]), as
    /// the app's Cancel or a SIGTERM would, at an instant a test can choose.
    #[cfg(debug_assertions)]
    fn cancel_here_in_tests(&self, p: &Progress) {
        if std::env::var(crate::env_vars::TEST_CANCEL_AT).as_deref() == Ok(p.stage()) {
            self.cancel();
        }
    }

    #[cfg(not(debug_assertions))]
    fn cancel_here_in_tests(&self, _: &Progress) {}
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run as if started at this instant (backfills, tests).
    pub at: Option<DateTime<Utc>>,
    /// Take the model's current result as delivered without writing any
    /// file (`dropsync reset --mark-delivered`): the snapshot advances as
    /// after a run, so the next run sends only what changes from here.
    pub mark_delivered: bool,
}

/// Which of the pipeline's side effects happen.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Run,
    /// A run that writes no file: the rows are counted and the snapshot
    /// committed as if delivered (`RunOptions::mark_delivered`).
    MarkDelivered,
    /// Compute the files, keep the first N rows of each, deliver and commit nothing.
    Preview(usize),
}

/// Which file of a run: the All file, or Diff's (and Insert's) added,
/// changed and removed files. Lowercase on the wire and in history.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    All,
    Added,
    Changed,
    Removed,
    /// The run's manifest (`[sync] manifest`), listing the others.
    Manifest,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::All => "all",
            FileKind::Added => "added",
            FileKind::Changed => "changed",
            FileKind::Removed => "removed",
            FileKind::Manifest => "manifest",
        }
    }
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `kind == "added"`: kinds compare with their wire names.
impl PartialEq<&str> for FileKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
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

/// The names a run's files are delivered as, for `check` and the editor:
/// gzip's `.gz` added, and the first part's name when files are cut into
/// parts.
pub fn shown_files(
    mode: Mode,
    resolved: &str,
    compression: Compression,
    parts: bool,
) -> Vec<String> {
    planned_files(mode, &compressed_name(resolved, compression))
        .into_iter()
        .map(|(_, p)| {
            if parts {
                crate::filename::part_name(&p, 1)
            } else {
                p
            }
        })
        .collect()
}

/// A resolved filename as delivered: `.gz` appended for gzip unless the
/// template already ends so.
pub fn compressed_name(resolved: &str, compression: Compression) -> String {
    match compression {
        Compression::Gzip => crate::filename::gz_name(resolved),
        Compression::None => resolved.to_string(),
    }
}

/// Runs a sync once. A failure inside the run is recorded in history and
/// returned as a report with status `failed`; `Err` means the run could not
/// start (state folder unusable, sync already running).
pub fn run(
    spec: &SyncSpec,
    state_dir: &Path,
    opts: &RunOptions,
    control: &RunControl,
) -> Result<RunReport> {
    run_then(spec, state_dir, opts, control, |_| {})
}

/// [`run`], then `after` with the report while the sync's lock is still
/// held: what follows a run (its alerts and the sync's health) is decided
/// by one process at a time, never interleaved with another run.
pub fn run_then(
    spec: &SyncSpec,
    state_dir: &Path,
    opts: &RunOptions,
    control: &RunControl,
    after: impl FnOnce(&mut RunReport),
) -> Result<RunReport> {
    let mut store = SyncStore::open(state_dir, &spec.sync.id)?;
    let _lock = store.lock()?;
    crate::ownership::claim(&store, spec)?;
    recovery::finish_killed_runs(spec, state_dir, &store)?;
    history::interrupt_stale(&store)?;
    clean_killed_runs(state_dir, &spec.sync.id);
    let started = opts.at.unwrap_or_else(Utc::now);
    let run_id = history::begin(
        &store,
        started,
        spec.sync.mode,
        &history::destination_key(&spec.destination),
    )?;
    let mut staging = staging_dir(state_dir, &spec.sync.id, run_id)?;
    let result = execute(
        spec,
        state_dir,
        &mut store,
        &staging.path,
        started,
        run_id,
        if opts.mark_delivered {
            Purpose::MarkDelivered
        } else {
            Purpose::Run
        },
        control,
    );
    let finished = Utc::now();
    let report = match result {
        Ok(mut report) => {
            report.finished_at = Some(finished);
            // After the commit, under the sync's lock: a failed delete is
            // reported and retried next run, never fails this one.
            report.retention = crate::retention::after_run(spec, state_dir, &store, run_id);
            report
        }
        Err(e) => {
            staging.keep = matches!(e, Error::NotCommitted { .. });
            tracing::warn!(sync = %spec.sync.id, run = run_id, error = %e, "run failed");
            let report = RunReport::failed(spec, run_id, started, finished, &e);
            history::record_failure(&store, &report)?;
            report
        }
    };
    let mut report = report;
    after(&mut report);
    Ok(report)
}

/// The files a run would write now, with the first `rows` rows of each.
/// Writes nothing to the destination and leaves the snapshot as it is.
pub fn preview(
    spec: &SyncSpec,
    state_dir: &Path,
    rows: usize,
    opts: &RunOptions,
) -> Result<RunReport> {
    let mut store = SyncStore::open(state_dir, &spec.sync.id)?;
    crate::ownership::check(&store, spec)?;
    let started = opts.at.unwrap_or_else(Utc::now);
    let run_id = history::next_id(&store)?;
    let staging = tempfile::Builder::new()
        .prefix("preview-")
        .tempdir_in(ensure_dir(&state_dir.join("staging"))?)
        .map_err(|e| Error::io("cannot create a preview folder", e))?;
    execute(
        spec,
        state_dir,
        &mut store,
        staging.path(),
        started,
        run_id,
        Purpose::Preview(rows),
        &RunControl::default(),
    )
}

fn ensure_dir(p: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(p)
        .map_err(|e| Error::io(format!("cannot create {}", p.display()), e))?;
    Ok(p.to_path_buf())
}

/// A staging folder removed when the run ends, unless the run's files
/// landed and its commit failed: then the next run needs it (recovery.rs).
struct Staging {
    path: PathBuf,
    keep: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// What runs of this sync that were killed left behind: their staging
/// folders, and the temporary files of a delivery they did not finish
/// (listed in `<staging>.pending`). Called under the sync's lock, so no run
/// of this sync is going on, after `recovery::finish_killed_runs`.
fn clean_killed_runs(state_dir: &Path, sync_id: &str) {
    for (_, dir) in recovery::staging_folders(state_dir, sync_id) {
        let list = recovery::pending_list(&dir);
        if list.is_file() {
            destination::clean_after_killed_run(&list);
        }
        tracing::info!(dir = %dir.display(), "removing the staging folder of an interrupted run");
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn staging_dir(state_dir: &Path, sync_id: &str, run_id: i64) -> Result<Staging> {
    let path = state_dir
        .join("staging")
        .join(format!("{sync_id}-{run_id}"));
    let _ = std::fs::remove_dir_all(&path);
    ensure_dir(&path)?;
    Ok(Staging { path, keep: false })
}

use crate::source::decode_record as decode;

pub(crate) struct Ctx<'a> {
    spec: &'a SyncSpec,
    pub(crate) columns: Vec<String>,
    /// The output columns' declared types (for typed formats).
    types: Vec<Option<String>>,
    pub(crate) writing: Writing,
    pub(crate) purpose: Purpose,
}

impl Ctx<'_> {
    fn open_file(
        &self,
        kind: FileKind,
        relative: String,
        staging: &Path,
        index: usize,
    ) -> Result<OutFile> {
        match self.purpose {
            Purpose::Preview(n) => Ok(OutFile::preview(kind, relative, n)),
            // Counted, never written.
            Purpose::MarkDelivered => Ok(OutFile::preview(kind, relative, 0)),
            Purpose::Run => OutFile::open(&self.writing, kind, relative, staging, index),
        }
    }
}

/// What every pass of one run reads.
pub(crate) struct Pass<'a> {
    pub(crate) spec: &'a SyncSpec,
    writing: &'a Writing,
    pub(crate) staging: &'a Path,
    pub(crate) control: &'a RunControl,
    pub(crate) mode: Mode,
    first_run: bool,
    /// All mode and first runs write rows to their file as they stream.
    direct: bool,
    /// Record ids of this run: the run id in the top bits.
    rid_base: u64,
    store_path: PathBuf,
    run_id: i64,
    started: DateTime<Utc>,
}

impl Pass<'_> {
    fn state_err(&self, source: rusqlite::Error) -> Error {
        Error::State {
            path: self.store_path.clone(),
            source,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn execute(
    spec: &SyncSpec,
    state_dir: &Path,
    store: &mut SyncStore,
    staging: &Path,
    started: DateTime<Utc>,
    run_id: i64,
    purpose: Purpose,
    control: &RunControl,
) -> Result<RunReport> {
    let source = source::open(&spec.source, &spec.model)?;
    let source_columns: Vec<Column> = source.columns().to_vec();
    let mut mapping = Mapping::compile_with(
        &source_columns,
        spec.sync.columns.as_deref(),
        &MappingContext {
            model_id: spec.model.id.clone(),
            model_name: spec.model.name.clone(),
            sync_id: spec.sync.id.clone(),
            run_id,
            started_at: started,
        },
    )?;
    let key_idx = key_indices(&source_columns, &spec.model.primary_key)?;
    // A value that does not convert names its row by key.
    mapping.name_rows_by(&key_idx);
    let pending = purpose.commits().then(|| recovery::pending_list(staging));
    let dest = destination::open(&spec.destination, state_dir, pending)?;
    dest.check()?;

    let run_label = run_id.to_string();
    let names = NameContext {
        started_at: started,
        offset_seconds: spec.sync.filename_offset,
        model_id: &spec.model.id,
        model_name: &spec.model.name,
        sync_id: &spec.sync.id,
        run_id: &run_label,
    };
    let resolved = compressed_name(&spec.sync.filename.resolve(&names)?, spec.sync.compression);
    let ctx = Ctx {
        spec,
        columns: mapping.output().to_vec(),
        types: mapping.output_types().to_vec(),
        writing: Writing {
            format: FileFormat::of(&spec.sync),
            columns: mapping.output().to_vec(),
            types: mapping.output_types().to_vec(),
            limits: spec.sync.parts,
            key: output_key(mapping.output(), &spec.model.primary_key),
        },
        purpose,
    };
    let mode = spec.sync.mode;
    let engine = crate::pushdown::choose(spec, &source_columns);
    crate::pushdown::check_switch(spec, store, &engine, purpose == Purpose::MarkDelivered)?;
    if let crate::pushdown::Engine::Local(Some(why)) = &engine {
        tracing::info!(sync = %spec.sync.id, "comparing on this machine: {why}");
    }
    let state_err = |source| store.err(source);
    let on_source = store.meta(crate::pushdown::META_ENGINE)?.as_deref() == Some("source");

    let old_count: u64 = match mode {
        Mode::All => 0,
        // A snapshot kept by the source engine is none for this one.
        _ if on_source => 0,
        _ => store
            .meta("row_count")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    };
    let old_columns: Option<Vec<String>> = store
        .meta("columns")?
        .and_then(|s| serde_json::from_str(&s).ok());
    let first_run = old_count == 0;
    let p = Pass {
        spec,
        writing: &ctx.writing,
        staging,
        control,
        mode,
        first_run,
        direct: mode == Mode::All || first_run,
        rid_base: (run_id as u64) << 40,
        store_path: store.path().to_path_buf(),
        run_id,
        started,
    };
    let open_files = || -> Result<Vec<OutFile>> {
        planned_files(mode, &resolved)
            .into_iter()
            .enumerate()
            .map(|(i, (kind, rel))| ctx.open_file(kind, rel, staging, i))
            .collect()
    };
    if let crate::pushdown::Engine::Source(plan) = &engine {
        // The database reads the model itself.
        drop(source);
        let local = crate::pushdown::run::Local {
            store,
            dest: dest.as_ref(),
            names: &names,
            mapping: &mapping,
            columns: &source_columns,
            old_columns: old_columns.as_deref(),
        };
        return crate::pushdown::run::execute(&p, &ctx, local, open_files()?, plan);
    }
    // The row count is unknown until the stream ends, so start from enough
    // partitions for ~4M rows and scale with the snapshot beyond that.
    let partitions = (old_count / ROWS_PER_PARTITION)
        .next_power_of_two()
        .clamp(256, snapshot::BUCKETS as u64 / 4) as usize;

    // A read transaction: the snapshot's changes go to `pending` (see
    // snapshot.rs) and the write lock is taken only to commit, after delivery.
    snapshot::attach_pending(&store.conn, &staging.join(recovery::PENDING_DB))
        .map_err(state_err)?;
    let _detach = DetachPending(&store.conn);
    let tx = store.conn.unchecked_transaction().map_err(state_err)?;

    // All mode, and the first Insert/Diff run (every row is new), write rows as they stream.
    let mut files = open_files()?;
    let mut spill = PartitionSpill::new(staging, partitions)?;
    let queried = stream_rows(&p, source, &mapping, &key_idx, &mut files, &tx, &mut spill)?;
    let mut c = compare(&p, &tx, spill, old_count)?;
    let (mut n_added, mut n_changed, n_removed) = (c.added.count, c.changed.count, c.removed.count);
    if first_run && mode != Mode::All {
        n_added = queried;
        n_changed = 0;
    }
    write_changes(&p, &ctx, &tx, &mut files, &mut c, old_columns.as_deref())?;
    let rows = row_counts(
        mode,
        queried,
        n_added,
        n_changed,
        n_removed,
        if first_run { 0 } else { c.source_changed },
    );
    let delta_count = c.new_delta_count;
    finish_run(&p, &ctx, store, dest.as_ref(), &names, files, rows, || {
        // The read ends here; `pending` keeps the snapshot's changes.
        // Nothing else writes the snapshot until the commit (the run
        // lock), so what was read stays current.
        tx.commit().map_err(state_err)?;
        Ok(recovery::Sealed {
            fresh: first_run,
            snapshot: (mode != Mode::All).then(|| recovery::SnapshotMeta {
                row_count: if first_run {
                    queried
                } else {
                    (old_count + n_added).saturating_sub(n_removed)
                },
                columns: ctx.columns.clone(),
                delta_count,
            }),
            source: None,
        })
    })
}

/// A mode's row counts: Insert delivers only new keys, so only those count.
pub(crate) fn row_counts(
    mode: Mode,
    queried: u64,
    added: u64,
    changed: u64,
    removed: u64,
    source_changed: u64,
) -> RowCounts {
    match mode {
        Mode::All => RowCounts {
            queried,
            ..Default::default()
        },
        Mode::Insert => RowCounts {
            queried,
            added,
            ..Default::default()
        },
        Mode::Diff => RowCounts {
            queried,
            added,
            changed,
            removed,
            source_changed,
        },
    }
}

/// The end of every run, whichever engine compared: the files finished and
/// reported, the manifest, then (unless a preview) `seal` readies the
/// snapshot to commit and the files are delivered and committed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish_run(
    p: &Pass<'_>,
    ctx: &Ctx<'_>,
    store: &SyncStore,
    dest: &dyn destination::Destination,
    names: &NameContext<'_>,
    files: Vec<OutFile>,
    rows: RowCounts,
    seal: impl FnOnce() -> Result<recovery::Sealed>,
) -> Result<RunReport> {
    let spec = p.spec;
    let (mut reports, mut staged) = match ctx.purpose {
        Purpose::MarkDelivered => (Vec::new(), Vec::new()),
        _ => finish_files(ctx, files)?,
    };
    if ctx.purpose == Purpose::Run {
        stage_manifest(spec, p.staging, names, &mut reports, &mut staged)?;
    }
    let report = RunReport {
        run_id: p.run_id,
        sync_id: spec.sync.id.clone(),
        mode: p.mode,
        status: RunStatus::Success,
        started_at: p.started,
        finished_at: None,
        rows,
        files: reports,
        error: None,
        error_code: None,
        alerts: Vec::new(),
        retention: None,
    };
    if !ctx.purpose.commits() {
        // Preview: nothing is kept (the local engine's read transaction
        // rolls back when it drops).
        return Ok(report);
    }
    let sealed = seal()?;
    let commit = recovery::Commit {
        fresh: sealed.fresh,
        snapshot: sealed.snapshot,
        source: sealed.source,
        report,
    };
    deliver_and_commit(p, store, dest, &staged, commit)
}

/// Pass 1: streams the source's rows, maps and hashes each, and spills them
/// into key-hash partitions; All mode and first runs (every row is new)
/// also write them to their file as they stream. Returns the row count.
fn stream_rows(
    p: &Pass<'_>,
    mut source: Box<dyn Source>,
    mapping: &Mapping,
    key_idx: &[usize],
    files: &mut [OutFile],
    tx: &rusqlite::Transaction<'_>,
    spill: &mut PartitionSpill,
) -> Result<u64> {
    let Pass {
        spec,
        mode,
        direct,
        rid_base,
        control,
        ..
    } = *p;
    let state_err = |source| p.state_err(source);
    let spill_records = !direct;
    let t0 = std::time::Instant::now();
    let mut seq: u64 = 0;
    let mut null_rows: Vec<u64> = Vec::new();
    let mut null_count: u64 = 0;
    {
        let (tx_rows, rx_rows) = crossbeam_channel::bounded::<RowBatch>(4);
        let (tx_empty, rx_empty) = crossbeam_channel::unbounded::<RowBatch>();
        let silence = source.silence_limit();
        // Not a scoped thread: a reader stuck on a server gone silent is
        // left behind (it ends with its connection) instead of holding the
        // run, which fails after the source's limit.
        let reader = std::thread::Builder::new()
            .name("dropsync-source".into())
            .spawn(move || {
                source.stream(BATCH_SIZE, &mut |batch| {
                    if tx_rows.send(batch).is_err() {
                        return Ok(None);
                    }
                    Ok(Some(rx_empty.try_recv().unwrap_or_default()))
                })
            })
            .map_err(|e| Error::io("cannot start the source's thread", e))?;
        let mut silent = false;
        let stream_result = (|| -> Result<()> {
            let mut key_buf = Vec::with_capacity(64);
            let mut rec_buf = Vec::with_capacity(1024);
            let identity = mapping.is_identity();
            let mut consume = || -> Result<()> {
                loop {
                    let batch = match &silence {
                        None => match rx_rows.recv() {
                            Ok(batch) => batch,
                            Err(_) => break,
                        },
                        Some((limit, message)) => match rx_rows.recv_timeout(*limit) {
                            Ok(batch) => batch,
                            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                                silent = true;
                                return Err(Error::Source {
                                    source_name: spec.source.describe(),
                                    message: message.clone(),
                                });
                            }
                        },
                    };
                    for i in 0..batch.len() {
                        seq += 1;
                        if key_idx.iter().any(|&c| batch.is_null(i, c)) {
                            null_count += 1;
                            if null_rows.len() < 10 {
                                null_rows.push(seq);
                            }
                            continue;
                        }
                        if null_count > 0 {
                            continue;
                        }
                        encode_key(
                            key_idx.iter().map(|&c| batch.field_bytes(i, c)),
                            &mut key_buf,
                        );
                        let kh = xxh3_128(&key_buf);
                        let (k1, k2) = ((kh >> 64) as u64, kh as u64);
                        // The synced record: the row's own bytes when every column is synced.
                        let rec: &[u8] = if identity {
                            batch.row(i)
                        } else {
                            let mapped = mapping.apply(batch.decode_row(i)?)?;
                            encode_record(&mapped, &mut rec_buf)?;
                            &rec_buf
                        };
                        let h = if mode == Mode::All { 0 } else { xxh3_64(rec) };
                        // The whole model row's hash, for "changed in the
                        // source": the same bytes as the record when every
                        // column is synced.
                        let raw = match (mode, identity) {
                            (Mode::All, _) => 0,
                            (_, true) => snapshot::known_hash(h),
                            (_, false) => snapshot::known_hash(xxh3_64(batch.row(i))),
                        };
                        if direct {
                            files[0].write_encoded(p.writing, rec)?;
                            if mode != Mode::All {
                                snapshot::insert_record(tx, rid_base | seq, rec)
                                    .map_err(state_err)?;
                            }
                        }
                        spill.push(&Entry {
                            k1,
                            k2,
                            h,
                            raw,
                            seq,
                            key: &key_buf,
                            rec: if spill_records { rec } else { &[] },
                        })?;
                    }
                    let _ = tx_empty.send(batch);
                    control.report(Progress::Reading { rows: seq })?;
                }
                Ok(())
            };
            let consumed = consume();
            // Dropping the receiver stops the reader at its next batch.
            drop(rx_rows);
            if silent {
                return consumed;
            }
            let read = reader
                .join()
                .map_err(|_| Error::Internal("the source thread panicked".into()))?;
            consumed?;
            read
        })();
        stream_result?;
    }
    tracing::debug!(elapsed = ?t0.elapsed(), rows = seq, "pass 1: streamed and spilled");
    if null_count > 0 {
        return Err(Error::NullKey {
            columns: key_label(&spec.model.primary_key),
            count: null_count,
            rows: null_rows
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(seq)
}

/// What pass 2 found: the sorted runs of added, changed and removed rows,
/// and the counts the commit needs.
struct Compared {
    added: RunsFile,
    changed: RunsFile,
    removed: RunsFile,
    new_delta_count: u64,
    /// Rows whose source row changed, whether or not their synced values did.
    source_changed: u64,
}

/// Pass 2: per partition, finds duplicate keys and merge-joins the new
/// entries with the snapshot's (writing the next index into `pending`).
fn compare(
    p: &Pass<'_>,
    tx: &rusqlite::Transaction<'_>,
    mut spill: PartitionSpill,
    old_count: u64,
) -> Result<Compared> {
    let Pass {
        spec,
        staging,
        control,
        mode,
        first_run,
        rid_base,
        ..
    } = *p;
    let state_err = |source| p.state_err(source);
    let mut added_runs = RunsFile::new(staging)?;
    let mut changed_runs = RunsFile::new(staging)?;
    let mut removed_runs = RunsFile::new(staging)?;
    let mut dup_keys: Vec<String> = Vec::new();
    let mut dup_count: u64 = 0;
    let old_delta: u64 = store::read_meta(tx, "delta_count")
        .map_err(state_err)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // Fold the delta into the base once it outgrows an eighth of it.
    let compacting = first_run || old_delta > (old_count / 8).max(20_000);
    let mut new_delta_count = old_delta;
    // Rows whose source row changed, whether or not their synced values did;
    // rows whose snapshot entry has no source-row hash yet are not counted.
    let mut n_source_changed: u64 = 0;
    {
        let mut data = Vec::new();
        let mut base_old: Vec<IndexEntry> = Vec::new();
        let mut delta_old: Vec<IndexEntry> = Vec::new();
        let mut old: Vec<IndexEntry> = Vec::new();
        let mut merged: Vec<IndexEntry> = Vec::new();
        let mut bucket_buf = Vec::new();
        let mut delta_reader = DeltaReader::default();
        let mut delta_writer = DeltaWriter::default();
        let buckets_per_partition = snapshot::BUCKETS / spill.partitions();
        for p in 0..spill.partitions() {
            control.report(Progress::Comparing {
                partition: p,
                partitions: spill.partitions(),
            })?;
            spill.read_partition(p, &mut data)?;
            let mut entries: Vec<Entry> = Vec::new();
            parse_entries(&data, &mut entries);
            entries.sort_unstable_by_key(|e| (e.k1, e.k2));
            // Sorted, so copies of a key are adjacent: count each key once,
            // at its first repeat.
            for (i, w) in entries.windows(2).enumerate() {
                let same = |a: &Entry, b: &Entry| (a.k1, a.k2) == (b.k1, b.k2);
                if same(&w[0], &w[1]) && (i == 0 || !same(&entries[i - 1], &w[0])) {
                    dup_count += 1;
                    if dup_keys.len() < 10 {
                        dup_keys.push(display_key(&decode(w[0].key)?));
                    }
                }
            }
            if dup_count > 0 || mode == Mode::All {
                continue;
            }
            let first_bucket = p * buckets_per_partition;
            let last_bucket = first_bucket + buckets_per_partition - 1;
            let (lo, hi) = spill.range(p);
            base_old.clear();
            delta_old.clear();
            if !first_run {
                snapshot::read_buckets(tx, first_bucket, last_bucket, &mut base_old)
                    .map_err(state_err)?;
                delta_reader
                    .range(tx, lo, hi, &mut delta_old)
                    .map_err(state_err)?;
            }
            snapshot::apply_delta(&base_old, &delta_old, &mut old);
            // Merge-join the sorted new entries with the sorted old ones;
            // `merged` becomes the partition's next index.
            merged.clear();
            let mut added: Vec<(u64, u64, &[u8])> = Vec::new();
            let mut changed: Vec<(u64, u64, &[u8])> = Vec::new();
            let mut removed: Vec<(u64, u64, &[u8])> = Vec::new();
            let (mut i, mut j) = (0, 0);
            while i < entries.len() || j < old.len() {
                let new_key = entries.get(i).map(|e| (e.k1, e.k2));
                let old_key = old.get(j).map(|o| (o.k1, o.k2));
                match (new_key, old_key) {
                    (Some(n), Some(o)) if n == o => {
                        let (e, o) = (&entries[i], old[j]);
                        if o.raw != 0 && o.raw != e.raw {
                            n_source_changed += 1;
                        }
                        if e.h == o.h {
                            merged.push(IndexEntry { raw: e.raw, ..o });
                        } else {
                            let rid = rid_base | e.seq;
                            merged.push(IndexEntry {
                                h: e.h,
                                raw: e.raw,
                                rid,
                                ..o
                            });
                            snapshot::discard_record(tx, o.rid).map_err(state_err)?;
                            changed.push((e.seq, rid, e.rec));
                        }
                        i += 1;
                        j += 1;
                    }
                    (Some(n), o) if o.is_none_or(|o| n < o) => {
                        let e = &entries[i];
                        let rid = rid_base | e.seq;
                        merged.push(IndexEntry {
                            k1: e.k1,
                            k2: e.k2,
                            h: e.h,
                            rid,
                            raw: e.raw,
                        });
                        if !first_run {
                            added.push((e.seq, rid, e.rec));
                        }
                        i += 1;
                    }
                    _ => {
                        let o = old[j];
                        snapshot::discard_record(tx, o.rid).map_err(state_err)?;
                        removed.push((o.rid, o.rid, &[]));
                        j += 1;
                    }
                }
            }
            if compacting {
                // Rewrite the base buckets that differ from the merged index.
                let (mut m, mut b) = (0, 0);
                for bucket in first_bucket..=last_bucket {
                    let in_bucket = |e: &IndexEntry| snapshot::bucket_of(e.k1) == bucket;
                    let m_end = m + merged[m..].partition_point(in_bucket);
                    let b_end = b + base_old[b..].partition_point(in_bucket);
                    if merged[m..m_end] != base_old[b..b_end] {
                        snapshot::write_bucket(tx, bucket, &merged[m..m_end], &mut bucket_buf)
                            .map_err(state_err)?;
                    }
                    (m, b) = (m_end, b_end);
                }
            } else {
                delta_writer
                    .push_range(tx, lo, &base_old, &merged)
                    .map_err(state_err)?;
            }
            added.sort_unstable_by_key(|a| a.0);
            changed.sort_unstable_by_key(|a| a.0);
            removed.sort_unstable_by_key(|a| a.0);
            added_runs.push_run(&added)?;
            changed_runs.push_run(&changed)?;
            removed_runs.push_run(&removed)?;
        }
        if mode != Mode::All && dup_count == 0 {
            new_delta_count = if compacting {
                // The pending delta stays empty: the delta is cleared.
                0
            } else {
                delta_writer.finish(tx).map_err(state_err)?
            };
        }
    }
    if dup_count > 0 {
        return Err(Error::DuplicateKey {
            columns: key_label(&spec.model.primary_key),
            count: dup_count,
            keys: dup_keys.join(", "),
        });
    }
    Ok(Compared {
        added: added_runs,
        changed: changed_runs,
        removed: removed_runs,
        new_delta_count,
        source_changed: n_source_changed,
    })
}

/// Pass 3: the change files, in source order, merged back from the sorted
/// runs; the new and changed records go into `pending` on the way.
fn write_changes(
    p: &Pass<'_>,
    ctx: &Ctx<'_>,
    tx: &rusqlite::Transaction<'_>,
    files: &mut [OutFile],
    c: &mut Compared,
    old_columns: Option<&[String]>,
) -> Result<()> {
    let Pass {
        control, direct, ..
    } = *p;
    let state_err = |source| p.state_err(source);
    if !direct {
        let find = |kind: FileKind, files: &[OutFile]| files.iter().position(|f| f.kind == kind);
        let added_file = find(FileKind::Added, files);
        control.report(Progress::Writing {
            file: added_file
                .map(|i| files[i].part_relative(&ctx.writing))
                .unwrap_or_default(),
        })?;
        let changed_file = find(FileKind::Changed, files);
        let removed_file = find(FileKind::Removed, files);
        for (runs, file) in [(&mut c.added, added_file), (&mut c.changed, changed_file)] {
            runs.merge(|rid, rec| {
                snapshot::insert_record(tx, rid, rec).map_err(state_err)?;
                if let Some(i) = file {
                    files[i].write_encoded(&ctx.writing, rec)?;
                }
                Ok(())
            })?;
        }
        if let Some(i) = removed_file {
            let projection = projection(old_columns, &ctx.columns);
            c.removed.merge(|rid, _| {
                let rec = snapshot::read_record(tx, rid)
                    .map_err(state_err)?
                    .ok_or_else(|| {
                        Error::Internal(format!(
                            "snapshot record {rid} is missing; run `dropsync reset`"
                        ))
                    })?;
                let values = project(decode(&rec)?, projection.as_deref());
                files[i].write(&ctx.writing, &values)
            })?;
        }
    }
    Ok(())
}

/// The files finished: a report per part, and the parts a run delivers
/// (an empty file is dropped when `skip_empty_files` says so).
fn finish_files(ctx: &Ctx<'_>, files: Vec<OutFile>) -> Result<(Vec<FileReport>, Vec<StagedFile>)> {
    let (spec, purpose) = (ctx.spec, ctx.purpose);
    let mut reports = Vec::new();
    let mut staged = Vec::new();
    for f in files {
        if f.preview_limit.is_some() {
            let preview =
                render_preview(ctx, &f.preview_rows, f.rows > f.preview_rows.len() as u64)?;
            reports.push(FileReport {
                path: f.part_relative(&ctx.writing),
                kind: f.kind,
                part: ctx.writing.limits.any().then_some(1),
                rows: f.rows,
                bytes: 0,
                skipped: f.rows == 0 && spec.sync.skip_empty_files,
                preview: Some(preview),
                overwritten_by: None,
                deleted_by_retention: false,
            });
            continue;
        }
        let kind = f.kind;
        for part in f.finish(&ctx.writing)? {
            let skipped = part.rows == 0 && spec.sync.skip_empty_files;
            if skipped {
                let _ = std::fs::remove_file(&part.local);
            } else if purpose == Purpose::Run {
                staged.push(StagedFile {
                    local: part.local.clone(),
                    relative: part.relative.clone(),
                    bytes: part.bytes,
                });
            }
            reports.push(FileReport {
                path: part.relative,
                kind,
                part: part.part,
                rows: part.rows,
                bytes: part.bytes,
                skipped,
                preview: None,
                overwritten_by: None,
                deleted_by_retention: false,
            });
        }
    }
    Ok((reports, staged))
}

/// Writes the manifest (when the sync has one) to staging, as the run's
/// last file: a destination places its files in order, so a consumer that
/// sees the manifest sees every file it lists. None when every data file
/// was skipped as empty: there is nothing to read.
fn stage_manifest(
    spec: &SyncSpec,
    staging: &Path,
    names: &NameContext<'_>,
    reports: &mut Vec<FileReport>,
    staged: &mut Vec<StagedFile>,
) -> Result<()> {
    let Some(template) = &spec.sync.manifest else {
        return Ok(());
    };
    if staged.is_empty() {
        return Ok(());
    }
    let relative = template.resolve(names)?;
    if reports.iter().any(|r| r.path == relative) {
        return Err(Error::Filename {
            template: template.as_str().to_string(),
            message: format!(
                "[sync] manifest resolves to {relative:?}, the name of a data file of this run; give the manifest a name of its own (e.g. ending in .manifest.json)"
            ),
        });
    }
    let listed: Vec<(&FileReport, &Path)> = reports
        .iter()
        .filter(|r| !r.skipped)
        .zip(staged.iter())
        .map(|(r, s)| (r, s.local.as_path()))
        .collect();
    let local = staging.join("manifest.json");
    let bytes = run_files::write_manifest(
        spec,
        names.run_id.parse().unwrap_or_default(),
        names.started_at,
        &listed,
        &local,
    )?;
    reports.push(FileReport {
        path: relative.clone(),
        kind: FileKind::Manifest,
        part: None,
        rows: 0,
        bytes,
        skipped: false,
        preview: None,
        overwritten_by: None,
        deleted_by_retention: false,
    });
    staged.push(StagedFile {
        local,
        relative,
        bytes,
    });
    Ok(())
}

/// The intent, then delivery, then the commit (see recovery.rs): the
/// read transaction has ended, `pending` holds the snapshot's changes.
fn deliver_and_commit(
    p: &Pass<'_>,
    store: &SyncStore,
    dest: &dyn destination::Destination,
    staged: &[StagedFile],
    commit: recovery::Commit,
) -> Result<RunReport> {
    let Pass {
        spec,
        staging,
        control,
        ..
    } = *p;
    let t0 = std::time::Instant::now();
    // The last point where a cancel stops the run: from here on the files
    // may land, and a run whose files landed must commit its snapshot.
    control.report(Progress::Delivering {
        bytes: 0,
        total: staged.iter().map(|f| f.bytes).sum(),
    })?;
    let intent = recovery::Intent {
        destination: history::destination_key(&spec.destination),
        files: staged
            .iter()
            .map(|f| {
                Ok(recovery::IntentFile {
                    relative: f.relative.clone(),
                    local: f.local.clone(),
                    bytes: f.bytes,
                    xxh3: recovery::file_xxh3(&f.local)
                        .map_err(|e| Error::io(format!("cannot read {}", f.local.display()), e))?,
                })
            })
            .collect::<Result<_>>()?,
        commit,
    };
    recovery::write(staging, &intent)?;
    killed_here_in_tests("intent");
    let mut commit = intent.commit;
    // Nothing to place (every file skipped as empty, or marked delivered).
    let deliver = |staged: &[StagedFile], progress: &dyn Fn(u64, u64)| match staged {
        [] => Ok(()),
        _ => dest.deliver(staged, progress),
    };
    deliver(staged, &|bytes, total| {
        control.notify(Progress::Delivering { bytes, total })
    })
    .map_err(|e| match e {
        // The destination knows which paths landed; the record gets their
        // rows and sizes.
        Error::PartialDelivery { landed, source } => Error::PartialDelivery {
            landed: commit
                .report
                .files
                .iter()
                .filter(|f| landed.iter().any(|l| l.path == f.path))
                .cloned()
                .collect(),
            source,
        },
        e => e,
    })?;
    tracing::debug!(elapsed = ?t0.elapsed(), "delivered");
    killed_here_in_tests("delivered");
    control.notify(Progress::Committing);
    commit.report.finished_at = Some(Utc::now());
    commit_fails_in_tests()
        .and_then(|_| recovery::commit(store, &commit))
        .map_err(|e| Error::NotCommitted {
            source: Box::new(e),
        })?;
    let report = commit.report;
    tracing::debug!(elapsed = ?t0.elapsed(), "delivered and committed");
    Ok(report)
}

/// A fault for tests only: the process SIGKILLs itself at the named point
/// of a run (`DROPSYNC_TEST_KILL_AT=intent|delivered`), for instants too
/// short to hit with a kill from outside.
#[cfg(debug_assertions)]
pub(crate) fn killed_here_in_tests(point: &str) {
    if std::env::var(crate::env_vars::TEST_KILL_AT).as_deref() == Ok(point) {
        // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

#[cfg(not(debug_assertions))]
pub(crate) fn killed_here_in_tests(_: &str) {}

/// A fault for tests only: the commit after delivery fails
/// (`DROPSYNC_TEST_FAIL_COMMIT=1`), as a full disk would make it.
fn commit_fails_in_tests() -> Result<()> {
    if cfg!(debug_assertions) && std::env::var_os(crate::env_vars::TEST_FAIL_COMMIT).is_some() {
        return Err(Error::Internal(
            "injected failure (DROPSYNC_TEST_FAIL_COMMIT)".into(),
        ));
    }
    Ok(())
}

/// Detaches a run's `pending` database however `execute` ends (after its
/// transactions: SQLite refuses to detach inside one).
struct DetachPending<'a>(&'a rusqlite::Connection);

impl Drop for DetachPending<'_> {
    fn drop(&mut self) {
        let _ = snapshot::detach_pending(self.0);
    }
}

/// The key's positions among the output columns and its label, when the
/// output holds every key column.
fn output_key(output: &[String], key: &[String]) -> Option<(Vec<usize>, String)> {
    let pos: Option<Vec<usize>> = key
        .iter()
        .map(|k| output.iter().position(|o| o == k))
        .collect();
    let label = match key {
        [one] => one.clone(),
        many => format!("({})", many.join(", ")),
    };
    pos.map(|p| (p, label))
}

pub(crate) fn key_label(key: &[String]) -> String {
    if key.len() == 1 {
        format!("column {:?}", key[0])
    } else {
        format!(
            "columns ({})",
            key.iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn key_indices(columns: &[Column], key: &[String]) -> Result<Vec<usize>> {
    key.iter()
        .map(|k| {
            columns
                .iter()
                .position(|c| &c.name == k)
                .ok_or_else(|| Error::MissingKeyColumn {
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

/// A delivered record under today's columns (see [`projection`]).
pub(crate) fn project(values: Vec<Value>, projection: Option<&[Option<usize>]>) -> Vec<Value> {
    match projection {
        Some(proj) => proj
            .iter()
            .map(|i| {
                i.and_then(|i| values.get(i).cloned())
                    .unwrap_or(Value::Null)
            })
            .collect(),
        None => values,
    }
}

/// When the synced columns changed since the snapshot was taken, removed rows
/// are written under today's columns: matched by name, missing ones NULL.
pub(crate) fn projection(old: Option<&[String]>, new: &[String]) -> Option<Vec<Option<usize>>> {
    let old = old?;
    if old == new {
        return None;
    }
    Some(
        new.iter()
            .map(|n| old.iter().position(|o| o == n))
            .collect(),
    )
}

fn render_preview(ctx: &Ctx<'_>, rows: &[Vec<Value>], more: bool) -> Result<history::FilePreview> {
    #[derive(Clone)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Shared(Default::default());
    // A preview shows text: Parquet's rows as NDJSON, gzip's uncompressed.
    let format = match ctx.spec.sync.format {
        Format::Parquet => Format::Ndjson,
        f => f,
    };
    let mut w = format::writer(
        &FileFormat::plain(format, ctx.spec.sync.csv.clone()),
        &ctx.columns,
        &ctx.types,
        Box::new(buf.clone()),
    )?;
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
