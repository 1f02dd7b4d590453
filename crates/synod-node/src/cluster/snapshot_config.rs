//! Tuning of log compaction and snapshot transfer (`[snapshot]` in the node
//! config). The defaults suit production; tests shrink them to exercise
//! compaction and multi-chunk installs with few slots.

use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use synod_storage::snapshot::CHUNK_BYTES_MAX;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotConfig {
    /// Chosen log slots kept below this node's applied slot for peers that
    /// fall behind, in slots. A peer further behind than this (one that was
    /// down, say) catches up from a ledger snapshot instead; the log, and so
    /// the memory it takes, stays bounded whatever a dead peer does. Live
    /// peers within the window are waited for.
    pub log_retain_slots: u64,
    /// Most bytes in one snapshot chunk (1..=4 MiB). A chunk always holds at
    /// least one block, so a single larger block still travels.
    pub chunk_bytes_max: usize,
    /// Failed chunk fetches (unreachable member, refused chunk) tolerated per
    /// install, rotating through the members from the snapshot's sender on,
    /// before the install is abandoned; consensus then asks for a snapshot
    /// again.
    pub chunk_failures_max: u32,
    /// Test-only fault injection; never set by a config file.
    #[serde(skip)]
    #[doc(hidden)]
    pub faults: SnapshotFaults,
}

/// Deliberate faults for the snapshot tests.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct SnapshotFaults {
    /// This node damages (flips a byte of) the next N chunks it serves.
    pub corrupt_served_chunks: Arc<AtomicU32>,
    /// This node's install stops after N chunks and hangs until the node
    /// stops, as if power failed there (0: never).
    pub hang_install_after_chunks: u32,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            log_retain_slots: 10_000,
            chunk_bytes_max: CHUNK_BYTES_MAX,
            chunk_failures_max: 8,
            faults: SnapshotFaults::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotConfigError {
    #[error("snapshot.chunk_bytes_max must be 1..={CHUNK_BYTES_MAX}, got {0}")]
    ChunkBytes(usize),
    #[error("snapshot.chunk_failures_max must be at least 1")]
    Attempts,
}

impl SnapshotConfig {
    pub fn validate(&self) -> Result<(), SnapshotConfigError> {
        if self.chunk_bytes_max == 0 || self.chunk_bytes_max > CHUNK_BYTES_MAX {
            return Err(SnapshotConfigError::ChunkBytes(self.chunk_bytes_max));
        }
        if self.chunk_failures_max == 0 {
            return Err(SnapshotConfigError::Attempts);
        }
        Ok(())
    }
}
