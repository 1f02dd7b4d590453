//! The node's durable store: genesis, blocks, leaf hashes, the transfer index
//! and the account table, all in one redb database file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, StorageBackend};
use synod_core::ledger::TransferPosition;
use synod_core::{Account, AccountId, Block, Genesis, Ledger, LedgerState, TransferId};
use synod_merkle::{Hash, MerkleTree};

use crate::applied_config::{AppliedConfig, ConfigSource};
use crate::checksum::{seal, unseal};
use crate::tables::*;
use crate::{OpenError, StoreError};

/// Version of the on-disk layout described in docs/ARCHITECTURE.md.
pub const FORMAT_VERSION: u32 = 1;

/// A node's database.
pub struct Store {
    pub(crate) db: Database,
    /// Simulated read corruption (the simulator's faulty disk); off in a node.
    read_faults: ReadFaults,
    /// The applied slot the durable state holds (see `durable_applied_slot`).
    durable_applied: AtomicU64,
}

/// How a ledger write reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteDurability {
    /// fsynced before the call returns: the write survives power loss.
    Fsync,
    /// Committed (every reader sees it) but not fsynced: redb's
    /// `Durability::None`. It becomes durable with the next durable commit
    /// of this database, whichever table that commit writes; a crash before
    /// then loses it. Only for state that can be rebuilt from a durable
    /// record elsewhere (a cluster member's chosen log entries).
    Deferred,
}

/// Damages reads at random so that the checksums must catch them: each read
/// value has one bit flipped with probability `chance`, then goes through
/// the normal check. Used by the simulator; a node never turns it on.
#[derive(Default)]
struct ReadFaults {
    on: std::sync::atomic::AtomicBool,
    state: std::sync::Mutex<Option<(f64, rand_chacha::ChaCha8Rng)>>,
}

/// What `Store::load` rebuilds: the ledger as of the last durable block.
pub struct Loaded {
    pub ledger: Ledger,
}

/// One block for `Store::append_group`: the block, the new value of every
/// account it changed, and (in a cluster) the log slot whose batch made it.
#[derive(Clone, Copy)]
pub struct BlockWrite<'a> {
    pub block: &'a Block,
    pub touched: &'a [(AccountId, Account)],
    pub slot: Option<u64>,
}

impl Store {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Store, OpenError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let path = path.to_path_buf();
        let db = contain_panic(move || Database::create(path))??;
        Ok(Store::from_db(db))
    }

    fn from_db(db: Database) -> Store {
        let store = Store { db, read_faults: ReadFaults::default(), durable_applied: AtomicU64::new(0) };
        // Everything a freshly opened file holds is durable (redb recovers to
        // the last durable commit). No applied slot yet (or no tables): 0.
        let applied = store.applied_slot().unwrap_or(0);
        store.durable_applied.store(applied, Ordering::SeqCst);
        store
    }

    /// Opens a database over any redb backend (tests use a crash-injecting one).
    pub fn open_with_backend(backend: impl StorageBackend) -> Result<Store, OpenError> {
        let db = contain_panic(move || Database::builder().create_with_backend(backend))??;
        Ok(Store::from_db(db))
    }

    /// From now on each value read is damaged (one bit flipped) with
    /// probability `chance` before its checksum is checked; 0 turns it off.
    #[doc(hidden)]
    pub fn set_read_faults(&self, chance: f64, seed: u64) {
        use rand::SeedableRng;
        let state = (chance > 0.0).then(|| (chance, rand_chacha::ChaCha8Rng::seed_from_u64(seed)));
        self.read_faults.on.store(state.is_some(), std::sync::atomic::Ordering::SeqCst);
        *self.read_faults.state.lock().expect("read faults lock") = state;
    }

    /// `checksum::unseal`, through the simulated read faults when they are on.
    pub(crate) fn unseal<'a>(&self, table: &'static str, key: &[u8], stored: &'a [u8]) -> Result<&'a [u8], StoreError> {
        if self.read_faults.on.load(std::sync::atomic::Ordering::Relaxed) {
            use rand::Rng;
            let mut state = self.read_faults.state.lock().expect("read faults lock");
            if let Some((chance, rng)) = state.as_mut() {
                if !stored.is_empty() && rng.gen_bool(*chance) {
                    let mut damaged = stored.to_vec();
                    let bit = rng.gen_range(0..damaged.len() * 8);
                    damaged[bit / 8] ^= 1 << (bit % 8);
                    let caught = unseal(table, key, &damaged);
                    assert!(caught.is_err(), "the checksum catches every single flipped bit");
                    return Err(caught.expect_err("asserted"));
                }
            }
        }
        unseal(table, key, stored)
    }

    /// The stored genesis, if the ledger was initialised.
    pub fn genesis(&self) -> Result<Option<Genesis>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(value) = table.get("genesis")? else { return Ok(None) };
        let payload = self.unseal(META_NAME, b"genesis", value.value())?;
        Genesis::decode(payload).map(Some).map_err(|e| StoreError::Undecodable {
            table: META_NAME,
            key: "genesis".into(),
            detail: e.to_string(),
        })
    }

    /// Writes the genesis and block 0 on first start; on later starts checks that
    /// the stored genesis is the same one.
    pub fn init(&self, genesis: &Genesis) -> Result<(), OpenError> {
        if let Some(stored) = self.genesis()? {
            return if &stored == genesis { Ok(()) } else { Err(OpenError::GenesisMismatch) };
        }
        genesis.validate().map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        let header = Ledger::genesis_header(genesis);
        let block0 = Block { header, transfers: Vec::new() };
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate);
        {
            let mut meta = txn.open_table(META)?;
            meta.insert("genesis", seal(META_NAME, b"genesis", &genesis.encode()).as_slice())?;
            meta.insert("format", seal(META_NAME, b"format", &FORMAT_VERSION.to_be_bytes()).as_slice())?;
            let mut blocks = txn.open_table(BLOCKS)?;
            blocks.insert(0u64, seal(BLOCKS_NAME, &0u64.to_be_bytes(), &block0.encode()).as_slice())?;
            let mut leaves = txn.open_table(LEAVES)?;
            leaves.insert(0u64, seal(LEAVES_NAME, &0u64.to_be_bytes(), &[]).as_slice())?;
            let mut accounts = txn.open_table(ACCOUNTS)?;
            for a in &genesis.allocations {
                let value = Account { balance: a.amount, nonce: 0 }.encode();
                accounts.insert(a.account.0.as_slice(), seal(ACCOUNTS_NAME, &a.account.0, &value).as_slice())?;
            }
            txn.open_table(TRANSFERS)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Rebuilds the ledger from disk, checking that the pieces agree: the tree
    /// matches the head's ledger root, the balances add up to the supply.
    pub fn load(&self) -> Result<Loaded, OpenError> {
        let genesis = self.genesis()?.ok_or(OpenError::NoGenesis)?;
        let total_supply = genesis.validate().map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        let head_height = self.head_height()?;
        let head =
            self.block(head_height)?.ok_or_else(|| StoreError::Inconsistent("head block missing".into()))?.header;

        let txn = self.db.begin_read()?;
        let mut tree = MerkleTree::new();
        let leaves = txn.open_table(LEAVES)?;
        for height in 0..=head_height {
            let key = height.to_be_bytes();
            let value = leaves
                .get(height)?
                .ok_or_else(|| StoreError::Inconsistent(format!("leaf hashes of block {height} missing")))?;
            let payload = self.unseal(LEAVES_NAME, &key, value.value())?;
            if payload.len() % 32 != 0 {
                return Err(
                    StoreError::Inconsistent(format!("leaf chunk of block {height} is not whole hashes")).into()
                );
            }
            for chunk in payload.chunks_exact(32) {
                tree.push(chunk.try_into().expect("32-byte chunk"));
            }
        }
        if tree.len() != head.ledger_size || tree.root() != head.ledger_root {
            return Err(StoreError::Inconsistent(format!(
                "leaf hashes ({} leaves) do not match the head block {} (ledger_size {})",
                tree.len(),
                head.height,
                head.ledger_size
            ))
            .into());
        }

        let accounts_table = txn.open_table(ACCOUNTS)?;
        let mut accounts = HashMap::with_capacity(accounts_table.len()? as usize);
        for entry in accounts_table.iter()? {
            let (k, v) = entry?;
            let key = k.value();
            let payload = self.unseal(ACCOUNTS_NAME, key, v.value())?;
            let id =
                AccountId(key.try_into().map_err(|_| StoreError::Inconsistent("account key is not 32 bytes".into()))?);
            let account = Account::decode(payload).map_err(|e| StoreError::Undecodable {
                table: ACCOUNTS_NAME,
                key: id.to_string(),
                detail: e.to_string(),
            })?;
            accounts.insert(id, account);
        }
        let state = LedgerState::from_accounts(accounts, total_supply);
        if state.balance_sum() != total_supply as u128 {
            return Err(StoreError::Inconsistent(format!(
                "balances add up to {}, the supply is {total_supply}",
                state.balance_sum()
            ))
            .into());
        }
        Ok(Loaded { ledger: Ledger::restore(genesis, state, tree, head) })
    }

    /// Makes one block durable with everything derived from it, in a single
    /// fsynced transaction: either all of it survives a crash or none of it.
    pub fn append_block(&self, block: &Block, touched: &[(AccountId, Account)]) -> Result<(), StoreError> {
        self.append_group(&[BlockWrite { block, touched, slot: None }], None, None)
    }

    /// Several blocks (in height order) and, in a cluster, the last log slot
    /// they came from and the configuration applied up to it (the latest
    /// wins), in one fsynced transaction: all of them
    /// survive a crash or none does.
    pub fn append_group(
        &self,
        blocks: &[BlockWrite<'_>],
        applied_slot: Option<u64>,
        applied_config: Option<&AppliedConfig>,
    ) -> Result<(), StoreError> {
        self.append_group_with(blocks, applied_slot, applied_config, WriteDurability::Fsync)
    }

    /// `append_group`, fsynced or deferred (`WriteDurability`). Deferred, the
    /// group is visible to every reader at once and becomes durable, all or
    /// nothing and in order with the groups before it, with the next durable
    /// commit (`sync`, a fsynced group, or a paxos log write).
    pub fn append_group_with(
        &self,
        blocks: &[BlockWrite<'_>],
        applied_slot: Option<u64>,
        applied_config: Option<&AppliedConfig>,
        durability: WriteDurability,
    ) -> Result<(), StoreError> {
        self.append_group_with_members(blocks, applied_slot, applied_config, None, durability)
    }

    /// `append_group_with`, also recording the members' addresses a
    /// `Command::Members` chose (the latest wins), in the same transaction.
    pub fn append_group_with_members(
        &self,
        blocks: &[BlockWrite<'_>],
        applied_slot: Option<u64>,
        applied_config: Option<&AppliedConfig>,
        addresses: Option<&crate::applied_config::AppliedAddresses>,
        durability: WriteDurability,
    ) -> Result<(), StoreError> {
        let config = applied_config.map(|c| (c, ConfigSource::Log));
        self.append(blocks, applied_slot, config, addresses, durability)
    }

    /// `append_group` for a snapshot install: `installed` is the sender's
    /// configuration (`ConfigSource::Snapshot`).
    pub(crate) fn append_installed(
        &self,
        blocks: &[BlockWrite<'_>],
        applied_slot: u64,
        installed: Option<&AppliedConfig>,
    ) -> Result<(), StoreError> {
        let config = installed.map(|c| (c, ConfigSource::Snapshot));
        self.append(blocks, Some(applied_slot), config, None, WriteDurability::Fsync)
    }

    fn append(
        &self,
        blocks: &[BlockWrite<'_>],
        applied_slot: Option<u64>,
        applied_config: Option<(&AppliedConfig, ConfigSource)>,
        addresses: Option<&crate::applied_config::AppliedAddresses>,
        durability: WriteDurability,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        if let Some(addresses) = addresses {
            let slot = applied_slot.expect("addresses are applied with a slot");
            Self::record_applied_addresses(&txn, addresses, slot)?;
        }
        if let Some(slot) = applied_slot {
            Self::record_applied_slot(&txn, slot)?;
        }
        if let Some((config, source)) = applied_config {
            let slot = applied_slot.expect("a configuration is applied with a slot");
            Self::record_applied_config(&txn, config, slot, source)?;
        }
        for write in blocks {
            if let (Some(block_slot), Some(applied)) = (write.slot, applied_slot) {
                assert!(block_slot <= applied, "a block's slot is applied with it");
            }
            Self::write_block(&txn, write.block, write.touched, write.slot)?;
        }
        match durability {
            WriteDurability::Fsync => self.commit_durable(txn),
            WriteDurability::Deferred => {
                let mut txn = txn;
                txn.set_durability(Durability::None);
                txn.commit()?;
                Ok(())
            }
        }
    }

    /// Makes every deferred write so far durable (one fsync), and returns
    /// the applied slot the durable state now holds.
    pub fn sync(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_write()?;
        {
            // Rewrite the applied slot as it is, so that the transaction is
            // never empty and redb writes and fsyncs a new commit.
            let mut meta = txn.open_table(META)?;
            let current = meta.get("applied_slot")?.map(|v| v.value().to_vec());
            if let Some(current) = current {
                meta.insert("applied_slot", current.as_slice())?;
            }
        }
        self.commit_durable(txn)?;
        Ok(self.durable_applied_slot())
    }

    /// The applied slot (0: none) of the state a crash would leave: the
    /// ledger as of the last durable commit. Deferred writes above it are
    /// rebuilt on restart from the consensus log, which therefore must keep
    /// every slot above it (compaction is bounded by this).
    pub fn durable_applied_slot(&self) -> u64 {
        self.durable_applied.load(Ordering::SeqCst)
    }

    /// Commits `txn` with an fsync. A durable redb commit makes every earlier
    /// (deferred) commit durable with it, so the durable applied slot becomes
    /// the one this transaction sees, whatever tables it wrote.
    pub(crate) fn commit_durable(&self, mut txn: redb::WriteTransaction) -> Result<(), StoreError> {
        txn.set_durability(Durability::Immediate);
        let applied = {
            let meta = txn.open_table(META)?;
            let current = meta.get("applied_slot")?.map(|v| v.value().to_vec());
            match current {
                Some(v) => {
                    let p = unseal(META_NAME, b"applied_slot", &v)?;
                    u64::from_be_bytes(p.try_into().map_err(|_| StoreError::Undecodable {
                        table: META_NAME,
                        key: "applied_slot".into(),
                        detail: "not 8 bytes".into(),
                    })?)
                }
                None => 0,
            }
        };
        txn.commit()?;
        self.durable_applied.fetch_max(applied, Ordering::SeqCst);
        Ok(())
    }

    /// The last log slot the ledger applied durably (0: none).
    pub fn applied_slot(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(v) = meta.get("applied_slot")? else { return Ok(0) };
        let payload = self.unseal(META_NAME, b"applied_slot", v.value())?;
        let bytes: [u8; 8] = payload.try_into().map_err(|_| StoreError::Undecodable {
            table: META_NAME,
            key: "applied_slot".into(),
            detail: "not 8 bytes".into(),
        })?;
        Ok(u64::from_be_bytes(bytes))
    }

    pub(crate) fn record_applied_slot(txn: &redb::WriteTransaction, slot: u64) -> Result<(), StoreError> {
        {
            let mut meta = txn.open_table(META)?;
            let previous = match meta.get("applied_slot")? {
                Some(v) => {
                    let p = unseal(META_NAME, b"applied_slot", v.value())?;
                    u64::from_be_bytes(p.try_into().unwrap_or([0; 8]))
                }
                None => 0,
            };
            assert!(slot > previous, "slots are applied in increasing order ({slot} after {previous})");
            meta.insert("applied_slot", seal(META_NAME, b"applied_slot", &slot.to_be_bytes()).as_slice())?;
        }
        Ok(())
    }

    pub(crate) fn write_block(
        txn: &redb::WriteTransaction,
        block: &Block,
        touched: &[(AccountId, Account)],
        slot: Option<u64>,
    ) -> Result<(), StoreError> {
        let height = block.header.height;
        let key = height.to_be_bytes();
        let mut leaf_bytes = Vec::with_capacity(block.transfers.len() * 32);
        let first_index = block.header.ledger_size - block.transfers.len() as u64;
        {
            let mut blocks = txn.open_table(BLOCKS)?;
            // Pair assertion: the block extends exactly the stored head.
            let last = blocks.last()?.map(|(k, _)| k.value());
            assert_eq!(last, Some(height - 1), "blocks are appended in height order without gaps");
            blocks.insert(height, seal(BLOCKS_NAME, &key, &block.encode()).as_slice())?;

            let mut transfers = txn.open_table(TRANSFERS)?;
            for (i, tx) in block.transfers.iter().enumerate() {
                leaf_bytes.extend_from_slice(&tx.leaf_hash());
                let id = tx.id();
                let pos = TransferPosition { height, index_in_block: i as u32, ledger_index: first_index + i as u64 };
                transfers.insert(id.0.as_slice(), seal(TRANSFERS_NAME, &id.0, &encode_position(&pos)).as_slice())?;
            }
            let mut leaves = txn.open_table(LEAVES)?;
            leaves.insert(height, seal(LEAVES_NAME, &key, &leaf_bytes).as_slice())?;

            let mut accounts = txn.open_table(ACCOUNTS)?;
            for (id, account) in touched {
                accounts.insert(id.0.as_slice(), seal(ACCOUNTS_NAME, &id.0, &account.encode()).as_slice())?;
            }
            if let Some(slot) = slot {
                let mut slots = txn.open_table(BLOCK_SLOTS)?;
                slots.insert(height, seal(BLOCK_SLOTS_NAME, &key, &slot.to_be_bytes()).as_slice())?;
            }
        }
        Ok(())
    }

    /// The log slot that made block `height` (`None`: not recorded, as for
    /// block 0 and every block of a single node).
    pub fn block_slot(&self, height: u64) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(BLOCK_SLOTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(value) = table.get(height)? else { return Ok(None) };
        let payload = self.unseal(BLOCK_SLOTS_NAME, &height.to_be_bytes(), value.value())?;
        let bytes: [u8; 8] = payload.try_into().map_err(|_| StoreError::Undecodable {
            table: BLOCK_SLOTS_NAME,
            key: height.to_string(),
            detail: "not 8 bytes".into(),
        })?;
        Ok(Some(u64::from_be_bytes(bytes)))
    }

    pub fn head_height(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let blocks = txn.open_table(BLOCKS)?;
        let last = blocks.last()?.ok_or_else(|| StoreError::Inconsistent("no blocks stored".into()))?;
        Ok(last.0.value())
    }

    /// The raw stored bytes of block `height`, checksum verified.
    pub fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let blocks = txn.open_table(BLOCKS)?;
        let Some(value) = blocks.get(height)? else { return Ok(None) };
        Ok(Some(self.unseal(BLOCKS_NAME, &height.to_be_bytes(), value.value())?.to_vec()))
    }

    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        let Some(bytes) = self.block_bytes(height)? else { return Ok(None) };
        let block = Block::decode(&bytes).map_err(|e| StoreError::Undecodable {
            table: BLOCKS_NAME,
            key: height.to_string(),
            detail: e.to_string(),
        })?;
        if block.header.height != height {
            return Err(StoreError::Inconsistent(format!(
                "block stored at {height} says height {}",
                block.header.height
            )));
        }
        Ok(Some(block))
    }

    pub fn position(&self, id: &TransferId) -> Result<Option<TransferPosition>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TRANSFERS)?;
        let Some(value) = table.get(id.0.as_slice())? else { return Ok(None) };
        let payload = self.unseal(TRANSFERS_NAME, &id.0, value.value())?;
        decode_position(payload)
            .ok_or_else(|| StoreError::Undecodable {
                table: TRANSFERS_NAME,
                key: id.to_string(),
                detail: "position is not 20 bytes".into(),
            })
            .map(Some)
    }

    pub fn account(&self, id: &AccountId) -> Result<Account, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ACCOUNTS)?;
        let Some(value) = table.get(id.0.as_slice())? else { return Ok(Account::default()) };
        let payload = self.unseal(ACCOUNTS_NAME, &id.0, value.value())?;
        Account::decode(payload).map_err(|e| StoreError::Undecodable {
            table: ACCOUNTS_NAME,
            key: id.to_string(),
            detail: e.to_string(),
        })
    }

    /// Every stored account (the auditor compares them with its replay).
    pub fn accounts(&self) -> Result<HashMap<AccountId, Account>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ACCOUNTS)?;
        let mut out = HashMap::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let payload = self.unseal(ACCOUNTS_NAME, k.value(), v.value())?;
            let id =
                AccountId(k.value().try_into().map_err(|_| StoreError::Inconsistent("account key length".into()))?);
            let account = Account::decode(payload).map_err(|e| StoreError::Undecodable {
                table: ACCOUNTS_NAME,
                key: id.to_string(),
                detail: e.to_string(),
            })?;
            out.insert(id, account);
        }
        Ok(out)
    }

    /// Number of entries in the transfer index (the auditor checks it).
    pub fn transfer_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(TRANSFERS)?.len()?)
    }

    /// Leaf hashes stored for block `height`.
    pub fn leaf_hashes(&self, height: u64) -> Result<Option<Vec<Hash>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(LEAVES)?;
        let Some(value) = table.get(height)? else { return Ok(None) };
        let payload = self.unseal(LEAVES_NAME, &height.to_be_bytes(), value.value())?;
        if payload.len() % 32 != 0 {
            return Err(StoreError::Inconsistent(format!("leaf chunk of block {height} is not whole hashes")));
        }
        Ok(Some(payload.chunks_exact(32).map(|c| c.try_into().expect("32 bytes")).collect()))
    }

    /// Rewrites a stored block with a valid checksum, as an attacker with write
    /// access to the disk could. Only tests and the tamper demo use this: the
    /// point is that `synod verify` must still catch it through the hashes.
    #[doc(hidden)]
    pub fn tamper_block(&self, height: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate);
        {
            let mut blocks = txn.open_table(BLOCKS)?;
            blocks.insert(height, seal(BLOCKS_NAME, &height.to_be_bytes(), bytes).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Flips a byte of a stored value without fixing its checksum, as a failing disk would.
    #[doc(hidden)]
    pub fn corrupt_block_bytes(&self, height: u64, offset: usize) -> Result<(), StoreError> {
        let txn = self.db.begin_read()?;
        let mut raw = {
            let blocks = txn.open_table(BLOCKS)?;
            let value = blocks.get(height)?.ok_or_else(|| StoreError::Inconsistent("no such block".into()))?;
            value.value().to_vec()
        };
        drop(txn);
        let offset = offset % raw.len();
        raw[offset] ^= 0x40;
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate);
        {
            let mut blocks = txn.open_table(BLOCKS)?;
            blocks.insert(height, raw.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// redb asserts on some malformed files instead of returning an error; a
/// damaged disk must give the operator a typed error, not a crash with a
/// backtrace, so opening runs behind `catch_unwind`.
pub(crate) fn contain_panic<T>(f: impl FnOnce() -> T) -> Result<T, OpenError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown".into());
        OpenError::Unreadable(detail)
    })
}

fn encode_position(p: &TransferPosition) -> [u8; 20] {
    let mut out = [0u8; 20];
    out[..8].copy_from_slice(&p.height.to_be_bytes());
    out[8..12].copy_from_slice(&p.index_in_block.to_be_bytes());
    out[12..].copy_from_slice(&p.ledger_index.to_be_bytes());
    out
}

fn decode_position(b: &[u8]) -> Option<TransferPosition> {
    if b.len() != 20 {
        return None;
    }
    Some(TransferPosition {
        height: u64::from_be_bytes(b[..8].try_into().ok()?),
        index_in_block: u32::from_be_bytes(b[8..12].try_into().ok()?),
        ledger_index: u64::from_be_bytes(b[12..].try_into().ok()?),
    })
}
