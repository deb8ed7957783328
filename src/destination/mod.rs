//! Where files go. Every destination delivers a run's files in two phases:
//! first every file is transferred under a temporary name (where almost all
//! failures happen), then all are put in place together.

mod dropbox;
mod folder;

use crate::config::DestinationSpec;
use crate::error::Result;
use std::path::{Path, PathBuf};

pub use dropbox::DropboxDestination;
pub use folder::{clean_after_killed_run, settle_after_killed_run, FolderDestination};

/// A finished file of a run, waiting in the staging folder.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub local: PathBuf,
    /// Path relative to the destination folder, `/`-separated.
    pub relative: String,
    pub bytes: u64,
}

pub trait Destination: Send + Sync {
    fn describe(&self) -> String;
    /// Fails with an actionable message when the destination cannot take files.
    fn check(&self) -> Result<()>;
    /// Delivers every file or fails; `progress(bytes_done, bytes_total)` reports transfer.
    fn deliver(&self, files: &[StagedFile], progress: &dyn Fn(u64, u64)) -> Result<()>;
    /// Whether the destination holds this file of a run, byte for byte
    /// (for finishing a run killed during delivery: see recovery.rs).
    fn holds(&self, file: &crate::recovery::IntentFile) -> Result<bool>;
    /// Removes files a run delivered, by their paths relative to the
    /// destination folder (retention: see retention.rs). Per path, in
    /// order: `Ok` once no file of ours is there (deleted now, or already
    /// gone; a folder or link found at the path is left alone), else why
    /// it could not be deleted. Never touches anything but those paths.
    fn delete(&self, paths: &[String]) -> Vec<(String, Result<()>)> {
        paths
            .iter()
            .map(|p| {
                let e = crate::error::Error::Destination {
                    path: self.describe(),
                    message: "this destination cannot delete files".into(),
                };
                (p.clone(), Err(e))
            })
            .collect()
    }
}

/// A path a run recorded, safe to join to the destination folder: relative,
/// `/`-separated, without empty, `.` or `..` parts.
pub(crate) fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Opens a destination; Dropbox credentials come from `state_dir` or the
/// environment. `pending` is where a folder keeps the list of its temporary
/// files while it delivers (for the next run to clear after a kill).
pub fn open(
    spec: &DestinationSpec,
    state_dir: &Path,
    pending: Option<PathBuf>,
) -> Result<Box<dyn Destination>> {
    Ok(match spec {
        DestinationSpec::Folder { path } => {
            let folder = FolderDestination::new(path.clone());
            Box::new(match pending {
                Some(list) => folder.with_pending_list(list),
                None => folder,
            })
        }
        DestinationSpec::Dropbox { path, account } => {
            let client = crate::dropbox::connect(state_dir, account.as_deref())?;
            Box::new(DropboxDestination::new(client, path))
        }
    })
}
