//! The mempool: admission rules, ordering by fee then nonce, bounds, and its
//! upkeep when blocks connect.

mod common;

use common::*;
use synod_core::{RejectReason, SignedTransfer, Transfer};
use synod_pow::chain::{record_len, SubmitError, TransferStatus, EMPTY_BLOCK_BYTES};

fn ids(txs: &[SignedTransfer]) -> Vec<String> {
    txs.iter().map(|t| format!("{}:{}", t.transfer.fee, t.transfer.nonce)).collect()
}

#[test]
fn template_orders_by_fee_then_nonce() {
    let mut n = node();
    // Key 1: nonce 0 pays 1, nonce 1 pays 100. Key 2: nonce 0 pays 50. Key 3: nonces 0, 1 pay 50, 60.
    for tx in [
        transfer(1, 4, 10, 100, 1),
        transfer(1, 4, 10, 1, 0),
        transfer(2, 4, 10, 50, 0),
        transfer(3, 4, 10, 50, 0),
        transfer(3, 4, 10, 60, 1),
    ] {
        // Key 1's nonce 1 arrives first: a gap, refused.
        let _ = n.submit_transfer(tx);
    }
    n.submit_transfer(transfer(1, 4, 10, 100, 1)).unwrap();
    let b = n.block_template(miner(1), T0 + 10);
    // Highest fee among each sender's next transfer; a sender's later nonces only after its earlier ones.
    // Equal fees: the lower id first. Key 3's nonce 1 (fee 60) becomes eligible once its nonce 0 is in.
    let (k2, k3) = (transfer(2, 4, 10, 50, 0).id(), transfer(3, 4, 10, 50, 0).id());
    let expected =
        if k2 < k3 { ["50:0", "50:0", "60:1", "1:0", "100:1"] } else { ["50:0", "60:1", "50:0", "1:0", "100:1"] };
    assert_eq!(ids(&b.transfers), expected);
    assert_eq!(b.transfers[0].id(), k2.min(k3));
    assert_eq!(b.coinbase.amount, REWARD + 50 + 60 + 50 + 1 + 100);
    let b = solve(b);
    n.receive_block(b, T0 + 10);
    assert!(n.mempool().is_empty(), "everything confirmed");
}

#[test]
fn template_respects_the_block_size() {
    let mut n = node_with(|c| c.limits.max_block_bytes = EMPTY_BLOCK_BYTES + 3 * 180);
    for nonce in 0..5 {
        n.submit_transfer(transfer(1, 2, 10, 5 - nonce, nonce)).unwrap();
    }
    let b = n.block_template(miner(1), T0 + 10);
    assert_eq!(b.transfers.len(), 3);
    assert!(b.encoded_len() <= EMPTY_BLOCK_BYTES + 3 * 180);
    assert_eq!(b.transfers.iter().map(|t| t.transfer.nonce).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn admission_rules() {
    let mut n = node_with(|c| c.limits.min_fee = 1);
    let t = transfer(1, 2, 10, 3, 0);
    let id = n.submit_transfer(t.clone()).unwrap();
    assert_eq!(id, t.id());
    assert_eq!(n.submit_transfer(t.clone()), Err(SubmitError::Duplicate));
    assert_eq!(n.submit_transfer(transfer(1, 2, 10, 3, 5)), Err(SubmitError::NonceGap { expected: 1, got: 5 }));
    assert_eq!(n.submit_transfer(transfer(2, 1, 10, 0, 0)), Err(SubmitError::FeeTooLow { min: 1, got: 0 }));
    // The sender's waiting transfers count against its balance.
    assert_eq!(
        n.submit_transfer(transfer(1, 2, EACH - 13, 1, 1)),
        Err(SubmitError::Rejected(RejectReason::InsufficientFunds { balance: EACH, needed: EACH + 1 }))
    );
    n.submit_transfer(transfer(1, 2, EACH - 14, 1, 1)).unwrap();
    // Replacement needs a strictly higher fee, and takes the sender's later transfers with it.
    assert_eq!(
        n.submit_transfer(transfer(1, 3, 10, 3, 0)),
        Err(SubmitError::ReplacementFeeTooLow { existing: 3, got: 3 })
    );
    let replacement = transfer(1, 3, 10, 4, 0);
    n.submit_transfer(replacement.clone()).unwrap();
    assert_eq!(n.mempool().len(), 1);
    assert_eq!(n.next_nonce(&account(1)), 1);
    assert_eq!(n.transfer_status(&t.id()), TransferStatus::Unknown);
    // Chain, shape and signature as in the Paxos mode.
    let mut wrong_chain = transfer(2, 1, 10, 1, 0);
    wrong_chain.transfer.chain_id = 1;
    assert_eq!(
        n.submit_transfer(wrong_chain),
        Err(SubmitError::Rejected(RejectReason::WrongChain { expected: CHAIN, got: 1 }))
    );
    let mut unsigned = transfer(2, 1, 10, 1, 0);
    unsigned.signature = None;
    assert_eq!(n.submit_transfer(unsigned).unwrap_err().code(), "missing_signature");
    let mut forged = transfer(2, 1, 10, 1, 0);
    forged.transfer.amount = 11;
    assert_eq!(n.submit_transfer(forged).unwrap_err().code(), "bad_signature");
    let long_memo = SignedTransfer::unsigned(Transfer { memo: vec![0; 65], ..transfer(2, 1, 1, 1, 0).transfer });
    assert_eq!(n.submit_transfer(long_memo).unwrap_err().code(), "memo_too_long");
    assert_eq!(n.submit_transfer(transfer(2, 2, 10, 1, 0)).unwrap_err().code(), "self_transfer");
    // Confirmed transfers are recognised.
    mine_on(&mut n, miner(1), T0 + 10);
    assert_eq!(n.submit_transfer(replacement.clone()), Err(SubmitError::AlreadyConfirmed { height: 1 }));
    assert_eq!(n.submit_transfer(transfer(1, 3, 10, 9, 0)).unwrap_err().code(), "bad_nonce");
}

#[test]
fn bounded_by_count_evicting_the_cheapest() {
    let mut n = node_with(|c| c.limits.mempool_max_transfers = 4);
    n.submit_transfer(transfer(1, 4, 10, 5, 0)).unwrap();
    n.submit_transfer(transfer(1, 4, 10, 9, 1)).unwrap();
    n.submit_transfer(transfer(2, 4, 10, 3, 0)).unwrap();
    n.submit_transfer(transfer(3, 4, 10, 7, 0)).unwrap();
    // Not more than the cheapest waiting fee: refused, nothing changes.
    assert_eq!(n.submit_transfer(transfer(4, 1, 10, 3, 0)), Err(SubmitError::MempoolFull { fee: 3 }));
    assert_eq!(n.mempool().len(), 4);
    // Key 2's fee 3 is evicted for fee 4.
    let cheap = transfer(2, 4, 10, 3, 0).id();
    n.submit_transfer(transfer(4, 1, 10, 4, 0)).unwrap();
    assert_eq!(n.mempool().len(), 4);
    assert!(!n.mempool().contains(&cheap));
    // Fee 6 evicts key 4's fee 4.
    n.submit_transfer(transfer(2, 4, 10, 6, 0)).unwrap();
    assert_eq!(n.next_nonce(&account(4)), 0);
    // Evicting key 1's nonce 0 (fee 5) takes its nonce 1 (fee 9) along: no gaps are kept.
    n.submit_transfer(transfer(3, 4, 10, 8, 1)).unwrap();
    assert_eq!(n.next_nonce(&account(1)), 0, "key 1's transfers left together");
    assert_eq!(n.mempool().len(), 3);
    assert!(n.mempool().len() <= n.mempool().max_transfers());
}

#[test]
fn bounded_by_bytes() {
    let record = record_len(&transfer(1, 2, 1, 1, 0));
    let mut n = node_with(|c| c.limits.mempool_max_bytes = 3 * record);
    for from in 1..=3 {
        n.submit_transfer(transfer(from, 4, 10, u64::from(from), 0)).unwrap();
    }
    assert_eq!(n.mempool().bytes(), 3 * record);
    assert_eq!(n.submit_transfer(transfer(4, 1, 10, 1, 0)), Err(SubmitError::MempoolFull { fee: 1 }));
    n.submit_transfer(transfer(4, 1, 10, 2, 0)).unwrap();
    assert_eq!(n.mempool().bytes(), 3 * record);
    assert_eq!(n.mempool().len(), 3);
}

#[test]
fn connected_blocks_clear_confirmed_and_conflicting_transfers() {
    let mut a = node();
    let mut b = a.clone();
    let mine = transfer(1, 2, 10, 1, 0);
    let theirs = transfer(1, 3, 20, 1, 0);
    let other = transfer(2, 3, 30, 1, 0);
    a.submit_transfer(mine.clone()).unwrap();
    a.submit_transfer(other.clone()).unwrap();
    b.submit_transfer(theirs.clone()).unwrap();
    let block = mine_on(&mut b, miner(2), T0 + 10);
    a.receive_block(block, T0 + 10);
    assert!(!a.mempool().contains(&mine.id()), "its nonce is used by the block's transfer");
    assert!(a.mempool().contains(&other.id()), "unrelated transfers stay");
    assert_eq!(a.confirmations(&theirs.id()), Some(1));
}
