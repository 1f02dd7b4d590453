//! Followers forward requests that only the leader can serve (writes, and
//! linearizable reads) to the leader's HTTP API, and relay the answer: a
//! client may talk to any node.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::shared::Shared;

/// Marks a forwarded request, so it is never forwarded twice (no loops while
/// nodes disagree about who leads).
pub const FORWARDED_HEADER: &str = "x-synod-forwarded";

/// A forwarded request waits at most this long for the leader.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder().timeout(FORWARD_TIMEOUT).pool_max_idle_per_host(256).build().expect("http client")
    })
}

/// `None`: serve locally (single node, or this node leads). `Some(response)`:
/// the leader's answer, or an error if there is no leader to ask.
pub async fn to_leader(
    shared: &Shared,
    headers: &HeaderMap,
    method: reqwest::Method,
    path_and_query: &str,
    body: Option<Bytes>,
) -> Option<Response> {
    let cluster = shared.cluster.as_ref()?;
    if cluster.is_leader() {
        return None;
    }
    if headers.contains_key(FORWARDED_HEADER) {
        return Some(not_leader("this node is not the leader (request already forwarded once)"));
    }
    let Some((leader, url)) = cluster.leader_url() else {
        return Some(not_leader("no leader is known right now (election in progress?); retry shortly"));
    };
    if leader == cluster.node_id {
        return None;
    }
    let mut req = http().request(method, format!("{url}{path_and_query}")).header(FORWARDED_HEADER, "1");
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Some(not_leader(&format!("leader {leader} at {url} unreachable: {e}"))),
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    match resp.bytes().await {
        Ok(bytes) => Some((status, [(axum::http::header::CONTENT_TYPE, "application/json")], bytes).into_response()),
        Err(e) => Some(not_leader(&format!("leader {leader} answer lost: {e}"))),
    }
}

fn not_leader(message: &str) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_leader", message).into_response()
}
