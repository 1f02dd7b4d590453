//! Acceptor role: Phase 1b and Phase 2b (Lamport, "Paxos Made Simple" §2.2).
//!
//! Rules, in order of precedence:
//! 1. A damaged incarnation never votes (see `DurableState::damaged`).
//! 2. Never promise or accept below `promised` (answer `Nack`).
//! 3. Raise `promised` durably before answering; an `Accept` at a ballot
//!    above `promised` raises it too.
//! 4. An accepted entry is durable before its `Accepted` leaves.
//! 5. A slot at or below the compaction point is chosen and its value gone:
//!    answer `Nack` carrying the commit index so the proposer catches up,
//!    never a blind `Accepted`.

use crate::ballot::{Ballot, NodeId, Slot};
use crate::command::Command;
use crate::durable::PersistOp;
use crate::limits::MESSAGE_OVERHEAD_BYTES;
use crate::message::{entry_bound, Body, PromiseEntry};

use super::{Accepted, Replica, Role};

impl Replica {
    pub(super) fn on_prepare(&mut self, from: NodeId, ballot: Ballot, from_slot: Slot) {
        // A node outside its latest configuration still votes: it may have
        // been added without knowing yet, and the candidate that asks may
        // need it (crate docs, "Reconfiguration"). Only proposers decide
        // whose votes count.
        if self.damaged {
            return;
        }
        self.observe_round(ballot);
        if ballot < self.promised {
            self.nack(from, ballot, 0);
            return;
        }
        if ballot > self.promised {
            // Leader stickiness: while a live leader is heard, a newcomer's
            // Prepare is ignored, so a node that was merely cut off cannot
            // depose a working leader. The candidate retries after backoff.
            let from_leader = self.leader.is_some_and(|(id, _)| id == from);
            if from != self.id && !from_leader && self.leader_is_alive() {
                return;
            }
            self.raise_promise(ballot);
            self.touch_election_timer();
        }
        let body = self.promise_body(ballot, from_slot);
        self.send_durable(from, body);
    }

    pub(super) fn on_accept(&mut self, from: NodeId, ballot: Ballot, slot: Slot, command: Command, commit_index: Slot) {
        if self.damaged {
            self.note_commit_hint(from, commit_index);
            self.leader = Some((from, ballot));
            return;
        }
        assert!(slot > 0);
        self.observe_round(ballot);
        let below = ballot < self.promised;
        if below && !self.opts.bugs.accept_lower_ballot {
            self.nack(from, ballot, slot);
            return;
        }
        if slot <= self.compacted_upto {
            self.nack(from, ballot, slot);
            return;
        }
        if ballot > self.promised {
            self.raise_promise(ballot);
        }
        match self.accepted.get(&slot) {
            Some(existing) if existing.ballot == ballot => {
                // A retransmission: one ballot proposes one value per slot.
                assert_eq!(existing.command, command, "two values proposed in ballot {ballot} for slot {slot}");
            }
            Some(existing) if existing.ballot > ballot && !self.opts.bugs.accept_lower_ballot => {
                // Accepted a higher ballot already; only reachable if
                // promised was lowered, which never happens.
                unreachable!("accepted {} above promised {}", existing.ballot, self.promised);
            }
            _ => {
                // P1a: never accept below the promise (unless a test injects
                // exactly that bug).
                assert!(ballot >= self.promised || self.opts.bugs.accept_lower_ballot, "accepting below the promise");
                let op = PersistOp::Accept { slot, ballot, command: command.clone() };
                let token = self.persist(op);
                self.accepted.insert(slot, Accepted { ballot, command, token });
            }
        }
        self.send_durable(from, Body::Accepted { ballot, slot });
        if !below {
            self.heard_leader(from, ballot);
            self.learn_leader_commit(from, ballot, commit_index);
        }
    }

    /// Raises the promise durably; anyone holding a lower ballot steps down.
    pub(super) fn raise_promise(&mut self, ballot: Ballot) {
        assert!(ballot > self.promised, "promise must grow");
        assert!(!self.damaged);
        self.promised = ballot;
        self.persist(PersistOp::Promise { ballot });
        let own_ballot = match &self.role {
            Role::Leader(leader) => Some(leader.ballot),
            Role::Candidate(candidate) => Some(candidate.ballot),
            Role::Follower => None,
        };
        if own_ballot.is_some_and(|own| own < ballot) {
            self.set_role_follower();
        }
        if self.leader.is_some_and(|(_, b)| b < ballot) {
            self.leader = None;
        }
        assert!(self.promised == ballot);
    }

    fn nack(&mut self, to: NodeId, ballot: Ballot, slot: Slot) {
        let body = Body::Nack { ballot, promised: self.promised, slot, commit_index: self.commit_index };
        self.send(to, body);
    }

    /// True while this replica leads, or heard its leader within the minimum
    /// election timeout.
    pub(super) fn leader_is_alive(&self) -> bool {
        match &self.role {
            Role::Leader(_) => true,
            Role::Candidate(_) => false,
            Role::Follower => {
                self.leader.is_some()
                    && self.now_ms.saturating_sub(self.leader_contact_ms) < self.opts.timing.election_timeout_min_ms
            }
        }
    }

    /// Phase 1b reply: every accepted or known-chosen slot at or above
    /// `from_slot`, cut to the limits.
    fn promise_body(&mut self, ballot: Ballot, from_slot: Slot) -> Body {
        assert!(self.promised == ballot);
        let limits = &self.opts.limits;
        let mut entries = Vec::new();
        let mut truncated = false;
        if from_slot > self.compacted_upto {
            let mut bytes = MESSAGE_OVERHEAD_BYTES;
            let mut slots: Vec<Slot> = self.accepted.range(from_slot..).map(|(s, _)| *s).collect();
            slots.extend(self.log.range(from_slot..).map(|(s, _)| *s));
            slots.sort_unstable();
            slots.dedup();
            for slot in slots {
                let entry = match (self.log.get(&slot), self.accepted.get(&slot)) {
                    (Some(chosen), accepted) => PromiseEntry {
                        slot,
                        ballot: accepted.map_or(Ballot::ZERO, |a| a.ballot),
                        command: chosen.clone(),
                        chosen: true,
                    },
                    (None, Some(accepted)) => {
                        PromiseEntry { slot, ballot: accepted.ballot, command: accepted.command.clone(), chosen: false }
                    }
                    (None, None) => unreachable!(),
                };
                bytes += entry_bound(&entry.command);
                if entries.len() >= limits.promise_entries_max || bytes > limits.message_bytes_max {
                    truncated = true;
                    break;
                }
                entries.push(entry);
            }
        }
        if truncated {
            self.stats.promises_truncated += 1;
            entries.clear();
        }
        Body::Promise {
            ballot,
            from_slot,
            entries,
            truncated,
            compacted_upto: self.compacted_upto,
            commit_index: self.commit_index,
        }
    }
}
