//! Ballots, node ids and slot numbers.

use serde::{Deserialize, Serialize};

/// A replica's identity inside one cluster. Clusters have 3..=7 members.
pub type NodeId = u8;

/// A position in the replicated log. Slot 0 is never used: slots start at 1,
/// and an index of 0 means "nothing yet".
pub type Slot = u64;

/// The highest round any ballot may carry. Far below `u64::MAX`, so a
/// campaign's `round + 1` can never overflow; at one election per
/// millisecond it lasts 146 million years.
pub const ROUND_MAX: u64 = 1 << 62;

/// The highest slot any message may name (same reasoning as `ROUND_MAX`:
/// `slot + 1` never overflows).
pub const SLOT_MAX: Slot = 1 << 62;

/// A Paxos ballot (proposal number). Totally ordered by `round`, then `node`,
/// so two proposers never share a ballot: each owns the ballots carrying its
/// own `node`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    // Field order matters: the derived `Ord` compares `round` first.
    pub round: u64,
    pub node: NodeId,
}

impl Ballot {
    /// The ballot below every real ballot; nothing is ever proposed with it.
    pub const ZERO: Ballot = Ballot { round: 0, node: 0 };

    pub fn new(round: u64, node: NodeId) -> Ballot {
        Ballot { round, node }
    }

    /// The smallest ballot owned by `node` that is strictly above `self`,
    /// or `None` past `ROUND_MAX` (peers cannot make us reach it: the
    /// validator refuses rounds above it, see `validate.rs`).
    pub fn next_for(self, node: NodeId) -> Option<Ballot> {
        let round = self.round.checked_add(1).filter(|r| *r <= ROUND_MAX)?;
        let next = Ballot { round, node };
        assert!(next > self);
        Some(next)
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round, self.node)
    }
}
