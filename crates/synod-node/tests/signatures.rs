//! Every member verifies every signature it applies (a chosen batch holding an
//! unsigned or forged transfer applies only the valid ones, on every member);
//! receivers that no one can sign for are refused with `invalid_receiver` in
//! both consensus modes; an over-long memo on a proof-of-work node is a 400.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use synod_core::batch::BatchPayload;
use synod_core::{AccountId, AuthMode, SignedTransfer, Transfer};
use synod_node::cluster::consensus::Input;
use synod_node::config::{ConsensusKind, PeerConfig};
use synod_node::node::Listeners;
use synod_node::pow::{PowChainSpec, PowNode, PowSettings};
use synod_node::{Node, NodeConfig};
use synod_paxos::{Batch, BatchId, Command};

/// The compressed identity point: a valid curve point of small order, which
/// no one can sign for.
fn identity_point() -> AccountId {
    let mut b = [0u8; 32];
    b[0] = 1;
    AccountId(b)
}

async fn start_cluster(dir: &std::path::Path, g: &synod_core::Genesis) -> Vec<Node> {
    let http: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let peer: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let mut listeners: Vec<(TcpListener, TcpListener)> = http.into_iter().zip(peer).collect();
    let addrs: Vec<_> = listeners.iter().map(|(h, p)| (h.local_addr().unwrap(), p.local_addr().unwrap())).collect();
    let mut nodes = Vec::new();
    for i in 0..3 {
        let (h, p) = listeners.remove(0);
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
        nodes.push(Node::start_with_listeners(c, g.clone(), Listeners { http: Some(h), peer: Some(p) }).await.unwrap());
    }
    nodes
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chosen_batch_applies_only_its_validly_signed_transfers_on_every_member() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis(AuthMode::Ed25519, 4, 1_000);
    let nodes = start_cluster(dir.path(), &g).await;
    let mut leader = None;
    wait_for("a leader", || {
        leader = nodes.iter().position(|n| n.shared().cluster.as_ref().unwrap().is_leader());
        leader.is_some()
    })
    .await;
    let leader = leader.unwrap();

    // What the API would refuse, proposed straight through consensus: an
    // unsigned transfer, one signed by the wrong key, and one valid transfer.
    let unsigned = SignedTransfer::unsigned(transfer(2, 3, 100, 0));
    let forged = SignedTransfer {
        multisig: None,
        to_policy: None,
        transfer: transfer(3, 4, 100, 0),
        signature: Some(key(1).sign(b"not this")),
    };
    let valid = signed(1, 2, 10, 0);
    let payload = BatchPayload { timestamp_ms: 1_700_000_000_500, transfers: vec![unsigned, valid.clone(), forged] };
    let command = Command::Batch(Batch { id: BatchId(u64::MAX - 7), bytes: payload.encode() });
    let cluster = nodes[leader].shared().cluster.as_ref().unwrap();
    cluster.inputs.send(Input::Propose { request_id: u64::MAX - 7, command }).unwrap();

    for node in &nodes {
        // The store holds only durable blocks (the ledger may run ahead of it).
        wait_for("block 1 on every member", || matches!(node.shared().store.block(1), Ok(Some(_)))).await;
    }
    let blocks: Vec<_> = nodes.iter().map(|n| n.shared().store.block(1).unwrap().expect("block 1 stored")).collect();
    for block in &blocks {
        assert_eq!(block.transfers, vec![valid.clone()], "only the validly signed transfer is applied");
        assert_eq!(block.hash(), blocks[0].hash(), "every member built the same block");
    }
    for node in &nodes {
        let ledger = node.shared().ledger.read().unwrap();
        let state = ledger.state();
        assert_eq!(state.account(&acct(2)).nonce, 0, "the unsigned transfer moved nothing");
        assert_eq!(state.account(&acct(3)).balance, 1_000, "the forged transfer moved nothing");
        assert_eq!(state.account(&acct(1)).balance, 990);
    }
    for n in nodes {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_no_one_can_sign_for_is_invalid_receiver_on_a_paxos_node() {
    let n = TestNode::start_default().await;
    for to in [invalid_point(), identity_point()] {
        let tx = sign_with(Transfer { to, ..transfer(1, 2, 10, 0) }, 1);
        n.expect_tx_rejected(&to_json(&tx), 400, "invalid_receiver").await;
    }
    assert_eq!(n.account(&acct(1)).await.balance, n.genesis.allocations[0].amount, "nothing moved");
    n.shutdown().await;
}

async fn pow_node(dir: &std::path::Path) -> (PowNode, String) {
    let h = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = NodeConfig::new(dir.join("n0"), h.local_addr().unwrap(), dir.join("genesis.json"));
    c.consensus = ConsensusKind::Pow;
    c.node_id = Some(1);
    c.peer_addr = Some(p.local_addr().unwrap());
    c.pow = Some(PowSettings {
        chain: PowChainSpec { spacing_secs: 1, retarget_interval: 10, pow_limit_zero_bits: 14, ..Default::default() },
        mine: false,
        miner_account: Some(key(100).account()),
        miner_threads: 1,
        hashes_per_sec_max: 20_000,
    });
    let url = format!("http://{}", h.local_addr().unwrap());
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let g = synod_core::Genesis { timestamp_ms: now_ms - 60_000, ..genesis(AuthMode::Ed25519, 2, 1_000_000) };
    let node = PowNode::start(c, g, Listeners { http: Some(h), peer: Some(p) }).await.expect("node starts");
    (node, url)
}

async fn post(url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new().post(format!("{url}/v1/transfers")).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pow_node_refuses_invalid_receivers_and_answers_an_over_long_memo_with_400() {
    let dir = tempfile::tempdir().unwrap();
    let (node, url) = pow_node(dir.path()).await;

    for to in [invalid_point(), identity_point()] {
        let tx = sign_with(Transfer { to, ..transfer(1, 2, 10, 0) }, 1);
        let (status, body) = post(&url, to_json(&tx)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_receiver")), "{body}");
    }

    // 65 bytes of memo: no valid encoding, so no id; the handler must not panic.
    let t = transfer(1, 2, 10, 0);
    let long = json!({
        "chain_id": t.chain_id, "from": t.from.to_string(), "to": t.to.to_string(), "amount": 10,
        "fee": 0, "nonce": 0, "memo": hex::encode([0xab; 65]), "signature": hex::encode([7u8; 64]),
    });
    let (status, body) = post(&url, long.clone()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("memo_too_long")), "{body}");
    let (status, body) = post(&url, json!([long])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["code"].as_str(), Some("memo_too_long"), "{body}");

    // The node keeps serving: a valid transfer is accepted into the mempool.
    let tx = sign_with(Transfer { fee: 1_000, ..transfer(1, 2, 10, 0) }, 1);
    let (status, body) = post(&url, to_json(&tx)).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("pending")), "{body}");
    node.shutdown().await;
}
