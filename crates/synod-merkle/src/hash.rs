//! The hash primitives of RFC 9162 section 2.1.1, and the reference `MTH` definition.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Domain-separation prefix for leaves (RFC 9162 section 2.1.1: `MTH({d(0)}) = HASH(0x00 || d(0))`).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix for interior nodes (RFC 9162 section 2.1.1: `HASH(0x01 || left || right)`).
const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 || data)`: the hash of a single leaf entry.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([LEAF_PREFIX]).chain_update(data).finalize().into()
}

#[cfg(test)]
thread_local! {
    /// Number of `node_hash` calls on this thread, so unit tests can check the O(log n) bounds.
    pub(crate) static NODE_HASHES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Runs `f` and returns its result with the number of `node_hash` calls it made.
#[cfg(test)]
pub(crate) fn count_node_hashes<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = NODE_HASHES.with(|c| c.get());
    let out = f();
    (out, NODE_HASHES.with(|c| c.get()) - before)
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    #[cfg(test)]
    NODE_HASHES.with(|c| c.set(c.get() + 1));
    Sha256::new().chain_update([NODE_PREFIX]).chain_update(left).chain_update(right).finalize().into()
}

/// `MTH({}) = SHA-256()`: the root of the empty tree (RFC 9162 section 2.1.1).
///
/// Note this is *not* `leaf_hash(b"")`; the empty tree has no leaves at all.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Largest power of two strictly less than `n` (the split point `k` of RFC 9162 section 2.1.1).
///
/// Requires `n >= 2`; every caller only splits trees with at least two leaves.
pub(crate) fn split_point(n: u64) -> u64 {
    assert!(n >= 2, "split_point needs n >= 2, got {n}");
    // For n >= 2, n - 1 >= 1 and its highest set bit is the largest power of two < n.
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` over already-hashed leaves, written as the RFC's recursive definition.
///
/// This is the reference implementation (O(n) hashes, recursion depth O(log n)); use
/// [`crate::MerkleTree`] when the same leaves are queried repeatedly.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        // The leaves are already hashed with `leaf_hash`, so a one-leaf tree's root is that hash.
        [single] => *single,
        _ => {
            let k = split_point(leaves.len() as u64) as usize;
            node_hash(&root_from_leaf_hashes(&leaves[..k]), &root_from_leaf_hashes(&leaves[k..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_power_of_two_below_n() {
        for n in 2u64..=4096 {
            let k = split_point(n);
            assert!(k.is_power_of_two() && k < n && n <= 2 * k, "n = {n}, k = {k}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point((1 << 63) + 1), 1 << 63);
        assert_eq!(split_point(1 << 63), 1 << 62);
    }

    #[test]
    #[should_panic(expected = "split_point needs n >= 2")]
    fn split_point_rejects_single_leaf() {
        split_point(1);
    }
}
