//! Verifies many transfers on several threads, with results in input order.
//!
//! A replica verifies every signature of a chosen batch before it applies it
//! (docs/ARCHITECTURE.md, "Signatures are checked by every member"); one
//! strict Ed25519 verification costs tens of microseconds, so a full batch is
//! split into contiguous chunks verified by scoped threads. The result is the
//! same for any thread count: each transfer's outcome depends on its bytes
//! only, and the outcomes come back in input order.

use crate::transfer::{SignedTransfer, VerifiedTransfer};
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
        return transfers.into_iter().map(|tx| verify_one(tx, auth)).collect();
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
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(|tx| verify_one(tx, auth)).collect::<Vec<_>>()))
            .collect();
        // A panic in a verifier is a bug in this crate: propagate it.
        handles.into_iter().flat_map(|h| h.join().expect("a verifier thread panicked")).collect()
    });
    assert_eq!(verdicts.len(), count, "one verdict per transfer");
    verdicts
}

fn verify_one(tx: SignedTransfer, auth: AuthMode) -> Verdict {
    match tx.check_stateless(auth) {
        Ok(()) => Ok(VerifiedTransfer::checked(tx)),
        Err(reason) => Err((tx, reason)),
    }
}
