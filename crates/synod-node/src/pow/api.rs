//! The HTTP/JSON API of a proof-of-work node. The routes are the Paxos
//! node's, with proof-of-work answers: a submitted transfer is `pending`
//! (in the mempool) until mined, and `GET /v1/transfers/{id}` reports its
//! confirmations. Every read runs as a query on the chain thread, so it sees
//! one consistent best chain.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use synod_core::{AccountId, SignedTransfer, TransferId};
use synod_pow::chain::{ChainState, PowBlock, SubmitError, TransferStatus};
use synod_pow::{Header, U256};
use tokio::sync::oneshot;

use super::driver::{peer_rows, ChainView, PowInput};
use super::PowShared;
use crate::api::error::ApiError;
use crate::api::transfers::{parse_body, pending_receipt, rejected_receipt, require_json};
use crate::api::types::BatchReceipt;

/// Longest a handler waits for the chain thread (which may be validating a
/// large block) before answering `overloaded`.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router(shared: Arc<PowShared>) -> Router {
    Router::new()
        .route("/v1/transfers", post(submit))
        .route("/v1/transfers/{id}", get(transfer))
        .route("/v1/accounts/{id}", get(account))
        .route("/v1/blocks/{height}", get(block))
        .route("/v1/head", get(head))
        .route("/v1/headers", get(headers))
        .route("/v1/genesis", get(genesis))
        .route("/v1/status", get(status))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), refuse_when_failed))
        .route("/", get(crate::explorer::index))
        .route("/explorer/{asset}", get(crate::explorer::asset))
        .fallback(|| async { ApiError::not_found("no such route on a proof-of-work node; see docs/PROTOCOL.md §8") })
        .layer(DefaultBodyLimit::max(crate::limits::HTTP_BODY_BYTES_MAX))
        .with_state(shared)
}

/// Fail-stop, as on a Paxos node: a FAILED node answers 503 `halted` on every
/// route but `/healthz`, `/v1/status` and `/metrics`.
async fn refuse_when_failed(
    State(shared): State<Arc<PowShared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(reason) = shared.health.failure() {
        if !["/healthz", "/v1/status", "/metrics"].contains(&request.uri().path()) {
            let message = format!("the node failed ({reason}) and stopped serving; restart it");
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "halted", message).into_response();
        }
    }
    next.run(request).await
}

/// `GET /healthz`: as on a Paxos node (PROTOCOL.md), 200 only when the node is
/// neither failed nor halted and every thread beats.
async fn healthz(State(shared): State<Arc<PowShared>>) -> Response {
    crate::api::reads::health_response(&shared.health, shared.is_halted())
}

/// Runs `f` on the chain thread and returns its result.
async fn query<T: Send + 'static>(
    shared: &PowShared,
    f: impl FnOnce(&ChainView<'_>) -> T + Send + 'static,
) -> Result<T, ApiError> {
    if shared.is_halted() {
        return Err(ApiError::halted());
    }
    let (tx, rx) = oneshot::channel();
    let q: super::driver::Query = Box::new(move |view| {
        let _ = tx.send(f(view));
    });
    shared.inputs.try_send(PowInput::Query(q)).map_err(|_| ApiError::overloaded("the chain thread is busy"))?;
    match tokio::time::timeout(QUERY_TIMEOUT, rx).await {
        Ok(Ok(v)) => Ok(v),
        _ => Err(ApiError::overloaded("the chain thread did not answer in time")),
    }
}

fn submit_error(e: &SubmitError) -> ApiError {
    match e {
        SubmitError::Rejected(r) => ApiError::rejected(r),
        SubmitError::Duplicate | SubmitError::AlreadyConfirmed { .. } => {
            ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string())
        }
        SubmitError::NonceGap { .. } | SubmitError::ReplacementFeeTooLow { .. } => {
            ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string())
        }
        SubmitError::FeeTooLow { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()),
        SubmitError::MempoolFull { .. } => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), e.to_string()),
    }
}

async fn submit_one(shared: &PowShared, tx: SignedTransfer) -> Result<TransferId, ApiError> {
    let (reply, rx) = oneshot::channel();
    shared
        .inputs
        .try_send(PowInput::Submit { tx: Box::new(tx), reply })
        .map_err(|_| ApiError::overloaded("the chain thread is busy"))?;
    shared.metrics.transfers_submitted.inc();
    match tokio::time::timeout(QUERY_TIMEOUT, rx).await {
        Ok(Ok(Ok(id))) => Ok(id),
        Ok(Ok(Err(e))) => Err(submit_error(&e)),
        _ => Err(ApiError::overloaded("the chain thread did not answer in time")),
    }
}

/// `POST /v1/transfers`: one transfer (202 with a `pending` receipt, or the
/// error) or a batch (200, one receipt each). Accepted means "in this node's
/// mempool and announced to its peers", not confirmed: watch
/// `GET /v1/transfers/{id}` for confirmations.
async fn submit(
    State(shared): State<Arc<PowShared>>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = require_json(&headers) {
        return e.into_response();
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", e.body_text()).into_response();
        }
    };
    let (txs, single) = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    if single {
        let tx = txs.into_iter().next().expect("one transfer");
        // The shape check comes before anything that encodes the transfer
        // (its id asserts the memo bound): an over-long memo has no id.
        if let Err(reason) = tx.transfer.check_shape() {
            return ApiError::rejected(&reason).into_response();
        }
        let id = tx.id();
        return match submit_one(&shared, tx).await {
            Ok(id) => (StatusCode::ACCEPTED, Json(pending_receipt(id.to_string()))).into_response(),
            Err(e) => e.with_id(id).into_response(),
        };
    }
    let mut results = Vec::with_capacity(txs.len());
    for tx in txs {
        if let Err(reason) = tx.transfer.check_shape() {
            results.push(rejected_receipt(String::new(), ApiError::rejected(&reason)));
            continue;
        }
        let id = tx.id().to_string();
        results.push(match submit_one(&shared, tx).await {
            Ok(_) => pending_receipt(id),
            Err(e) => rejected_receipt(id, e),
        });
    }
    Json(BatchReceipt { results }).into_response()
}

fn parse_id<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| ApiError::invalid_field(format!("{what}: {e}")))
}

/// Every `/v1` route refuses query parameters it does not take (PROTOCOL 6).
fn no_query(raw: Option<&str>) -> Result<(), ApiError> {
    match raw.unwrap_or("") {
        "" => Ok(()),
        other => Err(ApiError::invalid_field(format!("query `{other}`: this route takes no query parameters"))),
    }
}

/// `?proof=true|false` (default false); anything else is refused.
fn wants_proof(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw.unwrap_or("") {
        "" | "proof=false" => Ok(false),
        "proof=true" => Ok(true),
        other => Err(ApiError::invalid_field(format!("query `{other}`: only proof=true|false is accepted"))),
    }
}

/// The RFC 9162 inclusion proof of a block's record `leaf_index` (0 is the
/// coinbase) under the block header's `merkle_root`.
fn block_inclusion_proof(block: &PowBlock, leaf_index: u64) -> Value {
    let leaves = block.leaf_hashes();
    let size = leaves.len() as u64;
    let leaf = leaves[leaf_index as usize];
    let tree = synod_merkle::MerkleTree::from_leaf_hashes(leaves);
    let path = tree.inclusion_proof(leaf_index, size).expect("the index is within the block");
    assert_eq!(tree.root(), block.header.merkle_root, "a stored block's header carries its Merkle root");
    json!({
        "leaf_index": leaf_index,
        "tree_size": size,
        "leaf_hash": hex::encode(leaf),
        "path": path.iter().map(hex::encode).collect::<Vec<_>>(),
        "root": hex::encode(block.header.merkle_root),
    })
}

/// `GET /v1/transfers/{id}[?proof=true]`: `confirmed` (with height, block
/// hash and confirmations, and with `proof` its inclusion in the block's
/// Merkle root), `pending` (in the mempool) or 404.
async fn transfer(
    State(shared): State<Arc<PowShared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id: TransferId = parse_id(&id, "transfer id")?;
    let proof = wants_proof(raw.as_deref())?;
    let found = query(&shared, move |v| match v.chain.transfer_status(&id) {
        TransferStatus::Confirmed { height, index, confirmations } => {
            let block = v.chain.block_at(height).expect("confirmed transfers are in the best chain");
            let tx = &block.transfers[index as usize];
            let mut out = json!({
                "id": id.to_string(),
                "status": "confirmed",
                "confirmations": confirmations,
                "height": height,
                "index_in_block": index,
                "block_hash": block.hash().to_string(),
                "transfer": tx,
            });
            if proof {
                out["proof"] = block_inclusion_proof(block, u64::from(index) + 1);
            }
            Some(out)
        }
        TransferStatus::Pending => {
            let entry = v.chain.mempool().get(&id).expect("pending transfers are in the mempool");
            Some(json!({ "id": id.to_string(), "status": "pending", "confirmations": 0, "transfer": entry.tx }))
        }
        TransferStatus::Unknown => None,
    })
    .await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("transfer {id} is neither confirmed nor pending here")))
}

/// `GET /v1/accounts/{id}`: the balance on the best chain; `nonce` is the
/// nonce the account's next transfer should carry (confirmed transfers plus
/// those waiting in this node's mempool).
async fn account(
    State(shared): State<Arc<PowShared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    no_query(raw.as_deref())?;
    let id: AccountId = parse_id(&id, "account id")?;
    let v = query(&shared, move |v| {
        let a = v.chain.account(&id);
        json!({
            "id": id.to_string(),
            "balance": a.balance,
            "nonce": v.chain.next_nonce(&id),
            "confirmed_nonce": a.nonce,
            "height": v.chain.best_tip().height,
        })
    })
    .await?;
    Ok(Json(v))
}

fn header_json(h: &Header) -> Value {
    json!({
        "version": h.version,
        "prev_hash": h.prev_hash.to_string(),
        "merkle_root": hex::encode(h.merkle_root),
        "time": h.time,
        "bits": format!("{:08x}", h.bits),
        "nonce": h.nonce,
    })
}

fn block_json(chain: &ChainState, block: &PowBlock) -> Value {
    let height = block.height();
    let transfers: Vec<Value> = block
        .transfers
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t).expect("transfers serialise");
            v["id"] = t.id().to_string().into();
            v
        })
        .collect();
    json!({
        "hash": block.hash().to_string(),
        "height": height,
        "confirmations": chain.best_tip().height - height + 1,
        "header": header_json(&block.header),
        "coinbase": {
            "miner": block.coinbase.miner.to_string(),
            "amount": block.coinbase.amount,
            "extra_nonce": block.coinbase.extra_nonce,
        },
        "transfers": transfers,
    })
}

/// `GET /v1/blocks/{height}`: the best chain's block at `height` (404 above the tip).
async fn block(
    State(shared): State<Arc<PowShared>>,
    Path(height): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    no_query(raw.as_deref())?;
    let height: u64 = parse_id(&height, "height")?;
    let found = query(&shared, move |v| {
        if height == 0 {
            let tree = v.chain.tree();
            let e = tree.entry(&tree.genesis());
            return Some(json!({ "hash": tree.genesis().to_string(), "height": 0, "header": header_json(&e.header) }));
        }
        v.chain.block_at(height).map(|b| block_json(v.chain, b))
    })
    .await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("no block at height {height} on the best chain")))
}

/// Most headers one `GET /v1/headers` returns (PROTOCOL 6.1): 2,000
/// headers are 160,000 bytes, 320,000 hex digits.
pub const HEADERS_PER_REQUEST_MAX: u64 = 2_000;

/// `from=H` (required) and `count=N` (1..=[`HEADERS_PER_REQUEST_MAX`],
/// default the maximum), each at most once; anything else is refused.
fn headers_query(raw: Option<&str>) -> Result<(u64, u64), ApiError> {
    let (mut from, mut count) = (None, None);
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match key {
            "from" => &mut from,
            "count" => &mut count,
            other => return Err(ApiError::invalid_field(format!("query `{other}`: only from and count are accepted"))),
        };
        if slot.is_some() {
            return Err(ApiError::invalid_field(format!("query `{key}` given twice")));
        }
        *slot = Some(parse_id::<u64>(value, key)?);
    }
    let from = from.ok_or_else(|| ApiError::invalid_field("query `from` is required"))?;
    let count = count.unwrap_or(HEADERS_PER_REQUEST_MAX);
    if count == 0 || count > HEADERS_PER_REQUEST_MAX {
        return Err(ApiError::invalid_field(format!("count {count}: must be 1 to {HEADERS_PER_REQUEST_MAX}")));
    }
    Ok((from, count))
}

/// `GET /v1/headers?from=H&count=N`: the best chain's 80-byte headers at
/// heights `H ..` (at most `N`, fewer at the tip, none above it) as hex, with
/// the tip they were read from, so that a light client can validate them
/// itself.
async fn headers(State(shared): State<Arc<PowShared>>, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    let (from, count) = headers_query(raw.as_deref())?;
    let v = query(&shared, move |v| {
        let tip = v.chain.best_tip();
        let tree = v.chain.tree();
        let active = v.chain.active_chain();
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(active.len());
        let end = start.saturating_add(usize::try_from(count).unwrap_or(usize::MAX)).min(active.len());
        let headers: Vec<String> =
            active[start..end].iter().map(|h| hex::encode(tree.entry(h).header.to_bytes())).collect();
        json!({
            "from": from,
            "headers": headers,
            "tip_height": tip.height,
            "tip_hash": tip.hash.to_string(),
            "chain_work": tip.chain_work.to_string(),
        })
    })
    .await?;
    Ok(Json(v))
}

/// Difficulty relative to the network's minimum (1.0 at the pow limit):
/// how many times more hashes a block needs than the easiest block.
fn difficulty(chain: &ChainState) -> f64 {
    let target = chain.next_target();
    let limit = chain.config().params.pow_limit();
    to_f64(limit) / to_f64(&target).max(1.0)
}

fn to_f64(v: &U256) -> f64 {
    v.limbs().iter().rev().fold(0.0, |acc, &limb| acc * 18_446_744_073_709_551_616.0 + limb as f64)
}

/// `GET /v1/head`: the best tip.
async fn head(State(shared): State<Arc<PowShared>>, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    no_query(raw.as_deref())?;
    let v = query(&shared, |v| {
        let tip = v.chain.best_tip();
        let header = v.chain.tree().entry(&tip.hash).header;
        json!({
            "hash": tip.hash.to_string(),
            "height": tip.height,
            "chain_work": tip.chain_work.to_string(),
            "header": header_json(&header),
        })
    })
    .await?;
    Ok(Json(v))
}

async fn genesis(State(shared): State<Arc<PowShared>>, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    no_query(raw.as_deref())?;
    Ok(Json(json!({ "hash": hex::encode(shared.genesis.hash()), "genesis": shared.genesis })))
}

/// `GET /v1/status`: the common status fields (`consensus: "pow"`) plus a
/// `pow` object: tip, chain work, difficulty, hash rate, mempool, peers.
async fn status(State(shared): State<Arc<PowShared>>, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    no_query(raw.as_deref())?;
    let (chain_id, auth, mining, threads) = (shared.chain_id, shared.auth, shared.mining, shared.miner_threads);
    let uptime_ms = shared.started_at.elapsed().as_millis() as u64;
    let identity = hex::encode(shared.identity);
    let node_id = shared.node_id;
    let blocks_mined = shared.metrics.blocks_mined.get();
    let blocks_stored = shared.metrics.blocks_stored.get();
    let transfers_stored = shared.metrics.transfers_stored.get();
    if shared.is_halted() {
        // The chain thread may be gone: report what the node knows without it.
        return Ok(Json(json!({
            "chain_id": chain_id,
            "auth": auth,
            "consensus": "pow",
            "uptime_ms": uptime_ms,
            "halted": true,
            "failed": shared.health.failure(),
            "threads": shared.health.threads(),
        })));
    }
    let threads_health = shared.health.threads();
    let v = query(&shared, move |v| {
        let tip = v.chain.best_tip();
        let stats = v.chain.stats();
        json!({
            "chain_id": chain_id,
            "auth": auth,
            "consensus": "pow",
            "height": tip.height,
            "ledger_size": v.chain.confirmed_transfers().len(),
            "head_hash": tip.hash.to_string(),
            "accounts": v.chain.state().accounts().len(),
            // Blocks (and their transfers) made durable since start, side
            // branches included: a PoW node commits blocks, not finality.
            "blocks_committed_since_start": blocks_stored,
            "transfers_committed_since_start": transfers_stored,
            "uptime_ms": uptime_ms,
            // A halted node answers 503 `halted` before reaching here.
            "halted": false,
            "failed": null,
            "threads": threads_health,
            "pow": {
                "node_id": node_id,
                "chain_identity": identity,
                "tip": tip.hash.to_string(),
                "height": tip.height,
                "tip_time": tip.time,
                "chain_work": tip.chain_work.to_string(),
                "difficulty": difficulty(v.chain),
                "next_bits": format!("{:08x}", v.chain.tree().next_bits(&tip.hash, &v.chain.config().params)),
                "target_spacing_secs": v.chain.config().params.target_spacing(),
                "mining": mining,
                "miner_threads": threads,
                "hashrate_hashes_per_second": v.hash_rate,
                "blocks_mined_since_start": blocks_mined,
                "mempool_transfers": v.chain.mempool().len(),
                "mempool_bytes": v.chain.mempool().bytes(),
                "orphan_blocks": v.chain.orphans().len(),
                "blocks_known": v.chain.tree().len(),
                "reorgs": stats.reorgs,
                "max_reorg_depth": stats.max_reorg_depth,
                "invalid_blocks": stats.invalid_blocks,
                "supply": v.chain.state().supply(),
                "peers": peer_rows(v),
            }
        })
    })
    .await?;
    Ok(Json(v))
}

async fn metrics(State(shared): State<Arc<PowShared>>, headers: axum::http::HeaderMap) -> Response {
    crate::metrics::exposition::respond(&headers, shared.metrics.encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn shared(inputs: std::sync::mpsc::SyncSender<PowInput>) -> PowShared {
        let genesis = synod_core::Genesis {
            chain_id: 1,
            auth: synod_core::AuthMode::Ed25519,
            timestamp_ms: 0,
            allocations: Vec::new(),
        };
        PowShared {
            chain_id: 1,
            auth: genesis.auth,
            genesis,
            node_id: 1,
            identity: [0; 32],
            inputs,
            mining: false,
            miner_threads: 1,
            halted: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            health: Default::default(),
            started_at: std::time::Instant::now(),
            metrics: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_full_chain_queue_answers_overloaded_and_a_halted_node_halted() {
        let (tx, _rx) = std::sync::mpsc::sync_channel(1);
        let s = shared(tx);
        s.inputs.try_send(PowInput::Stop).unwrap();
        let err = query(&s, |_| ()).await.expect_err("the queue is full");
        assert_eq!((err.status, err.body.code.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "overloaded"));
        let tx = synod_core::Transfer {
            chain_id: 1,
            from: synod_core::AccountId([1; 32]),
            to: synod_core::AccountId([2; 32]),
            amount: 1,
            fee: 0,
            nonce: 0,
            memo: Vec::new(),
        };
        let err = submit_one(&s, SignedTransfer::unsigned(tx)).await.expect_err("the queue is full");
        assert_eq!(err.body.code, "overloaded");
        s.halted.store(true, std::sync::atomic::Ordering::SeqCst);
        let err = query(&s, |_| ()).await.expect_err("halted");
        assert_eq!(err.body.code, "halted");
    }

    #[test]
    fn only_proof_true_or_false_is_accepted() {
        assert!(!wants_proof(None).unwrap());
        assert!(!wants_proof(Some("proof=false")).unwrap());
        assert!(wants_proof(Some("proof=true")).unwrap());
        assert_eq!(wants_proof(Some("proof=yes")).unwrap_err().body.code, "invalid_field");
    }

    #[test]
    fn headers_query_takes_from_and_a_bounded_count_only() {
        assert_eq!(headers_query(Some("from=5&count=10")).unwrap(), (5, 10));
        assert_eq!(headers_query(Some("count=1&from=0")).unwrap(), (0, 1));
        assert_eq!(headers_query(Some("from=7")).unwrap(), (7, HEADERS_PER_REQUEST_MAX));
        for bad in [
            None,
            Some("count=3"),
            Some("from=1&count=0"),
            Some("from=1&count=2001"),
            Some("from=1&from=2"),
            Some("from=1&x=2"),
            Some("from=-1"),
            Some("from"),
        ] {
            assert_eq!(headers_query(bad).unwrap_err().body.code, "invalid_field", "{bad:?}");
        }
    }

    /// The same rule as on members: a `/v1` route refuses a parameter it does not take.
    #[tokio::test]
    async fn routes_without_parameters_refuse_any() {
        let (tx, _rx) = std::sync::mpsc::sync_channel(1);
        let s = Arc::new(shared(tx));
        assert!(no_query(None).is_ok());
        assert_eq!(no_query(Some("x=1")).unwrap_err().body.code, "invalid_field");
        let err = genesis(State(s.clone()), RawQuery(Some("x=1".into()))).await.unwrap_err();
        assert_eq!(err.body.code, "invalid_field");
        assert!(genesis(State(s), RawQuery(None)).await.is_ok());
    }
}
