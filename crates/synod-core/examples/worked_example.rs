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
        allocations: vec![synod_core::genesis::Allocation { account: sender.account(), amount: 1000, policy: None }],
    };
    println!("genesis_bytes: {}", hex::encode(genesis.encode()));
    println!("genesis_hash: {}", hex::encode(genesis.hash()));
    let mut ledger = Ledger::new(genesis).unwrap();
    println!("block0_hash: {}", ledger.head_hash());
    let built = ledger.build_block(1_700_000_001_000, vec![signed.verify(synod_core::AuthMode::Ed25519).unwrap()]);
    let block = built.block.unwrap();
    println!("block1_header_bytes: {}", hex::encode(block.header.encode()));
    println!("block1_hash: {}", block.hash());
    multisig_example(&sender, &receiver);
}

/// The block of PROTOCOL.md 9.1: a 2-of-3 policy funded, then spent by signers 0 and 2.
fn multisig_example(sender: &Keypair, receiver: &Keypair) {
    use synod_core::multisig::{MultisigAuth, Policy, SignerSignature};
    println!("--- multisig-example");
    let seeds = [[0x11u8; 32], [0x12; 32], [0x13; 32]];
    for (name, seed) in ["seed_a", "seed_b", "seed_c"].iter().zip(&seeds) {
        println!("{name}: {}", hex::encode(seed));
    }
    let signers: Vec<Keypair> = seeds.iter().map(Keypair::from_seed).collect();
    let mut keys: Vec<_> = signers.iter().map(Keypair::account).collect();
    keys.sort();
    println!("threshold: 2");
    for (i, k) in keys.iter().enumerate() {
        println!("key_{i}: {k}");
    }
    let policy = Policy { threshold: 2, keys: keys.clone() };
    println!("policy_bytes: {}", hex::encode(policy.encode()));
    println!("policy_id: {}", policy.account());
    let funding = Transfer {
        chain_id: 1,
        from: sender.account(),
        to: policy.account(),
        amount: 500,
        fee: 0,
        nonce: 0,
        memo: vec![],
    };
    println!("funding_signing_bytes: {}", hex::encode(funding.signing_bytes()));
    let funding = funding.sign(sender).to_policy(policy.clone());
    println!("funding_record_bytes: {}", hex::encode(funding.record_bytes()));
    println!("funding_leaf_hash: {}", hex::encode(funding.leaf_hash()));
    let spend = Transfer {
        chain_id: 1,
        from: policy.account(),
        to: receiver.account(),
        amount: 100,
        fee: 0,
        nonce: 0,
        memo: b"ms".to_vec(),
    };
    println!("spend_receiver: {}", receiver.account());
    println!("spend_amount: 100\nspend_nonce: 0\nspend_memo: 6d73");
    let message = spend.signing_bytes();
    println!("spend_signing_bytes: {}", hex::encode(&message));
    println!("spend_transfer_id: {}", spend.id());
    println!("spend_signers: 0,2");
    let key_at = |i: usize| signers.iter().find(|k| k.account() == keys[i]).unwrap();
    let signatures: Vec<SignerSignature> = [0u8, 2]
        .iter()
        .map(|&i| SignerSignature { signer: i, signature: key_at(usize::from(i)).sign(&message) })
        .collect();
    for s in &signatures {
        println!("spend_signature_{}: {}", s.signer, hex::encode(s.signature));
    }
    let signed = synod_core::SignedTransfer::with_multisig(spend, MultisigAuth { threshold: 2, keys, signatures });
    println!("spend_record_bytes: {}", hex::encode(signed.record_bytes()));
    println!("spend_leaf_hash: {}", hex::encode(signed.leaf_hash()));
}
