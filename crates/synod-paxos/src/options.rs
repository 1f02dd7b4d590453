//! Replica construction options.

use crate::ballot::NodeId;
use crate::command::ClusterConfig;
use crate::error::OptionsError;
use crate::limits::{Limits, Timing, ENTRY_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES};

/// Deliberate protocol bugs, so the simulator can prove it catches them.
/// All false by default; never set them outside tests.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BugInjection {
    /// `recover` ignores the durable promised ballot (amnesia about promises,
    /// including the node's own ballots).
    pub forget_promise_on_restart: bool,
    /// Acceptors accept `Accept` messages below their promised ballot.
    pub accept_lower_ballot: bool,
    /// The leader treats a slot as chosen one acknowledgement early.
    pub choose_without_quorum: bool,
    /// The pre-fix learner rule: a leader that learns a chosen value some
    /// other way (a fetch) than its own in-flight proposal for that slot
    /// keeps leading, and its heartbeats make followers holding its
    /// ballot's entry learn the wrong value (`replica/learner.rs`, way 2).
    pub leader_vouches_for_foreign_slots: bool,
    /// The pre-fix election: a node whose deadline fires campaigns at once
    /// (raising and persisting its promise) instead of asking for pre-votes
    /// first, so a node cut off for a while returns with a ballot that
    /// deposes a healthy leader. A liveness bug, not a safety one.
    pub no_prevote: bool,
    /// Reconfiguration without its safety rules: a `Config` may add or
    /// remove any number of members at once; the leader does not stall at
    /// a change (slots beyond an unchosen `Config` are counted against the
    /// configuration before it, and several changes may be in flight); and
    /// Phase 1 is counted against the configuration at the candidate's
    /// commit point only.
    pub reconfig_unsafe: bool,
}

impl BugInjection {
    pub fn any(&self) -> bool {
        self.forget_promise_on_restart
            || self.accept_lower_ballot
            || self.choose_without_quorum
            || self.leader_vouches_for_foreign_slots
            || self.no_prevote
            || self.reconfig_unsafe
    }
}

#[derive(Clone, Debug)]
pub struct ReplicaOptions {
    pub id: NodeId,
    /// The bootstrap configuration: it governs until the log chose one
    /// (then `DurableState::config` or the log itself takes over).
    pub config: ClusterConfig,
    /// Start as a learner: this node may be outside `config` (it is
    /// joining). A node outside its latest configuration never campaigns
    /// and its votes are not counted (crate docs, "Reconfiguration").
    pub learner: bool,
    /// Keep a record of which acceptors made each slot this leader chose
    /// (`Replica::take_choices`), for the simulator's quorum check. The
    /// driver must drain it after every step.
    #[doc(hidden)]
    pub record_choices: bool,
    pub limits: Limits,
    pub timing: Timing,
    #[doc(hidden)]
    pub bugs: BugInjection,
}

impl ReplicaOptions {
    pub fn new(id: NodeId, config: ClusterConfig) -> ReplicaOptions {
        ReplicaOptions {
            id,
            config,
            learner: false,
            record_choices: false,
            limits: Limits::default(),
            timing: Timing::default(),
            bugs: BugInjection::default(),
        }
    }

    pub fn validate(&self) -> Result<(), OptionsError> {
        let members = &self.config.members;
        if !(3..=7).contains(&members.len()) {
            return Err(OptionsError::ClusterSize { size: members.len() });
        }
        let mut sorted = members.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != members.len() {
            return Err(OptionsError::DuplicateMember);
        }
        if !self.learner && !self.config.contains(self.id) {
            return Err(OptionsError::NotAMember { id: self.id });
        }
        let t = &self.timing;
        if t.election_timeout_min_ms == 0
            || t.election_timeout_max_ms <= t.election_timeout_min_ms
            || t.heartbeat_interval_ms == 0
            || t.heartbeat_interval_ms * 2 > t.election_timeout_min_ms
            || t.retransmit_interval_ms == 0
            || t.fetch_timeout_ms == 0
        {
            return Err(OptionsError::Timing);
        }
        let l = &self.limits;
        let one_value = MESSAGE_OVERHEAD_BYTES + ENTRY_OVERHEAD_BYTES + l.value_bytes_max;
        if l.message_bytes_max < one_value {
            return Err(OptionsError::MessageTooSmallForValue {
                message_bytes_max: l.message_bytes_max,
                needed: one_value,
            });
        }
        if l.inflight_slots_max == 0
            || l.fetch_entries_max == 0
            || l.outbound_per_peer_max == 0
            || l.pending_reads_max == 0
            || l.retransmit_per_tick_max == 0
            || l.apply_ahead_max == 0
            || (l.promise_entries_max as u64) < l.inflight_slots_max
        {
            return Err(OptionsError::Limits);
        }
        Ok(())
    }
}
