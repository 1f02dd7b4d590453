//! Linearizability of the log-append workload, specialised so it is a
//! linear-time check rather than a search:
//! - appends: if A's acknowledgement precedes B's invocation (true time), A's
//!   effective slot is below B's;
//! - reads: a read returns an applied index at least the slot of every append
//!   acknowledged before the read began, and below the slot of every append
//!   invoked after the read completed.
//!
//! Source: Herlihy & Wing, "Linearizability: A Correctness Condition for
//! Concurrent Objects" (1990), §3: the real-time order of non-overlapping
//! operations must be respected.

use super::Violation;
use crate::history::{HistoryEntry, Operation, Outcome};

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
            (Operation::Append { .. }, Outcome::Ok { index }, Some(c)) if !reads => Some((e, *index, c)),
            (Operation::Read, Outcome::Ok { index }, Some(c)) if reads => Some((e, *index, c)),
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

pub fn check(history: &[HistoryEntry]) -> Result<(), Violation> {
    let mut appends = ok_ops(history, false);
    let reads = ok_ops(history, true);
    // Sweep: appends by completion time, running max slot of those done
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
                    "op {}/{} (invoked {invoke_ms} ms, {} {}) saw slot {} below acknowledged append {}/{} at slot {} (done {} ms)",
                    op.client, op.op_id, if is_read { "read" } else { "append" }, "index", op.index, prior.client, prior.op_id, prior.index, prior.complete_ms
                ),
            ));
        }
    }
    // Reads against later appends.
    for read in &reads {
        for append in &appends {
            if append.invoke_ms > read.complete_ms && append.index <= read.index {
                return Err(Violation::new(
                    "linearizability",
                    format!(
                        "read {}/{} returned index {} but append {}/{} invoked later ({} ms) landed at slot {}",
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
