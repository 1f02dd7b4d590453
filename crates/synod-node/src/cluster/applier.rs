//! Applies chosen slots to the ledger, in slot order, and answers the clients
//! whose batch a slot carried; installs the snapshots consensus hands it, in
//! the same order (`install.rs`), so the ledger has a single writer.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use synod_core::batch::BatchPayload;
use synod_core::verify_many;
use synod_core::{AuthMode, RejectReason, SignedTransfer, TransferId, VerifiedTransfer};
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
    let verify_threads = verify_thread_count();
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
        let written = match beat.storage_fault() {
            // Test-only: the write fails as `write_blocks` reports a failed
            // write (the node FAILED, every transfer of the group unwritten).
            Some(injected) => {
                shared.fail(format!("block write failed: {injected}"));
                Err(batch_ids.iter().flat_map(|(_, ids, _)| ids.iter().copied()).collect())
            }
            None => write_blocks(&shared, inputs, Some(last), config.as_ref()),
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
                return;
            }
        };
        assert_eq!(outcomes.len(), batch_ids.len(), "one result per applied batch");
        for ((batch_id, ids, refused), outcomes) in batch_ids.into_iter().zip(outcomes) {
            shared.metrics.transfers_rejected.inc_by(refused.len() as u64);
            let outcomes = merge_refused(&ids, refused, outcomes);
            if let Some(p) = cluster.pending.take(batch_id) {
                assert_eq!(p.ids, ids, "a pending batch id maps to the transfers it was proposed with");
                answer(p.replies, outcomes);
            }
        }
        publish(&shared, last, &applied);
    }
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
