//! MySQL / MariaDB source: the model's query is prepared (so its columns are
//! known before a row is read) and executed in a read-only transaction; the
//! binary-protocol result is read row by row from the socket (unbuffered),
//! so a large model never sits in memory.

use super::connection::{DatabaseSpec, TlsMode};
use super::{finish, hand_over_live, BatchSink, Column, RowBatch, Source};
use crate::error::{Error, Result};
use crate::value::ValueRef;
use mysql::consts::{ColumnFlags, ColumnType};
use mysql::prelude::Queryable;
use mysql::{AccessMode, Conn, Opts, OptsBuilder, SslOpts, Statement, TxOpts, Value};
use std::fmt::Write as _;

pub struct MysqlSource {
    conn: Conn,
    opts: Opts,
    statement: Statement,
    columns: Vec<Column>,
    decoders: Vec<Decoder>,
    db: DatabaseSpec,
}

/// How a column's values become Dropsync values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Decoder {
    /// `TINYINT(1)`, MySQL's BOOLEAN.
    Bool,
    Int,
    /// `BIT(n)`: big-endian bits, as an integer (`BIT(1)` as a boolean).
    Bit,
    Decimal,
    Float,
    Double,
    Date,
    DateTime,
    /// TIMESTAMP is stored in UTC; the session's time zone is UTC, so it
    /// is written with a `Z`.
    Timestamp,
    Time,
    Json,
    Text,
    Bytes,
}

/// MySQL's binary character set: BLOB / BINARY / VARBINARY rather than text.
const BINARY_CHARSET: u16 = 63;

fn decoder(c: &mysql::Column) -> (Decoder, String) {
    let flags = c.flags();
    let unsigned = if flags.contains(ColumnFlags::UNSIGNED_FLAG) {
        " unsigned"
    } else {
        ""
    };
    let binary = c.character_set() == BINARY_CHARSET;
    let (d, label) = match c.column_type() {
        ColumnType::MYSQL_TYPE_TINY if c.column_length() == 1 => {
            (Decoder::Bool, "tinyint(1)".into())
        }
        ColumnType::MYSQL_TYPE_TINY => (Decoder::Int, format!("tinyint{unsigned}")),
        ColumnType::MYSQL_TYPE_SHORT => (Decoder::Int, format!("smallint{unsigned}")),
        ColumnType::MYSQL_TYPE_INT24 => (Decoder::Int, format!("mediumint{unsigned}")),
        ColumnType::MYSQL_TYPE_LONG => (Decoder::Int, format!("int{unsigned}")),
        ColumnType::MYSQL_TYPE_LONGLONG => (Decoder::Int, format!("bigint{unsigned}")),
        ColumnType::MYSQL_TYPE_YEAR => (Decoder::Int, "year".into()),
        ColumnType::MYSQL_TYPE_BIT if c.column_length() == 1 => (Decoder::Bool, "bit(1)".into()),
        ColumnType::MYSQL_TYPE_BIT => (Decoder::Bit, "bit".into()),
        ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => {
            (Decoder::Decimal, "decimal".into())
        }
        ColumnType::MYSQL_TYPE_FLOAT => (Decoder::Float, "float".into()),
        ColumnType::MYSQL_TYPE_DOUBLE => (Decoder::Double, "double".into()),
        ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => {
            (Decoder::Date, "date".into())
        }
        ColumnType::MYSQL_TYPE_DATETIME | ColumnType::MYSQL_TYPE_DATETIME2 => {
            (Decoder::DateTime, "datetime".into())
        }
        ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
            (Decoder::Timestamp, "timestamp".into())
        }
        ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => {
            (Decoder::Time, "time".into())
        }
        ColumnType::MYSQL_TYPE_JSON => (Decoder::Json, "json".into()),
        ColumnType::MYSQL_TYPE_GEOMETRY => (Decoder::Bytes, "geometry".into()),
        _ if flags.contains(ColumnFlags::ENUM_FLAG) => (Decoder::Text, "enum".into()),
        _ if flags.contains(ColumnFlags::SET_FLAG) => (Decoder::Text, "set".into()),
        ColumnType::MYSQL_TYPE_TINY_BLOB
        | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
        | ColumnType::MYSQL_TYPE_LONG_BLOB
        | ColumnType::MYSQL_TYPE_BLOB => {
            if binary {
                (Decoder::Bytes, "blob".into())
            } else {
                (Decoder::Text, "text".into())
            }
        }
        ColumnType::MYSQL_TYPE_STRING => {
            if binary {
                (Decoder::Bytes, "binary".into())
            } else {
                (Decoder::Text, "char".into())
            }
        }
        _ => {
            if binary {
                (Decoder::Bytes, "varbinary".into())
            } else {
                (Decoder::Text, "varchar".into())
            }
        }
    };
    (d, label)
}

impl MysqlSource {
    pub fn open(db: &DatabaseSpec, sql: &str) -> Result<Self> {
        if sql.trim().is_empty() {
            return Err(Error::Query {
                message: "there is no query; write one such as SELECT * FROM customers".into(),
            });
        }
        let (mut conn, opts) = connect(db)?;
        let statement = conn.prep(sql).map_err(|e| query_error(db, &e))?;
        if statement.columns().is_empty() {
            return Err(Error::Query {
                message: format!(
                    "{}: the statement returns no columns; a model must be a SELECT",
                    db.describe()
                ),
            });
        }
        let json_columns = mariadb_json_columns(&mut conn, &statement);
        let mut columns = Vec::new();
        let mut decoders = Vec::new();
        for c in statement.columns().iter() {
            let (mut d, mut label) = decoder(c);
            let origin = (
                c.schema_str().into_owned(),
                c.org_table_str().into_owned(),
                c.org_name_str().into_owned(),
            );
            if d == Decoder::Text && json_columns.contains(&origin) {
                (d, label) = (Decoder::Json, "json".into());
            }
            columns.push(Column {
                name: c.name_str().into_owned(),
                declared_type: Some(label),
                primary_key: c.flags().contains(mysql::consts::ColumnFlags::PRI_KEY_FLAG),
            });
            decoders.push(d);
        }
        Ok(MysqlSource {
            conn,
            opts,
            statement,
            columns,
            decoders,
            db: db.clone(),
        })
    }
}

impl Source for MysqlSource {
    fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn silence_limit(&self) -> Option<(std::time::Duration, String)> {
        Some((self.db.read_timeout(), self.db.silent_mid_query()))
    }

    fn stream(&mut self, batch_size: usize, sink: &mut BatchSink<'_>) -> Result<()> {
        let db = &self.db;
        let qe = |e: mysql::Error| query_error(db, &e);
        let n = self.columns.len();
        let id = self.conn.connection_id();
        let mut tx = self
            .conn
            .start_transaction(TxOpts::default().set_access_mode(Some(AccessMode::ReadOnly)))
            .map_err(qe)?;
        let mut result = tx.exec_iter(&self.statement, ()).map_err(qe)?;
        let mut batch = RowBatch::new(n, batch_size);
        let mut buf = String::new();
        let mut stopped = false;
        let mut since = None;
        if let Some(rows) = result.iter() {
            for row in rows {
                let row = row.map_err(qe)?;
                batch.begin_row();
                for (i, d) in self.decoders.iter().enumerate() {
                    match row.as_ref(i) {
                        None | Some(Value::NULL) => batch.push_null(),
                        Some(v) => batch.push_ref(decode(*d, v, &mut buf)),
                    }
                }
                batch.end_row();
                if !hand_over_live(&mut batch, &mut since, sink, n, batch_size)? {
                    stopped = true;
                    break;
                }
            }
        }
        if stopped {
            // Dropping an unfinished result reads it to the end; stop the
            // server from sending the rest instead.
            kill_query(&self.opts, id);
            drop(result);
            return Ok(());
        }
        drop(result);
        finish(batch, sink)?;
        tx.commit().map_err(qe)
    }
}

/// MariaDB's JSON is LONGTEXT with a `json_valid(column)` check, and its
/// result metadata says only "text"; the checks on the tables the query
/// reads tell which of its columns hold JSON: (schema, table, column).
/// MySQL has a real JSON type, and no such table column, so this finds
/// nothing there.
fn mariadb_json_columns(conn: &mut Conn, statement: &Statement) -> Vec<(String, String, String)> {
    let tables: Vec<(String, String)> = statement
        .columns()
        .iter()
        .filter(|c| decoder(c).0 == Decoder::Text && !c.org_table_str().is_empty())
        .map(|c| (c.schema_str().into_owned(), c.org_table_str().into_owned()))
        .collect();
    if tables.is_empty() {
        return Vec::new();
    }
    let checks: Vec<(String, String, String)> = match conn.query(
        "SELECT CAST(constraint_schema AS CHAR), CAST(table_name AS CHAR), CAST(check_clause AS CHAR) \
         FROM information_schema.check_constraints WHERE check_clause LIKE 'json_valid(%'",
    ) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::debug!(error = %e, "no JSON column checks to read (not MariaDB?)");
            return Vec::new();
        }
    };
    checks
        .into_iter()
        .filter(|(schema, table, _)| tables.contains(&(schema.clone(), table.clone())))
        .filter_map(|(schema, table, clause)| {
            // json_valid(`column`)
            let column = clause
                .strip_prefix("json_valid(`")?
                .strip_suffix("`)")?
                .replace("``", "`");
            Some((schema, table, column))
        })
        .collect()
}

/// Asks the server, on a second connection, to stop the running query.
fn kill_query(opts: &Opts, id: u32) {
    let killed = Conn::new(opts.clone()).and_then(|mut c| c.query_drop(format!("KILL QUERY {id}")));
    if let Err(e) = killed {
        tracing::debug!(error = %e, "could not stop the query early; reading it to the end");
    }
}

fn decode<'a>(d: Decoder, v: &'a Value, buf: &'a mut String) -> ValueRef<'a> {
    buf.clear();
    match (d, v) {
        (_, Value::NULL) => ValueRef::Null,
        (Decoder::Bool, Value::Int(i)) => ValueRef::Bool(*i != 0),
        (Decoder::Bool, Value::UInt(i)) => ValueRef::Bool(*i != 0),
        (Decoder::Bool | Decoder::Bit, Value::Bytes(b)) => {
            let n = b.iter().fold(0u64, |n, byte| n << 8 | u64::from(*byte));
            if d == Decoder::Bool {
                ValueRef::Bool(n != 0)
            } else {
                unsigned(n, buf)
            }
        }
        (_, Value::Int(i)) => ValueRef::Int(*i),
        (_, Value::UInt(u)) => unsigned(*u, buf),
        // Through its shortest decimal form, so a FLOAT 0.1 stays 0.1.
        (_, Value::Float(f)) => ValueRef::Float(if f.is_finite() {
            f.to_string().parse().unwrap_or(*f as f64)
        } else {
            *f as f64
        }),
        (_, Value::Double(f)) => ValueRef::Float(*f),
        (_, Value::Date(y, mo, day, h, mi, s, us)) => {
            let _ = write!(buf, "{y:04}-{mo:02}-{day:02}");
            if d != Decoder::Date {
                let _ = write!(buf, "T{h:02}:{mi:02}:{s:02}");
                fraction(*us, buf);
                if d == Decoder::Timestamp {
                    buf.push('Z');
                }
            }
            ValueRef::Text(buf)
        }
        (_, Value::Time(neg, days, h, mi, s, us)) => {
            if *neg {
                buf.push('-');
            }
            let hours = *days as u64 * 24 + *h as u64;
            let _ = write!(buf, "{hours:02}:{mi:02}:{s:02}");
            fraction(*us, buf);
            ValueRef::Text(buf)
        }
        (Decoder::Bytes, Value::Bytes(b)) => ValueRef::Bytes(b),
        (Decoder::Decimal, Value::Bytes(b)) => ValueRef::Decimal(text(b, buf)),
        (Decoder::Json, Value::Bytes(b)) => ValueRef::Json(text(b, buf)),
        (Decoder::Float | Decoder::Double, Value::Bytes(b)) => match text(b, buf).parse::<f64>() {
            Ok(f) => ValueRef::Float(f),
            Err(_) => ValueRef::Text(text(b, buf)),
        },
        (Decoder::Int, Value::Bytes(b)) => match text(b, buf).parse::<i64>() {
            Ok(i) => ValueRef::Int(i),
            Err(_) => ValueRef::Decimal(text(b, buf)),
        },
        (_, Value::Bytes(b)) => ValueRef::Text(text(b, buf)),
    }
}

/// An unsigned integer past `i64::MAX` stays exact as a decimal.
fn unsigned(u: u64, buf: &mut String) -> ValueRef<'_> {
    match i64::try_from(u) {
        Ok(i) => ValueRef::Int(i),
        Err(_) => {
            let _ = write!(buf, "{u}");
            ValueRef::Decimal(buf)
        }
    }
}

fn fraction(micros: u32, out: &mut String) {
    if micros > 0 {
        let s = format!("{micros:06}");
        out.push('.');
        out.push_str(s.trim_end_matches('0'));
    }
}

fn text<'a>(raw: &'a [u8], buf: &'a mut String) -> &'a str {
    match std::str::from_utf8(raw) {
        Ok(s) => s,
        Err(_) => {
            buf.clear();
            buf.push_str(&String::from_utf8_lossy(raw));
            buf
        }
    }
}

/// A logged-in session, set up; the whole login (TCP, TLS, authentication,
/// setup) within `connect_timeout`.
fn connect(db: &DatabaseSpec) -> Result<(Conn, Opts)> {
    let spec = db.clone();
    super::connection::within(db.connect_timeout, move || login(&spec)).unwrap_or_else(|| {
        Err(Error::Source {
            source_name: db.describe(),
            message: db.no_answer(),
        })
    })
}

fn login(db: &DatabaseSpec) -> Result<(Conn, Opts)> {
    let source_err = |message: String| Error::Source {
        source_name: db.describe(),
        message,
    };
    let password = db.password().map_err(source_err)?;
    // MySQL clients have no "TLS if offered": prefer means plain, as the
    // server's certificate would not be checked anyway.
    let ssl = match db.tls {
        TlsMode::Disable | TlsMode::Prefer => None,
        TlsMode::Require => Some(
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        TlsMode::VerifyCa | TlsMode::VerifyFull => {
            // The only trust anchors: sslrootcert, else the system's CA
            // bundle (the vendored client trusts the web roots only with
            // neither; see vendor/mysql/DROPSYNC-PATCH.md).
            let roots = db
                .ca_file
                .clone()
                .or_else(super::postgres_tls::system_roots);
            tracing::debug!(trusts = %super::postgres_tls::trusted_roots(db.ca_file.as_deref()), "TLS certificate checks");
            Some(
                SslOpts::default()
                    .with_danger_skip_domain_validation(db.tls == TlsMode::VerifyCa)
                    .with_root_cert_path(roots),
            )
        }
    };
    let opts: Opts = OptsBuilder::new()
        .ip_or_hostname(Some(db.host.clone()))
        .tcp_port(db.port)
        .user(Some(db.user.clone()))
        .pass(password.clone())
        .db_name(Some(db.database.clone()))
        .tcp_connect_timeout(Some(db.connect_timeout))
        // A server that stops answering mid-query fails the run.
        .read_timeout(Some(db.read_timeout()))
        .write_timeout(Some(db.read_timeout()))
        .tcp_keepalive_time_ms(Some(super::connection::KEEPALIVE_IDLE.as_millis() as u32))
        .tcp_keepalive_probe_interval_secs(Some(
            super::connection::KEEPALIVE_INTERVAL.as_secs() as u32
        ))
        .tcp_keepalive_probe_count(Some(super::connection::KEEPALIVE_RETRIES))
        .tcp_user_timeout_ms(Some(super::connection::TCP_USER_TIMEOUT.as_millis() as u32))
        .prefer_socket(false)
        .ssl_opts(ssl)
        .into();
    tracing::debug!(source = %db.describe(), tls = ?db.tls, "connecting");
    let mut conn =
        Conn::new(opts.clone()).map_err(|e| connect_error(db, &e, password.is_some()))?;
    // TIMESTAMP values are stored in UTC and shown in the session's zone:
    // make that UTC so they are written with a `Z`.
    let mut setup = vec!["SET time_zone = '+00:00'".to_string()];
    if let Some(t) = db.statement_timeout {
        let version: String = conn
            .query_first("SELECT VERSION()")
            .map_err(|e| query_error(db, &e))?
            .unwrap_or_default();
        setup.push(if version.contains("MariaDB") {
            format!("SET SESSION max_statement_time = {}", t.as_secs_f64())
        } else {
            format!("SET SESSION max_execution_time = {}", t.as_millis())
        });
    }
    for s in setup {
        conn.query_drop(&s).map_err(|e| query_error(db, &e))?;
    }
    Ok((conn, opts))
}

fn connect_error(db: &DatabaseSpec, e: &mysql::Error, had_password: bool) -> Error {
    use mysql::DriverError;
    let message = match e {
        mysql::Error::MySqlError(m) => match m.code {
            1045 if !had_password => format!(
                "the server refused user {:?} without a password ({}); set [source] password = \"env:NAME\" (or \"keyring\")",
                db.user, m.message
            ),
            1045 => format!(
                "the server refused the password for user {:?}; check [source] password (or the password in the url)",
                db.user
            ),
            1049 => format!(
                "database {:?} does not exist on the server; check the database name in [source] url",
                db.database
            ),
            1044 => format!(
                "user {:?} may not use database {:?} ({}); grant it access, or check [source] url",
                db.user, db.database, m.message
            ),
            _ => format!("the server refused the connection: {}", m.message),
        },
        mysql::Error::DriverError(DriverError::ConnectTimeout) => format!(
            "no answer from {}:{} within {}s; check the host and port in [source] url and that no firewall drops the connection (or raise [source] connect_timeout)",
            db.host,
            db.port,
            db.connect_timeout.as_secs()
        ),
        mysql::Error::DriverError(DriverError::TlsNotSupported) => {
            "the server does not offer TLS but sslmode asks for it; enable TLS on the server or set sslmode=disable in [source] url".into()
        }
        mysql::Error::TlsError(t) => format!(
            "TLS failed ({t}); check sslmode and sslrootcert in [source] url (sslmode=verify-full needs a certificate naming {:?}; trusted: {})",
            db.host,
            super::postgres_tls::trusted_roots(db.ca_file.as_deref())
        ),
        // rustls errors surface as I/O errors of the packet codec.
        other
            if ["certificate", "tls", "ssl", "handshake"]
                .iter()
                .any(|w| other.to_string().to_ascii_lowercase().contains(w)) =>
        {
            format!(
                "TLS failed ({other}); check sslmode and sslrootcert in [source] url (sslmode=verify-full needs a certificate naming {:?}; trusted: {})",
                db.host,
                super::postgres_tls::trusted_roots(db.ca_file.as_deref())
            )
        }
        other => format!(
            "cannot reach the server at {}:{} ({other}); check the host and port in [source] url and that the server is running",
            db.host, db.port
        ),
    };
    Error::Source {
        source_name: db.describe(),
        message,
    }
}

fn query_error(db: &DatabaseSpec, e: &mysql::Error) -> Error {
    let source = |message: String| Error::Source {
        source_name: db.describe(),
        message,
    };
    match e {
        mysql::Error::IoError(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            source(db.silent_mid_query())
        }
        mysql::Error::MySqlError(m) => match m.code {
            // Table, column or database access denied.
            1142 | 1143 | 1044 => source(format!(
                "{}; grant user {:?} SELECT on it, or connect as a user who may read it",
                m.message, db.user
            )),
            // MySQL's max_execution_time, MariaDB's max_statement_time.
            3024 | 1969 => source(format!(
                "the server stopped the query ({}); raise [source] statement_timeout or make the query faster",
                m.message
            )),
            1792 => Error::Query {
                message: format!(
                    "{}: {}; a model must only read (SELECT ...)",
                    db.describe(),
                    m.message
                ),
            },
            1146 => Error::Query {
                message: format!(
                    "{}: {}; check the table's name and database",
                    db.describe(),
                    m.message
                ),
            },
            _ => Error::Query {
                message: format!("{}: {}", db.describe(), m.message),
            },
        },
        other => source(format!(
            "the connection to the server broke ({other}); check that the server is up and run again"
        )),
    }
}

/// Connects and says what the server holds: its version and the tables and
/// views of the database in the url.
pub fn inspect(db: &DatabaseSpec) -> Result<(String, Vec<String>)> {
    let (mut conn, _) = connect(db)?;
    let qe = |e: mysql::Error| query_error(db, &e);
    let version: String = conn
        .query_first("SELECT VERSION()")
        .map_err(qe)?
        .unwrap_or_default();
    let tables: Vec<String> = conn
        .query(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() ORDER BY 1",
        )
        .map_err(qe)?;
    let server = if version.contains("MariaDB") {
        format!("MariaDB {}", version.split('-').next().unwrap_or(&version))
    } else {
        format!("MySQL {version}")
    };
    let message = match tables.len() {
        1 => format!("{server}, 1 table or view"),
        n => format!("{server}, {n} tables and views"),
    };
    Ok((message, tables))
}
