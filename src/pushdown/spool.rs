//! The delta a run received, kept on disk in its staging folder until it
//! is written to the database as the next generation: a first run's delta
//! is the whole model, which must not sit in memory.
//!
//! Each entry: the operation (`u` upsert, `d` delete), the key count and
//! the keys, the hash and the record, each length-prefixed (u32 LE).

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub struct Writer {
    out: BufWriter<File>,
    path: PathBuf,
    pub entries: u64,
}

pub struct Entry {
    pub op: char,
    pub keys: Vec<String>,
    pub hash: String,
    pub rec: Vec<u8>,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("cannot write {}", path.display()), e)
}

impl Writer {
    pub fn create(path: &Path) -> Result<Writer> {
        let file = File::create(path).map_err(|e| io(path, e))?;
        Ok(Writer {
            out: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            entries: 0,
        })
    }

    pub fn upsert(&mut self, keys: &[Option<String>], hash: &str, rec: &[u8]) -> Result<()> {
        self.push(b'u', keys, hash.as_bytes(), rec)
    }

    pub fn delete(&mut self, keys: &[Option<String>]) -> Result<()> {
        self.push(b'd', keys, b"", b"")
    }

    fn push(&mut self, op: u8, keys: &[Option<String>], hash: &[u8], rec: &[u8]) -> Result<()> {
        let mut put = |b: &[u8]| -> std::io::Result<()> {
            self.out.write_all(&(b.len() as u32).to_le_bytes())?;
            self.out.write_all(b)
        };
        (|| {
            put(&[op])?;
            put(&(keys.len() as u32).to_le_bytes())?;
            for k in keys {
                put(k.as_deref().unwrap_or_default().as_bytes())?;
            }
            put(hash)?;
            put(rec)
        })()
        .map_err(|e| io(&self.path, e))?;
        self.entries += 1;
        Ok(())
    }

    /// Flushes the spool to disk.
    pub fn finish(mut self) -> Result<PathBuf> {
        self.out.flush().map_err(|e| io(&self.path, e))?;
        Ok(self.path)
    }
}

pub struct Reader {
    input: BufReader<File>,
    path: PathBuf,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader> {
        let file = File::open(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        Ok(Reader {
            input: BufReader::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
        })
    }

    fn field(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut len = [0u8; 4];
        match self.input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
        self.input.read_exact(&mut buf)?;
        Ok(Some(buf))
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Entry>> {
        let path = self.path.clone();
        let bad = |e: std::io::Error| Error::io(format!("cannot read {}", path.display()), e);
        let Some(op) = self.field().map_err(bad)? else {
            return Ok(None);
        };
        let truncated = || {
            bad(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "truncated spool",
            ))
        };
        let mut next = || -> Result<Vec<u8>> { self.field().map_err(bad)?.ok_or_else(truncated) };
        let n = u32::from_le_bytes(next()?.try_into().map_err(|_| truncated())?) as usize;
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            keys.push(String::from_utf8_lossy(&next()?).into_owned());
        }
        let hash = String::from_utf8_lossy(&next()?).into_owned();
        let rec = next()?;
        Ok(Some(Entry {
            op: op.first().copied().unwrap_or(b'u') as char,
            keys,
            hash,
            rec,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("delta");
        let mut w = Writer::create(&path).unwrap();
        w.upsert(&[Some("1".into()), Some("eu".into())], "abc", b"rec")
            .unwrap();
        w.delete(&[Some("2".into()), Some("".into())]).unwrap();
        assert_eq!(w.entries, 2);
        let path = w.finish().unwrap();
        let mut r = Reader::open(&path).unwrap();
        let a = r.next().unwrap().unwrap();
        assert_eq!(
            (a.op, a.keys, a.hash, a.rec),
            (
                'u',
                vec!["1".to_string(), "eu".to_string()],
                "abc".to_string(),
                b"rec".to_vec()
            )
        );
        let b = r.next().unwrap().unwrap();
        assert_eq!((b.op, b.keys.len(), b.rec.len()), ('d', 2, 0));
        assert!(r.next().unwrap().is_none());
    }
}
