//! Linearizability of the history over the account model, with the agreed
//! ledger as the witness order of transfers (Herlihy & Wing 1990, §3: each
//! operation takes effect at one point between its invocation and its
//! response, in an order that respects real time and is legal for the
//! object).
//!
//! A committed transfer takes effect at its ledger position k (state k to
//! k + 1), so its point is fixed; a read of account A that returned
//! (balance, nonce) must be placed at a state point s where A held that
//! value. Constraints, for A completed before B was invoked:
//! - transfers: k_A < k_B;
//! - transfer then read: s_B >= k_A + 1; read then transfer: s_A <= k_B;
//! - read then read: s_A <= s_B.
//!
//! A transfer with an unknown outcome that the ledger holds has no
//! completion (it may take effect any time after its invocation); one the
//! ledger lacks had no effect. A refused transfer must be absent, an
//! acknowledged one present at the ledger index it was told. Transfer
//! points are fixed and reads only bound later reads from below, so placing
//! each read (in invocation order) at its earliest admissible point is
//! optimal: no search is needed.

use std::collections::{HashMap, HashSet};

use synod_core::AccountId;

use super::chain::{Chain, Segment};
use super::history::{Entry, Operation, Outcome};

const VIOLATIONS_MAX: usize = 10;

fn describe(e: &Entry) -> String {
    let op = match &e.operation {
        Operation::Transfer(t) => format!("transfer {} nonce {}", t.id(), t.transfer.nonce),
        Operation::Read { account } => format!("read {account}"),
    };
    format!(
        "client {} {op} via node {} [{:.3} s .. {:.3} s] -> {:?}",
        e.client,
        e.node + 1,
        e.invoke_us as f64 / 1e6,
        e.complete_us as f64 / 1e6,
        e.outcome
    )
}

/// Returns the violations found (empty: linearizable).
pub fn check(entries: &[Entry], chain: &Chain, segments: &HashMap<AccountId, Vec<Segment>>) -> Vec<String> {
    let mut out = Vec::new();
    // Transfers: (invoke, complete or MAX, position).
    let mut writes: Vec<(u64, u64, usize)> = Vec::new();
    let mut sent = HashSet::new();
    for e in entries {
        let Operation::Transfer(tx) = &e.operation else { continue };
        let id = tx.id();
        sent.insert(id);
        let pos = chain.position.get(&id).copied();
        match (&e.outcome, pos) {
            (Outcome::Committed { ledger_index, height }, Some(p)) => {
                if (*ledger_index, *height) != (p as u64, chain.transfers[p].1) {
                    out.push(format!(
                        "{}: the ledger has it at index {p} in block {}",
                        describe(e),
                        chain.transfers[p].1
                    ));
                }
                writes.push((e.invoke_us, e.complete_us, p));
            }
            (Outcome::Committed { .. }, None) => {
                out.push(format!("{}: acknowledged but not in the ledger", describe(e)))
            }
            (Outcome::Rejected { .. }, Some(p)) => {
                out.push(format!("{}: refused, yet the ledger has it at index {p}", describe(e)))
            }
            (Outcome::Unknown { .. }, Some(p)) => writes.push((e.invoke_us, u64::MAX, p)),
            _ => {}
        }
    }
    for (tx, h) in &chain.transfers {
        if !sent.contains(&tx.id()) {
            out.push(format!("the ledger holds transfer {} (block {h}) that no client sent", tx.id()));
        }
    }
    // Transfers against transfers: sweep by invocation over those completed before.
    let mut by_invoke = writes.clone();
    by_invoke.sort_by_key(|w| w.0);
    let mut by_complete = writes.clone();
    by_complete.sort_by_key(|w| w.1);
    let mut done = 0;
    let mut max_pos: Option<usize> = None;
    for &(invoke, _, p) in &by_invoke {
        while done < by_complete.len() && by_complete[done].1 < invoke {
            max_pos = max_pos.max(Some(by_complete[done].2));
            done += 1;
        }
        if let Some(m) = max_pos.filter(|&m| m >= p) {
            out.push(format!(
                "transfer at index {p} invoked at {:.3} s lies before index {m}, acknowledged before that",
                invoke as f64 / 1e6
            ));
        }
    }
    // Reads, in invocation order, each at its earliest admissible point.
    let mut reads: Vec<&Entry> = entries.iter().filter(|e| matches!(e.outcome, Outcome::Read { .. })).collect();
    reads.sort_by_key(|e| e.invoke_us);
    let mut placed: Vec<usize> = Vec::with_capacity(reads.len());
    // Suffix minimum of transfer positions by invocation, for upper bounds.
    let mut suffix_min = vec![usize::MAX; by_invoke.len() + 1];
    for i in (0..by_invoke.len()).rev() {
        suffix_min[i] = suffix_min[i + 1].min(by_invoke[i].2);
    }
    let mut order: Vec<usize> = (0..reads.len()).collect();
    order.sort_by_key(|&i| reads[i].complete_us);
    let mut w_done = 0;
    let mut w_max: Option<usize> = None;
    let mut r_done = 0;
    let mut r_max = 0usize;
    for e in &reads {
        while w_done < by_complete.len() && by_complete[w_done].1 < e.invoke_us {
            w_max = w_max.max(Some(by_complete[w_done].2));
            w_done += 1;
        }
        while r_done < order.len() && reads[order[r_done]].complete_us < e.invoke_us {
            // Completed before this invocation, hence invoked before it: placed already.
            r_max = r_max.max(placed[order[r_done]]);
            r_done += 1;
        }
        let lower = r_max.max(w_max.map_or(0, |m| m + 1));
        let first_later = by_invoke.partition_point(|w| w.0 <= e.complete_us);
        let upper = suffix_min[first_later];
        let (Operation::Read { account }, Outcome::Read { balance, nonce }) = (&e.operation, &e.outcome) else {
            unreachable!("filtered to reads")
        };
        let point = segments.get(account).and_then(|segs| {
            segs.iter()
                .filter(|s| (s.balance, s.nonce) == (*balance, *nonce) && s.to >= lower)
                .map(|s| s.from.max(lower))
                .find(|&p| p <= upper)
        });
        match point {
            Some(p) => placed.push(p),
            None => {
                out.push(format!(
                    "{}: no ledger state between positions {lower} and {} has that value{}",
                    describe(e),
                    if upper == usize::MAX { "the end".to_string() } else { upper.to_string() },
                    match segments.get(account).and_then(|s| s.iter().rev().find(|s| s.from <= lower)) {
                        Some(s) => format!(" (at {lower}: balance {} nonce {})", s.balance, s.nonce),
                        None => String::new(),
                    }
                ));
                placed.push(lower);
            }
        }
        if out.len() >= VIOLATIONS_MAX {
            break;
        }
    }
    out.truncate(VIOLATIONS_MAX);
    out
}
