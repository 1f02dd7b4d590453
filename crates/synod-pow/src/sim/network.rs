//! The simulated network between [`crate::gossip::Gossip`] cores: which
//! nodes can reach each other (partitions), which connections are up
//! (joined, not dropped after a ban), and the fault model of the links.
//!
//! Fault model: every message is encoded to bytes and decoded by the
//! receiver; it is delayed by a uniform latency, so messages overtake each
//! other; during the active phase it is lost with `loss_per_mille` and
//! delivered twice with `dup_per_mille`; a partition drops everything
//! between groups. Connections are not torn down by partitions (as TCP
//! connections that merely stall): the gossip core's timeouts and polls
//! must cope.

use std::collections::BTreeSet;

/// Which nodes can reach each other: `None` when healed, else a group per
/// node (messages between groups are dropped). Peers beyond the groups (the
/// attacker) are never partitioned.
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
            Some(g) if a < g.len() && b < g.len() => g[a] == g[b],
            _ => true,
        }
    }

    /// The group of `node` (0 when healed).
    pub fn group(&self, node: usize) -> u8 {
        self.groups.as_ref().map_or(0, |g| g[node])
    }
}

/// The connections that are up, as unordered pairs of peer ids.
#[derive(Clone, Debug, Default)]
pub struct Connections {
    pairs: BTreeSet<(usize, usize)>,
}

impl Connections {
    /// Brings the connection between `a` and `b` up.
    pub fn open(&mut self, a: usize, b: usize) {
        assert_ne!(a, b, "no self-connections");
        self.pairs.insert((a.min(b), a.max(b)));
    }

    /// Drops it (after a ban).
    pub fn close(&mut self, a: usize, b: usize) {
        self.pairs.remove(&(a.min(b), a.max(b)));
    }

    /// True if up.
    pub fn is_open(&self, a: usize, b: usize) -> bool {
        self.pairs.contains(&(a.min(b), a.max(b)))
    }
}
