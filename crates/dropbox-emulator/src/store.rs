//! The emulated Dropbox namespace: files on disk under a root folder, with
//! case-insensitive paths, ids, revs, server_modified and content hashes.

use crate::hash::ContentHasher;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileMeta {
    pub id: String,
    pub path_display: String,
    pub rev: String,
    pub size: u64,
    pub content_hash: String,
    pub server_modified: String,
    pub client_modified: String,
}

#[derive(Debug, Clone)]
pub enum Node {
    Folder { id: String, path_display: String },
    File(FileMeta),
}

/// A write error, as its WriteError tag path (e.g. `conflict/file`).
#[derive(Debug, Clone)]
pub struct WriteError(pub Value);

pub enum WriteMode {
    Add,
    Overwrite,
    Update(String),
}

pub struct Store {
    root: PathBuf,
    /// Keyed by lowercased path ("/a/b.csv"); the root folder is not listed.
    nodes: BTreeMap<String, Node>,
    /// Random per store, so ids from two emulators never collide.
    id_prefix: [u8; 8],
    next_id: u64,
    next_rev: u64,
    pub used_bytes: u64,
    pub space_bytes: u64,
}

pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn tag(t: &str) -> Value {
    json!({ ".tag": t })
}

/// `conflict` with a sub-tag, as Dropbox nests it.
fn conflict(kind: &str) -> WriteError {
    WriteError(json!({ ".tag": "conflict", "conflict": tag(kind) }))
}

impl Store {
    /// Loads whatever is already under `root`, so a restarted emulator keeps its files.
    pub fn open(root: &Path, space_bytes: u64) -> std::io::Result<Store> {
        std::fs::create_dir_all(root)?;
        let mut store = Store {
            root: root.to_path_buf(),
            nodes: BTreeMap::new(),
            id_prefix: rand::random(),
            next_id: 1,
            next_rev: 1,
            used_bytes: 0,
            space_bytes,
        };
        store.scan(root, "")?;
        Ok(store)
    }

    fn scan(&mut self, dir: &Path, prefix: &str) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let display = format!("{prefix}/{name}");
            if name.starts_with(".dropbox-emulator") {
                continue;
            }
            if entry.file_type()?.is_dir() {
                let id = self.new_id();
                self.nodes.insert(
                    display.to_lowercase(),
                    Node::Folder {
                        id,
                        path_display: display.clone(),
                    },
                );
                self.scan(&entry.path(), &display)?;
            } else {
                if name.starts_with(".dropbox-emulator") {
                    continue;
                }
                let (size, hash) = hash_file(&entry.path())?;
                let meta = self.new_meta(&display, size, hash, None);
                self.used_bytes += meta.size;
                self.nodes.insert(display.to_lowercase(), Node::File(meta));
            }
        }
        Ok(())
    }

    /// A Dropbox-shaped id: `id:` and 22 URL-safe base64 characters.
    fn new_id(&mut self) -> String {
        use base64::Engine as _;
        self.next_id += 1;
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&self.id_prefix);
        raw[8..].copy_from_slice(&self.next_id.to_be_bytes());
        format!(
            "id:{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        )
    }

    fn new_meta(
        &mut self,
        display: &str,
        size: u64,
        hash: String,
        client_modified: Option<String>,
    ) -> FileMeta {
        self.next_rev += 1;
        let now = now();
        FileMeta {
            id: self.new_id(),
            path_display: display.to_string(),
            rev: format!("{:015x}", 0x5f0000000 + self.next_rev),
            size,
            content_hash: hash,
            server_modified: now.clone(),
            client_modified: client_modified.unwrap_or(now),
        }
    }

    /// Where a node lives on disk.
    pub fn disk_path(&self, path_display: &str) -> PathBuf {
        self.root.join(path_display.trim_start_matches('/'))
    }

    /// A node by path (case-insensitive) or by `id:...`, optionally
    /// followed by a path below that folder, as read routes accept.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(&self.resolve(path)?)
    }

    /// The lowercased path a read path names; `id:` paths are looked up.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let Some(rest) = path.strip_prefix("id:") else {
            return Some(path.to_lowercase());
        };
        let (id, below) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let id = format!("id:{id}");
        let (key, _) = self.nodes.iter().find(|(_, n)| match n {
            Node::Folder { id: i, .. } => *i == id,
            Node::File(m) => m.id == id,
        })?;
        Some(format!("{key}{}", below.to_lowercase()))
    }

    /// The display path of `path`, keeping the casing of folders that exist.
    fn display_for(&self, path: &str) -> String {
        let mut out = String::new();
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            let candidate = format!("{out}/{comp}");
            match self.nodes.get(&candidate.to_lowercase()) {
                Some(Node::Folder { path_display, .. }) => out = path_display.clone(),
                _ => out = candidate,
            }
        }
        out
    }

    /// Checks every ancestor of `path` is a folder (or missing, to be created).
    fn check_ancestors(&self, path: &str) -> Result<(), WriteError> {
        let lower = path.to_lowercase();
        let mut at = 0;
        while let Some(i) = lower[at + 1..].find('/') {
            let ancestor = &lower[..at + 1 + i];
            if let Some(Node::File(_)) = self.nodes.get(ancestor) {
                return Err(conflict("file_ancestor"));
            }
            at += 1 + i;
        }
        Ok(())
    }

    fn create_parents(&mut self, path: &str) -> std::io::Result<()> {
        let display = self.display_for(path);
        let mut prefix = String::new();
        let comps: Vec<&str> = display.split('/').filter(|c| !c.is_empty()).collect();
        for comp in &comps[..comps.len().saturating_sub(1)] {
            prefix = format!("{prefix}/{comp}");
            if !self.nodes.contains_key(&prefix.to_lowercase()) {
                std::fs::create_dir_all(self.disk_path(&prefix))?;
                let id = self.new_id();
                self.nodes.insert(
                    prefix.to_lowercase(),
                    Node::Folder {
                        id,
                        path_display: prefix.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    pub fn create_folder(&mut self, path: &str) -> Result<Node, WriteError> {
        self.check_ancestors(path)?;
        match self.get(path) {
            Some(Node::Folder { .. }) => return Err(conflict("folder")),
            Some(Node::File(_)) => return Err(conflict("file")),
            None => {}
        }
        self.create_parents(path)
            .map_err(|_| WriteError(tag("no_write_permission")))?;
        let display = self.display_for(path);
        std::fs::create_dir_all(self.disk_path(&display))
            .map_err(|_| WriteError(tag("no_write_permission")))?;
        let node = Node::Folder {
            id: self.new_id(),
            path_display: display.clone(),
        };
        self.nodes.insert(display.to_lowercase(), node.clone());
        Ok(node)
    }

    /// Writes a file from a file on disk (an upload or a finished session).
    #[allow(clippy::too_many_arguments)]
    pub fn write_file(
        &mut self,
        path: &str,
        source: &Path,
        size: u64,
        hash: String,
        mode: WriteMode,
        autorename: bool,
        strict_conflict: bool,
        client_modified: Option<String>,
    ) -> Result<FileMeta, WriteError> {
        self.check_ancestors(path)?;
        let mut target = path.to_string();
        match (self.get(path).cloned(), &mode) {
            (Some(Node::Folder { .. }), _) => {
                if !autorename {
                    return Err(conflict("folder"));
                }
                target = self.free_name(path);
            }
            (Some(Node::File(existing)), WriteMode::Add) => {
                if existing.content_hash == hash && !strict_conflict {
                    return Ok(existing);
                }
                if !autorename {
                    return Err(conflict("file"));
                }
                target = self.free_name(path);
            }
            (Some(Node::File(existing)), WriteMode::Update(rev)) if &existing.rev != rev => {
                if !autorename {
                    return Err(conflict("file"));
                }
                target = self.free_name(path);
            }
            (None, WriteMode::Update(_)) => return Err(conflict("file")),
            _ => {}
        }
        let old_size = match self.get(&target) {
            Some(Node::File(m)) => m.size,
            _ => 0,
        };
        if self.used_bytes - old_size + size > self.space_bytes {
            return Err(WriteError(tag("insufficient_space")));
        }
        self.create_parents(&target)
            .map_err(|_| WriteError(tag("no_write_permission")))?;
        let display = match self.get(&target) {
            Some(Node::File(m)) => m.path_display.clone(),
            _ => self.display_for(&target),
        };
        let disk = self.disk_path(&display);
        if std::fs::rename(source, &disk).is_err() {
            std::fs::copy(source, &disk).map_err(|_| WriteError(tag("no_write_permission")))?;
        }
        let mut meta = self.new_meta(&display, size, hash, client_modified);
        if let Some(Node::File(old)) = self.get(&target) {
            meta.id = old.id.clone();
        }
        self.used_bytes = self.used_bytes - old_size + meta.size;
        self.nodes
            .insert(display.to_lowercase(), Node::File(meta.clone()));
        Ok(meta)
    }

    /// Deletes a file, or a folder with everything in it, as files/delete_v2
    /// and each entry of files/delete_batch do: the metadata it had, or a
    /// DeleteError (`path_lookup/...`, `path_write/...`). `parent_rev`
    /// deletes a file only at that rev.
    pub fn delete(&mut self, path: &str, parent_rev: Option<&str>) -> Result<Node, Value> {
        let lookup = |t: &str| json!({ ".tag": "path_lookup", "path_lookup": tag(t) });
        if !path.starts_with("id:")
            && (!path.starts_with('/') || path.ends_with('/') || path.contains("//"))
        {
            return Err(lookup("malformed_path"));
        }
        let Some(key) = self.resolve(path) else {
            return Err(lookup("not_found"));
        };
        if self.check_ancestors(&key).is_err() {
            return Err(lookup("not_folder"));
        }
        let node = self
            .nodes
            .get(&key)
            .cloned()
            .ok_or_else(|| lookup("not_found"))?;
        match (&node, parent_rev) {
            // DeleteArg.parent_rev: "does not support deleting a folder".
            (Node::Folder { .. }, Some(_)) => return Err(lookup("not_file")),
            (Node::File(m), Some(rev)) if m.rev != rev => {
                return Err(json!({
                    ".tag": "path_write",
                    "path_write": { ".tag": "conflict", "conflict": tag("file") },
                }))
            }
            _ => {}
        }
        let no_permission =
            || json!({ ".tag": "path_write", "path_write": tag("no_write_permission") });
        match &node {
            Node::File(m) => {
                std::fs::remove_file(self.disk_path(&m.path_display))
                    .map_err(|_| no_permission())?;
                self.used_bytes = self.used_bytes.saturating_sub(m.size);
            }
            Node::Folder { path_display, .. } => {
                std::fs::remove_dir_all(self.disk_path(path_display))
                    .map_err(|_| no_permission())?;
                let below = format!("{key}/");
                let gone: Vec<String> = self
                    .nodes
                    .keys()
                    .filter(|k| k.starts_with(&below))
                    .cloned()
                    .collect();
                for k in gone {
                    if let Some(Node::File(m)) = self.nodes.remove(&k) {
                        self.used_bytes = self.used_bytes.saturating_sub(m.size);
                    }
                }
            }
        }
        self.nodes.remove(&key);
        Ok(node)
    }

    fn free_name(&self, path: &str) -> String {
        let (stem, ext) = match path.rfind('.') {
            Some(dot) if dot > path.rfind('/').map(|s| s + 1).unwrap_or(0) => {
                (&path[..dot], &path[dot..])
            }
            _ => (path, ""),
        };
        (2..)
            .map(|n| format!("{stem} ({n}){ext}"))
            .find(|p| self.get(p).is_none())
            .unwrap_or_else(|| path.to_string())
    }

    /// A folder for temporary upload data, on the same file system as the files.
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join(".dropbox-emulator-tmp")
    }

    /// The children of a folder ("" is the root), sorted by lowercased path.
    pub fn list(&self, folder: &str, recursive: bool) -> Vec<Node> {
        let prefix = format!("{}/", folder.to_lowercase().trim_end_matches('/'));
        self.nodes
            .iter()
            .filter(|(k, _)| {
                k.starts_with(&prefix) && (recursive || !k[prefix.len()..].contains('/'))
            })
            .map(|(_, n)| n.clone())
            .collect()
    }
}

/// Size and content hash of a file, read in blocks.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = ContentHasher::default();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, h.finish()))
}

pub fn metadata_json(node: &Node) -> Value {
    match node {
        Node::Folder { id, path_display } => json!({
            ".tag": "folder",
            "name": path_display.rsplit('/').next().unwrap_or_default(),
            "id": id,
            "path_lower": path_display.to_lowercase(),
            "path_display": path_display,
        }),
        Node::File(m) => file_json(m),
    }
}

pub fn file_json(m: &FileMeta) -> Value {
    json!({
        ".tag": "file",
        "name": m.path_display.rsplit('/').next().unwrap_or_default(),
        "id": m.id,
        "path_lower": m.path_display.to_lowercase(),
        "path_display": m.path_display,
        "client_modified": m.client_modified,
        "server_modified": m.server_modified,
        "rev": m.rev,
        "size": m.size,
        "content_hash": m.content_hash,
        "is_downloadable": true,
    })
}
