//! Generates the Tauri context from the repository root's `tauri.conf.json`,
//! and one `allow-<command>` permission per app command so that the
//! capabilities in `capabilities/` grant exactly the commands the UI uses.

const COMMANDS: &[&str] = &[
    "list_syncs",
    "check_sync",
    "preview_sync",
    "run_sync",
    "cancel_run",
    "sync_history",
    "reset_snapshot",
    "workspace_info",
    "open_workspace_folder",
    "choose_workspace",
    "new_draft",
    "load_draft",
    "inspect_draft",
    "save_draft",
    "delete_sync",
    "test_alert",
    "create_local_folder",
    "test_source",
    "probe_model",
    "check_primary_key",
    "workspace_models",
    "dropbox_accounts",
    "dropbox_connect",
    "dropbox_cancel_connect",
    "dropbox_disconnect",
    "dropbox_list",
    "dropbox_create_folder",
    "dropbox_setup",
    "dropbox_forget_app_key",
    "dropbox_submit_code",
];

fn main() {
    let attrs = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
