//! `ChainState::take_stored_blocks`: what a driver persists is exactly what
//! the tree accepted, parents before children, and the log stays bounded.

mod common;

use common::*;
use synod_pow::chain::BlockOutcome;

#[test]
fn connected_orphans_are_logged_parents_first_and_drained_once() {
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 4, 10);
    let mut n = node();
    // Children first: they wait as orphans and nothing is stored yet.
    for b in blocks[1..].iter().rev() {
        assert!(matches!(n.receive_block(b.clone(), T0 + 1000), BlockOutcome::Orphaned { .. }));
    }
    assert!(n.take_stored_blocks().is_empty());
    // The parent arrives and all four are stored, in chain order.
    assert_eq!(n.receive_block(blocks[0].clone(), T0 + 1000), BlockOutcome::Extended { height: 4 });
    let logged: Vec<_> = n.take_stored_blocks().iter().map(|b| b.hash()).collect();
    assert_eq!(logged, blocks.iter().map(|b| b.hash()).collect::<Vec<_>>());
    assert!(n.take_stored_blocks().is_empty(), "drained");
    // Nothing new, nothing logged.
    assert_eq!(n.receive_block(blocks[2].clone(), T0 + 1000), BlockOutcome::AlreadyKnown);
    assert!(n.take_stored_blocks().is_empty());
    assert_eq!(n.stats().stored_log_dropped, 0);
}

#[test]
fn side_branch_blocks_are_logged_refused_ones_are_not() {
    let mut a = node();
    let base = mine_n(&mut a, miner(1), 2, 10);
    let mut b = a.clone();
    let mine_a = mine_n(&mut a, miner(1), 1, 10);
    let side = mine_n(&mut b, miner(2), 1, 11);
    let mut n = node();
    feed(&mut n, &base);
    feed(&mut n, &mine_a);
    n.take_stored_blocks();
    assert_eq!(n.receive_block(side[0].clone(), T0 + 1000), BlockOutcome::StoredSideBranch);
    assert_eq!(n.take_stored_blocks()[0].hash(), side[0].hash());
    // A damaged body (context-free failure) is never stored, so never logged.
    let mut bad = next_block(&a, miner(1), T0 + 1000);
    bad.coinbase.extra_nonce ^= 1;
    assert!(matches!(n.receive_block(bad, T0 + 1000), BlockOutcome::Invalid(_)));
    assert!(n.take_stored_blocks().is_empty());
}

#[test]
fn an_undrained_log_is_bounded_and_counts_what_it_dropped() {
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 10, 10);
    let mut n = node_with(|c| c.limits.orphan_max_blocks = 3);
    let max = n.stored_log_max();
    assert_eq!(max, 4);
    feed(&mut n, &blocks);
    let logged = n.take_stored_blocks();
    assert_eq!(logged.len(), max);
    assert_eq!(n.stats().stored_log_dropped, 6);
    // The newest survive, still parents first.
    assert_eq!(logged.last().unwrap().hash(), blocks[9].hash());
    assert!(logged.windows(2).all(|w| w[1].header.prev_hash == w[0].hash()));
}
