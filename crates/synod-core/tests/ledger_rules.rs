//! Every rejection rule of the ledger, conservation, and block atomicity.

mod common;
use common::*;

use synod_core::crypto::SignatureError;
use synod_core::ledger::{BlockErrorKind, SignaturePolicy};
use synod_core::{AuthMode, Ledger, RejectReason, SignedTransfer, VerifiedTransfer};

fn build_one(ledger: &mut Ledger, tx: SignedTransfer) -> Result<(), RejectReason> {
    let auth = ledger.auth();
    let verified = tx.verify(auth)?;
    let before = ledger.clone();
    let built = ledger.build_block(1_700_000_000_100, vec![verified]);
    let result = built.outcomes[0].result.clone().map(|_| ());
    if result.is_err() {
        // A rejected transfer changes nothing: state, tree and head are untouched.
        assert!(built.block.is_none());
        assert_eq!(ledger.state(), before.state());
        assert_eq!(ledger.head_hash(), before.head_hash());
        assert_eq!(ledger.tree().len(), before.tree().len());
    }
    result
}

#[test]
fn a_valid_transfer_moves_units_and_bumps_the_nonce() {
    let mut l = ledger(3, 1000);
    build_one(&mut l, signed(1, 2, 300, 0)).unwrap();
    assert_eq!(l.state().account(&key(1).account()).balance, 700);
    assert_eq!(l.state().account(&key(1).account()).nonce, 1);
    assert_eq!(l.state().account(&key(2).account()).balance, 1300);
    assert_eq!(l.state().account(&key(2).account()).nonce, 0);
    assert_eq!(l.head().height, 1);
    assert_eq!(l.head().ledger_size, 1);
    l.state().assert_conservation();
}

#[test]
fn each_rejection_rule_has_its_reason_and_changes_nothing() {
    let mut l = ledger(3, 1000);
    let to2 = key(2).account();

    let mut wrong_chain = transfer(1, to2, 5, 0);
    wrong_chain.chain_id = CHAIN + 1;
    assert_eq!(
        build_one(&mut l, wrong_chain.sign(&key(1))),
        Err(RejectReason::WrongChain { expected: CHAIN, got: CHAIN + 1 })
    );
    assert_eq!(
        build_one(&mut l, SignedTransfer::unsigned(transfer(1, to2, 5, 0))),
        Err(RejectReason::MissingSignature)
    );

    let mut forged = signed(1, 2, 5, 0);
    forged.transfer.amount = 6; // signature was over amount 5
    assert_eq!(build_one(&mut l, forged), Err(RejectReason::BadSignature(SignatureError::Invalid)));

    let by_other_key = SignedTransfer { signature: signed(3, 2, 5, 0).signature, ..signed(1, 2, 5, 0) };
    assert_eq!(build_one(&mut l, by_other_key), Err(RejectReason::BadSignature(SignatureError::Invalid)));

    assert_eq!(build_one(&mut l, signed(1, 2, 0, 0)), Err(RejectReason::ZeroAmount));
    assert_eq!(build_one(&mut l, signed(1, 1, 5, 0)), Err(RejectReason::SelfTransfer));
    assert_eq!(build_one(&mut l, signed(1, 2, 5, 1)), Err(RejectReason::BadNonce { expected: 0, got: 1 }));
    assert_eq!(
        build_one(&mut l, signed(1, 2, 1001, 0)),
        Err(RejectReason::InsufficientFunds { balance: 1000, needed: 1001 })
    );
    // An account that was never funded has nothing to send.
    assert_eq!(build_one(&mut l, signed(9, 2, 1, 0)), Err(RejectReason::InsufficientFunds { balance: 0, needed: 1 }));
    let mut memo = transfer(1, to2, 5, 0);
    memo.memo = vec![0; 65];
    let memo = SignedTransfer { multisig: None, to_policy: None, transfer: memo, signature: Some([0; 64]) };
    assert_eq!(build_one(&mut l, memo), Err(RejectReason::MemoTooLong { len: 65, max: 64 }));

    let mut fee = transfer(1, to2, 5, 0);
    fee.fee = 1;
    assert_eq!(build_one(&mut l, fee.sign(&key(1))), Err(RejectReason::FeeNotAllowed { fee: 1 }));

    let mut overflow = transfer(1, to2, u64::MAX, 0);
    overflow.fee = 1;
    assert_eq!(build_one(&mut l, overflow.sign(&key(1))), Err(RejectReason::Overflow));

    // After all that, the ledger is still at genesis.
    assert_eq!(l.head().height, 0);
    l.state().assert_conservation();
}

#[test]
fn replaying_a_committed_transfer_is_rejected_by_its_nonce() {
    let mut l = ledger(2, 1000);
    let tx = signed(1, 2, 10, 0);
    build_one(&mut l, tx.clone()).unwrap();
    assert_eq!(build_one(&mut l, tx), Err(RejectReason::BadNonce { expected: 1, got: 0 }));
    assert_eq!(l.state().account(&key(2).account()).balance, 1010);
}

#[test]
fn strict_verification_rejects_small_order_keys_and_non_canonical_s() {
    // The identity point (y = 1) is a small-order public key: with R = identity and
    // S = 0 the cofactored equation holds for every message; strict verification refuses it.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = synod_core::AccountId(identity);
    let mut t = transfer(1, key(2).account(), 5, 0);
    t.from = weak;
    let mut sig = [0u8; 64];
    sig[0] = 1; // R = identity, S = 0
    let tx = SignedTransfer { multisig: None, to_policy: None, transfer: t, signature: Some(sig) };
    assert!(matches!(tx.verify(AuthMode::Ed25519), Err(RejectReason::BadSignature(_))));

    // S + L is the same scalar mod L but not canonical: must be refused.
    let good = signed(1, 2, 5, 0);
    assert!(good.clone().verify(AuthMode::Ed25519).is_ok());
    let mut s = [0u8; 32];
    s.copy_from_slice(&good.signature.unwrap()[32..]);
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = s[i] as u16 + L[i] as u16 + carry;
        s[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 256 bits");
    let mut mauled = good.clone();
    mauled.signature.as_mut().unwrap()[32..].copy_from_slice(&s);
    assert!(matches!(mauled.verify(AuthMode::Ed25519), Err(RejectReason::BadSignature(_))));

    // A public key that is not a curve point.
    let mut not_a_point = good.clone();
    not_a_point.transfer.from = synod_core::AccountId([0xff; 32]);
    assert!(matches!(not_a_point.verify(AuthMode::Ed25519), Err(RejectReason::BadSignature(_))));
}

#[test]
fn trusted_mode_accepts_unsigned_but_still_checks_present_signatures() {
    let mut l = Ledger::new(genesis(AuthMode::None, 2, 100)).unwrap();
    build_one(&mut l, SignedTransfer::unsigned(transfer(1, key(2).account(), 10, 0))).unwrap();
    let mut forged = signed(1, 2, 5, 1);
    forged.transfer.amount = 6;
    assert!(matches!(build_one(&mut l, forged), Err(RejectReason::BadSignature(_))));
    build_one(&mut l, signed(1, 2, 5, 1)).unwrap();
    assert_eq!(l.state().account(&key(2).account()).balance, 115);
}

#[test]
fn a_block_keeps_valid_candidates_and_drops_invalid_ones_deterministically() {
    let mut a = ledger(3, 100);
    let candidates = || {
        vec![
            signed(1, 2, 60, 0),
            signed(1, 3, 60, 1),  // overdraft after the first
            signed(2, 3, 150, 0), // funded by the first
            signed(2, 1, 1, 0),   // same nonce as the previous: rejected
        ]
        .into_iter()
        .map(|t| t.verify(AuthMode::Ed25519).unwrap())
        .collect::<Vec<VerifiedTransfer>>()
    };
    let built = a.build_block(5, candidates());
    let ok: Vec<bool> = built.outcomes.iter().map(|o| o.result.is_ok()).collect();
    assert_eq!(ok, vec![true, false, true, false]);
    let block = built.block.unwrap();
    assert_eq!(block.transfers.len(), 2);
    // A second replica building from the same inputs gets the same hash.
    let mut b = ledger(3, 100);
    assert_eq!(b.build_block(5, candidates()).block.unwrap().hash(), block.hash());
    // And a third applying the block gets the same state.
    let mut c = ledger(3, 100);
    c.apply_block(&block, SignaturePolicy::Verify).unwrap();
    assert_eq!(c.state(), a.state());
    assert_eq!(c.head_hash(), a.head_hash());
    a.state().assert_conservation();
}

#[test]
fn apply_block_rejects_tampering_and_changes_nothing() {
    let mut producer = ledger(2, 1000);
    let txs = vec![signed(1, 2, 10, 0).verify(AuthMode::Ed25519).unwrap()];
    let block = producer.build_block(9, txs).block.unwrap();

    let check = |mutate: &dyn Fn(&mut synod_core::Block), expect: &dyn Fn(&BlockErrorKind) -> bool| {
        let mut l = ledger(2, 1000);
        let before = l.clone();
        let mut b = block.clone();
        mutate(&mut b);
        let err = l.apply_block(&b, SignaturePolicy::Verify).unwrap_err();
        assert!(expect(&err.kind), "unexpected error {err}");
        assert_eq!(l.state(), before.state());
        assert_eq!(l.head_hash(), before.head_hash());
        assert_eq!(l.tree().len(), 0);
    };
    check(&|b| b.transfers[0].transfer.amount = 11, &|k| matches!(k, BlockErrorKind::TransferRejected { .. }));
    check(&|b| b.header.prev_hash[0] ^= 1, &|k| *k == BlockErrorKind::PrevHashMismatch);
    check(&|b| b.header.height = 2, &|k| matches!(k, BlockErrorKind::WrongHeight { .. }));
    check(&|b| b.header.tx_root[5] ^= 1, &|k| *k == BlockErrorKind::TxRootMismatch);
    check(&|b| b.header.ledger_root[5] ^= 1, &|k| *k == BlockErrorKind::LedgerRootMismatch);
    check(&|b| b.header.ledger_size = 2, &|k| matches!(k, BlockErrorKind::LedgerSizeMismatch { .. }));
    check(&|b| b.header.tx_count = 2, &|k| matches!(k, BlockErrorKind::TxCountMismatch { .. }));
    check(&|b| b.header.timestamp_ms = 0, &|k| matches!(k, BlockErrorKind::TimestampBackwards { .. }));
    check(&|b| b.header.chain_id = 99, &|k| matches!(k, BlockErrorKind::WrongChain { .. }));
    check(&|b| b.transfers.clear(), &|k| matches!(k, BlockErrorKind::TxCountMismatch { .. }));
}
