//! Connected accounts as a user manages them: connect (the OAuth flow, then
//! the account stored), check each one, disconnect. The CLI's `auth` and the
//! desktop app's Connections screen both go through here.

use super::{oauth, tokens, Client, Credentials, DropboxError, Endpoints};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Connected,
    /// The refresh token no longer works: connect the account again.
    ReconnectNeeded,
    /// Dropbox could not be asked (network, outage); the token may be fine.
    Unreachable,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    pub info: tokens::AccountInfo,
    pub state: AccountState,
    /// Why the state is not `Connected`, worded for the user.
    pub message: Option<String>,
}

/// Runs the OAuth flow (see [`oauth::authorize`]) and stores the account.
pub fn connect(
    state_dir: &Path,
    endpoints: &Endpoints,
    opts: &oauth::FlowOptions,
    say: &dyn Fn(&str),
    read_code: &dyn Fn() -> Option<String>,
) -> Result<tokens::AccountInfo, DropboxError> {
    let got = oauth::authorize(endpoints, opts, say, read_code)?;
    let client = Client::new(
        endpoints.clone(),
        Credentials::Access(got.access_token.clone()),
    )?;
    let account = client.current_account()?;
    tokens::save(state_dir, &account, &opts.app_key, &got.refresh_token)
}

/// Whether a sync naming `account` (or none) has credentials to deliver
/// with, without asking Dropbox: the environment's tokens, or a stored
/// account the selector finds.
pub fn usable(state_dir: &Path, account: Option<&str>) -> Result<(), DropboxError> {
    let env = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    if env(crate::env_vars::DROPBOX_ACCESS_TOKEN) || env(crate::env_vars::DROPBOX_REFRESH_TOKEN) {
        return Ok(());
    }
    tokens::find(state_dir, account).map(|_| ())
}

/// Every stored account with whether its own stored token still works,
/// asked of Dropbox now (tokens in the environment play no part).
pub fn status(state_dir: &Path) -> Result<Vec<AccountStatus>, DropboxError> {
    Ok(tokens::list(state_dir)?
        .into_iter()
        .map(|info| {
            let checked = super::connect_stored(state_dir, &info).and_then(|c| c.current_account());
            let (state, message) = match checked {
                Ok(_) => (AccountState::Connected, None),
                Err(e @ (DropboxError::ReconnectNeeded(_) | DropboxError::Auth(_))) => {
                    (AccountState::ReconnectNeeded, Some(e.to_string()))
                }
                Err(e) => (AccountState::Unreachable, Some(e.to_string())),
            };
            AccountStatus {
                info,
                state,
                message,
            }
        })
        .collect())
}

/// Revokes the account's own stored token (best effort; never a token from
/// the environment, which may be another account's) and forgets the account.
/// Returns the account and, when Dropbox did not confirm the revocation,
/// why; the account is forgotten either way.
pub fn disconnect(
    state_dir: &Path,
    selector: Option<&str>,
) -> Result<(tokens::AccountInfo, Option<String>), DropboxError> {
    let info = tokens::find(state_dir, selector)?;
    let note = match super::connect_stored(state_dir, &info) {
        Ok(client) => client.revoke().err().map(|e| e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    tokens::remove(state_dir, &info.account_id)?;
    Ok((info, note))
}
