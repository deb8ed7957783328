//! The Dropbox API emulator from the tests' side: pointing the CLI at it,
//! its test routes (the request log, injected faults) and the files it holds.

use dropbox_emulator::Running;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// The environment that points the CLI's Dropbox API, content and OAuth
/// URLs at the emulator, with 5 ms between retries (for `Command::envs`).
pub fn cli_env(emu: &Running) -> [(&'static str, &str); 4] {
    [
        ("DROPSYNC_DROPBOX_API_URL", &emu.base_url),
        ("DROPSYNC_DROPBOX_CONTENT_URL", &emu.base_url),
        ("DROPSYNC_DROPBOX_OAUTH_URL", &emu.base_url),
        ("DROPSYNC_DROPBOX_RETRY_BASE_MS", "5"),
    ]
}

/// Every request the emulator answered, oldest first, as it logs them
/// (`route`, `status`, `arg`, ...).
pub fn log(emu: &Running) -> Vec<Json> {
    let v: Json = reqwest::blocking::get(format!("{}/__emulator/log", emu.base_url))
        .expect("log")
        .json()
        .expect("json");
    v.as_array().expect("array").clone()
}

/// The routes the emulator answered, with their status and (RPC) argument.
pub fn routes(emu: &Running) -> Vec<(String, u16, Option<String>)> {
    log(emu)
        .iter()
        .map(|e| {
            (
                e["route"].as_str().unwrap_or_default().to_string(),
                e["status"].as_u64().unwrap_or(0) as u16,
                e["arg"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Makes the emulator fail requests as `faults` says.
pub fn add_faults(emu: &Running, faults: &Json) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/__emulator/faults", emu.base_url))
        .body(faults.to_string())
        .send()
        .expect("add faults");
    assert!(resp.status().is_success());
}

/// Drops every fault still pending.
pub fn clear_faults(emu: &Running) {
    reqwest::blocking::Client::new()
        .delete(format!("{}/__emulator/faults", emu.base_url))
        .send()
        .expect("clear faults");
}

/// The text of the file at Dropbox `path` in the emulator whose folder is `root`.
pub fn remote(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path.trim_start_matches('/')))
        .unwrap_or_else(|e| panic!("{path} is not in the emulator: {e}"))
}

/// Writes `dir/sync.toml`: the `customers` table of `dir/shop.db` into
/// Dropbox folder `folder`, as sync `id` in `mode` under `filename`.
pub fn customers_sync(dir: &Path, id: &str, folder: &str, mode: &str, filename: &str) -> PathBuf {
    let path = dir.join("sync.toml");
    std::fs::write(
        &path,
        format!(
            "[source]\ntype = \"sqlite\"\npath = \"shop.db\"\n[model]\nname = \"customers\"\nsql = \"SELECT * FROM customers ORDER BY id\"\nprimary_key = \"id\"\n[destination]\ntype = \"dropbox\"\npath = \"{folder}\"\n[sync]\nid = \"{id}\"\nmode = \"{mode}\"\nfilename = \"{filename}\"\n"
        ),
    )
    .expect("write the sync");
    path
}
