//! The inbound side: accept, TLS (members), handshake, then either one reader
//! per peer that decodes frames and hands each message to `inbound`, or one
//! snapshot-chunk answer.
//!
//! A peer has at most one reader. A newer connection from the same peer
//! replaces the older one (the peer reconnected, so the older one is dead or
//! dying); the older reader is stopped and awaited before the newer one starts,
//! so two connections of one peer never interleave their messages. With mutual
//! TLS only the holder of a peer's certificate can open such a connection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use serde::de::DeserializeOwned;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use super::chunk::{self, ChunkRefusal, ChunkRequest, ChunkSource};
use super::error::{ConnectionError, HandshakeError};
use super::frame::{decode, read_frame};
use super::handshake::{answer, with_timeout, Channel, Handshake};
use super::limits::{
    ACCEPT_ERROR_PAUSE_MS, CHUNK_READS_CONCURRENT_MAX, CHUNK_SERVES_MAX, HANDSHAKES_PENDING_MAX, IO_BUFFER_BYTES,
};
use super::refusals::Refusals;
use super::stats::PeerCounters;
use super::stream::{self, PeerStream, TransportSecurity};
use super::{stopped, PeerId};
use crate::tls::cert_is_for_node;

pub struct Listener<M> {
    pub listener: TcpListener,
    pub ours: Handshake,
    pub security: TransportSecurity,
    pub bans: Arc<super::bans::Bans>,
    pub refusals: Arc<Refusals>,
    /// Who may connect (and their counters); changes with membership.
    pub directory: Arc<super::directory::PeerDirectory>,
    pub frame_bytes_max: usize,
    /// A reader that gets no frame for this long closes its connection.
    pub peer_lost_after_ms: u64,
    pub inbound: mpsc::Sender<(PeerId, M)>,
    pub chunks: Option<Arc<dyn ChunkSource>>,
    pub stop: watch::Receiver<bool>,
}

/// A connection whose handshakes completed.
enum Accepted {
    Messages { peer: PeerId, stream: PeerStream },
    Chunk { peer: PeerId, stream: PeerStream, request: Result<ChunkRequest, ChunkRefusal> },
}

type Handshaken = Result<Accepted, (SocketAddr, ConnectionError)>;

impl<M: DeserializeOwned + Send + 'static> Listener<M> {
    pub async fn run(mut self) {
        let mut handshakes: JoinSet<Handshaken> = JoinSet::new();
        let mut readers: BTreeMap<PeerId, JoinHandle<()>> = BTreeMap::new();
        let mut chunk_serves: JoinSet<()> = JoinSet::new();
        let chunk_permits = Arc::new(Semaphore::new(CHUNK_READS_CONCURRENT_MAX));
        loop {
            tokio::select! {
                _ = stopped(&mut self.stop) => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, remote)) => self.begin_handshake(&mut handshakes, stream, remote),
                    Err(e) => {
                        tracing::warn!(error = %e, "transport: accept failed");
                        tokio::time::sleep(Duration::from_millis(ACCEPT_ERROR_PAUSE_MS)).await;
                    }
                },
                Some(done) = handshakes.join_next(), if !handshakes.is_empty() => match done {
                    Ok(Ok(Accepted::Messages { peer, stream })) => self.replace_reader(&mut readers, peer, stream).await,
                    Ok(Ok(Accepted::Chunk { peer, stream, request })) => {
                        if chunk_serves.len() >= CHUNK_SERVES_MAX {
                            tracing::warn!(peer, limit = CHUNK_SERVES_MAX, "transport: too many chunk requests, closing");
                            continue;
                        }
                        let (source, permits) = (self.chunks.clone(), Arc::clone(&chunk_permits));
                        chunk_serves.spawn(async move {
                            if let Err(e) = chunk::serve(stream, peer, request, source, permits).await {
                                tracing::warn!(peer, error = %e, "transport: snapshot chunk answer failed");
                            }
                        });
                    }
                    Ok(Err((remote, e))) => self.refusals.record(remote, &e),
                    Err(e) => tracing::warn!(error = %e, "transport: inbound handshake task failed"),
                },
                Some(_) = chunk_serves.join_next(), if !chunk_serves.is_empty() => {}
            }
        }
        // Stop accepting first, then end the handshakes in progress, then the
        // readers: once a peer sees its connection close, nothing of this
        // transport can answer it any more.
        drop(self.listener);
        handshakes.shutdown().await;
        chunk_serves.shutdown().await;
        for (_, reader) in readers {
            reader.abort();
            let _ = reader.await;
        }
    }

    fn begin_handshake(&self, handshakes: &mut JoinSet<Handshaken>, tcp: TcpStream, remote: SocketAddr) {
        if handshakes.len() >= HANDSHAKES_PENDING_MAX {
            tracing::warn!(%remote, limit = HANDSHAKES_PENDING_MAX, "transport: too many pending handshakes, closing");
            return;
        }
        let ours = self.ours;
        let peers = Arc::clone(&self.directory);
        let security = self.security.clone();
        handshakes.spawn(async move {
            // TLS, the Synod handshake and a chunk request all count against
            // one handshake timeout.
            let result = with_timeout("inbound handshake", async {
                tcp.set_nodelay(true)?;
                let (mut stream, cert) = stream::accept(tcp, &security).await?;
                let admit = |id: PeerId| admit(id, &peers, &security, cert.as_ref());
                let theirs = answer(&mut stream, ours, admit).await?;
                Ok(match theirs.channel {
                    Channel::Messages => Accepted::Messages { peer: theirs.node_id, stream },
                    Channel::SnapshotChunk => {
                        let request = chunk::read_request(&mut stream).await?;
                        Accepted::Chunk { peer: theirs.node_id, stream, request }
                    }
                })
            });
            result.await.map_err(|e| (remote, e))
        });
    }

    async fn replace_reader(&self, readers: &mut BTreeMap<PeerId, JoinHandle<()>>, peer: PeerId, stream: PeerStream) {
        if let Some(older) = readers.remove(&peer) {
            older.abort();
            let _ = older.await;
        }
        if self.bans.is_banned(peer) {
            tracing::warn!(peer, "transport: connection from a banned peer closed");
            return;
        }
        // A peer removed since its handshake is not read from.
        let Some(entry) = self.directory.get(peer) else {
            tracing::info!(peer, "transport: connection from a peer no longer known closed");
            return;
        };
        let counters = entry.counters;
        counters.heard();
        let limits = ReadLimits { frame_bytes_max: self.frame_bytes_max, idle_ms: self.peer_lost_after_ms };
        let reader = read_loop(peer, stream, limits, self.inbound.clone(), counters, Arc::clone(&self.bans));
        readers.insert(peer, tokio::spawn(reader));
    }
}

/// The acceptor's judgement of a claimed node id: a configured peer, and with
/// mutual TLS one that the client certificate is valid for. This is what stops
/// a member (or anyone holding a member's certificate) from speaking as another.
fn admit(
    id: PeerId,
    peers: &super::directory::PeerDirectory,
    security: &TransportSecurity,
    cert: Option<&CertificateDer<'static>>,
) -> Result<(), HandshakeError> {
    if !peers.contains(id) {
        return Err(HandshakeError::UnknownNode(id));
    }
    match (security, cert) {
        (TransportSecurity::Plain, _) => Ok(()),
        (TransportSecurity::Mutual(_), None) => Err(HandshakeError::NoCertificate),
        (TransportSecurity::Mutual(_), Some(cert)) if cert_is_for_node(cert, id) => Ok(()),
        (TransportSecurity::Mutual(_), Some(_)) => Err(HandshakeError::CertificateMismatch { claimed: id }),
    }
}

struct ReadLimits {
    frame_bytes_max: usize,
    /// Longest wait for the next frame: the peer's connector sends at least
    /// a keepalive far more often, so silence this long means a dead or
    /// blackholed connection.
    idle_ms: u64,
}

/// Reads frames from one peer until the connection ends. When `inbound` is full
/// the reader waits, and so TCP flow control slows the peer down. An empty
/// frame is a keepalive: heard, not decoded.
async fn read_loop<M: DeserializeOwned>(
    peer: PeerId,
    stream: PeerStream,
    limits: ReadLimits,
    inbound: mpsc::Sender<(PeerId, M)>,
    counters: Arc<PeerCounters>,
    bans: Arc<super::bans::Bans>,
) {
    let remote = stream.peer_addr();
    let mut reader = BufReader::with_capacity(IO_BUFFER_BYTES, stream);
    loop {
        let idle = Duration::from_millis(limits.idle_ms);
        let frame = match tokio::time::timeout(idle, read_frame(&mut reader, limits.frame_bytes_max)).await {
            Ok(frame) => frame,
            Err(_) => {
                tracing::info!(
                    peer,
                    ?remote,
                    idle_ms = limits.idle_ms,
                    "transport: inbound connection silent, closing"
                );
                return;
            }
        };
        if frame.is_ok() {
            counters.heard();
        }
        let received = match frame {
            Ok(payload) if payload.is_empty() => continue,
            Ok(payload) => decode::<M>(&payload),
            Err(e) => Err(e),
        };
        match received {
            Ok(_) if bans.is_banned(peer) => {
                tracing::warn!(peer, ?remote, "transport: banned peer's connection closed");
                return;
            }
            Ok(msg) => {
                if inbound.send((peer, msg)).await.is_err() {
                    tracing::debug!(peer, "transport: inbound receiver dropped, closing");
                    return;
                }
                PeerCounters::add(&counters.received, 1);
            }
            Err(ConnectionError::Closed) => {
                tracing::debug!(peer, ?remote, "transport: inbound connection closed by the peer");
                return;
            }
            Err(e) => {
                tracing::warn!(peer, ?remote, error = %e, "transport: inbound connection dropped");
                return;
            }
        }
    }
}
