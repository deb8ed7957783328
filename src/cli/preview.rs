//! `dropsync preview`: the files a run would write now, written nowhere.

use super::{parse_at, print, Status};
use anyhow::Result;
use dropsync::history::RunReport;
use dropsync::{RunOptions, Workspace};
use std::path::Path;

pub fn preview(
    file: &Path,
    state: &Path,
    rows: usize,
    at: &Option<String>,
    json: bool,
) -> Result<Status> {
    let ws = Workspace::of_file(file, state);
    let spec = ws.load(file)?;
    let report = ws.preview(
        &spec,
        rows,
        &RunOptions {
            at: parse_at(at)?,
            ..Default::default()
        },
    )?;
    if json {
        print::json(&report)?;
    } else {
        show(&report);
    }
    Ok(Status::Success)
}

fn show(r: &RunReport) {
    println!(
        "preview of {} (nothing written): {}",
        r.sync_id,
        print::counts(r)
    );
    for f in &r.files {
        let skip = if f.skipped {
            ", skipped because empty"
        } else {
            ""
        };
        println!("\n== {} ({} rows{skip})", f.path, f.rows);
        if let Some(p) = &f.preview {
            print!("{}", p.text);
            if !p.text.ends_with('\n') {
                println!();
            }
            if f.rows > p.rows.len() as u64 {
                println!("... {} more rows", f.rows - p.rows.len() as u64);
            }
        }
    }
}
