//! Synod's pure core: types, canonical encoding, signatures, and the ledger
//! state machine.
//!
//! Nothing in this crate does IO, reads a clock or draws randomness: every
//! function is a deterministic function of its arguments, so the node runtime
//! and the simulator drive exactly the same code. The byte layouts produced
//! here are specified in `docs/PROTOCOL.md`; a test checks the worked example
//! there against this code.

pub mod account;
pub mod auth;
pub mod batch;
pub mod block;
pub mod codec;
pub mod crypto;
pub mod genesis;
pub mod hexbytes;
pub mod ledger;
pub mod limits;
pub mod multisig;
pub mod proof;
pub mod reject;
pub mod sig_batch;
pub mod state;
pub mod transfer;
pub mod transition;
pub mod verify_many;

pub use account::{Account, AccountId};
pub use auth::AuthMode;
pub use block::{Block, BlockHash, BlockHeader};
pub use codec::DecodeError;
pub use genesis::{Genesis, GenesisError};
pub use ledger::{BlockError, BuiltBlock, Ledger, TransferOutcome, TransferPosition};
pub use reject::RejectReason;
pub use state::LedgerState;
pub use transfer::{SignedTransfer, Transfer, TransferId, VerifiedTransfer};

/// The SHA-256 digest type used everywhere (block hashes, transfer ids, Merkle nodes).
pub type Hash = synod_merkle::Hash;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}
