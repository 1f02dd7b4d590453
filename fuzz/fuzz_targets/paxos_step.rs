//! Paxos: postcard-decoded peer messages and ticks fed to `Replica::step` on
//! a replica in each role (follower, candidate, leader of a 3-node cluster
//! built on a perfect network). Must never panic, whatever the messages.
//!
//! Input: `role u8`, then ops until the input ends:
//! `0 ms u8` tick after `ms * 4` ms; `1 len u16 bytes` receive that message
//! (skipped if it does not decode, as the transport drops such a frame);
//! `2` the oldest persist requested so far becomes durable (an honest driver).
#![no_main]

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use synod_fuzz_support::paxos::{cached_subject, Role};
use synod_fuzz_support::Input;
use synod_paxos::{Action, Event, Message};

const OPS_MAX: usize = 256;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut s = cached_subject(Role::from_byte(input.u8()));
    let mut pending = VecDeque::new();
    for _ in 0..OPS_MAX {
        if input.is_empty() {
            break;
        }
        let event = match input.u8() % 3 {
            0 => {
                s.now_ms += u64::from(input.u8()) * 4;
                Event::Tick
            }
            1 => {
                let bytes = input.sized();
                let Ok(msg) = postcard::from_bytes::<Message>(bytes) else {
                    continue;
                };
                let again: Message = postcard::from_bytes(&postcard::to_allocvec(&msg).expect("encodes"))
                    .expect("a re-encoded message decodes");
                assert_eq!(again, msg, "decode -> encode -> decode changed the message");
                Event::Receive(msg)
            }
            _ => match pending.pop_front() {
                Some(token) => Event::Persisted(token),
                None => continue,
            },
        };
        for action in s.replica.step(s.now_ms, event, &mut s.rng) {
            if let Action::Persist { token, .. } = action {
                pending.push_back(token);
            }
        }
    }
});
