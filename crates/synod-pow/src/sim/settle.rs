//! After the active phase: no loss, no duplicates, no partitions, no
//! mining, no attacker. Each round lets everything in flight arrive, then
//! advances the clock by a sync poll and ticks every node (each asks its
//! peers for headers, timed-out requests go elsewhere). While nodes still
//! disagree and a round changed nothing (equal-work tips), the node with
//! the most work mines one more block.

use crate::hash::BlockHash;
use crate::sim::checks::{fail, Violation};
use crate::sim::world::{sim_gossip_limits, World};

const SETTLE_ROUNDS: usize = 60;

impl World<'_> {
    pub(super) fn settle(&mut self) -> Result<(), Violation> {
        let poll_ms = sim_gossip_limits(self.opts).sync_poll_ms;
        let mut last: Vec<(BlockHash, usize)> = Vec::new();
        for round in 0..SETTLE_ROUNDS {
            self.now_ms += poll_ms;
            for node in 0..self.nodes.len() {
                let now = self.now_ms;
                self.gossip_call(node, |g, c| g.on_tick(c, now))?;
            }
            while let Some(((t, _), event)) = self.queue.pop_first() {
                self.now_ms = self.now_ms.max(t);
                self.step(event)?;
            }
            let now: Vec<(BlockHash, usize)> =
                self.nodes.iter().map(|n| (n.chain.best_tip().hash, n.chain.tree().len())).collect();
            if now.iter().all(|(h, _)| *h == now[0].0) {
                self.stats.settle_rounds = round as u64 + 1;
                return Ok(());
            }
            if now == last {
                let best = (0..self.nodes.len())
                    .max_by(|&a, &b| {
                        let (wa, wb) = (self.nodes[a].chain.best_tip(), self.nodes[b].chain.best_tip());
                        wa.chain_work.cmp(&wb.chain_work).then(b.cmp(&a))
                    })
                    .expect("at least two nodes");
                self.log(|| format!("settle: tips tie, node {best} mines a tie-breaker"));
                self.mine(best)?;
            }
            last = now;
        }
        for (i, n) in self.nodes.iter().enumerate() {
            eprintln!(
                "DEBUG node {i} tip {} pending {} inflight {} orphans {} stats {:?} peers {:?}",
                n.chain.best_tip().height,
                n.gossip.pending_headers(),
                n.gossip.blocks_in_flight(),
                n.chain.orphans().len(),
                n.gossip.stats(),
                n.gossip.peers(self.now_ms)
            );
        }
        let tips: Vec<String> = self.nodes.iter().map(|n| n.chain.best_tip().hash.to_string()).collect();
        fail("convergence", format!("no agreement after {SETTLE_ROUNDS} settle rounds: {tips:?}"))
    }
}
