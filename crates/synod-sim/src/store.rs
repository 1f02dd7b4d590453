//! A node's durable ledger storage, in memory.
//!
//! Fault model: modelled on `synod_storage::Store` in replicated mode. Each
//! `append_applied_slot` is one atomic, synchronously durable transaction
//! (the node's single fsynced redb transaction): the block, its transfer
//! index entries, its leaf hashes, the accounts it touched and the applied
//! slot all survive a crash together, or none of them do. Slots that make no
//! block write nothing (`committer::write_block`), so after a restart the
//! durable applied slot is that of the last block and the slots after it are
//! applied again. Reads of this store are never corrupted (the node's store
//! checksums every value and halts on a mismatch; that path is not simulated).
//!
//! `load` rebuilds the in-memory `Ledger` the way `Store::load` does: leaf
//! hashes into a `MerkleTree`, the account table into a `LedgerState`, the
//! head block's header, then `Ledger::restore`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use synod_core::block::{Block, BlockHash};
use synod_core::ledger::TransferPosition;
use synod_core::{Account, AccountId, Genesis, Hash, Ledger, LedgerState, SignedTransfer, TransferId};
use synod_merkle::MerkleTree;
use synod_paxos::Slot;

#[derive(Clone, Debug)]
pub struct LedgerStore {
    genesis: Genesis,
    /// The last slot applied durably (0: none).
    applied_slot: Slot,
    /// `blocks[i]` is the block at height `i + 1`, made from slot `block_slots[i]`.
    blocks: Vec<Block>,
    block_slots: Vec<Slot>,
    /// Leaf hashes of every transfer, in ledger order (the LEAVES table).
    leaves: Vec<Hash>,
    /// Every account genesis funded or a block touched (the ACCOUNTS table).
    accounts: BTreeMap<AccountId, Account>,
    /// Where each committed transfer sits (the TRANSFERS index).
    positions: BTreeMap<TransferId, TransferPosition>,
}

/// A block the store took, for the online block-agreement check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRef {
    pub height: u64,
    pub hash: BlockHash,
    pub slot: Slot,
}

/// What a snapshot carries: everything the store holds, as block bytes.
#[derive(Serialize, Deserialize)]
struct Image {
    applied_slot: Slot,
    block_slots: Vec<Slot>,
    blocks: Vec<Vec<u8>>,
}

/// A decoded snapshot image.
pub struct DecodedImage {
    pub applied_slot: Slot,
    pub block_slots: Vec<Slot>,
    pub blocks: Vec<Block>,
}

impl LedgerStore {
    /// A fresh store holding only the genesis (`Store::init`).
    pub fn init(genesis: &Genesis) -> LedgerStore {
        let accounts =
            genesis.allocations.iter().map(|a| (a.account, Account { balance: a.amount, nonce: 0 })).collect();
        LedgerStore {
            genesis: genesis.clone(),
            applied_slot: 0,
            blocks: Vec::new(),
            block_slots: Vec::new(),
            leaves: Vec::new(),
            accounts,
            positions: BTreeMap::new(),
        }
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    pub fn applied_slot(&self) -> Slot {
        self.applied_slot
    }

    pub fn height(&self) -> u64 {
        self.blocks.len() as u64
    }

    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    pub fn block(&self, height: u64) -> Option<&Block> {
        let index = usize::try_from(height.checked_sub(1)?).ok()?;
        self.blocks.get(index)
    }

    pub fn block_slot(&self, height: u64) -> Option<Slot> {
        let index = usize::try_from(height.checked_sub(1)?).ok()?;
        self.block_slots.get(index).copied()
    }

    /// Hash of the block at `height` (0: the genesis block).
    pub fn block_hash(&self, height: u64) -> Option<BlockHash> {
        if height == 0 {
            return Some(Ledger::genesis_header(&self.genesis).hash());
        }
        self.block(height).map(Block::hash)
    }

    pub fn head_hash(&self) -> BlockHash {
        self.block_hash(self.height()).expect("the head exists")
    }

    pub fn position(&self, id: &TransferId) -> Option<TransferPosition> {
        self.positions.get(id).copied()
    }

    pub fn accounts(&self) -> &BTreeMap<AccountId, Account> {
        &self.accounts
    }

    /// One durable transaction: the block (if any), what it derived, and the
    /// applied slot. Mirrors `Store::append`, including its pair assertions.
    /// Errs (changing nothing) if the block holds a transfer the ledger
    /// already committed: a transfer takes effect at most once.
    pub fn append_applied_slot(
        &mut self,
        block: Option<&Block>,
        touched: &[(AccountId, Account)],
        slot: Slot,
    ) -> Result<Option<BlockRef>, String> {
        assert!(slot > self.applied_slot, "slots are applied in increasing order ({slot} after {})", self.applied_slot);
        let Some(block) = block else {
            self.applied_slot = slot;
            return Ok(None);
        };
        let height = block.header.height;
        assert_eq!(height, self.height() + 1, "blocks are appended in height order without gaps");
        let first_index = block.header.ledger_size - block.transfers.len() as u64;
        assert_eq!(first_index, self.leaves.len() as u64, "the block continues the stored leaves");
        let ids: Vec<TransferId> = block.transfers.iter().map(SignedTransfer::id).collect();
        for (i, id) in ids.iter().enumerate() {
            if let Some(first) = self.positions.get(id) {
                return Err(format!("transfer {id} committed again in block {height} (first at {first:?})"));
            }
            if ids[..i].contains(id) {
                return Err(format!("transfer {id} committed twice within block {height}"));
            }
        }
        for (i, (tx, id)) in block.transfers.iter().zip(ids).enumerate() {
            self.leaves.push(tx.leaf_hash());
            let position = TransferPosition { height, index_in_block: i as u32, ledger_index: first_index + i as u64 };
            self.positions.insert(id, position);
        }
        for (id, account) in touched {
            self.accounts.insert(*id, *account);
        }
        self.blocks.push(block.clone());
        self.block_slots.push(slot);
        self.applied_slot = slot;
        Ok(Some(BlockRef { height, hash: block.hash(), slot }))
    }

    /// Records that everything up to `slot` is applied without writing a
    /// block (a snapshot install that brought no new block).
    pub fn advance_applied_slot(&mut self, slot: Slot) {
        self.applied_slot = self.applied_slot.max(slot);
    }

    /// Rebuilds the ledger from what is stored, like `Store::load`.
    pub fn load(&self) -> Ledger {
        let total_supply = self.genesis.validate().expect("stored genesis is valid");
        let head = match self.blocks.last() {
            Some(block) => block.header.clone(),
            None => Ledger::genesis_header(&self.genesis),
        };
        let tree = MerkleTree::from_leaf_hashes(self.leaves.iter().copied());
        assert!(
            tree.len() == head.ledger_size && tree.root() == head.ledger_root,
            "stored leaf hashes match the head block"
        );
        let accounts: HashMap<AccountId, Account> = self.accounts.iter().map(|(id, a)| (*id, *a)).collect();
        let state = LedgerState::from_accounts(accounts, total_supply);
        assert_eq!(state.balance_sum(), u128::from(total_supply), "stored balances add up to the supply");
        Ledger::restore(self.genesis.clone(), state, tree, head)
    }

    /// The snapshot bytes: the applied slot and every block.
    pub fn image(&self) -> Vec<u8> {
        let image = Image {
            applied_slot: self.applied_slot,
            block_slots: self.block_slots.clone(),
            blocks: self.blocks.iter().map(Block::encode).collect(),
        };
        postcard::to_allocvec(&image).expect("encodes")
    }

    pub fn decode_image(bytes: &[u8]) -> Result<DecodedImage, String> {
        let image: Image = postcard::from_bytes(bytes).map_err(|e| format!("snapshot image: {e}"))?;
        if image.blocks.len() != image.block_slots.len() {
            return Err("snapshot image: one slot per block expected".into());
        }
        let blocks = image
            .blocks
            .iter()
            .map(|b| Block::decode(b))
            .collect::<Result<Vec<Block>, _>>()
            .map_err(|e| format!("snapshot block: {e}"))?;
        Ok(DecodedImage { applied_slot: image.applied_slot, block_slots: image.block_slots, blocks })
    }
}
