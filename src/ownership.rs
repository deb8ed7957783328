//! A sync's state (snapshot and history) belongs to one sync file. Sync ids
//! default to the file's stem, so `a/orders.toml` and `b/orders.toml` would
//! otherwise share one snapshot, and each Diff run would compare its rows
//! with the other file's delivery: rows sent twice, changes never sent. The
//! state records the file that owns it; another file with the same id is
//! refused, naming both and the fix. A file that moved (its old path is
//! gone, or no longer holds this id) takes its state along.

use crate::config::SyncSpec;
use crate::error::{Error, Result};
use crate::store::{write_meta, SyncStore};
use std::path::{Path, PathBuf};

const KEY: &str = "sync_file";

/// What a run does with the state's owner: check it, and record this file
/// as the owner (first run, a state from before owners were kept, or a
/// moved file).
pub fn claim(store: &SyncStore, spec: &SyncSpec) -> Result<()> {
    let here = identity(&spec.file);
    let recorded = store.meta(KEY)?;
    if let Some(owner) = other_owner(recorded.as_deref(), spec, &here) {
        return Err(shared(spec, &owner));
    }
    let here = here.to_string_lossy();
    if recorded.as_deref() == Some(&*here) {
        return Ok(());
    }
    write_meta(&store.conn, KEY, &here).map_err(|e| store.err(e))
}

/// The same check without recording anything (previews, checks).
pub fn check(store: &SyncStore, spec: &SyncSpec) -> Result<()> {
    let recorded = store.meta(KEY)?;
    match other_owner(recorded.as_deref(), spec, &identity(&spec.file)) {
        Some(owner) => Err(shared(spec, &owner)),
        None => Ok(()),
    }
}

/// The file's absolute, symlink-free path: what "the same file" means.
fn identity(file: &Path) -> PathBuf {
    std::fs::canonicalize(file)
        .or_else(|_| std::path::absolute(file))
        .unwrap_or_else(|_| file.to_path_buf())
}

/// Another sync file that still uses this state, if there is one.
fn other_owner(recorded: Option<&str>, spec: &SyncSpec, here: &Path) -> Option<PathBuf> {
    let owner = PathBuf::from(recorded?);
    if owner == here {
        return None;
    }
    // The owner counts only while it is there and still names this sync:
    // a moved, deleted, renamed-id or broken file has let go of the state.
    let still_uses =
        owner.is_file() && SyncSpec::load(&owner).is_ok_and(|other| other.sync.id == spec.sync.id);
    if still_uses {
        Some(owner)
    } else {
        tracing::info!(sync = %spec.sync.id, from = %owner.display(), to = %here.display(), "the sync file moved; its snapshot and history go with it");
        None
    }
}

fn shared(spec: &SyncSpec, owner: &Path) -> Error {
    Error::config(
        &spec.file,
        format!(
            "the sync id \"{id}\" already belongs to {owner}, whose snapshot and history it names; two sync files with one id would each compare their rows with the other's deliveries. Give one of them its own id: add `id = \"{id}-2\"` under [sync] (a new id starts with a fresh snapshot)",
            id = spec.sync.id,
            owner = owner.display(),
        ),
    )
}
