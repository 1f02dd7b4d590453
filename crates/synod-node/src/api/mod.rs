//! The HTTP/JSON API. `GET /openapi.json` serves the OpenAPI 3 description
//! generated from the handlers' annotations below.

pub mod error;
pub mod forward;
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
        reads::block,
        reads::head,
        reads::consistency,
        reads::genesis,
        reads::status,
        reads::healthz
    ),
    components(schemas(error::ErrorBody, types::TransferJson, types::TransferReceipt, types::BatchReceipt))
)]
pub struct ApiDoc;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/transfers", post(transfers::submit))
        .route("/v1/transfers/{id}", get(reads::transfer))
        .route("/v1/accounts/{id}", get(reads::account))
        .route("/v1/blocks/{height}", get(reads::block))
        .route("/v1/head", get(reads::head))
        .route("/v1/proofs/consistency", get(reads::consistency))
        .route("/v1/genesis", get(reads::genesis))
        .route("/v1/status", get(reads::status))
        .route("/healthz", get(reads::healthz))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { error::ApiError::not_found("no such route; see /openapi.json") })
        .layer(DefaultBodyLimit::max(crate::limits::HTTP_BODY_BYTES_MAX))
        .with_state(shared)
}

async fn openapi() -> axum::response::Response {
    use axum::response::IntoResponse;
    let json = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises");
    ([(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response()
}
