//! Simulation options. Fault intensities are drawn per seed ("swarm
//! testing"): each seed picks its own loss rate, delay range, crash rate and
//! so on inside the bounds below, so a thousand seeds cover calm and stormy
//! runs alike.

use synod_paxos::BugInjection;

#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Cluster size: 3, 5 or 7. With `reconfig`, the pool of node ids.
    pub nodes: u8,
    /// Membership changes under faults: the cluster starts with nodes 1..=3
    /// of the pool (the others run as learners) and, during the fault
    /// phase, the leader is asked every few hundred ms to add or remove one
    /// member (3..=pool members), one change at a time (`world.rs`,
    /// `reconfigure`).
    pub reconfig: bool,
    pub seed_start: u64,
    pub seeds: u64,
    /// Record human-readable trace lines (slower).
    pub trace: bool,
    #[doc(hidden)]
    pub bugs: BugInjection,
    #[doc(hidden)]
    pub ledger_bugs: LedgerBugs,
    pub clients: u8,
    /// Simulated time with faults, then with the network healed and every
    /// node up. Liveness is judged at the end of the quiet phase.
    pub fault_ms: u64,
    pub quiet_ms: u64,
    pub faults: FaultBounds,
    /// Worker threads for `run_seeds` (0: available parallelism).
    pub threads: usize,
    /// Stop `run_seeds` at the first violation.
    pub stop_on_violation: bool,
    /// Chance a seed's genesis requires Ed25519 signatures (every transfer
    /// signed and verified); the other seeds run trusted-client mode
    /// (`AuthMode::None`, unsigned transfers). See `workload.rs`.
    pub signed_seed_chance: f64,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            nodes: 3,
            reconfig: false,
            seed_start: 0,
            seeds: 100,
            trace: false,
            bugs: BugInjection::default(),
            ledger_bugs: LedgerBugs::default(),
            clients: 3,
            fault_ms: 3_000,
            quiet_ms: 3_000,
            faults: FaultBounds::default(),
            threads: 0,
            stop_on_violation: true,
            signed_seed_chance: 0.25,
        }
    }
}

/// Deliberate bugs in the simulator's copy of the node's applier and
/// ledger storage, for the teeth tests of the ledger checks.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerBugs {
    /// After a restart, also skip the first slot above the durable applied slot.
    pub skip_slot_after_restart: bool,
    /// The applied slot is written at once, its block only along with the
    /// next block (two transactions, not one): a crash in between loses the
    /// block but keeps its slot.
    pub non_atomic_apply: bool,
    /// Never answer a resubmission as a committed duplicate.
    pub no_duplicate_resolution: bool,
    /// Each node stamps blocks with its own time, not the payload's.
    pub local_timestamp: bool,
}

/// Upper bounds of the per-seed fault intensities.
#[derive(Clone, Debug)]
pub struct FaultBounds {
    /// Probability a message is lost.
    pub loss_max: f64,
    /// Probability a message is delivered twice.
    pub duplicate_max: f64,
    /// One-way network delay is uniform in `[1, delay_max]`, drawn per seed
    /// from `[5, delay_ms_max]`.
    pub delay_ms_max: u64,
    /// Probability a message is delayed by up to `long_delay_ms_max`
    /// (stale messages arriving late).
    pub long_delay_chance: f64,
    pub long_delay_ms_max: u64,
    /// Mean time between crashes during the fault phase (per seed, in
    /// `[crash_interval_ms_min, 4x]`; 0 disables crashes).
    pub crash_interval_ms_min: u64,
    pub down_ms_max: u64,
    /// Mean time between partitions (per seed, like crashes).
    pub partition_interval_ms_min: u64,
    pub partition_ms_max: u64,
    /// fsync latency is uniform in `[1, x]` with x drawn from
    /// `[1, sync_ms_max]`.
    pub sync_ms_max: u64,
    /// Chance a seed enables read corruption; then each Paxos record read on
    /// restart is damaged with probability up to `corrupt_read_max` (ledger
    /// values 20× less often, see `disk.rs`).
    pub corrupt_seed_chance: f64,
    pub corrupt_read_max: f64,
    /// Chance a seed compacts its consensus log (every 10–80 slots), so that
    /// lagging replicas need snapshots.
    pub compact_chance: f64,
    /// Each snapshot chunk is damaged on its way with a per-seed probability
    /// up to this, during the fault phase (the chunk checksum must catch it).
    pub chunk_damage_max: f64,
    /// Chance the quiet phase starts with a full-cluster restart: every node
    /// crashes and restarts at the same instant.
    pub cluster_restart_chance: f64,
    /// Clock rate error bound: each node's clock runs at `1 ± drift`
    /// relative to true simulated time, `drift <= clock_drift_ppm_max`.
    pub clock_drift_ppm_max: u64,
}

impl Default for FaultBounds {
    fn default() -> FaultBounds {
        FaultBounds {
            loss_max: 0.15,
            duplicate_max: 0.05,
            delay_ms_max: 40,
            long_delay_chance: 0.01,
            long_delay_ms_max: 600,
            crash_interval_ms_min: 300,
            down_ms_max: 800,
            partition_interval_ms_min: 300,
            partition_ms_max: 900,
            sync_ms_max: 8,
            corrupt_seed_chance: 0.2,
            corrupt_read_max: 0.02,
            compact_chance: 0.7,
            chunk_damage_max: 0.2,
            cluster_restart_chance: 0.1,
            clock_drift_ppm_max: 50_000,
        }
    }
}
