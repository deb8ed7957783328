//! Which Dropbox app Dropsync connects through. OAuth with PKCE needs only
//! the app's key (its client id), which Dropbox treats as public: it may be
//! compiled into a distributor's build, remembered in the state folder
//! (shared by the app and the CLI, never in a sync file), or set in the
//! environment for one process. The first of those that is set wins:
//! `DROPSYNC_DROPBOX_APP_KEY` > remembered > built in.

use super::{oauth, DropboxError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The environment variable that overrides every other key.
pub const ENV: &str = crate::env_vars::DROPBOX_APP_KEY;

/// Where Dropbox's developers create an app and find its key.
pub const APP_CONSOLE: &str = "https://www.dropbox.com/developers/apps";

/// The permissions the app needs (Permissions tab of the App Console):
/// the account's name for Connections, listing and creating folders, and
/// uploading (and reading back) the files Dropsync delivers.
pub const SCOPES: [&str; 4] = [
    "account_info.read",
    "files.metadata.read",
    "files.content.write",
    "files.content.read",
];

/// A key compiled in when `DROPSYNC_DROPBOX_APP_KEY` was set at build time.
const BUILT_IN: Option<&str> = option_env!("DROPSYNC_DROPBOX_APP_KEY");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Environment,
    Remembered,
    BuiltIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppKey {
    pub key: String,
    pub source: KeySource,
}

fn file(state_dir: &Path) -> PathBuf {
    state_dir.join("dropbox").join("app_key")
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The key in force, and where it comes from; `None` when none is set.
pub fn resolve(state_dir: &Path) -> Result<Option<AppKey>, DropboxError> {
    resolve_with(state_dir, non_empty(std::env::var(ENV).ok()), BUILT_IN)
}

fn resolve_with(
    state_dir: &Path,
    env: Option<String>,
    built_in: Option<&str>,
) -> Result<Option<AppKey>, DropboxError> {
    if let Some(key) = env {
        return Ok(Some(AppKey {
            key,
            source: KeySource::Environment,
        }));
    }
    if let Some(key) = remembered(state_dir)? {
        return Ok(Some(AppKey {
            key,
            source: KeySource::Remembered,
        }));
    }
    Ok(non_empty(built_in.map(str::to_string)).map(|key| AppKey {
        key,
        source: KeySource::BuiltIn,
    }))
}

fn remembered(state_dir: &Path) -> Result<Option<String>, DropboxError> {
    let path = file(state_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(non_empty(Some(text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DropboxError::Io {
            context: format!(
                "cannot read the remembered Dropbox app key {}",
                path.display()
            ),
            source: e,
        }),
    }
}

/// Checks the shape of a key before anything is stored or sent: Dropbox
/// app keys are short runs of letters and digits (`-` and `_` are let
/// through, as URL-safe client ids elsewhere use them). A pasted app *secret*
/// looks the same, which only Dropbox can tell apart (at authorize).
pub fn validate(key: &str) -> Result<String, DropboxError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(DropboxError::InvalidAppKey(
            "the app key is empty; paste the App key from your app's Settings tab in the Dropbox App Console".into(),
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if key.len() > 64 || !key.chars().all(allowed) {
        return Err(DropboxError::InvalidAppKey(format!(
            "{:?} is not a Dropbox app key: an app key is letters and digits only (like 'a1b2c3d4e5f6g7h'); copy the App key from your app's Settings tab in the Dropbox App Console",
            truncate(key)
        )));
    }
    Ok(key.to_string())
}

fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(24).collect();
    if s.chars().count() > 24 {
        out.push('…');
    }
    out
}

/// Remembers `key` for the app and the CLI (atomically; the file is not a
/// secret, but only the user has any business changing it).
pub fn remember(state_dir: &Path, key: &str) -> Result<String, DropboxError> {
    let key = validate(key)?;
    let path = file(state_dir);
    let io = |context: String| move |source| DropboxError::Io { context, source };
    let dir = path.parent().expect("app key file has a folder");
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{key}\n"))
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    std::fs::rename(&tmp, &path).map_err(io(format!("cannot write {}", path.display())))?;
    Ok(key)
}

/// Forgets the remembered key (the environment's and a built-in one stay).
pub fn forget(state_dir: &Path) -> Result<(), DropboxError> {
    match std::fs::remove_file(file(state_dir)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DropboxError::Io {
            context: format!("cannot remove {}", file(state_dir).display()),
            source: e,
        }),
    }
}

/// The redirect address to register in the App Console for `port`.
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}{}", oauth::CALLBACK_PATH)
}

/// What setting up a Dropbox app takes, for a person at a terminal.
pub fn setup_steps(port: u16) -> String {
    format!(
        "1. Open the Dropbox App Console ({APP_CONSOLE}) and create an app: Scoped access, \"App folder\" (or \"Full Dropbox\").\n\
         2. On its Permissions tab tick {} and press Submit.\n\
         3. On its Settings tab add the redirect URI {} under OAuth 2.\n\
         4. Copy the App key from the Settings tab (not the App secret).",
        SCOPES.join(", "),
        redirect_uri(port)
    )
}

/// The error for "no key anywhere", worded for the CLI; the app shows its
/// own guide instead of this text.
pub fn missing(port: u16) -> DropboxError {
    DropboxError::NoAppKey(format!(
        "Dropsync needs your Dropbox app's app key to connect.\n{}\nThen run `dropsync auth dropbox --app-key YOUR_APP_KEY` (the key is remembered), or set {ENV}.",
        setup_steps(port)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_then_the_remembered_key_then_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        assert_eq!(resolve_with(state, None, None).unwrap(), None);
        let built = resolve_with(state, None, Some("builtin1"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (built.key.as_str(), built.source),
            ("builtin1", KeySource::BuiltIn)
        );
        remember(state, "  remembered1 \n").unwrap();
        let got = resolve_with(state, None, Some("builtin1"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.key.as_str(), got.source),
            ("remembered1", KeySource::Remembered)
        );
        let got = resolve_with(state, Some("fromenv1".into()), Some("builtin1"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.key.as_str(), got.source),
            ("fromenv1", KeySource::Environment)
        );
        forget(state).unwrap();
        forget(state).unwrap();
        let got = resolve_with(state, None, None).unwrap();
        assert_eq!(got, None);
    }

    #[test]
    fn keys_that_cannot_be_app_keys_are_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "",
            "   ",
            "has space",
            "https://www.dropbox.com/x",
            "key\"quote",
        ] {
            let e = remember(dir.path(), bad).unwrap_err().to_string();
            assert!(e.contains("App key"), "{bad:?}: {e}");
        }
        assert!(!file(dir.path()).exists(), "nothing is remembered");
        assert_eq!(validate(" abc123 ").unwrap(), "abc123");
    }

    #[test]
    fn the_missing_key_message_names_the_app_key_the_scopes_and_the_redirect() {
        let e = missing(53682).to_string();
        for want in [
            "app key",
            "--app-key",
            "http://127.0.0.1:53682/dropsync/oauth/callback",
            "files.content.write",
            APP_CONSOLE,
        ] {
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
