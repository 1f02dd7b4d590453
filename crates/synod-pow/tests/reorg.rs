//! Fork choice and reorgs: the heavier branch wins, undo data restores the
//! exact previous state, transfers of dropped blocks come back to the mempool.

mod common;

use common::*;
use proptest::prelude::*;
use synod_core::SignedTransfer;
use synod_pow::chain::{BlockError, BlockOutcome, ChainState, PowBlock, TransferStatus};

/// Submits `txs` to `node`, ignoring refusals (random transfers may be invalid).
fn submit_all(node: &mut ChainState, txs: &[SignedTransfer]) {
    for tx in txs {
        let _ = node.submit_transfer(tx.clone());
    }
}

fn assert_same_chain(a: &ChainState, b: &ChainState) {
    assert_eq!(a.best_tip(), b.best_tip());
    assert_eq!(a.active_chain(), b.active_chain());
    assert_eq!(a.state(), b.state());
    assert_eq!(a.confirmed_transfers(), b.confirmed_transfers());
    assert_eq!(&a.replay_best_chain().unwrap(), a.state(), "state equals a replay of the best chain");
}

#[test]
fn heavier_branch_wins_and_dropped_transfers_return() {
    let mut a = node();
    let mut b = a.clone();
    // Branch A: two blocks with a transfer each.
    let t1 = transfer(1, 2, 500, 7, 0);
    let t2 = transfer(3, 4, 300, 0, 0);
    a.submit_transfer(t1.clone()).unwrap();
    let a1 = mine_on(&mut a, miner(1), T0 + 10);
    a.submit_transfer(t2.clone()).unwrap();
    let a2 = mine_on(&mut a, miner(1), T0 + 20);
    assert_eq!(a.confirmations(&t1.id()), Some(2));
    assert_eq!(a.confirmations(&t2.id()), Some(1));
    // Branch B: three blocks; it spends key 1's nonce 0 differently (a double spend of t1).
    let t1_conflict = transfer(1, 3, 900, 1, 0);
    b.submit_transfer(t1_conflict.clone()).unwrap();
    let bs = mine_n(&mut b, miner(2), 3, 11);

    let before_a = a.clone();
    let outcomes = feed(&mut a, &bs);
    assert_eq!(outcomes[0], BlockOutcome::StoredSideBranch);
    assert_eq!(outcomes[1], BlockOutcome::StoredSideBranch, "equal work: the first seen branch stays");
    assert_eq!(outcomes[2], BlockOutcome::Reorged { depth: 2, height: 3 });
    assert_same_chain(&a, &b);
    assert_eq!(a.stats().reorgs, 1);
    // t2 is still valid on branch B: back in the mempool. t1 conflicts with t1_conflict: gone.
    assert_eq!(a.transfer_status(&t2.id()), TransferStatus::Pending);
    assert_eq!(a.transfer_status(&t1.id()), TransferStatus::Unknown);
    assert_eq!(a.confirmations(&t1_conflict.id()), Some(3));
    assert_eq!(a.stats().returned_to_mempool, 1);

    // Branch A grows back heavier: the node returns to exactly A's state.
    let mut a_only = before_a;
    let more = mine_n(&mut a_only, miner(1), 2, 10);
    let outcomes = feed(&mut a, &[a1, a2]);
    assert_eq!(outcomes, vec![BlockOutcome::AlreadyKnown, BlockOutcome::AlreadyKnown]);
    let outcomes = feed(&mut a, &more);
    assert_eq!(outcomes, vec![BlockOutcome::StoredSideBranch, BlockOutcome::Reorged { depth: 3, height: 4 }]);
    assert_same_chain(&a, &a_only);
    assert_eq!(a.transfer_status(&t1.id()), TransferStatus::Confirmed { height: 1, index: 0, confirmations: 4 });
    assert!(!a.mempool().contains(&t2.id()), "confirmed again on branch A");
}

#[test]
fn invalid_block_in_heavier_branch_keeps_the_old_chain() {
    let mut a = node();
    let mut b = a.clone();
    mine_n(&mut a, miner(1), 2, 10);
    let mut bs = mine_n(&mut b, miner(2), 4, 10);
    // Block 2 of branch B overpays its miner; it and everything after it are invalid.
    let mut bad = bs[1].clone();
    bad.coinbase.amount += 1;
    let bad = reseal(bad);
    let mut child = bs[2].clone();
    child.header.prev_hash = bad.hash();
    let child = solve(child);
    bs[1] = bad;
    bs[2] = child;
    bs.truncate(3);

    let before = a.clone();
    let outcomes = feed(&mut a, &bs);
    assert_eq!(outcomes[0], BlockOutcome::StoredSideBranch);
    assert_eq!(outcomes[1], BlockOutcome::StoredSideBranch);
    assert_eq!(outcomes[2], BlockOutcome::Invalid(BlockError::InvalidAncestor), "reorg attempted, failed, undone");
    assert_same_chain(&a, &before);
    assert_eq!(a.mempool().len(), before.mempool().len());
    // The culprit is remembered with its own reason, its descendants as invalid ancestors.
    let err = BlockError::CoinbaseAmount { expected: REWARD, got: REWARD + 1 };
    assert_eq!(a.receive_block(bs[1].clone(), T0 + 100), BlockOutcome::Invalid(err));
    let mut grandchild = next_block(&b, miner(2), T0 + 100);
    grandchild.header.prev_hash = bs[2].hash();
    grandchild.coinbase.height = 4;
    let grandchild = reseal(grandchild);
    assert_eq!(a.receive_block(grandchild, T0 + 100), BlockOutcome::Invalid(BlockError::InvalidAncestor));
    assert_same_chain(&a, &before);
}

#[test]
fn heavier_but_shorter_branch_beats_longer_but_lighter() {
    let mut fast = node();
    let mut slow = fast.clone();
    // Eight blocks one second apart: the retarget at height 8 makes blocks 4x harder.
    let mut heavy = mine_n(&mut fast, miner(1), 8, 1);
    heavy.extend(mine_n(&mut fast, miner(1), 2, 1));
    assert_eq!(fast.best_tip().height, 10);
    // Slow blocks stay at the pow limit (work 2 each): 13 blocks, 26 < 2 * 8 + 8 * 2 = 32.
    let light = mine_n(&mut slow, miner(2), 13, 12);
    assert!(slow.best_tip().chain_work < fast.best_tip().chain_work);
    assert!(slow.best_tip().height > fast.best_tip().height);

    let mut c = slow.clone();
    let outcomes = feed(&mut c, &heavy);
    // Heights 1..=7 (work 2) and 8, 9 (work 8) already outweigh 13 light blocks.
    assert_eq!(outcomes[8], BlockOutcome::Reorged { depth: 13, height: 9 });
    assert_eq!(outcomes[9], BlockOutcome::Extended { height: 10 });
    assert_same_chain(&c, &fast);
    let mut d = fast.clone();
    assert!(feed(&mut d, &light).iter().all(|o| *o == BlockOutcome::StoredSideBranch));
    assert_same_chain(&d, &fast);
}

/// (from, to, amount, fee, nonce skew): a transfer between keys 1..=4.
type TxSpec = (u8, u8, u64, u64, u64);

/// A random transfer (possibly invalid: overspending, used or future nonce).
fn arb_transfer() -> impl Strategy<Value = TxSpec> {
    (1u8..=4, 1u8..=4, 1u64..40_000, 0u64..50, 0u64..4)
}

fn build_branch(node: &mut ChainState, miner_n: u8, plan: &[Vec<TxSpec>], start: i64) -> Vec<PowBlock> {
    let mut blocks = Vec::new();
    for (i, txs) in plan.iter().enumerate() {
        for &(from, to, amount, fee, nonce_skew) in txs {
            if from == to {
                continue;
            }
            // Mostly the right nonce, sometimes a used or a future one.
            let nonce = (node.next_nonce(&account(from)) + nonce_skew).saturating_sub(1);
            submit_all(node, &[transfer(from, to, amount, fee, nonce)]);
        }
        blocks.push(mine_on(node, miner(miner_n), start + 10 * (i as i64 + 1)));
    }
    blocks
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Reorg to a heavier branch and back: each time the state is exactly
    /// the state of a node that only ever saw that branch, and equals a
    /// replay of the best chain.
    #[test]
    fn reorg_with_undo_restores_exact_state(
        prefix in proptest::collection::vec(proptest::collection::vec(arb_transfer(), 0..4), 0..3),
        one in proptest::collection::vec(proptest::collection::vec(arb_transfer(), 0..5), 1..4),
        two in proptest::collection::vec(proptest::collection::vec(arb_transfer(), 0..5), 1..4),
        extra in 1usize..3,
    ) {
        let mut base = node();
        build_branch(&mut base, 1, &prefix, T0);
        let start = i64::from(base.best_tip().time);
        let mut n1 = base.clone();
        let b1 = build_branch(&mut n1, 2, &one, start);
        let mut n2 = base.clone();
        // Branch two is one block longer than branch one.
        let mut two = two;
        while two.len() <= one.len() {
            two.push(Vec::new());
        }
        let b2 = build_branch(&mut n2, 3, &two, start + 1);

        let mut n = n1.clone();
        let outcomes = feed(&mut n, &b2);
        // Branch two overtakes with its block number len(one) + 1.
        let base_height = base.best_tip().height;
        let switch = BlockOutcome::Reorged { depth: b1.len() as u64, height: base_height + b1.len() as u64 + 1 };
        prop_assert_eq!(&outcomes[b1.len()], &switch);
        prop_assert!(outcomes[..b1.len()].iter().all(|o| *o == BlockOutcome::StoredSideBranch));
        assert_same_chain(&n, &n2);

        // Branch one overtakes again.
        let mut more = Vec::new();
        let mut n1_more = n1.clone();
        for _ in 0..(b2.len() - b1.len() + extra) {
            let now = i64::from(n1_more.best_tip().time) + 10;
            more.push(mine_on(&mut n1_more, miner(2), now));
        }
        feed(&mut n, &more);
        assert_same_chain(&n, &n1_more);
        // Every waiting transfer is still valid against the new tip.
        for e in n.mempool().iter() {
            prop_assert!(e.tx.transfer.nonce >= n.account(&e.tx.transfer.from).nonce);
        }
    }
}
