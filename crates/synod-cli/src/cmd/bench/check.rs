//! `synod bench --check`: fixed load profiles, each with a PASS/FAIL verdict
//! against stated thresholds (like `etcdctl check perf`). Exit 1 on any FAIL.
//!
//! The thresholds are set so that a healthy node on a small machine (2 cores
//! shared by the load generator and the node, an ordinary SSD) passes with a
//! wide margin, and a broken or very slow one fails: any error, any
//! acknowledged transfer missing, throughput far below what one fsync per
//! block allows, or tail latency of whole seconds. docs/BENCHMARKS.md gives the
//! measurements they were chosen from.

use std::process::ExitCode;

use serde::Serialize;

use super::report::{int, ms, rate, shape, Latency, Report};
use super::{Auth, BenchArgs, Plan, TargetOpts};

#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    /// Committed transfers per second must be at least this.
    pub min_committed_per_s: f64,
    /// p99 request latency must be at most this (milliseconds).
    pub max_p99_ms: f64,
    /// Errors (failed requests plus rejected transfers) must be at most this.
    pub max_errors: u64,
    /// Every acknowledged transfer must be found in the ledger.
    pub all_acknowledged_found: bool,
}

struct Profile {
    name: &'static str,
    clients: usize,
    batch: usize,
    thresholds: Thresholds,
}

const DURATION_S: f64 = 5.0;
const WARMUP_S: f64 = 1.0;

fn profiles() -> Vec<Profile> {
    let t = |min_committed_per_s: f64, max_p99_ms: f64| Thresholds {
        min_committed_per_s,
        max_p99_ms,
        max_errors: 0,
        all_acknowledged_found: true,
    };
    vec![
        Profile { name: "1 client x 1 transfer/request", clients: 1, batch: 1, thresholds: t(50.0, 100.0) },
        Profile { name: "64 clients x 1 transfer/request", clients: 64, batch: 1, thresholds: t(500.0, 500.0) },
        Profile {
            name: "8 clients x 1,000 transfers/request",
            clients: 8,
            batch: 1_000,
            thresholds: t(2_000.0, 5_000.0),
        },
    ]
}

#[derive(Clone, Debug, Serialize)]
struct ProfileResult {
    name: String,
    load: Plan,
    thresholds: Thresholds,
    committed_per_s: f64,
    requests_per_s: f64,
    latency_us: Latency,
    errors: u64,
    errors_by_kind: std::collections::BTreeMap<String, u64>,
    acknowledged: u64,
    missing: u64,
    check_ok: bool,
    /// Why it failed (empty when it passed).
    failures: Vec<String>,
    /// "PASS" or "FAIL".
    verdict: String,
}

#[derive(Serialize)]
struct CheckOutput {
    target: String,
    machine: super::machine::Machine,
    profiles: Vec<ProfileResult>,
    /// "PASS" when every profile passed.
    verdict: String,
}

fn judge(name: &str, plan: Plan, th: Thresholds, r: &Report) -> ProfileResult {
    let mut failures = Vec::new();
    let p99_ms = r.latency_us.p99 as f64 / 1000.0;
    if r.results.committed_per_s < th.min_committed_per_s {
        failures.push(format!(
            "throughput {} transfers/s < {}",
            rate(r.results.committed_per_s),
            rate(th.min_committed_per_s)
        ));
    }
    if r.latency_us.count == 0 || p99_ms > th.max_p99_ms {
        failures.push(format!("p99 {} > {} ms", ms(r.latency_us.p99), th.max_p99_ms));
    }
    if r.errors.total > th.max_errors {
        failures.push(format!("{} errors > {}", int(r.errors.total), th.max_errors));
    }
    if !r.check.ok {
        failures.push(format!(
            "check failed: {} missing, {} senders behind, {} lookup errors",
            r.check.missing, r.check.senders_behind, r.check.lookup_errors
        ));
    }
    ProfileResult {
        name: name.into(),
        load: plan,
        thresholds: th,
        committed_per_s: r.results.committed_per_s,
        requests_per_s: r.results.requests_per_s,
        latency_us: r.latency_us.clone(),
        errors: r.errors.total,
        errors_by_kind: r.errors.by_kind.clone(),
        acknowledged: r.check.acknowledged,
        missing: r.check.missing,
        check_ok: r.check.ok,
        verdict: if failures.is_empty() { "PASS" } else { "FAIL" }.into(),
        failures,
    }
}

pub fn run(a: &BenchArgs, target: &TargetOpts) -> anyhow::Result<ExitCode> {
    let what = if target.dev {
        "an in-process dev node (single node, no replication; a fresh ledger per profile)".to_string()
    } else {
        target.nodes.join(",")
    };
    let machine = super::machine::Machine::read(target.dev || super::machine::all_local(&target.nodes));
    let progress = super::show_progress(a.json);
    if !a.json {
        println!(
            "synod bench --check: {} profiles of {} s (after {} s warmup), signed transfers, against {what}",
            profiles().len(),
            DURATION_S,
            WARMUP_S
        );
        println!(
            "machine: {}, {} CPUs, load average {:.2} {:.2} {:.2}",
            machine.cpu_model, machine.cpus, machine.load_average[0], machine.load_average[1], machine.load_average[2]
        );
    }
    let mut results = Vec::new();
    for p in profiles() {
        let plan = Plan {
            mode: "closed",
            clients: p.clients,
            rate: None,
            batch: p.batch,
            auth: Auth::Signed,
            warmup_s: WARMUP_S,
            duration_s: DURATION_S,
            requests: None,
            seed: a.seed,
            presign_max: a.presign_max,
            verify_max: a.verify_max.max(1),
        };
        let report = super::run_one(target, &plan, progress)?;
        let r = judge(p.name, plan, p.thresholds, &report);
        if !a.json {
            print_row(&r);
        }
        results.push(r);
    }
    let pass = results.iter().all(|r| r.verdict == "PASS");
    if a.json {
        crate::output::json(&CheckOutput {
            target: what,
            machine,
            profiles: results,
            verdict: if pass { "PASS" } else { "FAIL" }.into(),
        });
    } else {
        println!("{}", if pass { "PASS: every profile passed" } else { "FAIL: at least one profile failed" });
    }
    Ok(if pass { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_row(r: &ProfileResult) {
    let th = &r.thresholds;
    println!();
    println!("{}  [{}]", r.verdict, r.name);
    println!("  load       {}", shape(&r.load));
    println!(
        "  measured   {} transfers/s, {} requests/s; p50 {}, p99 {}, max {}; {} errors; {} acknowledged, {} missing",
        rate(r.committed_per_s),
        rate(r.requests_per_s),
        ms(r.latency_us.p50),
        ms(r.latency_us.p99),
        ms(r.latency_us.max),
        int(r.errors),
        int(r.acknowledged),
        int(r.missing)
    );
    println!(
        "  needs      ≥ {} transfers/s, p99 ≤ {} ms, {} errors, every acknowledged transfer in the ledger",
        rate(th.min_committed_per_s),
        th.max_p99_ms,
        th.max_errors
    );
    for f in &r.failures {
        println!("  FAILED:    {f}");
    }
    if !r.errors_by_kind.is_empty() {
        let kinds: Vec<String> = r.errors_by_kind.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  errors     {}", kinds.join(", "));
    }
}
