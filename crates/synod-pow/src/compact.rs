//! The compact target encoding ("nBits"), bit-exact with Bitcoin Core's
//! `arith_uint256::SetCompact` / `GetCompact`.
//!
//! A compact value is a base-256 float: the top byte is the size in bytes,
//! the low 23 bits are the mantissa and bit 0x00800000 is a sign bit (a
//! leftover of OpenSSL's `BN_bn2mpi` format). Consensus code treats negative,
//! zero and overflowing values as invalid targets, so decoding reports all
//! three rather than silently producing a number.

use crate::u256::U256;

/// The sign bit of a compact value.
pub const SIGN_BIT: u32 = 0x0080_0000;
/// The mantissa bits of a compact value.
pub const MANTISSA_MASK: u32 = 0x007f_ffff;

/// Result of decoding a compact value: the `arith_uint256` Core would hold
/// plus its `pfNegative` / `pfOverflow` flags.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Compact {
    /// The decoded magnitude, exactly as `SetCompact` leaves it (bits shifted
    /// past 2^256 are dropped, as `operator<<=` drops them).
    pub value: U256,
    /// Sign bit set with a nonzero (post-shift) mantissa.
    pub negative: bool,
    /// The value does not fit in 256 bits.
    pub overflow: bool,
}

impl Compact {
    /// Decodes `bits` the way `arith_uint256::SetCompact` does.
    pub fn decode(bits: u32) -> Compact {
        let size = bits >> 24;
        let mut word = bits & MANTISSA_MASK;
        let value = if size <= 3 {
            // Small sizes shift the mantissa right, which can drop it to zero;
            // the sign test below deliberately uses the shifted word.
            word >>= 8 * (3 - size);
            U256::from_u64(u64::from(word))
        } else {
            U256::from_u64(u64::from(word)).shl(8 * (size - 3))
        };
        let negative = word != 0 && (bits & SIGN_BIT) != 0;
        let overflow = word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
        Compact { value, negative, overflow }
    }

    /// The target `bits` stands for, or why it is not a valid target: the
    /// first half of `CheckProofOfWork` / `DeriveTarget`
    /// (`fNegative || bnTarget == 0 || fOverflow || bnTarget > powLimit`).
    pub fn target(bits: u32, pow_limit: &U256) -> Result<U256, BitsError> {
        let c = Compact::decode(bits);
        if c.negative {
            Err(BitsError::Negative)
        } else if c.overflow {
            Err(BitsError::Overflow)
        } else if c.value.is_zero() {
            Err(BitsError::Zero)
        } else if c.value > *pow_limit {
            Err(BitsError::AbovePowLimit)
        } else {
            Ok(c.value)
        }
    }

    /// Encodes `value` the way `arith_uint256::GetCompact(fNegative)` does.
    ///
    /// The mantissa is truncated (not rounded) to 3 bytes, and if its top
    /// bit would collide with the sign bit the size is bumped by one, so
    /// encodings never look negative unless `negative` is requested.
    pub fn encode(value: &U256, negative: bool) -> u32 {
        let mut size = value.bits().div_ceil(8);
        let mut compact: u32 = if size <= 3 {
            // bits() <= 24 here, so the low limb holds the whole value.
            (value.low_u64() << (8 * (3 - size))) as u32
        } else {
            value.shr(8 * (size - 3)).low_u64() as u32
        };
        if compact & SIGN_BIT != 0 {
            compact >>= 8;
            size += 1;
        }
        assert!(compact & !MANTISSA_MASK == 0, "mantissa fits 23 bits");
        assert!(size < 256, "size fits one byte");
        compact |= size << 24;
        if negative && (compact & MANTISSA_MASK) != 0 {
            compact |= SIGN_BIT;
        }
        compact
    }

    /// Encodes a non-negative target (`GetCompact()` with its default).
    pub fn from_target(value: &U256) -> u32 {
        Compact::encode(value, false)
    }
}

/// Why a `bits` field is not a usable target.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum BitsError {
    /// Sign bit set with a nonzero mantissa.
    #[error("negative target")]
    Negative,
    /// Does not fit in 256 bits.
    #[error("target overflows 256 bits")]
    Overflow,
    /// Decodes to zero.
    #[error("zero target")]
    Zero,
    /// Larger (easier) than the network's proof-of-work limit.
    #[error("target above the proof-of-work limit")]
    AbovePowLimit,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(v: &U256) -> String {
        format!("{v:064x}")
    }

    fn check(bits: u32, value_hex: &str, neg: bool, ovf: bool) -> Compact {
        let c = Compact::decode(bits);
        assert_eq!(hex(&c.value), format!("{value_hex:0>64}"), "value of {bits:#010x}");
        assert_eq!(c.negative, neg, "negative flag of {bits:#010x}");
        assert_eq!(c.overflow, ovf, "overflow flag of {bits:#010x}");
        c
    }

    /// Vectors from Bitcoin Core's `arith_uint256_tests.cpp`
    /// (`bignum_SetCompact`).
    #[test]
    fn core_set_compact_vectors() {
        // Zero mantissas, and mantissas shifted out by a small size, are zero
        // and never negative even with the sign bit set.
        for bits in [
            0u32, 0x00123456, 0x01003456, 0x02000056, 0x03000000, 0x04000000, 0x00923456, 0x01803456, 0x02800056,
            0x03800000, 0x04800000,
        ] {
            let c = check(bits, "0", false, false);
            assert_eq!(Compact::encode(&c.value, false), 0, "{bits:#010x}");
        }

        let c = check(0x01123456, "12", false, false);
        assert_eq!(Compact::encode(&c.value, false), 0x01120000);

        // Never generate compacts with the sign bit set.
        assert_eq!(Compact::from_target(&U256::from_u64(0x80)), 0x02008000);

        let c = check(0x01fedcba, "7e", true, false);
        assert_eq!(Compact::encode(&c.value, true), 0x01fe0000);

        let c = check(0x02123456, "1234", false, false);
        assert_eq!(Compact::encode(&c.value, false), 0x02123400);

        let c = check(0x03123456, "123456", false, false);
        assert_eq!(Compact::encode(&c.value, false), 0x03123456);

        let c = check(0x04123456, "12345600", false, false);
        assert_eq!(Compact::encode(&c.value, false), 0x04123456);

        let c = check(0x04923456, "12345600", true, false);
        assert_eq!(Compact::encode(&c.value, true), 0x04923456);

        let c = check(0x05009234, "92340000", false, false);
        assert_eq!(Compact::encode(&c.value, false), 0x05009234);

        let c = check(0x20123456, "1234560000000000000000000000000000000000000000000000000000000000", false, false);
        assert_eq!(Compact::encode(&c.value, false), 0x20123456);

        let c = Compact::decode(0xff123456);
        assert!(!c.negative);
        assert!(c.overflow);
    }

    #[test]
    fn overflow_boundaries() {
        // Size 34 with a one-byte mantissa still fits (0xff << 8*31 < 2^256).
        assert!(!Compact::decode(0x220000ff).overflow);
        assert!(Compact::decode(0x230000ff).overflow);
        assert!(!Compact::decode(0x2100ffff).overflow);
        assert!(Compact::decode(0x2200ffff).overflow);
        assert!(!Compact::decode(0x207fffff).overflow);
        assert!(Compact::decode(0x217fffff).overflow);
        // A zero mantissa never overflows, whatever the size.
        assert!(!Compact::decode(0xff000000).overflow);
    }

    #[test]
    fn mainnet_limit_and_genesis() {
        let limit = U256::from_hex("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff").unwrap();
        assert_eq!(Compact::from_target(&limit), 0x1d00ffff);
        let t = Compact::target(0x1d00ffff, &limit).unwrap();
        assert_eq!(hex(&t), "00000000ffff0000000000000000000000000000000000000000000000000000");
    }

    #[test]
    fn target_validity() {
        let limit = U256::from_hex("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff").unwrap();
        assert_eq!(Compact::target(0x04923456, &limit), Err(BitsError::Negative));
        assert_eq!(Compact::target(0xff123456, &limit), Err(BitsError::Overflow));
        assert_eq!(Compact::target(0, &limit), Err(BitsError::Zero));
        assert_eq!(Compact::target(0x01003456, &limit), Err(BitsError::Zero));
        assert_eq!(Compact::target(0x1d010000, &limit), Err(BitsError::AbovePowLimit));
        assert!(Compact::target(0x1c7fffff, &limit).is_ok());
        // Negative with zero shifted mantissa decodes as zero, not negative.
        assert_eq!(Compact::target(0x01803456, &limit), Err(BitsError::Zero));
    }

    proptest! {
        /// Encoding a decoded valid compact gives back a value that decodes
        /// to the same number (the canonical form may differ, e.g. 0x05009234
        /// has a redundant leading zero byte but is still canonical here).
        #[test]
        fn decode_encode_decode(size in 0u32..=0x22, low in 0u32..=0x00ff_ffff) {
            let bits = (size << 24) | low;
            let c = Compact::decode(bits);
            prop_assume!(!c.overflow);
            let re = Compact::encode(&c.value, c.negative);
            let c2 = Compact::decode(re);
            prop_assert_eq!(c2.value, c.value);
            prop_assert_eq!(c2.negative, c.negative);
            prop_assert!(!c2.overflow);
        }

        /// Encoding truncates: the decoded result never exceeds the input and
        /// keeps at least its top 16 significant bits.
        #[test]
        fn encode_truncates(limbs in any::<[u64; 4]>(), sh in 0u32..256) {
            let v = U256::from_limbs(limbs).shr(sh);
            let d = Compact::decode(Compact::from_target(&v));
            prop_assert!(!d.negative && !d.overflow);
            prop_assert!(d.value <= v);
            // A value of exactly 24 bits with its top bit set needs the size
            // bump, losing its low byte; 23 bits or fewer are exact.
            if v.bits() > 23 {
                prop_assert!(v.shr(v.bits() - 16) == d.value.shr(v.bits() - 16));
            } else {
                prop_assert_eq!(d.value, v);
            }
        }
    }
}
