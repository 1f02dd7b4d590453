//! Online membership change in one process: a node started with `join`
//! catches up as a learner and is promoted through `POST /v1/cluster/members`
//! (sent to a follower, so forwarded), the leader removes itself and hands
//! over, every member follows the log's configuration, and the start rules
//! hold across restarts (the log wins over the file; a removed member with
//! its old file refuses to start).

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use serde_json::json;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer};
use synod_node::config::PeerConfig;
use synod_node::node::{Listeners, StartError};
use synod_node::{Client, Node, NodeConfig};

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=3).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: 23, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations }
}

fn transfer(from: u8, to: u8, nonce: u64) -> synod_core::SignedTransfer {
    Transfer { chain_id: 23, from: key(from).account(), to: key(to).account(), amount: 1, fee: 0, nonce, memo: vec![] }
        .sign(&key(from))
}

/// Addresses of up to `n` nodes, bound now so every config can name them.
struct Slots {
    listeners: Vec<Option<(TcpListener, TcpListener)>>,
    addrs: Vec<(SocketAddr, SocketAddr)>,
}

impl Slots {
    fn new(n: usize) -> Slots {
        let listeners: Vec<_> = (0..n)
            .map(|_| Some((TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap())))
            .collect();
        let addrs = listeners
            .iter()
            .map(|l| {
                let (h, p) = l.as_ref().unwrap();
                (h.local_addr().unwrap(), p.local_addr().unwrap())
            })
            .collect();
        Slots { listeners, addrs }
    }

    /// Node `id`'s config listing `peers` (ids) as its peers.
    fn config(&self, dir: &std::path::Path, id: u8, peers: &[u8]) -> NodeConfig {
        let (http, peer) = self.addrs[usize::from(id) - 1];
        let mut c = NodeConfig::new(dir.join(format!("n{id}")), http, dir.join("genesis.json"));
        c.node_id = Some(id);
        c.peer_addr = Some(peer);
        let certs = synod_node::tls::ensure_cluster_certs(&dir.join("tls"), &[id]).unwrap();
        c.tls = certs.get(&id).cloned();
        for &p in peers {
            let (h, pa) = self.addrs[usize::from(p) - 1];
            c.peers.push(PeerConfig { id: p, peer_addr: pa, http_addr: h });
        }
        c
    }

    async fn start(&mut self, config: NodeConfig) -> Result<Node, StartError> {
        let id = usize::from(config.node_id.unwrap()) - 1;
        let listeners = match self.listeners[id].take() {
            Some((h, p)) => Listeners { http: Some(h), peer: Some(p) },
            // A restart binds the same addresses again.
            None => Listeners::default(),
        };
        Node::start_with_listeners(config, genesis(), listeners).await
    }
}

fn members_of(node: &Node) -> Vec<u8> {
    node.shared().cluster.as_ref().unwrap().status.read().unwrap().config.members.clone()
}

fn leader_of(nodes: &[&Node]) -> Option<u8> {
    nodes
        .iter()
        .find(|n| n.shared().cluster.as_ref().unwrap().is_leader())
        .map(|n| n.shared().cluster.as_ref().unwrap().node_id)
}

async fn wait_until(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Follows a change through `GET /v1/cluster/members` until the members
/// are `expected` on the answering leader.
async fn wait_members(client: &Client, expected: &[u8]) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(v) = client.get_json("/v1/cluster/members").await {
            assert_ne!(v["change"]["state"], json!("failed"), "{v}");
            if v["members"] == json!(expected) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "members never became {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joining_node_is_promoted_the_leader_removes_itself_and_restarts_follow_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut slots = Slots::new(4);
    let mut nodes = Vec::new();
    for id in 1..=3u8 {
        let peers: Vec<u8> = (1..=3).filter(|p| *p != id).collect();
        nodes.push(slots.start(slots.config(dir.path(), id, &peers)).await.unwrap());
    }
    wait_until("a leader", 20, || leader_of(&nodes.iter().collect::<Vec<_>>()).is_some()).await;
    let client = Client::new(nodes.iter().map(|n| n.url()).collect());
    for nonce in 0..20 {
        assert_eq!(client.submit(&transfer(1, 2, nonce)).await.unwrap().status, "committed");
    }

    // The add is asked before node 4 runs: the leader waits for it to catch
    // up, so the change is running for sure when a second one is asked.
    let leader = leader_of(&nodes.iter().collect::<Vec<_>>()).unwrap();
    let follower = nodes.iter().find(|n| n.shared().cluster.as_ref().unwrap().node_id != leader).unwrap();
    let follower_client = Client::new(vec![follower.url()]);
    let (h4, p4) = slots.addrs[3];
    let body = json!({"action": "add", "node": 4, "peer_addr": p4, "http_addr": h4});
    let started = follower_client.post_json("/v1/cluster/members", &body).await.unwrap();
    assert_eq!((started["add"].clone(), started["state"].clone()), (json!(4), json!("catching_up")));
    let another = json!({"action": "add", "node": 5, "peer_addr": p4, "http_addr": h4});
    let second = follower_client.post_json("/v1/cluster/members", &another).await;
    match second {
        Err(synod_node::client::ClientError::Api { status, body }) => {
            assert_eq!((status, body.code.as_str()), (409, "change_in_progress"), "{body:?}");
        }
        other => {
            let shown = follower_client.get_json("/v1/cluster/members").await;
            panic!("a second change while one ran: {other:?}; members: {shown:?}")
        }
    }
    let running = follower_client.get_json("/v1/cluster/members").await.unwrap();
    assert_eq!(running["members"], json!([1, 2, 3]), "not promoted before it caught up: {running}");
    // Node 4 joins: it knows the three members from its file.
    let mut join = slots.config(dir.path(), 4, &[1, 2, 3]);
    join.join = true;
    let four = slots.start(join.clone()).await.unwrap();
    assert_eq!(members_of(&four), vec![1, 2, 3], "a learner starts on the members its file lists");
    let shown = wait_members(&follower_client, &[1, 2, 3, 4]).await;
    assert_eq!(shown["addresses"].as_array().unwrap().len(), 4, "{shown}");
    nodes.push(four);
    wait_until("every member on [1, 2, 3, 4]", 20, || nodes.iter().all(|n| members_of(n) == [1, 2, 3, 4])).await;

    // The joined member serves writes like any other (forwarded or led).
    let via_four = Client::new(vec![nodes[3].url()]);
    assert_eq!(via_four.submit(&transfer(2, 3, 0)).await.unwrap().status, "committed");

    // The leader removes itself: it steps down after the change commits,
    // and the other three elect a leader among themselves.
    let leader = leader_of(&nodes.iter().collect::<Vec<_>>()).unwrap();
    let others: Vec<&Node> = nodes.iter().filter(|n| n.shared().cluster.as_ref().unwrap().node_id != leader).collect();
    let others_client = Client::new(others.iter().map(|n| n.url()).collect());
    let body = json!({"action": "remove", "node": leader});
    Client::new(vec![nodes[usize::from(leader) - 1].url()]).post_json("/v1/cluster/members", &body).await.unwrap();
    let mut remaining: Vec<u8> = (1..=4).filter(|id| *id != leader).collect();
    remaining.sort_unstable();
    wait_members(&others_client, &remaining).await;
    wait_until("a leader among the remaining", 20, || leader_of(&others).is_some_and(|l| l != leader)).await;
    assert_eq!(others_client.submit(&transfer(3, 1, 0)).await.unwrap().status, "committed");
    wait_until("the remaining members agree", 20, || others.iter().all(|n| members_of(n) == remaining)).await;

    // Restart everyone. The removed leader with its old file refuses; a
    // member whose file still lists the bootstrap peers follows the log.
    for n in nodes.drain(..) {
        n.shutdown().await;
    }
    let bootstrap = |id: u8| slots.config(dir.path(), id, &(1..=3).filter(|p| *p != id).collect::<Vec<_>>());
    let configs: Vec<NodeConfig> = (1..=4u8).map(|id| if id == 4 { join.clone() } else { bootstrap(id) }).collect();
    let mut removed = configs[usize::from(leader) - 1].clone();
    removed.join = false;
    match slots.start(removed).await {
        Err(StartError::Membership(e)) => assert!(e.to_string().contains("join = true"), "{e}"),
        Err(e) => panic!("expected a membership refusal, got {e}"),
        Ok(_) => panic!("a removed member started with its old file"),
    }
    let mut restarted = Vec::new();
    for &id in &remaining {
        let node = slots.start(configs[usize::from(id) - 1].clone()).await.unwrap();
        assert_eq!(members_of(&node), remaining, "node {id} starts on the log's configuration");
        restarted.push(node);
    }
    let refs: Vec<&Node> = restarted.iter().collect();
    wait_until("a leader after the restart", 20, || leader_of(&refs).is_some()).await;
    let client = Client::new(restarted.iter().map(|n| n.url()).collect());
    assert_eq!(client.submit(&transfer(3, 1, 1)).await.unwrap().status, "committed");
    for n in restarted {
        n.shutdown().await;
    }
}
