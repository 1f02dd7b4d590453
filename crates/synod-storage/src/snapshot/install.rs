//! Installing a snapshot chunk by chunk: stage, prove, then apply.
//!
//! The only thing a receiver trusts is the descriptor's head hash (it came
//! through consensus); chunks come from any member and may be forged. A
//! block below the descriptor's height that links to the previous one and
//! applies is not therefore the sender's block: only the chain of
//! `prev_hash` links from the head hash down to it proves that. So no chunk
//! block is applied when it arrives. Each chunk's blocks are checked as far
//! as they can be alone (height, link to the block before, slot order and
//! bounds) and written to the install stage (`stage.rs`) in one fsynced
//! transaction, unapplied. When the staged chain reaches the descriptor's
//! height and that block hashes to the descriptor's head hash, every staged
//! block is proven (each one's hash is fixed by its successor's `prev_hash`,
//! up to the head hash), and ONE fsynced transaction applies them all
//! (`Ledger::apply_block` with every signature verified), writes them with
//! their slots, records the descriptor's `last_slot` (and configuration) as
//! applied, and clears the stage.
//!
//! A chain that ends in another hash, or a chunk that does not link to the
//! staged top, cannot tell which side was forged: the stage is discarded and
//! the install starts again from the ledger's head. A crash at any point
//! leaves the ledger as it was before the install (or the whole snapshot,
//! installed) and a stage that the next install continues when it still
//! extends the ledger, or discards. A block's slot is not covered by its
//! hash: a chunk could carry the right blocks with wrong slots (increasing,
//! within the snapshot). The applied slot never comes from a chunk (it is the
//! descriptor's), so a forged slot can only misrecord `block_slots`, which
//! nothing uses for the ledger's state (PROTOCOL.md 7.6).
//!
//! The descriptor's configuration replaces a recorded one with the same
//! members from an earlier slot (the skipped slots may hold a change and its
//! undoing: `ConfigSource::Snapshot`).

use synod_core::block::BlockHash;
use synod_core::ledger::SignaturePolicy;
use synod_core::{Block, BlockError, Ledger};

use super::chunk::{Chunk, ChunkDecodeError};
use super::descriptor::SnapshotDescriptor;
use super::stage::StageHead;
use crate::applied_config::ConfigSource;
use crate::{Store, StoreError};

/// Where the store stands after a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstallProgress {
    /// The durable head height and applied slot.
    pub height: u64,
    pub applied_slot: u64,
    /// Blocks this chunk applied: 0 while the chain is being staged, every
    /// staged block once the chunk completes it.
    pub blocks: usize,
    /// The last staged block (`height` when nothing is staged): the next
    /// chunk starts above it.
    pub staged_height: u64,
    /// The store now holds the descriptor's state.
    pub done: bool,
}

/// Why a chunk (or the end of an install) was refused. Nothing is applied
/// on a refusal. Blocks of the chunk before the offending one passed the
/// checks a block can pass alone and are staged, except after a
/// `HeadMismatch`, or a `PrevHashMismatch` at the first block of a chunk
/// continuing a stage: then the stage and the chunk disagree, nobody can
/// tell which was forged, and the stage is discarded (the install starts
/// again from the ledger's head). A proven chain the ledger refuses
/// (`Rejected`) discards the stage too.
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
    /// The height the next chunk of an install of `target` must start at:
    /// above the stage if it extends `ledger` (the durable state), else
    /// above the ledger's head.
    pub fn install_next_height(&self, ledger: &Ledger, target: &SnapshotDescriptor) -> Result<u64, StoreError> {
        let applied = self.applied_slot()?;
        let stage = usable_stage(self.install_stage()?, ledger, applied, target);
        Ok(stage.map_or(ledger.head().height, |s| s.top_height) + 1)
    }

    /// Checks `chunk_bytes` against `target` and stages its blocks; once the
    /// staged chain reaches `target`'s head hash, applies all of it to
    /// `ledger` (which must mirror this store's durable state) and makes it
    /// durable with `target`'s slot. See the module docs.
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
        let stored = self.install_stage()?;
        let stage = usable_stage(stored, ledger, applied, target);
        let (mut prev_hash, mut prev_slot, start) = match stage {
            Some(s) => (s.top_hash, s.top_slot, s.top_height + 1),
            None => (ledger.head_hash(), applied, head + 1),
        };
        if chunk.first_height != start {
            return Err(InstallError::WrongStart { expected: start, got: chunk.first_height });
        }
        let mut checked: Vec<(u64, &[u8])> = Vec::with_capacity(chunk.blocks.len());
        let mut refused = None;
        for (i, (slot, bytes)) in chunk.blocks.iter().enumerate() {
            let height = start + i as u64;
            match check_one(target, height, *slot, prev_slot, prev_hash, bytes) {
                Ok(hash) => {
                    prev_hash = hash;
                    prev_slot = *slot;
                    checked.push((*slot, bytes));
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let conflict = match &refused {
            Some(InstallError::HeadMismatch { .. }) => true,
            Some(InstallError::PrevHashMismatch { height }) => *height == start && stage.is_some(),
            _ => false,
        };
        if conflict {
            self.clear_stage()?;
            return Err(refused.expect("a conflict is a refusal"));
        }
        let top = start - 1 + checked.len() as u64;
        if top == target.height {
            // The chain from the ledger's head to the head hash is whole:
            // every staged block and every checked one is proven.
            let blocks = self.apply_proven(ledger, target, start, &checked)?;
            if let Some(e) = refused {
                return Err(e);
            }
            let height = ledger.head().height;
            return Ok(InstallProgress {
                height,
                applied_slot: target.last_slot,
                blocks,
                staged_height: height,
                done: true,
            });
        }
        if !checked.is_empty() {
            let txn = self.db.begin_write().map_err(StoreError::from)?;
            if stored.is_some() && stage.is_none() {
                // A stale stage (the ledger moved on, or another snapshot).
                Self::clear_stage_in(&txn)?;
            }
            let (base_height, base_hash, base_slot) = match stage {
                Some(s) => (s.base_height, s.base_hash, s.base_slot),
                None => (head, ledger.head_hash(), applied),
            };
            let extent = StageHead {
                base_height,
                base_hash,
                base_slot,
                top_height: top,
                top_hash: prev_hash,
                top_slot: prev_slot,
            };
            Self::stage_blocks(&txn, &checked, start, &extent)?;
            self.commit_durable(txn)?;
        }
        if let Some(e) = refused {
            return Err(e);
        }
        Ok(InstallProgress { height: head, applied_slot: applied, blocks: 0, staged_height: top, done: false })
    }

    /// Applies the staged blocks below `start`, then `checked` (blocks
    /// `start ..= target.height`), all proven by the head hash, in one
    /// fsynced transaction that also records `target`'s slot and
    /// configuration and clears the stage. On a refusal nothing is written,
    /// `ledger` is reloaded from disk and the stage discarded.
    fn apply_proven(
        &self,
        ledger: &mut Ledger,
        target: &SnapshotDescriptor,
        start: u64,
        checked: &[(u64, &[u8])],
    ) -> Result<usize, InstallError> {
        let txn = self.db.begin_write().map_err(StoreError::from)?;
        let first = ledger.head().height + 1;
        match self.apply_each(&txn, ledger, target, start, checked) {
            Ok(()) => {
                // Pair assertion with `check_one`'s head hash check.
                assert_eq!(ledger.head_hash(), target.head_hash, "a proven chain ends in the head hash");
                Self::record_applied_slot(&txn, target.last_slot)?;
                if let Some(config) = &target.config {
                    Self::record_applied_config(&txn, config, target.last_slot, ConfigSource::Snapshot)?;
                }
                Self::clear_stage_in(&txn)?;
                self.commit_durable(txn)?;
                Ok((target.height + 1 - first) as usize)
            }
            Err(e) => {
                drop(txn);
                // The ledger in memory applied part of the chain: back to
                // what the disk holds.
                *ledger = self
                    .load()
                    .map_err(|e| StoreError::Inconsistent(format!("reloading after a refused install: {e}")))?
                    .ledger;
                if !matches!(e, InstallError::Store(_)) {
                    self.clear_stage()?;
                }
                Err(e)
            }
        }
    }

    fn apply_each(
        &self,
        txn: &redb::WriteTransaction,
        ledger: &mut Ledger,
        target: &SnapshotDescriptor,
        start: u64,
        checked: &[(u64, &[u8])],
    ) -> Result<(), InstallError> {
        for height in ledger.head().height + 1..=target.height {
            let (slot, bytes) = match height.checked_sub(start) {
                Some(i) => {
                    let (slot, bytes) = checked[i as usize];
                    (slot, bytes.to_vec())
                }
                None => self.staged_block(txn, height)?,
            };
            let block =
                Block::decode(&bytes).map_err(|e| InstallError::Undecodable { height, detail: e.to_string() })?;
            // Checked when staged; checked again as it is read back.
            if block.header.height != height || block.header.prev_hash != ledger.head_hash().0 {
                return Err(InstallError::PrevHashMismatch { height });
            }
            // Recomputed, not trusted: every rule, every signature, the roots.
            let touched = ledger.apply_block(&block, SignaturePolicy::Verify).map_err(InstallError::Rejected)?;
            assert_eq!(ledger.head().height, height);
            Self::write_block(txn, &block, &touched, Some(slot))?;
        }
        Ok(())
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

/// `stored` if an install of `target` may continue it: it extends the
/// ledger's durable state (head and applied slot) and stays below the
/// target's height and slot.
fn usable_stage(
    stored: Option<StageHead>,
    ledger: &Ledger,
    applied: u64,
    target: &SnapshotDescriptor,
) -> Option<StageHead> {
    stored.filter(|s| {
        s.base_height == ledger.head().height
            && s.base_hash == ledger.head_hash()
            && s.base_slot == applied
            && s.top_height < target.height
            && s.top_slot <= target.last_slot
    })
}

/// The checks one block of a chunk can pass alone, before it is proven:
/// returns its hash.
fn check_one(
    target: &SnapshotDescriptor,
    height: u64,
    slot: u64,
    after_slot: u64,
    prev_hash: BlockHash,
    bytes: &[u8],
) -> Result<BlockHash, InstallError> {
    if height > target.height {
        return Err(InstallError::BeyondTarget { height, target: target.height });
    }
    let block = Block::decode(bytes).map_err(|e| InstallError::Undecodable { height, detail: e.to_string() })?;
    if block.header.height != height {
        return Err(InstallError::HeightMismatch { height, got: block.header.height });
    }
    if block.header.prev_hash != prev_hash.0 {
        return Err(InstallError::PrevHashMismatch { height });
    }
    if slot <= after_slot {
        return Err(InstallError::SlotOutOfOrder { height, slot, after: after_slot });
    }
    if slot > target.last_slot {
        return Err(InstallError::SlotBeyondTarget { height, slot, last_slot: target.last_slot });
    }
    let hash = block.hash();
    if height == target.height && hash != target.head_hash {
        return Err(InstallError::HeadMismatch { height, expected: target.head_hash, got: hash });
    }
    Ok(hash)
}
