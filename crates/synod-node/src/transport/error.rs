//! The transport's errors, one enum per operation: starting, sending, and the
//! life of one connection (with the handshake's reasons kept apart).

use std::net::SocketAddr;

use super::PeerId;

/// Why `Transport::start` failed. Nothing is left running when it is returned.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid transport config: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// An invalid `TransportConfig`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("peers contain this node's own id {0}")]
    SelfInPeers(PeerId),
    #[error("queue_messages_max must be at least 1")]
    QueueEmpty,
    #[error("frame_bytes_max {value} outside 1..={max}")]
    FrameBytesMax { value: usize, max: usize },
    #[error("reconnect backoff {min_ms}..={max_ms} ms: need 1 <= min <= max")]
    Backoff { min_ms: u64, max_ms: u64 },
    #[error("keepalive every {keepalive_ms} ms, peer lost after {lost_ms} ms: need 1 <= keepalive and 2 * keepalive <= lost")]
    Liveness { keepalive_ms: u64, lost_ms: u64 },
    #[error("listen address {configured} differs from the listener's {bound}")]
    ListenMismatch { configured: SocketAddr, bound: SocketAddr },
}

/// Why `Transport::send` refused a message. The message was not queued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The peer's outbound queue is at `queue_messages_max`; the message is
    /// dropped (consensus retransmits).
    #[error("the peer's outbound queue is full")]
    QueueFull,
    /// The message would take the peer's outbound queue past its byte bound
    /// (`QUEUE_BYTES_MAX`); it is dropped (consensus retransmits).
    #[error("the peer's outbound queue holds its most bytes")]
    QueueBytesFull,
    #[error("no such peer")]
    UnknownPeer,
    /// The peer is banned (`Transport::ban`) for now.
    #[error("the peer is banned")]
    Banned,
    #[error("message of {bytes} bytes exceeds the frame limit of {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("cannot encode message: {0}")]
    Encode(String),
    /// The peer's outbound task has ended (only after a panic in it).
    #[error("the peer's outbound task has stopped")]
    Closed,
}

/// Why one TCP connection ended. Logged with `tracing`, never returned to the
/// caller of the transport: the outbound task reconnects, the listener accepts anew.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The remote end closed the connection at a frame boundary.
    #[error("closed by the remote end")]
    Closed,
    #[error("frame of {bytes} bytes exceeds the limit of {max}")]
    FrameTooLarge { bytes: u32, max: usize },
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("the peer was silent for longer than the lost threshold")]
    PeerSilent,
    #[error("{what} timed out after {ms} ms")]
    Timeout { what: &'static str, ms: u64 },
    #[error("cannot decode message: {0}")]
    Decode(postcard::Error),
    #[error("{bytes} bytes left over after the message")]
    TrailingBytes { bytes: usize },
    /// The TLS handshake failed (no certificate, one from another CA, one for
    /// another node name, or not TLS at all).
    #[error("tls: {0}")]
    Tls(std::io::Error),
    /// The acceptor closed the connection instead of answering our
    /// handshake: it refused us (an unknown node id, a ban, a wrong
    /// certificate name); its own log says which.
    #[error(
        "the peer closed the connection without answering the handshake: it refused this node (is this node id \
         in its configuration? is this node banned?); its log says why"
    )]
    RefusedByPeer,
    /// The acceptor sends nothing after its handshake; any byte is a violation.
    #[error("the acceptor sent data after its handshake")]
    UnexpectedData,
}

/// Why a handshake frame was refused. The refusing side closes the connection
/// without answering (acceptor) or right after reading the answer (connector).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("handshake frame of {bytes} bytes, expected {expected}")]
    Length { bytes: u32, expected: usize },
    #[error("bad magic {0:02x?}")]
    Magic([u8; 8]),
    #[error("protocol version {got}, expected {expected}")]
    Version { got: u16, expected: u16 },
    #[error(
        "the peer is in cluster {got} but this node is in cluster {expected}: set the same cluster_id \
         (default: the genesis chain_id) and genesis in both configs"
    )]
    Cluster { got: u64, expected: u64 },
    #[error("node id {0} is not a configured peer")]
    UnknownNode(PeerId),
    #[error("node id {0} is this node's own")]
    OwnNode(PeerId),
    #[error("dialed peer {expected} but node {got} answered")]
    UnexpectedPeer { expected: PeerId, got: PeerId },
    #[error("unknown channel {0}")]
    Channel(u8),
    #[error("offered channel {offered} but the answer names channel {answered}")]
    ChannelMismatch { offered: u8, answered: u8 },
    /// The handshake claims a node id that the connector's TLS certificate is
    /// not valid for (`node-<id>.synod`): someone else's id.
    #[error("the handshake claims node {claimed} but the client certificate is not valid for node-{claimed}.synod")]
    CertificateMismatch { claimed: PeerId },
    /// Mutual TLS is on but the connection carries no client certificate.
    #[error("no client certificate")]
    NoCertificate,
}

/// Why a snapshot-chunk fetch (`ChunkClient::fetch`) failed.
#[derive(Debug, thiserror::Error)]
pub enum ChunkFetchError {
    #[error("no such peer {0}")]
    UnknownPeer(PeerId),
    #[error("peer {peer}: {source}")]
    Connection { peer: PeerId, source: ConnectionError },
    #[error("peer {peer} answered with an empty frame")]
    EmptyAnswer { peer: PeerId },
    #[error("peer {peer} refused the chunk request: {refusal}")]
    Refused { peer: PeerId, refusal: super::chunk::ChunkRefusal },
}
