//! Commands of the Connections screen and the Dropbox folder browser.

use super::blocking;
use crate::api::{ApiError, ApiResult, Code};
use crate::AppState;
use dropsync::dropbox::accounts::{self, AccountState, AccountStatus};
use dropsync::dropbox::{oauth, Endpoints};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Emitter, State};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DropboxAccount {
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub store: String,
    pub state: AccountState,
    pub message: Option<String>,
}

impl From<AccountStatus> for DropboxAccount {
    fn from(a: AccountStatus) -> Self {
        DropboxAccount {
            account_id: a.info.account_id,
            email: a.info.email,
            name: a.info.display_name,
            store: a.info.store,
            state: a.state,
            message: a.message,
        }
    }
}

fn core(e: dropsync::dropbox::DropboxError) -> ApiError {
    dropsync::Error::from(e).into()
}

#[tauri::command]
pub async fn dropbox_accounts(state: State<'_, AppState>) -> ApiResult<Vec<DropboxAccount>> {
    let state = state.inner().clone();
    blocking(move || {
        Ok(accounts::status(&state.paths.state_dir)
            .map_err(core)?
            .into_iter()
            .map(DropboxAccount::from)
            .collect())
    })
    .await
}

/// The connection in progress, so that Cancel can stop it.
static CONNECTING: Mutex<Option<Arc<AtomicBool>>> = Mutex::new(None);

fn connecting() -> std::sync::MutexGuard<'static, Option<Arc<AtomicBool>>> {
    CONNECTING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first address in what the OAuth flow says to the user.
fn address_in(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
}

#[derive(Clone, Serialize)]
struct OAuthUrl {
    url: String,
}

/// Connects an account: the authorization page opens in the system
/// browser (its address also goes to the UI as `oauth-url`), the redirect
/// comes back to 127.0.0.1, and the account is stored.
#[tauri::command]
pub async fn dropbox_connect(
    app: AppHandle,
    state: State<'_, AppState>,
) -> ApiResult<DropboxAccount> {
    let state = state.inner().clone();
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let mut slot = connecting();
        if slot.is_some() {
            return Err(ApiError::new(
                Code::Busy,
                "a Dropbox connection is already waiting for the browser; finish or cancel it",
            ));
        }
        *slot = Some(cancel.clone());
    }
    let result = blocking(move || {
        let mut opts = oauth::FlowOptions::from_env(true).map_err(core)?;
        opts.cancel = Some(cancel);
        let port_taken = AtomicBool::new(false);
        let say = |msg: &str| {
            if msg.contains("is in use") {
                port_taken.store(true, Ordering::Relaxed);
            }
            if let Some(url) = address_in(msg) {
                let _ = app.emit("oauth-url", OAuthUrl { url: url.to_string() });
            }
        };
        let info = accounts::connect(
            &state.paths.state_dir,
            &Endpoints::from_env(),
            &opts,
            &say,
            &|| None,
        )
        .map_err(|e| {
            if port_taken.load(Ordering::Relaxed) {
                ApiError::new(
                    Code::Dropbox,
                    format!(
                        "port {} on 127.0.0.1 is in use, so Dropsync cannot receive Dropbox's answer. Close the program using it (another Dropsync connecting?) or set DROPSYNC_OAUTH_PORT, then connect again, or run `dropsync auth dropbox` in a terminal",
                        opts.port
                    ),
                )
            } else {
                core(e)
            }
        })?;
        tracing::info!(account = %info.email, "Dropbox account connected");
        Ok(DropboxAccount {
            account_id: info.account_id,
            email: info.email,
            name: info.display_name,
            store: info.store,
            state: AccountState::Connected,
            message: None,
        })
    })
    .await;
    *connecting() = None;
    result
}

/// Stops a connection waiting for the browser; false when none was.
#[tauri::command]
pub fn dropbox_cancel_connect() -> bool {
    match connecting().as_ref() {
        Some(c) => {
            c.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

#[tauri::command]
pub async fn dropbox_disconnect(state: State<'_, AppState>, account_id: String) -> ApiResult<()> {
    let state = state.inner().clone();
    blocking(move || {
        let (info, note) =
            accounts::disconnect(&state.paths.state_dir, Some(&account_id)).map_err(core)?;
        if let Some(note) = note {
            tracing::warn!(account = %info.email, note = %note, "Dropbox did not confirm the revocation");
        }
        Ok(())
    })
    .await
}

#[derive(Debug, Serialize)]
pub struct DropboxEntry {
    pub name: String,
    pub path: String,
    /// "folder" or "file"
    pub kind: String,
    pub size: Option<u64>,
    pub modified: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DropboxListing {
    pub path: String,
    pub entries: Vec<DropboxEntry>,
}

/// `/` or a folder path; anything else is refused before Dropbox sees it.
fn folder_path(path: &str) -> ApiResult<String> {
    let trimmed = path.trim_end_matches('/');
    if !path.starts_with('/') {
        return Err(ApiError::new(
            Code::InvalidArgument,
            format!("{path:?} is not a Dropbox path; it starts with '/'"),
        ));
    }
    if !trimmed.is_empty() {
        dropsync::filename::check_relative_path(&trimmed[1..])
            .map_err(|m| ApiError::new(Code::Destination, format!("{trimmed:?} {m}")))?;
    }
    Ok(if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    })
}

/// A folder's entries: folders first, then files, each by name.
#[tauri::command]
pub async fn dropbox_list(
    state: State<'_, AppState>,
    path: String,
    account: Option<String>,
) -> ApiResult<DropboxListing> {
    let state = state.inner().clone();
    blocking(move || {
        let path = folder_path(&path)?;
        let client =
            dropsync::dropbox::connect(&state.paths.state_dir, account.as_deref()).map_err(core)?;
        let mut entries: Vec<DropboxEntry> = client
            .list_folder(&path)
            .map_err(core)?
            .into_iter()
            .filter(|e| e.kind == "folder" || e.kind == "file")
            .map(|e| DropboxEntry {
                name: e.name,
                path: e.path_display,
                kind: e.kind,
                size: e.size,
                modified: e.server_modified,
            })
            .collect();
        entries.sort_by(|a, b| {
            (a.kind != "folder", a.name.to_lowercase())
                .cmp(&(b.kind != "folder", b.name.to_lowercase()))
        });
        Ok(DropboxListing { path, entries })
    })
    .await
}

#[tauri::command]
pub async fn dropbox_create_folder(
    state: State<'_, AppState>,
    path: String,
    account: Option<String>,
) -> ApiResult<()> {
    let state = state.inner().clone();
    blocking(move || {
        let path = folder_path(&path)?;
        if path == "/" {
            return Err(ApiError::new(Code::InvalidArgument, "name the new folder"));
        }
        let client =
            dropsync::dropbox::connect(&state.paths.state_dir, account.as_deref()).map_err(core)?;
        client.create_folder(&path).map_err(core)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_address_is_found_in_its_message() {
        let msg = "Open this address to connect Dropbox (it opens in your browser if it can):\nhttps://www.dropbox.com/oauth2/authorize?client_id=x&state=y";
        assert_eq!(
            address_in(msg),
            Some("https://www.dropbox.com/oauth2/authorize?client_id=x&state=y")
        );
        assert_eq!(address_in("no address"), None);
    }

    #[test]
    fn folder_paths_are_checked_before_dropbox_sees_them() {
        assert_eq!(folder_path("/").unwrap(), "/");
        assert_eq!(folder_path("/Exports/").unwrap(), "/Exports");
        assert_eq!(
            folder_path("Exports").unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(folder_path("/a/../b").unwrap_err().code, Code::Destination);
    }
}
