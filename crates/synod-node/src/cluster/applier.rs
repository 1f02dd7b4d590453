//! Applies chosen slots to the ledger, in slot order, and answers the clients
//! whose batch a slot carried.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use synod_core::batch::BatchPayload;
use synod_core::VerifiedTransfer;
use synod_paxos::{Command, Slot};
use tokio::sync::watch;

use crate::committer::{answer, write_block, SubmitOutcome};
use crate::shared::Shared;

/// `applied_at_start`: the slot the durable ledger had applied when the node
/// started; the replica re-delivers earlier slots, which are skipped.
pub fn run(
    shared: Arc<Shared>,
    chosen: Receiver<(Slot, Command)>,
    applied: watch::Sender<Slot>,
    applied_at_start: Slot,
) {
    let cluster = shared.cluster.as_ref().expect("applier runs in replicated mode");
    let mut last: Slot = 0;
    while let Ok((slot, command)) = chosen.recv() {
        assert!(slot > last, "slots are applied in order (slot {slot} after {last})");
        last = slot;
        if slot <= applied_at_start {
            continue;
        }
        let Command::Batch(batch) = command else {
            // Noop or Config: nothing to apply, but the slot is recorded (see write_block).
            if write_block(&shared, 0, Vec::new(), Some(slot)).is_err() {
                return;
            }
            let _ = applied.send(slot);
            continue;
        };
        {
            let payload = match BatchPayload::decode(&batch.bytes) {
                Ok(p) => p,
                Err(e) => {
                    // Every replica decodes the same bytes and skips the same slot.
                    tracing::error!(slot, error = %e, "chosen batch does not decode; skipped");
                    cluster.pending.fail(batch.id.0, "invalid_batch", "the batch did not decode");
                    let _ = applied.send(slot);
                    continue;
                }
            };
            // Crash-fault model: the leader verified every signature before
            // proposing, and every replica applies the same bytes.
            let candidates: Vec<VerifiedTransfer> =
                payload.transfers.into_iter().map(VerifiedTransfer::assume_verified).collect();
            let ids: Vec<_> = candidates.iter().map(|c| c.get().id()).collect();
            let outcomes = match write_block(&shared, payload.timestamp_ms, candidates, Some(slot)) {
                Ok(o) => o,
                Err(ids) => {
                    if let Some(p) = cluster.pending.take(batch.id.0) {
                        answer(p.replies, ids.into_iter().map(|id| SubmitOutcome::Failed { id }).collect());
                    }
                    return;
                }
            };
            if let Some(p) = cluster.pending.take(batch.id.0) {
                assert_eq!(p.ids, ids, "a pending batch id maps to the transfers it was proposed with");
                answer(p.replies, outcomes);
            }
        }
        let _ = applied.send(slot);
    }
}
