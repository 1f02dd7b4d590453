//! Block templates: the next block on the best tip, unsolved (nonce 0).

use synod_core::limits::BLOCK_TRANSFERS_MAX;
use synod_core::AccountId;

use crate::chain::block::{PowBlock, BLOCK_VERSION, EMPTY_BLOCK_BYTES};
use crate::chain::chain_state::ChainState;
use crate::chain::coinbase::Coinbase;
use crate::compact::Compact;
use crate::header::Header;
use crate::u256::U256;

impl ChainState {
    /// The next block on the best tip paying `miner`, valid in every respect
    /// but proof of work: mempool transfers by fee then nonce within
    /// `max_block_bytes`, coinbase = subsidy + fees, the retarget rules'
    /// bits, time = `max(now, median time past + 1)`. Mine it with
    /// [`crate::chain::miner::mine_block`] against [`Self::next_target`].
    pub fn block_template(&self, miner: AccountId, now: i64) -> PowBlock {
        let tip = self.best_tip();
        let height = tip.height + 1;
        let params = &self.config().params;
        let bits = self.tree().next_bits(&tip.hash, params);
        let median = self.tree().median_time_past(&tip.hash);
        let now = u32::try_from(now.max(0)).unwrap_or(u32::MAX);
        let time = now.max(median.saturating_add(1));
        let budget = self.config().limits.max_block_bytes - EMPTY_BLOCK_BYTES;
        let transfers = self.mempool().select(self.state(), budget, BLOCK_TRANSFERS_MAX);
        let fees: u64 = transfers.iter().map(|t| t.transfer.fee).sum();
        let amount = self.config().reward.subsidy(height).checked_add(fees).expect("bounded by the maximal supply");
        let coinbase = Coinbase { chain_id: self.config().chain_id(), height, miner, amount, extra_nonce: 0 };
        let header = Header { version: BLOCK_VERSION, prev_hash: tip.hash, merkle_root: [0; 32], time, bits, nonce: 0 };
        let mut block = PowBlock { header, coinbase, transfers };
        block.seal_merkle_root();
        assert!(block.encoded_len() <= self.config().limits.max_block_bytes, "template within the block limit");
        block
    }

    /// The target a child of the best tip must meet.
    pub fn next_target(&self) -> U256 {
        let bits = self.tree().next_bits(&self.best_tip().hash, &self.config().params);
        Compact::target(bits, self.config().params.pow_limit()).expect("retargeting stays within the pow limit")
    }
}
