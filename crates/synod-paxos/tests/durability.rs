//! Durability gating: votes leave only after what they vouch for is durable
//! ("Paxos Made Simple" §2.2: an acceptor must remember what it promised and
//! accepted, even if it fails and restarts).

mod harness;

use harness::*;
use synod_paxos::*;

fn sent_kinds(actions: &[Action]) -> Vec<&'static str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(m) => Some(m.body.kind()),
            _ => None,
        })
        .collect()
}

#[test]
fn promise_waits_for_its_persist() {
    let mut cluster = Cluster::new(3, 21);
    cluster.nodes.get_mut(&2).unwrap().auto_persist = false;
    let prepare = Message { from: 1, to: 2, body: Body::Prepare { ballot: Ballot::new(5, 1), from_slot: 1 } };
    let actions = cluster.step(2, Event::Receive(prepare));
    assert!(matches!(actions[0], Action::Persist { op: PersistOp::Promise { .. }, .. }));
    assert!(sent_kinds(&actions).is_empty(), "no Promise before the persist is durable");
    assert_eq!(cluster.replica(2).held_messages(), 1);
    cluster.flush(2);
    let last = cluster.nodes[&2].outputs.last().unwrap().clone();
    assert!(matches!(last, Action::Send(Message { body: Body::Promise { .. }, .. })));
    assert_eq!(cluster.replica(2).held_messages(), 0);
}

#[test]
fn accepted_waits_for_its_persist_and_group_commit_releases_all() {
    let mut cluster = Cluster::new(3, 22);
    cluster.nodes.get_mut(&2).unwrap().auto_persist = false;
    let ballot = Ballot::new(3, 1);
    for slot in 1..=5 {
        let accept =
            Message { from: 1, to: 2, body: Body::Accept { ballot, slot, command: batch(slot, 2), commit_index: 0 } };
        let actions = cluster.step(2, Event::Receive(accept));
        assert!(sent_kinds(&actions).is_empty());
    }
    // Promise + five accepts pending; one report of the highest token
    // releases all five Accepted messages.
    assert_eq!(cluster.nodes[&2].pending.len(), 6);
    let before = cluster.nodes[&2].outputs.len();
    cluster.flush(2);
    let released: Vec<_> = cluster.nodes[&2].outputs[before..]
        .iter()
        .filter(|a| matches!(a, Action::Send(Message { body: Body::Accepted { .. }, .. })))
        .collect();
    assert_eq!(released.len(), 5);
}

#[test]
fn candidate_prepares_only_after_its_own_promise_is_durable() {
    let mut cluster = Cluster::new(3, 23);
    cluster.nodes.get_mut(&1).unwrap().auto_persist = false;
    // Drive node 1 alone past its election timeout.
    cluster.now_ms = 1_000;
    cluster.step(1, Event::Tick);
    cluster.step(1, Event::Tick);
    // Pre-vote comes first and needs nothing durable: nodes 2 and 3 (no
    // leader heard) grant it.
    let asks: Vec<Message> = cluster.net.drain(..).collect();
    assert_eq!(asks.iter().filter(|m| matches!(m.body, Body::PreVote { .. })).count(), 2);
    for ask in asks {
        cluster.step(ask.to, Event::Receive(ask));
    }
    let grants: Vec<Message> = cluster.net.drain(..).collect();
    for grant in grants {
        cluster.step(1, Event::Receive(grant));
    }
    assert_eq!(cluster.replica(1).role(), RoleKind::Candidate);
    assert!(cluster.net.is_empty(), "no Prepare leaves before the self-promise is durable");
    cluster.flush(1);
    assert_eq!(cluster.net.iter().filter(|m| matches!(m.body, Body::Prepare { .. })).count(), 2);
}

#[test]
fn restarted_acceptor_keeps_its_promise() {
    let mut cluster = Cluster::new(3, 24);
    let high = Ballot::new(9, 3);
    cluster.step(2, Event::Receive(Message { from: 3, to: 2, body: Body::Prepare { ballot: high, from_slot: 1 } }));
    cluster.crash(2);
    cluster.restart(2);
    assert_eq!(cluster.replica(2).promised(), high);
    cluster.net.clear();
    let low = Ballot::new(4, 1);
    cluster.step(
        2,
        Event::Receive(Message {
            from: 1,
            to: 2,
            body: Body::Accept { ballot: low, slot: 1, command: batch(1, 1), commit_index: 0 },
        }),
    );
    assert!(matches!(cluster.net[0].body, Body::Nack { promised, .. } if promised == high));
    assert!(cluster.replica(2).accepted(1).is_none());
}

#[test]
fn crash_before_sync_loses_the_vote_but_nothing_was_promised() {
    let mut cluster = Cluster::new(3, 25);
    cluster.nodes.get_mut(&2).unwrap().auto_persist = false;
    cluster.step(
        2,
        Event::Receive(Message { from: 3, to: 2, body: Body::Prepare { ballot: Ballot::new(9, 3), from_slot: 1 } }),
    );
    assert!(cluster.net.is_empty());
    cluster.crash(2);
    cluster.restart(2);
    assert_eq!(cluster.replica(2).promised(), Ballot::ZERO);
}

#[test]
fn cluster_survives_crash_and_restart_of_every_node_in_turn() {
    let mut cluster = Cluster::new(3, 26);
    let mut next = 0;
    for victim in [1u8, 2, 3, 1] {
        let leader = cluster.elect();
        for _ in 0..5 {
            cluster.propose(leader, next, batch(next, 3));
            next += 1;
        }
        cluster.run(100);
        cluster.crash(victim);
        cluster.run(400);
        cluster.restart(victim);
        cluster.run(400);
    }
    cluster.run(500);
    cluster.assert_agreement();
    for id in 1..=3 {
        assert_eq!(cluster.replica(id).commit_index(), cluster.replica(1).commit_index());
        let applied = cluster.applied_batches(id);
        assert_eq!(applied.len(), next as usize, "node {id}: {applied:?}");
    }
}

#[test]
fn damaged_replica_learns_but_never_votes() {
    let mut cluster = Cluster::new(3, 27);
    let leader = cluster.elect();
    let victim = (1..=3).find(|id| *id != leader).unwrap();
    cluster.crash(victim);
    let node = cluster.nodes.get_mut(&victim).unwrap();
    let mut durable = node.durable.clone();
    durable.damaged = true;
    node.replica = Some(Replica::recover(node.opts.clone(), durable).unwrap());
    let sent_before = cluster.sent.len();
    for i in 0..5 {
        cluster.propose(leader, i, batch(i, 2));
    }
    cluster.run(500);
    assert_eq!(cluster.applied_batches(victim), vec![0, 1, 2, 3, 4]);
    let votes = cluster.sent[sent_before..]
        .iter()
        .filter(|m| {
            m.from == victim
                && matches!(m.body, Body::Accepted { .. } | Body::Promise { .. } | Body::HeartbeatAck { .. })
        })
        .count();
    let r = cluster.replica(victim);
    assert!(r.is_damaged() && !r.is_leader());
    assert!(r.accepted(1).is_none());
    assert_eq!(votes, 0, "a damaged incarnation sends no votes");
}
