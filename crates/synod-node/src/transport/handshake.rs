//! The handshake: `magic "SYNODP2P" || version u16 BE || cluster_id u64 BE ||
//! node_id u8 || channel u8`, sent as the first frame by the connecting side
//! (inside TLS for members) and answered by the acceptor.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::{ConnectionError, HandshakeError};
use super::frame::{read_length, write_frame};
use super::limits::HANDSHAKE_TIMEOUT_MS;
use super::PeerId;

pub const MAGIC: [u8; 8] = *b"SYNODP2P";
/// 2: the channel byte, and mutual TLS for Multi-Paxos members.
pub const PROTOCOL_VERSION: u16 = 3;
/// Payload bytes of a handshake frame: magic 8, version 2, cluster id 8, node id 1, channel 1.
pub const HANDSHAKE_BYTES: usize = 20;

/// What a connection is for, chosen by the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// 0: a stream of consensus (or gossip) messages from the connector.
    Messages = 0,
    /// 1: one snapshot-chunk request and its answer, then the connection closes.
    SnapshotChunk = 1,
}

impl Channel {
    fn from_byte(byte: u8) -> Result<Channel, HandshakeError> {
        match byte {
            0 => Ok(Channel::Messages),
            1 => Ok(Channel::SnapshotChunk),
            other => Err(HandshakeError::Channel(other)),
        }
    }
}

/// The fields a handshake carries besides the fixed magic and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    pub cluster_id: u64,
    pub node_id: PeerId,
    pub channel: Channel,
}

impl Handshake {
    pub fn encode(&self) -> [u8; HANDSHAKE_BYTES] {
        let mut out = [0u8; HANDSHAKE_BYTES];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..10].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        out[10..18].copy_from_slice(&self.cluster_id.to_be_bytes());
        out[18] = self.node_id;
        out[19] = self.channel as u8;
        out
    }

    /// Decodes a handshake payload and checks the magic, the version, the
    /// cluster id and the channel (the node id is the caller's to judge).
    pub fn decode(payload: &[u8; HANDSHAKE_BYTES], cluster_id: u64) -> Result<Handshake, HandshakeError> {
        let [m0, m1, m2, m3, m4, m5, m6, m7, v0, v1, c0, c1, c2, c3, c4, c5, c6, c7, node_id, channel] = *payload;
        let magic = [m0, m1, m2, m3, m4, m5, m6, m7];
        if magic != MAGIC {
            return Err(HandshakeError::Magic(magic));
        }
        let version = u16::from_be_bytes([v0, v1]);
        if version != PROTOCOL_VERSION {
            return Err(HandshakeError::Version { got: version, expected: PROTOCOL_VERSION });
        }
        let got = u64::from_be_bytes([c0, c1, c2, c3, c4, c5, c6, c7]);
        if got != cluster_id {
            return Err(HandshakeError::Cluster { got, expected: cluster_id });
        }
        Ok(Handshake { cluster_id, node_id, channel: Channel::from_byte(channel)? })
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

/// The far end went away: end of stream, or a reset.
fn is_closed(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
    )
}

/// Runs `work` (TLS and Synod handshakes, and for a chunk request the request
/// itself) within `HANDSHAKE_TIMEOUT_MS`.
pub async fn with_timeout<T>(
    what: &'static str,
    work: impl std::future::Future<Output = Result<T, ConnectionError>>,
) -> Result<T, ConnectionError> {
    match tokio::time::timeout(Duration::from_millis(HANDSHAKE_TIMEOUT_MS), work).await {
        Ok(result) => result,
        Err(_) => Err(ConnectionError::Timeout { what, ms: HANDSHAKE_TIMEOUT_MS }),
    }
}

/// The connecting side: sends `ours`, then reads the answer, which must come
/// from the peer that was dialed and name the same channel. The caller bounds
/// the time (`with_timeout`).
pub async fn offer<S>(stream: &mut S, ours: Handshake, expected: PeerId) -> Result<(), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    assert_ne!(ours.node_id, expected, "a node never dials itself");
    write_frame(stream, &ours.encode()).await?;
    stream.flush().await?;
    let theirs = match read_handshake(stream, ours.cluster_id).await {
        // The acceptor closes without a word when it refuses our handshake
        // (an id it does not know, a ban): say so rather than "io: early eof",
        // so this node's own log tells its operator where to look.
        Err(ConnectionError::Closed) => return Err(ConnectionError::RefusedByPeer),
        Err(ConnectionError::Io(e)) if is_closed(&e) => return Err(ConnectionError::RefusedByPeer),
        other => other?,
    };
    if theirs.node_id != expected {
        return Err(HandshakeError::UnexpectedPeer { expected, got: theirs.node_id }.into());
    }
    if theirs.channel != ours.channel {
        return Err(
            HandshakeError::ChannelMismatch { offered: ours.channel as u8, answered: theirs.channel as u8 }.into()
        );
    }
    Ok(())
}

/// The accepting side: reads the connector's handshake, checks that it comes
/// from a node other than this one that `admit` accepts (a configured peer,
/// and for members the node its certificate is valid for), and only then
/// answers with `ours` on the connector's channel. Returns the connector's
/// handshake. The caller bounds the time (`with_timeout`).
pub async fn answer<S>(
    stream: &mut S,
    ours: Handshake,
    admit: impl Fn(PeerId) -> Result<(), HandshakeError>,
) -> Result<Handshake, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let theirs = match read_handshake(stream, ours.cluster_id).await {
        // A node of another cluster (other genesis or cluster_id) gets our
        // handshake before we close, so that ITS log names the mismatch too:
        // the cluster id is public (`/v1/status`), and with mutual TLS the
        // connector already holds a certificate of our CA.
        Err(ConnectionError::Handshake(mismatch @ HandshakeError::Cluster { .. })) => {
            let _ = write_frame(stream, &ours.encode()).await;
            let _ = stream.flush().await;
            return Err(mismatch.into());
        }
        other => other?,
    };
    if theirs.node_id == ours.node_id {
        return Err(HandshakeError::OwnNode(theirs.node_id).into());
    }
    admit(theirs.node_id)?;
    let answer = Handshake { channel: theirs.channel, ..ours };
    write_frame(stream, &answer.encode()).await?;
    stream.flush().await?;
    Ok(theirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: u64 = 0x0102_0304_0506_0708;

    fn hs(node_id: PeerId) -> Handshake {
        Handshake { cluster_id: CLUSTER, node_id, channel: Channel::Messages }
    }

    fn peers_only(allowed: PeerId) -> impl Fn(PeerId) -> Result<(), HandshakeError> {
        move |id| if id == allowed { Ok(()) } else { Err(HandshakeError::UnknownNode(id)) }
    }

    #[test]
    fn encoding_matches_the_documented_layout() {
        let shake = Handshake { cluster_id: CLUSTER, node_id: 9, channel: Channel::SnapshotChunk };
        let bytes = shake.encode();
        let mut expected = b"SYNODP2P".to_vec();
        expected.extend_from_slice(&[0, 3]);
        expected.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        expected.extend_from_slice(&[9, 1]);
        assert_eq!(bytes.to_vec(), expected);
        assert_eq!(Handshake::decode(&bytes, CLUSTER), Ok(shake));
    }

    #[test]
    fn decode_names_each_bad_field() {
        let good = hs(2).encode();
        let mut bad = good;
        bad[0] = b'X';
        assert!(matches!(Handshake::decode(&bad, CLUSTER), Err(HandshakeError::Magic(_))));
        let mut bad = good;
        bad[9] = 1;
        assert_eq!(Handshake::decode(&bad, CLUSTER), Err(HandshakeError::Version { got: 1, expected: 3 }));
        assert_eq!(Handshake::decode(&good, 5), Err(HandshakeError::Cluster { got: CLUSTER, expected: 5 }));
        // Readable by an operator: decimal ids (as configured) and what to fix.
        let text = HandshakeError::Cluster { got: CLUSTER, expected: 5 }.to_string();
        assert!(
            text.contains(&format!("cluster {CLUSTER} but this node is in cluster 5")) && text.contains("cluster_id"),
            "{text}"
        );
        let mut bad = good;
        bad[19] = 2;
        assert_eq!(Handshake::decode(&bad, CLUSTER), Err(HandshakeError::Channel(2)));
    }

    #[tokio::test]
    async fn offer_and_answer_agree() {
        let (mut a, mut b) = tokio::io::duplex(256);
        let connector = offer(&mut a, hs(1), 2);
        let acceptor = answer(&mut b, hs(2), peers_only(1));
        let (offered, answered) = tokio::join!(connector, acceptor);
        offered.unwrap();
        assert_eq!(answered.unwrap(), hs(1));
    }

    #[tokio::test]
    async fn acceptor_refuses_unknown_and_own_ids_without_answering() {
        for (from, expected) in [(3, HandshakeError::UnknownNode(3)), (2, HandshakeError::OwnNode(2))] {
            let (mut a, mut b) = tokio::io::duplex(256);
            write_frame(&mut a, &hs(from).encode()).await.unwrap();
            let err = answer(&mut b, hs(2), peers_only(1)).await.unwrap_err();
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
        let connector = offer(&mut a, hs(1), 2);
        let acceptor = answer(&mut b, hs(3), peers_only(1));
        let (offered, answered) = tokio::join!(connector, acceptor);
        assert_eq!(answered.unwrap().node_id, 1);
        let err = offered.unwrap_err();
        assert!(
            matches!(err, ConnectionError::Handshake(HandshakeError::UnexpectedPeer { expected: 2, got: 3 })),
            "{err}"
        );
    }

    #[tokio::test]
    async fn both_ends_of_a_cluster_mismatch_learn_it() {
        let (mut a, mut b) = tokio::io::duplex(256);
        let theirs = Handshake { cluster_id: 5, ..hs(1) };
        let connector = offer(&mut a, theirs, 2);
        let acceptor = answer(&mut b, hs(2), peers_only(1));
        let (offered, answered) = tokio::join!(connector, acceptor);
        let answered = answered.unwrap_err();
        assert!(
            matches!(answered, ConnectionError::Handshake(HandshakeError::Cluster { got: 5, expected: CLUSTER })),
            "{answered}"
        );
        // The connector, in the other cluster, names the mismatch in its own log.
        let offered = offered.unwrap_err();
        assert!(
            matches!(offered, ConnectionError::Handshake(HandshakeError::Cluster { got: CLUSTER, expected: 5 })),
            "{offered}"
        );
    }

    #[tokio::test]
    async fn connector_names_a_refusal_without_an_answer() {
        let (mut a, mut b) = tokio::io::duplex(256);
        let connector = offer(&mut a, hs(3), 2);
        let acceptor = async move {
            let refused = answer(&mut b, hs(2), peers_only(1)).await;
            drop(b);
            refused
        };
        let (offered, answered) = tokio::join!(connector, acceptor);
        assert!(matches!(answered, Err(ConnectionError::Handshake(HandshakeError::UnknownNode(3)))));
        let offered = offered.unwrap_err();
        assert!(matches!(offered, ConnectionError::RefusedByPeer), "{offered}");
        assert!(offered.to_string().contains("its log"), "{offered}");
    }

    #[tokio::test]
    async fn wrong_length_is_refused() {
        let (mut a, mut b) = tokio::io::duplex(256);
        write_frame(&mut a, &[0u8; 19]).await.unwrap();
        let err = answer(&mut b, hs(2), |_| Ok(())).await.unwrap_err();
        assert!(matches!(err, ConnectionError::Handshake(HandshakeError::Length { bytes: 19, expected: 20 })));
    }
}
