//! Proposer, Phase 1: leader election (Lamport, "Paxos Made Simple" §2.2
//! and §3 for the multi-slot form).
//!
//! A follower that hears no leader before its randomised deadline becomes a
//! candidate: it picks a ballot above every round it has seen, promises it to
//! itself durably, and only then sends `Prepare { ballot, from_slot }` where
//! `from_slot` is its first unchosen slot. With promises from a quorum it
//! becomes leader and, for every slot from `from_slot` to the highest slot
//! any promise reported, re-proposes: the known chosen value if any, else the
//! value of the highest-ballot accepted entry, else `Noop`.
//!
//! Livelock is avoided by (a) randomised deadlines, (b) a growing random
//! backoff after each failed election, (c) `Nack`s carrying the higher
//! ballot so the loser steps down at once, and (d) leader stickiness in the
//! acceptor (a replica hearing a live leader ignores newcomers' Prepares).
//!
//! Pre-vote (Raft thesis §9.6, etcd's `PreVote`): a deadline does not start
//! an election directly. The node first asks every member whether it would
//! promise the ballot it is about to use (`PreVote { ballot, commit_index }`).
//! A member grants only if the ballot is above its promise, it has not heard
//! a live leader within the minimum election timeout (it leads, or follows a
//! leader heard that recently: the lease-like condition of the thesis), and
//! the asker's commit index is not behind its own. Nobody raises, persists
//! or records anything for a pre-vote; only with grants from a quorum
//! (itself included) does the node `campaign`. So a node cut off from the
//! cluster keeps its ballot where it was, however long it is away, and when
//! it returns the leader's next heartbeat finds nothing higher to step down
//! for. Without this, each of its deadlines raised its durable promise by a
//! round and its first `Nack` after healing deposed a healthy leader.

use std::collections::{BTreeMap, BTreeSet};

use crate::ballot::{Ballot, NodeId, Slot};
use crate::command::{ClusterConfig, Command};
use crate::event::{Action, RoleKind};
use crate::message::{Body, PromiseEntry};

use super::leader::LeaderState;
use super::{Replica, Role};

/// A pre-vote round in progress: the ballot asked about and who would
/// grant it.
#[derive(Clone, Debug)]
pub(crate) struct PreVoteState {
    pub ballot: Ballot,
    pub granted_by: BTreeSet<NodeId>,
}

#[derive(Clone, Debug)]
pub(crate) struct CandidateState {
    pub ballot: Ballot,
    pub from_slot: Slot,
    pub promised_by: BTreeSet<NodeId>,
    /// Per slot, the entry Phase 1 would adopt so far.
    pub merged: BTreeMap<Slot, PromiseEntry>,
    /// Who got our `Prepare`: the members of the configuration at our
    /// commit point, then those of every configuration a promise reported
    /// (crate docs, "Reconfiguration", Phase 1 across configurations).
    pub prepared: BTreeSet<NodeId>,
}

impl CandidateState {
    /// The configurations whose quorums must promise: the one governing
    /// `from_slot`, and every `Config` Phase 1 would re-propose at a slot
    /// `>= from_slot` (it may govern the slots above it).
    pub fn needed_configs(&self, at_commit: &ClusterConfig, old_only: bool) -> Vec<ClusterConfig> {
        let mut needed = vec![at_commit.clone()];
        if !old_only {
            for entry in self.merged.values() {
                if let Some(config) = entry.command.config() {
                    if !needed.contains(config) {
                        needed.push(config.clone());
                    }
                }
            }
        }
        needed
    }

    /// Phase 1 is complete: a quorum of every needed configuration promised.
    pub fn complete(&self, at_commit: &ClusterConfig, old_only: bool) -> bool {
        self.needed_configs(at_commit, old_only).iter().all(|c| c.is_quorum(&self.promised_by))
    }
}

impl Replica {
    /// The election deadline fired: ask for pre-votes. The timer is redrawn,
    /// so a round that gathers no quorum is simply asked again (with the
    /// backoff of failed elections) at the next deadline.
    pub(super) fn start_prevote(&mut self) {
        assert!(!self.damaged);
        assert!(!matches!(self.role, Role::Leader(_)));
        // The ballot `campaign` would pick now; it may pick a higher one if
        // replies teach us a higher round meanwhile.
        let highest = Ballot::new(self.promised.round.max(self.max_round_seen), self.id);
        let Some(ballot) = highest.next_for(self.id) else {
            return;
        };
        self.stats.prevotes_started += 1;
        self.redraw_timer = true;
        self.prevote = Some(PreVoteState { ballot, granted_by: BTreeSet::from([self.id]) });
        let commit_index = self.commit_index;
        for peer in self.peers() {
            self.send(peer, Body::PreVote { ballot, commit_index });
        }
    }

    /// A member's answer to a pre-vote: reads state, changes none of it.
    pub(super) fn on_prevote(&mut self, from: NodeId, ballot: Ballot, commit_index: Slot) {
        // A node that does not know it was added (or re-added) learns here
        // that someone got further; catching up may make it a member.
        self.note_commit_hint(from, commit_index);
        // A damaged replica cannot vouch for promises, so it would not
        // answer the Prepare either.
        let granted =
            !self.damaged && ballot > self.promised && !self.leader_is_alive() && commit_index >= self.commit_index;
        self.send(from, Body::PreVoteReply { ballot, granted, promised: self.promised });
    }

    pub(super) fn on_prevote_reply(&mut self, from: NodeId, ballot: Ballot, granted: bool, promised: Ballot) {
        // A refusal may carry a higher promise: the next round asks above it.
        self.observe_round(promised);
        let Some(prevote) = &mut self.prevote else { return };
        if prevote.ballot != ballot || !granted {
            return;
        }
        prevote.granted_by.insert(from);
        let granted_by = prevote.granted_by.clone();
        if !self.latest_config().is_quorum(&granted_by) {
            return;
        }
        self.prevote = None;
        // Heard a live leader since asking (or became one): no election.
        if self.damaged || self.installing.is_some() || self.leader_is_alive() {
            return;
        }
        self.campaign();
    }

    pub(super) fn campaign(&mut self) {
        assert!(!self.damaged);
        assert!(!matches!(self.role, Role::Leader(_)));
        // Checked: rounds from peers are at most `ROUND_MAX` (validate.rs),
        // so this fails only if our own durable promise reached it.
        let highest = Ballot::new(self.promised.round.max(self.max_round_seen), self.id);
        let Some(ballot) = highest.next_for(self.id) else {
            return;
        };
        assert!(ballot > self.promised);
        let from_slot = self.commit_index + 1;
        self.prevote = None;
        self.stats.elections_started += 1;
        let mut prepared: BTreeSet<NodeId> = self.peers().into_iter().collect();
        prepared.insert(self.id);
        self.role = Role::Candidate(CandidateState {
            ballot,
            from_slot,
            promised_by: BTreeSet::new(),
            merged: BTreeMap::new(),
            prepared,
        });
        self.leader = None;
        self.redraw_timer = true;
        self.actions.push(Action::RoleChanged { role: RoleKind::Candidate, ballot });
        // Our own promise first: the Prepares below are held until it is
        // durable, so a restarted replica can never reuse this ballot.
        self.raise_promise(ballot);
        for peer in self.peers() {
            self.send_durable(peer, Body::Prepare { ballot, from_slot });
        }
        // Our own acceptor gets the Prepare like any other member.
        self.send_durable(self.id, Body::Prepare { ballot, from_slot });
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        from_slot: Slot,
        entries: Vec<PromiseEntry>,
        truncated: bool,
        compacted_upto: Slot,
        commit_index: Slot,
    ) {
        self.note_commit_hint(from, commit_index.max(compacted_upto));
        let ours = matches!(&self.role, Role::Candidate(c) if c.ballot == ballot);
        if !ours {
            return;
        }
        // Entries are validated increasing and >= from_slot. One far above
        // from_slot would have us re-propose every slot in between (Noops
        // for the gaps): a span no honest pipeline leaves. Catch up instead.
        let span_max =
            (self.opts.limits.promise_entries_max as u64).saturating_add(self.opts.limits.inflight_slots_max);
        let too_wide = entries.last().is_some_and(|last| last.slot - from_slot > span_max);
        if truncated || too_wide || compacted_upto >= from_slot {
            // This acceptor holds more than a promise can carry, or already
            // compacted slots we have not learned: we are too far behind to
            // lead. Catch up first, then try again at the next deadline.
            self.set_role_follower();
            self.fetch_from(from);
            return;
        }
        let Role::Candidate(candidate) = &mut self.role else { unreachable!() };
        assert_eq!(candidate.from_slot, from_slot);
        if !candidate.promised_by.insert(from) {
            return;
        }
        for entry in entries {
            assert!(entry.slot >= from_slot, "promise entry below from_slot");
            let better = match candidate.merged.get(&entry.slot) {
                None => true,
                Some(existing) => {
                    if existing.chosen && entry.chosen {
                        assert_eq!(existing.command, entry.command, "two chosen values for slot {}", entry.slot);
                    }
                    if !existing.chosen
                        && !entry.chosen
                        && existing.ballot == entry.ballot
                        && entry.ballot != Ballot::ZERO
                    {
                        assert_eq!(
                            existing.command, entry.command,
                            "two values in ballot {} for slot {}",
                            entry.ballot, entry.slot
                        );
                    }
                    !existing.chosen && (entry.chosen || entry.ballot > existing.ballot)
                }
            };
            if better {
                candidate.merged.insert(entry.slot, entry);
            }
        }
        // A promise may report a Config that can govern later slots: its
        // members must promise too (crate docs, "Reconfiguration").
        let at_commit = self.config_for(from_slot).clone();
        let old_only = self.opts.bugs.reconfig_unsafe;
        let Role::Candidate(candidate) = &mut self.role else { unreachable!() };
        let mut newly = Vec::new();
        for config in candidate.needed_configs(&at_commit, old_only) {
            for member in config.members {
                if candidate.prepared.insert(member) {
                    newly.push(member);
                }
            }
        }
        let complete = candidate.complete(&at_commit, old_only);
        for member in newly {
            self.send_durable(member, Body::Prepare { ballot, from_slot });
        }
        if complete {
            self.become_leader();
        }
    }

    pub(super) fn on_nack(&mut self, from: NodeId, ballot: Ballot, promised: Ballot, slot: Slot, commit_index: Slot) {
        self.observe_round(promised);
        self.note_commit_hint(from, commit_index);
        let own = match &self.role {
            Role::Leader(leader) => Some(leader.ballot),
            Role::Candidate(candidate) => Some(candidate.ballot),
            Role::Follower => None,
        };
        if own == Some(ballot) && promised > ballot {
            if self.is_leader() {
                // A working leader met a higher promise, typically left by a
                // node that campaigned while cut off. Followers still treat
                // us as their live leader, so re-running Phase 1 at once with
                // a higher ballot keeps the cluster from a leaderless gap.
                self.set_role_follower();
                self.campaign();
            } else {
                // We lost an election: back off so the winner gets a clear run.
                self.failed_elections += 1;
                self.set_role_follower();
            }
        }
        if slot != 0 && slot <= commit_index {
            // Our proposal hit a compacted slot: learn it by catching up.
            self.fetch_from(from);
        }
    }

    fn become_leader(&mut self) {
        let Role::Candidate(candidate) = std::mem::replace(&mut self.role, Role::Follower) else { unreachable!() };
        assert!(candidate.complete(self.config_for(candidate.from_slot), self.opts.bugs.reconfig_unsafe));
        assert_eq!(self.promised, candidate.ballot, "won with a ballot we no longer hold");
        let ballot = candidate.ballot;
        let last_slot = candidate.merged.keys().next_back().copied().unwrap_or(0).max(candidate.from_slot - 1);
        let first_slot = candidate.from_slot.max(self.commit_index + 1);
        self.stats.elections_won += 1;
        self.failed_elections = 0;
        self.leader = Some((self.id, ballot));
        self.role =
            Role::Leader(LeaderState::new(ballot, last_slot.max(self.commit_index) + 1, self.now_ms, &self.peers()));
        self.actions.push(Action::RoleChanged { role: RoleKind::Leader, ballot });
        let mut config_in_log = self.config().1.is_some() || self.log.values().any(|c| c.config().is_some());
        for slot in first_slot..=last_slot {
            let command = match (self.log.get(&slot), candidate.merged.get(&slot)) {
                (Some(chosen), _) => chosen.clone(),
                (None, Some(entry)) => entry.command.clone(),
                (None, None) => Command::Noop,
            };
            config_in_log |= command.config().is_some();
            self.propose_at(slot, command);
        }
        // The configuration is data in the log (crate docs,
        // "Reconfiguration"): the first leader puts the bootstrap one in
        // before any client value. A leader that found one (chosen, or
        // accepted and re-proposed above) adds none.
        if !config_in_log {
            self.propose_bootstrap_config();
        }
        self.heartbeat_round();
    }
}
