//! Every kind of invalid block is refused with a typed error and changes nothing.

mod common;

use common::*;
use proptest::prelude::*;
use synod_core::crypto::SignatureError;
use synod_core::RejectReason;
use synod_pow::chain::{BlockError, BlockOutcome, ChainState, PowBlock, EMPTY_BLOCK_BYTES};
use synod_pow::{BitsError, Compact};

fn assert_unchanged(n: &ChainState, before: &ChainState) {
    assert_eq!(n.state(), before.state());
    assert_eq!(n.best_tip(), before.best_tip());
    assert_eq!(n.active_chain(), before.active_chain());
    assert_eq!(n.mempool().len(), before.mempool().len());
    assert_eq!(n.confirmed_transfers(), before.confirmed_transfers());
}

/// A node with one confirmed transfer (key 1, nonce 0) and one waiting (key 2, nonce 0).
fn setup() -> (ChainState, synod_core::SignedTransfer) {
    let mut n = node();
    let t = transfer(1, 2, 100, 3, 0);
    n.submit_transfer(t.clone()).unwrap();
    mine_on(&mut n, miner(1), T0 + 10);
    n.submit_transfer(transfer(2, 3, 100, 4, 0)).unwrap();
    (n, t)
}

fn refused(n: &mut ChainState, b: PowBlock, now: i64) -> BlockError {
    let before = n.clone();
    let outcome = n.receive_block(b, now);
    assert_unchanged(n, &before);
    match outcome {
        BlockOutcome::Invalid(e) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn bad_proof_of_work() {
    let (mut n, _) = setup();
    let mut b = next_block(&n, miner(1), T0 + 20);
    let target = Compact::decode(b.header.bits).value;
    while b.hash().to_u256() <= target {
        b.header.nonce += 1;
    }
    let hash = b.hash();
    assert_eq!(refused(&mut n, b, T0 + 20), BlockError::ProofOfWork { hash });
}

#[test]
fn bad_bits() {
    let (mut n, _) = setup();
    let mut easy = n.block_template(miner(1), T0 + 20);
    easy.header.bits = 0x2100ffff;
    let easy = solve(easy);
    assert_eq!(refused(&mut n, easy, T0 + 20), BlockError::BadBits { bits: 0x2100ffff, err: BitsError::AbovePowLimit });
    let mut hard = n.block_template(miner(1), T0 + 20);
    hard.header.bits = 0x1f7fffff;
    let hard = solve(hard);
    assert_eq!(refused(&mut n, hard, T0 + 20), BlockError::WrongBits { expected: 0x207fffff, got: 0x1f7fffff });
}

#[test]
fn bad_merkle_root_is_not_remembered() {
    let (mut n, _) = setup();
    let good = next_block(&n, miner(1), T0 + 20);
    assert_eq!(good.transfers.len(), 1);
    let mut damaged = good.clone();
    damaged.transfers[0].transfer.memo = vec![1];
    assert_eq!(refused(&mut n, damaged.clone(), T0 + 20), BlockError::MerkleRootMismatch);
    let mut no_tx = good.clone();
    no_tx.transfers.clear();
    assert_eq!(refused(&mut n, no_tx, T0 + 20), BlockError::MerkleRootMismatch);
    // Same header hash as the damaged copy: the genuine block is still welcome.
    assert_eq!(damaged.hash(), good.hash());
    assert_eq!(n.receive_block(good, T0 + 20), BlockOutcome::Extended { height: 2 });
}

#[test]
fn double_spends() {
    let (mut n, t) = setup();
    // The transfer already confirmed at height 1, again.
    let mut again = n.block_template(miner(1), T0 + 20);
    again.transfers.insert(0, t.clone());
    again.coinbase.amount += t.transfer.fee;
    let err = refused(&mut n, reseal(again), T0 + 20);
    assert_eq!(err, BlockError::Transfer { index: 0, reason: RejectReason::BadNonce { expected: 1, got: 0 } });
    // Twice in one block.
    let mut twice = n.block_template(miner(1), T0 + 20);
    let x = transfer(3, 4, 10, 2, 0);
    twice.transfers = vec![x.clone(), x.clone()];
    twice.coinbase.amount = REWARD + 4;
    let err = refused(&mut n, reseal(twice), T0 + 20);
    assert_eq!(err, BlockError::Transfer { index: 1, reason: RejectReason::BadNonce { expected: 1, got: 0 } });
    // Two versions of one nonce.
    let mut conflict = n.block_template(miner(1), T0 + 20);
    conflict.transfers = vec![x, transfer(3, 1, 10, 2, 0)];
    conflict.coinbase.amount = REWARD + 4;
    let err = refused(&mut n, reseal(conflict), T0 + 20);
    assert_eq!(err, BlockError::Transfer { index: 1, reason: RejectReason::BadNonce { expected: 1, got: 0 } });
    // More than the balance.
    let mut overspend = n.block_template(miner(1), T0 + 20);
    overspend.transfers = vec![transfer(4, 1, EACH, 1, 0)];
    overspend.coinbase.amount = REWARD + 1;
    let err = refused(&mut n, reseal(overspend), T0 + 20);
    assert_eq!(
        err,
        BlockError::Transfer { index: 0, reason: RejectReason::InsufficientFunds { balance: EACH, needed: EACH + 1 } }
    );
}

#[test]
fn bad_or_missing_signature() {
    let (mut n, _) = setup();
    let mut forged = n.block_template(miner(1), T0 + 20);
    forged.transfers[0].signature.as_mut().unwrap()[5] ^= 1;
    let err = refused(&mut n, reseal(forged), T0 + 20);
    assert_eq!(err, BlockError::Transfer { index: 0, reason: RejectReason::BadSignature(SignatureError::Invalid) });
    let mut unsigned = n.block_template(miner(1), T0 + 20);
    unsigned.transfers[0].signature = None;
    let err = refused(&mut n, reseal(unsigned), T0 + 20);
    assert_eq!(err, BlockError::Transfer { index: 0, reason: RejectReason::MissingSignature });
}

#[test]
fn time_rules() {
    let mut n = node();
    mine_n(&mut n, miner(1), 11, 10);
    let median = n.tree().median_time_past(&n.best_tip().hash);
    let mut old = n.block_template(miner(1), T0 + 200);
    old.header.time = median;
    assert_eq!(refused(&mut n, solve(old), T0 + 200), BlockError::TimeTooOld { time: median, median });
    // Two hours and a second ahead of the local clock: refused now, accepted later.
    let now = i64::from(n.best_tip().time) + 10;
    let mut future = n.block_template(miner(1), now);
    future.header.time = u32::try_from(now + 7201).unwrap();
    let future = solve(future);
    assert_eq!(refused(&mut n, future.clone(), now), BlockError::TimeTooFar { time: future.header.time, now });
    assert_eq!(n.receive_block(future, now + 1), BlockOutcome::Extended { height: 12 });
}

#[test]
fn too_large_and_too_many() {
    let mut n = node_with(|c| c.limits.max_block_bytes = EMPTY_BLOCK_BYTES + 400);
    let mut b = n.block_template(miner(1), T0 + 10);
    b.transfers = (0..3).map(|i| transfer(1, 2, 1, 0, i)).collect();
    let b = reseal(b);
    let bytes = b.encoded_len();
    assert_eq!(refused(&mut n, b, T0 + 10), BlockError::TooLarge { bytes, max: EMPTY_BLOCK_BYTES + 400 });
    let mut n = node();
    let mut b = n.block_template(miner(1), T0 + 10);
    b.transfers = vec![transfer(1, 2, 1, 0, 0); 16_385];
    assert_eq!(refused(&mut n, solve(b), T0 + 10), BlockError::TooManyTransfers { count: 16_385, max: 16_384 });
}

#[test]
fn known_invalid_blocks_answer_from_memory() {
    let (mut n, t) = setup();
    let mut again = n.block_template(miner(1), T0 + 20);
    again.transfers = vec![t.clone()];
    again.coinbase.amount = REWARD + t.transfer.fee;
    let again = reseal(again);
    let first = refused(&mut n, again.clone(), T0 + 20);
    assert_eq!(refused(&mut n, again, T0 + 20), first);
    assert_eq!(first.code(), "bad_transfer");
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = PowBlock::decode(&bytes);
    }

    #[test]
    fn encoding_round_trips(extra in any::<u64>(), fee in 0u64..1000) {
        let n = node();
        let mut m = n.clone();
        m.submit_transfer(transfer(1, 2, 5, fee, 0)).unwrap();
        let mut b = m.block_template(miner(3), T0 + 10);
        b.coinbase.extra_nonce = extra;
        b.seal_merkle_root();
        let bytes = b.encode();
        prop_assert_eq!(bytes.len(), b.encoded_len());
        prop_assert_eq!(PowBlock::decode(&bytes).unwrap(), b);
    }
}
