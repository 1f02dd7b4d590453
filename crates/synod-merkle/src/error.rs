//! One error type per operation, so callers can match on exactly what went wrong.

use thiserror::Error;

/// Why [`crate::MerkleTree`] could not produce a root or a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ProofRequestError {
    /// Inclusion proofs need `index < size` (RFC 9162 section 2.1.3.1 defines `PATH(m, D[n])` for
    /// `0 <= m < n`); this also covers every request against a tree of size 0.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size the proof was requested for.
        size: u64,
    },
    /// The requested tree size is larger than the tree currently holds.
    #[error("tree size {size} is larger than the tree's current length {len}")]
    SizeOutOfRange {
        /// The requested tree size.
        size: u64,
        /// The number of leaves currently in the tree.
        len: u64,
    },
    /// A consistency proof from a larger tree to a smaller one does not exist.
    #[error("old size {old_size} is greater than new size {new_size}")]
    OldSizeGreaterThanNew {
        /// The requested old (first) tree size.
        old_size: u64,
        /// The requested new (second) tree size.
        new_size: u64,
    },
    /// RFC 9162 section 2.1.4 only defines consistency proofs for `0 < m <= n`.
    #[error("consistency proofs from an empty tree (old size 0) are not defined by RFC 9162")]
    OldSizeZero,
}

/// Why [`crate::verify_inclusion`] rejected a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InclusionError {
    /// `index >= size` (so every proof against a size-0 tree lands here).
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The proof does not have the length `PATH(index, D[size])` must have.
    #[error("inclusion proof has {actual} elements, expected {expected}")]
    WrongProofLength {
        /// The length `PATH(index, D[size])` has.
        expected: usize,
        /// The length of the proof that was supplied.
        actual: usize,
    },
    /// The root recomputed from the leaf and the proof is not the expected root.
    #[error("inclusion proof does not lead to the expected root")]
    RootMismatch,
}

/// Why [`crate::verify_consistency`] rejected a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConsistencyError {
    /// RFC 9162 section 2.1.4 only defines consistency proofs for `0 < m <= n`; an old size of 0
    /// is rejected rather than accepted vacuously.
    #[error("consistency proofs from an empty tree (old size 0) are not defined by RFC 9162")]
    OldSizeZero,
    /// The old size is larger than the new size.
    #[error("old size {old_size} is greater than new size {new_size}")]
    SizesOutOfOrder {
        /// The claimed old (first) tree size.
        old_size: u64,
        /// The claimed new (second) tree size.
        new_size: u64,
    },
    /// For `old_size == new_size` the proof must be empty (RFC 9162 section 2.1.4.1).
    #[error("consistency proof between equal sizes must be empty, got {len} elements")]
    NonEmptyProofForEqualSizes {
        /// The length of the proof that was supplied.
        len: usize,
    },
    /// For `old_size == new_size` both roots must be the same tree head.
    #[error("roots differ although old and new sizes are equal")]
    RootsDifferForEqualSizes,
    /// The proof does not have the length `PROOF(old_size, D[new_size])` must have.
    #[error("consistency proof has {actual} elements, expected {expected}")]
    WrongProofLength {
        /// The length `PROOF(old_size, D[new_size])` has.
        expected: usize,
        /// The length of the proof that was supplied.
        actual: usize,
    },
    /// The old root recomputed from the proof (`fr` in RFC 9162 section 2.1.4.2) is wrong.
    #[error("consistency proof does not lead to the expected old root")]
    OldRootMismatch,
    /// The new root recomputed from the proof (`sr` in RFC 9162 section 2.1.4.2) is wrong.
    #[error("consistency proof does not lead to the expected new root")]
    NewRootMismatch,
}
