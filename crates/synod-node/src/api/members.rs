//! `GET` and `POST /v1/cluster/members`: online membership change
//! (docs/PROTOCOL.md, "Membership"). Both are forwarded to the leader, which
//! runs at most one change at a time as a background task
//! (`cluster::change`): the POST answers 202 once the change is accepted,
//! and the GET shows the configuration and the change's progress.
//!
//! Authentication: there is no other administrative action and no admin
//! credential; a POST is accepted from a connection that presented a client
//! certificate valid for a member name (`node-N.synod`, verified by the HTTP
//! server against `[http_tls] client_ca`, the cluster CA), or else only from
//! the loopback interface (an operator on the machine). Followers forward
//! with their member certificate under `[http_tls]`, so a forwarded POST is
//! authenticated again at the leader.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use synod_paxos::{MemberAddress, NodeId, MEMBERS_MAX};

use super::error::ApiError;
use crate::cluster::change::{self, ChangeRequest, ChangeStatus};
use crate::http_server::ConnectionInfo;
use crate::shared::Shared;

/// Fewest members a change may leave: a restarted member's replica needs
/// at least 3 (`ReplicaOptions`), and fewer tolerate no failure.
pub const MEMBERS_MIN: usize = 3;

/// The body of `POST /v1/cluster/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
pub enum MembersRequest {
    /// Add `node`, which runs with `join = true` at these addresses: it
    /// joins as a learner and is promoted once caught up.
    Add {
        node: NodeId,
        peer_addr: std::net::SocketAddr,
        http_addr: std::net::SocketAddr,
    },
    Remove {
        node: NodeId,
    },
    /// Add `node` as above, then remove `replaces`.
    Replace {
        node: NodeId,
        peer_addr: std::net::SocketAddr,
        http_addr: std::net::SocketAddr,
        replaces: NodeId,
    },
}

/// `GET /v1/cluster/members`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembersAnswer {
    /// The node that answered (the leader, unless none is known).
    pub node_id: NodeId,
    pub leader: Option<NodeId>,
    /// The configuration in effect and the log slot that chose it.
    pub members: Vec<NodeId>,
    pub slot: Option<u64>,
    /// Every known member's addresses (learners included).
    pub addresses: Vec<AddressJson>,
    /// The leader's current or last membership change.
    pub change: Option<ChangeStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddressJson {
    pub id: NodeId,
    pub peer_addr: String,
    pub http_addr: String,
}

pub async fn get(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let cluster = shared.cluster.as_ref().ok_or_else(not_a_cluster)?;
    if let Some(answer) =
        super::forward::to_leader(&shared, &headers, reqwest::Method::GET, "/v1/cluster/members", None).await
    {
        return Ok(answer);
    }
    let status = cluster.status.read().expect("status lock").clone();
    let addresses = cluster
        .addresses
        .read()
        .expect("addresses lock")
        .values()
        .map(|a| AddressJson { id: a.id, peer_addr: a.peer_addr.to_string(), http_addr: a.http_addr.to_string() })
        .collect();
    let answer = MembersAnswer {
        node_id: cluster.node_id,
        leader: status.leader,
        members: status.config.members.clone(),
        slot: status.config.slot,
        addresses,
        change: cluster.change.lock().expect("change lock").clone(),
    };
    Ok(Json(answer).into_response())
}

pub async fn post(
    State(shared): State<Arc<Shared>>,
    connection: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let cluster = shared.cluster.as_ref().ok_or_else(not_a_cluster)?;
    authorize(connection.as_ref().map(|Extension(c)| c))?;
    let request: MembersRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid_json(format!("membership request: {e}")))?;
    if shared.is_halted() {
        return Err(ApiError::halted());
    }
    if let Some(answer) =
        super::forward::to_leader(&shared, &headers, reqwest::Method::POST, "/v1/cluster/members", Some(body)).await
    {
        return Ok(answer);
    }
    let members = cluster.status.read().expect("status lock").config.members.clone();
    let change = plan(&members, request)?;
    let status = change::start(shared.clone(), change).map_err(|running| {
        ApiError::new(
            StatusCode::CONFLICT,
            "change_in_progress",
            format!("another membership change is running: {running:?}; one at a time"),
        )
    })?;
    Ok((StatusCode::ACCEPTED, Json(status)).into_response())
}

/// Checks a request against the current members; typed errors for what can
/// be known before proposing anything.
pub fn plan(members: &[NodeId], request: MembersRequest) -> Result<ChangeRequest, ApiError> {
    let is_member = |n: NodeId| members.contains(&n);
    let unknown = |n: NodeId| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_member", format!("node {n} is not a member of {members:?}"))
    };
    let already = |n: NodeId| {
        ApiError::new(StatusCode::CONFLICT, "already_member", format!("node {n} is already a member of {members:?}"))
    };
    let check_id = |n: NodeId| match n {
        0 => Err(ApiError::invalid_field("node ids are 1..=255")),
        _ => Ok(()),
    };
    match request {
        MembersRequest::Add { node, peer_addr, http_addr } => {
            check_id(node)?;
            if is_member(node) {
                return Err(already(node));
            }
            if members.len() >= MEMBERS_MAX {
                return Err(too_many(members.len() + 1));
            }
            Ok(ChangeRequest { add: Some(MemberAddress { id: node, peer_addr, http_addr }), remove: None })
        }
        MembersRequest::Remove { node } => {
            if !is_member(node) {
                return Err(unknown(node));
            }
            if members.len() <= MEMBERS_MIN {
                return Err(too_few(members.len() - 1));
            }
            Ok(ChangeRequest { add: None, remove: Some(node) })
        }
        MembersRequest::Replace { node, peer_addr, http_addr, replaces } => {
            check_id(node)?;
            if !is_member(replaces) {
                return Err(unknown(replaces));
            }
            if is_member(node) {
                return Err(already(node));
            }
            // The node is added first: the cluster grows by one meanwhile.
            if members.len() >= MEMBERS_MAX {
                return Err(too_many(members.len() + 1));
            }
            Ok(ChangeRequest { add: Some(MemberAddress { id: node, peer_addr, http_addr }), remove: Some(replaces) })
        }
    }
}

fn too_many(size: usize) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "too_many_members",
        format!("{size} members, at most {MEMBERS_MAX} (a replacement adds before it removes)"),
    )
}

fn too_few(size: usize) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "too_few_members", format!("{size} members, at least {MEMBERS_MIN}"))
}

fn not_a_cluster() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_a_cluster", "this node is not a Multi-Paxos cluster member")
}

/// A member certificate (verified by the TLS layer against the HTTP
/// client CA), or a loopback connection.
pub fn authorize(connection: Option<&ConnectionInfo>) -> Result<(), ApiError> {
    let Some(connection) = connection else {
        return Err(forbidden("the connection is unknown"));
    };
    if let Some(cert) = &connection.client_cert {
        if (1..=u8::MAX).any(|id| crate::tls::cert_is_for_node(cert, id)) {
            return Ok(());
        }
        return Err(forbidden("the client certificate is not a member's (node-N.synod)"));
    }
    if connection.peer.ip().is_loopback() {
        return Ok(());
    }
    Err(forbidden("no client certificate and not a loopback connection"))
}

fn forbidden(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "membership changes need a member's client certificate ([http_tls] client_ca = the cluster CA) or a \
             connection from the node's own host: {why}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(node: NodeId) -> MembersRequest {
        let a = "127.0.0.1:1".parse().unwrap();
        MembersRequest::Add { node, peer_addr: a, http_addr: a }
    }

    fn code(e: ApiError) -> String {
        e.body.code
    }

    #[test]
    fn requests_are_checked_against_the_members() {
        assert_eq!(code(plan(&[1, 2, 3], add(2)).unwrap_err()), "already_member");
        assert_eq!(code(plan(&[1, 2, 3], add(0)).unwrap_err()), "invalid_field");
        assert_eq!(code(plan(&[1, 2, 3, 4, 5, 6, 7], add(8)).unwrap_err()), "too_many_members");
        assert_eq!(code(plan(&[1, 2, 3], MembersRequest::Remove { node: 9 }).unwrap_err()), "unknown_member");
        assert_eq!(code(plan(&[1, 2, 3], MembersRequest::Remove { node: 3 }).unwrap_err()), "too_few_members");
        let ok = plan(&[1, 2, 3, 4], MembersRequest::Remove { node: 3 }).unwrap();
        assert_eq!((ok.add, ok.remove), (None, Some(3)));
        let a = "127.0.0.1:1".parse().unwrap();
        let replace = |node, replaces| MembersRequest::Replace { node, peer_addr: a, http_addr: a, replaces };
        assert_eq!(code(plan(&[1, 2, 3], replace(4, 9)).unwrap_err()), "unknown_member");
        assert_eq!(code(plan(&[1, 2, 3], replace(2, 3)).unwrap_err()), "already_member");
        let r = plan(&[1, 2, 3], replace(4, 3)).unwrap();
        assert_eq!((r.add.map(|a| a.id), r.remove), (Some(4), Some(3)));
    }

    #[test]
    fn the_request_body_is_tagged_by_action() {
        let r: MembersRequest = serde_json::from_str(r#"{"action":"remove","node":3}"#).unwrap();
        assert_eq!(r, MembersRequest::Remove { node: 3 });
        let r: Result<MembersRequest, _> = serde_json::from_str(r#"{"action":"remove","node":3,"x":1}"#);
        assert!(r.is_err(), "unknown fields are refused");
        let r: Result<MembersRequest, _> = serde_json::from_str(r#"{"action":"add","node":4}"#);
        assert!(r.is_err(), "an add needs addresses");
    }

    #[test]
    fn only_member_certificates_or_loopback_may_change_membership() {
        let conn = |peer: &str| ConnectionInfo { peer: peer.parse().unwrap(), client_cert: None };
        assert!(authorize(Some(&conn("127.0.0.1:5000"))).is_ok());
        assert!(authorize(Some(&conn("[::1]:5000"))).is_ok());
        assert_eq!(code(authorize(Some(&conn("10.0.0.7:5000"))).unwrap_err()), "forbidden");
        assert_eq!(code(authorize(None).unwrap_err()), "forbidden");
        let ca = crate::tls::CertificateAuthority::generate(30).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let der = |issued: crate::tls::IssuedCertificate| {
            let path = dir.path().join("cert.pem");
            std::fs::write(&path, issued.cert_pem).unwrap();
            crate::tls::load_certificates(&path).unwrap().remove(0)
        };
        let far = "10.0.0.7:5000".parse().unwrap();
        let member = ConnectionInfo { peer: far, client_cert: Some(der(ca.issue_node(4, 30).unwrap())) };
        assert!(authorize(Some(&member)).is_ok(), "a member certificate, from anywhere");
        let server = ca.issue_server(&["api.example".to_string()], 30).unwrap();
        let other = ConnectionInfo { peer: far, client_cert: Some(der(server)) };
        assert_eq!(code(authorize(Some(&other)).unwrap_err()), "forbidden", "a certificate for another name");
    }
}
