//! The block explorer every node serves at `/`: a static page embedded in the
//! binary (no download at run time, no build step: plain ES modules under
//! `crates/synod-node/explorer/`). The page reads the public JSON API and
//! verifies what it shows in the browser (SHA-256 through WebCrypto), so its
//! reader trusts neither the node's answers nor this server.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;

/// One embedded asset: its name under `/explorer/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    name: "index.html",
    content_type: "text/html; charset=utf-8",
    body: include_str!("../explorer/index.html"),
};

const ASSETS: [Asset; 3] = [
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", body: include_str!("../explorer/app.js") },
    Asset {
        name: "verify.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../explorer/verify.js"),
    },
    Asset { name: "style.css", content_type: "text/css; charset=utf-8", body: include_str!("../explorer/style.css") },
];

/// The page loads only its own scripts and styles and talks only to this
/// node: a node's data (memos, ids) can never run as script.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/`: the explorer page. Routed by `api::router` and `pow::api::router`
/// after their fail-stop layer, so a FAILED node still serves the page, which
/// then shows the failure from `/v1/status`.
pub async fn index() -> Response {
    serve(&INDEX)
}

/// `/explorer/{asset}`: the page's scripts and style.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => serve(asset),
        None => ApiError::not_found("no such explorer asset").into_response(),
    }
}

fn serve(asset: &Asset) -> Response {
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The assets change only with the binary; revalidating keeps an upgraded
    // node from serving a stale page out of a browser cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
