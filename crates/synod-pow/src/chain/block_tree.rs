//! Every block a node has accepted, on any branch, with its height and chain
//! work: the data fork choice and the contextual header rules need.
//!
//! Fork choice: the best candidate is the block with the most chain work
//! (`Σ 2^256 / (target + 1)`, Bitcoin's `nChainWork`) that is not known to
//! be invalid; between equal work the first one seen wins, so a node only
//! switches branches for strictly more work.

use std::collections::HashMap;

use crate::chain::block::{PowBlock, SharedBlock};
use crate::chain::error::BlockError;
use crate::hash::BlockHash;
use crate::header::Header;
use crate::median_time::{median_time_past, MEDIAN_TIME_SPAN};
use crate::params::Params;
use crate::retarget::next_work_required;
use crate::u256::U256;
use crate::work::block_proof;

/// What is known about a block's validity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockStatus {
    /// Header and body checked; never connected yet (side branch).
    Unconnected,
    /// Connected at least once (or block 0).
    Valid,
    /// Failed to connect, or descends from a block that did.
    Invalid(BlockError),
}

/// One block in the tree.
#[derive(Clone, Debug)]
pub struct BlockEntry {
    /// Its hash.
    pub hash: BlockHash,
    /// Its header.
    pub header: Header,
    /// Height (0 for block 0).
    pub height: u64,
    /// Work of this block and all its ancestors.
    pub chain_work: U256,
    /// The block; `None` for block 0, which has no body.
    pub block: Option<SharedBlock>,
    /// Validity.
    pub status: BlockStatus,
    /// Arrival order: earlier wins ties.
    pub seq: u64,
}

impl BlockEntry {
    /// True unless known invalid.
    pub fn is_candidate(&self) -> bool {
        !matches!(self.status, BlockStatus::Invalid(_))
    }
}

/// The block tree, rooted at block 0.
#[derive(Clone, Debug)]
pub struct BlockTree {
    entries: HashMap<BlockHash, BlockEntry>,
    children: HashMap<BlockHash, Vec<BlockHash>>,
    genesis: BlockHash,
    best: BlockHash,
    next_seq: u64,
}

impl BlockTree {
    /// A tree holding only block 0.
    pub fn new(genesis: Header) -> BlockTree {
        let hash = genesis.block_hash();
        let entry = BlockEntry {
            hash,
            header: genesis,
            height: 0,
            chain_work: block_proof(genesis.bits),
            block: None,
            status: BlockStatus::Valid,
            seq: 0,
        };
        BlockTree {
            entries: HashMap::from([(hash, entry)]),
            children: HashMap::new(),
            genesis: hash,
            best: hash,
            next_seq: 1,
        }
    }

    /// Block 0's hash.
    pub fn genesis(&self) -> BlockHash {
        self.genesis
    }

    /// The entry of `hash`, if stored.
    pub fn get(&self, hash: &BlockHash) -> Option<&BlockEntry> {
        self.entries.get(hash)
    }

    /// The entry of a hash known to be stored.
    pub fn entry(&self, hash: &BlockHash) -> &BlockEntry {
        self.entries.get(hash).expect("block is in the tree")
    }

    /// True if stored (valid or not).
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.entries.contains_key(hash)
    }

    /// Blocks stored, block 0 included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true: block 0 is always stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The stored body of `hash` (`None` for block 0 or unknown hashes).
    pub fn block(&self, hash: &BlockHash) -> Option<&SharedBlock> {
        self.entries.get(hash).and_then(|e| e.block.as_ref())
    }

    /// The parent of a stored block (`None` for block 0).
    pub fn parent(&self, hash: &BlockHash) -> Option<BlockHash> {
        if *hash == self.genesis {
            None
        } else {
            Some(self.entry(hash).header.prev_hash)
        }
    }

    /// The ancestor of `hash` at `height` (≤ its height), walking parents.
    pub fn ancestor(&self, hash: &BlockHash, height: u64) -> BlockHash {
        let mut h = *hash;
        assert!(height <= self.entry(&h).height, "ancestor height at most the block's");
        while self.entry(&h).height > height {
            h = self.parent(&h).expect("only block 0 has height 0");
        }
        h
    }

    /// Median time of `hash` and up to 10 of its ancestors.
    pub fn median_time_past(&self, hash: &BlockHash) -> u32 {
        let mut times = Vec::with_capacity(MEDIAN_TIME_SPAN);
        let mut h = Some(*hash);
        while let (Some(cur), true) = (h, times.len() < MEDIAN_TIME_SPAN) {
            times.push(self.entry(&cur).header.time);
            h = self.parent(&cur);
        }
        median_time_past(&times).expect("at least the block itself")
    }

    /// The bits a child of `parent` must carry (`GetNextWorkRequired`).
    pub fn next_bits(&self, parent: &BlockHash, params: &Params) -> u32 {
        let p = self.entry(parent);
        let next_height = p.height + 1;
        next_work_required(
            next_height,
            p.header.bits,
            || {
                let first = self.ancestor(parent, next_height - u64::from(params.interval()));
                (self.entry(&first).header.time, p.header.time)
            },
            params,
        )
    }

    /// The contextual header rules for a block whose parent is stored:
    /// valid parent, coinbase height, retarget bits, median time past.
    pub fn check_child(&self, block: &PowBlock, params: &Params) -> Result<(), BlockError> {
        let parent = self.entry(&block.header.prev_hash);
        if !parent.is_candidate() {
            return Err(BlockError::InvalidAncestor);
        }
        let expected = parent.height + 1;
        if block.coinbase.height != expected {
            return Err(BlockError::BadHeight { expected, got: block.coinbase.height });
        }
        let bits = self.next_bits(&parent.hash, params);
        if block.header.bits != bits {
            return Err(BlockError::WrongBits { expected: bits, got: block.header.bits });
        }
        let median = self.median_time_past(&parent.hash);
        if block.header.time <= median {
            return Err(BlockError::TimeTooOld { time: block.header.time, median });
        }
        Ok(())
    }

    /// Stores a block that passed [`Self::check_child`] (and the arrival checks).
    pub fn insert(&mut self, block: SharedBlock) -> &BlockEntry {
        let hash = block.hash();
        assert!(!self.entries.contains_key(&hash), "a block is stored once");
        let parent = self.entry(&block.header.prev_hash);
        assert!(parent.is_candidate() && block.coinbase.height == parent.height + 1, "checked by check_child");
        let chain_work = parent.chain_work.saturating_add(&block_proof(block.header.bits));
        let entry = BlockEntry {
            hash,
            header: block.header,
            height: parent.height + 1,
            chain_work,
            block: Some(block),
            status: BlockStatus::Unconnected,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.children.entry(entry.header.prev_hash).or_default().push(hash);
        if chain_work > self.entry(&self.best).chain_work {
            self.best = hash;
        }
        self.entries.insert(hash, entry);
        self.entry(&hash)
    }

    /// Records that `hash` connected.
    pub fn mark_valid(&mut self, hash: &BlockHash) {
        let e = self.entries.get_mut(hash).expect("block is in the tree");
        assert!(e.is_candidate(), "an invalid block never connects");
        e.status = BlockStatus::Valid;
    }

    /// Marks `hash` invalid with `err` and every descendant with
    /// [`BlockError::InvalidAncestor`]; returns how many were marked.
    pub fn mark_invalid(&mut self, hash: &BlockHash, err: BlockError) -> usize {
        assert_ne!(*hash, self.genesis, "block 0 is valid by definition");
        let mut marked = 0;
        let mut stack = vec![(*hash, err)];
        while let Some((h, e)) = stack.pop() {
            let entry = self.entries.get_mut(&h).expect("block is in the tree");
            assert!(entry.status != BlockStatus::Valid, "a connected block (or its ancestor) cannot fail to connect");
            entry.status = BlockStatus::Invalid(e);
            marked += 1;
            for child in self.children.get(&h).into_iter().flatten() {
                stack.push((*child, BlockError::InvalidAncestor));
            }
        }
        self.recompute_best();
        marked
    }

    fn recompute_best(&mut self) {
        let best = self
            .entries
            .values()
            .filter(|e| e.is_candidate())
            .max_by(|a, b| a.chain_work.cmp(&b.chain_work).then(b.seq.cmp(&a.seq)))
            .expect("block 0 is always a candidate");
        self.best = best.hash;
    }

    /// The candidate with the most work (first seen among equals).
    pub fn best(&self) -> &BlockEntry {
        self.entry(&self.best)
    }

    /// Every stored entry (any order).
    pub fn entries(&self) -> impl Iterator<Item = &BlockEntry> {
        self.entries.values()
    }
}
