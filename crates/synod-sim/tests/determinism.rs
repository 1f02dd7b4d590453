//! One seed reproduces a run exactly.

use synod_sim::{run_seed, run_seeds, SimOptions};

#[test]
fn same_seed_twice_gives_the_same_trace() {
    for nodes in [3u8, 5] {
        let opts = SimOptions { nodes, trace: true, ..SimOptions::default() };
        let a = run_seed(77, &opts);
        let b = run_seed(77, &opts);
        assert!(a.trace.len() > 100);
        assert_eq!(a.trace_hash, b.trace_hash);
        assert_eq!(a.trace, b.trace);
        assert_eq!(a.history, b.history);
        assert_eq!(a.stats, b.stats);
        let c = run_seed(78, &opts);
        assert_ne!(a.trace_hash, c.trace_hash, "different seeds differ");
    }
}

#[test]
fn signed_seeds_replay_exactly_too() {
    let opts = SimOptions { signed_seed_chance: 1.0, trace: true, ..SimOptions::default() };
    let a = run_seed(11, &opts);
    let b = run_seed(11, &opts);
    assert!(a.is_ok(), "{:?}", a.verdict);
    assert!(a.trace[0].contains("auth Ed25519"), "{}", a.trace[0]);
    assert_eq!(a.stats.signed_seeds, 1);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.history, b.history);
}

#[test]
fn tracing_does_not_change_the_run() {
    let quiet = run_seed(5, &SimOptions::default());
    let traced = run_seed(5, &SimOptions { trace: true, ..SimOptions::default() });
    assert_eq!(quiet.history, traced.history);
    assert_eq!(quiet.stats, traced.stats);
}

#[test]
fn thread_count_does_not_change_the_verdicts() {
    let one = run_seeds(&SimOptions { seeds: 40, threads: 1, ..SimOptions::default() });
    let two = run_seeds(&SimOptions { seeds: 40, threads: 2, ..SimOptions::default() });
    assert_eq!(one.to_string(), two.to_string());
}
