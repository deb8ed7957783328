//! Live feedback while a sync is edited: the first problem, the resolved
//! filename, the files a run would write, the model's columns, the mapped
//! header and the next runs. Each part is worked out on its own, so a typo
//! in the schedule does not hide the filename, and nothing reads rows.

use crate::check::ColumnInfo;
use crate::config::{DestinationSpec, SyncDraft, SyncSpec};
use crate::error::Error;
use crate::filename::{FilenameTemplate, NameContext};
use crate::mapping::Mapping;
use crate::run::planned_files;
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The key as the file names it, e.g. `[sync] filename`; empty when the
    /// problem is not one key's (a TOML syntax error, say).
    pub field: String,
    pub message: String,
}

impl From<Error> for FieldError {
    fn from(e: Error) -> Self {
        match e {
            Error::Field { field, message, .. } => FieldError { field, message },
            Error::Config { message, .. } => FieldError {
                field: String::new(),
                message,
            },
            other => FieldError {
                field: String::new(),
                message: other.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ResolvedName {
    pub resolved: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftInspection {
    /// The first problem that stops the file from loading.
    pub error: Option<FieldError>,
    pub filename: ResolvedName,
    pub files: Vec<String>,
    pub model_columns: Option<Vec<ColumnInfo>>,
    pub model_error: Option<String>,
    pub header: Option<Vec<String>>,
    pub header_error: Option<String>,
    pub next_runs: Vec<DateTime<Utc>>,
    pub schedule_error: Option<String>,
    /// Why a run could not deliver now, though the file is valid: a local
    /// folder that does not exist, or no Dropbox account to deliver with.
    pub destination_error: Option<String>,
    /// The local folder that is missing (absolute), for "Create folder".
    pub missing_folder: Option<std::path::PathBuf>,
    /// Alert channels that could not send now (a missing `env:` variable,
    /// say). They do not stop saving: a run still succeeds without them.
    pub alert_problems: Vec<String>,
}

/// Inspects `draft` as if it were the file `file`; `next_run_id` fills
/// `{sync.run.id}`; `state_dir` holds the connected Dropbox accounts.
pub fn inspect(
    draft: &SyncDraft,
    file: &Path,
    state_dir: &Path,
    now: DateTime<Utc>,
    next_run_id: i64,
) -> DraftInspection {
    let mut out = DraftInspection::default();
    let spec = SyncSpec::from_draft(draft, file);
    if let Ok(spec) = &spec {
        out.alert_problems = crate::alerts::validate(&spec.alerts);
        match &spec.destination {
            DestinationSpec::Folder { path } if !path.is_dir() => {
                out.destination_error = Some(format!(
                    "the folder {} does not exist; create it, or runs will fail",
                    path.display()
                ));
                out.missing_folder = Some(path.clone());
            }
            DestinationSpec::Dropbox { account, .. } => {
                out.destination_error =
                    crate::dropbox::accounts::usable(state_dir, account.as_deref())
                        .err()
                        .map(|e| e.to_string());
            }
            _ => {}
        }
    }
    out.error = spec.err().map(FieldError::from);

    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sync".into());
    let model_id = draft.model.id.clone().unwrap_or_else(|| stem.clone());
    let sync_id = draft.sync.id.clone().unwrap_or(stem);
    let format_ext = match draft.sync.format.as_deref() {
        Some("json") => "json",
        Some("ndjson") => "ndjson",
        _ => "csv",
    };
    let template = draft.sync.filename.clone().unwrap_or_else(|| {
        format!("{{model.name}}-{{YYYY}}{{MM}}{{DD}}-{{HH}}{{mm}}{{ss}}.{format_ext}")
    });
    let resolved = FilenameTemplate::parse(&template).and_then(|t| {
        t.resolve(&NameContext {
            started_at: now,
            offset_seconds: draft.sync.filename_offset,
            model_id: &model_id,
            model_name: &draft.model.name,
            sync_id: &sync_id,
            run_id: &next_run_id.to_string(),
        })
    });
    match resolved {
        Ok(name) => {
            let mode = match draft.sync.mode.as_str() {
                "insert" => crate::config::Mode::Insert,
                "diff" => crate::config::Mode::Diff,
                _ => crate::config::Mode::All,
            };
            out.files = planned_files(mode, &name)
                .into_iter()
                .map(|(_, p)| p)
                .collect();
            out.filename.resolved = Some(name);
        }
        Err(e) => out.filename.error = Some(e.to_string()),
    }

    match Schedule::parse(
        draft.sync.schedule.as_deref().unwrap_or("manual"),
        draft.sync.schedule_start.as_deref(),
    ) {
        Ok(s) => out.next_runs = s.upcoming(now, 3),
        Err(e) => out.schedule_error = Some(e),
    }

    // The model and mapping, apart from the parts shown above: the same
    // draft with a plain filename, schedule and destination and no alerts.
    let mut core = draft.clone();
    core.sync.filename = Some(format!("probe.{format_ext}"));
    core.sync.filename_offset = 0;
    core.sync.schedule = None;
    core.sync.schedule_start = None;
    core.destination = crate::config::DestinationDraft {
        kind: "folder".into(),
        path: ".".into(),
        account: None,
    };
    core.alerts.clear();
    core.alert_when = None;
    let columns_only = {
        let mut c = core.clone();
        c.sync.columns = None;
        c
    };
    match SyncSpec::from_draft(&columns_only, file)
        .and_then(|spec| crate::source::open(&spec.source, &spec.model))
    {
        Ok(src) => {
            let columns = src.columns().to_vec();
            out.model_columns = Some(
                columns
                    .iter()
                    .map(|c| ColumnInfo {
                        name: c.name.clone(),
                        declared_type: c.declared_type.clone(),
                        observed_type: "unknown".into(),
                    })
                    .collect(),
            );
            match SyncSpec::from_draft(&core, file)
                .and_then(|spec| Mapping::compile(&columns, spec.sync.columns.as_deref()))
            {
                Ok(m) => out.header = Some(m.output().to_vec()),
                Err(e) => {
                    let f = FieldError::from(e);
                    out.header_error = Some(if f.field.is_empty() {
                        f.message
                    } else {
                        format!("{}: {}", f.field, f.message)
                    });
                }
            }
        }
        Err(e) => out.model_error = Some(e.to_string()),
    }
    out
}
