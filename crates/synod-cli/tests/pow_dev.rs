//! `synod dev --consensus pow` through the real binary: three mining nodes,
//! a transfer sent with `synod transfer` that `synod tx` shows pending, then
//! confirmed with growing confirmations on another node; a clean stop and a
//! restart that resumes the chain from disk.

mod common;
use common::*;

use std::time::{Duration, Instant};

use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(120);

fn json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "command failed: {}\n{}", stdout(o), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", stdout(o)))
}

/// The other nodes' URLs from the banner ("node N listening on URL").
fn urls(server: &Server) -> Vec<String> {
    let mut urls = vec![server.url.clone()];
    while urls.len() < 3 {
        let line = server.lines.recv_timeout(Duration::from_secs(10)).expect("banner lines");
        if let Some(url) = line.split("listening on ").nth(1) {
            urls.push(url.split_whitespace().next().unwrap().to_string());
        }
    }
    urls
}

fn height(node: &str) -> u64 {
    let o = run(&["head", "--node", node, "--json"]);
    if !o.status.success() {
        return 0;
    }
    json(&o)["height"].as_u64().unwrap_or(0)
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn dev_pow_mines_confirms_transfers_and_resumes_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev");
    let data_s = data.to_str().unwrap();
    let server = Server::start(&["dev", "--consensus", "pow", "--data-dir", data_s, "--port", "0"]);
    let urls = urls(&server);
    let alice = data.join("keys/alice.json");
    let bob = data.join("keys/bob.json");
    let (alice_s, bob_s) = (alice.to_str().unwrap(), bob.to_str().unwrap());

    wait_until("the first block", || height(&urls[0]) >= 1);
    let status = json(&run(&["status", "--node", &urls[1], "--json"]));
    assert_eq!(status["consensus"], "pow");

    let r = json(&run(&[
        "transfer", "--key", alice_s, "--to", bob_s, "--amount", "25", "--fee", "3", "--node", &urls[0], "--json",
    ]));
    assert_eq!(r["status"], "pending");
    let id = r["id"].as_str().unwrap().to_string();

    // Until gossip brings the transfer to a node, that node answers 404.
    let tx_on = |node: &str| {
        let o = run(&["tx", &id, "--node", node, "--json"]);
        if o.status.success() {
            json(&o)
        } else {
            Value::Null
        }
    };
    let mut confirmations = 0;
    wait_until("the transfer confirmed on node 3", || {
        let v = tx_on(&urls[2]);
        confirmations = v["confirmations"].as_u64().unwrap_or(0);
        v["status"] == "confirmed"
    });
    wait_until("more confirmations", || tx_on(&urls[1])["confirmations"].as_u64().unwrap_or(0) > confirmations);
    // The inclusion proof and the headers above the block, checked by the CLI itself.
    let checked = json(&run(&["tx", &id, "--proof", "--node", &urls[1], "--json"]));
    assert_eq!(checked["proof_verified"], true);
    assert!(checked["confirmations_checked"].as_u64().unwrap() >= 2, "{checked}");
    assert_eq!(checked["proof"]["leaf_index"], checked["index_in_block"].as_u64().unwrap() + 1);
    let human = stdout(&run(&["tx", &id, "--node", &urls[0]]));
    assert!(human.contains("confirmations"), "{human}");
    let b = json(&run(&["balance", bob_s, "--node", &urls[2], "--json"]));
    assert_eq!(b["balance"], 1_000_000_025u64);
    let a = json(&run(&["balance", alice_s, "--node", &urls[2], "--json"]));
    assert_eq!(a["balance"], 1_000_000_000u64 - 25 - 3, "amount and fee leave the sender");

    // `synod block` on a proof-of-work node (it used to fail on the header's `bits`).
    let block_height = checked["height"].as_u64().unwrap().to_string();
    let block = json(&run(&["block", &block_height, "--node", &urls[1], "--json"]));
    assert_eq!(block["hash"], checked["block_hash"]);
    assert!(block["transfers"].as_array().unwrap().iter().any(|t| t["id"] == id.as_str()), "{block}");
    let human = stdout(&run(&["block", &block_height, "--node", &urls[1]]));
    assert!(human.contains("coinbase") && human.contains(" UTC (") && human.contains(&id), "{human}");
    assert!(json(&run(&["block", "0", "--node", &urls[1], "--json"]))["height"] == 0);

    // --proof --save writes a proof document that `synod proof verify` accepts.
    let saved = dir.path().join("pow-proof.json");
    let saved_s = saved.to_str().unwrap();
    let o = run(&["tx", &id, "--proof", "--save", saved_s, "--node", &urls[1]]);
    assert!(o.status.success() && stdout(&o).contains("proof saved to"), "{}", stdout(&o));
    let verified = run(&["proof", "verify", saved_s]);
    assert!(verified.status.success(), "{}", stdout(&verified));

    // A human transfer's hint names the node it used; `tx --proof` exits 0
    // only when it checked a proof (a pending transfer has none yet).
    let o = run(&["transfer", "--key", alice_s, "--to", bob_s, "--amount", "1", "--fee", "1", "--node", &urls[0]]);
    let text = stdout(&o);
    assert!(text.contains(&format!("--node {}", urls[0])), "{text}");
    let second = text.split_whitespace().nth(1).unwrap().to_string();
    let o = run(&["tx", &second, "--proof", "--node", &urls[0]]);
    if o.status.success() {
        assert!(stdout(&o).contains("inclusion proof OK"), "exit 0 without a checked proof: {}", stdout(&o));
    } else {
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("no inclusion proof to check"), "{o:?}");
    }

    let before = height(&urls[0]);
    assert!(server.interrupt().success());

    // The offline audit re-validates every stored block of every node.
    let audit = json(&run(&["verify", "--data-dir", data_s, "--json"]));
    assert_eq!(audit["ok"], true);
    let dbs = audit["databases"].as_array().unwrap();
    assert_eq!(dbs.len(), 3);
    assert!(dbs.iter().all(|d| d["height"].as_u64().unwrap() >= 1), "{audit}");

    // Resume: the chain comes back from disk (and keeps growing).
    let server = Server::start(&["dev", "--consensus", "pow", "--data-dir", data_s, "--port", "0"]);
    let node = server.url.clone();
    assert!(height(&node) >= before, "the chain resumed from disk");
    assert_eq!(json(&run(&["tx", &id, "--node", &node, "--json"]))["status"], "confirmed");

    // The dev data dir keeps its consensus.
    let o = run(&["dev", "--data-dir", data_s, "--port", "0"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--consensus pow"));
    assert!(server.interrupt().success());
}
