//! Disk-backed buffers that keep a run's memory bounded whatever the row count.
//!
//! [`PartitionSpill`] groups rows by key-hash range (a grace hash join): the diff
//! then handles one partition at a time against the matching snapshot range.
//! [`RunsFile`] holds sorted runs of output rows and merges them back into
//! source order.

use crate::error::{Error, Result};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

fn spill_err(e: std::io::Error) -> Error {
    Error::io(
        "cannot write the run's temporary data (is the state folder's disk full?)",
        e,
    )
}

/// One row in a partition: 128-bit key hash, record hash, source-row hash,
/// position in the stream, and the encoded key and record.
pub struct Entry<'a> {
    pub k1: u64,
    pub k2: u64,
    pub h: u64,
    pub raw: u64,
    pub seq: u64,
    pub key: &'a [u8],
    pub rec: &'a [u8],
}

const HEADER: usize = 8 * 5 + 4 * 2;

pub struct PartitionSpill {
    file: File,
    len: u64,
    shift: u32,
    buffers: Vec<Vec<u8>>,
    blocks: Vec<Vec<(u64, usize)>>,
    buffer_cap: usize,
}

impl PartitionSpill {
    /// `partitions` must be a power of two.
    pub fn new(dir: &Path, partitions: usize) -> Result<Self> {
        assert!(partitions.is_power_of_two());
        let file = tempfile::tempfile_in(dir).map_err(spill_err)?;
        // Total buffer memory stays near 16 MiB however many partitions there are.
        let buffer_cap = (16 * 1024 * 1024 / partitions).clamp(16 * 1024, 256 * 1024);
        Ok(PartitionSpill {
            file,
            len: 0,
            shift: 64 - partitions.trailing_zeros(),
            buffers: (0..partitions).map(|_| Vec::new()).collect(),
            blocks: (0..partitions).map(|_| Vec::new()).collect(),
            buffer_cap,
        })
    }

    pub fn partitions(&self) -> usize {
        self.buffers.len()
    }

    pub fn partition_of(&self, k1: u64) -> usize {
        if self.shift == 64 {
            0
        } else {
            (k1 >> self.shift) as usize
        }
    }

    /// The inclusive k1 range covered by partition `p`.
    pub fn range(&self, p: usize) -> (u64, u64) {
        if self.shift == 64 {
            return (0, u64::MAX);
        }
        let lo = (p as u64) << self.shift;
        (lo, lo | ((1u64 << self.shift) - 1))
    }

    pub fn push(&mut self, e: &Entry<'_>) -> Result<()> {
        let p = self.partition_of(e.k1);
        let buf = &mut self.buffers[p];
        if buf.capacity() == 0 {
            buf.reserve(self.buffer_cap);
        }
        buf.extend_from_slice(&e.k1.to_le_bytes());
        buf.extend_from_slice(&e.k2.to_le_bytes());
        buf.extend_from_slice(&e.h.to_le_bytes());
        buf.extend_from_slice(&e.raw.to_le_bytes());
        buf.extend_from_slice(&e.seq.to_le_bytes());
        buf.extend_from_slice(&(e.key.len() as u32).to_le_bytes());
        buf.extend_from_slice(&(e.rec.len() as u32).to_le_bytes());
        buf.extend_from_slice(e.key);
        buf.extend_from_slice(e.rec);
        if buf.len() >= self.buffer_cap {
            self.file.write_all(buf).map_err(spill_err)?;
            self.blocks[p].push((self.len, buf.len()));
            self.len += buf.len() as u64;
            buf.clear();
        }
        Ok(())
    }

    /// Reads partition `p` whole into `out` (its blocks, then what is still buffered).
    pub fn read_partition(&mut self, p: usize, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        for &(offset, len) in &self.blocks[p] {
            let start = out.len();
            out.resize(start + len, 0);
            self.file
                .read_exact_at(&mut out[start..], offset)
                .map_err(spill_err)?;
        }
        out.extend_from_slice(&self.buffers[p]);
        self.buffers[p] = Vec::new();
        Ok(())
    }
}

/// Splits a partition's bytes back into entries.
pub fn parse_entries<'a>(mut data: &'a [u8], out: &mut Vec<Entry<'a>>) {
    out.clear();
    let u64_at = |d: &[u8], i: usize| u64::from_le_bytes(d[i..i + 8].try_into().unwrap_or([0; 8]));
    while data.len() >= HEADER {
        let klen = u32::from_le_bytes(data[40..44].try_into().unwrap_or([0; 4])) as usize;
        let rlen = u32::from_le_bytes(data[44..48].try_into().unwrap_or([0; 4])) as usize;
        let (k1, k2, h, raw, seq) = (
            u64_at(data, 0),
            u64_at(data, 8),
            u64_at(data, 16),
            u64_at(data, 24),
            u64_at(data, 32),
        );
        let key = &data[HEADER..HEADER + klen];
        let rec = &data[HEADER + klen..HEADER + klen + rlen];
        out.push(Entry {
            k1,
            k2,
            h,
            raw,
            seq,
            key,
            rec,
        });
        data = &data[HEADER + klen + rlen..];
    }
}

/// Sorted runs of `(order, rid, record)` appended one after another, merged
/// back by `order` with a k-way heap merge.
pub struct RunsFile {
    file: File,
    runs: Vec<(u64, u64)>,
    len: u64,
    pub count: u64,
}

const RUN_HEADER: usize = 8 + 8 + 4;

impl RunsFile {
    pub fn new(dir: &Path) -> Result<Self> {
        Ok(RunsFile {
            file: tempfile::tempfile_in(dir).map_err(spill_err)?,
            runs: Vec::new(),
            len: 0,
            count: 0,
        })
    }

    /// Appends one run; `items` must already be sorted by order.
    pub fn push_run(&mut self, items: &[(u64, u64, &[u8])]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(items.iter().map(|i| RUN_HEADER + i.2.len()).sum());
        for (order, rid, rec) in items {
            buf.extend_from_slice(&order.to_le_bytes());
            buf.extend_from_slice(&rid.to_le_bytes());
            buf.extend_from_slice(&(rec.len() as u32).to_le_bytes());
            buf.extend_from_slice(rec);
        }
        self.file.write_all(&buf).map_err(spill_err)?;
        self.runs.push((self.len, buf.len() as u64));
        self.len += buf.len() as u64;
        self.count += items.len() as u64;
        Ok(())
    }

    /// Calls `f(rid, record)` for every item in ascending order.
    pub fn merge(&mut self, mut f: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
        self.file.flush().map_err(spill_err)?;
        self.file.rewind().map_err(spill_err)?;
        let mut cursors: Vec<RunCursor> = self
            .runs
            .iter()
            .map(|&(start, len)| RunCursor {
                pos: start,
                end: start + len,
                buf: Vec::new(),
                at: 0,
            })
            .collect();
        let mut heap = BinaryHeap::new();
        for (i, c) in cursors.iter_mut().enumerate() {
            if let Some(order) = c.peek(&self.file)? {
                heap.push(Reverse((order, i)));
            }
        }
        let mut rec = Vec::new();
        while let Some(Reverse((_, i))) = heap.pop() {
            let c = &mut cursors[i];
            let rid = c.take(&mut rec);
            f(rid, &rec)?;
            if let Some(order) = c.peek(&self.file)? {
                heap.push(Reverse((order, i)));
            }
        }
        Ok(())
    }
}

/// Reads one run in 64 KiB windows so a merge of many runs stays small.
struct RunCursor {
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    at: usize,
}

impl RunCursor {
    fn fill(&mut self, file: &File, need: usize) -> Result<bool> {
        if self.buf.len() - self.at >= need {
            return Ok(true);
        }
        self.buf.drain(..self.at);
        self.at = 0;
        let want = need.max(64 * 1024) - self.buf.len();
        let want = want.min((self.end - self.pos) as usize);
        if want == 0 {
            return Ok(self.buf.len() >= need);
        }
        let start = self.buf.len();
        self.buf.resize(start + want, 0);
        file.read_exact_at(&mut self.buf[start..], self.pos)
            .map_err(spill_err)?;
        self.pos += want as u64;
        Ok(self.buf.len() >= need)
    }

    fn peek(&mut self, file: &File) -> Result<Option<u64>> {
        if !self.fill(file, RUN_HEADER)? {
            return Ok(None);
        }
        let len = u32::from_le_bytes(
            self.buf[self.at + 16..self.at + 20]
                .try_into()
                .unwrap_or([0; 4]),
        );
        if !self.fill(file, RUN_HEADER + len as usize)? {
            return Err(Error::Internal("truncated run in temporary data".into()));
        }
        Ok(Some(u64::from_le_bytes(
            self.buf[self.at..self.at + 8].try_into().unwrap_or([0; 8]),
        )))
    }

    /// Takes the item `peek` found; returns its rid and copies its record.
    fn take(&mut self, rec: &mut Vec<u8>) -> u64 {
        let b = &self.buf[self.at..];
        let rid = u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8]));
        let len = u32::from_le_bytes(b[16..20].try_into().unwrap_or([0; 4])) as usize;
        rec.clear();
        rec.extend_from_slice(&b[RUN_HEADER..RUN_HEADER + len]);
        self.at += RUN_HEADER + len;
        rid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_round_trip_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = PartitionSpill::new(dir.path(), 4).unwrap();
        for i in 0..20_000u64 {
            let k1 = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            s.push(&Entry {
                k1,
                k2: i,
                h: i * 3,
                raw: i * 5,
                seq: i,
                key: &i.to_le_bytes(),
                rec: b"record",
            })
            .unwrap();
        }
        let mut total = 0;
        let mut buf = Vec::new();
        for p in 0..4 {
            let mut entries = Vec::new();
            s.read_partition(p, &mut buf).unwrap();
            parse_entries(&buf, &mut entries);
            let (lo, hi) = s.range(p);
            for e in &entries {
                assert!(e.k1 >= lo && e.k1 <= hi);
                assert_eq!(e.h, e.k2 * 3);
                assert_eq!(e.raw, e.k2 * 5);
                assert_eq!(e.rec, b"record");
            }
            total += entries.len();
        }
        assert_eq!(total, 20_000);
    }

    #[test]
    fn runs_merge_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = RunsFile::new(dir.path()).unwrap();
        let big = vec![7u8; 100_000];
        r.push_run(&[(1, 10, b"a"), (4, 40, &big), (9, 90, b"c")])
            .unwrap();
        r.push_run(&[(2, 20, b"d"), (3, 30, b"e")]).unwrap();
        let mut got = Vec::new();
        r.merge(|rid, rec| {
            got.push((rid, rec.len()));
            Ok(())
        })
        .unwrap();
        assert_eq!(got, vec![(10, 1), (20, 1), (30, 1), (40, 100_000), (90, 1)]);
    }
}
