//! The ledger under load: an in-process dev node (`--dev`) or running nodes (`--node`).

use std::net::SocketAddr;

use anyhow::{bail, Context};
use serde::Serialize;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis};
use synod_node::{Client, Node, NodeConfig};

use super::accounts::{self, FundSummary, Sender};
use super::{Auth, Plan, TargetOpts};

/// The node or nodes this process started, on their own runtime so that their
/// tasks do not queue behind the load generator's.
struct DevNode {
    rt: tokio::runtime::Runtime,
    nodes: Vec<Node>,
    dir: tempfile::TempDir,
}

pub struct Target {
    /// "dev" (in-process single node), "dev-cluster" (in-process Multi-Paxos
    /// cluster) or "nodes" (external).
    pub kind: &'static str,
    pub urls: Vec<String>,
    /// One client per URL, for reads and lookups (client i starts at node i mod n;
    /// the load moves to the next node on `not_leader` or no answer, see load.rs).
    pub clients: Vec<Client>,
    pub chain_id: u64,
    pub ledger_auth: AuthMode,
    /// `consensus` from `/v1/status` ("single" today).
    pub consensus: String,
    dev: Option<DevNode>,
}

/// What setting up the target did, for the report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Setup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding: Option<FundSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev_data_dir: Option<String>,
}

impl Target {
    /// Starts or connects to the target, funds the senders if needed, and reads their nonces.
    pub fn setup(
        rt: &tokio::runtime::Runtime,
        opts: &TargetOpts,
        plan: &Plan,
        mut senders: Vec<Sender>,
    ) -> anyhow::Result<(Target, Vec<Sender>, Setup)> {
        if opts.dev {
            let target = Self::start_dev(opts, plan, &senders)?;
            let setup =
                Setup { funding: None, dev_data_dir: target.dev.as_ref().map(|d| d.dir.path().display().to_string()) };
            return Ok((target, senders, setup));
        }
        let keys = accounts::read_key_dir(opts.keys.as_deref().expect("checked: --node has --keys"))?;
        let target = rt.block_on(Self::connect(&opts.nodes))?;
        if plan.auth == Auth::Trusted && target.ledger_auth != AuthMode::None {
            bail!(
                "--auth trusted needs a trusted-mode ledger (genesis auth \"none\"); {} requires Ed25519 signatures",
                target.urls[0]
            );
        }
        let funding = rt.block_on(async {
            let funding = accounts::fund(&target.clients[0], target.chain_id, &keys, &senders).await?;
            accounts::read_nonces(&target.clients, &mut senders).await?;
            Ok::<_, anyhow::Error>(funding)
        })?;
        Ok((target, senders, Setup { funding: Some(funding), dev_data_dir: None }))
    }

    async fn connect(urls: &[String]) -> anyhow::Result<Target> {
        let urls: Vec<String> = urls.iter().map(|u| u.trim_end_matches('/').to_string()).collect();
        let clients: Vec<Client> = urls.iter().map(|u| Client::new(vec![u.clone()])).collect();
        let mut first = None;
        for (url, client) in urls.iter().zip(&clients) {
            let status = client.status().await.with_context(|| format!("asking {url} for /v1/status"))?;
            if status.halted {
                bail!("{url} has halted (storage failure); restart it first");
            }
            match &first {
                None => first = Some(status),
                Some(f) if f.chain_id != status.chain_id => {
                    bail!("{url} serves chain {}, {} serves chain {}", status.chain_id, urls[0], f.chain_id)
                }
                Some(_) => {}
            }
        }
        let status = first.expect("at least one node");
        Ok(Target {
            kind: "nodes",
            urls,
            clients,
            chain_id: status.chain_id,
            ledger_auth: status.auth,
            consensus: status.consensus,
            dev: None,
        })
    }

    fn start_dev(opts: &TargetOpts, plan: &Plan, senders: &[Sender]) -> anyhow::Result<Target> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("synod-bench-");
        let dir = match &opts.dev_dir {
            Some(parent) => {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                builder.tempdir_in(parent)
            }
            None => builder.tempdir(),
        }
        .context("creating the dev node's temporary data dir")?;
        let mut allocations: Vec<Allocation> = senders
            .iter()
            .map(|s| Allocation { account: s.account, amount: accounts::DEV_SENDER_BALANCE, policy: None })
            .collect();
        allocations.sort_by_key(|a| a.account);
        let genesis = Genesis {
            chain_id: 0xbe_0000 + plan.seed,
            auth: match plan.auth {
                Auth::Signed => AuthMode::Ed25519,
                Auth::Trusted => AuthMode::None,
            },
            timestamp_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64,
            allocations,
        };
        genesis.validate().context("bench genesis")?;
        let genesis_path = dir.path().join("genesis.json");
        std::fs::write(&genesis_path, serde_json::to_string(&genesis)?)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .thread_name("synod-dev-node")
            .enable_all()
            .build()
            .context("node runtime")?;
        let (kind, consensus, nodes) = if opts.dev_nodes > 1 {
            let (nodes, leader) = rt
                .block_on(crate::cmd::dev::start_local_cluster(&dir.path().join("cluster"), opts.dev_nodes, &genesis))
                .context("starting the dev cluster")?;
            if leader.is_none() {
                bail!("the dev cluster elected no leader in time");
            }
            ("dev-cluster", "paxos", nodes)
        } else {
            let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
            let config = NodeConfig::new(dir.path().join("node1"), addr, genesis_path);
            let node =
                rt.block_on(Node::start_with_genesis(config, genesis.clone())).context("starting the dev node")?;
            ("dev", "single", vec![node])
        };
        let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
        Ok(Target {
            kind,
            clients: urls.iter().map(|u| Client::new(vec![u.clone()])).collect(),
            urls,
            chain_id: genesis.chain_id,
            ledger_auth: genesis.auth,
            consensus: consensus.into(),
            dev: Some(DevNode { rt, nodes, dir }),
        })
    }

    pub fn client(&self, i: usize) -> &Client {
        &self.clients[i % self.clients.len()]
    }

    /// Stops the dev node(s) (finishing what it has queued) and removes its data dir.
    pub fn shutdown(self) {
        if let Some(dev) = self.dev {
            let DevNode { rt, nodes, dir } = dev;
            rt.block_on(async {
                for node in nodes {
                    node.shutdown().await;
                }
            });
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
            drop(dir);
        }
    }
}
