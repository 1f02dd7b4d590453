//! The checks have teeth: each injected protocol bug is reported within a
//! fixed number of seeds. If one of these starts passing, a check went blind.

use synod_sim::{run_seeds, BugInjection, LedgerBugs, SimOptions, Summary};

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
            .filter(|(_, check, _)| {
                matches!(
                    *check,
                    "agreement"
                        | "quorum"
                        | "block_agreement"
                        | "state_agreement"
                        | "durability"
                        | "linearizability"
                        | "integrity"
                )
            })
            .count();
        assert!(end_to_end > 0, "only assertions fired: {:?}", summary.violations.first());
    }
}

/// Bugs in the ledger layer (the simulator's model of the node's applier and
/// storage), each caught by a ledger check within the same seed bound.
fn hunt_ledger(bugs: LedgerBugs, expected: &[&str]) {
    for nodes in [3, 5] {
        let summary = run_seeds(&SimOptions { nodes, seeds: SEEDS_MAX, ledger_bugs: bugs, ..SimOptions::default() });
        println!("{summary}");
        assert!(!summary.passed(), "{bugs:?} went unnoticed in {SEEDS_MAX} seeds");
        let (_, check, detail) = &summary.violations[0];
        assert!(expected.contains(check), "{bugs:?} reported as {check}: {detail}");
    }
}

#[test]
fn skipping_a_slot_after_restart_is_caught() {
    // Story: an off-by-one in the restart skip drops the first slot the
    // durable ledger did not have; that node's chain forks from the others.
    hunt_ledger(
        LedgerBugs { skip_slot_after_restart: true, ..Default::default() },
        &["block_agreement", "durability", "state_agreement", "linearizability"],
    );
}

#[test]
fn a_block_not_durable_with_its_applied_slot_is_caught() {
    // Story: block and applied slot written in two transactions; a crash
    // between them loses the block, and the restart skips its slot.
    hunt_ledger(
        LedgerBugs { non_atomic_apply: true, ..Default::default() },
        &["block_agreement", "durability", "state_agreement", "linearizability"],
    );
}

#[test]
fn a_resubmission_answered_as_rejected_is_caught() {
    // Story: without resolve_rejection a committed transfer sent again is
    // answered bad_nonce although it is in the ledger.
    hunt_ledger(LedgerBugs { no_duplicate_resolution: true, ..Default::default() }, &["integrity"]);
}

#[test]
fn a_block_timestamp_not_taken_from_the_payload_is_caught() {
    // Story: each replica stamps the block itself; hashes differ at once.
    hunt_ledger(LedgerBugs { local_timestamp: true, ..Default::default() }, &["block_agreement"]);
}

#[test]
fn reconfiguration_without_its_safety_is_caught() {
    // Phase 1 counted against the commit point's configuration only, and
    // membership jumping by several members at once: quorums of a slot's
    // governing configuration and of the one a stale leader counts need
    // not meet. With the bug off the same seeds pass
    // (`seeds.rs`, `reconfiguration_seeds_pass_every_check`).
    let summary = run_seeds(&SimOptions {
        nodes: 5,
        reconfig: true,
        seeds: SEEDS_MAX,
        bugs: BugInjection { reconfig_unsafe: true, ..Default::default() },
        fault_ms: 2_000,
        quiet_ms: 2_000,
        stop_on_violation: false,
        ..SimOptions::default()
    });
    println!("{summary}");
    for (seed, check, detail) in summary.violations.iter().take(5) {
        println!("{seed} {check}: {}", &detail[..detail.len().min(300)]);
    }
    assert!(!summary.passed(), "bug went unnoticed in {SEEDS_MAX} seeds");
    let safety = summary.violations.iter().filter(|(_, check, _)| matches!(*check, "quorum" | "agreement")).count();
    assert!(safety > 0, "only other checks fired: {:?}", summary.violations.first());
}
