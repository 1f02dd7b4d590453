//! One error enum per operation, so callers match only what can happen.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ballot::{NodeId, Slot};

/// Why `Event::Propose` was refused. The proposal is definitely not in the
/// log when this is returned.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum ProposeError {
    /// Only the leader proposes; forward to `leader_hint` if known.
    #[error("not the leader (leader hint: {leader_hint:?})")]
    NotLeader { leader_hint: Option<NodeId> },
    /// The pipeline is full; retry after some slots are chosen.
    #[error("too many slots in flight (limit {limit})")]
    TooManyInflight { limit: u64 },
    #[error("value of {size} bytes exceeds the limit of {limit}")]
    ValueTooLarge { size: usize, limit: usize },
    /// `Command::Noop` is reserved for the protocol.
    #[error("noop cannot be proposed")]
    NoopNotProposable,
    /// A membership change is waiting to be chosen at `slot`; nothing is
    /// proposed beyond it until it is (crate docs, "Reconfiguration").
    /// Retry shortly.
    #[error("a membership change is in flight at slot {slot}")]
    ConfigChangePending { slot: Slot },
    /// A `Command::Config` the leader will not propose.
    #[error("membership change refused: {0}")]
    Reconfig(ReconfigError),
}

/// Why a `Command::Config` proposal was refused (`ProposeError::Reconfig`).
/// Nothing was proposed.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum ReconfigError {
    /// Another change is proposed and not yet chosen: one at a time.
    #[error("another membership change is in flight at slot {slot}")]
    ChangeInProgress { slot: Slot },
    /// More than one member added or removed at once.
    #[error("{current:?} -> {proposed:?} is not a single-member change")]
    NotSingleStep { current: Vec<NodeId>, proposed: Vec<NodeId> },
    /// More than `MEMBERS_MAX` members.
    #[error("{size} members, at most {max}")]
    TooManyMembers { size: usize, max: usize },
    /// No members, or a member listed twice.
    #[error("empty member list or duplicate member")]
    InvalidMembers,
    /// The member to add has not acknowledged a log position within
    /// `Limits::learner_lag_slots_max` of the commit index (or was never
    /// heard from as a learner: `acked` is `None`).
    #[error("node {node} is not caught up (acknowledged {acked:?}, commit index {commit_index})")]
    LearnerNotCaughtUp { node: NodeId, acked: Option<Slot>, commit_index: Slot },
}

/// Why `Event::ReadIndex` failed.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum ReadError {
    #[error("not the leader (leader hint: {leader_hint:?})")]
    NotLeader { leader_hint: Option<NodeId> },
    #[error("too many pending reads (limit {limit})")]
    TooManyPending { limit: usize },
    /// The leader stepped down before the read was confirmed.
    #[error("leadership lost before the read was confirmed")]
    LeadershipLost,
}

/// Invalid `ReplicaOptions`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OptionsError {
    #[error("cluster size {size} outside 3..=7")]
    ClusterSize { size: usize },
    #[error("duplicate member id")]
    DuplicateMember,
    #[error("node {id} is not a member of the configuration")]
    NotAMember { id: NodeId },
    #[error("timing constants are inconsistent")]
    Timing,
    #[error("message_bytes_max {message_bytes_max} cannot carry one value ({needed} bytes)")]
    MessageTooSmallForValue { message_bytes_max: usize, needed: usize },
    #[error("a limit is zero or inconsistent")]
    Limits,
    /// The durable state records a configuration that is not well formed.
    #[error("recorded configuration {recorded:?} (slot {slot}) is not well formed")]
    RecordedConfigInvalid { recorded: Vec<NodeId>, slot: Slot },
}
