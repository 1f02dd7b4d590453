//! Turns waiting client requests into proposals: one batch per proposal, with
//! the timestamp every replica will put in the block.

use std::sync::Arc;
use std::time::Instant;

use rand::RngCore;
use synod_core::batch::BatchPayload;
use synod_paxos::{Batch, BatchId, Command};

use super::pending::PendingBatch;
use super::Input;
use crate::committer::{answer, split, Batcher, NextBatch, SubmitOutcome};
use crate::health::Beat;
use crate::shared::Shared;

/// Batches proposed but not yet applied (or failed) before the proposer waits.
pub const PROPOSALS_IN_FLIGHT_MAX: usize = 4;

pub fn run(shared: Arc<Shared>, mut batcher: Batcher, beat: Beat) {
    let cluster = shared.cluster.as_ref().expect("proposer runs in replicated mode");
    let mut rng = rand::rngs::OsRng;
    while beat.beat() {
        // Few proposals in flight: while they commit, requests pile up in the
        // queue and the next proposal takes them all. Proposing every request
        // at once would make one slot (two fsyncs per node) per request.
        cluster.pending.wait_below(PROPOSALS_IN_FLIGHT_MAX, std::time::Duration::from_millis(100));
        let batch = match batcher.next_batch() {
            NextBatch::Batch(batch) => batch,
            NextBatch::Idle => continue,
            NextBatch::Stopped => break,
        };
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
