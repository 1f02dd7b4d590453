//! Micro-benchmarks of the pure core: signatures, encodings, block building and
//! block application. Inputs are deterministic (keys from fixed seeds).
//! Run: `cargo bench -p synod-core --bench core`.

use std::sync::LazyLock;

use divan::{black_box, Bencher};
use synod_core::batch::BatchPayload;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::ledger::SignaturePolicy;
use synod_core::{AuthMode, Block, Genesis, Ledger, SignedTransfer, Transfer, VerifiedTransfer};

const CHAIN_ID: u64 = 7;
const ACCOUNTS: usize = 1_000;
const GENESIS_MS: u64 = 1_700_000_000_000;

fn keypair(i: usize) -> Keypair {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    Keypair::from_seed(&seed)
}

struct Fixture {
    /// 1,000 accounts, each funded with 1,000,000 units, Ed25519 mode.
    ledger: Ledger,
    /// One signed transfer per account, `i -> i + 1 (mod 1,000)`, nonce 0: all apply.
    transfers: Vec<SignedTransfer>,
    /// The block those transfers make on top of `ledger`.
    block: Block,
}

static FIX: LazyLock<Fixture> = LazyLock::new(|| {
    let keys: Vec<Keypair> = (0..ACCOUNTS).map(keypair).collect();
    let mut allocations: Vec<Allocation> =
        keys.iter().map(|k| Allocation { account: k.account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    let genesis = Genesis { chain_id: CHAIN_ID, auth: AuthMode::Ed25519, timestamp_ms: GENESIS_MS, allocations };
    let ledger = Ledger::new(genesis).unwrap();
    let transfers: Vec<SignedTransfer> = (0..ACCOUNTS)
        .map(|i| {
            Transfer {
                chain_id: CHAIN_ID,
                from: keys[i].account(),
                to: keys[(i + 1) % ACCOUNTS].account(),
                amount: 10 + i as u64,
                fee: 0,
                nonce: 0,
                memo: b"bench".to_vec(),
            }
            .sign(&keys[i])
        })
        .collect();
    let mut l = ledger.clone();
    let built = l.build_block(GENESIS_MS + 1_000, assume(&transfers));
    assert!(built.outcomes.iter().all(|o| o.result.is_ok()));
    let block = built.block.unwrap();
    assert_eq!(block.transfers.len(), ACCOUNTS);
    Fixture { ledger, transfers, block }
});

fn assume(transfers: &[SignedTransfer]) -> Vec<VerifiedTransfer> {
    transfers.iter().cloned().map(VerifiedTransfer::assume_verified).collect()
}

fn main() {
    LazyLock::force(&FIX);
    divan::main();
}

/// Strict Ed25519 verification of one transfer (shape checks + signature).
#[divan::bench]
fn verify_ed25519(bencher: Bencher) {
    let tx = FIX.transfers[0].clone();
    bencher.with_inputs(|| tx.clone()).bench_local_values(|tx| tx.verify(AuthMode::Ed25519).unwrap());
}

/// Signing one transfer (signing bytes + Ed25519 sign).
#[divan::bench]
fn sign(bencher: Bencher) {
    let key = keypair(0);
    let tx = FIX.transfers[0].transfer.clone();
    bencher.with_inputs(|| tx.clone()).bench_local_values(|tx| tx.sign(black_box(&key)));
}

/// `Transfer::signing_bytes` + `Transfer::id` (which hashes the signing bytes).
#[divan::bench]
fn signing_bytes_and_id(bencher: Bencher) {
    let tx = &FIX.transfers[0].transfer;
    bencher.bench_local(|| {
        let tx = black_box(tx);
        (tx.signing_bytes(), tx.id())
    });
}

#[divan::bench]
fn record_encode(bencher: Bencher) {
    let tx = &FIX.transfers[0];
    bencher.bench_local(|| black_box(tx).record_bytes());
}

#[divan::bench]
fn record_decode(bencher: Bencher) {
    let bytes = FIX.transfers[0].record_bytes();
    bencher.bench_local(|| SignedTransfer::decode_record(black_box(&bytes)).unwrap());
}

/// `BatchPayload::encode` of 1,000 signed transfers.
#[divan::bench]
fn batch_encode_1000(bencher: Bencher) {
    let batch = BatchPayload { timestamp_ms: GENESIS_MS, transfers: FIX.transfers.clone() };
    bencher.bench_local(|| black_box(&batch).encode());
}

/// `BatchPayload::decode` of 1,000 signed transfers.
#[divan::bench]
fn batch_decode_1000(bencher: Bencher) {
    let bytes = BatchPayload { timestamp_ms: GENESIS_MS, transfers: FIX.transfers.clone() }.encode();
    bencher.bench_local(|| BatchPayload::decode(black_box(&bytes)).unwrap());
}

/// `Ledger::build_block` with 1,000 pre-verified transfers on a fresh ledger
/// (the ledger and the candidates are rebuilt outside the timed part).
#[divan::bench(sample_count = 50)]
fn build_block_1000(bencher: Bencher) {
    bencher.with_inputs(|| (FIX.ledger.clone(), assume(&FIX.transfers))).bench_local_values(
        |(mut ledger, candidates)| {
            let built = ledger.build_block(GENESIS_MS + 1_000, candidates);
            (ledger, built)
        },
    );
}

/// `Ledger::apply_block` of the 1,000-transfer block, every signature verified.
#[divan::bench(sample_count = 20)]
fn apply_block_1000_verify(bencher: Bencher) {
    bencher
        .with_inputs(|| FIX.ledger.clone())
        .bench_local_refs(|ledger| ledger.apply_block(&FIX.block, SignaturePolicy::Verify).unwrap());
}

/// `Ledger::apply_block` of the same block, signatures trusted.
#[divan::bench(sample_count = 50)]
fn apply_block_1000_trust(bencher: Bencher) {
    bencher
        .with_inputs(|| FIX.ledger.clone())
        .bench_local_refs(|ledger| ledger.apply_block(&FIX.block, SignaturePolicy::Trust).unwrap());
}
