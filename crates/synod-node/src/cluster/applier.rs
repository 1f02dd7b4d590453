//! Applies chosen slots to the ledger, in slot order, and answers the clients
//! whose batch a slot carried.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use synod_core::batch::BatchPayload;
use synod_core::VerifiedTransfer;
use synod_paxos::{Command, Slot};
use tokio::sync::watch;

use crate::committer::{answer, write_blocks, SubmitOutcome};
use crate::shared::Shared;

/// `applied_at_start`: the slot the durable ledger had applied when the node
/// started; the replica re-delivers earlier slots, which are skipped.
/// Most chosen slots applied in one transaction (one fsync).
pub const SLOTS_PER_WRITE_MAX: usize = 64;

pub fn run(
    shared: Arc<Shared>,
    chosen: Receiver<(Slot, Command)>,
    applied: watch::Sender<Slot>,
    applied_at_start: Slot,
) {
    let cluster = shared.cluster.as_ref().expect("applier runs in replicated mode");
    let mut last: Slot = 0;
    while let Ok(first) = chosen.recv() {
        // Every slot that is ready now goes into the same write.
        let mut group = vec![first];
        while group.len() < SLOTS_PER_WRITE_MAX {
            match chosen.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut inputs = Vec::with_capacity(group.len());
        let mut batch_ids = Vec::with_capacity(group.len());
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
                // Noop or Config: nothing to apply; the slot is still recorded.
                Command::Noop | Command::Config(_) => {}
            }
        }
        if last <= applied_at_start {
            continue;
        }
        let outcomes = match write_blocks(&shared, inputs, Some(last)) {
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
        let _ = applied.send(last);
    }
}
