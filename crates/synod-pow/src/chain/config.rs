//! A proof-of-work chain's fixed configuration: genesis, difficulty
//! parameters, reward schedule and local resource bounds.

use synod_core::limits::BLOCK_BYTES_MAX;
use synod_core::Genesis;

use crate::chain::reward::RewardSchedule;
use crate::params::Params;
use crate::u256::U256;

/// Local bounds of one node (policy, not consensus, except `max_block_bytes`,
/// which every node of a network must agree on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainLimits {
    /// Largest encoded block (header, coinbase, count, records), in bytes.
    pub max_block_bytes: usize,
    /// Most transfers the mempool holds.
    pub mempool_max_transfers: usize,
    /// Most record bytes the mempool holds.
    pub mempool_max_bytes: usize,
    /// Most blocks waiting for their parent.
    pub orphan_max_blocks: usize,
    /// Most encoded bytes of blocks waiting for their parent.
    pub orphan_max_bytes: usize,
    /// Verified (transfer record) signatures remembered, so a transfer seen in
    /// the mempool, a block and a reorg is verified once.
    pub sig_cache_entries: usize,
    /// Smallest fee the mempool accepts.
    pub min_fee: u64,
}

impl Default for ChainLimits {
    fn default() -> Self {
        ChainLimits {
            max_block_bytes: 1024 * 1024,
            mempool_max_transfers: 50_000,
            mempool_max_bytes: 16 * 1024 * 1024,
            orphan_max_blocks: 64,
            orphan_max_bytes: 32 * 1024 * 1024,
            sig_cache_entries: 100_000,
            min_fee: 0,
        }
    }
}

/// Everything a node needs to validate and build blocks of one chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    /// Chain id, auth mode, start time and allocations (block 0's state).
    pub genesis: Genesis,
    /// Difficulty rules: pow limit, spacing, retarget interval, future time.
    pub params: Params,
    /// Block subsidy and halvings.
    pub reward: RewardSchedule,
    /// Local bounds.
    pub limits: ChainLimits,
}

/// A configuration that cannot run a chain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The genesis breaks its own rules.
    #[error("genesis: {0}")]
    Genesis(#[from] synod_core::GenesisError),
    /// Genesis supply plus every reward ever paid does not fit in u64.
    #[error("genesis supply plus all rewards overflows u64")]
    SupplyOverflow,
    /// The reward schedule halves every 0 blocks.
    #[error("halving interval must be nonzero")]
    ZeroHalvingInterval,
    /// The genesis time is not representable as a u32 header time.
    #[error("genesis timestamp does not fit a u32 of seconds")]
    GenesisTime,
    /// `max_block_bytes` is too small for an empty block or above the protocol limit.
    #[error("max_block_bytes {0} is outside {min}..={BLOCK_BYTES_MAX}", min = crate::chain::block::EMPTY_BLOCK_BYTES)]
    BlockBytes(usize),
    /// A mempool, orphan or cache bound is zero.
    #[error("{0} must be nonzero")]
    ZeroBound(&'static str),
}

impl ChainConfig {
    /// A development network: the easiest target (`bits 0x207fffff`, about
    /// two hashes per block), `spacing` seconds between blocks, a retarget
    /// every `interval` blocks, reward `reward` halving every `halving` blocks.
    pub fn dev(genesis: Genesis, spacing: u32, interval: u32, reward: u64, halving: u64) -> ChainConfig {
        let params = Params::synod(U256::MAX.shr(1), spacing, interval).expect("valid dev parameters");
        ChainConfig {
            genesis,
            params,
            reward: RewardSchedule { initial: reward, halving_interval: halving },
            limits: ChainLimits::default(),
        }
    }

    /// Checks the configuration; returns the largest supply the chain can
    /// ever reach (genesis plus every reward).
    pub fn validate(&self) -> Result<u64, ConfigError> {
        let genesis_supply = self.genesis.validate()?;
        self.genesis.check_accounts()?;
        if self.reward.halving_interval == 0 {
            return Err(ConfigError::ZeroHalvingInterval);
        }
        u32::try_from(self.genesis.timestamp_ms / 1000).map_err(|_| ConfigError::GenesisTime)?;
        let max = u128::from(genesis_supply) + self.reward.total();
        let max = u64::try_from(max).map_err(|_| ConfigError::SupplyOverflow)?;
        let l = &self.limits;
        if l.max_block_bytes < crate::chain::block::EMPTY_BLOCK_BYTES || l.max_block_bytes > BLOCK_BYTES_MAX {
            return Err(ConfigError::BlockBytes(l.max_block_bytes));
        }
        for (name, v) in [
            ("mempool_max_transfers", l.mempool_max_transfers),
            ("mempool_max_bytes", l.mempool_max_bytes),
            ("orphan_max_blocks", l.orphan_max_blocks),
            ("orphan_max_bytes", l.orphan_max_bytes),
        ] {
            if v == 0 {
                return Err(ConfigError::ZeroBound(name));
            }
        }
        Ok(max)
    }

    /// The chain id (from the genesis).
    pub fn chain_id(&self) -> u64 {
        self.genesis.chain_id
    }
}
