//! A typed HTTP client for the node API, used by the CLI, the benchmark and tests.
//! Given several node URLs it tries them in order when one cannot be reached.

use std::time::Duration;

use serde::de::DeserializeOwned;
use synod_core::proof::ConsistencyProof;
use synod_core::{AccountId, SignedTransfer, TransferId};

use crate::api::error::ErrorBody;
use crate::api::types::*;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node answered with an API error.
    #[error("{status} {}: {}", body.code, body.message)]
    Api { status: u16, body: ErrorBody },
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String, connect: bool },
    #[error("unexpected response from {url}: {detail}")]
    BadResponse { url: String, detail: String },
}

/// Largest answer body the client reads, in bytes. A node is not trusted:
/// one that streams without end would otherwise fill the client's memory.
/// The largest legitimate answers are a full block as JSON (16,384 transfers
/// of about 450 bytes each: under 8 MiB) and a page of 2,000 headers.
pub const RESPONSE_BYTES_MAX: usize = 32 * 1024 * 1024;

/// Rounds over all URLs before giving up (with backoff 50 ms doubling to 1 s: about 6 s in all).
const RETRY_ROUNDS_MAX: u32 = 9;

impl ClientError {
    /// Worth another try elsewhere or later: the node is unreachable (could not
    /// connect), or the cluster is between leaders or busy.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Unreachable { connect, .. } => *connect,
            ClientError::Api { status: 503, body } => {
                matches!(body.code.as_str(), "not_leader" | "overloaded" | "commit_unknown")
            }
            _ => false,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ClientError::Api { body, .. } => &body.code,
            ClientError::Unreachable { .. } => "unreachable",
            ClientError::BadResponse { .. } => "bad_response",
        }
    }
}

/// Why a request could not be sent, in words: "connection refused" rather
/// than the HTTP library's "error sending request for url (...)".
fn transport_detail(e: &reqwest::Error) -> String {
    let mut deepest = None;
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".to_string(),
                std::io::ErrorKind::TimedOut => return "connection timed out".to_string(),
                _ => {}
            }
        }
        deepest = Some(c.to_string());
        cause = c.source();
    }
    if e.is_timeout() {
        return "no answer within the client's timeout".to_string();
    }
    match deepest {
        Some(d) => format!("{e}: {d}"),
        None => e.to_string(),
    }
}

#[derive(Clone)]
pub struct Client {
    urls: Vec<String>,
    http: reqwest::Client,
    response_bytes_max: usize,
}

impl Client {
    /// `urls`: one or more base URLs such as `http://127.0.0.1:7001`.
    pub fn new(urls: Vec<String>) -> Self {
        Self::with_ca_cert(urls, None).expect("an http client without extra roots builds")
    }

    /// Like `new`, and trusts the PEM CA certificate(s) `ca_pem` for `https://`
    /// nodes (only those: no system roots are loaded).
    pub fn with_ca_cert(urls: Vec<String>, ca_pem: Option<&[u8]>) -> Result<Self, reqwest::Error> {
        assert!(!urls.is_empty(), "at least one node URL");
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(60)).pool_max_idle_per_host(1024);
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build()?;
        let urls = urls.into_iter().map(|u| u.trim_end_matches('/').to_string()).collect();
        Ok(Client { urls, http, response_bytes_max: RESPONSE_BYTES_MAX })
    }

    /// The same client with another bound on answer bodies (tests use a small one).
    pub fn with_response_bytes_max(mut self, bytes_max: usize) -> Self {
        self.response_bytes_max = bytes_max;
        self
    }

    async fn request<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<T, ClientError> {
        // Bounded retries: a node that is down, or a cluster between leaders,
        // gets another try at the next URL, then a backoff round. Retrying a
        // transfer is safe: submission is idempotent.
        let mut backoff = Duration::from_millis(50);
        let mut last = None;
        // Why each URL could not be reached in its latest attempt (None: it answered).
        let mut unreachable: Vec<Option<String>> = vec![None; self.urls.len()];
        for round in 0..RETRY_ROUNDS_MAX {
            if round > 0 {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            for (url, why) in self.urls.iter().zip(unreachable.iter_mut()) {
                match self.request_once(url, method.clone(), path, body).await {
                    Ok(v) => return Ok(v),
                    Err(e) if e.is_retryable() => {
                        *why = match &e {
                            ClientError::Unreachable { detail, .. } => Some(detail.clone()),
                            _ => None,
                        };
                        last = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        // Every node down: name each one tried and why, not only the last.
        if self.urls.len() > 1 && unreachable.iter().all(Option::is_some) {
            let detail = self
                .urls
                .iter()
                .zip(&unreachable)
                .map(|(url, why)| format!("{url}: {}", why.as_deref().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; ");
            let url = format!("any of the {} nodes tried", self.urls.len());
            return Err(ClientError::Unreachable { url, detail, connect: true });
        }
        Err(last.expect("at least one attempt"))
    }

    async fn request_once<T: DeserializeOwned>(
        &self,
        url: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<T, ClientError> {
        let full = format!("{url}{path}");
        let mut req = self.http.request(method, &full);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_vec());
        }
        let resp = req.send().await.map_err(|e| ClientError::Unreachable {
            url: url.to_string(),
            detail: transport_detail(&e),
            connect: e.is_connect(),
        })?;
        let status = resp.status().as_u16();
        let bytes = self.read_body(url, resp).await?;
        if !(200..300).contains(&status) {
            let body: ErrorBody = serde_json::from_slice(&bytes).map_err(|_| ClientError::BadResponse {
                url: url.to_string(),
                detail: format!("status {status}: {}", String::from_utf8_lossy(&bytes)),
            })?;
            return Err(ClientError::Api { status, body });
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::BadResponse { url: url.to_string(), detail: e.to_string() })
    }

    /// The answer's body, chunk by chunk, refused past `response_bytes_max`
    /// (before it is buffered, whatever Content-Length claims).
    async fn read_body(&self, url: &str, mut resp: reqwest::Response) -> Result<Vec<u8>, ClientError> {
        let bad = |detail: String| ClientError::BadResponse { url: url.to_string(), detail };
        let max = self.response_bytes_max;
        if resp.content_length().is_some_and(|len| len > max as u64) {
            return Err(bad(format!(
                "answer of {} bytes exceeds the client's limit of {max}",
                resp.content_length().unwrap_or(0)
            )));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| bad(e.to_string()))? {
            if bytes.len().saturating_add(chunk.len()) > max {
                return Err(bad(format!("answer exceeds the client's limit of {max} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    pub async fn submit(&self, tx: &SignedTransfer) -> Result<TransferReceipt, ClientError> {
        let body = serde_json::to_vec(tx).expect("transfer serialises");
        self.request(reqwest::Method::POST, "/v1/transfers", Some(&body)).await
    }

    pub async fn submit_batch(&self, txs: &[SignedTransfer]) -> Result<BatchReceipt, ClientError> {
        let body = serde_json::to_vec(txs).expect("transfers serialise");
        self.request(reqwest::Method::POST, "/v1/transfers", Some(&body)).await
    }

    /// Sends a raw body (tests of malformed input).
    pub async fn submit_raw<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, ClientError> {
        self.request(reqwest::Method::POST, "/v1/transfers", Some(body)).await
    }

    pub async fn transfer(&self, id: &TransferId, proof: bool) -> Result<TransferStatus, ClientError> {
        self.request(reqwest::Method::GET, &format!("/v1/transfers/{id}?proof={proof}"), None).await
    }

    pub async fn account(&self, id: &AccountId) -> Result<AccountInfo, ClientError> {
        self.request(reqwest::Method::GET, &format!("/v1/accounts/{id}"), None).await
    }

    pub async fn block(&self, height: u64) -> Result<BlockInfo, ClientError> {
        self.request(reqwest::Method::GET, &format!("/v1/blocks/{height}"), None).await
    }

    pub async fn head(&self) -> Result<HeadInfo, ClientError> {
        self.request(reqwest::Method::GET, "/v1/head", None).await
    }

    pub async fn consistency(&self, from: u64, to: u64) -> Result<ConsistencyProof, ClientError> {
        let info: ConsistencyInfo =
            self.request(reqwest::Method::GET, &format!("/v1/proofs/consistency?from={from}&to={to}"), None).await?;
        Ok(info.proof)
    }

    pub async fn status(&self) -> Result<StatusInfo, ClientError> {
        self.request(reqwest::Method::GET, "/v1/status", None).await
    }

    /// POST a JSON body to `path` and return the JSON answer
    /// (`synod cluster add|remove|replace`).
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, ClientError> {
        let bytes = serde_json::to_vec(body).expect("JSON serialises");
        self.request(reqwest::Method::POST, path, Some(&bytes)).await
    }

    /// GET any path and return the JSON (tests, `--json` passthrough).
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.request(reqwest::Method::GET, path, None).await
    }
}
