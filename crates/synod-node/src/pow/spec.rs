//! A proof-of-work network's consensus parameters and a node's mining
//! settings, as they appear in the `[pow]` section of a node's TOML config.
//!
//! The `chain` parameters are consensus: every node of a network must use
//! the same values with the same genesis, so they are folded into the chain
//! identity that peers compare in the transport handshake and that the block
//! store is bound to. Nodes with different parameters never talk.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use synod_core::{AccountId, Genesis};
use synod_pow::chain::{genesis_header, ChainConfig};
use synod_pow::u256::U256;

/// Domain separator of the chain identity hash.
const CHAIN_IDENTITY_DOMAIN: &[u8] = b"synod.pow.chain.v1\0";

/// Consensus parameters of a Synod proof-of-work network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowChainSpec {
    /// Target seconds between blocks.
    #[serde(default = "default_spacing_secs")]
    pub spacing_secs: u32,
    /// Blocks between difficulty retargets (Bitcoin: 2016).
    #[serde(default = "default_retarget_interval")]
    pub retarget_interval: u32,
    /// The easiest target allowed is `2^(256 - pow_limit_zero_bits) - 1`: a
    /// block at minimum difficulty takes about `2^pow_limit_zero_bits` hashes.
    #[serde(default = "default_pow_limit_zero_bits")]
    pub pow_limit_zero_bits: u32,
    /// Coinbase subsidy of the first blocks.
    #[serde(default = "default_initial_reward")]
    pub initial_reward: u64,
    /// Blocks between halvings of the subsidy.
    #[serde(default = "default_halving_interval")]
    pub halving_interval: u64,
    /// How far ahead of the local clock a block's time may be, in seconds.
    #[serde(default = "default_max_future_secs")]
    pub max_future_secs: u32,
}

fn default_spacing_secs() -> u32 {
    5
}
fn default_retarget_interval() -> u32 {
    20
}
fn default_pow_limit_zero_bits() -> u32 {
    18
}
fn default_initial_reward() -> u64 {
    50_000
}
fn default_halving_interval() -> u64 {
    210_000
}
fn default_max_future_secs() -> u32 {
    synod_pow::params::DEFAULT_MAX_FUTURE_SECS
}

impl Default for PowChainSpec {
    fn default() -> Self {
        PowChainSpec {
            spacing_secs: default_spacing_secs(),
            retarget_interval: default_retarget_interval(),
            pow_limit_zero_bits: default_pow_limit_zero_bits(),
            initial_reward: default_initial_reward(),
            halving_interval: default_halving_interval(),
            max_future_secs: default_max_future_secs(),
        }
    }
}

/// A `[pow]` section that cannot run a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("pow.pow_limit_zero_bits must be 1..=64, got {0}")]
    PowLimit(u32),
    #[error("pow.spacing_secs and pow.retarget_interval must be at least 1 and 2")]
    Timing,
    #[error("pow: {0}")]
    Params(String),
    #[error("pow: {0}")]
    Chain(#[from] synod_pow::chain::ConfigError),
    #[error("pow.mine is on but pow.miner_account is missing")]
    NoMinerAccount,
    #[error("pow.miner_threads must be 1..=64, got {0}")]
    MinerThreads(usize),
}

impl PowChainSpec {
    /// The chain configuration of this network for `genesis`.
    pub fn chain_config(&self, genesis: &Genesis) -> Result<ChainConfig, SpecError> {
        if !(1..=64).contains(&self.pow_limit_zero_bits) {
            return Err(SpecError::PowLimit(self.pow_limit_zero_bits));
        }
        if self.spacing_secs == 0 || self.retarget_interval < 2 {
            return Err(SpecError::Timing);
        }
        let pow_limit = U256::MAX.shr(self.pow_limit_zero_bits);
        let params = synod_pow::params::Params::synod(pow_limit, self.spacing_secs, self.retarget_interval)
            .map_err(|e| SpecError::Params(e.to_string()))?
            .with_max_future_secs(self.max_future_secs);
        let mut config = ChainConfig::dev(
            genesis.clone(),
            self.spacing_secs,
            self.retarget_interval,
            self.initial_reward,
            self.halving_interval,
        );
        config.params = params;
        config.validate()?;
        Ok(config)
    }

    /// The 32-byte identity of the network: SHA-256 of a domain tag, block
    /// 0's 80-byte header (which commits to the genesis hash and the minimum
    /// difficulty) and every other consensus parameter, big-endian.
    pub fn identity(&self, config: &ChainConfig) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(CHAIN_IDENTITY_DOMAIN);
        h.update(genesis_header(&config.genesis, &config.params).to_bytes());
        h.update(self.spacing_secs.to_be_bytes());
        h.update(self.retarget_interval.to_be_bytes());
        h.update(self.initial_reward.to_be_bytes());
        h.update(self.halving_interval.to_be_bytes());
        h.update(self.max_future_secs.to_be_bytes());
        h.update((config.limits.max_block_bytes as u64).to_be_bytes());
        h.finalize().into()
    }
}

/// A node's `[pow]` section: the network's parameters and this node's mining.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowSettings {
    /// Consensus parameters (the same on every node of the network).
    #[serde(default)]
    pub chain: PowChainSpec,
    /// Mine blocks. Off unless set (`synod dev --consensus pow` sets it).
    #[serde(default)]
    pub mine: bool,
    /// The account this node's coinbases pay (64 hex); needed to mine.
    #[serde(default)]
    pub miner_account: Option<AccountId>,
    /// Mining threads.
    #[serde(default = "default_miner_threads")]
    pub miner_threads: usize,
    /// Upper bound on this node's hashes per second, over all its mining
    /// threads; 0 means none. A dev network uses it so that three miners
    /// in one process leave the machine usable.
    #[serde(default)]
    pub hashes_per_sec_max: u64,
}

fn default_miner_threads() -> usize {
    1
}

impl Default for PowSettings {
    fn default() -> Self {
        PowSettings {
            chain: PowChainSpec::default(),
            mine: false,
            miner_account: None,
            miner_threads: default_miner_threads(),
            hashes_per_sec_max: 0,
        }
    }
}

impl PowSettings {
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.mine && self.miner_account.is_none() {
            return Err(SpecError::NoMinerAccount);
        }
        if !(1..=64).contains(&self.miner_threads) {
            return Err(SpecError::MinerThreads(self.miner_threads));
        }
        Ok(())
    }
}
