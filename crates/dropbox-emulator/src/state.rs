//! The emulator's shared state behind one mutex: the store, OAuth's tokens
//! and codes, open upload sessions, pending faults and the request log.
//! Handlers never hold the lock while a body streams in, so a slow upload
//! does not hold up the other routes.

use crate::faults::Fault;
use crate::oauth::{AuthCode, Token};
use crate::sessions::Session;
use crate::store::Store;
use crate::Config;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    pub route: String,
    pub status: u16,
    pub arg: Option<String>,
    pub bytes: u64,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) tokens: HashMap<String, Token>,
    pub(crate) refresh_tokens: HashMap<String, bool>,
    pub(crate) codes: HashMap<String, AuthCode>,
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) delete_jobs: HashMap<String, crate::deletes::DeleteJob>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) config: Config,
}

pub(crate) type Shared = Arc<Mutex<Inner>>;

pub(crate) fn random_token(len: usize) -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
