//! Every sync mode across several runs, with rows inserted, updated and
//! deleted between runs, checked against the exact contents of the files.

use crate::support as common;

use common::{at, counts, file_of_kind, report_files, rows, SyncFile, Workspace};
use serde_json::Value as Json;
use std::path::PathBuf;

const PEOPLE: &str = "SELECT id, name, score FROM people ORDER BY id";

/// A workspace with a `people` table holding ids 1..=4.
fn people_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT, score INTEGER);
         INSERT INTO people VALUES
           (1, 'Ada', 'ada@example.com', 10),
           (2, 'Bob', 'bob@example.com', 20),
           (3, 'Cy',  'cy@example.com',  30),
           (4, 'Di',  'di@example.com',  40);",
    );
    ws
}

/// A sync of `people` in `mode`, with per-run filenames dated by `--at`.
fn people_sync(ws: &Workspace, mode: &str) -> PathBuf {
    SyncFile::sqlite(ws, PEOPLE, "id")
        .mode(mode)
        .filename("{model.name}-{YYYY}{MM}{DD}-{sync.run.id}.csv")
        .write(ws, "people.toml")
}

/// The rows of the report's file of `kind`, checking its header too.
fn file_rows(ws: &Workspace, report: &Json, kind: &str, header: &[&str]) -> Vec<Vec<String>> {
    let path = file_of_kind(report, kind);
    let (h, rows) = ws.csv_table(&path);
    assert_eq!(h, header, "header of {path}");
    let reported = report_files(report)
        .into_iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, n, _)| n)
        .expect("the file is reported");
    assert_eq!(
        reported,
        rows.len() as u64,
        "the report's row count for {path} matches the file"
    );
    rows
}

/// Checks a diff run's three files and its counts.
fn assert_diff(
    ws: &Workspace,
    report: &Json,
    header: &[&str],
    added: &[&[&str]],
    changed: &[&[&str]],
    removed: &[&[&str]],
) {
    assert_eq!(
        file_rows(ws, report, "added", header),
        rows(added),
        "added rows"
    );
    assert_eq!(
        file_rows(ws, report, "changed", header),
        rows(changed),
        "changed rows"
    );
    assert_eq!(
        file_rows(ws, report, "removed", header),
        rows(removed),
        "removed rows"
    );
    let (_, a, c, r) = counts(report);
    assert_eq!(
        (a, c, r),
        (
            added.len() as u64,
            changed.len() as u64,
            removed.len() as u64
        ),
        "counts of {report:#}"
    );
}

/// The file names a diff run `run_id` writes with the `people_sync` template.
fn diff_names(day: u32, run_id: u32) -> Vec<String> {
    ["added", "changed", "removed"]
        .iter()
        .map(|k| format!("people-202403{day:02}-{run_id}_{k}.csv"))
        .collect()
}

#[test]
fn all_mode_delivers_every_row_on_every_run() {
    let ws = people_workspace();
    let sync = people_sync(&ws, "all");
    let header = ["id", "name", "score"];

    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(counts(&r1), (4, 0, 0, 0));
    assert_eq!(
        report_files(&r1),
        vec![("people-20240301-1.csv".to_string(), 4, false)]
    );
    assert_eq!(
        file_rows(&ws, &r1, "all", &header),
        rows(&[
            &["1", "Ada", "10"],
            &["2", "Bob", "20"],
            &["3", "Cy", "30"],
            &["4", "Di", "40"]
        ])
    );

    ws.sql("INSERT INTO people VALUES (5, 'Eve', 'eve@example.com', 50);");
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&r2), (5, 0, 0, 0));
    assert_eq!(
        file_rows(&ws, &r2, "all", &header),
        rows(&[
            &["1", "Ada", "10"],
            &["2", "Bob", "20"],
            &["3", "Cy", "30"],
            &["4", "Di", "40"],
            &["5", "Eve", "50"]
        ])
    );

    ws.sql("UPDATE people SET name = 'Bobby', score = 21 WHERE id = 2;");
    let r3 = ws.run_ok(&sync, &at(3));
    assert_eq!(counts(&r3), (5, 0, 0, 0));
    assert_eq!(
        file_rows(&ws, &r3, "all", &header),
        rows(&[
            &["1", "Ada", "10"],
            &["2", "Bobby", "21"],
            &["3", "Cy", "30"],
            &["4", "Di", "40"],
            &["5", "Eve", "50"]
        ])
    );

    ws.sql("DELETE FROM people WHERE id IN (1, 4);");
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (3, 0, 0, 0));
    assert_eq!(
        file_rows(&ws, &r4, "all", &header),
        rows(&[
            &["2", "Bobby", "21"],
            &["3", "Cy", "30"],
            &["5", "Eve", "50"]
        ])
    );

    // Every run wrote its own file, and earlier files are untouched.
    assert_eq!(
        ws.out_files(),
        vec![
            "people-20240301-1.csv",
            "people-20240302-2.csv",
            "people-20240303-3.csv",
            "people-20240304-4.csv"
        ]
    );
    assert_eq!(ws.csv_rows("people-20240301-1.csv").len(), 4);
}

#[test]
fn insert_mode_delivers_only_new_keys_across_runs() {
    let ws = people_workspace();
    let sync = people_sync(&ws, "insert");
    let header = ["id", "name", "score"];

    // First run: everything is new.
    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(counts(&r1), (4, 4, 0, 0));
    assert_eq!(
        file_rows(&ws, &r1, "added", &header),
        rows(&[
            &["1", "Ada", "10"],
            &["2", "Bob", "20"],
            &["3", "Cy", "30"],
            &["4", "Di", "40"]
        ])
    );

    // New keys are delivered; an update to a known key is not.
    ws.sql(
        "INSERT INTO people VALUES (6, 'Fay', 'fay@example.com', 60), (5, 'Eve', 'eve@example.com', 50);
         UPDATE people SET score = 11 WHERE id = 1;",
    );
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&r2), (6, 2, 0, 0));
    assert_eq!(
        file_rows(&ws, &r2, "added", &header),
        rows(&[&["5", "Eve", "50"], &["6", "Fay", "60"]])
    );

    // A delete delivers nothing (and is not counted in insert mode).
    ws.sql("DELETE FROM people WHERE id = 2;");
    let r3 = ws.run_ok(&sync, &at(3));
    assert_eq!(counts(&r3), (5, 0, 0, 0));
    assert!(file_rows(&ws, &r3, "added", &header).is_empty());
    assert_eq!(ws.out_text("people-20240303-3.csv"), "id,name,score\r\n");

    // The deleted key comes back: it is new again, with its new values.
    ws.sql("INSERT INTO people VALUES (2, 'Bea', 'bea@example.com', 22);");
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (6, 1, 0, 0));
    assert_eq!(
        file_rows(&ws, &r4, "added", &header),
        rows(&[&["2", "Bea", "22"]])
    );

    // Nothing changed since: nothing delivered.
    let r5 = ws.run_ok(&sync, &at(5));
    assert_eq!(counts(&r5), (6, 0, 0, 0));
    assert!(file_rows(&ws, &r5, "added", &header).is_empty());

    assert_eq!(
        ws.out_files(),
        (1..=5)
            .map(|n| format!("people-202403{n:02}-{n}.csv"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn diff_mode_tracks_added_changed_and_removed_across_runs() {
    let ws = people_workspace();
    let sync = people_sync(&ws, "diff");
    let h = ["id", "name", "score"];

    // 1. First run: every row is added.
    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(counts(&r1).0, 4);
    assert_diff(
        &ws,
        &r1,
        &h,
        &[
            &["1", "Ada", "10"],
            &["2", "Bob", "20"],
            &["3", "Cy", "30"],
            &["4", "Di", "40"],
        ],
        &[],
        &[],
    );
    assert_eq!(ws.out_files(), diff_names(1, 1));

    // 2. Insert 5, update 2, delete 3.
    ws.sql(
        "INSERT INTO people VALUES (5, 'Eve', 'eve@example.com', 50);
         UPDATE people SET name = 'Bobby', score = 21 WHERE id = 2;
         DELETE FROM people WHERE id = 3;",
    );
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&r2).0, 4);
    assert_diff(
        &ws,
        &r2,
        &h,
        &[&["5", "Eve", "50"]],
        &[&["2", "Bobby", "21"]],
        &[&["3", "Cy", "30"]],
    );

    // 3. Delete 2 (last delivered as Bobby/21, not Bob/20), re-add 3 with new
    //    values, update 4, and an UPDATE that writes the same values to 1.
    ws.sql(
        "DELETE FROM people WHERE id = 2;
         INSERT INTO people VALUES (3, 'Cyrus', 'cy@example.com', 33);
         UPDATE people SET score = 41 WHERE id = 4;
         UPDATE people SET name = 'Ada', score = 10 WHERE id = 1;",
    );
    let r3 = ws.run_ok(&sync, &at(3));
    assert_eq!(counts(&r3).0, 4);
    assert_diff(
        &ws,
        &r3,
        &h,
        &[&["3", "Cyrus", "33"]],
        &[&["4", "Di", "41"]],
        &[&["2", "Bobby", "21"]],
    );

    // 4. No change: three empty (header-only) files.
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (4, 0, 0, 0));
    assert_diff(&ws, &r4, &h, &[], &[], &[]);
    for name in diff_names(4, 4) {
        assert_eq!(ws.out_text(&name), "id,name,score\r\n", "{name}");
    }

    // 5. Several of each; every file follows the key order of the query.
    ws.sql(
        "INSERT INTO people VALUES (7, 'Gus', 'gus@example.com', 70), (6, 'Fay', 'fay@example.com', 60);
         UPDATE people SET score = 51 WHERE id = 5;
         UPDATE people SET name = 'Ada L.' WHERE id = 1;
         DELETE FROM people WHERE id IN (4, 3);",
    );
    let r5 = ws.run_ok(&sync, &at(5));
    assert_eq!(counts(&r5).0, 4);
    assert_diff(
        &ws,
        &r5,
        &h,
        &[&["6", "Fay", "60"], &["7", "Gus", "70"]],
        &[&["1", "Ada L.", "10"], &["5", "Eve", "51"]],
        // Removed rows hold what was last delivered: 4 as changed in run 3,
        // 3 as re-added in run 3 (the removed file lists them in the order
        // they were last delivered).
        &[&["3", "Cyrus", "33"], &["4", "Di", "41"]],
    );

    let mut expected: Vec<String> = (1..=5).flat_map(|n| diff_names(n, n)).collect();
    expected.sort();
    assert_eq!(ws.out_files(), expected);
}

#[test]
fn diff_ignores_changes_in_columns_that_are_not_synced() {
    let ws = people_workspace();
    // `email` and `score` are not synced; `name` is renamed.
    let sync = SyncFile::sqlite(
        &ws,
        "SELECT id, name, email, score FROM people ORDER BY id",
        "id",
    )
    .filename("{model.name}-{sync.run.id}.csv")
    .column_from("id", "id")
    .column_from("name", "Name")
    .write(&ws, "people.toml");
    let h = ["id", "Name"];

    let r1 = ws.run_ok(&sync, &at(1));
    assert_diff(
        &ws,
        &r1,
        &h,
        &[&["1", "Ada"], &["2", "Bob"], &["3", "Cy"], &["4", "Di"]],
        &[],
        &[],
    );

    // Only unsynced columns change: nothing is changed.
    ws.sql(
        "UPDATE people SET score = score + 1;
         UPDATE people SET email = 'new-' || email WHERE id IN (1, 3);",
    );
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&r2), (4, 0, 0, 0));
    assert_diff(&ws, &r2, &h, &[], &[], &[]);

    // A synced column changes together with an unsynced one: changed once.
    ws.sql("UPDATE people SET name = 'Cyrus', score = 99 WHERE id = 3;");
    let r3 = ws.run_ok(&sync, &at(3));
    assert_diff(&ws, &r3, &h, &[], &[&["3", "Cyrus"]], &[]);

    // And again only unsynced columns: still nothing.
    ws.sql("UPDATE people SET email = NULL, score = NULL;");
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (4, 0, 0, 0));
    assert_diff(&ws, &r4, &h, &[], &[], &[]);
}

#[test]
fn reset_makes_the_next_run_a_first_run() {
    for mode in ["diff", "insert"] {
        let ws = people_workspace();
        let sync = people_sync(&ws, mode);
        let h = ["id", "name", "score"];
        let everyone = rows(&[
            &["1", "Ada", "10"],
            &["2", "Bob", "20"],
            &["3", "Cy", "30"],
            &["4", "Di", "40"],
        ]);

        let r1 = ws.run_ok(&sync, &at(1));
        assert_eq!(counts(&r1), (4, 4, 0, 0), "{mode}");
        assert_eq!(file_rows(&ws, &r1, "added", &h), everyone, "{mode}");

        let r2 = ws.run_ok(&sync, &at(2));
        assert_eq!(counts(&r2), (4, 0, 0, 0), "{mode}");
        assert!(file_rows(&ws, &r2, "added", &h).is_empty(), "{mode}");

        let message = ws.reset(&sync);
        assert!(
            message.contains("forgot the snapshot of 4 row(s)"),
            "{message}"
        );

        // After the reset, every row is added again; nothing is changed or removed.
        let r3 = ws.run_ok(&sync, &at(3));
        assert_eq!(counts(&r3), (4, 4, 0, 0), "{mode}");
        assert_eq!(file_rows(&ws, &r3, "added", &h), everyone, "{mode}");
        if mode == "diff" {
            assert!(file_rows(&ws, &r3, "changed", &h).is_empty());
            assert!(file_rows(&ws, &r3, "removed", &h).is_empty());
        }

        // And the run after that compares with the new snapshot as usual.
        ws.sql("DELETE FROM people WHERE id = 1; UPDATE people SET score = 0 WHERE id = 2;");
        let r4 = ws.run_ok(&sync, &at(4));
        if mode == "diff" {
            assert_diff(
                &ws,
                &r4,
                &h,
                &[],
                &[&["2", "Bob", "0"]],
                &[&["1", "Ada", "10"]],
            );
        } else {
            assert_eq!(counts(&r4), (3, 0, 0, 0));
        }

        // Reset keeps the history.
        let history = ws.history(&sync);
        assert_eq!(history.len(), 4, "{mode}: {history:#?}");
        assert!(history.iter().all(|r| r["status"] == "success"));
    }
}

#[test]
fn composite_primary_key_across_runs() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE stock (region TEXT, code INTEGER, qty INTEGER, PRIMARY KEY (region, code));
         INSERT INTO stock VALUES ('eu', 1, 10), ('us', 1, 11), ('eu', 2, 12), ('us', 2, 13);",
    );
    let sync = SyncFile::sqlite(
        &ws,
        "SELECT region, code, qty FROM stock ORDER BY region, code",
        "region",
    )
    .model_name("stock")
    .key_list(&["region", "code"])
    .write(&ws, "stock.toml");
    let h = ["region", "code", "qty"];

    let r1 = ws.run_ok(&sync, &at(1));
    assert_diff(
        &ws,
        &r1,
        &h,
        &[
            &["eu", "1", "10"],
            &["eu", "2", "12"],
            &["us", "1", "11"],
            &["us", "2", "13"],
        ],
        &[],
        &[],
    );

    // Keys that share one column are still distinct rows.
    ws.sql(
        "UPDATE stock SET qty = 21 WHERE region = 'us' AND code = 1;
         DELETE FROM stock WHERE region = 'eu' AND code = 2;
         INSERT INTO stock VALUES ('eu', 3, 14), ('ap', 1, 15);",
    );
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&r2).0, 5);
    assert_diff(
        &ws,
        &r2,
        &h,
        &[&["ap", "1", "15"], &["eu", "3", "14"]],
        &[&["us", "1", "21"]],
        &[&["eu", "2", "12"]],
    );

    // The same code in another region is a different key: re-adding ('eu', 2)
    // is an add, and moving ('us', 2) to ('ap', 2) is a remove plus an add.
    ws.sql(
        "INSERT INTO stock VALUES ('eu', 2, 30);
         UPDATE stock SET region = 'ap' WHERE region = 'us' AND code = 2;",
    );
    let r3 = ws.run_ok(&sync, &at(3));
    assert_diff(
        &ws,
        &r3,
        &h,
        &[&["ap", "2", "13"], &["eu", "2", "30"]],
        &[],
        &[&["us", "2", "13"]],
    );

    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (6, 0, 0, 0));
    assert_diff(&ws, &r4, &h, &[], &[], &[]);
}

#[test]
fn csv_source_in_diff_mode_across_runs() {
    let ws = Workspace::new();
    let source = ws.write_file(
        "input/customers.csv",
        "id,name,city\n1,Ada,London\n2,Bob,Paris\n3,Cy,\n",
    );
    let sync = SyncFile::csv(&ws, &source, "id")
        .model_name("customers")
        .write(&ws, "customers.toml");
    let h = ["id", "name", "city"];

    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(counts(&r1).0, 3);
    assert_diff(
        &ws,
        &r1,
        &h,
        &[
            &["1", "Ada", "London"],
            &["2", "Bob", "Paris"],
            &["3", "Cy", ""],
        ],
        &[],
        &[],
    );

    // The file is rewritten: 2 gone, 3 gets a city, 4 is new, 1 is unchanged.
    ws.write_file(
        "input/customers.csv",
        "id,name,city\n4,Di,Rome\n1,Ada,London\n3,Cy,Oslo\n",
    );
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&r2).0, 3);
    assert_diff(
        &ws,
        &r2,
        &h,
        &[&["4", "Di", "Rome"]],
        &[&["3", "Cy", "Oslo"]],
        &[&["2", "Bob", "Paris"]],
    );

    // Quoted fields, a re-added key and a value emptied (NULL).
    ws.write_file(
        "input/customers.csv",
        "id,name,city\r\n1,\"Ada, Countess\",London\r\n2,Bob,Paris\r\n3,Cy,\r\n4,Di,Rome\r\n",
    );
    let r3 = ws.run_ok(&sync, &at(3));
    assert_diff(
        &ws,
        &r3,
        &h,
        &[&["2", "Bob", "Paris"]],
        &[&["1", "Ada, Countess", "London"], &["3", "Cy", ""]],
        &[],
    );

    // The same content written again is no change.
    ws.write_file(
        "input/customers.csv",
        "id,name,city\n1,\"Ada, Countess\",London\n2,Bob,Paris\n3,Cy,\n4,Di,Rome\n",
    );
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (4, 0, 0, 0));
    assert_diff(&ws, &r4, &h, &[], &[], &[]);
}

#[test]
fn added_and_changed_rows_follow_the_query_order() {
    let ws = Workspace::new();
    ws.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, rank INTEGER NOT NULL, v TEXT);");
    // rank is a permutation of the ids, so ORDER BY rank DESC is neither the
    // key order nor the insertion order.
    let insert = |ids: std::ops::RangeInclusive<i64>| {
        let values: Vec<String> = ids
            .map(|id| format!("({id}, {}, 'v{id}')", (id * 37) % 1009))
            .collect();
        ws.sql(&format!("INSERT INTO t VALUES {};", values.join(", ")));
    };
    insert(1..=200);
    let sync = SyncFile::sqlite(&ws, "SELECT id, rank, v FROM t ORDER BY rank DESC", "id")
        .model_name("ranked")
        .write(&ws, "ranked.toml");
    let expected_order = |ws: &Workspace, filter: &str| -> Vec<String> {
        let conn = rusqlite::Connection::open(&ws.db).unwrap();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id FROM t WHERE {filter} ORDER BY rank DESC"
            ))
            .unwrap();
        let ids = stmt
            .query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        ids
    };
    let ids_of = |ws: &Workspace, report: &Json, kind: &str| -> Vec<String> {
        ws.csv_rows(&file_of_kind(report, kind))
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    };

    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(ids_of(&ws, &r1, "added"), expected_order(&ws, "1"));

    insert(201..=400);
    ws.sql("UPDATE t SET v = 'changed' WHERE id % 3 = 0 AND id <= 200;");
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&r2), (400, 200, 66, 0));
    assert_eq!(ids_of(&ws, &r2, "added"), expected_order(&ws, "id > 200"));
    assert_eq!(
        ids_of(&ws, &r2, "changed"),
        expected_order(&ws, "v = 'changed'")
    );
    // Values travel with their rows.
    for r in ws.csv_rows(&file_of_kind(&r2, "added")) {
        let id: i64 = r[0].parse().unwrap();
        assert_eq!(
            r,
            vec![
                id.to_string(),
                ((id * 37) % 1009).to_string(),
                format!("v{id}")
            ]
        );
    }
}

#[test]
fn skip_empty_files_reports_skipped_files_and_writes_none() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .skip_empty_files(true)
        .write(&ws, "people.toml");

    // First run: only the added file has rows.
    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(
        report_files(&r1),
        vec![
            ("people-1_added.csv".to_string(), 4, false),
            ("people-1_changed.csv".to_string(), 0, true),
            ("people-1_removed.csv".to_string(), 0, true),
        ]
    );
    assert_eq!(ws.out_files(), vec!["people-1_added.csv"]);
    assert_eq!(ws.csv_rows("people-1_added.csv").len(), 4);

    // No change: every file skipped, nothing written.
    let r2 = ws.run_ok(&sync, &at(2));
    assert_eq!(
        report_files(&r2),
        vec![
            ("people-2_added.csv".to_string(), 0, true),
            ("people-2_changed.csv".to_string(), 0, true),
            ("people-2_removed.csv".to_string(), 0, true),
        ]
    );
    assert_eq!(ws.out_files(), vec!["people-1_added.csv"]);

    // Only a removal: only the removed file is written.
    ws.sql("DELETE FROM people WHERE id = 2;");
    let r3 = ws.run_ok(&sync, &at(3));
    assert_eq!(
        report_files(&r3),
        vec![
            ("people-3_added.csv".to_string(), 0, true),
            ("people-3_changed.csv".to_string(), 0, true),
            ("people-3_removed.csv".to_string(), 1, false),
        ]
    );
    assert_eq!(
        ws.out_files(),
        vec!["people-1_added.csv", "people-3_removed.csv"]
    );
    assert_eq!(
        ws.csv_rows("people-3_removed.csv"),
        rows(&[&["2", "Bob", "20"]])
    );

    // The history records the skipped files too.
    let history = ws.history(&sync);
    let skipped: Vec<bool> = history[1]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["skipped"].as_bool().unwrap())
        .collect();
    assert_eq!(history[1]["run_id"], 2);
    assert_eq!(skipped, vec![true, true, true]);

    // Insert mode with nothing new: skipped, not written.
    let insert = SyncFile::sqlite(&ws, PEOPLE, "id")
        .mode("insert")
        .filename("inserted-{sync.run.id}.csv")
        .skip_empty_files(true)
        .write(&ws, "inserted.toml");
    ws.run_ok(&insert, &at(4));
    let r5 = ws.run_ok(&insert, &at(5));
    assert_eq!(
        report_files(&r5),
        vec![("inserted-2.csv".to_string(), 0, true)]
    );
    assert!(!ws.out_files().contains(&"inserted-2.csv".to_string()));
    assert!(ws.out_files().contains(&"inserted-1.csv".to_string()));
}

#[test]
fn empty_files_are_written_with_only_a_header_by_default() {
    let ws = people_workspace();
    let sync = SyncFile::sqlite(&ws, PEOPLE, "id")
        .skip_empty_files(false)
        .write(&ws, "people.toml");

    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(
        report_files(&r1),
        vec![
            ("people-1_added.csv".to_string(), 4, false),
            ("people-1_changed.csv".to_string(), 0, false),
            ("people-1_removed.csv".to_string(), 0, false),
        ]
    );
    assert_eq!(ws.out_text("people-1_changed.csv"), "id,name,score\r\n");
    assert_eq!(ws.out_text("people-1_removed.csv"), "id,name,score\r\n");

    // The default (key left out) is the same: header-only files.
    let default = SyncFile::sqlite(&ws, PEOPLE, "id")
        .filename("default-{sync.run.id}.csv")
        .write(&ws, "default.toml");
    ws.run_ok(&default, &at(1));
    let r = ws.run_ok(&default, &at(2));
    assert!(report_files(&r)
        .iter()
        .all(|(_, n, skipped)| *n == 0 && !skipped));
    for kind in ["added", "changed", "removed"] {
        assert_eq!(
            ws.out_text(&format!("default-2_{kind}.csv")),
            "id,name,score\r\n"
        );
    }
}

/// Empties the `people` table after a first run, runs, and refills it with
/// ids 10..=15 (more rows than were removed).
fn empty_and_refill(ws: &Workspace, sync: &std::path::Path) -> Json {
    ws.run_ok(sync, &at(1));
    ws.sql("DELETE FROM people;");
    let r2 = ws.run_ok(sync, &at(2));
    ws.sql(
        "INSERT INTO people (id, name, score) VALUES
           (10, 'Ja', 1), (11, 'Ka', 1), (12, 'La', 1), (13, 'Ma', 1), (14, 'Na', 1), (15, 'Oa', 1);",
    );
    r2
}

#[test]
fn a_table_emptied_and_refilled_does_not_bring_back_old_rows() {
    let ws = people_workspace();
    let sync = people_sync(&ws, "diff");
    let h = ["id", "name", "score"];

    // Every row goes: all four are removed.
    let r2 = empty_and_refill(&ws, &sync);
    assert_diff(
        &ws,
        &r2,
        &h,
        &[],
        &[],
        &[
            &["1", "Ada", "10"],
            &["2", "Bob", "20"],
            &["3", "Cy", "30"],
            &["4", "Di", "40"],
        ],
    );

    // New rows arrive: only they are added.
    let r3 = ws.run_ok(&sync, &at(3));
    assert_eq!(counts(&r3), (6, 6, 0, 0));

    // Nothing changed since: the rows removed in run 2 must not be removed again.
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (6, 0, 0, 0));
    assert_diff(&ws, &r4, &h, &[], &[], &[]);

    // And one of the old keys coming back is an add.
    ws.sql("INSERT INTO people VALUES (1, 'Ada', 'ada@example.com', 10);");
    let r5 = ws.run_ok(&sync, &at(5));
    assert_diff(&ws, &r5, &h, &[&["1", "Ada", "10"]], &[], &[]);
}

#[test]
fn insert_mode_delivers_keys_re_added_after_the_table_was_emptied() {
    let ws = people_workspace();
    let sync = people_sync(&ws, "insert");
    let h = ["id", "name", "score"];

    let r2 = empty_and_refill(&ws, &sync);
    assert_eq!(counts(&r2), (0, 0, 0, 0));
    let r3 = ws.run_ok(&sync, &at(3));
    assert_eq!(counts(&r3), (6, 6, 0, 0));

    // Ada was deleted in run 2; she is new again and must be delivered.
    ws.sql("INSERT INTO people VALUES (1, 'Ada', 'ada@example.com', 10);");
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (7, 1, 0, 0));
    assert_eq!(
        file_rows(&ws, &r4, "added", &h),
        rows(&[&["1", "Ada", "10"]])
    );
}

#[test]
fn refilling_an_emptied_table_with_fewer_rows_then_running_again_succeeds() {
    let ws = people_workspace();
    let sync = people_sync(&ws, "diff");
    let h = ["id", "name", "score"];
    ws.run_ok(&sync, &at(1));
    ws.sql("DELETE FROM people;");
    ws.run_ok(&sync, &at(2));
    // Two rows where four were.
    ws.sql("INSERT INTO people VALUES (8, 'Hal', 'hal@example.com', 80), (9, 'Ivy', 'ivy@example.com', 90);");
    let r3 = ws.run_ok(&sync, &at(3));
    assert_diff(
        &ws,
        &r3,
        &h,
        &[&["8", "Hal", "80"], &["9", "Ivy", "90"]],
        &[],
        &[],
    );
    let r4 = ws.run_ok(&sync, &at(4));
    assert_eq!(counts(&r4), (2, 0, 0, 0));
    assert_diff(&ws, &r4, &h, &[], &[], &[]);
}

/// The table `t(id, v)` as a sorted map.
fn table(ws: &Workspace) -> std::collections::BTreeMap<i64, i64> {
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    let mut stmt = conn.prepare("SELECT id, v FROM t").unwrap();
    let map = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    map
}

fn id_value_rows<'a>(it: impl Iterator<Item = (&'a i64, &'a i64)>) -> Vec<Vec<String>> {
    it.map(|(k, v)| vec![k.to_string(), v.to_string()])
        .collect()
}

#[test]
fn large_diff_runs_match_a_reference_model() {
    // Enough rows and churn that the snapshot's delta and record garbage are
    // compacted along the way; every file is compared with a plain model.
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000)
         INSERT INTO t SELECT x, 0 FROM c;",
    );
    let sync = SyncFile::sqlite(&ws, "SELECT id, v FROM t ORDER BY id", "id")
        .model_name("big")
        .write(&ws, "big.toml");
    let changes = [
        "UPDATE t SET v = 1 WHERE id % 2 = 0; DELETE FROM t WHERE id % 7 = 0;
         INSERT INTO t SELECT id + 100000, 5 FROM t WHERE id < 3000;",
        "UPDATE t SET v = 2 WHERE id % 3 = 0; DELETE FROM t WHERE id % 11 = 0;
         INSERT INTO t SELECT id + 200000, 5 FROM t WHERE id < 3000;",
        "UPDATE t SET v = 3 WHERE id % 5 = 0; DELETE FROM t WHERE id % 13 = 0;
         INSERT INTO t VALUES (7, 7), (14, 14);",
        "",
    ];
    let mut delivered = table(&ws);
    let r1 = ws.run_ok(&sync, &at(1));
    assert_eq!(counts(&r1), (60000, 60000, 0, 0));
    assert_eq!(
        ws.csv_rows(&file_of_kind(&r1, "added")),
        id_value_rows(delivered.iter())
    );
    for (i, sql) in changes.iter().enumerate() {
        ws.sql(sql);
        let now = table(&ws);
        let added = now.iter().filter(|(k, _)| !delivered.contains_key(k));
        let changed = now
            .iter()
            .filter(|(k, v)| delivered.get(k).is_some_and(|old| old != *v));
        let mut removed = id_value_rows(delivered.iter().filter(|(k, _)| !now.contains_key(k)));
        let report = ws.run_ok(&sync, &at(i as u32 + 2));
        let (added, changed) = (id_value_rows(added), id_value_rows(changed));
        assert_eq!(
            counts(&report),
            (
                now.len() as u64,
                added.len() as u64,
                changed.len() as u64,
                removed.len() as u64
            ),
            "run {}",
            i + 2
        );
        assert_eq!(ws.csv_rows(&file_of_kind(&report, "added")), added);
        assert_eq!(ws.csv_rows(&file_of_kind(&report, "changed")), changed);
        // The removed file lists rows in the order they were last delivered;
        // compare its contents.
        let mut got_removed = ws.csv_rows(&file_of_kind(&report, "removed"));
        got_removed.sort();
        removed.sort();
        assert_eq!(got_removed, removed, "run {}", i + 2);
        delivered = now;
    }
}
