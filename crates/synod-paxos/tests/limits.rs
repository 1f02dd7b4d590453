//! One test per bound in `Limits`, plus option validation.

mod harness;

use harness::*;
use synod_paxos::*;

#[test]
fn inflight_slots_are_bounded() {
    let mut cluster = Cluster::with_options(3, 51, |o| o.limits.inflight_slots_max = 8);
    let leader = cluster.elect();
    // Nothing gets chosen: the leader is cut off from its peers.
    cluster.drop = Box::new(move |m| m.from == leader && m.to != leader);
    for i in 0..8 {
        assert!(matches!(cluster.propose(leader, i, batch(i, 1)), Action::Proposed { .. }));
    }
    assert_eq!(
        cluster.propose(leader, 8, batch(8, 1)),
        Action::ProposeRejected { request_id: 8, error: ProposeError::TooManyInflight { limit: 8 } }
    );
}

#[test]
fn oversized_values_are_refused() {
    let mut cluster = Cluster::with_options(3, 52, |o| o.limits.value_bytes_max = 100);
    let leader = cluster.elect();
    assert!(matches!(cluster.propose(leader, 1, batch(1, 100)), Action::Proposed { .. }));
    assert_eq!(
        cluster.propose(leader, 2, batch(2, 101)),
        Action::ProposeRejected { request_id: 2, error: ProposeError::ValueTooLarge { size: 101, limit: 100 } }
    );
    assert_eq!(
        cluster.propose(leader, 3, Command::Noop),
        Action::ProposeRejected { request_id: 3, error: ProposeError::NoopNotProposable }
    );
}

#[test]
fn held_messages_per_peer_are_bounded() {
    let mut cluster = Cluster::with_options(3, 53, |o| o.limits.outbound_per_peer_max = 3);
    let leader = cluster.elect();
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    cluster.nodes.get_mut(&follower).unwrap().auto_persist = false;
    for i in 0..10 {
        cluster.propose(leader, i, batch(i, 1));
    }
    assert_eq!(cluster.replica(follower).held_messages_for(leader), 3);
    assert_eq!(cluster.replica(follower).stats().messages_dropped_outbound, 7);
    // Retransmission recovers the dropped acknowledgements.
    cluster.flush(follower);
    cluster.nodes.get_mut(&follower).unwrap().auto_persist = true;
    cluster.run(500);
    assert_eq!(cluster.applied_batches(follower).len(), 10);
}

#[test]
fn oversized_promise_is_truncated_and_the_candidate_steps_back() {
    let mut cluster = Cluster::with_options(3, 54, |o| {
        o.limits.promise_entries_max = 4;
        o.limits.inflight_slots_max = 4;
    });
    let leader = cluster.elect();
    let other = (1..=3).find(|id| *id != leader).unwrap();
    for i in 0..10 {
        cluster.propose(leader, i, batch(i, 1));
        cluster.run(20);
    }
    let ballot = Ballot::new(cluster.replica(other).promised().round + 5, other);
    let acceptor = leader;
    cluster.net.clear();
    // Candidate starting from slot 1 while the acceptor holds 10 entries.
    let promise_of = |c: &Cluster| c.net.iter().find(|m| matches!(m.body, Body::Promise { .. })).cloned();
    cluster.crash(acceptor);
    cluster.restart(acceptor);
    cluster.step(
        acceptor,
        Event::Receive(Message { from: other, to: acceptor, body: Body::Prepare { ballot, from_slot: 1 } }),
    );
    match promise_of(&cluster).expect("promise").body {
        Body::Promise { truncated, entries, .. } => {
            assert!(truncated);
            assert!(entries.is_empty());
        }
        _ => unreachable!(),
    }
    assert_eq!(cluster.replica(acceptor).stats().promises_truncated, 1);
}

#[test]
fn pending_reads_are_bounded() {
    let mut cluster = Cluster::with_options(3, 55, |o| o.limits.pending_reads_max = 2);
    let leader = cluster.elect();
    cluster.drop = Box::new(move |m| m.from == leader && m.to != leader);
    cluster.step(leader, Event::ReadIndex { request_id: 1 });
    cluster.step(leader, Event::ReadIndex { request_id: 2 });
    let actions = cluster.step(leader, Event::ReadIndex { request_id: 3 });
    assert_eq!(actions, vec![Action::ReadRejected { request_id: 3, error: ReadError::TooManyPending { limit: 2 } }]);
}

#[test]
fn retransmissions_per_tick_are_bounded() {
    let mut cluster = Cluster::with_options(3, 56, |o| o.limits.retransmit_per_tick_max = 2);
    let leader = cluster.elect();
    cluster.drop = Box::new(move |m| m.from == leader && m.to != leader);
    for i in 0..10 {
        cluster.propose(leader, i, batch(i, 1));
    }
    cluster.net.clear();
    cluster.now_ms += 200;
    let actions = cluster.step(leader, Event::Tick);
    for peer in (1..=3).filter(|p| *p != leader) {
        let accepts = actions
            .iter()
            .filter(|a| matches!(a, Action::Send(Message { to, body: Body::Accept { .. }, .. }) if *to == peer))
            .count();
        assert_eq!(accepts, 2);
    }
}

#[test]
fn options_are_validated() {
    let ok = options(1, 3);
    assert_eq!(ok.validate(), Ok(()));
    assert_eq!(
        ReplicaOptions::new(1, ClusterConfig::new(vec![1, 2])).validate(),
        Err(OptionsError::ClusterSize { size: 2 })
    );
    assert_eq!(
        ReplicaOptions::new(9, ClusterConfig::new(vec![1, 2, 3])).validate(),
        Err(OptionsError::NotAMember { id: 9 })
    );
    assert_eq!(
        ReplicaOptions::new(1, ClusterConfig::new(vec![1, 1, 3])).validate(),
        Err(OptionsError::DuplicateMember)
    );
    let mut bad = options(1, 3);
    bad.limits.message_bytes_max = 10;
    assert!(matches!(bad.validate(), Err(OptionsError::MessageTooSmallForValue { .. })));
    let mut bad = options(1, 3);
    bad.timing.heartbeat_interval_ms = 100;
    assert_eq!(bad.validate(), Err(OptionsError::Timing));
}
