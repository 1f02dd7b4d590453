//! Naive reference implementations for the tests, written straight from RFC 9162 section 2.1
//! and independent of the crate (they hash with `sha2` directly and recurse on slices).
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use synod_merkle::Hash;

pub fn sha_leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

pub fn sha_node(l: &Hash, r: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// k = the largest power of two smaller than n (n >= 2), by the most literal loop.
pub fn largest_pow2_below(n: usize) -> usize {
    assert!(n >= 2);
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The same for u64 sizes up to u64::MAX (no overflow in `k * 2`).
pub fn pow2_below_u64(n: u64) -> u64 {
    assert!(n >= 2);
    let mut k: u64 = 1;
    while k.checked_mul(2).is_some_and(|k2| k2 < n) {
        k *= 2;
    }
    k
}

/// MTH(D[n]) for already-hashed leaves.
pub fn naive_root(d: &[Hash]) -> Hash {
    match d.len() {
        0 => Sha256::digest([]).into(),
        1 => d[0],
        n => {
            let k = largest_pow2_below(n);
            sha_node(&naive_root(&d[..k]), &naive_root(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
pub fn naive_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    assert!(m < n);
    if n == 1 {
        return vec![];
    }
    let k = largest_pow2_below(n);
    if m < k {
        let mut p = naive_path(m, &d[..k]);
        p.push(naive_root(&d[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &d[k..]);
        p.push(naive_root(&d[..k]));
        p
    }
}

/// Which side each PATH(m, D[n]) element sits on relative to the running hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The proof element is the left child: node(p, r).
    Left,
    /// The proof element is the right child: node(r, p).
    Right,
}

/// The shape of PATH(m, D[n]): an RFC verifier's computation is fully determined by it, so two
/// (index, size) pairs with the same shape accept exactly the same proofs, and pairs with
/// different shapes never accept the same proof (barring SHA-256 collisions).
pub fn naive_path_shape(m: u64, n: u64) -> Vec<Side> {
    assert!(m < n);
    if n == 1 {
        return vec![];
    }
    let k = pow2_below_u64(n);
    if m < k {
        let mut s = naive_path_shape(m, k);
        s.push(Side::Right);
        s
    } else {
        let mut s = naive_path_shape(m - k, n - k);
        s.push(Side::Left);
        s
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
pub fn naive_consistency(m: usize, d: &[Hash]) -> Vec<Hash> {
    assert!(0 < m && m <= d.len());
    naive_subproof(m, d, true)
}

fn naive_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![naive_root(d)] };
    }
    let k = largest_pow2_below(n);
    if m <= k {
        let mut p = naive_subproof(m, &d[..k], b);
        p.push(naive_root(&d[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &d[k..], false);
        p.push(naive_root(&d[..k]));
        p
    }
}

/// Role of each PROOF(m, D[n]) element, from the same recursion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// MTH(D[m]) of a subtree shared by both trees, where both recomputations start.
    Seed,
    /// MTH(D[0:k]): a left sibling, in both the old and the new tree.
    Left,
    /// MTH(D[k:n]): a right sibling, only in the new tree.
    Right,
}

pub fn naive_consistency_shape(m: u64, n: u64) -> Vec<Role> {
    assert!(0 < m && m <= n);
    fn sub(m: u64, n: u64, b: bool) -> Vec<Role> {
        if m == n {
            return if b { vec![] } else { vec![Role::Seed] };
        }
        let k = pow2_below_u64(n);
        if m <= k {
            let mut s = sub(m, k, b);
            s.push(Role::Right);
            s
        } else {
            let mut s = sub(m - k, n - k, false);
            s.push(Role::Left);
            s
        }
    }
    sub(m, n, true)
}

/// A symbolic hash, to predict exactly what a verifier must answer for a tampered proof.
///
/// Atoms stand for hashes of pairwise disjoint leaf ranges (the leaf being proven, the genuine
/// proof elements, and the old root when it is not itself built from proof elements) or for
/// unrelated values (`Fresh`). Two expressions then have equal values iff they are equal as
/// trees, barring SHA-256 collisions, so comparing expressions tells which checks must fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// The genuine leaf hash of an inclusion proof.
    Leaf,
    /// The genuine old root of a consistency proof whose old size is a power of two.
    OldRoot,
    /// Genuine proof element i.
    P(usize),
    /// A value unrelated to everything else (a flipped bit, a made-up hash).
    Fresh(usize),
    /// node_hash(left, right).
    Node(Box<Expr>, Box<Expr>),
}

fn node(l: Expr, r: Expr) -> Expr {
    Expr::Node(Box::new(l), Box::new(r))
}

impl Expr {
    /// Replaces `Leaf`, `OldRoot` and `P(i)` by what was actually supplied in their place.
    pub fn substitute(&self, leaf: &Expr, old_root: &Expr, atoms: &[Expr]) -> Expr {
        match self {
            Expr::Leaf => leaf.clone(),
            Expr::OldRoot => old_root.clone(),
            Expr::P(i) => atoms[*i].clone(),
            Expr::Fresh(i) => Expr::Fresh(*i),
            Expr::Node(l, r) => node(l.substitute(leaf, old_root, atoms), r.substitute(leaf, old_root, atoms)),
        }
    }

    pub fn contains(&self, e: &Expr) -> bool {
        self == e || matches!(self, Expr::Node(l, r) if l.contains(e) || r.contains(e))
    }
}

/// The root an inclusion verifier computes for a proof of the given shape, over `Leaf` and the
/// proof positions `P(i)`.
pub fn inclusion_expr(shape: &[Side]) -> Expr {
    let mut r = Expr::Leaf;
    for (i, side) in shape.iter().enumerate() {
        r = match side {
            Side::Left => node(Expr::P(i), r),
            Side::Right => node(r, Expr::P(i)),
        };
    }
    r
}

/// (old root, new root) a consistency verifier computes for a proof of the given shape, over the
/// supplied old root `OldRoot` and the proof positions `P(i)`. Without a seed element the old
/// root itself is the starting point (RFC 9162 section 2.1.4.2 step 1).
pub fn consistency_exprs(shape: &[Role]) -> (Expr, Expr) {
    let (mut old, mut new, first) = match shape.first() {
        Some(Role::Seed) => (Expr::P(0), Expr::P(0), 1),
        _ => (Expr::OldRoot, Expr::OldRoot, 0),
    };
    for (i, role) in shape.iter().enumerate().skip(first) {
        match role {
            Role::Seed => panic!("the seed only comes first"),
            Role::Left => {
                old = node(Expr::P(i), old);
                new = node(Expr::P(i), new);
            }
            Role::Right => new = node(new, Expr::P(i)),
        }
    }
    (old, new)
}

/// The genuine (old root, new root) of PROOF(m, D[n]), `0 < m <= n`, in terms of `P(i)` (the
/// genuine proof elements) and `OldRoot` (only when the old root is not built from them: then
/// the proof has no seed and `OldRoot` is the start of both computations).
pub fn genuine_consistency_roots(m: u64, n: u64) -> (Expr, Expr) {
    if m == n {
        return (Expr::OldRoot, Expr::OldRoot);
    }
    consistency_exprs(&naive_consistency_shape(m, n))
}

/// What `verify_inclusion` must return when given a leaf, sizes, proof and root that stand for
/// the given expressions.
pub fn predict_inclusion(
    index: u64,
    size: u64,
    leaf: &Expr,
    atoms: &[Expr],
    root: &Expr,
) -> Result<(), synod_merkle::InclusionError> {
    use synod_merkle::InclusionError::*;
    if index >= size {
        return Err(IndexOutOfRange { index, size });
    }
    let shape = naive_path_shape(index, size);
    if shape.len() != atoms.len() {
        return Err(WrongProofLength { expected: shape.len(), actual: atoms.len() });
    }
    let computed = inclusion_expr(&shape).substitute(leaf, &Expr::OldRoot, atoms);
    if computed == *root {
        Ok(())
    } else {
        Err(RootMismatch)
    }
}

/// What `verify_consistency` must return when given sizes, roots and a proof that stand for the
/// given expressions.
pub fn predict_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Expr,
    new_root: &Expr,
    atoms: &[Expr],
) -> Result<(), synod_merkle::ConsistencyError> {
    use synod_merkle::ConsistencyError::*;
    if old_size == 0 {
        return Err(OldSizeZero);
    }
    if old_size > new_size {
        return Err(SizesOutOfOrder { old_size, new_size });
    }
    if old_size == new_size {
        if !atoms.is_empty() {
            return Err(NonEmptyProofForEqualSizes { len: atoms.len() });
        }
        return if old_root == new_root { Ok(()) } else { Err(RootsDifferForEqualSizes) };
    }
    let shape = naive_consistency_shape(old_size, new_size);
    if shape.len() != atoms.len() {
        return Err(WrongProofLength { expected: shape.len(), actual: atoms.len() });
    }
    let (old, new) = consistency_exprs(&shape);
    if old.substitute(&Expr::Leaf, old_root, atoms) != *old_root {
        return Err(OldRootMismatch);
    }
    if new.substitute(&Expr::Leaf, old_root, atoms) != *new_root {
        return Err(NewRootMismatch);
    }
    Ok(())
}

/// Deterministic, distinct leaf hashes.
pub fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| sha_leaf(&i.to_be_bytes())).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() & 1, 0, "odd-length hex");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

pub fn h(s: &str) -> Hash {
    unhex(s).try_into().expect("32-byte hex")
}
