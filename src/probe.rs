//! What an editor asks of a model before it becomes a sync: whether the
//! source opens and what it holds, the query's columns and first rows, and
//! whether a primary key holds over every row.

use crate::check::ColumnInfo;
use crate::config::{
    CsvOptions, DestinationSpec, Format, Mode, ModelSpec, SourceSpec, SyncSettings, SyncSpec,
};
use crate::error::{Error, Result};
use crate::filename::FilenameTemplate;
use crate::run::{preview, RunOptions};
use crate::schedule::Schedule;
use crate::source::{self, Column, RowBatch, Source};
use crate::value::Value;
use serde::Serialize;

/// Rows a probe returns at most, whatever the caller asks.
pub const PROBE_ROWS_MAX: usize = 1000;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelProbe {
    pub columns: Vec<ColumnInfo>,
    /// The first rows as display text; `None` for NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// More rows exist beyond these.
    pub more: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeyCheck {
    pub ok: bool,
    /// Rows read, when the check read them all.
    pub rows: Option<u64>,
    /// What is wrong with the key, naming rows or key values.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SourceTest {
    pub ok: bool,
    pub message: String,
    /// SQLite: tables and views; CSV: the header's column names.
    pub tables: Vec<String>,
}

fn model(sql: Option<&str>, primary_key: Vec<String>) -> ModelSpec {
    ModelSpec {
        id: "model".into(),
        name: "model".into(),
        sql: sql.map(str::to_string),
        primary_key,
    }
}

fn check_sql(source: &SourceSpec, sql: Option<&str>) -> Result<()> {
    let query_err = |message: &str| Error::Query {
        message: message.into(),
    };
    match (source, sql.map(str::trim)) {
        (SourceSpec::Sqlite { .. }, None | Some("")) => Err(query_err(
            "there is no query; write one such as SELECT * FROM customers",
        )),
        (SourceSpec::Csv { .. }, Some(s)) if !s.is_empty() => Err(query_err(
            "a csv source streams the file's rows and takes no query; leave the query empty",
        )),
        _ => Ok(()),
    }
}

/// The first `limit` rows (at most [`PROBE_ROWS_MAX`]) of the model, with
/// each column's declared type and the type its first non-NULL value holds.
/// Stops reading once it has them.
pub fn probe(source: &SourceSpec, sql: Option<&str>, limit: usize) -> Result<ModelProbe> {
    check_sql(source, sql)?;
    let limit = limit.min(PROBE_ROWS_MAX);
    let mut src = source::open(source, &model(sql, vec![]))?;
    let Sample {
        rows,
        observed,
        more,
    } = sample(src.as_mut(), limit)?;
    Ok(ModelProbe {
        columns: column_info(src.columns(), &observed),
        rows: rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| (!v.is_null()).then(|| v.to_text()))
                    .collect()
            })
            .collect(),
        more,
    })
}

/// The first rows of a model.
pub(crate) struct Sample {
    pub rows: Vec<Vec<Value>>,
    /// The type of each column's first non-NULL value among them.
    pub observed: Vec<Option<&'static str>>,
    /// More rows follow.
    pub more: bool,
}

/// Reads up to `limit` rows, and stops.
pub(crate) fn sample(src: &mut dyn Source, limit: usize) -> Result<Sample> {
    let mut observed: Vec<Option<&'static str>> = vec![None; src.columns().len()];
    let mut rows = Vec::new();
    let mut more = false;
    src.stream((limit + 1).clamp(1, 1000), &mut |batch| {
        for i in 0..batch.len() {
            if rows.len() == limit {
                more = true;
                return Ok(None);
            }
            let row = batch.decode_row(i)?;
            for (o, v) in observed.iter_mut().zip(&row) {
                if o.is_none() && !v.is_null() {
                    *o = Some(v.type_name());
                }
            }
            rows.push(row);
        }
        Ok(Some(RowBatch::default()))
    })?;
    Ok(Sample {
        rows,
        observed,
        more,
    })
}

pub(crate) fn column_info(
    columns: &[Column],
    observed: &[Option<&'static str>],
) -> Vec<ColumnInfo> {
    columns
        .iter()
        .zip(observed)
        .map(|(c, o)| ColumnInfo {
            name: c.name.clone(),
            declared_type: c.declared_type.clone(),
            observed_type: o.unwrap_or("null").to_string(),
            primary_key: c.primary_key,
        })
        .collect()
}

/// Whether `primary_key` is present, never NULL and unique over every row,
/// checked by the run's own key checks (disk-backed, so any row count fits)
/// in a throwaway state folder. A broken key is an answer (`ok: false`),
/// not an error; a query or source that fails is an error.
pub fn check_key(
    source: &SourceSpec,
    sql: Option<&str>,
    primary_key: &[String],
) -> Result<KeyCheck> {
    check_sql(source, sql)?;
    if primary_key.is_empty() {
        return Ok(KeyCheck {
            ok: false,
            rows: None,
            message: Some("choose at least one column as the primary key".into()),
        });
    }
    let scratch = tempfile::Builder::new()
        .prefix("dropsync-key-check-")
        .tempdir()
        .map_err(|e| Error::io("cannot create a folder for the key check", e))?;
    let template = FilenameTemplate::parse("key-check.csv")?;
    let spec = SyncSpec {
        file: scratch.path().join("key-check.toml"),
        source: source.clone(),
        model: model(sql, primary_key.to_vec()),
        destination: DestinationSpec::Folder {
            path: scratch.path().to_path_buf(),
        },
        sync: SyncSettings {
            id: "key-check".into(),
            mode: Mode::All,
            format: Format::Csv,
            compression: Default::default(),
            parquet_compression: Default::default(),
            parts: Default::default(),
            filename: template,
            filename_offset: 0,
            manifest: None,
            diff_engine: Default::default(),
            retention: Default::default(),
            skip_empty_files: false,
            csv: CsvOptions::default(),
            columns: None,
            schedule: Schedule::parse("manual", None).map_err(Error::Internal)?,
        },
        alerts: vec![],
        alert_when: Default::default(),
    };
    match preview(&spec, scratch.path(), 0, &RunOptions::default()) {
        Ok(report) => Ok(KeyCheck {
            ok: true,
            rows: Some(report.rows.queried),
            message: None,
        }),
        Err(e) if e.code() == crate::error::ErrorCode::PrimaryKey => Ok(KeyCheck {
            ok: false,
            rows: None,
            message: Some(e.to_string()),
        }),
        Err(e) => Err(e),
    }
}

/// Opens the source as a run would and says what it holds.
pub fn test_source(source: &SourceSpec) -> Result<SourceTest> {
    let (message, tables) = source::inspect(source)?;
    Ok(SourceTest {
        ok: true,
        message,
        tables,
    })
}
