//! A leader that learns a slot by fetch must not vouch for its own ballot's
//! entries there (`replica/learner.rs`, way 2). The schedule, seven members
//! and a bridge partition, played message by message:
//! 1. leader A at ballot b proposes v' at slot 2; only A and Z accept it;
//! 2. C wins b0 > b with C, D, E, F and chooses v at slot 2;
//! 3. B hears C's heartbeats only (they do not raise its promise), keeps
//!    acknowledging A at b, and fetches slot 2 = v from C;
//! 4. A gets B's commit hint, fetches slot 2 = v from B and moves its commit
//!    index past slot 2, inside its check-quorum window;
//! 5. A's next heartbeat (b, commit 2) reaches Z.

mod harness;

use harness::*;
use synod_paxos::*;

const A: NodeId = 1;
const Z: NodeId = 2;
const B: NodeId = 3;
const C: NodeId = 4;
const SIDE_A: [NodeId; 2] = [A, Z];
const SIDE_C: [NodeId; 4] = [C, 5, 6, 7];
const V_STALE: u64 = 100;
const V_CHOSEN: u64 = 200;

/// Delivers what is in flight (and what that causes) if `allowed`; drops the rest.
fn deliver(cluster: &mut Cluster, allowed: impl Fn(&Message) -> bool + 'static) {
    cluster.drop = Box::new(move |m| !allowed(m));
    cluster.deliver_all();
}

fn tick(cluster: &mut Cluster, id: NodeId, allowed: impl Fn(&Message) -> bool + 'static) {
    cluster.step(id, Event::Tick);
    deliver(cluster, allowed);
}

/// The bridge: A's side and C's side do not reach each other; B reaches
/// both but gets neither `Prepare` nor `Accept` (so it never promises b0).
fn bridge(m: &Message) -> bool {
    let crosses =
        (SIDE_A.contains(&m.from) && SIDE_C.contains(&m.to)) || (SIDE_C.contains(&m.from) && SIDE_A.contains(&m.to));
    let vote_to_b = m.to == B && matches!(m.body, Body::Prepare { .. } | Body::Accept { .. });
    !crosses && !vote_to_b
}

fn batch_at(cluster: &Cluster, id: NodeId, slot: Slot) -> Option<u64> {
    match cluster.nodes[&id].applied.get(&slot) {
        Some(Command::Batch(b)) => Some(b.id.0),
        Some(other) => panic!("slot {slot} of node {id} holds {other:?}"),
        None => None,
    }
}

/// Plays steps 1 to 5; returns the cluster right after A's last heartbeat.
fn play(bugs: BugInjection) -> Cluster {
    // Check-quorum window 400 ms: A's last acks from D, E, F (at T1) stay in
    // it through step 5 while C's election (150 ms after T1) needs them to
    // have stopped hearing A.
    let mut cluster = Cluster::with_options(7, 1, |o| {
        o.timing.election_timeout_min_ms = 150;
        o.timing.election_timeout_max_ms = 400;
        o.bugs = bugs;
    });
    // Setup: A leads ballot b, slot 1 (the configuration) is chosen and known.
    tick(&mut cluster, A, |_| true);
    assert_eq!(cluster.leaders(), vec![A]);
    let b = cluster.replica(A).promised();
    let t0 = 100;
    cluster.now_ms = t0;
    tick(&mut cluster, A, |_| true);
    assert!((1..=7).all(|id| cluster.replica(id).commit_index() == 1));

    // 1. A proposes v' at slot 2; only Z gets the Accept. C hears nothing
    //    from A from now on, D, E and F until T1.
    let phase1 = |m: &Message| m.to != C && (!matches!(m.body, Body::Accept { .. }) || m.to == Z);
    cluster.step(A, Event::Propose { request_id: 1, command: batch(V_STALE, 8) });
    deliver(&mut cluster, phase1);
    assert_eq!(cluster.replica(Z).accepted(2).map(|e| e.ballot), Some(b));
    let t1 = t0 + 250;
    cluster.now_ms = t1;
    tick(&mut cluster, A, phase1);

    // 2. At T1 + 150 D, E, F no longer hear a live leader, and C's election
    //    deadline (< T0 + 400) has passed: C wins b0 with C, D, E, F.
    let t2 = t0 + 400;
    cluster.now_ms = t2;
    tick(&mut cluster, C, bridge);
    assert!(cluster.replica(C).is_leader(), "C won");
    let b0 = cluster.replica(C).promised();
    assert!(b0 > b);
    cluster.step(C, Event::Propose { request_id: 2, command: batch(V_CHOSEN, 8) });
    deliver(&mut cluster, bridge);
    assert_eq!(batch_at(&cluster, C, 2), Some(V_CHOSEN));

    // 3. C's heartbeat: B fetches slot 2 = v from C, without promising b0.
    cluster.now_ms = t2 + 50;
    tick(&mut cluster, C, bridge);
    assert_eq!(batch_at(&cluster, B, 2), Some(V_CHOSEN));
    assert_eq!(cluster.replica(B).promised(), b);
    // A's heartbeat: B acknowledges it with commit index 2.
    tick(&mut cluster, A, bridge);
    assert!(cluster.replica(A).is_leader());

    // 4. A fetches slot 2 from B (the commit hint), inside its window.
    cluster.now_ms = t2 + 100;
    tick(&mut cluster, A, bridge);
    assert_eq!(batch_at(&cluster, A, 2), Some(V_CHOSEN));

    // 5. A's next heartbeat, if it still leads, carries (b, commit 2).
    cluster.now_ms = t2 + 150;
    tick(&mut cluster, A, bridge);
    cluster
}

#[test]
fn a_leader_that_fetches_another_value_steps_down_and_agreement_holds() {
    let mut cluster = play(BugInjection::default());
    assert!(!cluster.replica(A).is_leader(), "A stepped down when it learned v over its own v'");
    assert_eq!(batch_at(&cluster, Z, 2), None, "Z learned nothing from A");
    cluster.assert_agreement();
    // Healed, the cluster converges on v.
    cluster.drop = Box::new(|_| false);
    cluster.run(3_000);
    cluster.assert_agreement();
    for id in 1..=7 {
        assert_eq!(batch_at(&cluster, id, 2), Some(V_CHOSEN), "node {id}");
    }
}

#[test]
fn the_old_learner_rule_breaks_agreement() {
    // Teeth: the same schedule against the pre-fix rule makes Z apply v'.
    let cluster = play(BugInjection { leader_vouches_for_foreign_slots: true, ..Default::default() });
    assert!(cluster.replica(A).is_leader());
    assert_eq!(batch_at(&cluster, C, 2), Some(V_CHOSEN));
    assert_eq!(batch_at(&cluster, Z, 2), Some(V_STALE), "agreement violated at slot 2");
}
