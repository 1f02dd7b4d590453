//! The inbound side: accept, handshake, then one reader per peer that decodes
//! frames and hands each message to `inbound`.
//!
//! A peer has at most one reader. A newer connection from the same peer
//! replaces the older one (the peer reconnected, so the older one is dead or
//! dying); the older reader is stopped and awaited before the newer one starts,
//! so two connections of one peer never interleave their messages.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::error::ConnectionError;
use super::frame::{decode, read_frame};
use super::handshake::{answer, Handshake};
use super::limits::{ACCEPT_ERROR_PAUSE_MS, HANDSHAKES_PENDING_MAX, IO_BUFFER_BYTES};
use super::stats::PeerCounters;
use super::{stopped, PeerId};

pub struct Listener<M> {
    pub listener: TcpListener,
    pub ours: Handshake,
    pub bans: Arc<super::bans::Bans>,
    pub peers: Arc<BTreeSet<PeerId>>,
    pub counters: BTreeMap<PeerId, Arc<PeerCounters>>,
    pub frame_bytes_max: usize,
    pub inbound: mpsc::Sender<(PeerId, M)>,
    pub stop: watch::Receiver<bool>,
}

type Handshaken = Result<(PeerId, TcpStream), (SocketAddr, ConnectionError)>;

impl<M: DeserializeOwned + Send + 'static> Listener<M> {
    pub async fn run(mut self) {
        let mut handshakes: JoinSet<Handshaken> = JoinSet::new();
        let mut readers: BTreeMap<PeerId, JoinHandle<()>> = BTreeMap::new();
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
                    Ok(Ok((peer, stream))) => self.replace_reader(&mut readers, peer, stream).await,
                    Ok(Err((remote, e))) => {
                        tracing::warn!(%remote, error = %e, "transport: inbound connection refused")
                    }
                    Err(e) => tracing::warn!(error = %e, "transport: inbound handshake task failed"),
                },
            }
        }
        // Stop accepting first, then end the handshakes in progress, then the
        // readers: once a peer sees its connection close, nothing of this
        // transport can answer it any more.
        drop(self.listener);
        handshakes.shutdown().await;
        for (_, reader) in readers {
            reader.abort();
            let _ = reader.await;
        }
    }

    fn begin_handshake(&self, handshakes: &mut JoinSet<Handshaken>, mut stream: TcpStream, remote: SocketAddr) {
        if handshakes.len() >= HANDSHAKES_PENDING_MAX {
            tracing::warn!(%remote, limit = HANDSHAKES_PENDING_MAX, "transport: too many pending handshakes, closing");
            return;
        }
        let ours = self.ours;
        let peers = Arc::clone(&self.peers);
        handshakes.spawn(async move {
            let result = async {
                stream.set_nodelay(true)?;
                answer(&mut stream, ours, |id| peers.contains(&id)).await
            };
            match result.await {
                Ok(peer) => Ok((peer, stream)),
                Err(e) => Err((remote, e)),
            }
        });
    }

    async fn replace_reader(&self, readers: &mut BTreeMap<PeerId, JoinHandle<()>>, peer: PeerId, stream: TcpStream) {
        if let Some(older) = readers.remove(&peer) {
            older.abort();
            let _ = older.await;
        }
        if self.bans.is_banned(peer) {
            tracing::warn!(peer, "transport: connection from a banned peer closed");
            return;
        }
        let counters = Arc::clone(self.counters.get(&peer).expect("the handshake admits configured peers only"));
        let reader =
            read_loop(peer, stream, self.frame_bytes_max, self.inbound.clone(), counters, Arc::clone(&self.bans));
        readers.insert(peer, tokio::spawn(reader));
    }
}

/// Reads frames from one peer until the connection ends. When `inbound` is full
/// the reader waits, and so TCP flow control slows the peer down.
async fn read_loop<M: DeserializeOwned>(
    peer: PeerId,
    stream: TcpStream,
    frame_bytes_max: usize,
    inbound: mpsc::Sender<(PeerId, M)>,
    counters: Arc<PeerCounters>,
    bans: Arc<super::bans::Bans>,
) {
    let remote = stream.peer_addr().ok();
    let mut reader = BufReader::with_capacity(IO_BUFFER_BYTES, stream);
    loop {
        let received = match read_frame(&mut reader, frame_bytes_max).await {
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
