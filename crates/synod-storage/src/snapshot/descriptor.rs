//! What a Paxos snapshot message carries: a pointer to a durable ledger state,
//! not the state itself.

use redb::ReadableTable;
use synod_core::block::{BlockHash, BlockHeader, HEADER_BYTES};

use crate::applied_config::{self, AppliedConfig};
use crate::tables::{BLOCKS, BLOCKS_NAME, META, META_NAME};
use crate::{Store, StoreError};

/// Encoding version written (the first byte). Version 1 (no configuration)
/// is still read.
pub const DESCRIPTOR_VERSION: u8 = 2;
/// Version 1: `version u8 ‖ last_slot u64 ‖ height u64 ‖ head_hash [32] ‖ source u8`, big-endian.
pub const DESCRIPTOR_BYTES: usize = 1 + 8 + 8 + 32 + 1;
/// Version 2 appends `config_slot u64 ‖ count u8 ‖ members [count]`; a
/// `config_slot` of 0 (with count 0) means no configuration applied yet.
pub const DESCRIPTOR_V2_BYTES_MIN: usize = DESCRIPTOR_BYTES + 8 + 1;

/// The sender's ledger as of `last_slot`: every slot up to it is applied,
/// and its head is block `height` with hash `head_hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDescriptor {
    pub last_slot: u64,
    pub height: u64,
    pub head_hash: BlockHash,
    /// The member that holds this state: the first one to fetch chunks from.
    pub source: u8,
    /// The configuration the sender's ledger applied at or below `last_slot`.
    pub config: Option<AppliedConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    #[error("snapshot descriptor is {got} bytes, which no version {version} descriptor is")]
    Length { version: u8, got: usize },
    #[error("snapshot descriptor version {got} is neither 1 nor {DESCRIPTOR_VERSION}")]
    Version { got: u8 },
    #[error("snapshot descriptor's configuration slot {config_slot} is past its last slot {last_slot}")]
    ConfigSlot { config_slot: u64, last_slot: u64 },
}

impl SnapshotDescriptor {
    pub fn encode(&self) -> Vec<u8> {
        let members = self.config.as_ref().map_or(&[][..], |c| c.members.as_slice());
        let mut out = Vec::with_capacity(DESCRIPTOR_V2_BYTES_MIN + members.len());
        out.push(DESCRIPTOR_VERSION);
        out.extend_from_slice(&self.last_slot.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.head_hash.0);
        out.push(self.source);
        assert_eq!(out.len(), DESCRIPTOR_BYTES);
        match &self.config {
            Some(config) => out.extend_from_slice(&config.encode()),
            None => out.extend_from_slice(&[0; 9]),
        }
        assert_eq!(out.len(), DESCRIPTOR_V2_BYTES_MIN + members.len());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SnapshotDescriptor, DescriptorError> {
        let version = *bytes.first().ok_or(DescriptorError::Length { version: 0, got: 0 })?;
        let length_error = DescriptorError::Length { version, got: bytes.len() };
        match version {
            1 if bytes.len() != DESCRIPTOR_BYTES => return Err(length_error),
            DESCRIPTOR_VERSION if bytes.len() < DESCRIPTOR_V2_BYTES_MIN => return Err(length_error),
            1 | DESCRIPTOR_VERSION => {}
            got => return Err(DescriptorError::Version { got }),
        }
        let u64_at = |i: usize| u64::from_be_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let last_slot = u64_at(1);
        let config = if version == 1 {
            None
        } else {
            let tail = &bytes[DESCRIPTOR_BYTES..];
            if tail[..9] == [0; 9] {
                if tail.len() != 9 {
                    return Err(length_error);
                }
                None
            } else {
                let config = AppliedConfig::decode(tail).ok_or(length_error)?;
                if config.slot > last_slot {
                    return Err(DescriptorError::ConfigSlot { config_slot: config.slot, last_slot });
                }
                Some(config)
            }
        };
        Ok(SnapshotDescriptor {
            last_slot,
            height: u64_at(9),
            head_hash: BlockHash(bytes[17..49].try_into().expect("32 bytes")),
            source: bytes[49],
            config,
        })
    }
}

impl Store {
    /// This store's snapshot point, read in one transaction so that the slot,
    /// the configuration and the head belong together. `source` names this
    /// member.
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
        let config = applied_config::read(self, &meta)?;
        if let Some(config) = &config {
            // Pair assertion with `record_applied_config`.
            assert!(config.slot <= last_slot, "the applied configuration is at or below the applied slot");
        }
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
        Ok(SnapshotDescriptor { last_slot, height, head_hash: header.hash(), source, config })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip_and_malformed_ones_are_typed_errors() {
        let mut d =
            SnapshotDescriptor { last_slot: 7, height: 3, head_hash: BlockHash([9; 32]), source: 2, config: None };
        let bytes = d.encode();
        assert_eq!(bytes.len(), DESCRIPTOR_V2_BYTES_MIN);
        assert_eq!(SnapshotDescriptor::decode(&bytes), Ok(d.clone()));
        assert_eq!(SnapshotDescriptor::decode(&bytes[..58]), Err(DescriptorError::Length { version: 2, got: 58 }));
        let mut v3 = bytes.clone();
        v3[0] = 3;
        assert_eq!(SnapshotDescriptor::decode(&v3), Err(DescriptorError::Version { got: 3 }));

        d.config = Some(AppliedConfig { slot: 1, members: vec![1, 2, 3] });
        let bytes = d.encode();
        assert_eq!(bytes.len(), DESCRIPTOR_V2_BYTES_MIN + 3);
        assert_eq!(SnapshotDescriptor::decode(&bytes), Ok(d.clone()));
        assert!(SnapshotDescriptor::decode(&bytes[..bytes.len() - 1]).is_err(), "a member short");

        d.config = Some(AppliedConfig { slot: 8, members: vec![1, 2, 3] });
        assert_eq!(
            SnapshotDescriptor::decode(&d.encode()),
            Err(DescriptorError::ConfigSlot { config_slot: 8, last_slot: 7 })
        );
    }

    #[test]
    fn version_1_descriptors_still_decode_without_a_configuration() {
        let d = SnapshotDescriptor { last_slot: 7, height: 3, head_hash: BlockHash([9; 32]), source: 2, config: None };
        let mut v1 = d.encode()[..DESCRIPTOR_BYTES].to_vec();
        v1[0] = 1;
        assert_eq!(SnapshotDescriptor::decode(&v1), Ok(d));
        assert_eq!(SnapshotDescriptor::decode(&v1[..48]), Err(DescriptorError::Length { version: 1, got: 48 }));
    }
}
