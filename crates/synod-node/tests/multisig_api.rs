//! Multi-signature accounts over HTTP: funding a 2-of-3 policy id (revealing
//! its policy), every rejection code of PROTOCOL.md 2.5/2.6 with its status,
//! a spend by two signers, a genesis-funded policy, and the state after a
//! restart (blocks read back and re-applied).

mod common;
use common::*;

use serde_json::Value;
use synod_core::genesis::Allocation;
use synod_core::multisig::{MultisigAuth, Policy, SignerSignature};
use synod_core::{AccountId, AuthMode, SignedTransfer, Transfer};

/// The 2-of-3 policy of keys 11, 12, 13, sorted.
fn policy() -> Policy {
    let mut keys: Vec<AccountId> = (11..=13).map(acct).collect();
    keys.sort();
    Policy { threshold: 2, keys }
}

fn seed_of(k: &AccountId) -> u8 {
    (11..=13).find(|&n| acct(n) == *k).expect("a policy key")
}

fn spend(p: &Policy, to: u8, amount: u64, nonce: u64) -> Transfer {
    Transfer { chain_id: CHAIN, from: p.account(), to: acct(to), amount, fee: 0, nonce, memo: vec![] }
}

/// `t` signed by the keys at `signers` (indexes; an index past the keys signs with key 0).
fn multisigned(p: &Policy, t: Transfer, signers: &[u8]) -> SignedTransfer {
    let message = t.signing_bytes();
    let signatures = signers
        .iter()
        .map(|&i| {
            let k = p.keys.get(usize::from(i)).unwrap_or(&p.keys[0]);
            SignerSignature { signer: i, signature: key(seed_of(k)).sign(&message) }
        })
        .collect();
    SignedTransfer::with_multisig(t, MultisigAuth { threshold: p.threshold, keys: p.keys.clone(), signatures })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_account_is_funded_spent_from_and_every_rejection_has_its_code() {
    let p = policy();
    let mut n = TestNode::start(genesis(AuthMode::Ed25519, 3, EACH)).await;
    n.watched.push(p.account());

    // Funding: the receiver's policy must be revealed, well-formed and its own.
    let fund = signed(1, 2, 300, 0);
    let fund = SignedTransfer { transfer: Transfer { to: p.account(), ..fund.transfer }, ..fund };
    let fund = fund.transfer.clone().sign(&key(1));
    if !synod_core::crypto::is_signing_key(&p.account()) {
        n.expect_tx_rejected(&to_json(&fund), 400, "invalid_receiver").await;
    }
    let other = Policy { threshold: 1, ..p.clone() };
    n.expect_tx_rejected(&to_json(&fund.clone().to_policy(other)), 400, "receiver_policy_mismatch").await;
    let zero = Policy { threshold: 0, ..p.clone() };
    n.expect_tx_rejected(&to_json(&fund.clone().to_policy(zero)), 400, "invalid_policy").await;
    n.commit(&fund.clone().to_policy(p.clone())).await;
    assert_eq!(n.account(&p.account()).await.balance, 300);

    // Every rejection of a spend, with its status; none changes the ledger.
    let cases: Vec<(SignedTransfer, u16, &str)> = vec![
        (multisigned(&p, spend(&p, 4, 10, 0), &[1]), 403, "too_few_signatures"),
        (multisigned(&p, spend(&p, 4, 10, 0), &[0, 3]), 403, "unknown_signer"),
        (multisigned(&p, spend(&p, 4, 10, 0), &[2, 2]), 403, "duplicate_signer"),
        (multisigned(&p, spend(&p, 4, 10, 0), &[2, 0]), 403, "signers_out_of_order"),
        (
            {
                let mut t = multisigned(&p, spend(&p, 4, 10, 0), &[0, 1]);
                t.multisig.as_mut().unwrap().signatures[1].signature[7] ^= 1;
                t
            },
            403,
            "bad_multisig_signature",
        ),
        (
            {
                let mut t = multisigned(&p, spend(&p, 4, 10, 0), &[0, 1]);
                t.multisig.as_mut().unwrap().signatures[0].signature =
                    malleate(&t.multisig.as_ref().unwrap().signatures[0].signature);
                t
            },
            403,
            "bad_multisig_signature",
        ),
        (
            {
                let mut t = multisigned(&p, spend(&p, 4, 10, 0), &[0, 1]);
                t.multisig.as_mut().unwrap().threshold = 1;
                t
            },
            403,
            "policy_mismatch",
        ),
        (
            {
                let mut t = multisigned(&p, spend(&p, 4, 10, 0), &[0, 1]);
                t.multisig.as_mut().unwrap().keys.swap(0, 1);
                t
            },
            400,
            "invalid_policy",
        ),
        (multisigned(&p, spend(&p, 4, 10, 5), &[0, 1]), 409, "bad_nonce"),
        (multisigned(&p, spend(&p, 4, 301, 0), &[0, 1]), 422, "insufficient_funds"),
    ];
    for (tx, status, code) in &cases {
        let err = n.expect_tx_rejected(&to_json(tx), *status, code).await;
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{err}");
    }
    // A signature and a multi-signature together is not a valid transfer JSON.
    let mut both = to_json(&multisigned(&p, spend(&p, 4, 10, 0), &[0, 1]));
    both["signature"] = Value::String(hex::encode([1u8; 64]));
    n.expect_rejected("/v1/transfers", bytes(&both), 400, "invalid_field").await;
    let mut unknown = to_json(&multisigned(&p, spend(&p, 4, 10, 0), &[0, 1]));
    unknown["multisig"]["signatures"][0]["weight"] = 1.into();
    n.expect_rejected("/v1/transfers", bytes(&unknown), 400, "invalid_field").await;

    // Two signers spend; in a batch with a single-key transfer.
    let good = multisigned(&p, spend(&p, 4, 100, 0), &[0, 2]);
    let r = n.submit_raw(batch_body(&[good.clone(), signed(2, 3, 1, 0)])).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let results = r.json()["results"].clone();
    assert_eq!(results[0]["status"], "committed", "{results}");
    assert_eq!(results[1]["status"], "committed", "{results}");
    assert_eq!(n.account(&p.account()).await.balance, 200);
    assert_eq!(n.account(&p.account()).await.nonce, 1);
    assert_eq!(n.balance(4).await, 100);
    // Idempotent, and the stored transfer keeps its signatures.
    let again = n.submit_raw(bytes(&to_json(&good))).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["duplicate"], true);
    let shown = n.wait_visible(&good.id().to_string()).await;
    let back: SignedTransfer = serde_json::from_value(shown["transfer"].clone()).unwrap();
    assert_eq!(back, good);

    // After a restart the blocks are read back; balances and nonces stand.
    let n = n.restart().await;
    assert_eq!(n.account(&p.account()).await.balance, 200);
    assert_eq!(n.account(&p.account()).await.nonce, 1);
    n.commit(&multisigned(&p, spend(&p, 4, 1, 1), &[1, 2])).await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genesis_funded_policy_spends_and_the_genesis_shows_its_policy() {
    let p = policy();
    let mut g = genesis(AuthMode::Ed25519, 2, EACH);
    g.allocations.push(Allocation::to_policy(p.clone(), 77));
    g.allocations.sort_by_key(|a| a.account);
    let n = TestNode::start(g).await;
    let shown = n.get("/v1/genesis").await.json();
    let listed = shown["genesis"]["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == p.account().to_string())
        .cloned()
        .unwrap();
    assert_eq!(listed["policy"]["threshold"], 2, "{listed}");
    n.commit(&multisigned(&p, spend(&p, 1, 7, 0), &[0, 1, 2])).await;
    assert_eq!(n.account(&p.account()).await.balance, 70);
    n.shutdown().await;
}
