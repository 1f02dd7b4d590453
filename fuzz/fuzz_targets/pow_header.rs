//! Compact targets and block headers (crates/synod-pow: compact.rs,
//! header.rs, verify.rs): what `synod verify --headers FILE` and every
//! received header go through.
//!
//! Mode 0: 4 bytes of `bits` and 32 bytes of a 256-bit value: a valid target
//! re-encodes to the same value; any value encodes to a non-negative,
//! non-overflowing compact no larger than itself.
//! Mode 1: a header file: each 80-byte header round-trips, and the file
//! verifies or is refused (typed) under Bitcoin's and the dev parameters,
//! with and without a start height and a clock.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synod_fuzz_support::Input;
use synod_pow::{verify_headers_at, Compact, Header, Params, HEADER_LEN, U256};

fn check_compact(input: &mut Input<'_>) {
    let bits = u32::from_be_bytes([input.u8(), input.u8(), input.u8(), input.u8()]);
    let mut raw = [0u8; 32];
    raw.copy_from_slice(&{
        let mut b = input.take(32).to_vec();
        b.resize(32, 0);
        b
    });
    for limit in [U256::MAX, U256::MAX.shr(1), *Params::bitcoin_mainnet().pow_limit()] {
        if let Ok(target) = Compact::target(bits, &limit) {
            assert!(target <= limit && !target.is_zero());
            let again = Compact::decode(Compact::from_target(&target));
            assert_eq!(again.value, target, "a valid target re-encodes to itself (bits {bits:#010x})");
            assert!(!again.negative && !again.overflow);
        }
    }
    let value = U256::from_be_bytes(raw);
    let c = Compact::decode(Compact::from_target(&value));
    assert!(!c.negative && !c.overflow, "encoding {value:?} gave a negative or overflowing compact");
    assert!(c.value <= value, "encoding rounds down, never up");
    assert_eq!(c.value.is_zero(), value.is_zero());
}

fn check_headers(input: &mut Input<'_>) {
    let start = input.u16();
    let now = i64::from(input.u16()) << 16;
    let bytes = input.rest();
    for chunk in bytes.chunks_exact(HEADER_LEN) {
        let header = Header::parse(chunk).expect("80 bytes");
        assert_eq!(header.to_bytes()[..], chunk[..], "header round trip");
    }
    let dev = Params::synod(U256::MAX.shr(1), 10, 8).expect("valid dev parameters");
    for params in [Params::bitcoin_mainnet(), dev] {
        for start_height in [None, Some(u64::from(start))] {
            for clock in [None, Some(now)] {
                if let Ok(report) = verify_headers_at(bytes, start_height, &params, clock) {
                    assert!(!bytes.is_empty() && bytes.len() % HEADER_LEN == 0);
                    let _ = report;
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    if input.u8() % 2 == 0 {
        check_compact(&mut input);
    } else {
        check_headers(&mut input);
    }
});
