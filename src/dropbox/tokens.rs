//! Where Dropbox credentials live: the refresh token in the OS credential
//! store when there is one, else in a file only the user can read; a list of
//! connected accounts (no secrets) beside it. Tokens are never logged.

use super::{DropboxError, Secret};
use crate::hints;
use crate::secret::credential_store;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const SERVICE: &str = "dropsync-dropbox";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountInfo {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub app_key: String,
    /// Where the refresh token is kept.
    pub store: TokenStore,
}

/// Where a connected account's refresh token is kept: the OS credential
/// store, or a private file under the state folder (`keyring` / `file` in
/// `accounts.json` and on the wire).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum TokenStore {
    Keyring,
    File,
}

impl std::fmt::Display for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenStore::Keyring => "keyring",
            TokenStore::File => "file",
        })
    }
}

fn io_err(context: String, source: std::io::Error) -> DropboxError {
    DropboxError::Io { context, source }
}

fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("dropbox")
}

fn index_path(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("accounts.json")
}

fn token_file(state_dir: &Path, account_id: &str) -> PathBuf {
    let safe: String = account_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    dir(state_dir).join(format!("{safe}.token"))
}

pub fn list(state_dir: &Path) -> Result<Vec<AccountInfo>, DropboxError> {
    let path = index_path(state_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            DropboxError::NotConfigured(format!(
                "{} is damaged ({e}); {}",
                path.display(),
                crate::hints::DISCONNECT_AND_CONNECT.cli
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_err(format!("cannot read {}", path.display()), e)),
    }
}

fn write_index(state_dir: &Path, accounts: &[AccountInfo]) -> Result<(), DropboxError> {
    let path = index_path(state_dir);
    std::fs::create_dir_all(dir(state_dir))
        .map_err(|e| io_err(format!("cannot create {}", dir(state_dir).display()), e))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(accounts).unwrap_or_default(),
    )
    .map_err(|e| io_err(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_err(format!("cannot write {}", path.display()), e))
}

/// Writes a secret to a file readable only by the user (0600), atomically.
fn write_private(path: &Path, secret: &str) -> Result<(), DropboxError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    // A temporary file left by an interrupted save keeps whatever mode it
    // had; only a file created here is certain to be 0600.
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io_err(format!("cannot write {}", tmp.display()), e))?;
    f.write_all(secret.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| io_err(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(format!("cannot write {}", path.display()), e))
}

/// Saves an account's refresh token; returns where it went.
pub fn save(
    state_dir: &Path,
    account: &super::Account,
    app_key: &str,
    refresh_token: &Secret,
) -> Result<AccountInfo, DropboxError> {
    let mut store = TokenStore::File;
    if credential_store::wanted() {
        match credential_store::set(SERVICE, &account.account_id, refresh_token) {
            Ok(()) => store = TokenStore::Keyring,
            Err(e) => {
                tracing::info!(error = %e, "no OS credential store; keeping the token in a private file")
            }
        }
    }
    if store == TokenStore::File {
        std::fs::create_dir_all(dir(state_dir))
            .map_err(|e| io_err(format!("cannot create {}", dir(state_dir).display()), e))?;
        write_private(
            &token_file(state_dir, &account.account_id),
            refresh_token.expose(),
        )?;
    }
    let info = AccountInfo {
        account_id: account.account_id.clone(),
        email: account.email.clone(),
        display_name: account.display_name.clone(),
        app_key: app_key.to_string(),
        store,
    };
    let mut accounts = list(state_dir)?;
    accounts.retain(|a| a.account_id != info.account_id);
    accounts.push(info.clone());
    write_index(state_dir, &accounts)?;
    Ok(info)
}

/// The account a sync names (by email or account id), or the only one.
pub fn find(state_dir: &Path, selector: Option<&str>) -> Result<AccountInfo, DropboxError> {
    let accounts = list(state_dir)?;
    match selector {
        Some(sel) => accounts
            .into_iter()
            .find(|a| a.email.eq_ignore_ascii_case(sel) || a.account_id == sel)
            .ok_or_else(|| {
                DropboxError::NotConfigured(format!(
                    "no connected Dropbox account {sel:?}; {}",
                    hints::CONNECT_ACCOUNT.cli
                ))
            }),
        None => match accounts.len() {
            0 => Err(DropboxError::NotConfigured(format!(
                "no Dropbox account is connected; {}{}",
                hints::CONNECT_DROPBOX.cli,
                hints::ENV_TOKENS.cli
            ))),
            1 => Ok(accounts.into_iter().next().expect("one account")),
            _ => Err(DropboxError::NotConfigured(format!(
                "several Dropbox accounts are connected; {}",
                hints::NAME_ACCOUNT.cli
            ))),
        },
    }
}

pub fn refresh_token(state_dir: &Path, info: &AccountInfo) -> Result<Secret, DropboxError> {
    if info.store == TokenStore::Keyring {
        return credential_store::get(SERVICE, &info.account_id).map_err(|e| {
            DropboxError::ReconnectNeeded(format!(
                "the token is missing from the OS credential store ({e})"
            ))
        });
    }
    let path = token_file(state_dir, &info.account_id);
    std::fs::read_to_string(&path)
        .map(|s| Secret::new(s.trim()))
        .map_err(|e| DropboxError::ReconnectNeeded(format!("cannot read {} ({e})", path.display())))
}

/// Forgets an account and its token.
pub fn remove(state_dir: &Path, account_id: &str) -> Result<(), DropboxError> {
    let mut accounts = list(state_dir)?;
    if let Some(a) = accounts.iter().find(|a| a.account_id == account_id) {
        if a.store == TokenStore::Keyring {
            credential_store::delete(SERVICE, account_id);
        }
    }
    let _ = std::fs::remove_file(token_file(state_dir, account_id));
    accounts.retain(|a| a.account_id != account_id);
    write_index(state_dir, &accounts)
}
