//! The in-database diff (`diff_engine = "source"`) against the real
//! PostgreSQL server: every scenario runs two syncs of one model that differ
//! only in their engine, and their files must hold the same rows per kind
//! (as sets: the database returns changes in its own order) and their
//! reports the same counts. Then what only the source engine has: the
//! snapshot in the state schema, its generations, privileges, engine
//! switches and two state folders on one schema.

use crate::support as common;
use crate::support::servers::{postgres, Postgres, ADMIN_PASSWORD};

use common::databases::{source, Server};
use common::{counts, read_csv_table, SyncFile, Workspace};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Two syncs of one model: `local.toml` and `source.toml`.
struct Pair<'a> {
    pg: &'a Postgres,
    ws: Workspace,
    db: String,
    local: PathBuf,
    source: PathBuf,
    round: u32,
    /// Run the source engine with md5 of canonical text, the SQL for
    /// servers other than PostgreSQL 14+.
    portable: bool,
    /// The source engine's debug log of its last run.
    log: String,
}

/// Rows of each file kind of a run, as sets (header first).
type Files = BTreeMap<String, (Vec<String>, BTreeSet<Vec<String>>)>;

impl<'a> Pair<'a> {
    /// `setup` runs on a fresh database, which gets the schema `dropsync`.
    fn new(
        setup: &str,
        sql: &str,
        key: &[&str],
        mode: &str,
        tweak: impl Fn(SyncFile) -> SyncFile,
    ) -> Pair<'a> {
        let pg = postgres();
        let db = pg.create_database();
        pg.sql(&db, &format!("CREATE SCHEMA dropsync; {setup}"));
        let ws = Workspace::new();
        let write = |engine: &str| {
            let extra: Vec<&str> = match engine {
                "source" => vec!["state_schema = \"dropsync\""],
                _ => vec![],
            };
            let f = SyncFile::with_source(
                &ws,
                source("postgres", &pg.admin_url(&db), &extra),
                sql,
                key[0],
            )
            .key_list(key)
            .mode(mode)
            .filename(&format!("{engine}/{{sync.run.id}}.csv"));
            tweak(f).write(&ws, &format!("{engine}.toml"))
        };
        let (local, source) = (write("local"), write("source"));
        Pair {
            pg,
            ws,
            db,
            local,
            source,
            round: 0,
            portable: false,
            log: String::new(),
        }
    }

    /// A Diff sync of `sql` over [`PEOPLE`], keyed by `id`.
    fn people(sql: &str) -> Pair<'a> {
        Pair::new(PEOPLE, sql, &["id"], "diff", |f| f)
    }

    fn sql(&self, sql: &str) {
        self.pg.sql(&self.db, sql);
    }

    /// `dropsync reset --mark-delivered` on the source engine's sync.
    fn mark_delivered(&self) {
        self.ws.exec_ok([
            "reset".as_ref(),
            "--mark-delivered".as_ref(),
            self.source.as_os_str(),
        ]);
    }

    /// Runs both syncs; their files and counts agree. Returns the source
    /// engine's report and files.
    fn run(&mut self) -> (Json, Files) {
        self.round += 1;
        let at = common::at(self.round);
        let a = self.ws.run_ok(&self.local, &at);
        let mut cmd = self.ws.cli();
        if self.portable {
            cmd.env("DROPSYNC_TEST_PORTABLE_SQL", "1");
        }
        cmd.env("DROPSYNC_LOG", "dropsync::pushdown=debug").args([
            "run".as_ref(),
            self.source.as_os_str(),
            "--at".as_ref(),
            at.as_ref(),
            "--json".as_ref(),
        ]);
        let out = cmd.output().unwrap();
        self.log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{}", self.log);
        let b: Json = serde_json::from_slice(&out.stdout).unwrap();
        let (fa, fb) = (self.files(&a), self.files(&b));
        assert_eq!(fa, fb, "round {}: the engines' files differ", self.round);
        assert_eq!(
            counts(&a),
            counts(&b),
            "round {}: counts differ\n{a}\n{b}",
            self.round
        );
        (b, fb)
    }

    fn files(&self, report: &Json) -> Files {
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["skipped"] != true)
            .map(|f| {
                let (header, rows) = read_csv_table(&self.ws.out.join(f["path"].as_str().unwrap()));
                (
                    f["kind"].as_str().unwrap().to_string(),
                    (header, rows.into_iter().collect()),
                )
            })
            .collect()
    }

    /// The state schema's rows for the source sync: (generation, pending,
    /// base rows, next rows).
    fn state(&self) -> (i64, Option<i64>, i64, i64) {
        let mut c = self.pg.admin(&self.db);
        let r = c
            .query_one(
                "SELECT generation, pending FROM dropsync.dropsync_syncs WHERE sync_id = 'source'",
                &[],
            )
            .unwrap();
        let count = |t: &str| -> i64 {
            self.pg
                .admin(&self.db)
                .query_one(&format!("SELECT count(*) FROM dropsync.{t}"), &[])
                .unwrap()
                .get(0)
        };
        (
            r.get(0),
            r.get(1),
            count("ds_source"),
            count("ds_source_next"),
        )
    }
}

fn rows(kind: &str, files: &Files) -> BTreeSet<Vec<String>> {
    files.get(kind).map(|f| f.1.clone()).unwrap_or_default()
}

fn set(rows: &[&[&str]]) -> BTreeSet<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

const PEOPLE: &str = "CREATE TABLE people (id int PRIMARY KEY, name text, score numeric(6,2));
     INSERT INTO people VALUES (1, 'Ada', 10), (2, 'Bob', 20), (3, 'Cy', 30);";

#[test]
fn diff_and_insert_send_the_same_rows_as_the_local_engine_across_runs() {
    for mode in ["diff", "insert"] {
        let mut p = Pair::new(
            PEOPLE,
            "SELECT id, name, score FROM people",
            &["id"],
            mode,
            |f| f,
        );
        let (r, files) = p.run();
        assert_eq!(counts(&r), (3, 3, 0, 0));
        assert_eq!(rows("added", &files).len(), 3);
        assert_eq!(p.state(), (1, None, 3, 0), "{mode}: generation 1 folded in");

        p.sql(
            "UPDATE people SET score = 21.5 WHERE id = 2; DELETE FROM people WHERE id = 3;
               INSERT INTO people VALUES (4, 'Di', 40);",
        );
        let (r, files) = p.run();
        assert_eq!(rows("added", &files), set(&[&["4", "Di", "40.00"]]));
        if mode == "diff" {
            assert_eq!(counts(&r), (3, 1, 1, 1));
            assert_eq!(rows("changed", &files), set(&[&["2", "Bob", "21.50"]]));
            assert_eq!(rows("removed", &files), set(&[&["3", "Cy", "30.00"]]));
        } else {
            assert_eq!(counts(&r), (3, 1, 0, 0));
        }
        assert_eq!(p.state(), (2, None, 3, 0));

        // Nothing changed; then a removed key comes back, and a value goes
        // to NULL and back to the empty text (both are changes).
        let (r, _) = p.run();
        assert_eq!(counts(&r).1 + counts(&r).2 + counts(&r).3, 0);
        p.sql(
            "INSERT INTO people VALUES (3, 'Cy', 30); UPDATE people SET name = NULL WHERE id = 1;",
        );
        p.run();
        p.sql("UPDATE people SET name = '' WHERE id = 1;");
        let (r, files) = p.run();
        if mode == "diff" {
            assert_eq!(counts(&r), (4, 0, 1, 0));
            assert_eq!(rows("changed", &files), set(&[&["1", "", "10.00"]]));
        }
        // Reset: everything again, on both engines.
        for s in [&p.local, &p.source] {
            p.ws.reset(s);
        }
        let (r, _) = p.run();
        assert_eq!(counts(&r).1, 4, "{mode}: after a reset every row is new");
    }
}

#[test]
fn composite_keys_nulls_and_a_key_part_that_changes() {
    let mut p = Pair::new(
        "CREATE TABLE sales (region text, id int, amount int, note text, PRIMARY KEY (region, id));
         INSERT INTO sales VALUES ('eu', 1, 10, NULL), ('us', 1, 20, 'x'), ('eu', 2, 30, '');",
        "SELECT region, id, amount, note FROM sales",
        &["region", "id"],
        "diff",
        |f| f,
    );
    p.run();
    p.sql("UPDATE sales SET region = 'apac' WHERE region = 'us';
           UPDATE sales SET note = NULL WHERE id = 2; UPDATE sales SET note = NULL WHERE region = 'eu' AND id = 1;");
    let (r, files) = p.run();
    assert_eq!(counts(&r), (3, 1, 1, 1));
    assert_eq!(rows("added", &files), set(&[&["apac", "1", "20", "x"]]));
    assert_eq!(rows("removed", &files), set(&[&["us", "1", "20", "x"]]));
    assert_eq!(rows("changed", &files), set(&[&["eu", "2", "30", ""]]));
}

#[test]
fn every_type_changes_alike_on_both_engines() {
    // Both ways of hashing: PostgreSQL 14+'s records, and md5 of text.
    for portable in [false, true] {
        every_type_round(portable);
    }
}

fn every_type_round(portable: bool) {
    let mut p = Pair::new(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE every_type (
             id int PRIMARY KEY, num numeric, f8 double precision, f4 real, b boolean,
             ch char(3), d date, ts timestamp, tstz timestamptz, tm time, iv interval,
             u uuid, j json, jb jsonb, ai int[], bin bytea, m mood);
         INSERT INTO every_type VALUES
           (1, 1.5, 0, 0.1, true, 'ab', '2024-02-29', '2024-03-05 12:34:56.5', '2024-03-05 12:00:00+00',
            '23:59:59', '1 day', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": 1}', '{\"a\": 1, \"b\": 2}',
            '{1,NULL,3}', '\\x00ff', 'happy'),
           (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
        "SELECT * FROM every_type",
        &["id"],
        "diff",
        |f| f,
    );
    p.portable = portable;
    p.run();
    // Each round: one column changes its value in a way that shows in its
    // text (changed), or is written differently with the same value (not).
    for (change, changed) in [
        ("UPDATE every_type SET num = 1.50 WHERE id = 1", true),
        ("UPDATE every_type SET f8 = '-0' WHERE id = 1", true),
        ("SET TIME ZONE 'Asia/Tokyo'; UPDATE every_type SET tstz = '2024-03-05 21:00:00+09' WHERE id = 1", false),
        ("UPDATE every_type SET jb = '{\"b\": 2, \"a\": 1}' WHERE id = 1", false),
        ("UPDATE every_type SET j = '{\"a\":1}' WHERE id = 1", true),
        ("UPDATE every_type SET iv = '24 hours' WHERE id = 1", true),
        ("UPDATE every_type SET bin = '\\x00fe', ai = '{1,2,3}', m = 'sad' WHERE id = 1", true),
        ("UPDATE every_type SET ch = 'ab ' WHERE id = 1", false),
        ("UPDATE every_type SET b = false, d = '2024-03-01', tm = '00:00:01' WHERE id = 2", true),
    ] {
        p.sql(change);
        let (r, _) = p.run();
        assert_eq!(counts(&r).2, changed as u64, "{change} (portable {portable}): {r}");
    }
}

/// Integer, uuid, date and timestamp keys keep their type in the snapshot:
/// a model that reads one table through its primary key is then walked
/// side by side with the snapshot (a merge join); any other model gets the
/// planner's own join. Both send what the local engine sends. (Tables of
/// a few thousand rows: below that the planner rightly sorts instead.)
#[test]
fn typed_keys_are_walked_in_key_order_when_the_model_reads_its_index() {
    const EVENTS: &str = "CREATE TABLE events (id int, u uuid, day date, at timestamptz, v text,
             PRIMARY KEY (id, u, day, at));
         INSERT INTO events SELECT g, md5(g::text)::uuid, date '2024-01-01' + g,
             timestamptz '2024-01-01 00:00:00+00' + g * interval '90 minutes', 'v' || g
           FROM generate_series(1, 20000) g;
         CREATE TABLE extra (id int PRIMARY KEY, w text);
         INSERT INTO extra SELECT g, 'w' || g FROM generate_series(1, 20000) g;
         ANALYZE events; ANALYZE extra;";
    let key = ["id", "u", "day", "at"];
    let walked = "merge join in key order";
    for (model, walks) in [
        ("SELECT * FROM events", true),
        ("SELECT id, u, day, at, v FROM events WHERE id > 2", true),
        // Read in another order, or joined: not a walk of one index.
        ("SELECT * FROM events ORDER BY v", false),
        (
            "SELECT e.*, x.w FROM events e JOIN extra x USING (id)",
            false,
        ),
    ] {
        let mut p = Pair::new(EVENTS, model, &key, "diff", |f| f);
        p.run();
        // A first run has no snapshot to walk.
        assert!(!p.log.contains("diff join"), "{model}: {}", p.log);
        p.sql(
            "UPDATE events SET v = 'changed' WHERE id = 3;
             DELETE FROM events WHERE id = 4;
             INSERT INTO events VALUES (20001, md5('x')::uuid, '2024-12-31', '2024-12-31 23:59:59.5+00', 'new');
             INSERT INTO extra VALUES (20001, 'w');
             UPDATE events SET v = v WHERE id = 5;",
        );
        let (r, files) = p.run();
        let (_, added, changed, removed) = counts(&r);
        assert_eq!((added, changed, removed), (1, 1, 1), "{model}: {r}");
        assert_eq!(
            p.log.contains(walked),
            walks,
            "{model}: the join\n{}",
            p.log
        );
        assert!(p.log.contains("diff join"), "{model}: {}", p.log);
        let added = rows("added", &files);
        assert!(
            added
                .iter()
                .any(|r| r[2] == "2024-12-31" && r[3].starts_with("2024-12-31")),
            "{model}: {added:?}"
        );
        // Folded into the base: its typed keys match the table's.
        let missing: i64 =
            p.pg.admin(&p.db)
                .query_one(
                    &format!(
                        "SELECT count(*) FROM ({model}) m FULL JOIN dropsync.ds_source b
                       ON (b._k1, b._k2, b._k3, b._k4) = (m.id, m.u, m.day, m.at)
                     WHERE b._k1 IS NULL OR m.id IS NULL"
                    ),
                    &[],
                )
                .unwrap()
                .get(0);
        assert_eq!(missing, 0, "{model}");
    }
}

/// Walking an index whose order is not the rows' (random uuids) reads a
/// page per row: such a model is hashed, and the log says why.
#[test]
fn rows_stored_out_of_key_order_are_hashed_not_walked() {
    let mut p = Pair::new(
        "CREATE TABLE tokens (u uuid PRIMARY KEY, v text);
         INSERT INTO tokens SELECT md5(g::text)::uuid, 'v' || g FROM generate_series(1, 20000) g;
         ANALYZE tokens;",
        "SELECT * FROM tokens",
        &["u"],
        "diff",
        |f| f,
    );
    p.run();
    p.sql("UPDATE tokens SET v = 'changed' WHERE u = md5('7')::uuid");
    let (r, _) = p.run();
    assert_eq!(counts(&r), (20000, 0, 1, 0));
    assert!(
        p.log.contains("the planner's own") && p.log.contains("are not stored in its order"),
        "{}",
        p.log
    );
}

/// The snapshot keeps the key's type: a key column that changes type is a
/// snapshot out of step, which names the types and the way out; marking
/// as delivered starts a snapshot afresh, whatever the database held.
#[test]
fn a_snapshot_out_of_step_names_the_way_out_and_mark_as_delivered_takes_it() {
    let mut p = Pair::people("SELECT id, name FROM people");
    p.run();
    p.sql("ALTER TABLE people ALTER COLUMN id TYPE text");
    let r = p.ws.run_failing(&p.source, &common::at(5));
    let out = r.all_output();
    assert!(
        out.contains(
            "kept with key type(s) bigint and hashing h1, this run needs key type(s) varchar"
        ),
        "{out}"
    );
    assert!(out.contains("\"error_code\": \"out_of_step\""), "{out}");
    assert!(out.contains("dropsync reset --mark-delivered"), "{out}");
    assert_eq!(p.state(), (1, None, 3, 0));
    p.mark_delivered();
    p.sql("UPDATE people SET name = 'Cyrus' WHERE id = '3'");
    let r = p.ws.run_ok(&p.source, &common::at(6));
    assert_eq!(counts(&r), (3, 0, 1, 0));
    // The same way out when the snapshot's tables were dropped.
    p.sql("DROP SCHEMA dropsync CASCADE; CREATE SCHEMA dropsync");
    let r = p.ws.run_failing(&p.source, &common::at(7));
    let out = r.all_output();
    assert!(out.contains("is missing from"), "{out}");
    assert!(out.contains("dropsync reset --mark-delivered"), "{out}");
    p.mark_delivered();
    p.sql("DELETE FROM people WHERE id = '1'");
    let r = p.ws.run_ok(&p.source, &common::at(8));
    assert_eq!(counts(&r), (2, 0, 0, 1));
}

#[test]
fn renames_and_constants_hash_like_the_local_engine_and_removed_rows_keep_what_was_sent() {
    let with = |constant: &'static str| {
        move |f: SyncFile| {
            f.column_from("id", "ID")
                .column_from("name", "Name")
                .column_constant(constant, "Region")
        }
    };
    let mut p = Pair::new(
        PEOPLE,
        "SELECT id, name, score FROM people",
        &["id"],
        "diff",
        with("\"EMEA\""),
    );
    p.run();
    // The score is not synced: its change is no change.
    p.sql("UPDATE people SET score = 99");
    let (r, _) = p.run();
    assert_eq!(counts(&r), (3, 0, 0, 0));
    // A new constant changes every row, on both engines.
    for name in ["local.toml", "source.toml"] {
        let f = p.ws.path(name);
        let text = std::fs::read_to_string(&f)
            .unwrap()
            .replace("\"EMEA\"", "5");
        std::fs::write(&f, text).unwrap();
    }
    let (r, files) = p.run();
    assert_eq!(counts(&r), (3, 0, 3, 0));
    assert!(rows("changed", &files).contains(&vec!["1".to_string(), "Ada".into(), "5".into()]));
    // A column dropped from the mapping: removed rows show today's columns.
    for name in ["local.toml", "source.toml"] {
        let f = p.ws.path(name);
        let text = std::fs::read_to_string(&f).unwrap();
        let cut = text.find("[[sync.columns]]\nvalue").unwrap();
        std::fs::write(&f, &text[..cut]).unwrap();
    }
    p.sql("DELETE FROM people WHERE id = 1");
    let (r, files) = p.run();
    assert_eq!(counts(&r), (2, 0, 2, 1));
    assert_eq!(rows("removed", &files), set(&[&["1", "Ada"]]));
}

#[test]
fn a_template_keeps_the_sync_on_the_local_engine_and_check_names_the_column() {
    let p = Pair::new(
        PEOPLE,
        "SELECT id, name FROM people",
        &["id"],
        "diff",
        |f| {
            f.column_from("id", "id")
                .column_template("{{ name | upper }}", "shout")
        },
    );
    let out = p.ws.check(&p.source).all_output();
    assert!(
        out.contains(
            "column mapping #2 (\"shout\") is a template, which the database cannot compute"
        ),
        "{out}"
    );
    assert!(out.contains("compares on this machine"), "{out}");
    let r = p.ws.run_ok(&p.source, &common::at(1));
    assert_eq!(counts(&r), (3, 3, 0, 0));
    // Nothing was written in the schema: the local engine ran.
    let mut c = p.pg.admin(&p.db);
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'dropsync'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[test]
fn null_and_duplicate_keys_fail_before_anything_is_delivered_or_written() {
    let mut p = Pair::people("SELECT id, name, score FROM people");
    p.run();
    let before = p.state();
    let files_before = common::list_files(&p.ws.out);
    for (sql, needle) in [
        // A new key twice; an old, unchanged key twice; a NULL key.
        ("SELECT id, name, score FROM people UNION ALL SELECT 9, 'x', 1 UNION ALL SELECT 9, 'y', 2", "not unique"),
        ("SELECT id, name, score FROM people UNION ALL SELECT id, name, score FROM people WHERE id = 1", "not unique"),
        ("SELECT id, name, score FROM people UNION ALL SELECT NULL, 'x', 1", "is NULL in 1 row"),
    ] {
        let f = p.ws.path("source.toml");
        let text = std::fs::read_to_string(&f).unwrap();
        let line = text.lines().find(|l| l.starts_with("sql = ")).unwrap().to_string();
        std::fs::write(&f, text.replace(&line, &format!("sql = {}", common::toml_str(sql)))).unwrap();
        let r = p.ws.run_failing(&p.source, &common::at(9));
        let out = r.all_output();
        assert!(out.contains(needle), "{sql}: {out}");
        assert_eq!(p.state(), before, "{sql}: the state schema moved");
        assert_eq!(common::list_files(&p.ws.out), files_before, "{sql}: a file was delivered");
        std::fs::write(&f, text).unwrap();
    }
    // The sync goes on where it was.
    p.sql("INSERT INTO people VALUES (5, 'Eve', 50)");
    let (r, files) = p.run();
    assert_eq!(counts(&r), (4, 1, 0, 0));
    assert_eq!(rows("added", &files), set(&[&["5", "Eve", "50.00"]]));
}

#[test]
fn check_names_the_grant_a_role_is_missing() {
    let pg = postgres();
    let db = pg.create_database();
    let user = format!("ro_{db}");
    pg.sql(
        &db,
        &format!(
            "{PEOPLE}
             CREATE ROLE {user} LOGIN PASSWORD '{ADMIN_PASSWORD}';
             GRANT SELECT ON people TO {user};"
        ),
    );
    let ws = Workspace::new();
    let url = format!(
        "postgres://{user}:{ADMIN_PASSWORD}@127.0.0.1:{}/{db}",
        pg.port
    );
    let sync = SyncFile::with_source(
        &ws,
        source("postgres", &url, &["state_schema = \"dropsync\""]),
        "SELECT id, name FROM people",
        "id",
    )
    .write(&ws, "s.toml");
    let check = |needle: &str| {
        let r = ws.check(&sync);
        let out = r.all_output();
        assert_ne!(r.code, 0, "{out}");
        assert!(out.contains(needle), "expected {needle:?} in:\n{out}");
        assert!(!out.contains(ADMIN_PASSWORD));
    };
    check("CREATE SCHEMA \"dropsync\" AUTHORIZATION");
    pg.sql(&db, "CREATE SCHEMA dropsync");
    check(&format!(
        "GRANT USAGE, CREATE ON SCHEMA \"dropsync\" TO \"{user}\";"
    ));
    // A run says the same, and nothing moves.
    let r = ws.run_failing(&sync, &common::at(1));
    assert!(
        r.all_output().contains("GRANT USAGE, CREATE ON SCHEMA"),
        "{}",
        r.all_output()
    );
    pg.sql(
        &db,
        &format!("GRANT USAGE, CREATE ON SCHEMA dropsync TO {user}"),
    );
    let out = ws.check(&sync);
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert!(
        out.all_output().contains("diff engine  source"),
        "{}",
        out.all_output()
    );
    let r = ws.run_ok(&sync, &common::at(1));
    assert_eq!(counts(&r), (3, 3, 0, 0));
    // The model itself unreadable: the GRANT on the table.
    pg.sql(&db, &format!("REVOKE SELECT ON people FROM {user}"));
    let r = ws.run_failing(&sync, &common::at(2));
    assert!(
        r.all_output()
            .contains("permission denied for table people"),
        "{}",
        r.all_output()
    );
}

#[test]
fn switching_engines_needs_a_mark_as_delivered_and_then_sends_only_changes() {
    let mut p = Pair::people("SELECT id, name, score FROM people");
    // The source sync first runs on the local engine.
    let f = p.ws.path("source.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        text.replace("[sync]\n", "[sync]\ndiff_engine = \"local\"\n"),
    )
    .unwrap();
    p.run();
    std::fs::write(&f, &text).unwrap();
    p.sql("UPDATE people SET name = 'Bobby' WHERE id = 2");
    let r = p.ws.run_failing(&p.source, &common::at(5));
    let out = r.all_output();
    assert!(
        out.contains("kept on this machine (the local engine)"),
        "{out}"
    );
    assert!(out.contains("dropsync reset --mark-delivered"), "{out}");
    // Mark as delivered moves the snapshot into the database...
    p.mark_delivered();
    assert_eq!(p.state().0, 1);
    // ...so the next run sends only what changes from here.
    p.sql("UPDATE people SET name = 'Cyrus' WHERE id = 3");
    let r = p.ws.run_ok(&p.source, &common::at(6));
    assert_eq!(counts(&r), (3, 0, 1, 0));
}

#[test]
fn two_state_folders_may_not_share_one_snapshot() {
    let mut p = Pair::people("SELECT id, name FROM people");
    p.run();
    let other = Workspace::new();
    let f = other.write_sync("source.toml", &std::fs::read_to_string(&p.source).unwrap());
    let r = other.run_failing(&f, &common::at(2));
    let out = r.all_output();
    assert!(
        out.contains("belongs to another Dropsync state folder"),
        "{out}"
    );
    assert_eq!(p.state(), (1, None, 3, 0));
}

/// A preview of a source-engine sync writes nothing in the database.
#[test]
fn a_preview_reads_the_database_snapshot_without_writing() {
    let mut p = Pair::people("SELECT id, name FROM people");
    p.run();
    p.sql("UPDATE people SET name = 'Ann' WHERE id = 1");
    let before = p.state();
    let out =
        p.ws.exec_json(["preview".as_ref(), p.source.as_os_str(), "--json".as_ref()]);
    assert_eq!(counts(&out), (3, 0, 1, 0), "{out}");
    assert_eq!(p.state(), before);
}
