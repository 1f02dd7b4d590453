//! What must hold at the end of every seed (and, for the bounds, after every
//! event).

use std::collections::HashSet;

use crate::chain::{ChainState, SharedBlock};
use crate::gossip::Gossip;
use crate::hash::BlockHash;
use crate::sim::world::World;

/// A broken property: which check, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Stable name of the check.
    pub check: &'static str,
    /// What was seen.
    pub detail: String,
}

pub(crate) fn fail(check: &'static str, detail: String) -> Result<(), Violation> {
    Err(Violation { check, detail })
}

/// Mempool, orphan pool and the gossip core's sets within their bounds.
pub(crate) fn bounds(node: usize, chain: &ChainState, gossip: &Gossip) -> Result<(), Violation> {
    let (m, o) = (chain.mempool(), chain.orphans());
    if m.len() > m.max_transfers() || m.bytes() > m.max_bytes() {
        return fail("mempool_bound", format!("node {node}: {} transfers, {} bytes", m.len(), m.bytes()));
    }
    if o.len() > o.max_blocks() || o.bytes() > o.max_bytes() {
        return fail("orphan_bound", format!("node {node}: {} orphans, {} bytes", o.len(), o.bytes()));
    }
    let l = gossip.limits();
    let peers = gossip.peers(0);
    let window_ok = peers.iter().all(|p| p.blocks_in_flight <= l.blocks_in_flight_per_peer);
    let in_flight: usize = peers.iter().map(|p| p.blocks_in_flight).sum();
    if peers.len() > l.peers_max || !window_ok || in_flight != gossip.blocks_in_flight() {
        return fail("gossip_in_flight_bound", format!("node {node}: {peers:?}"));
    }
    if gossip.pending_headers() > l.pending_headers_max || gossip.stats().events_dropped > 0 {
        return fail("gossip_bound", format!("node {node}: {} pending headers", gossip.pending_headers()));
    }
    Ok(())
}

/// What a driver persists after a call (the stored-blocks log) is exactly
/// what the tree took, parents first, and nothing was dropped.
pub(crate) fn stored_log(node: usize, chain: &ChainState, stored: &[SharedBlock]) -> Result<(), Violation> {
    for b in stored {
        let hash = b.hash();
        let (Some(e), Some(parent)) = (chain.tree().get(&hash), chain.tree().get(&b.header.prev_hash)) else {
            return fail("stored_log", format!("node {node}: logged block {hash} or its parent is not stored"));
        };
        if parent.seq >= e.seq {
            return fail("stored_log", format!("node {node}: block {hash} logged before its parent"));
        }
    }
    if chain.stats().stored_log_dropped > 0 {
        return fail("stored_log", format!("node {node}: the stored-blocks log dropped entries"));
    }
    Ok(())
}

/// Every node the attacker sent provably bad data still bans it.
pub(crate) fn attacker_banned(world: &World) -> Result<(), Violation> {
    let Some(a) = world.attacker() else {
        return Ok(());
    };
    for (i, n) in world.nodes.iter().enumerate() {
        if n.attacker_offended && !n.gossip.is_banned(a as u64, world.now_ms) {
            return fail("attacker_not_banned", format!("node {i} no longer bans the attacker"));
        }
    }
    Ok(())
}

/// Every node on the same tip, and that tip at least as heavy as any valid
/// block any node knows.
pub(crate) fn convergence(chains: &[ChainState]) -> Result<(), Violation> {
    let tip = chains[0].best_tip();
    for (i, c) in chains.iter().enumerate() {
        let t = c.best_tip();
        if t.hash != tip.hash {
            return fail(
                "convergence",
                format!("node 0 at {} (height {}), node {i} at {} (height {})", tip.hash, tip.height, t.hash, t.height),
            );
        }
        // Recomputed from every stored block, independently of the tree's own choice.
        let heaviest = c.tree().entries().filter(|e| e.is_candidate()).map(|e| e.chain_work).max();
        if heaviest.is_some_and(|w| w > tip.chain_work) {
            return fail("heaviest_chain", format!("node {i} knows a valid block with more work than the tip"));
        }
    }
    Ok(())
}

/// Each node's state equals a replay of its best chain from genesis (every
/// rule and signature checked again).
pub(crate) fn replay(chains: &[ChainState]) -> Result<(), Violation> {
    let mut replayed: Vec<(BlockHash, crate::chain::PowState)> = Vec::new();
    for (i, c) in chains.iter().enumerate() {
        let tip = c.best_tip().hash;
        let state = match replayed.iter().find(|(h, _)| *h == tip) {
            Some((_, s)) => s.clone(),
            None => {
                let s = c.replay_best_chain().map_err(|(h, e)| Violation {
                    check: "replay",
                    detail: format!("node {i}: block {h} of its best chain fails on replay: {e}"),
                })?;
                replayed.push((tip, s.clone()));
                s
            }
        };
        if &state != c.state() {
            return fail("replay", format!("node {i}: state differs from a replay of its best chain"));
        }
    }
    Ok(())
}

/// Balances add up to genesis + the rewards of the best chain: no coins
/// beyond the schedule, and fees only move.
pub(crate) fn supply(chains: &[ChainState]) -> Result<(), Violation> {
    for (i, c) in chains.iter().enumerate() {
        let height = c.best_tip().height;
        let genesis = u128::from(c.config().genesis.validate().expect("valid genesis"));
        let expected = genesis + c.config().reward.cumulative(height);
        let sum = c.state().balance_sum();
        if sum != expected || u128::from(c.state().supply()) != expected {
            return fail("supply", format!("node {i} at height {height}: balances {sum}, schedule allows {expected}"));
        }
    }
    Ok(())
}

/// No transfer (id, or sender and nonce) twice in a best chain; the index
/// holds exactly the chain's transfers; no tampered block on it.
pub(crate) fn applied_once(chains: &[ChainState], tampered: &HashSet<BlockHash>) -> Result<(), Violation> {
    for (i, c) in chains.iter().enumerate() {
        let mut ids = HashSet::new();
        let mut nonces = HashSet::new();
        for (height, hash) in c.active_chain().iter().enumerate().skip(1) {
            if tampered.contains(hash) {
                return fail("invalid_block_accepted", format!("node {i}: tampered block {hash} at height {height}"));
            }
            let block = c.block(hash).expect("active blocks are stored");
            for tx in &block.transfers {
                if !ids.insert(tx.id()) || !nonces.insert((tx.transfer.from, tx.transfer.nonce)) {
                    return fail("applied_twice", format!("node {i}: transfer {} again at height {height}", tx.id()));
                }
            }
        }
        if ids.len() != c.confirmed_transfers().len() {
            return fail(
                "tx_index",
                format!("node {i}: {} in chain, {} indexed", ids.len(), c.confirmed_transfers().len()),
            );
        }
        for e in c.mempool().iter() {
            if ids.contains(&e.id) || e.tx.transfer.nonce < c.account(&e.tx.transfer.from).nonce {
                return fail("mempool_stale", format!("node {i}: mempool holds used transfer {}", e.id));
            }
        }
    }
    Ok(())
}
