//! Orphan blocks wait, bounded, for their parents and connect when they arrive.

mod common;

use common::*;
use synod_pow::chain::BlockOutcome;

#[test]
fn orphans_connect_when_the_parent_arrives() {
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 5, 10);
    let mut n = node();
    // Newest first: each one waits, and points at the first block it lacks.
    for b in blocks[1..].iter().rev() {
        let outcome = n.receive_block(b.clone(), T0 + 1000);
        assert_eq!(outcome, BlockOutcome::Orphaned { missing: b.header.prev_hash });
    }
    assert_eq!(n.orphans().len(), 4);
    assert_eq!(n.orphans().missing_ancestor(&blocks[4].hash()), blocks[0].hash());
    assert_eq!(n.receive_block(blocks[3].clone(), T0 + 1000), BlockOutcome::AlreadyKnown);
    assert_eq!(n.best_tip().height, 0);
    // The parent arrives: all five connect at once.
    assert_eq!(n.receive_block(blocks[0].clone(), T0 + 1000), BlockOutcome::Extended { height: 5 });
    assert!(n.orphans().is_empty());
    assert_eq!(n.best_tip(), source.best_tip());
    assert_eq!(n.state(), source.state());
}

#[test]
fn orphan_pool_is_bounded_dropping_the_oldest() {
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 8, 10);
    let mut n = node_with(|c| c.limits.orphan_max_blocks = 3);
    for b in blocks[1..].iter().rev() {
        n.receive_block(b.clone(), T0 + 1000);
        assert!(n.orphans().len() <= 3);
    }
    // Blocks 8..=5 arrived first and were dropped; 4, 3, 2 wait.
    assert_eq!(n.orphans().len(), 3);
    assert_eq!(n.stats().orphans_dropped, 4);
    assert!(n.orphans().contains(&blocks[1].hash()) && !n.orphans().contains(&blocks[7].hash()));
    assert_eq!(n.receive_block(blocks[0].clone(), T0 + 1000), BlockOutcome::Extended { height: 4 });
    // The rest arrive again (a peer re-announces its tip) and connect in order.
    for b in &blocks[4..] {
        assert!(matches!(n.receive_block(b.clone(), T0 + 1000), BlockOutcome::Extended { .. }));
    }
    assert_eq!(n.best_tip(), source.best_tip());
}

#[test]
fn orphan_pool_is_bounded_in_bytes() {
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 4, 10);
    let size = blocks[1].encoded_len();
    let mut n = node_with(|c| c.limits.orphan_max_bytes = 2 * size);
    for b in &blocks[1..] {
        n.receive_block(b.clone(), T0 + 1000);
    }
    assert_eq!(n.orphans().len(), 2);
    assert!(n.orphans().bytes() <= 2 * size);
}

#[test]
fn invalid_orphans_are_dropped_when_adopted() {
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 3, 10);
    // A child of block 1 with the wrong height in its coinbase, and a child of that.
    let mut bad = blocks[1].clone();
    bad.coinbase.height = 7;
    let bad = reseal(bad);
    let mut worse = blocks[2].clone();
    worse.header.prev_hash = bad.hash();
    let worse = solve(worse);
    let mut n = node();
    assert!(matches!(n.receive_block(worse, T0 + 1000), BlockOutcome::Orphaned { .. }));
    assert!(matches!(n.receive_block(bad, T0 + 1000), BlockOutcome::Orphaned { .. }));
    assert_eq!(n.orphans().len(), 2);
    assert_eq!(n.receive_block(blocks[0].clone(), T0 + 1000), BlockOutcome::Extended { height: 1 });
    assert!(n.orphans().is_empty(), "the bad orphan and its child are gone");
    assert_eq!(n.best_tip().height, 1);
}
