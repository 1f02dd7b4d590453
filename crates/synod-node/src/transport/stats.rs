//! Per-peer counters, shared by `send`, the outbound task and the inbound reader.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::Notify;
use tokio::time::Instant;

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
    /// Messages refused by `send` because the queue was full (in messages
    /// or in bytes).
    pub dropped: u64,
    /// Of those, messages refused because they did not fit the queue's
    /// byte bound (`QUEUE_BYTES_MAX`).
    pub dropped_bytes_full: u64,
    /// Payload bytes in the outbound queue now.
    pub queued_bytes: usize,
    /// Outbound connections established after the first one.
    pub reconnects: u64,
    /// Messages received from this peer and handed to `inbound`.
    pub received: u64,
    /// Milliseconds since the last frame (message or keepalive) or inbound
    /// handshake from this peer; `None` if never heard since start.
    pub last_heard_ms_ago: Option<u64>,
    /// Silent for longer than `peer_lost_after_ms` (never heard counts from
    /// the transport's start).
    pub lost: bool,
}

#[derive(Debug, Default)]
pub struct PeerCounters {
    pub connected: AtomicBool,
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub dropped_bytes_full: AtomicU64,
    pub reconnects: AtomicU64,
    pub received: AtomicU64,
    /// When a frame or inbound handshake from the peer last arrived.
    pub last_heard: Mutex<Option<Instant>>,
    /// Set and cleared by the liveness watchdog (`liveness.rs`).
    pub lost: AtomicBool,
    /// The watchdog asks the outbound task to drop its connection and dial
    /// again: a connection to a silent peer may be blackholed.
    pub redial: Notify,
}

impl PeerCounters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Something arrived from the peer just now.
    pub fn heard(&self) {
        *self.last_heard.lock().expect("last_heard lock") = Some(Instant::now());
    }

    pub fn last_heard(&self) -> Option<Instant> {
        *self.last_heard.lock().expect("last_heard lock")
    }

    pub fn snapshot(&self, queued: usize, queued_bytes: usize) -> PeerStats {
        let now = Instant::now();
        PeerStats {
            connected: self.connected.load(Ordering::Relaxed),
            queued,
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            dropped_bytes_full: self.dropped_bytes_full.load(Ordering::Relaxed),
            queued_bytes,
            reconnects: self.reconnects.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            last_heard_ms_ago: self.last_heard().map(|at| now.saturating_duration_since(at).as_millis() as u64),
            lost: self.lost.load(Ordering::Relaxed),
        }
    }
}
