//! The fault matrix: a run stopped in every way we know, against a folder
//! and against the Dropbox emulator, in All, Insert and Diff modes, over
//! rounds of churn. After each fault a clean run follows, and a consumer
//! who applies every file in the destination, in run order, must then hold
//! exactly the table: Diff consumers apply added/changed/removed, Insert
//! consumers append (each key must arrive once), All consumers take the
//! latest file. Nothing a stopped run wrote may stay behind (temporary
//! files, staging folders, files of runs that are not recorded).
//!
//! Faults: SIGKILL at random instants and at the two instants around
//! delivery (`DROPSYNC_TEST_KILL_AT`), cancel at each stage
//! (`DROPSYNC_TEST_CANCEL_AT`), and for Dropbox a server that accepts and
//! never answers, and a token revoked mid-run. Separate tests fill the
//! destination's and the state's disk (a small tmpfs) and crash the
//! PostgreSQL server mid-stream. Each prints its tally: rounds, kills,
//! faults injected, rows checked, rows lost, rows duplicated.

use crate::support as common;
use crate::support::emulator;
use crate::support::servers;

use common::{assert_success, list_files, read_csv_table, toml_str, SyncFile, Workspace};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROWS: i64 = 3000;
const QUERY: &str = "SELECT id, name FROM t";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Folder,
    Dropbox,
}

/// What the consumer found after a clean run.
#[derive(Default, Debug)]
struct Tally {
    rounds: u64,
    kills: u64,
    /// Faulted runs that failed (the rest finished despite the fault).
    failed: u64,
    faults: BTreeMap<String, u64>,
    rows_checked: u64,
    lost: u64,
    duplicated: u64,
}

impl Tally {
    fn fault(&mut self, kind: &str) {
        *self.faults.entry(kind.to_string()).or_default() += 1;
    }

    fn print(&self, what: &str) {
        let faults: u64 = self.faults.values().sum();
        eprintln!(
            "{what}: rounds {}, kills {}, faults injected {faults} {:?}, faulted runs failed {}, rows checked {}, rows lost {}, rows duplicated {}",
            self.rounds, self.kills, self.faults, self.failed, self.rows_checked, self.lost, self.duplicated
        );
    }
}

/// One sync of table `t` in one mode to one destination, with its consumer.
struct Bench {
    ws: Workspace,
    /// The PostgreSQL database holding `t`, when not the workspace's SQLite.
    pg: Option<String>,
    pg_server: Option<&'static servers::Postgres>,
    emu: Option<dropbox_emulator::Running>,
    /// Where the destination's files are on disk (the emulator keeps its
    /// Dropbox in a folder).
    dest: PathBuf,
    mode: &'static str,
    sync: PathBuf,
    /// The emulator's static tokens; a revoked one is never used again.
    token: usize,
    next_id: i64,
    /// `diff_engine = "source"`: the snapshot lives in PostgreSQL.
    source_engine: bool,
}

const TOKENS: usize = 32;

impl Bench {
    fn new(target: Target, mode: &'static str) -> Bench {
        let ws = Workspace::new();
        ws.sql(&format!(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
             WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS})
             INSERT INTO t SELECT i, 'n' || i FROM s;"
        ));
        let file = SyncFile::sqlite(&ws, QUERY, "id")
            .model_name("t")
            .mode(mode)
            .render();
        let (emu, dest, toml) = match target {
            Target::Folder => (None, ws.out.clone(), file),
            Target::Dropbox => {
                let root = ws.path("dropbox");
                let mut config = dropbox_emulator::Config::new(&root);
                config.static_tokens = (0..TOKENS).map(|i| format!("token-{i}")).collect();
                let emu = dropbox_emulator::start(config).expect("start the emulator");
                let folder_block = format!(
                    "[destination]\ntype = \"folder\"\npath = {}\n",
                    common::toml_str(&ws.out.to_string_lossy())
                );
                assert!(file.contains(&folder_block));
                let toml = file.replace(
                    &folder_block,
                    "[destination]\ntype = \"dropbox\"\npath = \"/out\"\n",
                );
                (Some(emu), root.join("out"), toml)
            }
        };
        let sync = ws.write_sync("t.toml", &toml);
        let bench = Bench {
            ws,
            pg: None,
            pg_server: None,
            emu,
            dest,
            mode,
            sync,
            token: 0,
            next_id: ROWS + 1,
            source_engine: false,
        };
        if bench.emu.is_some() {
            let out = bench
                .cli()
                .args(["dropbox", "mkdir", "/out"])
                .output()
                .unwrap();
            assert_success(&out);
        }
        bench
    }

    fn cli(&self) -> Command {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("dropsync"));
        c.arg("--state-dir").arg(&self.ws.state);
        for var in [
            "DROPSYNC_STATE_DIR",
            "DROPSYNC_LOG",
            "DROPSYNC_TEST_KILL_AT",
            "DROPSYNC_TEST_CANCEL_AT",
            "DROPSYNC_DROPBOX_REFRESH_TOKEN",
            "DROPSYNC_DROPBOX_APP_KEY",
        ] {
            c.env_remove(var);
        }
        if let Some(emu) = &self.emu {
            c.envs(emulator::cli_env(emu))
                .env("DROPSYNC_DROPBOX_TIMEOUT_SECS", "1")
                .env("DROPSYNC_CREDENTIAL_STORE", "file")
                .env(
                    "DROPSYNC_DROPBOX_ACCESS_TOKEN",
                    format!("token-{}", self.token),
                );
        }
        c
    }

    fn run_command(&self) -> Command {
        let mut c = self.cli();
        c.arg("run").arg(&self.sync).arg("--json");
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    fn run(&self, env: &[(&str, &str)]) -> (Output, Json) {
        let out = self
            .run_command()
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
        (out, json)
    }

    /// Changes spread over the table: updates, deletes of old rows, inserts
    /// of new keys (never a key seen before, so Insert consumers can tell
    /// a row sent twice).
    fn exec(&self, sql: &str) {
        match &self.pg {
            Some(db) => self.server().sql(db, sql),
            None => self.ws.sql(sql),
        }
    }

    fn churn(&mut self, round: u64) {
        let m = round % 89;
        let id = self.next_id;
        self.exec(&format!(
            "UPDATE t SET name = 'r{round}' WHERE id % 97 = {m};
             DELETE FROM t WHERE id % 89 = {m} AND id <= {ROWS};
             INSERT INTO t VALUES ({id}, 'new'), ({}, 'new'), ({}, 'new');",
            id + 1,
            id + 2
        ));
        self.next_id += 3;
    }

    fn fault(&self, faults: Json) {
        let emu = self.emu.as_ref().expect("faults are for Dropbox");
        emulator::add_faults(emu, &faults);
    }

    fn clear_faults(&self) {
        if let Some(emu) = &self.emu {
            emulator::clear_faults(emu);
        }
    }

    fn history(&self) -> Vec<Json> {
        let out = self
            .cli()
            .args(["history", "--json", "--limit", "100000"])
            .arg(&self.sync)
            .output()
            .unwrap();
        assert_success(&out);
        let mut runs: Vec<Json> = serde_json::from_slice::<Json>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        runs.reverse();
        runs
    }

    fn table(&self) -> BTreeMap<String, String> {
        if let Some(db) = &self.pg {
            let mut client = self.server().admin(db);
            return client
                .query("SELECT id::text, name FROM t", &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
        }
        let conn = rusqlite::Connection::open(&self.ws.db).unwrap();
        let mut stmt = conn.prepare("SELECT id, name FROM t").unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?.to_string(), r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    }

    /// The destination's files, but the one that fills its disk.
    fn dest_files(&self) -> Vec<String> {
        let mut files = list_files(&self.dest);
        files.retain(|f| f != FILL);
        files
    }

    /// The destination's files, in run order: (run id, kind, path).
    fn delivered(&self) -> Vec<(i64, String, PathBuf)> {
        let mut files: Vec<(i64, String, PathBuf)> = self
            .dest_files()
            .into_iter()
            .map(|name| {
                let stem = name
                    .strip_prefix("t-")
                    .and_then(|s| s.strip_suffix(".csv"))
                    .unwrap_or_else(|| panic!("a file Dropsync did not write: {name}"));
                let (run, kind) = match stem.split_once('_') {
                    Some((run, kind)) => (run, kind.to_string()),
                    None if self.mode == "insert" => (stem, "added".to_string()),
                    None => (stem, "all".to_string()),
                };
                let run = run
                    .parse()
                    .unwrap_or_else(|_| panic!("a file Dropsync did not write: {name}"));
                (run, kind, self.dest.join(&name))
            })
            .collect();
        let order = |k: &str| {
            ["all", "added", "changed", "removed"]
                .iter()
                .position(|x| *x == k)
        };
        files.sort_by_key(|(run, kind, _)| (*run, order(kind)));
        files
    }

    /// After a clean run: the consumer's copy is the table, and only
    /// recorded runs' files are in the destination.
    fn check(&self, tally: &mut Tally, when: &str) {
        let table = self.table();
        let files = self.delivered();
        let (mut lost, mut duplicated) = (0u64, 0u64);
        match self.mode {
            "all" => {
                let (_, _, latest) = files.last().expect("a file of the last run");
                let (_, rows) = read_csv_table(latest);
                let copy: BTreeMap<String, String> = rows
                    .into_iter()
                    .map(|r| (r[0].clone(), r[1].clone()))
                    .collect();
                lost += table
                    .iter()
                    .filter(|(k, v)| copy.get(*k) != Some(v))
                    .count() as u64;
                duplicated += copy.keys().filter(|k| !table.contains_key(*k)).count() as u64;
            }
            "insert" => {
                let mut received = BTreeSet::new();
                for (_, _, path) in &files {
                    for r in read_csv_table(path).1 {
                        if !received.insert(r[0].clone()) {
                            duplicated += 1;
                        }
                    }
                }
                lost += table.keys().filter(|k| !received.contains(*k)).count() as u64;
            }
            _ => {
                let mut copy: BTreeMap<String, String> = BTreeMap::new();
                for (_, kind, path) in &files {
                    for r in read_csv_table(path).1 {
                        let present = copy.contains_key(&r[0]);
                        match kind.as_str() {
                            "added" if present => duplicated += 1,
                            "changed" if !present => lost += 1,
                            "removed" if !present => duplicated += 1,
                            _ => {}
                        }
                        if kind == "removed" {
                            copy.remove(&r[0]);
                        } else {
                            copy.insert(r[0].clone(), r[1].clone());
                        }
                    }
                }
                lost += table
                    .iter()
                    .filter(|(k, v)| copy.get(*k) != Some(v))
                    .count() as u64;
                duplicated += copy.keys().filter(|k| !table.contains_key(*k)).count() as u64;
            }
        }
        tally.rows_checked += table.len() as u64;
        tally.lost += lost;
        tally.duplicated += duplicated;
        assert_eq!((lost, duplicated), (0, 0), "{when}: rows lost, duplicated");

        // Only files of recorded runs: successful ones, and those an
        // interrupted Dropbox run is recorded to have landed.
        let history = self.history();
        let recorded: BTreeSet<String> = history
            .iter()
            .filter(|r| r["status"] == "success" || r["status"] == "interrupted")
            .flat_map(|r| r["files"].as_array().cloned().unwrap_or_default())
            .filter(|f| f["skipped"] != true)
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        let present: BTreeSet<String> = self.dest_files().into_iter().collect();
        assert_eq!(present, recorded, "{when}: files in the destination");
        assert!(
            history.iter().all(|r| r["status"] != "running"),
            "{when}: a run still marked running"
        );
        assert_eq!(
            list_files(&self.ws.state.join("staging")),
            Vec::<String>::new(),
            "{when}: staging left behind"
        );
    }

    /// A clean run after a fault: it must succeed.
    fn clean_run(&self, when: &str) -> Duration {
        self.clear_faults();
        let t0 = Instant::now();
        let (out, json) = self.run(&[]);
        assert!(
            out.status.success() && json["status"] == "success",
            "{when}: the clean run failed: {json}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t0.elapsed()
    }
}

/// The faults of one round, in turn; random kills fill the rest.
const FAULTS: &[&str] = &[
    "kill-at-intent",
    "kill-at-delivered",
    "fail-commit",
    "cancel-reading",
    "cancel-comparing",
    "cancel-writing",
    "cancel-delivering",
    "cancel-uploading",
    "cancel-committing",
    "stall",
    "revoke",
    "kill-random",
    "kill-random",
    "kill-random",
    "kill-random",
];

fn matrix(target: Target, mode: &'static str, rng: &mut fastrand::Rng, tally: &mut Tally) {
    matrix_on(Bench::new(target, mode), target, rng, tally);
}

fn matrix_on(mut b: Bench, target: Target, rng: &mut fastrand::Rng, tally: &mut Tally) {
    let mode = b.mode;
    b.clean_run("first run");
    b.check(tally, "first run");
    let mut run_time = Duration::from_millis(300);
    let mut round = 0u64;
    // Passes over the list (DROPSYNC_FAULT_PASSES, default 2).
    let passes: usize = std::env::var("DROPSYNC_FAULT_PASSES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let faults: Vec<&str> = FAULTS
        .iter()
        .copied()
        .chain(b.source_engine.then_some("kill-at-generation-written"))
        .collect();
    for fault in faults.iter().cycle().take(faults.len() * passes) {
        if target == Target::Folder && matches!(*fault, "stall" | "revoke") {
            continue;
        }
        round += 1;
        b.churn(round);
        let when = format!("{target:?}/{mode} round {round} ({fault})");
        let runs_before = b.history().len();
        tally.fault(fault);
        if let Some(point) = fault.strip_prefix("kill-at-") {
            let (out, _) = b.run(&[("DROPSYNC_TEST_KILL_AT", point)]);
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&out.status),
                Some(9),
                "{when}: the run should have killed itself"
            );
            tally.kills += 1;
            tally.failed += 1;
        } else if *fault == "fail-commit" {
            // Delivered, then the commit fails: the next run completes it.
            let (_, json) = b.run(&[("DROPSYNC_TEST_FAIL_COMMIT", "1")]);
            assert_eq!(json["status"], "failed", "{when}: {json}");
            let error = json["error"].as_str().unwrap_or_default();
            assert!(
                error.contains(
                    "the run's files were delivered, but its snapshot could not be saved"
                ),
                "{when}: {json}"
            );
            tally.failed += 1;
        } else if let Some(stage) = fault.strip_prefix("cancel-") {
            let (out, json) = b.run(&[("DROPSYNC_TEST_CANCEL_AT", stage)]);
            // Before delivery a cancel stops the run; from the first byte
            // out it goes on and commits. All mode and first runs write
            // while reading, so they have no writing stage.
            // The source engine writes as the database's changes stream:
            // it has no comparing or writing stage either.
            let cancels = matches!(stage, "reading" | "delivering")
                || (!b.source_engine
                    && (stage == "comparing" || (stage == "writing" && mode != "all")));
            if cancels {
                tally.failed += 1;
                assert_eq!(json["status"], "failed", "{when}: {json}");
                assert_eq!(json["error_code"], "cancelled", "{when}: {json}");
                assert!(!out.status.success());
            } else {
                assert_eq!(json["status"], "success", "{when}: {json}");
            }
        } else if *fault == "stall" {
            // A random request of the run gets no answer.
            b.fault(
                json!([{ "route": "*", "kind": "stall", "skip": rng.u32(0..4), "times": 100 }]),
            );
            let t0 = Instant::now();
            let (_, json) = b.run(&[]);
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "{when}: {:?}",
                t0.elapsed()
            );
            if json["status"] == "failed" {
                tally.failed += 1;
                let error = json["error"].as_str().unwrap_or_default();
                assert!(error.contains("no answer from 127.0.0.1"), "{when}: {json}");
            }
        } else if *fault == "revoke" {
            // The user disconnects the app in Dropbox at a random request.
            b.fault(json!([{ "route": "*", "kind": "revoke_token", "skip": rng.u32(1..5) }]));
            let (_, json) = b.run(&[]);
            if json["status"] == "failed" {
                tally.failed += 1;
                let error = json["error"].as_str().unwrap_or_default();
                assert!(error.to_lowercase().contains("token"), "{when}: {json}");
            }
            b.token += 1;
        } else {
            // SIGKILL anywhere within how long a whole run took last time.
            let mut child = b.run_command().spawn().unwrap();
            let delay = rng.u64(0..=run_time.as_millis() as u64);
            std::thread::sleep(Duration::from_millis(delay));
            if child.try_wait().unwrap().is_none() {
                tally.kills += 1;
                tally.failed += 1;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        run_time = b.clean_run(&when);
        b.check(tally, &when);
        b.check_state_schema(&when);
        assert!(b.history().len() > runs_before, "{when}: no run recorded");
        tally.rounds += 1;
    }
}

fn seed() -> u64 {
    std::env::var("DROPSYNC_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11)
}

/// Every mode against one destination, with the tally printed.
fn all_modes(target: Target) {
    let mut rng = fastrand::Rng::with_seed(seed());
    let mut tally = Tally::default();
    for mode in ["all", "insert", "diff"] {
        matrix(target, mode, &mut rng, &mut tally);
    }
    tally.print(&format!("fault matrix, {target:?}"));
}

#[test]
fn folder_all_insert_diff_lose_no_row_and_send_none_twice_through_every_fault() {
    all_modes(Target::Folder);
}

#[test]
fn dropbox_all_insert_diff_lose_no_row_and_send_none_twice_through_every_fault() {
    all_modes(Target::Dropbox);
}

// ---------- the source's server crashes or freezes mid-stream ----------

const PG_QUERY: &str =
    "SELECT t.id, t.name FROM t CROSS JOIN LATERAL (SELECT pg_sleep(d.s) FROM delay d WHERE t.id IS NOT NULL) AS slow";

impl Bench {
    /// Table `t` in PostgreSQL, to a folder; `delay` slows the stream down
    /// (seconds per row) for a fault to hit it in the middle.
    fn postgres(mode: &'static str) -> Bench {
        Bench::postgres_on(servers::postgres_private(), mode)
    }

    /// [`Bench::postgres`] on `pg`.
    fn postgres_on(pg: &'static servers::Postgres, mode: &'static str) -> Bench {
        let db = pg.create_database();
        pg.sql(
            &db,
            &format!(
                "CREATE TABLE t (id bigint PRIMARY KEY, name text);
                 INSERT INTO t SELECT i, 'n' || i FROM generate_series(1, {ROWS}) AS i;
                 CREATE TABLE delay (s float8);
                 INSERT INTO delay VALUES (0);"
            ),
        );
        let ws = Workspace::new();
        let url = format!(
            "postgres://postgres:{}@127.0.0.1:{}/{db}",
            servers::ADMIN_PASSWORD,
            pg.port
        );
        let sync = SyncFile {
            source: vec![
                "type = \"postgres\"".into(),
                format!("url = {}", toml_str(&url)),
                "read_timeout = \"3s\"".into(),
            ],
            ..SyncFile::sqlite(&ws, PG_QUERY, "id")
                .model_name("t")
                .mode(mode)
        }
        .write(&ws, "t.toml");
        Bench {
            dest: ws.out.clone(),
            ws,
            pg: Some(db),
            pg_server: Some(pg),
            emu: None,
            mode,
            sync,
            token: 0,
            next_id: ROWS + 1,
            source_engine: false,
        }
    }

    /// The PostgreSQL server holding `t`.
    fn server(&self) -> &'static servers::Postgres {
        self.pg_server.expect("a PostgreSQL bench")
    }

    /// Table `t` in PostgreSQL, compared in the database
    /// (`state_schema`), to a folder.
    fn postgres_source(mode: &'static str) -> Bench {
        // The shared server: the private one is crashed by another test.
        let mut b = Bench::postgres_on(servers::postgres(), mode);
        b.exec("CREATE SCHEMA dropsync");
        let text = std::fs::read_to_string(&b.sync).unwrap().replace(
            "read_timeout = \"3s\"\n",
            "read_timeout = \"3s\"\nstate_schema = \"dropsync\"\n",
        );
        assert!(text.contains("state_schema"));
        std::fs::write(&b.sync, text).unwrap();
        b.source_engine = true;
        b
    }

    /// After a clean run on the source engine: the generation in force is
    /// the one delivered, nothing is pending, and the snapshot holds the
    /// table's keys.
    fn check_state_schema(&self, when: &str) {
        if !self.source_engine {
            return;
        }
        let db = self.pg.as_ref().unwrap();
        let mut c = self.server().admin(db);
        let row = c
            .query_one(
                "SELECT pending, (SELECT count(*) FROM dropsync.ds_t), (SELECT count(*) FROM dropsync.ds_t_next), (SELECT count(*) FROM t) FROM dropsync.dropsync_syncs WHERE sync_id = 't'",
                &[],
            )
            .unwrap();
        let (pending, base, next, table): (Option<i64>, i64, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        assert_eq!(
            (pending, next),
            (None, 0),
            "{when}: a generation left pending"
        );
        assert_eq!(base, table, "{when}: the snapshot in the database");
    }

    /// The server process serving Dropsync's query, once the stream is a
    /// second in.
    fn backend_streaming(&self) -> i32 {
        let db = self.pg.as_ref().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut admin = servers::postgres_private().admin(db);
            let found = admin
                .query(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'dropsync' AND datname = current_database() AND query LIKE '%pg_sleep%' AND state <> 'idle'",
                    &[],
                )
                .unwrap();
            if let Some(row) = found.first() {
                std::thread::sleep(Duration::from_secs(1));
                return row.get(0);
            }
            assert!(Instant::now() < deadline, "the run's query never started");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn signal(pid: i32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// The server back after a crash: a connection works again.
fn wait_for_postgres(db: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let conn = format!(
        "host=127.0.0.1 port={} user=postgres password={} dbname={db}",
        servers::postgres_private().port,
        servers::ADMIN_PASSWORD
    );
    while postgres::Client::connect(&conn, postgres::NoTls).is_err() {
        assert!(Instant::now() < deadline, "PostgreSQL did not come back");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The fault matrix on the in-database diff: the snapshot in PostgreSQL,
/// generations written before delivery and made current by the local
/// commit, through the same kills, cancels and failed commits.
#[test]
fn postgres_source_insert_diff_lose_no_row_and_send_none_twice_through_every_fault() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let mut tally = Tally::default();
    for mode in ["insert", "diff"] {
        matrix_on(
            Bench::postgres_source(mode),
            Target::Folder,
            &mut rng,
            &mut tally,
        );
    }
    tally.print("fault matrix, PostgreSQL in-database diff");
}

/// PostgreSQL stops answering mid-stream (its process frozen with SIGSTOP:
/// the kernel still acknowledges, so TCP keepalives see nothing) and then
/// crashes mid-stream (the backend SIGKILLed: the server restarts every
/// session). Each run fails in bounded time naming the server, changes
/// nothing, and the next run delivers everything.
#[test]
fn postgres_frozen_or_crashed_mid_stream_loses_nothing() {
    let mut tally = Tally::default();
    for mode in ["all", "insert", "diff"] {
        let mut b = Bench::postgres(mode);
        let db = b.pg.clone().unwrap();
        b.clean_run("first run");
        b.check(&mut tally, "first run");
        for (round, fault) in [(1, "freeze"), (2, "crash")] {
            let when = format!("postgres/{mode} {fault}");
            b.churn(round);
            b.exec("UPDATE delay SET s = 0.002");
            let started = Instant::now();
            let child = b.run_command().spawn().unwrap();
            let pid = b.backend_streaming();
            signal(pid, if fault == "freeze" { "-STOP" } else { "-KILL" });
            tally.fault(fault);
            let out = child.wait_with_output().unwrap();
            let took = started.elapsed();
            if fault == "freeze" {
                // Thawed, it finds its client gone and ends.
                signal(pid, "-CONT");
                let deadline = Instant::now() + Duration::from_secs(30);
                while std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    assert!(Instant::now() < deadline, "{when}: backend {pid} lives on");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            let json: Json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
            assert_eq!(json["status"], "failed", "{when}: {json}");
            tally.failed += 1;
            let error = json["error"].as_str().unwrap_or_default();
            let port = servers::postgres_private().port;
            if fault == "freeze" {
                assert!(
                    error.contains(&format!(
                        "no answer from 127.0.0.1:{port} within 3s while the query ran"
                    )),
                    "{when}: {error}"
                );
                assert!(took < Duration::from_secs(30), "{when}: took {took:?}");
            } else {
                assert!(
                    error.contains(&format!("127.0.0.1:{port}"))
                        && error.contains("the server closed the connection while the query ran"),
                    "{when}: {error}"
                );
                wait_for_postgres(&db);
            }
            eprintln!("{when}: the run failed after {took:?}: {error}");
            b.exec("UPDATE delay SET s = 0");
            b.clean_run(&when);
            b.check(&mut tally, &when);
            tally.rounds += 1;
        }
    }
    tally.print("PostgreSQL mid-stream");
}

// ---------- a full disk ----------

/// The file that fills a disk.
const FILL: &str = "fill.bin";

/// A small tmpfs mounted over `dir`, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }

    /// Writes until the disk refuses a byte more.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.0.join(FILL)).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.0.join(FILL)).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The destination's disk, then the state folder's, fills up: the run
/// fails saying so, leaves no temporary file and no staging behind, the
/// snapshot stays, and once there is room the next run delivers every
/// change. (Mounting a tmpfs needs root, as CI has; otherwise this says
/// it was skipped.)
#[test]
fn a_full_disk_fails_the_run_and_the_next_run_delivers_everything() {
    let probe = tempfile::tempdir().unwrap();
    if SmallDisk::mount(probe.path(), "1m").is_none() {
        eprintln!("SKIPPED: mounting a tmpfs needs root");
        return;
    }
    let mut tally = Tally::default();
    for (which, mode) in [
        ("destination", "diff"),
        ("destination", "insert"),
        ("state", "diff"),
    ] {
        let when = format!("full {which} disk, {mode}");
        let mut b = Bench::new(Target::Folder, mode);
        let dir = if which == "destination" {
            b.dest.clone()
        } else {
            b.ws.state.clone()
        };
        let disk = SmallDisk::mount(&dir, "16m").expect("mount a tmpfs");
        b.clean_run("first run");
        b.check(&mut tally, "first run");
        b.churn(1);
        disk.fill();
        tally.fault(&format!("full {which} disk"));
        let (out, json) = b.run(&[]);
        assert!(!out.status.success(), "{when}: {json}");
        tally.failed += 1;
        let said = format!("{json} {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            said.contains("No space left on device")
                || said.contains("the disk holding the state folder is full"),
            "{when}: {said}"
        );
        eprintln!("{when}: {}", json["error"].as_str().unwrap_or(&said));
        let stray: Vec<String> = list_files(&b.dest)
            .into_iter()
            .filter(|f| f.contains(".dropsync-"))
            .collect();
        assert!(stray.is_empty(), "{when}: {stray:?}");
        disk.free();
        b.clean_run(&when);
        b.check(&mut tally, &when);
        tally.rounds += 1;
        drop(disk);
    }
    tally.print("full disk");
}
