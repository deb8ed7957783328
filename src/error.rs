//! Typed errors of the core. Every message names the problem and how to fix it.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}: {message}")]
    Config { file: PathBuf, message: String },

    /// A sync file's key holds something wrong; `field` names it as the
    /// file does, e.g. `[sync] filename`, so an editor can point at it.
    #[error("{file}: {field}: {message}")]
    Field {
        file: PathBuf,
        field: String,
        message: String,
    },

    #[error("source {source_name}: {message}")]
    Source {
        source_name: String,
        message: String,
    },

    /// The snapshot a run would compare with is not the one this sync
    /// delivered: kept by the other diff engine, dropped from the
    /// database, or kept another way (another key type or hashing).
    #[error("{what}; {}", crate::hints::MARK_DELIVERED.cli)]
    OutOfStep { what: String },

    #[error("the model's query failed: {message}. {}", crate::hints::FIX_SQL.cli)]
    Query { message: String },

    #[error("primary key column {column:?} is not among the model's columns ({available}). {}", crate::hints::CHOOSE_KEY.cli)]
    MissingKeyColumn { column: String, available: String },

    #[error("primary key {columns} is NULL in {count} row(s) (row numbers {rows}). Every row needs a key: filter those rows out in the query or choose another key")]
    NullKey {
        columns: String,
        count: u64,
        rows: String,
    },

    #[error("primary key {columns} is not unique: {count} key value(s) appear more than once, for example {keys}. Choose a key that is unique per row, or de-duplicate in the query")]
    DuplicateKey {
        columns: String,
        count: u64,
        keys: String,
    },

    #[error("column mapping #{index}: {message}")]
    Mapping { index: usize, message: String },

    /// A value its output column's type cannot hold (a Parquet column typed
    /// from the source's declared type). `message` names the value, the
    /// column's type and the fix; `row` is the row's key as
    /// [`crate::value::display_key`] shows it, when the caller knows it.
    #[error("{}column {column:?}: {message}", row.as_ref().map(|r| format!("row {r}: ")).unwrap_or_default())]
    ColumnValue {
        row: Option<String>,
        column: String,
        message: String,
    },

    #[error("filename template {template:?}: {message}")]
    Filename { template: String, message: String },

    #[error("destination {path}: {message}")]
    Destination { path: String, message: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("state store {}: {source}{}", path.display(), full_disk_hint(path, source))]
    State {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("sync {sync_id:?} is already running (lock {lock}). Wait for that run to finish")]
    Busy { sync_id: String, lock: PathBuf },

    /// The same sync file is already a running job of this workspace.
    #[error("{file} is already running. Wait for that run to finish")]
    AlreadyRunning { file: String },

    #[error("the run was cancelled; nothing was delivered and the snapshot is unchanged")]
    Cancelled,

    #[error(transparent)]
    Dropbox(Box<crate::dropbox::DropboxError>),

    /// Delivery stopped after some files had landed (Dropbox committed
    /// some entries of the batch and refused others): the run failed and
    /// its snapshot did not advance, but those files are there.
    #[error("{source}. {} of the run's files reached the destination before it stopped ({}); the next run sends this run's changes again", landed.len(), landed.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", "))]
    PartialDelivery {
        landed: Vec<crate::history::FileReport>,
        source: Box<Error>,
    },

    /// Every file landed but the commit after it failed (disk full, the
    /// state file locked or unwritable): the staging folder stays, so the
    /// next run can check the files and commit this run for it.
    #[error("the run's files were delivered, but its snapshot could not be saved: {source}; the next run checks that the files are there and completes this run, without sending them again")]
    NotCommitted { source: Box<Error> },

    #[error("internal error: {0}")]
    Internal(String),
}

/// SQLite says "disk I/O error" when the write-ahead log's index cannot
/// grow on a full disk: name the cause when the disk is indeed full.
fn full_disk_hint(path: &std::path::Path, e: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode::{DiskFull, SystemIoFailure};
    if !matches!(e.sqlite_error_code(), Some(DiskFull | SystemIoFailure)) {
        return "";
    }
    match free_bytes(path.parent().unwrap_or(path)) {
        Some(free) if free < 1024 * 1024 => {
            "; the disk holding the state folder is full: free some space there and run again (nothing was committed)"
        }
        _ => "",
    }
}

/// Bytes free for unprivileged use on the file system holding `dir`.
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is written by
    // statvfs before it is read, only when it returns 0.
    let st = unsafe {
        if libc::statvfs(c.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn config(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            message: message.into(),
        }
    }

    /// A stable, closed code for the UI and `--json` output to switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Config { .. } | Error::Field { .. } => ErrorCode::Config,
            Error::Source { .. } => ErrorCode::Source,
            Error::Query { .. } => ErrorCode::Query,
            Error::MissingKeyColumn { .. } | Error::NullKey { .. } | Error::DuplicateKey { .. } => {
                ErrorCode::PrimaryKey
            }
            Error::Mapping { .. } | Error::ColumnValue { .. } => ErrorCode::Mapping,
            Error::Filename { .. } => ErrorCode::Filename,
            Error::Destination { .. } => ErrorCode::Destination,
            Error::Io { .. } => ErrorCode::Io,
            Error::State { .. } => ErrorCode::State,
            Error::OutOfStep { .. } => ErrorCode::OutOfStep,
            Error::Busy { .. } | Error::AlreadyRunning { .. } => ErrorCode::Busy,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Dropbox(e)
                if matches!(
                    **e,
                    crate::dropbox::DropboxError::ReconnectNeeded(_)
                        | crate::dropbox::DropboxError::Auth(_)
                ) =>
            {
                ErrorCode::ReconnectNeeded
            }
            Error::Dropbox(_) => ErrorCode::Dropbox,
            Error::PartialDelivery { source, .. } | Error::NotCommitted { source } => source.code(),
            Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// What kind of failure an error (or a failed run) was: the closed set the
/// UI, `--json` output and scripts switch on. Serialized in snake_case
/// (`primary_key`), as stored in run history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Config,
    Source,
    Query,
    PrimaryKey,
    Mapping,
    Filename,
    Destination,
    Io,
    State,
    /// See [`Error::OutOfStep`].
    OutOfStep,
    Busy,
    Cancelled,
    ReconnectNeeded,
    Dropbox,
    Internal,
    /// Only in run history: the process stopped during the run.
    Interrupted,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::Config,
        ErrorCode::Source,
        ErrorCode::Query,
        ErrorCode::PrimaryKey,
        ErrorCode::Mapping,
        ErrorCode::Filename,
        ErrorCode::Destination,
        ErrorCode::Io,
        ErrorCode::State,
        ErrorCode::OutOfStep,
        ErrorCode::Busy,
        ErrorCode::Cancelled,
        ErrorCode::ReconnectNeeded,
        ErrorCode::Dropbox,
        ErrorCode::Internal,
        ErrorCode::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Config => "config",
            ErrorCode::Source => "source",
            ErrorCode::Query => "query",
            ErrorCode::PrimaryKey => "primary_key",
            ErrorCode::Mapping => "mapping",
            ErrorCode::Filename => "filename",
            ErrorCode::Destination => "destination",
            ErrorCode::Io => "io",
            ErrorCode::State => "state",
            ErrorCode::OutOfStep => "out_of_step",
            ErrorCode::Busy => "busy",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::ReconnectNeeded => "reconnect_needed",
            ErrorCode::Dropbox => "dropbox",
            ErrorCode::Internal => "internal",
            ErrorCode::Interrupted => "interrupted",
        }
    }

    /// A stored code; one this version does not know reads as `internal`.
    pub fn parse(s: &str) -> ErrorCode {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or(ErrorCode::Internal)
    }
}

/// `code == "query"`: codes compare with their wire names.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<crate::dropbox::DropboxError> for Error {
    fn from(e: crate::dropbox::DropboxError) -> Self {
        Error::Dropbox(Box::new(e))
    }
}

#[cfg(test)]
mod code_tests {
    use super::ErrorCode;

    #[test]
    fn codes_serialize_as_they_are_stored() {
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(ErrorCode::parse(c.as_str()), c);
        }
        assert_eq!(ErrorCode::parse("from_the_future"), ErrorCode::Internal);
    }
}
