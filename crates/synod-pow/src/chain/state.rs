//! The proof-of-work ledger state: accounts, the units minted so far, and the
//! per-block undo data that lets a reorg roll blocks back exactly.
//!
//! Connecting a block is all or nothing: every transfer is applied with the
//! ledger rules of the Paxos mode ([`synod_core::transition::apply_transfer`],
//! fees allowed) to an overlay of the accounts, the coinbase must pay exactly
//! `subsidy + fees`, and only then are the changes committed. The undo record
//! keeps each touched account's previous value (or its absence), so
//! disconnecting restores the state bit for bit, map entries included.

use std::collections::{BTreeMap, HashMap};

use synod_core::transition::apply_transfer;
use synod_core::{Account, AccountId, AuthMode, Genesis, GenesisError};

use crate::chain::block::PowBlock;
use crate::chain::error::BlockError;
use crate::chain::sigcache::SigCache;
use crate::hash::BlockHash;

/// What disconnecting one block needs: each account it touched as it was
/// before (`None`: the account did not exist), and the units it minted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockUndo {
    /// The block this undoes.
    pub block: BlockHash,
    /// Previous values, sorted by account.
    pub prior: Vec<(AccountId, Option<Account>)>,
    /// The block's subsidy.
    pub minted: u64,
}

/// Accounts at one block of a proof-of-work chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowState {
    chain_id: u64,
    auth: AuthMode,
    accounts: HashMap<AccountId, Account>,
    genesis_supply: u64,
    minted: u64,
}

impl PowState {
    /// The state of block 0.
    pub fn from_genesis(genesis: &Genesis) -> Result<PowState, GenesisError> {
        let genesis_supply = genesis.validate()?;
        let accounts =
            genesis.allocations.iter().map(|a| (a.account, Account { balance: a.amount, nonce: 0 })).collect();
        let state = PowState { chain_id: genesis.chain_id, auth: genesis.auth, accounts, genesis_supply, minted: 0 };
        state.assert_supply();
        Ok(state)
    }

    /// An account (default if never funded).
    pub fn account(&self, id: &AccountId) -> Account {
        self.accounts.get(id).copied().unwrap_or_default()
    }

    /// Every account that exists.
    pub fn accounts(&self) -> &HashMap<AccountId, Account> {
        &self.accounts
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The auth mode.
    pub fn auth(&self) -> AuthMode {
        self.auth
    }

    /// Units minted by the blocks applied so far.
    pub fn minted(&self) -> u64 {
        self.minted
    }

    /// Genesis supply plus minted units: what the balances must add up to.
    pub fn supply(&self) -> u64 {
        self.genesis_supply.checked_add(self.minted).expect("validated: maximal supply fits u64")
    }

    /// Sum of all balances.
    pub fn balance_sum(&self) -> u128 {
        self.accounts.values().map(|a| u128::from(a.balance)).sum()
    }

    /// Balances add up to genesis supply + minted (O(accounts)).
    pub fn assert_supply(&self) {
        assert_eq!(self.balance_sum(), u128::from(self.supply()), "supply = genesis + rewards; fees only move");
    }

    /// Applies `block` on top of this state if every stateful rule holds
    /// (signatures through `sigs`); on error nothing changes. `subsidy` is the
    /// block's reward by the schedule.
    pub fn connect(&mut self, block: &PowBlock, subsidy: u64, sigs: &mut SigCache) -> Result<BlockUndo, BlockError> {
        let mut overlay: BTreeMap<AccountId, Account> = BTreeMap::new();
        let current = |overlay: &BTreeMap<AccountId, Account>, id: &AccountId| {
            overlay.get(id).copied().unwrap_or_else(|| self.account(id))
        };
        let mut fees: u64 = 0;
        for (index, tx) in block.transfers.iter().enumerate() {
            let reject = |reason| BlockError::Transfer { index, reason };
            sigs.verify(tx, self.auth).map_err(reject)?;
            let t = &tx.transfer;
            let effect = apply_transfer(self.chain_id, true, t, current(&overlay, &t.from), current(&overlay, &t.to))
                .map_err(reject)?;
            overlay.insert(t.from, effect.sender);
            overlay.insert(t.to, effect.receiver);
            fees = fees.checked_add(t.fee).ok_or(BlockError::FeeOverflow)?;
        }
        let expected = subsidy.checked_add(fees).ok_or(BlockError::FeeOverflow)?;
        if block.coinbase.amount != expected {
            return Err(BlockError::CoinbaseAmount { expected, got: block.coinbase.amount });
        }
        let miner = block.coinbase.miner;
        let mut paid = current(&overlay, &miner);
        paid.balance = paid.balance.checked_add(expected).ok_or(BlockError::MinerOverflow)?;
        overlay.insert(miner, paid);

        // Every rule held: commit, keeping what undo needs.
        let before: u128 = overlay.keys().map(|id| u128::from(self.account(id).balance)).sum();
        let after: u128 = overlay.values().map(|a| u128::from(a.balance)).sum();
        assert_eq!(after, before + u128::from(subsidy), "a block mints exactly its subsidy");
        let prior = overlay.iter().map(|(id, a)| (*id, self.accounts.insert(*id, *a))).collect();
        self.minted = self.minted.checked_add(subsidy).expect("validated: maximal supply fits u64");
        Ok(BlockUndo { block: block.hash(), prior, minted: subsidy })
    }

    /// Rolls back the block `undo` was made for; it must be the last one connected.
    pub fn disconnect(&mut self, block: &PowBlock, undo: BlockUndo) {
        assert_eq!(undo.block, block.hash(), "undo data belongs to the block");
        let before: u128 = undo.prior.iter().map(|(id, _)| u128::from(self.account(id).balance)).sum();
        let after: u128 = undo.prior.iter().map(|(_, a)| u128::from(a.map_or(0, |a| a.balance))).sum();
        assert_eq!(before, after + u128::from(undo.minted), "disconnecting removes exactly the subsidy");
        for (id, prior) in undo.prior {
            match prior {
                Some(a) => self.accounts.insert(id, a),
                None => self.accounts.remove(&id),
            };
        }
        self.minted = self.minted.checked_sub(undo.minted).expect("minted covers the block's subsidy");
    }
}
