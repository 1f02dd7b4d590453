//! Proof-of-work nodes in one process, over real TCP and redb: they mine,
//! gossip and converge; a transfer gains confirmations; a node restarted
//! after the others mined ahead syncs to their chain; a node restarted alone
//! recovers its chain from disk.
//!
//! Mining is throttled (a hash budget per node) and the difficulty is low,
//! so blocks come every fraction of a second; every wait is a poll with a
//! bounded deadline, never a sleep that the result depends on.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer};
use synod_node::config::{ConsensusKind, PeerConfig};
use synod_node::node::Listeners;
use synod_node::pow::{PowChainSpec, PowNode, PowSettings};
use synod_node::NodeConfig;

const DEADLINE: Duration = Duration::from_secs(90);

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

/// One genesis for the whole test binary (its time is a minute before the
/// first call, so the first blocks' times are valid).
fn genesis() -> Genesis {
    static GENESIS: std::sync::OnceLock<Genesis> = std::sync::OnceLock::new();
    GENESIS.get_or_init(make_genesis).clone()
}

fn make_genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=2).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    Genesis { chain_id: 4242, auth: AuthMode::Ed25519, timestamp_ms: now_ms - 60_000, allocations }
}

fn spec() -> PowChainSpec {
    // About 2^14 hashes per block at the minimum difficulty.
    PowChainSpec { spacing_secs: 1, retarget_interval: 10, pow_limit_zero_bits: 14, ..Default::default() }
}

struct Addrs {
    http: SocketAddr,
    peer: SocketAddr,
}

fn config(dir: &Path, i: usize, addrs: &[Addrs], mine: bool) -> NodeConfig {
    let mut c = NodeConfig::new(dir.join(format!("n{i}")), addrs[i].http, dir.join("genesis.json"));
    c.consensus = ConsensusKind::Pow;
    c.node_id = Some(i as u8 + 1);
    c.peer_addr = Some(addrs[i].peer);
    for (j, a) in addrs.iter().enumerate() {
        if j != i {
            c.peers.push(PeerConfig { id: j as u8 + 1, peer_addr: a.peer, http_addr: a.http });
        }
    }
    c.pow = Some(PowSettings {
        chain: spec(),
        mine,
        miner_account: Some(key(100 + i as u8).account()),
        miner_threads: 1,
        hashes_per_sec_max: 20_000,
    });
    c
}

async fn start(config: NodeConfig, genesis: &Genesis, listeners: Listeners) -> PowNode {
    PowNode::start(config, genesis.clone(), listeners).await.expect("node starts")
}

/// Starts `n` nodes (the first `miners` of them mining) on fresh ports.
async fn network(dir: &Path, n: usize, miners: usize) -> (Vec<PowNode>, Vec<Addrs>) {
    let listeners: Vec<(TcpListener, TcpListener)> = (0..n)
        .map(|_| (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap()))
        .collect();
    let addrs: Vec<Addrs> =
        listeners.iter().map(|(h, p)| Addrs { http: h.local_addr().unwrap(), peer: p.local_addr().unwrap() }).collect();
    let g = genesis();
    let mut nodes = Vec::new();
    for (i, (h, p)) in listeners.into_iter().enumerate() {
        let c = config(dir, i, &addrs, i < miners);
        nodes.push(start(c, &g, Listeners { http: Some(h), peer: Some(p) }).await);
    }
    (nodes, addrs)
}

async fn get(url: &str, path: &str) -> Option<Value> {
    let resp = reqwest::get(format!("{url}{path}")).await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

async fn height(url: &str) -> u64 {
    get(url, "/v1/status").await.and_then(|s| s["pow"]["height"].as_u64()).unwrap_or(0)
}

async fn hash_at(url: &str, h: u64) -> Option<String> {
    get(url, &format!("/v1/blocks/{h}")).await.and_then(|b| b["hash"].as_str().map(String::from))
}

/// Polls `cond` until it holds, failing the test after `DEADLINE`.
macro_rules! wait_until {
    ($what:expr, $cond:expr) => {{
        let started = Instant::now();
        loop {
            if $cond {
                break;
            }
            assert!(started.elapsed() < DEADLINE, "timed out waiting for {}", $what);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_miners_converge_and_a_transfer_gains_confirmations() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, _) = network(dir.path(), 3, 3).await;
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();

    wait_until!("every node past height 3", {
        let mut all = true;
        for u in &urls {
            all &= height(u).await >= 3;
        }
        all
    });

    // A transfer sent to node 2 is pending, then mined, then buried deeper.
    let status = get(&urls[1], "/v1/status").await.unwrap();
    let t = Transfer {
        chain_id: status["chain_id"].as_u64().unwrap(),
        from: key(1).account(),
        to: key(2).account(),
        amount: 700,
        fee: 5,
        nonce: 0,
        memo: b"pow".to_vec(),
    };
    let tx = t.clone().sign(&key(1));
    let id = tx.id().to_string();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/transfers", urls[1]))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&tx).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let receipt: Value = resp.json().await.unwrap();
    assert_eq!(receipt["status"], "pending");
    assert_eq!(receipt["id"], id.as_str());

    // Node 3 learns of it by gossip and sees it confirmed, then deeper.
    let mut first = 0;
    wait_until!("the transfer confirmed on node 3", {
        match get(&urls[2], &format!("/v1/transfers/{id}")).await {
            Some(v) if v["status"] == "confirmed" => {
                first = v["confirmations"].as_u64().unwrap();
                true
            }
            _ => false,
        }
    });
    assert!(first >= 1);
    wait_until!("two more confirmations", {
        get(&urls[0], &format!("/v1/transfers/{id}"))
            .await
            .is_some_and(|v| v["status"] == "confirmed" && v["confirmations"].as_u64().unwrap() >= first + 2)
    });

    // Every node agrees on the block that holds it (blocks keep coming and a
    // short reorg may move it, so all three are asked together until they
    // agree) and on the balances.
    let mut views: Vec<Value> = Vec::new();
    wait_until!(format!("every node to hold the transfer in the same block: {views:?}"), {
        views.clear();
        for u in &urls {
            views.push(get(u, &format!("/v1/transfers/{id}")).await.unwrap_or(Value::Null));
        }
        views.iter().all(|v| v["status"] == "confirmed" && v["block_hash"] == views[0]["block_hash"])
    });
    for u in &urls {
        let a = get(u, &format!("/v1/accounts/{}", key(2).account())).await.unwrap();
        assert_eq!(a["balance"], 1_000_700);
        let a = get(u, &format!("/v1/accounts/{}", key(1).account())).await.unwrap();
        assert_eq!(a["balance"], 1_000_000 - 705);
    }

    // Status shows mining and peers.
    let s = get(&urls[0], "/v1/status").await.unwrap();
    assert_eq!(s["consensus"], "pow");
    assert_eq!(s["pow"]["mining"], true);
    // A fresh node stored at least every block of its best chain, and the transfer's.
    assert!(s["blocks_committed_since_start"].as_u64().unwrap() >= s["pow"]["height"].as_u64().unwrap(), "{s}");
    assert!(s["transfers_committed_since_start"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["pow"]["peers"].as_object().unwrap().len(), 2);
    let metrics = reqwest::get(format!("{}/metrics", urls[0])).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("synod_pow_hashrate_hashes_per_second"));
    assert!(metrics.contains("synod_pow_tip_height"));

    // A transfer that breaks a ledger rule is refused with its code.
    let bad = Transfer { nonce: 9, ..t.clone() }.sign(&key(1));
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/transfers", urls[0]))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&bad).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "nonce_gap");

    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_restarted_after_the_others_mined_ahead_syncs_to_their_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (mut nodes, addrs) = network(dir.path(), 3, 2).await;
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    wait_until!("node 3 past height 2", height(&urls[2]).await >= 2);

    let third = nodes.pop().unwrap();
    third.shutdown().await;
    let behind = height(&urls[0]).await;
    wait_until!("the miners 10 blocks further", height(&urls[0]).await >= behind + 10);

    let h_target = height(&urls[0]).await;
    let g = genesis();
    let c = config(dir.path(), 2, &addrs, false);
    let listeners = Listeners {
        http: Some(TcpListener::bind(addrs[2].http).unwrap()),
        peer: Some(TcpListener::bind(addrs[2].peer).unwrap()),
    };
    let third = start(c, &g, listeners).await;
    wait_until!("node 3 caught up", height(&third.url()).await >= h_target);
    for h in [1, behind, h_target] {
        let theirs = hash_at(&urls[0], h).await.unwrap();
        wait_until!("identical blocks", hash_at(&third.url(), h).await.as_deref() == Some(theirs.as_str()));
    }
    third.shutdown().await;
    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lone_node_recovers_its_chain_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (mut nodes, addrs) = network(dir.path(), 1, 1).await;
    let node = nodes.pop().unwrap();
    wait_until!("height 5", height(&node.url()).await >= 5);
    node.shutdown().await;

    let g = genesis();
    // Restarted without mining: its tip can only come from disk.
    let c = config(dir.path(), 0, &addrs, false);
    let before = {
        let listeners = Listeners { http: Some(TcpListener::bind(addrs[0].http).unwrap()), peer: None };
        let node = start(c.clone(), &g, listeners).await;
        let s = get(&node.url(), "/v1/status").await.unwrap();
        node.shutdown().await;
        s
    };
    assert!(before["pow"]["height"].as_u64().unwrap() >= 5);
    let listeners = Listeners { http: Some(TcpListener::bind(addrs[0].http).unwrap()), peer: None };
    let node = start(c, &g, listeners).await;
    let after = get(&node.url(), "/v1/status").await.unwrap();
    assert_eq!(after["pow"]["tip"], before["pow"]["tip"]);
    assert_eq!(after["pow"]["chain_work"], before["pow"]["chain_work"]);
    assert_eq!(after["pow"]["supply"], before["pow"]["supply"]);
    node.shutdown().await;

    // The offline audit rebuilds the same chain from the file alone...
    let db = dir.path().join("n0/pow.redb");
    let report = synod_node::pow::audit::audit(&db).expect("a clean store passes");
    assert_eq!(report.tip, after["pow"]["tip"].as_str().unwrap());
    assert_eq!(report.supply, after["pow"]["supply"].as_u64().unwrap());
    // ...and a flipped byte in a stored block fails both the audit and the start, naming it.
    let tip: synod_pow::BlockHash = report.tip.parse().unwrap();
    {
        let (store, _, _) = synod_storage::PowStore::open_existing(&db).unwrap();
        assert!(store.corrupt_block(&tip.0).unwrap());
    }
    let err = synod_node::pow::audit::audit(&db).expect_err("damage is caught");
    assert!(err.to_string().contains(&hex::encode(tip.0)), "{err}");
    let listeners = Listeners { http: Some(TcpListener::bind(addrs[0].http).unwrap()), peer: None };
    let err = PowNode::start(config(dir.path(), 0, &addrs, false), g, listeners).await.err().expect("refused");
    assert!(err.to_string().contains("checksum"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_another_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut nodes, addrs) = network(dir.path(), 1, 0).await;
    nodes.pop().unwrap().shutdown().await;
    let mut c = config(dir.path(), 0, &addrs, false);
    c.pow.as_mut().unwrap().chain.spacing_secs = 7;
    let err = PowNode::start(c, genesis(), Listeners::default()).await.err().expect("refused");
    assert!(err.to_string().contains("different genesis"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_a_malformed_block_is_banned_and_then_ignored() {
    use synod_node::transport::{Transport, TransportConfig};
    use synod_pow::gossip::GossipMsg;

    let dir = tempfile::tempdir().unwrap();
    let listeners =
        [(); 2].map(|_| (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap()));
    let addrs: Vec<Addrs> =
        listeners.iter().map(|(h, p)| Addrs { http: h.local_addr().unwrap(), peer: p.local_addr().unwrap() }).collect();
    let [(h, p), (_, fake_listener)] = listeners;
    let node =
        start(config(dir.path(), 0, &addrs, false), &genesis(), Listeners { http: Some(h), peer: Some(p) }).await;
    let url = node.url();

    // Node 2 is a hand-driven transport speaking the network's handshake.
    let identity = node.shared().identity;
    let cluster_id = u64::from_be_bytes(identity[..8].try_into().unwrap());
    let peers = [(1u8, addrs[0].peer)].into_iter().collect();
    let (inbound_tx, _inbound_rx) = tokio::sync::mpsc::channel(64);
    fake_listener.set_nonblocking(true).unwrap();
    let fake = Transport::<GossipMsg>::start_on(
        tokio::net::TcpListener::from_std(fake_listener).unwrap(),
        TransportConfig::new(cluster_id, 2, addrs[1].peer, peers),
        inbound_tx,
    )
    .await
    .unwrap();
    let peer_row = |s: &Value| s["pow"]["peers"]["2"].clone();
    wait_until!("the node sees peer 2", {
        get(&url, "/v1/status").await.is_some_and(|s| peer_row(&s)["connected"] == true)
    });
    assert_eq!(peer_row(&get(&url, "/v1/status").await.unwrap())["ban_score"], 0);

    fake.send(1, GossipMsg::Block(vec![0xff; 200])).unwrap();
    wait_until!("the ban", {
        get(&url, "/v1/status").await.is_some_and(|s| !peer_row(&s)["banned_until_ms"].is_null())
    });
    let row = peer_row(&get(&url, "/v1/status").await.unwrap());
    assert!(row["ban_score"].as_u64().unwrap() >= 100, "{row}");
    let metrics = reqwest::get(format!("{url}/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("synod_pow_peers_banned_total 1"), "{metrics}");

    // The node still serves, and its chain is untouched.
    let s = get(&url, "/v1/status").await.unwrap();
    assert_eq!(s["pow"]["height"], 0);
    assert_eq!(s["pow"]["invalid_blocks"], 0);
    fake.shutdown().await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_that_is_not_json_is_415_and_metrics_are_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let (mut nodes, _addrs) = network(dir.path(), 1, 0).await;
    let node = nodes.pop().unwrap();
    let t = Transfer {
        chain_id: genesis().chain_id,
        from: key(1).account(),
        to: key(2).account(),
        amount: 5,
        fee: 5,
        nonce: 0,
        memo: vec![],
    };
    let body = serde_json::to_vec(&t.sign(&key(1))).unwrap();
    let post = |content_type: Option<&str>| {
        let mut req = reqwest::Client::new().post(format!("{}/v1/transfers", node.url())).body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    for refused in [Some("text/plain"), None] {
        let resp = post(refused).await.unwrap();
        assert_eq!(resp.status().as_u16(), 415, "{refused:?}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["code"], "unsupported_media_type");
    }
    let resp = post(Some("application/json; charset=utf-8")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 202, "{:?}", resp.text().await);

    let resp = reqwest::get(format!("{}/metrics", node.url())).await.unwrap();
    let content_type = resp.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("# TYPE synod_pow_transfers_submitted_total counter\nsynod_pow_transfers_submitted_total 1\n")
    );
    node.shutdown().await;
}
