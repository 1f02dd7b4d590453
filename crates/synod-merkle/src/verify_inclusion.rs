//! Inclusion proof verification, RFC 9162 section 2.1.3.2.

use crate::error::InclusionError;
use crate::hash::{node_hash, Hash};
use crate::proof_len::inclusion_proof_len;

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`,
/// given `proof = PATH(index, D[size])`.
///
/// Never panics. Errors, in the order they are checked:
/// [`InclusionError::IndexOutOfRange`] if `index >= size` (so always for `size == 0`),
/// [`InclusionError::WrongProofLength`] if the proof has extra or missing hashes,
/// [`InclusionError::RootMismatch`] if the recomputed root differs.
///
/// As with any RFC 9162 verifier, `size` is only checked through the shape of the proof: the
/// caller must take `size` and `root` from the same (signed) tree head.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), InclusionError> {
    // Step 1: "Compare leaf_index from the inclusion_proof_v2 structure against tree_size. If
    // leaf_index is greater than or equal to tree_size, then fail the proof verification."
    let expected = inclusion_proof_len(index, size).ok_or(InclusionError::IndexOutOfRange { index, size })?;
    // Not an RFC step: it only notices a wrong length through `sn` below. Checking up front gives
    // a precise error and bounds the hashing done on hostile input.
    let wrong_length = InclusionError::WrongProofLength { expected, actual: proof.len() };
    if proof.len() != expected {
        return Err(wrong_length);
    }

    // Step 2: fn = leaf_index, sn = tree_size - 1 (no underflow: index < size).
    let mut fn_ = index;
    let mut sn = size - 1;
    // Step 3: r = hash.
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        // 4a. Cannot trigger after the length check, but it is the RFC's own guard, so keep it.
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            // 4b. `p` is a left sibling.
            r = node_hash(p, &r);
            // Skip the levels where this subtree is a left child on the right border of the
            // tree: it has no right sibling there and is carried up unchanged.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            // `p` is a right sibling.
            r = node_hash(&r, p);
        }
        // 4c.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5: "compare sn to 0. Compare r against the root_hash." (sn != 0 would mean the proof
    // was too short, which the length check already excluded.)
    if sn != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(InclusionError::RootMismatch);
    }
    Ok(())
}
