//! The integration tests, as one binary: the library and the support code
//! link once instead of once per test file (on two cores that was most of
//! the build). Each module drives the real CLI and library against real
//! files, servers and the Dropbox emulator; `support` holds what they share.
//! No test sets process environment variables: other tests' threads would
//! read them at the same moment (settings are passed down instead).

mod support;

mod alert_state;
mod alerts;
mod cli;
mod credentials;
mod destinations;
mod dropbox;
mod editor;
mod failures;
mod fault_matrix;
mod file_options;
mod formats;
mod mapper;
mod modes;
mod mysql;
mod overwrite;
mod postgres;
mod pushdown;
mod retention;
mod schedules;
mod source_changes;
mod workspace;
