//! `synod node --config FILE`: one node of a deployment.

use std::path::PathBuf;
use std::process::ExitCode;

use synod_node::config::ConsensusKind;
use synod_node::node::{read_genesis, Listeners};
use synod_node::pow::PowNode;
use synod_node::{Node, NodeConfig};

#[derive(clap::Args)]
pub struct NodeArgs {
    /// TOML config: data_dir, http_addr, genesis (see docs/DEPLOY.md).
    #[arg(long)]
    pub config: PathBuf,
    /// Proof-of-work mode: mine (overrides `pow.mine` in the config).
    #[arg(long)]
    pub mine: bool,
    /// Proof-of-work mode: the account this node's coinbases pay (64 hex;
    /// overrides `pow.miner_account`).
    #[arg(long)]
    pub miner_account: Option<synod_core::AccountId>,
}

pub fn run(a: NodeArgs) -> anyhow::Result<ExitCode> {
    let mut config = NodeConfig::load(&a.config)?;
    if a.mine || a.miner_account.is_some() {
        if config.consensus != ConsensusKind::Pow {
            anyhow::bail!("--mine and --miner-account need consensus = \"pow\" in {}", a.config.display());
        }
        let pow = config.pow.get_or_insert_with(Default::default);
        pow.mine |= a.mine;
        if let Some(account) = a.miner_account {
            pow.miner_account = Some(account);
        }
        config.validate()?;
    }
    super::runtime().block_on(async move {
        match config.consensus {
            ConsensusKind::Paxos => {
                let node = Node::start(config).await?;
                // Tests and scripts read this line to learn the port when it was 0.
                println!("synod node listening on {}", node.url());
                super::dev::wait_for_stop().await;
                eprintln!("stopping...");
                node.shutdown().await;
            }
            ConsensusKind::Pow => {
                let genesis = read_genesis(&config.genesis)?;
                let node = PowNode::start(config, genesis, Listeners::default()).await?;
                println!("synod node listening on {}", node.url());
                super::dev::wait_for_stop().await;
                eprintln!("stopping...");
                node.shutdown().await;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
