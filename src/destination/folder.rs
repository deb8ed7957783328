//! A local (or mounted) folder.

use super::{Destination, StagedFile};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub struct FolderDestination {
    root: PathBuf,
}

impl FolderDestination {
    pub fn new(root: PathBuf) -> Self {
        FolderDestination { root }
    }

    fn err(&self, message: String) -> Error {
        Error::Destination {
            path: self.root.display().to_string(),
            message,
        }
    }

    fn temp_name(target: &Path) -> PathBuf {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        target.with_file_name(format!(
            ".{name}.dropsync-{}.tmp",
            uuid::Uuid::new_v4().simple()
        ))
    }

    /// Puts one file beside its target under a temporary name.
    fn transfer(&self, file: &StagedFile) -> Result<(PathBuf, PathBuf)> {
        let target = self.root.join(&file.relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                self.err(format!(
                    "cannot create the folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
        if target.is_dir() {
            return Err(self.err(format!(
                "{} is a folder, so the file cannot be written there; change the filename template",
                file.relative
            )));
        }
        let temp = Self::temp_name(&target);
        // Same file system: a rename moves it without copying.
        if std::fs::rename(&file.local, &temp).is_err() {
            std::fs::copy(&file.local, &temp).map_err(|e| {
                let _ = std::fs::remove_file(&temp);
                self.err(format!("cannot write {}: {e}", file.relative))
            })?;
            let f = std::fs::File::open(&temp)
                .map_err(|e| self.err(format!("cannot reopen {}: {e}", temp.display())))?;
            f.sync_all()
                .map_err(|e| self.err(format!("cannot flush {}: {e}", file.relative)))?;
        }
        Ok((temp, target))
    }
}

impl Destination for FolderDestination {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    fn check(&self) -> Result<()> {
        if !self.root.is_dir() {
            return Err(self.err(
                "the folder does not exist; create it (mkdir) or fix [destination] path".into(),
            ));
        }
        Ok(())
    }

    fn deliver(&self, files: &[StagedFile], progress: &dyn Fn(u64, u64)) -> Result<()> {
        self.check()?;
        let total: u64 = files.iter().map(|f| f.bytes).sum();
        let mut done = 0;
        let mut moved: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
        for file in files {
            match self.transfer(file) {
                Ok(pair) => moved.push(pair),
                Err(e) => {
                    for (temp, _) in &moved {
                        let _ = std::fs::remove_file(temp);
                    }
                    return Err(e);
                }
            }
            done += file.bytes;
            progress(done, total);
        }
        for (temp, target) in &moved {
            std::fs::rename(temp, target).map_err(|e| {
                self.err(format!(
                    "cannot move the file into place at {}: {e}",
                    target.display()
                ))
            })?;
        }
        Ok(())
    }
}
