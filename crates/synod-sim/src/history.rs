//! The client-visible history: one entry per operation, with true-time
//! invoke and completion. An operation whose reply never came is `Unknown`:
//! it may or may not have taken effect, and no check assumes either.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operation {
    Append { batch_id: u64, bytes: usize },
    Read,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    /// Append: the effective slot. Read: the applied index it observed.
    Ok {
        index: u64,
    },
    Unknown,
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

/// Writes one JSON object per line.
pub fn export_history_jsonl(history: &[HistoryEntry], out: &mut impl std::io::Write) -> std::io::Result<()> {
    for entry in history {
        serde_json::to_writer(&mut *out, entry)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
