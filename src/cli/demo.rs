//! `dropsync demo`: create a sample workspace (a shop database, one sync per
//! mode), run every sync, change the data, and run them again.

use super::run::run_with_progress;
use super::{print, Status};
use anyhow::Result;
use dropsync::{RunOptions, SyncSpec, Workspace};
use std::path::Path;

pub fn demo(dir: &Path, state: &Path) -> Result<Status> {
    let demo = dropsync::demo::create(dir)?;
    println!("demo workspace in {}", demo.dir.display());
    println!(
        "  database {} ({} customers, {} orders)",
        demo.database.display(),
        dropsync::demo::CUSTOMERS,
        dropsync::demo::ORDERS
    );
    let ws = Workspace::new(&demo.dir, state);
    let specs = demo
        .sync_files
        .iter()
        .map(|f| ws.load(f))
        .collect::<Result<Vec<SyncSpec>, _>>()?;
    for spec in &specs {
        // A fresh demo database starts fresh snapshots.
        ws.reset(spec)?;
    }
    let mut ok = true;
    for round in 0..2 {
        if round == 1 {
            println!("\na day later: {}", dropsync::demo::churn(&demo.database)?);
        }
        for (spec, file) in specs.iter().zip(&demo.sync_files) {
            println!("\n$ dropsync run {}", file.display());
            let report = run_with_progress(&ws, spec, &RunOptions::default())?;
            print::run(&report);
            ok &= report.succeeded();
        }
    }
    println!("\nfiles are in {}", demo.output.display());
    println!("try: dropsync preview {}", demo.sync_files[1].display());
    Ok(Status::of(ok))
}
