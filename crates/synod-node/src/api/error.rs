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
            RejectReason::MissingSignature | RejectReason::BadSignature(_) => StatusCode::FORBIDDEN,
            RejectReason::BadNonce { .. } => StatusCode::CONFLICT,
            RejectReason::InsufficientFunds { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            RejectReason::WrongChain { .. }
            | RejectReason::ZeroAmount
            | RejectReason::SelfTransfer
            | RejectReason::InvalidReceiver
            | RejectReason::MemoTooLong { .. }
            | RejectReason::FeeNotAllowed { .. }
            | RejectReason::Overflow => StatusCode::BAD_REQUEST,
        };
        Self::new(status, reason.code(), reason.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}
