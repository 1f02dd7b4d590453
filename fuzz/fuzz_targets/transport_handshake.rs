//! The peer handshake decoder (crates/synod-node/src/transport/handshake.rs):
//! any 20 bytes decode to a typed result, a valid one re-encodes to the same
//! bytes, and nothing but the exact layout is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synod_node::transport::handshake::Handshake;
use synod_node::transport::{HandshakeError, HANDSHAKE_BYTES, MAGIC, PROTOCOL_VERSION};

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = <[u8; HANDSHAKE_BYTES]>::try_from(data) else {
        return;
    };
    // Once against a fixed cluster id, once against the id the bytes claim,
    // so the fuzzer also reaches the accepting path.
    let claimed = u64::from_be_bytes(payload[10..18].try_into().expect("8 bytes"));
    for cluster_id in [0x5359_4e4f_4400_0001, claimed] {
        match Handshake::decode(&payload, cluster_id) {
            Ok(h) => {
                assert_eq!(h.cluster_id, cluster_id);
                assert_eq!(h.encode(), payload, "an accepted handshake is its own encoding");
                assert_eq!(payload[..8], MAGIC);
                assert_eq!(u16::from_be_bytes([payload[8], payload[9]]), PROTOCOL_VERSION);
            }
            Err(HandshakeError::Magic(m)) => assert_ne!(m, MAGIC),
            Err(HandshakeError::Version { got, .. }) => assert_ne!(got, PROTOCOL_VERSION),
            Err(HandshakeError::Cluster { got, expected }) => assert_ne!(got, expected),
            Err(HandshakeError::Channel(byte)) => assert!(byte > 1, "channels 0 and 1 exist"),
            Err(other) => panic!("decode returned a check that belongs to the caller: {other}"),
        }
    }
});
