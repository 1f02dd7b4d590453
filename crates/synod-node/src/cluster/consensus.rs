//! The consensus thread: the only owner of the replica. It turns inputs into
//! `Replica::step` calls and routes the actions; it never waits on disk or
//! network (every channel it sends on is non-blocking, and the replica's own
//! limits bound what it emits).
//!
//! The apply channel is bounded: the replica hands out at most
//! `Limits::apply_ahead_max` slots beyond what the applier reported applied
//! (its `applied` watch, fed back here as `Event::Applied`), plus at most one
//! install, so the channel is sized for that and a full one is our bug.
//!
//! Peer messages are checked twice before any handler sees them: here, the
//! snapshot descriptor an `InstallSnapshot` carries (`refusals.rs`), then
//! every field by the replica's validator. Each refusal is counted, logged at
//! a bounded rate and scored against the peer, which is banned from the
//! transport past a threshold.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use synod_paxos::{
    Action, Body, Event, Message, NodeId, PersistOp, PersistToken, ProposeError, Replica, Slot, Snapshot,
};
use tokio::sync::oneshot;

use super::applier::Chosen;
use super::refusals::{check_descriptor, PeerRefusal, RefusalScorer, REFUSAL_BAN_MS};
use super::{role_name, PROPOSAL_TIMEOUT_MS};
use crate::health::Beat;
use crate::shared::Shared;
use crate::transport::Transport;

/// Tick period of the replica's timers.
pub const TICK_MS: u64 = 10;

/// Capacity of the urgent channel (persister → consensus `Persisted`
/// tokens). The consensus thread empties it at every turn, so the persister,
/// which sends one token per fsync, blocks on it only if consensus stalls.
pub const URGENT_INPUTS_MAX: usize = 64;

pub enum Input {
    Net(Message),
    /// A peer message the transport task dropped before it got here (its
    /// `from` was not the authenticated peer).
    Refused {
        peer: NodeId,
        reason: PeerRefusal,
    },
    Persisted(PersistToken),
    Propose {
        request_id: u64,
        command: synod_paxos::Command,
    },
    /// Linearizable read: answered with the slot the ledger must have applied.
    Read {
        reply: oneshot::Sender<Result<Slot, String>>,
    },
    /// Compact the log up to this slot (`compaction.rs` chose it; the ledger
    /// must durably hold it, which the consensus thread checks again).
    Compact {
        upto_slot: Slot,
    },
    /// The applier finished (or gave up) installing a snapshot; the ledger
    /// durably holds every slot up to `upto_slot`.
    SnapshotInstalled {
        upto_slot: Slot,
    },
    /// Something arrived on the urgent channel (`Inbox`): wakes a consensus
    /// thread that waits on this queue. Carries nothing; dropped when the
    /// queue is full (the thread is busy then and reads the urgent channel
    /// at its next turn anyway).
    Wake,
    /// A node joins as a learner (`POST /v1/cluster/members`): the
    /// transport reaches it and the replica treats it as a learner.
    AddLearner {
        address: synod_paxos::MemberAddress,
    },
    RemoveLearner {
        node: NodeId,
    },
    /// Propose a membership change; answered with the slot it was proposed
    /// at, or why the replica refused it.
    Reconfigure {
        book: synod_paxos::MemberBook,
        reply: oneshot::Sender<Result<Slot, ProposeError>>,
    },
    Stop,
}

/// The consensus thread's two input queues. Timers and `Persisted`
/// acknowledgements must not wait behind bulk work: up to
/// `CONSENSUS_INPUTS_MAX` peer messages and proposals may be queued, and a
/// leader whose heartbeats or durable acks wait behind them loses its
/// leadership. So each turn of the loop first takes every urgent input, then
/// fires the tick if it is due, and only then takes one input from the bulk
/// queue.
pub struct Inbox {
    /// `Persisted` tokens from the persister, bounded by `URGENT_INPUTS_MAX`.
    pub urgent: Receiver<PersistToken>,
    /// Everything else, bounded by `CONSENSUS_INPUTS_MAX`.
    pub inputs: Receiver<Input>,
}

impl Inbox {
    /// The highest `Persisted` token waiting (tokens are cumulative: token
    /// t means every op up to t is durable), taking at most
    /// `URGENT_INPUTS_MAX` so a turn stays bounded.
    pub fn take_persisted(&self) -> Option<PersistToken> {
        let mut highest: Option<PersistToken> = None;
        for _ in 0..URGENT_INPUTS_MAX {
            match self.urgent.try_recv() {
                Ok(token) => {
                    assert!(highest.is_none_or(|h| token > h), "persist tokens are reported in order");
                    highest = Some(token);
                }
                Err(_) => break,
            }
        }
        highest
    }

    /// One bulk input, waiting at most `wait`.
    pub fn next_input(&self, wait: Duration) -> Result<Input, RecvTimeoutError> {
        self.inputs.recv_timeout(wait)
    }
}

/// How far the log may be compacted now: what was asked, but never past
/// the ledger's applied slot (the watch and the replica's view) nor past its
/// *durable* state (the store's durable applied slot and the snapshot point,
/// which only moves to durable heads). The ledger's writes are deferred
/// (`applier.rs`): a crash rebuilds the slots above the durable applied slot
/// from this log, so they must still be in it.
pub fn compaction_limit(
    requested: Slot,
    applied_watch: Slot,
    replica_applied: Slot,
    snapshot_slot: Slot,
    durable_slot: Slot,
) -> Slot {
    requested.min(applied_watch).min(replica_applied).min(snapshot_slot).min(durable_slot)
}

pub fn wall_clock_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub struct Consensus {
    pub shared: Arc<Shared>,
    pub replica: Replica,
    pub inbox: Inbox,
    pub transport: Arc<Transport<Message>>,
    pub persist: Sender<(PersistToken, PersistOp)>,
    /// Bounded: `apply_ahead_max + 1` (see the module docs).
    pub apply: SyncSender<Chosen>,
    pub refusals: RefusalScorer,
    pub peers: super::membership::PeerChanges,
    /// Membership proposals waiting for `Proposed` or `ProposeRejected`
    /// (at most a few: the API handles one change at a time per request).
    pub reconfigs: HashMap<u64, oneshot::Sender<Result<Slot, ProposeError>>>,
}

/// Request ids of membership proposals have the top bit set; batch ids are
/// random, so the map is consulted first.
const RECONFIG_REQUEST_BIT: u64 = 1 << 63;

/// Capacity of the consensus → applier channel for a replica with these
/// limits: every `Apply` not yet reported applied, plus one install.
pub fn apply_channel_capacity(limits: &synod_paxos::Limits) -> usize {
    usize::try_from(limits.apply_ahead_max).expect("apply_ahead_max fits in memory").saturating_add(1)
}

impl Consensus {
    pub fn run(mut self, beat: Beat) {
        let shared = self.shared.clone();
        let cluster = shared.cluster.as_ref().expect("consensus runs in replicated mode");
        let start = Instant::now();
        let mut rng = rand_chacha::ChaCha8Rng::from_entropy();
        let mut reads: HashMap<u64, oneshot::Sender<Result<Slot, String>>> = HashMap::new();
        let mut next_read_id: u64 = 1;
        let mut next_reconfig_id: u64 = 1;
        let mut last_tick = Instant::now();
        let tick = Duration::from_millis(TICK_MS);
        // A failed node stops here: no votes, no leadership, no heartbeats.
        while beat.beat() {
            let mut actions = Vec::new();
            // 1. Durable acknowledgements first: they release the accepts and
            //    promises the replica holds back.
            if let Some(token) = self.inbox.take_persisted() {
                let now_ms = start.elapsed().as_millis() as u64;
                actions.extend(self.replica.step(now_ms, Event::Persisted(token), &mut rng));
            }
            // 2. The tick (heartbeats, election timers) before any bulk input.
            if last_tick.elapsed() >= tick {
                last_tick = Instant::now();
                let now_ms = start.elapsed().as_millis() as u64;
                actions.extend(self.replica.step(now_ms, Event::Tick, &mut rng));
                cluster.pending.expire(Duration::from_millis(PROPOSAL_TIMEOUT_MS));
            }
            // 3. One bulk input; no wait when this turn already has work.
            let wait = if actions.is_empty() { tick.saturating_sub(last_tick.elapsed()) } else { Duration::ZERO };
            let event = match self.inbox.next_input(wait) {
                Ok(Input::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(Input::Net(m)) => match self.check_snapshot_descriptor(&m) {
                    Ok(()) => Some(Event::Receive(m)),
                    Err(reason) => {
                        self.refused(m.from, reason, start.elapsed().as_millis() as u64);
                        None
                    }
                },
                Ok(Input::Refused { peer, reason }) => {
                    self.refused(peer, reason, start.elapsed().as_millis() as u64);
                    None
                }
                Ok(Input::Persisted(t)) => Some(Event::Persisted(t)),
                Ok(Input::Propose { request_id, command }) => Some(Event::Propose { request_id, command }),
                Ok(Input::Read { reply }) => {
                    let id = next_read_id;
                    next_read_id += 1;
                    reads.insert(id, reply);
                    Some(Event::ReadIndex { request_id: id })
                }
                Ok(Input::Compact { upto_slot }) => {
                    let snapshot_slot = cluster.snapshot_point.read().expect("snapshot point lock").last_slot;
                    let upto = compaction_limit(
                        upto_slot,
                        *cluster.applied.borrow(),
                        self.replica.applied_index(),
                        snapshot_slot,
                        shared.store.durable_applied_slot(),
                    );
                    (upto > self.replica.compacted_upto()).then_some(Event::Compact { upto_slot: upto })
                }
                Ok(Input::SnapshotInstalled { upto_slot }) => Some(Event::SnapshotInstalled { upto_slot }),
                Ok(Input::Wake) | Err(RecvTimeoutError::Timeout) => None,
                Ok(Input::AddLearner { address }) => {
                    let node = address.id;
                    self.peers.add_learner(cluster, &self.transport, address);
                    Some(Event::AddLearner { node })
                }
                Ok(Input::RemoveLearner { node }) => {
                    self.peers.remove_learner(node);
                    Some(Event::RemoveLearner { node })
                }
                Ok(Input::Reconfigure { book, reply }) => {
                    let request_id = RECONFIG_REQUEST_BIT | next_reconfig_id;
                    next_reconfig_id += 1;
                    self.reconfigs.insert(request_id, reply);
                    Some(Event::Propose { request_id, command: synod_paxos::Command::Members(book) })
                }
            };
            self.peers.expire(cluster, &self.transport, Instant::now());
            let now_ms = start.elapsed().as_millis() as u64;
            if let Some(event) = event {
                actions.extend(self.replica.step(now_ms, event, &mut rng));
            }
            // Flow control: the applier's progress frees room for more
            // applies (the watch may run ahead during an install).
            let applied = (*cluster.applied.borrow()).min(self.replica.applied_index());
            if applied > self.replica.applied_reported() {
                actions.extend(self.replica.step(now_ms, Event::Applied { upto_slot: applied }, &mut rng));
            }
            // An action may call for an event at once (a snapshot a peer
            // asked for); those are fed before anything else.
            let mut actions: VecDeque<Action> = actions.into();
            while let Some(action) = actions.pop_front() {
                if let Some(event) = self.execute(action, &mut reads, now_ms) {
                    actions.extend(self.replica.step(now_ms, event, &mut rng));
                }
            }
            let mut status = cluster.status.write().expect("status lock");
            status.role = role_name(self.replica.role());
            let leader = self.replica.leader_hint();
            if leader != status.leader {
                log_leader_change(cluster.node_id, leader, self.replica.promised());
                self.shared.metrics.leader_changes.inc();
                self.shared.metrics.is_leader.set(i64::from(leader == Some(cluster.node_id)));
            }
            status.leader = leader;
            status.peer_commit_index = self.replica.peer_commit_indexes();
            status.ballot = self.replica.promised().to_string();
            status.commit_index = self.replica.commit_index();
            status.applied_index = *cluster.applied.borrow();
            status.durable_applied_index = shared.store.durable_applied_slot();
            status.elections_started = self.replica.stats().elections_started;
            status.elections_won = self.replica.stats().elections_won;
            status.compacted_upto = self.replica.compacted_upto();
            status.installing = self.replica.installing();
            status.snapshots_installed = self.replica.stats().snapshots_installed;
            let (config, config_slot) = self.replica.config();
            if status.config.slot != config_slot {
                status.config = super::ConfigStatus { members: config.members.clone(), slot: config_slot };
            }
            let m = &self.shared.metrics;
            m.record_elections(status.elections_started, status.elections_won);
            m.commit_index.set(status.commit_index as i64);
            m.applied_index.set(status.applied_index as i64);
        }
    }

    /// Routes one action; returns the event it calls for at once, if any.
    fn execute(
        &mut self,
        action: Action,
        reads: &mut HashMap<u64, oneshot::Sender<Result<Slot, String>>>,
        now_ms: u64,
    ) -> Option<Event> {
        let cluster = self.shared.cluster.as_ref().expect("replicated mode");
        match action {
            Action::Persist { token, op } => {
                let _ = self.persist.send((token, op));
            }
            Action::Send(message) => {
                // Dropped when the peer's queue is full: the replica retransmits.
                let _ = self.transport.send(message.to, message);
            }
            Action::Apply { slot, command } => {
                if let synod_paxos::Command::Members(book) = &command {
                    self.peers.applied(cluster, &self.transport, book, Instant::now());
                }
                self.hand_to_applier(Chosen::Apply { slot, command })
            }
            Action::Proposed { request_id, slot } => {
                if let Some(reply) = self.reconfigs.remove(&request_id) {
                    let _ = reply.send(Ok(slot));
                }
            }
            Action::ProposeRejected { request_id, error } if self.reconfigs.contains_key(&request_id) => {
                if let Some(reply) = self.reconfigs.remove(&request_id) {
                    let _ = reply.send(Err(error));
                }
            }
            Action::ProposeRejected { request_id, error } => {
                let code = match error {
                    ProposeError::NotLeader { .. } => "not_leader",
                    ProposeError::TooManyInflight { .. } => "overloaded",
                    _ => "proposal_rejected",
                };
                cluster.pending.fail(request_id, code, &error.to_string());
            }
            Action::ReadReady { request_id, index } => {
                if let Some(reply) = reads.remove(&request_id) {
                    let _ = reply.send(Ok(index));
                }
            }
            Action::ReadRejected { request_id, error } => {
                if let Some(reply) = reads.remove(&request_id) {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
            Action::RoleChanged { role, ballot } => {
                tracing::info!(node = cluster.node_id, role = role_name(role), %ballot, "role changed");
            }
            Action::SnapshotNeeded { to } => {
                // The snapshot is a pointer to this node's durable ledger; the
                // peer pulls the blocks itself (api/snapshot.rs). While this
                // node installs one itself its ledger runs ahead of the
                // replica: it then sends nothing and the peer asks again.
                let point = cluster.snapshot_point.read().expect("snapshot point lock").clone();
                let usable =
                    point.last_slot >= self.replica.compacted_upto() && point.last_slot <= self.replica.applied_index();
                if usable {
                    let snapshot = Snapshot { last_slot: point.last_slot, bytes: point.encode(), config: None };
                    return Some(Event::SnapshotReady { to, snapshot });
                }
                tracing::debug!(peer = to, slot = point.last_slot, "no snapshot to offer right now");
            }
            Action::InstallSnapshot { snapshot } => {
                tracing::info!(node = cluster.node_id, slot = snapshot.last_slot, "installing a snapshot");
                self.hand_to_applier(Chosen::Install(snapshot));
            }
            Action::MessageRefused { from, reason } => {
                self.refused(from, PeerRefusal::Paxos(reason), now_ms);
            }
        }
        None
    }

    fn hand_to_applier(&self, chosen: Chosen) {
        match self.apply.try_send(chosen) {
            // Disconnected: the applier stopped on a storage failure and the
            // node is halting; nothing more will be applied anyway.
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                panic!("apply channel full: the replica handed out more than apply_ahead_max slots")
            }
        }
    }

    /// The node's own check in front of the replica: an `InstallSnapshot`
    /// must carry a valid descriptor of a snapshot at its `last_slot`, held
    /// by a member other than us.
    fn check_snapshot_descriptor(&self, message: &Message) -> Result<(), PeerRefusal> {
        let Body::InstallSnapshot { snapshot } = &message.body else { return Ok(()) };
        let members = &self.replica.config().0.members;
        check_descriptor(&snapshot.bytes, snapshot.last_slot, self.replica.id(), members).map(|_| ())
    }

    /// Counts, logs (rate-limited) and scores one refused message from `peer`.
    fn refused(&mut self, peer: NodeId, reason: PeerRefusal, now_ms: u64) {
        let labels = crate::metrics::RefusalLabels { peer, reason: reason.as_str() };
        self.shared.metrics.peer_messages_refused.get_or_create(&labels).inc();
        let verdict = self.refusals.record(peer, reason, now_ms);
        if let Some(suppressed) = verdict.log_with_suppressed {
            tracing::warn!(
                peer,
                reason = reason.as_str(),
                suppressed,
                "refused a peer message (faulty or malicious member)"
            );
        }
        if verdict.ban {
            tracing::warn!(peer, ban_ms = REFUSAL_BAN_MS, "too many refused messages: disconnecting the peer");
            self.transport.ban(peer, Instant::now() + Duration::from_millis(REFUSAL_BAN_MS));
        }
    }
}

/// One info line per change of the leader this node follows, on every
/// member (role changes alone name only ballots): what an operator reading
/// one node's log needs to know who leads.
fn log_leader_change(node_id: NodeId, leader: Option<NodeId>, ballot: synod_paxos::Ballot) {
    match leader {
        Some(leader) if leader == node_id => tracing::info!(node = node_id, %ballot, "this node is now the leader"),
        Some(leader) => tracing::info!(node = node_id, leader, %ballot, "leader is now node {leader}"),
        None => tracing::info!(node = node_id, %ballot, "no leader known (election under way)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persisted_acks_are_taken_before_a_full_bulk_queue() {
        let (inputs_tx, inputs_rx) = std::sync::mpsc::sync_channel(1_000);
        let (urgent_tx, urgent_rx) = std::sync::mpsc::sync_channel(URGENT_INPUTS_MAX);
        for slot in 0..1_000 {
            inputs_tx.try_send(Input::Compact { upto_slot: slot }).unwrap();
        }
        // The bulk queue is full: a wake-up is dropped, the ack is not.
        assert!(matches!(inputs_tx.try_send(Input::Wake), Err(TrySendError::Full(_))));
        urgent_tx.send(5).unwrap();
        urgent_tx.send(9).unwrap();
        let inbox = Inbox { urgent: urgent_rx, inputs: inputs_rx };
        // One turn takes every waiting ack (the highest counts) before any
        // of the 1,000 bulk inputs.
        assert_eq!(inbox.take_persisted(), Some(9));
        assert_eq!(inbox.take_persisted(), None);
        assert!(matches!(inbox.next_input(Duration::ZERO), Ok(Input::Compact { upto_slot: 0 })));
    }

    #[test]
    fn a_turn_takes_at_most_the_urgent_capacity() {
        let (_inputs_tx, inputs_rx) = std::sync::mpsc::sync_channel(1);
        let (urgent_tx, urgent_rx) = std::sync::mpsc::sync_channel(URGENT_INPUTS_MAX + 1);
        for token in 1..=(URGENT_INPUTS_MAX as u64 + 1) {
            urgent_tx.send(token).unwrap();
        }
        let inbox = Inbox { urgent: urgent_rx, inputs: inputs_rx };
        assert_eq!(inbox.take_persisted(), Some(URGENT_INPUTS_MAX as u64));
        assert_eq!(inbox.take_persisted(), Some(URGENT_INPUTS_MAX as u64 + 1));
    }

    #[test]
    fn compaction_never_passes_the_durable_applied_slot() {
        // The ledger shows slot 900 applied, but only 640 is durable: the
        // slots above 640 are what a restart replays from the log.
        assert_eq!(compaction_limit(900, 900, 900, 640, 700), 640);
        assert_eq!(compaction_limit(900, 900, 900, 900, 640), 640);
        assert_eq!(compaction_limit(500, 900, 900, 900, 900), 500);
        assert_eq!(compaction_limit(900, 900, 800, 900, 900), 800);
    }
}
