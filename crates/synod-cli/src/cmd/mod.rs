use anyhow::Context;

pub mod bench;
pub mod certs;
pub mod client;
pub mod cluster;
pub mod dev;
pub mod docs;
pub mod genesis;
pub mod keys;
pub mod light;
pub mod light_dir;
pub mod multisig;
pub mod nemesis;
pub mod node;
pub mod pow;
pub mod pow_client;
pub mod proof;
pub mod sim;
pub mod status_table;
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
    /// ` --node URL[,URL]` to repeat in a printed hint, or nothing for the default node.
    pub fn node_flag(&self) -> String {
        if self.nodes.len() == 1 && self.nodes[0] == crate::DEFAULT_NODE {
            String::new()
        } else {
            format!(" --node {}", self.nodes.join(","))
        }
    }

    pub fn client(&self) -> anyhow::Result<synod_node::Client> {
        for url in &self.nodes {
            check_node_url(url)?;
        }
        let pem = match &self.ca_cert {
            Some(path) => Some(std::fs::read(path).with_context(|| format!("reading --ca-cert {}", path.display()))?),
            None => None,
        };
        synod_node::Client::with_ca_cert(self.nodes.clone(), pem.as_deref())
            .with_context(|| "--ca-cert is not a usable PEM CA certificate".to_string())
    }
}

/// A `--node` value must be an absolute http(s) URL; `127.0.0.1:7001` alone
/// gets a hint rather than the HTTP library's "relative URL without a base".
pub fn check_node_url(url: &str) -> Result<(), crate::failure::UsageError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(());
    }
    let hint = match url.split_once("://") {
        Some((scheme, _)) => format!("scheme {scheme:?} is not supported; use http:// or https://"),
        None => format!("did you mean http://{url} (or https://{url} for a node with [http_tls])?"),
    };
    Err(crate::failure::UsageError(format!("--node {url:?} is not a URL: {hint}")))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}
