//! The redb tables. Every value is framed by `checksum::seal`.

use redb::TableDefinition;

/// "genesis" -> canonical genesis bytes; "format" -> format version (u32 BE);
/// "applied_slot" -> u64 BE (cluster members); "applied_config" -> see
/// `applied_config.rs` (cluster members, absent until one is applied).
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// height -> canonical block bytes (header + records).
pub const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// height -> the RFC 9162 leaf hashes of the block's transfers, concatenated.
pub const LEAVES: TableDefinition<u64, &[u8]> = TableDefinition::new("leaves");
/// transfer id (32 bytes) -> position: height u64, index_in_block u32, ledger_index u64.
pub const TRANSFERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("transfers");
/// account id (32 bytes) -> balance u64, nonce u64.
pub const ACCOUNTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("accounts");
/// height -> the log slot (u64 BE) whose batch made the block (cluster members
/// only): a snapshot chunk carries it so that a receiver can record, with each
/// run of blocks, exactly which slot its ledger then reflects.
pub const BLOCK_SLOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("block_slots");

pub const META_NAME: &str = "meta";
pub const BLOCKS_NAME: &str = "blocks";
pub const LEAVES_NAME: &str = "leaves";
pub const TRANSFERS_NAME: &str = "transfers";
pub const ACCOUNTS_NAME: &str = "accounts";
pub const BLOCK_SLOTS_NAME: &str = "block_slots";
