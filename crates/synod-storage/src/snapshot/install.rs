//! Installing a snapshot chunk by chunk: verify, apply, make durable.
//!
//! The order of persistence, per chunk: every block is checked and applied
//! to the in-memory ledger first; then ONE fsynced transaction writes the
//! verified blocks, their leaves, index entries, slots and changed accounts,
//! and the applied slot. That slot is the slot of the last block written,
//! or the descriptor's `last_slot` once the chunk reaches the descriptor's
//! height (its head hash checked). Both are exact snapshot points: a block's
//! slot is the last slot whose effect it holds, since the slots after it up
//! to the next block made no block anywhere. So after any crash the store
//! is a prefix of the sender's ledger with the right slot, and the node
//! simply resumes from there. The descriptor's applied configuration is
//! written with the first chunk whose slot reaches the configuration's slot,
//! replacing a recorded one with the same members from an earlier slot (the
//! skipped slots may hold a change and its undoing: `ConfigSource::Snapshot`).

use synod_core::block::BlockHash;
use synod_core::ledger::SignaturePolicy;
use synod_core::{Account, AccountId, Block, BlockError, Ledger};

use super::chunk::{Chunk, ChunkDecodeError};
use super::descriptor::SnapshotDescriptor;
use crate::store::BlockWrite;
use crate::{Store, StoreError};

/// A block that passed every check and was applied to the ledger in memory,
/// with the accounts it changed and its slot: ready to be written.
type VerifiedBlock = (Block, Vec<(AccountId, Account)>, u64);

/// Where the store stands after a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstallProgress {
    /// The durable head height and applied slot.
    pub height: u64,
    pub applied_slot: u64,
    /// Blocks this chunk added.
    pub blocks: usize,
    /// The store now holds the descriptor's state.
    pub done: bool,
}

/// Why a chunk (or the end of an install) was refused. Blocks of the chunk
/// before the offending one were verified and are durable; nothing after.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Decode(#[from] ChunkDecodeError),
    #[error("chunk starts at block {got}, the next block here is {expected}")]
    WrongStart { expected: u64, got: u64 },
    #[error("block {height} is past the snapshot's height {target}")]
    BeyondTarget { height: u64, target: u64 },
    #[error("block {height} does not decode: {detail}")]
    Undecodable { height: u64, detail: String },
    #[error("chunk entry for height {height} holds block {got}")]
    HeightMismatch { height: u64, got: u64 },
    #[error("block {height} does not link to the previous block's hash")]
    PrevHashMismatch { height: u64 },
    #[error("block {height} comes from slot {slot}, not after slot {after}")]
    SlotOutOfOrder { height: u64, slot: u64, after: u64 },
    #[error("block {height} comes from slot {slot}, past the snapshot's slot {last_slot}")]
    SlotBeyondTarget { height: u64, slot: u64, last_slot: u64 },
    #[error("refused by the ledger: {0}")]
    Rejected(BlockError),
    #[error("block {height} hashes to {got}, the snapshot's head is {expected}")]
    HeadMismatch { height: u64, expected: BlockHash, got: BlockHash },
    #[error("this ledger (height {ours}) is past the snapshot's height {target}")]
    LedgerAhead { ours: u64, target: u64 },
    /// The in-memory ledger may now be ahead of the disk: the caller must stop.
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

impl Store {
    /// Verifies `chunk_bytes` against `ledger` (which must mirror this
    /// store's durable state) and `target`, applies its blocks and makes
    /// them durable in one transaction with the slot they bring the ledger
    /// to. See the module docs for the order of persistence.
    pub fn install_chunk(
        &self,
        ledger: &mut Ledger,
        target: &SnapshotDescriptor,
        chunk_bytes: &[u8],
        bytes_max: usize,
    ) -> Result<InstallProgress, InstallError> {
        let chunk = Chunk::decode(chunk_bytes, bytes_max)?;
        let applied = self.applied_slot()?;
        let head = ledger.head().height;
        // Pair assertion: the ledger in memory is the one on disk.
        assert_eq!(self.head_height()?, head, "the in-memory ledger mirrors the durable one");
        if head >= target.height {
            return Err(InstallError::LedgerAhead { ours: head, target: target.height });
        }
        if chunk.first_height != head + 1 {
            return Err(InstallError::WrongStart { expected: head + 1, got: chunk.first_height });
        }
        let mut verified: Vec<VerifiedBlock> = Vec::with_capacity(chunk.blocks.len());
        let mut refused = None;
        let mut last_slot = applied;
        for (i, (slot, bytes)) in chunk.blocks.iter().enumerate() {
            let height = chunk.first_height + i as u64;
            match verify_one(ledger, target, height, *slot, last_slot, bytes) {
                Ok((block, touched)) => {
                    last_slot = *slot;
                    verified.push((block, touched, *slot));
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let height = ledger.head().height;
        let done = height == target.height;
        let applied_slot = if done { target.last_slot } else { last_slot };
        if !verified.is_empty() {
            let writes: Vec<BlockWrite<'_>> = verified
                .iter()
                .map(|(block, touched, slot)| BlockWrite { block, touched, slot: Some(*slot) })
                .collect();
            let config = target.config.as_ref().filter(|c| c.slot <= applied_slot);
            self.append_installed(&writes, applied_slot, config)?;
        }
        if let Some(e) = refused {
            return Err(e);
        }
        Ok(InstallProgress { height, applied_slot, blocks: verified.len(), done })
    }

    /// Completes an install whose blocks are all here (or were never
    /// needed: slots that made no block): checks the head hash, then records
    /// the descriptor's slot as applied.
    pub fn finish_install(&self, ledger: &Ledger, target: &SnapshotDescriptor) -> Result<u64, InstallError> {
        let applied = self.applied_slot()?;
        let head = ledger.head().height;
        assert_eq!(self.head_height()?, head, "the in-memory ledger mirrors the durable one");
        if head > target.height {
            return Err(InstallError::LedgerAhead { ours: head, target: target.height });
        }
        assert_eq!(head, target.height, "finish_install once every block is here");
        if ledger.head_hash() != target.head_hash {
            return Err(InstallError::HeadMismatch {
                height: head,
                expected: target.head_hash,
                got: ledger.head_hash(),
            });
        }
        if target.last_slot > applied {
            self.append_installed(&[], target.last_slot, target.config.as_ref())?;
        }
        Ok(applied.max(target.last_slot))
    }
}

/// Checks one block of a chunk and applies it to `ledger` (nothing changes
/// on error).
fn verify_one(
    ledger: &mut Ledger,
    target: &SnapshotDescriptor,
    height: u64,
    slot: u64,
    after_slot: u64,
    bytes: &[u8],
) -> Result<(Block, Vec<(AccountId, Account)>), InstallError> {
    if height > target.height {
        return Err(InstallError::BeyondTarget { height, target: target.height });
    }
    let block = Block::decode(bytes).map_err(|e| InstallError::Undecodable { height, detail: e.to_string() })?;
    if block.header.height != height {
        return Err(InstallError::HeightMismatch { height, got: block.header.height });
    }
    if block.header.prev_hash != ledger.head_hash().0 {
        return Err(InstallError::PrevHashMismatch { height });
    }
    if slot <= after_slot {
        return Err(InstallError::SlotOutOfOrder { height, slot, after: after_slot });
    }
    if slot > target.last_slot {
        return Err(InstallError::SlotBeyondTarget { height, slot, last_slot: target.last_slot });
    }
    if height == target.height && block.hash() != target.head_hash {
        return Err(InstallError::HeadMismatch { height, expected: target.head_hash, got: block.hash() });
    }
    // Recomputed, not trusted: every rule, every signature, the roots.
    let touched = ledger.apply_block(&block, SignaturePolicy::Verify).map_err(InstallError::Rejected)?;
    assert_eq!(ledger.head().height, height);
    Ok((block, touched))
}
