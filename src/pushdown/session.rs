//! The conversation with the server: one connection, several transactions.
//!
//! The model only ever runs inside a `REPEATABLE READ READ ONLY`
//! transaction (the diff and the duplicate-key diagnosis); everything that
//! writes is its own transaction naming only tables of the state schema.
//! Every call runs on a helper thread and gives up after the source's read
//! timeout, so a server that stops answering fails the run instead of
//! holding it (the thread ends with its socket).

use super::sql::{self, Tables};
use crate::error::{Error, Result};
use crate::source::connection::DatabaseSpec;
use crate::source::postgres::{connect, query_error, Raw};
use crate::source::postgres_types::{type_label, Decoder};
use crate::value::Value;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel};
use std::path::Path;
use std::time::Duration;

/// One row of the diff's result.
#[derive(Debug)]
pub struct DiffRow {
    pub kind: Kind,
    /// The key columns as text (the snapshot's form of the key).
    pub keys: Vec<Option<String>>,
    /// The new hash (added, changed).
    pub hash: Option<String>,
    /// The last delivered record (removed).
    pub rec: Option<Vec<u8>>,
    /// The model's columns (added, changed).
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Changed,
    Removed,
}

/// The sync's row in `dropsync_syncs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRow {
    pub owner: String,
    pub generation: i64,
    pub pending: Option<i64>,
    pub keys: i32,
    pub canon: String,
}

pub struct Session {
    client: Option<Client>,
    db: DatabaseSpec,
    limit: Duration,
    hashing: sql::Hashing,
}

type PgResult<T> = std::result::Result<T, postgres::Error>;

impl Session {
    /// Logs in and pins the settings the canonical text depends on.
    pub fn open(db: &DatabaseSpec) -> Result<Session> {
        let mut s = Session {
            client: Some(connect(db)?),
            db: db.clone(),
            limit: db.read_timeout(),
            hashing: sql::Hashing::Md5,
        };
        let version: String = s.call(|c| c.query_one("SELECT version()", &[])?.try_get(0))?;
        s.hashing = sql::Hashing::for_server(&version);
        if cfg!(debug_assertions) && std::env::var_os(crate::env_vars::TEST_PORTABLE_SQL).is_some()
        {
            s.hashing = sql::Hashing::Md5;
        }
        for set in sql::SESSION_SETTINGS {
            let done = s.call(move |c| c.batch_execute(set));
            // An engine without the setting keeps its own text, as stable.
            if let Err(e) = done {
                if !s.is_alive() {
                    return Err(e);
                }
                tracing::debug!(setting = set, error = %e, "setting not applied");
            }
        }
        Ok(s)
    }

    /// How this server hashes rows (see [`sql::Hashing`]).
    pub fn hashing(&self) -> sql::Hashing {
        self.hashing
    }

    fn is_alive(&self) -> bool {
        self.client.is_some()
    }

    pub fn db(&self) -> &DatabaseSpec {
        &self.db
    }

    /// Runs `f` on the connection within the read timeout. A call that
    /// times out leaves the session without its connection.
    pub fn call<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Client) -> PgResult<T> + Send + 'static,
    ) -> Result<T> {
        let Some(client) = self.client.take() else {
            return Err(self.broken());
        };
        let done = crate::source::connection::within(self.limit, move || {
            let mut client = client;
            let r = f(&mut client);
            (client, r)
        });
        match done {
            None => Err(Error::Source {
                source_name: self.db.describe(),
                message: self.db.silent_mid_query(),
            }),
            Some((client, r)) => {
                self.client = Some(client);
                r.map_err(|e| query_error(&self.db, &e))
            }
        }
    }

    fn broken(&self) -> Error {
        Error::Source {
            source_name: self.db.describe(),
            message: self.db.silent_mid_query(),
        }
    }

    /// The sync's tables (created when missing) and its row, in one
    /// writable transaction.
    pub fn ensure_tables(&mut self, t: &Tables, layout: &sql::Layout) -> Result<()> {
        let statements = sql::create_tables(t, layout);
        self.call(move |c| {
            let mut tx = c.build_transaction().read_only(false).start()?;
            for s in &statements {
                tx.batch_execute(s)?;
            }
            tx.commit()
        })
        .map_err(|e| self.state_error(e, t))
    }

    /// Names the missing right when a statement on the state schema fails.
    pub fn state_error(&self, e: Error, t: &Tables) -> Error {
        match e {
            Error::Source {
                source_name,
                message,
            } if message.contains("permission denied") => Error::Source {
                source_name,
                message: format!(
                    "{message}; Dropsync writes its snapshot in [source] state_schema {schema}: as an administrator run `GRANT USAGE, CREATE ON SCHEMA {schema} TO {user};` (or `dropsync check` for what is missing)",
                    schema = t.schema,
                    user = sql::quote(&self.db.user),
                ),
            },
            e => e,
        }
    }

    /// The sync's row, or `None` (no row, or no table yet).
    pub fn sync_row(&mut self, t: &Tables, sync_id: &str) -> Result<Option<SyncRow>> {
        let q = format!(
            "SELECT owner, generation, pending, keys, canon FROM {} WHERE sync_id = $1",
            t.syncs
        );
        let id = sync_id.to_string();
        let r = self.call(move |c| {
            // A read that may find no table: in its own transaction, so the
            // failure ends nothing else.
            let mut tx = c.build_transaction().read_only(true).start()?;
            match tx.query_opt(&q, &[&id]) {
                Ok(row) => Ok(Some(row)),
                Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        Ok(r.flatten().map(|row| SyncRow {
            owner: row.get(0),
            generation: row.get(1),
            pending: row.get(2),
            keys: row.get(3),
            canon: row.get(4),
        }))
    }

    /// Runs statements in one writable transaction.
    pub fn write(&mut self, t: &Tables, statements: Vec<(String, Vec<Param>)>) -> Result<()> {
        self.call(move |c| {
            let mut tx = c.build_transaction().read_only(false).start()?;
            for (s, params) in &statements {
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
                tx.execute(s.as_str(), &refs)?;
            }
            tx.commit()
        })
        .map_err(|e| self.state_error(e, t))
    }

    /// The model's row count and the changed rows, from one consistent
    /// read of the database. `on_rows` gets them in batches as they arrive.
    /// `walk_sql`: the diff written to walk both sides in key order, which
    /// runs instead when the planner can (see [`super::join_plan`]).
    pub fn diff(
        &mut self,
        count_sql: String,
        diff_sql: String,
        walk_sql: Option<String>,
        keys: usize,
        on_rows: &mut dyn FnMut(Vec<DiffRow>) -> Result<()>,
    ) -> Result<u64> {
        let Some(client) = self.client.take() else {
            return Err(self.broken());
        };
        enum Msg {
            Rows(Vec<DiffRow>),
            Done(Box<Client>, Result<u64>),
        }
        let (tx, rx) = crossbeam_channel::bounded::<Msg>(4);
        let db = self.db.clone();
        let hashing = self.hashing;
        std::thread::Builder::new()
            .name("dropsync-pushdown".into())
            .spawn(move || {
                let mut client = client;
                let q = Query {
                    count: &count_sql,
                    diff: &diff_sql,
                    walk: walk_sql.as_deref(),
                    keys,
                    hashing,
                };
                let r = read_diff(&mut client, &db, &q, &tx);
                let _ = tx.send(Msg::Done(Box::new(client), r));
            })
            .map_err(|e| Error::io("cannot start the database's thread", e))?;
        loop {
            match rx.recv_timeout(self.limit) {
                Ok(Msg::Rows(rows)) => on_rows(rows)?,
                Ok(Msg::Done(client, r)) => {
                    self.client = Some(*client);
                    return r;
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => return Err(self.broken()),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Internal(
                        "the database's thread ended without an answer".into(),
                    ))
                }
            }
        }

        struct Query<'a> {
            count: &'a str,
            diff: &'a str,
            walk: Option<&'a str>,
            keys: usize,
            hashing: sql::Hashing,
        }

        fn read_diff(
            client: &mut Client,
            db: &DatabaseSpec,
            q: &Query<'_>,
            out: &crossbeam_channel::Sender<Msg>,
        ) -> Result<u64> {
            let Query {
                count: count_sql,
                mut diff,
                walk,
                keys,
                hashing,
            } = *q;
            let qe = |e: postgres::Error| query_error(db, &e);
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(qe)?;
            if hashing == sql::Hashing::Record {
                // The join's hash table of the snapshot in memory rather
                // than in batches on disk, for this transaction only.
                tx.batch_execute(sql::DIFF_WORK_MEM).map_err(qe)?;
            }
            if let Some(walk_sql) = walk {
                tx.batch_execute(sql::NO_HASH_JOINS).map_err(qe)?;
                let walk = Session::walks_in_key_order(&mut tx, walk_sql).map_err(qe)?;
                match &walk {
                    Ok(()) => {
                        tracing::debug!(join = "merge join in key order", "in-database diff join")
                    }
                    Err(why) => {
                        tracing::debug!(join = "the planner's own", why = %why, "in-database diff join")
                    }
                }
                let walk = walk.is_ok();
                if walk {
                    diff = walk_sql;
                } else {
                    tx.batch_execute(sql::HASH_JOINS_BACK).map_err(qe)?;
                }
            }
            let n: i64 = tx
                .query_one(count_sql, &[])
                .and_then(|r| r.try_get(0))
                .map_err(qe)?;
            let stmt = tx.prepare(diff).map_err(qe)?;
            let first_value = sql::DIFF_PREFIX + keys;
            let decoders: Vec<Decoder> = stmt.columns()[first_value..]
                .iter()
                .map(|c| {
                    Decoder::for_type(c.type_()).ok_or_else(|| Error::Query {
                        message: format!(
                            "{}: column {:?} has type {}, which Dropsync does not read; cast it in the query, e.g. {}::text",
                            db.describe(),
                            c.name(),
                            type_label(c.type_()),
                            sql::quote(c.name())
                        ),
                    })
                })
                .collect::<Result<_>>()?;
            let mut rows = tx.query_raw(&stmt, std::iter::empty::<i32>()).map_err(qe)?;
            let mut batch = Vec::with_capacity(1024);
            let mut buf = String::new();
            while let Some(row) = rows.next().map_err(qe)? {
                let kind = match row.try_get::<_, &str>(0).map_err(qe)? {
                    "a" => Kind::Added,
                    "c" => Kind::Changed,
                    _ => Kind::Removed,
                };
                let hash: Option<String> = row.try_get(1).map_err(qe)?;
                let rec: Option<Vec<u8>> = row.try_get(2).map_err(qe)?;
                let mut key_text = Vec::with_capacity(keys);
                for i in 0..keys {
                    key_text.push(row.try_get::<_, Option<String>>(3 + i).map_err(qe)?);
                }
                let mut values = Vec::new();
                if kind != Kind::Removed {
                    values.reserve(decoders.len());
                    for (i, d) in decoders.iter().enumerate() {
                        let Raw(raw) = row.try_get(first_value + i).map_err(qe)?;
                        values.push(match raw {
                            None => Value::Null,
                            Some(bytes) => d
                                .decode(bytes, &mut buf)
                                .map_err(|m| Error::Source {
                                    source_name: db.describe(),
                                    message: format!(
                                        "column {:?}: {m}; cast it to text in the query",
                                        stmt.columns()[first_value + i].name()
                                    ),
                                })?
                                .to_value(),
                        });
                    }
                }
                batch.push(DiffRow {
                    kind,
                    keys: key_text,
                    hash,
                    rec,
                    values,
                });
                if batch.len() == 1024 && out.send(Msg::Rows(std::mem::take(&mut batch))).is_err() {
                    // The run stopped listening (cancelled or failed).
                    return Ok(0);
                }
            }
            drop(rows);
            if !batch.is_empty() && out.send(Msg::Rows(batch)).is_err() {
                return Ok(0);
            }
            tx.commit().map_err(qe)?;
            Ok(n as u64)
        }
    }

    /// Whether the diff planned without hash joins walks both sides in key
    /// order (see [`super::join_plan`]); if not, why not.
    fn walks_in_key_order(
        tx: &mut postgres::Transaction<'_>,
        walk_sql: &str,
    ) -> PgResult<std::result::Result<(), String>> {
        use super::join_plan::{walked_indexes, IN_ORDER};
        let plan = tx
            .simple_query(&format!("EXPLAIN (FORMAT JSON, VERBOSE) {walk_sql}"))?
            .into_iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .unwrap_or_default();
        let Some(indexes) = walked_indexes(&plan) else {
            return Ok(Err(
                "the model is not one table read through its key's index".into(),
            ));
        };
        for index in indexes {
            let order: Option<f32> = tx.query_one(sql::INDEX_ORDER, &[&index.0])?.try_get(0)?;
            match order {
                Some(o) if o >= IN_ORDER => {}
                Some(o) => {
                    return Ok(Err(format!(
                        "the rows of {} are not stored in its order (correlation {o:.2})",
                        index.0
                    )))
                }
                None => return Ok(Err(format!("{} has no statistics yet (ANALYZE)", index.0))),
            }
        }
        Ok(Ok(()))
    }

    /// The first keys that appear more than once in the model, and how
    /// many do: only asked when the counts show duplicates.
    pub fn duplicate_keys(
        &mut self,
        model_sql: &str,
        key: &[String],
    ) -> Result<(u64, Vec<String>)> {
        let q = sql::duplicate_keys(model_sql, key);
        let n = key.len();
        self.call(move |c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let rows = tx.query(&q, &[])?;
            let mut total = 0u64;
            let mut keys = Vec::new();
            for r in &rows {
                let mut parts = Vec::new();
                for i in 0..n {
                    let v: Option<String> = r.try_get(i)?;
                    parts.push(v.unwrap_or_else(|| "NULL".into()));
                }
                total = r.try_get::<_, i64>(n)? as u64;
                keys.push(if n == 1 {
                    parts.remove(0)
                } else {
                    format!("({})", parts.join(", "))
                });
            }
            tx.commit()?;
            Ok((total, keys))
        })
    }

    /// Writes the spooled delta as generation `g` and marks it pending, in
    /// one transaction. `Ok(false)`: two rows of the delta share a key.
    pub fn write_next(&mut self, n: &NextGeneration<'_>, hashing: sql::Hashing) -> Result<bool> {
        let t = n.tables;
        let begin = format!("BEGIN READ WRITE; TRUNCATE {};", t.next);
        self.call(move |c| c.batch_execute(&begin))
            .map_err(|e| self.state_error(e, t))?;
        let result = match hashing {
            // PostgreSQL itself: COPY, an order of magnitude faster than
            // INSERTs for a first run's whole model.
            sql::Hashing::Record => self.copy_delta(n),
            sql::Hashing::Md5 => self.insert_delta(n, hashing),
        };
        let end = if matches!(result, Ok(true)) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = if self.is_alive() {
            self.call(move |c| c.batch_execute(end))
        } else {
            Ok(())
        };
        let written = result.map_err(|e| self.state_error(e, t))?;
        ended.map_err(|e| self.state_error(e, t))?;
        Ok(written)
    }

    /// The delta through `COPY ... FROM STDIN (FORMAT binary)`, in one
    /// statement on the helper thread (which reads the spool itself).
    fn copy_delta(&mut self, n: &NextGeneration<'_>) -> Result<bool> {
        let (t, g, keys) = (n.tables, n.generation, n.keys);
        use postgres::binary_copy::BinaryCopyInWriter;
        use postgres::types::Type;
        let copy = sql::copy_next(t, keys);
        let path = n.spool.to_path_buf();
        let copied = self.call(move |c| {
            let mut types = vec![Type::INT8, Type::BPCHAR];
            types.extend(std::iter::repeat_n(Type::VARCHAR, keys));
            types.extend([Type::INT8, Type::BYTEA]);
            let sink = match c.copy_in(copy.as_str()) {
                Ok(sink) => sink,
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Ok(Ok(false)),
                Err(e) => return Err(e),
            };
            let mut w = BinaryCopyInWriter::new(sink, &types);
            let mut reader = match super::spool::Reader::open(&path) {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            };
            loop {
                let entry = match reader.next() {
                    Ok(Some(e)) => e,
                    Ok(None) => break,
                    Err(e) => return Ok(Err(e)),
                };
                let op = entry.op.to_string();
                let hash: Option<i64> = entry.hash.parse().ok();
                let mut row: Vec<&(dyn ToSql + Sync)> = vec![&g, &op];
                for k in &entry.keys {
                    row.push(k);
                }
                row.push(&hash);
                row.push(&entry.rec);
                w.write(&row)?;
            }
            match w.finish() {
                Ok(_) => Ok(Ok(true)),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(Ok(false)),
                Err(e) => Err(e),
            }
        });
        if !copied?? {
            return Ok(false);
        }
        self.mark_pending(n)?;
        Ok(true)
    }

    fn mark_pending(&mut self, n: &NextGeneration<'_>) -> Result<()> {
        let mark = format!(
            "UPDATE {} SET pending = $1, updated_at = now() WHERE sync_id = $2",
            n.tables.syncs
        );
        let (id, g) = (n.sync_id.to_string(), n.generation);
        self.call(move |c| c.execute(mark.as_str(), &[&g, &id]))?;
        Ok(())
    }

    fn insert_delta(&mut self, n: &NextGeneration<'_>, hashing: sql::Hashing) -> Result<bool> {
        let (t, g, keys) = (n.tables, n.generation, n.keys);
        let mut reader = super::spool::Reader::open(n.spool)?;
        // PostgreSQL binds at most 65535 parameters per statement.
        let per_batch = (60_000 / (keys + 4)).min(1000);
        let full = sql::insert_next(t, keys, per_batch, hashing);
        loop {
            let mut params: Vec<Param> = Vec::with_capacity(per_batch * (keys + 4));
            let mut rows = 0;
            while rows < per_batch {
                let Some(entry) = reader.next()? else { break };
                params.push(Param::Int(g));
                params.push(Param::Text(Some(entry.op.to_string())));
                for k in entry.keys {
                    params.push(Param::Text(Some(k)));
                }
                params.push(Param::Text(Some(entry.hash)));
                params.push(Param::Bytes(entry.rec));
                rows += 1;
            }
            if rows == 0 {
                break;
            }
            let statement = if rows == per_batch {
                full.clone()
            } else {
                sql::insert_next(t, keys, rows, hashing)
            };
            let inserted = self.call(move |c| {
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
                match c.execute(statement.as_str(), &refs) {
                    Ok(_) => Ok(true),
                    Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(false),
                    Err(e) => Err(e),
                }
            })?;
            if !inserted {
                return Ok(false);
            }
        }
        self.mark_pending(n)?;
        Ok(true)
    }
}

/// Generation `generation` of a sync, spooled, to be written to `_next`.
pub struct NextGeneration<'a> {
    pub tables: &'a Tables,
    pub sync_id: &'a str,
    pub generation: i64,
    pub spool: &'a Path,
    pub keys: usize,
}

impl Session {
    /// What stops this user from keeping the snapshot in the state schema,
    /// each problem with the statement that fixes it (empty: nothing).
    pub fn missing_rights(&mut self, t: &Tables, schema: &str) -> Result<Vec<String>> {
        let user = sql::quote(&self.db.user);
        let q_schema = t.schema.clone();
        let name = schema.to_string();
        let rights = self.call(move |c| {
            match c.query_one(
                "SELECT has_schema_privilege(current_user, $1, 'USAGE'), has_schema_privilege(current_user, $1, 'CREATE')",
                &[&name],
            ) {
                Ok(r) => Ok(Some((r.get::<_, bool>(0), r.get::<_, bool>(1)))),
                Err(e) if e.code() == Some(&SqlState::INVALID_SCHEMA_NAME) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        let Some((usage, create)) = rights else {
            return Ok(vec![format!(
                "[source] state_schema {q_schema} does not exist on the server (or user {user} may not see it); as an administrator run: CREATE SCHEMA {q_schema} AUTHORIZATION {user};"
            )]);
        };
        if !usage || !create {
            return Ok(vec![format!(
                "user {user} may not create tables in [source] state_schema {q_schema}; as an administrator run: GRANT USAGE, CREATE ON SCHEMA {q_schema} TO {user};"
            )]);
        }
        let mut problems = Vec::new();
        // Tables another role made (a sync moved between users).
        for table in [t.syncs.clone(), t.base.clone(), t.next.clone()] {
            let shown = table.clone();
            let ok = self.call(move |c| {
                match c.query_one(
                    "SELECT has_table_privilege(current_user, $1, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE')",
                    &[&table],
                ) {
                    Ok(r) => Ok(r.get::<_, bool>(0)),
                    Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(true),
                    Err(e) => Err(e),
                }
            })?;
            if !ok {
                problems.push(format!(
                    "user {user} may not read and write {shown}; as an administrator run: GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {q_schema} TO {user};"
                ));
                break;
            }
        }
        // Proof by doing, rolled back: a role may hold the rights and still
        // be refused (a read-only replica, default_transaction_read_only).
        let probe = format!(
            "{}.{}",
            t.schema,
            sql::quote(&format!("dropsync_check_{:08x}", std::process::id()))
        );
        let done = self.call(move |c| {
            let mut tx = c.build_transaction().read_only(false).start()?;
            let r = tx.batch_execute(&format!(
                "CREATE TABLE {probe} (k varchar NOT NULL PRIMARY KEY, v bytea); \
                 INSERT INTO {probe} (k, v) VALUES ('a', NULL); \
                 UPDATE {probe} SET v = NULL WHERE k = 'a'; \
                 DELETE FROM {probe} WHERE k = 'a';"
            ));
            let _ = tx.rollback();
            Ok(r.err().and_then(|e| {
                e.as_db_error()
                    .map(|d| (d.code().clone(), d.message().to_string()))
            }))
        })?;
        match done {
            None => {}
            Some((code, _)) if code == SqlState::READ_ONLY_SQL_TRANSACTION => problems.push(
                "the server accepts no writes (a read-only replica, or default_transaction_read_only); [source] state_schema needs a server that accepts writes: connect to the primary".into(),
            ),
            Some((code, message)) if code == SqlState::INSUFFICIENT_PRIVILEGE => problems.push(format!(
                "{message}; as an administrator run: GRANT USAGE, CREATE ON SCHEMA {} TO {user};",
                t.schema
            )),
            Some((_, message)) => problems.push(format!(
                "cannot create a table in [source] state_schema {}: {message}",
                t.schema
            )),
        }
        Ok(problems)
    }
}

/// An owned statement parameter (calls run on another thread).
#[derive(Debug, Clone)]
pub enum Param {
    Int(i64),
    Int4(i32),
    Text(Option<String>),
    Bytes(Vec<u8>),
}

impl Param {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Int(i) => i,
            Param::Int4(i) => i,
            Param::Text(t) => t,
            Param::Bytes(b) => b,
        }
    }
}
