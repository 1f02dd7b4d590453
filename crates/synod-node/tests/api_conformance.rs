//! What outside tools check (scripts/api-checks.sh runs promtool and
//! schemathesis), held by tests: `/metrics` in the Prometheus text format with
//! its content type and every counter typed counter with help text, OpenMetrics
//! on request, `415` for a submission that is not JSON, and an OpenAPI document
//! with query parameters in the query, hex patterns and unsigned formats.

mod common;
#[path = "common/exposition.rs"]
mod exposition;

use common::*;
use serde_json::Value;

/// Every Paxos/single-node metric that only grows.
const PAXOS_COUNTERS: &[&str] = &[
    "synod_proposals_total",
    "synod_blocks_committed_total",
    "synod_transfers_committed_total",
    "synod_transfers_rejected_total",
    "synod_elections_started_total",
    "synod_elections_won_total",
    "synod_leader_changes_total",
    "synod_snapshots_installed_total",
    "synod_snapshot_chunks_installed_total",
    "synod_snapshot_chunks_refused_total",
    "synod_snapshot_chunks_served_total",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_with_typed_and_described_counters() {
    let n = TestNode::start_default().await;
    n.commit(&signed(1, 2, 5, 0)).await;
    let r = n.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type.as_deref(), Some("text/plain; version=0.0.4; charset=utf-8"));
    let families = exposition::parse(&r.text());
    exposition::assert_counters(&families, PAXOS_COUNTERS);
    let committed = &families["synod_transfers_committed_total"].samples;
    assert_eq!(committed, &vec![("synod_transfers_committed_total".to_string(), 1.0)]);
    for histogram in ["synod_block_fsync_seconds", "synod_http_request_seconds", "synod_paxos_fsync_seconds"] {
        assert_eq!(families[histogram].kind.as_deref(), Some("histogram"), "{histogram}");
    }
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_openmetrics_when_the_scraper_asks() {
    let n = TestNode::start_default().await;
    let req = n
        .http
        .get(format!("{}/metrics", n.url))
        .header("accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
    let r = n.try_send(req).await.unwrap();
    assert_eq!(r.content_type.as_deref(), Some("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    let text = r.text();
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    assert!(text.contains("# TYPE synod_proposals counter\n"), "OpenMetrics names the counter family without _total");
    assert!(text.contains("# UNIT synod_block_fsync_seconds seconds\n"));
    n.shutdown().await;
}

#[test]
fn proof_of_work_counters_are_typed_and_described() {
    let m = synod_node::pow::metrics::PowMetrics::default();
    m.blocks_stored.inc();
    let text = synod_node::metrics::exposition::to_prometheus_text(&m.encode());
    let families = exposition::parse(&text);
    exposition::assert_counters(
        &families,
        &[
            "synod_pow_blocks_mined_total",
            "synod_pow_blocks_stored_total",
            "synod_pow_transfers_stored_total",
            "synod_pow_peers_banned_total",
            "synod_pow_messages_dropped_total",
            "synod_pow_transfers_submitted_total",
        ],
    );
    assert_eq!(families["synod_pow_blocks_stored_total"].samples[0].1, 1.0);
    assert_eq!(families["synod_pow_fsync_seconds"].kind.as_deref(), Some("histogram"));
}

#[test]
fn election_counters_follow_the_replica_by_increments() {
    let m = synod_node::metrics::Metrics::default();
    m.record_elections(3, 1);
    m.record_elections(3, 1);
    m.record_elections(5, 2);
    assert_eq!((m.elections_started.get(), m.elections_won.get()), (5, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_that_is_not_json_is_415_and_changes_nothing() {
    let n = TestNode::start_default().await;
    let body = bytes(&to_json(&signed(1, 2, 5, 0)));
    let post = |content_type: Option<&str>| {
        let mut req = n.http.post(format!("{}/v1/transfers", n.url)).body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req
    };
    for refused in [Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/jsonx"), None] {
        let r = n.try_send(post(refused)).await.unwrap();
        r.assert_error(415, "unsupported_media_type");
    }
    assert_eq!(n.nonce(1).await, 0, "a refused submission commits nothing");
    let r = n.try_send(post(Some("Application/JSON; charset=utf-8"))).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(n.nonce(1).await, 1);
    n.shutdown().await;
}

const HEX64: &str = "^[0-9a-fA-F]{64}$";

fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{method} {path} has parameters"))
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} documents {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_declares_query_parameters_patterns_and_unsigned_integers() {
    let n = TestNode::start_default().await;
    let doc: Value = n.get("/openapi.json").await.json();
    for (path, method, name) in [
        ("/v1/transfers", "post", "wait"),
        ("/v1/transfers/{id}", "get", "proof"),
        ("/v1/accounts/{id}", "get", "consistency"),
        ("/v1/proofs/consistency", "get", "from"),
        ("/v1/proofs/consistency", "get", "to"),
    ] {
        assert_eq!(parameter(&doc, path, method, name)["in"], "query", "{method} {path} {name}");
    }
    for (path, name) in [("/v1/transfers/{id}", "id"), ("/v1/accounts/{id}", "id")] {
        let p = parameter(&doc, path, "get", name);
        assert_eq!(p["in"], "path");
        assert_eq!(p["schema"]["pattern"], HEX64, "{path}");
    }
    let height = &parameter(&doc, "/v1/blocks/{height}", "get", "height")["schema"];
    assert_eq!((&height["format"], &height["minimum"]), (&Value::from("uint64"), &Value::from(0)));
    assert_eq!(parameter(&doc, "/v1/proofs/consistency", "get", "from")["schema"]["minimum"], 1);

    let transfer = &doc["components"]["schemas"]["TransferJson"]["properties"];
    assert_eq!(transfer["from"]["pattern"], HEX64);
    assert_eq!(transfer["to"]["pattern"], HEX64);
    assert_eq!(transfer["signature"]["pattern"], "^[0-9a-fA-F]{128}$");
    assert_eq!(transfer["amount"]["minimum"], 1);
    assert_eq!(transfer["amount"]["maximum"], u64::MAX);
    assert_eq!(transfer["fee"]["maximum"], 0, "a Paxos node takes no fee");
    assert_eq!(transfer["chain_id"]["enum"], serde_json::json!([CHAIN]), "the node's own chain");
    for field in ["amount", "nonce", "fee", "chain_id"] {
        assert_eq!(transfer[field]["format"], "uint64", "{field}");
    }
    assert!(!doc.to_string().contains("\"int64\""), "no u64 is typed int64");
    assert!(!doc.to_string().contains("u-int64"), "unsigned formats spelled uint64");

    let submit = &doc["paths"]["/v1/transfers"]["post"];
    assert!(submit["requestBody"]["content"]["application/json"].is_object(), "request body is JSON");
    for code in ["200", "202", "400", "403", "409", "413", "415", "422", "503"] {
        let schema = &submit["responses"][code]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "POST /v1/transfers documents {code} with a body");
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["code", "message"]));
    n.shutdown().await;
}
