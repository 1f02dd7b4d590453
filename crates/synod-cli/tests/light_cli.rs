//! `synod light` against two proof-of-work nodes of one network that are not
//! peers: a "liar" that mines slowly on its own branch and confirms a
//! transfer there, and an honest node that mines more work. A light client
//! synced from both keeps the honest chain, accepts a proof from it and
//! refuses the liar's proof, which `synod tx --proof` without `--light`
//! (trusting the one node asked) accepts. Every wait is a poll with a
//! deadline.

mod common;
use common::*;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer};
use synod_node::config::ConsensusKind;
use synod_node::node::Listeners;
use synod_node::pow::{PowChainSpec, PowNode, PowSettings};
use synod_node::NodeConfig;

const DEADLINE: Duration = Duration::from_secs(120);

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=2).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    Genesis { chain_id: 4343, auth: AuthMode::Ed25519, timestamp_ms: now_ms - 60_000, allocations }
}

fn config(dir: &Path, name: &str, http: std::net::SocketAddr, hashes_per_sec_max: u64) -> NodeConfig {
    config_with_limit(dir, name, http, hashes_per_sec_max, 12)
}

fn config_with_limit(
    dir: &Path,
    name: &str,
    http: std::net::SocketAddr,
    hashes_per_sec_max: u64,
    pow_limit_zero_bits: u32,
) -> NodeConfig {
    let mut c = NodeConfig::new(dir.join(name), http, dir.join("genesis.json"));
    c.consensus = ConsensusKind::Pow;
    c.pow = Some(PowSettings {
        // About 2^12 hashes per block at the minimum difficulty.
        chain: PowChainSpec { spacing_secs: 1, retarget_interval: 10, pow_limit_zero_bits, ..Default::default() },
        mine: hashes_per_sec_max > 0,
        miner_account: Some(key(100).account()),
        miner_threads: 1,
        hashes_per_sec_max,
    });
    c
}

async fn get(url: &str, path: &str) -> Option<Value> {
    let resp = reqwest::get(format!("{url}{path}")).await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

async fn chain_work(url: &str) -> u128 {
    get(url, "/v1/status").await.and_then(|s| s["pow"]["chain_work"].as_str().and_then(|w| w.parse().ok())).unwrap_or(0)
}

macro_rules! wait_until {
    ($what:expr, $cond:expr) => {{
        let started = Instant::now();
        loop {
            if $cond {
                break;
            }
            assert!(started.elapsed() < DEADLINE, "timed out waiting for {}", $what);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }};
}

/// Submits a transfer from key `from` and waits until `url` has it confirmed.
async fn confirmed_transfer(url: &str, from: u8, to: u8) -> String {
    let t = Transfer {
        chain_id: 4343,
        from: key(from).account(),
        to: key(to).account(),
        amount: 10,
        fee: 1,
        nonce: 0,
        memo: Vec::new(),
    };
    let tx = t.sign(&key(from));
    let id = tx.id().to_string();
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/transfers"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&tx).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    wait_until!("the transfer confirmed", {
        matches!(get(url, &format!("/v1/transfers/{id}")).await, Some(v) if v["status"] == "confirmed")
    });
    id
}

async fn cli(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&a)
    })
    .await
    .unwrap()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_light_client_follows_the_most_work_chain_and_refuses_a_private_branch() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    std::fs::write(dir.path().join("genesis.json"), serde_json::to_string(&g).unwrap()).unwrap();
    let (hl, ll) = (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap());
    let honest_config = config(dir.path(), "honest", hl.local_addr().unwrap(), 40_000);
    let liar_config = config(dir.path(), "liar", ll.local_addr().unwrap(), 4_000);
    let config_path = dir.path().join("honest.toml");
    std::fs::write(&config_path, toml::to_string(&honest_config).unwrap()).unwrap();
    let honest = PowNode::start(honest_config, g.clone(), Listeners { http: Some(hl), peer: None }).await.unwrap();
    let liar = PowNode::start(liar_config, g.clone(), Listeners { http: Some(ll), peer: None }).await.unwrap();
    let (hu, lu) = (honest.url(), liar.url());

    // The liar confirms a transfer on its own branch; the honest node another.
    let liar_tx = confirmed_transfer(&lu, 1, 2).await;
    let honest_tx = confirmed_transfer(&hu, 2, 1).await;
    wait_until!("the honest chain to carry twice the liar's work", {
        let (h, l) = (chain_work(&hu).await, chain_work(&lu).await);
        l > 0 && h > 2 * l
    });

    let light = dir.path().join("light");
    let light_s = light.to_str().unwrap().to_string();
    let o = cli(s(&["light", "init", "--dir", &light_s, "--config", config_path.to_str().unwrap()])).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The liar first, so the light client holds its branch before the honest one.
    let o = cli(s(&["light", "sync", "--dir", &light_s, "--node", &lu, "--node", &hu, "--json"])).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let nodes = report["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["node"], lu.as_str());
    assert_eq!(nodes[0]["on_best_chain"], false, "{report}");
    assert_eq!(nodes[1]["on_best_chain"], true, "{report}");
    assert!(nodes.iter().all(|n| n["error"].is_null()), "{report}");

    // Without --light the liar's proof passes: it trusts the one node asked.
    let o = cli(s(&["tx", &liar_tx, "--proof", "--node", &lu])).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // With --light it is refused: the block is not on the most-work chain.
    let o = cli(s(&["tx", &liar_tx, "--proof", "--light", &light_s, "--node", &lu])).await;
    assert!(!o.status.success(), "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("NOT on the light client's best chain"), "{err}");
    // The honest proof is accepted, with its confirmations and work on top.
    let o = cli(s(&["tx", &honest_tx, "--proof", "--light", &light_s, "--node", &hu, "--json"])).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["light"]["on_best_chain"], true);
    assert!(v["light"]["confirmations"].as_u64().unwrap() >= 1);
    assert!(v["light"]["work_on_top"].as_str().unwrap().parse::<u128>().is_ok());

    // A reload re-validates the saved headers; status reports the best tip.
    let o = cli(s(&["light", "status", "--dir", &light_s, "--json"])).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(st["best"], report["best"]);
    // A damaged header file is refused, not trusted.
    let path = light.join("headers.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[80 + 70] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let o = cli(s(&["light", "status", "--dir", &light_s])).await;
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not re-validate"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // The headers route refuses parameters it does not take.
    let resp = reqwest::get(format!("{hu}/v1/headers?from=0&count=1&x=1")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = reqwest::get(format!("{hu}/v1/headers?from=0&count=2001")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);

    // A node of another network (same genesis, other parameters) is refused by name.
    let ol = TcpListener::bind("127.0.0.1:0").unwrap();
    let other_config = config_with_limit(dir.path(), "other", ol.local_addr().unwrap(), 0, 13);
    let other = PowNode::start(other_config, g.clone(), Listeners { http: Some(ol), peer: None }).await.unwrap();
    let fresh = dir.path().join("light2");
    let fresh_s = fresh.to_str().unwrap().to_string();
    let o = cli(s(&["light", "init", "--dir", &fresh_s, "--config", config_path.to_str().unwrap()])).await;
    assert!(o.status.success());
    let o = cli(s(&["light", "sync", "--dir", &fresh_s, "--node", &other.url(), "--json"])).await;
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let err = report["nodes"][0]["error"].as_str().unwrap_or_default();
    assert!(err.contains("chain identity"), "{report}");
    assert_eq!(report["best"]["height"], 0);

    other.shutdown().await;
    honest.shutdown().await;
    liar.shutdown().await;
}
