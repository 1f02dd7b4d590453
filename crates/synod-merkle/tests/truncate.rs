//! `truncate` (fork rollback) leaves exactly the tree a fresh build of the prefix would give.

mod common;

use common::*;
use proptest::prelude::*;
use synod_merkle::*;

fn other_leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| sha_leaf(&[b"fork".as_slice(), &i.to_be_bytes()].concat())).collect()
}

/// Everything observable about `tree` equals the naive answers over `d`.
fn assert_matches_naive(tree: &MerkleTree, d: &[Hash]) {
    assert_eq!(tree.len(), d.len() as u64);
    assert_eq!(tree.root(), naive_root(d));
    for size in 0..=d.len() {
        assert_eq!(tree.root_at(size as u64).unwrap(), naive_root(&d[..size]));
    }
    let n = d.len();
    if n > 0 {
        for m in [0, n / 2, n - 1] {
            assert_eq!(tree.inclusion_proof(m as u64, n as u64).unwrap(), naive_path(m, d));
        }
        for m in [1, n / 2 + 1, n] {
            let m = m.min(n);
            assert_eq!(tree.consistency_proof(m as u64, n as u64).unwrap(), naive_consistency(m, d));
        }
    }
}

#[test]
fn truncate_every_size_then_regrow() {
    let d = leaves(70);
    let fork = other_leaves(70);
    let full = MerkleTree::from_leaf_hashes(d.iter().copied());
    for keep in 0..=70 {
        let mut tree = full.clone();
        tree.truncate(keep as u64);
        let fresh = MerkleTree::from_leaf_hashes(d[..keep].iter().copied());
        assert_eq!(tree, fresh, "truncate({keep}) equals a fresh tree");
        assert_matches_naive(&tree, &d[..keep]);
        // Regrow on a different branch.
        let mut expected = d[..keep].to_vec();
        for leaf in fork.iter().take(70 - keep + 3) {
            assert_eq!(tree.push(*leaf), expected.len() as u64);
            expected.push(*leaf);
            assert_eq!(tree.root(), naive_root(&expected));
        }
        assert_eq!(tree, MerkleTree::from_leaf_hashes(expected.iter().copied()));
        assert_matches_naive(&tree, &expected);
    }
}

#[test]
fn truncate_beyond_len_is_a_no_op() {
    let d = leaves(10);
    let mut tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    let before = tree.clone();
    tree.truncate(10);
    assert_eq!(tree, before);
    tree.truncate(u64::MAX);
    assert_eq!(tree, before);
}

#[test]
fn truncate_to_zero_then_regrow() {
    let d = leaves(33);
    let mut tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    tree.truncate(0);
    assert!(tree.is_empty());
    assert_eq!(tree.root(), empty_root());
    assert_eq!(tree.leaf(0), None);
    tree.extend(d.iter().copied());
    assert_eq!(tree.root(), naive_root(&d));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Repeated truncate / push sequences track a plain Vec of leaves.
    #[test]
    fn random_truncate_push_sequences(
        ops in prop::collection::vec((0usize..400, 0usize..200), 1..8),
    ) {
        let fork = other_leaves(2000);
        let mut next = 0;
        let mut model: Vec<Hash> = Vec::new();
        let mut tree = MerkleTree::new();
        for (keep, grow) in ops {
            tree.truncate(keep as u64);
            model.truncate(keep);
            for _ in 0..grow {
                tree.push(fork[next]);
                model.push(fork[next]);
                next += 1;
            }
            prop_assert_eq!(tree.root(), naive_root(&model));
        }
        prop_assert_eq!(&tree, &MerkleTree::from_leaf_hashes(model.iter().copied()));
        assert_matches_naive(&tree, &model);
    }
}
