//! `synod sim`: seeds, replay with a trace, history export, and the PoW network.

mod common;
use common::*;

#[test]
fn paxos_seeds_replay_and_history() {
    let out = run(&["sim", "--seeds", "8"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("8 seeds x 3 nodes: 8 ok, 0 violations"), "{}", stdout(&out));

    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("h.jsonl");
    let a = run(&["sim", "--seed", "3", "--trace", "--history", history.to_str().unwrap()]);
    let b = run(&["sim", "--seed", "3", "--trace"]);
    assert!(a.status.success());
    // Replaying a seed is exact: the same trace, line for line.
    assert_eq!(stdout(&a), stdout(&b));
    assert!(stdout(&a).lines().count() > 100, "a trace has events");
    let lines = std::fs::read_to_string(&history).unwrap();
    assert!(lines.lines().count() > 0);
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each history line is JSON");
        assert!(v.is_object());
    }
}

#[test]
fn paxos_seven_members() {
    let out = run(&["sim", "--nodes", "7", "--seeds", "2"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("2 seeds x 7 nodes: 2 ok, 0 violations"), "{}", stdout(&out));
    assert!(!run(&["sim", "--nodes", "6", "--seeds", "1"]).status.success());
}

#[test]
fn pow_network_seeds() {
    let out = run(&["sim", "--consensus", "pow", "--seeds", "4"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("4 ok, 0 violations"), "{}", stdout(&out));
    assert!(!run(&["sim", "--consensus", "raft"]).status.success());
}
