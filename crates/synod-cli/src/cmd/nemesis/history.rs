//! The client history: every operation with its invocation and completion
//! time (microseconds since the run started, one monotonic clock shared by
//! all clients), what it asked and what came back.

use std::collections::BTreeMap;
use std::sync::Mutex;

use synod_core::{AccountId, SignedTransfer};

#[derive(Debug, Clone)]
pub enum Operation {
    Transfer(SignedTransfer),
    Read { account: AccountId },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Committed: the node's answer names its place in the ledger.
    Committed { height: u64, ledger_index: u64 },
    /// A definite refusal (4xx): the transfer must never be committed.
    Rejected { code: String },
    /// A read's answer.
    Read { balance: u64, nonce: u64 },
    /// Timeout, connection error, 5xx (`commit_unknown`, `not_leader`, ...):
    /// a transfer may or may not take effect, at any time from its
    /// invocation on; a read tells nothing.
    Unknown { reason: String },
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub client: usize,
    pub node: usize,
    pub invoke_us: u64,
    pub complete_us: u64,
    pub operation: Operation,
    pub outcome: Outcome,
}

/// Shared by the clients; bounded, so a run that goes wrong cannot eat memory.
pub struct History {
    entries: Mutex<Vec<Entry>>,
    entries_max: usize,
}

impl History {
    pub fn new(entries_max: usize) -> Self {
        History { entries: Mutex::new(Vec::new()), entries_max }
    }

    /// Records an entry; false once the history is full (clients then stop).
    pub fn record(&self, e: Entry) -> bool {
        let mut entries = self.entries.lock().expect("history lock");
        if entries.len() >= self.entries_max {
            return false;
        }
        entries.push(e);
        true
    }

    pub fn into_entries(self) -> Vec<Entry> {
        self.entries.into_inner().expect("history lock")
    }
}

/// Counts for the report.
#[derive(Debug, Default)]
pub struct Tally {
    pub transfers_committed: usize,
    pub transfers_rejected: usize,
    pub transfers_unknown: usize,
    pub reads_ok: usize,
    pub reads_unknown: usize,
    /// Why outcomes were unknown (timeout, connect_error, commit_unknown, ...), with counts.
    pub unknown_reasons: BTreeMap<String, usize>,
}

pub fn tally(entries: &[Entry]) -> Tally {
    let mut t = Tally::default();
    for e in entries {
        if let Outcome::Unknown { reason } = &e.outcome {
            *t.unknown_reasons.entry(reason.clone()).or_default() += 1;
        }
        match (&e.operation, &e.outcome) {
            (Operation::Transfer(_), Outcome::Committed { .. }) => t.transfers_committed += 1,
            (Operation::Transfer(_), Outcome::Rejected { .. }) => t.transfers_rejected += 1,
            (Operation::Transfer(_), _) => t.transfers_unknown += 1,
            (Operation::Read { .. }, Outcome::Read { .. }) => t.reads_ok += 1,
            (Operation::Read { .. }, _) => t.reads_unknown += 1,
        }
    }
    t
}

/// Writes the history as JSON lines (one operation a line) for a human
/// reading a failed run.
pub fn write_jsonl(entries: &[Entry], path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for e in entries {
        let operation = match &e.operation {
            Operation::Transfer(tx) => serde_json::json!({
                "transfer": tx.id().to_string(), "from": tx.transfer.from.to_string(),
                "to": tx.transfer.to.to_string(), "amount": tx.transfer.amount, "nonce": tx.transfer.nonce,
            }),
            Operation::Read { account } => serde_json::json!({ "read": account.to_string() }),
        };
        let outcome = match &e.outcome {
            Outcome::Committed { height, ledger_index } => {
                serde_json::json!({ "ok": true, "height": height, "ledger_index": ledger_index })
            }
            Outcome::Rejected { code } => serde_json::json!({ "rejected": code }),
            Outcome::Read { balance, nonce } => serde_json::json!({ "ok": true, "balance": balance, "nonce": nonce }),
            Outcome::Unknown { reason } => serde_json::json!({ "unknown": reason }),
        };
        let line = serde_json::json!({
            "client": e.client, "node": e.node + 1, "invoke_us": e.invoke_us, "complete_us": e.complete_us,
            "operation": operation, "outcome": outcome,
        });
        writeln!(w, "{line}")?;
    }
    w.flush()
}
