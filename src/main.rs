//! The `dropsync` command line: every sync operation, headless. The
//! commands live in `cli`, one module each; this file sets up the process.

mod cli;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

// Rows cross threads in batches; mimalloc keeps allocation off the hot path.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The daemon's log is its record of what it did; commands log errors only.
    let default_level = if matches!(cli.command, cli::Command::Daemon { .. }) {
        "info"
    } else {
        "error"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DROPSYNC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli::dispatch(cli) {
        Ok(status) => status.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            cli::Status::Failure.into()
        }
    }
}
