//! Headers that passed the context-free checks (they link, they meet their
//! own target) and whose blocks are not stored yet: the download plan of
//! headers-first sync.
//!
//! Invariant: every entry's parent is another entry or a block of the
//! chain's tree, so heights and chain work are exact. Bounded by
//! `pending_headers_max`; when full, new headers are refused (and asked for
//! again once downloads made room), never evicted, so the invariant holds.

use std::collections::{BTreeMap, HashMap};

use crate::gossip::message::PeerId;
use crate::hash::BlockHash;
use crate::header::Header;
use crate::u256::U256;

/// One pending header.
#[derive(Clone, Debug)]
pub(crate) struct PendingHeader {
    pub header: Header,
    pub height: u64,
    pub chain_work: U256,
    /// The peer that sent it (asked first for the block).
    pub source: PeerId,
    seq: u64,
}

/// The pending headers, ordered by (height, arrival) for download.
#[derive(Clone, Debug)]
pub(crate) struct HeaderStore {
    entries: HashMap<BlockHash, PendingHeader>,
    by_height: BTreeMap<(u64, u64), BlockHash>,
    /// Parent hash (an entry or a tree block) → its pending children.
    children: HashMap<BlockHash, Vec<BlockHash>>,
    next_seq: u64,
    max: usize,
}

impl HeaderStore {
    pub fn new(max: usize) -> HeaderStore {
        assert!(max > 0, "validated limits");
        HeaderStore { entries: HashMap::new(), by_height: BTreeMap::new(), children: HashMap::new(), next_seq: 0, max }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Room for `n` more headers.
    pub fn has_room(&self, n: usize) -> bool {
        self.entries.len() + n <= self.max
    }

    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.entries.contains_key(hash)
    }

    pub fn get(&self, hash: &BlockHash) -> Option<&PendingHeader> {
        self.entries.get(hash)
    }

    /// Adds a header whose parent is an entry or a tree block (the caller checked).
    pub fn insert(&mut self, hash: BlockHash, header: Header, height: u64, chain_work: U256, source: PeerId) {
        assert!(self.has_room(1) && !self.entries.contains_key(&hash), "room checked, stored once");
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_height.insert((height, seq), hash);
        self.children.entry(header.prev_hash).or_default().push(hash);
        self.entries.insert(hash, PendingHeader { header, height, chain_work, source, seq });
        assert_eq!(self.entries.len(), self.by_height.len(), "indexes agree");
    }

    /// Removes one entry (its block got stored); its children stay, now
    /// hanging from a tree block.
    pub fn remove(&mut self, hash: &BlockHash) -> Option<PendingHeader> {
        let entry = self.entries.remove(hash)?;
        self.by_height.remove(&(entry.height, entry.seq));
        let parent = entry.header.prev_hash;
        if let Some(siblings) = self.children.get_mut(&parent) {
            siblings.retain(|h| h != hash);
            if siblings.is_empty() {
                self.children.remove(&parent);
            }
        }
        Some(entry)
    }

    /// Removes `hash` (if pending) and every pending descendant: their block
    /// or an ancestor's turned out invalid. Returns how many went.
    pub fn remove_subtree(&mut self, hash: &BlockHash) -> usize {
        let mut removed = usize::from(self.remove(hash).is_some());
        let mut stack = self.children.remove(hash).unwrap_or_default();
        while let Some(h) = stack.pop() {
            if let Some(e) = self.entries.remove(&h) {
                self.by_height.remove(&(e.height, e.seq));
                removed += 1;
            }
            stack.extend(self.children.remove(&h).unwrap_or_default());
        }
        assert_eq!(self.entries.len(), self.by_height.len(), "indexes agree");
        removed
    }

    /// Pending hashes by ascending height (then arrival), with their heights.
    pub fn in_height_order(&self) -> impl Iterator<Item = (u64, BlockHash)> + '_ {
        self.by_height.iter().map(|(&(height, _), hash)| (height, *hash))
    }

    /// The pending header with the most chain work (first seen among equals).
    pub fn best(&self) -> Option<(BlockHash, &PendingHeader)> {
        self.by_height
            .values()
            .map(|h| (*h, &self.entries[h]))
            .max_by(|a, b| a.1.chain_work.cmp(&b.1.chain_work).then(b.1.seq.cmp(&a.1.seq)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(prev: BlockHash, nonce: u32) -> Header {
        Header { prev_hash: prev, nonce, ..Header::default() }
    }

    #[test]
    fn subtrees_go_together_and_the_bound_holds() {
        let mut s = HeaderStore::new(3);
        let root = BlockHash([1; 32]);
        let a = header(root, 1);
        let b = header(a.block_hash(), 2);
        let c = header(root, 3);
        s.insert(a.block_hash(), a, 1, U256::from_u64(1), 7);
        s.insert(b.block_hash(), b, 2, U256::from_u64(2), 7);
        s.insert(c.block_hash(), c, 1, U256::from_u64(1), 8);
        assert!(!s.has_room(1));
        let order: Vec<u64> = s.in_height_order().map(|(h, _)| h).collect();
        assert_eq!(order, [1, 1, 2]);
        assert_eq!(s.best().map(|(h, _)| h), Some(b.block_hash()));
        // a's block arrived: b now hangs from the tree; a's removal keeps it.
        assert!(s.remove(&a.block_hash()).is_some());
        assert!(s.contains(&b.block_hash()));
        // a turned out invalid after all: b goes with it, c stays.
        assert_eq!(s.remove_subtree(&a.block_hash()), 1);
        assert_eq!(s.len(), 1);
        assert!(s.contains(&c.block_hash()));
    }
}
