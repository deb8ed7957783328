//! Dropsync's core: models to CSV/JSON files in All, Insert and Diff modes,
//! delivered to a destination, with local snapshots and run history.
//!
//! Everything the desktop app and the `dropsync` CLI do goes through here.

pub mod alerting;
pub mod alerts;
pub mod check;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod destination;
pub mod dropbox;
pub mod env_vars;
pub mod error;
pub mod filename;
pub mod format;
pub mod hints;
pub mod history;
pub mod http;
pub mod inspect;
pub mod mapping;
pub mod ownership;
pub mod probe;
pub mod pushdown;
pub mod recovery;
pub mod retention;
pub mod run;
mod run_files;
pub mod schedule;
pub mod scheduler;
pub mod secret;
pub mod snapshot;
pub mod source;
pub mod spill;
pub mod store;
pub mod value;
pub mod workspace;

pub use config::SyncSpec;
pub use error::{Error, ErrorCode, Result};
pub use run::{preview, run, RunControl, RunOptions};
pub use workspace::Workspace;
