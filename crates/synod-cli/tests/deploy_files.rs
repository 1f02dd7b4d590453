//! Running Synod for real (docs/DEPLOY.md): `synod node --check-config`
//! validates a member's config without starting it, and the systemd unit in
//! deploy/systemd passes `systemd-analyze verify` with this binary.

mod common;

use std::path::Path;

use common::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A CA, certificates for nodes 1 and 2 (each in its own dir) and a
/// second, unrelated CA; plus a genesis.
fn material(dir: &Path) {
    for ca in ["ca", "other-ca"] {
        let out = run(&["certs", "init", "--out", s(&dir.join(ca))]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for node in ["1", "2"] {
        let out = run(&["certs", "issue", "--ca", s(&dir.join("ca")), "--node", node, "--out", s(&dir.join("tls"))]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let genesis = synod_core::Genesis {
        chain_id: 77,
        auth: synod_core::AuthMode::Ed25519,
        timestamp_ms: 0,
        allocations: Vec::new(),
    };
    std::fs::write(dir.join("genesis.json"), serde_json::to_string(&genesis).unwrap()).unwrap();
}

/// Member `id`'s config, with `cert_id`'s certificate, `ca` as trust
/// anchor and peer 3 at `peer3`.
fn member_config(dir: &Path, id: u8, cert_id: u8, ca: &str, genesis: &str, peer3: &str) -> std::path::PathBuf {
    let text = format!(
        r#"data_dir = "{dir}/data-{id}"
http_addr = "127.0.0.1:7201"
genesis = "{dir}/{genesis}"
node_id = {id}
peer_addr = "127.0.0.1:7301"

[[peers]]
id = 2
peer_addr = "127.0.0.1:7302"
http_addr = "127.0.0.1:7202"

[[peers]]
id = 3
peer_addr = "{peer3}"
http_addr = "127.0.0.1:7203"

[tls]
ca_cert = "{dir}/{ca}/ca.pem"
cert = "{dir}/tls/node-{cert_id}.pem"
key = "{dir}/tls/node-{cert_id}.key"
"#,
        dir = dir.display()
    );
    let path = dir.join(format!("node-{id}-{cert_id}-{ca}-{genesis}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_config_accepts_a_good_member_config_and_names_every_problem_of_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    material(d);

    let good = member_config(d, 1, 1, "ca", "genesis.json", "127.0.0.1:7303");
    let out = run(&["node", "--check-config", s(&good)]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    for fact in ["member 1 of 3", "chain 77", "peer 3: peer port 127.0.0.1:7303", "issued by the CA", "config OK"] {
        assert!(text.contains(fact), "missing {fact:?}:\n{text}");
    }
    assert!(!d.join("data-1").exists(), "checking created the data dir");

    // Node 2's certificate in node 1's config, a peer on this node's own peer
    // port, and a missing genesis: three problems, each named, exit 1.
    let bad = member_config(d, 1, 2, "ca", "missing.json", "127.0.0.1:7301");
    let out = run(&["node", "--check-config", s(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("node-1.synod"), "the wrong certificate is not named:\n{err}");
    assert!(err.contains("127.0.0.1:7301 is given to this node and peer 3"), "{err}");
    assert!(err.contains("missing.json"), "{err}");
    assert!(err.contains("3 problem(s)"), "{err}");

    // A certificate from another CA: it loads, but does not chain to the anchor.
    let foreign = member_config(d, 1, 1, "other-ca", "genesis.json", "127.0.0.1:7303");
    let out = run(&["node", "--check-config", s(&foreign)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not verify against the CA"), "{err}");

    // Not TOML at all, and --config with --check-config.
    std::fs::write(d.join("junk.toml"), "data_dir = ").unwrap();
    let out = run(&["node", "--check-config", s(&d.join("junk.toml"))]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["node", "--config", s(&good), "--check-config", s(&good)]);
    assert_eq!(out.status.code(), Some(2), "conflicting flags are a usage error");
}

#[test]
fn the_systemd_unit_verifies() {
    let Ok(probe) = std::process::Command::new("systemd-analyze").arg("--version").output() else {
        assert!(
            std::env::var_os("SYNOD_REQUIRE_SYSTEMD_ANALYZE").is_none(),
            "SYNOD_REQUIRE_SYSTEMD_ANALYZE is set but systemd-analyze is missing"
        );
        eprintln!("NOTICE: systemd-analyze not installed; the systemd unit was not verified");
        return;
    };
    assert!(probe.status.success());
    let unit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/systemd/synod.service"))
            .unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/synod node --config /etc/synod/node.toml"), "{unit}");
    // verify checks that the executables exist: point them at this build.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synod.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/synod", env!("CARGO_BIN_EXE_synod"))).unwrap();
    let out = std::process::Command::new("systemd-analyze").args(["verify", "--man=no", s(&path)]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Unknown keys are only warnings: any output at all fails the test.
    assert!(out.status.success() && err.trim().is_empty(), "systemd-analyze verify: {err}");
}
