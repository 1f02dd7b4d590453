use anyhow::Context;

pub mod bench;
pub mod certs;
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
    /// PEM CA certificate to trust for https:// nodes (a node with [http_tls]).
    #[arg(long = "ca-cert", value_name = "FILE", env = "SYNOD_CA_CERT")]
    pub ca_cert: Option<std::path::PathBuf>,
}

impl ClientOpts {
    pub fn client(&self) -> anyhow::Result<synod_node::Client> {
        let pem = match &self.ca_cert {
            Some(path) => Some(std::fs::read(path).with_context(|| format!("reading --ca-cert {}", path.display()))?),
            None => None,
        };
        synod_node::Client::with_ca_cert(self.nodes.clone(), pem.as_deref())
            .with_context(|| "--ca-cert is not a usable PEM CA certificate".to_string())
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}
