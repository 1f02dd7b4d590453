//! The receiver rule (`invalid_receiver`), the genesis account rule, and the
//! parallel verifier members run over every chosen batch.

mod common;

use common::*;
use synod_core::crypto::is_signing_key;
use synod_core::genesis::Allocation;
use synod_core::ledger::{BlockErrorKind, SignaturePolicy};
use synod_core::verify_many::verify_all;
use synod_core::{AccountId, AuthMode, Genesis, GenesisError, Ledger, RejectReason, SignedTransfer, VerifiedTransfer};

/// An id that does not decompress to a curve point.
fn not_a_point() -> AccountId {
    (0..=255u8).map(|n| AccountId([n; 32])).find(|id| !is_signing_key(id) && id.0[0] != 1).unwrap()
}

/// The compressed identity point (order 1).
fn identity() -> AccountId {
    let mut b = [0u8; 32];
    b[0] = 1;
    AccountId(b)
}

/// A point of order 2: (0, -1), y = p - 1.
fn order_two() -> AccountId {
    let mut b = [0xffu8; 32];
    b[0] = 0xec;
    b[31] = 0x7f;
    AccountId(b)
}

/// The identity written with y = p + 1: a non-canonical encoding.
fn non_canonical_identity() -> AccountId {
    let mut b = [0xffu8; 32];
    b[0] = 0xee;
    b[31] = 0x7f;
    AccountId(b)
}

fn bad_receivers() -> Vec<AccountId> {
    vec![not_a_point(), identity(), order_two(), non_canonical_identity()]
}

#[test]
fn signing_keys_are_canonical_points_not_of_small_order() {
    assert!(is_signing_key(&key(9).account()));
    for id in bad_receivers() {
        assert!(!is_signing_key(&id), "{id} is refused");
    }
    // The identity with the sign bit of x = 0 set: another non-canonical encoding.
    let mut neg_identity = identity();
    neg_identity.0[31] |= 0x80;
    assert!(!is_signing_key(&neg_identity));
}

#[test]
fn verify_refuses_a_receiver_no_one_can_sign_for() {
    for to in bad_receivers() {
        let tx = transfer(1, to, 10, 0).sign(&key(1));
        assert_eq!(tx.verify(AuthMode::Ed25519), Err(RejectReason::InvalidReceiver));
        assert_eq!(RejectReason::InvalidReceiver.code(), "invalid_receiver");
    }
    // Trusted-client mode names accounts by opaque bytes: no receiver rule.
    let tx = SignedTransfer::unsigned(transfer(1, not_a_point(), 10, 0));
    assert!(tx.verify(AuthMode::None).is_ok());
}

#[test]
fn build_block_refuses_an_invalid_receiver_even_when_told_it_was_verified() {
    let mut l = ledger(2, 1_000);
    let bad = VerifiedTransfer::assume_verified(transfer(1, identity(), 10, 0).sign(&key(1)));
    let good = signed(1, 2, 10, 0).verify(AuthMode::Ed25519).unwrap();
    let built = l.build_block(1_700_000_000_100, vec![bad, good.clone()]);
    assert_eq!(built.outcomes[0].result, Err(RejectReason::InvalidReceiver));
    assert!(built.outcomes[1].result.is_ok(), "the next transfer (same nonce) commits");
    assert_eq!(built.block.unwrap().transfers, vec![good.into_inner()]);
    assert_eq!(l.state().account(&identity()).balance, 0);
    assert_eq!(l.check(&transfer(1, identity(), 1, 1).sign(&key(1))), Err(RejectReason::InvalidReceiver));
}

#[test]
fn apply_block_refuses_an_invalid_receiver_under_either_policy() {
    // A trusted-client ledger builds the block; an Ed25519 ledger with the
    // same supply must refuse it.
    let g = genesis(AuthMode::Ed25519, 2, 1_000);
    let mut producer = Ledger::new(Genesis { auth: AuthMode::None, ..g.clone() }).unwrap();
    let tx = VerifiedTransfer::assume_verified(transfer(1, order_two(), 10, 0).sign(&key(1)));
    let mut block = producer.build_block(1_700_000_000_100, vec![tx]).block.unwrap();
    let fresh = Ledger::new(g).unwrap();
    block.header.prev_hash = fresh.head_hash().0;
    for policy in [SignaturePolicy::Verify, SignaturePolicy::Trust] {
        let err = fresh.clone().apply_block(&block, policy).unwrap_err();
        assert_eq!(err.kind, BlockErrorKind::TransferRejected { index: 0, reason: RejectReason::InvalidReceiver });
    }
}

#[test]
fn an_ed25519_genesis_funds_only_signing_keys() {
    let mut g = genesis(AuthMode::Ed25519, 2, 1_000);
    g.allocations.push(Allocation { account: AccountId([0xff; 32]), amount: 5, policy: None });
    assert!(!is_signing_key(&AccountId([0xff; 32])));
    assert_eq!(g.check_accounts(), Err(GenesisError::InvalidAccount { index: 2 }));
    assert!(matches!(Ledger::new(g.clone()), Err(GenesisError::InvalidAccount { index: 2 })));
    assert!(Ledger::new(Genesis { auth: AuthMode::None, ..g }).is_ok(), "trusted-client mode: opaque ids");
}

fn many(count: usize) -> Vec<SignedTransfer> {
    (0..count as u64).map(|i| signed(1 + (i % 3) as u8, 4, 1 + i, i)).collect()
}

#[test]
fn parallel_verification_keeps_input_order_and_finds_the_one_bad_signature() {
    let mut txs = many(300);
    let bad_at = 137;
    txs[bad_at].signature.as_mut().unwrap()[5] ^= 1;
    let unsigned_at = 299;
    txs[unsigned_at].signature = None;
    let ids: Vec<_> = txs.iter().map(SignedTransfer::id).collect();
    let expected: Vec<Result<(), RejectReason>> = txs.iter().map(|t| t.check_stateless(AuthMode::Ed25519)).collect();
    for threads in [1, 2, 3, 8, 64] {
        let verdicts = verify_all(txs.clone(), AuthMode::Ed25519, threads);
        assert_eq!(verdicts.len(), txs.len());
        for (i, v) in verdicts.iter().enumerate() {
            let (id, result) = match v {
                Ok(ok) => (ok.get().id(), Ok(())),
                Err((tx, reason)) => (tx.id(), Err(reason.clone())),
            };
            assert_eq!(id, ids[i], "verdict {i} is for transfer {i} ({threads} threads)");
            assert_eq!(result, expected[i], "verdict {i} ({threads} threads)");
        }
        let bad: Vec<usize> = verdicts.iter().enumerate().filter(|(_, v)| v.is_err()).map(|(i, _)| i).collect();
        assert_eq!(bad, vec![bad_at, unsigned_at]);
        assert!(matches!(verdicts[bad_at], Err((_, RejectReason::BadSignature(_)))));
        assert!(matches!(verdicts[unsigned_at], Err((_, RejectReason::MissingSignature))));
    }
    assert!(verify_all(Vec::new(), AuthMode::Ed25519, 4).is_empty());
}
