//! The README's walk-through, run against the real binary: `synod dev`, the
//! client subcommands, proofs saved and checked offline, a clean stop, the
//! offline audit, and the audit catching a tampered block.

mod common;
use common::*;

use serde_json::Value;

fn json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "command failed: {}\n{}", stdout(o), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", stdout(o)))
}

#[test]
fn dev_node_client_commands_proofs_stop_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev");
    let data_s = data.to_str().unwrap();
    let server = Server::start(&["dev", "--data-dir", data_s, "--port", "0"]);
    let node = server.url.clone();
    let alice = data.join("keys/alice.json");
    let bob = data.join("keys/bob.json");
    let (alice_s, bob_s) = (alice.to_str().unwrap(), bob.to_str().unwrap());

    // Phase 1: balances and transfers through the CLI.
    let before = json(&run(&["balance", alice_s, "--node", &node, "--json"]));
    assert_eq!(before["balance"], 1_000_000_000u64);
    let mut ids = Vec::new();
    for amount in [25u64, 30, 45] {
        let r = json(&run(&[
            "transfer",
            "--key",
            alice_s,
            "--to",
            bob_s,
            "--amount",
            &amount.to_string(),
            "--node",
            &node,
            "--json",
        ]));
        assert_eq!(r["status"], "committed");
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    let after = json(&run(&["balance", alice_s, "--node", &node, "--json"]));
    assert_eq!(after["balance"], 1_000_000_000u64 - 100);
    assert_eq!(after["nonce"], 3);

    // A rejected transfer exits 1 with the typed code, and changes nothing.
    let r = run(&["transfer", "--key", alice_s, "--to", bob_s, "--amount", "5000000000", "--node", &node, "--json"]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(serde_json::from_slice::<Value>(&r.stdout).unwrap()["code"], "insufficient_funds");
    assert_eq!(json(&run(&["balance", alice_s, "--node", &node, "--json"]))["nonce"], 3);

    // Phase 2: reads.
    let head = json(&run(&["head", "--node", &node, "--json"]));
    assert_eq!(head["header"]["ledger_size"], 3);
    let block = json(&run(&["block", "1", "--node", &node, "--json"]));
    assert_eq!(block["transfers"][0]["id"], ids[0].as_str());
    // Human views: a UTC time with its age, "1 transfer" in the singular, and
    // a member's status as a table of peers.
    let human = stdout(&run(&["block", "1", "--node", &node]));
    assert!(human.contains("transfers   1 transfer (root"), "{human}");
    assert!(human.contains(" UTC (") && human.contains(" ago)"), "{human}");
    // (Link stats are refreshed in the background: wait, bounded, for both peers.)
    let started = std::time::Instant::now();
    loop {
        let status = stdout(&run(&["status", "--node", &node]));
        assert!(status.contains("members 1, 2, 3"), "{status}");
        let peer_rows: Vec<&str> = status.lines().skip_while(|l| !l.starts_with("PEER")).skip(1).collect();
        assert_eq!(peer_rows.len(), 2, "{status}");
        if peer_rows.iter().all(|r| r.contains("connected") && r.contains(" ago")) {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "peers never shown connected: {status}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!run(&["block", "99", "--node", &node, "--json"]).status.success());

    // Phase 3: an inclusion proof checked online, saved, and checked offline.
    let proof_file = dir.path().join("proof.json");
    let tx = json(&run(&["tx", &ids[1], "--proof", "--save", proof_file.to_str().unwrap(), "--node", &node, "--json"]));
    assert_eq!(tx["proof_verified"], true);
    assert_eq!(tx["ledger_index"], 1);
    let ok = run(&["proof", "verify", proof_file.to_str().unwrap(), "--json"]);
    assert!(ok.status.success());
    assert_eq!(json(&ok)["valid"], true);
    // A doctored proof fails offline.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&proof_file).unwrap()).unwrap();
    doc["transfer"]["amount"] = 31.into();
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&bad_file, doc.to_string()).unwrap();
    assert_eq!(run(&["proof", "verify", bad_file.to_str().unwrap()]).status.code(), Some(1));
    // Consistency between two ledger sizes, saved and re-checked offline.
    let cons_file = dir.path().join("cons.json");
    let c = run(&[
        "proof",
        "consistency",
        "--from",
        "1",
        "--to",
        "3",
        "--save",
        cons_file.to_str().unwrap(),
        "--node",
        &node,
    ]);
    assert!(c.status.success(), "{}", stdout(&c));
    assert!(run(&["proof", "verify", cons_file.to_str().unwrap()]).status.success());

    // Phase 4: Ctrl-C stops cleanly; the audit passes and reports the head.
    assert!(server.interrupt().success());
    let audit = json(&run(&["verify", "--data-dir", data_s, "--json"]));
    assert_eq!(audit["ok"], true);
    assert_eq!(audit["databases"][0]["height"], 3);
    assert_eq!(audit["databases"][0]["head_hash"], head["hash"]);

    // Phase 5: restarting resumes from disk.
    let server = Server::start(&["dev", "--data-dir", data_s, "--port", "0"]);
    let again = json(&run(&["head", "--node", &server.url, "--json"]));
    assert_eq!(again["hash"], head["hash"]);
    assert!(server.interrupt().success());

    // Phase 6: someone with disk access rewrites block 2 (valid checksum, new
    // amount). The audit must name height 2 and exit 1.
    let db = data.join("node1/synod.redb");
    {
        let store = synod_storage::Store::open(&db).unwrap();
        let mut block = store.block(2).unwrap().unwrap();
        block.transfers[0].transfer.amount += 1;
        store.tamper_block(2, &block.encode()).unwrap();
    }
    let out = run(&["verify", "--data-dir", data_s, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["databases"][0]["ok"], false);
    assert_eq!(v["databases"][0]["height"], 2, "{v}");
}

#[test]
fn keygen_writes_a_usable_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    let out = run(&["keygen", "--out", path.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let account = v["account"].as_str().unwrap();
    assert_eq!(account.len(), 64);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file["account"], account);
    // Refuses to overwrite an existing key.
    assert!(!run(&["keygen", "--out", path.to_str().unwrap()]).status.success());
}
