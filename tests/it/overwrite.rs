//! A filename that repeats between runs: `dropsync check` warns about it in
//! Insert/Diff mode, and History marks the files a later run overwrote.

use crate::support as common;

use common::{SyncFile, Workspace};
use serde_json::Value as Json;

const PEOPLE: &str = "SELECT id, name, score FROM people ORDER BY id";

fn people_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score INTEGER);
         INSERT INTO people VALUES (1, 'Ada', 10), (2, 'Bob', 20);",
    );
    ws
}

fn files(run: &Json) -> Vec<(String, Json)> {
    run["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["overwritten_by"].clone(),
            )
        })
        .collect()
}

#[test]
fn check_warns_when_a_date_only_name_repeats_every_15_minutes() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .mode("insert")
        .filename("{model.name}-{YYYY}-{MM}-{DD}.csv")
        .sync_line("schedule = \"every 15m\"")
        .write(&ws, "people.toml");
    let r = ws.check(&sync);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stdout
            .contains("warning      the filename can repeat between runs"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("add {HH}{mm} or {sync.run.id}"),
        "{}",
        r.stdout
    );

    // All mode rewrites every row each run: no warning.
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .mode("all")
        .filename("{model.name}-{YYYY}-{MM}-{DD}.csv")
        .sync_line("schedule = \"every 15m\"")
        .write(&ws, "all.toml");
    let r = ws.check(&sync);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(!r.stdout.contains("warning"), "{}", r.stdout);
}

#[test]
fn check_warns_about_an_extension_that_is_not_the_format() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .filename("{model.name}-{sync.run.id}.xlsx")
        .write(&ws, "people.toml");
    let r = ws.check(&sync);
    assert_eq!(
        r.code,
        0,
        "a warning does not fail check: {}",
        r.all_output()
    );
    assert!(
        r.stdout
            .contains("warning      the filename ends in `.xlsx` but the format is CSV"),
        "{}",
        r.stdout
    );
    let json = ws
        .cli()
        .arg("check")
        .arg(&sync)
        .arg("--json")
        .output()
        .unwrap();
    let json: Json = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["warnings"].as_array().unwrap().len(), 1, "{json:#}");
}

#[test]
fn history_marks_files_that_a_later_run_overwrote() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .mode("diff")
        .filename("{model.name}-{YYYY}-{MM}-{DD}.csv")
        .write(&ws, "people.toml");
    let first = ws.run_ok(&sync, "2024-03-01T10:00:00Z");
    ws.sql("INSERT INTO people VALUES (3, 'Cy', 30);");
    let second = ws.run_ok(&sync, "2024-03-01T10:15:00Z");
    ws.sql("INSERT INTO people VALUES (4, 'Di', 40);");
    let third = ws.run_ok(&sync, "2024-03-02T10:00:00Z");
    let (r1, r2, r3) = (
        first["run_id"].as_i64().unwrap(),
        second["run_id"].as_i64().unwrap(),
        third["run_id"].as_i64().unwrap(),
    );
    // The second run's added file now holds Cy only: Ada and Bob are gone from the folder.
    assert_eq!(ws.csv_rows("people-2024-03-01_added.csv").len(), 1);

    let history = ws.history(&sync);
    let by_id = |id: i64| history.iter().find(|r| r["run_id"] == id).unwrap();
    for (path, by) in files(by_id(r1)) {
        assert!(path.starts_with("people-2024-03-01_"), "{path}");
        assert_eq!(by, Json::from(r2), "{path} of run {r1}");
    }
    for (path, by) in files(by_id(r2)) {
        assert_eq!(
            by,
            Json::Null,
            "{path}: the third run wrote another day's files"
        );
    }
    for (_, by) in files(by_id(r3)) {
        assert_eq!(by, Json::Null);
    }

    let text = ws.cli().arg("history").arg(&sync).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!(
            "people-2024-03-01_added.csv (2 rows) was overwritten by run {r2}; its rows are no longer there"
        )),
        "{text}"
    );
    assert_eq!(text.matches("was overwritten").count(), 3, "{text}");
}

#[test]
fn a_run_into_another_folder_overwrites_nothing() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .mode("insert")
        .filename("people.csv");
    let first = ws.run_ok(&sync.write(&ws, "people.toml"), "2024-03-01T10:00:00Z");
    let elsewhere = ws.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    ws.sql("INSERT INTO people VALUES (3, 'Cy', 30);");
    let file = sync.destination(&elsewhere).write(&ws, "people.toml");
    ws.run_ok(&file, "2024-03-01T10:15:00Z");
    let history = ws.history(&file);
    let old = history
        .iter()
        .find(|r| r["run_id"] == first["run_id"])
        .unwrap();
    assert_eq!(files(old), vec![("people.csv".to_string(), Json::Null)]);
}

#[test]
fn skipped_and_failed_runs_overwrite_nothing() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .mode("insert")
        .filename("people.csv")
        .skip_empty_files(true)
        .write(&ws, "people.toml");
    let first = ws.run_ok(&sync, "2024-03-01T10:00:00Z");
    // Nothing new: the file is skipped, so the first run's file is intact.
    let second = ws.run_ok(&sync, "2024-03-01T10:15:00Z");
    assert_eq!(second["files"][0]["skipped"], true, "{second:#}");
    // A failing run (duplicate key) writes nothing either.
    ws.sql("CREATE TABLE dup AS SELECT * FROM people; DROP TABLE people; CREATE VIEW people AS SELECT * FROM dup UNION ALL SELECT * FROM dup;");
    ws.run_failing(&sync, "2024-03-01T10:30:00Z");
    let history = ws.history(&sync);
    let old = history
        .iter()
        .find(|r| r["run_id"] == first["run_id"])
        .unwrap();
    assert_eq!(files(old), vec![("people.csv".to_string(), Json::Null)]);
}
