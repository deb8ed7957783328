//! The files one run writes to its staging folder: each planned file (All,
//! or Diff's added/changed/removed) cut into parts at the sync's limits,
//! and the manifest that lists them. A part is closed before the row that
//! would take it past `max_rows_per_file`, or past `max_bytes_per_file` of
//! data before compression (text formats measure each row before writing
//! it; Parquet closes a part once its encoded size reaches the limit).

use crate::config::{PartLimits, SyncSpec};
use crate::error::{Error, Result};
use crate::filename::part_name;
use crate::format::{self, FileFormat, RecordWriter};
use crate::history::FileReport;
use crate::run::FileKind;
use crate::source::decode_refs;
use crate::value::{Value, ValueRef};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// What every part of a run's files is written with.
pub(crate) struct Writing {
    pub format: FileFormat,
    pub columns: Vec<String>,
    pub types: Vec<Option<String>>,
    pub limits: PartLimits,
    /// The primary key's columns among the output columns, with the key's
    /// label (`id`, `(a, b)`), when the output holds them all: a value a
    /// typed format cannot hold is then named by its row's key.
    pub key: Option<(Vec<usize>, String)>,
}

impl Writing {
    /// Names the row of a value error by its key (`row id=42`).
    fn name_row(&self, e: Error, rec: &[ValueRef<'_>]) -> Error {
        match (e, &self.key) {
            (
                Error::ColumnValue {
                    row: None,
                    column,
                    message,
                },
                Some((pos, label)),
            ) => {
                let values: Vec<Value> = pos
                    .iter()
                    .map(|&i| rec.get(i).map_or(Value::Null, ValueRef::to_value))
                    .collect();
                Error::ColumnValue {
                    row: Some(format!("{label}={}", crate::value::display_key(&values))),
                    column,
                    message,
                }
            }
            (e, _) => e,
        }
    }
}

/// One finished part in staging.
pub(crate) struct Part {
    pub relative: String,
    pub local: PathBuf,
    pub part: Option<u32>,
    pub rows: u64,
    pub bytes: u64,
}

/// A planned file being written: to staging for a run, or kept in memory
/// (its first rows) for a preview.
pub(crate) struct OutFile {
    pub kind: FileKind,
    /// The resolved name; `{part}` still unresolved when the template has it.
    pub relative: String,
    staging: PathBuf,
    index: usize,
    writer: Option<Box<dyn RecordWriter>>,
    /// Rows of the whole file, every part.
    pub rows: u64,
    part_rows: u64,
    part: u32,
    done: Vec<Part>,
    pub preview_limit: Option<usize>,
    pub preview_rows: Vec<Vec<Value>>,
}

impl OutFile {
    /// A file of a run, its first part opened in `staging`.
    pub fn open(
        w: &Writing,
        kind: FileKind,
        relative: String,
        staging: &Path,
        index: usize,
    ) -> Result<OutFile> {
        let mut f = OutFile::preview(kind, relative, 0);
        f.preview_limit = None;
        f.staging = staging.to_path_buf();
        f.index = index;
        f.writer = Some(f.new_writer(w)?);
        Ok(f)
    }

    /// A file of a preview: its first `rows` rows are kept.
    pub fn preview(kind: FileKind, relative: String, rows: usize) -> OutFile {
        OutFile {
            kind,
            relative,
            staging: PathBuf::new(),
            index: 0,
            writer: None,
            rows: 0,
            part_rows: 0,
            part: 1,
            done: Vec::new(),
            preview_limit: Some(rows),
            preview_rows: Vec::new(),
        }
    }

    /// The name the current part is delivered as.
    pub fn part_relative(&self, w: &Writing) -> String {
        if w.limits.any() {
            part_name(&self.relative, self.part)
        } else {
            self.relative.clone()
        }
    }

    fn local(&self) -> PathBuf {
        self.staging.join(format!(
            "{}-{}-{}",
            self.index,
            self.kind.as_str(),
            self.part
        ))
    }

    fn new_writer(&self, w: &Writing) -> Result<Box<dyn RecordWriter>> {
        let local = self.local();
        let f = std::fs::File::create(&local)
            .map_err(|e| Error::io(format!("cannot create {}", local.display()), e))?;
        let out: format::Output = Box::new(BufWriter::with_capacity(256 * 1024, f));
        format::writer(&w.format, &w.columns, &w.types, out)
    }

    /// Closes the current part and opens the next.
    fn next_part(&mut self, w: &Writing) -> Result<()> {
        self.close_part(w)?;
        self.part += 1;
        self.part_rows = 0;
        self.writer = Some(self.new_writer(w)?);
        Ok(())
    }

    fn close_part(&mut self, w: &Writing) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            let bytes = writer.finish()?;
            self.done.push(Part {
                relative: self.part_relative(w),
                local: self.local(),
                part: w.limits.any().then_some(self.part),
                rows: self.part_rows,
                bytes,
            });
        }
        Ok(())
    }

    /// Writes an encoded record; only a preview's first rows are decoded.
    pub fn write_encoded(&mut self, w: &Writing, rec: &[u8]) -> Result<()> {
        if let Some(limit) = self.preview_limit {
            if self.preview_rows.len() < limit {
                return self.write(w, &crate::source::decode_record(rec)?);
            }
            self.rows += 1;
            return Ok(());
        }
        if !w.limits.any() {
            self.rows += 1;
            self.part_rows += 1;
            return match &mut self.writer {
                Some(writer) => writer.write_encoded(rec).or_else(|e| {
                    let mut refs = Vec::new();
                    decode_refs(rec, &mut refs)?;
                    Err(w.name_row(e, &refs))
                }),
                None => Ok(()),
            };
        }
        // Parts need the values (to measure a row before writing it).
        let mut refs = Vec::with_capacity(w.columns.len());
        decode_refs(rec, &mut refs)?;
        self.write_refs(w, &refs)
    }

    pub fn write(&mut self, w: &Writing, rec: &[Value]) -> Result<()> {
        if let Some(limit) = self.preview_limit {
            self.rows += 1;
            if self.preview_rows.len() < limit {
                self.preview_rows.push(rec.to_vec());
            }
            return Ok(());
        }
        let refs: Vec<ValueRef<'_>> = rec.iter().map(Value::as_ref).collect();
        self.write_refs(w, &refs)
    }

    fn write_refs(&mut self, w: &Writing, rec: &[ValueRef<'_>]) -> Result<()> {
        // Measured for the writer that takes the row: CSV counts its data
        // from the last measure (see `RecordWriter::data_bytes`).
        let mut measured = false;
        if self.part_rows > 0 {
            let mut cut = w.limits.max_rows.is_some_and(|m| self.part_rows >= m);
            if let (false, Some(max), Some(writer)) =
                (cut, w.limits.max_bytes, self.writer.as_mut())
            {
                let len = writer.encoded_len(rec)?.unwrap_or(0);
                cut = writer.data_bytes() + len > max;
                measured = !cut;
            }
            if cut {
                self.next_part(w)?;
            }
        }
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        if w.limits.max_bytes.is_some() && !measured {
            writer.encoded_len(rec)?;
        }
        writer.write_refs(rec).map_err(|e| w.name_row(e, rec))?;
        self.rows += 1;
        self.part_rows += 1;
        Ok(())
    }

    /// Closes the last part; the parts in order (one, possibly empty, for
    /// a file with no rows).
    pub fn finish(mut self, w: &Writing) -> Result<Vec<Part>> {
        self.close_part(w)?;
        Ok(self.done)
    }
}

/// A file of the manifest.
#[derive(serde::Serialize)]
struct ManifestFile<'a> {
    path: &'a str,
    kind: FileKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<u32>,
    rows: u64,
    bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

/// Writes the manifest of a run's delivered files to `local`: the run, and
/// per file its path, kind, part, rows, bytes and hash (Dropbox's
/// content_hash for Dropbox, SHA-256 for a folder), so a consumer can wait
/// for it and check what it reads. Returns its size.
pub(crate) fn write_manifest(
    spec: &SyncSpec,
    run_id: i64,
    started_at: chrono::DateTime<chrono::Utc>,
    files: &[(&FileReport, &Path)],
    local: &Path,
) -> Result<u64> {
    let dropbox = matches!(
        spec.destination,
        crate::config::DestinationSpec::Dropbox { .. }
    );
    let mut list = Vec::with_capacity(files.len());
    for (report, path) in files {
        let read_err = |e| Error::io(format!("cannot read {}", path.display()), e);
        let (content_hash, sha256) = if dropbox {
            (
                Some(crate::dropbox::content_hash::file_content_hash(path).map_err(read_err)?),
                None,
            )
        } else {
            (None, Some(sha256_of(path).map_err(read_err)?))
        };
        list.push(ManifestFile {
            path: &report.path,
            kind: report.kind,
            part: report.part,
            rows: report.rows,
            bytes: report.bytes,
            content_hash,
            sha256,
        });
    }
    let doc = serde_json::json!({
        "run_id": run_id,
        "sync_id": spec.sync.id,
        "model_id": spec.model.id,
        "mode": spec.sync.mode,
        "format": spec.sync.format,
        "started_at": started_at,
        "files": list,
    });
    let mut text =
        serde_json::to_vec_pretty(&doc).map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    text.push(b'\n');
    std::fs::write(local, &text)
        .map_err(|e| Error::io(format!("cannot write {}", local.display()), e))?;
    Ok(text.len() as u64)
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    crate::dropbox::content_hash::read_chunks(path, |chunk| h.update(chunk))?;
    Ok(h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>())
}
