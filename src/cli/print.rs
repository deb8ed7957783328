//! What several commands print the same way: a run's outcome and counts, the
//! alerts it sent, and the `--json` shape of a run.

use anyhow::Result;
use chrono::{DateTime, Utc};
use dropsync::config::Mode;
use dropsync::history::{AlertDelivery, FileReport, RowCounts, RunReport, RunStatus};
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout: one document per command.
pub fn json(value: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A run as `run --json` and `history --json` print it (docs/cli.md).
///
/// Not `RunReport`'s own Serialize: that one adds `mode`, leaves out
/// `alerts` when none were sent and `overwritten_by` when no later run
/// overwrote the file, and the documented shape has exactly these keys,
/// always present. Fields are in the order the shape was printed in.
#[derive(Serialize)]
pub struct RunJson<'a> {
    run_id: i64,
    sync_id: &'a str,
    status: RunStatus,
    error: &'a Option<String>,
    error_code: &'a Option<dropsync::ErrorCode>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    rows: &'a RowCounts,
    files: Vec<FileJson<'a>>,
    alerts: &'a [AlertDelivery],
    /// `[sync.retention]`: what was deleted after the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    retention: &'a Option<dropsync::retention::RetentionOutcome>,
}

/// A delivered file in [`RunJson`]: no preview, `overwritten_by` always.
#[derive(Serialize)]
struct FileJson<'a> {
    path: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<u32>,
    rows: u64,
    bytes: u64,
    skipped: bool,
    overwritten_by: Option<i64>,
}

impl<'a> From<&'a RunReport> for RunJson<'a> {
    fn from(r: &'a RunReport) -> RunJson<'a> {
        RunJson {
            run_id: r.run_id,
            sync_id: &r.sync_id,
            status: r.status,
            error: &r.error,
            error_code: &r.error_code,
            started_at: r.started_at,
            finished_at: r.finished_at,
            rows: &r.rows,
            files: r.files.iter().map(FileJson::from).collect(),
            alerts: &r.alerts,
            retention: &r.retention,
        }
    }
}

impl<'a> From<&'a FileReport> for FileJson<'a> {
    fn from(f: &'a FileReport) -> FileJson<'a> {
        FileJson {
            path: &f.path,
            kind: f.kind.as_str(),
            part: f.part,
            rows: f.rows,
            bytes: f.bytes,
            skipped: f.skipped,
            overwritten_by: f.overwritten_by,
        }
    }
}

/// A finished run: its files on success; on failure, on stderr, the cause
/// and the promise that nothing was lost.
pub fn run(r: &RunReport) {
    match r.status {
        RunStatus::Success => {
            println!("run {} of {}: success: {}", r.run_id, r.sync_id, counts(r));
            for f in &r.files {
                if f.skipped {
                    println!("  skipped {} (empty)", f.path);
                } else {
                    println!("  wrote   {} ({} rows, {} bytes)", f.path, f.rows, f.bytes);
                }
            }
            if let Some(kept) = &r.retention {
                for path in &kept.deleted {
                    println!("  deleted {path} (retention)");
                }
                for f in &kept.failed {
                    println!(
                        "  could not delete {} (retention; retried next run): {}",
                        f.path, f.error
                    );
                }
                if let Some(e) = &kept.error {
                    println!("  retention did not run: {e} (retried next run)");
                }
            }
        }
        _ => {
            eprintln!(
                "run {} of {}: failed: {}",
                r.run_id,
                r.sync_id,
                r.error.as_deref().unwrap_or("unknown error")
            );
            eprintln!("  nothing was delivered and the snapshot is unchanged; the next run delivers these changes");
        }
    }
    alerts(&r.alerts, "  ");
}

/// The counts line of a run or a preview: only the counts its mode
/// produces, so an All run does not claim "0 changed".
pub fn counts(r: &RunReport) -> String {
    let c = &r.rows;
    match r.mode {
        Mode::All => format!("{} rows queried", c.queried),
        Mode::Insert => format!("{} rows queried, {} added", c.queried, c.added),
        Mode::Diff => format!(
            "{} rows queried, {} added, {} changed, {} removed{}",
            c.queried,
            c.added,
            c.changed,
            c.removed,
            c.source_note()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
    }
}

pub fn alerts(alerts: &[AlertDelivery], indent: &str) {
    for a in alerts {
        match &a.error {
            None => println!("{indent}{} alert sent: {}", a.kind, a.channel),
            Some(e) => println!(
                "{indent}{} alert NOT sent: {} ({} attempt(s)): {e}",
                a.kind, a.channel, a.attempts
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dropsync::history::FilePreview;

    fn file(path: &str, overwritten_by: Option<i64>) -> FileReport {
        FileReport {
            path: path.into(),
            kind: dropsync::run::FileKind::Added,
            part: None,
            rows: 3,
            bytes: 120,
            skipped: false,
            preview: Some(FilePreview {
                columns: vec!["id".into()],
                rows: vec![vec!["1".into()]],
                text: "id\r\n1\r\n".into(),
            }),
            overwritten_by,
            deleted_by_retention: false,
        }
    }

    fn report(alerts: Vec<AlertDelivery>) -> RunReport {
        let at = Utc.with_ymd_and_hms(2024, 1, 19, 8, 0, 0).unwrap();
        RunReport {
            run_id: 7,
            sync_id: "cust".into(),
            mode: Mode::Diff,
            status: RunStatus::Failed,
            started_at: at,
            finished_at: Some(at),
            rows: RowCounts {
                queried: 3,
                added: 3,
                ..RowCounts::default()
            },
            files: vec![file("a.csv", None), file("b.csv", Some(9))],
            error: Some("boom".into()),
            error_code: None,
            retention: None,
            alerts,
        }
    }

    /// How `run --json` was built before it was a struct: the reference the
    /// struct must match byte for byte (serde_json keeps insertion order).
    fn by_hand(r: &RunReport) -> serde_json::Value {
        serde_json::json!({
            "run_id": r.run_id,
            "sync_id": r.sync_id,
            "status": r.status,
            "error": r.error,
            "error_code": r.error_code,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "rows": r.rows,
            "files": r.files.iter().map(|f| serde_json::json!({
                "path": f.path, "kind": f.kind, "rows": f.rows, "bytes": f.bytes,
                "skipped": f.skipped, "overwritten_by": f.overwritten_by,
            })).collect::<Vec<_>>(),
            "alerts": r.alerts,
        })
    }

    #[test]
    fn run_json_prints_what_the_hand_built_object_printed() {
        let alert = AlertDelivery {
            kind: dropsync::alerts::AlertKind::Failure,
            channel: "slack".into(),
            ok: false,
            attempts: 3,
            error: Some("HTTP 500".into()),
            at: Utc.with_ymd_and_hms(2024, 1, 19, 8, 0, 1).unwrap(),
        };
        for r in [report(Vec::new()), report(vec![alert])] {
            assert_eq!(
                serde_json::to_string_pretty(&RunJson::from(&r)).unwrap(),
                serde_json::to_string_pretty(&by_hand(&r)).unwrap()
            );
        }
    }
}
