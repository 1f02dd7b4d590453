//! PoW gossip (crates/synod-pow/src/gossip): message decode round trip, then
//! the bytes fed to a `Gossip` instance over a short mined chain, from three
//! connected peers, interleaved with ticks. Must never panic; the chain it
//! drives keeps its invariants (checked by `ChainState` itself).
//!
//! Input: ops until the input ends: `0 ms u8` tick after `ms * 16` ms;
//! `1 peer u8, len u16, bytes` those bytes from that peer (1..=3);
//! `2 peer u8` that peer disconnects and connects again.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use synod_fuzz_support::chain::{chain, T0};
use synod_fuzz_support::Input;
use synod_pow::chain::ChainState;
use synod_pow::gossip::{Gossip, GossipLimits, GossipMsg, PeerId};

const OPS_MAX: usize = 64;
const PEERS: PeerId = 3;

fn fixture() -> &'static ChainState {
    static CHAIN: OnceLock<ChainState> = OnceLock::new();
    CHAIN.get_or_init(|| chain().0)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut chain = fixture().clone();
    let mut gossip = Gossip::new(GossipLimits::default());
    let mut now_ms: u64 = 1_000;
    let now_secs = T0 + 1_000;
    for peer in 1..=PEERS {
        gossip.peer_connected(peer, &chain, now_ms);
    }
    for _ in 0..OPS_MAX {
        if input.is_empty() {
            break;
        }
        match input.u8() % 3 {
            0 => {
                now_ms += u64::from(input.u8()) * 16;
                gossip.on_tick(&chain, now_ms);
            }
            1 => {
                let peer = PeerId::from(input.u8()) % PEERS + 1;
                let bytes = input.sized();
                if let Ok(msg) = GossipMsg::from_bytes(bytes) {
                    let again = GossipMsg::from_bytes(&msg.to_bytes()).expect("a re-encoded message decodes");
                    assert_eq!(again, msg, "decode -> encode -> decode changed the message");
                }
                gossip.on_wire_message(peer, bytes, &mut chain, now_ms, now_secs);
            }
            _ => {
                let peer = PeerId::from(input.u8()) % PEERS + 1;
                gossip.peer_disconnected(peer);
                gossip.peer_connected(peer, &chain, now_ms);
            }
        }
    }
    gossip.take_events();
});
