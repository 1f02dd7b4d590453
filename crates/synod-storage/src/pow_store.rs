//! Durable storage for a proof-of-work node: every block the node's chain
//! accepted (best chain and side branches alike), keyed by hash, in its own
//! redb file (`<data_dir>/pow.redb`).
//!
//! The store knows bytes, not rules: the node re-validates every stored block
//! through `synod_pow::chain::ChainState` on start (parents first, in height
//! order), so the chain state, the undo data and the fork choice are derived,
//! never trusted from disk. A block is written once; what is written is
//! never rewritten, so a crash leaves either the block or nothing.
//!
//! Values are framed by `checksum::seal` like the Paxos store's, so a torn or
//! flipped value is a [`StoreError::Corrupt`] naming the block hash.

use std::path::Path;

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::checksum::{seal, unseal};
use crate::store::contain_panic;
use crate::{OpenError, StoreError};

/// "chain" -> the 32-byte identity of the chain (genesis and consensus
/// parameters) this file belongs to; "descriptor" -> the node's description
/// of that chain (its genesis and parameters, JSON), so that an offline
/// auditor can rebuild the chain from the file alone.
const POW_META: TableDefinition<&str, &[u8]> = TableDefinition::new("pow_meta");
/// block hash (32 bytes) -> height u64 BE || canonical block bytes.
const POW_BLOCKS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("pow_blocks");
const POW_META_NAME: &str = "pow_meta";
const POW_BLOCKS_NAME: &str = "pow_blocks";

/// One stored block: its hash, height and canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPowBlock {
    pub hash: [u8; 32],
    pub height: u64,
    pub bytes: Vec<u8>,
}

/// A proof-of-work node's block store.
pub struct PowStore {
    db: Database,
}

impl PowStore {
    /// Opens (or creates) the file at `path` for the chain whose identity is
    /// `chain` and whose description is `descriptor` (kept for auditors). A
    /// file written for another chain is refused with
    /// [`OpenError::GenesisMismatch`]: its blocks would all be invalid here.
    pub fn open(path: &Path, chain: [u8; 32], descriptor: &[u8]) -> Result<PowStore, OpenError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let path = path.to_path_buf();
        let db = contain_panic(move || Database::create(path))??;
        let store = PowStore { db };
        store.bind_chain(chain, descriptor)?;
        Ok(store)
    }

    /// Opens an existing file for reading what it holds (the offline
    /// auditor): returns the store, its chain identity and its descriptor.
    pub fn open_existing(path: &Path) -> Result<(PowStore, [u8; 32], Vec<u8>), OpenError> {
        if !path.exists() {
            return Err(OpenError::NoGenesis);
        }
        let path = path.to_path_buf();
        let db = contain_panic(move || Database::open(path))??;
        let store = PowStore { db };
        let txn = store.db.begin_read()?;
        let meta = match txn.open_table(POW_META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Err(OpenError::NoGenesis),
            Err(e) => return Err(e.into()),
        };
        let read = |key: &'static str| -> Result<Vec<u8>, OpenError> {
            let value = meta.get(key)?.ok_or(OpenError::NoGenesis)?;
            Ok(unseal(POW_META_NAME, key.as_bytes(), value.value())?.to_vec())
        };
        let chain: [u8; 32] = read("chain")?.try_into().map_err(|_| StoreError::Undecodable {
            table: POW_META_NAME,
            key: "chain".into(),
            detail: "not 32 bytes".into(),
        })?;
        let descriptor = read("descriptor")?;
        drop(meta);
        drop(txn);
        Ok((store, chain, descriptor))
    }

    fn bind_chain(&self, chain: [u8; 32], descriptor: &[u8]) -> Result<(), OpenError> {
        let txn = self.db.begin_read()?;
        match txn.open_table(POW_META) {
            Ok(table) => {
                if let Some(value) = table.get("chain")? {
                    let stored = unseal(POW_META_NAME, b"chain", value.value())?;
                    return if stored == chain { Ok(()) } else { Err(OpenError::GenesisMismatch) };
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(e.into()),
        }
        drop(txn);
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate);
        {
            let mut meta = txn.open_table(POW_META)?;
            meta.insert("chain", seal(POW_META_NAME, b"chain", &chain).as_slice())?;
            meta.insert("descriptor", seal(POW_META_NAME, b"descriptor", descriptor).as_slice())?;
            txn.open_table(POW_BLOCKS)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Makes `blocks` durable in one transaction (one fsync). Blocks already
    /// stored are left as they are.
    pub fn put_blocks(&self, blocks: &[StoredPowBlock]) -> Result<(), StoreError> {
        if blocks.is_empty() {
            return Ok(());
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate);
        {
            let mut table = txn.open_table(POW_BLOCKS)?;
            for b in blocks {
                if table.get(b.hash.as_slice())?.is_some() {
                    continue;
                }
                let mut payload = Vec::with_capacity(8 + b.bytes.len());
                payload.extend_from_slice(&b.height.to_be_bytes());
                payload.extend_from_slice(&b.bytes);
                table.insert(b.hash.as_slice(), seal(POW_BLOCKS_NAME, &b.hash, &payload).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// How many blocks are stored.
    pub fn len(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(POW_BLOCKS)?.len()?)
    }

    /// True when no block is stored.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Every stored block, ordered by height (then hash), so that a parent
    /// always comes before its children. The first damaged value stops the
    /// load with an error naming it.
    pub fn load_all(&self) -> Result<Vec<StoredPowBlock>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(POW_BLOCKS)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (key, value) = row?;
            let key = key.value();
            let hash: [u8; 32] = key.try_into().map_err(|_| StoreError::Undecodable {
                table: POW_BLOCKS_NAME,
                key: hex(key),
                detail: format!("key of {} bytes, not 32", key.len()),
            })?;
            let payload = unseal(POW_BLOCKS_NAME, key, value.value())?;
            if payload.len() < 8 {
                return Err(StoreError::Undecodable {
                    table: POW_BLOCKS_NAME,
                    key: hex(key),
                    detail: "shorter than its height".into(),
                });
            }
            let height = u64::from_be_bytes(payload[..8].try_into().expect("8 bytes"));
            out.push(StoredPowBlock { hash, height, bytes: payload[8..].to_vec() });
        }
        out.sort_by_key(|b| (b.height, b.hash));
        Ok(out)
    }

    /// Test hook: flips one byte of a stored block's value in place, as a bad
    /// disk would, so tests can check that a damaged block is caught on load.
    pub fn corrupt_block(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let txn = self.db.begin_write()?;
        let found = {
            let mut table = txn.open_table(POW_BLOCKS)?;
            let value = table.get(hash.as_slice())?.map(|v| v.value().to_vec());
            match value {
                Some(mut v) => {
                    let i = v.len() / 2;
                    v[i] ^= 0x01;
                    table.insert(hash.as_slice(), v.as_slice())?;
                    true
                }
                None => false,
            }
        };
        txn.commit()?;
        Ok(found)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u8, height: u64) -> StoredPowBlock {
        StoredPowBlock { hash: [n; 32], height, bytes: vec![n; 100 + n as usize] }
    }

    #[test]
    fn blocks_survive_reopen_in_height_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pow.redb");
        {
            let store = PowStore::open(&path, [7; 32], b"d").unwrap();
            assert!(store.is_empty().unwrap());
            store.put_blocks(&[block(3, 2), block(1, 1)]).unwrap();
            store.put_blocks(&[block(2, 1), block(1, 1)]).unwrap();
        }
        let store = PowStore::open(&path, [7; 32], b"d").unwrap();
        let all = store.load_all().unwrap();
        drop(store);
        let (store, chain, descriptor) = PowStore::open_existing(&path).unwrap();
        assert_eq!((chain, descriptor.as_slice()), ([7; 32], b"d".as_slice()));
        assert_eq!(store.load_all().unwrap(), all);
        assert_eq!(all, vec![block(1, 1), block(2, 1), block(3, 2)]);
    }

    #[test]
    fn another_chain_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pow.redb");
        drop(PowStore::open(&path, [7; 32], b"d").unwrap());
        assert!(matches!(PowStore::open(&path, [8; 32], b"d"), Err(OpenError::GenesisMismatch)));
    }

    #[test]
    fn a_damaged_block_is_reported_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let store = PowStore::open(&dir.path().join("pow.redb"), [7; 32], b"d").unwrap();
        store.put_blocks(&[block(1, 1), block(2, 2)]).unwrap();
        assert!(store.corrupt_block(&[2; 32]).unwrap());
        match store.load_all() {
            Err(StoreError::Corrupt { table, key }) => {
                assert_eq!(table, POW_BLOCKS_NAME);
                assert_eq!(key, hex(&[2; 32]));
            }
            other => panic!("expected corruption, got {other:?}"),
        }
    }
}
