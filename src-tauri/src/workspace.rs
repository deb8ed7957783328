//! Where the app keeps its sync files and state, and the first-start demo.

use crate::api::{ApiError, ApiResult, Code};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    /// The sync files (`*.toml`), the same the CLI runs.
    pub workspace: PathBuf,
    /// Snapshots, history and locks; the CLI's default, so both share state.
    pub state_dir: PathBuf,
}

impl Paths {
    /// `DROPSYNC_WORKSPACE` / `DROPSYNC_STATE_DIR` win over the defaults.
    pub fn resolve(default_workspace: PathBuf, default_state: PathBuf) -> Paths {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Paths {
            workspace: env("DROPSYNC_WORKSPACE").unwrap_or(default_workspace),
            state_dir: env("DROPSYNC_STATE_DIR").unwrap_or(default_state),
        }
    }

    /// The sync file a UI request names: a bare `*.toml` name inside the
    /// workspace, never a path that could leave it.
    pub fn sync_file(&self, name: &str) -> ApiResult<PathBuf> {
        let path = self.sync_path(name)?;
        if !path.is_file() {
            return Err(ApiError::new(
                Code::NotFound,
                format!(
                    "{name} is not in the workspace {} any more",
                    self.workspace.display()
                ),
            ));
        }
        Ok(path)
    }
}

impl Paths {
    /// Where a sync file of that name would be, whether or not it exists yet.
    pub fn sync_path(&self, name: &str) -> ApiResult<PathBuf> {
        let ok = !name.is_empty()
            && name.ends_with(".toml")
            && !name.starts_with('.')
            && !name.contains(['/', '\\', '\0']);
        if !ok {
            return Err(ApiError::new(
                Code::InvalidArgument,
                format!("{name:?} is not a sync file name"),
            ));
        }
        Ok(self.workspace.join(name))
    }

    /// A file in the workspace folder that relative paths of an unsaved
    /// draft or source resolve against, as they will once saved.
    pub fn unsaved(&self) -> PathBuf {
        self.workspace.join("unsaved.toml")
    }
}

/// Creates the demo workspace when the folder is missing or empty.
/// Returns whether it did.
pub fn ensure_workspace(dir: &Path) -> dropsync::Result<bool> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            return Err(dropsync::Error::io(
                format!("cannot read the workspace {}", dir.display()),
                e,
            ))
        }
    };
    if empty {
        dropsync::demo::create(dir)?;
    }
    Ok(empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_workspace_gets_the_demo_once() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        assert!(ensure_workspace(&ws).unwrap());
        let files = dropsync::daemon::sync_files(&ws).unwrap();
        assert!(!files.is_empty());
        assert!(!ensure_workspace(&ws).unwrap());
    }

    #[test]
    fn sync_file_names_cannot_leave_the_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.toml"), "").unwrap();
        let paths = Paths {
            workspace: tmp.path().to_path_buf(),
            state_dir: tmp.path().join("state"),
        };
        assert!(paths.sync_file("a.toml").is_ok());
        for bad in [
            "../a.toml",
            "/etc/a.toml",
            "a.txt",
            "",
            ".toml",
            "x\\a.toml",
        ] {
            assert_eq!(
                paths.sync_file(bad).unwrap_err().code,
                Code::InvalidArgument,
                "{bad}"
            );
        }
        assert_eq!(paths.sync_file("b.toml").unwrap_err().code, Code::NotFound);
    }
}
