//! The stateful transfer rules of PROTOCOL.md 2.5 as a pure function of the
//! two accounts a transfer touches, for ledgers that keep their accounts
//! elsewhere (the proof-of-work chain, which also mints and keeps undo data).
//!
//! This runs exactly the code the Paxos ledger runs (`Overlay::apply` on a
//! two-account state), so both consensus modes share one implementation of
//! the rules: chain id, shape, fee policy, nonce, funds and overflow, in that
//! order. Signatures are not checked here: callers verify them first
//! ([`crate::SignedTransfer::verify`]), as [`crate::Ledger`] does.

use std::collections::HashMap;

use crate::state::{LedgerState, Overlay};
use crate::{Account, RejectReason, Transfer};

/// The two accounts after a transfer was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferEffect {
    /// The sender after: balance − (amount + fee), nonce + 1.
    pub sender: Account,
    /// The receiver after: balance + amount.
    pub receiver: Account,
}

/// Applies `tx` to `sender` and `receiver` (the current values of `tx.from`
/// and `tx.to`) under the ledger rules, with fees allowed or not. The fee
/// leaves the two accounts; the caller credits it (to a miner) or it must be 0.
pub fn apply_transfer(
    chain_id: u64,
    fee_allowed: bool,
    tx: &Transfer,
    sender: Account,
    receiver: Account,
) -> Result<TransferEffect, RejectReason> {
    let mut accounts = HashMap::with_capacity(2);
    accounts.insert(tx.from, sender);
    accounts.insert(tx.to, receiver);
    let state = LedgerState::from_accounts(accounts, 0);
    let mut overlay = Overlay::default();
    overlay.apply(&state, chain_id, fee_allowed, tx)?;
    let effect = TransferEffect { sender: overlay.changed[&tx.from], receiver: overlay.changed[&tx.to] };
    assert_eq!(
        u128::from(sender.balance) + u128::from(receiver.balance),
        u128::from(effect.sender.balance) + u128::from(effect.receiver.balance) + u128::from(tx.fee),
        "a transfer moves amount + fee out of the sender and amount into the receiver"
    );
    Ok(effect)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountId;

    fn tx(fee: u64, nonce: u64) -> Transfer {
        Transfer { chain_id: 3, from: AccountId([1; 32]), to: AccountId([2; 32]), amount: 10, fee, nonce, memo: vec![] }
    }

    #[test]
    fn fee_leaves_both_accounts() {
        let s = Account { balance: 100, nonce: 4 };
        let r = Account { balance: 5, nonce: 9 };
        let e = apply_transfer(3, true, &tx(7, 4), s, r).unwrap();
        assert_eq!(e.sender, Account { balance: 83, nonce: 5 });
        assert_eq!(e.receiver, Account { balance: 15, nonce: 9 });
    }

    #[test]
    fn same_rules_as_the_paxos_ledger() {
        let s = Account { balance: 100, nonce: 4 };
        let r = Account::default();
        assert_eq!(apply_transfer(3, false, &tx(1, 4), s, r), Err(RejectReason::FeeNotAllowed { fee: 1 }));
        assert_eq!(apply_transfer(4, true, &tx(1, 4), s, r), Err(RejectReason::WrongChain { expected: 4, got: 3 }));
        assert_eq!(apply_transfer(3, true, &tx(1, 5), s, r), Err(RejectReason::BadNonce { expected: 4, got: 5 }));
        assert_eq!(
            apply_transfer(3, true, &tx(91, 4), s, r),
            Err(RejectReason::InsufficientFunds { balance: 100, needed: 101 })
        );
        assert_eq!(apply_transfer(3, true, &tx(u64::MAX, 4), s, r), Err(RejectReason::Overflow));
        let full = Account { balance: u64::MAX - 5, nonce: 0 };
        assert_eq!(apply_transfer(3, true, &tx(0, 4), s, full), Err(RejectReason::Overflow));
    }
}
