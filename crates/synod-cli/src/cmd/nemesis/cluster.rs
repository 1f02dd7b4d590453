//! The nodes: one `synod node` process per namespace, the same binary as
//! this command, each on its own data directory that survives kill -9 and
//! restarts. Configs are generated as `synod dev --print-configs` does,
//! with the namespace addresses.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use synod_node::config::PeerConfig;
use synod_node::NodeConfig;

use super::hosts::Network;

pub const HTTP_PORT: u16 = 7001;
pub const PEER_PORT: u16 = 7101;

/// One node and its process, if running.
pub struct Host {
    pub index: usize,
    pub namespace: String,
    pub url: String,
    pub config_path: PathBuf,
    pub data_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
    paused: bool,
}

impl Host {
    pub fn id(&self) -> u8 {
        self.index as u8 + 1
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn start(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let exe = std::env::current_exe().context("locating the synod binary")?;
        let log = File::options().create(true).append(true).open(&self.log_path)?;
        let child = Command::new("ip")
            .args(["netns", "exec", &self.namespace])
            .arg(exe)
            .arg("node")
            .arg("--config")
            .arg(&self.config_path)
            .env("SYNOD_LOG", std::env::var("SYNOD_LOG").unwrap_or_else(|_| "info".into()))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting node {}", self.id()))?;
        // `ip netns exec` execs the node in place: this pid is the node's.
        self.child = Some(child);
        self.paused = false;
        Ok(())
    }

    fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            signal(c, sig);
        }
    }

    /// kill -9, and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(&c, libc::SIGKILL);
            let _ = c.wait();
        }
        self.paused = false;
    }

    pub fn pause(&mut self) {
        if self.child.is_some() {
            self.signal(libc::SIGSTOP);
            self.paused = true;
        }
    }

    pub fn resume(&mut self) {
        if self.paused {
            self.signal(libc::SIGCONT);
            self.paused = false;
        }
    }

    /// SIGTERM and wait up to `grace`, then kill -9: the node flushes and
    /// closes its database on SIGTERM.
    pub fn stop(&mut self, grace: Duration) {
        self.resume();
        let Some(mut c) = self.child.take() else { return };
        signal(&c, libc::SIGTERM);
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal(&c, libc::SIGKILL);
        let _ = c.wait();
    }

    /// Whether the process exited by itself (a crash, not one of our faults).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
}

/// Sends `sig` to a child we have not reaped yet, so its pid cannot have been reused.
fn signal(c: &Child, sig: i32) {
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(c.id() as i32, sig) };
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes each node's config into `dir` and returns the hosts (not started).
pub fn plan(dir: &Path, genesis_path: &Path, net: &Network) -> anyhow::Result<Vec<Host>> {
    let n = net.namespaces.len();
    let addr = |i: usize, port: u16| SocketAddr::from((net.host_addr(i), port));
    let ids: Vec<u8> = (1..=n as u8).collect();
    let tls_dir = std::path::absolute(dir.join("tls")).context("resolving the run's directory")?;
    let mut certs = synod_node::tls::ensure_cluster_certs(&tls_dir, &ids)
        .with_context(|| format!("creating certificates in {}", tls_dir.display()))?;
    let mut hosts = Vec::new();
    for i in 0..n {
        let id = i as u8 + 1;
        let data_dir = dir.join(format!("node{id}"));
        let mut c = NodeConfig::new(data_dir.clone(), addr(i, HTTP_PORT), genesis_path.to_path_buf());
        c.node_id = Some(id);
        c.peer_addr = Some(addr(i, PEER_PORT));
        for j in (0..n).filter(|&j| j != i) {
            c.peers.push(PeerConfig { id: j as u8 + 1, peer_addr: addr(j, PEER_PORT), http_addr: addr(j, HTTP_PORT) });
        }
        // Members require mutual TLS: one throwaway CA for the run and a
        // certificate per node, as `synod dev` makes them.
        c.tls = Some(certs.remove(&id).context("a certificate was issued for every node")?);
        let config_path = dir.join(format!("node{id}.toml"));
        std::fs::write(&config_path, toml::to_string(&c)?)
            .with_context(|| format!("writing {}", config_path.display()))?;
        hosts.push(Host {
            index: i,
            namespace: net.namespaces[i].clone(),
            url: format!("http://{}", addr(i, HTTP_PORT)),
            config_path,
            data_dir,
            log_path: dir.join(format!("node{id}.log")),
            child: None,
            paused: false,
        });
    }
    Ok(hosts)
}
