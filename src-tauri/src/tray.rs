//! The tray icon: Open, Run all now, Quit.

use crate::AppState;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Dropsync", true, None::<&str>)?;
    let run_all = MenuItem::with_id(app, "run_all", "Run all now", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&open, &run_all, &sep, &quit])?;
    let mut tray = TrayIconBuilder::with_id("main")
        .tooltip("Dropsync")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => crate::show_main(app),
            "run_all" => run_all_now(app),
            "quit" => crate::scheduling::quit(app),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::show_main(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Runs every sync of the workspace once, one after the other.
fn run_all_now(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let state = state.inner().clone();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let files = match dropsync::daemon::sync_files(&state.paths.workspace) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the workspace");
                return;
            }
        };
        for path in files {
            let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            match crate::commands::run_file(app.clone(), state.clone(), name.clone()).await {
                Ok(r) => tracing::info!(file = %name, status = r.status.as_str(), "run all: done"),
                Err(e) => tracing::warn!(file = %name, error = %e, "run all: not run"),
            }
        }
    });
}
