//! A local (or mounted) folder. A run's files land all or none: each goes
//! beside its target under a temporary name (and is flushed to disk), then
//! every file it replaces is set aside, then all are renamed into place and
//! the folders flushed. If any step fails, the files set aside go back and
//! every temporary file is removed. The names of those temporary files are
//! written to a list first, so that the next run can clear what a killed
//! run left behind (see [`clean_after_killed_run`]).

use super::{Destination, StagedFile};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub struct FolderDestination {
    root: PathBuf,
    /// Where to keep the list of temporary files while delivering.
    pending: Option<PathBuf>,
}

/// One file on its way: staged under `temp`, to become `target`; `aside`
/// holds the file it replaces while the run is not yet in place.
struct Move {
    temp: PathBuf,
    target: PathBuf,
    aside: Option<PathBuf>,
}

impl FolderDestination {
    pub fn new(root: PathBuf) -> Self {
        FolderDestination {
            root,
            pending: None,
        }
    }

    /// Keeps the list of this run's temporary files at `path` while it
    /// delivers (removed when delivery ends, either way).
    pub fn with_pending_list(mut self, path: PathBuf) -> Self {
        self.pending = Some(path);
        self
    }

    fn err(&self, message: String) -> Error {
        Error::Destination {
            path: self.root.display().to_string(),
            message,
        }
    }

    fn side_name(target: &Path, tag: &str, ext: &str) -> PathBuf {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        target.with_file_name(format!(".{name}.dropsync-{tag}.{ext}"))
    }

    /// Puts one file beside its target under a temporary name, on disk.
    fn transfer(&self, file: &StagedFile, temp: &Path, target: &Path) -> Result<()> {
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
        // Same file system: a rename moves it without copying.
        if std::fs::rename(&file.local, temp).is_err() {
            std::fs::copy(&file.local, temp)
                .map_err(|e| self.err(format!("cannot write {}: {e}", file.relative)))?;
        }
        // The snapshot commits after delivery: the file's bytes must be on
        // disk before then, or a power loss could keep the snapshot and
        // lose the file.
        sync_file(temp).map_err(|e| self.err(format!("cannot flush {}: {e}", file.relative)))
    }

    fn write_pending(&self, moves: &[Move]) -> Result<()> {
        let Some(list) = &self.pending else {
            return Ok(());
        };
        let text: String = moves
            .iter()
            .flat_map(|m| [&m.temp, &m.target])
            .map(|p| format!("{}\n", p.display()))
            .collect();
        std::fs::write(list, text)
            .and_then(|_| sync_file(list))
            .map_err(|e| Error::io(format!("cannot write {}", list.display()), e))
    }

    /// Notes in the list that files are being put in place: from here on a
    /// target with nothing set aside and no temporary file left is this
    /// run's, and a clean-up after a kill removes it.
    fn mark_placing(&self) -> Result<()> {
        let Some(list) = &self.pending else {
            return Ok(());
        };
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(list)
            .and_then(|mut f| {
                f.write_all(format!("{PLACING}\n").as_bytes())?;
                f.sync_all()
            })
            .map_err(|e| Error::io(format!("cannot write {}", list.display()), e))
    }

    /// Undoes a delivery that did not complete: what was put in place goes
    /// away, what was set aside comes back, no temporary file stays.
    fn roll_back(moves: &[Move], placed: usize) {
        for (i, m) in moves.iter().enumerate() {
            if i < placed {
                match &m.aside {
                    Some(aside) => {
                        let _ = std::fs::rename(aside, &m.target);
                    }
                    None => {
                        let _ = std::fs::remove_file(&m.target);
                    }
                }
            } else if let Some(aside) = &m.aside {
                let _ = std::fs::rename(aside, &m.target);
            }
            let _ = std::fs::remove_file(&m.temp);
        }
    }
}

fn sync_file(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// Flushes a folder's entries (the renames in it) to disk.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// A fault for tests only: fail the move into place of this relative path.
#[cfg(debug_assertions)]
fn injected_rename_failure(target: &Path) -> Option<std::io::Error> {
    let want = std::env::var(crate::env_vars::TEST_FAIL_PLACING).ok()?;
    target
        .ends_with(&want)
        .then(|| std::io::Error::other("injected failure (DROPSYNC_TEST_FAIL_PLACING)"))
}

#[cfg(not(debug_assertions))]
fn injected_rename_failure(_: &Path) -> Option<std::io::Error> {
    None
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

    fn holds(&self, file: &crate::recovery::IntentFile) -> Result<bool> {
        let target = self.root.join(&file.relative);
        match std::fs::metadata(&target) {
            Ok(m) if m.is_file() && m.len() == file.bytes => {
                let hash = crate::recovery::file_xxh3(&target)
                    .map_err(|e| self.err(format!("cannot read {}: {e}", target.display())))?;
                Ok(hash == file.xxh3)
            }
            _ => Ok(false),
        }
    }

    fn delete(&self, paths: &[String]) -> Vec<(String, Result<()>)> {
        paths
            .iter()
            .map(|rel| {
                let result = if !super::safe_relative(rel) {
                    Err(self.err(format!(
                        "{rel} is not a path inside the folder; not deleted"
                    )))
                } else {
                    let target = self.root.join(rel);
                    match std::fs::symlink_metadata(&target) {
                        Ok(m) if m.is_file() => std::fs::remove_file(&target)
                            .map_err(|e| self.err(format!("cannot delete {rel}: {e}"))),
                        // A folder or a link someone put there: not ours.
                        Ok(_) => Ok(()),
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                            ) =>
                        {
                            Ok(())
                        }
                        Err(e) => Err(self.err(format!("cannot delete {rel}: {e}"))),
                    }
                };
                (rel.clone(), result)
            })
            .collect()
    }

    fn deliver(&self, files: &[StagedFile], progress: &dyn Fn(u64, u64)) -> Result<()> {
        self.check()?;
        let total: u64 = files.iter().map(|f| f.bytes).sum();
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let moves: Vec<Move> = files
            .iter()
            .map(|f| {
                let target = self.root.join(&f.relative);
                Move {
                    temp: Self::side_name(&target, &tag, "tmp"),
                    aside: None,
                    target,
                }
            })
            .collect();
        self.write_pending(&moves)?;
        let result = self.deliver_moves(files, moves, total, progress);
        if let Some(list) = &self.pending {
            let _ = std::fs::remove_file(list);
        }
        result
    }
}

impl FolderDestination {
    fn deliver_moves(
        &self,
        files: &[StagedFile],
        mut moves: Vec<Move>,
        total: u64,
        progress: &dyn Fn(u64, u64),
    ) -> Result<()> {
        let mut done = 0;
        for (i, file) in files.iter().enumerate() {
            if let Err(e) = self.transfer(file, &moves[i].temp, &moves[i].target) {
                Self::roll_back(&moves, 0);
                return Err(e);
            }
            done += file.bytes;
            progress(done, total);
        }
        // Set aside what the run replaces, so a failure can bring it back.
        for i in 0..moves.len() {
            let target = moves[i].target.clone();
            if target.is_file() {
                let aside = moves[i].temp.with_extension("old");
                if let Err(e) = std::fs::rename(&target, &aside) {
                    Self::roll_back(&moves, 0);
                    return Err(self.err(format!(
                        "cannot set aside {} to replace it: {e}",
                        target.display()
                    )));
                }
                moves[i].aside = Some(aside);
            }
        }
        self.mark_placing()?;
        for (i, m) in moves.iter().enumerate() {
            let placed = match injected_rename_failure(&m.target) {
                Some(e) => Err(e),
                None => std::fs::rename(&m.temp, &m.target),
            };
            if let Err(e) = placed {
                Self::roll_back(&moves, i);
                return Err(self.err(format!(
                    "cannot move the file into place at {}: {e}; no file of this run was delivered",
                    m.target.display()
                )));
            }
        }
        let mut folders: Vec<&Path> = moves.iter().filter_map(|m| m.target.parent()).collect();
        folders.sort();
        folders.dedup();
        for dir in folders {
            sync_dir(dir).map_err(|e| self.err(format!("cannot flush {}: {e}", dir.display())))?;
        }
        // Every file is in place: from now on a kill must leave them there
        // (the next run then sends the same changes again), so the list
        // that would undo them goes before what was set aside does.
        if let Some(list) = &self.pending {
            let _ = std::fs::remove_file(list);
        }
        for m in &moves {
            if let Some(aside) = &m.aside {
                let _ = std::fs::remove_file(aside);
            }
        }
        Ok(())
    }
}

/// The list's last line once files are being put in place.
const PLACING: &str = "-- placing";

/// Clears what a killed delivery left in the destination, from its list of
/// temporary files, so the destination is as the last committed run left
/// it (the killed run never advanced the snapshot, and the next run sends
/// its changes again): every temporary file goes, a file set aside goes
/// back, and a file the killed run had already put in place goes.
pub fn clean_after_killed_run(list: &Path) {
    let Ok(text) = std::fs::read_to_string(list) else {
        return;
    };
    let mut lines: Vec<&str> = text.lines().collect();
    let placing = lines.last() == Some(&PLACING);
    if placing {
        lines.pop();
    }
    for pair in lines.chunks(2) {
        let [temp, target] = pair else { continue };
        let (temp, target) = (Path::new(temp), Path::new(target));
        let aside = temp.with_extension("old");
        if aside.is_file() {
            // What the last committed run delivered there comes back.
            let _ = std::fs::rename(&aside, target);
        } else if placing && !temp.exists() && target.is_file() {
            // Placed by the killed run, and there was nothing before it.
            tracing::info!(file = %target.display(), "removing a file of an interrupted run");
            let _ = std::fs::remove_file(target);
        }
        if temp.is_file() {
            tracing::info!(file = %temp.display(), "removing a temporary file of an interrupted run");
            let _ = std::fs::remove_file(temp);
        }
    }
    let _ = std::fs::remove_file(list);
}

/// After a killed run whose files are all in place (and which the next run
/// commits): what it set aside and any temporary file go, nothing returns.
pub fn settle_after_killed_run(list: &Path) {
    let Ok(text) = std::fs::read_to_string(list) else {
        return;
    };
    for temp in text.lines().filter(|l| *l != PLACING).step_by(2) {
        let temp = Path::new(temp);
        let _ = std::fs::remove_file(temp.with_extension("old"));
        let _ = std::fs::remove_file(temp);
    }
    let _ = std::fs::remove_file(list);
}
