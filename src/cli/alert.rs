//! `dropsync alert test`: send a test message on every alert channel of a
//! sync, so that a wrong address shows before a real failure needs it.

use super::{print, Status};
use anyhow::Result;
use dropsync::SyncSpec;
use std::path::Path;

pub fn test(file: &Path, state: &Path, json: bool) -> Result<Status> {
    let spec = SyncSpec::load(file)?;
    if spec.alerts.is_empty() {
        anyhow::bail!(
            "{} has no [[alerts]] channels; add one (see docs/schedules-and-alerts.md, \"Alerts\")",
            file.display()
        );
    }
    let sent = dropsync::alerting::send_test(&spec, state)?;
    if json {
        print::json(&sent)?;
    } else {
        print::alerts(&sent, "");
    }
    Ok(Status::of(sent.iter().all(|a| a.ok)))
}
