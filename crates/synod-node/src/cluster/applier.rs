//! Applies chosen slots to the ledger, in slot order, and answers the clients
//! whose batch a slot carried; installs the snapshots consensus hands it, in
//! the same order (`install.rs`), so the ledger has a single writer.

use std::collections::VecDeque;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use synod_core::batch::BatchPayload;
use synod_core::verify_many;
use synod_core::{AuthMode, RejectReason, SignedTransfer, TransferId, VerifiedTransfer};
use synod_paxos::{Command, Slot, Snapshot};
use synod_storage::applied_config::AppliedAddresses;
use synod_storage::snapshot::SnapshotDescriptor;
use synod_storage::{AppliedConfig, WriteDurability};
use tokio::sync::watch;

use super::install::Installer;
use super::Input;
use crate::committer::{answer, write_blocks, SubmitOutcome};
use crate::health::Beat;
use crate::shared::Shared;

/// Most chosen slots applied in one transaction.
pub const SLOTS_PER_WRITE_MAX: usize = 64;

/// Most slots the ledger may run ahead of its durable state: past this the
/// applier fsyncs (`Store::sync`). It bounds the replay after a crash and the
/// groups waiting in `DurableTracker`. Under load the paxos log's own fsyncs
/// (same database) make the ledger durable long before this.
pub const LEDGER_LAG_SLOTS_MAX: u64 = 256;

/// An applier with deferred writes and nothing to apply fsyncs after this
/// long, so an idle cluster's ledger is durable and its snapshot point and
/// compaction move.
pub const LEDGER_SYNC_IDLE_MS: u64 = 20;

/// What consensus hands the applier, in order, over a bounded channel
/// (`consensus::apply_channel_capacity`): the replica hands out no more than
/// `apply_ahead_max` slots beyond the `applied` watch this thread publishes.
pub enum Chosen {
    Apply {
        slot: Slot,
        command: Command,
    },
    /// Bring the ledger up to this snapshot, then report
    /// `Input::SnapshotInstalled`. No `Apply` follows until that report.
    Install(Snapshot),
}

/// `applied_at_start`: the slot the durable ledger had applied when the node
/// started; the replica re-delivers earlier slots, which are skipped.
///
/// One durable write per commit: a chosen slot is already durable on a
/// majority (its accept was fsynced there), so the ledger write is deferred
/// (`WriteDurability::Deferred`) and the clients are answered once it is
/// committed in memory and in redb. The ledger becomes durable behind, with
/// the next paxos log fsync (same database), or the applier's own `sync`
/// (`LEDGER_LAG_SLOTS_MAX`, `LEDGER_SYNC_IDLE_MS`, and on a clean stop). A
/// crash loses at most the deferred groups; on restart the store's applied
/// slot is the durable one and the replica delivers the slots above it again.
pub fn run(
    shared: Arc<Shared>,
    chosen: Receiver<Chosen>,
    applied: watch::Sender<Slot>,
    applied_at_start: Slot,
    installer: Installer,
    beat: Beat,
) {
    let mut durable = DurableTracker::default();
    let stopped_cleanly = apply_loop(&shared, &chosen, &applied, applied_at_start, &installer, &beat, &mut durable);
    // A clean stop leaves a durable ledger (the replay on restart is then
    // empty); after a failure nothing more is written.
    if stopped_cleanly && !shared.health.is_failed() {
        sync_ledger(&shared, &mut durable);
    }
}

/// The deferred groups not yet known durable, oldest first: `(applied slot,
/// head height, head hash)` after each. The snapshot point (what peers are
/// sent, and what bounds compaction) moves only to a durable one.
#[derive(Default)]
pub struct DurableTracker {
    waiting: VecDeque<(Slot, u64, synod_core::BlockHash)>,
}

impl DurableTracker {
    /// A group up to `slot` was written deferred, leaving this head.
    pub fn written(&mut self, slot: Slot, height: u64, head_hash: synod_core::BlockHash) {
        if let Some(back) = self.waiting.back() {
            assert!(slot > back.0, "groups are written in slot order");
        }
        self.waiting.push_back((slot, height, head_hash));
    }

    /// The newest waiting group at or below `durable_slot` (the store's
    /// durable applied slot), forgetting it and every older one.
    pub fn durable_upto(&mut self, durable_slot: Slot) -> Option<(Slot, u64, synod_core::BlockHash)> {
        let mut newest = None;
        while self.waiting.front().is_some_and(|w| w.0 <= durable_slot) {
            newest = self.waiting.pop_front();
        }
        newest
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// fsyncs the deferred groups and moves the snapshot point to the durable
/// head. A failed fsync fails the node (its ledger is ahead of its disk).
fn sync_ledger(shared: &Shared, durable: &mut DurableTracker) -> bool {
    // A paxos log fsync may already have made the groups durable.
    if let Some(point) = durable.durable_upto(shared.store.durable_applied_slot()) {
        publish_snapshot_point(shared, point);
    }
    if durable.is_empty() {
        return true;
    }
    match shared.store.sync() {
        Ok(slot) => {
            if let Some(point) = durable.durable_upto(slot) {
                publish_snapshot_point(shared, point);
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "ledger fsync failed; the node fails");
            shared.fail(format!("ledger fsync failed: {e}"));
            false
        }
    }
}

/// Returns true when the consensus thread hung up (a clean stop), false when
/// the applier gives up (failure).
fn apply_loop(
    shared: &Arc<Shared>,
    chosen: &Receiver<Chosen>,
    applied: &watch::Sender<Slot>,
    applied_at_start: Slot,
    installer: &Installer,
    beat: &Beat,
    durable: &mut DurableTracker,
) -> bool {
    let shared = shared.clone();
    let cluster = shared.cluster.as_ref().expect("applier runs in replicated mode");
    let mut last: Slot = 0;
    // An install that arrived behind a group of slots, taken after them.
    let mut stashed: Option<Chosen> = None;
    let verify_threads = verify_thread_count();
    while beat.beat() {
        // With deferred groups waiting, wait only briefly: idle, they are
        // made durable.
        let wait = if durable.is_empty() {
            crate::health::idle_wait()
        } else {
            std::time::Duration::from_millis(LEDGER_SYNC_IDLE_MS)
        };
        let first = match stashed.take() {
            Some(next) => next,
            None => match chosen.recv_timeout(wait) {
                Ok(next) => next,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if !sync_ledger(&shared, durable) {
                        return false;
                    }
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return true,
            },
        };
        let mut group = match first {
            Chosen::Install(snapshot) => {
                // The install's chunks are fsynced and so make every deferred
                // group durable; the snapshot point moves with them.
                if !sync_ledger(&shared, durable) {
                    return false;
                }
                let Some(upto) = installer.install(&snapshot) else { return false };
                // The ledger durably holds every slot up to `upto` (the
                // install writes each chunk with the slot it reaches); only
                // now may consensus count them as applied.
                assert!(upto >= last, "an install never moves the ledger back ({upto} < {last})");
                // Pair assertion: what consensus is about to count as applied
                // is what the disk says (unreadable: the node halts below).
                if let Ok(durable) = shared.store.applied_slot() {
                    assert_eq!(durable, upto, "a snapshot install reports the durable applied slot");
                }
                last = upto;
                publish(&shared, last, applied);
                if cluster.inputs.send(Input::SnapshotInstalled { upto_slot: upto }).is_err() {
                    return true;
                }
                continue;
            }
            Chosen::Apply { slot, command } => vec![(slot, command)],
        };
        // Every slot that is ready now goes into the same write.
        while group.len() < SLOTS_PER_WRITE_MAX {
            match chosen.try_recv() {
                Ok(Chosen::Apply { slot, command }) => group.push((slot, command)),
                Ok(install) => {
                    stashed = Some(install);
                    break;
                }
                Err(_) => break,
            }
        }
        let mut inputs = Vec::with_capacity(group.len());
        let mut batch_ids = Vec::with_capacity(group.len());
        // The group's last configuration (and addresses, from a `Members`),
        // recorded with the applied slot: the latest wins.
        let mut config: Option<AppliedConfig> = None;
        let mut addresses: Option<AppliedAddresses> = None;
        for (slot, command) in group {
            assert!(slot > last, "slots are applied in order (slot {slot} after {last})");
            last = slot;
            if slot <= applied_at_start {
                continue;
            }
            match command {
                Command::Batch(batch) => match BatchPayload::decode(&batch.bytes) {
                    Ok(payload) => {
                        // Every member verifies every signature itself, whoever
                        // proposed the batch: a transfer that fails is left out
                        // of the block, the same on every member since the
                        // verdict depends on the chosen bytes only.
                        let ids: Vec<TransferId> = payload.transfers.iter().map(SignedTransfer::id).collect();
                        let (candidates, refused) = verify_batch(payload.transfers, shared.auth, verify_threads);
                        batch_ids.push((batch.id.0, ids, refused));
                        inputs.push((Some(slot), payload.timestamp_ms, candidates));
                    }
                    Err(e) => {
                        // Every replica decodes the same bytes and skips the same slot.
                        tracing::error!(slot, error = %e, "chosen batch does not decode; skipped");
                        cluster.pending.fail(batch.id.0, "invalid_batch", "the batch did not decode");
                    }
                },
                // The configuration is kept with the ledger: the log entry
                // that chose it is compacted away later (PROTOCOL §7.2).
                Command::Config(c) => config = Some(AppliedConfig { slot, members: c.members }),
                Command::Members(book) => {
                    config = Some(AppliedConfig { slot, members: book.config.members });
                    addresses = Some(AppliedAddresses { slot, addresses: book.addresses });
                }
                // Nothing to apply; the slot is still recorded.
                Command::Noop => {}
            }
        }
        if last <= applied_at_start {
            continue;
        }
        // Fsynced when the ledger would otherwise run too far ahead of its
        // durable state, deferred otherwise.
        let lag = last.saturating_sub(shared.store.durable_applied_slot());
        let durability = if lag >= LEDGER_LAG_SLOTS_MAX { WriteDurability::Fsync } else { WriteDurability::Deferred };
        let written = match beat.storage_fault() {
            // Test-only: the write fails as `write_blocks` reports a failed
            // write (the node FAILED, every transfer of the group unwritten).
            Some(injected) => {
                shared.fail(format!("block write failed: {injected}"));
                Err(batch_ids.iter().flat_map(|(_, ids, _)| ids.iter().copied()).collect())
            }
            None => write_blocks(&shared, inputs, Some(last), config.as_ref(), addresses.as_ref(), durability),
        };
        let outcomes = match written {
            Ok(o) => o,
            Err(ids) => {
                let failed: std::collections::HashSet<_> = ids.into_iter().collect();
                for (batch_id, ids, refused) in batch_ids {
                    if let Some(p) = cluster.pending.take(batch_id) {
                        let verified = ids.iter().enumerate().filter(|(i, _)| !refused.iter().any(|r| r.0 == *i));
                        assert!(verified.map(|(_, id)| id).all(|id| failed.contains(id)));
                        answer(p.replies, ids.into_iter().map(|id| SubmitOutcome::Failed { id }).collect());
                    }
                }
                return false;
            }
        };
        {
            let ledger = shared.ledger.read().expect("ledger lock");
            durable.written(last, ledger.head().height, ledger.head_hash());
        }
        if let Some(point) = durable.durable_upto(shared.store.durable_applied_slot()) {
            publish_snapshot_point(&shared, point);
        }
        assert_eq!(outcomes.len(), batch_ids.len(), "one result per applied batch");
        for ((batch_id, ids, refused), outcomes) in batch_ids.into_iter().zip(outcomes) {
            shared.metrics.transfers_rejected.inc_by(refused.len() as u64);
            let outcomes = merge_refused(&ids, refused, outcomes);
            if let Some(p) = cluster.pending.take(batch_id) {
                assert_eq!(p.ids, ids, "a pending batch id maps to the transfers it was proposed with");
                answer(p.replies, outcomes);
            }
        }
        // Readers wait on this watch and then read the store, which already
        // holds the group (committed, durable or not): they see chosen data
        // only.
        let _ = applied.send(last);
    }
    false
}

/// Threads one batch's signatures are verified on: the machine's cores,
/// bounded by `verify_many::VERIFY_THREADS_MAX`.
fn verify_thread_count() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(verify_many::VERIFY_THREADS_MAX)
}

/// A transfer of a chosen batch that failed verification: its position in
/// the batch and why.
pub type Refused = (usize, RejectReason);

/// Verifies every transfer of a chosen batch (on up to `threads` threads):
/// the verified ones, in batch order, are the block's candidates; the others
/// are refused with their position.
pub fn verify_batch(
    transfers: Vec<SignedTransfer>,
    auth: AuthMode,
    threads: usize,
) -> (Vec<VerifiedTransfer>, Vec<Refused>) {
    let mut candidates = Vec::with_capacity(transfers.len());
    let mut refused = Vec::new();
    for (index, verdict) in verify_many::verify_all(transfers, auth, threads).into_iter().enumerate() {
        match verdict {
            Ok(tx) => candidates.push(tx),
            Err((_, reason)) => refused.push((index, reason)),
        }
    }
    (candidates, refused)
}

/// One outcome per transfer of the batch, in batch order: the block's
/// outcomes for the verified candidates, `Rejected` for the refused ones.
pub fn merge_refused(ids: &[TransferId], refused: Vec<Refused>, built: Vec<SubmitOutcome>) -> Vec<SubmitOutcome> {
    assert_eq!(built.len() + refused.len(), ids.len(), "every transfer was either a candidate or refused");
    let mut built = built.into_iter();
    let mut refused = refused.into_iter().peekable();
    let merged: Vec<SubmitOutcome> = ids
        .iter()
        .enumerate()
        .map(|(index, id)| match refused.next_if(|r| r.0 == index) {
            Some((_, reason)) => SubmitOutcome::Rejected { id: *id, reason },
            None => built.next().expect("a candidate outcome per verified transfer"),
        })
        .collect();
    assert!(refused.next().is_none() && built.next().is_none(), "every outcome placed once");
    merged
}

/// Tells the rest of the node that the ledger durably applied `last` (an
/// install, whose chunks are fsynced): the snapshot point first, then the
/// watch readers wait on.
pub fn publish(shared: &Shared, last: Slot, applied: &watch::Sender<Slot>) {
    let (height, head_hash) = {
        let ledger = shared.ledger.read().expect("ledger lock");
        (ledger.head().height, ledger.head_hash())
    };
    publish_snapshot_point(shared, (last, height, head_hash));
    let _ = applied.send(last);
}

/// Moves the snapshot point to a durable `(applied slot, head height, head
/// hash)`: what peers that need compacted slots are sent, and the bound of
/// compaction (`consensus::compaction_limit`).
pub fn publish_snapshot_point(shared: &Shared, (last, height, head_hash): (Slot, u64, synod_core::BlockHash)) {
    let cluster = shared.cluster.as_ref().expect("replicated mode");
    let mut point = cluster.snapshot_point.write().expect("snapshot point lock");
    // The latest configuration the store recorded, if this point covers
    // it; one applied by a deferred group above this point is not part of it
    // yet, so the point keeps the one it had (changes go one at a time, each
    // through its own applied group, so that one still governs `last`).
    let config = match shared.store.applied_config().ok().flatten().filter(|c| c.slot <= last) {
        Some(config) => Some(config),
        None => point.config.clone(),
    };
    assert!(last >= point.last_slot, "the snapshot point never moves back ({last} < {})", point.last_slot);
    *point = SnapshotDescriptor { last_slot: last, height, head_hash, source: cluster.node_id, config };
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::crypto::Keypair;
    use synod_core::ledger::TransferPosition;
    use synod_core::Transfer;

    fn signed(n: u64) -> SignedTransfer {
        let key = Keypair::from_seed(&[1; 32]);
        let to = Keypair::from_seed(&[2; 32]).account();
        Transfer { chain_id: 1, from: key.account(), to, amount: 1 + n, fee: 0, nonce: n, memo: vec![] }.sign(&key)
    }

    fn committed(id: TransferId, index: u32) -> SubmitOutcome {
        let position = TransferPosition { height: 1, index_in_block: index, ledger_index: u64::from(index) };
        SubmitOutcome::Committed { id, position, duplicate: false }
    }

    #[test]
    fn refused_transfers_keep_their_place_among_the_blocks_outcomes() {
        let mut txs: Vec<SignedTransfer> = (0..100).map(signed).collect();
        txs[0].signature = None;
        txs[41].signature.as_mut().unwrap()[0] ^= 1;
        txs[99].signature.as_mut().unwrap()[63] ^= 0x80;
        let ids: Vec<TransferId> = txs.iter().map(SignedTransfer::id).collect();
        let (candidates, refused) = verify_batch(txs, AuthMode::Ed25519, 4);
        assert_eq!(refused.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 41, 99]);
        assert_eq!(refused[0].1, RejectReason::MissingSignature);
        assert_eq!(candidates.len(), 97);
        let built: Vec<SubmitOutcome> =
            candidates.iter().enumerate().map(|(i, c)| committed(c.get().id(), i as u32)).collect();
        let merged = merge_refused(&ids, refused, built);
        assert_eq!(merged.len(), 100);
        for (i, outcome) in merged.iter().enumerate() {
            let id = match outcome {
                SubmitOutcome::Committed { id, .. } => {
                    assert!(![0, 41, 99].contains(&i), "outcome {i} committed");
                    id
                }
                SubmitOutcome::Rejected { id, reason } => {
                    assert!([0, 41, 99].contains(&i), "outcome {i} rejected: {reason}");
                    id
                }
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(*id, ids[i], "outcome {i} answers transfer {i}");
        }
    }

    #[test]
    fn the_snapshot_point_moves_only_to_a_durable_group() {
        let hash = |n: u8| synod_core::BlockHash([n; 32]);
        let mut tracker = DurableTracker::default();
        tracker.written(10, 3, hash(3));
        tracker.written(20, 4, hash(4));
        tracker.written(30, 5, hash(5));
        // Durable state at slot 5: no group of ours is durable yet.
        assert_eq!(tracker.durable_upto(5), None);
        // A paxos fsync made everything up to slot 20 durable.
        assert_eq!(tracker.durable_upto(20), Some((20, 4, hash(4))));
        assert!(!tracker.is_empty());
        assert_eq!(tracker.durable_upto(20), None);
        assert_eq!(tracker.durable_upto(31), Some((30, 5, hash(5))));
        assert!(tracker.is_empty());
    }

    #[test]
    fn trusted_client_mode_accepts_unsigned_but_checks_a_present_signature() {
        let mut txs: Vec<SignedTransfer> = (0..3).map(signed).collect();
        txs[0].signature = None;
        txs[2].signature.as_mut().unwrap()[0] ^= 1;
        let (candidates, refused) = verify_batch(txs, AuthMode::None, 2);
        assert_eq!(candidates.len(), 2);
        assert_eq!(refused.len(), 1);
        assert_eq!((refused[0].0, refused[0].1.code()), (2, "bad_signature"));
    }
}
