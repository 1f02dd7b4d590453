//! The snapshot-chunk channel (handshake channel 1): a member lagging behind
//! the log's compaction point asks a peer for a run of blocks.
//!
//! After the handshake the connector sends one request frame (20 bytes:
//! `from_height u64 BE || to_height u64 BE || bytes_max u32 BE`), the acceptor
//! answers with one frame and closes: `00 || chunk` when it serves, or
//! `code u8 (1..=8) || detail (UTF-8, at most 256 bytes)` when it refuses.
//! The chunk's encoding is the storage's (`synod_storage::snapshot::chunk`).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::error::{ChunkFetchError, ConnectionError};
use super::frame::{read_frame, read_length, write_frame};
use super::handshake::{offer, with_timeout, Channel, Handshake};
use super::limits::{CHUNK_ANSWER_TIMEOUT_MS, CONNECT_TIMEOUT_MS};
use super::stream::{connect, PeerStream, TransportSecurity};
use super::PeerId;

/// Payload bytes of a chunk request frame.
pub const CHUNK_REQUEST_BYTES: usize = 20;
/// Longest refusal detail sent, in bytes.
pub const REFUSAL_DETAIL_BYTES_MAX: usize = 256;

/// Which blocks a member asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkRequest {
    /// First height wanted (inclusive).
    pub from_height: u64,
    /// Last height wanted (inclusive); the chunk may stop earlier.
    pub to_height: u64,
    /// Most bytes of encoded blocks in the chunk (one block always fits).
    pub bytes_max: u32,
}

impl ChunkRequest {
    pub fn encode(&self) -> [u8; CHUNK_REQUEST_BYTES] {
        let mut out = [0u8; CHUNK_REQUEST_BYTES];
        out[0..8].copy_from_slice(&self.from_height.to_be_bytes());
        out[8..16].copy_from_slice(&self.to_height.to_be_bytes());
        out[16..20].copy_from_slice(&self.bytes_max.to_be_bytes());
        out
    }

    /// Decodes a request and refuses the ones no member could serve: an empty
    /// or inverted height range, a zero byte budget.
    pub fn decode(payload: &[u8]) -> Result<ChunkRequest, ChunkRefusal> {
        let bytes: &[u8; CHUNK_REQUEST_BYTES] = payload.try_into().map_err(|_| {
            ChunkRefusal::Malformed(format!("request of {} bytes, expected {CHUNK_REQUEST_BYTES}", payload.len()))
        })?;
        let [f0, f1, f2, f3, f4, f5, f6, f7, t0, t1, t2, t3, t4, t5, t6, t7, b0, b1, b2, b3] = *bytes;
        let request = ChunkRequest {
            from_height: u64::from_be_bytes([f0, f1, f2, f3, f4, f5, f6, f7]),
            to_height: u64::from_be_bytes([t0, t1, t2, t3, t4, t5, t6, t7]),
            bytes_max: u32::from_be_bytes([b0, b1, b2, b3]),
        };
        if request.from_height == 0 || request.from_height > request.to_height {
            return Err(ChunkRefusal::Range(format!(
                "from_height {} to_height {}: need 1 <= from_height <= to_height",
                request.from_height, request.to_height
            )));
        }
        if request.bytes_max == 0 {
            return Err(ChunkRefusal::BytesMax("bytes_max must be at least 1".into()));
        }
        Ok(request)
    }
}

/// Why a member did not serve a chunk; the code byte on the wire is in parentheses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChunkRefusal {
    /// (1) The request frame is not 20 bytes.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// (2) Empty or inverted range.
    #[error("bad range: {0}")]
    Range(String),
    /// (3) `bytes_max` is zero or above the server's limit.
    #[error("bad bytes_max: {0}")]
    BytesMax(String),
    /// (4) The first block asked for is not stored here.
    #[error("not stored: {0}")]
    NotStored(String),
    /// (5) A stored block has no recorded slot.
    #[error("no slot: {0}")]
    NoSlot(String),
    /// (6) The member halted (its ledger may be wrong): it serves nothing.
    #[error("halted: {0}")]
    Halted(String),
    /// (7) A storage error, or too many chunk requests at once.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// (8) This transport serves no chunks (not a Multi-Paxos member).
    #[error("not served: {0}")]
    NotServed(String),
}

impl ChunkRefusal {
    pub fn code(&self) -> u8 {
        match self {
            ChunkRefusal::Malformed(_) => 1,
            ChunkRefusal::Range(_) => 2,
            ChunkRefusal::BytesMax(_) => 3,
            ChunkRefusal::NotStored(_) => 4,
            ChunkRefusal::NoSlot(_) => 5,
            ChunkRefusal::Halted(_) => 6,
            ChunkRefusal::Unavailable(_) => 7,
            ChunkRefusal::NotServed(_) => 8,
        }
    }

    fn detail(&self) -> &str {
        match self {
            ChunkRefusal::Malformed(d)
            | ChunkRefusal::Range(d)
            | ChunkRefusal::BytesMax(d)
            | ChunkRefusal::NotStored(d)
            | ChunkRefusal::NoSlot(d)
            | ChunkRefusal::Halted(d)
            | ChunkRefusal::Unavailable(d)
            | ChunkRefusal::NotServed(d) => d,
        }
    }

    /// The answer frame's payload: code, then the detail cut to its bound at a
    /// character boundary.
    fn encode(&self) -> Vec<u8> {
        let detail = self.detail();
        let mut end = detail.len().min(REFUSAL_DETAIL_BYTES_MAX);
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        let mut out = Vec::with_capacity(1 + end);
        out.push(self.code());
        out.extend_from_slice(&detail.as_bytes()[..end]);
        out
    }

    fn decode(code: u8, detail: &[u8]) -> ChunkRefusal {
        let detail = String::from_utf8_lossy(&detail[..detail.len().min(REFUSAL_DETAIL_BYTES_MAX)]).into_owned();
        match code {
            1 => ChunkRefusal::Malformed(detail),
            2 => ChunkRefusal::Range(detail),
            3 => ChunkRefusal::BytesMax(detail),
            4 => ChunkRefusal::NotStored(detail),
            5 => ChunkRefusal::NoSlot(detail),
            6 => ChunkRefusal::Halted(detail),
            7 => ChunkRefusal::Unavailable(detail),
            8 => ChunkRefusal::NotServed(detail),
            other => ChunkRefusal::Malformed(format!("unknown refusal code {other}: {detail}")),
        }
    }
}

/// What serves chunks: the node's store. Called on a blocking thread.
pub trait ChunkSource: Send + Sync + 'static {
    /// The encoded chunk for `request`, from authenticated member `from`.
    fn read_chunk(&self, from: PeerId, request: ChunkRequest) -> Result<Vec<u8>, ChunkRefusal>;
}

/// Reads the request frame that follows a channel-1 handshake (within the
/// handshake's time bound). A malformed request is answered, not dropped.
pub async fn read_request<R: AsyncRead + Unpin>(
    reader: &mut R,
) -> Result<Result<ChunkRequest, ChunkRefusal>, ConnectionError> {
    let length = read_length(reader, CHUNK_REQUEST_BYTES).await?;
    let mut payload = vec![0u8; length as usize];
    reader.read_exact(&mut payload).await?;
    Ok(ChunkRequest::decode(&payload))
}

/// Serves one chunk request: reads on a blocking thread if a permit of
/// `permits` is free (else refuses as unavailable), answers, closes.
pub async fn serve(
    mut stream: PeerStream,
    from: PeerId,
    request: Result<ChunkRequest, ChunkRefusal>,
    source: Option<Arc<dyn ChunkSource>>,
    permits: Arc<Semaphore>,
) -> Result<(), ConnectionError> {
    let answer = match (request, source) {
        (Err(refusal), _) => Err(refusal),
        (Ok(_), None) => Err(ChunkRefusal::NotServed("this node serves no snapshot chunks".into())),
        (Ok(request), Some(source)) => match permits.try_acquire_owned() {
            Err(_) => Err(ChunkRefusal::Unavailable("too many chunk requests at once".into())),
            Ok(permit) => tokio::task::spawn_blocking(move || {
                let _permit = permit;
                source.read_chunk(from, request)
            })
            .await
            .unwrap_or_else(|e| Err(ChunkRefusal::Unavailable(format!("chunk read failed: {e}")))),
        },
    };
    let payload = match answer {
        Ok(chunk) => {
            let mut payload = Vec::with_capacity(1 + chunk.len());
            payload.push(0);
            payload.extend_from_slice(&chunk);
            payload
        }
        Err(refusal) => {
            tracing::debug!(from, %refusal, "transport: snapshot chunk refused");
            refusal.encode()
        }
    };
    let write = async {
        write_frame(&mut stream, &payload).await?;
        stream.flush().await?;
        stream.shutdown().await?;
        Ok(())
    };
    match tokio::time::timeout(Duration::from_millis(CHUNK_ANSWER_TIMEOUT_MS), write).await {
        Ok(result) => result,
        Err(_) => Err(ConnectionError::Timeout { what: "snapshot chunk answer", ms: CHUNK_ANSWER_TIMEOUT_MS }),
    }
}

/// Fetches snapshot chunks from peers over the transport's own security.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct ChunkClient {
    pub(super) ours: Handshake,
    pub(super) security: TransportSecurity,
    pub(super) peers: Arc<super::directory::PeerDirectory>,
}

impl ChunkClient {
    /// Asks `peer` for `request`; accepts an answer of at most
    /// `answer_bytes_max` bytes of chunk. The connection, TLS and Synod
    /// handshakes and the request are bounded by the handshake timeout, the
    /// answer by `CHUNK_ANSWER_TIMEOUT_MS`.
    pub async fn fetch(
        &self,
        peer: PeerId,
        request: ChunkRequest,
        answer_bytes_max: usize,
    ) -> Result<Vec<u8>, ChunkFetchError> {
        let addr = self.peers.get(peer).ok_or(ChunkFetchError::UnknownPeer(peer))?.addr;
        let failed = |source| ChunkFetchError::Connection { peer, source };
        let ours = Handshake { channel: Channel::SnapshotChunk, ..self.ours };
        let mut stream = with_timeout("chunk request", async {
            let tcp =
                match tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), TcpStream::connect(addr)).await {
                    Ok(tcp) => tcp?,
                    Err(_) => return Err(ConnectionError::Timeout { what: "connect", ms: CONNECT_TIMEOUT_MS }),
                };
            tcp.set_nodelay(true)?;
            let mut stream = connect(tcp, &self.security, peer).await?;
            offer(&mut stream, ours, peer).await?;
            write_frame(&mut stream, &request.encode()).await?;
            stream.flush().await?;
            Ok(stream)
        })
        .await
        .map_err(failed)?;
        let answer_limit = answer_bytes_max.saturating_add(1).min(u32::MAX as usize);
        let answer = match tokio::time::timeout(
            Duration::from_millis(CHUNK_ANSWER_TIMEOUT_MS),
            read_frame(&mut stream, answer_limit),
        )
        .await
        {
            Ok(answer) => answer.map_err(failed)?,
            Err(_) => {
                return Err(failed(ConnectionError::Timeout {
                    what: "snapshot chunk answer",
                    ms: CHUNK_ANSWER_TIMEOUT_MS,
                }))
            }
        };
        match answer.split_first() {
            None => Err(ChunkFetchError::EmptyAnswer { peer }),
            Some((0, chunk)) => Ok(chunk.to_vec()),
            Some((&code, detail)) => {
                Err(ChunkFetchError::Refused { peer, refusal: ChunkRefusal::decode(code, detail) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_bad_ranges_are_refused() {
        let request = ChunkRequest { from_height: 5, to_height: 9, bytes_max: 4096 };
        let bytes = request.encode();
        assert_eq!(bytes[..8], 5u64.to_be_bytes());
        assert_eq!(bytes[16..], 4096u32.to_be_bytes());
        assert_eq!(ChunkRequest::decode(&bytes), Ok(request));
        let inverted = ChunkRequest { from_height: 5, to_height: 1, bytes_max: 4096 }.encode();
        assert!(matches!(ChunkRequest::decode(&inverted), Err(ChunkRefusal::Range(_))));
        let zero = ChunkRequest { from_height: 0, to_height: 1, bytes_max: 4096 }.encode();
        assert!(matches!(ChunkRequest::decode(&zero), Err(ChunkRefusal::Range(_))));
        let empty_budget = ChunkRequest { from_height: 1, to_height: 1, bytes_max: 0 }.encode();
        assert!(matches!(ChunkRequest::decode(&empty_budget), Err(ChunkRefusal::BytesMax(_))));
        assert!(matches!(ChunkRequest::decode(&bytes[..19]), Err(ChunkRefusal::Malformed(_))));
    }

    #[test]
    fn refusals_round_trip_with_a_bounded_detail() {
        let long = ChunkRefusal::Range("é".repeat(200));
        let bytes = long.encode();
        assert_eq!(bytes[0], 2);
        assert!(bytes.len() <= 1 + REFUSAL_DETAIL_BYTES_MAX);
        let back = ChunkRefusal::decode(bytes[0], &bytes[1..]);
        assert!(matches!(back, ChunkRefusal::Range(d) if d.chars().all(|c| c == 'é')));
    }
}
