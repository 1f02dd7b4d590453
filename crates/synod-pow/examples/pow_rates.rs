//! Micro benchmark, one line per measurement:
//! (a) header verification rate over the real mainnet file (repeated),
//! (b) midstate miner hashes/s on one thread,
//! (c) plain double SHA-256 of 80 bytes per second.
//!
//! Run: `cargo run -p synod-pow --release --example pow_rates [-- PATH]`
//! (PATH defaults to shared/data next to the repository).

use std::hint::black_box;
use std::time::{Duration, Instant};

use synod_pow::{mine, sha256d, verify_headers, Header, Params, HEADER_LEN, U256};

const DEFAULT_PATH: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/bitcoin-mainnet-822528-826559.headers");
const MIN_TIME: Duration = Duration::from_secs(2);

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| DEFAULT_PATH.to_string());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let params = Params::bitcoin_mainnet();

    // (a) Full verification, repeated until MIN_TIME has passed.
    let start = Instant::now();
    let mut headers = 0u64;
    let mut runs = 0u32;
    while start.elapsed() < MIN_TIME {
        let report = verify_headers(black_box(&bytes), Some(822_528), &params).expect("file verifies");
        headers += report.count;
        runs += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("verify_headers: {:.0} headers/s ({headers} headers in {runs} runs, {secs:.2}s)", headers as f64 / secs);

    // (b) Midstate miner over a nonce range with an impossible target, so
    // every nonce is tried.
    let header = Header::parse(&bytes[..HEADER_LEN]).expect("80 bytes");
    let mut tried = 0u64;
    let start = Instant::now();
    let chunk: u32 = 1 << 20;
    let mut from = 0u32;
    while start.elapsed() < MIN_TIME {
        let to = from + (chunk - 1);
        let found = mine(black_box(&header), from..=to, &U256::ZERO);
        assert!(found.is_none());
        tried += u64::from(chunk);
        from = from.wrapping_add(chunk);
    }
    let secs = start.elapsed().as_secs_f64();
    println!("midstate miner (1 thread): {:.0} hashes/s ({tried} nonces in {secs:.2}s)", tried as f64 / secs);

    // (c) Plain double SHA-256 of 80 bytes, nonce varied per call.
    let mut buf = header.to_bytes();
    let mut done = 0u64;
    let mut acc = 0u8;
    let start = Instant::now();
    while start.elapsed() < MIN_TIME {
        for n in 0..(1u32 << 16) {
            buf[76..80].copy_from_slice(&n.to_le_bytes());
            acc ^= sha256d(black_box(&buf)).0[31];
        }
        done += 1 << 16;
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(acc);
    println!("plain sha256d(80 bytes): {:.0} hashes/s ({done} hashes in {secs:.2}s)", done as f64 / secs);
}
