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

#[cfg(test)]
mod tests {
    //! Small hand-made histories over a two-account ledger: each test flips
    //! one fact that a correct checker must notice (or must accept).
    use std::collections::HashMap;

    use synod_core::crypto::Keypair;
    use synod_core::{SignedTransfer, Transfer};

    use super::*;

    struct World {
        a: Keypair,
        b: Keypair,
    }

    fn world() -> World {
        World { a: Keypair::from_seed(&[1; 32]), b: Keypair::from_seed(&[2; 32]) }
    }

    fn tx(w: &World, nonce: u64, memo: u8) -> SignedTransfer {
        Transfer { chain_id: 9, from: w.a.account(), to: w.b.account(), amount: 10, fee: 0, nonce, memo: vec![memo] }
            .sign(&w.a)
    }

    fn chain_of(txs: &[&SignedTransfer]) -> Chain {
        let mut c = Chain { transfers: Vec::new(), position: HashMap::new() };
        for (i, t) in txs.iter().enumerate() {
            c.position.insert(t.id(), i);
            c.transfers.push(((*t).clone(), 1 + i as u64));
        }
        c
    }

    fn write(t: &SignedTransfer, invoke_us: u64, complete_us: u64, outcome: Outcome) -> Entry {
        Entry { client: 0, node: 0, invoke_us, complete_us, operation: Operation::Transfer(t.clone()), outcome }
    }

    fn read(w: &World, invoke_us: u64, complete_us: u64, balance: u64, nonce: u64) -> Entry {
        Entry {
            client: 1,
            node: 1,
            invoke_us,
            complete_us,
            operation: Operation::Read { account: w.a.account() },
            outcome: Outcome::Read { balance, nonce },
        }
    }

    fn run(w: &World, chain: &Chain, entries: &[Entry]) -> Vec<String> {
        let segs = chain.segments(&[(w.a.account(), 100), (w.b.account(), 100)]).expect("replays");
        check(entries, chain, &segs)
    }

    fn ok(index: u64) -> Outcome {
        Outcome::Committed { height: index + 1, ledger_index: index }
    }

    #[test]
    fn a_correct_history_passes() {
        let w = world();
        let (t0, t1) = (tx(&w, 0, 0), tx(&w, 1, 1));
        let chain = chain_of(&[&t0, &t1]);
        let h = [
            read(&w, 0, 5, 100, 0),
            write(&t0, 10, 20, ok(0)),
            // Concurrent with t1: either value is fine.
            read(&w, 25, 40, 90, 1),
            write(&t1, 30, 50, ok(1)),
            read(&w, 60, 70, 80, 2),
        ];
        assert_eq!(run(&w, &chain, &h), Vec::<String>::new());
    }

    #[test]
    fn a_stale_read_after_an_acknowledged_transfer_fails() {
        let w = world();
        let t0 = tx(&w, 0, 0);
        let chain = chain_of(&[&t0]);
        let h = [write(&t0, 10, 20, ok(0)), read(&w, 30, 40, 100, 0)];
        assert_eq!(run(&w, &chain, &h).len(), 1);
    }

    #[test]
    fn a_read_of_a_transfer_not_yet_invoked_fails() {
        let w = world();
        let t0 = tx(&w, 0, 0);
        let chain = chain_of(&[&t0]);
        let h = [read(&w, 0, 5, 90, 1), write(&t0, 10, 20, ok(0))];
        assert_eq!(run(&w, &chain, &h).len(), 1);
    }

    #[test]
    fn reads_going_back_in_time_fail() {
        let w = world();
        let t0 = tx(&w, 0, 0);
        let chain = chain_of(&[&t0]);
        // t0 unknown (its effect may come any time), but once a read saw it,
        // a later read must too.
        let h = [
            write(&t0, 0, 5, Outcome::Unknown { reason: "timeout".into() }),
            read(&w, 10, 20, 90, 1),
            read(&w, 30, 40, 100, 0),
        ];
        assert_eq!(run(&w, &chain, &h).len(), 1);
    }

    #[test]
    fn unknown_outcomes_may_go_either_way() {
        let w = world();
        let (t0, lost) = (tx(&w, 0, 0), tx(&w, 0, 9));
        let chain = chain_of(&[&t0]);
        let unknown = || Outcome::Unknown { reason: "timeout".into() };
        // t0 took effect after its client gave up; `lost` never did.
        let h = [
            write(&t0, 0, 5, unknown()),
            write(&lost, 6, 8, unknown()),
            read(&w, 10, 20, 100, 0),
            read(&w, 30, 40, 90, 1),
        ];
        assert_eq!(run(&w, &chain, &h), Vec::<String>::new());
    }

    #[test]
    fn transfers_out_of_real_time_order_fail() {
        let w = world();
        let (t0, t1) = (tx(&w, 0, 0), tx(&w, 1, 1));
        // t1 was acknowledged before t0 was sent, yet t0 comes first; nonces
        // would forbid this on a real node, the checker must too.
        let chain = chain_of(&[&t0, &t1]);
        let h = [write(&t1, 0, 5, ok(1)), write(&t0, 10, 20, ok(0))];
        assert_eq!(run(&w, &chain, &h).len(), 1);
    }

    #[test]
    fn refused_or_unsent_transfers_in_the_ledger_fail() {
        let w = world();
        let (t0, t1) = (tx(&w, 0, 0), tx(&w, 1, 1));
        let chain = chain_of(&[&t0, &t1]);
        let h = [write(&t0, 0, 5, Outcome::Rejected { code: "bad_nonce".into() })];
        let found = run(&w, &chain, &h);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("refused") && found[1].contains("no client sent"));
    }

    #[test]
    fn an_acknowledgement_at_the_wrong_index_or_missing_fails() {
        let w = world();
        let (t0, t1) = (tx(&w, 0, 0), tx(&w, 1, 1));
        let chain = chain_of(&[&t0]);
        let h = [write(&t0, 0, 5, ok(3)), write(&t1, 10, 20, ok(1))];
        let found = run(&w, &chain, &h);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].contains("not in the ledger"));
    }
}
