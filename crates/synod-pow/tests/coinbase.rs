//! The coinbase pays subsidy + fees; the supply is genesis + rewards; fees only move.

mod common;

use common::*;
use synod_pow::chain::{BlockError, BlockOutcome, ChainState, Coinbase, RewardSchedule};

fn supply_ok(n: &ChainState) {
    let genesis = 4 * u128::from(EACH);
    let rewards = n.config().reward.cumulative(n.best_tip().height);
    assert_eq!(n.state().balance_sum(), genesis + rewards);
    assert_eq!(u128::from(n.state().supply()), genesis + rewards);
}

#[test]
fn coinbase_pays_subsidy_and_fees() {
    let mut n = node();
    n.submit_transfer(transfer(1, 2, 100, 7, 0)).unwrap();
    n.submit_transfer(transfer(3, 4, 100, 5, 0)).unwrap();
    let b = mine_on(&mut n, miner(1), T0 + 10);
    assert_eq!(
        b.coinbase,
        Coinbase { chain_id: CHAIN, height: 1, miner: miner(1), amount: REWARD + 12, extra_nonce: 0 }
    );
    assert_eq!(n.account(&miner(1)).balance, REWARD + 12);
    assert_eq!(n.account(&account(1)).balance, EACH - 107);
    assert_eq!(n.account(&account(2)).balance, EACH + 100);
    supply_ok(&n);
    // The miner spends its reward in the next block, and pays a fee to the next miner.
    let spend = synod_core::Transfer {
        chain_id: CHAIN,
        from: key(0x21).account(),
        to: account(1),
        amount: 1,
        fee: 1,
        nonce: 0,
        memo: vec![],
    };
    let mut m = node();
    let b1 = mine_on(&mut m, key(0x21).account(), T0 + 10);
    m.submit_transfer(spend.sign(&key(0x21))).unwrap();
    mine_on(&mut m, miner(2), T0 + 20);
    assert_eq!(m.account(&key(0x21).account()).balance, b1.coinbase.amount - 2);
    assert_eq!(m.account(&miner(2)).balance, REWARD + 1);
    supply_ok(&m);
}

#[test]
fn rewards_halve_and_supply_follows_the_schedule() {
    let mut n = node();
    let blocks = mine_n(&mut n, miner(1), 25, 10);
    let schedule = RewardSchedule { initial: REWARD, halving_interval: HALVING };
    for b in &blocks {
        assert_eq!(b.coinbase.amount, schedule.subsidy(b.height()));
    }
    assert_eq!(blocks[8].coinbase.amount, REWARD);
    assert_eq!(blocks[9].coinbase.amount, REWARD / 2, "height 10");
    assert_eq!(blocks[19].coinbase.amount, REWARD / 4, "height 20");
    assert_eq!(n.account(&miner(1)).balance, 9 * 1000 + 10 * 500 + 6 * 250);
    supply_ok(&n);
}

#[test]
fn wrong_coinbase_amount_or_height_is_refused_without_change() {
    let mut n = node();
    n.submit_transfer(transfer(1, 2, 100, 7, 0)).unwrap();
    let good = n.block_template(miner(1), T0 + 10);
    let before = n.clone();
    for (delta, expected) in [(1i64, REWARD + 8), (-1, REWARD + 6), (-7, REWARD)] {
        let mut b = good.clone();
        b.coinbase.amount = b.coinbase.amount.checked_add_signed(delta).unwrap();
        let b = reseal(b);
        assert_eq!(
            n.receive_block(b, T0 + 10),
            BlockOutcome::Invalid(BlockError::CoinbaseAmount { expected: REWARD + 7, got: expected })
        );
        assert_eq!(n.state(), before.state());
        assert_eq!(n.best_tip(), before.best_tip());
        assert_eq!(n.mempool().len(), 1);
    }
    let mut b = good.clone();
    b.coinbase.height = 2;
    assert_eq!(
        n.receive_block(reseal(b), T0 + 10),
        BlockOutcome::Invalid(BlockError::BadHeight { expected: 1, got: 2 })
    );
    let mut b = good.clone();
    b.coinbase.chain_id = CHAIN + 1;
    assert_eq!(
        n.receive_block(reseal(b), T0 + 10),
        BlockOutcome::Invalid(BlockError::WrongChain { expected: CHAIN, got: CHAIN + 1 })
    );
    assert_eq!(n.state(), before.state());
    assert_eq!(n.receive_block(solve(good), T0 + 10), BlockOutcome::Extended { height: 1 });
    supply_ok(&n);
}
