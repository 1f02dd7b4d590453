//! Phase 1: leader election, duelling candidates, stepping down
//! ("Paxos Made Simple" §2.2, §3).

mod harness;

use harness::*;
use synod_paxos::*;

#[test]
fn one_leader_is_elected_and_followers_know_it() {
    for n in [3u8, 5, 7] {
        let mut cluster = Cluster::new(n, 7);
        let leader = cluster.elect();
        // Let heartbeats spread the news.
        cluster.run(200);
        assert_eq!(cluster.leaders(), vec![leader]);
        for id in 1..=n {
            assert_eq!(cluster.replica(id).leader_hint(), Some(leader), "node {id} of {n}");
        }
    }
}

#[test]
fn duelling_candidates_do_not_livelock() {
    // Many seeds, five nodes: every one must settle on a single leader in a
    // bounded time despite simultaneous timeouts.
    for seed in 0..100 {
        let mut cluster = Cluster::new(5, seed);
        cluster.run(3_000);
        assert_eq!(cluster.leaders().len(), 1, "seed {seed}");
    }
}

#[test]
fn cut_off_leader_steps_down_and_a_new_one_takes_over() {
    let mut cluster = Cluster::new(3, 1);
    let old = cluster.elect();
    let ballot_before = cluster.replica(old).promised();
    // Isolate the leader both ways.
    cluster.drop = Box::new(move |m| m.from == old || m.to == old);
    cluster.run(1_000);
    let others: Vec<NodeId> = cluster.leaders().into_iter().filter(|id| *id != old).collect();
    assert_eq!(others.len(), 1, "a new leader among the majority");
    // Check-quorum made the old leader step down even though it hears nobody.
    assert!(!cluster.replica(old).is_leader());
    // Heal: the old leader learns the higher ballot and follows.
    cluster.drop = Box::new(|_| false);
    cluster.run(500);
    assert_eq!(cluster.leaders(), others);
    // It follows the new leader, whose ballot is higher; with pre-vote it
    // raised no promise of its own while cut off.
    assert!(cluster.replica(others[0]).promised() > ballot_before);
    assert_eq!(cluster.replica(old).leader_hint(), Some(others[0]));
}

#[test]
fn nack_carries_the_higher_ballot_and_the_loser_steps_down() {
    let mut cluster = Cluster::new(3, 2);
    // A first leader's ballot becomes stale once a second leader is elected.
    let first = cluster.elect();
    let stale = cluster.replica(first).promised();
    cluster.crash(first);
    let leader = cluster.elect();
    let follower = (1..=3).find(|id| *id != leader && *id != first).unwrap();
    cluster.net.clear();
    // A heartbeat from an older ballot is refused with the current promise.
    cluster.step(
        follower,
        Event::Receive(Message {
            from: first,
            to: follower,
            body: Body::Heartbeat { ballot: stale, commit_index: 0, seq: 1 },
        }),
    );
    let nack = cluster.net.iter().find(|m| matches!(m.body, Body::Nack { .. })).cloned().expect("nack sent");
    match nack.body {
        Body::Nack { ballot, promised, .. } => {
            assert_eq!(ballot, stale);
            assert_eq!(promised, cluster.replica(follower).promised());
        }
        _ => unreachable!(),
    }
}

#[test]
fn follower_hearing_a_live_leader_ignores_prepares() {
    let mut cluster = Cluster::new(3, 3);
    let leader = cluster.elect();
    cluster.run(100);
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    let other = (1..=3).find(|id| *id != leader && *id != follower).unwrap();
    let promised = cluster.replica(follower).promised();
    let high = Ballot::new(promised.round + 10, other);
    cluster.net.clear();
    cluster.step(
        follower,
        Event::Receive(Message { from: other, to: follower, body: Body::Prepare { ballot: high, from_slot: 1 } }),
    );
    assert_eq!(cluster.replica(follower).promised(), promised, "sticky: no promise while the leader is alive");
    assert!(cluster.net.is_empty());
}
