//! Installing a peer's ledger snapshot, run by the applier thread (the
//! ledger's only writer).
//!
//! The Paxos snapshot carries a `SnapshotDescriptor` (slot, height and head
//! hash of the sender's durable ledger). The installer pulls the blocks this
//! node lacks in chunks of at most `chunk_bytes_max` bytes from the peers'
//! snapshot-chunk channel on the mutually authenticated peer port
//! (`transport::ChunkClient`, served by `chunk_server.rs`), the sender
//! first, and hands each to `Store::install_chunk`, which checks every
//! block (height, link, slot order) and stages it, unapplied, until the
//! staged chain reaches the descriptor's head hash; then it applies the whole
//! proven chain (`Ledger::apply_block` with signatures) and writes it with
//! the descriptor's slot in one fsynced transaction. The next chunk starts
//! above the stage (`Store::install_next_height`), which survives a crash
//! and an abandoned install. A refused chunk or a failed fetch moves on to
//! the next member; after `chunk_failures_max` of them the install is
//! abandoned and reported with the slot the ledger durably holds (the one
//! before the install: a partial install applies nothing), and consensus
//! asks for a snapshot again later.
//!
//! Why a connection of its own and not the consensus stream: a 4 MiB chunk
//! on the one stream a pair of members shares for consensus would delay
//! heartbeats and accepts behind it (and the transport drops what its
//! 4,096-message queue cannot hold). Each chunk is one short connection
//! (handshake channel 1): the receiver pulls one chunk at a time, so flow
//! control comes for free.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use synod_paxos::{Slot, Snapshot};
use synod_storage::snapshot::{chunk::encoded_bytes_max, InstallError, SnapshotDescriptor, CHUNK_BYTES_MAX};
use tokio::sync::watch;

use super::applier::publish;
use crate::shared::Shared;
use crate::transport::{ChunkClient, ChunkFetchError, ChunkRequest};

/// Pause after a failed attempt, times the attempt number.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Why one chunk attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("fetching a chunk: {0}")]
    Fetch(#[from] ChunkFetchError),
    #[error("peer {peer} sent a chunk that was refused: {source}")]
    Refused { peer: u8, source: InstallError },
}

pub struct Installer {
    pub shared: Arc<Shared>,
    pub runtime: tokio::runtime::Handle,
    /// Fetches chunks over the peer port (mutual TLS).
    pub chunks: ChunkClient,
    /// The applied watch, advanced after every chunk written.
    pub applied: watch::Sender<Slot>,
}

impl Installer {
    /// Installs `snapshot`; returns the slot the ledger now durably holds (the
    /// snapshot's on success, less if the install was abandoned), or `None`
    /// if the node is stopping or halted.
    pub fn install(&self, snapshot: &Snapshot) -> Option<Slot> {
        let shared = &self.shared;
        let cluster = shared.cluster.as_ref().expect("replicated mode");
        let config = &cluster.snapshot;
        let target = match SnapshotDescriptor::decode(&snapshot.bytes) {
            Ok(t) if t.last_slot == snapshot.last_slot => t,
            Ok(t) => {
                tracing::warn!(slot = snapshot.last_slot, descriptor = t.last_slot, "snapshot slot mismatch; ignored");
                return self.durable_slot();
            }
            Err(e) => {
                tracing::warn!(error = %e, "undecodable snapshot descriptor; ignored");
                return self.durable_slot();
            }
        };
        let peers = fetch_order(cluster.node_id, target.source, cluster.http_urls.snapshot().into_keys());
        let mut chunks: u32 = 0;
        let mut failures: u32 = 0;
        loop {
            if shared.is_stopping() || shared.is_halted() {
                return None;
            }
            let (height, next) = {
                let ledger = shared.ledger.read().expect("ledger lock");
                match shared.store.install_next_height(&ledger, &target) {
                    Ok(next) => (ledger.head().height, next),
                    Err(e) => {
                        drop(ledger);
                        return self.halt(&e.to_string());
                    }
                }
            };
            if height >= target.height {
                let ledger = shared.ledger.read().expect("ledger lock");
                return match shared.store.finish_install(&ledger, &target) {
                    Ok(slot) => {
                        drop(ledger);
                        shared.metrics.snapshots_installed.inc();
                        tracing::info!(slot, height, chunks, "snapshot installed");
                        Some(slot)
                    }
                    Err(InstallError::Store(e)) => self.halt(&e.to_string()),
                    Err(e) => {
                        // Our ledger disagrees with the snapshot at its head:
                        // no other member can fix that by sending chunks.
                        tracing::error!(error = %e, "snapshot does not match this ledger; abandoned");
                        drop(ledger);
                        self.durable_slot()
                    }
                };
            }
            if failures >= config.chunk_failures_max {
                tracing::warn!(failures, slot = target.last_slot, "snapshot install abandoned for now");
                return self.durable_slot();
            }
            let peer = peers[failures as usize % peers.len()];
            match self.fetch_and_install(peer, next, &target) {
                Ok(progress) => {
                    chunks += 1;
                    tracing::info!(
                        chunks,
                        staged_height = progress.staged_height,
                        slot = progress.applied_slot,
                        target_slot = target.last_slot,
                        target_height = target.height,
                        "snapshot install: chunk staged or applied"
                    );
                    shared.metrics.snapshot_chunks_installed.inc();
                    publish(shared, progress.applied_slot, &self.applied);
                    let hang_after = config.faults.hang_install_after_chunks;
                    if hang_after > 0 && chunks >= hang_after {
                        // Test fault: power fails here. Nothing more happens
                        // until the node is stopped.
                        while !shared.is_stopping() {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        return None;
                    }
                }
                Err(FetchError::Refused { source: InstallError::Store(e), .. }) => return self.halt(&e.to_string()),
                Err(e) => {
                    failures += 1;
                    if matches!(e, FetchError::Refused { .. }) {
                        shared.metrics.snapshot_chunks_refused.inc();
                    }
                    tracing::warn!(error = %e, failures, "snapshot chunk failed; trying the next member");
                    std::thread::sleep(RETRY_PAUSE * failures);
                }
            }
        }
    }

    fn fetch_and_install(
        &self,
        peer: u8,
        from_height: u64,
        target: &SnapshotDescriptor,
    ) -> Result<synod_storage::snapshot::InstallProgress, FetchError> {
        let cluster = self.shared.cluster.as_ref().expect("replicated mode");
        let bytes_max = cluster.snapshot.chunk_bytes_max;
        let request = ChunkRequest {
            from_height,
            to_height: target.height,
            bytes_max: u32::try_from(bytes_max.min(CHUNK_BYTES_MAX)).expect("4 MiB fits a u32"),
        };
        let body = self.runtime.block_on(self.chunks.fetch(peer, request, encoded_bytes_max(bytes_max)))?;
        let mut ledger = self.shared.ledger.write().expect("ledger lock");
        self.shared
            .store
            .install_chunk(&mut ledger, target, &body, bytes_max)
            .map_err(|source| FetchError::Refused { peer, source })
    }

    fn durable_slot(&self) -> Option<Slot> {
        match self.shared.store.applied_slot() {
            Ok(slot) => Some(slot),
            Err(e) => self.halt(&e.to_string()),
        }
    }

    /// Storage failed mid-install: the in-memory ledger may be ahead of the
    /// disk, so the node stops writing, as the applier does.
    fn halt(&self, detail: &str) -> Option<Slot> {
        tracing::error!(error = detail, "storage failed during a snapshot install; halting writes");
        self.shared.halted.store(true, Ordering::SeqCst);
        None
    }
}

/// The snapshot's sender first, then every other member but this one.
fn fetch_order(me: u8, source: u8, members: impl Iterator<Item = u8>) -> Vec<u8> {
    let mut others: Vec<u8> = members.filter(|m| *m != me && *m != source).collect();
    others.sort_unstable();
    if source != me {
        others.insert(0, source);
    }
    assert!(!others.is_empty(), "a cluster member has peers");
    others
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_is_asked_first_then_the_others_in_order() {
        assert_eq!(fetch_order(3, 2, [1, 2, 3].into_iter()), vec![2, 1]);
        assert_eq!(fetch_order(1, 3, [3, 2, 1, 4].into_iter()), vec![3, 2, 4]);
        // A descriptor naming this node itself (never sent, but harmless).
        assert_eq!(fetch_order(2, 2, [1, 2, 3].into_iter()), vec![1, 3]);
    }
}
