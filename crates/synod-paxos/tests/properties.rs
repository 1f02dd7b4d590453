//! Property tests: ballot order, and the message size estimate never
//! underestimates the real encoding.

use proptest::prelude::*;
use synod_paxos::*;

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Noop),
        (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(id, bytes)| Command::Batch(Batch { id: BatchId(id), bytes })),
        proptest::collection::vec(any::<u8>(), 3..8).prop_map(|m| Command::Config(ClusterConfig::new(m))),
    ]
}

fn ballot() -> impl Strategy<Value = Ballot> {
    (any::<u64>(), any::<u8>()).prop_map(|(r, n)| Ballot::new(r, n))
}

proptest! {
    #[test]
    fn ballots_order_by_round_then_node(a in ballot(), b in ballot()) {
        prop_assert_eq!(a.cmp(&b), (a.round, a.node).cmp(&(b.round, b.node)));
        match a.next_for(b.node) {
            Some(next) => prop_assert!(next > a && next.round <= synod_paxos::ballot::ROUND_MAX),
            None => prop_assert!(a.round >= synod_paxos::ballot::ROUND_MAX),
        }
    }

    #[test]
    fn size_bound_covers_postcard_encoding(
        entries in proptest::collection::vec((any::<u64>(), ballot(), command(), any::<bool>()), 0..20),
        from in any::<u8>(), to in any::<u8>(), b in ballot(), slot in any::<u64>(),
    ) {
        let promise = Body::Promise {
            ballot: b,
            from_slot: slot,
            entries: entries.iter().map(|(s, b, c, chosen)| PromiseEntry { slot: *s, ballot: *b, command: c.clone(), chosen: *chosen }).collect(),
            truncated: false,
            compacted_upto: u64::MAX,
            commit_index: u64::MAX,
        };
        let fetch = Body::FetchReply { from_slot: slot, entries: entries.iter().map(|(s, _, c, _)| (*s, c.clone())).collect(), commit_index: u64::MAX };
        let mut bodies = vec![promise, fetch];
        for (s, _, c, _) in &entries {
            bodies.push(Body::Accept { ballot: b, slot: *s, command: c.clone(), commit_index: u64::MAX });
        }
        bodies.push(Body::Nack { ballot: b, promised: b, slot, commit_index: u64::MAX });
        bodies.push(Body::Heartbeat { ballot: b, commit_index: u64::MAX, seq: u64::MAX });
        for body in bodies {
            let message = Message { from, to, body };
            let encoded = postcard::to_allocvec(&message).unwrap();
            prop_assert!(encoded.len() <= message.body.size_bound());
            let decoded: Message = postcard::from_bytes(&encoded).unwrap();
            prop_assert_eq!(decoded, message);
        }
    }
}
