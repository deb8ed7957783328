//! The MySQL source against a real MariaDB server (started by
//! tests/it/support/servers.rs from the Debian packages): every type into CSV
//! and JSON, every mode across runs with rows changed by SQL in between,
//! `check`'s columns, and the errors a user meets, each naming the source
//! and never showing the password.

use crate::support as common;
use crate::support::servers;

use common::{assert_check_columns, counts, toml_str, SyncFile, Workspace};
use serde_json::{json, Value as Json};
use servers::{mariadb, ADMIN_PASSWORD};
use std::path::{Path, PathBuf};

fn admin_url(db: &str) -> String {
    format!(
        "mysql://admin:{ADMIN_PASSWORD}@127.0.0.1:{}/{db}",
        mariadb().port
    )
}

/// A sync of `sql` on `db`, as the admin user with the password in the url.
fn my_sync(ws: &Workspace, db: &str, sql: &str, key: &str) -> SyncFile {
    SyncFile {
        source: vec![
            "type = \"mysql\"".into(),
            format!("url = {}", toml_str(&admin_url(db))),
        ],
        ..SyncFile::sqlite(ws, sql, key)
    }
}

const EVERY_TYPE: &str = r#"
    CREATE TABLE every_type (
        id INT PRIMARY KEY,
        ti TINYINT, si SMALLINT, bi BIGINT, ubi BIGINT UNSIGNED,
        num DECIMAL(32, 10), f FLOAT, d DOUBLE,
        b BOOLEAN, t TEXT, vc VARCHAR(20),
        dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(6),
        u UUID, j JSON, bin BLOB, vb VARBINARY(10),
        e ENUM('sad', 'happy'), st SET('a', 'b'), y YEAR, bits BIT(10)
    );
    SET time_zone = '+02:00';
    INSERT INTO every_type VALUES (
        1, -128, -32768, -9223372036854775808, 18446744073709551615,
        12345678901234567890.1234567890, 0.1, 1.5e300,
        TRUE, 'héllo, "wörld"\nline two', 'plain',
        '2024-02-29', '2024-03-05 12:34:56.5', '2024-03-05 12:34:56.789', '100:05:06.5',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50, "x"], "b": null}',
        X'00FF10', X'0102', 'happy', 'a,b', 2024, b'1010'
    );
    INSERT INTO every_type (id) VALUES (2);
"#;

#[test]
fn every_type_round_trips_into_csv_and_json() {
    let m = mariadb();
    let db = m.create_database();
    m.sql(&db, EVERY_TYPE);
    let ws = Workspace::new();
    let sql = "SELECT * FROM every_type ORDER BY id";

    let csv = my_sync(&ws, &db, sql, "id")
        .mode("all")
        .filename("types.csv")
        .write(&ws, "csv.toml");
    ws.run_ok(&csv, "2026-01-01T00:00:00Z");
    let (header, rows) = ws.csv_table("types.csv");
    assert_eq!(
        header,
        [
            "id", "ti", "si", "bi", "ubi", "num", "f", "d", "b", "t", "vc", "dt", "dtm", "ts",
            "tm", "u", "j", "bin", "vb", "e", "st", "y", "bits"
        ]
    );
    assert_eq!(
        rows[0],
        [
            "1",
            "-128",
            "-32768",
            "-9223372036854775808",
            "18446744073709551615",
            "12345678901234567890.1234567890",
            "0.1",
            "1.5e300",
            "true",
            "héllo, \"wörld\"\nline two",
            "plain",
            "2024-02-29",
            "2024-03-05T12:34:56.5",
            "2024-03-05T10:34:56.789Z",
            "100:05:06.5",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            r#"{"a": [1, 2.50, "x"], "b": null}"#,
            "AP8Q",
            "AQI=",
            "happy",
            "a,b",
            "2024",
            "10",
        ]
    );
    assert_eq!(rows[1][0], "2");
    assert!(rows[1][1..].iter().all(String::is_empty), "{:?}", rows[1]);

    let json_sync = my_sync(&ws, &db, sql, "id")
        .mode("all")
        .filename("types.json")
        .sync_line("format = \"json\"")
        .write(&ws, "json.toml");
    ws.run_ok(&json_sync, "2026-01-01T00:00:00Z");
    let text = ws.out_text("types.json");
    assert!(
        text.contains(r#""num":12345678901234567890.1234567890,"#)
            && text.contains(r#""ubi":18446744073709551615,"#),
        "{text}"
    );
    let parsed: Json = serde_json::from_str(&text).expect("the JSON file parses");
    let row = &parsed[0];
    let expect = json!({
        "id": 1, "ti": -128, "bi": -9223372036854775808i64, "f": 0.1, "d": 1.5e300,
        "b": true, "t": "héllo, \"wörld\"\nline two", "dt": "2024-02-29",
        "dtm": "2024-03-05T12:34:56.5", "ts": "2024-03-05T10:34:56.789Z",
        "tm": "100:05:06.5", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "j": {"a": [1, 2.5, "x"], "b": null}, "bin": "AP8Q", "e": "happy", "st": "a,b",
        "y": 2024, "bits": 10,
    });
    for (k, v) in expect.as_object().expect("an object") {
        assert_eq!(&row[k], v, "column {k}");
    }
    let nulls = parsed[1].as_object().expect("an object");
    assert!(
        nulls.iter().all(|(k, v)| k == "id" || v.is_null()),
        "{nulls:?}"
    );
}

#[test]
fn check_lists_columns_with_their_types() {
    let m = mariadb();
    let db = m.create_database();
    m.sql(&db, EVERY_TYPE);
    let ws = Workspace::new();
    let sync = my_sync(
        &ws,
        &db,
        "SELECT id, num, ts, b, bin FROM every_type ORDER BY id",
        "id",
    )
    .write(&ws, "types.toml");
    let r = ws.check(&sync);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_check_columns(
        &r.stdout,
        &[
            ("id", "int", "integer"),
            ("num", "decimal", "decimal"),
            ("ts", "timestamp", "text"),
            ("b", "tinyint(1)", "boolean"),
            ("bin", "blob", "bytes"),
        ],
    );
    assert!(r
        .stdout
        .contains(&format!("mysql admin@127.0.0.1:{}/{db}", mariadb().port)));
    assert!(!r.all_output().contains(ADMIN_PASSWORD));
}

fn strings(row: &[&str]) -> Vec<String> {
    row.iter().map(|s| s.to_string()).collect()
}

fn table<const N: usize>(rows: &[[&str; N]]) -> Vec<Vec<String>> {
    rows.iter().map(|r| strings(r)).collect()
}

#[test]
fn every_mode_across_runs_with_rows_changed_by_sql() {
    let m = mariadb();
    let db = m.create_database();
    m.sql(
        &db,
        "CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT, score DECIMAL(6,2));
         INSERT INTO people VALUES (1, 'Ada', 10), (2, 'Bob', 20), (3, 'Cy', 30);",
    );
    let ws = Workspace::new();
    let sql = "SELECT id, name, score FROM people ORDER BY id";
    let sync = |mode: &str| {
        my_sync(&ws, &db, sql, "id")
            .mode(mode)
            .filename(&format!("{mode}/{{sync.run.id}}.csv"))
            .write(&ws, &format!("{mode}.toml"))
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

    m.sql(
        &db,
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
    let r = ws.run_ok(&diff, "2026-01-03T00:00:00Z");
    assert_eq!(counts(&r), (3, 0, 0, 0));
}

fn sync_with_source(ws: &Workspace, lines: &[String], sql: &str) -> PathBuf {
    SyncFile {
        source: lines.to_vec(),
        ..SyncFile::sqlite(ws, sql, "id")
    }
    .write(ws, "broken.toml")
}

fn assert_check_fails(ws: &Workspace, sync: &Path, needles: &[&str]) {
    let r = ws.check(sync);
    let out = r.all_output();
    assert_ne!(r.code, 0, "check should fail:\n{out}");
    for n in needles {
        assert!(out.contains(n), "expected {n:?} in:\n{out}");
    }
    assert!(!out.contains(ADMIN_PASSWORD), "the password leaked:\n{out}");
}

#[test]
fn errors_name_the_source_and_the_fix() {
    let m = mariadb();
    let db = m.create_database();
    let reader = servers::unique("reader");
    m.sql(
        &db,
        &format!(
            "CREATE TABLE secret (id INT PRIMARY KEY);
             CREATE TABLE open (id INT PRIMARY KEY);
             INSERT INTO open VALUES (1);
             CREATE USER '{reader}'@'%' IDENTIFIED BY 'reader-pw';
             GRANT SELECT ON {db}.open TO '{reader}'@'%';"
        ),
    );
    let ws = Workspace::new();
    let port = m.port;
    let name = format!("mysql admin@127.0.0.1:{port}/{db}");
    let source = |url: &str, extra: &[&str]| -> Vec<String> {
        let mut v = vec![
            "type = \"mysql\"".to_string(),
            format!("url = {}", toml_str(url)),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };

    let s = sync_with_source(&ws, &source("mysql://127.0.0.1/x", &[]), "SELECT 1 AS id");
    assert_check_fails(&ws, &s, &["[source] url", "names no user"]);

    let s = sync_with_source(
        &ws,
        &source(&format!("mysql://admin:wrong@127.0.0.1:{port}/{db}"), &[]),
        "SELECT 1 AS id",
    );
    assert_check_fails(&ws, &s, &[&name, "refused the password for user \"admin\""]);

    let s = sync_with_source(
        &ws,
        &source(
            &format!("mysql://admin@127.0.0.1:{port}/{db}"),
            &["password = \"env:DROPSYNC_TEST_UNSET_PW\""],
        ),
        "SELECT 1 AS id",
    );
    assert_check_fails(&ws, &s, &[&name, "DROPSYNC_TEST_UNSET_PW", "not set"]);

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let s = sync_with_source(
        &ws,
        &source(&format!("mysql://admin@127.0.0.1:{closed}/{db}"), &[]),
        "SELECT 1 AS id",
    );
    assert_check_fails(
        &ws,
        &s,
        &[
            &format!("cannot reach the server at 127.0.0.1:{closed}"),
            "[source] url",
        ],
    );

    let s = sync_with_source(&ws, &source(&admin_url("nope"), &[]), "SELECT 1 AS id");
    assert_check_fails(&ws, &s, &["database \"nope\" does not exist"]);

    let s = sync_with_source(
        &ws,
        &source(&admin_url(&db), &[]),
        "SELECT * FROM missing_table",
    );
    assert_check_fails(
        &ws,
        &s,
        &[&name, "missing_table' doesn't exist", "[model] sql"],
    );

    let reader_url = format!("mysql://{reader}:reader-pw@127.0.0.1:{port}/{db}");
    let s = sync_with_source(&ws, &source(&reader_url, &[]), "SELECT * FROM open");
    let r = ws.check(&s);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let s = sync_with_source(&ws, &source(&reader_url, &[]), "SELECT * FROM secret");
    assert_check_fails(
        &ws,
        &s,
        &[
            &format!("mysql {reader}@127.0.0.1:{port}/{db}"),
            "SELECT command denied",
            &format!("grant user \"{reader}\" SELECT"),
        ],
    );

    let s = sync_with_source(&ws, &source(&admin_url(&db), &[]), "DELETE FROM open");
    assert_check_fails(&ws, &s, &["a model must be a SELECT"]);

    let s = sync_with_source(
        &ws,
        &source(&admin_url(&db), &["statement_timeout = \"1s\""]),
        "SELECT SLEEP(3) AS id FROM open",
    );
    assert_check_fails(&ws, &s, &[&name, "statement_timeout"]);
}

#[test]
fn a_probe_stops_after_the_first_rows_of_a_large_result() {
    let m = mariadb();
    let db = m.create_database();
    m.sql(
        &db,
        "CREATE TABLE big AS SELECT seq AS id, REPEAT('x', 100) AS pad FROM seq_1_to_1000000",
    );
    let ws = Workspace::new();
    let spec = dropsync::config::SourceDraft {
        kind: "mysql".into(),
        url: Some(admin_url(&db)),
        ..Default::default()
    }
    .resolve(&ws.path("probe.toml"))
    .expect("a valid source");
    // Reading the million rows would take longer than the limit below.
    let started = std::time::Instant::now();
    let probe =
        dropsync::probe::probe(&spec, Some("SELECT id, pad FROM big"), 10).expect("the probe runs");
    assert_eq!(probe.rows.len(), 10);
    assert!(probe.more);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the probe took {:?}",
        started.elapsed()
    );

    // The server says which column is the table's primary key, so the app
    // can preselect it.
    m.sql(&db, "CREATE TABLE keyed (code INT PRIMARY KEY, v TEXT)");
    let keyed = dropsync::probe::probe(&spec, Some("SELECT v, code FROM keyed"), 1).unwrap();
    let pk: Vec<_> = keyed
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.primary_key))
        .collect();
    assert_eq!(pk, [("v", false), ("code", true)]);
}

#[test]
fn tls_modes_encrypt_and_check_the_server() {
    let m = mariadb();
    let db = m.create_database();
    let ws = Workspace::new();
    // The server's own view of this session: its TLS cipher, empty without TLS.
    let sql = "SELECT 1 AS id, VARIABLE_VALUE <> '' AS tls FROM information_schema.SESSION_STATUS \
               WHERE VARIABLE_NAME = 'Ssl_cipher'";
    let url = |host: &str, params: &str| {
        format!(
            "mysql://admin:{ADMIN_PASSWORD}@{host}:{}/{db}?{params}",
            m.port
        )
    };
    let ca = m.ca.display().to_string();
    let cases = [
        (url("127.0.0.1", "sslmode=disable"), "0"),
        (url("127.0.0.1", "sslmode=require"), "1"),
        (
            url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")),
            "1",
        ),
        (
            url(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            "1",
        ),
        (
            url(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            "1",
        ),
    ];
    for (i, (u, tls)) in cases.iter().enumerate() {
        let sync = SyncFile {
            source: vec!["type = \"mysql\"".into(), format!("url = {}", toml_str(u))],
            ..SyncFile::sqlite(&ws, sql, "id")
        }
        .mode("all")
        .filename(&format!("tls-{i}.csv"))
        .write(&ws, &format!("tls-{i}.toml"));
        ws.run_ok(&sync, "2026-01-01T00:00:00Z");
        assert_eq!(
            ws.csv_rows(&format!("tls-{i}.csv")),
            vec![vec!["1".to_string(), tls.to_string()]],
            "{u}"
        );
    }
    let other = m.other_ca.display().to_string();
    let s = sync_with_source(
        &ws,
        &[
            "type = \"mysql\"".into(),
            format!(
                "url = {}",
                toml_str(&url(
                    "127.0.0.1",
                    &format!("sslmode=verify-full&sslrootcert={other}")
                ))
            ),
        ],
        sql,
    );
    assert_check_fails(&ws, &s, &["TLS failed", "sslrootcert"]);
}

#[test]
fn inspect_names_the_server_and_its_tables() {
    let m = mariadb();
    let db = m.create_database();
    m.sql(
        &db,
        "CREATE TABLE customers (id INT); CREATE VIEW orders AS SELECT 1 AS id;",
    );
    let ws = Workspace::new();
    let spec = dropsync::config::SourceDraft {
        kind: "mysql".into(),
        url: Some(admin_url(&db)),
        ..Default::default()
    }
    .resolve(&ws.path("inspect.toml"))
    .expect("a valid source");
    let (message, tables) = dropsync::source::inspect(&spec).expect("inspect");
    assert!(message.starts_with("MariaDB 10."), "{message}");
    assert!(message.ends_with("2 tables and views"), "{message}");
    assert_eq!(tables, ["customers", "orders"]);
}

#[test]
fn a_server_that_accepts_and_never_answers_fails_the_run_in_bounded_time() {
    common::assert_a_silent_server_fails_the_run("mysql", |port| {
        format!("mysql://app@127.0.0.1:{port}/shop")
    });
}

// ---------- TLS trust: only sslrootcert, and host names (issue "Databases and secrets") ----------

use crate::support::forward;

/// A certificate signed by CA A is refused when sslrootcert names CA B, in
/// verify-ca as in verify-full, naming what was trusted; verify-ca accepts
/// a host name the certificate does not hold, verify-full refuses it. (The
/// client trusts sslrootcert alone, not also the public web roots: see
/// vendor/mysql/DROPSYNC-PATCH.md; no test CA can stand in for a public one.)
#[test]
fn tls_trusts_only_sslrootcert_and_only_verify_full_checks_the_host_name() {
    let m = mariadb();
    let db = m.create_database();
    let ws = Workspace::new();
    let source = |host: &str, port: u16, params: &str| {
        vec![
            "type = \"mysql\"".to_string(),
            format!(
                "url = {}",
                toml_str(&format!(
                    "mysql://admin:{ADMIN_PASSWORD}@{host}:{port}/{db}?{params}"
                ))
            ),
        ]
    };
    let ca = m.ca.display().to_string();
    let other = m.other_ca.display().to_string();
    for mode in ["verify-ca", "verify-full"] {
        let s = sync_with_source(
            &ws,
            &source(
                "127.0.0.1",
                m.port,
                &format!("sslmode={mode}&sslrootcert={other}"),
            ),
            "SELECT 1 AS id",
        );
        assert_check_fails(
            &ws,
            &s,
            &["TLS failed", &format!("trusted: sslrootcert {other}")],
        );
    }

    // The same server as 127.0.0.2, a name its certificate does not hold.
    let port = forward::from_127_0_0_2(m.port);
    let s = sync_with_source(
        &ws,
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
        &ws,
        &source(
            "127.0.0.2",
            port,
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
        "SELECT 1 AS id",
    );
    assert_check_fails(&ws, &s, &["TLS failed", "certificate naming \"127.0.0.2\""]);
}
