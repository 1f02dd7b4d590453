//! A run of consecutive blocks with the slot that made each, as one member
//! serves it to another during a snapshot install (docs/PROTOCOL.md §7.6).
//!
//! Layout, big-endian: `version u8 (1) ‖ first_height u64 ‖ count u32 ‖
//! count × (slot u64 ‖ length u32 ‖ block bytes) ‖ crc32 u32`, the CRC-32
//! (IEEE, as the store's value checksums) covering every byte before it. The
//! checksum catches a chunk damaged between the sender's checked read and the
//! receiver; the receiver's block-by-block verification catches the rest.

use redb::ReadableTable;
use synod_core::limits::BLOCK_BYTES_MAX;

use crate::tables::{BLOCKS, BLOCKS_NAME, BLOCK_SLOTS, BLOCK_SLOTS_NAME};
use crate::{Store, StoreError};

pub const CHUNK_VERSION: u8 = 1;
/// Default and largest budget of one chunk: 4 MiB, framing included. A chunk
/// always holds at least one block, so a single block of up to
/// `BLOCK_BYTES_MAX` may exceed a smaller budget.
pub const CHUNK_BYTES_MAX: usize = 4 << 20;
const HEADER_BYTES: usize = 1 + 8 + 4;
const ENTRY_OVERHEAD_BYTES: usize = 8 + 4;
const TRAILER_BYTES: usize = 4;

/// The largest encoded chunk a `bytes_max` budget can produce: what a
/// receiver accepts, and no more.
pub fn encoded_bytes_max(bytes_max: usize) -> usize {
    HEADER_BYTES + TRAILER_BYTES + bytes_max.max(ENTRY_OVERHEAD_BYTES + BLOCK_BYTES_MAX)
}

/// A decoded chunk: blocks `first_height ..` as stored bytes, each with its slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub first_height: u64,
    pub blocks: Vec<(u64, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkDecodeError {
    #[error("chunk of {got} bytes exceeds the {max}-byte limit")]
    TooLarge { got: usize, max: usize },
    #[error("chunk is truncated")]
    Truncated,
    #[error("chunk version {got} is not {CHUNK_VERSION}")]
    Version { got: u8 },
    #[error("chunk checksum mismatch: damaged in transit or by its sender")]
    Checksum,
    #[error("chunk holds no block")]
    Empty,
    #[error("block {index} of the chunk is {got} bytes, over the block limit")]
    BlockTooLarge { index: usize, got: usize },
    #[error("{extra} bytes after the last block")]
    TrailingBytes { extra: usize },
}

/// Why a member cannot serve a chunk.
#[derive(Debug, thiserror::Error)]
pub enum ChunkReadError {
    #[error("block {from_height} is not stored here (head {head})")]
    NotStored { from_height: u64, head: u64 },
    #[error("block {height} has no recorded slot (written before slots were recorded, or by a single node)")]
    NoSlot { height: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Chunk {
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self.blocks.iter().map(|(_, b)| ENTRY_OVERHEAD_BYTES + b.len()).sum();
        let mut out = Vec::with_capacity(HEADER_BYTES + size + TRAILER_BYTES);
        out.push(CHUNK_VERSION);
        out.extend_from_slice(&self.first_height.to_be_bytes());
        out.extend_from_slice(&(self.blocks.len() as u32).to_be_bytes());
        for (slot, block) in &self.blocks {
            out.extend_from_slice(&slot.to_be_bytes());
            out.extend_from_slice(&(block.len() as u32).to_be_bytes());
            out.extend_from_slice(block);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Decodes a chunk of at most `encoded_bytes_max(bytes_max)` bytes.
    pub fn decode(bytes: &[u8], bytes_max: usize) -> Result<Chunk, ChunkDecodeError> {
        let max = encoded_bytes_max(bytes_max);
        if bytes.len() > max {
            return Err(ChunkDecodeError::TooLarge { got: bytes.len(), max });
        }
        if bytes.len() < HEADER_BYTES + TRAILER_BYTES {
            return Err(ChunkDecodeError::Truncated);
        }
        // The checksum first: nothing of a damaged chunk is interpreted.
        let (body, crc) = bytes.split_at(bytes.len() - TRAILER_BYTES);
        if crc32fast::hash(body) != u32::from_be_bytes(crc.try_into().expect("4 bytes")) {
            return Err(ChunkDecodeError::Checksum);
        }
        if body[0] != CHUNK_VERSION {
            return Err(ChunkDecodeError::Version { got: body[0] });
        }
        let first_height = u64::from_be_bytes(body[1..9].try_into().expect("8 bytes"));
        let count = u32::from_be_bytes(body[9..13].try_into().expect("4 bytes")) as usize;
        if count == 0 {
            return Err(ChunkDecodeError::Empty);
        }
        let mut rest = &body[HEADER_BYTES..];
        // Bounded by the input: every entry takes at least its overhead.
        let mut blocks = Vec::with_capacity(count.min(rest.len() / ENTRY_OVERHEAD_BYTES));
        for index in 0..count {
            if rest.len() < ENTRY_OVERHEAD_BYTES {
                return Err(ChunkDecodeError::Truncated);
            }
            let slot = u64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
            let len = u32::from_be_bytes(rest[8..12].try_into().expect("4 bytes")) as usize;
            if len > BLOCK_BYTES_MAX {
                return Err(ChunkDecodeError::BlockTooLarge { index, got: len });
            }
            rest = &rest[ENTRY_OVERHEAD_BYTES..];
            if rest.len() < len {
                return Err(ChunkDecodeError::Truncated);
            }
            blocks.push((slot, rest[..len].to_vec()));
            rest = &rest[len..];
        }
        if !rest.is_empty() {
            return Err(ChunkDecodeError::TrailingBytes { extra: rest.len() });
        }
        Ok(Chunk { first_height, blocks })
    }
}

impl Store {
    /// Blocks `from_height ..= min(to_height, head)` with their slots, as
    /// many as fit `bytes_max` encoded bytes (at least one), checksums of
    /// every stored value verified.
    pub fn read_chunk(&self, from_height: u64, to_height: u64, bytes_max: usize) -> Result<Chunk, ChunkReadError> {
        let txn = self.db.begin_read().map_err(StoreError::from)?;
        let blocks = txn.open_table(BLOCKS).map_err(StoreError::from)?;
        let head = blocks
            .last()
            .map_err(StoreError::from)?
            .map(|(k, _)| k.value())
            .ok_or_else(|| StoreError::Inconsistent("no blocks stored".into()))?;
        if from_height == 0 || from_height > head.min(to_height) {
            return Err(ChunkReadError::NotStored { from_height, head });
        }
        let slots = match txn.open_table(BLOCK_SLOTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Err(ChunkReadError::NoSlot { height: from_height }),
            Err(e) => return Err(StoreError::from(e).into()),
        };
        let mut chunk = Chunk { first_height: from_height, blocks: Vec::new() };
        let mut size = HEADER_BYTES + TRAILER_BYTES;
        for height in from_height..=head.min(to_height) {
            let key = height.to_be_bytes();
            let value = blocks
                .get(height)
                .map_err(StoreError::from)?
                .ok_or_else(|| StoreError::Inconsistent(format!("block {height} missing below the head")))?;
            let block = self.unseal(BLOCKS_NAME, &key, value.value())?;
            if !chunk.blocks.is_empty() && size + ENTRY_OVERHEAD_BYTES + block.len() > bytes_max {
                break;
            }
            let slot_value = slots.get(height).map_err(StoreError::from)?.ok_or(ChunkReadError::NoSlot { height })?;
            let slot = self.unseal(BLOCK_SLOTS_NAME, &key, slot_value.value())?;
            let slot = u64::from_be_bytes(slot.try_into().map_err(|_| StoreError::Undecodable {
                table: BLOCK_SLOTS_NAME,
                key: height.to_string(),
                detail: "not 8 bytes".into(),
            })?);
            size += ENTRY_OVERHEAD_BYTES + block.len();
            chunk.blocks.push((slot, block.to_vec()));
        }
        assert!(!chunk.blocks.is_empty(), "a chunk holds at least one block");
        assert!(size <= encoded_bytes_max(bytes_max), "a chunk fits the receiver's limit");
        Ok(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Chunk {
        Chunk { first_height: 5, blocks: vec![(9, vec![1; 200]), (12, vec![2; 150])] }
    }

    #[test]
    fn chunks_round_trip() {
        let bytes = sample().encode();
        assert_eq!(Chunk::decode(&bytes, 1 << 20), Ok(sample()));
    }

    #[test]
    fn every_single_bit_flip_is_refused() {
        let bytes = sample().encode();
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(Chunk::decode(&bad, 1 << 20).is_err(), "bit {bit} flip accepted");
        }
    }

    #[test]
    fn malformed_chunks_are_typed_errors() {
        let bytes = sample().encode();
        assert_eq!(Chunk::decode(&bytes[..10], 1 << 20), Err(ChunkDecodeError::Truncated));
        let reframe = |body: Vec<u8>| {
            let mut out = body.clone();
            out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
            out
        };
        let body = bytes[..bytes.len() - 4].to_vec();
        let mut extra = body.clone();
        extra.push(0);
        assert_eq!(Chunk::decode(&reframe(extra), 1 << 20), Err(ChunkDecodeError::TrailingBytes { extra: 1 }));
        let mut empty = body[..HEADER_BYTES].to_vec();
        empty[9..13].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(Chunk::decode(&reframe(empty), 1 << 20), Err(ChunkDecodeError::Empty));
        let mut v2 = body.clone();
        v2[0] = 2;
        assert_eq!(Chunk::decode(&reframe(v2), 1 << 20), Err(ChunkDecodeError::Version { got: 2 }));
        let huge = vec![0u8; encoded_bytes_max(1) + 1];
        assert!(matches!(Chunk::decode(&huge, 1), Err(ChunkDecodeError::TooLarge { .. })));
    }
}
