//! Forwarding from a follower to the leader tells the truth and follows
//! leadership (docs/PROTOCOL.md 7.4). Every member of a real in-process
//! cluster is told that its peers' HTTP APIs are fake servers in this test,
//! which read a forwarded transfer and then drop the connection, never answer,
//! or answer with a marker; consensus between the members is real.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use cluster::Cluster;
use common::*;
use synod_core::AuthMode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const DROP: u8 = 0;
const HANG: u8 = 1;
const MARK: u8 = 2;

/// A fake HTTP API for member `id`. Only `POST /v1/transfers` is reported and
/// handled by `mode`; anything else (the members' status polls) is dropped.
struct Fake {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
}

/// Starts one fake per member id; each forwarded transfer it reads is reported
/// on the returned channel with the fake's member id.
async fn fakes(mode: u8) -> (BTreeMap<u8, Fake>, mpsc::UnboundedReceiver<u8>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut out = BTreeMap::new();
    for id in 1..=3u8 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(AtomicU8::new(mode));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (m, tx) = (mode.clone(), tx.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                tokio::spawn(serve(id, stream, m.clone(), tx.clone(), held.clone()));
            }
        });
        out.insert(id, Fake { addr, mode });
    }
    (out, rx)
}

async fn serve(
    id: u8,
    mut s: TcpStream,
    mode: Arc<AtomicU8>,
    tx: mpsc::UnboundedSender<u8>,
    held: Arc<Mutex<Vec<TcpStream>>>,
) {
    let Some(head) = read_request(&mut s).await else { return };
    if !head.starts_with("POST /v1/transfers") {
        return;
    }
    // Read the whole request first: the follower has sent everything.
    let _ = tx.send(id);
    match mode.load(Ordering::SeqCst) {
        DROP => drop(s),
        HANG => held.lock().unwrap().push(s),
        _ => {
            let body = format!("{{\"answered_by_fake\": {id}}}");
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(answer.as_bytes()).await;
        }
    }
}

/// Reads one request (head and `content-length` body); returns the head.
async fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

async fn post_transfer(url: &str, tx: &synod_core::SignedTransfer) -> Resp {
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{url}/v1/transfers"))
        .header("content-type", "application/json")
        .body(bytes(&to_json(tx)))
        .send()
        .await
        .expect("the follower answers");
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    Resp { status, content_type, bytes: resp.bytes().await.unwrap().to_vec() }
}

async fn start(mode: u8) -> (Cluster, BTreeMap<u8, Fake>, mpsc::UnboundedReceiver<u8>, usize, usize) {
    let (fakes, seen) = fakes(mode).await;
    let addrs = fakes.iter().map(|(id, f)| (*id, f.addr)).collect();
    let cluster = Cluster::start(genesis(AuthMode::Ed25519, 5, EACH), Some(addrs)).await;
    let leader = cluster.leader().await;
    cluster.agreed_on(leader).await;
    let follower = (leader + 1) % 3;
    (cluster, fakes, seen, leader, follower)
}

/// The leader (here: the fake standing for it) read the whole request and
/// closed the connection without answering: the transfer may have committed,
/// so the follower must say `commit_unknown`, never `not_leader`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_that_dies_after_reading_the_request_is_commit_unknown() {
    let (cluster, _fakes, mut seen, leader, follower) = start(DROP).await;
    let resp = post_transfer(&cluster.node(follower).url(), &signed(1, 2, 5, 0)).await;
    assert_eq!(seen.recv().await, Some(leader as u8 + 1), "the request reached the leader's address");
    resp.assert_error(503, "commit_unknown");
    cluster.shutdown().await;
}

/// Nothing was sent (the leader's port refuses connections): `not_leader`,
/// which tells the client that nothing happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_that_refuses_the_connection_is_not_leader() {
    let closed: BTreeMap<u8, SocketAddr> =
        (1..=3u8).map(|id| (id, std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap())).collect();
    // The listeners are dropped: connecting to these addresses is refused.
    let cluster = Cluster::start(genesis(AuthMode::Ed25519, 5, EACH), Some(closed)).await;
    let leader = cluster.leader().await;
    cluster.agreed_on(leader).await;
    let follower = (leader + 1) % 3;
    let resp = post_transfer(&cluster.node(follower).url(), &signed(1, 2, 5, 0)).await;
    resp.assert_error(503, "not_leader");
    cluster.shutdown().await;
}

/// The leader's HTTP API accepts the forward and never answers, and then the
/// leader goes away. The follower must not wait for the dead leader: when a
/// new leader is elected it sends the transfer there (here the follower itself
/// commits it, or the new leader's fake answers with its marker).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forward_to_a_silent_leader_is_rerouted_when_leadership_moves() {
    let (mut cluster, fakes, mut seen, leader, follower) = start(HANG).await;
    let url = cluster.node(follower).url();
    let tx = signed(1, 2, 5, 0);
    let request = tokio::spawn(async move { post_transfer(&url, &tx).await });
    assert_eq!(seen.recv().await, Some(leader as u8 + 1), "the forward is outstanding at the leader's address");
    for (id, f) in &fakes {
        if *id != leader as u8 + 1 {
            f.mode.store(MARK, Ordering::SeqCst);
        }
    }
    cluster.stop(leader).await;
    let resp = request.await.unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    let body = resp.json();
    let new_leader = cluster.leader().await;
    if new_leader == follower {
        assert_eq!(body["status"], "committed", "the follower became leader and committed it: {body}");
    } else {
        assert_eq!(body["answered_by_fake"], new_leader as u8 + 1, "re-routed to the new leader: {body}");
    }
    cluster.shutdown().await;
}

/// The leader's HTTP API never answers and leadership does not move: the
/// follower gives up after its election-based timeout with `commit_unknown`
/// (before the fix: `not_leader` after 30 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forward_to_a_silent_leader_that_keeps_leading_is_commit_unknown() {
    let (cluster, _fakes, mut seen, leader, follower) = start(HANG).await;
    let resp = post_transfer(&cluster.node(follower).url(), &signed(1, 2, 5, 0)).await;
    assert_eq!(seen.recv().await, Some(leader as u8 + 1));
    let body = resp.assert_error(503, "commit_unknown");
    let budget = synod_node::api::forward::forward_timeout().as_millis().to_string();
    assert!(body["message"].as_str().unwrap().contains(&budget), "answered at the forward timeout: {body}");
    cluster.shutdown().await;
}
