//! Why the ledger refused a transfer. Each reason has a stable code that the
//! HTTP API returns; a rejected transfer changes nothing.

use crate::crypto::SignatureError;
use crate::multisig::PolicyError;

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
    #[error("malformed multi-signature policy: {0}")]
    InvalidPolicy(PolicyError),
    #[error("the policy does not hash to the sender's account id")]
    PolicyMismatch,
    #[error("the receiver policy does not hash to the receiver's account id")]
    ReceiverPolicyMismatch,
    #[error("{got} signatures, the policy needs {threshold}")]
    TooFewSignatures { got: usize, threshold: u8 },
    #[error("signer index {signer} is not in the policy of {keys} keys")]
    UnknownSigner { signer: u8, keys: usize },
    #[error("signer {signer} signed twice")]
    DuplicateSigner { signer: u8 },
    #[error("signer {signer} is listed after a higher index: signatures must be by strictly ascending signer")]
    SignersOutOfOrder { signer: u8 },
    #[error("the signature of signer {signer} does not verify (strict Ed25519)")]
    BadMultisigSignature { signer: u8 },
    #[error("a transfer carries either one signature or a multi-signature, not both")]
    ConflictingAuth,
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
            RejectReason::InvalidPolicy(_) => "invalid_policy",
            RejectReason::PolicyMismatch => "policy_mismatch",
            RejectReason::ReceiverPolicyMismatch => "receiver_policy_mismatch",
            RejectReason::TooFewSignatures { .. } => "too_few_signatures",
            RejectReason::UnknownSigner { .. } => "unknown_signer",
            RejectReason::DuplicateSigner { .. } => "duplicate_signer",
            RejectReason::SignersOutOfOrder { .. } => "signers_out_of_order",
            RejectReason::BadMultisigSignature { .. } => "bad_multisig_signature",
            RejectReason::ConflictingAuth => "conflicting_auth",
        }
    }
}
