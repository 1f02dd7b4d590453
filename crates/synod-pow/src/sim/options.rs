//! Knobs of a simulated proof-of-work network.

/// What to simulate. Every field has a default that CI uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowSimOptions {
    /// Seeds to run (`run_pow_seeds`).
    pub seeds: u64,
    /// First seed.
    pub seed_start: u64,
    /// Nodes in the network (2..=16), each mining with a random share of the hash rate.
    pub nodes: u8,
    /// Funded client accounts sending transfers.
    pub clients: u8,
    /// Simulated seconds of activity (partitions, transfers) before the network heals for good.
    pub active_secs: u64,
    /// Target seconds between blocks.
    pub spacing_secs: u32,
    /// Blocks between retargets.
    pub retarget_interval: u32,
    /// The network's total hash rate as a multiple of what finds a block
    /// every `spacing_secs` at the pow limit: above 1 the first retargets
    /// raise the difficulty, so branches mined by fewer nodes later get
    /// easier than others, and the heaviest branch is not always the longest.
    pub hashrate_multiple: u32,
    /// Block subsidy at height 1.
    pub initial_reward: u64,
    /// Blocks between halvings.
    pub halving_interval: u64,
    /// Mean milliseconds between client transfers.
    pub transfer_every_ms: u64,
    /// Message latency range in milliseconds.
    pub latency_ms: (u64, u64),
    /// Messages lost outside partitions, per mille (active phase only).
    pub loss_per_mille: u32,
    /// Messages delivered twice, per mille (active phase only).
    pub dup_per_mille: u32,
    /// Mined blocks that a node also sends in a tampered (invalid) variant, per mille.
    pub tamper_per_mille: u32,
    /// Each node's block limit in transfers (sets `max_block_bytes`).
    pub block_transfers: usize,
    /// Each node's mempool bound in transfers.
    pub mempool_transfers: usize,
    /// Each node's orphan pool bound in blocks.
    pub orphan_blocks: usize,
    /// Gossip `headers_max`: small, so a late joiner needs several header rounds.
    pub headers_max: usize,
    /// The last node joins the network this many seconds in (0: from the
    /// start) and must catch up by headers-first sync.
    pub late_join_secs: u64,
    /// A misbehaving peer (no chain of its own) sends invalid blocks,
    /// headers and bytes to every node until each has banned it.
    pub attacker: bool,
    /// Milliseconds between the attacker's rounds.
    pub attack_every_ms: u64,
    /// Worker threads for `run_pow_seeds` (0: all cores).
    pub threads: usize,
    /// Stop claiming new seeds after the first failure.
    pub stop_on_violation: bool,
    /// Record a line per event (`run_pow_seed` with one seed).
    pub trace: bool,
}

impl Default for PowSimOptions {
    fn default() -> Self {
        PowSimOptions {
            seeds: 100,
            seed_start: 0,
            nodes: 4,
            clients: 6,
            active_secs: 600,
            spacing_secs: 10,
            retarget_interval: 8,
            hashrate_multiple: 4,
            initial_reward: 5_000,
            halving_interval: 30,
            transfer_every_ms: 2_000,
            latency_ms: (20, 400),
            loss_per_mille: 20,
            dup_per_mille: 10,
            tamper_per_mille: 40,
            block_transfers: 12,
            mempool_transfers: 48,
            orphan_blocks: 8,
            headers_max: 8,
            late_join_secs: 300,
            attacker: true,
            attack_every_ms: 45_000,
            threads: 0,
            stop_on_violation: false,
            trace: false,
        }
    }
}
