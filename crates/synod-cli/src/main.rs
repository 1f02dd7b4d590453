//! `synod`: one binary for the node, the local dev cluster, the client, the
//! offline auditor, the header verifier and the simulator.

mod cmd;
mod failure;
mod keyfile;
mod logging;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The default node URL: the first node of `synod dev`.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:7001";

#[derive(Parser)]
#[command(name = "synod", version = VERSION, about = "A replicated, tamper-evident ledger", propagate_version = true)]
pub struct Cli {
    /// Log lines on stderr as text, or as one JSON object per line (log
    /// shippers). What is logged: SYNOD_LOG, else RUST_LOG (tracing filter
    /// syntax); default info for `node` and `dev`, warn otherwise.
    #[arg(long, global = true, value_enum, default_value_t)]
    log_format: logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// `synod --version`: the crate version and the git commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SYNOD_GIT_COMMIT"), ")");

#[derive(Subcommand)]
enum Command {
    /// Start a local ledger with demo accounts (embedded storage, one command).
    Dev(cmd::dev::DevArgs),
    /// Cluster CA and member certificates for mutual TLS between members.
    #[command(subcommand)]
    Certs(cmd::certs::CertsCommand),
    /// Cluster membership: members, add, remove, replace (online, through the log).
    #[command(subcommand)]
    Cluster(cmd::cluster::ClusterCommand),
    /// Run one node from a TOML config.
    Node(cmd::node::NodeArgs),
    /// Create a new Ed25519 key (an account).
    Keygen(cmd::keys::KeygenArgs),
    /// Build a genesis file funding the accounts of key files (or account ids).
    Genesis(cmd::genesis::GenesisArgs),
    /// Sign and submit a transfer; waits until it is committed.
    Transfer(cmd::client::TransferArgs),
    /// Submit a transfer JSON signed elsewhere (a file or - for stdin); waits like `transfer`.
    Submit(cmd::client::SubmitArgs),
    /// Multi-signature (M-of-N) accounts: make a policy, combine signed parts.
    #[command(subcommand)]
    Multisig(cmd::multisig::MultisigCommand),
    /// Show an account's balance and next nonce.
    Balance(cmd::client::BalanceArgs),
    /// Show a committed transfer; --proof fetches and checks its inclusion proof.
    Tx(cmd::client::TxArgs),
    /// Show a block.
    Block(cmd::client::BlockArgs),
    /// Show the head block.
    Head(cmd::client::HeadArgs),
    /// Show a node's status (consensus, height, peers; mining for proof of work).
    Status(cmd::client::HeadArgs),
    /// Fetch or check inclusion and consistency proofs.
    #[command(subcommand)]
    Proof(cmd::proof::ProofCommand),
    /// Audit a stopped node's data directory offline.
    Verify(cmd::verify::VerifyArgs),
    /// Run the deterministic simulator (seeds, replay, trace).
    Sim(cmd::sim::SimArgs),
    /// Proof-of-work tools.
    #[command(subcommand)]
    Pow(cmd::pow::PowCommand),
    /// Proof-of-work light client: own header store, most-work chain from several nodes.
    #[command(subcommand)]
    Light(cmd::light::LightCommand),
    /// Load-test a ledger and check every acknowledged transfer; --check for PASS/FAIL profiles.
    Bench(cmd::bench::BenchArgs),
    /// Fault suite over real node processes in network namespaces (needs root and iproute2).
    Nemesis(cmd::nemesis::NemesisArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::docs::CompletionsArgs),
    /// Write man pages (synod.1 and one per subcommand) into a directory.
    Man(cmd::docs::ManArgs),
}

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of our output
    // goes away (`synod head | head -1`) instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; restores the default action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let json = failure::json_requested(std::env::args());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and exit 0; a usage error exits 2, with
        // --json as one JSON object on stdout.
        Err(e) if json && e.use_stderr() => {
            let text = e.to_string();
            let detail = text.lines().next().unwrap_or_default().trim_start_matches("error: ");
            output::json(&failure::json_object("usage", detail));
            eprint!("{e}");
            return ExitCode::from(failure::EXIT_USAGE_OR_UNREACHABLE);
        }
        Err(e) => e.exit(),
    };
    let default_level = match cli.command {
        Command::Node(_) | Command::Dev(_) => "info",
        _ => "warn",
    };
    logging::init(default_level, cli.log_format);
    let result = match cli.command {
        Command::Dev(a) => cmd::dev::run(a),
        Command::Certs(c) => cmd::certs::run(c),
        Command::Cluster(c) => cmd::cluster::run(c),
        Command::Node(a) => cmd::node::run(a),
        Command::Keygen(a) => cmd::keys::keygen(a),
        Command::Genesis(a) => cmd::genesis::run(a),
        Command::Transfer(a) => cmd::client::transfer(a),
        Command::Submit(a) => cmd::client::submit(a),
        Command::Multisig(c) => cmd::multisig::run(c),
        Command::Balance(a) => cmd::client::balance(a),
        Command::Tx(a) => cmd::client::tx(a),
        Command::Block(a) => cmd::client::block(a),
        Command::Head(a) => cmd::client::head(a),
        Command::Status(a) => cmd::client::status(a),
        Command::Proof(c) => cmd::proof::run(c),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Pow(c) => cmd::pow::run(c),
        Command::Light(c) => cmd::light::run(c),
        Command::Sim(a) => cmd::sim::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Nemesis(a) => cmd::nemesis::run(a),
        Command::Completions(a) => cmd::docs::completions::<Cli>(a),
        Command::Man(a) => cmd::docs::man::<Cli>(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let message = error_chain(&e);
            let failure = failure::classify(&e);
            if json {
                output::json(&failure::json_object(&failure.code, &message));
            }
            eprintln!("error: {message}");
            ExitCode::from(failure.exit_code)
        }
    }
}

/// The error and its causes, skipping a cause whose text the message before it
/// already includes (many of our error types embed their source's text).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    let mut last = out.clone();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !last.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
    }
    out
}
