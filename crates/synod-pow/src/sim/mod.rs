//! A deterministic simulator of proof-of-work networks, sans-IO: a seeded
//! RNG, a simulated clock and an event queue drive [`crate::chain::ChainState`]
//! nodes through the [`crate::gossip::Gossip`] core exactly as the node
//! runtime does (every message encoded to bytes and decoded).
//!
//! Each seed: 2–16 nodes with random hash-power shares mine on their own tips
//! (find times drawn from an exponential distribution scaled by difficulty;
//! each block is then really solved against the easy target, so headers are
//! valid) and gossip blocks and transfers (`Inv`/`GetData`, headers-first
//! sync, timeouts and polls on a 1 s tick) over delayed links that lose and
//! duplicate messages. Partitions split the network for minutes so branches
//! grow on each side; clients send transfers (with fees, from client and
//! miner accounts) and double spends across the partition; some mined blocks
//! are also pushed in a tampered variant (inflated coinbase, transfer spent
//! twice) that every node must refuse without blaming the sender. The last
//! node joins only after `late_join_secs` and must catch up over several
//! header batches (`headers_max` is small); an attacker peer sends invalid
//! blocks, headers and bytes. Then the network heals and settles, and the
//! checks run:
//!
//! - `convergence` / `heaviest_chain`: every node on the same tip, which has
//!   the most work of any valid block known;
//! - `replay`: each node's state equals a replay of its best chain from
//!   genesis with every rule and signature checked again;
//! - `supply`: balances add up to genesis + the rewards of the best chain;
//! - `applied_twice` / `tx_index` / `mempool_stale`: no transfer twice in a
//!   chain, the transfer index matches it, no used transfer waits;
//! - `invalid_block_accepted` / `honest_block_rejected`: tampered blocks
//!   never on a best chain, honest ones never refused;
//! - `attacker_not_banned` / `honest_peer_banned`: provably bad data bans
//!   its sender at once (and for the rest of the run), honest peers never;
//! - `stored_log`: what a driver would persist after each call is exactly
//!   what the tree took, parents first;
//! - `mempool_bound` / `orphan_bound` / `gossip_bound` /
//!   `gossip_in_flight_bound`: after every delivered message;
//! - `panic`: any `assert!` of the chain or gossip code.
//!
//! `synod sim --consensus pow --seeds N [--seed-start S]` runs
//! [`run_pow_seeds`]; `--seed S` replays one with [`run_pow_seed`].

mod attacker;
pub mod checks;
mod clients;
mod mining;
pub mod network;
pub mod options;
pub mod outcome;
mod settle;
mod wiring;
pub mod world;

pub use checks::Violation;
pub use options::PowSimOptions;
pub use outcome::{pow_replay_command, run_pow_seed, run_pow_seeds, PowSeedOutcome, PowSeedStats, PowSummary};
