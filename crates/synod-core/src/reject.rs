//! Why the ledger refused a transfer. Each reason has a stable code that the
//! HTTP API returns; a rejected transfer changes nothing.

use crate::crypto::SignatureError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("transfer is for chain {got}, this ledger is chain {expected}")]
    WrongChain { expected: u64, got: u64 },
    #[error("transfer is unsigned, and this ledger requires Ed25519 signatures")]
    MissingSignature,
    #[error("bad signature: {0}")]
    BadSignature(SignatureError),
    #[error("the receiver's account id is not a valid Ed25519 public key (a canonical point not of small order)")]
    InvalidReceiver,
    #[error("amount must be greater than zero")]
    ZeroAmount,
    #[error("sender and receiver are the same account")]
    SelfTransfer,
    #[error("memo is {len} bytes, the limit is {max}")]
    MemoTooLong { len: usize, max: usize },
    #[error("fees are not used in this consensus mode; fee must be 0, got {fee}")]
    FeeNotAllowed { fee: u64 },
    #[error("nonce {got} is not the sender's next nonce {expected}")]
    BadNonce { expected: u64, got: u64 },
    #[error("insufficient funds: balance {balance}, needed {needed}")]
    InsufficientFunds { balance: u64, needed: u64 },
    #[error("arithmetic overflow")]
    Overflow,
}

impl RejectReason {
    /// Stable, machine-readable code (the `code` field of API errors).
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::WrongChain { .. } => "wrong_chain",
            RejectReason::MissingSignature => "missing_signature",
            RejectReason::BadSignature(SignatureError::InvalidPublicKey) => "invalid_public_key",
            RejectReason::BadSignature(SignatureError::Invalid) => "bad_signature",
            RejectReason::InvalidReceiver => "invalid_receiver",
            RejectReason::ZeroAmount => "zero_amount",
            RejectReason::SelfTransfer => "self_transfer",
            RejectReason::MemoTooLong { .. } => "memo_too_long",
            RejectReason::FeeNotAllowed { .. } => "fee_not_allowed",
            RejectReason::BadNonce { .. } => "bad_nonce",
            RejectReason::InsufficientFunds { .. } => "insufficient_funds",
            RejectReason::Overflow => "overflow",
        }
    }
}
