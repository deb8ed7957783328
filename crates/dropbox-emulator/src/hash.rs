//! Dropbox's content hash: SHA-256 over the concatenated SHA-256 digests of
//! 4 MiB blocks, as lowercase hex.

use sha2::{Digest, Sha256};

pub const BLOCK: usize = 4 * 1024 * 1024;

/// The content hash of no data (SHA-256 of nothing).
pub const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Keeps each whole block's digest (32 bytes per 4 MiB), so that the parts
/// of a concurrent session, hashed as they arrive, combine in offset order.
#[derive(Default, Clone)]
pub struct ContentHasher {
    digests: Vec<[u8; 32]>,
    block: Sha256,
    in_block: usize,
}

impl ContentHasher {
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (BLOCK - self.in_block).min(data.len());
            self.block.update(&data[..take]);
            self.in_block += take;
            data = &data[take..];
            if self.in_block == BLOCK {
                self.digests
                    .push(std::mem::take(&mut self.block).finalize().into());
                self.in_block = 0;
            }
        }
    }

    /// The block digests, the last (partial) block included.
    pub fn into_blocks(mut self) -> Vec<[u8; 32]> {
        if self.in_block > 0 {
            self.digests.push(self.block.finalize().into());
        }
        self.digests
    }

    pub fn finish(self) -> String {
        combine(&self.into_blocks())
    }
}

/// The content hash of a file whose block digests are given in order.
pub fn combine(blocks: &[[u8; 32]]) -> String {
    let mut overall = Sha256::new();
    for d in blocks {
        overall.update(d);
    }
    hex(&overall.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn content_hash(data: &[u8]) -> String {
    let mut h = ContentHasher::default();
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_block_boundaries() {
        assert_eq!(content_hash(b""), EMPTY);
        let data = vec![7u8; BLOCK + 10];
        let mut h = ContentHasher::default();
        for chunk in data.chunks(1000) {
            h.update(chunk);
        }
        assert_eq!(h.finish(), content_hash(&data));
    }
}
