//! Group commit of the acceptor's state: take every `Persist` op waiting, write
//! them in one fsynced redb transaction, report the highest token.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;

use synod_paxos::{PersistOp, PersistToken};

use super::Input;
use crate::health::Beat;
use crate::shared::Shared;

/// Most ops written in one transaction.
const OPS_PER_COMMIT_MAX: usize = 4_096;

/// `urgent`: the consensus thread's urgent channel (`consensus::Inbox`);
/// `inputs`: its bulk queue, only to wake it.
pub fn run(
    shared: Arc<Shared>,
    ops: Receiver<(PersistToken, PersistOp)>,
    urgent: SyncSender<PersistToken>,
    inputs: SyncSender<Input>,
    beat: Beat,
) {
    let mut durable: PersistToken = 0;
    while beat.beat() {
        let first = match ops.recv_timeout(crate::health::idle_wait()) {
            Ok(first) => first,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < OPS_PER_COMMIT_MAX {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let last = batch.last().expect("non-empty").0;
        assert!(batch.windows(2).all(|w| w[1].0 == w[0].0 + 1), "persist tokens arrive in order without gaps");
        assert_eq!(batch[0].0, durable + 1, "no token is skipped");
        let ops: Vec<PersistOp> = batch.into_iter().map(|(_, op)| op).collect();
        let started = std::time::Instant::now();
        let result = match beat.storage_fault() {
            Some(injected) => Err(injected.to_string()),
            None => shared.store.persist_paxos(&ops).map_err(|e| e.to_string()),
        };
        shared.metrics.paxos_fsync_seconds.observe(started.elapsed().as_secs_f64());
        if let Err(e) = result {
            // Without durable promises this node must not vote again:
            // fail-stop, which ends the consensus thread too (no votes, no
            // heartbeats as leader).
            tracing::error!(error = %e, "paxos log write failed; the node fails");
            shared.fail(format!("paxos log write failed: {e}"));
            return;
        }
        durable = last;
        // The acknowledgement goes on the urgent channel, never behind peer
        // messages; the wake-up may be dropped when the bulk queue is full,
        // since the consensus thread is busy then and reads the urgent
        // channel first at its next turn.
        if urgent.send(last).is_err() {
            return;
        }
        let _ = inputs.try_send(Input::Wake);
    }
}
