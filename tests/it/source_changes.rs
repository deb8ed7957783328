//! Run summaries tell rows whose source row changed apart from rows whose
//! synced (mapped) values changed, and snapshots from before source-row
//! hashes keep working.

use crate::support as common;

use common::{SyncFile, Workspace};
use serde_json::Value as Json;
use std::path::PathBuf;

const PEOPLE: &str = "SELECT id, name, email, score FROM people ORDER BY id";

fn people_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT, score INTEGER);
         INSERT INTO people VALUES
           (1, 'Ada', 'ada@example.com', 10),
           (2, 'Bob', 'bob@example.com', 20),
           (3, 'Cy',  'cy@example.com',  30);",
    );
    ws
}

/// Syncs id, name and score: `email` is left out.
fn mapped_sync(ws: &Workspace) -> PathBuf {
    SyncFile::sqlite(ws, PEOPLE, "id")
        .mode("diff")
        .column_from("id", "id")
        .column_from("name", "name")
        .column_from("score", "score")
        .write(ws, "people.toml")
}

fn rows(report: &Json) -> (u64, u64) {
    (
        report["rows"]["changed"].as_u64().unwrap(),
        report["rows"]["source_changed"].as_u64().unwrap(),
    )
}

fn text_run(ws: &Workspace, sync: &std::path::Path, at: &str) -> String {
    let o = ws
        .cli()
        .arg("run")
        .arg(sync)
        .arg("--at")
        .arg(at)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_mapping_that_leaves_columns_out_counts_source_changes_apart() {
    let ws = people_workspace();
    let sync = mapped_sync(&ws);
    let first = ws.run_ok(&sync, "2024-03-01T09:30:00Z");
    assert_eq!(rows(&first), (0, 0), "a first run changes nothing");

    // Two emails (not synced) and one score (synced) change.
    ws.sql(
        "UPDATE people SET email = 'a@x.org' WHERE id IN (1, 2);
         UPDATE people SET score = 31 WHERE id = 3;",
    );
    let out = text_run(&ws, &sync, "2024-03-02T09:30:00Z");
    assert!(
        out.contains(
            "3 rows queried, 0 added, 1 changed, 0 removed (3 rows changed in the source; 1 changed in the columns this sync sends)"
        ),
        "{out}"
    );
    // Only the synced change is delivered.
    assert_eq!(
        ws.csv_rows("people-2_changed.csv"),
        vec![vec!["3", "Cy", "31"]]
    );

    // Counted once: the snapshot now holds the new source rows.
    let again = ws.run_ok(&sync, "2024-03-03T09:30:00Z");
    assert_eq!(rows(&again), (0, 0));

    // Only unsynced columns change: none in the synced columns.
    ws.sql("UPDATE people SET email = 'b@x.org' WHERE id = 3;");
    let r = ws.run_ok(&sync, "2024-03-04T09:30:00Z");
    assert_eq!(rows(&r), (0, 1));

    let history = ws.history(&sync);
    let second = history.iter().find(|r| r["run_id"] == 2).unwrap();
    assert_eq!(rows(second), (1, 3), "{second:#}");
    let text = ws.cli().arg("history").arg(&sync).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("3 rows changed in the source; 1 changed in the columns this sync sends"),
        "{text}"
    );
    assert!(
        text.contains("1 row changed in the source; none changed in the columns this sync sends"),
        "{text}"
    );
}

#[test]
fn every_column_synced_says_nothing_more() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .mode("diff")
        .write(&ws, "people.toml");
    ws.run_ok(&sync, "2024-03-01T09:30:00Z");
    ws.sql("UPDATE people SET email = 'a@x.org' WHERE id IN (1, 2);");
    let out = text_run(&ws, &sync, "2024-03-02T09:30:00Z");
    assert!(
        out.contains("3 rows queried, 0 added, 2 changed, 0 removed\n"),
        "{out}"
    );
    assert_eq!(rows(&ws.history(&sync)[0]), (2, 2));
}

/// Rewrites the snapshot's index as a version without source-row hashes
/// packed it: 32-byte entries, `format` 1.
fn strip_source_hashes(ws: &Workspace, sync_id: &str) {
    let db = rusqlite::Connection::open(ws.state.join("syncs").join(format!("{sync_id}.sqlite")))
        .unwrap();
    for table in ["snapshot_buckets", "snapshot_delta"] {
        let rows: Vec<(i64, Vec<u8>)> = db
            .prepare(&format!("SELECT bucket, data FROM {table}"))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(table == "snapshot_delta" || !rows.is_empty());
        for (bucket, data) in rows {
            let old: Vec<u8> = data
                .chunks_exact(40)
                .flat_map(|e| e[..32].to_vec())
                .collect();
            db.execute(
                &format!("UPDATE {table} SET data = ?1, format = 1 WHERE bucket = ?2"),
                rusqlite::params![old, bucket],
            )
            .unwrap();
        }
    }
}

#[test]
fn a_snapshot_without_source_hashes_keeps_working_and_says_only_what_it_knows() {
    let ws = people_workspace();
    let sync = mapped_sync(&ws);
    ws.run_ok(&sync, "2024-03-01T09:30:00Z");
    strip_source_hashes(&ws, "people");

    ws.sql(
        "UPDATE people SET email = 'a@x.org' WHERE id = 1;
         UPDATE people SET score = 21 WHERE id = 2;
         INSERT INTO people VALUES (4, 'Di', 'di@example.com', 40);
         DELETE FROM people WHERE id = 3;",
    );
    let r = ws.run_ok(&sync, "2024-03-02T09:30:00Z");
    // Synced changes are found as before; source changes are not known.
    assert_eq!(r["rows"]["added"], 1);
    assert_eq!(r["rows"]["removed"], 1);
    assert_eq!(rows(&r), (1, 0));
    assert_eq!(
        ws.csv_rows("people-2_changed.csv"),
        vec![vec!["2", "Bob", "21"]]
    );
    assert_eq!(
        ws.csv_rows("people-2_removed.csv"),
        vec![vec!["3", "Cy", "30"]]
    );

    // That run stored the hashes: the next one knows.
    ws.sql("UPDATE people SET email = 'z@x.org' WHERE id IN (1, 4);");
    let r = ws.run_ok(&sync, "2024-03-03T09:30:00Z");
    assert_eq!(rows(&r), (0, 2));
    assert_eq!(r["rows"]["added"], 0);
}
