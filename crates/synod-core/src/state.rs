//! The account table and the rules that move units between accounts.

use std::collections::HashMap;

use crate::{Account, AccountId, Genesis, GenesisError, RejectReason, Transfer};

/// Every funded account, plus the fixed total supply that their balances must
/// always add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerState {
    accounts: HashMap<AccountId, Account>,
    total_supply: u64,
}

impl LedgerState {
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, GenesisError> {
        let total_supply = genesis.validate()?;
        genesis.check_accounts()?;
        let mut accounts = HashMap::with_capacity(genesis.allocations.len());
        for a in &genesis.allocations {
            accounts.insert(a.account, Account { balance: a.amount, nonce: 0 });
        }
        let state = LedgerState { accounts, total_supply };
        state.assert_conservation();
        Ok(state)
    }

    /// Rebuilds from stored accounts (a node's own checksummed disk).
    pub fn from_accounts(accounts: HashMap<AccountId, Account>, total_supply: u64) -> Self {
        LedgerState { accounts, total_supply }
    }

    pub fn account(&self, id: &AccountId) -> Account {
        self.accounts.get(id).copied().unwrap_or_default()
    }

    pub fn accounts(&self) -> &HashMap<AccountId, Account> {
        &self.accounts
    }

    pub fn total_supply(&self) -> u64 {
        self.total_supply
    }

    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Sum of all balances, which must equal the total supply.
    pub fn balance_sum(&self) -> u128 {
        self.accounts.values().map(|a| a.balance as u128).sum()
    }

    /// The conservation invariant over every account: O(accounts), so it runs at
    /// start-up and in audits; per block the ledger checks the same thing on the
    /// accounts the block touched.
    pub fn assert_conservation(&self) {
        assert_eq!(self.balance_sum(), self.total_supply as u128, "conservation of supply");
    }

    pub(crate) fn commit(&mut self, overlay: &Overlay) {
        for (id, account) in &overlay.changed {
            self.accounts.insert(*id, *account);
        }
    }
}

/// Pending account changes of one block, applied to the state only once the
/// whole block is valid: a block is all or nothing.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    pub changed: HashMap<AccountId, Account>,
    /// Sum of balance changes; must be zero for every block (conservation).
    pub balance_delta: i128,
}

impl Overlay {
    pub fn account(&self, state: &LedgerState, id: &AccountId) -> Account {
        self.changed.get(id).copied().unwrap_or_else(|| state.account(id))
    }

    /// Applies one transfer's effect if every stateful rule holds; otherwise
    /// returns why and leaves the overlay untouched.
    pub fn apply(
        &mut self,
        state: &LedgerState,
        chain_id: u64,
        fee_allowed: bool,
        tx: &Transfer,
    ) -> Result<(), RejectReason> {
        if tx.chain_id != chain_id {
            return Err(RejectReason::WrongChain { expected: chain_id, got: tx.chain_id });
        }
        tx.check_shape()?;
        if tx.fee != 0 && !fee_allowed {
            return Err(RejectReason::FeeNotAllowed { fee: tx.fee });
        }
        let sender = self.account(state, &tx.from);
        if tx.nonce != sender.nonce {
            return Err(RejectReason::BadNonce { expected: sender.nonce, got: tx.nonce });
        }
        let needed = tx.amount.checked_add(tx.fee).ok_or(RejectReason::Overflow)?;
        if sender.balance < needed {
            return Err(RejectReason::InsufficientFunds { balance: sender.balance, needed });
        }
        let receiver = self.account(state, &tx.to);
        let receiver_balance = receiver.balance.checked_add(tx.amount).ok_or(RejectReason::Overflow)?;
        let sender_nonce = sender.nonce.checked_add(1).ok_or(RejectReason::Overflow)?;

        // Every check passed: from here on nothing can fail.
        let sender_after = Account { balance: sender.balance - needed, nonce: sender_nonce };
        let receiver_after = Account { balance: receiver_balance, nonce: receiver.nonce };
        assert_eq!(
            (sender.balance as u128) + (receiver.balance as u128),
            (sender_after.balance as u128) + (receiver_after.balance as u128) + tx.fee as u128,
            "a transfer moves units, it does not create them"
        );
        self.changed.insert(tx.from, sender_after);
        self.changed.insert(tx.to, receiver_after);
        self.balance_delta -= tx.fee as i128;
        Ok(())
    }
}
