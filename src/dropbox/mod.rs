//! Dropbox: the HTTP API v2 client, OAuth 2 with PKCE, and token storage.

mod arg;
mod client;
pub mod content_hash;
pub mod oauth;
pub mod tokens;

pub use arg::header_safe;
pub use client::{
    verify as client_verify, Account, Client, Credentials, Endpoints, Entry, FileMetadata,
    RetryPolicy, Session,
};

use std::fmt;

/// A secret (token) that never prints: Debug and Display show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Errors of the Dropbox client, read from the API's `.tag`s.
#[derive(Debug, thiserror::Error)]
pub enum DropboxError {
    #[error("Dropbox needs to be connected again ({0}); run `dropsync auth dropbox`")]
    ReconnectNeeded(String),
    #[error(
        "Dropbox refused the access token ({0}); run `dropsync auth dropbox` to connect again"
    )]
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
