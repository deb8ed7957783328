//! Dropbox's content hash, computed while a file is read for upload: SHA-256
//! of the concatenated SHA-256 digests of each 4 MiB block, as lowercase hex.

use sha2::{Digest, Sha256};

pub const BLOCK: u64 = 4 * 1024 * 1024;

/// Digests of whole blocks; a chunk that is a multiple of [`BLOCK`] can be
/// hashed on its own and its digests kept only once its upload succeeded.
#[derive(Default, Clone)]
pub struct BlockDigests {
    digests: Vec<[u8; 32]>,
    block: Sha256,
    in_block: u64,
}

impl BlockDigests {
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = ((BLOCK - self.in_block) as usize).min(data.len());
            self.block.update(&data[..take]);
            self.in_block += take as u64;
            data = &data[take..];
            if self.in_block == BLOCK {
                self.digests
                    .push(std::mem::take(&mut self.block).finalize().into());
                self.in_block = 0;
            }
        }
    }

    /// Appends another run of digests (the next chunk's).
    pub fn extend(&mut self, mut other: BlockDigests) {
        other.close();
        self.digests.extend(other.digests);
    }

    fn close(&mut self) {
        if self.in_block > 0 {
            self.digests
                .push(std::mem::take(&mut self.block).finalize().into());
            self.in_block = 0;
        }
    }

    pub fn finish(mut self) -> String {
        self.close();
        let mut overall = Sha256::new();
        for d in &self.digests {
            overall.update(d);
        }
        overall
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

pub fn content_hash(data: &[u8]) -> String {
    let mut h = BlockDigests::default();
    h.update(data);
    h.finish()
}

/// Feeds a file's bytes to `f`, a buffer at a time.
pub(crate) fn read_chunks(path: &std::path::Path, mut f: impl FnMut(&[u8])) -> std::io::Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0; 256 * 1024];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(()),
            n => f(&buf[..n]),
        }
    }
}

/// The content hash of a file, read a block at a time.
pub fn file_content_hash(path: &std::path::Path) -> std::io::Result<String> {
    let mut h = BlockDigests::default();
    read_chunks(path, |b| h.update(b))?;
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_chunking() {
        assert_eq!(
            content_hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // One block: the hash of the single block digest.
        let one = Sha256::digest(Sha256::digest(b"abc"));
        let hex: String = one.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(content_hash(b"abc"), hex);
        // Hashing in 4 MiB-multiple chunks equals hashing in one go.
        let data: Vec<u8> = (0..(2 * BLOCK + 123)).map(|i| (i % 251) as u8).collect();
        let mut whole = BlockDigests::default();
        let (a, b) = data.split_at(BLOCK as usize);
        let mut first = BlockDigests::default();
        first.update(a);
        let mut second = BlockDigests::default();
        second.update(b);
        whole.extend(first);
        whole.extend(second);
        assert_eq!(whole.finish(), content_hash(&data));
    }
}
