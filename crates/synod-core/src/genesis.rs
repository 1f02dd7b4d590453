//! Genesis: the chain id, the auth mode and the initial allocations. The total
//! supply is fixed here and never changes (Paxos mode has no minting).

use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, Reader, Writer};
use crate::limits::GENESIS_ALLOCATIONS_MAX;
use crate::multisig::{Policy, PolicyError};
use crate::{AccountId, AuthMode, Hash};

/// Domain prefix of the canonical genesis bytes.
pub const GENESIS_DOMAIN: &[u8; 17] = b"synod.genesis.v1\x00";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    pub account: AccountId,
    pub amount: u64,
    /// The policy of a multi-signature account funded here: it must hash to
    /// `account` (PROTOCOL.md 3). Absent for a key account, and then absent
    /// from the JSON, so existing genesis files read and write unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
}

impl Allocation {
    /// Funds a key account.
    pub fn new(account: AccountId, amount: u64) -> Self {
        Allocation { account, amount, policy: None }
    }

    /// Funds the multi-signature account of `policy`.
    pub fn to_policy(policy: Policy, amount: u64) -> Self {
        Allocation { account: policy.account(), amount, policy: Some(policy) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    pub chain_id: u64,
    pub auth: AuthMode,
    /// Timestamp of block 0, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Sorted by account, strictly ascending, each amount > 0.
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("allocations must be sorted by account with no duplicates (at index {index})")]
    NotSortedOrDuplicate { index: usize },
    #[error("allocation {index} has amount 0")]
    ZeroAllocation { index: usize },
    #[error("allocation {index} funds an account id that is not a valid Ed25519 public key")]
    InvalidAccount { index: usize },
    #[error("allocation {index} has a malformed policy: {error}")]
    InvalidPolicy { index: usize, error: PolicyError },
    #[error("allocation {index}'s policy does not hash to its account id")]
    PolicyMismatch { index: usize },
    #[error("total supply overflows u64")]
    SupplyOverflow,
    #[error("{count} allocations exceed the limit of {max}")]
    TooManyAllocations { count: usize, max: usize },
    #[error("genesis bytes: {0}")]
    Decode(#[from] DecodeError),
}

impl Genesis {
    /// Checks the rules above and returns the total supply.
    pub fn validate(&self) -> Result<u64, GenesisError> {
        if self.allocations.len() > GENESIS_ALLOCATIONS_MAX {
            return Err(GenesisError::TooManyAllocations {
                count: self.allocations.len(),
                max: GENESIS_ALLOCATIONS_MAX,
            });
        }
        let mut total: u64 = 0;
        for (index, a) in self.allocations.iter().enumerate() {
            if index > 0 && self.allocations[index - 1].account >= a.account {
                return Err(GenesisError::NotSortedOrDuplicate { index });
            }
            if a.amount == 0 {
                return Err(GenesisError::ZeroAllocation { index });
            }
            total = total.checked_add(a.amount).ok_or(GenesisError::SupplyOverflow)?;
        }
        Ok(total)
    }

    /// In Ed25519 mode, every funded account must be one someone can sign for
    /// ([`crate::crypto::is_signing_key`]): units allocated to anything else
    /// could never move. Separate from [`Genesis::validate`] because it costs a
    /// point decompression per allocation; it runs when a ledger is created
    /// from genesis (a new node, the offline auditor), not on every restart.
    pub fn check_accounts(&self) -> Result<(), GenesisError> {
        for (index, a) in self.allocations.iter().enumerate() {
            match &a.policy {
                Some(policy) => {
                    policy.check().map_err(|error| GenesisError::InvalidPolicy { index, error })?;
                    if policy.account() != a.account {
                        return Err(GenesisError::PolicyMismatch { index });
                    }
                }
                None if self.auth == AuthMode::Ed25519 && !crate::crypto::is_signing_key(&a.account) => {
                    return Err(GenesisError::InvalidAccount { index });
                }
                None => {}
            }
        }
        Ok(())
    }

    /// Canonical bytes (docs/PROTOCOL.md, "Genesis").
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(GENESIS_DOMAIN.len() + 21 + self.allocations.len() * 40);
        w.raw(GENESIS_DOMAIN);
        w.u64(self.chain_id);
        w.u8(self.auth.tag());
        w.u64(self.timestamp_ms);
        w.u32(u32::try_from(self.allocations.len()).expect("allocation count bounded by limit"));
        for a in &self.allocations {
            w.raw(&a.account.0);
            w.u64(a.amount);
        }
        // The policies section exists only if some allocation has a policy,
        // so a genesis without any keeps its bytes and hash.
        let policies: Vec<(usize, &Policy)> =
            self.allocations.iter().enumerate().filter_map(|(i, a)| a.policy.as_ref().map(|p| (i, p))).collect();
        if !policies.is_empty() {
            w.u32(policies.len() as u32);
            for (index, policy) in policies {
                w.u32(index as u32);
                policy.write(&mut w);
            }
        }
        w.bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, GenesisError> {
        let mut r = Reader::new(bytes);
        r.expect_domain(GENESIS_DOMAIN, "genesis")?;
        let chain_id = r.u64()?;
        let tag = r.u8()?;
        let auth = AuthMode::from_tag(tag).ok_or(DecodeError::UnknownTag { field: "auth", tag })?;
        let timestamp_ms = r.u64()?;
        let count = r.u32()? as usize;
        if count > GENESIS_ALLOCATIONS_MAX || count * 40 > r.remaining() {
            return Err(GenesisError::TooManyAllocations { count, max: GENESIS_ALLOCATIONS_MAX });
        }
        let mut allocations = Vec::with_capacity(count);
        for _ in 0..count {
            allocations.push(Allocation { account: AccountId(r.array()?), amount: r.u64()?, policy: None });
        }
        if r.remaining() > 0 {
            read_policies(&mut r, &mut allocations)?;
        }
        r.finish()?;
        let genesis = Genesis { chain_id, auth, timestamp_ms, allocations };
        genesis.validate()?;
        Ok(genesis)
    }

    /// SHA-256 of the canonical bytes; block 0's `prev_hash`.
    pub fn hash(&self) -> Hash {
        crate::sha256(&self.encode())
    }
}

/// The policies section of the genesis bytes: `u32 count (1..=n) || (u32
/// allocation index || policy)*`, indexes strictly ascending and below n.
/// Each policy is at most [`crate::multisig::POLICY_BYTES_MAX`] bytes, and the
/// count is bounded by the allocations, so nothing here allocates unboundedly.
fn read_policies(r: &mut Reader<'_>, allocations: &mut [Allocation]) -> Result<(), DecodeError> {
    let count = r.u32()? as usize;
    if count == 0 || count > allocations.len() {
        return Err(DecodeError::OutOfRange { field: "genesis_policy_count", value: count as u64 });
    }
    let mut next_index = 0usize;
    for _ in 0..count {
        let index = r.u32()? as usize;
        if index < next_index || index >= allocations.len() {
            return Err(DecodeError::OutOfRange { field: "genesis_policy_index", value: index as u64 });
        }
        allocations[index].policy = Some(Policy::read(r)?);
        next_index = index + 1;
    }
    Ok(())
}
