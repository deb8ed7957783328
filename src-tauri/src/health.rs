//! What the tray says about the syncs: each sync's state from its last run,
//! one line per sync, and the app's overall health (the icon and tooltip).
//! Pure, so that the wording is tested without a window.

use chrono::{DateTime, Utc};
use dropsync::history::{RunReport, RunStatus};

/// One sync as the tray sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncState {
    Running,
    Succeeded {
        at: DateTime<Utc>,
    },
    Failed {
        at: DateTime<Utc>,
    },
    /// Stopped by the user: says nothing about the sync's health.
    Cancelled,
    /// The app or machine stopped during the run; nothing was committed.
    Interrupted,
    /// History says running but not from this app: the CLI runs it, or a
    /// process died mid-run (its next run marks that one interrupted).
    RunningElsewhere,
    NeverRun,
    /// The sync file does not load, so it cannot run.
    Broken,
}

impl SyncState {
    /// From the sync's last recorded run and whether a run is going on now.
    pub fn from_last_run(last: Option<&RunReport>, running: bool) -> SyncState {
        if running {
            return SyncState::Running;
        }
        let Some(r) = last else {
            return SyncState::NeverRun;
        };
        let at = r.finished_at.unwrap_or(r.started_at);
        match r.status {
            RunStatus::Success => SyncState::Succeeded { at },
            RunStatus::Failed if r.error_code == Some(dropsync::ErrorCode::Cancelled) => {
                SyncState::Cancelled
            }
            RunStatus::Failed => SyncState::Failed { at },
            RunStatus::Interrupted => SyncState::Interrupted,
            RunStatus::Running => SyncState::RunningElsewhere,
        }
    }

    fn is_failing(&self) -> bool {
        matches!(self, SyncState::Failed { .. } | SyncState::Broken)
    }
}

/// One sync of the tray menu.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncLine {
    /// The file name in the workspace: how the UI names a sync.
    pub file: String,
    /// What the user reads: the sync id, or the file name when it does not load.
    pub name: String,
    pub state: SyncState,
}

/// The tray icon's three states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Running,
    Failing,
}

/// Running wins over failing while it lasts: the run may be the one that
/// fixes it, and the icon goes back to failing if it does not.
pub fn health(lines: &[SyncLine]) -> Health {
    if lines.iter().any(|l| l.state == SyncState::Running) {
        Health::Running
    } else if lines.iter().any(|l| l.state.is_failing()) {
        Health::Failing
    } else {
        Health::Healthy
    }
}

/// "just now", "5 min ago", "3 h ago", "2 d ago".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86400),
    }
}

/// A sync's menu item: "orders — ✓ 2 min ago".
pub fn label(line: &SyncLine, now: DateTime<Utc>) -> String {
    let state = match &line.state {
        SyncState::Running => "running…".to_string(),
        SyncState::Succeeded { at } => format!("✓ {}", ago(*at, now)),
        SyncState::Failed { at } => format!("✗ failed {}", ago(*at, now)),
        SyncState::Cancelled => "cancelled".to_string(),
        SyncState::Interrupted => "interrupted".to_string(),
        SyncState::RunningElsewhere => "running elsewhere".to_string(),
        SyncState::NeverRun => "not run yet".to_string(),
        SyncState::Broken => "✗ file has errors".to_string(),
    };
    format!("{} — {state}", line.name)
}

/// "name, name and 2 more": a tooltip stays short.
fn names(lines: &[&SyncLine]) -> String {
    const SHOWN: usize = 3;
    let mut s = lines
        .iter()
        .take(SHOWN)
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > SHOWN {
        s.push_str(&format!(" and {} more", lines.len() - SHOWN));
    }
    s
}

/// The tray icon's tooltip: "Dropsync — 1 failing: orders".
pub fn tooltip(lines: &[SyncLine], paused: bool) -> String {
    let running: Vec<_> = lines
        .iter()
        .filter(|l| l.state == SyncState::Running)
        .collect();
    let failing: Vec<_> = lines.iter().filter(|l| l.state.is_failing()).collect();
    let mut parts = Vec::new();
    if !running.is_empty() {
        parts.push(format!("running: {}", names(&running)));
    }
    if !failing.is_empty() {
        parts.push(format!("{} failing: {}", failing.len(), names(&failing)));
    }
    if parts.is_empty() {
        parts.push(match lines.len() {
            0 => "no syncs".to_string(),
            1 => "1 sync, healthy".to_string(),
            n => format!("{n} syncs, all healthy"),
        });
    }
    if paused {
        parts.push("schedules paused".to_string());
    }
    format!("Dropsync — {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn line(name: &str, state: SyncState) -> SyncLine {
        SyncLine {
            file: format!("{name}.toml"),
            name: name.into(),
            state,
        }
    }

    fn report(status: RunStatus, code: Option<&str>) -> RunReport {
        RunReport {
            run_id: 1,
            sync_id: "orders".into(),
            mode: dropsync::config::Mode::All,
            status,
            started_at: at("2026-03-01T10:00:00Z"),
            finished_at: Some(at("2026-03-01T10:01:00Z")),
            rows: Default::default(),
            files: Vec::new(),
            error: code.map(|c| format!("{c} happened")),
            error_code: code.map(dropsync::ErrorCode::parse),
            alerts: Vec::new(),
            retention: None,
        }
    }

    #[test]
    fn state_comes_from_the_last_run_and_running_wins() {
        let ok = report(RunStatus::Success, None);
        let t = at("2026-03-01T10:01:00Z");
        assert_eq!(
            SyncState::from_last_run(Some(&ok), false),
            SyncState::Succeeded { at: t }
        );
        assert_eq!(
            SyncState::from_last_run(Some(&ok), true),
            SyncState::Running
        );
        assert_eq!(SyncState::from_last_run(None, false), SyncState::NeverRun);
        let failed = report(RunStatus::Failed, Some("query"));
        assert_eq!(
            SyncState::from_last_run(Some(&failed), false),
            SyncState::Failed { at: t }
        );
        // A cancel is the user's doing, not a failure of the sync.
        let cancelled = report(RunStatus::Failed, Some("cancelled"));
        assert_eq!(
            SyncState::from_last_run(Some(&cancelled), false),
            SyncState::Cancelled
        );
    }

    #[test]
    fn labels_say_state_and_age() {
        let now = at("2026-03-01T10:03:30Z");
        let ok = line(
            "orders",
            SyncState::Succeeded {
                at: at("2026-03-01T10:01:00Z"),
            },
        );
        assert_eq!(label(&ok, now), "orders — ✓ 2 min ago");
        let failed = line(
            "sales",
            SyncState::Failed {
                at: at("2026-03-01T07:00:00Z"),
            },
        );
        assert_eq!(label(&failed, now), "sales — ✗ failed 3 h ago");
        assert_eq!(label(&line("x", SyncState::Running), now), "x — running…");
        assert_eq!(
            label(&line("x", SyncState::NeverRun), now),
            "x — not run yet"
        );
        assert_eq!(
            label(&line("bad.toml", SyncState::Broken), now),
            "bad.toml — ✗ file has errors"
        );
        assert_eq!(ago(now, now), "just now");
        // A clock that went back is not "in -5 min".
        assert_eq!(ago(at("2026-03-01T10:08:30Z"), now), "just now");
        assert_eq!(ago(at("2026-02-27T10:00:00Z"), now), "2 d ago");
    }

    #[test]
    fn health_running_then_failing_then_healthy() {
        let t = at("2026-03-01T10:00:00Z");
        let ok = line("a", SyncState::Succeeded { at: t });
        let failed = line("b", SyncState::Failed { at: t });
        let running = line("c", SyncState::Running);
        assert_eq!(health(&[]), Health::Healthy);
        assert_eq!(
            health(&[ok.clone(), line("n", SyncState::NeverRun)]),
            Health::Healthy
        );
        assert_eq!(health(&[ok.clone(), failed.clone()]), Health::Failing);
        assert_eq!(
            health(&[ok.clone(), line("bad", SyncState::Broken)]),
            Health::Failing
        );
        assert_eq!(health(&[failed, running, ok]), Health::Running);
        // Cancelled and interrupted runs are no failure.
        assert_eq!(
            health(&[
                line("x", SyncState::Cancelled),
                line("y", SyncState::Interrupted)
            ]),
            Health::Healthy
        );
    }

    #[test]
    fn tooltip_names_what_needs_attention() {
        let t = at("2026-03-01T10:00:00Z");
        let ok = line("a", SyncState::Succeeded { at: t });
        let orders = line("orders", SyncState::Failed { at: t });
        assert_eq!(
            tooltip(&[ok.clone(), orders.clone()], false),
            "Dropsync — 1 failing: orders"
        );
        assert_eq!(
            tooltip(&[ok.clone(), ok.clone()], false),
            "Dropsync — 2 syncs, all healthy"
        );
        assert_eq!(tooltip(&[], true), "Dropsync — no syncs; schedules paused");
        let many: Vec<_> = ["p", "q", "r", "s", "t"]
            .iter()
            .map(|n| line(n, SyncState::Failed { at: t }))
            .chain([line("run", SyncState::Running)])
            .collect();
        assert_eq!(
            tooltip(&many, false),
            "Dropsync — running: run; 5 failing: p, q, r and 2 more"
        );
    }
}
