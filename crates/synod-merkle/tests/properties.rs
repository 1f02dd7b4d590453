//! Property tests over tree sizes 1..=1000 against the naive RFC 9162 recursion, plus
//! "never panics" checks for the verifiers on arbitrary input.

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use synod_merkle::*;

const MAX: usize = 1000;

fn all_leaves() -> &'static [Hash] {
    static LEAVES: OnceLock<Vec<Hash>> = OnceLock::new();
    LEAVES.get_or_init(|| leaves(MAX))
}

/// One tree of MAX leaves, so that most queries are for historical sizes.
fn full_tree() -> &'static MerkleTree {
    static TREE: OnceLock<MerkleTree> = OnceLock::new();
    TREE.get_or_init(|| MerkleTree::from_leaf_hashes(all_leaves().iter().copied()))
}

/// (n, m) with 1 <= n <= MAX and 0 <= m < n.
fn size_and_index() -> impl Strategy<Value = (usize, usize)> {
    (1..=MAX).prop_flat_map(|n| (Just(n), 0..n))
}

/// (m, n) with 1 <= m <= n <= MAX.
fn old_and_new() -> impl Strategy<Value = (usize, usize)> {
    (1..=MAX).prop_flat_map(|n| (1..=n, Just(n)))
}

fn any_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn root_at_matches_naive(size in 0..=MAX) {
        let d = &all_leaves()[..size];
        prop_assert_eq!(full_tree().root_at(size as u64).unwrap(), naive_root(d));
    }

    #[test]
    fn fresh_tree_root_matches_naive(size in 0..=MAX) {
        let d = &all_leaves()[..size];
        let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
        prop_assert_eq!(tree.len(), size as u64);
        prop_assert_eq!(tree.root(), naive_root(d));
        prop_assert_eq!(root_from_leaf_hashes(d), naive_root(d));
    }

    #[test]
    fn inclusion_matches_naive_and_verifies((n, m) in size_and_index()) {
        let d = &all_leaves()[..n];
        let want = naive_path(m, d);
        let got = full_tree().inclusion_proof(m as u64, n as u64).unwrap();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(inclusion_proof_len(m as u64, n as u64), Some(want.len()));
        prop_assert_eq!(verify_inclusion(&d[m], m as u64, n as u64, &got, &naive_root(d)), Ok(()));
    }

    #[test]
    fn consistency_matches_naive_and_verifies((m, n) in old_and_new()) {
        let d = &all_leaves()[..n];
        let want = naive_consistency(m, d);
        let got = full_tree().consistency_proof(m as u64, n as u64).unwrap();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(consistency_proof_len(m as u64, n as u64), Some(want.len()));
        let (old_root, new_root) = (naive_root(&d[..m]), naive_root(d));
        prop_assert_eq!(verify_consistency(m as u64, n as u64, &old_root, &new_root, &got), Ok(()));
    }

    /// A random element with a random bit flipped fails with the predicted root mismatch.
    #[test]
    fn flipped_bit_fails((n, m) in size_and_index(), (m2, n2) in old_and_new(),
                         pick in any::<prop::sample::Index>(), bit in 0usize..256) {
        let d = all_leaves();
        let mut path = naive_path(m, &d[..n]);
        if !path.is_empty() {
            let i = pick.index(path.len());
            path[i][bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(
                verify_inclusion(&d[m], m as u64, n as u64, &path, &naive_root(&d[..n])),
                Err(InclusionError::RootMismatch)
            );
        }
        let mut proof = naive_consistency(m2, &d[..n2]);
        if !proof.is_empty() {
            let i = pick.index(proof.len());
            proof[i][bit / 8] ^= 1 << (bit % 8);
            let (old_e, _) = genuine_consistency_roots(m2 as u64, n2 as u64);
            let want = if old_e.contains(&Expr::P(i)) {
                ConsistencyError::OldRootMismatch
            } else {
                ConsistencyError::NewRootMismatch
            };
            let (old_root, new_root) = (naive_root(&d[..m2]), naive_root(&d[..n2]));
            prop_assert_eq!(
                verify_consistency(m2 as u64, n2 as u64, &old_root, &new_root, &proof),
                Err(want)
            );
        }
    }

    /// Random garbage never panics a verifier, whatever the sizes (including near u64::MAX,
    /// where a careless `size - 1` / `index + 1` / shift would overflow).
    #[test]
    fn verifiers_never_panic(
        a in any::<u64>(), b in any::<u64>(), small in 0u64..70,
        proof in prop::collection::vec(any_hash(), 0..140),
        x in any_hash(), y in any_hash(),
    ) {
        for (i, n) in [(a, b), (b, a), (small, b), (a, small), (u64::MAX - small, u64::MAX), (small, small + 1)] {
            let _ = verify_inclusion(&x, i, n, &proof, &y);
            let _ = verify_consistency(i, n, &x, &y, &proof);
            // Also a proof of exactly the expected length, so the RFC loops run to the end.
            if let Some(len) = inclusion_proof_len(i, n) {
                let p = vec![x; len];
                prop_assert_eq!(verify_inclusion(&x, i, n, &p, &y), Err(InclusionError::RootMismatch));
            }
            if let Some(len) = consistency_proof_len(i, n) {
                let p = vec![y; len];
                prop_assert!(verify_consistency(i, n, &x, &y, &p).is_err() || (i == n && x == y));
            }
        }
    }

    /// The closed-form lengths agree with the naive recursion for huge sizes too.
    #[test]
    fn proof_lengths_match_naive_shapes(a in any::<u64>(), b in any::<u64>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        if lo < hi {
            prop_assert_eq!(inclusion_proof_len(lo, hi), Some(naive_path_shape(lo, hi).len()));
        }
        prop_assert_eq!(inclusion_proof_len(hi, lo), None);
        if lo > 0 {
            prop_assert_eq!(
                consistency_proof_len(lo, hi),
                Some(naive_consistency_shape(lo, hi).len())
            );
        }
        prop_assert_eq!(consistency_proof_len(0, hi), None);
    }
}
