//! Every bound the ledger core enforces, in one place, with its unit in the name.

/// Largest user-data (memo) field of a transfer, in bytes.
pub const MEMO_BYTES_MAX: usize = 64;

/// Largest encoded record of a transfer signed by one key (signing bytes +
/// auth tag + signature), in bytes.
pub const SINGLE_KEY_RECORD_BYTES_MAX: usize = crate::transfer::SIGNING_BYTES_FIXED + MEMO_BYTES_MAX + 1 + 64;

/// Largest encoded transfer record, in bytes: signing bytes, a receiver
/// policy (tag + policy), the auth tag, then the sender's policy and 16
/// signatures (PROTOCOL.md 2.4).
pub const TRANSFER_RECORD_BYTES_MAX: usize = crate::transfer::SIGNING_BYTES_FIXED
    + MEMO_BYTES_MAX
    + 1
    + crate::multisig::POLICY_BYTES_MAX
    + 1
    + crate::multisig::POLICY_BYTES_MAX
    + crate::multisig::SIGNATURES_BYTES_MAX;

/// Most transfers one block may hold.
pub const BLOCK_TRANSFERS_MAX: usize = 16_384;

/// Largest encoded block (header + records), in bytes.
pub const BLOCK_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Most bytes of transfer records in one block or consensus batch: the block
/// header and the batch's own fields fit in the rest of [`BLOCK_BYTES_MAX`].
/// Only multi-signature records can reach it before the count limit does.
pub const BLOCK_RECORD_BYTES_MAX: usize = BLOCK_BYTES_MAX - 1024;

/// Most accounts a genesis may fund.
pub const GENESIS_ALLOCATIONS_MAX: usize = 1_000_000;

/// A block of the most single-key transfers fits the byte limit, so for them
/// the count limit is the only one. Multi-signature records are larger
/// (up to [`TRANSFER_RECORD_BYTES_MAX`]): block builders also cut by bytes
/// (the node's batcher, the proof-of-work miner), and decoders check both.
const _: () = assert!(BLOCK_TRANSFERS_MAX * SINGLE_KEY_RECORD_BYTES_MAX + 1024 <= BLOCK_BYTES_MAX);
const _: () = assert!(TRANSFER_RECORD_BYTES_MAX == 2250);
