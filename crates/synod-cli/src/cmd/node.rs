//! `synod node --config FILE`: one node of a deployment.

use std::path::PathBuf;
use std::process::ExitCode;

use synod_node::{Node, NodeConfig};

#[derive(clap::Args)]
pub struct NodeArgs {
    /// TOML config: data_dir, http_addr, genesis (see docs/DEPLOY.md).
    #[arg(long)]
    pub config: PathBuf,
}

pub fn run(a: NodeArgs) -> anyhow::Result<ExitCode> {
    let config = NodeConfig::load(&a.config)?;
    super::runtime().block_on(async move {
        let node = Node::start(config).await?;
        // Tests and scripts read this line to learn the port when it was 0.
        println!("synod node listening on {}", node.url());
        super::dev::wait_for_stop().await;
        eprintln!("stopping...");
        node.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
