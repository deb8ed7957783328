//! The workspace's events, passed on: progress to the UI (`run-progress`,
//! throttled), runs starting and ending and sync files changing to the UI
//! and the tray (`syncs-changed`), and a sync's health changing to a desktop
//! notification. Whoever started a run (the UI, the tray, the scheduler),
//! it is seen the same way.

use dropsync::run::Progress;
use dropsync::workspace::Event;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tauri::AppHandle;
use tauri_specta::Event as _;

/// At most this many progress events per second within one stage.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// Event `run-progress`: a run's stage, as the core reports it.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct RunProgress {
    /// The sync's file name in the workspace, as in `list_syncs`.
    pub file: String,
    pub progress: Progress,
}

/// Event `syncs-changed`: a run started or ended, or a sync file changed.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct SyncsChanged;

/// Event `schedules-paused`: the tray's "Pause schedules" was toggled (true: paused).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct SchedulesPaused(pub bool);

/// Per file: the last stage sent and when, so that a stage's updates are
/// thinned out but a new stage always goes.
#[derive(Default)]
struct Throttle(Mutex<HashMap<String, (std::mem::Discriminant<Progress>, Instant)>>);

impl Throttle {
    fn lets_through(&self, file: &str, p: &Progress) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let kind = std::mem::discriminant(p);
        let delivering_done = matches!(p, Progress::Delivering { bytes, total } if bytes == total);
        if let Some((k, at)) = last.get(file) {
            if *k == kind && at.elapsed() < PROGRESS_INTERVAL && !delivering_done {
                return false;
            }
        }
        last.insert(file.to_string(), (kind, Instant::now()));
        true
    }

    fn forget(&self, file: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(file);
    }
}

/// Subscribes the app to the workspace's events.
pub fn forward(app: &AppHandle, ws: &dropsync::Workspace) {
    let app = app.clone();
    let throttle = Throttle::default();
    ws.subscribe(move |event| match event {
        Event::Progress { file, progress } => {
            if throttle.lets_through(file, progress) {
                let _ = RunProgress {
                    file: file.clone(),
                    progress: progress.clone(),
                }
                .emit(&app);
            }
        }
        Event::Started { .. } | Event::SyncsChanged => {
            let _ = SyncsChanged.emit(&app);
        }
        Event::Finished {
            file,
            report,
            health,
            ..
        } => {
            throttle.forget(file);
            let _ = SyncsChanged.emit(&app);
            if let (Some(change), Some(report)) = (health, report) {
                let mut report = (**report).clone();
                crate::commands::in_app_words(&mut report);
                crate::notify::health_changed(&app, *change, &report);
            }
        }
    })
    // For the app's whole life.
    .keep();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_events_are_tagged_by_stage() {
        let e = RunProgress {
            file: "a.toml".into(),
            progress: Progress::Delivering {
                bytes: 5,
                total: 10,
            },
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"file": "a.toml", "progress": {"stage": "delivering", "bytes": 5, "total": 10}})
        );
        let v = serde_json::to_value(Progress::Writing {
            file: "x.csv".into(),
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"stage": "writing", "file": "x.csv"}));
    }

    #[test]
    fn a_stage_is_thinned_out_but_a_new_stage_always_goes() {
        let t = Throttle::default();
        let reading = |rows| Progress::Reading { rows };
        assert!(t.lets_through("a", &reading(1)));
        assert!(!t.lets_through("a", &reading(2)));
        // Another file, and another stage, go through.
        assert!(t.lets_through("b", &reading(1)));
        assert!(t.lets_through("a", &Progress::Committing));
    }
}
