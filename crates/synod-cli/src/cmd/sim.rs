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
    /// Nodes: 3, 5 or 7 for paxos (default 3; with --reconfig the pool of
    /// node ids, 5 or 7, default 5); 2 to 16 for pow (default 4).
    #[arg(long)]
    pub nodes: Option<u8>,
    /// Paxos: membership changes under the faults. The cluster starts with
    /// nodes 1..=3 of the --nodes pool (the others are learners) and the
    /// leader is asked every 100-400 ms to add or remove one member.
    #[arg(long)]
    pub reconfig: bool,
    /// Paxos: simulated milliseconds of the fault phase.
    #[arg(long, default_value_t = SimOptions::default().fault_ms, value_parser = clap::value_parser!(u64).range(PHASE_MS_MIN..=PHASE_MS_MAX))]
    pub fault_ms: u64,
    /// Paxos: simulated milliseconds of the quiet phase (network healed,
    /// every node up) that ends with the liveness checks.
    #[arg(long, default_value_t = SimOptions::default().quiet_ms, value_parser = clap::value_parser!(u64).range(PHASE_MS_MIN..=PHASE_MS_MAX))]
    pub quiet_ms: u64,
    /// Consensus to simulate: paxos (a Multi-Paxos cluster) or pow (a mining
    /// network through partitions that fork it).
    #[arg(long, default_value = "paxos")]
    pub consensus: String,
}

/// Bounds of `--fault-ms` and `--quiet-ms` (input is bounded): a seed's
/// CPU time grows with its simulated time, and a too short quiet phase
/// fails the liveness check by itself.
const PHASE_MS_MIN: u64 = 100;
const PHASE_MS_MAX: u64 = 600_000;

pub fn run(a: SimArgs) -> anyhow::Result<ExitCode> {
    match a.consensus.as_str() {
        "paxos" => {}
        "pow" => return run_pow(a),
        other => bail!("--consensus {other}: expected paxos or pow"),
    }
    let nodes = a.nodes.unwrap_or(if a.reconfig { 5 } else { 3 });
    if !matches!(nodes, 3 | 5 | 7) {
        bail!("--nodes must be 3, 5 or 7 for paxos");
    }
    if a.reconfig && nodes == 3 {
        bail!("--reconfig needs a pool larger than the 3 starting members: --nodes 5 or 7");
    }
    let opts = SimOptions {
        nodes,
        reconfig: a.reconfig,
        seed_start: a.seed_start,
        seeds: a.seeds,
        trace: a.trace,
        fault_ms: a.fault_ms,
        quiet_ms: a.quiet_ms,
        ..SimOptions::default()
    };
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
                println!("seed {seed}: VIOLATION {check}: {detail}\nreplay: {}", outcome.replay);
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
    let defaults = SimOptions::default();
    if a.reconfig || a.fault_ms != defaults.fault_ms || a.quiet_ms != defaults.quiet_ms {
        bail!("--reconfig, --fault-ms and --quiet-ms are for the paxos simulator");
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
