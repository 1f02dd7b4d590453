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
    /// Cluster size: 3 or 5.
    #[arg(long, default_value_t = 3)]
    pub nodes: u8,
    /// Consensus to simulate (only paxos so far).
    #[arg(long, default_value = "paxos")]
    pub consensus: String,
}

pub fn run(a: SimArgs) -> anyhow::Result<ExitCode> {
    if a.consensus != "paxos" {
        bail!("--consensus {}: only paxos is simulated so far", a.consensus);
    }
    if a.nodes != 3 && a.nodes != 5 {
        bail!("--nodes must be 3 or 5");
    }
    let opts = SimOptions {
        nodes: a.nodes,
        seed_start: a.seed_start,
        seeds: a.seeds,
        trace: a.trace,
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
                println!("seed {seed}: VIOLATION {check}: {detail}");
                ExitCode::from(1)
            }
        });
    }
    let summary = run_seeds(&opts);
    println!("{summary}");
    Ok(if summary.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
