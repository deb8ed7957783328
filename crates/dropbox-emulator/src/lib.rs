//! A strict local emulator of the Dropbox HTTP API v2 for tests.
//!
//! It serves the file routes, OAuth 2 (authorize with auto-approval, token,
//! refresh, revoke) and a control API under `/__emulator/` to inject faults
//! and read the request log. Files live on disk under a root folder.
//! Shapes, headers and content types follow the API spec exactly: a lenient
//! fake would hide the bugs real Dropbox catches.
//!
//! The crate's layout follows the API's own seams: `server` binds and
//! routes; `api` runs every `/2/*` call (injected faults, bearer token,
//! dispatch, log); `oauth`, `files`, `sessions` and `deletes` hold the routes;
//! `control` is the `/__emulator/` API; `state`, `request` and `responses`
//! are what they share. [`faults`], [`hash`] and [`store`] stay public.

// Handlers return `Result<_, Response>` so an error is already the HTTP answer;
// boxing every early return would only add noise.
#![allow(clippy::result_large_err)]

pub mod faults;
pub mod hash;
pub mod store;

mod api;
mod control;
mod deletes;
mod files;
mod oauth;
mod request;
mod responses;
mod server;
mod sessions;
mod state;

pub use responses::header_safe_json;
pub use server::{bind, start, Running};
pub use state::LogEntry;

use faults::Fault;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_APP_KEY: &str = "emulator-app-key";
/// The emulated account's id: `dbid:` and 35 more characters, 40 in all,
/// as users_common.stone's AccountId requires.
pub const ACCOUNT_ID: &str = "dbid:AADropsyncEmulatorAccount4dRw9Xq2Lk";
const MAX_REQUEST_BYTES: u64 = 150 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate written (PEM) to this file.
    pub tls_cert_out: Option<PathBuf>,
    pub max_request_bytes: u64,
    pub app_key: String,
    /// Redirect URIs registered for the app; empty allows any loopback URI.
    pub redirect_uris: Vec<String>,
    pub token_ttl: Duration,
    pub space_bytes: u64,
    /// Caps list_folder pages (to test pagination with few files).
    pub list_page_size: Option<usize>,
    /// Access tokens valid from the start (headless tests).
    pub static_tokens: Vec<String>,
    pub faults: Vec<Fault>,
}

impl Config {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Config {
            root: root.into(),
            port: 0,
            tls_cert_out: None,
            max_request_bytes: MAX_REQUEST_BYTES,
            app_key: DEFAULT_APP_KEY.into(),
            redirect_uris: Vec::new(),
            token_ttl: Duration::from_secs(4 * 3600),
            space_bytes: 2 * 1024 * 1024 * 1024 * 1024,
            list_page_size: None,
            static_tokens: Vec::new(),
            faults: Vec::new(),
        }
    }
}
