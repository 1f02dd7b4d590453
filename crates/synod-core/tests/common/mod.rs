// Shared fixtures for the core's tests (each test file includes this with `mod common;`).
#![allow(dead_code)]

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis, Ledger, SignedTransfer, Transfer};

pub const CHAIN: u64 = 7;

pub fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

/// A genesis funding keys 1..=count with `each` units.
pub fn genesis(auth: AuthMode, count: u8, each: u64) -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=count).map(|n| Allocation { account: key(n).account(), amount: each, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: CHAIN, auth, timestamp_ms: 1_700_000_000_000, allocations }
}

pub fn ledger(count: u8, each: u64) -> Ledger {
    Ledger::new(genesis(AuthMode::Ed25519, count, each)).unwrap()
}

pub fn transfer(from: u8, to: AccountId, amount: u64, nonce: u64) -> Transfer {
    Transfer { chain_id: CHAIN, from: key(from).account(), to, amount, fee: 0, nonce, memo: vec![] }
}

pub fn signed(from: u8, to: u8, amount: u64, nonce: u64) -> SignedTransfer {
    transfer(from, key(to).account(), amount, nonce).sign(&key(from))
}
