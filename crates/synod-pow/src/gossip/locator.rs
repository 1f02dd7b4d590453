//! Block locators (Bitcoin's `CBlockLocator`): how two nodes find where
//! their chains part in one round trip. Ten hashes back from the tip one by
//! one, then doubling steps, always ending with block 0: ~10 + log2(height)
//! hashes.

use crate::chain::ChainState;
use crate::gossip::header_store::HeaderStore;
use crate::hash::BlockHash;

/// Hashes taken one by one before the steps start doubling.
const DENSE_HASHES: usize = 10;

/// The locator from `start` (a pending header or a stored block) back to
/// block 0, at most `max` hashes (≥ 2), the last always block 0.
pub(crate) fn locator(chain: &ChainState, pending: &HeaderStore, start: BlockHash, max: usize) -> Vec<BlockHash> {
    assert!(max >= 2, "room for a tip and block 0");
    let genesis = chain.tree().genesis();
    let mut out = Vec::with_capacity(max.min(64));
    let mut cur = start;
    let mut height = height_of(chain, pending, &cur).expect("locators start at a known header");
    let mut step = 1u64;
    loop {
        out.push(cur);
        if height == 0 || out.len() == max - 1 {
            break;
        }
        if out.len() >= DENSE_HASHES {
            step = step.saturating_mul(2);
        }
        height = height.saturating_sub(step);
        cur = ancestor(chain, pending, cur, height);
    }
    if *out.last().expect("at least the start") != genesis {
        out.push(genesis);
    }
    assert!(out.len() <= max && out.last() == Some(&genesis), "bounded, ends with block 0");
    out
}

/// Height of a pending header or a stored block.
pub(crate) fn height_of(chain: &ChainState, pending: &HeaderStore, hash: &BlockHash) -> Option<u64> {
    pending.get(hash).map(|p| p.height).or_else(|| chain.tree().get(hash).map(|e| e.height))
}

/// The ancestor of `hash` at `height` (≤ its height), through pending
/// headers and then the tree.
fn ancestor(chain: &ChainState, pending: &HeaderStore, hash: BlockHash, height: u64) -> BlockHash {
    let mut cur = hash;
    while let Some(p) = pending.get(&cur) {
        if p.height == height {
            return cur;
        }
        cur = p.header.prev_hash;
    }
    let entry = chain.tree().get(&cur).expect("pending headers hang from stored blocks");
    let active = chain.active_chain();
    if active.get(entry.height as usize) == Some(&cur) {
        active[height as usize]
    } else {
        chain.tree().ancestor(&cur, height)
    }
}

/// Where to serve headers from: the height of the first locator hash on our
/// best chain, or 0 (block 0) if none is.
pub(crate) fn fork_height(chain: &ChainState, locator: &[BlockHash]) -> u64 {
    let active = chain.active_chain();
    locator
        .iter()
        .find_map(|h| chain.tree().get(h).filter(|e| active.get(e.height as usize) == Some(h)).map(|e| e.height))
        .unwrap_or(0)
}
