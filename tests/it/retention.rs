//! Retention (`[sync.retention] keep_runs`), on a folder and on Dropbox
//! (the emulator): only the last N successful runs' files stay; a file
//! Dropsync did not deliver is never deleted, whatever its name; a path a
//! kept run wrote again is never deleted; a sync moved to another folder
//! deletes nothing there by its old runs' paths; a failed delete is
//! reported, the run still succeeds, and the next run deletes it.
//!
//! Runs go through the real CLI, which applies retention after each run's
//! commit; the tests read the outcome from the run's own report (faults are
//! injected before the run).

use crate::support::{at, emulator, list_files, SyncFile, Workspace};
use dropbox_emulator::{Config, Running};
use dropsync::destination::{Destination, DropboxDestination, FolderDestination};
use dropsync::dropbox::{Client, Credentials, Endpoints, Secret};
use dropsync::retention::{self, RetentionOutcome};
use dropsync::store::SyncStore;
use dropsync::SyncSpec;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};

/// What retention did after the run that printed `report`.
fn retained(report: &Json, sync: &Path, state: &Path, dest: &dyn Destination) -> RetentionOutcome {
    assert_eq!(report["status"], "success", "{report:#}");
    let _ = (sync, state, dest);
    serde_json::from_value(report["retention"].clone()).expect("the run's retention outcome")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn people(ws: &Workspace) {
    ws.sql(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO people VALUES (1, 'Ada'), (2, 'Grace');",
    );
}

fn folder_sync(ws: &Workspace, filename: &str, keep: u32) -> PathBuf {
    SyncFile::sqlite(ws, "SELECT * FROM people ORDER BY id", "id")
        .mode("all")
        .filename(filename)
        .sync_line(&format!("retention = {{ keep_runs = {keep} }}"))
        .write(ws, "people.toml")
}

fn day(n: u32) -> String {
    format!("people_2024-03-{n:02}.csv")
}

#[test]
fn a_folder_keeps_the_last_runs_files_and_never_deletes_others() {
    let ws = Workspace::new();
    people(&ws);
    let sync = folder_sync(&ws, "people_{YYYY}-{MM}-{DD}.csv", 2);
    // Someone else's files, one named as a run would name it.
    std::fs::write(ws.out.join("people_2024-02-01.csv"), "theirs").expect("write");
    std::fs::write(ws.out.join("notes.txt"), "theirs").expect("write");
    let dest = FolderDestination::new(ws.out.clone());
    let mut deleted = Vec::new();
    for n in 1..=5 {
        let report = ws.run_ok(&sync, &at(n));
        let outcome = retained(&report, &sync, &ws.state, &dest);
        assert!(
            outcome.failed.is_empty() && outcome.error.is_none(),
            "{outcome:?}"
        );
        deleted.push(sorted(outcome.deleted));
    }
    assert_eq!(
        deleted,
        vec![vec![], vec![], vec![day(1)], vec![day(2)], vec![day(3)]]
    );
    assert_eq!(
        list_files(&ws.out),
        vec![
            "notes.txt".to_string(),
            "people_2024-02-01.csv".into(),
            day(4),
            day(5)
        ]
    );
    assert_eq!(ws.out_text("people_2024-02-01.csv"), "theirs");

    // History can say which files retention deleted.
    let spec = SyncSpec::load(&sync).expect("load");
    let store = SyncStore::open(&ws.state, &spec.sync.id).expect("store");
    assert_eq!(
        retention::deleted_files(&store, 1).expect("read"),
        vec![day(1)]
    );
    assert!(retention::deleted_files(&store, 5)
        .expect("read")
        .is_empty());

    // A deleted file is not deleted again, even if the same name comes back
    // from somewhere else.
    std::fs::write(ws.out.join(day(1)), "theirs now").expect("write");
    let report = ws.run_ok(&sync, &at(6));
    let outcome = retained(&report, &sync, &ws.state, &dest);
    assert_eq!(outcome.deleted, vec![day(4)]);
    assert_eq!(ws.out_text(&day(1)), "theirs now");
}

#[test]
fn a_fixed_filename_reused_by_every_run_is_never_deleted() {
    let ws = Workspace::new();
    people(&ws);
    let sync = folder_sync(&ws, "people.csv", 1);
    let dest = FolderDestination::new(ws.out.clone());
    for n in 1..=4 {
        ws.sql(&format!("INSERT INTO people VALUES ({}, 'n{n}')", n + 10));
        let report = ws.run_ok(&sync, &at(n));
        let outcome = retained(&report, &sync, &ws.state, &dest);
        assert!(outcome.is_empty(), "run {n}: {outcome:?}");
    }
    assert_eq!(list_files(&ws.out), vec!["people.csv".to_string()]);
    assert!(ws.out_text("people.csv").contains("n4"));
}

#[test]
fn a_sync_moved_to_another_folder_deletes_nothing_there_by_old_paths() {
    let ws = Workspace::new();
    people(&ws);
    let old = folder_sync(&ws, "people_{YYYY}-{MM}-{DD}.csv", 10);
    for n in 1..=3 {
        ws.run_ok(&old, &at(n));
    }
    // The same sync now delivers elsewhere, keeping one run; the new folder
    // holds a file at a path the old runs wrote in the old folder.
    let moved = ws.path("moved");
    std::fs::create_dir(&moved).expect("mkdir");
    std::fs::write(moved.join(day(1)), "theirs").expect("write");
    let sync = SyncFile::sqlite(&ws, "SELECT * FROM people ORDER BY id", "id")
        .mode("all")
        .filename("people_{YYYY}-{MM}-{DD}.csv")
        .destination(&moved)
        .sync_line("retention = { keep_runs = 1 }")
        .write(&ws, "people.toml");
    let dest = FolderDestination::new(moved.clone());
    for n in 4..=5 {
        let report = ws.run_ok(&sync, &at(n));
        let outcome = retained(&report, &sync, &ws.state, &dest);
        let expected = if n == 5 { vec![day(4)] } else { vec![] };
        assert_eq!(outcome.deleted, expected, "run {n}");
    }
    assert_eq!(list_files(&moved), vec![day(1), day(5)]);
    assert_eq!(list_files(&ws.out), vec![day(1), day(2), day(3)]);
}

const TOKEN: &str = "retention-token";

struct Dropbox {
    dir: tempfile::TempDir,
    emu: Running,
    root: PathBuf,
    state: PathBuf,
}

impl Dropbox {
    fn start() -> Dropbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("dropbox");
        std::fs::create_dir_all(root.join("exports")).expect("mkdir");
        let mut config = Config::new(&root);
        config.static_tokens = vec![TOKEN.into()];
        let emu = dropbox_emulator::start(config).expect("start the emulator");
        let db = dir.path().join("shop.db");
        rusqlite::Connection::open(&db)
            .expect("db")
            .execute_batch(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
                 INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com');",
            )
            .expect("seed");
        let state = dir.path().join("state");
        Dropbox {
            dir,
            emu,
            root,
            state,
        }
    }

    fn client(&self) -> Client {
        let base = self.emu.base_url.clone();
        let endpoints = Endpoints {
            api: base.clone(),
            content: base.clone(),
            oauth: base,
        };
        Client::new(endpoints, Credentials::Access(Secret::new(TOKEN))).expect("client")
    }

    fn destination(&self) -> DropboxDestination {
        DropboxDestination::new(self.client(), "/exports")
    }

    fn sync(&self, filename: &str, keep: u32) -> PathBuf {
        let path = emulator::customers_sync(
            self.dir.path(),
            "dbx-retention",
            "/exports",
            "all",
            filename,
        );
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str(&format!("[sync.retention]\nkeep_runs = {keep}\n"));
        std::fs::write(&path, text).expect("write");
        path
    }

    fn run(&self, sync: &Path, n: u32) -> Json {
        let out = assert_cmd::Command::cargo_bin("dropsync")
            .expect("binary")
            .arg("--state-dir")
            .arg(&self.state)
            .envs(emulator::cli_env(&self.emu))
            .env("DROPSYNC_CREDENTIAL_STORE", "file")
            .env("DROPSYNC_DROPBOX_ACCESS_TOKEN", TOKEN)
            .args(["run", "--json", "--at", &at(n)])
            .arg(sync)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "the run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("a JSON report")
    }

    /// The files in the emulator's `/exports`.
    fn files(&self) -> Vec<String> {
        list_files(&self.root.join("exports"))
    }

    fn upload(&self, remote: &str, text: &str) {
        let local = self.dir.path().join("upload.tmp");
        std::fs::write(&local, text).expect("write");
        self.client()
            .upload(&local, remote, &|_| {})
            .expect("upload");
    }
}

fn customers(n: u32) -> String {
    format!("customers_2024-03-{n:02}.csv")
}

#[test]
fn dropbox_keeps_the_last_runs_files_and_never_deletes_others() {
    let env = Dropbox::start();
    let sync = env.sync("customers_{YYYY}-{MM}-{DD}.csv", 2);
    env.upload("/exports/customers_2024-02-01.csv", "theirs");
    env.upload("/exports/Notes.txt", "theirs");
    let dest = env.destination();
    let mut deleted = Vec::new();
    for n in 1..=5 {
        let report = env.run(&sync, n);
        let outcome = retained(&report, &sync, &env.state, &dest);
        assert!(
            outcome.failed.is_empty() && outcome.error.is_none(),
            "{outcome:?}"
        );
        deleted.push(outcome.deleted);
    }
    assert_eq!(
        deleted,
        vec![
            vec![],
            vec![],
            vec![customers(1)],
            vec![customers(2)],
            vec![customers(3)]
        ]
    );
    assert_eq!(
        env.files(),
        vec![
            "Notes.txt".to_string(),
            "customers_2024-02-01.csv".into(),
            customers(4),
            customers(5)
        ]
    );
    // Deletions went through delete_batch and its check, nothing else deleted.
    let routes: Vec<String> = emulator::routes(&env.emu)
        .into_iter()
        .map(|(r, _, _)| r)
        .collect();
    assert_eq!(
        routes.iter().filter(|r| *r == "files/delete_batch").count(),
        3
    );
    assert!(routes.iter().any(|r| r == "files/delete_batch/check"));
}

#[test]
fn dropbox_never_deletes_a_fixed_filename_or_a_folder_at_an_old_path() {
    let env = Dropbox::start();
    let sync = env.sync("customers.csv", 1);
    let dest = env.destination();
    for n in 1..=3 {
        let report = env.run(&sync, n);
        assert!(retained(&report, &sync, &env.state, &dest).is_empty());
    }
    assert_eq!(env.files(), vec!["customers.csv".to_string()]);

    // Another filename: the old one's runs expire and their file goes.
    let sync = env.sync("daily_{DD}.csv", 1);
    let report = env.run(&sync, 4);
    let outcome = retained(&report, &sync, &env.state, &dest);
    assert_eq!(outcome.deleted, vec!["customers.csv".to_string()]);
    // A path an expired run wrote, now a folder of someone else's: left alone.
    env.client()
        .delete_batch(&["/exports/daily_04.csv".to_string()])
        .expect("delete")
        .into_iter()
        .for_each(|r| r.expect("deleted"));
    env.upload("/exports/daily_04.csv/inside.txt", "theirs");
    // Nothing of ours is there any more: counted as gone, not deleted.
    let report = env.run(&sync, 5);
    let outcome = retained(&report, &sync, &env.state, &dest);
    assert_eq!(outcome.deleted, vec!["daily_04.csv".to_string()]);
    assert!(env.root.join("exports/daily_04.csv/inside.txt").is_file());
    assert_eq!(
        env.files(),
        vec!["daily_04.csv/inside.txt".to_string(), "daily_05.csv".into()]
    );
}

#[test]
fn a_failed_dropbox_delete_is_reported_and_retried_next_run() {
    let env = Dropbox::start();
    let sync = env.sync("customers_{YYYY}-{MM}-{DD}.csv", 1);
    let dest = env.destination();
    let report = env.run(&sync, 1);
    assert!(retained(&report, &sync, &env.state, &dest).is_empty());

    // Run 2's delete of run 1's file fails (the entry, as Dropbox reports it).
    emulator::add_faults(
        &env.emu,
        &json!({ "route": "files/delete_batch", "kind": "no_write_permission" }),
    );
    let report = env.run(&sync, 2);
    let outcome = retained(&report, &sync, &env.state, &dest);
    assert!(outcome.deleted.is_empty(), "{outcome:?}");
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    assert_eq!(outcome.failed[0].path, customers(1));
    assert_eq!(outcome.failed[0].attempts, 1);
    assert!(
        outcome.failed[0].error.contains("no_write_permission"),
        "{outcome:?}"
    );
    assert_eq!(env.files(), vec![customers(1), customers(2)]);
    let spec = SyncSpec::load(&sync).expect("load");
    let store = SyncStore::open(&env.state, &spec.sync.id).expect("store");
    assert_eq!(retention::pending(&store).expect("pending").len(), 1);

    // The whole call failing fails its entries too.
    emulator::add_faults(
        &env.emu,
        &json!({ "route": "files/delete_batch", "kind": "invalid_access_token" }),
    );
    let report = env.run(&sync, 3);
    let outcome = retained(&report, &sync, &env.state, &dest);
    assert!(outcome.deleted.is_empty(), "{outcome:?}");
    let failed: Vec<(String, u32)> = outcome
        .failed
        .iter()
        .map(|f| (f.path.clone(), f.attempts))
        .collect();
    assert_eq!(failed, vec![(customers(1), 2), (customers(2), 1)]);

    // The next run deletes what is still to delete.
    let report = env.run(&sync, 4);
    let outcome = retained(&report, &sync, &env.state, &dest);
    assert_eq!(
        outcome.deleted,
        vec![customers(1), customers(2), customers(3)]
    );
    assert!(outcome.failed.is_empty());
    assert_eq!(env.files(), vec![customers(4)]);
    assert!(retention::pending(&store).expect("pending").is_empty());
    assert_eq!(
        retention::deleted_files(&store, 1).expect("read"),
        vec![customers(1)]
    );
}
