//! The values the log agrees on.

use serde::{Deserialize, Serialize};

use crate::ballot::{NodeId, Slot};

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

/// Cluster membership. The configuration is data in the log: the first
/// leader of a cluster proposes `Command::Config(bootstrap)` before anything
/// else, and the replica takes its quorums and member set from the chosen
/// one (`Replica::config`). Membership cannot change yet: every chosen
/// `Config` must equal the bootstrap one (see the crate docs,
/// "Reconfiguration").
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

/// A configuration the log chose, and the first slot that chose it. Drivers
/// persist it with the state machine (the chosen entry itself is compacted
/// away) and hand it back in `DurableState::config`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChosenConfig {
    pub slot: Slot,
    pub config: ClusterConfig,
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
    /// The configuration this command carries, if it is a `Config`.
    pub fn config(&self) -> Option<&ClusterConfig> {
        match self {
            Command::Config(config) => Some(config),
            _ => None,
        }
    }

    /// Bytes of payload this command carries, for the size limits.
    pub fn payload_bytes(&self) -> usize {
        match self {
            Command::Noop => 0,
            Command::Batch(batch) => batch.bytes.len(),
            Command::Config(config) => config.members.len(),
        }
    }
}
