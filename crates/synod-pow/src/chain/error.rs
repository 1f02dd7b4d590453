//! Why a block or a transfer was refused. Every variant has a stable
//! snake_case `code()` for logs, metrics and API answers.

use synod_core::RejectReason;

use crate::compact::BitsError;
use crate::hash::BlockHash;

/// Why a block was refused. A refused block changes nothing.
///
/// The first group is checked on arrival without any chain context, the
/// second against the parent, the third when the block is connected (applied
/// to the state of its parent). Only failures of the third group are
/// remembered (the block is kept, marked invalid with its descendants; the
/// Merkle root commits to the body, so the hash names exactly this body).
/// A block failing the first group must not be: a correct header with a
/// damaged body has the same hash as the genuine block, which must stay
/// acceptable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// `bits` is not a valid target no easier than the pow limit.
    #[error("bits {bits:#010x}: {err}")]
    BadBits {
        /// The header's bits.
        bits: u32,
        /// Why they are unusable.
        err: BitsError,
    },
    /// The header hash is above its target.
    #[error("hash {hash} is above the target")]
    ProofOfWork {
        /// The header hash.
        hash: BlockHash,
    },
    /// The time is more than `max_future_secs` ahead of the local clock.
    #[error("time {time} is too far ahead of local time {now}")]
    TimeTooFar {
        /// The header time.
        time: u32,
        /// The local clock (Unix seconds).
        now: i64,
    },
    /// More transfers than a block may hold.
    #[error("{count} transfers exceed the limit {max}")]
    TooManyTransfers {
        /// Transfers in the block.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The encoded block is larger than `max_block_bytes`.
    #[error("{bytes} bytes exceed the block limit {max}")]
    TooLarge {
        /// Encoded size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The coinbase names another chain.
    #[error("coinbase chain id {got} is not this chain's {expected}")]
    WrongChain {
        /// This chain's id.
        expected: u64,
        /// The coinbase's.
        got: u64,
    },
    /// The header's Merkle root does not commit to the records.
    #[error("merkle root does not match the block's records")]
    MerkleRootMismatch,
    /// The parent (or one of its ancestors) is invalid.
    #[error("an ancestor of the block is invalid")]
    InvalidAncestor,
    /// The coinbase height is not the parent's height + 1.
    #[error("coinbase height {got}, expected {expected}")]
    BadHeight {
        /// Parent height + 1.
        expected: u64,
        /// The coinbase's.
        got: u64,
    },
    /// `bits` differs from what the retarget rules demand.
    #[error("bits {got:#010x}, the retarget rules demand {expected:#010x}")]
    WrongBits {
        /// `GetNextWorkRequired` on the parent.
        expected: u32,
        /// The header's.
        got: u32,
    },
    /// The time is not after the median of the previous 11 blocks.
    #[error("time {time} is not after the median time past {median}")]
    TimeTooOld {
        /// The header time.
        time: u32,
        /// Median of up to 11 ancestors.
        median: u32,
    },
    /// A transfer breaks the ledger rules against the state before it
    /// (double spends show up as `bad_nonce` or `insufficient_funds`).
    #[error("transfer {index}: {reason}")]
    Transfer {
        /// 0-based index among the block's transfers.
        index: usize,
        /// The ledger rule broken.
        reason: RejectReason,
    },
    /// The sum of the fees overflows u64.
    #[error("the fees overflow u64")]
    FeeOverflow,
    /// The coinbase pays something other than subsidy + fees.
    #[error("coinbase amount {got}, expected subsidy + fees = {expected}")]
    CoinbaseAmount {
        /// `subsidy(height) + fees`.
        expected: u64,
        /// The coinbase's.
        got: u64,
    },
    /// Crediting the miner would overflow its balance.
    #[error("crediting the miner overflows its balance")]
    MinerOverflow,
}

impl BlockError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            BlockError::BadBits { .. } => "bad_bits",
            BlockError::ProofOfWork { .. } => "proof_of_work",
            BlockError::TimeTooFar { .. } => "time_too_far",
            BlockError::TooManyTransfers { .. } => "too_many_transfers",
            BlockError::TooLarge { .. } => "block_too_large",
            BlockError::WrongChain { .. } => "wrong_chain",
            BlockError::MerkleRootMismatch => "merkle_root_mismatch",
            BlockError::InvalidAncestor => "invalid_ancestor",
            BlockError::BadHeight { .. } => "bad_height",
            BlockError::WrongBits { .. } => "retarget",
            BlockError::TimeTooOld { .. } => "median_time_past",
            BlockError::Transfer { .. } => "bad_transfer",
            BlockError::FeeOverflow => "fee_overflow",
            BlockError::CoinbaseAmount { .. } => "bad_coinbase_amount",
            BlockError::MinerOverflow => "miner_overflow",
        }
    }

    /// True for errors found without chain context: such a block is not
    /// remembered as invalid (its hash may belong to a valid block).
    pub fn is_context_free(&self) -> bool {
        matches!(
            self,
            BlockError::BadBits { .. }
                | BlockError::ProofOfWork { .. }
                | BlockError::TimeTooFar { .. }
                | BlockError::TooManyTransfers { .. }
                | BlockError::TooLarge { .. }
                | BlockError::WrongChain { .. }
                | BlockError::MerkleRootMismatch
        )
    }
}

/// Why the mempool refused a transfer. A refused transfer changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// A ledger rule (PROTOCOL.md 2.5) against the best chain's state.
    #[error("{0}")]
    Rejected(RejectReason),
    /// The same transfer is already waiting.
    #[error("transfer is already in the mempool")]
    Duplicate,
    /// The transfer is already in the best chain.
    #[error("transfer is already confirmed at height {height}")]
    AlreadyConfirmed {
        /// Height of the block holding it.
        height: u64,
    },
    /// The nonce skips over nonces the sender has not used yet.
    #[error("nonce {got} leaves a gap: the sender's next nonce is {expected}")]
    NonceGap {
        /// Confirmed nonce plus the sender's waiting transfers.
        expected: u64,
        /// The transfer's.
        got: u64,
    },
    /// The fee is below the node's minimum.
    #[error("fee {got} is below the minimum {min}")]
    FeeTooLow {
        /// The node's `min_fee`.
        min: u64,
        /// The transfer's.
        got: u64,
    },
    /// Another transfer with this sender and nonce waits with a fee at least as high.
    #[error("a transfer with this nonce waits with fee {existing}; a replacement must pay more than that, got {got}")]
    ReplacementFeeTooLow {
        /// The waiting transfer's fee.
        existing: u64,
        /// The transfer's.
        got: u64,
    },
    /// The mempool is full of transfers paying at least as much.
    #[error("mempool is full and the fee {fee} does not beat the lowest waiting fee")]
    MempoolFull {
        /// The transfer's fee.
        fee: u64,
    },
}

impl SubmitError {
    /// Stable snake_case code (ledger rules keep their PROTOCOL.md codes).
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Rejected(r) => r.code(),
            SubmitError::Duplicate => "duplicate",
            SubmitError::AlreadyConfirmed { .. } => "already_confirmed",
            SubmitError::NonceGap { .. } => "nonce_gap",
            SubmitError::FeeTooLow { .. } => "fee_too_low",
            SubmitError::ReplacementFeeTooLow { .. } => "replacement_fee_too_low",
            SubmitError::MempoolFull { .. } => "mempool_full",
        }
    }
}

impl From<RejectReason> for SubmitError {
    fn from(r: RejectReason) -> Self {
        SubmitError::Rejected(r)
    }
}
