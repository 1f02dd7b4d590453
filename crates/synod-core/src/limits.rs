//! Every bound the ledger core enforces, in one place, with its unit in the name.

/// Largest user-data (memo) field of a transfer, in bytes.
pub const MEMO_BYTES_MAX: usize = 64;

/// Largest encoded transfer record (signing bytes + auth tag + signature), in bytes.
pub const TRANSFER_RECORD_BYTES_MAX: usize = crate::transfer::SIGNING_BYTES_FIXED + MEMO_BYTES_MAX + 1 + 64;

/// Most transfers one block may hold.
pub const BLOCK_TRANSFERS_MAX: usize = 16_384;

/// Largest encoded block (header + records), in bytes.
pub const BLOCK_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Most accounts a genesis may fund.
pub const GENESIS_ALLOCATIONS_MAX: usize = 1_000_000;

const _: () = assert!(BLOCK_TRANSFERS_MAX * TRANSFER_RECORD_BYTES_MAX + 1024 <= BLOCK_BYTES_MAX);
