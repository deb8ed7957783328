//! PostgreSQL source (and servers speaking its protocol): the model's query
//! runs in a read-only transaction through a portal, fetched in chunks, so
//! rows stream from the server and a stop after the first rows (`check`,
//! previews) does not wait for the rest of a large result.

use super::connection::{DatabaseSpec, TlsMode};
use super::postgres_types::{type_label, Decoder};
use super::{finish, hand_over_live, BatchSink, Column, RowBatch, Source};
use crate::error::{Error, Result};
use postgres::error::{ErrorPosition, SqlState};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Type};
use postgres::{Client, NoTls, Statement};

/// Rows of the first fetch: enough for a preview, small enough that
/// stopping after it costs nothing.
const FIRST_FETCH: i32 = 1_000;
/// Rows of each later fetch: a round trip per 100k rows is noise.
const NEXT_FETCH: i32 = 100_000;

pub struct PostgresSource {
    client: Client,
    statement: Statement,
    columns: Vec<Column>,
    decoders: Vec<Decoder>,
    db: DatabaseSpec,
}

/// A column's bytes as the server sent them; the decoders do the rest.
pub(crate) struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl PostgresSource {
    pub fn open(db: &DatabaseSpec, sql: &str) -> Result<Self> {
        if sql.trim().is_empty() {
            return Err(Error::Query {
                message: "there is no query; write one such as SELECT * FROM customers".into(),
            });
        }
        let client = connect(db)?;
        // Logged in, the server may still go silent: the run must not hang.
        let owned_sql = sql.to_string();
        let (client, prepared) = super::connection::within(db.read_timeout(), move || {
            let mut client = client;
            let prepared = client.prepare(&owned_sql);
            (client, prepared)
        })
        .ok_or_else(|| Error::Source {
            source_name: db.describe(),
            message: db.silent_mid_query(),
        })?;
        let statement = prepared.map_err(|e| query_error(db, &e))?;
        if statement.columns().is_empty() {
            return Err(Error::Query {
                message: format!(
                    "{}: the statement returns no columns; a model must be a SELECT",
                    db.describe()
                ),
            });
        }
        let mut columns = Vec::new();
        let mut decoders = Vec::new();
        for c in statement.columns() {
            let decoder = Decoder::for_type(c.type_()).ok_or_else(|| Error::Query {
                message: format!(
                    "{}: column {:?} has type {}, which Dropsync does not read; cast it in the query, e.g. {}::text",
                    db.describe(),
                    c.name(),
                    type_label(c.type_()),
                    quote_ident(c.name())
                ),
            })?;
            columns.push(Column {
                name: c.name().to_string(),
                declared_type: Some(type_label(c.type_())),
                primary_key: false,
            });
            decoders.push(decoder);
        }
        Ok(PostgresSource {
            client,
            statement,
            columns,
            decoders,
            db: db.clone(),
        })
    }
}

impl Source for PostgresSource {
    fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The sync client has no read timeout of its own: the run watches.
    fn silence_limit(&self) -> Option<(std::time::Duration, String)> {
        Some((self.db.read_timeout(), self.db.silent_mid_query()))
    }

    fn stream(&mut self, batch_size: usize, sink: &mut BatchSink<'_>) -> Result<()> {
        let db = &self.db;
        let qe = |e: postgres::Error| query_error(db, &e);
        let n = self.columns.len();
        // Read-only: a model that would write fails on the server, whatever
        // the statement looks like.
        let mut tx = self
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(qe)?;
        let portal = tx.bind(&self.statement, &[]).map_err(qe)?;
        let mut batch = RowBatch::new(n, batch_size);
        let mut buf = String::new();
        let mut fetch = FIRST_FETCH;
        let mut since = None;
        loop {
            let mut rows = tx.query_portal_raw(&portal, fetch).map_err(qe)?;
            let mut got = 0;
            while let Some(row) = rows.next().map_err(qe)? {
                got += 1;
                batch.begin_row();
                for (i, decoder) in self.decoders.iter().enumerate() {
                    let Raw(raw) = row.try_get(i).map_err(qe)?;
                    match raw {
                        None => batch.push_null(),
                        Some(bytes) => {
                            let v = decoder.decode(bytes, &mut buf).map_err(|m| Error::Source {
                                source_name: db.describe(),
                                message: format!(
                                    "column {:?}: {m}; cast it to text in the query",
                                    self.columns[i].name
                                ),
                            })?;
                            batch.push_ref(v);
                        }
                    }
                }
                batch.end_row();
                if !hand_over_live(&mut batch, &mut since, sink, n, batch_size)? {
                    // Dropping the transaction rolls it back once the
                    // current fetch has arrived.
                    return Ok(());
                }
            }
            if got < fetch {
                break;
            }
            fetch = NEXT_FETCH;
        }
        finish(batch, sink)?;
        tx.commit().map_err(qe)
    }
}

/// `"Name"` when a column name needs quoting to be written in SQL.
fn quote_ident(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A logged-in session, with the statement timeout set; the whole login
/// (TCP, TLS, authentication, setup) within `connect_timeout`.
pub(crate) fn connect(db: &DatabaseSpec) -> Result<Client> {
    let spec = db.clone();
    super::connection::within(db.connect_timeout, move || login(&spec)).unwrap_or_else(|| {
        Err(Error::Source {
            source_name: db.describe(),
            message: db.no_answer(),
        })
    })
}

fn login(db: &DatabaseSpec) -> Result<Client> {
    let source_err = |message: String| Error::Source {
        source_name: db.describe(),
        message,
    };
    let password = db.password().map_err(source_err)?;
    let mut cfg = postgres::Config::new();
    cfg.host(&db.host)
        .port(db.port)
        .user(&db.user)
        .dbname(&db.database)
        .application_name("dropsync")
        .connect_timeout(db.connect_timeout)
        // A vanished host or route is noticed even while a query runs.
        .keepalives(true)
        .keepalives_idle(super::connection::KEEPALIVE_IDLE)
        .keepalives_interval(super::connection::KEEPALIVE_INTERVAL)
        .keepalives_retries(super::connection::KEEPALIVE_RETRIES)
        .tcp_user_timeout(super::connection::TCP_USER_TIMEOUT)
        .ssl_mode(match db.tls {
            TlsMode::Disable => postgres::config::SslMode::Disable,
            TlsMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        });
    if let Some(p) = &password {
        cfg.password(p);
    }
    tracing::debug!(source = %db.describe(), tls = ?db.tls, "connecting");
    let connected = if db.tls == TlsMode::Disable {
        cfg.connect(NoTls)
    } else {
        let tls = super::postgres_tls::client_config(db.tls, db.ca_file.as_deref())
            .map_err(source_err)?;
        cfg.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
    };
    let mut client = connected.map_err(|e| connect_error(db, &e, password.is_some()))?;
    if let Some(t) = db.statement_timeout {
        client
            .batch_execute(&format!("SET statement_timeout = {}", t.as_millis()))
            .map_err(|e| connect_error(db, &e, true))?;
    }
    Ok(client)
}

/// The error and everything it was caused by, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    text
}

fn connect_error(db: &DatabaseSpec, e: &postgres::Error, had_password: bool) -> Error {
    let message = if let Some(d) = e.as_db_error() {
        match d.code() {
            c if *c == SqlState::INVALID_PASSWORD => format!(
                "the server refused the password for user {:?}; check [source] password (or the password in the url)",
                db.user
            ),
            c if *c == SqlState::INVALID_CATALOG_NAME => format!(
                "database {:?} does not exist on the server; check the database name in [source] url",
                db.database
            ),
            c if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => format!(
                "the server refused user {:?} ({}); check the user in [source] url, and that the server lets it connect (pg_hba.conf)",
                db.user,
                d.message()
            ),
            c if *c == SqlState::TOO_MANY_CONNECTIONS => format!(
                "the server has no free connection ({}); try again later or raise its max_connections",
                d.message()
            ),
            _ => format!("the server refused the connection: {}", d.message()),
        }
    } else {
        let text = chain(e);
        let lower = text.to_ascii_lowercase();
        if lower.contains("password missing") && !had_password {
            "the server asks for a password and none is set; set [source] password = \"env:NAME\" (or \"keyring\")".into()
        } else if lower.contains("timeout") || lower.contains("timed out") {
            format!(
                "no answer from {}:{} within {}s; check the host and port in [source] url and that no firewall drops the connection (or raise [source] connect_timeout)",
                db.host,
                db.port,
                db.connect_timeout.as_secs()
            )
        } else if lower.contains("tls") || lower.contains("certificate") || lower.contains("ssl") {
            format!(
                "TLS failed ({text}); check sslmode and sslrootcert in [source] url (sslmode=verify-full needs a certificate naming {:?}, trusted by sslrootcert)",
                db.host
            )
        } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
            format!(
                "cannot find host {:?} ({text}); check the host in [source] url",
                db.host
            )
        } else {
            format!(
                "cannot reach the server at {}:{} ({text}); check the host and port in [source] url and that the server is running",
                db.host, db.port
            )
        }
    };
    Error::Source {
        source_name: db.describe(),
        message,
    }
}

pub(crate) fn query_error(db: &DatabaseSpec, e: &postgres::Error) -> Error {
    let Some(d) = e.as_db_error() else {
        let text = chain(e);
        let lower = text.to_ascii_lowercase();
        // A server process that died takes the socket with it: with TLS,
        // rustls reports the missing close_notify (with a link to its docs).
        let message = if e.is_closed()
            || lower.contains("close_notify")
            || lower.contains("unexpected eof")
            || lower.contains("connection reset")
        {
            "the server closed the connection while the query ran (it crashed, restarted or ended the session); check that the server is up and run again".to_string()
        } else {
            format!("the connection to the server broke ({text}); check that the server is up and run again")
        };
        return Error::Source {
            source_name: db.describe(),
            message,
        };
    };
    let at = match d.position() {
        Some(ErrorPosition::Original(p)) => format!(" (at character {p})"),
        _ => String::new(),
    };
    let code = d.code();
    if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        return Error::Source {
            source_name: db.describe(),
            message: format!(
                "{}; grant user {:?} SELECT on it, or connect as a user who may read it",
                d.message(),
                db.user
            ),
        };
    }
    if *code == SqlState::QUERY_CANCELED {
        return Error::Source {
            source_name: db.describe(),
            message: format!(
                "the server cancelled the query ({}); if it ran past [source] statement_timeout, raise it or make the query faster",
                d.message()
            ),
        };
    }
    let hint = if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        "; a model must only read (SELECT ...)"
    } else if *code == SqlState::UNDEFINED_TABLE {
        "; check the table's name and schema"
    } else if *code == SqlState::UNDEFINED_COLUMN {
        "; check the column names"
    } else {
        ""
    };
    Error::Query {
        message: format!("{}: {}{at}{hint}", db.describe(), d.message()),
    }
}

/// Connects and says what the server holds: its version, and the tables
/// and views a model could read (`schema.name`, or just `name` in public).
pub fn inspect(db: &DatabaseSpec) -> Result<(String, Vec<String>)> {
    let mut client = connect(db)?;
    let qe = |e: postgres::Error| query_error(db, &e);
    let version: String = client
        .query_one("SELECT version()", &[])
        .and_then(|r| r.try_get(0))
        .map_err(qe)?;
    let rows = client
        .query(
            "SELECT table_schema::text, table_name::text FROM information_schema.tables \
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'crdb_internal', 'pg_extension') \
             ORDER BY 1, 2",
            &[],
        )
        .map_err(qe)?;
    let tables: Vec<String> = rows
        .iter()
        .map(|r| {
            let schema: String = r.get(0);
            let name: String = r.get(1);
            if schema == "public" {
                name
            } else {
                format!("{schema}.{name}")
            }
        })
        .collect();
    // "PostgreSQL 15.8 (Debian ...) on x86_64 ..." -> "PostgreSQL 15.8".
    let server: String = version
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let message = match tables.len() {
        1 => format!("{server}, 1 table or view"),
        n => format!("{server}, {n} tables and views"),
    };
    Ok((message, tables))
}
