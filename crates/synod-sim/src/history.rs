//! The client-visible history: one entry per operation, with true-time
//! invoke and completion. An operation whose reply never came is `Unknown`:
//! it may or may not have taken effect, and no check assumes either.

use serde::{Deserialize, Serialize};
use synod_core::AccountId;

pub use crate::workload::{Intent, TransferCall};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operation {
    /// `POST /v1/transfers` with these transfers.
    Submit { transfers: Vec<TransferCall> },
    /// A linearizable read of one account (`GET /v1/accounts/{id}`).
    Read { account: AccountId },
}

impl Operation {
    /// A short description for trace lines.
    pub fn summary(&self) -> String {
        match self {
            Operation::Submit { transfers } => {
                let intents: Vec<String> = transfers.iter().map(|t| format!("{:?}", t.intent)).collect();
                format!("Submit[{}]", intents.join(" "))
            }
            Operation::Read { account } => format!("Read({account:?})"),
        }
    }
}

/// Where a transfer was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// By the leader before proposing: chain id, shape, signature.
    Verify,
    /// By the ledger when the slot was applied.
    Apply,
}

/// What a client was told about one transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TransferResult {
    Committed {
        height: u64,
        index_in_block: u32,
        ledger_index: u64,
        /// It was committed before this request (an idempotent resubmission).
        duplicate: bool,
    },
    Rejected {
        stage: Stage,
        /// `RejectReason::code()`.
        code: String,
        /// For `bad_nonce`: the account's next nonce at that point.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_nonce: Option<u64>,
    },
}

/// What a read returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadResult {
    /// Ledger height the read was served at.
    pub height: u64,
    pub balance: u64,
    pub nonce: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    /// Submit: the slot of the batch that answered, and one result per
    /// transfer. Read: the applied slot it observed, and what it read.
    Ok {
        index: u64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        results: Vec<TransferResult>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        read: Option<ReadResult>,
    },
    Unknown,
    /// Refused as a whole before consensus: none of its transfers was proposed.
    Fail {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub seed: u64,
    pub client: u8,
    pub op_id: u64,
    pub invoke_ms: u64,
    pub complete_ms: Option<u64>,
    pub attempts: u32,
    pub operation: Operation,
    pub outcome: Outcome,
}

impl HistoryEntry {
    /// The committed positions this operation was told about, with the transfers.
    pub fn committed(&self) -> impl Iterator<Item = (&TransferCall, &TransferResult)> {
        self.pairs().filter(|(_, r)| matches!(r, TransferResult::Committed { .. }))
    }

    /// Each transfer of a completed submit with its result.
    pub fn pairs(&self) -> impl Iterator<Item = (&TransferCall, &TransferResult)> {
        let (calls, results): (&[TransferCall], &[TransferResult]) = match (&self.operation, &self.outcome) {
            (Operation::Submit { transfers }, Outcome::Ok { results, .. }) => (transfers, results),
            _ => (&[], &[]),
        };
        calls.iter().zip(results)
    }
}

/// Writes one JSON object per line.
pub fn export_history_jsonl(history: &[HistoryEntry], out: &mut impl std::io::Write) -> std::io::Result<()> {
    for entry in history {
        serde_json::to_writer(&mut *out, entry)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
