//! The miner: deterministic multi-threaded nonce search over the midstate,
//! time and extra-nonce rolls, hash counting.

mod common;

use std::sync::atomic::AtomicBool;

use common::*;
use synod_pow::chain::{mine_block, search_nonces, BlockOutcome, HashCounter, HashRateMeter, MineOutcome, MinerConfig};
use synod_pow::{mine, Header, U256};

fn header(seed: u8) -> Header {
    Header { version: 1, merkle_root: [seed; 32], time: 1_700_000_000, bits: 0x1f00ffff, ..Header::default() }
}

#[test]
fn multi_threaded_search_finds_the_lowest_nonce() {
    let no = AtomicBool::new(false);
    for seed in 0..6u8 {
        // About one hash in 4096 qualifies.
        let target = U256::MAX.shr(12);
        let expected = mine(&header(seed), 0..=200_000, &target);
        assert!(expected.is_some());
        for threads in [1, 2, 3, 4] {
            for chunk in [1, 100, 4096] {
                let counter = HashCounter::new();
                let got = search_nonces(&header(seed), 0..=200_000, &target, threads, chunk, &counter, &no);
                assert_eq!(got, expected, "seed {seed}, {threads} threads, chunks of {chunk}");
                assert!(
                    counter.total() > u64::from(expected.unwrap().nonce),
                    "every nonce up to the winner is counted"
                );
            }
        }
    }
    // No solution in range, and an empty range.
    let counter = HashCounter::new();
    assert_eq!(search_nonces(&header(1), 10..=1000, &U256::ZERO, 4, 64, &counter, &no), None);
    assert_eq!(counter.total(), 991);
    #[allow(clippy::reversed_empty_ranges)]
    let empty = 5..=4;
    assert_eq!(search_nonces(&header(1), empty, &U256::MAX, 2, 64, &counter, &no), None);
    // The top of the nonce space.
    let top = search_nonces(&header(2), u32::MAX - 10..=u32::MAX, &U256::MAX, 2, 3, &counter, &no);
    assert_eq!(top.unwrap().nonce, u32::MAX - 10);
}

#[test]
fn stop_flag_ends_the_search() {
    let stop = AtomicBool::new(true);
    let counter = HashCounter::new();
    assert_eq!(search_nonces(&header(3), 0..=u32::MAX, &U256::ZERO, 2, 1 << 16, &counter, &stop), None);
    let b = node().block_template(miner(1), T0 + 10);
    let cfg = MinerConfig { threads: 2, ..MinerConfig::default() };
    assert_eq!(mine_block(b, &U256::ZERO, &cfg, &counter, &stop), MineOutcome::Stopped);
}

#[test]
fn extra_nonce_roll_when_the_nonces_run_out() {
    let n = node();
    let template = n.block_template(miner(1), T0 + 10);
    // 16 nonces per header and a 1-in-256 target: several extra-nonce rolls are needed.
    let target = U256::MAX.shr(8);
    let cfg = MinerConfig { threads: 2, chunk: 4, max_nonce: 15, max_time: None, max_headers: 10_000 };
    let counter = HashCounter::new();
    let MineOutcome::Found(m) = mine_block(template.clone(), &target, &cfg, &counter, &AtomicBool::new(false)) else {
        panic!("not found")
    };
    assert!(m.extra_nonce_rolls > 0);
    assert_eq!(m.time_rolls, 0);
    assert_eq!(m.block.coinbase.extra_nonce, m.extra_nonce_rolls);
    assert!(m.block.header.nonce <= 15);
    assert_eq!(m.block.header.merkle_root, m.block.compute_merkle_root(), "the root follows the coinbase");
    assert!(m.hash.to_u256() <= target);
    assert_eq!(counter.total(), 16 * m.extra_nonce_rolls + u64::from(m.block.header.nonce) + 1);
    // The block is valid for the chain (its target is harder than required).
    let mut n = n;
    assert_eq!(n.receive_block(m.block, T0 + 10), BlockOutcome::Extended { height: 1 });
}

#[test]
fn time_roll_before_extra_nonce() {
    let n = node();
    let template = n.block_template(miner(1), T0 + 10);
    let t0 = template.header.time;
    let target = U256::MAX.shr(8);
    let cfg = MinerConfig { threads: 1, chunk: 16, max_nonce: 7, max_time: Some(t0 + 2), max_headers: 10_000 };
    let MineOutcome::Found(m) = mine_block(template, &target, &cfg, &HashCounter::new(), &AtomicBool::new(false))
    else {
        panic!("not found")
    };
    // Each extra nonce gets three times (t0, t0 + 1, t0 + 2).
    assert_eq!(m.time_rolls, 2 * m.extra_nonce_rolls + u64::from(m.block.header.time - t0));
    assert!(m.block.header.time <= t0 + 2);
    // Giving up after a few headers.
    let cfg = MinerConfig { max_headers: 3, ..cfg };
    let b = n.block_template(miner(1), T0 + 10);
    assert_eq!(mine_block(b, &U256::ZERO, &cfg, &HashCounter::new(), &AtomicBool::new(false)), MineOutcome::Exhausted);
}

#[test]
fn hash_rate_meter() {
    let mut m = HashRateMeter::new(10_000);
    assert_eq!(m.rate(), 0.0);
    m.record(0, 0);
    m.record(1_000, 5_000);
    assert_eq!(m.rate(), 5_000.0);
    m.record(2_000, 15_000);
    assert_eq!(m.rate(), 7_500.0);
    // Old samples leave the window; the newest one at or before its start stays as the baseline.
    m.record(20_000, 15_000);
    m.record(21_000, 17_000);
    assert_eq!(m.rate(), 2_000.0 / 19.0);
    m.record(31_000, 37_000);
    assert_eq!(m.rate(), 2_000.0, "from the sample at 21 s, exactly one window back");
}
