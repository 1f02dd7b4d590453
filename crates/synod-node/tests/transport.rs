//! The node-to-node transport over real TCP on 127.0.0.1: delivery and order,
//! queue bounds, refusals of strangers and oversized frames, restarts.
//!
//! Listeners are bound (port 0) before any transport starts, so each config can
//! name the others' real addresses. Nothing sleeps for correctness: every wait
//! is a bounded poll of a condition or a receive under a timeout.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use synod_node::transport::{ConfigError, PeerId, PeerStats, SendError, Transport, TransportConfig, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

const CLUSTER: u64 = 0x5359_4e4f_4400_0001;
const WAIT: Duration = Duration::from_secs(20);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Msg {
    from: PeerId,
    seq: u32,
    body: Vec<u8>,
}

fn msg(from: PeerId, seq: u32) -> Msg {
    // Bodies of varied size, so frames straddle buffer boundaries.
    Msg { from, seq, body: vec![seq as u8; (seq as usize * 37) % 700] }
}

type Inbound = mpsc::Receiver<(PeerId, Msg)>;

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// A port with nothing listening on it (connections are refused).
fn down_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn config(node: PeerId, listen: SocketAddr, peers: &[(PeerId, SocketAddr)]) -> TransportConfig {
    let mut config = TransportConfig::new(CLUSTER, node, listen, peers.iter().copied().collect());
    // Short backoff keeps reconnect tests quick; a fixed seed makes them replayable.
    config.reconnect_backoff_min_ms = 5;
    config.reconnect_backoff_max_ms = 100;
    config.reconnect_jitter_seed = u64::from(node);
    config
}

async fn start_on(listener: TcpListener, config: TransportConfig, inbound_max: usize) -> (Transport<Msg>, Inbound) {
    let (tx, rx) = mpsc::channel(inbound_max);
    let transport = Transport::start_on(listener, config, tx).await.unwrap();
    (transport, rx)
}

async fn recv(inbound: &mut Inbound) -> (PeerId, Msg) {
    timeout(WAIT, inbound.recv()).await.expect("no message within the timeout").expect("inbound closed")
}

/// Polls `condition` every few milliseconds until it holds, for at most `WAIT`.
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let waited = timeout(WAIT, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    waited.await.unwrap_or_else(|_| panic!("timed out waiting until {what}"));
}

fn stats(transport: &Transport<Msg>, peer: PeerId) -> PeerStats {
    transport.peer_stats()[&peer]
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// A handshake frame written out by hand from the documented layout.
fn handshake(magic: &[u8; 8], version: u16, cluster: u64, node: PeerId) -> Vec<u8> {
    let mut payload = magic.to_vec();
    payload.extend_from_slice(&version.to_be_bytes());
    payload.extend_from_slice(&cluster.to_be_bytes());
    payload.push(node);
    payload.push(0); // channel 0: messages
    frame(&payload)
}

/// Connects as peer `node` with a valid handshake and checks the acceptor's answer byte for byte.
async fn raw_peer(addr: SocketAddr, node: PeerId, acceptor: PeerId) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&handshake(b"SYNODP2P", 3, CLUSTER, node)).await.unwrap();
    let mut answer = [0u8; 24];
    timeout(WAIT, stream.read_exact(&mut answer)).await.expect("no handshake answer").unwrap();
    assert_eq!(answer.to_vec(), handshake(b"SYNODP2P", 3, CLUSTER, acceptor));
    stream
}

/// The remote end closes the connection without sending a single byte.
async fn assert_closed_silently(stream: &mut TcpStream) {
    let mut buf = [0u8; 64];
    match timeout(WAIT, stream.read(&mut buf)).await.expect("connection left open") {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("the acceptor sent {n} bytes: {:?}", &buf[..n]),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_nodes_deliver_everything_in_order_in_all_directions() {
    const MESSAGES: u32 = 1_000;
    let listeners = [bind().await, bind().await, bind().await];
    let addrs: Vec<(PeerId, SocketAddr)> =
        listeners.iter().enumerate().map(|(i, l)| (i as PeerId + 1, l.local_addr().unwrap())).collect();

    // A small inbound channel, so readers wait on it and TCP pushes back.
    let mut nodes = Vec::new();
    for (listener, &(id, listen)) in listeners.into_iter().zip(&addrs) {
        let others: Vec<_> = addrs.iter().copied().filter(|&(peer, _)| peer != id).collect();
        nodes.push((id, start_on(listener, config(id, listen, &others), 8).await));
    }

    // Every node sends to both others, interleaved, before any connection need exist.
    for seq in 0..MESSAGES {
        for (id, (transport, _)) in &nodes {
            for &(peer, _) in addrs.iter().filter(|&&(peer, _)| peer != *id) {
                transport.send(peer, msg(*id, seq)).unwrap();
            }
        }
    }

    // Each node receives exactly 0..MESSAGES from each other node, in order.
    for (id, (_, inbound)) in &mut nodes {
        let mut next: BTreeMap<PeerId, u32> = BTreeMap::new();
        for _ in 0..2 * MESSAGES {
            let (from, got) = recv(inbound).await;
            assert_ne!(from, *id);
            let expected = next.entry(from).or_insert(0);
            assert_eq!(got, msg(from, *expected), "node {id} from {from}");
            *expected += 1;
        }
        assert!(next.values().all(|&n| n == MESSAGES), "{next:?}");
        assert!(inbound.try_recv().is_err(), "a message beyond those sent");
    }

    for (id, (transport, _)) in &nodes {
        wait_until("the counters settle", || {
            transport.peer_stats().values().all(|s| s.sent == u64::from(MESSAGES) && s.received == u64::from(MESSAGES))
        })
        .await;
        for (peer, s) in transport.peer_stats() {
            assert!(s.connected, "node {id} to {peer}");
            assert_eq!((s.queued, s.dropped), (0, 0), "node {id} to {peer}");
        }
    }
    for (_, (transport, _)) in nodes {
        transport.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_peer_receives_what_was_queued_before_it_came_up() {
    const QUEUE: usize = 16;
    let (listener_a, listener_b) = (bind().await, bind().await);
    let (addr_a, addr_b) = (listener_a.local_addr().unwrap(), listener_b.local_addr().unwrap());

    // B's port is bound but nobody serves it yet: A's connection waits in the backlog.
    let mut config_a = config(1, addr_a, &[(2, addr_b)]);
    config_a.queue_messages_max = QUEUE;
    let (a, _inbound_a) = start_on(listener_a, config_a, 16).await;
    for seq in 0..QUEUE as u32 {
        a.send(2, msg(1, seq)).unwrap();
    }
    for seq in QUEUE as u32..QUEUE as u32 + 10 {
        assert_eq!(a.send(2, msg(1, seq)), Err(SendError::QueueFull));
    }
    let s = stats(&a, 2);
    assert_eq!((s.connected, s.queued, s.sent, s.dropped), (false, QUEUE, 0, 10));

    // B comes up: the queued messages arrive, in order, and none of the refused ones.
    let (b, mut inbound_b) = start_on(listener_b, config(2, addr_b, &[(1, addr_a)]), 64).await;
    for seq in 0..QUEUE as u32 {
        assert_eq!(recv(&mut inbound_b).await, (1, msg(1, seq)));
    }
    a.send(2, msg(1, 999)).unwrap();
    assert_eq!(recv(&mut inbound_b).await, (1, msg(1, 999)));
    assert!(inbound_b.try_recv().is_err());
    wait_until("A counts what it sent", || stats(&a, 2).sent == QUEUE as u64 + 1).await;
    let s = stats(&a, 2);
    assert_eq!((s.connected, s.queued, s.dropped), (true, 0, 10));

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_of_a_down_peer_stays_at_its_bound() {
    const QUEUE: usize = 64;
    const EXTRA: u64 = 10_000;
    let listener = bind().await;
    let listen = listener.local_addr().unwrap();
    let mut config = config(1, listen, &[(2, down_addr()), (3, down_addr())]);
    config.queue_messages_max = QUEUE;
    let (a, _inbound) = start_on(listener, config, 16).await;

    for seq in 0..QUEUE as u32 {
        a.send(2, msg(1, seq)).unwrap();
    }
    // The task keeps reconnecting and failing meanwhile; nothing more is held.
    for seq in 0..EXTRA {
        assert_eq!(a.send(2, msg(1, seq as u32)), Err(SendError::QueueFull));
        if seq % 1_000 == 0 {
            assert_eq!(stats(&a, 2).queued, QUEUE);
        }
    }
    let s = stats(&a, 2);
    assert_eq!((s.connected, s.queued, s.sent, s.dropped), (false, QUEUE, 0, EXTRA));
    // Peers have separate queues.
    assert_eq!(stats(&a, 3), PeerStats::default());
    a.send(3, msg(1, 0)).unwrap();
    assert_eq!(stats(&a, 3).queued, 1);
    assert_eq!(a.send(4, msg(1, 0)), Err(SendError::UnknownPeer));

    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn strangers_are_refused_and_deliver_nothing() {
    let listener = bind().await;
    let addr = listener.local_addr().unwrap();
    let (a, mut inbound) = start_on(listener, config(1, addr, &[(2, down_addr()), (3, down_addr())]), 16).await;
    let message = frame(&postcard::to_allocvec(&msg(2, 0)).unwrap());

    let strangers: [(&str, Vec<u8>); 7] = [
        ("wrong cluster id", handshake(b"SYNODP2P", 3, CLUSTER + 1, 2)),
        ("wrong magic", handshake(b"SYNODP2Q", 2, CLUSTER, 2)),
        ("version 1", handshake(b"SYNODP2P", 1, CLUSTER, 2)),
        ("unknown node id", handshake(b"SYNODP2P", 3, CLUSTER, 9)),
        ("the acceptor's own node id", handshake(b"SYNODP2P", 3, CLUSTER, 1)),
        ("handshake too long", frame(&[0u8; 21])),
        ("a message instead of a handshake", message.clone()),
    ];
    for (what, hello) in strangers {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&hello).await.unwrap();
        // It goes on as if accepted; the write may fail once the acceptor has closed.
        let _ = stream.write_all(&message).await;
        if what == "wrong cluster id" {
            // Answered with the acceptor's own handshake (so the other
            // cluster's node can log the mismatch), then closed.
            let mut answer = [0u8; 24];
            timeout(WAIT, stream.read_exact(&mut answer)).await.expect("no handshake answer").unwrap();
            assert_eq!(answer.to_vec(), handshake(b"SYNODP2P", 3, CLUSTER, 1), "{what}");
        }
        assert_closed_silently(&mut stream).await;
        assert!(inbound.try_recv().is_err(), "{what}: a message was delivered");
    }
    wait_until("every stranger is counted as refused", || a.refusals() == 7).await;

    // A stranger that connects and stays silent does not hold the listener up,
    // and a real peer is still served: its message is the first and only one delivered.
    let _silent = TcpStream::connect(addr).await.unwrap();
    let mut peer = raw_peer(addr, 3, 1).await;
    peer.write_all(&frame(&postcard::to_allocvec(&msg(3, 7)).unwrap())).await.unwrap();
    assert_eq!(recv(&mut inbound).await, (3, msg(3, 7)));
    assert!(inbound.try_recv().is_err());
    wait_until("A counts the message", || stats(&a, 3).received == 1).await;
    assert_eq!(stats(&a, 2).received, 0);

    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_frames_are_refused_on_send_and_on_receive() {
    const FRAME_MAX: usize = 1_024;
    let listener = bind().await;
    let addr = listener.local_addr().unwrap();
    let mut config = config(1, addr, &[(2, down_addr())]);
    config.frame_bytes_max = FRAME_MAX;
    let (a, mut inbound) = start_on(listener, config, 16).await;

    // On send: refused at the call, nothing queued.
    let big = Msg { from: 1, seq: 0, body: vec![0; 2_000] };
    let bytes = postcard::to_allocvec(&big).unwrap().len();
    assert_eq!(a.send(2, big), Err(SendError::TooLarge { bytes, max: FRAME_MAX }));
    assert_eq!(stats(&a, 2).queued, 0);

    // At the limit exactly: accepted (postcard: from 1 byte, seq 1, the body's length 2, the body 1,020).
    let at_limit = Msg { from: 1, seq: 0, body: vec![0; FRAME_MAX - 4] };
    assert_eq!(postcard::to_allocvec(&at_limit).unwrap().len(), FRAME_MAX);
    a.send(2, at_limit).unwrap();
    assert_eq!(stats(&a, 2).queued, 1);

    // On receive: a length prefix over the limit closes the connection before any payload.
    for length in [FRAME_MAX as u32 + 1, u32::MAX] {
        let mut peer = raw_peer(addr, 2, 1).await;
        peer.write_all(&length.to_be_bytes()).await.unwrap();
        assert_closed_silently(&mut peer).await;
    }
    // So does a payload that is not one message.
    let mut peer = raw_peer(addr, 2, 1).await;
    let mut payload = postcard::to_allocvec(&msg(2, 1)).unwrap();
    payload.push(0);
    peer.write_all(&frame(&payload)).await.unwrap();
    assert_closed_silently(&mut peer).await;
    assert!(inbound.try_recv().is_err());

    // A frame of exactly the limit from a peer is delivered.
    let mut peer = raw_peer(addr, 2, 1).await;
    let at_limit = Msg { from: 2, seq: 1, body: vec![5; FRAME_MAX - 4] };
    peer.write_all(&frame(&postcard::to_allocvec(&at_limit).unwrap())).await.unwrap();
    assert_eq!(recv(&mut inbound).await, (2, at_limit));

    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_peer_is_reconnected_to() {
    let (listener_a, listener_b) = (bind().await, bind().await);
    let (addr_a, addr_b) = (listener_a.local_addr().unwrap(), listener_b.local_addr().unwrap());
    let (a, mut inbound_a) = start_on(listener_a, config(1, addr_a, &[(2, addr_b)]), 64).await;
    let (b, mut inbound_b) = start_on(listener_b, config(2, addr_b, &[(1, addr_a)]), 64).await;

    // Both directions work before the restart.
    a.send(2, msg(1, 0)).unwrap();
    b.send(1, msg(2, 0)).unwrap();
    assert_eq!(recv(&mut inbound_b).await, (1, msg(1, 0)));
    assert_eq!(recv(&mut inbound_a).await, (2, msg(2, 0)));
    assert_eq!(stats(&a, 2).reconnects, 0);

    // B stops; A notices the closed connection without having to send.
    b.shutdown().await;
    wait_until("A sees B gone", || !stats(&a, 2).connected).await;

    // B starts again on the same port (binding it itself this time).
    let (tx, mut inbound_b) = mpsc::channel(64);
    let b = Transport::<Msg>::start(config(2, addr_b, &[(1, addr_a)]), tx).await.unwrap();
    assert_eq!(b.local_addr(), addr_b);
    wait_until("A reconnects to B", || {
        let s = stats(&a, 2);
        s.connected && s.reconnects >= 1
    })
    .await;

    // Messages after the reconnection arrive, in order, both ways.
    for seq in 1..=100 {
        a.send(2, msg(1, seq)).unwrap();
        b.send(1, msg(2, seq)).unwrap();
    }
    for seq in 1..=100 {
        assert_eq!(recv(&mut inbound_b).await, (1, msg(1, seq)));
        assert_eq!(recv(&mut inbound_a).await, (2, msg(2, seq)));
    }

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn start_refuses_a_bad_config() {
    let listener = bind().await;
    let listen = listener.local_addr().unwrap();
    let (tx, _rx) = mpsc::channel::<(PeerId, Msg)>(1);
    let own = config(1, listen, &[(1, down_addr())]);
    let refused = Transport::start_on(listener, own, tx.clone()).await.err();
    assert!(matches!(refused, Some(TransportError::Config(ConfigError::SelfInPeers(1)))));
    let other_port = config(1, down_addr(), &[(2, down_addr())]);
    let refused = Transport::start_on(bind().await, other_port, tx).await.err();
    assert!(matches!(refused, Some(TransportError::Config(ConfigError::ListenMismatch { .. }))));
}

#[tokio::test]
async fn a_banned_peer_is_cut_off_until_the_ban_ends() {
    let (la, lb) = (bind().await, bind().await);
    let (aa, ab) = (la.local_addr().unwrap(), lb.local_addr().unwrap());
    let (a, mut a_in) = start_on(la, config(1, aa, &[(2, ab)]), 64).await;
    let (b, _b_in) = start_on(lb, config(2, ab, &[(1, aa)]), 64).await;

    // Before the ban, B's messages arrive.
    b.send(1, msg(2, 0)).unwrap();
    let (from, m) = timeout(WAIT, a_in.recv()).await.unwrap().unwrap();
    assert_eq!((from, m.seq), (2, 0));

    a.ban(2, std::time::Instant::now() + Duration::from_secs(3600));
    assert!(a.is_banned(2));
    assert_eq!(a.send(2, msg(1, 0)), Err(SendError::Banned));
    // A closes B's connection at its next message and every new one after the
    // handshake, so B keeps reconnecting, and nothing B sends is delivered.
    let started = std::time::Instant::now();
    let mut seq = 1;
    while b.peer_stats()[&1].reconnects < 3 {
        assert!(started.elapsed() < WAIT, "B was never cut off");
        let _ = b.send(1, msg(2, seq));
        seq += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(a_in.try_recv().is_err(), "a banned peer's message was delivered");
    a.shutdown().await;
    b.shutdown().await;
}

/// Waits for the next liveness change of `transport`, for at most `WAIT`.
async fn next_liveness_change(changes: &mut tokio::sync::watch::Receiver<u64>) {
    timeout(WAIT, changes.changed()).await.expect("no liveness change within the timeout").unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_peer_is_lost_and_regained_when_it_speaks_again() {
    let listener = bind().await;
    let addr = listener.local_addr().unwrap();
    let mut c = config(1, addr, &[(2, down_addr())]);
    c.keepalive_interval_ms = 10;
    c.peer_lost_after_ms = 100;
    let (a, mut inbound) = start_on(listener, c, 8).await;
    let mut changes = a.liveness_changes();

    // Peer 2 is down from the start: never heard, so lost once the
    // threshold has passed since the transport started.
    next_liveness_change(&mut changes).await;
    let st = stats(&a, 2);
    assert!(st.lost);
    assert_eq!(st.last_heard_ms_ago, None);

    // It connects and speaks (a keepalive, then a message): regained.
    let mut peer = raw_peer(addr, 2, 1).await;
    peer.write_all(&frame(&[])).await.unwrap();
    next_liveness_change(&mut changes).await;
    let st = stats(&a, 2);
    assert!(!st.lost);
    assert!(st.last_heard_ms_ago.is_some_and(|ms| ms < 100), "{st:?}");
    let payload = postcard::to_allocvec(&msg(2, 1)).unwrap();
    peer.write_all(&frame(&payload)).await.unwrap();
    assert_eq!(recv(&mut inbound).await, (2, msg(2, 1)), "a keepalive is not delivered, a message is");

    // Then it goes silent with its connection still open (a blackhole): lost
    // again, and the acceptor closes the silent connection.
    next_liveness_change(&mut changes).await;
    let st = stats(&a, 2);
    assert!(st.lost);
    assert!(st.last_heard_ms_ago.is_some_and(|ms| ms >= 100), "{st:?}");
    let mut rest = Vec::new();
    let closed = timeout(WAIT, peer.read_to_end(&mut rest)).await.expect("silent connection left open");
    assert!(closed.is_err() || rest.is_empty(), "the acceptor sent {rest:?}");

    // It comes back on a new connection: regained.
    let mut peer = raw_peer(addr, 2, 1).await;
    peer.write_all(&frame(&[])).await.unwrap();
    next_liveness_change(&mut changes).await;
    assert!(!stats(&a, 2).lost);
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_peers_keep_hearing_each_other_through_keepalives() {
    let (la, lb) = (bind().await, bind().await);
    let (addr_a, addr_b) = (la.local_addr().unwrap(), lb.local_addr().unwrap());
    let mut ca = config(1, addr_a, &[(2, addr_b)]);
    let mut cb = config(2, addr_b, &[(1, addr_a)]);
    for c in [&mut ca, &mut cb] {
        c.keepalive_interval_ms = 10;
        c.peer_lost_after_ms = 1_000;
    }
    let (a, _ia) = start_on(la, ca, 8).await;
    let (b, _ib) = start_on(lb, cb, 8).await;
    // No message is ever sent, yet each hears the other again and again:
    // count the renewals of `last_heard_ms_ago`.
    let mut renewals = 0;
    let mut previous = None;
    wait_until("ten keepalive renewals", || {
        let heard = stats(&a, 2).last_heard_ms_ago;
        if let (Some(before), Some(now)) = (previous, heard) {
            if now < before {
                renewals += 1;
            }
        }
        previous = heard;
        renewals >= 10
    })
    .await;
    for (t, peer) in [(&a, 2), (&b, 1)] {
        let st = stats(t, peer);
        assert!(!st.lost && st.last_heard_ms_ago.is_some(), "{st:?}");
        assert_eq!(st.sent, 0, "keepalives are not counted as messages");
        assert_eq!(st.received, 0);
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[test]
fn liveness_config_is_checked() {
    let mut c = config(1, down_addr(), &[(2, down_addr())]);
    c.peer_lost_after_ms = c.keepalive_interval_ms * 2 - 1;
    assert_eq!(
        c.validate(),
        Err(ConfigError::Liveness { keepalive_ms: c.keepalive_interval_ms, lost_ms: c.peer_lost_after_ms })
    );
    c.keepalive_interval_ms = 0;
    assert!(c.validate().is_err());
}
