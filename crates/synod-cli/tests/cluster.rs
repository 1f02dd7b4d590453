//! Three real `synod node` processes on 127.0.0.1: writes through a follower,
//! kill -9 of the leader, a new leader, writes continuing, the old leader
//! restarted and caught up with identical block hashes, and a clean audit.

mod common;
use common::*;

use std::time::{Duration, Instant};

use serde_json::Value;

fn status(url: &str) -> Option<Value> {
    let out = run(&["head", "--node", url, "--json"]);
    if !out.status.success() {
        return None;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(synod_node::Client::new(vec![url.to_string()]).get_json("/v1/status")).ok()
}

/// Polls until some node in `urls` reports itself leader (bounded: 20 s).
fn leader(urls: &[String]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        for (i, u) in urls.iter().enumerate() {
            if let Some(s) = status(u) {
                if s["cluster"]["role"] == "leader" {
                    return i;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no leader elected within 20 s");
}

fn transfer(key: &str, to: &str, nodes: &str) -> Value {
    let out = run(&["transfer", "--key", key, "--to", to, "--amount", "1", "--node", nodes, "--json"]);
    assert!(out.status.success(), "transfer failed: {} {}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn block_hashes(url: &str) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = synod_node::Client::new(vec![url.to_string()]);
    rt.block_on(async {
        let head = c.head().await.unwrap().header.height;
        let mut out = Vec::new();
        for h in 0..=head {
            out.push(c.block(h).await.unwrap().hash.to_string());
        }
        out
    })
}

#[test]
fn leader_crash_new_leader_writes_continue_and_the_old_leader_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cluster");
    let data_s = data.to_str().unwrap();
    let out = run(&["dev", "--data-dir", data_s, "--port", "0", "--print-configs"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let config = |i: usize| data.join(format!("node{i}.toml")).to_str().unwrap().to_string();
    let mut servers: Vec<Option<Server>> =
        (1..=3).map(|i| Some(Server::start(&["node", "--config", &config(i)]))).collect();
    let urls: Vec<String> = servers.iter().map(|s| s.as_ref().unwrap().url.clone()).collect();
    let alice = data.join("keys/alice.json").to_str().unwrap().to_string();
    let bob = data.join("keys/bob.json").to_str().unwrap().to_string();

    // Phase 1: a leader is elected; writes sent to a follower are forwarded and commit.
    let first = leader(&urls);
    let follower = (first + 1) % 3;
    for _ in 0..10 {
        assert_eq!(transfer(&alice, &bob, &urls[follower])["status"], "committed");
    }

    // Phase 2: the leader's process dies without warning.
    servers[first].take().unwrap().kill9();
    let survivors: Vec<String> = (0..3).filter(|i| *i != first).map(|i| urls[i].clone()).collect();
    let second = leader(&survivors);
    assert_ne!(survivors[second], urls[first], "a surviving node leads");

    // Phase 3: writes continue through any surviving node, and a client given
    // every URL fails over past the dead one.
    let all = urls.join(",");
    for _ in 0..10 {
        assert_eq!(transfer(&alice, &bob, &all)["status"], "committed");
    }
    let balance = run(&["balance", &bob, "--node", &survivors[0], "--json"]);
    let v: Value = serde_json::from_slice(&balance.stdout).unwrap();
    assert_eq!(v["balance"], 1_000_000_000u64 + 20);

    // Phase 4: the old leader restarts and catches up to the same chain.
    servers[first] = Some(Server::start(&["node", "--config", &config(first + 1)]));
    let restarted = servers[first].as_ref().unwrap().url.clone();
    let target = block_hashes(&survivors[0]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = block_hashes(&restarted);
        if got.len() >= target.len() {
            assert_eq!(got[..target.len()], target[..], "identical block hashes at every height");
            break;
        }
        assert!(Instant::now() < deadline, "restarted node did not catch up: {} of {} blocks", got.len(), target.len());
        std::thread::sleep(Duration::from_millis(100));
    }
    for u in &survivors {
        assert_eq!(block_hashes(u), target);
    }

    // Phase 5: stop everything; every node's data passes the offline audit.
    for s in servers.into_iter().flatten() {
        assert!(s.interrupt().success());
    }
    let audit = run(&["verify", "--data-dir", data_s, "--json"]);
    assert!(audit.status.success(), "{}", stdout(&audit));
    let v: Value = serde_json::from_slice(&audit.stdout).unwrap();
    let heads: Vec<&Value> = v["databases"].as_array().unwrap().iter().map(|d| &d["head_hash"]).collect();
    assert_eq!(heads.len(), 3);
    assert!(heads.iter().all(|h| *h == heads[0]), "{v}");
}
