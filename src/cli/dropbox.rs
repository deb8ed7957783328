//! `dropsync dropbox`: list, create and upload to a connected account's
//! folders, to try a destination before a sync uses it.

use super::{DropboxCommand, Status};
use anyhow::{Context, Result};
use dropsync::destination::{Destination, DropboxDestination, StagedFile};
use dropsync::dropbox::{Client, EntryKind};
use std::io::IsTerminal;
use std::path::Path;

pub fn dropbox(command: DropboxCommand, account: Option<&str>, state: &Path) -> Result<Status> {
    let client = dropsync::dropbox::connect(state, account)?;
    match command {
        DropboxCommand::Ls { path } => ls(&client, &path)?,
        DropboxCommand::Mkdir { path } => {
            client.create_folder(&path)?;
            println!("{path} exists");
        }
        DropboxCommand::Put { local, remote } => put(client, &local, &remote)?,
    }
    Ok(Status::Success)
}

fn ls(client: &Client, path: &str) -> Result<()> {
    let mut entries = client.list_folder(path)?;
    // Folders first, as a file browser shows them.
    entries.sort_by_key(|e| (e.kind != EntryKind::Folder, e.name.to_lowercase()));
    if entries.is_empty() {
        println!("{path} is empty");
    }
    for e in entries {
        match e.kind {
            EntryKind::Folder => println!("{:>12}  {:<20}  {}/", "", "", e.path_display),
            _ => println!(
                "{:>12}  {:<20}  {}",
                e.size.unwrap_or(0),
                e.server_modified.unwrap_or_default(),
                e.path_display
            ),
        }
    }
    Ok(())
}

/// Uploads through the same destination code as a sync's delivery, so that
/// a working `put` means a working sync.
fn put(client: Client, local: &Path, remote: &str) -> Result<()> {
    let bytes = std::fs::metadata(local)
        .with_context(|| format!("cannot read {}", local.display()))?
        .len();
    let relative = remote.trim_start_matches('/').to_string();
    if relative.is_empty() || relative.ends_with('/') {
        anyhow::bail!("{remote:?} is not a file path; give the full path, e.g. /exports/file.csv");
    }
    let dest = DropboxDestination::new(client, "");
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
    dest.deliver(
        &[StagedFile {
            local: local.to_path_buf(),
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
    Ok(())
}
