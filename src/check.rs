//! `check`: validate a sync end to end without writing anything.

use crate::config::{Mode, SyncSpec};
use crate::error::Result;
use crate::filename::NameContext;
use crate::inspect::{extension_warning, overwrite_warning, NameIds};
use crate::mapping::Mapping;
use crate::run::{preview, shown_files, RunOptions};
use crate::source;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ColumnInfo {
    pub name: String,
    /// What the source declares (SQLite declared type), if anything.
    pub declared_type: Option<String>,
    /// What the first rows hold: integer, float, text, ... or null if all NULL.
    pub observed_type: String,
    /// The source declares the column (part of) its table's primary key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary_key: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CheckReport {
    pub sync_id: String,
    pub source: String,
    pub destination: String,
    pub columns: Vec<ColumnInfo>,
    pub output_columns: Vec<String>,
    pub primary_key: Vec<String>,
    /// Rows the model returns now; every key is present and unique.
    pub rows: u64,
    /// The files a run would write now.
    pub files: Vec<String>,
    pub schedule: String,
    /// The next three scheduled runs (none for manual syncs).
    pub next_runs: Vec<chrono::DateTime<chrono::Utc>>,
    /// One line per `[[alerts]]` channel.
    pub alerts: Vec<String>,
    /// Where Insert and Diff compare rows (`[sync] diff_engine`), and why.
    pub diff_engine: String,
    /// Problems that do not stop a run: a filename that repeats between
    /// runs in Insert/Diff mode, an extension that is not the format's.
    pub warnings: Vec<String>,
}

const SAMPLE_ROWS: usize = 200;

pub fn check(spec: &SyncSpec, state_dir: &Path) -> Result<CheckReport> {
    let problems = crate::alerts::validate(&spec.alerts);
    if !problems.is_empty() {
        return Err(crate::Error::config(&spec.file, problems.join("; ")));
    }
    let mut src = source::open(&spec.source, &spec.model)?;
    let columns = src.columns().to_vec();
    let mapping = Mapping::compile(&columns, spec.sync.columns.as_deref())?;
    let observed = crate::probe::sample(src.as_mut(), SAMPLE_ROWS)?.observed;

    // The key, mapping and filename checks are the run's own: a preview of
    // every row in All mode touches no snapshot and writes nothing.
    let mut all = spec.clone();
    all.sync.mode = Mode::All;
    let dry = preview(&all, state_dir, 0, &RunOptions::default())?;

    let resolved = spec.sync.filename.resolve(&NameContext {
        started_at: chrono::Utc::now(),
        offset_seconds: spec.sync.filename_offset,
        model_id: &spec.model.id,
        model_name: &spec.model.name,
        sync_id: &spec.sync.id,
        run_id: &dry.run_id.to_string(),
    })?;
    let now = chrono::Utc::now();
    let ids = NameIds {
        offset_seconds: spec.sync.filename_offset,
        model_id: &spec.model.id,
        model_name: &spec.model.name,
        sync_id: &spec.sync.id,
    };
    let warnings = overwrite_warning(
        &spec.sync.filename,
        &spec.sync.schedule,
        spec.sync.mode,
        &ids,
        now,
        dry.run_id,
    )
    .map(|(message, _)| message)
    .into_iter()
    .chain(extension_warning(&resolved, spec.sync.format))
    .collect::<Vec<_>>();
    let (diff_engine, engine_warnings) = crate::pushdown::check(spec, &columns)?;
    let warnings = warnings.into_iter().chain(engine_warnings).collect();
    Ok(CheckReport {
        sync_id: spec.sync.id.clone(),
        source: spec.source.describe(),
        destination: spec.destination.describe(),
        columns: crate::probe::column_info(&columns, &observed),
        output_columns: mapping.output().to_vec(),
        primary_key: spec.model.primary_key.clone(),
        rows: dry.rows.queried,
        files: shown_files(
            spec.sync.mode,
            &resolved,
            spec.sync.compression,
            spec.sync.parts.any(),
        ),
        schedule: spec.sync.schedule.to_string(),
        next_runs: spec.sync.schedule.upcoming(chrono::Utc::now(), 3),
        alerts: spec
            .alerts
            .iter()
            .enumerate()
            .map(|(i, a)| format!("#{} {}", i + 1, a.kind()))
            .collect(),
        diff_engine,
        warnings,
    })
}
