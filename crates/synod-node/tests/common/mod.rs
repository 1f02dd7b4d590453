// Shared fixtures for the node's HTTP API tests (each test file includes this with `mod common;`).
#![allow(dead_code)]

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use synod_core::crypto::{verify_strict, Keypair, SignatureError};
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis, SignedTransfer, Transfer};
use synod_node::api::types::{AccountInfo, HeadInfo, StatusInfo};
use synod_node::{Client, Node, NodeConfig};
use tempfile::TempDir;

pub const CHAIN: u64 = 7;
/// What each genesis key holds unless a test says otherwise.
pub const EACH: u64 = 1_000;
/// A key that no genesis funds (a fresh receiver).
pub const UNFUNDED: u8 = 9;

pub fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

pub fn acct(n: u8) -> AccountId {
    key(n).account()
}

/// A genesis funding keys 1..=count with `each` units.
pub fn genesis(auth: AuthMode, count: u8, each: u64) -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=count).map(|n| Allocation { account: key(n).account(), amount: each, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: CHAIN, auth, timestamp_ms: 1_700_000_000_000, allocations }
}

pub fn transfer(from: u8, to: u8, amount: u64, nonce: u64) -> Transfer {
    Transfer { chain_id: CHAIN, from: acct(from), to: acct(to), amount, fee: 0, nonce, memo: vec![] }
}

pub fn signed(from: u8, to: u8, amount: u64, nonce: u64) -> SignedTransfer {
    transfer(from, to, amount, nonce).sign(&key(from))
}

/// Signs `t` with key `n` (which must be `t.from`'s key).
pub fn sign_with(t: Transfer, n: u8) -> SignedTransfer {
    t.sign(&key(n))
}

pub fn to_json(tx: &SignedTransfer) -> Value {
    serde_json::to_value(tx).expect("transfer serialises")
}

pub fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json serialises")
}

/// A batch body: a JSON array of the transfers.
pub fn batch_body(txs: &[SignedTransfer]) -> Vec<u8> {
    serde_json::to_vec(txs).expect("transfers serialise")
}

/// An account id that is not a valid Ed25519 public key (does not decode to a curve point).
pub fn invalid_point() -> AccountId {
    (0..=255u8)
        .map(|n| AccountId([n; 32]))
        .find(|id| verify_strict(id, b"probe", &[0; 64]) == Err(SignatureError::InvalidPublicKey))
        .expect("some 32-byte string is not a curve point")
}

/// Ed25519 group order L, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The classic malleation: S' = S + L. Standard (non-strict) verifiers accept it; strict ones must not.
pub fn malleate(sig: &[u8; 64]) -> [u8; 64] {
    let mut out = *sig;
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = sig[32 + i] as u16 + ED25519_L[i] as u16 + carry;
        out[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes because S < L < 2^253");
    assert_ne!(&out[32..], &sig[32..]);
    out
}

/// One HTTP answer, kept raw so tests can check status, content type and body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("status {} body is not JSON ({e}): {:?}", self.status, self.text()))
    }

    pub fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "status {} body does not parse as {} ({e}): {}",
                self.status,
                std::any::type_name::<T>(),
                self.text()
            )
        })
    }

    /// Asserts an API error: this status, a JSON object body `{code, message, id?}` with this code.
    /// Returns the body.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "expected {status} {code}, got {}: {}", self.status, self.text());
        let ct = self.content_type.as_deref().unwrap_or("");
        assert!(ct.starts_with("application/json"), "error content type is {ct:?}: {}", self.text());
        let body = self.json();
        let obj = body.as_object().unwrap_or_else(|| panic!("error body is not an object: {body}"));
        assert_eq!(obj.get("code").and_then(Value::as_str), Some(code), "error code in {body}");
        let message = obj.get("message").and_then(Value::as_str).unwrap_or_else(|| panic!("no message in {body}"));
        assert!(!message.is_empty(), "empty message in {body}");
        for k in obj.keys() {
            assert!(["code", "message", "id"].contains(&k.as_str()), "unexpected key {k:?} in error body {body}");
        }
        body
    }
}

/// What a rejected request must leave exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub head_hash: String,
    pub height: u64,
    pub ledger_size: u64,
    pub transfers_committed_since_start: u64,
    pub accounts: Vec<AccountInfo>,
}

/// A running node in its own temporary directory, with a typed and a raw HTTP client.
pub struct TestNode {
    pub dir: TempDir,
    pub genesis: Genesis,
    pub node: Node,
    pub client: Client,
    pub http: reqwest::Client,
    pub url: String,
    /// Accounts compared by `snapshot`: the genesis accounts and `UNFUNDED`, plus any a test adds.
    pub watched: Vec<AccountId>,
}

fn config(dir: &TempDir) -> NodeConfig {
    NodeConfig::new(dir.path().join("n"), "127.0.0.1:0".parse().unwrap(), dir.path().join("genesis.json"))
}

impl TestNode {
    /// Keys 1..=5 funded with `EACH`, Ed25519 mode.
    pub async fn start_default() -> Self {
        Self::start(genesis(AuthMode::Ed25519, 5, EACH)).await
    }

    pub async fn start(genesis: Genesis) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, genesis).await
    }

    pub async fn start_in(dir: TempDir, genesis: Genesis) -> Self {
        let node = Node::start_with_genesis(config(&dir), genesis.clone()).await.expect("node starts");
        let url = node.url();
        let client = Client::new(vec![url.clone()]);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
        let mut watched: Vec<AccountId> = genesis.allocations.iter().map(|a| a.account).collect();
        watched.push(acct(UNFUNDED));
        TestNode { dir, genesis, node, client, http, url, watched }
    }

    /// Stops the node; returns its directory so a new node can start on the same data.
    pub async fn stop(self) -> (TempDir, Genesis) {
        self.node.shutdown().await;
        (self.dir, self.genesis)
    }

    pub async fn shutdown(self) {
        self.node.shutdown().await;
    }

    /// Shuts the node down and starts a new one on the same data dir and genesis.
    pub async fn restart(self) -> Self {
        let watched = self.watched.clone();
        let (dir, genesis) = self.stop().await;
        let mut n = Self::start_in(dir, genesis).await;
        n.watched = watched;
        n
    }

    pub async fn try_send(&self, req: reqwest::RequestBuilder) -> Result<Resp, reqwest::Error> {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = resp.bytes().await?.to_vec();
        Ok(Resp { status, content_type, bytes })
    }

    async fn send(&self, what: &str, req: reqwest::RequestBuilder) -> Resp {
        self.try_send(req).await.unwrap_or_else(|e| panic!("{what}: no HTTP answer: {e:?}"))
    }

    /// POST `body` to `path` (which may carry a query string).
    pub async fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> Resp {
        let req =
            self.http.post(format!("{}{path}", self.url)).header("content-type", "application/json").body(body.into());
        self.send(&format!("POST {path}"), req).await
    }

    pub async fn try_post(&self, path: &str, body: impl Into<Vec<u8>>) -> Result<Resp, reqwest::Error> {
        let req =
            self.http.post(format!("{}{path}", self.url)).header("content-type", "application/json").body(body.into());
        self.try_send(req).await
    }

    pub async fn submit_raw(&self, body: impl Into<Vec<u8>>) -> Resp {
        self.post("/v1/transfers", body).await
    }

    /// POSTs one transfer and asserts it committed (200); returns the receipt.
    pub async fn commit(&self, tx: &SignedTransfer) -> synod_node::api::types::TransferReceipt {
        let resp = self.submit_raw(bytes(&to_json(tx))).await;
        assert_eq!(resp.status, 200, "transfer should commit: {}", resp.text());
        let receipt: synod_node::api::types::TransferReceipt = resp.parse();
        assert_eq!(receipt.status, "committed", "{receipt:?}");
        assert_eq!(receipt.id, tx.id().to_string());
        receipt
    }

    pub async fn get(&self, path: &str) -> Resp {
        let req = self.http.get(format!("{}{path}", self.url));
        self.send(&format!("GET {path}"), req).await
    }

    pub async fn head(&self) -> HeadInfo {
        self.client.head().await.expect("GET /v1/head")
    }

    pub async fn status(&self) -> StatusInfo {
        self.client.status().await.expect("GET /v1/status")
    }

    pub async fn account(&self, id: &AccountId) -> AccountInfo {
        self.client.account(id).await.expect("GET /v1/accounts/{id}")
    }

    pub async fn balance(&self, n: u8) -> u64 {
        self.account(&acct(n)).await.balance
    }

    pub async fn nonce(&self, n: u8) -> u64 {
        self.account(&acct(n)).await.nonce
    }

    pub async fn snapshot(&self) -> Snapshot {
        let head = self.head().await;
        let status = self.status().await;
        assert_eq!(status.head_hash, head.hash.to_string(), "status and head agree");
        let mut accounts = Vec::with_capacity(self.watched.len());
        for id in &self.watched {
            accounts.push(self.account(id).await);
        }
        Snapshot {
            head_hash: head.hash.to_string(),
            height: head.header.height,
            ledger_size: head.header.ledger_size,
            transfers_committed_since_start: status.transfers_committed_since_start,
            accounts,
        }
    }

    /// POSTs `body` to `path`, expects the error `status`/`code`, and checks that the ledger did not
    /// change. Returns the error body.
    pub async fn expect_rejected(&self, path: &str, body: impl Into<Vec<u8>>, status: u16, code: &str) -> Value {
        let body = body.into();
        let before = self.snapshot().await;
        let resp = self.post(path, body.clone()).await;
        let err = resp.assert_error(status, code);
        let after = self.snapshot().await;
        assert_eq!(before, after, "a rejected request changed the ledger; body was {}", String::from_utf8_lossy(&body));
        err
    }

    /// GETs `path`, expects the error `status`/`code`, and checks the ledger did not change.
    pub async fn expect_get_error(&self, path: &str, status: u16, code: &str) -> Value {
        let before = self.snapshot().await;
        let err = self.get(path).await.assert_error(status, code);
        assert_eq!(before, self.snapshot().await, "GET {path} changed the ledger");
        err
    }

    /// `expect_rejected` for one transfer object; also checks the error names the transfer.
    pub async fn expect_tx_rejected(&self, tx: &Value, status: u16, code: &str) -> Value {
        let err = self.expect_rejected("/v1/transfers", bytes(tx), status, code).await;
        if let Ok(parsed) = serde_json::from_value::<SignedTransfer>(tx.clone()) {
            assert_eq!(err["id"].as_str(), Some(parsed.id().to_string().as_str()), "error names the transfer: {err}");
        }
        err
    }

    /// Polls GET /v1/transfers/{id} until it answers 200, for at most ~5 s.
    pub async fn wait_visible(&self, id: &str) -> Value {
        for _ in 0..250 {
            let r = self.get(&format!("/v1/transfers/{id}")).await;
            match r.status {
                200 => return r.json(),
                404 => tokio::time::sleep(Duration::from_millis(20)).await,
                other => panic!("GET /v1/transfers/{id}: unexpected {other}: {}", r.text()),
            }
        }
        panic!("transfer {id} did not become visible within ~5 s");
    }
}
