// A Multi-Paxos cluster with a hostile member: nodes 1 and 2 run in this
// process, node 3's place is taken by the test, which holds node 3's
// certificate and key and writes raw frames to the live nodes' peer ports.
// Two of three members are live, so the cluster commits without node 3, and
// every answer node 3 would have given is simply missing (deterministic: no
// honest node 3 races the attacker for its connection).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use serde_json::Value;
use synod_core::{AuthMode, Genesis, SignedTransfer};
use synod_node::config::{PeerConfig, TlsConfig};
use synod_node::node::Listeners;
use synod_node::tls::{ensure_cluster_certs, TlsMaterial};
use synod_node::{Node, NodeConfig};
use synod_paxos::Message;
use tempfile::TempDir;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{genesis, signed, CHAIN};

/// A failsafe only: every wait below ends as soon as its condition holds.
pub const WAIT: Duration = Duration::from_secs(30);
/// What each genesis key holds: enough that the forged 12,345-unit transfer
/// would pass the funds check, so only its missing signature can stop it.
pub const FUNDED_EACH: u64 = 100_000;
/// The node id the attacker holds the certificate of.
pub const ATTACKER: u8 = 3;
/// The key whose account honest test transfers come from.
const HONEST_SENDER: u8 = 1;
const HONEST_RECEIVER: u8 = 2;

/// Nodes 1 and 2 live; node 3's addresses are closed ports (connections to
/// them are refused at once).
pub struct AttackCluster {
    pub dir: TempDir,
    pub genesis: Genesis,
    /// `nodes[0]` is node 1, `nodes[1]` node 2.
    pub nodes: Vec<Node>,
    pub peer_addrs: Vec<SocketAddr>,
    pub certs: BTreeMap<u8, TlsConfig>,
    pub http: reqwest::Client,
    /// Next nonce of `HONEST_SENDER`.
    nonce: u64,
}

pub fn node_id(index: usize) -> u8 {
    u8::try_from(index + 1).expect("two nodes")
}

impl AttackCluster {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let genesis = genesis(AuthMode::Ed25519, 5, FUNDED_EACH);
        let certs = ensure_cluster_certs(&dir.path().join("tls"), &[1, 2, 3]).expect("cluster certificates");
        let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let http: Vec<std::net::TcpListener> = (0..3).map(|_| bind()).collect();
        let peer: Vec<std::net::TcpListener> = (0..3).map(|_| bind()).collect();
        let addrs: Vec<(SocketAddr, SocketAddr)> =
            http.iter().zip(&peer).map(|(h, p)| (h.local_addr().unwrap(), p.local_addr().unwrap())).collect();
        let mut listeners: Vec<(std::net::TcpListener, std::net::TcpListener)> = http.into_iter().zip(peer).collect();
        // Node 3's listeners close here: its ports refuse connections.
        drop(listeners.pop());
        let mut nodes = Vec::new();
        for (i, (h, p)) in listeners.into_iter().enumerate() {
            let id = node_id(i);
            let mut c = NodeConfig::new(dir.path().join(format!("n{id}")), addrs[i].0, dir.path().join("genesis.json"));
            c.node_id = Some(id);
            c.peer_addr = Some(addrs[i].1);
            c.tls = Some(certs[&id].clone());
            for (j, (ha, pa)) in addrs.iter().enumerate() {
                if j != i {
                    c.peers.push(PeerConfig { id: node_id(j), peer_addr: *pa, http_addr: *ha });
                }
            }
            let started = Node::start_with_listeners(c, genesis.clone(), Listeners { http: Some(h), peer: Some(p) });
            nodes.push(started.await.expect("node starts"));
        }
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("http client");
        let peer_addrs = addrs[..2].iter().map(|(_, p)| *p).collect();
        let cluster = AttackCluster { dir, genesis, nodes, peer_addrs, certs, http, nonce: 0 };
        cluster.wait_for_leader().await;
        cluster
    }

    pub async fn shutdown(self) {
        for n in self.nodes {
            n.shutdown().await;
        }
    }

    pub async fn wait_for_leader(&self) -> usize {
        let deadline = Instant::now() + WAIT;
        loop {
            let leader = self.nodes.iter().position(|n| n.shared().cluster.as_ref().expect("member").is_leader());
            if let Some(i) = leader {
                return i;
            }
            assert!(Instant::now() < deadline, "no leader within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, index: usize) -> String {
        self.nodes[index].url()
    }

    /// GET `path` on node `index`: (status, body as JSON or Null).
    pub async fn get(&self, index: usize, path: &str) -> (u16, Value) {
        let resp = self.http.get(format!("{}{path}", self.url(index))).send().await;
        let resp = resp.unwrap_or_else(|e| panic!("GET {path} on node {}: {e}", node_id(index)));
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn metrics(&self, index: usize) -> String {
        let resp = self.http.get(format!("{}/metrics", self.url(index))).send().await.expect("GET /metrics");
        assert_eq!(resp.status().as_u16(), 200);
        resp.text().await.expect("metrics text")
    }

    /// `synod_peer_messages_refused_total{peer="3", reason}` on node `index`
    /// (0 while the series does not exist yet).
    pub async fn refused(&self, index: usize, reason: &str) -> u64 {
        refused_in(&self.metrics(index).await, ATTACKER, reason)
    }

    /// Polls until node `index` counted more than `before` refusals of
    /// `reason` from the attacker; returns the new count.
    pub async fn wait_refused_above(&self, index: usize, reason: &str, before: u64) -> u64 {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.refused(index, reason).await;
            if now > before {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not count a `{reason}` refusal (still {now})",
                node_id(index)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The round of the ballot node `index` promised (`cluster.ballot` in
    /// `/v1/status` is "round.node").
    pub async fn promised_round(&self, index: usize) -> u64 {
        let (status, body) = self.get(index, "/v1/status").await;
        assert_eq!(status, 200, "{body}");
        let ballot = body["cluster"]["ballot"].as_str().unwrap_or_else(|| panic!("no cluster.ballot in {body}"));
        let round = ballot.split('.').next().expect("split yields one part");
        round.parse().unwrap_or_else(|_| panic!("ballot {ballot:?} is not round.node"))
    }

    /// The highest commit index any live node reports.
    pub async fn commit_index(&self) -> u64 {
        let mut highest = 0;
        for i in 0..self.nodes.len() {
            let (_, body) = self.get(i, "/v1/status").await;
            let commit = body["cluster"]["commit_index"].as_u64().unwrap_or_else(|| panic!("no commit_index: {body}"));
            highest = highest.max(commit);
        }
        highest
    }

    /// Every live node's `/healthz` is 200: no thread died.
    pub async fn assert_healthy(&self) {
        for i in 0..self.nodes.len() {
            let (status, body) = self.get(i, "/healthz").await;
            assert_eq!(status, 200, "node {} unhealthy: {body}", node_id(i));
        }
    }

    /// Submits a new signed transfer through node `index` (retrying while the
    /// cluster re-elects: the same transfer, so a retry is idempotent) and
    /// waits until every live node has applied it.
    pub async fn commit_through(&mut self, index: usize) -> SignedTransfer {
        let tx = signed(HONEST_SENDER, HONEST_RECEIVER, 1, self.nonce);
        self.nonce += 1;
        let deadline = Instant::now() + WAIT;
        let url = format!("{}/v1/transfers", self.url(index));
        loop {
            let body = serde_json::to_vec(&tx).expect("transfer serialises");
            let sent = self.http.post(&url).header("content-type", "application/json").body(body).send().await;
            let answer = match sent {
                Ok(resp) => (resp.status().as_u16(), resp.json::<Value>().await.unwrap_or(Value::Null)),
                Err(e) => (0, Value::String(e.to_string())),
            };
            if answer.0 == 200 {
                break;
            }
            // 503 (no leader yet, forward failed) or a timeout: retry.
            assert!(Instant::now() < deadline, "node {} never committed {}: {answer:?}", node_id(index), tx.id());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for i in 0..self.nodes.len() {
            self.wait_transfer_applied(i, &tx.id().to_string()).await;
        }
        tx
    }

    async fn wait_transfer_applied(&self, index: usize, id: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.get(index, &format!("/v1/transfers/{id}")).await {
                (200, _) => return,
                (404, _) => {}
                other => panic!("GET /v1/transfers/{id} on node {}: {other:?}", node_id(index)),
            }
            assert!(Instant::now() < deadline, "node {} never applied {id}", node_id(index));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every live node commits a transfer sent through it, and is healthy.
    pub async fn assert_live(&mut self) {
        for i in 0..self.nodes.len() {
            self.commit_through(i).await;
        }
        self.assert_healthy().await;
    }

    /// `id` is on no live node, and `account` holds `balance` on each (its
    /// own ledger: a stale read, not forwarded to the leader).
    pub async fn assert_absent(&self, id: &str, account: &synod_core::AccountId, balance: u64) {
        for i in 0..self.nodes.len() {
            let (status, body) = self.get(i, &format!("/v1/transfers/{id}")).await;
            assert_eq!(status, 404, "node {} holds the forged transfer: {body}", node_id(i));
            let (status, body) = self.get(i, &format!("/v1/accounts/{account}?consistency=stale")).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["balance"].as_u64(), Some(balance), "node {} balance of {account}: {body}", node_id(i));
        }
    }

    /// TLS as `as_node` (with that node's certificate) to live node `index`,
    /// then a Synod handshake claiming `claim` on the message channel.
    pub async fn connect_as(&self, as_node: u8, claim: u8, index: usize) -> PeerConn {
        let material = TlsMaterial::load(&self.certs[&as_node], as_node).expect("certificate loads");
        let conn = PeerConn::connect_tls(material, self.peer_addrs[index], node_id(index)).await;
        conn.expect("the TLS handshake with a member certificate succeeds").handshake(claim).await
    }
}

/// Sums `synod_peer_messages_refused_total` samples for `peer` and `reason`.
pub fn refused_in(metrics: &str, peer: u8, reason: &str) -> u64 {
    let (peer, reason) = (format!("peer=\"{peer}\""), format!("reason=\"{reason}\""));
    metrics
        .lines()
        .filter(|l| l.starts_with("synod_peer_messages_refused_total{") && l.contains(&peer) && l.contains(&reason))
        .map(|l| {
            let value = l.rsplit(' ').next().expect("a sample has a value");
            value.parse::<f64>().unwrap_or_else(|_| panic!("bad sample {l}")) as u64
        })
        .sum()
}

/// A version-2 handshake frame (channel 0), written out from the documented layout.
pub fn handshake_frame(claim: u8) -> Vec<u8> {
    let mut out = 20u32.to_be_bytes().to_vec();
    out.extend_from_slice(b"SYNODP2P");
    out.extend_from_slice(&synod_node::transport::PROTOCOL_VERSION.to_be_bytes());
    out.extend_from_slice(&CHAIN.to_be_bytes()); // the cluster id defaults to the chain id
    out.extend_from_slice(&[claim, 0]);
    out
}

/// One message frame: `length u32 BE || postcard(message)`.
pub fn message_frame(message: &Message) -> Vec<u8> {
    let payload = postcard::to_allocvec(message).expect("message encodes");
    let mut out = u32::try_from(payload.len()).expect("small").to_be_bytes().to_vec();
    out.extend_from_slice(&payload);
    out
}

pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A raw peer connection the attacker writes frames on.
pub struct PeerConn {
    pub stream: Box<dyn Stream>,
}

impl PeerConn {
    /// TLS to `addr`, expecting the certificate of `server`. Errors if the
    /// TLS handshake fails on our side (the server may refuse only later).
    pub async fn connect_tls(material: TlsMaterial, addr: SocketAddr, server: u8) -> std::io::Result<PeerConn> {
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&material.client));
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from(format!("node-{server}.synod")).expect("valid name");
        let tls = connector.connect(name, tcp).await?;
        Ok(PeerConn { stream: Box::new(tls) })
    }

    /// Sends the handshake claiming `claim` and reads the acceptor's answer.
    pub async fn handshake(mut self, claim: u8) -> PeerConn {
        self.write(&handshake_frame(claim)).await.expect("handshake written");
        let mut answer = [0u8; 24];
        let read = tokio::time::timeout(WAIT, self.stream.read_exact(&mut answer)).await;
        read.expect("handshake answer within the timeout").expect("the member answers the handshake");
        assert_eq!(&answer[4..12], b"SYNODP2P", "not a handshake answer: {answer:?}");
        self
    }

    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    pub async fn send(&mut self, messages: &[Message]) -> std::io::Result<()> {
        let bytes: Vec<u8> = messages.iter().flat_map(message_frame).collect();
        self.write(&bytes).await
    }

    /// Waits until the node closes the connection: a read returns 0 or an
    /// error. Panics if the node sends anything (an acceptor never does after
    /// its handshake) or keeps the connection open past `WAIT`.
    pub async fn assert_closed_by_node(&mut self) {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(WAIT, self.stream.read(&mut buf)).await;
        match read.expect("the node left the connection open") {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("the node sent {n} bytes: {:?}", &buf[..n]),
        }
    }
}
