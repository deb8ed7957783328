//! The application layer the CLI, the daemon and the app share: a run is a
//! registered job with events (started, progress, finished with the change
//! in the sync's health), a second run of the same file is refused, a
//! cancel reaches it, and the scheduler's host says when sync files change.

use crate::support as common;

use common::{SyncFile, Workspace as Folder};
use dropsync::run::{Progress, RunOptions};
use dropsync::scheduler::{Host, Plan};
use dropsync::workspace::{Event, HealthChange};
use dropsync::Workspace;
use std::sync::{mpsc, Arc, Mutex};

fn events(ws: &Workspace) -> Arc<Mutex<Vec<Event>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    ws.subscribe(move |e| s.lock().unwrap().push(e.clone()))
        .keep();
    seen
}

fn folder() -> (Folder, std::path::PathBuf) {
    let f = Folder::new();
    f.sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO t VALUES (1, 'a'), (2, 'b');",
    );
    let sync = SyncFile::sqlite(&f, "SELECT id, name FROM t", "id")
        .model_name("t")
        .write(&f, "t.toml");
    (f, sync)
}

#[test]
fn a_run_is_a_job_whose_events_say_when_the_sync_starts_failing_and_recovers() {
    let (f, sync) = folder();
    let ws = Workspace::new(f.dir.path(), &f.state);
    let seen = events(&ws);
    let spec = ws.load(&sync).unwrap();

    let ok = ws.run(&spec, &RunOptions::default()).unwrap();
    assert!(ok.succeeded());
    {
        let seen = seen.lock().unwrap();
        assert!(matches!(&seen[0], Event::Started { file } if file == "t.toml"));
        assert!(seen.iter().any(|e| matches!(
            e,
            Event::Progress {
                progress: Progress::Reading { .. },
                ..
            }
        )));
        match seen.last().unwrap() {
            Event::Finished {
                file,
                report: Some(r),
                health,
                ..
            } => {
                assert_eq!(file, "t.toml");
                assert_eq!(r.run_id, ok.run_id);
                assert_eq!(*health, None, "a first success is no news");
            }
            other => panic!("{other:?}"),
        }
    }

    // Broken: the first failure is news, the second is not.
    f.sql("DROP TABLE t;");
    let health_of_next_run = || {
        seen.lock().unwrap().clear();
        let r = ws.run(&spec, &RunOptions::default()).unwrap();
        match seen.lock().unwrap().last().unwrap() {
            Event::Finished { health, .. } => (r.succeeded(), *health),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        health_of_next_run(),
        (false, Some(HealthChange::StartedFailing))
    );
    assert_eq!(health_of_next_run(), (false, None));
    f.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);");
    assert_eq!(health_of_next_run(), (true, Some(HealthChange::Recovered)));
    assert!(ws.running().is_empty());
}

#[test]
fn a_second_run_of_the_same_file_is_refused_and_a_cancel_reaches_the_first() {
    let (f, sync) = folder();
    let ws = Workspace::new(f.dir.path(), &f.state);
    let spec = ws.load(&sync).unwrap();
    // The first run waits at its first progress until the test has tried.
    let (reading_tx, reading_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let reading_tx = Mutex::new(Some(reading_tx));
    let go_rx = Mutex::new(go_rx);
    let _waiting = ws.subscribe(move |e| {
        if let Event::Progress { .. } = e {
            if let Some(tx) = reading_tx.lock().unwrap().take() {
                tx.send(()).unwrap();
                let _ = go_rx.lock().unwrap().recv();
            }
        }
    });
    let first = {
        let (ws, spec) = (ws.clone(), spec.clone());
        std::thread::spawn(move || ws.run(&spec, &RunOptions::default()))
    };
    reading_rx.recv().unwrap();
    assert_eq!(ws.running(), vec!["t.toml".to_string()]);
    let second = ws.run(&spec, &RunOptions::default()).unwrap_err();
    assert_eq!(second.code(), dropsync::ErrorCode::Busy);
    assert_eq!(
        second.to_string(),
        "t.toml is already running. Wait for that run to finish"
    );
    assert!(ws.cancel("t.toml"));
    assert!(!ws.cancel("other.toml"));
    go_tx.send(()).unwrap();
    let report = first.join().unwrap().unwrap();
    assert_eq!(report.error_code, Some(dropsync::ErrorCode::Cancelled));
    assert!(ws.running().is_empty());
}

#[test]
fn the_schedulers_host_says_when_sync_files_are_added_edited_or_removed() {
    let (f, sync) = folder();
    let ws = Workspace::new(f.dir.path(), &f.state);
    let seen = events(&ws);
    let changes = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, Event::SyncsChanged))
            .count()
    };
    let host = ws.host();
    let mut plan = Plan::default();
    let now = chrono::Utc::now();
    host.reload(&mut plan, now);
    assert_eq!(changes(), 0, "the first look is no change");
    host.reload(&mut plan, now);
    assert_eq!(changes(), 0);
    let copy = f.dir.path().join("u.toml");
    std::fs::copy(&sync, &copy).unwrap();
    host.reload(&mut plan, now);
    assert_eq!(changes(), 1, "added");
    std::fs::write(&copy, std::fs::read_to_string(&sync).unwrap() + "\n").unwrap();
    host.reload(&mut plan, now);
    assert_eq!(changes(), 2, "edited");
    std::fs::remove_file(&copy).unwrap();
    host.reload(&mut plan, now);
    assert_eq!(changes(), 3, "removed");
}

#[test]
fn a_dropped_subscription_hears_no_more() {
    let (f, sync) = folder();
    let ws = Workspace::new(f.dir.path(), &f.state);
    let spec = ws.load(&sync).unwrap();
    let heard = Arc::new(Mutex::new(0));
    let h = heard.clone();
    let sub = ws.subscribe(move |_| *h.lock().unwrap() += 1);
    ws.run(&spec, &RunOptions::default()).unwrap();
    let during = *heard.lock().unwrap();
    assert!(during >= 2, "started and finished at least");
    drop(sub);
    ws.run(&spec, &RunOptions::default()).unwrap();
    assert_eq!(*heard.lock().unwrap(), during);
}
