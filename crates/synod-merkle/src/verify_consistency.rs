//! Consistency proof verification, RFC 9162 section 2.1.4.2.

use crate::error::ConsistencyError;
use crate::hash::{node_hash, Hash};
use crate::proof_len::consistency_proof_len;

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
/// `new_size` leaves with root `new_root`, given `proof = PROOF(old_size, D[new_size])`.
///
/// Never panics. Errors, in the order they are checked:
/// * [`ConsistencyError::OldSizeZero`]: RFC 9162 defines consistency only for `0 < m <= n`; an
///   empty old tree is rejected rather than accepted vacuously (whatever `new_size` is).
/// * [`ConsistencyError::SizesOutOfOrder`] if `old_size > new_size`.
/// * For `old_size == new_size`: [`ConsistencyError::NonEmptyProofForEqualSizes`] unless the
///   proof is empty, then [`ConsistencyError::RootsDifferForEqualSizes`] unless the roots match.
/// * [`ConsistencyError::WrongProofLength`] if the proof has extra or missing hashes.
/// * [`ConsistencyError::OldRootMismatch`], then [`ConsistencyError::NewRootMismatch`], if a
///   recomputed root differs. When `old_size` is a power of two the old root is itself the
///   starting point of both computations, so a wrong `old_root` shows up as a *new* root
///   mismatch.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ConsistencyError> {
    if old_size == 0 {
        return Err(ConsistencyError::OldSizeZero);
    }
    if old_size > new_size {
        return Err(ConsistencyError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == new_size {
        // PROOF(m, D[m]) = SUBPROOF(m, D[m], true) = {} (RFC 9162 section 2.1.4.1), and the two
        // tree heads must then be the same.
        if !proof.is_empty() {
            return Err(ConsistencyError::NonEmptyProofForEqualSizes { len: proof.len() });
        }
        if old_root != new_root {
            return Err(ConsistencyError::RootsDifferForEqualSizes);
        }
        return Ok(());
    }
    // Not an RFC step (the RFC notices a wrong length only through `sn`): check the exact length
    // first for a precise error and bounded work. This also rules out the RFC's step "if
    // consistency_path is empty, fail", as the expected length is >= 1 for old_size < new_size.
    let expected = consistency_proof_len(old_size, new_size).expect("0 < old_size < new_size was checked above");
    let wrong_length = ConsistencyError::WrongProofLength { expected, actual: proof.len() };
    if proof.len() != expected || proof.is_empty() {
        return Err(wrong_length);
    }

    // Step 1: "If first is an exact power of 2, then prepend first_hash to the consistency_path
    // array." Instead of copying, take the starting value from the right place.
    let (seed, rest) = if old_size.is_power_of_two() { (*old_root, proof) } else { (proof[0], &proof[1..]) };
    // Step 2: fn = first - 1, sn = second - 1 (no underflow: 0 < old_size < new_size).
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    // Step 3: "If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not
    // set." These are the levels inside the complete subtree that `seed` is the root of.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 4: fr and sr both start from the first value of the (possibly prepended) path.
    let mut fr = seed;
    let mut sr = seed;
    // Step 5.
    for c in rest {
        // Cannot trigger after the length check, but it is the RFC's own guard, so keep it.
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            // `c` is a left sibling, part of both the old and the new tree.
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            // `c` is a right sibling: only in the new tree.
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 6: "verify that the fr calculated is equal to the first_hash supplied, that the sr
    // calculated is equal to the second_hash value supplied, and that sn is 0."
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(ConsistencyError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ConsistencyError::NewRootMismatch);
    }
    Ok(())
}
