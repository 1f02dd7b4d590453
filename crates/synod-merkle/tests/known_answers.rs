//! Known-answer tests: published RFC 6962 / Certificate Transparency vectors (the ones shared by
//! the C++, Go and Trillian CT implementations), plus the primitives against `sha2` directly.

mod common;

use common::{h, naive_root, sha_leaf, sha_node, unhex};
use synod_merkle::*;

/// The eight CT reference leaf inputs.
const CT_LEAVES: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

/// CT reference roots; index i is the root of the first i leaves.
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// CT reference inclusion proofs: (0-based leaf index, tree size, PATH).
const CT_INCLUSION: [(u64, u64, &[&str]); 4] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// CT reference consistency proofs: (old size, new size, PROOF).
const CT_CONSISTENCY: [(u64, u64, &[&str]); 3] = [
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn ct_tree() -> MerkleTree {
    MerkleTree::from_leaf_hashes(CT_LEAVES.iter().map(|l| leaf_hash(&unhex(l))))
}

fn hashes(hex: &[&str]) -> Vec<Hash> {
    hex.iter().map(|s| h(s)).collect()
}

#[test]
fn empty_root_is_sha256_of_nothing() {
    assert_eq!(empty_root(), h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_eq!(root_from_leaf_hashes(&[]), empty_root());
    assert_eq!(MerkleTree::new().root(), empty_root());
    // The empty tree is not the tree of one empty leaf.
    assert_ne!(empty_root(), leaf_hash(b""));
}

#[test]
fn leaf_hash_of_empty_input() {
    assert_eq!(leaf_hash(b""), h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
}

#[test]
fn primitives_match_prefixed_sha256() {
    for len in [0usize, 1, 31, 32, 33, 55, 56, 63, 64, 65, 1000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(leaf_hash(&data), sha_leaf(&data), "len {len}");
    }
    let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
    assert_eq!(node_hash(&a, &b), sha_node(&a, &b));
    assert_ne!(node_hash(&a, &b), node_hash(&b, &a), "order matters");
    // Domain separation: a node hash is not the leaf hash of the concatenated children.
    let mut concat = a.to_vec();
    concat.extend_from_slice(&b);
    assert_ne!(node_hash(&a, &b), leaf_hash(&concat));
}

#[test]
fn ct_roots_for_every_prefix() {
    let tree = ct_tree();
    let leaf_hashes: Vec<Hash> = (0..8).map(|i| tree.leaf(i).unwrap()).collect();
    for (size, want) in CT_ROOTS.iter().enumerate() {
        let want = h(want);
        assert_eq!(tree.root_at(size as u64).unwrap(), want, "root_at({size})");
        assert_eq!(root_from_leaf_hashes(&leaf_hashes[..size]), want, "MTH({size})");
        assert_eq!(naive_root(&leaf_hashes[..size]), want, "naive MTH({size})");
        let prefix = MerkleTree::from_leaf_hashes(leaf_hashes[..size].iter().copied());
        assert_eq!(prefix.root(), want, "fresh tree of {size}");
    }
    assert_eq!(tree.root(), h(CT_ROOTS[8]));
}

#[test]
fn ct_inclusion_proofs() {
    let tree = ct_tree();
    for (index, size, path) in CT_INCLUSION {
        let want = hashes(path);
        assert_eq!(tree.inclusion_proof(index, size).unwrap(), want, "PATH({index}, D[{size}])");
        let leaf = tree.leaf(index).unwrap();
        let root = h(CT_ROOTS[size as usize]);
        assert_eq!(verify_inclusion(&leaf, index, size, &want, &root), Ok(()));
    }
}

#[test]
fn ct_consistency_proofs() {
    let tree = ct_tree();
    for (old, new, path) in CT_CONSISTENCY {
        let want = hashes(path);
        assert_eq!(tree.consistency_proof(old, new).unwrap(), want, "PROOF({old}, D[{new}])");
        let (old_root, new_root) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
        assert_eq!(verify_consistency(old, new, &old_root, &new_root, &want), Ok(()));
    }
}

#[test]
fn single_leaf_tree() {
    let leaf = leaf_hash(b"data");
    let tree = MerkleTree::from_leaf_hashes([leaf]);
    // The root of a one-leaf tree is the leaf hash, and its inclusion proof is empty.
    assert_eq!(tree.root(), leaf);
    assert_eq!(tree.inclusion_proof(0, 1).unwrap(), Vec::<Hash>::new());
    assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
    assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &empty_root()), Err(InclusionError::RootMismatch));
}
