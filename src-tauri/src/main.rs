//! Dropsync's desktop shell: thin commands over the `dropsync` core, a tray
//! icon, and the core's scheduler running the workspace's syncs while the
//! app is open (window shown or hidden to the tray).

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod api;
mod bindings;
mod commands;
mod events;
mod health;
mod notify;
mod prefs;
mod scheduling;
mod tray;
mod workspace;

use api::ApiError;
use tauri::{Listener, Manager, RunEvent, WindowEvent};
use workspace::Paths;

/// What every command shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub paths: Paths,
    pub demo_created: bool,
    pub startup_error: Option<ApiError>,
    /// The core's application layer over the workspace: its runs (from the
    /// UI, the tray or the scheduler) are its jobs, and its events drive
    /// progress, the tray and the notifications (`events`).
    pub ws: dropsync::Workspace,
}

/// Shows and focuses the main window (tray "Open", a second launch).
pub fn show_main(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Start in the tray, window hidden: how start at login launches the app.
const HIDDEN_ARG: &str = "--hidden";

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DROPSYNC_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let contract = bindings::builder();
    let app = tauri::Builder::default()
        // First: a second launch shows this instance's window and ends (a
        // login start while the app already runs shows nothing).
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            if !args.iter().any(|a| a == HIDDEN_ARG) {
                show_main(app)
            }
        }))
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // Started at login, the app goes straight to the tray.
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .arg(HIDDEN_ARG)
                .build(),
        )
        .invoke_handler(contract.invoke_handler())
        .setup(move |app| {
            contract.mount_events(app);
            if let Some(w) = app.get_webview_window("main") {
                lighten_webview(&w);
            }
            let state = prepare(app.handle());
            events::forward(app.handle(), &state.ws);
            app.manage(state.clone());
            tray::create(app.handle())?;
            // Runs starting or ending, from anywhere, and edited syncs.
            let handle = app.handle().clone();
            app.listen_any("syncs-changed", move |_| tray::refresh(&handle));
            scheduling::start(app.handle(), &state);
            if std::env::args().any(|a| a == HIDDEN_ARG) {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.hide();
                }
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Dropsync (and its schedules) in the tray.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == "main" {
                    api.prevent_close();
                    let _ = window.hide();
                    notify::first_close_to_tray(window.app_handle());
                }
            }
        })
        .build(tauri::generate_context!("../tauri.conf.json"));
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("dropsync-desktop: cannot start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| match event {
        // Windows closing alone never ends the app; only Quit does.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            if let Some(state) = handle.try_state::<AppState>() {
                state.ws.cancel_all();
            }
        }
        _ => {}
    });
}

/// CPU rendering for the webview, without GPU compositing: on X11 that
/// compositing costs some 90 MB in the web process and, on first start,
/// compiling shaders, and the UI (forms, tables, SVG; no WebGL or heavy
/// animation) needs none of it. scripts/measure-startup.sh measures it.
/// WebKitGTK's own setting, unlike WEBKIT_DISABLE_COMPOSITING_MODE, which the
/// programs the app starts (a browser) would inherit.
///
/// Not under WebDriver (`TAURI_WEBVIEW_AUTOMATION`, set by tauri-driver):
/// changing the policy there left WebKitWebDriver's session waiting for
/// ever (seen in every e2e run), so the end-to-end tests run with WebKit's
/// default rendering; the package's smoke test starts the app as shipped.
#[cfg(target_os = "linux")]
fn lighten_webview(window: &tauri::WebviewWindow) {
    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
    if std::env::var_os("TAURI_WEBVIEW_AUTOMATION").is_some() {
        return;
    }
    let _ = window.with_webview(|webview| {
        if let Some(settings) = WebViewExt::settings(&webview.inner()) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
}

#[cfg(not(target_os = "linux"))]
fn lighten_webview(_window: &tauri::WebviewWindow) {}

/// Resolves the folders and creates the demo workspace on first start.
/// Fails soft: a problem is shown by the UI, not a panic.
fn prepare(app: &tauri::AppHandle) -> AppState {
    let path = app.path();
    let fallback = std::env::temp_dir().join("dropsync");
    let chosen = path
        .app_config_dir()
        .ok()
        .and_then(|d| workspace::chosen_workspace(&d));
    let paths = Paths::resolve(
        chosen.clone().unwrap_or_else(|| {
            path.app_data_dir()
                .unwrap_or_else(|_| fallback.clone())
                .join("workspace")
        }),
        // The CLI's default state folder, so that both share snapshots.
        path.data_dir()
            .map(|d| d.join("dropsync"))
            .unwrap_or(fallback),
    );
    // A folder the user chose holds their own syncs: no demo goes there.
    let own_folder = chosen.as_ref() == Some(&paths.workspace);
    let prepared = if own_folder {
        Ok(false)
    } else {
        workspace::ensure_workspace(&paths.workspace)
    };
    let (demo_created, startup_error) = match prepared {
        Ok(created) => {
            if created {
                tracing::info!(dir = %paths.workspace.display(), "demo workspace created");
            }
            (created, None)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot prepare the workspace");
            (false, Some(ApiError::from(e)))
        }
    };
    tracing::info!(
        workspace = %paths.workspace.display(),
        state = %paths.state_dir.display(),
        "dropsync-desktop started"
    );
    AppState {
        ws: dropsync::Workspace::new(&paths.workspace, &paths.state_dir),
        paths,
        demo_created,
        startup_error,
    }
}
