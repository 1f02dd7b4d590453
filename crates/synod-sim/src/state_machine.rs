//! The replicated state machine: the real `synod_core::Ledger`, driven the way
//! the node's applier drives it (crates/synod-node/src/cluster/applier.rs and
//! `committer::write_block`):
//!
//! - slots arrive in order; a slot at or below the durable applied slot is
//!   skipped (it is in the ledger already: a restart re-delivers it);
//! - a `Command::Batch` is decoded with `BatchPayload::decode`, its transfers
//!   wrapped with `VerifiedTransfer::assume_verified` (the leader verified
//!   them) and handed to `Ledger::build_block(timestamp_ms, ..)`: at most one
//!   block per slot, made durable with the applied slot in one transaction;
//! - a transfer rejected for a nonce below the account's is answered as a
//!   committed duplicate if the ledger holds it (`resolve_rejection`).
//!
//! Durable state is the `LedgerStore`; the `Ledger` in memory is rebuilt from
//! it on restart (`LedgerStore::load`). The simulator compacts the consensus
//! log (the node runtime does not yet): a compaction writes a *marker* record
//! (height and head hash) to the consensus disk, and a lagging replica is sent
//! the whole store as its snapshot, whose blocks it applies with
//! `Ledger::apply_block(.., SignaturePolicy::Verify)` like any block from
//! another node.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use synod_core::batch::BatchPayload;
use synod_core::ledger::{BlockError, SignaturePolicy, TransferPosition};
use synod_core::{Account, AccountId, Genesis, Ledger, RejectReason, TransferId, VerifiedTransfer};
use synod_paxos::{BatchId, Command, NodeId, Slot, Snapshot};

use crate::options::LedgerBugs;
use crate::store::{BlockRef, LedgerStore};

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

/// The compaction marker written to the consensus disk.
#[derive(Serialize, Deserialize)]
struct Marker {
    height: u64,
    head_hash: [u8; 32],
}

#[derive(Debug)]
pub struct LedgerMachine {
    store: LedgerStore,
    ledger: Ledger,
    /// The last slot the replica delivered (or a snapshot covered) in this
    /// incarnation.
    delivered: Slot,
    /// The durable applied slot when this incarnation started.
    applied_at_start: Slot,
    node: NodeId,
    bugs: LedgerBugs,
    /// With `LedgerBugs::non_atomic_apply`: the store before its last block.
    before_last_block: Option<Box<LedgerStore>>,
}

impl LedgerMachine {
    pub fn new(genesis: &Genesis) -> LedgerMachine {
        LedgerMachine::with_bugs(genesis, 0, LedgerBugs::default())
    }

    #[doc(hidden)]
    pub fn with_bugs(genesis: &Genesis, node: NodeId, bugs: LedgerBugs) -> LedgerMachine {
        let store = LedgerStore::init(genesis);
        let ledger = store.load();
        LedgerMachine { store, ledger, delivered: 0, applied_at_start: 0, node, bugs, before_last_block: None }
    }

    pub fn store(&self) -> &LedgerStore {
        &self.store
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn delivered(&self) -> Slot {
        self.delivered
    }

    /// The node's "applied" watch: the durable applied slot at start, then
    /// every slot delivered since.
    pub fn applied(&self) -> Slot {
        self.store.applied_slot().max(self.delivered)
    }

    /// A restart: memory is rebuilt from the store; the replica resumes
    /// delivering after `replica_applied` (its snapshot point).
    pub fn restart(&mut self, replica_applied: Slot) {
        if let Some(before) = self.before_last_block.take() {
            // LedgerBugs::non_atomic_apply: the block's transaction was lost.
            let slot = self.store.applied_slot();
            self.store = *before;
            self.store.advance_applied_slot(slot);
        }
        self.ledger = self.store.load();
        self.delivered = replica_applied;
        self.applied_at_start = self.store.applied_slot();
    }

    /// Applies one chosen slot. Errs if the store refuses the block (a
    /// transfer committed twice).
    pub fn apply(&mut self, slot: Slot, command: &Command) -> Result<Applied, String> {
        assert!(slot > self.delivered, "slots are applied in order (slot {slot} after {})", self.delivered);
        self.delivered = slot;
        let skip_one_more = self.bugs.skip_slot_after_restart && self.applied_at_start > 0;
        if slot <= self.store.applied_slot() || (skip_one_more && slot == self.applied_at_start + 1) {
            return Ok(Applied::Skipped);
        }
        let Command::Batch(batch) = command else { return Ok(Applied::Other) };
        let payload = match BatchPayload::decode(&batch.bytes) {
            Ok(payload) => payload,
            Err(e) => return Ok(Applied::Undecodable { id: batch.id, error: e.to_string() }),
        };
        let candidates: Vec<VerifiedTransfer> =
            payload.transfers.into_iter().map(VerifiedTransfer::assume_verified).collect();
        let timestamp_ms =
            if self.bugs.local_timestamp { payload.timestamp_ms + u64::from(self.node) } else { payload.timestamp_ms };
        let built = self.ledger.build_block(timestamp_ms, candidates);
        if self.bugs.non_atomic_apply && built.block.is_some() {
            self.before_last_block = Some(Box::new(self.store.clone()));
        }
        let block = match &built.block {
            Some(block) => self.store.append_applied_slot(Some(block), &built.touched, slot)?,
            None => None,
        };
        let in_block: BTreeMap<TransferId, TransferPosition> =
            built.outcomes.iter().filter_map(|o| o.result.as_ref().ok().map(|p| (o.id, *p))).collect();
        let outcomes = built
            .outcomes
            .into_iter()
            .map(|o| match o.result {
                Ok(position) => ApplyOutcome::Committed { position, duplicate: false },
                Err(reason) => self.resolve_rejection(o.id, reason, &in_block),
            })
            .collect();
        Ok(Applied::Batch { id: batch.id, block, outcomes })
    }

    /// `committer::resolve_rejection`: a nonce already used may be this very
    /// transfer, committed before.
    fn resolve_rejection(
        &self,
        id: TransferId,
        reason: RejectReason,
        in_block: &BTreeMap<TransferId, TransferPosition>,
    ) -> ApplyOutcome {
        if let RejectReason::BadNonce { expected, got } = reason {
            if got < expected && !self.bugs.no_duplicate_resolution {
                if let Some(position) = in_block.get(&id).copied().or_else(|| self.store.position(&id)) {
                    return ApplyOutcome::Committed { position, duplicate: true };
                }
            }
        }
        ApplyOutcome::Rejected(reason)
    }

    /// The snapshot sent to a lagging peer: the whole store.
    pub fn snapshot(&self, last_slot: Slot) -> Snapshot {
        Snapshot { last_slot, bytes: self.store.image() }
    }

    /// Installs a peer's snapshot: the blocks beyond ours are applied with
    /// signature verification, and the applied slot moves up to the peer's.
    /// If ours is ahead, ours stays. Errs if the two chains disagree.
    pub fn install(&mut self, snapshot: &Snapshot) -> Result<Vec<BlockRef>, String> {
        let image = LedgerStore::decode_image(&snapshot.bytes)?;
        self.before_last_block = None;
        let ours = self.store.height();
        let theirs = image.blocks.len() as u64;
        let common = ours.min(theirs);
        if common > 0 {
            let index = (common - 1) as usize;
            let (hash, slot) = (image.blocks[index].hash(), image.block_slots[index]);
            if self.store.block_hash(common) != Some(hash) || self.store.block_slot(common) != Some(slot) {
                return Err(format!(
                    "snapshot block {common} ({hash}, slot {slot}) differs from ours ({:?}, slot {:?})",
                    self.store.block_hash(common),
                    self.store.block_slot(common)
                ));
            }
        }
        let behind = theirs < ours && image.applied_slot > self.store.applied_slot();
        let ahead = theirs > ours && image.applied_slot <= self.store.applied_slot();
        if behind || ahead {
            return Err(format!(
                "snapshot has {theirs} blocks up to slot {}, this node {ours} blocks up to slot {}",
                image.applied_slot,
                self.store.applied_slot()
            ));
        }
        let mut added = Vec::new();
        for height in ours + 1..=theirs {
            let index = (height - 1) as usize;
            let (block, slot) = (&image.blocks[index], image.block_slots[index]);
            if slot <= self.store.applied_slot() {
                return Err(format!("snapshot block {height} comes from slot {slot}, which this node applied"));
            }
            let touched = self
                .ledger
                .apply_block(block, SignaturePolicy::Verify)
                .map_err(|e| format!("snapshot block does not extend this ledger: {e}"))?;
            added.extend(self.store.append_applied_slot(Some(block), &touched, slot)?);
        }
        self.store.advance_applied_slot(image.applied_slot);
        self.delivered = self.delivered.max(snapshot.last_slot);
        Ok(added)
    }

    /// The record written to the consensus disk when the log is compacted
    /// up to `last_slot`: the ledger must already hold that far.
    pub fn marker(&self, last_slot: Slot) -> Snapshot {
        let marker = Marker { height: self.store.height(), head_hash: self.store.head_hash().0 };
        Snapshot { last_slot, bytes: postcard::to_allocvec(&marker).expect("encodes") }
    }

    /// After a restart: the durable ledger covers the compaction marker the
    /// consensus disk kept (else the truncated log lost chosen values).
    pub fn check_marker(&self, marker: &Snapshot) -> Result<(), String> {
        let m: Marker = postcard::from_bytes(&marker.bytes).map_err(|e| format!("marker: {e}"))?;
        let have = self.store.block_hash(m.height);
        if have.map(|h| h.0) != Some(m.head_hash) {
            return Err(format!(
                "the log was compacted up to slot {} at block {}, but the durable ledger has {} blocks (hash there {:?})",
                marker.last_slot,
                m.height,
                self.store.height(),
                have
            ));
        }
        Ok(())
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
pub fn replay(genesis: &Genesis, blocks: &[synod_core::Block], policy: SignaturePolicy) -> Result<Replay, BlockError> {
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
