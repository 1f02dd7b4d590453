//! Blocks whose parent is not known yet, waiting (bounded) for it.
//!
//! Bounded by count and by bytes; when full, the oldest orphan is dropped
//! first. Orphans have passed the arrival checks (proof of work included), so
//! filling the pool costs an attacker real work. When a block is stored, its
//! waiting children are taken out and processed in arrival order.

use std::collections::{BTreeMap, HashMap};

use crate::chain::block::SharedBlock;
use crate::hash::BlockHash;

/// The orphan pool.
#[derive(Clone, Debug)]
pub struct OrphanPool {
    blocks: HashMap<BlockHash, (SharedBlock, u64)>,
    by_parent: HashMap<BlockHash, Vec<BlockHash>>,
    order: BTreeMap<u64, BlockHash>,
    next_seq: u64,
    bytes: usize,
    max_blocks: usize,
    max_bytes: usize,
}

impl OrphanPool {
    /// An empty pool holding at most `max_blocks` blocks and `max_bytes` bytes.
    pub fn new(max_blocks: usize, max_bytes: usize) -> OrphanPool {
        assert!(max_blocks > 0 && max_bytes > 0, "validated bounds");
        OrphanPool {
            blocks: HashMap::new(),
            by_parent: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            bytes: 0,
            max_blocks,
            max_bytes,
        }
    }

    /// Orphans held.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// True if none.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Encoded bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The count bound.
    pub fn max_blocks(&self) -> usize {
        self.max_blocks
    }

    /// The byte bound.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// True if `hash` waits here.
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.blocks.contains_key(hash)
    }

    /// Adds an orphan (no-op if present), dropping the oldest ones while a
    /// bound is exceeded. Returns the hashes dropped. A block larger than the
    /// whole byte bound is not kept (it is reported as dropped).
    pub fn insert(&mut self, block: SharedBlock) -> Vec<BlockHash> {
        let hash = block.hash();
        if self.blocks.contains_key(&hash) {
            return Vec::new();
        }
        let size = block.encoded_len();
        if size > self.max_bytes {
            return vec![hash];
        }
        let mut dropped = Vec::new();
        while self.blocks.len() + 1 > self.max_blocks || self.bytes + size > self.max_bytes {
            let (_, oldest) =
                self.order.first_key_value().map(|(k, v)| (*k, *v)).expect("over a bound means non-empty");
            self.remove(&oldest);
            dropped.push(oldest);
        }
        self.by_parent.entry(block.header.prev_hash).or_default().push(hash);
        self.order.insert(self.next_seq, hash);
        self.blocks.insert(hash, (block, self.next_seq));
        self.next_seq += 1;
        self.bytes += size;
        self.assert_bounds();
        dropped
    }

    /// Removes one orphan.
    pub fn remove(&mut self, hash: &BlockHash) -> Option<SharedBlock> {
        let (block, seq) = self.blocks.remove(hash)?;
        self.order.remove(&seq);
        self.bytes -= block.encoded_len();
        let siblings = self.by_parent.get_mut(&block.header.prev_hash).expect("indexed by parent");
        siblings.retain(|h| h != hash);
        if siblings.is_empty() {
            self.by_parent.remove(&block.header.prev_hash);
        }
        Some(block)
    }

    /// Takes out every orphan whose parent is `parent`, in arrival order.
    pub fn take_children(&mut self, parent: &BlockHash) -> Vec<SharedBlock> {
        let hashes = self.by_parent.get(parent).cloned().unwrap_or_default();
        hashes.iter().filter_map(|h| self.remove(h)).collect()
    }

    /// The first missing ancestor of `hash`: follows parents through the
    /// pool to the first one not in it (what to ask a peer for).
    pub fn missing_ancestor(&self, hash: &BlockHash) -> BlockHash {
        let mut h = *hash;
        // Bounded by the pool size (a cycle would need a SHA-256 preimage).
        for _ in 0..=self.blocks.len() {
            match self.blocks.get(&h) {
                Some((b, _)) => h = b.header.prev_hash,
                None => return h,
            }
        }
        h
    }

    fn assert_bounds(&self) {
        assert!(self.blocks.len() <= self.max_blocks && self.bytes <= self.max_bytes, "orphan pool within bounds");
        assert_eq!(self.blocks.len(), self.order.len(), "orphan indexes agree");
    }
}
