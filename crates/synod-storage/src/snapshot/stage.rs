//! The install stage: snapshot blocks received but not yet proven.
//!
//! A block's slot and bytes come from a peer, and the only thing the
//! receiver trusts is the descriptor's head hash. A block below the head is
//! proven only by the chain of `prev_hash` links from the head down to it,
//! so chunk blocks are kept here, durable and unapplied, until the staged
//! chain reaches the descriptor's height with its head hash
//! (`install.rs`). Then every staged block is proven and all of them are
//! applied in one transaction, which also clears the stage.
//!
//! Layout: table `install_stage`, height (u64) -> `slot u64 ‖ block bytes`,
//! each value sealed as every stored value is; META key `install_stage` ->
//! the [`StageHead`] (`base_height u64 ‖ base_hash [32] ‖ base_slot u64 ‖
//! top_height u64 ‖ top_hash [32] ‖ top_slot u64`, big-endian). The stage
//! holds exactly the blocks `base_height + 1 ..= top_height`, linked, each
//! slot above the one before and the first above `base_slot`.

use redb::{ReadableTable, TableDefinition};
use synod_core::block::BlockHash;

use crate::checksum::{seal, unseal};
use crate::tables::{META, META_NAME};
use crate::{Store, StoreError};

pub(crate) const STAGE: TableDefinition<u64, &[u8]> = TableDefinition::new("install_stage");
pub(crate) const STAGE_NAME: &str = "install_stage";
const STAGE_KEY: &str = "install_stage";
const STAGE_HEAD_BYTES: usize = 8 + 32 + 8 + 8 + 32 + 8;

/// Where the stage starts (the ledger it extends) and where it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageHead {
    /// The durable ledger the stage extends: head height, head hash and
    /// applied slot when the stage began. A stage whose base is not the
    /// ledger's current state is stale (the ledger moved on without it).
    pub base_height: u64,
    pub base_hash: BlockHash,
    pub base_slot: u64,
    /// The last staged block, its hash and its slot.
    pub top_height: u64,
    pub top_hash: BlockHash,
    pub top_slot: u64,
}

impl StageHead {
    fn encode(&self) -> [u8; STAGE_HEAD_BYTES] {
        let mut out = [0u8; STAGE_HEAD_BYTES];
        out[..8].copy_from_slice(&self.base_height.to_be_bytes());
        out[8..40].copy_from_slice(&self.base_hash.0);
        out[40..48].copy_from_slice(&self.base_slot.to_be_bytes());
        out[48..56].copy_from_slice(&self.top_height.to_be_bytes());
        out[56..88].copy_from_slice(&self.top_hash.0);
        out[88..96].copy_from_slice(&self.top_slot.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<StageHead> {
        if bytes.len() != STAGE_HEAD_BYTES {
            return None;
        }
        let u64_at = |i: usize| u64::from_be_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let head = StageHead {
            base_height: u64_at(0),
            base_hash: BlockHash(bytes[8..40].try_into().expect("32 bytes")),
            base_slot: u64_at(40),
            top_height: u64_at(48),
            top_hash: BlockHash(bytes[56..88].try_into().expect("32 bytes")),
            top_slot: u64_at(88),
        };
        (head.top_height > head.base_height && head.top_slot > head.base_slot).then_some(head)
    }
}

impl Store {
    /// The stage's extent, if blocks are staged.
    pub fn install_stage(&self) -> Result<Option<StageHead>, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(value) = meta.get(STAGE_KEY)? else { return Ok(None) };
        let payload = self.unseal(META_NAME, STAGE_KEY.as_bytes(), value.value())?;
        StageHead::decode(payload).map(Some).ok_or_else(|| StoreError::Undecodable {
            table: META_NAME,
            key: STAGE_KEY.into(),
            detail: "not a stage head".into(),
        })
    }

    /// Staged block `height`: its slot and bytes.
    pub(crate) fn staged_block(&self, txn: &redb::WriteTransaction, height: u64) -> Result<(u64, Vec<u8>), StoreError> {
        let table = txn.open_table(STAGE)?;
        let value = table
            .get(height)?
            .ok_or_else(|| StoreError::Inconsistent(format!("staged block {height} missing below the stage top")))?;
        let payload = unseal(STAGE_NAME, &height.to_be_bytes(), value.value())?;
        if payload.len() < 8 {
            return Err(StoreError::Undecodable {
                table: STAGE_NAME,
                key: height.to_string(),
                detail: "shorter than its slot".into(),
            });
        }
        let slot = u64::from_be_bytes(payload[..8].try_into().expect("8 bytes"));
        Ok((slot, payload[8..].to_vec()))
    }

    /// Adds blocks (in height order, continuing `head`'s stage or starting
    /// it) and records the new extent, in `txn`.
    pub(crate) fn stage_blocks(
        txn: &redb::WriteTransaction,
        blocks: &[(u64, &[u8])],
        first_height: u64,
        head: &StageHead,
    ) -> Result<(), StoreError> {
        let mut table = txn.open_table(STAGE)?;
        for (i, (slot, bytes)) in blocks.iter().enumerate() {
            let height = first_height + i as u64;
            let mut payload = Vec::with_capacity(8 + bytes.len());
            payload.extend_from_slice(&slot.to_be_bytes());
            payload.extend_from_slice(bytes);
            table.insert(height, seal(STAGE_NAME, &height.to_be_bytes(), &payload).as_slice())?;
        }
        let mut meta = txn.open_table(META)?;
        meta.insert(STAGE_KEY, seal(META_NAME, STAGE_KEY.as_bytes(), &head.encode()).as_slice())?;
        Ok(())
    }

    /// Forgets every staged block, in `txn`.
    pub(crate) fn clear_stage_in(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
        txn.delete_table(STAGE)?;
        txn.open_table(META)?.remove(STAGE_KEY)?;
        Ok(())
    }

    /// Forgets every staged block, in its own fsynced transaction.
    pub(crate) fn clear_stage(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        Self::clear_stage_in(&txn)?;
        self.commit_durable(txn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_heads_round_trip_and_empty_ones_are_refused() {
        let head = StageHead {
            base_height: 3,
            base_hash: BlockHash([1; 32]),
            base_slot: 5,
            top_height: 9,
            top_hash: BlockHash([2; 32]),
            top_slot: 14,
        };
        assert_eq!(StageHead::decode(&head.encode()), Some(head));
        assert_eq!(StageHead::decode(&head.encode()[..95]), None);
        let empty = StageHead { top_height: 3, ..head };
        assert_eq!(StageHead::decode(&empty.encode()), None);
    }
}
