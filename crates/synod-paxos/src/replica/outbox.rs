//! Messages held until the persists they depend on are durable.
//!
//! A gated message records the last persist token issued when it was built;
//! it leaves only once `Event::Persisted` reports that token. Tokens only
//! grow, so the queue is released strictly from the front. The queue is
//! bounded per destination: past `outbound_per_peer_max` a new message is
//! dropped and counted; every request is retried by a timer, so dropping is
//! safe.

use std::collections::{BTreeMap, VecDeque};

use crate::ballot::NodeId;
use crate::durable::PersistToken;
use crate::message::Message;

#[derive(Clone, Debug)]
pub(crate) struct Held {
    pub depends_on: PersistToken,
    pub message: Message,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Outbox {
    held: VecDeque<Held>,
    held_per_peer: BTreeMap<NodeId, usize>,
    pub dropped: u64,
}

impl Outbox {
    /// Holds `message` until `depends_on` is durable. Returns false (and
    /// drops it) when the destination's queue is full.
    pub fn hold(&mut self, depends_on: PersistToken, message: Message, per_peer_max: usize) -> bool {
        if let Some(last) = self.held.back() {
            assert!(last.depends_on <= depends_on, "persist tokens went backwards");
        }
        let count = self.held_per_peer.entry(message.to).or_insert(0);
        if *count >= per_peer_max {
            self.dropped += 1;
            return false;
        }
        *count += 1;
        self.held.push_back(Held { depends_on, message });
        true
    }

    /// Removes and returns every message whose dependency is durable.
    pub fn release(&mut self, durable: PersistToken) -> Vec<Held> {
        let mut out = Vec::new();
        while self.held.front().is_some_and(|h| h.depends_on <= durable) {
            let held = self.held.pop_front().expect("front exists");
            let count = self.held_per_peer.get_mut(&held.message.to).expect("counted");
            assert!(*count > 0);
            *count -= 1;
            out.push(held);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn held_for(&self, peer: NodeId) -> usize {
        self.held_per_peer.get(&peer).copied().unwrap_or(0)
    }
}
