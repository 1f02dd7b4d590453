//! The batch signature path gives every signature exactly the verdict of
//! strict verification: Wycheproof-style edge vectors (small-order and
//! mixed-order R and A, non-canonical S, R and A, S ≥ L, the identity), alone
//! and inside batches of valid signatures, and random corruptions.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha512};
use synod_core::crypto::{verify_strict, SignatureError};
use synod_core::sig_batch::{
    is_torsion_free_vartime, verify_strict_batched, verify_strict_batched_with, BatchStats, SignatureCheck,
    BATCH_LEN_MAX, KEY_USES_MIN,
};
use synod_core::AccountId;

/// A signature case: key bytes, message, signature bytes.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    key: [u8; 32],
    message: Vec<u8>,
    signature: [u8; 64],
}

fn k_of(r: &[u8; 32], key: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(key);
    h.update(message);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

fn random_scalar(rng: &mut ChaCha20Rng) -> Scalar {
    let mut wide = [0u8; 64];
    rng.fill(&mut wide[..]);
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// Signs with secret scalar `a` for the key encoded as `key` (whose point may
/// differ from `[a]B` by a torsion point), with nonce point `[r]B + r_torsion`.
fn sign_raw(a: &Scalar, key: [u8; 32], r: &Scalar, r_torsion: EdwardsPoint, message: &[u8]) -> [u8; 64] {
    let r_point = (r * B) + r_torsion;
    let r_bytes = r_point.compress().to_bytes();
    let k = k_of(&r_bytes, &key, message);
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r_bytes);
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

fn valid(rng: &mut ChaCha20Rng, name: &str) -> Case {
    let a = random_scalar(rng);
    let key = (a * B).compress().to_bytes();
    let message: Vec<u8> = (0..rng.gen_range(0..120)).map(|_| rng.gen()).collect();
    let r = random_scalar(rng);
    let signature = sign_raw(&a, key, &r, EdwardsPoint::default(), &message);
    Case { name: name.to_string(), key, message, signature }
}

/// The eight points of small order, as multiples of a generator of order 8.
fn torsion_points() -> Vec<EdwardsPoint> {
    let mut y = 2u8;
    loop {
        let mut bytes = [0u8; 32];
        bytes[0] = y;
        y += 1;
        let Some(p) = CompressedEdwardsY(bytes).decompress() else { continue };
        // [L]P = [L-1]P + P is P's torsion part times L: order 8 or less.
        let t = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-Scalar::ONE, &p, &Scalar::ZERO) + p;
        if !(t + t + t + t).is_identity() {
            let mut all = vec![EdwardsPoint::default()];
            for _ in 1..8 {
                all.push(all.last().copied().unwrap() + t);
            }
            assert!(t.is_small_order(), "a generator of the 8-torsion");
            return all;
        }
    }
}

/// Non-canonical encodings: y ≥ p (y = p + small), and x = 0 with the sign bit
/// set. Only those that decode are kept.
fn non_canonical_encodings() -> Vec<[u8; 32]> {
    // p = 2^255 - 19, little-endian.
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut out = Vec::new();
    for small in 0u8..19 {
        let mut y = p;
        y[0] = y[0].wrapping_add(small); // 0xed + small ≤ 0xff: no carry
        for sign in [0u8, 0x80] {
            let mut bytes = y;
            bytes[31] |= sign;
            if CompressedEdwardsY(bytes).decompress().is_some() {
                out.push(bytes);
            }
        }
    }
    for y_is_minus_one in [false, true] {
        let mut bytes = if y_is_minus_one { p } else { [0u8; 32] };
        if y_is_minus_one {
            bytes[0] = 0xec;
        } else {
            bytes[0] = 1;
        }
        bytes[31] |= 0x80; // x = 0 with the sign bit set
        assert!(CompressedEdwardsY(bytes).decompress().is_some(), "(0, ±1) with a negative zero decodes");
        out.push(bytes);
    }
    assert!(out.len() >= 4, "some non-canonical encodings decode: {}", out.len());
    out
}

fn with_r(mut sig: [u8; 64], r: [u8; 32]) -> [u8; 64] {
    sig[..32].copy_from_slice(&r);
    sig
}

/// Every edge vector; some are accepted by strict verification (mixed-order
/// keys whose torsion part vanishes in `[k]A`), most are not.
fn edge_cases(rng: &mut ChaCha20Rng) -> Vec<Case> {
    let torsion = torsion_points();
    let mut cases = Vec::new();
    let identity = EdwardsPoint::default().compress().to_bytes();
    for (i, t) in torsion.iter().enumerate() {
        let t_bytes = t.compress().to_bytes();
        // Small-order key, with S = 0 and R a small-order point: [S]B - [k]A may equal R.
        for (j, r) in torsion.iter().enumerate() {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r.compress().to_bytes());
            cases.push(Case {
                name: format!("small A{i} small R{j} S=0"),
                key: t_bytes,
                message: b"m".to_vec(),
                signature: sig,
            });
        }
        // Valid signer, R replaced by a small-order point.
        let v = valid(rng, "");
        cases.push(Case { name: format!("small R{i}"), signature: with_r(v.signature, t_bytes), ..v });
        // Mixed-order R = [r]B + T, signed honestly otherwise: strict refuses unless T = 0.
        for m in 0..4u8 {
            let a = random_scalar(rng);
            let key = (a * B).compress().to_bytes();
            let message = vec![m, i as u8];
            let signature = sign_raw(&a, key, &random_scalar(rng), *t, &message);
            cases.push(Case { name: format!("mixed R T{i} #{m}"), key, message, signature });
        }
        // Mixed-order A = [a]B + T: strict accepts iff [k]T = 0, so some are accepted.
        for m in 0..6u8 {
            let a = random_scalar(rng);
            let key = ((a * B) + t).compress().to_bytes();
            let message = vec![m, i as u8, 7];
            let signature = sign_raw(&a, key, &random_scalar(rng), EdwardsPoint::default(), &message);
            cases.push(Case { name: format!("mixed A T{i} #{m}"), key, message: message.clone(), signature });
            // Both mixed.
            let signature = sign_raw(&a, key, &random_scalar(rng), torsion[(i + 3) % 8], &message);
            cases.push(Case { name: format!("mixed A T{i} mixed R #{m}"), key, message, signature });
        }
    }
    // The identity as key and as R.
    let v = valid(rng, "");
    cases.push(Case { name: "identity R".into(), signature: with_r(v.signature, identity), ..v.clone() });
    cases.push(Case { name: "identity A".into(), key: identity, ..v.clone() });
    // S ≥ L: S + L of a valid signature (same value mod L), and all-ones S.
    let l = {
        let mut l = [0u8; 32];
        l.copy_from_slice(&hex_le(L_HEX));
        l
    };
    for n in 0..4 {
        let mut v = valid(rng, "");
        if add_l_to_s(&mut v.signature) {
            cases.push(Case { name: format!("S + L #{n}"), ..v });
        }
    }
    let mut v = valid(rng, "S all ones");
    v.signature[32..].copy_from_slice(&[0xff; 32]);
    cases.push(v);
    let mut v = valid(rng, "S = L");
    v.signature[32..].copy_from_slice(&l);
    cases.push(v);
    // Non-canonical R and A encodings.
    for (n, enc) in non_canonical_encodings().into_iter().enumerate() {
        let v = valid(rng, "");
        cases.push(Case { name: format!("non-canonical R #{n}"), signature: with_r(v.signature, enc), ..v.clone() });
        cases.push(Case { name: format!("non-canonical A #{n}"), key: enc, ..v.clone() });
        // A non-canonical encoding of R's own point: R' names the same point as R.
        let mut sig_bytes = v.signature;
        sig_bytes[31] ^= 0x80; // flip the sign bit: a different point, a valid encoding
        cases.push(Case { name: format!("R sign flipped #{n}"), signature: sig_bytes, ..v });
    }
    // A key that is not a point, a corrupt message, a corrupt S.
    let v = valid(rng, "");
    let mut bad_key = v.key;
    while CompressedEdwardsY(bad_key).decompress().is_some() {
        bad_key[0] = bad_key[0].wrapping_add(1);
    }
    cases.push(Case { name: "key not a point".into(), key: bad_key, ..v.clone() });
    let mut m = v.message.clone();
    m.push(1);
    cases.push(Case { name: "message changed".into(), message: m, ..v.clone() });
    let mut s = v.signature;
    s[40] ^= 4;
    cases.push(Case { name: "S changed".into(), signature: s, ..v });
    cases
}

/// Adds L to the signature's S (the same value mod L, no longer canonical);
/// false when the sum does not fit in 256 bits.
fn add_l_to_s(signature: &mut [u8; 64]) -> bool {
    let l = hex_le(L_HEX);
    let mut carry = 0u16;
    for (s, l) in signature[32..].iter_mut().zip(&l) {
        let sum = *s as u16 + *l as u16 + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
    carry == 0
}

/// L, the prime order of the base point, little-endian.
const L_HEX: &str = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

fn hex_le(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn strict_verdicts(cases: &[Case]) -> Vec<Result<(), SignatureError>> {
    cases.iter().map(|c| verify_strict(&AccountId(c.key), &c.message, &c.signature)).collect()
}

/// Verdicts through the batch path, every key admitted to batches.
fn batched_verdicts(cases: &[Case]) -> (Vec<Result<(), SignatureError>>, BatchStats) {
    batched_verdicts_with(cases, 1)
}

fn batched_verdicts_with(cases: &[Case], key_uses_min: usize) -> (Vec<Result<(), SignatureError>>, BatchStats) {
    let accounts: Vec<AccountId> = cases.iter().map(|c| AccountId(c.key)).collect();
    let checks: Vec<SignatureCheck<'_>> = cases
        .iter()
        .zip(&accounts)
        .map(|(c, account)| SignatureCheck { account, message: &c.message, signature: &c.signature })
        .collect();
    verify_strict_batched_with(&checks, key_uses_min)
}

fn assert_same_as_strict(cases: &[Case], context: &str) {
    let expected = strict_verdicts(cases);
    for key_uses_min in [1, 8, KEY_USES_MIN] {
        let (got, _) = batched_verdicts_with(cases, key_uses_min);
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(got[i], expected[i], "{context}: case {i} {:?} (key uses min {key_uses_min})", c.name);
        }
    }
}

#[test]
fn valid_signatures_are_accepted_by_the_batch_equation() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let cases: Vec<Case> = (0..300).map(|i| valid(&mut rng, &format!("valid {i}"))).collect();
    let (got, stats) = batched_verdicts(&cases);
    assert!(got.iter().all(Result::is_ok));
    assert_eq!(stats.batched, 300, "all through batch equations: {stats:?}");
    assert_eq!(stats.batches_failed, 0);
}

#[test]
fn every_edge_vector_gets_strict_verdict_alone_and_inside_valid_batches() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let edges = edge_cases(&mut rng);
    let expected = strict_verdicts(&edges);
    let accepted = expected.iter().filter(|v| v.is_ok()).count();
    assert!(accepted > 0, "some mixed-order keys are accepted by strict verification");
    assert!(accepted < edges.len() / 2, "most edge vectors are refused");
    for (i, edge) in edges.iter().enumerate() {
        assert_same_as_strict(std::slice::from_ref(edge), "alone");
        // The vector among valid signatures, at a varying position.
        let mut batch: Vec<Case> = (0..12).map(|j| valid(&mut rng, &format!("valid {j}"))).collect();
        batch.insert(i % 13, edge.clone());
        assert_same_as_strict(&batch, &format!("inside a valid batch ({})", edge.name));
    }
    // All edge vectors in one call (many batches, mostly bad), and shuffled with valid ones.
    assert_same_as_strict(&edges, "all edge vectors together");
    let mut mixed: Vec<Case> = edges.clone();
    mixed.extend((0..edges.len()).map(|j| valid(&mut rng, &format!("valid {j}"))));
    for i in (1..mixed.len()).rev() {
        mixed.swap(i, rng.gen_range(0..=i));
    }
    assert!(mixed.len() > BATCH_LEN_MAX, "spans several batches");
    assert_same_as_strict(&mixed, "edge vectors shuffled with valid signatures");
}

#[test]
fn keys_used_fewer_times_than_the_minimum_are_verified_strictly() {
    const USES_MIN: usize = 8;
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let a = random_scalar(&mut rng);
    let key = (a * B).compress().to_bytes();
    let repeated: Vec<Case> = (0..USES_MIN as u8)
        .map(|m| {
            let message = vec![m];
            let signature = sign_raw(&a, key, &random_scalar(&mut rng), EdwardsPoint::default(), &message);
            Case { name: format!("repeated {m}"), key, message, signature }
        })
        .collect();
    let once: Vec<Case> = (0..20).map(|i| valid(&mut rng, &format!("once {i}"))).collect();
    let mut cases = once.clone();
    cases.extend(repeated.iter().cloned());
    let (got, stats) = batched_verdicts_with(&cases, USES_MIN);
    assert!(got.iter().all(Result::is_ok));
    assert_eq!(stats, BatchStats { batched: USES_MIN, strict: 20, batches_failed: 0 });
    let (_, never) = batched_verdicts_with(&cases, usize::MAX);
    assert_eq!(never, BatchStats { batched: 0, strict: cases.len(), batches_failed: 0 });
}

#[test]
fn all_bad_batches_are_refused_one_by_one() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let cases: Vec<Case> = (0..40)
        .map(|i| {
            let mut c = valid(&mut rng, &format!("bad {i}"));
            c.signature[33] ^= 1;
            c
        })
        .collect();
    let (got, stats) = batched_verdicts(&cases);
    assert!(got.iter().all(|v| *v == Err(SignatureError::Invalid)));
    assert_eq!(stats.batched, 0);
    assert_eq!(stats.batches_failed, 1);
}

/// The danger this design avoids, shown concretely: a signature whose nonce
/// point carries a torsion component of order 2 is refused by strict
/// verification but passes ed25519-dalek's random-coefficient `verify_batch`
/// for about half of all batch contents. Our path refuses it every time.
#[test]
fn a_mixed_order_r_that_fools_a_plain_batch_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let order_two = torsion_points()[4];
    let mut fooled = 0;
    for attempt in 0..64u8 {
        let a = random_scalar(&mut rng);
        let key = (a * B).compress().to_bytes();
        let message = vec![attempt; 3];
        let signature = sign_raw(&a, key, &random_scalar(&mut rng), order_two, &message);
        let bad = Case { name: format!("order-2 R #{attempt}"), key, message, signature };
        assert!(verify_strict(&AccountId(bad.key), &bad.message, &bad.signature).is_err());
        let mut batch: Vec<Case> = (0..7).map(|j| valid(&mut rng, &format!("valid {j}"))).collect();
        batch.push(bad);
        let messages: Vec<&[u8]> = batch.iter().map(|c| c.message.as_slice()).collect();
        let sigs: Vec<ed25519_dalek::Signature> =
            batch.iter().map(|c| ed25519_dalek::Signature::from_bytes(&c.signature)).collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> =
            batch.iter().map(|c| ed25519_dalek::VerifyingKey::from_bytes(&c.key).unwrap()).collect();
        if ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok() {
            fooled += 1;
        }
        let (got, _) = batched_verdicts(&batch);
        assert!(got[..7].iter().all(Result::is_ok));
        assert_eq!(got[7], Err(SignatureError::Invalid), "attempt {attempt}");
    }
    assert!(fooled > 0, "a plain batch accepts some of them");
}

#[test]
fn the_vartime_torsion_check_agrees_with_dalek() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for (i, t) in torsion_points().into_iter().enumerate() {
        let p = random_scalar(&mut rng) * B;
        assert!(is_torsion_free_vartime(&p));
        assert_eq!(is_torsion_free_vartime(&(p + t)), (p + t).is_torsion_free(), "T{i}");
        assert_eq!(is_torsion_free_vartime(&t), t.is_torsion_free(), "T{i} alone");
    }
}

#[test]
fn an_empty_call_gives_no_verdicts() {
    assert!(verify_strict_batched(&[]).is_empty());
}

/// How a generated valid signature is damaged.
#[derive(Clone, Debug)]
enum Corruption {
    None,
    FlipSignatureBit(usize),
    FlipMessageBit(usize),
    FlipKeyBit(usize),
    AddTorsionToR(usize),
    AddTorsionToKey(usize),
    AddLToS,
    SwapKeyWithNext,
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        6 => Just(Corruption::None),
        1 => (0usize..512).prop_map(Corruption::FlipSignatureBit),
        1 => (0usize..64).prop_map(Corruption::FlipMessageBit),
        1 => (0usize..256).prop_map(Corruption::FlipKeyBit),
        1 => (1usize..8).prop_map(Corruption::AddTorsionToR),
        1 => (1usize..8).prop_map(Corruption::AddTorsionToKey),
        1 => Just(Corruption::AddLToS),
        1 => Just(Corruption::SwapKeyWithNext),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_batches_with_random_corruptions_get_strict_verdicts(
        seed in any::<u64>(),
        corruptions in prop::collection::vec(corruption(), 0..40),
        shared_keys in 1usize..6,
    ) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let torsion = torsion_points();
        // A few signers, so keys repeat inside a batch as senders do.
        let secrets: Vec<Scalar> = (0..shared_keys).map(|_| random_scalar(&mut rng)).collect();
        let mut cases: Vec<Case> = corruptions
            .iter()
            .enumerate()
            .map(|(i, corruption)| {
                let a = secrets[i % secrets.len()];
                let torsion_a = match corruption {
                    Corruption::AddTorsionToKey(t) => torsion[*t],
                    _ => EdwardsPoint::default(),
                };
                let torsion_r = match corruption {
                    Corruption::AddTorsionToR(t) => torsion[*t],
                    _ => EdwardsPoint::default(),
                };
                let key = ((a * B) + torsion_a).compress().to_bytes();
                let message: Vec<u8> = (0..8).map(|_| rng.gen()).collect();
                let mut signature = sign_raw(&a, key, &random_scalar(&mut rng), torsion_r, &message);
                let mut case = Case { name: format!("{i} {corruption:?}"), key, message, signature };
                match corruption {
                    Corruption::FlipSignatureBit(bit) => case.signature[bit / 8] ^= 1 << (bit % 8),
                    Corruption::FlipMessageBit(bit) => case.message[bit / 8] ^= 1 << (bit % 8),
                    Corruption::FlipKeyBit(bit) => case.key[bit / 8] ^= 1 << (bit % 8),
                    Corruption::AddLToS => {
                        add_l_to_s(&mut signature);
                        case.signature = signature;
                    }
                    _ => {}
                }
                case
            })
            .collect();
        for i in 0..cases.len() {
            if matches!(corruptions[i], Corruption::SwapKeyWithNext) {
                let next = (i + 1) % cases.len();
                cases[i].key = cases[next].key;
            }
        }
        let expected = strict_verdicts(&cases);
        for key_uses_min in [1, 3, 8] {
            let (got, stats) = batched_verdicts_with(&cases, key_uses_min);
            prop_assert_eq!(&got, &expected);
            prop_assert_eq!(stats.batched + stats.strict, cases.len());
        }
    }
}
