//! A Multi-Paxos member does not start without mutual TLS, nor with a
//! certificate issued for another node id, nor with `[http_tls]` (followers
//! forward over plain HTTP): each is a typed start error naming what is wrong.
//! A single node with `[http_tls]` serves its API over TLS only.

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

    let mut http_tls = member(dir.path());
    http_tls.tls = Some(certs[&1].clone());
    http_tls.http_tls =
        Some(HttpTlsConfig { cert: certs[&1].cert.clone(), key: certs[&1].key.clone(), client_ca: None });
    let err = Node::start_with_genesis(http_tls, genesis()).await.err().expect("refused");
    assert!(matches!(err, StartError::HttpTlsOnMember), "{err}");

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
