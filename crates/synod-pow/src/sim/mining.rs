//! Mining in the simulation: block-find times drawn from an exponential
//! distribution scaled by difficulty and hash-power share, each block then
//! solved for real against its (easy) target; and tampered variants that
//! pass the arrival checks but break a ledger rule.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rand::Rng;

use crate::chain::{mine_block, record_len, BlockOutcome, HashCounter, MineOutcome, MinerConfig, PowBlock};
use crate::gossip::GossipMsg;
use crate::sim::checks::{fail, Violation};
use crate::sim::world::{hash_word, mix, Event, World};
use crate::work::block_proof;
use crate::U256;

impl World<'_> {
    /// Draws the node's next block-find time on its current tip: the network
    /// finds `hashrate_multiple` blocks every `spacing` seconds at the pow
    /// limit, shared by hash power, and proportionally fewer at higher
    /// difficulty. Exponential
    /// times are memoryless, so redrawing on every tip change is exact.
    pub(super) fn schedule_mine(&mut self, node: usize) {
        if !self.mining || !self.nodes[node].joined {
            return;
        }
        let total: u64 = self.nodes.iter().map(|n| n.power).sum();
        let n = &mut self.nodes[node];
        n.mine_gen += 1;
        let gen = n.mine_gen;
        let chain = &n.chain;
        let params = &chain.config().params;
        let bits = chain.tree().next_bits(&chain.best_tip().hash, params);
        let factor = u256_f64(&block_proof(bits)) / u256_f64(&block_proof(params.pow_limit_bits()));
        let rate = f64::from(self.opts.hashrate_multiple.max(1)) * n.power as f64 / total as f64;
        let mean = f64::from(self.opts.spacing_secs) * 1000.0 * factor / rate;
        let delay = self.exp_ms(mean);
        self.push(delay, Event::Mine { node, gen });
    }

    /// Builds a template on the node's tip, solves it for real, and hands it
    /// to the node's gossip core (which applies and announces it).
    pub(super) fn mine(&mut self, node: usize) -> Result<(), Violation> {
        let now = self.now_secs(node);
        let n = &self.nodes[node];
        let template = n.chain.block_template(n.miner, now);
        let target = n.chain.next_target();
        let cfg = MinerConfig { threads: 1, chunk: 1 << 12, max_nonce: u32::MAX, max_time: None, max_headers: 8 };
        let MineOutcome::Found(mined) =
            mine_block(template, &target, &cfg, &HashCounter::new(), &AtomicBool::new(false))
        else {
            return fail("mining", format!("node {node} found no nonce for an easy target"));
        };
        let block = Arc::new(mined.block);
        let now_ms = self.now_ms;
        let mut outcome = None;
        self.gossip_call(node, |g, c| {
            let (o, actions) = g.on_mined_block((*block).clone(), c, now_ms, now);
            outcome = Some(o);
            actions
        })?;
        self.log(|| format!("node {node} mined {} at height {}: {outcome:?}", block.hash(), block.height()));
        mix(&mut self.trace_hash, hash_word(&block.hash()));
        if !matches!(outcome, Some(BlockOutcome::Extended { .. })) {
            return fail("own_block", format!("node {node}: its own template gave {outcome:?}"));
        }
        self.stats.blocks_mined += 1;
        self.last_mined = Some(block.clone());
        if self.rng.gen_range(0..1000) < self.opts.tamper_per_mille {
            self.send_tampered(node, &block, &target)?;
        }
        Ok(())
    }

    /// A variant of `block` that passes the arrival checks (its proof of work
    /// and Merkle root are redone) but breaks a ledger rule: an inflated
    /// coinbase, or a transfer spent twice.
    fn send_tampered(&mut self, node: usize, block: &PowBlock, target: &crate::U256) -> Result<(), Violation> {
        let mut bad = block.clone();
        let max_bytes = self.nodes[node].chain.config().limits.max_block_bytes;
        let spend_twice = self.rng.gen_bool(0.5);
        // The copy must still fit: an oversize block is provably bad, and its
        // sender would rightly be banned.
        if spend_twice && !bad.transfers.is_empty() && bad.encoded_len() + record_len(&bad.transfers[0]) <= max_bytes {
            let again = bad.transfers[0].clone();
            bad.coinbase.amount += again.transfer.fee;
            bad.transfers.push(again);
        } else {
            bad.coinbase.amount += 1;
        }
        bad.seal_merkle_root();
        let cfg = MinerConfig { threads: 1, chunk: 1 << 12, max_nonce: u32::MAX, max_time: None, max_headers: 8 };
        let MineOutcome::Found(mined) = mine_block(bad, target, &cfg, &HashCounter::new(), &AtomicBool::new(false))
        else {
            return fail("mining", format!("node {node} could not re-mine a tampered block"));
        };
        self.tampered.insert(mined.hash);
        self.stats.tampered_blocks += 1;
        self.log(|| format!("node {node} also pushes tampered {}", mined.hash));
        // Pushed unasked to every peer, as a block of its own would be.
        let bytes = GossipMsg::Block(mined.block.encode()).to_bytes();
        for to in 0..self.nodes.len() {
            if self.conns.is_open(node, to) {
                self.send_bytes(node, to, bytes.clone());
            }
        }
        Ok(())
    }
}

fn u256_f64(v: &U256) -> f64 {
    v.limbs().iter().rev().fold(0.0, |acc, l| acc * 18_446_744_073_709_551_616.0 + *l as f64)
}
