//! Ed25519 signing and strict verification.
//!
//! Verification uses ed25519-dalek's `verify_strict`: it rejects signatures
//! whose `S` is not canonical (S >= L), and public keys or `R` values of small
//! order, so a signature cannot be mauled into a second valid one and a
//! weak key cannot sign for everyone. The public key must decode to a curve point.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::AccountId;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the sender's account id is not a valid Ed25519 public key")]
    InvalidPublicKey,
    #[error("the signature does not verify (strict Ed25519)")]
    Invalid,
}

/// Whether `account` can ever sign: its 32 bytes must be the canonical
/// encoding of a curve point that is not of small order. A small-order key
/// (the identity, torsion points) is refused because `verify_strict` refuses
/// every signature by it, and a non-canonical encoding because the same point
/// would otherwise name two accounts. Funds sent to such an id could never
/// move again, so the ledger refuses them as receivers in Ed25519 mode.
pub fn is_signing_key(account: &AccountId) -> bool {
    match VerifyingKey::from_bytes(&account.0) {
        Ok(key) => !key.is_weak() && key.to_edwards().compress().to_bytes() == account.0,
        Err(_) => false,
    }
}

/// A signing key held by a client. The 32-byte seed is the secret.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Keypair { signing: SigningKey::from_bytes(seed) }
    }

    /// Draws a fresh key from the operating system's randomness (client side only;
    /// the ledger core never calls this).
    pub fn generate<R: rand_core::CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        Keypair { signing: SigningKey::generate(rng) }
    }

    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn account(&self) -> AccountId {
        AccountId(self.signing.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

/// Strictly verifies `signature` over `message` by `account`'s key.
pub fn verify_strict(account: &AccountId, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
    verify_strict_with_key(&decode_key(account)?, message, signature)
}

/// The sender key [`verify_strict`] decodes from `account`: any encoding of a
/// curve point (whether it may sign is decided by the verification).
pub fn decode_key(account: &AccountId) -> Result<VerifyingKey, SignatureError> {
    VerifyingKey::from_bytes(&account.0).map_err(|_| SignatureError::InvalidPublicKey)
}

/// [`verify_strict`] with the key already decoded by [`decode_key`] (a caller
/// verifying many signatures by one key decodes it once).
pub fn verify_strict_with_key(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
    let sig = Signature::from_bytes(signature);
    key.verify_strict(message, &sig).map_err(|_| SignatureError::Invalid)
}
