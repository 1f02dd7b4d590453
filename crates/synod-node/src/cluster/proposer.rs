//! Turns waiting client requests into proposals: one batch per proposal, with
//! the timestamp every replica will put in the block.

use std::sync::Arc;
use std::time::Instant;

use rand::RngCore;
use synod_core::batch::BatchPayload;
use synod_paxos::{Batch, BatchId, Command};

use super::pending::PendingBatch;
use super::Input;
use crate::committer::{answer, split, Batcher, SubmitOutcome};
use crate::shared::Shared;

pub fn run(shared: Arc<Shared>, mut batcher: Batcher) {
    let cluster = shared.cluster.as_ref().expect("proposer runs in replicated mode");
    let mut rng = rand::rngs::OsRng;
    while let Some(batch) = batcher.next_batch() {
        let (candidates, replies) = split(batch);
        let ids: Vec<_> = candidates.iter().map(|c| c.get().id()).collect();
        let payload = BatchPayload {
            timestamp_ms: super::consensus::wall_clock_ms(),
            transfers: candidates.into_iter().map(|c| c.into_inner()).collect(),
        };
        // Random ids: unique across nodes and restarts, so an old batch re-chosen
        // after a leader change can never answer a new request.
        let batch_id = rng.next_u64();
        let command = Command::Batch(Batch { id: BatchId(batch_id), bytes: payload.encode() });
        cluster.pending.insert(batch_id, PendingBatch { ids: ids.clone(), replies, proposed_at: Instant::now() });
        shared.metrics.proposals.inc();
        if cluster.inputs.try_send(Input::Propose { request_id: batch_id, command }).is_err() {
            if let Some(p) = cluster.pending.take(batch_id) {
                let outcomes = ids
                    .iter()
                    .map(|id| SubmitOutcome::Unavailable {
                        id: *id,
                        code: "overloaded",
                        message: "consensus is saturated; retry shortly".into(),
                    })
                    .collect();
                answer(p.replies, outcomes);
            }
        }
    }
}
