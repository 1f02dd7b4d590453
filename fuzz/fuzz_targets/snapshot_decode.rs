//! Snapshot wire formats (crates/synod-storage/src/snapshot/): the
//! descriptor carried in a Paxos `InstallSnapshot`, and a chunk as a member
//! serves it over HTTP. Both decoders return typed errors, and what they
//! accept round-trips.
//!
//! Input: `mode u8`, then the bytes: mode 0 a descriptor; mode 1 a chunk as
//! is; mode 2 a chunk body to which the target appends its valid CRC-32, so
//! the fuzzer gets past the checksum to the fields behind it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synod_fuzz_support::store::CHUNK_BYTES;
use synod_storage::snapshot::{Chunk, SnapshotDescriptor, CHUNK_BYTES_MAX};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(d) = SnapshotDescriptor::decode(rest) {
                let bytes = d.encode();
                assert_eq!(SnapshotDescriptor::decode(&bytes).as_ref(), Ok(&d), "descriptor round trip");
                if rest.first() != Some(&1) {
                    // Version 2 has one encoding per descriptor.
                    assert_eq!(bytes, rest, "an accepted version-2 descriptor is its own encoding");
                }
            }
        }
        m => {
            let mut bytes = rest.to_vec();
            if m == 2 {
                let crc = crc32fast::hash(&bytes);
                bytes.extend_from_slice(&crc.to_be_bytes());
            }
            for bytes_max in [CHUNK_BYTES, CHUNK_BYTES_MAX] {
                if let Ok(chunk) = Chunk::decode(&bytes, bytes_max) {
                    assert!(!chunk.blocks.is_empty());
                    assert_eq!(chunk.encode(), bytes, "an accepted chunk is its own encoding");
                }
            }
        }
    }
});
