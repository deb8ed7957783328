//! The tray icon: its health icon and tooltip, and its menu (Open, Run all
//! now, one item per sync with its last status, Pause schedules, Start at
//! login, Quit). Rebuilt when runs start or end, when the workspace changes,
//! and every so often for the "2 min ago" ages; only when something shown
//! changed, so that an open menu is not replaced for nothing.

use crate::health::{self, Health, SyncLine, SyncState};
use crate::AppState;
use chrono::Utc;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt;
use tauri_specta::Event as _;

const TRAY_ID: &str = "main";
/// Menu ids of the syncs' items start with this, then the file name.
const SYNC_PREFIX: &str = "sync:";

const ICON_HEALTHY: Image<'static> = tauri::include_image!("icons/tray-healthy.png");
const ICON_RUNNING: Image<'static> = tauri::include_image!("icons/tray-running.png");
const ICON_FAILING: Image<'static> = tauri::include_image!("icons/tray-failing.png");

/// What clicking a sync in the tray sends to the UI, as event `open-sync`.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct OpenSync {
    /// The sync's file name in the workspace, as in `list_syncs`.
    pub file: String,
}

/// Everything the tray shows; compared with what it shows now.
#[derive(Debug, Clone, PartialEq)]
struct View {
    /// (file, menu label) per sync.
    syncs: Vec<(String, String)>,
    health: Health,
    tooltip: String,
    paused: bool,
    autostart: bool,
}

/// What the tray shows now.
#[derive(Default)]
struct Shown {
    view: Mutex<Option<View>>,
    /// Apply the next refresh even if the view did not change. A flag, not
    /// a reset of `view`: menu clicks run on the main thread, which must
    /// never wait for `view`'s lock (a refresh holds it while the tray
    /// calls wait for the main thread).
    force: AtomicBool,
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    app.manage(Shown::default());
    let menu = menu(app, "Dropsync", &[], false, false)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(ICON_HEALTHY)
        .tooltip("Dropsync")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        "open" => crate::show_main(app),
        "run_all" => run_all_now(app),
        "pause" => {
            let paused = !crate::scheduling::paused(app);
            crate::scheduling::set_paused(app, paused);
            refresh_now(app);
        }
        "autostart" => {
            toggle_autostart(app);
            refresh_now(app);
        }
        "quit" => crate::scheduling::quit(app),
        _ => {
            if let Some(file) = id.strip_prefix(SYNC_PREFIX) {
                crate::show_main(app);
                let _ = OpenSync {
                    file: file.to_string(),
                }
                .emit(app);
            }
        }
    }
}

fn toggle_autostart(app: &AppHandle) {
    let launch = app.autolaunch();
    let result = match launch.is_enabled() {
        Ok(true) => launch.disable(),
        _ => launch.enable(),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot change start at login");
    }
}

fn menu(
    app: &AppHandle,
    header: &str,
    syncs: &[(String, String)],
    paused: bool,
    autostart: bool,
) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    // The state in words at the top: many Linux trays (AppIndicator) show
    // no tooltip, so the menu is where it can be read.
    menu.append(&MenuItem::with_id(
        app,
        "state",
        header,
        false,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Dropsync",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "run_all",
        "Run all now",
        true,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    if syncs.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "none",
            "No syncs",
            false,
            None::<&str>,
        )?)?;
    }
    for (file, label) in syncs {
        let id = format!("{SYNC_PREFIX}{file}");
        menu.append(&MenuItem::with_id(app, id, label, true, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&CheckMenuItem::with_id(
        app,
        "pause",
        "Pause schedules",
        true,
        paused,
        None::<&str>,
    )?)?;
    menu.append(&CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at login",
        true,
        autostart,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

/// Each sync of the workspace with its state, for the menu.
fn lines(state: &AppState) -> Vec<SyncLine> {
    let paths = &state.paths;
    let running = state.ws.running();
    let next = match state.ws.next_runs(Utc::now()) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "tray: cannot read the workspace");
            return Vec::new();
        }
    };
    next.into_iter()
        .map(|n| {
            let file = n
                .file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            match n.sync_id {
                Some(id) => {
                    let last = dropsync::history::last_run(&paths.state_dir, &id);
                    SyncLine {
                        state: SyncState::from_last_run(last.as_ref(), running.contains(&file)),
                        file,
                        name: id,
                    }
                }
                None => SyncLine {
                    name: file.clone(),
                    file,
                    state: SyncState::Broken,
                },
            }
        })
        .collect()
}

/// Brings the tray up to date, off the caller's thread (it reads every
/// sync's history).
pub fn refresh(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let Some(state) = app.try_state::<AppState>() else {
            return;
        };
        let lines = lines(&state);
        let now = Utc::now();
        let paused = crate::scheduling::paused(&app);
        let view = View {
            syncs: lines
                .iter()
                .map(|l| (l.file.clone(), health::label(l, now)))
                .collect(),
            health: health::health(&lines),
            tooltip: health::tooltip(&lines, paused),
            paused,
            autostart: app.autolaunch().is_enabled().unwrap_or(false),
        };
        // Held while applying, so that two refreshes apply in order.
        let shown = app.state::<Shown>();
        let mut current = shown.view.lock().unwrap_or_else(|e| e.into_inner());
        let forced = shown.force.swap(false, Ordering::SeqCst);
        if !forced && current.as_ref() == Some(&view) {
            return;
        }
        match apply(&app, &view) {
            Ok(()) => *current = Some(view),
            Err(e) => tracing::warn!(error = %e, "cannot update the tray"),
        }
    });
}

/// A refresh that applies even when nothing seems to have changed: after a
/// check item was clicked, whose tick the menu toggled by itself.
fn refresh_now(app: &AppHandle) {
    if let Some(shown) = app.try_state::<Shown>() {
        shown.force.store(true, Ordering::SeqCst);
    }
    refresh(app);
}

fn apply(app: &AppHandle, view: &View) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return Ok(());
    };
    let icon = match view.health {
        Health::Healthy => ICON_HEALTHY,
        Health::Running => ICON_RUNNING,
        Health::Failing => ICON_FAILING,
    };
    tray.set_icon(Some(icon))?;
    tray.set_tooltip(Some(&view.tooltip))?;
    tray.set_menu(Some(menu(
        app,
        &view.tooltip,
        &view.syncs,
        view.paused,
        view.autostart,
    )?))?;
    tracing::debug!(health = ?view.health, tooltip = %view.tooltip, items = ?view.syncs, "tray updated");
    Ok(())
}

/// Runs every sync of the workspace once, one after the other (their ends
/// notify through the workspace's events like any run).
fn run_all_now(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let state = state.inner().clone();
    tauri::async_runtime::spawn(async move {
        let files = match state.ws.sync_files() {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the workspace");
                return;
            }
        };
        for path in files {
            let name = dropsync::workspace::file_key(&path);
            match crate::commands::run_file(state.clone(), name.clone()).await {
                Ok(r) => tracing::info!(file = %name, status = r.status.as_str(), "run all: done"),
                Err(e) => tracing::warn!(file = %name, error = %e, "run all: not run"),
            }
        }
    });
}
