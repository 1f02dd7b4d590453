//! Read endpoints. Everything is read from durable storage (or, for proofs,
//! from the in-memory tree at a durable size), so a reader never observes a
//! transfer that a crash could take back.
//!
//! In a cluster the ledger reads (transfers, accounts, blocks, head,
//! consistency proofs) are linearizable unless `?consistency=stale`: each goes
//! through `linearize` first, which obtains a read index (locally on the
//! leader, over `GET /v1/read_index` on a follower) and waits until this
//! node's ledger has applied it. The read itself is always served locally.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use synod_core::proof::{ConsistencyProof, InclusionProof};
use synod_core::{AccountId, Block, TransferId};

use super::error::ApiError;
use super::types::*;
use crate::shared::Shared;

fn head_block(shared: &Shared) -> Result<Block, ApiError> {
    let height = shared.store.head_height().map_err(ApiError::storage)?;
    shared.store.block(height).map_err(ApiError::storage)?.ok_or_else(|| ApiError::storage("head block missing"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransferParams {
    /// Include an RFC 9162 inclusion proof against the current head.
    pub proof: Option<bool>,
    /// `linearizable` (default) or `stale`; see `ReadParams`.
    #[param(pattern = "^(linearizable|stale)$")]
    pub consistency: Option<String>,
}

#[utoipa::path(get, path = "/v1/transfers/{id}",
    params(("id" = String, Path, description = "Transfer id, 64 hex", pattern = "^[0-9a-fA-F]{64}$"), TransferParams),
    responses((status = 200, body = TransferStatus), (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 500, body = super::error::ErrorBody),
        (status = 503, description = "No leader, or the read index timed out", body = super::error::ErrorBody)))]
pub async fn transfer(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<TransferParams>, QueryRejection>,
) -> Result<Json<TransferStatus>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let Query(params) = params.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let id: TransferId = id.parse().map_err(|e| ApiError::invalid_field(format!("transfer id: {e}")))?;
    linearize(&shared, params.consistency.as_deref()).await?;
    let position = shared
        .store
        .position(&id)
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::not_found(format!("no committed transfer {id}")))?;
    let block = shared
        .store
        .block(position.height)
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::storage("indexed block missing"))?;
    let tx = block
        .transfers
        .get(position.index_in_block as usize)
        .cloned()
        .ok_or_else(|| ApiError::storage("index points past the block"))?;
    let proof = if params.proof.unwrap_or(false) {
        let head = head_block(&shared)?.header;
        let ledger = shared.ledger.read().expect("ledger lock");
        let path = ledger
            .tree()
            .inclusion_proof(position.ledger_index, head.ledger_size)
            .map_err(|e| ApiError::storage(format!("proof: {e}")))?;
        Some(InclusionProof {
            leaf_index: position.ledger_index,
            tree_size: head.ledger_size,
            leaf_hash: tx.leaf_hash(),
            path,
            root: head.ledger_root,
            transfer: Some(tx.clone()),
            header: Some(head),
        })
    } else {
        None
    };
    Ok(Json(TransferStatus {
        id: id.to_string(),
        status: "committed".into(),
        height: position.height,
        index_in_block: position.index_in_block,
        ledger_index: position.ledger_index,
        block_hash: block.hash().to_string(),
        transfer: tx,
        proof,
    }))
}

/// The query of a route that takes no parameters: any parameter is refused
/// (`invalid_field`), as on every `/v1` route (PROTOCOL 6).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Refuses any query parameter on a route that takes none.
pub fn no_params(params: Result<Query<NoParams>, QueryRejection>) -> Result<(), ApiError> {
    params.map(|_| ()).map_err(|e| ApiError::invalid_field(e.body_text()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// `linearizable` (default): in a cluster, the leader confirms its
    /// leadership with a quorum (read index), and this node answers once its
    /// own ledger has applied everything committed before the read began (a
    /// follower asks the leader only for the index). `stale`: this node's
    /// local state at once, possibly behind.
    #[param(pattern = "^(linearizable|stale)$")]
    pub consistency: Option<String>,
}

#[utoipa::path(get, path = "/v1/accounts/{id}",
    params(("id" = String, Path, description = "Account id, 64 hex", pattern = "^[0-9a-fA-F]{64}$"), ReadParams),
    responses((status = 200, body = AccountInfo), (status = 400, body = super::error::ErrorBody),
        (status = 500, body = super::error::ErrorBody),
        (status = 503, description = "No leader, read index timed out, or overloaded", body = super::error::ErrorBody)))]
pub async fn account(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<AccountInfo>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let Query(params) = params.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let id: AccountId = id.parse().map_err(|e| ApiError::invalid_field(format!("account id: {e}")))?;
    linearize(&shared, params.consistency.as_deref()).await?;
    let account = shared.store.account(&id).map_err(ApiError::storage)?;
    Ok(Json(AccountInfo { id: id.to_string(), balance: account.balance, nonce: account.nonce }))
}

/// The one gate of every ledger read. `stale` (or a single node): nothing to
/// wait for. Otherwise read index (Raft thesis 6.4, as in etcd): the leader
/// learns the highest slot proposed at the time of the read and confirms with
/// a quorum that it still leads; this node (leader or follower) serves the
/// read once its own ledger applied that slot. No clocks are involved.
async fn linearize(shared: &Shared, consistency: Option<&str>) -> Result<(), ApiError> {
    match consistency {
        None | Some("linearizable") => {}
        Some("stale") => return Ok(()),
        Some(other) => {
            return Err(ApiError::invalid_field(format!("consistency {other:?}: expected linearizable or stale")))
        }
    }
    let Some(cluster) = &shared.cluster else { return Ok(()) };
    shared.metrics.linearizable_reads.inc();
    // A read refused for want of a leader says how many members this node lost.
    let note = |mut e: ApiError| {
        if e.body.code == "not_leader" {
            e.body.message = super::error::with_unreachable_note(&e.body.message, cluster);
        }
        e
    };
    let index = match super::forward::read_index(shared).await.map_err(note)? {
        Some(index) => index,
        None => local_read_index(shared).await.map_err(note)?,
    };
    let mut applied = cluster.applied.clone();
    tokio::time::timeout(super::forward::forward_timeout(), applied.wait_for(|a| *a >= index))
        .await
        .map_err(|_| read_unavailable(format!("ledger did not apply slot {index} in time")))?
        .map_err(|_| read_unavailable("node stopping".into()))?;
    Ok(())
}

/// This node's replica's read index; only a leader has one (`not_leader` otherwise).
async fn local_read_index(shared: &Shared) -> Result<synod_paxos::Slot, ApiError> {
    let Some(cluster) = &shared.cluster else { return Ok(0) };
    let (reply, answer) = tokio::sync::oneshot::channel();
    cluster
        .inputs
        .try_send(crate::cluster::Input::Read { reply })
        .map_err(|_| ApiError::overloaded("consensus is saturated; retry shortly"))?;
    tokio::time::timeout(super::forward::forward_timeout(), answer)
        .await
        .map_err(|_| read_unavailable("read index timed out".into()))?
        .map_err(|_| read_unavailable("node stopping".into()))?
        .map_err(read_unavailable)
}

fn read_unavailable(message: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_leader", message)
}

/// `GET /v1/read_index`: the leader's read index, for a follower that serves
/// a linearizable read itself. Only the leader answers; it never forwards.
#[utoipa::path(get, path = "/v1/read_index",
    responses((status = 200, body = super::forward::ReadIndexAnswer),
        (status = 404, description = "A single node (reads need no index)", body = super::error::ErrorBody),
        (status = 503, description = "Not the leader, or the quorum did not confirm in time", body = super::error::ErrorBody)))]
pub async fn read_index(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<NoParams>, QueryRejection>,
) -> Result<Json<super::forward::ReadIndexAnswer>, ApiError> {
    no_params(params)?;
    let Some(cluster) = &shared.cluster else {
        return Err(ApiError::not_found("a single node has no read index; its reads are always current"));
    };
    if !cluster.is_leader() {
        return Err(read_unavailable("this node is not the leader".into()));
    }
    let index = local_read_index(&shared).await?;
    Ok(Json(super::forward::ReadIndexAnswer { index }))
}

#[utoipa::path(get, path = "/v1/blocks/{height}",
    params(("height" = u64, Path, maximum = 18446744073709551615_u64), ReadParams),
    responses((status = 200, body = BlockInfo), (status = 400, body = super::error::ErrorBody),
        (status = 404, description = "Beyond the head", body = super::error::ErrorBody),
        (status = 500, body = super::error::ErrorBody),
        (status = 503, description = "No leader, or the read index timed out", body = super::error::ErrorBody)))]
pub async fn block(
    State(shared): State<Arc<Shared>>,
    height: Result<Path<String>, PathRejection>,
    params: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<BlockInfo>, ApiError> {
    let Path(height) = height.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let Query(params) = params.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    let height: u64 = height
        .parse()
        .map_err(|_| ApiError::invalid_field(format!("height {height:?} is not a non-negative integer")))?;
    linearize(&shared, params.consistency.as_deref()).await?;
    let block = shared
        .store
        .block(height)
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
    Ok(Json(block_info(block)))
}

pub fn block_info(block: Block) -> BlockInfo {
    BlockInfo {
        hash: block.hash(),
        transfers: block.transfers.into_iter().map(|t| BlockTransfer { id: t.id().to_string(), transfer: t }).collect(),
        header: block.header,
    }
}

#[utoipa::path(get, path = "/v1/head", params(ReadParams),
    responses((status = 200, body = HeadInfo), (status = 400, body = super::error::ErrorBody),
        (status = 500, body = super::error::ErrorBody),
        (status = 503, description = "No leader, or the read index timed out", body = super::error::ErrorBody)))]
pub async fn head(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<HeadInfo>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    linearize(&shared, params.consistency.as_deref()).await?;
    let block = head_block(&shared)?;
    Ok(Json(HeadInfo { hash: block.hash(), header: block.header }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyParams {
    /// Older ledger size, >= 1.
    #[param(minimum = 1, maximum = 18446744073709551615_u64)]
    pub from: u64,
    /// Newer ledger size, from <= to <= current ledger size.
    #[param(minimum = 1, maximum = 18446744073709551615_u64)]
    pub to: u64,
    /// `linearizable` (default) or `stale`; see `ReadParams`.
    #[param(pattern = "^(linearizable|stale)$")]
    pub consistency: Option<String>,
}

#[utoipa::path(get, path = "/v1/proofs/consistency", params(ConsistencyParams),
    responses((status = 200, body = ConsistencyInfo),
        (status = 400, description = "Malformed, or not 1 <= from <= to <= ledger size (`out_of_range`)", body = super::error::ErrorBody),
        (status = 500, body = super::error::ErrorBody),
        (status = 503, description = "No leader, or the read index timed out", body = super::error::ErrorBody)))]
pub async fn consistency(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<ConsistencyParams>, QueryRejection>,
) -> Result<Json<ConsistencyInfo>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::invalid_field(e.body_text()))?;
    linearize(&shared, p.consistency.as_deref()).await?;
    let size = head_block(&shared)?.header.ledger_size;
    if p.from == 0 || p.from > p.to || p.to > size {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "out_of_range",
            format!("need 1 <= from <= to <= {size} (the ledger size); got from={} to={}", p.from, p.to),
        ));
    }
    let ledger = shared.ledger.read().expect("ledger lock");
    let tree = ledger.tree();
    let err = |e: synod_merkle::ProofRequestError| ApiError::storage(format!("proof: {e}"));
    let proof = ConsistencyProof {
        from_size: p.from,
        to_size: p.to,
        from_root: tree.root_at(p.from).map_err(err)?,
        to_root: tree.root_at(p.to).map_err(err)?,
        path: tree.consistency_proof(p.from, p.to).map_err(err)?,
    };
    Ok(Json(ConsistencyInfo { proof }))
}

#[utoipa::path(get, path = "/v1/genesis", responses((status = 200, body = GenesisInfo), (status = 500, body = super::error::ErrorBody)))]
pub async fn genesis(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<NoParams>, QueryRejection>,
) -> Result<Json<GenesisInfo>, ApiError> {
    no_params(params)?;
    let genesis = shared.store.genesis().map_err(ApiError::storage)?.ok_or_else(|| ApiError::storage("no genesis"))?;
    Ok(Json(GenesisInfo { hash: hex::encode(genesis.hash()), genesis }))
}

#[utoipa::path(get, path = "/v1/status", responses((status = 200, body = StatusInfo), (status = 500, body = super::error::ErrorBody)))]
pub async fn status(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<NoParams>, QueryRejection>,
) -> Result<Json<StatusInfo>, ApiError> {
    no_params(params)?;
    let head = head_block(&shared)?;
    let accounts = shared.ledger.read().expect("ledger lock").state().account_count() as u64;
    Ok(Json(StatusInfo {
        chain_id: shared.chain_id,
        auth: shared.auth,
        consensus: if shared.cluster.is_some() { "paxos".into() } else { "single".into() },
        height: head.header.height,
        ledger_size: head.header.ledger_size,
        head_hash: head.hash().to_string(),
        accounts,
        cluster: shared.cluster.as_ref().map(|c| {
            let status = c.status.read().expect("status lock");
            let mut v = serde_json::to_value(&*status).expect("status serialises");
            let peers = c.transport_stats.read().expect("stats lock");
            v["peers"] = serde_json::to_value(&*peers).unwrap_or_default();
            // On the leader, how far behind each peer's log is (PROTOCOL 6).
            for (peer, commit_index) in &status.peer_commit_index {
                let entry = &mut v["peers"][peer.to_string()];
                if !entry.is_object() {
                    *entry = serde_json::json!({});
                }
                entry["commit_index"] = serde_json::json!(commit_index);
                entry["lag"] = serde_json::json!(commit_index.map(|c| status.commit_index.saturating_sub(c)));
            }
            v
        }),
        blocks_committed_since_start: shared.metrics.blocks_committed.get(),
        transfers_committed_since_start: shared.metrics.transfers_committed.get(),
        uptime_ms: shared.started_at.elapsed().as_millis() as u64,
        halted: shared.is_halted(),
        failed: shared.health.failure(),
        threads: shared.health.threads(),
    }))
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Serving: not failed, not halted, every thread beat within 5 s"), (status = 503, description = "Failed, halted or a thread is stale; the body says which")))]
pub async fn healthz(State(shared): State<Arc<Shared>>) -> axum::response::Response {
    health_response(&shared.health, shared.is_halted())
}

/// The `/healthz` answer of any kind of node: 200 with `status: "ok"` only
/// when the node is neither failed nor halted and every thread beat within
/// `BEAT_STALE_MS`; else 503 with the status that says why. Both list the
/// threads.
pub fn health_response(health: &crate::health::Health, halted: bool) -> axum::response::Response {
    use axum::response::IntoResponse;
    let report = health.report(halted);
    let code = if report.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(report)).into_response()
}
