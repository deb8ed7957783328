//! The integration tests, as one binary: the library and the support code
//! link once instead of once per test file (on two cores that was most of
//! the build). Each module drives the real CLI and library against real
//! files, servers and the Dropbox emulator; `support` holds what they share.
//! (tests/alerts.rs stays a binary of its own: it sets process environment
//! variables, which other tests' threads would read at the same time.)

mod support;

mod alert_state;
mod cli;
mod credentials;
mod destinations;
mod dropbox;
mod editor;
mod failures;
mod fault_matrix;
mod formats;
mod modes;
mod mysql;
mod overwrite;
mod postgres;
mod schedules;
mod source_changes;
mod workspace;
