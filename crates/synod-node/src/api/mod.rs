//! The HTTP/JSON API. `GET /openapi.json` serves the OpenAPI 3 description
//! generated from the handlers' annotations below.

pub mod error;
pub mod forward;
pub mod members;
pub mod reads;
pub mod transfers;
pub mod types;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::shared::Shared;

#[derive(OpenApi)]
#[openapi(
    info(title = "Synod", description = "A replicated, tamper-evident ledger. See docs/PROTOCOL.md."),
    paths(
        transfers::submit,
        reads::transfer,
        reads::account,
        reads::read_index,
        reads::block,
        reads::head,
        reads::consistency,
        reads::genesis,
        reads::status,
        reads::healthz
    ),
    components(schemas(
        error::ErrorBody,
        types::TransferJson,
        types::SubmitBody,
        types::SubmitAnswer,
        types::TransferReceipt,
        types::BatchReceipt
    ))
)]
pub struct ApiDoc;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/transfers", post(transfers::submit))
        .route("/v1/transfers/{id}", get(reads::transfer))
        .route("/v1/accounts/{id}", get(reads::account))
        .route("/v1/read_index", get(reads::read_index))
        .route("/v1/blocks/{height}", get(reads::block))
        .route("/v1/head", get(reads::head))
        .route("/v1/proofs/consistency", get(reads::consistency))
        .route("/v1/genesis", get(reads::genesis))
        .route("/v1/status", get(reads::status))
        .route("/v1/cluster/members", get(members::get).post(members::post))
        .route("/healthz", get(reads::healthz))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), refuse_when_failed))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), observe))
        .route("/", get(crate::explorer::index))
        .route("/explorer/{asset}", get(crate::explorer::asset))
        .fallback(|| async { error::ApiError::not_found("no such route; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(crate::limits::HTTP_BODY_BYTES_MAX))
        .with_state(shared)
}

/// OpenMetrics when the scraper asks for it, else Prometheus text 0.0.4.
async fn metrics(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    crate::metrics::exposition::respond(&headers, shared.metrics.encode())
}

/// Routes a FAILED node still answers: it reports itself there.
const ROUTES_WHILE_FAILED: [&str; 3] = ["/healthz", "/v1/status", "/metrics"];

/// Fail-stop: a FAILED node (`health.rs`) answers every other route 503
/// `halted`, reads included: its ledger no longer follows the cluster, so a
/// read would be stale without saying so.
async fn refuse_when_failed(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(reason) = shared.health.failure() {
        if !ROUTES_WHILE_FAILED.contains(&request.uri().path()) {
            let message = format!("the node failed ({reason}) and stopped serving; restart it");
            return error::ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "halted", message)
                .into_response();
        }
    }
    next.run(request).await
}

/// Records every request's latency by method, route template and status.
async fn observe(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let labels = crate::metrics::HttpLabels { method, route, status: response.status().as_u16() };
    shared.metrics.http_seconds.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}

/// The document generated from the annotations, with the one fact only the
/// running node knows: the chain id it accepts (any other is `wrong_chain`).
async fn openapi(axum::extract::State(shared): axum::extract::State<Arc<Shared>>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let json = serde_json::to_string_pretty(&document(shared.chain_id)).expect("the OpenAPI document serialises");
    ([(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// `ApiDoc` as served: u64 formats spelled `uint64`, and `TransferJson.chain_id`
/// narrowed to `chain_id`.
pub fn document(chain_id: u64) -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    spell_unsigned_formats(&mut doc);
    if let Some(field) = doc.pointer_mut("/components/schemas/TransferJson/properties/chain_id") {
        *field = serde_json::json!({
            "type": "integer",
            "format": "uint64",
            "description": "Chain id from the genesis: this node's",
            "enum": [chain_id],
        });
    }
    doc
}

/// utoipa 5 writes `KnownFormat::UInt64` as `u-int64` (its format enum is
/// renamed kebab-case); the conventional spelling, and the one PROTOCOL.md's
/// readers look for, is `uint64`.
fn spell_unsigned_formats(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(format)) = map.get_mut("format") {
                if let Some(bits) = format.strip_prefix("u-int") {
                    *format = format!("uint{bits}");
                }
            }
            map.values_mut().for_each(spell_unsigned_formats);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(spell_unsigned_formats),
        _ => {}
    }
}
