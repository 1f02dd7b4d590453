//! Memory of a ledger with 1,000,000 funded accounts (target: fits in 256 MiB).
//! Builds a `Genesis` with 1,000,000 allocations (AuthMode::None, accounts are
//! SHA-256 of their index, sorted), `Ledger::new`, then builds a few blocks of
//! 1,000 transfers, and prints the process RSS (VmRSS) along the way.
//! Run: `cargo run --release -p synod-core --example memory_1m_accounts`.

use synod_core::genesis::Allocation;
use synod_core::{sha256, AccountId, AuthMode, Genesis, Ledger, Transfer, VerifiedTransfer};

const ACCOUNTS: u64 = 1_000_000;
const BLOCKS: u64 = 5;
const PER_BLOCK: u64 = 1_000;

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).expect("field present");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let rss_start = status_kib("VmRSS:");
    println!("VmRSS at start:                     {:8.1} MiB", mib(rss_start));

    let mut accounts: Vec<AccountId> = (0..ACCOUNTS).map(|i| AccountId(sha256(&i.to_le_bytes()))).collect();
    accounts.sort_unstable();
    let allocations: Vec<Allocation> =
        accounts.iter().map(|&account| Allocation { account, amount: 1_000, policy: None }).collect();
    let genesis = Genesis { chain_id: 1, auth: AuthMode::None, timestamp_ms: 1_700_000_000_000, allocations };
    let rss_genesis = status_kib("VmRSS:");
    println!("VmRSS after building the genesis:   {:8.1} MiB", mib(rss_genesis));

    let mut ledger = Ledger::new(genesis).expect("valid genesis");
    let rss_ledger = status_kib("VmRSS:");
    println!("VmRSS after Ledger::new:            {:8.1} MiB", mib(rss_ledger));

    for b in 0..BLOCKS {
        let candidates: Vec<VerifiedTransfer> = (0..PER_BLOCK)
            .map(|j| {
                let i = (b * PER_BLOCK + j) as usize;
                Transfer {
                    chain_id: 1,
                    from: accounts[i],
                    to: accounts[accounts.len() - 1 - i],
                    amount: 1,
                    fee: 0,
                    nonce: 0,
                    memo: Vec::new(),
                }
            })
            .map(|t| synod_core::SignedTransfer::unsigned(t).verify(AuthMode::None).expect("shape"))
            .collect();
        let built = ledger.build_block(1_700_000_000_000 + (b + 1) * 1_000, candidates);
        assert!(built.outcomes.iter().all(|o| o.result.is_ok()), "every transfer applies");
    }
    assert_eq!(ledger.head().height, BLOCKS);
    assert_eq!(ledger.state().account_count(), ACCOUNTS as usize);
    let rss_blocks = status_kib("VmRSS:");
    println!("VmRSS after {BLOCKS} blocks of {PER_BLOCK} transfers: {:8.1} MiB", mib(rss_blocks));
    println!("VmHWM (peak RSS):                   {:8.1} MiB", mib(status_kib("VmHWM:")));
    println!();
    println!("delta Ledger::new alone (genesis already built):     {:8.1} MiB", mib(rss_ledger - rss_genesis));
    println!("delta start -> ledger (genesis + state, as held):    {:8.1} MiB", mib(rss_ledger - rss_start));
    println!("delta start -> after blocks:                         {:8.1} MiB", mib(rss_blocks - rss_start));
    println!(
        "(the `accounts` Vec used to build transfers, {:.1} MiB, is counted too)",
        (ACCOUNTS * 32) as f64 / 1048576.0
    );
    let target = 256.0;
    let held = mib(rss_blocks);
    println!(
        "process RSS {held:.1} MiB vs target {target} MiB: {}",
        if held <= target { "fits" } else { "DOES NOT fit" }
    );
}
