//! Running seeds and reporting: [`run_pow_seed`], [`run_pow_seeds`],
//! [`PowSeedOutcome`], [`PowSummary`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::sim::checks::Violation;
use crate::sim::options::PowSimOptions;
use crate::sim::world::World;

/// Counters of one seed (summed over seeds in [`PowSummary`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PowSeedStats {
    /// Blocks mined by honest nodes.
    pub blocks_mined: u64,
    /// Tampered blocks sent.
    pub tampered_blocks: u64,
    /// Deliveries of tampered blocks refused as invalid.
    pub invalid_rejected: u64,
    /// Branch switches, over all nodes.
    pub reorgs: u64,
    /// Deepest branch switch of any node.
    pub max_reorg_depth: u64,
    /// Blocks that arrived before their parent.
    pub orphaned: u64,
    /// Transfers of rolled-back blocks back in a mempool.
    pub returned_to_mempool: u64,
    /// Transfers clients submitted.
    pub transfers_submitted: u64,
    /// Of those, admitted by the first node.
    pub transfers_accepted: u64,
    /// Conflicting pairs sent to both sides of a partition.
    pub double_spends: u64,
    /// Transfers in the final best chain.
    pub transfers_confirmed: u64,
    /// Height of the final best chain.
    pub final_height: u64,
    /// Partitions.
    pub partitions: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Messages lost or cut by a partition.
    pub messages_dropped: u64,
    /// Messages the network delivered twice.
    pub duplicated: u64,
    /// Sync rounds needed to converge after healing.
    pub settle_rounds: u64,
    /// Offences the attacker sent.
    pub attacks: u64,
    /// Of its blocks, those refused as invalid.
    pub attacks_refused: u64,
    /// Nodes that banned the attacker.
    pub bans: u64,
    /// Misbehaviour points charged to honest peers (network duplicates only).
    pub honest_misbehaviour: u64,
    /// How many blocks behind the late node joined (the most of any seed).
    pub late_join_gap: u64,
    /// Full header batches the late node received (each asks for the next).
    pub late_header_batches_full: u64,
}

impl PowSeedStats {
    fn add(&mut self, o: &PowSeedStats) {
        self.blocks_mined += o.blocks_mined;
        self.tampered_blocks += o.tampered_blocks;
        self.invalid_rejected += o.invalid_rejected;
        self.reorgs += o.reorgs;
        self.max_reorg_depth = self.max_reorg_depth.max(o.max_reorg_depth);
        self.orphaned += o.orphaned;
        self.returned_to_mempool += o.returned_to_mempool;
        self.transfers_submitted += o.transfers_submitted;
        self.transfers_accepted += o.transfers_accepted;
        self.double_spends += o.double_spends;
        self.transfers_confirmed += o.transfers_confirmed;
        self.final_height = self.final_height.max(o.final_height);
        self.partitions += o.partitions;
        self.messages += o.messages;
        self.messages_dropped += o.messages_dropped;
        self.settle_rounds = self.settle_rounds.max(o.settle_rounds);
        self.duplicated += o.duplicated;
        self.attacks += o.attacks;
        self.attacks_refused += o.attacks_refused;
        self.bans += o.bans;
        self.honest_misbehaviour += o.honest_misbehaviour;
        self.late_join_gap = self.late_join_gap.max(o.late_join_gap);
        self.late_header_batches_full += o.late_header_batches_full;
    }
}

/// How one seed went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowSeedOutcome {
    /// The seed.
    pub seed: u64,
    /// `None` if every check passed.
    pub violation: Option<Violation>,
    /// Counters.
    pub stats: PowSeedStats,
    /// Fingerprint of the run: equal for equal seeds and options.
    pub trace_hash: u64,
    /// One line per event, with `opts.trace`.
    pub trace: Vec<String>,
}

impl PowSeedOutcome {
    /// True if every check passed.
    pub fn is_ok(&self) -> bool {
        self.violation.is_none()
    }
}

/// The command that replays `seed`.
pub fn pow_replay_command(seed: u64, opts: &PowSimOptions) -> String {
    let mut cmd = format!("synod sim --consensus pow --seed {seed}");
    if opts.nodes != PowSimOptions::default().nodes {
        cmd.push_str(&format!(" --nodes {}", opts.nodes));
    }
    cmd
}

/// Runs one seed: deterministic in `seed` and `opts`. A panic (an
/// `assert!` of the chain code) is reported as a violation, not propagated.
pub fn run_pow_seed(seed: u64, opts: &PowSimOptions) -> PowSeedOutcome {
    let mut world = World::new(seed, opts);
    let ran = catch_unwind(AssertUnwindSafe(|| world.run()));
    let violation = match ran {
        Ok(Ok(())) => None,
        Ok(Err(v)) => Some(v),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".to_string());
            Some(Violation { check: "panic", detail })
        }
    };
    PowSeedOutcome { seed, violation, stats: world.stats, trace_hash: world.trace_hash, trace: world.trace }
}

/// Totals of a run of seeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowSummary {
    /// The options run.
    pub opts: PowSimOptions,
    /// Seeds that ran.
    pub seeds_run: u64,
    /// Seeds that passed.
    pub ok: u64,
    /// Failing seeds, lowest first.
    pub violations: Vec<(u64, Violation)>,
    /// Summed counters.
    pub totals: PowSeedStats,
}

impl PowSummary {
    /// True if every seed passed.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

impl std::fmt::Display for PowSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = &self.totals;
        write!(
            f,
            "synod sim --consensus pow: {} seeds x {} nodes: {} ok, {} violations | blocks mined {}, reorgs {} (deepest {}), orphans {}, partitions {}, transfers confirmed {} of {} submitted, double spends {}, returned to mempool {}, tampered blocks {} (refused {}), attacker banned {} times after {} offences, late joiner {} full header batches (up to {} blocks behind)",
            self.seeds_run,
            self.opts.nodes,
            self.ok,
            self.violations.len(),
            t.blocks_mined,
            t.reorgs,
            t.max_reorg_depth,
            t.orphaned,
            t.partitions,
            t.transfers_confirmed,
            t.transfers_submitted,
            t.double_spends,
            t.returned_to_mempool,
            t.tampered_blocks,
            t.invalid_rejected,
            t.bans,
            t.attacks,
            t.late_header_batches_full,
            t.late_join_gap,
        )?;
        if let Some((seed, v)) = self.violations.first() {
            write!(
                f,
                "\nFAILED seed {seed}: {}: {}\nreplay: {}",
                v.check,
                v.detail,
                pow_replay_command(*seed, &self.opts)
            )?;
        }
        Ok(())
    }
}

/// Runs `opts.seeds` seeds from `opts.seed_start` on `opts.threads` threads
/// (0: all cores). Seeds are independent, so verdicts do not depend on the
/// thread count.
pub fn run_pow_seeds(opts: &PowSimOptions) -> PowSummary {
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads };
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<PowSeedOutcome>> = Mutex::new(Vec::new());
    let quiet = PowSimOptions { trace: false, ..opts.clone() };
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
                let outcome = run_pow_seed(opts.seed_start + i, &quiet);
                if !outcome.is_ok() && opts.stop_on_violation {
                    stop.store(true, Ordering::Relaxed);
                }
                results.lock().expect("no poisoned lock").push(outcome);
            });
        }
    });
    let mut results = results.into_inner().expect("no poisoned lock");
    results.sort_by_key(|o| o.seed);
    let mut summary = PowSummary {
        opts: opts.clone(),
        seeds_run: results.len() as u64,
        ok: 0,
        violations: Vec::new(),
        totals: PowSeedStats::default(),
    };
    for o in results {
        summary.totals.add(&o.stats);
        match o.violation {
            None => summary.ok += 1,
            Some(v) => summary.violations.push((o.seed, v)),
        }
    }
    summary
}
