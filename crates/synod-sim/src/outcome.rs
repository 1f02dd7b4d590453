//! Running seeds and reporting: `run_seed`, `run_seeds`, `SeedOutcome`,
//! `Summary`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::checks::{durability, integrity, linearizability, liveness, Violation};
use crate::history::HistoryEntry;
use crate::options::SimOptions;
use crate::world::World;

/// Counters for one seed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedStats {
    pub appends_ok: u64,
    pub appends_unknown: u64,
    pub appends_failed: u64,
    pub reads_ok: u64,
    pub messages: u64,
    pub crashes: u64,
    pub partitions: u64,
    pub elections_won: u64,
    pub snapshots_installed: u64,
    pub damaged_restarts: u64,
    pub max_slot: u64,
    pub duplicates_skipped: u64,
}

impl SeedStats {
    fn add(&mut self, o: &SeedStats) {
        self.appends_ok += o.appends_ok;
        self.appends_unknown += o.appends_unknown;
        self.appends_failed += o.appends_failed;
        self.reads_ok += o.reads_ok;
        self.messages += o.messages;
        self.crashes += o.crashes;
        self.partitions += o.partitions;
        self.elections_won += o.elections_won;
        self.snapshots_installed += o.snapshots_installed;
        self.damaged_restarts += o.damaged_restarts;
        self.max_slot = self.max_slot.max(o.max_slot);
        self.duplicates_skipped += o.duplicates_skipped;
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Violation { check: &'static str, detail: String },
}

#[derive(Clone, Debug)]
pub struct SeedOutcome {
    pub seed: u64,
    pub nodes: u8,
    pub verdict: Verdict,
    pub stats: SeedStats,
    /// Fingerprint of every event processed (and of every trace line).
    pub trace_hash: u64,
    /// Human-readable trace, when `SimOptions::trace` is set.
    pub trace: Vec<String>,
    pub history: Vec<HistoryEntry>,
}

impl SeedOutcome {
    pub fn is_ok(&self) -> bool {
        self.verdict == Verdict::Ok
    }

    pub fn replay_command(&self) -> String {
        replay_command(self.seed, self.nodes)
    }
}

pub fn replay_command(seed: u64, nodes: u8) -> String {
    if nodes == 3 {
        format!("synod sim --seed {seed} --trace")
    } else {
        format!("synod sim --seed {seed} --nodes {nodes} --trace")
    }
}

/// Runs one seed: the fault phase, the quiet phase, then the end-of-run
/// checks. A replica assertion failure is reported as the "assertion" check.
pub fn run_seed(seed: u64, opts: &SimOptions) -> SeedOutcome {
    let mut world = World::new(seed, opts);
    let ran = catch_unwind(AssertUnwindSafe(|| {
        world.run();
        if world.violation.is_none() {
            if let Err(v) = final_checks(&world) {
                world.fail(v);
            }
        }
    }));
    if let Err(panic) = ran {
        let detail = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".to_string());
        world.fail(Violation::new("assertion", format!("at {} ms: {detail}", world.now_ms)));
    }
    let mut stats = world.stats.clone();
    for entry in &world.history {
        use crate::history::{Operation, Outcome};
        match (&entry.operation, &entry.outcome) {
            (Operation::Append { .. }, Outcome::Ok { .. }) => stats.appends_ok += 1,
            (Operation::Append { .. }, Outcome::Unknown | Outcome::Pending) => stats.appends_unknown += 1,
            (Operation::Append { .. }, Outcome::Fail { .. }) => stats.appends_failed += 1,
            (Operation::Read, Outcome::Ok { .. }) => stats.reads_ok += 1,
            _ => {}
        }
    }
    stats.max_slot = world.chosen.keys().next_back().copied().unwrap_or(0);
    stats.duplicates_skipped = world.nodes.values().map(|n| n.machine.duplicates).max().unwrap_or(0);
    let verdict = match world.violation.take() {
        None => Verdict::Ok,
        Some(v) => Verdict::Violation { check: v.check, detail: v.detail },
    };
    SeedOutcome {
        seed,
        nodes: opts.nodes,
        verdict,
        stats,
        trace_hash: world.trace.hash(),
        trace: std::mem::take(&mut world.trace.lines),
        history: std::mem::take(&mut world.history),
    }
}

fn final_checks(world: &World) -> Result<(), Violation> {
    let machines: Vec<(u8, &crate::state_machine::LogMachine)> =
        world.nodes.iter().map(|(id, n)| (*id, &n.machine)).collect();
    let ends: Vec<liveness::NodeEnd> = world
        .nodes
        .iter()
        .map(|(id, n)| liveness::NodeEnd {
            id: *id,
            up: n.is_up(),
            damaged: n.is_damaged(),
            applied_index: n.machine.applied_index,
            commit_index: n.replica.as_ref().map_or(0, |r| r.commit_index()),
        })
        .collect();
    integrity::check(&world.chosen, &machines, &world.history)?;
    linearizability::check(&world.history)?;
    liveness::check(&world.history, &ends, world.opts.quiet_ms)?;
    durability::check(&world.history, &machines)?;
    Ok(())
}

/// Result of `run_seeds`. `Display` gives the one-line summary (plus the
/// first failure and its replay command).
#[derive(Clone, Debug)]
pub struct Summary {
    pub nodes: u8,
    pub seeds_run: u64,
    pub ok: u64,
    /// Failing seeds, lowest first: (seed, check, detail).
    pub violations: Vec<(u64, &'static str, String)>,
    pub totals: SeedStats,
}

impl Summary {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = &self.totals;
        write!(
            f,
            "synod sim: {} seeds x {} nodes: {} ok, {} violations | appends ok {} unknown {} failed {}, reads {}, crashes {}, partitions {}, elections {}, snapshots {}, damaged restarts {}",
            self.seeds_run,
            self.nodes,
            self.ok,
            self.violations.len(),
            t.appends_ok,
            t.appends_unknown,
            t.appends_failed,
            t.reads_ok,
            t.crashes,
            t.partitions,
            t.elections_won,
            t.snapshots_installed,
            t.damaged_restarts
        )?;
        if let Some((seed, check, detail)) = self.violations.first() {
            write!(f, "\nFAILED seed {seed}: {check}: {detail}\nreplay: {}", replay_command(*seed, self.nodes))?;
        }
        Ok(())
    }
}

/// Runs `opts.seeds` seeds from `opts.seed_start` on `opts.threads` threads.
/// Seeds are independent, so the verdicts do not depend on the thread count;
/// with `stop_on_violation` the workers stop claiming new seeds after the
/// first failure (seeds already claimed still finish).
pub fn run_seeds(opts: &SimOptions) -> Summary {
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads };
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<(u64, Verdict, SeedStats)>> = Mutex::new(Vec::new());
    let quiet_opts = SimOptions { trace: false, ..opts.clone() };
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= opts.seeds {
                    break;
                }
                let outcome = run_seed(opts.seed_start + i, &quiet_opts);
                if !outcome.is_ok() && opts.stop_on_violation {
                    stop.store(true, Ordering::Relaxed);
                }
                results.lock().expect("no poisoned lock").push((outcome.seed, outcome.verdict, outcome.stats));
            });
        }
    });
    let mut results = results.into_inner().expect("no poisoned lock");
    results.sort_by_key(|(seed, _, _)| *seed);
    let mut summary = Summary {
        nodes: opts.nodes,
        seeds_run: results.len() as u64,
        ok: 0,
        violations: Vec::new(),
        totals: SeedStats::default(),
    };
    for (seed, verdict, stats) in results {
        summary.totals.add(&stats);
        match verdict {
            Verdict::Ok => summary.ok += 1,
            Verdict::Violation { check, detail } => summary.violations.push((seed, check, detail)),
        }
    }
    summary
}
