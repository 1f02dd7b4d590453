//! Proof documents and their verifiers (crates/synod-core/src/proof.rs,
//! crates/synod-merkle): what `synod proof verify FILE` reads.
//!
//! Mode 0: the bytes are a JSON proof document. It parses or is refused; a
//! parsed one round-trips; a verifying one stops verifying when any hash in
//! it (leaf, root, a path element) changes by one bit or its path loses a hash.
//! Mode 1: the bytes choose a tree (1..=200 leaves), an index and two sizes;
//! the tree's own inclusion and consistency proofs verify, and every
//! one-bit change to them is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synod_core::proof::{ConsistencyProof, InclusionProof, ProofDocument};
use synod_fuzz_support::Input;
use synod_merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash, MerkleTree};

/// Path elements mutated per document (a hostile path can be long).
const MUTATED_MAX: usize = 70;

fn flip(h: &Hash, bit: u8) -> Hash {
    let mut out = *h;
    out[usize::from(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

fn check_document(bytes: &[u8], bit: u8) {
    let Ok(doc) = serde_json::from_slice::<ProofDocument>(bytes) else {
        return;
    };
    let json = serde_json::to_vec(&doc).expect("a parsed document serializes");
    let again: ProofDocument = serde_json::from_slice(&json).expect("serialized JSON parses");
    assert_eq!(again, doc, "JSON round trip changed the document");
    if doc.verify().is_err() {
        return;
    }
    match doc {
        ProofDocument::Inclusion(p) => {
            let refused = |q: InclusionProof, what: &str| assert!(q.verify().is_err(), "accepted a changed {what}");
            refused(InclusionProof { root: flip(&p.root, bit), ..p.clone() }, "root");
            refused(InclusionProof { leaf_hash: flip(&p.leaf_hash, bit), ..p.clone() }, "leaf hash");
            for i in 0..p.path.len().min(MUTATED_MAX) {
                let mut q = p.clone();
                q.path[i] = flip(&q.path[i], bit);
                refused(q, "path element");
            }
            if !p.path.is_empty() {
                let mut q = p.clone();
                q.path.pop();
                refused(q, "path length");
            }
        }
        ProofDocument::Consistency(p) => {
            let refused = |q: ConsistencyProof, what: &str| assert!(q.verify().is_err(), "accepted a changed {what}");
            refused(ConsistencyProof { to_root: flip(&p.to_root, bit), ..p.clone() }, "new root");
            // With equal sizes the old root is the new root: a changed one is still refused.
            refused(ConsistencyProof { from_root: flip(&p.from_root, bit), ..p.clone() }, "old root");
            for i in 0..p.path.len().min(MUTATED_MAX) {
                let mut q = p.clone();
                q.path[i] = flip(&q.path[i], bit);
                refused(q, "path element");
            }
        }
    }
}

fn check_tree(input: &mut Input<'_>) {
    let leaves = 1 + u64::from(input.u8()) % 200;
    let salt = input.u8();
    let tree = MerkleTree::from_leaf_hashes((0..leaves).map(|i| leaf_hash(&[salt, (i >> 8) as u8, i as u8])));
    let size = 1 + u64::from(input.u16()) % leaves;
    let index = u64::from(input.u16()) % size;
    let old = 1 + u64::from(input.u16()) % size;
    let bit = input.u8();
    let root = tree.root_at(size).expect("size within the tree");
    let leaf = tree.leaf(index).expect("index within the tree");
    let path = tree.inclusion_proof(index, size).expect("index below size");
    verify_inclusion(&leaf, index, size, &path, &root).expect("the tree's own inclusion proof verifies");
    assert!(verify_inclusion(&flip(&leaf, bit), index, size, &path, &root).is_err());
    assert!(verify_inclusion(&leaf, index, size, &path, &flip(&root, bit)).is_err());
    for i in 0..path.len() {
        let mut bad = path.clone();
        bad[i] = flip(&bad[i], bit);
        assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err(), "inclusion path element {i}");
    }
    let old_root = tree.root_at(old).expect("old size within the tree");
    let proof = tree.consistency_proof(old, size).expect("old <= size");
    verify_consistency(old, size, &old_root, &root, &proof).expect("the tree's own consistency proof verifies");
    assert!(verify_consistency(old, size, &flip(&old_root, bit), &root, &proof).is_err());
    assert!(verify_consistency(old, size, &old_root, &flip(&root, bit), &proof).is_err());
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i] = flip(&bad[i], bit);
        assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err(), "consistency path element {i}");
    }
    // The same proofs as documents, through their JSON form.
    let doc = ProofDocument::Inclusion(InclusionProof {
        leaf_index: index,
        tree_size: size,
        leaf_hash: leaf,
        path,
        root,
        transfer: None,
        header: None,
    });
    check_document(&serde_json::to_vec(&doc).expect("serializes"), bit);
    let doc = ProofDocument::Consistency(ConsistencyProof {
        from_size: old,
        to_size: size,
        from_root: old_root,
        to_root: root,
        path: proof,
    });
    check_document(&serde_json::to_vec(&doc).expect("serializes"), bit);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let bit = rest.first().copied().unwrap_or(0);
        check_document(rest, bit);
    } else {
        check_tree(&mut Input::new(rest));
    }
});
