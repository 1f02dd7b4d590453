//! The append-only [`MerkleTree`]: RFC 9162 section 2.1 over stored complete subtrees.

use crate::error::ProofRequestError;
use crate::hash::{empty_root, node_hash, split_point, Hash};
use crate::proof_len::{consistency_proof_len, inclusion_proof_len};

/// An append-only, in-memory Merkle tree over leaf hashes (see [`crate::leaf_hash`]).
///
/// Every complete (perfect) subtree is stored once it is complete, and never changes afterwards
/// (an append only ever *adds* complete subtrees). Every subtree the RFC 9162 recursion visits,
/// for any historical size, is a run of such complete subtrees, so [`MerkleTree::root_at`],
/// [`MerkleTree::inclusion_proof`] and [`MerkleTree::consistency_proof`] need O(log n) hash
/// operations. Memory is about `2n` hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[h][i]` is `MTH(D[i * 2^h : (i + 1) * 2^h])`, the `i`-th complete subtree of height
    /// `h`; `levels[0]` are the leaf hashes themselves.
    ///
    /// Invariants (checked by `assert_invariants` after every mutation):
    /// `levels[h].len() == len >> h` for every `h`, and `levels.len() == max(1, bit_len(len))`,
    /// i.e. there is always a (possibly empty) leaf level and never an empty level above it.
    levels: Vec<Vec<Hash>>,
}

impl Default for MerkleTree {
    fn default() -> Self {
        Self::new()
    }
}

/// Converts a position that is already known to be below some `Vec`'s length.
fn to_usize(x: u64) -> usize {
    usize::try_from(x).expect("position is below a Vec length, so it fits in usize")
}

impl MerkleTree {
    /// An empty tree (its root is [`crate::empty_root`]).
    pub fn new() -> Self {
        Self { levels: vec![Vec::new()] }
    }

    /// A tree over the given leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::new();
        tree.extend(leaves);
        tree
    }

    /// Appends a leaf hash and returns its index.
    pub fn push(&mut self, leaf_hash: Hash) -> u64 {
        let index = self.len();
        self.levels[0].push(leaf_hash);
        // The new leaf completes a subtree of height h + 1 exactly when it makes level h even:
        // its last two entries are then siblings. That parent may in turn complete the next level.
        let mut h = 0;
        while self.levels[h].len() & 1 == 0 {
            let level = &self.levels[h];
            let parent = node_hash(&level[level.len() - 2], &level[level.len() - 1]);
            if self.levels.len() == h + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[h + 1].push(parent);
            h += 1;
        }
        self.assert_invariants();
        index
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The leaf hash at `index`, if it exists.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels[0].get(index).copied()
    }

    /// `MTH(D[len])`, the root of the whole tree.
    pub fn root(&self) -> Hash {
        self.root_at(self.len()).expect("the current length is always a valid size")
    }

    /// `MTH(D[size])`, the root the tree had when it held `size` leaves (`size <= len`).
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofRequestError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        Ok(self.subtree_hash(0, size))
    }

    /// `PATH(index, D[size])` (RFC 9162 section 2.1.3.1): the inclusion proof of leaf `index` in
    /// the tree of the first `size` leaves, ordered from the leaf's sibling up to the root's child.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofRequestError> {
        self.check_size(size)?;
        let expected_len =
            inclusion_proof_len(index, size).ok_or(ProofRequestError::IndexOutOfRange { index, size })?;
        // Walk the RFC recursion top-down over D[start:end]. The RFC output is
        // `PATH(m, D[0:k]) : MTH(D[k:n])` (or the mirror), i.e. deepest sibling first, so the
        // siblings collected here top-down are reversed at the end.
        let mut path = Vec::with_capacity(expected_len);
        let (mut start, mut end) = (0, size);
        while end - start > 1 {
            let k = split_point(end - start);
            if index < start + k {
                // m < k: PATH(m, D[0:k]) : MTH(D[k:n])
                path.push(self.subtree_hash(start + k, end));
                end = start + k;
            } else {
                // m >= k: PATH(m - k, D[k:n]) : MTH(D[0:k])
                path.push(self.subtree_hash(start, start + k));
                start += k;
            }
        }
        path.reverse();
        assert_eq!(path.len(), expected_len, "PATH({index}, D[{size}]) length");
        Ok(path)
    }

    /// `PROOF(old_size, D[new_size])` (RFC 9162 section 2.1.4.1): proves that the tree of the
    /// first `old_size` leaves is a prefix of the tree of the first `new_size` leaves.
    ///
    /// `old_size == new_size` gives the empty proof. `old_size == 0` is rejected with
    /// [`ProofRequestError::OldSizeZero`]: RFC 9162 defines consistency only for `0 < m <= n`.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, ProofRequestError> {
        if old_size == 0 {
            return Err(ProofRequestError::OldSizeZero);
        }
        if old_size > new_size {
            return Err(ProofRequestError::OldSizeGreaterThanNew { old_size, new_size });
        }
        self.check_size(new_size)?;
        let expected_len =
            consistency_proof_len(old_size, new_size).expect("0 < old_size <= new_size was checked above");
        // Walk SUBPROOF(m, D[start:end], b) top-down; as for PATH, the RFC appends each level's
        // hash after the deeper part, so the collected hashes are reversed at the end.
        let mut proof = Vec::with_capacity(expected_len);
        let (mut start, mut end, mut m) = (0, new_size, old_size);
        // `b` in the RFC: whether D[start:start+m] is still the whole old tree, whose root the
        // verifier already knows.
        let mut whole_old_tree = true;
        loop {
            let n = end - start;
            if m == n {
                // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
                if !whole_old_tree {
                    proof.push(self.subtree_hash(start, end));
                }
                break;
            }
            let k = split_point(n);
            if m <= k {
                // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
                proof.push(self.subtree_hash(start + k, end));
                end = start + k;
            } else {
                // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
                proof.push(self.subtree_hash(start, start + k));
                start += k;
                m -= k;
                whole_old_tree = false;
            }
        }
        proof.reverse();
        assert_eq!(proof.len(), expected_len, "PROOF({old_size}, D[{new_size}]) length");
        Ok(proof)
    }

    /// Drops every leaf with index `>= size` (no-op if `size >= len`), e.g. to roll back a fork.
    ///
    /// Complete subtrees entirely below `size` are untouched, so roots and proofs for sizes
    /// `<= size` are unchanged, and pushing the same leaves again rebuilds the same tree.
    pub fn truncate(&mut self, size: u64) {
        if size >= self.len() {
            return;
        }
        // The i-th subtree of height h covers leaves [i * 2^h, (i + 1) * 2^h); it survives iff it
        // ends at or before `size`, i.e. iff i < size >> h.
        for (h, level) in self.levels.iter_mut().enumerate() {
            level.truncate(to_usize(size >> h));
        }
        self.levels.truncate(Self::level_count(size));
        self.assert_invariants();
    }

    /// Number of stored levels for a tree of `len` leaves: heights `0..=floor(log2(len))`, and
    /// always at least the leaf level.
    fn level_count(len: u64) -> usize {
        ((u64::BITS - len.leading_zeros()) as usize).max(1)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofRequestError> {
        let len = self.len();
        if size > len {
            return Err(ProofRequestError::SizeOutOfRange { size, len });
        }
        Ok(())
    }

    /// `MTH(D[start:end])` for a range the RFC 9162 recursion can produce: non-empty, inside the
    /// tree, and `start` a multiple of the largest power of two `<= end - start`.
    ///
    /// Such a range is a run of complete subtrees, one per set bit of `end - start`, largest
    /// first (each split at `k = largest power of 2 < n` peels the largest one off the left).
    /// `MTH` then folds them from the right: `node(P1, node(P2, ... Plast))`. That costs
    /// `popcount(end - start) - 1` hash operations.
    fn subtree_hash(&self, start: u64, end: u64) -> Hash {
        assert!(start < end && end <= self.len(), "subtree [{start}, {end}) outside tree of {} leaves", self.len());
        let n = end - start;
        let top = 63 - n.leading_zeros();
        assert!(
            start.trailing_zeros() >= top,
            "subtree [{start}, {end}) is not aligned as the RFC recursion aligns subtrees"
        );
        // Visit the pieces smallest (rightmost) first, walking `pos` leftwards from `end`.
        let mut pos = end;
        let mut acc: Option<Hash> = None;
        for h in 0..=top {
            if (n >> h) & 1 == 1 {
                pos -= 1u64 << h;
                let piece = self.levels[h as usize][to_usize(pos >> h)];
                acc = Some(match acc {
                    None => piece,
                    Some(right) => node_hash(&piece, &right),
                });
            }
        }
        assert_eq!(pos, start, "pieces must exactly cover the range");
        acc.expect("a non-empty range has at least one piece")
    }

    /// Checks the level invariants documented on `levels`; O(log n) and hash-free, so it stays
    /// on in release builds.
    fn assert_invariants(&self) {
        let len = self.len();
        assert_eq!(self.levels.len(), Self::level_count(len), "level count for {len} leaves");
        for (h, level) in self.levels.iter().enumerate() {
            assert_eq!(level.len() as u64, len >> h, "level {h} length for {len} leaves");
        }
    }
}

impl Extend<Hash> for MerkleTree {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaves: I) {
        for leaf in leaves {
            self.push(leaf);
        }
    }
}

impl FromIterator<Hash> for MerkleTree {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        Self::from_leaf_hashes(leaves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn levels_hold_exactly_the_complete_subtrees() {
        let all = leaves(100);
        let mut tree = MerkleTree::new();
        for (i, leaf) in all.iter().enumerate() {
            tree.push(*leaf);
            let len = i as u64 + 1;
            for (h, level) in tree.levels.iter().enumerate() {
                for (j, stored) in level.iter().enumerate() {
                    let width = 1usize << h;
                    let want = crate::root_from_leaf_hashes(&all[j * width..(j + 1) * width]);
                    assert_eq!(*stored, want, "len {len}, level {h}, subtree {j}");
                }
            }
        }
    }

    #[test]
    fn truncate_keeps_invariants_and_drops_empty_levels() {
        let mut tree = MerkleTree::from_leaf_hashes(leaves(64));
        assert_eq!(tree.levels.len(), 7);
        tree.truncate(63);
        assert_eq!(tree.levels.len(), 6);
        tree.truncate(1);
        assert_eq!(tree.levels.len(), 1);
        tree.truncate(0);
        assert_eq!(tree.levels.len(), 1);
        assert!(tree.is_empty());
        assert_eq!(tree, MerkleTree::new());
    }

    /// The point of storing complete subtrees: queries cost O(log n) hashes, not O(n).
    /// Bounds: a root is `popcount(size) - 1` hashes; a proof computes at most one non-complete
    /// subtree (all others it needs are stored), so at most `bit_len(size)` hashes.
    #[test]
    fn queries_cost_logarithmically_many_hashes() {
        use crate::hash::count_node_hashes;
        let n = 5000u64;
        let (tree, pushes) = count_node_hashes(|| MerkleTree::from_leaf_hashes(leaves(n)));
        // Each complete subtree of height >= 1 is hashed exactly once: n - popcount(n) of them.
        assert_eq!(pushes, n - u64::from(n.count_ones()));
        let bit_len = |x: u64| u64::from(u64::BITS - x.leading_zeros());
        for size in (1..=n).step_by(7).chain([n, 4096, 4095, 2047]) {
            let (_, cost) = count_node_hashes(|| tree.root_at(size).unwrap());
            assert_eq!(cost, u64::from(size.count_ones()) - 1, "root_at({size})");
            for index in [0, size / 3, size / 2, size - 1] {
                let (_, cost) = count_node_hashes(|| tree.inclusion_proof(index, size).unwrap());
                assert!(cost <= bit_len(size), "PATH({index}, D[{size}]) cost {cost}");
            }
            for old in [1, size / 3 + 1, size / 2 + 1, size] {
                let (_, cost) = count_node_hashes(|| tree.consistency_proof(old, size).unwrap());
                assert!(cost <= bit_len(size), "PROOF({old}, D[{size}]) cost {cost}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "is not aligned")]
    fn subtree_hash_rejects_ranges_the_recursion_never_visits() {
        MerkleTree::from_leaf_hashes(leaves(8)).subtree_hash(1, 3);
    }
}
