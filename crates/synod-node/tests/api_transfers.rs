//! Submitting transfers: commits, idempotency, batches, `wait=false`, conservation under
//! concurrency, and trusted-client mode.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, SignedTransfer, Transfer};
use synod_node::api::types::{BatchReceipt, BlockInfo, TransferReceipt, TransferStatus};
use synod_node::ClientError;

fn assert_committed(rc: &TransferReceipt, tx: &SignedTransfer, duplicate: bool) {
    assert_eq!(rc.id, tx.id().to_string());
    assert_eq!(rc.status, "committed", "{rc:?}");
    assert!(rc.height.is_some() && rc.index_in_block.is_some() && rc.ledger_index.is_some(), "{rc:?}");
    assert_eq!(rc.duplicate, duplicate, "{rc:?}");
    assert_eq!((&rc.code, &rc.message), (&None, &None), "{rc:?}");
}

fn assert_rejected(rc: &TransferReceipt, tx: &SignedTransfer, code: &str) {
    assert_eq!(rc.id, tx.id().to_string());
    assert_eq!(rc.status, "rejected", "{rc:?}");
    assert_eq!(rc.code.as_deref(), Some(code), "{rc:?}");
    assert!(rc.message.as_deref().is_some_and(|m| !m.is_empty()), "{rc:?}");
    assert_eq!((rc.height, rc.index_in_block, rc.ledger_index, rc.duplicate), (None, None, None, false), "{rc:?}");
}

const TRANSFER_FIELDS: [&str; 8] = ["chain_id", "from", "to", "amount", "fee", "nonce", "memo", "signature"];

fn assert_eight_fields(v: &Value) {
    let obj = v.as_object().unwrap_or_else(|| panic!("transfer object: {v}"));
    for f in TRANSFER_FIELDS {
        assert!(obj.contains_key(f), "transfer JSON lacks {f}: {v}");
    }
}

fn position(rc: &TransferReceipt) -> (Option<u64>, Option<u32>, Option<u64>) {
    (rc.height, rc.index_in_block, rc.ledger_index)
}

async fn submit_batch(n: &TestNode, query: &str, txs: &[SignedTransfer], status: u16) -> Vec<TransferReceipt> {
    let r = n.post(&format!("/v1/transfers{query}"), batch_body(txs)).await;
    assert_eq!(r.status, status, "{}", r.text());
    let b: BatchReceipt = r.parse();
    assert_eq!(b.results.len(), txs.len(), "one receipt per transfer");
    b.results
}

fn bad_sig(tx: SignedTransfer) -> SignedTransfer {
    let mut sig = tx.signature.expect("signed");
    sig[0] ^= 1;
    SignedTransfer { signature: Some(sig), ..tx }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_transfer_commits_moves_balances_and_bumps_the_nonce() {
    let n = TestNode::start_default().await;
    let genesis_head = n.head().await;
    assert_eq!((genesis_head.header.height, genesis_head.header.ledger_size), (0, 0));

    let tx = signed(1, 2, 250, 0);
    let r = n.submit_raw(bytes(&to_json(&tx))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let raw = r.json();
    assert_eq!(raw["status"], "committed");
    assert_eq!(raw["duplicate"], false);
    let rc: TransferReceipt = r.parse();
    assert_eq!(
        rc,
        TransferReceipt {
            id: tx.id().to_string(),
            status: "committed".into(),
            height: Some(1),
            index_in_block: Some(0),
            ledger_index: Some(0),
            duplicate: false,
            code: None,
            message: None,
        }
    );
    let a1 = n.account(&acct(1)).await;
    let a2 = n.account(&acct(2)).await;
    assert_eq!((a1.balance, a1.nonce), (EACH - 250, 1));
    assert_eq!((a2.balance, a2.nonce), (EACH + 250, 0));
    for k in 3..=5 {
        assert_eq!(n.balance(k).await, EACH);
    }

    let head = n.head().await;
    assert_eq!((head.header.height, head.header.ledger_size, head.header.tx_count), (1, 1, 1));
    assert_eq!(head.header.prev_hash, genesis_head.hash.0);
    assert_eq!(head.hash, head.header.hash(), "the head hash is the header's hash");

    let st: TransferStatus = n.get(&format!("/v1/transfers/{}", tx.id())).await.parse();
    assert_eq!((st.status.as_str(), st.height, st.index_in_block, st.ledger_index), ("committed", 1, 0, 0));
    assert_eq!(st.id, tx.id().to_string());
    assert_eq!(st.transfer, tx);
    assert_eq!(st.block_hash, head.hash.to_string());
    assert!(st.proof.is_none());
    // Responses carry all eight transfer fields, `memo` as "" when empty.
    let raw_st = n.get(&format!("/v1/transfers/{}", tx.id())).await.json();
    assert_eight_fields(&raw_st["transfer"]);
    assert_eq!(raw_st["transfer"]["memo"], "");
    assert_eq!(raw_st["transfer"]["signature"], hex::encode(tx.signature.unwrap()));
    // Upper-case hex names the same transfer.
    let upper: TransferStatus = n.get(&format!("/v1/transfers/{}", tx.id().to_string().to_uppercase())).await.parse();
    assert_eq!(upper.id, tx.id().to_string());

    let raw_block = n.get("/v1/blocks/1").await.json();
    assert_eight_fields(&raw_block["transfers"][0]);
    let block: BlockInfo = n.get("/v1/blocks/1").await.parse();
    assert_eq!(block.hash, head.hash);
    assert_eq!(block.header, head.header);
    assert_eq!(block.transfers.len(), 1);
    assert_eq!(block.transfers[0].id, tx.id().to_string());
    assert_eq!(block.transfers[0].transfer, tx);

    // The whole remaining balance, with a full 64-byte memo, to an account that did not exist.
    let all_in = Transfer { memo: vec![0xee; 64], ..transfer(1, UNFUNDED, EACH - 250, 1) }.sign(&key(1));
    let rc = n.commit(&all_in).await;
    assert_eq!(position(&rc), (Some(2), Some(0), Some(1)));
    assert_eq!((n.balance(1).await, n.nonce(1).await), (0, 2));
    assert_eq!(n.balance(UNFUNDED).await, EACH - 250);
    let st: TransferStatus = n.get(&format!("/v1/transfers/{}", all_in.id())).await.parse();
    assert_eq!(st.transfer.transfer.memo, vec![0xee; 64]);
    // The new account can spend what it received.
    n.commit(&signed(UNFUNDED, 3, 100, 0)).await;
    assert_eq!(n.balance(3).await, EACH + 100);

    let status = n.status().await;
    assert_eq!((status.height, status.ledger_size), (3, 3));
    assert_eq!((status.blocks_committed_since_start, status.transfers_committed_since_start), (3, 3));
    assert_eq!(status.accounts, 6);
    assert_eq!(status.chain_id, CHAIN);
    assert_eq!(status.auth, AuthMode::Ed25519);
    assert!(!status.halted);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubmitting_a_committed_transfer_is_idempotent() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 100, 0);
    let first = n.commit(&tx).await;
    assert_committed(&first, &tx, false);
    let after_first = n.snapshot().await;

    let second = n.commit(&tx).await;
    assert_committed(&second, &tx, true);
    assert_eq!(position(&second), position(&first));
    assert_eq!(n.snapshot().await, after_first, "a duplicate changes nothing (no block, no balance)");

    // Still a duplicate after the sender has moved on.
    n.commit(&signed(1, 2, 100, 1)).await;
    let third = n.commit(&tx).await;
    assert_committed(&third, &tx, true);
    assert_eq!(position(&third), position(&first));

    // And inside a batch, next to a new transfer.
    let next = signed(1, 3, 5, 2);
    let rs = submit_batch(&n, "", &[tx.clone(), next.clone()], 200).await;
    assert_committed(&rs[0], &tx, true);
    assert_eq!(position(&rs[0]), position(&first));
    assert_committed(&rs[1], &next, false);
    assert_eq!(rs[1].ledger_index, Some(2));

    // With wait=false the duplicate is queued and changes nothing either.
    let before = n.snapshot().await;
    let rs = submit_batch(&n, "?wait=false", std::slice::from_ref(&tx), 202).await;
    assert_eq!(rs[0].status, "pending");
    n.commit(&signed(4, 5, 1, 0)).await; // queued behind the duplicate, so it was decided first
    let after = n.snapshot().await;
    assert_eq!(after.ledger_size, before.ledger_size + 1);

    assert_eq!(n.balance(1).await, EACH - 205);
    assert_eq!(n.nonce(1).await, 3);
    assert_eq!(n.balance(2).await, EACH + 200);
    assert_eq!(n.balance(3).await, EACH + 5);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_of_one_transfer_commit_it_once() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 100, 0);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, tx) = (n.client.clone(), tx.clone());
            tokio::spawn(async move { client.submit(&tx).await.expect("submission answered") })
        })
        .collect();
    let mut receipts = Vec::new();
    for t in tasks {
        receipts.push(t.await.expect("task"));
    }
    assert_eq!(receipts.iter().filter(|rc| !rc.duplicate).count(), 1, "exactly one first commit: {receipts:?}");
    for rc in &receipts {
        assert_committed(rc, &tx, rc.duplicate);
        assert_eq!(position(rc), (Some(1), Some(0), Some(0)));
    }
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 100, 1));
    assert_eq!(n.balance(2).await, EACH + 100);
    let status = n.status().await;
    assert_eq!((status.height, status.ledger_size), (1, 1));
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_copies_in_one_batch_commit_once() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 100, 0);
    let rs = submit_batch(&n, "", &[tx.clone(), tx.clone()], 200).await;
    assert_committed(&rs[0], &tx, false);
    assert_committed(&rs[1], &tx, true);
    assert_eq!(position(&rs[0]), position(&rs[1]));
    assert_eq!(position(&rs[0]), (Some(1), Some(0), Some(0)));
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 100, 1));
    assert_eq!(n.balance(2).await, EACH + 100);
    assert_eq!(n.status().await.ledger_size, 1);

    // Copies around a following transfer: the follower takes the next slot.
    let a = signed(1, 3, 10, 1);
    let b = signed(1, 3, 10, 2);
    let rs = submit_batch(&n, "", &[a.clone(), a.clone(), b.clone(), a.clone(), b.clone()], 200).await;
    assert_committed(&rs[0], &a, false);
    assert_committed(&rs[1], &a, true);
    assert_committed(&rs[2], &b, false);
    assert_committed(&rs[3], &a, true);
    assert_committed(&rs[4], &b, true);
    assert_eq!(position(&rs[0]), (Some(2), Some(0), Some(1)));
    assert_eq!(position(&rs[2]), (Some(2), Some(1), Some(2)));
    assert_eq!(position(&rs[1]), position(&rs[0]));
    assert_eq!(position(&rs[3]), position(&rs[0]));
    assert_eq!(position(&rs[4]), position(&rs[2]));
    let block: BlockInfo = n.get("/v1/blocks/2").await.parse();
    assert_eq!(block.header.tx_count, 2);
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 120, 3));
    assert_eq!(n.balance(3).await, EACH + 20);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_mixing_valid_and_invalid_reports_each_in_order_and_applies_only_the_valid() {
    let n = TestNode::start_default().await;
    let before = n.snapshot().await;
    let bogus = invalid_point();
    let bogus_tx = {
        let t = Transfer { from: bogus, ..transfer(1, 2, 10, 0) };
        let sig = key(1).sign(&t.signing_bytes());
        SignedTransfer { multisig: None, to_policy: None, transfer: t, signature: Some(sig) }
    };
    let items: Vec<(SignedTransfer, Option<&str>)> = vec![
        (signed(1, 2, 100, 0), None),
        (bad_sig(signed(1, 2, 5, 1)), Some("bad_signature")),
        (signed(1, 2, 100, 1), None),
        (signed(3, 2, 10, 5), Some("bad_nonce")),
        (signed(1, 2, 0, 2), Some("zero_amount")),
        (signed(4, 2, EACH + 1, 0), Some("insufficient_funds")),
        (sign_with(Transfer { chain_id: CHAIN + 1, ..transfer(5, 2, 10, 0) }, 5), Some("wrong_chain")),
        (SignedTransfer::unsigned(transfer(5, 2, 10, 0)), Some("missing_signature")),
        (sign_with(Transfer { fee: 1, ..transfer(5, 2, 10, 0) }, 5), Some("fee_not_allowed")),
        // Only affordable thanks to the two credits earlier in this same batch.
        (signed(2, UNFUNDED, EACH + 150, 0), None),
        // Spends what the previous item just credited.
        (signed(UNFUNDED, 3, EACH, 0), None),
        (signed(1, 1, 5, 2), Some("self_transfer")),
        (bogus_tx, Some("invalid_public_key")),
        (signed(1, 2, 100, 2), None),
    ];
    let txs: Vec<SignedTransfer> = items.iter().map(|(t, _)| t.clone()).collect();
    let rs = submit_batch(&n, "", &txs, 200).await;
    let mut slot = 0u32;
    for (i, ((tx, expect), rc)) in items.iter().zip(&rs).enumerate() {
        match expect {
            None => {
                assert_committed(rc, tx, false);
                assert_eq!(position(rc), (Some(1), Some(slot), Some(slot as u64)), "item {i}");
                slot += 1;
            }
            Some(code) => assert_rejected(rc, tx, code),
        }
    }
    assert_eq!(slot, 5);
    let block: BlockInfo = n.get("/v1/blocks/1").await.parse();
    let valid_ids: Vec<String> = items.iter().filter(|(_, e)| e.is_none()).map(|(t, _)| t.id().to_string()).collect();
    assert_eq!(block.transfers.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), valid_ids);

    let expected = [
        (1, EACH - 300, 3),
        (2, EACH + 300 - (EACH + 150), 1),
        (3, EACH + EACH, 0),
        (4, EACH, 0),
        (5, EACH, 0),
        (UNFUNDED, 150, 1),
    ];
    let mut total = 0;
    for (k, balance, nonce) in expected {
        let a = n.account(&acct(k)).await;
        assert_eq!((a.balance, a.nonce), (balance, nonce), "account {k}");
        total += a.balance;
    }
    assert_eq!(total, 5 * EACH);
    assert_eq!(n.status().await.ledger_size, 5);

    // A batch in which nothing is valid commits no block at all.
    let after = n.snapshot().await;
    assert_ne!(after, before);
    let nothing = [signed(1, 2, 5, 0), bad_sig(signed(4, 2, 5, 0)), signed(5, 2, EACH + 1, 0)];
    let rs = submit_batch(&n, "", &nothing, 200).await;
    assert_rejected(&rs[0], &nothing[0], "bad_nonce");
    assert_rejected(&rs[1], &nothing[1], "bad_signature");
    assert_rejected(&rs[2], &nothing[2], "insufficient_funds");
    assert_eq!(n.snapshot().await, after);
    n.shutdown().await;
}

/// Over 16 transfers the server verifies on a blocking thread; results must still line up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_batch_mixing_valid_and_invalid_keeps_order() {
    let n = TestNode::start_default().await;
    let mut items: Vec<(SignedTransfer, Option<&str>)> = Vec::new();
    let mut nonce = 0;
    for i in 0..40u64 {
        if i % 4 == 3 {
            items.push(match (i / 4) % 4 {
                0 => (bad_sig(signed(2, 3, 1, 0)), Some("bad_signature")),
                1 => (signed(3, 2, 1, 7 + i), Some("bad_nonce")),
                2 => (signed(4, 2, 0, 0), Some("zero_amount")),
                _ => (signed(5, 2, EACH + i, 0), Some("insufficient_funds")),
            });
        } else {
            items.push((signed(1, 2, i + 1, nonce), None));
            nonce += 1;
        }
    }
    let txs: Vec<SignedTransfer> = items.iter().map(|(t, _)| t.clone()).collect();
    let rs = submit_batch(&n, "", &txs, 200).await;
    let mut slot = 0u64;
    let mut moved = 0;
    for ((tx, expect), rc) in items.iter().zip(&rs) {
        match expect {
            None => {
                assert_committed(rc, tx, false);
                assert_eq!(rc.ledger_index, Some(slot));
                slot += 1;
                moved += tx.transfer.amount;
            }
            Some(code) => assert_rejected(rc, tx, code),
        }
    }
    assert_eq!(slot, 30);
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - moved, 30));
    assert_eq!(n.balance(2).await, EACH + moved);
    for k in 3..=5 {
        let a = n.account(&acct(k)).await;
        assert_eq!((a.balance, a.nonce), (EACH, 0));
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_nonces_0_to_99_in_one_batch_all_commit() {
    let n = TestNode::start_default().await;
    let txs: Vec<SignedTransfer> = (0..100).map(|nonce| signed(1, 2 + (nonce % 4) as u8, 1, nonce)).collect();
    let rs = submit_batch(&n, "", &txs, 200).await;
    for (i, (rc, tx)) in rs.iter().zip(&txs).enumerate() {
        assert_committed(rc, tx, false);
        assert_eq!(position(rc), (Some(1), Some(i as u32), Some(i as u64)));
    }
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 100, 100));
    for k in 2..=5 {
        assert_eq!(n.balance(k).await, EACH + 25);
    }
    let status = n.status().await;
    assert_eq!((status.height, status.ledger_size), (1, 100));
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_false_returns_202_pending_and_the_transfer_becomes_visible() {
    let n = TestNode::start_default().await;
    // Single transfer.
    let tx = signed(1, 2, 10, 0);
    let r = n.post("/v1/transfers?wait=false", bytes(&to_json(&tx))).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let b: BatchReceipt = r.parse();
    assert_eq!(b.results.len(), 1);
    let p = &b.results[0];
    assert_eq!((p.id.as_str(), p.status.as_str()), (tx.id().to_string().as_str(), "pending"));
    assert_eq!((p.height, p.index_in_block, p.ledger_index, p.duplicate, &p.code), (None, None, None, false, &None));
    let seen = n.wait_visible(&tx.id().to_string()).await;
    assert_eq!(seen["status"], "committed");
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 10, 1));

    // A batch: stateless rejections are reported at once, the rest is pending.
    let a = signed(1, 2, 10, 1);
    let bad = bad_sig(signed(3, 2, 10, 0));
    let c = signed(1, 2, 10, 2);
    let rs = submit_batch(&n, "?wait=false", &[a.clone(), bad.clone(), c.clone()], 202).await;
    assert_eq!(rs[0].status, "pending");
    assert_rejected(&rs[1], &bad, "bad_signature");
    assert_eq!(rs[2].status, "pending");
    assert_eq!(rs[2].id, c.id().to_string());
    n.wait_visible(&a.id().to_string()).await;
    n.wait_visible(&c.id().to_string()).await;
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 30, 3));
    assert_eq!(n.nonce(3).await, 0);

    // One the committer will refuse: pending now, never visible. A synchronous transfer queued after
    // it proves it has been decided.
    let doomed = signed(4, 2, 10, 5);
    let rs = submit_batch(&n, "?wait=false", std::slice::from_ref(&doomed), 202).await;
    assert_eq!(rs[0].status, "pending");
    n.commit(&signed(4, 2, 10, 0)).await;
    n.get(&format!("/v1/transfers/{}", doomed.id())).await.assert_error(404, "not_found");
    assert_eq!((n.balance(4).await, n.nonce(4).await), (EACH - 10, 1));

    // wait=true is the default, also when spelled out.
    let r = n.post("/v1/transfers?wait=true", bytes(&to_json(&signed(5, 2, 1, 0)))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_false_batch_with_nothing_valid_still_answers_202() {
    let n = TestNode::start_default().await;
    let before = n.snapshot().await;
    let bad = [bad_sig(signed(1, 2, 1, 0)), signed(1, 2, 0, 0)];
    let rs = submit_batch(&n, "?wait=false", &bad, 202).await;
    assert_rejected(&rs[0], &bad[0], "bad_signature");
    assert_rejected(&rs[1], &bad[1], "zero_amount");
    assert_eq!(n.snapshot().await, before);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_false_single_refused_up_front_answers_202_with_a_rejected_receipt() {
    let n = TestNode::start_default().await;
    let before = n.snapshot().await;
    let bad = bad_sig(signed(1, 2, 1, 0));
    let r = n.post("/v1/transfers?wait=false", bytes(&to_json(&bad))).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let b: BatchReceipt = r.parse();
    assert_rejected(&b.results[0], &bad, "bad_signature");
    assert_eq!(n.snapshot().await, before);
    n.shutdown().await;
}

/// What one concurrent sender saw.
struct SenderLog {
    sender: u8,
    /// Committed (not duplicate) transfers, with their receipts.
    committed: Vec<(SignedTransfer, TransferReceipt)>,
}

async fn random_sender(client: synod_node::Client, sender: u8, attempts: usize) -> SenderLog {
    let mut rng = StdRng::seed_from_u64(0x5e7d + sender as u64);
    let mut nonce = 0u64;
    let mut log = SenderLog { sender, committed: Vec::new() };
    let mut attempted = 0;
    let receiver = |rng: &mut StdRng| loop {
        let to = rng.gen_range(1..=5u8);
        if to != sender {
            break to;
        }
    };
    while attempted < attempts {
        match rng.gen_range(0..10) {
            0..=5 => {
                let tx = signed(sender, receiver(&mut rng), rng.gen_range(1..=400), nonce);
                attempted += 1;
                match client.submit(&tx).await {
                    Ok(rc) => {
                        assert_committed(&rc, &tx, false);
                        nonce += 1;
                        log.committed.push((tx, rc));
                    }
                    Err(ClientError::Api { status: 422, body }) if body.code == "insufficient_funds" => {}
                    Err(e) => panic!("sender {sender}: unexpected error {e}"),
                }
            }
            6..=8 => {
                let k = rng.gen_range(2..=5u64);
                let txs: Vec<SignedTransfer> =
                    (0..k).map(|j| signed(sender, receiver(&mut rng), rng.gen_range(1..=300), nonce + j)).collect();
                attempted += txs.len();
                let b = client.submit_batch(&txs).await.expect("batch answered");
                assert_eq!(b.results.len(), txs.len());
                // Committed ones form a prefix; a shortfall stops the chain, the rest have the wrong nonce.
                let prefix = b.results.iter().take_while(|r| r.status == "committed").count();
                for (rc, tx) in b.results.iter().zip(&txs).take(prefix) {
                    assert_committed(rc, tx, false);
                    log.committed.push((tx.clone(), rc.clone()));
                }
                if prefix < txs.len() {
                    assert_rejected(&b.results[prefix], &txs[prefix], "insufficient_funds");
                    for (rc, tx) in b.results.iter().zip(&txs).skip(prefix + 1) {
                        assert_rejected(rc, tx, "bad_nonce");
                    }
                }
                nonce += prefix as u64;
            }
            _ => {
                if let Some((tx, first)) = log.committed.last() {
                    let rc = client.submit(tx).await.expect("resubmission answered");
                    assert_committed(&rc, tx, true);
                    assert_eq!(position(&rc), position(first));
                }
            }
        }
    }
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_random_transfers_conserve_the_supply() {
    let n = TestNode::start_default().await;
    let supply: u64 = n.genesis.allocations.iter().map(|a| a.amount).sum();
    let tasks: Vec<_> = (1..=5u8).map(|sender| tokio::spawn(random_sender(n.client.clone(), sender, 60))).collect();
    let mut logs = Vec::new();
    for t in tasks {
        logs.push(t.await.expect("sender task"));
    }

    let committed: usize = logs.iter().map(|l| l.committed.len()).sum();
    assert!(committed > 50, "the run should commit a good share of its transfers; got {committed}");
    let status = n.status().await;
    assert_eq!(status.ledger_size, committed as u64, "ledger size equals the committed receipts");
    assert_eq!(status.transfers_committed_since_start, committed as u64);
    assert_eq!(status.accounts, 5);

    // Every receipt names a distinct ledger index, and together they cover 0..committed.
    let indices: BTreeSet<u64> =
        logs.iter().flat_map(|l| l.committed.iter().map(|(_, rc)| rc.ledger_index.unwrap())).collect();
    assert_eq!(indices, (0..committed as u64).collect());

    // Balances: conserved in total, and each exactly what the committed receipts imply.
    let mut expected: BTreeMap<u8, i128> = (1..=5u8).map(|k| (k, EACH as i128)).collect();
    for l in &logs {
        for (tx, _) in &l.committed {
            let to = (1..=5u8).find(|&k| acct(k) == tx.transfer.to).unwrap();
            *expected.get_mut(&l.sender).unwrap() -= tx.transfer.amount as i128;
            *expected.get_mut(&to).unwrap() += tx.transfer.amount as i128;
        }
    }
    let mut total = 0u64;
    for l in &logs {
        let a = n.account(&acct(l.sender)).await;
        assert_eq!(a.nonce, l.committed.len() as u64, "sender {} nonce", l.sender);
        assert_eq!(a.balance as i128, expected[&l.sender], "sender {} balance", l.sender);
        total += a.balance;
    }
    assert_eq!(total, supply, "conservation of supply");

    // The blocks hold exactly the committed transfers, each where its receipt said.
    let mut by_id: BTreeMap<String, &TransferReceipt> = BTreeMap::new();
    for l in &logs {
        for (tx, rc) in &l.committed {
            assert!(by_id.insert(tx.id().to_string(), rc).is_none(), "transfer committed twice");
        }
    }
    let mut seen = 0u64;
    for h in 1..=status.height {
        let b: BlockInfo = n.get(&format!("/v1/blocks/{h}")).await.parse();
        assert_eq!(b.header.tx_count as usize, b.transfers.len());
        for (i, t) in b.transfers.iter().enumerate() {
            let rc = by_id.get(&t.id).unwrap_or_else(|| panic!("block {h} holds an unreported transfer"));
            assert_eq!(position(rc), (Some(h), Some(i as u32), Some(seen)));
            seen += 1;
        }
        assert_eq!(b.header.ledger_size, seen);
    }
    assert_eq!(seen, committed as u64);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_mode_commits_unsigned_transfers_but_still_checks_present_signatures() {
    let bogus = invalid_point();
    let mut g = genesis(AuthMode::None, 3, EACH);
    g.allocations.push(Allocation { account: bogus, amount: EACH, policy: None });
    g.allocations.sort_by_key(|a| a.account);
    let mut n = TestNode::start(g).await;
    n.watched.push(bogus);
    assert_eq!(n.status().await.auth, AuthMode::None);

    // Omitted and explicit-null signatures both commit.
    let unsigned = SignedTransfer::unsigned(transfer(1, 2, 10, 0));
    let mut v = to_json(&unsigned);
    v.as_object_mut().unwrap().remove("signature");
    let r = n.submit_raw(bytes(&v)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_committed(&r.parse(), &unsigned, false);
    let null_sig = SignedTransfer::unsigned(transfer(1, 2, 10, 1));
    assert_eq!(to_json(&null_sig)["signature"], Value::Null);
    n.commit(&null_sig).await;
    // A correct signature is fine too.
    n.commit(&signed(1, 2, 10, 2)).await;
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 30, 3));
    let raw = n.get(&format!("/v1/transfers/{}", unsigned.id())).await.json();
    assert_eight_fields(&raw["transfer"]);
    assert_eq!(raw["transfer"]["signature"], Value::Null, "an absent signature is null in responses");
    let st: TransferStatus = n.get(&format!("/v1/transfers/{}?proof=true", unsigned.id())).await.parse();
    assert_eq!(st.transfer.signature, None);
    st.proof.expect("proof").verify().expect("the unsigned transfer's inclusion proof verifies");

    // A signature that is present must verify.
    let good = signed(1, 2, 10, 3);
    let sig = good.signature.unwrap();
    for bad in [
        bad_sig(good.clone()),
        SignedTransfer { signature: Some(malleate(&sig)), ..good.clone() },
        SignedTransfer { signature: Some(key(2).sign(&good.transfer.signing_bytes())), ..good.clone() },
        SignedTransfer { signature: Some([0; 64]), ..good.clone() },
    ] {
        n.expect_tx_rejected(&to_json(&bad), 403, "bad_signature").await;
    }
    // Account ids are opaque here: one that is no curve point can send unsigned...
    n.commit(&SignedTransfer::unsigned(Transfer { from: bogus, ..transfer(1, 3, 10, 0) })).await;
    assert_eq!(n.account(&bogus).await.balance, EACH - 10);
    // ...but not with a signature, which cannot verify.
    let t = Transfer { from: bogus, ..transfer(1, 3, 10, 1) };
    let signed_bogus = SignedTransfer {
        multisig: None,
        to_policy: None,
        signature: Some(key(1).sign(&t.signing_bytes())),
        transfer: t,
    };
    n.expect_tx_rejected(&to_json(&signed_bogus), 403, "invalid_public_key").await;
    // The other rules still apply to unsigned transfers.
    let unsigned_json = |t: Transfer| to_json(&SignedTransfer::unsigned(t));
    n.expect_tx_rejected(&unsigned_json(Transfer { chain_id: CHAIN + 1, ..transfer(2, 3, 1, 0) }), 400, "wrong_chain")
        .await;
    n.expect_rejected("/v1/transfers", bytes(&unsigned_json(transfer(2, 3, 0, 0))), 400, "zero_amount").await;
    n.expect_tx_rejected(&unsigned_json(transfer(2, 3, 1, 9)), 409, "bad_nonce").await;
    n.expect_tx_rejected(&unsigned_json(transfer(2, 3, 10 * EACH, 0)), 422, "insufficient_funds").await;
    // In a batch: per item.
    let ok = SignedTransfer::unsigned(transfer(2, 3, 5, 0));
    let rejected = bad_sig(signed(2, 3, 5, 1));
    let rs = submit_batch(&n, "", &[ok.clone(), rejected.clone()], 200).await;
    assert_committed(&rs[0], &ok, false);
    assert_rejected(&rs[1], &rejected, "bad_signature");
    assert_eq!((n.balance(2).await, n.nonce(2).await), (EACH + 30 - 5, 1));
    let r = n.submit_raw(bytes(&json!([to_json(&ok)]))).await;
    let b: BatchReceipt = r.parse();
    assert_committed(&b.results[0], &ok, true);
    n.shutdown().await;
}
