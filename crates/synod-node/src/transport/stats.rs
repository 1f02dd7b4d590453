//! Per-peer counters, shared by `send`, the outbound task and the inbound reader.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

/// One peer's status, as `/v1/status` shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PeerStats {
    /// The outbound connection has completed its handshake and is open.
    pub connected: bool,
    /// Messages in the outbound queue now.
    pub queued: usize,
    /// Messages written and flushed to the outbound connection (the kernel has
    /// them; delivery is not acknowledged).
    pub sent: u64,
    /// Messages refused by `send` because the queue was full.
    pub dropped: u64,
    /// Outbound connections established after the first one.
    pub reconnects: u64,
    /// Messages received from this peer and handed to `inbound`.
    pub received: u64,
}

#[derive(Debug, Default)]
pub struct PeerCounters {
    pub connected: AtomicBool,
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub reconnects: AtomicU64,
    pub received: AtomicU64,
}

impl PeerCounters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self, queued: usize) -> PeerStats {
        PeerStats {
            connected: self.connected.load(Ordering::Relaxed),
            queued,
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
        }
    }
}
