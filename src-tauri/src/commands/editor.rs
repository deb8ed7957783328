//! Commands of the editors: sync drafts (load, live inspection, save,
//! delete, test alert), sources and models (test, probe, key check).
//! Everything is decided by the core; these only find files and adapt types.

use super::blocking;
use crate::api::{ApiError, ApiResult, AppCode, Code};
use crate::AppState;
use dropsync::config::{
    DestinationDraft, KeyDraft, ModelDraft, SourceDraft, SyncDraft, SyncSettingsDraft,
};
use dropsync::history::AlertDelivery;
use dropsync::inspect::{DraftInspection, FieldError};
use dropsync::probe::{KeyCheck, ModelProbe, SourceTest};
use dropsync::ErrorCode;
use dropsync::SyncSpec;
use serde::Serialize;
use std::path::{Component, Path, PathBuf};
use tauri::{AppHandle, State};
use tauri_specta::Event as _;

/// JSON `null` means "not set"; TOML has no null, so drop such keys.
fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// A draft as the UI sends it: typed as a `SyncDraft` in the generated
/// bindings, but taken as JSON so that an incomplete draft (the editor sends
/// one on every keystroke) is an inspection's message, not an IPC error.
#[derive(Debug, serde::Deserialize, specta::Type)]
#[serde(transparent)]
pub struct DraftJson(#[specta(type = SyncDraft)] serde_json::Value);

fn draft_from_json(DraftJson(mut v): DraftJson) -> Result<SyncDraft, FieldError> {
    strip_nulls(&mut v);
    serde_json::from_value(v).map_err(|e| FieldError {
        field: String::new(),
        message: format!("the sync is incomplete: {e}"),
    })
}

fn invalid(e: FieldError) -> ApiError {
    let message = if e.field.is_empty() {
        e.message
    } else {
        format!("{}: {}", e.field, e.message)
    };
    ApiError::new(Code::Core(ErrorCode::Config), message)
}

/// The file a draft is validated as: the file being edited, else the one
/// it would be saved as.
fn draft_path(state: &AppState, draft: &SyncDraft, file: Option<&str>) -> ApiResult<PathBuf> {
    match file {
        Some(f) => state.paths.sync_path(f),
        None => Ok(match &draft.sync.id {
            Some(id) if !id.is_empty() => state
                .paths
                .sync_path(&format!("{id}.toml"))
                .unwrap_or_else(|_| state.paths.unsaved()),
            _ => state.paths.unsaved(),
        }),
    }
}

/// A new sync: the demo database when the workspace has it, to a local
/// folder, all rows as CSV, run by hand; an id no file uses yet.
#[tauri::command]
#[specta::specta]
pub fn new_draft(state: State<'_, AppState>) -> SyncDraft {
    let ws = &state.paths.workspace;
    let demo = ws.join("shop.db").is_file();
    let id = (1..)
        .map(|n| match n {
            1 => "new-sync".to_string(),
            n => format!("new-sync-{n}"),
        })
        .find(|id| !ws.join(format!("{id}.toml")).exists())
        .unwrap_or_default();
    SyncDraft {
        // Built from its file form, so new optional keys need no change here.
        source: serde_json::from_value(serde_json::json!({
            "type": "sqlite",
            "path": if demo { "shop.db" } else { "" },
        }))
        .expect("a sqlite source table"),
        model: ModelDraft {
            id: None,
            name: if demo {
                "Customers".into()
            } else {
                "New model".into()
            },
            sql: Some(if demo {
                "SELECT * FROM customers".into()
            } else {
                String::new()
            }),
            primary_key: KeyDraft::One("id".into()),
        },
        destination: DestinationDraft {
            kind: "folder".into(),
            path: crate::workspace::default_output_folder()
                .to_string_lossy()
                .into_owned(),
            account: None,
        },
        sync: SyncSettingsDraft {
            id: Some(id),
            mode: "all".into(),
            format: Some("csv".into()),
            compression: None,
            parquet_compression: None,
            max_rows_per_file: None,
            max_bytes_per_file: None,
            filename: None,
            filename_offset: 0,
            manifest: None,
            diff_engine: None,
            retention: None,
            skip_empty_files: false,
            csv: None,
            columns: None,
            schedule: None,
            schedule_start: None,
        },
        alerts: vec![],
        alert_when: None,
    }
}

#[tauri::command]
#[specta::specta]
pub async fn load_draft(state: State<'_, AppState>, file: String) -> ApiResult<SyncDraft> {
    let path = state.paths.sync_file(&file)?;
    blocking(move || Ok(SyncDraft::load(&path)?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn inspect_draft(
    state: State<'_, AppState>,
    draft: DraftJson,
    file: Option<String>,
) -> ApiResult<DraftInspection> {
    let state = state.inner().clone();
    blocking(move || {
        let draft = match draft_from_json(draft) {
            Ok(d) => d,
            Err(e) => {
                return Ok(DraftInspection {
                    error: Some(e),
                    ..Default::default()
                })
            }
        };
        let path = draft_path(&state, &draft, file.as_deref())?;
        let sync_id = draft.sync.id.clone().unwrap_or_default();
        let next_run_id = dropsync::history::last_run(&state.paths.state_dir, &sync_id)
            .map_or(1, |r| r.run_id + 1);
        Ok(in_app_words(dropsync::inspect::inspect(
            &draft,
            &path,
            &state.paths.state_dir,
            chrono::Utc::now(),
            next_run_id,
        )))
    })
    .await
}

/// The inspection's messages with their fixes in the app's words.
fn in_app_words(mut i: DraftInspection) -> DraftInspection {
    let app = |m: &mut Option<String>| {
        if let Some(m) = m.as_mut() {
            *m = dropsync::hints::for_app(m);
        }
    };
    if let Some(e) = i.error.as_mut() {
        e.message = dropsync::hints::for_app(&e.message);
    }
    app(&mut i.model_error);
    app(&mut i.header_error);
    app(&mut i.destination_error);
    for sample in &mut i.template_samples {
        app(&mut sample.error);
    }
    i
}

/// Writes the draft: over `file` when editing, else as `<sync.id>.toml`,
/// never over another sync. Returns the file name.
#[tauri::command]
#[specta::specta]
pub async fn save_draft(
    app: AppHandle,
    state: State<'_, AppState>,
    draft: DraftJson,
    file: Option<String>,
) -> ApiResult<String> {
    let state = state.inner().clone();
    let name = blocking(move || {
        let draft = draft_from_json(draft).map_err(invalid)?;
        let name = match file {
            Some(f) => {
                state.paths.sync_file(&f)?;
                f
            }
            None => {
                let id = draft
                    .sync
                    .id
                    .clone()
                    .filter(|id| !id.trim().is_empty())
                    .ok_or_else(|| {
                        ApiError::new(
                            Code::Core(ErrorCode::Config),
                            "[sync] id: give the sync an id; its file is named after it",
                        )
                    })?;
                let name = format!("{id}.toml");
                if state.paths.sync_path(&name)?.exists() {
                    return Err(ApiError::new(
                        Code::Core(ErrorCode::Config),
                        format!("[sync] id: a sync file {name} already exists; choose another id"),
                    ));
                }
                name
            }
        };
        let path = state.paths.sync_path(&name)?;
        draft
            .save(&path)
            .map_err(|e| invalid(FieldError::from(e)))?;
        tracing::info!(file = %name, "sync saved");
        Ok(name)
    })
    .await?;
    let _ = crate::events::SyncsChanged.emit(&app);
    Ok(name)
}

/// Removes the sync file. Its history and snapshot stay in the state
/// folder, so a sync saved again under the same id carries on from them.
#[tauri::command]
#[specta::specta]
pub async fn delete_sync(
    app: AppHandle,
    state: State<'_, AppState>,
    file: String,
) -> ApiResult<()> {
    let path = state.paths.sync_file(&file)?;
    if state.ws.running().contains(&file) {
        return Err(ApiError::new(
            Code::Core(ErrorCode::Busy),
            format!("{file} is running; cancel the run or wait for it to end, then delete"),
        ));
    }
    std::fs::remove_file(&path).map_err(|e| {
        ApiError::new(
            Code::Core(ErrorCode::Io),
            format!("cannot delete {}: {e}", path.display()),
        )
    })?;
    tracing::info!(file = %file, "sync deleted");
    let _ = crate::events::SyncsChanged.emit(&app);
    Ok(())
}

/// Creates a local destination folder (and its parents): the editor's
/// answer to "the folder does not exist". Relative paths resolve against
/// the workspace, as in a sync file.
#[tauri::command]
#[specta::specta]
pub async fn create_local_folder(state: State<'_, AppState>, path: String) -> ApiResult<PathBuf> {
    let state = state.inner().clone();
    blocking(move || {
        if path.trim().is_empty() {
            return Err(ApiError::new(
                Code::App(AppCode::InvalidArgument),
                "name the folder to create",
            ));
        }
        let dir = state.paths.workspace.join(path.trim());
        std::fs::create_dir_all(&dir).map_err(|e| {
            ApiError::new(
                Code::Core(ErrorCode::Io),
                format!("cannot create the folder {}: {e}", dir.display()),
            )
        })?;
        tracing::info!(dir = %dir.display(), "destination folder created");
        Ok(dir)
    })
    .await
}

/// Sends a test message through alert `index` (from 0) of the draft.
#[tauri::command]
#[specta::specta]
pub async fn test_alert(
    state: State<'_, AppState>,
    draft: DraftJson,
    index: usize,
) -> ApiResult<Vec<AlertDelivery>> {
    let state = state.inner().clone();
    blocking(move || {
        let mut draft = draft_from_json(draft).map_err(invalid)?;
        if index >= draft.alerts.len() {
            return Err(ApiError::new(
                Code::App(AppCode::InvalidArgument),
                format!("there is no alert #{}", index + 1),
            ));
        }
        draft.alerts = vec![draft.alerts.swap_remove(index)];
        let path = draft_path(&state, &draft, None)?;
        let spec = SyncSpec::from_draft(&draft, &path).map_err(|e| invalid(e.into()))?;
        Ok(dropsync::alerting::send_test(
            &spec,
            &state.paths.state_dir,
        )?)
    })
    .await
}

fn source_spec(state: &AppState, source: &SourceDraft) -> ApiResult<dropsync::config::SourceSpec> {
    let spec = source
        .resolve(&state.paths.unsaved())
        .map_err(|e| invalid(e.into()))?;
    outside_state_dir(&spec, &state.paths.state_dir)?;
    Ok(spec)
}

/// Refuses a source whose file (SQLite, CSV, or a server's `sslrootcert`)
/// is inside the state folder: it holds tokens, snapshots and history, and
/// the editor's commands answer with what they read (tables, rows, errors).
/// Paths are compared as the file system resolves them (symlinks, `..`).
fn outside_state_dir(spec: &dropsync::config::SourceSpec, state_dir: &Path) -> ApiResult<()> {
    use dropsync::config::SourceSpec;
    let files: Vec<&Path> = match spec {
        SourceSpec::Sqlite { path } | SourceSpec::Csv { path, .. } => vec![path.as_path()],
        SourceSpec::Postgres(db) | SourceSpec::Mysql(db) => {
            db.ca_file.iter().map(|p| p.as_path()).collect()
        }
    };
    let state = real_path(state_dir);
    for file in files {
        if real_path(file).starts_with(&state) {
            return Err(ApiError::new(
                Code::App(AppCode::InvalidArgument),
                format!(
                    "{} is inside Dropsync's state folder ({}), which holds credentials, snapshots and history; a source cannot read it. Choose a database or CSV file elsewhere",
                    file.display(),
                    state_dir.display()
                ),
            ));
        }
    }
    Ok(())
}

/// `path` with symlinks and `..` resolved as far as it exists; the rest
/// (a file not created yet) is appended with `..` applied to it.
fn real_path(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut tail = Vec::new();
    let mut head = absolute.as_path();
    loop {
        if let Ok(real) = head.canonicalize() {
            let mut out = real;
            for c in tail.into_iter().rev() {
                match c {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::Normal(name) => out.push(name),
                    _ => {}
                }
            }
            return out;
        }
        match (head.parent(), head.components().next_back()) {
            (Some(parent), Some(last)) => {
                tail.push(last);
                head = parent;
            }
            _ => return absolute,
        }
    }
}

/// Opens the source and says what it holds; a source that does not open
/// is an answer (`ok: false`), shown next to the Test button.
#[tauri::command]
#[specta::specta]
pub async fn test_source(state: State<'_, AppState>, source: SourceDraft) -> ApiResult<SourceTest> {
    let state = state.inner().clone();
    blocking(move || {
        let outcome =
            source_spec(&state, &source).and_then(|spec| Ok(dropsync::probe::test_source(&spec)?));
        Ok(outcome.unwrap_or_else(|e| SourceTest {
            ok: false,
            message: e.message,
            tables: vec![],
        }))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn probe_model(
    state: State<'_, AppState>,
    source: SourceDraft,
    sql: Option<String>,
    limit: usize,
) -> ApiResult<ModelProbe> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = source_spec(&state, &source)?;
        Ok(dropsync::probe::probe(&spec, sql.as_deref(), limit)?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn check_primary_key(
    state: State<'_, AppState>,
    source: SourceDraft,
    sql: Option<String>,
    primary_key: Vec<String>,
) -> ApiResult<KeyCheck> {
    let state = state.inner().clone();
    blocking(move || {
        let spec = source_spec(&state, &source)?;
        Ok(dropsync::probe::check_key(
            &spec,
            sql.as_deref(),
            &primary_key,
        )?)
    })
    .await
}

/// A model as a sync file of the workspace holds it.
#[derive(Debug, Serialize, specta::Type)]
pub struct WorkspaceModel {
    pub file: String,
    pub sync_id: Option<String>,
    pub source: SourceDraft,
    pub model: ModelDraft,
}

/// The models of every sync file that loads (broken files are listed, with
/// their error, by `list_syncs`).
#[tauri::command]
#[specta::specta]
pub async fn workspace_models(state: State<'_, AppState>) -> ApiResult<Vec<WorkspaceModel>> {
    let state = state.inner().clone();
    blocking(move || {
        let files = state.ws.sync_files().map_err(|e| {
            ApiError::new(
                Code::Core(ErrorCode::Io),
                format!(
                    "cannot read the workspace {}: {e}",
                    state.paths.workspace.display()
                ),
            )
        })?;
        Ok(files
            .into_iter()
            .filter_map(|path| {
                let draft = SyncDraft::load(&path).ok()?;
                Some(WorkspaceModel {
                    file: path.file_name()?.to_string_lossy().into_owned(),
                    sync_id: draft
                        .sync
                        .id
                        .clone()
                        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned())),
                    source: draft.source,
                    model: draft.model,
                })
            })
            .collect())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_from_the_ui_mean_not_set() {
        let v = serde_json::json!({
            "source": {"type": "sqlite", "path": "shop.db", "delimiter": null},
            "model": {"name": "M", "sql": "SELECT 1 AS id", "primary_key": "id", "id": null},
            "destination": {"type": "folder", "path": "out", "account": null},
            "sync": {"mode": "all", "columns": [{"from": "id", "to": null}], "csv": null},
            "alerts": []
        });
        let d = draft_from_json(DraftJson(v)).unwrap();
        assert_eq!(d.source.delimiter, None);
        assert_eq!(d.sync.columns.unwrap()[0].to, None);
    }

    #[test]
    fn a_source_inside_the_state_folder_is_refused() {
        use dropsync::config::SourceSpec;
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        std::fs::create_dir_all(state.join("dropbox")).unwrap();
        std::fs::write(state.join("dropbox/dbid_x.token"), "rt-secret").unwrap();
        let work = tmp.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        std::os::unix::fs::symlink(&state, work.join("link")).unwrap();
        let refused = [
            SourceSpec::Sqlite {
                path: state.join("dropbox/dbid_x.token"),
            },
            SourceSpec::Csv {
                path: work.join("../state/dropbox/dbid_x.token"),
                delimiter: b',',
                header: true,
            },
            // Through a symlink, and a file that does not exist yet.
            SourceSpec::Csv {
                path: work.join("link/dropbox/dbid_x.token"),
                delimiter: b',',
                header: true,
            },
            SourceSpec::Sqlite {
                path: work.join("link/new/../snapshots.db"),
            },
        ];
        for spec in &refused {
            let e = outside_state_dir(spec, &state).unwrap_err();
            assert!(e.message.contains("state folder"), "{}", e.message);
            assert!(!e.message.contains("rt-secret"), "{}", e.message);
        }
        std::fs::write(work.join("shop.db"), "").unwrap();
        let fine = SourceSpec::Sqlite {
            path: work.join("shop.db"),
        };
        outside_state_dir(&fine, &state).unwrap();
        // A sibling whose name only starts like the state folder is fine.
        let sibling = tmp.path().join("state-other.db");
        outside_state_dir(&SourceSpec::Sqlite { path: sibling }, &state).unwrap();
    }

    #[test]
    fn an_incomplete_draft_is_a_field_error_not_a_panic() {
        let e = draft_from_json(DraftJson(serde_json::json!({"source": {}}))).unwrap_err();
        assert!(e.message.contains("incomplete"), "{}", e.message);
    }
}
