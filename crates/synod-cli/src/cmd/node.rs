//! `synod node --config FILE`: one node of a deployment.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use synod_node::config::ConsensusKind;
use synod_node::health::{Health, ThreadKind};
use synod_node::node::{read_genesis, Listeners};
use synod_node::pow::PowNode;
use synod_node::{Node, NodeConfig, StartError};

#[derive(clap::Args)]
pub struct NodeArgs {
    /// TOML config: data_dir, http_addr, genesis (see docs/DEPLOY.md).
    #[arg(long, required_unless_present = "check_config", conflicts_with = "check_config")]
    pub config: Option<PathBuf>,
    /// Check a config (its genesis, peer list, certificates and data dir)
    /// without starting: prints what it found, exits 0 if the node would
    /// start, 1 with every problem otherwise. Safe while the node runs.
    #[arg(long, value_name = "FILE")]
    pub check_config: Option<PathBuf>,
    /// Proof-of-work mode: mine (overrides `pow.mine` in the config).
    #[arg(long)]
    pub mine: bool,
    /// Proof-of-work mode: the account this node's coinbases pay (64 hex;
    /// overrides `pow.miner_account`).
    #[arg(long)]
    pub miner_account: Option<synod_core::AccountId>,
    /// Multi-Paxos: join a running cluster as a learner (sets `join = true`;
    /// then `synod cluster add|replace`, docs/DEPLOY.md).
    #[arg(long)]
    pub join: bool,
}

pub fn run(a: NodeArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &a.check_config {
        return Ok(check_config(path));
    }
    let config_path = a.config.clone().expect("clap requires --config without --check-config");
    let mut config = NodeConfig::load(&config_path)?;
    if a.join {
        if config.peers.is_empty() || config.consensus != ConsensusKind::Paxos {
            anyhow::bail!("--join needs a Multi-Paxos member config (with peers) in {}", config_path.display());
        }
        config.join = true;
    }
    if a.mine || a.miner_account.is_some() {
        if config.consensus != ConsensusKind::Pow {
            anyhow::bail!("--mine and --miner-account need consensus = \"pow\" in {}", config_path.display());
        }
        let pow = config.pow.get_or_insert_with(Default::default);
        pow.mine |= a.mine;
        if let Some(account) = a.miner_account {
            pow.miner_account = Some(account);
        }
        config.validate()?;
    }
    log_configuration(&config);
    super::runtime().block_on(async move {
        let failure = match config.consensus {
            ConsensusKind::Paxos => {
                let data_dir = config.data_dir.clone();
                let node = Node::start(config).await.map_err(|e| explain_start(e, &data_dir))?;
                // Tests and scripts read this line to learn the port when it was 0.
                println!("synod node listening on {}", node.url());
                inject_test_panic(|kind| node.shared().inject_panic(kind));
                let failure = wait_for_stop_or_failure(&node.shared().health).await;
                stop(node.shutdown(), &failure).await;
                failure
            }
            ConsensusKind::Pow => {
                let genesis = read_genesis(&config.genesis)?;
                let data_dir = config.data_dir.clone();
                let node = PowNode::start(config, genesis, Listeners::default())
                    .await
                    .map_err(|e| explain_start(e, &data_dir))?;
                println!("synod node listening on {}", node.url());
                inject_test_panic(|kind| node.shared().inject_panic(kind));
                let failure = wait_for_stop_or_failure(&node.shared().health).await;
                stop(node.shutdown(), &failure).await;
                failure
            }
        };
        Ok(if failure.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    })
}

/// `--check-config FILE`: what the config describes, then every problem.
fn check_config(path: &Path) -> ExitCode {
    let report = synod_node::preflight::check(path);
    for fact in &report.facts {
        println!("{fact}");
    }
    if report.ok() {
        println!("config OK: {}", path.display());
        return ExitCode::SUCCESS;
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    eprintln!("config {} has {} problem(s); the node would not start", path.display(), report.problems.len());
    ExitCode::FAILURE
}

/// One info line with what this node was configured to be, so a log read
/// later says which config and genesis the process ran with.
fn log_configuration(config: &NodeConfig) {
    let genesis = match read_genesis(&config.genesis) {
        Ok(g) => format!("chain {} genesis {}", g.chain_id, hex::encode(g.hash())),
        Err(e) => format!("genesis unreadable: {e}"),
    };
    let role = match (config.consensus, config.node_id) {
        (ConsensusKind::Pow, _) => "proof-of-work node".to_string(),
        (ConsensusKind::Paxos, Some(id)) => format!("member {id} of {}", config.peers.len() + 1),
        (ConsensusKind::Paxos, None) => "single node".to_string(),
    };
    let peer = config.peer_addr.map_or_else(String::new, |a| format!(" peer {a}"));
    let cluster = config.cluster_id.map_or_else(String::new, |c| format!(" cluster id {c}"));
    tracing::info!(
        "starting {role}: data dir {} http {}{peer}{cluster} {genesis}",
        config.data_dir.display(),
        config.http_addr
    );
}

/// A start-up error in words that name what failed: a data dir that another
/// process holds open is named (the database only says "already open").
pub fn explain_start(e: StartError, data_dir: &Path) -> anyhow::Error {
    if let StartError::Storage(synod_storage::OpenError::Db(db)) = &e {
        if matches!(**db, redb::Error::DatabaseAlreadyOpen) {
            return anyhow::anyhow!(
                "data dir {} is already open in another process (a running `synod node`, `synod dev` or \
                 `synod verify`); stop it first, or give this node its own data_dir",
                data_dir.display()
            );
        }
    }
    e.into()
}

/// Test-only (hidden from the docs' option lists): `SYNOD_TEST_INJECT_PANIC=<thread kind>`
/// (`committer`, `consensus`, `chain`, ...) makes that thread panic once the
/// node runs, to test fail-stop on the real binary.
pub const INJECT_PANIC_ENV: &str = "SYNOD_TEST_INJECT_PANIC";

fn inject_test_panic(inject: impl Fn(ThreadKind)) {
    let Ok(name) = std::env::var(INJECT_PANIC_ENV) else { return };
    match ThreadKind::parse(name.trim()) {
        Some(kind) => inject(kind),
        None => eprintln!("synod: {INJECT_PANIC_ENV}={name:?} names no thread kind; ignored"),
    }
}

/// Ctrl-C or SIGTERM (`None`), or the node FAILED (`Some(reason)`): a failed
/// node never recovers in place, so the process exits and its supervisor
/// restarts it from disk.
pub async fn wait_for_stop_or_failure(health: &Health) -> Option<String> {
    tokio::select! {
        _ = super::dev::wait_for_stop() => None,
        reason = health.wait_failed() => Some(reason),
    }
}

/// Shuts the node down; after a failure, within a bound (a frozen thread
/// must not keep the process alive).
async fn stop(shutdown: impl std::future::Future<Output = ()>, failure: &Option<String>) {
    match failure {
        None => {
            eprintln!("stopping...");
            shutdown.await;
        }
        Some(reason) => {
            tracing::error!(reason = %reason, "node failed; exiting with status 1");
            eprintln!("synod: node FAILED: {reason}; exiting with status 1 (restart it)");
            if tokio::time::timeout(SHUTDOWN_AFTER_FAILURE, shutdown).await.is_err() {
                eprintln!("synod: shutdown after the failure did not finish within {SHUTDOWN_AFTER_FAILURE:?}");
            }
        }
    }
}

/// How long a failed node gets to close its listeners and database.
const SHUTDOWN_AFTER_FAILURE: std::time::Duration = std::time::Duration::from_secs(10);
