//! `GET /v1/internal/snapshot/chunk`: a run of this member's blocks with the
//! slot that made each, for a peer installing a snapshot (docs/PROTOCOL.md
//! §7.6; the receiver is `cluster/install.rs`). Internal: not in the OpenAPI
//! document, but it exposes nothing `/v1/blocks` does not.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use synod_storage::snapshot::{ChunkReadError, CHUNK_BYTES_MAX};

use super::error::ApiError;
use crate::shared::Shared;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkParams {
    pub from_height: u64,
    pub to_height: u64,
    /// Encoded size budget, 1..=4 MiB (one block always fits).
    pub max_bytes: usize,
}

pub async fn chunk(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<ChunkParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let Some(cluster) = &shared.cluster else {
        return Err(ApiError::not_found("only cluster members serve snapshot chunks"));
    };
    // A halted member's ledger may be the wrong one (divergence) or not what
    // its disk holds: it serves nothing.
    if shared.is_halted() {
        return Err(ApiError::halted());
    }
    if params.max_bytes == 0 || params.max_bytes > CHUNK_BYTES_MAX {
        return Err(ApiError::invalid_field(format!("max_bytes must be 1..={CHUNK_BYTES_MAX}")));
    }
    let reader = shared.clone();
    let read = tokio::task::spawn_blocking(move || {
        reader.store.read_chunk(params.from_height, params.to_height, params.max_bytes)
    })
    .await
    .map_err(ApiError::storage)?;
    let chunk = match read {
        Ok(chunk) => chunk,
        Err(e @ ChunkReadError::NotStored { .. }) => return Err(ApiError::not_found(e.to_string())),
        Err(e @ ChunkReadError::NoSlot { .. }) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "no_slot", e.to_string()))
        }
        Err(ChunkReadError::Store(e)) => return Err(ApiError::storage(e)),
    };
    let mut bytes = chunk.encode();
    let corrupt = &cluster.snapshot.faults.corrupt_served_chunks;
    if corrupt.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        // Test fault: a chunk damaged on its way (after the checked read).
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x20;
    }
    shared.metrics.snapshot_chunks_served.inc();
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}
