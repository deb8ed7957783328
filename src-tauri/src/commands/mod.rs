//! The commands the UI calls: thin wrappers over the core. Blocking core
//! work runs on tauri's blocking pool, never on the IPC thread.

mod dropbox;
mod editor;

use crate::api::{ApiError, ApiResult, Code};
use crate::AppState;
use chrono::{DateTime, Utc};
use dropsync::check::CheckReport;
use dropsync::history::{RunReport, RunStatus};
use dropsync::run::{Progress, RunControl, RunOptions};
use dropsync::SyncSpec;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::{AppHandle, Emitter, Manager, State};

/// Rows per file a preview shows.
const PREVIEW_ROWS_MAX: usize = 500;
/// Runs a history request returns at most.
const HISTORY_MAX: usize = 500;

/// Every command the UI may call. Each also needs its name in `build.rs`
/// and a permission in `capabilities/`.
pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        workspace_info,
        open_workspace_folder,
        choose_workspace,
        list_syncs,
        check_sync,
        preview_sync,
        run_sync,
        cancel_run,
        sync_history,
        reset_snapshot,
        editor::new_draft,
        editor::load_draft,
        editor::inspect_draft,
        editor::save_draft,
        editor::delete_sync,
        editor::test_alert,
        editor::create_local_folder,
        editor::test_source,
        editor::probe_model,
        editor::check_primary_key,
        editor::workspace_models,
        dropbox::dropbox_accounts,
        dropbox::dropbox_connect,
        dropbox::dropbox_cancel_connect,
        dropbox::dropbox_disconnect,
        dropbox::dropbox_list,
        dropbox::dropbox_create_folder,
        dropbox::dropbox_setup,
        dropbox::dropbox_forget_app_key,
        dropbox::dropbox_submit_code,
    ]
}

/// Runs blocking core work off the IPC thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(Code::Internal, format!("the task failed: {e}")))?
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceInfo {
    pub workspace: PathBuf,
    pub state_dir: PathBuf,
    /// The demo workspace was created at this start.
    pub demo_created: bool,
    /// Why the app could not prepare its workspace, if it could not.
    pub startup_error: Option<ApiError>,
}

/// Shows the workspace folder in the system's file manager. Only that
/// folder: the UI names no path, so the capability needs no path scope.
#[tauri::command]
pub fn open_workspace_folder(app: AppHandle, state: State<'_, AppState>) -> ApiResult<()> {
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_path(state.paths.workspace.to_string_lossy(), None::<&str>)
        .map_err(|e| {
            ApiError::new(
                Code::Io,
                format!(
                    "cannot open {} in the file manager: {e}",
                    state.paths.workspace.display()
                ),
            )
        })
}

/// Makes `path` the workspace and restarts the app on it (the scheduler,
/// the tray and every screen then follow the new folder).
#[tauri::command]
pub fn choose_workspace(app: AppHandle, path: PathBuf) -> ApiResult<()> {
    if std::env::var_os("DROPSYNC_WORKSPACE").is_some_and(|v| !v.is_empty()) {
        return Err(ApiError::new(
            Code::InvalidArgument,
            "DROPSYNC_WORKSPACE is set for this app, so it decides the workspace; unset it to choose one here",
        ));
    }
    let config = app
        .path()
        .app_config_dir()
        .map_err(|e| ApiError::new(Code::Io, format!("no config folder for the app: {e}")))?;
    crate::workspace::choose_workspace(&config, &path)?;
    tracing::info!(workspace = %path.display(), "workspace chosen; restarting");
    app.restart()
}

#[tauri::command]
pub fn workspace_info(state: State<'_, AppState>) -> WorkspaceInfo {
    WorkspaceInfo {
        workspace: state.paths.workspace.clone(),
        state_dir: state.paths.state_dir.clone(),
        demo_created: state.demo_created,
        startup_error: state.startup_error.clone(),
    }
}

/// One line of the Syncs screen.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSummary {
    /// The file name in the workspace: how the UI names a sync.
    pub file: String,
    pub sync_id: Option<String>,
    pub model: Option<String>,
    pub mode: Option<dropsync::config::Mode>,
    pub format: Option<dropsync::config::Format>,
    pub destination: Option<String>,
    pub schedule: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<DateTime<Utc>>,
    pub last_status: Option<RunStatus>,
    pub running: bool,
    /// Set when the file does not load; the other fields are then empty.
    pub error: Option<String>,
}

pub fn list(state: &AppState) -> ApiResult<Vec<SyncSummary>> {
    let paths = &state.paths;
    let next = dropsync::daemon::next_runs(&paths.workspace, &paths.state_dir, Utc::now())
        .map_err(|e| {
            ApiError::new(
                Code::Io,
                format!(
                    "cannot read the workspace {}: {e}",
                    paths.workspace.display()
                ),
            )
        })?;
    let running = state.running_files();
    Ok(next
        .into_iter()
        .map(|n| {
            let file = n
                .file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let spec = n
                .error
                .is_none()
                .then(|| SyncSpec::load(&n.file).ok())
                .flatten();
            let last = n
                .sync_id
                .as_deref()
                .and_then(|id| dropsync::history::last_run(&paths.state_dir, id));
            SyncSummary {
                running: running.contains(&file),
                file,
                sync_id: n.sync_id,
                model: spec.as_ref().map(|s| s.model.name.clone()),
                mode: spec.as_ref().map(|s| s.sync.mode),
                format: spec.as_ref().map(|s| s.sync.format),
                destination: spec.as_ref().map(|s| s.destination.describe()),
                schedule: n.schedule,
                next_run: n.next_run,
                last_run: n.last_run,
                last_status: last.map(|r| r.status),
                error: n.error,
            }
        })
        .collect())
}

#[tauri::command]
pub async fn list_syncs(state: State<'_, AppState>) -> ApiResult<Vec<SyncSummary>> {
    let state = state.inner().clone();
    blocking(move || list(&state)).await
}

fn load(state: &AppState, file: &str) -> ApiResult<SyncSpec> {
    Ok(SyncSpec::load(&state.paths.sync_file(file)?)?)
}

#[tauri::command]
pub async fn check_sync(state: State<'_, AppState>, file: String) -> ApiResult<CheckReport> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        Ok(dropsync::check::check(&spec, &state.paths.state_dir)?)
    })
    .await
}

#[tauri::command]
pub async fn preview_sync(
    state: State<'_, AppState>,
    file: String,
    rows: usize,
) -> ApiResult<RunReport> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        let rows = rows.clamp(1, PREVIEW_ROWS_MAX);
        Ok(dropsync::preview(
            &spec,
            &state.paths.state_dir,
            rows,
            &RunOptions::default(),
        )?)
    })
    .await
}

#[tauri::command]
pub async fn sync_history(
    state: State<'_, AppState>,
    file: String,
    limit: usize,
) -> ApiResult<Vec<RunReport>> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        let id = &spec.sync.id;
        if !dropsync::store::exists(&state.paths.state_dir, id) {
            return Ok(Vec::new());
        }
        let store = dropsync::store::SyncStore::open(&state.paths.state_dir, id)?;
        let mut runs = dropsync::history::list(&store, id, limit.clamp(1, HISTORY_MAX))?;
        // A run's error was worded when it ran (by the CLI, the daemon or
        // the app); History shows its fix in the app's words.
        for r in &mut runs {
            if let Some(e) = r.error.as_mut() {
                *e = dropsync::hints::for_app(e);
            }
        }
        Ok(runs)
    })
    .await
}

/// What `reset_snapshot` returns.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetReport {
    /// Rows the forgotten snapshot held.
    pub rows_forgotten: u64,
}

/// Forgets a sync's snapshot (history is kept): the next run delivers every
/// row as added.
#[tauri::command]
pub async fn reset_snapshot(state: State<'_, AppState>, file: String) -> ApiResult<ResetReport> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        let mut store = dropsync::store::SyncStore::open(&state.paths.state_dir, &spec.sync.id)?;
        let rows_forgotten = dropsync::history::reset(&mut store)?;
        Ok(ResetReport { rows_forgotten })
    })
    .await
}

/// What `run-progress` events carry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunProgress {
    pub file: String,
    #[serde(flatten)]
    pub stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "stage",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Stage {
    Reading { rows: u64 },
    Comparing { partition: usize, partitions: usize },
    Writing { file_name: String },
    Delivering { bytes: u64, total: u64 },
    Committing,
}

impl From<&Progress> for Stage {
    fn from(p: &Progress) -> Self {
        match p {
            Progress::Reading { rows } => Stage::Reading { rows: *rows },
            Progress::Comparing {
                partition,
                partitions,
            } => Stage::Comparing {
                partition: *partition,
                partitions: *partitions,
            },
            Progress::Writing { file } => Stage::Writing {
                file_name: file.clone(),
            },
            Progress::Delivering { bytes, total } => Stage::Delivering {
                bytes: *bytes,
                total: *total,
            },
            Progress::Committing => Stage::Committing,
        }
    }
}

/// At most this many progress events per second within one stage.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// A run control whose progress becomes `run-progress` events, throttled
/// within a stage; a new stage is always sent.
pub fn evented_control(app: AppHandle, file: String) -> RunControl {
    let last = std::sync::Mutex::new((None::<std::mem::Discriminant<Progress>>, Instant::now()));
    RunControl::new(move |p: &Progress| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        let kind = std::mem::discriminant(p);
        let delivering_done = matches!(p, Progress::Delivering { bytes, total } if bytes == total);
        if last.0 == Some(kind) && last.1.elapsed() < PROGRESS_INTERVAL && !delivering_done {
            return;
        }
        *last = (Some(kind), Instant::now());
        let _ = app.emit(
            "run-progress",
            RunProgress {
                file: file.clone(),
                stage: p.into(),
            },
        );
    })
}

/// Runs a sync now (with its alerts, as a scheduled run would), reporting
/// progress as `run-progress` events; `syncs-changed` follows the end.
pub async fn run_file(app: AppHandle, state: AppState, file: String) -> ApiResult<RunReport> {
    let spec = load(&state, &file)?;
    let control = Arc::new(evented_control(app.clone(), file.clone()));
    if !state.start_run(&file, control.clone()) {
        return Err(ApiError::new(
            Code::Busy,
            format!("{file} is already running. Wait for that run to finish"),
        ));
    }
    let _ = app.emit("syncs-changed", ());
    let st = state.clone();
    let f = file.clone();
    let result = blocking(move || {
        let r = dropsync::alerting::run_and_alert(
            &spec,
            &st.paths.state_dir,
            &RunOptions::default(),
            &control,
        );
        st.end_run(&f);
        Ok(r?)
    })
    .await;
    state.end_run(&file);
    let _ = app.emit("syncs-changed", ());
    result
}

#[tauri::command]
pub async fn run_sync(
    app: AppHandle,
    state: State<'_, AppState>,
    file: String,
) -> ApiResult<RunReport> {
    run_file(app, state.inner().clone(), file).await
}

/// Asks a run started from the app to stop; false when none is running.
#[tauri::command]
pub fn cancel_run(state: State<'_, AppState>, file: String) -> bool {
    state.cancel_run(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_events_are_tagged_by_stage() {
        let e = RunProgress {
            file: "a.toml".into(),
            stage: (&Progress::Delivering {
                bytes: 5,
                total: 10,
            })
                .into(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"file": "a.toml", "stage": "delivering", "bytes": 5, "total": 10})
        );
        let v = serde_json::to_value(Stage::from(&Progress::Writing {
            file: "x.csv".into(),
        }))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"stage": "writing", "fileName": "x.csv"})
        );
    }
}
