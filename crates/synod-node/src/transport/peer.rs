//! The outbound task of one peer: connect, TLS (members), handshake, drain the
//! peer's queue in batches; on any error drop the connection, back off,
//! reconnect.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::backoff::Backoff;
use super::error::ConnectionError;
use super::frame::{write_frame, FRAME_PREFIX_BYTES};
use super::handshake::{offer, with_timeout, Handshake};
use super::limits::{CONNECT_TIMEOUT_MS, IO_BUFFER_BYTES, WRITE_BATCH_BYTES_MAX};
use super::queue::QueueReceiver;
use super::stats::PeerCounters;
use super::stream::{self, PeerStream, TransportSecurity};
use super::{stopped, PeerId};

/// How a connection's pump ended without an error.
enum Ended {
    /// `shutdown` was called, or the `Transport` (and so the queue's sender) was dropped.
    Stopped,
}

pub struct Outbound {
    pub peer: PeerId,
    pub addr: SocketAddr,
    pub ours: Handshake,
    pub security: TransportSecurity,
    pub queue: QueueReceiver,
    pub counters: Arc<PeerCounters>,
    pub backoff: Backoff,
    pub stop: watch::Receiver<bool>,
    pub keepalive_interval_ms: u64,
}

impl Outbound {
    pub async fn run(mut self) {
        let mut established_before = false;
        let mut failures = FailureLog::default();
        loop {
            let connected = tokio::select! {
                _ = stopped(&mut self.stop) => return,
                connected = connect(self.addr, self.ours, &self.security, self.peer) => connected,
            };
            match connected {
                Ok(stream) => {
                    self.backoff.reset();
                    if established_before {
                        PeerCounters::add(&self.counters.reconnects, 1);
                    }
                    established_before = true;
                    self.counters.connected.store(true, Ordering::Relaxed);
                    tracing::debug!(peer = self.peer, addr = %self.addr, "transport: outbound connection established");
                    let ended = self.pump(stream).await;
                    self.counters.connected.store(false, Ordering::Relaxed);
                    match ended {
                        Ok(Ended::Stopped) => return,
                        Err(e) => {
                            tracing::warn!(peer = self.peer, addr = %self.addr, error = %e, "transport: outbound connection lost")
                        }
                    }
                }
                // A peer that is down is the common case: log at debug, not on every retry at warn.
                Err(e @ (ConnectionError::Io(_) | ConnectionError::Timeout { what: "connect", .. })) => {
                    tracing::debug!(peer = self.peer, addr = %self.addr, error = %e, "transport: cannot connect")
                }
                // A refusal or a mismatch repeats on every redial: warn when
                // it is new, then once a minute, so the cause stays visible
                // in this node's own log without flooding it.
                Err(e) => {
                    if failures.should_warn(&e.to_string(), std::time::Instant::now()) {
                        tracing::warn!(peer = self.peer, addr = %self.addr, error = %e, "transport: outbound handshake failed")
                    } else {
                        tracing::debug!(peer = self.peer, addr = %self.addr, error = %e, "transport: outbound handshake failed")
                    }
                }
            }
            let delay_ms = self.backoff.next_delay_ms();
            tokio::select! {
                _ = stopped(&mut self.stop) => return,
                _ = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
            }
        }
    }

    /// Writes queued messages until the connection fails or the transport stops.
    /// Each batch is every message queued at the time (up to `WRITE_BATCH_BYTES_MAX`),
    /// written into the buffer and then flushed once.
    async fn pump(&mut self, stream: PeerStream) -> Result<Ended, ConnectionError> {
        let (mut reader, writer) = tokio::io::split(stream);
        let mut writer = BufWriter::with_capacity(IO_BUFFER_BYTES, writer);
        loop {
            let first = tokio::select! {
                biased;
                _ = stopped(&mut self.stop) => return Ok(Ended::Stopped),
                _ = self.counters.redial.notified() => return Err(ConnectionError::PeerSilent),
                // The acceptor never writes after its handshake, so reading tells
                // promptly when the peer has gone, even while nothing is queued.
                closed = watch_closed(&mut reader) => return Err(closed),
                next = self.queue.recv() => match next {
                    Some(payload) => payload,
                    None => return Ok(Ended::Stopped),
                },
                // Idle: an empty payload is the keepalive frame, so the peer
                // hears from us even when consensus has nothing to say.
                _ = tokio::time::sleep(Duration::from_millis(self.keepalive_interval_ms)) => Vec::new(),
            };
            // A blackholed peer lets the send buffer fill and the write
            // block: the watchdog's redial must be able to end it too.
            let written = tokio::select! {
                _ = stopped(&mut self.stop) => return Ok(Ended::Stopped),
                _ = self.counters.redial.notified() => return Err(ConnectionError::PeerSilent),
                written = write_batch(&mut writer, &mut self.queue, first) => written?,
            };
            PeerCounters::add(&self.counters.sent, written);
        }
    }
}

async fn connect(
    addr: SocketAddr,
    ours: Handshake,
    security: &TransportSecurity,
    peer: PeerId,
) -> Result<PeerStream, ConnectionError> {
    let connecting = tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), TcpStream::connect(addr));
    let tcp = match connecting.await {
        Ok(tcp) => tcp?,
        Err(_) => return Err(ConnectionError::Timeout { what: "connect", ms: CONNECT_TIMEOUT_MS }),
    };
    tcp.set_nodelay(true)?;
    // The TLS handshake counts inside the handshake timeout.
    with_timeout("outbound handshake", async {
        let mut stream = stream::connect(tcp, security, peer).await?;
        offer(&mut stream, ours, peer).await?;
        Ok(stream)
    })
    .await
}

/// Rate limit for repeated handshake failures of one outbound link.
#[derive(Default)]
struct FailureLog {
    last: Option<(String, std::time::Instant)>,
}

/// A repeated failure is warned about again after this long.
const FAILURE_REWARN_MS: u64 = 60_000;

impl FailureLog {
    /// True for a failure unlike the last one warned about, or the same one
    /// `FAILURE_REWARN_MS` after it.
    fn should_warn(&mut self, failure: &str, now: std::time::Instant) -> bool {
        let repeat = self.last.as_ref().is_some_and(|(text, at)| {
            text == failure && now.saturating_duration_since(*at) < Duration::from_millis(FAILURE_REWARN_MS)
        });
        if !repeat {
            self.last = Some((failure.to_string(), now));
        }
        !repeat
    }
}

/// Completes only when the connection is unusable: end of stream, an error,
/// or data the acceptor must not send.
async fn watch_closed(reader: &mut ReadHalf<PeerStream>) -> ConnectionError {
    let mut byte = [0u8; 1];
    match reader.read(&mut byte).await {
        Ok(0) => ConnectionError::Closed,
        Ok(_) => ConnectionError::UnexpectedData,
        Err(e) => ConnectionError::Io(e),
    }
}

/// Writes `first` and then whatever else is queued right now, flushes, and
/// returns how many messages were written.
async fn write_batch(
    writer: &mut BufWriter<WriteHalf<PeerStream>>,
    queue: &mut QueueReceiver,
    first: Vec<u8>,
) -> Result<u64, ConnectionError> {
    // Every message encodes to at least one byte, so only a keepalive is empty.
    let mut messages = u64::from(!first.is_empty());
    let mut bytes = FRAME_PREFIX_BYTES + first.len();
    write_frame(writer, &first).await?;
    drop(first);
    while bytes < WRITE_BATCH_BYTES_MAX {
        let Some(payload) = queue.try_recv() else { break };
        write_frame(writer, &payload).await?;
        messages += 1;
        bytes += FRAME_PREFIX_BYTES + payload.len();
    }
    writer.flush().await?;
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_failure_is_warned_once_a_minute() {
        let start = std::time::Instant::now();
        let mut log = FailureLog::default();
        assert!(log.should_warn("refused", start));
        assert!(!log.should_warn("refused", start + Duration::from_secs(2)));
        assert!(log.should_warn("cluster mismatch", start + Duration::from_secs(3)));
        assert!(!log.should_warn("cluster mismatch", start + Duration::from_secs(62)));
        assert!(log.should_warn("cluster mismatch", start + Duration::from_secs(63)));
    }
}
