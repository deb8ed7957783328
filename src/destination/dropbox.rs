//! Dropbox: every file of a run goes up through an upload session, then one
//! `finish_batch_v2` commits them together, so a run's files appear at once.
//! A run with a single small file uses one `upload` call instead.

use super::{Destination, StagedFile};
use crate::dropbox::{Client, DropboxError};
use crate::error::{Error, Result};

/// Files above this go in chunks; smaller ones in one request.
pub const DEFAULT_CHUNK_THRESHOLD: u64 = 8 * 1024 * 1024;
/// Chunk size for sessions: a multiple of 4 MiB, far below the 150 MiB limit.
pub const DEFAULT_CHUNK: u64 = 8 * 1024 * 1024;
/// Chunks in flight at once for a large file (a concurrent upload session).
pub const DEFAULT_STREAMS: usize = 3;

pub struct DropboxDestination {
    client: Client,
    folder: String,
    threshold: u64,
    chunk: u64,
    streams: usize,
}

impl DropboxDestination {
    /// Chunking from `DROPSYNC_DROPBOX_CHUNK_THRESHOLD` / `_CHUNK_BYTES` /
    /// `_UPLOAD_STREAMS`, else the defaults.
    pub fn new(client: Client, folder: &str) -> Self {
        let env_u64 = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let mut d = Self::with_chunking(
            client,
            folder,
            env_u64(
                crate::env_vars::DROPBOX_CHUNK_THRESHOLD,
                DEFAULT_CHUNK_THRESHOLD,
            ),
            env_u64(crate::env_vars::DROPBOX_CHUNK_BYTES, DEFAULT_CHUNK),
        );
        d.streams = env_u64(
            crate::env_vars::DROPBOX_UPLOAD_STREAMS,
            DEFAULT_STREAMS as u64,
        )
        .clamp(1, 16) as usize;
        d
    }

    pub fn with_chunking(client: Client, folder: &str, threshold: u64, chunk: u64) -> Self {
        DropboxDestination {
            client,
            folder: folder.trim_end_matches('/').to_string(),
            threshold,
            chunk,
            streams: DEFAULT_STREAMS,
        }
    }

    /// A commit whose answer was lost may have happened: then the file is
    /// there with our content hash, and retrying finds its session gone.
    fn already_committed(&self, path: &str, content_hash: &str) -> bool {
        matches!(
            self.client.get_metadata(path),
            Ok(Some(v)) if v["content_hash"].as_str() == Some(content_hash)
        )
    }

    fn remote(&self, relative: &str) -> String {
        format!("{}/{}", self.folder, relative)
    }

    fn err(&self, e: DropboxError) -> Error {
        Error::Destination {
            path: format!(
                "dropbox:{}",
                if self.folder.is_empty() {
                    "/"
                } else {
                    &self.folder
                }
            ),
            message: e.to_string(),
        }
    }
}

impl Destination for DropboxDestination {
    fn describe(&self) -> String {
        format!(
            "dropbox {}",
            if self.folder.is_empty() {
                "/"
            } else {
                &self.folder
            }
        )
    }

    fn check(&self) -> Result<()> {
        if self.folder.is_empty() {
            return Ok(());
        }
        match self
            .client
            .get_metadata(&self.folder)
            .map_err(|e| self.err(e))?
        {
            Some(v) if v[".tag"] == "folder" => Ok(()),
            Some(_) => Err(self.err(DropboxError::Destination(format!(
                "{} is a file, not a folder; fix [destination] path",
                self.folder
            )))),
            None => Err(self.err(DropboxError::Destination(format!(
                "the folder {} does not exist; {}",
                self.folder,
                crate::hints::CREATE_DROPBOX_FOLDER.cli
            )))),
        }
    }

    fn holds(&self, file: &crate::recovery::IntentFile) -> Result<bool> {
        let Ok(local) = crate::dropbox::content_hash::file_content_hash(&file.local) else {
            return Ok(false);
        };
        let meta = self
            .client
            .get_metadata(&self.remote(&file.relative))
            .map_err(|e| self.err(e))?;
        Ok(matches!(meta, Some(v) if v["content_hash"].as_str() == Some(local.as_str())))
    }

    /// Lists each parent folder first, so that only files are deleted:
    /// `files/delete_batch` would delete a folder found at a path with
    /// everything in it. Entries that hit write contention are sent again.
    fn delete(&self, paths: &[String]) -> Vec<(String, Result<()>)> {
        use std::collections::{BTreeMap, HashMap};
        let mut results: Vec<Option<Result<()>>> = paths.iter().map(|_| None).collect();
        let mut by_parent: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, rel) in paths.iter().enumerate() {
            if !super::safe_relative(rel) {
                results[i] = Some(Err(self.err(DropboxError::Destination(format!(
                    "{rel} is not a path inside the folder; not deleted"
                )))));
                continue;
            }
            let remote = self.remote(rel);
            let parent = remote
                .rsplit_once('/')
                .map(|(p, _)| p)
                .unwrap_or("")
                .to_string();
            by_parent.entry(parent).or_default().push(i);
        }
        // Remote path -> index, for the files that are there.
        let mut to_delete: Vec<(String, usize)> = Vec::new();
        for (parent, indices) in by_parent {
            let listed = match self.client.list_folder(&parent) {
                Ok(entries) => entries,
                Err(e) if matches!(e.summary(), Some("path/not_found" | "path/not_folder")) => {
                    Vec::new()
                }
                Err(e) => {
                    let text = e.to_string();
                    for i in indices {
                        results[i] = Some(Err(self.err(DropboxError::Destination(format!(
                            "cannot list {parent} to delete {}: {text}",
                            paths[i]
                        )))));
                    }
                    continue;
                }
            };
            let kinds: HashMap<String, crate::dropbox::EntryKind> = listed
                .into_iter()
                .map(|e| (e.name.to_lowercase(), e.kind))
                .collect();
            for i in indices {
                let remote = self.remote(&paths[i]);
                let name = remote.rsplit('/').next().unwrap_or_default().to_lowercase();
                match kinds.get(&name) {
                    Some(crate::dropbox::EntryKind::File) => to_delete.push((remote, i)),
                    // Gone, or a folder someone put there: not ours.
                    _ => results[i] = Some(Ok(())),
                }
            }
        }
        for round in 0..4 {
            if to_delete.is_empty() {
                break;
            }
            if round > 0 {
                std::thread::sleep(std::time::Duration::from_millis(250 << round));
            }
            let remotes: Vec<String> = to_delete.iter().map(|(r, _)| r.clone()).collect();
            let answers = match self.client.delete_batch(&remotes) {
                Ok(a) => a,
                Err(e) => {
                    let text = e.to_string();
                    for (_, i) in to_delete.drain(..) {
                        results[i] = Some(Err(self.err(DropboxError::Destination(format!(
                            "deleting {} failed: {text}",
                            paths[i]
                        )))));
                    }
                    break;
                }
            };
            let mut again = Vec::new();
            for ((remote, i), answer) in to_delete.drain(..).zip(answers) {
                match answer {
                    Ok(()) => results[i] = Some(Ok(())),
                    Err(tags) if tags.contains("too_many_write_operations") && round < 3 => {
                        again.push((remote, i))
                    }
                    Err(tags) => {
                        results[i] = Some(Err(self.err(DropboxError::Destination(format!(
                            "deleting {remote} failed ({tags})"
                        )))))
                    }
                }
            }
            to_delete = again;
        }
        paths
            .iter()
            .zip(results)
            .map(|(p, r)| {
                let r = r.unwrap_or_else(|| {
                    Err(self.err(DropboxError::Destination(format!("{p} was not deleted"))))
                });
                (p.clone(), r)
            })
            .collect()
    }

    fn deliver(&self, files: &[StagedFile], progress: &dyn Fn(u64, u64)) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let total: u64 = files.iter().map(|f| f.bytes).sum();
        if files.len() == 1 && files[0].bytes <= self.threshold {
            let f = &files[0];
            self.client
                .upload(&f.local, &self.remote(&f.relative), &|done| {
                    progress(done, total)
                })
                .map_err(|e| self.err(e))?;
            return Ok(());
        }
        let mut sessions = Vec::with_capacity(files.len());
        let mut before = 0;
        for f in files {
            let session = self
                .client
                .upload_session(&f.local, self.chunk, self.streams, &|done| {
                    progress(before + done, total)
                })
                .map_err(|e| self.err(e))?;
            before += f.bytes;
            sessions.push((session, self.remote(&f.relative)));
        }
        // Commit all together; entries that hit write contention are
        // retried. Entries may land while others fail: those that did are
        // named in the error, for the run's record.
        let mut landed: Vec<String> = Vec::new();
        let partial = |landed: &[String], e: Error| -> Error {
            if landed.is_empty() {
                return e;
            }
            Error::PartialDelivery {
                landed: landed
                    .iter()
                    .map(|path| crate::history::FileReport::landed(path))
                    .collect(),
                source: Box::new(e),
            }
        };
        let mut pending: Vec<usize> = (0..sessions.len()).collect();
        for round in 0..5 {
            let batch: Vec<_> = pending.iter().map(|&i| sessions[i].clone()).collect();
            let results = self
                .client
                .finish_batch(&batch)
                .map_err(|e| partial(&landed, self.err(e)))?;
            let mut retry = Vec::new();
            let mut failed = Vec::new();
            for (&i, result) in pending.iter().zip(results) {
                let (session, path) = &sessions[i];
                match result {
                    Ok(meta) => {
                        crate::dropbox::client_verify(path, &session.content_hash, &meta)
                            .map_err(|e| partial(&landed, self.err(e)))?;
                        landed.push(files[i].relative.clone());
                    }
                    Err(tag) if tag.contains("too_many_write_operations") => retry.push(i),
                    Err(tag)
                        if tag.starts_with("lookup_failed/not_found")
                            && self.already_committed(path, &session.content_hash) =>
                    {
                        landed.push(files[i].relative.clone());
                    }
                    Err(tag) => failed.push(format!("committing {path} failed ({tag})")),
                }
            }
            if !failed.is_empty() {
                let e = self.err(DropboxError::Destination(failed.join("; ")));
                return Err(partial(&landed, e));
            }
            if retry.is_empty() {
                return Ok(());
            }
            pending = retry;
            std::thread::sleep(std::time::Duration::from_millis(250 << round));
        }
        Err(partial(
            &landed,
            self.err(DropboxError::Exhausted {
                route: "files/upload_session/finish_batch_v2".into(),
                attempts: 5,
                last: "write contention".into(),
            }),
        ))
    }
}
