//! What a Paxos snapshot message carries: a pointer to a durable ledger state,
//! not the state itself.

use redb::ReadableTable;
use synod_core::block::{BlockHash, BlockHeader, HEADER_BYTES};

use crate::tables::{BLOCKS, BLOCKS_NAME, META, META_NAME};
use crate::{Store, StoreError};

/// Encoding version (the first byte).
pub const DESCRIPTOR_VERSION: u8 = 1;
/// `version u8 ‖ last_slot u64 ‖ height u64 ‖ head_hash [32] ‖ source u8`, big-endian.
pub const DESCRIPTOR_BYTES: usize = 1 + 8 + 8 + 32 + 1;

/// The sender's ledger as of `last_slot`: every slot up to it is applied,
/// and its head is block `height` with hash `head_hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotDescriptor {
    pub last_slot: u64,
    pub height: u64,
    pub head_hash: BlockHash,
    /// The member that holds this state: the first one to fetch chunks from.
    pub source: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    #[error("snapshot descriptor is {got} bytes, expected {DESCRIPTOR_BYTES}")]
    Length { got: usize },
    #[error("snapshot descriptor version {got} is not {DESCRIPTOR_VERSION}")]
    Version { got: u8 },
}

impl SnapshotDescriptor {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(DESCRIPTOR_BYTES);
        out.push(DESCRIPTOR_VERSION);
        out.extend_from_slice(&self.last_slot.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.head_hash.0);
        out.push(self.source);
        assert_eq!(out.len(), DESCRIPTOR_BYTES);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SnapshotDescriptor, DescriptorError> {
        if bytes.len() != DESCRIPTOR_BYTES {
            return Err(DescriptorError::Length { got: bytes.len() });
        }
        if bytes[0] != DESCRIPTOR_VERSION {
            return Err(DescriptorError::Version { got: bytes[0] });
        }
        let u64_at = |i: usize| u64::from_be_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        Ok(SnapshotDescriptor {
            last_slot: u64_at(1),
            height: u64_at(9),
            head_hash: BlockHash(bytes[17..49].try_into().expect("32 bytes")),
            source: bytes[49],
        })
    }
}

impl Store {
    /// This store's snapshot point, read in one transaction so that the slot
    /// and the head belong together. `source` names this member.
    pub fn snapshot_descriptor(&self, source: u8) -> Result<SnapshotDescriptor, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let last_slot = match meta.get("applied_slot")? {
            Some(v) => {
                let payload = self.unseal(META_NAME, b"applied_slot", v.value())?;
                u64::from_be_bytes(payload.try_into().map_err(|_| StoreError::Undecodable {
                    table: META_NAME,
                    key: "applied_slot".into(),
                    detail: "not 8 bytes".into(),
                })?)
            }
            None => 0,
        };
        let blocks = txn.open_table(BLOCKS)?;
        let (key, value) = blocks.last()?.ok_or_else(|| StoreError::Inconsistent("no blocks stored".into()))?;
        let height = key.value();
        let bytes = self.unseal(BLOCKS_NAME, &height.to_be_bytes(), value.value())?;
        let header_bytes = bytes.get(..HEADER_BYTES).unwrap_or(bytes);
        let header = BlockHeader::decode(header_bytes).map_err(|e| StoreError::Undecodable {
            table: BLOCKS_NAME,
            key: height.to_string(),
            detail: e.to_string(),
        })?;
        Ok(SnapshotDescriptor { last_slot, height, head_hash: header.hash(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip_and_malformed_ones_are_typed_errors() {
        let d = SnapshotDescriptor { last_slot: 7, height: 3, head_hash: BlockHash([9; 32]), source: 2 };
        let bytes = d.encode();
        assert_eq!(SnapshotDescriptor::decode(&bytes), Ok(d));
        assert_eq!(SnapshotDescriptor::decode(&bytes[1..]), Err(DescriptorError::Length { got: 49 }));
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(SnapshotDescriptor::decode(&v2), Err(DescriptorError::Version { got: 2 }));
    }
}
