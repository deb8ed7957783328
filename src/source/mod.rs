//! Sources turn a model into a stream of typed rows, in batches, without
//! holding the result set.

mod batch;
pub mod connection;
mod csv_file;
mod mysql;
pub(crate) mod postgres;
mod postgres_tls;
pub(crate) mod postgres_types;
mod sqlite;

use crate::config::{ModelSpec, SourceSpec};
use crate::error::Result;
use serde::Serialize;

pub use batch::{decode_record, decode_refs, encode_key, encode_record, RowBatch};
pub use csv_file::CsvSource;
pub use mysql::MysqlSource;
pub use postgres::PostgresSource;
pub use sqlite::SqliteSource;

/// A column of the model as the source describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    /// The type the source declares (SQLite's declared type, the server's
    /// type name for PostgreSQL and MySQL, "text" for CSV), if any.
    pub declared_type: Option<String>,
    /// The column is (part of) its table's primary key, as the source
    /// declares it (SQLite and MySQL say; PostgreSQL and CSV do not here).
    /// Only a suggestion for choosing the model's key.
    pub primary_key: bool,
}

/// Receives a full batch and hands back an empty one to fill next (reusing
/// buffers keeps the hot path free of allocation), or `None` to stop early.
pub type BatchSink<'a> = dyn FnMut(RowBatch) -> Result<Option<RowBatch>> + 'a;

/// A batch is handed on at this many rows or bytes, whichever comes first.
pub const BATCH_BYTES: usize = 1 << 20;

pub trait Source: Send {
    /// The model's columns, known before any row is read.
    fn columns(&self) -> &[Column];

    /// Streams every row to `sink` in batches of up to `batch_size` rows.
    fn stream(&mut self, batch_size: usize, sink: &mut BatchSink<'_>) -> Result<()>;

    /// For a server: how long the run waits for a batch before it gives up
    /// on a server gone silent, and the error it fails with then.
    fn silence_limit(&self) -> Option<(std::time::Duration, String)> {
        None
    }
}

/// A network source hands on a batch at least this often while rows
/// arrive, however slowly, so the run can tell a slow server from a silent
/// one (see [`Source::silence_limit`]).
pub const LIVE_BATCH_AGE: std::time::Duration = std::time::Duration::from_secs(1);

/// Called after each row: hands a full batch to the sink and takes back an
/// empty one; `false` when the sink wants no more rows.
fn hand_over(
    batch: &mut RowBatch,
    sink: &mut BatchSink<'_>,
    columns: usize,
    batch_size: usize,
) -> Result<bool> {
    if batch.len() < batch_size && batch.bytes() < BATCH_BYTES {
        return Ok(true);
    }
    pass_on(batch, sink, columns)
}

/// [`hand_over`] for a server's rows: a batch also goes once its first row
/// is [`LIVE_BATCH_AGE`] old. `since` is when the current batch began.
fn hand_over_live(
    batch: &mut RowBatch,
    since: &mut Option<std::time::Instant>,
    sink: &mut BatchSink<'_>,
    columns: usize,
    batch_size: usize,
) -> Result<bool> {
    let began = *since.get_or_insert_with(std::time::Instant::now);
    if batch.len() < batch_size && batch.bytes() < BATCH_BYTES && began.elapsed() < LIVE_BATCH_AGE {
        return Ok(true);
    }
    *since = None;
    pass_on(batch, sink, columns)
}

fn pass_on(batch: &mut RowBatch, sink: &mut BatchSink<'_>, columns: usize) -> Result<bool> {
    match sink(std::mem::take(batch))? {
        Some(mut next) => {
            next.reset(columns);
            *batch = next;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Hands over the last, partly filled batch.
fn finish(batch: RowBatch, sink: &mut BatchSink<'_>) -> Result<()> {
    if !batch.is_empty() {
        sink(batch)?;
    }
    Ok(())
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
        SourceSpec::Postgres(db) => Box::new(PostgresSource::open(
            db,
            model.sql.as_deref().unwrap_or_default(),
        )?),
        SourceSpec::Mysql(db) => Box::new(MysqlSource::open(
            db,
            model.sql.as_deref().unwrap_or_default(),
        )?),
    })
}

/// Opens the source on its own (no query) and says what it holds: a line
/// for the user, and the tables (SQLite, PostgreSQL, MySQL) or columns
/// (CSV) it offers.
pub fn inspect(spec: &SourceSpec) -> Result<(String, Vec<String>)> {
    match spec {
        SourceSpec::Sqlite { path } => sqlite::inspect(path),
        SourceSpec::Postgres(db) => postgres::inspect(db),
        SourceSpec::Mysql(db) => mysql::inspect(db),
        SourceSpec::Csv {
            path,
            delimiter,
            header,
        } => {
            let src = CsvSource::open(path, *delimiter, *header)?;
            let names: Vec<String> = src.columns().iter().map(|c| c.name.clone()).collect();
            Ok((format!("CSV file with {} columns", names.len()), names))
        }
    }
}
