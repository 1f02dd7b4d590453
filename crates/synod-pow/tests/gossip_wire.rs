//! The wire form of `GossipMsg` (PROTOCOL.md 8.1), byte for byte, and the
//! shape of the block locator a connecting node sends.

mod common;

use common::net::{small_limits, Net};
use common::*;
use synod_pow::gossip::{GossipAction, GossipLimits, GossipMsg, HeaderBytes, InvItem, WireError, MESSAGE_BYTES_MAX};
use synod_pow::BlockHash;

#[test]
fn every_variant_has_the_documented_bytes() {
    let h = BlockHash([0xab; 32]);
    let tx = transfer(1, 2, 5, 1, 0);
    let id = tx.id();
    // Inv: variant 0, count, then per item its variant (0 block, 1 transfer) and 32 raw bytes.
    let inv = GossipMsg::Inv(vec![InvItem::Block(h), InvItem::Transfer(id)]);
    let mut expected = vec![0x00, 0x02, 0x00];
    expected.extend([0xab; 32]);
    expected.push(0x01);
    expected.extend(id.0);
    assert_eq!(inv.to_bytes(), expected);
    // GetData and NotFound: the same list under variants 1 and 6.
    assert_eq!(GossipMsg::GetData(vec![InvItem::Block(h)]).to_bytes()[..3], [0x01, 0x01, 0x00]);
    assert_eq!(GossipMsg::NotFound(vec![]).to_bytes(), [0x06, 0x00]);
    // Block: variant 2, varint length (200 = 0xc8 0x01), the block bytes.
    let block = vec![7u8; 200];
    let mut expected = vec![0x02, 0xc8, 0x01];
    expected.extend(&block);
    assert_eq!(GossipMsg::Block(block).to_bytes(), expected);
    // Transfer: variant 3, varint length, the transfer record (PROTOCOL.md 2.4).
    let record = tx.record_bytes();
    assert_eq!(record.len(), 115 + 1 + 64);
    let mut expected = vec![0x03, 180, 0x01];
    expected.extend(&record);
    assert_eq!(GossipMsg::Transfer(tx).to_bytes(), expected);
    // GetHeaders: variant 4, count, hashes.
    let mut expected = vec![0x04, 0x01];
    expected.extend([0xab; 32]);
    assert_eq!(GossipMsg::GetHeaders { locator: vec![h] }.to_bytes(), expected);
    // Headers: variant 5, count, 80 raw bytes each.
    let header = HeaderBytes([0x11; 80]);
    let mut expected = vec![0x05, 0x02];
    expected.extend([0x11; 160]);
    assert_eq!(GossipMsg::Headers(vec![header, header]).to_bytes(), expected);
}

#[test]
fn decoding_round_trips_and_refuses_junk() {
    let mut source = node();
    let block = mine_n(&mut source, miner(1), 1, 10).remove(0);
    let msgs = vec![
        GossipMsg::Inv(vec![InvItem::Block(block.hash())]),
        GossipMsg::Block(block.encode()),
        GossipMsg::Transfer(transfer(3, 4, 9, 2, 1)),
        GossipMsg::Headers(vec![HeaderBytes::from(&block.header)]),
        GossipMsg::GetHeaders { locator: vec![block.hash(), block.header.prev_hash] },
    ];
    for m in msgs {
        let bytes = m.to_bytes();
        assert_eq!(GossipMsg::from_bytes(&bytes), Ok(m.clone()));
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(GossipMsg::from_bytes(&long), Err(WireError::TrailingBytes(1)));
        assert!(GossipMsg::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        // JSON keeps readable forms (hex hashes, the API's transfer object).
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<GossipMsg>(&json).unwrap(), m);
    }
    assert!(matches!(GossipMsg::from_bytes(&[0x07]), Err(WireError::Decode(_))), "no variant 7");
    let huge = vec![0u8; MESSAGE_BYTES_MAX + 1];
    assert!(matches!(GossipMsg::from_bytes(&huge), Err(WireError::TooLarge { .. })));
    // A record with an unknown auth tag does not decode.
    let mut bad = GossipMsg::Transfer(transfer(3, 4, 9, 2, 1)).to_bytes();
    bad[3 + 115] = 0x07;
    assert!(GossipMsg::from_bytes(&bad).is_err());
}

#[test]
fn json_shows_hashes_as_bitcoin_hex() {
    let h: BlockHash = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f".parse().unwrap();
    let json = serde_json::to_string(&InvItem::Block(h)).unwrap();
    assert_eq!(json, r#"{"Block":"000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"}"#);
}

#[test]
fn the_locator_is_dense_then_exponential_and_ends_at_block_zero() {
    let mut chain = node();
    mine_n(&mut chain, miner(1), 100, 10);
    let limits = GossipLimits { locator_max: 64, ..small_limits() };
    let mut net = Net::new(vec![chain], limits);
    let acts = net.connect_stranger(0, 9);
    let [GossipAction::Send { msg: GossipMsg::GetHeaders { locator }, .. }] = &acts[..] else {
        panic!("connecting sends GetHeaders: {acts:?}");
    };
    let active = net.nodes[0].chain.active_chain();
    let heights: Vec<usize> = locator.iter().map(|h| active.iter().position(|a| a == h).unwrap()).collect();
    assert_eq!(heights, [100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 89, 85, 77, 61, 29, 0]);

    // A short locator_max keeps the tip and block 0.
    let limits = GossipLimits { locator_max: 3, ..small_limits() };
    let mut net = Net::new(vec![net.nodes.remove(0).chain], limits);
    let acts = net.connect_stranger(0, 9);
    let [GossipAction::Send { msg: GossipMsg::GetHeaders { locator }, .. }] = &acts[..] else { panic!() };
    let active = net.nodes[0].chain.active_chain();
    assert_eq!(locator, &[active[100], active[99], active[0]]);
}

#[test]
fn headers_are_served_after_the_fork_point_up_to_the_limit() {
    let mut chain = node();
    mine_n(&mut chain, miner(1), 12, 10);
    let mut net = Net::new(vec![chain], small_limits());
    net.connect_stranger(0, 9);
    let active = net.nodes[0].chain.active_chain().to_vec();
    let headers_of = |acts: Vec<GossipAction>| match &acts[..] {
        [GossipAction::Send { msg: GossipMsg::Headers(hs), .. }] => {
            hs.iter().map(|h| h.header().block_hash()).collect::<Vec<_>>()
        }
        other => panic!("expected Headers: {other:?}"),
    };
    // A locator ending at block 0 only: headers 1..=5 (headers_max = 5).
    let acts = net.inject(9, 0, GossipMsg::GetHeaders { locator: vec![active[0]] });
    assert_eq!(headers_of(acts), active[1..=5]);
    // Unknown hashes are skipped; the first known one on our chain is the fork point.
    let locator = vec![BlockHash([1; 32]), active[9], active[3]];
    let acts = net.inject(9, 0, GossipMsg::GetHeaders { locator });
    assert_eq!(headers_of(acts), active[10..=12]);
    // Up to date: an empty answer.
    let acts = net.inject(9, 0, GossipMsg::GetHeaders { locator: vec![active[12]] });
    assert!(headers_of(acts).is_empty());
    // Nothing known at all: from block 0.
    let acts = net.inject(9, 0, GossipMsg::GetHeaders { locator: vec![BlockHash([2; 32])] });
    assert_eq!(headers_of(acts), active[1..=5]);
}
