//! The 80-byte Bitcoin block header (`CBlockHeader`).

use crate::error::HeaderParseError;
use crate::hash::{sha256d, BlockHash};

/// Serialized size of a header.
pub const HEADER_LEN: usize = 80;

/// A block header, field for field as `CBlockHeader` serializes it:
/// version i32 LE, prev_hash 32, merkle_root 32, time u32 LE, bits u32 LE,
/// nonce u32 LE.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Header {
    /// Block version (signed, as in Core; BIP9 uses its top bits).
    pub version: i32,
    /// Hash of the previous header, wire byte order.
    pub prev_hash: BlockHash,
    /// Merkle root of the transactions, wire byte order.
    pub merkle_root: [u8; 32],
    /// Claimed block time, seconds since the Unix epoch.
    pub time: u32,
    /// Compact target (see [`crate::compact`]).
    pub bits: u32,
    /// Nonce varied by miners.
    pub nonce: u32,
}

impl Header {
    /// Parses exactly 80 bytes. Infallible: every 80-byte string is a
    /// syntactically valid header; the consensus rules are checked elsewhere.
    pub fn from_bytes(b: &[u8; HEADER_LEN]) -> Header {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&b[4..36]);
        let mut merkle = [0u8; 32];
        merkle.copy_from_slice(&b[36..68]);
        Header {
            version: i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            prev_hash: BlockHash(prev),
            merkle_root: merkle,
            time: u32_at(68),
            bits: u32_at(72),
            nonce: u32_at(76),
        }
    }

    /// Parses a slice that must be exactly 80 bytes long.
    pub fn parse(bytes: &[u8]) -> Result<Header, HeaderParseError> {
        let arr: &[u8; HEADER_LEN] = bytes.try_into().map_err(|_| HeaderParseError { len: bytes.len() })?;
        Ok(Header::from_bytes(arr))
    }

    /// The 80-byte wire encoding.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(&self.prev_hash.0);
        out[36..68].copy_from_slice(&self.merkle_root);
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Double SHA-256 of the 80 bytes (`CBlockHeader::GetHash`).
    pub fn block_hash(&self) -> BlockHash {
        sha256d(&self.to_bytes())
    }
}

impl TryFrom<&[u8]> for Header {
    type Error = HeaderParseError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        Header::parse(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The Bitcoin genesis block header, the best-known vector there is.
    const GENESIS_HEX: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    #[test]
    fn genesis_hash() {
        let bytes = hex::decode(GENESIS_HEX).unwrap();
        let h = Header::parse(&bytes).unwrap();
        assert_eq!(h.version, 1);
        assert_eq!(h.prev_hash, BlockHash::ZERO);
        assert_eq!(h.time, 1231006505);
        assert_eq!(h.bits, 0x1d00ffff);
        assert_eq!(h.nonce, 2083236893);
        assert_eq!(h.block_hash().to_string(), "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
        assert_eq!(h.to_bytes().to_vec(), bytes);
    }

    #[test]
    fn wrong_length_is_error() {
        assert_eq!(Header::parse(&[0u8; 79]), Err(HeaderParseError { len: 79 }));
        assert!(Header::try_from(&[0u8; 81][..]).is_err());
        assert!(Header::parse(&[]).is_err());
    }

    #[test]
    fn negative_version_roundtrips() {
        let h = Header { version: -1, ..Header::default() };
        assert_eq!(Header::from_bytes(&h.to_bytes()).version, -1);
    }

    proptest! {
        #[test]
        fn roundtrip(bytes in proptest::collection::vec(any::<u8>(), HEADER_LEN)) {
            let h = Header::parse(&bytes).unwrap();
            prop_assert_eq!(h.to_bytes().to_vec(), bytes);
        }
    }
}
