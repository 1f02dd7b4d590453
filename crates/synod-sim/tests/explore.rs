//! Manual exploration helpers (ignored by default), see README.md:
//! `SEEDS=5000 NODES=5 cargo test --release -p synod-sim --test explore explore -- --ignored --nocapture`
//! `SEED=42 cargo test --release -p synod-sim --test explore replay -- --ignored --nocapture`
//! (the replay writes its trace to /tmp/sim-trace.txt).
//! `RECONFIG=1` turns on membership changes (`NODES` is then the pool);
//! `QUIET_MS` and `FAULT_MS` set the phases (3,000 ms each by default).
//! `BUG=foreign` runs either with the pre-fix learner rule
//! (`leader_vouches_for_foreign_slots`).

use synod_sim::*;

fn bugs() -> BugInjection {
    let foreign = std::env::var("BUG").is_ok_and(|b| b == "foreign");
    BugInjection { leader_vouches_for_foreign_slots: foreign, ..BugInjection::default() }
}

#[test]
#[ignore]
fn explore() {
    let seeds: u64 = std::env::var("SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
    let nodes: u8 = std::env::var("NODES").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let start = std::time::Instant::now();
    let fault_ms: u64 = std::env::var("FAULT_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let seed_start: u64 = std::env::var("SEED_START").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let quiet_ms: u64 = std::env::var("QUIET_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let reconfig = std::env::var("RECONFIG").is_ok_and(|r| r == "1");
    let summary = run_seeds(&SimOptions {
        seeds,
        nodes,
        reconfig,
        seed_start,
        fault_ms,
        quiet_ms,
        stop_on_violation: false,
        bugs: bugs(),
        ..SimOptions::default()
    });
    println!("{summary}\nelapsed {:?}", start.elapsed());
    for v in summary.violations.iter().take(10) {
        println!("{v:?}");
    }
}

#[test]
#[ignore]
fn replay() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let nodes: u8 = std::env::var("NODES").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let fault_ms: u64 = std::env::var("FAULT_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let quiet_ms: u64 = std::env::var("QUIET_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let reconfig = std::env::var("RECONFIG").is_ok_and(|r| r == "1");
    let outcome = run_seed(
        seed,
        &SimOptions { nodes, reconfig, fault_ms, quiet_ms, trace: true, bugs: bugs(), ..SimOptions::default() },
    );
    let mut out = String::new();
    for line in &outcome.trace {
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write("/tmp/sim-trace.txt", out).unwrap();
    println!("{:?} lines={}", outcome.verdict, outcome.trace.len());
}

#[test]
#[ignore]
fn teeth_explore() {
    for (name, bugs) in [
        ("forget_promise", BugInjection { forget_promise_on_restart: true, ..Default::default() }),
        ("accept_lower", BugInjection { accept_lower_ballot: true, ..Default::default() }),
        ("no_quorum", BugInjection { choose_without_quorum: true, ..Default::default() }),
    ] {
        for nodes in [3u8, 5] {
            let summary =
                run_seeds(&SimOptions { seeds: 200, nodes, bugs, stop_on_violation: false, ..SimOptions::default() });
            println!(
                "{name} n={nodes}: {} violations / {}; first {:?}",
                summary.violations.len(),
                summary.seeds_run,
                summary.violations.first().map(|v| (v.0, v.1, v.2.chars().take(120).collect::<String>()))
            );
        }
    }
}

/// Cost of unsigned vs signed seeds (`CHANCE=0.25` for one mix).
#[test]
#[ignore]
fn cost() {
    let chances: Vec<f64> = match std::env::var("CHANCE") {
        Ok(c) => vec![c.parse().unwrap()],
        Err(_) => vec![0.0, 1.0],
    };
    for chance in chances {
        let start = std::time::Instant::now();
        let summary =
            run_seeds(&SimOptions { seeds: 200, threads: 1, signed_seed_chance: chance, ..SimOptions::default() });
        println!("signed {chance}: {:?} {}", start.elapsed(), summary.passed());
    }
}

/// Seeds where a transfer answered `rejected` was committed later anyway.
#[test]
#[ignore]
fn rejected_then_committed() {
    let seeds: u64 = std::env::var("SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    for seed in 0..seeds {
        let outcome = run_seed(seed, &SimOptions::default());
        if outcome.stats.rejected_then_committed > 0 {
            println!("seed {seed}: {}", outcome.stats.rejected_then_committed);
        }
    }
}

/// The node runtime's situation: no log compaction, then a full-cluster
/// restart once more than `promise_entries_max` (512) slots are accepted.
/// `SEEDS=20 FAULT_MS=12000 cargo test ... --exact full_restart_without_compaction`
#[test]
#[ignore]
fn full_restart_without_compaction() {
    let seeds: u64 = std::env::var("SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let fault_ms: u64 = std::env::var("FAULT_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(12_000);
    let faults = FaultBounds {
        compact_chance: 0.0,
        cluster_restart_chance: 1.0,
        crash_interval_ms_min: 0,
        partition_interval_ms_min: 0,
        corrupt_seed_chance: 0.0,
        ..FaultBounds::default()
    };
    let quiet_ms: u64 = std::env::var("QUIET_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let opts = SimOptions { seeds, fault_ms, quiet_ms, faults, stop_on_violation: false, ..SimOptions::default() };
    let summary = run_seeds(&opts);
    println!("{summary}");
    for (seed, check, detail) in summary.violations.iter().take(5) {
        let max_slot = run_seed(*seed, &opts).stats.max_slot;
        println!("seed {seed} (max slot {max_slot}): {check}: {}", &detail[..detail.len().min(160)]);
    }
    if let Ok(seed) = std::env::var("SEED") {
        let outcome = run_seed(seed.parse().unwrap(), &SimOptions { trace: true, ..opts });
        std::fs::write("/tmp/sim-trace.txt", outcome.trace.join("\n")).unwrap();
    }
}
