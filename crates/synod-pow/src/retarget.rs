//! Difficulty retargeting (Core's `GetNextWorkRequired` /
//! `CalculateNextWorkRequired`, mainnet rules).

use crate::compact::Compact;
use crate::params::Params;

/// The `bits` a header at `next_height` must carry, as `GetNextWorkRequired`
/// computes it on mainnet.
///
/// - At a non-retarget height the answer is the previous header's bits
///   (`pindexLast->nBits`); mainnet has no minimum-difficulty exception.
/// - At a retarget height it is [`calculate_next_work_required`] over the
///   period that just ended. `period_times` is called only then and must
///   return `(time of block next_height - interval, time of block
///   next_height - 1)`: Core takes the first block as
///   `pindexLast->GetAncestor(pindexLast->nHeight - (interval - 1))`, so a
///   period of 2016 blocks is measured over 2015 gaps (Bitcoin's
///   off-by-one, kept for consensus).
pub fn next_work_required(
    next_height: u64,
    last_bits: u32,
    period_times: impl FnOnce() -> (u32, u32),
    params: &Params,
) -> u32 {
    if !params.is_retarget_height(next_height) {
        return last_bits;
    }
    let (first_time, last_time) = period_times();
    calculate_next_work_required(last_bits, first_time, last_time, params)
}

/// Core's `CalculateNextWorkRequired`:
/// `new = old * clamp(last_time - first_time, T/4, 4T) / T`, capped at the
/// pow limit, returned in compact form (so the result is truncated to the
/// compact precision exactly as Core truncates it).
///
/// Times are widened to `i64` before subtracting, as Core's
/// `GetBlockTime()` does, so a period whose last block is older than its
/// first gives a negative span that clamps to `T/4`.
///
/// Core multiplies with `arith_uint256`, which wraps modulo 2^256; we keep
/// the full 320-bit product instead. The two agree whenever
/// `pow_limit * 4T < 2^256` (true for mainnet, where it is below 2^246)
/// and differ only for absurdly easy Synod limits, where wrapping would be a
/// bug rather than a rule.
pub fn calculate_next_work_required(last_bits: u32, first_time: u32, last_time: u32, params: &Params) -> u32 {
    if params.no_retargeting() {
        return last_bits;
    }
    let timespan = i64::from(params.target_timespan());
    let actual = (i64::from(last_time) - i64::from(first_time)).clamp(timespan / 4, timespan * 4);
    assert!(actual > 0, "Params guarantees target_timespan >= 4");
    // Params guarantees 4 * target_timespan fits u32, matching Core's
    // `operator*=(uint32_t)`.
    let multiplier = u32::try_from(actual).expect("clamped timespan fits u32");

    // Core's `bnNew.SetCompact(pindexLast->nBits)` ignores the sign and
    // overflow flags; so do we (callers have validated `last_bits`).
    let old = Compact::decode(last_bits).value;
    let (lo, hi) = old.widening_mul_u64(u64::from(multiplier));
    let (q, q_hi) = crate::u256::U256::div_wide_u64(&lo, hi, u64::from(params.target_timespan()))
        .expect("target_timespan is nonzero");
    let new = if q_hi != 0 || q > *params.pow_limit() { *params.pow_limit() } else { q };
    Compact::from_target(&new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::u256::U256;

    const T: u32 = 14 * 24 * 60 * 60;

    fn target(bits: u32) -> U256 {
        Compact::decode(bits).value
    }

    #[test]
    fn exact_timespan_keeps_bits() {
        let p = Params::bitcoin_mainnet();
        let bits = 0x17034219;
        assert_eq!(calculate_next_work_required(bits, 1000, 1000 + T, &p), bits);
    }

    #[test]
    fn clamps_up_to_four_times_easier() {
        let p = Params::bitcoin_mainnet();
        let bits = 0x1b0404cb;
        let expected = Compact::from_target(&target(bits).shl(2));
        // Ten times too slow is clamped to four.
        let got = calculate_next_work_required(bits, 0, 10 * T, &p);
        assert_eq!(got, expected);
        assert_eq!(got, 0x1b10132c);
        // Exactly 4T gives the same.
        assert_eq!(calculate_next_work_required(bits, 0, 4 * T, &p), expected);
        // Slightly less than 4T gives something harder.
        assert!(target(calculate_next_work_required(bits, 0, 4 * T - 600, &p)) < target(expected));
    }

    #[test]
    fn clamps_down_to_four_times_harder() {
        let p = Params::bitcoin_mainnet();
        let bits = 0x1b0404cb;
        let expected = Compact::from_target(&target(bits).shr(2));
        // Blocks in no time at all.
        assert_eq!(calculate_next_work_required(bits, 5000, 5000, &p), expected);
        // Last block older than the first: negative span clamps to T/4.
        assert_eq!(calculate_next_work_required(bits, 5000, 10, &p), expected);
        assert_eq!(calculate_next_work_required(bits, 0, T / 4, &p), expected);
        assert_eq!(expected, 0x1b010132);
    }

    #[test]
    fn capped_at_pow_limit() {
        let p = Params::bitcoin_mainnet();
        // Already at the limit and slow: stays at the limit.
        assert_eq!(calculate_next_work_required(0x1d00ffff, 0, 4 * T, &p), 0x1d00ffff);
        // Just under the limit and slow: capped, not four times easier.
        assert_eq!(calculate_next_work_required(0x1c7fffff, 0, 4 * T, &p), 0x1d00ffff);
    }

    #[test]
    fn core_pow_tests_vectors() {
        // Bitcoin Core pow_tests.cpp `get_next_work`: last block 32255,
        // time 1262152739, first block time 1261130161, bits 0x1d00ffff,
        // expected 0x1d00d86a.
        let p = Params::bitcoin_mainnet();
        assert_eq!(calculate_next_work_required(0x1d00ffff, 1261130161, 1262152739, &p), 0x1d00d86a);
        // `get_next_work_pow_limit`: 0x1d00ffff, 1231006505 -> 1233061996.
        assert_eq!(calculate_next_work_required(0x1d00ffff, 1231006505, 1233061996, &p), 0x1d00ffff);
        // `get_next_work_lower_limit_actual`: 0x1c05a3f4, 1279008237 ->
        // 1279297671, expected 0x1c0168fd.
        assert_eq!(calculate_next_work_required(0x1c05a3f4, 1279008237, 1279297671, &p), 0x1c0168fd);
        // `get_next_work_upper_limit_actual`: 0x1c387f6f, 1263163443 ->
        // 1269211443, expected 0x1d00e1fd.
        assert_eq!(calculate_next_work_required(0x1c387f6f, 1263163443, 1269211443, &p), 0x1d00e1fd);
    }

    #[test]
    fn non_retarget_height_keeps_previous_bits() {
        let p = Params::bitcoin_mainnet();
        let called = std::cell::Cell::new(false);
        let bits = next_work_required(
            824_545,
            0x17034219,
            || {
                called.set(true);
                (0, 0)
            },
            &p,
        );
        assert_eq!(bits, 0x17034219);
        assert!(!called.get(), "period times are only needed at retargets");
        // At a retarget height the period is consulted.
        let bits = next_work_required(824_544, 0x1b0404cb, || (0, 0), &p);
        assert_eq!(bits, 0x1b010132);
    }

    #[test]
    fn no_retargeting_flag() {
        let p = Params::synod(U256::MAX.shr(1), 10, 20).unwrap().with_no_retargeting(true);
        assert_eq!(calculate_next_work_required(0x1f00ffff, 0, 0, &p), 0x1f00ffff);
    }

    #[test]
    fn easy_limit_does_not_wrap() {
        // pow limit ~2^255 with a timespan of 200s: old target * 800 needs
        // ~265 bits. Core would wrap; we cap at the limit.
        let p = Params::synod(U256::MAX.shr(1), 10, 20).unwrap();
        assert_eq!(calculate_next_work_required(0x207fffff, 0, 10_000, &p), 0x207fffff);
        // Four times harder from the limit.
        let quarter = Compact::from_target(&(target(0x207fffff).shr(2)));
        assert_eq!(calculate_next_work_required(0x207fffff, 0, 0, &p), quarter);
    }
}
