//! The app's preferences that Rust reads: kept in the same store file as the
//! UI's (`prefs.json`, tauri-plugin-store), so that there is one place.

use tauri::AppHandle;
use tauri_plugin_store::StoreExt;

/// The store file, shared with the UI (`load("prefs.json")` in ui/src/main.ts).
pub const STORE: &str = "prefs.json";
/// `true` while scheduled runs are paused (tray "Pause schedules").
pub const SCHEDULES_PAUSED: &str = "schedulesPaused";
/// `true` once the "still running in the tray" notification was shown.
pub const CLOSE_NOTICE_SHOWN: &str = "closeToTrayNoticeShown";

/// A boolean preference; false when unset or unreadable.
pub fn get_bool(app: &AppHandle, key: &str) -> bool {
    match app.store(STORE) {
        Ok(store) => store.get(key).and_then(|v| v.as_bool()).unwrap_or(false),
        Err(e) => {
            tracing::warn!(error = %e, key, "cannot read the preferences");
            false
        }
    }
}

/// Sets a boolean preference and saves it now: a preference lost in a crash
/// would show the notice again or unpause the schedules.
pub fn set_bool(app: &AppHandle, key: &str, value: bool) {
    let saved = app.store(STORE).and_then(|store| {
        store.set(key, value);
        store.save()
    });
    if let Err(e) = saved {
        tracing::warn!(error = %e, key, "cannot save the preferences");
    }
}
