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

/// Most members a configuration may list.
pub const MEMBERS_MAX: usize = 7;

/// Cluster membership. The configuration is data in the log: the first
/// leader of a cluster proposes `Command::Config(bootstrap)` before anything
/// else, and a `Config` chosen at slot `s` governs every slot after `s`
/// (see the crate docs, "Reconfiguration").
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

    /// 1..=`MEMBERS_MAX` members, no duplicates.
    pub fn is_well_formed(&self) -> bool {
        let mut sorted = self.members.clone();
        sorted.sort_unstable();
        sorted.dedup();
        !self.members.is_empty() && self.members.len() <= MEMBERS_MAX && sorted.len() == self.members.len()
    }

    /// Members in exactly one of the two configurations. A single-step
    /// change (one member added or removed) has distance 1; the same member
    /// set, 0.
    pub fn distance(&self, other: &ClusterConfig) -> usize {
        let only_here = self.members.iter().filter(|m| !other.contains(**m)).count();
        let only_there = other.members.iter().filter(|m| !self.contains(**m)).count();
        only_here + only_there
    }

    /// Same members, in any order.
    pub fn same_members(&self, other: &ClusterConfig) -> bool {
        self.members.len() == other.members.len() && self.distance(other) == 0
    }

    /// At least a quorum of this configuration among `voters`.
    pub fn is_quorum<'a>(&self, voters: impl IntoIterator<Item = &'a NodeId>) -> bool {
        self.count(voters) >= self.quorum()
    }

    /// How many of `voters` are members.
    pub fn count<'a>(&self, voters: impl IntoIterator<Item = &'a NodeId>) -> usize {
        voters.into_iter().filter(|v| self.contains(**v)).count()
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
    /// A configuration with every member's addresses, so that each member
    /// can reach a node that joins (the node runtime proposes this one; the
    /// consensus core treats it exactly as `Config(book.config)`). Appended
    /// last: postcard encodes the variant as its index, so logs written
    /// before it existed still decode.
    Members(MemberBook),
}

/// Most bytes of one member's address list entry as postcard encodes it
/// (an id and two socket addresses, IPv6 with scope at worst).
const MEMBER_ADDRESS_BYTES_MAX: usize = 64;

/// Where one member listens: its peer (consensus) port and its HTTP API.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberAddress {
    pub id: NodeId,
    pub peer_addr: std::net::SocketAddr,
    pub http_addr: std::net::SocketAddr,
}

/// A configuration and the addresses of exactly its members, in the same
/// order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberBook {
    pub config: ClusterConfig,
    pub addresses: Vec<MemberAddress>,
}

impl MemberBook {
    /// The configuration is well formed and `addresses` names each member
    /// once, in the configuration's order.
    pub fn is_well_formed(&self) -> bool {
        self.config.is_well_formed()
            && self.addresses.len() == self.config.members.len()
            && self.addresses.iter().zip(&self.config.members).all(|(a, m)| a.id == *m)
    }

    /// The address entry of `node`, if it is a member.
    pub fn address(&self, node: NodeId) -> Option<&MemberAddress> {
        self.addresses.iter().find(|a| a.id == node)
    }
}

impl Command {
    /// The configuration this command carries, if it is a `Config`.
    pub fn config(&self) -> Option<&ClusterConfig> {
        match self {
            Command::Config(config) => Some(config),
            Command::Members(book) => Some(&book.config),
            _ => None,
        }
    }

    /// Bytes of payload this command carries, for the size limits.
    pub fn payload_bytes(&self) -> usize {
        match self {
            Command::Noop => 0,
            Command::Batch(batch) => batch.bytes.len(),
            Command::Config(config) => config.members.len(),
            Command::Members(book) => book.config.members.len().saturating_mul(1 + MEMBER_ADDRESS_BYTES_MAX),
        }
    }
}
