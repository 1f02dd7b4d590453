//! `POST /v1/transfers`: one transfer (a JSON object) or a batch (a JSON array).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use synod_core::{SignedTransfer, VerifiedTransfer};
use tokio::sync::oneshot;

use super::error::ApiError;
use super::types::{BatchReceipt, TransferReceipt};
use crate::committer::{EnqueueError, Submission, SubmitOutcome};
use crate::limits::REQUEST_TRANSFERS_MAX;
use crate::shared::Shared;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmitParams {
    /// Wait until the transfers are committed and durable (default true). With
    /// false the answer is 202 with `pending` receipts; poll `GET /v1/transfers/{id}`.
    pub wait: Option<bool>,
}

/// Verifying signatures costs ~0.1 ms each; above this many a request's
/// verification moves off the async workers.
const INLINE_VERIFY_MAX: usize = 16;

#[utoipa::path(
    post,
    path = "/v1/transfers",
    params(SubmitParams),
    request_body(
        content = super::types::SubmitBody,
        content_type = "application/json",
        description = "A transfer object, or an array of 1 to 8192 of them; Content-Type must be application/json"
    ),
    responses(
        (status = 200, description = "Committed (single) or per-transfer results (batch)", body = super::types::SubmitAnswer),
        (status = 202, description = "Queued (wait=false)", body = BatchReceipt),
        (status = 400, description = "Malformed request or transfer", body = super::error::ErrorBody),
        (status = 403, description = "Missing or bad signature", body = super::error::ErrorBody),
        (status = 409, description = "Wrong nonce", body = super::error::ErrorBody),
        (status = 413, description = "Body over 4 MiB", body = super::error::ErrorBody),
        (status = 415, description = "Content-Type missing or not application/json", body = super::error::ErrorBody),
        (status = 422, description = "Insufficient funds", body = super::error::ErrorBody),
        (status = 500, description = "Storage error", body = super::error::ErrorBody),
        (status = 503, description = "Overloaded, halted, no leader, or commit unknown", body = super::error::ErrorBody)
    )
)]
pub async fn submit(
    State(shared): State<Arc<Shared>>,
    headers: axum::http::HeaderMap,
    raw_query: axum::extract::RawQuery,
    params: Result<Query<SubmitParams>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let Query(params) = params.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("request body exceeds {} bytes", crate::limits::HTTP_BODY_BYTES_MAX),
            )
        } else {
            ApiError::invalid_json(e.body_text())
        }
    })?;
    if shared.is_halted() {
        return Err(ApiError::halted());
    }
    let path = match raw_query.0 {
        Some(q) => format!("/v1/transfers?{q}"),
        None => "/v1/transfers".to_string(),
    };
    if let Some(answer) =
        super::forward::to_leader(&shared, &headers, reqwest::Method::POST, &path, Some(body.clone())).await
    {
        return Ok(answer);
    }
    let (transfers, single) = parse_body(&body)?;
    let wait = params.wait.unwrap_or(true);

    // Stateless checks and signatures first: a bad transfer never reaches the committer.
    let auth = shared.auth;
    let chain_id = shared.chain_id;
    let check = move |tx: SignedTransfer| -> Result<VerifiedTransfer, (String, ApiError)> {
        // A transfer with an over-long memo has no valid encoding, hence no id.
        let id = if tx.transfer.memo.len() <= synod_core::limits::MEMO_BYTES_MAX {
            tx.id().to_string()
        } else {
            String::new()
        };
        let reject = |reason: &synod_core::RejectReason| {
            let e = ApiError::rejected(reason);
            (id.clone(), if id.is_empty() { e } else { e.with_id(&id) })
        };
        // The order of docs/PROTOCOL.md 2.5: chain, then shape, then signature.
        if tx.transfer.chain_id != chain_id {
            return Err(reject(&synod_core::RejectReason::WrongChain {
                expected: chain_id,
                got: tx.transfer.chain_id,
            }));
        }
        tx.verify(auth).map_err(|reason| reject(&reason))
    };
    let checked: Vec<Result<VerifiedTransfer, (String, ApiError)>> = if transfers.len() <= INLINE_VERIFY_MAX {
        transfers.into_iter().map(check).collect()
    } else {
        tokio::task::spawn_blocking(move || transfers.into_iter().map(check).collect())
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
    };
    if single && wait {
        if let Err((_, e)) = &checked[0] {
            return Err(ApiError { status: e.status, body: e.body.clone() });
        }
    }

    let mut results: Vec<Option<TransferReceipt>> = Vec::with_capacity(checked.len());
    let mut valid = Vec::new();
    for c in checked {
        match c {
            Ok(v) => {
                results.push(None);
                valid.push(v);
            }
            Err((id, e)) => results.push(Some(rejected_receipt(id, e))),
        }
    }

    let outcomes = if valid.is_empty() {
        if !wait {
            let receipts = fill(results, Vec::new());
            return Ok((StatusCode::ACCEPTED, Json(BatchReceipt { results: receipts })).into_response());
        }
        Vec::new()
    } else {
        let count = valid.len();
        let ids: Vec<String> = valid.iter().map(|v| v.get().id().to_string()).collect();
        let permit = shared
            .queued_transfers
            .clone()
            .try_acquire_many_owned(count as u32)
            .map_err(|_| ApiError::overloaded("too many transfers are waiting to commit; retry shortly"))?;
        let (reply, answer) = oneshot::channel();
        shared.queue.try_submit(Submission { transfers: valid, reply, permit }).map_err(|e| match e {
            EnqueueError::Full => ApiError::overloaded("the commit queue is full; retry shortly"),
            EnqueueError::Stopped => ApiError::halted(),
        })?;
        if !wait {
            let receipts = fill(results, ids.into_iter().map(pending_receipt).collect());
            return Ok((StatusCode::ACCEPTED, Json(BatchReceipt { results: receipts })).into_response());
        }
        let outcomes = answer.await.map_err(|_| ApiError::halted())?;
        assert_eq!(outcomes.len(), count, "one outcome per transfer");
        outcomes
    };

    if single {
        return match outcomes.into_iter().next().expect("single transfer has one outcome") {
            SubmitOutcome::Committed { id, position, duplicate } => {
                Ok(Json(committed_receipt(id.to_string(), position, duplicate)).into_response())
            }
            SubmitOutcome::Rejected { id, reason } => Err(ApiError::rejected(&reason).with_id(id)),
            SubmitOutcome::Failed { id } => Err(ApiError::halted().with_id(id)),
            SubmitOutcome::Unavailable { id, code, message } => {
                Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message).with_id(id))
            }
        };
    }
    let receipts = outcomes
        .into_iter()
        .map(|o| match o {
            SubmitOutcome::Committed { id, position, duplicate } => {
                committed_receipt(id.to_string(), position, duplicate)
            }
            SubmitOutcome::Rejected { id, reason } => rejected_receipt(id.to_string(), ApiError::rejected(&reason)),
            SubmitOutcome::Failed { id } => rejected_receipt(id.to_string(), ApiError::halted()),
            SubmitOutcome::Unavailable { id, code, message } => {
                rejected_receipt(id.to_string(), ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message))
            }
        })
        .collect();
    Ok(Json(BatchReceipt { results: fill(results, receipts) }).into_response())
}

/// A submission must declare `Content-Type: application/json` (parameters such
/// as `charset=utf-8` allowed, any case); any other type, or none, is 415
/// before the body is read, as axum's `Json` and etcd's gateway refuse it.
pub(crate) fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(axum::http::header::CONTENT_TYPE) else {
        return Err(ApiError::unsupported_media_type("missing Content-Type; send application/json"));
    };
    let media = value.to_str().ok().and_then(|v| v.split(';').next()).map(str::trim);
    match media {
        Some(m) if m.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(ApiError::unsupported_media_type(format!(
            "Content-Type {:?} is not accepted; send application/json",
            String::from_utf8_lossy(value.as_bytes())
        ))),
    }
}

/// Parses a single transfer or a batch; returns the transfers and whether it was single.
/// Public only for the fuzz targets (fuzz/).
#[doc(hidden)]
pub fn parse_body(body: &[u8]) -> Result<(Vec<SignedTransfer>, bool), ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let classify = |e: serde_json::Error| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid_field(e.to_string()),
        _ => ApiError::invalid_json(e.to_string()),
    };
    match first {
        Some(b'[') => {
            let batch: Vec<SignedTransfer> = serde_json::from_slice(body).map_err(classify)?;
            if batch.is_empty() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "empty_batch",
                    "a batch needs at least one transfer",
                ));
            }
            if batch.len() > REQUEST_TRANSFERS_MAX {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "batch_too_large",
                    format!("{} transfers in one request; the limit is {REQUEST_TRANSFERS_MAX}", batch.len()),
                ));
            }
            // Implied by the body limit (JSON spells each record byte as two
            // hex digits), checked so the batcher's byte bound never rests on it.
            let record_bytes: usize = batch.iter().map(SignedTransfer::record_len).sum();
            if record_bytes > crate::committer::BATCH_RECORD_BYTES_MAX {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "batch_too_large",
                    format!(
                        "{record_bytes} bytes of transfer records in one request; the limit is {}",
                        crate::committer::BATCH_RECORD_BYTES_MAX
                    ),
                ));
            }
            Ok((batch, false))
        }
        Some(b'{') => Ok((vec![serde_json::from_slice(body).map_err(classify)?], true)),
        // JSON of another type ("hello", 5, null) is a wrong type, not bad JSON.
        _ => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(ApiError::invalid_field("expected a JSON object (one transfer) or array (a batch)")),
            Err(e) => Err(ApiError::invalid_json(e.to_string())),
        },
    }
}

/// Puts the committer's receipts into the slots of transfers that were not rejected up front.
fn fill(slots: Vec<Option<TransferReceipt>>, receipts: Vec<TransferReceipt>) -> Vec<TransferReceipt> {
    let mut receipts = receipts.into_iter();
    let out: Vec<TransferReceipt> =
        slots.into_iter().map(|s| s.unwrap_or_else(|| receipts.next().expect("a receipt per slot"))).collect();
    assert!(receipts.next().is_none(), "every receipt has a slot");
    out
}

fn committed_receipt(id: String, p: synod_core::TransferPosition, duplicate: bool) -> TransferReceipt {
    TransferReceipt {
        id,
        status: "committed".into(),
        height: Some(p.height),
        index_in_block: Some(p.index_in_block),
        ledger_index: Some(p.ledger_index),
        duplicate,
        code: None,
        message: None,
    }
}

pub(crate) fn rejected_receipt(id: String, e: ApiError) -> TransferReceipt {
    TransferReceipt {
        id,
        status: "rejected".into(),
        height: None,
        index_in_block: None,
        ledger_index: None,
        duplicate: false,
        code: Some(e.body.code),
        message: Some(e.body.message),
    }
}

pub(crate) fn pending_receipt(id: String) -> TransferReceipt {
    TransferReceipt {
        id,
        status: "pending".into(),
        height: None,
        index_in_block: None,
        ledger_index: None,
        duplicate: false,
        code: None,
        message: None,
    }
}
