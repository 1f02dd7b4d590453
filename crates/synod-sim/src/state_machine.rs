//! The replicated state machine: the real `synod_core::Ledger` over the real
//! `synod_storage::Store`, driven the way the node's applier drives them
//! (crates/synod-node/src/cluster/applier.rs and `committer::write_blocks`):
//!
//! - slots arrive in order; a slot at or below the durable applied slot is
//!   skipped (it is in the ledger already);
//! - a `Command::Batch` is decoded with `BatchPayload::decode`, its transfers
//!   wrapped with `VerifiedTransfer::assume_verified` (the leader verified
//!   them) and handed to `Ledger::build_block(timestamp_ms, ..)`: at most one
//!   block per slot, written by `Store::append_group` with its slot and the
//!   applied slot in one transaction; a slot that makes no block records the
//!   applied slot alone, as the node does;
//! - a transfer rejected for a nonce below the account's is answered as a
//!   committed duplicate if the ledger holds it (`resolve_rejection`).
//!
//! A restart rebuilds the `Ledger` with `Store::load` (`disk.rs`). A snapshot
//! install goes through the same storage code as the node's
//! (`Store::snapshot_descriptor`, `read_chunk`, `install_chunk`,
//! `finish_install`); the chunk transfer itself is simulated by `node.rs`.

use std::collections::BTreeMap;

use synod_core::batch::BatchPayload;
use synod_core::block::BlockHash;
use synod_core::ledger::{BlockError, SignaturePolicy, TransferPosition};
use synod_core::{Account, AccountId, Block, Genesis, Ledger, RejectReason, TransferId, VerifiedTransfer};
use synod_paxos::{BatchId, Command, DurableState, NodeId, Slot};
use synod_storage::snapshot::{InstallError, InstallProgress, SnapshotDescriptor};
use synod_storage::{AppliedConfig, BlockWrite, StoreError};

use crate::disk::Disk;
use crate::options::LedgerBugs;

/// Snapshot chunks are this small in the simulator (a block of four
/// transfers is ~700 bytes) so that installs take several chunks.
pub const CHUNK_BYTES_MAX: usize = 2_000;

/// What became of one transfer of an applied batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// In the ledger at `position`; `duplicate`: it was there before this batch.
    Committed {
        position: TransferPosition,
        duplicate: bool,
    },
    Rejected(RejectReason),
}

/// What applying one slot did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// At or below the durable applied slot: already in the ledger.
    Skipped,
    Batch {
        id: BatchId,
        block: Option<BlockRef>,
        /// One per transfer of the batch, in order.
        outcomes: Vec<ApplyOutcome>,
    },
    /// The chosen bytes are not a `BatchPayload` (skipped on every replica alike).
    Undecodable { id: BatchId, error: String },
    /// `Noop` or `Config`.
    Other,
}

/// Why a slot could not be applied.
#[derive(Debug)]
pub enum ApplyError {
    /// A block would hold a transfer the ledger already holds.
    Integrity(String),
    /// The disk failed (power loss inside a commit): the node is down.
    Storage(StoreError),
}

/// A block a node made or installed, for the online block-agreement check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRef {
    pub height: u64,
    pub hash: BlockHash,
    pub slot: Slot,
}

/// A block whose write `LedgerBugs::non_atomic_apply` deferred.
type Unwritten = (Block, Vec<(AccountId, Account)>, Slot);

pub struct LedgerMachine {
    disk: Disk,
    ledger: Ledger,
    /// The last slot the replica delivered (or a snapshot covered) in this
    /// incarnation.
    delivered: Slot,
    /// The durable applied slot when this incarnation started.
    applied_at_start: Slot,
    /// The durable applied slot (the store's, kept here to save a read per slot).
    applied_slot: Slot,
    node: NodeId,
    bugs: LedgerBugs,
    /// With `LedgerBugs::non_atomic_apply`: the last block, written only
    /// when the next one is (its slot was written at once).
    unwritten: Option<Unwritten>,
}

impl LedgerMachine {
    pub fn new(genesis: &Genesis) -> LedgerMachine {
        LedgerMachine::with_bugs(genesis, 0, LedgerBugs::default())
    }

    #[doc(hidden)]
    pub fn with_bugs(genesis: &Genesis, node: NodeId, bugs: LedgerBugs) -> LedgerMachine {
        let disk = Disk::new(genesis);
        let ledger = disk.store().load().expect("a fresh store loads").ledger;
        LedgerMachine { disk, ledger, delivered: 0, applied_at_start: 0, applied_slot: 0, node, bugs, unwritten: None }
    }

    pub fn disk(&self) -> &Disk {
        &self.disk
    }

    pub fn disk_mut(&mut self) -> &mut Disk {
        &mut self.disk
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn delivered(&self) -> Slot {
        self.delivered
    }

    /// The durable applied slot.
    pub fn applied_slot(&self) -> Slot {
        self.applied_slot
    }

    /// The node's "applied" watch: the durable applied slot at start, then
    /// every slot delivered since.
    /// The configuration the store recorded as applied.
    pub fn applied_config(&self) -> Option<AppliedConfig> {
        self.disk.store().applied_config().expect("store readable")
    }

    pub fn applied(&self) -> Slot {
        self.applied_slot.max(self.delivered)
    }

    // ---- reads of the durable store, for the checks (never damaged) ----

    pub fn height(&self) -> u64 {
        self.disk.store().head_height().expect("store readable")
    }

    pub fn block(&self, height: u64) -> Option<Block> {
        self.disk.store().block(height).expect("store readable")
    }

    pub fn block_slot(&self, height: u64) -> Option<Slot> {
        self.disk.store().block_slot(height).expect("store readable")
    }

    /// Blocks 1..=height, as stored.
    pub fn blocks(&self) -> Vec<Block> {
        (1..=self.height()).map(|h| self.block(h).expect("no gaps below the head")).collect()
    }

    pub fn head_hash(&self) -> BlockHash {
        self.block(self.height()).expect("the head exists").hash()
    }

    pub fn position(&self, id: &TransferId) -> Option<TransferPosition> {
        self.disk.store().position(id).expect("store readable")
    }

    /// The ledger a restart would load from this store.
    pub fn load(&self) -> Ledger {
        self.disk.store().load().expect("store loads").ledger
    }

    // ---- the applier ----

    /// Applies one chosen slot.
    pub fn apply(&mut self, slot: Slot, command: &Command) -> Result<Applied, ApplyError> {
        assert!(slot > self.delivered, "slots are applied in order (slot {slot} after {})", self.delivered);
        self.delivered = slot;
        let skip_one_more = self.bugs.skip_slot_after_restart && self.applied_at_start > 0;
        if slot <= self.applied_slot || (skip_one_more && slot == self.applied_at_start + 1) {
            return Ok(Applied::Skipped);
        }
        let Command::Batch(batch) = command else {
            // A Config is recorded with its slot, as the node's applier does.
            let config = command.config().map(|c| AppliedConfig { slot, members: c.members.clone() });
            self.write(None, slot, config.as_ref())?;
            return Ok(Applied::Other);
        };
        let payload = match BatchPayload::decode(&batch.bytes) {
            Ok(payload) => payload,
            Err(e) => {
                self.write(None, slot, None)?;
                return Ok(Applied::Undecodable { id: batch.id, error: e.to_string() });
            }
        };
        let candidates: Vec<VerifiedTransfer> =
            payload.transfers.into_iter().map(VerifiedTransfer::assume_verified).collect();
        let timestamp_ms =
            if self.bugs.local_timestamp { payload.timestamp_ms + u64::from(self.node) } else { payload.timestamp_ms };
        let built = self.ledger.build_block(timestamp_ms, candidates);
        if let Some(block) = &built.block {
            // At most once: the nonce rule must keep a committed transfer out
            // of every later block.
            for tx in &block.transfers {
                let id = tx.id();
                if let Some(first) = self.lookup(&id).map_err(ApplyError::Storage)? {
                    return Err(ApplyError::Integrity(format!(
                        "transfer {id} committed again in block {} (first at {first:?})",
                        block.header.height
                    )));
                }
            }
        }
        let block_ref = match built.block {
            Some(block) => {
                let r = BlockRef { height: block.header.height, hash: block.hash(), slot };
                self.write(Some((block, built.touched)), slot, None)?;
                Some(r)
            }
            None => {
                self.write(None, slot, None)?;
                None
            }
        };
        let in_block: BTreeMap<TransferId, TransferPosition> =
            built.outcomes.iter().filter_map(|o| o.result.as_ref().ok().map(|p| (o.id, *p))).collect();
        let mut outcomes = Vec::with_capacity(built.outcomes.len());
        for o in built.outcomes {
            outcomes.push(match o.result {
                Ok(position) => ApplyOutcome::Committed { position, duplicate: false },
                Err(reason) => self.resolve_rejection(o.id, reason, &in_block).map_err(ApplyError::Storage)?,
            });
        }
        Ok(Applied::Batch { id: batch.id, block: block_ref, outcomes })
    }

    /// One durable write of the slot and its block (`committer::write_blocks`).
    fn write(
        &mut self,
        block: Option<(Block, Vec<(AccountId, Account)>)>,
        slot: Slot,
        config: Option<&AppliedConfig>,
    ) -> Result<(), ApplyError> {
        match block {
            Some((block, touched)) if self.bugs.non_atomic_apply => {
                // The broken layer: the slot now, the block only later.
                self.flush_unwritten().map_err(ApplyError::Storage)?;
                self.disk.store().append_group(&[], Some(slot), config).map_err(ApplyError::Storage)?;
                self.unwritten = Some((block, touched, slot));
            }
            Some((block, touched)) => {
                let write = BlockWrite { block: &block, touched: &touched, slot: Some(slot) };
                self.disk.store().append_group(&[write], Some(slot), config).map_err(ApplyError::Storage)?;
            }
            None => self.disk.store().append_group(&[], Some(slot), config).map_err(ApplyError::Storage)?,
        }
        self.applied_slot = slot;
        Ok(())
    }

    /// Writes the block `non_atomic_apply` held back, if any.
    pub fn flush_unwritten(&mut self) -> Result<(), StoreError> {
        if let Some((block, touched, slot)) = self.unwritten.take() {
            let write = BlockWrite { block: &block, touched: &touched, slot: Some(slot) };
            self.disk.store().append_group(&[write], None, None)?;
        }
        Ok(())
    }

    fn lookup(&self, id: &TransferId) -> Result<Option<TransferPosition>, StoreError> {
        if let Some((block, _, _)) = &self.unwritten {
            if let Some(i) = block.transfers.iter().position(|t| t.id() == *id) {
                let first = block.header.ledger_size - block.transfers.len() as u64;
                let height = block.header.height;
                return Ok(Some(TransferPosition { height, index_in_block: i as u32, ledger_index: first + i as u64 }));
            }
        }
        self.disk.store().position(id)
    }

    /// `committer::resolve_rejection`: a nonce already used may be this very
    /// transfer, committed before.
    fn resolve_rejection(
        &self,
        id: TransferId,
        reason: RejectReason,
        in_block: &BTreeMap<TransferId, TransferPosition>,
    ) -> Result<ApplyOutcome, StoreError> {
        if let RejectReason::BadNonce { expected, got } = reason {
            if got < expected && !self.bugs.no_duplicate_resolution {
                let position = match in_block.get(&id) {
                    Some(p) => Some(*p),
                    None => self.lookup(&id)?,
                };
                if let Some(position) = position {
                    return Ok(ApplyOutcome::Committed { position, duplicate: true });
                }
            }
        }
        Ok(ApplyOutcome::Rejected(reason))
    }

    // ---- crashes and restarts ----

    /// Power loss (see `Disk::crash`); a deferred block is lost with it.
    pub fn crash(&mut self, seed: u64) -> Result<(), String> {
        self.unwritten = None;
        self.disk.crash(seed, None)
    }

    /// A restart's reads; on success memory is rebuilt from the store and
    /// the replica's durable state is returned. `Err`: the ledger does not
    /// read back cleanly, the node does not start.
    pub fn recover(&mut self, corrupt_read: f64, seed: u64) -> Result<DurableState, StoreError> {
        let recovered = self.disk.recover(corrupt_read, seed)?;
        self.ledger = recovered.ledger;
        self.applied_slot = recovered.applied_slot;
        self.applied_at_start = recovered.applied_slot;
        self.delivered = recovered.durable.snapshot_slot;
        Ok(recovered.durable)
    }

    // ---- snapshots ----

    /// This node's snapshot point (`Store::snapshot_descriptor`).
    pub fn descriptor(&mut self, source: NodeId) -> Result<SnapshotDescriptor, StoreError> {
        self.flush_unwritten()?;
        self.disk.store().snapshot_descriptor(source)
    }

    /// Verifies and writes one chunk (`Store::install_chunk`); returns the
    /// progress and the blocks it added. On a refusal the blocks verified
    /// before the bad one are durable.
    pub fn install_chunk(
        &mut self,
        target: &SnapshotDescriptor,
        chunk: &[u8],
    ) -> (Result<InstallProgress, InstallError>, Vec<BlockRef>) {
        if let Err(e) = self.flush_unwritten() {
            return (Err(InstallError::Store(e)), Vec::new());
        }
        let before = self.ledger.head().height;
        let result = self.disk.store().install_chunk(&mut self.ledger, target, chunk, CHUNK_BYTES_MAX);
        let added = self.added_since(before);
        (result, added)
    }

    /// Completes an install whose blocks are all here.
    pub fn finish_install(&mut self, target: &SnapshotDescriptor) -> Result<Slot, InstallError> {
        self.flush_unwritten()?;
        self.disk.store().finish_install(&self.ledger, target)
    }

    /// The install ended with the store durably at `upto_slot`: no slot up to
    /// it will be delivered.
    pub fn installed(&mut self, upto_slot: Slot) {
        assert!(upto_slot >= self.applied_slot, "an install never moves the ledger back");
        self.applied_slot = upto_slot;
        self.delivered = self.delivered.max(upto_slot);
    }

    /// The durable applied slot as the store has it (after a partial install).
    pub fn refresh_applied_slot(&mut self) -> Result<Slot, StoreError> {
        self.applied_slot = self.disk.store().applied_slot()?;
        Ok(self.applied_slot)
    }

    fn added_since(&self, before: u64) -> Vec<BlockRef> {
        let store = self.disk.store();
        (before + 1..=self.ledger.head().height)
            .filter_map(|height| {
                let block = store.block(height).ok()??;
                let slot = store.block_slot(height).ok()??;
                Some(BlockRef { height, hash: block.hash(), slot })
            })
            .collect()
    }
}

/// A fresh replay of a chain from genesis, with every account's history.
pub struct Replay {
    pub ledger: Ledger,
    /// Per account: (height, value from that height on), ascending.
    history: BTreeMap<AccountId, Vec<(u64, Account)>>,
}

impl Replay {
    /// The account as of block `height` (0: genesis).
    pub fn account_at(&self, id: &AccountId, height: u64) -> Account {
        let Some(versions) = self.history.get(id) else { return Account::default() };
        let after = versions.partition_point(|(h, _)| *h <= height);
        if after == 0 {
            Account::default()
        } else {
            versions[after - 1].1
        }
    }
}

/// Replays `blocks` onto a fresh genesis ledger with `Ledger::apply_block`.
pub fn replay(genesis: &Genesis, blocks: &[Block], policy: SignaturePolicy) -> Result<Replay, BlockError> {
    let mut ledger = Ledger::new(genesis.clone()).expect("valid genesis");
    let mut history: BTreeMap<AccountId, Vec<(u64, Account)>> = BTreeMap::new();
    for a in &genesis.allocations {
        history.entry(a.account).or_default().push((0, Account { balance: a.amount, nonce: 0 }));
    }
    for block in blocks {
        let touched = ledger.apply_block(block, policy)?;
        for (id, account) in touched {
            history.entry(id).or_default().push((block.header.height, account));
        }
    }
    Ok(Replay { ledger, history })
}
