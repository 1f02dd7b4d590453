//! Snapshot catch-up in a three-node cluster in one process: a member that
//! was down while the others compacted their logs past it comes back and
//! installs the ledger from a snapshot, chunk by verified chunk; a crash in
//! the middle of that leaves a node that is merely behind; a damaged chunk is
//! refused and fetched again from another member.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer};
use synod_node::config::PeerConfig;
use synod_node::node::Listeners;
use synod_node::{Client, Node, NodeConfig};
use synod_storage::Store;

/// Slots each member keeps below its applied slot: small, so that a few
/// dozen writes push a down member out of the window.
const RETAIN_SLOTS: u64 = 16;
/// A block of one signed transfer is about 300 bytes: two or three per chunk.
const CHUNK_BYTES: usize = 1_000;
/// Writes while the member is down.
const WRITES_WHILE_DOWN: u64 = 60;

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=3).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: 22, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations }
}

fn transfer(nonce: u64) -> synod_core::SignedTransfer {
    Transfer { chain_id: 22, from: key(1).account(), to: key(2).account(), amount: 1, fee: 0, nonce, memo: vec![] }
        .sign(&key(1))
}

fn configs(dir: &std::path::Path) -> (Vec<NodeConfig>, Vec<(TcpListener, TcpListener)>) {
    let listeners: Vec<(TcpListener, TcpListener)> = (0..3)
        .map(|_| (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap()))
        .collect();
    let addrs: Vec<_> = listeners.iter().map(|(h, p)| (h.local_addr().unwrap(), p.local_addr().unwrap())).collect();
    let configs = (0..3)
        .map(|i| {
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
            c.snapshot.log_retain_slots = RETAIN_SLOTS;
            c.snapshot.chunk_bytes_max = CHUNK_BYTES;
            c
        })
        .collect();
    (configs, listeners)
}

async fn poll(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn cluster_status(node: &Node) -> synod_node::cluster::ClusterStatus {
    node.shared().cluster.as_ref().unwrap().status.read().unwrap().clone()
}

/// The scenario every test starts from: three members commit a few writes,
/// member 3 stops, the other two commit `WRITES_WHILE_DOWN` more and compact
/// their logs past everything member 3 applied. Returns the two live nodes,
/// every config, and the nonce of the next write.
async fn member_three_falls_behind_the_window(dir: &std::path::Path) -> (Vec<Node>, Vec<NodeConfig>, u64) {
    let (configs, listeners) = configs(dir);
    let mut nodes = Vec::new();
    for (c, (h, p)) in configs.iter().zip(listeners) {
        nodes.push(
            Node::start_with_listeners(c.clone(), genesis(), Listeners { http: Some(h), peer: Some(p) }).await.unwrap(),
        );
    }
    let everyone = Client::new(nodes.iter().map(|n| n.url()).collect());
    for nonce in 0..5 {
        assert_eq!(everyone.submit(&transfer(nonce)).await.unwrap().status, "committed");
    }
    poll("member 3 applies the first writes", 20, || nodes[2].shared().store.head_height().unwrap() >= 5).await;

    // Member 3 goes down; the others carry on far past the retention window.
    let three = nodes.pop().unwrap();
    let applied_by_three = three.shared().store.applied_slot().unwrap();
    three.shutdown().await;
    let live = Client::new(nodes.iter().map(|n| n.url()).collect());
    for nonce in 5..5 + WRITES_WHILE_DOWN {
        assert_eq!(live.submit(&transfer(nonce)).await.unwrap().status, "committed");
    }
    // Both compact past member 3 although it is a member: it is down and
    // further behind than the window, so it will need a snapshot.
    poll("both live members compact past member 3", 30, || {
        nodes.iter().all(|n| cluster_status(n).compacted_upto > applied_by_three + RETAIN_SLOTS)
    })
    .await;
    // The status shows the replica's compaction point; the persister truncates
    // the log on disk a moment later (the Truncate op is not awaited), so the
    // disk is polled rather than read once.
    for n in &nodes {
        poll("the log on disk is bounded by the window, not by the dead member", 30, || {
            (n.shared().store.load_paxos().unwrap().accepted.len() as u64) < WRITES_WHILE_DOWN
        })
        .await;
    }
    // The leader's transport still holds, in memory, the accepts it queued for
    // member 3 while it was down, and would deliver them when it returns
    // (pre-vote keeps the returning member from deposing the leader, so no new
    // ballot would make it refuse them). Restarting the live members drops
    // those queues: member 3 can then catch up only from a snapshot.
    let mut restarted = Vec::new();
    for (i, n) in nodes.into_iter().enumerate() {
        n.shutdown().await;
        restarted.push(Node::start_with_genesis(configs[i].clone(), genesis()).await.unwrap());
    }
    (restarted, configs, 5 + WRITES_WHILE_DOWN)
}

/// Waits until `node` holds exactly `reference`'s blocks and accounts.
async fn assert_converges(node: &Node, reference: &Node) {
    let target = reference.shared().store.head_height().unwrap();
    poll("the restarted member reaches the others' head", 30, || node.shared().store.head_height().unwrap() >= target)
        .await;
    let (a, b) = (&node.shared().store, &reference.shared().store);
    for height in 0..=target {
        assert_eq!(
            a.block(height).unwrap().unwrap().hash(),
            b.block(height).unwrap().unwrap().hash(),
            "block {height}"
        );
    }
    poll("accounts agree", 10, || a.accounts().unwrap() == b.accounts().unwrap()).await;
    // The configuration the log chose is recorded with both ledgers.
    assert!(b.applied_config().unwrap().is_some());
    assert_eq!(a.applied_config().unwrap(), b.applied_config().unwrap());
}

fn metric(node: &Node, f: impl Fn(&synod_node::metrics::Metrics) -> u64) -> u64 {
    f(&node.shared().metrics)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_down_past_the_retention_window_installs_a_chunked_snapshot_and_keeps_up() {
    let dir = tempfile::tempdir().unwrap();
    let (mut nodes, configs, next_nonce) = member_three_falls_behind_the_window(dir.path()).await;

    // Member 3 returns: its peers no longer hold the slots it lacks, so it
    // installs their ledger over several chunks.
    let three = Node::start_with_genesis(configs[2].clone(), genesis()).await.unwrap();
    assert_converges(&three, &nodes[0]).await;
    let chunks = metric(&three, |m| m.snapshot_chunks_installed.get());
    assert!(chunks >= 5, "the snapshot came in several chunks ({chunks})");
    assert!(metric(&three, |m| m.snapshots_installed.get()) >= 1);
    assert_eq!(metric(&three, |m| m.snapshot_chunks_refused.get()), 0);
    let served: u64 = nodes.iter().map(|n| metric(n, |m| m.snapshot_chunks_served.get())).sum();
    assert!(served >= chunks);

    // It then follows new writes like any member, including writes sent to it.
    let via_three = Client::new(vec![three.url()]);
    for nonce in next_nonce..next_nonce + 5 {
        assert_eq!(via_three.submit(&transfer(nonce)).await.unwrap().status, "committed");
    }
    nodes.push(three);
    for i in 0..2 {
        assert_converges(&nodes[2], &nodes[i]).await;
    }
    let account = via_three.get_json(&format!("/v1/accounts/{}", key(1).account())).await.unwrap();
    assert_eq!(account["nonce"], next_nonce + 5);
    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_in_the_middle_of_an_install_leaves_a_member_that_is_merely_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, configs, _) = member_three_falls_behind_the_window(dir.path()).await;
    let (before, applied_before) = {
        let store = Store::open(&configs[2].db_path()).unwrap();
        (store.head_height().unwrap(), store.applied_slot().unwrap())
    };

    // Power fails after two chunks of the install.
    let mut faulty = configs[2].clone();
    faulty.snapshot.faults.hang_install_after_chunks = 2;
    let three = Node::start_with_genesis(faulty, genesis()).await.unwrap();
    poll("two chunks installed", 30, || metric(&three, |m| m.snapshot_chunks_installed.get()) >= 2).await;
    three.shutdown().await;

    // What survived is the ledger as it was before the install (no block is
    // applied before the chain reaches the snapshot's head hash) and the
    // staged blocks, unapplied.
    {
        let store = Store::open(&configs[2].db_path()).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.ledger.head().height, before);
        assert_eq!(store.applied_slot().unwrap(), applied_before);
        let stage = store.install_stage().unwrap().expect("two chunks staged");
        let reference = &nodes[0].shared().store;
        assert!(stage.top_height > before && stage.top_height < reference.head_height().unwrap());
        assert_eq!(stage.top_hash, reference.block(stage.top_height).unwrap().unwrap().hash());
    }

    // Restarted, it resumes above the stage and ends identical.
    let three = Node::start_with_genesis(configs[2].clone(), genesis()).await.unwrap();
    assert_converges(&three, &nodes[0]).await;
    three.shutdown().await;
    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_damaged_chunk_is_refused_and_fetched_again_from_another_member() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, configs, _) = member_three_falls_behind_the_window(dir.path()).await;
    // Each live member damages the next chunk it serves (as a bad network
    // path or memory would, after its own checked read).
    for n in &nodes {
        let faults = &n.shared().cluster.as_ref().unwrap().snapshot.faults;
        faults.corrupt_served_chunks.store(1, std::sync::atomic::Ordering::SeqCst);
    }
    let three = Node::start_with_genesis(configs[2].clone(), genesis()).await.unwrap();
    assert_converges(&three, &nodes[0]).await;
    assert_eq!(metric(&three, |m| m.snapshot_chunks_refused.get()), 2, "both damaged chunks were refused");
    three.shutdown().await;
    for n in nodes {
        n.shutdown().await;
    }
}
