//! The main safety and liveness run: many seeds, every check on.

use std::time::Instant;

use synod_sim::{run_seeds, SimOptions};

#[test]
fn thousand_seeds_three_nodes_pass_every_check() {
    let start = Instant::now();
    let summary = run_seeds(&SimOptions { nodes: 3, seed_start: 0, seeds: 1_000, ..SimOptions::default() });
    println!("{summary} ({:?})", start.elapsed());
    assert!(summary.passed(), "{summary}");
    assert_eq!(summary.seeds_run, 1_000);
    // The faults really happened.
    let t = &summary.totals;
    assert!(
        t.crashes > 1_000 && t.partitions > 1_000 && t.snapshots_installed > 50 && t.damaged_restarts > 20,
        "{summary}"
    );
    assert!(t.submits_ok > 50_000 && t.reads_ok > 10_000 && t.submits_failed > 0, "{summary}");
    // The ledger really ran: transfers committed, every kind of answer given,
    // signed and unsigned seeds both.
    assert!(
        t.transfers_committed > 50_000
            && t.duplicate_answers > 1_000
            && t.transfers_rejected > 1_000
            && t.transfers_refused > 100
            && t.signed_seeds > 100
            && t.signed_seeds < 900,
        "{summary}"
    );
}

#[test]
fn five_node_seeds_pass_every_check() {
    let start = Instant::now();
    let summary = run_seeds(&SimOptions { nodes: 5, seed_start: 1_000_000, seeds: 300, ..SimOptions::default() });
    println!("{summary} ({:?})", start.elapsed());
    assert!(summary.passed(), "{summary}");
    assert_eq!(summary.seeds_run, 300);
}

#[test]
fn seven_node_seeds_pass_every_check() {
    // Seven members with the directed partition graphs (splits, bridges,
    // one-way cuts, random graphs, switched during the fault phase): the
    // shapes where one node follows a leader while acknowledging another.
    let start = Instant::now();
    let summary = run_seeds(&SimOptions {
        nodes: 7,
        seed_start: 7_000_000,
        seeds: SEVEN_NODE_SEEDS,
        fault_ms: 2_000,
        quiet_ms: 2_000,
        ..SimOptions::default()
    });
    println!("{summary} ({:?})", start.elapsed());
    assert!(summary.passed(), "{summary}");
    assert_eq!(summary.seeds_run, SEVEN_NODE_SEEDS);
    let t = &summary.totals;
    assert!(t.partitions > 2 * SEVEN_NODE_SEEDS && t.crashes > SEVEN_NODE_SEEDS, "{summary}");
}

const SEVEN_NODE_SEEDS: u64 = 1_000;

#[test]
fn reconfiguration_seeds_pass_every_check() {
    // A pool of five, then of seven node ids; the cluster starts with three
    // and the leader is asked every few hundred ms to add or remove one
    // member, under the same crashes, partitions and message loss. With
    // seven, clusters of up to seven members meet the seven-node partition
    // shapes (bridges, one-way cuts).
    for (nodes, seed_start, seeds) in [(5, 10_000_000, RECONFIG_SEEDS_POOL_5), (7, 11_000_000, RECONFIG_SEEDS_POOL_7)] {
        let start = Instant::now();
        let summary = run_seeds(&SimOptions {
            nodes,
            reconfig: true,
            seed_start,
            seeds,
            fault_ms: 2_000,
            quiet_ms: 2_000,
            ..SimOptions::default()
        });
        println!("{summary} ({:?})", start.elapsed());
        assert!(summary.passed(), "{summary}");
        assert_eq!(summary.seeds_run, seeds);
        let t = &summary.totals;
        assert!(t.config_changes > 2 * seeds, "membership really changed: {summary}");
        assert!(t.snapshots_installed > 0, "members caught up by snapshot: {summary}");
    }
}

const RECONFIG_SEEDS_POOL_5: u64 = 150;
const RECONFIG_SEEDS_POOL_7: u64 = 300;

#[test]
fn pool_of_seven_regression_seeds() {
    // Seeds that failed with a pool of seven before their fixes:
    // - 11000000: a snapshot install skipped a change ([1, 2, 3] + 5 at
    //   slot 12) and its undoing (slot 17); the receiving store kept
    //   [1, 2, 3] from slot 1 instead of the sender's slot 17, served that
    //   in its own descriptor, and a member that had applied slot 12
    //   refused it (synod-storage `ConfigSource::Snapshot`);
    // - 11000554, 11000612, 11000645, 11001185, 11002246: a re-elected
    //   leader re-proposed a change it already knew chosen above a gap and
    //   never cleared its pending change, answering every proposal
    //   `ConfigChangePending` for as long as it led (liveness; synod-paxos
    //   `learn_chosen`).
    let opts = SimOptions { nodes: 7, reconfig: true, fault_ms: 2_000, quiet_ms: 2_000, ..SimOptions::default() };
    for seed in [11_000_000, 11_000_554, 11_000_612, 11_000_645, 11_001_185, 11_002_246] {
        let outcome = synod_sim::run_seed(seed, &opts);
        assert_eq!(outcome.verdict, synod_sim::Verdict::Ok, "seed {seed}: {}", outcome.replay_command());
        assert!(outcome.stats.config_changes > 0, "seed {seed}: {:?}", outcome.stats);
    }
    let first = synod_sim::run_seed(11_000_000, &opts);
    assert!(first.stats.snapshots_installed > 0 && first.stats.config_changes > 2, "{:?}", first.stats);
}
