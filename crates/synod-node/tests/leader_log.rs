//! Every member says in its own log which node leads (docs/DEPLOY.md, "Logs"):
//! role changes alone name only ballots. Its own test binary, since it
//! installs the process-wide log subscriber to read what the nodes log.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::genesis;
use synod_core::AuthMode;

/// Log lines written by any thread of this process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_member_logs_the_leader_it_follows() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_env_filter("synod_node=info")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();
    let cluster = cluster::Cluster::start(genesis(AuthMode::Ed25519, 3, 1_000), None).await;
    let leader = cluster.leader().await;
    cluster.agreed_on(leader).await;
    let leader_id = leader + 1;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = captured.text();
        let leading = text.lines().filter(|l| l.contains("this node is now the leader")).count();
        let following = text.lines().filter(|l| l.contains(&format!("leader is now node {leader_id}"))).count();
        // The leader says so once; each of the two followers names it.
        if leading >= 1 && following >= 2 {
            assert!(
                text.lines()
                    .any(|l| l.contains("this node is now the leader") && l.contains(&format!("node={leader_id}"))),
                "{text}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "leader lines missing: leading {leading}, following {following}\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.shutdown().await;
}
