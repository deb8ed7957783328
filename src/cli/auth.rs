//! `dropsync auth`: connect, inspect and disconnect Dropbox accounts.

use super::{AuthCommand, Status};
use anyhow::Result;
use dropsync::dropbox::accounts::{self, AccountState};
use dropsync::dropbox::{oauth, tokens, Endpoints};
use std::path::Path;

pub fn auth(command: AuthCommand, state: &Path) -> Result<Status> {
    match command {
        AuthCommand::Dropbox {
            no_browser,
            app_key,
        } => connect(state, no_browser, app_key),
        AuthCommand::Status => status(state),
        AuthCommand::Disconnect { account } => disconnect(state, account.as_deref()),
    }
}

fn connect(state: &Path, no_browser: bool, app_key: Option<String>) -> Result<Status> {
    let opts = match app_key {
        Some(key) => oauth::FlowOptions::with_new_key(state, &key, !no_browser)?,
        None => oauth::FlowOptions::resolve(state, !no_browser)?,
    };
    // Instructions and the prompt go to stderr so that stdout holds only
    // the result.
    let info = accounts::connect(
        state,
        &Endpoints::from_env(),
        &opts,
        &|msg| eprintln!("{msg}"),
        &|| {
            eprint!("code: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).ok()?;
            Some(line)
        },
    )?;
    println!(
        "Connected Dropbox account {} <{}>; its token is kept in {}",
        info.display_name,
        info.email,
        if info.store == dropsync::dropbox::tokens::TokenStore::Keyring {
            "the OS credential store"
        } else {
            "a private file in the state folder"
        }
    );
    Ok(Status::Success)
}

/// Fails (exit 1) when an account needs attention, so that a script can
/// check the tokens before a scheduled run needs them.
fn status(state: &Path) -> Result<Status> {
    if tokens::list(state)?.is_empty() {
        println!("No Dropbox account is connected; run `dropsync auth dropbox`");
        return Ok(Status::Success);
    }
    let mut ok = true;
    for a in accounts::status(state)? {
        let status = match (a.state, &a.message) {
            (AccountState::Connected, _) => "connected".to_string(),
            (AccountState::ReconnectNeeded, m) => {
                format!("reconnect needed: {}", m.as_deref().unwrap_or_default())
            }
            (AccountState::Unreachable, m) => {
                format!("unreachable: {}", m.as_deref().unwrap_or_default())
            }
        };
        ok &= a.state == AccountState::Connected;
        println!(
            "{} <{}>  {}  ({})",
            a.info.display_name, a.info.email, status, a.info.store
        );
    }
    Ok(Status::of(ok))
}

fn disconnect(state: &Path, account: Option<&str>) -> Result<Status> {
    let (info, note) = accounts::disconnect(state, account)?;
    if let Some(note) = note {
        eprintln!("note: Dropbox did not confirm the token was revoked ({note})");
    }
    println!("Disconnected {} <{}>", info.display_name, info.email);
    Ok(Status::Success)
}
