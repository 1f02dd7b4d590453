//! What the gossip core remembers about one connected peer. Every set is
//! bounded by [`GossipLimits`].

use crate::gossip::bounded_set::BoundedSet;
use crate::gossip::limits::GossipLimits;
use crate::gossip::message::InvItem;
use crate::hash::BlockHash;
use crate::u256::U256;

/// How many requests back a late or duplicated block answer is still
/// recognised as asked for, in multiples of the in-flight window.
const REQUESTED_MEMORY_WINDOWS: usize = 4;

/// One connected peer.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// Highest height it showed us.
    pub best_height: u64,
    /// Most chain work it showed us (headers, blocks, announcements we could place).
    pub best_work: U256,
    /// Misbehaviour points.
    pub ban_score: u32,
    /// Set once the score reached the threshold.
    pub banned_until_ms: Option<u64>,
    /// Items it has (it sent or announced them, or we did to it): not announced to it again.
    pub known: BoundedSet<InvItem>,
    /// Blocks recently asked of it: a late or duplicated answer is not spam.
    pub requested: BoundedSet<BlockHash>,
    /// Blocks it answered `NotFound` for: asked of others.
    pub lacks: BoundedSet<BlockHash>,
    /// Blocks whose request to it timed out: asked of others first.
    pub slow: BoundedSet<BlockHash>,
    /// When our outstanding `GetHeaders` to it was sent.
    pub headers_asked_ms: Option<u64>,
    /// When we last sent it a `GetHeaders`.
    pub last_headers_sent_ms: u64,
    /// Consecutive `Headers` batches that connected to nothing.
    pub unconnecting_headers: u32,
    /// A full batch came while our pending headers had no room: continue from here.
    pub headers_continue_from: Option<BlockHash>,
}

impl Peer {
    pub fn new(limits: &GossipLimits, now_ms: u64) -> Peer {
        let window = limits.blocks_in_flight_per_peer;
        Peer {
            best_height: 0,
            best_work: U256::ZERO,
            ban_score: 0,
            banned_until_ms: None,
            known: BoundedSet::new(limits.known_inventory_per_peer),
            requested: BoundedSet::new(window * REQUESTED_MEMORY_WINDOWS),
            lacks: BoundedSet::new(limits.inv_items_max),
            slow: BoundedSet::new(window * REQUESTED_MEMORY_WINDOWS),
            headers_asked_ms: None,
            last_headers_sent_ms: now_ms,
            unconnecting_headers: 0,
            headers_continue_from: None,
        }
    }

    /// Raises what the peer showed us.
    pub fn note_best(&mut self, height: u64, work: U256) {
        self.best_height = self.best_height.max(height);
        if work > self.best_work {
            self.best_work = work;
        }
    }

    /// True while banned at `now_ms`.
    pub fn is_banned(&self, now_ms: u64) -> bool {
        self.banned_until_ms.is_some_and(|until| now_ms < until)
    }
}
