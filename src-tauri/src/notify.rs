//! Desktop notifications: when a sync starts failing and when it recovers
//! (once per change, not on every failed run), and the first time the window
//! closes to the tray. Sent from Rust so that they come while the window is
//! hidden. Without a notification daemon (a bare X server) sending fails
//! quietly: the plugin sends on a background task and we only log.

use dropsync::history::RunReport;
use dropsync::workspace::HealthChange;
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// The title and body of a change's notification.
pub fn message(change: HealthChange, sync: &str, error: Option<&str>) -> (String, String) {
    match change {
        HealthChange::StartedFailing => (
            format!("Dropsync: {sync} failed"),
            error.unwrap_or("The run failed.").to_string(),
        ),
        HealthChange::Recovered => (
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

/// A run changed its sync's health (the core decides when: see
/// `dropsync::workspace::HealthChange`).
pub fn health_changed(app: &AppHandle, change: HealthChange, report: &RunReport) {
    tracing::info!(sync = %report.sync_id, change = ?change, "notifying");
    let (title, body) = message(change, &report.sync_id, report.error.as_deref());
    show(app, &title, &body);
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

    #[test]
    fn messages_name_the_sync_and_the_error() {
        let (title, body) = message(
            HealthChange::StartedFailing,
            "orders",
            Some("query: no such table"),
        );
        assert_eq!(title, "Dropsync: orders failed");
        assert_eq!(body, "query: no such table");
        let (title, _) = message(HealthChange::Recovered, "orders", None);
        assert_eq!(title, "Dropsync: orders works again");
    }
}
