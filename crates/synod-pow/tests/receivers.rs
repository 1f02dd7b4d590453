//! A proof-of-work node refuses a transfer to an account no one can sign for
//! (`invalid_receiver`), at submission and inside a peer's block.

mod common;

use common::*;
use synod_core::{AccountId, RejectReason, Transfer};
use synod_pow::chain::{BlockError, BlockOutcome, SubmitError};

/// The compressed identity point: on the curve, of small order.
fn identity() -> AccountId {
    let mut b = [0u8; 32];
    b[0] = 1;
    AccountId(b)
}

#[test]
fn a_transfer_to_a_small_order_point_is_refused_in_the_mempool_and_in_a_block() {
    let mut n = node();
    let tx = Transfer { chain_id: CHAIN, from: account(1), to: identity(), amount: 10, fee: 3, nonce: 0, memo: vec![] }
        .sign(&key(1));
    let err = n.submit_transfer(tx.clone()).unwrap_err();
    assert!(matches!(err, SubmitError::Rejected(RejectReason::InvalidReceiver)), "{err:?}");

    let mut block = n.block_template(miner(1), T0 + 20);
    block.transfers = vec![tx];
    block.coinbase.amount += 3;
    let before = n.state().clone();
    match n.receive_block(reseal(block), T0 + 20) {
        BlockOutcome::Invalid(e) => {
            assert_eq!(e, BlockError::Transfer { index: 0, reason: RejectReason::InvalidReceiver })
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(n.state(), &before);
}
