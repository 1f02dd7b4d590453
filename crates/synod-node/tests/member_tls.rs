//! A Multi-Paxos member does not start without mutual TLS, nor with a
//! certificate issued for another node id: each is a typed start error naming
//! what is wrong. A single node with `[http_tls]` serves its API over TLS
//! only; so do members, whose followers forward to the leader over HTTPS.

#[path = "common/cluster.rs"]
mod cluster;

use synod_core::{AuthMode, Genesis};
use synod_node::config::{HttpTlsConfig, PeerConfig};
use synod_node::node::StartError;
use synod_node::tls::ensure_cluster_certs;
use synod_node::{Node, NodeConfig};

fn member(dir: &std::path::Path) -> NodeConfig {
    let addr = "127.0.0.1:0".parse().unwrap();
    let mut c = NodeConfig::new(dir.join("data"), addr, dir.join("genesis.json"));
    c.node_id = Some(1);
    c.peer_addr = Some(addr);
    let peer =
        |id| PeerConfig { id, peer_addr: "127.0.0.1:9".parse().unwrap(), http_addr: "127.0.0.1:9".parse().unwrap() };
    c.peers = vec![peer(2), peer(3)];
    c
}

fn genesis() -> Genesis {
    Genesis { chain_id: 5, auth: AuthMode::None, timestamp_ms: 0, allocations: vec![] }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_without_tls_or_with_the_wrong_certificate_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = Node::start_with_genesis(member(dir.path()), genesis()).await.err().expect("refused");
    assert!(matches!(err, StartError::TlsRequired), "{err}");
    assert!(err.to_string().contains("[tls]"), "the error names the missing setting: {err}");

    let certs = ensure_cluster_certs(&dir.path().join("tls"), &[1, 2]).unwrap();
    let mut wrong = member(dir.path());
    wrong.tls = Some(certs[&2].clone());
    let err = Node::start_with_genesis(wrong, genesis()).await.err().expect("refused");
    assert!(matches!(err, StartError::Tls(_)), "{err}");
    assert!(err.to_string().contains("node-2.pem") && err.to_string().contains("node-1.synod"), "{err}");

    let mut good = member(dir.path());
    good.tls = Some(certs[&1].clone());
    let node = Node::start_with_genesis(good, genesis()).await.expect("a member with its own certificate starts");
    node.shutdown().await;
}

/// The story: a single node with `[http_tls]` used to refuse to start; now it
/// serves its API over TLS, a client that trusts the CA gets answers, one that
/// does not is refused, and plain HTTP gets nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_single_node_serves_its_api_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = synod_node::tls::CertificateAuthority::generate(30).unwrap();
    ca.write(&dir.path().join("ca")).unwrap();
    let issued = ca.issue_server(&["127.0.0.1".to_string()], 30).unwrap();
    let (cert, key) = (dir.path().join("http.pem"), dir.path().join("http.key"));
    issued.write_pair(&cert, &key).unwrap();
    let mut c = NodeConfig::new(dir.path().join("data"), "127.0.0.1:0".parse().unwrap(), dir.path().join("g.json"));
    c.http_tls = Some(HttpTlsConfig { cert, key, client_ca: None });
    let node = Node::start_with_genesis(c, genesis()).await.expect("a single node with [http_tls] starts");
    let url = format!("https://{}", node.addr());

    let trusted = synod_node::Client::with_ca_cert(vec![url.clone()], Some(ca.cert_pem().as_bytes())).unwrap();
    assert_eq!(trusted.head().await.expect("https with the CA trusted").header.height, 0);
    let untrusted = synod_node::Client::with_ca_cert(vec![url], None).unwrap();
    assert!(untrusted.head().await.is_err(), "a client that does not trust the CA is refused");
    let plain = reqwest::get(format!("http://{}/v1/head", node.addr())).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success(), "plain HTTP gets no answer");
    node.shutdown().await;
}

/// The story: a member with `[http_tls]` used to refuse to start
/// (`HttpTlsOnMember`), because a follower forwarded client writes to the
/// leader over plain HTTP, which a TLS-only leader cannot answer. Now the
/// follower forwards over HTTPS, trusting the cluster CA: a write sent to a
/// follower over TLS commits, and plain HTTP gets no answer from any member.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_through_a_follower_commits_when_members_serve_tls() {
    use synod_core::genesis::Allocation;
    let key = |n: u8| synod_core::crypto::Keypair::from_seed(&[n; 32]);
    let mut allocations: Vec<Allocation> =
        (1..=2).map(|n| Allocation { account: key(n).account(), amount: 100, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    let genesis = Genesis { chain_id: 5, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations };
    let cluster = cluster::Cluster::start_with(genesis, None, |c, dir| {
        // Each member's HTTP certificate names the address followers dial.
        let ca = synod_node::tls::CertificateAuthority::load(&dir.join("tls")).unwrap();
        let id = c.node_id.unwrap();
        let (cert, key) = (dir.join(format!("http-{id}.pem")), dir.join(format!("http-{id}.key")));
        ca.issue_server(&[c.http_addr.ip().to_string()], 30).unwrap().write_pair(&cert, &key).unwrap();
        c.http_tls = Some(HttpTlsConfig { cert, key, client_ca: None });
    })
    .await;
    let leader = cluster.leader().await;
    cluster.agreed_on(leader).await;
    let follower = (leader + 1) % 3;

    let ca_pem = std::fs::read(cluster.dir.path().join("tls/ca.pem")).unwrap();
    let https = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .build()
        .unwrap();
    let url = format!("https://{}", cluster.node(follower).addr());
    let tx = synod_core::Transfer {
        chain_id: 5,
        from: key(1).account(),
        to: key(2).account(),
        amount: 7,
        fee: 0,
        nonce: 0,
        memo: vec![],
    }
    .sign(&key(1));
    let resp = https.post(format!("{url}/v1/transfers")).json(&tx).send().await.expect("an HTTPS answer");
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "committed", "forwarded over HTTPS to the leader and committed: {body}");

    // The follower's ledger has it too (read over HTTPS, served locally).
    let account = https.get(format!("{url}/v1/accounts/{}", key(2).account())).send().await.unwrap();
    assert_eq!(account.status(), 200);
    assert_eq!(account.json::<serde_json::Value>().await.unwrap()["balance"], 107);

    // Plain HTTP to a member gets no HTTP answer.
    let plain = reqwest::get(format!("http://{}/v1/head", cluster.node(follower).addr())).await;
    assert!(plain.is_err(), "plain HTTP must not be served: {plain:?}");
    cluster.shutdown().await;
}
