//! Serving ledger chunks to a peer installing a snapshot (docs/PROTOCOL.md
//! §7.6; the receiver is `install.rs`). Requests arrive on the peer port's
//! snapshot-chunk channel, so only a member holding a certificate of the
//! cluster CA can ask; the transport calls this on a blocking thread, a bounded
//! number at a time.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use synod_storage::snapshot::{ChunkReadError, CHUNK_BYTES_MAX};

use crate::shared::Shared;
use crate::transport::{ChunkRefusal, ChunkRequest, ChunkSource, PeerId};

pub struct ChunkServer {
    pub shared: Arc<Shared>,
}

impl ChunkSource for ChunkServer {
    fn read_chunk(&self, from: PeerId, request: ChunkRequest) -> Result<Vec<u8>, ChunkRefusal> {
        let shared = &self.shared;
        let cluster = shared.cluster.as_ref().expect("only cluster members serve chunks");
        // A halted member's ledger may be the wrong one (divergence) or not
        // what its disk holds: it serves nothing.
        if shared.is_halted() {
            return Err(ChunkRefusal::Halted("this member halted its writes".into()));
        }
        let bytes_max = request.bytes_max as usize;
        if bytes_max > CHUNK_BYTES_MAX {
            return Err(ChunkRefusal::BytesMax(format!("bytes_max {bytes_max} above {CHUNK_BYTES_MAX}")));
        }
        assert!(request.from_height >= 1 && request.from_height <= request.to_height, "checked by the transport");
        let chunk = match shared.store.read_chunk(request.from_height, request.to_height, bytes_max) {
            Ok(chunk) => chunk,
            Err(e @ ChunkReadError::NotStored { .. }) => return Err(ChunkRefusal::NotStored(e.to_string())),
            Err(e @ ChunkReadError::NoSlot { .. }) => return Err(ChunkRefusal::NoSlot(e.to_string())),
            Err(ChunkReadError::Store(e)) => {
                tracing::warn!(from, error = %e, "storage error while serving a snapshot chunk");
                return Err(ChunkRefusal::Unavailable(format!("storage: {e}")));
            }
        };
        let mut bytes = chunk.encode();
        let corrupt = &cluster.snapshot.faults.corrupt_served_chunks;
        if corrupt.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            // Test fault: a chunk damaged on its way (after the checked read).
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x20;
        }
        shared.metrics.snapshot_chunks_served.inc();
        Ok(bytes)
    }
}
