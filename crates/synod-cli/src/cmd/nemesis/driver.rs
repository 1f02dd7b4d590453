//! Applies and heals faults on the hosts and the network, and finds the
//! leader and a settled cluster through the nodes' status API.

use std::time::{Duration, Instant};

use super::cluster::Host;
use super::faults::Fault;
use super::hosts::Network;

const STATUS_TIMEOUT_MS: u64 = 1_000;
/// SIGTERM grace before kill -9 when stopping the nodes at the end.
pub const STOP_GRACE_MS: u64 = 10_000;

pub struct Driver {
    pub net: Network,
    pub hosts: Vec<Host>,
    http: reqwest::Client,
    /// Nodes that exited without being told to: a crash, a halt.
    pub unexpected_exits: Vec<String>,
}

/// What one node says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    pub height: u64,
    pub head_hash: String,
    pub leader: bool,
}

impl Driver {
    pub fn new(net: Network, hosts: Vec<Host>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_millis(STATUS_TIMEOUT_MS)).build()?;
        Ok(Driver { net, hosts, http, unexpected_exits: Vec::new() })
    }

    pub async fn view(&self, i: usize) -> Option<NodeView> {
        let url = format!("{}/v1/status", self.hosts[i].url);
        let v: serde_json::Value = self.http.get(url).send().await.ok()?.json().await.ok()?;
        Some(NodeView {
            height: v["height"].as_u64()?,
            head_hash: v["head_hash"].as_str()?.to_string(),
            leader: v["cluster"]["role"].as_str() == Some("leader"),
        })
    }

    /// The node that says it leads (the first, if a deposed one still thinks so).
    pub async fn leader(&self) -> Option<usize> {
        for i in 0..self.hosts.len() {
            if self.hosts[i].running() && !self.hosts[i].paused() {
                if let Some(NodeView { leader: true, .. }) = self.view(i).await {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Notes and restarts nodes that died by themselves.
    pub fn reap(&mut self, at: &str) -> anyhow::Result<()> {
        for h in &mut self.hosts {
            if let Some(status) = h.exited() {
                self.unexpected_exits.push(format!(
                    "node {} exited by itself ({status}) {at}; log {}",
                    h.id(),
                    h.log_path().display()
                ));
                h.start()?;
            }
        }
        Ok(())
    }

    /// Starts `fault`; returns what was done, with the leader resolved.
    pub async fn apply(&mut self, fault: &Fault) -> anyhow::Result<String> {
        let n = self.hosts.len();
        let leader = match fault {
            Fault::KillLeader | Fault::PauseLeader | Fault::IsolateLeader => match self.leader().await {
                Some(l) => Some(l),
                None => return Ok(format!("{fault}: no leader found, skipped")),
            },
            _ => None,
        };
        let target = |l: Option<usize>| l.map(|i| format!(" (node {})", i + 1)).unwrap_or_default();
        match fault {
            Fault::KillOne(i) => self.hosts[*i].kill(),
            Fault::KillLeader => self.hosts[leader.expect("resolved")].kill(),
            Fault::PauseLeader => self.hosts[leader.expect("resolved")].pause(),
            Fault::IsolateOne(_) | Fault::IsolateLeader => {
                let x = if let Fault::IsolateOne(i) = fault { *i } else { leader.expect("resolved") };
                for j in (0..n).filter(|&j| j != x) {
                    self.net.cut(x, j)?;
                    self.net.cut(j, x)?;
                }
            }
            Fault::Bridge { left, right, .. } => {
                for &l in left {
                    for &r in right {
                        self.net.cut(l, r)?;
                        self.net.cut(r, l)?;
                    }
                }
            }
            Fault::OneWay { from, to } => self.net.cut(*from, *to)?,
            Fault::KillAll => self.hosts.iter_mut().for_each(Host::kill),
        }
        Ok(format!("{fault}{}", target(leader)))
    }

    /// Removes every cut, resumes paused nodes, restarts killed ones.
    pub fn heal(&mut self) -> anyhow::Result<()> {
        self.net.heal()?;
        for h in &mut self.hosts {
            h.resume();
            h.start()?;
        }
        Ok(())
    }

    /// Waits (at most `timeout`) until every node answers with the same
    /// height and head hash, one of them leads, and that holds on two looks
    /// a second apart. Returns the last views.
    pub async fn settle(&self, timeout: Duration) -> Result<NodeView, Vec<Option<NodeView>>> {
        let deadline = Instant::now() + timeout;
        let mut previous: Option<NodeView> = None;
        loop {
            let mut views = Vec::new();
            for i in 0..self.hosts.len() {
                views.push(self.view(i).await);
            }
            let first = views[0].clone();
            let agreed = first.as_ref().is_some_and(|f| {
                views.iter().all(|v| v.as_ref().is_some_and(|v| (v.height, &v.head_hash) == (f.height, &f.head_hash)))
            }) && views.iter().flatten().any(|v| v.leader);
            if agreed {
                let f = first.expect("agreed");
                let same = |p: &NodeView| (p.height, &p.head_hash) == (f.height, &f.head_hash);
                if previous.as_ref().is_some_and(same) {
                    return Ok(f);
                }
                previous = Some(f);
            } else {
                previous = None;
            }
            if Instant::now() > deadline {
                return Err(views);
            }
            tokio::time::sleep(Duration::from_millis(1_000)).await;
        }
    }

    pub fn stop_all(&mut self) {
        for h in &mut self.hosts {
            h.stop(Duration::from_millis(STOP_GRACE_MS));
        }
    }
}
