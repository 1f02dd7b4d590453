//! Phase 2: pipelining, commit propagation, redirects
//! ("Paxos Made Simple" §2.2 Phase 2, §2.3 learning, §3 Multi-Paxos).

mod harness;

use harness::*;
use synod_paxos::*;

#[test]
fn pipelined_proposals_are_chosen_and_applied_in_order_everywhere() {
    let mut cluster = Cluster::new(3, 11);
    let leader = cluster.elect();
    // Propose 40 batches without delivering in between: many slots in flight.
    let mut slots = Vec::new();
    for i in 0..40u64 {
        let actions = cluster.step(leader, Event::Propose { request_id: i, command: batch(i, 8) });
        let slot = actions.iter().find_map(|a| match a {
            Action::Proposed { slot, .. } => Some(*slot),
            _ => None,
        });
        slots.push(slot.expect("leader accepts the proposal"));
    }
    assert!(cluster.replica(leader).inflight() >= 30, "proposals are pipelined");
    assert!(slots.windows(2).all(|w| w[1] == w[0] + 1), "consecutive slots");
    cluster.deliver_all();
    // Heartbeats carry the commit index to the followers.
    cluster.run(200);
    for id in 1..=3 {
        assert_eq!(cluster.applied_batches(id), (0..40).collect::<Vec<_>>(), "node {id}");
        assert_eq!(cluster.replica(id).commit_index(), cluster.replica(leader).commit_index());
    }
    cluster.assert_agreement();
}

#[test]
fn propose_on_a_follower_names_the_leader() {
    let mut cluster = Cluster::new(5, 12);
    let leader = cluster.elect();
    cluster.run(200);
    let follower = (1..=5).find(|id| *id != leader).unwrap();
    let reply = cluster.propose(follower, 9, batch(9, 1));
    assert_eq!(
        reply,
        Action::ProposeRejected { request_id: 9, error: ProposeError::NotLeader { leader_hint: Some(leader) } }
    );
}

#[test]
fn new_leader_keeps_every_chosen_value_and_fills_gaps_with_noop() {
    let mut cluster = Cluster::new(3, 13);
    let leader = cluster.elect();
    for i in 0..10 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(100);
    // Slot 11 reaches only the leader's own acceptor: not chosen.
    cluster.drop = Box::new(move |m| m.from == leader && m.to != leader);
    cluster.propose(leader, 10, batch(10, 4));
    cluster.crash(leader);
    cluster.drop = Box::new(|_| false);
    let new_leader = cluster.elect();
    assert_ne!(new_leader, leader);
    for i in 11..15 {
        cluster.propose(new_leader, i, batch(i, 4));
    }
    cluster.restart(leader);
    cluster.run(500);
    cluster.assert_agreement();
    for id in 1..=3 {
        let applied = cluster.applied_batches(id);
        assert_eq!(&applied[..10], &(0..10).collect::<Vec<_>>()[..], "node {id}");
        assert!(applied.ends_with(&[11, 12, 13, 14]));
    }
}

#[test]
fn follower_that_missed_everything_catches_up_after_healing() {
    let mut cluster = Cluster::new(3, 14);
    let leader = cluster.elect();
    let lagging = (1..=3).find(|id| *id != leader).unwrap();
    cluster.drop = Box::new(move |m| m.to == lagging);
    for i in 0..20 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(100);
    assert_eq!(cluster.replica(lagging).commit_index(), 0);
    // Heartbeats tell it the commit index; it fetches the gap.
    cluster.drop = Box::new(|_| false);
    cluster.run(300);
    assert_eq!(cluster.applied_batches(lagging), (0..20).collect::<Vec<_>>());
}
