//! Fail-stop, never zombie. An outside tester found that when a node's
//! consensus thread panicked, the node froze at its height yet still answered
//! `/healthz` 200 and `halted: false`, served stale reads and, as leader,
//! kept saying so. Here a panic is injected into each kind of node thread
//! (`Shared::inject_panic`, test-only) and the node must: answer `/healthz`
//! 503 naming the thread, refuse writes and reads with 503 `halted`, report
//! the failure (`/v1/status`, `Health::wait_failed`), and, as a Paxos
//! member, stop voting and leading: the other two elect a leader and keep
//! committing without it.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::TestNode;
use serde_json::Value;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer};
use synod_node::config::PeerConfig;
use synod_node::health::ThreadKind;
use synod_node::node::Listeners;
use synod_node::{Client, Node, NodeConfig};

/// A failsafe only: the waits below end as soon as the state is reached.
const DEADLINE: Duration = Duration::from_secs(30);

async fn get(url: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::get(format!("{url}{path}")).await.expect("an HTTP answer");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Waits until `/healthz` answers 503; returns its body.
async fn wait_unhealthy(url: &str) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (status, body) = get(url, "/healthz").await;
        if status == 503 {
            return body;
        }
        assert_eq!(status, 200, "healthz answers 200 or 503: {body}");
        assert!(Instant::now() < deadline, "the node never reported itself unhealthy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The checks every failed node must pass (`thread`: the name of the thread
/// that failed; `cause`: what the reason must say, e.g. "panicked").
async fn assert_failed_stop(url: &str, thread: &str, cause: &str) {
    let mut health = wait_unhealthy(url).await;
    assert_eq!(health["status"], "failed", "{health}");
    let reason = health["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(cause), "the reason says why: {health}");
    // The failure is recorded as the thread panics; it is listed as not
    // alive once its unwinding ended.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let threads = health["threads"].as_array().expect("healthz lists the threads");
        let dead = threads.iter().find(|t| t["name"] == thread).unwrap_or_else(|| panic!("{thread} listed: {health}"));
        assert!(dead["last_beat_ms_ago"].is_u64());
        if dead["alive"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "{thread} still alive: {health}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        health = get(url, "/healthz").await.1;
    }

    // Writes and reads: 503 halted. Status and metrics still answer.
    let http = reqwest::Client::new();
    let write = http.post(format!("{url}/v1/transfers")).body("{}").send().await.unwrap();
    assert_eq!(write.status().as_u16(), 503);
    assert_eq!(write.json::<Value>().await.unwrap()["code"], "halted");
    let (status, body) = get(url, "/v1/head").await;
    assert_eq!((status, body["code"].as_str()), (503, Some("halted")), "{body}");
    let (status, body) = get(url, "/v1/status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["halted"], true);
    assert!(body["failed"].as_str().unwrap_or_default().contains(cause), "{body}");
    assert!(body["threads"].as_array().is_some_and(|t| !t.is_empty()), "{body}");
    let metrics = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_healthy_node_reports_every_thread_alive() {
    let node = TestNode::start_default().await;
    let (status, body) = get(&node.url, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    let threads = body["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1, "{body}");
    assert_eq!(threads[0]["name"], "synod-committer");
    assert_eq!(threads[0]["alive"], true);
    let (_, status) = get(&node.url, "/v1/status").await;
    assert_eq!(status["failed"], Value::Null);
    assert_eq!(status["threads"][0]["kind"], "committer");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_the_committer_fails_the_single_node() {
    let node = TestNode::start_default().await;
    node.commit(&common::signed(1, 2, 5, 0)).await;
    let health = node.node.shared().health.clone();
    assert!(health.failure().is_none());
    node.node.shared().inject_panic(ThreadKind::Committer);
    let reason = tokio::time::timeout(DEADLINE, health.wait_failed()).await.expect("the node reports its failure");
    assert!(reason.contains("synod-committer"), "{reason}");
    assert_failed_stop(&node.url, "synod-committer", "synod-committer panicked").await;
    node.shutdown().await;
}

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=3).map(|n| Allocation { account: key(n).account(), amount: 1_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: 21, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations }
}

fn transfer(from: u8, to: u8, amount: u64, nonce: u64) -> synod_core::SignedTransfer {
    Transfer { chain_id: 21, from: key(from).account(), to: key(to).account(), amount, fee: 0, nonce, memo: vec![] }
        .sign(&key(from))
}

async fn start_cluster(dir: &std::path::Path) -> Vec<Node> {
    let http: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let peer: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let addrs: Vec<_> =
        http.iter().zip(&peer).map(|(h, p)| (h.local_addr().unwrap(), p.local_addr().unwrap())).collect();
    let mut nodes = Vec::new();
    for (i, (h, p)) in http.into_iter().zip(peer).enumerate() {
        let mut c = NodeConfig::new(dir.join(format!("n{i}")), addrs[i].0, dir.join("genesis.json"));
        c.node_id = Some(i as u8 + 1);
        c.peer_addr = Some(addrs[i].1);
        let certs = synod_node::tls::ensure_cluster_certs(&dir.join("tls"), &[i as u8 + 1]).unwrap();
        c.tls = certs.get(&(i as u8 + 1)).cloned();
        for (j, (ha, pa)) in addrs.iter().enumerate() {
            if j != i {
                c.peers.push(PeerConfig { id: j as u8 + 1, peer_addr: *pa, http_addr: *ha });
            }
        }
        nodes.push(Node::start_with_listeners(c, genesis(), Listeners { http: Some(h), peer: Some(p) }).await.unwrap());
    }
    nodes
}

/// The index of a node that leads, among `candidates`.
async fn wait_for_leader(nodes: &[Node], candidates: &[usize]) -> usize {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(&i) = candidates.iter().find(|&&i| nodes[i].shared().cluster.as_ref().unwrap().is_leader()) {
            return i;
        }
        assert!(Instant::now() < deadline, "no leader among {candidates:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How a test breaks one member.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A panic in the thread of this kind.
    Panic(ThreadKind),
    /// Every storage write of the thread of this kind fails.
    Storage(ThreadKind),
}

/// Breaks the leader of a 3-node cluster with `fault` and checks fail-stop,
/// then that the other two elect a leader and keep committing while the
/// failed member acknowledges nothing. `thread`: the thread that fails;
/// `cause`: what its failure reason says.
async fn a_member_fails_stop(fault: Fault, thread: &str, cause: &str) {
    let dir = tempfile::tempdir().unwrap();
    let nodes = start_cluster(dir.path()).await;
    let leader = wait_for_leader(&nodes, &[0, 1, 2]).await;
    let all = Client::new(nodes.iter().map(|n| n.url()).collect());
    assert_eq!(all.submit(&transfer(1, 2, 1, 0)).await.unwrap().status, "committed");

    // Every thread of a healthy member beats.
    let (status, body) = get(&nodes[leader].url(), "/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["threads"].as_array().unwrap().len(), 4, "consensus, persister, applier, proposer: {body}");

    let health = nodes[leader].shared().health.clone();
    match fault {
        Fault::Panic(kind) => nodes[leader].shared().inject_panic(kind),
        Fault::Storage(kind) => {
            health.inject_storage_failure(kind);
            // A storage failure needs a write: the leader persists the
            // Accept of this transfer, then applies it. It never commits
            // through the failed leader (any answer but "committed" is
            // fine, a retry included; the survivors may commit it later).
            let to_leader = Client::new(vec![nodes[leader].url()]);
            tokio::spawn(async move {
                let _ = to_leader.submit(&transfer(3, 2, 1, 0)).await;
            });
        }
    }
    let reason = tokio::time::timeout(DEADLINE, health.wait_failed()).await.expect("the member reports its failure");
    assert!(reason.contains(cause), "{reason}");
    assert_failed_stop(&nodes[leader].url(), thread, cause).await;
    let height_failed = nodes[leader].shared().ledger.read().unwrap().head().height;
    // The consensus thread is gone, whichever thread panicked: no votes, no
    // leadership, no heartbeats from this member.
    let (_, body) = get(&nodes[leader].url(), "/healthz").await;
    let consensus = body["threads"].as_array().unwrap().iter().find(|t| t["name"] == "synod-consensus").cloned();
    let deadline = Instant::now() + DEADLINE;
    let mut consensus = consensus.unwrap();
    while consensus["alive"] != false {
        assert!(Instant::now() < deadline, "the consensus thread kept running: {consensus}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, body) = get(&nodes[leader].url(), "/healthz").await;
        consensus =
            body["threads"].as_array().unwrap().iter().find(|t| t["name"] == "synod-consensus").cloned().unwrap();
    }

    // The other two elect a leader among themselves and keep committing.
    let others: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let new_leader = wait_for_leader(&nodes, &others).await;
    let survivor = Client::new(vec![nodes[new_leader].url()]);
    let deadline = Instant::now() + DEADLINE;
    loop {
        match survivor.submit(&transfer(1, 2, 1, 1)).await {
            Ok(r) if r.status == "committed" => break,
            other => {
                assert!(Instant::now() < deadline, "the two survivors did not commit: {other:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    // A second commit: a quorum of the two survivors alone.
    let deadline = Instant::now() + DEADLINE;
    while !matches!(survivor.submit(&transfer(2, 1, 1, 0)).await, Ok(r) if r.status == "committed") {
        assert!(Instant::now() < deadline, "the two survivors did not commit again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!nodes[leader].shared().cluster.as_ref().unwrap().is_leader(), "the failed member no longer says it leads");
    assert_eq!(
        nodes[leader].shared().ledger.read().unwrap().head().height,
        height_failed,
        "the failed member applied nothing after its failure"
    );
    let (status, _) = get(&nodes[leader].url(), "/v1/accounts/00").await;
    assert_eq!(status, 503, "no stale reads from the failed member");
    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_the_consensus_thread_fails_the_member() {
    a_member_fails_stop(Fault::Panic(ThreadKind::Consensus), "synod-consensus", "synod-consensus panicked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_the_persister_fails_the_member() {
    a_member_fails_stop(Fault::Panic(ThreadKind::Persister), "synod-persister", "synod-persister panicked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_the_applier_fails_the_member() {
    a_member_fails_stop(Fault::Panic(ThreadKind::Applier), "synod-applier", "synod-applier panicked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_the_proposer_fails_the_member() {
    a_member_fails_stop(Fault::Panic(ThreadKind::Proposer), "synod-proposer", "synod-proposer panicked").await;
}

/// The persister's write of the acceptor state fails: without durable
/// promises the member must not vote or lead again (PROTOCOL.md, fail-stop).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storage_failure_in_the_persister_fails_the_member() {
    let fault = Fault::Storage(ThreadKind::Persister);
    a_member_fails_stop(fault, "synod-persister", "paxos log write failed: injected storage failure").await;
}

/// The applier's block write fails: its in-memory ledger is ahead of its
/// disk, so the member stops voting and leading too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storage_failure_in_the_applier_fails_the_member() {
    let fault = Fault::Storage(ThreadKind::Applier);
    a_member_fails_stop(fault, "synod-applier", "block write failed: injected storage failure").await;
}

/// A lone mining proof-of-work node (its chain thread and one miner thread).
async fn start_pow(dir: &std::path::Path) -> synod_node::pow::PowNode {
    use synod_node::pow::{PowChainSpec, PowSettings};
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let g = Genesis { timestamp_ms: now_ms - 60_000, ..genesis() };
    let mut c = NodeConfig::new(dir.join("pow"), "127.0.0.1:0".parse().unwrap(), dir.join("genesis.json"));
    c.consensus = synod_node::config::ConsensusKind::Pow;
    c.node_id = Some(1);
    c.peer_addr = Some("127.0.0.1:0".parse().unwrap());
    c.pow = Some(PowSettings {
        chain: PowChainSpec { spacing_secs: 1, retarget_interval: 10, pow_limit_zero_bits: 14, ..Default::default() },
        mine: true,
        miner_account: Some(key(100).account()),
        miner_threads: 1,
        hashes_per_sec_max: 20_000,
    });
    synod_node::pow::PowNode::start(c, g, Listeners::default()).await.expect("pow node starts")
}

async fn a_pow_node_fails_stop(kind: ThreadKind, thread: &str) {
    let dir = tempfile::tempdir().unwrap();
    let node = start_pow(dir.path()).await;
    let (status, body) = get(&node.url(), "/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["threads"].as_array().unwrap().len(), 2, "chain and one miner: {body}");
    node.shared().inject_panic(kind);
    let health = node.shared().health.clone();
    let reason = tokio::time::timeout(DEADLINE, health.wait_failed()).await.expect("the node reports its failure");
    assert!(reason.contains(thread), "{reason}");
    let body = wait_unhealthy(&node.url()).await;
    assert_eq!(body["status"], "failed", "{body}");
    assert!(body["threads"].as_array().unwrap().iter().any(|t| t["name"] == thread), "{body}");
    let write = reqwest::Client::new().post(format!("{}/v1/transfers", node.url())).body("{}").send().await.unwrap();
    assert_eq!(write.status().as_u16(), 503);
    assert_eq!(write.json::<Value>().await.unwrap()["code"], "halted");
    let (status, body) = get(&node.url(), "/v1/head").await;
    assert_eq!((status, body["code"].as_str()), (503, Some("halted")), "{body}");
    let (status, body) = get(&node.url(), "/v1/status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["halted"], true);
    assert!(body["failed"].as_str().unwrap_or_default().contains(thread), "{body}");
    // Every thread ends: the other one exits at its next beat.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (_, body) = get(&node.url(), "/healthz").await;
        if body["threads"].as_array().unwrap().iter().all(|t| t["alive"] == false) {
            break;
        }
        assert!(Instant::now() < deadline, "a thread kept running on a failed node: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_the_pow_chain_thread_fails_the_node() {
    a_pow_node_fails_stop(ThreadKind::Chain, "synod-pow-chain").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_a_miner_fails_the_node() {
    a_pow_node_fails_stop(ThreadKind::Miner, "synod-pow-miner-0").await;
}
