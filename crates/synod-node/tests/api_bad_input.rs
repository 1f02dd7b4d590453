//! Every kind of bad input gets its documented 4xx status and stable `code` in a JSON
//! `{code, message}` body, and leaves the ledger exactly as it was.

mod common;

use common::*;
use serde_json::{json, Value};
use synod_core::transfer::TRANSFER_DOMAIN;
use synod_core::{AuthMode, SignedTransfer, Transfer};
use synod_node::limits::{HTTP_BODY_BYTES_MAX, REQUEST_TRANSFERS_MAX};

fn with(tx: &SignedTransfer, field: &str, value: Value) -> Value {
    let mut v = to_json(tx);
    v[field] = value;
    v
}

fn without(tx: &SignedTransfer, field: &str) -> Value {
    let mut v = to_json(tx);
    v.as_object_mut().unwrap().remove(field).expect("field present");
    v
}

/// The signing bytes laid out by hand (docs/PROTOCOL.md 2.1), without the memo-length assertion of
/// `Transfer::signing_bytes`, so a test can sign a transfer whose memo is over the limit.
fn raw_signing_bytes(t: &Transfer) -> Vec<u8> {
    let mut b = TRANSFER_DOMAIN.to_vec();
    b.extend_from_slice(&t.chain_id.to_be_bytes());
    b.extend_from_slice(&t.from.0);
    b.extend_from_slice(&t.to.0);
    b.extend_from_slice(&t.amount.to_be_bytes());
    b.extend_from_slice(&t.fee.to_be_bytes());
    b.extend_from_slice(&t.nonce.to_be_bytes());
    b.push(t.memo.len() as u8);
    b.extend_from_slice(&t.memo);
    b
}

/// A correctly signed transfer JSON whose memo is `memo_len` bytes, and its id.
fn long_memo_transfer(from: u8, to: u8, nonce: u64, memo_len: usize) -> (Value, String) {
    let t = Transfer { memo: vec![0xab; memo_len], ..transfer(from, to, 10, nonce) };
    let raw = raw_signing_bytes(&t);
    let sig = key(from).sign(&raw);
    let v = json!({
        "chain_id": t.chain_id, "from": t.from.to_string(), "to": t.to.to_string(), "amount": t.amount,
        "fee": 0, "nonce": nonce, "memo": hex::encode(&t.memo), "signature": hex::encode(sig),
    });
    (v, hex::encode(synod_core::sha256(&raw)))
}

#[test]
fn raw_signing_bytes_match_the_core() {
    let t = Transfer { memo: b"hi".to_vec(), ..transfer(1, 2, 250, 3) };
    assert_eq!(raw_signing_bytes(&t), t.signing_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400_invalid_json() {
    let n = TestNode::start_default().await;
    let valid = String::from_utf8(bytes(&to_json(&signed(1, 2, 10, 0)))).unwrap();
    let mut non_utf8 = valid.clone().into_bytes();
    // Replace the memo's opening quote contents with a raw 0xff byte inside a string.
    let memo_at = valid.find("\"memo\":\"").expect("memo field") + "\"memo\":\"".len();
    non_utf8.insert(memo_at, 0xff);
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"   \n".to_vec(),
        b"{".to_vec(),
        b"[".to_vec(),
        b"{\"chain_id\": }".to_vec(),
        b"not json".to_vec(),
        format!("{valid} x").into_bytes(),
        format!("{valid}{valid}").into_bytes(),
        format!("[{valid}").into_bytes(),
        format!("[{valid},]").into_bytes(),
        valid.replacen('}', ",}", 1).into_bytes(),
        valid.as_bytes()[..valid.len() - 1].to_vec(),
        non_utf8,
    ];
    for body in bodies {
        n.expect_rejected("/v1/transfers", body, 400, "invalid_json").await;
    }
    // JSON, but neither an object nor an array: a wrong type (PROTOCOL 6).
    for body in [&b"5"[..], b"\"a string\"", b"\"hello\"", b"null", b"true"] {
        n.expect_rejected("/v1/transfers", body.to_vec(), 400, "invalid_field").await;
    }
    // The same transfer, well formed, commits: the rejections above were about the encoding only.
    n.commit(&signed(1, 2, 10, 0)).await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_bad_hex_and_wrong_lengths_are_400_invalid_field() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 10, 0);
    let from_hex = tx.transfer.from.to_string();
    let to_hex = tx.transfer.to.to_string();
    let sig_hex = hex::encode(tx.signature.unwrap());
    let account_cases = |h: &str| -> Vec<Value> {
        vec![
            json!(5),
            json!(null),
            json!(["x"]),
            json!("zz".repeat(32)),
            json!(format!("{}g", &h[..63])),
            json!(&h[..62]),
            json!(&h[..63]),
            json!(format!("{h}00")),
            json!(""),
            json!(format!("0x{}", &h[..62])),
        ]
    };
    let mut cases: Vec<(&str, Value)> = Vec::new();
    for v in [json!("7"), json!(-1), json!(7.5), json!(null), json!(true)] {
        cases.push(("chain_id", v));
    }
    for v in account_cases(&from_hex) {
        cases.push(("from", v));
    }
    for v in account_cases(&to_hex) {
        cases.push(("to", v));
    }
    for v in [json!("10"), json!(-10), json!(10.5), json!(null), json!(1e30)] {
        cases.push(("amount", v));
    }
    // `null` for fee, memo and signature means omitted (PROTOCOL 6; see below).
    for v in [json!("0"), json!(-1), json!(0.5)] {
        cases.push(("fee", v));
    }
    for v in [json!("0"), json!(-1), json!(true), json!(null)] {
        cases.push(("nonce", v));
    }
    for v in [json!("zz"), json!("abc"), json!("0x00"), json!(5), json!([1, 2])] {
        cases.push(("memo", v));
    }
    for v in [
        json!("zz".repeat(64)),
        json!(&sig_hex[..126]),
        json!(&sig_hex[..127]),
        json!(format!("{sig_hex}00")),
        json!(""),
        json!(5),
        json!([1, 2]),
        json!({"r": "00"}),
    ] {
        cases.push(("signature", v));
    }
    for (field, value) in &cases {
        let body = with(&tx, field, value.clone());
        n.expect_rejected("/v1/transfers", bytes(&body), 400, "invalid_field").await;
        // One bad element makes the whole batch invalid: the valid element beside it is not applied.
        let batch = json!([to_json(&tx), body]);
        n.expect_rejected("/v1/transfers", bytes(&batch), 400, "invalid_field").await;
    }
    // Integers beyond u64 (written by hand: serde_json cannot build them).
    let text = String::from_utf8(bytes(&to_json(&tx))).unwrap();
    for (from, to) in [
        ("\"amount\":10", "\"amount\":18446744073709551616"),
        ("\"nonce\":0", "\"nonce\":18446744073709551616"),
        ("\"chain_id\":7", "\"chain_id\":18446744073709551623"),
        ("\"amount\":10", "\"amount\":10.0"),
    ] {
        let body = text.replacen(from, to, 1);
        assert_ne!(body, text);
        n.expect_rejected("/v1/transfers", body, 400, "invalid_field").await;
    }
    // Missing required fields.
    for field in ["chain_id", "from", "to", "amount", "nonce"] {
        n.expect_rejected("/v1/transfers", bytes(&without(&tx, field)), 400, "invalid_field").await;
    }
    // Non-object batch elements.
    for body in [json!([5]), json!([null]), json!([to_json(&tx), "x"]), json!([[to_json(&tx)]])] {
        n.expect_rejected("/v1/transfers", bytes(&body), 400, "invalid_field").await;
    }
    // Optional fields may be omitted, and the untouched transfer still commits with nonce 0.
    let mut minimal = to_json(&tx);
    minimal.as_object_mut().unwrap().remove("fee");
    minimal.as_object_mut().unwrap().remove("memo");
    let r = n.submit_raw(bytes(&minimal)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(n.nonce(1).await, 1);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_duplicate_fields_are_400_invalid_field() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 10, 0);
    for (field, value) in [
        ("extra", json!(1)),
        ("id", json!(tx.id().to_string())),
        ("Signature", json!(hex::encode(tx.signature.unwrap()))),
        ("amounts", json!(10)),
        ("", json!(null)),
    ] {
        let body = with(&tx, field, value);
        n.expect_rejected("/v1/transfers", bytes(&body), 400, "invalid_field").await;
        n.expect_rejected("/v1/transfers", bytes(&json!([body])), 400, "invalid_field").await;
    }
    // A misspelt field name instead of the right one.
    let mut misspelt = without(&tx, "signature");
    misspelt["sig"] = json!(hex::encode(tx.signature.unwrap()));
    n.expect_rejected("/v1/transfers", bytes(&misspelt), 400, "invalid_field").await;
    // A field given twice is ambiguous and must not be resolved silently.
    let text = String::from_utf8(bytes(&to_json(&tx))).unwrap();
    let twice = text.replacen("\"amount\":10", "\"amount\":10,\"amount\":1000", 1);
    assert_ne!(twice, text);
    n.expect_rejected("/v1/transfers", twice, 400, "invalid_field").await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_4_mib_is_413_and_exactly_4_mib_is_accepted() {
    let n = TestNode::start_default().await;
    let tx = bytes(&to_json(&signed(1, 2, 10, 0)));
    let padded = |total: usize, open: &[u8], close: &[u8]| -> Vec<u8> {
        let mut b = open.to_vec();
        b.extend_from_slice(&tx);
        b.extend_from_slice(close);
        b.resize(total, b' ');
        b
    };
    // Valid JSON (a transfer plus whitespace) one byte over the limit: refused by size alone.
    n.expect_rejected("/v1/transfers", padded(HTTP_BODY_BYTES_MAX + 1, b"", b""), 413, "body_too_large").await;
    n.expect_rejected("/v1/transfers", padded(HTTP_BODY_BYTES_MAX + 1, b"[", b"]"), 413, "body_too_large").await;
    n.expect_rejected("/v1/transfers", padded(HTTP_BODY_BYTES_MAX + 4096, b"", b""), 413, "body_too_large").await;
    // Exactly at the limit is fine.
    let r = n.submit_raw(padded(HTTP_BODY_BYTES_MAX, b"", b"")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(n.nonce(1).await, 1);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_batch_is_400_empty_batch() {
    let n = TestNode::start_default().await;
    for body in ["[]", " [ ] ", "\n[\n]\n"] {
        n.expect_rejected("/v1/transfers", body, 400, "empty_batch").await;
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_of_8193_is_400_and_8192_with_full_memos_commits() {
    let n = TestNode::start(genesis(AuthMode::Ed25519, 2, 1_000_000)).await;
    let count = REQUEST_TRANSFERS_MAX + 1;
    assert_eq!(count, 8_193);
    let txs: Vec<SignedTransfer> = (0..count as u64)
        .map(|nonce| Transfer { memo: vec![0x5a; 64], ..transfer(1, 2, 1, nonce) }.sign(&key(1)))
        .collect();
    let body = batch_body(&txs);
    assert!(body.len() <= HTTP_BODY_BYTES_MAX, "the batch must be refused for its count, not its size");
    n.expect_rejected("/v1/transfers", body, 400, "batch_too_large").await;

    // The limit itself: 8,192 transfers with 64-byte memos fit in the body limit and all commit.
    let body = batch_body(&txs[..REQUEST_TRANSFERS_MAX]);
    assert!(body.len() <= HTTP_BODY_BYTES_MAX);
    let r = n.submit_raw(body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let receipts: synod_node::api::types::BatchReceipt = r.parse();
    assert_eq!(receipts.results.len(), REQUEST_TRANSFERS_MAX);
    for (i, (rc, tx)) in receipts.results.iter().zip(&txs).enumerate() {
        assert_eq!(rc.id, tx.id().to_string());
        assert_eq!(rc.status, "committed", "item {i}: {rc:?}");
        assert_eq!(rc.ledger_index, Some(i as u64));
    }
    assert_eq!(n.nonce(1).await, REQUEST_TRANSFERS_MAX as u64);
    assert_eq!(n.status().await.ledger_size, REQUEST_TRANSFERS_MAX as u64);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_are_403_bad_signature() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 10, 0);
    let sig = tx.signature.unwrap();

    let mut flipped = sig;
    flipped[5] ^= 0x01;
    let mut flipped_s = sig;
    flipped_s[40] ^= 0x80;
    let by_other_key = key(2).sign(&tx.transfer.signing_bytes());
    let cases: Vec<SignedTransfer> = vec![
        SignedTransfer { signature: Some(flipped), ..tx.clone() },
        SignedTransfer { signature: Some(flipped_s), ..tx.clone() },
        SignedTransfer { signature: Some([0; 64]), ..tx.clone() },
        SignedTransfer { signature: Some(by_other_key), ..tx.clone() },
        // Non-canonical S (S + L): accepted by lax verifiers, refused by strict verification.
        SignedTransfer { signature: Some(malleate(&sig)), ..tx.clone() },
        // Fields changed after signing.
        SignedTransfer {
            multisig: None,
            to_policy: None,
            transfer: Transfer { amount: 1_000, ..tx.transfer.clone() },
            signature: Some(sig),
        },
        SignedTransfer {
            multisig: None,
            to_policy: None,
            transfer: Transfer { to: acct(3), ..tx.transfer.clone() },
            signature: Some(sig),
        },
        SignedTransfer {
            multisig: None,
            to_policy: None,
            transfer: Transfer { memo: b"x".to_vec(), ..tx.transfer.clone() },
            signature: Some(sig),
        },
    ];
    for bad in &cases {
        n.expect_tx_rejected(&to_json(bad), 403, "bad_signature").await;
    }
    // None of them used up nonce 0: the genuine transfer commits.
    n.commit(&tx).await;
    // A mauled signature on the committed transfer is still refused (not reported as a duplicate).
    n.expect_tx_rejected(
        &to_json(&SignedTransfer { signature: Some(malleate(&sig)), ..tx.clone() }),
        403,
        "bad_signature",
    )
    .await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_signature_is_403_in_ed25519_mode() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 10, 0);
    n.expect_tx_rejected(&without(&tx, "signature"), 403, "missing_signature").await;
    n.expect_tx_rejected(&with(&tx, "signature", Value::Null), 403, "missing_signature").await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_public_key_is_403() {
    let n = TestNode::start_default().await;
    let bogus = invalid_point();
    let t = Transfer { from: bogus, ..transfer(1, 2, 10, 0) };
    let sig = key(1).sign(&t.signing_bytes());
    let tx = SignedTransfer { multisig: None, to_policy: None, transfer: t, signature: Some(sig) };
    n.expect_tx_rejected(&to_json(&tx), 403, "invalid_public_key").await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_chain_is_400() {
    let n = TestNode::start_default().await;
    for chain_id in [CHAIN + 1, 0, u64::MAX] {
        let tx = sign_with(Transfer { chain_id, ..transfer(1, 2, 10, 0) }, 1);
        n.expect_tx_rejected(&to_json(&tx), 400, "wrong_chain").await;
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_amount_self_transfer_fee_and_overflow_are_400_with_their_codes() {
    let n = TestNode::start_default().await;
    // (Whether these shape errors name the transfer is checked by
    // `shape_rejections_of_a_single_transfer_name_it_in_the_error`.)
    let zero = signed(1, 2, 0, 0);
    n.expect_rejected("/v1/transfers", bytes(&to_json(&zero)), 400, "zero_amount").await;
    let to_self = signed(1, 1, 10, 0);
    n.expect_rejected("/v1/transfers", bytes(&to_json(&to_self)), 400, "self_transfer").await;
    let overflow = sign_with(Transfer { amount: u64::MAX, fee: 1, ..transfer(1, 2, 0, 0) }, 1);
    n.expect_rejected("/v1/transfers", bytes(&to_json(&overflow)), 400, "overflow").await;
    for fee in [1, 500] {
        let with_fee = sign_with(Transfer { fee, ..transfer(1, 2, 10, 0) }, 1);
        n.expect_tx_rejected(&to_json(&with_fee), 400, "fee_not_allowed").await;
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shape_rejections_of_a_single_transfer_name_it_in_the_error() {
    let n = TestNode::start_default().await;
    let zero = signed(1, 2, 0, 0);
    n.expect_tx_rejected(&to_json(&zero), 400, "zero_amount").await;
    let to_self = signed(1, 1, 10, 0);
    n.expect_tx_rejected(&to_json(&to_self), 400, "self_transfer").await;
    let overflow = sign_with(Transfer { amount: u64::MAX, fee: 1, ..transfer(1, 2, 0, 0) }, 1);
    n.expect_tx_rejected(&to_json(&overflow), 400, "overflow").await;
    n.shutdown().await;
}

/// A memo over 64 bytes has no valid encoding, hence no id: errors and receipts carry none (or "").
fn assert_no_id(v: &Value) {
    if let Some(id) = v.get("id") {
        assert_eq!(id, "", "an over-long memo has no id: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memo_over_64_bytes_is_400_memo_too_long() {
    let n = TestNode::start_default().await;
    for len in [65, 200, 1000] {
        let (v, _) = long_memo_transfer(1, 2, 0, len);
        let err = n.expect_rejected("/v1/transfers", bytes(&v), 400, "memo_too_long").await;
        assert_no_id(&err);
        // Shape is checked before the signature: an unsigned over-long memo is memo_too_long too.
        let mut unsigned = v.clone();
        unsigned.as_object_mut().unwrap().remove("signature");
        assert_no_id(&n.expect_rejected("/v1/transfers", bytes(&unsigned), 400, "memo_too_long").await);
    }
    // Exactly 64 bytes is allowed (and signs normally).
    n.commit(&sign_with(Transfer { memo: vec![1; 64], ..transfer(1, 2, 10, 0) }, 1)).await;
    n.shutdown().await;
}

/// Batches of up to 16 are verified inline and larger ones on a blocking thread: both paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memo_over_64_bytes_in_a_batch_is_rejected_per_item() {
    let n = TestNode::start_default().await;
    for (size, sender) in [(3u64, 1u8), (17, 2)] {
        let before = n.snapshot().await;
        let mut items: Vec<Value> = (0..size - 1).map(|nonce| to_json(&signed(sender, 3, 1, nonce))).collect();
        let (long, _) = long_memo_transfer(4, 3, 0, 65);
        items.insert(1, long);
        let r = n.submit_raw(bytes(&Value::Array(items))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let raw = r.json();
        let results = raw["results"].as_array().expect("results");
        assert_eq!(results.len(), size as usize);
        for (i, rc) in results.iter().enumerate() {
            if i == 1 {
                assert_eq!((rc["status"].as_str(), rc["code"].as_str()), (Some("rejected"), Some("memo_too_long")));
                assert_eq!(rc["id"], "", "an over-long memo has no id");
            } else {
                assert_eq!(rc["status"], "committed", "{rc}");
            }
        }
        let after = n.snapshot().await;
        assert_eq!(after.ledger_size, before.ledger_size + size - 1);
        assert_eq!(n.nonce(sender).await, size - 1);
        assert_eq!(n.nonce(4).await, 0);
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_nonce_is_409_bad_nonce() {
    let n = TestNode::start_default().await;
    for nonce in [1, 2, u64::MAX] {
        n.expect_tx_rejected(&to_json(&signed(1, 2, 10, nonce)), 409, "bad_nonce").await;
    }
    n.commit(&signed(1, 2, 10, 0)).await;
    // A different transfer reusing the spent nonce 0 is a conflict, not an idempotent duplicate.
    let reuse = signed(1, 2, 11, 0);
    n.expect_tx_rejected(&to_json(&reuse), 409, "bad_nonce").await;
    n.expect_tx_rejected(&to_json(&signed(1, 3, 10, 0)), 409, "bad_nonce").await;
    n.expect_tx_rejected(&to_json(&signed(1, 2, 10, 2)), 409, "bad_nonce").await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdraft_is_422_insufficient_funds() {
    let n = TestNode::start_default().await;
    n.expect_tx_rejected(&to_json(&signed(1, 2, EACH + 1, 0)), 422, "insufficient_funds").await;
    n.expect_tx_rejected(&to_json(&signed(1, 2, u64::MAX, 0)), 422, "insufficient_funds").await;
    // An account that was never funded cannot send anything.
    n.expect_tx_rejected(&to_json(&signed(UNFUNDED, 2, 1, 0)), 422, "insufficient_funds").await;
    n.commit(&signed(1, 2, 600, 0)).await;
    n.expect_tx_rejected(&to_json(&signed(1, 2, 401, 1)), 422, "insufficient_funds").await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_transfer_id_is_404_and_rejected_transfers_stay_unknown() {
    let n = TestNode::start_default().await;
    n.expect_get_error(&format!("/v1/transfers/{}", "ab".repeat(32)), 404, "not_found").await;
    // Valid but not yet submitted.
    let tx = signed(1, 2, 10, 0);
    n.expect_get_error(&format!("/v1/transfers/{}", tx.id()), 404, "not_found").await;
    n.expect_get_error(&format!("/v1/transfers/{}?proof=true", tx.id()), 404, "not_found").await;
    // Rejected ones never become visible.
    let rejected = signed(1, 2, 10, 5);
    n.expect_tx_rejected(&to_json(&rejected), 409, "bad_nonce").await;
    n.expect_get_error(&format!("/v1/transfers/{}", rejected.id()), 404, "not_found").await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_transfer_and_account_ids_are_400_invalid_field() {
    let n = TestNode::start_default().await;
    let good = "ab".repeat(32);
    for bad in
        ["xyz".to_string(), good[..63].to_string(), format!("{good}0"), "g".repeat(64), format!("0x{}", &good[2..])]
    {
        n.expect_get_error(&format!("/v1/transfers/{bad}"), 400, "invalid_field").await;
        n.expect_get_error(&format!("/v1/accounts/{bad}"), 400, "invalid_field").await;
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_block_heights_are_400_and_missing_blocks_404() {
    let n = TestNode::start_default().await;
    n.commit(&signed(1, 2, 10, 0)).await;
    for bad in ["abc", "-1", "1.5", "1e3", "0x1", "18446744073709551616", "%201"] {
        n.expect_get_error(&format!("/v1/blocks/{bad}"), 400, "invalid_field").await;
    }
    let head = n.head().await.header.height;
    assert_eq!(head, 1);
    for missing in [head + 1, 1_000, u64::MAX] {
        n.expect_get_error(&format!("/v1/blocks/{missing}"), 404, "not_found").await;
    }
    assert_eq!(n.get("/v1/blocks/0").await.status, 200);
    assert_eq!(n.get("/v1/blocks/1").await.status, 200);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistency_proof_bounds_are_400_out_of_range() {
    let n = TestNode::start_default().await;
    // An empty ledger has no sizes to prove anything between.
    n.expect_get_error("/v1/proofs/consistency?from=1&to=1", 400, "out_of_range").await;
    n.expect_get_error("/v1/proofs/consistency?from=0&to=0", 400, "out_of_range").await;
    n.commit(&signed(1, 2, 10, 0)).await;
    n.commit(&signed(1, 2, 10, 1)).await;
    for (from, to) in [(0, 1), (0, 0), (0, 2), (2, 1), (1, 3), (3, 3), (2, u64::MAX), (u64::MAX, u64::MAX)] {
        n.expect_get_error(&format!("/v1/proofs/consistency?from={from}&to={to}"), 400, "out_of_range").await;
    }
    for q in ["from=1", "to=2", "", "from=a&to=2", "from=1&to=-2", "from=1&to=2.0", "from=1&to=18446744073709551616"] {
        n.expect_get_error(&format!("/v1/proofs/consistency?{q}"), 400, "invalid_field").await;
    }
    assert_eq!(n.get("/v1/proofs/consistency?from=1&to=2").await.status, 200);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_404_json() {
    let n = TestNode::start_default().await;
    for path in [
        "/v1",
        "/explorer/nope.js",
        "/v1/nope",
        "/v1/transfer",
        "/v2/head",
        "/v1/transfers/",
        "/v1/head/extra",
        "/v1/accounts",
    ] {
        n.expect_get_error(path, 404, "not_found").await;
    }
    let tx = bytes(&to_json(&signed(1, 2, 10, 0)));
    n.expect_rejected("/v1/nope", tx.clone(), 404, "not_found").await;
    n.expect_rejected("/v2/transfers", tx, 404, "not_found").await;
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_fee_and_memo_mean_omitted() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 10, 0);
    let mut v = to_json(&tx);
    v["fee"] = Value::Null;
    v["memo"] = Value::Null;
    let r = n.post("/v1/transfers", bytes(&v)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], tx.id().to_string());
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_or_bad_query_parameters_are_400_invalid_field() {
    let n = TestNode::start_default().await;
    let tx = signed(1, 2, 10, 0);
    let body = bytes(&to_json(&tx));
    // The query is checked before the (valid) body is looked at: nothing is committed.
    for q in ["wat=1", "wait=maybe", "wait=1", "wait=", "Wait=false", "wait=false&wait=true", "proof=true"] {
        n.expect_rejected(&format!("/v1/transfers?{q}"), body.clone(), 400, "invalid_field").await;
    }
    n.commit(&tx).await;
    let id = tx.id();
    for q in ["prof=true", "proof=yes", "proof=1", "proof=true&x=1", "wait=false"] {
        n.expect_get_error(&format!("/v1/transfers/{id}?{q}"), 400, "invalid_field").await;
    }
    n.expect_get_error("/v1/proofs/consistency?from=1&to=1&x=1", 400, "invalid_field").await;
    // One rule for every /v1 route: a parameter it does not take is refused.
    for path in ["/v1/status?x=1", "/v1/genesis?x=1", "/v1/head?x=1", "/v1/blocks/0?x=1"] {
        n.expect_get_error(path, 400, "invalid_field").await;
    }
    for q in ["x=1", "consistency=bogus", "consistency=stale&x=1"] {
        n.expect_get_error(&format!("/v1/accounts/{}?{q}", acct(1)), 400, "invalid_field").await;
    }
    for q in ["consistency=stale", "consistency=linearizable"] {
        let a: synod_node::api::types::AccountInfo = n.get(&format!("/v1/accounts/{}?{q}", acct(1))).await.parse();
        assert_eq!((a.balance, a.nonce), (EACH - 10, 1));
    }
    n.shutdown().await;
}

const SHAPE_CODES: [&str; 4] = ["memo_too_long", "zero_amount", "self_transfer", "overflow"];

fn broken(t: Transfer) -> Value {
    let mut tx = sign_with(t, 1);
    tx.signature.as_mut().unwrap()[0] ^= 1;
    to_json(&tx)
}

fn unsigned(t: Transfer) -> Value {
    to_json(&SignedTransfer::unsigned(t))
}

/// Expects the rejection; checks the id in the error only where the transfer is known to carry
/// it (see `shape_rejections_of_a_single_transfer_name_it_in_the_error` for the others).
async fn expect_code(n: &TestNode, body: &Value, status: u16, code: &str) {
    if SHAPE_CODES.contains(&code) {
        n.expect_rejected("/v1/transfers", bytes(body), status, code).await;
    } else {
        n.expect_tx_rejected(body, status, code).await;
    }
}

/// docs/PROTOCOL.md 2.5 checks the rules in a fixed order; a transfer breaking several gets the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_precedence_follows_the_protocol_order() {
    let n = TestNode::start_default().await;
    let t = |amount: u64, nonce: u64| transfer(1, 2, amount, nonce);
    let cases: Vec<(Value, u16, &str)> = vec![
        (broken(Transfer { chain_id: CHAIN + 1, ..t(10, 3) }), 400, "wrong_chain"),
        (unsigned(Transfer { chain_id: CHAIN + 1, ..t(10, 0) }), 400, "wrong_chain"),
        (long_memo_transfer(1, 1, 0, 65).0, 400, "memo_too_long"),
        (to_json(&sign_with(Transfer { to: acct(1), ..t(0, 0) }, 1)), 400, "zero_amount"),
        (to_json(&sign_with(Transfer { to: acct(1), fee: 1, ..t(u64::MAX, 0) }, 1)), 400, "self_transfer"),
        (unsigned(Transfer { fee: 1, ..t(u64::MAX, 0) }), 400, "overflow"),
        (unsigned(t(0, 0)), 400, "zero_amount"),
        (unsigned(Transfer { fee: 1, ..t(10, 0) }), 403, "missing_signature"),
        (broken(Transfer { fee: 1, ..t(10, 0) }), 403, "bad_signature"),
        (broken(t(EACH + 1, 7)), 403, "bad_signature"),
        (to_json(&sign_with(Transfer { fee: 1, ..t(10, 7) }, 1)), 400, "fee_not_allowed"),
        (to_json(&sign_with(Transfer { fee: 1, ..t(EACH, 0) }, 1)), 400, "fee_not_allowed"),
        (to_json(&signed(1, 2, EACH + 1, 7)), 409, "bad_nonce"),
    ];
    for (body, status, code) in &cases {
        expect_code(&n, body, *status, code).await;
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_chain_is_checked_before_the_shape_rules() {
    let n = TestNode::start_default().await;
    let other = |t: Transfer| sign_with(Transfer { chain_id: CHAIN + 1, ..t }, 1);
    for tx in [
        other(transfer(1, 2, 0, 0)),
        other(transfer(1, 1, 10, 0)),
        other(Transfer { fee: 1, ..transfer(1, 2, u64::MAX, 0) }),
    ] {
        n.expect_tx_rejected(&to_json(&tx), 400, "wrong_chain").await;
    }
    let mut long = long_memo_transfer(1, 2, 0, 65).0;
    long["chain_id"] = json!(CHAIN + 1);
    n.expect_rejected("/v1/transfers", bytes(&long), 400, "wrong_chain").await;
    n.shutdown().await;
}

/// Every error is the JSON `{code, message}` body (docs/PROTOCOL.md section 6).
fn assert_json_error(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(
        r.content_type.as_deref().unwrap_or("").starts_with("application/json"),
        "content type {:?}, body {:?}",
        r.content_type,
        r.text()
    );
    let body = r.json();
    assert!(body["code"].is_string() && body["message"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_path_parameters_get_a_json_invalid_field_error() {
    let n = TestNode::start_default().await;
    for path in ["/v1/transfers/%FF", "/v1/accounts/%FF", "/v1/blocks/%FF", "/v1/transfers/%C3%28"] {
        n.expect_get_error(path, 400, "invalid_field").await;
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_gets_405_with_a_json_error() {
    let n = TestNode::start_default().await;
    let before = n.snapshot().await;
    let tx = bytes(&to_json(&signed(1, 2, 10, 0)));
    let r = n.get("/v1/transfers").await;
    assert_json_error(&r, 405);
    let r = n.post("/v1/head", tx.clone()).await;
    assert_json_error(&r, 405);
    let r = n.try_send(n.http.put(format!("{}/v1/transfers", n.url)).body(tx)).await.unwrap();
    assert_json_error(&r, 405);
    assert_eq!(n.snapshot().await, before);
    n.shutdown().await;
}
