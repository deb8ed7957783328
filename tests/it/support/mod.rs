//! Shared helpers for the integration tests: a throwaway workspace (state
//! folder, output folder, SQLite database), sync files, the CLI, and readers
//! for the files a run produces.
//!
//! Every integration test module uses some of these helpers.
#![allow(dead_code)]

pub mod databases;
pub mod emulator;
pub mod forward;
pub mod keyring;
pub mod servers;
pub mod silent;

use assert_cmd::Command;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A temporary folder holding everything one test touches.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    /// `--state-dir`: snapshots and run history.
    pub state: PathBuf,
    /// The destination folder (exists).
    pub out: PathBuf,
    /// A SQLite database file (exists, empty until [`Workspace::sql`]).
    pub db: PathBuf,
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let state = dir.path().join("state");
        let out = dir.path().join("out");
        let db = dir.path().join("source.db");
        std::fs::create_dir_all(&state).expect("create the state folder");
        std::fs::create_dir_all(&out).expect("create the output folder");
        rusqlite::Connection::open(&db).expect("create the SQLite database");
        Workspace {
            dir,
            state,
            out,
            db,
        }
    }

    /// A path inside the workspace.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Where the OS data folder points for the CLI (`XDG_DATA_HOME`); not
    /// created: it exists only if something wrote there.
    pub fn xdg(&self) -> PathBuf {
        self.path("xdg-data")
    }

    /// A connection to the workspace database.
    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open the SQLite database")
    }

    /// Runs SQL statements against the workspace database.
    pub fn sql(&self, sql: &str) {
        self.conn()
            .execute_batch(sql)
            .unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"));
    }

    /// One integer from a query against the workspace database.
    pub fn sql_count(&self, sql: &str) -> i64 {
        self.conn()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"))
    }

    /// Writes a sync file `name` (e.g. `people.toml`) into the workspace.
    pub fn write_sync(&self, name: &str, toml: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, toml).expect("write the sync file");
        path
    }

    /// Writes any file into the workspace (e.g. a CSV source).
    pub fn write_file(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the parent folder");
        }
        std::fs::write(&path, contents).expect("write the file");
        path
    }

    /// The `dropsync` binary with no state folder chosen (neither flag nor
    /// `DROPSYNC_STATE_DIR`), the OS data folder redirected to
    /// [`Workspace::xdg`] and the workspace as its current folder.
    pub fn bare_cli(&self) -> Command {
        let mut cmd = Command::cargo_bin("dropsync").expect("the dropsync binary is built");
        cmd.env_remove("DROPSYNC_STATE_DIR")
            .env_remove("DROPSYNC_LOG")
            .env("XDG_DATA_HOME", self.xdg())
            .current_dir(self.dir.path());
        cmd
    }

    /// [`Workspace::bare_cli`] with `--state-dir` set to this workspace's state folder.
    pub fn cli(&self) -> Command {
        let mut cmd = self.bare_cli();
        cmd.arg("--state-dir").arg(&self.state);
        cmd
    }

    /// `dropsync ARGS` (with the workspace's state folder), whatever its outcome.
    pub fn exec<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> CliRun {
        CliRun::from_output(self.cli().args(args).output().expect("start dropsync"))
    }

    /// `dropsync ARGS`, which must exit 0: its stdout.
    pub fn exec_ok<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> String {
        let args: Vec<S> = args.into_iter().collect();
        let r = self.exec(&args);
        assert_eq!(
            r.code,
            0,
            "dropsync {:?} failed\nstdout:\n{}\nstderr:\n{}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
            r.stdout,
            r.stderr
        );
        r.stdout
    }

    /// `dropsync ARGS`, which must exit 0: its stdout parsed as JSON.
    pub fn exec_json<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Json {
        let stdout = self.exec_ok(args);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("dropsync printed invalid JSON ({e}):\n{stdout}"))
    }

    /// `dropsync run FILE --at AT --json`, whatever its outcome.
    pub fn run(&self, sync: &Path, at: &str) -> CliRun {
        self.exec([
            OsStr::new("run"),
            sync.as_os_str(),
            OsStr::new("--at"),
            OsStr::new(at),
            OsStr::new("--json"),
        ])
    }

    /// A run that must succeed: returns its `--json` report.
    pub fn run_ok(&self, sync: &Path, at: &str) -> Json {
        Self::succeeded(self.run(sync, at))
    }

    /// A run without `--at` (now) that must succeed: returns its `--json` report.
    pub fn run_now_ok(&self, sync: &Path) -> Json {
        Self::succeeded(self.exec([OsStr::new("run"), sync.as_os_str(), OsStr::new("--json")]))
    }

    fn succeeded(r: CliRun) -> Json {
        assert_eq!(
            r.code, 0,
            "dropsync run should succeed\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        let json = r.json();
        assert_eq!(json["status"], "success", "{json:#}");
        json
    }

    /// A run that must fail with exit code 1.
    pub fn run_failing(&self, sync: &Path, at: &str) -> CliRun {
        let r = self.run(sync, at);
        assert_eq!(
            r.code, 1,
            "dropsync run should fail with exit code 1\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        r
    }

    /// `dropsync check FILE`, whatever its outcome.
    pub fn check(&self, sync: &Path) -> CliRun {
        self.exec([OsStr::new("check"), sync.as_os_str()])
    }

    /// `dropsync history FILE --json`: the runs, newest first.
    pub fn history(&self, sync: &Path) -> Vec<Json> {
        let r = self.exec([
            OsStr::new("history"),
            sync.as_os_str(),
            OsStr::new("--json"),
        ]);
        assert_eq!(r.code, 0, "history failed: {}", r.stderr);
        match r.json() {
            Json::Array(runs) => runs,
            other => panic!("history --json is not an array: {other:#}"),
        }
    }

    /// `dropsync reset FILE`; returns its stdout.
    pub fn reset(&self, sync: &Path) -> String {
        let r = self.exec([OsStr::new("reset"), sync.as_os_str()]);
        assert_eq!(r.code, 0, "reset failed: {}", r.stderr);
        r.stdout
    }

    /// Every file below `out/`, relative and `/`-separated, sorted.
    pub fn out_files(&self) -> Vec<String> {
        list_files(&self.out)
    }

    /// A CSV file in `out/` as one map per row, keyed by the header.
    pub fn csv_maps(&self, relative: &str) -> Vec<HashMap<String, String>> {
        read_csv_maps(&self.out.join(relative))
    }

    /// A CSV file in `out/` as its header and its rows.
    pub fn csv_table(&self, relative: &str) -> (Vec<String>, Vec<Vec<String>>) {
        read_csv_table(&self.out.join(relative))
    }

    /// The rows of a CSV file in `out/` (header left out).
    pub fn csv_rows(&self, relative: &str) -> Vec<Vec<String>> {
        self.csv_table(relative).1
    }

    /// The raw text of a file in `out/`.
    pub fn out_text(&self, relative: &str) -> String {
        let p = self.out.join(relative);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }

    /// The raw bytes of a file in `out/`.
    pub fn out_bytes(&self, relative: &str) -> Vec<u8> {
        let p = self.out.join(relative);
        std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }
}

/// What a CLI invocation did.
#[derive(Debug)]
pub struct CliRun {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    pub fn from_output(o: std::process::Output) -> CliRun {
        CliRun {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Stdout parsed as JSON (for `--json` commands).
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\nstdout: {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// Stdout and stderr together, for message checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

pub use servers::free_port;

/// Serves `app` on a free port of 127.0.0.1 on the tests' shared runtime
/// (it outlives any one test); returns `http://127.0.0.1:PORT`.
pub fn serve_http(app: axum::Router) -> String {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let rt = RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    base
}

/// Asserts that a finished command exited 0, showing its stderr if not.
#[track_caller]
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file below `root`, relative and `/`-separated, sorted.
pub fn list_files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.expect("read a folder entry");
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("below the root");
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// A CSV file (comma-separated, with a header) as its header and its rows.
pub fn read_csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .unwrap_or_else(|e| panic!("read the header of {}: {e}", path.display()))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

/// A CSV file (comma-separated, with a header) as one map per row.
pub fn read_csv_maps(path: &Path) -> Vec<HashMap<String, String>> {
    let (header, rows) = read_csv_table(path);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// A TOML string literal for `s` (quoted and escaped).
pub fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A sync file, built up field by field and rendered as TOML.
#[derive(Debug, Clone)]
pub struct SyncFile {
    /// The `[source]` table's lines.
    pub source: Vec<String>,
    pub model_name: String,
    pub sql: Option<String>,
    /// The TOML value of `primary_key` (a string or a list).
    pub primary_key: String,
    pub destination: PathBuf,
    pub mode: String,
    pub filename: String,
    pub skip_empty_files: Option<bool>,
    /// Raw lines added to `[sync]` (e.g. `format = "json"`).
    pub sync_extra: Vec<String>,
    /// Each entry is the body of one `[[sync.columns]]` table.
    pub columns: Vec<String>,
}

impl SyncFile {
    /// A sync of `sql` on the workspace database into `out/`, keyed by `key`.
    pub fn sqlite(ws: &Workspace, sql: &str, key: &str) -> SyncFile {
        SyncFile {
            source: vec![
                "type = \"sqlite\"".into(),
                format!("path = {}", toml_str(&ws.db.to_string_lossy())),
            ],
            model_name: "people".into(),
            sql: Some(sql.into()),
            primary_key: toml_str(key),
            destination: ws.out.clone(),
            mode: "diff".into(),
            filename: "{model.name}-{sync.run.id}.csv".into(),
            skip_empty_files: None,
            sync_extra: Vec::new(),
            columns: Vec::new(),
        }
    }

    /// A sync whose `[source]` is exactly `source`, otherwise as [`SyncFile::sqlite`].
    pub fn with_source(ws: &Workspace, source: Vec<String>, sql: &str, key: &str) -> SyncFile {
        SyncFile {
            source,
            ..SyncFile::sqlite(ws, sql, key)
        }
    }

    /// A sync of a CSV file into `out/`, keyed by `key`.
    pub fn csv(ws: &Workspace, csv_path: &Path, key: &str) -> SyncFile {
        SyncFile {
            source: vec![
                "type = \"csv\"".into(),
                format!("path = {}", toml_str(&csv_path.to_string_lossy())),
            ],
            sql: None,
            ..SyncFile::sqlite(ws, "", key)
        }
    }

    pub fn mode(mut self, mode: &str) -> Self {
        self.mode = mode.into();
        self
    }

    pub fn filename(mut self, template: &str) -> Self {
        self.filename = template.into();
        self
    }

    pub fn model_name(mut self, name: &str) -> Self {
        self.model_name = name.into();
        self
    }

    pub fn sql(mut self, sql: &str) -> Self {
        self.sql = Some(sql.into());
        self
    }

    /// A composite primary key.
    pub fn key_list(mut self, keys: &[&str]) -> Self {
        self.primary_key = format!(
            "[{}]",
            keys.iter()
                .map(|k| toml_str(k))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self
    }

    pub fn key(mut self, key: &str) -> Self {
        self.primary_key = toml_str(key);
        self
    }

    pub fn destination(mut self, path: &Path) -> Self {
        self.destination = path.to_path_buf();
        self
    }

    pub fn skip_empty_files(mut self, skip: bool) -> Self {
        self.skip_empty_files = Some(skip);
        self
    }

    pub fn sync_line(mut self, line: &str) -> Self {
        self.sync_extra.push(line.into());
        self
    }

    /// Maps model column `from` to output column `to`.
    pub fn column_from(mut self, from: &str, to: &str) -> Self {
        self.columns
            .push(format!("from = {}\nto = {}", toml_str(from), toml_str(to)));
        self
    }

    /// A template output column.
    pub fn column_template(mut self, template: &str, to: &str) -> Self {
        self.columns.push(format!(
            "template = {}\nto = {}",
            toml_str(template),
            toml_str(to)
        ));
        self
    }

    /// A constant output column (value given as a TOML literal, e.g. `"\"EMEA\""` or `"1"`).
    pub fn column_constant(mut self, toml_value: &str, to: &str) -> Self {
        self.columns
            .push(format!("value = {toml_value}\nto = {}", toml_str(to)));
        self
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("[source]\n");
        for l in &self.source {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("\n[model]\n");
        s.push_str(&format!("name = {}\n", toml_str(&self.model_name)));
        if let Some(sql) = &self.sql {
            s.push_str(&format!("sql = {}\n", toml_str(sql)));
        }
        s.push_str(&format!("primary_key = {}\n", self.primary_key));
        s.push_str("\n[destination]\ntype = \"folder\"\n");
        s.push_str(&format!(
            "path = {}\n",
            toml_str(&self.destination.to_string_lossy())
        ));
        s.push_str("\n[sync]\n");
        s.push_str(&format!("mode = {}\n", toml_str(&self.mode)));
        s.push_str(&format!("filename = {}\n", toml_str(&self.filename)));
        if let Some(skip) = self.skip_empty_files {
            s.push_str(&format!("skip_empty_files = {skip}\n"));
        }
        for l in &self.sync_extra {
            s.push_str(l);
            s.push('\n');
        }
        for c in &self.columns {
            s.push_str("\n[[sync.columns]]\n");
            s.push_str(c);
            s.push('\n');
        }
        s
    }

    /// Writes the sync file as `name` in the workspace and returns its path.
    pub fn write(&self, ws: &Workspace, name: &str) -> PathBuf {
        ws.write_sync(name, &self.render())
    }
}

/// A fixed instant for run number `n` (one day apart), as `--at` takes it.
pub fn at(n: u32) -> String {
    format!("2024-03-{:02}T09:30:00Z", n)
}

/// The same instant as a `chrono` value, for library runs.
pub fn at_utc(n: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(&at(n))
        .expect("a valid instant")
        .with_timezone(&chrono::Utc)
}

/// The `rows` object of a `--json` report as (queried, added, changed, removed).
pub fn counts(report: &Json) -> (u64, u64, u64, u64) {
    let r = &report["rows"];
    let n = |k: &str| {
        r[k].as_u64()
            .unwrap_or_else(|| panic!("rows.{k} missing in {report:#}"))
    };
    (n("queried"), n("added"), n("changed"), n("removed"))
}

/// The `files` of a `--json` report as (path, rows, skipped).
pub fn report_files(report: &Json) -> Vec<(String, u64, bool)> {
    report["files"]
        .as_array()
        .unwrap_or_else(|| panic!("files missing in {report:#}"))
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("file path").to_string(),
                f["rows"].as_u64().expect("file rows"),
                f["skipped"].as_bool().expect("file skipped"),
            )
        })
        .collect()
}

/// The report's file with `kind` (all | added | changed | removed): its path.
pub fn file_of_kind(report: &Json, kind: &str) -> String {
    report["files"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["kind"] == kind))
        .and_then(|f| f["path"].as_str())
        .unwrap_or_else(|| panic!("no {kind} file in {report:#}"))
        .to_string()
}

/// One row of strings from literals.
pub fn strings(row: &[&str]) -> Vec<String> {
    row.iter().map(|s| s.to_string()).collect()
}

/// Rows of strings from fixed-width literal rows, for comparing with CSV contents.
pub fn table<const N: usize>(rows: &[[&str; N]]) -> Vec<Vec<String>> {
    rows.iter().map(|r| strings(r)).collect()
}

/// Builds rows of strings from literals, for comparing with CSV contents.
pub fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Asserts that `dropsync check` lists each column with its declared and
/// observed type: `(column, declared, observed)`.
pub fn assert_check_columns(stdout: &str, expected: &[(&str, &str, &str)]) {
    for (column, declared, observed) in expected {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(*column))
            .unwrap_or_else(|| panic!("no line for {column}:\n{stdout}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&words[1..3], [*declared, *observed], "{line}");
    }
}

/// A database source whose server accepts and never answers makes the run
/// fail within its `connect_timeout` (2 s here), naming the host and port.
pub fn assert_a_silent_server_fails_the_run(kind: &str, url_for_port: impl Fn(u16) -> String) {
    let ws = Workspace::new();
    let port = silent::silent_port();
    let s = SyncFile::with_source(
        &ws,
        databases::source(kind, &url_for_port(port), &["connect_timeout = \"2s\""]),
        "SELECT 1 AS id",
        "id",
    )
    .write(&ws, "silent.toml");
    let started = std::time::Instant::now();
    let r = ws.run_failing(&s, "2024-01-01T00:00:00Z");
    let took = started.elapsed();
    eprintln!("the run against a silent server failed after {took:?}");
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    let out = r.all_output();
    assert!(
        out.contains(&format!("no answer from 127.0.0.1:{port} within 2s")),
        "{out}"
    );
}
