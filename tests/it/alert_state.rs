//! When runs alert, end to end: `dropsync run` against local HTTP receivers
//! standing in for a Slack webhook and the PagerDuty Events API. One alert
//! when a sync starts failing, none while it keeps failing, one when it
//! recovers; a failure nobody heard is sent again; warnings for runs that
//! remove too much or take too long; `dropsync alert test`.

use crate::support as common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{at, CliRun, SyncFile, Workspace};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PD_KEY: &str = "pd-routing-key-0123456789";

// ---------------------------------------------------------------------------
// A local HTTP receiver recording JSON bodies, answering per path.

#[derive(Default)]
struct Inbox {
    requests: Mutex<Vec<(String, Json)>>,
    status: Mutex<HashMap<String, u16>>,
}

struct Receiver {
    base: String,
    inbox: Arc<Inbox>,
}

impl Receiver {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The JSON bodies received on `path`, oldest first.
    fn bodies(&self, path: &str) -> Vec<Json> {
        self.inbox
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn answer(&self, path: &str, status: u16) {
        self.inbox
            .status
            .lock()
            .unwrap()
            .insert(path.to_string(), status);
    }
}

async fn record(State(inbox): State<Arc<Inbox>>, uri: Uri, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let json = serde_json::from_slice(&body).unwrap_or(Json::Null);
    inbox.requests.lock().unwrap().push((path.clone(), json));
    let status = inbox
        .status
        .lock()
        .unwrap()
        .get(&path)
        .copied()
        // PagerDuty accepts events with 202.
        .unwrap_or(if path == "/pd" { 202 } else { 200 });
    let body = if status < 300 {
        "ok"
    } else {
        "receiver is down"
    };
    (StatusCode::from_u16(status).unwrap(), body).into_response()
}

fn receiver() -> Receiver {
    let inbox = Arc::new(Inbox::default());
    let base = crate::support::serve_http(
        axum::Router::new()
            .fallback(record)
            .with_state(inbox.clone()),
    );
    Receiver { base, inbox }
}

// ---------------------------------------------------------------------------
// Sync files and runs

fn slack(url: &str) -> String {
    format!("\n[[alerts]]\ntype = \"slack\"\nwebhook_url = \"{url}\"\n")
}

fn pagerduty(routing_key: &str, events_url: &str) -> String {
    format!(
        "\n[[alerts]]\ntype = \"pagerduty\"\nrouting_key = \"{routing_key}\"\nevents_url = \"{events_url}\"\n"
    )
}

fn both(rx: &Receiver) -> String {
    slack(&rx.url("/slack")) + &pagerduty("env:PD_KEY", &rx.url("/pd"))
}

/// The workspace's `people` table with ids 1..=n.
fn people(ws: &Workspace, n: u32) {
    ws.sql("DROP TABLE IF EXISTS people; CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);");
    for i in 1..=n {
        ws.sql(&format!("INSERT INTO people VALUES ({i}, 'person {i}');"));
    }
}

/// A diff sync of `people` with sync id `id` and `extra` TOML appended.
fn sync_file(ws: &Workspace, id: &str, extra: &str) -> PathBuf {
    let text = SyncFile::sqlite(ws, "SELECT id, name FROM people", "id")
        .sync_line(&format!("id = \"{id}\""))
        .render()
        + extra;
    ws.write_sync(&format!("{id}.toml"), &text)
}

/// The CLI with the alert environment: fast retries, the PagerDuty key.
fn cli(ws: &Workspace) -> assert_cmd::Command {
    let mut c = ws.cli();
    c.env("DROPSYNC_ALERT_RETRY_BASE_MS", "5")
        .env("PD_KEY", PD_KEY)
        .env("NO_COLOR", "1")
        .env_remove("DROPSYNC_ALERT_CA_CERT");
    c
}

/// `dropsync run FILE [--at AT] --json`: exit code and report.
fn run(ws: &Workspace, sync: &Path, at: Option<&str>) -> (i32, Json) {
    let mut c = cli(ws);
    c.arg("run").arg(sync).arg("--json");
    if let Some(at) = at {
        c.arg("--at").arg(at);
    }
    let r = CliRun::from_output(c.output().unwrap());
    let json = r.json();
    assert_eq!(
        r.code,
        if json["status"] == "success" { 0 } else { 1 },
        "the exit code follows the run's outcome\n{}",
        r.all_output()
    );
    (r.code, json)
}

fn history(ws: &Workspace, sync: &Path) -> Vec<Json> {
    let r = CliRun::from_output(
        cli(ws)
            .arg("history")
            .arg(sync)
            .args(["--json", "--limit", "1000"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    r.json().as_array().unwrap().clone()
}

/// The history entry of run `run_id`.
fn run_in_history(ws: &Workspace, sync: &Path, run_id: i64) -> Json {
    history(ws, sync)
        .into_iter()
        .find(|r| r["run_id"] == run_id)
        .unwrap_or_else(|| panic!("run {run_id} missing from history"))
}

fn alerts(report: &Json) -> Vec<Json> {
    report["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("no alerts array in {report:#}"))
        .clone()
}

/// (kind, channel, ok, attempts) of each delivery.
fn deliveries(report: &Json) -> Vec<(String, String, bool, u64)> {
    alerts(report)
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["channel"].as_str().unwrap().to_string(),
                a["ok"].as_bool().unwrap(),
                a["attempts"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn d(kind: &str, channel: &str, ok: bool, attempts: u64) -> (String, String, bool, u64) {
    (kind.into(), channel.into(), ok, attempts)
}

fn text(slack_body: &Json) -> String {
    slack_body["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {slack_body}"))
        .to_string()
}

// ---------------------------------------------------------------------------
// The state machine

#[test]
fn one_alert_when_failing_starts_and_one_when_it_recovers() {
    let ws = Workspace::new();
    let rx = receiver();
    people(&ws, 3);
    let sync = sync_file(&ws, "crm-7", &both(&rx));

    // Healthy: nothing to say.
    let (_, r1) = run(&ws, &sync, Some(&at(1)));
    assert_eq!(r1["status"], "success");
    assert!(alerts(&r1).is_empty(), "{r1:#}");
    assert!(rx.bodies("/slack").is_empty() && rx.bodies("/pd").is_empty());

    // The model breaks: one failure alert per channel.
    ws.sql("DROP TABLE people;");
    let (code, r2) = run(&ws, &sync, Some(&at(2)));
    assert_eq!(code, 1);
    let run2 = r2["run_id"].as_i64().unwrap();
    assert_eq!(
        deliveries(&r2),
        [
            d("failure", "#1 slack", true, 1),
            d("failure", "#2 pagerduty", true, 1)
        ],
        "{r2:#}"
    );
    let slack = rx.bodies("/slack");
    assert_eq!(slack.len(), 1, "{slack:#?}");
    let t = text(&slack[0]);
    for part in [
        "crm-7",
        "model people",
        "failed",
        &format!("run {run2}"),
        "no such table: people",
    ] {
        assert!(t.contains(part), "{part:?} missing from {t:?}");
    }
    let pd = rx.bodies("/pd");
    assert_eq!(pd.len(), 1, "{pd:#?}");
    let e = &pd[0];
    assert_eq!(e["event_action"], "trigger", "{e:#}");
    assert_eq!(e["dedup_key"], "dropsync-crm-7", "{e:#}");
    assert_eq!(e["routing_key"], PD_KEY, "{e:#}");
    assert_eq!(e["payload"]["severity"], "error", "{e:#}");
    let summary = e["payload"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("crm-7") && summary.contains("no such table: people"),
        "{summary}"
    );
    let details = &e["payload"]["custom_details"];
    assert_eq!(details["sync_id"], "crm-7");
    assert_eq!(details["run_id"], run2);
    assert_eq!(details["model"], "people");
    assert!(
        details["error"]
            .as_str()
            .unwrap()
            .contains("no such table: people"),
        "{details:#}"
    );

    // Failing again, for another reason: nobody is told twice.
    ws.sql(
        "CREATE TABLE people (id INTEGER, name TEXT);
         INSERT INTO people VALUES (1, 'Ada'), (1, 'Ada again'), (2, 'Grace');",
    );
    let (code, r3) = run(&ws, &sync, Some(&at(3)));
    assert_eq!(code, 1);
    assert_eq!(r3["error_code"], "primary_key", "{r3:#}");
    assert!(alerts(&r3).is_empty(), "{r3:#}");
    assert_eq!(rx.bodies("/slack").len(), 1);
    assert_eq!(rx.bodies("/pd").len(), 1);

    // Fixed: one recovery per channel; PagerDuty resolves the same incident.
    ws.sql("DELETE FROM people WHERE name = 'Ada again';");
    let (code, r4) = run(&ws, &sync, Some(&at(4)));
    assert_eq!(code, 0);
    let run4 = r4["run_id"].as_i64().unwrap();
    assert_eq!(
        deliveries(&r4),
        [
            d("recovery", "#1 slack", true, 1),
            d("recovery", "#2 pagerduty", true, 1)
        ],
        "{r4:#}"
    );
    let slack = rx.bodies("/slack");
    assert_eq!(slack.len(), 2);
    let t = text(&slack[1]);
    assert!(
        t.contains("crm-7") && t.contains("recovered") && t.contains(&format!("run {run4}")),
        "{t}"
    );
    let pd = rx.bodies("/pd");
    assert_eq!(pd.len(), 2);
    assert_eq!(pd[1]["event_action"], "resolve", "{:#}", pd[1]);
    assert_eq!(pd[1]["dedup_key"], "dropsync-crm-7", "{:#}", pd[1]);
    assert_eq!(pd[1]["routing_key"], PD_KEY);

    // Healthy again: nothing more.
    let (code, r5) = run(&ws, &sync, Some(&at(5)));
    assert_eq!(code, 0);
    assert!(alerts(&r5).is_empty(), "{r5:#}");
    assert_eq!(rx.bodies("/slack").len(), 2);
    assert_eq!(rx.bodies("/pd").len(), 2);

    // History keeps the deliveries with their runs.
    let h = history(&ws, &sync);
    assert_eq!(h.len(), 5);
    let kinds: Vec<Vec<String>> = h
        .iter()
        .rev()
        .map(|r| {
            alerts(r)
                .iter()
                .map(|a| a["kind"].as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            vec![],
            vec!["failure".to_string(), "failure".to_string()],
            vec![],
            vec!["recovery".to_string(), "recovery".to_string()],
            vec![],
        ]
    );
}

#[test]
fn a_failure_nobody_heard_is_sent_again() {
    let ws = Workspace::new();
    let rx = receiver();
    rx.answer("/slack", 500);
    people(&ws, 3);
    let sync = sync_file(&ws, "down", &slack(&rx.url("/slack")));
    let (code, _) = run(&ws, &sync, Some(&at(1)));
    assert_eq!(code, 0);

    // Slack is down: the run fails as it would anyway, the delivery failure
    // is reported with the run.
    ws.sql("DROP TABLE people;");
    let (code, r2) = run(&ws, &sync, Some(&at(2)));
    assert_eq!(code, 1);
    assert_eq!(r2["error_code"], "query", "{r2:#}");
    assert_eq!(
        deliveries(&r2),
        [d("failure", "#1 slack", false, 3)],
        "{r2:#}"
    );
    let error = alerts(&r2)[0]["error"].as_str().unwrap().to_string();
    assert!(error.contains("500"), "{error}");
    assert!(
        !error.contains(&rx.url("/slack")),
        "the webhook URL is a secret: {error}"
    );
    assert_eq!(rx.bodies("/slack").len(), 3, "three attempts");
    let h2 = run_in_history(&ws, &sync, r2["run_id"].as_i64().unwrap());
    assert_eq!(h2["status"], "failed");
    assert_eq!(deliveries(&h2), [d("failure", "#1 slack", false, 3)]);
    assert_eq!(alerts(&h2)[0]["error"], error.as_str());

    // Slack is back: the next failing run tells it.
    rx.answer("/slack", 200);
    let (code, r3) = run(&ws, &sync, Some(&at(3)));
    assert_eq!(code, 1);
    assert_eq!(deliveries(&r3), [d("failure", "#1 slack", true, 1)]);
    let slack = rx.bodies("/slack");
    assert_eq!(slack.len(), 4);
    let t = text(&slack[3]);
    assert!(
        t.contains("failed") && t.contains(&format!("run {}", r3["run_id"])),
        "{t}"
    );

    // Now it has been heard: quiet.
    let (_, r4) = run(&ws, &sync, Some(&at(4)));
    assert!(alerts(&r4).is_empty(), "{r4:#}");
    assert_eq!(rx.bodies("/slack").len(), 4);

    // A recovery lost to a down channel does not fail the run.
    rx.answer("/slack", 503);
    people(&ws, 3);
    let (code, r5) = run(&ws, &sync, Some(&at(5)));
    assert_eq!(code, 0, "{r5:#}");
    assert_eq!(r5["status"], "success");
    assert_eq!(deliveries(&r5), [d("recovery", "#1 slack", false, 3)]);
}

#[test]
fn a_missing_secret_variable_is_named_and_the_run_still_runs() {
    let ws = Workspace::new();
    let rx = receiver();
    people(&ws, 3);
    let sync = sync_file(
        &ws,
        "nosecret",
        &(slack("env:DROPSYNC_TEST_STATE_NO_SLACK_URL")
            + &pagerduty("env:DROPSYNC_TEST_STATE_NO_PD_KEY", &rx.url("/pd"))),
    );
    let run_without = |at: &str| {
        let r = CliRun::from_output(
            cli(&ws)
                .env_remove("DROPSYNC_TEST_STATE_NO_SLACK_URL")
                .env_remove("DROPSYNC_TEST_STATE_NO_PD_KEY")
                .arg("run")
                .arg(&sync)
                .args(["--json", "--at", at])
                .output()
                .unwrap(),
        );
        (r.code, r.json())
    };

    let (code, r1) = run_without(&at(1));
    assert_eq!(code, 0, "{r1:#}");
    assert_eq!(common::counts(&r1), (3, 3, 0, 0));
    assert!(!ws.out_files().is_empty(), "the run delivered its files");

    ws.sql("DROP TABLE people;");
    for n in [2, 3] {
        let (code, r) = run_without(&at(n));
        assert_eq!(code, 1, "{r:#}");
        assert_eq!(r["error_code"], "query");
        // Nothing could be sent, so nobody heard: tried again on run 3.
        let a = alerts(&r);
        assert_eq!(
            deliveries(&r),
            [
                d("failure", "#1 slack", false, 0),
                d("failure", "#2 pagerduty", false, 0)
            ],
            "run {n}: {r:#}"
        );
        let e1 = a[0]["error"].as_str().unwrap();
        assert!(e1.contains("DROPSYNC_TEST_STATE_NO_SLACK_URL"), "{e1}");
        assert!(e1.contains("webhook_url"), "{e1}");
        let e2 = a[1]["error"].as_str().unwrap();
        assert!(e2.contains("DROPSYNC_TEST_STATE_NO_PD_KEY"), "{e2}");
        assert!(e2.contains("routing_key"), "{e2}");
    }
    assert!(rx.bodies("/pd").is_empty());
}

// ---------------------------------------------------------------------------
// Warnings

#[test]
fn removing_most_rows_warns() {
    let ws = Workspace::new();
    let rx = receiver();
    people(&ws, 10);
    let sync = sync_file(
        &ws,
        "shrink",
        &(both(&rx) + "\n[alert_when]\nremoved_more_than_percent = 50\n"),
    );
    let (_, r1) = run(&ws, &sync, Some(&at(1)));
    assert!(
        alerts(&r1).is_empty(),
        "a first run removes nothing: {r1:#}"
    );

    // 6 of 10 rows gone: more than half.
    ws.sql("DELETE FROM people WHERE id <= 6;");
    let (code, r2) = run(&ws, &sync, Some(&at(2)));
    assert_eq!(code, 0, "a warning does not fail the run");
    assert_eq!(common::counts(&r2), (4, 0, 0, 6));
    assert_eq!(
        deliveries(&r2),
        [
            d("warning", "#1 slack", true, 1),
            d("warning", "#2 pagerduty", true, 1)
        ],
        "{r2:#}"
    );
    let t = text(&rx.bodies("/slack")[0]);
    for part in [
        "shrink",
        "warning",
        "removed 6 of 10 rows",
        "60.0%",
        "removed_more_than_percent",
    ] {
        assert!(t.contains(part), "{part:?} missing from {t:?}");
    }
    let pd = &rx.bodies("/pd")[0];
    assert_eq!(pd["event_action"], "trigger");
    assert_eq!(pd["dedup_key"], "dropsync-shrink-warning", "{pd:#}");
    assert_eq!(pd["payload"]["severity"], "warning");
    assert!(pd["payload"]["custom_details"]["warning"]
        .as_str()
        .unwrap()
        .contains("removed 6 of 10 rows"));

    // 1 of 4: no warning.
    ws.sql("DELETE FROM people WHERE id = 7;");
    let (_, r3) = run(&ws, &sync, Some(&at(3)));
    assert_eq!(common::counts(&r3), (3, 0, 0, 1));
    assert!(alerts(&r3).is_empty(), "{r3:#}");

    // A warning does not make the sync "failing": a failure still alerts.
    ws.sql("DROP TABLE people;");
    let (_, r4) = run(&ws, &sync, Some(&at(4)));
    assert_eq!(
        deliveries(&r4),
        [
            d("failure", "#1 slack", true, 1),
            d("failure", "#2 pagerduty", true, 1)
        ]
    );
    assert_eq!(rx.bodies("/pd")[1]["dedup_key"], "dropsync-shrink");
}

/// A count over `n` generated rows: a query that takes SQLite a while and
/// returns one row.
fn slow_sql(n: u64) -> String {
    format!(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) \
         SELECT 1 AS id, count(*) AS c FROM seq"
    )
}

/// How many rows make [`slow_sql`] take about `target` on this machine
/// (the fastest of a few probes, so that a busy moment does not count).
fn rows_taking(target: Duration) -> u64 {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let probe = 1_000_000u64;
    let fastest = (0..3)
        .map(|_| {
            let t0 = Instant::now();
            let _: i64 = conn.query_row(&slow_sql(probe), [], |r| r.get(1)).unwrap();
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
        .max(0.001);
    ((probe as f64 * target.as_secs_f64() / fastest) as u64).clamp(3_000_000, 100_000_000)
}

#[test]
fn a_slow_run_warns() {
    let ws = Workspace::new();
    let rx = receiver();
    let n = rows_taking(Duration::from_secs(3));
    let text_of = |sql: &str| {
        SyncFile::sqlite(&ws, sql, "id")
            .sync_line("id = \"slowpoke\"")
            .render()
            + &slack(&rx.url("/slack"))
            + "\n[alert_when]\nrun_longer_than = \"1s\"\n"
    };
    let sync = ws.write_sync("slowpoke.toml", &text_of(&slow_sql(n)));
    let t0 = Instant::now();
    let (code, r1) = run(&ws, &sync, None);
    assert_eq!(code, 0, "{r1:#}");
    assert!(
        t0.elapsed() > Duration::from_secs(1),
        "the query was not slow"
    );
    assert_eq!(
        deliveries(&r1),
        [d("warning", "#1 slack", true, 1)],
        "{r1:#}"
    );
    let t = text(&rx.bodies("/slack")[0]);
    assert!(
        t.contains("slowpoke")
            && t.contains("warning")
            && t.contains("run_longer_than")
            && t.contains("longer than the 1s"),
        "{t}"
    );

    // Fast: no warning.
    ws.write_sync("slowpoke.toml", &text_of(&slow_sql(10)));
    let (code, r2) = run(&ws, &sync, None);
    assert_eq!(code, 0, "{r2:#}");
    assert!(alerts(&r2).is_empty(), "{r2:#}");
    assert_eq!(rx.bodies("/slack").len(), 1);
}

/// `run --at` sets the run's nominal time (filenames, history), not how long
/// it took: a fast backfill is not a slow run.
#[test]
fn a_fast_backfill_run_with_at_does_not_warn_as_slow() {
    let ws = Workspace::new();
    let rx = receiver();
    people(&ws, 3);
    let sync = sync_file(
        &ws,
        "backfill",
        &(slack(&rx.url("/slack")) + "\n[alert_when]\nrun_longer_than = \"1h\"\n"),
    );
    let t0 = Instant::now();
    let (code, r) = run(&ws, &sync, Some("2024-03-01T09:30:00Z"));
    assert_eq!(code, 0);
    assert!(t0.elapsed() < Duration::from_secs(60));
    assert!(
        alerts(&r).is_empty(),
        "a run of well under a second warned as longer than 1h: {r:#}\nslack got: {:#?}",
        rx.bodies("/slack")
    );
}

// ---------------------------------------------------------------------------
// `dropsync alert test`

fn alert_test(ws: &Workspace, sync: &Path, json: bool) -> CliRun {
    let mut c = cli(ws);
    c.args(["alert", "test"]).arg(sync);
    if json {
        c.arg("--json");
    }
    CliRun::from_output(c.output().unwrap())
}

#[test]
fn alert_test_sends_on_every_channel() {
    let ws = Workspace::new();
    let rx = receiver();
    people(&ws, 1);
    let sync = sync_file(&ws, "tested", &both(&rx));

    let r = alert_test(&ws, &sync, true);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let sent = r.json();
    let got: Vec<_> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].clone(), a["channel"].clone(), a["ok"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("test".into(), "#1 slack".into(), true.into()),
            ("test".into(), "#2 pagerduty".into(), true.into())
        ]
    );
    let t = text(&rx.bodies("/slack")[0]);
    assert!(
        t.contains("Test alert") && t.contains("tested") && t.contains("model people"),
        "{t}"
    );
    let pd = &rx.bodies("/pd")[0];
    assert_eq!(pd["event_action"], "trigger");
    assert_eq!(pd["dedup_key"], "dropsync-tested-test", "{pd:#}");
    // A test is not a run.
    assert!(history(&ws, &sync).is_empty());

    // Human output.
    let r = alert_test(&ws, &sync, false);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stdout.contains("test alert sent: #1 slack"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("test alert sent: #2 pagerduty"),
        "{}",
        r.stdout
    );
    assert_eq!(rx.bodies("/slack").len(), 2);

    // One channel down: non-zero, and says which.
    rx.answer("/slack", 500);
    let r = alert_test(&ws, &sync, true);
    assert_eq!(r.code, 1, "{}", r.all_output());
    let sent = r.json();
    assert_eq!(sent[0]["ok"], false, "{sent:#}");
    assert_eq!(sent[0]["attempts"], 3, "{sent:#}");
    assert!(sent[0]["error"].as_str().unwrap().contains("500"));
    assert_eq!(sent[1]["ok"], true, "{sent:#}");
    let r = alert_test(&ws, &sync, false);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("test alert NOT sent: #1 slack (3 attempt(s))"),
        "{}",
        r.stdout
    );
}

#[test]
fn alert_test_without_channels_says_so() {
    let ws = Workspace::new();
    people(&ws, 1);
    let sync = sync_file(&ws, "quiet", "");
    let r = alert_test(&ws, &sync, false);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(
        r.stderr.contains("has no [[alerts]] channels"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("quiet.toml"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// A run that cannot even be recorded (its state file is damaged) still
/// tells the sync's channels, naming the problem; nothing is delivered.
#[test]
fn a_run_that_cannot_start_still_alerts() {
    let ws = Workspace::new();
    let rx = receiver();
    people(&ws, 3);
    let sync = sync_file(&ws, "broken-state", &slack(&rx.url("/slack")));
    let (_, r1) = run(&ws, &sync, Some(&at(1)));
    assert_eq!(r1["status"], "success");
    // The state file is overwritten with garbage (a disk fault, a bad copy).
    let state = ws.state.join("syncs").join("broken-state.sqlite");
    for leftover in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{leftover}", state.display()));
    }
    std::fs::write(&state, vec![0x5a; 8192]).unwrap();
    let out = cli(&ws).arg("run").arg(&sync).output().unwrap();
    assert!(!out.status.success());
    let slack = rx.bodies("/slack");
    assert_eq!(slack.len(), 1, "{slack:#?}");
    let t = text(&slack[0]);
    assert!(
        t.contains("broken-state") && t.contains("could not start") && t.contains("state store"),
        "{t}"
    );
}
