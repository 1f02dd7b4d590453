//! The peer frame payload decoder (crates/synod-node/src/transport/frame.rs)
//! for both message types the transport carries: Paxos messages (cluster
//! mode) and gossip messages (PoW mode). Decoded messages round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synod_node::transport::frame::{decode, encode};
use synod_node::transport::ConnectionError;
use synod_paxos::Message;
use synod_pow::gossip::GossipMsg;

/// The default `frame_bytes_max` (8 MiB).
const FRAME_BYTES_MAX: usize = 8 << 20;

fn round_trip<M>(data: &[u8])
where
    M: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    match decode::<M>(data) {
        Ok(msg) => {
            let bytes = encode(&msg, FRAME_BYTES_MAX).expect("a decoded message re-encodes");
            let again = decode::<M>(&bytes).expect("a re-encoded message decodes");
            assert_eq!(again, msg, "decode -> encode -> decode changed the message");
        }
        Err(ConnectionError::Decode(_) | ConnectionError::TrailingBytes { .. }) => {}
        Err(other) => panic!("decode returned a non-decode error: {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<Message>(data);
    round_trip::<GossipMsg>(data);
});
