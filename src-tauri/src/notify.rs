//! Desktop notifications: when a sync starts failing and when it recovers
//! (once per change, not on every failed run), and the first time the window
//! closes to the tray. Sent from Rust so that they come while the window is
//! hidden. Without a notification daemon (a bare X server) sending fails
//! quietly: the plugin sends on a background task and we only log.

use dropsync::history::{RunReport, RunStatus};
use std::path::Path;
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// A finished run, as far as the sync's health goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Cancelled, interrupted or still running: says nothing about health.
    Neutral,
}

impl Outcome {
    pub fn of(status: RunStatus, error_code: Option<&str>) -> Outcome {
        match status {
            RunStatus::Success => Outcome::Succeeded,
            RunStatus::Failed if error_code == Some("cancelled") => Outcome::Neutral,
            RunStatus::Failed => Outcome::Failed,
            RunStatus::Interrupted | RunStatus::Running => Outcome::Neutral,
        }
    }

    pub fn of_report(r: &RunReport) -> Outcome {
        Outcome::of(r.status, r.error_code.as_deref())
    }
}

/// What a notification announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    StartedFailing,
    Recovered,
}

/// The change a run makes, given the sync's last outcome that said
/// something (`None`: it never ran, or only neutral runs). A sync's first
/// run failing is news; a second failure in a row is not.
pub fn change(previous: Option<Outcome>, now: Outcome) -> Option<Change> {
    match (previous, now) {
        (Some(Outcome::Failed), Outcome::Failed) => None,
        (_, Outcome::Failed) => Some(Change::StartedFailing),
        (Some(Outcome::Failed), Outcome::Succeeded) => Some(Change::Recovered),
        _ => None,
    }
}

/// Neutral runs are looked through up to this many runs back.
const LOOK_BACK: usize = 20;

/// The sync's last outcome that said something, from its history, before
/// a run starts. Never creates state for a sync that never ran.
pub fn previous_outcome(state_dir: &Path, sync_id: &str) -> Option<Outcome> {
    if !dropsync::store::exists(state_dir, sync_id) {
        return None;
    }
    let store = dropsync::store::SyncStore::open(state_dir, sync_id).ok()?;
    let runs = dropsync::history::list(&store, sync_id, LOOK_BACK).ok()?;
    runs.iter()
        .map(Outcome::of_report)
        .find(|o| *o != Outcome::Neutral)
}

/// The title and body of a change's notification.
pub fn message(change: Change, sync: &str, error: Option<&str>) -> (String, String) {
    match change {
        Change::StartedFailing => (
            format!("Dropsync: {sync} failed"),
            error.unwrap_or("The run failed.").to_string(),
        ),
        Change::Recovered => (
            format!("Dropsync: {sync} works again"),
            "The last run succeeded.".to_string(),
        ),
    }
}

/// Shows a notification; a failure to show it is logged, never raised.
pub fn show(app: &AppHandle, title: &str, body: &str) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, title, "cannot show a notification");
    }
}

/// After a run: notifies if it changed the sync's health.
pub fn after_run(app: &AppHandle, previous: Option<Outcome>, report: &RunReport) {
    if let Some(c) = change(previous, Outcome::of_report(report)) {
        tracing::info!(sync = %report.sync_id, change = ?c, "notifying");
        let (title, body) = message(c, &report.sync_id, report.error.as_deref());
        show(app, &title, &body);
    }
}

/// The first time the window closes to the tray, says that Dropsync keeps
/// running there; remembered in the preferences so that it is said once.
pub fn first_close_to_tray(app: &AppHandle) {
    if crate::prefs::get_bool(app, crate::prefs::CLOSE_NOTICE_SHOWN) {
        return;
    }
    show(
        app,
        "Dropsync is still running",
        "Dropsync is still running in the tray, so scheduled syncs keep running; quit from the tray menu.",
    );
    crate::prefs::set_bool(app, crate::prefs::CLOSE_NOTICE_SHOWN, true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    #[test]
    fn notifies_once_per_change() {
        assert_eq!(change(None, Failed), Some(Change::StartedFailing));
        assert_eq!(
            change(Some(Succeeded), Failed),
            Some(Change::StartedFailing)
        );
        assert_eq!(change(Some(Failed), Failed), None);
        assert_eq!(change(Some(Failed), Succeeded), Some(Change::Recovered));
        assert_eq!(change(Some(Succeeded), Succeeded), None);
        assert_eq!(change(None, Succeeded), None);
        // A cancelled run changes nothing either way.
        assert_eq!(change(Some(Failed), Neutral), None);
        assert_eq!(change(Some(Succeeded), Neutral), None);
    }

    #[test]
    fn cancel_and_interruption_are_neutral() {
        assert_eq!(Outcome::of(RunStatus::Failed, Some("cancelled")), Neutral);
        assert_eq!(Outcome::of(RunStatus::Failed, Some("query")), Failed);
        assert_eq!(Outcome::of(RunStatus::Failed, None), Failed);
        assert_eq!(Outcome::of(RunStatus::Interrupted, None), Neutral);
        assert_eq!(Outcome::of(RunStatus::Success, None), Succeeded);
    }

    #[test]
    fn previous_outcome_of_a_sync_that_never_ran_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(previous_outcome(dir.path(), "never"), None);
        // And looking did not create its state.
        assert!(!dropsync::store::exists(dir.path(), "never"));
    }

    #[test]
    fn messages_name_the_sync_and_the_error() {
        let (title, body) = message(
            Change::StartedFailing,
            "orders",
            Some("query: no such table"),
        );
        assert_eq!(title, "Dropsync: orders failed");
        assert_eq!(body, "query: no such table");
        let (title, _) = message(Change::Recovered, "orders", None);
        assert_eq!(title, "Dropsync: orders works again");
    }
}
