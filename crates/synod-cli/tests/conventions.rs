//! The command-line conventions of the real binary: `--version` with the
//! commit, completions, man pages, `--json` failures and exit codes (0 ok,
//! 1 rejected or invalid, 2 usage or unreachable), errors that name what
//! failed, `synod genesis`, and node logs (info by default, SYNOD_LOG over
//! RUST_LOG, JSON lines, no colour codes off a terminal).

mod common;
use common::*;

use std::process::Output;

use serde_json::Value;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed `--json` command: exactly one JSON object on stdout, with a code.
fn json_failure(o: &Output, exit_code: i32) -> Value {
    assert_eq!(o.status.code(), Some(exit_code), "stdout: {}\nstderr: {}", stdout(o), stderr(o));
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", stdout(o)));
    assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    v
}

fn free_port_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let o = run(&["--version"]);
    assert!(o.status.success());
    let text = stdout(&o);
    let commit = text.split("(commit ").nth(1).and_then(|r| r.strip_suffix(")\n")).unwrap_or_else(|| panic!("{text}"));
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    match git {
        Some(g) => assert_eq!(commit, String::from_utf8_lossy(&g.stdout).trim(), "{text}"),
        None => assert_eq!(commit, "unknown", "{text}"),
    }
}

#[test]
fn completions_for_each_shell_and_man_pages_for_each_subcommand() {
    for (shell, marker) in [("bash", "_synod()"), ("zsh", "#compdef synod"), ("fish", "complete -c synod")] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("genesis") && script.contains("log-format"), "{shell} misses subcommands or options");
    }
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["man", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for page in ["synod.1", "synod-node.1", "synod-genesis.1", "synod-certs-init.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page} is not a man page");
    }
}

#[test]
fn json_failures_are_one_object_and_exit_codes_follow_the_rule() {
    // Usage: clap's own errors and ours (a URL without a scheme gets a hint).
    let v = json_failure(&run(&["head", "--no-such-flag", "--json"]), 2);
    assert_eq!(v["code"], "usage");
    let v = json_failure(&run(&["head", "--node", "127.0.0.1:7001", "--json"]), 2);
    assert_eq!(v["code"], "usage");
    assert!(v["message"].as_str().unwrap().contains("did you mean http://127.0.0.1:7001"), "{v}");
    // Unreachable: every node tried is named, with why.
    let (a, b) = (free_port_listener(), free_port_listener());
    let urls: Vec<String> = [&a, &b].iter().map(|l| format!("http://{}", l.local_addr().unwrap())).collect();
    drop((a, b));
    let v = json_failure(&run(&["head", "--node", &urls.join(","), "--json"]), 2);
    assert_eq!(v["code"], "unreachable");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains(&format!("{}: connection refused", urls[0])), "{message}");
    assert!(message.contains(&format!("{}: connection refused", urls[1])), "{message}");
    // Invalid input: exit 1.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let o =
        run(&["transfer", "--key", bad.to_str().unwrap(), "--to", bad.to_str().unwrap(), "--amount", "1", "--json"]);
    json_failure(&o, 1);
    // Without --json, nothing on stdout.
    let o = run(&["head", "--node", &urls[0]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("connection refused"), "{}", stderr(&o));
}

/// Key files for two accounts, and a genesis funding them built by `synod genesis`.
fn genesis_of_two(dir: &std::path::Path) -> (String, String, std::path::PathBuf) {
    let mut accounts = Vec::new();
    for name in ["a", "b"] {
        let path = dir.join(format!("{name}.json"));
        let o = run(&["keygen", "--out", path.to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        accounts.push(path.to_str().unwrap().to_string());
    }
    let genesis = dir.join("genesis.json");
    let o = run(&[
        "genesis",
        "--fund",
        &accounts[0],
        "--fund",
        &format!("{}=5", accounts[1]),
        "--amount",
        "700",
        "--chain-id",
        "9",
        "--out",
        genesis.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["supply"], 705);
    (accounts[0].clone(), accounts[1].clone(), genesis)
}

fn node_config(dir: &std::path::Path, genesis: &std::path::Path, http: &str) -> std::path::PathBuf {
    let path = dir.join(format!("node-{}.toml", http.replace([':', '.'], "_")));
    let text = format!(
        "data_dir = {:?}\nhttp_addr = {http:?}\ngenesis = {:?}\n",
        dir.join("node").to_str().unwrap(),
        genesis.to_str().unwrap()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn genesis_from_key_files_starts_a_ledger_that_funds_them() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, genesis_path) = genesis_of_two(dir.path());
    let genesis: synod_core::Genesis = serde_json::from_str(&std::fs::read_to_string(&genesis_path).unwrap()).unwrap();
    assert_eq!(genesis.chain_id, 9);
    assert!(genesis.allocations.windows(2).all(|w| w[0].account < w[1].account), "sorted by account");
    // Never overwrites; an account funded twice is refused.
    let o = run(&["genesis", "--fund", &a, "--out", genesis_path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("never overwritten"), "{}", stderr(&o));
    let twice = dir.path().join("twice.json");
    let o = run(&["genesis", "--fund", &a, "--fund", &format!("{a}=3"), "--out", twice.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("funded twice") && !twice.exists(), "{}", stderr(&o));
    let o = run(&["genesis", "--fund", &format!("{a}=lots"), "--out", twice.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a bad amount is a usage error");

    let config = node_config(dir.path(), &genesis_path, "127.0.0.1:0");
    let server = Server::start(&["node", "--config", config.to_str().unwrap()]);
    let balance = |who: &str| {
        let o = run(&["balance", who, "--node", &server.url, "--json"]);
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["balance"].as_u64().unwrap()
    };
    assert_eq!((balance(&a), balance(&b)), (700, 5));

    // A second node on the same data dir names the data dir.
    let taken = free_port_listener();
    let port = taken.local_addr().unwrap().port();
    drop(taken);
    let second = node_config(dir.path(), &genesis_path, &format!("127.0.0.1:{port}"));
    let o = run(&["node", "--config", second.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("already open in another process") && err.contains(dir.path().join("node").to_str().unwrap()),
        "{err}"
    );
}

#[test]
fn a_node_logs_at_info_plainly_or_as_json_and_names_a_busy_port() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, genesis) = genesis_of_two(dir.path());
    let busy = free_port_listener();
    let addr = busy.local_addr().unwrap().to_string();
    let config = node_config(dir.path(), &genesis, &addr);
    let config_s = config.to_str().unwrap();
    let node = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = synod();
        c.env_remove("SYNOD_LOG").env_remove("RUST_LOG").args(["node", "--config", config_s]).args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };

    // Default: info, no colour codes (stderr is a pipe), and the port named.
    let o = node(&[], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains(" INFO ") && err.contains("starting single node: data dir"), "{err}");
    assert!(!err.contains('\u{1b}'), "ANSI codes in a pipe: {err:?}");
    assert!(err.contains(&format!("port {} is already in use", busy.local_addr().unwrap().port())), "{err}");

    // SYNOD_LOG wins over RUST_LOG; RUST_LOG alone is honoured.
    let quiet = stderr(&node(&[], &[("SYNOD_LOG", "warn"), ("RUST_LOG", "info")]));
    assert!(!quiet.contains("starting single node"), "{quiet}");
    let rust_log = stderr(&node(&[], &[("RUST_LOG", "warn")]));
    assert!(!rust_log.contains("starting single node"), "{rust_log}");

    // JSON lines: every log line is one object.
    let o = node(&["--log-format", "json"], &[]);
    let err = stderr(&o);
    let lines: Vec<Value> =
        err.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        lines.iter().any(|l| l["level"] == "INFO"
            && l["fields"]["message"].as_str().unwrap_or("").starts_with("starting single node")),
        "{err}"
    );
}

#[test]
fn dev_on_a_busy_port_names_it_and_creates_nothing() {
    let busy = free_port_listener();
    let port = busy.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev");
    let o = run(&["dev", "--nodes", "1", "--port", &port, "--data-dir", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains(&format!("HTTP port {port} (127.0.0.1:{port}) is already in use")), "{}", stderr(&o));
    assert!(!data.exists(), "a failed start left a data dir behind to be 'resumed' later");
}
