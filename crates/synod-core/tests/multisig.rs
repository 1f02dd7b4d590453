//! Multi-signature (M-of-N) accounts: the policy id, every rejection rule,
//! receiving through a revealed policy, genesis funding, the record encoding
//! and its decode bounds, and the batch verifier's agreement with the rules.

mod common;
use common::*;

use synod_core::codec::DecodeError;
use synod_core::genesis::Allocation;
use synod_core::ledger::{BlockErrorKind, SignaturePolicy};
use synod_core::multisig::{MultisigAuth, Policy, PolicyError, SignerSignature};
use synod_core::verify_many::verify_all;
use synod_core::{AccountId, AuthMode, Genesis, GenesisError, Ledger, RejectReason, SignedTransfer, Transfer};

/// The 2-of-3 policy of keys 11, 12, 13 (sorted).
fn policy() -> Policy {
    let mut keys: Vec<AccountId> = (11..=13).map(|n| key(n).account()).collect();
    keys.sort();
    Policy { threshold: 2, keys }
}

/// The seed of the key at `index` in [`policy`].
fn seed_at(p: &Policy, index: usize) -> u8 {
    (11..=13).find(|&n| key(n).account() == p.keys[index]).unwrap()
}

fn spend(p: &Policy, to: AccountId, amount: u64, nonce: u64) -> Transfer {
    Transfer { chain_id: CHAIN, from: p.account(), to, amount, fee: 0, nonce, memo: b"ms".to_vec() }
}

/// `t` signed by the keys at `signers` (indexes into the policy), in the order given.
fn multisigned(p: &Policy, t: Transfer, signers: &[u8]) -> SignedTransfer {
    let message = t.signing_bytes();
    let signatures = signers
        .iter()
        .map(|&i| SignerSignature { signer: i, signature: key(seed_at(p, usize::from(i) % 3)).sign(&message) })
        .collect();
    SignedTransfer::with_multisig(t, MultisigAuth { threshold: p.threshold, keys: p.keys.clone(), signatures })
}

/// A ledger funding keys 1..=3 and the policy account.
fn ledger_with_policy(p: &Policy) -> Ledger {
    let mut g = genesis(AuthMode::Ed25519, 3, 1000);
    g.allocations.push(Allocation::to_policy(p.clone(), 500));
    g.allocations.sort_by_key(|a| a.account);
    Ledger::new(g).unwrap()
}

fn build(l: &mut Ledger, tx: SignedTransfer) -> Result<(), RejectReason> {
    let verified = tx.verify(l.auth())?;
    l.build_block(1_700_000_000_100, vec![verified]).outcomes[0].result.clone().map(|_| ())
}

#[test]
fn the_policy_id_is_the_hash_of_its_domain_separated_encoding() {
    let p = policy();
    let mut input = b"synod.multisig.v1\x00".to_vec();
    input.push(2);
    input.push(3);
    for k in &p.keys {
        input.extend_from_slice(&k.0);
    }
    assert_eq!(p.account().0, synod_core::sha256(&input));
    // Another threshold or key set is another account.
    assert_ne!(Policy { threshold: 3, ..p.clone() }.account(), p.account());
    assert_ne!(Policy { threshold: 2, keys: p.keys[..2].to_vec() }.account(), p.account());
}

#[test]
fn a_two_of_three_spend_moves_units_with_any_two_or_all_three_signers() {
    let p = policy();
    let mut l = ledger_with_policy(&p);
    for (nonce, signers) in [(0u64, &[0u8, 1][..]), (1, &[0, 2]), (2, &[1, 2]), (3, &[0, 1, 2])] {
        build(&mut l, multisigned(&p, spend(&p, key(1).account(), 10, nonce), signers)).unwrap();
    }
    assert_eq!(l.state().account(&p.account()).balance, 460);
    assert_eq!(l.state().account(&p.account()).nonce, 4);
    // The same signing bytes and id as a single-key transfer of the same fields.
    let t = spend(&p, key(1).account(), 10, 4);
    assert_eq!(multisigned(&p, t.clone(), &[0, 1]).id(), t.id());
    // Replay: the nonce rule applies as for single keys.
    assert_eq!(
        build(&mut l, multisigned(&p, spend(&p, key(1).account(), 10, 0), &[0, 1])),
        Err(RejectReason::BadNonce { expected: 4, got: 0 })
    );
}

#[test]
fn each_multisig_rejection_has_its_reason() {
    let p = policy();
    let to = key(1).account();
    let ok = |signers: &[u8]| multisigned(&p, spend(&p, to, 5, 0), signers);
    let check = |tx: &SignedTransfer| tx.check_stateless(AuthMode::Ed25519);
    assert_eq!(check(&ok(&[0, 1])), Ok(()));

    assert_eq!(check(&ok(&[1])), Err(RejectReason::TooFewSignatures { got: 1, threshold: 2 }));
    assert_eq!(check(&ok(&[])), Err(RejectReason::TooFewSignatures { got: 0, threshold: 2 }));
    let mut unknown = ok(&[0, 1]);
    unknown.multisig.as_mut().unwrap().signatures[1].signer = 3;
    assert_eq!(check(&unknown), Err(RejectReason::UnknownSigner { signer: 3, keys: 3 }));
    assert_eq!(check(&ok(&[1, 1])), Err(RejectReason::DuplicateSigner { signer: 1 }));
    assert_eq!(check(&ok(&[1, 0])), Err(RejectReason::SignersOutOfOrder { signer: 0 }));
    let mut bad = ok(&[0, 2]);
    bad.multisig.as_mut().unwrap().signatures[1].signature[0] ^= 1;
    assert_eq!(check(&bad), Err(RejectReason::BadMultisigSignature { signer: 2 }));
    // A valid signature by the wrong key of the policy, at another key's index.
    let mut swapped = ok(&[0, 1]);
    swapped.multisig.as_mut().unwrap().signatures[1].signature =
        key(seed_at(&p, 2)).sign(&swapped.transfer.signing_bytes());
    assert_eq!(check(&swapped), Err(RejectReason::BadMultisigSignature { signer: 1 }));
    // A policy that does not hash to `from` (here: the 2-of-2 of its first keys).
    let mut other = ok(&[0, 1]);
    other.multisig.as_mut().unwrap().keys.pop();
    assert_eq!(check(&other), Err(RejectReason::PolicyMismatch));
    // Strict verification: S + L is refused as for single keys.
    let mut malleated = ok(&[0, 1]);
    let sig = &mut malleated.multisig.as_mut().unwrap().signatures[0].signature;
    add_l_to_s(sig);
    assert_eq!(check(&malleated), Err(RejectReason::BadMultisigSignature { signer: 0 }));
    // Both kinds of signature at once.
    let mut both = ok(&[0, 1]);
    both.signature = Some([0; 64]);
    assert_eq!(check(&both), Err(RejectReason::ConflictingAuth));
    // Codes are stable.
    let codes: Vec<&str> = [
        RejectReason::TooFewSignatures { got: 0, threshold: 1 },
        RejectReason::UnknownSigner { signer: 0, keys: 0 },
        RejectReason::DuplicateSigner { signer: 0 },
        RejectReason::SignersOutOfOrder { signer: 0 },
        RejectReason::BadMultisigSignature { signer: 0 },
        RejectReason::PolicyMismatch,
        RejectReason::ReceiverPolicyMismatch,
        RejectReason::InvalidPolicy(PolicyError::ZeroThreshold),
        RejectReason::ConflictingAuth,
    ]
    .iter()
    .map(RejectReason::code)
    .collect();
    assert_eq!(
        codes,
        [
            "too_few_signatures",
            "unknown_signer",
            "duplicate_signer",
            "signers_out_of_order",
            "bad_multisig_signature",
            "policy_mismatch",
            "receiver_policy_mismatch",
            "invalid_policy",
            "conflicting_auth"
        ]
    );
}

/// `S += L` (little-endian), the non-canonical twin of a valid signature.
fn add_l_to_s(sig: &mut [u8; 64]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        sig[32 + i] = v as u8;
        carry = v >> 8;
    }
}

#[test]
fn malformed_policies_are_refused_with_their_reason() {
    let p = policy();
    let identity = {
        let mut b = [0u8; 32];
        b[0] = 1;
        AccountId(b)
    };
    let cases: Vec<(Policy, PolicyError)> = vec![
        (Policy { threshold: 0, ..p.clone() }, PolicyError::ZeroThreshold),
        (Policy { threshold: 4, ..p.clone() }, PolicyError::ThresholdAboveKeys { threshold: 4, keys: 3 }),
        (Policy { threshold: 1, keys: vec![] }, PolicyError::ThresholdAboveKeys { threshold: 1, keys: 0 }),
        (
            Policy { threshold: 2, keys: vec![p.keys[1], p.keys[0], p.keys[2]] },
            PolicyError::NotSortedOrDuplicate { index: 1 },
        ),
        (Policy { threshold: 2, keys: vec![p.keys[0], p.keys[0]] }, PolicyError::NotSortedOrDuplicate { index: 1 }),
        (Policy { threshold: 1, keys: vec![identity] }, PolicyError::NotSigningKey { index: 0 }),
        (
            Policy { threshold: 1, keys: (0..17).map(|n| AccountId([n; 32])).collect() },
            PolicyError::TooManyKeys { keys: 17 },
        ),
    ];
    for (bad, error) in cases {
        assert_eq!(bad.check(), Err(error), "{bad:?}");
        // As the sender's policy (checked before its hash) ...
        let t = Transfer { from: bad.account(), ..spend(&p, key(1).account(), 1, 0) };
        let tx = SignedTransfer::with_multisig(
            t,
            MultisigAuth { threshold: bad.threshold, keys: bad.keys.clone(), signatures: vec![] },
        );
        assert_eq!(tx.check_stateless(AuthMode::Ed25519), Err(RejectReason::InvalidPolicy(error)));
        // ... and as a receiver's.
        let to = signed(1, 2, 1, 0);
        let to =
            SignedTransfer { transfer: Transfer { to: bad.account(), ..to.transfer.clone() }, ..to }.to_policy(bad);
        assert_eq!(to.check_stateless(AuthMode::None), Err(RejectReason::InvalidPolicy(error)));
    }
    // Sixteen keys is the limit, and allowed.
    let mut keys: Vec<AccountId> = (1..=16).map(|n| key(n).account()).collect();
    keys.sort();
    assert_eq!(Policy { threshold: 16, keys }.check(), Ok(()));
}

#[test]
fn a_policy_account_is_created_by_a_transfer_that_reveals_its_policy() {
    let p = policy();
    let mut l = ledger(3, 1000);
    let t = transfer(1, p.account(), 300, 0);
    let plain = t.clone().sign(&key(1));
    if synod_core::crypto::is_signing_key(&p.account()) {
        // Half of all hashes decode as points; such an id passes as a key too.
        assert_eq!(plain.check_stateless(AuthMode::Ed25519), Ok(()));
    } else {
        assert_eq!(plain.check_stateless(AuthMode::Ed25519), Err(RejectReason::InvalidReceiver));
    }
    // Another policy's reveal does not do.
    let other = Policy { threshold: 1, ..p.clone() };
    assert_eq!(
        t.clone().sign(&key(1)).to_policy(other).check_stateless(AuthMode::Ed25519),
        Err(RejectReason::ReceiverPolicyMismatch)
    );
    build(&mut l, t.sign(&key(1)).to_policy(p.clone())).unwrap();
    assert_eq!(l.state().account(&p.account()).balance, 300);
    // ... and spent from with two signatures, to another policy account.
    let q = Policy { threshold: 1, keys: vec![key(2).account()] };
    let tx = multisigned(&p, spend(&p, q.account(), 100, 0), &[0, 2]).to_policy(q.clone());
    build(&mut l, tx).unwrap();
    assert_eq!(l.state().account(&q.account()).balance, 100);
    assert_eq!(l.state().account(&p.account()).balance, 200);
    l.state().assert_conservation();
}

#[test]
fn genesis_funds_a_policy_only_with_its_valid_policy_in_its_bytes() {
    let p = policy();
    let g = ledger_with_policy(&p).genesis().clone();
    g.check_accounts().unwrap();
    let bytes = g.encode();
    let back = Genesis::decode(&bytes).unwrap();
    assert_eq!(back, g);
    let json = serde_json::to_string(&g).unwrap();
    assert_eq!(serde_json::from_str::<Genesis>(&json).unwrap(), g);
    // A genesis without policies keeps its bytes: no section, no trailing count.
    let plain = genesis(AuthMode::Ed25519, 3, 1000);
    assert_eq!(plain.encode().len(), 17 + 8 + 1 + 8 + 4 + 3 * 40);
    assert!(!serde_json::to_string(&plain).unwrap().contains("policy"));
    // A policy that does not hash to its account, or a malformed one, is refused.
    let index = g.allocations.iter().position(|a| a.policy.is_some()).unwrap();
    let mut wrong = g.clone();
    wrong.allocations[index].policy = Some(Policy { threshold: 1, ..p.clone() });
    assert_eq!(wrong.check_accounts(), Err(GenesisError::PolicyMismatch { index }));
    let mut malformed = g.clone();
    malformed.allocations[index].policy = Some(Policy { threshold: 0, ..p.clone() });
    assert!(matches!(malformed.check_accounts(), Err(GenesisError::InvalidPolicy { .. })));
    assert!(Ledger::new(wrong).is_err());
    // Decode bounds of the policies section.
    let n = g.allocations.len();
    let base = &bytes[..17 + 8 + 1 + 8 + 4 + n * 40];
    for (suffix, field) in [
        (0u32.to_be_bytes().to_vec(), "genesis_policy_count"),
        (((n + 1) as u32).to_be_bytes().to_vec(), "genesis_policy_count"),
        ([1u32.to_be_bytes(), (n as u32).to_be_bytes()].concat(), "genesis_policy_index"),
    ] {
        let err = Genesis::decode(&[base, &suffix].concat()).unwrap_err();
        assert!(
            matches!(&err, GenesisError::Decode(DecodeError::OutOfRange { field: f, .. }) if *f == field),
            "{err:?}"
        );
    }
}

#[test]
fn records_round_trip_and_existing_tags_are_unchanged() {
    let p = policy();
    let q = Policy { threshold: 1, keys: vec![key(2).account()] };
    let single = signed(1, 2, 5, 0);
    let single_bytes = single.record_bytes();
    assert_eq!(single_bytes[single_bytes.len() - 65], 1, "tag 1 then the signature");
    for tx in [
        multisigned(&p, spend(&p, key(1).account(), 5, 0), &[0, 2]),
        multisigned(&p, spend(&p, q.account(), 5, 0), &[0, 1, 2]).to_policy(q.clone()),
        single.clone().to_policy(q.clone()),
        SignedTransfer::unsigned(single.transfer.clone()).to_policy(q.clone()),
    ] {
        let bytes = tx.record_bytes();
        assert_eq!(bytes.len(), tx.record_len());
        assert!(bytes.len() <= synod_core::limits::TRANSFER_RECORD_BYTES_MAX);
        assert_eq!(SignedTransfer::decode_record(&bytes).unwrap(), tx);
        let json = serde_json::to_string(&tx).unwrap();
        assert_eq!(serde_json::from_str::<SignedTransfer>(&json).unwrap(), tx);
        // Every truncation is a typed error, never a panic.
        for cut in 0..bytes.len() {
            assert!(SignedTransfer::decode_record(&bytes[..cut]).is_err());
        }
    }
    // Single-key JSON has no new fields.
    let json = serde_json::to_string(&single).unwrap();
    assert!(!json.contains("multisig") && !json.contains("to_policy"), "{json}");
}

#[test]
fn decode_refuses_oversized_counts_and_unknown_tags_before_allocating() {
    let t = signed(1, 2, 5, 0).transfer;
    let head = t.signing_bytes();
    let record = |tail: &[u8]| [&head[..], tail].concat();
    // 17 keys in the sender's policy, 17 signatures, 17 keys in a receiver policy.
    let err = SignedTransfer::decode_record(&record(&[2, 1, 17])).unwrap_err();
    assert_eq!(err, DecodeError::OutOfRange { field: "policy_keys", value: 17 });
    let mut one_key = vec![2, 1, 1];
    one_key.extend_from_slice(&key(1).account().0);
    one_key.push(17);
    let err = SignedTransfer::decode_record(&record(&one_key)).unwrap_err();
    assert_eq!(err, DecodeError::OutOfRange { field: "multisig_signatures", value: 17 });
    let err = SignedTransfer::decode_record(&record(&[3, 1, 255])).unwrap_err();
    assert_eq!(err, DecodeError::OutOfRange { field: "policy_keys", value: 255 });
    // Tag 3 twice, and tags above 3.
    let mut twice = vec![3, 1, 1];
    twice.extend_from_slice(&key(1).account().0);
    twice.push(3);
    let err = SignedTransfer::decode_record(&record(&twice)).unwrap_err();
    assert_eq!(err, DecodeError::UnknownTag { field: "auth_tag", tag: 3 });
    let err = SignedTransfer::decode_record(&record(&[4])).unwrap_err();
    assert_eq!(err, DecodeError::UnknownTag { field: "auth_tag", tag: 4 });
    // Trailing bytes.
    let mut ok = signed(1, 2, 5, 0).record_bytes();
    ok.push(0);
    assert!(matches!(SignedTransfer::decode_record(&ok), Err(DecodeError::TrailingBytes { .. })));
}

#[test]
fn json_refuses_a_signature_with_a_multisig_and_unknown_fields() {
    let p = policy();
    let tx = multisigned(&p, spend(&p, key(1).account(), 5, 0), &[0, 1]);
    let mut v = serde_json::to_value(&tx).unwrap();
    assert!(v["multisig"]["signatures"][0]["signer"].is_u64());
    v["signature"] = serde_json::Value::String(hex::encode([0u8; 64]));
    assert!(serde_json::from_value::<SignedTransfer>(v.clone()).is_err());
    v["signature"] = serde_json::Value::Null;
    v["multisig"]["extra"] = 1.into();
    assert!(serde_json::from_value::<SignedTransfer>(v).is_err());
}

#[test]
fn the_batch_verifier_and_the_auditor_give_the_rules_verdicts() {
    let p = policy();
    let to = key(1).account();
    let mut txs: Vec<SignedTransfer> = Vec::new();
    for n in 0..80u64 {
        let tx = match n % 4 {
            0 => multisigned(&p, spend(&p, to, 1, n), &[0, 1]),
            1 => multisigned(&p, spend(&p, to, 1, n), &[2]),
            2 => signed(2, 3, 1, n),
            _ => {
                let mut bad = multisigned(&p, spend(&p, to, 1, n), &[1, 2]);
                bad.multisig.as_mut().unwrap().signatures[0].signature[5] ^= 4;
                bad
            }
        };
        txs.push(tx);
    }
    let expected: Vec<Result<(), RejectReason>> = txs.iter().map(|t| t.check_stateless(AuthMode::Ed25519)).collect();
    for threads in [1, 3] {
        let got: Vec<Result<(), RejectReason>> = verify_all(txs.clone(), AuthMode::Ed25519, threads)
            .into_iter()
            .map(|v| v.map(|_| ()).map_err(|e| e.1))
            .collect();
        assert_eq!(got, expected, "{threads} threads");
    }
    // The auditor's path (apply_block verifying every signature) refuses a
    // well-formed block (roots right) whose multi-signature does not verify.
    let mut l = ledger_with_policy(&p);
    let mut bad = multisigned(&p, spend(&p, to, 1, 0), &[0, 1]);
    bad.multisig.as_mut().unwrap().signatures[1].signature[9] ^= 1;
    let forged = l
        .clone()
        .build_block(1_700_000_000_100, vec![synod_core::VerifiedTransfer::assume_verified(bad)])
        .block
        .unwrap();
    let err = l.clone().apply_block(&forged, SignaturePolicy::Verify).unwrap_err();
    assert_eq!(
        err.kind,
        BlockErrorKind::TransferRejected { index: 0, reason: RejectReason::BadMultisigSignature { signer: 1 } }
    );
    let good = multisigned(&p, spend(&p, to, 1, 0), &[0, 1]);
    let block = l.clone().build_block(1_700_000_000_100, vec![good.verify(AuthMode::Ed25519).unwrap()]).block.unwrap();
    l.apply_block(&block, SignaturePolicy::Verify).unwrap();
}
