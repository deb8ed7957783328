//! What the PostgreSQL and MySQL tests share: the administrator's url, syncs
//! and sources on a server from `servers.rs`, `[source]` lines, checks that
//! fail without showing the password, and the round trips (every type, every
//! mode, TLS) that both servers go through the same way.

use super::servers::{Mariadb, Postgres, ADMIN_PASSWORD};
use super::{counts, table, toml_str, SyncFile, Workspace};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// A database server the tests run against.
pub trait Server {
    /// The `[source]` type, which is also the url scheme.
    const KIND: &'static str;
    /// The administrator's user name (its password is [`ADMIN_PASSWORD`]).
    const ADMIN: &'static str;

    fn port(&self) -> u16;
    /// The CA that signed the server's certificate.
    fn ca(&self) -> &Path;
    /// A CA that signed nothing the server holds.
    fn other_ca(&self) -> &Path;
    /// Runs SQL statements as the administrator on `db`.
    fn admin_sql(&self, db: &str, sql: &str);

    /// The administrator's url (password included) for `db` at `host:port`,
    /// with `params` as its query (none when empty).
    fn admin_url_at(&self, host: &str, port: u16, db: &str, params: &str) -> String {
        let query = if params.is_empty() {
            String::new()
        } else {
            format!("?{params}")
        };
        format!(
            "{}://{}:{ADMIN_PASSWORD}@{host}:{port}/{db}{query}",
            Self::KIND,
            Self::ADMIN
        )
    }

    /// The administrator's url (password included) for `db` at 127.0.0.1.
    fn admin_url(&self, db: &str) -> String {
        self.admin_url_at("127.0.0.1", self.port(), db, "")
    }

    /// A sync of `sql` on `db`, as the administrator with the password in the url.
    fn admin_sync(&self, ws: &Workspace, db: &str, sql: &str, key: &str) -> SyncFile {
        SyncFile::with_source(ws, source(Self::KIND, &self.admin_url(db), &[]), sql, key)
    }

    /// The administrator's source on `db` (password in the url), for library calls.
    fn admin_source(&self, ws: &Workspace, db: &str) -> dropsync::config::SourceSpec {
        dropsync::config::SourceDraft {
            kind: Self::KIND.into(),
            url: Some(self.admin_url(db)),
            ..Default::default()
        }
        .resolve(&ws.path("source.toml"))
        .expect("a valid source")
    }
}

/// `impl Server` for a server struct with `port`, `ca`, `other_ca` and `sql`.
macro_rules! server {
    ($server:ty, $kind:literal, $admin:literal) => {
        impl Server for $server {
            const KIND: &'static str = $kind;
            const ADMIN: &'static str = $admin;

            fn port(&self) -> u16 {
                self.port
            }

            fn ca(&self) -> &Path {
                &self.ca
            }

            fn other_ca(&self) -> &Path {
                &self.other_ca
            }

            fn admin_sql(&self, db: &str, sql: &str) {
                self.sql(db, sql)
            }
        }
    };
}

server!(Postgres, "postgres", "postgres");
server!(Mariadb, "mysql", "admin");

/// The `[source]` lines of a database source: its type, its url, then `extra` lines.
pub fn source(kind: &str, url: &str, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        format!("type = \"{kind}\""),
        format!("url = {}", toml_str(url)),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// A sync whose `[source]` is exactly `lines`, written as `broken.toml`.
pub fn sync_with_source(ws: &Workspace, lines: &[String], sql: &str) -> PathBuf {
    SyncFile::with_source(ws, lines.to_vec(), sql, "id").write(ws, "broken.toml")
}

/// `check` fails, naming `needles` and never the password.
pub fn assert_check_fails(ws: &Workspace, sync: &Path, needles: &[&str]) {
    let r = ws.check(sync);
    let out = r.all_output();
    assert_ne!(r.code, 0, "check should fail:\n{out}");
    for n in needles {
        assert!(out.contains(n), "expected {n:?} in:\n{out}");
    }
    assert!(!out.contains(ADMIN_PASSWORD), "the password leaked:\n{out}");
}

/// The table `every_type` on `db` (row 1 full of values, row 2 all NULL but
/// its id) goes into CSV as `header` and `first_row`, and into JSON as a file
/// whose text holds each of `json_text_has` and whose first object holds
/// `json_first_row`'s values.
pub fn assert_every_type_round_trips<S: Server>(
    server: &S,
    ws: &Workspace,
    db: &str,
    header: &[&str],
    first_row: &[&str],
    json_text_has: &[&str],
    json_first_row: Json,
) {
    let sql = "SELECT * FROM every_type ORDER BY id";

    let csv = server
        .admin_sync(ws, db, sql, "id")
        .mode("all")
        .filename("types.csv")
        .write(ws, "csv.toml");
    ws.run_ok(&csv, "2026-01-01T00:00:00Z");
    let (got_header, rows) = ws.csv_table("types.csv");
    assert_eq!(got_header, header);
    assert_eq!(rows[0], first_row);
    // NULL is the empty field, whatever the type.
    assert_eq!(rows[1][0], "2");
    assert!(rows[1][1..].iter().all(String::is_empty), "{:?}", rows[1]);

    let json_sync = server
        .admin_sync(ws, db, sql, "id")
        .mode("all")
        .filename("types.json")
        .sync_line("format = \"json\"")
        .write(ws, "json.toml");
    ws.run_ok(&json_sync, "2026-01-01T00:00:00Z");
    let text = ws.out_text("types.json");
    // Numerics are JSON numbers written with every digit the server sent.
    for needle in json_text_has {
        assert!(text.contains(needle), "{text}");
    }
    let parsed: Json = serde_json::from_str(&text).expect("the JSON file parses");
    let row = &parsed[0];
    for (k, v) in json_first_row.as_object().expect("an object") {
        assert_eq!(&row[k], v, "column {k}");
    }
    let nulls = parsed[1].as_object().expect("an object");
    assert!(
        nulls.iter().all(|(k, v)| k == "id" || v.is_null()),
        "{nulls:?}"
    );
    assert_parquet_matches_csv(server, ws, db, sql, header, first_row);
}

/// The same table as Parquet: every column read back (with the parquet
/// crate's record reader) holds row 1's value as CSV wrote it, compared by
/// type (numbers by value, instants by instant, bytes by their base64),
/// and row 2 is NULL but its id.
fn assert_parquet_matches_csv<S: Server>(
    server: &S,
    ws: &Workspace,
    db: &str,
    sql: &str,
    header: &[&str],
    first_row: &[&str],
) {
    use base64::Engine as _;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let sync = server
        .admin_sync(ws, db, sql, "id")
        .mode("all")
        .filename("types.parquet")
        .sync_line("format = \"parquet\"")
        .write(ws, "parquet.toml");
    ws.run_ok(&sync, "2026-01-01T00:00:00Z");
    let file = std::fs::File::open(ws.path("out/types.parquet")).expect("the Parquet file");
    let reader = SerializedFileReader::new(file).expect("a Parquet file");
    let rows: Vec<parquet::record::Row> = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect();
    assert_eq!(rows.len(), 2);
    let utc = |t: &str| -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.to_utc())
            .ok()
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|n| n.and_utc())
            })
    };
    for (i, (name, field)) in rows[0].get_column_iter().enumerate() {
        assert_eq!(name, header[i]);
        let want = first_row[i];
        let same = match field {
            Field::Bool(b) => b.to_string() == want,
            Field::Long(n) => n.to_string() == want,
            Field::Double(f) => want.parse::<f64>().ok() == Some(*f),
            Field::Str(s) => s == want,
            Field::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b.data()) == want,
            Field::Date(days) => {
                let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                    + chrono::Days::new(*days as u64);
                d.format("%Y-%m-%d").to_string() == want
            }
            Field::TimestampMicros(us) => utc(want).map(|t| t.timestamp_micros()) == Some(*us),
            Field::Decimal(d) => {
                let mut bytes = [if d.data()[0] & 0x80 != 0 { 0xff } else { 0 }; 16];
                bytes[16 - d.data().len()..].copy_from_slice(d.data());
                let n = i128::from_be_bytes(bytes);
                let text = format!("{}", n.unsigned_abs());
                let scale = d.scale() as usize;
                let text = format!("{:0>width$}", text, width = scale + 1);
                let (int, frac) = text.split_at(text.len() - scale);
                let sign = if n < 0 { "-" } else { "" };
                let shown = if scale == 0 {
                    format!("{sign}{int}")
                } else {
                    format!("{sign}{int}.{frac}")
                };
                shown == want
            }
            other => panic!("column {name}: unexpected Parquet field {other:?}"),
        };
        assert!(
            same,
            "column {name}: Parquet holds {field:?}, CSV wrote {want:?}"
        );
    }
    for (name, field) in rows[1].get_column_iter() {
        if name != "id" {
            assert!(
                matches!(field, Field::Null),
                "column {name} of row 2: {field:?}"
            );
        }
    }
}

/// The table `people` on `db` (ids 1 to 3: Ada 10, Bob 20, Cy 30) synced in
/// every mode across three runs, with rows updated, deleted and inserted by
/// SQL between the first two; returns the diff sync, after its third run.
pub fn assert_every_mode_across_runs<S: Server>(server: &S, ws: &Workspace, db: &str) -> PathBuf {
    let sql = "SELECT id, name, score FROM people ORDER BY id";
    let sync = |mode: &str| {
        server
            .admin_sync(ws, db, sql, "id")
            .mode(mode)
            .filename(&format!("{mode}/{{sync.run.id}}.csv"))
            .write(ws, &format!("{mode}.toml"))
    };
    let (all, insert, diff) = (sync("all"), sync("insert"), sync("diff"));
    for s in [&all, &insert, &diff] {
        ws.run_ok(s, "2026-01-01T00:00:00Z");
    }
    let first = [
        ["1", "Ada", "10.00"],
        ["2", "Bob", "20.00"],
        ["3", "Cy", "30.00"],
    ];
    assert_eq!(ws.csv_rows("all/1.csv"), table(&first));
    assert_eq!(ws.csv_rows("insert/1.csv"), table(&first));
    assert_eq!(ws.csv_rows("diff/1_added.csv"), table(&first));

    server.admin_sql(
        db,
        "UPDATE people SET score = 21.5 WHERE id = 2;
         DELETE FROM people WHERE id = 3;
         INSERT INTO people VALUES (4, 'Di', 40);",
    );
    let reports: Vec<Json> = [&all, &insert, &diff]
        .iter()
        .map(|s| ws.run_ok(s, "2026-01-02T00:00:00Z"))
        .collect();
    assert_eq!(
        ws.csv_rows("all/2.csv"),
        table(&[
            ["1", "Ada", "10.00"],
            ["2", "Bob", "21.50"],
            ["4", "Di", "40.00"]
        ])
    );
    assert_eq!(ws.csv_rows("insert/2.csv"), table(&[["4", "Di", "40.00"]]));
    assert_eq!(counts(&reports[1]), (3, 1, 0, 0));
    assert_eq!(
        ws.csv_rows("diff/2_added.csv"),
        table(&[["4", "Di", "40.00"]])
    );
    assert_eq!(
        ws.csv_rows("diff/2_changed.csv"),
        table(&[["2", "Bob", "21.50"]])
    );
    assert_eq!(
        ws.csv_rows("diff/2_removed.csv"),
        table(&[["3", "Cy", "30.00"]])
    );
    assert_eq!(counts(&reports[2]), (3, 1, 1, 1));

    // Nothing changed: an empty diff.
    let r = ws.run_ok(&diff, "2026-01-03T00:00:00Z");
    assert_eq!(counts(&r), (3, 0, 0, 0));
    diff
}

/// Each case `(host, params, expected)` runs `sql` on `db` through the
/// administrator's url at `host` with query `params`, and delivers the one row
/// `1, expected` (`sql` reports the server's own view of the session's TLS);
/// then a certificate from a CA the sync does not trust fails the check.
pub fn assert_tls_modes<S: Server>(
    server: &S,
    ws: &Workspace,
    db: &str,
    sql: &str,
    cases: &[(&str, String, &str)],
) {
    let url = |host: &str, params: &str| server.admin_url_at(host, server.port(), db, params);
    for (i, (host, params, expected)) in cases.iter().enumerate() {
        let u = url(host, params);
        let sync = SyncFile::with_source(ws, source(S::KIND, &u, &[]), sql, "id")
            .mode("all")
            .filename(&format!("tls-{i}.csv"))
            .write(ws, &format!("tls-{i}.toml"));
        ws.run_ok(&sync, "2026-01-01T00:00:00Z");
        assert_eq!(
            ws.csv_rows(&format!("tls-{i}.csv")),
            vec![vec!["1".to_string(), expected.to_string()]],
            "{u}"
        );
    }
    // A certificate from a CA the sync does not trust.
    let other = server.other_ca().display().to_string();
    let s = sync_with_source(
        ws,
        &source(
            S::KIND,
            &url(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={other}"),
            ),
            &[],
        ),
        sql,
    );
    assert_check_fails(ws, &s, &["TLS failed", "sslrootcert"]);
}

/// A certificate signed by CA A is refused when sslrootcert names CA B, in
/// verify-ca as in verify-full, with `wrong_ca` in the message; verify-ca
/// accepts a host name the certificate does not hold (127.0.0.2, forwarded
/// to the server), verify-full refuses it with `wrong_name` in the message.
pub fn assert_tls_trusts_only_sslrootcert<S: Server>(
    server: &S,
    ws: &Workspace,
    db: &str,
    wrong_ca: &str,
    wrong_name: &[&str],
) {
    let source = |host: &str, port: u16, params: &str| {
        source(S::KIND, &server.admin_url_at(host, port, db, params), &[])
    };
    let ca = server.ca().display().to_string();
    let other = server.other_ca().display().to_string();
    for mode in ["verify-ca", "verify-full"] {
        let s = sync_with_source(
            ws,
            &source(
                "127.0.0.1",
                server.port(),
                &format!("sslmode={mode}&sslrootcert={other}"),
            ),
            "SELECT 1 AS id",
        );
        assert_check_fails(ws, &s, &["TLS failed", wrong_ca]);
    }

    // The same server as 127.0.0.2, a name its certificate does not hold.
    let port = super::forward::from_127_0_0_2(server.port());
    let s = sync_with_source(
        ws,
        &source(
            "127.0.0.2",
            port,
            &format!("sslmode=verify-ca&sslrootcert={ca}"),
        ),
        "SELECT 1 AS id",
    );
    let r = ws.check(&s);
    assert_eq!(
        r.code,
        0,
        "verify-ca does not check the name:\n{}",
        r.all_output()
    );
    let s = sync_with_source(
        ws,
        &source(
            "127.0.0.2",
            port,
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
        "SELECT 1 AS id",
    );
    assert_check_fails(ws, &s, wrong_name);
}
