//! Learner role: knowing which values are chosen, advancing the commit
//! index, and applying in slot order (Lamport, "Paxos Made Simple" §2.3).
//!
//! A replica learns that `slot` holds `v` in exactly three ways:
//! 1. it is the leader and a quorum accepted `v` at its ballot;
//! 2. the leader of ballot `b` reports a commit index `>= slot` (on a
//!    `Heartbeat` or `Accept` at `b`) and this replica's accepted entry for
//!    `slot` has ballot `b`;
//! 3. a peer sends it as chosen (`FetchReply`) or a snapshot covers it.
//!
//! Why way 2 is sound. Let the follower hold `(b, w)` at `slot` and the
//! leader L of `b` report commit `>= slot`, so L's log holds some `v` there.
//! Only L sends `Accept` at `b`, and it proposes each slot at most once in
//! `b` (`propose_at`), so `w` is L's proposal for `slot` (a slot L never
//! proposed at `b` has no `b` entry anywhere). L put `v` in its
//! log in one of three ways: (a) a quorum accepted its proposal at `b`, so
//! `v = w`; (b) before proposing, from its log or a promise marked chosen, in
//! which case it proposed that very value, so `v = w`; (c) while leading, by
//! way 3 (a fetch; a snapshot makes it step down first). In case (c)
//! `learn_chosen` compares `v` with L's in-flight proposal: equal means
//! `v = w`; different, or a slot at or past `next_slot` (a value chosen
//! where L proposed nothing, so by a higher ballot), and L steps down in the
//! same step, before any message that carries a commit index `>= slot`
//! leaves. A follower sends no `Heartbeat` or `Accept`, and L never leads
//! at `b` again (ballots are never reused), so no commit index `>= slot` at
//! `b` ever vouches for a `w` other than `v`. Hence a still-leading L's
//! commit covers, at `b`, only slots whose `b`-value it saw chosen.
//!
//! Without that step-down (the injectable bug
//! `leader_vouches_for_foreign_slots`) agreement breaks at seven members:
//! stale leader A proposes `v'` at `s`, accepted only by A and Z; C wins a
//! higher ballot with C, D, E, F and chooses `v`; B, following C's
//! heartbeats without promising C, fetches `v` and acknowledges A with its
//! higher commit index; A fetches `v` from B, moves its commit past `s`
//! while its check-quorum window still holds, and its next heartbeat makes
//! Z apply `v'` (`tests/foreign_slot.rs` plays it step by step).
//!
//! Anything else (a gap) is fetched from the peer that reported the higher
//! commit index, retried round-robin on timeout.

use crate::ballot::{Ballot, NodeId, Slot};
use crate::command::Command;
use crate::event::Action;
use crate::message::Body;

use super::{Replica, Role};

impl Replica {
    /// A message from the leader of `ballot` arrived and `ballot >= promised`.
    pub(super) fn heard_leader(&mut self, from: NodeId, ballot: Ballot) {
        let own = match &self.role {
            Role::Leader(leader) => Some(leader.ballot),
            Role::Candidate(candidate) => Some(candidate.ballot),
            Role::Follower => None,
        };
        if own == Some(ballot) {
            assert_eq!(from, self.id, "someone else used our ballot {ballot}");
            return;
        }
        if own.is_some_and(|own| own < ballot) {
            self.set_role_follower();
        }
        self.leader = Some((from, ballot));
        self.leader_contact_ms = self.now_ms;
        self.failed_elections = 0;
        self.touch_election_timer();
    }

    pub(super) fn on_heartbeat(&mut self, from: NodeId, ballot: Ballot, commit_index: Slot, seq: u64) {
        if self.damaged {
            // A damaged replica cannot vouch for its promises: no ack.
            self.leader = Some((from, ballot));
            self.note_commit_hint(from, commit_index);
            if self.commit_hint > self.commit_index {
                self.fetch_from(from);
            }
            return;
        }
        self.observe_round(ballot);
        if ballot < self.promised {
            let body = Body::Nack { ballot, promised: self.promised, slot: 0, commit_index: self.commit_index };
            self.send(from, body);
            return;
        }
        self.heard_leader(from, ballot);
        self.learn_leader_commit(from, ballot, commit_index);
        self.send(from, Body::HeartbeatAck { ballot, seq, commit_index: self.commit_index });
    }

    /// Way 2 above: slots up to the leader's commit index whose accepted
    /// entry carries the leader's ballot are chosen (see the module docs for
    /// why that holds).
    pub(super) fn learn_leader_commit(&mut self, from: NodeId, ballot: Ballot, leader_commit: Slot) {
        self.note_commit_hint(from, leader_commit);
        let mut slot = self.commit_index + 1;
        while slot <= leader_commit {
            if !self.log.contains_key(&slot) {
                match self.accepted.get(&slot) {
                    Some(entry) if entry.ballot == ballot => {
                        let command = entry.command.clone();
                        self.learn_chosen(slot, command);
                    }
                    _ => break,
                }
            }
            slot += 1;
        }
        self.advance_commit();
        if self.commit_index < leader_commit {
            self.fetch_from(from);
        }
    }

    /// Records that `slot` holds `command`. A chosen value never changes.
    pub(super) fn learn_chosen(&mut self, slot: Slot, command: Command) {
        assert!(slot > 0);
        if slot <= self.compacted_upto {
            return;
        }
        if let Role::Leader(leader) = &mut self.role {
            if leader.config_change == Some(slot) {
                // The change is chosen: the next slots' configuration is
                // known. Cleared before the check below, since a leader
                // re-proposes (`become_leader`) a change it already knew
                // chosen above a gap: that quorum finds it in the log.
                leader.config_change = None;
            }
        }
        if let Some(existing) = self.log.get(&slot) {
            assert_eq!(existing, &command, "chosen value for slot {slot} changed");
            return;
        }
        let mut step_down = false;
        if let Role::Leader(leader) = &mut self.role {
            // Learned some other way while we still await a quorum: the
            // retransmissions are no longer needed. If the chosen value is
            // not our proposal (or lies beyond every slot we proposed), a
            // higher ballot chose it and our followers' entries at our
            // ballot must not be vouched for: step down (way 2 above).
            let foreign = match leader.inflight.remove(&slot) {
                Some(proposed) => proposed.command != command,
                None => slot >= leader.next_slot,
            };
            step_down = foreign && !self.opts.bugs.leader_vouches_for_foreign_slots;
        }
        self.log.insert(slot, command);
        if step_down {
            self.set_role_follower();
        }
    }

    /// Moves the commit index over contiguous chosen slots and applies them.
    pub(super) fn advance_commit(&mut self) {
        if self.installing.is_some() {
            // The state machine is busy installing a snapshot; chosen values
            // stay in the log until it reports how far it got.
            return;
        }
        let before = self.commit_index;
        while let Some(command) = self.log.get(&(self.commit_index + 1)) {
            self.commit_index += 1;
            if let Some(config) = command.config() {
                let config = config.clone();
                self.record_config(self.commit_index, &config);
            }
        }
        if !self.is_member() && !matches!(self.role, Role::Follower) {
            // This replica's removal is chosen (crate docs,
            // "Reconfiguration"): a leader that removed itself stops here and
            // the members elect a new one. One last heartbeat round tells
            // them the commit index that covers the removal, so they learn
            // the new configuration (and may pre-vote in it) without
            // waiting for anyone.
            if self.is_leader() {
                self.heartbeat_round();
            }
            self.set_role_follower();
        }
        assert!(self.commit_index >= before, "commit index went backwards");
        // Flow control: at most `apply_ahead_max` slots handed out and not
        // yet reported applied; `on_applied` resumes from here.
        let apply_upto = self.commit_index.min(self.applied_reported.saturating_add(self.opts.limits.apply_ahead_max));
        while self.applied_index < apply_upto {
            let slot = self.applied_index + 1;
            let command = self.log.get(&slot).expect("committed slot is in the log").clone();
            self.applied_index = slot;
            self.actions.push(Action::Apply { slot, command });
        }
        assert!(self.applied_index <= self.commit_index);
        if self.commit_index != before {
            self.serve_reads();
        }
    }

    /// Asks `target` for chosen slots after our commit index, unless a fetch
    /// is already outstanding.
    pub(super) fn fetch_from(&mut self, target: NodeId) {
        if target == self.id || self.fetch_sent.is_some() || self.installing.is_some() {
            return;
        }
        if self.commit_index >= self.applied_reported.saturating_add(self.opts.limits.apply_ahead_max) {
            // Chosen but unapplied slots are at the apply-ahead limit: fetch
            // no more until the driver reports progress (`on_applied`).
            return;
        }
        self.fetch_sent = Some((target, self.now_ms));
        self.stats.fetches_sent += 1;
        self.send(target, Body::Fetch { from_slot: self.commit_index + 1 });
    }

    /// Retries a fetch that got no answer, rotating through the peers.
    pub(super) fn tick_fetch(&mut self) {
        if self.installing.is_some() {
            return;
        }
        if let Some((target, sent_ms)) = self.fetch_sent {
            if self.now_ms.saturating_sub(sent_ms) < self.opts.timing.fetch_timeout_ms {
                return;
            }
            self.fetch_sent = None;
            if self.commit_hint > self.commit_index {
                let peers = self.peers();
                let next = peers.iter().position(|p| *p == target).map_or(0, |i| (i + 1) % peers.len());
                self.fetch_from(peers[next]);
            }
            return;
        }
        if self.commit_hint > self.commit_index {
            let target = self.leader.map(|(id, _)| id).filter(|id| *id != self.id).or(self.commit_hint_from);
            if let Some(target) = target {
                self.fetch_from(target);
            }
        }
    }

    pub(super) fn on_fetch_reply(
        &mut self,
        from: NodeId,
        from_slot: Slot,
        entries: Vec<(Slot, Command)>,
        commit_index: Slot,
    ) {
        if self.fetch_sent.is_some_and(|(target, _)| target == from) {
            self.fetch_sent = None;
        }
        if self.commit_hint_from == Some(from) && commit_index < self.commit_hint {
            // The peer that gave us the hint now reports less (it restarted,
            // or the hint was false): stop chasing it.
            self.commit_hint = commit_index.max(self.commit_index);
        }
        self.note_commit_hint(from, commit_index);
        let before = self.commit_index;
        for (slot, command) in entries {
            // Validated: inside [from_slot, commit_index], increasing.
            assert!(slot >= from_slot && slot <= commit_index, "fetch reply entry outside its range");
            self.learn_chosen(slot, command);
        }
        self.advance_commit();
        // Ask again at once only if this reply made progress; otherwise the
        // fetch timer paces the retries, so a commit hint nobody can serve
        // (a false one, say) never makes two replicas ping-pong fetches.
        if self.commit_hint > self.commit_index && self.commit_index > before {
            // Ask the same peer again only if it has more; otherwise whoever
            // reported the highest commit index (two laggards must not keep
            // asking each other).
            let target = if commit_index > self.commit_index {
                Some(from)
            } else {
                self.leader.map(|(id, _)| id).filter(|id| *id != self.id && *id != from).or(self.commit_hint_from)
            };
            if let Some(target) = target {
                self.fetch_from(target);
            }
        }
    }

    /// The driver applied every slot up to `upto_slot`: hand out more, and
    /// resume a catch-up that waited for room.
    pub(super) fn on_applied(&mut self, upto_slot: Slot) {
        // Our driver's report: it cannot apply what it was never handed.
        assert!(upto_slot <= self.applied_index, "applied {upto_slot} past the last Apply {}", self.applied_index);
        if upto_slot <= self.applied_reported {
            return;
        }
        self.applied_reported = upto_slot;
        self.advance_commit();
        if self.commit_hint > self.commit_index {
            let target = self.leader.map(|(id, _)| id).filter(|id| *id != self.id).or(self.commit_hint_from);
            if let Some(target) = target {
                self.fetch_from(target);
            }
        }
    }
}
