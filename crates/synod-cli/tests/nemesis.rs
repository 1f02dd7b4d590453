//! `synod nemesis` end to end: three real node processes in network
//! namespaces under a seeded minute of faults must pass every check, and a
//! run with a deliberately corrupted history must fail them. Needs root and
//! iproute2 (CI has both); skipped with the reason printed otherwise.

use std::process::{Command, Output};
use std::sync::Mutex;

/// The runs share two cores with everything else: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn skip_reason() -> Option<&'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root");
    }
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("no `ip` command (iproute2)"),
    }
}

fn nemesis(args: &[&str]) -> Output {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(env!("CARGO_BIN_EXE_synod")).arg("nemesis").args(args).output().expect("synod runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    // A failed run keeps its work directory for a human; a test cleans it.
    if let Some(dir) = stdout.lines().find_map(|l| l.split("node logs and data in ").nth(1)) {
        let dir = dir.split(';').next().unwrap_or("");
        if dir.contains("synod-nemesis-") {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    out
}

#[test]
fn a_minute_of_faults_over_three_nodes_passes_every_check() {
    if let Some(why) = skip_reason() {
        println!("skipped: {why}");
        return;
    }
    let out = nemesis(&["--nodes", "3", "--duration", "60", "--seed", "1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "nemesis failed:\n{stdout}");
    assert!(stdout.contains("PASSED (seed 1)"), "{stdout}");
    assert!(!stdout.contains("FAIL "), "{stdout}");
}

#[test]
fn the_checks_catch_a_lost_acknowledgement_and_a_corrupted_read() {
    if let Some(why) = skip_reason() {
        println!("skipped: {why}");
        return;
    }
    for (inject, must_fail) in [
        ("lose-ack", &["FAIL linearizable history", "FAIL acknowledged transfers on every node"][..]),
        ("corrupt-read", &["FAIL linearizable history"][..]),
    ] {
        let out = nemesis(&["--nodes", "3", "--duration", "8", "--seed", "2", "--inject", inject]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "--inject {inject} must fail the run:\n{stdout}");
        for check in must_fail {
            assert!(stdout.contains(check), "--inject {inject}: expected {check:?}:\n{stdout}");
        }
        assert!(stdout.contains("FAILED (seed 2)"), "{stdout}");
    }
}
