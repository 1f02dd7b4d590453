//! Linearizability of the client history, in two layers, each a sweep over
//! real time rather than a search (every completed operation carries the
//! point where it took effect, so no search is needed):
//!
//! **Log (slots).** A submit is answered with the slot of the batch that
//! carried it, a read with the applied slot it was served at. If A's answer
//! precedes B's invocation, A's slot is below B's (submit) or at most B's
//! (read); a read's slot is below that of every submit invoked after the
//! read completed.
//!
//! **Ledger (heights and ledger indices).** The ledger is the object; a
//! committed transfer takes effect at its ledger index, a read at the height
//! it was served at. If A completed before B was invoked:
//! - every transfer B committed afresh lies beyond every transfer A was told
//!   committed (fresh or duplicate), and beyond the height of every read A;
//! - a read B is at a height at least that of every such transfer or read.
//!
//! and every read returned exactly the account's value at its height in the
//! (agreed) chain. A duplicate answer names the earlier position, which is
//! right at any later time, so it only constrains later operations.
//!
//! Source: Herlihy & Wing, "Linearizability: A Correctness Condition for
//! Concurrent Objects" (1990), §3: each operation takes effect at one point
//! between its invocation and response, respecting real-time order, and the
//! sequential history so obtained is legal for the object.

use super::Violation;
use crate::history::{HistoryEntry, Operation, Outcome, TransferResult};
use crate::state_machine::Replay;

struct Done {
    invoke_ms: u64,
    complete_ms: u64,
    index: u64,
    op_id: u64,
    client: u8,
}

fn ok_ops(history: &[HistoryEntry], reads: bool) -> Vec<Done> {
    history
        .iter()
        .filter_map(|e| match (&e.operation, &e.outcome, e.complete_ms) {
            (Operation::Submit { .. }, Outcome::Ok { index, .. }, Some(c)) if !reads => Some((e, *index, c)),
            (Operation::Read { .. }, Outcome::Ok { index, .. }, Some(c)) if reads => Some((e, *index, c)),
            _ => None,
        })
        .map(|(e, index, complete_ms)| Done {
            invoke_ms: e.invoke_ms,
            complete_ms,
            index,
            op_id: e.op_id,
            client: e.client,
        })
        .collect()
}

/// The log layer.
pub fn check(history: &[HistoryEntry]) -> Result<(), Violation> {
    let mut appends = ok_ops(history, false);
    let reads = ok_ops(history, true);
    // Sweep: submits by completion time, running max slot of those done
    // strictly before each operation's invocation.
    appends.sort_by_key(|a| (a.complete_ms, a.index));
    let mut by_invoke: Vec<(u64, bool, usize)> =
        appends.iter().enumerate().map(|(i, a)| (a.invoke_ms, false, i)).collect();
    by_invoke.extend(reads.iter().enumerate().map(|(i, r)| (r.invoke_ms, true, i)));
    by_invoke.sort();
    let mut done = 0;
    let mut max_before: Option<&Done> = None;
    for (invoke_ms, is_read, i) in by_invoke {
        while done < appends.len() && appends[done].complete_ms < invoke_ms {
            if max_before.is_none_or(|m| appends[done].index > m.index) {
                max_before = Some(&appends[done]);
            }
            done += 1;
        }
        let Some(prior) = max_before else { continue };
        let (op, strict) = if is_read { (&reads[i], false) } else { (&appends[i], true) };
        let ok = if strict { prior.index < op.index } else { prior.index <= op.index };
        if !ok {
            return Err(Violation::new(
                "linearizability",
                format!(
                    "op {}/{} (invoked {invoke_ms} ms, {}) saw slot {} below acknowledged submit {}/{} at slot {} (done {} ms)",
                    op.client,
                    op.op_id,
                    if is_read { "read" } else { "submit" },
                    op.index,
                    prior.client,
                    prior.op_id,
                    prior.index,
                    prior.complete_ms
                ),
            ));
        }
    }
    // Reads against later submits.
    for read in &reads {
        for append in &appends {
            if append.invoke_ms > read.complete_ms && append.index <= read.index {
                return Err(Violation::new(
                    "linearizability",
                    format!(
                        "read {}/{} returned slot {} but submit {}/{} invoked later ({} ms) landed at slot {}",
                        read.client,
                        read.op_id,
                        read.index,
                        append.client,
                        append.op_id,
                        append.invoke_ms,
                        append.index
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// One completed operation, reduced to what the ledger layer needs.
struct LedgerOp<'a> {
    entry: &'a HistoryEntry,
    complete_ms: u64,
    /// Highest ledger index / height this operation saw in effect.
    seen_index: Option<u64>,
    seen_height: u64,
    /// Lowest ledger index / height it committed afresh.
    fresh_index: Option<u64>,
    fresh_height: Option<u64>,
    read_height: Option<u64>,
}

fn ledger_ops(history: &[HistoryEntry]) -> Vec<LedgerOp<'_>> {
    let mut ops = Vec::new();
    for entry in history {
        let (Outcome::Ok { read, .. }, Some(complete_ms)) = (&entry.outcome, entry.complete_ms) else { continue };
        let mut op = LedgerOp {
            entry,
            complete_ms,
            seen_index: None,
            seen_height: 0,
            fresh_index: None,
            fresh_height: None,
            read_height: read.map(|r| r.height),
        };
        for (_, result) in entry.committed() {
            let TransferResult::Committed { height, ledger_index, duplicate, .. } = *result else { continue };
            op.seen_index = op.seen_index.max(Some(ledger_index));
            op.seen_height = op.seen_height.max(height);
            if !duplicate {
                op.fresh_index = Some(op.fresh_index.map_or(ledger_index, |f| f.min(ledger_index)));
                op.fresh_height = Some(op.fresh_height.map_or(height, |f| f.min(height)));
            }
        }
        if let Some(h) = op.read_height {
            op.seen_height = h;
        }
        ops.push(op);
    }
    ops
}

/// The ledger layer, against `chain`: a replay of the longest chain, which
/// block agreement makes a superset of every node's.
pub fn check_ledger(history: &[HistoryEntry], chain: &Replay) -> Result<(), Violation> {
    let fail = |op: &LedgerOp, detail: String| {
        Violation::new(
            "linearizability",
            format!("op {}/{} (invoked {} ms): {detail}", op.entry.client, op.entry.op_id, op.entry.invoke_ms),
        )
    };
    let ops = ledger_ops(history);
    let top = chain.ledger.head().height;
    for op in &ops {
        let (Operation::Read { account }, Outcome::Ok { read: Some(read), .. }) =
            (&op.entry.operation, &op.entry.outcome)
        else {
            continue;
        };
        let expected = chain.account_at(account, read.height);
        if read.height > top || (read.balance, read.nonce) != (expected.balance, expected.nonce) {
            return Err(fail(
                op,
                format!(
                    "read {account:?} at height {} as balance {} nonce {}, the chain has {expected:?} there (top {top})",
                    read.height, read.balance, read.nonce
                ),
            ));
        }
    }
    let mut by_complete: Vec<&LedgerOp> = ops.iter().collect();
    by_complete.sort_by_key(|o| o.complete_ms);
    let mut by_invoke: Vec<&LedgerOp> = ops.iter().collect();
    by_invoke.sort_by_key(|o| o.entry.invoke_ms);
    let mut done = 0;
    // Maxima over the operations completed strictly before the current
    // invocation: ledger index seen by submits, height seen by anything,
    // height of reads.
    let mut seen_index: Option<(u64, &LedgerOp)> = None;
    let mut seen_height: Option<(u64, &LedgerOp)> = None;
    let mut read_height: Option<(u64, &LedgerOp)> = None;
    fn raise<'a>(max: &mut Option<(u64, &'a LedgerOp<'a>)>, value: Option<u64>, op: &'a LedgerOp<'a>) {
        if let Some(v) = value {
            if max.is_none_or(|(m, _)| v > m) {
                *max = Some((v, op));
            }
        }
    }
    let before = |d: &LedgerOp| format!("client {} op {} (done {} ms)", d.entry.client, d.entry.op_id, d.complete_ms);
    for op in by_invoke {
        while done < by_complete.len() && by_complete[done].complete_ms < op.entry.invoke_ms {
            let d = by_complete[done];
            raise(&mut seen_index, d.seen_index, d);
            raise(&mut seen_height, Some(d.seen_height), d);
            raise(&mut read_height, d.read_height, d);
            done += 1;
        }
        if let (Some(fresh), Some((prior, d))) = (op.fresh_index, seen_index) {
            if fresh <= prior {
                return Err(fail(
                    op,
                    format!("committed afresh at ledger index {fresh}, not after index {prior} of {}", before(d)),
                ));
            }
        }
        if let (Some(fresh), Some((prior, d))) = (op.fresh_height, read_height) {
            if fresh <= prior {
                return Err(fail(
                    op,
                    format!(
                        "committed afresh at height {fresh}, not above the read at height {prior} by {}",
                        before(d)
                    ),
                ));
            }
        }
        if let (Some(read), Some((prior, d))) = (op.read_height, seen_height) {
            if read < prior {
                return Err(fail(op, format!("read at height {read}, below height {prior} seen by {}", before(d))));
            }
        }
    }
    Ok(())
}
