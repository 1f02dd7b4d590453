//! The committer: the single writer. It drains submitted transfers, has the
//! ledger core build a block from them, makes the block durable (one fsync for
//! the whole block: group commit), and only then answers every submitter.
//!
//! Batching needs no timer: while one block's fsync runs, new submissions pile
//! up in the queue, and the next block takes them all (up to the block limit).

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use synod_core::ledger::TransferPosition;
use synod_core::{RejectReason, TransferId, VerifiedTransfer};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use synod_storage::{AppliedConfig, BlockWrite, WriteDurability};

use crate::health::Beat;
use crate::shared::Shared;

/// What became of one submitted transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Durable in block `position.height`. `duplicate`: it had been committed
    /// before this submission (idempotent resubmission).
    Committed {
        id: TransferId,
        position: TransferPosition,
        duplicate: bool,
    },
    Rejected {
        id: TransferId,
        reason: RejectReason,
    },
    /// The node's storage failed; the transfer may or may not be durable.
    Failed {
        id: TransferId,
    },
    /// Replicated mode: the proposal lost its slot (leader change) or timed
    /// out; the transfer may or may not commit later. Resubmitting is safe
    /// (idempotent).
    Unavailable {
        id: TransferId,
        code: &'static str,
        message: String,
    },
}

pub struct Submission {
    pub transfers: Vec<VerifiedTransfer>,
    pub reply: oneshot::Sender<Vec<SubmitOutcome>>,
    /// Released when the committer is done with the submission.
    pub permit: OwnedSemaphorePermit,
}

/// What the committer's inbox carries.
pub enum Message {
    Submit(Submission),
    /// Finish what came before, then exit (node shutdown). Needed because the
    /// committer itself holds the shared state that holds the sender.
    Stop,
}

/// The committer's bounded inbox.
#[derive(Clone)]
pub struct SubmitQueue(SyncSender<Message>);

#[derive(Debug, PartialEq, Eq)]
pub enum EnqueueError {
    Full,
    Stopped,
}

impl SubmitQueue {
    pub fn new(capacity: usize) -> (Self, Receiver<Message>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        (SubmitQueue(tx), rx)
    }

    /// Never blocks: a full queue is the caller's 503.
    pub fn try_submit(&self, s: Submission) -> Result<(), EnqueueError> {
        self.0.try_send(Message::Submit(s)).map_err(|e| match e {
            TrySendError::Full(_) => EnqueueError::Full,
            TrySendError::Disconnected(_) => EnqueueError::Stopped,
        })
    }

    /// Asks the committer to stop after the work queued before this; blocks while the queue is full.
    pub fn stop(&self) {
        let _ = self.0.send(Message::Stop);
    }
}

/// Cuts the inbox into batches of at most `block_transfers_max` transfers and
/// at most [`BATCH_RECORD_BYTES_MAX`] bytes of records: every request waiting
/// now (plus, with a linger, those arriving within it).
pub struct Batcher {
    inbox: Receiver<Message>,
    stopping: bool,
    block_transfers_max: usize,
    linger: Duration,
    /// A submission that did not fit in the previous batch.
    carried: Option<Submission>,
}

pub struct Committer {
    shared: Arc<Shared>,
    batcher: Batcher,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Committer {
    pub fn new(shared: Arc<Shared>, inbox: Receiver<Message>, block_transfers_max: usize, linger: Duration) -> Self {
        Committer { shared, batcher: Batcher::new(inbox, block_transfers_max, linger) }
    }

    /// Builds, persists and answers one block. Returns false if the node must halt.
    fn commit(&mut self, batch: Vec<Submission>) -> bool {
        let (candidates, replies) = split(batch);
        match write_block(&self.shared, now_ms(), candidates, None) {
            Ok(outcomes) => {
                answer(replies, outcomes);
                true
            }
            Err(ids) => {
                answer(replies, ids.into_iter().map(|id| SubmitOutcome::Failed { id }).collect());
                false
            }
        }
    }

    /// Runs until the node stops, fails, or its storage fails (which fails
    /// the node: `write_blocks`).
    pub fn run(mut self, beat: Beat) {
        while beat.beat() {
            match self.batcher.next_batch() {
                NextBatch::Batch(batch) => {
                    if !self.commit(batch) {
                        return;
                    }
                }
                NextBatch::Idle => {}
                NextBatch::Stopped => return,
            }
        }
    }
}

/// Most bytes of transfer records in one batch: a block of them, with its
/// header and its encoding's counts, stays within the block byte limit, and
/// followers refuse a batch above it (`BatchPayload::decode`). Only
/// multi-signature records can reach it before the count limit does. One
/// request alone cannot exceed it (`api::transfers::parse_body` checks).
pub const BATCH_RECORD_BYTES_MAX: usize = synod_core::limits::BLOCK_RECORD_BYTES_MAX;

/// Bytes of records of one submission.
fn record_bytes(s: &Submission) -> usize {
    s.transfers.iter().map(|t| t.get().record_len()).sum()
}

impl Batcher {
    pub fn new(inbox: Receiver<Message>, block_transfers_max: usize, linger: Duration) -> Self {
        assert!(block_transfers_max >= 1);
        Batcher { inbox, stopping: false, block_transfers_max, linger, carried: None }
    }

    /// The next submission, unless none came within `wait` (`None`: one beat
    /// interval), the inbox is closed or a stop was received.
    fn receive(&mut self, wait: Option<Duration>) -> Received {
        if self.stopping {
            return Received::Stopped;
        }
        let wait = wait.unwrap_or_else(crate::health::idle_wait);
        let message = if wait.is_zero() {
            match self.inbox.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => return Received::Empty,
                Err(TryRecvError::Disconnected) => return self.stop(),
            }
        } else {
            match self.inbox.recv_timeout(wait) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => return Received::Empty,
                Err(RecvTimeoutError::Disconnected) => return self.stop(),
            }
        };
        match message {
            Message::Submit(s) => Received::Got(s),
            Message::Stop => self.stop(),
        }
    }

    fn stop(&mut self) -> Received {
        self.stopping = true;
        Received::Stopped
    }

    /// The next batch; `Idle` when nothing arrived within one beat interval
    /// (the caller beats and asks again).
    pub fn next_batch(&mut self) -> NextBatch {
        let first = match self.carried.take() {
            Some(s) => s,
            None => match self.receive(None) {
                Received::Got(s) => s,
                Received::Empty => return NextBatch::Idle,
                Received::Stopped => return NextBatch::Stopped,
            },
        };
        let mut count = first.transfers.len();
        let mut bytes = record_bytes(&first);
        let mut batch = vec![first];
        let deadline = Instant::now() + self.linger;
        while count < self.block_transfers_max {
            let Received::Got(next) = self.receive(Some(deadline.saturating_duration_since(Instant::now()))) else {
                break;
            };
            let next_bytes = record_bytes(&next);
            if count + next.transfers.len() > self.block_transfers_max || bytes + next_bytes > BATCH_RECORD_BYTES_MAX {
                self.carried = Some(next);
                break;
            }
            count += next.transfers.len();
            bytes += next_bytes;
            batch.push(next);
        }
        assert!((count <= self.block_transfers_max && bytes <= BATCH_RECORD_BYTES_MAX) || batch.len() == 1);
        NextBatch::Batch(batch)
    }
}

enum Received {
    Got(Submission),
    Empty,
    Stopped,
}

/// What `Batcher::next_batch` found.
pub enum NextBatch {
    Batch(Vec<Submission>),
    /// Nothing waiting for one beat interval.
    Idle,
    /// The inbox closed or a stop was received.
    Stopped,
}

/// A batch's transfers, and where each request's answers go.
pub type Replies = Vec<(oneshot::Sender<Vec<SubmitOutcome>>, OwnedSemaphorePermit, usize)>;

pub fn split(batch: Vec<Submission>) -> (Vec<VerifiedTransfer>, Replies) {
    let mut replies = Vec::with_capacity(batch.len());
    let mut candidates = Vec::with_capacity(batch.iter().map(|s| s.transfers.len()).sum());
    for s in batch {
        replies.push((s.reply, s.permit, s.transfers.len()));
        candidates.extend(s.transfers);
    }
    (candidates, replies)
}

/// Hands each request its slice of the outcomes, in order.
pub fn answer(replies: Replies, outcomes: Vec<SubmitOutcome>) {
    let total: usize = replies.iter().map(|r| r.2).sum();
    assert_eq!(total, outcomes.len(), "one outcome per submitted transfer");
    let mut rest = outcomes.into_iter();
    for (reply, permit, size) in replies {
        let mine: Vec<SubmitOutcome> = rest.by_ref().take(size).collect();
        // The submitter may have gone away (wait=false, or a dropped connection).
        let _ = reply.send(mine);
        drop(permit);
    }
}

/// Applies `candidates` as the next block and makes it durable (with the log
/// slot it came from, in replicated mode). Returns one outcome per candidate,
/// or, if storage failed, their ids: the node is then halted.
pub fn write_block(
    shared: &Shared,
    timestamp_ms: u64,
    candidates: Vec<VerifiedTransfer>,
    slot: Option<u64>,
) -> Result<Vec<SubmitOutcome>, Vec<TransferId>> {
    // The single node has no consensus log: this write is the only durable
    // record of the block, so it is fsynced before any client is answered.
    write_blocks(shared, vec![(slot, timestamp_ms, candidates)], slot, None, None, WriteDurability::Fsync)
        .map(|mut all| all.pop().expect("one input"))
}

/// Applies each input `(log slot, timestamp, candidates)` as the next block,
/// in order, and makes all of them durable in ONE fsynced transaction (with
/// each block's slot and the last applied log slot, in replicated mode): a
/// group of ready slots costs one fsync. Returns the outcomes per input, or,
/// if storage failed, every candidate's id: the node is then halted.
pub fn write_blocks(
    shared: &Shared,
    inputs: Vec<(Option<u64>, u64, Vec<VerifiedTransfer>)>,
    slot: Option<u64>,
    config: Option<&AppliedConfig>,
    addresses: Option<&synod_storage::applied_config::AppliedAddresses>,
    durability: WriteDurability,
) -> Result<Vec<Vec<SubmitOutcome>>, Vec<TransferId>> {
    let (slots, built): (Vec<Option<u64>>, Vec<_>) = {
        let mut ledger = shared.ledger.write().expect("ledger lock");
        inputs
            .into_iter()
            .map(|(slot, timestamp_ms, candidates)| (slot, ledger.build_block(timestamp_ms, candidates)))
            .unzip()
    };
    let fsync_started = Instant::now();
    // Each block records the slot that made it: a snapshot chunk carries it
    // so that a receiver knows which slot each prefix of the ledger reflects.
    let blocks: Vec<BlockWrite<'_>> = built
        .iter()
        .zip(&slots)
        .filter_map(|(b, slot)| b.block.as_ref().map(|block| BlockWrite { block, touched: &b.touched, slot: *slot }))
        .collect();
    // Every slot is recorded, even one that made no block (a Noop, or a batch
    // whose transfers were all refused): after log compaction a restarted node
    // must resume exactly after the last slot it applied. An applied
    // configuration (and the members' addresses) go into the same
    // transaction (the latest wins).
    let stored = if blocks.is_empty() && slot.is_none() {
        Ok(())
    } else {
        shared.store.append_group_with_members(&blocks, slot, config, addresses, durability)
    };
    if let Err(e) = stored {
        // The in-memory ledger is now ahead of the disk: continuing would
        // answer from state that a restart would not have. Stop writing.
        // Fail-stop: a member must not vote or lead on a ledger it cannot write.
        tracing::error!(error = %e, "storage failed; halting writes");
        shared.fail(format!("block write failed: {e}"));
        return Err(built.iter().flat_map(|b| b.outcomes.iter().map(|o| o.id)).collect());
    }
    let fsync_seconds = fsync_started.elapsed().as_secs_f64();
    let m = &shared.metrics;
    for BlockWrite { block, .. } in &blocks {
        m.blocks_committed.inc();
        m.transfers_committed.inc_by(block.transfers.len() as u64);
        m.batch_transfers.observe(block.transfers.len() as f64);
    }
    if !blocks.is_empty() {
        m.block_fsync_seconds.observe(fsync_seconds);
    }
    // Transfers committed anywhere in the group, for duplicates within it.
    let in_group: std::collections::HashMap<TransferId, TransferPosition> = built
        .iter()
        .flat_map(|b| b.outcomes.iter().filter_map(|o| o.result.as_ref().ok().map(|p| (o.id, *p))))
        .collect();
    Ok(built
        .into_iter()
        .map(|b| {
            let rejected = b.outcomes.iter().filter(|o| o.result.is_err()).count();
            m.transfers_rejected.inc_by(rejected as u64);
            b.outcomes
                .into_iter()
                .map(|o| match o.result {
                    Ok(position) => SubmitOutcome::Committed { id: o.id, position, duplicate: false },
                    Err(reason) => resolve_rejection(shared, o.id, reason, &in_group),
                })
                .collect()
        })
        .collect())
}

/// A transfer whose nonce is already used may simply be committed already:
/// resubmitting it is idempotent and reports the first outcome.
fn resolve_rejection(
    shared: &Shared,
    id: TransferId,
    reason: RejectReason,
    in_block: &std::collections::HashMap<TransferId, TransferPosition>,
) -> SubmitOutcome {
    if let RejectReason::BadNonce { expected, got } = reason {
        if got < expected {
            if let Some(position) = in_block.get(&id) {
                return SubmitOutcome::Committed { id, position: *position, duplicate: true };
            }
            match shared.store.position(&id) {
                Ok(Some(position)) => return SubmitOutcome::Committed { id, position, duplicate: true },
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "transfer index read failed"),
            }
        }
    }
    SubmitOutcome::Rejected { id, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(permits: &Arc<tokio::sync::Semaphore>) -> (Submission, oneshot::Receiver<Vec<SubmitOutcome>>) {
        let (reply, rx) = oneshot::channel();
        let permit = permits.clone().try_acquire_many_owned(1).unwrap();
        (Submission { transfers: Vec::new(), reply, permit }, rx)
    }

    #[test]
    fn the_queue_refuses_beyond_its_capacity_and_after_the_committer_is_gone() {
        let permits = Arc::new(tokio::sync::Semaphore::new(10));
        let (queue, inbox) = SubmitQueue::new(2);
        assert!(queue.try_submit(submission(&permits).0).is_ok());
        assert!(queue.try_submit(submission(&permits).0).is_ok());
        assert_eq!(queue.try_submit(submission(&permits).0).err(), Some(EnqueueError::Full));
        drop(inbox);
        assert_eq!(queue.try_submit(submission(&permits).0).err(), Some(EnqueueError::Stopped));
    }

    #[test]
    fn the_transfer_permits_bound_what_waits() {
        let permits = Arc::new(tokio::sync::Semaphore::new(3));
        let held = permits.clone().try_acquire_many_owned(3).unwrap();
        assert!(permits.clone().try_acquire_many_owned(1).is_err(), "no permit beyond the bound");
        drop(held);
        assert!(permits.clone().try_acquire_many_owned(3).is_ok(), "permits return when the committer is done");
    }
}
