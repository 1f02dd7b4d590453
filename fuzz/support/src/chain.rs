//! A dev PoW chain (easiest target) with a few mined blocks, some carrying
//! transfers, and a transfer still in the mempool.

use std::sync::atomic::AtomicBool;

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis, SignedTransfer, Transfer};
use synod_pow::chain::{mine_block, ChainConfig, ChainState, HashCounter, MineOutcome, MinerConfig, PowBlock};
use synod_pow::Compact;

pub const CHAIN_ID: u64 = 9;
/// Genesis time, Unix seconds.
pub const T0: i64 = 1_700_000_000;
pub const BLOCKS: usize = 6;

pub fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

pub fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=3u8).map(|n| Allocation { account: key(n).account(), amount: 100_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: CHAIN_ID, auth: AuthMode::Ed25519, timestamp_ms: T0 as u64 * 1000, allocations }
}

pub fn config() -> ChainConfig {
    ChainConfig::dev(genesis(), 10, 8, 1_000, 10)
}

pub fn transfer(from: u8, to: u8, amount: u64, fee: u64, nonce: u64) -> SignedTransfer {
    Transfer { chain_id: CHAIN_ID, from: key(from).account(), to: key(to).account(), amount, fee, nonce, memo: vec![] }
        .sign(&key(from))
}

pub fn miner() -> AccountId {
    AccountId([0xe1; 32])
}

/// Solves `block` against its own (easy) bits.
pub fn solve(block: PowBlock) -> PowBlock {
    let target = Compact::decode(block.header.bits).value;
    let cfg = MinerConfig { threads: 1, chunk: 1024, max_nonce: u32::MAX, max_time: None, max_headers: 4 };
    match mine_block(block, &target, &cfg, &HashCounter::new(), &AtomicBool::new(false)) {
        MineOutcome::Found(m) => m.block,
        other => panic!("easy target not solved: {other:?}"),
    }
}

/// The chain after `BLOCKS` blocks (block `i` carries a transfer from key
/// `i % 3 + 1` when `i` is odd), one more transfer pending, and the blocks.
pub fn chain() -> (ChainState, Vec<PowBlock>) {
    let mut chain = ChainState::new(config()).expect("valid dev config");
    let mut blocks = Vec::new();
    let mut nonces = [0u64; 4];
    for i in 0..BLOCKS {
        if i % 2 == 1 {
            let from = (i % 3 + 1) as u8;
            let tx = transfer(from, from % 3 + 1, 5, 1, nonces[from as usize]);
            nonces[from as usize] += 1;
            chain.submit_transfer(tx).expect("fixture transfer is valid");
        }
        let now = i64::from(chain.best_tip().time) + 10;
        let block = solve(chain.block_template(miner(), now));
        chain.receive_block(block.clone(), now);
        blocks.push(block);
    }
    assert_eq!(chain.best_tip().height, BLOCKS as u64, "every fixture block extends the chain");
    chain.submit_transfer(transfer(1, 2, 7, 1, nonces[1])).expect("pending fixture transfer is valid");
    (chain, blocks)
}
