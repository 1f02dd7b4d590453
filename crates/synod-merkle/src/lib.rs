//! RFC 9162 (Certificate Transparency v2, same tree as RFC 6962) Merkle trees for Synod.
//!
//! Everything here follows RFC 9162 section 2.1 exactly, so that any independent RFC 6962/9162
//! implementation computes the same roots and accepts the same proofs:
//!
//! * [`leaf_hash`] / [`node_hash`] / [`empty_root`] are the domain-separated hashes of
//!   section 2.1.1 (the `0x00` / `0x01` prefixes make a leaf impossible to pass off as an interior
//!   node and vice versa, which is what stops second-preimage attacks on the tree shape).
//! * [`root_from_leaf_hashes`] is the recursive definition `MTH(D[n])` of section 2.1.1, kept
//!   deliberately simple as a reference.
//! * [`MerkleTree`] is the efficient append-only structure: it stores every complete (perfect)
//!   subtree, so historical roots, inclusion proofs (`PATH(m, D[n])`, section 2.1.3.1) and
//!   consistency proofs (`PROOF(m, D[n])`, section 2.1.4.1) cost O(log n) hash operations.
//! * [`verify_inclusion`] (section 2.1.3.2) and [`verify_consistency`] (section 2.1.4.2) are the
//!   client-side checks. They never panic, and they check the exact proof length before hashing,
//!   so proofs with extra or missing elements are rejected with a typed error.
//!
//! Two edge cases where the RFC leaves room for choice are decided as follows:
//! * An inclusion proof needs `index < size`, so a tree of size 0 has no inclusion proofs at all
//!   ([`InclusionError::IndexOutOfRange`]).
//! * RFC 9162 only defines consistency proofs for `0 < m <= n`. A consistency request or
//!   verification with `old_size == 0` is rejected ([`ProofRequestError::OldSizeZero`],
//!   [`ConsistencyError::OldSizeZero`]) instead of being vacuously accepted, so callers must
//!   handle "trust on first use" of a tree head explicitly.
//!
//! Note that, as in every RFC 9162 verifier, the tree size is only bound to a root through the
//! shape of the proof: a caller must obtain `(size, root)` from the same signed tree head.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod hash;
mod proof_len;
mod tree;
mod verify_consistency;
mod verify_inclusion;

pub use error::{ConsistencyError, InclusionError, ProofRequestError};
pub use hash::{empty_root, leaf_hash, node_hash, root_from_leaf_hashes, Hash};
pub use proof_len::{consistency_proof_len, inclusion_proof_len};
pub use tree::MerkleTree;
pub use verify_consistency::verify_consistency;
pub use verify_inclusion::verify_inclusion;
