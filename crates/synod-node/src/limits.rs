//! The node's bounds. Each is enforced where requests enter and has a test.

/// Largest HTTP request body, in bytes. A full batch of 8,192 JSON transfers
/// with 64-byte memos is about 3.5 MiB.
pub const HTTP_BODY_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Most transfers in one `POST /v1/transfers` request.
pub const REQUEST_TRANSFERS_MAX: usize = 8_192;

/// Most transfers waiting for the committer at once, over all requests; beyond
/// it requests are refused with 503 `overloaded` rather than queued without bound.
pub const QUEUED_TRANSFERS_MAX: usize = 131_072;

/// Most requests waiting for the committer at once.
pub const QUEUED_REQUESTS_MAX: usize = 16_384;

/// Most transfers the committer seals into one block (at most the core's limit).
pub const BLOCK_TRANSFERS_MAX: usize = synod_core::limits::BLOCK_TRANSFERS_MAX;

const _: () = assert!(REQUEST_TRANSFERS_MAX <= BLOCK_TRANSFERS_MAX);
const _: () = assert!(REQUEST_TRANSFERS_MAX <= QUEUED_TRANSFERS_MAX);

/// Most open HTTP connections per node (including TLS handshakes in
/// progress); beyond it a new connection is closed at once and counted.
pub const HTTP_CONNECTIONS_MAX: usize = 1_024;

/// Longest time from the first byte of a request head until the head is
/// complete; a slower sender (slowloris) is disconnected.
pub const HTTP_HEADER_READ_TIMEOUT_MS: u64 = 10_000;

/// A keep-alive connection with no request in flight and no bytes moving for
/// this long is closed.
pub const HTTP_IDLE_TIMEOUT_MS: u64 = 60_000;

/// Longest TLS handshake on the client API (when TLS is on).
pub const HTTP_TLS_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
