//! Every size 1..=64, every index and every old size, against the naive RFC recursion.

mod common;

use common::{leaves, naive_consistency, naive_path, naive_root};
use synod_merkle::*;

const MAX: usize = 64;

#[test]
fn roots_for_every_prefix_and_every_push() {
    let d = leaves(MAX);
    let mut growing = MerkleTree::new();
    assert_eq!(growing.root(), naive_root(&[]));
    for n in 1..=MAX {
        assert_eq!(growing.push(d[n - 1]), (n - 1) as u64);
        assert_eq!(growing.len(), n as u64);
        assert!(!growing.is_empty());
        let want = naive_root(&d[..n]);
        assert_eq!(growing.root(), want, "root after {n} pushes");
        assert_eq!(root_from_leaf_hashes(&d[..n]), want, "root_from_leaf_hashes({n})");
    }
    // Historical roots from the full tree.
    for size in 0..=MAX {
        assert_eq!(growing.root_at(size as u64).unwrap(), naive_root(&d[..size]), "root_at({size})");
    }
    for (i, leaf) in d.iter().enumerate() {
        assert_eq!(growing.leaf(i as u64), Some(*leaf));
    }
    assert_eq!(growing.leaf(MAX as u64), None);
    assert_eq!(growing.leaf(u64::MAX), None);
}

#[test]
fn every_inclusion_proof() {
    let d = leaves(MAX);
    let full = MerkleTree::from_leaf_hashes(d.iter().copied());
    for n in 1..=MAX {
        let exact = MerkleTree::from_leaf_hashes(d[..n].iter().copied());
        let root = naive_root(&d[..n]);
        for m in 0..n {
            let want = naive_path(m, &d[..n]);
            let (m64, n64) = (m as u64, n as u64);
            assert_eq!(exact.inclusion_proof(m64, n64).unwrap(), want, "PATH({m}, D[{n}])");
            // The same proof from a bigger tree (historical size).
            assert_eq!(full.inclusion_proof(m64, n64).unwrap(), want, "PATH({m}, D[{n}]) hist");
            assert_eq!(inclusion_proof_len(m64, n64), Some(want.len()));
            assert_eq!(verify_inclusion(&d[m], m64, n64, &want, &root), Ok(()));
        }
    }
}

#[test]
fn every_consistency_proof() {
    let d = leaves(MAX);
    let full = MerkleTree::from_leaf_hashes(d.iter().copied());
    for n in 1..=MAX {
        let exact = MerkleTree::from_leaf_hashes(d[..n].iter().copied());
        let new_root = naive_root(&d[..n]);
        for m in 1..=n {
            let want = naive_consistency(m, &d[..n]);
            let (m64, n64) = (m as u64, n as u64);
            assert_eq!(exact.consistency_proof(m64, n64).unwrap(), want, "PROOF({m}, D[{n}])");
            assert_eq!(full.consistency_proof(m64, n64).unwrap(), want, "PROOF({m}, D[{n}]) hist");
            assert_eq!(consistency_proof_len(m64, n64), Some(want.len()));
            let old_root = naive_root(&d[..m]);
            assert_eq!(verify_consistency(m64, n64, &old_root, &new_root, &want), Ok(()));
        }
    }
}

#[test]
fn proof_request_errors() {
    let d = leaves(10);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    use ProofRequestError::*;
    assert_eq!(tree.root_at(11), Err(SizeOutOfRange { size: 11, len: 10 }));
    assert_eq!(tree.root_at(u64::MAX), Err(SizeOutOfRange { size: u64::MAX, len: 10 }));
    assert_eq!(tree.inclusion_proof(0, 11), Err(SizeOutOfRange { size: 11, len: 10 }));
    assert_eq!(tree.inclusion_proof(5, 5), Err(IndexOutOfRange { index: 5, size: 5 }));
    assert_eq!(tree.inclusion_proof(0, 0), Err(IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(tree.inclusion_proof(u64::MAX, 10), Err(IndexOutOfRange { index: u64::MAX, size: 10 }));
    assert_eq!(tree.consistency_proof(0, 5), Err(OldSizeZero));
    assert_eq!(tree.consistency_proof(0, 0), Err(OldSizeZero));
    assert_eq!(tree.consistency_proof(6, 5), Err(OldSizeGreaterThanNew { old_size: 6, new_size: 5 }));
    assert_eq!(tree.consistency_proof(5, 11), Err(SizeOutOfRange { size: 11, len: 10 }));
    assert_eq!(tree.consistency_proof(10, 10), Ok(vec![]));
    assert_eq!(tree.consistency_proof(3, 3), Ok(vec![]));

    let empty = MerkleTree::new();
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    assert_eq!(empty.root_at(0), Ok(empty_root()));
    assert_eq!(empty.root_at(1), Err(SizeOutOfRange { size: 1, len: 0 }));
    assert_eq!(empty.leaf(0), None);
    assert_eq!(empty.inclusion_proof(0, 0), Err(IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(MerkleTree::default(), empty);
}

#[test]
fn verifier_edge_cases() {
    let some = leaf_hash(b"some");
    let other = leaf_hash(b"other");
    use ConsistencyError as C;
    use InclusionError as I;
    // Size 0 has no inclusion proofs at all, whatever the root.
    assert_eq!(verify_inclusion(&some, 0, 0, &[], &empty_root()), Err(I::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(verify_inclusion(&some, 2, 1, &[], &some), Err(I::IndexOutOfRange { index: 2, size: 1 }));
    assert_eq!(verify_inclusion(&some, 0, 1, &[other], &some), Err(I::WrongProofLength { expected: 0, actual: 1 }));
    // Old size 0 is rejected, even with an empty proof and "matching" roots.
    for new in [0, 1, 5] {
        assert_eq!(verify_consistency(0, new, &empty_root(), &empty_root(), &[]), Err(C::OldSizeZero));
    }
    assert_eq!(verify_consistency(2, 1, &some, &other, &[]), Err(C::SizesOutOfOrder { old_size: 2, new_size: 1 }));
    assert_eq!(
        verify_consistency(u64::MAX, 1, &some, &other, &[]),
        Err(C::SizesOutOfOrder { old_size: u64::MAX, new_size: 1 })
    );
    // Equal sizes: empty proof and identical roots, nothing else.
    assert_eq!(verify_consistency(1, 1, &some, &some, &[]), Ok(()));
    assert_eq!(verify_consistency(7, 7, &some, &some, &[]), Ok(()));
    assert_eq!(verify_consistency(7, 7, &some, &other, &[]), Err(C::RootsDifferForEqualSizes));
    assert_eq!(verify_consistency(7, 7, &some, &some, &[some]), Err(C::NonEmptyProofForEqualSizes { len: 1 }));
    // A growing tree always needs a non-empty proof.
    assert_eq!(verify_consistency(1, 2, &some, &other, &[]), Err(C::WrongProofLength { expected: 1, actual: 0 }));
}
