//! JSON bodies of the HTTP API, shared by the server and the client. Hex
//! strings are lowercase; amounts are JSON integers (u64).

use serde::{Deserialize, Serialize};
use synod_core::proof::{ConsistencyProof, InclusionProof};
use synod_core::{AuthMode, BlockHash, BlockHeader, SignedTransfer};
use utoipa::ToSchema;

/// Schema of a transfer as clients submit it (the server parses it into
/// `synod_core::SignedTransfer`; this type documents it for OpenAPI). Hex
/// input may be either case (PROTOCOL.md conventions); output is lowercase.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct TransferJson {
    /// Chain id from the genesis; `/openapi.json` states this node's.
    #[schema(maximum = 18446744073709551615_u64)]
    pub chain_id: u64,
    /// Sender's Ed25519 public key, 64 hex characters.
    #[schema(
        example = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
        pattern = "^[0-9a-fA-F]{64}$"
    )]
    pub from: String,
    /// Receiver's account id, 64 hex characters; not the sender's.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub to: String,
    /// Units to move, > 0.
    #[schema(minimum = 1, maximum = 18446744073709551615_u64)]
    pub amount: u64,
    /// Must be 0 on a Paxos node (the only kind that serves this document); may be omitted.
    #[serde(default)]
    #[schema(maximum = 0)]
    pub fee: u64,
    /// The sender's next nonce.
    #[schema(maximum = 18446744073709551615_u64)]
    pub nonce: u64,
    /// Up to 64 bytes as hex; may be omitted.
    #[serde(default)]
    #[schema(pattern = "^([0-9a-fA-F]{2}){0,64}$")]
    pub memo: String,
    /// 128 hex characters (Ed25519 signature over the signing bytes); null or
    /// omitted only in trusted-client mode.
    #[serde(default)]
    #[schema(pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: Option<String>,
}

/// The body of `POST /v1/transfers`: one transfer, or an array of 1 to
/// `REQUEST_TRANSFERS_MAX` (documentation only; `transfers::parse_body` parses).
#[allow(dead_code)]
pub struct SubmitBody;

impl utoipa::PartialSchema for SubmitBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};
        use utoipa::openapi::Ref;
        let batch = ArrayBuilder::new()
            .items(Ref::from_schema_name("TransferJson"))
            .min_items(Some(1))
            .max_items(Some(crate::limits::REQUEST_TRANSFERS_MAX));
        OneOfBuilder::new().item(Ref::from_schema_name("TransferJson")).item(batch).into()
    }
}

impl ToSchema for SubmitBody {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        schemas.push((TransferJson::name().into(), <TransferJson as utoipa::PartialSchema>::schema()));
    }
}

/// A `200` answer to `POST /v1/transfers`: a receipt for one transfer, or the
/// receipts of a batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum SubmitAnswer {
    One(TransferReceipt),
    Batch(BatchReceipt),
}

/// The outcome of one submitted transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransferReceipt {
    /// 64 hex characters; empty for a transfer rejected before it has an id.
    #[schema(pattern = "^([0-9a-f]{64})?$")]
    pub id: String,
    /// `committed`, `rejected` or `pending` (when submitted with `wait=false`).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_in_block: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_index: Option<u64>,
    /// True when this transfer had already been committed by an earlier submission.
    #[serde(default)]
    pub duplicate: bool,
    /// For `rejected`: the stable error code and message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Response to a batch submission: one receipt per transfer, in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchReceipt {
    pub results: Vec<TransferReceipt>,
}

/// `GET /v1/transfers/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransferStatus {
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub id: String,
    /// Always `committed` (unknown ids are 404).
    pub status: String,
    pub height: u64,
    pub index_in_block: u32,
    pub ledger_index: u64,
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub block_hash: String,
    #[schema(value_type = TransferJson)]
    pub transfer: SignedTransfer,
    /// With `?proof=true`: inclusion in the ledger at the current head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub proof: Option<InclusionProof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountInfo {
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub id: String,
    pub balance: u64,
    /// The nonce the account's next transfer must carry.
    pub nonce: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeadInfo {
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: BlockHash,
    #[schema(value_type = Object)]
    pub header: BlockHeader,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockInfo {
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: BlockHash,
    #[schema(value_type = Object)]
    pub header: BlockHeader,
    pub transfers: Vec<BlockTransfer>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockTransfer {
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub id: String,
    #[serde(flatten)]
    #[schema(value_type = TransferJson)]
    pub transfer: SignedTransfer,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyInfo {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub proof: ConsistencyProof,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusInfo {
    pub chain_id: u64,
    #[schema(value_type = String)]
    pub auth: AuthMode,
    /// `single` for a one-node ledger.
    pub consensus: String,
    pub height: u64,
    pub ledger_size: u64,
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub head_hash: String,
    pub accounts: u64,
    /// Replicated mode: node id, role, ballot, leader, commit and applied
    /// index, and each peer's connection and queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub cluster: Option<serde_json::Value>,
    pub blocks_committed_since_start: u64,
    pub transfers_committed_since_start: u64,
    pub uptime_ms: u64,
    pub halted: bool,
    /// Why the node FAILED (a thread panicked or exited, or storage failed);
    /// `null` while it runs.
    #[serde(default)]
    pub failed: Option<String>,
    /// Each node thread: name, kind, `alive` (beat within 5 s) and
    /// `last_beat_ms_ago` (as in `/healthz`).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub threads: Vec<crate::health::ThreadHealth>,
}

/// `GET /v1/genesis`: the genesis (JSON form) and its hash, which block 0's `prev_hash` must equal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GenesisInfo {
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    #[schema(value_type = Object)]
    pub genesis: synod_core::Genesis,
}
