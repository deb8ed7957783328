//! The `dropsync` command line, end to end: `run --json`, `preview`, `history`,
//! `reset`, `check`, `demo`, the state folder (`--state-dir` and
//! `DROPSYNC_STATE_DIR`) and the errors a user sees for bad input.

use crate::support::{assert_success, counts, list_files, Workspace};
use rusqlite::Connection;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn keys(v: &Json) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The customers table used by most tests: ids 1..=n.
fn customers_db(ws: &Workspace, n: i64) {
    ws.sql(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, score REAL);",
    );
    for i in 1..=n {
        ws.sql(&format!(
            "INSERT INTO customers VALUES ({i}, 'name {i}', 'c{i}@example.com', {i}.5);"
        ));
    }
}

/// A sync over the customers table.
fn customers_sync(ws: &Workspace, name: &str, mode: &str, filename: &str, extra: &str) -> PathBuf {
    ws.write_sync(
        &format!("{name}.toml"),
        &format!(
            r#"[source]
type = "sqlite"
path = "source.db"

[model]
name = "customers"
sql = "SELECT id, name, email, score FROM customers ORDER BY id"
primary_key = "id"

[destination]
type = "folder"
path = "out"

[sync]
mode = "{mode}"
format = "csv"
filename = "{filename}"
{extra}
"#
        ),
    )
}

/// The data rows of a delivered CSV file (header skipped), as text lines.
fn csv_lines(ws: &Workspace, rel: &str) -> Vec<String> {
    ws.out_text(rel)
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------
// run --json
// ---------------------------------------------------------------------------

const RUN_KEYS: &[&str] = &[
    "run_id",
    "sync_id",
    "status",
    "error",
    "error_code",
    "started_at",
    "finished_at",
    "rows",
    "files",
    "alerts",
];
const ROW_KEYS: &[&str] = &["queried", "added", "changed", "removed", "source_changed"];
const FILE_KEYS: &[&str] = &["path", "kind", "rows", "bytes", "skipped", "overwritten_by"];

/// Asserts the documented shape of one run object (`run --json`, `history --json`).
fn assert_run_shape(r: &Json) {
    assert_eq!(keys(r), set(RUN_KEYS), "run keys: {r:#}");
    assert!(r["run_id"].is_i64(), "{r:#}");
    // No [[alerts]] channels in these syncs: nothing was sent.
    assert_eq!(r["alerts"], serde_json::json!([]), "{r:#}");
    assert!(r["sync_id"].is_string(), "{r:#}");
    assert!(
        ["success", "failed", "interrupted"].contains(&r["status"].as_str().unwrap()),
        "{r:#}"
    );
    assert!(r["error"].is_null() || r["error"].is_string(), "{r:#}");
    assert!(
        r["error_code"].is_null() || r["error_code"].is_string(),
        "{r:#}"
    );
    let started = r["started_at"].as_str().expect("started_at is a string");
    chrono::DateTime::parse_from_rfc3339(started).expect("started_at is RFC 3339");
    if let Some(f) = r["finished_at"].as_str() {
        chrono::DateTime::parse_from_rfc3339(f).expect("finished_at is RFC 3339");
    }
    assert_eq!(keys(&r["rows"]), set(ROW_KEYS), "{r:#}");
    for k in ROW_KEYS {
        assert!(r["rows"][k].is_u64(), "rows.{k}: {r:#}");
    }
    for f in r["files"].as_array().expect("files is an array") {
        assert_eq!(keys(f), set(FILE_KEYS), "file keys: {f:#}");
        let path = f["path"].as_str().unwrap();
        assert!(
            !path.starts_with('/') && !Path::new(path).is_absolute(),
            "path must be relative to the destination: {path}"
        );
        assert!(
            ["all", "added", "changed", "removed"].contains(&f["kind"].as_str().unwrap()),
            "{f:#}"
        );
        assert!(f["rows"].is_u64() && f["bytes"].is_u64() && f["skipped"].is_boolean());
    }
}

#[test]
fn run_json_has_the_documented_shape_and_true_numbers() {
    let ws = Workspace::new();
    customers_db(&ws, 3);
    let sync = customers_sync(
        &ws,
        "cust",
        "diff",
        "exports/{YYYY}-{MM}-{DD}/customers.csv",
        "",
    );

    let out = ws.exec(["run", s(&sync), "--json", "--at", "2024-01-19T08:00:00Z"]);
    assert_eq!(out.code, 0);
    let r = out.json();
    assert_run_shape(&r);
    assert_eq!(r["run_id"], 1);
    assert_eq!(r["sync_id"], "cust");
    assert_eq!(r["status"], "success");
    assert!(r["error"].is_null() && r["error_code"].is_null());
    let started = chrono::DateTime::parse_from_rfc3339(r["started_at"].as_str().unwrap()).unwrap();
    assert_eq!(started.to_rfc3339(), "2024-01-19T08:00:00+00:00");
    assert!(r["finished_at"].is_string());
    assert_eq!(counts(&r), (3, 3, 0, 0));

    let files = r["files"].as_array().unwrap();
    let summary: Vec<(&str, &str, u64)> = files
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["kind"].as_str().unwrap(),
                f["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("exports/2024-01-19/customers_added.csv", "added", 3),
            ("exports/2024-01-19/customers_changed.csv", "changed", 0),
            ("exports/2024-01-19/customers_removed.csv", "removed", 0),
        ]
    );
    for f in files {
        let on_disk = ws.out.join(f["path"].as_str().unwrap());
        let len = std::fs::metadata(&on_disk)
            .unwrap_or_else(|e| panic!("{}: {e}", on_disk.display()))
            .len();
        assert_eq!(f["bytes"].as_u64(), Some(len), "{f}");
        assert_eq!(f["skipped"], false);
    }
    assert_eq!(
        csv_lines(&ws, "exports/2024-01-19/customers_added.csv"),
        vec![
            "1,name 1,c1@example.com,1.5",
            "2,name 2,c2@example.com,2.5",
            "3,name 3,c3@example.com,3.5"
        ]
    );

    // A day of changes: one update, one delete, one insert.
    ws.sql(
        "UPDATE customers SET email = 'new@example.com' WHERE id = 2;
         DELETE FROM customers WHERE id = 3;
         INSERT INTO customers VALUES (4, 'name 4', NULL, 4.5);",
    );
    let r = ws.exec_json(["run", s(&sync), "--json", "--at", "2024-01-20T08:00:00Z"]);
    assert_run_shape(&r);
    assert_eq!(r["run_id"], 2);
    assert_eq!(counts(&r), (3, 1, 1, 1));
    let d = "exports/2024-01-20/customers";
    assert_eq!(
        csv_lines(&ws, &format!("{d}_added.csv")),
        vec!["4,name 4,,4.5"]
    );
    assert_eq!(
        csv_lines(&ws, &format!("{d}_changed.csv")),
        vec!["2,name 2,new@example.com,2.5"]
    );
    assert_eq!(
        csv_lines(&ws, &format!("{d}_removed.csv")),
        vec!["3,name 3,c3@example.com,3.5"]
    );
}

#[test]
fn a_failed_run_prints_failed_json_exits_1_and_writes_nothing() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE customers (id INTEGER, name TEXT NOT NULL, email TEXT, score REAL);
         INSERT INTO customers VALUES (1, 'a', NULL, 1.0), (7, 'b', NULL, 2.0), (7, 'c', NULL, 3.0);",
    );
    let sync = customers_sync(&ws, "dup", "diff", "dup.csv", "");
    let out = ws.exec(["run", s(&sync), "--json"]);
    assert_eq!(out.code, 1, "a failed run exits 1");
    let r = out.json();
    assert_run_shape(&r);
    assert_eq!(r["status"], "failed");
    assert_eq!(r["error_code"], "primary_key");
    let err = r["error"].as_str().unwrap();
    assert!(
        err.contains("\"id\"") && err.contains("not unique") && err.contains('7'),
        "the error names the column and the key: {err}"
    );
    assert_eq!(r["files"], Json::Array(vec![]));
    assert_eq!(counts(&r), (0, 0, 0, 0));
    assert!(ws.out_files().is_empty(), "{:?}", ws.out_files());

    // Without --json the message goes to stderr, still exit 1.
    let out = ws.exec(["run", s(&sync)]);
    assert_eq!(out.code, 1);
    let stderr = &out.stderr;
    assert!(
        stderr.contains("failed") && stderr.contains("not unique"),
        "{stderr}"
    );

    // Fixed: the next run delivers every row as added (nothing advanced before).
    ws.sql("DELETE FROM customers WHERE name = 'c';");
    let r = ws.exec_json(["run", s(&sync), "--json"]);
    assert_eq!(r["status"], "success");
    assert_eq!(r["run_id"], 3, "failed runs take run ids too");
    assert_eq!(counts(&r), (2, 2, 0, 0));
}

#[test]
fn skipped_empty_files_are_reported_and_not_written() {
    let ws = Workspace::new();
    customers_db(&ws, 2);
    let sync = customers_sync(
        &ws,
        "skip",
        "diff",
        "run{sync.run.id}/c.csv",
        "skip_empty_files = true",
    );
    let r = ws.exec_json(["run", s(&sync), "--json"]);
    let skipped: Vec<(String, bool, u64)> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["skipped"].as_bool().unwrap(),
                f["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            ("run1/c_added.csv".to_string(), false, 2),
            ("run1/c_changed.csv".to_string(), true, 0),
            ("run1/c_removed.csv".to_string(), true, 0),
        ]
    );
    assert_eq!(ws.out_files(), vec!["run1/c_added.csv"]);
    let stdout = ws.exec_ok(["run", s(&sync)]);
    assert!(
        stdout.contains("skipped run2/c_added.csv (empty)"),
        "{stdout}"
    );
    assert_eq!(ws.out_files(), vec!["run1/c_added.csv"]);
}

// ---------------------------------------------------------------------------
// preview
// ---------------------------------------------------------------------------

#[test]
fn preview_shows_names_counts_and_first_rows_and_changes_nothing() {
    let ws = Workspace::new();
    customers_db(&ws, 5);
    let sync = customers_sync(
        &ws,
        "prev",
        "diff",
        "{YYYY}-{MM}-{DD}/run{sync.run.id}.csv",
        "",
    );
    let args = [
        "preview",
        s(&sync),
        "--rows",
        "2",
        "--at",
        "2024-03-01T00:00:00Z",
    ];
    let text = ws.exec_ok(args);
    assert!(
        text.contains(
            "preview of prev (nothing written): 5 rows queried, 5 added, 0 changed, 0 removed"
        ),
        "{text}"
    );
    assert!(
        text.contains("== 2024-03-01/run1_added.csv (5 rows)"),
        "{text}"
    );
    assert!(
        text.contains("== 2024-03-01/run1_changed.csv (0 rows)"),
        "{text}"
    );
    assert!(
        text.contains("== 2024-03-01/run1_removed.csv (0 rows)"),
        "{text}"
    );
    assert!(text.contains("id,name,email,score"), "{text}");
    assert!(text.contains("1,name 1,c1@example.com,1.5"), "{text}");
    assert!(text.contains("2,name 2,c2@example.com,2.5"), "{text}");
    assert!(!text.contains("name 3"), "only the first 2 rows: {text}");
    assert!(text.contains("... 3 more rows"), "{text}");

    // Nothing written, nothing recorded; a second preview says the same.
    assert!(ws.out_files().is_empty(), "{:?}", ws.out_files());
    assert_eq!(ws.exec_ok(args), text);
    let history = ws.exec_json(["history", s(&sync), "--json"]);
    assert_eq!(history, Json::Array(vec![]), "a preview is not a run");

    // The snapshot did not advance: the run delivers the previewed rows as added,
    // under the previewed name.
    let r = ws.exec_json(["run", s(&sync), "--json", "--at", "2024-03-01T00:00:00Z"]);
    assert_eq!(counts(&r), (5, 5, 0, 0));
    assert_eq!(r["files"][0]["path"], "2024-03-01/run1_added.csv");
    assert_eq!(csv_lines(&ws, "2024-03-01/run1_added.csv").len(), 5);

    // After a change, preview shows just the change, twice, then the run delivers it.
    ws.sql("UPDATE customers SET name = 'renamed' WHERE id = 4;");
    let out_before = ws.out_files();
    for _ in 0..2 {
        let text = ws.exec_ok(["preview", s(&sync), "--at", "2024-03-02T00:00:00Z"]);
        assert!(
            text.contains("5 rows queried, 0 added, 1 changed, 0 removed"),
            "{text}"
        );
        assert!(
            text.contains("== 2024-03-02/run2_changed.csv (1 rows)"),
            "{text}"
        );
        assert!(text.contains("4,renamed,c4@example.com,4.5"), "{text}");
    }
    assert_eq!(ws.out_files(), out_before);
    let r = ws.exec_json(["run", s(&sync), "--json", "--at", "2024-03-02T00:00:00Z"]);
    assert_eq!(counts(&r), (5, 0, 1, 0));
    assert_eq!(
        csv_lines(&ws, "2024-03-02/run2_changed.csv"),
        vec!["4,renamed,c4@example.com,4.5"]
    );
}

#[test]
fn preview_json_includes_each_files_preview_rows() {
    let ws = Workspace::new();
    customers_db(&ws, 4);
    let sync = customers_sync(&ws, "pj", "insert", "new-{sync.run.id}.csv", "");
    let p = ws.exec_json([
        "preview",
        s(&sync),
        "--rows",
        "3",
        "--json",
        "--at",
        "2024-01-01T00:00:00Z",
    ]);
    assert_eq!(p["sync_id"], "pj");
    assert_eq!(p["run_id"], 1, "the id the next run will get");
    assert_eq!(counts(&p), (4, 4, 0, 0));
    let files = p["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    let f = &files[0];
    assert_eq!(f["path"], "new-1.csv");
    assert_eq!(f["kind"], "added");
    assert_eq!(f["rows"], 4);
    assert_eq!(f["skipped"], false);
    let prev = &f["preview"];
    assert_eq!(
        prev["columns"],
        serde_json::json!(["id", "name", "email", "score"])
    );
    assert_eq!(
        prev["rows"],
        serde_json::json!([
            ["1", "name 1", "c1@example.com", "1.5"],
            ["2", "name 2", "c2@example.com", "2.5"],
            ["3", "name 3", "c3@example.com", "3.5"],
        ])
    );
    assert_eq!(
        prev["text"],
        "id,name,email,score\r\n1,name 1,c1@example.com,1.5\r\n2,name 2,c2@example.com,2.5\r\n3,name 3,c3@example.com,3.5\r\n"
    );
    assert!(ws.out_files().is_empty());

    // The run that follows delivers all four rows under the previewed name.
    let r = ws.exec_json(["run", s(&sync), "--json", "--at", "2024-01-01T00:00:00Z"]);
    assert_eq!(r["files"][0]["path"], "new-1.csv");
    assert_eq!(counts(&r), (4, 4, 0, 0));
    assert_eq!(csv_lines(&ws, "new-1.csv").len(), 4);
}

// ---------------------------------------------------------------------------
// history
// ---------------------------------------------------------------------------

#[test]
fn history_lists_runs_newest_first_with_counts() {
    let ws = Workspace::new();
    customers_db(&ws, 3);
    let sync = customers_sync(&ws, "hist", "diff", "h-{sync.run.id}.csv", "");

    let text = ws.exec_ok(["history", s(&sync)]);
    assert!(text.contains("sync hist has not run yet"), "{text}");

    ws.exec_ok(["run", s(&sync), "--at", "2024-01-01T00:00:00Z"]); // 3 added
    ws.sql("INSERT INTO customers VALUES (4, 'd', NULL, 0.0); DELETE FROM customers WHERE id = 1;");
    ws.exec_ok(["run", s(&sync), "--at", "2024-01-02T00:00:00Z"]); // 1 added, 1 removed
    ws.sql("UPDATE customers SET name = 'B' WHERE id = 2;");
    ws.exec_ok(["run", s(&sync), "--at", "2024-01-03T00:00:00Z"]); // 1 changed

    let list = ws.exec_json(["history", s(&sync), "--json"]);
    let runs = list.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for r in runs {
        assert_run_shape(r);
        assert_eq!(r["status"], "success");
        assert_eq!(r["sync_id"], "hist");
    }
    let ids: Vec<i64> = runs.iter().map(|r| r["run_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![3, 2, 1], "newest first");
    let counts: Vec<_> = runs.iter().map(counts).collect();
    assert_eq!(counts, vec![(3, 0, 1, 0), (3, 1, 0, 1), (3, 3, 0, 0)]);
    let started: Vec<&str> = runs
        .iter()
        .map(|r| r["started_at"].as_str().unwrap())
        .collect();
    assert!(started[0].starts_with("2024-01-03T00:00:00"), "{started:?}");
    assert!(started[2].starts_with("2024-01-01T00:00:00"), "{started:?}");
    assert_eq!(runs[0]["files"][1]["path"], "h-3_changed.csv");
    assert_eq!(runs[0]["files"][1]["rows"], 1);

    // The text table: one line per run, newest first, with the same counts.
    let text = ws.exec_ok(["history", s(&sync)]);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[0], "run", "{text}");
    for (line, (id, q, a, c, rm)) in lines.iter().zip([
        ("3", "3", "0", "1", "0"),
        ("2", "3", "1", "0", "1"),
        ("1", "3", "3", "0", "0"),
    ]) {
        // run, date, time, status, queried, added, changed, removed, files
        assert_eq!(line[0], id, "{text}");
        assert_eq!(line[3], "success", "{text}");
        assert_eq!(&line[4..8], &[q, a, c, rm], "{text}");
        assert_eq!(line[8], "3", "three files written: {text}");
    }

    // --limit keeps the newest.
    let limited = ws.exec_json(["history", s(&sync), "--json", "--limit", "1"]);
    assert_eq!(limited.as_array().unwrap().len(), 1);
    assert_eq!(limited[0]["run_id"], 3);
}

#[test]
fn history_shows_failed_runs_with_their_error() {
    let ws = Workspace::new();
    customers_db(&ws, 2);
    let sync = customers_sync(&ws, "hfail", "all", "f.csv", "");
    ws.exec_ok(["run", s(&sync)]);
    ws.sql("ALTER TABLE customers RENAME COLUMN email TO mail;");
    let out = ws.exec(["run", s(&sync)]);
    assert_eq!(out.code, 1);

    let list = ws.exec_json(["history", s(&sync), "--json"]);
    assert_eq!(list[0]["run_id"], 2);
    assert_eq!(list[0]["status"], "failed");
    assert_eq!(list[0]["error_code"], "query");
    assert!(
        list[0]["error"].as_str().unwrap().contains("email"),
        "{list:#}"
    );
    assert_eq!(list[1]["status"], "success");

    let text = ws.exec_ok(["history", s(&sync)]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].split_whitespace().next() == Some("2") && lines[1].contains("failed"));
    assert!(
        lines[2].trim_start().starts_with("error:") && lines[2].contains("email"),
        "{text}"
    );
    assert!(lines[3].split_whitespace().next() == Some("1") && lines[3].contains("success"));
}

// ---------------------------------------------------------------------------
// reset
// ---------------------------------------------------------------------------

#[test]
fn reset_makes_the_next_run_deliver_every_row() {
    let ws = Workspace::new();
    customers_db(&ws, 3);
    let sync = customers_sync(&ws, "rst", "diff", "r{sync.run.id}.csv", "");
    let r = ws.exec_json(["run", s(&sync), "--json"]);
    assert_eq!(counts(&r), (3, 3, 0, 0));
    let r = ws.exec_json(["run", s(&sync), "--json"]);
    assert_eq!(counts(&r), (3, 0, 0, 0), "nothing new");

    let text = ws.exec_ok(["reset", s(&sync)]);
    assert!(
        text.contains("sync rst: forgot the snapshot of 3 row(s)"),
        "{text}"
    );
    let r = ws.exec_json(["run", s(&sync), "--json"]);
    assert_eq!(counts(&r), (3, 3, 0, 0), "every row again");
    assert_eq!(
        csv_lines(&ws, "r3_added.csv"),
        vec![
            "1,name 1,c1@example.com,1.5",
            "2,name 2,c2@example.com,2.5",
            "3,name 3,c3@example.com,3.5"
        ]
    );
    assert!(csv_lines(&ws, "r3_removed.csv").is_empty());

    // History is kept across a reset.
    let list = ws.exec_json(["history", s(&sync), "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 3);

    // A reset right after a reset has nothing left to forget.
    ws.exec_ok(["reset", s(&sync)]);
    let text = ws.exec_ok(["reset", s(&sync)]);
    assert!(text.contains("forgot the snapshot of 0 row(s)"), "{text}");
}

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

#[test]
fn check_lists_columns_types_and_the_key() {
    let ws = Workspace::new();
    customers_db(&ws, 3);
    ws.sql("UPDATE customers SET email = NULL;");
    let sync = customers_sync(&ws, "chk", "diff", "c-{YYYY}.csv", "");
    let text = ws.exec_ok(["check", s(&sync)]);
    assert!(text.contains("sync chk: OK"), "{text}");
    assert!(text.contains("source       sqlite"), "{text}");
    assert!(text.contains("destination  folder"), "{text}");
    let col_line = |name: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for column {name}:\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        col_line("id"),
        vec!["id", "INTEGER", "integer", "(primary", "key)"]
    );
    assert_eq!(col_line("name"), vec!["name", "TEXT", "text"]);
    assert_eq!(col_line("email"), vec!["email", "TEXT", "null"]);
    assert_eq!(col_line("score"), vec!["score", "REAL", "float"]);
    assert!(
        text.contains("output       id, name, email, score"),
        "{text}"
    );
    assert!(
        text.contains("rows         3 (every key present and unique)"),
        "{text}"
    );
    let year = chrono::Utc::now().format("%Y").to_string();
    for kind in ["added", "changed", "removed"] {
        assert!(
            text.contains(&format!("file         c-{year}_{kind}.csv")),
            "{text}"
        );
    }

    let j = ws.exec_json(["check", s(&sync), "--json"]);
    assert_eq!(j["sync_id"], "chk");
    assert_eq!(j["primary_key"], serde_json::json!(["id"]));
    assert_eq!(
        j["columns"],
        serde_json::json!([
            // The table declares id its primary key (SQLite says so).
            {"name": "id", "declared_type": "INTEGER", "observed_type": "integer", "primary_key": true},
            {"name": "name", "declared_type": "TEXT", "observed_type": "text"},
            {"name": "email", "declared_type": "TEXT", "observed_type": "null"},
            {"name": "score", "declared_type": "REAL", "observed_type": "float"},
        ])
    );
    assert_eq!(
        j["output_columns"],
        serde_json::json!(["id", "name", "email", "score"])
    );
    assert_eq!(j["rows"], 3);
    assert_eq!(
        j["files"],
        serde_json::json!([
            format!("c-{year}_added.csv"),
            format!("c-{year}_changed.csv"),
            format!("c-{year}_removed.csv"),
        ])
    );
    assert!(j["source"].as_str().unwrap().starts_with("sqlite "));
    assert!(j["destination"].as_str().unwrap().starts_with("folder "));

    // check writes nothing and is not a run: the first run still delivers every row.
    assert!(ws.out_files().is_empty());
    assert_eq!(
        ws.exec_json(["history", s(&sync), "--json"]),
        Json::Array(vec![])
    );
    let r = ws.exec_json(["run", s(&sync), "--json"]);
    assert_eq!(counts(&r), (3, 3, 0, 0));
}

#[test]
fn check_shows_the_mapped_output_columns_and_a_composite_key() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE lines (order_id INTEGER, line INTEGER, sku TEXT, qty INTEGER);
         INSERT INTO lines VALUES (1, 1, 'a', 2), (1, 2, 'b', 1), (2, 1, 'a', 5);",
    );
    let sync = ws.write_sync(
        "lines.toml",
        r#"[source]
type = "sqlite"
path = "source.db"

[model]
name = "lines"
sql = "SELECT * FROM lines"
primary_key = ["order_id", "line"]

[destination]
type = "folder"
path = "out"

[sync]
mode = "insert"
format = "json"
filename = "lines.json"

[[sync.columns]]
from = "sku"
to = "SKU"
[[sync.columns]]
template = "{{ order_id }}-{{ line }}"
to = "ref"
"#,
    );
    let j = ws.exec_json(["check", s(&sync), "--json"]);
    assert_eq!(j["primary_key"], serde_json::json!(["order_id", "line"]));
    assert_eq!(j["output_columns"], serde_json::json!(["SKU", "ref"]));
    assert_eq!(j["rows"], 3);
    assert_eq!(j["files"], serde_json::json!(["lines.json"]));
    let text = ws.exec_ok(["check", s(&sync)]);
    for k in ["order_id", "line"] {
        let l = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(k))
            .unwrap();
        assert!(l.ends_with("(primary key)"), "{text}");
    }
    let l = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("sku"))
        .unwrap();
    assert!(!l.contains("primary key"), "{text}");
}

#[test]
fn check_fails_clearly_on_a_duplicate_key() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE customers (id INTEGER, name TEXT, email TEXT, score REAL);
         INSERT INTO customers VALUES (5, 'a', NULL, 1), (5, 'b', NULL, 2);",
    );
    let sync = customers_sync(&ws, "chkdup", "diff", "x.csv", "");
    let out = ws.exec(["check", s(&sync)]);
    assert_eq!(out.code, 1);
    let stderr = &out.stderr;
    assert!(
        stderr.starts_with("error: ") && stderr.contains("not unique") && stderr.contains('5'),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// demo
// ---------------------------------------------------------------------------

#[test]
fn demo_creates_a_workspace_and_runs_it() {
    let ws = Workspace::new();
    let dir = ws.path("demo");
    let out = ws.exec(["demo", s(&dir)]);
    let stdout = &out.stdout;
    assert_eq!(out.code, 0, "stdout:\n{stdout}\nstderr:\n{}", out.stderr);
    assert!(dir.join("shop.db").is_file());
    let tomls: Vec<String> = list_files(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".toml"))
        .collect();
    assert_eq!(
        tomls,
        vec![
            "customers-all.toml",
            "customers-diff.toml",
            "orders-insert.toml"
        ]
    );
    let conn = Connection::open(dir.join("shop.db")).unwrap();
    let customers: i64 = conn
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(customers, 2500 - 11 + 3, "the demo churns its data once");

    let files = list_files(&dir.join("out"));
    assert!(!files.is_empty());
    // All mode: every customer, as they are after the churn (both runs write
    // today's name, so the second overwrites the first; across midnight the
    // later name sorts last).
    let all: Vec<&String> = files.iter().filter(|f| f.starts_with("all/")).collect();
    assert!(!all.is_empty() && all.len() <= 2, "{files:?}");
    for f in &all {
        let date = f
            .strip_prefix("all/customers-")
            .and_then(|r| r.strip_suffix(".csv"))
            .unwrap_or_else(|| panic!("unexpected name {f}"));
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let latest = std::fs::read_to_string(dir.join("out").join(all.last().unwrap())).unwrap();
    assert!(
        latest.starts_with("id,first_name,last_name,email,country,lifetime_value,created_at\r\n")
    );
    let data_lines = latest.split("\r\n").filter(|l| !l.is_empty()).count() - 1;
    assert_eq!(data_lines, 2492);

    // Diff mode: run 1 adds everyone; run 2 has the day's changes.
    let bom = "\u{feff}customer_id;full_name;Email;region\r\n";
    let count = |rel: &str| -> usize {
        let t = std::fs::read_to_string(dir.join("out").join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}\n{files:?}"));
        assert!(t.starts_with(bom), "{rel}: {t:.80}");
        t[bom.len()..]
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .count()
    };
    assert_eq!(count("diff/run-1/customers_added.csv"), 2500);
    assert_eq!(count("diff/run-1/customers_changed.csv"), 0);
    assert_eq!(count("diff/run-2/customers_added.csv"), 3);
    assert_eq!(count("diff/run-2/customers_changed.csv"), 25);
    assert_eq!(count("diff/run-2/customers_removed.csv"), 11);

    // Insert mode: JSON, every order first, then the 3 new ones.
    let orders: Vec<&String> = files.iter().filter(|f| f.starts_with("orders/")).collect();
    assert_eq!(orders.len(), 2, "{files:?}");
    let mut lens: Vec<usize> = orders
        .iter()
        .map(|f| {
            let j: Json =
                serde_json::from_slice(&std::fs::read(dir.join("out").join(f)).unwrap()).unwrap();
            j.as_array().unwrap().len()
        })
        .collect();
    lens.sort();
    assert_eq!(lens, vec![3, 6000]);

    assert!(stdout.contains("demo workspace in"), "{stdout}");
    assert!(!stdout.contains("failed"), "{stdout}");
    // The demo used the given state folder, not the OS data folder.
    assert!(ws.state.join("syncs/demo-customers-diff.sqlite").is_file());
    assert!(!ws.xdg().exists());
}

// ---------------------------------------------------------------------------
// state folder
// ---------------------------------------------------------------------------

#[test]
fn state_dir_flag_and_env_var_both_work() {
    let ws = Workspace::new();
    customers_db(&ws, 2);
    let sync = customers_sync(&ws, "st", "diff", "st-{sync.run.id}.csv", "");
    let a = ws.path("state-a");
    let b = ws.path("state-b");

    // The environment variable.
    let out = ws
        .bare_cli()
        .env("DROPSYNC_STATE_DIR", &a)
        .args(["run", s(&sync), "--json"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(a.join("syncs/st.sqlite").is_file(), "{:?}", list_files(&a));

    // The flag, pointing at the same folder: the snapshot is there (nothing new).
    let out = ws
        .bare_cli()
        .args(["--state-dir", s(&a), "run", s(&sync), "--json"])
        .output()
        .unwrap();
    let r: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r["run_id"].clone(), counts(&r)),
        (Json::from(2), (2, 0, 0, 0))
    );

    // Another folder is another history: a first run again.
    let out = ws
        .bare_cli()
        .args(["--state-dir", s(&b), "run", s(&sync), "--json"])
        .output()
        .unwrap();
    let r: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r["run_id"].clone(), counts(&r)),
        (Json::from(1), (2, 2, 0, 0))
    );
    assert!(b.join("syncs/st.sqlite").is_file());

    // The flag wins over the variable.
    let out = ws
        .bare_cli()
        .env("DROPSYNC_STATE_DIR", &a)
        .args(["--state-dir", s(&b), "history", s(&sync), "--json"])
        .output()
        .unwrap();
    let list: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");

    // The variable works for every command, e.g. history and reset.
    let out = ws
        .bare_cli()
        .env("DROPSYNC_STATE_DIR", &a)
        .args(["history", s(&sync), "--json"])
        .output()
        .unwrap();
    let list: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list:#}");
    let out = ws
        .bare_cli()
        .env("DROPSYNC_STATE_DIR", &a)
        .args(["reset", s(&sync)])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("forgot the snapshot of 2 row(s)"));

    // Neither touched the OS data folder.
    assert!(!ws.xdg().exists(), "{:?}", list_files(&ws.xdg()));
}

#[cfg(target_os = "linux")]
#[test]
fn without_a_state_dir_the_os_data_folder_is_used() {
    let ws = Workspace::new();
    customers_db(&ws, 1);
    let sync = customers_sync(&ws, "dflt", "insert", "d.csv", "");
    let out = ws.bare_cli().args(["run", s(&sync)]).output().unwrap();
    assert_success(&out);
    assert!(ws.xdg().join("dropsync/syncs/dflt.sqlite").is_file());
}

// ---------------------------------------------------------------------------
// errors a user sees
// ---------------------------------------------------------------------------

#[test]
fn a_bad_at_value_is_a_clear_error() {
    let ws = Workspace::new();
    customers_db(&ws, 2);
    let sync = customers_sync(&ws, "at", "diff", "at.csv", "");
    for bad in [
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-01-19",
        "2024-01-19 08:00",
    ] {
        let out = ws.exec(["run", s(&sync), "--at", bad]);
        assert_eq!(out.code, 1, "--at {bad}");
        let stderr = &out.stderr;
        assert!(
            stderr.contains(&format!("--at {bad:?} is not an RFC 3339 instant"))
                && stderr.contains("2024-01-19T08:00:00Z"),
            "--at {bad}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "--at {bad}");
        let out = ws.exec(["preview", s(&sync), "--at", bad]);
        assert_eq!(out.code, 1, "preview --at {bad}");
        assert!(out.stderr.contains("RFC 3339"));
    }
    // Nothing ran: no files, no history, and the next run is a first run.
    assert!(ws.out_files().is_empty());
    assert_eq!(
        ws.exec_json(["history", s(&sync), "--json"]),
        Json::Array(vec![])
    );
    let r = ws.exec_json(["run", s(&sync), "--json"]);
    assert_eq!(
        (r["run_id"].clone(), counts(&r)),
        (Json::from(1), (2, 2, 0, 0))
    );
}

#[test]
fn a_missing_sync_file_is_a_clear_error() {
    let ws = Workspace::new();
    let missing = ws.path("nope").join("missing.toml");
    for cmd in ["run", "preview", "history", "reset", "check"] {
        let out = ws.exec([cmd, s(&missing)]);
        assert_eq!(out.code, 1, "{cmd}");
        let stderr = &out.stderr;
        assert!(
            stderr.contains("cannot read sync file") && stderr.contains(s(&missing)),
            "{cmd}: {stderr}"
        );
        assert!(
            stderr.contains("No such file or directory") || stderr.contains("os error 2"),
            "{cmd}: the OS reason is shown: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{cmd}");
    }
    assert!(!ws.state.join("syncs").exists() || list_files(&ws.state).is_empty());
}

#[test]
fn an_invalid_sync_file_names_the_file_and_key() {
    let ws = Workspace::new();
    customers_db(&ws, 1);
    let sync = customers_sync(&ws, "badmode", "upsert", "x.csv", "");
    let out = ws.exec(["run", s(&sync)]);
    assert_eq!(out.code, 1);
    let stderr = &out.stderr;
    assert!(
        stderr.contains("badmode.toml")
            && stderr.contains("[sync] mode")
            && stderr.contains("upsert"),
        "{stderr}"
    );
}
