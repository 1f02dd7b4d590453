//! [`ChainState`]: one node's view of a proof-of-work chain, sans-IO. It
//! takes blocks and transfers in (with the caller's clock), keeps the block
//! tree, the best chain's state with undo data, the mempool and the orphan
//! pool, and builds block templates. Gossip, storage and mining threads are
//! the caller's.

use std::collections::HashMap;
use std::sync::Arc;

use synod_core::{Account, AccountId, SignedTransfer, TransferId};

use crate::chain::block::{genesis_header, PowBlock, SharedBlock};
use crate::chain::block_tree::{BlockEntry, BlockStatus, BlockTree};
use crate::chain::config::{ChainConfig, ConfigError};
use crate::chain::error::{BlockError, SubmitError};
use crate::chain::mempool::Mempool;
use crate::chain::orphans::OrphanPool;
use crate::chain::sigcache::SigCache;
use crate::chain::state::{BlockUndo, PowState};
use crate::chain::validate::check_block;
use crate::hash::BlockHash;
use crate::u256::U256;

/// What [`ChainState::receive_block`] did with a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockOutcome {
    /// The best chain grew on its tip (by this block and any orphans it connected).
    Extended {
        /// The new tip's height.
        height: u64,
    },
    /// The best chain switched to a heavier branch.
    Reorged {
        /// Blocks rolled back from the old tip to the fork point.
        depth: u64,
        /// The new tip's height.
        height: u64,
    },
    /// The parent is unknown: the block waits in the orphan pool.
    Orphaned {
        /// The first missing ancestor: ask peers for it.
        missing: BlockHash,
    },
    /// Valid so far and stored, on a branch with no more work than the best.
    StoredSideBranch,
    /// Already stored or waiting; nothing changed.
    AlreadyKnown,
    /// Refused; nothing changed (apart from remembering a contextually
    /// invalid block as such).
    Invalid(BlockError),
}

/// The best chain's tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Its hash.
    pub hash: BlockHash,
    /// Its height.
    pub height: u64,
    /// Total work of the chain.
    pub chain_work: U256,
    /// Its header time.
    pub time: u32,
}

/// Where a transfer stands from this node's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferStatus {
    /// In the best chain.
    Confirmed {
        /// Height of its block.
        height: u64,
        /// Position among the block's transfers.
        index: u32,
        /// `tip height − height + 1`.
        confirmations: u64,
    },
    /// In the mempool.
    Pending,
    /// Neither.
    Unknown,
}

/// Counters for metrics and the simulator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainStats {
    /// Blocks connected to the best chain (reconnections included).
    pub connected: u64,
    /// Blocks rolled back.
    pub disconnected: u64,
    /// Branch switches.
    pub reorgs: u64,
    /// Deepest branch switch.
    pub max_reorg_depth: u64,
    /// Blocks refused or found invalid.
    pub invalid_blocks: u64,
    /// Orphans dropped to stay within bounds.
    pub orphans_dropped: u64,
    /// Transfers of rolled-back blocks admitted back into the mempool.
    pub returned_to_mempool: u64,
    /// Entries dropped from the stored-blocks log because the driver did not
    /// drain it ([`ChainState::take_stored_blocks`]); stays 0 for a driver
    /// that drains after every `receive_block`.
    pub stored_log_dropped: u64,
}

/// One node's proof-of-work chain.
#[derive(Clone, Debug)]
pub struct ChainState {
    pub(super) config: ChainConfig,
    pub(super) tree: BlockTree,
    /// `active[h]` is the best chain's block at height `h`.
    pub(super) active: Vec<BlockHash>,
    pub(super) state: PowState,
    pub(super) undo: HashMap<BlockHash, BlockUndo>,
    pub(super) tx_index: HashMap<TransferId, (u64, u32)>,
    pub(super) mempool: Mempool,
    pub(super) orphans: OrphanPool,
    pub(super) sigs: SigCache,
    pub(super) stats: ChainStats,
    /// Blocks inserted into the tree since the last `take_stored_blocks`,
    /// parents first; at most `stored_log_max()` entries.
    pub(super) stored_log: Vec<SharedBlock>,
}

impl ChainState {
    /// A node at block 0.
    pub fn new(config: ChainConfig) -> Result<ChainState, ConfigError> {
        config.validate()?;
        let state = PowState::from_genesis(&config.genesis)?;
        let tree = BlockTree::new(genesis_header(&config.genesis, &config.params));
        let l = &config.limits;
        Ok(ChainState {
            active: vec![tree.genesis()],
            tree,
            state,
            undo: HashMap::new(),
            tx_index: HashMap::new(),
            mempool: Mempool::new(l.mempool_max_transfers, l.mempool_max_bytes),
            orphans: OrphanPool::new(l.orphan_max_blocks, l.orphan_max_bytes),
            sigs: SigCache::new(l.sig_cache_entries),
            stats: ChainStats::default(),
            stored_log: Vec::new(),
            config,
        })
    }

    /// Every block newly inserted into the block tree since the last call
    /// (on the best chain or a side branch, orphans that got connected
    /// included), parents before children, so a driver can persist exactly
    /// what the chain accepted. Blocks found invalid later stay in the tree
    /// (marked) and are reported too.
    ///
    /// Bounded: one [`Self::receive_block`] inserts at most
    /// [`Self::stored_log_max`] blocks (the block and the orphans it
    /// connects), and the log holds at most that many. A driver that drains
    /// after every `receive_block` never loses an entry; one that does not
    /// loses the oldest, counted in [`ChainStats::stored_log_dropped`].
    pub fn take_stored_blocks(&mut self) -> Vec<SharedBlock> {
        std::mem::take(&mut self.stored_log)
    }

    /// Most entries the stored-blocks log holds: one block plus a full orphan pool.
    pub fn stored_log_max(&self) -> usize {
        1 + self.config.limits.orphan_max_blocks
    }

    /// Inserts a checked block into the tree and logs it for the driver.
    fn store(&mut self, block: SharedBlock) {
        self.tree.insert(block.clone());
        if self.stored_log.len() == self.stored_log_max() {
            self.stored_log.remove(0);
            self.stats.stored_log_dropped += 1;
        }
        self.stored_log.push(block);
        assert!(self.stored_log.len() <= self.stored_log_max(), "stored-blocks log within its bound");
    }

    /// The configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The state at the best tip.
    pub fn state(&self) -> &PowState {
        &self.state
    }

    /// Every stored block.
    pub fn tree(&self) -> &BlockTree {
        &self.tree
    }

    /// Waiting transfers.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// Blocks waiting for a parent.
    pub fn orphans(&self) -> &OrphanPool {
        &self.orphans
    }

    /// Counters.
    pub fn stats(&self) -> &ChainStats {
        &self.stats
    }

    /// The best chain's hashes from block 0 to the tip.
    pub fn active_chain(&self) -> &[BlockHash] {
        &self.active
    }

    /// The best chain's block at `height` (`None` for 0 or beyond the tip).
    pub fn block_at(&self, height: u64) -> Option<&SharedBlock> {
        let hash = self.active.get(usize::try_from(height).ok()?)?;
        self.tree.block(hash)
    }

    /// A stored block by hash, on any branch.
    pub fn block(&self, hash: &BlockHash) -> Option<&SharedBlock> {
        self.tree.block(hash)
    }

    /// True if `hash` is stored or waits in the orphan pool.
    pub fn knows(&self, hash: &BlockHash) -> bool {
        self.tree.contains(hash) || self.orphans.contains(hash)
    }

    /// The best chain's tip.
    pub fn best_tip(&self) -> Tip {
        let e = self.tip_entry();
        Tip { hash: e.hash, height: e.height, chain_work: e.chain_work, time: e.header.time }
    }

    pub(super) fn tip_entry(&self) -> &BlockEntry {
        self.tree.entry(self.active.last().expect("block 0 is always active"))
    }

    pub(super) fn is_active(&self, hash: &BlockHash) -> bool {
        self.tree.get(hash).is_some_and(|e| self.active.get(e.height as usize) == Some(hash))
    }

    /// An account at the best tip.
    pub fn account(&self, id: &AccountId) -> Account {
        self.state.account(id)
    }

    /// The nonce `id`'s next transfer should carry: confirmed plus waiting.
    pub fn next_nonce(&self, id: &AccountId) -> u64 {
        self.mempool.next_nonce(id, self.state.account(id).nonce)
    }

    /// Where `id` stands.
    pub fn transfer_status(&self, id: &TransferId) -> TransferStatus {
        if let Some(&(height, index)) = self.tx_index.get(id) {
            let confirmations = self.best_tip().height - height + 1;
            TransferStatus::Confirmed { height, index, confirmations }
        } else if self.mempool.contains(id) {
            TransferStatus::Pending
        } else {
            TransferStatus::Unknown
        }
    }

    /// Blocks on top of (and including) the one holding `id` in the best
    /// chain; `None` if it is not in the best chain.
    pub fn confirmations(&self, id: &TransferId) -> Option<u64> {
        match self.transfer_status(id) {
            TransferStatus::Confirmed { confirmations, .. } => Some(confirmations),
            _ => None,
        }
    }

    /// Admits a transfer to the mempool: chain id, shape and signature
    /// (PROTOCOL.md 2.5); then, as in the Paxos mode, a valid resubmission of
    /// a confirmed transfer is recognised ([`SubmitError::AlreadyConfirmed`]);
    /// then the mempool's rules against the best tip's state ([`Mempool::add`]).
    /// Returns the transfer id.
    pub fn submit_transfer(&mut self, tx: SignedTransfer) -> Result<TransferId, SubmitError> {
        let t = &tx.transfer;
        if t.chain_id != self.config.chain_id() {
            return Err(
                synod_core::RejectReason::WrongChain { expected: self.config.chain_id(), got: t.chain_id }.into()
            );
        }
        t.check_shape()?;
        self.sigs.verify(&tx, self.state.auth())?;
        let id = tx.id();
        if let Some(&(height, _)) = self.tx_index.get(&id) {
            return Err(SubmitError::AlreadyConfirmed { height });
        }
        let sender = self.state.account(&t.from);
        self.mempool.add(tx, id, sender, self.config.limits.min_fee)?;
        Ok(id)
    }

    /// Takes a block from a peer or a miner. `now` is the local clock in Unix
    /// seconds (for the future-time rule). See [`BlockOutcome`].
    pub fn receive_block(&mut self, block: PowBlock, now: i64) -> BlockOutcome {
        let hash = block.hash();
        if let Some(e) = self.tree.get(&hash) {
            return match &e.status {
                BlockStatus::Invalid(err) => BlockOutcome::Invalid(err.clone()),
                _ => BlockOutcome::AlreadyKnown,
            };
        }
        if self.orphans.contains(&hash) {
            return BlockOutcome::AlreadyKnown;
        }
        if let Err(e) = check_block(&block, &self.config, now) {
            self.stats.invalid_blocks += 1;
            return BlockOutcome::Invalid(e);
        }
        let block = Arc::new(block);
        if !self.tree.contains(&block.header.prev_hash) {
            let dropped = self.orphans.insert(block);
            self.stats.orphans_dropped += dropped.len() as u64;
            return BlockOutcome::Orphaned { missing: self.orphans.missing_ancestor(&hash) };
        }
        if let Err(e) = self.tree.check_child(&block, &self.config.params) {
            self.stats.invalid_blocks += 1;
            return BlockOutcome::Invalid(e);
        }
        let old_tip = self.best_tip();
        let stored_before = self.tree.len();
        self.store(block);
        self.adopt_orphans(hash);
        assert!(
            self.tree.len() - stored_before <= self.stored_log_max(),
            "one block inserts at most itself and a full orphan pool"
        );
        self.activate_best_chain();
        let new_tip = self.best_tip();
        if let BlockStatus::Invalid(e) = &self.tree.entry(&hash).status {
            return BlockOutcome::Invalid(e.clone());
        }
        if new_tip.hash == old_tip.hash {
            return BlockOutcome::StoredSideBranch;
        }
        let fork = self.tree.ancestor(&new_tip.hash, old_tip.height.min(new_tip.height));
        if fork == old_tip.hash {
            BlockOutcome::Extended { height: new_tip.height }
        } else {
            let fork_height = self.fork_height(&old_tip.hash);
            BlockOutcome::Reorged { depth: old_tip.height - fork_height, height: new_tip.height }
        }
    }

    /// Height of the last common block of `hash`'s branch and the best chain.
    pub(super) fn fork_height(&self, hash: &BlockHash) -> u64 {
        let mut h = *hash;
        while !self.is_active(&h) {
            h = self.tree.parent(&h).expect("block 0 is active");
        }
        self.tree.entry(&h).height
    }

    /// Stores the orphans that descend from the just-stored `root`, in order.
    fn adopt_orphans(&mut self, root: BlockHash) {
        let mut queue = vec![root];
        while let Some(parent) = queue.pop() {
            for child in self.orphans.take_children(&parent) {
                let hash = child.hash();
                match self.tree.check_child(&child, &self.config.params) {
                    Ok(()) => {
                        self.store(child);
                        queue.push(hash);
                    }
                    Err(_) => {
                        // Drop it and everything waiting on it.
                        self.stats.invalid_blocks += 1;
                        let mut doomed = vec![hash];
                        while let Some(d) = doomed.pop() {
                            for c in self.orphans.take_children(&d) {
                                doomed.push(c.hash());
                            }
                        }
                    }
                }
            }
        }
    }

    /// Replays the best chain from block 0 with every rule and signature
    /// checked again; the result must equal [`Self::state`].
    pub fn replay_best_chain(&self) -> Result<PowState, (u64, BlockError)> {
        let mut state = PowState::from_genesis(&self.config.genesis).expect("validated genesis");
        let mut sigs = SigCache::new(0);
        for height in 1..self.active.len() as u64 {
            let block = self.block_at(height).expect("active blocks are stored");
            state.connect(block, self.config.reward.subsidy(height), &mut sigs).map_err(|e| (height, e))?;
        }
        Ok(state)
    }

    /// Every transfer id in the best chain with its (height, index).
    pub fn confirmed_transfers(&self) -> &HashMap<TransferId, (u64, u32)> {
        &self.tx_index
    }
}
