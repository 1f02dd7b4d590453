//! Membership change (crate docs, "Reconfiguration"): single-member steps
//! through the log, one at a time, effective from the next slot; learners
//! catch up before they are added; a leader that removes itself steps down.

mod harness;

use harness::*;
use synod_paxos::*;

fn config(members: &[NodeId]) -> Command {
    Command::Config(ClusterConfig::new(members.to_vec()))
}

fn members_of(cluster: &Cluster, id: NodeId) -> Vec<NodeId> {
    cluster.replica(id).config().0.members.clone()
}

#[test]
fn a_caught_up_learner_is_added_and_its_vote_then_counts() {
    let mut cluster = Cluster::new(3, 101);
    let leader = cluster.elect();
    for i in 0..5 {
        cluster.propose(leader, i, batch(i, 8));
    }
    cluster.run(100);
    cluster.add_learner(4, 3);
    assert!(!cluster.replica(4).is_member());
    cluster.run(300);
    assert_eq!(cluster.replica(4).commit_index(), cluster.replica(leader).commit_index(), "the learner caught up");
    assert!(matches!(cluster.propose(leader, 10, config(&[1, 2, 3, 4])), Action::Proposed { .. }));
    cluster.run(300);
    for id in 1..=4 {
        assert_eq!(members_of(&cluster, id), vec![1, 2, 3, 4], "node {id}");
    }
    assert!(cluster.replica(4).is_member());
    // With four members the quorum is three: with two of the old members
    // down, nothing is chosen; the new member's vote is what makes it.
    let others: Vec<NodeId> = (1..=3).filter(|id| *id != leader).collect();
    cluster.crash(others[0]);
    let before = cluster.replica(leader).commit_index();
    let Action::Proposed { slot, .. } = cluster.propose(leader, 11, batch(11, 8)) else { panic!("not proposed") };
    cluster.run(300);
    assert!(cluster.replica(leader).commit_index() >= slot && slot > before);
    cluster.crash(4);
    let Action::Proposed { slot, .. } = cluster.propose(leader, 12, batch(12, 8)) else { panic!("not proposed") };
    cluster.run(300);
    assert!(cluster.replica(leader).commit_index() < slot, "two of four members cannot choose");
    cluster.assert_agreement();
}

#[test]
fn a_learner_that_is_not_caught_up_is_not_added() {
    let mut cluster = Cluster::new(3, 102);
    let leader = cluster.elect();
    cluster.run(100);
    // Never heard from: node 4 does not exist.
    assert_eq!(
        cluster.propose(leader, 1, config(&[1, 2, 3, 4])),
        Action::ProposeRejected {
            request_id: 1,
            error: ProposeError::Reconfig(ReconfigError::LearnerNotCaughtUp {
                node: 4,
                acked: None,
                commit_index: cluster.replica(leader).commit_index()
            })
        }
    );
    assert_eq!(members_of(&cluster, leader), vec![1, 2, 3]);
}

#[test]
fn one_change_at_a_time_and_nothing_proposed_past_it() {
    let mut cluster = Cluster::new(5, 103);
    let leader = cluster.elect();
    cluster.run(100);
    // Hold every Accept so the change stays in flight.
    cluster.drop = Box::new(|m| matches!(m.body, Body::Accept { .. } | Body::Accepted { .. }));
    let removed = (1..=5).find(|id| *id != leader).unwrap();
    let smaller: Vec<NodeId> = (1..=5).filter(|id| *id != removed).collect();
    let Action::Proposed { slot, .. } = cluster.propose(leader, 1, config(&smaller)) else { panic!("not proposed") };
    assert_eq!(
        cluster.propose(leader, 2, config(&smaller[..3])),
        Action::ProposeRejected {
            request_id: 2,
            error: ProposeError::Reconfig(ReconfigError::ChangeInProgress { slot })
        }
    );
    assert_eq!(
        cluster.propose(leader, 3, batch(3, 8)),
        Action::ProposeRejected { request_id: 3, error: ProposeError::ConfigChangePending { slot } }
    );
    // Once it is chosen, proposals resume in the new configuration.
    cluster.drop = Box::new(|_| false);
    cluster.run(300);
    assert_eq!(members_of(&cluster, leader), smaller);
    assert!(matches!(cluster.propose(leader, 4, batch(4, 8)), Action::Proposed { slot: next, .. } if next == slot + 1));
    cluster.run(200);
    // The removed node votes for nothing and never campaigns.
    assert!(!cluster.replica(removed).is_member());
    cluster.assert_agreement();
}

#[test]
fn a_leader_that_removes_itself_steps_down_and_the_rest_elect_another() {
    let mut cluster = Cluster::new(3, 104);
    let leader = cluster.elect();
    cluster.run(100);
    let rest: Vec<NodeId> = (1..=3).filter(|id| *id != leader).collect();
    assert!(matches!(cluster.propose(leader, 1, config(&rest)), Action::Proposed { .. }));
    cluster.run(100);
    assert!(!cluster.replica(leader).is_leader(), "stepped down once its removal was chosen");
    let elections = cluster.replica(leader).stats().elections_started;
    let next = cluster.elect();
    assert!(rest.contains(&next));
    cluster.run(2_000);
    assert_eq!(cluster.replica(leader).stats().elections_started, elections, "a removed node never campaigns");
    assert_eq!(cluster.leaders(), vec![next]);
    // A two-member cluster works (quorum two) and the removed node still
    // learns what is chosen.
    let Action::Proposed { slot, .. } = cluster.propose(next, 2, batch(2, 8)) else { panic!("not proposed") };
    cluster.run(300);
    for id in 1..=3 {
        assert!(cluster.replica(id).commit_index() >= slot, "node {id}");
    }
    cluster.assert_agreement();
}

#[test]
fn a_replaced_member_catches_up_from_a_snapshot_and_a_restart_keeps_the_configuration() {
    let mut cluster = Cluster::new(3, 105);
    let leader = cluster.elect();
    for i in 0..20 {
        cluster.propose(leader, i, batch(i, 8));
    }
    cluster.run(200);
    for id in 1..=3 {
        cluster.compact(id);
    }
    cluster.add_learner(4, 3);
    cluster.run(300);
    assert_eq!(cluster.replica(4).stats().snapshots_installed, 1);
    let old = (1..=3).find(|id| *id != leader).unwrap();
    assert!(matches!(cluster.propose(leader, 30, config(&[1, 2, 3, 4])), Action::Proposed { .. }));
    cluster.run(300);
    let without: Vec<NodeId> = [1, 2, 3, 4].into_iter().filter(|id| *id != old).collect();
    assert!(matches!(cluster.propose(leader, 31, config(&without)), Action::Proposed { .. }));
    cluster.run(300);
    for id in 1..=4 {
        assert_eq!(members_of(&cluster, id), without, "node {id}");
        cluster.compact(id);
    }
    // Every node restarts with the bootstrap options; the recorded
    // configuration wins.
    for id in 1..=4 {
        cluster.crash(id);
        cluster.restart(id);
        assert_eq!(members_of(&cluster, id), without, "node {id} after restart");
    }
    let next = cluster.elect();
    assert_ne!(next, old);
    assert!(matches!(cluster.propose(next, 40, batch(40, 8)), Action::Proposed { .. }));
    cluster.run(300);
    cluster.assert_agreement();
}

#[test]
fn phase_one_needs_a_quorum_of_a_configuration_the_promises_report() {
    // The leader gets {1,2,3} -> {1,2,3,4} chosen with one follower's vote
    // and crashes before anyone else learns it is chosen. From then on a
    // quorum of the new configuration (three of four) is needed: the two
    // old members alone must not elect a leader, although they are a
    // majority of the configuration at their commit point.
    let (mut cluster, o, c) = chosen_then_leader_lost(false);
    cluster.run(3_000);
    let won = |cluster: &Cluster| cluster.replica(o).stats().elections_won + cluster.replica(c).stats().elections_won;
    assert_eq!(won(&cluster), 0, "elected without a quorum of {{1,2,3,4}}");
    assert!(cluster.replica(o).stats().elections_started + cluster.replica(c).stats().elections_started > 0);
    // With node 4 reachable, the election completes and the new
    // configuration is learned everywhere.
    cluster.drop = Box::new(|_| false);
    let next = cluster.elect();
    assert!(next == o || next == c || next == 4);
    cluster.run(300);
    for id in [o, c, 4] {
        assert_eq!(members_of(&cluster, id), vec![1, 2, 3, 4], "node {id}");
    }
    cluster.assert_agreement();
    // The test has teeth: counting Phase 1 against the old configuration
    // only (the injected bug), the two old members elect a leader alone.
    let (mut cluster, o, c) = chosen_then_leader_lost(true);
    cluster.run(3_000);
    let won = cluster.replica(o).stats().elections_won + cluster.replica(c).stats().elections_won;
    assert!(won > 0, "the bug went unnoticed");
}

/// Gets {1,2,3} -> {1,2,3,4} chosen by the leader and one follower `o`,
/// crashes the leader before anyone learns it, and cuts node 4 off.
fn chosen_then_leader_lost(bug: bool) -> (Cluster, NodeId, NodeId) {
    let mut cluster = Cluster::with_options(3, 106, |o| o.bugs.reconfig_unsafe = bug);
    let leader = cluster.elect();
    cluster.add_learner(4, 3);
    cluster.run(300);
    let o = (1..=3).find(|id| *id != leader).unwrap();
    let c = (1..=3).find(|id| *id != leader && *id != o).unwrap();
    cluster.drop = Box::new(move |m| {
        m.from == leader && (m.to != o || !matches!(m.body, Body::Accept { .. })) || m.to == leader && m.from != o
    });
    let Action::Proposed { slot, .. } = cluster.propose(leader, 1, config(&[1, 2, 3, 4])) else {
        panic!("not proposed")
    };
    assert!(cluster.replica(leader).commit_index() >= slot, "chosen by the leader and {o}");
    assert!(cluster.replica(o).commit_index() < slot && cluster.replica(c).commit_index() < slot);
    cluster.crash(leader);
    cluster.drop = Box::new(|m| m.from == 4 || m.to == 4);
    (cluster, o, c)
}

#[test]
fn a_leader_that_re_proposes_a_change_it_knows_chosen_does_not_stall() {
    // The pool-of-7 simulator liveness failures (seeds 11000554, 11000612,
    // ...): a leader learns its change at slot k + 1 chosen while slot k is
    // not, loses leadership, wins again and re-proposes slot k + 1. The
    // quorum's `Accepted` found the value already in its log, so the
    // pending change was never cleared: `ConfigChangePending` (and every
    // further membership change refused) for as long as it led.
    let mut cluster = Cluster::new(3, 105);
    let leader = cluster.elect();
    cluster.run(100);
    cluster.add_learner(4, 3);
    cluster.run(300);
    let k = cluster.replica(leader).commit_index() + 1;
    // Slot k is accepted by the leader alone; slot k + 1, the change, by all.
    cluster.drop = Box::new(move |m| matches!(m.body, Body::Accept { slot, .. } if slot == k) && m.to != leader);
    assert!(matches!(cluster.propose(leader, 1, batch(1, 8)), Action::Proposed { slot, .. } if slot == k));
    let Action::Proposed { slot: change, .. } = cluster.propose(leader, 2, config(&[1, 2, 3, 4])) else {
        panic!("the change is proposed")
    };
    assert_eq!(change, k + 1);
    cluster.deliver_all();
    assert!(cluster.replica(leader).chosen(k + 1).is_some(), "the leader knows the change chosen");
    assert!(cluster.replica(leader).commit_index() < k, "but not slot k");
    // Everyone cut off: the leader steps down (check-quorum). Then only it
    // may campaign, so it leads again and re-proposes slots k and k + 1.
    cluster.drop = Box::new(|_| true);
    cluster.run(1_000);
    assert!(cluster.leaders().is_empty());
    cluster.drop = Box::new(move |m| m.from != leader && matches!(m.body, Body::PreVote { .. } | Body::Prepare { .. }));
    assert_eq!(cluster.elect(), leader);
    cluster.run(300);
    assert_eq!(members_of(&cluster, leader), vec![1, 2, 3, 4]);
    assert!(
        matches!(cluster.propose(leader, 3, batch(3, 8)), Action::Proposed { .. }),
        "proposals resume once the re-proposed change is chosen"
    );
    cluster.drop = Box::new(|_| false);
    cluster.run(300);
    cluster.assert_agreement();
}
