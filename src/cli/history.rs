//! `dropsync history`: a sync's past runs, newest first.

use super::{print, Status};
use anyhow::Result;
use dropsync::history::RunReport;
use dropsync::Workspace;
use std::path::Path;

pub fn history(file: &Path, state: &Path, limit: usize, json: bool) -> Result<Status> {
    let ws = Workspace::of_file(file, state);
    let spec = ws.load(file)?;
    let runs = ws.history(&spec, limit)?;
    if json {
        let list: Vec<_> = runs.iter().map(print::RunJson::from).collect();
        print::json(&list)?;
    } else if runs.is_empty() {
        println!(
            "sync {} has not run yet; start it with `dropsync run {}`",
            spec.sync.id,
            file.display()
        );
    } else {
        table(&runs);
    }
    Ok(Status::Success)
}

fn table(runs: &[RunReport]) {
    println!(
        "{:>5}  {:<20}  {:<11}  {:>9}  {:>8}  {:>8}  {:>8}  {:>6}",
        "run", "started (local)", "status", "queried", "added", "changed", "removed", "files"
    );
    for r in runs {
        let local = r
            .started_at
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S");
        println!(
            "{:>5}  {:<20}  {:<11}  {:>9}  {:>8}  {:>8}  {:>8}  {:>6}",
            r.run_id,
            local.to_string(),
            r.status.as_str(),
            r.rows.queried,
            r.rows.added,
            r.rows.changed,
            r.rows.removed,
            r.files.iter().filter(|f| !f.skipped).count()
        );
        if let Some(note) = r.rows.source_note() {
            println!("       {note}");
        }
        for f in &r.files {
            if let Some(by) = f.overwritten_by {
                println!(
                    "       {} ({} rows) was overwritten by run {by}; its rows are no longer there",
                    f.path, f.rows
                );
            }
        }
        if let Some(e) = &r.error {
            println!("       error: {e}");
        }
        print::alerts(&r.alerts, "       ");
    }
}
