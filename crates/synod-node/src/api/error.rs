//! API errors: a stable machine-readable `code`, a human `message`, and the
//! HTTP status that fits. Every 4xx leaves the ledger unchanged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use synod_core::RejectReason;

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `insufficient_funds`; see docs/PROTOCOL.md for the list.
    pub code: String,
    pub message: String,
    /// The transfer the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, body: ErrorBody { code: code.into(), message: message.into(), id: None } }
    }

    pub fn with_id(mut self, id: impl ToString) -> Self {
        self.body.id = Some(id.to_string());
        self
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }
    pub fn invalid_field(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_field", message)
    }
    /// 415: a body that is not declared `application/json`.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message)
    }
    pub fn halted() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "halted",
            "the node's storage failed and it stopped accepting writes; restart it",
        )
    }
    pub fn storage(e: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "storage_error", e.to_string())
    }

    /// The status for each ledger rejection: 400 malformed, 403 not authorised
    /// by the sender's key, 409 conflicts with the account's nonce, 422 funds.
    pub fn rejected(reason: &RejectReason) -> Self {
        let status = match reason {
            RejectReason::MissingSignature
            | RejectReason::BadSignature(_)
            | RejectReason::PolicyMismatch
            | RejectReason::TooFewSignatures { .. }
            | RejectReason::UnknownSigner { .. }
            | RejectReason::DuplicateSigner { .. }
            | RejectReason::SignersOutOfOrder { .. }
            | RejectReason::BadMultisigSignature { .. }
            | RejectReason::ConflictingAuth => StatusCode::FORBIDDEN,
            RejectReason::BadNonce { .. } => StatusCode::CONFLICT,
            RejectReason::InsufficientFunds { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            RejectReason::WrongChain { .. }
            | RejectReason::ZeroAmount
            | RejectReason::SelfTransfer
            | RejectReason::InvalidReceiver
            | RejectReason::MemoTooLong { .. }
            | RejectReason::FeeNotAllowed { .. }
            | RejectReason::InvalidPolicy(_)
            | RejectReason::ReceiverPolicyMismatch
            | RejectReason::Overflow => StatusCode::BAD_REQUEST,
        };
        Self::new(status, reason.code(), reason.to_string())
    }
}

/// For a `not_leader` answer: how many members this node cannot hear from,
/// and whether that leaves a quorum, e.g. "2 of 3 members unreachable from
/// this node (lost: 2, 3): no quorum, a leader needs 2". `None` when no peer
/// is lost (then the cause is an election, not the network).
pub fn unreachable_note(cluster: &crate::cluster::ClusterHandle) -> Option<String> {
    let stats = cluster.transport_stats.read().expect("transport stats lock");
    let members: Vec<u8> = cluster.http_urls.snapshot().keys().copied().collect();
    describe_unreachable(cluster.node_id, &members, |peer| stats.get(&peer).is_some_and(|s| s.lost))
}

fn describe_unreachable(own: u8, members: &[u8], lost: impl Fn(u8) -> bool) -> Option<String> {
    let lost: Vec<u8> = members.iter().copied().filter(|m| *m != own && lost(*m)).collect();
    if lost.is_empty() {
        return None;
    }
    let total = members.len();
    let quorum = total / 2 + 1;
    let list = lost.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
    let verdict = if total - lost.len() < quorum {
        format!(": no quorum, a leader needs {quorum} of {total}")
    } else {
        String::new()
    };
    Some(format!("{} of {total} members unreachable from this node (lost: {list}){verdict}", lost.len()))
}

/// `message`, with the unreachable members appended when there are some.
pub fn with_unreachable_note(message: &str, cluster: &crate::cluster::ClusterHandle) -> String {
    match unreachable_note(cluster) {
        Some(note) => format!("{message}; {note}"),
        None => message.to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::describe_unreachable;

    #[test]
    fn lost_members_are_counted_against_the_quorum() {
        assert_eq!(describe_unreachable(1, &[1, 2, 3], |_| false), None);
        assert_eq!(
            describe_unreachable(1, &[1, 2, 3], |p| p == 3).as_deref(),
            Some("1 of 3 members unreachable from this node (lost: 3)")
        );
        assert_eq!(
            describe_unreachable(1, &[1, 2, 3], |_| true).as_deref(),
            Some("2 of 3 members unreachable from this node (lost: 2, 3): no quorum, a leader needs 2 of 3")
        );
        // This node is never counted as lost to itself.
        assert_eq!(describe_unreachable(2, &[1, 2, 3, 4, 5], |p| p != 5).unwrap().split(' ').next(), Some("3"));
    }
}
