//! Chain work: the expected number of hashes a header represents.

use crate::compact::Compact;
use crate::u256::U256;

/// Work of one header with compact target `bits`, as Bitcoin Core's
/// `GetBlockProof`: `2^256 / (target + 1)`.
///
/// 2^256 does not fit in 256 bits, so Core computes the same quotient as
/// `~target / (target + 1) + 1` (since `2^256 = (~target) + (target + 1)`).
/// Negative, overflowing and zero targets have zero work, also as in Core.
/// No pow-limit check here: work is a property of `bits` alone.
pub fn block_proof(bits: u32) -> U256 {
    let c = Compact::decode(bits);
    if c.negative || c.overflow || c.value.is_zero() {
        return U256::ZERO;
    }
    target_work(&c.value)
}

/// `2^256 / (target + 1)` for a nonzero target.
pub fn target_work(target: &U256) -> U256 {
    match target.checked_add(&U256::ONE) {
        // target == 2^256 - 1: 2^256 / 2^256 == 1.
        None => U256::ONE,
        Some(divisor) => {
            let q = target.not().checked_div(&divisor).expect("divisor is target + 1, never zero");
            // q <= ~target < 2^256 - 1, so adding one cannot overflow.
            q.checked_add(&U256::ONE).expect("quotient below U256::MAX")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_work() {
        // Core's chainwork for the genesis block is 0x100010001.
        assert_eq!(block_proof(0x1d00ffff), U256::from_u64(0x1_0001_0001));
    }

    #[test]
    fn invalid_bits_have_no_work() {
        assert_eq!(block_proof(0), U256::ZERO);
        assert_eq!(block_proof(0x04923456), U256::ZERO);
        assert_eq!(block_proof(0xff123456), U256::ZERO);
    }

    #[test]
    fn extremes() {
        // target 1 -> 2^255; target MAX -> 1; target 2^255 - 1 -> 2.
        assert_eq!(target_work(&U256::ONE), U256::ONE.shl(255));
        assert_eq!(target_work(&U256::MAX), U256::ONE);
        assert_eq!(target_work(&U256::MAX.shr(1)), U256::from_u64(2));
        // Regtest's 0x207fffff target (just under 2^255) is worth 2 hashes.
        assert_eq!(block_proof(0x207fffff), U256::from_u64(2));
    }
}
