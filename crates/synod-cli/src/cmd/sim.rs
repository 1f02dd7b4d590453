//! `synod sim`: the deterministic simulator of the Multi-Paxos core.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use synod_sim::{export_history_jsonl, run_seed, run_seeds, SimOptions, Verdict};

#[derive(clap::Args)]
pub struct SimArgs {
    /// Run this many seeds.
    #[arg(long, default_value_t = 100, conflicts_with = "seed")]
    pub seeds: u64,
    /// First seed of the run.
    #[arg(long, default_value_t = 0)]
    pub seed_start: u64,
    /// Replay one seed exactly.
    #[arg(long)]
    pub seed: Option<u64>,
    /// With --seed: print every event of the run.
    #[arg(long, requires = "seed")]
    pub trace: bool,
    /// With --seed: write the client history as JSON lines to this file.
    #[arg(long, requires = "seed")]
    pub history: Option<PathBuf>,
    /// Nodes: 3, 5 or 7 for paxos (default 3); 2 to 16 for pow (default 4).
    #[arg(long)]
    pub nodes: Option<u8>,
    /// Consensus to simulate: paxos (a Multi-Paxos cluster) or pow (a mining
    /// network through partitions that fork it).
    #[arg(long, default_value = "paxos")]
    pub consensus: String,
}

pub fn run(a: SimArgs) -> anyhow::Result<ExitCode> {
    match a.consensus.as_str() {
        "paxos" => {}
        "pow" => return run_pow(a),
        other => bail!("--consensus {other}: expected paxos or pow"),
    }
    let nodes = a.nodes.unwrap_or(3);
    if !matches!(nodes, 3 | 5 | 7) {
        bail!("--nodes must be 3, 5 or 7 for paxos");
    }
    let opts = SimOptions { nodes, seed_start: a.seed_start, seeds: a.seeds, trace: a.trace, ..SimOptions::default() };
    if let Some(seed) = a.seed {
        let outcome = run_seed(seed, &opts);
        for line in &outcome.trace {
            println!("{line}");
        }
        if let Some(path) = &a.history {
            let mut f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            export_history_jsonl(&outcome.history, &mut f)?;
        }
        return Ok(match outcome.verdict {
            Verdict::Ok => {
                println!("seed {seed}: ok (trace hash {:016x})", outcome.trace_hash);
                ExitCode::SUCCESS
            }
            Verdict::Violation { check, detail } => {
                println!("seed {seed}: VIOLATION {check}: {detail}");
                ExitCode::from(1)
            }
        });
    }
    let summary = run_seeds(&opts);
    println!("{summary}");
    Ok(if summary.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn run_pow(a: SimArgs) -> anyhow::Result<ExitCode> {
    use synod_pow::sim::{run_pow_seed, run_pow_seeds, PowSimOptions};
    let mut opts =
        PowSimOptions { seeds: a.seeds, seed_start: a.seed_start, trace: a.trace, ..PowSimOptions::default() };
    if let Some(n) = a.nodes {
        if !(2..=16).contains(&n) {
            bail!("--nodes must be 2 to 16 for pow");
        }
        opts.nodes = n;
    }
    if a.history.is_some() {
        bail!("--history is for the paxos simulator");
    }
    if let Some(seed) = a.seed {
        let outcome = run_pow_seed(seed, &opts);
        for line in &outcome.trace {
            println!("{line}");
        }
        return Ok(match &outcome.violation {
            None => {
                println!("seed {seed}: ok (trace hash {:016x})", outcome.trace_hash);
                ExitCode::SUCCESS
            }
            Some(v) => {
                println!("seed {seed}: VIOLATION {}: {}", v.check, v.detail);
                ExitCode::from(1)
            }
        });
    }
    let summary = run_pow_seeds(&opts);
    println!("{summary}");
    Ok(if summary.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
