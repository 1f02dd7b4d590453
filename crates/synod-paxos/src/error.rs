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
    /// A `Command::Config` whose members differ from the current
    /// configuration: membership changes are not implemented yet.
    #[error("membership change from {current:?} to {proposed:?} is not supported")]
    MembershipChange { current: Vec<NodeId>, proposed: Vec<NodeId> },
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
    /// The durable state records a chosen configuration whose members are
    /// not the options' (membership changes are not implemented yet).
    #[error("configured members {configured:?} differ from the recorded configuration {recorded:?} (slot {slot})")]
    ConfigMismatch { configured: Vec<NodeId>, recorded: Vec<NodeId>, slot: Slot },
}
