//! The worked example in docs/PROTOCOL.md is checked against the code, so the
//! document an independent client is written from cannot drift from the code.

use std::collections::HashMap;

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Ledger, SignedTransfer, Transfer};

fn example_values() -> HashMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(path).expect("docs/PROTOCOL.md exists");
    let start = doc.find("```worked-example").expect("PROTOCOL.md has a ```worked-example block");
    let body = &doc[start + "```worked-example".len()..];
    let body = &body[..body.find("```").expect("block is closed")];
    body.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

#[test]
fn the_documented_worked_example_matches_the_code() {
    let v = example_values();
    let seed: [u8; 32] = hex::decode(&v["sender_seed"]).unwrap().try_into().unwrap();
    let sender = Keypair::from_seed(&seed);
    assert_eq!(sender.account().to_string(), v["sender_account"]);
    let receiver = v["receiver_account"].parse().unwrap();
    let tx = Transfer {
        chain_id: v["chain_id"].parse().unwrap(),
        from: sender.account(),
        to: receiver,
        amount: v["amount"].parse().unwrap(),
        fee: v["fee"].parse().unwrap(),
        nonce: v["nonce"].parse().unwrap(),
        memo: hex::decode(&v["memo"]).unwrap(),
    };
    assert_eq!(hex::encode(tx.signing_bytes()), v["signing_bytes"]);
    let signed = tx.clone().sign(&sender);
    assert_eq!(hex::encode(signed.signature.unwrap()), v["signature"]);
    assert_eq!(tx.id().to_string(), v["transfer_id"]);
    assert_eq!(hex::encode(signed.record_bytes()), v["record_bytes"]);
    assert_eq!(hex::encode(signed.leaf_hash()), v["leaf_hash"]);

    // The documented signature verifies and the JSON form round-trips.
    let json = serde_json::to_string(&signed).unwrap();
    let back: SignedTransfer = serde_json::from_str(&json).unwrap();
    assert_eq!(back, signed);
    back.verify(AuthMode::Ed25519).unwrap();

    let genesis = Genesis {
        chain_id: tx.chain_id,
        auth: AuthMode::Ed25519,
        timestamp_ms: v["genesis_timestamp_ms"].parse().unwrap(),
        allocations: vec![Allocation { account: sender.account(), amount: v["genesis_allocation"].parse().unwrap() }],
    };
    assert_eq!(hex::encode(genesis.encode()), v["genesis_bytes"]);
    assert_eq!(hex::encode(genesis.hash()), v["genesis_hash"]);
    let mut ledger = Ledger::new(genesis).unwrap();
    assert_eq!(ledger.head_hash().to_string(), v["block0_hash"]);
    let verified = signed.verify(AuthMode::Ed25519).unwrap();
    let block = ledger.build_block(v["block1_timestamp_ms"].parse().unwrap(), vec![verified]).block.unwrap();
    assert_eq!(hex::encode(block.header.encode()), v["block1_header_bytes"]);
    assert_eq!(block.hash().to_string(), v["block1_hash"]);
}
