//! Node-to-node transport: length-prefixed postcard messages over TCP, mutual
//! TLS for Multi-Paxos members, one stream per ordered pair of nodes, with
//! bounded per-peer queues, and one-shot snapshot-chunk connections.
//!
//! # Security
//!
//! `TransportSecurity::Mutual(TlsMaterial)` (members; required by
//! `Node::start`): every connection is TLS with certificates on both sides,
//! trusting only the cluster CA. Node `N`'s certificate carries the DNS
//! subjectAltName `node-N.synod` (decimal, no leading zeros; `crate::tls`).
//! The connector checks the acceptor's certificate for the name of the node it
//! dialed. The acceptor requires a client certificate (rustls
//! `WebPkiClientVerifier`) and, after TLS, admits the Synod handshake's node
//! id only if that certificate is valid for it (rustls-webpki's name check):
//! a member speaks only as itself. `TransportSecurity::Plain` (the open
//! proof-of-work network) runs the same bytes over plain TCP. Every refused
//! inbound connection is counted (`Transport::refusals`) and logged at most
//! once per remote IP per `REFUSAL_LOG_INTERVAL_MS` (5 s).
//!
//! # Wire format
//!
//! All integers are big-endian; with TLS, all of this is inside it.
//!
//! **Frame.** Every frame, in both directions, is
//! `length u32 || payload (length bytes)`. The length counts the payload only.
//! A receiver refuses a message frame whose length exceeds its
//! `frame_bytes_max` (default 8 MiB) by closing the connection, before reading
//! the payload. A sender never sends one: `send` refuses it with `TooLarge`.
//!
//! **Handshake.** The first frame on a new connection, from the connecting
//! side, is the handshake; its payload is exactly 20 bytes:
//!
//! | offset | bytes | field | value |
//! |---|---|---|---|
//! | 0 | 8 | magic | ASCII `SYNODP2P` (`53 59 4e 4f 44 50 32 50`) |
//! | 8 | 2 | version | u16, `2` |
//! | 10 | 8 | cluster_id | u64 |
//! | 18 | 1 | node_id | u8, the sender's id |
//! | 19 | 1 | channel | u8, `0` messages, `1` one snapshot-chunk request |
//!
//! so on the wire it is the 24 bytes `00 00 00 14 || payload`. The acceptor
//! reads it and, only if it is valid, answers with its own handshake frame (same
//! layout, its own node id, the connector's channel). The acceptor closes the
//! connection without answering on a handshake length other than 20, a wrong
//! magic, a different version, a different cluster id, an unknown channel, a
//! node id that is its own, a node id that is not in its `peers`, or (mutual
//! TLS) a node id the client certificate is not valid for. The connector closes
//! the connection on an answer with a length other than 20, a wrong magic,
//! version, cluster id or channel, or a node id other than the one it dialed.
//! The TLS handshake, the Synod handshake and (channel 1) the request frame
//! must complete within 5 s on either side; at most 64 inbound connections are
//! in that phase at once. Every refusal is a typed error, never a panic.
//!
//! **Snapshot chunks (channel 1)**: see `chunk.rs`. One request frame, one
//! answer frame, close; served on blocking threads, at most
//! `CHUNK_READS_CONCURRENT_MAX` (2) reads at once.
//!
//! **Messages (channel 0).** After the handshake, only the connector sends: each frame's
//! payload is one message encoded with postcard 1.x (serde data model), with no
//! bytes left over (a payload with trailing bytes, or one that does not decode,
//! closes the connection). The acceptor sends nothing after its handshake; any
//! byte it sends makes the connector close the connection. Each node therefore
//! sends to a peer only on its own outbound connection to that peer and
//! receives only on the connections that peers opened to it: each ordered pair
//! of nodes has one stream, and messages on it arrive in the order sent.
//! Both sides set `TCP_NODELAY`.
//!
//! **Delivery.** At most once, in order per sender. A message is lost if the
//! connection breaks after it left the queue (the transport does not retransmit;
//! consensus does). If a peer connects again, the acceptor stops reading the
//! older connection of that peer before reading the newer one, so messages of
//! two connections never interleave.
//!
//! # Runtime
//!
//! `send` encodes the message at once (so `TooLarge` is known at the call) and
//! `try_send`s the bytes to the peer's bounded queue (`queue_messages_max`,
//! default 4096, and `QUEUE_BYTES_MAX` payload bytes, 64 MiB): it never blocks;
//! when the queue is full the message is dropped with `QueueFull` (or
//! `QueueBytesFull`). One outbound task per peer connects, handshakes, then writes
//! every queued frame and flushes once per batch; on any error it drops the
//! connection, waits a bounded exponential backoff with jitter
//! (`reconnect_backoff_min_ms`..`reconnect_backoff_max_ms`, default 50..2000)
//! and reconnects. Messages queued while disconnected stay queued. The listener
//! hands each received message to the bounded `inbound` channel; when that is
//! full, the reader waits, and TCP flow control pushes back on the sending peer.

mod backoff;
mod bans;
mod chunk;
mod config;
mod directory;
mod error;
/// Public only for the fuzz targets (fuzz/): the pure decoders.
#[doc(hidden)]
pub mod frame;
#[doc(hidden)]
pub mod handshake;
mod limits;
mod listener;
mod liveness;
mod peer;
mod queue;
mod refusals;
mod stats;
mod stream;

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use chunk::{ChunkClient, ChunkRefusal, ChunkRequest, ChunkSource, CHUNK_REQUEST_BYTES};
pub use config::{
    TransportConfig, FRAME_BYTES_MAX_DEFAULT, KEEPALIVE_INTERVAL_MS_DEFAULT, PEER_LOST_AFTER_MS_DEFAULT,
    QUEUE_MESSAGES_MAX_DEFAULT, RECONNECT_BACKOFF_MAX_MS_DEFAULT, RECONNECT_BACKOFF_MIN_MS_DEFAULT,
};
pub use error::{ChunkFetchError, ConfigError, ConnectionError, HandshakeError, SendError, TransportError};
pub use handshake::{Channel, HANDSHAKE_BYTES, MAGIC, PROTOCOL_VERSION};
pub use limits::{CHUNK_READS_CONCURRENT_MAX, HANDSHAKE_TIMEOUT_MS, QUEUE_BYTES_MAX};
pub use stats::PeerStats;
pub use stream::TransportSecurity;

use backoff::Backoff;
use directory::{PeerDirectory, PeerEntry};
use handshake::{Channel as HandshakeChannel, Handshake};
use listener::Listener;
use peer::Outbound;
use stats::PeerCounters;

/// A node's id within its cluster.
pub type PeerId = u8;

struct PeerHandle {
    queue: queue::QueueSender,
    counters: Arc<PeerCounters>,
    task: JoinHandle<()>,
}

/// A running transport. Dropping it stops its tasks too (they see the stop
/// signal's sender go), but only `shutdown` waits until they have ended and
/// the port is free.
pub struct Transport<M> {
    local_addr: SocketAddr,
    frame_bytes_max: usize,
    /// Outbound queues and tasks; the directory says who is known.
    peers: RwLock<BTreeMap<PeerId, PeerHandle>>,
    directory: Arc<PeerDirectory>,
    /// What a peer added later needs to dial it.
    dialer: Dialer,
    listener: JoinHandle<()>,
    watchdog: JoinHandle<()>,
    liveness_changes: watch::Receiver<u64>,
    stop: watch::Sender<bool>,
    bans: Arc<bans::Bans>,
    refusals: Arc<refusals::Refusals>,
    chunk_client: ChunkClient,
    _messages: PhantomData<fn(M) -> M>,
}

impl<M: Serialize + DeserializeOwned + Send + Sync + 'static> Transport<M> {
    /// Binds `config.listen` and starts: see `start_on`.
    pub async fn start(config: TransportConfig, inbound: mpsc::Sender<(PeerId, M)>) -> Result<Self, TransportError> {
        config.validate()?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| TransportError::Bind { addr: config.listen, source })?;
        Self::start_on(listener, config, inbound).await
    }

    /// Starts on a listener bound beforehand, so that every node's address can be
    /// known before any node starts (tests bind port 0 this way). `config.listen`
    /// must be the listener's address, or have port 0.
    ///
    /// Spawns the listener task and one outbound task per peer on the current
    /// tokio runtime. Received messages go to `inbound` as `(from, msg)`.
    pub async fn start_on(
        listener: TcpListener,
        config: TransportConfig,
        inbound: mpsc::Sender<(PeerId, M)>,
    ) -> Result<Self, TransportError> {
        Self::start_serving(listener, config, inbound, None).await
    }

    /// `start_on`, and answers peers' snapshot-chunk requests (channel 1) from
    /// `chunks` (without it they are refused as not served).
    pub async fn start_serving(
        listener: TcpListener,
        config: TransportConfig,
        inbound: mpsc::Sender<(PeerId, M)>,
        chunks: Option<Arc<dyn ChunkSource>>,
    ) -> Result<Self, TransportError> {
        config.validate()?;
        let local_addr =
            listener.local_addr().map_err(|source| TransportError::Bind { addr: config.listen, source })?;
        if config.listen.port() != 0 && config.listen != local_addr {
            return Err(ConfigError::ListenMismatch { configured: config.listen, bound: local_addr }.into());
        }
        let ours =
            Handshake { cluster_id: config.cluster_id, node_id: config.node_id, channel: HandshakeChannel::Messages };
        let (stop, stop_rx) = watch::channel(false);

        let dialer = Dialer {
            ours,
            security: config.security.clone(),
            queue_messages_max: config.queue_messages_max,
            queue_bytes_max: QUEUE_BYTES_MAX.max(config.frame_bytes_max),
            reconnect_backoff_min_ms: config.reconnect_backoff_min_ms,
            reconnect_backoff_max_ms: config.reconnect_backoff_max_ms,
            reconnect_jitter_seed: config.reconnect_jitter_seed,
            node_id: config.node_id,
            keepalive_interval_ms: config.keepalive_interval_ms,
            stop: stop_rx.clone(),
        };
        let directory = Arc::new(PeerDirectory::default());
        let mut peers = BTreeMap::new();
        for (&peer, &addr) in &config.peers {
            peers.insert(peer, dialer.dial(&directory, peer, addr));
        }

        let bans = Arc::new(bans::Bans::default());
        let refusals = Arc::new(refusals::Refusals::default());
        let listener = Listener {
            listener,
            ours,
            security: config.security.clone(),
            bans: Arc::clone(&bans),
            refusals: Arc::clone(&refusals),
            directory: Arc::clone(&directory),
            frame_bytes_max: config.frame_bytes_max,
            peer_lost_after_ms: config.peer_lost_after_ms,
            inbound,
            chunks,
            stop: stop_rx.clone(),
        };
        let listener = tokio::spawn(listener.run());
        let (changes, liveness_changes) = watch::channel(0u64);
        let watchdog = liveness::Watchdog {
            directory: Arc::clone(&directory),
            lost_after_ms: config.peer_lost_after_ms,
            started: tokio::time::Instant::now(),
            changes,
            stop: stop_rx,
        };
        let watchdog = tokio::spawn(watchdog.run());
        assert_eq!(peers.len(), config.peers.len());
        let chunk_client = ChunkClient { ours, security: config.security.clone(), peers: Arc::clone(&directory) };
        Ok(Transport {
            local_addr,
            frame_bytes_max: config.frame_bytes_max,
            peers: RwLock::new(peers),
            directory,
            dialer,
            listener,
            watchdog,
            liveness_changes,
            stop,
            bans,
            refusals,
            chunk_client,
            _messages: PhantomData,
        })
    }

    /// The address the listener is bound to (the real port when `listen` had port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Queues `msg` for `to`. Never blocks or awaits. A refused message is not
    /// queued; `QueueFull` counts in the peer's `dropped`.
    pub fn send(&self, to: PeerId, msg: M) -> Result<(), SendError> {
        let peers = self.peers.read().expect("transport peers lock");
        let peer = peers.get(&to).ok_or(SendError::UnknownPeer)?;
        if self.bans.is_banned(to) {
            return Err(SendError::Banned);
        }
        let payload = frame::encode(&msg, self.frame_bytes_max)?;
        assert!(payload.len() <= self.frame_bytes_max);
        match peer.queue.try_send(payload) {
            Ok(()) => Ok(()),
            Err(queue::QueueRefusal::Messages) => {
                PeerCounters::add(&peer.counters.dropped, 1);
                Err(SendError::QueueFull)
            }
            Err(queue::QueueRefusal::Bytes) => {
                PeerCounters::add(&peer.counters.dropped, 1);
                PeerCounters::add(&peer.counters.dropped_bytes_full, 1);
                Err(SendError::QueueBytesFull)
            }
            Err(queue::QueueRefusal::Closed) => Err(SendError::Closed),
        }
    }

    /// Refuses `peer` until `until`: its inbound connection closes at its next
    /// message, new connections from it close after the handshake, and
    /// `send` to it fails with `Banned`.
    pub fn ban(&self, peer: PeerId, until: std::time::Instant) {
        self.bans.ban(peer, until);
    }

    /// True while `peer` is banned.
    pub fn is_banned(&self, peer: PeerId) -> bool {
        self.bans.is_banned(peer)
    }

    /// Inbound connections refused so far (TLS failures, bad or unauthorised
    /// handshakes, timeouts).
    pub fn refusals(&self) -> u64 {
        self.refusals.count()
    }

    /// A client for peers' snapshot chunks, over this transport's security.
    pub fn chunk_client(&self) -> ChunkClient {
        self.chunk_client.clone()
    }

    /// Changes whenever a peer is lost or regained (the value counts the
    /// changes); `peer_stats` tells which.
    pub fn liveness_changes(&self) -> watch::Receiver<u64> {
        self.liveness_changes.clone()
    }

    /// Per-peer status: connected, queued, sent, dropped, reconnects,
    /// received, last heard, lost.
    pub fn peer_stats(&self) -> BTreeMap<PeerId, PeerStats> {
        let stats = |handle: &PeerHandle| handle.counters.snapshot(handle.queue.len(), handle.queue.bytes());
        self.peers.read().expect("transport peers lock").iter().map(|(&id, handle)| (id, stats(handle))).collect()
    }

    /// The peers this transport knows, with their addresses.
    pub fn peer_addrs(&self) -> BTreeMap<PeerId, SocketAddr> {
        self.directory.entries().into_iter().map(|(id, e)| (id, e.addr)).collect()
    }

    /// Starts talking to `peer` at `addr` (a member that joined): its
    /// outbound connection is dialled, and its inbound ones are admitted. A
    /// known peer at another address is re-dialled there; at the same
    /// address nothing changes. Must run inside the tokio runtime the
    /// transport started on (`handle` enters it).
    pub fn add_peer(&self, peer: PeerId, addr: SocketAddr, handle: &tokio::runtime::Handle) {
        assert_ne!(peer, self.dialer.node_id, "a node is never its own peer");
        if self.directory.get(peer).is_some_and(|e| e.addr == addr) {
            return;
        }
        self.remove_peer(peer);
        let _enter = handle.enter();
        let dialled = self.dialer.dial(&self.directory, peer, addr);
        self.peers.write().expect("transport peers lock").insert(peer, dialled);
    }

    /// Stops talking to `peer` (a member that left): its queue and outbound
    /// task go, and its new connections are refused; a reader already
    /// running ends with its connection.
    pub fn remove_peer(&self, peer: PeerId) {
        self.directory.remove(peer);
        if let Some(handle) = self.peers.write().expect("transport peers lock").remove(&peer) {
            handle.task.abort();
        }
    }

    /// Stops every task and waits for them: when this returns, the listening
    /// port is closed and so is every connection. Queued messages are dropped.
    pub async fn shutdown(self) {
        let Transport { peers, listener, watchdog, stop, .. } = self;
        let _ = stop.send(true);
        let peers = peers.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (_, peer) in peers {
            drop(peer.queue);
            if let Err(e) = peer.task.await {
                tracing::warn!(error = %e, "transport: outbound task failed");
            }
        }
        if let Err(e) = listener.await {
            tracing::warn!(error = %e, "transport: listener task failed");
        }
        if let Err(e) = watchdog.await {
            tracing::warn!(error = %e, "transport: liveness watchdog failed");
        }
    }
}

/// Everything `Transport` needs to dial a peer, at start or later.
struct Dialer {
    ours: Handshake,
    security: TransportSecurity,
    queue_messages_max: usize,
    /// Payload bytes a peer's queue may hold (`QUEUE_BYTES_MAX`, or one
    /// frame if frames may be larger).
    queue_bytes_max: usize,
    reconnect_backoff_min_ms: u64,
    reconnect_backoff_max_ms: u64,
    reconnect_jitter_seed: u64,
    node_id: PeerId,
    keepalive_interval_ms: u64,
    stop: watch::Receiver<bool>,
}

impl Dialer {
    /// Registers `peer` in `directory` and spawns its outbound task (on the
    /// current tokio runtime).
    fn dial(&self, directory: &PeerDirectory, peer: PeerId, addr: SocketAddr) -> PeerHandle {
        let (queue, queue_rx) = queue::channel(self.queue_messages_max, self.queue_bytes_max);
        let counters = Arc::new(PeerCounters::default());
        let outbound = Outbound {
            peer,
            addr,
            ours: self.ours,
            security: self.security.clone(),
            queue: queue_rx,
            counters: Arc::clone(&counters),
            backoff: Backoff::new(
                self.reconnect_backoff_min_ms,
                self.reconnect_backoff_max_ms,
                peer_seed(self.reconnect_jitter_seed, self.node_id, peer),
            ),
            stop: self.stop.clone(),
            keepalive_interval_ms: self.keepalive_interval_ms,
        };
        directory.insert(peer, PeerEntry { addr, counters: Arc::clone(&counters) });
        let task = tokio::spawn(outbound.run());
        PeerHandle { queue, counters, task }
    }
}

/// Each peer's backoff gets its own generator, derived from the configured seed,
/// so that two nodes with the same seed still jitter differently.
fn peer_seed(seed: u64, node: PeerId, peer: PeerId) -> u64 {
    let pair = (u64::from(node) << 8) | u64::from(peer);
    seed ^ pair.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Completes once the transport is told to stop, or once its `Transport` is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}
