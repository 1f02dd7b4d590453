//! `synod certs`: the cluster CA and member certificates for mutual TLS on
//! the peer port (docs/DEPLOY.md, "Certificates").

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use synod_node::tls::{CertificateAuthority, IssuedCertificate, CA_CERT_FILE, CA_KEY_FILE, VALIDITY_DAYS_DEFAULT};

#[derive(clap::Subcommand)]
pub enum CertsCommand {
    /// Create a cluster CA: DIR/ca.pem (give to every member) and DIR/ca.key
    /// (mode 0600; keep it off the members).
    Init(InitArgs),
    /// Issue node N's certificate from the CA in --ca: DIR/node-N.pem and
    /// DIR/node-N.key (mode 0600), subjectAltName node-N.synod.
    Issue(IssueArgs),
    /// Issue a server certificate for a node's client HTTP API ([http_tls]):
    /// DIR/http-NAME.pem and DIR/http-NAME.key, subjectAltNames from --name.
    IssueHttp(IssueHttpArgs),
}

#[derive(clap::Args)]
pub struct IssueHttpArgs {
    /// Directory holding the CA's ca.pem and ca.key.
    #[arg(long)]
    pub ca: PathBuf,
    /// A host name or IP address clients use to reach the node (repeat for several).
    #[arg(long = "name", required = true)]
    pub names: Vec<String>,
    /// Directory to write the files into (created; existing files are never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// How long the certificate is valid, in days.
    #[arg(long, default_value_t = VALIDITY_DAYS_DEFAULT)]
    pub validity_days: u32,
}

#[derive(clap::Args)]
pub struct InitArgs {
    /// Directory to write ca.pem and ca.key into (created; existing files are never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// How long the CA is valid, in days.
    #[arg(long, default_value_t = 3650)]
    pub validity_days: u32,
}

#[derive(clap::Args)]
pub struct IssueArgs {
    /// Directory holding the CA's ca.pem and ca.key.
    #[arg(long)]
    pub ca: PathBuf,
    /// The member's node id (1..=255), as in its config's node_id.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..))]
    pub node: u8,
    /// Directory to write node-N.pem and node-N.key into (created; existing files are never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// How long the certificate is valid, in days.
    #[arg(long, default_value_t = VALIDITY_DAYS_DEFAULT)]
    pub validity_days: u32,
}

pub fn run(command: CertsCommand) -> anyhow::Result<ExitCode> {
    match command {
        CertsCommand::Init(a) => {
            let ca = CertificateAuthority::generate(a.validity_days)?;
            ca.write(&a.out).with_context(|| format!("writing the CA into {}", a.out.display()))?;
            println!("wrote {} and {}", a.out.join(CA_CERT_FILE).display(), a.out.join(CA_KEY_FILE).display());
        }
        CertsCommand::Issue(a) => {
            let ca = CertificateAuthority::load(&a.ca)?;
            let issued: IssuedCertificate = ca.issue_node(a.node, a.validity_days)?;
            let (cert, key) =
                issued.write(&a.out, a.node).with_context(|| format!("writing node {}'s files", a.node))?;
            println!("wrote {} and {} (subjectAltName node-{}.synod)", cert.display(), key.display(), a.node);
            println!("[tls]");
            println!("ca_cert = {:?}", a.ca.join(CA_CERT_FILE).display().to_string());
            println!("cert = {:?}", cert.display().to_string());
            println!("key = {:?}", key.display().to_string());
        }
        CertsCommand::IssueHttp(a) => {
            let ca = CertificateAuthority::load(&a.ca)?;
            let issued = ca.issue_server(&a.names, a.validity_days)?;
            let stem = a.names[0].replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-', "_");
            let (cert, key) = (a.out.join(format!("http-{stem}.pem")), a.out.join(format!("http-{stem}.key")));
            issued.write_pair(&cert, &key).with_context(|| format!("writing {}", cert.display()))?;
            println!("wrote {} and {} (subjectAltNames {})", cert.display(), key.display(), a.names.join(", "));
            println!("[http_tls]");
            println!("cert = {:?}", cert.display().to_string());
            println!("key = {:?}", key.display().to_string());
            println!(
                "# clients: synod --ca-cert {} --node https://{}:PORT ...",
                a.ca.join(CA_CERT_FILE).display(),
                a.names[0]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
