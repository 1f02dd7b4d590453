//! Verifies many transfers on several threads, with results in input order.
//!
//! A replica verifies every signature of a chosen batch before it applies it
//! (docs/ARCHITECTURE.md, "Signatures are checked by every member"); one
//! strict Ed25519 verification costs tens of microseconds, so a full batch is
//! split into contiguous chunks verified by scoped threads. The result is the
//! same for any thread count: each transfer's outcome depends on its bytes
//! only, and the outcomes come back in input order.
//!
//! Within a chunk, signatures are verified in batches by
//! [`sig_batch::verify_strict_batched`], which gives every signature exactly
//! the verdict of strict verification; the checks before the signature run
//! in the order of [`SignedTransfer::check_stateless`], so each transfer gets
//! the same verdict as `check_stateless` would give it.

use crate::sig_batch::{self, SignatureCheck};
use crate::transfer::{self, SignedTransfer, VerifiedTransfer};
use crate::{AuthMode, RejectReason};

/// Most threads one call spawns, whatever the caller asks.
pub const VERIFY_THREADS_MAX: usize = 8;

/// Fewest transfers worth a thread of their own: below this, spawning costs
/// more than it saves.
pub const TRANSFERS_PER_THREAD_MIN: usize = 32;

/// One transfer's verification: the verified transfer, or the transfer and why it failed.
pub type Verdict = Result<VerifiedTransfer, (SignedTransfer, RejectReason)>;

/// [`SignedTransfer::verify`] of every transfer under `auth`, on up to
/// `threads` threads (at least 1, at most [`VERIFY_THREADS_MAX`]). One
/// verdict per transfer, in input order.
pub fn verify_all(transfers: Vec<SignedTransfer>, auth: AuthMode, threads: usize) -> Vec<Verdict> {
    let count = transfers.len();
    let threads = threads.clamp(1, VERIFY_THREADS_MAX).min(count.div_ceil(TRANSFERS_PER_THREAD_MIN)).max(1);
    if threads == 1 {
        return verify_chunk(transfers, auth);
    }
    let chunk_len = count.div_ceil(threads);
    let mut chunks: Vec<Vec<SignedTransfer>> = Vec::with_capacity(threads);
    let mut rest = transfers.into_iter();
    loop {
        let chunk: Vec<SignedTransfer> = rest.by_ref().take(chunk_len).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    assert!(chunks.len() <= threads, "at most one chunk per thread");
    let verdicts: Vec<Verdict> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks.into_iter().map(|chunk| scope.spawn(move || verify_chunk(chunk, auth))).collect();
        // A panic in a verifier is a bug in this crate: propagate it.
        handles.into_iter().flat_map(|h| h.join().expect("a verifier thread panicked")).collect()
    });
    assert_eq!(verdicts.len(), count, "one verdict per transfer");
    verdicts
}

/// The verdicts of one thread's contiguous chunk, in order.
fn verify_chunk(chunk: Vec<SignedTransfer>, auth: AuthMode) -> Vec<Verdict> {
    // Everything `check_stateless` checks before the signature; `Some(bytes)`
    // when a signature remains to be checked over these signing bytes.
    let before_signature: Vec<Result<Option<Vec<u8>>, RejectReason>> =
        chunk.iter().map(|tx| checks_before_signature(tx, auth)).collect();
    let checks: Vec<SignatureCheck<'_>> = chunk
        .iter()
        .zip(&before_signature)
        .filter_map(|(tx, pre)| match (pre, &tx.signature) {
            (Ok(Some(message)), Some(signature)) => {
                Some(SignatureCheck { account: &tx.transfer.from, message, signature })
            }
            _ => None,
        })
        .collect();
    let mut signature_verdicts = sig_batch::verify_strict_batched(&checks).into_iter();
    drop(checks);
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(chunk.len());
    for (tx, pre) in chunk.into_iter().zip(before_signature) {
        let result = match pre {
            Err(reason) => Err(reason),
            Ok(None) => Ok(()),
            Ok(Some(_)) => match signature_verdicts.next() {
                Some(verdict) => verdict.map_err(RejectReason::BadSignature),
                None => unreachable!("one signature verdict per signed transfer"),
            },
        };
        verdicts.push(match result {
            Ok(()) => Ok(VerifiedTransfer::checked(tx)),
            Err(reason) => Err((tx, reason)),
        });
    }
    assert!(signature_verdicts.next().is_none(), "every signature verdict used");
    verdicts
}

/// [`SignedTransfer::check_stateless`] up to the signature, in its order:
/// shape, receiver, then whether a signature is required. `Some(signing
/// bytes)` when a single-key signature is present and must be verified; a
/// multi-signature is verified in full here, so `Ok(None)` then means it passed.
fn checks_before_signature(tx: &SignedTransfer, auth: AuthMode) -> Result<Option<Vec<u8>>, RejectReason> {
    tx.transfer.check_shape()?;
    transfer::check_receiver(auth, tx)?;
    match (&tx.signature, &tx.multisig, auth) {
        (Some(_), Some(_), _) => Err(RejectReason::ConflictingAuth),
        (None, None, AuthMode::Ed25519) => Err(RejectReason::MissingSignature),
        (None, None, AuthMode::None) => Ok(None),
        (Some(_), None, _) => Ok(Some(tx.transfer.signing_bytes())),
        // Multi-signature spends are verified here, one signature at a time
        // (strictly): they are rare, and a batch would need their several keys.
        (None, Some(multisig), _) => multisig.check(&tx.transfer.from, &tx.transfer.signing_bytes()).map(|()| None),
    }
}
