//! Where the app keeps its sync files and state, and the first-start demo.

use crate::api::{ApiError, ApiResult, AppCode, Code};
use dropsync::ErrorCode;
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
            workspace: env(dropsync::env_vars::WORKSPACE).unwrap_or(default_workspace),
            state_dir: env(dropsync::env_vars::STATE_DIR).unwrap_or(default_state),
        }
    }

    /// The sync file a UI request names: a bare `*.toml` name inside the
    /// workspace, never a path that could leave it.
    pub fn sync_file(&self, name: &str) -> ApiResult<PathBuf> {
        let path = self.sync_path(name)?;
        if !path.is_file() {
            return Err(ApiError::new(
                Code::App(AppCode::NotFound),
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
                Code::App(AppCode::InvalidArgument),
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

/// The workspace folder the user chose in the app (Syncs → Change…), kept
/// in `settings.json` in the app's config folder; `DROPSYNC_WORKSPACE`
/// still wins over it.
pub fn chosen_workspace(config_dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config_dir.join(SETTINGS)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("workspace")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

const SETTINGS: &str = "settings.json";

/// Remembers `dir` as the workspace from the next start on. It must be an
/// absolute folder that exists (the user picked it in a dialog).
pub fn choose_workspace(config_dir: &Path, dir: &Path) -> ApiResult<()> {
    if !dir.is_absolute() || !dir.is_dir() {
        return Err(ApiError::new(
            Code::App(AppCode::InvalidArgument),
            format!(
                "{} is not a folder; choose an existing folder",
                dir.display()
            ),
        ));
    }
    let io = |e: std::io::Error| {
        ApiError::new(
            Code::Core(ErrorCode::Io),
            format!(
                "cannot save the workspace choice in {}: {e}",
                config_dir.display()
            ),
        )
    };
    std::fs::create_dir_all(config_dir).map_err(io)?;
    let tmp = config_dir.join("settings.json.tmp");
    let body = serde_json::json!({ "workspace": dir });
    std::fs::write(&tmp, serde_json::to_vec_pretty(&body).unwrap_or_default()).map_err(io)?;
    std::fs::rename(&tmp, config_dir.join(SETTINGS)).map_err(io)
}

/// Where a new sync delivers by default: a visible folder in the user's
/// home (never the app's hidden data folder), named so it is found again.
pub fn default_output_folder() -> PathBuf {
    dirs::home_dir()
        .map(|h| h.join("Dropsync"))
        .unwrap_or_else(|| PathBuf::from("out"))
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
        let files = dropsync::workspace::sync_files(&ws).unwrap();
        assert!(!files.is_empty());
        assert!(!ensure_workspace(&ws).unwrap());
    }

    #[test]
    fn a_chosen_workspace_is_remembered_and_must_be_a_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("config");
        assert_eq!(chosen_workspace(&config), None);
        let ws = tmp.path().join("my syncs");
        assert_eq!(
            choose_workspace(&config, &ws).unwrap_err().code,
            Code::App(AppCode::InvalidArgument)
        );
        assert_eq!(
            choose_workspace(&config, Path::new("relative"))
                .unwrap_err()
                .code,
            Code::App(AppCode::InvalidArgument)
        );
        std::fs::create_dir_all(&ws).unwrap();
        choose_workspace(&config, &ws).unwrap();
        assert_eq!(chosen_workspace(&config), Some(ws));
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
                Code::App(AppCode::InvalidArgument),
                "{bad}"
            );
        }
        assert_eq!(
            paths.sync_file("b.toml").unwrap_err().code,
            Code::App(AppCode::NotFound)
        );
    }
}
