//! Exact proof lengths, computed from the sizes alone.
//!
//! The verifiers use these to reject proofs with extra or missing elements *before* hashing
//! anything (RFC 9162 sections 2.1.3.2 and 2.1.4.2 only fail on a wrong length implicitly, via the
//! `sn` bookkeeping; checking first gives a precise error and bounds the work done on hostile
//! input). They are public so that decoders can bound proof sizes too.

/// Number of bits needed to represent `x` (0 for 0), i.e. Go's `bits.Len64`.
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Number of hashes in `PATH(index, D[size])` (RFC 9162 section 2.1.3.1), or `None` when
/// `index >= size` (no such proof exists; in particular a size-0 tree has none).
///
/// Why the formula holds: let `last = size - 1`. Below the level where the paths from leaf
/// `index` and leaf `last` to the root meet, `index`'s ancestors are in complete subtrees and
/// always have a sibling: that is `bit_len(index ^ last)` levels ("inner"). From there up,
/// `index`'s ancestors lie on the right border of the tree, where a node has a sibling exactly
/// when it is a right child (odd position); a left child on the border has no right neighbour
/// and is carried up unchanged by the `k = largest power of 2 < n` split. That adds
/// `popcount(index >> inner)` ("border") hashes.
pub fn inclusion_proof_len(index: u64, size: u64) -> Option<usize> {
    if index >= size {
        return None;
    }
    let inner = bit_len(index ^ (size - 1));
    // `inner <= 64`; a shift by 64 would overflow, and then no bits remain anyway.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    Some((inner + border) as usize)
}

/// Number of hashes in `PROOF(old_size, D[new_size])` (RFC 9162 section 2.1.4.1), or `None`
/// when `old_size == 0` or `old_size > new_size` (not a valid request; see the crate docs).
///
/// Why the formula holds: for `m < n` the proof is the inclusion path of leaf `m - 1` in the
/// size-`n` tree, except that the lowest `t = trailing_zeros(m)` levels are replaced by one
/// hash: the complete subtree of `2^t` leaves ending at leaf `m - 1`, which both the old and the
/// new tree contain. When `m` is a power of two that subtree *is* the old tree, whose root the
/// verifier already has, so it is omitted (`SUBPROOF(m, D[m], true) = {}`).
pub fn consistency_proof_len(old_size: u64, new_size: u64) -> Option<usize> {
    if old_size == 0 || old_size > new_size {
        return None;
    }
    if old_size == new_size {
        return Some(0);
    }
    let path = inclusion_proof_len(old_size - 1, new_size)?;
    let t = old_size.trailing_zeros() as usize;
    // `m - 1` ends in `t` one bits and `n - 1 >= m` differs from it at some bit >= t, so the
    // "inner" part of the path has more than `t` levels and this cannot underflow.
    let shared = path.checked_sub(t)?;
    let seed = usize::from(!old_size.is_power_of_two());
    Some(shared + seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_len_matches_go_bits_len64() {
        assert_eq!(bit_len(0), 0);
        assert_eq!(bit_len(1), 1);
        assert_eq!(bit_len(16), 5);
        assert_eq!(bit_len(64), 7);
        assert_eq!(bit_len(1 << 63), 64);
        assert_eq!(bit_len(u64::MAX), 64);
    }

    #[test]
    fn known_lengths() {
        assert_eq!(inclusion_proof_len(0, 0), None);
        assert_eq!(inclusion_proof_len(0, 1), Some(0));
        assert_eq!(inclusion_proof_len(0, 8), Some(3));
        assert_eq!(inclusion_proof_len(2, 3), Some(1));
        assert_eq!(inclusion_proof_len(4, 5), Some(1));
        assert_eq!(inclusion_proof_len(1, 5), Some(3));
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), Some(63));
        assert_eq!(inclusion_proof_len(0, u64::MAX), Some(64));
        assert_eq!(consistency_proof_len(0, 5), None);
        assert_eq!(consistency_proof_len(6, 5), None);
        assert_eq!(consistency_proof_len(5, 5), Some(0));
        assert_eq!(consistency_proof_len(1, 8), Some(3));
        assert_eq!(consistency_proof_len(6, 8), Some(3));
        assert_eq!(consistency_proof_len(2, 5), Some(2));
        assert_eq!(consistency_proof_len(u64::MAX - 1, u64::MAX), Some(64));
        assert_eq!(consistency_proof_len(1 << 63, u64::MAX), Some(1));
    }
}
