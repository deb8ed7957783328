//! Commands of the Connections screen and the Dropbox folder browser.

use super::blocking;
use crate::api::{ApiError, ApiResult, AppCode, Code};
use crate::AppState;
use dropsync::dropbox::accounts::{self, AccountState, AccountStatus};
use dropsync::dropbox::app_key::{self, KeySource};
use dropsync::dropbox::tokens::TokenStore;
use dropsync::dropbox::{oauth, Endpoints, EntryKind};
use dropsync::ErrorCode;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use tauri::{AppHandle, State};
use tauri_specta::Event as _;

#[derive(Debug, Serialize, specta::Type)]
pub struct DropboxAccount {
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub store: TokenStore,
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
#[specta::specta]
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

/// What the Connections screen needs to guide a user through creating a
/// Dropbox app: the key in force (public by design: PKCE has no secret),
/// where it comes from, and what to register in the App Console.
#[derive(Debug, Serialize, specta::Type)]
pub struct DropboxSetup {
    pub app_key: Option<String>,
    pub key_source: Option<KeySource>,
    pub redirect_uri: String,
    pub scopes: Vec<&'static str>,
    pub app_console: &'static str,
}

#[tauri::command]
#[specta::specta]
pub async fn dropbox_setup(state: State<'_, AppState>) -> ApiResult<DropboxSetup> {
    let state = state.inner().clone();
    blocking(move || {
        let key = app_key::resolve(&state.paths.state_dir).map_err(core)?;
        Ok(DropboxSetup {
            app_key: key.as_ref().map(|k| k.key.clone()),
            key_source: key.map(|k| k.source),
            redirect_uri: app_key::redirect_uri(oauth::port()),
            scopes: app_key::SCOPES.to_vec(),
            app_console: app_key::APP_CONSOLE,
        })
    })
    .await
}

/// Forgets the remembered app key (to enter another one).
#[tauri::command]
#[specta::specta]
pub async fn dropbox_forget_app_key(state: State<'_, AppState>) -> ApiResult<()> {
    let state = state.inner().clone();
    blocking(move || app_key::forget(&state.paths.state_dir).map_err(core)).await
}

/// The connection in progress: Cancel stops it, and when the redirect
/// cannot be received the code the user pastes goes through `code`.
struct Connecting {
    cancel: Arc<AtomicBool>,
    code: Option<mpsc::Sender<String>>,
}

static CONNECTING: Mutex<Option<Connecting>> = Mutex::new(None);

fn connecting() -> std::sync::MutexGuard<'static, Option<Connecting>> {
    CONNECTING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits for a pasted code, until one comes or the connection is cancelled.
fn wait_for_pasted_code(codes: &mpsc::Receiver<String>, cancel: &AtomicBool) -> Option<String> {
    loop {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        match codes.recv_timeout(Duration::from_millis(200)) {
            Ok(code) => return Some(code),
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The first address in what the OAuth flow says to the user.
fn address_in(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
}

/// Event `oauth-url`: the authorization address, sent when a connection
/// starts (shown in case no browser opens).
#[derive(Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct OauthUrl {
    url: String,
    /// The redirect cannot be received (the port is taken): the user pastes
    /// the code Dropbox shows instead.
    paste_code: bool,
}

/// Connects an account: the authorization page opens in the system
/// browser (its address also goes to the UI as `oauth-url`), the redirect
/// comes back to 127.0.0.1 (or the user pastes the code when the port is
/// taken), and the account is stored. `app_key`, when given, is a key the
/// user just entered: it is remembered once Dropbox accepts it.
#[tauri::command]
#[specta::specta]
pub async fn dropbox_connect(
    app: AppHandle,
    state: State<'_, AppState>,
    app_key: Option<String>,
) -> ApiResult<DropboxAccount> {
    let state = state.inner().clone();
    let cancel = Arc::new(AtomicBool::new(false));
    let (code_tx, code_rx) = mpsc::channel::<String>();
    {
        let mut slot = connecting();
        if slot.is_some() {
            return Err(ApiError::new(
                Code::Core(ErrorCode::Busy),
                "a Dropbox connection is already waiting for the browser; finish or cancel it",
            ));
        }
        *slot = Some(Connecting {
            cancel: cancel.clone(),
            code: Some(code_tx),
        });
    }
    let result = blocking(move || {
        let state_dir = &state.paths.state_dir;
        let mut opts = match app_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => oauth::FlowOptions::with_new_key(state_dir, key, true),
            None => oauth::FlowOptions::resolve(state_dir, true),
        }
        .map_err(|e| match e {
            // The Connections screen shows its setup guide for this.
            dropsync::dropbox::DropboxError::NoAppKey(_) => ApiError::new(
                Code::App(AppCode::NoAppKey),
                "Dropsync needs your Dropbox app's key to connect: follow \"Set up Dropbox access\" above",
            ),
            e => core(e),
        })?;
        opts.cancel = Some(cancel.clone());
        let port_taken = AtomicBool::new(false);
        let say = |msg: &str| {
            let paste_code = msg.contains("is in use");
            if paste_code {
                port_taken.store(true, Ordering::Relaxed);
            }
            if let Some(url) = address_in(msg) {
                let _ = OauthUrl {
                    url: url.to_string(),
                    paste_code,
                }
                .emit(&app);
            }
        };
        let info = accounts::connect(
            state_dir,
            &Endpoints::from_env(),
            &opts,
            &say,
            &|| wait_for_pasted_code(&code_rx, &cancel),
        )
        .map_err(|e| {
            if cancel.load(Ordering::Relaxed) {
                ApiError::new(Code::Core(ErrorCode::Cancelled), "connecting was cancelled; nothing was stored")
            } else if port_taken.load(Ordering::Relaxed)
                && matches!(e, dropsync::dropbox::DropboxError::NotConfigured(_))
            {
                ApiError::new(
                    Code::Core(ErrorCode::Dropbox),
                    "no code was entered; connect again and paste the code Dropbox shows after you allow access",
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
#[specta::specta]
pub fn dropbox_cancel_connect() -> bool {
    match connecting().as_ref() {
        Some(c) => {
            c.cancel.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// The code Dropbox showed, pasted by the user while a connection waits
/// for it (the redirect port was taken).
#[tauri::command]
#[specta::specta]
pub fn dropbox_submit_code(code: String) -> ApiResult<()> {
    let code = code.trim().to_string();
    if code.is_empty() {
        return Err(ApiError::new(
            Code::App(AppCode::InvalidArgument),
            "paste the code Dropbox shows after you allow access",
        ));
    }
    let mut slot = connecting();
    let sender = slot.as_mut().and_then(|c| c.code.take()).ok_or_else(|| {
        ApiError::new(
            Code::App(AppCode::NotFound),
            "no Dropbox connection is waiting for a code; connect again",
        )
    })?;
    sender.send(code).map_err(|_| {
        ApiError::new(
            Code::App(AppCode::NotFound),
            "the connection stopped waiting; connect again",
        )
    })
}

#[tauri::command]
#[specta::specta]
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

#[derive(Debug, Serialize, specta::Type)]
pub struct DropboxEntry {
    pub name: String,
    pub path: String,
    pub kind: EntryKind,
    pub size: Option<u64>,
    pub modified: Option<String>,
}

#[derive(Debug, Serialize, specta::Type)]
pub struct DropboxListing {
    pub path: String,
    pub entries: Vec<DropboxEntry>,
}

/// `/` or a folder path; anything else is refused before Dropbox sees it.
fn folder_path(path: &str) -> ApiResult<String> {
    let trimmed = path.trim_end_matches('/');
    if !path.starts_with('/') {
        return Err(ApiError::new(
            Code::App(AppCode::InvalidArgument),
            format!("{path:?} is not a Dropbox path; it starts with '/'"),
        ));
    }
    if !trimmed.is_empty() {
        dropsync::filename::check_relative_path(&trimmed[1..]).map_err(|m| {
            ApiError::new(
                Code::Core(ErrorCode::Destination),
                format!("{trimmed:?} {m}"),
            )
        })?;
    }
    Ok(if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    })
}

/// A folder's entries: folders first, then files, each by name.
#[tauri::command]
#[specta::specta]
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
            .filter(|e| e.kind != EntryKind::Other)
            .map(|e| DropboxEntry {
                name: e.name,
                path: e.path_display,
                kind: e.kind,
                size: e.size,
                modified: e.server_modified,
            })
            .collect();
        entries.sort_by(|a, b| {
            (a.kind != EntryKind::Folder, a.name.to_lowercase())
                .cmp(&(b.kind != EntryKind::Folder, b.name.to_lowercase()))
        });
        Ok(DropboxListing { path, entries })
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn dropbox_create_folder(
    state: State<'_, AppState>,
    path: String,
    account: Option<String>,
) -> ApiResult<()> {
    let state = state.inner().clone();
    blocking(move || {
        let path = folder_path(&path)?;
        if path == "/" {
            return Err(ApiError::new(
                Code::App(AppCode::InvalidArgument),
                "name the new folder",
            ));
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
            Code::App(AppCode::InvalidArgument)
        );
        assert_eq!(
            folder_path("/a/../b").unwrap_err().code,
            Code::Core(ErrorCode::Destination)
        );
    }
}
