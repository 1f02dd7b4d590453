//! `synod certs init` and `synod certs issue` write a CA and member files that
//! members accept from each other over mutual TLS, with private keys at mode
//! 0600, and never overwrite a file.

mod common;

use std::time::Duration;

use common::{run, stdout};
use synod_node::config::TlsConfig;
use synod_node::tls::TlsMaterial;
use synod_node::transport::{Transport, TransportConfig, TransportSecurity};

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn certs_init_and_issue_produce_files_that_members_accept() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let out = run(&["certs", "init", "--out", s(&ca)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for node in ["1", "2"] {
        let node_dir = dir.path().join(format!("n{node}"));
        let out =
            run(&["certs", "issue", "--ca", s(&ca), "--node", node, "--out", s(&node_dir), "--validity-days", "30"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout(&out).contains(&format!("node-{node}.synod")));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in [ca.join("ca.key"), dir.path().join("n1/node-1.key"), dir.path().join("n2/node-2.key")] {
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
    }

    // Nothing is overwritten, and a zero validity is refused.
    let again = run(&["certs", "init", "--out", s(&ca)]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let zero = run(&["certs", "issue", "--ca", s(&ca), "--node", "3", "--out", s(dir.path()), "--validity-days", "0"]);
    assert!(!zero.status.success());

    // What a node loads at start, and what its peer accepts: node 1 and node 2 exchange a message.
    let files = |n: u8| TlsConfig {
        ca_cert: ca.join("ca.pem"),
        cert: dir.path().join(format!("n{n}/node-{n}.pem")),
        key: dir.path().join(format!("n{n}/node-{n}.key")),
    };
    let wrong = TlsMaterial::load(&files(1), 2).unwrap_err();
    assert!(wrong.to_string().contains("node-1.pem"), "the error names the file: {wrong}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let l1 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let l2 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
        let config = |id: u8, listen, peer: u8, peer_addr| {
            let mut c = TransportConfig::new(9, id, listen, [(peer, peer_addr)].into_iter().collect());
            c.security = TransportSecurity::Mutual(TlsMaterial::load(&files(id), id).unwrap());
            c
        };
        let (tx1, mut rx1) = tokio::sync::mpsc::channel(4);
        let (tx2, _rx2) = tokio::sync::mpsc::channel(4);
        let t1 = Transport::<u32>::start_on(l1, config(1, a1, 2, a2), tx1).await.unwrap();
        let t2 = Transport::<u32>::start_on(l2, config(2, a2, 1, a1), tx2).await.unwrap();
        t2.send(1, 42).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(20), rx1.recv()).await.expect("delivered");
        assert_eq!(got, Some((2, 42)));
        assert_eq!(t1.refusals(), 0);
        t1.shutdown().await;
        t2.shutdown().await;
    });
}
