//! Multi-signature (M-of-N) accounts: a policy of N Ed25519 keys and a
//! threshold M, named by an account id that is the hash of the policy, and the
//! M-or-more signatures that spend from it.
//!
//! The account state does not store the policy (docs/ARCHITECTURE.md,
//! "Multi-signature accounts"): like Bitcoin's pay-to-script-hash, a transfer
//! from a policy id reveals the policy, which must hash to the id, and a
//! transfer to one reveals it too, so units are never sent where nobody can
//! spend them. A new policy is a new id, so nobody can change a policy.

use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, Reader, Writer};
use crate::crypto;
use crate::{AccountId, RejectReason};

/// Domain prefix of the policy id's hash input: no other Synod hash starts
/// with these bytes, so a policy id cannot equal any other Synod hash.
pub const POLICY_DOMAIN: &[u8; 18] = b"synod.multisig.v1\x00";

/// Most keys in one policy (N).
pub const POLICY_KEYS_MAX: usize = 16;

/// Most entries a JSON policy key list or signature list may hold: what the
/// one-byte counts of the record can carry. Lists of 17..=255 parse and are
/// then refused by the rules (`invalid_policy`, `unknown_signer`, ...).
pub const JSON_LIST_MAX: usize = u8::MAX as usize;

/// Encoded size of a policy with the most keys: M, N, 16 keys.
pub const POLICY_BYTES_MAX: usize = 2 + 32 * POLICY_KEYS_MAX;

/// Encoded size of the most signatures: count, then (signer, signature) each.
pub const SIGNATURES_BYTES_MAX: usize = 1 + (1 + 64) * POLICY_KEYS_MAX;

/// An M-of-N policy: `threshold` (M) of the `keys` (N, sorted strictly
/// ascending, each an Ed25519 signing key) must sign. [`Policy::check`] says
/// whether it is well-formed; only well-formed policies can hold units.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub threshold: u8,
    #[serde(deserialize_with = "bounded_keys")]
    pub keys: Vec<AccountId>,
}

/// One signature of a multi-signature spend: by the key at `signer` (0-based
/// index into the policy's keys) over the transfer's signing bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerSignature {
    pub signer: u8,
    #[serde(with = "crate::hexbytes::array")]
    pub signature: [u8; 64],
}

/// What authorises a transfer from a policy id: the policy itself and the
/// signatures, by strictly ascending signer index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultisigAuth {
    pub threshold: u8,
    #[serde(deserialize_with = "bounded_keys")]
    pub keys: Vec<AccountId>,
    #[serde(deserialize_with = "bounded_signatures")]
    pub signatures: Vec<SignerSignature>,
}

/// Why a policy is malformed (each is `invalid_policy` when a transfer carries it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("threshold is 0")]
    ZeroThreshold,
    #[error("threshold {threshold} exceeds the {keys} keys")]
    ThresholdAboveKeys { threshold: u8, keys: usize },
    #[error("{keys} keys exceed the limit of {POLICY_KEYS_MAX}")]
    TooManyKeys { keys: usize },
    #[error("keys must be sorted strictly ascending (key {index} is not above the one before it)")]
    NotSortedOrDuplicate { index: usize },
    #[error("key {index} is not an Ed25519 signing key (a canonical point not of small order)")]
    NotSigningKey { index: usize },
}

impl Policy {
    /// The rules of a well-formed policy: 1 <= M <= N <= 16, keys strictly
    /// ascending, each one someone can sign for.
    pub fn check(&self) -> Result<(), PolicyError> {
        let keys = self.keys.len();
        if keys > POLICY_KEYS_MAX {
            return Err(PolicyError::TooManyKeys { keys });
        }
        if self.threshold == 0 {
            return Err(PolicyError::ZeroThreshold);
        }
        if usize::from(self.threshold) > keys {
            return Err(PolicyError::ThresholdAboveKeys { threshold: self.threshold, keys });
        }
        for index in 1..keys {
            if self.keys[index - 1] >= self.keys[index] {
                return Err(PolicyError::NotSortedOrDuplicate { index });
            }
        }
        match self.keys.iter().position(|k| !crypto::is_signing_key(k)) {
            Some(index) => Err(PolicyError::NotSigningKey { index }),
            None => Ok(()),
        }
    }

    /// `M u8 || N u8 || key_1 .. key_N`. Callers check the policy first; a
    /// policy of more than 255 keys cannot be encoded (JSON refuses it).
    pub fn write(&self, w: &mut Writer) {
        assert!(self.keys.len() <= JSON_LIST_MAX, "key count bounded when parsed");
        w.u8(self.threshold);
        w.u8(self.keys.len() as u8);
        for key in &self.keys {
            w.raw(&key.0);
        }
    }

    /// Reads what [`Policy::write`] wrote, refusing more than 16 keys before
    /// allocating (the other rules are [`Policy::check`]'s).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let threshold = r.u8()?;
        let count = r.u8()?;
        if usize::from(count) > POLICY_KEYS_MAX {
            return Err(DecodeError::OutOfRange { field: "policy_keys", value: u64::from(count) });
        }
        let mut keys = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            keys.push(AccountId(r.array()?));
        }
        Ok(Policy { threshold, keys })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(2 + 32 * self.keys.len());
        self.write(&mut w);
        w.bytes
    }

    /// The account id of this policy: `SHA-256("synod.multisig.v1" 0x00 || M || N || keys)`.
    pub fn account(&self) -> AccountId {
        let mut w = Writer::with_capacity(POLICY_DOMAIN.len() + 2 + 32 * self.keys.len());
        w.raw(POLICY_DOMAIN);
        self.write(&mut w);
        AccountId(crate::sha256(&w.bytes))
    }
}

impl MultisigAuth {
    pub fn policy(&self) -> Policy {
        Policy { threshold: self.threshold, keys: self.keys.clone() }
    }

    /// Policy, then `count u8 || (signer u8 || signature 64)*`.
    pub fn write(&self, w: &mut Writer) {
        assert!(self.signatures.len() <= JSON_LIST_MAX, "signature count bounded when parsed");
        self.policy().write(w);
        w.u8(self.signatures.len() as u8);
        for s in &self.signatures {
            w.u8(s.signer);
            w.raw(&s.signature);
        }
    }

    /// Reads what [`MultisigAuth::write`] wrote: at most 16 keys and at most
    /// 16 signatures, checked before allocating.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let Policy { threshold, keys } = Policy::read(r)?;
        let count = r.u8()?;
        if usize::from(count) > POLICY_KEYS_MAX {
            return Err(DecodeError::OutOfRange { field: "multisig_signatures", value: u64::from(count) });
        }
        let mut signatures = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            signatures.push(SignerSignature { signer: r.u8()?, signature: r.array()? });
        }
        Ok(MultisigAuth { threshold, keys, signatures })
    }

    /// The rules of PROTOCOL.md 2.6 for a spend from `from` over `message`
    /// (the signing bytes), in their documented order: the policy is
    /// well-formed and hashes to `from`; at least M signatures; signer indexes
    /// within the policy and strictly ascending; then every signature
    /// verifies strictly (all are checked, not just the first M, so a record
    /// holds no unverified bytes).
    pub fn check(&self, from: &AccountId, message: &[u8]) -> Result<(), RejectReason> {
        let policy = self.policy();
        policy.check().map_err(RejectReason::InvalidPolicy)?;
        if policy.account() != *from {
            return Err(RejectReason::PolicyMismatch);
        }
        if self.signatures.len() < usize::from(self.threshold) {
            return Err(RejectReason::TooFewSignatures { got: self.signatures.len(), threshold: self.threshold });
        }
        let mut previous: Option<u8> = None;
        for s in &self.signatures {
            if usize::from(s.signer) >= self.keys.len() {
                return Err(RejectReason::UnknownSigner { signer: s.signer, keys: self.keys.len() });
            }
            match previous {
                Some(p) if p == s.signer => return Err(RejectReason::DuplicateSigner { signer: s.signer }),
                Some(p) if p > s.signer => return Err(RejectReason::SignersOutOfOrder { signer: s.signer }),
                _ => {}
            }
            previous = Some(s.signer);
        }
        for s in &self.signatures {
            let key = &self.keys[usize::from(s.signer)];
            // Every key passed `Policy::check`, so only the signature can fail.
            crypto::verify_strict(key, message, &s.signature)
                .map_err(|_| RejectReason::BadMultisigSignature { signer: s.signer })?;
        }
        Ok(())
    }
}

fn bounded_keys<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<AccountId>, D::Error> {
    let keys = Vec::<AccountId>::deserialize(d)?;
    if keys.len() > JSON_LIST_MAX {
        return Err(serde::de::Error::custom(format!("{} keys: at most {JSON_LIST_MAX}", keys.len())));
    }
    Ok(keys)
}

fn bounded_signatures<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SignerSignature>, D::Error> {
    let signatures = Vec::<SignerSignature>::deserialize(d)?;
    if signatures.len() > JSON_LIST_MAX {
        return Err(serde::de::Error::custom(format!("{} signatures: at most {JSON_LIST_MAX}", signatures.len())));
    }
    Ok(signatures)
}
