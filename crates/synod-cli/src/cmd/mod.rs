pub mod bench;
pub mod client;
pub mod dev;
pub mod keys;
pub mod nemesis;
pub mod node;
pub mod pow;
pub mod pow_client;
pub mod proof;
pub mod sim;
pub mod verify;

/// Options every client subcommand takes.
#[derive(clap::Args, Clone)]
pub struct ClientOpts {
    /// Node URL; repeat or comma-separate several to fail over between them.
    #[arg(long = "node", value_delimiter = ',', default_value = crate::DEFAULT_NODE, env = "SYNOD_NODE")]
    pub nodes: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

impl ClientOpts {
    pub fn client(&self) -> synod_node::Client {
        synod_node::Client::new(self.nodes.clone())
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}
