//! The PostgreSQL source against a real PostgreSQL server (started by
//! tests/it/support/servers.rs from the Debian packages): every type into CSV
//! and JSON, every mode across runs with rows changed by SQL in between,
//! `check`'s columns, and the errors a user meets, each naming the source
//! and never showing the password.

use crate::support as common;
use crate::support::keyring;
use crate::support::servers;

use common::databases::{
    assert_check_fails, assert_every_mode_across_runs, assert_every_type_round_trips,
    assert_tls_modes, assert_tls_trusts_only_sslrootcert, source, sync_with_source, Server,
};
use common::{
    assert_check_columns, assert_success, counts, file_of_kind, strings, table, SyncFile, Workspace,
};
use serde_json::json;
use servers::{postgres, ADMIN_PASSWORD};

const EVERY_TYPE: &str = r#"
    CREATE TYPE mood AS ENUM ('sad', 'happy');
    CREATE TABLE every_type (
        id int PRIMARY KEY,
        i2 smallint, i4 integer, i8 bigint,
        num numeric(32, 10), num_big numeric,
        f4 real, f8 double precision,
        b boolean, t text, vc varchar(20), ch char(3),
        d date, ts timestamp(6), tstz timestamptz, tm time, iv interval,
        u uuid, j json, jb jsonb,
        ai int[], at text[], bin bytea, m mood
    );
    SET TIME ZONE 'Europe/Berlin';
    INSERT INTO every_type VALUES (
        1, -32768, 2147483647, 9223372036854775807,
        12345678901234567890.1234567890, 0.000000000000000000000000000001,
        0.1, 1.5e300,
        true, E'héllo, "wörld"\nline two', 'plain', 'ab',
        '2024-02-29', '2024-03-05 12:34:56.5', '2024-03-05 12:34:56.789+02',
        '23:59:59.999999', '1 year 2 months 3 days 04:05:06.5',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50, "x"], "b": null}',
        '{"b": {"c": true}, "a": 1}',
        '{1,NULL,3}', ARRAY['a b', 'c"d'], '\x00ff10', 'happy'
    );
    INSERT INTO every_type (id) VALUES (2);
"#;

#[test]
fn every_type_round_trips_into_csv_json_and_parquet() {
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(&db, EVERY_TYPE);
    let ws = Workspace::new();
    assert_every_type_round_trips(
        pg,
        &ws,
        &db,
        &[
            "id", "i2", "i4", "i8", "num", "num_big", "f4", "f8", "b", "t", "vc", "ch", "d", "ts",
            "tstz", "tm", "iv", "u", "j", "jb", "ai", "at", "bin", "m",
        ],
        &[
            "1",
            "-32768",
            "2147483647",
            "9223372036854775807",
            "12345678901234567890.1234567890",
            "0.000000000000000000000000000001",
            "0.1",
            "1.5e300",
            "true",
            "héllo, \"wörld\"\nline two",
            "plain",
            "ab ",
            "2024-02-29",
            "2024-03-05T12:34:56.5",
            "2024-03-05T10:34:56.789Z",
            "23:59:59.999999",
            "P1Y2M3DT4H5M6.5S",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            r#"{"a": [1, 2.50, "x"], "b": null}"#,
            r#"{"a": 1, "b": {"c": true}}"#,
            "[1,null,3]",
            r#"["a b","c\"d"]"#,
            "AP8Q",
            "happy",
        ],
        &[
            r#""num":12345678901234567890.1234567890,"#,
            r#""num_big":0.000000000000000000000000000001,"#,
        ],
        json!({
            "id": 1, "i2": -32768, "i4": 2147483647, "i8": 9223372036854775807i64,
            "f4": 0.1, "f8": 1.5e300, "b": true, "t": "héllo, \"wörld\"\nline two",
            "vc": "plain", "ch": "ab ", "d": "2024-02-29", "ts": "2024-03-05T12:34:56.5",
            "tstz": "2024-03-05T10:34:56.789Z", "tm": "23:59:59.999999",
            "iv": "P1Y2M3DT4H5M6.5S", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "j": {"a": [1, 2.5, "x"], "b": null}, "jb": {"a": 1, "b": {"c": true}},
            "ai": [1, null, 3], "at": ["a b", "c\"d"], "bin": "AP8Q", "m": "happy",
        }),
    );
}

#[test]
fn check_lists_columns_with_their_types() {
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(&db, EVERY_TYPE);
    let ws = Workspace::new();
    let sync = pg
        .admin_sync(
            &ws,
            &db,
            "SELECT id, num, tstz, jb, ai, m FROM every_type ORDER BY id",
            "id",
        )
        .write(&ws, "types.toml");
    let r = ws.check(&sync);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_check_columns(
        &r.stdout,
        &[
            ("id", "int4", "integer"),
            ("num", "numeric", "decimal"),
            ("tstz", "timestamptz", "text"),
            ("jb", "jsonb", "json"),
            ("ai", "int4[]", "json"),
            ("m", "mood", "text"),
        ],
    );
    assert!(r
        .stdout
        .contains(&format!("postgres postgres@127.0.0.1:{}/{db}", pg.port)));
    assert!(!r.all_output().contains(ADMIN_PASSWORD));
}

#[test]
fn every_mode_across_runs_with_rows_changed_by_sql() {
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(
        &db,
        "CREATE TABLE people (id bigint PRIMARY KEY, name text, score numeric(6,2));
         INSERT INTO people VALUES (1, 'Ada', 10), (2, 'Bob', 20), (3, 'Cy', 30);",
    );
    let ws = Workspace::new();
    let diff = assert_every_mode_across_runs(pg, &ws, &db);
    assert_eq!(
        ws.csv_table("all/1.csv").0,
        strings(&["id", "name", "score"])
    );

    // Then a key comes back.
    pg.sql(&db, "INSERT INTO people VALUES (3, 'Cy', 31)");
    let r = ws.run_ok(&diff, "2026-01-04T00:00:00Z");
    assert_eq!(counts(&r), (4, 1, 0, 0));
    assert_eq!(
        ws.csv_rows(&file_of_kind(&r, "added")),
        table(&[["3", "Cy", "31.00"]])
    );
}

#[test]
fn errors_name_the_source_and_the_fix() {
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(
        &db,
        &format!(
            "CREATE TABLE secret (id int PRIMARY KEY);
             CREATE TABLE open (id int PRIMARY KEY);
             INSERT INTO open VALUES (1);
             CREATE ROLE reader LOGIN PASSWORD 'reader-pw';
             GRANT SELECT ON open TO reader;
             GRANT CONNECT ON DATABASE {db} TO reader;"
        ),
    );
    let ws = Workspace::new();
    let name = format!("postgres postgres@127.0.0.1:{}/{db}", pg.port);
    let source = |url: &str, extra: &[&str]| source("postgres", url, extra);
    let with_pw = format!(
        "postgres://postgres:{ADMIN_PASSWORD}@127.0.0.1:{}/{db}",
        pg.port
    );

    // A URL without a user is refused when the file loads.
    let s = sync_with_source(
        &ws,
        &source(&format!("postgres://127.0.0.1:{}/{db}", pg.port), &[]),
        "SELECT 1 AS id",
    );
    assert_check_fails(&ws, &s, &["[source] url", "names no user"]);

    // A wrong password.
    let s = sync_with_source(
        &ws,
        &source(
            &format!("postgres://postgres:wrong@127.0.0.1:{}/{db}", pg.port),
            &[],
        ),
        "SELECT 1 AS id",
    );
    assert_check_fails(
        &ws,
        &s,
        &[&name, "refused the password for user \"postgres\""],
    );

    // No password at all, and a password from an unset variable.
    let s = sync_with_source(
        &ws,
        &source(&pg.url("postgres", &db), &[]),
        "SELECT 1 AS id",
    );
    assert_check_fails(
        &ws,
        &s,
        &[&name, "asks for a password", "[source] password"],
    );
    let s = sync_with_source(
        &ws,
        &source(
            &pg.url("postgres", &db),
            &["password = \"env:DROPSYNC_TEST_UNSET_PW\""],
        ),
        "SELECT 1 AS id",
    );
    assert_check_fails(&ws, &s, &[&name, "DROPSYNC_TEST_UNSET_PW", "not set"]);

    // Nothing listens on the port.
    let closed = common::free_port();
    let s = sync_with_source(
        &ws,
        &source(&format!("postgres://postgres@127.0.0.1:{closed}/{db}"), &[]),
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

    // A database that does not exist.
    let s = sync_with_source(
        &ws,
        &source(
            &format!(
                "postgres://postgres:{ADMIN_PASSWORD}@127.0.0.1:{}/nope",
                pg.port
            ),
            &[],
        ),
        "SELECT 1 AS id",
    );
    assert_check_fails(&ws, &s, &["database \"nope\" does not exist"]);

    // An unknown table.
    let s = sync_with_source(&ws, &source(&with_pw, &[]), "SELECT * FROM missing_table");
    assert_check_fails(
        &ws,
        &s,
        &[
            &name,
            "relation \"missing_table\" does not exist",
            "[model] sql",
        ],
    );

    // Permission denied, for a user who may read another table.
    let reader = format!("postgres://reader:reader-pw@127.0.0.1:{}/{db}", pg.port);
    let s = sync_with_source(&ws, &source(&reader, &[]), "SELECT * FROM open");
    assert_eq!(ws.check(&s).code, 0, "{}", ws.check(&s).all_output());
    let s = sync_with_source(&ws, &source(&reader, &[]), "SELECT * FROM secret");
    let r = ws.run_failing(&s, "2026-01-01T00:00:00Z");
    assert_eq!(r.json()["error_code"], "source", "{}", r.stdout);
    let err = r.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(
        err.contains(&format!("postgres reader@127.0.0.1:{}/{db}", pg.port))
            && err.contains("permission denied for table secret")
            && err.contains("grant user \"reader\" SELECT"),
        "{err}"
    );
    assert!(!err.contains("reader-pw"));

    // A model that would write runs in a read-only transaction.
    let s = sync_with_source(
        &ws,
        &source(&with_pw, &[]),
        "INSERT INTO open VALUES (2) RETURNING id",
    );
    assert_check_fails(
        &ws,
        &s,
        &["read-only transaction", "a model must only read"],
    );
    assert_eq!(
        {
            let mut c = pg.admin(&db);
            c.query_one("SELECT count(*) FROM open", &[])
                .map(|r| r.get::<_, i64>(0))
                .expect("count")
        },
        1
    );

    // A statement timeout the query runs past.
    let s = sync_with_source(
        &ws,
        &source(&with_pw, &["statement_timeout = \"1s\""]),
        "SELECT 1 AS id FROM pg_sleep(3)",
    );
    assert_check_fails(&ws, &s, &[&name, "statement_timeout"]);
}

#[test]
fn the_password_comes_from_the_environment() {
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (7);",
    );
    let ws = Workspace::new();
    let sync = SyncFile::with_source(
        &ws,
        source(
            "postgres",
            &pg.url("postgres", &db),
            &[
                "password = \"env:DROPSYNC_TEST_PG_PASSWORD\"",
                "connect_timeout = \"5s\"",
            ],
        ),
        "SELECT id FROM t",
        "id",
    )
    .mode("all")
    .filename("t.csv")
    .write(&ws, "t.toml");
    let out = ws
        .cli()
        .env("DROPSYNC_TEST_PG_PASSWORD", ADMIN_PASSWORD)
        .arg("run")
        .arg(&sync)
        .output()
        .expect("run dropsync");
    assert_success(&out);
    assert_eq!(ws.csv_rows("t.csv"), vec![vec!["7".to_string()]]);
}

#[test]
fn the_password_comes_from_the_os_credential_store() {
    if keyring::skipped() {
        return;
    }
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (8);",
    );
    let ws = Workspace::new();
    let url = pg.url("postgres", &db);
    let sync = SyncFile::with_source(
        &ws,
        source(
            "postgres",
            &url,
            &["password = \"keyring\"", "connect_timeout = \"5s\""],
        ),
        "SELECT id FROM t",
        "id",
    )
    .mode("all")
    .filename("t.csv")
    .write(&ws, "t.toml");
    let bus = keyring::KeyringBus::start(ws.dir.path());
    let run = |bus: &keyring::KeyringBus| {
        ws.cli()
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("HOME", &bus.home)
            .env("XDG_RUNTIME_DIR", &bus.runtime)
            .arg("run")
            .arg(&sync)
            .output()
            .expect("run dropsync")
    };

    // Nothing stored yet: the error says where it looked and what to store.
    let out = run(&bus);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let account = format!("postgres://postgres@127.0.0.1:{}/{db}", pg.port);
    assert!(
        err.contains("dropsync-source") && err.contains(&account),
        "{err}"
    );

    // Stored as a user would (service dropsync-source, account = the url's parts).
    bus.store("dropsync-source", &account, ADMIN_PASSWORD);
    let out = run(&bus);
    assert_success(&out);
    assert_eq!(ws.csv_rows("t.csv"), vec![vec!["8".to_string()]]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains(ADMIN_PASSWORD));
}

#[test]
fn a_probe_stops_after_the_first_rows_of_a_large_result() {
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(
        &db,
        "CREATE TABLE big AS SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 2000000) g;",
    );
    let ws = Workspace::new();
    let spec = pg.admin_source(&ws, &db);
    let started = std::time::Instant::now();
    let probe =
        dropsync::probe::probe(&spec, Some("SELECT id, pad FROM big"), 10).expect("the probe runs");
    assert_eq!(probe.rows.len(), 10);
    assert!(probe.more);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "the probe took {:?}",
        started.elapsed()
    );
}

#[test]
fn tls_modes_encrypt_and_check_the_server() {
    let pg = postgres();
    let db = pg.create_database();
    let ws = Workspace::new();
    // The server's own view of this session: encrypted or not.
    let sql = "SELECT 1 AS id, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let ca = format!("sslrootcert={}", pg.ca.display());
    assert_tls_modes(
        pg,
        &ws,
        &db,
        sql,
        &[
            ("127.0.0.1", "sslmode=disable".into(), "false"),
            ("127.0.0.1", "sslmode=prefer".into(), "true"),
            ("127.0.0.1", "sslmode=require".into(), "true"),
            ("127.0.0.1", format!("sslmode=verify-ca&{ca}"), "true"),
            ("127.0.0.1", format!("sslmode=verify-full&{ca}"), "true"),
            ("localhost", format!("sslmode=verify-full&{ca}"), "true"),
        ],
    );
}

#[test]
fn inspect_names_the_server_and_its_tables() {
    let pg = postgres();
    let db = pg.create_database();
    pg.sql(
        &db,
        "CREATE TABLE customers (id int); CREATE SCHEMA sales; CREATE VIEW sales.orders AS SELECT 1 AS id;",
    );
    let ws = Workspace::new();
    let spec = pg.admin_source(&ws, &db);
    let (message, tables) = dropsync::source::inspect(&spec).expect("inspect");
    assert!(message.starts_with("PostgreSQL 1"), "{message}");
    assert!(message.ends_with("2 tables and views"), "{message}");
    assert_eq!(tables, ["customers", "sales.orders"]);
}

#[test]
fn a_server_that_accepts_and_never_answers_fails_the_run_in_bounded_time() {
    common::assert_a_silent_server_fails_the_run("postgres", |port| {
        format!("postgres://app@127.0.0.1:{port}/shop")
    });
}

// ---------- TLS trust: only sslrootcert, and host names (issue "Databases and secrets") ----------

/// A certificate signed by CA A is refused when sslrootcert names CA B, in
/// verify-ca as in verify-full, naming sslrootcert; verify-ca accepts a
/// host name the certificate does not hold, verify-full refuses it.
#[test]
fn tls_trusts_only_sslrootcert_and_only_verify_full_checks_the_host_name() {
    let pg = postgres();
    let db = pg.create_database();
    let ws = Workspace::new();
    assert_tls_trusts_only_sslrootcert(
        pg,
        &ws,
        &db,
        &format!(
            "not signed by a CA in sslrootcert {}",
            pg.other_ca.display()
        ),
        &["TLS failed", "does not name 127.0.0.2", "verify-full"],
    );
}
