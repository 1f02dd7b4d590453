//! Proposer, Phase 2, and the leader's duties: pipelined proposals,
//! retransmission, heartbeats (commit propagation), check-quorum and the
//! read index.
//!
//! The leader assigns consecutive slots; up to `inflight_slots_max` slots
//! may await a quorum at once. A slot is chosen when a quorum (the leader's
//! own acceptor included, once its entry is durable) sent `Accepted` for the
//! leader's ballot. The commit index, the highest slot below which every slot
//! is chosen, rides on every `Accept` and `Heartbeat`.
//!
//! Read index: a read arriving at the leader gets index `next_slot - 1` (every
//! slot that could have been chosen before the read arrived) and the number
//! of the next heartbeat round. It is served once a quorum acknowledged that
//! round or a later one (so no higher ballot had been promised by a quorum
//! when the read arrived) and the applied index reached the read index. No
//! clock is trusted, so clock drift does not matter.
//!
//! Check-quorum: a leader that has not heard from a quorum within
//! `election_timeout_max_ms` steps down, so clients get redirected rather
//! than wait on a cut-off leader.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::ballot::{Ballot, NodeId, Slot};
use crate::command::{ClusterConfig, Command, MEMBERS_MAX};
use crate::error::{ProposeError, ReadError, ReconfigError};
use crate::event::Action;
use crate::message::Body;
use crate::validate::Refusal;

use super::{Choice, Replica, Role};

#[derive(Clone, Debug)]
pub(crate) struct Inflight {
    pub command: Command,
    /// The configuration governing this slot as the leader proposed it
    /// (the last `Config` below it, chosen or proposed): the slot is
    /// chosen when a quorum of it accepted.
    pub voters: ClusterConfig,
    pub acks: BTreeSet<NodeId>,
    pub sent_ms: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct PeerProgress {
    pub last_ack_ms: u64,
    pub ack_seq: u64,
    /// The highest commit index the peer acknowledged (heartbeats), if any:
    /// how far a learner got.
    pub commit_index: Option<Slot>,
}

#[derive(Clone, Debug)]
pub(crate) struct PendingRead {
    pub request_id: u64,
    pub index: Slot,
    pub seq: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct LeaderState {
    pub ballot: Ballot,
    pub next_slot: Slot,
    pub inflight: BTreeMap<Slot, Inflight>,
    pub heartbeat_due_ms: u64,
    pub heartbeat_seq: u64,
    pub peers: BTreeMap<NodeId, PeerProgress>,
    pub reads: VecDeque<PendingRead>,
    /// The slot of a proposed membership change not yet chosen: nothing is
    /// proposed beyond it until it is (crate docs, "Reconfiguration").
    pub config_change: Option<Slot>,
}

impl LeaderState {
    pub fn new(ballot: Ballot, next_slot: Slot, now_ms: u64, peers: &[NodeId]) -> LeaderState {
        assert!(next_slot > 0);
        LeaderState {
            ballot,
            next_slot,
            inflight: BTreeMap::new(),
            heartbeat_due_ms: now_ms,
            heartbeat_seq: 0,
            peers: peers
                .iter()
                .map(|p| (*p, PeerProgress { last_ack_ms: now_ms, ack_seq: 0, commit_index: None }))
                .collect(),
            reads: VecDeque::new(),
            config_change: None,
        }
    }
}

impl Replica {
    pub(super) fn propose_new(&mut self, command: Command) -> Result<Slot, ProposeError> {
        let commit_index = self.commit_index;
        let limit = self.opts.limits.inflight_slots_max;
        let Role::Leader(leader) = &mut self.role else {
            return Err(ProposeError::NotLeader { leader_hint: self.leader.map(|(id, _)| id) });
        };
        if let Some(slot) = leader.config_change {
            // The configuration governing the next slot is not known yet.
            return Err(ProposeError::ConfigChangePending { slot });
        }
        let inflight = leader.next_slot - 1 - commit_index;
        if inflight >= limit {
            return Err(ProposeError::TooManyInflight { limit });
        }
        // A leader whose own state machine lags `apply_ahead_max` chosen
        // slots behind takes no more: its log would grow without bound.
        if commit_index - self.applied_reported >= self.opts.limits.apply_ahead_max {
            return Err(ProposeError::TooManyInflight { limit });
        }
        let slot = leader.next_slot;
        leader.next_slot += 1;
        self.propose_at(slot, command);
        Ok(slot)
    }

    /// May this leader propose `proposed` now? Checked before
    /// `propose_new`, which refuses anything while a change is in flight.
    pub(super) fn check_config_proposal(&self, proposed: &ClusterConfig) -> Result<(), ProposeError> {
        let Role::Leader(leader) = &self.role else {
            return Err(ProposeError::NotLeader { leader_hint: self.leader.map(|(id, _)| id) });
        };
        let refuse = |e| Err(ProposeError::Reconfig(e));
        if let Some(slot) = leader.config_change {
            return refuse(ReconfigError::ChangeInProgress { slot });
        }
        if proposed.members.len() > MEMBERS_MAX {
            return refuse(ReconfigError::TooManyMembers { size: proposed.members.len(), max: MEMBERS_MAX });
        }
        if !proposed.is_well_formed() {
            return refuse(ReconfigError::InvalidMembers);
        }
        let current = self.proposal_config(leader.next_slot);
        if current.distance(proposed) > 1 && !self.opts.bugs.reconfig_unsafe {
            return refuse(ReconfigError::NotSingleStep {
                current: current.members.clone(),
                proposed: proposed.members.clone(),
            });
        }
        for added in proposed.members.iter().filter(|m| !current.contains(**m) && **m != self.id) {
            let acked = leader.peers.get(added).and_then(|p| p.commit_index);
            let lag_max = self.opts.limits.learner_lag_slots_max;
            if acked.is_none_or(|a| a.saturating_add(lag_max) < self.commit_index) {
                return refuse(ReconfigError::LearnerNotCaughtUp {
                    node: *added,
                    acked,
                    commit_index: self.commit_index,
                });
            }
        }
        Ok(())
    }

    /// The configuration governing `slot` as this leader sees it: the last
    /// `Config` at a slot below it, chosen (committed or merely learned) or
    /// proposed by this leader.
    pub(super) fn proposal_config(&self, slot: Slot) -> ClusterConfig {
        let (mut best_slot, mut best) = match self.configs.range(..slot).next_back() {
            Some((s, c)) => (*s, c),
            None => (0, self.config_for(slot)),
        };
        let learned = self.log.range(self.commit_index + 1..slot).rev().find_map(|(s, c)| c.config().map(|c| (*s, c)));
        if let Some((s, c)) = learned.filter(|(s, _)| *s > best_slot) {
            (best_slot, best) = (s, c);
        }
        if let Role::Leader(leader) = self.role_unless_unsafe() {
            let proposed = leader.inflight.range(..slot).rev().find_map(|(s, i)| i.command.config().map(|c| (*s, c)));
            if let Some((_, c)) = proposed.filter(|(s, _)| *s > best_slot) {
                best = c;
            }
        }
        best.clone()
    }

    /// The role, or (injected bug `reconfig_unsafe`) none: proposals beyond
    /// an unchosen change are counted against the configuration before it.
    fn role_unless_unsafe(&self) -> &Role {
        if self.opts.bugs.reconfig_unsafe {
            &Role::Follower
        } else {
            &self.role
        }
    }

    /// The first proposal of a leader whose log has no configuration yet:
    /// `Config(bootstrap)` in the next free slot, outside the client
    /// pipeline limit (it is one slot, once per cluster in the common case).
    pub(super) fn propose_bootstrap_config(&mut self) {
        assert!(self.config().1.is_none(), "the log already chose a configuration");
        let command = Command::Config(self.latest_config().clone());
        let Role::Leader(leader) = &mut self.role else { unreachable!("proposing without leading") };
        let slot = leader.next_slot;
        leader.next_slot += 1;
        self.propose_at(slot, command);
    }

    /// Phase 2a for one slot, to every member including ourselves.
    pub(super) fn propose_at(&mut self, slot: Slot, command: Command) {
        let commit_index = self.commit_index;
        let now_ms = self.now_ms;
        let voters = self.proposal_config(slot);
        let Role::Leader(leader) = &mut self.role else { unreachable!("proposing without leading") };
        assert!(slot > commit_index && slot < leader.next_slot);
        let ballot = leader.ballot;
        if command.config().is_some_and(|c| !c.same_members(&voters)) && !self.opts.bugs.reconfig_unsafe {
            // A membership change: the slots after it wait until it is
            // chosen. Re-proposals in `become_leader` come in slot order, so
            // the highest one stays.
            leader.config_change = Some(slot);
        }
        let members = voters.members.clone();
        let inflight = Inflight { command: command.clone(), voters, acks: BTreeSet::new(), sent_ms: now_ms };
        let previous = leader.inflight.insert(slot, inflight);
        assert!(previous.is_none(), "slot {slot} proposed twice in ballot {ballot}");
        for member in members {
            self.send(member, Body::Accept { ballot, slot, command: command.clone(), commit_index });
        }
    }

    pub(super) fn on_accepted(&mut self, from: NodeId, ballot: Ballot, slot: Slot) {
        let now_ms = self.now_ms;
        let short = usize::from(self.opts.bugs.choose_without_quorum);
        let Role::Leader(leader) = &mut self.role else { return };
        if leader.ballot != ballot {
            return;
        }
        if let Some(peer) = leader.peers.get_mut(&from) {
            peer.last_ack_ms = now_ms;
        }
        let Some(inflight) = leader.inflight.get_mut(&slot) else { return };
        if !inflight.voters.contains(from) {
            // A learner's or a removed member's vote counts for nothing here.
            return;
        }
        inflight.acks.insert(from);
        if inflight.acks.len() + short >= inflight.voters.quorum() {
            let inflight = leader.inflight.remove(&slot).expect("present");
            if self.opts.record_choices {
                let choice = Choice { slot, ballot, acks: inflight.acks.clone(), voters: inflight.voters.clone() };
                self.choices.push(choice);
            }
            if self.log.get(&slot).is_some_and(|known| *known != inflight.command) {
                // A quorum accepted our value where a peer had told us
                // another one was chosen: Paxos rules this out among honest
                // members, so one of them lied. Keep what we knew and report
                // it; the assertion in `learn_chosen` stays for our own
                // paths.
                self.actions.push(Action::MessageRefused { from, reason: Refusal::ChosenConflict });
                return;
            }
            self.learn_chosen(slot, inflight.command);
            self.advance_commit();
        }
    }

    pub(super) fn tick_leader(&mut self) {
        let now_ms = self.now_ms;
        let Role::Leader(leader) = &self.role else { unreachable!() };
        // Check-quorum first: a cut-off leader should not keep heartbeating.
        let window = self.opts.timing.election_timeout_max_ms;
        let voters = self.proposal_config(leader.next_slot);
        let heard: BTreeSet<NodeId> = leader
            .peers
            .iter()
            .filter(|(id, p)| now_ms.saturating_sub(p.last_ack_ms) < window && voters.contains(**id))
            .map(|(id, _)| *id)
            .chain(std::iter::once(self.id))
            .collect();
        if !voters.is_quorum(&heard) {
            self.set_role_follower();
            return;
        }
        if now_ms >= leader.heartbeat_due_ms {
            self.heartbeat_round();
        }
        self.retransmit();
    }

    pub(super) fn heartbeat_round(&mut self) {
        let commit_index = self.commit_index;
        let due = self.now_ms + self.opts.timing.heartbeat_interval_ms;
        let Role::Leader(leader) = &mut self.role else { unreachable!() };
        leader.heartbeat_seq += 1;
        leader.heartbeat_due_ms = due;
        let (ballot, seq) = (leader.ballot, leader.heartbeat_seq);
        for peer in self.peers() {
            self.send(peer, Body::Heartbeat { ballot, commit_index, seq });
        }
    }

    fn retransmit(&mut self) {
        let now_ms = self.now_ms;
        let interval = self.opts.timing.retransmit_interval_ms;
        let per_peer_max = self.opts.limits.retransmit_per_tick_max;
        let commit_index = self.commit_index;
        let Role::Leader(leader) = &mut self.role else { unreachable!() };
        let ballot = leader.ballot;
        let mut sent_per_peer: BTreeMap<NodeId, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for (slot, inflight) in leader.inflight.iter_mut() {
            if now_ms.saturating_sub(inflight.sent_ms) < interval {
                continue;
            }
            inflight.sent_ms = now_ms;
            for member in &inflight.voters.members {
                let sent = sent_per_peer.entry(*member).or_insert(0);
                if inflight.acks.contains(member) || *sent >= per_peer_max {
                    continue;
                }
                *sent += 1;
                out.push((
                    *member,
                    Body::Accept { ballot, slot: *slot, command: inflight.command.clone(), commit_index },
                ));
            }
        }
        for (to, body) in out {
            self.send(to, body);
        }
    }

    pub(super) fn on_heartbeat_ack(&mut self, from: NodeId, ballot: Ballot, seq: u64, commit_index: Slot) {
        self.note_commit_hint(from, commit_index);
        let now_ms = self.now_ms;
        let Role::Leader(leader) = &mut self.role else { return };
        if leader.ballot != ballot {
            return;
        }
        // Validated: `from` is a member of a configuration we know, or a
        // learner; bounded by `NodeId`'s range.
        let peer =
            leader.peers.entry(from).or_insert(PeerProgress { last_ack_ms: now_ms, ack_seq: 0, commit_index: None });
        peer.last_ack_ms = now_ms;
        peer.ack_seq = peer.ack_seq.max(seq);
        peer.commit_index = peer.commit_index.max(Some(commit_index));
        self.serve_reads();
    }

    pub(super) fn read_index(&mut self, request_id: u64) -> Result<(), ReadError> {
        let limit = self.opts.limits.pending_reads_max;
        let Role::Leader(leader) = &mut self.role else {
            return Err(ReadError::NotLeader { leader_hint: self.leader.map(|(id, _)| id) });
        };
        if leader.reads.len() >= limit {
            return Err(ReadError::TooManyPending { limit });
        }
        let read = PendingRead { request_id, index: leader.next_slot - 1, seq: leader.heartbeat_seq + 1 };
        if let Some(last) = leader.reads.back() {
            assert!(last.seq <= read.seq && last.index <= read.index);
        }
        leader.reads.push_back(read);
        self.heartbeat_round();
        Ok(())
    }

    /// Answers every pending read whose leadership round a quorum confirmed
    /// and whose index is applied. Reads queue in (seq, index) order.
    pub(super) fn serve_reads(&mut self) {
        let applied_index = self.applied_index;
        let Role::Leader(leader) = &self.role else { return };
        let voters = self.proposal_config(leader.next_slot);
        let id = self.id;
        let Role::Leader(leader) = &mut self.role else { return };
        while let Some(read) = leader.reads.front() {
            let acked = leader.peers.iter().filter(|(_, p)| p.ack_seq >= read.seq).map(|(id, _)| id);
            let confirmed: BTreeSet<NodeId> = acked.copied().chain(std::iter::once(id)).collect();
            if !voters.is_quorum(&confirmed) || applied_index < read.index {
                break;
            }
            let read = leader.reads.pop_front().expect("front exists");
            self.actions.push(Action::ReadReady { request_id: read.request_id, index: read.index });
        }
    }
}
