//! `synod bench`: a load generator for a Synod ledger, and a checker that
//! every transfer the ledger acknowledged is really in it.
//!
//! The phases of one run (docs/BENCHMARKS.md describes them for users):
//! 1. accounts: one sender account per client, derived from `--seed`
//!    (`accounts.rs`); with `--dev` they are funded by the genesis of an
//!    in-process node, against `--node` they are funded from `--keys`;
//! 2. preparation: requests are signed and serialised before the timed phase
//!    (`requests.rs`), up to a budget; beyond it they are signed on the fly on
//!    tokio's blocking pool, and the report says how many were;
//! 3. load: closed loop (`--clients`) or open loop (`--rate`) for
//!    `--warmup` + `--duration` seconds or `--requests` requests (`load.rs`);
//! 4. check: every acknowledged transfer is looked up (or a deterministic
//!    sample, plus every sender's nonce) (`verify.rs`);
//! 5. report: text or one JSON object (`report.rs`).
//!
//! `--check` runs fixed profiles with PASS/FAIL thresholds (`check.rs`).

mod accounts;
mod check;
mod http;
mod load;
mod machine;
mod progress;
mod report;
mod requests;
mod signatures;
mod target;
mod verify;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

/// Most clients (concurrent requests) one run may use.
pub const CLIENTS_MAX: usize = 10_000;
/// Longest run, warmup included, in seconds.
pub const DURATION_MAX_S: f64 = 3_600.0;
/// Duration cap when only `--requests` is given.
pub const DURATION_DEFAULT_CAP_S: f64 = 600.0;
/// Duration when neither `--duration` nor `--requests` is given.
pub const DURATION_DEFAULT_S: f64 = 10.0;

#[derive(clap::Args, Clone)]
pub struct BenchArgs {
    /// Node URL of a running ledger; repeat or comma-separate several to spread the
    /// clients over them (client i talks to node i mod n). Needs --keys.
    #[arg(long = "node", value_delimiter = ',', conflicts_with = "dev")]
    pub nodes: Vec<String>,
    /// Start a fresh ledger in this process (temporary data dir, genesis funding
    /// one account per client) and stop it afterwards: one node, or a cluster with --nodes.
    #[arg(long)]
    pub dev: bool,
    /// With --dev: 1 (a single node), 3 or 5 (a Multi-Paxos cluster started as
    /// `synod dev --nodes N` starts one; clients are spread over its nodes).
    #[arg(long = "nodes", default_value_t = 1, requires = "dev")]
    pub dev_nodes: u8,
    /// With --node: a folder of funded key files (JSON {"account","secret_seed"}, e.g.
    /// synod-dev/keys). The bench funds one fresh account per client from them first.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Closed loop: this many concurrent clients, each sending its next request when
    /// the previous one was answered (default 1). With --rate: most requests in flight
    /// (default 64).
    #[arg(long)]
    pub clients: Option<usize>,
    /// Open loop: offer this many requests per second on a fixed schedule; latency is
    /// measured from each request's scheduled time (no coordinated omission).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Transfers per request (1 sends a JSON object, more a JSON array; ≤ 8192).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// signed: Ed25519-signed transfers. trusted: unsigned transfers (needs a ledger
    /// whose genesis has auth "none"; --dev creates one).
    #[arg(long, value_enum, default_value_t = Auth::Signed)]
    pub auth: Auth,
    /// Measured seconds (after the warmup). Default 10 unless --requests is given.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Stop after this many measured requests (all clients together).
    #[arg(long)]
    pub requests: Option<u64>,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Print one JSON object (no progress bar).
    #[arg(long)]
    pub json: bool,
    /// Run the fixed check profiles and print PASS/FAIL for each (exit 1 on any FAIL).
    #[arg(long)]
    pub check: bool,
    /// Seed of the client accounts' keys (change it to run two benches on one ledger at once).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Most transfers to prepare (sign and serialise) before the timed phase; the rest
    /// are signed during the run on a blocking pool (the report counts them).
    #[arg(long, default_value_t = 1_000_000)]
    pub presign_max: usize,
    /// Above this many acknowledged transfers, check a deterministic sample of this
    /// size (and every sender's nonce) instead of every transfer.
    #[arg(long, default_value_t = 20_000)]
    pub verify_max: usize,
    /// Measure signature verification only, on one core: sign this many transfers,
    /// then verify them one by one (strict) and through the batch path. No ledger.
    #[arg(long, conflicts_with_all = ["dev", "nodes", "check"])]
    pub signatures: Option<usize>,
    /// With --dev: where to create the temporary data dir (default: the system temp dir).
    /// Use a real disk: on tmpfs an fsync costs nothing.
    #[arg(long)]
    pub dev_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    Signed,
    Trusted,
}

/// Where the load goes.
#[derive(Clone, Debug)]
pub struct TargetOpts {
    pub dev: bool,
    pub nodes: Vec<String>,
    pub keys: Option<PathBuf>,
    pub dev_dir: Option<PathBuf>,
    /// With dev: how many nodes to start (1, 3 or 5).
    pub dev_nodes: u8,
}

/// The shape of one run's load.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// "closed" or "open".
    pub mode: &'static str,
    pub clients: usize,
    /// Open loop: offered requests per second.
    pub rate: Option<f64>,
    pub batch: usize,
    pub auth: Auth,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub requests: Option<u64>,
    pub seed: u64,
    #[serde(skip)]
    pub presign_max: usize,
    #[serde(skip)]
    pub verify_max: usize,
}

impl Plan {
    pub fn from_args(a: &BenchArgs) -> anyhow::Result<Plan> {
        let clients = a.clients.unwrap_or(if a.rate.is_some() { 64 } else { 1 });
        if clients == 0 || clients > CLIENTS_MAX {
            bail!("--clients must be 1..={CLIENTS_MAX}, got {clients}");
        }
        if a.batch == 0 || a.batch > synod_node::limits::REQUEST_TRANSFERS_MAX {
            bail!("--batch must be 1..={}, got {}", synod_node::limits::REQUEST_TRANSFERS_MAX, a.batch);
        }
        if let Some(r) = a.rate {
            if !(r > 0.0 && r <= 1_000_000.0) {
                bail!("--rate must be > 0 and ≤ 1,000,000 requests/s, got {r}");
            }
        }
        if !(a.warmup >= 0.0 && a.warmup <= DURATION_MAX_S) {
            bail!("--warmup must be 0..={DURATION_MAX_S} seconds");
        }
        let duration = match (a.duration, a.requests) {
            (Some(d), _) => d,
            (None, Some(_)) => DURATION_DEFAULT_CAP_S,
            (None, None) => DURATION_DEFAULT_S,
        };
        if !(duration > 0.0 && duration + a.warmup <= DURATION_MAX_S) {
            bail!("--duration must be > 0 with --warmup + --duration ≤ {DURATION_MAX_S} seconds");
        }
        if a.requests == Some(0) {
            bail!("--requests must be at least 1");
        }
        Ok(Plan {
            mode: if a.rate.is_some() { "open" } else { "closed" },
            clients,
            rate: a.rate,
            batch: a.batch,
            auth: a.auth,
            warmup_s: a.warmup,
            duration_s: duration,
            requests: a.requests,
            seed: a.seed,
            presign_max: a.presign_max,
            verify_max: a.verify_max.max(1),
        })
    }

    pub fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup_s)
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration_s)
    }
}

impl BenchArgs {
    fn target(&self) -> anyhow::Result<TargetOpts> {
        let dev = self.dev || (self.check && self.nodes.is_empty());
        if !dev && self.nodes.is_empty() {
            bail!("give --dev (start a node in this process) or --node URL --keys DIR (a running ledger)");
        }
        if !dev && self.keys.is_none() {
            bail!("--node needs --keys DIR: funded key files to pay for the bench accounts (e.g. synod-dev/keys)");
        }
        if dev && self.keys.is_some() {
            bail!("--keys is for --node; --dev funds its accounts in its own genesis");
        }
        if ![1, 3, 5].contains(&self.dev_nodes) {
            bail!("--nodes {}: use 1, 3 or 5", self.dev_nodes);
        }
        Ok(TargetOpts {
            dev,
            nodes: self.nodes.clone(),
            keys: self.keys.clone(),
            dev_dir: self.dev_dir.clone(),
            dev_nodes: self.dev_nodes,
        })
    }
}

/// Whether to draw a progress bar: not with --json, not when stdout is not a terminal.
fn show_progress(json: bool) -> bool {
    !json && std::io::stdout().is_terminal()
}

pub fn run(a: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(transfers) = a.signatures {
        let report = signatures::run(&a, transfers)?;
        if a.json {
            crate::output::json(&report);
        } else {
            report.print_text();
        }
        return Ok(ExitCode::SUCCESS);
    }
    let target = a.target()?;
    if a.check {
        return check::run(&a, &target);
    }
    let plan = Plan::from_args(&a)?;
    let report = run_one(&target, &plan, show_progress(a.json)).context("bench failed")?;
    if a.json {
        crate::output::json(&report);
    } else {
        report.print_text();
    }
    Ok(if report.check.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// One complete run: accounts, target, preparation, load, check, teardown.
pub fn run_one(opts: &TargetOpts, plan: &Plan, progress: bool) -> anyhow::Result<report::Report> {
    let machine = machine::Machine::read(opts.dev || machine::all_local(&opts.nodes));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    let derived = accounts::derive(plan.seed, plan.clients);
    let (target, senders, setup) = target::Target::setup(&rt, opts, plan, derived)?;
    let prepared = requests::prepare(&target, plan, &senders);
    let outcome = rt.block_on(load::run(&target, plan, &senders, prepared.queues, progress));
    let check = rt.block_on(verify::check(&target, plan, &senders, &outcome));
    let report = report::Report::new(&target, plan, machine, setup, prepared.summary, outcome, check);
    target.shutdown();
    Ok(report)
}
