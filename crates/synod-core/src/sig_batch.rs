//! Batch Ed25519 verification that accepts exactly what strict verification
//! ([`crypto::verify_strict`]) accepts.
//!
//! Strict verification of a signature `(R, S)` by key `A` on message `M`
//! accepts iff `A` decodes, `S < L`, `R` decodes, neither `R` nor `A` has
//! small order, and the canonical encoding of `[S]B - [k]A` equals `R`'s
//! bytes, with `k = SHA-512(R || A || M) mod L`. A batch checks one random
//! linear combination `Σ zᵢ([Sᵢ]B - Rᵢ - [kᵢ]Aᵢ) = 0` instead, which is about
//! three times cheaper per signature, but it is not the same test in general:
//! a term `Dᵢ = [Sᵢ]B - Rᵢ - [kᵢ]Aᵢ` with a small-order (torsion) part can
//! cancel against the coefficients with probability up to 1/2, so a batch may
//! accept a signature strict verification refuses (Chalkias et al., "Taming
//! the many EdDSAs", 2020). Replicas that chunk a block differently would then
//! disagree on which transfers are valid.
//!
//! So a signature enters a batch only when its equation cannot have a torsion
//! part: `A` and `R` are canonical encodings of points of the prime-order
//! subgroup other than the identity, and `S` is canonical. Then every `Dᵢ`
//! lies in the group of prime order `L`, strict verification accepts iff
//! `Dᵢ = 0` (a canonical `R` equals the canonical encoding of a point iff it
//! is that point), and the batch equation holds with all `Dᵢ = 0`. Any other
//! signature (undecodable, non-canonical, small-order, mixed-order, `S ≥ L`)
//! is verified by strict verification itself, so its verdict is strict's by
//! construction.
//! When a batch fails, each of its signatures is verified strictly, so each
//! gets its own exact verdict.
//!
//! The coefficients `zᵢ` come from SHA-512 of the whole batch (every `R`, `A`,
//! `S` and `k`, which binds the message), not from a random number generator:
//! the core is sans-IO and every replica must reach the same verdicts. That
//! is sound for the same reason as Fiat–Shamir: an attacker fixes every input
//! before the coefficients exist, and any change to any input changes all of
//! them. If some `Dⱼ ≠ 0`, the others fix the one value of `zⱼ mod L` that
//! would cancel it, and `zⱼ` (127 random bits, odd so never 0) hits it with
//! probability 2⁻¹²⁷ per hash evaluation the attacker pays for; the batch's
//! contents also depend on other clients' transfers and on how the replica
//! chunks them, which the attacker does not control.
//!
//! Checking that `R` is torsion-free costs one variable-base scalar
//! multiplication by `L - 1`, most of a strict verification; `A`'s check is
//! done once per key and call, so only keys that sign several times in a call
//! ([`KEY_USES_MIN`]) may use batches. Measured, batches do not beat strict
//! verification with each key decoded once, so they are off by default
//! (docs/BENCHMARKS.md, "Lever 3").

use std::collections::HashMap;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};

use ed25519_dalek::VerifyingKey;

use crate::crypto::{self, SignatureError};
use crate::AccountId;

/// Most signatures in one batch equation. Bounds the work wasted when a batch
/// fails (every member is then verified strictly) and the memory of one
/// equation; the per-signature cost is flat beyond a few hundred.
pub const BATCH_LEN_MAX: usize = 256;

/// Fewest eligible signatures worth a batch: below this the strict path is as fast.
pub const BATCH_LEN_MIN: usize = 4;

/// Domain separation of the coefficient derivation.
const COEFFICIENT_DOMAIN: &[u8; 18] = b"synod.sigbatch.v1\x00";

/// One signature to verify: `signature` over `message` by `account`'s key.
#[derive(Clone, Copy, Debug)]
pub struct SignatureCheck<'a> {
    pub account: &'a AccountId,
    pub message: &'a [u8],
    pub signature: &'a [u8; 64],
}

/// [`crypto::verify_strict`] of every check, in input order, each key decoded
/// once, and using batch equations where that gives the same verdict (see the
/// module documentation) for keys used at least [`KEY_USES_MIN`] times.
pub fn verify_strict_batched(checks: &[SignatureCheck<'_>]) -> Vec<Result<(), SignatureError>> {
    verify_strict_batched_with(checks, KEY_USES_MIN).0
}

/// How the verdicts of one call were reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Signatures accepted by a batch equation that held.
    pub batched: usize,
    /// Signatures verified one by one: key used too few times, not eligible,
    /// in a batch too small, or in a batch whose equation failed.
    pub strict: usize,
    /// Batch equations that failed (their members were then verified strictly).
    pub batches_failed: usize,
}

/// Fewest signatures by one key in a call for that key's signatures to go
/// through batch equations; `usize::MAX` turns batch equations off.
///
/// Off by default, because measured it does not pay (docs/BENCHMARKS.md,
/// "Lever 3"): the torsion check of each `R`, needed for verdicts equal to
/// strict's, costs about as much as the cofactorless equation a batch saves,
/// and admitting a key costs one more such check. What does pay is decoding
/// each key once per call, which the strict path here always does. The batch
/// path stays, tested for equality with strict, for callers that pass a
/// smaller minimum and for when a cheaper torsion check is available.
pub const KEY_USES_MIN: usize = usize::MAX;

/// [`verify_strict_batched`] with an explicit [`KEY_USES_MIN`]
/// (`usize::MAX`: never batch; every signature is verified strictly, with
/// each key decoded once per call), also saying how verdicts were reached.
pub fn verify_strict_batched_with(
    checks: &[SignatureCheck<'_>],
    key_uses_min: usize,
) -> (Vec<Result<(), SignatureError>>, BatchStats) {
    let mut stats = BatchStats::default();
    // At most one entry per check, so the map is bounded by the input.
    let mut keys: HashMap<[u8; 32], KeyEntry> = HashMap::new();
    for check in checks {
        keys.entry(check.account.0).or_default().uses += 1;
    }
    let mut verdicts = Vec::with_capacity(checks.len());
    for group in checks.chunks(BATCH_LEN_MAX) {
        verify_group(group, key_uses_min, &mut keys, &mut verdicts, &mut stats);
    }
    assert_eq!(verdicts.len(), checks.len(), "one verdict per check");
    assert_eq!(stats.batched + stats.strict, checks.len(), "every verdict counted once");
    (verdicts, stats)
}

/// What one call learnt about one sender key, each part computed at most once.
#[derive(Default)]
struct KeyEntry {
    /// Signatures by this key in the call.
    uses: usize,
    /// [`crypto::decode_key`] of it.
    decoded: Option<Result<VerifyingKey, SignatureError>>,
    /// Its point, if it may enter a batch ([`prime_order_point`]).
    batchable: Option<Option<EdwardsPoint>>,
}

impl KeyEntry {
    fn strict(&mut self, check: &SignatureCheck<'_>) -> Result<(), SignatureError> {
        match self.decoded.get_or_insert_with(|| crypto::decode_key(check.account)) {
            Ok(key) => crypto::verify_strict_with_key(key, check.message, check.signature),
            Err(e) => Err(*e),
        }
    }

    fn batchable(&mut self, key: &[u8; 32]) -> Option<EdwardsPoint> {
        *self.batchable.get_or_insert_with(|| prime_order_point(key))
    }
}

/// A signature whose equation has no torsion part.
struct Eligible {
    index: usize,
    r_bytes: [u8; 32],
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
    key: [u8; 32],
    a: EdwardsPoint,
}

fn verify_group(
    group: &[SignatureCheck<'_>],
    key_uses_min: usize,
    keys: &mut HashMap<[u8; 32], KeyEntry>,
    verdicts: &mut Vec<Result<(), SignatureError>>,
    stats: &mut BatchStats,
) {
    let base = verdicts.len();
    verdicts.extend(std::iter::repeat_n(Ok(()), group.len()));
    let mut eligible = Vec::with_capacity(group.len());
    for (index, check) in group.iter().enumerate() {
        let entry = keys.get_mut(&check.account.0).expect("every key was counted");
        let batch = if entry.uses >= key_uses_min { eligible_signature(index, check, entry) } else { None };
        match batch {
            Some(e) => eligible.push(e),
            None => {
                verdicts[base + index] = entry.strict(check);
                stats.strict += 1;
            }
        }
    }
    if eligible.len() >= BATCH_LEN_MIN {
        if batch_equation_holds(&eligible) {
            stats.batched += eligible.len();
            return; // every eligible verdict is already Ok
        }
        stats.batches_failed += 1;
    }
    stats.strict += eligible.len();
    for e in &eligible {
        let check = &group[e.index];
        let entry = keys.get_mut(&check.account.0).expect("every key was counted");
        verdicts[base + e.index] = entry.strict(check);
    }
}

fn eligible_signature(index: usize, check: &SignatureCheck<'_>, entry: &mut KeyEntry) -> Option<Eligible> {
    let key = check.account.0;
    let a = entry.batchable(&key)?;
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&check.signature[32..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&check.signature[..32]);
    let r = prime_order_point(&r_bytes)?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key);
    h.update(check.message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    Some(Eligible { index, r_bytes, r, s, k, key, a })
}

/// The point `bytes` encode, if the encoding is canonical and the point lies in
/// the prime-order subgroup and is not the identity.
pub fn prime_order_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    let point = CompressedEdwardsY(*bytes).decompress()?;
    if point.compress().to_bytes() != *bytes || point.is_identity() || !is_torsion_free_vartime(&point) {
        return None;
    }
    Some(point)
}

/// `[L]P = 0`, computed as `[L - 1]P = -P` in variable time (the inputs are
/// public). Same answer as curve25519-dalek's constant-time `is_torsion_free`.
pub fn is_torsion_free_vartime(point: &EdwardsPoint) -> bool {
    let l_minus_one = -Scalar::ONE;
    EdwardsPoint::vartime_double_scalar_mul_basepoint(&l_minus_one, point, &Scalar::ZERO) == -point
}

/// `Σ zᵢ([Sᵢ]B - Rᵢ - [kᵢ]Aᵢ) = 0` with coefficients derived from the batch.
/// Terms of one key share one point: `-Σ zᵢkᵢ` times `A`.
fn batch_equation_holds(batch: &[Eligible]) -> bool {
    let z = coefficients(batch);
    let mut b_coefficient = Scalar::ZERO;
    let mut scalars: Vec<Scalar> = Vec::with_capacity(2 * batch.len() + 1);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(2 * batch.len() + 1);
    let mut key_slots: HashMap<[u8; 32], usize> = HashMap::new();
    let mut key_coefficients: Vec<Scalar> = Vec::new();
    let mut key_points: Vec<EdwardsPoint> = Vec::new();
    for (e, z) in batch.iter().zip(&z) {
        b_coefficient += z * e.s;
        scalars.push(-z);
        points.push(e.r);
        let slot = *key_slots.entry(e.key).or_insert_with(|| {
            key_coefficients.push(Scalar::ZERO);
            key_points.push(e.a);
            key_points.len() - 1
        });
        key_coefficients[slot] -= z * e.k;
    }
    scalars.push(b_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    scalars.extend(key_coefficients);
    points.extend(key_points);
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity()
}

/// One odd 128-bit coefficient per signature from SHA-512 of every input of
/// the batch: `seed = SHA-512(domain || count || (R || A || S || k)*)`, then
/// block `j` = `SHA-512(seed || j)` gives coefficients `4j .. 4j + 3`.
fn coefficients(batch: &[Eligible]) -> Vec<Scalar> {
    let mut h = Sha512::new();
    h.update(COEFFICIENT_DOMAIN);
    h.update((batch.len() as u64).to_le_bytes());
    for e in batch {
        h.update(e.r_bytes);
        h.update(e.key);
        h.update(e.s.as_bytes());
        h.update(e.k.as_bytes());
    }
    let seed = h.finalize();
    let mut z = Vec::with_capacity(batch.len());
    for block_index in 0..batch.len().div_ceil(4) as u64 {
        let mut h = Sha512::new();
        h.update(seed);
        h.update(block_index.to_le_bytes());
        let block = h.finalize();
        for part in block.chunks_exact(16) {
            if z.len() == batch.len() {
                break;
            }
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(part);
            z.push(Scalar::from(u128::from_le_bytes(bytes) | 1));
        }
    }
    z
}
