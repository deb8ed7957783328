//! The Dropbox destination end to end: the real CLI and engine against the
//! Dropbox API emulator, a real HTTP server on 127.0.0.1.

use crate::support::emulator;
use crate::support::free_port;
use assert_cmd::Command;
use dropbox_emulator::{faults::Fault, Config, Running};
use serde_json::{json, Value};
use std::io::BufRead;
use std::path::{Path, PathBuf};

struct Env {
    dir: tempfile::TempDir,
    emu: Running,
    root: PathBuf,
    state: PathBuf,
    db: PathBuf,
}

const TOKEN: &str = "test-token";

fn start(tweak: impl FnOnce(&mut Config)) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("dropbox");
    let mut config = Config::new(&root);
    config.static_tokens = vec![TOKEN.into()];
    tweak(&mut config);
    let emu = dropbox_emulator::start(config).expect("start the emulator");
    let state = dir.path().join("state");
    let db = dir.path().join("shop.db");
    let conn = rusqlite::Connection::open(&db).expect("db");
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
         INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Grace', 'grace@example.com'), (3, 'Zoë', 'zoe@example.com');",
    )
    .expect("seed");
    Env {
        dir,
        emu,
        root,
        state,
        db,
    }
}

impl Env {
    fn cli(&self) -> Command {
        let mut c = Command::cargo_bin("dropsync").expect("binary");
        c.arg("--state-dir").arg(&self.state);
        c.envs(emulator::cli_env(&self.emu))
            .env("DROPSYNC_CREDENTIAL_STORE", "file")
            .env_remove("DROPSYNC_DROPBOX_REFRESH_TOKEN")
            .env_remove("DROPSYNC_DROPBOX_APP_KEY");
        c
    }

    /// The CLI with the emulator's static access token.
    fn cli_token(&self) -> Command {
        let mut c = self.cli();
        c.env("DROPSYNC_DROPBOX_ACCESS_TOKEN", TOKEN);
        c
    }

    fn sql(&self, sql: &str) {
        rusqlite::Connection::open(&self.db)
            .expect("db")
            .execute_batch(sql)
            .expect("sql");
    }

    fn sync(&self, folder: &str, mode: &str, filename: &str) -> PathBuf {
        emulator::customers_sync(self.dir.path(), "dbx", folder, mode, filename)
    }

    fn fault(&self, faults: Value) {
        emulator::add_faults(&self.emu, &faults);
    }

    fn clear_faults(&self) {
        emulator::clear_faults(&self.emu);
    }

    fn log(&self) -> Vec<(String, u16)> {
        emulator::routes(&self.emu)
            .into_iter()
            .map(|(route, status, _)| (route, status))
            .collect()
    }

    fn remote(&self, path: &str) -> String {
        emulator::remote(&self.root, path)
    }

    fn run_json(&self, sync: &Path) -> (bool, Value) {
        let out = self
            .cli_token()
            .arg("run")
            .arg("--json")
            .arg(sync)
            .output()
            .expect("run");
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.success(), v)
    }
}

fn ids(csv_text: &str) -> Vec<String> {
    csv_text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn diff_runs_deliver_to_dropbox_with_non_ascii_names() {
    let env = start(|_| {});
    let folder = "/Exports Ünïcode";
    let sync = env.sync(folder, "diff", "kunden 🎉/run-{sync.run.id}.csv");

    // The folder must exist first: a clear error names the fix.
    let out = env.cli_token().arg("run").arg(&sync).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not exist") && err.contains("dropsync dropbox mkdir"),
        "{err}"
    );

    env.cli_token()
        .args(["dropbox", "mkdir", folder])
        .assert()
        .success();
    let (ok, r1) = env.run_json(&sync);
    assert!(ok, "{r1}");
    assert_eq!(r1["rows"]["added"], 3);
    assert_eq!(
        ids(&env.remote("Exports Ünïcode/kunden 🎉/run-2_added.csv")),
        ["1", "2", "3"]
    );

    env.sql("UPDATE customers SET email = 'ada@new.example' WHERE id = 1; DELETE FROM customers WHERE id = 2; INSERT INTO customers VALUES (4, 'Linus', 'l@example.com');");
    let (ok, r2) = env.run_json(&sync);
    assert!(ok, "{r2}");
    assert_eq!(
        (
            r2["rows"]["added"].as_u64(),
            r2["rows"]["changed"].as_u64(),
            r2["rows"]["removed"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    let base = "Exports Ünïcode/kunden 🎉/run-3";
    assert_eq!(ids(&env.remote(&format!("{base}_added.csv"))), ["4"]);
    assert!(env
        .remote(&format!("{base}_changed.csv"))
        .contains("ada@new.example"));
    assert!(env
        .remote(&format!("{base}_removed.csv"))
        .contains("grace@example.com"));

    // Every header the client sent was ASCII (the emulator refuses others with 400).
    assert!(env.log().iter().all(|(_, s)| *s != 400));
    // Three files of one run are committed with one batch.
    assert!(env
        .log()
        .iter()
        .any(|(r, s)| r == "files/upload_session/finish_batch_v2" && *s == 200));
}

/// Adds ~9 MB of rows, so that with 4 MiB chunks a file needs 3 requests.
fn add_big_rows(env: &Env) {
    let mut conn = rusqlite::Connection::open(&env.db).expect("db");
    let tx = conn.transaction().expect("tx");
    {
        let mut insert = tx
            .prepare("INSERT INTO customers VALUES (?1, ?2, ?3)")
            .expect("prepare");
        let pad = "x".repeat(200);
        for i in 10..40_000 {
            insert
                .execute(rusqlite::params![
                    i,
                    format!("name {i} {pad}"),
                    format!("e{i}@example.com")
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

/// The CLI with small chunks and `streams` chunks in flight (1: a
/// sequential session, more: a concurrent one).
fn chunked(env: &Env, streams: u32) -> Command {
    let mut c = env.cli_token();
    c.env("DROPSYNC_DROPBOX_CHUNK_BYTES", "4194304")
        .env("DROPSYNC_DROPBOX_CHUNK_THRESHOLD", "1000")
        .env("DROPSYNC_DROPBOX_UPLOAD_STREAMS", streams.to_string());
    c
}

fn assert_big_file_delivered(env: &Env, remote: &str) {
    let text = env.remote(remote);
    assert_eq!(text.lines().count(), 1 + 3 + 39_990);
    assert!(
        text.len() > 8_000_000,
        "the file must need several requests"
    );
    // No request ever exceeded the limit.
    assert!(env.log().iter().all(|(_, s)| *s != 413));
}

/// The session type of each upload session started, in order.
fn session_types(env: &Env) -> Vec<String> {
    emulator::log(&env.emu)
        .iter()
        .filter(|e| e["route"] == "files/upload_session/start" && e["status"] == 200)
        .map(|e| {
            let arg: Value = serde_json::from_str(e["arg"].as_str().unwrap_or("{}")).expect("arg");
            let t = &arg["session_type"];
            t[".tag"]
                .as_str()
                .or(t.as_str())
                .unwrap_or("sequential")
                .to_string()
        })
        .collect()
}

#[test]
fn a_large_file_goes_through_concurrent_sessions_and_survives_faults() {
    let env = start(|c| c.max_request_bytes = 5_000_000);
    add_big_rows(&env);
    env.cli_token()
        .args(["dropbox", "mkdir", "/big"])
        .assert()
        .success();
    let sync = env.sync("/big", "all", "all.csv");
    env.fault(json!([
        {"route": "files/upload_session/start", "kind": "expired_access_token"},
        {"route": "files/upload_session/append_v2", "kind": "too_many_requests", "retry_after": 1},
        {"route": "files/upload_session/append_v2", "kind": "too_many_requests_text", "retry_after": 1},
        {"route": "files/upload_session/append_v2", "kind": "server_error", "status": 503},
        {"route": "files/upload_session/append_v2", "kind": "drop_after"},
        {"route": "files/upload_session/append_v2", "kind": "drop"},
    ]));
    // An expired token without a refresh token cannot recover: a clear failure.
    let out = chunked(&env, 2)
        .arg("run")
        .arg(&sync)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dropsync auth dropbox"));
    // The rest of the faults are absorbed by the next run: a part whose
    // answer was lost is sent again at the same offset.
    let out = chunked(&env, 2)
        .args(["run", "--json"])
        .arg(&sync)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(out.status.success(), "{report}");
    assert_big_file_delivered(&env, "big/all.csv");
    assert_eq!(session_types(&env), ["concurrent"]);
    let log = env.log();
    let appends = log
        .iter()
        .filter(|(r, s)| r == "files/upload_session/append_v2" && *s == 200)
        .count();
    assert!(appends >= 3, "{log:?}");
    for status in [429, 503] {
        assert!(
            log.iter().any(|(_, s)| *s == status),
            "no {status} in {log:?}"
        );
    }
    assert!(
        log.iter().any(|(r, _)| r.ends_with("#drop-after")),
        "{log:?}"
    );
}

#[test]
fn a_sequential_session_resumes_from_the_correct_offset() {
    let env = start(|c| c.max_request_bytes = 5_000_000);
    add_big_rows(&env);
    let sync = env.sync("/", "all", "all.csv");
    // The second append is stored but its answer is lost: the retry gets
    // incorrect_offset and the client carries on from correct_offset.
    env.fault(json!([
        {"route": "files/upload_session/append_v2", "kind": "drop_after"},
        {"route": "files/upload_session/append_v2", "kind": "server_error", "status": 502},
    ]));
    chunked(&env, 1).arg("run").arg(&sync).assert().success();
    assert_big_file_delivered(&env, "all.csv");
    assert_eq!(session_types(&env), ["sequential"]);
    let log = env.log();
    assert!(
        log.iter()
            .any(|(r, s)| r == "files/upload_session/append_v2" && *s == 409),
        "no incorrect_offset in {log:?}"
    );
}

#[test]
fn a_session_lost_mid_upload_restarts_the_file() {
    for streams in [1, 3] {
        let env = start(|c| c.max_request_bytes = 5_000_000);
        add_big_rows(&env);
        let sync = env.sync("/", "all", "all.csv");
        // The session vanishes after the first part is in.
        env.fault(json!([
            {"route": "files/upload_session/append_v2", "kind": "session_lost", "skip": 1},
        ]));
        chunked(&env, streams)
            .arg("run")
            .arg(&sync)
            .assert()
            .success();
        assert_big_file_delivered(&env, "all.csv");
        assert_eq!(
            session_types(&env).len(),
            2,
            "streams {streams}: one restart"
        );
        // A session lost every time ends in a clear failure, snapshot untouched.
        env.sql("UPDATE customers SET name = 'Ada L' WHERE id = 1;");
        env.fault(json!([
            {"route": "files/upload_session/append_v2", "kind": "session_lost", "times": 50},
        ]));
        let out = chunked(&env, streams)
            .arg("run")
            .arg(&sync)
            .output()
            .expect("run");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("upload session was lost"), "{err}");
        env.clear_faults();
        chunked(&env, streams)
            .arg("run")
            .arg(&sync)
            .assert()
            .success();
        assert!(env.remote("all.csv").contains("Ada L"));
    }
}

#[test]
fn a_failed_upload_changes_nothing_and_the_next_run_delivers_the_same_rows() {
    let env = start(|_| {});
    env.cli_token()
        .args(["dropbox", "mkdir", "/out"])
        .assert()
        .success();
    let sync = env.sync("/out", "insert", "new-{sync.run.id}.csv");
    let (ok, _) = env.run_json(&sync);
    assert!(ok);
    env.sql("INSERT INTO customers VALUES (7, 'New', 'n@example.com');");
    env.fault(
        json!([{ "route": "files/upload", "kind": "server_error", "status": 500, "times": 50 }]),
    );
    let (ok, failed) = env.run_json(&sync);
    assert!(!ok);
    assert!(
        failed["error"]
            .as_str()
            .unwrap_or_default()
            .contains("after 6 attempts"),
        "{failed}"
    );
    assert!(!env.root.join("out/new-2.csv").exists());
    env.clear_faults();
    let (ok, again) = env.run_json(&sync);
    assert!(ok, "{again}");
    assert_eq!(again["rows"]["added"], 1);
    assert_eq!(ids(&env.remote("out/new-3.csv")), ["7"]);
}

#[test]
fn errors_name_the_problem() {
    let env = start(|c| c.space_bytes = 50);
    let out = env
        .cli()
        .env("DROPSYNC_DROPBOX_ACCESS_TOKEN", "wrong")
        .args(["dropbox", "ls", "/"])
        .output()
        .expect("ls");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dropsync auth dropbox"));

    let out = env
        .cli_token()
        .args(["dropbox", "ls", "/missing"])
        .output()
        .expect("ls");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    // No space left: the run fails with the reason.
    env.cli_token()
        .args(["dropbox", "mkdir", "/full"])
        .assert()
        .success();
    let sync = env.sync("/full", "all", "all.csv");
    let (ok, r) = env.run_json(&sync);
    assert!(!ok);
    assert!(
        r["error"].as_str().unwrap_or_default().contains("full"),
        "{r}"
    );

    // Without any credentials: how to connect.
    let out = env.cli().args(["dropbox", "ls", "/"]).output().expect("ls");
    assert!(String::from_utf8_lossy(&out.stderr).contains("dropsync auth dropbox"));
}

#[test]
fn folder_listing_follows_every_page() {
    let env = start(|c| c.list_page_size = Some(2));
    let local = env.dir.path().join("f.txt");
    std::fs::write(&local, "hello").expect("write");
    for i in 0..5 {
        env.cli_token()
            .args(["dropbox", "put"])
            .arg(&local)
            .arg(format!("/many/f{i}.txt"))
            .assert()
            .success();
    }
    let out = env
        .cli_token()
        .args(["dropbox", "ls", "/many"])
        .output()
        .expect("ls");
    let text = String::from_utf8_lossy(&out.stdout);
    for i in 0..5 {
        assert!(text.contains(&format!("/many/f{i}.txt")), "{text}");
    }
    assert!(
        env.log()
            .iter()
            .filter(|(r, _)| r == "files/list_folder/continue")
            .count()
            >= 2
    );
}

#[test]
fn oauth_connects_refreshes_and_disconnects() {
    let env = start(|_| {});
    let port = free_port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dropsync"))
        .arg("--state-dir")
        .arg(&env.state)
        .args(["auth", "dropbox", "--no-browser"])
        .env("DROPSYNC_DROPBOX_API_URL", &env.emu.base_url)
        .env("DROPSYNC_DROPBOX_CONTENT_URL", &env.emu.base_url)
        .env("DROPSYNC_DROPBOX_OAUTH_URL", &env.emu.base_url)
        .env(
            "DROPSYNC_DROPBOX_APP_KEY",
            dropbox_emulator::DEFAULT_APP_KEY,
        )
        .env("DROPSYNC_OAUTH_PORT", port.to_string())
        .env("DROPSYNC_CREDENTIAL_STORE", "file")
        .env_remove("DROPSYNC_DROPBOX_ACCESS_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("auth");
    let stderr = child.stderr.take().expect("stderr");
    let url = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("http"))
        .expect("the authorize URL");
    assert!(
        url.contains("code_challenge_method=S256")
            && url.contains("token_access_type=offline")
            && url.contains("state="),
        "{url}"
    );
    assert!(
        url.contains(&format!("redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}")),
        "{url}"
    );
    // The "browser": the emulator approves and redirects to the CLI's listener.
    let page = reqwest::blocking::get(&url)
        .expect("authorize")
        .text()
        .expect("page");
    assert!(page.contains("Dropbox is connected"), "{page}");
    let out = child.wait_with_output().expect("auth exits");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Dana Tester <dana@example.com>"),
        "{stdout}"
    );

    // The refresh token is in a private file and never printed.
    let token_file = std::fs::read_dir(env.state.join("dropbox"))
        .expect("dropbox dir")
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "token"))
        .expect("token file");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        token_file.metadata().expect("meta").permissions().mode() & 0o777,
        0o600
    );
    let token = std::fs::read_to_string(token_file.path()).expect("token");
    assert!(!stdout.contains(token.trim()));

    env.cli()
        .args(["auth", "status"])
        .assert()
        .success()
        .stdout(predicates::str::contains("connected"));
    // An expired access token is refreshed once, transparently.
    env.fault(json!([{ "route": "files/create_folder_v2", "kind": "expired_access_token" }]));
    env.cli()
        .args(["dropbox", "mkdir", "/via-oauth"])
        .assert()
        .success();
    let sync = env.sync("/via-oauth", "all", "all.csv");
    env.cli().arg("run").arg(&sync).assert().success();
    assert_eq!(ids(&env.remote("via-oauth/all.csv")), ["1", "2", "3"]);
    assert!(env.log().iter().any(|(r, _)| r == "oauth2/token"));

    env.cli().args(["auth", "disconnect"]).assert().success();
    env.cli()
        .args(["auth", "status"])
        .assert()
        .success()
        .stdout(predicates::str::contains("No Dropbox account"));
    // The revoked refresh token no longer works.
    let out = env
        .cli()
        .env("DROPSYNC_DROPBOX_REFRESH_TOKEN", token.trim())
        .env(
            "DROPSYNC_DROPBOX_APP_KEY",
            dropbox_emulator::DEFAULT_APP_KEY,
        )
        .args(["dropbox", "ls", "/"])
        .output()
        .expect("ls");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("connected again"));
}

#[test]
fn emulator_faults_can_be_given_at_start() {
    let env = start(|c| {
        c.faults = vec![Fault {
            route: "files/list_folder".into(),
            kind: dropbox_emulator::faults::FaultKind::ServerError,
            times: 2,
            retry_after: None,
            status: Some(502),
            delay_ms: None,
            skip: 0,
        }]
    });
    env.cli_token()
        .args(["dropbox", "ls", "/"])
        .assert()
        .success();
    assert_eq!(env.log().iter().filter(|(_, s)| *s == 502).count(), 2);
    let local = env.dir.path().join("x");
    std::fs::write(&local, "x").expect("write");
    env.cli_token()
        .args(["dropbox", "put"])
        .arg(&local)
        .arg("/x")
        .assert()
        .success();
    assert_eq!(env.remote("x"), "x");
}

#[test]
fn a_dropbox_that_never_answers_fails_the_run_in_bounded_time_naming_the_host() {
    let env = start(|_| {});
    env.cli_token()
        .args(["dropbox", "mkdir", "/out"])
        .assert()
        .success();
    let sync = env.sync("/out", "insert", "new-{sync.run.id}.csv");
    let (ok, first) = env.run_json(&sync);
    assert!(ok, "{first}");
    env.sql("INSERT INTO customers VALUES (7, 'New', 'n@example.com');");
    env.fault(json!([{ "route": "files/upload", "kind": "stall", "times": 100 }]));
    let started = std::time::Instant::now();
    let out = env
        .cli_token()
        .env("DROPSYNC_DROPBOX_TIMEOUT_SECS", "2")
        .args(["run", "--json"])
        .arg(&sync)
        .output()
        .expect("run");
    let took = started.elapsed();
    eprintln!("the stalled run failed after {took:?}");
    assert!(!out.status.success());
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    let failed: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    let host = env.emu.base_url.trim_start_matches("http://").to_string();
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("no answer from {host} within 2 s on files/upload")),
        "{failed}"
    );
    let stalls = env
        .log()
        .iter()
        .filter(|(r, _)| r == "files/upload#stall")
        .count();
    assert_eq!(stalls, 2, "one retry after a timeout");
    assert!(!env.root.join("out/new-2.csv").exists());
    env.clear_faults();
    let (ok, again) = env.run_json(&sync);
    assert!(ok, "{again}");
    // The snapshot did not take the failed run's row: it is delivered now.
    assert_eq!(again["rows"]["added"], 1, "{again}");
    assert_eq!(ids(&env.remote("out/new-3.csv")), ["7"]);
}

/// Dropbox commits some entries of a run's batch and refuses another (its
/// path is a folder): the run fails, but does not pretend nothing happened.
/// Its record names the files that landed, with their rows; the snapshot did
/// not advance, so the next run sends the same changes again.
#[test]
fn a_batch_that_lands_in_part_records_the_files_that_landed() {
    let env = start(|_| {});
    for folder in ["/out", "/out/dbx_removed.csv"] {
        env.cli_token()
            .args(["dropbox", "mkdir", folder])
            .assert()
            .success();
    }
    let sync = env.sync("/out", "diff", "dbx.csv");
    let (ok, failed) = env.run_json(&sync);
    assert!(!ok, "{failed}");
    assert_eq!(failed["status"], "failed");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("dbx_removed.csv")
            && error.contains("2 of the run's files reached the destination")
            && error.contains("the next run sends this run's changes again"),
        "{error}"
    );
    let landed: Vec<(&str, u64)> = failed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(landed, [("dbx_added.csv", 3), ("dbx_changed.csv", 0)]);
    assert_eq!(ids(&env.remote("out/dbx_added.csv")), ["1", "2", "3"]);

    // history --json keeps the same record.
    let out = env
        .cli()
        .args(["history", "--json"])
        .arg(&sync)
        .output()
        .unwrap();
    let history: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        history[0]["files"].as_array().unwrap().len(),
        2,
        "{history}"
    );

    // The snapshot stayed: a run to names that work sends all three rows again.
    let sync = env.sync("/out", "diff", "dbx2.csv");
    let (ok, again) = env.run_json(&sync);
    assert!(ok, "{again}");
    assert_eq!(again["rows"]["added"], 3);
}
