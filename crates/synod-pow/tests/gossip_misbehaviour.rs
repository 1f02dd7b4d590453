//! Misbehaviour scores and bans: provably bad data bans a peer at once and
//! silences it; blocks refused for our own clock never cost anything
//! (Bitcoin's lesson); sloppiness costs a little; the core's sets stay
//! bounded whatever a peer sends.

mod common;

use common::net::{small_limits, Net};
use common::*;
use synod_pow::chain::{BlockError, BlockOutcome, PowBlock};
use synod_pow::gossip::{GossipAction, GossipEvent, GossipLimits, GossipMsg, HeaderBytes, InvItem, Misbehaviour};
use synod_pow::BlockHash;

/// The scripted peer's id: no node behind it.
const EVIL: usize = 9;

/// Node 0 (empty chain) connected to the scripted peer, with `limits`.
fn victim(limits: GossipLimits) -> Net {
    let mut net = Net::new(vec![node()], limits);
    net.connect_stranger(0, EVIL);
    net
}

fn ban_of(net: &Net) -> Option<&GossipAction> {
    net.bans.iter().find(|(n, _)| *n == 0).map(|(_, a)| a)
}

fn score(net: &Net) -> u32 {
    net.nodes[0].gossip.peers(net.now_ms).iter().find(|p| p.peer == EVIL as u64).map_or(0, |p| p.ban_score)
}

fn valid_block() -> PowBlock {
    let mut source = node();
    mine_n(&mut source, miner(1), 1, 10).remove(0)
}

#[test]
fn a_damaged_block_bans_the_sender_and_the_genuine_one_is_still_accepted() {
    let mut net = victim(small_limits());
    let genuine = valid_block();
    // Same header, different body: the Merkle root no longer matches.
    let mut damaged = genuine.clone();
    damaged.coinbase.extra_nonce ^= 1;
    assert_eq!(damaged.hash(), genuine.hash());
    let acts = net.inject(EVIL, 0, GossipMsg::Block(damaged.encode()));
    let until = net.now_ms + small_limits().ban_duration_ms;
    assert!(matches!(&acts[..], [GossipAction::Ban { peer: 9, until_ms, .. }] if *until_ms == until), "{acts:?}");
    assert!(net.nodes[0].gossip.is_banned(EVIL as u64, net.now_ms));
    let events = net.nodes[0].gossip.take_events();
    assert!(events.iter().any(|e| matches!(
        e,
        GossipEvent::Misbehaved { what: Misbehaviour::InvalidBlock { err: BlockError::MerkleRootMismatch, .. }, .. }
    )));
    // From now on the banned peer is ignored, even when it sends good data or asks for things.
    let before = net.nodes[0].gossip.stats().messages_ignored;
    assert!(net.inject(EVIL, 0, GossipMsg::GetHeaders { locator: vec![] }).is_empty());
    assert!(net.inject(EVIL, 0, GossipMsg::Block(genuine.encode())).is_empty());
    assert_eq!(net.nodes[0].gossip.stats().messages_ignored, before + 2);
    assert_eq!(net.nodes[0].chain.best_tip().height, 0);
    // An honest peer delivers the genuine block with that very hash: accepted.
    let mut source = node();
    source.receive_block(genuine.clone(), T0 + 1000);
    net.nodes.push(common::net::NetNode { chain: source, gossip: synod_pow::gossip::Gossip::new(small_limits()) });
    net.connect(0, 1);
    net.run();
    assert_eq!(net.nodes[0].chain.best_tip().hash, genuine.hash());
    // The ban outlives the connection and ends after ban_duration_ms.
    net.nodes[0].gossip.peer_disconnected(EVIL as u64);
    assert!(net.nodes[0].gossip.is_banned(EVIL as u64, until - 1));
    assert!(!net.nodes[0].gossip.is_banned(EVIL as u64, until));
    let acts = net.connect_stranger(0, EVIL);
    assert!(matches!(&acts[..], [GossipAction::Ban { .. }]), "a banned peer reconnecting is refused again");
}

#[test]
fn bad_proof_of_work_and_garbage_bytes_ban() {
    // A block whose hash is above its target.
    let mut bad = valid_block();
    while bad.hash().to_u256() <= synod_pow::Compact::decode(bad.header.bits).value {
        bad.header.nonce = bad.header.nonce.wrapping_add(1);
    }
    let mut net = victim(small_limits());
    net.inject(EVIL, 0, GossipMsg::Block(bad.encode()));
    assert!(ban_of(&net).is_some());

    // Bytes that are no message at all.
    let mut net = victim(small_limits());
    let (now_ms, now_secs) = (net.now_ms, net.now_secs());
    let n = &mut net.nodes[0];
    let acts = n.gossip.on_wire_message(EVIL as u64, &[0xff, 0xff, 0xff], &mut n.chain, now_ms, now_secs);
    assert!(matches!(&acts[..], [GossipAction::Ban { reason, .. }] if reason.contains("undecodable message")));

    // A block message that is no block.
    let mut net = victim(small_limits());
    net.inject(EVIL, 0, GossipMsg::Block(vec![1, 2, 3]));
    assert!(matches!(ban_of(&net), Some(GossipAction::Ban { reason, .. }) if reason.contains("undecodable block")));
}

#[test]
fn a_block_from_our_future_does_not_ban() {
    let mut net = victim(small_limits());
    // Valid in every way, but more than 2 h ahead of the victim's clock.
    let future = next_block(&node(), miner(1), net.now_secs() + 3 * 3600);
    net.inject(EVIL, 0, GossipMsg::Block(future.encode()));
    let events = net.nodes[0].gossip.take_events();
    assert!(events.iter().any(|e| matches!(
        e,
        GossipEvent::Block { outcome: BlockOutcome::Invalid(BlockError::TimeTooFar { .. }), .. }
    )));
    assert!(ban_of(&net).is_none());
    assert_eq!(score(&net), 0);
    // The same block, once our clock caught up, is accepted from the same peer.
    net.now_ms += 4 * 3600 * 1000;
    net.inject(EVIL, 0, GossipMsg::Block(future.encode()));
    assert_eq!(net.nodes[0].chain.best_tip().hash, future.hash());
}

#[test]
fn a_block_invalid_against_its_parent_or_state_does_not_ban() {
    let mut net = victim(small_limits());
    // An inflated coinbase: refused when connected, not the sender's provable fault.
    let mut inflated = next_block(&node(), miner(1), T0 + 10);
    inflated.coinbase.amount += 1;
    let inflated = reseal(inflated);
    net.inject(EVIL, 0, GossipMsg::Block(inflated.encode()));
    let events = net.nodes[0].gossip.take_events();
    assert!(events.iter().any(|e| matches!(
        e,
        GossipEvent::Block { outcome: BlockOutcome::Invalid(BlockError::CoinbaseAmount { .. }), .. }
    )));
    assert_eq!(score(&net), 0);
    assert!(ban_of(&net).is_none());
}

#[test]
fn bad_headers_ban() {
    // Header chain of two valid blocks from a source.
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 2, 10);
    let headers: Vec<HeaderBytes> = blocks.iter().map(|b| HeaderBytes::from(&b.header)).collect();

    // Not linked: the second header's parent is not the first.
    let mut net = victim(small_limits());
    net.inject(EVIL, 0, GossipMsg::Headers(vec![headers[1], headers[0]]));
    assert!(matches!(ban_of(&net), Some(GossipAction::Ban { reason, .. }) if reason.contains("does not link")));

    // Proof of work fails.
    let mut h = blocks[0].header;
    while h.block_hash().to_u256() <= synod_pow::Compact::decode(h.bits).value {
        h.nonce = h.nonce.wrapping_add(1);
    }
    let mut net = victim(small_limits());
    net.inject(EVIL, 0, GossipMsg::Headers(vec![HeaderBytes::from(&h)]));
    assert!(matches!(ban_of(&net), Some(GossipAction::Ban { reason, .. }) if reason.contains("proof of work")));

    // Good headers are fine and get their blocks requested.
    let mut net = victim(small_limits());
    let acts = net.inject(EVIL, 0, GossipMsg::Headers(headers));
    assert_eq!(score(&net), 0);
    let asked = blocks.iter().map(|b| InvItem::Block(b.hash())).collect();
    assert_eq!(acts, vec![GossipAction::Send { to: EVIL as u64, msg: GossipMsg::GetData(asked) }]);
}

#[test]
fn unconnecting_headers_cost_twenty_every_tenth_time() {
    let limits = small_limits();
    let mut net = victim(limits.clone());
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 3, 10);
    // Block 3's header alone: its parent is unknown to the victim.
    let orphan = HeaderBytes::from(&blocks[2].header);
    for i in 1..=2 * limits.unconnecting_headers_max {
        let acts = net.inject(EVIL, 0, GossipMsg::Headers(vec![orphan]));
        let expected = 20 * (i / limits.unconnecting_headers_max);
        assert_eq!(score(&net), expected, "after {i} unconnecting batches");
        // Each is answered with our locator, so an honest peer can find the fork.
        assert!(acts.iter().any(|a| matches!(a, GossipAction::Send { msg: GossipMsg::GetHeaders { .. }, .. })));
    }
    assert!(ban_of(&net).is_none());
}

#[test]
fn oversize_messages_cost_points_and_are_ignored() {
    let limits = small_limits();
    let mut net = victim(limits.clone());
    let too_many: Vec<InvItem> = (0..=limits.inv_items_max as u8).map(|i| InvItem::Block(BlockHash([i; 32]))).collect();
    let acts = net.inject(EVIL, 0, GossipMsg::Inv(too_many.clone()));
    assert!(acts.is_empty(), "nothing asked for: {acts:?}");
    assert_eq!(score(&net), 10);
    net.inject(EVIL, 0, GossipMsg::GetData(too_many));
    assert_eq!(score(&net), 60);
    let locator = vec![BlockHash::ZERO; limits.locator_max + 1];
    assert!(ban_of(&net).is_none());
    // 60 + 50 crosses the threshold: banned (and disconnected by the driver).
    net.inject(EVIL, 0, GossipMsg::GetHeaders { locator });
    assert!(matches!(ban_of(&net), Some(GossipAction::Ban { reason, .. }) if reason.contains("locator")));
    let events = net.nodes[0].gossip.take_events();
    assert!(matches!(events.last(), Some(GossipEvent::Misbehaved { ban_score: 110, .. })));
}

#[test]
fn an_unrequested_block_we_already_have_costs_ten() {
    let mut net = victim(small_limits());
    let block = valid_block();
    // Pushed unasked and new: accepted, no cost (a peer may push its own block).
    net.inject(EVIL, 0, GossipMsg::Block(block.encode()));
    assert_eq!(net.nodes[0].chain.best_tip().hash, block.hash());
    assert_eq!(score(&net), 0);
    // Pushed again: spam.
    net.inject(EVIL, 0, GossipMsg::Block(block.encode()));
    assert_eq!(score(&net), 10);
    for _ in 0..9 {
        net.inject(EVIL, 0, GossipMsg::Block(block.encode()));
    }
    assert!(ban_of(&net).is_some());
}

#[test]
fn a_duplicated_answer_to_our_request_is_not_spam() {
    let mut net = victim(small_limits());
    let block = valid_block();
    net.inject(EVIL, 0, GossipMsg::Inv(vec![InvItem::Block(block.hash())]));
    net.inject(EVIL, 0, GossipMsg::Block(block.encode()));
    net.inject(EVIL, 0, GossipMsg::Block(block.encode()));
    assert_eq!(score(&net), 0);
}

#[test]
fn peers_beyond_the_limit_are_ignored() {
    let limits = GossipLimits { peers_max: 3, ..small_limits() };
    let mut net = Net::new(vec![node()], limits);
    for stranger in 10..14 {
        net.connect_stranger(0, stranger);
    }
    let g = &net.nodes[0].gossip;
    assert_eq!(g.peers(0).iter().map(|p| p.peer).collect::<Vec<_>>(), [10, 11, 12]);
    assert_eq!(g.stats().peers_refused, 1);
    assert!(net.inject(13, 0, GossipMsg::GetHeaders { locator: vec![] }).is_empty());
}

#[test]
fn pending_headers_and_transfer_requests_stay_bounded() {
    let limits = GossipLimits { pending_headers_max: 6, headers_max: 4, transfers_in_flight_max: 5, ..small_limits() };
    let mut net = victim(limits.clone());
    // 20 blocks' headers offered in full batches: at most 6 wait at a time.
    let mut source = node();
    let blocks = mine_n(&mut source, miner(1), 20, 10);
    for batch in blocks.chunks(4) {
        let headers = batch.iter().map(|b| HeaderBytes::from(&b.header)).collect();
        net.inject(EVIL, 0, GossipMsg::Headers(headers));
        assert!(net.nodes[0].gossip.pending_headers() <= 6);
    }
    // Transfer announcements beyond the request bound are not asked for.
    let ids: Vec<InvItem> = (0..8).map(|n| InvItem::Transfer(transfer(1, 2, 1 + n, 0, 0).id())).collect();
    let acts = net.inject(EVIL, 0, GossipMsg::Inv(ids));
    assert!(matches!(&acts[..], [GossipAction::Send { msg: GossipMsg::GetData(items), .. }] if items.len() == 5));
    assert_eq!(net.nodes[0].gossip.transfers_in_flight(), 5);
    // They time out and free the room.
    net.now_ms += limits.request_timeout_ms;
    let n = &mut net.nodes[0];
    n.gossip.on_tick(&n.chain, net.now_ms);
    assert_eq!(net.nodes[0].gossip.transfers_in_flight(), 0);
}
