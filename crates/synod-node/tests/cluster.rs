//! A three-node Multi-Paxos cluster in one process: writes through followers,
//! linearizable reads everywhere, identical blocks, and a halt on divergence.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer};
use synod_node::config::PeerConfig;
use synod_node::node::Listeners;
use synod_node::{Client, Node, NodeConfig};

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=3).map(|n| Allocation { account: key(n).account(), amount: 1_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: 21, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations }
}

async fn start_cluster(dir: &std::path::Path) -> Vec<Node> {
    start_cluster_with_configs(dir).await.0
}

async fn start_cluster_with_configs(dir: &std::path::Path) -> (Vec<Node>, Vec<NodeConfig>) {
    let http: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let peer: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let mut nodes = Vec::new();
    let mut configs = Vec::new();
    let mut listeners: Vec<(TcpListener, TcpListener)> = http.into_iter().zip(peer).collect();
    let addrs: Vec<_> = listeners.iter().map(|(h, p)| (h.local_addr().unwrap(), p.local_addr().unwrap())).collect();
    for i in 0..3 {
        let (h, p) = listeners.remove(0);
        let mut c = NodeConfig::new(dir.join(format!("n{i}")), addrs[i].0, dir.join("genesis.json"));
        c.node_id = Some(i as u8 + 1);
        c.peer_addr = Some(addrs[i].1);
        // Members require mutual TLS: one throwaway CA per test directory.
        let certs = synod_node::tls::ensure_cluster_certs(&dir.join("tls"), &[i as u8 + 1]).unwrap();
        c.tls = certs.get(&(i as u8 + 1)).cloned();
        for (j, (ha, pa)) in addrs.iter().enumerate() {
            if j != i {
                c.peers.push(PeerConfig { id: j as u8 + 1, peer_addr: *pa, http_addr: *ha });
            }
        }
        configs.push(c.clone());
        nodes.push(Node::start_with_listeners(c, genesis(), Listeners { http: Some(h), peer: Some(p) }).await.unwrap());
    }
    (nodes, configs)
}

async fn wait_for_leader(nodes: &[Node]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(i) = nodes.iter().position(|n| n.shared().cluster.as_ref().unwrap().is_leader()) {
            return i;
        }
        assert!(Instant::now() < deadline, "no leader within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn transfer(from: u8, to: u8, amount: u64, nonce: u64) -> synod_core::SignedTransfer {
    Transfer { chain_id: 21, from: key(from).account(), to: key(to).account(), amount, fee: 0, nonce, memo: vec![] }
        .sign(&key(from))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn followers_forward_writes_and_reads_are_linearizable_on_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = start_cluster(dir.path()).await;
    let leader = wait_for_leader(&nodes).await;
    let clients: Vec<Client> = nodes.iter().map(|n| Client::new(vec![n.url()])).collect();

    // Each write goes to a different node; each read right after it, to yet
    // another node, must see it (linearizable reads are the default).
    for nonce in 0..12u64 {
        let writer = &clients[nonce as usize % 3];
        let reader = &clients[(nonce as usize + 1) % 3];
        let receipt = writer.submit(&transfer(1, 2, 1, nonce)).await.unwrap();
        assert_eq!(receipt.status, "committed");
        let seen = reader.account(&key(1).account()).await.unwrap();
        assert_eq!(seen.nonce, nonce + 1, "a read after a committed write sees it (reader {})", (nonce + 1) % 3);
    }
    // A batch through a follower.
    let follower = &clients[(leader + 1) % 3];
    let batch: Vec<_> = (0..50).map(|n| transfer(3, 2, 1, n)).collect();
    let r = follower.submit_batch(&batch).await.unwrap();
    assert!(r.results.iter().all(|x| x.status == "committed"));

    // Every node ends with the same blocks.
    let deadline = Instant::now() + Duration::from_secs(10);
    let target = clients[leader].head().await.unwrap();
    for c in &clients {
        loop {
            let h = c.head().await.unwrap();
            if h.header.height >= target.header.height {
                assert_eq!(c.block(target.header.height).await.unwrap().hash, target.hash);
                break;
            }
            assert!(Instant::now() < deadline, "a node did not catch up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let status = clients[leader].status().await.unwrap();
    assert_eq!(status.consensus, "paxos");
    let c = status.cluster.unwrap();
    assert_eq!(c["role"], "leader");
    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_with_a_different_block_halts_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = start_cluster(dir.path()).await;
    let leader = wait_for_leader(&nodes).await;
    let client = Client::new(vec![nodes[leader].url()]);
    client.submit(&transfer(1, 2, 5, 0)).await.unwrap();
    // Wait until a follower has block 1, then forge its copy (as a bug or a
    // bad disk would): a different block at the same height.
    let victim = (leader + 1) % 3;
    let deadline = Instant::now() + Duration::from_secs(10);
    while nodes[victim].shared().store.head_height().unwrap() < 1 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = &nodes[victim].shared().store;
    let mut block = store.block(1).unwrap().unwrap();
    block.header.timestamp_ms += 1;
    store.tamper_block(1, &block.encode()).unwrap();

    // Someone compares hashes within a few check intervals and halts.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !nodes.iter().any(|n| n.shared().is_halted()) {
        assert!(Instant::now() < deadline, "divergence went unnoticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let halted: Vec<_> = nodes.iter().filter(|n| n.shared().is_halted()).collect();
    assert!(!halted.is_empty());
    // A halted node refuses writes with a typed error.
    let h = Client::new(vec![halted[0].url()]);
    let err = h.submit(&transfer(1, 2, 5, 1)).await.unwrap_err();
    assert_eq!(err.code(), "halted");
    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_log_is_compacted_and_a_restarted_member_resumes_from_its_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (mut nodes, configs) = start_cluster_with_configs(dir.path()).await;
    let leader = wait_for_leader(&nodes).await;
    let client = Client::new(nodes.iter().map(|n| n.url()).collect());
    // One transfer per request, one after another: about one slot each.
    for nonce in 0..150u64 {
        assert_eq!(client.submit(&transfer(1, 2, 1, nonce)).await.unwrap().status, "committed");
    }
    // Every member applied them, so the divergence/compaction watch (every 2 s)
    // compacts the log: the accepted entries on disk shrink.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let kept: Vec<usize> = nodes.iter().map(|n| n.shared().store.load_paxos().unwrap().accepted.len()).collect();
        if kept.iter().all(|k| *k < 100) {
            break;
        }
        assert!(Instant::now() < deadline, "log not compacted: accepted entries {kept:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A follower restarts: its replica resumes at its ledger's applied slot
    // (the compacted entries are gone) and it follows new writes.
    let victim = (leader + 1) % 3;
    let node = nodes.remove(victim);
    node.shutdown().await;
    let restarted = Node::start_with_genesis(configs[victim].clone(), genesis()).await.unwrap();
    for nonce in 150..160u64 {
        assert_eq!(client.submit(&transfer(1, 2, 1, nonce)).await.unwrap().status, "committed");
    }
    let target = Client::new(vec![nodes[0].url()]).head().await.unwrap();
    let mine = Client::new(vec![restarted.url()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let h = mine.head().await.unwrap();
        if h.header.height >= target.header.height {
            assert_eq!(mine.block(target.header.height).await.unwrap().hash, target.hash);
            break;
        }
        assert!(Instant::now() < deadline, "restarted member did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let account = mine.get_json(&format!("/v1/accounts/{}?consistency=stale", key(1).account())).await.unwrap();
    assert_eq!(account["nonce"], 160);
    restarted.shutdown().await;
    for n in nodes {
        n.shutdown().await;
    }
}

/// The story: with more than `promise_entries_max` (512) accepted slots per
/// acceptor and no snapshot point, a whole-cluster restart made every promise
/// truncated, every candidate stepped down to fetch, and no leader was ever
/// elected (found by the simulator). The ledger is now the snapshot point on
/// restart, so promises only carry the slots above what each node applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_whole_cluster_restart_after_many_slots_elects_a_leader_again() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, configs) = start_cluster_with_configs(dir.path()).await;
    wait_for_leader(&nodes).await;
    let client = Client::new(nodes.iter().map(|n| n.url()).collect());
    for nonce in 0..600u64 {
        assert_eq!(client.submit(&transfer(1, 2, 1, nonce)).await.unwrap().status, "committed");
    }
    let head = client.head().await.unwrap();
    // Let every member apply everything, then stop them all at once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while nodes.iter().any(|n| n.shared().store.head_height().unwrap() < head.header.height) {
        assert!(Instant::now() < deadline, "members did not apply everything");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for n in nodes {
        n.shutdown().await;
    }
    let mut nodes = Vec::new();
    for c in &configs {
        nodes.push(Node::start_with_genesis(c.clone(), genesis()).await.unwrap());
    }
    let leader = wait_for_leader(&nodes).await;
    let client = Client::new(nodes.iter().map(|n| n.url()).collect());
    let receipt = client.submit(&transfer(1, 2, 1, 600)).await.unwrap();
    assert_eq!(receipt.status, "committed");
    assert_eq!(receipt.height, Some(head.header.height + 1), "the chain continues where it stopped");
    let block = Client::new(vec![nodes[leader].url()]).block(head.header.height + 1).await.unwrap();
    assert_eq!(block.header.prev_hash, head.hash.0);
    for n in nodes {
        n.shutdown().await;
    }
}

/// Polls every node's `/v1/status` until each shows `cluster.config` with a
/// slot; returns the (members, slot) they show.
async fn wait_for_config(nodes: &[Node]) -> Vec<(serde_json::Value, serde_json::Value)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut shown = Vec::new();
        for n in nodes {
            let status = Client::new(vec![n.url()]).status().await.unwrap();
            let config = status.cluster.unwrap()["config"].clone();
            shown.push((config["members"].clone(), config["slot"].clone()));
        }
        if shown.iter().all(|(_, slot)| !slot.is_null()) {
            return shown;
        }
        assert!(Instant::now() < deadline, "the config was not chosen everywhere: {shown:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The configuration is data in the log: the first leader proposes it, every
/// member shows it with its slot and records it in its ledger, and a
/// whole-cluster restart (which cannot re-learn the entry if it was
/// compacted) still shows it, with no second Config proposed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_member_shows_the_logs_config_and_keeps_it_across_a_whole_cluster_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, configs) = start_cluster_with_configs(dir.path()).await;
    wait_for_leader(&nodes).await;
    let client = Client::new(nodes.iter().map(|n| n.url()).collect());
    assert_eq!(client.submit(&transfer(1, 2, 1, 0)).await.unwrap().status, "committed");
    let shown = wait_for_config(&nodes).await;
    for (members, slot) in &shown {
        assert_eq!(*members, serde_json::json!([1, 2, 3]));
        assert_eq!(*slot, serde_json::json!(1), "the first leader's first proposal");
    }
    for n in &nodes {
        let recorded = n.shared().store.applied_config().unwrap().expect("recorded with the ledger");
        assert_eq!((recorded.slot, recorded.members), (1, vec![1, 2, 3]));
    }
    for n in nodes {
        n.shutdown().await;
    }

    // Restarted from their stores, before any new leader, they still know it.
    let mut nodes = Vec::new();
    for c in &configs {
        nodes.push(Node::start_with_genesis(c.clone(), genesis()).await.unwrap());
    }
    for n in &nodes {
        let status = Client::new(vec![n.url()]).status().await.unwrap();
        assert_eq!(status.cluster.unwrap()["config"], serde_json::json!({"members": [1, 2, 3], "slot": 1}));
    }
    // A new leader finds it recorded and proposes no second one.
    wait_for_leader(&nodes).await;
    let client = Client::new(nodes.iter().map(|n| n.url()).collect());
    assert_eq!(client.submit(&transfer(1, 2, 1, 1)).await.unwrap().status, "committed");
    for (_, slot) in wait_for_config(&nodes).await {
        assert_eq!(slot, serde_json::json!(1));
    }
    for n in &nodes {
        assert_eq!(n.shared().store.applied_config().unwrap().unwrap().slot, 1);
    }
    for n in nodes {
        n.shutdown().await;
    }
}

/// The log's configuration wins over the config file: a member whose file
/// names other peers than the configuration its ledger recorded starts on
/// the recorded one (the file is only the bootstrap and an address book).
/// The start rules themselves: `cluster/membership.rs` unit tests and
/// `tests/membership.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_restarted_with_other_peers_in_its_file_follows_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, configs) = start_cluster_with_configs(dir.path()).await;
    wait_for_leader(&nodes).await;
    wait_for_config(&nodes).await;
    for n in nodes {
        n.shutdown().await;
    }
    let mut changed = configs[0].clone();
    let peer = changed.peers.iter_mut().find(|p| p.id == 3).unwrap();
    peer.id = 4;
    let node = Node::start_with_genesis(changed, genesis()).await.unwrap();
    let status = Client::new(vec![node.url()]).status().await.unwrap();
    assert_eq!(status.cluster.unwrap()["config"], serde_json::json!({"members": [1, 2, 3], "slot": 1}));
    node.shutdown().await;
}
