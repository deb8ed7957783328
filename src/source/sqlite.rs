//! SQLite source: runs the model's query on a read-only connection.

use super::{finish, hand_over, BatchSink, Column, RowBatch, Source};
use crate::error::{Error, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

pub struct SqliteSource {
    conn: Connection,
    sql: String,
    columns: Vec<Column>,
}

impl SqliteSource {
    pub fn open(path: &Path, sql: &str) -> Result<Self> {
        let source_err = |message: String| Error::Source {
            source_name: format!("sqlite {}", path.display()),
            message,
        };
        if !path.is_file() {
            return Err(source_err(
                "the database file does not exist; check [source] path".into(),
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| source_err(format!("cannot open the database: {e}")))?;
        // A writer holding the database briefly should not fail a scheduled run.
        let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
        let columns = {
            let stmt = conn.prepare(sql).map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => source_err(
                    "the file is not a SQLite database (or it is encrypted); check [source] path"
                        .into(),
                ),
                _ => Error::Query {
                    message: sqlite_message(&e),
                },
            })?;
            if !stmt.readonly() {
                return Err(Error::Query {
                    message:
                        "the query would change the database; a model must only read (SELECT ...)"
                            .into(),
                });
            }
            if stmt.column_count() == 0 {
                return Err(Error::Query {
                    message: "the statement returns no columns; a model must be a SELECT".into(),
                });
            }
            (0..stmt.column_count())
                .zip(stmt.columns())
                .map(|(i, c)| Column {
                    name: c.name().to_string(),
                    declared_type: c.decl_type().map(str::to_string),
                    // A column read straight from a table: whether it is
                    // (part of) that table's declared primary key.
                    primary_key: matches!(
                        stmt.column_metadata(i),
                        Ok(Some((_, _, _, _, _, _, true, _)))
                    ),
                })
                .collect()
        };
        Ok(SqliteSource {
            conn,
            sql: sql.to_string(),
            columns,
        })
    }
}

/// The database's tables and views, as a user would pick them for a query.
pub fn inspect(path: &Path) -> Result<(String, Vec<String>)> {
    // The same read-only open a run uses, with a query that always prepares.
    let src = SqliteSource::open(path, "SELECT name FROM sqlite_master")?;
    let source_err = |e: rusqlite::Error| Error::Source {
        source_name: format!("sqlite {}", path.display()),
        message: format!("cannot list the tables: {e}; is it a SQLite database?"),
    };
    let mut stmt = src
        .conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .map_err(source_err)?;
    let tables = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(source_err)?;
    let message = match tables.len() {
        1 => format!("SQLite {}, 1 table or view", rusqlite::version()),
        n => format!("SQLite {}, {n} tables and views", rusqlite::version()),
    };
    Ok((message, tables))
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, offset, .. } => {
            format!("{msg} (at character {})", offset + 1)
        }
        other => other.to_string(),
    }
}

fn push(batch: &mut RowBatch, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => batch.push_null(),
        ValueRef::Integer(i) => batch.push_int(i),
        ValueRef::Real(f) => batch.push_float(f),
        ValueRef::Text(t) => batch.push_text(t),
        ValueRef::Blob(b) => batch.push_bytes(b),
    }
}

impl Source for SqliteSource {
    fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn stream(&mut self, batch_size: usize, sink: &mut BatchSink<'_>) -> Result<()> {
        let query_err = |e: rusqlite::Error| Error::Query {
            message: sqlite_message(&e),
        };
        let mut stmt = self.conn.prepare(&self.sql).map_err(query_err)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([]).map_err(query_err)?;
        let mut batch = RowBatch::new(n, batch_size);
        while let Some(row) = rows.next().map_err(query_err)? {
            batch.begin_row();
            for i in 0..n {
                push(&mut batch, row.get_ref(i).map_err(query_err)?);
            }
            batch.end_row();
            if !hand_over(&mut batch, sink, n, batch_size)? {
                return Ok(());
            }
        }
        finish(batch, sink)
    }
}
