//! A small unsigned 256-bit integer, just big enough for Bitcoin's
//! consensus arithmetic.
//!
//! Bitcoin Core does this arithmetic with `arith_uint256`; the operations here
//! are the ones its proof-of-work code uses (`SetCompact`/`GetCompact` shifts,
//! `bnNew *= nActualTimespan; bnNew /= nPowTargetTimespan`, `GetBlockProof`'s
//! `~bnTarget / (bnTarget + 1) + 1`, chain-work addition) plus decimal display
//! for reports. Writing it here (about 300 lines) avoids a dependency whose
//! overflow conventions we would have to audit against Core's anyway.
//!
//! Unlike `arith_uint256`, nothing here wraps silently: additions are checked
//! or saturating, and the multiply used by the retarget returns the full
//! 320-bit product.

use std::cmp::Ordering;
use std::fmt;

/// Unsigned 256-bit integer, four 64-bit limbs, least significant first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256([u64; 4]);

impl U256 {
    /// 0.
    pub const ZERO: U256 = U256([0; 4]);
    /// 1.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// 2^256 - 1.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// Builds a value from limbs, least significant first.
    pub const fn from_limbs(limbs: [u64; 4]) -> U256 {
        U256(limbs)
    }

    /// The limbs, least significant first.
    pub const fn limbs(&self) -> [u64; 4] {
        self.0
    }

    /// Widens a `u64`.
    pub const fn from_u64(v: u64) -> U256 {
        U256([v, 0, 0, 0])
    }

    /// Interprets 32 bytes as a little-endian number. This is how Bitcoin
    /// compares a block hash against its target (`UintToArith256`).
    pub fn from_le_bytes(bytes: [u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            *limb = u64::from_le_bytes(b);
        }
        U256(limbs)
    }

    /// Little-endian bytes.
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// Interprets 32 bytes as a big-endian number.
    pub fn from_be_bytes(mut bytes: [u8; 32]) -> U256 {
        bytes.reverse();
        U256::from_le_bytes(bytes)
    }

    /// Big-endian bytes.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut b = self.to_le_bytes();
        b.reverse();
        b
    }

    /// Parses up to 64 hex digits, most significant first (an optional `0x`
    /// prefix is accepted). Returns `None` on bad digits or more than 64 digits.
    pub fn from_hex(s: &str) -> Option<U256> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if s.is_empty() || s.len() > 64 {
            return None;
        }
        let mut v = U256::ZERO;
        for c in s.chars() {
            let d = c.to_digit(16)?;
            v = v.shl(4);
            v.0[0] |= u64::from(d);
        }
        Some(v)
    }

    /// True if the value is 0.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// The low 64 bits (`GetLow64`).
    pub const fn low_u64(&self) -> u64 {
        self.0[0]
    }

    /// Number of significant bits: 0 for 0, else position of the highest set
    /// bit plus one (`arith_uint256::bits`).
    pub fn bits(&self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    /// Left shift; bits shifted past 2^255 are dropped and shifts of 256 or
    /// more give 0, as `arith_uint256::operator<<=` does.
    pub fn shl(&self, shift: u32) -> U256 {
        if shift >= 256 {
            return U256::ZERO;
        }
        let limb_shift = (shift / 64) as usize;
        let bit_shift = shift % 64;
        let mut out = [0u64; 4];
        for i in (limb_shift..4).rev() {
            let src = i - limb_shift;
            out[i] = self.0[src] << bit_shift;
            if bit_shift != 0 && src > 0 {
                out[i] |= self.0[src - 1] >> (64 - bit_shift);
            }
        }
        U256(out)
    }

    /// Logical right shift; shifts of 256 or more give 0.
    pub fn shr(&self, shift: u32) -> U256 {
        if shift >= 256 {
            return U256::ZERO;
        }
        let limb_shift = (shift / 64) as usize;
        let bit_shift = shift % 64;
        let mut out = [0u64; 4];
        for (i, o) in out.iter_mut().enumerate().take(4 - limb_shift) {
            let src = i + limb_shift;
            *o = self.0[src] >> bit_shift;
            if bit_shift != 0 && src < 3 {
                *o |= self.0[src + 1] << (64 - bit_shift);
            }
        }
        U256(out)
    }

    /// `self + rhs`, or `None` if the sum needs more than 256 bits.
    pub fn checked_add(&self, rhs: &U256) -> Option<U256> {
        let mut out = [0u64; 4];
        let mut carry = false;
        for (i, o) in out.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(rhs.0[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *o = s2;
            carry = c1 || c2;
        }
        if carry {
            None
        } else {
            Some(U256(out))
        }
    }

    /// `self + rhs`, clamped at [`U256::MAX`].
    pub fn saturating_add(&self, rhs: &U256) -> U256 {
        self.checked_add(rhs).unwrap_or(U256::MAX)
    }

    /// `self - rhs`, or `None` if `rhs > self`.
    pub fn checked_sub(&self, rhs: &U256) -> Option<U256> {
        if *self < *rhs {
            return None;
        }
        Some(self.wrapping_sub(rhs))
    }

    fn wrapping_sub(&self, rhs: &U256) -> U256 {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for (i, o) in out.iter_mut().enumerate() {
            let (d1, b1) = self.0[i].overflowing_sub(rhs.0[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *o = d2;
            borrow = b1 || b2;
        }
        U256(out)
    }

    /// Bitwise complement (`operator~`), i.e. `2^256 - 1 - self`.
    pub fn not(&self) -> U256 {
        U256([!self.0[0], !self.0[1], !self.0[2], !self.0[3]])
    }

    /// Full product `self * m` as (low 256 bits, high 64 bits). Never wraps.
    pub fn widening_mul_u64(&self, m: u64) -> (U256, u64) {
        let mut out = [0u64; 4];
        let mut carry: u128 = 0;
        for (i, o) in out.iter_mut().enumerate() {
            let p = u128::from(self.0[i]) * u128::from(m) + carry;
            *o = p as u64;
            carry = p >> 64;
        }
        (U256(out), carry as u64)
    }

    /// Divides the 320-bit number `hi * 2^256 + lo` by `d`, returning
    /// (quotient low 256 bits, quotient high 64 bits). `None` if `d == 0`.
    pub fn div_wide_u64(lo: &U256, hi: u64, d: u64) -> Option<(U256, u64)> {
        if d == 0 {
            return None;
        }
        let d = u128::from(d);
        let q_hi = u128::from(hi) / d;
        let mut rem = u128::from(hi) % d;
        let mut q = [0u64; 4];
        for i in (0..4).rev() {
            let cur = (rem << 64) | u128::from(lo.0[i]);
            q[i] = (cur / d) as u64;
            rem = cur % d;
        }
        Some((U256(q), q_hi as u64))
    }

    /// Quotient and remainder, or `None` when dividing by zero.
    ///
    /// Shift-and-subtract long division, the same algorithm as
    /// `arith_uint256::operator/=`; it runs at most 256 steps.
    pub fn checked_div_rem(&self, divisor: &U256) -> Option<(U256, U256)> {
        if divisor.is_zero() {
            return None;
        }
        if *self < *divisor {
            return Some((U256::ZERO, *self));
        }
        let num_bits = self.bits();
        let div_bits = divisor.bits();
        assert!(num_bits >= div_bits, "self >= divisor implies more bits");
        let mut shift = num_bits - div_bits;
        let mut div = divisor.shl(shift);
        let mut rem = *self;
        let mut quot = U256::ZERO;
        loop {
            if rem >= div {
                rem = rem.wrapping_sub(&div);
                quot.0[(shift / 64) as usize] |= 1u64 << (shift % 64);
            }
            if shift == 0 {
                break;
            }
            div = div.shr(1);
            shift -= 1;
        }
        assert!(rem < *divisor, "remainder must be below the divisor");
        Some((quot, rem))
    }

    /// `self / divisor`, or `None` when dividing by zero.
    pub fn checked_div(&self, divisor: &U256) -> Option<U256> {
        self.checked_div_rem(divisor).map(|(q, _)| q)
    }

    /// Divides by a small number, returning (quotient, remainder).
    fn div_rem_u64(&self, d: u64) -> (U256, u64) {
        assert!(d != 0, "internal callers never divide by zero");
        let d128 = u128::from(d);
        let mut rem: u128 = 0;
        let mut q = [0u64; 4];
        for i in (0..4).rev() {
            let cur = (rem << 64) | u128::from(self.0[i]);
            q[i] = (cur / d128) as u64;
            rem = cur % d128;
        }
        (U256(q), rem as u64)
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<u64> for U256 {
    fn from(v: u64) -> U256 {
        U256::from_u64(v)
    }
}

/// Decimal, e.g. total chain work `1257288491124035557019048160`.
impl fmt::Display for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.pad("0");
        }
        // Peel off 19 decimal digits at a time (10^19 < 2^64).
        const CHUNK: u64 = 10_000_000_000_000_000_000;
        let mut chunks = Vec::with_capacity(5);
        let mut v = *self;
        while !v.is_zero() {
            let (q, r) = v.div_rem_u64(CHUNK);
            chunks.push(r);
            v = q;
        }
        let mut s = String::with_capacity(chunks.len() * 19);
        let mut iter = chunks.iter().rev();
        if let Some(first) = iter.next() {
            s.push_str(&first.to_string());
        }
        for c in iter {
            s.push_str(&format!("{c:019}"));
        }
        f.pad(&s)
    }
}

/// Same as `Display`, so asserts and `{:?}` show readable numbers; use
/// `{:x}` for hex.
impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U256(0x{self:064x})")
    }
}

/// Hex, most significant digit first, without leading zeros unless a width
/// is requested (`{:064x}`).
impl fmt::LowerHex for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(64);
        let mut started = false;
        for i in (0..4).rev() {
            if started {
                s.push_str(&format!("{:016x}", self.0[i]));
            } else if self.0[i] != 0 || i == 0 {
                s.push_str(&format!("{:x}", self.0[i]));
                started = true;
            }
        }
        f.pad_integral(true, "0x", &s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn to_u128(v: &U256) -> Option<u128> {
        if v.0[2] != 0 || v.0[3] != 0 {
            return None;
        }
        Some(u128::from(v.0[0]) | (u128::from(v.0[1]) << 64))
    }

    fn from_u128(v: u128) -> U256 {
        U256([v as u64, (v >> 64) as u64, 0, 0])
    }

    #[test]
    fn display_decimal() {
        assert_eq!(U256::ZERO.to_string(), "0");
        assert_eq!(U256::from_u64(12345).to_string(), "12345");
        assert_eq!(from_u128(u128::MAX).to_string(), "340282366920938463463374607431768211455");
        assert_eq!(
            U256::MAX.to_string(),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
        // 10^19 exactly exercises the zero-padded chunk.
        assert_eq!(U256::from_u64(10_000_000_000_000_000_000).to_string(), "10000000000000000000");
    }

    #[test]
    fn hex_roundtrip() {
        let v = U256::from_hex("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff").unwrap();
        assert_eq!(v.bits(), 224);
        assert_eq!(format!("{v:x}"), "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
        assert_eq!(format!("{:x}", U256::ZERO), "0");
        assert_eq!(U256::from_hex(&format!("{v:064x}")), Some(v));
        assert_eq!(U256::from_hex("xyz"), None);
        assert_eq!(U256::from_hex(&"1".repeat(65)), None);
        assert_eq!(U256::from_hex(""), None);
    }

    #[test]
    fn shifts_and_bits() {
        assert_eq!(U256::ONE.shl(255).bits(), 256);
        assert_eq!(U256::ONE.shl(256), U256::ZERO);
        assert_eq!(U256::ONE.shl(255).shr(255), U256::ONE);
        assert_eq!(U256::MAX.shr(256), U256::ZERO);
        assert_eq!(U256::MAX.shr(200).bits(), 56);
        assert_eq!(U256::ZERO.bits(), 0);
    }

    #[test]
    fn div_by_zero_is_none() {
        assert_eq!(U256::ONE.checked_div(&U256::ZERO), None);
        assert_eq!(U256::div_wide_u64(&U256::ONE, 0, 0), None);
    }

    #[test]
    fn max_divided_by_itself() {
        assert_eq!(U256::MAX.checked_div_rem(&U256::MAX), Some((U256::ONE, U256::ZERO)));
        let (q, r) = U256::MAX.checked_div_rem(&U256::from_u64(2)).unwrap();
        assert_eq!(q, U256::MAX.shr(1));
        assert_eq!(r, U256::ONE);
    }

    proptest! {
        #[test]
        fn matches_u128(a in any::<u128>(), b in any::<u128>()) {
            let (x, y) = (from_u128(a), from_u128(b));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            if let Some(s) = a.checked_add(b) {
                prop_assert_eq!(to_u128(&x.checked_add(&y).unwrap()), Some(s));
            }
            match (a.checked_div(b), a.checked_rem(b)) {
                (Some(q), Some(r)) => {
                    let (q2, r2) = x.checked_div_rem(&y).unwrap();
                    prop_assert_eq!(to_u128(&q2), Some(q));
                    prop_assert_eq!(to_u128(&r2), Some(r));
                }
                _ => prop_assert_eq!(x.checked_div_rem(&y), None),
            }
            prop_assert_eq!(x.to_string(), a.to_string());
            prop_assert_eq!(format!("{x:x}"), format!("{a:x}"));
        }

        #[test]
        fn div_rem_reconstructs(a in any::<[u64; 4]>(), b in any::<[u64; 4]>(), sh in 0u32..256) {
            let x = U256(a);
            let y = U256(b).shr(sh);
            prop_assume!(!y.is_zero());
            let (q, r) = x.checked_div_rem(&y).unwrap();
            prop_assert!(r < y);
            // q * y + r == x, with q * y computed as a full 512-bit product.
            let mut prod = [0u64; 8];
            for i in 0..4 {
                let mut carry: u128 = 0;
                for j in 0..4 {
                    let t = u128::from(q.0[i]) * u128::from(y.0[j]) + u128::from(prod[i + j]) + carry;
                    prod[i + j] = t as u64;
                    carry = t >> 64;
                }
                prod[i + 4] = carry as u64;
            }
            prop_assert_eq!(&prod[4..], &[0u64; 4][..]);
            let acc = U256([prod[0], prod[1], prod[2], prod[3]]);
            prop_assert_eq!(acc.checked_add(&r), Some(x));
        }

        #[test]
        fn bytes_roundtrip(a in any::<[u8; 32]>()) {
            prop_assert_eq!(U256::from_le_bytes(a).to_le_bytes(), a);
            prop_assert_eq!(U256::from_be_bytes(a).to_be_bytes(), a);
            let mut r = a;
            r.reverse();
            prop_assert_eq!(U256::from_le_bytes(a), U256::from_be_bytes(r));
        }

        #[test]
        fn wide_mul_div_roundtrip(a in any::<[u64; 4]>(), m in 1u64..) {
            let x = U256(a);
            let (lo, hi) = x.widening_mul_u64(m);
            let (q, qhi) = U256::div_wide_u64(&lo, hi, m).unwrap();
            prop_assert_eq!(q, x);
            prop_assert_eq!(qhi, 0);
        }
    }
}
