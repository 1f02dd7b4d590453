//! `synod dev`: a working local ledger in one command. First run creates the
//! data directory with a genesis and four funded demo keys; later runs resume
//! from disk. A Multi-Paxos dev cluster gets a throwaway CA and one
//! certificate per node in `<data-dir>/tls/` (reused when it resumes): members
//! always talk mutual TLS.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use rand::RngCore;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis};
use synod_node::{Node, NodeConfig};

/// Demo accounts created on first start, each funded with `DEMO_BALANCE`.
pub const DEMO_NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];
pub const DEMO_BALANCE: u64 = 1_000_000_000;

#[derive(clap::Args)]
pub struct DevArgs {
    /// Where the dev ledger lives.
    #[arg(long, default_value = "synod-dev")]
    pub data_dir: PathBuf,
    /// HTTP port of the first node (0 picks a free one).
    #[arg(long, default_value_t = 7001)]
    pub port: u16,
    /// Number of nodes: 1 (no replication), 3 or 5 (a Multi-Paxos cluster in
    /// this process, HTTP on consecutive ports from --port, peer ports from --port + 100).
    #[arg(long, default_value_t = 3)]
    pub nodes: u8,
    /// Write the cluster's node configs (TOML) into the data dir and exit,
    /// to run each node as its own `synod node --config` process.
    #[arg(long)]
    pub print_configs: bool,
    /// Transfer authentication for a new dev ledger: ed25519 or none (trusted clients).
    #[arg(long, default_value = "ed25519")]
    pub auth: AuthMode,
    /// paxos (a Multi-Paxos cluster, or one node with --nodes 1) or pow (a
    /// proof-of-work network of mining nodes with a low difficulty and a
    /// block every few seconds).
    #[arg(long, default_value = "paxos", value_parser = ["paxos", "pow"])]
    pub consensus: String,
}

/// The dev proof-of-work network: a block about every 4 s once the first
/// retarget (after 20 blocks) has matched the difficulty to the miners.
pub fn dev_pow_spec() -> synod_node::pow::PowChainSpec {
    synod_node::pow::PowChainSpec {
        spacing_secs: 4,
        retarget_interval: 20,
        pow_limit_zero_bits: 18,
        ..Default::default()
    }
}

/// Hash budget of each dev miner: three of them use a few percent of a core,
/// and at the minimum difficulty (2^18 hashes) find a block every ~1.7 s.
pub const DEV_POW_HASHES_PER_SEC: u64 = 50_000;

pub fn run(a: DevArgs) -> anyhow::Result<ExitCode> {
    let pow = a.consensus == "pow";
    if ![1, 3, 5].contains(&a.nodes) {
        bail!("--nodes {}: use 1, 3 or 5", a.nodes);
    }
    if pow && a.auth != AuthMode::Ed25519 {
        bail!("--consensus pow needs --auth ed25519: a proof-of-work network is open to anyone");
    }
    // Bind every port first: with --port 0 the real ports are known before
    // any node starts, and a busy port fails before the data dir is created
    // (a half-created dir would later pass for a ledger to resume).
    let mut http = Vec::new();
    let mut peer = Vec::new();
    for i in 0..u16::from(a.nodes) {
        let port = |base: u16| if a.port == 0 { Ok(0) } else { base.checked_add(i).context("--port is too high") };
        http.push(bind_port(port(a.port)?, "HTTP", "--port")?);
        if a.nodes > 1 || pow {
            let base = a.port.checked_add(PEER_PORT_OFFSET).context("--port is too high for the peer ports")?;
            peer.push(bind_port(port(base)?, "peer", "--port")?);
        }
    }
    let genesis_path = a.data_dir.join("genesis.json");
    let fresh = !genesis_path.exists();
    let genesis = if fresh { create(&a.data_dir, a.auth)? } else { synod_node::node::read_genesis(&genesis_path)? };
    // A dev ledger keeps the cluster size it was created with: a node that ran
    // in a cluster and then alone (or the reverse) would build blocks the
    // others never agreed to.
    let nodes_path = a.data_dir.join("nodes");
    match std::fs::read_to_string(&nodes_path) {
        Ok(text) => {
            let created: u8 = text.trim().parse().with_context(|| format!("{} is damaged", nodes_path.display()))?;
            if created != a.nodes {
                bail!(
                    "{} was created with --nodes {created}; run it with --nodes {created}, or use another --data-dir",
                    a.data_dir.display()
                );
            }
        }
        Err(_) => std::fs::write(&nodes_path, format!("{}\n", a.nodes))?,
    }
    // Likewise its consensus: a Paxos ledger and a proof-of-work chain are different ledgers.
    let consensus_path = a.data_dir.join("consensus");
    match std::fs::read_to_string(&consensus_path) {
        Ok(text) if text.trim() != a.consensus => bail!(
            "{} was created with --consensus {}; use that, or another --data-dir",
            a.data_dir.display(),
            text.trim()
        ),
        Ok(_) => {}
        Err(_) if fresh || !pow => std::fs::write(&consensus_path, format!("{}\n", a.consensus))?,
        Err(_) => {
            bail!("{} holds a Paxos dev ledger; use another --data-dir for --consensus pow", a.data_dir.display())
        }
    }
    let configs = configs(&a.data_dir, pow, &genesis_path, &http, &peer)?;
    if a.print_configs {
        for (i, c) in configs.iter().enumerate() {
            let path = a.data_dir.join(format!("node{}.toml", i + 1));
            std::fs::write(&path, toml::to_string(c)?)?;
            println!("wrote {}  (run: synod node --config {})", path.display(), path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if pow {
        return run_pow(&a, configs, genesis, http, peer, fresh);
    }
    super::runtime().block_on(async move {
        let nodes = start_nodes(configs, &genesis, http, peer).await?;
        let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
        let leader = wait_for_leader(&nodes).await;
        banner(&a.data_dir, &urls, leader, &genesis, fresh, false);
        let failure = wait_for_stop_or_failure(nodes.iter().map(|n| n.shared().health.clone()).collect()).await;
        if failure.is_none() {
            eprintln!("stopping...");
        }
        for node in nodes {
            node.shutdown().await;
        }
        if let Some(reason) = failure {
            eprintln!("synod dev: stopped: {reason}; run `synod dev` again to resume from {}", a.data_dir.display());
            return Ok(ExitCode::FAILURE);
        }
        eprintln!("stopped; run `synod dev` again to resume from {}", a.data_dir.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// Peer ports are HTTP ports plus this.
const PEER_PORT_OFFSET: u16 = 100;

/// Binds 127.0.0.1:`port`; a port in use is named, with the flag that moves it.
fn bind_port(port: u16, what: &str, flag: &str) -> anyhow::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "{what} port {port} (127.0.0.1:{port}) is already in use by another process; stop it, or pick \
                 other ports with {flag} (0 picks free ones)"
            )
        } else {
            anyhow::anyhow!("cannot listen on {what} port 127.0.0.1:{port}: {e}")
        }
    })
}

/// Starts one node per config on the listeners bound for it (the caller's runtime).
async fn start_nodes(
    configs: Vec<NodeConfig>,
    genesis: &Genesis,
    http: Vec<std::net::TcpListener>,
    peer: Vec<std::net::TcpListener>,
) -> anyhow::Result<Vec<Node>> {
    let mut nodes = Vec::new();
    let mut peer = peer.into_iter();
    for (config, h) in configs.into_iter().zip(http) {
        let listeners = synod_node::node::Listeners { http: Some(h), peer: peer.next() };
        let data_dir = config.data_dir.clone();
        let node = Node::start_with_listeners(config, genesis.clone(), listeners).await;
        nodes.push(node.map_err(|e| super::node::explain_start(e, &data_dir))?);
    }
    Ok(nodes)
}

/// A fresh Multi-Paxos cluster of `count` nodes (3 or 5) on free 127.0.0.1
/// ports, in `data_dir` (which must not hold a ledger), exactly as `synod dev
/// --nodes N --port 0` starts one (mutual TLS between peers, dev CA in
/// `data_dir/tls`); returns once a leader is elected or after the bounded
/// wait. `synod bench --dev --nodes N` uses it.
pub async fn start_local_cluster(
    data_dir: &Path,
    count: u8,
    genesis: &Genesis,
) -> anyhow::Result<(Vec<Node>, Option<u8>)> {
    if ![3, 5].contains(&count) {
        bail!("a dev cluster has 3 or 5 nodes, not {count}");
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let genesis_path = data_dir.join("genesis.json");
    std::fs::write(&genesis_path, serde_json::to_string(genesis)?)?;
    let mut http = Vec::new();
    let mut peer = Vec::new();
    for _ in 0..count {
        http.push(bind_port(0, "HTTP", "--port")?);
        peer.push(bind_port(0, "peer", "--port")?);
    }
    let configs = configs(data_dir, false, &genesis_path, &http, &peer)?;
    let nodes = start_nodes(configs, genesis, http, peer).await?;
    let leader = wait_for_leader(&nodes).await;
    Ok((nodes, leader))
}

fn configs(
    data_dir: &Path,
    pow: bool,
    genesis_path: &Path,
    http: &[std::net::TcpListener],
    peer: &[std::net::TcpListener],
) -> anyhow::Result<Vec<NodeConfig>> {
    let mut out = Vec::new();
    for (i, h) in http.iter().enumerate() {
        let id = i as u8 + 1;
        let mut c = NodeConfig::new(data_dir.join(format!("node{id}")), h.local_addr()?, genesis_path.to_path_buf());
        if pow {
            let miner = miner_key(data_dir, id)?;
            c.consensus = synod_node::config::ConsensusKind::Pow;
            c.pow = Some(synod_node::pow::PowSettings {
                chain: dev_pow_spec(),
                mine: true,
                miner_account: Some(miner.account()),
                miner_threads: 1,
                hashes_per_sec_max: DEV_POW_HASHES_PER_SEC,
            });
        }
        if !peer.is_empty() && !pow {
            c.tls = Some(dev_tls(data_dir, id)?);
        }
        if !peer.is_empty() {
            c.node_id = Some(id);
            c.peer_addr = Some(peer[i].local_addr()?);
            for (j, (ph, pp)) in http.iter().zip(peer).enumerate() {
                if j != i {
                    c.peers.push(synod_node::config::PeerConfig {
                        id: j as u8 + 1,
                        peer_addr: pp.local_addr()?,
                        http_addr: ph.local_addr()?,
                    });
                }
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// Node `id`'s `[tls]` files in `<data-dir>/tls/`, with the dev CA, created on
/// first use. Paths are absolute so that printed configs work from anywhere.
fn dev_tls(dir: &Path, id: u8) -> anyhow::Result<synod_node::config::TlsConfig> {
    let tls_dir = std::path::absolute(dir.join("tls")).context("resolving the data dir")?;
    let mut certs = synod_node::tls::ensure_cluster_certs(&tls_dir, &[id])
        .with_context(|| format!("creating dev certificates in {}", tls_dir.display()))?;
    Ok(certs.remove(&id).expect("issued for this id"))
}

/// Node `id`'s miner key (`keys/miner<id>.json`), created on first use:
/// its coinbases pay this account.
fn miner_key(dir: &Path, id: u8) -> anyhow::Result<Keypair> {
    let path = dir.join("keys").join(format!("miner{id}.json"));
    if path.exists() {
        return crate::keyfile::read(&path);
    }
    let key = Keypair::generate(&mut rand::rngs::OsRng);
    crate::keyfile::write(&path, &key)?;
    Ok(key)
}

fn run_pow(
    a: &DevArgs,
    configs: Vec<NodeConfig>,
    genesis: Genesis,
    http: Vec<std::net::TcpListener>,
    peer: Vec<std::net::TcpListener>,
    fresh: bool,
) -> anyhow::Result<ExitCode> {
    super::runtime().block_on(async move {
        let mut nodes = Vec::new();
        for ((config, h), p) in configs.into_iter().zip(http).zip(peer) {
            let listeners = synod_node::node::Listeners { http: Some(h), peer: Some(p) };
            let data_dir = config.data_dir.clone();
            let node = synod_node::pow::PowNode::start(config, genesis.clone(), listeners).await;
            nodes.push(node.map_err(|e| super::node::explain_start(e, &data_dir))?);
        }
        let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
        banner(&a.data_dir, &urls, None, &genesis, fresh, true);
        let failure = wait_for_stop_or_failure(nodes.iter().map(|n| n.shared().health.clone()).collect()).await;
        if failure.is_none() {
            eprintln!("stopping...");
        }
        for node in nodes {
            node.shutdown().await;
        }
        if let Some(reason) = failure {
            eprintln!("synod dev: stopped: {reason}; run `synod dev --consensus pow` again to resume");
            return Ok(ExitCode::FAILURE);
        }
        eprintln!("stopped; run `synod dev --consensus pow` again to resume from {}", a.data_dir.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// The id of the node that leads, once one does (bounded wait: 10 s).
async fn wait_for_leader(nodes: &[Node]) -> Option<u8> {
    for _ in 0..1000 {
        for n in nodes {
            match &n.shared().cluster {
                None => return None,
                Some(c) if c.is_leader() => return Some(c.node_id),
                Some(_) => {}
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    None
}

/// First start: demo keys, then a genesis funding them.
fn create(dir: &Path, auth: AuthMode) -> anyhow::Result<Genesis> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut allocations = Vec::new();
    for name in DEMO_NAMES {
        let key = Keypair::generate(&mut rand::rngs::OsRng);
        crate::keyfile::write(&dir.join("keys").join(format!("{name}.json")), &key)?;
        allocations.push(Allocation { account: key.account(), amount: DEMO_BALANCE, policy: None });
    }
    allocations.sort_by_key(|a| a.account);
    let genesis = Genesis {
        // A random chain id: transfers signed for one dev ledger cannot be replayed on another.
        chain_id: rand::rngs::OsRng.next_u32() as u64,
        auth,
        timestamp_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64,
        allocations,
    };
    std::fs::write(dir.join("genesis.json"), serde_json::to_string_pretty(&genesis)? + "\n")?;
    Ok(genesis)
}

fn banner(dir: &Path, urls: &[String], leader: Option<u8>, genesis: &Genesis, fresh: bool, pow: bool) {
    let keys = dir.join("keys");
    let url = &urls[0];
    println!("synod dev: node 1 listening on {url}  (chain {}, auth {:?})", genesis.chain_id, genesis.auth);
    for (i, u) in urls.iter().enumerate().skip(1) {
        println!("           node {} listening on {u}", i + 1);
    }
    match leader {
        _ if pow => {
            let spec = dev_pow_spec();
            println!(
                "  consensus proof of work, {} mining nodes (~{} s per block after the first retarget); \
                 miner keys in {}/miner<N>.json",
                urls.len(),
                spec.spacing_secs,
                dir.join("keys").display()
            )
        }
        Some(l) => {
            println!("  consensus Multi-Paxos, {} nodes; node {l} leads (any node accepts requests)", urls.len())
        }
        None if urls.len() > 1 => println!("  consensus Multi-Paxos, {} nodes; no leader elected yet", urls.len()),
        None => println!("  consensus none (single node)"),
    }
    println!("  data      {} ({})", dir.display(), if fresh { "new ledger" } else { "resumed from disk" });
    println!("  accounts  {} (keys in {})", DEMO_NAMES.join(", "), keys.display());
    println!();
    println!("Try, in another terminal (prefix with `cargo run --release --` if synod is not installed):");
    let node = if url == crate::DEFAULT_NODE { String::new() } else { format!(" --node {url}") };
    let url = url.as_str();
    println!("  synod balance {}/alice.json{node}", keys.display());
    println!("  synod transfer --key {}/alice.json --to {}/bob.json --amount 25{node}", keys.display(), keys.display());
    println!("  synod head{node}");
    if pow {
        println!("  synod tx <ID>{node}    (pending, then confirmed with a growing count of confirmations)");
    } else {
        println!("  synod tx <ID> --proof --save proof.json{node}");
        println!("  synod proof verify proof.json");
    }
    println!("  curl {url}/v1/status");
    if pow {
        println!("  curl {url}/v1/head");
        println!("Ctrl-C stops; the next `synod dev --consensus pow` resumes the chain from disk.");
    } else {
        println!("Ctrl-C stops; `synod verify --data-dir {}` audits the stopped ledger.", dir.display());
    }
}

/// Ctrl-C or SIGTERM (`None`), or any node FAILED (`Some`, naming it): the
/// dev cluster then stops and `synod dev` exits non-zero.
async fn wait_for_stop_or_failure(healths: Vec<std::sync::Arc<synod_node::health::Health>>) -> Option<String> {
    let (failed_tx, mut failed_rx) = tokio::sync::mpsc::channel(healths.len().max(1));
    for (i, health) in healths.into_iter().enumerate() {
        let failed_tx = failed_tx.clone();
        tokio::spawn(async move {
            let reason = health.wait_failed().await;
            let _ = failed_tx.send(format!("node {} FAILED: {reason}", i + 1)).await;
        });
    }
    tokio::select! {
        _ = wait_for_stop() => None,
        Some(reason) = failed_rx.recv() => {
            eprintln!("synod dev: {reason}");
            Some(reason)
        }
    }
}

/// Ctrl-C or SIGTERM.
pub async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
