//! Dropbox: the HTTP API v2 client, OAuth 2 with PKCE, and token storage.

pub mod accounts;
pub mod app_key;
mod arg;
mod client;
pub mod content_hash;
pub mod oauth;
pub mod tokens;

pub use arg::header_safe;
pub use client::{
    verify as client_verify, Account, Client, Credentials, Endpoints, Entry, EntryKind,
    FileMetadata, Session,
};

/// A client for the account a sync names: `DROPSYNC_DROPBOX_ACCESS_TOKEN`, or
/// `DROPSYNC_DROPBOX_REFRESH_TOKEN` with `DROPSYNC_DROPBOX_APP_KEY` (headless),
/// else the connected account's stored refresh token.
///
/// When the sync names an `account` and the environment holds a token, the
/// token's account is asked of Dropbox (`users/get_current_account`) first:
/// a token of another account is an error, never a silent switch of the
/// account the files go to.
pub fn connect(state_dir: &std::path::Path, account: Option<&str>) -> Result<Client, DropboxError> {
    let Some((credentials, var)) = env_credentials()? else {
        let info = tokens::find(state_dir, account)?;
        return connect_stored(state_dir, &info);
    };
    let client = Client::new(Endpoints::from_env(), credentials)?;
    let Some(sel) = account else {
        return Ok(client);
    };
    let theirs = client.current_account()?;
    // The named account as stored (by email or id), else the selector as written.
    let wanted = tokens::list(state_dir)?
        .into_iter()
        .find(|a| a.email.eq_ignore_ascii_case(sel) || a.account_id == sel);
    let matches = match &wanted {
        Some(a) => a.account_id == theirs.account_id,
        None => theirs.email.eq_ignore_ascii_case(sel) || theirs.account_id == sel,
    };
    if matches {
        Ok(client)
    } else {
        Err(DropboxError::NotConfigured(format!(
            "the sync names Dropbox account {sel:?}, but {var} belongs to {} <{}>; unset {var} to use the stored account {sel:?}, or set it to a token of that account",
            theirs.display_name, theirs.email
        )))
    }
}

/// A client with the stored refresh token of `info`, never the environment's.
pub fn connect_stored(
    state_dir: &std::path::Path,
    info: &tokens::AccountInfo,
) -> Result<Client, DropboxError> {
    Client::new(
        Endpoints::from_env(),
        Credentials::Refresh {
            refresh_token: tokens::refresh_token(state_dir, info)?,
            app_key: info.app_key.clone(),
        },
    )
}

/// The environment's credentials and the variable they came from, if any.
fn env_credentials() -> Result<Option<(Credentials, &'static str)>, DropboxError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(token) = env(crate::env_vars::DROPBOX_ACCESS_TOKEN) {
        return Ok(Some((
            Credentials::Access(Secret::new(token)),
            crate::env_vars::DROPBOX_ACCESS_TOKEN,
        )));
    }
    if let Some(refresh_token) = env(crate::env_vars::DROPBOX_REFRESH_TOKEN) {
        let app_key = env(crate::env_vars::DROPBOX_APP_KEY).ok_or_else(|| {
            DropboxError::NotConfigured("DROPSYNC_DROPBOX_REFRESH_TOKEN needs DROPSYNC_DROPBOX_APP_KEY, the app key it was issued to".into())
        })?;
        return Ok(Some((
            Credentials::Refresh {
                refresh_token: Secret::new(refresh_token),
                app_key,
            },
            crate::env_vars::DROPBOX_REFRESH_TOKEN,
        )));
    }
    Ok(None)
}

pub use crate::secret::Secret;

/// Errors of the Dropbox client, read from the API's `.tag`s.
#[derive(Debug, thiserror::Error)]
pub enum DropboxError {
    #[error("Dropbox needs to be connected again ({0}); {hint}", hint = crate::hints::RECONNECT_DROPBOX.cli)]
    ReconnectNeeded(String),
    #[error("Dropbox refused the access token ({0}); {hint}", hint = crate::hints::RECONNECT_DROPBOX.cli)]
    Auth(String),
    #[error("Dropbox: {message}")]
    Route {
        route: String,
        summary: String,
        message: String,
        /// The error value as Dropbox sent it (e.g. `correct_offset`).
        detail: Box<serde_json::Value>,
    },
    #[error("Dropbox rejected the request to {route}: {message}")]
    BadInput { route: String, message: String },
    #[error("Dropbox kept failing on {route} after {attempts} attempts: {last}")]
    Exhausted {
        route: String,
        attempts: u32,
        last: String,
    },
    #[error("the upload of {path} arrived corrupted (content hash {got}, expected {expected}); the run was not committed")]
    HashMismatch {
        path: String,
        expected: String,
        got: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Dropbox is not configured: {0}")]
    NotConfigured(String),
    /// No app key is known; the text says how to get one (CLI wording; the
    /// app shows its own guide).
    #[error("{0}")]
    NoAppKey(String),
    /// Dropbox answered the authorization page with an error before anyone
    /// could sign in: the app key, or the redirect address, is refused.
    #[error("{0}")]
    AppRefused(String),
    /// What was entered cannot be an app key (a URL, a secret with spaces).
    #[error("{0}")]
    InvalidAppKey(String),
    /// A problem with the destination, worded for the user as is.
    #[error("{0}")]
    Destination(String),
}

impl DropboxError {
    /// The innermost `.tag` path of a route error, e.g. `path/not_found`.
    pub fn summary(&self) -> Option<&str> {
        match self {
            DropboxError::Route { summary, .. } => Some(summary),
            _ => None,
        }
    }
}
