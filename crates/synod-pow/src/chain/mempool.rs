//! Transfers waiting for a block: bounded, ordered by fee across senders and
//! by nonce within a sender.
//!
//! Admission (after the chain id, shape and signature were checked by the
//! caller): the nonce is at least the sender's confirmed nonce and leaves no
//! gap after the sender's waiting transfers; the sender's confirmed balance
//! covers all its waiting transfers up to this one (amount + fee each); the
//! fee is at least `min_fee`. A transfer with the nonce of a waiting one
//! replaces it only for a strictly higher fee (the replaced transfer's
//! successors from that sender leave too). When the pool is full, the
//! waiting transfer with the lowest fee (then the highest nonce) is evicted
//! with its sender's successors, but only for a strictly higher fee from
//! another sender; otherwise the newcomer is refused.
//!
//! Block templates take transfers greedily by fee (highest first) among each
//! sender's next-nonce transfer, re-checking every ledger rule against an
//! overlay of the state.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use synod_core::transition::apply_transfer;
use synod_core::{Account, AccountId, RejectReason, SignedTransfer, TransferId};

use crate::chain::block::record_len;
use crate::chain::error::SubmitError;
use crate::chain::state::PowState;

/// One waiting transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolEntry {
    /// The transfer.
    pub tx: SignedTransfer,
    /// Its id.
    pub id: TransferId,
    /// Its record size.
    pub bytes: usize,
}

type FeeKey = (u64, Reverse<u64>, TransferId);

/// The mempool.
#[derive(Clone, Debug)]
pub struct Mempool {
    entries: HashMap<TransferId, MempoolEntry>,
    by_sender: BTreeMap<AccountId, BTreeMap<u64, TransferId>>,
    /// Eviction order: lowest fee first, then highest nonce, then id.
    by_fee: BTreeSet<FeeKey>,
    bytes: usize,
    max_transfers: usize,
    max_bytes: usize,
}

fn cost(tx: &SignedTransfer) -> u128 {
    u128::from(tx.transfer.amount) + u128::from(tx.transfer.fee)
}

fn fee_key(e: &MempoolEntry) -> FeeKey {
    (e.tx.transfer.fee, Reverse(e.tx.transfer.nonce), e.id)
}

impl Mempool {
    /// An empty pool of at most `max_transfers` transfers and `max_bytes` record bytes.
    pub fn new(max_transfers: usize, max_bytes: usize) -> Mempool {
        Mempool {
            entries: HashMap::new(),
            by_sender: BTreeMap::new(),
            by_fee: BTreeSet::new(),
            bytes: 0,
            max_transfers,
            max_bytes,
        }
    }

    /// Transfers waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Record bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The count bound.
    pub fn max_transfers(&self) -> usize {
        self.max_transfers
    }

    /// The byte bound.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// True if `id` waits.
    pub fn contains(&self, id: &TransferId) -> bool {
        self.entries.contains_key(id)
    }

    /// The waiting transfer `id`.
    pub fn get(&self, id: &TransferId) -> Option<&MempoolEntry> {
        self.entries.get(id)
    }

    /// Waiting transfers, by sender then nonce.
    pub fn iter(&self) -> impl Iterator<Item = &MempoolEntry> + '_ {
        self.by_sender.values().flat_map(|q| q.values()).map(|id| &self.entries[id])
    }

    /// The nonce `sender`'s next transfer needs: `confirmed` plus its
    /// contiguous waiting transfers.
    pub fn next_nonce(&self, sender: &AccountId, confirmed: u64) -> u64 {
        let mut next = confirmed;
        if let Some(q) = self.by_sender.get(sender) {
            for n in q.range(confirmed..).map(|(n, _)| *n) {
                if n != next {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// Admits `tx` (id `id`) from a sender whose confirmed account is
    /// `sender` (module docs). Returns the ids that left to make room or
    /// were replaced. On error nothing changes.
    pub fn add(
        &mut self,
        tx: SignedTransfer,
        id: TransferId,
        sender: Account,
        min_fee: u64,
    ) -> Result<Vec<TransferId>, SubmitError> {
        let t = &tx.transfer;
        if self.entries.contains_key(&id) {
            return Err(SubmitError::Duplicate);
        }
        if t.fee < min_fee {
            return Err(SubmitError::FeeTooLow { min: min_fee, got: t.fee });
        }
        if t.nonce < sender.nonce {
            return Err(RejectReason::BadNonce { expected: sender.nonce, got: t.nonce }.into());
        }
        let next = self.next_nonce(&t.from, sender.nonce);
        if t.nonce > next {
            return Err(SubmitError::NonceGap { expected: next, got: t.nonce });
        }
        let queue = self.by_sender.get(&t.from);
        let replaced = queue.and_then(|q| q.get(&t.nonce)).copied();
        if let Some(old) = replaced {
            let existing = self.entries[&old].tx.transfer.fee;
            if t.fee <= existing {
                return Err(SubmitError::ReplacementFeeTooLow { existing, got: t.fee });
            }
        }
        let before: u128 = queue.map_or(0, |q| q.range(..t.nonce).map(|(_, i)| cost(&self.entries[i].tx)).sum());
        let needed = before + cost(&tx);
        if needed > u128::from(sender.balance) {
            let needed = u64::try_from(needed).unwrap_or(u64::MAX);
            return Err(RejectReason::InsufficientFunds { balance: sender.balance, needed }.into());
        }

        // Plan what leaves: the replaced transfer and its successors, then
        // the cheapest other senders' transfers while over a bound.
        let size = record_len(&tx);
        let mut leaving: Vec<TransferId> = Vec::new();
        if replaced.is_some() {
            leaving.extend(self.successors(&t.from, t.nonce));
        }
        let (mut count, mut bytes) = self.after_removing(&leaving);
        for key in self.by_fee.iter() {
            if count < self.max_transfers && bytes + size <= self.max_bytes {
                break;
            }
            let victim = &self.entries[&key.2];
            if victim.tx.transfer.from == t.from || leaving.contains(&key.2) {
                continue;
            }
            if victim.tx.transfer.fee >= t.fee {
                return Err(SubmitError::MempoolFull { fee: t.fee });
            }
            for id in self.successors(&victim.tx.transfer.from, victim.tx.transfer.nonce) {
                if !leaving.contains(&id) {
                    leaving.push(id);
                }
            }
            (count, bytes) = self.after_removing(&leaving);
        }
        if count >= self.max_transfers || bytes + size > self.max_bytes {
            return Err(SubmitError::MempoolFull { fee: t.fee });
        }

        for gone in &leaving {
            self.remove(gone);
        }
        let entry = MempoolEntry { tx, id, bytes: size };
        self.by_fee.insert(fee_key(&entry));
        self.by_sender.entry(entry.tx.transfer.from).or_default().insert(entry.tx.transfer.nonce, id);
        self.bytes += size;
        self.entries.insert(id, entry);
        self.assert_bounds();
        Ok(leaving)
    }

    /// `sender`'s waiting transfers with nonce ≥ `nonce`.
    fn successors(&self, sender: &AccountId, nonce: u64) -> Vec<TransferId> {
        self.by_sender.get(sender).map_or(Vec::new(), |q| q.range(nonce..).map(|(_, id)| *id).collect())
    }

    fn after_removing(&self, ids: &[TransferId]) -> (usize, usize) {
        let mut unique: Vec<&TransferId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let bytes: usize = unique.iter().map(|id| self.entries[*id].bytes).sum();
        (self.entries.len() - unique.len(), self.bytes - bytes)
    }

    /// Removes one transfer (its successors stay until [`Self::revalidate`]).
    pub fn remove(&mut self, id: &TransferId) -> Option<MempoolEntry> {
        let entry = self.entries.remove(id)?;
        self.by_fee.remove(&fee_key(&entry));
        let from = entry.tx.transfer.from;
        let q = self.by_sender.get_mut(&from).expect("indexed by sender");
        q.remove(&entry.tx.transfer.nonce);
        if q.is_empty() {
            self.by_sender.remove(&from);
        }
        self.bytes -= entry.bytes;
        Some(entry)
    }

    /// After the state changed: for each of `senders`, drops waiting
    /// transfers whose nonce is used, and those after a gap or beyond what
    /// the balance covers. Returns the ids dropped.
    pub fn revalidate<'a>(
        &mut self,
        senders: impl IntoIterator<Item = &'a AccountId>,
        state: &PowState,
    ) -> Vec<TransferId> {
        let mut dropped = Vec::new();
        for sender in senders {
            let Some(q) = self.by_sender.get(sender) else { continue };
            let account = state.account(sender);
            let mut next = account.nonce;
            let mut spent: u128 = 0;
            for (nonce, id) in q {
                let keep = *nonce == next && {
                    spent += cost(&self.entries[id].tx);
                    spent <= u128::from(account.balance)
                };
                if keep {
                    next += 1;
                } else {
                    dropped.push(*id);
                }
            }
        }
        for id in &dropped {
            self.remove(id);
        }
        dropped
    }

    /// Up to `max_count` transfers in at most `max_bytes` record bytes that
    /// apply in order on `state`: greedily the highest fee among every
    /// sender's next transfer (ties: lower nonce, then lower id).
    pub fn select(&self, state: &PowState, max_bytes: usize, max_count: usize) -> Vec<SignedTransfer> {
        let mut heads: BinaryHeap<(u64, Reverse<u64>, Reverse<TransferId>)> = BinaryHeap::new();
        for (sender, q) in &self.by_sender {
            if let Some((nonce, id)) = q.first_key_value() {
                if *nonce == state.account(sender).nonce {
                    heads.push((self.entries[id].tx.transfer.fee, Reverse(*nonce), Reverse(*id)));
                }
            }
        }
        let mut overlay: HashMap<AccountId, Account> = HashMap::new();
        let mut out = Vec::new();
        let mut bytes = 0;
        while let Some((_, _, Reverse(id))) = heads.pop() {
            if out.len() >= max_count {
                break;
            }
            let e = &self.entries[&id];
            let t = &e.tx.transfer;
            if bytes + e.bytes > max_bytes {
                continue;
            }
            let get =
                |o: &HashMap<AccountId, Account>, a: &AccountId| o.get(a).copied().unwrap_or_else(|| state.account(a));
            let Ok(effect) = apply_transfer(state.chain_id(), true, t, get(&overlay, &t.from), get(&overlay, &t.to))
            else {
                continue;
            };
            overlay.insert(t.from, effect.sender);
            overlay.insert(t.to, effect.receiver);
            bytes += e.bytes;
            out.push(e.tx.clone());
            if let Some(next) = self.by_sender[&t.from].get(&(t.nonce + 1)) {
                heads.push((self.entries[next].tx.transfer.fee, Reverse(t.nonce + 1), Reverse(*next)));
            }
        }
        out
    }

    fn assert_bounds(&self) {
        assert!(self.entries.len() <= self.max_transfers && self.bytes <= self.max_bytes, "mempool within bounds");
        assert_eq!(self.entries.len(), self.by_fee.len(), "mempool indexes agree");
    }
}
