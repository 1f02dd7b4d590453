//! PoW block bytes (`PowBlock::decode`, crates/synod-pow/src/chain/block.rs),
//! as a peer's `Block` gossip message carries them: decode is total, an
//! accepted block is its own encoding, and the decoded block is offered to
//! a chain (a mined fixture), which must judge it without panicking.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use synod_fuzz_support::chain::{chain, T0};
use synod_pow::chain::{ChainState, PowBlock};

fn fixture() -> &'static ChainState {
    static CHAIN: OnceLock<ChainState> = OnceLock::new();
    CHAIN.get_or_init(|| chain().0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(block) = PowBlock::decode(data) else {
        return;
    };
    assert_eq!(block.encode(), data, "an accepted block is its own encoding");
    assert_eq!(block.encoded_len(), data.len());
    let mut chain = fixture().clone();
    chain.receive_block(block, T0 + 1_000);
});
