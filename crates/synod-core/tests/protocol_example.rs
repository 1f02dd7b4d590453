//! The worked example in docs/PROTOCOL.md is checked against the code, so the
//! document an independent client is written from cannot drift from the code.

use std::collections::HashMap;

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::multisig::{MultisigAuth, Policy, SignerSignature};
use synod_core::{AccountId, AuthMode, Genesis, Ledger, SignedTransfer, Transfer};

fn example_values() -> HashMap<String, String> {
    block_values("```worked-example\n")
}

/// The `key: value` lines of the fenced block opened by `fence` in PROTOCOL.md.
fn block_values(fence: &str) -> HashMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(path).expect("docs/PROTOCOL.md exists");
    let start = doc.find(fence).unwrap_or_else(|| panic!("PROTOCOL.md has a {fence:?} block"));
    let body = &doc[start + fence.len()..];
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
        allocations: vec![Allocation {
            account: sender.account(),
            amount: v["genesis_allocation"].parse().unwrap(),
            policy: None,
        }],
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

#[test]
fn the_documented_multisig_example_matches_the_code() {
    let v = block_values("```multisig-example\n");
    let w = example_values();
    let seed = |name: &str| -> [u8; 32] { hex::decode(&v[name]).unwrap().try_into().unwrap() };
    let signers: Vec<Keypair> = ["seed_a", "seed_b", "seed_c"].iter().map(|n| Keypair::from_seed(&seed(n))).collect();
    let mut keys: Vec<AccountId> = signers.iter().map(Keypair::account).collect();
    keys.sort();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(k.to_string(), v[&format!("key_{i}")]);
    }
    let policy = Policy { threshold: v["threshold"].parse().unwrap(), keys: keys.clone() };
    policy.check().unwrap();
    assert_eq!(hex::encode(policy.encode()), v["policy_bytes"]);
    assert_eq!(policy.account().to_string(), v["policy_id"]);

    // Funding: the section 9 sender pays the policy id, revealing the policy.
    let sender_seed: [u8; 32] = hex::decode(&w["sender_seed"]).unwrap().try_into().unwrap();
    let sender = Keypair::from_seed(&sender_seed);
    let funding = Transfer {
        chain_id: 1,
        from: sender.account(),
        to: policy.account(),
        amount: 500,
        fee: 0,
        nonce: 0,
        memo: vec![],
    };
    assert_eq!(hex::encode(funding.signing_bytes()), v["funding_signing_bytes"]);
    let funding = funding.sign(&sender).to_policy(policy.clone());
    assert_eq!(hex::encode(funding.record_bytes()), v["funding_record_bytes"]);
    assert_eq!(hex::encode(funding.leaf_hash()), v["funding_leaf_hash"]);

    // Spending: signers 0 and 2 of the policy.
    let spend = Transfer {
        chain_id: 1,
        from: policy.account(),
        to: v["spend_receiver"].parse().unwrap(),
        amount: v["spend_amount"].parse().unwrap(),
        fee: 0,
        nonce: v["spend_nonce"].parse().unwrap(),
        memo: hex::decode(&v["spend_memo"]).unwrap(),
    };
    assert_eq!(spend.to.to_string(), w["receiver_account"]);
    let message = spend.signing_bytes();
    assert_eq!(hex::encode(&message), v["spend_signing_bytes"]);
    assert_eq!(spend.id().to_string(), v["spend_transfer_id"]);
    let key_at = |i: usize| signers.iter().find(|k| k.account() == keys[i]).unwrap();
    let signatures: Vec<SignerSignature> = v["spend_signers"]
        .split(',')
        .map(|i| i.parse::<u8>().unwrap())
        .map(|i| SignerSignature { signer: i, signature: key_at(usize::from(i)).sign(&message) })
        .collect();
    for s in &signatures {
        assert_eq!(hex::encode(s.signature), v[&format!("spend_signature_{}", s.signer)]);
    }
    let signed = SignedTransfer::with_multisig(spend, MultisigAuth { threshold: 2, keys, signatures });
    assert_eq!(hex::encode(signed.record_bytes()), v["spend_record_bytes"]);
    assert_eq!(hex::encode(signed.leaf_hash()), v["spend_leaf_hash"]);
    assert_eq!(SignedTransfer::decode_record(&signed.record_bytes()).unwrap(), signed);

    // Both apply to a ledger funding the sender, in this order.
    let genesis = Genesis {
        chain_id: 1,
        auth: AuthMode::Ed25519,
        timestamp_ms: w["genesis_timestamp_ms"].parse().unwrap(),
        allocations: vec![Allocation::new(sender.account(), w["genesis_allocation"].parse().unwrap())],
    };
    let mut ledger = Ledger::new(genesis).unwrap();
    for tx in [funding, signed] {
        let verified = tx.verify(AuthMode::Ed25519).unwrap();
        let built = ledger.build_block(1_700_000_001_000, vec![verified]);
        built.outcomes[0].result.clone().unwrap();
    }
    assert_eq!(ledger.state().account(&policy.account()).balance, 400);
}
