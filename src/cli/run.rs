//! `dropsync run`: one run of a sync, with its alerts, and the spinner that
//! shows its progress on a terminal.

use super::{parse_at, print, Status};
use anyhow::Result;
use dropsync::history::RunReport;
use dropsync::run::Progress;
use dropsync::workspace::Event;
use dropsync::{RunOptions, SyncSpec, Workspace};
use std::io::IsTerminal;
use std::path::Path;

pub fn run(file: &Path, state: &Path, at: &Option<String>, json: bool) -> Result<Status> {
    let ws = Workspace::of_file(file, state);
    let spec = ws.load(file)?;
    let opts = RunOptions {
        at: parse_at(at)?,
        ..Default::default()
    };
    let report = run_with_progress(&ws, &spec, &opts)?;
    if json {
        print::json(&print::RunJson::from(&report))?;
    } else {
        print::run(&report);
    }
    Ok(Status::of(report.succeeded()))
}

/// Runs `spec` in `ws`, with a spinner on stderr when it is a terminal; the
/// spinner's subscription ends with the run.
pub fn run_with_progress(ws: &Workspace, spec: &SyncSpec, opts: &RunOptions) -> Result<RunReport> {
    let _spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        ws.subscribe(move |e| {
            if let Event::Progress { progress, .. } = e {
                show(&bar, progress);
            }
        })
    });
    Ok(ws.run(spec, opts)?)
}

fn show(bar: &indicatif::ProgressBar, p: &Progress) {
    match p {
        Progress::Reading { rows } => bar.set_message(format!("reading rows: {rows}")),
        Progress::Comparing {
            partition,
            partitions,
        } => bar.set_message(format!(
            "comparing with the snapshot: {}/{partitions}",
            partition + 1
        )),
        Progress::Writing { file } => bar.set_message(format!("writing {file}")),
        Progress::Delivering { bytes, total } => {
            bar.set_message(format!("delivering: {bytes} / {total} bytes"))
        }
        Progress::Committing => bar.finish_and_clear(),
    }
}
