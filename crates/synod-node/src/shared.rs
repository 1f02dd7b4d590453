//! State shared between the HTTP handlers and the committer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use synod_core::{AuthMode, Ledger};
use synod_storage::Store;
use tokio::sync::Semaphore;

use crate::committer::SubmitQueue;
use crate::health::{Health, ThreadKind};

pub struct Shared {
    /// Durable truth: accounts, blocks and the transfer index are read from here,
    /// so a reader never sees a transfer that is not yet on disk.
    pub store: Store,
    /// The committer's ledger. Readers use it only for Merkle proofs, at sizes no
    /// larger than the durable head (its tree may run one block ahead of disk).
    pub ledger: RwLock<Ledger>,
    pub chain_id: u64,
    pub auth: AuthMode,
    pub queue: SubmitQueue,
    /// Bounds the transfers waiting for the committer.
    pub queued_transfers: Arc<Semaphore>,
    /// Set when storage failed: the in-memory ledger may be ahead of the disk,
    /// so the node refuses all writes until restarted.
    pub halted: AtomicBool,
    /// Set by `Node::shutdown`; background tasks exit when they see it.
    pub stopping: AtomicBool,
    pub started_at: std::time::Instant,
    /// Replicated mode; `None` for a single node.
    pub cluster: Option<crate::cluster::ClusterHandle>,
    pub metrics: crate::metrics::Metrics,
    /// Fail-stop state and the threads' heartbeats (`health.rs`).
    pub health: Arc<Health>,
}

impl Shared {
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Halted (storage failed, or divergence) or FAILED (a thread died): the
    /// node refuses writes.
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst) || self.health.is_failed()
    }

    /// Fail-stop: the node stops voting, leading and serving (see `health.rs`).
    pub fn fail(&self, reason: impl Into<String>) {
        self.halted.store(true, Ordering::SeqCst);
        self.health.fail(reason);
    }

    /// Test-only fault injection: every thread of `kind` panics at its next beat.
    #[doc(hidden)]
    pub fn inject_panic(&self, kind: ThreadKind) {
        self.health.inject_panic(kind);
    }
}
