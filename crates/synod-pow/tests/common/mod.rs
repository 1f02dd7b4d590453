// Shared fixtures for the chain tests (each test file includes this with `mod common;`).
#![allow(dead_code)]

use std::sync::atomic::AtomicBool;

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis, SignedTransfer, Transfer};
use synod_pow::chain::{
    mine_block, BlockOutcome, ChainConfig, ChainState, HashCounter, MineOutcome, MinerConfig, PowBlock,
};
use synod_pow::Compact;

pub mod net;

pub const CHAIN: u64 = 9;
/// Genesis time, Unix seconds.
pub const T0: i64 = 1_700_000_000;
pub const EACH: u64 = 100_000;
pub const REWARD: u64 = 1_000;
pub const HALVING: u64 = 10;
pub const SPACING: u32 = 10;
pub const INTERVAL: u32 = 8;

pub fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

pub fn account(n: u8) -> AccountId {
    key(n).account()
}

/// A genesis funding keys 1..=count with `EACH` units.
pub fn genesis(count: u8) -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=count).map(|n| Allocation { account: account(n), amount: EACH, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: CHAIN, auth: AuthMode::Ed25519, timestamp_ms: T0 as u64 * 1000, allocations }
}

/// Easy dev network: spacing 10 s, retarget every 8 blocks, reward 1000 halving every 10 blocks.
pub fn config(count: u8) -> ChainConfig {
    ChainConfig::dev(genesis(count), SPACING, INTERVAL, REWARD, HALVING)
}

pub fn node() -> ChainState {
    ChainState::new(config(4)).unwrap()
}

pub fn node_with(f: impl FnOnce(&mut ChainConfig)) -> ChainState {
    let mut c = config(4);
    f(&mut c);
    ChainState::new(c).unwrap()
}

pub fn transfer(from: u8, to: u8, amount: u64, fee: u64, nonce: u64) -> SignedTransfer {
    Transfer { chain_id: CHAIN, from: account(from), to: account(to), amount, fee, nonce, memo: vec![] }
        .sign(&key(from))
}

/// Re-solves a (possibly edited) block's proof of work against its own bits.
pub fn solve(block: PowBlock) -> PowBlock {
    let target = Compact::decode(block.header.bits).value;
    let cfg = MinerConfig { threads: 1, chunk: 1024, max_nonce: u32::MAX, max_time: None, max_headers: 4 };
    match mine_block(block, &target, &cfg, &HashCounter::new(), &AtomicBool::new(false)) {
        MineOutcome::Found(m) => m.block,
        other => panic!("easy target not solved: {other:?}"),
    }
}

/// Re-seals the Merkle root, then re-solves.
pub fn reseal(mut block: PowBlock) -> PowBlock {
    block.seal_merkle_root();
    solve(block)
}

/// A solved template on `node`'s tip, not yet given to it.
pub fn next_block(node: &ChainState, miner: AccountId, now: i64) -> PowBlock {
    solve(node.block_template(miner, now))
}

/// Mines on `node`'s tip, feeds the block to it (it must extend the chain) and returns it.
pub fn mine_on(node: &mut ChainState, miner: AccountId, now: i64) -> PowBlock {
    let b = next_block(node, miner, now);
    let outcome = node.receive_block(b.clone(), now);
    assert!(matches!(outcome, BlockOutcome::Extended { .. }), "own block: {outcome:?}");
    b
}

/// Mines `n` blocks spaced `secs` apart starting after the tip's time.
pub fn mine_n(node: &mut ChainState, miner: AccountId, n: usize, secs: i64) -> Vec<PowBlock> {
    (0..n)
        .map(|_| {
            let now = i64::from(node.best_tip().time) + secs;
            mine_on(node, miner, now)
        })
        .collect()
}

/// A miner account that holds nothing at genesis.
pub fn miner(n: u8) -> AccountId {
    AccountId([0xe0 + n; 32])
}

pub fn feed(node: &mut ChainState, blocks: &[PowBlock]) -> Vec<BlockOutcome> {
    blocks.iter().map(|b| node.receive_block(b.clone(), T0 + 1_000_000)).collect()
}
