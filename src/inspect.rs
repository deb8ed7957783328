//! Live feedback while a sync is edited: the first problem, the resolved
//! filename, the files a run would write, the model's columns, the mapped
//! header and the next runs. Each part is worked out on its own, so a typo
//! in the schedule does not hide the filename, and nothing reads rows.

use crate::check::ColumnInfo;
use crate::config::{DestinationSpec, Format, Mode, SyncDraft, SyncSpec};
use crate::error::Error;
use crate::filename::{FilenameTemplate, NameContext};
use crate::mapping::{Mapping, MappingContext};
use crate::run::shown_files;
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResolvedName {
    pub resolved: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    /// Insert/Diff mode: two runs of the schedule (or two manual runs close
    /// together) resolve the filename to the same path, so the later run
    /// overwrites the earlier one's changes. A warning: it does not stop saving.
    pub overwrite_warning: Option<String>,
    /// Filenames that avoid the overwrite, for one-click fixes.
    pub overwrite_fixes: Vec<FilenameFix>,
    /// The filename's extension does not match the format (`.xlsx` with CSV).
    pub extension_warning: Option<String>,
    /// Each template column's value for the model's first rows (at most
    /// [`TEMPLATE_SAMPLE_ROWS`]), for the column mapper. Empty when no
    /// column is a template or the mapping does not compile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub template_samples: Vec<TemplateSample>,
}

/// Rows a template column's preview renders.
pub const TEMPLATE_SAMPLE_ROWS: usize = 3;

/// A template column's value for the first rows of the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TemplateSample {
    /// The column's position among `[[sync.columns]]`, from 0.
    pub index: u32,
    /// One per row, in order, until a row fails; `None` for NULL.
    pub values: Vec<Option<String>>,
    /// Why the next row did not render or convert (the run would fail so).
    pub error: Option<String>,
}

/// A filename template that fixes a warning, and what it adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FilenameFix {
    /// What is added before the extension, e.g. `{HH}{mm}`.
    pub adds: String,
    /// The whole template with it added.
    pub template: String,
}

/// The fixed parts of a name: what does not change from run to run.
#[derive(Debug, Clone, Copy)]
pub struct NameIds<'a> {
    pub offset_seconds: i64,
    pub model_id: &'a str,
    pub model_name: &'a str,
    pub sync_id: &'a str,
}

/// How many scheduled runs are resolved to look for a repeated name.
const RUNS_COMPARED: usize = 24;

/// Where two consecutive runs get the same name.
enum Repeat {
    Scheduled {
        first: DateTime<Utc>,
        second: DateTime<Utc>,
        name: String,
    },
    /// A manual sync: two runs pressed within the same `unit` collide.
    Manual {
        unit: Option<&'static str>,
        name: String,
    },
}

fn first_repeat(
    template: &FilenameTemplate,
    schedule: &Schedule,
    ids: &NameIds<'_>,
    now: DateTime<Utc>,
    next_run_id: i64,
) -> Option<Repeat> {
    let resolve = |at: DateTime<Utc>, run: i64| {
        template
            .resolve(&NameContext {
                started_at: at,
                offset_seconds: ids.offset_seconds,
                model_id: ids.model_id,
                model_name: ids.model_name,
                sync_id: ids.sync_id,
                run_id: &run.to_string(),
            })
            .ok()
    };
    if schedule.is_manual() {
        // No times to compare: a person may well press Run twice within a
        // few minutes (to try a fix, say). Names that tell minutes (or runs)
        // apart are safe; anything coarser collides within its unit.
        if ["mm", "ss", "ms", "X", "x", "sync.run.id"]
            .iter()
            .any(|v| template.uses(v))
        {
            return None;
        }
        let unit = [
            ("HH", "hour"),
            ("DD", "day"),
            ("MM", "month"),
            ("YY", "year"),
            ("YYYY", "year"),
        ]
        .iter()
        .find(|(v, _)| template.uses(v))
        .map(|(_, u)| *u);
        return Some(Repeat::Manual {
            unit,
            name: resolve(now, next_run_id)?,
        });
    }
    let runs = schedule.upcoming(now, RUNS_COMPARED);
    let names: Vec<Option<String>> = runs
        .iter()
        .zip(next_run_id..)
        .map(|(at, id)| resolve(*at, id))
        .collect();
    (1..runs.len()).find_map(|i| match (&names[i - 1], &names[i]) {
        (Some(a), Some(b)) if a == b => Some(Repeat::Scheduled {
            first: runs[i - 1],
            second: runs[i],
            name: a.clone(),
        }),
        _ => None,
    })
}

/// `{YYYY}-{MM}.csv` + `{HH}{mm}` -> `{YYYY}-{MM}_{HH}{mm}.csv`: before the
/// extension of the last path component, outside any variable.
fn add_before_extension(template: &str, add: &str) -> String {
    let mut depth = 0usize;
    let (mut name_start, mut dot) = (0, None);
    for (i, c) in template.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                name_start = i + 1;
                dot = None;
            }
            '.' if depth == 0 && i > name_start => dot = Some(i),
            _ => {}
        }
    }
    match dot {
        Some(d) => format!("{}_{add}{}", &template[..d], &template[d..]),
        None => format!("{template}_{add}"),
    }
}

fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::All => "All",
        Mode::Insert => "Insert",
        Mode::Diff => "Diff",
    }
}

/// In Insert and Diff mode each run's file holds only that run's changes:
/// a name that repeats from one run to the next loses the earlier run's
/// changes. All mode rewrites every row each run, so a repeated name is the
/// point there. Returns the warning and the templates that avoid it.
pub fn overwrite_warning(
    template: &FilenameTemplate,
    schedule: &Schedule,
    mode: Mode,
    ids: &NameIds<'_>,
    now: DateTime<Utc>,
    next_run_id: i64,
) -> Option<(String, Vec<FilenameFix>)> {
    if mode == Mode::All {
        return None;
    }
    let repeat = first_repeat(template, schedule, ids, now, next_run_id)?;
    let mut fixes = Vec::new();
    for adds in ["{HH}{mm}", "{HH}{mm}{ss}", "{sync.run.id}"] {
        if adds == "{HH}{mm}{ss}" && !fixes.is_empty() {
            continue;
        }
        let candidate = add_before_extension(template.as_str(), adds);
        let fixed = FilenameTemplate::parse(&candidate)
            .map(|t| first_repeat(&t, schedule, ids, now, next_run_id).is_none())
            .unwrap_or(false);
        if fixed {
            fixes.push(FilenameFix {
                adds: adds.to_string(),
                template: candidate,
            });
        }
    }
    let when = match &repeat {
        Repeat::Scheduled {
            first,
            second,
            name,
        } => format!(
            "the scheduled runs at {} and {} UTC both write `{name}`",
            first.format("%Y-%m-%d %H:%M"),
            second.format("%Y-%m-%d %H:%M")
        ),
        Repeat::Manual {
            unit: Some(unit),
            name,
        } => format!("two runs started within the same {unit} both write `{name}`"),
        Repeat::Manual { unit: None, name } => format!("every run writes `{name}`"),
    };
    let fix = if fixes.is_empty() {
        "add a variable that differs between runs, such as {sync.run.id}".to_string()
    } else {
        format!(
            "add {} to the filename",
            fixes
                .iter()
                .map(|f| f.adds.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    let message = format!(
        "the filename can repeat between runs: {when}. In {} mode each file holds only one run's changes, so the later run overwrites the earlier run's file and those changes are lost (a local folder keeps no versions); {fix} so that each run writes its own file",
        mode_label(mode)
    );
    Some((message, fixes))
}

/// A filename whose extension is not the format's: `report.xlsx` holding
/// CSV text opens badly (or not at all) in the program the name suggests.
pub fn extension_warning(resolved: &str, format: Format) -> Option<String> {
    let name = resolved.rsplit('/').next().unwrap_or(resolved);
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let ext = match name.rfind('.') {
        Some(dot) if dot > 0 => &name[dot + 1..],
        _ => return None,
    };
    let (label, accepted): (&str, &[&str]) = match format {
        Format::Csv => ("CSV", &["csv", "tsv", "txt"]),
        Format::Json => ("JSON", &["json"]),
        Format::Ndjson => ("NDJSON", &["ndjson", "jsonl"]),
        Format::Parquet => ("Parquet", &["parquet", "pq"]),
    };
    if accepted.iter().any(|a| a.eq_ignore_ascii_case(ext)) {
        return None;
    }
    Some(format!(
        "the filename ends in `.{ext}` but the format is {label}: the file will hold {label} text under a name that programs open as something else; end the filename in `.{}`, or choose the format that matches `.{ext}`",
        format.extension()
    ))
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
        Some("parquet") => "parquet",
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
    let mode = match draft.sync.mode.as_str() {
        "insert" => Mode::Insert,
        "diff" => Mode::Diff,
        _ => Mode::All,
    };
    let format = match draft.sync.format.as_deref() {
        None | Some("csv") => Some(Format::Csv),
        Some("json") => Some(Format::Json),
        Some("ndjson") => Some(Format::Ndjson),
        Some("parquet") => Some(Format::Parquet),
        Some(_) => None,
    };
    match resolved {
        Ok(name) => {
            let gzip = match draft.sync.compression.as_deref() {
                Some("gzip") => crate::config::Compression::Gzip,
                _ => crate::config::Compression::None,
            };
            let parts =
                draft.sync.max_rows_per_file.is_some() || draft.sync.max_bytes_per_file.is_some();
            out.files = shown_files(mode, &name, gzip, parts);
            // Shown as the first part's name, as `files` is.
            let name = if parts {
                crate::filename::part_name(&crate::run::compressed_name(&name, gzip), 1)
            } else {
                crate::run::compressed_name(&name, gzip)
            };
            out.extension_warning = format.and_then(|f| extension_warning(&name, f));
            out.filename.resolved = Some(name);
        }
        Err(e) => out.filename.error = Some(e.to_string()),
    }

    match Schedule::parse(
        draft.sync.schedule.as_deref().unwrap_or("manual"),
        draft.sync.schedule_start.as_deref(),
    ) {
        Ok(s) => {
            out.next_runs = s.upcoming(now, 3);
            if let Ok(t) = FilenameTemplate::parse(&template) {
                let ids = NameIds {
                    offset_seconds: draft.sync.filename_offset,
                    model_id: &model_id,
                    model_name: &draft.model.name,
                    sync_id: &sync_id,
                };
                if let Some((message, fixes)) =
                    overwrite_warning(&t, &s, mode, &ids, now, next_run_id)
                {
                    out.overwrite_warning = Some(message);
                    out.overwrite_fixes = fixes;
                }
            }
        }
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
        Ok(mut src) => {
            let columns = src.columns().to_vec();
            out.model_columns = Some(
                columns
                    .iter()
                    .map(|c| ColumnInfo {
                        name: c.name.clone(),
                        declared_type: c.declared_type.clone(),
                        observed_type: "unknown".into(),
                        primary_key: c.primary_key,
                    })
                    .collect(),
            );
            let context = MappingContext {
                model_id: model_id.clone(),
                model_name: draft.model.name.clone(),
                sync_id: sync_id.clone(),
                run_id: next_run_id,
                started_at: now,
            };
            match SyncSpec::from_draft(&core, file).and_then(|spec| {
                Mapping::compile_with(&columns, spec.sync.columns.as_deref(), &context)
            }) {
                Ok(m) => {
                    out.header = Some(m.output().to_vec());
                    if m.has_templates() {
                        out.template_samples = template_samples(&m, src.as_mut());
                    }
                }
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

/// Renders each template column over the model's first rows: values until
/// a row fails, and that row's error.
fn template_samples(m: &Mapping, src: &mut dyn crate::source::Source) -> Vec<TemplateSample> {
    let rows = crate::probe::sample(src, TEMPLATE_SAMPLE_ROWS).map(|s| s.rows);
    let mut samples: Vec<TemplateSample> = Vec::new();
    match rows {
        Ok(rows) => {
            for (n, row) in rows.into_iter().enumerate() {
                for (i, result) in m.render_templates(row) {
                    let pos = match samples.iter().position(|s| s.index as usize == i) {
                        Some(p) => p,
                        None => {
                            samples.push(TemplateSample {
                                index: i as u32,
                                values: Vec::new(),
                                error: None,
                            });
                            samples.len() - 1
                        }
                    };
                    let s = &mut samples[pos];
                    if s.error.is_some() {
                        continue;
                    }
                    match result {
                        Ok(v) => s.values.push((!v.is_null()).then(|| v.to_text())),
                        Err(e) => s.error = Some(format!("row {}: {}", n + 1, sample_error(e))),
                    }
                }
            }
        }
        Err(e) => {
            samples = m
                .template_columns()
                .into_iter()
                .map(|i| TemplateSample {
                    index: i as u32,
                    values: Vec::new(),
                    error: Some(format!("the model's first rows could not be read: {e}")),
                })
                .collect();
        }
    }
    samples
}

/// A template's error as the mapper shows it next to the template: without
/// the "column mapping #n" or column name the row already shows.
fn sample_error(e: Error) -> String {
    match e {
        Error::Mapping { message, .. } => message,
        Error::ColumnValue { message, .. } => message
            .split_once(" rendered ")
            .map(|(_, rest)| format!("rendered {rest}"))
            .unwrap_or(message),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const IDS: NameIds<'static> = NameIds {
        offset_seconds: 0,
        model_id: "m",
        model_name: "orders",
        sync_id: "s",
    };

    fn warn(template: &str, schedule: &str, mode: Mode) -> Option<(String, Vec<FilenameFix>)> {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 10, 7, 0).unwrap();
        overwrite_warning(
            &FilenameTemplate::parse(template).unwrap(),
            &Schedule::parse(schedule, None).unwrap(),
            mode,
            &IDS,
            now,
            5,
        )
    }

    fn adds(fixes: &[FilenameFix]) -> Vec<(&str, &str)> {
        fixes
            .iter()
            .map(|f| (f.adds.as_str(), f.template.as_str()))
            .collect()
    }

    #[test]
    fn a_date_only_name_every_15_minutes_warns_in_insert_and_diff() {
        for mode in [Mode::Insert, Mode::Diff] {
            let (message, fixes) = warn("out/{YYYY}-{MM}-{DD}.csv", "every 15m", mode).unwrap();
            assert!(
                message.contains(
                    "the scheduled runs at 2026-03-01 10:15 and 2026-03-01 10:30 UTC both write `out/2026-03-01.csv`"
                ),
                "{message}"
            );
            assert!(
                message.contains("add {HH}{mm} or {sync.run.id}"),
                "{message}"
            );
            assert!(message.contains(mode_label(mode)), "{message}");
            assert_eq!(
                adds(&fixes),
                vec![
                    ("{HH}{mm}", "out/{YYYY}-{MM}-{DD}_{HH}{mm}.csv"),
                    ("{sync.run.id}", "out/{YYYY}-{MM}-{DD}_{sync.run.id}.csv"),
                ]
            );
        }
        // All mode rewrites every row each run: the same name is expected.
        assert!(warn("out/{YYYY}-{MM}-{DD}.csv", "every 15m", Mode::All).is_none());
    }

    #[test]
    fn names_that_differ_between_runs_do_not_warn() {
        assert!(warn("{YYYY}-{MM}-{DD}.csv", "every 1d", Mode::Diff).is_none());
        assert!(warn("{YYYY}-{MM}-{DD}.csv", "0 0 6 * * *", Mode::Diff).is_none());
        assert!(warn("{YYYY}{MM}{DD}-{HH}{mm}.csv", "every 15m", Mode::Insert).is_none());
        assert!(warn("{sync.run.id}.csv", "every 1s", Mode::Insert).is_none());
        assert!(warn("{YYYY}{MM}{DD}{HH}.csv", "every 1h", Mode::Diff).is_none());
    }

    #[test]
    fn fixes_are_only_those_that_work() {
        // Two runs a minute: {HH}{mm} still repeats within a minute.
        let (_, fixes) = warn("{HH}{mm}.csv", "every 30s", Mode::Diff).unwrap();
        assert_eq!(
            adds(&fixes),
            vec![
                ("{HH}{mm}{ss}", "{HH}{mm}_{HH}{mm}{ss}.csv"),
                ("{sync.run.id}", "{HH}{mm}_{sync.run.id}.csv"),
            ]
        );
        // Twice a day with a daily name: caught on the second slot of a day.
        assert!(warn("{YYYY}{MM}{DD}.csv", "every 12h", Mode::Diff).is_some());
        // An irregular cron schedule: 06:00 and 18:00 on weekdays.
        assert!(warn("{YYYY}{MM}{DD}.csv", "0 0 6,18 * * Mon-Fri", Mode::Insert).is_some());
    }

    #[test]
    fn manual_syncs_warn_when_two_runs_within_an_hour_share_a_name() {
        let (m, _) = warn("{YYYY}-{MM}-{DD}.csv", "manual", Mode::Diff).unwrap();
        assert!(
            m.contains("two runs started within the same day both write `2026-03-01.csv`"),
            "{m}"
        );
        let (m, _) = warn("{DD}-{HH}.csv", "manual", Mode::Diff).unwrap();
        assert!(m.contains("within the same hour"), "{m}");
        let (m, fixes) = warn("latest.csv", "manual", Mode::Insert).unwrap();
        assert!(m.contains("every run writes `latest.csv`"), "{m}");
        assert_eq!(fixes.len(), 2, "{fixes:?}");
        assert!(warn("{YYYY}{MM}{DD}-{HH}{mm}.csv", "manual", Mode::Diff).is_none());
        assert!(warn("{sync.run.id}.csv", "manual", Mode::Diff).is_none());
        assert!(warn("latest.csv", "manual", Mode::All).is_none());
    }

    #[test]
    fn fixes_go_before_the_extension_outside_variables() {
        assert_eq!(
            add_before_extension("{model.name}", "{HH}{mm}"),
            "{model.name}_{HH}{mm}"
        );
        assert_eq!(
            add_before_extension("a.b/{model.name}.json", "{sync.run.id}"),
            "a.b/{model.name}_{sync.run.id}.json"
        );
        assert_eq!(add_before_extension(".hidden", "{HH}"), ".hidden_{HH}");
    }

    #[test]
    fn an_extension_that_is_not_the_format_warns() {
        let w = extension_warning("out/report.xlsx", Format::Csv).unwrap();
        assert!(
            w.contains("`.xlsx`") && w.contains("CSV") && w.contains("`.csv`"),
            "{w}"
        );
        let w = extension_warning("report.json", Format::Csv).unwrap();
        assert!(
            w.contains("`.json`") && w.contains("the format is CSV"),
            "{w}"
        );
        let w = extension_warning("report.csv", Format::Json).unwrap();
        assert!(
            w.contains("`.csv`") && w.contains("the format is JSON"),
            "{w}"
        );
        assert!(extension_warning("report.CSV", Format::Csv).is_none());
        assert!(extension_warning("report.tsv", Format::Csv).is_none());
        assert!(extension_warning("a.b/report.json", Format::Json).is_none());
        assert!(extension_warning("r.jsonl", Format::Ndjson).is_none());
        assert!(extension_warning("report", Format::Csv).is_none());
    }
}
