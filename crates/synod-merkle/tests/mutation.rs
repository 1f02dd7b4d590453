//! Tampered proofs must fail, with exactly the error variant an independent model predicts.
//!
//! For each genuine proof we build many tampered variants (flipped bits, dropped / inserted /
//! swapped / duplicated elements, wrong index, wrong sizes, wrong or swapped roots) and compare
//! the verifier's answer with `predict_*` from `common`, which derives the expected result from
//! the naive RFC recursion over symbolic hashes (see `common::Expr`). The model also says when a
//! tampered proof is *still valid*; that only happens for a wrong size whose proof has exactly
//! the same shape (see `wrong_size_with_same_shape_is_accepted`), never for tampered hashes.

mod common;

use common::*;
use synod_merkle::*;

const MAX: usize = 64;
/// Up to this size every bit of every element is flipped; above it, a few bits per byte lane.
const ALL_BITS_MAX: usize = 16;
const SOME_BITS: [usize; 6] = [0, 1, 7, 8, 128, 255];

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[bit / 8] ^= 1 << (bit % 8);
    h
}

fn bits_for(n: usize) -> Vec<usize> {
    if n <= ALL_BITS_MAX {
        (0..256).collect()
    } else {
        SOME_BITS.to_vec()
    }
}

/// A proof as concrete hashes plus what each hash stands for.
#[derive(Clone)]
struct Tampered {
    values: Vec<Hash>,
    atoms: Vec<Expr>,
}

impl Tampered {
    fn genuine(values: &[Hash]) -> Self {
        Self { values: values.to_vec(), atoms: (0..values.len()).map(Expr::P).collect() }
    }
}

/// Every structural tampering of a proof (besides bit flips): drop, insert, duplicate, swap.
fn structural_variants(proof: &Tampered, extra: &[(Hash, Expr)]) -> Vec<(String, Tampered)> {
    let len = proof.values.len();
    let mut out = Vec::new();
    for i in 0..len {
        let mut t = proof.clone();
        t.values.remove(i);
        t.atoms.remove(i);
        out.push((format!("drop {i}"), t));
    }
    for i in 0..=len {
        for (value, atom) in extra {
            let mut t = proof.clone();
            t.values.insert(i, *value);
            t.atoms.insert(i, atom.clone());
            out.push((format!("insert {atom:?} at {i}"), t));
        }
        if len > 0 {
            // Duplicate an existing element into position i (covers prepend/append proof[0]).
            let mut t = proof.clone();
            let j = i.min(len - 1);
            t.values.insert(i, proof.values[j]);
            t.atoms.insert(i, proof.atoms[j].clone());
            out.push((format!("duplicate {j} at {i}"), t));
        }
    }
    for i in 0..len {
        for j in i + 1..len {
            let mut t = proof.clone();
            t.values.swap(i, j);
            t.atoms.swap(i, j);
            out.push((format!("swap {i} {j}"), t));
            let mut t = proof.clone();
            t.values[i] = proof.values[j];
            t.atoms[i] = proof.atoms[j].clone();
            out.push((format!("overwrite {i} with {j}"), t));
        }
    }
    if len > 0 {
        out.push(("empty".into(), Tampered { values: vec![], atoms: vec![] }));
    }
    out
}

fn check_inclusion(
    what: &str,
    leaf: (&Hash, &Expr),
    index: u64,
    size: u64,
    proof: &Tampered,
    root: (&Hash, &Expr),
) -> Result<(), InclusionError> {
    let got = verify_inclusion(leaf.0, index, size, &proof.values, root.0);
    let want = predict_inclusion(index, size, leaf.1, &proof.atoms, root.1);
    assert_eq!(got, want, "{what}: verify_inclusion(index {index}, size {size})");
    got
}

fn check_consistency(
    what: &str,
    old_size: u64,
    new_size: u64,
    old_root: (&Hash, &Expr),
    new_root: (&Hash, &Expr),
    proof: &Tampered,
) -> Result<(), ConsistencyError> {
    let got = verify_consistency(old_size, new_size, old_root.0, new_root.0, &proof.values);
    let want = predict_consistency(old_size, new_size, old_root.1, new_root.1, &proof.atoms);
    assert_eq!(got, want, "{what}: verify_consistency({old_size}, {new_size})");
    got
}

#[test]
fn tampered_inclusion_proofs() {
    let d = leaves(MAX);
    let wrong = leaf_hash(b"not in the tree");
    let fresh = Expr::Fresh(0);
    let mut accepted_with_wrong_size = 0;
    for n in 1..=MAX {
        let root = naive_root(&d[..n]);
        let (n64, bits) = (n as u64, bits_for(n));
        for m in 0..n {
            let m64 = m as u64;
            let leaf = d[m];
            let proof = Tampered::genuine(&naive_path(m, &d[..n]));
            let root_e = inclusion_expr(&naive_path_shape(m64, n64));
            let (leaf_g, root_g) = ((&leaf, &Expr::Leaf), (&root, &root_e));
            assert_eq!(check_inclusion("genuine", leaf_g, m64, n64, &proof, root_g), Ok(()));

            for i in 0..proof.values.len() {
                for &bit in &bits {
                    let mut t = proof.clone();
                    t.values[i] = flip(&t.values[i], bit);
                    t.atoms[i] = fresh.clone();
                    let r = check_inclusion("flip", leaf_g, m64, n64, &t, root_g);
                    assert_eq!(r, Err(InclusionError::RootMismatch));
                }
            }
            let extra = [(wrong, fresh.clone()), (root, root_e.clone()), (leaf, Expr::Leaf)];
            for (what, t) in structural_variants(&proof, &extra) {
                let r = check_inclusion(&what, leaf_g, m64, n64, &t, root_g);
                assert!(r.is_err(), "{what} accepted for PATH({m}, D[{n}])");
            }
            for index in (0..n64 + 2).chain([u64::MAX - 1, u64::MAX]) {
                if index != m64 {
                    let r = check_inclusion("wrong index", leaf_g, index, n64, &proof, root_g);
                    assert!(r.is_err(), "wrong index {index} accepted for PATH({m}, D[{n}])");
                }
            }
            for size in (0..=2 * n64 + 1).chain([u64::MAX - 1, u64::MAX]) {
                if size != n64 && check_inclusion("wrong size", leaf_g, m64, size, &proof, root_g).is_ok() {
                    accepted_with_wrong_size += 1;
                }
            }
            for (bad, bad_e) in
                [(wrong, fresh.clone()), (empty_root(), Expr::Fresh(1)), (flip(&root, 0), Expr::Fresh(2))]
            {
                let r = check_inclusion("wrong root", leaf_g, m64, n64, &proof, (&bad, &bad_e));
                assert_eq!(r, Err(InclusionError::RootMismatch));
                let r = check_inclusion("wrong leaf", (&bad, &bad_e), m64, n64, &proof, root_g);
                assert_eq!(r, Err(InclusionError::RootMismatch));
            }
        }
    }
    // The model is not vacuous: some wrong sizes do keep the proof shape (see below).
    assert!(accepted_with_wrong_size > 0);
}

#[test]
fn tampered_consistency_proofs() {
    let d = leaves(MAX);
    let wrong = leaf_hash(b"not a root");
    let fresh = Expr::Fresh(0);
    let mut accepted_with_wrong_size = 0;
    for n in 1..=MAX {
        let new_root = naive_root(&d[..n]);
        let (n64, bits) = (n as u64, bits_for(n));
        for m in 1..=n {
            let m64 = m as u64;
            let old_root = naive_root(&d[..m]);
            let proof = Tampered::genuine(&naive_consistency(m, &d[..n]));
            let (old_e, new_e) = genuine_consistency_roots(m64, n64);
            let (old_g, new_g) = ((&old_root, &old_e), (&new_root, &new_e));
            let r = check_consistency("genuine", m64, n64, old_g, new_g, &proof);
            assert_eq!(r, Ok(()));

            for i in 0..proof.values.len() {
                for &bit in &bits {
                    let mut t = proof.clone();
                    t.values[i] = flip(&t.values[i], bit);
                    t.atoms[i] = fresh.clone();
                    let r = check_consistency("flip", m64, n64, old_g, new_g, &t);
                    // Elements of the old tree break the old root first; the rest the new one.
                    let want = if old_e.contains(&Expr::P(i)) {
                        ConsistencyError::OldRootMismatch
                    } else {
                        ConsistencyError::NewRootMismatch
                    };
                    assert_eq!(r, Err(want));
                }
            }
            let extra = [(wrong, fresh.clone()), (old_root, old_e.clone()), (new_root, new_e.clone())];
            for (what, t) in structural_variants(&proof, &extra) {
                let r = check_consistency(&what, m64, n64, old_g, new_g, &t);
                assert!(r.is_err(), "{what} accepted for PROOF({m}, D[{n}])");
            }
            for old_size in (0..n64 + 2).chain([u64::MAX]) {
                if old_size != m64 && check_consistency("wrong old size", old_size, n64, old_g, new_g, &proof).is_ok() {
                    accepted_with_wrong_size += 1;
                }
            }
            for new_size in (0..=2 * n64 + 1).chain([u64::MAX - 1, u64::MAX]) {
                if new_size != n64 && check_consistency("wrong new size", m64, new_size, old_g, new_g, &proof).is_ok() {
                    accepted_with_wrong_size += 1;
                }
            }
            if n <= ALL_BITS_MAX {
                for old_size in 0..n64 + 2 {
                    for new_size in 0..=2 * n64 + 1 {
                        if (old_size, new_size) != (m64, n64) {
                            let _ = check_consistency("wrong sizes", old_size, new_size, old_g, new_g, &proof);
                        }
                    }
                }
            }
            for (bad, bad_e) in
                [(wrong, fresh.clone()), (empty_root(), Expr::Fresh(1)), (flip(&old_root, 255), Expr::Fresh(2))]
            {
                let bad_g = (&bad, &bad_e);
                let r = check_consistency("wrong old root", m64, n64, bad_g, new_g, &proof);
                assert!(r.is_err());
                let r = check_consistency("wrong new root", m64, n64, old_g, bad_g, &proof);
                assert!(r.is_err());
            }
            let r = check_consistency("swapped roots", m64, n64, new_g, old_g, &proof);
            assert_eq!(r.is_ok(), m == n, "swapped roots for PROOF({m}, D[{n}])");
        }
    }
    assert!(accepted_with_wrong_size > 0);
}

/// A wrong old root is caught as an *old* root mismatch, except when the old size is a power of
/// two: then the old root is where both recomputations start (RFC 9162 section 2.1.4.2 step 1),
/// `fr` trivially equals it, and the mismatch surfaces in the new root.
#[test]
fn wrong_old_root_variant_depends_on_power_of_two() {
    let d = leaves(20);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    let bogus = leaf_hash(b"bogus");
    for (m, want) in [
        (4u64, ConsistencyError::NewRootMismatch),
        (5, ConsistencyError::OldRootMismatch),
        (1, ConsistencyError::NewRootMismatch),
        (6, ConsistencyError::OldRootMismatch),
    ] {
        let proof = tree.consistency_proof(m, 20).unwrap();
        assert_eq!(verify_consistency(m, 20, &bogus, &tree.root(), &proof), Err(want), "m = {m}");
    }
}

/// RFC 9162 verification binds the tree size to the root only through the proof's shape:
/// PATH(0, D[3]) and PATH(0, D[4]) are both "right sibling, right sibling", so the genuine
/// size-3 proof also verifies when the caller claims size 4 (with the size-3 root). Every
/// verifier following the RFC behaves so; the (size, root) pair must come from one signed head.
#[test]
fn wrong_size_with_same_shape_is_accepted() {
    let d = leaves(4);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    let proof = tree.inclusion_proof(0, 3).unwrap();
    let root3 = tree.root_at(3).unwrap();
    assert_eq!(verify_inclusion(&d[0], 0, 3, &proof, &root3), Ok(()));
    assert_eq!(verify_inclusion(&d[0], 0, 4, &proof, &root3), Ok(()));
    assert_eq!(naive_path_shape(0, 3), naive_path_shape(0, 4));
    // With the genuine size-4 root it fails, of course.
    assert_eq!(verify_inclusion(&d[0], 0, 4, &proof, &tree.root()), Err(InclusionError::RootMismatch));
}
