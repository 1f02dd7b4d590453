//! Mutual TLS on the peer port, as Multi-Paxos members run it: only holders of
//! a certificate from the cluster CA get in, each only as the node id its
//! certificate names, and the snapshot-chunk channel is behind the same door.
//!
//! Every attack here is run against a transport that also has a real peer
//! connected, so "refused" is told apart from "broken".

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use synod_node::config::TlsConfig;
use synod_node::tls::{ensure_cluster_certs, TlsMaterial};
use synod_node::transport::{
    ChunkFetchError, ChunkRefusal, ChunkRequest, ChunkSource, PeerId, Transport, TransportConfig, TransportSecurity,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

const CLUSTER: u64 = 0x5359_4e4f_4400_0002;
const WAIT: Duration = Duration::from_secs(20);

type Inbound = mpsc::Receiver<(PeerId, u32)>;

/// Certificates for nodes 1..=3 from one CA in `dir`.
fn certs(dir: &std::path::Path) -> BTreeMap<u8, TlsConfig> {
    ensure_cluster_certs(dir, &[1, 2, 3]).unwrap()
}

fn material(files: &BTreeMap<u8, TlsConfig>, id: u8) -> TlsMaterial {
    TlsMaterial::load(&files[&id], id).unwrap()
}

fn config(node: PeerId, listen: SocketAddr, peers: &[(PeerId, SocketAddr)], tls: TlsMaterial) -> TransportConfig {
    let mut config = TransportConfig::new(CLUSTER, node, listen, peers.iter().copied().collect());
    config.reconnect_backoff_min_ms = 5;
    config.reconnect_backoff_max_ms = 100;
    config.reconnect_jitter_seed = u64::from(node);
    config.security = TransportSecurity::Mutual(tls);
    config
}

async fn start(
    listener: TcpListener,
    config: TransportConfig,
    chunks: Option<Arc<dyn ChunkSource>>,
) -> (Transport<u32>, Inbound) {
    let (tx, rx) = mpsc::channel(64);
    (Transport::start_serving(listener, config, tx, chunks).await.unwrap(), rx)
}

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let waited = timeout(WAIT, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    waited.await.unwrap_or_else(|_| panic!("timed out waiting until {what}"));
}

async fn recv(inbound: &mut Inbound) -> (PeerId, u32) {
    timeout(WAIT, inbound.recv()).await.expect("no message within the timeout").expect("inbound closed")
}

/// A version-3 handshake frame on channel 0, written out from the documented layout.
fn handshake(node: PeerId) -> Vec<u8> {
    let mut out = 20u32.to_be_bytes().to_vec();
    out.extend_from_slice(b"SYNODP2P");
    out.extend_from_slice(&3u16.to_be_bytes());
    out.extend_from_slice(&CLUSTER.to_be_bytes());
    out.extend_from_slice(&[node, 0]);
    out
}

/// Node 1 with peers 2 and 3, and the real node 2 connected to it and delivering.
struct Pair {
    a: Transport<u32>,
    a_in: Inbound,
    b: Transport<u32>,
    addr_a: SocketAddr,
}

async fn pair(files: &BTreeMap<u8, TlsConfig>, chunks: Option<Arc<dyn ChunkSource>>) -> Pair {
    let (la, lb) = (bind().await, bind().await);
    let (addr_a, addr_b) = (la.local_addr().unwrap(), lb.local_addr().unwrap());
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (a, mut a_in) = start(la, config(1, addr_a, &[(2, addr_b), (3, down)], material(files, 1)), chunks).await;
    let (b, _) = start(lb, config(2, addr_b, &[(1, addr_a)], material(files, 2)), None).await;
    b.send(1, 100).unwrap();
    assert_eq!(recv(&mut a_in).await, (2, 100), "the real member delivers over mutual TLS");
    Pair { a, a_in, b, addr_a }
}

#[tokio::test(flavor = "multi_thread")]
async fn members_deliver_in_both_directions_over_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs(dir.path());
    let Pair { a, mut a_in, b, .. } = pair(&files, None).await;
    for seq in 0..50 {
        b.send(1, seq).unwrap();
    }
    for seq in 0..50 {
        assert_eq!(recv(&mut a_in).await, (2, seq));
    }
    wait_until("A's outbound link to B is up", || a.peer_stats()[&2].connected).await;
    assert_eq!(a.refusals(), 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_from_another_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs(&dir.path().join("ours"));
    let theirs = certs(&dir.path().join("theirs"));
    let Pair { a, mut a_in, b, addr_a } = pair(&files, None).await;

    // A stranger with a well-formed certificate for "node-3.synod", from its own CA.
    let impostor_listener = bind().await;
    let impostor_addr = impostor_listener.local_addr().unwrap();
    let (impostor, _) =
        start(impostor_listener, config(3, impostor_addr, &[(1, addr_a)], material(&theirs, 3)), None).await;
    impostor.send(1, 666).unwrap();
    wait_until("A refuses the impostor (and its retries)", || a.refusals() >= 2).await;
    assert!(!impostor.peer_stats()[&1].connected, "the impostor's link never came up");

    // The real member is unaffected; nothing of the impostor's arrived before its message.
    b.send(1, 101).unwrap();
    assert_eq!(recv(&mut a_in).await, (2, 101));
    impostor.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_for_node_3_cannot_claim_node_2() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs(dir.path());
    let Pair { a, mut a_in, b, addr_a } = pair(&files, None).await;

    // Node 3's genuine certificate, and a handshake that claims node 2.
    let connector = tokio_rustls::TlsConnector::from(material(&files, 3).client);
    let tcp = TcpStream::connect(addr_a).await.unwrap();
    let mut tls = connector.connect(ServerName::try_from("node-1.synod").unwrap(), tcp).await.unwrap();
    tls.write_all(&handshake(2)).await.unwrap();
    tls.flush().await.unwrap();
    let mut answer = Vec::new();
    let _ = timeout(WAIT, tls.read_to_end(&mut answer)).await.expect("connection left open");
    assert!(answer.is_empty(), "the acceptor answered a forged handshake: {answer:?}");
    wait_until("the forged handshake is counted", || a.refusals() == 1).await;

    // Node 2's real connection was not replaced: it keeps delivering, with no reconnect.
    b.send(1, 102).unwrap();
    assert_eq!(recv(&mut a_in).await, (2, 102));
    assert_eq!(b.peer_stats()[&1].reconnects, 0);
    assert!(a_in.try_recv().is_err());
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plaintext_connection_to_a_member_gets_nothing_processed() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs(dir.path());
    let Pair { a, mut a_in, b, addr_a } = pair(&files, None).await;

    // A valid plaintext handshake and message, as a proof-of-work peer would send.
    let mut tcp = TcpStream::connect(addr_a).await.unwrap();
    tcp.write_all(&handshake(2)).await.unwrap();
    let mut message = 4u32.to_be_bytes().to_vec();
    message.extend_from_slice(&postcard::to_allocvec(&7u32).unwrap());
    let _ = tcp.write_all(&message).await;
    let mut answer = Vec::new();
    let _ = timeout(WAIT, tcp.read_to_end(&mut answer)).await.expect("connection left open");
    // At most a TLS alert comes back, never a Synod handshake answer.
    assert!(!answer.windows(8).any(|w| w == b"SYNODP2P"), "answered in plaintext: {answer:?}");
    wait_until("the plaintext connection is counted as refused", || a.refusals() == 1).await;

    b.send(1, 103).unwrap();
    assert_eq!(recv(&mut a_in).await, (2, 103), "only the real member's message arrives");
    assert!(a_in.try_recv().is_err());
    a.shutdown().await;
    b.shutdown().await;
}

/// Serves a fixed chunk and counts the reads.
#[derive(Default)]
struct FixedChunks {
    reads: AtomicU64,
}

impl ChunkSource for FixedChunks {
    fn read_chunk(&self, _from: PeerId, request: ChunkRequest) -> Result<Vec<u8>, ChunkRefusal> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(request.from_height.to_be_bytes().to_vec())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_chunks_are_served_to_members_only_and_bad_ranges_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs(&dir.path().join("ours"));
    let theirs = certs(&dir.path().join("theirs"));
    let source = Arc::new(FixedChunks::default());
    let Pair { a, b, addr_a, .. } = pair(&files, Some(source.clone())).await;
    let request = ChunkRequest { from_height: 5, to_height: 9, bytes_max: 1024 };

    // A member gets its chunk over its own certificate.
    let chunk = b.chunk_client().fetch(1, request, 1024).await.unwrap();
    assert_eq!(chunk, 5u64.to_be_bytes());
    assert_eq!(source.reads.load(Ordering::SeqCst), 1);

    // An inverted range is a range error, answered without reading storage.
    let inverted = ChunkRequest { from_height: 5, to_height: 1, bytes_max: 1024 };
    let err = b.chunk_client().fetch(1, inverted, 1024).await.unwrap_err();
    assert!(matches!(err, ChunkFetchError::Refused { refusal: ChunkRefusal::Range(_), .. }), "{err}");

    // No certificate at all: TLS to the CA, but no client certificate.
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        for cert in synod_node::tls::load_certificates(&files[&1].ca_cert).unwrap() {
            roots.add(cert).unwrap();
        }
        roots
    };
    let anonymous = rustls::ClientConfig::builder_with_provider(synod_node::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr_a).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(anonymous));
    let name = ServerName::try_from("node-1.synod").unwrap();
    // TLS 1.3: the client may finish its side before the server refuses.
    if let Ok(mut tls) = connector.connect(name, tcp).await {
        let mut hello = handshake(2);
        *hello.last_mut().unwrap() = 1; // channel 1: a chunk request
        let _ = tls.write_all(&hello).await;
        let _ = tls.write_all(&[&20u32.to_be_bytes()[..], &request_bytes(request)].concat()).await;
        let _ = tls.flush().await;
        let mut answer = Vec::new();
        let _ = timeout(WAIT, tls.read_to_end(&mut answer)).await.expect("connection left open");
        assert!(answer.is_empty(), "served without a certificate: {answer:?}");
    }

    // A certificate from another CA, through the real chunk client.
    let stranger_listener = bind().await;
    let stranger_addr = stranger_listener.local_addr().unwrap();
    let (stranger, _) =
        start(stranger_listener, config(3, stranger_addr, &[(1, addr_a)], material(&theirs, 3)), None).await;
    let err = stranger.chunk_client().fetch(1, request, 1024).await.unwrap_err();
    assert!(matches!(err, ChunkFetchError::Connection { .. }), "{err}");

    assert_eq!(source.reads.load(Ordering::SeqCst), 1, "only the member's request reached storage");
    wait_until("both strangers are counted as refused", || a.refusals() >= 2).await;
    stranger.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
}

fn request_bytes(r: ChunkRequest) -> Vec<u8> {
    [&r.from_height.to_be_bytes()[..], &r.to_height.to_be_bytes(), &r.bytes_max.to_be_bytes()].concat()
}
