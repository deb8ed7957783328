//! The `dropsync` command line: every sync operation, headless.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use dropsync::history::{RunReport, RunStatus};
use dropsync::run::Progress;
use dropsync::{RunControl, RunOptions, SyncSpec};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// Rows cross threads in batches; mimalloc keeps allocation off the hot path.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "dropsync",
    version,
    about = "Deliver the result of a SQL query as CSV or JSON files, reliably."
)]
struct Cli {
    /// Where snapshots and run history live [default: the OS data folder]
    #[arg(long, global = true, env = "DROPSYNC_STATE_DIR")]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum AlertCommand {
    /// Send a test alert on every [[alerts]] channel of the sync file
    Test {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum Command {
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
    Reset { file: PathBuf },
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
enum AuthCommand {
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
enum DropboxCommand {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon's log is its record of what it did; commands log errors only.
    let default_level = if matches!(cli.command, Command::Daemon { .. }) {
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
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn state_dir(cli: &Option<PathBuf>) -> Result<PathBuf> {
    match cli {
        Some(d) => Ok(d.clone()),
        None => Ok(dirs::data_dir()
            .context(
                "no data folder is known for this user; pass --state-dir or set DROPSYNC_STATE_DIR",
            )?
            .join("dropsync")),
    }
}

fn parse_at(at: &Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
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

fn load(file: &Path) -> Result<SyncSpec> {
    Ok(SyncSpec::load(file)?)
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let state = state_dir(&cli.state_dir)?;
    match cli.command {
        Command::Run { file, at, json } => {
            let spec = load(&file)?;
            let opts = RunOptions { at: parse_at(&at)? };
            let report = run_with_progress(&spec, &state, &opts)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&run_json(&report))?);
            } else {
                print_run(&report);
            }
            Ok(if report.succeeded() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Daemon {
            dir,
            max_concurrent,
            poll,
        } => daemon(&dir, &state, max_concurrent, poll),
        Command::Next { dir, json } => next(&dir, &state, json),
        Command::Alert {
            command: AlertCommand::Test { file, json },
        } => alert_test(&file, &state, json),
        Command::Preview {
            file,
            rows,
            at,
            json,
        } => {
            let spec = load(&file)?;
            let report =
                dropsync::preview(&spec, &state, rows, &RunOptions { at: parse_at(&at)? })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&preview_json(&report))?);
            } else {
                print_preview(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::History { file, limit, json } => {
            let spec = load(&file)?;
            let store = dropsync::store::SyncStore::open(&state, &spec.sync.id)?;
            let runs = dropsync::history::list(&store, &spec.sync.id, limit)?;
            if json {
                let list: Vec<_> = runs.iter().map(run_json).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if runs.is_empty() {
                println!(
                    "sync {} has not run yet; start it with `dropsync run {}`",
                    spec.sync.id,
                    file.display()
                );
            } else {
                print_history(&runs);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Reset { file } => {
            let spec = load(&file)?;
            let mut store = dropsync::store::SyncStore::open(&state, &spec.sync.id)?;
            let forgotten = dropsync::history::reset(&mut store)?;
            println!(
                "sync {}: forgot the snapshot of {forgotten} row(s); the next run delivers every row as new",
                spec.sync.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file, json } => {
            let spec = load(&file)?;
            let report = dropsync::check::check(&spec, &state)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("sync {}: OK", report.sync_id);
                println!("  source       {}", report.source);
                println!("  destination  {}", report.destination);
                println!("  columns:");
                for c in &report.columns {
                    let key = if report.primary_key.contains(&c.name) {
                        "  (primary key)"
                    } else {
                        ""
                    };
                    println!(
                        "    {:<24} {:<12} {}{key}",
                        c.name,
                        c.declared_type.as_deref().unwrap_or("-"),
                        c.observed_type
                    );
                }
                println!("  output       {}", report.output_columns.join(", "));
                println!(
                    "  rows         {} (every key present and unique)",
                    report.rows
                );
                for f in &report.files {
                    println!("  file         {f}");
                }
                println!("  schedule     {}", report.schedule);
                for t in &report.next_runs {
                    println!(
                        "  next run     {} UTC ({} local)",
                        t.format("%Y-%m-%d %H:%M:%S"),
                        t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
                    );
                }
                for a in &report.alerts {
                    println!("  alerts       {a}");
                }
                for w in &report.warnings {
                    println!("  warning      {w}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { dir } => demo(&dir, &state),
        Command::Auth { command } => auth(command, &state),
        Command::Dropbox { command, account } => {
            let client = dropsync::dropbox::connect(&state, account.as_deref())?;
            match command {
                DropboxCommand::Ls { path } => {
                    let mut entries = client.list_folder(&path)?;
                    entries.sort_by_key(|e| (e.kind != "folder", e.name.to_lowercase()));
                    if entries.is_empty() {
                        println!("{path} is empty");
                    }
                    for e in entries {
                        match e.kind.as_str() {
                            "folder" => println!("{:>12}  {:<20}  {}/", "", "", e.path_display),
                            _ => println!(
                                "{:>12}  {:<20}  {}",
                                e.size.unwrap_or(0),
                                e.server_modified.unwrap_or_default(),
                                e.path_display
                            ),
                        }
                    }
                }
                DropboxCommand::Mkdir { path } => {
                    client.create_folder(&path)?;
                    println!("{path} exists");
                }
                DropboxCommand::Put { local, remote } => {
                    let bytes = std::fs::metadata(&local)
                        .with_context(|| format!("cannot read {}", local.display()))?
                        .len();
                    let relative = remote.trim_start_matches('/').to_string();
                    if relative.is_empty() || relative.ends_with('/') {
                        anyhow::bail!("{remote:?} is not a file path; give the full path, e.g. /exports/file.csv");
                    }
                    let dest = dropsync::destination::DropboxDestination::new(client, "");
                    let bar = std::io::stderr().is_terminal().then(|| {
                        let bar = indicatif::ProgressBar::new(bytes);
                        bar.set_style(
                            indicatif::ProgressStyle::with_template(
                                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                        );
                        bar
                    });
                    let start = std::time::Instant::now();
                    use dropsync::destination::Destination;
                    dest.deliver(
                        &[dropsync::destination::StagedFile {
                            local: local.clone(),
                            relative: relative.clone(),
                            bytes,
                        }],
                        &|done, _| {
                            if let Some(b) = &bar {
                                b.set_position(done);
                            }
                        },
                    )?;
                    if let Some(b) = bar {
                        b.finish_and_clear();
                    }
                    let secs = start.elapsed().as_secs_f64();
                    println!(
                        "uploaded /{relative} ({bytes} bytes in {secs:.2} s, {:.1} MiB/s)",
                        bytes as f64 / secs.max(1e-9) / 1048576.0
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_with_progress(spec: &SyncSpec, state: &Path, opts: &RunOptions) -> Result<RunReport> {
    let control = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        RunControl::new(move |p| match p {
            Progress::Reading { rows } => bar.set_message(format!("reading rows: {rows}")),
            Progress::Comparing {
                partition,
                partitions,
            } => bar.set_message(format!(
                "comparing with the snapshot: {}/{partitions}",
                partition + 1
            )),
            Progress::Writing { file } => bar.set_message(format!("writing {file}")),
            Progress::Delivering { bytes, total } => {
                bar.set_message(format!("delivering: {bytes} / {total} bytes"))
            }
            Progress::Committing => bar.finish_and_clear(),
        })
    } else {
        RunControl::default()
    };
    Ok(dropsync::alerting::run_and_alert(
        spec, state, opts, &control,
    )?)
}

fn run_json(r: &RunReport) -> serde_json::Value {
    serde_json::json!({
        "run_id": r.run_id,
        "sync_id": r.sync_id,
        "status": r.status,
        "error": r.error,
        "error_code": r.error_code,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "rows": r.rows,
        "files": r.files.iter().map(|f| serde_json::json!({
            "path": f.path, "kind": f.kind, "rows": f.rows, "bytes": f.bytes, "skipped": f.skipped,
            "overwritten_by": f.overwritten_by,
        })).collect::<Vec<_>>(),
        "alerts": r.alerts,
    })
}

fn preview_json(r: &RunReport) -> serde_json::Value {
    serde_json::json!({
        "sync_id": r.sync_id,
        "run_id": r.run_id,
        "rows": r.rows,
        "files": r.files,
    })
}

fn print_run(r: &RunReport) {
    match r.status {
        RunStatus::Success => {
            println!("run {} of {}: success: {}", r.run_id, r.sync_id, counts(r));
            for f in &r.files {
                if f.skipped {
                    println!("  skipped {} (empty)", f.path);
                } else {
                    println!("  wrote   {} ({} rows, {} bytes)", f.path, f.rows, f.bytes);
                }
            }
        }
        _ => {
            eprintln!(
                "run {} of {}: failed: {}",
                r.run_id,
                r.sync_id,
                r.error.as_deref().unwrap_or("unknown error")
            );
            eprintln!("  nothing was delivered and the snapshot is unchanged; the next run delivers these changes");
        }
    }
    print_alerts(&r.alerts, "  ");
}

fn counts(r: &RunReport) -> String {
    let c = &r.rows;
    match r.mode {
        dropsync::config::Mode::All => format!("{} rows queried", c.queried),
        dropsync::config::Mode::Insert => format!("{} rows queried, {} added", c.queried, c.added),
        dropsync::config::Mode::Diff => format!(
            "{} rows queried, {} added, {} changed, {} removed{}",
            c.queried,
            c.added,
            c.changed,
            c.removed,
            c.source_note()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
    }
}

fn print_preview(r: &RunReport) {
    println!("preview of {} (nothing written): {}", r.sync_id, counts(r));
    for f in &r.files {
        let skip = if f.skipped {
            ", skipped because empty"
        } else {
            ""
        };
        println!("\n== {} ({} rows{skip})", f.path, f.rows);
        if let Some(p) = &f.preview {
            print!("{}", p.text);
            if !p.text.ends_with('\n') {
                println!();
            }
            if f.rows > p.rows.len() as u64 {
                println!("... {} more rows", f.rows - p.rows.len() as u64);
            }
        }
    }
}

fn print_history(runs: &[RunReport]) {
    println!(
        "{:>5}  {:<20}  {:<11}  {:>9}  {:>8}  {:>8}  {:>8}  {:>6}",
        "run", "started (local)", "status", "queried", "added", "changed", "removed", "files"
    );
    for r in runs {
        let local = r
            .started_at
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S");
        println!(
            "{:>5}  {:<20}  {:<11}  {:>9}  {:>8}  {:>8}  {:>8}  {:>6}",
            r.run_id,
            local.to_string(),
            r.status.as_str(),
            r.rows.queried,
            r.rows.added,
            r.rows.changed,
            r.rows.removed,
            r.files.iter().filter(|f| !f.skipped).count()
        );
        if let Some(note) = r.rows.source_note() {
            println!("       {note}");
        }
        for f in &r.files {
            if let Some(by) = f.overwritten_by {
                println!(
                    "       {} ({} rows) was overwritten by run {by}; its rows are no longer there",
                    f.path, f.rows
                );
            }
        }
        if let Some(e) = &r.error {
            println!("       error: {e}");
        }
        print_alerts(&r.alerts, "       ");
    }
}

fn print_alerts(alerts: &[dropsync::history::AlertDelivery], indent: &str) {
    for a in alerts {
        match &a.error {
            None => println!("{indent}{} alert sent: {}", a.kind, a.channel),
            Some(e) => println!(
                "{indent}{} alert NOT sent: {} ({} attempt(s)): {e}",
                a.kind, a.channel, a.attempts
            ),
        }
    }
}

fn daemon(dir: &Path, state: &Path, max_concurrent: usize, poll: f64) -> Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a folder; give the folder that holds the sync files (*.toml)",
            dir.display()
        );
    }
    if !(0.05..=3600.0).contains(&poll) {
        anyhow::bail!("--poll {poll}: give a number of seconds from 0.05 to 3600");
    }
    let opts = dropsync::daemon::DaemonOptions {
        max_concurrent: max_concurrent.max(1),
        poll: std::time::Duration::from_secs_f64(poll),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        // Listening before the first run starts: a signal that came before
        // the first await would otherwise kill the process mid-run.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stop requested; finishing");
        };
        dropsync::daemon::serve_now(dir, state, &opts, shutdown).await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn next(dir: &Path, state: &Path, json: bool) -> Result<ExitCode> {
    let runs = dropsync::Workspace::new(dir, state)
        .next_runs(chrono::Utc::now())
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(ExitCode::SUCCESS);
    }
    if runs.is_empty() {
        println!("no sync files (*.toml) in {}", dir.display());
    }
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    for r in &runs {
        let name = r
            .file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        match (&r.error, &r.sync_id) {
            (Some(e), _) => println!("{name}: not scheduled: {e}"),
            (None, Some(id)) => println!(
                "{name} (sync {id}, {}): next {}{}",
                r.schedule.as_deref().unwrap_or("manual"),
                r.next_run.map_or("never (manual)".to_string(), |t| {
                    if t <= chrono::Utc::now() {
                        format!("due now (the {} local slot was missed)", local(t))
                    } else {
                        format!("{} local", local(t))
                    }
                }),
                r.last_run
                    .map_or(String::new(), |t| format!(", last run {} local", local(t)))
            ),
            (None, None) => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn alert_test(file: &Path, state: &Path, json: bool) -> Result<ExitCode> {
    let spec = load(file)?;
    if spec.alerts.is_empty() {
        anyhow::bail!(
            "{} has no [[alerts]] channels; add one (see docs/schedules-and-alerts.md, \"Alerts\")",
            file.display()
        );
    }
    let sent = dropsync::alerting::send_test(&spec, state)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&sent)?);
    } else {
        print_alerts(&sent, "");
    }
    Ok(if sent.iter().all(|a| a.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn demo(dir: &Path, state: &Path) -> Result<ExitCode> {
    let ws = dropsync::demo::create(dir)?;
    println!("demo workspace in {}", ws.dir.display());
    println!(
        "  database {} ({} customers, {} orders)",
        ws.database.display(),
        dropsync::demo::CUSTOMERS,
        dropsync::demo::ORDERS
    );
    let specs = ws
        .sync_files
        .iter()
        .map(|f| SyncSpec::load(f))
        .collect::<Result<Vec<_>, _>>()?;
    for spec in &specs {
        // A fresh demo database starts fresh snapshots.
        let mut store = dropsync::store::SyncStore::open(state, &spec.sync.id)?;
        dropsync::history::reset(&mut store)?;
    }
    let mut ok = true;
    for round in 0..2 {
        if round == 1 {
            println!("\na day later: {}", dropsync::demo::churn(&ws.database)?);
        }
        for (spec, file) in specs.iter().zip(&ws.sync_files) {
            println!("\n$ dropsync run {}", file.display());
            let report = run_with_progress(spec, state, &RunOptions::default())?;
            print_run(&report);
            ok &= report.succeeded();
        }
    }
    println!("\nfiles are in {}", ws.output.display());
    println!("try: dropsync preview {}", ws.sync_files[1].display());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn auth(command: AuthCommand, state: &Path) -> Result<ExitCode> {
    use dropsync::dropbox::accounts::{self, AccountState};
    use dropsync::dropbox::{oauth, tokens, Endpoints};
    match command {
        AuthCommand::Dropbox {
            no_browser,
            app_key,
        } => {
            let opts = match app_key {
                Some(key) => oauth::FlowOptions::with_new_key(state, &key, !no_browser)?,
                None => oauth::FlowOptions::resolve(state, !no_browser)?,
            };
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
                if info.store == "keyring" {
                    "the OS credential store"
                } else {
                    "a private file in the state folder"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Status => {
            if tokens::list(state)?.is_empty() {
                println!("No Dropbox account is connected; run `dropsync auth dropbox`");
                return Ok(ExitCode::SUCCESS);
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
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        AuthCommand::Disconnect { account } => {
            let (info, note) = accounts::disconnect(state, account.as_deref())?;
            if let Some(note) = note {
                eprintln!("note: Dropbox did not confirm the token was revoked ({note})");
            }
            println!("Disconnected {} <{}>", info.display_name, info.email);
            Ok(ExitCode::SUCCESS)
        }
    }
}
