//! The sync file: one TOML file describes source, model, destination and sync.
//!
//! Parsing is two steps: serde reads the raw shape (unknown keys are errors that
//! name the key), then [`SyncSpec::from_raw`] checks meaning and resolves paths.

use crate::error::{Error, Result};
use crate::filename::FilenameTemplate;
use crate::schedule::Schedule;
pub use crate::source::connection::{DatabaseSpec, Engine, TlsMode};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `[sync] diff_engine`: where Insert and Diff compare the model's rows with
/// the snapshot of what was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum DiffEngine {
    /// Every row streams to this machine and is compared with the local
    /// snapshot.
    #[default]
    Local,
    /// The database compares the model with a snapshot in
    /// `[source] state_schema`; only changed rows cross the network.
    Source,
}

impl DiffEngine {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffEngine::Local => "local",
            DiffEngine::Source => "source",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    All,
    Insert,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
    Ndjson,
    Parquet,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }
}

/// `[sync] compression`: of the whole file, for the text formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
}

/// `[sync] max_rows_per_file` / `max_bytes_per_file`: each file of a run is
/// cut into parts at whichever limit comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartLimits {
    pub max_rows: Option<u64>,
    pub max_bytes: Option<u64>,
}

impl PartLimits {
    pub fn any(&self) -> bool {
        self.max_rows.is_some() || self.max_bytes.is_some()
    }
}

/// `[sync.retention]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// Delete the files delivered by runs older than the last N.
    pub keep_runs: Option<u32>,
}

/// `type` of a template column: what JSON, NDJSON and Parquet write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputType {
    #[default]
    Text,
    Integer,
    Float,
    Boolean,
    /// An object or array, embedded as it is (nested output).
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub header: bool,
    pub bom: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            header: true,
            bom: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    Sqlite {
        path: PathBuf,
    },
    Csv {
        path: PathBuf,
        delimiter: u8,
        header: bool,
    },
    /// A PostgreSQL server (or one speaking its protocol).
    Postgres(DatabaseSpec),
    /// A MySQL or MariaDB server.
    Mysql(DatabaseSpec),
}

impl SourceSpec {
    /// A short name for messages: never includes secrets.
    pub fn describe(&self) -> String {
        match self {
            SourceSpec::Sqlite { path } => format!("sqlite {}", path.display()),
            SourceSpec::Csv { path, .. } => format!("csv {}", path.display()),
            SourceSpec::Postgres(db) | SourceSpec::Mysql(db) => db.describe(),
        }
    }

    /// Whether the model is a query (every source but a CSV file).
    pub fn takes_query(&self) -> bool {
        !matches!(self, SourceSpec::Csv { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub id: String,
    pub name: String,
    pub sql: Option<String>,
    pub primary_key: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DestinationSpec {
    Folder {
        path: PathBuf,
    },
    Dropbox {
        /// `/exports`, or `/` for the root.
        path: String,
        /// Which connected account (email or account id), when several are.
        account: Option<String>,
    },
}

impl DestinationSpec {
    pub fn describe(&self) -> String {
        match self {
            DestinationSpec::Folder { path } => format!("folder {}", path.display()),
            DestinationSpec::Dropbox { path, .. } => format!("dropbox {path}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnSpec {
    From {
        from: String,
        to: String,
    },
    Constant {
        value: Value,
        to: String,
    },
    Template {
        template: String,
        to: String,
        output: OutputType,
    },
}

impl ColumnSpec {
    pub fn output_name(&self) -> &str {
        match self {
            ColumnSpec::From { to, .. }
            | ColumnSpec::Constant { to, .. }
            | ColumnSpec::Template { to, .. } => to,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncSettings {
    pub id: String,
    pub mode: Mode,
    pub format: Format,
    pub compression: Compression,
    pub parquet_compression: crate::format::parquet::ParquetCompression,
    pub parts: PartLimits,
    pub filename: FilenameTemplate,
    pub filename_offset: i64,
    /// Written after every data file of a run, listing them.
    pub manifest: Option<FilenameTemplate>,
    /// Where Insert and Diff compare the model with what was delivered.
    pub diff_engine: DiffEngine,
    pub retention: Retention,
    pub skip_empty_files: bool,
    pub csv: CsvOptions,
    /// `None`: every column as the model returns it.
    pub columns: Option<Vec<ColumnSpec>>,
    pub schedule: Schedule,
}

/// A validated sync definition.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSpec {
    pub file: PathBuf,
    pub source: SourceSpec,
    pub model: ModelSpec,
    pub destination: DestinationSpec,
    pub sync: SyncSettings,
    /// `[[alerts]]`: who hears when the sync fails or recovers.
    pub alerts: Vec<crate::alerts::ChannelSpec>,
    pub alert_when: AlertWhen,
}

/// `[alert_when]`: optional warnings about runs that succeeded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertWhen {
    /// Warn when a run takes longer than this.
    pub run_longer_than: Option<std::time::Duration>,
    /// Warn when a run removes more than this share (0..1) of the rows
    /// delivered before: a likely broken model.
    pub removed_share_over: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    source: SourceDraft,
    model: ModelDraft,
    destination: DestinationDraft,
    sync: SyncSettingsDraft,
    #[serde(default)]
    alerts: Vec<crate::alerts::ChannelSpec>,
    alert_when: Option<AlertWhenDraft>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct AlertWhenDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_longer_than: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_more_than_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SourceDraft {
    #[serde(rename = "type")]
    #[cfg_attr(feature = "specta", specta(type = draft_types::SourceType))]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<bool>,
    /// postgres / mysql: `postgres://user@host:5432/db?sslmode=require`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// postgres / mysql: `env:NAME` or `keyring` (never the password itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// postgres / mysql: how long to wait for the server, e.g. "10s".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
    /// postgres / mysql: the server cancels the query after this long, e.g. "30m".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<String>,
    /// postgres / mysql: the run fails when the server sends nothing for
    /// this long while a query runs, e.g. "5m".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<String>,
    /// postgres: a schema Dropsync may write, where the in-database diff
    /// keeps its snapshot (see `crate::pushdown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_schema: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(untagged)]
pub enum KeyDraft {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct ModelDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    pub primary_key: KeyDraft,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct DestinationDraft {
    #[serde(rename = "type")]
    #[cfg_attr(feature = "specta", specta(type = draft_types::DestinationType))]
    pub kind: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SyncSettingsDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Mode))]
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<Format>))]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<draft_types::Compression>))]
    pub compression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<draft_types::ParquetCompression>))]
    pub parquet_compression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows_per_file: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes_per_file: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filename_offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// Where Insert and Diff compare rows: "local" or "source".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<DiffEngine>))]
    pub diff_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionDraft>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_empty_files: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvDraft>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<ColumnDraft>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_start: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RetentionDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_runs: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct CsvDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bom: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct ColumnDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<draft_types::Constant>))]
    pub value: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A template's output type: "text" (default), "integer", "float", "boolean" or "json".
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<draft_types::OutputType>))]
    pub output_type: Option<String>,
}

/// The values some draft keys take, for the app's generated types only.
/// The drafts keep these keys as written (strings, TOML values), so that a
/// wrong one fails with the file's own message naming the key.
#[cfg(feature = "specta")]
pub mod draft_types {
    use serde::Serialize;

    /// `[source] type`.
    #[derive(Serialize, specta::Type)]
    #[serde(rename_all = "lowercase")]
    pub enum SourceType {
        Sqlite,
        Csv,
        Postgres,
        Mysql,
    }

    /// `[sync] compression`.
    #[derive(Serialize, specta::Type)]
    #[serde(rename_all = "lowercase")]
    pub enum Compression {
        None,
        Gzip,
    }

    /// `[sync] parquet_compression`.
    #[derive(Serialize, specta::Type)]
    #[serde(rename_all = "lowercase")]
    pub enum ParquetCompression {
        Snappy,
        Zstd,
        Gzip,
        None,
    }

    /// `type` of a template column.
    #[derive(Serialize, specta::Type)]
    #[serde(rename_all = "lowercase")]
    pub enum OutputType {
        Text,
        Integer,
        Float,
        Boolean,
        Json,
    }

    /// `[destination] type`.
    #[derive(Serialize, specta::Type)]
    #[serde(rename_all = "lowercase")]
    pub enum DestinationType {
        Folder,
        Dropbox,
    }

    /// A constant column's `value`.
    #[derive(Serialize, specta::Type)]
    #[serde(untagged)]
    pub enum Constant {
        Text(String),
        Integer(i64),
        Float(f64),
        Boolean(bool),
    }
}

impl SourceDraft {
    /// The source this table describes; relative paths resolve against the
    /// folder of `file` (the sync file, or a file in the workspace folder).
    pub fn resolve(&self, file: &Path) -> Result<SourceSpec> {
        let bad = |key: &str, message: String| Error::Field {
            file: file.to_path_buf(),
            field: key.to_string(),
            message,
        };
        let base = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        Ok(match self.kind.as_str() {
            "sqlite" => {
                let path = self
                    .path
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .ok_or_else(|| {
                        bad(
                            "[source] path",
                            "missing; set it to the SQLite database file".into(),
                        )
                    })?;
                self.refuse_database_keys(file)?;
                for (key, set) in [
                    ("delimiter", self.delimiter.is_some()),
                    ("header", self.header.is_some()),
                ] {
                    if set {
                        return Err(bad(
                            &format!("[source] {key}"),
                            "only applies to type = \"csv\"; remove it".into(),
                        ));
                    }
                }
                SourceSpec::Sqlite {
                    path: resolve(path),
                }
            }
            "csv" => {
                let path = self
                    .path
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .ok_or_else(|| {
                        bad("[source] path", "missing; set it to the CSV file".into())
                    })?;
                self.refuse_database_keys(file)?;
                let delimiter = match self.delimiter.as_deref() {
                    Some(d) => parse_delimiter(d).map_err(|m| bad("[source] delimiter", m))?,
                    None => b',',
                };
                SourceSpec::Csv {
                    path: resolve(path),
                    delimiter,
                    header: self.header.unwrap_or(true),
                }
            }
            "postgres" | "postgresql" => SourceSpec::Postgres(self.database(Engine::Postgres, file)?),
            "mysql" | "mariadb" => SourceSpec::Mysql(self.database(Engine::Mysql, file)?),
            other => {
                return Err(bad(
                    "[source] type",
                    format!("{other:?} is not supported; use \"sqlite\", \"csv\", \"postgres\" or \"mysql\""),
                ))
            }
        })
    }

    /// A file source takes no server keys.
    fn refuse_database_keys(&self, file: &Path) -> Result<()> {
        if self.state_schema.is_some() {
            return Err(Error::Field {
                file: file.to_path_buf(),
                field: "[source] state_schema".into(),
                message: "only applies to type = \"postgres\" (the in-database diff); remove it"
                    .into(),
            });
        }
        for (key, set) in [
            ("url", self.url.is_some()),
            ("password", self.password.is_some()),
            ("connect_timeout", self.connect_timeout.is_some()),
            ("statement_timeout", self.statement_timeout.is_some()),
            ("read_timeout", self.read_timeout.is_some()),
        ] {
            if set {
                return Err(Error::Field {
                    file: file.to_path_buf(),
                    field: format!("[source] {key}"),
                    message: "only applies to type = \"postgres\" or \"mysql\"; remove it".into(),
                });
            }
        }
        Ok(())
    }

    /// `[source]` of a database server: `url`, `password` and the timeouts.
    fn database(&self, engine: Engine, file: &Path) -> Result<DatabaseSpec> {
        let bad = |key: &str, message: String| Error::Field {
            file: file.to_path_buf(),
            field: format!("[source] {key}"),
            message,
        };
        for (key, set) in [
            ("path", self.path.is_some()),
            ("delimiter", self.delimiter.is_some()),
            ("header", self.header.is_some()),
        ] {
            if set {
                return Err(bad(
                    key,
                    format!(
                        "does not apply to type = \"{}\"; the server is named by url",
                        engine.name()
                    ),
                ));
            }
        }
        let url = self
            .url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                bad(
                    "url",
                    format!(
                        "missing; set it to the server, e.g. \"{}://user@localhost/database\"",
                        engine.name()
                    ),
                )
            })?;
        let base = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let mut db = DatabaseSpec::parse(engine, url, self.password.as_deref(), resolve)
            .map_err(|(key, m)| bad(key, m))?;
        let duration = |key: &str, text: &str| {
            crate::schedule::parse_period(text.trim())
                .and_then(|d| d.to_std().ok())
                .ok_or_else(|| {
                    bad(
                        key,
                        format!("{text:?}: write a number and a unit, e.g. \"30s\" or \"10m\" (units s, m, h, d)"),
                    )
                })
        };
        if let Some(t) = &self.connect_timeout {
            db.connect_timeout = duration("connect_timeout", t)?;
        }
        if let Some(t) = &self.statement_timeout {
            db.statement_timeout = Some(duration("statement_timeout", t)?);
        }
        if let Some(t) = &self.read_timeout {
            db.read_timeout = Some(duration("read_timeout", t)?);
        }
        if let Some(schema) = &self.state_schema {
            if engine != Engine::Postgres {
                return Err(bad(
                    "state_schema",
                    "only applies to type = \"postgres\" (the in-database diff); remove it".into(),
                ));
            }
            check_state_schema(schema).map_err(|m| bad("state_schema", m))?;
            db.state_schema = Some(schema.clone());
        }
        Ok(db)
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A sync file as written: what an editor reads, changes and writes back.
/// Its validation is the file's own: [`SyncSpec::from_draft`] writes the
/// TOML and parses it, so a draft that validates is a file that loads.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SyncDraft {
    pub source: SourceDraft,
    pub model: ModelDraft,
    pub destination: DestinationDraft,
    pub sync: SyncSettingsDraft,
    /// `[[alerts]]` tables as written; checked when the draft is validated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "specta", specta(type = Vec<crate::alerts::ChannelSpec>))]
    pub alerts: Vec<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_when: Option<AlertWhenDraft>,
}

impl SyncDraft {
    pub fn load(path: &Path) -> Result<SyncDraft> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read sync file {}", path.display()), e))?;
        toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))
    }

    /// The file's text. Comments of a hand-written file are not kept.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self)
            .map_err(|e| Error::Internal(format!("cannot write the sync as TOML: {e}")))
    }

    /// Validates the draft as the file `path` and writes it atomically (a
    /// temporary file renamed over the old one), so a reader never sees
    /// half a file.
    pub fn save(&self, path: &Path) -> Result<SyncSpec> {
        let text = self.to_toml()?;
        let spec = SyncSpec::parse(&text, path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let io =
            |e: std::io::Error| Error::io(format!("cannot write sync file {}", path.display()), e);
        let mut tmp = tempfile::Builder::new()
            .prefix(".dropsync-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(spec)
    }
}

impl SyncSpec {
    pub fn load(path: &Path) -> Result<SyncSpec> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read sync file {}", path.display()), e))?;
        SyncSpec::parse(&text, path)
    }

    /// Validates a draft as if it were the file `path`.
    pub fn from_draft(draft: &SyncDraft, path: &Path) -> Result<SyncSpec> {
        SyncSpec::parse(&draft.to_toml()?, path)
    }

    /// Parses `text` as if read from `path` (relative paths resolve against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<SyncSpec> {
        let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        SyncSpec::from_raw(raw, path)
    }

    fn from_raw(raw: RawFile, file: &Path) -> Result<SyncSpec> {
        let bad = |key: &str, message: String| Error::Field {
            file: file.to_path_buf(),
            field: key.to_string(),
            message,
        };
        let base = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sync".into());
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };

        let source = raw.source.resolve(file)?;
        let model = model_spec(raw.model, &source, &raw.source.kind, &stem, &bad)?;
        let destination = destination_spec(raw.destination, &resolve, &bad)?;
        let sync = sync_settings(raw.sync, &source, &model, stem, &bad)?;
        let alert_when = alert_when(raw.alert_when, &bad)?;
        // Alert channels are checked by `dropsync check`, not here: an
        // alert secret missing from the environment must not stop the sync.
        Ok(SyncSpec {
            file: file.to_path_buf(),
            source,
            model,
            destination,
            sync,
            alerts: raw.alerts,
            alert_when,
        })
    }
}

/// Makes the error of a key of the sync file.
type Bad<'a> = dyn Fn(&str, String) -> Error + 'a;

/// `[model]`: id (the file's stem by default), name, key and query.
fn model_spec(
    raw: ModelDraft,
    source: &SourceSpec,
    source_kind: &str,
    stem: &str,
    bad: &Bad<'_>,
) -> Result<ModelSpec> {
    let model_id = raw.id.unwrap_or_else(|| stem.to_string());
    check_id(&model_id).map_err(|m| bad("[model] id", m))?;
    if raw.name.trim().is_empty() {
        return Err(bad(
            "[model] name",
            "is empty; give the model a name".into(),
        ));
    }
    let primary_key = match raw.primary_key {
        KeyDraft::One(k) => vec![k],
        KeyDraft::Many(ks) => ks,
    };
    if primary_key.is_empty() || primary_key.iter().any(|k| k.trim().is_empty()) {
        return Err(bad(
            "[model] primary_key",
            "needs a column name, or a list of column names for a composite key".into(),
        ));
    }
    match (&source, &raw.sql) {
        (s, None) if s.takes_query() => {
            return Err(bad(
                "[model] sql",
                format!(
                    "missing; a {} source needs a query such as \"SELECT * FROM customers\"",
                    source_kind
                ),
            ))
        }
        (s, Some(sql)) if s.takes_query() && sql.trim().is_empty() => {
            return Err(bad(
                "[model] sql",
                "is empty; write the model's query".into(),
            ))
        }
        (SourceSpec::Csv { .. }, Some(_)) => {
            return Err(bad(
                "[model] sql",
                "a csv source streams the file's rows and takes no query; remove sql".into(),
            ))
        }
        _ => {}
    }
    Ok(ModelSpec {
        id: model_id,
        name: raw.name,
        sql: raw.sql,
        primary_key,
    })
}

/// `[destination]`: a folder (resolved against the sync file's folder) or
/// a Dropbox path.
fn destination_spec(
    raw: DestinationDraft,
    resolve: &dyn Fn(&str) -> PathBuf,
    bad: &Bad<'_>,
) -> Result<DestinationSpec> {
    Ok(match raw.kind.as_str() {
        "folder" => {
            if raw.account.is_some() {
                return Err(bad(
                    "[destination] account",
                    "only applies to type = \"dropbox\"; remove it".into(),
                ));
            }
            DestinationSpec::Folder {
                path: resolve(&raw.path),
            }
        }
        "dropbox" => {
            let path = raw.path.trim_end_matches('/');
            if !raw.path.starts_with('/') {
                return Err(bad(
                    "[destination] path",
                    format!(
                        "{:?} must start with '/' (a Dropbox folder such as \"/exports\", or \"/\" for the root)",
                        raw.path
                    ),
                ));
            }
            if !path.is_empty() {
                crate::filename::check_relative_path(&path[1..])
                    .map_err(|m| bad("[destination] path", format!("{path:?} {m}")))?;
            }
            DestinationSpec::Dropbox {
                path: if path.is_empty() {
                    "/".into()
                } else {
                    path.to_string()
                },
                account: raw.account,
            }
        }
        other => {
            return Err(bad(
                "[destination] type",
                format!("{other:?} is not supported; use \"folder\" or \"dropbox\""),
            ))
        }
    })
}

/// `[sync]`: id, mode, format, filename, CSV options, columns, schedule.
fn sync_settings(
    s: SyncSettingsDraft,
    source: &SourceSpec,
    model: &ModelSpec,
    stem: String,
    bad: &Bad<'_>,
) -> Result<SyncSettings> {
    let sync_id = s.id.unwrap_or(stem);
    check_id(&sync_id).map_err(|m| bad("[sync] id", m))?;
    let mode = match s.mode.as_str() {
        "all" => Mode::All,
        "insert" => Mode::Insert,
        "diff" => Mode::Diff,
        other => {
            return Err(bad(
                "[sync] mode",
                format!("{other:?} is not a mode; use \"all\", \"insert\" or \"diff\""),
            ))
        }
    };
    let format = match s.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "json" => Format::Json,
        "ndjson" => Format::Ndjson,
        "parquet" => Format::Parquet,
        other => {
            return Err(bad(
                "[sync] format",
                format!(
                    "{other:?} is not a format; use \"csv\", \"json\", \"ndjson\" or \"parquet\""
                ),
            ))
        }
    };
    let (compression, parquet_compression) = compressions(
        format,
        s.compression.as_deref(),
        s.parquet_compression.as_deref(),
        bad,
    )?;
    let parts = part_limits(s.max_rows_per_file, s.max_bytes_per_file, bad)?;
    let filename_src = s.filename.unwrap_or_else(|| {
        format!(
            "{{model.name}}-{{YYYY}}{{MM}}{{DD}}-{{HH}}{{mm}}{{ss}}.{}{}",
            format.extension(),
            if compression == Compression::Gzip {
                ".gz"
            } else {
                ""
            }
        )
    });
    let filename = FilenameTemplate::parse(&filename_src)
        .map_err(|e| bad("[sync] filename", e.to_string()))?;
    filename
        .validate(&model.id, &model.name, &sync_id)
        .map_err(|e| bad("[sync] filename", e.to_string()))?;
    const TEN_YEARS: i64 = 10 * 366 * 86400;
    if s.filename_offset.unsigned_abs() > TEN_YEARS as u64 {
        return Err(bad(
            "[sync] filename_offset",
            format!(
                "{} seconds is more than ten years; give the offset in seconds",
                s.filename_offset
            ),
        ));
    }
    let manifest = match s.manifest {
        None => None,
        Some(m) => {
            let t =
                FilenameTemplate::parse(&m).map_err(|e| bad("[sync] manifest", e.to_string()))?;
            if t.uses("part") {
                return Err(bad(
                    "[sync] manifest",
                    "{part} names a data file's part; a run has one manifest".into(),
                ));
            }
            t.validate(&model.id, &model.name, &sync_id)
                .map_err(|e| bad("[sync] manifest", e.to_string()))?;
            Some(t)
        }
    };
    if filename.uses("part") && !parts.any() {
        return Err(bad(
            "[sync] filename",
            "{part} needs max_rows_per_file or max_bytes_per_file in [sync]; remove it or set a limit".into(),
        ));
    }
    let retention = match s.retention.and_then(|r| r.keep_runs) {
        None => Retention::default(),
        Some(n) if (1..=100_000).contains(&n) => Retention {
            keep_runs: Some(n as u32),
        },
        Some(n) => {
            return Err(bad(
                "[sync.retention] keep_runs",
                format!("{n} is not a number of runs to keep; give 1 or more"),
            ))
        }
    };
    let diff_engine = diff_engine(s.diff_engine.as_deref(), source, bad)?;
    let csv = csv_options(s.csv, format, bad)?;
    let columns = column_specs(s.columns, bad)?;
    let schedule = Schedule::parse(
        s.schedule.as_deref().unwrap_or("manual"),
        s.schedule_start.as_deref(),
    )
    .map_err(|e| bad("[sync] schedule", e))?;
    Ok(SyncSettings {
        id: sync_id,
        mode,
        format,
        compression,
        parquet_compression,
        parts,
        filename,
        filename_offset: s.filename_offset,
        manifest,
        diff_engine,
        retention,
        skip_empty_files: s.skip_empty_files,
        csv,
        columns,
        schedule,
    })
}

/// `[sync] diff_engine`: "source" when `[source] state_schema` is set,
/// unless the sync asks for "local".
fn diff_engine(value: Option<&str>, source: &SourceSpec, bad: &Bad<'_>) -> Result<DiffEngine> {
    let schema = match source {
        SourceSpec::Postgres(db) => db.state_schema.as_deref(),
        _ => None,
    };
    match (value, schema) {
        (None, None) | (Some("local"), _) => Ok(DiffEngine::Local),
        (None, Some(_)) | (Some("source"), Some(_)) => Ok(DiffEngine::Source),
        (Some("source"), None) => Err(bad(
            "[sync] diff_engine",
            match source {
                SourceSpec::Postgres(_) => "\"source\" needs [source] state_schema = \"<schema>\", a schema Dropsync may create tables in (see docs/sources.md#in-database-diff); set it, or remove diff_engine".into(),
                other => format!(
                    "\"source\" needs a PostgreSQL source (this sync reads {}); remove it or set it to \"local\"",
                    other.describe()
                ),
            },
        )),
        (Some(other), _) => Err(bad(
            "[sync] diff_engine",
            format!("{other:?} is not an engine; use \"local\" or \"source\""),
        )),
    }
}

/// A schema name for `[source] state_schema`: quoted as written in SQL, so
/// any name works except the server's own and `public`, which holds data.
fn check_state_schema(name: &str) -> std::result::Result<(), String> {
    let lower = name.to_ascii_lowercase();
    if name.trim().is_empty() || name.len() > 63 || name.contains('\0') {
        return Err(format!(
            "{name:?} is not a schema name; name a schema of its own of at most 63 bytes, e.g. \"dropsync\""
        ));
    }
    if lower.starts_with("pg_") || lower == "public" || lower == "information_schema" {
        return Err(format!(
            "{name:?} cannot hold Dropsync's state; name a schema of its own, e.g. \"dropsync\" (public holds your data, and names starting with pg_ are the server's)"
        ));
    }
    Ok(())
}

/// `[sync] compression` (text formats) and `parquet_compression` (Parquet).
fn compressions(
    format: Format,
    compression: Option<&str>,
    parquet: Option<&str>,
    bad: &Bad<'_>,
) -> Result<(Compression, crate::format::parquet::ParquetCompression)> {
    use crate::format::parquet::ParquetCompression as Pq;
    let compression = match compression {
        None | Some("none") => Compression::None,
        Some("gzip") if format == Format::Parquet => {
            return Err(bad(
                "[sync] compression",
                "a Parquet file compresses its own pages; remove `compression` and set `parquet_compression` (\"snappy\", \"zstd\", \"gzip\" or \"none\")".into(),
            ))
        }
        Some("gzip") => Compression::Gzip,
        Some(other) => {
            return Err(bad(
                "[sync] compression",
                format!("{other:?} is not a compression; use \"none\" or \"gzip\""),
            ))
        }
    };
    let parquet = match parquet {
        None => Pq::default(),
        Some(_) if format != Format::Parquet => {
            return Err(bad(
                "[sync] parquet_compression",
                "only applies to format = \"parquet\"; use `compression = \"gzip\"` for the other formats".into(),
            ))
        }
        Some("snappy") => Pq::Snappy,
        Some("zstd") => Pq::Zstd,
        Some("gzip") => Pq::Gzip,
        Some("none") => Pq::None,
        Some(other) => {
            return Err(bad(
                "[sync] parquet_compression",
                format!("{other:?} is not a Parquet codec; use \"snappy\", \"zstd\", \"gzip\" or \"none\""),
            ))
        }
    };
    Ok((compression, parquet))
}

/// `[sync] max_rows_per_file` and `max_bytes_per_file`.
fn part_limits(rows: Option<u64>, bytes: Option<u64>, bad: &Bad<'_>) -> Result<PartLimits> {
    if rows == Some(0) {
        return Err(bad(
            "[sync] max_rows_per_file",
            "0 rows per file; give 1 or more, or remove the key".into(),
        ));
    }
    // A part holds its header and at least one row; below a kilobyte every
    // row would be its own file.
    if let Some(b) = bytes.filter(|b| *b < 1024) {
        return Err(bad(
            "[sync] max_bytes_per_file",
            format!("{b} bytes is too small for a file of rows; give 1024 or more"),
        ));
    }
    Ok(PartLimits {
        max_rows: rows,
        max_bytes: bytes,
    })
}

/// `[sync.csv]`, which only a CSV sync takes.
fn csv_options(raw: Option<CsvDraft>, format: Format, bad: &Bad<'_>) -> Result<CsvOptions> {
    let mut csv = CsvOptions::default();
    if let Some(c) = raw {
        if format != Format::Csv {
            return Err(bad(
                "[sync.csv]",
                "only applies to format = \"csv\"; remove the section or change the format".into(),
            ));
        }
        if let Some(d) = c.delimiter {
            csv.delimiter = parse_delimiter(&d).map_err(|m| bad("[sync.csv] delimiter", m))?;
        }
        csv.header = c.header.unwrap_or(true);
        csv.bom = c.bom.unwrap_or(false);
    }
    Ok(csv)
}

/// `[[sync.columns]]`: each one a model column, a constant or a template,
/// with unique output names; `None` syncs every column as it is.
fn column_specs(raw: Option<Vec<ColumnDraft>>, bad: &Bad<'_>) -> Result<Option<Vec<ColumnSpec>>> {
    Ok(match raw {
        None => None,
        Some(list) => {
            if list.is_empty() {
                return Err(bad(
                    "[[sync.columns]]",
                    "the list is empty; remove it to sync every column, or add mappings".into(),
                ));
            }
            let mut out = Vec::with_capacity(list.len());
            for (i, c) in list.into_iter().enumerate() {
                let key = format!("[[sync.columns]] #{}", i + 1);
                let output = match c.output_type.as_deref() {
                    None | Some("text") => OutputType::Text,
                    Some("integer") => OutputType::Integer,
                    Some("float") => OutputType::Float,
                    Some("boolean") => OutputType::Boolean,
                    Some("json") => OutputType::Json,
                    Some(other) => {
                        return Err(bad(
                            &format!("{key} type"),
                            format!("{other:?} is not a column type; use \"text\", \"integer\", \"float\", \"boolean\" or \"json\""),
                        ))
                    }
                };
                if c.output_type.is_some() && c.template.is_none() {
                    return Err(bad(
                        &format!("{key} type"),
                        "only a template column takes `type` (a model column keeps the source's type, a constant its TOML type)".into(),
                    ));
                }
                let spec = match (c.from, c.value, c.template) {
                    (Some(from), None, None) => ColumnSpec::From {
                        to: c.to.unwrap_or_else(|| from.clone()),
                        from,
                    },
                    (None, Some(value), None) => ColumnSpec::Constant {
                        value: constant(&value).map_err(|m| bad(&key, m))?,
                        to: c.to.ok_or_else(|| {
                            bad(&key, "a constant needs `to`, the output column name".into())
                        })?,
                    },
                    (None, None, Some(template)) => ColumnSpec::Template {
                        template,
                        output,
                        to: c.to.ok_or_else(|| {
                            bad(&key, "a template needs `to`, the output column name".into())
                        })?,
                    },
                    _ => {
                        return Err(bad(
                            &key,
                            "set exactly one of `from` (a model column), `value` (a constant) or `template`".into(),
                        ))
                    }
                };
                if spec.output_name().is_empty() {
                    return Err(bad(&key, "`to` is empty; name the output column".into()));
                }
                if let Some(prev) = out
                    .iter()
                    .position(|o: &ColumnSpec| o.output_name() == spec.output_name())
                {
                    return Err(bad(
                        &key,
                        format!(
                            "output column {:?} is already produced by mapping #{}; output names must be unique",
                            spec.output_name(),
                            prev + 1
                        ),
                    ));
                }
                out.push(spec);
            }
            Some(out)
        }
    })
}

/// `[alert_when]`: the warnings a successful run may send.
fn alert_when(raw: Option<AlertWhenDraft>, bad: &Bad<'_>) -> Result<AlertWhen> {
    let mut alert_when = AlertWhen::default();
    if let Some(w) = raw {
        if let Some(t) = w.run_longer_than {
            let d = crate::schedule::parse_period(t.trim()).ok_or_else(|| {
                bad(
                    "[alert_when] run_longer_than",
                    format!("{t:?}: write a number and a unit, e.g. \"30m\" or \"2h\" (units s, m, h, d)"),
                )
            })?;
            alert_when.run_longer_than = d.to_std().ok();
        }
        if let Some(p) = w.removed_more_than_percent {
            if !(0.0..=100.0).contains(&p) || p.is_nan() {
                return Err(bad(
                    "[alert_when] removed_more_than_percent",
                    format!("{p} is not a percentage; write a number from 0 to 100"),
                ));
            }
            alert_when.removed_share_over = Some(p / 100.0);
        }
    }
    Ok(alert_when)
}

fn parse_delimiter(d: &str) -> std::result::Result<u8, String> {
    match d {
        "," => Ok(b','),
        ";" => Ok(b';'),
        "|" => Ok(b'|'),
        "~" => Ok(b'~'),
        "\t" | "\\t" | "tab" => Ok(b'\t'),
        other => Err(format!(
            "{other:?} is not a supported delimiter; use \",\" \";\" \"|\" \"~\" or \"\\t\""
        )),
    }
}

/// Ids name state files and appear in filenames, so keep them to safe characters.
fn check_id(id: &str) -> std::result::Result<(), String> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || id.starts_with('.')
    {
        return Err(format!(
            "{id:?} is not a valid id; use up to 128 letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(())
}

fn constant(v: &toml::Value) -> std::result::Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::Text(s.clone()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        other => {
            return Err(format!(
                "`value` must be a string, number or boolean, not {}",
                other.type_str()
            ))
        }
    })
}

/// A TOML error told without the file's text: the `toml` crate's own
/// message quotes the offending line (and serde's quotes the value), which
/// may be a password or a token. Line, column, the table and the key say
/// where to look; values on the offending lines are cut out of the message.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let mut message = e.message().trim().to_string();
    let mut place = String::new();
    if let Some(span) = e.span() {
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..start].chars().count() + 1;
        place = format!("line {line}, column {column}");
        // The table the line belongs to, and the key it sets.
        let table = before[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .and_then(|l| l.rfind(']').map(|i| l[..=i].to_string()));
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let key = text[line_start..line_end]
            .split_once('=')
            .map(|(k, _)| k.trim())
            .filter(|k| {
                !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-. \"'".contains(c))
            });
        match (table, key) {
            (Some(t), Some(k)) => place.push_str(&format!(", {t} {k}")),
            (None, Some(k)) => place.push_str(&format!(", key {k}")),
            (Some(t), None) => place.push_str(&format!(", in {t}")),
            (None, None) => {}
        }
        // Cut every value written on the lines the error covers.
        let span_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
        for l in text[line_start..span_end].lines() {
            let value = l.split_once('=').map_or(l, |(_, v)| v).trim();
            for v in [value, value.trim_matches(|c| c == '"' || c == '\'')] {
                if v.len() >= 3 {
                    message = message.replace(v, "…");
                }
            }
        }
    }
    // serde quotes the value it could not take: `string "…"`, `` `…` ``.
    message = hide_quoted_values(&message);
    let message = if place.is_empty() {
        format!("not valid TOML: {message}")
    } else {
        format!("not valid TOML at {place}: {message}")
    };
    Error::config(path, message)
}

/// Replaces what serde quotes as a value (`invalid type: string "x"`,
/// `invalid value: "x"`, `unknown variant `x``) with `…`; names of fields
/// (`missing field `url``, `expected one of `a`, `b``) stay.
fn hide_quoted_values(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    // A value opens with a quote after a space and closes with one.
    while let Some(i) = rest.find(" \"") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        match rest.find('"') {
            Some(j) => {
                out.push_str("…\"");
                rest = &rest[j + 1..];
            }
            None => {
                out.push('…');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    if let Some(i) = out.find("unknown variant `") {
        let head = i + "unknown variant `".len();
        if let Some(j) = out[head..].find('`') {
            out.replace_range(head..head + j, "…");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_never_quote_the_line() {
        let secret = "s3cr3t-Hunter2-token";
        let cases = [
            // A string left open.
            format!("[source]\ntype = \"postgres\"\nurl = \"postgres://u:{secret}@h/db\n"),
            // A bare word where a value belongs.
            format!("[source]\ntype = \"postgres\"\npassword = {secret}\n"),
            // A value of the wrong type (serde quotes it).
            format!("[source]\ntype = \"postgres\"\nurl = \"x\"\n[sync]\nid = \"{secret}\"\nfilename_offset = \"{secret}\"\n"),
            // An unknown variant.
            format!("[source]\ntype = \"{secret}\"\n"),
        ];
        for text in cases {
            let err = SyncSpec::parse(&text, Path::new("/x/orders.toml"))
                .unwrap_err()
                .to_string();
            assert!(!err.contains(secret), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(err.contains("line "), "{err}");
        }
        let err = SyncSpec::parse(
            &format!("[source]\ntype = \"postgres\"\npassword = {secret}\n"),
            Path::new("/x/orders.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 3, column 12, [source] password"),
            "{err}"
        );
    }

    const FULL: &str = r#"
[source]
type = "sqlite"
path = "shop.db"

[model]
id = "1"
name = "customers"
sql = "SELECT * FROM customers"
primary_key = "id"

[destination]
type = "folder"
path = "out"

[sync]
id = "7"
mode = "diff"
format = "csv"
filename = "exports/{model.name}-{YYYY}-{MM}-{DD}.csv"
filename_offset = -86400
skip_empty_files = false

[sync.csv]
delimiter = ";"
header = true
bom = false

[[sync.columns]]
from = "email"
to = "Email"
[[sync.columns]]
value = "EMEA"
to = "region"
[[sync.columns]]
template = "{{ first_name }} {{ last_name }}"
to = "full_name"
"#;

    #[test]
    fn parses_the_documented_example() {
        let spec = SyncSpec::parse(FULL, Path::new("/w/customers.toml")).unwrap();
        assert_eq!(
            spec.source,
            SourceSpec::Sqlite {
                path: "/w/shop.db".into()
            }
        );
        assert_eq!(spec.sync.mode, Mode::Diff);
        assert_eq!(spec.sync.csv.delimiter, b';');
        assert_eq!(spec.sync.filename_offset, -86400);
        assert_eq!(spec.sync.columns.as_ref().unwrap().len(), 3);
        assert_eq!(spec.model.primary_key, vec!["id".to_string()]);
    }

    #[test]
    fn errors_name_the_key() {
        let e = SyncSpec::parse(
            &FULL.replace("mode = \"diff\"", "mode = \"upsert\""),
            Path::new("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[sync] mode") && e.contains("upsert"), "{e}");
        let e = SyncSpec::parse(
            &FULL.replace("bom = false", "bom = false\nquote = 1"),
            Path::new("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("quote"), "{e}");
        let e = SyncSpec::parse(
            &FULL.replace("to = \"region\"", "to = \"Email\""),
            Path::new("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("\"Email\" is already produced by mapping #1"),
            "{e}"
        );
        let e = SyncSpec::parse(&FULL.replace("{DD}", "{day}"), Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[sync] filename") && e.contains("{day}"), "{e}");
    }
}

#[cfg(test)]
mod diff_engine_tests {
    use super::*;

    fn parse(source: &str, sync: &str) -> Result<SyncSpec> {
        SyncSpec::parse(
            &format!(
                "[source]\n{source}\n[model]\nname = \"m\"\nsql = \"SELECT 1 AS id\"\nprimary_key = \"id\"\n\
                 [destination]\ntype = \"folder\"\npath = \"out\"\n[sync]\nmode = \"diff\"\n{sync}\n"
            ),
            Path::new("/x/orders.toml"),
        )
    }

    const PG: &str = "type = \"postgres\"\nurl = \"postgres://u@h/db\"";

    #[test]
    fn a_state_schema_turns_the_source_engine_on_unless_the_sync_says_local() {
        let with_schema = format!("{PG}\nstate_schema = \"dropsync\"");
        assert_eq!(parse(PG, "").unwrap().sync.diff_engine, DiffEngine::Local);
        assert_eq!(
            parse(&with_schema, "").unwrap().sync.diff_engine,
            DiffEngine::Source
        );
        assert_eq!(
            parse(&with_schema, "diff_engine = \"local\"")
                .unwrap()
                .sync
                .diff_engine,
            DiffEngine::Local
        );
    }

    #[test]
    fn errors_name_the_key_and_the_fix() {
        let err = |source: &str, sync: &str| parse(source, sync).unwrap_err().to_string();
        assert!(err(PG, "diff_engine = \"source\"")
            .contains("[sync] diff_engine: \"source\" needs [source] state_schema = \"<schema>\""));
        assert!(err(PG, "diff_engine = \"remote\"")
            .contains("\"remote\" is not an engine; use \"local\" or \"source\""));
        assert!(err(
            "type = \"sqlite\"\npath = \"a.db\"",
            "diff_engine = \"source\""
        )
        .contains("\"source\" needs a PostgreSQL source"));
        assert!(err(&format!("{PG}\nstate_schema = \"public\""), "")
            .contains("[source] state_schema: \"public\" cannot hold Dropsync's state"));
        assert!(err(&format!("{PG}\nstate_schema = \"pg_temp\""), "").contains("cannot hold"));
        assert!(err(
            "type = \"mysql\"\nurl = \"mysql://u@h/db\"\nstate_schema = \"x\"",
            ""
        )
        .contains("[source] state_schema: only applies to type = \"postgres\""));
        assert!(err(
            "type = \"sqlite\"\npath = \"a.db\"\nstate_schema = \"x\"",
            ""
        )
        .contains(
            "[source] state_schema: only applies to type = \"postgres\" (the in-database diff)"
        ));
    }
}
