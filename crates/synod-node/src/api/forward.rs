//! Followers forward writes to the leader's HTTP API and relay the answer, so
//! a client may talk to any node; for linearizable reads they ask the leader
//! only for a read index (`GET /v1/read_index`) and serve the read themselves
//! (api/reads.rs).
//!
//! Forwarding tells the truth about what it knows (docs/PROTOCOL.md 7.4):
//! `not_leader` only while no byte of the request can have reached a leader
//! (no leader known, connection refused); once a request may have reached
//! one, any failure is `commit_unknown`. It follows leadership: a forward
//! outstanding when this node's replica sees another leader (or none) is
//! abandoned and sent again to the new leader (at most `REROUTES_MAX` times;
//! transfers are idempotent by id, so a copy that also commits through the
//! old leader is answered as a duplicate), and it never waits longer than a
//! small multiple of the election timeout.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use synod_paxos::{NodeId, Slot};
use tokio::time::Instant;

use super::error::{ApiError, ErrorBody};
use crate::cluster::ClusterHandle;
use crate::shared::Shared;

/// Marks a forwarded request, so it is never forwarded twice (no loops while
/// nodes disagree about who leads).
pub const FORWARDED_HEADER: &str = "x-synod-forwarded";

/// Times one forwarded request may be sent again after leadership moved.
pub const REROUTES_MAX: u32 = 3;

/// A forward waits at most this many election timeouts in all. A leader that
/// is alive and reachable answers long before; one that is paused or cut off
/// is replaced within one or two election timeouts, and the forward follows
/// the new leader. Past this, the follower answers `commit_unknown` (the leader
/// itself gives a batch `cluster::PROPOSAL_TIMEOUT_MS`).
const FORWARD_TIMEOUT_ELECTIONS: u64 = 10;

/// How often an outstanding forward looks for a leadership change: the
/// consensus thread's tick, which is as often as the status can change.
const LEADER_POLL: Duration = Duration::from_millis(crate::cluster::consensus::TICK_MS);

/// The largest leader answer relayed: a receipt for a full batch is about
/// 2 MiB; anything larger is not an answer this protocol produces.
const ANSWER_BYTES_MAX: usize = 16 << 20;

/// The whole budget of one forward. The node runs the replica on the
/// default timing (node.rs), so that is the election timeout used here.
pub fn forward_timeout() -> Duration {
    Duration::from_millis(FORWARD_TIMEOUT_ELECTIONS * synod_paxos::Timing::default().election_timeout_max_ms)
}

/// Why the forwarding client could not be built (a start error).
#[derive(Debug, thiserror::Error)]
pub enum ForwardClientError {
    #[error("reading {path}: {source}")]
    Read { path: std::path::PathBuf, source: std::io::Error },
    #[error("{path}: not a usable PEM certificate or key: {detail}")]
    Pem { path: std::path::PathBuf, detail: String },
    #[error("building the forwarding HTTP client: {0}")]
    Build(String),
}

/// The client a member forwards with. Without `[http_tls]`, plain HTTP.
/// With it the members' APIs speak only TLS, so the client speaks HTTPS and
/// trusts only the cluster CA (`[tls] ca_cert`, which issues the members'
/// HTTP certificates, `synod certs issue-http`); it presents the member's own
/// certificate (`[tls] cert`, issued for server and client use) so that a
/// leader whose `[http_tls] client_ca` is the cluster CA accepts it.
pub fn client(config: &crate::NodeConfig) -> Result<reqwest::Client, ForwardClientError> {
    // No overall timeout here: each forward has its own deadline.
    let mut builder = reqwest::Client::builder().connect_timeout(forward_timeout()).pool_max_idle_per_host(256);
    if let (Some(_), Some(tls)) = (&config.http_tls, &config.tls) {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|source| ForwardClientError::Read { path: path.into(), source })
        };
        let pem_err = |path: &std::path::Path, e: reqwest::Error| ForwardClientError::Pem {
            path: path.into(),
            detail: e.to_string(),
        };
        let ca = reqwest::Certificate::from_pem(&read(&tls.ca_cert)?).map_err(|e| pem_err(&tls.ca_cert, e))?;
        let mut identity = read(&tls.cert)?;
        identity.extend_from_slice(b"\n");
        identity.extend_from_slice(&read(&tls.key)?);
        let identity = reqwest::Identity::from_pem(&identity).map_err(|e| pem_err(&tls.cert, e))?;
        builder = builder
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .identity(identity)
            .https_only(true);
    }
    builder.build().map_err(|e| ForwardClientError::Build(e.to_string()))
}

/// `None`: serve locally (single node, or this node leads, also when it came
/// to lead while forwarding). `Some(response)`: the leader's answer, or a
/// `not_leader` / `commit_unknown` error.
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
    let deadline = Instant::now() + forward_timeout();
    // Whether some attempt may have delivered the request to a leader.
    let mut maybe_sent = false;
    let mut reroutes = 0u32;
    loop {
        let (leader, url) = match next_leader(cluster, maybe_sent, deadline).await {
            Next::Local => return None,
            Next::Remote(leader, url) => (leader, url),
            Next::NoLeader if maybe_sent => {
                return Some(commit_unknown("the leader was lost and no new one was elected in time"))
            }
            Next::NoLeader => {
                return Some(not_leader(&super::error::with_unreachable_note(
                    "no leader is known right now (election in progress?); retry shortly",
                    cluster,
                )))
            }
        };
        let mut req = cluster
            .forward_client
            .request(method.clone(), format!("{url}{path_and_query}"))
            .header(FORWARDED_HEADER, "1");
        if let Some(b) = &body {
            req = req.header("content-type", "application/json").body(b.clone());
        }
        let outcome = tokio::select! {
            o = exchange(req) => o,
            () = leader_moved(cluster, leader) => Exchange::LeaderMoved,
            () = tokio::time::sleep_until(deadline) => Exchange::TimedOut,
        };
        match outcome {
            Exchange::Answered { status, bytes } => {
                // The target refused before doing anything; if an earlier
                // attempt may have reached a leader, that is still unknown.
                if maybe_sent && status == StatusCode::SERVICE_UNAVAILABLE && is_not_leader(&bytes) {
                    return Some(commit_unknown(&format!(
                        "node {leader} no longer leads, and an earlier leader may have the request"
                    )));
                }
                return Some((status, [(axum::http::header::CONTENT_TYPE, "application/json")], bytes).into_response());
            }
            Exchange::NotSent(e) if !maybe_sent => {
                return Some(not_leader(&format!("leader {leader} at {url} unreachable, nothing sent: {e}")))
            }
            Exchange::NotSent(e) => {
                return Some(commit_unknown(&format!("leader {leader} unreachable after an earlier attempt: {e}")))
            }
            Exchange::MaybeSent(e) => {
                return Some(commit_unknown(&format!("leader {leader} at {url} failed mid-request: {e}")))
            }
            Exchange::TimedOut => {
                return Some(commit_unknown(&format!(
                    "leader {leader} did not answer within {} ms",
                    forward_timeout().as_millis()
                )))
            }
            Exchange::LeaderMoved => {
                maybe_sent = true;
                reroutes += 1;
                if reroutes > REROUTES_MAX {
                    return Some(commit_unknown(&format!("leadership moved {reroutes} times during the request")));
                }
                tracing::debug!(from = leader, reroutes, "leadership moved; re-routing a forwarded request");
            }
        }
    }
}

/// Asks the leader for a read index: the slot this node's ledger must apply
/// before a linearizable read. `Ok(None)`: this node leads (or is single),
/// take the read index locally. Errors are `not_leader` (a read changes
/// nothing, so a failure is never ambiguous).
pub async fn read_index(shared: &Shared) -> Result<Option<Slot>, ApiError> {
    let Some(cluster) = shared.cluster.as_ref() else { return Ok(None) };
    let deadline = Instant::now() + forward_timeout();
    let mut reroutes = 0u32;
    loop {
        let (leader, url) = match next_leader(cluster, reroutes > 0, deadline).await {
            Next::Local => return Ok(None),
            Next::Remote(leader, url) => (leader, url),
            Next::NoLeader => return Err(read_unavailable("no leader is known right now; retry shortly".into())),
        };
        let req = cluster.forward_client.get(format!("{url}/v1/read_index")).header(FORWARDED_HEADER, "1");
        let outcome = tokio::select! {
            o = exchange(req) => o,
            () = leader_moved(cluster, leader) => Exchange::LeaderMoved,
            () = tokio::time::sleep_until(deadline) => Exchange::TimedOut,
        };
        match outcome {
            Exchange::Answered { status, bytes } if status == StatusCode::OK => {
                let answer: ReadIndexAnswer = serde_json::from_slice(&bytes)
                    .map_err(|e| read_unavailable(format!("leader {leader} sent a bad read index: {e}")))?;
                return Ok(Some(answer.index));
            }
            Exchange::Answered { status, bytes } => {
                let why = serde_json::from_slice::<ErrorBody>(&bytes).map(|b| b.message).unwrap_or_default();
                return Err(read_unavailable(format!("leader {leader} refused a read index ({status}): {why}")));
            }
            Exchange::NotSent(e) | Exchange::MaybeSent(e) => {
                return Err(read_unavailable(format!("leader {leader} at {url}: {e}")))
            }
            Exchange::TimedOut => return Err(read_unavailable(format!("leader {leader}: read index timed out"))),
            Exchange::LeaderMoved => {
                reroutes += 1;
                if reroutes > REROUTES_MAX {
                    return Err(read_unavailable(format!("leadership moved {reroutes} times during the read")));
                }
            }
        }
    }
}

/// `GET /v1/read_index`'s answer.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ReadIndexAnswer {
    /// The log slot a node must have applied to serve a linearizable read.
    pub index: Slot,
}

enum Next {
    Local,
    Remote(NodeId, String),
    NoLeader,
}

/// The leader to send to now. With `wait` (a request may already be with a
/// lost leader, so giving up would be no clearer than waiting), waits for an
/// election until the deadline instead of answering `NoLeader` at once.
async fn next_leader(cluster: &ClusterHandle, wait: bool, deadline: Instant) -> Next {
    loop {
        if cluster.is_leader() {
            return Next::Local;
        }
        match cluster.leader_url() {
            Some((leader, _)) if leader == cluster.node_id => return Next::Local,
            Some((leader, url)) => return Next::Remote(leader, url),
            None if !wait || Instant::now() >= deadline => return Next::NoLeader,
            None => tokio::time::sleep(LEADER_POLL).await,
        }
    }
}

/// Resolves once this node's replica no longer names `leader` as the leader
/// (it saw a higher ballot, or its election timer fired). Polled, because the
/// consensus thread publishes the leader only through `ClusterHandle::status`.
async fn leader_moved(cluster: &ClusterHandle, leader: NodeId) {
    let mut poll = tokio::time::interval(LEADER_POLL);
    loop {
        poll.tick().await;
        if cluster.status.read().expect("status lock").leader != Some(leader) {
            return;
        }
    }
}

enum Exchange {
    Answered {
        status: StatusCode,
        bytes: Bytes,
    },
    /// The connection was never established: no byte of the request left.
    NotSent(String),
    /// Failed after the connection was made: the leader may have the request.
    MaybeSent(String),
    TimedOut,
    LeaderMoved,
}

async fn exchange(req: reqwest::RequestBuilder) -> Exchange {
    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Exchange::NotSent(e.to_string()),
        Err(e) => return Exchange::MaybeSent(e.to_string()),
    };
    let Some(status) = StatusCode::from_u16(resp.status().as_u16()).ok() else {
        return Exchange::MaybeSent(format!("status {} is not HTTP", resp.status()));
    };
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len().saturating_add(chunk.len()) > ANSWER_BYTES_MAX {
                    return Exchange::MaybeSent(format!("answer over {ANSWER_BYTES_MAX} bytes"));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Exchange::Answered { status, bytes: bytes.into() },
            Err(e) => return Exchange::MaybeSent(format!("answer lost: {e}")),
        }
    }
}

fn is_not_leader(bytes: &[u8]) -> bool {
    serde_json::from_slice::<ErrorBody>(bytes).is_ok_and(|b| b.code == "not_leader")
}

fn not_leader(message: &str) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_leader", message).into_response()
}

fn commit_unknown(message: &str) -> Response {
    let message = format!("{message}; the transfer may or may not commit: resubmitting it is safe (idempotent)");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "commit_unknown", message).into_response()
}

fn read_unavailable(message: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_leader", message)
}
