//! The transport's fixed bounds (the configurable ones are in `TransportConfig`).

/// Longest a handshake may take, on either side, before the connection is dropped:
/// a stranger that connects and stays silent is cut off.
pub const HANDSHAKE_TIMEOUT_MS: u64 = 5_000;

/// Longest an outbound TCP connect may take.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;

/// Most inbound connections in their handshake at once; more are closed at accept.
pub const HANDSHAKES_PENDING_MAX: usize = 64;

/// The outbound task stops adding frames to a write batch past this many bytes,
/// then flushes, so one batch holds a bounded amount of memory beyond the queue.
pub const WRITE_BATCH_BYTES_MAX: usize = 1024 * 1024;

/// Most payload bytes each peer's outbound queue holds (or one frame of
/// `frame_bytes_max`, if that is larger): with the message bound alone
/// (`queue_messages_max`, 4,096) a peer that is down could pin 4,096 frames
/// of up to 8 MiB (16 GiB of 4 MiB accepts) in this node's memory. A frame
/// that does not fit is dropped and counted (`SendError::QueueBytesFull`,
/// `PeerStats::dropped_bytes_full`); consensus retransmits.
pub const QUEUE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Buffer of each connection's writer and reader.
pub const IO_BUFFER_BYTES: usize = 64 * 1024;

/// Pause after a failed `accept` (e.g. out of file descriptors) so the listener
/// does not spin.
pub const ACCEPT_ERROR_PAUSE_MS: u64 = 50;

/// Longest the answer to a snapshot-chunk request may take to write (acceptor)
/// or to arrive (connector).
pub const CHUNK_ANSWER_TIMEOUT_MS: u64 = 10_000;

/// Most snapshot-chunk reads running at once on the blocking threads; more
/// requests are answered "unavailable" (the installer tries another member).
pub const CHUNK_READS_CONCURRENT_MAX: usize = 2;

/// Most snapshot-chunk connections being served at once (reading or
/// answering); more are closed after their handshake.
pub const CHUNK_SERVES_MAX: usize = 8;

/// At most one log line per remote address per this many milliseconds for
/// refused inbound connections (every refusal is still counted).
pub const REFUSAL_LOG_INTERVAL_MS: u64 = 5_000;

/// Most remote addresses the refusal log remembers; beyond it, refusals from
/// new addresses are counted but not logged until old entries expire.
pub const REFUSAL_LOG_ADDRS_MAX: usize = 1_024;
