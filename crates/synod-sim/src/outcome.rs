//! Running seeds and reporting: `run_seed`, `run_seeds`, `SeedOutcome`,
//! `Summary`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use synod_core::ledger::SignaturePolicy;
use synod_paxos::Command;

use crate::checks::{
    block_agreement, config, durability, integrity, linearizability, liveness, quorum, state_agreement, Violation,
};
use crate::history::HistoryEntry;
use crate::options::SimOptions;
use crate::state_machine::{replay, LedgerMachine};
use crate::world::World;

/// Counters for one seed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedStats {
    pub submits_ok: u64,
    pub submits_unknown: u64,
    pub submits_failed: u64,
    pub reads_ok: u64,
    /// Transfers answered committed for the first time / as duplicates.
    pub transfers_committed: u64,
    pub duplicate_answers: u64,
    /// Transfers rejected by the ledger when their slot applied / refused
    /// by the leader before consensus.
    pub transfers_rejected: u64,
    pub transfers_refused: u64,
    /// Transfers answered `rejected` by the ledger that a still pending copy
    /// (an earlier attempt of the same request) committed later anyway.
    pub rejected_then_committed: u64,
    /// Slots a restarted node skipped because its durable ledger had them.
    pub slots_skipped: u64,
    /// Height and size of the longest ledger at the end.
    pub blocks: u64,
    pub ledger_transfers: u64,
    /// Blocks made or installed, summed over nodes.
    pub blocks_made: u64,
    pub signed_seeds: u64,
    pub messages: u64,
    pub crashes: u64,
    pub partitions: u64,
    pub elections_won: u64,
    /// Membership changes chosen (Configs with other members than the one
    /// before), and those the leader refused (`ReconfigError`).
    pub config_changes: u64,
    pub config_refusals: u64,
    pub snapshots_installed: u64,
    pub damaged_restarts: u64,
    /// Restarts refused because the ledger did not read back cleanly.
    pub unreadable_restarts: u64,
    /// Crashes that struck inside a commit.
    pub commit_crashes: u64,
    /// Snapshot chunks installed, and refused (damaged on the way).
    pub snapshot_chunks: u64,
    pub chunks_refused: u64,
    pub max_slot: u64,
}

impl SeedStats {
    fn add(&mut self, o: &SeedStats) {
        self.submits_ok += o.submits_ok;
        self.submits_unknown += o.submits_unknown;
        self.submits_failed += o.submits_failed;
        self.reads_ok += o.reads_ok;
        self.transfers_committed += o.transfers_committed;
        self.duplicate_answers += o.duplicate_answers;
        self.transfers_rejected += o.transfers_rejected;
        self.transfers_refused += o.transfers_refused;
        self.rejected_then_committed += o.rejected_then_committed;
        self.slots_skipped += o.slots_skipped;
        self.blocks += o.blocks;
        self.ledger_transfers += o.ledger_transfers;
        self.blocks_made += o.blocks_made;
        self.signed_seeds += o.signed_seeds;
        self.messages += o.messages;
        self.crashes += o.crashes;
        self.partitions += o.partitions;
        self.elections_won += o.elections_won;
        self.config_changes += o.config_changes;
        self.config_refusals += o.config_refusals;
        self.snapshots_installed += o.snapshots_installed;
        self.damaged_restarts += o.damaged_restarts;
        self.unreadable_restarts += o.unreadable_restarts;
        self.commit_crashes += o.commit_crashes;
        self.snapshot_chunks += o.snapshot_chunks;
        self.chunks_refused += o.chunks_refused;
        self.max_slot = self.max_slot.max(o.max_slot);
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
    /// The `synod sim` command that replays this seed.
    pub replay: String,
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
        self.replay.clone()
    }
}

/// The `synod sim` command that replays `seed` under `opts`: every option
/// the command line has that differs from its default (injected bugs and
/// fault bounds have no flag; only tests set them).
pub fn replay_command(seed: u64, opts: &SimOptions) -> String {
    let defaults = SimOptions::default();
    let mut command = format!("synod sim --seed {seed}");
    if opts.nodes != defaults.nodes {
        command.push_str(&format!(" --nodes {}", opts.nodes));
    }
    if opts.reconfig {
        command.push_str(" --reconfig");
    }
    if opts.fault_ms != defaults.fault_ms {
        command.push_str(&format!(" --fault-ms {}", opts.fault_ms));
    }
    if opts.quiet_ms != defaults.quiet_ms {
        command.push_str(&format!(" --quiet-ms {}", opts.quiet_ms));
    }
    command.push_str(" --trace");
    command
}

/// Runs one seed: the fault phase, the quiet phase, then the end-of-run
/// checks. A replica assertion failure is reported as the "assertion" check.
pub fn run_seed(seed: u64, opts: &SimOptions) -> SeedOutcome {
    let mut world = World::new(seed, opts);
    let ran = catch_unwind(AssertUnwindSafe(|| {
        world.run();
        if world.violation.is_none() {
            // LedgerBugs::non_atomic_apply defers block writes; what matters
            // is what a crash did to them, not what is still in flight.
            for node in world.nodes.values_mut() {
                node.machine.flush_unwritten().expect("power is on in the quiet phase");
            }
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
        use crate::history::{Operation, Outcome, Stage, TransferResult};
        match (&entry.operation, &entry.outcome) {
            (Operation::Submit { .. }, Outcome::Ok { results, .. }) => {
                stats.submits_ok += 1;
                for result in results {
                    match result {
                        TransferResult::Committed { duplicate: false, .. } => stats.transfers_committed += 1,
                        TransferResult::Committed { duplicate: true, .. } => stats.duplicate_answers += 1,
                        TransferResult::Rejected { stage: Stage::Apply, .. } => stats.transfers_rejected += 1,
                        TransferResult::Rejected { stage: Stage::Verify, .. } => stats.transfers_refused += 1,
                    }
                }
            }
            (Operation::Submit { .. }, Outcome::Unknown | Outcome::Pending) => stats.submits_unknown += 1,
            (Operation::Submit { .. }, Outcome::Fail { .. }) => stats.submits_failed += 1,
            (Operation::Read { .. }, Outcome::Ok { .. }) => stats.reads_ok += 1,
            _ => {}
        }
    }
    if let Some(longest) = world.nodes.values().max_by_key(|n| n.machine.height()) {
        let store = &longest.machine;
        stats.rejected_then_committed = world
            .history
            .iter()
            .flat_map(|e| e.pairs())
            .filter(|(call, result)| {
                matches!(result, crate::history::TransferResult::Rejected { stage: crate::history::Stage::Apply, .. })
                    && store.position(&call.id).is_some()
            })
            .count() as u64;
    }
    stats.max_slot = world.chosen.keys().next_back().copied().unwrap_or(0);
    let mut current = world.config.clone();
    for config in world.chosen.values().filter_map(Command::config) {
        if !config.same_members(&current) {
            stats.config_changes += 1;
            current = config.clone();
        }
    }
    stats.blocks = world.nodes.values().map(|n| n.machine.height()).max().unwrap_or(0);
    stats.ledger_transfers = world.nodes.values().map(|n| n.machine.ledger().tree().len()).max().unwrap_or(0);
    stats.signed_seeds = u64::from(world.workload.auth == synod_core::AuthMode::Ed25519);
    let verdict = match world.violation.take() {
        None => Verdict::Ok,
        Some(v) => Verdict::Violation { check: v.check, detail: v.detail },
    };
    SeedOutcome {
        seed,
        nodes: opts.nodes,
        replay: replay_command(seed, opts),
        verdict,
        stats,
        trace_hash: world.trace.hash(),
        trace: std::mem::take(&mut world.trace.lines),
        history: std::mem::take(&mut world.history),
    }
}

/// The end-of-run checks, safety first; liveness before the checks that
/// need converged nodes.
fn final_checks(world: &World) -> Result<(), Violation> {
    let genesis = &world.workload.genesis;
    let nodes: Vec<(u8, &LedgerMachine)> = world.nodes.iter().map(|(id, n)| (*id, &n.machine)).collect();
    block_agreement::check_all(&world.blocks, &nodes)?;
    integrity::check(&world.history, &nodes)?;
    // The longest chain holds every other (block agreement): the reference.
    let (reference_id, reference_machine) =
        *nodes.iter().max_by_key(|(id, m)| (m.height(), std::cmp::Reverse(*id))).expect("nodes");
    let reference = replay(genesis, &reference_machine.blocks(), SignaturePolicy::Verify).map_err(|e| {
        Violation::new("state_agreement", format!("node {reference_id}: its blocks do not replay from genesis: {e}"))
    })?;
    linearizability::check(&world.history)?;
    linearizability::check_ledger(&world.history, &reference)?;
    let ends: Vec<liveness::NodeEnd> = world
        .nodes
        .iter()
        .map(|(id, n)| liveness::NodeEnd {
            id: *id,
            up: n.is_up(),
            damaged: n.is_damaged(),
            applied_index: n.machine.applied(),
            commit_index: n.replica.as_ref().map_or(0, |r| r.commit_index()),
        })
        .collect();
    liveness::check(&world.history, &ends, world.opts.quiet_ms)?;
    state_agreement::check(genesis, &nodes, (reference_id, &reference))?;
    durability::check(&world.history, &nodes)?;
    let configs: Vec<config::NodeConfig<'_>> = world
        .nodes
        .iter()
        .filter_map(|(id, n)| {
            let replica = n.replica.as_ref().filter(|_| n.is_up())?;
            Some(config::NodeConfig {
                id: *id,
                effective: replica.config(),
                applied_index: replica.applied_index(),
                recorded: n.machine.applied_config(),
            })
        })
        .collect();
    config::check(&world.config, &world.chosen, world.stats.elections_won, &configs)?;
    quorum::check_governing(&world.config, &world.chosen, &world.quorums)?;
    Ok(())
}

/// Result of `run_seeds`. `Display` gives the one-line summary (plus the
/// first failure and its replay command).
#[derive(Clone, Debug)]
pub struct Summary {
    pub nodes: u8,
    /// The options of the run, for the replay command.
    pub opts: SimOptions,
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
            "synod sim: {} seeds x {} nodes{}: {} ok, {} violations | submits ok {} unknown {} failed {}, reads {}, transfers committed {} (+{} duplicate answers) rejected {} (later committed {}) refused {}, blocks {}, signed seeds {}, restart skips {}, crashes {}, partitions {}, elections {}, membership changes {} ({} refused), snapshots {} ({} chunks, {} refused), damaged restarts {}, unreadable restarts {}, crashes inside a commit {}",
            self.seeds_run,
            self.nodes,
            if self.opts.reconfig { " (a pool, membership changing)" } else { "" },
            self.ok,
            self.violations.len(),
            t.submits_ok,
            t.submits_unknown,
            t.submits_failed,
            t.reads_ok,
            t.transfers_committed,
            t.duplicate_answers,
            t.transfers_rejected,
            t.rejected_then_committed,
            t.transfers_refused,
            t.blocks,
            t.signed_seeds,
            t.slots_skipped,
            t.crashes,
            t.partitions,
            t.elections_won,
            t.config_changes,
            t.config_refusals,
            t.snapshots_installed,
            t.snapshot_chunks,
            t.chunks_refused,
            t.damaged_restarts,
            t.unreadable_restarts,
            t.commit_crashes
        )?;
        if let Some((seed, check, detail)) = self.violations.first() {
            write!(f, "\nFAILED seed {seed}: {check}: {detail}\nreplay: {}", replay_command(*seed, &self.opts))?;
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
        opts: quiet_opts.clone(),
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
