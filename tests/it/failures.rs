//! Bad input gets a clear error and loses nothing: a failed run delivers no
//! file and leaves the snapshot where the last successful run put it, so the
//! next successful run delivers exactly the changes since that run.

use crate::support as common;

use common::{at, at_utc, counts, file_of_kind, list_files, rows, CliRun, SyncFile, Workspace};
use dropsync::history::RunStatus;
use dropsync::run::Progress;
use dropsync::{RunControl, RunOptions, SyncSpec};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

const QUERY: &str = "SELECT id, name FROM t ORDER BY id";

/// A sync of table `t` (no key constraint, so bad keys can be stored) that
/// ran once successfully (run 1, ids 1..=3), followed by changes: 4 added,
/// 2 changed, 3 removed.
struct Scenario {
    ws: Workspace,
    sync: PathBuf,
    /// Files in out/ after the successful first run.
    first_files: Vec<String>,
}

impl Scenario {
    fn new() -> Scenario {
        let ws = Workspace::new();
        ws.sql(
            "CREATE TABLE t (id INTEGER, name TEXT);
             INSERT INTO t VALUES (1, 'Ada'), (2, 'Bob'), (3, 'Cy');",
        );
        let sync = Scenario::good(&ws).write(&ws, "t.toml");
        let r1 = ws.run_ok(&sync, &at(1));
        assert_eq!(counts(&r1), (3, 3, 0, 0));
        ws.sql(
            "INSERT INTO t VALUES (4, 'Di');
             UPDATE t SET name = 'Bobby' WHERE id = 2;
             DELETE FROM t WHERE id = 3;",
        );
        let first_files = ws.out_files();
        assert_eq!(
            first_files,
            vec!["t-1_added.csv", "t-1_changed.csv", "t-1_removed.csv"]
        );
        Scenario {
            ws,
            sync,
            first_files,
        }
    }

    /// The working sync file.
    fn good(ws: &Workspace) -> SyncFile {
        SyncFile::sqlite(ws, QUERY, "id").model_name("t")
    }

    /// Replaces the sync file.
    fn write(&self, f: &SyncFile) {
        f.write(&self.ws, "t.toml");
    }

    fn fix_sync_file(&self) {
        self.write(&Scenario::good(&self.ws));
    }

    /// `check` fails (non-zero exit) with a message containing every needle.
    fn check_fails(&self, needles: &[&str]) {
        let r = self.ws.check(&self.sync);
        assert_ne!(r.code, 0, "check should fail: {}", r.all_output());
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert_contains(&r.stderr, needles);
    }

    /// A run that fails inside the run: exit 1, a `failed` report naming the
    /// problem, a failed run in history, and no file delivered.
    fn run_fails_in_run(&self, n: u32, code: &str, needles: &[&str]) -> Json {
        let runs_before = self.ws.history(&self.sync).len();
        let r = self.ws.run_failing(&self.sync, &at(n));
        let report = r.json();
        assert_eq!(report["status"], "failed", "{report:#}");
        assert_eq!(report["error_code"], code, "{report:#}");
        let error = report["error"].as_str().expect("an error message");
        assert_contains(error, needles);
        assert_eq!(report["files"], Json::Array(vec![]), "{report:#}");
        assert_eq!(counts(&report), (0, 0, 0, 0));

        let history = self.ws.history(&self.sync);
        assert_eq!(history.len(), runs_before + 1, "{history:#?}");
        assert_eq!(history[0]["run_id"], report["run_id"]);
        assert_eq!(history[0]["status"], "failed");
        assert_eq!(history[0]["error"], report["error"]);
        self.assert_nothing_delivered();
        report
    }

    /// A run refused when the sync file is loaded: exit 1, the message on
    /// stderr, no report and no history record.
    fn run_fails_at_load(&self, n: u32, needles: &[&str]) -> CliRun {
        let r = self.ws.run_failing(&self.sync, &at(n));
        assert!(r.stdout.trim().is_empty(), "no report: {}", r.stdout);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert_contains(&r.stderr, needles);
        self.assert_nothing_delivered();
        r
    }

    fn assert_nothing_delivered(&self) {
        assert_eq!(self.ws.out_files(), self.first_files, "out/ is unchanged");
        assert_eq!(
            list_files(&self.ws.state.join("staging")),
            Vec::<String>::new(),
            "no staging files are left behind"
        );
    }

    /// After the input is fixed, one run delivers the changes made since run 1
    /// (and only those), and the history shows `failed_runs` failures between.
    fn recovers(&self, failed_runs: usize) {
        self.recovers_with(
            failed_runs,
            &[&["4", "Di"]],
            &[&["2", "Bobby"]],
            &[&["3", "Cy"]],
        );
    }

    fn recovers_with(
        &self,
        failed_runs: usize,
        added: &[&[&str]],
        changed: &[&[&str]],
        removed: &[&[&str]],
    ) {
        let report = self.ws.run_ok(&self.sync, &at(20));
        let run_id = 2 + failed_runs as u64;
        assert_eq!(report["run_id"], run_id, "{report:#}");
        for (kind, expected) in [("added", added), ("changed", changed), ("removed", removed)] {
            let path = file_of_kind(&report, kind);
            assert_eq!(path, format!("t-{run_id}_{kind}.csv"));
            let (header, got) = self.ws.csv_table(&path);
            assert_eq!(header, ["id", "name"], "{path}");
            assert_eq!(got, rows(expected), "{kind} rows after recovery");
        }
        let (_, a, c, r) = counts(&report);
        assert_eq!(
            (a, c, r),
            (
                added.len() as u64,
                changed.len() as u64,
                removed.len() as u64
            )
        );
        let mut expected_files = self.first_files.clone();
        expected_files
            .extend(["added", "changed", "removed"].map(|k| format!("t-{run_id}_{k}.csv")));
        expected_files.sort();
        assert_eq!(self.ws.out_files(), expected_files);

        let history = self.ws.history(&self.sync);
        let statuses: Vec<&str> = history
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        let mut expected = vec!["success"];
        expected.extend(std::iter::repeat_n("failed", failed_runs));
        expected.push("success");
        assert_eq!(statuses, expected, "{history:#?}");

        // And the snapshot is now current: the next run has nothing to deliver.
        let next = self.ws.run_ok(&self.sync, &at(21));
        assert_eq!(counts(&next), (3, 0, 0, 0));
    }
}

fn assert_contains(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in:\n{text}");
    }
}

// ---------- the primary key ----------

#[test]
fn null_primary_key_fails_naming_the_column_and_rows() {
    let s = Scenario::new();
    // Twelve NULL keys; ORDER BY id puts them first (rows 1..=12).
    let values: Vec<String> = (1..=12).map(|i| format!("(NULL, 'n{i}')")).collect();
    s.ws.sql(&format!("INSERT INTO t VALUES {};", values.join(", ")));

    let msg = [
        "primary key column \"id\" is NULL in 12 row(s) (row numbers 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)",
    ];
    s.check_fails(&msg);
    s.run_fails_in_run(2, "primary_key", &msg);
    // Another change while failing; a second failure.
    s.ws.sql("UPDATE t SET name = 'Ada L.' WHERE id = 1;");
    s.run_fails_in_run(3, "primary_key", &msg);

    s.ws.sql("DELETE FROM t WHERE id IS NULL;");
    s.recovers_with(
        2,
        &[&["4", "Di"]],
        &[&["1", "Ada L."], &["2", "Bobby"]],
        &[&["3", "Cy"]],
    );
}

#[test]
fn null_key_row_numbers_count_rows_in_query_order() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE n (pos INTEGER, a TEXT, b INTEGER);
         INSERT INTO n VALUES (1, 'x', 1), (2, 'x', 2), (3, 'x', NULL), (4, 'y', 1),
                              (5, 'y', 2), (6, 'z', 1), (7, NULL, 3), (8, 'z', 2);",
    );
    let sync = SyncFile::sqlite(&ws, "SELECT a, b, pos FROM n ORDER BY pos", "a")
        .key_list(&["a", "b"])
        .write(&ws, "n.toml");
    let msg = "primary key columns (\"a\", \"b\") is NULL in 2 row(s) (row numbers 3, 7)";
    let c = ws.check(&sync);
    assert_ne!(c.code, 0);
    assert_contains(&c.stderr, &[msg]);
    let r = ws.run_failing(&sync, &at(1)).json();
    assert_contains(r["error"].as_str().unwrap(), &[msg]);
    assert_eq!(ws.out_files(), Vec::<String>::new());

    // A first run that failed leaves no snapshot: once fixed, everything is added.
    ws.sql("DELETE FROM n WHERE a IS NULL OR b IS NULL;");
    let ok = ws.run_ok(&sync, &at(2));
    assert_eq!(counts(&ok), (6, 6, 0, 0));
}

#[test]
fn duplicate_primary_key_fails_naming_up_to_ten_keys() {
    let s = Scenario::new();
    // Twelve keys, each twice.
    let values: Vec<String> = (100..112)
        .flat_map(|id| [format!("({id}, 'a{id}')"), format!("({id}, 'b{id}')")])
        .collect();
    s.ws.sql(&format!("INSERT INTO t VALUES {};", values.join(", ")));

    let head = "primary key column \"id\" is not unique: 12 key value(s) appear more than once, for example ";
    s.check_fails(&[head]);
    let report = s.run_fails_in_run(2, "primary_key", &[head]);
    let error = report["error"].as_str().unwrap();
    let listed = error[error.find(head).unwrap() + head.len()..]
        .split(". ")
        .next()
        .unwrap();
    let keys: Vec<i64> = listed
        .split(", ")
        .map(|k| k.parse().unwrap_or_else(|_| panic!("{k:?} in {error}")))
        .collect();
    assert_eq!(keys.len(), 10, "ten of the twelve keys: {error}");
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "{error}");
    assert!(keys.iter().all(|k| (100..112).contains(k)), "{error}");

    s.ws.sql("DELETE FROM t WHERE id >= 100;");
    s.recovers(1);
}

#[test]
fn duplicate_of_an_existing_key_fails_the_run() {
    let s = Scenario::new();
    s.ws.sql("INSERT INTO t VALUES (2, 'Bob again');");
    let msg = "primary key column \"id\" is not unique: 1 key value(s) appear more than once, for example 2.";
    s.check_fails(&[msg]);
    s.run_fails_in_run(2, "primary_key", &[msg]);
    s.ws.sql("DELETE FROM t WHERE name = 'Bob again';");
    s.recovers(1);
}

#[test]
fn missing_primary_key_column_fails_naming_the_columns() {
    let s = Scenario::new();
    s.write(&Scenario::good(&s.ws).key("ident"));
    let msg = ["primary key column \"ident\" is not among the model's columns (\"id\", \"name\")"];
    s.check_fails(&msg);
    s.run_fails_in_run(2, "primary_key", &msg);
    s.fix_sync_file();
    s.recovers(1);
}

// ---------- the sync file ----------

#[test]
fn unknown_filename_variable_is_refused_when_loading() {
    let s = Scenario::new();
    s.write(&Scenario::good(&s.ws).filename("t-{month}-{sync.run.id}.csv"));
    let msg = ["[sync] filename", "unknown variable {month}", "{YYYY}"];
    s.check_fails(&msg);
    s.run_fails_at_load(2, &msg);
    s.fix_sync_file();
    s.recovers(0);
}

#[test]
fn unclosed_brace_in_filename_is_refused_when_loading() {
    let s = Scenario::new();
    s.write(&Scenario::good(&s.ws).filename("t-{sync.run.id.csv"));
    let msg = [
        "[sync] filename",
        "unclosed `{` at character 3; close it with `}` or write `{{` for a literal brace",
    ];
    s.check_fails(&msg);
    s.run_fails_at_load(2, &msg);
    s.fix_sync_file();
    s.recovers(0);
}

#[test]
fn duplicate_output_column_is_refused_when_loading() {
    let s = Scenario::new();
    s.write(
        &Scenario::good(&s.ws)
            .column_from("id", "id")
            .column_from("name", "id"),
    );
    let msg = [
        "[[sync.columns]] #2",
        "output column \"id\" is already produced by mapping #1",
    ];
    s.check_fails(&msg);
    s.run_fails_at_load(2, &msg);
    s.fix_sync_file();
    s.recovers(0);
}

#[test]
fn mapping_from_a_missing_column_fails_naming_it() {
    let s = Scenario::new();
    s.write(
        &Scenario::good(&s.ws)
            .column_from("id", "id")
            .column_from("mail", "name"),
    );
    let msg = [
        "column mapping #2: column \"mail\" is not among the model's columns (\"id\", \"name\")",
    ];
    s.check_fails(&msg);
    s.run_fails_in_run(2, "mapping", &msg);
    s.fix_sync_file();
    s.recovers(1);
}

#[test]
fn template_using_a_missing_column_fails_naming_it() {
    let s = Scenario::new();
    s.write(
        &Scenario::good(&s.ws)
            .column_from("id", "id")
            .column_template("{{ name }} <{{ email }}>", "name"),
    );
    let msg = [
        "column mapping #2",
        "the template uses {{ email }}, which is not among the model's columns (\"id\", \"name\")",
    ];
    s.check_fails(&msg);
    s.run_fails_in_run(2, "mapping", &msg);
    s.fix_sync_file();
    s.recovers(1);
}

// ---------- the query and the source ----------

#[test]
fn invalid_sql_fails_with_the_database_message() {
    let s = Scenario::new();
    s.write(&Scenario::good(&s.ws).sql("SELEC id, name FROM t"));
    let msg = ["the model's query failed", "syntax error", "[model] sql"];
    s.check_fails(&msg);
    s.run_fails_in_run(2, "query", &msg);

    // A query naming a table that does not exist, too.
    s.write(&Scenario::good(&s.ws).sql("SELECT id, name FROM nope"));
    s.check_fails(&["the model's query failed", "no such table: nope"]);
    s.run_fails_in_run(3, "query", &["no such table: nope"]);

    s.fix_sync_file();
    s.recovers(2);
}

#[test]
fn a_query_that_writes_is_refused_and_changes_nothing() {
    let s = Scenario::new();
    let before = s.ws.sql_count("SELECT count(*) FROM t");
    for sql in ["DELETE FROM t", "UPDATE t SET name = 'x'"] {
        s.write(&Scenario::good(&s.ws).sql(sql));
        let msg = [
            "the model's query failed",
            "the query would change the database; a model must only read",
        ];
        s.check_fails(&msg);
        s.run_fails_in_run(if sql.starts_with("DELETE") { 2 } else { 3 }, "query", &msg);
    }
    assert_eq!(s.ws.sql_count("SELECT count(*) FROM t"), before);
    assert_eq!(s.ws.sql_count("SELECT count(*) FROM t WHERE name = 'x'"), 0);
    s.fix_sync_file();
    s.recovers(2);
}

#[test]
fn missing_source_database_fails_and_is_not_created() {
    let s = Scenario::new();
    let moved = s.ws.path("moved.db");
    std::fs::rename(&s.ws.db, &moved).unwrap();
    let msg = [
        "source sqlite",
        "the database file does not exist; check [source] path",
    ];
    s.check_fails(&msg);
    s.run_fails_in_run(2, "source", &msg);
    assert!(!s.ws.db.exists(), "the run must not create the database");
    std::fs::rename(&moved, &s.ws.db).unwrap();
    s.recovers(1);
}

#[test]
fn missing_csv_source_file_fails_naming_the_file() {
    let ws = Workspace::new();
    let csv = ws.write_file("in.csv", "id,name\n1,Ada\n");
    let sync = SyncFile::csv(&ws, &csv, "id").write(&ws, "c.toml");
    assert_eq!(counts(&ws.run_ok(&sync, &at(1))), (1, 1, 0, 0));
    std::fs::remove_file(&csv).unwrap();
    let c = ws.check(&sync);
    assert_ne!(c.code, 0);
    assert_contains(
        &c.stderr,
        &["in.csv", "cannot open the file", "[source] path"],
    );
    let r = ws.run_failing(&sync, &at(2)).json();
    assert_eq!(r["error_code"], "source");
    assert_contains(
        r["error"].as_str().unwrap(),
        &["in.csv", "cannot open the file"],
    );
    ws.write_file("in.csv", "id,name\n1,Ada\n2,Bob\n");
    let ok = ws.run_ok(&sync, &at(3));
    assert_eq!(counts(&ok), (2, 1, 0, 0));
    assert_eq!(
        ws.csv_rows(&file_of_kind(&ok, "added")),
        rows(&[&["2", "Bob"]])
    );
}

#[test]
fn missing_destination_folder_fails_and_is_not_created() {
    let s = Scenario::new();
    let moved = s.ws.path("out-moved");
    std::fs::rename(&s.ws.out, &moved).unwrap();
    let msg = [
        "destination ",
        "the folder does not exist; create it (mkdir) or fix [destination] path",
    ];
    s.check_fails(&msg);
    // run_fails_in_run checks out/, which is gone: check the moved folder here.
    let r = s.ws.run_failing(&s.sync, &at(2)).json();
    assert_eq!(r["status"], "failed");
    assert_eq!(r["error_code"], "destination");
    assert_contains(r["error"].as_str().unwrap(), &msg);
    assert!(!s.ws.out.exists(), "the run must not create the folder");
    assert_eq!(list_files(&moved), s.first_files);
    assert_eq!(s.ws.history(&s.sync)[0]["status"], "failed");
    std::fs::rename(&moved, &s.ws.out).unwrap();
    s.recovers(1);
}

// ---------- failures in the middle of a run (library) ----------

/// Records every progress event; cancels the run when `cancel_when` says so.
struct Recorder {
    events: Arc<Mutex<Vec<String>>>,
    control: Arc<RunControl>,
}

fn recorder(cancel_when: impl Fn(&Progress) -> bool + Send + Sync + 'static) -> Recorder {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    // The callback needs the control to cancel it; hand it over once built.
    let slot: Arc<Mutex<Option<std::sync::Weak<RunControl>>>> = Arc::new(Mutex::new(None));
    let slot_in = slot.clone();
    let control = Arc::new(RunControl::new(move |p: &Progress| {
        seen.lock().unwrap().push(format!("{p:?}"));
        if cancel_when(p) {
            if let Some(c) = slot_in.lock().unwrap().as_ref().and_then(|w| w.upgrade()) {
                c.cancel();
            }
        }
    }));
    *slot.lock().unwrap() = Some(Arc::downgrade(&control));
    Recorder { events, control }
}

fn load(path: &Path) -> SyncSpec {
    SyncSpec::load(path).expect("the sync file loads")
}

fn run_lib(
    ws: &Workspace,
    spec: &SyncSpec,
    n: u32,
    control: &RunControl,
) -> dropsync::history::RunReport {
    dropsync::run(
        spec,
        &ws.state,
        &RunOptions {
            at: Some(at_utc(n)),
            ..Default::default()
        },
        control,
    )
    .expect("the run starts")
}

/// The rows of a library report's file of `kind`.
fn lib_rows(ws: &Workspace, report: &dropsync::history::RunReport, kind: &str) -> Vec<Vec<String>> {
    let f = report
        .files
        .iter()
        .find(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} file in {report:?}"));
    ws.csv_rows(&f.path)
}

/// A workspace with `t` holding ids 1..=n (name `n<id>`), synced once in diff mode.
fn big_workspace(n: i64, skip: &[i64], query: &str) -> (Workspace, SyncSpec) {
    let ws = Workspace::new();
    ws.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);");
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    for id in (1..=n).filter(|id| !skip.contains(id)) {
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            rusqlite::params![id, format!("n{id}")],
        )
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
    let path = SyncFile::sqlite(&ws, query, "id")
        .model_name("t")
        .write(&ws, "t.toml");
    let spec = load(&path);
    let first = run_lib(&ws, &spec, 1, &RunControl::default());
    assert!(first.succeeded(), "{first:?}");
    assert_eq!(first.rows.added, (n as u64) - skip.len() as u64);
    (ws, spec)
}

/// Changes spread over the whole table: 2 and n-1 changed, 20 removed, n+1 added.
fn churn(ws: &Workspace, n: i64) {
    ws.sql(&format!(
        "UPDATE t SET name = 'changed' WHERE id IN (2, {});
         DELETE FROM t WHERE id = 20;
         INSERT INTO t VALUES ({}, 'new');",
        n - 1,
        n + 1
    ));
}

fn assert_churn_delivered(ws: &Workspace, report: &dropsync::history::RunReport, n: i64) {
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        (report.rows.added, report.rows.changed, report.rows.removed),
        (1, 2, 1),
        "{report:?}"
    );
    assert_eq!(
        lib_rows(ws, report, "added"),
        vec![vec![(n + 1).to_string(), "new".into()]]
    );
    assert_eq!(
        lib_rows(ws, report, "changed"),
        vec![
            vec!["2".to_string(), "changed".into()],
            vec![(n - 1).to_string(), "changed".into()]
        ]
    );
    assert_eq!(lib_rows(ws, report, "removed"), rows(&[&["20", "n20"]]));
}

fn history_statuses(ws: &Workspace, spec: &SyncSpec) -> Vec<RunStatus> {
    let store = dropsync::store::SyncStore::open(&ws.state, &spec.sync.id).unwrap();
    dropsync::history::list(&store, &spec.sync.id, 100)
        .unwrap()
        .into_iter()
        .map(|r| r.status)
        .collect()
}

#[test]
fn cancelled_at_the_first_delivery_then_a_clean_run_delivers_the_missed_changes() {
    let (ws, spec) = big_workspace(100, &[], QUERY);
    churn(&ws, 100);
    let files_before = ws.out_files();

    let rec = recorder(|p| matches!(p, Progress::Delivering { .. }));
    let failed = run_lib(&ws, &spec, 2, &rec.control);
    assert_eq!(failed.status, RunStatus::Failed, "{failed:?}");
    assert_eq!(failed.error_code.map(|c| c.as_str()), Some("cancelled"));
    assert_contains(
        failed.error.as_deref().unwrap(),
        &["cancelled; nothing was delivered and the snapshot is unchanged"],
    );
    let events = rec.events.lock().unwrap().clone();
    assert!(
        events.iter().any(|e| e.starts_with("Writing")),
        "the files were written before delivery: {events:?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("Delivering"))
            .count(),
        1,
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| e.starts_with("Committing")),
        "{events:?}"
    );
    assert_eq!(
        ws.out_files(),
        files_before,
        "no file of the failed run in out/"
    );
    assert_eq!(list_files(&ws.state.join("staging")), Vec::<String>::new());

    let ok = run_lib(&ws, &spec, 3, &RunControl::default());
    assert_eq!(ok.run_id, 3);
    assert_churn_delivered(&ws, &ok, 100);
    assert_eq!(
        history_statuses(&ws, &spec),
        vec![RunStatus::Success, RunStatus::Failed, RunStatus::Success]
    );
    // Nothing left over.
    let again = run_lib(&ws, &spec, 4, &RunControl::default());
    assert_eq!(
        (again.rows.added, again.rows.changed, again.rows.removed),
        (0, 0, 0)
    );
}

#[test]
fn cancelled_while_reading_then_a_clean_run_delivers_the_missed_changes() {
    // More rows than one batch, so the run is cancelled with rows still unread.
    let n = 5000;
    let (ws, spec) = big_workspace(n, &[], QUERY);
    churn(&ws, n);
    let files_before = ws.out_files();

    let rec = recorder(|p| matches!(p, Progress::Reading { .. }));
    let failed = run_lib(&ws, &spec, 2, &rec.control);
    assert_eq!(failed.status, RunStatus::Failed, "{failed:?}");
    assert_eq!(failed.error_code.map(|c| c.as_str()), Some("cancelled"));
    let events = rec.events.lock().unwrap().clone();
    assert_eq!(events, vec!["Reading { rows: 2048 }"], "stopped mid-stream");
    assert_eq!(ws.out_files(), files_before);

    let ok = run_lib(&ws, &spec, 3, &RunControl::default());
    assert_eq!(ok.rows.queried, n as u64);
    assert_churn_delivered(&ws, &ok, n);
    assert_eq!(
        history_statuses(&ws, &spec),
        vec![RunStatus::Success, RunStatus::Failed, RunStatus::Success]
    );
}

#[test]
fn sql_error_in_the_middle_of_the_stream_leaves_the_snapshot_untouched() {
    // Row 2500 overflows; rows 1..=2048 have already been read and compared by then.
    let n = 3000;
    let query = "SELECT id, name, CASE WHEN id = 2500 THEN abs(-9223372036854775808) ELSE 1 END AS x FROM t ORDER BY id";
    let (ws, spec) = big_workspace(n, &[2500], query);
    churn(&ws, n);
    ws.sql("INSERT INTO t VALUES (2500, 'boom');");
    let files_before = ws.out_files();

    let rec = recorder(|_| false);
    let failed = run_lib(&ws, &spec, 2, &rec.control);
    assert_eq!(failed.status, RunStatus::Failed, "{failed:?}");
    assert_eq!(failed.error_code.map(|c| c.as_str()), Some("query"));
    assert_contains(
        failed.error.as_deref().unwrap(),
        &["the model's query failed: integer overflow"],
    );
    let events = rec.events.lock().unwrap().clone();
    assert_eq!(events, vec!["Reading { rows: 2048 }"], "failed mid-stream");
    assert_eq!(ws.out_files(), files_before);

    // The CLI reports the same failure, and records it too.
    let cli = ws.run_failing(&spec.file, &at(3)).json();
    assert_contains(cli["error"].as_str().unwrap(), &["integer overflow"]);

    ws.sql("DELETE FROM t WHERE id = 2500;");
    let ok = run_lib(&ws, &spec, 4, &RunControl::default());
    assert!(ok.succeeded(), "{ok:?}");
    assert_eq!((ok.rows.added, ok.rows.changed, ok.rows.removed), (1, 2, 1));
    assert_eq!(
        lib_rows(&ws, &ok, "added"),
        vec![vec![(n + 1).to_string(), "new".into(), "1".into()]]
    );
    assert_eq!(
        lib_rows(&ws, &ok, "changed"),
        vec![
            vec!["2".to_string(), "changed".into(), "1".into()],
            vec![(n - 1).to_string(), "changed".into(), "1".into()]
        ]
    );
    assert_eq!(lib_rows(&ws, &ok, "removed"), rows(&[&["20", "n20", "1"]]));
    assert_eq!(
        history_statuses(&ws, &spec),
        vec![
            RunStatus::Success,
            RunStatus::Failed,
            RunStatus::Failed,
            RunStatus::Success
        ]
    );
}

#[test]
fn a_second_concurrent_run_of_the_same_sync_fails_as_already_running() {
    let (ws, spec) = big_workspace(10, &[], QUERY);
    ws.sql("INSERT INTO t VALUES (11, 'eleven');");

    // The first run blocks in its progress callback until released.
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let started_tx = Mutex::new(Some(started_tx));
    let control = RunControl::new(move |p: &Progress| {
        if matches!(p, Progress::Reading { .. }) {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                tx.send(()).unwrap();
                // Returns when released, or when the test drops the sender.
                let _ = release_rx.lock().unwrap().recv();
            }
        }
    });
    let (state, first_spec) = (ws.state.clone(), spec.clone());
    let first = std::thread::spawn(move || {
        dropsync::run(
            &first_spec,
            &state,
            &RunOptions {
                at: Some(at_utc(2)),
                ..Default::default()
            },
            &control,
        )
    });
    started_rx.recv().expect("the first run started");

    // Library: refused before it starts.
    let second = dropsync::run(
        &spec,
        &ws.state,
        &RunOptions {
            at: Some(at_utc(3)),
            ..Default::default()
        },
        &RunControl::default(),
    );
    let err = second.expect_err("a second run must not start").to_string();
    assert_contains(
        &err,
        &[
            "sync \"t\" is already running",
            "Wait for that run to finish",
        ],
    );

    // CLI: exit 1 with the same message.
    let cli = ws.run_failing(&spec.file, &at(3));
    assert_contains(&cli.stderr, &["is already running"]);

    release_tx.send(()).unwrap();
    let report = first.join().unwrap().expect("the first run");
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.run_id, 2);
    assert_eq!(lib_rows(&ws, &report, "added"), rows(&[&["11", "eleven"]]));
    // The refused runs left no record.
    assert_eq!(
        history_statuses(&ws, &spec),
        vec![RunStatus::Success, RunStatus::Success]
    );
    // And the lock is free again.
    let third = run_lib(&ws, &spec, 4, &RunControl::default());
    assert!(third.succeeded());
}

/// A run holds the state's write lock only to commit: while its rows stream,
/// a preview of the same sync and another process's write to the state file
/// go through at once instead of waiting for it (and failing with
/// "database is locked" once the run outlasts SQLite's busy timeout).
#[test]
fn a_long_run_never_locks_out_a_preview_or_another_write() {
    let (ws, spec) = big_workspace(5000, &[], QUERY);
    churn(&ws, 5000);
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let started_tx = Mutex::new(Some(started_tx));
    // Blocks in the middle of the comparison, after the first partitions
    // were read from the snapshot and their changes written.
    let control = RunControl::new(move |p: &Progress| {
        if matches!(p, Progress::Comparing { partition: 100, .. }) {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                tx.send(()).unwrap();
                let _ = release_rx.lock().unwrap().recv();
            }
        }
    });
    let (state, run_spec) = (ws.state.clone(), spec.clone());
    let run = std::thread::spawn(move || {
        dropsync::run(
            &run_spec,
            &state,
            &RunOptions {
                at: Some(at_utc(2)),
                ..Default::default()
            },
            &control,
        )
    });
    started_rx.recv().expect("the run started");

    let t0 = std::time::Instant::now();
    let preview = dropsync::run::preview(
        &spec,
        &ws.state,
        5,
        &RunOptions {
            at: Some(at_utc(2)),
            ..Default::default()
        },
    )
    .expect("a preview during a run");
    assert_eq!(
        (
            preview.rows.added,
            preview.rows.changed,
            preview.rows.removed
        ),
        (1, 2, 1),
        "the preview sees the last committed snapshot: {preview:?}"
    );
    let other = rusqlite::Connection::open(ws.state.join("syncs/t.sqlite")).unwrap();
    other
        .busy_timeout(std::time::Duration::from_secs(2))
        .unwrap();
    other
        .execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', '1')",
            [],
        )
        .expect("another process writes to the state while the run streams");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(2),
        "waited {:?} for the run",
        t0.elapsed()
    );

    release_tx.send(()).unwrap();
    let report = run.join().unwrap().expect("the run");
    assert_churn_delivered(&ws, &report, 5000);
    // The run committed what it compared: nothing is sent twice.
    let again = run_lib(&ws, &spec, 3, &RunControl::default());
    assert_eq!(
        (again.rows.added, again.rows.changed, again.rows.removed),
        (0, 0, 0)
    );
}

#[test]
fn a_first_run_cancelled_at_delivery_leaves_no_snapshot() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO t VALUES (1, 'Ada'), (2, 'Bob');",
    );
    let path = SyncFile::sqlite(&ws, QUERY, "id")
        .model_name("t")
        .mode("insert")
        .write(&ws, "t.toml");
    let spec = load(&path);

    let rec = recorder(|p| matches!(p, Progress::Delivering { .. }));
    let failed = run_lib(&ws, &spec, 1, &rec.control);
    assert_eq!(failed.status, RunStatus::Failed, "{failed:?}");
    assert_eq!(ws.out_files(), Vec::<String>::new());

    // The next run is still a first run: every row is delivered.
    ws.sql("INSERT INTO t VALUES (3, 'Cy');");
    let ok = run_lib(&ws, &spec, 2, &RunControl::default());
    assert!(ok.succeeded(), "{ok:?}");
    assert_eq!((ok.rows.queried, ok.rows.added), (3, 3));
    assert_eq!(
        lib_rows(&ws, &ok, "added"),
        rows(&[&["1", "Ada"], &["2", "Bob"], &["3", "Cy"]])
    );
    assert_eq!(ws.out_files(), vec!["t-2.csv"]);
}

#[test]
fn a_key_repeated_many_times_is_named_once() {
    let ws = Workspace::new();
    ws.sql("CREATE TABLE t (id INTEGER, v TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30) INSERT INTO t SELECT i % 3, 'x' FROM n;");
    let sync = ws.write_sync(
        "dups.toml",
        &SyncFile::sqlite(&ws, "SELECT * FROM t", "id").render(),
    );
    let out = ws.run_failing(&sync, "2024-01-01T00:00:00Z");
    let err = out.all_output();
    assert!(
        err.contains("3 key value(s) appear more than once"),
        "{err}"
    );
    assert!(
        err.contains("for example 0, 1, 2")
            || (err.contains('0') && err.contains('1') && err.contains('2')),
        "{err}"
    );
    assert!(!err.contains("1, 1"), "each key is named once: {err}");
}

// ---------- one snapshot per sync file ----------

/// Two folders each with an `orders.toml` (so both default to the sync id
/// "orders") and one state folder: the second file's first run must not
/// compare its rows with the first file's deliveries (it sent 10 of its 20
/// rows before). It is refused with both paths and the fix, and delivers
/// nothing; a file that moved keeps its snapshot.
#[test]
fn two_sync_files_with_one_id_never_share_a_snapshot() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);
         CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
         INSERT INTO a SELECT i, 'a' || i FROM n WHERE i <= 10;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
         INSERT INTO b SELECT i, 'b' || i FROM n;",
    );
    let out_a = ws.path("out-a");
    let out_b = ws.path("out-b");
    for dir in [&out_a, &out_b, &ws.path("a"), &ws.path("b")] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let first = SyncFile::sqlite(&ws, "SELECT id, v FROM a", "id")
        .destination(&out_a)
        .write(&ws, "a/orders.toml");
    let second = SyncFile::sqlite(&ws, "SELECT id, v FROM b", "id")
        .destination(&out_b)
        .write(&ws, "b/orders.toml");

    assert_eq!(counts(&ws.run_ok(&first, &at(1))), (10, 10, 0, 0));
    let refused = ws.run_failing(&second, &at(2));
    let said = refused.all_output();
    assert!(
        said.contains("a/orders.toml")
            && said.contains("b/orders.toml")
            && said.contains("[sync]")
            && said.contains("id = \"orders-2\""),
        "{said}"
    );
    assert!(list_files(&out_b).is_empty(), "nothing delivered");
    // A preview is refused the same way (it would compare with a's rows).
    let preview = ws.cli().arg("preview").arg(&second).output().unwrap();
    assert!(!preview.status.success());
    assert!(String::from_utf8_lossy(&preview.stderr).contains("a/orders.toml"));

    // The fix: its own id. Its first run then delivers all of its 20 rows.
    let fixed = SyncFile::sqlite(&ws, "SELECT id, v FROM b", "id")
        .destination(&out_b)
        .sync_line("id = \"orders-2\"")
        .write(&ws, "b/orders.toml");
    assert_eq!(counts(&ws.run_ok(&fixed, &at(3))), (20, 20, 0, 0));
    // The first file's snapshot was never touched: no change, nothing new.
    assert_eq!(counts(&ws.run_ok(&first, &at(4))), (10, 0, 0, 0));

    // Moving a sync file keeps its snapshot: the old path is gone.
    let moved = ws.path("c/orders.toml");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&first, &moved).unwrap();
    ws.sql("INSERT INTO a VALUES (11, 'a11')");
    assert_eq!(counts(&ws.run_ok(&moved, &at(5))), (11, 1, 0, 0));
}

// ---------- delivery: started means finished; all or nothing; kills ----------

#[test]
fn a_cancel_after_delivery_started_finishes_and_commits_the_run() {
    let (ws, spec) = big_workspace(100, &[], QUERY);
    churn(&ws, 100);
    // Cancel while the files are going out (their first bytes have landed).
    let rec = recorder(|p| matches!(p, Progress::Delivering { bytes, .. } if *bytes > 0));
    let report = run_lib(&ws, &spec, 2, &rec.control);
    assert!(rec.control.is_cancelled(), "the cancel was asked for");
    assert_churn_delivered(&ws, &report, 100);
    // The snapshot advanced with the files: nothing is sent twice.
    let again = run_lib(&ws, &spec, 3, &RunControl::default());
    assert_eq!(
        (again.rows.added, again.rows.changed, again.rows.removed),
        (0, 0, 0)
    );
}

/// Every file of the folder and its content.
fn snapshot_of(dir: &Path) -> Vec<(String, String)> {
    list_files(dir)
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(&f)).unwrap_or_default();
            (f, text)
        })
        .collect()
}

#[test]
fn a_file_that_cannot_be_put_in_place_leaves_the_folder_as_the_last_run_left_it() {
    let ws = Workspace::new();
    ws.sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO t VALUES (1, 'Ada'), (2, 'Bob'), (3, 'Cy');",
    );
    // One name for every run: each run replaces the last one's three files.
    let sync = SyncFile::sqlite(&ws, QUERY, "id")
        .model_name("t")
        .filename("t.csv")
        .write(&ws, "t.toml");
    ws.run_ok(&sync, &at(1));
    let before = snapshot_of(&ws.out);
    assert_eq!(before.len(), 3);
    ws.sql(
        "INSERT INTO t VALUES (4, 'Di');
         UPDATE t SET name = 'Bobby' WHERE id = 2;
         DELETE FROM t WHERE id = 3;",
    );

    // The third file (removed) fails to go into place after the first two
    // did: they are taken back, the old ones restored, no temporary file stays.
    let out = ws
        .cli()
        .env("DROPSYNC_TEST_FAIL_PLACING", "t_removed.csv")
        .args(["run", &sync.to_string_lossy(), "--json", "--at", &at(2)])
        .output()
        .unwrap();
    let failed = CliRun::from_output(out);
    assert_eq!(failed.code, 1, "{}", failed.all_output());
    assert!(
        failed
            .all_output()
            .contains("no file of this run was delivered"),
        "{}",
        failed.all_output()
    );
    assert_eq!(
        snapshot_of(&ws.out),
        before,
        "the folder is as run 1 left it"
    );

    // The next run delivers the changes the failed one could not.
    let ok = ws.run_ok(&sync, &at(3));
    assert_eq!(counts(&ok), (3, 1, 1, 1));
    assert_eq!(list_files(&ws.out).len(), 3, "{:?}", list_files(&ws.out));
}

/// A consumer's copy of the table: the files of every successful run,
/// applied in order (Diff).
#[derive(Default)]
struct Consumer {
    copy: std::collections::BTreeMap<String, String>,
}

impl Consumer {
    fn apply(&mut self, ws: &Workspace, report: &Json) {
        for f in report["files"].as_array().unwrap() {
            let kind = f["kind"].as_str().unwrap();
            let rows = ws.csv_rows(f["path"].as_str().unwrap());
            for r in rows {
                match kind {
                    "added" | "changed" => {
                        self.copy.insert(r[0].clone(), r[1].clone());
                    }
                    "removed" => {
                        self.copy.remove(&r[0]);
                    }
                    other => panic!("unexpected file kind {other}"),
                }
            }
        }
    }
}

/// SIGKILL at random instants of `dropsync run`, over rounds with churn:
/// after every completed run the consumer's copy equals the table, no
/// killed run left a file or a temporary file, and the staging area is
/// empty. Counts: rounds, kills, rows checked, rows lost (0).
#[test]
fn runs_killed_at_random_instants_lose_no_change_and_leave_nothing_behind() {
    let n: i64 = 20_000;
    let ws = Workspace::new();
    ws.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);");
    ws.sql(&format!(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
         INSERT INTO t SELECT i, 'n' || i FROM s;"
    ));
    let sync = SyncFile::sqlite(&ws, QUERY, "id")
        .model_name("t")
        .write(&ws, "t.toml");
    let mut rng = fastrand::Rng::with_seed(
        std::env::var("DROPSYNC_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7),
    );
    let (mut kills, mut rows_checked) = (0, 0);
    let rounds = 10;
    let mut run_ms: u64 = 300;
    for round in 0..rounds {
        // Churn: changes, removals and additions spread over the table.
        let base = round as i64 * 1000;
        ws.sql(&format!(
            "UPDATE t SET name = 'r{round}' WHERE id % 97 = {m};
             DELETE FROM t WHERE id % 89 = {m} AND id < {n};
             INSERT INTO t SELECT {n} + {base} + i, 'new' FROM (SELECT 1 AS i UNION SELECT 2 UNION SELECT 3);",
            m = round % 89,
        ));
        // A run killed somewhere between its start and its end.
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dropsync"))
            .arg("--state-dir")
            .arg(&ws.state)
            .args(["run", &sync.to_string_lossy(), "--at", &at(2 * round + 1)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Anywhere within how long a whole run took last time.
        std::thread::sleep(std::time::Duration::from_millis(rng.u64(1..=run_ms)));
        let killed = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        if killed {
            kills += 1;
        }
        // Then a run to the end.
        let t0 = std::time::Instant::now();
        ws.run_ok(&sync, &at(2 * round + 2));
        run_ms = (t0.elapsed().as_millis() as u64).max(20);
        // The killed run may have finished before its kill: history says
        // which runs delivered; the consumer applies each of those once.
        let history = CliRun::from_output(
            ws.cli()
                .args([
                    "history",
                    &sync.to_string_lossy(),
                    "--json",
                    "--limit",
                    "500",
                ])
                .output()
                .unwrap(),
        )
        .json()
        .as_array()
        .unwrap()
        .clone();
        let mut consumer = Consumer::default();
        for r in history.iter().rev().filter(|r| r["status"] == "success") {
            consumer.apply(&ws, r);
        }
        let conn = rusqlite::Connection::open(&ws.db).unwrap();
        let mut stmt = conn.prepare("SELECT id, name FROM t").unwrap();
        let table: std::collections::BTreeMap<String, String> = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?.to_string(), r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows_checked += table.len();
        assert_eq!(consumer.copy, table, "round {round}: the consumer's copy");
        // Nothing left behind by the killed run.
        let out = list_files(&ws.out);
        assert!(
            out.iter().all(|f| !f.contains(".dropsync-")),
            "round {round}: {out:?}"
        );
        let delivered: std::collections::BTreeSet<String> = history
            .iter()
            .filter(|r| r["status"] == "success")
            .flat_map(|r| r["files"].as_array().unwrap().clone())
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        let present: std::collections::BTreeSet<String> = out.into_iter().collect();
        assert_eq!(
            present, delivered,
            "round {round}: only committed runs' files"
        );
        assert_eq!(
            list_files(&ws.state.join("staging")),
            Vec::<String>::new(),
            "round {round}"
        );
    }
    eprintln!("kill rounds: {rounds}, kills: {kills}, rows checked: {rows_checked}, rows lost: 0");
}
