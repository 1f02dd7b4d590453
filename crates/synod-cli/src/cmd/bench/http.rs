//! The bench's submit path: exactly one HTTP attempt per request, so that
//! every failure is seen and counted by the bench itself. (`synod_node::Client`
//! retries unreachable nodes and some 503s internally, which is right for the
//! CLI but would hide errors from a benchmark.) Reads and lookups outside the
//! timed phase use `synod_node::Client`.

use std::time::Duration;

use serde::de::DeserializeOwned;
use synod_node::api::types::{BatchReceipt, TransferReceipt};

/// Per-request timeout.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Why one attempt failed.
#[derive(Debug)]
pub enum SendError {
    /// The node answered with an error status and a JSON `{"code", ...}` body.
    Api { status: u16, code: String },
    /// No answer: connect failure, reset, timeout.
    Transport { kind: &'static str },
    /// An answer that is not what the API promises.
    BadResponse,
}

impl SendError {
    /// The kind under which the report counts it.
    pub fn kind(&self) -> String {
        match self {
            SendError::Api { code, .. } => code.clone(),
            SendError::Transport { kind } => format!("transport:{kind}"),
            SendError::BadResponse => "bad_response".into(),
        }
    }

    /// Whether to send the same request again (it is idempotent): no answer, or a
    /// 5xx/429 such as `overloaded`, `not_leader`, `commit_unknown`. A 4xx is the
    /// ledger's verdict on the transfers and is not retried.
    pub fn resend(&self) -> bool {
        match self {
            SendError::Api { status, .. } => *status >= 500 || *status == 429,
            SendError::Transport { .. } | SendError::BadResponse => true,
        }
    }
}

/// One HTTP client (connection pool) per node URL.
#[derive(Clone)]
pub struct Sender {
    url: String,
    http: reqwest::Client,
}

impl Sender {
    pub fn new(base_url: &str) -> Sender {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build().expect("http client builds");
        Sender { url: format!("{}/v1/transfers", base_url.trim_end_matches('/')), http }
    }

    async fn post<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, SendError> {
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| SendError::Transport { kind: transport_kind(&e) })?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| SendError::Transport { kind: transport_kind(&e) })?;
        if !(200..300).contains(&status) {
            let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
                .unwrap_or_else(|| format!("http_{status}"));
            return Err(SendError::Api { status, code });
        }
        serde_json::from_slice(&bytes).map_err(|_| SendError::BadResponse)
    }

    /// Posts one request; one receipt per transfer, in order.
    pub async fn submit(&self, body: &[u8], batch: usize) -> Result<Vec<TransferReceipt>, SendError> {
        if batch == 1 {
            self.post::<TransferReceipt>(body).await.map(|r| vec![r])
        } else {
            self.post::<BatchReceipt>(body).await.map(|b| b.results)
        }
    }
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    }
}
