//! What a peer can do wrong, and what it costs it. Scores follow Bitcoin
//! Core's: provably bad data costs the whole threshold, sloppiness a little.
//! Failures that depend on our own context (our clock, our chain state) cost
//! nothing: an honest peer can send such a block (Bitcoin's lesson from
//! banning peers over its own clock skew).

use crate::chain::BlockError;
use crate::hash::BlockHash;

/// One misbehaviour, with its [`Misbehaviour::score`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Misbehaviour {
    /// A block invalid for a context-free reason other than our clock: bad
    /// bits or proof of work, Merkle root not matching the body, too large,
    /// another chain's coinbase. Costs 100.
    #[error("block {hash} is invalid: {err}")]
    InvalidBlock {
        /// Its header hash.
        hash: BlockHash,
        /// Why.
        err: BlockError,
    },
    /// Bytes that do not decode as a block. Costs 100.
    #[error("undecodable block: {0}")]
    MalformedBlock(String),
    /// Bytes that do not decode as a message. Costs 100.
    #[error("undecodable message: {0}")]
    MalformedMessage(String),
    /// A header whose `prev_hash` is not the previous header of the batch. Costs 100.
    #[error("header {index} of the batch does not link to the one before")]
    HeadersNotLinked {
        /// Position in the batch.
        index: usize,
    },
    /// A header whose bits are unusable or whose hash is above its own target. Costs 100.
    #[error("header {hash} fails its proof of work")]
    HeaderProofOfWork {
        /// The header hash.
        hash: BlockHash,
    },
    /// `unconnecting_headers_max` batches in a row whose first header links
    /// to nothing we know. Costs 20.
    #[error("{count} header batches in a row did not connect")]
    UnconnectingHeaders {
        /// Consecutive unconnecting batches so far.
        count: u32,
    },
    /// A block we never asked this peer for and already had. Costs 10.
    #[error("unrequested block {hash} that we already have")]
    UnrequestedBlock {
        /// Its hash.
        hash: BlockHash,
    },
    /// An `Inv` with more than `inv_items_max` items (ignored). Costs 10.
    #[error("inv of {count} items exceeds {max}")]
    OversizeInv {
        /// Items sent.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Any other message over a limit (ignored). Costs 50.
    #[error("{what} of {count} exceeds {max}")]
    OverLimit {
        /// Which message and field.
        what: &'static str,
        /// Size sent.
        count: usize,
        /// The limit.
        max: usize,
    },
}

impl Misbehaviour {
    /// Points added to the peer's ban score.
    pub fn score(&self) -> u32 {
        match self {
            Misbehaviour::InvalidBlock { .. }
            | Misbehaviour::MalformedBlock(_)
            | Misbehaviour::MalformedMessage(_)
            | Misbehaviour::HeadersNotLinked { .. }
            | Misbehaviour::HeaderProofOfWork { .. } => 100,
            Misbehaviour::OverLimit { .. } => 50,
            Misbehaviour::UnconnectingHeaders { .. } => 20,
            Misbehaviour::UnrequestedBlock { .. } | Misbehaviour::OversizeInv { .. } => 10,
        }
    }

    /// Stable snake_case code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Misbehaviour::InvalidBlock { .. } => "invalid_block",
            Misbehaviour::MalformedBlock(_) => "malformed_block",
            Misbehaviour::MalformedMessage(_) => "malformed_message",
            Misbehaviour::HeadersNotLinked { .. } => "headers_not_linked",
            Misbehaviour::HeaderProofOfWork { .. } => "header_proof_of_work",
            Misbehaviour::UnconnectingHeaders { .. } => "unconnecting_headers",
            Misbehaviour::UnrequestedBlock { .. } => "unrequested_block",
            Misbehaviour::OversizeInv { .. } => "oversize_inv",
            Misbehaviour::OverLimit { .. } => "over_limit",
        }
    }

    /// The misbehaviour a block refused by [`crate::chain::ChainState::receive_block`]
    /// amounts to, if any: context-free failures except the future-time rule
    /// (which depends on our clock); failures against the parent or the
    /// state are someone else's context and cost nothing.
    pub fn for_invalid_block(hash: BlockHash, err: &BlockError) -> Option<Misbehaviour> {
        let punishable = err.is_context_free() && !matches!(err, BlockError::TimeTooFar { .. });
        punishable.then(|| Misbehaviour::InvalidBlock { hash, err: err.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_clock_and_our_state_are_not_the_peers_fault() {
        let h = BlockHash::ZERO;
        assert!(Misbehaviour::for_invalid_block(h, &BlockError::TimeTooFar { time: 9, now: 1 }).is_none());
        assert!(Misbehaviour::for_invalid_block(h, &BlockError::TimeTooOld { time: 1, median: 9 }).is_none());
        assert!(Misbehaviour::for_invalid_block(h, &BlockError::CoinbaseAmount { expected: 1, got: 2 }).is_none());
        let m = Misbehaviour::for_invalid_block(h, &BlockError::MerkleRootMismatch).expect("context-free");
        assert_eq!((m.score(), m.code()), (100, "invalid_block"));
        assert_eq!(Misbehaviour::OversizeInv { count: 2, max: 1 }.score(), 10);
    }
}
