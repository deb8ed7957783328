//! Sources turn a model into a stream of typed rows, in batches, without
//! holding the result set.

mod csv_file;
mod sqlite;

use crate::config::{ModelSpec, SourceSpec};
use crate::error::Result;
use crate::value::Value;
use serde::Serialize;

pub use csv_file::CsvSource;
pub use sqlite::SqliteSource;

/// A column of the model as the source describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    /// The type the source declares (SQLite's declared type, "text" for CSV), if any.
    pub declared_type: Option<String>,
}

pub type Row = Vec<Value>;

/// Receives batches of rows; returns `false` to stop the stream early.
pub type BatchSink<'a> = dyn FnMut(Vec<Row>) -> Result<bool> + 'a;

pub trait Source: Send {
    /// The model's columns, known before any row is read.
    fn columns(&self) -> &[Column];

    /// Streams every row to `sink` in batches of `batch_size`.
    fn stream(&mut self, batch_size: usize, sink: &mut BatchSink<'_>) -> Result<()>;
}

/// Opens the model's source and prepares its query (so column errors show now).
pub fn open(spec: &SourceSpec, model: &ModelSpec) -> Result<Box<dyn Source>> {
    Ok(match spec {
        SourceSpec::Sqlite { path } => Box::new(SqliteSource::open(
            path,
            model.sql.as_deref().unwrap_or_default(),
        )?),
        SourceSpec::Csv {
            path,
            delimiter,
            header,
        } => Box::new(CsvSource::open(path, *delimiter, *header)?),
    })
}
