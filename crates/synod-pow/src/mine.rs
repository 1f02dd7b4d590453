//! Nonce search with a SHA-256 midstate.
//!
//! An 80-byte header is two SHA-256 blocks. The first 64 bytes (version,
//! prev_hash, 28 bytes of merkle_root) do not depend on the nonce, so their
//! compression result (the midstate) is computed once; each nonce then costs
//! one compression for the last 16 bytes plus padding, and one for the
//! second SHA-256 of the 32-byte digest: two compressions instead of three.

use std::ops::RangeInclusive;

use sha2::compress256;
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;

use crate::hash::BlockHash;
use crate::header::{Header, HEADER_LEN};
use crate::u256::U256;

/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Offset of the nonce inside the second 64-byte block (80 - 4 - 64).
const NONCE_OFFSET: usize = 12;

/// The hashing state of a header with everything fixed except the nonce.
#[derive(Clone, Debug)]
pub struct Midstate {
    /// SHA-256 state after compressing bytes 0..64 of the header.
    state: [u32; 8],
    /// Bytes 64..80 of the header followed by SHA-256 padding for an
    /// 80-byte message; the nonce slot is overwritten per attempt.
    tail: GenericArray<u8, U64>,
}

impl Midstate {
    /// Compresses the nonce-independent first block of `header` once.
    pub fn new(header: &Header) -> Midstate {
        let bytes = header.to_bytes();
        let mut state = SHA256_IV;
        compress256(&mut state, &[*GenericArray::from_slice(&bytes[..64])]);

        let mut tail = GenericArray::<u8, U64>::default();
        tail[..16].copy_from_slice(&bytes[64..HEADER_LEN]);
        tail[16] = 0x80;
        // Message length in bits, big-endian, in the last 8 bytes.
        tail[56..].copy_from_slice(&((HEADER_LEN as u64) * 8).to_be_bytes());
        Midstate { state, tail }
    }

    /// Double SHA-256 of the header with `nonce` substituted; equal to
    /// `Header { nonce, ..header }.block_hash()`.
    pub fn hash_with_nonce(&self, nonce: u32) -> BlockHash {
        let mut block = self.tail;
        block[NONCE_OFFSET..NONCE_OFFSET + 4].copy_from_slice(&nonce.to_le_bytes());
        let mut inner = self.state;
        compress256(&mut inner, &[block]);

        // Second SHA-256: the 32-byte digest plus padding is one block.
        let mut second = GenericArray::<u8, U64>::default();
        for (chunk, word) in second[..32].chunks_exact_mut(4).zip(inner.iter()) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        second[32] = 0x80;
        second[56..].copy_from_slice(&256u64.to_be_bytes());
        let mut outer = SHA256_IV;
        compress256(&mut outer, &[second]);

        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(outer.iter()) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        BlockHash(out)
    }
}

/// A nonce that met the target, and the resulting block hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Solution {
    /// The winning nonce.
    pub nonce: u32,
    /// The header's hash with that nonce.
    pub hash: BlockHash,
}

/// Searches `nonces` in increasing order for the first nonce whose header
/// hash is `<= target` (the comparison of `CheckProofOfWork`). Returns
/// `None` if no nonce in the range works (or the range is empty).
///
/// Single-threaded by design: to use more cores, split the nonce space
/// between callers. The header's own `nonce` field is ignored.
pub fn mine(header: &Header, nonces: RangeInclusive<u32>, target: &U256) -> Option<Solution> {
    let mid = Midstate::new(header);
    for nonce in nonces {
        let hash = mid.hash_with_nonce(nonce);
        if hash.to_u256() <= *target {
            return Some(Solution { nonce, hash });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compact::Compact;
    use proptest::prelude::*;

    fn genesis() -> Header {
        let bytes = hex::decode("0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c").unwrap();
        Header::parse(&bytes).unwrap()
    }

    #[test]
    fn midstate_matches_plain_hash_on_genesis() {
        let g = genesis();
        let mid = Midstate::new(&Header { nonce: 0, ..g });
        assert_eq!(mid.hash_with_nonce(g.nonce), g.block_hash());
    }

    #[test]
    fn finds_genesis_nonce_near_it() {
        let g = genesis();
        let target = Compact::decode(g.bits).value;
        let start = g.nonce - 1000;
        let sol = mine(&g, start..=u32::MAX, &target).unwrap();
        assert_eq!(sol.nonce, g.nonce);
        assert_eq!(sol.hash, g.block_hash());
        // The range just below it holds no solution at this difficulty.
        assert_eq!(mine(&g, start..=g.nonce - 1, &target), None);
    }

    #[test]
    fn empty_range_and_impossible_target() {
        let g = genesis();
        #[allow(clippy::reversed_empty_ranges)]
        let empty = 5..=4;
        assert_eq!(mine(&g, empty, &U256::MAX), None);
        assert_eq!(mine(&g, 0..=100, &U256::ZERO), None);
        // Every hash meets the maximal target: the first nonce wins.
        assert_eq!(mine(&g, 7..=100, &U256::MAX).unwrap().nonce, 7);
    }

    proptest! {
        #[test]
        fn midstate_matches_plain_hash(bytes in proptest::collection::vec(any::<u8>(), HEADER_LEN), nonce in any::<u32>()) {
            let h = Header::parse(&bytes).unwrap();
            let mid = Midstate::new(&h);
            prop_assert_eq!(mid.hash_with_nonce(nonce), Header { nonce, ..h }.block_hash());
        }
    }
}
