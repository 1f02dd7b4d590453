//! Block hashes: double SHA-256 and Bitcoin's reversed-hex convention.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::HashParseError;
use crate::u256::U256;

/// A 32-byte double-SHA-256 digest in the byte order SHA-256 produces it
/// (the order it has on the wire, e.g. in `prev_hash`).
///
/// Bitcoin treats these bytes as a little-endian number (`UintToArith256`)
/// and therefore prints them reversed, so the leading zeros of a mined hash
/// show at the front: `Display`/`FromStr` use that convention.
///
/// Ordered by its bytes (an arbitrary but fixed order, so sets of hashes
/// iterate deterministically). Serde: the displayed hex string in
/// human-readable formats (JSON), the 32 bytes in wire order otherwise
/// (postcard: 32 raw bytes, no length).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BlockHash(pub [u8; 32]);

impl BlockHash {
    /// All zero bytes (the genesis block's `prev_hash`).
    pub const ZERO: BlockHash = BlockHash([0; 32]);

    /// The hash as a number, for comparison with a target
    /// (`UintToArith256(hash)` in `CheckProofOfWork`).
    pub fn to_u256(&self) -> U256 {
        U256::from_le_bytes(self.0)
    }

    /// The raw bytes in wire order.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Double SHA-256, Bitcoin's `Hash`/`SHA256D`.
pub fn sha256d(data: &[u8]) -> BlockHash {
    let first = Sha256::digest(data);
    let second = Sha256::digest(first);
    BlockHash(second.into())
}

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rev = self.0;
        rev.reverse();
        f.pad(&hex::encode(rev))
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockHash({self})")
    }
}

/// Parses the displayed (reversed) 64-hex-digit form.
impl FromStr for BlockHash {
    type Err = HashParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|e| HashParseError(e.to_string()))?;
        bytes.reverse();
        Ok(BlockHash(bytes))
    }
}

impl serde::Serialize for BlockHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> serde::Deserialize<'de> for BlockHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            <[u8; 32]>::deserialize(d).map(BlockHash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_reversed_hex() {
        let mut b = [0u8; 32];
        b[0] = 0xab;
        b[31] = 0x01;
        let h = BlockHash(b);
        let s = h.to_string();
        assert!(s.starts_with("01"));
        assert!(s.ends_with("ab"));
        assert_eq!(s.parse::<BlockHash>().unwrap(), h);
        assert!("zz".parse::<BlockHash>().is_err());
        assert!("00".parse::<BlockHash>().is_err());
    }

    #[test]
    fn sha256d_known_vector() {
        // SHA256d("") as commonly published:
        // sha256(sha256("")) = 5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456
        assert_eq!(hex::encode(sha256d(b"").0), "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    }

    #[test]
    fn to_u256_is_little_endian() {
        let mut b = [0u8; 32];
        b[0] = 7;
        assert_eq!(BlockHash(b).to_u256(), U256::from_u64(7));
    }
}
