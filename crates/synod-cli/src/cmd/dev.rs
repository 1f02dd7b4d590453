//! `synod dev`: a working local ledger in one command. First run creates the
//! data directory with a genesis and four funded demo keys; later runs resume
//! from disk.

use std::net::SocketAddr;
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
    /// Number of nodes. Only 1 until Multi-Paxos replication lands.
    #[arg(long, default_value_t = 1)]
    pub nodes: u8,
    /// Transfer authentication for a new dev ledger: ed25519 or none (trusted clients).
    #[arg(long, default_value = "ed25519")]
    pub auth: AuthMode,
}

pub fn run(a: DevArgs) -> anyhow::Result<ExitCode> {
    if a.nodes != 1 {
        bail!("--nodes {}: this build runs a single node; replicated clusters come with Multi-Paxos", a.nodes);
    }
    let genesis_path = a.data_dir.join("genesis.json");
    let fresh = !genesis_path.exists();
    let genesis = if fresh { create(&a.data_dir, a.auth)? } else { synod_node::node::read_genesis(&genesis_path)? };
    let addr: SocketAddr = ([127, 0, 0, 1], a.port).into();
    let config = NodeConfig::new(a.data_dir.join("node1"), addr, genesis_path);
    super::runtime().block_on(async move {
        let node = Node::start_with_genesis(config, genesis.clone()).await?;
        let url = node.url();
        banner(&a.data_dir, &url, &genesis, fresh);
        wait_for_stop().await;
        eprintln!("stopping...");
        node.shutdown().await;
        eprintln!("stopped; run `synod dev` again to resume from {}", a.data_dir.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// First start: demo keys, then a genesis funding them.
fn create(dir: &Path, auth: AuthMode) -> anyhow::Result<Genesis> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut allocations = Vec::new();
    for name in DEMO_NAMES {
        let key = Keypair::generate(&mut rand::rngs::OsRng);
        crate::keyfile::write(&dir.join("keys").join(format!("{name}.json")), &key)?;
        allocations.push(Allocation { account: key.account(), amount: DEMO_BALANCE });
    }
    allocations.sort_by(|a, b| a.account.cmp(&b.account));
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

fn banner(dir: &Path, url: &str, genesis: &Genesis, fresh: bool) {
    let keys = dir.join("keys");
    println!("synod dev: node 1 listening on {url}  (chain {}, auth {:?})", genesis.chain_id, genesis.auth);
    println!("  data      {} ({})", dir.display(), if fresh { "new ledger" } else { "resumed from disk" });
    println!("  accounts  {} (keys in {})", DEMO_NAMES.join(", "), keys.display());
    println!();
    println!("Try, in another terminal (prefix with `cargo run --release --` if synod is not installed):");
    let node = if url == crate::DEFAULT_NODE { String::new() } else { format!(" --node {url}") };
    println!("  synod balance {}/alice.json{node}", keys.display());
    println!("  synod transfer --key {}/alice.json --to {}/bob.json --amount 25{node}", keys.display(), keys.display());
    println!("  synod head{node}");
    println!("  synod tx <ID> --proof --save proof.json{node}");
    println!("  synod proof verify proof.json");
    println!("  curl {url}/v1/status");
    println!("Ctrl-C stops; `synod verify --data-dir {}` audits the stopped ledger.", dir.display());
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
