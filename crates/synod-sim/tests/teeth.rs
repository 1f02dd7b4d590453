//! The checks have teeth: each injected protocol bug is reported within a
//! fixed number of seeds. If one of these starts passing, a check went blind.

use synod_sim::{run_seeds, BugInjection, SimOptions, Summary};

const SEEDS_MAX: u64 = 200;

fn hunt(nodes: u8, bugs: BugInjection) -> Summary {
    let summary = run_seeds(&SimOptions { nodes, seeds: SEEDS_MAX, bugs, ..SimOptions::default() });
    println!("{summary}");
    summary
}

#[test]
fn forgetting_promises_on_restart_is_caught() {
    // Story: an acceptor that loses its promise on restart can accept an old
    // leader's proposal after promising a newer one (Paxos Made Simple P1a),
    // and a proposer can reuse its own ballot with a different value.
    for nodes in [3, 5] {
        let summary = hunt(nodes, BugInjection { forget_promise_on_restart: true, ..Default::default() });
        assert!(!summary.passed(), "bug went unnoticed in {SEEDS_MAX} seeds");
        assert!(summary.violations[0].0 < SEEDS_MAX);
        assert!(summary.to_string().contains("replay: synod sim --seed"));
    }
}

#[test]
fn accepting_below_the_promise_is_caught() {
    for nodes in [3, 5] {
        let summary = hunt(nodes, BugInjection { accept_lower_ballot: true, ..Default::default() });
        assert!(!summary.passed(), "bug went unnoticed in {SEEDS_MAX} seeds");
    }
}

#[test]
fn choosing_without_a_quorum_is_caught_by_agreement_or_durability() {
    // This bug keeps every acceptor rule intact; only the end-to-end checks
    // (agreement, durability, linearizability) or the replica's own
    // assertions can see it.
    for nodes in [3, 5] {
        let summary = run_seeds(&SimOptions {
            nodes,
            seeds: SEEDS_MAX,
            bugs: BugInjection { choose_without_quorum: true, ..Default::default() },
            stop_on_violation: false,
            ..SimOptions::default()
        });
        assert!(!summary.passed(), "bug went unnoticed in {SEEDS_MAX} seeds");
        let end_to_end = summary
            .violations
            .iter()
            .filter(|(_, check, _)| matches!(*check, "agreement" | "durability" | "linearizability" | "integrity"))
            .count();
        assert!(end_to_end > 0, "only assertions fired: {:?}", summary.violations.first());
    }
}
