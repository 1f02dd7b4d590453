// An in-process three-member cluster for the forwarding and read tests
// (included with `#[path = "common/cluster.rs"] mod cluster;`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use synod_core::Genesis;
use synod_node::config::PeerConfig;
use synod_node::node::Listeners;
use synod_node::{Node, NodeConfig};

pub struct Cluster {
    /// Member `i` has node id `i + 1`; `None` once stopped.
    pub nodes: Vec<Option<Node>>,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    /// Three members. With `peer_http`, every member believes member `id`'s
    /// HTTP API is at `peer_http[id]` (a test's fake server) instead of the
    /// real one, so whatever it forwards goes there.
    pub async fn start(genesis: Genesis, peer_http: Option<BTreeMap<u8, SocketAddr>>) -> Cluster {
        Self::start_with(genesis, peer_http, |_, _| {}).await
    }

    /// `start`, with `configure(config, dir)` run on each member's config
    /// (after the cluster's certificates are in `dir/tls`) before it starts.
    pub async fn start_with(
        genesis: Genesis,
        peer_http: Option<BTreeMap<u8, SocketAddr>>,
        configure: impl Fn(&mut NodeConfig, &std::path::Path),
    ) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut http: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let mut peer: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let addrs: Vec<(SocketAddr, SocketAddr)> =
            http.iter().zip(&peer).map(|(h, p)| (h.local_addr().unwrap(), p.local_addr().unwrap())).collect();
        let ids: Vec<u8> = (1..=3).collect();
        let certs = synod_node::tls::ensure_cluster_certs(&dir.path().join("tls"), &ids).unwrap();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let id = i as u8 + 1;
            let mut c = NodeConfig::new(dir.path().join(format!("n{id}")), addrs[i].0, dir.path().join("genesis.json"));
            c.node_id = Some(id);
            c.peer_addr = Some(addrs[i].1);
            c.tls = certs.get(&id).cloned();
            for (j, (ha, pa)) in addrs.iter().enumerate() {
                let pid = j as u8 + 1;
                if pid != id {
                    let http_addr = peer_http.as_ref().map_or(*ha, |m| m[&pid]);
                    c.peers.push(PeerConfig { id: pid, peer_addr: *pa, http_addr });
                }
            }
            configure(&mut c, dir.path());
            let listeners = Listeners { http: Some(http.remove(0)), peer: Some(peer.remove(0)) };
            nodes.push(Some(Node::start_with_listeners(c, genesis.clone(), listeners).await.unwrap()));
        }
        Cluster { nodes, dir }
    }

    pub fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("member running")
    }

    /// The index of a running member that leads, polling until one does.
    pub async fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let leading = self
                .nodes
                .iter()
                .position(|n| n.as_ref().is_some_and(|n| n.shared().cluster.as_ref().unwrap().is_leader()));
            if let Some(i) = leading {
                return i;
            }
            assert!(Instant::now() < deadline, "no leader within 30 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls until every running member names member `leader` as the leader.
    pub async fn agreed_on(&self, leader: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let id = leader as u8 + 1;
        while !self
            .nodes
            .iter()
            .flatten()
            .all(|n| n.shared().cluster.as_ref().unwrap().leader_url().map(|l| l.0) == Some(id))
        {
            assert!(Instant::now() < deadline, "members did not agree on leader {id} within 30 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn stop(&mut self, i: usize) {
        if let Some(n) = self.nodes[i].take() {
            n.shutdown().await;
        }
    }

    pub async fn shutdown(mut self) {
        for i in 0..self.nodes.len() {
            self.stop(i).await;
        }
    }
}
