//! The handshake: `magic "SYNODP2P" || version u16 BE || cluster_id u64 BE || node_id u8`,
//! sent as the first frame by the connecting side and answered by the acceptor.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::{ConnectionError, HandshakeError};
use super::frame::{read_length, write_frame};
use super::limits::HANDSHAKE_TIMEOUT_MS;
use super::PeerId;

pub const MAGIC: [u8; 8] = *b"SYNODP2P";
pub const PROTOCOL_VERSION: u16 = 1;
/// Payload bytes of a handshake frame: magic 8, version 2, cluster id 8, node id 1.
pub const HANDSHAKE_BYTES: usize = 19;

/// The fields a handshake carries besides the fixed magic and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    pub cluster_id: u64,
    pub node_id: PeerId,
}

impl Handshake {
    pub fn encode(&self) -> [u8; HANDSHAKE_BYTES] {
        let mut out = [0u8; HANDSHAKE_BYTES];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..10].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        out[10..18].copy_from_slice(&self.cluster_id.to_be_bytes());
        out[18] = self.node_id;
        out
    }

    /// Decodes a handshake payload and checks the magic, the version and the
    /// cluster id (the node id is the caller's to judge).
    pub fn decode(payload: &[u8; HANDSHAKE_BYTES], cluster_id: u64) -> Result<Handshake, HandshakeError> {
        let magic: [u8; 8] = payload[0..8].try_into().expect("8 bytes");
        if magic != MAGIC {
            return Err(HandshakeError::Magic(magic));
        }
        let version = u16::from_be_bytes(payload[8..10].try_into().expect("2 bytes"));
        if version != PROTOCOL_VERSION {
            return Err(HandshakeError::Version { got: version, expected: PROTOCOL_VERSION });
        }
        let got = u64::from_be_bytes(payload[10..18].try_into().expect("8 bytes"));
        if got != cluster_id {
            return Err(HandshakeError::Cluster { got, expected: cluster_id });
        }
        Ok(Handshake { cluster_id, node_id: payload[18] })
    }
}

/// Reads one handshake frame. Any length but `HANDSHAKE_BYTES` is refused before
/// the payload is read, so a stranger cannot make us allocate.
async fn read_handshake<R: AsyncRead + Unpin>(reader: &mut R, cluster_id: u64) -> Result<Handshake, ConnectionError> {
    let length = read_length(reader, u32::MAX as usize).await?;
    if length as usize != HANDSHAKE_BYTES {
        return Err(HandshakeError::Length { bytes: length, expected: HANDSHAKE_BYTES }.into());
    }
    let mut payload = [0u8; HANDSHAKE_BYTES];
    reader.read_exact(&mut payload).await?;
    Ok(Handshake::decode(&payload, cluster_id)?)
}

async fn with_timeout<T>(
    what: &'static str,
    work: impl std::future::Future<Output = Result<T, ConnectionError>>,
) -> Result<T, ConnectionError> {
    match tokio::time::timeout(Duration::from_millis(HANDSHAKE_TIMEOUT_MS), work).await {
        Ok(result) => result,
        Err(_) => Err(ConnectionError::Timeout { what, ms: HANDSHAKE_TIMEOUT_MS }),
    }
}

/// The connecting side: sends `ours`, then reads the answer, which must come
/// from the peer that was dialed.
pub async fn offer<S>(stream: &mut S, ours: Handshake, expected: PeerId) -> Result<(), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    assert_ne!(ours.node_id, expected, "a node never dials itself");
    with_timeout("outbound handshake", async {
        write_frame(stream, &ours.encode()).await?;
        stream.flush().await?;
        let theirs = read_handshake(stream, ours.cluster_id).await?;
        if theirs.node_id != expected {
            return Err(HandshakeError::UnexpectedPeer { expected, got: theirs.node_id }.into());
        }
        Ok(())
    })
    .await
}

/// The accepting side: reads the connector's handshake, checks that it comes
/// from a configured peer other than this node, and only then answers.
/// Returns the connector's node id.
pub async fn answer<S>(
    stream: &mut S,
    ours: Handshake,
    is_peer: impl Fn(PeerId) -> bool,
) -> Result<PeerId, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    with_timeout("inbound handshake", async {
        let theirs = read_handshake(stream, ours.cluster_id).await?;
        if theirs.node_id == ours.node_id {
            return Err(HandshakeError::OwnNode(theirs.node_id).into());
        }
        if !is_peer(theirs.node_id) {
            return Err(HandshakeError::UnknownNode(theirs.node_id).into());
        }
        write_frame(stream, &ours.encode()).await?;
        stream.flush().await?;
        Ok(theirs.node_id)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: u64 = 0x0102_0304_0506_0708;

    #[test]
    fn encoding_matches_the_documented_layout() {
        let bytes = Handshake { cluster_id: CLUSTER, node_id: 9 }.encode();
        let mut expected = b"SYNODP2P".to_vec();
        expected.extend_from_slice(&[0, 1]);
        expected.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        expected.push(9);
        assert_eq!(bytes.to_vec(), expected);
        assert_eq!(Handshake::decode(&bytes, CLUSTER), Ok(Handshake { cluster_id: CLUSTER, node_id: 9 }));
    }

    #[test]
    fn decode_names_each_bad_field() {
        let good = Handshake { cluster_id: CLUSTER, node_id: 2 }.encode();
        let mut bad = good;
        bad[0] = b'X';
        assert!(matches!(Handshake::decode(&bad, CLUSTER), Err(HandshakeError::Magic(_))));
        let mut bad = good;
        bad[9] = 2;
        assert_eq!(Handshake::decode(&bad, CLUSTER), Err(HandshakeError::Version { got: 2, expected: 1 }));
        assert_eq!(Handshake::decode(&good, 5), Err(HandshakeError::Cluster { got: CLUSTER, expected: 5 }));
    }

    #[tokio::test]
    async fn offer_and_answer_agree() {
        let (mut a, mut b) = tokio::io::duplex(256);
        let connector = offer(&mut a, Handshake { cluster_id: CLUSTER, node_id: 1 }, 2);
        let acceptor = answer(&mut b, Handshake { cluster_id: CLUSTER, node_id: 2 }, |id| id == 1);
        let (offered, answered) = tokio::join!(connector, acceptor);
        offered.unwrap();
        assert_eq!(answered.unwrap(), 1);
    }

    #[tokio::test]
    async fn acceptor_refuses_unknown_and_own_ids_without_answering() {
        for (from, expected) in [(3, HandshakeError::UnknownNode(3)), (2, HandshakeError::OwnNode(2))] {
            let (mut a, mut b) = tokio::io::duplex(256);
            write_frame(&mut a, &Handshake { cluster_id: CLUSTER, node_id: from }.encode()).await.unwrap();
            let err = answer(&mut b, Handshake { cluster_id: CLUSTER, node_id: 2 }, |id| id == 1).await.unwrap_err();
            assert!(matches!(err, ConnectionError::Handshake(ref e) if *e == expected), "{err}");
            drop(b);
            let mut rest = Vec::new();
            a.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "the acceptor answered a refused handshake");
        }
    }

    #[tokio::test]
    async fn connector_refuses_an_answer_from_the_wrong_node() {
        let (mut a, mut b) = tokio::io::duplex(256);
        let connector = offer(&mut a, Handshake { cluster_id: CLUSTER, node_id: 1 }, 2);
        let acceptor = answer(&mut b, Handshake { cluster_id: CLUSTER, node_id: 3 }, |id| id == 1);
        let (offered, answered) = tokio::join!(connector, acceptor);
        assert_eq!(answered.unwrap(), 1);
        let err = offered.unwrap_err();
        assert!(
            matches!(err, ConnectionError::Handshake(HandshakeError::UnexpectedPeer { expected: 2, got: 3 })),
            "{err}"
        );
    }

    #[tokio::test]
    async fn wrong_length_is_refused() {
        let (mut a, mut b) = tokio::io::duplex(256);
        write_frame(&mut a, &[0u8; 20]).await.unwrap();
        let err = answer(&mut b, Handshake { cluster_id: CLUSTER, node_id: 2 }, |_| true).await.unwrap_err();
        assert!(matches!(err, ConnectionError::Handshake(HandshakeError::Length { bytes: 20, expected: 19 })));
    }
}
