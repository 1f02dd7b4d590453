//! Client requests waiting for their batch to be applied, keyed by batch id.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use synod_core::TransferId;

use crate::committer::{answer, Replies, SubmitOutcome};

pub struct PendingBatch {
    pub ids: Vec<TransferId>,
    pub replies: Replies,
    pub proposed_at: Instant,
}

/// Bounded by the consensus inputs bound and the queued-transfers semaphore:
/// every entry holds permits for its transfers.
#[derive(Default)]
pub struct Pending {
    batches: Mutex<HashMap<u64, PendingBatch>>,
    /// Signalled whenever a batch leaves (applied, failed or expired).
    left: Condvar,
}

impl Pending {
    pub fn insert(&self, batch_id: u64, batch: PendingBatch) {
        let previous = self.batches.lock().expect("pending lock").insert(batch_id, batch);
        assert!(previous.is_none(), "batch ids are unique");
    }

    pub fn take(&self, batch_id: u64) -> Option<PendingBatch> {
        let taken = self.batches.lock().expect("pending lock").remove(&batch_id);
        if taken.is_some() {
            self.left.notify_all();
        }
        taken
    }

    /// Blocks until fewer than `max` batches are pending (or `timeout` passed).
    pub fn wait_below(&self, max: usize, timeout: Duration) {
        let batches = self.batches.lock().expect("pending lock");
        let _unused = self.left.wait_timeout_while(batches, timeout, |b| b.len() >= max).expect("pending lock");
    }

    /// Answers a batch that will not be applied by this proposal.
    pub fn fail(&self, batch_id: u64, code: &'static str, message: &str) {
        if let Some(b) = self.take(batch_id) {
            let outcomes = b
                .ids
                .iter()
                .map(|id| SubmitOutcome::Unavailable { id: *id, code, message: message.to_string() })
                .collect();
            answer(b.replies, outcomes);
        }
    }

    /// Answers batches older than `timeout` as unknown: a leader change may have
    /// dropped them, or they may still commit; a retry is safe either way.
    pub fn expire(&self, timeout: Duration) {
        let expired: Vec<u64> = {
            let batches = self.batches.lock().expect("pending lock");
            batches.iter().filter(|(_, b)| b.proposed_at.elapsed() > timeout).map(|(id, _)| *id).collect()
        };
        for id in expired {
            self.fail(
                id,
                "commit_unknown",
                "the batch was not committed in time (leader change?); resubmitting is safe",
            );
        }
    }

    pub fn len(&self) -> usize {
        self.batches.lock().expect("pending lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
