//! The ledger state machine: accounts, the RFC 9162 tree of every transfer
//! since genesis, and the head of the hash chain. Blocks are built and applied
//! here deterministically, so every replica that applies the same inputs gets
//! the same hashes.

use synod_merkle::MerkleTree;

use crate::block::{Block, BlockHash, BlockHeader};
use crate::limits::{BLOCK_BYTES_MAX, BLOCK_TRANSFERS_MAX};
use crate::reject::RejectReason;
use crate::state::{LedgerState, Overlay};
use crate::transfer::{check_receiver, SignedTransfer, TransferId, VerifiedTransfer};
use crate::{Account, AccountId, AuthMode, Genesis, GenesisError, Hash};

/// Where a committed transfer sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransferPosition {
    /// Height of the block that holds it.
    pub height: u64,
    /// Its index within that block.
    pub index_in_block: u32,
    /// Its leaf index in the ledger tree (0-based count of transfers before it).
    pub ledger_index: u64,
}

/// What happened to one candidate transfer of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOutcome {
    pub id: TransferId,
    pub result: Result<TransferPosition, RejectReason>,
}

/// The result of building a block from candidates.
#[derive(Debug)]
pub struct BuiltBlock {
    /// `None` when every candidate was rejected: no empty blocks are made.
    pub block: Option<Block>,
    /// One per candidate, in candidate order.
    pub outcomes: Vec<TransferOutcome>,
    /// The new value of every account the block changed.
    pub touched: Vec<(AccountId, Account)>,
}

/// Why a block does not extend this ledger. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("block {height}: {kind}")]
pub struct BlockError {
    pub height: u64,
    pub kind: BlockErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockErrorKind {
    #[error("chain id {got} is not this ledger's {expected}")]
    WrongChain { expected: u64, got: u64 },
    #[error("height does not follow the head {head}")]
    WrongHeight { head: u64 },
    #[error("previous hash does not match the head's hash")]
    PrevHashMismatch,
    #[error("timestamp {got} ms is before the previous block's {prev} ms")]
    TimestampBackwards { prev: u64, got: u64 },
    #[error("tx_count {header} does not match the {actual} transfers")]
    TxCountMismatch { header: u32, actual: usize },
    #[error("{count} transfers exceed the block limit {max}")]
    TooManyTransfers { count: usize, max: usize },
    #[error("empty blocks are not allowed after genesis")]
    Empty,
    #[error("transfer {index} is invalid: {reason}")]
    TransferRejected { index: usize, reason: RejectReason },
    #[error("tx_root does not match the block's transfers")]
    TxRootMismatch,
    #[error("ledger_size {header} should be {expected}")]
    LedgerSizeMismatch { header: u64, expected: u64 },
    #[error("ledger_root does not match the ledger after this block")]
    LedgerRootMismatch,
}

/// How `apply_block` treats signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignaturePolicy {
    /// Verify every signature (auditing, blocks from other nodes).
    Verify,
    /// Trust them: blocks read back from this node's own checksummed storage.
    Trust,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    genesis: Genesis,
    state: LedgerState,
    tree: MerkleTree,
    head: BlockHeader,
    head_hash: BlockHash,
}

impl Ledger {
    /// A ledger at block 0.
    pub fn new(genesis: Genesis) -> Result<Self, GenesisError> {
        let state = LedgerState::from_genesis(&genesis)?;
        let head = Self::genesis_header(&genesis);
        let head_hash = head.hash();
        Ok(Ledger { genesis, state, tree: MerkleTree::new(), head, head_hash })
    }

    /// Block 0: commits to the genesis through `prev_hash`, holds no transfers.
    pub fn genesis_header(genesis: &Genesis) -> BlockHeader {
        let empty = synod_merkle::empty_root();
        BlockHeader {
            chain_id: genesis.chain_id,
            height: 0,
            prev_hash: genesis.hash(),
            timestamp_ms: genesis.timestamp_ms,
            tx_count: 0,
            tx_root: empty,
            ledger_size: 0,
            ledger_root: empty,
        }
    }

    /// Restores a ledger from parts its storage kept. The caller vouches that they
    /// belong together; `synod verify` re-derives them all from the blocks instead.
    pub fn restore(genesis: Genesis, state: LedgerState, tree: MerkleTree, head: BlockHeader) -> Self {
        assert_eq!(head.chain_id, genesis.chain_id, "restored head belongs to this chain");
        assert_eq!(head.ledger_size, tree.len(), "restored tree matches the head");
        assert_eq!(head.ledger_root, tree.root(), "restored tree root matches the head");
        assert_eq!(state.total_supply(), genesis.validate().expect("stored genesis is valid"));
        let head_hash = head.hash();
        Ledger { genesis, state, tree, head, head_hash }
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }
    pub fn chain_id(&self) -> u64 {
        self.genesis.chain_id
    }
    pub fn auth(&self) -> AuthMode {
        self.genesis.auth
    }
    pub fn state(&self) -> &LedgerState {
        &self.state
    }
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }
    pub fn head(&self) -> &BlockHeader {
        &self.head
    }
    pub fn head_hash(&self) -> BlockHash {
        self.head_hash
    }

    /// Stateful checks for one transfer against the current head, without
    /// applying it (used to answer a client early; the block builder checks again).
    pub fn check(&self, tx: &SignedTransfer) -> Result<(), RejectReason> {
        self.admit(&mut Overlay::default(), tx)
    }

    /// The rules of PROTOCOL.md 2.5 but the signature, in the documented
    /// order: chain, shape, receiver, then the stateful ones (`Overlay::apply`
    /// checks chain and shape again, which is cheap). The receiver rule is a
    /// ledger rule: a candidate that reached the ledger by another path still
    /// cannot strand funds.
    fn admit(&self, overlay: &mut Overlay, tx: &SignedTransfer) -> Result<(), RejectReason> {
        if tx.transfer.chain_id != self.chain_id() {
            return Err(RejectReason::WrongChain { expected: self.chain_id(), got: tx.transfer.chain_id });
        }
        tx.transfer.check_shape()?;
        check_receiver(self.auth(), tx)?;
        overlay.apply(&self.state, self.chain_id(), false, &tx.transfer)
    }

    /// Applies `candidates` in order, keeps those that pass every rule, and
    /// seals them into the next block. Candidates beyond the block's count or
    /// byte limit must not be passed; the caller batches within the limits.
    pub fn build_block(&mut self, timestamp_ms: u64, candidates: Vec<VerifiedTransfer>) -> BuiltBlock {
        assert!(candidates.len() <= BLOCK_TRANSFERS_MAX, "caller batches within the block limit");
        let mut overlay = Overlay::default();
        let mut outcomes = Vec::with_capacity(candidates.len());
        let mut accepted: Vec<SignedTransfer> = Vec::with_capacity(candidates.len());
        let height = self.head.height + 1;
        for candidate in candidates {
            let tx = candidate.into_inner();
            let id = tx.id();
            let result = self.admit(&mut overlay, &tx).map(|()| TransferPosition {
                height,
                index_in_block: accepted.len() as u32,
                ledger_index: self.tree.len() + accepted.len() as u64,
            });
            if result.is_ok() {
                accepted.push(tx);
            }
            outcomes.push(TransferOutcome { id, result });
        }
        if accepted.is_empty() {
            return BuiltBlock { block: None, outcomes, touched: Vec::new() };
        }
        assert_eq!(overlay.balance_delta, 0, "conservation: a block neither creates nor destroys units");

        let leaves: Vec<Hash> = accepted.iter().map(SignedTransfer::leaf_hash).collect();
        let tx_root = synod_merkle::root_from_leaf_hashes(&leaves);
        for leaf in leaves {
            self.tree.push(leaf);
        }
        let header = BlockHeader {
            chain_id: self.chain_id(),
            height,
            prev_hash: self.head_hash.0,
            timestamp_ms: timestamp_ms.max(self.head.timestamp_ms),
            tx_count: accepted.len() as u32,
            tx_root,
            ledger_size: self.tree.len(),
            ledger_root: self.tree.root(),
        };
        let block = Block { header, transfers: accepted };
        assert!(block.encode().len() <= BLOCK_BYTES_MAX);
        let touched = self.commit(&block, overlay);
        BuiltBlock { block: Some(block), outcomes, touched }
    }

    /// Checks that `block` extends the head by every rule and applies it; on any
    /// error nothing changes. Returns the new value of every account it touched.
    pub fn apply_block(
        &mut self,
        block: &Block,
        signatures: SignaturePolicy,
    ) -> Result<Vec<(AccountId, Account)>, BlockError> {
        let h = &block.header;
        let fail = |kind| Err(BlockError { height: h.height, kind });
        if h.chain_id != self.chain_id() {
            return fail(BlockErrorKind::WrongChain { expected: self.chain_id(), got: h.chain_id });
        }
        if h.height != self.head.height + 1 {
            return fail(BlockErrorKind::WrongHeight { head: self.head.height });
        }
        if h.prev_hash != self.head_hash.0 {
            return fail(BlockErrorKind::PrevHashMismatch);
        }
        if h.timestamp_ms < self.head.timestamp_ms {
            return fail(BlockErrorKind::TimestampBackwards { prev: self.head.timestamp_ms, got: h.timestamp_ms });
        }
        if h.tx_count as usize != block.transfers.len() {
            return fail(BlockErrorKind::TxCountMismatch { header: h.tx_count, actual: block.transfers.len() });
        }
        if block.transfers.len() > BLOCK_TRANSFERS_MAX {
            return fail(BlockErrorKind::TooManyTransfers { count: block.transfers.len(), max: BLOCK_TRANSFERS_MAX });
        }
        if block.transfers.is_empty() {
            return fail(BlockErrorKind::Empty);
        }
        let mut overlay = Overlay::default();
        for (index, tx) in block.transfers.iter().enumerate() {
            let reject =
                |reason| Err(BlockError { height: h.height, kind: BlockErrorKind::TransferRejected { index, reason } });
            if signatures == SignaturePolicy::Verify {
                if let Err(reason) = tx.clone().verify(self.auth()) {
                    return reject(reason);
                }
            }
            if let Err(reason) = self.admit(&mut overlay, tx) {
                return reject(reason);
            }
        }
        assert_eq!(overlay.balance_delta, 0, "conservation: a block neither creates nor destroys units");
        let leaves: Vec<Hash> = block.transfers.iter().map(SignedTransfer::leaf_hash).collect();
        if synod_merkle::root_from_leaf_hashes(&leaves) != h.tx_root {
            return fail(BlockErrorKind::TxRootMismatch);
        }
        let expected_size = self.tree.len() + leaves.len() as u64;
        if h.ledger_size != expected_size {
            return fail(BlockErrorKind::LedgerSizeMismatch { header: h.ledger_size, expected: expected_size });
        }
        let size_before = self.tree.len();
        for leaf in leaves {
            self.tree.push(leaf);
        }
        if self.tree.root() != h.ledger_root {
            self.tree.truncate(size_before);
            return fail(BlockErrorKind::LedgerRootMismatch);
        }
        Ok(self.commit(block, overlay))
    }

    fn commit(&mut self, block: &Block, overlay: Overlay) -> Vec<(AccountId, Account)> {
        assert_eq!(block.header.height, self.head.height + 1);
        assert_eq!(block.header.ledger_size, self.tree.len(), "tree holds exactly the committed transfers");
        self.state.commit(&overlay);
        self.head = block.header.clone();
        self.head_hash = self.head.hash();
        let mut touched: Vec<(AccountId, Account)> = overlay.changed.into_iter().collect();
        touched.sort_by_key(|a| a.0);
        touched
    }
}
