//! Bitcoin's block-header proof-of-work consensus rules, bit-exact with
//! Bitcoin Core, as a sans-IO library for Synod.
//!
//! - [`Header`]: the 80-byte header, [`BlockHash`]: double SHA-256 shown in
//!   Bitcoin's reversed hex.
//! - [`Compact`]: `nBits` decode/encode (`SetCompact`/`GetCompact`).
//! - [`block_proof`]: per-header chain work (`GetBlockProof`), as [`U256`].
//! - [`calculate_next_work_required`]/[`next_work_required`]: retargeting.
//! - [`MedianTimeWindow`]: median time past.
//! - [`Params`]: mainnet and Synod network parameters.
//! - [`verify_headers`]: checks a file of concatenated headers.
//! - [`fn@mine`]/[`Midstate`]: nonce search with a SHA-256 midstate.
//! - [`chain`]: the proof-of-work ledger: blocks of signed transfers with a
//!   coinbase, fork choice and reorgs, mempool, orphans, multi-threaded miner.
//! - [`gossip`]: block and transfer relay with headers-first sync and
//!   misbehaviour bans, driven by the node runtime and the simulator.
//! - [`light`]: a light client's header store: full header validation
//!   against ancestors from any source, most-work chain.
//! - [`sim`]: a deterministic simulator of proof-of-work networks.
//!
//! Nothing here reads a clock, a file or the network: callers pass bytes
//! and the current time in.
//!
//! ```
//! use synod_pow::{verify_headers, Header, Params, Rule};
//!
//! // Bitcoin's genesis header.
//! let bytes = hex::decode(
//!     "0100000000000000000000000000000000000000000000000000000000000000\
//!      000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa\
//!      4b1e5e4a29ab5f49ffff001d1dac2b7c",
//! )
//! .unwrap();
//! let report = verify_headers(&bytes, Some(0), &Params::bitcoin_mainnet()).unwrap();
//! assert_eq!(
//!     report.last_hash.to_string(),
//!     "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
//! );
//! assert_eq!(report.total_work.to_string(), "4295032833"); // 0x100010001
//!
//! // One flipped nonce bit breaks proof of work, reported by rule and height.
//! let mut bad = bytes.clone();
//! bad[79] ^= 0x80;
//! let err = verify_headers(&bad, Some(0), &Params::bitcoin_mainnet()).unwrap_err();
//! assert_eq!((err.height, err.rule), (0, Rule::ProofOfWork));
//! assert_eq!(err.rule.to_string(), "proof_of_work");
//! # let _ = Header::parse(&bytes).unwrap();
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chain;
pub mod compact;
pub mod error;
pub mod gossip;
pub mod hash;
pub mod header;
pub mod light;
pub mod median_time;
pub mod mine;
pub mod params;
pub mod retarget;
pub mod sim;
pub mod u256;
pub mod verify;
pub mod work;

pub use compact::{BitsError, Compact};
pub use error::{HashParseError, HeaderParseError, ParamsError, Rule, VerifyHeadersError};
pub use hash::{sha256d, BlockHash};
pub use header::{Header, HEADER_LEN};
pub use median_time::{median_time_past, MedianTimeWindow, MEDIAN_TIME_SPAN};
pub use mine::{mine, Midstate, Solution};
pub use params::{Params, VersionFloors, DEFAULT_MAX_FUTURE_SECS};
pub use retarget::{calculate_next_work_required, next_work_required};
pub use u256::U256;
pub use verify::{time_too_far, verify_headers, verify_headers_at, VerifyReport};
pub use work::{block_proof, target_work};
