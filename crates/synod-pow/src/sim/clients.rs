//! Simulated clients: transfers with random amounts, fees and memos from
//! client and miner accounts, to known or fresh accounts, and double spends
//! across partitions.

use rand::Rng;
use synod_core::{AccountId, SignedTransfer, Transfer};

use crate::sim::checks::Violation;
use crate::sim::world::World;

impl World<'_> {
    /// One client action: a transfer from a random funded account (client or
    /// miner) to another one or a fresh account, through a random node;
    /// during a partition sometimes a double spend (same nonce, a fresh
    /// receiver) on the other side.
    pub(super) fn client(&mut self) -> Result<(), Violation> {
        let sender = self.rng.gen_range(0..self.keys.len());
        let node = self.rng.gen_range(0..self.nodes.len());
        if !self.nodes[node].joined {
            return Ok(());
        }
        let chain = &self.nodes[node].chain;
        let from = self.keys[sender].account();
        let balance = chain.account(&from).balance;
        if balance < 64 {
            return Ok(());
        }
        let nonce = chain.next_nonce(&from);
        let mut receiver = self.rng.gen_range(0..self.keys.len() - 1);
        if receiver >= sender {
            receiver += 1;
        }
        // Sometimes a fresh account, so rolled-back blocks must remove accounts they created.
        let to = if self.rng.gen_bool(0.1) { AccountId(self.rng.gen()) } else { self.keys[receiver].account() };
        let amount = self.rng.gen_range(1..=balance / 32);
        let fee = self.rng.gen_range(0..=20);
        let memo = vec![self.rng.gen(); self.rng.gen_range(0..=8)];
        let transfer = Transfer { chain_id: chain.config().chain_id(), from, to, amount, fee, nonce, memo };
        let first = transfer.clone().sign(&self.keys[sender]);
        self.submit(node, first)?;
        if self.links.is_partitioned() && self.rng.gen_bool(0.3) {
            let other: Vec<usize> = (0..self.nodes.len())
                .filter(|&o| self.nodes[o].joined && self.links.group(o) != self.links.group(node))
                .collect();
            if other.is_empty() {
                return Ok(());
            }
            let target = other[self.rng.gen_range(0..other.len())];
            let mut twin = transfer;
            twin.to = AccountId(self.rng.gen());
            let twin = twin.sign(&self.keys[sender]);
            self.stats.double_spends += 1;
            self.submit(target, twin)?;
        }
        Ok(())
    }

    fn submit(&mut self, node: usize, tx: SignedTransfer) -> Result<(), Violation> {
        self.stats.transfers_submitted += 1;
        let now_ms = self.now_ms;
        let mut result = None;
        self.gossip_call(node, |g, c| {
            let (r, actions) = g.on_local_transfer(tx.clone(), c, now_ms);
            result = Some(r);
            actions
        })?;
        self.log(|| format!("client -> node {node}: transfer {} nonce {}: {result:?}", tx.id(), tx.transfer.nonce));
        if matches!(result, Some(Ok(_))) {
            self.stats.transfers_accepted += 1;
        }
        Ok(())
    }
}
