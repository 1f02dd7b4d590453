//! Running the real `synod` binary from tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn synod() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_synod"));
    c.env_remove("SYNOD_NODE");
    c
}

pub fn run(args: &[&str]) -> Output {
    synod().args(args).output().expect("synod runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A `synod` server process; killed on drop if still running.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `synod <args>` and waits (up to 60 s) for its "listening on URL" line.
    // The child is killed and waited for in `Drop` (or by `interrupt`/`kill9`).
    #[allow(clippy::zombie_processes)]
    pub fn start(args: &[&str]) -> Server {
        let mut child =
            synod().args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("synod starts");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line = lines.recv_timeout(Duration::from_secs(60)).expect("server prints its URL");
            if let Some(rest) = line.split("listening on ").nth(1) {
                let url = rest.split_whitespace().next().unwrap().to_string();
                return Server { child, url, lines };
            }
        }
    }

    /// SIGINT (Ctrl-C), then wait for a clean exit.
    pub fn interrupt(mut self) -> std::process::ExitStatus {
        signal(self.child.id(), "-INT");
        self.child.wait().unwrap()
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(mut self) {
        signal(self.child.id(), "-KILL");
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill").args([sig, &pid.to_string()]).status().expect("kill runs");
    assert!(status.success());
}

/// Writes a genesis funding `keys` and a node config; returns the config path.
pub fn node_files(dir: &Path, genesis: &synod_core::Genesis) -> std::path::PathBuf {
    let genesis_path = dir.join("genesis.json");
    std::fs::write(&genesis_path, serde_json::to_string_pretty(genesis).unwrap()).unwrap();
    let config = format!(
        "data_dir = {:?}\nhttp_addr = \"127.0.0.1:0\"\ngenesis = {:?}\n",
        dir.join("node").display().to_string(),
        genesis_path.display().to_string()
    );
    let path = dir.join("node.toml");
    std::fs::write(&path, config).unwrap();
    path
}

pub fn data_file(name: &str) -> std::path::PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(name);
    assert!(p.exists(), "test data {} is missing (see shared/data/README.md)", p.display());
    p
}
