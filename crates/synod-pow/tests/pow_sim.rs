//! The proof-of-work network simulator: at least 100 seeds through
//! partitions that fork the chain, nodes running the gossip core over lossy
//! links, a late joiner and an attacker, with every check of `synod_pow::sim`.

use std::time::Instant;

use synod_pow::sim::{run_pow_seed, run_pow_seeds, PowSimOptions};

#[test]
fn one_hundred_seeds_converge_with_exact_state_and_supply() {
    let opts = PowSimOptions { seeds: 100, threads: 2, ..PowSimOptions::default() };
    let started = Instant::now();
    let summary = run_pow_seeds(&opts);
    println!("{summary}\n({:.1} s)", started.elapsed().as_secs_f64());
    assert!(summary.passed(), "{summary}");
    assert_eq!(summary.seeds_run, 100);
    let t = &summary.totals;
    // The runs really exercised forks, reorgs, orphans and double spends.
    assert!(t.reorgs >= 100 && t.max_reorg_depth >= 3, "{summary}");
    assert!(t.orphaned > 0 && t.partitions >= 100 && t.double_spends > 0, "{summary}");
    assert!(t.returned_to_mempool > 0 && t.invalid_rejected > 0, "{summary}");
    assert!(t.transfers_confirmed > 1000, "{summary}");
    // The gossip core was really exercised: lossy and duplicating links, a
    // late joiner syncing more than two header batches behind, an attacker
    // banned by the nodes it reached.
    assert!(t.duplicated > 0 && t.messages_dropped > 0, "{summary}");
    assert!(t.late_join_gap > 2 * opts.headers_max as u64, "{summary}");
    assert!(t.late_header_batches_full >= 2 * summary.seeds_run, "{summary}");
    assert!(t.bans >= 3 * summary.seeds_run && t.attacks_refused > 0, "{summary}");
}

#[test]
fn a_seed_replays_identically() {
    let opts = PowSimOptions { trace: true, ..PowSimOptions::default() };
    let a = run_pow_seed(7, &opts);
    let b = run_pow_seed(7, &opts);
    assert!(a.is_ok(), "{:?}", a.violation);
    assert_eq!(a, b);
    assert!(!a.trace.is_empty());
    assert_ne!(run_pow_seed(8, &opts).trace_hash, a.trace_hash);
}

#[test]
fn other_network_shapes() {
    for (nodes, orphans) in [(2u8, 2usize), (7, 4), (16, 32)] {
        let opts = PowSimOptions {
            seeds: 6,
            seed_start: 1000,
            nodes,
            orphan_blocks: orphans,
            threads: 2,
            ..PowSimOptions::default()
        };
        let summary = run_pow_seeds(&opts);
        assert!(summary.passed(), "{summary}");
    }
}
