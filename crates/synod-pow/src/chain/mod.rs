//! The proof-of-work chain: blocks of signed transfers under Bitcoin's header
//! rules, with a coinbase paying subsidy and fees to the miner, fork choice
//! by chain work with reorgs through per-block undo data, a fee-ordered
//! bounded mempool, a bounded orphan pool and a multi-threaded miner.
//!
//! Everything here is sans-IO: [`ChainState`] takes blocks, transfers and the
//! caller's clock, and answers with outcomes; the node does the networking.
//!
//! Validation happens in three steps (see [`BlockError`]): on arrival
//! ([`validate::check_block`]: proof of work, future time, size, chain,
//! Merkle root), against the parent ([`BlockTree::check_child`]: height,
//! retarget bits, median time past) and on connection
//! ([`PowState::connect`]: every transfer by the ledger rules, coinbase
//! amount = subsidy + fees).

pub mod block;
pub mod block_tree;
pub mod chain_state;
pub mod coinbase;
pub mod config;
pub mod error;
pub mod fork_choice;
pub mod mempool;
pub mod miner;
pub mod orphans;
pub mod reward;
pub mod sigcache;
pub mod state;
pub mod template;
pub mod validate;

pub use block::{genesis_header, record_len, PowBlock, SharedBlock, BLOCK_VERSION, EMPTY_BLOCK_BYTES};
pub use block_tree::{BlockEntry, BlockStatus, BlockTree};
pub use chain_state::{BlockOutcome, ChainState, ChainStats, Tip, TransferStatus};
pub use coinbase::{Coinbase, COINBASE_BYTES, COINBASE_DOMAIN};
pub use config::{ChainConfig, ChainLimits, ConfigError};
pub use error::{BlockError, SubmitError};
pub use mempool::{Mempool, MempoolEntry};
pub use miner::{mine_block, search_nonces, HashCounter, HashRateMeter, MineOutcome, MinedBlock, MinerConfig};
pub use orphans::OrphanPool;
pub use reward::RewardSchedule;
pub use sigcache::SigCache;
pub use state::{BlockUndo, PowState};
