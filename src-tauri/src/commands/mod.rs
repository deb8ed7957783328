//! The commands the UI calls: thin wrappers over the core. Blocking core
//! work runs on tauri's blocking pool, never on the IPC thread.

pub mod dropbox;
pub mod editor;

use crate::api::{ApiError, ApiResult, AppCode, Code};
use crate::AppState;
use chrono::Utc;
use dropsync::check::CheckReport;
use dropsync::history::RunReport;
use dropsync::run::RunOptions;
use dropsync::workspace::SyncSummary;
use dropsync::ErrorCode;
use dropsync::SyncSpec;
use serde::Serialize;
use std::path::PathBuf;
use tauri::{AppHandle, Manager, State};

/// Rows per file a preview shows.
const PREVIEW_ROWS_MAX: usize = 500;
/// Runs a history request returns at most.
const HISTORY_MAX: usize = 500;

/// Runs blocking core work off the IPC thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| {
        ApiError::new(
            Code::Core(ErrorCode::Internal),
            format!("the task failed: {e}"),
        )
    })?
}

#[derive(Debug, Serialize, specta::Type)]
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
#[specta::specta]
pub fn open_workspace_folder(app: AppHandle, state: State<'_, AppState>) -> ApiResult<()> {
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_path(state.paths.workspace.to_string_lossy(), None::<&str>)
        .map_err(|e| {
            ApiError::new(
                Code::Core(ErrorCode::Io),
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
#[specta::specta]
pub fn choose_workspace(app: AppHandle, path: PathBuf) -> ApiResult<()> {
    if std::env::var_os(dropsync::env_vars::WORKSPACE).is_some_and(|v| !v.is_empty()) {
        return Err(ApiError::new(
            Code::App(AppCode::InvalidArgument),
            "DROPSYNC_WORKSPACE is set for this app, so it decides the workspace; unset it to choose one here",
        ));
    }
    let config = app.path().app_config_dir().map_err(|e| {
        ApiError::new(
            Code::Core(ErrorCode::Io),
            format!("no config folder for the app: {e}"),
        )
    })?;
    crate::workspace::choose_workspace(&config, &path)?;
    tracing::info!(workspace = %path.display(), "workspace chosen; restarting");
    app.restart()
}

#[tauri::command]
#[specta::specta]
pub fn workspace_info(state: State<'_, AppState>) -> WorkspaceInfo {
    WorkspaceInfo {
        workspace: state.paths.workspace.clone(),
        state_dir: state.paths.state_dir.clone(),
        demo_created: state.demo_created,
        startup_error: state.startup_error.clone(),
    }
}

pub fn list(state: &AppState) -> ApiResult<Vec<SyncSummary>> {
    state.ws.summaries(Utc::now()).map_err(|e| {
        ApiError::new(
            Code::Core(ErrorCode::Io),
            format!(
                "cannot read the workspace {}: {e}",
                state.paths.workspace.display()
            ),
        )
    })
}

#[tauri::command]
#[specta::specta]
pub async fn list_syncs(state: State<'_, AppState>) -> ApiResult<Vec<SyncSummary>> {
    let state = state.inner().clone();
    blocking(move || list(&state)).await
}

fn load(state: &AppState, file: &str) -> ApiResult<SyncSpec> {
    Ok(SyncSpec::load(&state.paths.sync_file(file)?)?)
}

#[tauri::command]
#[specta::specta]
pub async fn check_sync(state: State<'_, AppState>, file: String) -> ApiResult<CheckReport> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        Ok(state.ws.check(&spec)?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn preview_sync(
    state: State<'_, AppState>,
    file: String,
    rows: usize,
) -> ApiResult<RunReport> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        let rows = rows.clamp(1, PREVIEW_ROWS_MAX);
        Ok(state.ws.preview(&spec, rows, &RunOptions::default())?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn sync_history(
    state: State<'_, AppState>,
    file: String,
    limit: usize,
) -> ApiResult<Vec<RunReport>> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        let mut runs = state.ws.history(&spec, limit.clamp(1, HISTORY_MAX))?;
        runs.iter_mut().for_each(in_app_words);
        Ok(runs)
    })
    .await
}

/// What `reset_snapshot` returns.
#[derive(Debug, Serialize, specta::Type)]
pub struct ResetReport {
    /// Rows the forgotten snapshot held.
    pub rows_forgotten: u64,
    /// `mark_delivered`: the rows now taken as delivered.
    pub rows_marked: u64,
}

/// Forgets a sync's snapshot (history is kept): the next run delivers every
/// row as added. With `mark_delivered`, takes the model's current result as
/// delivered instead (a run that writes no file), so nothing is resent.
#[tauri::command]
#[specta::specta]
pub async fn reset_snapshot(
    state: State<'_, AppState>,
    file: String,
    mark_delivered: bool,
) -> ApiResult<ResetReport> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = load(&state, &file)?;
        if mark_delivered {
            let mut run = state.ws.mark_delivered(&spec)?;
            if run.status != dropsync::history::RunStatus::Success {
                in_app_words(&mut run);
                return Err(ApiError::new(
                    Code::Core(run.error_code.unwrap_or(ErrorCode::Internal)),
                    run.error.unwrap_or_default(),
                ));
            }
            return Ok(ResetReport {
                rows_forgotten: 0,
                rows_marked: run.rows.queried,
            });
        }
        let rows_forgotten = state.ws.reset(&spec)?;
        Ok(ResetReport {
            rows_forgotten,
            rows_marked: 0,
        })
    })
    .await
}

/// Runs a sync now, as a workspace job (with its alerts, as a scheduled
/// run would): its progress and end reach the UI as events (`events.rs`).
pub async fn run_file(state: AppState, file: String) -> ApiResult<RunReport> {
    let spec = load(&state, &file)?;
    blocking(move || {
        let mut report = state.ws.run(&spec, &RunOptions::default())?;
        in_app_words(&mut report);
        Ok(report)
    })
    .await
}

/// A run's error is worded by the core for the command line (by whoever
/// ran it: the CLI, the daemon or the app); the app shows its fix in the
/// app's words (a screen, never a command to type).
pub fn in_app_words(report: &mut RunReport) {
    if let Some(e) = report.error.as_mut() {
        *e = dropsync::hints::for_app(e);
    }
}

#[tauri::command]
#[specta::specta]
pub async fn run_sync(state: State<'_, AppState>, file: String) -> ApiResult<RunReport> {
    run_file(state.inner().clone(), file).await
}

/// Asks a run started from the app to stop; false when none is running.
#[tauri::command]
#[specta::specta]
pub fn cancel_run(state: State<'_, AppState>, file: String) -> bool {
    state.ws.cancel(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_runs_fix_is_worded_for_the_app() {
        let spec_err = dropsync::Error::Query {
            message: "the model's query failed: no such table: ghosts".into(),
        };
        let cli = format!("{spec_err}. {}", dropsync::hints::FIX_SQL.cli);
        let mut report = RunReport {
            run_id: 1,
            sync_id: "s".into(),
            mode: dropsync::config::Mode::All,
            status: dropsync::history::RunStatus::Failed,
            started_at: Utc::now(),
            finished_at: None,
            rows: Default::default(),
            files: Vec::new(),
            error: Some(cli),
            error_code: Some(dropsync::ErrorCode::Query),
            alerts: Vec::new(),
            retention: None,
        };
        in_app_words(&mut report);
        let error = report.error.unwrap();
        assert!(!error.contains("dropsync check"), "{error}");
        assert!(error.contains(dropsync::hints::FIX_SQL.app), "{error}");
    }
}
