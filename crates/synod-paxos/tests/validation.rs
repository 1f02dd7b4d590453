//! The validator in front of the replica's handlers (`src/validate.rs`).
//!
//! The story: an outside tester crashed consensus threads with single peer
//! frames. A `Heartbeat` addressed to another node tripped an assertion and
//! froze the node; a `Prepare` at round 2^64-1 made every replica that
//! promised it overflow `round + 1` at its next campaign; slot-0 `Accept`s
//! and `Fetch`es, out-of-range fetch replies, conflicting chosen values and
//! foreign configurations each reached an `assert!`. Each test below feeds
//! one such message and checks that it is refused with its reason, that the
//! replica emits nothing else and that its state did not move.

mod harness;

use harness::*;
use proptest::prelude::*;
use synod_paxos::ballot::{ROUND_MAX, SLOT_MAX};
use synod_paxos::validate::BALLOT_WINDOW_ROUNDS;
use synod_paxos::*;

/// Everything observable about a replica, to show a refusal changed nothing.
fn fingerprint(replica: &Replica) -> String {
    let stats = ReplicaStats { messages_refused: 0, ..replica.stats().clone() };
    let slots: Vec<_> = (1..=replica.commit_index() + 8)
        .map(|s| (s, replica.chosen(s).cloned(), replica.accepted(s)))
        .filter(|(_, c, a)| c.is_some() || a.is_some())
        .collect();
    format!(
        "{:?} {:?} {} c{} a{} r{} x{} {:?} t{}/{} h{} {:?} {:?} {:?}",
        replica.role(),
        replica.leader_hint(),
        replica.promised(),
        replica.commit_index(),
        replica.applied_index(),
        replica.applied_reported(),
        replica.compacted_upto(),
        replica.installing(),
        replica.durable_token(),
        replica.last_token(),
        replica.held_messages(),
        replica.config(),
        stats,
        slots,
    )
}

/// A 3-node cluster with a leader and five chosen values everywhere.
fn settled(seed: u64) -> (Cluster, NodeId, NodeId) {
    let mut cluster = Cluster::new(3, seed);
    let leader = cluster.elect();
    for i in 0..5 {
        cluster.propose(leader, i, batch(i, 8));
    }
    cluster.run(200);
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    (cluster, leader, follower)
}

/// Feeds `body` from `from` to `to` and asserts it is refused for `reason`
/// with no other action and no state change.
fn assert_refused(cluster: &mut Cluster, from: NodeId, to: NodeId, body: Body, reason: Refusal) {
    assert_refused_message(cluster, Message { from, to, body }, reason)
}

fn assert_refused_message(cluster: &mut Cluster, message: Message, reason: Refusal) {
    let at = message.to;
    let from = message.from;
    let before = fingerprint(cluster.replica(at));
    let refused_before = cluster.replica(at).stats().messages_refused;
    // Delivered to `at` whatever `message.to` says: the transport is what a
    // tester controls.
    let now_ms = cluster.now_ms;
    let node = cluster.nodes.get_mut(&at).unwrap();
    let actions = node.replica.as_mut().unwrap().step(now_ms, Event::Receive(message), &mut cluster.rng);
    assert_eq!(actions, vec![Action::MessageRefused { from, reason }]);
    assert_eq!(fingerprint(cluster.replica(at)), before, "a refused message changed the replica");
    assert_eq!(cluster.replica(at).stats().messages_refused, refused_before + 1);
}

fn deliver_to(cluster: &mut Cluster, at: NodeId, message: Message) -> Vec<Action> {
    let now_ms = cluster.now_ms;
    let node = cluster.nodes.get_mut(&at).unwrap();
    node.replica.as_mut().unwrap().step(now_ms, Event::Receive(message), &mut cluster.rng)
}

#[test]
fn a_heartbeat_for_another_node_is_refused() {
    let (mut cluster, leader, follower) = settled(1);
    let other = (1..=3).find(|id| *id != leader && *id != follower).unwrap();
    let ballot = cluster.replica(leader).promised();
    let message = Message { from: leader, to: other, body: Body::Heartbeat { ballot, commit_index: 5, seq: 9 } };
    // Delivered to `follower` although addressed to `other`.
    let before = fingerprint(cluster.replica(follower));
    let actions = deliver_to(&mut cluster, follower, message);
    assert_eq!(actions, vec![Action::MessageRefused { from: leader, reason: Refusal::WrongRecipient }]);
    assert_eq!(fingerprint(cluster.replica(follower)), before);
}

#[test]
fn senders_outside_the_membership_or_ourselves_are_refused() {
    let (mut cluster, leader, follower) = settled(2);
    let ballot = cluster.replica(leader).promised();
    let heartbeat = |from| Message { from, to: follower, body: Body::Heartbeat { ballot, commit_index: 5, seq: 1 } };
    assert_refused_message(&mut cluster, heartbeat(follower), Refusal::SenderIsSelf);
    // A vote from a node in no configuration we know (and not a learner)
    // is refused; a heartbeat from one is not (it may have joined since).
    let ack = |from| Message { from, to: leader, body: Body::HeartbeatAck { ballot, seq: 1, commit_index: 5 } };
    assert_refused_message(&mut cluster, ack(9), Refusal::SenderNotMember);
}

#[test]
fn ballots_at_the_top_of_the_space_or_far_ahead_are_refused() {
    let (mut cluster, leader, follower) = settled(3);
    let other = (1..=3).find(|id| *id != leader && *id != follower).unwrap();
    // The tester's frame: a Prepare at round 2^64-1. Promising it would have
    // made this replica's next campaign overflow `round + 1`.
    for round in [u64::MAX, ROUND_MAX + 1] {
        let prepare = Body::Prepare { ballot: Ballot::new(round, other), from_slot: 1 };
        assert_refused(&mut cluster, other, follower, prepare, Refusal::BallotAboveMax);
    }
    let seen = cluster.replica(follower).promised().round;
    let jump = Ballot::new(seen + BALLOT_WINDOW_ROUNDS + 1, other);
    assert_refused(&mut cluster, other, follower, Body::Prepare { ballot: jump, from_slot: 1 }, Refusal::BallotJump);
    let promised = Ballot::new(ROUND_MAX + 1, other);
    let nack = Body::Nack { ballot: Ballot::new(1, follower), promised, slot: 0, commit_index: 0 };
    assert_refused(&mut cluster, other, follower, nack, Refusal::BallotAboveMax);
    // A ballot at the edge of the window passes (here the Prepare is
    // ignored: the follower hears a live leader).
    let edge = Ballot::new(seen + BALLOT_WINDOW_ROUNDS, other);
    let actions = deliver_to(
        &mut cluster,
        follower,
        Message { from: other, to: follower, body: Body::Prepare { ballot: edge, from_slot: 1 } },
    );
    assert!(!actions.iter().any(|a| matches!(a, Action::MessageRefused { .. })));
    // Proposers' ballots belong to their sender and start at round 1.
    let forged = Body::Heartbeat { ballot: cluster.replica(leader).promised(), commit_index: 5, seq: 1 };
    assert_refused(&mut cluster, other, follower, forged, Refusal::BallotNotSenders);
    let zero = Body::Accept { ballot: Ballot::new(0, leader), slot: 6, command: Command::Noop, commit_index: 5 };
    assert_refused(&mut cluster, leader, follower, zero, Refusal::BallotZero);
    // Replies must answer one of the receiver's ballots.
    let ack = Body::HeartbeatAck { ballot: Ballot::new(1, other), seq: 1, commit_index: 5 };
    assert_refused(&mut cluster, other, leader, ack, Refusal::BallotNotOurs);
}

#[test]
fn slot_zero_and_slots_past_the_maximum_are_refused() {
    let (mut cluster, leader, follower) = settled(4);
    let ballot = cluster.replica(leader).promised();
    let accept = |slot| Body::Accept { ballot, slot, command: Command::Noop, commit_index: 5 };
    assert_refused(&mut cluster, leader, follower, accept(0), Refusal::SlotZero);
    assert_refused(&mut cluster, leader, follower, accept(SLOT_MAX + 1), Refusal::SlotAboveMax);
    assert_refused(&mut cluster, follower, leader, Body::Fetch { from_slot: 0 }, Refusal::SlotZero);
    assert_refused(&mut cluster, leader, follower, Body::Prepare { ballot, from_slot: 0 }, Refusal::SlotZero);
    let heartbeat = Body::Heartbeat { ballot, commit_index: u64::MAX, seq: 1 };
    assert_refused(&mut cluster, leader, follower, heartbeat, Refusal::SlotAboveMax);
}

#[test]
fn fetch_replies_must_stay_in_range_in_order_and_bounded() {
    let (mut cluster, leader, follower) = settled(5);
    let reply =
        |from_slot, entries: Vec<(Slot, Command)>, commit_index| Body::FetchReply { from_slot, entries, commit_index };
    // Slots from 20 on are not chosen yet, so only the range is at fault.
    let outside = reply(20, vec![(20, batch(60, 1)), (23, batch(90, 1))], 22);
    assert_refused(&mut cluster, leader, follower, outside, Refusal::EntryOutOfRange);
    let below = reply(20, vec![(19, batch(50, 1))], 22);
    assert_refused(&mut cluster, leader, follower, below, Refusal::EntryOutOfRange);
    let repeated = reply(20, vec![(20, batch(60, 1)), (20, batch(61, 1))], 22);
    assert_refused(&mut cluster, leader, follower, repeated, Refusal::EntriesNotIncreasing);
    let max = cluster.replica(follower).options().limits.fetch_entries_max as u64;
    let many = reply(20, (20..20 + max + 1).map(|s| (s, Command::Noop)).collect(), 20 + max);
    assert_refused(&mut cluster, leader, follower, many, Refusal::TooManyEntries);
}

#[test]
fn a_value_conflicting_with_a_known_chosen_one_is_refused() {
    let (mut cluster, leader, follower) = settled(6);
    let known = cluster.replica(follower).chosen(3).cloned().expect("slot 3 chosen");
    assert_ne!(known, batch(99, 1));
    let lie = Body::FetchReply { from_slot: 3, entries: vec![(3, batch(99, 1))], commit_index: 5 };
    assert_refused(&mut cluster, leader, follower, lie, Refusal::ChosenConflict);
    // The same value again is fine (a retransmission).
    let same = Body::FetchReply { from_slot: 3, entries: vec![(3, known)], commit_index: 5 };
    let actions = deliver_to(&mut cluster, follower, Message { from: leader, to: follower, body: same });
    assert!(!actions.iter().any(|a| matches!(a, Action::MessageRefused { .. })));
}

#[test]
fn a_second_value_in_one_ballot_for_a_slot_is_refused() {
    let (mut cluster, leader, follower) = settled(7);
    let ballot = cluster.replica(leader).promised();
    // Nothing is chosen at slot 40: accept one value, then refuse another.
    let first = Body::Accept { ballot, slot: 40, command: batch(1, 1), commit_index: 5 };
    let actions = deliver_to(&mut cluster, follower, Message { from: leader, to: follower, body: first });
    assert!(!actions.iter().any(|a| matches!(a, Action::MessageRefused { .. })));
    let second = Body::Accept { ballot, slot: 40, command: batch(2, 1), commit_index: 5 };
    assert_refused(&mut cluster, leader, follower, second, Refusal::BallotValueConflict);
}

#[test]
fn malformed_configurations_are_refused() {
    let (mut cluster, leader, follower) = settled(8);
    let ballot = cluster.replica(leader).promised();
    let accept = |members: Vec<NodeId>| Body::Accept {
        ballot,
        slot: 6,
        command: Command::Config(ClusterConfig::new(members)),
        commit_index: 5,
    };
    assert_refused(&mut cluster, leader, follower, accept(vec![]), Refusal::InvalidConfig);
    assert_refused(&mut cluster, leader, follower, accept(vec![1, 2, 2]), Refusal::InvalidConfig);
    assert_refused(&mut cluster, leader, follower, accept((1..=8).collect()), Refusal::InvalidConfig);
    let snapshot = |config: Option<ChosenConfig>, last_slot| Body::InstallSnapshot {
        snapshot: Snapshot { last_slot, bytes: vec![], config },
    };
    let foreign = ChosenConfig { slot: 1, config: ClusterConfig::new(vec![1, 2, 2]) };
    assert_refused(&mut cluster, leader, follower, snapshot(Some(foreign), 50), Refusal::InvalidConfig);
    let ours = ChosenConfig { slot: 60, config: ClusterConfig::new(vec![1, 2, 3]) };
    assert_refused(&mut cluster, leader, follower, snapshot(Some(ours), 50), Refusal::InvalidConfig);
    assert_refused(&mut cluster, leader, follower, snapshot(None, 0), Refusal::SlotZero);
}

/// A 7-node cluster (quorum 4) where node 1 is a candidate whose Prepares went out but
/// whose promises are still to come (every message is dropped).
fn candidate() -> (Cluster, Ballot, Slot) {
    let mut cluster = Cluster::new(7, 9);
    // Only node 1's pre-vote and the grants for it get through: node 1
    // campaigns, nobody else does, and its Prepares go nowhere.
    cluster.drop = Box::new(|m| match m.body {
        Body::PreVote { .. } => m.from != 1,
        Body::PreVoteReply { .. } => m.to != 1,
        _ => true,
    });
    for _ in 0..200 {
        cluster.run(10);
        if cluster.replica(1).role() == RoleKind::Candidate {
            let ballot = cluster.replica(1).promised();
            return (cluster, ballot, 1);
        }
    }
    panic!("node 1 never campaigned");
}

#[test]
fn promises_are_checked_against_the_candidates_request_and_each_other() {
    let (mut cluster, ballot, from_slot) = candidate();
    let promise = |from_slot, entries| Body::Promise {
        ballot,
        from_slot,
        entries,
        truncated: false,
        compacted_upto: 0,
        commit_index: 0,
    };
    let entry = |slot, ballot, command, chosen| PromiseEntry { slot, ballot, command, chosen };
    let low = Ballot::new(ballot.round - 1, 2);
    // Entries below from_slot (the candidate asserted on these).
    let ahead = promise(from_slot + 2, vec![entry(from_slot + 1, low, batch(1, 1), false)]);
    let actions = deliver_to(&mut cluster, 1, Message { from: 2, to: 1, body: ahead });
    assert_eq!(actions, vec![Action::MessageRefused { from: 2, reason: Refusal::PromiseRangeMismatch }]);
    let above = promise(from_slot, vec![entry(from_slot, Ballot::new(ballot.round + 1, 2), batch(1, 1), false)]);
    assert_refused(&mut cluster, 2, 1, above, Refusal::EntryAboveBallot);
    let unordered = promise(
        from_slot,
        vec![entry(from_slot + 1, low, batch(1, 1), false), entry(from_slot, low, batch(2, 1), false)],
    );
    assert_refused(&mut cluster, 2, 1, unordered, Refusal::EntriesNotIncreasing);
    // One acceptor says slot 1 chose A: merged. Another says it chose B.
    let a = promise(from_slot, vec![entry(from_slot, low, batch(1, 1), true)]);
    let actions = deliver_to(&mut cluster, 1, Message { from: 2, to: 1, body: a });
    assert!(!actions.iter().any(|a| matches!(a, Action::MessageRefused { .. })), "{actions:?}");
    let b = promise(from_slot, vec![entry(from_slot, low, batch(2, 1), true)]);
    assert_refused(&mut cluster, 3, 1, b, Refusal::ChosenConflict);
    // Two values for one (ballot, slot) from two acceptors.
    let c = promise(from_slot, vec![entry(from_slot + 1, low, batch(3, 1), false)]);
    let actions = deliver_to(&mut cluster, 1, Message { from: 4, to: 1, body: c });
    assert!(!actions.iter().any(|a| matches!(a, Action::MessageRefused { .. })), "{actions:?}");
    let d = promise(from_slot, vec![entry(from_slot + 1, low, batch(4, 1), false)]);
    assert_refused(&mut cluster, 5, 1, d, Refusal::BallotValueConflict);
}

#[test]
fn a_promise_reaching_far_past_from_slot_sends_the_candidate_to_catch_up() {
    // Not a refusal (a far-behind candidate may see this honestly) but it
    // must not make a leader re-propose up to slot 2^62.
    let (mut cluster, ballot, from_slot) = candidate();
    let far = PromiseEntry { slot: SLOT_MAX, ballot: Ballot::ZERO, command: Command::Noop, chosen: true };
    for from in [2, 3] {
        let body = Body::Promise {
            ballot,
            from_slot,
            entries: vec![far.clone()],
            truncated: false,
            compacted_upto: 0,
            commit_index: 0,
        };
        deliver_to(&mut cluster, 1, Message { from, to: 1, body });
    }
    assert_ne!(cluster.replica(1).role(), RoleKind::Leader);
}

#[test]
fn a_normal_election_still_works_after_many_rounds() {
    // Every member durably promised a ballot at round 2^40: the next
    // election runs one round above it, well inside the window of each.
    let high = Ballot::new(1 << 40, 2);
    let mut cluster = Cluster::new(3, 10);
    for id in 1..=3 {
        let node = cluster.nodes.get_mut(&id).unwrap();
        node.durable.promised = high;
        node.replica = None;
        cluster.restart(id);
    }
    let leader = cluster.elect();
    assert!(cluster.replica(leader).promised() > high);
    assert!(matches!(cluster.propose(leader, 1, batch(1, 4)), Action::Proposed { .. }));
    cluster.run(200);
    for id in 1..=3 {
        assert_eq!(cluster.applied_batches(id), vec![1]);
    }
    // A replica cut off through many election timeouts asks for pre-votes
    // in vain and raises no round (the others' rounds do not move either:
    // the leader stays); it rejoins under one leader.
    let isolated = (1..=3).find(|id| *id != leader).unwrap();
    let elections_before = cluster.replica(isolated).stats().elections_started;
    cluster.drop = Box::new(move |m| m.from == isolated || m.to == isolated);
    cluster.run(10_000);
    assert!(cluster.replica(isolated).stats().prevotes_started >= 10);
    assert_eq!(cluster.replica(isolated).stats().elections_started, elections_before);
    cluster.drop = Box::new(|_| false);
    cluster.run(2_000);
    assert_eq!(cluster.leaders().len(), 1);
    // But a jump past the window from a member is refused.
    let now = cluster.leaders()[0];
    let other = (1..=3).find(|id| *id != now).unwrap();
    let seen = cluster.replica(other).promised().round;
    let jump = Ballot::new(seen + BALLOT_WINDOW_ROUNDS + 1, now);
    let heartbeat = Body::Heartbeat { ballot: jump, commit_index: 0, seq: 1 };
    assert_refused(&mut cluster, now, other, heartbeat, Refusal::BallotJump);
}

#[test]
fn applies_stay_within_the_apply_ahead_limit_while_a_follower_catches_up() {
    const AHEAD: u64 = 8;
    let mut cluster = Cluster::with_options(3, 11, |o| {
        o.limits.apply_ahead_max = AHEAD;
        o.limits.fetch_entries_max = 4;
    });
    let leader = cluster.elect();
    let lagging = (1..=3).find(|id| *id != leader).unwrap();
    cluster.crash(lagging);
    for i in 0..60 {
        cluster.propose(leader, i, batch(i, 4));
        cluster.run(20);
    }
    let target = cluster.replica(leader).commit_index();
    assert!(target >= 60);
    cluster.restart(lagging);
    cluster.nodes.get_mut(&lagging).unwrap().hold_applied_reports = true;
    let reported_at_restart = cluster.replica(lagging).applied_reported();
    cluster.run(1_000);
    // The state machine reported nothing: the replica handed out exactly
    // AHEAD slots, and fetched no further than one chunk past them.
    let replica = cluster.replica(lagging);
    assert_eq!(replica.applied_index(), reported_at_restart + AHEAD);
    assert!(replica.commit_index() <= reported_at_restart + AHEAD + 4, "fetched ahead: {}", replica.commit_index());
    let applies = cluster.nodes[&lagging].outputs.iter().filter(|a| matches!(a, Action::Apply { .. })).count();
    assert_eq!(applies as u64, AHEAD);
    // Each report frees room; the follower catches up all the way.
    for _ in 0..100 {
        cluster.report_applied(lagging);
        cluster.run(50);
        let replica = cluster.replica(lagging);
        assert!(replica.applied_index() - replica.applied_reported() <= AHEAD);
        if replica.applied_index() == target {
            break;
        }
    }
    assert_eq!(cluster.replica(lagging).applied_index(), target);
    assert_eq!(cluster.applied_batches(lagging), (0..60).collect::<Vec<_>>());
}

#[test]
fn a_leader_whose_applier_lags_takes_no_new_proposals() {
    const AHEAD: u64 = 4;
    let mut cluster = Cluster::with_options(3, 12, |o| o.limits.apply_ahead_max = AHEAD);
    let leader = cluster.elect();
    cluster.run(100);
    cluster.nodes.get_mut(&leader).unwrap().hold_applied_reports = true;
    let mut accepted = 0;
    for i in 0..20 {
        match cluster.propose(leader, i, batch(i, 4)) {
            Action::Proposed { .. } => accepted += 1,
            Action::ProposeRejected { error: ProposeError::TooManyInflight { .. }, .. } => break,
            other => panic!("{other:?}"),
        }
        cluster.run(20);
    }
    assert!(accepted <= AHEAD + 1, "{accepted} proposals taken with the applier stalled");
    cluster.report_applied(leader);
    assert!(matches!(cluster.propose(leader, 100, batch(100, 4)), Action::Proposed { .. }));
}

fn arbitrary_ballot() -> impl Strategy<Value = Ballot> {
    let round = prop_oneof![0..4u64, any::<u64>(), (ROUND_MAX - 2)..=(ROUND_MAX + 2)];
    (round, 0..7u8).prop_map(|(round, node)| Ballot::new(round, node))
}

fn arbitrary_slot() -> impl Strategy<Value = Slot> {
    prop_oneof![0..12u64, any::<u64>(), (SLOT_MAX - 1)..=(SLOT_MAX + 1)]
}

fn arbitrary_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Noop),
        (0..4u64, 0..16usize).prop_map(|(id, len)| batch(id, len)),
        proptest::collection::vec(0..6u8, 0..9).prop_map(|m| Command::Config(ClusterConfig::new(m))),
    ]
}

fn arbitrary_body() -> impl Strategy<Value = Body> {
    let entry = (arbitrary_slot(), arbitrary_ballot(), arbitrary_command(), any::<bool>())
        .prop_map(|(slot, ballot, command, chosen)| PromiseEntry { slot, ballot, command, chosen });
    let config = proptest::option::of(
        (arbitrary_slot(), proptest::collection::vec(0..6u8, 0..5))
            .prop_map(|(slot, m)| ChosenConfig { slot, config: ClusterConfig::new(m) }),
    );
    prop_oneof![
        (arbitrary_ballot(), arbitrary_slot()).prop_map(|(ballot, from_slot)| Body::Prepare { ballot, from_slot }),
        (
            arbitrary_ballot(),
            arbitrary_slot(),
            proptest::collection::vec(entry, 0..4),
            any::<bool>(),
            arbitrary_slot(),
            arbitrary_slot()
        )
            .prop_map(|(ballot, from_slot, entries, truncated, compacted_upto, commit_index)| Body::Promise {
                ballot,
                from_slot,
                entries,
                truncated,
                compacted_upto,
                commit_index
            }),
        (arbitrary_ballot(), arbitrary_ballot(), arbitrary_slot(), arbitrary_slot())
            .prop_map(|(ballot, promised, slot, commit_index)| Body::Nack { ballot, promised, slot, commit_index }),
        (arbitrary_ballot(), arbitrary_slot(), arbitrary_command(), arbitrary_slot())
            .prop_map(|(ballot, slot, command, commit_index)| Body::Accept { ballot, slot, command, commit_index }),
        (arbitrary_ballot(), arbitrary_slot()).prop_map(|(ballot, slot)| Body::Accepted { ballot, slot }),
        (arbitrary_ballot(), arbitrary_slot(), any::<u64>()).prop_map(|(ballot, commit_index, seq)| Body::Heartbeat {
            ballot,
            commit_index,
            seq
        }),
        (arbitrary_ballot(), any::<u64>(), arbitrary_slot())
            .prop_map(|(ballot, seq, commit_index)| Body::HeartbeatAck { ballot, seq, commit_index }),
        arbitrary_slot().prop_map(|from_slot| Body::Fetch { from_slot }),
        (arbitrary_slot(), proptest::collection::vec((arbitrary_slot(), arbitrary_command()), 0..4), arbitrary_slot())
            .prop_map(|(from_slot, entries, commit_index)| Body::FetchReply { from_slot, entries, commit_index }),
        (arbitrary_ballot(), arbitrary_slot())
            .prop_map(|(ballot, commit_index)| Body::PreVote { ballot, commit_index }),
        (arbitrary_ballot(), any::<bool>(), arbitrary_ballot())
            .prop_map(|(ballot, granted, promised)| Body::PreVoteReply { ballot, granted, promised }),
        (arbitrary_slot(), proptest::collection::vec(any::<u8>(), 0..8), config).prop_map(
            |(last_slot, bytes, config)| Body::InstallSnapshot { snapshot: Snapshot { last_slot, bytes, config } }
        ),
    ]
}

fn arbitrary_message() -> impl Strategy<Value = Message> {
    (0..6u8, 0..6u8, arbitrary_body()).prop_map(|(from, to, body)| Message { from, to, body })
}

/// A 3-node cluster in one of three shapes: 0 a leader and two followers,
/// 1 node 1 campaigning, 2 one node installing a snapshot.
fn cluster_in_shape(shape: u8) -> Cluster {
    let mut cluster = match shape {
        1 => {
            let mut cluster = Cluster::new(3, 21);
            // Only node 1's pre-vote and its grants get through (bounded:
            // node 1 campaigns within a few election timeouts).
            cluster.drop = Box::new(|m| match m.body {
                Body::PreVote { .. } => m.from != 1,
                Body::PreVoteReply { .. } => m.to != 1,
                _ => true,
            });
            for _ in 0..200 {
                if cluster.replica(1).role() == RoleKind::Candidate {
                    break;
                }
                cluster.run(10);
            }
            assert_eq!(cluster.replica(1).role(), RoleKind::Candidate, "node 1 never campaigned");
            cluster
        }
        2 => {
            let mut cluster = Cluster::new(3, 23);
            let leader = cluster.elect();
            let lagging = (1..=3).find(|id| *id != leader).unwrap();
            cluster.crash(lagging);
            for i in 0..5 {
                cluster.propose(leader, i, batch(i, 4));
            }
            cluster.run(100);
            for id in (1..=3).filter(|id| *id != lagging) {
                cluster.compact(id);
            }
            cluster.nodes.get_mut(&lagging).unwrap().hold_installs = true;
            cluster.restart(lagging);
            cluster.run(500);
            assert!(cluster.replica(lagging).installing().is_some());
            cluster
        }
        _ => {
            let mut cluster = Cluster::new(3, 22);
            let leader = cluster.elect();
            cluster.propose(leader, 1, batch(1, 4));
            cluster.run(100);
            cluster
        }
    };
    // The harness's state machine decodes snapshots; garbage ones must not
    // reach it (the replica's handling of them is what is tested).
    for node in cluster.nodes.values_mut() {
        node.hold_installs = true;
    }
    cluster
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No peer message, however malformed, panics a replica in any role,
    /// then or later (the cluster keeps running after the barrage).
    #[test]
    fn arbitrary_messages_never_panic_a_replica(
        shape in 0..3u8,
        messages in proptest::collection::vec(arbitrary_message(), 1..24),
    ) {
        let mut cluster = cluster_in_shape(shape);
        for at in 1..=3u8 {
            for message in &messages {
                let actions = cluster.step(at, Event::Receive(message.clone()));
                if actions.iter().any(|a| matches!(a, Action::MessageRefused { .. })) {
                    prop_assert_eq!(actions.len(), 1);
                }
            }
            cluster.deliver_all();
        }
        cluster.drop = Box::new(|_| false);
        cluster.run(1_000);
    }
}
