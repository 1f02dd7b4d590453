//! `synod multisig new`, offline `synod transfer --from-policy --sign-only`
//! by two signers, `synod multisig combine` (and its refusals), and `synod
//! submit`, against `synod dev` in both consensus modes.

mod common;
use common::*;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(120);

fn json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "command failed: {}\n{}", stdout(o), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", stdout(o)))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn balance(node: &str, account: &str) -> u64 {
    json(&run(&["balance", account, "--node", node, "--json"]))["balance"].as_u64().unwrap()
}

fn wait_balance(node: &str, account: &str, want: u64) {
    let started = Instant::now();
    while balance(node, account) != want {
        assert!(started.elapsed() < DEADLINE, "balance of {account} never reached {want}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The whole flow against `node`; `committed` is the status a write answers
/// with ("committed" for Multi-Paxos, "pending" for proof of work).
fn multisig_flow(dir: &Path, data: &Path, node: &str, committed: &str) {
    let alice = data.join("keys/alice.json");
    let bob = data.join("keys/bob.json");
    let keys: Vec<_> = (1..=3).map(|i| dir.join(format!("k{i}.json"))).collect();
    for k in &keys {
        json(&run(&["keygen", "--out", s(k), "--json"]));
    }
    // A key may be given as a key file or as its public key in hex.
    let k3_hex = json(&run(&["balance", s(&keys[2]), "--node", node, "--json"]))["id"].as_str().unwrap().to_string();
    let policy_file = dir.join("policy.json");
    let made = json(&run(&[
        "multisig",
        "new",
        "--threshold",
        "2",
        "--key",
        s(&keys[0]),
        "--key",
        s(&keys[1]),
        "--key",
        &k3_hex,
        "--out",
        s(&policy_file),
        "--json",
    ]));
    let account = made["account"].as_str().unwrap().to_string();
    assert_eq!(made["keys"].as_array().unwrap().len(), 3);
    // Malformed policies are refused before anything is written.
    let bad = run(&["multisig", "new", "--threshold", "4", "--key", s(&keys[0]), "--key", s(&keys[1]), "--json"]);
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));
    let twice = run(&["multisig", "new", "--threshold", "1", "--key", s(&keys[0]), "--key", s(&keys[0]), "--json"]);
    assert_eq!(twice.status.code(), Some(2), "{}", stdout(&twice));

    // Funding: `--to policy.json` reveals the policy.
    let r = json(&run(&[
        "transfer",
        "--key",
        s(&alice),
        "--to",
        s(&policy_file),
        "--amount",
        "1000",
        "--node",
        node,
        "--json",
    ]));
    assert_eq!(r["status"], committed, "{r}");
    wait_balance(node, &account, 1000);

    // Each signer signs offline; the parts are combined and submitted.
    let chain_id = json(&run(&["status", "--node", node, "--json"]))["chain_id"].as_u64().unwrap().to_string();
    let part = |key: &Path, amount: &str, name: &str| {
        let o = run(&[
            "transfer",
            "--from-policy",
            s(&policy_file),
            "--key",
            s(key),
            "--to",
            s(&bob),
            "--amount",
            amount,
            "--nonce",
            "0",
            "--chain-id",
            &chain_id,
            "--sign-only",
        ]);
        json(&o);
        let path = dir.join(name);
        std::fs::write(&path, &o.stdout).unwrap();
        path
    };
    let p1 = part(&keys[0], "100", "part1.json");
    let p3 = part(&keys[2], "100", "part3.json");
    let other = part(&keys[1], "101", "other.json");
    // --sign-only without its offline inputs is a usage error.
    let o = run(&[
        "transfer",
        "--from-policy",
        s(&policy_file),
        "--key",
        s(&keys[0]),
        "--to",
        s(&bob),
        "--amount",
        "1",
        "--sign-only",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    // Without --sign-only a 2-of-3 cannot be sent by one signer.
    let o = run(&[
        "transfer",
        "--from-policy",
        s(&policy_file),
        "--key",
        s(&keys[0]),
        "--to",
        s(&bob),
        "--amount",
        "1",
        "--node",
        node,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    // Combine refuses: too few, the same signer twice, parts of different transfers.
    for (parts, what) in
        [(vec![&p1], "needs 2"), (vec![&p1, &p1], "more than one part"), (vec![&p1, &other], "same transfer")]
    {
        let mut args = vec!["multisig", "combine", "--json"];
        args.extend(parts.iter().map(|p| s(p)));
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", stdout(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["message"].as_str().unwrap().contains(what), "{v}");
    }
    // A lone part is refused by the node with its code, exit 1.
    let o = run(&["submit", s(&p1), "--node", node, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap()["code"], "too_few_signatures");

    let full = run(&["multisig", "combine", s(&p3), s(&p1)]);
    let tx = json(&full);
    let signers: Vec<u64> =
        tx["multisig"]["signatures"].as_array().unwrap().iter().map(|x| x["signer"].as_u64().unwrap()).collect();
    assert!(signers.windows(2).all(|w| w[0] < w[1]) && signers.len() == 2, "{tx}");
    let full_path = dir.join("full.json");
    std::fs::write(&full_path, &full.stdout).unwrap();
    let r = json(&run(&["submit", s(&full_path), "--node", node, "--json"]));
    assert_eq!(r["status"], committed, "{r}");
    wait_balance(node, &account, 900);
    // Submitting it again does not post it twice: the node has it.
    let again = run(&["submit", s(&full_path), "--node", node]);
    assert!(again.status.success() || committed == "pending", "{}", stdout(&again));
}

#[test]
fn multisig_new_sign_only_combine_submit_on_a_paxos_dev_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev");
    let server = Server::start(&["dev", "--data-dir", s(&data), "--port", "0"]);
    let node = server.url.clone();
    multisig_flow(dir.path(), &data, &node, "committed");
    assert!(server.interrupt().success());
    // The offline auditor re-verifies the multi-signature records.
    let audit = json(&run(&["verify", "--data-dir", s(&data), "--json"]));
    assert_eq!(audit["ok"], true, "{audit}");
}

#[test]
fn multisig_spend_is_mined_on_a_proof_of_work_dev_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev");
    let server = Server::start(&["dev", "--consensus", "pow", "--data-dir", s(&data), "--port", "0"]);
    let node = server.url.clone();
    multisig_flow(dir.path(), &data, &node, "pending");
    drop(server);
}
