//! Relay between `Gossip` cores: a mined block and a submitted transfer
//! reach every node, announcements are not echoed to whoever has the item,
//! and requests for unknown items get `NotFound`.

mod common;

use common::net::{small_limits, Net};
use common::*;
use synod_pow::chain::{BlockOutcome, TransferStatus};
use synod_pow::gossip::{GossipAction, GossipMsg, InvItem};
use synod_pow::BlockHash;

/// Three synced nodes in a line: 0 — 1 — 2 (node 0 and 2 only meet through 1).
fn line() -> Net {
    let mut net = Net::new(vec![node(), node(), node()], small_limits());
    net.connect(0, 1);
    net.connect(1, 2);
    net.run();
    net
}

#[test]
fn a_mined_block_reaches_every_node_without_echoes() {
    let mut net = line();
    let block = next_block(&net.nodes[0].chain, miner(1), T0 + 10);
    let hash = block.hash();
    let (now_ms, now_secs) = (net.now_ms, net.now_secs());
    let n = &mut net.nodes[0];
    let (outcome, actions) = n.gossip.on_mined_block(block, &mut n.chain, now_ms, now_secs);
    assert_eq!(outcome, BlockOutcome::Extended { height: 1 });
    // Announced (not pushed) to its one peer.
    assert_eq!(actions, vec![GossipAction::Send { to: 1, msg: GossipMsg::Inv(vec![InvItem::Block(hash)]) }]);
    net.apply(0, actions);
    net.run();
    assert!(net.tips_agree());
    assert_eq!(net.nodes[2].chain.best_tip().hash, hash);
    // Inv 0→1, GetData 1→0, Block 0→1, Inv 1→2, GetData 2→1, Block 1→2; nothing back.
    assert_eq!((net.count(0, 1, "inv"), net.count(1, 2, "inv")), (1, 1));
    assert_eq!((net.count(1, 0, "inv"), net.count(2, 1, "inv")), (0, 0), "no echo to whoever sent it");
    assert_eq!((net.count(0, 1, "block"), net.count(1, 2, "block")), (1, 1));
}

#[test]
fn a_submitted_transfer_reaches_every_mempool() {
    let mut net = line();
    let tx = transfer(1, 2, 50, 3, 0);
    let id = tx.id();
    let now_ms = net.now_ms;
    let n = &mut net.nodes[2];
    let (result, actions) = n.gossip.on_local_transfer(tx, &mut n.chain, now_ms);
    assert_eq!(result, Ok(id));
    net.apply(2, actions);
    net.run();
    for n in &net.nodes {
        assert_eq!(n.chain.transfer_status(&id), TransferStatus::Pending);
    }
    assert_eq!(net.count(1, 0, "transfer"), 1);
    assert_eq!(net.count(1, 2, "inv"), 0, "not announced back to its origin");
    // Mined by node 0, it confirms everywhere and leaves every mempool.
    let block = next_block(&net.nodes[0].chain, miner(1), T0 + 10);
    assert_eq!(block.transfers.len(), 1);
    let (now_ms, now_secs) = (net.now_ms, net.now_secs());
    let n = &mut net.nodes[0];
    let (_, actions) = n.gossip.on_mined_block(block, &mut n.chain, now_ms, now_secs);
    net.apply(0, actions);
    net.run();
    for n in &net.nodes {
        assert!(matches!(n.chain.transfer_status(&id), TransferStatus::Confirmed { height: 1, .. }));
    }
}

#[test]
fn an_invalid_transfer_is_not_relayed_nor_fetched_again() {
    let mut net = line();
    // Node 1 is told about a transfer it will refuse (a nonce gap).
    let bad = transfer(1, 2, 50, 3, 5);
    let id = bad.id();
    net.inject(0, 1, GossipMsg::Inv(vec![InvItem::Transfer(id)]));
    net.run();
    assert_eq!(net.count(1, 0, "getdata"), 1);
    net.inject(0, 1, GossipMsg::Transfer(bad));
    net.run();
    assert_eq!(net.nodes[1].chain.transfer_status(&id), TransferStatus::Unknown);
    assert_eq!(net.count(1, 2, "inv"), 0);
    // Announced again: remembered as refused, not asked for again.
    let acts = net.inject(0, 1, GossipMsg::Inv(vec![InvItem::Transfer(id)]));
    assert!(acts.is_empty(), "{acts:?}");
}

#[test]
fn get_data_for_unknown_items_gets_not_found() {
    let mut net = line();
    let unknown_block = InvItem::Block(BlockHash([7; 32]));
    let unknown_tx = InvItem::Transfer(transfer(1, 2, 1, 0, 0).id());
    let known_tx = transfer(3, 4, 1, 0, 0);
    let now_ms = net.now_ms;
    let n = &mut net.nodes[1];
    assert!(n.gossip.on_local_transfer(known_tx.clone(), &mut n.chain, now_ms).0.is_ok());
    let acts = net.inject(0, 1, GossipMsg::GetData(vec![unknown_block, InvItem::Transfer(known_tx.id()), unknown_tx]));
    assert_eq!(
        acts,
        vec![
            GossipAction::Send { to: 0, msg: GossipMsg::Transfer(known_tx) },
            GossipAction::Send { to: 0, msg: GossipMsg::NotFound(vec![unknown_block, unknown_tx]) },
        ]
    );
}

#[test]
fn a_not_found_block_is_asked_of_another_peer() {
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 1, 10);
    let hash = blocks[0].hash();
    // Node 2 has the block; node 0 only claims it.
    let mut net = Net::new(vec![node(), node(), source], small_limits());
    net.connect(0, 1);
    net.run();
    net.inject(0, 1, GossipMsg::Inv(vec![InvItem::Block(hash)]));
    net.run();
    // Node 0 answered NotFound; node 1 keeps nothing in flight for it.
    assert_eq!(net.count(0, 1, "notfound"), 1);
    assert_eq!(net.nodes[1].gossip.blocks_in_flight(), 0);
    net.connect(1, 2);
    net.run();
    assert_eq!(net.nodes[1].chain.best_tip().hash, hash);
}
