//! Pre-vote (Raft thesis §9.6): a node cut off from the cluster for many
//! election timeouts rejoins without deposing the healthy leader, because it
//! never raised its ballot while away.

mod harness;

use harness::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synod_paxos::validate::Refusal;
use synod_paxos::*;

/// Election timeouts the node stays cut off: the outside tester saw 25
/// rounds in 5 s.
const AWAY_MS: u64 = 25 * 300;

struct Outcome {
    leader_before: NodeId,
    leader_ballot_before: Ballot,
    leaders_after: Vec<NodeId>,
    leader_ballot_after: Ballot,
    away_promised_before: Ballot,
    away_promised_while_away: Ballot,
    away_leader_hint_after: Option<NodeId>,
    away_prevotes: u64,
    away_elections: u64,
}

fn isolate_a_follower_and_heal(n: u8, seed: u64, bugs: BugInjection) -> Outcome {
    let mut cluster = Cluster::with_options(n, seed, |o| o.bugs = bugs);
    let leader = cluster.elect();
    cluster.run(500);
    let away = (1..=n).find(|id| *id != leader).expect("a follower");
    let leader_ballot_before = cluster.replica(leader).promised();
    let away_promised_before = cluster.replica(away).promised();
    let elections_before = cluster.replica(away).stats().elections_started;
    cluster.drop = Box::new(move |m| m.from == away || m.to == away);
    cluster.run(AWAY_MS);
    let away_promised_while_away = cluster.replica(away).promised();
    cluster.drop = Box::new(|_| false);
    cluster.run(2_000);
    Outcome {
        leader_before: leader,
        leader_ballot_before,
        leaders_after: cluster.leaders(),
        leader_ballot_after: cluster.replica(leader).promised(),
        away_promised_before,
        away_promised_while_away,
        away_leader_hint_after: cluster.replica(away).leader_hint(),
        away_prevotes: cluster.replica(away).stats().prevotes_started,
        away_elections: cluster.replica(away).stats().elections_started - elections_before,
    }
}

#[test]
fn a_returning_node_leaves_the_leader_and_its_ballot_alone() {
    for n in [3u8, 5] {
        for seed in 0..20 {
            let o = isolate_a_follower_and_heal(n, seed, BugInjection::default());
            let at = format!("n={n} seed={seed}");
            assert_eq!(o.leaders_after, vec![o.leader_before], "{at}");
            assert_eq!(o.leader_ballot_after, o.leader_ballot_before, "leader re-elected: {at}");
            // The cut-off node asked, was never granted, and raised nothing.
            assert!(o.away_prevotes >= 10, "{at}: only {} pre-votes", o.away_prevotes);
            assert_eq!(o.away_elections, 0, "{at}");
            assert_eq!(o.away_promised_while_away, o.away_promised_before, "{at}");
            assert_eq!(o.away_leader_hint_after, Some(o.leader_before), "{at}");
        }
    }
}

/// The same run with pre-vote disabled deposes the leader: the scenario
/// above would fail without the fix.
#[test]
fn without_prevote_the_returning_node_deposes_the_leader() {
    let bugs = BugInjection { no_prevote: true, ..BugInjection::default() };
    let o = isolate_a_follower_and_heal(3, 0, bugs);
    assert!(o.away_elections >= 10, "campaigned only {} times", o.away_elections);
    assert!(o.away_promised_while_away.round >= o.away_promised_before.round + 10);
    assert!(o.leader_ballot_after > o.leader_ballot_before, "the leader kept its ballot");
}

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(9)
}

fn replies(actions: &[Action]) -> Vec<(NodeId, Body)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(m) => Some((m.to, m.body.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_member_following_a_live_leader_refuses_and_changes_nothing() {
    let mut cluster = Cluster::new(3, 4);
    let leader = cluster.elect();
    cluster.run(200);
    let member = (1..=3).find(|id| *id != leader).unwrap();
    let asker = (1..=3).find(|id| *id != leader && *id != member).unwrap();
    let promised = cluster.replica(member).promised();
    let ballot = Ballot::new(promised.round + 1, asker);
    let commit_index = cluster.replica(member).commit_index();
    let ask = Message { from: asker, to: member, body: Body::PreVote { ballot, commit_index } };
    cluster.net.clear();
    let actions = cluster.step(member, Event::Receive(ask));
    assert!(!actions.iter().any(|a| matches!(a, Action::Persist { .. })));
    assert_eq!(replies(&actions), vec![(asker, Body::PreVoteReply { ballot, granted: false, promised })]);
    assert_eq!(cluster.replica(member).promised(), promised);
    // The leader refuses too.
    let ask = Message { from: asker, to: leader, body: Body::PreVote { ballot, commit_index } };
    let actions = cluster.step(leader, Event::Receive(ask));
    assert!(matches!(replies(&actions)[..], [(_, Body::PreVoteReply { granted: false, .. })]));
}

#[test]
fn a_member_without_a_leader_grants_only_an_asker_not_behind_it() {
    let mut cluster = Cluster::new(3, 5);
    let leader = cluster.elect();
    cluster.run(200);
    let member = (1..=3).find(|id| *id != leader).unwrap();
    let asker = (1..=3).find(|id| *id != leader && *id != member).unwrap();
    cluster.crash(leader);
    // Past the lease: the member no longer hears a live leader.
    let mut replica = cluster.replica(member).clone();
    let now = cluster.now_ms + 150;
    let promised = replica.promised();
    let commit = replica.commit_index();
    assert!(commit > 0);
    let ballot = Ballot::new(promised.round + 1, asker);
    let ask = |replica: &mut Replica, body| {
        replies(&replica.step(now, Event::Receive(Message { from: asker, to: member, body }), &mut rng()))
    };
    let answer = |g, promised| vec![(asker, Body::PreVoteReply { ballot, granted: g, promised })];
    assert_eq!(
        ask(&mut replica, Body::PreVote { ballot, commit_index: commit - 1 }),
        answer(false, promised),
        "asker behind"
    );
    assert_eq!(ask(&mut replica, Body::PreVote { ballot, commit_index: commit }), answer(true, promised));
    // A grant promises nothing and persists nothing.
    assert_eq!(replica.promised(), promised);
    assert_eq!(replica.last_token(), cluster.replica(member).last_token());
    // Once it promised a higher ballot (a real Prepare), the same ask is
    // refused: the asker's Prepare would be nacked.
    let higher = Ballot::new(promised.round + 2, asker);
    ask(&mut replica, Body::Prepare { ballot: higher, from_slot: commit + 1 });
    assert_eq!(ask(&mut replica, Body::PreVote { ballot, commit_index: commit }), answer(false, higher));
}

#[test]
fn prevote_messages_are_validated() {
    let mut cluster = Cluster::new(3, 6);
    cluster.elect();
    let mut replica = cluster.replica(1).clone();
    let now = cluster.now_ms;
    let mut refused = |from, body| {
        let actions = replica.step(now, Event::Receive(Message { from, to: 1, body }), &mut rng());
        actions.iter().find_map(|a| match a {
            Action::MessageRefused { reason, .. } => Some(*reason),
            _ => None,
        })
    };
    let huge = Ballot::new(u64::MAX, 2);
    assert_eq!(
        refused(2, Body::PreVote { ballot: Ballot::new(3, 3), commit_index: 0 }),
        Some(Refusal::BallotNotSenders)
    );
    assert_eq!(refused(2, Body::PreVote { ballot: Ballot::new(0, 2), commit_index: 0 }), Some(Refusal::BallotZero));
    assert_eq!(refused(2, Body::PreVote { ballot: huge, commit_index: 0 }), Some(Refusal::BallotAboveMax));
    assert_eq!(
        refused(2, Body::PreVote { ballot: Ballot::new(1, 2), commit_index: u64::MAX }),
        Some(Refusal::SlotAboveMax)
    );
    let reply = |ballot, promised| Body::PreVoteReply { ballot, granted: true, promised };
    assert_eq!(refused(2, reply(Ballot::new(3, 2), Ballot::ZERO)), Some(Refusal::BallotNotOurs));
    assert_eq!(refused(2, reply(Ballot::new(3, 1), huge)), Some(Refusal::BallotAboveMax));
    assert_eq!(refused(2, reply(Ballot::new(3, 1), Ballot::new(1 << 40, 2))), Some(Refusal::BallotJump));
}

#[test]
fn prevote_messages_encode_as_documented() {
    // docs/PROTOCOL.md 7.3: variant indexes 10 and 11, fields in order.
    let ask = Message { from: 2, to: 1, body: Body::PreVote { ballot: Ballot::new(7, 2), commit_index: 300 } };
    assert_eq!(postcard::to_allocvec(&ask).unwrap(), [0x02, 0x01, 0x0a, 0x07, 0x02, 0xac, 0x02]);
    let reply = Message {
        from: 1,
        to: 2,
        body: Body::PreVoteReply { ballot: Ballot::new(7, 2), granted: true, promised: Ballot::new(5, 3) },
    };
    assert_eq!(postcard::to_allocvec(&reply).unwrap(), [0x01, 0x02, 0x0b, 0x07, 0x02, 0x01, 0x05, 0x03]);
}
