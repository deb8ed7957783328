//! What the desktop app's editors ask of the core: sync drafts that round-trip
//! through TOML, live inspection of a draft, model probes, key checks and
//! source tests — all against real SQLite and CSV files.

use crate::support as common;

use chrono::TimeZone;
use common::Workspace;
use dropsync::config::{SyncDraft, SyncSpec};
use dropsync::inspect::inspect;
use dropsync::probe;

fn shop(ws: &Workspace) {
    ws.sql(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT, ltv REAL);
         INSERT INTO customers VALUES (1, 'Ada', 'UK', 12.5), (2, 'Grace', NULL, 3), (3, 'Linus', 'FI', NULL);
         CREATE VIEW recent AS SELECT * FROM customers WHERE id > 1;",
    );
}

const SYNC: &str = r#"
[source]
type = "sqlite"
path = "source.db"

[model]
id = "customers"
name = "Customers"
sql = """
SELECT id, name, country
FROM customers"""
primary_key = "id"

[destination]
type = "folder"
path = "out"

[sync]
id = "customers"
mode = "diff"
format = "csv"
filename = "{model.id}/{YYYY}-{MM}-{DD}.csv"
filename_offset = -86400
schedule = "every 15m"

[sync.csv]
delimiter = ";"
bom = true

[[sync.columns]]
from = "id"
to = "customer_id"

[[sync.columns]]
value = "web"
to = "channel"

[[sync.columns]]
template = "{model.name}"
to = "model"

[[alerts]]
type = "slack"
webhook_url = "env:SLACK_URL"

[alert_when]
run_longer_than = "30m"
"#;

fn noon() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap()
}

#[test]
fn a_draft_saved_is_the_file_loaded() {
    let ws = Workspace::new();
    shop(&ws);
    let path = ws.write_sync("customers.toml", SYNC);
    let draft = SyncDraft::load(&path).unwrap();
    let spec_before = SyncSpec::load(&path).unwrap();

    let copy = ws.path("copy.toml");
    let spec_after = draft.save(&copy).unwrap();
    assert_eq!(SyncDraft::load(&copy).unwrap(), draft);
    assert_eq!(spec_after.sync, spec_before.sync);
    assert_eq!(spec_after.model, spec_before.model);
    assert_eq!(spec_after.alerts, spec_before.alerts);
    assert_eq!(spec_after.alert_when, spec_before.alert_when);
    // The written file runs unchanged with the CLI's loader.
    assert_eq!(SyncSpec::load(&copy).unwrap().sync.id, "customers");
    // JSON (the UI's side) round-trips too.
    let json = serde_json::to_value(&draft).unwrap();
    assert_eq!(json["source"]["type"], "sqlite");
    assert_eq!(json["sync"]["columns"][1]["value"], "web");
    let back: SyncDraft = serde_json::from_value(json).unwrap();
    assert_eq!(back, draft);
}

#[test]
fn an_invalid_draft_is_not_written_and_names_its_field() {
    let ws = Workspace::new();
    shop(&ws);
    let path = ws.write_sync("customers.toml", SYNC);
    let mut draft = SyncDraft::load(&path).unwrap();
    draft.sync.filename = Some("{YYYY}/{nope}.csv".into());
    let err = draft.save(&path).unwrap_err();
    match &err {
        dropsync::Error::Field { field, message, .. } => {
            assert_eq!(field, "[sync] filename");
            assert!(message.contains("nope"), "{message}");
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    // The old file is untouched.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SYNC);
    assert!(std::fs::read_dir(ws.dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
}

#[test]
fn inspection_shows_every_part_of_a_good_draft() {
    let ws = Workspace::new();
    shop(&ws);
    let path = ws.write_sync("customers.toml", SYNC);
    let draft = SyncDraft::load(&path).unwrap();
    let i = inspect(&draft, &path, &ws.state, noon(), 7);
    assert_eq!(i.error, None);
    // The offset moves the name a day back.
    assert_eq!(
        i.filename.resolved.as_deref(),
        Some("customers/2026-03-08.csv")
    );
    assert_eq!(
        i.files,
        [
            "customers/2026-03-08_added.csv",
            "customers/2026-03-08_changed.csv",
            "customers/2026-03-08_removed.csv"
        ]
    );
    let cols: Vec<_> = i
        .model_columns
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(cols, ["id", "name", "country"]);
    assert_eq!(i.header.unwrap(), ["customer_id", "channel", "model"]);
    assert_eq!(i.next_runs.len(), 3);
    assert_eq!(i.next_runs[0].to_rfc3339(), "2026-03-09T12:15:00+00:00");
    // SLACK_URL is not set here: a problem to show, not one that stops saving.
    assert_eq!(i.destination_error, None);
    assert_eq!(i.alert_problems.len(), 1, "{:?}", i.alert_problems);
    assert!(i.alert_problems[0].contains("SLACK_URL"));

    // Without the output folder a run would fail, so the editor says so.
    std::fs::remove_dir(ws.path("out")).unwrap();
    let i = inspect(&draft, &path, &ws.state, noon(), 7);
    assert_eq!(i.error, None);
    assert!(i.destination_error.unwrap().contains("does not exist"));
    assert_eq!(i.missing_folder.unwrap(), ws.path("out"));
}

#[test]
fn inspection_says_when_a_dropbox_sync_has_no_account() {
    let ws = Workspace::new();
    shop(&ws);
    let path = ws.write_sync("customers.toml", SYNC);
    let mut draft = SyncDraft::load(&path).unwrap();
    draft.destination.kind = "dropbox".into();
    draft.destination.path = "/Exports".into();
    let i = inspect(&draft, &path, &ws.state, noon(), 1);
    assert_eq!(i.error, None);
    let e = i.destination_error.unwrap();
    assert!(e.contains("no Dropbox account is connected"), "{e}");
    assert_eq!(i.missing_folder, None);
}

#[test]
fn inspection_keeps_each_problem_to_its_own_part() {
    let ws = Workspace::new();
    shop(&ws);
    let path = ws.write_sync("customers.toml", SYNC);
    let mut draft = SyncDraft::load(&path).unwrap();
    draft.sync.schedule = Some("every fortnight".into());
    let cols = draft.sync.columns.as_mut().unwrap();
    cols[0].from = Some("no_such_column".into());
    let i = inspect(&draft, &path, &ws.state, noon(), 1);
    // The schedule is the first thing that stops the file from loading ...
    let e = i.error.unwrap();
    assert_eq!(e.field, "[sync] schedule");
    assert!(i.schedule_error.is_some());
    assert!(i.next_runs.is_empty());
    // ... yet the filename and the model's columns still show,
    assert_eq!(
        i.filename.resolved.as_deref(),
        Some("customers/2026-03-08.csv")
    );
    assert_eq!(i.model_columns.unwrap().len(), 3);
    // and the mapping names the missing column.
    let he = i.header_error.unwrap();
    assert!(he.contains("no_such_column"), "{he}");
    assert!(i.header.is_none());

    // A bad template variable: named in the filename part and as the field.
    let mut draft = SyncDraft::load(&path).unwrap();
    draft.sync.filename = Some("{YYYY}{month}.csv".into());
    let i = inspect(&draft, &path, &ws.state, noon(), 1);
    assert!(i.filename.error.unwrap().contains("month"));
    assert_eq!(i.error.unwrap().field, "[sync] filename");
    assert!(i.header.is_some());

    // A query that does not prepare: the model part says why.
    let mut draft = SyncDraft::load(&path).unwrap();
    draft.model.sql = Some("SELECT nope FROM customers".into());
    let i = inspect(&draft, &path, &ws.state, noon(), 1);
    assert!(i.model_error.unwrap().contains("nope"));
    assert!(i.model_columns.is_none());
}

#[test]
fn a_probe_returns_the_first_rows_with_their_types() {
    let ws = Workspace::new();
    shop(&ws);
    let source = dropsync::config::SourceSpec::Sqlite {
        path: ws.db.clone(),
    };
    let p = probe::probe(&source, Some("SELECT * FROM customers ORDER BY id"), 2).unwrap();
    assert!(p.more);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(
        p.rows[1],
        [
            Some("2".into()),
            Some("Grace".into()),
            None,
            Some("3.0".into())
        ]
    );
    let types: Vec<_> = p
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.declared_type.as_deref(),
                c.observed_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("id", Some("INTEGER"), "integer"),
            ("name", Some("TEXT"), "text"),
            ("country", Some("TEXT"), "text"),
            ("ltv", Some("REAL"), "float"),
        ]
    );
    let all = probe::probe(&source, Some("SELECT * FROM customers"), 100).unwrap();
    assert!(!all.more);
    assert_eq!(all.rows.len(), 3);

    // The table's declared primary key is named, so the app can preselect
    // it; a computed column or a joined table's plain column is not.
    let keyed = probe::probe(
        &source,
        Some("SELECT name, id, id * 2 AS twice FROM customers"),
        1,
    )
    .unwrap();
    let pk: Vec<_> = keyed
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.primary_key))
        .collect();
    assert_eq!(pk, [("name", false), ("id", true), ("twice", false)]);

    let err = probe::probe(&source, Some("SELEC 1"), 10).unwrap_err();
    assert_eq!(err.code(), "query");
    let err = probe::probe(&source, Some("  "), 10).unwrap_err();
    assert!(err.to_string().contains("no query"), "{err}");
}

#[test]
fn the_key_check_reads_every_row() {
    let ws = Workspace::new();
    shop(&ws);
    let source = dropsync::config::SourceSpec::Sqlite {
        path: ws.db.clone(),
    };
    let sql = Some("SELECT * FROM customers");
    let ok = probe::check_key(&source, sql, &["id".into()]).unwrap();
    assert!(ok.ok);
    assert_eq!(ok.rows, Some(3));

    let nulls = probe::check_key(&source, sql, &["country".into()]).unwrap();
    assert!(!nulls.ok);
    let m = nulls.message.unwrap();
    assert!(m.contains("NULL") && m.contains("country"), "{m}");

    ws.sql("INSERT INTO customers VALUES (4, 'Ada', 'UK', 1)");
    let dup = probe::check_key(&source, sql, &["name".into()]).unwrap();
    assert!(!dup.ok);
    assert!(dup.message.unwrap().contains("Ada"));

    let composite = probe::check_key(&source, sql, &["name".into(), "id".into()]).unwrap();
    assert!(composite.ok);

    let missing = probe::check_key(&source, sql, &["nope".into()]).unwrap();
    assert!(!missing.ok);
    assert!(missing.message.unwrap().contains("nope"));

    let none = probe::check_key(&source, sql, &[]).unwrap();
    assert!(!none.ok);
}

#[test]
fn a_source_test_lists_what_it_holds_or_says_what_is_wrong() {
    let ws = Workspace::new();
    shop(&ws);
    let t = probe::test_source(&dropsync::config::SourceSpec::Sqlite {
        path: ws.db.clone(),
    })
    .unwrap();
    assert_eq!(t.tables, ["customers", "recent"]);
    assert!(t.message.contains("2 tables and views"), "{}", t.message);

    let csv = ws.write_file("people.csv", "id;name\n1;Ada\n");
    let t = probe::test_source(&dropsync::config::SourceSpec::Csv {
        path: csv,
        delimiter: b';',
        header: true,
    })
    .unwrap();
    assert_eq!(t.tables, ["id", "name"]);

    let missing = probe::test_source(&dropsync::config::SourceSpec::Sqlite {
        path: ws.path("nope.db"),
    })
    .unwrap_err();
    assert!(missing.to_string().contains("does not exist"), "{missing}");

    let not_db = ws.write_file("notes.db", "just some text, not a database at all");
    let e = probe::test_source(&dropsync::config::SourceSpec::Sqlite { path: not_db }).unwrap_err();
    assert_eq!(e.code(), "source");
}
