//! Requests sent and not answered yet: blocks (per peer, within its window)
//! and transfers. Ordered maps, so timeouts are handled in a fixed order.

use std::collections::BTreeMap;

use synod_core::TransferId;

use crate::gossip::message::PeerId;
use crate::hash::BlockHash;

/// A block asked of a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    pub peer: PeerId,
    pub deadline_ms: u64,
}

/// Blocks in flight: at most `per_peer` per peer, so at most
/// `peers_max × per_peer` in all.
#[derive(Clone, Debug)]
pub(crate) struct BlocksInFlight {
    requests: BTreeMap<BlockHash, Request>,
    per_peer_count: BTreeMap<PeerId, usize>,
    per_peer: usize,
}

impl BlocksInFlight {
    pub fn new(per_peer: usize) -> BlocksInFlight {
        BlocksInFlight { requests: BTreeMap::new(), per_peer_count: BTreeMap::new(), per_peer }
    }

    pub fn len(&self) -> usize {
        self.requests.len()
    }

    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.requests.contains_key(hash)
    }

    pub fn get(&self, hash: &BlockHash) -> Option<&Request> {
        self.requests.get(hash)
    }

    /// Requests in flight to `peer`.
    pub fn count(&self, peer: PeerId) -> usize {
        self.per_peer_count.get(&peer).copied().unwrap_or(0)
    }

    /// True if `peer` may be asked for another block.
    pub fn has_room(&self, peer: PeerId) -> bool {
        self.count(peer) < self.per_peer
    }

    pub fn insert(&mut self, hash: BlockHash, peer: PeerId, deadline_ms: u64) {
        assert!(self.has_room(peer), "the in-flight window is checked before asking");
        let previous = self.requests.insert(hash, Request { peer, deadline_ms });
        assert!(previous.is_none(), "a block is asked of one peer at a time");
        let count = self.per_peer_count.entry(peer).or_insert(0);
        *count += 1;
        assert!(*count <= self.per_peer, "in-flight window never exceeded");
    }

    pub fn remove(&mut self, hash: &BlockHash) -> Option<Request> {
        let r = self.requests.remove(hash)?;
        let count = self.per_peer_count.get_mut(&r.peer).expect("counted when asked");
        *count -= 1;
        if *count == 0 {
            self.per_peer_count.remove(&r.peer);
        }
        Some(r)
    }

    /// Forgets every request to `peer`; returns their hashes.
    pub fn remove_peer(&mut self, peer: PeerId) -> Vec<BlockHash> {
        let hashes: Vec<BlockHash> = self.requests.iter().filter(|(_, r)| r.peer == peer).map(|(h, _)| *h).collect();
        for h in &hashes {
            self.remove(h);
        }
        assert_eq!(self.count(peer), 0, "nothing left in flight to a forgotten peer");
        hashes
    }

    /// Removes and returns the requests whose deadline passed.
    pub fn take_expired(&mut self, now_ms: u64) -> Vec<(BlockHash, Request)> {
        let expired: Vec<(BlockHash, Request)> =
            self.requests.iter().filter(|(_, r)| r.deadline_ms <= now_ms).map(|(h, r)| (*h, *r)).collect();
        for (h, _) in &expired {
            self.remove(h);
        }
        expired
    }

    /// Checks the counts against the requests (O(requests); for invariants).
    pub fn assert_consistent(&self) {
        let total: usize = self.per_peer_count.values().sum();
        assert_eq!(total, self.requests.len(), "per-peer counts add up");
        assert!(self.per_peer_count.values().all(|&c| c > 0 && c <= self.per_peer), "in-flight windows respected");
    }
}

/// Transfers asked of a peer: at most `max` in all.
#[derive(Clone, Debug)]
pub(crate) struct TransfersInFlight {
    requests: BTreeMap<TransferId, Request>,
    max: usize,
}

impl TransfersInFlight {
    pub fn new(max: usize) -> TransfersInFlight {
        TransfersInFlight { requests: BTreeMap::new(), max }
    }

    pub fn len(&self) -> usize {
        self.requests.len()
    }

    pub fn contains(&self, id: &TransferId) -> bool {
        self.requests.contains_key(id)
    }

    pub fn is_full(&self) -> bool {
        self.requests.len() >= self.max
    }

    pub fn insert(&mut self, id: TransferId, peer: PeerId, deadline_ms: u64) {
        assert!(!self.is_full(), "checked before asking");
        self.requests.insert(id, Request { peer, deadline_ms });
    }

    /// Removes the request for `id` if it was made to `peer`.
    pub fn remove_from(&mut self, id: &TransferId, peer: PeerId) -> bool {
        if self.requests.get(id).is_some_and(|r| r.peer == peer) {
            self.requests.remove(id);
            return true;
        }
        false
    }

    pub fn remove_peer(&mut self, peer: PeerId) {
        self.requests.retain(|_, r| r.peer != peer);
    }

    pub fn remove_expired(&mut self, now_ms: u64) {
        self.requests.retain(|_, r| r.deadline_ms > now_ms);
    }
}
