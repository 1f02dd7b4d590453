//! Micro-benchmarks of the RFC 9162 tree at 1,000,000 leaves.
//! Run: `cargo bench -p synod-merkle --bench merkle`.

use std::sync::LazyLock;

use divan::{black_box, Bencher};
use synod_merkle::{leaf_hash, verify_inclusion, Hash, MerkleTree};

const SIZE: u64 = 1_000_000;

fn leaf(i: u64) -> Hash {
    leaf_hash(&i.to_le_bytes())
}

/// The same deterministic tree for every benchmark: leaf `i` is `leaf_hash(i as u64 LE)`.
static TREE: LazyLock<MerkleTree> = LazyLock::new(|| MerkleTree::from_leaf_hashes((0..SIZE).map(leaf)));

fn main() {
    LazyLock::force(&TREE);
    divan::main();
}

/// One `push` into a tree that already holds 1M leaves (it grows by one per
/// iteration; the cost is amortised over the subtrees each push completes:
/// 100 samples of 1,000 pushes, so the tree goes from 1,000,000 to 1,100,000 leaves).
#[divan::bench(sample_count = 100, sample_size = 1000)]
fn push_into_1m(bencher: Bencher) {
    let mut tree = TREE.clone();
    let mut i = SIZE;
    bencher.bench_local(|| {
        i += 1;
        tree.push(black_box(leaf(i)))
    });
}

#[divan::bench]
fn root_1m() -> Hash {
    black_box(&*TREE).root()
}

/// Inclusion proof of a leaf in the middle-ish of the tree at size 1M.
#[divan::bench]
fn inclusion_proof_1m() -> Vec<Hash> {
    black_box(&*TREE).inclusion_proof(black_box(654_321), black_box(SIZE)).unwrap()
}

/// Consistency proof from 999,999 (an odd, non-power-of-two old size) to 1M.
#[divan::bench]
fn consistency_proof_1m() -> Vec<Hash> {
    black_box(&*TREE).consistency_proof(black_box(SIZE - 1), black_box(SIZE)).unwrap()
}

#[divan::bench]
fn verify_inclusion_1m(bencher: Bencher) {
    let index = 654_321;
    let proof = TREE.inclusion_proof(index, SIZE).unwrap();
    let root = TREE.root();
    let leaf = leaf(index);
    bencher.bench_local(|| {
        verify_inclusion(black_box(&leaf), black_box(index), black_box(SIZE), black_box(&proof), black_box(&root))
            .unwrap()
    });
}
