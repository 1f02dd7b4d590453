//! Applies chosen slots to the ledger, in slot order, and answers the clients
//! whose batch a slot carried; installs the snapshots consensus hands it, in
//! the same order (`install.rs`), so the ledger has a single writer.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use synod_core::batch::BatchPayload;
use synod_core::VerifiedTransfer;
use synod_paxos::{Command, Slot, Snapshot};
use synod_storage::snapshot::SnapshotDescriptor;
use synod_storage::AppliedConfig;
use tokio::sync::watch;

use super::install::Installer;
use super::Input;
use crate::committer::{answer, write_blocks, SubmitOutcome};
use crate::health::Beat;
use crate::shared::Shared;

/// Most chosen slots applied in one transaction (one fsync).
pub const SLOTS_PER_WRITE_MAX: usize = 64;

/// What consensus hands the applier, in order.
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
pub fn run(
    shared: Arc<Shared>,
    chosen: Receiver<Chosen>,
    applied: watch::Sender<Slot>,
    applied_at_start: Slot,
    installer: Installer,
    beat: Beat,
) {
    let cluster = shared.cluster.as_ref().expect("applier runs in replicated mode");
    let mut last: Slot = 0;
    // An install that arrived behind a group of slots, taken after them.
    let mut stashed: Option<Chosen> = None;
    while beat.beat() {
        let first = match stashed.take() {
            Some(next) => next,
            None => match chosen.recv_timeout(crate::health::idle_wait()) {
                Ok(next) => next,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            },
        };
        let mut group = match first {
            Chosen::Install(snapshot) => {
                let Some(upto) = installer.install(&snapshot) else { return };
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
                publish(&shared, last, &applied);
                if cluster.inputs.send(Input::SnapshotInstalled { upto_slot: upto }).is_err() {
                    return;
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
        // The first Config of the group, recorded with the applied slot.
        let mut config: Option<AppliedConfig> = None;
        for (slot, command) in group {
            assert!(slot > last, "slots are applied in order (slot {slot} after {last})");
            last = slot;
            if slot <= applied_at_start {
                continue;
            }
            match command {
                Command::Batch(batch) => match BatchPayload::decode(&batch.bytes) {
                    Ok(payload) => {
                        // Crash-fault model: the leader verified every signature
                        // before proposing, and every replica applies the same bytes.
                        let candidates: Vec<VerifiedTransfer> =
                            payload.transfers.into_iter().map(VerifiedTransfer::assume_verified).collect();
                        batch_ids.push((batch.id.0, candidates.iter().map(|c| c.get().id()).collect::<Vec<_>>()));
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
                Command::Config(c) => {
                    config.get_or_insert(AppliedConfig { slot, members: c.members });
                }
                // Nothing to apply; the slot is still recorded.
                Command::Noop => {}
            }
        }
        if last <= applied_at_start {
            continue;
        }
        let outcomes = match write_blocks(&shared, inputs, Some(last), config.as_ref()) {
            Ok(o) => o,
            Err(ids) => {
                let failed: std::collections::HashSet<_> = ids.into_iter().collect();
                for (batch_id, ids) in batch_ids {
                    if let Some(p) = cluster.pending.take(batch_id) {
                        assert!(ids.iter().all(|id| failed.contains(id)));
                        answer(p.replies, ids.into_iter().map(|id| SubmitOutcome::Failed { id }).collect());
                    }
                }
                return;
            }
        };
        assert_eq!(outcomes.len(), batch_ids.len(), "one result per applied batch");
        for ((batch_id, ids), outcomes) in batch_ids.into_iter().zip(outcomes) {
            if let Some(p) = cluster.pending.take(batch_id) {
                assert_eq!(p.ids, ids, "a pending batch id maps to the transfers it was proposed with");
                answer(p.replies, outcomes);
            }
        }
        publish(&shared, last, &applied);
    }
}

/// Tells the rest of the node that the ledger durably applied `last`: the
/// snapshot point first (it must never lag the applied watch, which bounds
/// compaction), then the watch readers wait on.
pub fn publish(shared: &Shared, last: Slot, applied: &watch::Sender<Slot>) {
    let cluster = shared.cluster.as_ref().expect("replicated mode");
    let (height, head_hash) = {
        let ledger = shared.ledger.read().expect("ledger lock");
        (ledger.head().height, ledger.head_hash())
    };
    let mut point = cluster.snapshot_point.write().expect("snapshot point lock");
    // The configuration never changes once recorded (membership is fixed),
    // so the store is read only until it has one.
    let config = match &point.config {
        Some(config) => Some(config.clone()),
        None => shared.store.applied_config().ok().flatten(),
    };
    *point = SnapshotDescriptor { last_slot: last, height, head_hash, source: cluster.node_id, config };
    let _ = applied.send(last);
}
