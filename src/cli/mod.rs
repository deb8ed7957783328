//! The command line's grammar (clap), the exit status, and the dispatch to
//! one module per command.

mod alert;
mod auth;
mod check;
mod daemon;
mod demo;
mod dropbox;
mod history;
mod next;
mod preview;
mod print;
mod reset;
mod run;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "dropsync",
    version,
    about = "Deliver the result of a SQL query as CSV or JSON files, reliably."
)]
pub struct Cli {
    /// Where snapshots and run history live [default: the OS data folder]
    #[arg(long, global = true, env = "DROPSYNC_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum AlertCommand {
    /// Send a test alert on every [[alerts]] channel of the sync file
    Test {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a sync once: query, compare with the snapshot, write and deliver its files
    Run {
        /// The sync's TOML file
        file: PathBuf,
        /// Run as if started at this instant (RFC 3339), for backfills and tests
        #[arg(long)]
        at: Option<String>,
        /// Print one JSON object describing the run
        #[arg(long)]
        json: bool,
    },
    /// Show the files a run would write now, without writing or advancing anything
    Preview {
        file: PathBuf,
        /// Rows to show of each file
        #[arg(long, default_value_t = 10)]
        rows: usize,
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show the sync's past runs, newest first
    History {
        file: PathBuf,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Forget the snapshot: the next run delivers every row as new
    Reset {
        file: PathBuf,
        /// Take the model's current result as delivered, writing no file:
        /// the next run sends only what changes from now
        #[arg(long)]
        mark_delivered: bool,
    },
    /// Validate the sync, connect to the source, list columns and check the key
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Connect, inspect or disconnect Dropbox accounts
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// Browse and create Dropbox folders
    Dropbox {
        #[command(subcommand)]
        command: DropboxCommand,
        /// Which connected account (email or account id), when several are
        #[arg(long, global = true)]
        account: Option<String>,
    },
    /// Run every sync file (*.toml) in a folder on its schedule until stopped
    /// (SIGTERM or Ctrl-C); files added, edited or removed are picked up live
    Daemon {
        dir: PathBuf,
        /// Syncs that may run at the same time
        #[arg(long, default_value_t = 4)]
        max_concurrent: usize,
        /// Seconds between looks at the folder and the clock
        #[arg(long, default_value_t = 5.0)]
        poll: f64,
    },
    /// List the next scheduled run of every sync file in a folder
    Next {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Alerts: send a test message on every channel of a sync
    Alert {
        #[command(subcommand)]
        command: AlertCommand,
    },
    /// Create a demo workspace (sample shop database, one sync per mode) and run it
    Demo {
        /// Folder for the workspace
        #[arg(default_value = "dropsync-demo")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AuthCommand {
    /// Connect a Dropbox account (OAuth in the browser; PKCE, offline access)
    Dropbox {
        /// Do not open a browser; print the address to open instead
        #[arg(long)]
        no_browser: bool,
        /// Your Dropbox app's App key (App Console, Settings tab); it is
        /// remembered in the state folder for later connections and the
        /// desktop app. DROPSYNC_DROPBOX_APP_KEY overrides it.
        #[arg(long, value_name = "KEY")]
        app_key: Option<String>,
    },
    /// Show the connected accounts and whether their tokens still work
    Status,
    /// Revoke the token and forget an account (the only one if not named)
    Disconnect { account: Option<String> },
}

#[derive(Subcommand)]
pub enum DropboxCommand {
    /// List a folder (default: the root)
    Ls {
        #[arg(default_value = "/")]
        path: String,
    },
    /// Create a folder (and its parents); an existing folder is fine
    Mkdir { path: String },
    /// Upload a file (overwriting), verified by its content hash
    Put { local: PathBuf, remote: String },
}

/// How a command ended, as the process's exit status. Errors are not here:
/// a command that cannot do its work returns `Err`, which `main` prints and
/// maps to [`Status::Failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran but what it did failed (a run, an alert, an
    /// account), after saying why.
    Failure,
}

impl Status {
    pub fn of(ok: bool) -> Status {
        if ok {
            Status::Success
        } else {
            Status::Failure
        }
    }
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        match s {
            Status::Success => ExitCode::SUCCESS,
            Status::Failure => ExitCode::FAILURE,
        }
    }
}

pub fn state_dir(cli: &Option<PathBuf>) -> Result<PathBuf> {
    match cli {
        Some(d) => Ok(d.clone()),
        None => Ok(dirs::data_dir()
            .context(
                "no data folder is known for this user; pass --state-dir or set DROPSYNC_STATE_DIR",
            )?
            .join("dropsync")),
    }
}

pub fn parse_at(at: &Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    at.as_ref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&chrono::Utc))
                .with_context(|| {
                    format!("--at {s:?} is not an RFC 3339 instant such as 2024-01-19T08:00:00Z")
                })
        })
        .transpose()
}

pub fn dispatch(cli: Cli) -> Result<Status> {
    // Resolved before any command, so that a missing data folder is reported
    // the same way whatever the command.
    let state = state_dir(&cli.state_dir)?;
    match cli.command {
        Command::Run { file, at, json } => run::run(&file, &state, &at, json),
        Command::Preview {
            file,
            rows,
            at,
            json,
        } => preview::preview(&file, &state, rows, &at, json),
        Command::History { file, limit, json } => history::history(&file, &state, limit, json),
        Command::Reset {
            file,
            mark_delivered,
        } => reset::reset(&file, &state, mark_delivered),
        Command::Check { file, json } => check::check(&file, &state, json),
        Command::Auth { command } => auth::auth(command, &state),
        Command::Dropbox { command, account } => {
            dropbox::dropbox(command, account.as_deref(), &state)
        }
        Command::Daemon {
            dir,
            max_concurrent,
            poll,
        } => daemon::daemon(&dir, &state, max_concurrent, poll),
        Command::Next { dir, json } => next::next(&dir, &state, json),
        Command::Alert {
            command: AlertCommand::Test { file, json },
        } => alert::test(&file, &state, json),
        Command::Demo { dir } => demo::demo(&dir, &state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_maps_to_the_exit_codes_scripts_rely_on() {
        assert_eq!(ExitCode::from(Status::Success), ExitCode::SUCCESS);
        assert_eq!(ExitCode::from(Status::Failure), ExitCode::FAILURE);
        assert_eq!(Status::of(true), Status::Success);
        assert_eq!(Status::of(false), Status::Failure);
    }

    #[test]
    fn the_grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
