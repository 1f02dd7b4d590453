//! Accounts: an account is named by its Ed25519 public key and holds a balance
//! and the next nonce it must use.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An account's name: the 32-byte Ed25519 public key of its owner, written as
/// 64 hex characters. In trusted-client mode it is still 32 opaque bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(#[serde(with = "crate::hexbytes::array")] pub [u8; 32]);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", &hex::encode(self.0)[..16])
    }
}

impl FromStr for AccountId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::hexbytes::parse_hex_array::<32>(s).map(AccountId)
    }
}

/// What the ledger stores per account. An account that was never funded reads
/// as the default: balance 0, next nonce 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Balance in integer minor units.
    pub balance: u64,
    /// The nonce the account's next transfer must carry.
    pub nonce: u64,
}

impl Account {
    /// Encoded size: balance u64 BE, nonce u64 BE.
    pub const ENCODED_BYTES: usize = 16;

    pub fn encode(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.balance.to_be_bytes());
        out[8..].copy_from_slice(&self.nonce.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
        let mut r = crate::codec::Reader::new(bytes);
        let account = Account { balance: r.u64()?, nonce: r.u64()? };
        r.finish()?;
        Ok(account)
    }
}
