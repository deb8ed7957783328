//! The MySQL source against a real MariaDB server (started by
//! tests/it/support/servers.rs from the Debian packages): every type into CSV
//! and JSON, every mode across runs with rows changed by SQL in between,
//! `check`'s columns, and the errors a user meets, each naming the source
//! and never showing the password.

use crate::support as common;
use crate::support::servers;

use common::databases::{
    assert_check_fails, assert_every_mode_across_runs, assert_every_type_round_trips,
    assert_tls_modes, assert_tls_trusts_only_sslrootcert, source, sync_with_source, Server,
};
use common::{assert_check_columns, Workspace};
use serde_json::json;
use servers::{mariadb, ADMIN_PASSWORD};

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
fn every_type_round_trips_into_csv_json_and_parquet() {
    let m = mariadb();
    let db = m.create_database();
    m.sql(&db, EVERY_TYPE);
    let ws = Workspace::new();
    assert_every_type_round_trips(
        m,
        &ws,
        &db,
        &[
            "id", "ti", "si", "bi", "ubi", "num", "f", "d", "b", "t", "vc", "dt", "dtm", "ts",
            "tm", "u", "j", "bin", "vb", "e", "st", "y", "bits",
        ],
        &[
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
        ],
        &[
            r#""num":12345678901234567890.1234567890,"#,
            r#""ubi":18446744073709551615,"#,
        ],
        json!({
            "id": 1, "ti": -128, "bi": -9223372036854775808i64, "f": 0.1, "d": 1.5e300,
            "b": true, "t": "héllo, \"wörld\"\nline two", "dt": "2024-02-29",
            "dtm": "2024-03-05T12:34:56.5", "ts": "2024-03-05T10:34:56.789Z",
            "tm": "100:05:06.5", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "j": {"a": [1, 2.5, "x"], "b": null}, "bin": "AP8Q", "e": "happy", "st": "a,b",
            "y": 2024, "bits": 10,
        }),
    );
}

#[test]
fn check_lists_columns_with_their_types() {
    let m = mariadb();
    let db = m.create_database();
    m.sql(&db, EVERY_TYPE);
    let ws = Workspace::new();
    let sync = m
        .admin_sync(
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
    assert_every_mode_across_runs(m, &ws, &db);
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
    let source = |url: &str, extra: &[&str]| source("mysql", url, extra);

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

    let closed = common::free_port();
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

    let s = sync_with_source(&ws, &source(&m.admin_url("nope"), &[]), "SELECT 1 AS id");
    assert_check_fails(&ws, &s, &["database \"nope\" does not exist"]);

    let s = sync_with_source(
        &ws,
        &source(&m.admin_url(&db), &[]),
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

    let s = sync_with_source(&ws, &source(&m.admin_url(&db), &[]), "DELETE FROM open");
    assert_check_fails(&ws, &s, &["a model must be a SELECT"]);

    let s = sync_with_source(
        &ws,
        &source(&m.admin_url(&db), &["statement_timeout = \"1s\""]),
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
    let spec = m.admin_source(&ws, &db);
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
    let ca = format!("sslrootcert={}", m.ca.display());
    assert_tls_modes(
        m,
        &ws,
        &db,
        sql,
        &[
            ("127.0.0.1", "sslmode=disable".into(), "0"),
            ("127.0.0.1", "sslmode=require".into(), "1"),
            ("127.0.0.1", format!("sslmode=verify-ca&{ca}"), "1"),
            ("127.0.0.1", format!("sslmode=verify-full&{ca}"), "1"),
            ("localhost", format!("sslmode=verify-full&{ca}"), "1"),
        ],
    );
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
    let spec = m.admin_source(&ws, &db);
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
    assert_tls_trusts_only_sslrootcert(
        m,
        &ws,
        &db,
        &format!("trusted: sslrootcert {}", m.other_ca.display()),
        &["TLS failed", "certificate naming \"127.0.0.2\""],
    );
}
