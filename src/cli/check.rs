//! `dropsync check`: validate a sync against its source without running it.

use super::{print, Status};
use anyhow::Result;
use dropsync::check::CheckReport;
use dropsync::Workspace;
use std::path::Path;

pub fn check(file: &Path, state: &Path, json: bool) -> Result<Status> {
    let ws = Workspace::of_file(file, state);
    let spec = ws.load(file)?;
    let report = ws.check(&spec)?;
    if json {
        print::json(&report)?;
    } else {
        show(&report);
    }
    Ok(Status::Success)
}

fn show(report: &CheckReport) {
    println!("sync {}: OK", report.sync_id);
    println!("  source       {}", report.source);
    println!("  destination  {}", report.destination);
    println!("  columns:");
    for c in &report.columns {
        let key = if report.primary_key.contains(&c.name) {
            "  (primary key)"
        } else {
            ""
        };
        println!(
            "    {:<24} {:<12} {}{key}",
            c.name,
            c.declared_type.as_deref().unwrap_or("-"),
            c.observed_type
        );
    }
    println!("  output       {}", report.output_columns.join(", "));
    println!(
        "  rows         {} (every key present and unique)",
        report.rows
    );
    for f in &report.files {
        println!("  file         {f}");
    }
    if report.diff_engine != "local" {
        println!("  diff engine  {}", report.diff_engine);
    }
    println!("  schedule     {}", report.schedule);
    for t in &report.next_runs {
        println!(
            "  next run     {} UTC ({} local)",
            t.format("%Y-%m-%d %H:%M:%S"),
            t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
        );
    }
    for a in &report.alerts {
        println!("  alerts       {a}");
    }
    for w in &report.warnings {
        println!("  warning      {w}");
    }
}
