//! Messages between simulated nodes, and the links that carry (or drop) them.

use synod_core::SignedTransfer;

use crate::chain::SharedBlock;
use crate::hash::BlockHash;

/// What nodes send each other: full blocks on a new tip or on request,
/// requests for missing blocks, periodic tip announcements, and transfers.
#[derive(Clone, Debug)]
pub enum Msg {
    /// A block.
    Block(SharedBlock),
    /// "Send me this block."
    GetBlock(BlockHash),
    /// "My best tip is this."
    Tip(BlockHash),
    /// A transfer to relay.
    Tx(Box<SignedTransfer>),
}

impl Msg {
    /// Short name for traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Block(_) => "block",
            Msg::GetBlock(_) => "getblock",
            Msg::Tip(_) => "tip",
            Msg::Tx(_) => "tx",
        }
    }
}

/// Which nodes can reach each other: `None` when healed, else a group per
/// node (messages between groups are dropped).
#[derive(Clone, Debug, Default)]
pub struct Links {
    groups: Option<Vec<u8>>,
}

impl Links {
    /// Splits the network.
    pub fn partition(&mut self, groups: Vec<u8>) {
        self.groups = Some(groups);
    }

    /// Heals it.
    pub fn heal(&mut self) {
        self.groups = None;
    }

    /// True while split.
    pub fn is_partitioned(&self) -> bool {
        self.groups.is_some()
    }

    /// True if `a` and `b` can talk.
    pub fn connected(&self, a: usize, b: usize) -> bool {
        match &self.groups {
            None => true,
            Some(g) => g[a] == g[b],
        }
    }

    /// The group of `node` (0 when healed).
    pub fn group(&self, node: usize) -> u8 {
        self.groups.as_ref().map_or(0, |g| g[node])
    }
}
