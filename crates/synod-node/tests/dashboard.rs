//! The Grafana dashboard in deploy/grafana/ watches metrics a member really
//! serves: every `synod_*` series its queries name is a family of a running
//! member's `/metrics` (a renamed metric would leave a panel silently empty),
//! with the suffixes its type allows; and `synod_is_leader`, its leader
//! panel, is 1 on the leader only.

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/exposition.rs"]
mod exposition;

use std::collections::BTreeSet;

use common::genesis;
use synod_core::AuthMode;

/// Every `synod_…` name in the dashboard's queries.
fn queried_metrics(dashboard: &serde_json::Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("panel without targets: {panel}"));
        for target in targets {
            let expr = target["expr"].as_str().unwrap_or_else(|| panic!("target without expr: {target}"));
            let bytes = expr.as_bytes();
            let mut at = 0;
            while let Some(found) = expr[at..].find("synod_") {
                let start = at + found;
                let end = bytes[start..]
                    .iter()
                    .position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_'))
                    .map_or(expr.len(), |n| start + n);
                names.insert(expr[start..end].to_string());
                at = end;
            }
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_queries_only_metrics_members_serve() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/grafana/synod-cluster.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let queried = queried_metrics(&dashboard);
    for needed in ["synod_is_leader", "synod_transfers_committed_total", "synod_paxos_fsync_seconds_bucket"] {
        assert!(queried.contains(needed), "the dashboard lost its {needed} panel");
    }

    let cluster = cluster::Cluster::start(genesis(AuthMode::Ed25519, 3, 1_000), None).await;
    let leader = cluster.leader().await;
    cluster.agreed_on(leader).await;
    for i in 0..3 {
        let text = reqwest::get(format!("{}/metrics", cluster.node(i).url())).await.unwrap().text().await.unwrap();
        let families = exposition::parse(&text);
        for name in &queried {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| families.get(*base).and_then(|f| f.kind.as_deref()) == Some("histogram"))
                .unwrap_or(name);
            assert!(families.contains_key(family), "member {}: the dashboard queries {name}, not served", i + 1);
        }
        let is_leader = &families["synod_is_leader"].samples;
        let expected = if i == leader { 1.0 } else { 0.0 };
        assert_eq!(is_leader, &vec![("synod_is_leader".to_string(), expected)], "member {}", i + 1);
    }
    cluster.shutdown().await;
}
