//! Connecting an account: OAuth 2 authorization code flow with PKCE (S256)
//! and a checked `state`, offline access (refresh tokens). The redirect goes
//! to a listener on 127.0.0.1 at a fixed port and path, which must be
//! registered in the Dropbox App Console; when the port is taken, the user
//! pastes the code instead (no redirect_uri).

use super::{app_key, client::Endpoints, DropboxError, Secret};
use crate::hints;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, TokenResponse,
    TokenUrl,
};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 53682;
pub const CALLBACK_PATH: &str = "/dropsync/oauth/callback";

#[derive(Debug, Clone)]
pub struct FlowOptions {
    pub app_key: String,
    pub port: u16,
    /// Try to open the system browser (else only print the URL).
    pub open_browser: bool,
    pub timeout: Duration,
    /// Set from elsewhere to stop waiting for the browser (a Cancel button).
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// A state folder to remember `app_key` in once Dropbox has accepted it
    /// (a key the user just typed; a refused key is never remembered).
    pub remember_in: Option<std::path::PathBuf>,
}

/// The redirect listener's port: `DROPSYNC_OAUTH_PORT`, else the default
/// (the one a Dropbox app registers in its redirect URI).
pub fn port() -> u16 {
    std::env::var(crate::env_vars::OAUTH_PORT)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_PORT)
}

impl FlowOptions {
    /// The app key in force (see [`app_key::resolve`]) and the port; a
    /// missing key is an error that says how to get one.
    pub fn resolve(state_dir: &std::path::Path, open_browser: bool) -> Result<Self, DropboxError> {
        let port = port();
        let key = app_key::resolve(state_dir)?.ok_or_else(|| app_key::missing(port))?;
        Ok(FlowOptions {
            app_key: key.key,
            port,
            open_browser,
            timeout: Duration::from_secs(300),
            cancel: None,
            remember_in: None,
        })
    }

    /// Connects with `key`, typed by the user now: checked for its shape
    /// at once, remembered once Dropbox accepts it.
    pub fn with_new_key(
        state_dir: &std::path::Path,
        key: &str,
        open_browser: bool,
    ) -> Result<Self, DropboxError> {
        Ok(FlowOptions {
            app_key: app_key::validate(key)?,
            port: port(),
            open_browser,
            timeout: Duration::from_secs(300),
            cancel: None,
            remember_in: Some(state_dir.to_path_buf()),
        })
    }
}

/// What the flow yields; the caller stores it.
pub struct Tokens {
    pub access_token: Secret,
    pub refresh_token: Secret,
    pub expires_in: Duration,
}

fn not_configured(e: impl std::fmt::Display) -> DropboxError {
    DropboxError::NotConfigured(e.to_string())
}

/// Runs the whole flow. `say` shows the user what to do; `read_code` asks for
/// a pasted code when the redirect listener cannot be used.
pub fn authorize(
    endpoints: &Endpoints,
    opts: &FlowOptions,
    say: &dyn Fn(&str),
    read_code: &dyn Fn() -> Option<String>,
) -> Result<Tokens, DropboxError> {
    let listener = TcpListener::bind(("127.0.0.1", opts.port)).ok();
    let redirect = listener
        .as_ref()
        .map(|_| format!("http://127.0.0.1:{}{CALLBACK_PATH}", opts.port));
    let mut client = BasicClient::new(ClientId::new(opts.app_key.clone()))
        .set_auth_uri(
            AuthUrl::new(format!("{}/oauth2/authorize", endpoints.oauth))
                .map_err(not_configured)?,
        )
        .set_token_uri(
            TokenUrl::new(format!("{}/oauth2/token", endpoints.api)).map_err(not_configured)?,
        );
    if let Some(r) = &redirect {
        client = client.set_redirect_uri(RedirectUrl::new(r.clone()).map_err(not_configured)?);
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_extra_param("token_access_type", "offline")
        .set_pkce_challenge(challenge)
        .url();
    let http = crate::http::client(crate::http::ClientOptions {
        connect_timeout: Duration::from_secs(10),
        timeout: Duration::from_secs(30),
        keepalive: None,
        extra_ca: super::client::extra_ca()?,
    })
    .map_err(not_configured)?;
    preflight(&http, &auth_url, &opts.app_key, redirect.as_deref())?;
    if let Some(state_dir) = &opts.remember_in {
        app_key::remember(state_dir, &opts.app_key)?;
    }

    let code = match listener {
        Some(listener) => {
            say(&format!("Open this address to connect Dropbox (it opens in your browser if it can):\n{auth_url}"));
            if opts.open_browser && webbrowser::open(auth_url.as_str()).is_err() {
                say("Could not open a browser; open the address above yourself.");
            }
            wait_for_code(
                &listener,
                state.secret(),
                opts.timeout,
                opts.cancel.as_deref(),
            )?
        }
        None => {
            say(&format!(
                "Port {} on 127.0.0.1 is in use, so Dropsync cannot receive the redirect.\nOpen this address, allow access, and paste the code Dropbox shows:\n{auth_url}",
                opts.port
            ));
            if opts.open_browser && webbrowser::open(auth_url.as_str()).is_err() {
                say("Could not open a browser; open the address above yourself.");
            }
            read_code()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .ok_or_else(|| DropboxError::NotConfigured("no code was entered".into()))?
        }
    };

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request(&http)
        .map_err(|e| {
            DropboxError::Destination(format!(
                "Dropbox refused the authorization code ({e}); codes work once and expire within minutes: {}",
                hints::CONNECT_AGAIN_NEW_CODE.cli
            ))
        })?;
    let refresh_token = token.refresh_token().ok_or_else(|| {
        DropboxError::Auth(
            "Dropbox returned no refresh token (offline access was not granted)".into(),
        )
    })?;
    Ok(Tokens {
        access_token: Secret::new(token.access_token().secret().clone()),
        refresh_token: Secret::new(refresh_token.secret().clone()),
        expires_in: token.expires_in().unwrap_or(Duration::from_secs(14_400)),
    })
}

/// Asks for the authorization page the way a browser would, before anyone
/// is sent there: Dropbox answers an unknown app key, or a redirect address
/// the app does not list, with an error page (400) instead of its sign-in
/// page, and a person would otherwise wait in front of that page while
/// Dropsync waits for a redirect that never comes.
fn preflight(
    http: &reqwest::blocking::Client,
    auth_url: &oauth2::url::Url,
    app_key: &str,
    redirect: Option<&str>,
) -> Result<(), DropboxError> {
    let host = auth_url.host_str().unwrap_or("Dropbox").to_string();
    let resp = http.get(auth_url.as_str()).send().map_err(|e| {
        DropboxError::Destination(format!(
            "could not reach Dropbox's authorization page at {host} ({e}); check the internet connection and try again"
        ))
    })?;
    let status = resp.status();
    if !status.is_client_error() {
        return Ok(());
    }
    let body = resp.text().unwrap_or_default();
    let about_redirect = body.to_ascii_lowercase().contains("redirect_uri");
    Err(DropboxError::AppRefused(match (about_redirect, redirect) {
        (true, Some(uri)) => format!(
            "Dropbox refused the redirect address {uri} for the app key {app_key:?}: add it exactly under OAuth 2 \u{2192} Redirect URIs on the app's Settings tab in the Dropbox App Console, then connect again"
        ),
        _ => format!(
            "Dropbox refused the app key {app_key:?} (HTTP {}): check that it is the App key (not the App secret) on the Settings tab of your app in the Dropbox App Console, and that the app still exists; then enter it again",
            status.as_u16()
        ),
    }))
}

/// Serves the redirect: accepts connections until one carries our callback
/// with the right `state`, answers with a page, and returns the code.
fn wait_for_code(
    listener: &TcpListener,
    expected_state: &str,
    timeout: Duration,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<String, DropboxError> {
    let deadline = std::time::Instant::now() + timeout;
    listener
        .set_nonblocking(true)
        .map_err(|e| DropboxError::Io {
            context: "the redirect listener".into(),
            source: e,
        })?;
    loop {
        if cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed)) {
            return Err(DropboxError::Auth(
                "connecting was cancelled; nothing was stored".into(),
            ));
        }
        if std::time::Instant::now() > deadline {
            return Err(DropboxError::Auth(format!(
                "no answer from the browser within {} minutes; {}",
                timeout.as_secs().div_ceil(60),
                hints::CONNECT_AGAIN.cli
            )));
        }
        let (mut stream, _) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => {
                return Err(DropboxError::Io {
                    context: "the redirect listener".into(),
                    source: e,
                })
            }
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut line = String::new();
        if BufReader::new(&stream).read_line(&mut line).is_err() {
            continue;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("");
        let Ok(url) = oauth2::url::Url::parse(&format!("http://127.0.0.1{target}")) else {
            continue;
        };
        if url.path() != CALLBACK_PATH {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            continue;
        }
        let params: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        let reply = |stream: &mut std::net::TcpStream, title: &str, text: &str| {
            let body = format!("<!doctype html><meta charset=utf-8><title>Dropsync</title><h1>{title}</h1><p>{text}</p>");
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        };
        if let Some(err) = params.get("error") {
            reply(
                &mut stream,
                "Dropbox was not connected",
                "You can close this tab and try again.",
            );
            return Err(DropboxError::Auth(format!(
                "Dropbox answered {err}: {}",
                params
                    .get("error_description")
                    .map(String::as_str)
                    .unwrap_or("access was not granted")
            )));
        }
        if params.get("state").map(String::as_str) != Some(expected_state) {
            // Not our request (or a forged one): never accept its code.
            reply(
                &mut stream,
                "Unexpected request",
                "This link does not belong to the connection in progress.",
            );
            continue;
        }
        let Some(code) = params.get("code") else {
            reply(
                &mut stream,
                "Unexpected request",
                "No authorization code was given.",
            );
            continue;
        };
        reply(
            &mut stream,
            "Dropbox is connected",
            "You can close this tab and return to Dropsync.",
        );
        return Ok(code.clone());
    }
}
