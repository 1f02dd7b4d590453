//! Fail-stop of the real binary: a `synod node` whose committer thread
//! panics (injected through the test-only `SYNOD_TEST_INJECT_PANIC`) exits
//! with a non-zero status and says why, so that a supervisor restarts it;
//! before this, the process kept running as a zombie.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis};

#[test]
fn synod_node_exits_non_zero_after_a_thread_panics() {
    let dir = tempfile::tempdir().unwrap();
    let allocations = vec![Allocation { account: Keypair::from_seed(&[1; 32]).account(), amount: 10, policy: None }];
    let genesis = Genesis { chain_id: 12, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations };
    let config = node_files(dir.path(), &genesis);
    let mut child = synod()
        .args(["node", "--config", config.to_str().unwrap()])
        .env("SYNOD_TEST_INJECT_PANIC", "committer")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synod starts");
    // A failsafe: the process exits as soon as the panic is seen.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("synod node kept running after its committer panicked");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!status.success(), "exit status {status:?}; stderr: {stderr}");
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("node FAILED") && stderr.contains("synod-committer panicked"),
        "a clear line names the thread: {stderr}"
    );
}
