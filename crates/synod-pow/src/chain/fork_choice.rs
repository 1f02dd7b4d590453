//! Fork choice in action: moving the best chain to the heaviest valid
//! branch. Blocks are connected with
//! [`PowState::connect`](crate::chain::PowState::connect) (all or nothing,
//! producing undo data) and rolled back with
//! [`PowState::disconnect`](crate::chain::PowState::disconnect); a block that
//! fails to connect is marked invalid with its descendants and the old branch
//! is restored exactly. Afterwards the mempool drops what got confirmed or
//! conflicts, and takes back the still-valid transfers of rolled-back blocks.

use std::collections::BTreeSet;

use synod_core::AccountId;

use crate::chain::block::SharedBlock;
use crate::chain::chain_state::ChainState;
use crate::chain::error::BlockError;
use crate::hash::BlockHash;

impl ChainState {
    /// Switches to the candidate with the most work while it has strictly
    /// more work than the tip. A block that fails to connect is marked
    /// invalid (with its descendants) and the old branch is restored.
    pub(super) fn activate_best_chain(&mut self) {
        let mut disconnected: Vec<SharedBlock> = Vec::new();
        let mut connected: Vec<SharedBlock> = Vec::new();
        let mut touched: BTreeSet<AccountId> = BTreeSet::new();
        loop {
            let best = self.tree.best().hash;
            if self.tree.entry(&best).chain_work <= self.tip_entry().chain_work {
                break;
            }
            let fork_height = self.fork_height(&best);
            let mut path = Vec::new();
            let mut h = best;
            while self.tree.entry(&h).height > fork_height {
                path.push(h);
                h = self.tree.parent(&h).expect("above the fork");
            }
            path.reverse();
            let mut rolled_back = Vec::new();
            while self.best_tip().height > fork_height {
                rolled_back.push(self.disconnect_tip(&mut touched));
            }
            let mut failure = None;
            for (i, h) in path.iter().enumerate() {
                match self.connect(h, &mut touched) {
                    Ok(b) => connected.push(b),
                    Err(e) => {
                        failure = Some((i, *h, e));
                        break;
                    }
                }
            }
            if let Some((done, bad, err)) = failure {
                self.stats.invalid_blocks += self.tree.mark_invalid(&bad, err) as u64;
                for _ in 0..done {
                    self.disconnect_tip(&mut touched);
                }
                for b in rolled_back.iter().rev() {
                    self.connect(&b.hash(), &mut touched).expect("a block that connected before connects again");
                }
                continue;
            }
            if !rolled_back.is_empty() {
                self.stats.reorgs += 1;
                self.stats.max_reorg_depth = self.stats.max_reorg_depth.max(rolled_back.len() as u64);
            }
            disconnected.extend(rolled_back);
        }
        self.update_mempool(disconnected, connected, touched);
        self.assert_tip_is_best();
    }

    /// After the best chain moved: drop what got confirmed, return transfers
    /// of rolled-back blocks that are still valid, re-check touched senders.
    fn update_mempool(
        &mut self,
        disconnected: Vec<SharedBlock>,
        connected: Vec<SharedBlock>,
        mut touched: BTreeSet<AccountId>,
    ) {
        for b in &connected {
            if self.is_active(&b.hash()) {
                for tx in &b.transfers {
                    self.mempool.remove(&tx.id());
                }
            }
        }
        // Oldest block first so each sender's nonces come back in order.
        for b in disconnected.iter().rev() {
            if self.is_active(&b.hash()) {
                continue;
            }
            for tx in &b.transfers {
                touched.insert(tx.transfer.from);
                if self.submit_transfer(tx.clone()).is_ok() {
                    self.stats.returned_to_mempool += 1;
                }
            }
        }
        self.mempool.revalidate(&touched, &self.state);
    }

    fn connect(&mut self, hash: &BlockHash, touched: &mut BTreeSet<AccountId>) -> Result<SharedBlock, BlockError> {
        let entry = self.tree.entry(hash);
        assert_eq!(entry.header.prev_hash, *self.active.last().expect("non-empty"), "connects on the tip");
        let block = entry.block.clone().expect("only block 0 has no body, and it is never connected");
        let height = entry.height;
        let subsidy = self.config.reward.subsidy(height);
        let undo = self.state.connect(&block, subsidy, &mut self.sigs)?;
        touched.extend(undo.prior.iter().map(|(id, _)| *id));
        self.tree.mark_valid(hash);
        self.active.push(*hash);
        for (i, tx) in block.transfers.iter().enumerate() {
            let previous = self.tx_index.insert(tx.id(), (height, i as u32));
            assert!(previous.is_none(), "no transfer is applied twice");
        }
        self.undo.insert(*hash, undo);
        self.stats.connected += 1;
        Ok(block)
    }

    fn disconnect_tip(&mut self, touched: &mut BTreeSet<AccountId>) -> SharedBlock {
        assert!(self.active.len() > 1, "block 0 is never disconnected");
        let hash = self.active.pop().expect("non-empty");
        let block = self.tree.block(&hash).expect("connected blocks have bodies").clone();
        let undo = self.undo.remove(&hash).expect("every connected block has undo data");
        touched.extend(undo.prior.iter().map(|(id, _)| *id));
        self.state.disconnect(&block, undo);
        for tx in &block.transfers {
            self.tx_index.remove(&tx.id()).expect("indexed when connected");
        }
        self.stats.disconnected += 1;
        block
    }

    fn assert_tip_is_best(&self) {
        let tip = self.tip_entry();
        assert!(tip.chain_work >= self.tree.best().chain_work, "the tip has the most work of all candidates");
        assert_eq!(self.undo.len() + 1, self.active.len(), "undo data for every connected block");
        assert!(self.mempool.len() <= self.mempool.max_transfers() && self.mempool.bytes() <= self.mempool.max_bytes());
        assert!(self.orphans.len() <= self.orphans.max_blocks() && self.orphans.bytes() <= self.orphans.max_bytes());
    }
}
