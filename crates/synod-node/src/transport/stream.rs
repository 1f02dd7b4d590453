//! A peer connection's byte stream: plain TCP (proof-of-work peers, an open
//! network) or TLS with certificates on both sides (Multi-Paxos members), and
//! the TLS handshakes of both sides.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};

use super::error::ConnectionError;
use super::PeerId;
use crate::tls::{node_name, TlsMaterial};

/// How a transport protects its connections.
#[derive(Clone, Debug, Default)]
pub enum TransportSecurity {
    /// Plain TCP, node ids as the handshake declares them: for the open
    /// proof-of-work network only.
    #[default]
    Plain,
    /// Mutual TLS against the cluster CA; each node id is bound to a
    /// certificate (`crate::tls`). Required of Multi-Paxos members.
    Mutual(TlsMaterial),
}

pub enum PeerStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl PeerStream {
    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        let tcp = match self {
            PeerStream::Plain(tcp) => tcp,
            PeerStream::Tls(tls) => tls.get_ref().0,
        };
        tcp.peer_addr().ok()
    }
}

/// The acceptor's TLS handshake. Returns the stream and, with mutual TLS, the
/// client's end-entity certificate (rustls has verified its chain to the CA).
pub async fn accept(
    tcp: TcpStream,
    security: &TransportSecurity,
) -> Result<(PeerStream, Option<CertificateDer<'static>>), ConnectionError> {
    match security {
        TransportSecurity::Plain => Ok((PeerStream::Plain(tcp), None)),
        TransportSecurity::Mutual(material) => {
            let tls = TlsAcceptor::from(material.server.clone()).accept(tcp).await.map_err(ConnectionError::Tls)?;
            let cert =
                tls.get_ref().1.peer_certificates().and_then(|chain| chain.first()).map(|c| c.clone().into_owned());
            Ok((PeerStream::Tls(Box::new(TlsStream::Server(tls))), cert))
        }
    }
}

/// The connector's TLS handshake: the acceptor's certificate must chain to the
/// CA and be valid for `node-<peer>.synod`.
pub async fn connect(
    tcp: TcpStream,
    security: &TransportSecurity,
    peer: PeerId,
) -> Result<PeerStream, ConnectionError> {
    match security {
        TransportSecurity::Plain => Ok(PeerStream::Plain(tcp)),
        TransportSecurity::Mutual(material) => {
            let name = ServerName::try_from(node_name(peer))
                .map_err(|e| ConnectionError::Tls(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
            let tls =
                TlsConnector::from(material.client.clone()).connect(name, tcp).await.map_err(ConnectionError::Tls)?;
            Ok(PeerStream::Tls(Box::new(TlsStream::Client(tls))))
        }
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            PeerStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PeerStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            PeerStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerStream::Plain(s) => Pin::new(s).poll_flush(cx),
            PeerStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            PeerStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
