//! Headers-first sync between `Gossip` cores: a node far behind converges
//! over several header rounds, never beyond the in-flight window, and a
//! peer that stops answering is routed around.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use common::net::{small_limits, Net};
use common::*;
use synod_pow::chain::BlockOutcome;
use synod_pow::gossip::{GossipMsg, InvItem};

/// A node with `n` blocks mined by miner 1.
fn chain_of(n: usize) -> synod_pow::chain::ChainState {
    let mut c = node();
    mine_n(&mut c, miner(1), n, 10);
    c
}

#[test]
fn a_node_more_than_two_batches_behind_converges() {
    let limits = small_limits();
    // 23 blocks with headers_max = 5: five header rounds, more than 2 × headers_max.
    let ahead = chain_of(23);
    assert!(ahead.best_tip().height > 2 * limits.headers_max as u64);
    let mut net = Net::new(vec![ahead, node()], limits.clone());
    net.connect(0, 1);
    net.run();

    // Converged on the same tip and the same state.
    assert!(net.tips_agree());
    assert_eq!(net.nodes[1].chain.state(), net.nodes[0].chain.state());
    // It took several full batches, each continued from the last header.
    let gossip = &net.nodes[1].gossip;
    assert_eq!(gossip.stats().header_batches_full, 4, "23 = 4 full batches of 5 and one of 3");
    assert!(net.count(1, 0, "getheaders") >= 5);
    assert_eq!(gossip.pending_headers(), 0);
    assert_eq!(gossip.blocks_in_flight(), 0);
    // Every block came once: headers-first never fetches twice without a timeout.
    assert_eq!(net.count(0, 1, "block"), 23);
}

#[test]
fn the_in_flight_window_is_never_exceeded() {
    // Outstanding GetData items per (asker, asked), counted from the wire.
    let outstanding: Rc<RefCell<BTreeMap<(usize, usize), i64>>> = Rc::default();
    let max_seen = Rc::new(RefCell::new(0i64));
    let limits = small_limits();
    let window = limits.blocks_in_flight_per_peer as i64;
    let mut net = Net::new(vec![chain_of(30), chain_of(30), node()], limits);
    let (o, m) = (outstanding.clone(), max_seen.clone());
    net.after_each = Box::new(move |net: &Net| {
        let d = net.delivered.last().expect("called after a delivery");
        let mut o = o.borrow_mut();
        match &d.msg {
            GossipMsg::GetData(items) => {
                let blocks = items.iter().filter(|i| matches!(i, InvItem::Block(_))).count() as i64;
                *o.entry((d.from, d.to)).or_default() += blocks;
            }
            GossipMsg::Block(_) => *o.entry((d.to, d.from)).or_default() -= 1,
            _ => {}
        }
        for (&pair, &n) in o.iter() {
            assert!(n <= window, "{pair:?} has {n} blocks in flight, window {window}");
            let seen = *m.borrow();
            *m.borrow_mut() = seen.max(n);
        }
        for s in net.nodes[2].gossip.peers(net.now_ms) {
            assert!(s.blocks_in_flight <= window as usize);
        }
    });
    net.connect(0, 2);
    net.connect(1, 2);
    net.run();
    assert!(net.tips_agree());
    assert_eq!(*max_seen.borrow(), window, "the window was used to the full");
    // Both peers served blocks: downloads spread over peers.
    assert!(net.count(0, 2, "block") > 0 && net.count(1, 2, "block") > 0);
}

#[test]
fn a_timed_out_request_is_asked_of_another_peer() {
    let limits = small_limits();
    let mut net = Net::new(vec![chain_of(12), chain_of(12), node()], limits.clone());
    // Node 0 announces headers but never delivers a block to node 2.
    net.drop_if = Box::new(|d| d.from == 0 && d.to == 2 && d.msg.kind() == "block");
    net.connect(0, 2);
    net.run();
    let asked_of_0: Vec<InvItem> = net
        .delivered
        .iter()
        .filter(|d| d.from == 2 && d.to == 0)
        .filter_map(|d| match &d.msg {
            GossipMsg::GetData(items) => Some(items.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(asked_of_0.len(), limits.blocks_in_flight_per_peer, "a full window asked of node 0");
    assert_eq!(net.nodes[2].chain.best_tip().height, 0, "nothing arrived");
    // Node 1 connects; once the requests to node 0 time out, node 1 is asked.
    net.connect(1, 2);
    net.run();
    net.tick(limits.request_timeout_ms);
    for _ in 0..20 {
        net.tick(limits.request_timeout_ms);
    }
    assert_eq!(net.nodes[2].chain.best_tip(), net.nodes[1].chain.best_tip());
    assert!(net.nodes[2].gossip.stats().block_timeouts >= asked_of_0.len() as u64);
    let asked_of_1: Vec<InvItem> = net
        .delivered
        .iter()
        .filter(|d| d.from == 2 && d.to == 1)
        .filter_map(|d| match &d.msg {
            GossipMsg::GetData(items) => Some(items.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    for item in &asked_of_0 {
        assert!(asked_of_1.contains(item), "{item:?} was asked again of node 1");
    }
}

#[test]
fn a_disconnected_peer_s_requests_are_reassigned_on_tick() {
    let limits = small_limits();
    let mut net = Net::new(vec![chain_of(8), chain_of(8), node()], limits.clone());
    net.drop_if = Box::new(|d| d.from == 0 && d.to == 2 && d.msg.kind() == "block");
    net.connect(0, 2);
    net.connect(1, 2);
    net.run();
    // Node 0 goes away; node 2 forgets what it asked of it and asks node 1.
    net.links.remove(&(0, 2));
    net.nodes[2].gossip.peer_disconnected(0);
    net.nodes[0].gossip.peer_disconnected(2);
    assert!(net.nodes[2].gossip.peers(net.now_ms).iter().all(|p| p.peer != 0));
    net.tick(1);
    assert_eq!(net.nodes[2].chain.best_tip(), net.nodes[1].chain.best_tip());
}

#[test]
fn diverged_branches_reorg_to_the_heavier_one() {
    // Two nodes mine apart (a partition), then meet: both end on the heavier branch.
    let base = chain_of(3);
    let mut a = base.clone();
    let mut b = base;
    mine_n(&mut a, miner(1), 9, 10);
    mine_n(&mut b, miner(2), 4, 11);
    let heavier = a.best_tip();
    let mut net = Net::new(vec![a, b], small_limits());
    net.connect(0, 1);
    net.run();
    assert!(net.tips_agree());
    assert_eq!(net.nodes[1].chain.best_tip(), heavier);
    assert!(net.nodes[1].chain.stats().reorgs >= 1);
}

#[test]
fn a_full_batch_of_headers_we_already_store_still_continues() {
    // Story: a node that had stored the start of a peer's branch as a side
    // branch got full batches of headers it already had, treated them as
    // "nothing new", stopped asking, and never learnt the rest of the branch.
    let base = chain_of(2);
    let mut a = base.clone();
    let a_blocks = mine_n(&mut a, miner(1), 20, 10);
    let mut b = base;
    mine_n(&mut b, miner(2), 7, 10);
    // B holds A's first 6 blocks on a lighter side branch.
    for blk in &a_blocks[..6] {
        assert!(matches!(b.receive_block(blk.clone(), T0 + 1000), BlockOutcome::StoredSideBranch));
    }
    let mut net = Net::new(vec![a, b], small_limits());
    net.connect(0, 1);
    net.run();
    assert!(net.tips_agree(), "B follows A's heavier branch to its tip");
}

#[test]
fn when_the_peer_syncing_headers_stops_answering_another_takes_over() {
    // Only one peer continues a shared chain's headers; if it goes silent,
    // the others must be asked long before the slow poll.
    let limits = small_limits();
    let mut net = Net::new(vec![chain_of(23), chain_of(23), node()], limits.clone());
    net.connect(0, 2);
    net.connect(1, 2);
    // Node 0's answer to the first GetHeaders arrives first; then node 0 goes silent.
    let mut headers_from_0 = 0;
    net.drop_if = Box::new(move |d| {
        if d.from == 0 && d.to == 2 {
            headers_from_0 += usize::from(d.msg.kind() == "headers");
            return headers_from_0 > 1 || d.msg.kind() != "headers";
        }
        false
    });
    net.run();
    assert!(!net.tips_agree());
    for _ in 0..40 {
        net.tick(limits.request_timeout_ms);
    }
    assert!(40 * limits.request_timeout_ms < limits.sync_poll_ms);
    assert_eq!(net.nodes[2].chain.best_tip(), net.nodes[1].chain.best_tip());
}
