//! The values the log agrees on.

use serde::{Deserialize, Serialize};

use crate::ballot::NodeId;

/// A client batch identity, unique per batch. Retries of the same batch reuse
/// the id, so a batch can be chosen in more than one slot; the state machine
/// applies it once (see the crate docs, "Duplicates").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct BatchId(pub u64);

/// An opaque batch of encoded transactions. The consensus core never looks
/// inside `bytes`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Batch {
    pub id: BatchId,
    pub bytes: Vec<u8>,
}

/// Cluster membership. Only the initial configuration (from the replica
/// options) decides quorums today; a `Command::Config` in the log is
/// replicated and applied like any value but does not yet change quorums.
/// Reconfiguration is future work.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterConfig {
    pub members: Vec<NodeId>,
}

impl ClusterConfig {
    pub fn new(members: Vec<NodeId>) -> ClusterConfig {
        ClusterConfig { members }
    }

    /// Majority quorum size: floor(n/2) + 1.
    pub fn quorum(&self) -> usize {
        self.members.len() / 2 + 1
    }

    pub fn contains(&self, node: NodeId) -> bool {
        self.members.contains(&node)
    }
}

/// A value chosen for one slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Fills a slot a new leader found empty; applies as nothing.
    Noop,
    Batch(Batch),
    Config(ClusterConfig),
}

impl Command {
    /// Bytes of payload this command carries, for the size limits.
    pub fn payload_bytes(&self) -> usize {
        match self {
            Command::Noop => 0,
            Command::Batch(batch) => batch.bytes.len(),
            Command::Config(config) => config.members.len(),
        }
    }
}
