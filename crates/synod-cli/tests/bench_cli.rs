//! `synod bench` against its own in-process node: the JSON report has the
//! documented shape, something was committed, and every acknowledged transfer
//! was found in the ledger afterwards. No assertions on speed.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> (std::process::Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_synod"))
        .arg("bench")
        .args(args)
        .env_remove("SYNOD_NODE")
        .output()
        .expect("synod runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "synod bench failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{stdout}"));
    (out, v)
}

fn u(v: &Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_u64().unwrap_or_else(|| panic!("{} is not an unsigned integer in {v}", path.join(".")))
}

fn f(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_f64().unwrap_or_else(|| panic!("{} is not a number in {v}", path.join(".")))
}

#[test]
fn dev_bench_reports_json_and_every_acknowledged_transfer_is_in_the_ledger() {
    let (_, v) = bench(&["--dev", "--duration", "2", "--clients", "4", "--json"]);

    assert_eq!(v["target"]["kind"], "dev");
    assert_eq!(v["target"]["consensus"], "single");
    assert_eq!(v["target"]["ledger_auth"], "ed25519");
    assert_eq!(v["load"]["mode"], "closed");
    assert_eq!(u(&v, &["load", "clients"]), 4);
    assert_eq!(u(&v, &["load", "batch"]), 1);
    assert_eq!(v["load"]["auth"], "signed");
    assert!(v["machine"]["cpu_model"].is_string());
    assert!(u(&v, &["machine", "cpus"]) >= 1);

    let committed = u(&v, &["results", "transfers_committed"]);
    assert!(committed > 0, "nothing committed: {v}");
    assert!(f(&v, &["results", "committed_per_s"]) > 0.0);
    assert!(f(&v, &["results", "requests_per_s"]) > 0.0);
    assert!(f(&v, &["results", "elapsed_s"]) > 0.0);
    assert!(u(&v, &["results", "total_transfers_committed"]) >= committed);

    let lat = &v["latency_us"];
    let (p50, p90, p99, p999, max) =
        (u(lat, &["p50"]), u(lat, &["p90"]), u(lat, &["p99"]), u(lat, &["p999"]), u(lat, &["max"]));
    assert!(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, "latency percentiles: {lat}");
    assert_eq!(u(lat, &["count"]), u(&v, &["results", "requests"]));

    assert!(v["errors"]["by_kind"].is_object());
    u(&v, &["errors", "total"]);

    let check = &v["check"];
    assert_eq!(u(check, &["missing"]), 0, "acknowledged transfers missing: {check}");
    assert_eq!(u(check, &["senders_behind"]), 0);
    assert_eq!(u(check, &["acknowledged"]), u(&v, &["results", "total_transfers_committed"]));
    assert_eq!(u(check, &["looked_up"]), u(check, &["acknowledged"]), "small runs look every transfer up");
    assert_eq!(check["ok"], true);
    assert_eq!(v["ok"], true);
}

/// `--dev --nodes 3`: a Multi-Paxos cluster in the bench's process, clients
/// spread over its three nodes (followers forward to the leader), and every
/// acknowledged transfer found afterwards; `not_leader` answers are counted.
#[test]
fn dev_cluster_of_three_commits_and_every_acknowledged_transfer_is_found() {
    let (_, v) = bench(&["--dev", "--nodes", "3", "--duration", "2", "--clients", "6", "--json"]);
    assert_eq!(v["target"]["kind"], "dev-cluster");
    assert_eq!(v["target"]["consensus"], "paxos");
    assert_eq!(v["target"]["nodes"].as_array().map(Vec::len), Some(3), "three nodes: {}", v["target"]);
    assert!(u(&v, &["results", "transfers_committed"]) > 0, "nothing committed: {v}");
    // Counted, whatever their number: no timing, so no claim that leadership held.
    assert_eq!(u(&v, &["errors", "not_leader"]), v["errors"]["by_kind"]["not_leader"].as_u64().unwrap_or(0));
    u(&v, &["errors", "node_switches"]);
    let check = &v["check"];
    assert_eq!(u(check, &["missing"]), 0, "acknowledged transfers missing: {check}");
    assert_eq!(u(check, &["senders_behind"]), 0);
    assert_eq!(check["ok"], true);
}

#[test]
fn dev_nodes_must_be_one_three_or_five() {
    let out = Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(["bench", "--dev", "--nodes", "2"])
        .env_remove("SYNOD_NODE")
        .output()
        .expect("synod runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nodes 2"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn trusted_batches_and_open_loop_also_check_out() {
    let (_, v) = bench(&[
        "--dev",
        "--auth",
        "trusted",
        "--rate",
        "50",
        "--clients",
        "4",
        "--batch",
        "100",
        "--duration",
        "1",
        "--warmup",
        "0.5",
        "--verify-max",
        "500",
        "--json",
    ]);
    assert_eq!(v["target"]["ledger_auth"], "none");
    assert_eq!(v["load"]["mode"], "open");
    assert!(u(&v, &["results", "transfers_committed"]) > 0);
    assert!(v["results"]["late_starts"].is_u64());
    let check = &v["check"];
    assert_eq!(check["method"], "sample+nonces");
    assert!(u(check, &["looked_up"]) <= 500);
    assert_eq!(u(check, &["missing"]), 0);
    assert_eq!(check["ok"], true);
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["bench"][..],
        &["bench", "--node", "http://127.0.0.1:1"],
        &["bench", "--dev", "--batch", "9000"],
        &["bench", "--dev", "--clients", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_synod")).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
    }
}
