//! Prints the worked example of docs/PROTOCOL.md from the code, so the document
//! can be regenerated: `cargo run -p synod-core --example worked_example`.

use synod_core::crypto::Keypair;
use synod_core::{Genesis, Ledger, Transfer};

fn main() {
    let sender = Keypair::from_seed(&[0x01; 32]);
    let receiver = Keypair::from_seed(&[0x02; 32]);
    let tx = Transfer {
        chain_id: 1,
        from: sender.account(),
        to: receiver.account(),
        amount: 250,
        fee: 0,
        nonce: 0,
        memo: b"hi".to_vec(),
    };
    let signing = tx.signing_bytes();
    let signed = tx.clone().sign(&sender);
    println!("sender_seed: {}", hex::encode([0x01u8; 32]));
    println!("sender_account: {}", sender.account());
    println!("receiver_account: {}", receiver.account());
    println!("signing_bytes: {}", hex::encode(&signing));
    println!("signature: {}", hex::encode(signed.signature.unwrap()));
    println!("transfer_id: {}", tx.id());
    println!("record_bytes: {}", hex::encode(signed.record_bytes()));
    println!("leaf_hash: {}", hex::encode(signed.leaf_hash()));
    let genesis = Genesis {
        chain_id: 1,
        auth: synod_core::AuthMode::Ed25519,
        timestamp_ms: 1_700_000_000_000,
        allocations: vec![synod_core::genesis::Allocation { account: sender.account(), amount: 1000 }],
    };
    println!("genesis_bytes: {}", hex::encode(genesis.encode()));
    println!("genesis_hash: {}", hex::encode(genesis.hash()));
    let mut ledger = Ledger::new(genesis).unwrap();
    println!("block0_hash: {}", ledger.head_hash());
    let built = ledger.build_block(1_700_000_001_000, vec![signed.verify(synod_core::AuthMode::Ed25519).unwrap()]);
    let block = built.block.unwrap();
    println!("block1_header_bytes: {}", hex::encode(block.header.encode()));
    println!("block1_hash: {}", block.hash());
}
